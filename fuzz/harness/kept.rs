//! The inputs the fuzzers keep for one target, read by the workspace tests that replay them
//! (`crates/*/tests/**/fuzz_regressions.rs` include this file with `#[path]`). Paths are
//! relative to the including crate's manifest, which is always `crates/<name>/`.

use std::path::{Path, PathBuf};

/// Every file kept for `target` — `fuzz/regressions/<target>/` first, then
/// `fuzz/corpus/<target>/`, each sorted by name — with its bytes. Dot files and READMEs are
/// skipped. Panics on an unreadable file: a kept input that cannot be replayed is a failure.
pub(crate) fn kept_inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut inputs = Vec::new();
    for dir in ["regressions", "corpus"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(target)) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries
            .map(|e| {
                e.unwrap_or_else(|e| panic!("reading fuzz/{dir}/{target}: {e}"))
                    .path()
            })
            .collect();
        paths.sort();
        for path in paths {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            if name.is_none_or(|n| n.starts_with('.') || n.starts_with("README")) {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            inputs.push((path, bytes));
        }
    }
    inputs
}
