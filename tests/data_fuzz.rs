//! No input makes a reader panic: arbitrary bytes and CSV/JSON-ish text return `Ok` or `Err`.
//! The rules between LR rows keep every rebuilt LR among the values the rows allow.

use lrsde::data::{
    Format, LrBetweenRows, ReadOptions, WarmupPolicy, read_curve_bytes, reconstruct_lrs_with,
};
use proptest::prelude::*;

fn opts() -> ReadOptions {
    // Keep accidental huge steps cheap.
    ReadOptions::default().with_max_steps(100_000)
}

fn all_formats(bytes: &[u8]) {
    for f in [
        Format::Csv,
        Format::Jsonl,
        Format::Json,
        Format::sniff(bytes),
    ] {
        if let Ok(c) = read_curve_bytes(bytes, "fuzz", f, &opts()) {
            assert_eq!(c.steps.len(), c.losses.len());
            assert!(c.steps.iter().all(|&s| s >= 1 && s as usize <= c.lrs.len()));
            assert!(c.lrs.iter().all(|x| x.is_finite() && *x >= 0.0));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        all_formats(&bytes);
    }

    #[test]
    fn csv_like_text_never_panics(body in "[0-9.eE+\\-naif, \"\r\n]{0,120}") {
        all_formats(format!("step,lr,loss\n{body}").as_bytes());
        all_formats(format!("\u{feff}Step,\"lr\",val_loss,x\r\n{body}").as_bytes());
        all_formats(format!("Wall time,Step,Value\n{body}").as_bytes());
        all_formats(format!("\"Step\",\"r - train/loss\",\"r - train/loss__MIN\",\"r - lr\"\n{body}").as_bytes());
    }

    #[test]
    fn json_like_text_never_panics(body in "[0-9.eE+\\-,:\\[\\]{} \"\n]{0,80}", key in "(step|lr|loss|iter|train_lr|val_loss)") {
        all_formats(format!("{{\"{key}\": {body}}}").as_bytes());
        all_formats(format!("{{\"history\": {{\"train\": {{\"iter\": [{body}], \"{key}\": [{body}]}}, \"val\": {body}}}}}").as_bytes());
        all_formats(format!("[{{\"step\": {body}, \"{key}\": 1}}]").as_bytes());
        all_formats(format!("{{\"global_step\": {body}, \"log_history\": [{{\"step\": {body}, \"{key}\": {body}}}, {body}]}}").as_bytes());
        all_formats(format!("{{\"log_history\": [{{\"step\": 1, \"learning_rate\": {body}, \"eval_loss\": 2}}]}}").as_bytes());
    }

    /// Hugging Face logs: every evaluation at step >= 1 is a point, and the LR logged at step s
    /// is the LR of update s + 1.
    #[test]
    fn hf_log_history_roundtrip(rows in proptest::collection::vec((1u64..50, 0.0f64..1.0, proptest::option::of(0.0f64..10.0)), 1..20)) {
        let (mut step, mut entries, mut want) = (0u64, Vec::new(), Vec::new());
        for (gap, lr, eval) in &rows {
            step += gap;
            entries.push(format!("{{\"learning_rate\": {lr}, \"loss\": 9.0, \"step\": {step}}}"));
            if let Some(e) = eval {
                entries.push(format!("{{\"eval_loss\": {e}, \"step\": {step}}}"));
                want.push((step, *e));
            }
        }
        let doc = format!("{{\"global_step\": {step}, \"log_history\": [{}]}}", entries.join(","));
        let c = read_curve_bytes(doc.as_bytes(), "trainer_state.json", Format::Json, &opts()).unwrap();
        let (steps, losses): (Vec<u64>, Vec<f64>) = if want.is_empty() {
            rows.iter().scan(0, |s, r| { *s += r.0; Some((*s, 9.0)) }).unzip()
        } else {
            want.into_iter().unzip()
        };
        prop_assert_eq!(c.steps, steps);
        prop_assert_eq!(c.losses, losses);
        prop_assert_eq!(c.lrs.len() as u64, step);
        let mut s = 0;
        for (gap, lr, _) in &rows {
            s += gap;
            if s < step {
                prop_assert_eq!(c.lrs[s as usize], *lr);
            }
        }
    }

    #[test]
    fn valid_csv_roundtrip(rows in proptest::collection::vec((1u64..50, 0.0f64..1.0, proptest::option::of(0.0f64..10.0)), 1..20)) {
        let mut step = 0;
        let mut text = String::from("step,lr,loss\n");
        let mut want_steps = Vec::new();
        for (gap, lr, loss) in &rows {
            step += gap;
            text.push_str(&format!("{step},{lr},{}\n", loss.map(|l| l.to_string()).unwrap_or_default()));
            if loss.is_some() { want_steps.push(step); }
        }
        let r = read_curve_bytes(text.as_bytes(), "ok.csv", Format::Csv, &opts());
        if want_steps.is_empty() {
            prop_assert!(r.is_err());
        } else {
            let c = r.unwrap();
            prop_assert_eq!(c.steps, want_steps);
            prop_assert_eq!(c.lrs.len() as u64, step);
        }
    }

    #[test]
    fn every_rule_between_rows_is_linear_or_held_interval_by_interval(
        rows in proptest::collection::vec((1u64..20, prop_oneof![Just(0.1f64), Just(0.5), 0.0f64..1.0]), 2..12),
    ) {
        // Steps strictly increasing; LRs often repeated, so flat stretches and jumps occur.
        let mut step = 0;
        let rows: Vec<(u64, f64)> = rows.iter().map(|&(gap, lr)| { step += gap; (step, lr) }).collect();
        let n = step + 5;
        let rebuild = |b| reconstruct_lrs_with(&rows, n, WarmupPolicy::Constant, b);
        let (linear, hold, auto) = (
            rebuild(LrBetweenRows::Linear),
            rebuild(LrBetweenRows::Hold),
            rebuild(LrBetweenRows::Auto),
        );
        for w in rows.windows(2) {
            let ((a, la), (b, lb)) = (w[0], w[1]);
            let (lo, hi) = (la.min(lb), la.max(lb));
            let span = (a - 1) as usize..(b - 1) as usize;
            // Auto takes one rule for the whole interval.
            prop_assert!(auto[span.clone()] == linear[span.clone()] || auto[span.clone()] == hold[span.clone()]);
            for i in span {
                prop_assert_eq!(hold[i], la);
                prop_assert!(linear[i] >= lo - 1e-15 && linear[i] <= hi + 1e-15);
            }
        }
        // Every rule agrees on the rows themselves, before the first and after the last.
        for &(s, lr) in &rows {
            prop_assert_eq!(linear[(s - 1) as usize], lr);
            prop_assert_eq!(auto[(s - 1) as usize], lr);
        }
        prop_assert_eq!(&linear[n as usize - 5..], &hold[n as usize - 5..]);
        prop_assert_eq!(&linear[..rows[0].0 as usize], &auto[..rows[0].0 as usize]);
    }
}
