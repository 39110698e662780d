//! The `sde` law's tabulated band (`LossLaw::predict_many`) against the law itself, draw by
//! draw, on a fit of the bundled Multi-Power-Law curves; and rankings made with it against
//! rankings made with one exact prediction per draw.

use std::path::Path;

use lrsde::data::{ReadOptions, TrainingCurve, WarmupPolicy, read_curve};
use lrsde::fit::{FitOptions, FittedLaw, Predictor, fit_law};
use lrsde::law::{AnyLaw, LawError, LossLaw, ParamSpec};
use lrsde::rank::{Candidate, RankOptions, rank};
use lrsde::schedule::ScheduleSpec;

/// Delegates everything except `predict_many`, so bands come from one exact `predict` per draw
/// (the trait's default).
struct Exact<'a>(&'a AnyLaw);

impl LossLaw for Exact<'_> {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn params(&self) -> Vec<ParamSpec> {
        self.0.params()
    }
    fn predict(
        &self,
        params: &[f64],
        lrs: &lrsde::schedule::LrGrid,
        steps: &[u64],
        out: &mut [f64],
    ) -> Result<(), LawError> {
        self.0.predict(params, &lr_grid(lrs), steps, out)
    }
    fn configure(&mut self, _: &[TrainingCurve]) -> Result<(), LawError> {
        Ok(())
    }
    fn initial_guesses(&self, curves: &[TrainingCurve]) -> Vec<Vec<f64>> {
        self.0.initial_guesses(curves)
    }
}

fn fitted_sde() -> (FittedLaw, AnyLaw) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/MultiPowerLaw/csv_400");
    let opts = ReadOptions::default().with_warmup(WarmupPolicy::Linear { steps: 2160 });
    let curves: Vec<TrainingCurve> = ["cosine_24000", "constant_24000"]
        .iter()
        .map(|n| read_curve(&dir.join(format!("{n}.csv")), &opts).unwrap())
        .collect();
    let fitted = fit_law("sde".parse().unwrap(), &curves, &FitOptions::default()).unwrap();
    let law = fitted.law().unwrap();
    (fitted, law)
}

#[test]
fn tabulated_draws_match_exact_predictions_and_rankings() {
    let (fitted, law) = fitted_sde();
    let draws = &fitted.uncertainty.as_ref().unwrap().draws;
    assert_eq!(draws.len(), 200);
    // In-sample peak, twice the fitted peak (directions above the table's stability cap are
    // computed exactly), a long low-LR run and a step schedule.
    let specs = [
        "wsd:peak=3e-4,steps=24000,warmup=2160,decay=0.3",
        "cosine:peak=6e-4,steps=24000,warmup=2160",
        "linear:peak=1e-4,steps=48000,warmup=500",
        "step:peak=3e-4,steps=24000,warmup=2160,at=0.5/0.8,gamma=0.3",
    ];
    for spec in specs {
        let grid = spec.parse::<ScheduleSpec>().unwrap().grid();
        let lrs = grid.as_slice();
        let n = lrs.len() as u64;
        let steps: Vec<u64> = (1..=200).map(|k| k * n / 200).collect();
        let fast = law.predict_many(draws, &lr_grid(lrs), &steps);
        for (theta, f) in draws.iter().zip(&fast) {
            let mut exact = vec![0.0; steps.len()];
            law.predict(theta, &lr_grid(lrs), &steps, &mut exact)
                .unwrap();
            let f = f.as_ref().unwrap();
            for (j, (e, f)) in exact.iter().zip(f).enumerate() {
                // Relative to the excess loss L − L0, the part the table carries.
                let tol = 1e-8 * (e - theta[0]).abs();
                assert!(
                    (e - f).abs() <= tol,
                    "{spec}, step {}: {f} vs {e}",
                    steps[j]
                );
            }
        }
    }

    // The same ranking, bands and paired significance as with one exact prediction per draw.
    let candidates: Vec<Candidate> = (0..12)
        .map(|i| {
            let decay = 0.05 + 0.5 * f64::from(i) / 11.0;
            format!("wsd:peak=3e-4,steps=24000,warmup=2160,decay={decay}")
                .parse()
                .unwrap()
        })
        .chain(["cosine:peak=3e-4,steps=24000,warmup=2160".parse().unwrap()])
        .collect();
    let opts = RankOptions::default();
    let tabulated = Predictor::with_law(fitted.clone(), law.clone()).unwrap();
    let exact = Predictor::with_law(fitted.clone(), Exact(&law)).unwrap();
    let a = rank(&tabulated, &candidates, &opts).unwrap();
    let b = rank(&exact, &candidates, &opts).unwrap();
    assert!(a.entries.iter().any(|e| e.significant));
    assert!(a.entries.iter().skip(1).any(|e| !e.significant));
    for (x, y) in a.entries.iter().zip(&b.entries) {
        assert_eq!((&x.label, x.significant), (&y.label, y.significant));
        assert_eq!(x.final_loss, y.final_loss);
        for (u, v) in [(x.loss_lo, y.loss_lo), (x.loss_hi, y.loss_hi)] {
            assert!((u - v).abs() <= 1e-8 * u, "{}: {u} vs {v}", x.label);
        }
    }
}

/// A validated LR grid from a test's LRs.
fn lr_grid(lrs: &[f64]) -> lrsde::schedule::LrGrid {
    lrsde::schedule::LrGrid::new(lrs.to_vec()).unwrap()
}
