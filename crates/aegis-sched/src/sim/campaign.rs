//! The "admitted sets never miss" campaign: random task sets, admitted by the
//! [`crate::analysis::AdmissionController`], simulated until a target number of jobs, counting
//! misses, drops and responses above the analysis bound.
//!
//! Owns [`admitted_campaign`]. Sets come from [`TaskSetGenerator`] at utilisations uniform in
//! `[u_min, u_max]`; refused sets are skipped (and counted). Even-numbered admitted sets run
//! the worst case the simulator can produce without offsets (synchronous periodic releases,
//! every job exactly its WCET); odd-numbered ones run sporadic releases (up to
//! `sporadic_extra_percent` % extra delay) with execution times uniform in
//! `[bcet_percent % · WCET, WCET]`. It must not make scheduling decisions.

use super::admit::admitted_specs;
use super::exec::{Arrival, ExecTime};
use super::generate::TaskSetGenerator;
use super::run::{SimConfig, SimTask, simulate};
use crate::analysis::Policy;
use crate::policy::policy_name;
use crate::scheduler::CoreConfig;
use aegis_trace::Duration;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use serde::Serialize;
use std::fmt;
use std::num::NonZeroU32;

/// What to run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CampaignConfig {
    /// Policy.
    pub policy: Policy,
    /// Lanes.
    pub lanes: NonZeroU32,
    /// Task-set generator.
    pub generator: TaskSetGenerator,
    /// Lowest total utilisation drawn.
    pub u_min: f64,
    /// Highest total utilisation drawn.
    pub u_max: f64,
    /// Jobs released per admitted set.
    pub jobs_per_set: u64,
    /// Stop once this many jobs were released in total.
    pub total_jobs: u64,
    /// Best case of the random execution times, percent of the WCET.
    pub bcet_percent: u64,
    /// Largest extra sporadic delay, percent of the period.
    pub sporadic_extra_percent: u64,
    /// Seed.
    pub seed: u64,
}

impl CampaignConfig {
    /// `total_jobs` jobs under `policy` on `lanes` lanes: default generator, utilisation
    /// uniform in `[0.2, 0.95 × lanes]`, 2,000 jobs per set, bcet 50 %, sporadic extra 50 %.
    pub fn new(policy: Policy, lanes: NonZeroU32, total_jobs: u64) -> Self {
        CampaignConfig {
            policy,
            lanes,
            generator: TaskSetGenerator::default(),
            u_min: 0.2,
            u_max: 0.95 * f64::from(lanes.get()),
            jobs_per_set: 2_000,
            total_jobs,
            bcet_percent: 50,
            sporadic_extra_percent: 50,
            seed: 1,
        }
    }
}

/// What the campaign found.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CampaignReport {
    /// Policy name.
    pub policy: &'static str,
    /// Lanes.
    pub lanes: u32,
    /// Sets generated.
    pub sets_generated: u64,
    /// Sets admitted (and simulated).
    pub sets_admitted: u64,
    /// Jobs released.
    pub jobs: u64,
    /// Jobs completed.
    pub completed: u64,
    /// Deadline misses (must be 0).
    pub deadline_misses: u64,
    /// Dropped jobs (must be 0: nothing is ever doomed in an admitted set).
    pub dropped: u64,
    /// Overruns (0: jobs never exceed their WCET here).
    pub overruns: u64,
    /// Tasks whose largest simulated response exceeded the analysis bound (must be 0).
    pub over_bound: u64,
    /// Largest `max response / bound` over all tasks (≤ 1 when the analysis is sound).
    pub worst_bound_ratio: f64,
}

impl fmt::Display for CampaignReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<5} lanes={} sets admitted {}/{} jobs {} completed {} misses {} dropped {} \
             overruns {} over-bound {} worst max-response/bound {:.4}",
            self.policy,
            self.lanes,
            self.sets_admitted,
            self.sets_generated,
            self.jobs,
            self.completed,
            self.deadline_misses,
            self.dropped,
            self.overruns,
            self.over_bound,
            self.worst_bound_ratio
        )
    }
}

/// Runs the campaign (see the module docs).
pub fn admitted_campaign(cfg: &CampaignConfig) -> CampaignReport {
    let mut report = CampaignReport {
        policy: policy_name(cfg.policy),
        lanes: cfg.lanes.get(),
        ..CampaignReport::default()
    };
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(cfg.seed);
    // Bounded: a generator that never yields an admitted set cannot loop forever.
    let max_sets = cfg.total_jobs.saturating_mul(20).max(1_000);
    while report.jobs < cfg.total_jobs && report.sets_generated < max_sets {
        let u = cfg.u_min + rng.random::<f64>() * (cfg.u_max - cfg.u_min).max(0.0);
        report.sets_generated += 1;
        let Some(tasks) = cfg.generator.generate(u, &mut rng) else { continue };
        let Some((specs, bounds, result)) = admitted_specs(cfg.policy, cfg.lanes, &tasks) else {
            continue;
        };
        if !result.admitted {
            continue;
        }
        let worst_case = report.sets_admitted.is_multiple_of(2);
        report.sets_admitted += 1;
        let sim_tasks: Vec<SimTask> = specs
            .into_iter()
            .map(|spec| {
                let wcet = spec.task.wcet;
                let period = spec.task.period.as_nanos();
                let (exec, arrival) = if worst_case {
                    (ExecTime::Constant(wcet), Arrival::Periodic { offset: Duration::ZERO })
                } else {
                    let bcet = (wcet.as_nanos() * cfg.bcet_percent / 100).max(1);
                    (
                        ExecTime::Uniform { bcet: Duration::from_nanos(bcet), wcet },
                        Arrival::Sporadic {
                            offset: Duration::from_nanos(rng.random_range(0..period)),
                            max_extra: Duration::from_nanos(
                                period.saturating_mul(cfg.sporadic_extra_percent) / 100,
                            ),
                        },
                    )
                };
                SimTask { spec, exec, arrival }
            })
            .collect();
        let jobs = cfg.jobs_per_set.min(cfg.total_jobs - report.jobs).max(1);
        let mut sim = SimConfig::new(CoreConfig::new(cfg.policy).with_lanes(cfg.lanes), jobs);
        sim.seed = rng.random();
        let Ok(run) = simulate(&sim, &sim_tasks) else { continue };
        let r = run.report;
        report.jobs += r.released;
        report.completed += r.completed;
        report.deadline_misses += r.deadline_misses;
        report.dropped += r.dropped;
        report.overruns += r.overruns;
        for (t, bound) in r.tasks.iter().zip(bounds) {
            if let Some(b) = bound.filter(|&b| b > 0) {
                let ratio = t.response.max_ns as f64 / b as f64;
                report.worst_bound_ratio = report.worst_bound_ratio.max(ratio);
                report.over_bound += u64::from(t.response.max_ns > b);
            }
        }
    }
    report
}
