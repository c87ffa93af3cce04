//! Decoding to mono `f32` at the analysis rate, as `librosa.load(path, sr=..., mono=True,
//! offset=..., duration=...)` does: the offset/duration window is cut at the file's native
//! rate, channels are averaged, then the window is resampled.
//!
//! mp3 goes through nanomp3 (a pure-Rust port of minimp3): on the MIREX clips it is about a
//! quarter faster than symphonia's mp3 decoder, and like libsndfile (librosa's loader) it keeps
//! a stream's final frame, which symphonia dropped on 10 of the 200 dev clips. Every other
//! format, and a misnamed `.mp3` that holds no MPEG audio, goes through symphonia's probe.
//!
//! Hostile files: an empty file is named as such; a file that decodes to less than its header
//! declares (cut short by a failed copy) is decoded as far as it goes, with a warning naming
//! both lengths; memory stays bounded by the window, since decoding stops at its end and an
//! mp3 is read only as far as the window can reach.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};
use symphonia::core::audio::{Audio, GenericAudioBufferRef};
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use super::AudioError;

/// Mono samples at a known rate.
#[derive(Debug, Clone, PartialEq)]
pub struct MonoAudio {
    /// Samples in [-1, 1] (decoders may overshoot slightly on clipped material).
    pub samples: Vec<f32>,
    /// Samples per second.
    pub sample_rate: u32,
}

/// A decoded window and the length the file's header declares.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedWindow {
    /// The window's samples.
    pub audio: MonoAudio,
    /// Frames per channel of the whole stream as its header declares them, at the native rate,
    /// when it declares a length (WAV data chunk, FLAC stream info, an mp3's Xing/LAME tag;
    /// for an mp3 without one, the frames found in the file).
    pub declared_frames: Option<u64>,
}

impl DecodedWindow {
    /// Seconds decoded.
    pub fn seconds(&self) -> f64 {
        self.audio.samples.len() as f64 / f64::from(self.audio.sample_rate)
    }

    /// Seconds the header declares for the window `offset`/`duration`, when it declares a
    /// length.
    pub fn declared_seconds(&self, offset: f64, duration: Option<f64>) -> Option<f64> {
        let rate = self.audio.sample_rate;
        let frames = window_frames(self.declared_frames?, rate, offset, duration);
        Some(frames as f64 / f64::from(rate))
    }

    /// Whether the window holds clearly less than the header declares for it: the file was cut
    /// short. A little slack absorbs decoders' rounding of the last mp3 frame.
    pub fn looks_truncated(&self, offset: f64, duration: Option<f64>) -> bool {
        const SLACK_SECONDS: f64 = 0.05;
        self.declared_seconds(offset, duration)
            .is_some_and(|declared| self.seconds() + SLACK_SECONDS < declared)
    }
}

/// Decodes `path` (wav, flac, ogg/vorbis, mp3) to mono, keeping only the window of
/// `duration` seconds (to the end when `None`) that starts `offset` seconds in.
///
/// Frames are downmixed as they arrive and decoding stops at the end of the window, so
/// memory is one mono window plus one packet (plus, for mp3, the compressed bytes the window
/// can reach).
pub fn decode_mono(
    path: &Path,
    offset: f64,
    duration: Option<f64>,
) -> Result<MonoAudio, AudioError> {
    decode_window(path, offset, duration).map(|decoded| decoded.audio)
}

/// [`decode_mono`], with the length the header declares; a window shorter than declared is
/// logged as a warning naming the file and both lengths.
pub fn decode_window(
    path: &Path,
    offset: f64,
    duration: Option<f64>,
) -> Result<DecodedWindow, AudioError> {
    let bytes = std::fs::metadata(path)
        .map_err(|source| AudioError::Open {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    if bytes == 0 {
        return Err(AudioError::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    let mp3 = if has_mp3_extension(path) {
        decode_mp3(path, offset, duration)?
    } else {
        None
    };
    let decoded = match mp3 {
        Some(decoded) => decoded,
        None => decode_with_symphonia(path, offset, duration)?,
    };
    if decoded.looks_truncated(offset, duration) {
        tracing::warn!(
            "{}: only {:.3} s of audio decode where its header declares {:.3} s; the file looks truncated (re-copy it from the source), its features describe the part that is there",
            path.display(),
            decoded.seconds(),
            decoded
                .declared_seconds(offset, duration)
                .unwrap_or_default()
        );
    }
    Ok(decoded)
}

fn has_mp3_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("mp3"))
}

/// Decodes an mp3 file with nanomp3, which trims the encoder delay and padding named in a
/// LAME/Xing header as libsndfile (librosa's loader) does. `None` when the file holds no MPEG
/// audio frames, so that a misnamed file of another format still reaches symphonia's probe.
fn decode_mp3(
    path: &Path,
    offset: f64,
    duration: Option<f64>,
) -> Result<Option<DecodedWindow>, AudioError> {
    let open_err = |source| AudioError::Open {
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = Vec::new();
    File::open(path)
        .map_err(open_err)?
        .take(mp3_bytes_needed(offset, duration))
        .read_to_end(&mut bytes)
        .map_err(open_err)?;
    let mut reader = nanomp3::SliceReader::<f32>::new(&bytes);
    let sample_rate = reader.sample_rate();
    let Some(channels) = reader.channels().filter(|_| sample_rate > 0) else {
        return Ok(None);
    };
    let channels = usize::from(channels.num());
    let mut window = Window::new(offset, duration);
    window.resolve(sample_rate);
    let mut mono = Vec::with_capacity(expected_frames(
        reader.total_samples(),
        sample_rate,
        offset,
        duration,
    ));
    // The decoder's message when the stream broke off after some audio.
    let mut broke_off = None;
    while !window.is_full() {
        let frame = match reader.read_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            // A change of sample rate, layer or channel count, which is also how a file cut
            // off inside a frame ends: keep what came before, as for a truncated file.
            Err(e) if !mono.is_empty() => {
                broke_off = Some(e.to_string());
                break;
            }
            Err(e) => {
                return Err(AudioError::Decode {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                });
            }
        };
        let kept = window.take(frame.len() / channels);
        downmix_interleaved(frame, channels, kept, &mut mono);
    }
    let decoded = DecodedWindow {
        audio: non_empty(mono, sample_rate, path)?,
        declared_frames: reader.total_samples(),
    };
    if let Some(message) = broke_off {
        let seconds = decoded.seconds();
        // With a length in the header, the truncation warning says it better (decode_window).
        if decoded.looks_truncated(offset, duration) {
            tracing::debug!("{}: {message} after {seconds:.1} s", path.display());
        } else {
            tracing::warn!(
                "{}: {message} after {seconds:.1} s; using the audio before it",
                path.display()
            );
        }
    }
    Ok(Some(decoded))
}

/// Bytes of an mp3 that can hold the window: its end at the highest bitrate mp3 has (640 kbps,
/// free format) plus room for tags and album art before the audio. A longer file is read only
/// that far, so memory follows the window, not the file.
fn mp3_bytes_needed(offset: f64, duration: Option<f64>) -> u64 {
    const MAX_BYTES_PER_SECOND: f64 = 640_000.0 / 8.0;
    const TAG_ROOM: u64 = 16 << 20;
    match duration {
        Some(d) => TAG_ROOM + ((offset.max(0.0) + d.max(0.0)) * MAX_BYTES_PER_SECOND).ceil() as u64,
        None => u64::MAX,
    }
}

/// Decodes any format symphonia probes (wav, flac, ogg/vorbis, mp3).
fn decode_with_symphonia(
    path: &Path,
    offset: f64,
    duration: Option<f64>,
) -> Result<DecodedWindow, AudioError> {
    let decode_err = |e: SymphoniaError| AudioError::Decode {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let file = File::open(path).map_err(|source| AudioError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(decode_err)?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| AudioError::Decode {
            path: path.to_path_buf(),
            message: "no audio track".into(),
        })?;
    let track_id = track.id;
    let declared_frames = track.num_frames;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| AudioError::Decode {
            path: path.to_path_buf(),
            message: "no audio codec parameters".into(),
        })?
        .clone();
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(decode_err)?;

    let mut window = Window::new(offset, duration);
    let mut sample_rate = params.sample_rate.unwrap_or(0);
    let mut mono: Vec<f32> = Vec::with_capacity(expected_frames(
        declared_frames,
        sample_rate,
        offset,
        duration,
    ));
    let mut interleaved: Vec<f32> = Vec::new();
    loop {
        let packet = match format.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            // A truncated file ends early: keep what was decoded.
            Err(SymphoniaError::IoError(_)) => break,
            Err(e) => return Err(decode_err(e)),
        };
        if packet.track_id != track_id {
            continue;
        }
        let buf = match decoder.decode(&packet) {
            Ok(buf) => buf,
            // One damaged packet is skipped, as decoders and librosa's backends do.
            Err(SymphoniaError::DecodeError(_)) | Err(SymphoniaError::IoError(_)) => continue,
            Err(e) => return Err(decode_err(e)),
        };
        if sample_rate == 0 {
            sample_rate = buf.spec().rate();
        }
        window.resolve(sample_rate);
        let kept = window.take(buf.frames());
        match &buf {
            GenericAudioBufferRef::F32(planar) => {
                let planes: Vec<&[f32]> = (0..planar.num_planes())
                    .filter_map(|c| planar.plane(c))
                    .collect();
                downmix_planes(&planes, kept, &mut mono);
            }
            other => {
                other.copy_to_vec_interleaved(&mut interleaved);
                downmix_interleaved(&interleaved, other.num_planes(), kept, &mut mono);
            }
        }
        if window.is_full() {
            break;
        }
    }
    Ok(DecodedWindow {
        audio: non_empty(mono, sample_rate, path)?,
        declared_frames,
    })
}

/// The decoded window, or [`AudioError::Empty`] when it holds no samples.
fn non_empty(mono: Vec<f32>, sample_rate: u32, path: &Path) -> Result<MonoAudio, AudioError> {
    if mono.is_empty() || sample_rate == 0 {
        return Err(AudioError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(MonoAudio {
        samples: mono,
        sample_rate,
    })
}

/// The offset/duration window in frames at the native rate, resolved on the first packet.
struct Window {
    offset_s: f64,
    duration_s: Option<f64>,
    /// Frames still to skip.
    skip: usize,
    /// Frames still to keep (`usize::MAX`: to the end).
    keep: usize,
    resolved: bool,
}

impl Window {
    fn new(offset_s: f64, duration_s: Option<f64>) -> Self {
        Window {
            offset_s,
            duration_s,
            skip: 0,
            keep: usize::MAX,
            resolved: false,
        }
    }

    /// librosa.load rounds the window to frames with `round(sr * offset)` and
    /// `round(sr * duration)`.
    fn resolve(&mut self, sample_rate: u32) {
        if self.resolved {
            return;
        }
        let sr = f64::from(sample_rate);
        self.skip = (self.offset_s.max(0.0) * sr).round() as usize;
        if let Some(d) = self.duration_s {
            self.keep = (d.max(0.0) * sr).round() as usize;
        }
        self.resolved = true;
    }

    /// The range of the next `frames` decoded frames that falls inside the window.
    fn take(&mut self, frames: usize) -> std::ops::Range<usize> {
        let skipped = self.skip.min(frames);
        self.skip -= skipped;
        let take = (frames - skipped).min(self.keep);
        if self.keep != usize::MAX {
            self.keep -= take;
        }
        skipped..skipped + take
    }

    /// True once every frame of the window has been taken.
    fn is_full(&self) -> bool {
        self.keep == 0
    }
}

/// The window's length in frames when the container states the track's length, for sizing
/// the output once instead of growing it; capped so that a lying header cannot make it huge.
fn expected_frames(
    num_frames: Option<u64>,
    sample_rate: u32,
    offset: f64,
    duration: Option<f64>,
) -> usize {
    const CAP: u64 = 1 << 24;
    num_frames.map_or(0, |total| {
        window_frames(total, sample_rate, offset, duration).min(CAP) as usize
    })
}

/// Frames of the window `offset`/`duration` in a stream of `total` frames, rounded as
/// [`Window::resolve`] rounds.
fn window_frames(total: u64, sample_rate: u32, offset: f64, duration: Option<f64>) -> u64 {
    let sr = f64::from(sample_rate);
    let skip = (offset.max(0.0) * sr).round() as u64;
    let keep = duration.map_or(u64::MAX, |d| (d.max(0.0) * sr).round() as u64);
    total.saturating_sub(skip).min(keep)
}

/// Appends the channel mean of frames `kept` of planar `planes` to `out`, summing the channels
/// in order as the interleaved path does, so both give the same values.
fn downmix_planes(planes: &[&[f32]], kept: std::ops::Range<usize>, out: &mut Vec<f32>) {
    let Some((first, rest)) = planes.split_first() else {
        return;
    };
    let start = out.len();
    out.extend_from_slice(&first[kept.clone()]);
    let mixed = &mut out[start..];
    for plane in rest {
        for (m, v) in mixed.iter_mut().zip(&plane[kept.clone()]) {
            *m += v;
        }
    }
    if !rest.is_empty() {
        let scale = 1.0 / planes.len() as f32;
        mixed.iter_mut().for_each(|m| *m *= scale);
    }
}

/// Appends the channel mean of frames `kept` of `interleaved` to `out`.
fn downmix_interleaved(
    interleaved: &[f32],
    channels: usize,
    kept: std::ops::Range<usize>,
    out: &mut Vec<f32>,
) {
    let channels = channels.max(1);
    let frames = &interleaved[kept.start * channels..kept.end * channels];
    if channels == 2 {
        // The common case, spelled out so that it vectorises; same values as the general sum.
        out.extend(frames.chunks_exact(2).map(|f| (f[0] + f[1]) * 0.5));
        return;
    }
    let scale = 1.0 / channels as f32;
    out.extend(
        frames
            .chunks_exact(channels)
            .map(|frame| frame.iter().sum::<f32>() * scale),
    );
}

/// Resamples mono audio with rubato's synchronous FFT resampler, which matches librosa's
/// default (soxr) resampling to a correlation of about 0.999997 (DESIGN.md, crate notes).
/// The output has `ceil(len * to / from)` samples with the resampler delay trimmed, as
/// `librosa.resample` returns.
pub fn resample(audio: MonoAudio, to: u32, path: &Path) -> Result<MonoAudio, AudioError> {
    if audio.sample_rate == to {
        return Ok(audio);
    }
    let err = |message: String| AudioError::Resample {
        path: path.to_path_buf(),
        message,
    };
    let len = audio.samples.len();
    let mut resampler = Fft::<f32>::new(
        audio.sample_rate as usize,
        to as usize,
        1024,
        1,
        FixedSync::Input,
    )
    .map_err(|e| err(e.to_string()))?;
    let input =
        InterleavedSlice::new(&audio.samples[..], 1, len).map_err(|e| err(e.to_string()))?;
    let output = resampler
        .process_all(&input, len, None)
        .map_err(|e| err(e.to_string()))?;
    Ok(MonoAudio {
        samples: output.take_data(),
        sample_rate: to,
    })
}

/// Decodes and resamples `path` to `sample_rate` over the given window.
pub fn load(
    path: &Path,
    sample_rate: u32,
    offset: f64,
    duration: Option<f64>,
) -> Result<MonoAudio, AudioError> {
    let audio = decode_mono(path, offset, duration)?;
    resample(audio, sample_rate, path)
}
