//! CSV curve files: a header row, then one row per logged step.

use super::ReadOptions;
use super::cells::{
    Purpose, RawCurve, check_loss, check_lr, choose_loss_column, find_column, parse_number,
    parse_step, strip_bom,
};
use super::error::{DataError, Location};

/// Parses CSV bytes (BOM, CRLF, quoted fields and extra columns are fine).
pub(crate) fn parse(
    bytes: &[u8],
    path: &str,
    opts: &ReadOptions,
    purpose: Purpose,
) -> Result<RawCurve, DataError> {
    let bytes = strip_bom(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(DataError::Empty {
            path: path.to_owned(),
        });
    }
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = reader.byte_records();
    let csv_err = |e: ::csv::Error| {
        let mut at = Location::file(path);
        if let Some(p) = e.position() {
            at = at.line(p.line());
        }
        DataError::Csv {
            at,
            message: e.to_string(),
        }
    };

    let header = match records.next() {
        Some(r) => r.map_err(csv_err)?,
        None => {
            return Err(DataError::Empty {
                path: path.to_owned(),
            });
        }
    };
    let columns: Vec<String> = header
        .iter()
        .map(|f| String::from_utf8_lossy(f).trim().to_owned())
        .collect();
    let step_col = find_column(&columns, "step").ok_or_else(|| DataError::MissingColumn {
        path: path.to_owned(),
        column: "step".to_owned(),
        found: columns.clone(),
    })?;
    let lr_col = find_column(&columns, "lr");
    let loss_col = match purpose {
        Purpose::Curve => Some(choose_loss_column(path, &columns, opts)?),
        Purpose::LrOnly => None,
    };

    let mut raw = RawCurve {
        path: path.to_owned(),
        loss_column: loss_col.map(|c| columns[c].clone()),
        has_lr: lr_col.is_some(),
        found: columns.clone(),
        ..RawCurve::default()
    };
    let mut previous: Option<u64> = None;
    let mut rows = 0usize;
    // Line numbers from byte offsets: csv's own line count misses CRLF after quoted fields and
    // lone CR endings.
    let (mut counted_to, mut line_at) = (0usize, 1u64);
    for record in records {
        let record = record.map_err(csv_err)?;
        let mut start = record
            .position()
            .map_or(counted_to, |p| {
                usize::try_from(p.byte()).unwrap_or(counted_to)
            })
            .clamp(counted_to, bytes.len());
        // After CRLF the reported start is the `\n`: skip line breaks to the record's first byte.
        while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        line_at += line_breaks(&bytes[counted_to..start]);
        counted_to = start;
        let line = line_at;
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue; // blank line
        }
        if record.len() > columns.len() {
            let extra_nonempty = record
                .iter()
                .skip(columns.len())
                .any(|f| !f.iter().all(u8::is_ascii_whitespace));
            if extra_nonempty {
                return Err(DataError::FieldCount {
                    at: Location::file(path).line(line),
                    expected: columns.len() as u64,
                    found: record.len() as u64,
                });
            }
        }
        rows += 1;
        let cell_at = |c: usize| {
            Location::file(path)
                .line(line)
                .column(c as u64 + 1)
                .key(columns[c].clone())
        };
        let cell = |c: usize| -> String {
            record
                .get(c)
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .unwrap_or_default()
        };

        let step = parse_step(&cell(step_col), &cell_at(step_col))?.ok_or_else(|| {
            DataError::MissingStep {
                at: cell_at(step_col),
            }
        })?;
        if let Some(prev) = previous
            && step <= prev
        {
            return Err(DataError::StepOrder {
                at: cell_at(step_col),
                step,
                previous: prev,
            });
        }
        previous = Some(step);

        if let Some(c) = lr_col {
            let at = cell_at(c);
            if let Some(v) = parse_number(&cell(c), &at)? {
                raw.lr_rows.push((step, check_lr(v, &at)?));
            }
        }
        if let Some(c) = loss_col {
            let at = cell_at(c);
            if let Some(v) = parse_number(&cell(c), &at)? {
                raw.loss_rows.push((step, check_loss(v, &at)?));
            }
        }
    }
    if rows == 0 {
        return Err(DataError::NoRows {
            path: path.to_owned(),
        });
    }
    Ok(raw)
}

/// Line breaks in `bytes`: `\n`, `\r\n` and a lone `\r` (old Mac files) count one each, as the
/// CSV parser treats them.
fn line_breaks(bytes: &[u8]) -> u64 {
    let mut n = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::line_breaks;

    #[test]
    fn every_line_ending_counts_once() {
        // `\r\r\n` is a CR ending and a CRLF ending, as the CSV parser reads it.
        assert_eq!(line_breaks(b"a\nb\r\nc\rd\r\r\n"), 5);
        assert_eq!(line_breaks(b"no breaks"), 0);
    }
}
