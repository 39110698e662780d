//! Schedules given as one LR per update (e.g. read from a training log).

use serde::{Deserialize, Serialize};

use super::error::ScheduleError;
use super::{LrGrid, LrSchedule};

/// A schedule given by its per-update LRs: `lr(t) == lrs[t]`.
///
/// Serde reads and writes `{"lrs": [...]}`, validating on the way in.
///
/// ```
/// use lrsde::schedule::{LrSchedule, Tabulated};
/// let tab = Tabulated::new(vec![0.1, 0.1, 0.05]).unwrap();
/// assert_eq!(tab.steps(), 3);
/// assert_eq!(tab.lr(2), 0.05);
/// assert_eq!(tab.lr(10), 0.05); // beyond the table the last LR is held
/// assert!(Tabulated::new(vec![]).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TabulatedRaw")]
pub struct Tabulated {
    lrs: Vec<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TabulatedRaw {
    lrs: Vec<f64>,
}

impl TryFrom<TabulatedRaw> for Tabulated {
    type Error = ScheduleError;
    fn try_from(raw: TabulatedRaw) -> Result<Self, Self::Error> {
        Self::new(raw.lrs)
    }
}

impl Tabulated {
    /// Wraps per-update LRs (`lrs[t]` is the LR of update `t + 1`), rejecting an empty table
    /// ([`ScheduleError::EmptyTable`]) and negative or non-finite LRs ([`ScheduleError::BadLr`],
    /// with the 1-based update).
    ///
    /// ```
    /// use lrsde::schedule::{ScheduleError, Tabulated};
    /// let err = Tabulated::new(vec![0.1, -1.0]).unwrap_err();
    /// assert!(matches!(err, ScheduleError::BadLr { step: 2, .. }));
    /// ```
    pub fn new(lrs: Vec<f64>) -> Result<Self, ScheduleError> {
        if lrs.is_empty() {
            return Err(ScheduleError::EmptyTable);
        }
        let lrs = LrGrid::new(lrs)?.into_vec();
        Ok(Self { lrs })
    }

    /// The per-update LRs.
    pub fn as_slice(&self) -> &[f64] {
        &self.lrs
    }

    /// The largest LR of the table.
    pub fn peak(&self) -> f64 {
        self.lrs.iter().copied().fold(0.0, f64::max)
    }

    /// The table as an [`LrGrid`].
    pub fn grid(&self) -> LrGrid {
        LrGrid::from(self.clone())
    }

    /// Consumes the table, returning the LRs.
    pub fn into_vec(self) -> Vec<f64> {
        self.lrs
    }
}

impl LrSchedule for Tabulated {
    /// `lrs[t]`; for `t >= steps` the last LR is held.
    fn lr(&self, t: u64) -> f64 {
        let last = self.lrs.len() - 1;
        self.lrs[usize::try_from(t).map_or(last, |t| t.min(last))]
    }

    fn steps(&self) -> u64 {
        self.lrs.len() as u64
    }
}

impl From<Tabulated> for LrGrid {
    fn from(tab: Tabulated) -> Self {
        // Already validated by `Tabulated::new`.
        LrGrid { lrs: tab.lrs }
    }
}

impl TryFrom<LrGrid> for Tabulated {
    type Error = ScheduleError;
    fn try_from(grid: LrGrid) -> Result<Self, Self::Error> {
        Self::new(grid.into_vec())
    }
}
