//! Direct updates of the built-in Monte Carlo models (`adam`, `lossnoise`) for the law's
//! hot loop ([`PathBatch`]): a batch of parameter vectors on the same paths and, up to
//! rounding, the same numbers as the models' generic Euler–Maruyama / Milstein steps.

use super::monte_carlo::PathBatch;
use crate::model::quadratic_loss;

/// [`crate::model::Adam`] as the plain recursion on `[x, m, v]` per member and direction plus
/// the shared `[β₁ᵏ, β₂ᵏ]` (the model keeps a lagged state so one diagonal-noise step can
/// express it; here the update is written out). Equal to the model's step up to rounding (the
/// model reconstructs `g_k` from `m`). Member `k`'s direction `i` is lane `k·dim + i`.
pub(crate) struct AdamBatch {
    /// Directions per member.
    pub dim: usize,
    /// Curvature per lane.
    pub h: Vec<f64>,
    /// Gradient-noise scale per lane.
    pub s: Vec<f64>,
    /// Start per lane.
    pub x0: Vec<f64>,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
}

impl PathBatch for AdamBatch {
    fn members(&self) -> usize {
        self.h.len() / self.dim
    }

    fn noise_dim(&self) -> usize {
        self.dim
    }

    fn state_len(&self) -> usize {
        3 * self.h.len() + 2
    }

    fn init(&self, state: &mut [f64]) {
        let n = self.h.len();
        state.fill(0.0);
        state[..n].copy_from_slice(&self.x0);
        state[3 * n] = 1.0;
        state[3 * n + 1] = 1.0;
    }

    #[inline]
    fn step(&self, state: &mut [f64], lr: f64, z: &[f64]) {
        let (n, d) = (self.h.len(), self.dim);
        let (b1, b2, eps) = (self.beta1, self.beta2, self.eps);
        let (xs, rest) = state.split_at_mut(n);
        let (ms, rest) = rest.split_at_mut(n);
        let (vs, pows) = rest.split_at_mut(n);
        pows[0] *= b1;
        pows[1] *= b2;
        let gain = lr / (1.0 - pows[0]);
        let vcorr = 1.0 / (1.0 - pows[1]);
        for ((((x, m), v), h), s) in xs
            .chunks_exact_mut(d)
            .zip(ms.chunks_exact_mut(d))
            .zip(vs.chunks_exact_mut(d))
            .zip(self.h.chunks_exact(d))
            .zip(self.s.chunks_exact(d))
        {
            for (((((x, m), v), &h), &s), &z) in x
                .iter_mut()
                .zip(m.iter_mut())
                .zip(v.iter_mut())
                .zip(h)
                .zip(s)
                .zip(z)
            {
                let g = h * *x + s * z;
                *m = b1 * *m + (1.0 - b1) * g;
                *v = b2 * *v + (1.0 - b2) * g * g;
                *x -= gain * *m / ((*v * vcorr).sqrt() + eps);
            }
        }
    }

    fn losses(&self, state: &[f64], out: &mut [f64]) {
        let d = self.dim;
        for ((o, h), x) in out
            .iter_mut()
            .zip(self.h.chunks_exact(d))
            .zip(state.chunks_exact(d))
        {
            let mut acc = 0.0;
            for (h, x) in h.iter().zip(x) {
                acc += h * x * x;
            }
            *o = 0.5 * acc;
        }
    }
}

/// [`crate::model::LossNoise`]'s Euler–Maruyama or Milstein step at `dt = 1` per member, the
/// same arithmetic in the same order as the generic step (so the same bits). Lanes as in
/// [`AdamBatch`].
pub(crate) struct LossNoiseBatch {
    /// Directions per member.
    pub dim: usize,
    /// Curvature per lane.
    pub h: Vec<f64>,
    /// Gradient-noise scale per lane.
    pub s: Vec<f64>,
    /// Start per lane.
    pub x0: Vec<f64>,
    /// Milstein instead of Euler–Maruyama.
    pub milstein: bool,
}

impl PathBatch for LossNoiseBatch {
    fn members(&self) -> usize {
        self.h.len() / self.dim
    }

    fn noise_dim(&self) -> usize {
        self.dim
    }

    fn state_len(&self) -> usize {
        self.h.len()
    }

    fn init(&self, state: &mut [f64]) {
        state.copy_from_slice(&self.x0);
    }

    #[inline]
    fn step(&self, state: &mut [f64], lr: f64, z: &[f64]) {
        let d = self.dim;
        let lr2 = lr * lr;
        for ((x, h), s) in state
            .chunks_exact_mut(d)
            .zip(self.h.chunks_exact(d))
            .zip(self.s.chunks_exact(d))
        {
            let amp = lr * (2.0 * quadratic_loss(h, x)).sqrt();
            for (((x, &h), &s), &z) in x.iter_mut().zip(h).zip(s).zip(z) {
                let f = -(lr * h) * *x;
                let g = amp * s;
                if self.milstein {
                    let c = lr2 * s * s * h * *x;
                    *x += f + g * z + c * 0.5 * (z * z - 1.0);
                } else {
                    *x += f + g * z;
                }
            }
        }
    }

    fn losses(&self, state: &[f64], out: &mut [f64]) {
        let d = self.dim;
        for ((o, h), x) in out
            .iter_mut()
            .zip(self.h.chunks_exact(d))
            .zip(state.chunks_exact(d))
        {
            *o = quadratic_loss(h, x);
        }
    }
}
