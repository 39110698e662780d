//! Property tests of `lrsde::schedule`: bounds, monotonicity, exact end points, text round trip,
//! and no panic on any input string.

use lrsde::schedule::{
    Concat, Family, LrGrid, LrSchedule, Schedule, ScheduleSpec, Tabulated, WsdShape,
};
use proptest::prelude::*;

/// Peaks from ordinary LRs to extreme but finite magnitudes, and arbitrary bit patterns.
fn peak() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => (-8.0..1.0f64).prop_map(|e| 10f64.powf(e)),
        1 => any::<f64>().prop_filter("finite > 0", |x| x.is_finite() && *x > 0.0),
        1 => Just(1.0),
    ]
}

fn unit_closed() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), Just(1.0), 0.0..=1.0f64, (1e-12..1e-3f64)]
}

fn unit_open() -> impl Strategy<Value = f64> {
    (0.0..1.0f64).prop_filter("in (0, 1)", |x| *x > 0.0)
}

fn family() -> impl Strategy<Value = Family> {
    let shape = prop_oneof![
        Just(WsdShape::Linear),
        Just(WsdShape::Cosine),
        Just(WsdShape::Sqrt)
    ];
    prop_oneof![
        Just(Family::Constant),
        unit_closed().prop_map(|floor| Family::Cosine { floor }),
        unit_closed().prop_map(|floor| Family::Linear { floor }),
        (prop_oneof![unit_open(), Just(1.0)], shape, unit_closed()).prop_map(
            |(decay, shape, floor)| Family::Wsd {
                decay,
                shape,
                floor
            }
        ),
        (prop::collection::vec(unit_open(), 1..5), unit_closed()).prop_map(|(mut at, gamma)| {
            at.sort_by(f64::total_cmp);
            at.dedup();
            Family::Step { at, gamma }
        }),
        (unit_open(), unit_closed()).prop_map(|(at, ratio)| Family::TwoStage { at, ratio }),
        unit_closed()
            .prop_filter("> 0", |f| *f > 0.0)
            .prop_map(|floor| Family::Exp { floor }),
        Just(Family::InvSqrt),
        (0.05..8.0f64, unit_closed()).prop_map(|(power, floor)| Family::Poly { power, floor }),
    ]
}

/// Valid specs short enough to check every update.
fn spec() -> impl Strategy<Value = ScheduleSpec> {
    (
        family(),
        peak(),
        1u64..2000,
        prop_oneof![Just(0.0), 0.0..0.6f64],
    )
        .prop_filter_map("valid spec", |(family, peak, steps, wf)| {
            let warmup = (wf * steps as f64) as u64;
            ScheduleSpec::new(family, peak, steps, warmup).ok()
        })
}

/// Valid specs including huge step counts (text and serde only; not evaluated everywhere).
fn any_spec() -> impl Strategy<Value = ScheduleSpec> {
    prop_oneof![
        spec(),
        (spec(), 1u64..=lrsde::schedule::MAX_STEPS)
            .prop_filter_map("valid spec", |(s, steps)| s.with_steps(steps).ok()),
    ]
}

/// Multi-phase specs: 2 to 4 short phases, each boundary anywhere in the allowed range
/// `(previous start, previous end]`, so phases are often cut short.
fn phased() -> impl Strategy<Value = ScheduleSpec> {
    (
        spec(),
        prop::collection::vec((spec(), any::<prop::sample::Index>()), 1..4),
    )
        .prop_map(|(first, rest)| {
            rest.into_iter().fold(first, |acc, (next, k)| {
                let prev_start = acc.phases().last().map_or(0, |p| p.0);
                let span = acc.steps() - prev_start;
                let start = prev_start + 1 + k.index(span as usize) as u64;
                acc.then_at(start, next).expect("boundary in range")
            })
        })
}

/// The documented LR of the last update.
fn expected_final(s: &ScheduleSpec) -> f64 {
    let p = s.peak();
    match s.family() {
        Family::Constant => p,
        Family::Cosine { floor }
        | Family::Linear { floor }
        | Family::Exp { floor }
        | Family::Wsd { floor, .. }
        | Family::Poly { floor, .. } => p * floor,
        Family::Step { at, gamma } => p * gamma.powi(at.len() as i32),
        Family::TwoStage { ratio, .. } => p * ratio,
        Family::InvSqrt => p * ((s.warmup().max(1) as f64) / s.steps() as f64).sqrt(),
    }
}

proptest! {
    #[test]
    fn display_from_str_round_trip(s in any_spec()) {
        let text = s.to_string();
        let back: ScheduleSpec = text.parse().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(&back, &s);
        prop_assert_eq!(back.to_string(), text);
        let json = serde_json::to_string(&s).unwrap();
        prop_assert_eq!(serde_json::from_str::<ScheduleSpec>(&json).unwrap(), s.clone());
        let any: Schedule = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(any, Schedule::Spec(s));
    }

    #[test]
    fn phased_display_from_str_round_trip(s in phased()) {
        let text = s.to_string();
        let back: ScheduleSpec = text.parse().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(&back, &s);
        prop_assert_eq!(back.to_string(), text);
        let json = serde_json::to_string(&s).unwrap();
        prop_assert_eq!(serde_json::from_str::<ScheduleSpec>(&json).unwrap(), s);
    }

    /// Each phase runs its own formula from its boundary; a later phase's warmup ramps
    /// linearly from the LR before it (direct computation), and every LR stays in [0, peak].
    #[test]
    fn phases_follow_their_parts(s in phased()) {
        let phases = s.phases();
        let g = s.grid();
        prop_assert_eq!(g.len() as u64, s.steps());
        for (i, (start, p)) in phases.iter().enumerate() {
            let end = phases.get(i + 1).map_or(s.steps(), |n| n.0);
            let from = if i == 0 { 0.0 } else { g.as_slice()[*start as usize - 1] };
            for t in *start..end {
                let local = t - start;
                let want = if i > 0 && local < p.warmup() && from != 0.0 {
                    let frac = (local + 1) as f64 / p.warmup() as f64;
                    if local + 1 == p.warmup() { p.peak() } else { from + (p.peak() - from) * frac }
                } else {
                    p.lr(local)
                };
                let lr = g.as_slice()[t as usize];
                prop_assert_eq!(lr, want, "{}: update index {}", s, t);
                prop_assert!(lr.is_finite() && (0.0..=s.peak()).contains(&lr), "{}: lr({}) = {}", s, t, lr);
            }
        }
    }

    #[test]
    fn lr_is_in_zero_to_peak(s in spec()) {
        for (t, &lr) in s.grid().as_slice().iter().enumerate() {
            prop_assert!(lr.is_finite() && (0.0..=s.peak()).contains(&lr), "{s}: lr({t}) = {lr}");
        }
    }

    #[test]
    fn warmup_rises_to_peak_then_never_increases(s in spec()) {
        let g = s.grid();
        let lrs = g.as_slice();
        let w = s.warmup() as usize;
        for t in 1..lrs.len() {
            if t < w {
                prop_assert!(lrs[t] >= lrs[t - 1], "{s}: warmup drops at {t}");
            } else {
                prop_assert!(lrs[t] <= lrs[t - 1], "{s}: lr rises at {t}: {} -> {}", lrs[t - 1], lrs[t]);
            }
        }
        if w > 0 {
            prop_assert_eq!(lrs[w - 1], s.peak());
            prop_assert_eq!(lrs[0], s.peak() * (1.0 / w as f64));
        }
    }

    #[test]
    fn decay_ends_exactly_at_steps(s in spec()) {
        let last = s.lr(s.steps() - 1);
        prop_assert_eq!(last, expected_final(&s), "{}", s);
        prop_assert_eq!(s.final_lr(), last);
        prop_assert_eq!(s.lr(s.steps()), last);
        prop_assert_eq!(s.grid().len() as u64, s.steps());
    }

    #[test]
    fn concat_follows_its_parts(a in spec(), b in spec(), k in any::<prop::sample::Index>()) {
        let k = k.index(a.steps() as usize + 1) as u64;
        let c = Concat::new(&a, k, &b).unwrap();
        prop_assert_eq!(c.steps(), k + b.steps());
        let g = c.grid().unwrap();
        let top = a.peak().max(b.peak());
        for (t, &lr) in g.as_slice().iter().enumerate() {
            let t = t as u64;
            let want = if t < k { a.lr(t) } else { b.lr(t - k) };
            prop_assert_eq!(lr, want);
            prop_assert!((0.0..=top).contains(&lr));
        }
        let s = Schedule::from(a.clone()).then_at(k, b.clone()).unwrap();
        prop_assert_eq!(s.grid(), g);
        let json = serde_json::to_string(&s).unwrap();
        prop_assert_eq!(serde_json::from_str::<Schedule>(&json).unwrap(), s);
    }

    #[test]
    fn tabulated_is_the_table(lrs in prop::collection::vec(0.0..1e3f64, 1..200)) {
        let t = Tabulated::new(lrs.clone()).unwrap();
        prop_assert_eq!(t.grid(), LrGrid::new(lrs.clone()).unwrap());
        prop_assert_eq!(LrGrid::from_schedule(&t).unwrap().into_vec(), lrs);
    }

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        check_parse(&text)?;
    }

    #[test]
    fn spec_like_strings_never_panic(
        text in "[ a-zA-Z]{0,9}(:([a-z ]{0,7}=[-+0-9.eEinfa/ ]{0,9},?){0,7})?"
    ) {
        check_parse(&text)?;
    }

    #[test]
    fn mutated_specs_never_panic(s in prop_oneof![spec(), phased()], at in any::<prop::sample::Index>(), c in any::<char>(), cut in any::<bool>()) {
        let mut chars: Vec<char> = s.to_string().chars().collect();
        let i = at.index(chars.len());
        if cut { chars.remove(i); } else { chars[i] = c; }
        check_parse(&chars.into_iter().collect::<String>())?;
    }
}

/// Parsing returns, and whatever parses is a well-behaved schedule.
fn check_parse(text: &str) -> Result<(), TestCaseError> {
    match text.parse::<ScheduleSpec>() {
        Ok(s) => {
            prop_assert_eq!(s.to_string().parse::<ScheduleSpec>().unwrap(), s.clone());
            for t in [0, s.warmup(), s.steps() / 2, s.steps() - 1, s.steps()] {
                let lr = s.lr(t);
                prop_assert!(
                    lr.is_finite() && (0.0..=s.peak()).contains(&lr),
                    "{s}: lr({t}) = {lr}"
                );
            }
        }
        Err(e) => prop_assert!(!e.to_string().is_empty()),
    }
    let _ = serde_json::from_str::<Schedule>(text);
    Ok(())
}
