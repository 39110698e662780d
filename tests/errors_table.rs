//! Runs every row of the table in `docs/errors.md`: the example command, its exit code, one
//! `error:` line on stderr holding every quoted fragment, no panic, nothing written. The rows
//! are read from the document itself, so the documentation and the behaviour cannot drift.
#![cfg(feature = "cli")]

use std::path::{Path, PathBuf};
use std::process::Command;

/// One row of the table.
#[derive(Debug)]
struct Row {
    number: String,
    args: Vec<String>,
    fragments: Vec<String>,
    exit: i32,
}

/// The code spans of a markdown cell (CommonMark: a run of n backticks up to the next run of
/// exactly n; one space is stripped from both ends when both are spaces).
fn code_spans(cell: &str) -> Vec<String> {
    let b = cell.as_bytes();
    let run = |i: usize| b[i..].iter().take_while(|&&c| c == b'`').count();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'`' {
            i += 1;
            continue;
        }
        let n = run(i);
        let start = i + n;
        let mut j = start;
        let mut end = None;
        while j < b.len() {
            if b[j] == b'`' {
                let m = run(j);
                if m == n {
                    end = Some(j);
                    break;
                }
                j += m;
            } else {
                j += 1;
            }
        }
        let Some(end) = end else { break };
        let mut inner = &cell[start..end];
        if inner.len() >= 2
            && inner.starts_with(' ')
            && inner.ends_with(' ')
            && !inner.trim().is_empty()
        {
            inner = &inner[1..inner.len() - 1];
        }
        spans.push(inner.to_string());
        i = end + n;
    }
    spans
}

fn rows() -> Vec<Row> {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/errors.md"))
        .expect("docs/errors.md");
    let mut in_table = false;
    let mut out = Vec::new();
    for line in doc.lines() {
        if line.starts_with("| # | bad input | example |") {
            in_table = true;
            continue;
        }
        if !in_table {
            continue;
        }
        if !line.starts_with('|') {
            break;
        }
        if line.starts_with("|---") {
            continue;
        }
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        assert_eq!(cells.len(), 5, "row needs 5 cells: {line}");
        let example = code_spans(cells[2]);
        assert_eq!(example.len(), 1, "one example command per row: {line}");
        let mut words = example[0].split_whitespace();
        assert_eq!(words.next(), Some("lrsde"), "{line}");
        let args = words
            .map(|w| {
                if w == "''" {
                    String::new()
                } else {
                    w.to_string()
                }
            })
            .collect();
        let fragments = code_spans(cells[3]);
        assert!(!fragments.is_empty(), "no message fragment: {line}");
        out.push(Row {
            number: cells[0].to_string(),
            args,
            fragments,
            exit: cells[4].parse().expect("exit code"),
        });
    }
    out
}

fn check(row: &Row) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let d = dir.path().to_str().ok_or("temp path")?.to_string();
    let subst = |s: &str| s.replace("DIR", &d);
    let args: Vec<String> = row.args.iter().map(|a| subst(a)).collect();
    let out = Command::new(env!("CARGO_BIN_EXE_lrsde"))
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .map_err(|e| e.to_string())?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let fail = |what: String| {
        Err(format!(
            "row {} (lrsde {}): {what}\n--- stderr:\n{stderr}",
            row.number,
            args.join(" ")
        ))
    };
    if out.status.code() != Some(row.exit) {
        return fail(format!(
            "exit {:?}, expected {}",
            out.status.code(),
            row.exit
        ));
    }
    if stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") {
        return fail("panicked".into());
    }
    let haystack = if row.exit == 0 {
        format!("{stdout}{stderr}")
    } else {
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("error:") || l.starts_with("internal error:"))
            .collect();
        if errors.len() != 1 || !stderr.trim_end().ends_with(errors[0]) {
            return fail("expected exactly one error line, last on stderr".into());
        }
        if stderr
            .lines()
            .any(|l| !(l.is_empty() || l.starts_with("error:") || l.starts_with("warning:")))
        {
            return fail("stray line on stderr".into());
        }
        errors[0].to_string()
    };
    for f in &row.fragments {
        let f = subst(f);
        if !haystack.contains(&f) {
            return fail(format!("`{f}` not in the message"));
        }
    }
    if row.exit != 0 {
        let left: Vec<PathBuf> = std::fs::read_dir(dir.path())
            .map_err(|e| e.to_string())?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        if !left.is_empty() {
            return fail(format!("left files behind: {left:?}"));
        }
    }
    Ok(())
}

#[test]
fn every_documented_error_happens_as_documented() {
    let rows = rows();
    assert!(rows.len() >= 90, "the table has {} rows", rows.len());
    let numbers: Vec<&str> = rows.iter().map(|r| r.number.as_str()).collect();
    for (i, n) in numbers.iter().enumerate() {
        assert_eq!(*n, (i + 1).to_string(), "rows are numbered 1, 2, …");
    }
    // A few rows at a time: each is a process start and a few milliseconds of work.
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = rows
            .chunks(rows.len().div_ceil(4))
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .filter_map(|r| check(r).err())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("row thread"))
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} rows fail:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n\n")
    );
}

#[test]
fn code_spans_follow_commonmark() {
    assert_eq!(code_spans("`a` and `b`"), ["a", "b"]);
    assert_eq!(code_spans("`` x `y` ``"), ["x `y`"]);
    assert_eq!(code_spans("`` found: ``"), ["found:"]);
    assert_eq!(code_spans("no span"), Vec::<String>::new());
}
