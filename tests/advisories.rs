//! `docs/advisories.md` and the tests stay in step: every advisory that maps
//! onto Moat names tests, and every test it names exists and runs in
//! `make test` (an end-to-end result asserted by a test that is not
//! ignored, a `#[test]` function that is not ignored, or a script the
//! Makefile's `test` target runs). With `../shared/advisories.md` present
//! (the team's list of ids found so far), each of its ids is in the index.

// A test reads the repository's files by path.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One row of the index: its id cell, whether it maps, and its tests cell.
struct Row {
    id: String,
    maps: String,
    moat: String,
    tests: String,
}

fn rows() -> Vec<Row> {
    read(&root().join("docs/advisories.md"))
        .lines()
        .filter(|l| l.starts_with("| "))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .filter(|c| c.len() == 5 && c[0] != "id" && !c[0].starts_with("---"))
        .map(|c| Row {
            id: c[0].clone(),
            maps: c[2].clone(),
            moat: c[3].clone(),
            tests: c[4].clone(),
        })
        .collect()
}

/// The quoted results, and the backticked names, of a tests cell.
fn references(cell: &str) -> (Vec<String>, Vec<String>) {
    let (mut quoted, mut rest) = (Vec::new(), String::new());
    let mut chars = cell.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            rest.push(c);
            continue;
        }
        let mut q = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    q.push(c);
                    q.extend(chars.next());
                }
                '"' => break,
                _ => q.push(c),
            }
        }
        quoted.push(q);
    }
    let ticked = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    (quoted, ticked)
}

fn e2e_sources() -> Vec<PathBuf> {
    let mut files = vec![root().join("tests/e2e.rs")];
    let mut more: Vec<PathBuf> = std::fs::read_dir(root().join("tests/e2e"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    more.sort();
    files.extend(more);
    files
}

/// The attributes above the function that starts at `at` in `text`.
fn attributes_before(text: &str, at: usize) -> Vec<&str> {
    text[..at]
        .lines()
        .rev()
        .skip(1)
        .map(str::trim)
        .take_while(|l| l.starts_with("#[") || l.starts_with("///") || l.starts_with("//"))
        .filter(|l| l.starts_with("#["))
        .collect()
}

/// Whether `text` has a test function `name` that runs.
fn has_running_test(text: &str, name: &str) -> bool {
    let needle = format!("fn {name}(");
    text.match_indices(&needle).any(|(at, _)| {
        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let attrs = attributes_before(text, line_start + 1);
        attrs.contains(&"#[test]") && !attrs.iter().any(|a| a.starts_with("#[ignore"))
    })
}

/// Whether a running end-to-end test asserts that `result` passed.
fn asserted(sources: &[(PathBuf, String)], result: &str) -> bool {
    let needle = format!("\"{result}\"");
    sources.iter().any(|(_, text)| {
        text.match_indices(&needle).any(|(at, _)| {
            let before = &text[..at];
            let in_list = before
                .rfind("assert_passed(&[")
                .is_some_and(|start| !before[start..].contains("]);"));
            let Some(fn_at) = before.rfind("\nfn ") else {
                return false;
            };
            let name_end = before[fn_at + 4..].find('(').map_or(0, |i| fn_at + 4 + i);
            in_list && has_running_test(text, &before[fn_at + 4..name_end])
        })
    })
}

/// Whether the `#[test]` `reference` (a test's name, or a unit test's path
/// `module::tests::name`) exists and runs.
fn test_runs(reference: &str) -> bool {
    let segments: Vec<&str> = reference.split("::").collect();
    let name = segments[segments.len() - 1];
    let files: Vec<PathBuf> = match segments.iter().position(|s| *s == "tests") {
        Some(t) if segments.len() > 1 => {
            let module = segments[..t].join("/");
            vec![
                root().join(format!("src/{module}.rs")),
                root().join(format!("src/{module}/mod.rs")),
            ]
        }
        _ => {
            let mut f = e2e_sources();
            for e in std::fs::read_dir(root().join("tests")).unwrap() {
                let p = e.unwrap().path();
                if p.extension().is_some_and(|x| x == "rs") {
                    f.push(p);
                }
            }
            f
        }
    };
    files
        .iter()
        .filter(|f| f.exists())
        .any(|f| has_running_test(&read(f), name))
}

#[test]
fn every_test_the_index_names_exists_and_runs() {
    let rows = rows();
    assert!(rows.len() >= 40, "the index lost rows: {}", rows.len());
    let sources: Vec<(PathBuf, String)> = e2e_sources()
        .into_iter()
        .map(|p| {
            let t = read(&p);
            (p, t)
        })
        .collect();
    let makefile = read(&root().join("Makefile"));
    let test_target = makefile
        .split("\ntest:")
        .nth(1)
        .and_then(|t| t.split("\n\n").next())
        .expect("the Makefile's test target");
    let mut problems = Vec::new();
    for row in &rows {
        let (quoted, ticked) = references(&row.tests);
        match row.maps.as_str() {
            "yes" => {
                if quoted.is_empty() && ticked.is_empty() {
                    problems.push(format!("{}: maps, but names no test", row.id));
                }
            }
            "no" | "later" => {
                if row.tests != "—" {
                    problems.push(format!("{}: {} but names tests", row.id, row.maps));
                }
                if row.maps == "later" && !row.moat.contains("the test to write") {
                    problems.push(format!("{}: later, with no test to write", row.id));
                }
            }
            other => problems.push(format!("{}: maps is {other:?}", row.id)),
        }
        for result in &quoted {
            if !asserted(&sources, result) {
                problems.push(format!(
                    "{}: no running end-to-end test asserts \"{result}\"",
                    row.id
                ));
            }
        }
        for name in &ticked {
            if let Some(script) = name.strip_prefix("tools/") {
                if !root().join("tools").join(script).exists() || !test_target.contains(name) {
                    problems.push(format!("{}: make test does not run {name}", row.id));
                }
            } else if !test_runs(name) {
                problems.push(format!("{}: no running #[test] {name}", row.id));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_id_is_indexed_once_and_the_teams_list_is_covered() {
    let rows = rows();
    let ids: Vec<&str> = rows
        .iter()
        .flat_map(|r| r.id.split([' ', ';', '/']))
        .filter(|s| s.starts_with("GHSA-") || s.starts_with("CVE-"))
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for id in &ids {
        assert!(seen.insert(*id), "{id} is in the index twice");
    }
    let shared = root().join("../shared/advisories.md");
    if shared.exists() {
        let text = read(&shared);
        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
            if (word.starts_with("GHSA-") && word.len() == 19) || word.starts_with("CVE-") {
                assert!(
                    seen.contains(word),
                    "{word} (../shared/advisories.md) is not in docs/advisories.md"
                );
            }
        }
    }
}
