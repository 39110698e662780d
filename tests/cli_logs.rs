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
