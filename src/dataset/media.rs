//! Media folders as listings of file names, so files are matched by name without a `stat` per
//! song, extensions match case-insensitively (`001.MP3`), and leftovers can be reported as
//! unlisted.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

/// The entries of one folder (not recursive), with which ones a song has claimed.
#[derive(Debug)]
pub(super) struct FolderIndex {
    entries: Vec<Entry>,
    by_name: HashMap<String, usize>,
    by_lower: HashMap<String, usize>,
}

#[derive(Debug)]
struct Entry {
    name: String,
    path: PathBuf,
    claimed: bool,
}

impl FolderIndex {
    /// Lists `folder`; `Ok(None)` when it does not exist.
    pub(super) fn read(folder: &Path) -> io::Result<Option<FolderIndex>> {
        let reader = match std::fs::read_dir(folder) {
            Ok(reader) => reader,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err),
        };
        let mut entries = Vec::new();
        for entry in reader {
            let entry = entry?;
            entries.push(Entry {
                name: entry.file_name().to_string_lossy().into_owned(),
                path: entry.path(),
                claimed: false,
            });
        }
        // Directory order is arbitrary; sorting keeps reports stable across machines.
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        let mut by_name = HashMap::new();
        let mut by_lower = HashMap::new();
        for (i, entry) in entries.iter().enumerate() {
            by_name.insert(entry.name.clone(), i);
            by_lower.entry(entry.name.to_lowercase()).or_insert(i);
        }
        Ok(Some(FolderIndex {
            entries,
            by_name,
            by_lower,
        }))
    }

    /// The file called `name` (exactly, else ignoring case), marked as claimed. Folders never
    /// match.
    pub(super) fn claim(&mut self, name: &str) -> Option<PathBuf> {
        let index = self
            .by_name
            .get(name)
            .or_else(|| self.by_lower.get(&name.to_lowercase()))
            .copied()?;
        let entry = &mut self.entries[index];
        if !entry.path.is_file() {
            return None;
        }
        entry.claimed = true;
        Some(entry.path.clone())
    }

    /// Entries no song claimed, by name, as `(name, path)`.
    pub(super) fn unclaimed(&self) -> impl Iterator<Item = (&str, &Path)> {
        self.entries
            .iter()
            .filter(|e| !e.claimed)
            .map(|e| (e.name.as_str(), e.path.as_path()))
    }
}

/// `parent/name`, or the child of `parent` whose name equals `name` ignoring case (archives
/// unpacked on case-insensitive systems spell folders either way).
pub(super) fn child_ignoring_case(parent: &Path, name: &str) -> PathBuf {
    let exact = parent.join(name);
    if exact.exists() {
        return exact;
    }
    let Ok(reader) = std::fs::read_dir(parent) else {
        return exact;
    };
    reader
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().eq_ignore_ascii_case(name))
        .map(|e| e.path())
        .unwrap_or(exact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_ignore_extension_case_and_leave_the_rest_unclaimed() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["001.MP3", "002.mp3", "notes.txt"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        std::fs::create_dir(dir.path().join("003.mp3")).unwrap();
        let mut index = FolderIndex::read(dir.path()).unwrap().unwrap();
        assert_eq!(index.claim("001.mp3"), Some(dir.path().join("001.MP3")));
        assert_eq!(index.claim("002.mp3"), Some(dir.path().join("002.mp3")));
        assert_eq!(index.claim("003.mp3"), None);
        assert_eq!(index.claim("004.mp3"), None);
        let left: Vec<&str> = index.unclaimed().map(|(name, _)| name).collect();
        assert_eq!(left, ["003.mp3", "notes.txt"]);
    }

    #[test]
    fn missing_folder_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            FolderIndex::read(&dir.path().join("nope"))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn child_matches_folder_name_ignoring_case() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("audio")).unwrap();
        assert_eq!(
            child_ignoring_case(dir.path(), "Audio"),
            dir.path().join("audio")
        );
        assert_eq!(
            child_ignoring_case(dir.path(), "MIDIs"),
            dir.path().join("MIDIs")
        );
    }
}
