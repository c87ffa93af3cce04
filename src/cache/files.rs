//! Content hashes of input files, with a stat cache so unchanged files are not re-read.
//!
//! The stat cache maps an absolute path to (size, mtime in ns, inode) and the blake3 hash seen
//! for it. Paths live only here, never in a [`StageKey`](super::StageKey): keys use the content
//! hash by song id. A file whose mtime is within [`FileHasher::racy_window`] of the moment it
//! was hashed is not remembered, because a write in the same clock tick would leave its stat
//! unchanged (git's "racy clean" problem); such a file is simply hashed again next time.

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

/// File name of the stat cache inside the cache folder.
pub const STAT_CACHE_FILE: &str = "files.json";

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
    cache_file: PathBuf,
    entries: BTreeMap<PathBuf, StatEntry>,
    racy_window: Duration,
    read: AtomicUsize,
    from_stat_cache: AtomicUsize,
    dirty: bool,
}

impl FileHasher {
    /// Loads the stat cache from `cache_dir/files.json`; a missing, unreadable or outdated
    /// file starts an empty cache (it only saves time, it never decides correctness).
    pub fn open(cache_dir: &Path) -> Self {
        let cache_file = cache_dir.join(STAT_CACHE_FILE);
        let entries = fs::read(&cache_file)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<StatCacheFile>(&bytes).ok())
            .filter(|file| file.format == STAT_CACHE_FORMAT)
            .map(|file| file.entries)
            .unwrap_or_default();
        FileHasher {
            cache_file,
            entries,
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
                self.entries.insert(path, StatEntry { stat, hash: *hash });
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

    /// Writes the stat cache (temp file + rename, so a crash never leaves half a file).
    /// Does nothing when no entry changed.
    ///
    /// A cache folder this run cannot write (a read-only mount, another user's shared cache)
    /// is no error: the stat cache only saves time, so a failed save is logged as a warning
    /// and the file stays as it was.
    pub fn save(&mut self) {
        if let Err(err) = self.write() {
            tracing::warn!(
                "stat cache not saved: {}; input files will be hashed again next run",
                err.with_cause()
            );
        }
    }

    fn write(&mut self) -> Result<(), CacheError> {
        if !self.dirty {
            return Ok(());
        }
        let file = StatCacheFile {
            format: STAT_CACHE_FORMAT,
            entries: self.entries.clone(),
        };
        let json = serde_json::to_vec(&file).expect("stat cache always serializes");
        let dir = self.cache_file.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(|e| CacheError::io("create", dir, e))?;
        let tmp = super::store::temp_path_in(dir, STAT_CACHE_FILE);
        let write = || -> io::Result<()> {
            let mut out = fs::File::create(&tmp)?;
            out.write_all(&json)?;
            out.sync_all()?;
            fs::rename(&tmp, &self.cache_file)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            CacheError::io("write", &self.cache_file, e)
        })?;
        self.dirty = false;
        Ok(())
    }
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}
