//! Keeps the code's shape what ARCHITECTURE.md says it is:
//!
//! * inside every crate of the workspace, the top-level modules import one another without
//!   a cycle (read from the `crate::<module>` paths of each source file, test modules left
//!   out), so each crate's modules stand on floors that only import downward;
//! * ARCHITECTURE.md's crate list names exactly the crates `cargo metadata` finds, and each
//!   crate depends only on the workspace crates its dependency-rules row allows.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A source text without line comments and without its `#[cfg(test)]` tail (test modules
/// may reach anywhere through `super`).
fn code_of(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or(text);
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Top-level module → the top-level modules it names through `crate::`.
fn module_edges(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let top_of = |file: &Path| -> Option<String> {
        let rel = file.strip_prefix(src).ok()?;
        let first = rel.components().next()?.as_os_str().to_str()?.to_owned();
        let name = first.trim_end_matches(".rs").to_owned();
        (name != "lib" && name != "main").then_some(name)
    };
    let modules: BTreeSet<String> = files.iter().filter_map(|f| top_of(f)).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let Some(from) = top_of(file) else { continue };
        let code = code_of(&std::fs::read_to_string(file).unwrap());
        let targets = edges.entry(from.clone()).or_default();
        for (i, _) in code.match_indices("crate::") {
            // `tessera_crate::` or `$crate::` are not this crate
            let before = code[..i].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                continue;
            }
            let name: String = code[i + 7..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if name != from && modules.contains(&name) {
                targets.insert(name);
            }
        }
    }
    edges
}

/// A cycle in `edges`, as a path that returns to its start, if there is one.
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_owned(), 1);
        path.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            match state.get(next.as_str()) {
                Some(1) => {
                    let start = path.iter().position(|p| p == next).unwrap_or(0);
                    let mut cycle = path[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(next, edges, state, path) {
                        return Some(c);
                    }
                }
            }
        }
        path.pop();
        state.insert(node.to_owned(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in edges.keys() {
        if !state.contains_key(node.as_str())
            && let Some(c) = visit(node, edges, &mut state, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

/// The modules floor by floor, bottom first: each imports only from floors below it.
fn floors(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let mut placed: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    while placed.len() < edges.len() {
        let floor: Vec<String> = edges
            .iter()
            .filter(|(m, deps)| !placed.contains(*m) && deps.iter().all(|d| placed.contains(d)))
            .map(|(m, _)| m.clone())
            .collect();
        if floor.is_empty() {
            break;
        }
        placed.extend(floor.iter().cloned());
        out.push(floor);
    }
    out
}

#[test]
fn no_crate_has_an_import_cycle_between_its_modules() {
    let crates = repo_root().join("crates");
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(&crates).unwrap().flatten() {
        let src = entry.path().join("src");
        if !src.is_dir() {
            continue;
        }
        let edges = module_edges(&src);
        let name = entry.file_name().to_string_lossy().into_owned();
        match find_cycle(&edges) {
            Some(cycle) => problems.push(format!("{name}: {}", cycle.join(" -> "))),
            None => {
                let shown: Vec<String> = floors(&edges).iter().rev().map(|f| f.join(" ")).collect();
                eprintln!("{name} floors, top first: {}", shown.join(" | "));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "import cycles:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_cycle_finder_finds_cycles_and_floors() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    edges.insert("a".into(), ["b".into()].into());
    edges.insert("b".into(), ["c".into()].into());
    edges.insert("c".into(), BTreeSet::new());
    assert_eq!(find_cycle(&edges), None);
    assert_eq!(floors(&edges), vec![vec!["c"], vec!["b"], vec!["a"]]);
    edges.insert("c".into(), ["a".into()].into());
    assert_eq!(
        find_cycle(&edges),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    let code =
        code_of("use crate::x; // crate::y\nuse tessera_crate::z;\n#[cfg(test)]\nuse crate::w;");
    assert!(code.contains("crate::x") && !code.contains("crate::y") && !code.contains("crate::w"));
}

/// The short names the dependency rules use for workspace crates.
fn short(name: &str) -> &str {
    name.strip_prefix("tessera-").unwrap_or(name)
}

#[test]
fn architecture_md_lists_the_crates_and_their_dependencies_truly() {
    let root = repo_root();
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = meta["packages"].as_array().unwrap();
    let crates: BTreeMap<String, BTreeSet<String>> = packages
        .iter()
        .filter(|p| {
            p["manifest_path"]
                .as_str()
                .is_some_and(|m| m.contains("/crates/"))
        })
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .filter_map(|d| d["name"].as_str())
                .filter(|n| n.starts_with("tessera-"))
                .map(str::to_owned)
                .collect();
            (p["name"].as_str().unwrap().to_owned(), deps)
        })
        .collect();
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    // the crate list: indented `tessera-*` lines under `crates/` in the first code block
    let block = doc.split("```").nth(1).unwrap_or_default();
    let listed: BTreeSet<String> = block
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.starts_with("tessera-"))
        .map(str::to_owned)
        .collect();
    let actual: BTreeSet<String> = crates.keys().cloned().collect();
    assert_eq!(
        listed, actual,
        "ARCHITECTURE.md's crate list against cargo metadata"
    );
    let mut problems = Vec::new();
    for (name, deps) in &crates {
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}` |")))
            .unwrap_or_else(|| panic!("no dependency-rules row for {name}"));
        let allowed_cell = row.split('|').nth(2).unwrap_or_default();
        let allowed: BTreeSet<&str> = allowed_cell
            .split([',', ';', ' '])
            .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-'))
            .filter(|w| !w.is_empty())
            .collect();
        for dep in deps {
            if !allowed.contains(short(dep)) && !allowed.contains(dep.as_str()) {
                problems.push(format!(
                    "{name} depends on {dep}, which its row does not allow"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
