//! Ranking and searching schedules.
