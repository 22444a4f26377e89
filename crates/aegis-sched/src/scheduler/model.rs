//! A model as the scheduler core knows it: its task parameters, its lane and its budget.
//!
//! Owns [`ModelSpec`] (what the caller registers) and [`specs_from_admission`] (lanes taken from
//! the admission controller's partition). It must not know how the model executes.

use super::error::CoreError;
use crate::analysis::AdmissionResult;
use crate::task::TaskParams;
use aegis_trace::{Duration, EventId, Timestamp};
use serde::{Deserialize, Serialize};

/// One admitted model, registered with the scheduler core.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelSpec {
    /// The model as a sporadic task (WCET, minimum inter-arrival, relative deadline,
    /// priority), exactly as admitted.
    pub task: TaskParams,
    /// The lane its jobs run on (from the admission partition; 0 with one lane).
    pub lane: u32,
    /// A per-job compute budget smaller than the WCET, if any: a job running longer than
    /// `min(wcet, budget)` is an overrun.
    pub budget: Option<Duration>,
    /// The trace event of the model's admission; every `submitted` event links to it.
    pub admission_event: Option<EventId>,
    /// The earliest time of the model's first release, when known (a periodic model with an
    /// offset). Unknown: it may release at any time after registration. Used only for safe
    /// windows of contained work.
    pub first_release: Option<Timestamp>,
}

impl ModelSpec {
    /// A model on lane 0 with no extra budget, no admission event and an unknown first
    /// release.
    pub fn new(task: TaskParams) -> Self {
        ModelSpec { task, lane: 0, budget: None, admission_event: None, first_release: None }
    }
    /// Sets the lane.
    pub fn lane(mut self, lane: u32) -> Self {
        self.lane = lane;
        self
    }
    /// Sets a compute budget.
    pub fn budget(mut self, budget: Duration) -> Self {
        self.budget = Some(budget);
        self
    }
    /// Links the admission event.
    pub fn admission_event(mut self, event: EventId) -> Self {
        self.admission_event = Some(event);
        self
    }
    /// Declares the earliest first release.
    pub fn first_release(mut self, at: Timestamp) -> Self {
        self.first_release = Some(at);
        self
    }
    /// The overrun threshold: `min(wcet, budget)`.
    pub fn threshold(&self) -> Duration {
        self.budget.map_or(self.task.wcet, |b| b.min(self.task.wcet))
    }
}

/// One [`ModelSpec`] per task, each bound to the lane that `admission` assigned it.
///
/// # Errors
/// [`CoreError::NotAdmitted`] when `admission` was refused or has no lane for a task.
pub fn specs_from_admission(
    tasks: &[TaskParams],
    admission: &AdmissionResult,
) -> Result<Vec<ModelSpec>, CoreError> {
    tasks
        .iter()
        .map(|t| {
            let lane = admission
                .admitted
                .then(|| {
                    admission
                        .analysis_detail
                        .lanes
                        .iter()
                        .find(|l| l.tasks.contains(&t.name))
                        .map(|l| l.lane)
                })
                .flatten()
                .ok_or_else(|| CoreError::NotAdmitted { model: t.name.clone() })?;
            Ok(ModelSpec::new(t.clone()).lane(lane))
        })
        .collect()
}
