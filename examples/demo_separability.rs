//! How separable the demo classes are per modality: naive Bayes on a few simple features,
//! 5-fold cross-validated accuracy for audio, MIDI, lyrics and their late fusion (summed
//! log-likelihoods). A sanity check of the generator's tuning, not a model of `mer`.
//!
//! `cargo run --release --example demo_separability -- OUT [SONGS] [SEED] [quadrants]`

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use mer::demo::{DemoLayout, DemoOptions, generate};
use midly::{MetaMessage, MidiMessage, Smf, TrackEventKind};

fn audio_features(path: &Path) -> Vec<f64> {
    let mut reader = hound::WavReader::open(path).unwrap();
    let x: Vec<f64> = reader
        .samples::<i16>()
        .map(|s| f64::from(s.unwrap()) / 32768.0)
        .collect();
    let rms = (x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64).sqrt();
    let diff_rms =
        (x.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum::<f64>() / x.len() as f64).sqrt();
    let zcr = x
        .windows(2)
        .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
        .count() as f64
        / x.len() as f64;
    let frames: Vec<f64> = x
        .chunks(512)
        .map(|c| (c.iter().map(|v| v * v).sum::<f64>() / c.len() as f64).sqrt())
        .collect();
    let flux = frames
        .windows(2)
        .map(|w| (w[1] - w[0]).max(0.0))
        .sum::<f64>()
        / frames.len() as f64;
    vec![
        (rms + 1e-9).ln(),
        diff_rms / (rms + 1e-9),
        zcr,
        flux / (rms + 1e-9),
    ]
}

fn midi_features(path: &Path) -> Vec<f64> {
    let bytes = fs::read(path).unwrap();
    let smf = Smf::parse(&bytes).unwrap();
    let (mut tempo, mut minor) = (120.0, 0.0);
    for e in &smf.tracks[0] {
        match e.kind {
            TrackEventKind::Meta(MetaMessage::Tempo(t)) => tempo = 6e7 / f64::from(t.as_int()),
            TrackEventKind::Meta(MetaMessage::KeySignature(_, m)) => minor = f64::from(u8::from(m)),
            _ => {}
        }
    }
    let melody: Vec<(u8, u8)> = smf.tracks[1]
        .iter()
        .filter_map(|e| match e.kind {
            TrackEventKind::Midi {
                message: MidiMessage::NoteOn { key, vel },
                ..
            } => Some((key.as_int(), vel.as_int())),
            _ => None,
        })
        .collect();
    let n = melody.len().max(1) as f64;
    let pitch = melody.iter().map(|m| f64::from(m.0)).sum::<f64>() / n;
    let velocity = melody.iter().map(|m| f64::from(m.1)).sum::<f64>() / n;
    let leaps = melody
        .windows(2)
        .filter(|w| w[0].0.abs_diff(w[1].0) > 4)
        .count() as f64
        / n;
    let drums = f64::from(u8::from(smf.tracks.len() > 4));
    vec![tempo, minor, pitch, velocity, leaps, drums, n]
}

fn read_text(path: &Path) -> String {
    let bytes = fs::read(path).unwrap();
    if bytes.starts_with(&[0xFF, 0xFE]) {
        let units: Vec<u16> = bytes[2..]
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16(&units).unwrap()
    } else {
        String::from_utf8(bytes).unwrap()
    }
}

fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphabetic() && c != '-')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Per-class log-likelihoods (one row per test song) from Gaussian naive Bayes.
fn gaussian_nb(train: &[(&Vec<f64>, usize)], test: &[&Vec<f64>], k: usize) -> Vec<Vec<f64>> {
    let d = train[0].0.len();
    let mut stats = vec![(vec![0.0; d], vec![0.0; d], 0.0); k];
    for (x, c) in train {
        stats[*c].2 += 1.0;
        for j in 0..d {
            stats[*c].0[j] += x[j];
        }
    }
    for s in &mut stats {
        for j in 0..d {
            s.0[j] /= s.2;
        }
    }
    for (x, c) in train {
        for j in 0..d {
            stats[*c].1[j] += (x[j] - stats[*c].0[j]).powi(2);
        }
    }
    for s in &mut stats {
        for j in 0..d {
            s.1[j] = s.1[j] / s.2 + 1e-3;
        }
    }
    test.iter()
        .map(|x| {
            stats
                .iter()
                .map(|(m, v, _)| {
                    (0..d)
                        .map(|j| -0.5 * ((x[j] - m[j]).powi(2) / v[j] + v[j].ln()))
                        .sum()
                })
                .collect()
        })
        .collect()
}

fn multinomial_nb(
    train: &[(&Vec<String>, usize)],
    test: &[&Vec<String>],
    k: usize,
) -> Vec<Vec<f64>> {
    let mut counts: Vec<BTreeMap<&str, f64>> = vec![BTreeMap::new(); k];
    let mut totals = vec![0.0; k];
    let mut vocab = BTreeMap::new();
    for (words, c) in train {
        for w in words.iter() {
            *counts[*c].entry(w).or_default() += 1.0;
            totals[*c] += 1.0;
            vocab.insert(w.as_str(), ());
        }
    }
    let v = vocab.len() as f64;
    test.iter()
        .map(|words| {
            (0..k)
                .map(|c| {
                    words
                        .iter()
                        .map(|w| {
                            ((counts[c].get(w.as_str()).unwrap_or(&0.0) + 1.0) / (totals[c] + v))
                                .ln()
                        })
                        .sum()
                })
                .collect()
        })
        .collect()
}

fn argmax(row: &[f64]) -> usize {
    (0..row.len())
        .max_by(|a, b| row[*a].total_cmp(&row[*b]))
        .unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = Path::new(&args[0]);
    let songs = args.get(1).map_or(500, |s| s.parse().unwrap());
    let seed = args.get(2).map_or(7, |s| s.parse().unwrap());
    let opts = DemoOptions {
        out: out.into(),
        songs,
        seed,
        layout: DemoLayout::Table,
        seconds: 6.0,
        lyrics_fraction: 1.0,
        midi_fraction: 1.0,
        label_noise: 0.0,
        quadrants: args.iter().any(|a| a == "quadrants"),
    };
    generate(&opts).unwrap();
    let labels: Vec<String> = fs::read_to_string(out.join("labels.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().to_string())
        .collect();
    let names: Vec<String> = {
        let mut v = labels.clone();
        v.dedup();
        v
    };
    let y: Vec<usize> = labels
        .iter()
        .map(|l| names.iter().position(|n| n == l).unwrap())
        .collect();
    let k = names.len();
    let id = |i: usize| format!("{:03}", i + 1);
    let audio: Vec<Vec<f64>> = (0..songs)
        .map(|i| audio_features(&out.join(format!("audio/{}.wav", id(i)))))
        .collect();
    let midi: Vec<Vec<f64>> = (0..songs)
        .map(|i| midi_features(&out.join(format!("midi/{}.mid", id(i)))))
        .collect();
    let lyrics: Vec<Vec<String>> = (0..songs)
        .map(|i| tokens(&read_text(&out.join(format!("lyrics/{}.txt", id(i))))))
        .collect();

    // Folds interleave ids, which are sorted by class, so every fold sees every class.
    let folds = 5;
    let mut correct = [0usize; 4];
    for f in 0..folds {
        let train: Vec<usize> = (0..songs).filter(|i| i % folds != f).collect();
        let test: Vec<usize> = (0..songs).filter(|i| i % folds == f).collect();
        let a = gaussian_nb(
            &train.iter().map(|&i| (&audio[i], y[i])).collect::<Vec<_>>(),
            &test.iter().map(|&i| &audio[i]).collect::<Vec<_>>(),
            k,
        );
        let m = gaussian_nb(
            &train.iter().map(|&i| (&midi[i], y[i])).collect::<Vec<_>>(),
            &test.iter().map(|&i| &midi[i]).collect::<Vec<_>>(),
            k,
        );
        let l = multinomial_nb(
            &train
                .iter()
                .map(|&i| (&lyrics[i], y[i]))
                .collect::<Vec<_>>(),
            &test.iter().map(|&i| &lyrics[i]).collect::<Vec<_>>(),
            k,
        );
        for (t, &i) in test.iter().enumerate() {
            let fused: Vec<f64> = (0..k).map(|c| a[t][c] + m[t][c] + l[t][c]).collect();
            for (slot, scores) in [&a[t], &m[t], &l[t], &fused].into_iter().enumerate() {
                correct[slot] += usize::from(argmax(scores) == y[i]);
            }
        }
    }
    println!("{songs} songs, {k} classes, chance {:.3}", 1.0 / k as f64);
    for (name, c) in ["audio", "midi", "lyrics", "all three"].iter().zip(correct) {
        println!("{name:>10}: accuracy {:.3}", c as f64 / songs as f64);
    }
}
