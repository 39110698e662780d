//! Test-only laws, schedules and synthetic curves shared by the `fit_*` tests.
#![allow(dead_code)]

use lrsde::data::TrainingCurve;
use lrsde::law::{LawError, LossLaw, ParamSpec};
use rand::Rng;

/// `L(t) = L0 + A·S1(t)^−α`, `S1` the LR area; bounds configurable.
pub struct Power3 {
    pub l0: (f64, f64),
    pub alpha: (f64, f64),
}

impl Default for Power3 {
    fn default() -> Self {
        Power3 {
            l0: (0.0, 10.0),
            alpha: (0.0, 2.0),
        }
    }
}

impl LossLaw for Power3 {
    fn name(&self) -> &'static str {
        "test-power3"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::linear("L0", self.l0.0, self.l0.1),
            ParamSpec::linear("A", 0.0, f64::INFINITY),
            ParamSpec::linear("alpha", self.alpha.0, self.alpha.1),
        ]
    }
    fn predict(
        &self,
        p: &[f64],
        lrs: &lrsde::schedule::LrGrid,
        steps: &[u64],
        out: &mut [f64],
    ) -> Result<(), LawError> {
        by_lr_area(lrs, steps, out, |s1| p[0] + p[1] * s1.powf(-p[2]));
        Ok(())
    }
    fn configure(&mut self, _curves: &[TrainingCurve]) -> Result<(), LawError> {
        Ok(())
    }
    fn initial_guesses(&self, _curves: &[TrainingCurve]) -> Vec<Vec<f64>> {
        vec![vec![
            0.5 * (self.l0.0 + self.l0.1),
            1.0,
            0.5 * (self.alpha.0 + self.alpha.1),
        ]]
    }
}

/// `L(t) = L0 + A·S1^−α − B·S2^γ` with the momentum-style annealing area
/// `S2 = Σ m_i`, `m_i = 0.9·m_{i−1} + (η_{i−1} − η_i)`: five parameters, one schedule-dependent.
pub struct Anneal5;

impl LossLaw for Anneal5 {
    fn name(&self) -> &'static str {
        "test-anneal5"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::linear("L0", 0.0, 10.0),
            ParamSpec::linear("A", 0.0, f64::INFINITY),
            ParamSpec::linear("alpha", 0.0, 2.0),
            ParamSpec::linear("B", 0.0, 1.0),
            ParamSpec::linear("gamma", 0.1, 3.0),
        ]
    }
    fn predict(
        &self,
        p: &[f64],
        lrs: &lrsde::schedule::LrGrid,
        steps: &[u64],
        out: &mut [f64],
    ) -> Result<(), LawError> {
        let (mut s1, mut s2, mut m, mut t) = (0.0, 0.0, 0.0, 0usize);
        for (o, &k) in out.iter_mut().zip(steps) {
            while t < k as usize {
                let prev = if t == 0 { lrs[0] } else { lrs[t - 1] };
                m = 0.9 * m + (prev - lrs[t]);
                s2 += m;
                s1 += lrs[t];
                t += 1;
            }
            *o = p[0] + p[1] * s1.powf(-p[2]) - p[3] * s2.max(0.0).powf(p[4]);
        }
        Ok(())
    }
    fn configure(&mut self, _curves: &[TrainingCurve]) -> Result<(), LawError> {
        Ok(())
    }
    fn initial_guesses(&self, _curves: &[TrainingCurve]) -> Vec<Vec<f64>> {
        vec![vec![2.5, 1.0, 0.3, 0.1, 1.0]]
    }
}

/// A law whose predictions are always NaN.
pub struct NanLaw;

impl LossLaw for NanLaw {
    fn name(&self) -> &'static str {
        "test-nan"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::linear("a", 0.0, 1.0),
            ParamSpec::linear("b", f64::NEG_INFINITY, f64::INFINITY),
        ]
    }
    fn predict(
        &self,
        _p: &[f64],
        _lrs: &lrsde::schedule::LrGrid,
        _steps: &[u64],
        out: &mut [f64],
    ) -> Result<(), LawError> {
        out.fill(f64::NAN);
        Ok(())
    }
    fn configure(&mut self, _curves: &[TrainingCurve]) -> Result<(), LawError> {
        Ok(())
    }
    fn initial_guesses(&self, _curves: &[TrainingCurve]) -> Vec<Vec<f64>> {
        vec![vec![0.5, 0.0]]
    }
}

/// Fills `out[j]` with `law(S1)`, `S1` the LR area (the sum of the LRs) of the first
/// `steps[j]` updates: the prediction of a test law that depends on the schedule through `S1`
/// alone.
pub fn by_lr_area(
    lrs: &lrsde::schedule::LrGrid,
    steps: &[u64],
    out: &mut [f64],
    law: impl Fn(f64) -> f64,
) {
    let (mut s1, mut t) = (0.0, 0usize);
    for (o, &k) in out.iter_mut().zip(steps) {
        while t < k as usize {
            s1 += lrs[t];
            t += 1;
        }
        *o = law(s1);
    }
}

pub fn constant(n: usize) -> Vec<f64> {
    vec![1.0; n]
}

pub fn cosine(n: usize) -> Vec<f64> {
    (0..n)
        .map(|t| 0.5 * (1.0 + (std::f64::consts::PI * t as f64 / n as f64).cos()))
        .collect()
}

/// `n_points` evenly spaced steps ending at `last`.
pub fn grid(last: u64, n_points: u64) -> Vec<u64> {
    (1..=n_points).map(|k| k * last / n_points).collect()
}

/// A curve from `law` at `params`, with multiplicative log-normal noise of std `sigma`.
pub fn curve(
    law: &dyn LossLaw,
    params: &[f64],
    name: &str,
    lrs: Vec<f64>,
    steps: Vec<u64>,
    sigma: f64,
    seed: u64,
) -> TrainingCurve {
    let mut losses = vec![0.0; steps.len()];
    law.predict(params, &lr_grid(&lrs), &steps, &mut losses)
        .expect("test laws predict any valid input");
    let mut rng = lrsde::rng::path_rng(seed, 0);
    for l in &mut losses {
        // Box–Muller from two uniforms: independent of rand_distr's algorithm choices.
        let u1 = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let u2 = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let z = (-2.0 * (1.0 - u1).ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        *l *= (sigma * z).exp();
    }
    TrainingCurve {
        name: name.into(),
        lrs: lrsde::schedule::LrGrid::new(lrs).unwrap(),
        steps,
        losses,
        batch: None,
    }
}

pub fn rel_err(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-12)
}

/// A validated LR grid from a test's LRs.
fn lr_grid(lrs: &[f64]) -> lrsde::schedule::LrGrid {
    lrsde::schedule::LrGrid::new(lrs.to_vec()).unwrap()
}
