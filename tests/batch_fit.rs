//! Batch-size schedules in `fit`, `predict` and `rank` (issue 12, point 3): a curve's
//! `batch_size` column, the `sim:` laws' noise scaled by `batch_ref / B_t` (checked against the
//! exact moments run directly), constant grids changing no bit, closed-form laws refusing a
//! ramp, and a fit that recovers its parameters only when it is told the ramp.

use std::path::{Path, PathBuf};
use std::process::Command;

use lrsde::data::{DataError, ReadOptions, TrainingCurve, read_curve};
use lrsde::fit::{FitOptions, Predictor, UncertaintyMethod, fit_law};
use lrsde::law::{AnyLaw, BuiltinFamily, LawError, LossLaw, SimModelKind, Simulated};
use lrsde::nqm::{DiagonalMoments, NqmDiffusion, QuadraticParams};
use lrsde::schedule::{BatchGrid, LrGrid, ScheduleSpec};
use lrsde::solver::Method;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lrsde-batch-fit-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn batch_column_is_read_like_the_lr_with_the_first_value_held_back() {
    let dir = scratch("read");
    let csv = dir.join("run.csv");
    std::fs::write(
        &csv,
        "step,lr,loss,batch_size\n2,0.1,3.0,8\n4,0.1,2.9,\n6,0.1,2.8,16\n8,0.1,2.7,16\n",
    )
    .unwrap();
    let c = read_curve(&csv, &ReadOptions::default()).unwrap();
    // Before the first row: its value; between rows: linear as the LR; after: held.
    let want = [8.0, 8.0, 10.0, 12.0, 14.0, 16.0, 16.0, 16.0];
    assert_eq!(c.batch.as_ref().unwrap().as_slice(), &want);

    let jsonl = dir.join("run.jsonl");
    std::fs::write(
        &jsonl,
        "{\"step\":1,\"lr\":0.1,\"loss\":3,\"bs\":4}\n{\"step\":2,\"lr\":0.1,\"loss\":2.9,\"bs\":8}\n",
    )
    .unwrap();
    let c = read_curve(&jsonl, &ReadOptions::default().with_batch_column("bs")).unwrap();
    assert_eq!(c.batch.unwrap().as_slice(), &[4.0, 8.0]);
    // Without the flag `bs` is no batch column: no schedule.
    assert!(
        read_curve(&jsonl, &ReadOptions::default())
            .unwrap()
            .batch
            .is_none()
    );

    // A named column that is absent, and a batch of 0, are errors naming file and place.
    let e = read_curve(&csv, &ReadOptions::default().with_batch_column("bsz")).unwrap_err();
    assert!(matches!(e, DataError::MissingColumn { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("missing column `bsz`") && msg.contains("--batch-column"),
        "{msg}"
    );
    let bad = dir.join("zero.csv");
    std::fs::write(&bad, "step,lr,loss,batch_size\n1,0.1,3.0,8\n2,0.1,2.9,0\n").unwrap();
    let msg = read_curve(&bad, &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("zero.csv:3: column 4 (`batch_size`): batch size is 0"),
        "{msg}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// The `sim:model=nqm` law on `dim` directions, LRs in units of 1e-3, noise referring to
/// batch `batch_ref`.
fn nqm_law(dim: usize, batch_ref: Option<f64>) -> Simulated<BuiltinFamily> {
    let mut law = Simulated::new(BuiltinFamily {
        kind: SimModelKind::Nqm,
        dim,
    });
    law.set_lr_ref(1e-3).unwrap();
    law.set_batch_ref(batch_ref).unwrap();
    law
}

/// (L0, log_scale, log_hmax, power, log_noise, q)
const TRUTH: [f64; 6] = [2.0, 0.0, -1.2039728043259361, 1.5, -2.995732273553991, 0.5];

fn ramp(n: usize) -> BatchGrid {
    // 64 → 128 → 256 in three phases: the spec grammar of `--batch-schedule`.
    let third = n / 3;
    let spec: ScheduleSpec = format!(
        "constant:peak=64,steps={third}; @{third} constant:peak=128,steps={third}; \
         @{} constant:peak=256,steps={}",
        2 * third,
        n - 2 * third
    )
    .parse()
    .unwrap();
    BatchGrid::from_schedule(&spec).unwrap()
}

#[test]
fn exact_prediction_follows_the_moments_run_with_the_batch_factors() {
    let law = nqm_law(16, Some(256.0));
    let n = 1200;
    let lrs = LrGrid::new(
        (0..n)
            .map(|t| 1e-3 * (1.0 - 0.5 * t as f64 / n as f64))
            .collect(),
    )
    .unwrap();
    let steps: Vec<u64> = (1..=12).map(|k| 100 * k).collect();
    let grid = ramp(n);
    let mut got = vec![0.0; steps.len()];
    law.predict_batched(&TRUTH, &lrs, Some(&grid), &steps, &mut got)
        .unwrap();

    // The oracle: the model's spectrum and start, run by the moment recursion directly with
    // the variance factors 256 / B_t, LRs in units of lr_ref.
    let quad = QuadraticParams {
        dim: 16,
        hmax: TRUTH[2].exp(),
        power: TRUTH[3],
        noise: TRUTH[4].exp(),
        batch: 1.0,
        x0: 1.0,
    };
    let shape: Vec<f64> = (0..16)
        .map(|i| ((i + 1) as f64).powf(-0.5 * TRUTH[5]))
        .collect();
    let second = shape.iter().map(|x| x * x).collect();
    let mut m = DiagonalMoments::from_spectrum(
        quad.curvatures(),
        quad.noise_variances(),
        shape,
        second,
        NqmDiffusion::Additive,
        Method::Em,
    )
    .unwrap();
    let u: Vec<f64> = lrs.iter().map(|l| l / 1e-3).collect();
    let v: Vec<f64> = (0..n).map(|t| 256.0 / grid.at(t)).collect();
    let mut pos = 0;
    for (j, &s) in steps.iter().enumerate() {
        let s = s as usize;
        m.run_batched(&LrGrid::new(u[pos..s].to_vec()).unwrap(), &v[pos..s])
            .unwrap();
        pos = s;
        let want = TRUTH[0] + TRUTH[1].exp() * m.expected_loss();
        assert!(
            (got[j] - want).abs() <= 1e-12 * want,
            "step {}: {} vs {want}",
            steps[j],
            got[j]
        );
    }
    // The ramp is noisier than batch 256 throughout, so the loss is higher early on.
    let mut plain = vec![0.0; steps.len()];
    law.predict(&TRUTH, &lrs, &steps, &mut plain).unwrap();
    assert!(got[2] > plain[2]);
}

#[test]
fn doubling_the_batch_halves_the_stationary_excess_loss() {
    // All curvatures large enough that the mean has decayed after 4000 updates: the excess
    // loss over L0 is the stationary noise term, linear in the noise variance.
    let law = nqm_law(8, Some(128.0));
    let theta = [1.0, 0.0, (0.5f64).ln(), 0.5, (0.02f64).ln(), 0.0];
    let lrs = LrGrid::new(vec![1e-3; 4000]).unwrap();
    let excess = |b: f64| {
        let grid = BatchGrid::new(vec![b; 4000]).unwrap();
        let mut out = [0.0];
        law.predict_batched(&theta, &lrs, Some(&grid), &[4000], &mut out)
            .unwrap();
        out[0] - theta[0]
    };
    let (at, doubled) = (excess(128.0), excess(256.0));
    assert!(at > 1e-4, "{at}");
    assert!(((doubled / at) - 0.5).abs() < 1e-9, "{doubled} / {at}");
}

#[test]
fn a_constant_grid_at_the_reference_changes_no_bit() {
    let lrs = LrGrid::new((0..500).map(|t| 1e-3 * (1.0 - t as f64 / 600.0)).collect()).unwrap();
    let steps = [50, 250, 500];
    let flat = BatchGrid::new(vec![256.0; 500]).unwrap();
    let laws: Vec<(&str, AnyLaw, Vec<f64>)> = vec![
        ("sim", AnyLaw::Sim(nqm_law(16, Some(256.0))), TRUTH.to_vec()),
        (
            "sim without reference",
            AnyLaw::Sim(nqm_law(16, None)),
            TRUTH.to_vec(),
        ),
        (
            "sde",
            "sde".parse().unwrap(),
            vec![2.0, -1.0, 1.2, -3.0, 0.0, 0.5],
        ),
        ("power", "power".parse().unwrap(), vec![2.0, 1.0, 0.5]),
    ];
    for (what, law, p) in &laws {
        let np = p.len();
        let (mut a, mut b) = (vec![0.0; 3], vec![0.0; 3]);
        law.predict(p, &lrs, &steps, &mut a).unwrap();
        law.predict_batched(p, &lrs, Some(&flat), &steps, &mut b)
            .unwrap();
        assert_eq!(
            a.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            b.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            "{what}"
        );
        let (mut ja, mut jb) = (vec![0.0; 3 * np], vec![0.0; 3 * np]);
        law.predict_jacobian(p, &lrs, &steps, &mut a, &mut ja)
            .unwrap();
        law.predict_jacobian_batched(p, &lrs, Some(&flat), &steps, &mut b, &mut jb)
            .unwrap();
        assert_eq!(ja, jb, "{what}");
    }
}

#[test]
fn laws_without_a_batch_term_refuse_a_ramp_and_name_the_laws_that_take_one() {
    let grid = ramp(300);
    let lrs = LrGrid::new(vec![1e-3; 300]).unwrap();
    for name in ["mpl", "momentum", "power"] {
        let law: AnyLaw = name.parse().unwrap();
        let e = law.check_batch(&grid).unwrap_err();
        assert_eq!(e, LawError::NoBatchTerm { law: law.name() });
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("law `{name}`")) && msg.contains("sim:model=nqm"),
            "{msg}"
        );
        let p: Vec<f64> = law
            .params()
            .iter()
            .map(|s| 0.5 * (s.lower + s.upper))
            .collect();
        let mut out = [0.0];
        assert!(
            law.predict_batched(&p, &lrs, Some(&grid), &[300], &mut out)
                .is_err()
        );
    }
    // A `sim:` or `sde` law fitted without batch sizes has no reference batch for a ramp.
    let e = nqm_law(8, None).check_batch(&grid).unwrap_err();
    assert_eq!(e, LawError::NoBatchReference { law: "sim" });
    let sde: AnyLaw = "sde".parse().unwrap();
    assert_eq!(
        sde.check_batch(&grid).unwrap_err(),
        LawError::NoBatchReference { law: "sim" }
    );
}

#[test]
fn the_sde_law_follows_a_ramp_as_the_same_noisy_quadratic() {
    // Configured on curves whose largest batch is 256 (the reference of its noise `s`).
    let mut sde: AnyLaw = "sde:dim=16".parse().unwrap();
    sde.configure(&ramped_curves(300, 30)).unwrap();
    // (L0, log_kappa_max, p, log_s, log_w0, q) of the `sim:` TRUTH.
    let p = [
        TRUTH[0],
        TRUTH[2],
        TRUTH[3],
        TRUTH[4] + TRUTH[1],
        TRUTH[1],
        TRUTH[5],
    ];
    let n = 1200;
    let lrs = LrGrid::new(
        (0..n)
            .map(|t| 1e-3 * (1.0 - 0.5 * t as f64 / n as f64))
            .collect(),
    )
    .unwrap();
    let steps: Vec<u64> = (1..=12).map(|k| 100 * k).collect();
    let grid = ramp(n);
    let (mut a, mut b) = (vec![0.0; 12], vec![0.0; 12]);
    sde.predict_batched(&p, &lrs, Some(&grid), &steps, &mut a)
        .unwrap();
    nqm_law(16, Some(256.0))
        .predict_batched(&TRUTH, &lrs, Some(&grid), &steps, &mut b)
        .unwrap();
    assert_eq!(a, b);
    // Its Jacobian under the ramp against central differences of its batched prediction.
    let mut jac = vec![0.0; 12 * 6];
    let mut out = vec![0.0; 12];
    assert!(
        sde.predict_jacobian_batched(&p, &lrs, Some(&grid), &steps, &mut out, &mut jac)
            .unwrap()
    );
    assert_eq!(out, a);
    for k in 0..6 {
        let h = 1e-5;
        let (mut up, mut down) = (p, p);
        up[k] += h;
        down[k] -= h;
        let (mut fu, mut fd) = (vec![0.0; 12], vec![0.0; 12]);
        sde.predict_batched(&up, &lrs, Some(&grid), &steps, &mut fu)
            .unwrap();
        sde.predict_batched(&down, &lrs, Some(&grid), &steps, &mut fd)
            .unwrap();
        for j in 0..12 {
            let fdiff = (fu[j] - fd[j]) / (2.0 * h);
            let got = jac[j * 6 + k];
            assert!(
                (got - fdiff).abs() <= 1e-5 * fdiff.abs().max(1e-3),
                "param {k}, step {}: {got} vs {fdiff}",
                steps[j]
            );
        }
    }
    // At the reference batch throughout: the sde law's own recursion, bit for bit.
    let flat = BatchGrid::new(vec![256.0; n]).unwrap();
    let mut own = vec![0.0; 12];
    sde.predict(&p, &lrs, &steps, &mut own).unwrap();
    sde.predict_batched(&p, &lrs, Some(&flat), &steps, &mut b)
        .unwrap();
    assert_eq!(own, b);
}

/// Warmup then cosine to 10 %, constant, or WSD, `n` updates at peak 1e-3.
fn lr_grid(kind: &str, n: usize) -> LrGrid {
    let warm = n / 30;
    let lrs = (0..n)
        .map(|t| {
            if t < warm {
                return 1e-3 * (t + 1) as f64 / warm as f64;
            }
            let x = (t - warm) as f64 / (n - warm) as f64;
            1e-3 * match kind {
                "cosine" => 0.1 + 0.45 * (1.0 + (std::f64::consts::PI * x).cos()),
                "wsd" if x > 0.8 => (1.0 - (x - 0.8) / 0.2).max(0.0) + 1e-3,
                _ => 1.0,
            }
        })
        .collect();
    LrGrid::new(lrs).unwrap()
}

/// Curves generated by the exact `nqm` law at `TRUTH` under the batch ramp.
fn ramped_curves(n: usize, every: usize) -> Vec<TrainingCurve> {
    let law = nqm_law(16, Some(256.0));
    let grid = ramp(n);
    ["cosine", "constant", "wsd"]
        .into_iter()
        .map(|kind| {
            let lrs = lr_grid(kind, n);
            let steps: Vec<u64> = (1..=n / every).map(|k| (k * every) as u64).collect();
            let mut losses = vec![0.0; steps.len()];
            law.predict_batched(&TRUTH, &lrs, Some(&grid), &steps, &mut losses)
                .unwrap();
            TrainingCurve {
                name: kind.into(),
                lrs,
                steps,
                losses,
                batch: Some(grid.clone()),
            }
        })
        .collect()
}

fn quick() -> FitOptions {
    FitOptions {
        uncertainty: UncertaintyMethod::None,
        max_law_starts: 2,
        ..FitOptions::default()
    }
}

/// Root-mean-square log residual of `predictor` on `curves` (each under its own batch grid).
fn rms_log_residual(predictor: &Predictor, curves: &[TrainingCurve]) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for c in curves {
        let pred = predictor
            .law()
            .predict_curve(&predictor.params(), c)
            .unwrap();
        for (p, l) in pred.iter().zip(&c.losses) {
            sum += (l.ln() - p.ln()).powi(2);
            n += 1;
        }
    }
    (sum / n as f64).sqrt()
}

#[test]
fn a_fit_told_the_ramp_recovers_its_parameters_and_one_without_it_does_not_fit() {
    let curves = ramped_curves(3000, 25);
    let mut law: AnyLaw = "sim:model=nqm,dim=16".parse().unwrap();
    law.set_lr_ref(1e-3).unwrap();
    let fitted = fit_law(law.clone(), &curves, &quick()).unwrap();
    assert!(fitted.report.converged, "{}", fitted.report.termination);
    let names: Vec<&str> = law.params().iter().map(|p| p.name).collect();
    for (name, want) in names.iter().zip(TRUTH) {
        let got = fitted.params[*name];
        assert!((got - want).abs() <= 1e-2, "{name} = {got}, truth {want}");
    }
    // The fit file keeps the reference batch: predicting under the ramp reproduces the data.
    let with = Predictor::from_json_str(&fitted.to_json_string().unwrap()).unwrap();
    assert!(with.law().check_batch(&ramp(3000)).is_ok());
    let rms_with = rms_log_residual(&with, &curves);
    assert!(rms_with < 1e-5, "{rms_with}");
    let ramped = with.clone().with_batch_schedule(Some(ramp(3000))).unwrap();
    let p = ramped.predict(&curves[0].lrs, &curves[0].steps).unwrap();
    for (a, b) in p.iter().zip(&curves[0].losses) {
        assert!((a - b).abs() < 1e-4 * b, "{a} vs {b}");
    }

    // The same data fitted as if the batch were constant: visibly worse.
    let blind: Vec<TrainingCurve> = curves
        .iter()
        .cloned()
        .map(|c| TrainingCurve { batch: None, ..c })
        .collect();
    let without = Predictor::from_fitted(fit_law(law, &blind, &quick()).unwrap()).unwrap();
    let rms_without = rms_log_residual(&without, &blind);
    assert!(
        rms_without > 20.0 * rms_with.max(1e-6),
        "with the ramp {rms_with}, without {rms_without}"
    );
}

fn lrsde(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lrsde"))
        .args(args)
        .output()
        .unwrap()
}

fn write_ramped_csv(path: &Path, curve: &TrainingCurve) {
    let mut text = String::from("step,lr,loss,batch_size\n");
    let batch = curve.batch.as_ref().unwrap();
    let mut j = 0;
    for t in 0..curve.lrs.len() {
        let step = t as u64 + 1;
        let loss = if curve.steps.get(j) == Some(&step) {
            j += 1;
            format!("{}", curve.losses[j - 1])
        } else {
            String::new()
        };
        text.push_str(&format!("{step},{},{loss},{}\n", curve.lrs[t], batch.at(t)));
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn cli_fits_predicts_and_ranks_with_batch_ramps_and_refuses_what_cannot_follow_one() {
    let dir = scratch("cli");
    let curves = ramped_curves(600, 20);
    let csv = dir.join("ramp.csv");
    write_ramped_csv(&csv, &curves[1]);
    let fit = dir.join("fit.json");
    let (csv_s, fit_s) = (csv.to_str().unwrap(), fit.to_str().unwrap());

    // A closed-form law refuses the curve's ramp (exit 2, one line naming the law).
    let o = lrsde(&["fit", "--law", "power", "--curve", csv_s, "-o", fit_s]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("law `power` has no batch-size term"), "{err}");
    assert!(!fit.exists());

    let o = lrsde(&[
        "fit",
        "--law",
        "sim:model=nqm,dim=8",
        "--curve",
        csv_s,
        "--allow-unconverged",
        "-o",
        fit_s,
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let pred = dir.join("pred.csv");
    let o = lrsde(&[
        "predict",
        "--fit",
        fit_s,
        "--schedule",
        "constant:peak=1e-3,steps=600",
        "--batch-schedule",
        "constant:peak=256,steps=600,warmup=300",
        "-o",
        pred.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = lrsde(&[
        "rank",
        "--fit",
        fit_s,
        "--schedule",
        "constant:peak=1e-3,steps=600",
        "--schedule",
        "cosine:peak=1e-3,steps=600",
        "--batch-schedule",
        csv_s,
        "--format",
        "csv",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // --resume: the run's own batch column covers the prefix, the flag what follows.
    let o = lrsde(&[
        "rank",
        "--fit",
        fit_s,
        "--resume",
        csv_s,
        "--at",
        "300",
        "--schedule",
        "linear:peak=1e-3,steps=300",
        "--batch-schedule",
        "constant:peak=512,steps=300",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // A fit without batch sizes cannot follow a ramp.
    let o = lrsde(&[
        "predict",
        "--fit",
        "tests/errors/fit.json",
        "--schedule",
        "constant:peak=3e-4,steps=100",
        "--batch-schedule",
        "constant:peak=64,steps=100,warmup=50",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--batch-schedule constant:peak=64,steps=100,warmup=50: law `power`"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// `fit --law sde` on a curve with a batch ramp fits (the exact law follows the ramp as
/// `sim:model=nqm` does); its fast tabulated search, which holds the reference batch, is
/// skipped there. It used to refuse with "law `sde` has no batch-size term", naming itself as
/// the remedy.
#[test]
fn cli_fits_the_sde_law_on_a_batch_ramp() {
    let dir = scratch("cli_sde");
    let curves = ramped_curves(600, 20);
    let csv = dir.join("ramp.csv");
    write_ramped_csv(&csv, &curves[1]);
    let fit = dir.join("fit.json");
    let o = lrsde(&[
        "fit",
        "--law",
        "sde:dim=8",
        "--curve",
        csv.to_str().unwrap(),
        "--allow-unconverged",
        "-o",
        fit.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&fit).unwrap()).unwrap();
    assert!(
        saved["law_config"]["batch_ref"].as_f64().is_some(),
        "{}",
        saved["law_config"]
    );
}
