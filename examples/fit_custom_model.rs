//! A model written outside the crate, fitted to a bundled training curve through the library:
//! SGD on a separable double well `ℓ(x) = Σ (x_i² − 1)² / 4` with LR-proportional gradient noise,
//! whose barrier height and noise level are fitted (with the `sim` law's offset `L0` and scale)
//! to the MultiPowerLaw 400M cosine and constant curves in `fixtures/`.
//!
//! Run with `cargo run --release --example fit_custom_model`. Measured on a shared two-core
//! machine: converges in about 27 s to rmse(log) 0.052, with `log_sigma` at its upper bound — a
//! double well is a poor model of LM training (the built-in `sim:` models reach 0.005); the
//! point is the mechanism: any `SdeModel` written outside the crate is fitted the same way.

use std::path::Path;

use lrsde::data::{ReadOptions, read_curve};
use lrsde::fit::{FitOptions, UncertaintyMethod, fit};
use lrsde::law::{LawError, LossLaw, ModelFamily, MonteCarlo, ParamSpec, Simulated};
use lrsde::model::{DiffusionDerivative, SdeModel};
use lrsde::schedule::LrGrid;

/// Double well per coordinate with curvature `a`, started at `x0`; noise `η σ`.
struct DoubleWell {
    dim: usize,
    a: f64,
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
        for (o, xi) in out.iter_mut().zip(x) {
            *o = -lr * self.a * xi * (xi * xi - 1.0);
        }
    }
    fn diffusion(&self, _x: &[f64], lr: f64, out: &mut [f64]) {
        out.fill(lr * self.sigma);
    }
    fn loss(&self, x: &[f64]) -> f64 {
        x.iter()
            .map(|xi| 0.25 * self.a * (xi * xi - 1.0).powi(2))
            .sum()
    }
}

impl DiffusionDerivative for DoubleWell {
    fn diffusion_derivative(&self, _x: &[f64], _lr: f64, out: &mut [f64]) {
        out.fill(0.0);
    }
}

/// The family: `ln a` and `ln σ` are fitted; the start sits near the barrier top.
struct DoubleWellFamily;

impl ModelFamily for DoubleWellFamily {
    fn name(&self) -> &'static str {
        "doublewell"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::linear("log_a", -12.0, 0.0),
            ParamSpec::linear("log_sigma", -8.0, 2.0),
        ]
    }
    fn initial_guesses(&self) -> Vec<Vec<f64>> {
        vec![vec![-6.0, -2.0], vec![-4.0, -1.0], vec![-8.0, -3.0]]
    }
    fn expected_loss(
        &self,
        theta: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
        mc: &MonteCarlo,
        out: &mut [f64],
    ) -> Result<(), LawError> {
        let model = DoubleWell {
            dim: 2,
            a: theta[0].exp(),
            sigma: theta[1].exp(),
            x0: 0.05,
        };
        mc.mean_loss(&model, lrs, steps, None, out);
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/MultiPowerLaw/csv_400");
    let curves = ["cosine_24000.csv", "constant_24000.csv"]
        .iter()
        .map(|f| read_curve(&dir.join(f), &ReadOptions::default()))
        .collect::<Result<Vec<_>, _>>()?;

    let mut law = Simulated::new(DoubleWellFamily).with_monte_carlo(MonteCarlo {
        paths: 16,
        ..Default::default()
    })?;
    law.configure(&curves)?;
    let options = FitOptions {
        starts: law.initial_guesses(&curves).into_iter().take(1).collect(),
        random_starts: 0,
        uncertainty: UncertaintyMethod::None,
        ..FitOptions::default()
    };
    let t = std::time::Instant::now();
    let fitted = fit(&law, &curves, &options)?;
    println!(
        "fitted {} in {:.2} s: converged {}, rmse(log) {:.4}",
        law.family().name(),
        t.elapsed().as_secs_f64(),
        fitted.report.converged,
        fitted.report.rmse_log
    );
    for (name, value) in &fitted.params {
        println!("  {name} = {value:.4}");
    }
    Ok(())
}
