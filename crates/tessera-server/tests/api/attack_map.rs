//! Keeps `docs/attack-suite.md` true: every row of checklist groups D, E, F and G (and of
//! group R, the resource findings of issue #20, M, email links and delivery, and P,
//! identity providers) appears
//! exactly once, each either names tests or says why it does not apply, and every named test
//! exists as a test function in the file the map names.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The rows the map must cover: group letter and row count.
const GROUPS: [(char, u32); 10] = [
    ('D', 18),
    ('E', 16),
    ('F', 11),
    ('G', 7),
    ('R', 7),
    ('P', 23),
    ('M', 15),
    ('T', 13),
    ('L', 16),
    ('W', 12),
];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Table rows of the map: row id → the last cell (test references or "n/a: …").
fn rows(doc: &str) -> Vec<(String, String)> {
    doc.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.trim().trim_matches('|').split('|').collect();
            let id = cells.first()?.trim();
            let mut chars = id.chars();
            let group = chars.next()?;
            let number = chars.as_str();
            let is_row = GROUPS.iter().any(|(g, _)| *g == group)
                && !number.is_empty()
                && number.bytes().all(|b| b.is_ascii_digit());
            let last = cells.last()?.trim().to_owned();
            (is_row && cells.len() >= 3).then(|| (id.to_owned(), last))
        })
        .collect()
}

/// `path/to/file.rs::test_name` references in backticks.
fn references(cell: &str) -> Vec<(String, String)> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|r| {
            let (path, name) = r.split_once("::")?;
            Some((path.to_owned(), name.to_owned()))
        })
        .collect()
}

/// Whether `source` defines `name` as a test: `fn name(` preceded by attributes of which
/// one is a test attribute.
fn defines_test(source: &str, name: &str) -> bool {
    let lines: Vec<&str> = source.lines().collect();
    lines.iter().enumerate().any(|(i, line)| {
        let l = line.trim_start();
        let is_fn =
            l.starts_with(&format!("fn {name}(")) || l.starts_with(&format!("async fn {name}("));
        is_fn
            && lines[..i]
                .iter()
                .rev()
                .map(|l| l.trim())
                .take_while(|l| l.starts_with("#[") || l.starts_with("//"))
                .any(|l| l.starts_with("#[") && l.contains("test"))
    })
}

#[test]
fn the_attack_suite_map_covers_every_row_and_names_only_existing_tests() {
    let root = repo_root();
    let doc =
        std::fs::read_to_string(root.join("docs/attack-suite.md")).expect("docs/attack-suite.md");
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut problems = Vec::new();
    for (id, cell) in rows(&doc) {
        *seen.entry(id.clone()).or_default() += 1;
        if let Some(reason) = cell.strip_prefix("n/a:") {
            if reason.trim().len() < 10 {
                problems.push(format!("{id}: give a reason after n/a:"));
            }
            continue;
        }
        let refs = references(&cell);
        if refs.is_empty() {
            problems.push(format!("{id}: names no test and is not n/a"));
        }
        for (path, name) in refs {
            match std::fs::read_to_string(root.join(&path)) {
                Ok(source) if defines_test(&source, &name) => {}
                Ok(_) => problems.push(format!("{id}: no test fn {name} in {path}")),
                Err(e) => problems.push(format!("{id}: {path}: {e}")),
            }
        }
    }
    for (group, count) in GROUPS {
        for n in 1..=count {
            let id = format!("{group}{n}");
            match seen.get(&id) {
                Some(1) => {}
                Some(k) => problems.push(format!("{id} appears {k} times")),
                None => problems.push(format!("{id} is missing")),
            }
        }
    }
    let expected: usize = GROUPS.iter().map(|(_, n)| *n as usize).sum();
    if seen.len() != expected {
        problems.push(format!("{} rows, expected {expected}", seen.len()));
    }
    assert!(
        problems.is_empty(),
        "docs/attack-suite.md:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_checker_finds_tests_and_refuses_helpers() {
    let source = "#[tokio::test]\nasync fn real() {}\n\nasync fn helper() {}\n#[test]\n// why\nfn plain() {}\n";
    assert!(defines_test(source, "real"));
    assert!(defines_test(source, "plain"));
    assert!(!defines_test(source, "helper"));
    assert!(!defines_test(source, "missing"));
    assert_eq!(
        references("`a/b.rs::x`, `c.rs::y` and text"),
        [
            ("a/b.rs".to_owned(), "x".to_owned()),
            ("c.rs".to_owned(), "y".to_owned())
        ]
    );
    let table = "| id | what | tests |\n|---|---|---|\n| D1 | short | `a.rs::b` |\n| F11 | x | n/a: no such feature |\n";
    assert_eq!(rows(table).len(), 2);
}
