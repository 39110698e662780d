//! One step of a numerical SDE scheme.
