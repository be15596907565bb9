//! The layers hold: `http → service → {store, domain, scim}`, `store → {domain, scim}`,
//! `domain → scim`, and `scim` imports nothing of ours — read from the source, so that an
//! import that runs up the layers fails the suite the day it is written (docs: the
//! contributor's architecture chapter). Also: no task-local carries data to the store, whose
//! writes take everything they record as parameters.

use std::path::{Path, PathBuf};

/// A layer (a top-level module of the library) and the layers it may import.
const RULES: [(&str, &[&str]); 4] = [
    ("scim", &["scim"]),
    ("domain", &["domain", "scim"]),
    ("store", &["store", "domain", "scim"]),
    (
        "service",
        &["service", "store", "domain", "scim", "telemetry"],
    ),
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a source file below `src/` (`store/sql/mod.rs` → `store::sql`).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The top-level modules `text` (the code of module `module`) refers to: every `crate::x`,
/// and every `super::…` chain that climbs to the crate's root (from `a::b`, `super::super`).
fn referred(module: &[String], text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + 7..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let before = text[..at].chars().last();
        if !name.is_empty() && !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '$') {
            out.push(name);
        }
    }
    for (at, _) in text.match_indices("super::") {
        if text[..at].ends_with("super::") {
            continue;
        }
        let mut rest = &text[at..];
        let mut depth = module.len();
        while let Some(r) = rest.strip_prefix("super::") {
            depth = depth.saturating_sub(1);
            rest = r;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if depth == 0 && !name.is_empty() {
            out.push(name);
        }
    }
    out
}

#[test]
fn no_import_runs_up_the_layers_and_no_task_local_carries_writes() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut broken = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        let Some((_, allowed)) = RULES.iter().find(|(layer, _)| module[0] == *layer) else {
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        // tests inside a module may reach anywhere
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for target in referred(&module, code) {
            if !allowed.contains(&target.as_str()) {
                broken.push(format!("{} imports crate::{target}", file.display()));
            }
        }
        if ["store", "service"].contains(&module[0].as_str()) && code.contains("task_local!") {
            broken.push(format!("{} declares a task-local", file.display()));
        }
    }
    assert!(files.len() > 100, "the sources were not found: {src:?}");
    assert!(
        broken.is_empty(),
        "imports that run up the layers:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_check_sees_an_import_that_runs_up() {
    let store = ["store".to_owned(), "sql".to_owned(), "resources".to_owned()];
    let up = referred(
        &store,
        "use crate::service::Error; use super::super::super::http::x;",
    );
    assert_eq!(up, ["service", "http"]);
    let within = referred(
        &store,
        "use super::documents::update; use super::super::Write; use crate::scim::Error;",
    );
    assert_eq!(within, ["scim"], "super and super::super stay in store");
}
