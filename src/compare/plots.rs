//! The comparison's figures, drawn with the report's machinery ([`crate::report::plots`]):
//! the metric per run (bar: mean over seeds, points: seeds, whiskers: 95 % interval of the
//! mean), each output's own score by run (F1 per class, CCC per target, ROC-AUC per tag), and the runs'
//! mean validation learning curves overlaid.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::eval::Interval;
use crate::report::plots::{
    Drawn, FONT, Figure, SIZE, draw_legend, epoch_axes, finite_max, msg, series_color,
};

/// One run's bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// The run's label.
    pub label: String,
    /// Colour index (the run's position in the input, the same in every figure).
    pub color: usize,
    /// Mean over seeds.
    pub mean: f64,
    /// The per-seed values.
    pub seeds: Vec<f64>,
    /// 95 % interval of the mean, when there are two seeds or more.
    pub interval: Option<Interval>,
}

/// The metric per run.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricBars {
    /// The title.
    pub caption: String,
    /// The y axis' name.
    pub metric: String,
    /// One per run, left to right.
    pub bars: Vec<Bar>,
}

/// x units per run: a bar is half a slot wide, a whisker's cap an eighth.
const SLOT: i32 = 16;
/// Width per run, so long labels stay readable with many runs.
const PIXELS_PER_RUN: u32 = 120;

impl Figure for MetricBars {
    fn size(&self) -> (u32, u32) {
        (SIZE.0.max(PIXELS_PER_RUN * self.bars.len() as u32), SIZE.1)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(msg)?;
        let n = self.bars.len().max(1) as i32;
        // SLOT integer units per run (integer axes format their tick labels): the bar spans
        // half the slot around its centre, which carries the label, points and whisker.
        let centre = |i: usize| SLOT * i as i32 + SLOT / 2;
        // Scores in [0, 1] keep that axis; a wide interval (two seeds) is cut at its edge
        // rather than squashing the bars.
        let top = finite_max(
            self.bars
                .iter()
                .flat_map(|b| b.seeds.iter().copied().chain([b.mean])),
        );
        let y_max = if top <= 1.0 { 1.0 } else { top * 1.1 };
        let mut chart = ChartBuilder::on(root)
            .caption(&self.caption, (FONT, 18))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(
                (0..SLOT * n).with_key_points((0..self.bars.len()).map(centre).collect()),
                0.0..y_max,
            )
            .map_err(msg)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .y_desc(self.metric.as_str())
            .x_label_formatter(&|x| {
                let index = (*x / SLOT) as usize;
                self.bars
                    .get(index)
                    .map(|b| b.label.clone())
                    .unwrap_or_default()
            })
            .label_style((FONT, 12))
            .draw()
            .map_err(msg)?;
        for (i, bar) in self.bars.iter().enumerate() {
            let x = centre(i);
            let color = series_color(bar.color);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x - SLOT / 4, 0.0), (x + SLOT / 4, bar.mean)],
                    color.mix(0.55).filled(),
                )))
                .map_err(msg)?;
            if let Some(interval) = bar.interval {
                let whisker = BLACK.stroke_width(2);
                let (low, high) = (interval.low.max(0.0), interval.high.min(y_max));
                let mut lines = vec![PathElement::new([(x, low), (x, high)], whisker)];
                // A cap marks an end that lies inside the axis.
                for (end, clipped) in [(interval.low, low), (interval.high, high)] {
                    if end == clipped {
                        lines.push(PathElement::new([(x - 1, end), (x + 1, end)], whisker));
                    }
                }
                chart.draw_series(lines).map_err(msg)?;
            }
            chart
                .draw_series(
                    bar.seeds
                        .iter()
                        .map(|&v| Circle::new((x, v), 4, BLACK.filled())),
                )
                .map_err(msg)?;
        }
        Ok(())
    }
}

/// One run's mean learning curve.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// The run's label.
    pub label: String,
    /// Colour index (the run's position in the input).
    pub color: usize,
    /// (epoch, mean validation score), in epoch order.
    pub points: Vec<(usize, f64)>,
}

/// Mean validation score per epoch, one line per run.
#[derive(Debug, Clone, PartialEq)]
pub struct MeanCurves {
    /// The validation score, as the caption names it (`macro_f1`, `ccc`, `roc_auc_macro`).
    pub score: String,
    /// One per run.
    pub runs: Vec<Curve>,
}

impl Figure for MeanCurves {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(msg)?;
        let epochs = self
            .runs
            .iter()
            .flat_map(|run| run.points.iter().map(|(e, _)| *e))
            .max()
            .unwrap_or(1);
        let caption = format!(
            "Validation {} per epoch (mean over seeds and folds)",
            self.score
        );
        let mut chart = epoch_axes(root, &caption, epochs, 1.0)?;
        for run in &self.runs {
            let color = series_color(run.color);
            chart
                .draw_series(LineSeries::new(
                    run.points.iter().copied(),
                    color.stroke_width(2),
                ))
                .map_err(msg)?
                .label(run.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2))
                });
        }
        draw_legend(&mut chart)
    }
}
