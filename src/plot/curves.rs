//! The curve chart: predicted loss curves with uncertainty bands and observed points on top, the
//! LR schedules in a panel underneath sharing the step axis.

use super::{Drawable, PlotError, style};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Lines with more points than this are thinned (evenly, keeping the ends) before drawing:
/// a 1200-pixel-wide chart cannot show more, and SVGs stay small.
const MAX_LINE_POINTS: usize = 2400;

/// A predicted loss curve, optionally with an uncertainty band.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictedCurve {
    /// Legend label.
    pub label: String,
    /// Steps (x).
    pub steps: Vec<u64>,
    /// Predicted loss at each step.
    pub loss: Vec<f64>,
    /// Lower and upper edge of the band at each step.
    pub band: Option<(Vec<f64>, Vec<f64>)>,
}

impl PredictedCurve {
    /// A curve without a band.
    ///
    /// ```
    /// let c = lrsde::plot::PredictedCurve::new("wsd", vec![1, 2], vec![3.0, 2.9]);
    /// assert!(c.band.is_none());
    /// ```
    pub fn new(label: impl Into<String>, steps: Vec<u64>, loss: Vec<f64>) -> Self {
        Self {
            label: label.into(),
            steps,
            loss,
            band: None,
        }
    }

    /// Adds a band (`lo[i] <= loss[i] <= hi[i]`).
    ///
    /// ```
    /// let c = lrsde::plot::PredictedCurve::new("wsd", vec![1], vec![3.0])
    ///     .with_band(vec![2.9], vec![3.1]);
    /// assert!(c.band.is_some());
    /// ```
    #[must_use]
    pub fn with_band(mut self, lo: Vec<f64>, hi: Vec<f64>) -> Self {
        self.band = Some((lo, hi));
        self
    }
}

/// Observed losses of a training run, drawn as markers.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedPoints {
    /// Legend label.
    pub label: String,
    /// Steps (x).
    pub steps: Vec<u64>,
    /// Observed losses.
    pub losses: Vec<f64>,
}

/// A chart of predicted curves over an LR panel.
#[derive(Debug, Clone, PartialEq)]
pub struct CurveChart {
    title: String,
    curves: Vec<PredictedCurve>,
    observed: Vec<ObservedPoints>,
    lr_traces: Vec<(String, Vec<f64>)>,
    log_loss: Option<bool>,
    from_step: u64,
    size: (u32, u32),
}

impl CurveChart {
    /// An empty chart with a title.
    ///
    /// ```
    /// let chart = lrsde::plot::CurveChart::new("Predicted loss");
    /// # let _ = chart;
    /// ```
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            curves: Vec::new(),
            observed: Vec::new(),
            lr_traces: Vec::new(),
            log_loss: None,
            from_step: 0,
            size: (1200, 860),
        }
    }

    /// Adds a predicted curve.
    #[must_use]
    pub fn with_curve(mut self, curve: PredictedCurve) -> Self {
        self.curves.push(curve);
        self
    }

    /// Adds observed points.
    #[must_use]
    pub fn with_observed(mut self, points: ObservedPoints) -> Self {
        self.observed.push(points);
        self
    }

    /// Adds a schedule to the LR panel: `lrs[t]` is the LR of update `t + 1`.
    #[must_use]
    pub fn with_lr_trace(mut self, label: impl Into<String>, lrs: Vec<f64>) -> Self {
        self.lr_traces.push((label.into(), lrs));
        self
    }

    /// Forces a log-scaled (or linear) loss axis. By default the axis is log-scaled when the
    /// plotted losses span more than a factor of 3, where a linear axis would flatten the tail.
    #[must_use]
    pub fn with_log_loss(mut self, log: bool) -> Self {
        self.log_loss = Some(log);
        self
    }

    /// Starts the step axis at `step`, hiding the early transient so the end of training —
    /// where schedules differ — fills the chart.
    #[must_use]
    pub fn from_step(mut self, step: u64) -> Self {
        self.from_step = step;
        self
    }

    /// Writes the chart as PNG or SVG, chosen by `path`'s extension.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// use lrsde::plot::{CurveChart, PredictedCurve};
    /// let path = dir.path().join("curves.svg");
    /// CurveChart::new("demo")
    ///     .with_curve(PredictedCurve::new("a", vec![1, 2, 3], vec![3.0, 2.5, 2.4]))
    ///     .render(&path)
    ///     .unwrap();
    /// assert!(std::fs::read_to_string(&path).unwrap().contains("<svg"));
    /// ```
    pub fn render(&self, path: &Path) -> Result<(), PlotError> {
        if self.loss_range().is_none() {
            return Err(PlotError::Empty(
                "no finite loss values in the plotted range".into(),
            ));
        }
        super::render_to(self, path)
    }

    fn visible(&self, step: u64) -> bool {
        step >= self.from_step
    }

    fn step_range(&self) -> (f64, f64) {
        let last = self
            .curves
            .iter()
            .flat_map(|c| c.steps.last())
            .chain(self.observed.iter().flat_map(|o| o.steps.last()))
            .copied()
            .max()
            .unwrap_or(1)
            .max(
                self.lr_traces
                    .iter()
                    .map(|(_, l)| l.len() as u64)
                    .max()
                    .unwrap_or(0),
            );
        (
            self.from_step as f64,
            (last as f64).max(self.from_step as f64 + 1.0),
        )
    }

    fn loss_range(&self) -> Option<(f64, f64)> {
        let curve_vals = self.curves.iter().flat_map(|c| {
            let band = c.band.as_ref();
            c.steps
                .iter()
                .enumerate()
                .filter(|(_, s)| self.visible(**s))
                .flat_map(move |(i, _)| {
                    let mut v = vec![&c.loss[i]];
                    if let Some((lo, hi)) = band {
                        v.extend([&lo[i], &hi[i]]);
                    }
                    v
                })
        });
        let obs_vals = self.observed.iter().flat_map(|o| {
            o.steps
                .iter()
                .zip(&o.losses)
                .filter(|(s, _)| self.visible(**s))
                .map(|(_, l)| l)
        });
        style::finite_range(curve_vals.chain(obs_vals).filter(|v| **v > 0.0))
    }

    fn use_log(&self, (lo, hi): (f64, f64)) -> bool {
        self.log_loss.unwrap_or(lo > 0.0 && hi / lo > 3.0)
    }

    /// Draws the loss panel on a linear axis over `ty(loss)`: `ty` is the identity or `ln`, and
    /// the tick labels show the loss itself (plotters' own log axis labels only decades, which a
    /// loss spanning 2.5–10 never crosses).
    fn loss_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        x: (f64, f64),
        y: (f64, f64),
        log: bool,
    ) -> Result<(), String> {
        let ty = |v: f64| if log { v.ln() } else { v };
        let label = move |v: &f64| format!("{:.3}", if log { v.exp() } else { *v });
        let font = (style::FAMILY, 18).into_font();
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, (style::FAMILY, 26))
            .margin(12)
            .margin_right(36)
            .x_label_area_size(30)
            .y_label_area_size(70)
            .build_cartesian_2d(x.0..x.1, y.0..y.1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .y_desc(if log { "loss (log scale)" } else { "loss" })
            .y_labels(12)
            .x_labels(12)
            .y_label_formatter(&label)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .label_style(font.clone())
            .axis_desc_style(font.clone())
            .light_line_style(WHITE)
            .draw()
            .map_err(|e| e.to_string())?;

        for (i, curve) in self.curves.iter().enumerate() {
            let color = style::color(i);
            if let Some((lo, hi)) = &curve.band {
                let idx = thin(self.visible_indices(&curve.steps));
                let upper = idx.iter().map(|&j| (curve.steps[j] as f64, hi[j]));
                let lower = idx.iter().rev().map(|&j| (curve.steps[j] as f64, lo[j]));
                let outline: Vec<(f64, f64)> = upper
                    .chain(lower)
                    .filter(|(_, v)| v.is_finite() && *v > 0.0)
                    .map(|(s, v)| (s, ty(v)))
                    .collect();
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        outline,
                        color.mix(0.18).filled(),
                    )))
                    .map_err(|e| e.to_string())?;
            }
            let idx = thin(self.visible_indices(&curve.steps));
            let points = idx
                .iter()
                .map(|&j| (curve.steps[j] as f64, curve.loss[j]))
                .filter(|(_, v)| v.is_finite() && *v > 0.0)
                .map(|(s, v)| (s, ty(v)));
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(&curve.label)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(3))
                });
        }
        for (i, obs) in self.observed.iter().enumerate() {
            let color = style::color(self.curves.len() + i);
            let points = obs
                .steps
                .iter()
                .zip(&obs.losses)
                .filter(|(s, l)| self.visible(**s) && l.is_finite() && **l > 0.0)
                .map(|(s, l)| (*s as f64, ty(*l)));
            chart
                .draw_series(points.map(|p| Circle::new(p, 3, color.filled())))
                .map_err(|e| e.to_string())?
                .label(&obs.label)
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .label_font(font)
            .draw()
            .map_err(|e| e.to_string())
    }

    fn lr_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        x: (f64, f64),
    ) -> Result<(), String> {
        let font = (style::FAMILY, 18).into_font();
        let max_lr = self
            .lr_traces
            .iter()
            .flat_map(|(_, l)| l.iter())
            .copied()
            .filter(|v| v.is_finite())
            .fold(0.0_f64, f64::max);
        let top = if max_lr > 0.0 { max_lr * 1.08 } else { 1.0 };
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .margin_right(36)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(x.0..x.1, 0.0..top)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("step")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_desc("learning rate")
            .x_labels(12)
            .y_labels(5)
            .y_label_formatter(&|v| format!("{v:.1e}"))
            .label_style(font.clone())
            .axis_desc_style(font)
            .light_line_style(WHITE)
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, (_, lrs)) in self.lr_traces.iter().enumerate() {
            let steps: Vec<u64> = (1..=lrs.len() as u64).collect();
            let idx = thin(self.visible_indices(&steps));
            let points = idx.iter().map(|&j| (steps[j] as f64, lrs[j]));
            chart
                .draw_series(LineSeries::new(points, style::color(i).stroke_width(2)))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn visible_indices(&self, steps: &[u64]) -> Vec<usize> {
        (0..steps.len())
            .filter(|&j| self.visible(steps[j]))
            .collect()
    }
}

impl Drawable for CurveChart {
    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn draw<DB: DrawingBackend>(&self, area: DrawingArea<DB, Shift>) -> Result<(), String> {
        area.fill(&WHITE).map_err(|e| e.to_string())?;
        let x = self.step_range();
        let (loss_area, lr_area) = if self.lr_traces.is_empty() {
            (area.clone(), None)
        } else {
            let (top, bottom) = area.split_vertically(self.size.1 * 68 / 100);
            (top, Some(bottom))
        };
        let range = self.loss_range().ok_or("no finite loss values")?;
        let log = self.use_log(range);
        let y = if log {
            style::pad((range.0.ln(), range.1.ln()), 0.04)
        } else {
            style::pad(range, 0.04)
        };
        self.loss_panel(&loss_area, x, y, log)?;
        if let Some(lr_area) = lr_area {
            self.lr_panel(&lr_area, x)?;
        }
        area.present().map_err(|e| e.to_string())
    }
}

/// At most [`MAX_LINE_POINTS`] of `idx`, evenly spaced, always keeping the first and last.
fn thin(idx: Vec<usize>) -> Vec<usize> {
    if idx.len() <= MAX_LINE_POINTS {
        return idx;
    }
    let n = idx.len();
    let mut out: Vec<usize> = (0..MAX_LINE_POINTS)
        .map(|k| idx[k * (n - 1) / (MAX_LINE_POINTS - 1)])
        .collect();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_ends_and_bounds_size() {
        let idx: Vec<usize> = (0..100_000).collect();
        let t = thin(idx);
        assert!(t.len() <= MAX_LINE_POINTS);
        assert_eq!(t[0], 0);
        assert_eq!(*t.last().unwrap(), 99_999);
    }

    #[test]
    fn log_axis_chosen_for_wide_ranges_only() {
        let c = CurveChart::new("t");
        assert!(c.use_log((1.0, 10.0)));
        assert!(!c.use_log((2.5, 3.5)));
        assert!(!c.clone().with_log_loss(false).use_log((1.0, 10.0)));
    }
}
