//! Earliest deadline first: the job with the earliest absolute deadline runs first.
//!
//! Owns the EDF rank only; it must not know lanes or time.

use super::{JobView, SchedulingPolicy, Span, text};
use crate::analysis::Policy;

/// Non-preemptive EDF: rank = absolute deadline (admission test: `edf_nonpreemptive`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Edf;

impl SchedulingPolicy for Edf {
    fn policy(&self) -> Policy {
        Policy::Edf
    }
    fn name(&self) -> &'static str {
        "edf"
    }
    fn rank(&self, job: &JobView) -> u64 {
        job.deadline.as_nanos()
    }
    fn rule(&self) -> &'static str {
        "earliest absolute deadline"
    }
    fn rank_loss(&self, winner: &JobView, loser: &JobView) -> String {
        text(
            32,
            format_args!(
                "deadline {} later",
                Span(loser.deadline.saturating_duration_since(winner.deadline))
            ),
        )
    }
}
