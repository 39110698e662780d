//! The lr-scheduling model-size sets (docs/accuracy.md, "Model-size sets"): the runs of the
//! scaling experiments beside the 124M grid — per model (depth, width, data set, batch) a
//! cosine run at the tuned cosine peak, a constant ("stable") run at the WSD peak, and WSD runs
//! with a 20 % linear cooldown, each at several horizons. No law, band or choice rule was
//! tuned on them: they are the held-out check of what the other tables taught.
//!
//! The protocol is the grid's, fixed before the first measurement: per model and horizon `T`
//! of a WSD cooldown run, fit on the stable run's first `min(T, its length)` updates plus the
//! cosine run of horizon `T`, and predict the cooldown run. The cosine peak is twice the WSD
//! peak on every model (the data's authors tuned each schedule's LR), so the fit sees the
//! prediction's LRs only through the cosine's decay.
#![allow(dead_code)]

use crate::bands::assess_set;
use crate::suites::{fit_options_for, grid_sets, truncate};
use lrsde::assess::metrics::{Evaluation, evaluate};
use lrsde::assess::{Assessment, LawChoice};
use lrsde::data::{ReadOptions, TrainingCurve, read_curve};
use lrsde::law::AnyLaw;
use std::collections::BTreeMap;
use std::path::Path;

/// One (model, horizon) cell of the model-size sets.
pub struct SizeSet {
    /// Model (data set, depth, heads, batch) and horizon, e.g. `slimpajama L10 H8 bs50x2 T 7500`.
    pub label: String,
    /// Peak LR of the cooldown run (and of the stable run).
    pub peak: f64,
    /// Training length of the cosine and the cooldown run.
    pub horizon: u64,
    /// The stable run truncated to the horizon, and the cosine run.
    pub fit: Vec<TrainingCurve>,
    /// The WSD cooldown run.
    pub test: Vec<TrainingCurve>,
}

/// The parts of a scaling-run file name
/// `{prefix}_{run}_lr{lr}_sched_{sched}_warmup300_iter{T}_{tail}` that identify its set.
#[derive(Debug, Clone, PartialEq)]
struct RunName {
    prefix: String,
    /// Data set and architecture, e.g. `slimpajama_llama_norm_nlayers10_nhead8`.
    run: String,
    lr: f64,
    sched: String,
    iters: u64,
    /// Batch and seeds, e.g. `bs50x2_ws2_seed0_data_seed1337`.
    tail: String,
}

impl RunName {
    /// `None` for files of other experiments (the 124M grid's, whose names carry a decay
    /// part, and any name that does not parse).
    fn parse(file: &str) -> Option<RunName> {
        let stem = file.strip_suffix(".json")?;
        let (head, rest) = stem.split_once("_sched_")?;
        let (prefix_run, lr) = head.rsplit_once("_lr")?;
        let (prefix, run) = match prefix_run.split_once('_') {
            Some((p, r)) if !is_data_set(p) => (p.to_string(), r.to_string()),
            _ => (String::new(), prefix_run.to_string()),
        };
        let (sched, rest) = rest.split_once("_warmup300_iter")?;
        let (iters, tail) = rest.split_once('_')?;
        Some(RunName {
            prefix,
            run,
            lr: lr.parse().ok()?,
            sched: sched.to_string(),
            iters: iters.parse().ok()?,
            tail: tail.to_string(),
        })
    }

    fn is_cooldown(&self) -> bool {
        self.sched == "wsd" && self.prefix.starts_with("ann") && self.prefix.ends_with("0.2")
    }
}

fn is_data_set(part: &str) -> bool {
    part.starts_with("slimpajama") || part.starts_with("openwebtext2")
}

/// Every model-size cell under `root/lr-scheduling/data` (sorted by model, then horizon);
/// empty when the directory is absent. A cooldown run needs a cosine run of its horizon and a
/// stable run of its model and peak. The 124M grid's runs (whose names carry a decay part)
/// do not parse and are not among them.
pub fn size_sets(root: &Path) -> Vec<SizeSet> {
    let dir = root.join("lr-scheduling/data");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut names: Vec<(RunName, String)> = entries
        .flatten()
        .filter_map(|e| {
            let file = e.file_name().to_string_lossy().into_owned();
            RunName::parse(&file).map(|n| (n, file))
        })
        .collect();
    names.sort_by(|a, b| a.1.cmp(&b.1));
    let opts = ReadOptions::default();
    let read = |file: &str| read_curve(&dir.join(file), &opts).unwrap_or_else(|e| panic!("{e}"));
    // Model key → cells, so that every model's horizons come out together.
    let mut by_model: BTreeMap<(String, String), Vec<SizeSet>> = BTreeMap::new();
    for (cooldown, file) in names.iter().filter(|(n, _)| n.is_cooldown()) {
        let same_model = |n: &RunName| n.run == cooldown.run && n.tail == cooldown.tail;
        let cosine = names
            .iter()
            .find(|(n, _)| same_model(n) && n.sched == "cos" && n.iters == cooldown.iters);
        let stable = names
            .iter()
            .filter(|(n, _)| {
                same_model(n)
                    && n.sched == "wsd"
                    && !n.prefix.starts_with("ann")
                    && n.lr == cooldown.lr
            })
            .max_by_key(|(n, _)| n.iters);
        let (Some((_, cosine)), Some((_, stable))) = (cosine, stable) else {
            continue;
        };
        let horizon = cooldown.iters;
        let constant = truncate(&read(stable), horizon, "constant");
        let mut cos = read(cosine);
        cos.name = "cosine".into();
        // The cooldown runs resumed from a checkpoint of the stable run; name its file, which
        // the reader finds beside the branch only when the name has no prefix.
        let branch = opts.clone().with_parent(dir.join(stable));
        let mut test = read_curve(&dir.join(file), &branch).unwrap_or_else(|e| panic!("{e}"));
        test.name = "wsd-0.2".into();
        let model = model_label(cooldown);
        by_model
            .entry((cooldown.run.clone(), cooldown.tail.clone()))
            .or_default()
            .push(SizeSet {
                label: format!("{model} T {horizon}"),
                peak: cooldown.lr,
                horizon,
                fit: vec![constant, cos],
                test: vec![test],
            });
    }
    by_model
        .into_values()
        .flat_map(|mut cells| {
            cells.sort_by_key(|c| c.horizon);
            cells
        })
        .collect()
}

/// The same protocol on the 124M grid's runs: per peak `p` whose doubled peak `2p` has a cell
/// of the same horizon, fit on the stable run at `p` truncated to `T` plus the cosine at `2p`,
/// and predict the WSD cooldowns at `p` (every fraction). A second set of fits across two peak
/// LRs, from other runs (one 124M model, cooldowns of 10–90 %).
pub fn grid_cross_peak_sets(root: &Path) -> Vec<SizeSet> {
    let cells = grid_sets(root, u64::MAX);
    let mut out = Vec::new();
    for low in &cells {
        let high = cells
            .iter()
            .find(|c| c.horizon == low.horizon && (c.peak / low.peak - 2.0).abs() < 1e-9);
        if let Some(high) = high {
            // Experiment (LRSDE_ACC_HALF_PEAK=1): both fit curves at 2p, the cooldowns at p.
            let (fit, what) = if std::env::var_os("LRSDE_ACC_HALF_PEAK").is_some() {
                (high.fit.clone(), "fit at")
            } else {
                (vec![low.fit[0].clone(), high.fit[1].clone()], "cosine")
            };
            out.push(SizeSet {
                label: format!(
                    "124M lr {} ({what} {}) T {}",
                    low.peak, high.peak, low.horizon
                ),
                peak: low.peak,
                horizon: low.horizon,
                fit,
                test: low.test.clone(),
            });
        }
    }
    out
}

/// The grid's other pairs of peaks, for a check of rules chosen on the two tables above: per
/// horizon `T` and ordered pair of distinct peaks `(a, b)` that is not `(p, 2p)` (those are
/// [`grid_cross_peak_sets`]), fit the constant run at `a` truncated to `T` plus the cosine at `b`,
/// and predict the WSD cooldowns at `a`: the cosine at 1/20 to 1/2 or 4 to 20 times the peak.
pub fn grid_other_pair_sets(root: &Path) -> Vec<SizeSet> {
    let cells = grid_sets(root, u64::MAX);
    let mut out = Vec::new();
    for low in &cells {
        for high in &cells {
            let ratio = high.peak / low.peak;
            if high.horizon != low.horizon
                || (ratio - 1.0).abs() < 1e-9
                || (ratio - 2.0).abs() < 1e-9
            {
                continue;
            }
            out.push(SizeSet {
                label: format!(
                    "124M lr {} (cosine {}) T {}",
                    low.peak, high.peak, low.horizon
                ),
                peak: low.peak,
                horizon: low.horizon,
                fit: vec![low.fit[0].clone(), high.fit[1].clone()],
                test: low.test.clone(),
            });
        }
    }
    out
}

/// `slimpajama L10 H8 bs50x2` from a run name (`…_nlayers10_nhead8`, tail `bs50x2_…`), with
/// `210M` for the runs of the 210M experiment (`ann210-*`), whose model has the same depth and
/// heads as another but no `norm` in its name.
fn model_label(n: &RunName) -> String {
    let data = n.run.split('_').next().unwrap_or("?");
    let field = |key: &str| {
        n.run
            .split('_')
            .find_map(|p| p.strip_prefix(key))
            .unwrap_or("?")
            .to_string()
    };
    let batch = n.tail.split('_').next().unwrap_or("?");
    let experiment = if n.prefix.starts_with("ann210") {
        " 210M"
    } else {
        ""
    };
    format!(
        "{data} L{} H{} {batch}{experiment}",
        field("nlayers"),
        field("nhead")
    )
}

/// Warmup of every scaling run (`warmup300` in its name): R² counts the points after it.
const WARMUP: u64 = 300;

/// `law` fitted on one cell's stable + cosine runs, scored on its cooldown run.
pub fn size_eval(set: &SizeSet, law: &AnyLaw) -> Evaluation {
    evaluate(law, &set.fit, &set.test, &fit_options_for(&set.fit), WARMUP)
        .unwrap_or_else(|e| panic!("{} {}: {e}", set.label, law.kind()))
}

/// `choice` fitted with a calibrated band on one cell's fit curves, scored on its cooldown.
pub fn size_assess(set: &SizeSet, choice: &LawChoice) -> Assessment {
    assess_set(choice, &set.fit, &set.test, WARMUP, &set.label)
}
