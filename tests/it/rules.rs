//! The rule index (docs/RULES.md) describes the code as it is: every rule of DESIGN.md §2
//! is there, the functions and tests it names exist, and each rule id starts the name of
//! at least one test.

use std::path::Path;

const RULES: [&str; 29] = [
    "C1", "C2", "C3", "C4", "C5", "C6", "B1", "B2", "B3", "B4", "B5", "B6", "U1", "U2", "U3", "M1", "M2", "M3", "M4", "M5", "M6", "D1", "D2", "D3", "T1", "T2",
    "T3", "T4", "T5",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every source and test file's text, with its path.
fn sources() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![root().join("src"), root().join("tests")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs" || e == "py") {
                out.push((path.strip_prefix(root()).unwrap().display().to_string(), std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out
}

#[test]
fn every_rule_is_indexed_with_functions_and_tests_that_exist_and_names_a_test() {
    let index = std::fs::read_to_string(root().join("docs/RULES.md")).unwrap();
    let row = regex_lite::Regex::new(r"(?m)^\| ([CBUMDT][0-9]) \|[^|]*\|([^|]*)\|([^|]*)\|$").unwrap();
    let span = regex_lite::Regex::new(r"`([^`:]+)::([A-Za-z0-9_]+)`").unwrap();
    let sources = sources();
    let mut indexed = Vec::new();
    for caps in row.captures_iter(&index) {
        let id = caps[1].to_owned();
        for (column, what) in [(&caps[2], "function"), (&caps[3], "test")] {
            let named: Vec<_> = span.captures_iter(column).map(|c| (c[1].to_owned(), c[2].to_owned())).collect();
            assert!(!named.is_empty(), "{id} names no {what}");
            for (file, name) in named {
                let text = std::fs::read_to_string(root().join(&file)).unwrap_or_else(|_| panic!("{id}: {file} does not exist"));
                let defined = text.contains(&format!("fn {name}(")) || text.contains(&format!("fn {name}<")) || text.contains(&format!("def {name}("));
                assert!(defined, "{id}: {file} has no {what} {name}");
            }
        }
        indexed.push(id);
    }
    assert_eq!(indexed, RULES, "the index lists every rule once, in order");
    let test_fn = regex_lite::Regex::new(r"(?:fn|def) (test_)?([a-z0-9_]+)\(").unwrap();
    let names: Vec<String> = sources.iter().flat_map(|(_, text)| test_fn.captures_iter(text).map(|c| c[2].to_owned()).collect::<Vec<_>>()).collect();
    for id in RULES {
        let prefix = id.to_lowercase();
        assert!(names.iter().any(|n| n.starts_with(&format!("{prefix}_")) || n.contains(&format!("_{prefix}_"))), "no test is named after rule {id}");
    }
}
