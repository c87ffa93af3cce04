//! The artifact store: one HDF5 file per artifact, written crash-safely, verified on read.
//!
//! Writes build the file under a temporary name in the entry's shard folder, fsync it, rename
//! it into place and fsync the folder, so a reader sees either no entry or a whole one. A write
//! that fails removes its temporary file and says how much room the entry needed and how much
//! its folder has. Reads check the stored key and the checksums; an entry that fails is moved
//! to `quarantine/` with a note saying why, and reported as [`Lookup::Quarantined`], which
//! callers treat as a miss.
//!
//! The entry file format (a checksum header before the HDF5 data) is `entry.rs`'s;
//! the arrays in memory are [`Artifact`]; temporary names, fsync and free space are
//! `disk.rs`'s.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, SystemTime};

pub use super::artifact::{Array, ArrayData, Artifact, ArtifactMeta};
pub use super::disk::Room;
pub(crate) use super::disk::temp_path_in;
use super::disk::{free_bytes, writable};
use super::entry::{check, read_h5, read_verified_meta, verify_file, write_sealed_entry};
use super::{CacheError, StageKey};
use crate::clock::{compact, rfc3339};

/// Folder (under the store root) for entries that failed verification.
pub const QUARANTINE_DIR: &str = "quarantine";

/// Timing of locks and cleanup. Tests shorten these; the defaults suit a shared filesystem.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// How often a waiting process checks whether the entry appeared. Default 200 ms.
    pub lock_poll: Duration,
    /// How often a computing process refreshes its lock's mtime. Default 10 s.
    pub heartbeat: Duration,
    /// A lock not refreshed for this long, or a temp file this old, belongs to a dead process.
    /// Must be several heartbeats, to survive a busy machine. Default 2 min.
    pub stale_after: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            lock_poll: Duration::from_millis(200),
            heartbeat: Duration::from_secs(10),
            stale_after: Duration::from_secs(120),
        }
    }
}

/// The result of looking up a key.
#[derive(Debug)]
pub enum Lookup {
    /// A verified entry.
    Hit(Artifact),
    /// No entry.
    Miss,
    /// There was an entry but it failed verification; it now lies in `quarantine/` and the
    /// caller must recompute as on a miss.
    Quarantined {
        /// Why it failed, for the run report.
        reason: String,
        /// Where the bad file was moved.
        moved_to: PathBuf,
    },
}

impl Lookup {
    /// The artifact on a hit, `None` otherwise.
    pub fn hit(self) -> Option<Artifact> {
        match self {
            Lookup::Hit(artifact) => Some(artifact),
            _ => None,
        }
    }
}

/// One line of `mer cache ls`.
#[derive(Debug, Clone)]
pub struct EntryInfo {
    /// The entry's key.
    pub key: StageKey,
    /// Its stage, or `None` if the file's attributes could not be read or fail their checksum
    /// (then `created` and `duration_s` are `None` too: nothing unverified is shown or used).
    pub stage: Option<String>,
    /// Size on disk in bytes.
    pub size: u64,
    /// When it was written (RFC 3339), if readable.
    pub created: Option<String>,
    /// Seconds it took to compute, if readable.
    pub duration_s: Option<f64>,
    /// When it was last returned by [`ArtifactStore::get`] (its atime).
    pub last_used: SystemTime,
}

/// What [`ArtifactStore::verify_all`] found.
#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    /// Entries that verified.
    pub ok: usize,
    /// Entries moved to quarantine, with the reason.
    pub quarantined: Vec<(StageKey, String)>,
    /// Temporary files of writes in progress (or of crashed writers), which are not entries.
    pub temp_files: usize,
}

impl VerifyReport {
    /// True when no entry failed.
    pub fn is_clean(&self) -> bool {
        self.quarantined.is_empty()
    }
}

/// A content-addressed store of artifacts under one root folder. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ArtifactStore {
    root: PathBuf,
    pub(super) options: StoreOptions,
}

impl ArtifactStore {
    /// Opens (creating if needed) the store at `root` with default timings.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, CacheError> {
        Self::open_with(root, StoreOptions::default())
    }

    /// Opens the store with explicit timings, and removes temp files of crashed writers.
    pub fn open_with(root: impl Into<PathBuf>, options: StoreOptions) -> Result<Self, CacheError> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(|e| CacheError::io("create", &root, e))?;
        let store = ArtifactStore { root, options };
        store.sweep_stale_temp_files()?;
        Ok(store)
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The shard folder an entry lives in.
    pub(super) fn shard_dir(&self, key: &StageKey) -> PathBuf {
        self.root.join(&key.to_string()[..2])
    }

    /// Where the entry for `key` lives (whether or not it exists).
    pub fn entry_path(&self, key: &StageKey) -> PathBuf {
        self.shard_dir(key).join(format!("{key}.h5"))
    }

    /// Stores `artifact` under its key, marking it created now and taking `duration`.
    /// Returns the artifact as stored (with created time and checksum filled in).
    pub fn put(&self, mut artifact: Artifact, duration: Duration) -> Result<Artifact, CacheError> {
        artifact.validate()?;
        artifact.meta.created = rfc3339(SystemTime::now());
        artifact.meta.duration_s = duration.as_secs_f64();
        artifact.meta.mer_version = env!("CARGO_PKG_VERSION").to_owned();

        let key = artifact.meta.key;
        let shard = self.shard_dir(&key);
        fs::create_dir_all(&shard).map_err(|e| self.write_error("create", &shard, e))?;
        let target = self.entry_path(&key);
        let tmp = temp_path_in(&shard, &format!("{key}.h5"));
        match write_sealed_entry(&tmp, &target, &mut artifact) {
            Ok(()) => Ok(artifact),
            Err(cause) => Err(self.not_stored(&artifact, &shard, cause)),
        }
    }

    /// A failed write into the cache: [`CacheError::ReadOnly`] when the folder cannot be
    /// written at all, so that the message says so instead of suggesting free space.
    pub(crate) fn write_error(
        &self,
        action: &'static str,
        path: &Path,
        source: io::Error,
    ) -> CacheError {
        match source.kind() {
            io::ErrorKind::ReadOnlyFilesystem | io::ErrorKind::PermissionDenied => {
                CacheError::ReadOnly {
                    root: self.root.clone(),
                    action,
                    path: path.to_path_buf(),
                    source,
                }
            }
            _ => CacheError::io(action, path, source),
        }
    }

    /// Why `artifact` could not be written into `folder` (its temporary file already removed):
    /// the folder is read-only, or how much room the entry needed and how much there is.
    fn not_stored(&self, artifact: &Artifact, folder: &Path, cause: String) -> CacheError {
        if let Err(source) = writable(folder) {
            return self.write_error("write into", folder, source);
        }
        CacheError::NotStored {
            stage: artifact.meta.stage.clone(),
            key: artifact.meta.key.short(),
            folder: folder.to_path_buf(),
            cause,
            room: Room {
                needed: artifact.data_bytes(),
                free: free_bytes(folder),
            },
        }
    }

    /// Looks up `key`, verifying the entry; a bad entry is quarantined.
    pub fn get(&self, key: &StageKey) -> Result<Lookup, CacheError> {
        let path = self.entry_path(key);
        // Opening with std first separates "cannot access" (an error to report, e.g.
        // permissions) from "not an intact HDF5 artifact" (quarantine).
        let file = match fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Lookup::Miss),
            Err(e) => return Err(CacheError::io("open", &path, e)),
        };
        let inode = file
            .metadata()
            .map_err(|e| CacheError::io("stat", &path, e))?
            .ino();
        let read = verify_file(&path)
            .and_then(|checksum| read_h5(&path, checksum))
            .and_then(|artifact| check(key, artifact));
        match read {
            Ok(artifact) => {
                // Best effort: a read-only cache still serves hits.
                let _ = file.set_times(fs::FileTimes::new().set_accessed(SystemTime::now()));
                Ok(Lookup::Hit(artifact))
            }
            Err(reason) => self.quarantine(key, &path, inode, reason),
        }
    }

    /// Moves a bad entry aside. Checks the inode first so that an entry another process has
    /// already quarantined and rewritten is not moved by mistake.
    fn quarantine(
        &self,
        key: &StageKey,
        path: &Path,
        inode: u64,
        reason: String,
    ) -> Result<Lookup, CacheError> {
        match fs::metadata(path) {
            Ok(meta) if meta.ino() == inode => {}
            // Someone else moved or replaced it: look again rather than report stale news.
            Ok(_) | Err(_) => return self.get(key),
        }
        let dir = self.root.join(QUARANTINE_DIR);
        fs::create_dir_all(&dir).map_err(|e| self.write_error("create", &dir, e))?;
        let stem = format!("{}-{key}", compact(SystemTime::now()));
        let mut moved_to = dir.join(format!("{stem}.h5"));
        for n in 1.. {
            if !moved_to.exists() {
                break;
            }
            moved_to = dir.join(format!("{stem}-{n}.h5"));
        }
        match fs::rename(path, &moved_to) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Lookup::Miss),
            Err(e) => return Err(self.write_error("quarantine", path, e)),
        }
        let note = format!("{}\n{reason}\n", path.display());
        let _ = fs::write(moved_to.with_extension("txt"), note);
        tracing::warn!(key = %key.short(), %reason, "quarantined a corrupt cache entry");
        Ok(Lookup::Quarantined { reason, moved_to })
    }

    /// Deletes the entry for `key`; false if there was none.
    pub fn remove(&self, key: &StageKey) -> Result<bool, CacheError> {
        let path = self.entry_path(key);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(CacheError::io("remove", &path, e)),
        }
    }

    /// Every entry with its stage, size and times, in key order.
    pub fn list(&self) -> Result<Vec<EntryInfo>, CacheError> {
        let mut out = Vec::new();
        for (key, path) in self.entry_files()? {
            let Ok(meta) = fs::metadata(&path) else {
                continue; // removed while listing
            };
            let attrs = read_verified_meta(&path);
            out.push(EntryInfo {
                key,
                stage: attrs.as_ref().map(|a| a.stage.clone()),
                size: meta.len(),
                duration_s: attrs.as_ref().map(|a| a.duration_s),
                created: attrs.map(|a| a.created),
                last_used: meta.accessed().unwrap_or(SystemTime::UNIX_EPOCH),
            });
        }
        Ok(out)
    }

    /// Verifies every entry, quarantining the bad ones.
    pub fn verify_all(&self) -> Result<VerifyReport, CacheError> {
        let mut report = VerifyReport::default();
        for (key, _) in self.entry_files()? {
            match self.get(&key)? {
                Lookup::Hit(_) => report.ok += 1,
                Lookup::Miss => {}
                Lookup::Quarantined { reason, .. } => report.quarantined.push((key, reason)),
            }
        }
        report.temp_files = self.temp_files()?.len();
        Ok(report)
    }

    /// Entry files (`<shard>/<64 hex>.h5`) in key order; anything else is not an entry.
    fn entry_files(&self) -> Result<Vec<(StageKey, PathBuf)>, CacheError> {
        let mut out = Vec::new();
        for shard in self.shards()? {
            for path in read_dir(&shard)? {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if let Some(key) = name
                    .strip_suffix(".h5")
                    .and_then(|s| StageKey::from_str(s).ok())
                {
                    out.push((key, path));
                }
            }
        }
        out.sort();
        Ok(out)
    }

    fn shards(&self) -> Result<Vec<PathBuf>, CacheError> {
        Ok(read_dir(&self.root)?
            .into_iter()
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                name.len() == 2 && name.bytes().all(|b| b.is_ascii_hexdigit()) && p.is_dir()
            })
            .collect())
    }

    fn temp_files(&self) -> Result<Vec<PathBuf>, CacheError> {
        let mut out = Vec::new();
        for shard in self.shards()? {
            out.extend(read_dir(&shard)?.into_iter().filter(|p| is_temp_file(p)));
        }
        Ok(out)
    }

    /// Removes temp files older than `stale_after`: their writers crashed (a live writer
    /// finishes an artifact long before that, and holds the lock's heartbeat meanwhile).
    pub fn sweep_stale_temp_files(&self) -> Result<usize, CacheError> {
        let mut removed = 0;
        for path in self.temp_files()? {
            let old = fs::metadata(&path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > self.options.stale_after);
            if old && fs::remove_file(&path).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

fn is_temp_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.starts_with('.') && name.ends_with(".tmp")
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, CacheError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(CacheError::io("list", dir, e)),
    };
    entries
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(|e| CacheError::io("list", dir, e))
}
