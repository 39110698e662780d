//! Accuracy metrics for predicted loss curves and schedule rankings (the Multi-Power-Law
//! paper's set plus ranking quality), used by `docs/accuracy.md` and the evaluation example,
//! by leave-one-out validation, and for the fit report's errors ([`ErrorSums`]).

use serde::{Deserialize, Serialize};

/// How well a predicted curve matches an observed one at the observed points.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurveMetrics {
    /// Predicted minus observed loss at the last observed point.
    pub final_err: f64,
    /// Mean absolute error over all points.
    pub mae: f64,
    /// Root-mean-square error over all points.
    pub rmse: f64,
    /// Coefficient of determination over the points at or after `from_step`.
    pub r2: f64,
    /// Mean relative error `|pred − obs| / obs`.
    pub mean_rel_err: f64,
    /// Largest relative error.
    pub max_rel_err: f64,
}

/// Metrics of `pred` against `obs` (same length, same steps); R² uses the points whose step is
/// at least `r2_from_step` (e.g. after warmup, where the loss falls steeply and R² is
/// trivially close to 1).
///
/// ```
/// let m = lrsde::assess::metrics::curve_metrics(&[1, 2, 3], &[3.0, 2.0, 1.0], &[3.0, 2.0, 1.5], 1);
/// assert_eq!(m.final_err, 0.5);
/// assert!((m.mae - 0.5 / 3.0).abs() < 1e-15);
/// assert!(m.r2 < 1.0);
/// ```
pub fn curve_metrics(steps: &[u64], obs: &[f64], pred: &[f64], r2_from_step: u64) -> CurveMetrics {
    let n = obs.len().min(pred.len()).min(steps.len());
    let err: Vec<f64> = (0..n).map(|i| pred[i] - obs[i]).collect();
    let mae = err.iter().map(|e| e.abs()).sum::<f64>() / n as f64;
    let rmse = (err.iter().map(|e| e * e).sum::<f64>() / n as f64).sqrt();
    let rel: Vec<f64> = (0..n).map(|i| err[i].abs() / obs[i].abs()).collect();
    let tail: Vec<usize> = (0..n).filter(|&i| steps[i] >= r2_from_step).collect();
    let mean_tail = tail.iter().map(|&i| obs[i]).sum::<f64>() / tail.len() as f64;
    let ss_tot: f64 = tail.iter().map(|&i| (obs[i] - mean_tail).powi(2)).sum();
    let ss_res: f64 = tail.iter().map(|&i| err[i] * err[i]).sum();
    CurveMetrics {
        final_err: err.last().copied().unwrap_or(f64::NAN),
        mae,
        rmse,
        r2: 1.0 - ss_res / ss_tot,
        mean_rel_err: rel.iter().sum::<f64>() / n as f64,
        max_rel_err: rel.iter().copied().fold(0.0, f64::max),
    }
}

/// Running sums behind a fit report's errors (RMSE of log residuals, MAE, largest relative
/// error) over the points with a finite, positive prediction; curves merge by adding sums, so
/// the overall figures weigh every point alike.
///
/// ```
/// use lrsde::assess::metrics::ErrorSums;
/// let mut all = ErrorSums::default();
/// // The NaN prediction has no residual and is not counted.
/// all.add(&[2.0, 1.0, 4.0], &[2.0, 1.5, f64::NAN]);
/// let (rmse_log, mae, max_rel) = all.finish();
/// assert!((rmse_log - (1.5f64.ln().powi(2) / 2.0).sqrt()).abs() < 1e-15);
/// assert_eq!((mae, max_rel), (0.25, 0.5));
/// assert!(ErrorSums::default().finish().0.is_nan());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ErrorSums {
    sq_log: f64,
    abs: f64,
    max_rel: f64,
    n: usize,
}

impl ErrorSums {
    /// Adds the points of one curve (`obs` and `pred` at the same steps).
    pub fn add(&mut self, obs: &[f64], pred: &[f64]) {
        for (&p, &o) in pred.iter().zip(obs) {
            if p.is_finite() && p > 0.0 {
                let r = o.ln() - p.ln();
                self.sq_log += r * r;
                self.abs += (o - p).abs();
                self.max_rel = self.max_rel.max((o - p).abs() / o);
                self.n += 1;
            }
        }
    }

    /// Adds another set of sums.
    pub fn merge(&mut self, other: &Self) {
        self.sq_log += other.sq_log;
        self.abs += other.abs;
        self.max_rel = self.max_rel.max(other.max_rel);
        self.n += other.n;
    }

    /// `(rmse_log, mae, max_rel_err)`, `NaN` without points.
    pub fn finish(&self) -> (f64, f64, f64) {
        if self.n == 0 {
            return (f64::NAN, f64::NAN, f64::NAN);
        }
        let n = self.n as f64;
        ((self.sq_log / n).sqrt(), self.abs / n, self.max_rel)
    }
}

/// Kendall's τ-b between two score lists (ties counted on either side); `NaN` for fewer than
/// two items.
///
/// ```
/// assert_eq!(lrsde::assess::metrics::kendall_tau(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]), 1.0);
/// assert_eq!(lrsde::assess::metrics::kendall_tau(&[1.0, 2.0, 3.0], &[30.0, 20.0, 10.0]), -1.0);
/// ```
pub fn kendall_tau(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (mut concordant, mut discordant, mut ties_a, mut ties_b) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for i in 0..n {
        for j in i + 1..n {
            let da = (a[i] - a[j]).signum() * f64::from(u8::from(a[i] != a[j]));
            let db = (b[i] - b[j]).signum() * f64::from(u8::from(b[i] != b[j]));
            match (da == 0.0, db == 0.0) {
                (true, true) => {}
                (true, false) => ties_a += 1.0,
                (false, true) => ties_b += 1.0,
                (false, false) if da == db => concordant += 1.0,
                _ => discordant += 1.0,
            }
        }
    }
    let denom = ((concordant + discordant + ties_a) * (concordant + discordant + ties_b)).sqrt();
    if denom == 0.0 {
        f64::NAN
    } else {
        (concordant - discordant) / denom
    }
}

/// Regret of choosing the candidate with the lowest predicted loss: its true loss minus the
/// best true loss (0 when the prediction picks the true best).
///
/// ```
/// // Predicted best is item 1, whose true loss is 2.1; the true best is 2.0.
/// let r = lrsde::assess::metrics::regret(&[2.5, 2.2, 2.3], &[2.0, 2.1, 2.05]);
/// assert!((r - 0.1).abs() < 1e-12);
/// ```
pub fn regret(predicted: &[f64], truth: &[f64]) -> f64 {
    let argmin = |v: &[f64]| {
        v.iter()
            .enumerate()
            .min_by(|x, y| x.1.total_cmp(y.1))
            .map(|(i, _)| i)
            .unwrap_or(0)
    };
    if predicted.is_empty() || truth.is_empty() {
        return f64::NAN;
    }
    truth[argmin(predicted)] - truth[argmin(truth)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_prediction_has_zero_errors_and_unit_r2() {
        let obs = [3.0, 2.5, 2.2, 2.1];
        let m = curve_metrics(&[1, 2, 3, 4], &obs, &obs, 2);
        assert_eq!(
            (m.final_err, m.mae, m.rmse, m.max_rel_err),
            (0.0, 0.0, 0.0, 0.0)
        );
        assert_eq!(m.r2, 1.0);
    }

    #[test]
    fn r2_uses_only_tail_points() {
        // A huge error at step 1 must not affect R² from step 2.
        let m = curve_metrics(&[1, 2, 3], &[9.0, 2.0, 1.0], &[0.0, 2.0, 1.0], 2);
        assert_eq!(m.r2, 1.0);
        assert!(m.mae > 2.9);
    }

    #[test]
    fn kendall_tau_with_one_swap() {
        // 4 items, one adjacent swap: 5 concordant, 1 discordant pair → τ = 4/6.
        let t = kendall_tau(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0]);
        assert!((t - 4.0 / 6.0).abs() < 1e-15);
        assert!(kendall_tau(&[1.0], &[1.0]).is_nan());
    }
}

/// One law fitted on some curves and scored on others.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Evaluation {
    /// The law, as named in fit files.
    pub law: String,
    /// Whether the fit converged.
    pub converged: bool,
    /// Wall time of the fit in seconds.
    pub fit_seconds: f64,
    /// Metrics per held-out curve, by name.
    pub held_out: Vec<(String, CurveMetrics)>,
    /// Predicted and observed final loss of every curve (fitted and held out), by name, for
    /// ranking schedules of equal length.
    pub finals: Vec<(String, u64, f64, f64)>,
}

impl Evaluation {
    /// Mean of a metric over the held-out curves.
    ///
    /// ```
    /// # use lrsde::assess::metrics::{CurveMetrics, Evaluation};
    /// let m = |mae: f64| CurveMetrics { final_err: -mae, mae, rmse: mae, r2: 1.0, mean_rel_err: 0.0, max_rel_err: 0.0 };
    /// let e = Evaluation { law: "power".into(), converged: true, fit_seconds: 0.0,
    ///     held_out: vec![("a".into(), m(0.1)), ("b".into(), m(0.3))], finals: vec![] };
    /// assert!((e.mean(|m| m.mae) - 0.2).abs() < 1e-15);
    /// assert!((e.mean(|m| m.final_err.abs()) - 0.2).abs() < 1e-15);
    /// ```
    pub fn mean(&self, metric: impl Fn(&CurveMetrics) -> f64) -> f64 {
        self.held_out.iter().map(|(_, m)| metric(m)).sum::<f64>() / self.held_out.len() as f64
    }

    /// Kendall τ and regret of the predicted final losses within each group of curves that
    /// end at the same step (groups of at least two), as `(last step, τ, regret)`.
    pub fn rankings(&self) -> Vec<(u64, f64, f64)> {
        let mut ends: Vec<u64> = self.finals.iter().map(|f| f.1).collect();
        ends.sort_unstable();
        ends.dedup();
        ends.into_iter()
            .filter_map(|end| {
                let group: Vec<_> = self.finals.iter().filter(|f| f.1 == end).collect();
                (group.len() >= 2).then(|| {
                    let pred: Vec<f64> = group.iter().map(|f| f.2).collect();
                    let obs: Vec<f64> = group.iter().map(|f| f.3).collect();
                    (end, kendall_tau(&pred, &obs), regret(&pred, &obs))
                })
            })
            .collect()
    }
}

/// Fits `law` jointly on `fit_curves`, then scores its predictions of `test_curves` at their
/// observed points (R² from `r2_from_step`).
///
/// # Errors
/// Fitting or prediction errors (bad curves, law mismatch).
pub fn evaluate(
    law: &crate::law::AnyLaw,
    fit_curves: &[crate::data::TrainingCurve],
    test_curves: &[crate::data::TrainingCurve],
    options: &crate::fit::FitOptions,
    r2_from_step: u64,
) -> Result<Evaluation, crate::Error> {
    let start = std::time::Instant::now();
    let fitted = crate::fit::fit_law(law.clone(), fit_curves, options)?;
    let fit_seconds = start.elapsed().as_secs_f64();
    let predictor = crate::fit::Predictor::from_fitted(fitted)?;
    let fitted = predictor.fitted();
    let (held_out, finals) = score(
        predictor.law(),
        &predictor.params(),
        fit_curves,
        test_curves,
        r2_from_step,
    )?;
    Ok(Evaluation {
        law: fitted.law.clone(),
        converged: fitted.report.converged,
        fit_seconds,
        held_out,
        finals,
    })
}

/// Scores given parameters of `law` (e.g. a paper's published fit) as [`evaluate`] scores a
/// fit: metrics of `test_curves`, finals of `fit_curves` and `test_curves`. The law is
/// configured on `fit_curves` first (data scales and bounds, as a fit would); no fit runs
/// (`fit_seconds` 0, `converged` true).
///
/// # Errors
/// Parameters outside the law's bounds, bad curves, prediction errors.
///
/// ```
/// use lrsde::assess::metrics::evaluate_params;
/// use lrsde::data::TrainingCurve;
/// use lrsde::law::AnyLaw;
/// let lrs = lrsde::schedule::LrGrid::new(vec![1.0; 100]).unwrap();
/// // The power law L = L0 + A·S^(−α) at S = 100: 2 + 1/10.
/// let c = TrainingCurve { name: "c".into(), lrs, steps: vec![25, 100], losses: vec![2.2, 2.1], batch: None };
/// let law: AnyLaw = "power".parse().unwrap();
/// let e = evaluate_params(&law, &[2.0, 1.0, 0.5], &[c.clone()], &[c], 0).unwrap();
/// assert!(e.held_out[0].1.final_err.abs() < 1e-12);
/// ```
pub fn evaluate_params(
    law: &crate::law::AnyLaw,
    params: &[f64],
    fit_curves: &[crate::data::TrainingCurve],
    test_curves: &[crate::data::TrainingCurve],
    r2_from_step: u64,
) -> Result<Evaluation, crate::Error> {
    use crate::law::LossLaw;
    let mut law = law.clone();
    law.configure(fit_curves)?;
    let (held_out, finals) = score(&law, params, fit_curves, test_curves, r2_from_step)?;
    Ok(Evaluation {
        law: law.name().to_string(),
        converged: true,
        fit_seconds: 0.0,
        held_out,
        finals,
    })
}

/// Metrics of each of `test_curves` and `(name, last step, predicted, observed)` finals of
/// every curve under `params`.
#[allow(clippy::type_complexity)]
fn score(
    law: &crate::law::AnyLaw,
    params: &[f64],
    fit_curves: &[crate::data::TrainingCurve],
    test_curves: &[crate::data::TrainingCurve],
    r2_from_step: u64,
) -> Result<(Vec<(String, CurveMetrics)>, Vec<(String, u64, f64, f64)>), crate::Error> {
    use crate::law::LossLaw;
    let predict = |c: &crate::data::TrainingCurve| -> Result<Vec<f64>, crate::Error> {
        let mut out = vec![0.0; c.steps.len()];
        law.predict_batched(params, &c.lrs, c.batch.as_ref(), &c.steps, &mut out)?;
        Ok(out)
    };
    let mut held_out = Vec::new();
    let mut finals = Vec::new();
    for (c, is_test) in fit_curves
        .iter()
        .map(|c| (c, false))
        .chain(test_curves.iter().map(|c| (c, true)))
    {
        let pred = predict(c)?;
        if is_test {
            held_out.push((
                c.name.clone(),
                curve_metrics(&c.steps, &c.losses, &pred, r2_from_step),
            ));
        }
        if let (Some(&s), Some(&p), Some(&o)) = (c.steps.last(), pred.last(), c.losses.last()) {
            finals.push((c.name.clone(), s, p, o));
        }
    }
    Ok((held_out, finals))
}
