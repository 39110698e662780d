//! The nasty-input corpus (`tests/nasty/`, plus inputs too big to commit, generated here): every
//! curve reader and the fit-file loader return `Ok` or a clean error, through the library and
//! through the CLI (exit 0 or 2 with one `error:` line, never a panic or an abort); line-ending
//! and BOM variants of a good file parse to exactly the same curve.

use std::path::{Path, PathBuf};
#[cfg(feature = "cli")]
use std::process::Command;

use lrsde::data::{
    DataError, Format, ReadOptions, TrainingCurve, read_curve, read_curve_bytes, read_lr_column,
};
use lrsde::fit::FittedLaw;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/nasty")
}

/// `(name, bytes)` of every committed corpus file.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    assert!(files.len() > 50, "corpus has {} files", files.len());
    files
}

/// Inputs generated at test time rather than committed (megabytes, or a million columns), made
/// once for all tests.
fn generated() -> &'static [(String, Vec<u8>)] {
    static ONCE: std::sync::OnceLock<Vec<(String, Vec<u8>)>> = std::sync::OnceLock::new();
    ONCE.get_or_init(make_generated)
}

fn make_generated() -> Vec<(String, Vec<u8>)> {
    const WIDE: usize = 1_000_000;
    const DEEP: usize = 100_000;
    let mut out = Vec::new();
    // A header of 10^6 + 3 columns and one row as wide: must parse, not just not crash.
    let mut header: String = (0..WIDE).map(|i| format!("c{i},")).collect();
    header.push_str("step,lr,loss\n");
    let mut row = ",".repeat(WIDE);
    row.push_str("1,0.1,3.0\n");
    out.push(("wide.csv".into(), format!("{header}{row}").into_bytes()));
    // A 10^6-column line without `step`.
    let no_step: String = (0..WIDE).map(|i| format!("c{i},")).collect();
    out.push((
        "wide_no_step.csv".into(),
        format!("{no_step}x\n1\n").into_bytes(),
    ));
    // One JSON object with 10^5 keys (10^6 would cost seconds in serde_json's map alone).
    let keys: String = (0..WIDE / 10).map(|i| format!("\"k{i}\": {i}, ")).collect();
    out.push((
        "wide.jsonl".into(),
        format!("{{{keys}\"step\": 1, \"lr\": 0.1, \"loss\": 3.0}}\n").into_bytes(),
    ));
    // 10^5-deep nesting: serde_json's recursion limit must give an error, not a stack overflow.
    out.push((
        "deep_array.json".into(),
        format!("{}{}", "[".repeat(DEEP), "]".repeat(DEEP)).into_bytes(),
    ));
    out.push((
        "deep_object.json".into(),
        format!("{}1{}", "{\"a\":".repeat(DEEP), "}".repeat(DEEP)).into_bytes(),
    ));
    out.push((
        "deep_history.json".into(),
        format!(
            "{{\"history\": {{\"train\": {}{}}}}}",
            "[".repeat(DEEP),
            "]".repeat(DEEP)
        )
        .into_bytes(),
    ));
    out.push((
        "deep_line.jsonl".into(),
        format!("{{\"step\": {}{}}}\n", "[".repeat(DEEP), "]".repeat(DEEP)).into_bytes(),
    ));
    // A number of 10^5 digits.
    out.push((
        "huge_literal.csv".into(),
        format!("step,lr,loss\n1,0.1,1{}\n", "0".repeat(DEEP)).into_bytes(),
    ));
    out.push((
        "huge_literal.jsonl".into(),
        format!(
            "{{\"step\": 1, \"lr\": 0.1, \"loss\": 1{}}}\n",
            "0".repeat(DEEP)
        )
        .into_bytes(),
    ));
    out
}

/// Fit files made from the valid one: deep nesting and a huge literal, generated here.
fn generated_fits() -> Vec<(String, Vec<u8>)> {
    vec![
        (
            "fit_deep.json".into(),
            format!(
                "{{\"format\": \"lrsde-fit\", \"version\": 1, \"params\": {}{}}}",
                "[".repeat(100_000),
                "]".repeat(100_000)
            )
            .into_bytes(),
        ),
        (
            "fit_deep_object.json".into(),
            format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000)).into_bytes(),
        ),
    ]
}

fn opts() -> ReadOptions {
    ReadOptions::default().with_max_steps(1_000_000)
}

fn assert_clean(name: &str, what: &str, msg: &str) {
    assert!(
        !msg.chars().any(char::is_control),
        "{name} ({what}): control character in the message: {msg:?}"
    );
    assert!(
        msg.chars().count() < 4000,
        "{name} ({what}): message of {} characters",
        msg.chars().count()
    );
}

fn check_curve(name: &str, what: &str, r: Result<TrainingCurve, DataError>) {
    match r {
        Ok(c) => {
            assert_eq!(c.steps.len(), c.losses.len(), "{name} ({what})");
            assert!(
                c.steps.iter().all(|&s| s >= 1 && s as usize <= c.lrs.len()),
                "{name} ({what})"
            );
            assert!(c.steps.windows(2).all(|w| w[0] < w[1]), "{name} ({what})");
            assert!(
                c.lrs.iter().all(|x| x.is_finite() && *x >= 0.0),
                "{name} ({what})"
            );
            assert!(
                c.losses.iter().all(|x| x.is_finite() && *x >= 0.0),
                "{name} ({what})"
            );
        }
        Err(e) => assert_clean(name, what, &e.to_string()),
    }
}

fn every_reader(name: &str, bytes: &[u8], dir: &Path) {
    for f in [
        Format::Csv,
        Format::Jsonl,
        Format::Json,
        Format::sniff(bytes),
    ] {
        check_curve(
            name,
            &format!("{f:?}"),
            read_curve_bytes(bytes, name, f, &opts()),
        );
    }
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    check_curve(name, "read_curve", read_curve(&path, &opts()));
    if let Err(e) = read_lr_column(&path) {
        assert_clean(name, "read_lr_column", &e.to_string());
    }
    if let Err(e) = FittedLaw::load(&path) {
        assert_clean(name, "FittedLaw::load", &e.to_string());
    }
}

#[test]
fn every_reader_survives_the_corpus() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in corpus() {
        every_reader(&name, &bytes, dir.path());
    }
    // The big generated inputs are read in `refusals_say_what_the_file_is` and by the CLI.
}

#[test]
fn truncation_at_every_length_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["good_crlf.csv", "good.jsonl", "good_wandb.json"] {
        let bytes = std::fs::read(corpus_dir().join(name)).unwrap();
        for n in 0..bytes.len() {
            for f in [Format::Csv, Format::Jsonl, Format::Json] {
                check_curve(
                    name,
                    &format!("{f:?} cut at {n}"),
                    read_curve_bytes(&bytes[..n], name, f, &opts()),
                );
            }
        }
        every_reader(name, &bytes[..bytes.len() / 2], dir.path());
    }
}

#[test]
fn line_endings_and_boms_parse_to_the_same_curve() {
    let read = |name: &str| read_curve(&corpus_dir().join(name), &ReadOptions::default());
    let want = read("good.csv").unwrap();
    // The oracle: the file's own numbers, LR interpolated linearly over the missing step 3.
    assert_eq!(want.steps, [1, 2, 4]);
    assert_eq!(want.losses, [3.0, 2.5, 2.0]);
    assert_eq!(want.lrs, [0.1, 0.1, 0.07500000000000001, 0.05]);
    for name in [
        "good_crlf.csv",
        "good_cr.csv",
        "good_mixed.csv",
        "good_bom.csv",
        "good_bom_crlf.csv",
        "good_quoted.csv",
        "good_blank_lines.csv",
        "good.jsonl",
        "good_crlf.jsonl",
        "good_bom.jsonl",
        "good_mixed.jsonl",
        "good_wandb.json",
        "good_wandb_crlf.json",
        "good_bom_wandb.json",
    ] {
        let c = read(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((&c.steps, &c.losses), (&want.steps, &want.losses), "{name}");
        // W&B logs at `iter = i` the LR of update i + 1 (docs/data-formats.md), so its LRs
        // differ from the CSV's; its variants agree with each other.
        let lrs_want = if name.contains("wandb") {
            read("good_wandb.json").unwrap().lrs
        } else {
            want.lrs.clone()
        };
        assert_eq!(c.lrs, lrs_want, "{name}");
    }
    // Line numbers in errors count CRLF, CR and mixed endings alike.
    for text in [
        "step,lr,loss\r\n1,0.1,3\r\n2,0.1,x\r\n",
        "step,lr,loss\r1,0.1,3\r2,0.1,x\r",
        "step,lr,loss\n1,0.1,3\r\n2,0.1,x\n",
    ] {
        let e = read_curve_bytes(text.as_bytes(), "le.csv", Format::Csv, &opts()).unwrap_err();
        assert!(e.to_string().starts_with("le.csv:3: column 3"), "{e}");
    }
}

#[test]
fn refusals_say_what_the_file_is() {
    let read = |name: &str| read_curve(&corpus_dir().join(name), &ReadOptions::default());
    for name in [
        "bom_utf16le.csv",
        "bom_utf16be.csv",
        "bom_utf32le.csv",
        "bom_utf16le.jsonl",
    ] {
        assert!(
            matches!(read(name), Err(DataError::Encoding { .. })),
            "{name}"
        );
    }
    for name in ["nul_in_cell.csv", "nul_in_header.csv"] {
        assert!(
            matches!(read(name), Err(DataError::Binary { .. })),
            "{name}"
        );
    }
    let msg = read("escape_codes.csv").unwrap_err().to_string();
    assert!(msg.contains("\\u{1b}"), "{msg}");
    let wide = generated();
    let (_, bytes) = wide.iter().find(|(n, _)| n == "wide.csv").unwrap();
    let c = read_curve_bytes(bytes, "wide.csv", Format::Csv, &opts()).unwrap();
    assert_eq!(
        (c.steps, c.losses, c.lrs.into_vec()),
        (vec![1], vec![3.0], vec![0.1])
    );
    let (_, bytes) = wide.iter().find(|(n, _)| n == "wide.jsonl").unwrap();
    let c = read_curve_bytes(bytes, "wide.jsonl", Format::Jsonl, &opts()).unwrap();
    assert_eq!((c.steps, c.losses), (vec![1], vec![3.0]));
    let (_, bytes) = wide.iter().find(|(n, _)| n == "wide_no_step.csv").unwrap();
    let msg = read_curve_bytes(bytes, "w.csv", Format::Csv, &opts())
        .unwrap_err()
        .to_string();
    assert!(
        msg.ends_with("and 999989 more; choose one with --step-column"),
        "{msg}"
    );
    for (name, bytes) in wide.iter().filter(|(n, _)| n.starts_with("deep")) {
        let e = read_curve_bytes(bytes, name, Format::sniff(bytes), &opts()).unwrap_err();
        assert!(e.to_string().contains("recursion limit"), "{name}: {e}");
    }
    for (name, bytes) in wide.iter().filter(|(n, _)| n.starts_with("huge_literal")) {
        let e = read_curve_bytes(bytes, name, Format::sniff(bytes), &opts()).unwrap_err();
        assert_clean(name, "huge literal", &e.to_string());
    }
}

#[test]
fn fit_loader_survives_the_corpus() {
    let good = FittedLaw::load(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/errors/fit.json"))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in corpus().into_iter().chain(generated_fits()) {
        let path = dir.path().join(&name);
        std::fs::write(&path, &bytes).unwrap();
        match FittedLaw::load(&path) {
            Ok(_) => assert!(
                ["fit_bom.json", "fit_crlf.json", "fit_huge_param.json"].contains(&name.as_str()),
                "{name} loaded"
            ),
            Err(e) => assert_clean(&name, "load", &e.to_string()),
        }
    }
    for name in ["fit_bom.json", "fit_crlf.json"] {
        assert_eq!(FittedLaw::load(corpus_dir().join(name)).unwrap(), good);
    }
    for (name, bytes) in generated_fits() {
        let e = FittedLaw::from_json_str(std::str::from_utf8(&bytes).unwrap()).unwrap_err();
        assert!(e.to_string().contains("recursion limit"), "{name}: {e}");
    }
}

/// Runs the binary; exit 0, or 2 with exactly one `error:` line, never a panic.
#[cfg(feature = "cli")]
fn run_clean(args: &[&str]) -> Result<(), String> {
    let out = Command::new(env!("CARGO_BIN_EXE_lrsde"))
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let ctx = || {
        format!(
            "lrsde {}: exit {:?}\n{stderr}",
            args.join(" "),
            out.status.code()
        )
    };
    match out.status.code() {
        Some(0) => {}
        Some(2) => {
            let errors = stderr.lines().filter(|l| l.starts_with("error:")).count();
            if errors != 1 {
                return Err(format!("{} error lines: {}", errors, ctx()));
            }
            if stderr.chars().any(|c| c.is_control() && c != '\n') {
                return Err(format!("control characters: {}", ctx()));
            }
        }
        _ => return Err(ctx()),
    }
    if stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") {
        return Err(ctx());
    }
    Ok(())
}

#[cfg(feature = "cli")]
#[test]
fn the_cli_survives_the_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("out");
    std::fs::create_dir(&out).unwrap();
    let fit_out = out.join("fit.json");
    let fit_out = fit_out.to_str().unwrap();
    let mut jobs: Vec<Vec<String>> = Vec::new();
    let fit = |p: &str| {
        ["fit", "--law", "power", "--curve", p, "-o", fit_out]
            .map(String::from)
            .to_vec()
    };
    for (i, (_, bytes)) in corpus().into_iter().enumerate() {
        // Every reader's extension, so that every reader sees every file (the content sniffer
        // only picks among them; the library test runs it).
        for ext in ["csv", "jsonl", "json"] {
            let p = d.join(format!("{i}.{ext}"));
            std::fs::write(&p, &bytes).unwrap();
            let p = p.to_str().unwrap().to_string();
            jobs.push(fit(&p));
            if ext == "json" {
                jobs.push(
                    [
                        "predict",
                        "--fit",
                        &p,
                        "--schedule",
                        "constant:peak=3e-4,steps=10",
                    ]
                    .map(String::from)
                    .to_vec(),
                );
                jobs.push(
                    ["simulate", "--paths", "2", "--schedule", &p]
                        .map(String::from)
                        .to_vec(),
                );
            }
        }
    }
    // The big ones once each, by their own extension.
    for (name, bytes) in generated().iter().cloned().chain(generated_fits()) {
        let p = d.join(&name);
        std::fs::write(&p, &bytes).unwrap();
        let p = p.to_str().unwrap().to_string();
        jobs.push(if name.starts_with("fit_") {
            [
                "predict",
                "--fit",
                &p,
                "--schedule",
                "constant:peak=3e-4,steps=10",
            ]
            .map(String::from)
            .to_vec()
        } else {
            fit(&p)
        });
    }
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .chunks(jobs.len().div_ceil(4))
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .filter_map(|a| {
                            run_clean(&a.iter().map(String::as_str).collect::<Vec<_>>()).err()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} runs failed:\n{}",
        failures.len(),
        jobs.len(),
        failures.join("\n")
    );
}
