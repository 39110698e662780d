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

/// A chart drawn into memory, not yet written: a command renders its pictures first, so that
/// any drawing failure stops it before its main output is written, and writes them last.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// use lrsde::plot::{CurveChart, PredictedCurve};
/// let path = dir.path().join("c.svg");
/// let rendered = CurveChart::new("demo")
///     .with_curve(PredictedCurve::new("a", vec![1, 2], vec![3.0, 2.9]))
///     .rendered(&path)
///     .unwrap();
/// assert!(!path.exists());
/// rendered.write().unwrap();
/// assert!(path.exists());
/// ```
#[derive(Debug, Clone)]
pub struct Rendered {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl Rendered {
    /// Where [`Self::write`] puts the picture.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the picture atomically.
    ///
    /// # Errors
    /// [`PlotError::Io`] if the file cannot be written.
    pub fn write(&self) -> Result<(), PlotError> {
        crate::io::write_atomic(&self.path, |w| w.write_all(&self.bytes)).map_err(|source| {
            PlotError::Io {
                path: self.path.clone(),
                source,
            }
        })
    }
}

/// Checks that `path` names a picture format charts can write (`.png` or `.svg`), so a
/// command can refuse a bad `--plot` before doing any work.
///
/// ```
/// use std::path::Path;
/// assert!(lrsde::plot::check_format(Path::new("a.PNG")).is_ok());
/// assert!(lrsde::plot::check_format(Path::new("a.jpg")).is_err());
/// ```
///
/// # Errors
/// [`PlotError::UnsupportedFormat`] for any other extension.
pub fn check_format(path: &Path) -> Result<(), PlotError> {
    format_of(path).map(|_| ())
}

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

/// Renders `chart` into the bytes of the format matching `path`'s extension.
///
/// PNGs are drawn into an in-memory RGB buffer and encoded here; SVGs into a string. Either way
/// the bytes reach the disk through [`Rendered::write`], atomically.
fn render_to<C: Drawable>(chart: &C, path: &Path) -> Result<Rendered, PlotError> {
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
    Ok(Rendered {
        path: path.to_path_buf(),
        bytes,
    })
}
