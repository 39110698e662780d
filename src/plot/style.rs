//! Shared look: the bundled font, the colour cycle, PNG encoding.

use plotters::style::{FontStyle, RGBColor};
use std::sync::Once;

/// DejaVu Sans, bundled so rendering never depends on system fonts (licence in
/// `assets/fonts/LICENSE-DejaVu.txt`).
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// The font family name charts ask for.
pub(super) const FAMILY: &str = "sans-serif";

/// Registers the bundled font once per process.
pub(super) fn ensure_font() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // The bundled file is a valid TrueType font; a failure here is a packaging bug, and
        // plotters then reports a font error through the normal drawing path.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

/// A colour-blind-friendly cycle (Okabe–Ito), dark enough on white.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(230, 159, 0),
    RGBColor(0, 0, 0),
    RGBColor(240, 228, 66),
];

/// The colour of the `i`-th series.
pub(super) fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Encodes an RGB8 buffer as PNG bytes.
pub(super) fn encode_png(rgb: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(rgb).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Finite (min, max) of the values, or `None` if there is none.
pub(super) fn finite_range<'a>(values: impl IntoIterator<Item = &'a f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// Pads a range by `frac` of its width on both sides (a flat range gets a small width).
pub(super) fn pad((lo, hi): (f64, f64), frac: f64) -> (f64, f64) {
    let width = if hi > lo {
        hi - lo
    } else {
        lo.abs().max(1e-12) * 0.1
    };
    (lo - frac * width, hi + frac * width)
}
