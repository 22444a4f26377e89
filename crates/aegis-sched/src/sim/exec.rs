//! Execution times and release patterns of simulated jobs.
//!
//! Owns [`ExecTime`] (constant, uniform in `[bcet, wcet]`, or replayed measurements) and
//! [`Arrival`] (periodic, or sporadic: minimum inter-arrival plus a random extra delay), and
//! their seeded sampling. It must not know the scheduler.

use super::error::SimError;
use aegis_trace::{Duration, ModelId};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

/// How long each simulated job of a task executes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ExecTime {
    /// Always the same.
    Constant(Duration),
    /// Uniform integer nanoseconds in `[bcet, wcet]`.
    Uniform {
        /// Best case.
        bcet: Duration,
        /// Worst case.
        wcet: Duration,
    },
    /// Measured execution times, replayed in order and cycled.
    Replay(Vec<Duration>),
}

impl ExecTime {
    /// Checks the model for `task`.
    ///
    /// # Errors
    /// [`SimError::BadExecTime`] for a zero time, `bcet > wcet`, or an empty replay list.
    pub fn validate(&self, task: &ModelId) -> Result<(), SimError> {
        let bad = |problem: &str| {
            Err(SimError::BadExecTime { task: task.clone(), problem: problem.to_string() })
        };
        match self {
            ExecTime::Constant(d) if d.is_zero() => bad("constant time is zero; give > 0"),
            ExecTime::Uniform { bcet, .. } if bcet.is_zero() => bad("bcet is zero; give > 0"),
            ExecTime::Uniform { bcet, wcet } if bcet > wcet => {
                bad("bcet exceeds wcet; give bcet <= wcet")
            }
            ExecTime::Replay(v) if v.is_empty() => bad("replay list is empty; give measurements"),
            ExecTime::Replay(v) if v.iter().any(|d| d.is_zero()) => {
                bad("replay list holds a zero time; give positive measurements")
            }
            _ => Ok(()),
        }
    }
}

/// When a task releases its jobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Arrival {
    /// At `offset`, `offset + T`, `offset + 2T`, …
    Periodic {
        /// First release.
        offset: Duration,
    },
    /// First at `offset`, then each `T + extra` after the previous, `extra` uniform in
    /// `[0, max_extra]`.
    Sporadic {
        /// First release.
        offset: Duration,
        /// Largest extra delay beyond the minimum inter-arrival time.
        max_extra: Duration,
    },
}

impl Default for Arrival {
    fn default() -> Self {
        Arrival::Periodic { offset: Duration::ZERO }
    }
}

/// A task's seeded random stream (one per task, so adding a task does not change the draws of
/// the others).
#[derive(Clone, Debug)]
pub(super) struct Sampler {
    rng: Xoshiro256PlusPlus,
    cursor: usize,
}

impl Sampler {
    pub(super) fn new(seed: u64, task: usize) -> Self {
        // SplitMix-style spreading of (seed, task) into one 64-bit seed.
        let s = seed ^ (task as u64).wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Sampler { rng: Xoshiro256PlusPlus::seed_from_u64(s), cursor: 0 }
    }

    pub(super) fn exec(&mut self, e: &ExecTime) -> Duration {
        match e {
            ExecTime::Constant(d) => *d,
            ExecTime::Uniform { bcet, wcet } => {
                Duration::from_nanos(self.rng.random_range(bcet.as_nanos()..=wcet.as_nanos()))
            }
            ExecTime::Replay(v) => {
                let d = v.get(self.cursor % v.len().max(1)).copied().unwrap_or(Duration::ZERO);
                self.cursor = self.cursor.wrapping_add(1);
                d
            }
        }
    }

    pub(super) fn gap(&mut self, a: &Arrival, period: Duration) -> Duration {
        match a {
            Arrival::Periodic { .. } => period,
            Arrival::Sporadic { max_extra, .. } => {
                period + Duration::from_nanos(self.rng.random_range(0..=max_extra.as_nanos()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_is_seeded_and_in_range() {
        let u =
            ExecTime::Uniform { bcet: Duration::from_nanos(10), wcet: Duration::from_nanos(20) };
        let mut a = Sampler::new(7, 0);
        let mut b = Sampler::new(7, 0);
        let xs: Vec<_> = (0..100).map(|_| a.exec(&u)).collect();
        let ys: Vec<_> = (0..100).map(|_| b.exec(&u)).collect();
        assert_eq!(xs, ys);
        assert!(xs.iter().all(|d| (10..=20).contains(&d.as_nanos())));
        assert!(xs.iter().any(|d| d.as_nanos() != xs[0].as_nanos()));
        let r = ExecTime::Replay(vec![Duration::from_nanos(1), Duration::from_nanos(2)]);
        let got: Vec<u64> = (0..3).map(|_| a.exec(&r).as_nanos()).collect();
        assert_eq!(got, vec![1, 2, 1]);
        let s = Arrival::Sporadic { offset: Duration::ZERO, max_extra: Duration::from_nanos(5) };
        let g = a.gap(&s, Duration::from_nanos(100)).as_nanos();
        assert!((100..=105).contains(&g));
        assert_eq!(a.gap(&Arrival::default(), Duration::from_nanos(9)).as_nanos(), 9);
    }

    #[test]
    fn bad_models_are_named() {
        let m = ModelId::new("t");
        let z = Duration::ZERO;
        let one = Duration::from_nanos(1);
        assert!(ExecTime::Constant(z).validate(&m).is_err());
        assert!(ExecTime::Uniform { bcet: z, wcet: one }.validate(&m).is_err());
        let e = ExecTime::Uniform { bcet: Duration::from_nanos(2), wcet: one }.validate(&m);
        assert!(e.unwrap_err().to_string().contains("bcet exceeds wcet"));
        assert!(ExecTime::Replay(vec![]).validate(&m).is_err());
        assert!(ExecTime::Replay(vec![z]).validate(&m).is_err());
        assert!(ExecTime::Constant(one).validate(&m).is_ok());
    }
}
