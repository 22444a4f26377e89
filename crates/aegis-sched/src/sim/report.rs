//! What a simulation measured: [`SimReport`] (totals and per-task [`TaskReport`]s), printable as
//! a table and serialisable.
//!
//! Owns the report shape and its text form only.

use aegis_trace::{Duration, LatencySummary, ModelId};
use serde::Serialize;
use std::fmt;

/// Per-task results.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TaskReport {
    /// The task.
    pub name: ModelId,
    /// Its lane.
    pub lane: u32,
    /// WCET, ns.
    pub wcet_ns: u64,
    /// Period (minimum inter-arrival), ns.
    pub period_ns: u64,
    /// Relative deadline, ns.
    pub deadline_ns: u64,
    /// Jobs released.
    pub released: u64,
    /// Jobs completed.
    pub completed: u64,
    /// Completed after their deadline.
    pub deadline_misses: u64,
    /// Dropped without running.
    pub dropped: u64,
    /// Overruns detected.
    pub overruns: u64,
    /// Release-to-completion response times (percentiles within 0.1%, max exact).
    pub response: LatencySummary,
    /// The admission analysis' bound on the response time (FIFO/FP: response-time bound;
    /// EDF: the deadline), when the set was admitted.
    pub bound_ns: Option<u64>,
}

/// Admission verdict of the simulated set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AdmissionSummary {
    /// Whether the set was admitted.
    pub admitted: bool,
    /// The controller's reason.
    pub reason: String,
}

/// What a simulation measured.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SimReport {
    /// Dispatch policy (`"fifo"`, `"edf"`, `"fp"`).
    pub policy: &'static str,
    /// Lanes.
    pub lanes: u32,
    /// Random seed.
    pub seed: u64,
    /// Virtual time at the end, ns.
    pub simulated_ns: u64,
    /// Jobs released (all tasks).
    pub released: u64,
    /// Jobs completed.
    pub completed: u64,
    /// Jobs completed after their deadline.
    pub deadline_misses: u64,
    /// Jobs dropped.
    pub dropped: u64,
    /// Overruns detected.
    pub overruns: u64,
    /// Jobs still queued when the simulation ended (contained work without a safe window).
    pub unfinished: u64,
    /// Admission verdict, when the simulation ran one.
    pub admission: Option<AdmissionSummary>,
    /// Per task, in input order.
    pub tasks: Vec<TaskReport>,
}

fn ns(v: u64) -> String {
    Duration::from_nanos(v).to_string()
}

impl fmt::Display for SimReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "policy {}, {} lane(s), seed {}: {} jobs released, {} completed, {} deadline misses, \
             {} dropped, {} overruns, {} unfinished; simulated {}",
            self.policy,
            self.lanes,
            self.seed,
            self.released,
            self.completed,
            self.deadline_misses,
            self.dropped,
            self.overruns,
            self.unfinished,
            ns(self.simulated_ns)
        )?;
        if let Some(a) = &self.admission {
            writeln!(f, "admission: {}", a.reason)?;
        }
        let w = self.tasks.iter().map(|t| t.name.as_str().len()).max().unwrap_or(4).max(4);
        writeln!(
            f,
            "{:<w$} {:>4} {:>9} {:>9} {:>7} {:>7} {:>8} {:>12} {:>12} {:>12} {:>12}",
            "task",
            "lane",
            "released",
            "completed",
            "missed",
            "dropped",
            "overruns",
            "p50",
            "p99",
            "max",
            "bound"
        )?;
        for t in &self.tasks {
            writeln!(
                f,
                "{:<w$} {:>4} {:>9} {:>9} {:>7} {:>7} {:>8} {:>12} {:>12} {:>12} {:>12}",
                t.name.as_str(),
                t.lane,
                t.released,
                t.completed,
                t.deadline_misses,
                t.dropped,
                t.overruns,
                ns(t.response.p50_ns),
                ns(t.response.p99_ns),
                ns(t.response.max_ns),
                t.bound_ns.map_or_else(|| "-".to_string(), ns),
            )?;
        }
        Ok(())
    }
}
