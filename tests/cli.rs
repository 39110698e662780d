//! The command-line contract: output columns, exit codes (0 ok, 2 bad input), one-line errors
//! that name the flag, file or key, and no partial output files.
#![cfg(feature = "cli")]

use std::path::Path;
use std::process::{Command, Output};

fn lrsde(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lrsde"))
        .args(args)
        .output()
        .expect("run lrsde")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit code 2 and exactly one `error:` line on stderr, the last, containing every needle
/// (warnings may come before it).
fn assert_user_error(o: &Output, needles: &[&str]) {
    let all = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {all}");
    let lines: Vec<&str> = all.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(
        lines[..lines.len() - 1]
            .iter()
            .all(|l| l.starts_with("warning:")),
        "only warnings may precede the error: {all}"
    );
    let err = lines.last().copied().unwrap_or_default();
    assert!(err.starts_with("error: "), "{all}");
    for n in needles {
        assert!(err.contains(n), "`{n}` missing from: {err}");
    }
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
}

const FIX: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/MultiPowerLaw/csv_400"
);

#[test]
fn simulate_writes_the_contract_columns() {
    let o = lrsde(&[
        "simulate",
        "--model",
        "nqm:dim=8",
        "--schedule",
        "cosine:peak=0.5,steps=200,warmup=20",
        "--paths",
        "64",
        "--save-every",
        "50",
        "--threads",
        "2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "step,lr,mean,std,se,p05,p50,p95,diverged");
    let steps: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(steps, ["50", "100", "150", "200"]);
}

#[test]
fn simulate_output_is_identical_for_one_and_two_threads() {
    let run = |threads: &str| {
        stdout(&lrsde(&[
            "simulate",
            "--model",
            "lossnoise:dim=4",
            "--schedule",
            "wsd:peak=0.3,steps=100",
            "--paths",
            "40",
            "--method",
            "milstein",
            "--seed",
            "7",
            "--threads",
            threads,
        ]))
    };
    assert_eq!(run("1"), run("2"));
}

#[test]
fn simulate_output_is_identical_for_every_generator_pass() {
    // `LRSDE_SIMD` caps the instruction set of the row kernel and of the normal generator's
    // pass (SSE2 and plain loops, AVX2, AVX-512); on a CPU without a level the cap falls back to
    // the next one down. Row kernel (nqm, momentum) under both schemes, through the whole CLI.
    for (model, method) in [
        ("nqm:dim=40", "em"),
        ("nqm:dim=37,diffusion=sqrt1px2", "milstein"),
        ("momentum:dim=8", "milstein"),
    ] {
        let run = |pass: &str| {
            let o = Command::new(env!("CARGO_BIN_EXE_lrsde"))
                .args(["simulate", "--model", model, "--method", method])
                .args(["--schedule", "cosine:peak=0.5,steps=300", "--paths", "100"])
                .args(["--seed", "3", "--save-every", "1"])
                .env("LRSDE_SIMD", pass)
                .output()
                .expect("run lrsde");
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            stdout(&o)
        };
        let portable = run("portable");
        assert_eq!(portable.lines().count(), 301);
        assert_eq!(run("avx2"), portable, "{model}");
        assert_eq!(run("avx512"), portable, "{model}");
    }
}

#[test]
fn bad_specs_and_flags_exit_2_with_one_line() {
    assert_user_error(
        &lrsde(&[
            "simulate",
            "--model",
            "nqm:dimm=3",
            "--schedule",
            "constant:peak=0.1,steps=10",
        ]),
        &["dimm"],
    );
    assert_user_error(
        &lrsde(&["simulate", "--schedule", "cosine:peak=-1,steps=10"]),
        &["peak", "-1"],
    );
    assert_user_error(
        &lrsde(&[
            "simulate",
            "--schedule",
            "constant:peak=0.1,steps=10",
            "--paths",
            "0",
        ]),
        &["paths"],
    );
    assert_user_error(
        &lrsde(&[
            "simulate",
            "--schedule",
            "constant:peak=0.1,steps=10",
            "--method",
            "rk4",
        ]),
        &["rk4"],
    );
    let o = lrsde(&["simulate", "--bogus"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn auto_fit_of_two_shapes_reports_and_stores_the_disagreement_term() {
    let dir = tempfile::tempdir().unwrap();
    let fit = dir.path().join("fit.json");
    let o = lrsde(&[
        "fit",
        "--curve",
        &format!("{FIX}/cosine_24000.csv"),
        "--curve",
        &format!("{FIX}/constant_24000.csv"),
        "-o",
        fit.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let chosen = if out.contains("auto: chose momentum") {
        ("sde", "momentum")
    } else {
        ("momentum", "sde")
    };
    let line = format!("disagreement: variance (k·({} − {}))²", chosen.0, chosen.1);
    assert!(out.contains(&line), "`{line}` missing from: {out}");
    let stored = lrsde::fit::FittedLaw::load(&fit).unwrap();
    let d = stored.predictive.unwrap().disagreement.unwrap();
    assert_eq!(d.law, chosen.0);
    assert!(d.k >= 0.0 && d.n_pairs > 0, "{d:?}");
}

#[test]
fn fit_predict_rank_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let fit = dir.path().join("fit.json");
    let fit_s = fit.to_str().unwrap();
    let o = lrsde(&[
        "fit",
        "--law",
        "power",
        "--curve",
        &format!("{FIX}/cosine_24000.csv"),
        "--curve",
        &format!("{FIX}/constant_24000.csv"),
        "-o",
        fit_s,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(fit.exists());

    let pred = dir.path().join("pred.csv");
    let o = lrsde(&[
        "predict",
        "--fit",
        fit_s,
        "--schedule",
        "wsd:peak=3e-4,steps=3000,warmup=300",
        "-o",
        pred.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&pred).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "step,lr,loss,loss_lo,loss_hi");
    assert_eq!(lines.len(), 3001);
    for l in &lines[1..] {
        let v: Vec<f64> = l.split(',').map(|x| x.parse().unwrap()).collect();
        assert!(
            v[3] <= v[2] && v[2] <= v[4],
            "band must bracket the loss: {l}"
        );
    }

    let o = lrsde(&[
        "rank",
        "--fit",
        fit_s,
        "--format",
        "csv",
        "--schedule",
        "cosine:peak=3e-4,steps=3000,warmup=300",
        "--schedule",
        "constant:peak=3e-4,steps=3000,warmup=300",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with(
            "rank,schedule,final_loss,loss_lo,loss_hi,gap,significant,diverged,p_best\n"
        )
    );
    // Power law: more LR area, lower loss, so the constant schedule ranks first.
    assert!(out.lines().nth(1).unwrap().contains("constant:"), "{out}");

    let o = lrsde(&[
        "rank",
        "--fit",
        fit_s,
        "--format",
        "json",
        "--schedule",
        "cosine:peak=3e-4,steps=100",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["rank"], 1);
    assert!(v[0]["final_loss"].is_number());

    // Asking for more steps than the schedule has is an error, and nothing is written.
    let short = dir.path().join("short.csv");
    assert_user_error(
        &lrsde(&[
            "predict",
            "--fit",
            fit_s,
            "--schedule",
            "constant:peak=3e-4,steps=100",
            "--steps",
            "200",
            "-o",
            short.to_str().unwrap(),
        ]),
        &["--steps", "200"],
    );
    assert!(!short.exists());
}

#[test]
fn missing_and_corrupt_files_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.csv");
    assert_user_error(
        &lrsde(&["fit", "--curve", missing.to_str().unwrap(), "-o", "x.json"]),
        &["nope.csv"],
    );
    let corrupt = dir.path().join("fit.json");
    std::fs::write(
        &corrupt,
        "{\"format\": \"lrsde-fit\", \"version\": 1, \"law\": ",
    )
    .unwrap();
    assert_user_error(
        &lrsde(&[
            "predict",
            "--fit",
            corrupt.to_str().unwrap(),
            "--schedule",
            "constant:peak=1e-3,steps=10",
        ]),
        &["fit.json"],
    );
    let future = dir.path().join("future.json");
    std::fs::write(&future, "{\"format\": \"lrsde-fit\", \"version\": 99}").unwrap();
    assert_user_error(
        &lrsde(&[
            "predict",
            "--fit",
            future.to_str().unwrap(),
            "--schedule",
            "constant:peak=1e-3,steps=10",
        ]),
        &["99"],
    );
}

#[test]
fn unwritable_output_is_a_user_error_without_partial_file() {
    let o = lrsde(&[
        "simulate",
        "--schedule",
        "constant:peak=0.1,steps=10",
        "--paths",
        "4",
        "-o",
        "/nonexistent-lrsde-dir/out.csv",
    ]);
    assert_user_error(&o, &["/nonexistent-lrsde-dir/out.csv"]);
    assert!(!Path::new("/nonexistent-lrsde-dir").exists());
}

#[test]
fn steplaw_prints_the_published_formula() {
    let o = lrsde(&["steplaw", "--params", "1e9", "--tokens", "1e11", "--json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let expected = 1.79 * 1e9f64.powf(-0.713) * 1e11f64.powf(0.307);
    assert!((v["peak_lr"].as_f64().unwrap() - expected).abs() < 1e-15);
}

#[test]
fn help_shows_examples() {
    for sub in [
        "simulate", "fit", "predict", "rank", "steplaw", "demo", "plot",
    ] {
        let o = lrsde(&[sub, "--help"]);
        assert!(o.status.success());
        assert!(
            stdout(&o).contains("Example"),
            "{sub} --help has no example"
        );
    }
    assert!(stdout(&lrsde(&["--help"])).contains("Examples"));
}

#[test]
fn demo_runs_on_bundled_data() {
    let dir = tempfile::tempdir().unwrap();
    let o = lrsde(&[
        "demo",
        "--law",
        "power",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("cosine:peak=3e-4") && out.contains("searched wsd:"),
        "{out}"
    );
    #[cfg(feature = "plot")]
    {
        assert!(dir.path().join("curves.png").exists());
        assert!(dir.path().join("schedules.png").exists());
        assert!(dir.path().join("schedules-ranking.png").exists());
    }
}

#[test]
fn continued_training_uses_the_observed_prefix_then_the_new_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let fit = two_run_fit(dir.path(), "momentum");
    let o = lrsde(&[
        "predict",
        "--fit",
        &fit,
        "--resume",
        &format!("{FIX}/constant_24000.csv"),
        "--at",
        "20000",
        "--schedule",
        "linear:peak=3e-4,steps=4000",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let rows: Vec<Vec<f64>> = out
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 24000);
    assert_eq!(
        rows[19_999][1], 3e-4,
        "the observed constant LR up to the fork"
    );
    assert!(
        (rows[20_000][1] - 3e-4 * 3999.0 / 4000.0).abs() < 1e-12,
        "then the linear decay"
    );
    assert!(
        rows[23_999][2] < rows[19_999][2],
        "the cooldown lowers the loss"
    );
    assert_user_error(
        &lrsde(&[
            "predict",
            "--fit",
            &fit,
            "--resume",
            "x.csv",
            "--schedule",
            "constant:peak=1,steps=2",
        ]),
        &["--at"],
    );
}

#[cfg(feature = "plot")]
#[test]
fn plot_draws_prediction_files_and_rejects_other_csvs() {
    let dir = tempfile::tempdir().unwrap();
    let pred = dir.path().join("pred.csv");
    std::fs::write(
        &pred,
        "step,lr,loss,loss_lo,loss_hi\n1,0.1,3.0,2.9,3.1\n2,0.1,2.9,2.8,3.0\n3,0.05,2.8,2.7,2.9\n",
    )
    .unwrap();
    let png = dir.path().join("p.png");
    let o = lrsde(&[
        "plot",
        "--pred",
        pred.to_str().unwrap(),
        "--curve",
        &format!("{FIX}/wsdcon_9.csv"),
        "-o",
        png.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::metadata(&png).unwrap().len() > 1000);
    assert_user_error(
        &lrsde(&[
            "plot",
            "--pred",
            &format!("{FIX}/wsdcon_9.csv"),
            "-o",
            png.to_str().unwrap(),
        ]),
        &["wsdcon_9.csv:1", "step,lr,loss,loss_lo,loss_hi"],
    );
    std::fs::write(&pred, "step,lr,loss,loss_lo,loss_hi\n1,0.1,abc,2.9,3.1\n").unwrap();
    assert_user_error(
        &lrsde(&[
            "plot",
            "--pred",
            pred.to_str().unwrap(),
            "-o",
            png.to_str().unwrap(),
        ]),
        &["pred.csv:2", "abc"],
    );
}

#[test]
fn unconverged_fits_are_refused_unless_allowed_and_then_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let fit = dir.path().join("fit.json");
    let fit_s = fit.to_str().unwrap();
    let curve = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/errors/ok.csv");
    let args = [
        "fit",
        "--law",
        "power",
        "--curve",
        curve,
        "--max-iters",
        "1",
        "-o",
        fit_s,
    ];
    assert_user_error(&lrsde(&args), &["did not converge", "--allow-unconverged"]);
    assert!(!fit.exists());
    let mut allowed = args.to_vec();
    allowed.push("--allow-unconverged");
    let o = lrsde(&allowed);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("saved anyway"), "{}", stderr(&o));
    let o = lrsde(&[
        "predict",
        "--fit",
        fit_s,
        "--schedule",
        "constant:peak=3e-4,steps=10",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the fit did not converge"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stdout(&o).lines().count(), 11);
}

#[test]
fn simulate_refuses_before_allocating_and_force_lifts_the_time_limit_only() {
    // 10^5 paths × 32 × 10^9 steps: weeks of work, and 7.5 GiB of LR grid.
    let o = lrsde(&[
        "simulate",
        "--paths",
        "100000",
        "--save-every",
        "1000000000",
        "--schedule",
        "constant:peak=0.1,steps=1e9",
        "--threads",
        "1",
    ]);
    assert_user_error(&o, &["path-dimension-steps", "--force"]);
    let o = lrsde(&[
        "simulate",
        "--paths",
        "100000",
        "--save-every",
        "1000000000",
        "--schedule",
        "constant:peak=0.1,steps=1e9",
        "--max-memory",
        "1",
        "--force",
    ]);
    assert_user_error(&o, &["--max-memory 1.0 GiB", "7.5 GiB for the LR grid"]);
}

/// `lrsde fit --law power` of the curve read by `read` (the flags that read it) with
/// `--lr-between-rows rule`, written under `dir`: the fitted parameters and stderr.
fn power_fit_by_rule(dir: &Path, read: &[&str], rule: &str) -> (serde_json::Value, String) {
    let out = dir.join(format!("{rule}.json"));
    let mut args = vec!["fit", "--law", "power"];
    args.extend_from_slice(read);
    args.extend(["--lr-between-rows", rule, "-o", out.to_str().unwrap()]);
    let o = lrsde(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
    (v["params"].clone(), stderr(&o))
}

#[test]
fn lr_between_rows_reaches_the_reader() {
    // wsdcon_9's drop at update 8000 lies between rows 64 updates apart: `linear` ramps it,
    // `hold` and `auto` step it (the same per-update LRs here, so the same fit, bit for bit).
    let dir = tempfile::tempdir().unwrap();
    let curve = format!("{FIX}/wsdcon_9.csv");
    let fit = |rule| power_fit_by_rule(dir.path(), &["--curve", &curve], rule);
    let ((linear, warned), (hold, _), (auto, quiet)) = (fit("linear"), fit("hold"), fit("auto"));
    assert_eq!(hold, auto);
    assert_ne!(linear, auto);
    // Read linearly (the default), the ramp is pointed out once, with the flag that holds it.
    let want = "wsdcon_9.csv: the logged LR jumps from 3.000e-4 to 9.000e-5 between the rows at \
                steps 7936 and 8000, read as a 64-update ramp";
    assert_eq!(warned.matches(want).count(), 1, "{warned}");
    assert!(
        warned.contains("--lr-between-rows auto keeps it a step"),
        "{warned}"
    );
    assert!(!quiet.contains("logged LR jumps"), "{quiet}");
}

#[test]
fn lr_between_rows_applies_to_an_lr_schedule_file() {
    // A loss log without LRs and an LR log every 10 updates with a drop at update 30: the fit's
    // schedule differs by rule, and `auto` holds the drop as `hold` does.
    let dir = tempfile::tempdir().unwrap();
    let losses = dir.path().join("loss.csv");
    let lrs = dir.path().join("lr.csv");
    let mut text = String::from("step,loss\n");
    for s in (5..=60).step_by(5) {
        text.push_str(&format!("{s},{}\n", 2.0 + 3.0 / f64::from(s).sqrt()));
    }
    std::fs::write(&losses, text).unwrap();
    std::fs::write(
        &lrs,
        "step,lr\n1,0.1\n10,0.1\n20,0.1\n30,0.01\n40,0.01\n60,0.01\n",
    )
    .unwrap();
    let read = [
        "--curve",
        losses.to_str().unwrap(),
        "--lr-schedule",
        lrs.to_str().unwrap(),
    ];
    let fit = |rule| power_fit_by_rule(dir.path(), &read, rule).0;
    let (linear, hold, auto) = (fit("linear"), fit("hold"), fit("auto"));
    assert_eq!(hold, auto);
    assert_ne!(linear, auto);
}

/// A power-law fit of two bundled runs (fast to fit and to predict), at `dir/fit.json`.
fn power_fit(dir: &Path) -> String {
    two_run_fit(dir, "power")
}

/// A fit of `law` to the bundled cosine and constant runs, at `dir/fit.json`.
fn two_run_fit(dir: &Path, law: &str) -> String {
    let fit = dir.join("fit.json");
    let o = lrsde(&[
        "fit",
        "--law",
        law,
        "--curve",
        &format!("{FIX}/cosine_24000.csv"),
        "--curve",
        &format!("{FIX}/constant_24000.csv"),
        "-o",
        fit.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    fit.to_str().unwrap().to_string()
}

#[test]
fn predict_every_keeps_the_rows_it_thins_to_and_the_last_and_summarises() {
    let dir = tempfile::tempdir().unwrap();
    let fit = power_fit(dir.path());
    let (full, thin) = (dir.path().join("full.csv"), dir.path().join("thin.csv"));
    let schedule = "wsd:peak=3e-4,steps=2500,warmup=100";
    for (path, every) in [(&full, "1"), (&thin, "1000")] {
        let o = lrsde(&[
            "predict",
            "--fit",
            &fit,
            "--schedule",
            schedule,
            "--every",
            every,
            "-o",
            path.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let full_text = std::fs::read_to_string(&full).unwrap();
    let full_rows: Vec<&str> = full_text.lines().collect();
    let thin_text = std::fs::read_to_string(&thin).unwrap();
    let thin_rows: Vec<&str> = thin_text.lines().collect();
    // Header, steps 1000 and 2000, and the last step 2500, each identical to the full output.
    assert_eq!(
        thin_rows,
        [
            full_rows[0],
            full_rows[1000],
            full_rows[2000],
            full_rows[2500]
        ]
    );
    assert!(thin_rows[3].starts_with("2500,"));

    // The summary line states the last row's loss and band.
    let o = lrsde(&[
        "predict",
        "--fit",
        &fit,
        "--schedule",
        schedule,
        "-o",
        full.to_str().unwrap(),
    ]);
    let v: Vec<f64> = full_rows[2500]
        .split(',')
        .map(|x| x.parse().unwrap())
        .collect();
    let expected = format!(
        "final loss {:.4} at step 2500, band [{:.4}, {:.4}]",
        v[2], v[3], v[4]
    );
    let err = stderr(&o);
    assert_eq!(
        err.lines().filter(|l| l.contains(&expected)).count(),
        1,
        "{err}"
    );
    assert!(stdout(&o).is_empty());

    assert_user_error(
        &lrsde(&[
            "predict",
            "--fit",
            &fit,
            "--schedule",
            schedule,
            "--every",
            "0",
        ]),
        &["--every"],
    );
}

#[test]
fn json_outputs_end_with_a_newline() {
    let dir = tempfile::tempdir().unwrap();
    let fit = power_fit(dir.path());
    assert!(std::fs::read_to_string(&fit).unwrap().ends_with("}\n"));
    let o = lrsde(&[
        "rank",
        "--fit",
        &fit,
        "--format",
        "json",
        "--schedule",
        "cosine:peak=3e-4,steps=100",
    ]);
    assert!(stdout(&o).ends_with("]\n"), "{}", stdout(&o));
    let o = lrsde(&["steplaw", "--params", "1e9", "--tokens", "1e11", "--json"]);
    assert!(stdout(&o).ends_with("}\n"), "{}", stdout(&o));
}

#[test]
fn a_warning_shared_by_every_candidate_is_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    let fit = power_fit(dir.path());
    let o = lrsde(&[
        "rank",
        "--fit",
        &fit,
        "--schedule",
        "cosine:peak=3e-4,steps=48000,warmup=100",
        "--schedule",
        "constant:peak=3e-4,steps=48000,warmup=100",
        "--schedule",
        "wsd:peak=5e-4,steps=48000,warmup=100",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    let horizon: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("extrapolating to 48000 steps"))
        .collect();
    assert_eq!(horizon.len(), 1, "{err}");
    assert!(horizon[0].contains("all 3 schedules"), "{err}");
    // A warning that concerns one candidate names it.
    let lr: Vec<&str> = err.lines().filter(|l| l.contains("peak LR")).collect();
    assert_eq!(lr.len(), 1, "{err}");
    assert!(lr[0].starts_with("warning: wsd:peak=5e-4"), "{err}");
}

/// A small `simulate` run (NQM, 64 paths, 200 steps) writing its CSV to `out`.
fn simulate_small(out: &Path) -> Output {
    lrsde(&[
        "simulate",
        "--model",
        "nqm:dim=8",
        "--schedule",
        "cosine:peak=0.5,steps=200,warmup=10",
        "--paths",
        "64",
        "-o",
        out.to_str().unwrap(),
    ])
}

#[test]
fn simulate_prints_a_summary_line_matching_its_last_row() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sim.csv");
    let o = simulate_small(&out);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    let last: Vec<&str> = text.lines().last().unwrap().split(',').collect();
    let mean: f64 = last[2].parse().unwrap();
    let err = stderr(&o);
    let line = err
        .lines()
        .find(|l| l.contains("64 paths × 200 steps (em)"))
        .unwrap_or_else(|| panic!("no summary line: {err}"));
    assert!(line.starts_with("wrote "), "{line}");
    assert!(
        line.contains(&format!("final loss mean {mean:.4e}")),
        "{line}"
    );
}

#[test]
fn help_examples_fit_80_columns_and_never_wrap_mid_command() {
    for sub in [
        "", "simulate", "fit", "predict", "rank", "steplaw", "demo", "plot",
    ] {
        let args: Vec<&str> = [sub, "--help"]
            .into_iter()
            .filter(|a| !a.is_empty())
            .collect();
        let help = stdout(&lrsde(&args));
        let examples = help
            .split_once("Example")
            .unwrap_or_else(|| panic!("`{sub} --help` has no example"))
            .1;
        let lines: Vec<&str> = examples.lines().skip(1).filter(|l| !l.is_empty()).collect();
        for (i, l) in lines.iter().enumerate() {
            assert!(l.chars().count() <= 80, "`{sub} --help`: too wide: {l}");
            let continued = i > 0 && lines[i - 1].ends_with('\\');
            assert!(
                continued || l.starts_with("  lrsde ") || l.starts_with("  cargo "),
                "`{sub} --help`: an example line that is neither a command nor a \
                 continuation: {l}"
            );
        }
    }
}

#[test]
fn fit_report_keeps_columns_with_long_names_and_explains_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let long = dir
        .path()
        .join("a-very-long-weights-and-biases-run-name-with-seed-and-date-2026-12-06.csv");
    std::fs::copy(format!("{FIX}/cosine_24000.csv"), &long).unwrap();
    let o = lrsde(&[
        "fit",
        "--law",
        "power",
        "--curve",
        long.to_str().unwrap(),
        "--curve",
        &format!("{FIX}/constant_24000.csv"),
        "-o",
        dir.path().join("fit.json").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let rows: Vec<&str> = out.lines().filter(|l| l.starts_with("  MAE")).collect();
    assert_eq!(rows.len(), 3, "{out}");
    let column = |l: &str, word: &str| l.find(word).unwrap();
    for word in ["MAE", "RMSE(log)", "points"] {
        assert!(
            rows.iter()
                .all(|r| column(r, word) == column(rows[0], word)),
            "`{word}` not aligned:\n{out}"
        );
    }
    // Each power-law parameter gets its description from the law.
    for (name, words) in [
        ("L0", "loss left after infinitely long training"),
        ("A", "scale of the power-law decrease"),
        ("alpha", "power of that decrease"),
    ] {
        assert!(
            out.lines()
                .any(|l| l.trim_start().starts_with(name) && l.contains(words)),
            "{name}: {out}"
        );
    }
}

#[test]
fn demo_with_other_data_names_the_folder_not_the_bundled_runs() {
    let dir = tempfile::tempdir().unwrap();
    let o = lrsde(&[
        "demo",
        "--law",
        "power",
        "--data",
        FIX,
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(!out.contains("400M"), "{out}");
    assert!(out.contains(&format!("runs read from {FIX}")), "{out}");
}

#[cfg(feature = "plot")]
#[test]
fn plot_draws_simulate_output_and_predict_plots_from_a_step() {
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("sim.csv");
    let o = simulate_small(&sim);
    assert!(o.status.success(), "{}", stderr(&o));
    let svg = dir.path().join("sim.svg");
    let o = lrsde(&[
        "plot",
        "--pred",
        sim.to_str().unwrap(),
        "-o",
        svg.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        std::fs::read_to_string(&svg)
            .unwrap()
            .contains("5–95 % of paths")
    );

    let fit = power_fit(dir.path());
    let png = dir.path().join("pred.png");
    let o = lrsde(&[
        "predict",
        "--fit",
        &fit,
        "--schedule",
        "wsd:peak=3e-4,steps=2000,warmup=100",
        "--plot",
        png.to_str().unwrap(),
        "--from-step",
        "1500",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::metadata(&png).unwrap().len() > 1000);
    assert_user_error(
        &lrsde(&[
            "predict",
            "--fit",
            &fit,
            "--schedule",
            "wsd:peak=3e-4,steps=2000",
            "--from-step",
            "1500",
        ]),
        &["--plot"],
    );
}

#[cfg(feature = "plot")]
#[test]
fn fit_plot_draws_each_curve_over_its_fit_with_residuals() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("fit.svg");
    let o = lrsde(&[
        "fit",
        "--law",
        "power",
        "--curve",
        &format!("{FIX}/cosine_24000.csv"),
        "--curve",
        &format!("{FIX}/constant_24000.csv"),
        "-o",
        dir.path().join("fit.json").to_str().unwrap(),
        "--plot",
        svg.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("obs − pred"), "no residual panel");
    assert!(text.contains("cosine_24000") && text.contains("constant_24000"));
}

const ERR_FIT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/errors/fit.json");
const ERR_RUN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/errors/ok.csv");

/// The last row's `(lr, loss)` of `predict` output.
fn last_lr_loss(out: &str) -> (f64, f64) {
    let last: Vec<f64> = out
        .lines()
        .last()
        .unwrap()
        .split(',')
        .map(|x| x.parse().unwrap())
        .collect();
    (last[1], last[2])
}

#[test]
fn rank_and_search_continue_a_run_as_predict_does() {
    let linear = "linear:peak=3e-4,steps=4000";
    let o = lrsde(&[
        "rank",
        "--fit",
        ERR_FIT,
        "--resume",
        ERR_RUN,
        "--at",
        "20000",
        "--schedule",
        linear,
        "--search",
        "linear:peak=1e-5..3e-4,steps=4000",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("note: every candidate continues"), "{err}");
    // The power law wants the most LR area: the search ends at the top of its peak range.
    assert!(
        err.contains("the best `peak` sits at the upper end (0.0003)"),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let entries = v.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    for e in entries {
        let label = e["schedule"].as_str().unwrap();
        // Each ranked loss is the one `predict --resume` gives for the same continuation.
        let p = lrsde(&[
            "predict",
            "--fit",
            ERR_FIT,
            "--resume",
            ERR_RUN,
            "--at",
            "20000",
            "--schedule",
            label,
        ]);
        assert!(p.status.success(), "{label}: {}", stderr(&p));
        let (_, loss) = last_lr_loss(&stdout(&p));
        let ranked = e["final_loss"].as_f64().unwrap();
        assert!(
            (ranked - loss).abs() < 1e-12,
            "{label}: rank {ranked} vs predict {loss}"
        );
    }
}

#[test]
fn multi_phase_specs_work_wherever_a_schedule_does() {
    // Stable at 3e-4 for 100 updates, re-warm over 10 updates to 1e-4 (a ramp down from 3e-4),
    // then a linear decay to 0 over the phase's remaining 40 updates.
    let spec = "constant:peak=3e-4,steps=100; @100 linear:peak=1e-4,steps=50,warmup=10";
    let o = lrsde(&["predict", "--fit", ERR_FIT, "--schedule", spec]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows: Vec<Vec<f64>> = stdout(&o)
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 150);
    assert_eq!(rows[99][1], 3e-4);
    assert!((rows[100][1] - (3e-4 + (1e-4 - 3e-4) * 0.1)).abs() < 1e-18);
    assert_eq!(rows[109][1], 1e-4);
    assert!((rows[129][1] - 1e-4 * 20.0 / 40.0).abs() < 1e-18);
    assert_eq!(rows[149][1], 0.0);
    let r = lrsde(&[
        "rank",
        "--fit",
        ERR_FIT,
        "--schedule",
        spec,
        "--format",
        "csv",
    ]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert!(stdout(&r).contains(spec), "{}", stdout(&r));
    let s = lrsde(&[
        "simulate",
        "--paths",
        "4",
        "--save-every",
        "50",
        "--schedule",
        spec,
    ]);
    assert!(s.status.success(), "{}", stderr(&s));
}

#[test]
fn steplaw_reads_size_suffixes() {
    let o = lrsde(&["steplaw", "--params", "400M", "--tokens", "20B", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let expected = 1.79 * 4e8f64.powf(-0.713) * 2e10f64.powf(0.307);
    assert!((v["peak_lr"].as_f64().unwrap() - expected).abs() < 1e-15);
    let o = lrsde(&["steplaw", "--params", "1.2B", "--tokens", "2T", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let expected = 0.58 * 2e12f64.powf(0.571);
    assert!((v["batch_tokens"].as_f64().unwrap() - expected).abs() < 1e-6 * expected);
}

/// `lrsde prior` learns `ln C ~ N(mean, sd²)` from two fits (the sample moments of their
/// `ln C`), and `fit --prior` on one constant-LR run (which leaves `C` to its warmup) applies
/// it: `C` lands within the prior's spread, and the fit file records the prior; without it
/// `C` is elsewhere and nothing is recorded.
#[test]
fn a_prior_learned_from_fits_fixes_the_decay_response_of_a_constant_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let fit = |curves: &[&str], extra: &[&str], out: &str| {
        let mut args = vec!["fit".to_string(), "--law".into(), "momentum".into()];
        for c in curves {
            args.extend(["--curve".to_string(), format!("{FIX}/{c}.csv")]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        args.extend(["-o".to_string(), path(out)]);
        let o = lrsde(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path(out)).unwrap()).unwrap();
        (v, stdout(&o))
    };
    let ln_c = |v: &serde_json::Value| v["params"]["C"].as_f64().unwrap().ln();
    let (a, _) = fit(&["cosine_24000", "constant_24000"], &[], "a.json");
    let (b, _) = fit(&["cosine_24000", "wsd_20000_24000"], &[], "b.json");
    let o = lrsde(&[
        "prior",
        "--fit",
        &path("a.json"),
        "--fit",
        &path("b.json"),
        "--param",
        "C",
        "-o",
        &path("prior.json"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let prior: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path("prior.json")).unwrap()).unwrap();
    let (mean, sd) = (
        prior["terms"][0]["mean_ln"].as_f64().unwrap(),
        prior["terms"][0]["sd_ln"].as_f64().unwrap(),
    );
    assert_eq!(prior["law"], "momentum");
    assert!((mean - 0.5 * (ln_c(&a) + ln_c(&b))).abs() < 1e-12, "{mean}");
    assert!(
        (sd - (ln_c(&a) - ln_c(&b)).abs() / 2f64.sqrt()).abs() < 1e-12,
        "{sd}"
    );
    let (with, report) = fit(
        &["constant_24000"],
        &["--prior", &path("prior.json")],
        "with.json",
    );
    assert_eq!(with["prior"], prior, "the fit file records the prior");
    assert!(report.contains("prior: ln C ~ N("), "{report}");
    assert!((ln_c(&with) - mean).abs() < 2.0 * sd, "{}", ln_c(&with));
    let (without, _) = fit(&["constant_24000"], &[], "without.json");
    assert!(without.get("prior").is_none());
    assert!(
        (ln_c(&without) - mean).abs() > 10.0 * sd,
        "{}",
        ln_c(&without)
    );
}

#[test]
fn mpl_band_is_identical_for_every_instruction_set() {
    // The band's shared pass (`predict_many`) runs a copy compiled per instruction set; without
    // FMA contraction every copy must write the same bits. The constant + WSD pair: `mpl`'s
    // fit of it takes at most 37 iterations per start, where cosine + constant needs 519 (1 s
    // instead of 11 s in release).
    let dir = tempfile::tempdir().unwrap();
    let fit = dir.path().join("fit.json");
    let fit_s = fit.to_str().unwrap();
    let o = lrsde(&[
        "fit",
        "--law",
        "mpl",
        "--curve",
        &format!("{FIX}/wsd_20000_24000.csv"),
        "--curve",
        &format!("{FIX}/constant_24000.csv"),
        "-o",
        fit_s,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let run = |pass: &str| {
        let pred = dir.path().join(format!("pred_{pass}.csv"));
        let o = Command::new(env!("CARGO_BIN_EXE_lrsde"))
            .args(["predict", "--fit", fit_s])
            .args(["--schedule", "cosine:peak=3e-4,steps=3000,warmup=300"])
            .args(["-o", pred.to_str().unwrap()])
            .env("LRSDE_SIMD", pass)
            .output()
            .expect("run lrsde");
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        std::fs::read_to_string(&pred).unwrap()
    };
    let portable = run("portable");
    assert_eq!(portable.lines().count(), 3001);
    assert_eq!(run("avx2"), portable);
    assert_eq!(run("avx512"), portable);
}

/// `lrsde prior --by-peak` on fits whose `A` lies exactly on `ln A = a + b · ln peak` (peak:
/// each fit's largest LR seen) writes that line back, to rounding.
#[test]
fn a_by_peak_prior_recovers_an_exact_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let base: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ERR_FIT).unwrap()).unwrap();
    let (a, b) = (0.7, 0.31);
    let mut args = vec!["prior".to_string()];
    for (i, peak) in [1e-4f64, 3e-4, 3e-4, 2e-3].iter().enumerate() {
        let mut v = base.clone();
        v["lr_range_seen"][1] = serde_json::json!(peak);
        v["params"]["A"] = serde_json::json!((a + b * peak.ln()).exp());
        let name = path(&format!("f{i}.json"));
        std::fs::write(&name, serde_json::to_string(&v).unwrap()).unwrap();
        args.extend(["--fit".to_string(), name]);
    }
    args.extend(["--param", "A", "--by-peak", "-o"].map(String::from));
    args.push(path("prior.json"));
    let o = lrsde(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", stderr(&o));
    let p = lrsde::fit::ParamPrior::load(path("prior.json")).unwrap();
    let t = &p.terms[0];
    let slope = t.slope_ln_peak.unwrap();
    assert!((slope - b).abs() < 1e-12, "{slope}");
    assert!((t.mean_ln - slope * t.ln_peak_ref.unwrap() - a).abs() < 1e-12);
    assert!(stdout(&o).contains("ln peak"), "{}", stdout(&o));
}

/// Makes a FIFO at `path` with the system's `mkfifo`; false where there is none.
#[cfg(unix)]
fn mkfifo(path: &Path) -> bool {
    Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(unix)]
#[test]
fn output_through_a_symlink_keeps_the_link_and_writes_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let is_link = |p: &Path| {
        std::fs::symlink_metadata(p)
            .unwrap()
            .file_type()
            .is_symlink()
    };
    let target = dir.path().join("target.csv");
    std::fs::write(&target, "old").unwrap();
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink("target.csv", &link).unwrap();
    let o = simulate_small(&link);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(is_link(&link));
    let csv = std::fs::read_to_string(&target).unwrap();
    assert!(csv.starts_with("step,"), "{csv}");

    // The plot writer and the fit writer go the same way.
    let svg = dir.path().join("plot.svg");
    std::fs::write(&svg, "old").unwrap();
    let svg_link = dir.path().join("plot-link.svg");
    std::os::unix::fs::symlink(&svg, &svg_link).unwrap();
    let o = lrsde(&[
        "plot",
        "--pred",
        target.to_str().unwrap(),
        "-o",
        svg_link.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(is_link(&svg_link));
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));

    let fit = dir.path().join("fit-target.json");
    let fit_link = dir.path().join("fit.json");
    std::os::unix::fs::symlink("fit-target.json", &fit_link).unwrap();
    power_fit(dir.path());
    assert!(is_link(&fit_link));
    assert!(std::fs::read_to_string(&fit).unwrap().contains("\"law\""));
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "fit-target.json",
            "fit.json",
            "link.csv",
            "plot-link.svg",
            "plot.svg",
            "target.csv"
        ]
    );
}

#[cfg(unix)]
#[test]
fn output_to_a_fifo_writes_into_it_and_keeps_it_a_fifo() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("out.csv");
    if !mkfifo(&fifo) {
        eprintln!("skipped: no mkfifo");
        return;
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let reader_path = fifo.clone();
    // Opening a FIFO for reading waits for a writer; a build that renames over the FIFO never
    // opens it, so the wait below is bounded and the stuck reader is left behind.
    std::thread::spawn(move || {
        let _ = tx.send(std::fs::read_to_string(&reader_path));
    });
    let o = simulate_small(&fifo);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("lrsde never opened the FIFO")
        .unwrap();
    assert!(csv.starts_with("step,"), "{csv}");
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn prior_refuses_a_repeated_param_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let fit = power_fit(dir.path());
    let prior = dir.path().join("prior.json");
    let o = lrsde(&[
        "prior",
        "--fit",
        &fit,
        "--fit",
        &fit,
        "--param",
        "A",
        "--param",
        "A",
        "-o",
        prior.to_str().unwrap(),
    ]);
    assert_user_error(&o, &["--param A: given more than once"]);
    assert!(!prior.exists());
}

#[test]
fn threads_above_1024_are_refused_before_any_spawn() {
    let run = |n: &str| {
        lrsde(&[
            "simulate",
            "--schedule",
            "constant:peak=0.1,steps=100",
            "--paths",
            "8",
            "--threads",
            n,
        ])
    };
    assert_user_error(&run("100000"), &["--threads 100000: at most 1024"]);
    assert_user_error(&run("1025"), &["--threads 1025: at most 1024"]);
    let (one, most) = (run("1"), run("1024"));
    assert!(most.status.success(), "{}", stderr(&most));
    assert_eq!(stdout(&one), stdout(&most));
}

#[test]
fn sde_dim_above_its_limit_names_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let o = lrsde(&[
        "fit",
        "--law",
        "sde:dim=100000000",
        "--curve",
        &format!("{FIX}/cosine_24000.csv"),
        "-o",
        dir.path().join("fit.json").to_str().unwrap(),
    ]);
    assert_user_error(&o, &["`dim` = `100000000`", "1..=1000000"]);
    assert!(!stderr(&o).contains("positive integer"), "{}", stderr(&o));
}

#[test]
fn rank_csv_leaves_a_diverged_candidates_numbers_empty() {
    let dir = tempfile::tempdir().unwrap();
    let fit = two_run_fit(dir.path(), "sde");
    let o = lrsde(&[
        "rank",
        "--fit",
        &fit,
        "--schedule",
        "constant:peak=0.5,steps=1000",
        "--schedule",
        "constant:peak=5e-4,steps=1000",
        "--format",
        "csv",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "rank,schedule,final_loss,loss_lo,loss_hi,gap,significant,diverged,p_best"
    );
    let diverged = lines[2];
    assert!(
        diverged.starts_with("2,\"constant:peak=0.5,steps=1000\",,,,,false,"),
        "{out}"
    );
    assert!(diverged.ends_with(",0"), "{out}");
    assert!(!out.contains("inf"), "{out}");
}

#[cfg(target_os = "linux")]
#[test]
fn output_through_a_link_to_dev_stdout_reaches_stdout() {
    let dir = tempfile::tempdir().unwrap();
    for to in ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"] {
        let link = dir.path().join("out.csv");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(to, &link).unwrap();
        let o = simulate_small(&link);
        assert!(o.status.success(), "{to}: {}", stderr(&o));
        assert!(stdout(&o).starts_with("step,"), "{to}: {}", stdout(&o));
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}

/// Files left in `dir`, sorted.
#[cfg(feature = "plot")]
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[cfg(feature = "plot")]
#[test]
fn a_bad_plot_is_refused_before_the_main_output_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let schedule = "cosine:peak=3e-4,steps=2400,warmup=216";
    let predict = |plot: &str, extra: &[&str]| {
        let mut args = vec!["predict", "--fit", ERR_FIT, "--schedule", schedule];
        args.extend_from_slice(extra);
        let (out, plot) = (at("x.csv"), at(plot));
        args.extend(["-o", &out, "--plot", &plot]);
        lrsde(&args)
    };
    assert_user_error(
        &predict("x.jpg", &[]),
        &["--plot", "x.jpg", "unsupported plot format"],
    );
    assert_user_error(
        &predict("p.png", &["--from-step", "999999"]),
        &["--from-step 999999", "past the last predicted step 2400"],
    );
    let o = lrsde(&[
        "rank",
        "--fit",
        ERR_FIT,
        "--schedule",
        schedule,
        "--schedule",
        "constant:peak=3e-4,steps=2400",
        "-o",
        &at("r.csv"),
        "--plot",
        &at("r.gif"),
    ]);
    assert_user_error(&o, &["--plot", "r.gif", "unsupported plot format"]);
    let o = lrsde(&[
        "rank",
        "--fit",
        ERR_FIT,
        "--schedule",
        schedule,
        "-o",
        &at("r.csv"),
        "--plot",
        &at("r.png"),
        "--from-step",
        "3000",
    ]);
    assert_user_error(&o, &["--from-step 3000", "2400"]);
    let o = lrsde(&[
        "fit",
        "--law",
        "power",
        "--curve",
        &format!("{FIX}/cosine_24000.csv"),
        "-o",
        &at("f.json"),
        "--plot",
        &at("f.jpg"),
    ]);
    assert_user_error(&o, &["--plot", "f.jpg", "unsupported plot format"]);
    assert_eq!(files_in(dir.path()), Vec::<String>::new());
}

#[cfg(feature = "plot")]
#[test]
fn predict_resume_draws_the_observed_prefix_and_the_continuation() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, svg) = (dir.path().join("cd.csv"), dir.path().join("cd.svg"));
    let o = lrsde(&[
        "predict",
        "--fit",
        ERR_FIT,
        "--resume",
        ERR_RUN,
        "--at",
        "20000",
        "--schedule",
        "linear:peak=3e-4,steps=4000",
        "-o",
        csv.to_str().unwrap(),
        "--plot",
        svg.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&svg).expect("the continued run's plot");
    assert!(
        text.contains("ok (observed to 20000)"),
        "no observed prefix"
    );
    assert!(text.contains("continued: linear:peak=3e-4,steps=4000"));
    assert!(stderr(&o).contains(&format!("wrote {}", svg.display())));
}

#[cfg(feature = "plot")]
#[test]
fn plot_titles_name_the_band_level_of_the_fit() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let o = lrsde(&[
        "fit",
        "--law",
        "power",
        "--curve",
        ERR_RUN,
        "--level",
        "0.5",
        "-o",
        &at("fit50.json"),
        "--plot",
        &at("fit50.svg"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let schedule = "cosine:peak=3e-4,steps=2400,warmup=216";
    let o = lrsde(&[
        "predict",
        "--fit",
        &at("fit50.json"),
        "--schedule",
        schedule,
        "-o",
        &at("p.csv"),
        "--plot",
        &at("p.svg"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = lrsde(&[
        "rank",
        "--fit",
        &at("fit50.json"),
        "--schedule",
        schedule,
        "-o",
        &at("r.csv"),
        "--plot",
        &at("r.svg"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for svg in ["fit50.svg", "p.svg", "r.svg"] {
        let text = std::fs::read_to_string(at(svg)).unwrap();
        assert!(text.contains("25–75 % band"), "{svg}: no 25–75 % band");
        assert!(!text.contains("5–95"), "{svg}");
    }
}

#[cfg(feature = "plot")]
#[test]
fn plot_pairs_runs_with_predictions_by_order_when_counts_match() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    for (name, loss) in [("a.csv", 3.0), ("b.csv", 3.2)] {
        let rows: String = (1..=24)
            .map(|k| {
                let l = loss - 0.01 * k as f64;
                format!("{},3e-4,{l},{},{}\n", 1000 * k, l - 0.02, l + 0.02)
            })
            .collect();
        std::fs::write(at(name), format!("step,lr,loss,loss_lo,loss_hi\n{rows}")).unwrap();
    }
    let (cosine, constant) = (
        format!("{FIX}/cosine_24000.csv"),
        format!("{FIX}/constant_24000.csv"),
    );
    let (a, b) = (at("a.csv"), at("b.csv"));
    let plot = |curves: &[&str], out: &str| {
        let mut args = vec!["plot", "--pred", &a, "--pred", &b];
        for c in curves {
            args.extend(["--curve", c]);
        }
        let out = at(out);
        args.extend(["-o", &out]);
        let o = lrsde(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read_to_string(out).unwrap()
    };
    // Paired: the runs take their predictions' colours (the palette's first two), and the
    // legend names each pair.
    let svg = plot(&[&cosine, &constant], "pair.svg");
    for third_or_fourth in ["#009E73", "#CC79A7"] {
        assert!(
            !svg.contains(third_or_fourth),
            "a run has a colour of its own"
        );
    }
    assert!(svg.contains("a vs cosine_24000") && svg.contains("b vs constant_24000"));
    assert!(svg.contains("obs − pred"));
    // One run for two predictions: no pairing, the run gets the next colour.
    let svg = plot(&[&cosine], "one.svg");
    assert!(svg.contains("#009E73") && !svg.contains("obs − pred"));
}
