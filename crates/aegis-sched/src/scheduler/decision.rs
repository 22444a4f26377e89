//! What the scheduler core tells its driver: [`Decision`]s.
//!
//! Owns the decision vocabulary (dispatch, drop, defer, and the outcomes the core detects:
//! completion with deadline verdict, late job, overrun, restoration). It must not know how a
//! decision is carried out or recorded.

use super::config::OverrunAction;
use aegis_trace::{Duration, ModelId, RequestId, Timestamp};
use serde::{Deserialize, Serialize};

/// Why a request was dropped without running.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DropReason {
    /// The caller cancelled it while it was queued.
    Cancelled,
    /// It could no longer meet its deadline: `now + estimate > deadline`.
    CannotMeetDeadline {
        /// `now + estimate` when detected.
        earliest_finish: Timestamp,
        /// Its absolute deadline.
        deadline: Timestamp,
    },
    /// Its model overran and the overrun action skips the next release.
    OverrunSkip,
    /// Released before the model's minimum inter-arrival time had passed since its previous
    /// release: running it would break the sporadic model the admission test assumed.
    ReleaseTooEarly {
        /// The earliest admissible release time.
        earliest: Timestamp,
    },
}

/// Why a lane stays idle although work is queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeferReason {
    /// Only contained (overrunning) work is queued and none of it fits before the next
    /// possible release of an uncontained model on the lane.
    NoSafeWindow {
        /// The head job's estimate (its model's observed worst execution time).
        needed: Duration,
        /// The end of the window: the earliest possible next release of an uncontained model.
        window_end: Timestamp,
    },
}

/// When an overrun was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverrunStage {
    /// While the job was still running (time since dispatch exceeded budget + grace).
    Running,
    /// At completion (measured execution time exceeded the budget).
    AtCompletion,
}

/// One output of the scheduler core.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Decision {
    /// Start `request` of `model` on `lane` now.
    Dispatch {
        /// When.
        at: Timestamp,
        /// The lane.
        lane: u32,
        /// The model.
        model: ModelId,
        /// The request.
        request: RequestId,
        /// Its release time.
        release: Timestamp,
        /// Its absolute deadline.
        deadline: Timestamp,
        /// The execution time the core assumed (WCET, or the observed worst for contained
        /// models).
        estimate: Duration,
        /// True when it is contained work started in a safe window.
        background: bool,
    },
    /// `request` will not run.
    Drop {
        /// When.
        at: Timestamp,
        /// The model.
        model: ModelId,
        /// The request.
        request: RequestId,
        /// Why.
        reason: DropReason,
    },
    /// `lane` stays idle although `request` is queued on it (reported once per head job).
    Defer {
        /// When.
        at: Timestamp,
        /// The lane.
        lane: u32,
        /// The head job's model.
        model: ModelId,
        /// The head job.
        request: RequestId,
        /// Why.
        reason: DeferReason,
    },
    /// A queued job can no longer meet its deadline and is kept to run late
    /// ([`super::LateAction::RunLate`]).
    LateDetected {
        /// When.
        at: Timestamp,
        /// The model.
        model: ModelId,
        /// The request.
        request: RequestId,
        /// `now + estimate`.
        earliest_finish: Timestamp,
        /// Its absolute deadline.
        deadline: Timestamp,
    },
    /// A job finished (the deadline verdict is `met`).
    Completed {
        /// Finish time as reported.
        at: Timestamp,
        /// The lane.
        lane: u32,
        /// The model.
        model: ModelId,
        /// The request.
        request: RequestId,
        /// Its release time.
        release: Timestamp,
        /// Its absolute deadline.
        deadline: Timestamp,
        /// Measured execution time.
        exec: Duration,
        /// `at <= deadline`.
        met: bool,
    },
    /// A job ran longer than its model's budget.
    Overrun {
        /// When detected.
        at: Timestamp,
        /// The lane.
        lane: u32,
        /// The model.
        model: ModelId,
        /// The request.
        request: RequestId,
        /// Execution time measured (at completion) or time since dispatch (while running).
        elapsed: Duration,
        /// The budget exceeded.
        threshold: Duration,
        /// When it was seen.
        stage: OverrunStage,
        /// What the core does about it.
        action: OverrunAction,
    },
    /// A job flagged while running ([`OverrunStage::Running`]) finished within its budget:
    /// the time past the budget was not its execution (it started late on its lane, or its
    /// completion was reported late: host delays), so the flag is withdrawn and the
    /// containment it began is lifted ([`Decision::Restored`] follows).
    OverrunWithdrawn {
        /// When (its completion).
        at: Timestamp,
        /// The lane.
        lane: u32,
        /// The model.
        model: ModelId,
        /// The request.
        request: RequestId,
        /// Its execution time as reported at completion.
        exec: Duration,
        /// The budget it stayed within.
        threshold: Duration,
    },
    /// A contained model runs at its normal rank again.
    Restored {
        /// When.
        at: Timestamp,
        /// The model.
        model: ModelId,
    },
}

impl Decision {
    /// When the decision was made.
    pub fn at(&self) -> Timestamp {
        match self {
            Decision::Dispatch { at, .. }
            | Decision::Drop { at, .. }
            | Decision::Defer { at, .. }
            | Decision::LateDetected { at, .. }
            | Decision::Completed { at, .. }
            | Decision::Overrun { at, .. }
            | Decision::OverrunWithdrawn { at, .. }
            | Decision::Restored { at, .. } => *at,
        }
    }

    /// The model it concerns.
    pub fn model(&self) -> &ModelId {
        match self {
            Decision::Dispatch { model, .. }
            | Decision::Drop { model, .. }
            | Decision::Defer { model, .. }
            | Decision::LateDetected { model, .. }
            | Decision::Completed { model, .. }
            | Decision::Overrun { model, .. }
            | Decision::OverrunWithdrawn { model, .. }
            | Decision::Restored { model, .. } => model,
        }
    }

    /// The request it concerns (`None` for [`Decision::Restored`]).
    pub fn request(&self) -> Option<RequestId> {
        match self {
            Decision::Dispatch { request, .. }
            | Decision::Drop { request, .. }
            | Decision::Defer { request, .. }
            | Decision::LateDetected { request, .. }
            | Decision::Completed { request, .. }
            | Decision::Overrun { request, .. }
            | Decision::OverrunWithdrawn { request, .. } => Some(*request),
            Decision::Restored { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors_cover_every_variant_and_serde_names_the_kind() {
        let at = Timestamp::from_nanos(7);
        let m = ModelId::new("m");
        let r = RequestId(3);
        let d = Duration::from_nanos(1);
        let all = [
            Decision::Dispatch {
                at,
                lane: 0,
                model: m.clone(),
                request: r,
                release: at,
                deadline: at,
                estimate: d,
                background: false,
            },
            Decision::Drop { at, model: m.clone(), request: r, reason: DropReason::Cancelled },
            Decision::Defer {
                at,
                lane: 0,
                model: m.clone(),
                request: r,
                reason: DeferReason::NoSafeWindow { needed: d, window_end: at },
            },
            Decision::LateDetected {
                at,
                model: m.clone(),
                request: r,
                earliest_finish: at,
                deadline: at,
            },
            Decision::Completed {
                at,
                lane: 0,
                model: m.clone(),
                request: r,
                release: at,
                deadline: at,
                exec: d,
                met: true,
            },
            Decision::Overrun {
                at,
                lane: 0,
                model: m.clone(),
                request: r,
                elapsed: d,
                threshold: d,
                stage: OverrunStage::Running,
                action: OverrunAction::Demote,
            },
            Decision::OverrunWithdrawn {
                at,
                lane: 0,
                model: m.clone(),
                request: r,
                exec: d,
                threshold: d,
            },
            Decision::Restored { at, model: m.clone() },
        ];
        for x in &all {
            assert_eq!(x.at(), at);
            assert_eq!(x.model(), &m);
            let json = serde_json::to_string(x).unwrap();
            let back: Decision = serde_json::from_str(&json).unwrap();
            assert_eq!(&back, x);
        }
        assert_eq!(all.iter().filter(|x| x.request() == Some(r)).count(), 7);
        let json = serde_json::to_value(&all[1]).unwrap();
        assert_eq!(json["decision"], "drop");
        assert_eq!(json["reason"]["kind"], "cancelled");
    }
}
