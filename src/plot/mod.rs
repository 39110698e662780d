//! Pictures of predicted loss curves and rankings (feature `plot`).
//!
//! Charts render to PNG or SVG, chosen by the output file's extension, with a bundled font
//! (DejaVu Sans) so neither system fonts nor fontconfig are needed. Files are written
//! atomically: a failed render never leaves a partial picture behind.
//!
//! ```no_run
//! use lrsde::plot::{CurveChart, PredictedCurve};
//! let chart = CurveChart::new("Predicted loss")
//!     .with_curve(PredictedCurve::new("cosine", vec![1, 2, 3], vec![3.0, 2.9, 2.8]))
//!     .with_lr_trace("cosine", vec![0.1, 0.05, 0.0]);
//! chart.render(std::path::Path::new("curves.png")).unwrap();
//! ```

mod curves;
mod labels;
mod ranking;
mod style;

pub use curves::{CurveChart, ObservedPoints, PredictedCurve};
pub use labels::{MAX_LABEL_CHARS, legend_labels, shorten};
pub use ranking::{RankBar, RankChart};

use std::path::{Path, PathBuf};
use thiserror::Error;

/// Errors rendering a chart.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PlotError {
    /// The output extension is neither `.png` nor `.svg`.
    #[error("{path}: unsupported plot format; use a .png or .svg file name")]
    UnsupportedFormat {
        /// The requested output path.
        path: PathBuf,
    },
    /// There is nothing finite to draw.
    #[error("nothing to plot: {0}")]
    Empty(String),
    /// The drawing backend failed.
    #[error("{path}: cannot render plot: {message}")]
    Render {
        /// The output path.
        path: PathBuf,
        /// The backend's message.
        message: String,
    },
    /// Writing or renaming the output failed.
    #[error("{path}: cannot write plot: {source}")]
    Io {
        /// The output path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Output formats, chosen by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Png,
    Svg,
}

fn format_of(path: &Path) -> Result<Format, PlotError> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => Ok(Format::Png),
        Some("svg") => Ok(Format::Svg),
        _ => Err(PlotError::UnsupportedFormat {
            path: path.to_path_buf(),
        }),
    }
}

/// Something that draws itself onto any plotters backend.
///
/// Plotters backends are generic (not object safe), so charts implement this once and
/// [`render_to`] instantiates it for the PNG and the SVG backend.
trait Drawable {
    /// Pixel size of the picture.
    fn size(&self) -> (u32, u32);
    /// Draws onto `area`; errors are the backend's messages.
    fn draw<DB: plotters::prelude::DrawingBackend>(
        &self,
        area: plotters::drawing::DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), String>;
}

/// Renders `chart` onto the backend matching `path`'s extension, atomically.
///
/// PNGs are drawn into an in-memory RGB buffer and encoded here; SVGs into a string. Either way
/// the bytes reach the disk through [`crate::io::write_atomic`].
fn render_to<C: Drawable>(chart: &C, path: &Path) -> Result<(), PlotError> {
    use plotters::prelude::{BitMapBackend, IntoDrawingArea, SVGBackend};
    style::ensure_font();
    let size = chart.size();
    let render_err = |message: String| PlotError::Render {
        path: path.to_path_buf(),
        message,
    };
    let bytes = match format_of(path)? {
        Format::Svg => {
            let mut svg = String::new();
            chart
                .draw(SVGBackend::with_string(&mut svg, size).into_drawing_area())
                .map_err(render_err)?;
            svg.into_bytes()
        }
        Format::Png => {
            let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
            chart
                .draw(BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area())
                .map_err(render_err)?;
            style::encode_png(&rgb, size).map_err(render_err)?
        }
    };
    crate::io::write_atomic(path, |w| w.write_all(&bytes)).map_err(|source| PlotError::Io {
        path: path.to_path_buf(),
        source,
    })
}
