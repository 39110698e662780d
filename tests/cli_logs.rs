//! `lrsde fit` on the logs in `tests/fixtures/logs/` with the flags that read them
//! (`--loss-column`, `--lr-schedule`, `--parent`): each run must succeed, write the fit and
//! report the number of points the file holds (counted by hand from the fixture). The values
//! read are checked in `tests/data_logs.rs`; the refusals in the `docs/errors.md` table.
#![cfg(feature = "cli")]

use std::process::Command;

const LOGS: &str = "tests/fixtures/logs";

/// Runs `lrsde fit --law power … -o DIR/fit.json`; returns stderr+stdout after checking success.
fn fit(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("fit.json");
    let out = Command::new(env!("CARGO_BIN_EXE_lrsde"))
        .args(["fit", "--law", "power"])
        .args(args)
        .arg("-o")
        .arg(&out_file)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "lrsde fit {args:?}:\n{text}");
    assert!(out_file.is_file(), "no fit written:\n{text}");
    text
}

fn reports(text: &str, name: &str, points: usize) {
    let line = text
        .lines()
        .find(|l| l.trim_end().ends_with(&format!("points   {name}")))
        .unwrap_or_else(|| panic!("no report line for {name}:\n{text}"));
    let count = line.split_whitespace().nth(4);
    assert_eq!(count, Some(points.to_string().as_str()), "{line}");
}

#[test]
fn tensorboard_loss_with_lr_schedule_from_the_lr_export() {
    let loss = format!("{LOGS}/tensorboard/run-wsd-tag-train_loss.csv");
    let lr = format!("{LOGS}/tensorboard/run-wsd-tag-train_learning_rate.csv");
    // Steps 10..=50 (step 0 is before training).
    let text = fit(&["--curve", &loss, "--lr-schedule", &lr]);
    reports(&text, "run-wsd-tag-train_loss", 5);
}

#[test]
fn hugging_face_trainer_state_with_train_loss() {
    let state = format!("{LOGS}/hf/trainer_state.json");
    let text = fit(&["--curve", &state, "--loss-column", "loss"]);
    reports(&text, "trainer_state", 4);
}

#[test]
fn wandb_ui_export_and_a_branch_with_its_parent_elsewhere() {
    let text = fit(&["--curve", &format!("{LOGS}/wandb-ui/panel.csv")]);
    reports(&text, "panel", 4);
    let branch = format!("{LOGS}/wandb-branch/branch/ann-stable-run.json");
    let parent = format!("{LOGS}/wandb-branch/elsewhere/stable-run.json");
    // The parent's point at the fork (step 4), then the branch's steps 5..=8.
    let text = fit(&["--curve", &branch, "--parent", &parent]);
    reports(&text, "ann-stable-run", 5);
}

/// `predict --schedule FILE` and `rank --schedule FILE` rebuild a logged schedule's LRs with
/// the same `--lr-between-rows` as curves: `wsdcon_9` drops from 3e-4 to 9e-5 between its rows
/// at 7936 and 8000, a ramp by default (with the same warning as `fit`), a step with `auto`.
#[test]
fn schedule_files_follow_the_rule_between_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_lrsde"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(0), "lrsde {args:?}:\n{err}");
        err
    };
    let fix = "fixtures/MultiPowerLaw/csv_400";
    let (cos, con) = (
        format!("{fix}/cosine_24000.csv"),
        format!("{fix}/constant_24000.csv"),
    );
    let sched = format!("{fix}/wsdcon_9.csv");
    let fit = path("fit.json");
    run(&[
        "fit", "--law", "momentum", "--curve", &cos, "--curve", &con, "-o", &fit,
    ]);
    // The LR at update 7968 (the middle of the gap): column `lr` of row 7968.
    let lr_at = |file: &str| -> f64 {
        let text = std::fs::read_to_string(file).unwrap();
        let row = text.lines().find(|l| l.starts_with("7968,")).unwrap();
        row.split(',').nth(1).unwrap().parse().unwrap()
    };
    let (linear, auto) = (path("linear.csv"), path("auto.csv"));
    let warned = run(&[
        "predict",
        "--fit",
        &fit,
        "--schedule",
        &sched,
        "-o",
        &linear,
    ]);
    assert!(
        warned.contains("--schedule") && warned.contains("--lr-between-rows auto keeps it a step"),
        "{warned}"
    );
    let quiet = run(&[
        "predict",
        "--fit",
        &fit,
        "--schedule",
        &sched,
        "--lr-between-rows",
        "auto",
        "-o",
        &auto,
    ]);
    assert!(!quiet.contains("warning: --schedule"), "{quiet}");
    assert!(
        (lr_at(&linear) - 1.95e-4).abs() < 1e-6,
        "{}",
        lr_at(&linear)
    );
    assert_eq!(lr_at(&auto), 3e-4);
    // rank reads its candidates the same way: the two readings rank differently by a margin.
    let ranked = |rule: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_lrsde"))
            .args([
                "rank",
                "--fit",
                &fit,
                "--schedule",
                &sched,
                "--format",
                "csv",
            ])
            .args(["--lr-between-rows", rule])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    assert_ne!(ranked("linear"), ranked("auto"));
}

/// The same curve given twice (by two paths to one file) is fitted, with a warning that its
/// points weigh twice.
#[test]
fn a_curve_given_twice_is_warned_about() {
    let text = fit(&[
        "--curve",
        "fixtures/MultiPowerLaw/csv_400/cosine_24000.csv",
        "--curve",
        "fixtures/MultiPowerLaw/csv_400/constant_24000.csv",
        "--curve",
        "fixtures/MultiPowerLaw/csv_400/../csv_400/cosine_24000.csv",
    ]);
    assert!(
        text.contains("warning: --curve fixtures/MultiPowerLaw/csv_400/../csv_400/cosine_24000.csv given more than once"),
        "{text}"
    );
    let once = fit(&[
        "--curve",
        "fixtures/MultiPowerLaw/csv_400/cosine_24000.csv",
        "--curve",
        "fixtures/MultiPowerLaw/csv_400/constant_24000.csv",
    ]);
    assert!(!once.contains("more than once"), "{once}");
}
