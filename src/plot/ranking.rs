//! The ranking chart: predicted final loss per candidate with its band, best at the top;
//! diverged candidates are listed at the bottom in red.

use super::{Drawable, PlotError, style};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// One candidate in a ranking chart.
#[derive(Debug, Clone, PartialEq)]
pub struct RankBar {
    /// The candidate (spec string or file name).
    pub label: String,
    /// Predicted final loss.
    pub loss: f64,
    /// Lower edge of the band.
    pub lo: f64,
    /// Upper edge of the band.
    pub hi: f64,
    /// Whether the candidate diverged (its loss is then not drawn).
    pub diverged: bool,
}

/// Predicted final losses of ranked candidates.
#[derive(Debug, Clone, PartialEq)]
pub struct RankChart {
    title: String,
    bars: Vec<RankBar>,
}

impl RankChart {
    /// A chart of `bars`, drawn top to bottom in the given order (pass them best first).
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// use lrsde::plot::{RankBar, RankChart};
    /// let bar = |label: &str, loss: f64| RankBar {
    ///     label: label.into(), loss, lo: loss - 0.01, hi: loss + 0.01, diverged: false,
    /// };
    /// let path = dir.path().join("rank.svg");
    /// RankChart::new("Final loss", vec![bar("wsd", 2.70), bar("cosine", 2.72)])
    ///     .render(&path)
    ///     .unwrap();
    /// assert!(path.exists());
    /// ```
    pub fn new(title: impl Into<String>, bars: Vec<RankBar>) -> Self {
        Self {
            title: title.into(),
            bars,
        }
    }

    /// Writes the chart as PNG or SVG, chosen by `path`'s extension.
    pub fn render(&self, path: &Path) -> Result<(), PlotError> {
        self.rendered(path)?.write()
    }

    /// Draws the chart into memory as [`Self::render`] would, without writing it.
    ///
    /// # Errors
    /// [`PlotError::UnsupportedFormat`], [`PlotError::Empty`] or [`PlotError::Render`].
    pub fn rendered(&self, path: &Path) -> Result<super::Rendered, PlotError> {
        super::format_of(path)?;
        if self.value_range().is_none() {
            return Err(PlotError::Empty(
                "no candidate has a finite predicted loss".into(),
            ));
        }
        super::render_to(self, path)
    }

    fn value_range(&self) -> Option<(f64, f64)> {
        style::finite_range(
            self.bars
                .iter()
                .filter(|b| !b.diverged)
                .flat_map(|b| [&b.loss, &b.lo, &b.hi]),
        )
    }
}

impl Drawable for RankChart {
    fn size(&self) -> (u32, u32) {
        (1100, 140 + 44 * self.bars.len().max(1) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, area: DrawingArea<DB, Shift>) -> Result<(), String> {
        area.fill(&WHITE).map_err(|e| e.to_string())?;
        let font = (style::FAMILY, 17).into_font();
        let (lo, hi) = style::pad(self.value_range().ok_or("no finite values")?, 0.08);
        let n = self.bars.len();
        let label_width = self
            .bars
            .iter()
            .map(|b| b.label.chars().count())
            .max()
            .unwrap_or(8)
            .min(60) as u32;
        let mut chart = ChartBuilder::on(&area)
            .caption(&self.title, (style::FAMILY, 24))
            .margin(14)
            .x_label_area_size(45)
            .y_label_area_size(20 + 9 * label_width)
            .build_cartesian_2d(lo..hi, 0.0..n as f64)
            .map_err(|e| e.to_string())?;
        let labels: Vec<String> = self.bars.iter().map(|b| b.label.clone()).collect();
        // Row i (best first) sits at y = n - i - 0.5 so the best candidate is on top.
        let row_label = move |y: &f64| {
            let i = n as f64 - y - 0.5;
            let r = i.round();
            if (i - r).abs() < 0.01 && r >= 0.0 && (r as usize) < labels.len() {
                labels[r as usize].clone()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(2 * n + 1)
            .y_label_formatter(&row_label)
            .x_desc("predicted final loss")
            .label_style(font.clone())
            .axis_desc_style(font.clone())
            .light_line_style(WHITE)
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, bar) in self.bars.iter().enumerate() {
            let y = n as f64 - i as f64 - 0.5;
            if bar.diverged || !bar.loss.is_finite() {
                chart
                    .draw_series(std::iter::once(Text::new(
                        "diverged",
                        (lo, y),
                        font.clone().color(&RED),
                    )))
                    .map_err(|e| e.to_string())?;
                continue;
            }
            let color = style::color(i);
            chart
                .draw_series(std::iter::once(PathElement::new(
                    [(bar.lo, y), (bar.hi, y)],
                    color.stroke_width(3),
                )))
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(std::iter::once(Circle::new(
                    (bar.loss, y),
                    6,
                    color.filled(),
                )))
                .map_err(|e| e.to_string())?;
        }
        area.present().map_err(|e| e.to_string())
    }
}
