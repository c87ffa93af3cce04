//! The artifact store: one HDF5 file per artifact, written crash-safely, verified on read.
//!
//! Writes build the file under a temporary name in the entry's shard folder, fsync it, rename
//! it into place and fsync the folder, so a reader sees either no entry or a whole one. A write
//! that fails removes its temporary file and says how much room the entry needed and how much
//! its folder has. Reads check the stored key and the checksums; an entry that fails is moved
//! to `quarantine/` with a note saying why, and reported as [`Lookup::Quarantined`], which
//! callers treat as a miss.
//!
//! Everything an entry holds is checksummed: each file starts with a 512-byte header (an HDF5
//! "user block", which libhdf5 skips) holding the blake3 of every byte after it, attributes
//! and datasets alike. The header is checked before libhdf5 parses a byte, because libhdf5
//! trusts its own metadata: a flipped bit there can crash the process (SIGSEGV, SIGABRT), not
//! just fail a read. All HDF5 I/O happens once per artifact, in `write_h5` and
//! `read_h5`: libhdf5 has one global lock, so per-element calls would serialize every thread.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use hdf5::types::VarLenUnicode;

use super::{CacheError, FileHash, StageInputs, StageKey};
use crate::clock::{compact, rfc3339};

/// Version of the file layout (header, attribute names, dataset types); stored in every
/// entry. Format 1 had no header and checksummed only the datasets; its entries are
/// quarantined once and recomputed.
const FORMAT_VERSION: u32 = 2;

/// Length of the header before the HDF5 data: the smallest user block libhdf5 allows.
const HEADER_LEN: usize = 512;

/// How the header starts; the blake3 (hex) of the rest of the file and a newline follow, then
/// zeros.
const HEADER_MAGIC: &[u8] = b"mer artifact v2\n";

/// How every HDF5 file starts (format 1 entries start with it: they have no header).
const HDF5_SIGNATURE: &[u8] = b"\x89HDF\r\n\x1a\n";

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

/// The values of one array.
#[derive(Debug, Clone, PartialEq)]
pub enum ArrayData {
    /// 32-bit floats (features, weights).
    F32(Vec<f32>),
    /// 64-bit floats (statistics).
    F64(Vec<f64>),
    /// 64-bit integers (indices, labels).
    I64(Vec<i64>),
    /// Bytes (masks, serialized blobs).
    U8(Vec<u8>),
    /// Strings, e.g. song ids; always one-dimensional.
    Str(Vec<String>),
}

impl ArrayData {
    fn len(&self) -> usize {
        match self {
            ArrayData::F32(v) => v.len(),
            ArrayData::F64(v) => v.len(),
            ArrayData::I64(v) => v.len(),
            ArrayData::U8(v) => v.len(),
            ArrayData::Str(v) => v.len(),
        }
    }
}

/// A named array in row-major order with its shape (`[]` is a scalar).
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// The values; their count is the product of `shape`.
    pub data: ArrayData,
}

impl Array {
    /// The values if they are f32.
    pub fn as_f32(&self) -> Option<&[f32]> {
        match &self.data {
            ArrayData::F32(v) => Some(v),
            _ => None,
        }
    }
    /// The values if they are f64.
    pub fn as_f64(&self) -> Option<&[f64]> {
        match &self.data {
            ArrayData::F64(v) => Some(v),
            _ => None,
        }
    }
    /// The values if they are i64.
    pub fn as_i64(&self) -> Option<&[i64]> {
        match &self.data {
            ArrayData::I64(v) => Some(v),
            _ => None,
        }
    }
    /// The values if they are bytes.
    pub fn as_u8(&self) -> Option<&[u8]> {
        match &self.data {
            ArrayData::U8(v) => Some(v),
            _ => None,
        }
    }
    /// The values if they are strings.
    pub fn as_str(&self) -> Option<&[String]> {
        match &self.data {
            ArrayData::Str(v) => Some(v),
            _ => None,
        }
    }
}

/// What an entry records about how it was made; stored as HDF5 attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct ArtifactMeta {
    /// The entry's key (checked against the file name on read).
    pub key: StageKey,
    /// Stage name.
    pub stage: String,
    /// Stage implementation version.
    pub version: u32,
    /// The config slice as a JSON object of dotted paths.
    pub config_json: String,
    /// Upstream keys by role.
    pub upstream: BTreeMap<String, StageKey>,
    /// Input file hashes by song id (extraction stages).
    pub files: BTreeMap<String, FileHash>,
    /// When it was written, RFC 3339 UTC; empty until stored.
    pub created: String,
    /// How long the stage took to compute it.
    pub duration_s: f64,
    /// The `mer` release that wrote it.
    pub mer_version: String,
    /// blake3 (hex) of the entry file after its header: every attribute and dataset, so one
    /// changed byte anywhere fails it. Set when the entry is stored, checked when it is read.
    pub checksum: String,
}

/// One stage's output: named arrays plus [`ArtifactMeta`].
#[derive(Debug, Clone, PartialEq)]
pub struct Artifact {
    /// Provenance and checksum.
    pub meta: ArtifactMeta,
    arrays: BTreeMap<String, Array>,
}

impl Artifact {
    /// An empty artifact for the stage described by `inputs`, keyed by `inputs.key()`.
    pub fn new(inputs: &StageInputs) -> Self {
        Artifact {
            meta: ArtifactMeta {
                key: inputs.key(),
                stage: inputs.stage.clone(),
                version: inputs.version,
                config_json: inputs.config.to_json(),
                upstream: inputs.upstream.clone(),
                files: inputs.files.clone(),
                created: String::new(),
                duration_s: 0.0,
                mer_version: env!("CARGO_PKG_VERSION").to_owned(),
                checksum: String::new(),
            },
            arrays: BTreeMap::new(),
        }
    }

    /// Adds (or replaces) an array. Shapes are checked when the artifact is stored.
    pub fn insert(&mut self, name: impl Into<String>, shape: Vec<usize>, data: ArrayData) {
        self.arrays.insert(name.into(), Array { shape, data });
    }

    /// Adds an f32 array.
    pub fn put_f32(&mut self, name: &str, shape: &[usize], data: Vec<f32>) -> &mut Self {
        self.insert(name, shape.to_vec(), ArrayData::F32(data));
        self
    }
    /// Adds an f64 array.
    pub fn put_f64(&mut self, name: &str, shape: &[usize], data: Vec<f64>) -> &mut Self {
        self.insert(name, shape.to_vec(), ArrayData::F64(data));
        self
    }
    /// Adds an i64 array.
    pub fn put_i64(&mut self, name: &str, shape: &[usize], data: Vec<i64>) -> &mut Self {
        self.insert(name, shape.to_vec(), ArrayData::I64(data));
        self
    }
    /// Adds a byte array.
    pub fn put_u8(&mut self, name: &str, shape: &[usize], data: Vec<u8>) -> &mut Self {
        self.insert(name, shape.to_vec(), ArrayData::U8(data));
        self
    }
    /// Adds a list of strings.
    pub fn put_strings(&mut self, name: &str, data: Vec<String>) -> &mut Self {
        self.insert(name, vec![data.len()], ArrayData::Str(data));
        self
    }

    /// The array called `name`.
    pub fn array(&self, name: &str) -> Option<&Array> {
        self.arrays.get(name)
    }

    /// All arrays in name order.
    pub fn arrays(&self) -> impl Iterator<Item = (&str, &Array)> {
        self.arrays.iter().map(|(k, v)| (k.as_str(), v))
    }

    fn validate(&self) -> Result<(), CacheError> {
        let bad = |problem: String| CacheError::BadArtifact {
            stage: self.meta.stage.clone(),
            problem,
        };
        for (name, array) in &self.arrays {
            if name.is_empty() || name.contains('/') || name.starts_with('.') {
                return Err(bad(format!(
                    "array name '{name}' must be non-empty, without '/' or a leading '.'"
                )));
            }
            let expected: usize = array.shape.iter().product();
            if expected != array.data.len() {
                return Err(bad(format!(
                    "array '{name}' has shape {:?} ({expected} values) but {} values",
                    array.shape,
                    array.data.len()
                )));
            }
            if let ArrayData::Str(items) = &array.data {
                if array.shape.len() != 1 {
                    return Err(bad(format!(
                        "string array '{name}' must be one-dimensional"
                    )));
                }
                if items.iter().any(|s| s.contains('\0')) {
                    return Err(bad(format!(
                        "string array '{name}' contains a NUL character"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Bytes of array data (strings by their UTF-8 length): about what storing it takes.
    fn data_bytes(&self) -> u64 {
        self.arrays
            .values()
            .map(|array| match &array.data {
                ArrayData::F32(v) => 4 * v.len(),
                ArrayData::F64(v) => 8 * v.len(),
                ArrayData::I64(v) => 8 * v.len(),
                ArrayData::U8(v) => v.len(),
                ArrayData::Str(v) => v.iter().map(String::len).sum(),
            } as u64)
            .sum()
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
        let written = write_h5(&tmp, &artifact)
            .map_err(|e| hdf5_cause(&e.to_string()))
            .and_then(|()| seal(&tmp).map_err(|e| format!("write the header: {e}")))
            .and_then(|checksum| persist(&tmp, &target).map(|()| checksum));
        match written {
            Ok(checksum) => {
                artifact.meta.checksum = checksum;
                Ok(artifact)
            }
            Err(cause) => {
                let _ = fs::remove_file(&tmp);
                Err(self.not_stored(&artifact, &shard, cause))
            }
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

/// A unique temporary name next to `final_name` in `dir`: hidden, with pid and a counter, so
/// concurrent writers (threads or processes) never share one.
pub(crate) fn temp_path_in(dir: &Path, final_name: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".{final_name}.{}.{n}.tmp", std::process::id()))
}

/// fsync the temp file, rename it into place, fsync the folder so the rename survives a crash.
/// The error says which step failed.
fn persist(tmp: &Path, target: &Path) -> Result<(), String> {
    fn step(what: &'static str) -> impl Fn(io::Error) -> String {
        move |e| format!("{what}: {e}")
    }
    fs::File::open(tmp)
        .and_then(|f| f.sync_all())
        .map_err(step("sync"))?;
    fs::rename(tmp, target).map_err(step("rename into place"))?;
    if let Some(dir) = target.parent() {
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(step("sync the folder"))?;
    }
    Ok(())
}

/// libhdf5's message without its dump of the low-level write (time, temp file name, buffer
/// address), keeping what failed and the system's reason: `H5Fflush(): unable to flush file's
/// cached information: file write failed: No space left on device`.
fn hdf5_cause(message: &str) -> String {
    let Some((what, details)) = message.split_once(": time = ") else {
        return message.lines().next().unwrap_or_default().to_owned();
    };
    let reason = details
        .split_once("error message = '")
        .and_then(|(_, rest)| rest.split_once('\''))
        .map(|(reason, _)| reason);
    match reason {
        Some(reason) => format!("{what}: {reason}"),
        None => what.to_owned(),
    }
}

/// Whether this process may create files in `folder` (false on a read-only mount even for
/// root, which `access` checks and permission bits do not).
fn writable(folder: &Path) -> io::Result<()> {
    let path = c_path(folder)?;
    // SAFETY: `path` is a valid NUL-terminated string for the duration of the call.
    if unsafe { libc::access(path.as_ptr(), libc::W_OK) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Bytes an unprivileged process can still write on `folder`'s filesystem, if known.
fn free_bytes(folder: &Path) -> Option<u64> {
    let path = c_path(folder).ok()?;
    // SAFETY: statvfs only writes into `stats`, which is valid and zeroed.
    let mut stats: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `path` is NUL-terminated and `stats` is a valid out pointer.
    if unsafe { libc::statvfs(path.as_ptr(), &mut stats) } != 0 {
        return None;
    }
    Some(stats.f_bavail.saturating_mul(stats.f_frsize))
}

/// `path` for a libc call.
fn c_path(path: &Path) -> io::Result<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
}

/// Room for one entry: what its data needed and what the folder's filesystem had left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Room {
    /// Bytes of the entry's array data (the file adds HDF5's metadata).
    pub needed: u64,
    /// Bytes left for this user on the filesystem, if it could be asked.
    pub free: Option<u64>,
}

/// What libhdf5 writes besides the data (object headers, B-trees, the global heap): a few KiB
/// per dataset; with this margin, a folder with less room than data plus margin is full.
const HDF5_OVERHEAD: u64 = 64 * 1024;

impl fmt::Display for Room {
    /// `the disk is full (12 KiB free; the entry needed about 1.5 MiB)`, or without the verdict
    /// when there was room.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let needed = bytes_text(self.needed);
        match self.free {
            Some(free) if free < self.needed + HDF5_OVERHEAD => write!(
                f,
                "the disk is full ({} free; the entry needed about {needed})",
                bytes_text(free)
            ),
            Some(free) => write!(
                f,
                "{} free there; the entry needed about {needed}",
                bytes_text(free)
            ),
            None => write!(f, "the entry needed about {needed}"),
        }
    }
}

/// `512 bytes`, `12.0 KiB`, `1.5 MiB`, `2.3 GiB`.
fn bytes_text(bytes: u64) -> String {
    const UNITS: [&str; 3] = ["KiB", "MiB", "GiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Writes every dataset and attribute in one go, after an empty header; the file is closed
/// when this returns.
fn write_h5(path: &Path, artifact: &Artifact) -> hdf5::Result<()> {
    let file = hdf5::File::with_options()
        .with_fcpl(|p| p.userblock(HEADER_LEN as u64))
        .with_fapl(|p| p.file_locking(false))
        .create(path)?;
    for (name, array) in &artifact.arrays {
        match &array.data {
            ArrayData::F32(v) => write_dataset(&file, name, &array.shape, v)?,
            ArrayData::F64(v) => write_dataset(&file, name, &array.shape, v)?,
            ArrayData::I64(v) => write_dataset(&file, name, &array.shape, v)?,
            ArrayData::U8(v) => write_dataset(&file, name, &array.shape, v)?,
            ArrayData::Str(v) => {
                let values = v
                    .iter()
                    .map(|s| VarLenUnicode::from_str(s))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| hdf5::Error::from(e.to_string()))?;
                write_dataset(&file, name, &array.shape, &values)?;
            }
        }
    }
    let m = &artifact.meta;
    write_attr(&file, "format", &FORMAT_VERSION)?;
    write_str_attr(&file, "key", &m.key.to_string())?;
    write_str_attr(&file, "stage", &m.stage)?;
    write_attr(&file, "version", &m.version)?;
    write_str_attr(&file, "config", &m.config_json)?;
    write_str_attr(&file, "upstream", &to_json(&m.upstream))?;
    write_str_attr(&file, "files", &to_json(&m.files))?;
    write_str_attr(&file, "created", &m.created)?;
    write_attr(&file, "duration_s", &m.duration_s)?;
    write_str_attr(&file, "mer_version", &m.mer_version)?;
    file.flush()?;
    file.close()
}

fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("maps of digests always serialize")
}

fn write_dataset<T: hdf5::H5Type>(
    file: &hdf5::File,
    name: &str,
    shape: &[usize],
    values: &[T],
) -> hdf5::Result<()> {
    let builder = file.new_dataset::<T>();
    let dataset = if shape.is_empty() {
        builder.shape(()).create(name)?
    } else {
        builder.shape(shape.to_vec()).create(name)?
    };
    if !values.is_empty() {
        dataset.write_raw(values)?;
    }
    Ok(())
}

fn write_attr<T: hdf5::H5Type>(file: &hdf5::File, name: &str, value: &T) -> hdf5::Result<()> {
    file.new_attr::<T>()
        .shape(())
        .create(name)?
        .write_scalar(value)
}

fn write_str_attr(file: &hdf5::File, name: &str, value: &str) -> hdf5::Result<()> {
    let value = VarLenUnicode::from_str(value).map_err(|e| hdf5::Error::from(e.to_string()))?;
    write_attr(file, name, &value)
}

fn read_str_attr(file: &hdf5::File, name: &str) -> hdf5::Result<String> {
    Ok(file
        .attr(name)?
        .read_scalar::<VarLenUnicode>()?
        .as_str()
        .to_owned())
}

/// Fills in the header of the HDF5 file at `path` (written with an empty user block): the
/// blake3 of everything after it. Returns that checksum (hex).
fn seal(path: &Path) -> io::Result<String> {
    use std::io::{Seek, SeekFrom, Write};
    let mut file = fs::OpenOptions::new().read(true).write(true).open(path)?;
    file.seek(SeekFrom::Start(HEADER_LEN as u64))?;
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(&mut file)?;
    let checksum = hasher.finalize().to_hex().to_string();
    let mut header = [0u8; HEADER_LEN];
    let text = [HEADER_MAGIC, checksum.as_bytes(), b"\n"].concat();
    header[..text.len()].copy_from_slice(&text);
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&header)?;
    Ok(checksum)
}

/// Checks an entry file's header against the rest of it, with std I/O only, so that libhdf5
/// never parses a changed byte. Returns the checksum; the error is the reason to quarantine.
fn verify_file(path: &Path) -> Result<String, String> {
    let bytes = fs::read(path).map_err(|e| format!("could not read it: {e}"))?;
    if bytes.starts_with(HDF5_SIGNATURE) {
        return Err(
            "written by an older mer in entry format 1, whose checksum left the attributes \
             unchecked; recomputed once in format 2"
                .to_owned(),
        );
    }
    let Some(header) = bytes
        .get(..HEADER_LEN)
        .filter(|h| h.starts_with(HEADER_MAGIC))
    else {
        return Err("not a mer artifact (no header)".to_owned());
    };
    let stored = &header[HEADER_MAGIC.len()..HEADER_MAGIC.len() + 64];
    let actual = blake3::hash(&bytes[HEADER_LEN..]).to_hex();
    if stored != actual.as_bytes() {
        return Err(format!(
            "checksum mismatch (stored {}, computed {actual})",
            String::from_utf8_lossy(stored)
        ));
    }
    Ok(actual.to_string())
}

/// Opens an entry for reading without libhdf5's own file lock. Entries are immutable once
/// renamed into place and the store has its own lock files, so that lock protects nothing
/// here; it fails on filesystems without `flock` (NFS: ENOLCK) and whenever another process
/// holds the file, and a failed open would be taken for corruption and quarantined.
fn open_h5(path: &Path) -> hdf5::Result<hdf5::File> {
    hdf5::File::with_options()
        .with_fapl(|p| p.file_locking(false))
        .open(path)
}

/// An entry's attributes if the entry passes its checksum; its datasets are not parsed.
fn read_verified_meta(path: &Path) -> Option<ArtifactMeta> {
    let checksum = verify_file(path).ok()?;
    let file = open_h5(path).ok()?;
    let mut meta = read_meta(&file).ok()?;
    meta.checksum = checksum;
    Some(meta)
}

/// Reads a whole entry whose file passed its `checksum`; the error is the reason to quarantine
/// it.
fn read_h5(path: &Path, checksum: String) -> Result<Artifact, String> {
    let file = open_h5(path).map_err(|e| format!("not a readable HDF5 file: {e}"))?;
    let mut meta = read_meta(&file).map_err(|e| format!("bad metadata: {e}"))?;
    meta.checksum = checksum;
    let mut arrays = BTreeMap::new();
    let names = file.member_names().map_err(|e| e.to_string())?;
    for name in names {
        let array = read_array(&file, &name).map_err(|e| format!("dataset '{name}': {e}"))?;
        arrays.insert(name, array);
    }
    Ok(Artifact { meta, arrays })
}

fn read_meta(file: &hdf5::File) -> Result<ArtifactMeta, String> {
    let format: u32 = file
        .attr("format")
        .and_then(|a| a.read_scalar())
        .map_err(|e| e.to_string())?;
    if format != FORMAT_VERSION {
        return Err(format!(
            "file format {format}, this mer reads {FORMAT_VERSION}"
        ));
    }
    let text = |name: &str| read_str_attr(file, name).map_err(|e| format!("'{name}': {e}"));
    let json_err = |e: serde_json::Error| e.to_string();
    Ok(ArtifactMeta {
        key: text("key")?
            .parse()
            .map_err(|e: CacheError| e.to_string())?,
        stage: text("stage")?,
        version: file
            .attr("version")
            .and_then(|a| a.read_scalar())
            .map_err(|e| e.to_string())?,
        config_json: text("config")?,
        upstream: serde_json::from_str(&text("upstream")?).map_err(json_err)?,
        files: serde_json::from_str(&text("files")?).map_err(json_err)?,
        created: text("created")?,
        duration_s: file
            .attr("duration_s")
            .and_then(|a| a.read_scalar())
            .map_err(|e| e.to_string())?,
        mer_version: text("mer_version")?,
        checksum: String::new(),
    })
}

fn read_array(file: &hdf5::File, name: &str) -> hdf5::Result<Array> {
    let dataset = file.dataset(name)?;
    let shape = dataset.shape();
    let dtype = dataset.dtype()?;
    let empty = shape.contains(&0);
    // Empty datasets have no storage; reading them is an error in some libhdf5 releases.
    let data = if dtype.is::<f32>() {
        ArrayData::F32(if empty { vec![] } else { dataset.read_raw()? })
    } else if dtype.is::<f64>() {
        ArrayData::F64(if empty { vec![] } else { dataset.read_raw()? })
    } else if dtype.is::<i64>() {
        ArrayData::I64(if empty { vec![] } else { dataset.read_raw()? })
    } else if dtype.is::<u8>() {
        ArrayData::U8(if empty { vec![] } else { dataset.read_raw()? })
    } else if dtype.is::<VarLenUnicode>() {
        let values: Vec<VarLenUnicode> = if empty { vec![] } else { dataset.read_raw()? };
        ArrayData::Str(values.iter().map(|s| s.as_str().to_owned()).collect())
    } else {
        return Err(hdf5::Error::from(format!("unsupported type {dtype:?}")));
    };
    Ok(Array { shape, data })
}

/// The entry must be the one its file name promises.
fn check(key: &StageKey, artifact: Artifact) -> Result<Artifact, String> {
    if artifact.meta.key != *key {
        return Err(format!("file holds key {}, not {key}", artifact.meta.key));
    }
    Ok(artifact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_says_so_with_both_sizes() {
        let full = Room {
            needed: 3 * 1024 * 1024 / 2,
            free: Some(12 * 1024),
        };
        assert_eq!(
            full.to_string(),
            "the disk is full (12.0 KiB free; the entry needed about 1.5 MiB)"
        );
        let roomy = Room {
            needed: 800,
            free: Some(5 << 30),
        };
        assert_eq!(
            roomy.to_string(),
            "5.0 GiB free there; the entry needed about 800 bytes"
        );
        let unknown = Room {
            needed: 2048,
            free: None,
        };
        assert_eq!(unknown.to_string(), "the entry needed about 2.0 KiB");
    }

    #[test]
    fn hdf5_write_errors_keep_the_reason_and_drop_the_temp_file_name() {
        let message = "H5Fflush(): unable to flush file's cached information: file write \
                       failed: time = Thu Dec  3 07:51:22 2026\n, filename = \
                       'cache/85/.8537.h5.29670.3.tmp', file descriptor = 3, errno = 28, error \
                       message = 'No space left on device', buf = 0x7f70040e36e0";
        assert_eq!(
            hdf5_cause(message),
            "H5Fflush(): unable to flush file's cached information: file write failed: \
             No space left on device"
        );
        assert_eq!(
            hdf5_cause("unable to create file\nmore"),
            "unable to create file"
        );
    }
}
