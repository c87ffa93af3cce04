//! The content-addressed artifact cache: stage keys, the HDF5 artifact store, and the locks
//! that make concurrent runs compute each missing artifact once.
//!
//! # What goes into a stage key
//!
//! A [`StageKey`] is blake3 over the canonical encoding of [`StageInputs`] (see [`key`]):
//!
//! | Input                          | In the key? | Why                                           |
//! |--------------------------------|-------------|-----------------------------------------------|
//! | stage name (`extract.audio`)   | ✓           | two stages never share an artifact            |
//! | stage implementation version   | ✓           | bumped by the stage when its output changes   |
//! | config values the stage reads  | ✓           | by dotted path; only this stage's slice       |
//! | keys of upstream artifacts     | ✓           | by role; a changed input recomputes the chain |
//! | input file content hashes      | ✓           | extraction only, by song id                   |
//! | config the stage does not read | ✗           | editing the schedule must not re-extract      |
//! | absolute paths                 | ✗           | moving the dataset or cache keeps every key   |
//! | mtimes, inodes                 | ✗           | only in the stat cache, to skip re-hashing    |
//! | hostname, user, pid, time      | ✗           | keys are shared across machines and runs      |
//! | `mer` version                  | ✗           | stage versions say when output changed        |
//! | thread count, rayon scheduling | ✗           | stages must be deterministic regardless       |
//!
//! Map order never matters (all maps are `BTreeMap`), `-0.0` keys like `0.0`, all NaNs key
//! alike, and `20_i64` keys like `20_usize`. The golden tests in [`key`] pin the encoding.
//!
//! # On-disk layout
//!
//! ```text
//! cache/
//! ├── files/                          stat cache: abs path, size, mtime, inode -> blake3;
//! │   └── <time>-<host>-<pid>-<n>.json  one file per run that learned hashes, never rewritten
//! ├── lineage/                        what each stage instance last ran with (best effort)
//! ├── 3f/                             shard: first two hex digits of the key
//! │   ├── 3fa4…c2.h5                  one artifact: a 512-byte header with the blake3 of
//! │   │                               the rest, then HDF5 (datasets + metadata attributes)
//! │   ├── 3fa4…c2.lock                while one process computes it (host, pid, start)
//! │   └── .3fa4…c2.h5.<pid>.<n>.tmp   a write in progress; never read, swept when stale
//! └── quarantine/
//!     ├── 20261103T101500Z-3fa4…c2.h5     an entry that failed verification
//!     └── 20261103T101500Z-3fa4…c2.txt    why
//! ```
//!
//! An entry's "last used" time is its atime, set explicitly on every hit (so `noatime` and
//! `relatime` mounts do not matter) and read back by [`ArtifactStore::list`].

mod artifact;
mod digest;
pub mod dirty;
mod disk;
mod entry;
pub mod files;
pub mod key;
pub mod lock;
pub mod sealed;
pub mod store;

use std::path::{Path, PathBuf};

pub use dirty::{DirtyReason, dirty_reasons};
pub use files::{FileHash, FileHasher, HashStats};
pub use key::{ConfigSlice, ConfigValue, KeyEncoder, StageInputs, StageKey};
pub use lock::{Acquired, Attempt, LockGuard};
pub use store::{
    Array, ArrayData, Artifact, ArtifactMeta, ArtifactStore, EntryInfo, Lookup, Room, StoreOptions,
    VerifyReport,
};

/// Errors of the cache; each names the file involved and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// A filesystem operation failed.
    #[error(
        "could not {action} '{}'; check that the cache folder exists, is writable and has free space",
        path.display()
    )]
    Io {
        /// What was being done (`read`, `rename`, ...).
        action: &'static str,
        /// The file or folder involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An entry could not be written (most often a full disk); its temporary file is gone.
    #[error(
        "could not store the {stage} entry {key} in '{}': {cause}; {room}. The unfinished \
         temporary file was removed: free space there (or point --cache at a folder with room) \
         and run again",
        folder.display()
    )]
    NotStored {
        /// The entry's stage.
        stage: String,
        /// The entry's key (short).
        key: String,
        /// The folder it was written into.
        folder: PathBuf,
        /// What failed (libhdf5's message, or the step of the rename into place).
        cause: String,
        /// What the entry needed and what the folder had left.
        room: Room,
    },
    /// The cache cannot be written (a read-only mount, another user's shared cache) and the
    /// run needs to: a miss, a lock, a quarantine. Hits never get here.
    #[error(
        "the cache folder '{}' is read-only for this run (could not {action} '{}'); it serves \
         the stages it holds, but this run must compute one it lacks: point --cache at a \
         writable folder, or have the cache's owner run this spec once",
        root.display(),
        path.display()
    )]
    ReadOnly {
        /// The cache folder.
        root: PathBuf,
        /// What was being done (`create lock`, ...).
        action: &'static str,
        /// The file or folder involved.
        path: PathBuf,
        /// The underlying error (read-only filesystem, permission denied).
        source: std::io::Error,
    },
    /// A string is not 64 hex digits.
    #[error("'{text}' is not a {what} (expected 64 hex digits, as printed by `mer cache ls`)")]
    BadDigest {
        /// Which kind of digest was expected.
        what: &'static str,
        /// The text given.
        text: String,
    },
    /// A config section could not be turned into key values.
    #[error("config section '{prefix}' cannot be keyed")]
    Config {
        /// The section's dotted prefix.
        prefix: String,
        /// serde_json's reason.
        source: serde_json::Error,
    },
    /// A file of its own (a model bundle) could not be written; nothing of it is left.
    #[error("could not write '{}': {cause}", path.display())]
    NotWritten {
        /// The file.
        path: PathBuf,
        /// What failed.
        cause: String,
    },
    /// A file of its own (a model bundle) fails its checksum or does not parse.
    #[error(
        "'{}' is not an intact mer file ({reason}): it was cut short or changed after it was written",
        path.display()
    )]
    NotIntact {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// An artifact has two arrays with one name, or an array whose data does not fit its shape.
    #[error("artifact of stage '{stage}' is malformed: {problem}; this is a bug in that stage")]
    BadArtifact {
        /// The stage that built it.
        stage: String,
        /// What is wrong.
        problem: String,
    },
}

impl CacheError {
    /// The message with its direct cause in parentheses, for the warnings of best-effort
    /// writes (the variants' own messages leave the I/O cause to the error chain).
    pub(crate) fn with_cause(&self) -> String {
        match std::error::Error::source(self) {
            Some(cause) => format!("{self} ({cause})"),
            None => self.to_string(),
        }
    }

    pub(crate) fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        CacheError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}
