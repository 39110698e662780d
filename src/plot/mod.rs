//! Plots of predicted curves (feature `plot`).
