//! What `--law auto` chose and why (stored in the fit file, printed by `lrsde fit`).

use serde::{Deserialize, Serialize};

/// One candidate law of an automatic choice, with its held-out evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LawScore {
    /// The law's text form (`sde`, `momentum`, ...).
    pub law: String,
    /// Root-mean-square leave-last-segment-out error of the final losses (`null` when the
    /// refits failed).
    #[serde(with = "super::report::nullable_f64")]
    pub score: f64,
    /// Number of held-out errors behind the score.
    pub n_errors: usize,
}

/// The automatic choice of a law by held-out evidence from the fit curves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LawSelection {
    /// The chosen law's text form.
    pub chosen: String,
    /// Every candidate with its score, in the order tried.
    pub candidates: Vec<LawScore>,
    /// Why, in one sentence.
    pub reason: String,
}
