//! The store's dealings with the filesystem: crash-safe placement of a finished file, unique
//! temporary names, and what a failed write says about the room left.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A unique temporary name next to `final_name` in `dir`: hidden, with pid and a counter, so
/// concurrent writers (threads or processes) never share one.
pub(crate) fn temp_path_in(dir: &Path, final_name: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".{final_name}.{}.{n}.tmp", std::process::id()))
}

/// fsync the temp file, rename it into place, fsync the folder so the rename survives a crash.
/// The error says which step failed.
pub(super) fn persist(tmp: &Path, target: &Path) -> Result<(), String> {
    fn step(what: &'static str) -> impl Fn(io::Error) -> String {
        move |e| format!("{what}: {e}")
    }
    fs::File::open(tmp)
        .and_then(|f| f.sync_all())
        .map_err(step("sync"))?;
    fs::rename(tmp, target).map_err(step("rename into place"))?;
    // A bare file name's folder is the working folder.
    if let Some(dir) = target.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(step("sync the folder"))?;
    }
    Ok(())
}

/// libhdf5's message without its dump of the low-level write (time, temp file name, buffer
/// address), keeping what failed and the system's reason: `H5Fflush(): unable to flush file's
/// cached information: file write failed: No space left on device`.
pub(super) fn hdf5_cause(message: &str) -> String {
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
pub(super) fn writable(folder: &Path) -> io::Result<()> {
    let path = c_path(folder)?;
    // SAFETY: `path` is a valid NUL-terminated string for the duration of the call.
    if unsafe { libc::access(path.as_ptr(), libc::W_OK) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Bytes an unprivileged process can still write on `folder`'s filesystem, if known.
pub(super) fn free_bytes(folder: &Path) -> Option<u64> {
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
