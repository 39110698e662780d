//! Estimator hot paths: fitting the `sde` law on two 24,000-step curves (bundled Multi-Power-Law
//! 400M runs) and ranking 100 WSD candidates with the fitted law; for every law, the fit on those
//! curves and the prediction of a 72,000-step cosine with its uncertainty band (issue 15).
//!
//! `cargo bench --bench estimator`

use criterion::{Criterion, criterion_group, criterion_main};
use lrsde::data::{ReadOptions, TrainingCurve, WarmupPolicy, read_curve};
use lrsde::fit::{FitOptions, Predictor, fit_law};
use lrsde::law::AnyLaw;
use lrsde::rank::{Candidate, RankOptions, rank};
use std::hint::black_box;
use std::path::Path;

fn curves() -> Vec<TrainingCurve> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/MultiPowerLaw/csv_400");
    let opts = ReadOptions::default().with_warmup(WarmupPolicy::Linear { steps: 2160 });
    ["cosine_24000", "constant_24000"]
        .iter()
        .map(|n| read_curve(&dir.join(format!("{n}.csv")), &opts).expect("bundled fixture"))
        .collect()
}

fn estimator(c: &mut Criterion) {
    let curves = curves();
    let law: AnyLaw = "sde".parse().expect("law");
    let options = FitOptions::default();
    let mut group = c.benchmark_group("estimator");
    group.sample_size(10);
    group.bench_function("fit_sde_two_24k_curves", |b| {
        b.iter(|| fit_law(black_box(law.clone()), black_box(&curves), &options).expect("fit"))
    });
    let fitted = fit_law(law, &curves, &options).expect("fit");
    let predictor = Predictor::from_fitted(fitted).expect("law");
    let candidates: Vec<Candidate> = (0..100)
        .map(|i| {
            let decay = 0.05 + 0.5 * f64::from(i) / 99.0;
            format!("wsd:peak=3e-4,steps=24000,warmup=2160,decay={decay}")
                .parse()
                .expect("spec")
        })
        .collect();
    group.bench_function("rank_100_candidates", |b| {
        b.iter(|| rank(&predictor, black_box(&candidates), &RankOptions::default()).expect("rank"))
    });
    group.finish();
}

/// The released Multi-Power-Law code's 72,000-step cosine (linear warmup over 2,160 steps from
/// 0, peak 3e-4, floor 3e-5) on this crate's grid: `lrs[t]` is the LR of update `t + 1`.
fn cosine_72k() -> Vec<f64> {
    let (peak, warmup, total) = (3e-4, 2160usize, 72000usize);
    (1..=total)
        .map(|k| {
            if k < warmup {
                k as f64 * peak / (warmup - 1) as f64
            } else {
                let x = (k - warmup) as f64 / (total - warmup) as f64;
                3e-5 + 0.5 * (peak - 3e-5) * (1.0 + (std::f64::consts::PI * x).cos())
            }
        })
        .collect()
}

/// Every law: fit on the two 24k curves, and predict every step of a 72k cosine with its band
/// (one prediction per stored parameter draw), as `lrsde fit` and `lrsde predict` do, with
/// every core and with one.
fn every_law(c: &mut Criterion) {
    let curves = curves();
    let lrs = lrsde::schedule::LrGrid::new(cosine_72k()).expect("valid LRs");
    let steps: Vec<u64> = (1..=lrs.len() as u64).collect();
    let options = FitOptions::default();
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("thread pool");
    let mut group = c.benchmark_group("laws");
    group.sample_size(10);
    for name in ["sde", "mpl", "momentum", "power"] {
        let law: AnyLaw = name.parse().expect("law");
        if name != "sde" {
            // The `sde` fit is `estimator/fit_sde_two_24k_curves`.
            group.bench_function(format!("fit_{name}_two_24k_curves"), |b| {
                b.iter(|| {
                    fit_law(black_box(law.clone()), black_box(&curves), &options).expect("fit")
                })
            });
        }
        let fitted = fit_law(law, &curves, &options).expect("fit");
        let predictor = Predictor::from_fitted(fitted).expect("law");
        group.bench_function(format!("predict_band_{name}_cosine_72k"), |b| {
            b.iter(|| {
                predictor
                    .predict_band(black_box(&lrs), black_box(&steps))
                    .expect("band")
            })
        });
        // The target is for one core: the same band with one rayon thread.
        group.bench_function(format!("predict_band_{name}_cosine_72k_1_thread"), |b| {
            b.iter(|| {
                one_thread.install(|| {
                    predictor
                        .predict_band(black_box(&lrs), black_box(&steps))
                        .expect("band")
                })
            })
        });
    }
    group.finish();
}

/// The simulated laws' fits on the two 24k curves with one rayon thread (issue 12's target is
/// seconds of one core; `docs/performance.md`, "Monte Carlo simulated laws").
fn simulated_laws(c: &mut Criterion) {
    let curves = curves();
    let options = FitOptions::default();
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("thread pool");
    let mut group = c.benchmark_group("sim_laws");
    group.sample_size(10);
    for model in ["adam", "lossnoise", "momentum", "nqm"] {
        let law: AnyLaw = format!("sim:model={model}").parse().expect("law");
        group.bench_function(format!("fit_{model}_two_24k_curves_1_thread"), |b| {
            b.iter(|| {
                one_thread.install(|| {
                    fit_law(black_box(law.clone()), black_box(&curves), &options).expect("fit")
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, estimator, every_law, simulated_laws);
criterion_main!(benches);
