//! Exact mean and second-moment recursions of the linear models under any LR grid.
