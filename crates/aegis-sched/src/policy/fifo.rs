//! First in, first out: the job released first runs first.
//!
//! Owns the FIFO rank only; it must not know lanes or time.

use super::{JobView, SchedulingPolicy, Span, text};
use crate::analysis::Policy;

/// Non-preemptive FIFO: rank = release time (admission test: `fifo_nonpreemptive`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fifo;

impl SchedulingPolicy for Fifo {
    fn policy(&self) -> Policy {
        Policy::Fifo
    }
    fn name(&self) -> &'static str {
        "fifo"
    }
    fn rank(&self, job: &JobView) -> u64 {
        job.release.as_nanos()
    }
    fn rule(&self) -> &'static str {
        "earliest release (first in, first out)"
    }
    fn rank_loss(&self, winner: &JobView, loser: &JobView) -> String {
        text(
            32,
            format_args!(
                "released {} later",
                Span(loser.release.saturating_duration_since(winner.release))
            ),
        )
    }
}
