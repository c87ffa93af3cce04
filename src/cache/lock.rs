//! "One computes, the others wait" for a missing key, across threads, processes and hosts.
//!
//! The lock is a file `<key>.lock` next to the entry, created with `O_CREAT | O_EXCL`
//! (atomic on local filesystems and on NFSv3+), holding the holder's host, pid and start time.
//! While computing, the holder's heartbeat thread refreshes the lock's mtime. Waiters poll
//! until the entry appears (done) or the lock disappears (the holder failed: try to take it).
//!
//! A lock is stale when its holder is on this host and its pid is gone or a zombie (it exited
//! and its parent has not reaped it: it will never commit), or when its mtime is
//! older than [`StoreOptions::stale_after`](super::StoreOptions::stale_after) (holders on
//! other hosts, or a pid reused by an unrelated process). A stale lock is renamed aside
//! before it is deleted, and the inode is checked, so two waiters breaking the same stale lock
//! cannot delete the new lock one of them just created. A waiter says once who holds the
//! lock and since when, so a long wait is never silent.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::{Instant, SystemTime};

use serde::{Deserialize, Serialize};

use super::store::temp_path_in;
use super::{Artifact, ArtifactStore, CacheError, Lookup, StageKey};
use crate::clock::rfc3339;

/// The outcome of [`ArtifactStore::acquire`].
#[derive(Debug)]
pub enum Acquired {
    /// Nobody has the entry: compute it, then [`LockGuard::commit`].
    Compute(LockGuard),
    /// The entry exists (perhaps computed by another process while we waited).
    Ready(Artifact),
}

/// The outcome of [`ArtifactStore::try_acquire`].
#[derive(Debug)]
pub enum Attempt {
    /// Nobody has the entry: compute it, then [`LockGuard::commit`].
    Compute(LockGuard),
    /// The entry exists.
    Ready(Artifact),
    /// A live holder is computing it; ask again later (or [`ArtifactStore::acquire`]).
    Busy,
}

/// What a lock file says about its holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// Hostname of the holder.
    pub host: String,
    /// Process id of the holder.
    pub pid: u32,
    /// When it took the lock (RFC 3339).
    pub started: String,
}

impl LockInfo {
    fn current() -> Self {
        LockInfo {
            host: hostname(),
            pid: std::process::id(),
            started: rfc3339(SystemTime::now()),
        }
    }
}

/// The right to compute one key. Dropping it without [`commit`](Self::commit) (an error, a
/// panic) releases the lock so a waiter can take over.
#[derive(Debug)]
pub struct LockGuard {
    store: ArtifactStore,
    key: StageKey,
    path: PathBuf,
    inode: u64,
    started: Instant,
    heartbeat: Option<(mpsc::Sender<()>, thread::JoinHandle<()>)>,
}

impl LockGuard {
    /// The key being computed.
    pub fn key(&self) -> StageKey {
        self.key
    }

    /// Stores the artifact (its duration measured from when the lock was taken) and releases
    /// the lock. Waiters then find the entry.
    pub fn commit(self, artifact: Artifact) -> Result<Artifact, CacheError> {
        if artifact.meta.key != self.key {
            return Err(CacheError::BadArtifact {
                stage: artifact.meta.stage,
                problem: format!(
                    "committed key {} under the lock for {}",
                    artifact.meta.key, self.key
                ),
            });
        }
        self.store.put(artifact, self.started.elapsed())
        // `self` drops here: the entry is in place before the lock disappears, so a waiter
        // that sees the lock gone finds the entry.
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if let Some((stop, thread)) = self.heartbeat.take() {
            drop(stop);
            let _ = thread.join();
        }
        // Only remove the lock if it is still ours: if our heartbeat stalled past the stale
        // timeout, another process may have taken over.
        if fs::metadata(&self.path).is_ok_and(|m| m.ino() == self.inode) {
            let _ = fs::remove_file(&self.path);
        }
    }
}

impl ArtifactStore {
    /// The lock file path for `key`.
    pub fn lock_path(&self, key: &StageKey) -> PathBuf {
        self.shard_dir(key).join(format!("{key}.lock"))
    }

    /// Returns the entry for `key`, or the lock to compute it, waiting while another live
    /// process computes it. A quarantined entry counts as missing.
    pub fn acquire(&self, key: &StageKey) -> Result<Acquired, CacheError> {
        let mut told = false;
        loop {
            match self.try_acquire(key)? {
                Attempt::Ready(artifact) => return Ok(Acquired::Ready(artifact)),
                Attempt::Compute(guard) => return Ok(Acquired::Compute(guard)),
                Attempt::Busy => {
                    if !told {
                        told = true;
                        self.tell_holder(key);
                    }
                    thread::sleep(self.options.lock_poll);
                }
            }
        }
    }

    /// Logs who holds `key`'s lock and since when, and how long before a silent holder is
    /// taken over.
    fn tell_holder(&self, key: &StageKey) {
        let holder = read_holder(&self.lock_path(key)).map_or_else(
            || "a process that is still writing its lock".to_owned(),
            |info| format!("pid {} on {} since {}", info.pid, info.host, info.started),
        );
        tracing::info!(
            "waiting for cache entry {}: {holder} is computing it (a holder whose lock goes \
             {} s without a heartbeat is taken over)",
            key.short(),
            self.options.stale_after.as_secs()
        );
    }

    /// [`acquire`](Self::acquire) without waiting: [`Attempt::Busy`] when a live holder
    /// computes the entry. A caller that holds other locks must not wait for this one (two
    /// processes each waiting for the other's entry would wait forever), so it computes what
    /// it holds first, releases it, and only then waits.
    pub fn try_acquire(&self, key: &StageKey) -> Result<Attempt, CacheError> {
        let shard = self.shard_dir(key);
        let lock = self.lock_path(key);
        loop {
            if let Lookup::Hit(artifact) = self.get(key)? {
                return Ok(Attempt::Ready(artifact));
            }
            // Only a miss writes: a read-only cache serves its hits.
            fs::create_dir_all(&shard).map_err(|e| self.write_error("create", &shard, e))?;
            match create_lock(&lock) {
                Ok(inode) => {
                    let guard = self.guard(*key, lock.clone(), inode);
                    // The holder before us may have committed between our lookup and our
                    // create: look once more so we never compute twice.
                    if let Lookup::Hit(artifact) = self.get(key)? {
                        drop(guard);
                        return Ok(Attempt::Ready(artifact));
                    }
                    return Ok(Attempt::Compute(guard));
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    let Some((inode, why)) = self.stale_lock(&lock) else {
                        return Ok(Attempt::Busy);
                    };
                    tracing::warn!("taking over the lock of cache entry {}: {why}", key.short());
                    break_lock(&lock, inode);
                }
                Err(e) => return Err(self.write_error("create lock", &lock, e)),
            }
        }
    }

    fn guard(&self, key: StageKey, path: PathBuf, inode: u64) -> LockGuard {
        let (stop, stopped) = mpsc::channel::<()>();
        let interval = self.options.heartbeat;
        let beat_path = path.clone();
        let thread = thread::spawn(move || {
            // recv_timeout returns early (Disconnected) as soon as the guard drops the sender.
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                touch(&beat_path);
            }
        });
        LockGuard {
            store: self.clone(),
            key,
            path,
            inode,
            started: Instant::now(),
            heartbeat: Some((stop, thread)),
        }
    }

    /// The lock's inode and why its holder counts as gone; `None` if it is alive (or the lock
    /// vanished).
    fn stale_lock(&self, lock: &Path) -> Option<(u64, String)> {
        let meta = fs::metadata(lock).ok()?;
        let age = meta.modified().ok()?.elapsed().unwrap_or_default();
        let holder = read_holder(lock);
        let who = holder.as_ref().map_or_else(
            || "its holder".to_owned(),
            |info| format!("pid {} on {}", info.pid, info.host),
        );
        if age > self.options.stale_after {
            let why = format!("{who} has not refreshed it for {} s", age.as_secs());
            return Some((meta.ino(), why));
        }
        // A lock being written may still be empty: unparsable means "not known to be dead".
        let info = holder?;
        if info.host != hostname() {
            return None;
        }
        let why = match process_state(info.pid) {
            ProcessState::Running => return None,
            ProcessState::Gone => format!("{who} has exited"),
            ProcessState::Zombie => format!("{who} has exited (a zombie its parent never reaped)"),
        };
        Some((meta.ino(), why))
    }
}

/// What a lock file says about its holder; `None` while it is still being written.
fn read_holder(lock: &Path) -> Option<LockInfo> {
    serde_json::from_slice(&fs::read(lock).ok()?).ok()
}

/// Creates the lock file exclusively and writes our [`LockInfo`]; returns its inode.
fn create_lock(path: &Path) -> io::Result<u64> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    let info = serde_json::to_vec(&LockInfo::current()).expect("lock info serializes");
    let written = file.write_all(&info).and_then(|()| file.sync_all());
    if let Err(e) = written {
        let _ = fs::remove_file(path);
        return Err(e);
    }
    Ok(file.metadata()?.ino())
}

/// Removes a stale lock: rename aside (atomic, only one breaker wins), then make sure the
/// file we took is the stale one and not a fresh lock created in between; if it is fresh,
/// put it back with `link`, which fails rather than overwrite a newer lock.
fn break_lock(lock: &Path, stale_inode: u64) {
    let dir = lock.parent().unwrap_or(Path::new("."));
    let name = lock.file_name().and_then(|n| n.to_str()).unwrap_or("lock");
    let aside = temp_path_in(dir, name);
    if fs::rename(lock, &aside).is_err() {
        return; // another waiter broke it first
    }
    if fs::metadata(&aside).is_ok_and(|m| m.ino() != stale_inode) {
        let _ = fs::hard_link(&aside, lock);
    }
    let _ = fs::remove_file(&aside);
}

fn touch(path: &Path) {
    if let Ok(file) = fs::File::options().append(true).open(path) {
        let _ = file.set_modified(SystemTime::now());
    }
}

/// Whether a process on this host can still commit what it locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProcessState {
    /// It exists and has not exited.
    Running,
    /// No such process.
    Gone,
    /// It exited but its parent has not reaped it; the pid stays taken, the work is lost.
    Zombie,
}

fn process_state(pid: u32) -> ProcessState {
    let Ok(id) = libc::pid_t::try_from(pid) else {
        return ProcessState::Gone;
    };
    // SAFETY: kill with signal 0 sends nothing; it only checks that the pid exists.
    let rc = unsafe { libc::kill(id, 0) };
    let exists = rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    if !exists {
        ProcessState::Gone
    } else if linux_state(pid).is_some_and(|state| state == 'Z' || state == 'X') {
        ProcessState::Zombie
    } else {
        ProcessState::Running
    }
}

/// The state letter of `/proc/PID/stat` (`R`, `S`, `Z`, ...); `None` where there is no
/// `/proc` (not Linux), which leaves the process counted as running.
fn linux_state(pid: u32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name in parentheses may itself contain spaces and parentheses: the state
    // follows the last ')'.
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// This machine's hostname (uname's nodename, which is what gethostname(2) returns on Linux).
pub fn hostname() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}
