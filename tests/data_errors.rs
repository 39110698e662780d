//! Every error case: the variant, and that the message names the file, line and column or key.

use std::path::PathBuf;

use lrsde::data::{
    DataError, Format, ReadOptions, read_curve, read_curve_str, read_lr_column, read_wandb_branch,
};
use lrsde::schedule::LrGrid;

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Reads `text` saved as `name`; returns the error and its message.
fn err(name: &str, text: &str) -> (DataError, String) {
    err_with(name, text, &ReadOptions::default())
}

fn err_with(name: &str, text: &str, opts: &ReadOptions) -> (DataError, String) {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, name, text);
    let e = read_curve(&p, opts).expect_err("should fail");
    let msg = e.to_string();
    assert!(msg.contains(name), "message does not name the file: {msg}");
    (e, msg)
}

#[test]
fn file_not_found() {
    let e = read_curve(
        std::path::Path::new("no/such/curve.csv"),
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, DataError::Io { .. }));
    assert!(e.to_string().contains("no/such/curve.csv"));
    assert!(read_lr_column(std::path::Path::new("missing.json")).is_err());
}

#[test]
fn empty_and_header_only() {
    let (e, _) = err("empty.csv", "");
    assert!(matches!(e, DataError::Empty { .. }));
    let (e, _) = err("blank.jsonl", " \n\n");
    assert!(matches!(e, DataError::Empty { .. }));
    let (e, _) = err("empty.json", "\u{feff}");
    assert!(matches!(e, DataError::Empty { .. }));
    let (e, msg) = err("header.csv", "step,lr,loss\r\n");
    assert!(matches!(e, DataError::NoRows { .. }), "{msg}");
    let (e, _) = err("arr.json", "[]");
    assert!(matches!(e, DataError::NoRows { .. }));
}

#[test]
fn missing_step_column_lists_columns() {
    let (e, msg) = err("nostep.csv", "iter,lr,loss\n1,0.1,2\n");
    assert!(matches!(e, DataError::MissingColumn { .. }));
    assert!(msg.contains("`step`") && msg.contains("`iter`"), "{msg}");
    let (e, _) = err("nostep.jsonl", "{\"iter\": 1, \"loss\": 2}\n");
    assert!(matches!(e, DataError::MissingColumn { .. }));
}

#[test]
fn missing_loss_column_lists_tried_and_found() {
    let (e, msg) = err("noloss.csv", "step,lr,acc\n1,0.1,0.5\n");
    assert!(matches!(e, DataError::MissingLossColumn { .. }));
    for name in [
        "eval_loss",
        "val_loss",
        "`loss`",
        "train_loss",
        "`acc`",
        "`lr`",
    ] {
        assert!(msg.contains(name), "{name} missing from: {msg}");
    }
    let (_, msg) = err_with(
        "noloss2.csv",
        "step,lr,loss\n1,0.1,0.5\n",
        &ReadOptions::default().with_loss_column("ppl"),
    );
    assert!(msg.contains("`ppl`") && msg.contains("`loss`"), "{msg}");
}

#[test]
fn missing_lr_column_and_empty_lr() {
    let (e, msg) = err("nolr.csv", "step,loss\n1,2.0\n");
    assert!(matches!(e, DataError::MissingColumn { .. }));
    assert!(msg.contains("`lr`"), "{msg}");
    let (e, _) = err("emptylr.csv", "step,lr,loss\n1,,2.0\n");
    assert!(matches!(e, DataError::NoLrValues { .. }));
    let (e, _) = err("emptyloss.csv", "step,lr,loss\n1,0.1,\n");
    assert!(matches!(e, DataError::NoLossValues { .. }));
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "lronly.csv", "step,loss\n1,2.0\n");
    let e = read_lr_column(&p).unwrap_err();
    assert!(matches!(e, DataError::MissingColumn { .. }));
}

#[test]
fn non_numeric_cell_names_line_and_column() {
    let (e, msg) = err("bad.csv", "step,lr,loss\n1,0.1,2.0\n2,0.1,abc\n");
    assert!(matches!(e, DataError::NotANumber { .. }));
    assert!(msg.contains("bad.csv:3"), "{msg}");
    assert!(
        msg.contains("column 3") && msg.contains("`loss`") && msg.contains("abc"),
        "{msg}"
    );
    // Quoted header and CRLF do not shift the line count.
    let (_, msg) = err("bad2.csv", "\"step\",\"lr\",\"loss\"\r\n1,x,2\r\n");
    assert!(msg.contains("bad2.csv:2: column 2 (`lr`)"), "{msg}");
    let (_, msg) = err(
        "bad3.csv",
        "step,lr,loss\r\n1,0.1,2\r\n\r\n\"3\",\"0.1\",\"x\"\r\n",
    );
    assert!(msg.contains("bad3.csv:4: column 3 (`loss`)"), "{msg}");
    let (e, msg) = err(
        "bad.jsonl",
        "{\"step\":1,\"lr\":0.1,\"loss\":1}\n{\"step\":2,\"lr\":[1],\"loss\":1}\n",
    );
    assert!(matches!(e, DataError::NotANumber { .. }));
    assert!(msg.contains("bad.jsonl:2: key `lr`"), "{msg}");
}

#[test]
fn nan_inf_negative_values() {
    for (name, row, what) in [
        ("nan.csv", "1,0.1,NaN", "loss"),
        ("inf.csv", "1,inf,2.0", "learning rate"),
        ("neginf.csv", "1,0.1,-inf", "loss"),
        ("neg.csv", "1,-0.1,2.0", "learning rate"),
        ("negloss.csv", "1,0.1,-2.0", "loss"),
    ] {
        let (e, msg) = err(name, &format!("step,lr,loss\n{row}\n"));
        assert!(matches!(e, DataError::BadValue { .. }), "{msg}");
        assert!(msg.contains(&format!("{name}:2: column")), "{msg}");
        assert!(msg.contains(what), "{msg}");
    }
}

#[test]
fn bad_steps() {
    for (name, text) in [
        ("zero.csv", "step,lr,loss\n0,0.1,2\n"),
        ("negstep.csv", "step,lr,loss\n-3,0.1,2\n"),
        ("frac.csv", "step,lr,loss\n1.5,0.1,2\n"),
        ("zero.jsonl", "{\"step\": 0, \"lr\": 0.1, \"loss\": 2}\n"),
    ] {
        let (e, msg) = err(name, text);
        assert!(matches!(e, DataError::BadStep { .. }), "{msg}");
        assert!(
            msg.contains(&format!("{name}:2")) || msg.contains(&format!("{name}:1")),
            "{msg}"
        );
    }
    let (e, msg) = err("nostepcell.csv", "step,lr,loss\n,0.1,2\n");
    assert!(matches!(e, DataError::MissingStep { .. }), "{msg}");
    assert!(msg.contains("nostepcell.csv:2: column 1 (`step`)"), "{msg}");
}

#[test]
fn non_increasing_and_duplicate_steps() {
    let (e, msg) = err("dup.csv", "step,lr,loss\n1,0.1,2\n5,0.1,2\n5,0.1,2\n");
    assert!(
        matches!(
            e,
            DataError::StepOrder {
                step: 5,
                previous: 5,
                ..
            }
        ),
        "{msg}"
    );
    assert!(msg.contains("dup.csv:4"), "{msg}");
    let (e, msg) = err(
        "dec.jsonl",
        "{\"step\":3,\"lr\":1,\"loss\":1}\n{\"step\":2,\"lr\":1,\"loss\":1}\n",
    );
    assert!(matches!(e, DataError::StepOrder { .. }));
    assert!(msg.contains("dec.jsonl:2"), "{msg}");
}

#[test]
fn malformed_json_has_line_and_column() {
    let (e, msg) = err(
        "broken.json",
        "{\n  \"history\": {\n    \"train\": [1, 2,,]\n  }\n}\n",
    );
    assert!(matches!(e, DataError::Json { .. }), "{msg}");
    assert!(msg.contains("broken.json:3: column"), "{msg}");
    let (e, msg) = err(
        "broken.jsonl",
        "{\"step\": 1, \"lr\": 1, \"loss\": 1}\n{\"step\": 2,, }\n",
    );
    assert!(matches!(e, DataError::Json { .. }), "{msg}");
    assert!(msg.contains("broken.jsonl:2: column"), "{msg}");
    let (_, msg) = err("scalar.jsonl", "{\"step\": 1}\n42\n");
    assert!(msg.contains("scalar.jsonl:2"), "{msg}");
}

#[test]
fn wandb_missing_keys_name_the_key_path() {
    let (e, msg) = err("nohist.json", "{\"config\": {}}");
    assert!(matches!(e, DataError::MissingKey { .. }));
    assert!(msg.contains("history"), "{msg}");
    let (e, msg) = err(
        "nolr.json",
        r#"{"history": {"val": {"iter": [1], "val_loss": [2.0]}}}"#,
    );
    assert!(matches!(e, DataError::MissingKey { .. }));
    assert!(msg.contains("history.train.train_lr"), "{msg}");
    let (e, msg) = err(
        "noloss.json",
        r#"{"history": {"train": {"iter": [1], "train_lr": [0.1]}, "val": {"iter": [1], "val_acc": [0.5]}}}"#,
    );
    assert!(matches!(e, DataError::MissingLossColumn { .. }));
    assert!(msg.contains("history.val.val_acc"), "{msg}");
    let (_, msg) = err(
        "noiter.json",
        r#"{"history": {"train": {"train_lr": [0.1]}, "val": {"iter": [1], "val_loss": [2.0]}}}"#,
    );
    assert!(msg.contains("history.train.iter"), "{msg}");
    let (_, msg) = err(
        "short.json",
        r#"{"history": {"train": {"iter": [1, 2], "train_lr": [0.1]}, "val": {"iter": [1], "val_loss": [2.0]}}}"#,
    );
    assert!(msg.contains("history.train.train_lr"), "{msg}");
    let (e, msg) = err(
        "badval.json",
        r#"{"history": {"train": {"iter": [1], "train_lr": [0.1]}, "val": {"iter": [1, 2], "val_loss": [2.0, -1]}}}"#,
    );
    assert!(matches!(e, DataError::BadValue { .. }));
    assert!(msg.contains("history.val.val_loss[1]"), "{msg}");
    let (e, msg) = err(
        "conflict.json",
        r#"{"history": {"train": {"iter": [50, 50], "train_lr": [0.1, 0.2]}, "val": {"iter": [1], "val_loss": [2.0]}}}"#,
    );
    assert!(
        matches!(e, DataError::ConflictingDuplicate { iter: 50, .. }),
        "{msg}"
    );
    assert!(msg.contains("history.train.train_lr"), "{msg}");
}

#[test]
fn wandb_branch_without_parent() {
    let doc = r#"{"config": {"iterations": 10, "resume_from": "/x/parent-run/ckpts/5"},
                  "history": {"train": {"iter": [6, 8], "train_lr": [0.1, 0.05]},
                              "val": {"iter": [8], "val_loss": [2.0]}}}"#;
    let (e, msg) = err("branch.json", doc);
    assert!(
        matches!(e, DataError::MissingParent { fork_step: 5, .. }),
        "{msg}"
    );
    assert!(msg.contains("parent-run"), "{msg}");
    let e = read_curve_str(doc, "branch.json", Format::Json, &ReadOptions::default()).unwrap_err();
    assert!(matches!(e, DataError::MissingParent { .. }));
    // The parent beside it is picked up; a parent that ends early is refused.
    let dir = tempfile::tempdir().unwrap();
    let b = write(&dir, "branch.json", doc);
    write(
        &dir,
        "parent-run.json",
        r#"[{"step": 1, "lr": 0.1, "loss": 3}, {"step": 3, "lr": 0.1, "loss": 2.5}]"#,
    );
    let e = read_curve(&b, &ReadOptions::default()).unwrap_err();
    assert!(matches!(e, DataError::BadFork { .. }), "{e}");
    write(
        &dir,
        "parent-run.json",
        r#"[{"step": 1, "lr": 0.1, "loss": 3}, {"step": 5, "lr": 0.1, "loss": 2.5},
            {"step": 7, "lr": 0.1, "loss": 2.4}]"#,
    );
    let c = read_curve(&b, &ReadOptions::default()).unwrap();
    assert_eq!(c.steps, vec![1, 5, 8]);
    assert_eq!(c.lrs.len(), 10);
    let c2 = read_wandb_branch(
        &b,
        &dir.path().join("parent-run.json"),
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(c, c2);
}

#[test]
fn csv_field_count_schedule_and_limits() {
    let (e, msg) = err("wide.csv", "step,lr,loss\n1,0.1,2,9\n");
    assert!(matches!(e, DataError::FieldCount { .. }), "{msg}");
    assert!(msg.contains("wide.csv:2"), "{msg}");
    // A short row is a broken line, not missing values (those keep their separators).
    let (e, msg) = err("short_row.csv", "step,lr,loss\n1,0.1,2\n2,0.1\n3,0.1,1.9\n");
    assert!(matches!(e, DataError::FieldCount { found: 2, .. }), "{msg}");
    assert!(msg.contains("short_row.csv:3"), "{msg}");
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "gap.csv",
        "step,lr,loss\n1,0.1,2\n2,0.1,\n3,0.1,1.9\n",
    );
    assert!(read_curve(&p, &ReadOptions::default()).is_ok());
    // A trailing empty field is tolerated.
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "trail.csv", "step,lr,loss\n1,0.1,2,\n");
    assert!(read_curve(&p, &ReadOptions::default()).is_ok());

    let opts = ReadOptions::default().with_schedule(LrGrid::new(vec![0.1; 3]).unwrap());
    let (e, msg) = err_with("short.csv", "step,loss\n5,2.0\n", &opts);
    assert!(
        matches!(
            e,
            DataError::ScheduleTooShort {
                len: 3,
                needed: 5,
                ..
            }
        ),
        "{msg}"
    );
    let (e, msg) = err("huge.csv", "step,lr,loss\n900000000000,0.1,2\n");
    assert!(matches!(e, DataError::TooManySteps { .. }), "{msg}");
}

/// An update count that is present but not a whole number >= 1 is an error naming its key (it
/// used to be dropped, ending the curve's LRs at its last logged row without a word).
#[test]
fn bad_update_counts_are_errors_naming_their_key() {
    let wandb = |iters: &str| {
        format!(
            r#"{{"config": {{"iterations": {iters}}},
                "history": {{"train": [{{"iter": 2, "train_lr": 0.1, "train_loss": 3.0}}]}}}}"#
        )
    };
    for bad in ["-5", "1e30", "\"abc\"", "1000.5", "0"] {
        let (_, msg) = err("run.json", &wandb(bad));
        assert!(msg.contains("config.iterations"), "{bad}: {msg}");
    }
    let dir = tempfile::tempdir().unwrap();
    let ok = write(&dir, "ok.json", &wandb("10"));
    assert_eq!(
        read_curve(&ok, &ReadOptions::default()).unwrap().lrs.len(),
        10
    );

    let hf = |step: &str| {
        format!(
            r#"{{"global_step": {step},
                "log_history": [{{"step": 2, "learning_rate": 0.1, "loss": 3.0}}]}}"#
        )
    };
    for bad in ["-1", "\"x\"", "1e20"] {
        let (_, msg) = err("trainer_state.json", &hf(bad));
        assert!(msg.contains("global_step"), "{bad}: {msg}");
    }
    let ok = write(&dir, "trainer_state.json", &hf("8"));
    assert_eq!(
        read_curve(&ok, &ReadOptions::default()).unwrap().lrs.len(),
        8
    );
}
