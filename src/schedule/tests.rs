use super::*;

fn spec(s: &str) -> ScheduleSpec {
    s.parse()
        .unwrap_or_else(|e| panic!("`{s}` should parse: {e}"))
}

fn err(s: &str) -> (ScheduleError, String) {
    let e = s.parse::<ScheduleSpec>().unwrap_err();
    let msg = e.to_string();
    (e, msg)
}

fn lrs(s: &str) -> Vec<f64> {
    spec(s).grid().into_vec()
}

#[test]
fn warmup_is_peak_times_t_plus_one_over_warmup() {
    assert_eq!(
        lrs("constant:peak=1,steps=6,warmup=4"),
        [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    );
    // Warmup ends at exactly peak even when peak·W/W would not round back to peak.
    let s = spec("cosine:peak=0.1,steps=100,warmup=3");
    assert_eq!(s.lr(2), 0.1);
    assert_eq!(s.lr(0), 0.1 * (1.0 / 3.0));
    // warmup == steps is allowed for constant: pure ramp.
    assert_eq!(lrs("constant:peak=2,steps=2,warmup=2"), [1.0, 2.0]);
}

#[test]
fn cosine_values() {
    let s = spec("cosine:peak=1,steps=100,final=0.1");
    // p = (t+1)/100: the first update is already decayed a little.
    let p: f64 = 0.01;
    assert_eq!(
        s.lr(0),
        0.1 + 0.9 * (0.5 * (1.0 + (std::f64::consts::PI * p).cos()))
    );
    assert!((s.lr(49) - 0.55).abs() < 1e-15);
    assert_eq!(s.lr(99), 0.1);
    assert_eq!(s.final_lr(), 0.1);
    // With warmup, decay progress counts from the end of warmup.
    let w = spec("cosine:peak=2,steps=110,warmup=10");
    assert_eq!(w.lr(9), 2.0);
    assert!((w.lr(59) - 1.0).abs() < 1e-15); // s − W = 50 of 100
    assert_eq!(w.lr(109), 0.0);
}

#[test]
fn linear_and_poly_values() {
    assert_eq!(lrs("linear:peak=1,steps=4"), [0.75, 0.5, 0.25, 0.0]);
    assert_eq!(
        lrs("linear:peak=1,steps=4,final=0.5"),
        [0.875, 0.75, 0.625, 0.5]
    );
    assert_eq!(
        lrs("poly:peak=1,steps=4,power=2"),
        [0.5625, 0.25, 0.0625, 0.0]
    );
    assert_eq!(lrs("poly:peak=1,steps=4"), lrs("linear:peak=1,steps=4"));
    assert_eq!(
        spec("poly:peak=3,steps=7,power=0.5,final=0.25").final_lr(),
        0.75
    );
}

#[test]
fn wsd_values() {
    let s = spec("wsd:peak=1,steps=100");
    assert_eq!(s.lr(79), 1.0); // stable through S = 80
    assert_eq!(s.lr(80), 0.95); // q = 1/20
    assert_eq!(s.lr(99), 0.0);
    let sq = spec("wsd:peak=1,steps=100,shape=sqrt,final=0.1");
    assert_eq!(sq.lr(80), 0.1 + 0.9 * (1.0 - 0.05f64.sqrt()));
    assert_eq!(sq.lr(99), 0.1);
    let cos = spec("wsd:peak=1,steps=100,decay=0.5,shape=cosine");
    assert_eq!(cos.lr(49), 1.0);
    assert!((cos.lr(74) - 0.5).abs() < 1e-15); // q = 25/50
    assert_eq!(cos.lr(99), 0.0);
    // The cooldown start is a real position: S = 7.5 here.
    let frac = spec("wsd:peak=1,steps=10,decay=0.25");
    assert_eq!(frac.lr(6), 1.0);
    assert!((frac.lr(7) - 0.8).abs() < 1e-15); // q = 0.5/2.5
    assert_eq!(frac.lr(9), 0.0);
    // decay=1 without warmup: a pure linear decay.
    assert_eq!(
        lrs("wsd:peak=1,steps=4,decay=1"),
        lrs("linear:peak=1,steps=4")
    );
    // Warmup then stable then cooldown.
    let g = lrs("wsd:peak=1,steps=6,warmup=2,decay=0.5");
    let want = [0.5, 1.0, 1.0, 2.0 / 3.0, 1.0 / 3.0, 0.0];
    assert!(
        g.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-15),
        "{g:?}"
    );
    assert_eq!(g[5], 0.0);
}

#[test]
fn step_and_twostage_milestones() {
    let s = spec("step:peak=1,steps=100,at=0.5/0.75");
    assert_eq!(s.lr(49), 1.0);
    assert_eq!(s.lr(50), 0.1);
    assert_eq!(s.lr(74), 0.1);
    assert_eq!(s.lr(75), 0.1f64.powi(2));
    assert_eq!(s.lr(99), 0.1f64.powi(2));
    // 0.7·10 is rounded to update 7, whatever the last bit of the product.
    let r = spec("step:peak=1,steps=10,at=0.7,gamma=0.5");
    assert_eq!((r.lr(6), r.lr(7)), (1.0, 0.5));
    let tw = spec("twostage:peak=2,steps=10,at=0.3,ratio=0.25");
    assert_eq!(tw.grid().as_slice()[..4], [2.0, 2.0, 2.0, 0.5]);
    assert_eq!(tw.final_lr(), 0.5);
    // ratio 0 and gamma 0 are allowed: training stops.
    assert_eq!(
        spec("twostage:peak=1,steps=4,at=0.5,ratio=0").final_lr(),
        0.0
    );
}

#[test]
fn exp_and_invsqrt_values() {
    let e = spec("exp:peak=1,steps=2");
    assert_eq!(e.lr(0), 0.1); // 0.01^0.5
    assert_eq!(e.lr(1), 0.01);
    assert_eq!(spec("exp:peak=4,steps=3,final=0.5").final_lr(), 2.0);
    let i = spec("invsqrt:peak=1,steps=100,warmup=4");
    assert_eq!(i.lr(3), 1.0);
    assert_eq!(i.lr(15), 0.5);
    assert_eq!(i.final_lr(), 0.2);
    let i0 = spec("invsqrt:peak=1,steps=100");
    assert_eq!((i0.lr(0), i0.lr(3), i0.lr(99)), (1.0, 0.5, 0.1));
}

#[test]
fn lr_beyond_steps_holds_the_last_value() {
    for s in [
        "cosine:peak=1,steps=10,final=0.2",
        "wsd:peak=1,steps=10",
        "exp:peak=1,steps=10",
        "invsqrt:peak=1,steps=10",
        "constant:peak=1,steps=3,warmup=3",
    ] {
        let s = spec(s);
        assert_eq!(s.lr(s.steps()), s.final_lr());
        assert_eq!(s.lr(u64::MAX), s.final_lr());
    }
}

#[test]
fn display_is_canonical_with_defaults_written_out() {
    let cases = [
        ("constant:peak=1,steps=10", "constant:peak=1,steps=10"),
        (
            "Cosine : Peak = 3e-4 , steps=2.4e4, warmup=0,",
            "cosine:peak=0.0003,steps=24000,final=0",
        ),
        (
            "linear:peak=1e-5,steps=5,warmup=1",
            "linear:peak=1e-5,steps=5,warmup=1,final=0",
        ),
        (
            "wsd:peak=0.001,steps=100",
            "wsd:peak=0.001,steps=100,decay=0.2,shape=linear,final=0",
        ),
        (
            "step:peak=1,steps=100,at=0.5/0.75",
            "step:peak=1,steps=100,at=0.5/0.75,gamma=0.1",
        ),
        (
            "twostage:peak=1,steps=100,at=0.9",
            "twostage:peak=1,steps=100,at=0.9,ratio=0.1",
        ),
        ("exp:peak=2,steps=100", "exp:peak=2,steps=100,final=0.01"),
        ("invsqrt:peak=1e20,steps=100", "invsqrt:peak=1e20,steps=100"),
        (
            "poly:peak=1,steps=100,final=-0",
            "poly:peak=1,steps=100,power=1,final=0",
        ),
    ];
    for (input, canonical) in cases {
        let s = spec(input);
        assert_eq!(s.to_string(), canonical, "from `{input}`");
        assert_eq!(spec(canonical), s);
    }
}

#[test]
fn accessors_and_builders() {
    let s = spec("wsd:peak=1e-3,steps=1000,warmup=10,decay=0.1");
    assert_eq!(
        (s.name(), s.peak(), s.steps(), s.warmup()),
        ("wsd", 1e-3, 1000, 10)
    );
    assert!(matches!(s.family(), Family::Wsd { decay, .. } if *decay == 0.1));
    let longer = s.clone().with_steps(2000).unwrap();
    assert_eq!(longer.lr(1799), 1e-3);
    assert!(longer.lr(1800) < 1e-3);
    assert!(s.clone().with_peak(0.0).is_err());
    assert!(s.clone().with_warmup(950).is_err()); // cooldown would overlap warmup
    assert!(s.with_family(Family::Cosine { floor: 2.0 }).is_err());
}

#[test]
fn parse_errors_name_key_value_and_spec() {
    let (e, m) = err("");
    assert_eq!(e, ScheduleError::EmptySpec);
    assert!(m.contains("cosine"), "{m}");

    let (e, m) = err("cosin:peak=1,steps=10");
    assert!(matches!(e, ScheduleError::UnknownFamily { .. }));
    assert!(
        m.contains("`cosin`") && m.contains("constant, cosine, linear, wsd"),
        "{m}"
    );
    assert!(m.contains("cosin:peak=1,steps=10"), "{m}");

    let (e, m) = err("cosine:peak=1,steps=10,decay=0.2");
    assert!(matches!(e, ScheduleError::UnknownKey { ref key, .. } if key == "decay"));
    assert!(
        m.contains("`decay`") && m.contains("peak, steps, warmup, final"),
        "{m}"
    );

    let (e, m) = err("cosine:peak=1,steps=10,peak=2");
    assert!(matches!(e, ScheduleError::DuplicateKey { ref key, .. } if key == "peak"));
    assert!(m.contains("duplicate key `peak`"), "{m}");

    let (e, m) = err("cosine:steps=10");
    assert!(matches!(e, ScheduleError::MissingKey { ref key, .. } if key == "peak"));
    assert!(m.contains("`peak`"), "{m}");
    let (_, m) = err("cosine:peak=1");
    assert!(m.contains("missing required key `steps`"), "{m}");
    let (_, m) = err("step:peak=1,steps=10");
    assert!(m.contains("missing required key `at`"), "{m}");

    let (e, m) = err("cosine:peak=abc,steps=10");
    assert!(matches!(e, ScheduleError::Unparsable { ref key, .. } if key == "peak"));
    assert!(m.contains("peak=abc") && m.contains("a number"), "{m}");
    let (_, m) = err("cosine:peak=1,steps=10.5");
    assert!(
        m.contains("steps=10.5") && m.contains("whole number"),
        "{m}"
    );
    let (_, m) = err("cosine:peak=1,steps=-3");
    assert!(m.contains("steps=-3"), "{m}");
    let (_, m) = err("wsd:peak=1,steps=10,shape=exp");
    assert!(
        m.contains("shape=exp") && m.contains("linear, cosine, sqrt"),
        "{m}"
    );
    let (_, m) = err("step:peak=1,steps=10,at=0.5/x");
    assert!(m.contains("at=0.5/x"), "{m}");

    let (e, m) = err("cosine:peak,steps=10");
    assert!(matches!(e, ScheduleError::MalformedEntry { ref entry, .. } if entry == "peak"));
    assert!(m.contains("key=value"), "{m}");
    assert!(matches!(
        err("cosine:=1").0,
        ScheduleError::MalformedEntry { .. }
    ));
    assert!(matches!(
        err("cosine:peak=").0,
        ScheduleError::MalformedEntry { .. }
    ));
}

#[test]
fn range_errors_name_key_value_and_spec() {
    let cases = [
        ("constant:peak=-1,steps=10", "peak=-1", "> 0"),
        ("constant:peak=0,steps=10", "peak=0", "> 0"),
        ("constant:peak=NaN,steps=10", "peak=NaN", "finite"),
        ("constant:peak=inf,steps=10", "peak=inf", "finite"),
        ("constant:peak=1,steps=0", "steps=0", "between 1"),
        ("constant:peak=1,steps=1e17", "steps=1e17", "between 1"),
        (
            "constant:peak=1,steps=10,warmup=11",
            "warmup=11",
            "<= steps (10)",
        ),
        (
            "cosine:peak=1,steps=10,warmup=10",
            "warmup=10",
            "< steps (10)",
        ),
        ("cosine:peak=1,steps=10,final=1.5", "final=1.5", "[0, 1]"),
        ("linear:peak=1,steps=10,final=-0.1", "final=-0.1", "[0, 1]"),
        ("exp:peak=1,steps=10,final=0", "final=0", "(0, 1]"),
        ("poly:peak=1,steps=10,power=0", "power=0", "> 0"),
        ("poly:peak=1,steps=10,power=-2", "power=-2", "> 0"),
        ("wsd:peak=1,steps=10,decay=0", "decay=0", "(0, 1]"),
        ("wsd:peak=1,steps=10,decay=1.1", "decay=1.1", "(0, 1]"),
        ("wsd:peak=1,steps=10,decay=0.05", "decay=0.05", "1/steps"),
        (
            "wsd:peak=1,steps=10,warmup=9,decay=0.2",
            "decay=0.2",
            "overlap warmup",
        ),
        ("wsd:peak=1,steps=10,final=2", "final=2", "[0, 1]"),
        (
            "step:peak=1,steps=10,at=0.5,gamma=-0.1",
            "gamma=-0.1",
            "[0, 1]",
        ),
        ("step:peak=1,steps=10,at=0.5,gamma=2", "gamma=2", "[0, 1]"),
        (
            "step:peak=1,steps=10,at=0.5/0.25",
            "at=0.5/0.25",
            "increasing",
        ),
        (
            "step:peak=1,steps=10,at=0.5/0.5",
            "at=0.5/0.5",
            "increasing",
        ),
        ("step:peak=1,steps=10,at=1", "at=1", "(0, 1)"),
        ("step:peak=1,steps=10,at=0", "at=0", "(0, 1)"),
        ("step:peak=1,steps=10,at=0.01", "at=0.01", "[1, 10)"),
        ("step:peak=1,steps=10,warmup=5,at=0.4", "at=0.4", "[5, 10)"),
        (
            "twostage:peak=1,steps=10,at=0.5,ratio=-1",
            "ratio=-1",
            "[0, 1]",
        ),
        ("twostage:peak=1,steps=10,at=1.5", "at=1.5", "(0, 1)"),
        ("twostage:peak=1,steps=10,at=0.99", "at=0.99", "[1, 10)"),
    ];
    for (input, key_value, expected) in cases {
        let (e, m) = err(input);
        assert!(
            matches!(e, ScheduleError::InvalidValue { .. }),
            "{input}: {e:?}"
        );
        assert!(
            m.contains(key_value),
            "`{input}`: `{m}` lacks `{key_value}`"
        );
        assert!(m.contains(expected), "`{input}`: `{m}` lacks `{expected}`");
        assert!(
            m.contains(input),
            "`{input}`: `{m}` does not quote the spec"
        );
    }
}

#[test]
fn errors_from_code_quote_a_rendered_spec() {
    let e = ScheduleSpec::new(Family::Cosine { floor: 2.0 }, 1.0, 10, 0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid `final=2` in schedule `cosine:peak=1,steps=10,final=2`: final must be in [0, 1]"
    );
}

#[test]
fn serde_uses_the_spec_string() {
    let s = spec("wsd:peak=1e-3,steps=100,shape=sqrt");
    let json = serde_json::to_string(&s).unwrap();
    assert_eq!(
        json,
        r#""wsd:peak=0.001,steps=100,decay=0.2,shape=sqrt,final=0""#
    );
    assert_eq!(serde_json::from_str::<ScheduleSpec>(&json).unwrap(), s);
    let bad = serde_json::from_str::<ScheduleSpec>(r#""wsd:peak=1,steps=100,shape=x""#);
    assert!(bad.unwrap_err().to_string().contains("shape=x"));
}

#[test]
fn tabulated_validates_and_holds_last_value() {
    assert_eq!(
        Tabulated::new(vec![]).unwrap_err(),
        ScheduleError::EmptyTable
    );
    assert!(matches!(
        Tabulated::new(vec![0.1, f64::INFINITY]).unwrap_err(),
        ScheduleError::BadLr { step: 2, .. }
    ));
    let t = Tabulated::new(vec![0.0, 0.3, 0.2]).unwrap();
    assert_eq!((t.steps(), t.peak(), t.lr(1), t.lr(99)), (3, 0.3, 0.3, 0.2));
    assert_eq!(t.grid().as_slice(), t.as_slice());
    assert_eq!(Tabulated::try_from(t.grid()).unwrap(), t);
    let json = serde_json::to_string(&t).unwrap();
    assert_eq!(json, r#"{"lrs":[0.0,0.3,0.2]}"#);
    assert_eq!(serde_json::from_str::<Tabulated>(&json).unwrap(), t);
    assert!(serde_json::from_str::<Tabulated>(r#"{"lrs":[-1]}"#).is_err());
    assert!(serde_json::from_str::<Tabulated>(r#"{"lrs":[]}"#).is_err());
}

#[test]
fn concat_switches_and_restarts_the_second_index() {
    let first = spec("cosine:peak=1,steps=100");
    let second = Tabulated::new(vec![0.5, 0.25]).unwrap();
    let c = Concat::new(&first, 30, &second).unwrap();
    assert_eq!(c.steps(), 32);
    assert_eq!(c.lr(29), first.lr(29));
    assert_eq!((c.lr(30), c.lr(31)), (0.5, 0.25));
    assert_eq!(c.grid().unwrap().len(), 32);
    assert_eq!(c.switch_at(), 30);
    // Switching at 0 is just the second schedule; at first.steps() it is a plain append.
    assert_eq!(
        Concat::new(&first, 0, &second).unwrap().grid().unwrap(),
        second.grid()
    );
    assert_eq!(Concat::new(&first, 100, &second).unwrap().steps(), 102);
    assert_eq!(
        Concat::new(&first, 101, &second).unwrap_err(),
        ScheduleError::SwitchAfterEnd {
            switch_at: 101,
            first_steps: 100
        }
    );
    // Boxed trait objects work as parts.
    let boxed: Box<dyn LrSchedule + Send + Sync> = Box::new(first.clone());
    assert_eq!(Concat::new(boxed, 10, second).unwrap().lr(5), first.lr(5));
}

#[test]
fn concat_rejects_overflowing_lengths() {
    #[derive(Debug)]
    struct Huge;
    impl LrSchedule for Huge {
        fn lr(&self, _: u64) -> f64 {
            1.0
        }
        fn steps(&self) -> u64 {
            u64::MAX
        }
    }
    assert!(matches!(
        Concat::new(Huge, 2, Huge).unwrap_err(),
        ScheduleError::TooLong { .. }
    ));
}

#[test]
fn schedule_enum_serde_forms() {
    let s: Schedule = serde_json::from_str(r#""constant:peak=1,steps=3""#).unwrap();
    assert_eq!(s, Schedule::Spec(spec("constant:peak=1,steps=3")));
    let t: Schedule = serde_json::from_str("[0.5, 0.25]").unwrap();
    assert_eq!(t.grid().as_slice(), &[0.5, 0.25]);
    let t2: Schedule = serde_json::from_str(r#"{"lrs": [0.5, 0.25]}"#).unwrap();
    assert_eq!(t, t2);
    let c = s.clone().then_at(2, t.clone()).unwrap();
    assert_eq!(c.grid().as_slice(), &[1.0, 1.0, 0.5, 0.25]);
    let json = serde_json::to_string(&c).unwrap();
    assert_eq!(
        json,
        r#"{"first":"constant:peak=1,steps=3","switch_at":2,"second":{"lrs":[0.5,0.25]}}"#
    );
    assert_eq!(serde_json::from_str::<Schedule>(&json).unwrap(), c);
    assert_eq!(
        c.label(),
        "constant:peak=1,steps=3, then from update 2: tabulated(2 updates)"
    );

    let msg = |j: &str| serde_json::from_str::<Schedule>(j).unwrap_err().to_string();
    assert!(msg(r#""cosine:peak=1,steps=10,bogus=1""#).contains("unknown key `bogus`"));
    assert!(
        msg(r#"{"first": "constant:peak=1,steps=3", "switch_at": 5, "second": [1]}"#)
            .contains("covers only 3")
    );
    assert!(msg(r#"{"first": "constant:peak=1,steps=3", "second": [1]}"#).contains("switch_at"));
    assert!(msg(r#"{"lrs": [1], "first": [1]}"#).contains("not both"));
    assert!(msg(r#"{"lr": [1]}"#).contains("unknown field"));
    assert!(msg("[]").contains("no learning rates"));
    assert!(msg("{}").contains("empty schedule object"));
    assert!(msg("3").contains("a schedule spec string"));
}

#[test]
fn grid_of_a_long_schedule_is_cheap() {
    let s = spec("wsd:peak=3e-4,steps=72000,warmup=500,shape=sqrt");
    let g = s.grid();
    assert_eq!(g.len(), 72000);
    assert_eq!(g.max_lr(), 3e-4);
    assert_eq!(g.as_slice()[71999], 0.0);
}
