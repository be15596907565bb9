//! The map of `Directory`'s methods in `src/service/mod.rs` stays true: every public method of
//! an `impl Directory` block is named in the row of the module that defines it, so that a
//! reader who meets `directory.create(…)` finds where it lives.

use std::path::Path;

/// The public methods of `impl Directory` blocks in `text`.
fn methods(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("impl Directory") {
            inside = true;
        } else if line.starts_with('}') {
            inside = false;
        } else if inside {
            let rest = line
                .strip_prefix("    pub async fn ")
                .or_else(|| line.strip_prefix("    pub fn "));
            if let Some(rest) = rest {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                out.push(name);
            }
        }
    }
    out
}

#[test]
fn every_public_method_of_the_directory_is_on_the_map_of_its_module() {
    let service = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/service");
    let map = std::fs::read_to_string(service.join("mod.rs")).unwrap();
    let rows: Vec<&str> = map.lines().filter(|l| l.starts_with("//! | ")).collect();
    let mut missing = Vec::new();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&service).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            for inner in std::fs::read_dir(&path).unwrap() {
                files.push(inner.unwrap().path());
            }
        } else {
            files.push(path);
        }
    }
    for file in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "rs"))
    {
        let text = std::fs::read_to_string(file).unwrap();
        let module = file.strip_prefix(&service).unwrap().with_extension("");
        let module = module
            .to_string_lossy()
            .replace('/', "::")
            .replace("::mod", "");
        let row_name = if module == "mod" {
            "this module".to_owned()
        } else {
            module.split("::").next().unwrap_or_default().to_owned()
        };
        let row = rows.iter().find(|r| {
            r.starts_with(&format!("//! | `{row_name}` |"))
                || r.starts_with(&format!("//! | {row_name} |"))
        });
        for method in methods(&text) {
            let named = row.is_some_and(|r| {
                r.contains(&format!("`{method}`"))
                    || (method.starts_with("with_") && r.contains("`with_*`"))
                    || (method.contains("_tenant_") && r.contains("`*_tenant_*`"))
            });
            if !named {
                missing.push(format!("{module}: {method}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not on the map in src/service/mod.rs:\n{}",
        missing.join("\n")
    );
}
