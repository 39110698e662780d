//! Estimator hot paths: fitting the `sde` law on two 24,000-step curves (bundled Multi-Power-Law
//! 400M runs) and ranking 100 WSD candidates with the fitted law.
//!
//! `cargo bench --bench estimator`

use criterion::{Criterion, criterion_group, criterion_main};
use lrsde::data::{ReadOptions, TrainingCurve, WarmupPolicy, read_curve};
use lrsde::fit::{FitOptions, fit_law};
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
    let law = fitted.law().expect("law");
    let candidates: Vec<Candidate> = (0..100)
        .map(|i| {
            let decay = 0.05 + 0.5 * f64::from(i) / 99.0;
            format!("wsd:peak=3e-4,steps=24000,warmup=2160,decay={decay}")
                .parse()
                .expect("spec")
        })
        .collect();
    group.bench_function("rank_100_candidates", |b| {
        b.iter(|| {
            rank(
                &fitted,
                &law,
                black_box(&candidates),
                &RankOptions::default(),
            )
            .expect("rank")
        })
    });
    group.finish();
}

criterion_group!(benches, estimator);
criterion_main!(benches);
