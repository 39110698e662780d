//! Momentum and power laws against values computed by hand on tiny grids.

use lrsde::data::TrainingCurve;
use lrsde::law::{AnyLaw, LawError, LawKind, LossLaw, MomentumLaw, PowerLaw};

#[test]
fn power_law_by_hand() {
    // lr_ref = 2: u = 1, 0.5, 0.5, 0.25 → S1 = 1, 1.5, 2, 2.25.
    let law = PowerLaw::new(2.0).unwrap();
    let lrs = [2.0, 1.0, 1.0, 0.5];
    let mut out = [0.0; 4];
    law.predict(&[1.0, 3.0, 2.0], &lr_grid(&lrs), &[1, 2, 3, 4], &mut out)
        .unwrap();
    let want = [
        1.0 + 3.0,
        1.0 + 3.0 / 2.25,
        1.0 + 3.0 / 4.0,
        1.0 + 3.0 / 5.0625,
    ];
    for (o, w) in out.iter().zip(want) {
        assert!((o - w).abs() < 1e-14, "{o} vs {w}");
    }
}

#[test]
fn momentum_law_by_hand() {
    // λ = 0.5, lr_ref = 1, η = 1, 1, 0.5, 0.5, 0.25, 0.5 (η_0 = η_1 = 1):
    // Δ = 0, 0, 0.5, 0, 0.25, −0.25
    // m = 0, 0, 0.5, 0.25, 0.375, −0.0625
    // S2 = 0, 0, 0.5, 0.75, 1.125, 1.0625;  S1 = 1, 2, 2.5, 3, 3.25, 3.75
    let law = MomentumLaw::new(0.5, 1.0).unwrap();
    let lrs = [1.0, 1.0, 0.5, 0.5, 0.25, 0.5];
    let (l0, a, al, c) = (2.0, 1.5, 0.5, 0.3);
    let mut out = [0.0; 6];
    law.predict(
        &[l0, a, al, c],
        &lr_grid(&lrs),
        &[1, 2, 3, 4, 5, 6],
        &mut out,
    )
    .unwrap();
    let s1 = [1.0, 2.0, 2.5, 3.0, 3.25, 3.75];
    let s2 = [0.0, 0.0, 0.5, 0.75, 1.125, 1.0625];
    for i in 0..6 {
        let w: f64 = l0 + a * f64::powf(s1[i], -al) - c * s2[i];
        assert!((out[i] - w).abs() < 1e-14, "i={i}: {} vs {w}", out[i]);
    }
}

#[test]
fn momentum_law_limits() {
    // λ = 0: S2 = η_1 − η_s.
    let lrs = [1.0, 0.8, 0.9, 0.3, 0.3];
    let law = MomentumLaw::new(0.0, 1.0).unwrap();
    let mut out = [0.0];
    law.predict(
        &[0.0, 0.0 + 1e-300, 1.0, 1.0],
        &lr_grid(&lrs),
        &[5],
        &mut out,
    )
    .unwrap();
    assert!((out[0] - -(1.0 - 0.3)).abs() < 1e-12, "{}", out[0]);
    // λ = 0.999 default; constant LR: no annealing term at all.
    let law = MomentumLaw::default();
    assert_eq!(law.lambda(), 0.999);
    let mut out = [0.0];
    law.predict(&[1.0, 2.0, 0.5, 5.0], &lr_grid(&[4.0; 4]), &[4], &mut out)
        .unwrap();
    assert!((out[0] - (1.0 + 2.0 / 4.0)).abs() < 1e-14);
}

#[test]
fn bad_options_and_inputs() {
    assert!(MomentumLaw::new(1.0, 1.0).is_err());
    assert!(MomentumLaw::new(-0.1, 1.0).is_err());
    assert!(PowerLaw::new(f64::NAN).is_err());
    let mut out = [0.0];
    assert!(matches!(
        PowerLaw::default().predict(&[1.0, 1.0, 0.5], &lr_grid(&[0.0, 0.0]), &[2], &mut out),
        Err(LawError::ZeroLrArea { step: 2, .. })
    ));
    assert!(matches!(
        MomentumLaw::default().predict(&[1.0, 1.0, 0.5], &lr_grid(&[1.0]), &[1], &mut out),
        Err(LawError::ParamCount {
            law: "momentum",
            expected: 4,
            found: 3
        })
    ));
}

fn synthetic() -> Vec<TrainingCurve> {
    let n = 4000;
    let cos: Vec<f64> = (0..n)
        .map(|t| 1e-3 * (0.55 + 0.45 * (std::f64::consts::PI * t as f64 / n as f64).cos()))
        .collect();
    let con = vec![1e-3; n];
    let truth = MomentumLaw::new(0.999, 1e-3).unwrap();
    let p = [2.5, 3.0, 0.4, 2e-4];
    [("cos", cos), ("con", con)]
        .into_iter()
        .map(|(name, lrs)| {
            let lrs = lrsde::schedule::LrGrid::new(lrs).unwrap();
            let steps: Vec<u64> = (1..=40).map(|j| j * 100).collect();
            let mut losses = vec![0.0; 40];
            truth.predict(&p, &lrs, &steps, &mut losses).unwrap();
            TrainingCurve {
                name: name.into(),
                lrs,
                steps,
                losses,
                batch: None,
            }
        })
        .collect()
}

#[test]
fn every_law_configures_and_guesses_within_bounds() {
    let curves = synthetic();
    for kind in LawKind::ALL {
        let mut law = AnyLaw::from(kind);
        assert_eq!(law.kind(), kind);
        assert_eq!(law.name(), kind.as_str());
        law.configure(&curves).unwrap();
        let specs = law.params();
        for s in &specs {
            assert!(s.lower < s.upper, "{kind}: {}", s.name);
            assert!(!s.log_scale || s.lower > 0.0, "{kind}: {}", s.name);
        }
        let guesses = law.initial_guesses(&curves);
        assert!(!guesses.is_empty(), "{kind}");
        for g in &guesses {
            assert_eq!(g.len(), specs.len());
            for (v, s) in g.iter().zip(&specs) {
                assert!(*v >= s.lower && *v <= s.upper, "{kind}: {} = {v}", s.name);
            }
            for c in &curves {
                let pred = law.predict_curve(g, c).unwrap();
                assert!(pred.iter().all(|x| x.is_finite()), "{kind}");
            }
        }
    }
    assert!(matches!(
        AnyLaw::from(LawKind::Power).configure(&[]),
        Err(LawError::NoData { .. })
    ));
}

#[test]
fn jacobians_match_finite_differences() {
    let curves = synthetic();
    for (law, p) in [
        (AnyLaw::from(LawKind::Momentum), vec![2.5, 3.0, 0.4, 2e-4]),
        (AnyLaw::from(LawKind::Power), vec![2.5, 3.0, 0.4]),
    ] {
        let mut law = law;
        law.configure(&curves).unwrap();
        for c in &curves {
            let m = c.steps.len();
            let np = p.len();
            let (mut out, mut jac) = (vec![0.0; m], vec![0.0; m * np]);
            assert!(
                law.predict_jacobian(&p, &c.lrs, &c.steps, &mut out, &mut jac)
                    .unwrap()
            );
            assert_eq!(out, law.predict_curve(&p, c).unwrap());
            for k in 0..np {
                let h = 1e-5 * p[k].abs().max(1.0);
                let (mut hi, mut lo) = (p.clone(), p.clone());
                hi[k] += h;
                lo[k] -= h;
                let (oh, ol) = (
                    law.predict_curve(&hi, c).unwrap(),
                    law.predict_curve(&lo, c).unwrap(),
                );
                for j in 0..m {
                    let fd = (oh[j] - ol[j]) / (2.0 * h);
                    let an = jac[j * np + k];
                    assert!(
                        (fd - an).abs() <= 1e-6 * (an.abs() + 1e-6),
                        "{} k={k}: {fd} vs {an}",
                        law.name()
                    );
                }
            }
        }
    }
}

/// `predict_many` (shared areas, `exp` of a shared `ln S1`) against the hand values above and
/// against one `predict` per vector, to 1e-14 relative (the `exp`/`ln` route differs from
/// `powf` by a few ulps of `α ln S1`); refused vectors keep their error in place, a zero area
/// errs for every vector.
#[test]
fn predict_many_matches_predict_per_vector() {
    let lrs: Vec<f64> = (0..3000)
        .map(|t| 1e-3 * (0.2 + (f64::from(t) * 0.01).cos().abs()))
        .collect();
    let steps: Vec<u64> = (1..=3000).filter(|s| s % 7 == 0 || *s < 4).collect();
    // A law and the parameter vectors it is asked about.
    type Case = (Box<dyn LossLaw>, Vec<Vec<f64>>);
    let laws: Vec<Case> = vec![
        (
            Box::new(PowerLaw::new(1e-3).unwrap()),
            vec![
                vec![2.0, 1.0, 0.5],
                vec![1.5, 3.0, 2.9],
                vec![0.0, 1e-8, 0.01],
            ],
        ),
        (
            Box::new(MomentumLaw::new(0.999, 1e-3).unwrap()),
            vec![
                vec![2.0, 1.0, 0.5, 0.1],
                vec![1.5, 3.0, 2.9, 1e-12],
                vec![0.0, 1e-8, 0.01, 5.0],
            ],
        ),
    ];
    for (law, mut draws) in laws {
        let mut bad = draws[0].clone();
        bad[1] = f64::INFINITY;
        draws.push(bad);
        let many = law.predict_many(&draws, &lr_grid(&lrs), &steps);
        for (d, got) in draws.iter().zip(&many) {
            let mut want = vec![0.0; steps.len()];
            match law.predict(d, &lr_grid(&lrs), &steps, &mut want) {
                Err(e) => assert_eq!(got.as_ref().unwrap_err(), &e, "{}", law.name()),
                Ok(()) => {
                    for (g, w) in got.as_ref().unwrap().iter().zip(&want) {
                        assert!(
                            (g - w).abs() <= 1e-14 * w.abs(),
                            "{}: {g} vs {w}",
                            law.name()
                        );
                    }
                }
            }
        }
        // No LR area before the first output: every vector reports it.
        let zero = [0.0, 0.0, 1e-3];
        for r in law.predict_many(&draws[..2], &lr_grid(&zero), &[1, 3]) {
            assert!(
                matches!(r, Err(LawError::ZeroLrArea { .. })),
                "{}",
                law.name()
            );
        }
    }
    // Against the hand values of `power_law_by_hand`.
    let law = PowerLaw::new(2.0).unwrap();
    let got = law.predict_many(
        &[vec![1.0, 3.0, 2.0]],
        &lr_grid(&[2.0, 1.0, 1.0, 0.5]),
        &[1, 2, 3, 4],
    );
    let want = [4.0, 1.0 + 3.0 / 2.25, 1.75, 1.0 + 3.0 / 5.0625];
    for (g, w) in got[0].as_ref().unwrap().iter().zip(want) {
        assert!((g - w).abs() < 1e-14, "{g} vs {w}");
    }
}

/// A validated LR grid from a test's LRs.
fn lr_grid(lrs: &[f64]) -> lrsde::schedule::LrGrid {
    lrsde::schedule::LrGrid::new(lrs.to_vec()).unwrap()
}
