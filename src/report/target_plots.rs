//! The figures of regression and multi-label runs: predicted against true values per target,
//! the test songs on the valence-arousal plane, and ROC-AUC per tag. Drawn with the machinery
//! of [`super::plots`] (PNG and SVG, the same font, colours and legend).

use std::ops::Range;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::plots::{FONT, Figure, PlotError, ScoreBars, draw_legend, msg, render, series_color};

/// The axis range for `values`: the scale targets are trained and scored on, [-1, 1],
/// widened to show a prediction beyond it.
fn axis(values: impl Iterator<Item = f64>) -> Range<f64> {
    let (low, high) = values
        .filter(|v| v.is_finite())
        .fold((-1.0_f64, 1.0_f64), |(l, h), v| (l.min(v), h.max(v)));
    low..high
}

/// A white figure with value axes (`desc`, range) on x and y, mesh drawn.
fn value_axes<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    caption: &str,
    (x_desc, x_range): (&str, Range<f64>),
    (y_desc, y_range): (&str, Range<f64>),
) -> Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>, String>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(msg)?;
    let mut chart = ChartBuilder::on(root)
        .caption(caption, (FONT, 20))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(x_range, y_range)
        .map_err(msg)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style((FONT, 12))
        .draw()
        .map_err(msg)?;
    Ok(chart)
}

/// One target's predictions against the truth, with the diagonal of a perfect prediction;
/// the caption names the target and its CCC.
pub fn predicted_vs_true(
    stem: &Path,
    target: &str,
    (truth, predicted): (&[f64], &[f64]),
    ccc: f64,
) -> Result<[PathBuf; 2], PlotError> {
    render(
        stem,
        &Scatter {
            caption: format!("{target}: predicted against true (CCC {ccc:.3})"),
            x: ("true", truth),
            y: ("predicted", predicted),
        },
    )
}

struct Scatter<'a> {
    caption: String,
    x: (&'a str, &'a [f64]),
    y: (&'a str, &'a [f64]),
}

impl Figure for Scatter<'_> {
    fn size(&self) -> (u32, u32) {
        (600, 600)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> super::plots::Drawn
    where
        DB::ErrorType: 'static,
    {
        let mut chart = value_axes(
            root,
            &self.caption,
            (self.x.0, axis(self.x.1.iter().copied())),
            (self.y.0, axis(self.y.1.iter().copied())),
        )?;
        chart
            .draw_series(DashedLineSeries::new(
                [(-1.0, -1.0), (1.0, 1.0)],
                5,
                4,
                BLACK.mix(0.5).stroke_width(1),
            ))
            .map_err(msg)?;
        let color = series_color(0);
        chart
            .draw_series(
                (self.x.1.iter().zip(self.y.1))
                    .map(|(&x, &y)| Circle::new((x, y), 3, color.mix(0.7).filled())),
            )
            .map_err(msg)?;
        Ok(())
    }
}

/// The test songs on Russell's valence-arousal plane: each song's true place (hollow) joined
/// to its predicted place (filled), with the quadrants marked.
pub fn valence_arousal_plane(
    stem: &Path,
    truth: &[(f64, f64)],
    predicted: &[(f64, f64)],
) -> Result<[PathBuf; 2], PlotError> {
    render(stem, &Plane { truth, predicted })
}

struct Plane<'a> {
    truth: &'a [(f64, f64)],
    predicted: &'a [(f64, f64)],
}

impl Figure for Plane<'_> {
    fn size(&self) -> (u32, u32) {
        (640, 640)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> super::plots::Drawn
    where
        DB::ErrorType: 'static,
    {
        let places = || self.truth.iter().chain(self.predicted);
        let mut chart = value_axes(
            root,
            "Test songs on the valence-arousal plane",
            ("valence", axis(places().map(|p| p.0))),
            ("arousal", axis(places().map(|p| p.1))),
        )?;
        let midline = BLACK.mix(0.4).stroke_width(1);
        for line in [[(-1.0, 0.0), (1.0, 0.0)], [(0.0, -1.0), (0.0, 1.0)]] {
            chart
                .draw_series(LineSeries::new(line, midline))
                .map_err(msg)?;
        }
        let corners = [
            ("Q1", 0.8, 0.9),
            ("Q2", -0.95, 0.9),
            ("Q3", -0.95, -0.85),
            ("Q4", 0.8, -0.85),
        ];
        chart
            .draw_series(
                corners
                    .iter()
                    .map(|&(name, x, y)| Text::new(name, (x, y), (FONT, 16).into_font())),
            )
            .map_err(msg)?;
        let (true_color, predicted_color) = (series_color(1), series_color(0));
        chart
            .draw_series(
                (self.truth.iter().zip(self.predicted))
                    .map(|(&t, &p)| PathElement::new([t, p], BLACK.mix(0.25).stroke_width(1))),
            )
            .map_err(msg)?;
        chart
            .draw_series(
                self.truth
                    .iter()
                    .map(|&t| Circle::new(t, 4, true_color.stroke_width(2))),
            )
            .map_err(msg)?
            .label("true")
            .legend(move |(x, y)| Circle::new((x + 5, y), 4, true_color.stroke_width(2)));
        chart
            .draw_series(
                self.predicted
                    .iter()
                    .map(|&p| Circle::new(p, 3, predicted_color.filled())),
            )
            .map_err(msg)?
            .label("predicted")
            .legend(move |(x, y)| Circle::new((x + 5, y), 3, predicted_color.filled()));
        draw_legend(&mut chart)?;
        Ok(())
    }
}

/// ROC-AUC per tag, one bar per model (a tag without both classes among the test songs has
/// no bar).
pub fn per_tag_auc(
    stem: &Path,
    tags: &[String],
    models: &[(String, Vec<f64>)],
) -> Result<[PathBuf; 2], PlotError> {
    let scorable: Vec<(String, Vec<f64>)> = (models.iter())
        .map(|(name, aucs)| {
            let bars = aucs.iter().map(|a| if a.is_nan() { 0.0 } else { *a });
            (name.clone(), bars.collect())
        })
        .collect();
    render(
        stem,
        &ScoreBars {
            caption: "ROC-AUC per tag",
            class_names: tags,
            series: &scorable,
        },
    )
}
