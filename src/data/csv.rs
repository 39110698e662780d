//! CSV curve files: a header row, then one row per logged step.

use super::ReadOptions;
use super::cells::{
    Purpose, RawCurve, check_batch, check_loss, check_lr, parse_number, parse_step_min, strip_bom,
};
use super::columns::{
    Hit, batch_column, is_band, listed, loss_column, lr_column, run_of, step_column,
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
    let step_col = step_column(path, &columns, opts)?.index;
    let tensorboard = is_tensorboard(&columns);
    let value = || find_value(&columns);
    let loss = match purpose {
        Purpose::Curve if tensorboard && opts.loss_column.is_none() => value(),
        Purpose::Curve => Some(loss_column(path, &columns, opts)?),
        Purpose::LrOnly => None,
    };
    let lr = match purpose {
        Purpose::LrOnly if tensorboard && opts.lr_column.is_none() => value(),
        Purpose::Curve if tensorboard && opts.lr_column.is_none() => None,
        _ => lr_column(path, &columns, opts, run_of(&columns, loss))?,
    };
    // Logging tools' exports: step 0 is the measurement before training, and the LR logged at
    // step s is the scheduler's value after s updates, i.e. the LR of update s + 1.
    let export = tensorboard
        || columns.iter().any(|c| is_band(c))
        || run_of(&columns, loss).is_some()
        || run_of(&columns, lr).is_some();
    let (lr_col, loss_col) = (lr.map(|h| h.index), loss.map(|h| h.index));
    let batch_col = match purpose {
        Purpose::Curve => batch_column(path, &columns, opts)?.map(|h| h.index),
        Purpose::LrOnly => None,
    };

    let mut raw = RawCurve {
        path: path.to_owned(),
        loss_column: loss_col.map(|c| columns[c].clone()),
        has_lr: lr_col.is_some(),
        found: listed(&columns),
        lr_hint: if tensorboard {
            "; a TensorBoard scalar export holds one scalar (`Value`, read as the loss): give the \
             LRs with --lr-schedule FILE (the export of the learning-rate scalar) or SPEC"
                .to_owned()
        } else {
            String::new()
        },
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
        // A short row is a broken line (a truncated write, a missing separator), not a row of
        // missing values: those keep their separators (`200,3e-4,`).
        if record.len() < columns.len() {
            return Err(DataError::FieldCount {
                at: Location::file(path).line(line),
                expected: columns.len() as u64,
                found: record.len() as u64,
            });
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

        let min_step = if export { 0 } else { 1 };
        let step =
            parse_step_min(&cell(step_col), &cell_at(step_col), min_step)?.ok_or_else(|| {
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
                raw.lr_rows
                    .push((step + u64::from(export), check_lr(v, &at)?));
            }
        }
        if let Some(c) = batch_col {
            let at = cell_at(c);
            if let Some(v) = parse_number(&cell(c), &at)? {
                // Logged like the LR: in an export, the value at step s is for update s + 1.
                raw.batch_rows
                    .push((step + u64::from(export), check_batch(v, &at)?));
            }
        }
        if let Some(c) = loss_col {
            let at = cell_at(c);
            if let Some(v) = parse_number(&cell(c), &at)?
                && step >= 1
            {
                raw.loss_rows.push((step, check_loss(v, &at)?));
            }
        }
    }
    if rows == 0 {
        return Err(DataError::NoRows {
            path: path.to_owned(),
        });
    }
    if export {
        // The run got as far as its last logged step; the LR logged there is for an update
        // after the export ends.
        raw.total = previous.filter(|&s| s >= 1);
    }
    Ok(raw)
}

/// Whether the header is TensorBoard's scalar export: `Wall time,Step,Value`.
fn is_tensorboard(columns: &[String]) -> bool {
    let want = ["wall time", "step", "value"];
    columns.len() == want.len()
        && columns
            .iter()
            .zip(want)
            .all(|(c, w)| c.trim().eq_ignore_ascii_case(w))
}

/// TensorBoard's `Value` column.
fn find_value(columns: &[String]) -> Option<Hit> {
    columns
        .iter()
        .position(|c| c.trim().eq_ignore_ascii_case("value"))
        .map(|index| Hit {
            index,
            prefixed: false,
        })
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
