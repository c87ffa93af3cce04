//! Where resolved specs differ: each `spec.toml` flattened to dotted key paths
//! (`schedule.epochs`), and only the keys whose values are not the same in every run.
//!
//! A table that some runs have and others lack (a dropped `[modalities.lyrics]`) is one
//! difference, `modalities.lyrics` = `present` / absent; its keys are not listed again unless
//! they also differ between the runs that have the table. `name` is left out: it is the
//! run's label already.

use std::collections::{BTreeMap, BTreeSet};

/// Keys that never count as a difference.
const IGNORED: [&str; 1] = ["name"];
/// The value shown for a table that a run has.
pub const PRESENT: &str = "present";

/// One spec key whose values differ between the runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecDifference {
    /// Dotted key path, e.g. `augment.mixup_alpha` or `modalities.lyrics`.
    pub key: String,
    /// Per run, in the order given: the value as TOML writes it (strings unquoted), or `None`
    /// where the run's spec has no such key.
    pub values: Vec<Option<String>>,
}

/// A spec as leaves (dotted path -> value text) and the dotted paths of its tables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlatSpec {
    /// Every non-table value.
    pub leaves: BTreeMap<String, String>,
    /// Every table, nested ones included.
    pub tables: BTreeSet<String>,
}

/// Flattens `spec` into dotted paths.
pub fn flatten(spec: &toml::Table) -> FlatSpec {
    let mut flat = FlatSpec::default();
    flatten_into(spec, "", &mut flat);
    flat
}

fn flatten_into(table: &toml::Table, prefix: &str, flat: &mut FlatSpec) {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(inner) => {
                flat.tables.insert(path.clone());
                flatten_into(inner, &path, flat);
            }
            toml::Value::String(text) => {
                flat.leaves.insert(path, text.clone());
            }
            other => {
                flat.leaves.insert(path, other.to_string());
            }
        }
    }
}

/// The keys whose values differ between `specs`, sorted by key.
pub fn differences(specs: &[&toml::Table]) -> Vec<SpecDifference> {
    let flats: Vec<FlatSpec> = specs.iter().map(|s| flatten(s)).collect();
    let tables: BTreeSet<&String> = flats.iter().flat_map(|f| &f.tables).collect();
    let leaves: BTreeSet<&String> = flats.iter().flat_map(|f| f.leaves.keys()).collect();
    let mut found = Vec::new();
    for table in tables {
        let values: Vec<Option<String>> = flats
            .iter()
            .map(|f| f.tables.contains(table).then(|| PRESENT.to_string()))
            .collect();
        if differ(&values) && !absence_explained(table, &values, &flats) {
            found.push(SpecDifference {
                key: table.clone(),
                values,
            });
        }
    }
    for leaf in leaves {
        if IGNORED.contains(&leaf.as_str()) {
            continue;
        }
        let values: Vec<Option<String>> =
            flats.iter().map(|f| f.leaves.get(leaf).cloned()).collect();
        if differ(&values) && !absence_explained(leaf, &values, &flats) {
            found.push(SpecDifference {
                key: leaf.clone(),
                values,
            });
        }
    }
    found.sort_by(|a, b| a.key.cmp(&b.key));
    found
}

fn differ(values: &[Option<String>]) -> bool {
    values.iter().any(|v| v != &values[0])
}

/// Whether `key` differs only because some runs lack its parent table (already a difference
/// of its own) while the runs that have it agree on its value.
fn absence_explained(key: &str, values: &[Option<String>], flats: &[FlatSpec]) -> bool {
    let Some((parent, _)) = key.rsplit_once('.') else {
        return false;
    };
    let present: BTreeSet<&String> = values.iter().flatten().collect();
    present.len() <= 1
        && values
            .iter()
            .zip(flats)
            .all(|(value, flat)| value.is_some() || !flat.tables.contains(parent))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> toml::Table {
        text.parse().unwrap()
    }

    #[test]
    fn only_differing_keys_and_a_dropped_table_once() {
        let all = spec(
            "name = \"a\"\nseeds = [1, 2]\n[modalities.audio]\nn_mels = 128\n\
             [modalities.lyrics]\nhash_dims = 2048\n[schedule]\nepochs = 60\nlr = 0.001\n",
        );
        let audio = spec(
            "name = \"b\"\nseeds = [1, 2]\n[modalities.audio]\nn_mels = 128\n\
             [schedule]\nepochs = 20\nlr = 0.001\n",
        );
        let found = differences(&[&all, &audio]);
        let keys: Vec<&str> = found.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(keys, ["modalities.lyrics", "schedule.epochs"]);
        assert_eq!(found[0].values, [Some(PRESENT.to_string()), None]);
        assert_eq!(
            found[1].values,
            [Some("60".to_string()), Some("20".to_string())]
        );
    }

    #[test]
    fn a_key_of_a_dropped_table_that_also_differs_is_listed() {
        let one = spec("[modalities.lyrics]\nhash_dims = 2048\n");
        let two = spec("[modalities.lyrics]\nhash_dims = 512\n");
        let none = spec("[modalities.audio]\n");
        let keys: Vec<String> = differences(&[&one, &two, &none])
            .into_iter()
            .map(|d| d.key)
            .collect();
        assert_eq!(
            keys,
            [
                "modalities.audio",
                "modalities.lyrics",
                "modalities.lyrics.hash_dims"
            ]
        );
    }

    #[test]
    fn strings_are_unquoted_and_arrays_inline() {
        let flat = flatten(&spec(
            "seeds = [1, 2]\n[dataset]\nlayout = \"table\"\n[x.y]\nz = 0.5\n",
        ));
        assert_eq!(flat.leaves["dataset.layout"], "table");
        assert_eq!(flat.leaves["seeds"], "[1, 2]");
        assert_eq!(flat.leaves["x.y.z"], "0.5");
        assert!(flat.tables.contains("x") && flat.tables.contains("x.y"));
    }
}
