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
    /// `(curve, observed)` index pairs drawn in one colour, with their residuals.
    fitted: Vec<(usize, usize)>,
    subtitle: Option<String>,
    log_loss: Option<bool>,
    from_step: Option<u64>,
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
            fitted: Vec::new(),
            subtitle: None,
            log_loss: None,
            from_step: None,
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

    /// Adds a predicted curve together with the observed run it predicts: both are drawn in
    /// one colour, and a residual panel (observed − predicted, with the band around zero)
    /// appears under the loss panel.
    ///
    /// ```
    /// use lrsde::plot::{CurveChart, ObservedPoints, PredictedCurve};
    /// let chart = CurveChart::new("Held-out check").with_fitted(
    ///     PredictedCurve::new("wsd", vec![1, 2, 3], vec![3.0, 2.9, 2.8]),
    ///     ObservedPoints { label: "wsd".into(), steps: vec![2, 3], losses: vec![2.92, 2.79] },
    /// );
    /// # let _ = chart;
    /// ```
    #[must_use]
    pub fn with_fitted(mut self, curve: PredictedCurve, observed: ObservedPoints) -> Self {
        self.fitted.push((self.curves.len(), self.observed.len()));
        self.curves.push(curve);
        self.observed.push(observed);
        self
    }

    /// A second, smaller title line (e.g. what the plotted schedules have in common).
    #[must_use]
    pub fn with_subtitle(mut self, subtitle: impl Into<String>) -> Self {
        self.subtitle = Some(subtitle.into());
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
    /// where schedules differ — fills the chart. By default the axis starts where the LR
    /// traces end their warmup (first reach their peak), or at 5 % of the longest series
    /// when no trace has a warmup.
    #[must_use]
    pub fn from_step(mut self, step: u64) -> Self {
        self.from_step = Some(step);
        self
    }

    /// The first step shown: [`Self::from_step`] if set, else the end of the warmup.
    ///
    /// ```
    /// use lrsde::plot::CurveChart;
    /// let lrs: Vec<f64> = (0..1000).map(|t| 1e-3 * ((t + 1) as f64 / 100.0).min(1.0)).collect();
    /// assert_eq!(CurveChart::new("t").with_lr_trace("a", lrs.clone()).first_step(), 100);
    /// assert_eq!(CurveChart::new("t").with_lr_trace("a", lrs).from_step(7).first_step(), 7);
    /// ```
    pub fn first_step(&self) -> u64 {
        if let Some(step) = self.from_step {
            return step;
        }
        // The step at which each trace first reaches its peak; a trace that starts at its
        // peak has no warmup.
        let warmup_end = self
            .lr_traces
            .iter()
            .filter_map(|(_, lrs)| {
                let peak = lrs
                    .iter()
                    .copied()
                    .filter(|v| v.is_finite())
                    .fold(0.0, f64::max);
                let first = lrs.iter().position(|&v| v >= peak * (1.0 - 1e-9))?;
                (peak > 0.0 && first > 0).then_some(first as u64 + 1)
            })
            .max();
        warmup_end.unwrap_or_else(|| self.last_step() / 20)
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
        self.rendered(path)?.write()
    }

    /// Draws the chart into memory as [`Self::render`] would, without writing it.
    ///
    /// # Errors
    /// [`PlotError::UnsupportedFormat`], [`PlotError::Empty`] (also when the first step shown
    /// lies past the last step of every series) or [`PlotError::Render`].
    pub fn rendered(&self, path: &Path) -> Result<super::Rendered, PlotError> {
        super::format_of(path)?;
        let (from, last) = (self.first_step(), self.last_step());
        if from > last {
            return Err(PlotError::Empty(format!(
                "the first step shown ({from}) is past the last step ({last})"
            )));
        }
        if self.loss_range(from).is_none() {
            return Err(PlotError::Empty(
                "no finite loss values in the plotted range".into(),
            ));
        }
        super::render_to(self, path)
    }

    fn last_step(&self) -> u64 {
        self.curves
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
            )
    }

    fn loss_range(&self, from: u64) -> Option<(f64, f64)> {
        let curve_vals = self.curves.iter().flat_map(|c| {
            let band = c.band.as_ref();
            c.steps
                .iter()
                .enumerate()
                .filter(move |(_, s)| **s >= from)
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
                .filter(move |(s, _)| **s >= from)
                .map(|(_, l)| l)
        });
        style::finite_range(curve_vals.chain(obs_vals).filter(|v| **v > 0.0))
    }

    fn use_log(&self, (lo, hi): (f64, f64)) -> bool {
        self.log_loss.unwrap_or(lo > 0.0 && hi / lo > 3.0)
    }

    /// The colour of observed series `i`: its curve's when fitted, else the next free one.
    fn observed_color(&self, i: usize) -> RGBColor {
        match self.fitted.iter().find(|(_, o)| *o == i) {
            Some((c, _)) => style::color(*c),
            None => {
                let unpaired = (0..i)
                    .filter(|j| !self.fitted.iter().any(|(_, o)| o == j))
                    .count();
                style::color(self.curves.len() + unpaired)
            }
        }
    }

    /// `(step, observed − predicted)` of every visible observed point of pair `(c, o)` inside
    /// the curve's step range.
    fn residuals(&self, (c, o): (usize, usize), from: u64) -> Vec<(f64, f64)> {
        let (curve, obs) = (&self.curves[c], &self.observed[o]);
        obs.steps
            .iter()
            .zip(&obs.losses)
            .filter(|(s, l)| **s >= from && l.is_finite())
            .filter_map(|(&s, &l)| Some((s as f64, l - interpolate(&curve.steps, &curve.loss, s)?)))
            .filter(|(_, r)| r.is_finite())
            .collect()
    }

    /// Draws the loss panel on a linear axis over `ty(loss)`: `ty` is the identity or `ln`, and
    /// the tick labels show the loss itself (plotters' own log axis labels only decades, which a
    /// loss spanning 2.5–10 never crosses).
    fn loss_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        x: (f64, f64),
        from: u64,
    ) -> Result<(), String> {
        let range = self.loss_range(from).ok_or("no finite loss values")?;
        let log = self.use_log(range);
        let y = if log {
            style::pad((range.0.ln(), range.1.ln()), 0.04)
        } else {
            style::pad(range, 0.04)
        };
        let ty = |v: f64| if log { v.ln() } else { v };
        // Ticks at round losses (2.7, 2.8 or 0.01, 0.02, 0.05), placed on the ln axis when log.
        let ticks = if log {
            loss_ticks(y.0.exp(), y.1.exp(), true)
        } else {
            loss_ticks(y.0, y.1, false)
        };
        let decimals = tick_decimals(&ticks);
        let label = move |v: &f64| tick_label(if log { v.exp() } else { *v }, decimals);
        let key_points: Vec<f64> = ticks.iter().map(|&v| ty(v)).collect();
        let font = (style::FAMILY, 18).into_font();
        let mut builder = ChartBuilder::on(area);
        builder
            .margin(12)
            .margin_right(36)
            .x_label_area_size(30)
            .y_label_area_size(80);
        let mut chart = builder
            .build_cartesian_2d(Ticked::new(x, step_ticks(x)), Ticked::new(y, key_points))
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .y_desc(if log { "loss (log scale)" } else { "loss" })
            .y_labels(20)
            .x_labels(12)
            .y_label_formatter(&label)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .label_style(font.clone())
            .axis_desc_style(font.clone())
            .light_line_style(WHITE)
            .draw()
            .map_err(|e| e.to_string())?;

        // Every drawn point in pixels, for placing the legend where it hides the least.
        let mut drawn: Vec<(f64, f64)> = Vec::new();
        for (i, curve) in self.curves.iter().enumerate() {
            let color = style::color(i);
            let idx = thin(visible_indices(&curve.steps, from));
            if let Some((lo, hi)) = &curve.band {
                let upper = idx.iter().map(|&j| (curve.steps[j] as f64, hi[j]));
                let lower = idx.iter().rev().map(|&j| (curve.steps[j] as f64, lo[j]));
                let outline: Vec<(f64, f64)> = upper
                    .chain(lower)
                    .filter(|(_, v)| v.is_finite() && *v > 0.0)
                    .map(|(s, v)| (s, ty(v)))
                    .collect();
                drawn.extend(&outline);
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        outline,
                        color.mix(0.18).filled(),
                    )))
                    .map_err(|e| e.to_string())?;
            }
            let points: Vec<(f64, f64)> = idx
                .iter()
                .map(|&j| (curve.steps[j] as f64, curve.loss[j]))
                .filter(|(_, v)| v.is_finite() && *v > 0.0)
                .map(|(s, v)| (s, ty(v)))
                .collect();
            drawn.extend(&points);
            let paired = self.fitted.iter().any(|(c, _)| *c == i);
            // A line through one point draws nothing: a lone prediction is a marker, with its
            // band as an error bar.
            if let [(step, v)] = points[..] {
                let bar = curve
                    .band
                    .as_ref()
                    .map(|(lo, hi)| (lo[idx[0]], hi[idx[0]]))
                    .filter(|(lo, hi)| lo.is_finite() && *lo > 0.0 && hi.is_finite());
                if let Some((lo, hi)) = bar {
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            [(step, ty(lo)), (step, ty(hi))],
                            color.stroke_width(2),
                        )))
                        .map_err(|e| e.to_string())?;
                }
                chart
                    .draw_series(std::iter::once(Circle::new((step, v), 5, color.filled())))
                    .map_err(|e| e.to_string())?;
            }
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(&curve.label)
                .legend(move |(x, y)| {
                    let line = PathElement::new([(x, y), (x + 20, y)], color.stroke_width(3));
                    let dot = Circle::new((x + 10, y), if paired { 4 } else { 0 }, color.filled());
                    EmptyElement::at((0, 0)) + line + dot
                });
        }
        for (i, obs) in self.observed.iter().enumerate() {
            let color = self.observed_color(i);
            let paired = self.fitted.iter().any(|(_, o)| *o == i);
            let points: Vec<(f64, f64)> = obs
                .steps
                .iter()
                .zip(&obs.losses)
                .filter(|(s, l)| **s >= from && l.is_finite() && **l > 0.0)
                .map(|(s, l)| (*s as f64, ty(*l)))
                .collect();
            drawn.extend(&points);
            // Fitted runs: hollow markers, so the prediction through them stays visible; their
            // legend entry is the curve's.
            let series = chart
                .draw_series(points.into_iter().map(|p| {
                    let style = if paired {
                        color.stroke_width(1)
                    } else {
                        color.filled()
                    };
                    Circle::new(p, 3, style)
                }))
                .map_err(|e| e.to_string())?;
            if !paired {
                series
                    .label(&obs.label)
                    .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
            }
        }
        let origin = chart.plotting_area().get_base_pixel();
        let (w, h) = chart.plotting_area().dim_in_pixel();
        let pixels: Vec<(i32, i32)> = drawn
            .iter()
            .map(|p| {
                let (px, py) = chart.backend_coord(p);
                (px - origin.0, py - origin.1)
            })
            .collect();
        let labels: Vec<&str> = self
            .curves
            .iter()
            .map(|c| c.label.as_str())
            .chain(
                self.observed
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !self.fitted.iter().any(|(_, o)| o == i))
                    .map(|(_, o)| o.label.as_str()),
            )
            .collect();
        let text_w = labels
            .iter()
            .map(|l| {
                area.estimate_text_size(l, &font.clone().into())
                    .map_or(0, |(w, _)| w as i32)
            })
            .max()
            .unwrap_or(0);
        // Plotters' legend box: the text, a 30-pixel key column and 10-pixel margins.
        let legend = (text_w + 50, labels.len() as i32 * 23 + 20);
        let position = legend_position(&pixels, (w as i32, h as i32), legend);
        chart
            .configure_series_labels()
            .position(position)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .label_font(font)
            .draw()
            .map_err(|e| e.to_string())
    }

    /// Observed − predicted for each fitted pair, with each prediction's band around zero.
    fn residual_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        x: (f64, f64),
        from: u64,
    ) -> Result<(), String> {
        let font = (style::FAMILY, 18).into_font();
        let residuals: Vec<Vec<(f64, f64)>> = self
            .fitted
            .iter()
            .map(|&p| self.residuals(p, from))
            .collect();
        let bands: Vec<Vec<(f64, f64, f64)>> = self
            .fitted
            .iter()
            .map(|&(c, _)| {
                let curve = &self.curves[c];
                let Some((lo, hi)) = &curve.band else {
                    return Vec::new();
                };
                thin(visible_indices(&curve.steps, from))
                    .into_iter()
                    .map(|j| {
                        (
                            curve.steps[j] as f64,
                            lo[j] - curve.loss[j],
                            hi[j] - curve.loss[j],
                        )
                    })
                    .filter(|(_, a, b)| a.is_finite() && b.is_finite())
                    .collect()
            })
            .collect();
        let values = residuals
            .iter()
            .flatten()
            .map(|(_, r)| r)
            .chain(bands.iter().flatten().flat_map(|(_, a, b)| [a, b]))
            .chain(std::iter::once(&0.0));
        let (y, ticks) = residual_axis(values);
        let decimals = tick_decimals(&ticks);
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .margin_right(36)
            .x_label_area_size(30)
            .y_label_area_size(80)
            .build_cartesian_2d(Ticked::new(x, step_ticks(x)), Ticked::new(y, ticks))
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .y_desc("obs − pred")
            .y_labels(20)
            .x_labels(12)
            .y_label_formatter(&|v| {
                if v.abs() < 1e-12 {
                    "0".to_string()
                } else {
                    format!("{v:+.decimals$}")
                }
            })
            .x_label_formatter(&|v| format!("{v:.0}"))
            .label_style(font.clone())
            .axis_desc_style(font)
            .light_line_style(WHITE)
            .draw()
            .map_err(|e| e.to_string())?;
        for ((&(c, _), res), band) in self.fitted.iter().zip(&residuals).zip(&bands) {
            let color = style::color(c);
            if !band.is_empty() {
                let outline: Vec<(f64, f64)> = band
                    .iter()
                    .map(|(s, _, b)| (*s, *b))
                    .chain(band.iter().rev().map(|(s, a, _)| (*s, *a)))
                    .collect();
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        outline,
                        color.mix(0.18).filled(),
                    )))
                    .map_err(|e| e.to_string())?;
            }
            chart
                .draw_series(LineSeries::new(res.iter().copied(), color.stroke_width(1)))
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(res.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(|e| e.to_string())?;
        }
        chart
            .draw_series(LineSeries::new(
                [(x.0, 0.0), (x.1, 0.0)],
                BLACK.stroke_width(1),
            ))
            .map_err(|e| e.to_string())?;
        Ok(())
    }

    fn lr_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        x: (f64, f64),
        from: u64,
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
            .y_label_area_size(80)
            .build_cartesian_2d(Ticked::new(x, step_ticks(x)), 0.0..top)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("step")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_desc("learning rate")
            .x_labels(12)
            .y_labels(5)
            .y_label_formatter(&|v| lr_label(*v))
            .label_style(font.clone())
            .axis_desc_style(font)
            .light_line_style(WHITE)
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, (_, lrs)) in self.lr_traces.iter().enumerate() {
            let steps: Vec<u64> = (1..=lrs.len() as u64).collect();
            let idx = thin(visible_indices(&steps, from));
            let points = idx.iter().map(|&j| (steps[j] as f64, lrs[j]));
            chart
                .draw_series(LineSeries::new(points, style::color(i).stroke_width(2)))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

impl Drawable for CurveChart {
    fn size(&self) -> (u32, u32) {
        if self.fitted.is_empty() {
            self.size
        } else {
            (self.size.0, self.size.1 + 220)
        }
    }

    fn draw<DB: DrawingBackend>(&self, area: DrawingArea<DB, Shift>) -> Result<(), String> {
        area.fill(&WHITE).map_err(|e| e.to_string())?;
        let from = self.first_step();
        let x = (
            from as f64,
            (self.last_step() as f64).max(from as f64 + 1.0),
        );
        let height = self.size().1;
        let area = area.margin(8, 0, 0, 0);
        let area = area
            .titled(&self.title, (style::FAMILY, 26))
            .map_err(|e| e.to_string())?;
        let area = match &self.subtitle {
            Some(s) => area
                .titled(
                    s,
                    (style::FAMILY, 17).into_font().color(&RGBColor(80, 80, 80)),
                )
                .map_err(|e| e.to_string())?,
            None => area,
        };
        // Panel heights in pixels: residuals 200, LR 250, the loss panel the rest.
        let mut cuts = Vec::new();
        let mut rest = area.dim_in_pixel().1;
        let lr = !self.lr_traces.is_empty();
        let res = !self.fitted.is_empty();
        let lr_h = if lr { 250.min(height / 3) } else { 0 };
        let res_h = if res { 200 } else { 0 };
        rest = rest.saturating_sub(lr_h + res_h);
        cuts.push(rest);
        if res {
            cuts.push(rest + res_h);
        }
        let panels = area.split_by_breakpoints(Vec::<u32>::new(), cuts);
        self.loss_panel(&panels[0], x, from)?;
        if res {
            self.residual_panel(&panels[1], x, from)?;
        }
        if lr {
            self.lr_panel(&panels[panels.len() - 1], x, from)?;
        }
        area.present().map_err(|e| e.to_string())
    }
}

/// The indices of `steps` at or after `from`.
fn visible_indices(steps: &[u64], from: u64) -> Vec<usize> {
    (0..steps.len()).filter(|&j| steps[j] >= from).collect()
}

/// `loss` at `step`, linear between the curve's steps; `None` outside them.
fn interpolate(steps: &[u64], loss: &[f64], step: u64) -> Option<f64> {
    match steps.binary_search(&step) {
        Ok(i) => loss.get(i).copied(),
        Err(0) => None,
        Err(i) if i >= steps.len() => None,
        Err(i) => {
            let (s0, s1) = (steps[i - 1] as f64, steps[i] as f64);
            let t = (step as f64 - s0) / (s1 - s0);
            Some(loss[i - 1] + t * (loss[i] - loss[i - 1]))
        }
    }
}

/// A linear f64 axis whose ticks are given (plotters' own picks 2.734, 2.961 … on a zoomed
/// loss axis, and on a ln axis values like 0.368).
struct Ticked {
    inner: plotters::coord::types::RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ticked {
    fn new((lo, hi): (f64, f64), ticks: Vec<f64>) -> Self {
        Self {
            inner: (lo..hi).into(),
            ticks,
        }
    }
}

impl plotters::coord::ranged1d::Ranged for Ticked {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: plotters::coord::ranged1d::KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        self.ticks.clone()
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

/// Round tick values inside `[lo, hi]`: steps of 1, 2 or 5 × 10^k giving 5–10 ticks; on a log
/// axis spanning more than a factor of 10, the 1-2-5 sequence of each decade instead.
fn loss_ticks(lo: f64, hi: f64, log: bool) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite() && hi > lo) {
        return vec![lo];
    }
    if log && lo > 0.0 && hi / lo > 10.0 {
        let mut out = Vec::new();
        let mut decade = 10f64.powi(lo.log10().floor() as i32);
        while decade <= hi {
            for m in [1.0, 2.0, 5.0] {
                let v = m * decade;
                if (lo..=hi).contains(&v) {
                    out.push(v);
                }
            }
            decade *= 10.0;
        }
        return out;
    }
    round_ticks(lo, hi, 10.0)
}

/// Step-axis ticks: round multiples of a 1, 2 or 5 × 10^k step that is at least one update, so
/// a short axis is labelled 0 1 2 3 … rather than 0 0 1 2 2 2 (fractional steps rounded).
fn step_ticks((lo, hi): (f64, f64)) -> Vec<f64> {
    if hi - lo <= 12.0 {
        return (lo.ceil() as i64..=hi.floor() as i64)
            .map(|s| s as f64)
            .collect();
    }
    round_ticks(lo, hi, 12.0)
}

/// The residual axis: symmetric about zero, so over- and under-prediction read alike, with
/// round ticks that always include the zero line's label.
fn residual_axis<'a>(values: impl IntoIterator<Item = &'a f64>) -> ((f64, f64), Vec<f64>) {
    let m = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(0.0_f64, |m, v| m.max(v.abs()));
    let m = if m > 0.0 { 1.08 * m } else { 1.0 };
    // Multiples of one step: with the range symmetric about 0, so are the ticks, and 0 is one.
    (
        (-m, m),
        round_ticks(-m, m, 6.0)
            .into_iter()
            .map(|t| if t == 0.0 { 0.0 } else { t })
            .collect(),
    )
}

/// Multiples of a 1, 2 or 5 × 10^k step inside `[lo, hi]`, about `n` to `2n` of them.
fn round_ticks(lo: f64, hi: f64, n: f64) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite() && hi > lo) {
        return vec![lo];
    }
    let raw = (hi - lo) / n;
    let mag = 10f64.powi(raw.log10().floor() as i32);
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// Decimals needed to tell the ticks apart (at most 6).
fn tick_decimals(ticks: &[f64]) -> usize {
    (0..=6)
        .find(|&d| {
            ticks
                .windows(2)
                .all(|w| format!("{:.d$}", w[0]) != format!("{:.d$}", w[1]))
                && ticks.iter().all(|t| {
                    (format!("{t:.d$}").parse::<f64>().unwrap_or(0.0) - t).abs()
                        <= 1e-9 * t.abs().max(1e-300)
                })
        })
        .unwrap_or(6)
}

/// A tick label with `decimals` decimals, in exponent form for tiny values.
fn tick_label(v: f64, decimals: usize) -> String {
    if v != 0.0 && v.abs() < 1e-3 {
        lr_label(v)
    } else {
        format!("{v:.decimals$}")
    }
}

/// LR tick labels: `0`, `1e-4`, `1.5e-4` rather than `0.0e0`, `1.0e-4`.
fn lr_label(v: f64) -> String {
    if v.abs() < 1e-300 {
        return "0".into();
    }
    let s = format!("{v:.1e}");
    match s.split_once('e') {
        Some((m, e)) => format!("{}e{e}", m.trim_end_matches('0').trim_end_matches('.')),
        None => s,
    }
}

/// Where the legend box (`size`, pixels) covers the fewest drawn `points` inside a plotting
/// area of `dim` pixels; ties go to the upper right, then upper left, lower left, lower right.
fn legend_position(
    points: &[(i32, i32)],
    dim: (i32, i32),
    size: (i32, i32),
) -> SeriesLabelPosition {
    use SeriesLabelPosition::*;
    let candidates = [
        UpperRight,
        UpperLeft,
        LowerLeft,
        LowerRight,
        UpperMiddle,
        LowerMiddle,
    ];
    let corner = |p: &SeriesLabelPosition| -> (i32, i32) {
        let x = match p {
            UpperLeft | LowerLeft => 5,
            UpperMiddle | LowerMiddle => (dim.0 - size.0) / 2,
            _ => dim.0 - size.0 - 5,
        };
        let y = match p {
            UpperLeft | UpperRight | UpperMiddle => 5,
            _ => dim.1 - size.1 - 5,
        };
        (x, y)
    };
    let covered = |p: &SeriesLabelPosition| {
        let (x0, y0) = corner(p);
        points
            .iter()
            .filter(|(x, y)| (x0..=x0 + size.0).contains(x) && (y0..=y0 + size.1).contains(y))
            .count()
    };
    let best = candidates
        .iter()
        .enumerate()
        .min_by_key(|(i, p)| (covered(p), *i))
        .map_or(0, |(i, _)| i);
    candidates.into_iter().nth(best).unwrap_or(UpperRight)
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
    fn loss_ticks_are_round_numbers_inside_the_range() {
        assert_eq!(loss_ticks(2.68, 3.52, false).len(), 9);
        let t = loss_ticks(2.68, 3.52, false);
        assert!((t[0] - 2.7).abs() < 1e-12 && (t[8] - 3.5).abs() < 1e-12);
        assert_eq!(tick_decimals(&t), 1);
        let log = loss_ticks(0.001, 0.4, true);
        let want = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2];
        assert_eq!(log.len(), want.len());
        for (a, b) in log.iter().zip(want) {
            assert!((a - b).abs() < 1e-12 * b, "{log:?}");
        }
    }

    #[test]
    fn step_ticks_are_distinct_whole_numbers() {
        assert_eq!(step_ticks((0.0, 5.0)), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(step_ticks((5.0, 6.0)), [5.0, 6.0]);
        let long = step_ticks((2160.0, 24000.0));
        assert_eq!(long.first(), Some(&4000.0));
        assert_eq!(long.last(), Some(&24000.0));
        assert!(long.windows(2).all(|w| w[1] - w[0] == 2000.0));
    }

    #[test]
    fn residual_ticks_are_symmetric_and_include_zero() {
        for m in [0.0254, 0.0031, 0.7, 13.0, 0.0] {
            let ((lo, hi), ticks) = residual_axis([-m / 3.0, m].iter());
            assert_eq!(lo, -hi);
            assert!(ticks.contains(&0.0), "{m}: {ticks:?}");
            assert!((3..=13).contains(&ticks.len()), "{m}: {ticks:?}");
            for t in &ticks {
                assert!(
                    ticks.iter().any(|u| (u + t).abs() < 1e-12),
                    "{m}: {ticks:?}"
                );
                assert!(*t >= lo && *t <= hi);
            }
        }
    }

    #[test]
    fn lr_labels_drop_needless_digits() {
        assert_eq!(lr_label(0.0), "0");
        assert_eq!(lr_label(3e-4), "3e-4");
        assert_eq!(lr_label(1.5e-4), "1.5e-4");
    }

    #[test]
    fn interpolation_is_exact_on_steps_and_linear_between() {
        let (s, l) = ([10, 20, 40], [3.0, 2.0, 1.0]);
        assert_eq!(interpolate(&s, &l, 20), Some(2.0));
        assert_eq!(interpolate(&s, &l, 15), Some(2.5));
        assert_eq!(interpolate(&s, &l, 30), Some(1.5));
        assert_eq!(interpolate(&s, &l, 5), None);
        assert_eq!(interpolate(&s, &l, 41), None);
    }

    #[test]
    fn legend_avoids_the_corner_with_data() {
        // Data in the upper right only: the legend goes to the upper left.
        let pts: Vec<(i32, i32)> = (0..50).map(|k| (900 + k, 10 + k)).collect();
        assert!(matches!(
            legend_position(&pts, (1000, 600), (300, 100)),
            SeriesLabelPosition::UpperLeft
        ));
        assert!(matches!(
            legend_position(&[], (1000, 600), (300, 100)),
            SeriesLabelPosition::UpperRight
        ));
    }

    #[test]
    fn first_step_defaults_to_the_end_of_warmup() {
        let warm: Vec<f64> = (0..1000)
            .map(|t| ((t + 1) as f64 / 50.0).min(1.0))
            .collect();
        let chart = CurveChart::new("t").with_lr_trace("a", warm);
        assert_eq!(chart.first_step(), 50);
        let flat = CurveChart::new("t").with_lr_trace("a", vec![1.0; 1000]);
        assert_eq!(flat.first_step(), 50);
        assert_eq!(flat.from_step(3).first_step(), 3);
    }

    #[test]
    fn log_axis_chosen_for_wide_ranges_only() {
        let c = CurveChart::new("t");
        assert!(c.use_log((1.0, 10.0)));
        assert!(!c.use_log((2.5, 3.5)));
        assert!(!c.clone().with_log_loss(false).use_log((1.0, 10.0)));
    }
}
