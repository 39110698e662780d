//! A law bound to one batch-size schedule, so that code written for [`LossLaw::predict`]
//! (bands over parameter draws, ranking, continued training) predicts under that schedule.

use super::{LawError, LossLaw, ParamSpec, predict_each};
use crate::data::TrainingCurve;
use crate::schedule::{BatchGrid, LrGrid};

/// `law` with every prediction made under `batch` (the `*_batched` methods); with `None` it is
/// `law` itself, bit for bit, including a law's own [`LossLaw::predict_many`].
pub(crate) struct Batched<'a, L: ?Sized> {
    law: &'a L,
    batch: Option<&'a BatchGrid>,
}

impl<'a, L: LossLaw + ?Sized> Batched<'a, L> {
    pub(crate) fn new(law: &'a L, batch: Option<&'a BatchGrid>) -> Self {
        Self { law, batch }
    }
}

impl<L: LossLaw + ?Sized> LossLaw for Batched<'_, L> {
    fn name(&self) -> &'static str {
        self.law.name()
    }

    fn params(&self) -> Vec<ParamSpec> {
        self.law.params()
    }

    fn predict(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
        out: &mut [f64],
    ) -> Result<(), LawError> {
        self.law
            .predict_batched(params, lrs, self.batch, steps, out)
    }

    /// A bound law is only ever used after its law was configured and fitted.
    fn configure(&mut self, _curves: &[TrainingCurve]) -> Result<(), LawError> {
        Err(LawError::NoData {
            law: self.law.name(),
            reason: "configure the law itself, not its batch-bound view",
        })
    }

    fn initial_guesses(&self, curves: &[TrainingCurve]) -> Vec<Vec<f64>> {
        self.law.initial_guesses(curves)
    }

    fn predict_jacobian(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
        out: &mut [f64],
        jac: &mut [f64],
    ) -> Result<bool, LawError> {
        self.law
            .predict_jacobian_batched(params, lrs, self.batch, steps, out, jac)
    }

    fn predict_many(
        &self,
        params: &[Vec<f64>],
        lrs: &LrGrid,
        steps: &[u64],
    ) -> Vec<Result<Vec<f64>, LawError>> {
        match self.batch {
            None => self.law.predict_many(params, lrs, steps),
            Some(_) => predict_each(self, params, lrs, steps),
        }
    }

    fn jacobian_is_costly(&self) -> bool {
        self.law.jacobian_is_costly()
    }

    fn path_predictions(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
    ) -> Result<Option<Vec<Vec<f64>>>, LawError> {
        self.law
            .path_predictions_batched(params, lrs, self.batch, steps)
    }
}
