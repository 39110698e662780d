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
                describe(reason, opts.max_iters),
            )
        }
        Err(e) => (None, f64::INFINITY, 0, false, format!("failed: {e}")),
    }
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
                describe(reason, opts.polish_max_iters),
            )
        }
        Err(e) => (None, f64::INFINITY, 0, false, format!("failed: {e}")),
    }
}

/// One start: L-BFGS, then a Nelder–Mead polish if L-BFGS did not converge.
pub(crate) fn run_start<L: LossLaw + ?Sized>(
    obj: &Objective<'_, L>,
    u0: &[f64],
    opts: &FitOptions,
) -> StartOutcome {
    let evals = AtomicU64::new(0);
    let (u, cost, mut iterations, mut converged, text) =
        lbfgs(Problem::new(obj, &evals, true), u0, opts);
    let (mut u, mut cost) = match u {
        Some(u) if cost.is_finite() => (u, cost),
        _ => (
            u0.to_vec(),
            Problem::new(obj, &evals, false)
                .cost(&u0.to_vec())
                .unwrap_or(f64::INFINITY),
        ),
    };
    let mut termination = if converged {
        format!("L-BFGS converged ({text})")
    } else {
        format!("L-BFGS stopped: {text}")
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
