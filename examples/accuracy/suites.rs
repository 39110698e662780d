//! The accuracy suites of docs/accuracy.md over the public data in ../shared/data/public:
//! Multi-Power-Law curves (25M/100M/400M, two fit splits) and the lr-scheduling 124M grid.
//! Shared by `examples/accuracy` (prints the tables) and `tests/accuracy_shared.rs` (asserts).
#![allow(dead_code)]

use lrsde::assess::metrics::{Evaluation, evaluate, evaluate_params};
use lrsde::data::{LrBetweenRows, ReadOptions, TrainingCurve, WarmupPolicy, read_curve};
use lrsde::fit::FitOptions;
use lrsde::law::{AnyLaw, MultiPowerLaw};
use std::path::{Path, PathBuf};

/// `../shared/data/public` next to the crate, if present.
pub fn public_data() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/public");
    p.is_dir().then_some(p)
}

/// The MPL paper's split: fit on these, predict [`MPL_TEST`].
pub const MPL_FIT: [&str; 3] = ["cosine_24000", "constant_24000", "wsdcon_9"];
/// Held-out curves of the MPL paper.
pub const MPL_TEST: [&str; 6] = [
    "constant_72000",
    "cosine_72000",
    "wsd_20000_24000",
    "wsdld_20000_24000",
    "wsdcon_3",
    "wsdcon_18",
];
/// The two-curve split users usually have.
pub const TWO_FIT: [&str; 2] = ["cosine_24000", "constant_24000"];
/// Held-out curves of the two-curve split.
pub const TWO_TEST: [&str; 7] = [
    "constant_72000",
    "cosine_72000",
    "wsd_20000_24000",
    "wsdld_20000_24000",
    "wsdcon_3",
    "wsdcon_9",
    "wsdcon_18",
];
/// The `sde` law as evaluated (text form of [`AnyLaw`]).
pub const SDE_LAW: &str = "sde";
/// The MPL paper's held-out curve MAE of its own fit on the MPL split, per size of
/// [`MPL_SIZES`] (the authors' README: 0.00376 / 0.00435 / 0.00484).
pub const MPL_PAPER_CURVE_MAE: [f64; 3] = [0.00376, 0.00435, 0.00484];
/// How far our `mpl` fit's held-out curve MAE may lie above the paper's, per size.
pub const MPL_PAPER_TOLERANCE: f64 = 0.0005;
/// Model sizes of the MPL data.
pub const MPL_SIZES: [u32; 3] = [25, 100, 400];
/// Warmup length of every MPL run (the released code's `linspace(0, 3e-4, 2160)`).
pub const MPL_WARMUP: u64 = 2160;

/// Fit options of every suite: the defaults, with `LRSDE_ACC_STARTS` (if set) as
/// [`FitOptions::max_law_starts`].
pub fn fit_options() -> FitOptions {
    let mut o = FitOptions::default();
    if let Some(n) = std::env::var("LRSDE_ACC_STARTS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        o.max_law_starts = n;
    }
    // `LRSDE_ACC_CURVE_W=1`: every curve weighs the same in total (`lrsde fit --weigh curves`).
    if std::env::var_os("LRSDE_ACC_CURVE_W").is_some() {
        o.curve_weighting = lrsde::fit::CurveWeighting::Curves;
    }
    // Experiment: another Huber threshold on the log residuals.
    if let Some(d) = std::env::var("LRSDE_ACC_HUBER")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        o.huber_delta = d;
    }
    o
}

/// [`fit_options`] for fitting `curves`, with `LRSDE_ACC_EARLY_W=FRAC:W` (experiment, if set):
/// weight `W` instead of 1 on every point before `FRAC` × the longest curve's last step (the
/// warmup transient), or `LRSDE_ACC_RAMP_W` (below).
pub fn fit_options_for(curves: &[TrainingCurve]) -> FitOptions {
    let mut o = fit_options();
    // The longest curve's last step.
    let end = curves
        .iter()
        .filter_map(|c| c.steps.last())
        .max()
        .copied()
        .unwrap_or(0) as f64;
    if let Ok(v) = std::env::var("LRSDE_ACC_EARLY_W") {
        let (f, w) = v.split_once(':').expect("LRSDE_ACC_EARLY_W=FRAC:W");
        let (f, w): (f64, f64) = (f.parse().expect("FRAC"), w.parse().expect("W"));
        let cut = f * end;
        o.weights = Some(
            curves
                .iter()
                .map(|c| {
                    c.steps
                        .iter()
                        .map(|&s| if (s as f64) < cut { w } else { 1.0 })
                        .collect()
                })
                .collect(),
        );
    }
    // Experiment: `LRSDE_ACC_RAMP_W=P`: weight `(step / longest last step)^P` on every point.
    if let Some(p) = std::env::var("LRSDE_ACC_RAMP_W")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
    {
        let end = end.max(1.0);
        o.weights = Some(
            curves
                .iter()
                .map(|c| c.steps.iter().map(|&s| (s as f64 / end).powf(p)).collect())
                .collect(),
        );
    }
    o
}

/// Reads one MPL curve with the MPL warmup convention, linear between LR rows as the tables
/// read it; `LRSDE_ACC_STEP_LR=1`: [`mpl_curve_stepped`] with `stepped`.
pub fn mpl_curve(root: &Path, size: u32, name: &str) -> TrainingCurve {
    mpl_curve_stepped(
        root,
        size,
        name,
        std::env::var_os("LRSDE_ACC_STEP_LR").is_some(),
    )
}

/// [`mpl_curve`]; with `stepped`, read with `--lr-between-rows auto`
/// ([`LrBetweenRows::Auto`]), which keeps the two-stage `wsdcon_*` drop at update 8000 a drop,
/// as in the authors' code, where linear reading ramps it from the row at 7936 to the row at
/// 8000. The other MPL curves have no jump between flat stretches and read the same either way.
pub fn mpl_curve_stepped(root: &Path, size: u32, name: &str, stepped: bool) -> TrainingCurve {
    let path = root.join(format!(
        "MultiPowerLaw/loss_curve_repo/csv_{size}/{name}.csv"
    ));
    let between = if stepped {
        LrBetweenRows::Auto
    } else {
        LrBetweenRows::Linear
    };
    let opts = ReadOptions::default()
        .with_warmup(WarmupPolicy::Linear { steps: MPL_WARMUP })
        .with_lr_between_rows(between);
    let mut c = read_curve(&path, &opts).unwrap_or_else(|e| panic!("{e}"));
    c.name = name.to_string();
    c
}

/// Fits `law` on `fit` and scores `test` for one MPL model size; with
/// `LRSDE_ACC_SIZE_PRIOR=DIR` (experiment) under the prior `DIR/prior_{size}.json` (e.g. one
/// `lrsde prior` learned from fits of the other sizes: docs/accuracy.md, "Toward 0.005").
pub fn mpl_suite(root: &Path, law: &AnyLaw, size: u32, fit: &[&str], test: &[&str]) -> Evaluation {
    let fit: Vec<_> = fit.iter().map(|n| mpl_curve(root, size, n)).collect();
    let test: Vec<_> = test.iter().map(|n| mpl_curve(root, size, n)).collect();
    let mut o = fit_options_for(&fit);
    if let Some(dir) = std::env::var_os("LRSDE_ACC_SIZE_PRIOR") {
        let f = std::path::Path::new(&dir).join(format!("prior_{size}.json"));
        o.prior = Some(lrsde::fit::ParamPrior::load(&f).expect("size prior"));
    }
    evaluate(law, &fit, &test, &o, MPL_WARMUP)
        .unwrap_or_else(|e| panic!("{size}M {}: {e}", law.kind()))
}

/// The published MPL fit of one size ([`MultiPowerLaw::published_fit`]) scored on the MPL split as
/// [`mpl_suite`] scores a fit (row `mpl-published`; no fit runs).
/// With `stepped`, the curves of [`mpl_curve_stepped`].
pub fn mpl_published_suite(root: &Path, size: u32, stepped: bool) -> Evaluation {
    let read = |n: &&str| mpl_curve_stepped(root, size, n, stepped);
    let fit: Vec<_> = MPL_FIT.iter().map(read).collect();
    let test: Vec<_> = MPL_TEST.iter().map(read).collect();
    let law: AnyLaw = "mpl".parse().expect("mpl law");
    let params = MultiPowerLaw::published_fit(size)
        .unwrap_or_else(|| panic!("no published MPL fit for {size}M"));
    let mut e = evaluate_params(&law, &params, &fit, &test, MPL_WARMUP)
        .unwrap_or_else(|e| panic!("{size}M mpl-published: {e}"));
    e.law = "mpl-published".into();
    e
}

/// One (peak LR, horizon) cell of the 124M grid.
#[derive(Debug, Clone)]
pub struct GridCell {
    /// Peak LR.
    pub peak: f64,
    /// Training length.
    pub horizon: u64,
    /// Law fitted on the constant and cosine runs, scored on the cooldown branches.
    pub eval: Evaluation,
}

const RUN: &str = "slimpajama_llama_norm_nlayers12_nhead12";
const TAIL: &str = "bs50x2_ws2_seed0_data_seed1337.json";

fn lr_text(peak: f64) -> String {
    format!("{peak}").replace("0.0001", "0.0001")
}

/// The 124M grid: per peak LR and horizon, fit on the constant (stable) run truncated to the
/// horizon plus the cosine run, predict the WSD cooldown branches (linear, every fraction).
pub fn lr_scheduling_suite(root: &Path, law: &AnyLaw) -> Vec<GridCell> {
    lr_scheduling_cells(root, law, u64::MAX)
}

/// [`lr_scheduling_suite`] restricted to horizons of at most `max_horizon` updates.
pub fn lr_scheduling_cells(root: &Path, law: &AnyLaw, max_horizon: u64) -> Vec<GridCell> {
    grid_sets(root, max_horizon)
        .iter()
        .map(|set| grid_cell(set, law))
        .collect()
}

/// `law` fitted on one grid cell's constant + cosine runs, scored on its cooldowns.
pub fn grid_cell(set: &GridSet, law: &AnyLaw) -> GridCell {
    let eval = evaluate(law, &set.fit, &set.test, &fit_options_for(&set.fit), 300)
        .unwrap_or_else(|e| panic!("124M lr {} T {} {}: {e}", set.peak, set.horizon, law.kind()));
    GridCell {
        peak: set.peak,
        horizon: set.horizon,
        eval,
    }
}

/// The curves of one grid cell: fit on `fit` (constant + cosine), predict `test` (cooldowns).
pub struct GridSet {
    /// Peak LR.
    pub peak: f64,
    /// Training length.
    pub horizon: u64,
    /// Constant run truncated to the horizon, and the cosine run.
    pub fit: Vec<TrainingCurve>,
    /// The WSD cooldown runs of the horizon.
    pub test: Vec<TrainingCurve>,
}

/// The curves of every grid cell with horizon at most `max_horizon`.
pub fn grid_sets(root: &Path, max_horizon: u64) -> Vec<GridSet> {
    let dir = root.join("lr-scheduling/data");
    let opts = ReadOptions::default();
    let mut cells = Vec::new();
    for peak in [0.0001, 0.0005, 0.001, 0.002] {
        let lr = lr_text(peak);
        let stable = dir.join(format!(
            "stable-124m_{RUN}_lr{lr}_sched_wsd_warmup300_decay_linear_0.0_iter50000_{TAIL}"
        ));
        let Ok(stable) = read_curve(&stable, &opts) else {
            continue;
        };
        for horizon in [15000u64, 25000, 35000, 50000] {
            if horizon > max_horizon {
                continue;
            }
            let cosine = dir.join(format!(
                "cos-10-124m_{RUN}_lr{lr}_sched_cos_warmup300_decay_sqrt_0.0_iter{horizon}_{TAIL}"
            ));
            let Ok(mut cosine) = read_curve(&cosine, &opts) else {
                continue;
            };
            cosine.name = "cosine-10%".to_string();
            let constant = truncate(&stable, horizon, "constant");
            let mut test = Vec::new();
            for frac in ["0.1", "0.2", "0.4", "0.6", "0.8", "0.9"] {
                let p = dir.join(format!(
                    "ann124-{frac}_{RUN}_lr{lr}_sched_wsd_warmup300_decay_linear_{frac}_iter{horizon}_{TAIL}"
                ));
                if let Ok(mut c) = read_curve(&p, &opts) {
                    c.name = format!("wsd-{frac}");
                    test.push(c);
                }
            }
            if test.is_empty() {
                continue;
            }
            cells.push(GridSet {
                peak,
                horizon,
                fit: vec![constant, cosine],
                test,
            });
        }
    }
    cells
}

/// The first `horizon` updates of a curve (all of it when it is shorter), renamed `name`.
pub fn truncate(c: &TrainingCurve, horizon: u64, name: &str) -> TrainingCurve {
    let keep = c.steps.iter().take_while(|&&s| s <= horizon).count();
    TrainingCurve {
        name: name.to_string(),
        lrs: c.lrs.prefix(horizon as usize),
        steps: c.steps[..keep].to_vec(),
        losses: c.losses[..keep].to_vec(),
        batch: c.batch.clone(),
    }
}

/// A markdown row of the headline metrics of one evaluation.
pub fn summary_row(label: &str, e: &Evaluation) -> String {
    let rankings = e.rankings();
    let tau: Vec<f64> = rankings.iter().map(|r| r.1).collect();
    let regret: Vec<f64> = rankings.iter().map(|r| r.2).collect();
    format!(
        "| {label} | {} | {:.4} | {:.4} | {:.4} | {:.3}% | {:.2} | {:.4} | {:.1} s{} |",
        e.law,
        e.mean(|m| m.final_err.abs()),
        e.mean(|m| m.mae),
        e.mean(|m| m.r2),
        100.0 * e.mean(|m| m.mean_rel_err),
        mean(&tau),
        mean(&regret),
        e.fit_seconds,
        if e.converged { "" } else { " (not converged)" },
    )
}

/// Mean of `v` (`NaN` when empty).
pub fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Mean Kendall τ of an evaluation's rankings (`NaN` without any).
pub fn mean_tau(e: &Evaluation) -> f64 {
    mean(&e.rankings().iter().map(|r| r.1).collect::<Vec<_>>())
}

/// Every held-out curve's final error (predicted − observed), on one line.
pub fn final_errors(e: &Evaluation) -> String {
    let v: Vec<String> = e
        .held_out
        .iter()
        .map(|(n, m)| format!("{n} {:+.4}", m.final_err))
        .collect();
    format!("    final errors: {}", v.join(", "))
}

/// The stacked prediction `w·a + (1 − w)·b` of two evaluations of the same curves, scored on
/// final losses only (the other metrics need whole curves: NaN).
pub fn stack(a: &Evaluation, b: &Evaluation, w: f64) -> Evaluation {
    let mix = |x: f64, y: f64| w * x + (1.0 - w) * y;
    let nan = f64::NAN;
    Evaluation {
        law: format!("{}+{}", a.law, b.law),
        converged: a.converged && b.converged,
        fit_seconds: a.fit_seconds + b.fit_seconds,
        held_out: a
            .held_out
            .iter()
            .zip(&b.held_out)
            .map(|((n, x), (_, y))| {
                let m = lrsde::assess::metrics::CurveMetrics {
                    final_err: mix(x.final_err, y.final_err),
                    mae: nan,
                    rmse: nan,
                    r2: nan,
                    mean_rel_err: nan,
                    max_rel_err: nan,
                };
                (n.clone(), m)
            })
            .collect(),
        finals: a
            .finals
            .iter()
            .zip(&b.finals)
            .map(|(x, y)| (x.0.clone(), x.1, mix(x.2, y.2), x.3))
            .collect(),
    }
}

/// Header of [`summary_row`] tables.
pub const SUMMARY_HEADER: &str = "| data | law | final-loss MAE | curve MAE | R² | mean rel. err | Kendall τ | regret | fit time |\n|---|---|---|---|---|---|---|---|---|";

/// A cooldown branch of the 124M grid: a run resumed from a checkpoint of another run that is
/// in the data (continued training).
pub struct CooldownBranch {
    /// The branch's file.
    pub path: PathBuf,
    /// The file of the run it resumed from.
    pub parent: PathBuf,
    /// The update it resumed at.
    pub fork: u64,
    /// Peak LR, decay type, decay fraction and length, from the run's config.
    pub label: String,
}

/// Every cooldown branch under `root/lr-scheduling/data` (`ann124-*` files whose
/// `config.resume_from = ".../<parent>/ckpts/<fork>"` names a parent file present beside it;
/// fork 0 marks a run from scratch and is skipped), in file-name order. Empty when the
/// directory is absent. Shared by the continued-training table (`bands.rs`) and
/// `tests/rank_continued_shared.rs`.
pub fn cooldown_branches(root: &Path) -> Vec<CooldownBranch> {
    let dir = root.join("lr-scheduling/data");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut names: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("ann124-"))
        })
        .collect();
    names.sort();
    let mut out = Vec::new();
    for path in names {
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let Some(resume) = json["config"]["resume_from"].as_str() else {
            continue;
        };
        let mut parts = resume.rsplit('/');
        let fork: u64 = parts.next().unwrap().parse().unwrap_or(0);
        let _ckpts = parts.next();
        let parent = dir.join(format!("{}.json", parts.next().unwrap_or("")));
        if fork == 0 || !parent.is_file() {
            continue;
        }
        let cfg = &json["config"];
        let label = format!(
            "lr {} {} {} to {}",
            cfg["lr"],
            cfg["decay_type"].as_str().unwrap_or("?"),
            cfg["wsd_fract_decay"],
            cfg["iterations"]
        );
        out.push(CooldownBranch {
            path,
            parent,
            fork,
            label,
        });
    }
    out
}
