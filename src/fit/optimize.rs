//! Multi-start minimisation with argmin: L-BFGS (More–Thuente line search; exact gradients from
//! the law's Jacobian, central differences for laws without one) from every start, polished by
//! Nelder–Mead when L-BFGS stops without converging.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use argmin::core::{
    CostFunction, Error as ArgminError, Executor, Gradient, State, TerminationReason,
};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::neldermead::NelderMead;
use argmin::solver::quasinewton::LBFGS;
use rayon::prelude::*;

use super::FitOptions;
use super::objective::Objective;
use crate::law::LossLaw;

/// `(u, scaled cost, gradient)` of recent analytic evaluations.
type Cached = (Vec<f64>, f64, Vec<f64>);

/// How many recent points the cache remembers: More–Thuente evaluates cost and gradient at each
/// trial point, then L-BFGS asks again for the gradient at the accepted one (usually the last
/// trial, sometimes an earlier one).
const CACHE_LEN: usize = 4;

/// The argmin view of an objective; counts law evaluations of one start.
///
/// When the law has a Jacobian and `with_gradient` is set (L-BFGS), every cost request computes
/// the gradient too, from the same law call, and caches both: argmin always asks for the cost and
/// the gradient of a point separately, which would otherwise cost two law calls. Nelder–Mead
/// needs no gradient and gets plain predictions.
struct Problem<'o, 'a, L: ?Sized> {
    obj: &'o Objective<'a, L>,
    evals: &'o AtomicU64,
    with_gradient: bool,
    cache: Mutex<VecDeque<Cached>>,
}

impl<'o, 'a, L: LossLaw + ?Sized> Problem<'o, 'a, L> {
    fn new(obj: &'o Objective<'a, L>, evals: &'o AtomicU64, with_gradient: bool) -> Self {
        Problem {
            obj,
            evals,
            with_gradient,
            cache: Mutex::new(VecDeque::with_capacity(CACHE_LEN)),
        }
    }

    fn cached(&self, u: &[f64]) -> Option<(f64, Vec<f64>)> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        // Exact bitwise match: the same point, not a nearby one.
        cache
            .iter()
            .rev()
            .find(|(v, _, _)| v.iter().zip(u).all(|(a, b)| a.to_bits() == b.to_bits()))
            .map(|(_, c, g)| (*c, g.clone()))
    }

    /// Analytic cost and gradient at `u` (cached), or `None` without a Jacobian.
    fn analytic(&self, u: &[f64]) -> Option<(f64, Vec<f64>)> {
        if let Some(hit) = self.cached(u) {
            return Some(hit);
        }
        if !self.obj.may_have_jacobian() {
            return None;
        }
        self.evals.fetch_add(1, Ordering::Relaxed);
        let (c, g) = self.obj.cost_and_gradient(u)?;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() == CACHE_LEN {
            cache.pop_front();
        }
        cache.push_back((u.to_vec(), c, g.clone()));
        Some((c, g))
    }
}

impl<L: LossLaw + ?Sized> CostFunction for Problem<'_, '_, L> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, u: &Vec<f64>) -> Result<f64, ArgminError> {
        if self.with_gradient
            && let Some((c, _)) = self.analytic(u)
        {
            return Ok(c);
        }
        self.evals.fetch_add(1, Ordering::Relaxed);
        Ok(self.obj.cost(u))
    }
}

impl<L: LossLaw + ?Sized> Gradient for Problem<'_, '_, L> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, u: &Vec<f64>) -> Result<Vec<f64>, ArgminError> {
        if let Some((_, g)) = self.analytic(u) {
            return Ok(g);
        }
        self.evals.fetch_add(2 * u.len() as u64, Ordering::Relaxed);
        Ok(self.obj.fd_gradient(u))
    }
}

/// Where one start ended.
#[derive(Debug, Clone)]
pub(crate) struct StartOutcome {
    /// Unconstrained start.
    pub(crate) u0: Vec<f64>,
    /// Best unconstrained point found.
    pub(crate) u: Vec<f64>,
    /// Scaled cost at `u`.
    pub(crate) cost: f64,
    pub(crate) iterations: u64,
    pub(crate) evaluations: u64,
    pub(crate) converged: bool,
    pub(crate) termination: String,
}

/// Termination in words (argmin's texts, plus the iteration limit).
fn describe(reason: Option<&TerminationReason>, max_iters: u64) -> String {
    match reason {
        Some(TerminationReason::MaxItersReached) => {
            format!("maximum number of iterations ({max_iters}) reached")
        }
        Some(r) => r.text().to_string(),
        None => "did not run".to_string(),
    }
}

/// (best u, best scaled cost, iterations, converged, text) of a finished argmin run, whichever
/// solver produced it.
fn outcome<O, S, I>(
    run: Result<argmin::core::OptimizationResult<O, S, I>, ArgminError>,
    max_iters: u64,
) -> (Option<Vec<f64>>, f64, u64, bool, String)
where
    I: State<Param = Vec<f64>, Float = f64>,
{
    match run {
        Ok(res) => {
            let st = res.state();
            let reason = st.get_termination_reason();
            let converged = matches!(reason, Some(TerminationReason::SolverConverged));
            (
                st.get_best_param().cloned(),
                st.get_best_cost(),
                st.get_iter(),
                converged,
                describe(reason, max_iters),
            )
        }
        Err(e) => (None, f64::INFINITY, 0, false, format!("failed: {e}")),
    }
}

/// Runs L-BFGS from `u0`; returns (best u, best scaled cost, iterations, converged, text).
fn lbfgs<L: LossLaw + ?Sized>(
    problem: Problem<'_, '_, L>,
    u0: &[f64],
    opts: &FitOptions,
) -> (Option<Vec<f64>>, f64, u64, bool, String) {
    // Step bounds: the default minimum step √ε is too coarse for steep laws; the maximum keeps
    // a wild first step (taken along −g with unit length) from leaving the O(1) region for good.
    let ls = MoreThuenteLineSearch::new()
        .with_bounds(1e-14, 1e4)
        .unwrap_or_else(|_| MoreThuenteLineSearch::new());
    let solver = match LBFGS::new(ls, opts.lbfgs_memory)
        .with_tolerance_grad(opts.grad_tolerance)
        .and_then(|s| s.with_tolerance_cost(opts.cost_tolerance))
    {
        Ok(s) => s,
        Err(e) => {
            return (
                None,
                f64::INFINITY,
                0,
                false,
                format!("L-BFGS not set up: {e}"),
            );
        }
    };
    let run = Executor::new(problem, solver)
        .configure(|s| s.param(u0.to_vec()).max_iters(opts.max_iters))
        .timer(false)
        .ctrlc(false)
        .run();
    outcome(run, opts.max_iters)
}

/// Runs Nelder–Mead from a small simplex around `u`.
fn nelder_mead<L: LossLaw + ?Sized>(
    problem: Problem<'_, '_, L>,
    u: &[f64],
    cost: f64,
    opts: &FitOptions,
) -> (Option<Vec<f64>>, f64, u64, bool, String) {
    let mut simplex = vec![u.to_vec()];
    for j in 0..u.len() {
        let mut v = u.to_vec();
        v[j] += 0.05 * u[j].abs().max(1.0);
        simplex.push(v);
    }
    // Relative tolerance on the spread of the simplex costs: the scaled cost is O(mean |r|/δ).
    let tol = 1e-12 * cost.abs().max(1.0);
    let solver = match NelderMead::new(simplex).with_sd_tolerance(tol) {
        Ok(s) => s,
        Err(e) => return (None, f64::INFINITY, 0, false, format!("not set up: {e}")),
    };
    let run = Executor::new(problem, solver)
        .configure(|s| s.max_iters(opts.polish_max_iters))
        .timer(false)
        .ctrlc(false)
        .run();
    outcome(run, opts.polish_max_iters)
}

/// Levenberg–Marquardt stops when an accepted step lowers the cost by less than this fraction.
const LM_FTOL: f64 = 1e-10;
/// … or moves `u` by less than this (relative to `1 + |u|`).
const LM_XTOL: f64 = 1e-10;
/// … or when no damping up to this makes a step that lowers the cost (a numerical minimum).
const LM_MAX_DAMPING: f64 = 1e12;

/// Solves `(H + λ·D) x = −g` by Cholesky, `D` the diagonal of `H` floored at `1e-12` of its
/// largest entry (Marquardt's scaling: invariant to the units of each parameter, and the floor
/// keeps a parameter the data do not move from making the system singular). `None` if the
/// damped matrix is not positive definite.
fn damped_step(h: &[f64], g: &[f64], lambda: f64) -> Option<Vec<f64>> {
    let p = g.len();
    let dmax = (0..p).map(|k| h[k * p + k]).fold(0.0, f64::max);
    let floor = (1e-12 * dmax).max(f64::MIN_POSITIVE);
    let mut a = h.to_vec();
    for k in 0..p {
        a[k * p + k] += lambda * h[k * p + k].max(floor);
    }
    // In-place lower Cholesky factor.
    for j in 0..p {
        let mut d = a[j * p + j];
        for k in 0..j {
            d -= a[j * p + k] * a[j * p + k];
        }
        if !(d > 0.0 && d.is_finite()) {
            return None;
        }
        let d = d.sqrt();
        a[j * p + j] = d;
        for i in j + 1..p {
            let mut v = a[i * p + j];
            for k in 0..j {
                v -= a[i * p + k] * a[j * p + k];
            }
            a[i * p + j] = v / d;
        }
    }
    let mut x: Vec<f64> = g.iter().map(|v| -v).collect();
    for i in 0..p {
        for k in 0..i {
            x[i] -= a[i * p + k] * x[k];
        }
        x[i] /= a[i * p + i];
    }
    for i in (0..p).rev() {
        for k in i + 1..p {
            x[i] -= a[k * p + i] * x[k];
        }
        x[i] /= a[i * p + i];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

fn norm(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// Levenberg–Marquardt on the IRLS model of the Huber cost ([`Objective::gauss_newton`]), for
/// laws with a Jacobian: with 3–7 parameters it needs tens of Jacobian calls where L-BFGS needs
/// hundreds, because the Gauss–Newton curvature captures the strong parameter correlations of
/// loss-curve laws that L-BFGS must learn step by step.
///
/// Returns `None` when the law has no Jacobian, else (best u, scaled cost, iterations,
/// converged, text).
fn levenberg_marquardt<L: LossLaw + ?Sized>(
    obj: &Objective<'_, L>,
    u0: &[f64],
    opts: &FitOptions,
    evals: &AtomicU64,
) -> Option<(Vec<f64>, f64, u64, bool, String)> {
    if !obj.may_have_jacobian() {
        return None;
    }
    evals.fetch_add(1, Ordering::Relaxed);
    let (mut cost, mut g, mut h) = obj.gauss_newton(u0)?;
    let mut u = u0.to_vec();
    let mut lambda = 1e-3;
    // A trial is accepted iff its cost is lower; where a Jacobian costs many predictions, a
    // rejected trial is found by its cost alone (the same cost bits, so the same decisions).
    let lazy = obj.jacobian_is_costly();
    for iter in 0..opts.max_iters {
        if norm(&g) <= opts.grad_tolerance {
            return Some((u, cost, iter, true, "gradient below tolerance".into()));
        }
        loop {
            let step = damped_step(&h, &g, lambda);
            let trial = step.as_ref().and_then(|step| {
                let v: Vec<f64> = u.iter().zip(step).map(|(a, b)| a + b).collect();
                evals.fetch_add(1, Ordering::Relaxed);
                // A NaN cost is no decrease either.
                let lower = || obj.cost(&v) < cost;
                if lazy && !lower() {
                    return None;
                }
                obj.gauss_newton(&v).map(|m| (v, m))
            });
            match (step, trial) {
                (Some(step), Some((v, (c2, g2, h2)))) if c2 < cost => {
                    let small_decrease = cost - c2 <= LM_FTOL * cost;
                    let small_step = norm(&step) <= LM_XTOL * (1.0 + norm(&u));
                    (u, cost, g, h) = (v, c2, g2, h2);
                    lambda = (lambda / 3.0).max(1e-12);
                    if small_decrease || small_step {
                        let why = if small_decrease {
                            "relative cost decrease below 1e-10"
                        } else {
                            "step below 1e-10"
                        };
                        return Some((u, cost, iter + 1, true, why.into()));
                    }
                    break;
                }
                _ => {
                    lambda *= 4.0;
                    if lambda > LM_MAX_DAMPING {
                        // Even a tiny gradient step does not lower the cost: a minimum to
                        // working precision.
                        return Some((
                            u,
                            cost,
                            iter + 1,
                            true,
                            "no step lowers the cost further".into(),
                        ));
                    }
                }
            }
        }
    }
    let text = format!("maximum number of iterations ({}) reached", opts.max_iters);
    Some((u, cost, opts.max_iters, false, text))
}

/// One start: Levenberg–Marquardt for laws with a Jacobian, L-BFGS (from where it stopped) if that
/// did not converge or the law has none, then a Nelder–Mead polish if L-BFGS did not converge.
pub(crate) fn run_start<L: LossLaw + ?Sized>(
    obj: &Objective<'_, L>,
    u0: &[f64],
    opts: &FitOptions,
) -> StartOutcome {
    let evals = AtomicU64::new(0);
    let mut lm_iters = 0;
    let mut prefix = String::new();
    let mut start = u0.to_vec();
    if opts.gauss_newton
        && let Some((u, cost, iters, conv, text)) = levenberg_marquardt(obj, u0, opts, &evals)
    {
        if conv && cost.is_finite() {
            return StartOutcome {
                u0: u0.to_vec(),
                u,
                cost,
                iterations: iters,
                evaluations: evals.load(Ordering::Relaxed),
                converged: true,
                termination: format!("Levenberg–Marquardt converged ({text})"),
            };
        }
        lm_iters = iters;
        prefix = format!("Levenberg–Marquardt stopped: {text}; ");
        if cost.is_finite() {
            start = u;
        }
    }
    let (u, cost, iterations, mut converged, text) =
        lbfgs(Problem::new(obj, &evals, true), &start, opts);
    let mut iterations = iterations + lm_iters;
    let (mut u, mut cost) = match u {
        Some(u) if cost.is_finite() => (u, cost),
        _ => (
            start.clone(),
            Problem::new(obj, &evals, false)
                .cost(&start)
                .unwrap_or(f64::INFINITY),
        ),
    };
    let mut termination = if converged {
        format!("{prefix}L-BFGS converged ({text})")
    } else {
        format!("{prefix}L-BFGS stopped: {text}")
    };
    if !converged && opts.polish_max_iters > 0 {
        let (u2, c2, it2, conv2, text2) =
            nelder_mead(Problem::new(obj, &evals, false), &u, cost, opts);
        iterations += it2;
        if let Some(u2) = u2
            && c2 <= cost
        {
            u = u2;
            cost = c2;
        }
        converged = conv2;
        termination = if conv2 {
            format!("{termination}; Nelder–Mead polish converged")
        } else {
            format!("{termination}; Nelder–Mead polish stopped: {text2}")
        };
    }
    StartOutcome {
        u0: u0.to_vec(),
        u,
        cost,
        iterations,
        evaluations: evals.load(Ordering::Relaxed),
        converged,
        termination,
    }
}

/// Runs every start (in parallel, collected in start order) and returns the outcomes plus the
/// index of the best: lowest cost, the earliest start on ties — independent of thread count.
pub(crate) fn multi_start<L: LossLaw + ?Sized>(
    obj: &Objective<'_, L>,
    starts: &[Vec<f64>],
    opts: &FitOptions,
) -> (Vec<StartOutcome>, usize) {
    // Whether the law has derivatives is learnt on the first Jacobian request and shared by
    // every start; settle it before the starts run concurrently, or a start would see it
    // earlier or later depending on the thread count (and count different evaluations).
    if starts.len() > 1 {
        obj.settle_jacobian(&starts[0]);
    }
    let outcomes: Vec<StartOutcome> = starts
        .par_iter()
        .map(|u0| run_start(obj, u0, opts))
        .collect();
    let mut best = 0;
    for (i, o) in outcomes.iter().enumerate() {
        let better =
            o.cost < outcomes[best].cost || (outcomes[best].cost.is_nan() && !o.cost.is_nan());
        if better {
            best = i;
        }
    }
    (outcomes, best)
}
