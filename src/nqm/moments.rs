//! Exact mean and second-moment recursions of the linear models under any LR grid.
//!
//! Deterministic, no sampling: these are the oracle for the Monte Carlo path of
//! [`crate::ensemble`] and the fast path of the `sde` law ([`crate::law::SdeSurrogate`]) and of
//! `sim:model=nqm|momentum`.
//!
//! # Models
//!
//! The noisy quadratic model (NQM) with a power-law spectrum, per coordinate `i = 0..dim`:
//!
//! * curvature `h_i = hmax · (i + 1)^(−power)`,
//! * gradient-noise variance `s_i² = noise · h_i / batch`,
//! * start `x_i(0) = x0` (deterministic, so `E[x_i] = x0`, `E[x_i²] = x0²`),
//! * loss `L = ½ Σ h_i x_i²`, expected loss `½ Σ h_i E[x_i²]`.
//!
//! With `a = η h_i` and `b = η s_i` (η the LR of the update), the discrete updates and their
//! exact moment recursions are:
//!
//! | diffusion, [`Method`] | update | `E[x]` | `E[x²]` |
//! |---|---|---|---|
//! | [`NqmDiffusion::Additive`], `Em` or `Milstein` (= Gaussian-noise SGD) | `x ← x − a x + b z` | `(1−a) m₁` | `(1−a)² m₂ + b²` |
//! | [`NqmDiffusion::Sqrt1px2`], `Em` | `x ← x − a x + b √(1+x²) z` | `(1−a) m₁` | `((1−a)² + b²) m₂ + b²` |
//! | [`NqmDiffusion::Sqrt1px2`], `Milstein` | Milstein for `σ(x) = b √(1+x²)` | `(1−a) m₁` | `((1−a)² + b² + b⁴/2) m₂ + b²` |
//!
//! These are the moments of exactly what [`crate::ensemble`] simulates for the spec
//! `nqm:…,diffusion=…` with `--method em|milstein` (one step of `dt = 1` per update).
//!
//! (Milstein: `x ← (1−a)x + σ z + ½ σσ′ (z² − 1)` with `σσ′ = b² x`; the cross terms vanish because
//! `E[z] = E[z² − 1] = E[z(z² − 1)] = 0`, and `E[(z² − 1)²] = 2`.)
//!
//! Heavy-ball momentum, `x_{k+1} = x_k + μ (x_k − x_{k−1}) − a x_k + b z`, is tracked by
//! [`MomentumMoments`] through the per-coordinate 2×2 second-moment matrix of `(x_k, x_{k−1})`;
//! its runs of equal LR use the same rule, powering the 2×2 update matrix of `(x_k, x_{k−1})`
//! ([`MomentumMoments::advance_constant`]).
//!
//! # Piecewise-constant fast path
//!
//! Within a run of `n` updates at the same LR every recursion above is `m ← A m + c` with constant
//! `A ≥ 0` and `c`, so `m_n = Aⁿ m + c · (1 + A + … + A^{n−1})`. Runs of at least
//! [`CLOSED_FORM_MIN_RUN`] equal LRs (one rule for every caller) use that closed form:
//! [`DiagonalMoments::advance_constant`]
//! computes the pair `(Aⁿ, Σ_{j<n} Aʲ)` by binary powering of the affine map
//! (`(P₁, S₁) ∘ (P₂, S₂) = (P₁P₂, S₁ + P₁S₂)`): `O(log n)` multiply-adds per coordinate, all terms
//! non-negative, so there is no cancellation as `A → 1` (the textbook `(1 − Aⁿ)/(1 − A)` loses
//! all digits there) and no special case at `A = 1` or `A = 0`.

use thiserror::Error;

use super::{NqmDiffusion, NqmParams, ParamError, QuadraticParams};
use crate::schedule::LrGrid;
use crate::solver::Method;

/// Errors in moment-recursion inputs.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum MomentsError {
    /// A model parameter is out of its domain.
    #[error("invalid NQM parameter `{name}` = {value}: {reason}")]
    InvalidParameter {
        /// Parameter name (`dim`, `hmax`, `power`, `noise`, `batch`, `x0`, `momentum`).
        name: &'static str,
        /// The offending value.
        value: f64,
        /// What the domain is.
        reason: &'static str,
    },
    /// Per-coordinate arrays of different lengths.
    #[error("per-coordinate arrays differ in length: `{name}` has {found}, expected {expected}")]
    LengthMismatch {
        /// Array name.
        name: &'static str,
        /// Expected length (the number of coordinates).
        expected: usize,
        /// Given length.
        found: usize,
    },
    /// Save points are not strictly increasing or exceed the LR grid.
    #[error("save step {step} (entry {index}) is invalid: {reason}")]
    BadSaveStep {
        /// Position in the `steps` slice.
        index: usize,
        /// The step.
        step: u64,
        /// Why it is invalid.
        reason: &'static str,
    },
}

impl From<ParamError> for MomentsError {
    fn from(e: ParamError) -> Self {
        Self::InvalidParameter {
            name: e.key,
            value: e.value,
            reason: e.reason,
        }
    }
}

/// Which second-moment recursion a (diffusion, method) pair follows (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Recursion {
    /// Additive noise, any method (Milstein's correction vanishes).
    Additive,
    /// `σ = b √(1+x²)`, Euler–Maruyama.
    SqrtEm,
    /// `σ = b √(1+x²)`, Milstein.
    SqrtMilstein,
}

impl Recursion {
    fn new(diffusion: NqmDiffusion, method: Method) -> Self {
        match (diffusion, method) {
            (NqmDiffusion::Additive, _) => Self::Additive,
            (NqmDiffusion::Sqrt1px2, Method::Em) => Self::SqrtEm,
            (NqmDiffusion::Sqrt1px2, Method::Milstein) => Self::SqrtMilstein,
        }
    }
}

/// Per-coordinate coefficients `(A, c)` of `m₂ ← A m₂ + c` for one update.
#[inline(always)]
fn coeffs(rec: Recursion, lr: f64, h: f64, s2: f64) -> (f64, f64) {
    let t = 1.0 - lr * h;
    let b2 = lr * lr * s2;
    match rec {
        Recursion::Additive => (t * t, b2),
        Recursion::SqrtEm => (t * t + b2, b2),
        Recursion::SqrtMilstein => (t * t + b2 + 0.5 * b2 * b2, b2),
    }
}

/// `(xⁿ, Σ_{j<n} xʲ)` by binary powering of the affine map `m ↦ x m + 1`.
///
/// Every partial product and sum is a sum of non-negative terms when `x ≥ 0`, so the result is
/// accurate to `O(log n)` roundings even where `x` is within an ulp of 1.
#[inline]
pub fn power_and_geometric_sum(x: f64, mut n: u64) -> (f64, f64) {
    let (mut p, mut s) = (1.0, 0.0);
    let (mut bp, mut bs) = (x, 1.0);
    while n > 0 {
        if n & 1 == 1 {
            // result ∘ base: apply result after base (order is irrelevant: same A).
            s += p * bs;
            p *= bp;
        }
        n >>= 1;
        if n > 0 {
            bs += bp * bs;
            bp *= bp;
        }
    }
    (p, s)
}

/// Scratch space for [`AffinePower::apply`]: `n` updates `w_i ← A_i w_i + c_i` at once for a
/// whole vector of coordinates, by binary powering with the loop over coordinates innermost (so it
/// vectorises).
#[derive(Debug, Clone, Default)]
pub struct AffinePower {
    p: Vec<f64>,
    s: Vec<f64>,
    bp: Vec<f64>,
    bs: Vec<f64>,
}

impl AffinePower {
    /// Scratch for `dim` coordinates (grows on demand).
    pub fn new(dim: usize) -> Self {
        Self {
            p: vec![0.0; dim],
            s: vec![0.0; dim],
            bp: vec![0.0; dim],
            bs: vec![0.0; dim],
        }
    }

    /// Applies `w_i ← A_i w_i + c_i` `n` times in closed form: `w ← Aⁿ w + c Σ_{j<n} Aʲ`.
    ///
    /// `a`, `c` and `w` must have the same length (extra entries of the longer ones are ignored).
    ///
    /// ```
    /// use lrsde::nqm::AffinePower;
    /// let mut w = [1.0, 2.0];
    /// AffinePower::new(2).apply(&[0.5, 1.0], &[1.0, 0.25], &mut w, 3);
    /// assert_eq!(w, [0.125 + 1.75, 2.75]);
    /// ```
    pub fn apply(&mut self, a: &[f64], c: &[f64], w: &mut [f64], mut n: u64) {
        let d = a.len().min(c.len()).min(w.len());
        if self.p.len() < d {
            *self = Self::new(d);
        }
        let (p, s, bp, bs) = (
            &mut self.p[..d],
            &mut self.s[..d],
            &mut self.bp[..d],
            &mut self.bs[..d],
        );
        p.fill(1.0);
        s.fill(0.0);
        bp.copy_from_slice(&a[..d]);
        bs.fill(1.0);
        while n > 0 {
            if n & 1 == 1 {
                for i in 0..d {
                    s[i] += p[i] * bs[i];
                    p[i] *= bp[i];
                }
            }
            n >>= 1;
            if n > 0 {
                for i in 0..d {
                    bs[i] += bp[i] * bs[i];
                    bp[i] *= bp[i];
                }
            }
        }
        for i in 0..d {
            w[i] = p[i] * w[i] + c[i] * s[i];
        }
    }
}

/// Scratch for [`advance_second_moments`]: the affine powering buffers plus the per-run
/// coefficients, allocated once per prediction.
#[derive(Debug, Clone, Default)]
pub struct SecondMomentRun {
    pow: AffinePower,
    a: Vec<f64>,
    c: Vec<f64>,
}

impl SecondMomentRun {
    /// Scratch for `dim` coordinates (grows on demand).
    pub fn new(dim: usize) -> Self {
        Self {
            pow: AffinePower::new(dim),
            a: vec![0.0; dim],
            c: vec![0.0; dim],
        }
    }
}

/// `n` updates of the additive-noise second-moment recursion with the drift LR `d` and the
/// squared noise LR `e`: `w_i ← (1 − d h_i)² w_i + e s²_i`, in closed form for runs of at least
/// [`CLOSED_FORM_MIN_RUN`] updates and step by step below (both exact; the rule every recursion
/// here follows).
///
/// Plain SGD has `e = d²` ([`DiagonalMoments`] with additive noise); the `sde` law's optional LR
/// exponents use `d = u^a`, `e = u^b`.
///
/// ```
/// use lrsde::nqm::{advance_second_moments, SecondMomentRun};
/// let mut w = [1.0, 2.0];
/// let mut run = SecondMomentRun::new(2);
/// // (1 − 0.5·1)² · 1 + 0.25 · 0 = 0.25, (1 − 0.5·2)² · 2 + 0.25 · 4 = 1.
/// advance_second_moments(0.5, 0.25, &[1.0, 2.0], &[0.0, 4.0], &mut w, 1, &mut run);
/// assert_eq!(w, [0.25, 1.0]);
/// ```
// Called once per run of equal LRs, i.e. once per step on a smooth schedule: inlined so the
// `sde` law's per-step loop is the same code it was before it moved here.
#[inline]
pub fn advance_second_moments(
    d: f64,
    e: f64,
    h: &[f64],
    s2: &[f64],
    w: &mut [f64],
    n: usize,
    run: &mut SecondMomentRun,
) {
    if n >= CLOSED_FORM_MIN_RUN {
        let len = w.len().min(h.len()).min(s2.len());
        if run.a.len() < len {
            *run = SecondMomentRun::new(len);
        }
        for i in 0..len {
            let t = 1.0 - d * h[i];
            run.a[i] = t * t;
            run.c[i] = e * s2[i];
        }
        run.pow
            .apply(&run.a[..len], &run.c[..len], &mut w[..len], n as u64);
    } else {
        for _ in 0..n {
            // Zipped iterators: no bounds checks, the loop vectorises.
            for ((wi, &hi), &si) in w.iter_mut().zip(h).zip(s2) {
                let t = 1.0 - d * hi;
                *wi = t * t * *wi + e * si;
            }
        }
    }
}

/// Exact first and second moments of a diagonal linear SGD model, coordinate by coordinate.
///
/// Holds the curvatures `h`, noise variances `s²`, the recursion and the current `E[x]`, `E[x²]`.
///
/// ```
/// use lrsde::nqm::{DiagonalMoments, NqmParams};
/// use lrsde::solver::Method;
/// let mut m = DiagonalMoments::new(&NqmParams::default(), Method::Em).unwrap();
/// let start = m.expected_loss();
/// m.run(&lrsde::schedule::LrGrid::new(vec![0.1; 100]).unwrap());
/// assert!(m.expected_loss() < start);
/// assert_eq!(m.steps(), 100);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DiagonalMoments {
    h: Vec<f64>,
    s2: Vec<f64>,
    rec: Recursion,
    mean: Vec<f64>,
    second: Vec<f64>,
    steps: u64,
}

/// The exact recursions the `sim:` laws drive stretch by stretch of a validated grid.
pub(crate) trait MomentRecursion {
    /// One update at `lr` with the noise variance scaled by `v`.
    fn step_scaled(&mut self, lr: f64, v: f64);
    /// `n` updates at `lr` with the noise variance scaled by `v`, in closed form.
    fn advance_constant_scaled(&mut self, lr: f64, v: f64, n: u64);
    /// Updates at each LR of `lrs` (already validated).
    fn run_lrs(&mut self, lrs: &[f64]);
    /// Expected loss now.
    fn expected_loss(&self) -> f64;
    /// `run_batched` on a stretch of an already validated grid: runs of equal LR *and* noise
    /// factor follow `run_lrs`'s rule (closed form from [`CLOSED_FORM_MIN_RUN`] updates on), so
    /// a constant factor costs what the unbatched run costs and all-ones factors give its bits.
    fn run_batched_lrs(&mut self, lrs: &[f64], noise_var: &[f64]) -> Result<(), MomentsError> {
        check_noise_var(noise_var, lrs.len())?;
        let mut i = 0;
        while i < lrs.len() {
            let (lr, v) = (lrs[i], noise_var[i]);
            let same = |j: usize| {
                lrs[j].to_bits() == lr.to_bits() && noise_var[j].to_bits() == v.to_bits()
            };
            let end = (i + 1..lrs.len()).find(|&j| !same(j)).unwrap_or(lrs.len());
            let n = end - i;
            if n >= CLOSED_FORM_MIN_RUN {
                self.advance_constant_scaled(lr, v, n as u64);
            } else {
                for _ in 0..n {
                    self.step_scaled(lr, v);
                }
            }
            i = end;
        }
        Ok(())
    }
}

macro_rules! moment_recursion {
    ($t:ty) => {
        impl MomentRecursion for $t {
            fn step_scaled(&mut self, lr: f64, v: f64) {
                <$t>::step_scaled(self, lr, v)
            }
            fn advance_constant_scaled(&mut self, lr: f64, v: f64, n: u64) {
                <$t>::advance_constant_scaled(self, lr, v, n)
            }
            fn run_lrs(&mut self, lrs: &[f64]) {
                <$t>::run_lrs(self, lrs)
            }
            fn expected_loss(&self) -> f64 {
                <$t>::expected_loss(self)
            }
        }
    };
}
moment_recursion!(DiagonalMoments);
moment_recursion!(MomentumMoments);

impl DiagonalMoments {
    /// Starts from the NQM's deterministic initial point; `method` is the scheme the ensemble
    /// would simulate `nqm` with.
    ///
    /// # Errors
    /// [`MomentsError::InvalidParameter`] if `nqm` is invalid.
    pub fn new(nqm: &NqmParams, method: Method) -> Result<Self, MomentsError> {
        let q = &nqm.quad;
        q.validate("nqm")?;
        let d = q.dim;
        Ok(Self {
            h: q.curvatures(),
            s2: q.noise_variances(),
            rec: Recursion::new(nqm.diffusion, method),
            mean: vec![q.x0; d],
            second: vec![q.x0 * q.x0; d],
            steps: 0,
        })
    }

    /// Starts from arbitrary per-coordinate curvatures, noise variances and moments, for the
    /// diffusion form `diffusion` under `method`.
    ///
    /// # Errors
    /// [`MomentsError::LengthMismatch`] if the arrays differ in length;
    /// [`MomentsError::InvalidParameter`] if a value is not finite or `s²` / `E[x²]` is negative.
    pub fn from_spectrum(
        h: Vec<f64>,
        s2: Vec<f64>,
        mean: Vec<f64>,
        second: Vec<f64>,
        diffusion: NqmDiffusion,
        method: Method,
    ) -> Result<Self, MomentsError> {
        let d = h.len();
        for (name, v) in [("s2", &s2), ("mean", &mean), ("second", &second)] {
            if v.len() != d {
                return Err(MomentsError::LengthMismatch {
                    name,
                    expected: d,
                    found: v.len(),
                });
            }
        }
        let check = |name, v: &[f64], nonneg: bool| {
            for &x in v {
                if !x.is_finite() || (nonneg && x < 0.0) {
                    return Err(MomentsError::InvalidParameter {
                        name,
                        value: x,
                        reason: if nonneg {
                            "must be finite and >= 0"
                        } else {
                            "must be finite"
                        },
                    });
                }
            }
            Ok(())
        };
        check("h", &h, false)?;
        check("s2", &s2, true)?;
        check("mean", &mean, false)?;
        check("second", &second, true)?;
        Ok(Self {
            h,
            s2,
            rec: Recursion::new(diffusion, method),
            mean,
            second,
            steps: 0,
        })
    }

    /// One update at LR `lr` (exact recursion; `lr` is not validated here, see [`Self::run`]).
    #[inline]
    pub fn step(&mut self, lr: f64) {
        self.step_scaled(lr, 1.0);
    }

    /// One update at LR `lr` with the noise variance multiplied by `v` (a batch schedule's
    /// `B_ref / B_t`; `v = 1` is exactly [`Self::step`]).
    #[inline]
    pub fn step_scaled(&mut self, lr: f64, v: f64) {
        self.step_inline(lr, v);
    }

    /// [`Self::step_scaled`], always inlined: the body of the per-instruction-set copies of
    /// [`step_each`].
    #[inline(always)]
    fn step_inline(&mut self, lr: f64, v: f64) {
        // One monomorphic loop per recursion (the match is hoisted out of the coordinate loop), with
        // zipped iterators (no bounds checks) so the loop vectorises.
        #[inline(always)]
        fn update<const REC: u8>(
            lr: f64,
            v: f64,
            mean: &mut [f64],
            second: &mut [f64],
            h: &[f64],
            s2: &[f64],
        ) {
            let rec = match REC {
                0 => Recursion::Additive,
                1 => Recursion::SqrtEm,
                _ => Recursion::SqrtMilstein,
            };
            for (((m1, m2), &h), &s2) in mean.iter_mut().zip(second.iter_mut()).zip(h).zip(s2) {
                let (a, c) = coeffs(rec, lr, h, s2 * v);
                *m1 *= 1.0 - lr * h;
                *m2 = a * *m2 + c;
            }
        }
        let (m, s, h, s2) = (&mut self.mean, &mut self.second, &self.h, &self.s2);
        match self.rec {
            Recursion::Additive => update::<0>(lr, v, m, s, h, s2),
            Recursion::SqrtEm => update::<1>(lr, v, m, s, h, s2),
            Recursion::SqrtMilstein => update::<2>(lr, v, m, s, h, s2),
        }
        self.steps += 1;
    }

    /// `n` updates at the constant LR `lr`, in closed form (`O(log n)` per coordinate).
    ///
    /// Agrees with `n` calls of [`Self::step`] to a few ulps times `log n`.
    pub fn advance_constant(&mut self, lr: f64, n: u64) {
        self.advance_constant_scaled(lr, 1.0, n);
    }

    /// [`Self::advance_constant`] with the noise variance multiplied by `v` (a constant batch
    /// `B` over the run: `v = B_ref / B`); `v = 1` gives its bits.
    pub(crate) fn advance_constant_scaled(&mut self, lr: f64, v: f64, n: u64) {
        if n == 0 {
            return;
        }
        let rec = self.rec;
        for (((m1, m2), &h), &s2) in self
            .mean
            .iter_mut()
            .zip(self.second.iter_mut())
            .zip(&self.h)
            .zip(&self.s2)
        {
            let (a, c) = coeffs(rec, lr, h, s2 * v);
            let (an, geo) = power_and_geometric_sum(a, n);
            *m2 = an * *m2 + c * geo;
            // The mean's factor (1 − ηh) may be negative: plain binary powering keeps the sign.
            *m1 *= power_and_geometric_sum(1.0 - lr * h, n).0;
        }
        self.steps += n;
    }

    /// Applies the updates of `lrs` in order, using the closed form on runs of at least
    /// [`CLOSED_FORM_MIN_RUN`] exactly equal LRs and the step recursion elsewhere (both exact).
    pub fn run(&mut self, lrs: &LrGrid) {
        self.run_lrs(lrs);
    }

    /// [`Self::run`] on part of a grid (a validated grid's LRs, so nothing is checked).
    pub(crate) fn run_lrs(&mut self, lrs: &[f64]) {
        run_split(self, lrs, Self::advance_constant);
    }

    /// [`Self::run`] under a batch schedule: update `t` has its noise variance multiplied by
    /// `noise_var[t]` (`B_ref / B_t`, [`crate::schedule::BatchGrid::variance_factors`]). Runs of
    /// equal LR and factor take the closed form as in [`Self::run`] (both exact); all-ones
    /// factors give the bits of [`Self::run`].
    ///
    /// ```
    /// use lrsde::nqm::{DiagonalMoments, NqmParams};
    /// use lrsde::solver::Method;
    /// let p = NqmParams::default();
    /// let mut a = DiagonalMoments::new(&p, Method::Em).unwrap();
    /// let mut b = a.clone();
    /// let lrs = lrsde::schedule::LrGrid::new(vec![0.5; 10]).unwrap();
    /// a.run_batched(&lrs, &[2.0; 10]).unwrap(); // half the batch
    /// b.run(&lrs);
    /// assert!(a.expected_loss() > b.expected_loss());
    /// ```
    ///
    /// # Errors
    /// [`MomentsError::InvalidParameter`] if the lengths differ or a factor is not finite and
    /// `>= 0` (nothing is applied in that case).
    pub fn run_batched(&mut self, lrs: &LrGrid, noise_var: &[f64]) -> Result<(), MomentsError> {
        MomentRecursion::run_batched_lrs(self, lrs, noise_var)
    }

    /// Expected loss `½ Σ h_i E[x_i²]` now.
    pub fn expected_loss(&self) -> f64 {
        0.5 * dot(&self.h, &self.second)
    }

    /// `E[x_i]` per coordinate.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// `E[x_i²]` per coordinate.
    pub fn second_moment(&self) -> &[f64] {
        &self.second
    }

    /// Curvatures `h_i`.
    pub fn curvatures(&self) -> &[f64] {
        &self.h
    }

    /// Number of updates applied so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }
}

/// `Σ a_i b_i` with four independent accumulators: a sequential sum is one long dependency chain
/// (4 cycles per term), which dominated per-step loss output.
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Runs of equal LR at least this long advance in closed form, shorter ones step by step: binary
/// powering costs about `2 log₂ n` vector passes against `n` for the step recursion. Both paths
/// are exact, so the threshold moves results by a few ulps only; one value for every caller keeps
/// the `sde` law and `sim:model=nqm` on identical arithmetic.
pub const CLOSED_FORM_MIN_RUN: usize = 16;

/// Calls `f(lr, len)` for each maximal run of bit-identical consecutive LRs.
#[inline]
pub(crate) fn for_each_run(lrs: &[f64], mut f: impl FnMut(f64, usize)) {
    let mut i = 0;
    while i < lrs.len() {
        let lr = lrs[i];
        let mut e = i + 1;
        while e < lrs.len() && lrs[e].to_bits() == lr.to_bits() {
            e += 1;
        }
        f(lr, e - i);
        i = e;
    }
}

/// A recursion whose single update [`step_each`] compiles once per instruction set.
trait InlineStep {
    /// One update at `lr`, noise variance times `v`; `#[inline(always)]` in every impl, so
    /// the loop of [`step_each`] gets the instruction set of its copy.
    fn step_inline(&mut self, lr: f64, v: f64);
}

impl InlineStep for DiagonalMoments {
    #[inline(always)]
    fn step_inline(&mut self, lr: f64, v: f64) {
        DiagonalMoments::step_inline(self, lr, v);
    }
}

impl InlineStep for MomentumMoments {
    #[inline(always)]
    fn step_inline(&mut self, lr: f64, v: f64) {
        MomentumMoments::step_inline(self, lr, v);
    }
}

/// Steps of a recursion at each LR of `lrs`, as a [`pulp::WithSimd`] operation.
struct Steps<'a, M> {
    m: &'a mut M,
    lrs: &'a [f64],
}

impl<M: InlineStep> pulp::WithSimd for Steps<'_, M> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        for &lr in self.lrs {
            self.m.step_inline(lr, 1.0);
        }
    }
}

/// One update per LR of `lrs`, in a copy of the loop compiled for the best instruction set
/// ([`crate::simd::arch`]): the coordinate loop is elementwise without FMA contraction, so
/// every copy computes the same bits, and the SSE2 baseline's two lanes left most of a fit's
/// time in it (`docs/performance.md`).
fn step_each<M: InlineStep>(m: &mut M, lrs: &[f64]) {
    if !lrs.is_empty() {
        crate::simd::arch().dispatch(Steps { m, lrs });
    }
}

/// Runs `lrs`: runs of at least [`CLOSED_FORM_MIN_RUN`] equal LRs by `closed(m, lr, n)`, the
/// stretches between them by [`step_each`] (one dispatch per stretch, not per update).
fn run_split<M: InlineStep>(m: &mut M, lrs: &[f64], mut closed: impl FnMut(&mut M, f64, u64)) {
    let (mut start, mut pos) = (0, 0);
    for_each_run(lrs, |lr, n| {
        if n >= CLOSED_FORM_MIN_RUN {
            step_each(m, &lrs[start..pos]);
            closed(m, lr, n as u64);
            start = pos + n;
        }
        pos += n;
    });
    step_each(m, &lrs[start..]);
}

/// A batch schedule's variance factors: one per update, finite and `>= 0`.
fn check_noise_var(v: &[f64], len: usize) -> Result<(), MomentsError> {
    let bad = |value: f64, reason| {
        Err(MomentsError::InvalidParameter {
            name: "batch schedule",
            value,
            reason,
        })
    };
    if v.len() != len {
        return bad(v.len() as f64, "needs one noise factor per learning rate");
    }
    match v.iter().find(|x| !x.is_finite() || **x < 0.0) {
        Some(&x) => bad(x, "noise factors must be finite and >= 0"),
        None => Ok(()),
    }
}

fn check_steps(steps: &[u64], len: usize) -> Result<(), MomentsError> {
    let mut prev = 0u64;
    for (index, &step) in steps.iter().enumerate() {
        if index > 0 && step <= prev {
            return Err(MomentsError::BadSaveStep {
                index,
                step,
                reason: "save steps must be strictly increasing",
            });
        }
        if step > len as u64 {
            return Err(MomentsError::BadSaveStep {
                index,
                step,
                reason: "save step beyond the end of the LR grid",
            });
        }
        prev = step;
    }
    Ok(())
}

/// Expected NQM loss after each of `steps` updates (0 = the initial loss) under the LR grid `lrs`
/// (`lrs[t]` is the LR of update `t + 1`).
///
/// ```
/// use lrsde::nqm::{expected_loss_at, NqmParams};
/// use lrsde::solver::Method;
/// let lrs = lrsde::schedule::LrGrid::new(vec![0.2; 1000]).unwrap();
/// let l = expected_loss_at(&NqmParams::default(), Method::Em, &lrs, &[0, 10, 1000]).unwrap();
/// assert_eq!(l[0], 0.5 * (1..=32).map(|i| 1.0 / i as f64).sum::<f64>());
/// assert!(l[2] < l[1] && l[1] < l[0]);
/// ```
///
/// # Errors
/// Invalid parameters, or save steps that are not strictly increasing or exceed `lrs.len()`.
pub fn expected_loss_at(
    nqm: &NqmParams,
    method: Method,
    lrs: &LrGrid,
    steps: &[u64],
) -> Result<Vec<f64>, MomentsError> {
    check_steps(steps, lrs.len())?;
    let mut m = DiagonalMoments::new(nqm, method)?;
    let mut out = Vec::with_capacity(steps.len());
    let mut pos = 0usize;
    for &s in steps {
        let s = s as usize;
        m.run_lrs(&lrs[pos..s]);
        pos = s;
        out.push(m.expected_loss());
    }
    Ok(out)
}

/// Expected NQM loss after every update: `out[t]` is the loss after `t + 1` updates.
///
/// Uses the step recursion throughout (`dim` multiply-adds per step, vectorised).
///
/// ```
/// use lrsde::nqm::{expected_loss_every_step, NqmParams};
/// use lrsde::solver::Method;
/// let lrs = lrsde::schedule::LrGrid::new(vec![0.1; 50]).unwrap();
/// let l = expected_loss_every_step(&NqmParams::default(), Method::Em, &lrs).unwrap();
/// assert_eq!(l.len(), 50);
/// ```
///
/// # Errors
/// Invalid parameters.
pub fn expected_loss_every_step(
    nqm: &NqmParams,
    method: Method,
    lrs: &LrGrid,
) -> Result<Vec<f64>, MomentsError> {
    let mut m = DiagonalMoments::new(nqm, method)?;
    Ok(lrs
        .iter()
        .map(|&lr| {
            m.step(lr);
            m.expected_loss()
        })
        .collect())
}

/// Exact moments of heavy-ball momentum SGD on a diagonal quadratic with additive Gaussian noise:
/// `x_{k+1} = x_k + μ (x_k − x_{k−1}) − η h x_k + η s z`, starting at rest (`x_{−1} = x_0`).
///
/// Per coordinate, with `c = 1 + μ − η h` and `b = η s`, the state `(x_k, x_{k−1})` has means
/// `(m, m′)` and second moments `P = E[x_k²]`, `Q = E[x_k x_{k−1}]`, `R = E[x_{k−1}²]`:
///
/// ```text
/// m ← c m − μ m′,   m′ ← m
/// P ← c² P − 2 c μ Q + μ² R + b²,   Q ← c P − μ Q,   R ← P
/// ```
///
/// At constant η the stationary second moment is `P* = b² (1+μ) / ((1−μ) ((1+μ)² − c²))`
/// (stable iff `0 < η h < 2 (1 + μ)`).
///
/// ```
/// use lrsde::nqm::{MomentumMoments, QuadraticParams};
/// let mut m = MomentumMoments::new(&QuadraticParams::default(), 0.9).unwrap();
/// m.run(&lrsde::schedule::LrGrid::new(vec![0.05; 200]).unwrap());
/// assert!(m.expected_loss().is_finite());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MomentumMoments {
    h: Vec<f64>,
    s2: Vec<f64>,
    mu: f64,
    mean: Vec<f64>,
    mean_prev: Vec<f64>,
    /// `false`: the means are not advanced (a caller that reads only the loss skips 2 of the 5
    /// state vectors per update; [`Self::loss_only`]).
    track_mean: bool,
    /// The last closed-form run's per-direction powers: a fit's constant schedule repeats the
    /// same `(lr, n)` between every pair of output steps.
    run_cache: RunCache,
    p: Vec<f64>,
    q: Vec<f64>,
    r: Vec<f64>,
    steps: u64,
}

impl MomentumMoments {
    /// Starts the NQM at rest at `x0` with momentum coefficient `mu ∈ [0, 1)`.
    ///
    /// # Errors
    /// [`MomentsError::InvalidParameter`] for an invalid NQM or `mu` outside `[0, 1)`.
    pub fn new(nqm: &QuadraticParams, mu: f64) -> Result<Self, MomentsError> {
        nqm.validate("momentum")?;
        if !(mu.is_finite() && (0.0..1.0).contains(&mu)) {
            return Err(MomentsError::InvalidParameter {
                name: "momentum",
                value: mu,
                reason: "must be in [0, 1)",
            });
        }
        let d = nqm.dim;
        let x2 = nqm.x0 * nqm.x0;
        Ok(Self {
            h: nqm.curvatures(),
            s2: nqm.noise_variances(),
            mu,
            mean: vec![nqm.x0; d],
            mean_prev: vec![nqm.x0; d],
            track_mean: true,
            run_cache: RunCache::default(),
            p: vec![x2; d],
            q: vec![x2; d],
            r: vec![x2; d],
            steps: 0,
        })
    }

    /// Starts coordinate `i` at rest at `x0[i]` instead of the NQM's common `x0` (an initial
    /// spectrum, as the `sim:` law fits it). Only before the first update.
    ///
    /// ```
    /// use lrsde::nqm::{MomentumMoments, QuadraticParams};
    /// let nqm = QuadraticParams { dim: 2, ..Default::default() };
    /// let m = MomentumMoments::new(&nqm, 0.9).unwrap().starting_at(&[1.0, 0.5]).unwrap();
    /// assert_eq!(m.second_moment(), [1.0, 0.25]);
    /// ```
    ///
    /// # Errors
    /// [`MomentsError::LengthMismatch`] unless `x0` has one entry per coordinate;
    /// [`MomentsError::InvalidParameter`] for a non-finite entry or after an update.
    pub fn starting_at(mut self, x0: &[f64]) -> Result<Self, MomentsError> {
        if x0.len() != self.h.len() {
            return Err(MomentsError::LengthMismatch {
                name: "x0",
                expected: self.h.len(),
                found: x0.len(),
            });
        }
        if let Some(&v) = x0.iter().find(|v| !v.is_finite()) {
            return Err(MomentsError::InvalidParameter {
                name: "x0",
                value: v,
                reason: "must be finite",
            });
        }
        if self.steps > 0 {
            return Err(MomentsError::InvalidParameter {
                name: "x0",
                value: self.steps as f64,
                reason: "can only be set before the first update",
            });
        }
        for (i, &x) in x0.iter().enumerate() {
            self.mean[i] = x;
            self.mean_prev[i] = x;
            self.p[i] = x * x;
            self.q[i] = x * x;
            self.r[i] = x * x;
        }
        Ok(self)
    }

    /// Stops advancing the means ([`Self::mean`] keeps its value from then on): for callers that
    /// read only the second moments or the loss, which do not depend on the means.
    pub(crate) fn loss_only(mut self) -> Self {
        self.track_mean = false;
        self
    }

    /// One update at LR `lr`.
    #[inline]
    pub fn step(&mut self, lr: f64) {
        self.step_scaled(lr, 1.0);
    }

    /// One update at LR `lr` with the noise variance multiplied by `v` (`v = 1`: exactly
    /// [`Self::step`]).
    #[inline]
    pub fn step_scaled(&mut self, lr: f64, v: f64) {
        self.step_inline(lr, v);
    }

    /// [`Self::step_scaled`], always inlined: the body of the per-instruction-set copies of
    /// [`step_each`].
    #[inline(always)]
    fn step_inline(&mut self, lr: f64, v: f64) {
        let mu = self.mu;
        let mu2 = mu * mu;
        // Zipped iterators (no bounds checks) so the loops vectorise; same arithmetic per entry.
        for ((((pi, qi), ri), &h), &s2) in self
            .p
            .iter_mut()
            .zip(self.q.iter_mut())
            .zip(self.r.iter_mut())
            .zip(&self.h)
            .zip(&self.s2)
        {
            let c = 1.0 + mu - lr * h;
            let b2 = lr * lr * (s2 * v);
            let (p, q, r) = (*pi, *qi, *ri);
            *pi = c * c * p - 2.0 * c * mu * q + mu2 * r + b2;
            *qi = c * p - mu * q;
            *ri = p;
        }
        if self.track_mean {
            for ((mi, mpi), &h) in self
                .mean
                .iter_mut()
                .zip(self.mean_prev.iter_mut())
                .zip(&self.h)
            {
                let c = 1.0 + mu - lr * h;
                let m = *mi;
                *mi = c * m - mu * *mpi;
                *mpi = m;
            }
        }
        self.steps += 1;
    }

    /// Applies the updates of `lrs` in order: runs of at least [`CLOSED_FORM_MIN_RUN`] equal LRs
    /// by [`Self::advance_constant`], the rest step by step (both exact).
    pub fn run(&mut self, lrs: &LrGrid) {
        self.run_lrs(lrs);
    }

    /// [`Self::run`] on part of a grid (a validated grid's LRs, so nothing is checked).
    pub(crate) fn run_lrs(&mut self, lrs: &[f64]) {
        run_split(self, lrs, Self::advance_constant);
    }

    /// `n` updates at the constant LR `lr` in closed form: per coordinate the mean pair follows a
    /// 2×2 linear map `A` and the second-moment matrix `S ← A S Aᵀ + b² e₁e₁ᵀ`, both advanced by
    /// binary powering of `A` (`O(log n)` 2×2 products per coordinate).
    ///
    /// Agrees with `n` calls of [`Self::step`] up to rounding (`tests/moments_recursion.rs`
    /// checks ~1e-12 relative, also near the stability edge and at `μ = 0`).
    ///
    /// ```
    /// use lrsde::nqm::{MomentumMoments, QuadraticParams};
    /// let mut a = MomentumMoments::new(&QuadraticParams::default(), 0.9).unwrap();
    /// let mut b = a.clone();
    /// a.advance_constant(0.05, 1000);
    /// for _ in 0..1000 {
    ///     b.step(0.05);
    /// }
    /// let (la, lb) = (a.expected_loss(), b.expected_loss());
    /// assert!((la - lb).abs() <= 1e-12 * lb);
    /// assert_eq!(a.steps(), 1000);
    /// ```
    pub fn advance_constant(&mut self, lr: f64, n: u64) {
        self.advance_constant_scaled(lr, 1.0, n);
    }

    /// [`Self::advance_constant`] with the noise variance multiplied by `v` (a constant batch
    /// over the run); `v = 1` gives its bits.
    pub(crate) fn advance_constant_scaled(&mut self, lr: f64, v: f64, n: u64) {
        if n == 0 {
            return;
        }
        let key = Some((lr.to_bits(), v.to_bits(), n));
        if self.run_cache.key != key {
            let mu = self.mu;
            self.run_cache.powers.clear();
            self.run_cache.powers.extend(
                self.h
                    .iter()
                    .zip(&self.s2)
                    .map(|(&h, &s2)| momentum_power(1.0 + mu - lr * h, mu, lr * lr * (s2 * v), n)),
            );
            self.run_cache.key = key;
        }
        for (i, run) in self.run_cache.powers.iter().enumerate() {
            let (m, w) = apply_run(
                run,
                [self.mean[i], self.mean_prev[i]],
                [self.p[i], self.q[i], self.r[i]],
            );
            // Frozen means stay frozen (`loss_only`).
            if self.track_mean {
                [self.mean[i], self.mean_prev[i]] = m;
            }
            [self.p[i], self.q[i], self.r[i]] = w;
        }
        self.steps += n;
    }

    /// [`Self::run`] under a batch schedule (see [`DiagonalMoments::run_batched`]).
    ///
    /// # Errors
    /// As [`DiagonalMoments::run_batched`].
    pub fn run_batched(&mut self, lrs: &LrGrid, noise_var: &[f64]) -> Result<(), MomentsError> {
        MomentRecursion::run_batched_lrs(self, lrs, noise_var)
    }

    /// Expected loss `½ Σ h_i E[x_i²]` now.
    pub fn expected_loss(&self) -> f64 {
        0.5 * dot(&self.h, &self.p)
    }

    /// `E[x_i]` per coordinate.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// `E[x_i²]` per coordinate.
    pub fn second_moment(&self) -> &[f64] {
        &self.p
    }

    /// `E[x_i x_i^prev]` per coordinate (lag-one cross moment).
    pub fn cross_moment(&self) -> &[f64] {
        &self.q
    }

    /// Number of updates applied so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Stationary `E[x_i²]` at constant LR `lr` (`None` where the coordinate is unstable or
    /// noiseless-degenerate).
    pub fn stationary_second_moment(&self, lr: f64) -> Vec<Option<f64>> {
        let mu = self.mu;
        self.h
            .iter()
            .zip(&self.s2)
            .map(|(&h, &s2)| {
                let a = lr * h;
                let c = 1.0 + mu - a;
                let den = (1.0 - mu) * ((1.0 + mu) * (1.0 + mu) - c * c);
                (a > 0.0 && a < 2.0 * (1.0 + mu) && den > 0.0)
                    .then(|| lr * lr * s2 * (1.0 + mu) / den)
            })
            .collect()
    }
}

/// [`MomentumMoments`]'s cached run powers, keyed by the bits of the LR and noise factor and the
/// run length (a cache:
/// ignored by `==`).
#[derive(Debug, Clone, Default)]
struct RunCache {
    key: Option<(u64, u64, u64)>,
    powers: Vec<RunPower>,
}

impl PartialEq for RunCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// `n` updates at one LR of one coordinate's state: the mean pair `v = (m, m′)` follows
/// `v ← A v` and the second-moment matrix `S = [[P, Q], [Q, R]]` follows `S ← A S Aᵀ + b² e₁e₁ᵀ`,
/// with `A = [[c, −μ], [1, 0]]`. Binary powering of the pair `(Aᵏ, Gₖ = Σ_{j<k} Aʲ E Aʲᵀ)`,
/// composed as `G_{a+b} = G_a + Aᵃ G_b Aᵃᵀ`.
///
/// Powering `A` itself rather than the equivalent 3×3 map on `(P, Q, R)`: near critical damping
/// (`c² ≈ 4μ`, the slow directions of a momentum fit) the 3×3 map's eigenvectors are nearly
/// parallel and its powers lost up to ~1e-11 relative in a check against 50-digit arithmetic;
/// the 2×2 form stayed within a few 1e-14 there, closer than the step recursion itself.
fn momentum_power(c: f64, mu: f64, b2: f64, mut n: u64) -> RunPower {
    fn mul(a: &M2, b: &M2) -> M2 {
        [0, 1].map(|i| [0, 1].map(|j| a[i][0] * b[0][j] + a[i][1] * b[1][j]))
    }
    let mut acc: M2 = [[1.0, 0.0], [0.0, 1.0]];
    let mut acc_g = [0.0; 3];
    let mut base: M2 = [[c, -mu], [1.0, 0.0]];
    let mut base_g = [b2, 0.0, 0.0];
    while n > 0 {
        if n & 1 == 1 {
            let t = congruence(&acc, &base_g);
            acc_g = [0, 1, 2].map(|i| acc_g[i] + t[i]);
            acc = mul(&acc, &base);
        }
        n >>= 1;
        if n > 0 {
            let t = congruence(&base, &base_g);
            base_g = [0, 1, 2].map(|i| base_g[i] + t[i]);
            base = mul(&base, &base);
        }
    }
    (acc, acc_g)
}

/// Applies one direction's run `(Aⁿ, Gₙ)` to its mean pair and `(P, Q, R)`.
fn apply_run(run: &RunPower, mean: [f64; 2], w: [f64; 3]) -> ([f64; 2], [f64; 3]) {
    let (acc, acc_g) = run;
    let m = [0, 1].map(|i| acc[i][0] * mean[0] + acc[i][1] * mean[1]);
    let t = congruence(acc, &w);
    (m, [0, 1, 2].map(|i| t[i] + acc_g[i]))
}

/// A 2×2 matrix, row-major.
type M2 = [[f64; 2]; 2];

/// `(Aⁿ, Gₙ)` of one direction's run ([`momentum_power`]).
type RunPower = (M2, [f64; 3]);

/// `a g aᵀ` for a symmetric `g` stored as `(g₀₀, g₀₁, g₁₁)`.
fn congruence(a: &M2, g: &[f64; 3]) -> [f64; 3] {
    let t0 = [
        a[0][0] * g[0] + a[0][1] * g[1],
        a[0][0] * g[1] + a[0][1] * g[2],
    ];
    let t1 = [
        a[1][0] * g[0] + a[1][1] * g[1],
        a[1][0] * g[1] + a[1][1] * g[2],
    ];
    [
        t0[0] * a[0][0] + t0[1] * a[0][1],
        t0[0] * a[1][0] + t0[1] * a[1][1],
        t1[0] * a[1][0] + t1[1] * a[1][1],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_only_keeps_second_moment_bits_and_freezes_means() {
        let quad = QuadraticParams::default();
        let full = MomentumMoments::new(&quad, 0.9).unwrap();
        let (mut a, mut b) = (full.clone(), full.clone().loss_only());
        // Short runs (stepped) and a long one (closed form).
        let lrs: Vec<f64> = (0..300)
            .map(|t| 0.05 + 0.01 * (t / 10 % 3) as f64)
            .collect();
        let lrs = [lrs, vec![0.07; 500]].concat();
        a.run_lrs(&lrs);
        b.run_lrs(&lrs);
        assert_eq!((a.p.clone(), a.q.clone(), a.r.clone()), (b.p, b.q, b.r));
        assert_eq!(b.mean, full.mean);
        assert_ne!(a.mean, full.mean);
    }

    #[test]
    fn cached_run_powers_give_the_bits_of_fresh_ones() {
        let full = MomentumMoments::new(&QuadraticParams::default(), 0.9).unwrap();
        let (mut cached, mut fresh) = (full.clone(), full);
        // Same key twice, then a new LR and a new length: each must match a cache-free call.
        for (lr, n) in [(0.07, 100), (0.07, 100), (0.05, 100), (0.05, 37)] {
            cached.advance_constant(lr, n);
            fresh.run_cache = RunCache::default();
            fresh.advance_constant(lr, n);
            assert_eq!(cached.p, fresh.p);
            assert_eq!((&cached.q, &cached.r), (&fresh.q, &fresh.r));
            assert_eq!(cached.mean, fresh.mean);
        }
    }
}
