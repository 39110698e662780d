//! Logs as people have them: Hugging Face `trainer_state.json`, TensorBoard and W&B web-UI CSV
//! exports, column aliases and explicit column names, and a W&B branch whose parent is
//! elsewhere. Fixtures in `tests/fixtures/logs/` (see its README); expected LRs are computed
//! from the schedules the fixtures were written from, not from the reader.

use std::path::{Path, PathBuf};

use lrsde::data::{
    DataError, Format, ReadOptions, TrainingCurve, read_curve, read_curve_str, read_lr_column,
    read_wandb_branch,
};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/logs")
        .join(rel)
}

fn read(rel: &str, opts: &ReadOptions) -> Result<TrainingCurve, DataError> {
    read_curve(&fixture(rel), opts)
}

fn assert_close(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got}, want {want} (tolerance {tol})"
    );
}

fn assert_all_close(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: {got:?}");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert_close(g, w, 1e-15 * w.abs(), &format!("{what}[{i}]"));
    }
}

/// `get_linear_schedule_with_warmup(warmup=2, total=8)` at peak 1e-3: the LR of update `u`
/// is the schedule after `u - 1` scheduler steps.
fn hf_schedule(update: u64) -> f64 {
    let s = (update - 1) as f64;
    if s < 2.0 {
        1e-3 * s / 2.0
    } else {
        1e-3 * (8.0 - s) / 6.0
    }
}

#[test]
fn hf_trainer_state_eval_loss_and_shifted_lrs() {
    let c = read("hf/trainer_state.json", &ReadOptions::default()).unwrap();
    assert_eq!(c.name, "trainer_state");
    // eval_loss is preferred; training and evaluation entries of one step merge.
    assert_eq!(c.steps, vec![4, 8]);
    assert_eq!(c.losses, vec![2.4849, 2.0149]);
    // global_step = 8 updates.
    assert_eq!(c.lrs.len(), 8);
    // From update 3 on (the first logged LR, step 2 -> update 3) the reconstruction is the
    // schedule itself: linear pieces between logged points.
    for u in 3..=8u64 {
        assert_close(
            c.lrs[u as usize - 1],
            hf_schedule(u),
            1e-17,
            &format!("update {u}"),
        );
    }
    // Before it the default warmup ramps linearly from 0 to the first logged LR.
    assert_close(c.lrs[0], 1e-3 / 3.0, 1e-17, "update 1");
    assert_close(c.lrs[1], 2e-3 / 3.0, 1e-17, "update 2");
}

#[test]
fn hf_trainer_state_train_loss_skips_the_summary() {
    let opts = ReadOptions::default().with_loss_column("loss");
    let c = read("hf/trainer_state.json", &opts).unwrap();
    assert_eq!(c.steps, vec![2, 4, 6, 8]);
    assert_eq!(c.losses, vec![2.7184, 2.3027, 2.0794, 1.9459]);
    // The summary's `train_loss` (a mean over the run) is no point of the curve.
    let opts = ReadOptions::default().with_loss_column("train_loss");
    let e = read("hf/trainer_state.json", &opts).unwrap_err();
    assert!(matches!(e, DataError::MissingLossColumn { .. }), "{e}");
}

#[test]
fn hf_step_zero_repeats_and_order() {
    let doc = |entries: &str| format!(r#"{{"global_step": 4, "log_history": [{entries}]}}"#);
    let read =
        |text: String| read_curve_str(&text, "ts.json", Format::Json, &ReadOptions::default());
    // An evaluation before training (step 0) gives no loss; identical repeats are fine.
    let c = read(doc(r#"{"eval_loss": 9.0, "step": 0},
        {"learning_rate": 0.5, "loss": 3.0, "step": 2},
        {"learning_rate": 0.5, "eval_loss": 2.5, "step": 2},
        {"eval_loss": 2.0, "step": 4}"#))
    .unwrap();
    assert_eq!((c.steps, c.losses), (vec![2, 4], vec![2.5, 2.0]));
    assert_eq!(c.lrs, vec![0.5 / 3.0, 1.0 / 3.0, 0.5, 0.5]);
    let e = read(doc(r#"{"learning_rate": 0.5, "step": 2},
        {"learning_rate": 0.4, "eval_loss": 2.5, "step": 2}"#))
    .unwrap_err();
    assert!(
        matches!(e, DataError::ConflictingDuplicate { iter: 2, .. }),
        "{e}"
    );
    assert!(
        e.to_string().contains("log_history[1].learning_rate"),
        "{e}"
    );
    let e = read(doc(r#"{"learning_rate": 0.5, "eval_loss": 3, "step": 3},
        {"learning_rate": 0.4, "eval_loss": 2.5, "step": 2}"#))
    .unwrap_err();
    assert!(matches!(e, DataError::StepOrder { .. }), "{e}");
    assert!(
        e.to_string().contains("ts.json: log_history[1].step"),
        "{e}"
    );
    let e = read(r#"{"log_history": {"step": 1}}"#.to_owned()).unwrap_err();
    assert!(
        e.to_string()
            .contains("ts.json: log_history: expected an array"),
        "{e}"
    );
}

/// The float32 LR TensorBoard logged at step `s`: `0.01 · (1 − s/60)`.
fn tb_lr(step: u64) -> f64 {
    f64::from((0.01 * (1.0 - step as f64 / 60.0)) as f32)
}

#[test]
fn tensorboard_loss_with_the_lr_export_as_schedule() {
    let loss = "tensorboard/run-wsd-tag-train_loss.csv";
    let lr = fixture("tensorboard/run-wsd-tag-train_learning_rate.csv");
    // The loss export alone has no LRs, and the message says where to get them.
    let e = read(loss, &ReadOptions::default()).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, DataError::MissingColumn { .. }), "{msg}");
    assert!(
        msg.contains("TensorBoard") && msg.contains("--lr-schedule"),
        "{msg}"
    );

    // The LR export: Value at step s is the LR of update s + 1; it covers the 50 logged updates.
    let grid = read_lr_column(&lr).unwrap();
    assert_eq!(grid.len(), 50);
    for s in (0..50).step_by(10) {
        assert_eq!(grid.as_slice()[s as usize], tb_lr(s), "update {}", s + 1);
    }
    // Between logged points: linear interpolation (update 50 is 9/10 of the way from 41 to 51).
    let want = tb_lr(40) + (tb_lr(50) - tb_lr(40)) * 0.9;
    assert_close(grid.as_slice()[49], want, 1e-18, "update 50");

    let c = read(loss, &ReadOptions::default().with_schedule(grid.clone())).unwrap();
    // Step 0 (the loss before training) is skipped.
    assert_eq!(c.steps, vec![10, 20, 30, 40, 50]);
    assert_eq!(c.losses, vec![6.25, 4.5, 3.75, 3.5, 3.375]);
    assert_eq!(c.lrs, grid.as_slice());
}

#[test]
fn wandb_ui_panel_one_run() {
    let c = read("wandb-ui/panel.csv", &ReadOptions::default()).unwrap();
    assert_eq!(c.name, "panel");
    assert_eq!(c.steps, vec![100, 200, 300, 400]);
    assert_eq!(c.losses, vec![4.1, 3.6, 3.3, 3.1]);
    assert_eq!(c.lrs.len(), 400);
    // Logged at step s = LR of update s + 1: rows at updates 1, 101, 201 (0.002), 301 (0.001)
    // and 401 (0, past the run's 400 updates), linear in between.
    assert!(c.lrs[..201].iter().all(|&x| x == 0.002));
    assert_close(c.lrs[250], 0.0015, 1e-17, "update 251");
    assert_eq!(c.lrs[300], 0.001);
    assert_close(c.lrs[350], 0.0005, 1e-17, "update 351");
    assert_close(c.lrs[399], 0.001 * 0.01, 1e-17, "update 400");
}

#[test]
fn wandb_ui_two_runs_need_a_choice() {
    let e = read("wandb-ui/two_runs.csv", &ReadOptions::default()).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(e, DataError::AmbiguousColumn { role: "loss", .. }),
        "{msg}"
    );
    assert!(
        msg.contains(
            "2 columns could be the loss column: `wsd-a - train/loss`, `cos-b - train/loss`; \
             choose one with --loss-column"
        ),
        "{msg}"
    );
    // The metric alone matches both runs: still ambiguous.
    let opts = ReadOptions::default().with_loss_column("train/loss");
    assert!(matches!(
        read("wandb-ui/two_runs.csv", &opts),
        Err(DataError::AmbiguousColumn { .. })
    ));
    // Naming the run's column picks its loss and, with it, the same run's LR.
    let opts = ReadOptions::default().with_loss_column("cos-b - train/loss");
    let c = read("wandb-ui/two_runs.csv", &opts).unwrap();
    assert_eq!(c.steps, vec![100, 200, 400]);
    assert_eq!(c.losses, vec![4.2, 3.7, 3.2]);
    assert_eq!(c.lrs[100], 0.0018); // logged at step 100 -> update 101
    assert_eq!(c.lrs[200], 0.001);
    assert_eq!(c.lrs[300], 0.0002);
    // An explicit LR column (named whole) may come from another run.
    let opts = opts.with_lr_column("wsd-a - train/learning_rate");
    let c = read("wandb-ui/two_runs.csv", &opts).unwrap();
    assert_eq!((c.lrs[100], c.lrs[300]), (0.002, 0.001));
}

#[test]
fn wandb_ui_loss_panel_with_lr_panel_as_schedule() {
    let grid = read_lr_column(&fixture("wandb-ui/cos-b_learning_rate.csv")).unwrap();
    assert_eq!(grid.len(), 400);
    let opts = ReadOptions::default().with_schedule(grid);
    let c = read("wandb-ui/cos-b_loss.csv", &opts).unwrap();
    let both = read(
        "wandb-ui/two_runs.csv",
        &ReadOptions::default().with_loss_column("cos-b - train/loss"),
    )
    .unwrap();
    assert_eq!(c.steps, both.steps);
    assert_eq!(c.losses, both.losses);
    // The LR panel starts at step 100, the two-run panel too: same rows, same warmup.
    assert_eq!(c.lrs, both.lrs);
}

#[test]
fn aliases_in_plain_csv_and_jsonl() {
    // Plain files keep the contract: `lr` in a row is the LR of update `step` (no shift).
    let csv = "global_step,learning_rate,eval/loss,train/loss\n2,0.2,,3.0\n4,0.1,2.5,2.6\n";
    let c = read_curve_str(csv, "hf.csv", Format::Csv, &ReadOptions::default()).unwrap();
    assert_eq!((c.steps.clone(), c.losses.clone()), (vec![4], vec![2.5]));
    assert_all_close(&c.lrs, &[0.1, 0.2, 0.15, 0.1], "lrs");
    let jsonl = "{\"_step\": 2, \"train/lr\": 0.2, \"train/loss\": 3.0}\n\
                 {\"_step\": 4, \"train/lr\": 0.1, \"train/loss\": 2.6}\n";
    let j = read_curve_str(jsonl, "w.jsonl", Format::Jsonl, &ReadOptions::default()).unwrap();
    assert_eq!((j.steps, j.losses), (vec![2, 4], vec![3.0, 2.6]));
    assert_eq!(j.lrs, c.lrs);
    // Canonical names beat aliases whatever the column order.
    let csv = "learning_rate,lr,global_step,step,loss\n0.5,0.1,9,1,2.0\n";
    let c = read_curve_str(csv, "x.csv", Format::Csv, &ReadOptions::default()).unwrap();
    assert_eq!((c.steps, c.lrs.into_vec()), (vec![1], vec![0.1]));
}

#[test]
fn explicit_columns_and_their_errors() {
    let csv = "iteration,lr-AdamW,val_ppl_loss\n1,0.1,3.0\n2,0.05,2.5\n";
    let opts = ReadOptions::default()
        .with_step_column("iteration")
        .with_lr_column("LR-AdamW")
        .with_loss_column("val_ppl_loss");
    let c = read_curve_str(csv, "own.csv", Format::Csv, &opts).unwrap();
    assert_eq!((c.steps, c.lrs.into_vec()), (vec![1, 2], vec![0.1, 0.05]));

    let e = read_curve_str(csv, "own.csv", Format::Csv, &ReadOptions::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "own.csv: missing column `step`; columns found: `iteration`, `lr-AdamW`, \
         `val_ppl_loss`; choose one with --step-column"
    );
    let opts = ReadOptions::default().with_step_column("iteration");
    let e = read_curve_str(csv, "own.csv", Format::Csv, &opts.clone()).unwrap_err();
    assert!(
        e.to_string().contains("no loss column; tried `eval_loss`"),
        "{e}"
    );
    assert!(
        e.to_string().ends_with("choose one with --loss-column"),
        "{e}"
    );
    let opts = opts.with_loss_column("val_ppl_loss");
    let e = read_curve_str(csv, "own.csv", Format::Csv, &opts).unwrap_err();
    assert!(
        e.to_string()
            .ends_with("choose one with --lr-column, or give the LRs with --lr-schedule SPEC|FILE"),
        "{e}"
    );
    let e = read_curve_str(csv, "own.csv", Format::Csv, &opts.with_lr_column("eta")).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("own.csv: missing column `eta`; columns found: `iteration`"),
        "{e}"
    );
    // Two columns with one name (case-insensitively) are ambiguous, not a silent pick.
    let csv = "step,lr,loss,Loss\n1,0.1,3.0,3.1\n";
    let e = read_curve_str(csv, "dup.csv", Format::Csv, &ReadOptions::default()).unwrap_err();
    assert!(matches!(e, DataError::AmbiguousColumn { .. }), "{e}");
}

#[test]
fn wandb_branch_with_explicit_parent() {
    let branch = "wandb-branch/branch/ann-stable-run.json";
    let parent = fixture("wandb-branch/elsewhere/stable-run.json");
    let e = read(branch, &ReadOptions::default()).unwrap_err();
    assert!(
        matches!(e, DataError::MissingParent { fork_step: 4, .. }),
        "{e}"
    );
    assert!(
        e.to_string()
            .ends_with("name the parent's file with --parent FILE"),
        "{e}"
    );

    let c = read(branch, &ReadOptions::default().with_parent(&parent)).unwrap();
    // Parent up to the fork (update 4), then the branch; `config.iterations` = 8 updates.
    assert_eq!(c.steps, vec![4, 5, 6, 7, 8]);
    assert_eq!(c.losses, vec![3.0, 2.9, 2.8, 2.7, 2.6]);
    assert_all_close(&c.lrs, &[0.1, 0.1, 0.1, 0.1, 0.1, 0.075, 0.05, 0.05], "lrs");
    let explicit = read_wandb_branch(&fixture(branch), &parent, &ReadOptions::default()).unwrap();
    assert_eq!(c, explicit);
    // A run that is not a branch ignores the parent.
    let opts = ReadOptions::default().with_parent(fixture("no-such-file.json"));
    let alone = read_curve(&parent, &opts).unwrap();
    assert_eq!(alone, read_curve(&parent, &ReadOptions::default()).unwrap());
}

#[test]
fn another_runs_lr_is_never_used() {
    // The LR panel of `wsd-a` beside the loss of `cos-b`: no LR for `cos-b`.
    let csv = "\"Step\",\"cos-b - train/loss\",\"wsd-a - train/learning_rate\"\n\
               \"100\",\"4.2\",\"0.002\"\n";
    let e = read_curve_str(csv, "mix.csv", Format::Csv, &ReadOptions::default()).unwrap_err();
    assert!(
        e.to_string().starts_with(
            "mix.csv: missing column `lr`; columns found: `Step`, `cos-b - train/loss`"
        ),
        "{e}"
    );
}
