//! Parameter uncertainty by a Laplace (Gauss–Newton) approximation, sampled into draws.

use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use super::objective::Objective;
use crate::law::LossLaw;
use crate::rng::path_rng;

/// Eigenvalues of `JᵀWJ` below this fraction of the largest are treated as zero (directions the
/// data do not determine get no variance instead of an unbounded one).
const RANK_TOL: f64 = 1e-10;

/// The stored uncertainty of a fit (see the [module docs](super#uncertainty)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Uncertainty {
    /// `"laplace"`.
    pub method: String,
    /// Residual variance of the (weighted) log residuals, `Σ w r² / (n − p)`.
    pub sigma2_log: f64,
    /// Degrees of freedom `n − p`.
    pub dof: usize,
    /// Numerical rank of `JᵀWJ` (fewer than `p`: some parameter combinations are not
    /// determined by the data and get no variance).
    pub rank: usize,
    /// Parameter covariance in the law's parameter space (delta method), in `param_order`.
    pub covariance: Vec<Vec<f64>>,
    /// Parameter covariance in the unconstrained space the draws are sampled in.
    pub covariance_unconstrained: Vec<Vec<f64>>,
    /// Parameter draws (law space, in `param_order`); bands are quantiles over them.
    pub draws: Vec<Vec<f64>>,
    /// Seed the draws came from.
    pub seed: u64,
}

impl Uncertainty {
    /// Standard deviation of each parameter (square root of the covariance diagonal).
    ///
    /// ```
    /// # use lrsde::fit::Uncertainty;
    /// let u = Uncertainty {
    ///     method: "laplace".into(), sigma2_log: 1e-4, dof: 10, rank: 1,
    ///     covariance: vec![vec![4.0]], covariance_unconstrained: vec![vec![4.0]],
    ///     draws: vec![], seed: 0,
    /// };
    /// assert_eq!(u.std(), vec![2.0]);
    /// ```
    pub fn std(&self) -> Vec<f64> {
        (0..self.covariance.len())
            .map(|i| self.covariance[i][i].max(0.0).sqrt())
            .collect()
    }
}

/// Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations (small `p`, exact to
/// rounding, deterministic). Returns eigenvalues and eigenvectors as columns `v[i][k]`.
// Index loops mirror the rotation formulas (rows and columns p, q of the same matrix).
#[allow(clippy::needless_range_loop)]
pub(crate) fn sym_eigen(a: &[Vec<f64>]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.len();
    let mut m: Vec<Vec<f64>> = a.to_vec();
    let mut v: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i][j] * m[i][j])
            .sum();
        let diag: f64 = (0..n).map(|i| m[i][i] * m[i][i]).sum();
        if off <= 1e-30 * diag || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if m[p][q] == 0.0 {
                    continue;
                }
                let theta = (m[q][q] - m[p][p]) / (2.0 * m[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (mkp, mkq) = (m[k][p], m[k][q]);
                    m[k][p] = c * mkp - s * mkq;
                    m[k][q] = s * mkp + c * mkq;
                }
                for k in 0..n {
                    let (mpk, mqk) = (m[p][k], m[q][k]);
                    m[p][k] = c * mpk - s * mqk;
                    m[q][k] = s * mpk + c * mqk;
                }
                for row in v.iter_mut() {
                    let (vkp, vkq) = (row[p], row[q]);
                    row[p] = c * vkp - s * vkq;
                    row[q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| m[i][i]).collect(), v)
}

/// Laplace approximation at the optimum `u_hat` (unconstrained), with `n_draws` draws.
///
/// Returns the uncertainty and the law evaluations it cost, or a reason it is unavailable.
pub(crate) fn laplace<L: LossLaw + ?Sized>(
    obj: &Objective<'_, L>,
    u_hat: &[f64],
    n_draws: usize,
    seed: u64,
) -> Result<(Uncertainty, u64), String> {
    let p = u_hat.len();
    let r = obj
        .residuals(u_hat, None)
        .ok_or("predictions at the fitted parameters are not all finite and positive")?;
    let n = r.len();
    let dof = n.saturating_sub(p).max(1);
    let sigma2 = r.iter().map(|x| x * x).sum::<f64>() / dof as f64;
    let jac = obj
        .jacobian(u_hat)
        .ok_or("predictions near the fitted parameters are not all finite and positive")?;
    // One prediction, then one Jacobian call or 2p predictions for finite differences.
    let evals = if obj.may_have_jacobian() {
        2
    } else {
        1 + 2 * p as u64
    };
    // Gauss–Newton information JᵀWJ (W is already folded into the residuals).
    let mut info = vec![vec![0.0; p]; p];
    for i in 0..p {
        for k in i..p {
            let s: f64 = jac[i].iter().zip(&jac[k]).map(|(a, b)| a * b).sum();
            info[i][k] = s;
            info[k][i] = s;
        }
    }
    if info.iter().flatten().any(|x| !x.is_finite()) {
        return Err("the Jacobian of the log residuals is not finite".into());
    }
    // A prior replaces the data's information on its parameters (it is used where the curves
    // cannot identify them): those draws spread as the prior does, independent of the rest and
    // of the residual variance, so they are kept out of the eigen-decomposition (their zeroed
    // directions have eigenvalue 0, below the rank cut) and added as their own directions.
    let prior = obj.prior_precision(u_hat);
    for &(k, _) in &prior {
        for row in info.iter_mut() {
            row[k] = 0.0;
        }
        info[k].fill(0.0);
    }
    let (lam, mut vecs) = sym_eigen(&info);
    let lam_max = lam.iter().cloned().fold(0.0, f64::max);
    // Columns of the draw factor: v_k·√(σ²/λ_k) for the determined directions.
    let mut factor: Vec<(usize, f64)> = lam
        .iter()
        .enumerate()
        .filter(|&(_, &l)| lam_max > 0.0 && l > RANK_TOL * lam_max)
        .map(|(k, &l)| (k, (sigma2 / l).sqrt()))
        .collect();
    for &(k, prec) in &prior {
        let col = vecs[0].len();
        for (i, row) in vecs.iter_mut().enumerate() {
            row.push(if i == k { 1.0 } else { 0.0 });
        }
        factor.push((col, 1.0 / prec.sqrt()));
    }
    let rank = factor.len();
    let mut cov_u = vec![vec![0.0; p]; p];
    for &(k, s) in &factor {
        for i in 0..p {
            for j in 0..p {
                cov_u[i][j] += s * s * vecs[i][k] * vecs[j][k];
            }
        }
    }
    let d: Vec<f64> = obj
        .transforms
        .iter()
        .zip(u_hat)
        .map(|(t, &u)| t.derivative(u))
        .collect();
    let cov_x = (0..p)
        .map(|i| (0..p).map(|j| d[i] * cov_u[i][j] * d[j]).collect())
        .collect();
    // One stream per draw: the draws do not depend on how they are scheduled.
    let draws = (0..n_draws)
        .map(|k| {
            let mut rng = path_rng(seed, k as u64);
            let mut u = u_hat.to_vec();
            for &(col, s) in &factor {
                let z: f64 = StandardNormal.sample(&mut rng);
                for (i, ui) in u.iter_mut().enumerate() {
                    *ui += z * s * vecs[i][col];
                }
            }
            obj.theta(&u)
        })
        .collect();
    Ok((
        Uncertainty {
            method: "laplace".into(),
            sigma2_log: sigma2,
            dof,
            rank,
            covariance: cov_x,
            covariance_unconstrained: cov_u,
            draws,
            seed,
        },
        evals,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eigen_reconstructs() {
        let a = vec![
            vec![4.0, 1.0, 0.5],
            vec![1.0, 3.0, 0.2],
            vec![0.5, 0.2, 1.0],
        ];
        let (lam, v) = sym_eigen(&a);
        for i in 0..3 {
            for j in 0..3 {
                let r: f64 = (0..3).map(|k| v[i][k] * lam[k] * v[j][k]).sum();
                assert!((r - a[i][j]).abs() < 1e-12, "{i}{j}: {r} vs {}", a[i][j]);
            }
        }
    }
}
