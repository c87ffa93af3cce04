//! Two runs sharing one cache inside one process, as the members of `mer sweep` do: each
//! stage is computed once, and a run never waits for a stage while it holds another's lock.
//!
//! Kept apart from the tests that spawn `mer`: libhdf5 opens files without close-on-exec, so
//! a child spawned by another test while an entry is being written inherits the writer's
//! lock on it, and a read of that entry in this process fails until the child exits.

mod util;

use std::path::{Path, PathBuf};

use util::TestDir;

/// A table dataset of 20 songs in 2 classes: half-second sines (real WAV files) for all,
/// lyrics for half; and a spec over it.
fn table_experiment(dir: &TestDir) -> PathBuf {
    let mut labels = String::from("id,label\n");
    for i in 0..20 {
        let id = format!("s{i:02}");
        let label = if i % 2 == 0 { "calm" } else { "tense" };
        labels.push_str(&format!("{id},{label}\n"));
        let tone = util::sine(220.0 + 20.0 * i as f64, 22_050, 0.5, 0.3);
        dir.write(
            &format!("data/audio/{id}.wav"),
            util::wav_bytes(22_050, 1, &tone),
        );
        if i % 2 == 0 {
            dir.write(&format!("data/lyrics/{id}.txt"), format!("line {i}\n"));
        }
    }
    dir.write("data/labels.csv", labels);
    dir.write(
        "exp.toml",
        "[dataset]\nlayout = \"table\"\nroot = \"data\"\n\
         paths = { audio = \"audio/{id}.wav\", lyrics = \"lyrics/{id}.txt\" }\n\n\
         [modalities.audio]\n[modalities.lyrics]\n\n[split]\nfolds = 3\n\n[schedule]\nepochs = 4\n",
    )
}

/// Hears nothing.
struct Quiet;
impl mer::pipeline::RunObserver for Quiet {}

fn quick_store(dir: &TestDir) -> mer::cache::ArtifactStore {
    let options = mer::cache::StoreOptions {
        lock_poll: std::time::Duration::from_millis(5),
        ..Default::default()
    };
    mer::cache::ArtifactStore::open_with(dir.path("cache"), options).unwrap()
}

fn experiment(path: &Path, store: &mer::cache::ArtifactStore) -> mer::experiment::Experiment {
    let spec = mer::spec::load_spec(path, &[]).unwrap();
    let data = mer::experiment::load_data(&spec).unwrap();
    let mut hasher = mer::cache::FileHasher::open(store.root());
    mer::experiment::Experiment::new(spec, data, &mut hasher).unwrap()
}

/// Two runs of one experiment in one process, at once, as two sweep members sharing stages:
/// every stage is computed by exactly one of them; the other takes it from the cache or
/// waits for it. Neither waits forever for the other.
#[test]
fn two_runs_in_one_process_compute_each_stage_once() {
    let dir = TestDir::new();
    let path = table_experiment(&dir);
    let store = quick_store(&dir);
    let experiment = experiment(&path, &store);
    let (first, second) = std::thread::scope(|scope| {
        let run = || {
            let records = experiment.plan(&store, &Default::default()).unwrap();
            assert!(
                records
                    .iter()
                    .all(|r| r.decision == mer::results::Decision::Miss)
            );
            let pipeline = mer::pipeline::Pipeline::new(&experiment.spec, &experiment.data, &store);
            let (records, error) = pipeline.execute(&experiment.graph, &Default::default(), &Quiet);
            assert!(error.is_none(), "{error:?}");
            records
        };
        let a = scope.spawn(run);
        let b = scope.spawn(run);
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!(first.len(), experiment.graph.nodes.len());
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a.instance, b.instance);
        let computed = [a, b]
            .iter()
            .filter(|r| r.decision == mer::results::Decision::Miss)
            .count();
        assert_eq!(computed, 1, "{} computed once: {a:?} {b:?}", a.instance);
    }
}

/// While another run holds a stage's lock, a run computes the rest of that level before it
/// waits (so it never waits while holding a lock of its own); when the holder gives up, it
/// computes the stage itself.
#[test]
fn a_run_computes_what_it_can_before_waiting_for_a_locked_stage() {
    let dir = TestDir::new();
    let path = table_experiment(&dir);
    let store = quick_store(&dir);
    let experiment = experiment(&path, &store);
    let audio = experiment
        .graph
        .nodes
        .iter()
        .find(|n| n.id.to_string() == "extract.audio")
        .unwrap();
    let lyrics = experiment
        .graph
        .nodes
        .iter()
        .find(|n| n.id.to_string() == "extract.lyrics")
        .unwrap();
    let mer::cache::Acquired::Compute(guard) = store.acquire(&audio.key).unwrap() else {
        panic!("nobody else holds it");
    };
    // One worker thread: a run that waited for audio before computing lyrics would wait
    // forever here.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let records = std::thread::scope(|scope| {
        let run = scope.spawn(|| {
            let pipeline = mer::pipeline::Pipeline::new(&experiment.spec, &experiment.data, &store);
            pool.install(|| pipeline.execute(&experiment.graph, &Default::default(), &Quiet))
        });
        let waited = std::time::Instant::now();
        while !store.entry_path(&lyrics.key).is_file() {
            assert!(
                waited.elapsed().as_secs() < 30,
                "the other extraction of the level never ran while audio was locked"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(!store.entry_path(&audio.key).is_file());
        drop(guard); // the holder gives up without committing
        run.join().unwrap()
    });
    let (records, error) = records;
    assert!(error.is_none(), "{error:?}");
    let audio_record = records
        .iter()
        .find(|r| r.instance == "extract.audio")
        .unwrap();
    assert_eq!(audio_record.decision, mer::results::Decision::Miss);
    assert_eq!(records.len(), experiment.graph.nodes.len());
}
