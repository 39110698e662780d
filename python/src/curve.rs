//! `lrsde.Curve`: an observed training curve, from arrays, a DataFrame or a file.

use crate::convert::f64_vec;
use crate::errors;
use crate::frame::frame;
use lrsde::data::{
    Location, LrBetweenRows, ReadOptions, TrainingCurve, WarmupPolicy, curve_columns,
};
use lrsde::schedule::{BatchGrid, LrGrid};
use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use std::path::PathBuf;
use std::sync::Arc;

/// An observed training curve: the loss at some steps, and the LR of every update.
///
/// ``step``, ``loss`` and ``lr`` are row-aligned arrays as in a log (one row per logged step);
/// NaN marks a missing value (a row with an LR but no loss, or the reverse). The LR of every
/// update is rebuilt from the LR rows exactly as the CLI does for a file: linear between rows
/// (``lr_between_rows="hold"`` holds each row's LR until the next, ``"auto"`` holds only a jump
/// between two flat stretches), held after the last, and before the first the ``warmup``
/// (``"auto"``: linear from 0; ``"constant"``; ``"linear:W"``). ``batch`` (optional,
/// row-aligned like ``lr``) gives the batch size of the run's updates from each row's step on,
/// rebuilt as a file's ``batch_size`` column is (linear between rows, the first held back to
/// update 1, the last held); ``sim:`` laws fit their noise to it.
///
/// >>> c = lrsde.Curve(step=[100, 200], loss=[3.2, 3.0], lr=[1e-3, 5e-4], name="run")
/// >>> len(c.lrs), c.steps.tolist(), c.batches
/// (200, [100, 200], None)
#[pyclass(module = "lrsde._lrsde", frozen)]
pub struct Curve {
    pub(crate) inner: Arc<TrainingCurve>,
}

#[pymethods]
impl Curve {
    #[new]
    #[pyo3(signature = (*, step, loss, lr, batch = None, name = "curve".to_owned(), warmup = "auto", lr_between_rows = "linear"))]
    fn new(
        step: &Bound<'_, PyAny>,
        loss: &Bound<'_, PyAny>,
        lr: &Bound<'_, PyAny>,
        batch: Option<&Bound<'_, PyAny>>,
        name: String,
        warmup: &str,
        lr_between_rows: &str,
    ) -> PyResult<Self> {
        let fill = LrFill::parse(warmup, lr_between_rows)?;
        let py = step.py();
        let (step, loss, lr) = (
            f64_vec(step, "step")?,
            f64_vec(loss, "loss")?,
            f64_vec(lr, "lr")?,
        );
        let batch = batch.map(|b| f64_vec(b, "batch")).transpose()?;
        let rows = Rows {
            step: &step,
            loss: &loss,
            lr: &lr,
            batch: batch.as_deref().map(|b| ("batch", b)),
        };
        Ok(Self {
            inner: Arc::new(from_rows(py, name, &rows, fill)?),
        })
    }

    /// A curve from the columns of a table: a pandas DataFrame (e.g. a W&B run's
    /// ``.history()``, or ``pd.DataFrame(trainer_state["log_history"])`` of a Hugging Face
    /// trainer), or any mapping of column name to array. Columns are chosen as the file readers
    /// choose them (the library's ``curve_columns``), so a table reads as the CSV with the same
    /// header: names match case-insensitively; ``step=None`` takes ``step`` or a known alias
    /// (``global_step``, ``_step``, …), ``lr=None`` ``lr`` or an alias (``learning_rate``, …),
    /// ``loss=None`` the first present of the CLI's defaults (``eval_loss``, ``val_loss``,
    /// ``loss``, ``train_loss``) then aliases (``eval/loss``, …), ``batch=None`` ``batch_size``
    /// or an alias, else no batch sizes. A name given is the only one tried, as the CLI's
    /// ``--step-column``, ``--lr-column``, ``--loss-column`` and ``--batch-column`` (which the
    /// errors, the CLI's own text, name).
    ///
    /// >>> import pandas as pd
    /// >>> df = pd.DataFrame({"Step": [10, 20], "LR": [1e-3, 1e-3], "Eval_Loss": [3.1, 2.9]})
    /// >>> lrsde.Curve.from_dataframe(df).losses.tolist()
    /// [3.1, 2.9]
    #[staticmethod]
    #[pyo3(signature = (df, step = None, loss = None, lr = None, batch = None, name = None, *, warmup = "auto", lr_between_rows = "linear"))]
    #[allow(clippy::too_many_arguments)] // Python keyword arguments, one per column and option.
    fn from_dataframe(
        df: &Bound<'_, PyAny>,
        step: Option<String>,
        loss: Option<String>,
        lr: Option<String>,
        batch: Option<String>,
        name: Option<String>,
        warmup: &str,
        lr_between_rows: &str,
    ) -> PyResult<Self> {
        let fill = LrFill::parse(warmup, lr_between_rows)?;
        let keys = column_keys(df)?;
        let names: Vec<String> = keys
            .iter()
            .map(|k| k.str().map(|s| s.to_string()))
            .collect::<PyResult<_>>()?;
        let mut opts = ReadOptions::default();
        opts.step_column = step;
        opts.loss_column = loss;
        opts.lr_column = lr;
        opts.batch_column = batch;
        let source = name.as_deref().unwrap_or("table");
        let cols = curve_columns(source, &names, &opts).map_err(|e| errors::to_py(&e))?;
        let column = |i: usize| -> PyResult<Vec<f64>> {
            f64_vec(&df.get_item(&keys[i])?, &format!("column `{}`", names[i]))
        };
        let batch_values = cols.batch.map(column).transpose()?;
        let (step, loss, lr) = (column(cols.step)?, column(cols.loss)?, column(cols.lr)?);
        let rows = Rows {
            step: &step,
            loss: &loss,
            lr: &lr,
            batch: cols
                .batch
                .map(|i| names[i].as_str())
                .zip(batch_values.as_deref()),
        };
        let name = name.unwrap_or_else(|| names[cols.loss].clone());
        Ok(Self {
            inner: Arc::new(from_rows(df.py(), name, &rows, fill)?),
        })
    }

    /// The curve's name.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }

    /// Observed steps (1-based update counts).
    #[getter]
    fn steps<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u64>> {
        PyArray1::from_slice(py, &self.inner.steps)
    }

    /// Observed losses, one per step.
    #[getter]
    fn losses<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, &self.inner.losses)
    }

    /// The LR of every update (``lrs[t]`` is the LR of update ``t + 1``).
    #[getter]
    fn lrs<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, &self.inner.lrs)
    }

    /// The batch size of every update (``batches[t]``: update ``t + 1``), or None when the
    /// curve has no batch sizes (one batch throughout).
    #[getter]
    fn batches<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<f64>>> {
        self.inner
            .batch
            .as_ref()
            .map(|b| PyArray1::from_slice(py, b.as_slice()))
    }

    /// The observed points as a table ``step, lr, loss`` (``lr``: the LR of that update), and
    /// ``batch_size`` (that update's) when the curve has batch sizes.
    fn to_dataframe<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = &self.inner;
        let at =
            |grid: &[f64]| -> Vec<f64> { c.steps.iter().map(|&s| grid[s as usize - 1]).collect() };
        let mut columns = vec![
            ("step", self.steps(py).into_any()),
            ("lr", at(&c.lrs).into_pyarray(py).into_any()),
            ("loss", self.losses(py).into_any()),
        ];
        if let Some(b) = &c.batch {
            columns.push(("batch_size", at(b.as_slice()).into_pyarray(py).into_any()));
        }
        frame(py, columns)
    }

    fn __len__(&self) -> usize {
        self.inner.steps.len()
    }

    fn __repr__(&self) -> String {
        let c = &self.inner;
        format!(
            "Curve(name={:?}, points={}, updates={})",
            c.name,
            c.steps.len(),
            c.lrs.len()
        )
    }

    fn __eq__(&self, other: &Self) -> bool {
        self.inner == other.inner
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, CurveParts)> {
        let c = &slf.get().inner;
        let ctor = slf.get_type().getattr("_from_parts")?;
        Ok((
            ctor,
            (
                c.name.clone(),
                c.lrs.to_vec(),
                c.steps.clone(),
                c.losses.clone(),
                c.batch.as_ref().map(|b| b.as_slice().to_vec()),
            ),
        ))
    }

    /// Inverse of the pickled form (the curve exactly as it was).
    #[staticmethod]
    #[pyo3(signature = (name, lrs, steps, losses, batch = None))]
    fn _from_parts(
        name: String,
        lrs: Vec<f64>,
        steps: Vec<u64>,
        losses: Vec<f64>,
        batch: Option<Vec<f64>>,
    ) -> PyResult<Self> {
        let lrs = LrGrid::new(lrs).map_err(|e| errors::with_context(&name, &e))?;
        let batch = batch
            .map(BatchGrid::new)
            .transpose()
            .map_err(|e| errors::with_context(&name, &e))?;
        Ok(Self {
            inner: Arc::new(TrainingCurve {
                name,
                lrs,
                steps,
                losses,
                batch,
            }),
        })
    }
}

/// Reads a training curve from a file the CLI reads (CSV, JSONL, W&B JSON export), with the
/// CLI's defaults; ``loss_column`` as the CLI's ``--loss-column``, ``batch_column`` as its
/// ``--batch-column`` (by default a ``batch_size`` column, if any, gives the batch sizes),
/// ``warmup`` as its ``--warmup`` (``"auto"``, ``"constant"``, ``"linear:W"``) and
/// ``lr_between_rows`` as its ``--lr-between-rows`` (``"linear"``, ``"hold"``, ``"auto"``).
///
/// >>> c = lrsde.read_curve("fixtures/MultiPowerLaw/csv_400/wsdcon_9.csv",
/// ...                      warmup="linear:2160", lr_between_rows="auto")  # doctest: +SKIP
#[pyfunction]
#[pyo3(signature = (path, *, loss_column = None, batch_column = None, warmup = "auto", lr_between_rows = "linear"))]
pub fn read_curve(
    py: Python<'_>,
    path: PathBuf,
    loss_column: Option<String>,
    batch_column: Option<String>,
    warmup: &str,
    lr_between_rows: &str,
) -> PyResult<Curve> {
    let fill = LrFill::parse(warmup, lr_between_rows)?;
    let mut opts = ReadOptions::default()
        .with_warmup(fill.warmup)
        .with_lr_between_rows(fill.between);
    if let Some(col) = loss_column {
        opts = opts.with_loss_column(col);
    }
    if let Some(col) = batch_column {
        opts = opts.with_batch_column(col);
    }
    let (curve, jumps) =
        lrsde::data::read_curve_with_jumps(&path, &opts).map_err(|e| errors::to_py(&e))?;
    if fill.between == LrBetweenRows::Linear {
        warn_ramped_jumps(py, &path.display().to_string(), &jumps)?;
    }
    Ok(Curve {
        inner: Arc::new(curve),
    })
}

/// The column keys of a table, in order: a DataFrame's ``columns``, else a mapping's keys.
fn column_keys<'py>(df: &Bound<'py, PyAny>) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let keys = match df.getattr("columns") {
        Ok(columns) => columns,
        Err(_) => df.call_method0("keys")?,
    };
    keys.try_iter()?.collect()
}

/// A `UserWarning` (the CLI's `warning:` line) when `jumps` of the logged LR of `label` were read
/// linearly, i.e. ramped over the gap between two rows.
fn warn_ramped_jumps(
    py: Python<'_>,
    label: &str,
    jumps: &[lrsde::data::LoggedJump],
) -> PyResult<()> {
    if let Some(what) = lrsde::data::LoggedJump::describe(jumps) {
        let message = format!(
            "{label}: {what} (lr_between_rows=\"linear\", the default); if the schedule stepped \
             there, lr_between_rows=\"auto\" keeps it a step"
        );
        py.import("warnings")?.call_method1("warn", (message,))?;
    }
    Ok(())
}

/// How the LRs of the updates without a logged LR are filled: the `warmup` and
/// `lr_between_rows` keywords, parsed as the CLI's `--warmup` and `--lr-between-rows`.
#[derive(Clone, Copy)]
struct LrFill {
    warmup: WarmupPolicy,
    between: LrBetweenRows,
}

impl LrFill {
    fn parse(warmup: &str, between: &str) -> PyResult<Self> {
        let bad = |key: &str, e: String| errors::value_error(format!("{key}: {e}"));
        Ok(Self {
            warmup: warmup.parse().map_err(|e| bad("warmup", e))?,
            between: between.parse().map_err(|e| bad("lr_between_rows", e))?,
        })
    }
}

/// A log's row-aligned columns; `batch`: the batch-size column's name and values, if any.
struct Rows<'a> {
    step: &'a [f64],
    loss: &'a [f64],
    lr: &'a [f64],
    batch: Option<(&'a str, &'a [f64])>,
}

/// The curve of a log's rows: `(step, lr)` rows where the LR is present, `(step, loss)` rows
/// where the loss is present, per-update LRs rebuilt as the file readers do, and batch sizes
/// checked and rebuilt by the library's own rule for a `batch_size` column.
fn from_rows(
    py: Python<'_>,
    name: String,
    rows: &Rows<'_>,
    fill: LrFill,
) -> PyResult<TrainingCurve> {
    let (batch_name, batch) = rows.batch.unwrap_or(("batch", &[]));
    let lens = [rows.step.len(), rows.loss.len(), rows.lr.len()];
    if lens.iter().any(|&n| n != lens[0]) || (rows.batch.is_some() && batch.len() != lens[0]) {
        let with_batch = if rows.batch.is_some() {
            format!(" and {batch_name} ({})", batch.len())
        } else {
            String::new()
        };
        return Err(errors::value_error(format!(
            "step, loss and lr must have one value per row (got {}, {} and {}{with_batch})",
            lens[0], lens[1], lens[2]
        )));
    }
    let (curve, batch_rows, jumps) = loss_and_lr(name, rows, fill).map_err(errors::value_error)?;
    warn_ramped_jumps(py, &curve.name, &jumps)?;
    let at = |i: usize| Location {
        path: format!("{}: row {}", curve.name, batch_rows[i].2),
        key: Some(format!("column `{batch_name}`")),
        ..Location::default()
    };
    let sparse: Vec<(u64, f64)> = batch_rows.iter().map(|&(s, b, _)| (s, b)).collect();
    let batch = lrsde::data::batch_grid_from_rows(&sparse, curve.lrs.len(), at)
        .map_err(|e| errors::to_py(&e))?;
    Ok(TrainingCurve { batch, ..curve })
}

/// The curve of [`from_rows`] without its batch sizes, the batch rows `(step, batch, row)`, and
/// the logged LR jumps the linear rule ramped (none with another rule).
fn loss_and_lr(
    name: String,
    rows: &Rows<'_>,
    fill: LrFill,
) -> Result<(TrainingCurve, Vec<BatchRow>, Vec<lrsde::data::LoggedJump>), String> {
    let nan = f64::NAN;
    let mut lr_rows: Vec<(u64, f64)> = Vec::new();
    let mut loss_rows: Vec<(u64, f64)> = Vec::new();
    let mut batch_rows: Vec<BatchRow> = Vec::new();
    for (i, (&s, (&l, &r))) in rows
        .step
        .iter()
        .zip(rows.loss.iter().zip(rows.lr))
        .enumerate()
    {
        let b = rows.batch.map_or(nan, |(_, v)| v[i]);
        if l.is_nan() && r.is_nan() && b.is_nan() {
            continue;
        }
        if !(s.is_finite()
            && s >= 1.0
            && s.fract() == 0.0
            && s <= lrsde::data::DEFAULT_MAX_STEPS as f64)
        {
            return Err(format!(
                "row {i}: step {s} is not a whole number in 1..={}",
                lrsde::data::DEFAULT_MAX_STEPS
            ));
        }
        let s = s as u64;
        let order = |what: &str, prev: Option<u64>| match prev {
            Some(prev) if s <= prev => Err(format!(
                "row {i}: step {s} is not after the previous {what} row's step {prev} (sort the \
                 rows by step and drop duplicates)"
            )),
            _ => Ok(()),
        };
        if !b.is_nan() {
            // The value itself is the library's to check (`batch_grid_from_rows`).
            order("batch", batch_rows.last().map(|r| r.0))?;
            batch_rows.push((s, b, i));
        }
        for (value, out, what) in [(r, &mut lr_rows, "lr"), (l, &mut loss_rows, "loss")] {
            if value.is_nan() {
                continue;
            }
            if !value.is_finite() {
                return Err(format!("row {i} (step {s}): {what} {value} is not finite"));
            }
            if what == "lr" && !LrGrid::valid_lr(value) {
                return Err(format!("row {i} (step {s}): lr {value} is negative"));
            }
            order(what, out.last().map(|r| r.0))?;
            out.push((s, value));
        }
    }
    let Some(&(last_loss, _)) = loss_rows.last() else {
        return Err("no loss values (every loss is NaN)".to_owned());
    };
    let Some(&(last_lr, _)) = lr_rows.last() else {
        return Err("no lr values (every lr is NaN)".to_owned());
    };
    let n = last_lr.max(last_loss);
    // Every row passed `valid_lr` and reconstruction only interpolates, so this cannot fail.
    let lrs = LrGrid::new(lrsde::data::reconstruct_lrs_with(
        &lr_rows,
        n,
        fill.warmup,
        fill.between,
    ))
    .map_err(|e| e.to_string())?;
    let jumps = if fill.between == LrBetweenRows::Linear {
        lrsde::data::logged_jumps(&lr_rows)
    } else {
        Vec::new()
    };
    let (steps, losses) = loss_rows.into_iter().unzip();
    let curve = TrainingCurve {
        name,
        lrs,
        steps,
        losses,
        batch: None,
    };
    Ok((curve, batch_rows, jumps))
}

/// Curves given to `fit`: a list of [`Curve`]s, or of paths read with the CLI's defaults.
pub fn curves(items: &Bound<'_, PyAny>) -> PyResult<Vec<TrainingCurve>> {
    let mut out = Vec::new();
    for item in items.try_iter()? {
        let item = item?;
        if let Ok(c) = item.cast::<Curve>() {
            out.push((*c.get().inner).clone());
        } else if let Ok(path) = item.extract::<PathBuf>() {
            out.push((*read_curve(items.py(), path, None, None, "auto", "linear")?.inner).clone());
        } else {
            return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "curves: expected lrsde.Curve objects or paths, got {}",
                item.get_type().name()?
            )));
        }
    }
    Ok(out)
}

/// A batch size as given: `(step, batch size, row index)`.
type BatchRow = (u64, f64, usize);

/// A pickled [`Curve`]: name, per-update LRs, observed steps and losses, batch sizes.
type CurveParts = (String, Vec<f64>, Vec<u64>, Vec<f64>, Option<Vec<f64>>);
