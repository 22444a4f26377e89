//! Compute accounting per period.
//!
//! Owns [`ComputeAccount`]: execution time summed per period window `[k·T, (k+1)·T)` (the
//! window holding a job's start), with overrun detection against the compute budget. It
//! measures and exposes; enforcement belongs to the scheduler. It must not know about jobs'
//! identities or policies.

use aegis_trace::{Duration, Timestamp};
use std::sync::{Mutex, PoisonError};

/// The outcome of accounting one execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ComputeStatus {
    /// Index k of the period window `[k·T, (k+1)·T)`.
    pub period_index: u64,
    /// Execution time accounted in that window so far.
    pub used_in_period: Duration,
    /// The budget.
    pub budget: Duration,
    /// True when `used_in_period > budget`.
    pub overrun: bool,
    /// True when this execution is the one that crossed the budget in this window.
    pub newly_overrun: bool,
}

struct Window {
    index: u64,
    used: Duration,
    overrun: bool,
}

pub(crate) struct ComputeAccount {
    budget: Duration,
    period: Duration,
    // One update per completed job; a tiny lock keeps the window switch and the sum exact.
    window: Mutex<Window>,
    overruns: std::sync::atomic::AtomicU64,
}

impl ComputeAccount {
    pub(crate) fn new(budget: Duration, period: Duration) -> Self {
        ComputeAccount {
            budget,
            period,
            window: Mutex::new(Window { index: 0, used: Duration::ZERO, overrun: false }),
            overruns: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn index(&self, at: Timestamp) -> u64 {
        at.as_nanos() / self.period.as_nanos().max(1)
    }

    pub(crate) fn record(&self, start: Timestamp, d: Duration) -> ComputeStatus {
        let idx = self.index(start);
        let mut w = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        if idx > w.index {
            *w = Window { index: idx, used: Duration::ZERO, overrun: false };
        }
        // A late report for an earlier window (idx < current) is counted in the current one:
        // conservative, never lost.
        w.used += d;
        let overrun = w.used > self.budget;
        let newly = overrun && !w.overrun;
        if newly {
            w.overrun = true;
            self.overruns.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        ComputeStatus {
            period_index: w.index,
            used_in_period: w.used,
            budget: self.budget,
            overrun,
            newly_overrun: newly,
        }
    }

    pub(crate) fn used_at(&self, at: Timestamp) -> Duration {
        let w = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        if self.index(at) == w.index { w.used } else { Duration::ZERO }
    }

    pub(crate) fn overruns(&self) -> u64 {
        self.overruns.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }
    fn at(n: u64) -> Timestamp {
        Timestamp::from_nanos(n * 1_000_000)
    }

    #[test]
    fn windows_reset_and_overruns_count_once_per_period() {
        let a = ComputeAccount::new(ms(5), ms(10));
        let s = a.record(at(0), ms(3));
        assert_eq!((s.period_index, s.used_in_period, s.overrun), (0, ms(3), false));
        let s = a.record(at(4), ms(3));
        assert!(s.overrun && s.newly_overrun);
        let s = a.record(at(8), ms(1));
        assert!(s.overrun && !s.newly_overrun, "one overrun per period");
        assert_eq!(a.used_at(at(9)), ms(7));
        let s = a.record(at(12), ms(2));
        assert_eq!((s.period_index, s.used_in_period, s.overrun), (1, ms(2), false));
        assert_eq!(a.used_at(at(3)), Duration::ZERO, "old window is gone");
        a.record(at(5), ms(4)); // late report: counted in the current window
        assert_eq!(a.used_at(at(15)), ms(6));
        assert_eq!(a.overruns(), 2);
    }
}
