//! How the scheduler core behaves: policy, lanes, what happens to late jobs and to models that
//! overrun their budget.
//!
//! Owns [`CoreConfig`], [`LateAction`], [`OverrunConfig`] and [`OverrunAction`]. It must not
//! know the state machine that reads them.

use crate::analysis::Policy;
use aegis_trace::Duration;
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;

/// What the core does with a queued job that can no longer meet its deadline
/// (`now + estimate > absolute deadline`), detected while it still waits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LateAction {
    /// Drop it (traced `deadline_miss` then `dropped`): its lane time goes to jobs that can
    /// still make it. The default.
    #[default]
    Drop,
    /// Keep it queued and run it late (traced `deadline_miss` when detected, and again at
    /// completion).
    RunLate,
}

/// What happens to a model once one of its jobs ran longer than its budget (its WCET as
/// admitted, or a smaller compute budget).
///
/// Jobs are non-preemptive: the core cannot stop a running job, so the overrunning job itself
/// runs to completion and can delay the jobs waiting behind it. What the policy controls is the
/// model's *later* jobs. Every action except [`OverrunAction::ReportOnly`] puts the model in
/// **containment**: its jobs start only in a *safe window*, where they provably cannot delay a
/// job of any uncontained model on the lane (see `scheduler` module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OverrunAction {
    /// Contain the model and skip (drop at release, traced) its next release after each
    /// overrun, giving the lane back one budget's worth of time.
    SkipNextRelease,
    /// Contain the model: its jobs become background work that runs only in safe windows.
    /// Its late jobs follow [`CoreConfig::late_action`]. The default.
    #[default]
    Demote,
    /// Contain the model and drop each of its queued jobs as soon as it can no longer meet
    /// its deadline with the model's observed worst execution time, whatever
    /// [`CoreConfig::late_action`] says.
    DropLateJobs,
    /// Trace the overrun and do nothing else. Breaks the isolation guarantee: an overrunning
    /// model can make admitted models miss (useful only as a baseline).
    ReportOnly,
}

impl OverrunAction {
    /// The snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            OverrunAction::SkipNextRelease => "skip_next_release",
            OverrunAction::Demote => "demote",
            OverrunAction::DropLateJobs => "drop_late_jobs",
            OverrunAction::ReportOnly => "report_only",
        }
    }

    /// True when the action puts the model in containment.
    pub fn contains(self) -> bool {
        !matches!(self, OverrunAction::ReportOnly)
    }
}

/// Overrun handling.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrunConfig {
    /// What to do.
    pub action: OverrunAction,
    /// Leave containment after this many consecutive jobs within budget (0: stay contained
    /// until the caller restores the model with `SchedulerCore::restore`).
    pub restore_after: u32,
    /// A running job is flagged as overrunning when the time since its dispatch exceeds its
    /// budget plus this grace (covers dispatch-to-start latency of the lane). Jobs are also
    /// checked at completion against their measured execution time, without grace.
    pub grace: Duration,
}

/// The scheduler core's configuration; part of what a replay needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoreConfig {
    /// The dispatch policy (and so the admission test that must have admitted the models).
    pub policy: Policy,
    /// Number of non-preemptive GPU lanes (default one: jobs serialised).
    pub lanes: NonZeroU32,
    /// What to do with a queued job that can no longer meet its deadline.
    pub late_action: LateAction,
    /// Detect such jobs while they wait (`now + WCET > deadline`); when false, misses are only
    /// seen at completion and every job runs.
    pub early_miss_detection: bool,
    /// Overrun handling.
    pub overrun: OverrunConfig,
    /// How many losing candidates an audited decision lists (the rest are counted).
    pub audit_alternatives: u8,
}

impl CoreConfig {
    /// One lane, drop late jobs, early detection on, demote overrunning models, three
    /// alternatives per audited decision.
    pub fn new(policy: Policy) -> Self {
        CoreConfig {
            policy,
            lanes: NonZeroU32::MIN,
            late_action: LateAction::Drop,
            early_miss_detection: true,
            overrun: OverrunConfig::default(),
            audit_alternatives: 3,
        }
    }

    /// The same configuration with `lanes` lanes.
    pub fn with_lanes(self, lanes: NonZeroU32) -> Self {
        CoreConfig { lanes, ..self }
    }

    /// The same configuration with another late action.
    pub fn with_late_action(self, late_action: LateAction) -> Self {
        CoreConfig { late_action, ..self }
    }

    /// The same configuration with another overrun handling.
    pub fn with_overrun(self, overrun: OverrunConfig) -> Self {
        CoreConfig { overrun, ..self }
    }
}
