//! The sections of an experiment spec, as serde structs with the built-in defaults.
//!
//! Each section's `Default` is the student pipeline's recipe (DESIGN.md), so a spec only names
//! what it changes. Unknown keys are rejected everywhere (`deny_unknown_fields`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::modality::Modality;

/// `[dataset]`: where the songs are and how their labels are laid out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSection {
    /// On-disk layout of the dataset.
    pub layout: Layout,
    /// Dataset folder; relative paths are relative to the spec file's folder.
    pub root: PathBuf,
    /// `table` layout: the labels CSV (`id,label`, more columns kept as metadata), relative to
    /// `root`. Default `labels.csv`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<PathBuf>,
    /// `table` layout: name of the id column. Default `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_column: Option<String>,
    /// `table` layout: name of the label column. Default `label`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_column: Option<String>,
    /// `table` layout: one path template per modality, relative to `root`, with `{id}`, e.g.
    /// `audio = "audio/{id}.wav"`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub paths: BTreeMap<String, String>,
    /// What to do with a song whose label sources disagree (`mirex-like`: `clusters.txt` against
    /// the `.bat` files). Never resolved silently: `drop` reports and leaves the song out.
    #[serde(default)]
    pub on_label_conflict: LabelConflictPolicy,
    /// Which songs the experiment keeps: those with a file (or a precomputed row) for at least
    /// one of these modalities. Default: the selected modalities. A modality ablation
    /// (`[sweep] modalities = "all-subsets"`) sets it to the base spec's modalities, so every
    /// member splits the same songs; a song with none of a member's modalities then reaches
    /// its model with every presence flag off. A precomputed row counts only for a selected
    /// modality (an unselected one has no table to read it from): its media file decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub songs_with: Option<Vec<Modality>>,
}

/// Supported dataset layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// The MIREX-like mood archive as distributed (Panda et al. 2013).
    MirexLike,
    /// A labels CSV plus one path template per modality.
    Table,
    /// EMOPIA 1.0 / 2.2 as distributed (Hung et al. 2021): piano MIDI clips by quadrant.
    Emopia,
    /// The 4Q audio emotion dataset as distributed (Panda et al. 2018): MP3 clips in
    /// quadrant folders.
    #[serde(rename = "4q")]
    FourQ,
    /// One set of MERGE as distributed (Louro et al. 2024): audio, lyrics or bimodal, with
    /// its fixed splits.
    Merge,
    /// DEAM as distributed (Aljanaki et al. 2017): MP3 excerpts, static and dynamic
    /// valence-arousal ratings.
    Deam,
    /// PMEmo 2019 as distributed (Zhang et al. 2018): chorus MP3s, LRC lyrics, static and
    /// dynamic valence-arousal ratings.
    Pmemo,
    /// The mood/theme subset of MTG-Jamendo as distributed (Bogdanov et al. 2019): tagged
    /// full-length tracks, five fixed splits.
    MtgJamendo,
}

impl Layout {
    /// The name a spec gives it.
    pub fn name(self) -> &'static str {
        match self {
            Layout::MirexLike => "mirex-like",
            Layout::Table => "table",
            Layout::Emopia => "emopia",
            Layout::FourQ => "4q",
            Layout::Merge => "merge",
            Layout::Deam => "deam",
            Layout::Pmemo => "pmemo",
            Layout::MtgJamendo => "mtg-jamendo",
        }
    }
}

/// Policy for songs whose label sources disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LabelConflictPolicy {
    /// Report the song and leave it out of the experiment.
    #[default]
    Drop,
    /// Stop with an error listing the conflicts.
    Fail,
}

/// Feature scalings, fitted per fold on training songs only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scaling {
    /// Zero mean, unit variance.
    #[default]
    Standard,
    /// Median and inter-quartile range.
    Robust,
    /// Into [0, 1].
    Minmax,
    /// Each song vector to unit length.
    L2,
    /// Leave features as extracted.
    None,
}

/// `[normalize]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NormalizeSection {
    /// Scaling for every modality without its own. Default `standard`.
    pub method: Scaling,
    /// Scaling for audio features, overriding `method`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio: Option<Scaling>,
    /// Scaling for lyrics features, overriding `method`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lyrics: Option<Scaling>,
    /// Scaling for MIDI features, overriding `method`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub midi: Option<Scaling>,
    /// TF-IDF weighting of the hashed lyrics n-grams (`bow_*` columns; IDF fitted per fold,
    /// each song's block then scaled to unit length), before the scaling. Default true.
    pub tfidf: bool,
}

impl Default for NormalizeSection {
    fn default() -> Self {
        NormalizeSection {
            method: Scaling::Standard,
            audio: None,
            lyrics: None,
            midi: None,
            tfidf: true,
        }
    }
}

/// How the modalities are combined (`model.fusion`). Every choice sees the presence masks, so
/// a missing modality is flagged or left out, never read as features that happen to be zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fusion {
    /// Intermediate fusion: one encoder per modality, the masked embeddings and the presence
    /// masks concatenated, then the head.
    #[default]
    Concat,
    /// Early fusion: every modality's masked features and the presence masks, concatenated,
    /// into one encoder.
    Early,
    /// Late fusion: one encoder, head and output layer per modality; the outputs (class or
    /// tag probabilities, regression values) combined over the modalities a song has, as
    /// `model.late` says.
    Late,
    /// Gated fusion: per song, a softmax over the present modalities of a score computed from
    /// each embedding weighs the embeddings into one (a missing modality's weight is zero),
    /// concatenated with the presence masks.
    Gated,
    /// Attention fusion: each present modality's embedding (plus a learned embedding of which
    /// modality it is) a token, one head of self-attention among a song's present tokens, the
    /// outputs averaged, concatenated with the presence masks.
    Attention,
}

impl Fusion {
    /// The name the spec writes (`model.fusion`).
    pub fn name(self) -> &'static str {
        match self {
            Fusion::Concat => "concat",
            Fusion::Early => "early",
            Fusion::Late => "late",
            Fusion::Gated => "gated",
            Fusion::Attention => "attention",
        }
    }
}

/// What kind of model is trained (`model.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// Encoders, a fusion and a head, as `model.fusion` and the widths and layers say.
    #[default]
    Network,
    /// Multinomial logistic regression (or linear regression, or one logistic regression per
    /// tag) on every modality's normalized features and the presence masks, concatenated: the
    /// baseline every paper should report. Trained by the same stages and schedule.
    Linear,
}

impl ModelKind {
    fn is_default(&self) -> bool {
        *self == ModelKind::Network
    }
}

/// `model.late`: how late fusion's per-modality classifiers are trained and combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LateSection {
    /// Default `joint`.
    pub training: LateTraining,
    /// Default `average`.
    pub combine: LateCombine,
}

impl LateSection {
    /// Whether every key is left at its default (which keeps older specs' keys as they were).
    pub fn is_default(&self) -> bool {
        *self == LateSection::default()
    }
}

/// How late fusion's classifiers learn (`model.late.training`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LateTraining {
    /// One loss on the combined output: the branches learn to predict together.
    #[default]
    Joint,
    /// Each branch its own loss, on the songs that have its modality, as if trained alone (the
    /// branches share only the batches, the schedule and early stopping on the combination).
    Separate,
}

impl LateTraining {
    /// The name the spec writes.
    pub fn name(self) -> &'static str {
        match self {
            LateTraining::Joint => "joint",
            LateTraining::Separate => "separate",
        }
    }
}

/// How late fusion's outputs become one (`model.late.combine`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LateCombine {
    /// The plain mean over the modalities a song has.
    #[default]
    Average,
    /// Stacking: one learned weight per modality, fit after training on the folds'
    /// out-of-fold branch outputs, never on test songs: a logistic regression on the branches'
    /// logits for classes and tags, a weighted mean over the present modalities for values.
    Stacking,
}

impl LateCombine {
    /// Whether this is the default, the plain mean.
    pub fn is_average(&self) -> bool {
        *self == LateCombine::Average
    }

    /// The name the spec writes.
    pub fn name(self) -> &'static str {
        match self {
            LateCombine::Average => "average",
            LateCombine::Stacking => "stacking",
        }
    }
}

/// Normalization layers inside the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NormLayer {
    /// Layer normalization.
    #[default]
    Layer,
    /// Batch normalization (running statistics in evaluation).
    Batch,
    /// No normalization layer.
    None,
}

/// Activation functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    /// Rectified linear unit.
    Relu,
    /// Gaussian error linear unit.
    #[default]
    Gelu,
}

/// `[model]`: the fusion network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSection {
    /// Default `network`.
    #[serde(skip_serializing_if = "ModelKind::is_default")]
    pub kind: ModelKind,
    /// Default `concat`.
    pub fusion: Fusion,
    /// Late fusion's training and combination; only for `fusion = "late"`.
    #[serde(skip_serializing_if = "LateSection::is_default")]
    pub late: LateSection,
    /// Hidden layers per modality encoder. Default 1.
    pub encoder_layers: usize,
    /// Width of each encoder layer (the modality embedding size). Default 128.
    pub encoder_width: usize,
    /// Hidden layers of the classifier head. Default 1.
    pub head_layers: usize,
    /// Width of the head's hidden layers. Default 64.
    pub head_width: usize,
    /// Dropout probability after each hidden layer. Default 0.3.
    pub dropout: f64,
    /// Default `layer`.
    pub norm: NormLayer,
    /// Default `gelu`.
    pub activation: Activation,
}

impl Default for ModelSection {
    fn default() -> Self {
        ModelSection {
            kind: ModelKind::Network,
            fusion: Fusion::Concat,
            late: LateSection::default(),
            encoder_layers: 1,
            encoder_width: 128,
            head_layers: 1,
            head_width: 64,
            dropout: 0.3,
            norm: NormLayer::Layer,
            activation: Activation::Gelu,
        }
    }
}

/// `[augment]`: training-time augmentations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AugmentSection {
    /// Beta(alpha, alpha) mixup; 0 turns it off. Default 0.4.
    pub mixup_alpha: f64,
    /// Label smoothing mass. Default 0.1.
    pub label_smoothing: f64,
    /// Per-sample, per-modality drop probability (never every present modality). Default 0.2.
    pub modality_dropout: f64,
    /// Standard deviation of Gaussian noise added to normalized features. Default 0.05.
    pub feature_noise: f64,
}

impl Default for AugmentSection {
    fn default() -> Self {
        AugmentSection {
            mixup_alpha: 0.4,
            label_smoothing: 0.1,
            modality_dropout: 0.2,
            feature_noise: 0.05,
        }
    }
}

/// Learning-rate schedules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LrSchedule {
    /// Cosine annealing with warm restarts (SGDR).
    #[default]
    CosineWarmRestarts,
    /// A constant learning rate.
    Constant,
}

/// When the schedule advances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScheduleStep {
    /// Once per epoch.
    #[default]
    Epoch,
    /// Once per mini-batch (fractional epochs).
    Step,
}

/// What a song is labelled with, and so what a model predicts for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskKind {
    /// One class per song out of several (softmax, cross-entropy).
    #[default]
    Classification,
    /// Continuous targets per song (valence, arousal), mapped to [-1, 1].
    Regression,
    /// Several tags per song at once (one sigmoid per tag, binary cross-entropy).
    Multilabel,
}

impl TaskKind {
    /// The kind as the spec writes it (`task.kind`).
    pub fn name(self) -> &'static str {
        match self {
            TaskKind::Classification => "classification",
            TaskKind::Regression => "regression",
            TaskKind::Multilabel => "multilabel",
        }
    }
}

/// The loss a regression model is trained on (`task.loss`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegressionLoss {
    /// Mean squared error over songs and targets.
    #[default]
    Mse,
    /// One minus the concordance correlation coefficient of each target over the batch,
    /// averaged over targets: it rewards tracking the targets' spread as well as their mean.
    Ccc,
}

/// `[task]`: what a song is labelled with (the kind, and for regression and multi-label the
/// metadata columns that hold the targets), and the loss a model of it is trained on.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TaskSection {
    /// Default `classification`.
    pub kind: TaskKind,
    /// Regression only; default `mse`.
    #[serde(skip_serializing_if = "RegressionLoss::is_default")]
    pub loss: RegressionLoss,
    /// Regression: the metadata columns of the targets, e.g. `["valence", "arousal"]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// Regression: each target's native scale `[low, high]`, mapped onto [-1, 1]; a target
    /// not named is already on [-1, 1].
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub scales: BTreeMap<String, [f64; 2]>,
    /// Multi-label: the metadata column of the tags. Default `tags`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags_column: Option<String>,
    /// Multi-label: what separates the tags in that column. Default `;`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_separator: Option<String>,
    /// Multi-label: the tag vocabulary, in order; other tags are left out and reported.
    /// Default: every tag found, sorted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

/// The metadata column multi-label tags are read from by default.
pub const DEFAULT_TAGS_COLUMN: &str = "tags";
/// What separates tags by default.
pub const DEFAULT_TAG_SEPARATOR: &str = ";";

impl TaskSection {
    /// Whether this is the default task (classification, nothing else set): left out of the
    /// resolved spec and of stage keys, so a spec without `[task]` keeps its hash and keys.
    pub fn is_default(&self) -> bool {
        *self == TaskSection::default()
    }

    /// The multi-label tag column.
    pub fn tags_column(&self) -> &str {
        self.tags_column.as_deref().unwrap_or(DEFAULT_TAGS_COLUMN)
    }

    /// The multi-label tag separator.
    pub fn tag_separator(&self) -> &str {
        self.tag_separator
            .as_deref()
            .unwrap_or(DEFAULT_TAG_SEPARATOR)
    }

    /// Each regression target's column and scale.
    pub fn target_scale(&self, target: &str) -> (f64, f64) {
        self.scales
            .get(target)
            .map_or((-1.0, 1.0), |[low, high]| (*low, *high))
    }
}

impl RegressionLoss {
    fn is_default(&self) -> bool {
        *self == RegressionLoss::default()
    }
}

/// `[schedule]`: optimizer and training length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScheduleSection {
    /// AdamW learning rate. Default 1e-3.
    pub lr: f64,
    /// Decoupled weight decay. Default 1e-4.
    pub weight_decay: f64,
    /// AdamW first-moment decay. Default 0.9.
    pub beta1: f64,
    /// AdamW second-moment decay. Default 0.999.
    pub beta2: f64,
    /// AdamW epsilon. Default 1e-8.
    pub eps: f64,
    /// Mini-batch size. Default 32.
    pub batch_size: usize,
    /// Maximum epochs. Default 60.
    pub epochs: usize,
    /// Default `cosine-warm-restarts`.
    pub lr_schedule: LrSchedule,
    /// Length of the first cosine cycle, in epochs. Default 10.
    pub t0: usize,
    /// Cycle length multiplier after each restart. Default 2.
    pub t_mult: usize,
    /// Floor of the cosine schedule. Default 0.
    pub eta_min: f64,
    /// Default `epoch`.
    pub step: ScheduleStep,
    /// Stop after this many epochs without a better validation macro-F1. Default: never.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patience: Option<usize>,
    /// Weight the loss by inverse class frequency. Default false.
    pub class_weights: bool,
}

impl Default for ScheduleSection {
    fn default() -> Self {
        ScheduleSection {
            lr: 1e-3,
            weight_decay: 1e-4,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            batch_size: 32,
            epochs: 60,
            lr_schedule: LrSchedule::CosineWarmRestarts,
            t0: 10,
            t_mult: 2,
            eta_min: 0.0,
            step: ScheduleStep::Epoch,
            patience: None,
            class_weights: false,
        }
    }
}

/// `[split]`: hold-out test set and cross-validation folds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SplitSection {
    /// Fraction of songs held out for the final test, stratified by class. Default 0.2.
    pub test_fraction: f64,
    /// Stratified folds over the remaining songs. Default 5.
    pub folds: usize,
    /// What to do with a class too small to stratify: fewer songs than one per fold plus its
    /// share of the test set (with the defaults, fewer than 7). `drop` (default) reports the
    /// class, its songs by id and the metadata lines that label them, and leaves them out
    /// before the split, so the experiment goes on with the other classes; `fail` stops with
    /// that report. Written to the resolved spec only when not the default, so specs that
    /// leave it out keep their hash and their cached stages.
    #[serde(skip_serializing_if = "RareClassPolicy::is_default")]
    pub rare_classes: RareClassPolicy,
    /// A metadata column (`"artist"`) whose songs must stay together: no value is on both
    /// sides of the hold-out or of a fold, so a model is never tested on an artist it trained
    /// on (the artist effect inflates MER results). Matched without regard to case; a song
    /// without a value is a group of its own. Default: unset, songs split one by one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_by: Option<String>,
    /// `stratified` (default): the hold-out and folds above, drawn from the seed. `fixed`: the
    /// split the dataset gives, read from a metadata column (`split.column`) whose values are
    /// `train`, `validation` and `test`; one fold trains on the train songs and stops early on
    /// the validation songs, as papers on MTG-Jamendo and MERGE do. Songs without a value are
    /// left out. `test_fraction`, `folds`, `group_by` and `rare_classes` do not apply.
    #[serde(skip_serializing_if = "SplitMethod::is_default")]
    pub method: SplitMethod,
    /// With `method = "fixed"`: the metadata column naming each song's part, matched
    /// without regard to case. Default `split`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
}

impl Default for SplitSection {
    fn default() -> Self {
        SplitSection {
            test_fraction: 0.2,
            folds: 5,
            rare_classes: RareClassPolicy::Drop,
            group_by: None,
            method: SplitMethod::Stratified,
            column: None,
        }
    }
}

impl SplitSection {
    /// The column a fixed split reads (`split.column`, default `split`).
    pub fn fixed_column(&self) -> &str {
        self.column.as_deref().unwrap_or(DEFAULT_SPLIT_COLUMN)
    }

    /// Cross-validation folds the split has: one for a fixed split.
    pub fn fold_count(&self) -> usize {
        match self.method {
            SplitMethod::Stratified => self.folds,
            SplitMethod::Fixed => 1,
        }
    }
}

/// The metadata column a fixed split reads by default.
pub const DEFAULT_SPLIT_COLUMN: &str = "split";

/// How songs are split (`split.method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SplitMethod {
    /// Seeded, stratified hold-out and folds.
    #[default]
    Stratified,
    /// The dataset's own train, validation and test songs.
    Fixed,
}

impl SplitMethod {
    fn is_default(&self) -> bool {
        *self == SplitMethod::default()
    }
}

/// Policy for classes with too few songs to split (`split.rare_classes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RareClassPolicy {
    /// Report the class and leave its songs out of the experiment.
    #[default]
    Drop,
    /// Stop with an error listing the class and its songs.
    Fail,
}

impl RareClassPolicy {
    fn is_default(&self) -> bool {
        *self == RareClassPolicy::default()
    }
}

/// How fold models are combined on the test set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ensemble {
    /// Mean of the fold models' softmax probabilities.
    #[default]
    Mean,
    /// Majority vote of the fold models.
    Vote,
    /// The single fold model with the best validation macro-F1.
    BestFold,
}

/// `[eval]`: ensemble evaluation on the hold-out test set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalSection {
    /// Default `mean`.
    pub ensemble: Ensemble,
    /// Test-time augmentation passes (1 = no augmentation). Default 5.
    pub tta_passes: usize,
    /// Feature noise of the test-time passes. Default 0.05.
    pub tta_noise: f64,
    /// Per-song, per-modality drop probability in the test-time passes (never every present
    /// modality of a song). Default 0.
    pub tta_modality_dropout: f64,
    /// Bootstrap resamples for confidence intervals (0 = none). Default 1000.
    pub bootstrap: usize,
}

impl Default for EvalSection {
    fn default() -> Self {
        EvalSection {
            ensemble: Ensemble::Mean,
            tta_passes: 5,
            tta_noise: 0.05,
            tta_modality_dropout: 0.0,
            bootstrap: 1000,
        }
    }
}

/// `[sweep]`: the members a `mer sweep` expands this spec into.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SweepSection {
    /// `"all-subsets"`: one member per non-empty subset of the selected modalities.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modalities: Option<ModalitySweep>,
    /// Key path to the values it takes; members are the cartesian product.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub grid: BTreeMap<String, Vec<toml::Value>>,
    /// Named members, each with its own overrides.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub variant: Vec<SweepVariant>,
    /// How the sweep picks its `selected` result per seed, if at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub select: Option<SweepSelect>,
}

/// `[sweep] select = { metric = "macro_f1", on = "cv" }`: per seed, the member with the best
/// `metric` on `on`'s songs is selected, and its test score is the sweep's `selected` result.
/// Test scores never choose: picking the best test score is optimistic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSelect {
    /// A metric of the task kind that scores predictions (`macro_f1`, `ccc`, `roc_auc_macro`...).
    pub metric: String,
    /// The songs it is measured on. Default `cv`.
    #[serde(default)]
    pub on: SelectOn,
}

/// The songs a sweep's selection is measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SelectOn {
    /// The out-of-fold predictions of the cross-validation: every non-test song once, each
    /// predicted by the fold model that did not train on it.
    #[default]
    Cv,
}

impl SweepSection {
    /// Whether the section asks for no member at all (a plain spec).
    pub fn is_empty(&self) -> bool {
        self.modalities.is_none() && self.grid.is_empty() && self.variant.is_empty()
    }
}

/// Modality-ablation shorthands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModalitySweep {
    /// Every non-empty subset of the spec's modalities.
    AllSubsets,
}

/// `[[sweep.variant]]`: a named member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepVariant {
    /// Member name, used in report folders.
    pub name: String,
    /// Key path to value overrides, as `--set` takes them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub set: BTreeMap<String, toml::Value>,
}
