//! The RPC code and the transport layer are layered: no module under
//! `src/rpc/` or `src/net/` uses a module that uses it back, directly or
//! through others. Read from the source: every `crate::` and `super::`
//! path outside comments and test modules is a use of the module it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The module a source file defines: `src/rpc/svc/mod.rs` is `rpc::svc`,
/// `src/rpc/svc/conn.rs` is `rpc::svc::conn`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The paths (`crate::a::b`, `super::c`, `child::d`) a file's code
/// mentions, each as its segments, before its test module.
fn paths_in(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = line.trim_start();
        if code.starts_with("#[cfg(test)]") {
            break;
        }
        if code.starts_with("//") {
            continue;
        }
        let mut rest = code;
        while let Some(at) = rest.find("::") {
            // The whole path around this `::`.
            let begin = rest[..at]
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(0, |i| i + 1);
            let tail = &rest[begin..];
            let end = tail
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(tail.len());
            let segments: Vec<String> = tail[..end]
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            if !segments.is_empty() {
                out.push(segments);
            }
            rest = &tail[end..];
            // A group: `use super::{a, b}` names each of a and b.
            if let Some(group) = rest.strip_prefix('{') {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                let prefix: Vec<String> = tail[..end]
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                for name in group.split([',', ' ']).filter(|s| !s.is_empty()) {
                    let mut p = prefix.clone();
                    p.extend(name.split("::").map(str::to_string));
                    out.push(p);
                }
            }
        }
    }
    out
}

/// The longest existing module that `path` (seen from module `from`) names.
fn resolve(
    from: &[String],
    path: &[String],
    modules: &BTreeSet<Vec<String>>,
) -> Option<Vec<String>> {
    let (mut base, rest): (Vec<String>, &[String]) = match path.first()?.as_str() {
        "crate" => (Vec::new(), &path[1..]),
        "super" => (from[..from.len().checked_sub(1)?].to_vec(), &path[1..]),
        "self" => (from.to_vec(), &path[1..]),
        // A child module named without a prefix.
        _ => (from.to_vec(), path),
    };
    // `super::Item` uses the parent module itself.
    let mut found = (rest.len() < path.len() && modules.contains(&base)).then(|| base.clone());
    for seg in rest {
        if seg == "super" {
            base.pop();
            continue;
        }
        base.push(seg.clone());
        if modules.contains(&base) {
            found = Some(base.clone());
        } else {
            break;
        }
    }
    found
}

#[test]
fn no_module_of_rpc_or_net_uses_a_module_that_uses_it_back() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();
    let layered = |m: &[String]| matches!(m.first().map(String::as_str), Some("rpc" | "net"));
    let mut uses: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for file in &files {
        let from = module_of(&src, file);
        if !layered(&from) {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        for path in paths_in(&text) {
            if let Some(to) = resolve(&from, &path, &modules) {
                if to != from && layered(&to) {
                    uses.entry(from.clone()).or_default().insert(to);
                }
            }
        }
    }
    // Every cycle, found by a depth-first search from each module.
    let mut cycles = Vec::new();
    for start in uses.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((m, trail)) = stack.pop() {
            for next in uses.get(&m).into_iter().flatten() {
                if next == start {
                    cycles.push(
                        trail
                            .iter()
                            .map(|p| p.join("::"))
                            .collect::<Vec<_>>()
                            .join(" -> ")
                            + " -> "
                            + &start.join("::"),
                    );
                } else if seen.insert(next.clone()) {
                    let mut t = trail.clone();
                    t.push(next.clone());
                    stack.push((next.clone(), t));
                }
            }
        }
    }
    assert!(uses.len() > 10, "the scan found too few modules: {uses:?}");
    assert!(
        cycles.is_empty(),
        "modules that use each other:\n{}",
        cycles.join("\n")
    );
}

#[test]
fn the_scan_sees_a_cycle_when_there_is_one() {
    let modules: BTreeSet<Vec<String>> = [vec!["rpc".to_string()], vec!["rpc".into(), "a".into()]]
        .into_iter()
        .collect();
    let from = vec!["rpc".to_string(), "a".to_string()];
    let paths = paths_in("use super::{Thing, Other};\nuse crate::rpc::a::X;\n// crate::rpc::b\n");
    let resolved: Vec<_> = paths
        .iter()
        .filter_map(|p| resolve(&from, p, &modules))
        .collect();
    let parent = vec!["rpc".to_string()];
    assert_eq!(
        resolved,
        [parent.clone(), parent.clone(), parent, from.clone()]
    );
    let child = paths_in("pub use a::Y;");
    assert_eq!(
        resolve(&["rpc".to_string()], &child[0], &modules),
        Some(from)
    );
}

/// The C API hands out what the library made; it reaches no thread-local
/// buffer pool of the library's own (`spare`), which the RPC code keeps.
#[test]
fn the_c_api_reaches_no_buffer_pool() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ffi"),
        &mut files,
    );
    assert!(files.len() > 5, "the scan found too few files: {files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for p in paths_in(&text) {
            assert!(
                !p.iter().any(|s| s == "spare"),
                "{} uses {}",
                file.display(),
                p.join("::")
            );
        }
    }
}
