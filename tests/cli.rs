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
        assert!(dir.path().join("curves-ranking.png").exists());
    }
}

#[test]
fn continued_training_uses_the_observed_prefix_then_the_new_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let fit = dir.path().join("fit.json");
    let o = lrsde(&[
        "fit",
        "--law",
        "momentum",
        "--curve",
        &format!("{FIX}/cosine_24000.csv"),
        "--curve",
        &format!("{FIX}/constant_24000.csv"),
        "-o",
        fit.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = lrsde(&[
        "predict",
        "--fit",
        fit.to_str().unwrap(),
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
            fit.to_str().unwrap(),
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
