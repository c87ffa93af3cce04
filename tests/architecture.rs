//! The house's one-way data flow, checked from the source tree: within every folder of `src/`,
//! the files and sub-folders import each other without a circle, so they stack into layers
//! (spec -> stage graph -> artifacts -> report) and no folder reaches back up to one that
//! imports it.
//!
//! An import is every `crate::…` and `super::…` path outside comments and test modules (inline or `tests.rs`),
//! `use` trees expanded. A folder's own `mod.rs` (its public face) and the rooms inside a folder
//! are not counted against it: a file may use its folder's shared types, and a folder may use
//! its own files. Every other import between two modules counts as an arrow between the two
//! siblings that contain them, under their closest common folder.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`pipeline::graph`, `` for the crate root) of each source file.
fn modules(src: &Path) -> BTreeMap<Vec<String>, String> {
    let mut modules = BTreeMap::new();
    for entry in walkdir::WalkDir::new(src) {
        let entry = entry.expect("src/ is readable");
        let path = entry.path();
        // A `tests.rs` is a test module in its own file (`#[cfg(test)] mod tests;`).
        if path.extension().and_then(|e| e.to_str()) != Some("rs")
            || path.file_stem().and_then(|s| s.to_str()) == Some("tests")
        {
            continue;
        }
        let relative = path.strip_prefix(src).unwrap().with_extension("");
        let mut segments: Vec<String> = relative
            .iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect();
        if matches!(
            segments.last().map(String::as_str),
            Some("mod" | "lib" | "main")
        ) {
            segments.pop();
        }
        let text = std::fs::read_to_string(path).expect("source is UTF-8");
        modules.insert(segments, without_tests(&without_comments(&text)));
    }
    modules
}

fn without_comments(text: &str) -> String {
    let mut out = String::new();
    let mut in_block = 0usize;
    for line in text.lines() {
        let mut rest = line;
        let mut kept = String::new();
        while !rest.is_empty() {
            if in_block > 0 {
                match (rest.find("*/"), rest.find("/*")) {
                    (Some(end), Some(start)) if start < end => {
                        in_block += 1;
                        rest = &rest[start + 2..];
                    }
                    (Some(end), _) => {
                        in_block -= 1;
                        rest = &rest[end + 2..];
                    }
                    (None, _) => rest = "",
                }
            } else if let Some(start) = rest
                .find("/*")
                .filter(|&s| rest.find("//").is_none_or(|c| s < c))
            {
                kept.push_str(&rest[..start]);
                in_block += 1;
                rest = &rest[start + 2..];
            } else {
                kept.push_str(rest.split("//").next().unwrap_or_default());
                rest = "";
            }
        }
        out.push_str(&kept);
        out.push('\n');
    }
    out
}

/// The text before the file's test module: tests may reach anywhere.
fn without_tests(text: &str) -> String {
    let mut end = text.len();
    let mut from = 0;
    while let Some(at) = text[from..].find("#[cfg(test)]") {
        let start = from + at;
        let after = text[start + "#[cfg(test)]".len()..].trim_start();
        if after.starts_with("mod ") {
            end = start;
            break;
        }
        from = start + 1;
    }
    text[..end].to_string()
}

/// Every path named after `crate::` or `super::` in `text`, `use` trees expanded, relative to
/// module `module`.
fn imported_paths(module: &[String], text: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    for (start, _) in text.char_indices() {
        let before = text[..start].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || "_$:".contains(c)) {
            continue;
        }
        let rest = &text[start..];
        let (mut base, mut tail) = if let Some(tail) = rest.strip_prefix("crate::") {
            (Vec::new(), tail)
        } else if rest.starts_with("super::") {
            let mut base = module.to_vec();
            let mut tail = rest;
            while let Some(t) = tail.strip_prefix("super::") {
                base.pop();
                tail = t;
            }
            (base, tail)
        } else {
            continue;
        };
        tail = tail.trim_start();
        use_tree(&mut base, tail, &mut paths);
    }
    paths
}

/// Expands the use tree at the start of `text` under `prefix` into `out`.
fn use_tree(prefix: &mut Vec<String>, text: &str, out: &mut Vec<Vec<String>>) {
    let ident: String = text
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if ident.is_empty() {
        if let Some(group) = text.strip_prefix('{') {
            for item in split_group(group) {
                use_tree(&mut prefix.clone(), item.trim_start(), out);
            }
        } else {
            out.push(prefix.clone());
        }
        return;
    }
    let after = &text[ident.len()..];
    if ident != "self" {
        prefix.push(ident);
    }
    match after.strip_prefix("::") {
        Some(more) => use_tree(prefix, more.trim_start(), out),
        None => out.push(prefix.clone()),
    }
}

/// The top-level items of a `{…}` group (the text after its `{`).
fn split_group(text: &str) -> Vec<&str> {
    let (mut depth, mut start, mut items) = (0usize, 0usize, Vec::new());
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                items.push(&text[start..i]);
                return items;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items
}

/// The longest prefix of `path` that is a module.
fn owner<'a>(
    modules: &'a BTreeMap<Vec<String>, String>,
    path: &[String],
) -> Option<&'a Vec<String>> {
    (0..=path.len())
        .rev()
        .find_map(|n| modules.get_key_value(&path[..n]).map(|(k, _)| k))
}

/// Arrows between siblings: folder -> (child it imports from, child importing it).
type SiblingArrows = BTreeMap<Vec<String>, BTreeSet<(String, String)>>;

fn sibling_arrows(modules: &BTreeMap<Vec<String>, String>) -> SiblingArrows {
    let mut arrows = SiblingArrows::new();
    for (module, text) in modules {
        for path in imported_paths(module, text) {
            let Some(target) = owner(modules, &path) else {
                continue;
            };
            let common = module
                .iter()
                .zip(target)
                .take_while(|(a, b)| a == b)
                .count();
            // One is inside the other: a folder's own rooms or its public face.
            if common == module.len() || common == target.len() {
                continue;
            }
            arrows
                .entry(module[..common].to_vec())
                .or_default()
                .insert((module[common].clone(), target[common].clone()));
        }
    }
    arrows
}

/// A circle among `arrows`, if any, as the names along it.
fn circle(arrows: &BTreeSet<(String, String)>) -> Option<Vec<String>> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in arrows {
        next.entry(from).or_default().push(to);
    }
    fn visit<'a>(
        node: &'a str,
        next: &BTreeMap<&'a str, Vec<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|&n| n == node) {
            let mut found: Vec<String> = path[at..].iter().map(|s| s.to_string()).collect();
            found.push(node.to_string());
            return Some(found);
        }
        if !done.insert(node) {
            return None;
        }
        path.push(node);
        for &to in next.get(node).into_iter().flatten() {
            if let Some(found) = visit(to, next, path, done) {
                return Some(found);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    next.keys()
        .find_map(|&start| visit(start, &next, &mut Vec::new(), &mut done))
}

#[test]
fn no_folder_or_file_imports_in_a_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = modules(&src);
    let mut circles = Vec::new();
    for (folder, mut arrows) in sibling_arrows(&modules) {
        let folder = if folder.is_empty() {
            "src".to_string()
        } else {
            format!("src/{}", folder.join("/"))
        };
        // Every circle, not only the first: cut one arrow of each found and look again.
        while let Some(found) = circle(&arrows) {
            circles.push(format!("in {folder}: {}", found.join(" -> ")));
            arrows.remove(&(found[0].clone(), found[1].clone()));
        }
    }
    assert!(
        circles.is_empty(),
        "imports in a circle (move the shared piece down into its own module):\n{}",
        circles.join("\n")
    );
}

#[test]
fn use_trees_and_relative_paths_are_resolved() {
    let module = vec!["pipeline".to_string(), "graph".to_string()];
    let text = "use crate::cache::{Artifact, key::{StageKey, ConfigSlice}};\n\
                use super::stages::{self, extract};\nfn f() { super::super::clock::now() }";
    let paths = imported_paths(&module, &without_comments(text));
    let joined: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        joined,
        [
            "cache::Artifact",
            "cache::key::StageKey",
            "cache::key::ConfigSlice",
            "pipeline::stages",
            "pipeline::stages::extract",
            "clock::now",
        ]
    );
    let commented = without_comments("// use crate::report::x;\n/* crate::sweep */ let a = 1;");
    assert!(imported_paths(&module, &commented).is_empty());
}

#[test]
fn a_circle_is_found_and_named() {
    let arrows: BTreeSet<(String, String)> = [("report", "pipeline"), ("pipeline", "report")]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(
        circle(&arrows),
        Some(vec!["pipeline".into(), "report".into(), "pipeline".into()])
    );
    let layered: BTreeSet<(String, String)> = [("report", "results"), ("pipeline", "results")]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(circle(&layered), None);
}
