//! `aegisrt simulate FILE --policy edf|fifo|fp --jobs N`: simulate an `aegisrt analyze` task set.
//!
//! Owns [`simulate_file`] / [`simulate_json`] and their options. The task set is admitted first
//! (the verdict goes into the report); an admitted set runs on the admission's lanes, a refused
//! one is simulated anyway (tasks spread over lanes in input order) so the misses can be seen.
//! Reading the file is the only I/O in the simulator.

use super::admit::admitted_specs;
use super::error::SimError;
use super::exec::{Arrival, ExecTime};
use super::report::{AdmissionSummary, SimReport};
use super::run::{SimConfig, SimTask, simulate};
use crate::analysis::{Policy, parse_task_set_json};
use crate::scheduler::{CoreConfig, ModelSpec};
use aegis_trace::Duration;
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;
use std::path::Path;

/// Execution times of the simulated jobs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ExecChoice {
    /// Every job runs its WCET (the default).
    #[default]
    Wcet,
    /// Uniform in `[wcet · bcet_percent / 100, wcet]`.
    Uniform {
        /// Best case as a percentage of the WCET (1 ..= 100).
        bcet_percent: u8,
    },
}

/// Release pattern of the simulated jobs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ArrivalChoice {
    /// Periodic, all released together at 0 (the default).
    #[default]
    Periodic,
    /// Sporadic: each gap is the period plus up to `max_extra_percent` % of it.
    Sporadic {
        /// Largest extra delay, percent of the period.
        max_extra_percent: u32,
    },
}

/// Options of [`simulate_file`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimFileOptions {
    /// Dispatch policy.
    pub policy: Policy,
    /// Jobs to release in total.
    pub jobs: u64,
    /// Lanes.
    pub lanes: NonZeroU32,
    /// Seed.
    pub seed: u64,
    /// Execution times.
    pub exec: ExecChoice,
    /// Releases.
    pub arrival: ArrivalChoice,
}

impl SimFileOptions {
    /// `jobs` jobs under `policy`: one lane, seed 1, WCET execution, periodic releases.
    pub fn new(policy: Policy, jobs: u64) -> Self {
        SimFileOptions {
            policy,
            jobs,
            lanes: NonZeroU32::MIN,
            seed: 1,
            exec: ExecChoice::Wcet,
            arrival: ArrivalChoice::Periodic,
        }
    }
}

/// Reads the `aegisrt analyze` task set at `path` and simulates it (see [`simulate_json`]).
///
/// # Errors
/// The file cannot be read, or as [`simulate_json`].
pub fn simulate_file(path: &Path, opts: &SimFileOptions) -> Result<SimReport, SimError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| SimError::Io { path: path.to_path_buf(), source })?;
    simulate_json(&text, opts)
}

/// Simulates an `aegisrt analyze` task set (`{"tasks":[{"name","wcet_us","period_us",
/// "deadline_us","priority"}]}`): admission first, then `opts.jobs` jobs.
///
/// # Errors
/// Invalid JSON or task set, an empty set, zero jobs, or `bcet_percent` outside 1 ..= 100.
pub fn simulate_json(text: &str, opts: &SimFileOptions) -> Result<SimReport, SimError> {
    let tasks = parse_task_set_json(text)?;
    if tasks.is_empty() {
        return Err(SimError::NoTasks);
    }
    let (specs, bounds, admission) = match admitted_specs(opts.policy, opts.lanes, &tasks) {
        Some((specs, bounds, result)) => (specs, bounds, result),
        None => {
            let result = super::admit::admit_set(opts.policy, opts.lanes, &tasks);
            let lanes = opts.lanes.get();
            let specs = tasks
                .iter()
                .enumerate()
                .map(|(i, t)| ModelSpec::new(t.clone()).lane(i as u32 % lanes))
                .collect();
            let result = result.ok_or(SimError::NoTasks)?;
            (specs, vec![None; tasks.len()], result)
        }
    };
    let sim_tasks = specs
        .into_iter()
        .map(|spec| {
            let wcet = spec.task.wcet;
            let exec = match opts.exec {
                ExecChoice::Wcet => ExecTime::Constant(wcet),
                ExecChoice::Uniform { bcet_percent } => {
                    if !(1..=100).contains(&bcet_percent) {
                        return Err(SimError::BadExecTime {
                            task: spec.task.name.clone(),
                            problem: format!("bcet_percent {bcet_percent}: give 1 ..= 100"),
                        });
                    }
                    let bcet = wcet.as_nanos() * u64::from(bcet_percent) / 100;
                    ExecTime::Uniform { bcet: Duration::from_nanos(bcet.max(1)), wcet }
                }
            };
            let arrival = match opts.arrival {
                ArrivalChoice::Periodic => Arrival::Periodic { offset: Duration::ZERO },
                ArrivalChoice::Sporadic { max_extra_percent } => Arrival::Sporadic {
                    offset: Duration::ZERO,
                    max_extra: Duration::from_nanos(
                        spec.task.period.as_nanos().saturating_mul(u64::from(max_extra_percent))
                            / 100,
                    ),
                },
            };
            Ok(SimTask { spec, exec, arrival })
        })
        .collect::<Result<Vec<_>, SimError>>()?;
    let mut cfg = SimConfig::new(CoreConfig::new(opts.policy).with_lanes(opts.lanes), opts.jobs);
    cfg.seed = opts.seed;
    let mut report = simulate(&cfg, &sim_tasks)?.report;
    for (t, b) in report.tasks.iter_mut().zip(bounds) {
        t.bound_ns = b;
    }
    report.admission =
        Some(AdmissionSummary { admitted: admission.admitted, reason: admission.reason });
    Ok(report)
}
