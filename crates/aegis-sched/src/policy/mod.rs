//! Scheduling policies: which ready job a lane runs next.
//!
//! Owns the [`SchedulingPolicy`] trait, the three policies ([`Fifo`], [`Edf`],
//! [`FixedPriority`]), the total order of ready jobs ([`QueueKey`]) with its tie rules, and the
//! rate- and deadline-monotonic priority assignments ([`assign_rate_monotonic`],
//! [`assign_deadline_monotonic`]). It must not know about lanes, time advancing, budgets,
//! tracing or CUDA stream priorities (the mapping of priority 0 = highest onto CUDA's
//! "lower number = higher priority" lives in `aegis-cuda`).
//!
//! ## The order of ready jobs, ties included
//! Every policy maps a job to a *rank* (smaller runs first) and the order is the lexicographic
//! order of [`QueueKey`] `(rank, release, priority, seq)`:
//!
//! | policy | rank | ties broken by |
//! |---|---|---|
//! | [`Fifo`] | release time | higher priority (smaller number), then arrival order |
//! | [`Edf`] | absolute deadline | earlier release, higher priority, then arrival order |
//! | [`FixedPriority`] | priority (0 highest) | earlier release, then arrival order |
//!
//! `seq` is the order in which the scheduler core received the releases, so the order is total
//! and the same on every replay of the same inputs. These tie rules are admissible for the
//! admission tests: the FIFO bound allows any order among simultaneous releases, the
//! non-preemptive EDF test any order among equal deadlines, and the fixed-priority test needs
//! unique priorities between tasks (jobs of one task are served in release order).
//!
//! Priority 0 is the highest everywhere in the API.

mod assign;
mod edf;
mod fifo;
mod fixed_priority;
mod text;

pub use assign::{assign_deadline_monotonic, assign_rate_monotonic};
pub use edf::Edf;
pub use fifo::Fifo;
pub use fixed_priority::FixedPriority;
pub use text::{At, Span, text};

use crate::analysis::Policy;
use aegis_trace::Timestamp;
use std::fmt;

/// What a policy may look at to rank a ready job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct JobView {
    /// When the job was released.
    pub release: Timestamp,
    /// Its absolute deadline (release + relative deadline).
    pub deadline: Timestamp,
    /// Its model's fixed priority (0 highest).
    pub priority: u32,
    /// The order in which the core received the release (0, 1, 2, …).
    pub seq: u64,
}

/// The total order of ready jobs: lexicographic over the fields, smaller runs first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueueKey {
    /// The policy's rank (see [`SchedulingPolicy::rank`]).
    pub rank: u64,
    /// Release time in nanoseconds.
    pub release: u64,
    /// Fixed priority (0 highest).
    pub priority: u32,
    /// Arrival order at the core.
    pub seq: u64,
}

/// A dispatch policy for one non-preemptive lane: a ranking of ready jobs.
///
/// The scheduler core keeps each lane's ready jobs ordered by [`SchedulingPolicy::key`] and
/// dispatches the smallest when the lane is idle (work-conserving, never preempting).
pub trait SchedulingPolicy: fmt::Debug + Send + Sync {
    /// The admission policy whose test matches this dispatch rule.
    fn policy(&self) -> Policy;

    /// A short name (`"fifo"`, `"edf"`, `"fp"`).
    fn name(&self) -> &'static str;

    /// The job's rank; smaller runs first.
    fn rank(&self, job: &JobView) -> u64;

    /// Why the smallest rank wins, in words (`"earliest absolute deadline"`).
    fn rule(&self) -> &'static str;

    /// Why `loser` ranks after `winner` on the rank alone (ranks differ).
    fn rank_loss(&self, winner: &JobView, loser: &JobView) -> String;

    /// The full queue key: rank, then the tie rules of the module docs.
    fn key(&self, job: &JobView) -> QueueKey {
        QueueKey {
            rank: self.rank(job),
            release: job.release.as_nanos(),
            priority: job.priority,
            seq: job.seq,
        }
    }

    /// Why `loser` was not chosen over `winner` (`winner` orders first), ties included.
    fn explain_loss(&self, winner: &JobView, loser: &JobView) -> String {
        let (w, l) = (self.key(winner), self.key(loser));
        if w.rank != l.rank {
            self.rank_loss(winner, loser)
        } else if w.release != l.release {
            let later = loser.release.saturating_duration_since(winner.release);
            text(48, format_args!("tie on {}; released {} later", self.name(), Span(later)))
        } else if w.priority != l.priority {
            format!(
                "tie on {} and release; priority {} after {}",
                self.name(),
                l.priority,
                w.priority
            )
        } else {
            format!("tie on {}, release and priority; arrived later", self.name())
        }
    }
}

/// The dispatch policy that matches an admission [`Policy`].
pub fn policy_for(policy: Policy) -> Box<dyn SchedulingPolicy> {
    match policy {
        Policy::Fifo => Box::new(Fifo),
        Policy::Edf => Box::new(Edf),
        Policy::FixedPriority => Box::new(FixedPriority),
    }
}

/// The short name of an admission [`Policy`] (`"fifo"`, `"edf"`, `"fp"`).
pub fn policy_name(policy: Policy) -> &'static str {
    policy_for(policy).name()
}

/// Parses `"fifo"`, `"edf"` or `"fp"` (also `"fixed_priority"`), case-insensitive.
pub fn parse_policy(name: &str) -> Option<Policy> {
    match name.to_ascii_lowercase().as_str() {
        "fifo" => Some(Policy::Fifo),
        "edf" => Some(Policy::Edf),
        "fp" | "fixed_priority" | "fixed-priority" => Some(Policy::FixedPriority),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(release: u64, deadline: u64, priority: u32, seq: u64) -> JobView {
        JobView {
            release: Timestamp::from_nanos(release),
            deadline: Timestamp::from_nanos(deadline),
            priority,
            seq,
        }
    }

    #[test]
    fn names_parse_back() {
        for p in [Policy::Fifo, Policy::Edf, Policy::FixedPriority] {
            assert_eq!(parse_policy(policy_name(p)), Some(p));
            assert_eq!(policy_for(p).policy(), p);
        }
        assert_eq!(parse_policy("Fixed_Priority"), Some(Policy::FixedPriority));
        assert_eq!(parse_policy("rm"), None);
    }

    #[test]
    fn explanations_name_the_deciding_field() {
        let edf = Edf;
        let a = job(0, 10, 5, 0);
        assert!(edf.explain_loss(&a, &job(0, 15, 0, 1)).contains("deadline 5 ns later"));
        assert!(edf.explain_loss(&a, &job(3, 10, 0, 1)).contains("released 3 ns later"));
        assert!(edf.explain_loss(&a, &job(0, 10, 7, 1)).contains("priority 7 after 5"));
        assert!(edf.explain_loss(&a, &job(0, 10, 5, 1)).contains("arrived later"));
        assert!(FixedPriority.explain_loss(&a, &job(0, 1, 6, 1)).contains("priority 6 after 5"));
        assert!(Fifo.explain_loss(&a, &job(4, 5, 0, 1)).contains("released 4 ns later"));
        assert_eq!(Fifo.rule(), "earliest release (first in, first out)");
    }
}
