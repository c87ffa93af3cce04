//! Every report figure renders to a PNG that decodes, is not blank and carries text (so the
//! font is found), and to an SVG with the same text.

mod util;

use mer::eval::{Confusion, reliability, score};
use mer::report::plots::{calibration_curve, confusion_heatmap, learning_curves, per_class_f1};
use mer::results::{EpochPoint, FoldCurve};
use util::TestDir;

/// Width, height and RGBA pixels of a PNG.
fn decode(path: &std::path::Path) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    pixels.truncate(info.buffer_size());
    let rgba = match info.color_type {
        png::ColorType::Rgb => pixels
            .chunks(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        png::ColorType::Rgba => pixels,
        other => panic!("unexpected colour type {other:?}"),
    };
    (info.width, info.height, rgba)
}

/// Checks `paths` = [png, svg]: the PNG has many colours and dark (text) pixels in its top
/// band, where every figure has its caption; the SVG holds `caption_word`.
fn assert_figure(paths: &[std::path::PathBuf; 2], caption_word: &str) {
    let (width, height, rgba) = decode(&paths[0]);
    assert!(width >= 400 && height >= 300);
    let mut colours: Vec<[u8; 4]> = rgba.chunks(4).map(|p| [p[0], p[1], p[2], p[3]]).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(
        colours.len() > 10,
        "{}: only {} colours",
        paths[0].display(),
        colours.len()
    );
    let caption_band = &rgba[..(width * 40 * 4) as usize];
    let dark = caption_band
        .chunks(4)
        .filter(|p| p[0] < 100 && p[1] < 100 && p[2] < 100)
        .count();
    assert!(
        dark > 50,
        "{}: no caption text rendered ({dark} dark pixels)",
        paths[0].display()
    );
    let svg = std::fs::read_to_string(&paths[1]).unwrap();
    assert!(
        svg.starts_with("<svg") || svg.contains("<svg"),
        "not an SVG"
    );
    assert!(
        svg.contains(caption_word),
        "{} lacks '{caption_word}'",
        paths[1].display()
    );
}

fn classes() -> Vec<String> {
    (1..=5).map(|i| format!("Cluster {i}")).collect()
}

#[test]
fn learning_curves_render() {
    let dir = TestDir::new();
    let folds: Vec<FoldCurve> = (0..3)
        .map(|fold| FoldCurve {
            fold,
            best_epoch: 4 + fold,
            epochs: (1..=12)
                .map(|epoch| EpochPoint {
                    epoch,
                    train_loss: 1.6 / epoch as f64,
                    valid_loss: 1.2 + 0.02 * (epoch as f64 - 6.0).powi(2) / 10.0,
                    valid_accuracy: 0.35 + 0.03 * epoch.min(6) as f64,
                    valid_macro_f1: 0.3 + 0.03 * epoch.min(6) as f64,
                    lr: 1e-3,
                })
                .collect(),
        })
        .collect();
    let paths = learning_curves(&dir.path("learning_curves"), &folds).unwrap();
    assert_figure(&paths, "Loss");
}

#[test]
fn confusion_heatmap_renders_counts_and_class_names() {
    let dir = TestDir::new();
    let truth = [0, 0, 1, 2, 3, 4, 4, 4];
    let predicted = [0, 1, 1, 2, 4, 4, 4, 3];
    let paths = confusion_heatmap(
        &dir.path("confusion"),
        &Confusion::new(&truth, &predicted, 5),
        &classes(),
    )
    .unwrap();
    assert_figure(&paths, "Confusion");
    let svg = std::fs::read_to_string(&paths[1]).unwrap();
    assert!(svg.contains("Cluster 3"), "class names label the axes");
}

#[test]
fn per_class_f1_and_calibration_render() {
    let dir = TestDir::new();
    let models = vec![
        ("fold 0".to_string(), vec![0.2, 0.5, 0.4, 0.7, 0.1]),
        ("ensemble".to_string(), vec![0.3, 0.6, 0.5, 0.8, 0.2]),
    ];
    let paths = per_class_f1(&dir.path("per_class_f1"), &classes(), &models).unwrap();
    assert_figure(&paths, "F1 per class");
    assert!(
        std::fs::read_to_string(&paths[1])
            .unwrap()
            .contains("ensemble")
    );

    let truth: Vec<usize> = (0..50).map(|i| i % 5).collect();
    let probabilities: Vec<f32> = (0..50)
        .flat_map(|i| {
            let mut row = [0.1f32; 5];
            row[(i * 7) % 5] = 0.6;
            row
        })
        .collect();
    let metrics = score(&truth, &probabilities, 5);
    let bins = reliability(&truth, &probabilities, 5);
    let paths = calibration_curve(&dir.path("calibration"), &bins, metrics.ece).unwrap();
    assert_figure(&paths, "Calibration");
}

#[test]
fn regression_and_multilabel_figures_render() {
    let dir = TestDir::new();
    let truth: Vec<f64> = (0..40).map(|i| f64::from(i) / 20.0 - 1.0).collect();
    let predicted: Vec<f64> = truth.iter().map(|t| 0.7 * t + 0.05).collect();
    let paths = mer::report::target_plots::predicted_vs_true(
        &dir.path("valence_scatter"),
        "valence",
        (&truth, &predicted),
        0.91,
    )
    .unwrap();
    assert_figure(&paths, "valence: predicted against true (CCC 0.910)");

    let places: Vec<(f64, f64)> = truth.iter().map(|&t| (t, -0.8 * t)).collect();
    let guesses: Vec<(f64, f64)> = places.iter().map(|&(v, a)| (0.6 * v, 0.6 * a)).collect();
    let paths =
        mer::report::target_plots::valence_arousal_plane(&dir.path("plane"), &places, &guesses)
            .unwrap();
    assert_figure(&paths, "valence-arousal plane");
    let svg = std::fs::read_to_string(&paths[1]).unwrap();
    assert!(svg.contains("Q3") && svg.contains("predicted"));

    let tags: Vec<String> = ["calm", "energetic", "sad"].map(String::from).to_vec();
    let models = vec![("ensemble+tta".to_string(), vec![0.9, f64::NAN, 0.7])];
    let paths =
        mer::report::target_plots::per_tag_auc(&dir.path("tag_auc"), &tags, &models).unwrap();
    assert_figure(&paths, "ROC-AUC per tag");
    assert!(
        std::fs::read_to_string(&paths[1])
            .unwrap()
            .contains("energetic")
    );
}
