//! The schedulability experiment: ratio of random task sets admitted versus utilisation, per
//! policy and lane count, and the agreement of the analysis verdict with simulation.
//!
//! Owns [`sweep`] and its CSV form. For each utilisation level it draws `sets_per_level`
//! task sets ([`TaskSetGenerator`]); the *same* sets are analysed under every policy and lane
//! count (paired comparison). For the first `simulate_sets` sets of a level it also simulates
//! each (policy, lanes) pair: synchronous periodic releases, every job running exactly its
//! WCET, jobs kept to run late (so misses are counted, not dropped), releases for
//! `horizon_periods` × the longest period. A set the analysis admitted must show no miss (a
//! miss would be a soundness bug); a refused set may or may not miss in that one scenario
//! (the non-preemptive worst case needs a lower-priority job started just before a critical
//! instant, which synchronous release does not produce). It must not plot.

use super::admit::admit_set;
use super::exec::{Arrival, ExecTime};
use super::generate::TaskSetGenerator;
use super::run::{SimConfig, SimTask, simulate};
use crate::analysis::Policy;
use crate::policy::policy_name;
use crate::scheduler::{CoreConfig, LateAction, ModelSpec, specs_from_admission};
use crate::task::TaskParams;
use aegis_trace::{Duration, Timestamp};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use serde::Serialize;
use std::fmt::Write as _;
use std::num::NonZeroU32;

/// What to sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepConfig {
    /// The task-set generator.
    pub generator: TaskSetGenerator,
    /// Total utilisation levels.
    pub utilisations: Vec<f64>,
    /// Task sets per level.
    pub sets_per_level: usize,
    /// Policies.
    pub policies: Vec<Policy>,
    /// Lane counts.
    pub lanes: Vec<NonZeroU32>,
    /// Sets per level also simulated (0: none).
    pub simulate_sets: usize,
    /// Simulated length in longest periods.
    pub horizon_periods: u64,
    /// Seed.
    pub seed: u64,
    /// Worker threads.
    pub threads: usize,
}

/// One (utilisation, policy, lanes) cell.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SweepPoint {
    /// Target total utilisation.
    pub utilisation: f64,
    /// Policy name.
    pub policy: &'static str,
    /// Lanes.
    pub lanes: u32,
    /// Sets generated.
    pub sets: usize,
    /// Sets admitted.
    pub admitted: usize,
    /// `admitted / sets`.
    pub ratio: f64,
    /// Sets simulated.
    pub simulated: usize,
    /// Simulated admitted sets that missed a deadline (must be 0).
    pub admitted_missed: usize,
    /// Simulated refused sets that missed a deadline.
    pub refused_missed: usize,
    /// Simulated refused sets that did not miss in the simulated scenario.
    pub refused_clean: usize,
    /// Jobs simulated for this cell.
    pub jobs_simulated: u64,
}

fn level_rng(seed: u64, level: usize, set: usize) -> Xoshiro256PlusPlus {
    let s = seed
        ^ (level as u64).wrapping_mul(0xA076_1D64_78BD_642F)
        ^ (set as u64).wrapping_add(1).wrapping_mul(0xE703_7ED1_A0B4_28DB);
    Xoshiro256PlusPlus::seed_from_u64(s)
}

/// Simulates `tasks` (bound to lanes by `specs`, or spread in input order) in the worst-case
/// synchronous scenario; returns (missed, jobs released).
fn simulate_set(
    policy: Policy,
    lanes: NonZeroU32,
    specs: Option<Vec<ModelSpec>>,
    tasks: &[TaskParams],
    horizon_periods: u64,
) -> (bool, u64) {
    let specs = specs.unwrap_or_else(|| {
        tasks
            .iter()
            .enumerate()
            .map(|(i, t)| ModelSpec::new(t.clone()).lane(i as u32 % lanes.get()))
            .collect()
    });
    let longest = tasks.iter().map(|t| t.period).max().unwrap_or(Duration::ZERO);
    let sim_tasks: Vec<SimTask> = specs
        .into_iter()
        .map(|spec| SimTask {
            exec: ExecTime::Constant(spec.task.wcet),
            spec,
            arrival: Arrival::Periodic { offset: Duration::ZERO },
        })
        .collect();
    let core = CoreConfig::new(policy).with_lanes(lanes).with_late_action(LateAction::RunLate);
    let mut cfg = SimConfig::new(core, u64::MAX);
    cfg.horizon = longest.checked_mul(horizon_periods).map(|h| Timestamp::ZERO + h);
    match simulate(&cfg, &sim_tasks) {
        Ok(run) => (run.report.deadline_misses > 0, run.report.released),
        Err(_) => (true, 0),
    }
}

fn run_level(cfg: &SweepConfig, level: usize) -> Vec<SweepPoint> {
    let u = cfg.utilisations[level];
    let mut points: Vec<SweepPoint> = Vec::new();
    for &policy in &cfg.policies {
        for &lanes in &cfg.lanes {
            points.push(SweepPoint {
                utilisation: u,
                policy: policy_name(policy),
                lanes: lanes.get(),
                sets: 0,
                admitted: 0,
                ratio: 0.0,
                simulated: 0,
                admitted_missed: 0,
                refused_missed: 0,
                refused_clean: 0,
                jobs_simulated: 0,
            });
        }
    }
    for set in 0..cfg.sets_per_level {
        let mut rng = level_rng(cfg.seed, level, set);
        let Some(tasks) = cfg.generator.generate(u, &mut rng) else { continue };
        let mut p = points.iter_mut();
        for &policy in &cfg.policies {
            for &lanes in &cfg.lanes {
                let Some(point) = p.next() else { continue };
                point.sets += 1;
                let Some(result) = admit_set(policy, lanes, &tasks) else { continue };
                point.admitted += usize::from(result.admitted);
                if set < cfg.simulate_sets {
                    let specs = specs_from_admission(&tasks, &result).ok();
                    let (missed, jobs) =
                        simulate_set(policy, lanes, specs, &tasks, cfg.horizon_periods);
                    point.simulated += 1;
                    point.jobs_simulated += jobs;
                    match (result.admitted, missed) {
                        (true, true) => point.admitted_missed += 1,
                        (false, true) => point.refused_missed += 1,
                        (false, false) => point.refused_clean += 1,
                        (true, false) => {}
                    }
                }
            }
        }
    }
    for p in &mut points {
        p.ratio = if p.sets == 0 { 0.0 } else { p.admitted as f64 / p.sets as f64 };
    }
    points
}

/// Runs the sweep on `cfg.threads` threads; points ordered by utilisation, policy, lanes.
pub fn sweep(cfg: &SweepConfig) -> Vec<SweepPoint> {
    let threads = cfg.threads.max(1);
    let levels = cfg.utilisations.len();
    let mut per_level: Vec<Vec<SweepPoint>> = vec![Vec::new(); levels];
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|w| {
                s.spawn(move || {
                    (w..levels).step_by(threads).map(|l| (l, run_level(cfg, l))).collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            if let Ok(done) = h.join() {
                for (l, pts) in done {
                    per_level[l] = pts;
                }
            }
        }
    });
    per_level.into_iter().flatten().collect()
}

/// The points as CSV with a header line.
pub fn sweep_csv(points: &[SweepPoint]) -> String {
    let mut s = String::from(
        "utilisation,policy,lanes,sets,admitted,ratio,simulated,admitted_missed,refused_missed,\
         refused_clean,jobs_simulated\n",
    );
    for p in points {
        let _ = writeln!(
            s,
            "{:.2},{},{},{},{},{:.4},{},{},{},{},{}",
            p.utilisation,
            p.policy,
            p.lanes,
            p.sets,
            p.admitted,
            p.ratio,
            p.simulated,
            p.admitted_missed,
            p.refused_missed,
            p.refused_clean,
            p.jobs_simulated
        );
    }
    s
}
