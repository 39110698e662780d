//! Multi-phase specs: ordinary specs joined at explicit update boundaries.

use super::LrSchedule;
use super::error::ScheduleError;
use super::spec::{MAX_STEPS, ScheduleSpec};

/// A phase after the first of a multi-phase spec.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Phase {
    /// Updates before the phase: its update 0 is update `start` overall (`@start`).
    pub(super) start: u64,
    /// The phase's own single-family spec, indexed from its start.
    pub(super) spec: ScheduleSpec,
    /// The LR of the update before the phase, where its warmup starts. Derived from the
    /// earlier phases, so it is never written.
    pub(super) from: f64,
}

impl ScheduleSpec {
    /// This schedule for updates `t < start`, then `next` from update index `start` on (`next`'s
    /// update 0 is update `start` overall): the spec text `self; @start next`.
    ///
    /// `start` must lie after the start of the current last phase and no later than the end of
    /// the schedule (a phase may be cut short, never stretched). A warmup of `next` re-warms
    /// linearly from the LR of the update before `start` to `next`'s peak (from 0 only when
    /// that LR is 0); everything else of `next` is its ordinary single-family formula. A
    /// multi-phase `next` joins phase by phase.
    ///
    /// ```
    /// use lrsde::schedule::{LrSchedule, ScheduleSpec};
    /// let stable: ScheduleSpec = "constant:peak=1,steps=100".parse()?;
    /// let cooldown: ScheduleSpec = "linear:peak=0.5,steps=10".parse()?;
    /// let run = stable.then_at(60, cooldown)?;
    /// assert_eq!(run.to_string(), "constant:peak=1,steps=100; @60 linear:peak=0.5,steps=10,final=0");
    /// assert_eq!((run.steps(), run.lr(59), run.lr(60), run.lr(69)), (70, 1.0, 0.45, 0.0));
    /// # Ok::<(), lrsde::schedule::ScheduleError>(())
    /// ```
    ///
    /// # Errors
    /// [`ScheduleError::PhaseBoundary`] for a `start` outside that range,
    /// [`ScheduleError::PhasesTooLong`] when the schedule would exceed [`MAX_STEPS`] updates.
    pub fn then_at(mut self, start: u64, next: ScheduleSpec) -> Result<Self, ScheduleError> {
        let ScheduleSpec {
            family,
            peak,
            steps,
            warmup,
            later,
        } = next;
        let head = ScheduleSpec {
            family,
            peak,
            steps,
            warmup,
            later: Vec::new(),
        };
        self.push(start, head)?;
        for p in later {
            // Cannot overflow: the flattened phases end where `next` ends, checked just below.
            self.push(start.saturating_add(p.start), p.spec)?;
        }
        Ok(self)
    }

    /// Appends one single-family phase.
    fn push(&mut self, start: u64, spec: ScheduleSpec) -> Result<(), ScheduleError> {
        let phase = self.later.len() + 2;
        let prev_start = self.later.last().map_or(0, |p| p.start);
        let end = self.steps();
        if start <= prev_start || start > end {
            return Err(ScheduleError::PhaseBoundary {
                phase,
                start,
                lo: prev_start + 1,
                hi: end,
                spec: format!("{self}; @{start} {spec}"),
            });
        }
        let total = start.saturating_add(spec.steps);
        if total > MAX_STEPS {
            return Err(ScheduleError::PhasesTooLong {
                phase,
                end: total,
                spec: format!("{self}; @{start} {spec}"),
            });
        }
        let from = self.lr(start - 1);
        self.later.push(Phase { start, spec, from });
        Ok(())
    }

    /// The phases as `(start, single-family spec)`, the first at 0: one entry for an
    /// ordinary spec.
    ///
    /// ```
    /// let s: lrsde::schedule::ScheduleSpec =
    ///     "cosine:peak=1,steps=100; @80 constant:peak=0.1,steps=50".parse()?;
    /// let p = s.phases();
    /// assert_eq!((p.len(), p[1].0, p[1].1.to_string()), (2, 80, "constant:peak=0.1,steps=50".into()));
    /// # Ok::<(), lrsde::schedule::ScheduleError>(())
    /// ```
    pub fn phases(&self) -> Vec<(u64, ScheduleSpec)> {
        let first = ScheduleSpec {
            family: self.family.clone(),
            peak: self.peak,
            steps: self.steps,
            warmup: self.warmup,
            later: Vec::new(),
        };
        std::iter::once((0, first))
            .chain(self.later.iter().map(|p| (p.start, p.spec.clone())))
            .collect()
    }

    /// The LR of update `t` of a multi-phase spec: the phase that covers `t`, with a later
    /// phase's warmup starting from the LR before it.
    pub(super) fn phased_lr(&self, t: u64) -> f64 {
        let t = t.min(self.steps() - 1);
        match self.later.iter().rev().find(|p| p.start <= t) {
            Some(p) => p.spec.phase_lr(t - p.start, p.from),
            None => self.phase_lr(t, 0.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Concat, LrSchedule, ScheduleError, ScheduleSpec};

    fn spec(s: &str) -> ScheduleSpec {
        s.parse()
            .unwrap_or_else(|e| panic!("`{s}` should parse: {e}"))
    }

    fn msg(s: &str) -> String {
        s.parse::<ScheduleSpec>().unwrap_err().to_string()
    }

    #[test]
    fn phases_without_warmup_are_the_concatenation_of_their_specs() {
        let (a, b, c) = (
            spec("cosine:peak=3e-4,steps=2000,warmup=100,final=0.1"),
            spec("constant:peak=1e-4,steps=700"),
            spec("wsd:peak=2e-4,steps=500,decay=0.3,shape=sqrt"),
        );
        let phased = spec(&format!("{a}; @1500 {b}; @2000 {c}"));
        let concat = Concat::new(Concat::new(&a, 1500, &b).unwrap(), 2000, &c).unwrap();
        assert_eq!(phased.steps(), 2500);
        assert_eq!(phased.grid(), concat.grid().unwrap());
        assert_eq!(phased.peak(), 3e-4);
        assert_eq!(phased.final_lr(), 0.0);
    }

    #[test]
    fn a_later_warmup_ramps_from_the_lr_before_the_phase() {
        // Stable at 1 for 100 updates, then re-warm over 4 updates to 2, then cosine to 0.
        let s = spec("constant:peak=1,steps=100; @100 cosine:peak=2,steps=10,warmup=4");
        let want = [1.0, 1.25, 1.5, 1.75, 2.0];
        for (i, w) in want.iter().enumerate() {
            assert_eq!(s.lr(99 + i as u64), *w, "update index {}", 99 + i);
        }
        // After warmup: the cosine's own formula over (warmup, steps], p = 1/6 at index 104.
        let p = 1.0 / 6.0;
        let cos = 2.0 * 0.5 * (1.0 + (std::f64::consts::PI * p).cos());
        assert!((s.lr(104) - cos).abs() < 1e-15);
        assert_eq!(s.lr(109), 0.0);
        // After a decay to 0, a re-warm is the ordinary warmup from 0.
        let r = spec("linear:peak=1,steps=10; @10 constant:peak=1,steps=10,warmup=5");
        assert_eq!(r.lr(10), 0.2);
        // Down-ramp when the previous LR is above the new peak: linear interpolation.
        let d = spec("constant:peak=1,steps=10; @10 constant:peak=0.5,steps=10,warmup=2");
        assert_eq!((d.lr(10), d.lr(11)), (0.75, 0.5));
    }

    #[test]
    fn boundaries_default_to_the_previous_end_and_may_cut_a_phase_short() {
        let s = spec("constant:peak=1,steps=10;linear:peak=1,steps=10");
        assert_eq!(
            s.to_string(),
            "constant:peak=1,steps=10; @10 linear:peak=1,steps=10,final=0"
        );
        assert_eq!((s.steps(), s.lr(9), s.lr(10)), (20, 1.0, 0.9));
        // WSD-S: decay, jump back to the stable LR, decay again; the first cosine cut at 60.
        let cyc = spec(
            "wsd:peak=1,steps=100,decay=0.1; @100 wsd:peak=1,steps=100,decay=0.1;\
             @200 cosine:peak=1,steps=100",
        );
        assert_eq!(
            (cyc.lr(99), cyc.lr(100), cyc.lr(199), cyc.steps()),
            (0.0, 1.0, 0.0, 300)
        );
        let cut = spec("cosine:peak=1,steps=100 ;@ 60 constant:peak=0.1,steps=40");
        assert_eq!(
            (cut.steps(), cut.lr(59), cut.lr(60)),
            (100, spec("cosine:peak=1,steps=100").lr(59), 0.1)
        );
    }

    #[test]
    fn display_is_canonical_and_round_trips() {
        let text = "COSINE: peak=3e-4, steps=20000 ; @20000 linear:peak=3e-4,steps=4000;";
        let s = spec(text);
        let canon =
            "cosine:peak=0.0003,steps=20000,final=0; @20000 linear:peak=0.0003,steps=4000,final=0";
        assert_eq!(s.to_string(), canon);
        assert_eq!(spec(canon), s);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<ScheduleSpec>(&json).unwrap(), s);
        // A trailing semicolon alone leaves an ordinary spec.
        assert_eq!(
            spec("constant:peak=1,steps=5;"),
            spec("constant:peak=1,steps=5")
        );
    }

    #[test]
    fn errors_name_the_phase_and_the_key() {
        let m = msg("constant:peak=1,steps=10; @10 linear:peak=-1,steps=5");
        assert!(m.starts_with("phase 2 of schedule `constant:peak=1,steps=10; @10 linear:peak=-1,steps=5`: invalid `peak=-1` in schedule `linear:peak=-1,steps=5`"), "{m}");
        let m = msg("constant:peak=1,steps=10; @10 linear:peek=1,steps=5");
        assert!(
            m.contains("phase 2") && m.contains("unknown key `peek`"),
            "{m}"
        );
        let m = msg("constant:peak=1,steps=10; @11 linear:peak=1,steps=5");
        assert!(m.contains("phase 2 of schedule `constant:peak=1,steps=10; @11 linear:peak=1,steps=5` starts at `@11`, but must start in [1, 10]"), "{m}");
        let m =
            msg("constant:peak=1,steps=10; @5 constant:peak=1,steps=10; @5 linear:peak=1,steps=5");
        assert!(
            m.contains("phase 3") && m.contains("must start in [6, 15]"),
            "{m}"
        );
        assert!(
            msg("@5 constant:peak=1,steps=10; constant:peak=1,steps=1")
                .contains("phase 1 `@5 constant:peak=1,steps=10`")
        );
        assert!(
            msg("constant:peak=1,steps=10; @x constant:peak=1,steps=1")
                .contains("`@` must be followed by the number of updates")
        );
        assert!(msg("constant:peak=1,steps=10; @3").contains("no schedule after the boundary"));
        assert!(
            msg("constant:peak=1,steps=10; @99999999999999999999 constant:peak=1,steps=1")
                .contains("does not fit in 64 bits")
        );
        assert!(
            msg("constant:peak=1,steps=9007199254740992; constant:peak=1,steps=1")
                .contains("beyond the longest schedule")
        );
        assert!(matches!(
            " ; ; ".parse::<ScheduleSpec>(),
            Err(ScheduleError::EmptySpec)
        ));
        let two = spec("constant:peak=1,steps=10;constant:peak=1,steps=1");
        assert!(
            two.with_peak(2.0)
                .unwrap_err()
                .to_string()
                .contains("`with_peak` edits a single-family schedule")
        );
    }

    #[test]
    fn then_at_flattens_a_multi_phase_continuation() {
        let a = spec("constant:peak=1,steps=10");
        let bc = spec("constant:peak=0.5,steps=5; @5 linear:peak=0.5,steps=5");
        let abc = a.then_at(8, bc).unwrap();
        assert_eq!(
            abc.to_string(),
            "constant:peak=1,steps=10; @8 constant:peak=0.5,steps=5; @13 linear:peak=0.5,steps=5,final=0"
        );
        assert_eq!(abc.phases().len(), 3);
    }
}
