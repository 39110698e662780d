//! A user-defined model simulated with the ensemble: SGD on a separable double-well loss
//! `L(x) = Σ (x_i² − 1)² / 4` with additive gradient noise, under a warm-up + cosine schedule.
//!
//! Run with `cargo run --example custom_model`.

use lrsde::ensemble::{Ensemble, Progress};
use lrsde::model::{DiffusionDerivative, SdeModel};
use lrsde::schedule::LrGrid;
use lrsde::solver::{EulerMaruyama, Milstein};

/// Double well per coordinate, started on the barrier top's shoulder; noise `η σ`.
struct DoubleWell {
    dim: usize,
    sigma: f64,
    x0: f64,
}

impl SdeModel for DoubleWell {
    fn dim(&self) -> usize {
        self.dim
    }

    fn init(&self, x: &mut [f64]) {
        x.fill(self.x0);
    }

    fn drift(&self, x: &[f64], lr: f64, out: &mut [f64]) {
        // −η ∇L, with ∂L/∂x_i = x_i (x_i² − 1).
        for (o, xi) in out.iter_mut().zip(x) {
            *o = -lr * xi * (xi * xi - 1.0);
        }
    }

    fn diffusion(&self, _x: &[f64], lr: f64, out: &mut [f64]) {
        out.fill(lr * self.sigma);
    }

    fn loss(&self, x: &[f64]) -> f64 {
        x.iter().map(|xi| 0.25 * (xi * xi - 1.0).powi(2)).sum()
    }
}

/// Additive noise: Milstein's correction vanishes, but implementing the trait lets it run.
impl DiffusionDerivative for DoubleWell {
    fn diffusion_derivative(&self, _x: &[f64], _lr: f64, out: &mut [f64]) {
        out.fill(0.0);
    }
}

fn main() -> Result<(), lrsde::Error> {
    let model = DoubleWell {
        dim: 8,
        sigma: 0.6,
        x0: 0.05,
    };
    let steps = 1000;
    let lrs = LrGrid::new(
        (0..steps)
            .map(|k| {
                let peak = 0.2;
                if k < 50 {
                    peak * (k + 1) as f64 / 50.0
                } else {
                    let t = (k - 50) as f64 / (steps - 50) as f64;
                    0.5 * peak * (1.0 + (std::f64::consts::PI * t).cos())
                }
            })
            .collect(),
    )?;

    let ens = Ensemble::builder()
        .paths(2000)
        .seed(7)
        .save_every(100)
        .save_initial(true)
        .build()?;

    let mut last_pct = 0;
    let summary = ens.run_observed(&model, EulerMaruyama, &lrs, &mut |p: &Progress| {
        let pct = 100 * p.steps_done / p.steps_total;
        if pct >= last_pct + 25 {
            eprintln!("progress: {pct}%");
            last_pct = pct;
        }
    })?;

    println!("double well, EM, {} paths", summary.paths);
    summary
        .write_csv(std::io::stdout().lock())
        .expect("writing to stdout");

    let mil = ens.run(&model, Milstein, &lrs)?;
    let (a, b) = (summary.last().unwrap(), mil.last().unwrap());
    println!(
        "final mean loss: EM {:.6} ± {:.6}, Milstein {:.6} ± {:.6} (additive noise: identical)",
        a.mean, a.se, b.mean, b.se
    );
    Ok(())
}
