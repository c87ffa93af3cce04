//! Files an extractor loads once per process and shares between the songs it extracts in
//! parallel (a lexicon, a network's weights): loading one per song would dominate extraction.
//! A file is loaded again when its modification time or length changes.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

/// What identifies one version of a file on disk.
type Stamp = (Option<SystemTime>, u64);

/// Loaded values by type and file.
type Loaded = HashMap<(TypeId, PathBuf), (Stamp, Arc<dyn Any + Send + Sync>)>;

/// `load(path)` once per version of the file at `path` (its stamp is read by
/// `std::fs::metadata`, whose error `io_error` turns into `E`); later calls share the value.
/// Errors are not kept: a file fixed meanwhile loads on the next call.
pub(crate) fn load_shared<T, E>(
    path: &Path,
    io_error: impl FnOnce(std::io::Error) -> E,
    load: impl FnOnce(&Path) -> Result<T, E>,
) -> Result<Arc<T>, E>
where
    T: Send + Sync + 'static,
{
    static LOADED: OnceLock<Mutex<Loaded>> = OnceLock::new();
    let meta = std::fs::metadata(path).map_err(io_error)?;
    let stamp = (meta.modified().ok(), meta.len());
    let key = (TypeId::of::<T>(), path.to_path_buf());
    let loaded = LOADED.get_or_init(Default::default);
    if let Some((seen, value)) = lock(loaded).get(&key)
        && *seen == stamp
        && let Ok(value) = Arc::clone(value).downcast::<T>()
    {
        return Ok(value);
    }
    let value = Arc::new(load(path)?);
    let shared: Arc<dyn Any + Send + Sync> = value.clone();
    lock(loaded).insert(key, (stamp, shared));
    Ok(value)
}

/// A poisoned lock only means another thread panicked mid-insert; the map is still usable.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_once_per_file_version_and_keeps_no_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("weights");
        std::fs::write(&path, "1").unwrap();
        let read = |p: &Path| std::fs::read_to_string(p);
        let first = load_shared(&path, |e| e, read).unwrap();
        let again = load_shared(
            &path,
            |e| e,
            |_| -> Result<String, _> { panic!("reloaded") },
        );
        assert!(Arc::ptr_eq(&first, &again.unwrap()));
        std::fs::write(&path, "22").unwrap();
        assert_eq!(*load_shared(&path, |e| e, read).unwrap(), "22");
        std::fs::remove_file(&path).unwrap();
        assert!(load_shared(&path, |e| e, read).is_err());
    }
}
