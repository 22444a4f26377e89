//! The scheduler core's internal state: models, jobs and lanes.
//!
//! Owns the data layout (per-lane ready queues ordered by [`QueueKey`], the background queue of
//! contained work, the index of latest start times for early miss detection) and nothing else;
//! the transitions live in `engine` and `dispatch`.

use super::model::ModelSpec;
use crate::policy::QueueKey;
use aegis_trace::{Duration, EventId, RequestId, Timestamp};
use std::collections::BTreeMap;

/// What the core tracks about one registered model.
#[derive(Clone, Debug)]
pub(super) struct ModelState {
    pub(super) spec: ModelSpec,
    /// `min(wcet, budget)`.
    pub(super) threshold: Duration,
    /// Longest execution (or running time) seen.
    pub(super) observed_max: Duration,
    /// Longest execution reported at completion (running times left out): what
    /// `observed_max` falls back to when a running-time flag is withdrawn.
    pub(super) completed_max: Duration,
    /// The job whose overrun, flagged while it ran, began the current containment; `None`
    /// when another cause began it or a later overrun added to it. Its completion within
    /// budget withdraws the containment.
    pub(super) contained_by: Option<RequestId>,
    /// In containment after an overrun.
    pub(super) contained: bool,
    /// Contained, but its jobs get windows of their WCET again (not of the observed worst):
    /// it was starved of windows too long (see `SchedulerCore::release`).
    pub(super) probation: bool,
    /// When its containment began, or its last probation ended in a new overrun.
    pub(super) contained_since: Timestamp,
    /// When a job of it last started.
    pub(super) last_start: Option<Timestamp>,
    /// Releases still to skip (overrun action `SkipNextRelease`).
    pub(super) skip_pending: u32,
    /// Consecutive jobs within budget while contained.
    pub(super) good_streak: u32,
    /// The last admissible release.
    pub(super) last_release: Option<Timestamp>,
    /// When it was registered.
    pub(super) registered_at: Timestamp,
}

impl ModelState {
    pub(super) fn new(spec: ModelSpec, now: Timestamp) -> Self {
        ModelState {
            threshold: spec.threshold(),
            observed_max: Duration::ZERO,
            completed_max: Duration::ZERO,
            contained_by: None,
            contained: false,
            probation: false,
            contained_since: now,
            last_start: None,
            skip_pending: 0,
            good_streak: 0,
            last_release: None,
            registered_at: now,
            spec,
        }
    }

    /// The execution time the core assumes for the model's next job: its WCET, or for a
    /// contained model (not on probation) the larger of WCET and the observed worst.
    pub(super) fn estimate(&self) -> Duration {
        if self.contained && !self.probation {
            self.observed_max.max(self.spec.task.wcet)
        } else {
            self.spec.task.wcet
        }
    }

    /// The earliest time the model can release its next job: previous release plus the
    /// minimum inter-arrival time; before any release, the declared first release or the
    /// registration time.
    pub(super) fn next_earliest_release(&self) -> Timestamp {
        match self.last_release {
            Some(t) => t + self.spec.task.period,
            None => self.spec.first_release.unwrap_or(self.registered_at),
        }
    }
}

/// Trace events of one job (all [`EventId::UNASSIGNED`] when tracing is off).
#[derive(Clone, Copy, Debug)]
pub(super) struct JobEvents {
    pub(super) queued: EventId,
    pub(super) dispatched: EventId,
}

/// One released job.
#[derive(Clone, Debug)]
pub(super) struct Job {
    pub(super) model: u32,
    pub(super) request: RequestId,
    pub(super) release: Timestamp,
    pub(super) deadline: Timestamp,
    pub(super) key: QueueKey,
    /// `deadline − estimate` while indexed for early miss detection.
    pub(super) watch: Option<Timestamp>,
    /// Dispatch time (running jobs).
    pub(super) since: Timestamp,
    /// Estimate at dispatch (running jobs).
    pub(super) estimate: Duration,
    /// An overrun was already flagged while running.
    pub(super) flagged: bool,
    /// Already reported as late ([`super::Decision::LateDetected`]) and kept to run late.
    pub(super) late_reported: bool,
    pub(super) events: JobEvents,
}

/// Where a live request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Loc {
    Queued { lane: u32, key: QueueKey, background: bool },
    Running { lane: u32 },
}

/// One non-preemptive lane.
#[derive(Debug, Default)]
pub(super) struct LaneState {
    pub(super) running: Option<Job>,
    /// Jobs of uncontained models, in policy order.
    pub(super) ready: BTreeMap<QueueKey, Job>,
    /// Jobs of contained models, in policy order; they run only in safe windows.
    pub(super) background: BTreeMap<QueueKey, Job>,
    /// Latest start time (`deadline − estimate`, then arrival order) of watched queued jobs.
    pub(super) watch: BTreeMap<(Timestamp, u64), RequestId>,
    /// The head job last reported as deferred (reported once).
    pub(super) deferred: Option<RequestId>,
    /// Models bound to this lane, by index.
    pub(super) models: Vec<u32>,
}

impl LaneState {
    pub(super) fn queue_mut(&mut self, background: bool) -> &mut BTreeMap<QueueKey, Job> {
        if background { &mut self.background } else { &mut self.ready }
    }

    pub(super) fn queued(&self) -> usize {
        self.ready.len() + self.background.len()
    }
}
