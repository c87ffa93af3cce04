//! A small, fast synthesizer that renders a [`Score`] to 16-bit mono samples.
//!
//! Pitched voices are wavetable oscillators (one additive table per part, harmonics rolled off
//! as `h^-rolloff`) with simple exponential envelopes; drums are a pitch-swept sine kick and
//! filtered noise bursts. Wavetables instead of per-harmonic sines keep 200 songs x 12 s at a
//! few seconds in release builds. The mix is scaled to a drawn loudness, background noise is
//! added, and peaks go through a soft clipper so no sample exceeds full scale.
//!
//! Audio-only information (absent from the MIDI file): brightness (roll-off), mix loudness,
//! noise floor. Brightness and loudness follow the song's arousal with a production spread of
//! their own, so audio carries a little more arousal evidence than the transcription does, as
//! real recordings do; the noise floor is independent of the class.

use super::classes::ArousalCues;
use super::score::{Part, Role, Score, drum_key};
use crate::rng::RandomStream;

/// Sample rate of the rendered audio (the common MIR analysis rate).
pub const SAMPLE_RATE: u32 = 22_050;

const TABLE_BITS: u32 = 11;
const TABLE_SIZE: usize = 1 << TABLE_BITS;
/// Harmonics stay under this frequency so that wavetable playback does not alias audibly.
const HARMONIC_CEILING_HZ: f64 = 9_500.0;

/// Renders `score` to exactly `round(seconds * SAMPLE_RATE)` samples, mixed as loud and as
/// bright as a song of `arousal` is (see [`ArousalCues`]), each with its own production spread.
pub fn render(score: &Score, arousal: f64, seconds: f64, rng: &mut RandomStream) -> Vec<i16> {
    let length = (seconds * f64::from(SAMPLE_RATE)).round() as usize;
    let cues = ArousalCues::at(arousal);
    let song_rolloff = rng.normal(cues.rolloff, 0.3).clamp(0.4, 3.0);
    let loudness_db = rng.normal(cues.loudness_db, 2.5);
    let noise_db = rng.normal(-52.0, 5.0).clamp(-72.0, -38.0);
    let mut noise = Noise::new(rng.next_u64());

    let mut mix = vec![0.0f32; length];
    let samples_per_tick = score.seconds_per_tick() * f64::from(SAMPLE_RATE);
    for part in &score.parts {
        if part.role == Role::Drums {
            render_drums(part, samples_per_tick, &mut noise, &mut mix);
        } else {
            render_pitched(part, song_rolloff, samples_per_tick, &mut mix);
        }
    }

    let rms =
        (mix.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>() / length.max(1) as f64).sqrt();
    let gain = if rms > 0.0 {
        db_to_amplitude(loudness_db) / rms
    } else {
        0.0
    } as f32;
    let noise_amplitude = db_to_amplitude(noise_db) as f32;
    mix.iter()
        .map(|x| {
            let y = soft_clip(x * gain + noise_amplitude * noise.bipolar());
            (y * 32767.0).round() as i16
        })
        .collect()
}

fn db_to_amplitude(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

/// Linear below 0.6, then saturates smoothly towards (never reaching) 1.0.
fn soft_clip(x: f32) -> f32 {
    const KNEE: f32 = 0.6;
    let magnitude = x.abs();
    if magnitude <= KNEE {
        x
    } else {
        let over = (magnitude - KNEE) / (1.0 - KNEE);
        x.signum() * (KNEE + (1.0 - KNEE) * over.tanh())
    }
}

/// Cheap deterministic white noise (xorshift64*), seeded from the song's stream.
struct Noise(u64);

impl Noise {
    fn new(seed: u64) -> Self {
        Noise(seed | 1)
    }

    /// Uniform in `[-1, 1)`.
    fn bipolar(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40; // 24 bits
        bits as f32 * (2.0 / (1u32 << 24) as f32) - 1.0
    }
}

/// How an instrument family sounds, from its GM program.
#[derive(Debug, Clone, Copy)]
struct Timbre {
    /// Only odd harmonics (clarinet, square lead).
    odd_only: bool,
    /// Added to the song's roll-off exponent: positive = darker.
    rolloff_offset: f64,
    attack_s: f64,
    /// Time constant of the decay (towards `sustain`, or to silence when percussive).
    decay_s: f64,
    /// Level held after the decay; 0 for plucked and struck notes, which die away.
    sustain: f64,
    release_s: f64,
}

impl Timbre {
    fn for_program(program: u8) -> Timbre {
        let plucked = |decay_s| Timbre {
            odd_only: false,
            rolloff_offset: 0.0,
            attack_s: 0.004,
            decay_s,
            sustain: 0.0,
            release_s: 0.08,
        };
        let bowed = |attack_s, rolloff_offset| Timbre {
            odd_only: false,
            rolloff_offset,
            attack_s,
            decay_s: 0.2,
            sustain: 0.8,
            release_s: 0.15,
        };
        match program {
            29 | 30 => Timbre {
                rolloff_offset: -0.5,
                ..bowed(0.005, 0.0)
            },
            0..=7 => plucked(1.1),
            8..=15 => Timbre {
                rolloff_offset: 0.6,
                ..plucked(0.45)
            },
            16..=23 => bowed(0.01, 0.1),
            24..=28 | 31 => plucked(0.9),
            32..=39 => Timbre {
                rolloff_offset: 0.4,
                ..plucked(0.7)
            },
            45 => Timbre {
                rolloff_offset: 0.3,
                ..plucked(0.25)
            },
            40..=55 => bowed(0.06, 0.0),
            56..=63 => bowed(0.03, -0.2),
            71 | 80 => Timbre {
                odd_only: true,
                ..bowed(0.02, 0.0)
            },
            64..=70 => bowed(0.03, 0.0),
            72..=79 => bowed(0.04, 0.6),
            81..=87 => bowed(0.005, -0.3),
            88..=95 => bowed(0.25, 0.5),
            _ => bowed(0.02, 0.0),
        }
    }
}

fn role_gain(role: Role) -> f32 {
    match role {
        Role::Melody => 0.35,
        Role::Chords => 0.12,
        Role::Bass => 0.3,
        Role::Drums => 0.5,
    }
}

fn frequency(pitch: u8) -> f64 {
    440.0 * 2f64.powf((f64::from(pitch) - 69.0) / 12.0)
}

/// One period of the part's waveform, peak-normalized to 1.
fn wavetable(rolloff: f64, odd_only: bool, highest_hz: f64) -> Vec<f32> {
    let harmonics = ((HARMONIC_CEILING_HZ / highest_hz).floor() as usize).clamp(1, 24);
    let mut table = vec![0.0f64; TABLE_SIZE];
    for h in 1..=harmonics {
        if odd_only && h % 2 == 0 {
            continue;
        }
        let amplitude = (h as f64).powf(-rolloff);
        for (i, v) in table.iter_mut().enumerate() {
            let phase = std::f64::consts::TAU * (h * i) as f64 / TABLE_SIZE as f64;
            *v += amplitude * phase.sin();
        }
    }
    let peak = table.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-9);
    table.iter().map(|v| (v / peak) as f32).collect()
}

fn render_pitched(part: &Part, song_rolloff: f64, samples_per_tick: f64, out: &mut [f32]) {
    let Some(highest) = part.notes.iter().map(|n| n.pitch).max() else {
        return;
    };
    let timbre = Timbre::for_program(part.program);
    let rolloff = (song_rolloff + timbre.rolloff_offset).max(0.3);
    let table = wavetable(rolloff, timbre.odd_only, frequency(highest));
    let sr = f64::from(SAMPLE_RATE);
    let attack = (timbre.attack_s * sr).max(1.0) as usize;
    let decay_factor = (-1.0 / (timbre.decay_s * sr)).exp() as f32;
    let release = (timbre.release_s * sr).max(1.0) as usize;
    let sustain = timbre.sustain as f32;
    let gain = role_gain(part.role);

    for note in &part.notes {
        let start = (f64::from(note.start) * samples_per_tick) as usize;
        if start >= out.len() {
            continue;
        }
        let held = (f64::from(note.duration) * samples_per_tick).max(1.0) as usize;
        let end = (start + held + release).min(out.len());
        let velocity = f32::from(note.velocity) / 127.0;
        let amplitude = gain * velocity * velocity;
        // 32-bit phase accumulator: the top TABLE_BITS bits index the table, wrap is free.
        let increment = (frequency(note.pitch) / sr * 4_294_967_296.0) as u32;
        let mut phase: u32 = 0;
        let mut level = 0.0f32;
        let mut release_step = 0.0f32;
        for (j, sample) in out[start..end].iter_mut().enumerate() {
            if j < attack {
                level = (j + 1) as f32 / attack as f32;
            } else if j < held {
                level = sustain + (level - sustain) * decay_factor;
            } else {
                if j == held {
                    release_step = level / release as f32;
                }
                level = (level - release_step).max(0.0);
            }
            *sample += amplitude * level * table[(phase >> (32 - TABLE_BITS)) as usize];
            phase = phase.wrapping_add(increment);
        }
    }
}

fn render_drums(part: &Part, samples_per_tick: f64, noise: &mut Noise, out: &mut [f32]) {
    let gain = role_gain(Role::Drums);
    for note in &part.notes {
        let start = (f64::from(note.start) * samples_per_tick) as usize;
        if start >= out.len() {
            continue;
        }
        let velocity = f32::from(note.velocity) / 127.0;
        let amplitude = gain * velocity * velocity;
        let tail = &mut out[start..];
        match note.pitch {
            drum_key::KICK => kick(amplitude * 1.6, tail),
            drum_key::SNARE => snare(amplitude, noise, tail),
            drum_key::CRASH => noise_burst(amplitude * 0.5, 0.6, noise, tail),
            _ => noise_burst(amplitude * 0.35, 0.025, noise, tail),
        }
    }
}

/// Per-sample multiplier for an exponential decay with time constant `seconds`.
fn decay_per_sample(seconds: f64) -> f32 {
    (-1.0 / (seconds * f64::from(SAMPLE_RATE))).exp() as f32
}

/// A sine whose pitch falls quickly from about 150 Hz to 45 Hz, decaying over ~0.15 s.
fn kick(amplitude: f32, out: &mut [f32]) {
    let length = out.len().min((0.4 * f64::from(SAMPLE_RATE)) as usize);
    let sweep_decay = decay_per_sample(0.03);
    let level_decay = decay_per_sample(0.12);
    let (mut sweep, mut level, mut phase) = (105.0f32, amplitude, 0.0f32);
    let step = std::f32::consts::TAU / SAMPLE_RATE as f32;
    for sample in &mut out[..length] {
        *sample += level * phase.sin();
        phase += step * (45.0 + sweep);
        sweep *= sweep_decay;
        level *= level_decay;
    }
}

/// Differentiated (high-passed) noise with an exponential decay: hats and cymbals.
fn noise_burst(amplitude: f32, decay_s: f64, noise: &mut Noise, out: &mut [f32]) {
    let length = out
        .len()
        .min((decay_s * 6.0 * f64::from(SAMPLE_RATE)) as usize);
    let decay = decay_per_sample(decay_s);
    let (mut level, mut previous) = (amplitude, 0.0f32);
    for sample in &mut out[..length] {
        let white = noise.bipolar();
        *sample += level * 0.5 * (white - previous);
        previous = white;
        level *= decay;
    }
}

/// Noise plus a short 190 Hz body.
fn snare(amplitude: f32, noise: &mut Noise, out: &mut [f32]) {
    noise_burst(amplitude, 0.09, noise, out);
    let length = out.len().min((0.25 * f64::from(SAMPLE_RATE)) as usize);
    let decay = decay_per_sample(0.05);
    let step = std::f32::consts::TAU * 190.0 / SAMPLE_RATE as f32;
    let mut level = amplitude * 0.6;
    for (j, sample) in out[..length].iter_mut().enumerate() {
        *sample += level * (step * j as f32).sin();
        level *= decay;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_clip_stays_inside_full_scale_and_is_linear_below_the_knee() {
        const KNEE_CHECK: f32 = 0.6;
        assert_eq!(soft_clip(0.3), 0.3);
        assert_eq!(soft_clip(-0.5), -0.5);
        for x in [0.7f32, 1.0, 3.0, 100.0] {
            assert!(soft_clip(x) <= 1.0 && soft_clip(-x) >= -1.0);
            assert!(soft_clip(x) > KNEE_CHECK);
        }
    }

    #[test]
    fn darker_rolloff_means_less_upper_harmonic_energy() {
        // High-frequency content of a table ~ energy of its first difference.
        let roughness =
            |t: &[f32]| t.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum::<f32>() / t.len() as f32;
        let bright = wavetable(0.8, false, 220.0);
        let dark = wavetable(2.2, false, 220.0);
        assert!(roughness(&bright) > 2.0 * roughness(&dark));
    }

    #[test]
    fn noise_is_bipolar_and_roughly_centered() {
        let mut n = Noise::new(42);
        let values: Vec<f32> = (0..10_000).map(|_| n.bipolar()).collect();
        assert!(values.iter().all(|v| (-1.0..1.0).contains(v)));
        let mean = values.iter().sum::<f32>() / values.len() as f32;
        assert!(mean.abs() < 0.03);
    }
}
