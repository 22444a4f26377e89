//! The discrete-event simulator: drives a [`SchedulerCore`] in virtual time
//! ([`aegis_trace::ManualClock`]) with seeded releases and execution times.
//!
//! Owns the event loop (next release, next completion, the core's next wakeup; at each instant
//! completions first, then releases, then one tick) and the bookkeeping of outcomes. It must
//! not make scheduling decisions: every dispatch comes from the core.

use super::error::SimError;
use super::exec::{Arrival, ExecTime, Sampler};
use super::report::{SimReport, TaskReport};
use crate::policy::policy_name;
use crate::scheduler::{CoreConfig, Decision, InputLog, ModelSpec, SchedulerCore};
use aegis_trace::{
    AuditTrail, Clock, Duration, JobRecord, ManualClock, MetricsAggregator, RequestId, Timestamp,
    TraceCollector,
};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

/// One simulated task: the model as registered with the core, and how its jobs behave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimTask {
    /// The model (task parameters, lane, budget).
    pub spec: ModelSpec,
    /// Execution time of its jobs.
    pub exec: ExecTime,
    /// Release pattern.
    pub arrival: Arrival,
}

impl SimTask {
    /// A periodic task (offset 0) on lane 0 whose jobs run exactly their WCET.
    pub fn worst_case(task: crate::TaskParams) -> Self {
        let exec = ExecTime::Constant(task.wcet);
        SimTask { spec: ModelSpec::new(task), exec, arrival: Arrival::default() }
    }
}

/// How to simulate.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The scheduler core's configuration.
    pub core: CoreConfig,
    /// Jobs to release in total (all tasks together); the run then drains.
    pub jobs: u64,
    /// Also stop releasing after this time, if set.
    pub horizon: Option<Timestamp>,
    /// Seed of every random draw.
    pub seed: u64,
    /// Keep every decision in [`SimRun::decisions`].
    pub record_decisions: bool,
    /// Record the core's input log in [`SimRun::log`].
    pub record_log: bool,
    /// Trace into this collector.
    pub trace: Option<Arc<TraceCollector>>,
    /// Audit into this trail.
    pub audit: Option<Arc<AuditTrail>>,
}

impl SimConfig {
    /// `jobs` jobs with `core`, seed 1, nothing recorded.
    pub fn new(core: CoreConfig, jobs: u64) -> Self {
        SimConfig {
            core,
            jobs,
            horizon: None,
            seed: 1,
            record_decisions: false,
            record_log: false,
            trace: None,
            audit: None,
        }
    }
}

/// A finished simulation.
#[derive(Clone, Debug)]
pub struct SimRun {
    /// Totals and per-task results.
    pub report: SimReport,
    /// Every decision in order (when [`SimConfig::record_decisions`]).
    pub decisions: Vec<Decision>,
    /// The core's input log (when [`SimConfig::record_log`]).
    pub log: Option<InputLog>,
}

#[derive(Clone, Copy, Debug)]
struct Running {
    finish: Timestamp,
    start: Timestamp,
    request: RequestId,
    exec: Duration,
    task: usize,
    release: Timestamp,
    deadline: Timestamp,
}

#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    released: u64,
    completed: u64,
    missed: u64,
    dropped: u64,
    overruns: u64,
}

/// Runs `tasks` under `config` until `config.jobs` jobs were released (or the horizon passed)
/// and every job finished or can no longer be dispatched.
///
/// # Errors
/// No tasks, zero jobs, a bad execution-time model, or a model the core refuses.
pub fn simulate(config: &SimConfig, tasks: &[SimTask]) -> Result<SimRun, SimError> {
    if tasks.is_empty() {
        return Err(SimError::NoTasks);
    }
    if config.jobs == 0 {
        return Err(SimError::ZeroJobs);
    }
    let mut core = SchedulerCore::new(config.core);
    if let Some(t) = &config.trace {
        core.attach_trace(t.clone());
    }
    if let Some(a) = &config.audit {
        core.attach_audit(a.clone());
    }
    if config.record_log {
        core.record_inputs();
    }
    let metrics = MetricsAggregator::new();
    let mut samplers = Vec::with_capacity(tasks.len());
    let mut releases: BinaryHeap<Reverse<(Timestamp, usize)>> = BinaryHeap::new();
    for (i, t) in tasks.iter().enumerate() {
        t.exec.validate(&t.spec.task.name)?;
        let offset = match t.arrival {
            Arrival::Periodic { offset } | Arrival::Sporadic { offset, .. } => offset,
        };
        let spec = t.spec.clone().first_release(Timestamp::ZERO + offset);
        core.register(spec)?;
        metrics.register(&t.spec.task.name);
        samplers.push(Sampler::new(config.seed, i));
        releases.push(Reverse((Timestamp::ZERO + offset, i)));
    }
    let clock = ManualClock::new(Timestamp::ZERO);
    let lanes = config.core.lanes.get() as usize;
    let mut running: Vec<Option<Running>> = vec![None; lanes];
    let mut counts = vec![Counts::default(); tasks.len()];
    let mut decisions = Vec::new();
    let mut out: Vec<Decision> = Vec::with_capacity(64);
    let mut released = 0u64;
    let mut next_request = 1u64;
    let horizon = config.horizon.unwrap_or(Timestamp::MAX);
    loop {
        let t_rel = releases
            .peek()
            .map(|Reverse((t, _))| *t)
            .filter(|&t| released < config.jobs && t <= horizon);
        let t_fin = running.iter().flatten().map(|r| r.finish).min();
        let t_wake = core.next_wakeup().filter(|&w| w > core.now());
        let Some(t) = [t_rel, t_fin, t_wake].into_iter().flatten().min() else { break };
        let now = clock.advance_to(t);
        for (lane, slot) in running.iter_mut().enumerate() {
            if let Some(r) = slot.filter(|r| r.finish == now) {
                *slot = None;
                core.complete(lane as u32, r.request, now, r.exec, &mut out)?;
                metrics.record_job(&JobRecord {
                    model: tasks[r.task].spec.task.name.clone(),
                    release: r.release,
                    start: r.start,
                    end: now,
                    deadline: r.deadline,
                });
            }
        }
        while let Some(&Reverse((rt, i))) = releases.peek() {
            if rt != now || released >= config.jobs || rt > horizon {
                break;
            }
            releases.pop();
            let request = RequestId(next_request);
            next_request += 1;
            released += 1;
            counts[i].released += 1;
            core.release(&tasks[i].spec.task.name, request, now, &mut out)?;
            let gap = samplers[i].gap(&tasks[i].arrival, tasks[i].spec.task.period);
            releases.push(Reverse((now + gap, i)));
        }
        core.tick(now, &mut out);
        for d in out.drain(..) {
            match &d {
                Decision::Dispatch { lane, model, request, release, deadline, .. } => {
                    let i = core.index_of(model).unwrap_or(0) as usize;
                    let exec = samplers[i].exec(&tasks[i].exec);
                    running[*lane as usize] = Some(Running {
                        finish: now + exec,
                        start: now,
                        request: *request,
                        exec,
                        task: i,
                        release: *release,
                        deadline: *deadline,
                    });
                }
                Decision::Completed { model, met, .. } => {
                    let c = &mut counts[core.index_of(model).unwrap_or(0) as usize];
                    c.completed += 1;
                    c.missed += u64::from(!met);
                }
                Decision::Drop { model, .. } => {
                    counts[core.index_of(model).unwrap_or(0) as usize].dropped += 1;
                    metrics.record_drop(model);
                }
                Decision::Overrun { model, .. } => {
                    counts[core.index_of(model).unwrap_or(0) as usize].overruns += 1;
                    metrics.record_overrun(model);
                }
                Decision::OverrunWithdrawn { model, .. } => {
                    let c = &mut counts[core.index_of(model).unwrap_or(0) as usize];
                    c.overruns = c.overruns.saturating_sub(1);
                    metrics.record_overrun_withdrawn(model);
                }
                _ => {}
            }
            if config.record_decisions {
                decisions.push(d);
            }
        }
    }
    let summaries = metrics.summaries();
    let task_reports = tasks
        .iter()
        .zip(&counts)
        .map(|(t, c)| {
            let response = summaries
                .iter()
                .find(|s| s.model == t.spec.task.name)
                .map(|s| s.response.clone())
                .unwrap_or_else(empty_summary);
            TaskReport {
                name: t.spec.task.name.clone(),
                lane: t.spec.lane,
                wcet_ns: t.spec.task.wcet.as_nanos(),
                period_ns: t.spec.task.period.as_nanos(),
                deadline_ns: t.spec.task.deadline.as_nanos(),
                released: c.released,
                completed: c.completed,
                deadline_misses: c.missed,
                dropped: c.dropped,
                overruns: c.overruns,
                response,
                bound_ns: None,
            }
        })
        .collect::<Vec<_>>();
    let sum = |f: fn(&Counts) -> u64| counts.iter().map(f).sum::<u64>();
    let report = SimReport {
        policy: policy_name(config.core.policy),
        lanes: config.core.lanes.get(),
        seed: config.seed,
        simulated_ns: clock.now().as_nanos(),
        released: sum(|c| c.released),
        completed: sum(|c| c.completed),
        deadline_misses: sum(|c| c.missed),
        dropped: sum(|c| c.dropped),
        overruns: sum(|c| c.overruns),
        unfinished: core.pending() as u64,
        admission: None,
        tasks: task_reports,
    };
    Ok(SimRun { report, decisions, log: core.take_input_log() })
}

fn empty_summary() -> aegis_trace::LatencySummary {
    aegis_trace::LatencySummary {
        count: 0,
        min_ns: 0,
        p50_ns: 0,
        p99_ns: 0,
        p999_ns: 0,
        max_ns: 0,
        mean_ns: 0.0,
        stddev_ns: 0.0,
        cv: 0.0,
    }
}
