//! Admission of a whole task set, for simulations: one call to the
//! [`AdmissionController`], and the lane each task got.
//!
//! Owns the glue between a task list and the controller; it must not run any test itself.

use crate::analysis::{
    AdmissionConfig, AdmissionController, AdmissionRequest, AdmissionResult, LaneVerdict, Policy,
};
use crate::scheduler::{ModelSpec, specs_from_admission};
use crate::task::TaskParams;
use std::num::NonZeroU32;

/// Analyses `tasks` as one set under `policy` on `lanes` lanes (the last task is the request,
/// the others the existing set: the controller re-partitions the whole set either way).
pub fn admit_set(
    policy: Policy,
    lanes: NonZeroU32,
    tasks: &[TaskParams],
) -> Option<AdmissionResult> {
    let (last, rest) = tasks.split_last()?;
    let ctl = AdmissionController::new(AdmissionConfig::new(policy).with_lanes(lanes));
    Some(ctl.analyze(&AdmissionRequest { task: last.clone(), memory: None }, rest))
}

/// The admitted set as model specs bound to their lanes, with each task's response bound
/// (`None` when the set was refused or empty).
pub fn admitted_specs(
    policy: Policy,
    lanes: NonZeroU32,
    tasks: &[TaskParams],
) -> Option<(Vec<ModelSpec>, Vec<Option<u64>>, AdmissionResult)> {
    let result = admit_set(policy, lanes, tasks)?;
    let specs = specs_from_admission(tasks, &result).ok()?;
    let bounds = tasks.iter().map(|t| response_bound(&result, t)).collect();
    Some((specs, bounds, result))
}

/// The analysis' bound on `task`'s response time in an admitted result: the response-time
/// bound (FIFO, fixed priority) or the deadline (EDF).
pub fn response_bound(result: &AdmissionResult, task: &TaskParams) -> Option<u64> {
    let lane = result.analysis_detail.lanes.iter().find(|l| l.tasks.contains(&task.name))?;
    match lane.verdict.as_ref()? {
        LaneVerdict::Rta(r) => r.task(task.name.as_str())?.response.map(|d| d.as_nanos()),
        LaneVerdict::Demand(d) => d.schedulable.then_some(task.deadline.as_nanos()),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}
