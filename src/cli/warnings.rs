//! Warnings of `rank` gathered over its candidates, each printed once however many schedules
//! it concerns.

/// Warnings gathered over several schedules, printed once each with the schedules they concern
/// (three candidates past the fitted horizon give one line, not three).
#[derive(Debug, Default)]
pub struct Collected {
    /// Each distinct message, in first-seen order, with the schedules it was raised for.
    entries: Vec<(String, Vec<String>)>,
}

impl Collected {
    /// Records `message` for `schedule`.
    pub fn add(&mut self, message: &str, schedule: &str) {
        let schedule = schedule.to_string();
        match self.entries.iter_mut().find(|(m, _)| m == message) {
            Some((_, who)) => {
                if !who.contains(&schedule) {
                    who.push(schedule);
                }
            }
            None => self.entries.push((message.to_string(), vec![schedule])),
        }
    }

    /// Prints each distinct message once on stderr; `total` is the number of schedules.
    pub fn print(&self, total: usize) {
        for line in self.lines(total) {
            eprintln!("warning: {line}");
        }
    }

    /// The lines to print, one per distinct message.
    pub fn lines(&self, total: usize) -> Vec<String> {
        self.entries
            .iter()
            .map(|(m, who)| match who.as_slice() {
                [one] if total > 1 => format!("{one}: {m}"),
                _ if who.len() >= total && total > 1 => format!("{m} (all {total} schedules)"),
                [_] => m.clone(),
                _ => format!("{m} ({} schedules: {})", who.len(), who.join("; ")),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Collected;

    #[test]
    fn a_warning_shared_by_schedules_is_one_line() {
        let mut c = Collected::default();
        c.add("extrapolating to 48000 steps", "a");
        c.add("peak LR too high", "a");
        c.add("extrapolating to 48000 steps", "b");
        c.add("extrapolating to 48000 steps", "b");
        c.add("extrapolating to 48000 steps", "c");
        assert_eq!(
            c.lines(3),
            [
                "extrapolating to 48000 steps (all 3 schedules)",
                "a: peak LR too high"
            ]
        );
        assert_eq!(
            c.lines(4),
            [
                "extrapolating to 48000 steps (3 schedules: a; b; c)",
                "a: peak LR too high"
            ]
        );
        assert_eq!(c.lines(1)[1], "peak LR too high");
    }
}
