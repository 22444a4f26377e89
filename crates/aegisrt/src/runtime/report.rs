//! What a run reports: per model jobs, latency percentiles, CV, misses, drops, overruns,
//! faults; the runtime's own overhead; the admission table; the raw job samples for plots.
//!
//! Owns [`RunReport`] and its text tables. It must not run anything.

use super::exec::{JobSample, Progress, RunOutcome};
use super::prepare::{AdmissionRow, Prepared};
use aegis_trace::{BufferStats, Duration, LatencySummary, ModelId};
use serde::Serialize;
use std::fmt::Write as _;

/// One model's results.
#[derive(Clone, Debug, Serialize)]
pub struct ModelRun {
    /// The model.
    pub model: ModelId,
    /// Its backend.
    pub backend: &'static str,
    /// Admitted by the analysis.
    pub admitted: bool,
    /// Ran although refused (`--force`).
    pub forced: bool,
    /// Jobs completed.
    pub jobs: u64,
    /// Release-to-completion latency.
    pub response: LatencySummary,
    /// Execution time.
    pub execution: LatencySummary,
    /// Completed after the deadline.
    pub deadline_misses: u64,
    /// Dropped without running (late, too early, shed, faulted).
    pub dropped: u64,
    /// WCET / budget overruns.
    pub overruns: u64,
    /// Overruns flagged while running, withdrawn when the job finished within budget (host
    /// delays, not execution; not in `overruns`).
    pub overruns_withdrawn: u64,
    /// Contained faults.
    pub faults: u64,
    /// Busy time / run time.
    pub utilisation: f64,
    /// The WCET admission used (given, or the profiled pWCET).
    pub wcet: Duration,
    /// Jobs whose measured execution exceeded that WCET (held-out check of a profiled pWCET).
    pub exec_over_wcet: u64,
}

/// Percentiles of one overhead distribution, ns.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Summary {
    /// Samples.
    pub count: usize,
    /// Median.
    pub p50_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// Largest.
    pub max_ns: u64,
    /// Mean.
    pub mean_ns: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(start: u64, end: u64) -> JobSample {
        JobSample { model: 0, release_ns: start, start_ns: start, end_ns: end, deadline_ns: end }
    }

    #[test]
    fn busy_fraction_is_the_union_of_intervals() {
        let v = [s(0, 10), s(5, 20), s(30, 40)];
        assert!((busy_fraction(&v, Duration::from_nanos(100)) - 0.3).abs() < 1e-12);
        assert_eq!(busy_fraction(&[], Duration::from_nanos(100)), 0.0);
        assert_eq!(busy_fraction(&v, Duration::ZERO), 0.0);
        let mut v = vec![5, 1, 9, 3];
        let sm = Summary::of(&mut v);
        assert_eq!((sm.count, sm.p50_ns, sm.max_ns), (4, 5, 9));
        assert_eq!(sm.us_p50_p99_max(), "0.0/0.0/0.0");
        let mut v = vec![1_500, 25_000, 2_000_340];
        assert_eq!(Summary::of(&mut v).us_p50_p99_max(), "25.0/2000.3/2000.3");
        assert_eq!(Summary::of(&mut []).count, 0);
    }
}

impl Summary {
    /// Percentiles of `v` (sorted in place).
    pub fn of(v: &mut [u64]) -> Self {
        if v.is_empty() {
            return Summary::default();
        }
        v.sort_unstable();
        let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
        Summary {
            count: v.len(),
            p50_ns: q(0.5),
            p99_ns: q(0.99),
            max_ns: v[v.len() - 1],
            mean_ns: v.iter().map(|x| *x as f64).sum::<f64>() / v.len() as f64,
        }
    }

    /// `p50/p99/max` in µs with one decimal, as the run's text report prints them.
    pub fn us_p50_p99_max(&self) -> String {
        format!("{}/{}/{}", us(self.p50_ns), us(self.p99_ns), us(self.max_ns))
    }
}

/// The runtime's own costs per job.
#[derive(Clone, Debug, Default, Serialize)]
pub struct OverheadSummary {
    /// Release timer wake-up minus nominal release time.
    pub release_lateness: Summary,
    /// Core decision to execution start on the lane.
    pub dispatch_to_start: Summary,
    /// Execution end to the end of completion bookkeeping (metrics, trace, core, next
    /// dispatch).
    pub bookkeeping: Summary,
    /// Host time per job: from the start of the core visit that dispatched it (for a job
    /// dispatched at its release: the release batch — releasing, queueing, deciding, recording)
    /// to its start on the lane, plus its completion bookkeeping.
    pub host_per_job: Summary,
    /// Time in the core per release batch that released at least one job.
    pub release_core: Summary,
    /// The bound admission charged for it (`[host] overhead_us`).
    pub host_bound: Duration,
    /// Jobs whose host time exceeded that bound.
    pub host_over_bound: u64,
    /// Time in the scheduler core per visit: every wake-up of the release thread (also those
    /// that release nothing) and every completion.
    pub core_time: Summary,
    /// GPU jobs: nominal release to the first kernel's start on the GPU (CUDA timing events
    /// mapped onto the host clock).
    pub release_to_gpu_start: Summary,
}

/// Everything a run reports.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// Deployment name.
    pub deployment: String,
    /// Policy.
    pub policy: String,
    /// Lanes.
    pub lanes: u32,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// The admission table.
    pub admission: Vec<AdmissionRow>,
    /// Per model, in priority order.
    pub models: Vec<ModelRun>,
    /// Runtime overhead.
    pub overhead: OverheadSummary,
    /// Final counters.
    pub progress: Progress,
    /// Jobs still queued or running when the drain timed out.
    pub unfinished: u64,
    /// Trace buffer statistics (overwritten events are not in the trace file).
    pub trace: BufferStats,
    /// Fraction of the run during which at least one job was executing (union of the jobs'
    /// execution intervals / run time): the GPU busy fraction on a GPU deployment.
    pub busy_fraction: f64,
    /// The models `samples` refer to (by index).
    pub sample_models: Vec<ModelId>,
    /// Execution times per model (same index), ns: held-out data for checking a WCET.
    #[serde(skip)]
    pub exec_ns: Vec<Vec<u64>>,
    /// Finished jobs (release, start, end, deadline), for plots.
    #[serde(skip)]
    pub samples: Vec<JobSample>,
}

pub(crate) fn build_report(p: &Prepared, mut o: RunOutcome) -> RunReport {
    let mut admission: Vec<AdmissionRow> = p.rows.clone();
    admission.sort_by_key(|r| r.priority);
    let mut models = Vec::new();
    for row in admission.iter().filter(|r| r.lane.is_some()) {
        let Some(s) = p.metrics.summary(&row.model) else { continue };
        models.push(ModelRun {
            model: row.model.clone(),
            backend: row.backend,
            admitted: row.admitted,
            forced: row.forced,
            jobs: s.jobs,
            response: s.response,
            execution: s.execution,
            deadline_misses: s.deadline_misses,
            dropped: s.dropped,
            overruns: s.overruns,
            overruns_withdrawn: s.overruns_withdrawn,
            faults: s.faults,
            utilisation: s.utilisation,
            wcet: row.wcet,
            exec_over_wcet: 0,
        });
    }
    let host_bound = p.dep.host.overhead;
    let host_over_bound =
        o.overhead.host_per_job.iter().filter(|h| **h > host_bound.as_nanos()).count() as u64;
    let overhead = OverheadSummary {
        host_per_job: Summary::of(&mut o.overhead.host_per_job),
        release_core: Summary::of(&mut o.overhead.release_core),
        host_bound,
        host_over_bound,
        release_lateness: Summary::of(&mut o.overhead.release_lateness),
        dispatch_to_start: Summary::of(&mut o.overhead.dispatch_to_start),
        bookkeeping: Summary::of(&mut o.overhead.bookkeeping),
        core_time: Summary::of(&mut o.overhead.core_time),
        release_to_gpu_start: Summary::of(&mut o.overhead.release_to_gpu_start),
    };
    let exec_ns = std::mem::take(&mut o.overhead.exec_by_model);
    let running: Vec<ModelId> =
        p.models.iter().filter(|m| m.runs).map(|m| m.dep.name.clone()).collect();
    for m in &mut models {
        if let Some(i) = running.iter().position(|n| *n == m.model) {
            m.exec_over_wcet = exec_ns
                .get(i)
                .map_or(0, |v| v.iter().filter(|e| **e > m.wcet.as_nanos()).count() as u64);
        }
    }
    drop(std::mem::take(&mut o.overhead));
    let busy_fraction = busy_fraction(&o.samples, o.elapsed);
    RunReport {
        busy_fraction,
        deployment: p.dep.name.clone(),
        policy: format!("{:?}", p.dep.policy),
        lanes: p.dep.lanes.get(),
        elapsed: o.elapsed,
        admission,
        models,
        overhead,
        progress: o.progress,
        unfinished: o.unfinished,
        trace: p.trace.stats(),
        sample_models: running,
        exec_ns,
        samples: o.samples,
    }
}

/// Union of the samples' execution intervals over `elapsed`.
pub fn busy_fraction(samples: &[JobSample], elapsed: Duration) -> f64 {
    let mut iv: Vec<(u64, u64)> = samples.iter().map(|s| (s.start_ns, s.end_ns)).collect();
    iv.sort_unstable();
    let (mut busy, mut cur): (u64, Option<(u64, u64)>) = (0, None);
    for (a, b) in iv {
        cur = match cur {
            Some((s, e)) if a <= e => Some((s, e.max(b))),
            Some((s, e)) => {
                busy += e - s;
                Some((a, b))
            }
            None => Some((a, b)),
        };
    }
    if let Some((s, e)) = cur {
        busy += e - s;
    }
    if elapsed.is_zero() { 0.0 } else { busy as f64 / elapsed.as_nanos() as f64 }
}

fn ms(ns: u64) -> String {
    format!("{:.3}", ns as f64 / 1e6)
}

fn us(ns: u64) -> String {
    format!("{:.1}", ns as f64 / 1e3)
}

/// The admission table as text.
pub fn admission_table(rows: &[&AdmissionRow]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<16} {:<6} {:>4} {:>10} {:>10} {:>10} {:>10} {:>6} {:>10}  {:<9} {:<44} reason",
        "model",
        "engine",
        "prio",
        "period ms",
        "deadln ms",
        "WCET ms",
        "cost ms",
        "U",
        "WCRT ms",
        "verdict",
        "WCET source"
    );
    for r in rows {
        let verdict = match (r.admitted, r.forced) {
            (true, _) => "admitted",
            (false, true) => "FORCED",
            (false, false) => "refused",
        };
        let _ = writeln!(
            s,
            "{:<16} {:<6} {:>4} {:>10} {:>10} {:>10} {:>10} {:>6.3} {:>10}  {:<9} {:<44} {}",
            r.model.as_str(),
            r.backend,
            r.priority,
            ms(r.period.as_nanos()),
            ms(r.deadline.as_nanos()),
            ms(r.wcet.as_nanos()),
            ms(r.cost.as_nanos()),
            r.utilisation,
            r.worst_case_response_time.map_or("-".into(), |d| ms(d.as_nanos())),
            verdict,
            r.wcet_source.describe(),
            r.reason
        );
    }
    s
}

/// The leading header of a per-model response table (the runtime's and the baseline's):
/// model, jobs, p50 / p99 / p99.9 / max response in ms, CV %.
pub(crate) fn response_header() -> String {
    format!(
        "{:<16} {:>7} {:>9} {:>9} {:>9} {:>9} {:>7}",
        "model", "jobs", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "CV %"
    )
}

/// The cells under [`response_header`] for one model.
pub(crate) fn response_columns(model: &str, jobs: u64, r: &LatencySummary) -> String {
    format!(
        "{model:<16} {jobs:>7} {:>9} {:>9} {:>9} {:>9} {:>7.2}",
        ms(r.p50_ns),
        ms(r.p99_ns),
        ms(r.p999_ns),
        ms(r.max_ns),
        r.cv * 100.0
    )
}

impl RunReport {
    /// Per-model results as text.
    pub fn results_table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} {:>8} {:>6} {:>6} {:>8} {:>9} {:>6} {:>9}",
            response_header(),
            "exec CV%",
            "misses",
            "drops",
            "overruns",
            "withdrawn",
            "faults",
            "exec>WCET"
        );
        for m in &self.models {
            let _ = writeln!(
                s,
                "{} {:>8.2} {:>6} {:>6} {:>8} {:>9} {:>6} {:>9}",
                response_columns(m.model.as_str(), m.jobs, &m.response),
                m.execution.cv * 100.0,
                m.deadline_misses,
                m.dropped,
                m.overruns,
                m.overruns_withdrawn,
                m.faults,
                m.exec_over_wcet
            );
        }
        let o = &self.overhead;
        let _ = writeln!(
            s,
            "runtime overhead (µs, p50/p99/max): release lateness {}, core per release batch {}, dispatch→start {}, completion bookkeeping {}, core per visit {}",
            o.release_lateness.us_p50_p99_max(),
            o.release_core.us_p50_p99_max(),
            o.dispatch_to_start.us_p50_p99_max(),
            o.bookkeeping.us_p50_p99_max(),
            o.core_time.us_p50_p99_max(),
        );
        let _ = writeln!(
            s,
            "host time per job (µs, p50/p99/max over {} jobs): {}; admission charged {} µs ([host] overhead_us): {} job(s) over it",
            o.host_per_job.count,
            o.host_per_job.us_p50_p99_max(),
            us(o.host_bound.as_nanos()),
            o.host_over_bound
        );
        if o.release_to_gpu_start.count > 0 {
            let _ = writeln!(
                s,
                "release → GPU kernel start (µs, p50/p99/max over {} jobs): {}",
                o.release_to_gpu_start.count,
                o.release_to_gpu_start.us_p50_p99_max()
            );
        }
        if self.unfinished > 0 {
            let _ = writeln!(
                s,
                "unfinished at shutdown: {} job(s) still queued or running when the drain timed out",
                self.unfinished
            );
        }
        if self.trace.overwritten > 0 {
            let _ = writeln!(
                s,
                "trace: {} of {} events overwritten (raise trace_capacity to keep them all)",
                self.trace.overwritten, self.trace.recorded
            );
        }
        s
    }

    /// Total deadline misses of admitted models.
    pub fn admitted_misses(&self) -> u64 {
        self.models.iter().filter(|m| m.admitted).map(|m| m.deadline_misses).sum()
    }
}
