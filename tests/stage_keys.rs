//! Stage keys pinned across refactors: a key is what decides whether a user's cache still
//! serves a stage, so restructuring code must leave the keys of unchanged stages exactly as
//! they were. The expected keys were printed by `mer plan` before the typed stage protocol
//! (issue 16) landed; a change here means every user's cache misses, and must be a deliberate
//! version bump named in the change, never a side effect. Bumps so far: the lyrics vectors'
//! `VERSION` 3 (LRC text read as its sung text, issue 22) moved `extract.lyrics` and the stages
//! after it; audio, MIDI and split keys are those of issue 16.

mod util;

use std::collections::BTreeMap;

use util::{TestDir, output};

/// `mer plan exp.toml` as instance -> short key.
fn planned_keys(dir: &TestDir) -> BTreeMap<String, String> {
    let (ok, stdout, stderr) = output(dir.mer().args(["plan", "exp.toml"]));
    assert!(ok, "mer plan failed: {stderr}");
    stdout
        .lines()
        .skip_while(|line| !line.starts_with("stage"))
        .skip(1)
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let instance = words.next()?;
            let key = words.next()?;
            (key.len() == 12).then(|| (instance.to_string(), key.to_string()))
        })
        .collect()
}

fn assert_keys(dir: &TestDir, expected: &[(&str, &str)]) {
    let keys = planned_keys(dir);
    let expected: BTreeMap<String, String> = expected
        .iter()
        .map(|(i, k)| (i.to_string(), k.to_string()))
        .collect();
    assert_eq!(keys, expected, "stage keys changed");
}

#[test]
fn keys_of_every_stage_kind_are_pinned() {
    let dir = TestDir::new();
    dir.write_demo(30, 2, 5);
    dir.write(
        "exp.toml",
        "[dataset]\nlayout = \"mirex-like\"\nroot = \"data\"\n\
         [modalities.audio]\nn_mels = 64\n[modalities.lyrics]\nhash_dims = 256\n\
         [modalities.midi]\n[normalize]\nmethod = \"robust\"\n[model]\nhead_width = 32\n\
         [schedule]\nepochs = 7\n[split]\nfolds = 2\ntest_fraction = 0.25\n",
    );
    assert_keys(
        &dir,
        &[
            ("extract.audio", "cbf9eb52544d"),
            ("extract.lyrics", "15bd0ac53400"),
            ("extract.midi", "9592a18bdb0f"),
            ("split@42", "da729ab87e01"),
            ("normalize[0]@42", "8e612ac603e3"),
            ("train[0]@42", "0076428f8a2e"),
            ("normalize[1]@42", "0f33540ad453"),
            ("train[1]@42", "8a2d56a90f92"),
            ("evaluate@42", "c1735acc224f"),
        ],
    );
}

#[test]
fn keys_of_a_precomputed_modality_are_pinned() {
    let dir = TestDir::new();
    dir.write_demo(30, 2, 5);
    let mut csv = String::from("id,e0,e1\n");
    for i in 1..=30 {
        csv.push_str(&format!(
            "{i:03},{:?},{:?}\n",
            i as f64 * 0.5,
            (i % 7) as f64
        ));
    }
    dir.write("emb.csv", csv);
    dir.write(
        "exp.toml",
        "seeds = [3, 4]\n[dataset]\nlayout = \"mirex-like\"\nroot = \"data\"\n\
         [modalities.audio]\nextractor = \"precomputed\"\nprecomputed = { path = \"emb.csv\" }\n\
         [modalities.lyrics]\n[split]\nfolds = 2\ntest_fraction = 0.25\n",
    );
    assert_keys(
        &dir,
        &[
            ("extract.audio", "ebd6503fea98"),
            ("extract.lyrics", "792a76bc35fc"),
            ("split@3", "dc7e7e5c3e43"),
            ("normalize[0]@3", "bbce026d7dc1"),
            ("train[0]@3", "d1c73f1b7bdf"),
            ("normalize[1]@3", "4012cdda39b9"),
            ("train[1]@3", "595ad80d0ada"),
            ("evaluate@3", "1ebb28f8f0a8"),
            ("split@4", "1de0cce3ffda"),
            ("normalize[0]@4", "803af1058d36"),
            ("train[0]@4", "0a45be6d734d"),
            ("normalize[1]@4", "49d27ca667e8"),
            ("train[1]@4", "01ca52ab199b"),
            ("evaluate@4", "7169274cadc1"),
        ],
    );
}

/// Late fusion's combination is chosen after training: stacking changes the evaluate key
/// alone, so switching it reruns evaluation and never training; separate training changes the
/// train keys.
#[test]
fn late_fusion_combination_reruns_evaluation_alone() {
    let dir = TestDir::new();
    dir.write_demo(30, 2, 5);
    let spec = |late: &str| {
        format!(
            "[dataset]\nlayout = \"mirex-like\"\nroot = \"data\"\n\
             [modalities.audio]\n[modalities.lyrics]\n\
             [model]\nfusion = \"late\"\n{late}\n[split]\nfolds = 2\n"
        )
    };
    let keys_of = |late: &str| {
        dir.write("exp.toml", spec(late));
        planned_keys(&dir)
    };
    let average = keys_of("");
    let stacking = keys_of("late = { combine = \"stacking\" }");
    let separate = keys_of("late = { training = \"separate\" }");
    assert_eq!(average.len(), stacking.len());
    for (instance, key) in &average {
        let stage = instance.split(['[', '@']).next().unwrap();
        assert_eq!(
            stacking[instance] != *key,
            stage == "evaluate",
            "{instance}"
        );
        assert_eq!(
            separate[instance] != *key,
            stage == "train" || stage == "evaluate",
            "{instance}"
        );
    }
}
