//! Clocks: where timestamps come from.
//!
//! Owns the [`Clock`] trait and its two implementations: [`MonotonicClock`] (real time, for the
//! runtime) and [`ManualClock`] (virtual time, for the simulator and tests). Code that takes
//! `&dyn Clock` runs unchanged in real and simulated time. This module must not know about
//! sleeping or timers: waiting belongs to the runtime that drives a clock.

use crate::time::{Duration, Timestamp};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// A source of [`Timestamp`]s that never goes backwards.
pub trait Clock: Send + Sync {
    /// The current time on this clock.
    fn now(&self) -> Timestamp;
}

/// Real monotonic time (`CLOCK_MONOTONIC` through [`Instant`]), with its epoch at construction.
#[derive(Clone, Copy, Debug)]
pub struct MonotonicClock {
    epoch: Instant,
}

impl MonotonicClock {
    /// A clock whose epoch is now.
    pub fn new() -> Self {
        MonotonicClock { epoch: Instant::now() }
    }

    /// The [`Instant`] that `ts` denotes on this clock (for sleeping until it).
    pub fn instant_at(&self, ts: Timestamp) -> Instant {
        self.epoch + std::time::Duration::from_nanos(ts.as_nanos())
    }

    /// The timestamp of an [`Instant`] taken after this clock's epoch (zero if earlier).
    pub fn timestamp_of(&self, at: Instant) -> Timestamp {
        let d: Duration = at.saturating_duration_since(self.epoch).into();
        Timestamp::from_nanos(d.as_nanos())
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for MonotonicClock {
    fn now(&self) -> Timestamp {
        self.timestamp_of(Instant::now())
    }
}

/// Virtual time that moves only when told to; safe to share between threads.
#[derive(Debug, Default)]
pub struct ManualClock {
    now_ns: AtomicU64,
}

impl ManualClock {
    /// A clock at `start`.
    pub fn new(start: Timestamp) -> Self {
        ManualClock { now_ns: AtomicU64::new(start.as_nanos()) }
    }

    /// Moves the clock forward by `d` (saturating) and returns the new time.
    pub fn advance(&self, d: Duration) -> Timestamp {
        let mut cur = self.now_ns.load(Ordering::Acquire);
        loop {
            let next = cur.saturating_add(d.as_nanos());
            match self.now_ns.compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Timestamp::from_nanos(next),
                Err(seen) => cur = seen,
            }
        }
    }

    /// Moves the clock to `t` if `t` is later; a clock never goes backwards.
    /// Returns the time after the call.
    pub fn advance_to(&self, t: Timestamp) -> Timestamp {
        let prev = self.now_ns.fetch_max(t.as_nanos(), Ordering::AcqRel);
        Timestamp::from_nanos(prev.max(t.as_nanos()))
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_nanos(self.now_ns.load(Ordering::Acquire))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_clock_never_goes_backwards() {
        let c = MonotonicClock::new();
        let mut last = c.now();
        for _ in 0..1000 {
            let t = c.now();
            assert!(t >= last);
            last = t;
        }
        let at = c.instant_at(Timestamp::from_nanos(1_000));
        assert_eq!(c.timestamp_of(at), Timestamp::from_nanos(1_000));
    }

    #[test]
    fn manual_clock_moves_only_forward() {
        let c = ManualClock::new(Timestamp::from_nanos(10));
        assert_eq!(c.now(), Timestamp::from_nanos(10));
        assert_eq!(c.advance(Duration::from_nanos(5)), Timestamp::from_nanos(15));
        assert_eq!(c.advance_to(Timestamp::from_nanos(12)), Timestamp::from_nanos(15));
        assert_eq!(c.advance_to(Timestamp::from_nanos(40)), Timestamp::from_nanos(40));
        assert_eq!(c.now(), Timestamp::from_nanos(40));
    }

    #[test]
    fn manual_clock_is_consistent_across_threads() {
        let c = std::sync::Arc::new(ManualClock::default());
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        c.advance(Duration::from_nanos(1));
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(c.now(), Timestamp::from_nanos(4000));
    }
}
