//! The report's figures, each written as PNG and SVG from one drawing function: learning
//! curves, confusion matrix heatmap, per-class F1 bars and the calibration (reliability)
//! curve; the regression and multi-label figures are in `target_plots.rs`. The machinery is shared with `mer compare`'s figures: a [`Figure`] draws on any
//! backend and [`render`] writes both files; [`FONT`], [`series_color`], [`epoch_axes`] and
//! [`draw_legend`] give every figure the same text, colours, axes and legend.
//!
//! Text uses a TrueType font read from disk at first use (`MER_FONT`, else DejaVu Sans as
//! `scripts/setup.sh` installs it) through `ab_glyph`, so PNG text renders without fontconfig
//! or freetype, and no font file is committed. PNG glyphs are placed by `report/glyphs.rs`,
//! which corrects plotters' own placement.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::types::{RangedCoordf64, RangedCoordusize};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::glyphs::GlyphExactBitmap;
use crate::eval::{Confusion, ReliabilityBin};
use crate::results::FoldCurve;

/// Where fonts are looked for, in order, after `MER_FONT`.
const FONT_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
];
/// The font family every figure's text uses (registered by [`render`]).
pub const FONT: &str = "sans-serif";
/// Default figure size in pixels.
pub const SIZE: (u32, u32) = (800, 520);

/// Why a figure could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// No usable TrueType font.
    #[error(
        "no TrueType font for plot text (looked at MER_FONT and {}); run scripts/setup.sh, which installs fonts-dejavu-core, or set MER_FONT to a .ttf file",
        FONT_CANDIDATES.join(", ")
    )]
    NoFont,
    /// plotters failed while drawing or encoding.
    #[error("could not draw '{}': {message}", path.display())]
    Draw {
        /// The figure file.
        path: PathBuf,
        /// plotters' message.
        message: String,
    },
}

/// The figures' font file, registered with plotters under [`FONT`] on first use.
pub(super) fn ensure_font() -> Result<&'static [u8], PlotError> {
    static REGISTERED: OnceLock<Option<&'static [u8]>> = OnceLock::new();
    let font = *REGISTERED.get_or_init(|| {
        let from_env = std::env::var_os("MER_FONT").map(PathBuf::from);
        let candidates = from_env
            .into_iter()
            .chain(FONT_CANDIDATES.iter().map(PathBuf::from));
        for path in candidates {
            if let Ok(bytes) = std::fs::read(&path) {
                // plotters keeps fonts for the process's lifetime; one font, leaked once.
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font(FONT, FontStyle::Normal, bytes).is_ok() {
                    return Some(bytes);
                }
            }
        }
        None
    });
    font.ok_or(PlotError::NoFont)
}

fn draw_error(path: &Path) -> impl Fn(String) -> PlotError + '_ {
    move |message| PlotError::Draw {
        path: path.to_path_buf(),
        message,
    }
}

/// A figure drawn the same way on any plotters backend; [`render`] writes it as PNG and SVG.
/// A trait rather than a closure because plotters' backends are distinct types and a closure
/// cannot be generic over them.
pub trait Figure {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32) {
        SIZE
    }

    /// Draws the figure onto `root` (plotters' errors as text).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static;
}

/// Renders `figure` into `<stem>.png` and `<stem>.svg`, returning both paths.
pub fn render(stem: &Path, figure: &impl Figure) -> Result<[PathBuf; 2], PlotError> {
    let font = ensure_font()?;
    let font = ab_glyph::FontRef::try_from_slice(font).map_err(|_| PlotError::NoFont)?;
    let png = stem.with_extension("png");
    let svg = stem.with_extension("svg");
    {
        let bitmap = BitMapBackend::new(&png, figure.size());
        let root = GlyphExactBitmap::new(bitmap, font).into_drawing_area();
        figure.draw(&root).map_err(draw_error(&png))?;
        root.present()
            .map_err(|e| draw_error(&png)(e.to_string()))?;
    }
    {
        let root = SVGBackend::new(&svg, figure.size()).into_drawing_area();
        figure.draw(&root).map_err(draw_error(&svg))?;
        root.present()
            .map_err(|e| draw_error(&svg)(e.to_string()))?;
    }
    Ok([png, svg])
}

/// What a drawing step returns: plotters' error, as text.
pub type Drawn = Result<(), String>;

/// A plotters error as text, for `map_err`.
pub fn msg<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// The colour of series `index` (a fold, a model, a run), the same in every figure.
pub fn series_color(index: usize) -> RGBColor {
    let (r, g, b) = Palette99::pick(index).to_rgba().rgb();
    RGBColor(r, g, b)
}

/// Per fold: training loss (dashed) and validation loss (solid) on the left, validation
/// macro-F1 on the right with the kept epoch marked, and the learning rate (grey, scaled to
/// its maximum, which the caption gives).
pub fn learning_curves(stem: &Path, folds: &[FoldCurve]) -> Result<[PathBuf; 2], PlotError> {
    render(stem, &LearningCurves(folds))
}

struct LearningCurves<'a>(&'a [FoldCurve]);

impl Figure for LearningCurves<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        draw_learning_curves(root, self.0)
    }
}

fn draw_learning_curves<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    folds: &[FoldCurve],
) -> Drawn
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(msg)?;
    let (losses, scores) = root.split_horizontally(root.dim_in_pixel().0 / 2);
    let epochs = folds
        .iter()
        .flat_map(|f| f.epochs.iter().map(|e| e.epoch))
        .max()
        .unwrap_or(1);
    let max_loss = finite_max(
        folds
            .iter()
            .flat_map(|f| f.epochs.iter().flat_map(|e| [e.train_loss, e.valid_loss])),
    )
    .max(1e-6);
    let mut chart = epoch_axes(&losses, "Loss (dashed: training)", epochs, max_loss * 1.05)?;
    for fold in folds {
        let color = series_color(fold.fold);
        chart
            .draw_series(DashedLineSeries::new(
                fold.epochs.iter().map(|e| (e.epoch, e.train_loss)),
                4,
                3,
                color.stroke_width(1),
            ))
            .map_err(msg)?;
        chart
            .draw_series(LineSeries::new(
                fold.epochs.iter().map(|e| (e.epoch, e.valid_loss)),
                color.stroke_width(2),
            ))
            .map_err(msg)?
            .label(format!("fold {}", fold.fold))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2)));
    }
    draw_legend(&mut chart)?;

    let max_lr = finite_max(folds.iter().flat_map(|f| f.epochs.iter().map(|e| e.lr)));
    let caption = format!("Validation macro-F1 (o: kept epoch; grey: LR / {max_lr:.0e})");
    let mut chart = epoch_axes(&scores, &caption, epochs, 1.0)?;
    // The schedule is the same for every fold; draw the first fold's, scaled into [0, 1].
    if let Some(first) = folds.first().filter(|_| max_lr > 0.0) {
        chart
            .draw_series(LineSeries::new(
                first.epochs.iter().map(|e| (e.epoch, e.lr / max_lr)),
                RGBColor(150, 150, 150).stroke_width(1),
            ))
            .map_err(msg)?;
    }
    for fold in folds {
        let color = series_color(fold.fold);
        chart
            .draw_series(LineSeries::new(
                fold.epochs.iter().map(|e| (e.epoch, e.valid_macro_f1)),
                color.stroke_width(2),
            ))
            .map_err(msg)?;
        let best = fold.epochs.iter().find(|e| e.epoch == fold.best_epoch);
        chart
            .draw_series(best.map(|e| Circle::new((e.epoch, e.valid_macro_f1), 5, color.filled())))
            .map_err(msg)?;
    }
    Ok(())
}

/// The legend box every figure uses: upper right, translucent white, black border.
pub fn draw_legend<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>) -> Drawn
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .label_font((FONT, 12))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(msg)
}

/// The largest finite value, or 0 (a diverged epoch's infinite loss must not flatten the axis).
pub fn finite_max(values: impl Iterator<Item = f64>) -> f64 {
    values.filter(|v| v.is_finite()).fold(0.0, f64::max)
}

/// A chart of epochs (x) against a score or loss (y).
pub type EpochChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordusize, RangedCoordf64>>;

/// Axes of epoch 1..`epochs` against 0..`y_max`, mesh drawn.
pub fn epoch_axes<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    caption: &str,
    epochs: usize,
    y_max: f64,
) -> Result<EpochChart<'a, DB>, String>
where
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FONT, 18))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(50)
        .build_cartesian_2d(1..epochs.max(2), 0.0..y_max)
        .map_err(msg)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .label_style((FONT, 12))
        .draw()
        .map_err(msg)?;
    Ok(chart)
}

/// Confusion matrix heatmap with counts; rows are true classes, columns predictions, the
/// shade is the share of the row (so rare classes read as clearly as common ones).
pub fn confusion_heatmap(
    stem: &Path,
    confusion: &Confusion,
    class_names: &[String],
) -> Result<[PathBuf; 2], PlotError> {
    render(stem, &ConfusionHeatmap(confusion, class_names))
}

struct ConfusionHeatmap<'a>(&'a Confusion, &'a [String]);

impl Figure for ConfusionHeatmap<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        draw_confusion(root, self.0, self.1)
    }
}

fn draw_confusion<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    confusion: &Confusion,
    class_names: &[String],
) -> Drawn
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(msg)?;
    let k = confusion.classes();
    // Integer coordinates at twice the cell size (plotters formats tick labels only on
    // integer axes with key points): cell (predicted p, true t) spans [2p, 2p+2] x
    // [2(k-1-t), 2(k-t)], true class 0 on top as a confusion matrix is read, ticks at centres.
    let k2 = 2 * k as i32;
    let centres: Vec<i32> = (0..k as i32).map(|i| 2 * i + 1).collect();
    let mut chart = ChartBuilder::on(root)
        .caption("Confusion matrix (rows: true class)", (FONT, 20))
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(110)
        .build_cartesian_2d(
            (0..k2).with_key_points(centres.clone()),
            (0..k2).with_key_points(centres),
        )
        .map_err(msg)?;
    let name = |i: usize| class_names.get(i).cloned().unwrap_or_else(|| i.to_string());
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("predicted")
        .x_label_formatter(&|x| name((*x / 2) as usize))
        .y_label_formatter(&|y| name(k - 1 - ((*y / 2) as usize).min(k - 1)))
        .label_style((FONT, 12))
        .draw()
        .map_err(msg)?;
    for t in 0..k {
        let support = confusion.support(t).max(1) as f64;
        let y = 2 * (k - 1 - t) as i32;
        for p in 0..k {
            let count = confusion.count(t, p);
            let share = count as f64 / support;
            let x = 2 * p as i32;
            let shade = RGBColor(
                (255.0 - 200.0 * share) as u8,
                (255.0 - 150.0 * share) as u8,
                255,
            );
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x, y), (x + 2, y + 2)],
                    shade.filled(),
                )))
                .map_err(msg)?;
            let ink = if share > 0.6 { WHITE } else { BLACK };
            let style = (FONT, 16)
                .into_font()
                .color(&ink)
                .pos(Pos::new(HPos::Center, VPos::Center));
            chart
                .draw_series(std::iter::once(Text::new(
                    count.to_string(),
                    (x + 1, y + 1),
                    style,
                )))
                .map_err(msg)?;
        }
    }
    Ok(())
}

/// Per-class F1, one group of bars per class and one bar per model (e.g. single fold models
/// against the ensemble).
pub fn per_class_f1(
    stem: &Path,
    class_names: &[String],
    models: &[(String, Vec<f64>)],
) -> Result<[PathBuf; 2], PlotError> {
    render(
        stem,
        &ScoreBars {
            caption: "F1 per class",
            class_names,
            series: models,
        },
    )
}

/// Grouped bars of a score in [0, 1] per category (F1 per class, ROC-AUC per tag): one group
/// per category, one bar per series (a model, a run).
#[derive(Debug, Clone, Copy)]
pub struct ScoreBars<'a> {
    /// The title.
    pub caption: &'a str,
    /// Category names (classes, tags), in order.
    pub class_names: &'a [String],
    /// (legend name, score per category in order) per series.
    pub series: &'a [(String, Vec<f64>)],
}

impl Figure for ScoreBars<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        draw_score_bars(root, self)
    }
}

fn draw_score_bars<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, figure: &ScoreBars) -> Drawn
where
    DB::ErrorType: 'static,
{
    let ScoreBars {
        caption,
        class_names,
        series: models,
    } = *figure;
    root.fill(&WHITE).map_err(msg)?;
    let k = class_names.len();
    let m = models.len().max(1);
    // x in half "bar slots" (integers, so tick labels format): each class takes m bars plus
    // one bar of gap, a bar is 2 units wide.
    let group = 2 * (m + 1) as i32;
    let slots = k as i32 * group;
    let mut chart = ChartBuilder::on(root)
        .caption(caption, (FONT, 20))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(
            (0..slots).with_key_points(
                (0..k as i32)
                    .map(|class| class * group + 1 + m as i32)
                    .collect(),
            ),
            0.0..1.0,
        )
        .map_err(msg)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_label_formatter(&|x| {
            let class = (*x / group) as usize;
            class_names.get(class).cloned().unwrap_or_default()
        })
        .label_style((FONT, 12))
        .draw()
        .map_err(msg)?;
    for (j, (model, f1)) in models.iter().enumerate() {
        let color = series_color(j);
        chart
            .draw_series(f1.iter().enumerate().map(|(class, &v)| {
                let x0 = class as i32 * group + 1 + 2 * j as i32;
                Rectangle::new([(x0, 0.0), (x0 + 2, v)], color.filled())
            }))
            .map_err(msg)?
            .label(model.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
    }
    draw_legend(&mut chart)?;
    Ok(())
}

/// Reliability diagram: accuracy against mean confidence per non-empty bin, with the
/// diagonal of perfect calibration.
pub fn calibration_curve(
    stem: &Path,
    bins: &[ReliabilityBin],
    ece: f64,
) -> Result<[PathBuf; 2], PlotError> {
    render(stem, &Calibration(bins, ece))
}

struct Calibration<'a>(&'a [ReliabilityBin], f64);

impl Figure for Calibration<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        draw_calibration(root, self.0, self.1)
    }
}

fn draw_calibration<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    bins: &[ReliabilityBin],
    ece: f64,
) -> Drawn
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(msg)?;
    let mut chart = ChartBuilder::on(root)
        .caption(format!("Calibration (ECE {ece:.3})"), (FONT, 20))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..1.0, 0.0..1.0)
        .map_err(msg)?;
    chart
        .configure_mesh()
        .x_desc("confidence")
        .y_desc("accuracy")
        .label_style((FONT, 12))
        .draw()
        .map_err(msg)?;
    chart
        .draw_series(DashedLineSeries::new(
            [(0.0, 0.0), (1.0, 1.0)],
            5,
            4,
            BLACK.mix(0.5).stroke_width(1),
        ))
        .map_err(msg)?;
    let filled: Vec<&ReliabilityBin> = bins.iter().filter(|b| b.songs > 0).collect();
    chart
        .draw_series(
            filled.iter().map(|b| {
                Rectangle::new([(b.low, 0.0), (b.high, b.accuracy)], BLUE.mix(0.3).filled())
            }),
        )
        .map_err(msg)?;
    chart
        .draw_series(LineSeries::new(
            filled.iter().map(|b| (b.confidence, b.accuracy)),
            BLUE.stroke_width(2),
        ))
        .map_err(msg)?;
    chart
        .draw_series(
            filled
                .iter()
                .map(|b| Circle::new((b.confidence, b.accuracy), 4, BLUE.filled())),
        )
        .map_err(msg)?;
    Ok(())
}
