//! Per-model runtime metrics: latency distributions, deadline misses, drops, overruns,
//! utilisation and memory.
//!
//! Owns [`MetricsAggregator`] and its summaries. Percentiles come from an HDR histogram
//! (3 significant digits, 1 ns to 1 h); min, max, mean and standard deviation are kept exactly
//! beside it. It must not know where jobs come from or how they were scheduled.

use crate::ids::ModelId;
use crate::time::{Duration, Timestamp};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

/// Highest latency the histograms resolve (longer values are clamped to it and counted).
pub const MAX_TRACKED_LATENCY: Duration = Duration::from_secs(3600);

/// One finished job, as the runtime observed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobRecord {
    /// The model.
    pub model: ModelId,
    /// When the job was released.
    pub release: Timestamp,
    /// When it started executing.
    pub start: Timestamp,
    /// When it completed.
    pub end: Timestamp,
    /// Its absolute deadline.
    pub deadline: Timestamp,
}

/// A latency distribution: exact count, min, max, mean and standard deviation, and
/// percentiles within 0.1%.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LatencySummary {
    /// Samples.
    pub count: u64,
    /// Smallest sample, ns.
    pub min_ns: u64,
    /// Median, ns.
    pub p50_ns: u64,
    /// 99th percentile, ns.
    pub p99_ns: u64,
    /// 99.9th percentile, ns.
    pub p999_ns: u64,
    /// Largest sample, ns (exact).
    pub max_ns: u64,
    /// Mean, ns.
    pub mean_ns: f64,
    /// Population standard deviation, ns.
    pub stddev_ns: f64,
    /// Coefficient of variation (stddev / mean), 0 when there are no samples.
    pub cv: f64,
}

struct Distribution {
    hist: Histogram<u64>,
    count: u64,
    min: u64,
    max: u64,
    sum: u128,
    sum_sq: u128,
    clamped: u64,
}

impl Distribution {
    fn new() -> Self {
        Distribution {
            // The bounds are constants that hdrhistogram accepts (low >= 1, high >= 2 * low,
            // sigfig <= 5), so this cannot fail.
            hist: Histogram::new_with_bounds(1, MAX_TRACKED_LATENCY.as_nanos(), 3)
                .unwrap_or_else(|_| unreachable!("constant histogram bounds are valid")),
            count: 0,
            min: u64::MAX,
            max: 0,
            sum: 0,
            sum_sq: 0,
            clamped: 0,
        }
    }

    fn record(&mut self, d: Duration) {
        let v = d.as_nanos();
        if v > MAX_TRACKED_LATENCY.as_nanos() {
            self.clamped += 1;
        }
        self.hist.saturating_record(v.max(1));
        self.count += 1;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.sum += u128::from(v);
        self.sum_sq = self.sum_sq.saturating_add(u128::from(v) * u128::from(v));
    }

    fn summary(&self) -> LatencySummary {
        if self.count == 0 {
            return LatencySummary {
                count: 0,
                min_ns: 0,
                p50_ns: 0,
                p99_ns: 0,
                p999_ns: 0,
                max_ns: 0,
                mean_ns: 0.0,
                stddev_ns: 0.0,
                cv: 0.0,
            };
        }
        let n = self.count as f64;
        let mean = self.sum as f64 / n;
        let var = (self.sum_sq as f64 / n - mean * mean).max(0.0);
        let sd = var.sqrt();
        // Percentiles are clamped into [min, max] so the HDR bucket rounding never reports a
        // percentile above the exact maximum.
        let q = |p: f64| self.hist.value_at_quantile(p).clamp(self.min, self.max);
        LatencySummary {
            count: self.count,
            min_ns: self.min,
            p50_ns: q(0.50),
            p99_ns: q(0.99),
            p999_ns: q(0.999),
            max_ns: self.max,
            mean_ns: mean,
            stddev_ns: sd,
            cv: if mean > 0.0 { sd / mean } else { 0.0 },
        }
    }
}

struct ModelState {
    response: Distribution,
    execution: Distribution,
    deadline_misses: u64,
    dropped: u64,
    overruns: u64,
    overruns_withdrawn: u64,
    faults: u64,
    busy: Duration,
    memory_current: u64,
    memory_peak: u64,
}

impl ModelState {
    fn new() -> Self {
        ModelState {
            response: Distribution::new(),
            execution: Distribution::new(),
            deadline_misses: 0,
            dropped: 0,
            overruns: 0,
            overruns_withdrawn: 0,
            faults: 0,
            busy: Duration::ZERO,
            memory_current: 0,
            memory_peak: 0,
        }
    }
}

/// Everything measured about one model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelSummary {
    /// The model.
    pub model: ModelId,
    /// Jobs completed.
    pub jobs: u64,
    /// Release-to-completion latency.
    pub response: LatencySummary,
    /// Start-to-completion (execution) time.
    pub execution: LatencySummary,
    /// Jobs that completed after their deadline.
    pub deadline_misses: u64,
    /// Jobs dropped without running.
    pub dropped: u64,
    /// Jobs that overran their WCET or budget.
    pub overruns: u64,
    /// Overruns flagged while running and withdrawn at completion (the job finished within
    /// budget; not counted in `overruns`).
    pub overruns_withdrawn: u64,
    /// Faults contained in the model's context.
    pub faults: u64,
    /// Latency samples above [`MAX_TRACKED_LATENCY`] (clamped in the histogram).
    pub clamped_samples: u64,
    /// Busy time / observation window.
    pub utilisation: f64,
    /// Device memory currently held, bytes.
    pub memory_current: u64,
    /// Peak device memory held, bytes.
    pub memory_peak: u64,
}

#[derive(Default)]
struct Inner {
    models: BTreeMap<ModelId, ModelState>,
    window_start: Option<Timestamp>,
    window_end: Option<Timestamp>,
}

impl Inner {
    fn model(&mut self, m: &ModelId) -> &mut ModelState {
        self.models.entry(m.clone()).or_insert_with(ModelState::new)
    }
}

/// Thread-safe per-model metrics.
#[derive(Default)]
pub struct MetricsAggregator {
    inner: Mutex<Inner>,
}

impl MetricsAggregator {
    /// An empty aggregator.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        // Updates are single field writes; a panic elsewhere cannot leave Inner inconsistent.
        f(&mut self.inner.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Registers a model so it is reported even before its first job.
    pub fn register(&self, model: &ModelId) {
        self.with(|i| {
            i.model(model);
        });
    }

    /// Records a completed job: response and execution time, busy time, and a deadline miss
    /// when `end > deadline`. Returns true when the job missed its deadline.
    pub fn record_job(&self, job: &JobRecord) -> bool {
        let response = job.end.saturating_duration_since(job.release);
        let exec = job.end.saturating_duration_since(job.start);
        let missed = job.end > job.deadline;
        self.with(|i| {
            i.window_start = Some(i.window_start.map_or(job.release, |s| s.min(job.release)));
            i.window_end = Some(i.window_end.map_or(job.end, |e| e.max(job.end)));
            let m = i.model(&job.model);
            m.response.record(response);
            m.execution.record(exec);
            m.busy += exec;
            if missed {
                m.deadline_misses += 1;
            }
        });
        missed
    }

    /// Counts a job dropped without running.
    pub fn record_drop(&self, model: &ModelId) {
        self.with(|i| i.model(model).dropped += 1);
    }

    /// Counts a WCET or budget overrun.
    pub fn record_overrun(&self, model: &ModelId) {
        self.with(|i| i.model(model).overruns += 1);
    }

    /// Takes back an overrun counted by [`Self::record_overrun`]: the job finished within
    /// budget after all; counted as withdrawn instead.
    pub fn record_overrun_withdrawn(&self, model: &ModelId) {
        self.with(|i| {
            let m = i.model(model);
            m.overruns = m.overruns.saturating_sub(1);
            m.overruns_withdrawn += 1;
        });
    }

    /// Counts a contained fault.
    pub fn record_fault(&self, model: &ModelId) {
        self.with(|i| i.model(model).faults += 1);
    }

    /// Sets the model's current device memory; the peak follows.
    pub fn record_memory(&self, model: &ModelId, bytes: u64) {
        self.with(|i| {
            let m = i.model(model);
            m.memory_current = bytes;
            m.memory_peak = m.memory_peak.max(bytes);
        });
    }

    /// Extends the observation window used for utilisation (e.g. to the run's start and end).
    pub fn observe_window(&self, start: Timestamp, end: Timestamp) {
        self.with(|i| {
            i.window_start = Some(i.window_start.map_or(start, |s| s.min(start)));
            i.window_end = Some(i.window_end.map_or(end, |e| e.max(end)));
        });
    }

    fn summarise(inner: &Inner, model: &ModelId, m: &ModelState) -> ModelSummary {
        let window = match (inner.window_start, inner.window_end) {
            (Some(s), Some(e)) => e.saturating_duration_since(s),
            _ => Duration::ZERO,
        };
        let utilisation = if window.is_zero() {
            0.0
        } else {
            m.busy.as_nanos() as f64 / window.as_nanos() as f64
        };
        ModelSummary {
            model: model.clone(),
            jobs: m.response.count,
            response: m.response.summary(),
            execution: m.execution.summary(),
            deadline_misses: m.deadline_misses,
            dropped: m.dropped,
            overruns: m.overruns,
            overruns_withdrawn: m.overruns_withdrawn,
            faults: m.faults,
            clamped_samples: m.response.clamped + m.execution.clamped,
            utilisation,
            memory_current: m.memory_current,
            memory_peak: m.memory_peak,
        }
    }

    /// The summary of one model, if it has been seen.
    pub fn summary(&self, model: &ModelId) -> Option<ModelSummary> {
        self.with(|i| i.models.get(model).map(|m| Self::summarise(i, model, m)))
    }

    /// Summaries of every model, by name.
    pub fn summaries(&self) -> Vec<ModelSummary> {
        self.with(|i| i.models.iter().map(|(id, m)| Self::summarise(i, id, m)).collect())
    }

    /// Sum of every model's utilisation.
    pub fn total_utilisation(&self) -> f64 {
        self.summaries().iter().map(|s| s.utilisation).sum()
    }
}

impl std::fmt::Debug for MetricsAggregator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.with(|i| i.models.len());
        f.debug_struct("MetricsAggregator").field("models", &n).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(model: &str, release: u64, start: u64, end: u64, deadline: u64) -> JobRecord {
        JobRecord {
            model: ModelId::new(model),
            release: Timestamp::from_nanos(release),
            start: Timestamp::from_nanos(start),
            end: Timestamp::from_nanos(end),
            deadline: Timestamp::from_nanos(deadline),
        }
    }

    #[test]
    fn percentiles_match_a_known_distribution() {
        let m = MetricsAggregator::new();
        // Response times 1..=1000 µs, each once.
        for i in 1..=1000u64 {
            let rel = i * 10_000_000;
            m.record_job(&job("a", rel, rel, rel + i * 1000, rel + 1_000_000_000));
        }
        let s = m.summary(&ModelId::new("a")).unwrap();
        let r = &s.response;
        assert_eq!(r.count, 1000);
        assert_eq!(r.min_ns, 1000);
        assert_eq!(r.max_ns, 1_000_000);
        let close = |got: u64, want: u64| (got as f64 - want as f64).abs() / want as f64 <= 0.001;
        assert!(close(r.p50_ns, 500_000), "p50 {}", r.p50_ns);
        assert!(close(r.p99_ns, 990_000), "p99 {}", r.p99_ns);
        assert!(close(r.p999_ns, 999_000), "p999 {}", r.p999_ns);
        assert!((r.mean_ns - 500_500.0).abs() < 1e-6);
        // stddev of 1..=1000 (population) * 1000 ns
        let sd = ((1000f64 * 1000.0 - 1.0) / 12.0).sqrt() * 1000.0;
        assert!((r.stddev_ns - sd).abs() / sd < 1e-9);
        assert!((r.cv - sd / 500_500.0).abs() < 1e-9);
        assert_eq!(s.deadline_misses, 0);
    }

    #[test]
    fn misses_drops_overruns_faults_and_memory_are_counted() {
        let m = MetricsAggregator::new();
        assert!(!m.record_job(&job("a", 0, 0, 10, 10)), "end == deadline is a hit");
        assert!(m.record_job(&job("a", 0, 5, 11, 10)));
        m.record_drop(&ModelId::new("a"));
        m.record_overrun(&ModelId::new("a"));
        m.record_overrun(&ModelId::new("a"));
        m.record_overrun_withdrawn(&ModelId::new("a"));
        m.record_fault(&ModelId::new("b"));
        m.record_memory(&ModelId::new("a"), 100);
        m.record_memory(&ModelId::new("a"), 40);
        let a = m.summary(&ModelId::new("a")).unwrap();
        assert_eq!((a.jobs, a.deadline_misses, a.dropped, a.overruns), (2, 1, 1, 1));
        assert_eq!(a.overruns_withdrawn, 1);
        assert_eq!((a.memory_current, a.memory_peak), (40, 100));
        assert_eq!(m.summary(&ModelId::new("b")).unwrap().faults, 1);
        assert!(m.summary(&ModelId::new("zzz")).is_none());
        assert_eq!(m.summaries().len(), 2);
        assert!(format!("{m:?}").contains("models: 2"));
    }

    #[test]
    fn utilisation_is_busy_time_over_the_window() {
        let m = MetricsAggregator::new();
        m.register(&ModelId::new("idle"));
        m.record_job(&job("a", 0, 0, 25, 100));
        m.record_job(&job("b", 50, 50, 100, 150));
        m.observe_window(Timestamp::ZERO, Timestamp::from_nanos(100));
        let s = m.summaries();
        assert!((s[0].utilisation - 0.25).abs() < 1e-12);
        assert!((s[1].utilisation - 0.5).abs() < 1e-12);
        assert_eq!(s[2].jobs, 0);
        assert_eq!(s[2].response.cv, 0.0);
        assert!((m.total_utilisation() - 0.75).abs() < 1e-12);
    }

    #[test]
    fn huge_latencies_are_clamped_and_reported() {
        let m = MetricsAggregator::new();
        let big = MAX_TRACKED_LATENCY.as_nanos() * 2;
        m.record_job(&job("a", 0, 0, big, big));
        let s = m.summary(&ModelId::new("a")).unwrap();
        assert_eq!(s.clamped_samples, 2);
        assert_eq!(s.response.max_ns, big, "the exact max is kept");
        assert!(s.response.p50_ns <= s.response.max_ns);
    }
}
