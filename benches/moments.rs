//! Moment recursions and law predictions on realistic grids.
//!
//! `cargo bench --bench moments` (criterion). The `sde` law numbers are the cost of one
//! prediction inside a fit.
//!
//! Throughput is reported in bytes moved: the LR schedule read plus the losses written (what a
//! memory-bound recursion would be limited by), next to a streaming sum and copy of a 256 MiB
//! buffer (`memory/…`), this machine's memory bandwidth measured in the same run.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lrsde::law::{LossLaw, MomentumLaw, MultiPowerLaw, SdeSurrogate};
use lrsde::nqm::{NqmDiffusion, NqmParams, expected_loss_at, expected_loss_every_step};
use lrsde::schedule::LrGrid;
use lrsde::solver::Method;

const PEAK: f64 = 3e-4;

#[path = "w_workload.rs"]
mod w_workload;
use w_workload::w_grid as workload_w;

/// 24,000 updates, 2,159-step linear warmup, then `f(progress)` of the peak.
fn grid(f: impl Fn(f64) -> f64) -> LrGrid {
    let (n, w) = (24_000usize, 2159usize);
    let lrs = (0..n)
        .map(|t| {
            if t < w {
                PEAK * (t + 1) as f64 / w as f64
            } else {
                PEAK * f((t - w) as f64 / (n - w) as f64)
            }
        })
        .collect();
    LrGrid::new(lrs).expect("valid LRs")
}

/// Bytes a recursion over `lrs` with `outputs` losses written moves at the least.
fn bytes(lrs: usize, outputs: usize) -> Throughput {
    Throughput::Bytes((8 * (lrs + outputs)) as u64)
}

fn memory(c: &mut Criterion) {
    // 256 MiB: eight times the last-level cache, so every pass streams from memory.
    let n = 32 << 20;
    let src: Vec<f64> = (0..n).map(|i| (i % 1000) as f64).collect();
    let mut dst = vec![0.0; n];
    let mut g = c.benchmark_group("memory");
    g.sample_size(10);
    g.throughput(Throughput::Bytes((8 * n) as u64));
    g.bench_function("sum 256 MiB", |b| {
        b.iter(|| {
            // Four partial sums: the adds are not the bottleneck.
            let mut acc = [0.0f64; 4];
            for x in black_box(&src).chunks_exact(4) {
                for k in 0..4 {
                    acc[k] += x[k];
                }
            }
            acc.iter().sum::<f64>()
        })
    });
    g.throughput(Throughput::Bytes((16 * n) as u64));
    g.bench_function("copy 256 MiB (read + write)", |b| {
        b.iter(|| dst.copy_from_slice(black_box(&src)))
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    let nqm = NqmParams::default();
    let sqrt_noise = NqmParams {
        diffusion: NqmDiffusion::Sqrt1px2,
        ..nqm
    };
    let w = workload_w();
    let mut g = c.benchmark_group("moments");
    g.throughput(bytes(w.len(), w.len()));
    g.bench_function("W em every step (32 dims x 2000)", |b| {
        b.iter(|| expected_loss_every_step(&nqm, Method::Em, black_box(&w)).unwrap())
    });
    g.throughput(bytes(w.len(), 1));
    g.bench_function("W milstein final (32 dims x 2000)", |b| {
        b.iter(|| expected_loss_at(&sqrt_noise, Method::Milstein, black_box(&w), &[2000]).unwrap())
    });
    g.finish();

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
    let mut g = c.benchmark_group("law");
    g.throughput(bytes(cosine.len(), steps.len()));
    for (name, lrs) in [("cosine", &cosine), ("constant", &constant), ("wsd", &wsd)] {
        g.bench_function(format!("sde predict {name} 24k x 64 dims"), |b| {
            b.iter(|| sde.predict(black_box(&p), lrs, &steps, &mut out).unwrap())
        });
    }
    // A fit's band on one schedule: 200 parameter draws (spread like a fitted law's) at 200
    // steps, by the table over the curvature.
    let band_steps: Vec<u64> = (1..=200).map(|k| 120 * k).collect();
    let draws: Vec<Vec<f64>> = (0..200)
        .map(|k| {
            let z = |j: u64| ((k * 7 + j * 13) % 29) as f64 / 14.0 - 1.0;
            vec![
                2.4,
                -5.76 + 0.13 * z(1),
                1.8 + 0.17 * z(2),
                4.9 + 0.17 * z(3),
                7.2,
                0.0,
            ]
        })
        .collect();
    g.throughput(bytes(wsd.len(), 200 * band_steps.len()));
    g.bench_function("sde predict_many wsd 24k, 200 draws x 200 steps", |b| {
        b.iter(|| sde.predict_many(black_box(&draws), &wsd, &band_steps))
    });
    g.throughput(bytes(cosine.len(), steps.len()));
    let mut jac = vec![0.0; steps.len() * 6];
    for (name, lrs) in [("cosine", &cosine), ("constant", &constant)] {
        g.bench_function(format!("sde predict_jacobian {name} 24k x 64 dims"), |b| {
            b.iter(|| {
                sde.predict_jacobian(black_box(&p), lrs, &steps, &mut out, &mut jac)
                    .unwrap()
            })
        });
    }
    let mpl = MultiPowerLaw::default();
    let pm = [2.37, 0.65, 0.43, 523.0, 2.0, 0.59, 0.63];
    for (name, lrs) in [("cosine", &cosine), ("wsd", &wsd)] {
        g.bench_function(format!("mpl predict {name} 24k, 171 points"), |b| {
            b.iter(|| mpl.predict(black_box(&pm), lrs, &steps, &mut out).unwrap())
        });
    }
    let mut jac7 = vec![0.0; steps.len() * 7];
    g.bench_function("mpl predict_jacobian cosine 24k, 171 points", |b| {
        b.iter(|| {
            mpl.predict_jacobian(black_box(&pm), &cosine, &steps, &mut out, &mut jac7)
                .unwrap()
        })
    });
    let mom = MomentumLaw::new(0.999, PEAK).unwrap();
    g.bench_function("momentum predict cosine 24k", |b| {
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
    g.finish();
}

criterion_group!(benches, memory, bench);
criterion_main!(benches);
