//! The fitting objective: Huber loss on log residuals, summed over every observed point of every
//! curve, each curve predicted on its own LR grid.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use super::Transform;
use crate::data::TrainingCurve;
use crate::huber::{huber, huber_slope};
use crate::law::LossLaw;

/// The log residual a non-finite or non-positive prediction (or a prediction the law refuses
/// with an error) is charged as: `huber(1e3, δ)` per
/// bad point is far above any plausible fit (a log residual of 1000 is a factor e^1000), yet
/// finite, so the optimiser backs away instead of crashing or reading NaN.
pub(crate) const BAD_POINT_RESIDUAL: f64 = 1e3;

/// Buffers one evaluation needs; pooled so evaluations (also concurrent ones from the
/// finite-difference gradient) do not allocate.
struct Workspace {
    theta: Vec<f64>,
    pred: Vec<f64>,
    /// Row-major law Jacobian of one curve (`points × params`).
    jac: Vec<f64>,
}

/// The objective of one fit: data, law, transforms and buffers.
pub(crate) struct Objective<'a, L: ?Sized> {
    pub(crate) law: &'a L,
    pub(crate) curves: &'a [TrainingCurve],
    /// Point weights, one vector per curve (all ones unless given).
    pub(crate) weights: Vec<Vec<f64>>,
    /// `ln(loss)` of every observed point.
    log_obs: Vec<Vec<f64>>,
    pub(crate) transforms: Vec<Transform>,
    pub(crate) delta: f64,
    /// `1 / (δ · Σw)`: the optimiser minimises the mean Huber loss in units of δ, which is
    /// `≈ mean |r|` — an O(1) scale that makes L-BFGS's unit first step and its tolerances
    /// meaningful for any number of points.
    pub(crate) scale: f64,
    /// Relative central-difference step in the unconstrained space.
    fd_step: f64,
    max_points: usize,
    /// Prior terms `(parameter, mean of ln θ, sd of ln θ)` and their weight (see
    /// [`super::ParamPrior`]); empty: no prior.
    prior: Vec<(usize, f64, f64)>,
    prior_weight: f64,
    /// Set once the law has answered `Ok(false)` to `predict_jacobian`: it has no analytic
    /// derivatives, so later gradients go straight to finite differences.
    no_jacobian: AtomicBool,
    pool: Mutex<Vec<Workspace>>,
}

impl<'a, L: LossLaw + ?Sized> Objective<'a, L> {
    pub(crate) fn new(
        law: &'a L,
        curves: &'a [TrainingCurve],
        weights: Vec<Vec<f64>>,
        transforms: Vec<Transform>,
        delta: f64,
        fd_step: f64,
    ) -> Self {
        let log_obs = curves
            .iter()
            .map(|c| c.losses.iter().map(|l| l.ln()).collect())
            .collect();
        let total_weight: f64 = weights.iter().flatten().sum();
        let max_points = curves.iter().map(|c| c.steps.len()).max().unwrap_or(0);
        Objective {
            law,
            curves,
            weights,
            log_obs,
            transforms,
            delta,
            scale: 1.0 / (delta * total_weight),
            fd_step,
            max_points,
            prior: Vec::new(),
            prior_weight: delta * delta * total_weight,
            no_jacobian: AtomicBool::new(false),
            pool: Mutex::new(Vec::new()),
        }
    }

    /// Adds a prior penalty (resolved [`super::ParamPrior`] terms).
    pub(crate) fn with_prior(mut self, prior: Vec<(usize, f64, f64)>) -> Self {
        self.prior = prior;
        self
    }

    /// The prior at `u` (unscaled, like [`Self::raw_cost`]): `(penalty, [(k, ∂penalty/∂u_k,
    /// Gauss–Newton curvature)])` with `penalty = W Σ z²/2`, `z = (ln θ_k − μ) / σ`.
    fn prior_at(&self, u: &[f64]) -> (f64, Vec<(usize, f64, f64)>) {
        let mut pen = 0.0;
        let mut parts = Vec::with_capacity(self.prior.len());
        for &(k, mu, sd) in &self.prior {
            let t = self.transforms[k];
            let theta = t.to_constrained(u[k]);
            if theta <= 0.0 {
                continue;
            }
            let z = (theta.ln() - mu) / sd;
            // ∂z/∂u = (dθ/du) / (θ σ).
            let dz = t.derivative(u[k]) / (theta * sd);
            pen += 0.5 * self.prior_weight * z * z;
            parts.push((k, self.prior_weight * z * dz, self.prior_weight * dz * dz));
        }
        (pen, parts)
    }

    /// Prior precision of `u_k` per unit of the Laplace residual variance, for the prior's
    /// parameters at `u`: `(k, (∂ln θ/∂u)² / σ²)`.
    pub(crate) fn prior_precision(&self, u: &[f64]) -> Vec<(usize, f64)> {
        self.prior
            .iter()
            .filter_map(|&(k, _, sd)| {
                let t = self.transforms[k];
                let theta = t.to_constrained(u[k]);
                (theta > 0.0).then(|| (k, (t.derivative(u[k]) / (theta * sd)).powi(2)))
            })
            .collect()
    }

    pub(crate) fn n_params(&self) -> usize {
        self.transforms.len()
    }

    /// Whether the law's Jacobian costs several predictions ([`LossLaw::jacobian_is_costly`]).
    pub(crate) fn jacobian_is_costly(&self) -> bool {
        self.law.jacobian_is_costly()
    }

    /// Whether the law may have analytic derivatives (not yet known to lack them).
    pub(crate) fn may_have_jacobian(&self) -> bool {
        !self.no_jacobian.load(Ordering::Relaxed)
    }

    /// Learns whether the law has a Jacobian (one request at `u`), so that concurrent users of
    /// this objective all see the same answer from their first call.
    pub(crate) fn settle_jacobian(&self, u: &[f64]) {
        self.visit_jacobian(u, |_, _, _| {});
    }

    /// Constrained parameters of `u`.
    pub(crate) fn theta(&self, u: &[f64]) -> Vec<f64> {
        u.iter()
            .zip(&self.transforms)
            .map(|(&ui, t)| t.to_constrained(ui))
            .collect()
    }

    fn with_workspace<R>(&self, f: impl FnOnce(&mut Workspace) -> R) -> R {
        let popped = match self.pool.lock() {
            Ok(mut p) => p.pop(),
            // A law that panicked mid-evaluation poisoned the lock; the buffers are still fine.
            Err(e) => e.into_inner().pop(),
        };
        let mut ws = popped.unwrap_or_else(|| Workspace {
            theta: vec![0.0; self.n_params()],
            pred: vec![0.0; self.max_points],
            jac: Vec::new(),
        });
        let out = f(&mut ws);
        match self.pool.lock() {
            Ok(mut p) => p.push(ws),
            Err(e) => e.into_inner().push(ws),
        }
        out
    }

    /// Writes the constrained parameters of `u` (with `u[j] += h` when `shift = Some((j, h))`).
    fn set_theta(&self, theta: &mut [f64], u: &[f64], shift: Option<(usize, f64)>) {
        for (i, (t, &ui)) in self.transforms.iter().zip(u).enumerate() {
            let ui = match shift {
                Some((j, h)) if j == i => ui + h,
                _ => ui,
            };
            theta[i] = t.to_constrained(ui);
        }
    }

    /// Runs the law at `u` (with `u[j] += h` when `shift = Some((j, h))`) and calls
    /// `visit(curve, point, residual)` for every point in order; the residual is
    /// `ln(obs) − ln(pred)`, or `None` for a non-finite or non-positive prediction. A curve the
    /// law refuses to predict (an error, e.g. parameters it cannot take) counts as all `None`:
    /// the optimiser should back away from such parameters, not abort the fit.
    fn visit(
        &self,
        u: &[f64],
        shift: Option<(usize, f64)>,
        mut visit: impl FnMut(usize, usize, Option<f64>),
    ) {
        self.with_workspace(|ws| {
            self.set_theta(&mut ws.theta, u, shift);
            for (c, curve) in self.curves.iter().enumerate() {
                let out = &mut ws.pred[..curve.steps.len()];
                if self
                    .law
                    .predict_batched(
                        &ws.theta,
                        &curve.lrs,
                        curve.batch.as_ref(),
                        &curve.steps,
                        out,
                    )
                    .is_err()
                {
                    (0..out.len()).for_each(|j| visit(c, j, None));
                    continue;
                }
                for (j, (&p, &lo)) in out.iter().zip(&self.log_obs[c]).enumerate() {
                    let r = (p.is_finite() && p > 0.0).then(|| lo - p.ln());
                    visit(c, j, r);
                }
            }
        });
    }

    /// Like [`Self::visit`] at `u`, from the law's analytic Jacobian: calls
    /// `visit(curve, point, Some((residual, pred, ∂pred/∂θ row)))`, or `None` for a bad point.
    /// Returns `false` (having visited nothing) when the law has no Jacobian.
    fn visit_jacobian(
        &self,
        u: &[f64],
        mut visit: impl FnMut(usize, usize, Option<(f64, f64, &[f64])>),
    ) -> bool {
        if !self.may_have_jacobian() {
            return false;
        }
        let p = self.n_params();
        let has = self.with_workspace(|ws| {
            self.set_theta(&mut ws.theta, u, None);
            ws.jac.resize(self.max_points * p, 0.0);
            for (c, curve) in self.curves.iter().enumerate() {
                let n = curve.steps.len();
                let (out, jac) = (&mut ws.pred[..n], &mut ws.jac[..n * p]);
                match self.law.predict_jacobian_batched(
                    &ws.theta,
                    &curve.lrs,
                    curve.batch.as_ref(),
                    &curve.steps,
                    out,
                    jac,
                ) {
                    Ok(true) => {}
                    // A law either has derivatives or not; it says so on the first curve.
                    Ok(false) => return false,
                    Err(_) => {
                        (0..n).for_each(|j| visit(c, j, None));
                        continue;
                    }
                }
                for (j, (&pr, &lo)) in out.iter().zip(&self.log_obs[c]).enumerate() {
                    if pr.is_finite() && pr > 0.0 {
                        visit(c, j, Some((lo - pr.ln(), pr, &jac[j * p..(j + 1) * p])));
                    } else {
                        visit(c, j, None);
                    }
                }
            }
            true
        });
        if !has {
            self.no_jacobian.store(true, Ordering::Relaxed);
        }
        has
    }

    /// `(Σ w·huber(r, δ), number of bad points)` at `u`, summed in a fixed order.
    pub(crate) fn raw_cost(&self, u: &[f64], shift: Option<(usize, f64)>) -> (f64, usize) {
        let mut sum = 0.0;
        let mut bad = 0;
        let penalty = huber(BAD_POINT_RESIDUAL, self.delta);
        self.visit(u, shift, |c, j, r| {
            let w = self.weights[c][j];
            match r {
                Some(r) => sum += w * huber(r, self.delta),
                None => {
                    sum += w * penalty;
                    bad += 1;
                }
            }
        });
        if !self.prior.is_empty() {
            let mut shifted = u.to_vec();
            if let Some((j, h)) = shift {
                shifted[j] += h;
            }
            sum += self.prior_at(&shifted).0;
        }
        (sum, bad)
    }

    /// The scaled cost the optimiser sees.
    pub(crate) fn cost(&self, u: &[f64]) -> f64 {
        self.raw_cost(u, None).0 * self.scale
    }

    /// Scaled cost and its exact gradient in the unconstrained space, from one call of the law's
    /// Jacobian per curve; `None` when the law has no Jacobian or the gradient is not finite.
    ///
    /// With `r_j = ln obs_j − ln pred_j` and `ψ` the Huber slope,
    /// `∂cost/∂u_k = scale · Σ_j w_j ψ(r_j) · (−1/pred_j) · ∂pred_j/∂θ_k · dθ_k/du_k`.
    /// Bad points carry the constant penalty, so they add to the cost but not to the gradient.
    pub(crate) fn cost_and_gradient(&self, u: &[f64]) -> Option<(f64, Vec<f64>)> {
        let p = self.n_params();
        let penalty = huber(BAD_POINT_RESIDUAL, self.delta);
        let mut sum = 0.0;
        let mut g = vec![0.0; p];
        let has = self.visit_jacobian(u, |c, j, point| {
            let w = self.weights[c][j];
            match point {
                Some((r, pred, row)) => {
                    sum += w * huber(r, self.delta);
                    let coef = -w * huber_slope(r, self.delta) / pred;
                    // Skipping zero coefficients also keeps 0·∞ from turning into NaN.
                    if coef != 0.0 {
                        for (gk, &jk) in g.iter_mut().zip(row) {
                            *gk += coef * jk;
                        }
                    }
                }
                None => sum += w * penalty,
            }
        });
        if !has {
            return None;
        }
        for ((gk, t), &uk) in g.iter_mut().zip(&self.transforms).zip(u) {
            *gk *= t.derivative(uk) * self.scale;
        }
        let (pen, parts) = self.prior_at(u);
        sum += pen;
        for (k, gp, _) in parts {
            g[k] += gp * self.scale;
        }
        let cost = sum * self.scale;
        (cost.is_finite() && g.iter().all(|x| x.is_finite())).then_some((cost, g))
    }

    /// The iteratively-reweighted Gauss–Newton model of the scaled cost at `u`:
    /// `(cost, gradient g, curvature H)` in the unconstrained space, from one Jacobian call per
    /// curve; `None` when the law has no Jacobian or a value is not finite.
    ///
    /// With `a_j = ∂r_j/∂u` (`r_j = ln obs_j − ln pred_j`), `g = Σ w_j ψ(r_j) a_j` is the exact
    /// gradient and `H = Σ w_j min(1, δ/|r_j|) a_j a_jᵀ` the IRLS curvature of the Huber loss
    /// (exact Gauss–Newton inside δ, the secant `ψ(r)/r` outside): it stays positive
    /// semi-definite and makes a Levenberg–Marquardt step the classic robust-regression step.
    pub(crate) fn gauss_newton(&self, u: &[f64]) -> Option<(f64, Vec<f64>, Vec<f64>)> {
        let p = self.n_params();
        let penalty = huber(BAD_POINT_RESIDUAL, self.delta);
        let dtheta: Vec<f64> = self
            .transforms
            .iter()
            .zip(u)
            .map(|(t, &uk)| t.derivative(uk))
            .collect();
        let (mut sum, mut g, mut h) = (0.0, vec![0.0; p], vec![0.0; p * p]);
        let mut a = vec![0.0; p];
        let has = self.visit_jacobian(u, |c, j, point| {
            let w = self.weights[c][j];
            let Some((r, pred, row)) = point else {
                sum += w * penalty;
                return;
            };
            sum += w * huber(r, self.delta);
            for ((ak, &jk), &dk) in a.iter_mut().zip(row).zip(&dtheta) {
                *ak = -jk / pred * dk;
            }
            let slope = w * huber_slope(r, self.delta);
            let curv = if r.abs() <= self.delta {
                w
            } else {
                w * self.delta / r.abs()
            };
            for k in 0..p {
                g[k] += slope * a[k];
                for l in 0..=k {
                    h[k * p + l] += curv * a[k] * a[l];
                }
            }
        });
        if !has {
            return None;
        }
        let (pen, parts) = self.prior_at(u);
        sum += pen;
        for (k, gp, hp) in parts {
            g[k] += gp;
            h[k * p + k] += hp;
        }
        for k in 0..p {
            g[k] *= self.scale;
            for l in 0..=k {
                h[k * p + l] *= self.scale;
                h[l * p + k] = h[k * p + l];
            }
        }
        let cost = sum * self.scale;
        let finite = cost.is_finite() && g.iter().chain(&h).all(|x| x.is_finite());
        finite.then_some((cost, g, h))
    }

    /// The step used for parameter `j` at `u`: relative in the unconstrained space, where the
    /// transforms have already put every parameter on an O(1) scale.
    fn step(&self, uj: f64) -> f64 {
        self.fd_step * uj.abs().max(1.0)
    }

    /// Central-difference gradient of the scaled cost, the `2p` evaluations run in parallel
    /// and collected in order (so the result does not depend on the thread count).
    pub(crate) fn fd_gradient(&self, u: &[f64]) -> Vec<f64> {
        let p = u.len();
        let steps: Vec<(f64, f64)> = u
            .iter()
            .map(|&uj| {
                let h = self.step(uj);
                // Use the representable steps so the quotient is exact about the spacing.
                ((uj + h) - uj, uj - (uj - h))
            })
            .collect();
        let costs: Vec<f64> = (0..2 * p)
            .into_par_iter()
            .map(|k| {
                let j = k / 2;
                let h = if k % 2 == 0 { steps[j].0 } else { -steps[j].1 };
                self.raw_cost(u, Some((j, h))).0 * self.scale
            })
            .collect();
        (0..p)
            .map(|j| (costs[2 * j] - costs[2 * j + 1]) / (steps[j].0 + steps[j].1))
            .collect()
    }

    /// Weighted log residuals `√w·(ln obs − ln pred)` at `u` (shifted as in `visit`), in curve
    /// and point order; `None` if any prediction is non-finite or non-positive.
    pub(crate) fn residuals(&self, u: &[f64], shift: Option<(usize, f64)>) -> Option<Vec<f64>> {
        let mut out = Vec::with_capacity(self.weights.iter().map(Vec::len).sum());
        let mut ok = true;
        self.visit(u, shift, |c, j, r| match r {
            Some(r) => out.push(self.weights[c][j].sqrt() * r),
            None => ok = false,
        });
        ok.then_some(out)
    }

    /// Jacobian of [`Self::residuals`] in the unconstrained space, one column per parameter:
    /// exact from the law's Jacobian when it has one
    /// (`∂(√w r_j)/∂u_k = −√w_j / pred_j · ∂pred_j/∂θ_k · dθ_k/du_k`), else central differences
    /// (columns computed in parallel, collected in order).
    pub(crate) fn jacobian(&self, u: &[f64]) -> Option<Vec<Vec<f64>>> {
        let p = u.len();
        let n: usize = self.weights.iter().map(Vec::len).sum();
        let dtheta: Vec<f64> = self
            .transforms
            .iter()
            .zip(u)
            .map(|(t, &uk)| t.derivative(uk))
            .collect();
        let mut cols = vec![Vec::with_capacity(n); p];
        let mut ok = true;
        let has = self.visit_jacobian(u, |c, j, point| match point {
            Some((_, pred, row)) => {
                let f = -self.weights[c][j].sqrt() / pred;
                for ((col, &jk), &dk) in cols.iter_mut().zip(row).zip(&dtheta) {
                    col.push(f * jk * dk);
                }
            }
            None => ok = false,
        });
        if has {
            let finite = cols.iter().flatten().all(|x| x.is_finite());
            if ok && finite {
                return Some(cols);
            }
            if !ok {
                return None;
            }
            // Non-finite analytic entries at finite predictions: differences may still work.
        }
        (0..p)
            .into_par_iter()
            .map(|j| {
                let h = self.step(u[j]);
                let (hp, hm) = ((u[j] + h) - u[j], u[j] - (u[j] - h));
                let rp = self.residuals(u, Some((j, hp)))?;
                let rm = self.residuals(u, Some((j, -hm)))?;
                Some(
                    rp.iter()
                        .zip(&rm)
                        .map(|(a, b)| (a - b) / (hp + hm))
                        .collect(),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::law::{AnyLaw, LossLaw};

    /// Two short synthetic curves (constant and cosine LR) from `law` at `truth`, with a
    /// deterministic ±0.3 % wiggle so residuals fall on both sides of δ.
    fn curves(law: &AnyLaw, truth: &[f64]) -> Vec<TrainingCurve> {
        let n = 600;
        let constant = vec![3e-4; n];
        let cosine: Vec<f64> = (0..n)
            .map(|t| 3e-4 * 0.5 * (1.0 + (std::f64::consts::PI * t as f64 / n as f64).cos()))
            .collect();
        [("constant", constant), ("cosine", cosine)]
            .into_iter()
            .map(|(name, lrs)| {
                let lrs = crate::schedule::LrGrid::new(lrs).unwrap();
                let steps: Vec<u64> = (1..=30).map(|k| 20 * k).collect();
                let mut losses = vec![0.0; steps.len()];
                law.predict(truth, &lrs, &steps, &mut losses).unwrap();
                for (j, l) in losses.iter_mut().enumerate() {
                    *l *= 1.0 + 3e-3 * ((j * 7 % 11) as f64 / 5.0 - 1.0);
                }
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

    fn objective<'a>(law: &'a AnyLaw, curves: &'a [TrainingCurve]) -> Objective<'a, AnyLaw> {
        let transforms = law
            .params()
            .iter()
            .map(Transform::from_spec)
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let weights = curves.iter().map(|c| vec![1.0; c.steps.len()]).collect();
        Objective::new(law, curves, weights, transforms, 1e-3, 6e-6)
    }

    #[test]
    fn prior_penalty_gradient_and_curvature_match_finite_differences() {
        let truth = [2.0, 3.0, 0.4, 0.5];
        let mut law: AnyLaw = "momentum".parse().unwrap();
        let data = curves(&law, &truth);
        law.configure(&data).unwrap();
        // Prior on C (index 3) far from the point evaluated, so it dominates the gradient.
        let obj = objective(&law, &data).with_prior(vec![(3, (0.05f64).ln(), 0.3)]);
        let u: Vec<f64> = obj
            .transforms
            .iter()
            .zip(&truth)
            .map(|(t, &x)| t.start_to_unconstrained(x))
            .collect();
        let (cost, g) = obj.cost_and_gradient(&u).unwrap();
        let plain = objective(&law, &data).cost(&u);
        // The penalty W·z²/2 with W = δ²·n, z = (ln 0.5 − ln 0.05) / 0.3, in the scaled units.
        let z = ((0.5f64).ln() - (0.05f64).ln()) / 0.3;
        let pen = 0.5 * 1e-6 * 60.0 * z * z * obj.scale;
        assert!(
            (cost - plain - pen).abs() < 1e-9 * cost,
            "{cost} {plain} {pen}"
        );
        let fd = obj.fd_gradient(&u);
        let scale = g.iter().map(|x| x.abs()).fold(0.0, f64::max);
        for (a, b) in g.iter().zip(&fd) {
            assert!(
                (a - b).abs() <= 1e-5 * scale,
                "analytic {a}, differences {b}"
            );
        }
        let (c2, g2, h) = obj.gauss_newton(&u).unwrap();
        assert_eq!(c2, cost);
        assert!(
            g.iter()
                .zip(&g2)
                .all(|(a, b)| (a - b).abs() <= 1e-12 * scale)
        );
        let plain_h = objective(&law, &data).gauss_newton(&u).unwrap().2;
        // The prior's Gauss–Newton curvature W·(∂z/∂u)², on the diagonal of C only.
        let t = obj.transforms[3];
        let dz = t.derivative(u[3]) / (t.to_constrained(u[3]) * 0.3);
        let want = 1e-6 * 60.0 * dz * dz * obj.scale;
        assert!((h[15] - plain_h[15] - want).abs() < 1e-9 * want);
        assert_eq!(h[0], plain_h[0]);
    }

    #[test]
    fn analytic_gradient_matches_finite_differences() {
        let cases: [(&str, &[f64]); 3] = [
            ("power", &[2.0, 3.0, 0.4]),
            ("momentum", &[2.0, 3.0, 0.4, 0.5]),
            ("sde", &[2.0, -1.0, 1.5, -2.0, 0.5, 0.5]),
        ];
        for (name, truth) in cases {
            let mut law: AnyLaw = name.parse().unwrap();
            let data = curves(&law, truth);
            law.configure(&data).unwrap();
            let obj = objective(&law, &data);
            // Away from the optimum (so the gradient is not ~0) and inside every bound.
            let mut theta = law.initial_guesses(&data).swap_remove(0);
            theta[0] *= 0.97;
            let u: Vec<f64> = obj
                .transforms
                .iter()
                .zip(&theta)
                .map(|(t, &x)| t.start_to_unconstrained(x))
                .collect();
            let (cost, g) = obj
                .cost_and_gradient(&u)
                .expect("all four laws have Jacobians");
            assert!((cost / obj.cost(&u) - 1.0).abs() < 1e-9, "{name}: cost");
            let fd = obj.fd_gradient(&u);
            let scale = g.iter().map(|x| x.abs()).fold(0.0, f64::max);
            assert!(scale > 0.0, "{name}: zero gradient");
            for (k, (a, b)) in g.iter().zip(&fd).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-5 * scale,
                    "{name}: d/du_{k}: analytic {a}, finite differences {b}"
                );
            }
            // The Gauss–Newton model carries the same cost and gradient.
            let (c2, g2, h) = obj.gauss_newton(&u).unwrap();
            assert_eq!(c2, cost);
            for (a, b) in g.iter().zip(&g2) {
                assert!((a - b).abs() <= 1e-12 * scale, "{name}: {a} vs {b}");
            }
            let p = u.len();
            assert!((0..p).all(|k| h[k * p + k] >= 0.0));
            // The residual Jacobian (for the Laplace band) matches differences of residuals.
            let jac = obj.jacobian(&u).unwrap();
            for (k, col) in jac.iter().enumerate() {
                let h = 1e-6 * u[k].abs().max(1.0);
                let rp = obj.residuals(&u, Some((k, h))).unwrap();
                let rm = obj.residuals(&u, Some((k, -h))).unwrap();
                let cmax = col.iter().map(|x| x.abs()).fold(0.0, f64::max);
                for (j, &a) in col.iter().enumerate() {
                    let b = (rp[j] - rm[j]) / (2.0 * h);
                    assert!(
                        (a - b).abs() <= 1e-5 * cmax.max(1e-12),
                        "{name}: residual {j}, u_{k}: {a} vs {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_refused_prediction_counts_as_bad_points() {
        let mut law: AnyLaw = "power".parse().unwrap();
        let mut data = curves(&law, &[2.0, 3.0, 0.4]);
        law.configure(&data).unwrap();
        // Zero LR area: the power law refuses to predict this curve.
        data[1].lrs = crate::schedule::LrGrid::new(vec![0.0; data[1].lrs.len()]).unwrap();
        let obj = objective(&law, &data);
        let u = vec![0.0; 3];
        let (_, bad) = obj.raw_cost(&u, None);
        assert_eq!(bad, 30);
        let (cost, g) = obj.cost_and_gradient(&u).unwrap();
        assert!(cost.is_finite() && g.iter().all(|x| x.is_finite()));
        assert!(obj.residuals(&u, None).is_none());
    }
}
