//! Options of [`fit`](super::fit) and [`fit_law`](super::fit_law).

use serde::{Deserialize, Serialize};

use super::FitError;

/// How the points of several fit curves weigh against each other when
/// [`FitOptions::weights`] is `None`.
///
/// ```
/// use lrsde::fit::CurveWeighting;
/// assert_eq!("curves".parse(), Ok(CurveWeighting::Curves));
/// assert!("time".parse::<CurveWeighting>().unwrap_err().contains("points, curves"));
/// // A curve of 10 points beside one of 30: 40 points, 2 curves, 20 per curve.
/// assert_eq!(CurveWeighting::Curves.point_weights(&[10, 30]), vec![2.0, 2.0 / 3.0]);
/// assert_eq!(CurveWeighting::Points.point_weights(&[10, 30]), vec![1.0, 1.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CurveWeighting {
    /// Every observed point weighs 1: a curve logged more often, or run longer, weighs more.
    #[default]
    Points,
    /// Every curve weighs the same in total: a point of a curve of `n_c` points weighs
    /// `N / (C · n_c)` (`N` points in `C` curves, so the weights still sum to `N`). How often a
    /// curve was logged then does not change the fit, and a long run does not outweigh short
    /// ones by its number of points.
    Curves,
}

impl CurveWeighting {
    /// The weight that every point of each curve gets (one value per curve), given the curves'
    /// numbers of points.
    pub fn point_weights(self, points_per_curve: &[usize]) -> Vec<f64> {
        match self {
            Self::Points => vec![1.0; points_per_curve.len()],
            Self::Curves => {
                let total: usize = points_per_curve.iter().sum();
                let per_curve = total as f64 / points_per_curve.len() as f64;
                points_per_curve
                    .iter()
                    .map(|&n| if n == 0 { 0.0 } else { per_curve / n as f64 })
                    .collect()
            }
        }
    }
}

impl std::str::FromStr for CurveWeighting {
    type Err = String;

    /// Parses the CLI's `--weigh` values, `points` and `curves`.
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "points" => Ok(Self::Points),
            "curves" => Ok(Self::Curves),
            _ => Err(format!("`{text}` is not one of points, curves")),
        }
    }
}

/// How the uncertainty band of a fit is estimated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum UncertaintyMethod {
    /// No band: `loss_lo = loss_hi = loss`.
    None,
    /// Laplace (Gauss–Newton) approximation around the optimum, sampled into `draws` parameter
    /// vectors (see the [module docs](super#uncertainty)).
    Laplace {
        /// Number of parameter draws stored in the fit (the band's quantiles come from them).
        draws: usize,
    },
}

impl Default for UncertaintyMethod {
    fn default() -> Self {
        UncertaintyMethod::Laplace { draws: 200 }
    }
}

/// Options of [`fit`](super::fit); `FitOptions::default()` follows the published recipe
/// (Huber δ = 1e-3 on log residuals, multi-start L-BFGS).
///
/// ```
/// use lrsde::fit::FitOptions;
/// let opts = FitOptions { max_iters: 500, ..FitOptions::default() };
/// assert_eq!(opts.huber_delta, 1e-3);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FitOptions {
    /// Huber threshold on log residuals (1e-3: the MPL / momentum-law recipe).
    pub huber_delta: f64,
    /// Optional point weights, one vector per curve with one weight per observed point
    /// (finite, `>= 0`, not all zero). `None`: the weights of [`Self::curve_weighting`].
    pub weights: Option<Vec<Vec<f64>>>,
    /// How the curves weigh against each other when `weights` is `None`.
    pub curve_weighting: CurveWeighting,
    /// Starting points in the law's parameter space (one full vector each, inside the bounds),
    /// e.g. a law's data-driven guesses. Empty: start from the centre of the unconstrained box.
    pub starts: Vec<Vec<f64>>,
    /// Extra pseudo-random starts, uniform in `[-2, 2]` per unconstrained coordinate (bounded
    /// parameters: the middle 76 % of the range; one-sided: `bound ± e^[-2, 2]`).
    /// [`fit_law`](super::fit_law) uses [`Self::law_random_starts`] instead unless `starts` is
    /// given.
    pub random_starts: usize,
    /// [`fit_law`](super::fit_law) without explicit `starts`: how many of the law's
    /// data-driven guesses to start from (the best ones; the law ranks them), raised to the
    /// law's own floor ([`LossLaw::min_starts`](crate::law::LossLaw::min_starts): `mpl` 3,
    /// `:sat=1` 4). Default 1: the top-ranked guess gave the best fit of every other law on the
    /// bundled MultiPowerLaw curves, and each further start costs a full fit (the `sde` law:
    /// about 0.1 s of CPU for two 24,000-step curves); raise it for unfamiliar data.
    pub max_law_starts: usize,
    /// [`fit_law`](super::fit_law) without explicit `starts`: random starts added to the
    /// law's guesses. The guesses already cover the plausible region, and each extra start
    /// costs about as much as a guess, so the default is none.
    pub law_random_starts: usize,
    /// Seed of the random starts and of the uncertainty draws.
    pub seed: u64,
    /// Maximum iterations per start, of Levenberg–Marquardt and of L-BFGS each.
    /// [`fit_law`](super::fit_law) raises it to the law's floor
    /// ([`LossLaw::min_iters`](crate::law::LossLaw::min_iters); `mpl`: 1000).
    pub max_iters: u64,
    /// For laws with a Jacobian ([`LossLaw::predict_jacobian`](crate::law::LossLaw)), start
    /// each start with Levenberg–Marquardt on the iteratively reweighted Gauss–Newton model of
    /// the Huber cost, and run L-BFGS only if it does not converge. `false`: L-BFGS only.
    pub gauss_newton: bool,
    /// Maximum Nelder–Mead iterations of the polish that runs when L-BFGS stops without
    /// converging (`0` disables the polish).
    pub polish_max_iters: u64,
    /// L-BFGS history length.
    pub lbfgs_memory: usize,
    /// L-BFGS stops when the gradient norm of the scaled cost (mean Huber loss in units of δ)
    /// falls below this.
    pub grad_tolerance: f64,
    /// L-BFGS stops when the scaled cost changes by less than this in one iteration.
    pub cost_tolerance: f64,
    /// Relative central-difference step in the unconstrained space.
    pub fd_step: f64,
    /// How the uncertainty band is estimated.
    pub uncertainty: UncertaintyMethod,
    /// Lower and upper quantile of the band (e.g. 5 % and 95 %).
    pub band_quantiles: (f64, f64),
    /// A prior over parameters the curves cannot identify (applied when its law is the one
    /// fitted; see [`ParamPrior`](super::ParamPrior)). Meant for fits of a single schedule
    /// shape, e.g. one constant-LR run before a cooldown is predicted. The fit's optimum
    /// without the prior is one more start of the fit with it. `None`: no prior.
    pub prior: Option<super::ParamPrior>,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            huber_delta: 1e-3,
            weights: None,
            curve_weighting: CurveWeighting::Points,
            starts: Vec::new(),
            random_starts: 7,
            max_law_starts: 1,
            law_random_starts: 0,
            seed: 0,
            max_iters: 200,
            gauss_newton: true,
            polish_max_iters: 400,
            lbfgs_memory: 7,
            grad_tolerance: 1e-9,
            cost_tolerance: f64::EPSILON,
            // ≈ ε^(1/3): balances truncation and rounding error of central differences.
            fd_step: 6e-6,
            uncertainty: UncertaintyMethod::default(),
            band_quantiles: (0.05, 0.95),
            prior: None,
        }
    }
}

impl FitOptions {
    /// Checks ranges that do not depend on the data.
    pub(crate) fn validate(&self) -> Result<(), FitError> {
        let bad = |option, reason: &str| {
            Err(FitError::InvalidOption {
                option,
                reason: reason.to_string(),
            })
        };
        if !(self.huber_delta.is_finite() && self.huber_delta > 0.0) {
            return bad("huber_delta", "must be finite and > 0");
        }
        if !(self.grad_tolerance.is_finite() && self.grad_tolerance >= 0.0) {
            return bad("grad_tolerance", "must be finite and >= 0");
        }
        if !(self.cost_tolerance.is_finite() && self.cost_tolerance >= 0.0) {
            return bad("cost_tolerance", "must be finite and >= 0");
        }
        if !(self.fd_step.is_finite() && self.fd_step > 0.0 && self.fd_step < 0.1) {
            return bad("fd_step", "must be in (0, 0.1)");
        }
        if self.lbfgs_memory == 0 {
            return bad("lbfgs_memory", "must be >= 1");
        }
        if self.max_law_starts == 0 {
            return bad("max_law_starts", "must be >= 1");
        }
        if self.max_iters == 0 {
            return bad("max_iters", "must be >= 1");
        }
        let (lo, hi) = self.band_quantiles;
        if !(lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo < hi && hi <= 1.0) {
            return bad("band_quantiles", "must satisfy 0 <= lo < hi <= 1");
        }
        if let UncertaintyMethod::Laplace { draws } = self.uncertainty
            && draws < 2
        {
            return bad("uncertainty", "Laplace needs at least 2 draws");
        }
        Ok(())
    }
}
