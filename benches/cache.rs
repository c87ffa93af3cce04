//! Timings of the cache's hot paths, printed with the reference they compare against in the
//! same invocation: re-hashing from the stat cache against hashing cold, and a verified read
//! against the write. Run with `cargo bench --bench cache`.

use std::fs;
use std::time::{Duration, Instant, SystemTime};

use mer::cache::{Artifact, ArtifactStore, ConfigSlice, FileHasher, StageInputs};

fn time<T>(label: &str, f: impl FnOnce() -> T) -> (T, f64) {
    let started = Instant::now();
    let out = f();
    let ms = started.elapsed().as_secs_f64() * 1e3;
    println!("{label:<50} {ms:>10.2} ms");
    (out, ms)
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    fs::create_dir_all(&data).unwrap();
    let old = SystemTime::now() - Duration::from_secs(3600);
    let paths: Vec<_> = (0..200)
        .map(|i| {
            let path = data.join(format!("{i:03}.mp3"));
            fs::write(&path, vec![i as u8; 1 << 20]).unwrap();
            fs::File::options()
                .append(true)
                .open(&path)
                .unwrap()
                .set_modified(old)
                .unwrap();
            path
        })
        .collect();

    let cache = dir.path().join("cache");
    let mut hasher = FileHasher::open(&cache);
    let (hashes, cold) = time("hash 200 x 1 MiB files (cold, parallel)", || {
        hasher.hash_files(&paths).unwrap()
    });
    hasher.save();
    let mut hasher = FileHasher::open(&cache);
    let (_, warm) = time("hash 200 files again (stat cache, new hasher)", || {
        hasher.hash_files(&paths).unwrap()
    });
    assert_eq!(
        hasher.stats().read,
        0,
        "every file must come from the stat cache"
    );
    println!(
        "{:<50} {:>10.1}x",
        "stat cache speed-up over cold hashing",
        cold / warm
    );

    let mut inputs = StageInputs::new("extract.audio", 1)
        .config(ConfigSlice::new().with("extract.audio.n_mels", 64_i64));
    for i in 0..903 {
        inputs = inputs.file(format!("{i:03}"), hashes[i % hashes.len()]);
    }
    time("stage key over 903 input files (x1000)", || {
        for _ in 0..1000 {
            std::hint::black_box(inputs.key());
        }
    });

    let store = ArtifactStore::open(&cache).unwrap();
    let mut artifact = Artifact::new(&inputs);
    let values: Vec<f32> = (0..903 * 2048).map(|i| (i as f32).sin()).collect();
    artifact
        .put_f32("embeddings", &[903, 2048], values)
        .put_strings("song_ids", (0..903).map(|i| format!("{i:03}")).collect());
    let key = inputs.key();
    let (_, put) = time("put 903 x 2048 f32 (7.4 MB) + 903 ids", || {
        store.put(artifact, Duration::ZERO).unwrap()
    });
    let (_, get) = time("get + verify the same entry", || {
        store.get(&key).unwrap().hit().unwrap()
    });
    println!(
        "{:<50} {:>10.2}x",
        "verified read time / write time",
        get / put
    );
    time("acquire (hit)", || store.acquire(&key).unwrap());
}
