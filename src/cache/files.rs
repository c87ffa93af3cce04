//! Content hashes of input files, with a stat cache so unchanged files are not re-read.
//!
//! The stat cache maps an absolute path to (size, mtime in ns, inode) and the blake3 hash seen
//! for it. Paths live only here, never in a [`StageKey`](super::StageKey): keys use the content
//! hash by song id. A file whose mtime is within [`FileHasher::racy_window`] of the moment it
//! was hashed is not remembered, because a write in the same clock tick would leave its stat
//! unchanged (git's "racy clean" problem); such a file is simply hashed again next time.
//!
//! The stat cache is a folder of files that are written once and never rewritten
//! (`files/<time>-<host>-<pid>-<n>.json`, each run adding the entries it learned), so runs on
//! many machines sharing one cache (Slurm tasks on NFS) never overwrite each other's entries.
//! A run that finds more than [`COMPACT_AT`] of them writes their union as one new file and
//! removes those it read.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::CacheError;
use super::digest::hex_digest;

/// Folder of the stat cache inside the cache folder.
pub const STAT_CACHE_DIR: &str = "files";

/// The single stat cache file of earlier versions, read once and removed at compaction.
const LEGACY_STAT_CACHE_FILE: &str = "files.json";

/// Stat cache files past which a run merges them into one.
pub const COMPACT_AT: usize = 16;

/// Bumped when the meaning of a stat cache entry changes; older files are ignored.
const STAT_CACHE_FORMAT: u32 = 1;

/// The blake3 hash of one input file's bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileHash(pub [u8; 32]);

hex_digest!(FileHash, "file hash");

/// What identifies an unchanged file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct FileStat {
    size: u64,
    mtime_ns: i64,
    inode: u64,
}

impl FileStat {
    fn of(meta: &fs::Metadata) -> Self {
        FileStat {
            size: meta.len(),
            mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
            inode: meta.ino(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StatEntry {
    stat: FileStat,
    hash: FileHash,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct StatCacheFile {
    format: u32,
    entries: BTreeMap<PathBuf, StatEntry>,
}

/// How the last calls were served; for progress messages and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HashStats {
    /// Files whose bytes were read and hashed.
    pub read: usize,
    /// Files served from the stat cache without reading.
    pub from_stat_cache: usize,
}

/// Hashes input files, remembering (path, size, mtime, inode) -> hash across runs.
#[derive(Debug)]
pub struct FileHasher {
    cache_dir: PathBuf,
    /// The stat cache files read, oldest first.
    sources: Vec<PathBuf>,
    entries: BTreeMap<PathBuf, StatEntry>,
    /// The entries learned since opening: what this run's file holds.
    learned: BTreeMap<PathBuf, StatEntry>,
    racy_window: Duration,
    read: AtomicUsize,
    from_stat_cache: AtomicUsize,
    dirty: bool,
}

impl FileHasher {
    /// Loads the stat cache from `cache_dir/files/`; a missing, unreadable or outdated file
    /// is left out (the stat cache only saves time, it never decides correctness).
    pub fn open(cache_dir: &Path) -> Self {
        let sources = stat_cache_files(cache_dir);
        let mut entries = BTreeMap::new();
        // Oldest first, so that a newer file's entry for a path wins.
        for source in &sources {
            let read = fs::read(source)
                .ok()
                .and_then(|bytes| serde_json::from_slice::<StatCacheFile>(&bytes).ok())
                .filter(|file| file.format == STAT_CACHE_FORMAT);
            if let Some(file) = read {
                entries.extend(file.entries);
            }
        }
        FileHasher {
            cache_dir: cache_dir.to_path_buf(),
            sources,
            entries,
            learned: BTreeMap::new(),
            racy_window: Duration::from_secs(2),
            read: AtomicUsize::new(0),
            from_stat_cache: AtomicUsize::new(0),
            dirty: false,
        }
    }

    /// How recent an mtime must be for the file not to be remembered. Default 2 s, which
    /// covers filesystems with coarse timestamps (FAT, some NFS servers).
    pub fn racy_window(mut self, window: Duration) -> Self {
        self.racy_window = window;
        self
    }

    /// Counts since this hasher was opened.
    pub fn stats(&self) -> HashStats {
        HashStats {
            read: self.read.load(Ordering::Relaxed),
            from_stat_cache: self.from_stat_cache.load(Ordering::Relaxed),
        }
    }

    /// The content hash of one file.
    pub fn hash_file(&mut self, path: &Path) -> Result<FileHash, CacheError> {
        let mut hashes = self.hash_files(&[path.to_path_buf()])?;
        Ok(hashes.remove(0))
    }

    /// The content hashes of `paths`, in the same order; misses are hashed in parallel.
    pub fn hash_files(&mut self, paths: &[PathBuf]) -> Result<Vec<FileHash>, CacheError> {
        let looked_up: Vec<(PathBuf, FileStat, Option<FileHash>)> = paths
            .par_iter()
            .map(|path| self.lookup(path))
            .collect::<Result<_, _>>()?;
        let hashed: Vec<(FileHash, bool)> = looked_up
            .par_iter()
            .map(|(path, stat, cached)| match cached {
                Some(hash) => Ok((*hash, false)),
                None => self.read_and_hash(path, stat).map(|h| (h, true)),
            })
            .collect::<Result<_, _>>()?;
        let racy_after = now_ns() - self.racy_window.as_nanos() as i64;
        for ((path, stat, _), (hash, fresh)) in looked_up.into_iter().zip(&hashed) {
            if *fresh && stat.mtime_ns < racy_after {
                let entry = StatEntry { stat, hash: *hash };
                self.entries.insert(path.clone(), entry.clone());
                self.learned.insert(path, entry);
                self.dirty = true;
            }
        }
        Ok(hashed.into_iter().map(|(hash, _)| hash).collect())
    }

    fn lookup(&self, path: &Path) -> Result<(PathBuf, FileStat, Option<FileHash>), CacheError> {
        let absolute = std::path::absolute(path).map_err(|e| CacheError::io("resolve", path, e))?;
        let meta = fs::metadata(&absolute).map_err(|e| CacheError::io("stat", path, e))?;
        let stat = FileStat::of(&meta);
        let cached = self
            .entries
            .get(&absolute)
            .filter(|entry| entry.stat == stat)
            .map(|entry| entry.hash);
        if cached.is_some() {
            self.from_stat_cache.fetch_add(1, Ordering::Relaxed);
        }
        Ok((absolute, stat, cached))
    }

    fn read_and_hash(&self, path: &Path, before: &FileStat) -> Result<FileHash, CacheError> {
        let mut file = fs::File::open(path).map_err(|e| CacheError::io("open", path, e))?;
        let mut hasher = blake3::Hasher::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = file
                .read(&mut buf)
                .map_err(|e| CacheError::io("read", path, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        self.read.fetch_add(1, Ordering::Relaxed);
        // A file rewritten while we read it would be remembered with the new stat and the old
        // bytes' hash; refuse instead of caching a wrong hash.
        let after = file
            .metadata()
            .map_err(|e| CacheError::io("stat", path, e))?;
        if FileStat::of(&after) != *before {
            return Err(CacheError::io(
                "hash",
                path,
                io::Error::other("the file changed while it was being read; run again"),
            ));
        }
        Ok(FileHash(*hasher.finalize().as_bytes()))
    }

    /// Writes what this run learned as a new stat cache file (temp file + rename, so a
    /// crash never leaves half a file), or, past [`COMPACT_AT`] files, everything known as one
    /// file in place of those read. Does nothing when no entry changed.
    ///
    /// A cache folder this run cannot write (a read-only mount, another user's shared cache)
    /// is no error: the stat cache only saves time, so a failed save is logged as a warning
    /// and the files stay as they were.
    pub fn save(&mut self) {
        if let Err(err) = self.write() {
            tracing::warn!(
                "stat cache not saved: {}; input files will be hashed again next run",
                err.with_cause()
            );
        }
    }

    fn write(&mut self) -> Result<(), CacheError> {
        let compact = self.sources.len() > COMPACT_AT;
        if !self.dirty && !compact {
            return Ok(());
        }
        let file = StatCacheFile {
            format: STAT_CACHE_FORMAT,
            entries: match compact {
                true => self.entries.clone(),
                false => std::mem::take(&mut self.learned),
            },
        };
        let json = serde_json::to_vec(&file).expect("stat cache always serializes");
        let dir = self.cache_dir.join(STAT_CACHE_DIR);
        fs::create_dir_all(&dir).map_err(|e| CacheError::io("create", &dir, e))?;
        // Unique among runs (host, process) and within one (a sweep prepares many members).
        static WRITTEN: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "{}-{}-{}-{}.json",
            crate::clock::compact(SystemTime::now()),
            super::lock::hostname(),
            std::process::id(),
            WRITTEN.fetch_add(1, Ordering::Relaxed)
        );
        let target = dir.join(name);
        let tmp = super::store::temp_path_in(&dir, STAT_CACHE_DIR);
        let write = || -> io::Result<()> {
            let mut out = fs::File::create(&tmp)?;
            out.write_all(&json)?;
            out.sync_all()?;
            fs::rename(&tmp, &target)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            CacheError::io("write", &target, e)
        })?;
        if compact {
            // Another run may be reading or compacting them too: whatever is gone is gone.
            for source in self.sources.drain(..) {
                let _ = fs::remove_file(source);
            }
            self.learned.clear();
        }
        self.sources.push(target);
        self.dirty = false;
        Ok(())
    }
}

/// The stat cache files under `cache_dir`, oldest first: the legacy single file, then the
/// folder's files by name (which starts with the time they were written).
fn stat_cache_files(cache_dir: &Path) -> Vec<PathBuf> {
    let legacy = cache_dir.join(LEGACY_STAT_CACHE_FILE);
    let mut files: Vec<PathBuf> = fs::read_dir(cache_dir.join(STAT_CACHE_DIR))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    if legacy.is_file() {
        files.insert(0, legacy);
    }
    files
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}
