//! Moment recursions and law predictions on realistic grids.
//!
//! `cargo bench --bench moments` (criterion). The `sde` law numbers are the cost of one
//! prediction inside a fit.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use lrsde::law::{LossLaw, MomentumLaw, MultiPowerLaw, SdeSurrogate};
use lrsde::moments::{NqmParams, Scheme, expected_loss_at, expected_loss_every_step};

const PEAK: f64 = 3e-4;

fn workload_w() -> Vec<f64> {
    (0..2000)
        .map(|k| {
            if k < 20 {
                0.5 * (k + 1) as f64 / 20.0
            } else {
                0.25 * (1.0 + (std::f64::consts::PI * (k - 20) as f64 / 1980.0).cos())
            }
        })
        .collect()
}

/// 24,000 updates, 2,159-step linear warmup, then `f(progress)` of the peak.
fn grid(f: impl Fn(f64) -> f64) -> Vec<f64> {
    let (n, w) = (24_000usize, 2159usize);
    (0..n)
        .map(|t| {
            if t < w {
                PEAK * (t + 1) as f64 / w as f64
            } else {
                PEAK * f((t - w) as f64 / (n - w) as f64)
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let nqm = NqmParams::default();
    let w = workload_w();
    c.bench_function("moments/W em every step (32 dims x 2000)", |b| {
        b.iter(|| expected_loss_every_step(&nqm, Scheme::EulerMaruyama, black_box(&w)).unwrap())
    });
    c.bench_function("moments/W milstein final (32 dims x 2000)", |b| {
        b.iter(|| {
            expected_loss_at(&nqm, Scheme::MilsteinMultiplicative, black_box(&w), &[2000]).unwrap()
        })
    });

    let cosine = grid(|x| 0.1 + 0.45 * (1.0 + (std::f64::consts::PI * x).cos()));
    let constant = grid(|_| 1.0);
    let wsd = grid(|x| {
        if x < 0.8 {
            1.0
        } else {
            1.0 - 0.9 * (x - 0.8) / 0.2
        }
    });
    // Observations every 128 steps, like the MPL data.
    let steps: Vec<u64> = (17..=187).map(|j| j * 128).collect();
    let sde = SdeSurrogate::new(64, PEAK).unwrap();
    let p = [2.4, 0.5f64.ln(), 1.3, -3.0, 0.0, 0.5];
    let mut out = vec![0.0; steps.len()];
    for (name, lrs) in [("cosine", &cosine), ("constant", &constant), ("wsd", &wsd)] {
        c.bench_function(&format!("law/sde predict {name} 24k x 64 dims"), |b| {
            b.iter(|| sde.predict(black_box(&p), lrs, &steps, &mut out).unwrap())
        });
    }
    let mut jac = vec![0.0; steps.len() * 6];
    for (name, lrs) in [("cosine", &cosine), ("constant", &constant)] {
        c.bench_function(
            &format!("law/sde predict_jacobian {name} 24k x 64 dims"),
            |b| {
                b.iter(|| {
                    sde.predict_jacobian(black_box(&p), lrs, &steps, &mut out, &mut jac)
                        .unwrap()
                })
            },
        );
    }
    let mpl = MultiPowerLaw::default();
    let pm = [2.37, 0.65, 0.43, 523.0, 2.0, 0.59, 0.63];
    for (name, lrs) in [("cosine", &cosine), ("wsd", &wsd)] {
        c.bench_function(&format!("law/mpl predict {name} 24k, 171 points"), |b| {
            b.iter(|| mpl.predict(black_box(&pm), lrs, &steps, &mut out).unwrap())
        });
    }
    let mut jac7 = vec![0.0; steps.len() * 7];
    c.bench_function("law/mpl predict_jacobian cosine 24k, 171 points", |b| {
        b.iter(|| {
            mpl.predict_jacobian(black_box(&pm), &cosine, &steps, &mut out, &mut jac7)
                .unwrap()
        })
    });
    let mom = MomentumLaw::new(0.999, PEAK).unwrap();
    c.bench_function("law/momentum predict cosine 24k", |b| {
        b.iter(|| {
            mom.predict(
                black_box(&[2.4, 30.0, 0.5, 1e-4]),
                &cosine,
                &steps,
                &mut out,
            )
            .unwrap()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
