//! The run's per-job records (host overhead samples, execution times, the report's job
//! samples): reserved **and touched** before the first release, so recording a job never
//! allocates on the hot path.
//!
//! Why (ADR 0007): growing these vectors by doubling happens inside the completion and release
//! paths, under a lock the release thread also takes. On an H200 VM (2026-11-27) all 4 runs
//! before this reservation lost deadlines at 16.4 s, when the vectors reach 2^14 entries;
//! 2 of 7 runs after it did, both explained otherwise. Consistent with the cause, not proof.
//!
//! Owns [`Overhead`], [`SAMPLE_CAP`], [`expected_jobs`] and [`prefaulted`]. It must not know
//! how the samples are summarised (the report does that).

use aegis_trace::Duration;

/// Most samples kept per record (a run longer than that keeps the first ones).
pub(crate) const SAMPLE_CAP: usize = 2_000_000;

/// Runtime overhead samples (ns).
#[derive(Default)]
pub(crate) struct Overhead {
    /// Release timer lateness: wake-up time minus the nominal release time.
    pub(crate) release_lateness: Vec<u64>,
    /// Core decision to execution start on the lane (channel hand-off, thread wake-up).
    pub(crate) dispatch_to_start: Vec<u64>,
    /// Execution end to the end of completion bookkeeping (metrics, trace, core, next dispatch).
    pub(crate) bookkeeping: Vec<u64>,
    /// Host time per job (what `[host] overhead_us` bounds for admission): from the start of
    /// the core visit that dispatched it (`LaneJob::visit_start`) to its start on the lane,
    /// plus its completion bookkeeping.
    pub(crate) host_per_job: Vec<u64>,
    /// Time inside the core per release batch that released at least one job (releasing,
    /// queueing and dispatching, with their trace and audit records).
    pub(crate) release_core: Vec<u64>,
    /// Time inside the core per visit: every wake-up of the release thread (also those that
    /// release nothing) and every completion.
    pub(crate) core_time: Vec<u64>,
    /// GPU jobs: release (nominal) to the first kernel's start on the GPU (timing events).
    pub(crate) release_to_gpu_start: Vec<u64>,
    /// Execution time per job, ns, by model index (held-out data for WCET checks).
    pub(crate) exec_by_model: Vec<Vec<u64>>,
}

impl Overhead {
    /// Records reserved and touched for `jobs[i]` jobs of model `i` (each capped at
    /// [`SAMPLE_CAP`]); the core is visited about three times per job (release batch,
    /// completion, a deferred window's wake-up).
    pub(crate) fn reserved(jobs: &[usize]) -> Self {
        let total = jobs.iter().sum::<usize>().min(SAMPLE_CAP);
        Overhead {
            release_lateness: prefaulted(total, 0),
            dispatch_to_start: prefaulted(total, 0),
            bookkeeping: prefaulted(total, 0),
            host_per_job: prefaulted(total, 0),
            release_core: prefaulted(total, 0),
            core_time: prefaulted(total.saturating_mul(3).min(SAMPLE_CAP), 0),
            release_to_gpu_start: prefaulted(total, 0),
            exec_by_model: jobs.iter().map(|&n| prefaulted(n.min(SAMPLE_CAP), 0)).collect(),
        }
    }
}

/// Jobs each model releases in `duration` at most (one at the start, then one per period;
/// offsets and jitter only make it fewer).
pub(crate) fn expected_jobs(
    periods: impl IntoIterator<Item = Duration>,
    duration: Duration,
) -> Vec<usize> {
    periods
        .into_iter()
        .map(|p| (duration.as_nanos() / p.as_nanos().max(1)).saturating_add(1) as usize)
        .collect()
}

/// An empty vector with room for `n` elements whose pages are already written once (a fresh
/// allocation is only mapped on first touch; each first touch is a page fault, costly under a
/// hypervisor).
pub(crate) fn prefaulted<T: Clone>(n: usize, fill: T) -> Vec<T> {
    let mut v = Vec::with_capacity(n);
    v.resize(n, fill);
    v.clear();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_jobs_count_one_per_period_plus_the_first() {
        let p = [Duration::from_millis(2), Duration::from_millis(4), Duration::from_millis(3)];
        assert_eq!(expected_jobs(p, Duration::from_secs(1)), vec![501, 251, 334]);
        assert_eq!(expected_jobs([Duration::ZERO], Duration::from_nanos(5)), vec![6]);
    }

    #[test]
    fn reserved_records_take_a_run_without_growing() {
        let jobs = expected_jobs(
            [Duration::from_millis(2), Duration::from_millis(4)],
            Duration::from_secs(10),
        );
        let mut o = Overhead::reserved(&jobs);
        let total: usize = jobs.iter().sum();
        let before =
            (o.release_lateness.as_ptr(), o.core_time.as_ptr(), o.exec_by_model[0].as_ptr());
        for i in 0..total {
            o.release_lateness.push(i as u64);
            o.dispatch_to_start.push(1);
            o.bookkeeping.push(1);
            o.host_per_job.push(1);
            o.release_core.push(1);
            o.release_to_gpu_start.push(1);
            for _ in 0..3 {
                o.core_time.push(1);
            }
        }
        for (m, &n) in jobs.iter().enumerate() {
            for _ in 0..n {
                o.exec_by_model[m].push(1);
            }
        }
        let after =
            (o.release_lateness.as_ptr(), o.core_time.as_ptr(), o.exec_by_model[0].as_ptr());
        assert_eq!(before, after, "a record reallocated during the run");
        assert_eq!(o.release_lateness.len(), total);
        assert!(
            o.release_lateness.capacity() < total + 64,
            "reserved what the run needs, not more"
        );
    }

    #[test]
    fn prefaulted_vectors_are_empty_and_capped() {
        let v = prefaulted(1000, 7u64);
        assert!(v.is_empty() && v.capacity() >= 1000);
        let o = Overhead::reserved(&[SAMPLE_CAP * 2]);
        assert!(
            o.bookkeeping.capacity() >= SAMPLE_CAP && o.bookkeeping.capacity() < SAMPLE_CAP + 64
        );
    }
}
