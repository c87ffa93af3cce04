//! MP3 files for the stand-ins of datasets distributed as MP3: the rendered samples encoded
//! at a constant bit rate, mono or (the same signal in both channels) stereo, at the
//! synthesizer's rate or twice it.

use super::synth;

/// How one MP3 file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Mp3Format {
    /// 1 or 2.
    pub(super) channels: u16,
    /// [`synth::SAMPLE_RATE`] or twice it.
    pub(super) sample_rate: u32,
    /// Constant bit rate in kbit/s.
    pub(super) kbps: u32,
}

impl Mp3Format {
    /// Mono at the synthesizer's rate, 64 kbit/s: small files for large stand-ins.
    pub(super) const MONO: Mp3Format = Mp3Format {
        channels: 1,
        sample_rate: synth::SAMPLE_RATE,
        kbps: 64,
    };

    /// Song `index`'s format in a stand-in that mixes them: every `every`-th song stereo at
    /// twice the rate and 128 kbit/s, the others [`Mp3Format::MONO`], so loaders meet both.
    pub(super) fn varied(index: usize, every: usize) -> Mp3Format {
        if index % every == every - 1 {
            Mp3Format {
                channels: 2,
                sample_rate: 2 * synth::SAMPLE_RATE,
                kbps: 128,
            }
        } else {
            Mp3Format::MONO
        }
    }
}

/// `samples` (mono, at [`synth::SAMPLE_RATE`]) as an MP3 file of `format`.
pub(super) fn mp3_bytes(samples: &[i16], format: Mp3Format) -> Result<Vec<u8>, String> {
    let mono: Vec<f32> = samples.iter().map(|&s| f32::from(s) / 32768.0).collect();
    let at_rate = if format.sample_rate == synth::SAMPLE_RATE {
        mono
    } else if format.sample_rate == 2 * synth::SAMPLE_RATE {
        upsample_twice(&mono)
    } else {
        return Err(format!(
            "the demo writes MP3 at {} or {} Hz, not {}",
            synth::SAMPLE_RATE,
            2 * synth::SAMPLE_RATE,
            format.sample_rate
        ));
    };
    let channels = usize::from(format.channels);
    let interleaved: Vec<f32> = (at_rate.iter())
        .flat_map(|&s| std::iter::repeat_n(s, channels))
        .collect();
    let mut encoder = rusty_mp3::Mp3Encoder::new(rusty_mp3::Mp3EncoderConfig {
        bitrate_kbps: format.kbps,
        vbr_quality: None,
    });
    (encoder.push_pcm_f32(&interleaved, format.channels, format.sample_rate))
        .map_err(|e| e.to_string())?;
    encoder.finish();
    let mut bytes = Vec::new();
    loop {
        match encoder.next_packet() {
            Ok(packet) => bytes.extend(packet),
            Err(rusty_mp3::Error::Eof) => return Ok(bytes),
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Twice as many samples, each new one halfway between its neighbours.
fn upsample_twice(samples: &[f32]) -> Vec<f32> {
    let mut out = Vec::with_capacity(2 * samples.len());
    for (i, &s) in samples.iter().enumerate() {
        let next = samples.get(i + 1).copied().unwrap_or(s);
        out.extend([s, (s + next) / 2.0]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What mer's decoder reads back: rate, channels and the first channel's samples.
    fn decode(bytes: &[u8]) -> (u32, usize, Vec<f32>) {
        let mut reader = nanomp3::SliceReader::<f32>::new(bytes);
        let rate = reader.sample_rate();
        let channels = reader.channels().map_or(0, |c| usize::from(c.num()));
        let mut first = Vec::new();
        while let Ok(Some(frame)) = reader.read_frame() {
            first.extend(frame.chunks(channels).map(|c| c[0]));
        }
        (rate, channels, first)
    }

    #[test]
    fn files_decode_at_their_rate_and_length_with_the_signal_in_place() {
        let rate = synth::SAMPLE_RATE as usize;
        let samples: Vec<i16> = (0..rate)
            .map(|i| {
                (8000.0 * (i as f64 * 440.0 * std::f64::consts::TAU / rate as f64).sin()) as i16
            })
            .collect();
        for (channels, factor) in [(1u16, 1u32), (2, 2)] {
            let format = Mp3Format {
                channels,
                sample_rate: synth::SAMPLE_RATE * factor,
                kbps: 128,
            };
            let (got_rate, got_channels, decoded) = decode(&mp3_bytes(&samples, format).unwrap());
            assert_eq!(
                (got_rate, got_channels),
                (format.sample_rate, usize::from(channels))
            );
            assert_eq!(decoded.len(), samples.len() * factor as usize);
            let step = factor as usize;
            let (mut dot, mut norm_a, mut norm_b) = (0.0f64, 0.0f64, 0.0f64);
            for (i, &s) in samples.iter().enumerate() {
                let (a, b) = (f64::from(s) / 32768.0, f64::from(decoded[i * step]));
                (dot, norm_a, norm_b) = (dot + a * b, norm_a + a * a, norm_b + b * b);
            }
            let correlation = dot / (norm_a.sqrt() * norm_b.sqrt());
            assert!(correlation > 0.99, "{channels} ch x{factor}: {correlation}");
        }
        assert!(
            mp3_bytes(
                &samples,
                Mp3Format {
                    sample_rate: 16_000,
                    ..Mp3Format::MONO
                }
            )
            .is_err()
        );
    }
}
