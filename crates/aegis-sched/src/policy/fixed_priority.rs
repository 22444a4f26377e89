//! Fixed priority: the job of the highest-priority model (0 highest) runs first.
//!
//! Owns the fixed-priority rank only; it must not know lanes, time or how priorities were
//! assigned (see [`super::assign_rate_monotonic`] and [`super::assign_deadline_monotonic`]).

use super::{JobView, SchedulingPolicy, text};
use crate::analysis::Policy;

/// Non-preemptive fixed priority: rank = priority (admission test: `fp_rta_nonpreemptive`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FixedPriority;

impl SchedulingPolicy for FixedPriority {
    fn policy(&self) -> Policy {
        Policy::FixedPriority
    }
    fn name(&self) -> &'static str {
        "fp"
    }
    fn rank(&self, job: &JobView) -> u64 {
        u64::from(job.priority)
    }
    fn rule(&self) -> &'static str {
        "highest fixed priority (0 highest)"
    }
    fn rank_loss(&self, winner: &JobView, loser: &JobView) -> String {
        text(32, format_args!("priority {} after {}", loser.priority, winner.priority))
    }
}
