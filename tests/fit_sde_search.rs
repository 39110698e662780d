//! `fit_law` for the `sde` law searches on a tabulated copy of the law and polishes with the
//! exact one: it must land where the exact search lands (the old fitter, `fit` on the law
//! itself from the same start), on the bundled Multi-Power-Law curves.

use std::path::Path;

use lrsde::data::{ReadOptions, TrainingCurve, WarmupPolicy, read_curve};
use lrsde::fit::{FitOptions, fit, fit_law};
use lrsde::law::{AnyLaw, LossLaw};

fn curves(names: &[&str]) -> Vec<TrainingCurve> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/MultiPowerLaw/csv_400");
    let opts = ReadOptions::default().with_warmup(WarmupPolicy::Linear { steps: 2160 });
    names
        .iter()
        .map(|n| read_curve(&dir.join(format!("{n}.csv")), &opts).unwrap())
        .collect()
}

#[test]
fn tabulated_search_lands_on_the_exact_optimum() {
    for names in [
        &["cosine_24000", "constant_24000"][..],
        &["wsd_20000_24000"][..],
    ] {
        let curves = curves(names);
        let fast = fit_law("sde".parse().unwrap(), &curves, &FitOptions::default()).unwrap();
        // The old path: the exact law from the law's best guess.
        let mut law: AnyLaw = "sde".parse().unwrap();
        law.configure(&curves).unwrap();
        let opts = FitOptions {
            starts: law.initial_guesses(&curves)[..1].to_vec(),
            ..FitOptions::default()
        };
        let exact = fit(&law, &curves, &opts).unwrap();
        let (a, b) = (&fast.report, &exact.report);
        assert!(
            a.converged && b.converged,
            "{} / {}",
            a.termination,
            b.termination
        );
        assert!(
            (a.cost - b.cost).abs() <= 1e-8 * b.cost,
            "{names:?}: cost {} vs {}",
            a.cost,
            b.cost
        );
        // Parameters within a thousandth of their standard error.
        let std = exact.uncertainty.as_ref().unwrap().std();
        for ((x, y), s) in fast.params_vec().iter().zip(exact.params_vec()).zip(&std) {
            assert!((x - y).abs() <= 1e-3 * s, "{names:?}: {x} vs {y} (std {s})");
        }
        assert!(
            a.termination.starts_with("tabulated search"),
            "{}",
            a.termination
        );
    }
}
