//! Ranking, search and continued training on toy laws whose answers are known analytically.

use lrsde::data::TrainingCurve;
use lrsde::fit::{FitOptions, FittedLaw, Predictor, fit};
use lrsde::law::{AnyLaw, LawError, LossLaw, ParamSpec};
use lrsde::rank::{
    Candidate, ContinueOptions, DefaultPeak, LevelCorrection, RankError, RankOptions,
    SearchOptions, SearchSpec, StepLaw, continue_from, fork_prefix, rank, search,
};
use lrsde::schedule::{Schedule, ScheduleSpec};

/// Deterministic ±0.1 % wiggle so the fit has a non-zero residual variance (and a band).
fn wiggle(i: usize) -> f64 {
    1.0 + 1e-3 * ((i % 3) as f64 - 1.0)
}

/// A constant-LR run at `lr` for `n` updates, observed every `every` steps.
fn run(lr: f64, n: u64, every: u64, loss: impl Fn(u64) -> f64) -> TrainingCurve {
    let steps: Vec<u64> = (1..=n / every).map(|k| k * every).collect();
    let losses = steps
        .iter()
        .enumerate()
        .map(|(i, &s)| loss(s) * wiggle(i))
        .collect();
    TrainingCurve {
        name: "run".into(),
        lrs: lrsde::schedule::LrGrid::new(vec![lr; n as usize]).unwrap(),
        steps,
        losses,
        batch: None,
    }
}

/// The fit paired with its law, as `rank`, `search` and `continue_from` take it.
fn pred<L: LossLaw + Clone>(fitted: &FittedLaw, law: &L) -> Predictor<L> {
    Predictor::with_law(fitted.clone(), law.clone()).unwrap()
}

fn fit_law<L: LossLaw>(law: &mut L, curve: &TrainingCurve) -> FittedLaw {
    let curves = std::slice::from_ref(curve);
    law.configure(curves).unwrap();
    let opts = FitOptions {
        starts: law.initial_guesses(curves),
        ..FitOptions::default()
    };
    let f = fit(&*law, curves, &opts).unwrap();
    assert!(f.uncertainty.is_some());
    f
}

/// Power law `2 + 3·S1^−0.5` fitted on a constant run at 1e-3 for 2000 updates.
fn power_fit() -> (AnyLaw, FittedLaw) {
    let mut law: AnyLaw = "power".parse().unwrap();
    let c = run(1e-3, 2000, 50, |s| 2.0 + 3.0 / (s as f64).sqrt());
    let f = fit_law(&mut law, &c);
    (law, f)
}

fn cands(specs: &[&str]) -> Vec<Candidate> {
    specs.iter().map(|s| s.parse().unwrap()).collect()
}

#[test]
fn more_lr_area_ranks_first_with_paired_significance() {
    let (law, fitted) = power_fit();
    let c = cands(&[
        "cosine:peak=1e-3,steps=2000",
        "wsd:peak=1e-3,steps=2000,decay=0.2",
        "constant:peak=1e-3,steps=2000",
    ]);
    let r = rank(&pred(&fitted, &law), &c, &RankOptions::default()).unwrap();
    let labels: Vec<&str> = r.entries.iter().map(|e| e.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "constant:peak=1e-3,steps=2000",
            "wsd:peak=1e-3,steps=2000,decay=0.2",
            "cosine:peak=1e-3,steps=2000"
        ]
    );
    let p = fitted.params_vec();
    for (e, rankno) in r.entries.iter().zip(1..) {
        assert_eq!(e.rank, rankno);
        assert!(e.diverged.is_none() && e.warnings.is_empty(), "{e:?}");
        // The power law sees only the LR area: final = L0 + A·S1^−α, S1 in units of lr_ref.
        let spec: ScheduleSpec = e.label.parse().unwrap();
        let s1: f64 = spec.grid().as_slice().iter().sum::<f64>() / 1e-3;
        let want = p[0] + p[1] * s1.powf(-p[2]);
        assert!(
            (e.final_loss - want).abs() < 1e-9 * want,
            "{} vs {want}",
            e.final_loss
        );
        assert!(e.loss_lo <= e.final_loss && e.final_loss <= e.loss_hi);
    }
    assert_eq!(r.entries[0].gap, 0.0);
    assert!(!r.entries[0].significant);
    // Every draw has A > 0 and α > 0, so less area is worse in every draw: significant.
    for e in &r.entries[1..] {
        assert!(e.gap > 0.0 && e.significant, "{e:?}");
    }
    assert_eq!(r.best().unwrap().label, "constant:peak=1e-3,steps=2000");

    // Identical candidates: every paired gap is 0, never significant; ties keep input order.
    let same = vec![
        Candidate::new(
            "a",
            "constant:peak=1e-3,steps=2000".parse::<Schedule>().unwrap(),
        ),
        Candidate::new(
            "b",
            "constant:peak=1e-3,steps=2000".parse::<Schedule>().unwrap(),
        ),
    ];
    let r = rank(&pred(&fitted, &law), &same, &RankOptions::default()).unwrap();
    assert_eq!(
        (r.entries[0].label.as_str(), r.entries[1].label.as_str()),
        ("a", "b")
    );
    assert_eq!(r.entries[1].gap, 0.0);
    assert!(!r.entries[1].significant);
}

#[test]
fn extrapolation_warns_and_outputs_have_the_contract_columns() {
    let (law, fitted) = power_fit();
    let c = cands(&[
        "constant:peak=1e-3,steps=6000",
        "constant:peak=2e-3,steps=2000",
    ]);
    let r = rank(&pred(&fitted, &law), &c, &RankOptions::default()).unwrap();
    let long = r.entries.iter().find(|e| e.label.contains("6000")).unwrap();
    assert_eq!(
        long.warnings,
        ["extrapolating to 6000 steps, fit saw up to 2000"]
    );
    let hot = r.entries.iter().find(|e| e.label.contains("2e-3")).unwrap();
    assert!(
        hot.warnings[0].contains("exceeds the largest LR the fit saw"),
        "{:?}",
        hot.warnings
    );

    let mut csv = Vec::new();
    r.write_csv(&mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        csv.starts_with(
            "rank,schedule,final_loss,loss_lo,loss_hi,gap,significant,diverged,p_best\n"
        )
    );
    assert_eq!(csv.lines().count(), 3);
    let json: serde_json::Value = serde_json::to_value(&r).unwrap();
    let e0 = &json["entries"][0];
    for key in [
        "rank",
        "schedule",
        "final_loss",
        "loss_lo",
        "loss_hi",
        "gap",
        "significant",
        "diverged",
        "warnings",
    ] {
        assert!(e0.get(key).is_some(), "missing {key} in {e0}");
    }
    assert!(e0["diverged"].is_null());
    assert!(r.to_string().contains("rank  schedule"));
}

/// `L = L0 + A/(1 + S1) + 2^m − 1`, `m` = updates so far with LR > 1: blows up (doubles every
/// update) above LR 1, like SGD beyond its stability limit.
#[derive(Clone)]
struct Blowup;

impl LossLaw for Blowup {
    fn name(&self) -> &'static str {
        "blowup"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::linear("L0", 0.0, 10.0),
            ParamSpec::log("A", 1e-3, 1e3),
        ]
    }
    fn predict(
        &self,
        p: &[f64],
        lrs: &lrsde::schedule::LrGrid,
        steps: &[u64],
        out: &mut [f64],
    ) -> Result<(), LawError> {
        let (mut s1, mut m, mut t) = (0.0, 0i32, 0usize);
        for (o, &k) in out.iter_mut().zip(steps) {
            while t < k as usize {
                s1 += lrs[t];
                m += i32::from(lrs[t] > 1.0);
                t += 1;
            }
            *o = p[0] + p[1] / (1.0 + s1) + 2f64.powi(m) - 1.0;
        }
        Ok(())
    }
    fn configure(&mut self, _: &[TrainingCurve]) -> Result<(), LawError> {
        Ok(())
    }
    fn initial_guesses(&self, _: &[TrainingCurve]) -> Vec<Vec<f64>> {
        vec![vec![1.0, 1.0]]
    }
}

#[test]
fn diverged_candidates_rank_last_with_their_first_step() {
    let mut law = Blowup;
    let fitted = fit_law(
        &mut law,
        &run(0.5, 1000, 20, |s| 2.0 + 5.0 / (1.0 + 0.5 * s as f64)),
    );
    let c = cands(&[
        "constant:peak=2,steps=1000,warmup=100",
        "constant:peak=4,steps=1000,warmup=100",
        "constant:peak=0.5,steps=1000",
    ]);
    let r = rank(&pred(&fitted, &law), &c, &RankOptions::default()).unwrap();
    assert_eq!(r.entries[0].label, "constant:peak=0.5,steps=1000");
    assert!(r.entries[0].diverged.is_none());
    // Brute force: the first step whose loss exceeds twice the lowest loss before it.
    let first_bad = |spec: &str| -> u64 {
        let g = spec.parse::<ScheduleSpec>().unwrap().grid();
        let steps: Vec<u64> = (1..=1000).collect();
        let mut out = vec![0.0; 1000];
        law.predict(
            &fitted.params_vec(),
            &lr_grid(g.as_slice()),
            &steps,
            &mut out,
        )
        .unwrap();
        let mut min = f64::INFINITY;
        for (k, v) in out.iter().enumerate() {
            if !v.is_finite() || *v > 2.0 * min {
                return k as u64 + 1;
            }
            min = min.min(*v);
        }
        panic!("no divergence")
    };
    // peak 4 crosses LR 1 earlier (update 26) than peak 2 (update 51): ranked after it.
    for (e, spec) in r.entries[1..].iter().zip([
        "constant:peak=2,steps=1000,warmup=100",
        "constant:peak=4,steps=1000,warmup=100",
    ]) {
        assert_eq!(e.label, spec);
        let want = first_bad(spec);
        let got = e.diverged.expect("diverged");
        // The bisection compares against the lowest loss at the evaluated curve steps, which
        // can sit one update before the true minimum.
        assert!(got == want || got == want + 1, "{spec}: {got} vs {want}");
        assert!(e.final_loss.is_infinite() && !e.significant);
    }
    let csv = {
        let mut v = Vec::new();
        r.write_csv(&mut v).unwrap();
        String::from_utf8(v).unwrap()
    };
    // No loss for a diverged candidate: empty cells, as JSON gives null, not `inf`.
    assert_eq!(
        csv.lines().nth(2).unwrap(),
        format!(
            "2,\"constant:peak=2,steps=1000,warmup=100\",,,,,false,{},0",
            r.entries[1].diverged.unwrap()
        )
    );
    assert!(!csv.contains("inf"), "{csv}");
}

/// `L = L0 + (x − 0.15)² + 0.01·lr_last/lr_max` with `x = 1 − S1/(k·lr_max)` the fraction of LR
/// area given up by decaying: a WSD schedule decaying linearly to 0 has `x = decay/2`, so the
/// best decay is 0.3 (sqrt shape: `x = 2·decay/3`, best 0.225) with `final = 0`.
#[derive(Clone)]
struct Anneal;

impl LossLaw for Anneal {
    fn name(&self) -> &'static str {
        "anneal"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![ParamSpec::linear("L0", 0.0, 10.0)]
    }
    fn predict(
        &self,
        p: &[f64],
        lrs: &lrsde::schedule::LrGrid,
        steps: &[u64],
        out: &mut [f64],
    ) -> Result<(), LawError> {
        for (o, &k) in out.iter_mut().zip(steps) {
            let seen = &lrs[..k as usize];
            let max = seen.iter().copied().fold(0.0, f64::max);
            let x = 1.0 - seen.iter().sum::<f64>() / (k as f64 * max);
            *o = p[0] + (x - 0.15).powi(2) + 0.01 * seen[seen.len() - 1] / max;
        }
        Ok(())
    }
    fn configure(&mut self, _: &[TrainingCurve]) -> Result<(), LawError> {
        Ok(())
    }
    fn initial_guesses(&self, _: &[TrainingCurve]) -> Vec<Vec<f64>> {
        vec![vec![1.0]]
    }
}

fn anneal_fit() -> FittedLaw {
    let mut law = Anneal;
    // Constant LR: x = 0, L = L0 + 0.0225 + 0.01.
    fit_law(&mut law, &run(1.0, 1000, 50, |_| 3.0325))
}

#[test]
fn search_finds_the_interior_optimum_of_the_decay_fraction() {
    let fitted = anneal_fit();
    let spec: SearchSpec = "wsd:peak=1,steps=1000,decay=0.05..0.6".parse().unwrap();
    let r = search(&pred(&fitted, &Anneal), &spec, &SearchOptions::default()).unwrap();
    let Some(lrsde::schedule::Family::Wsd { decay, .. }) = Some(r.best.family().clone()) else {
        panic!("not wsd")
    };
    assert!((decay - 0.3).abs() < 3e-3, "decay {decay}");
    assert_eq!(r.free_keys, ["decay"]);
    assert!(
        r.points.len() >= 24 && r.points.len() < 80,
        "{}",
        r.points.len()
    );
    assert!(r.points.iter().all(|p| p.final_loss >= r.final_loss));
    assert_eq!(r.spec, r.best.to_string());
    assert_eq!(*r.curve.steps.last().unwrap(), 1000);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    // An interior optimum touches no edge; the display rounds decay to the search's
    // resolution, 1e-5 of the range 0.55 = 5.5e-6, i.e. to 6 decimals.
    assert!(r.edges.is_empty(), "{:?}", r.edges);
    assert!(r.default_peak.is_none());
    assert!(
        (r.resolution[0] - 5.5e-6).abs() < 1e-18,
        "{:?}",
        r.resolution
    );
    let rounded: f64 = format!("{decay:.6}").parse().unwrap();
    assert_eq!(
        r.display_spec,
        format!("wsd:peak=1,steps=1000,decay={rounded},shape=linear,final=0")
    );
    assert!((rounded - decay).abs() <= r.resolution[0]);

    // 2-D with a choice list: final = 0 on the boundary, decay matching the shape.
    let spec: SearchSpec = "wsd:peak=1,steps=1000,decay=0.05..0.6,final=0..0.5,shape=linear|sqrt"
        .parse()
        .unwrap();
    let r = search(&pred(&fitted, &Anneal), &spec, &SearchOptions::default()).unwrap();
    let lrsde::schedule::Family::Wsd {
        decay,
        shape,
        floor,
    } = r.best.family().clone()
    else {
        panic!("not wsd")
    };
    let want = match shape {
        lrsde::schedule::WsdShape::Sqrt => 0.225,
        _ => 0.3,
    };
    assert!(floor < 1e-3, "final {floor}");
    assert!((decay - want).abs() < 5e-3, "{shape:?} decay {decay}");
    assert_eq!(r.choice_keys, ["shape"]);
    // `final` = 0 is the lower end of its range: reported, and nothing else is.
    assert_eq!(r.edges.len(), 1, "{:?}", r.edges);
    assert_eq!(
        (r.edges[0].key.as_str(), r.edges[0].bound, r.edges[0].upper),
        ("final", 0.0, false)
    );
}

#[test]
fn peak_search_defaults_to_seen_range_or_step_law_prior() {
    let (law, fitted) = power_fit();
    // The power law prefers the most LR area: the top of the range.
    let spec: SearchSpec = "wsd:steps=2000,decay=0.2".parse().unwrap();
    assert_eq!(spec.free_keys(), ["peak"]);
    let r = search(&pred(&fitted, &law), &spec, &SearchOptions::default()).unwrap();
    assert!((r.best.peak() - 1e-3).abs() < 1e-12, "{}", r.spec);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(
        r.default_peak,
        Some(DefaultPeak {
            lo: 1e-4,
            hi: 1e-3,
            from_step_law: false
        })
    );
    assert_eq!(r.edges.len(), 1);
    assert_eq!((r.edges[0].key.as_str(), r.edges[0].upper), ("peak", true));

    let prior = |peak_lr| SearchOptions {
        peak_prior: Some(StepLaw {
            peak_lr,
            batch_tokens: 1e6,
        }),
        ..SearchOptions::default()
    };
    let r = search(&pred(&fitted, &law), &spec, &prior(2e-4)).unwrap();
    assert!((r.best.peak() - 6e-4).abs() < 1e-12, "{}", r.spec);
    let p = r.default_peak.unwrap();
    assert!(p.from_step_law && (p.lo - 2e-4 / 3.0).abs() < 1e-18 && (p.hi - 6e-4).abs() < 1e-18);
    let r = search(&pred(&fitted, &law), &spec, &prior(1e-3)).unwrap();
    assert!((r.best.peak() - 3e-3).abs() < 1e-12, "{}", r.spec);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("beyond the largest LR the fit saw"))
    );
}

#[test]
fn search_spec_errors_name_the_key_and_value() {
    let err = |s: &str| s.parse::<SearchSpec>().unwrap_err();
    let key_of = |e: &RankError| match e {
        RankError::SearchSpec { key, .. } => key.clone(),
        other => panic!("{other}"),
    };
    for (spec, key, needle) in [
        ("wsd:peak=1,steps=100,decay=0.5..0.1", "decay", "0.5..0.1"),
        ("wsd:peak=1,steps=100,decay=a..0.5", "decay", "not a range"),
        ("wsd:peak=1,steps=100,shape=linear|bogus", "shape", "bogus"),
        ("wsd:peak=1,steps=100..200", "steps", "cannot be searched"),
        ("wsd:peak=1,steps=100,decay=0..0.5", "decay", "lower end 0"),
        ("wsd:peak=-1..1,steps=100", "peak", "positive"),
        (
            "wsd:peak=1,steps=100,decay=0.1|",
            "decay",
            "empty alternative",
        ),
    ] {
        let e = err(spec);
        assert_eq!(key_of(&e), key, "{spec}: {e}");
        assert!(e.to_string().contains(needle), "{spec}: {e}");
    }
    assert!(matches!(
        err("wsd peak=1"),
        RankError::MalformedSearch { .. }
    ));
    assert!(
        err("wsd:peak=1,steps=100,bogus=1..2")
            .to_string()
            .contains("bogus")
    );
    assert!(err("nope:peak=1,steps=100").to_string().contains("nope"));
    assert!(
        err("wsd:peak=1,steps=100;@50 constant:peak=1,steps=10")
            .to_string()
            .contains("a search covers one family")
    );
    let ok: SearchSpec = "step:peak=1,steps=100,at=0.2..0.5/0.8,gamma=0.1..0.5"
        .parse()
        .unwrap();
    assert_eq!(ok.free_keys(), ["at[0]", "gamma"]);
}

#[test]
fn continued_training_concatenates_and_corrects_the_level() {
    let (law, fitted) = power_fit();
    // The fit saw the clean curve; this run sits 0.05 higher, as a run whose level the fit misses.
    let mut observed = run(1e-3, 1500, 50, |s| 2.05 + 3.0 / (s as f64).sqrt());
    observed.lrs = observed.lrs.prefix(1200); // LRs beyond the fork are ignored anyway
    let new: Schedule = "linear:peak=1e-3,steps=500".parse().unwrap();
    let none = ContinueOptions {
        level_correction: LevelCorrection::None,
        ..ContinueOptions::default()
    };
    let c0 = continue_from(&pred(&fitted, &law), &observed, 1000, &new, &none).unwrap();
    let mut want = vec![1e-3; 1000];
    want.extend(new.grid().as_slice());
    assert_eq!(c0.grid.as_slice(), want.as_slice());
    assert_eq!(
        (c0.band.steps[0], *c0.band.steps.last().unwrap()),
        (1001, 1500)
    );
    let direct = pred(&fitted, &law)
        .predict(&lr_grid(&want), &c0.band.steps)
        .unwrap();
    assert_eq!(c0.band.loss, direct);
    assert_eq!(c0.offset, 0.0);

    let c = continue_from(
        &pred(&fitted, &law),
        &observed,
        1000,
        &new,
        &ContinueOptions {
            level_correction: LevelCorrection::MeanResidual { points: 5 },
            ..ContinueOptions::default()
        },
    )
    .unwrap();
    assert_eq!(
        ContinueOptions::default().level_correction,
        LevelCorrection::None
    );
    assert!((c.offset - 0.05).abs() < 5e-3, "offset {}", c.offset);
    for (a, b) in c.band.loss.iter().zip(&c0.band.loss) {
        assert!((a - b - c.offset).abs() < 1e-12);
    }
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);

    let e = continue_from(&pred(&fitted, &law), &observed, 1300, &new, &none).unwrap_err();
    assert!(
        matches!(
            e,
            RankError::ForkBeyondRun {
                fork_step: 1300,
                updates: 1200,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn search_of_a_continuation_scores_the_run_prefix_then_the_candidate() {
    let (law, fitted) = power_fit();
    let observed = run(1e-3, 1500, 50, |s| 2.0 + 3.0 / (s as f64).sqrt());
    let prefix = fork_prefix(&observed, 1000).unwrap();
    assert_eq!(prefix.as_slice(), &[1e-3; 1000][..]);
    let spec: SearchSpec = "linear:peak=1e-4..1e-3,steps=500".parse().unwrap();
    let opts = SearchOptions {
        prefix: Some(prefix.clone()),
        ..SearchOptions::default()
    };
    let r = search(&pred(&fitted, &law), &spec, &opts).unwrap();
    // The power law wants the most LR area: the top of the peak range.
    assert!((r.best.peak() - 1e-3).abs() < 1e-12, "{}", r.spec);
    assert_eq!(*r.curve.steps.last().unwrap(), 1500);
    // Direct computation: the law on the observed LRs up to the fork, then the candidate's.
    let mut lrs = prefix.into_vec();
    lrs.extend(r.best.grid().as_slice());
    let direct = pred(&fitted, &law)
        .predict(&lr_grid(&lrs), &[1500])
        .unwrap()[0];
    assert_eq!(r.final_loss, direct);
    for p in r.points.iter().take(5) {
        let mut lrs = vec![1e-3; 1000];
        lrs.extend(p.spec.parse::<ScheduleSpec>().unwrap().grid().as_slice());
        assert_eq!(
            p.final_loss,
            pred(&fitted, &law)
                .predict(&lr_grid(&lrs), &[1500])
                .unwrap()[0]
        );
    }
    // Without the prefix the same candidate scores differently (it starts from no area).
    let alone = search(&pred(&fitted, &law), &spec, &SearchOptions::default()).unwrap();
    assert!(alone.final_loss > r.final_loss + 1e-3);
}

/// A validated LR grid from a test's LRs.
fn lr_grid(lrs: &[f64]) -> lrsde::schedule::LrGrid {
    lrsde::schedule::LrGrid::new(lrs.to_vec()).unwrap()
}
