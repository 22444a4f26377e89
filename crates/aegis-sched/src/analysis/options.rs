//! Knobs shared by every analysis: the blocking convention for non-preemptive jobs and the
//! limits that keep an analysis finite.
//!
//! Owns [`AnalysisOptions`] and [`BlockingConvention`]. It must not know any particular test.

use aegis_trace::Duration;
use serde::{Deserialize, Serialize};

/// How long a lower-priority (or later-deadline) job that started just before the critical
/// instant can keep a non-preemptive lane busy.
///
/// * [`BlockingConvention::Continuous`] (the default, used for admission): time is continuous,
///   so a blocking job can start an arbitrarily small ε before the critical instant and run for
///   `C − ε`; the analysis uses the supremum, `C`. This is safe whatever the granularity of the
///   dispatcher's clock and of the GPU's start times.
/// * [`BlockingConvention::Discrete`]: time advances in ticks, so the blocking job started at
///   least one tick before and blocks for at most `C − tick`. This is the convention of
///   George, Rivierre & Spuri 1996 (`C − 1`), of Davis et al. 2007 (τ_bit) and of pyRTA
///   (`max_non_preemptive_segment − ε`). It is exact for a system whose events happen on integer
///   ticks only; the cross-check uses it to compare with pyRTA.
///
/// The two differ by one tick in the blocking term; a response time can differ by more than
/// one tick when the larger blocking pushes the fixed point past another release.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum BlockingConvention {
    /// Blocking by a job of WCET `C` is `C` (continuous time; safe default).
    #[default]
    Continuous,
    /// Blocking by a job of WCET `C` is `C − tick` (saturating at zero).
    Discrete {
        /// The clock tick (1 µs for the `aegisrt analyze` µs inputs).
        tick: Duration,
    },
}

impl BlockingConvention {
    /// The blocking that one non-preemptive job of WCET `wcet` can cause.
    pub fn blocking_of(self, wcet: Duration) -> Duration {
        match self {
            BlockingConvention::Continuous => wcet,
            BlockingConvention::Discrete { tick } => wcet.saturating_sub(tick),
        }
    }
}

/// Options of every analysis in [`crate::analysis`].
///
/// An analysis that would need a busy period longer than `horizon`, or more than `max_steps`
/// iterations, stops and reports the task as unbounded (`None`, JSON `null`): the verdict is then
/// "not schedulable", never a guess.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalysisOptions {
    /// Blocking convention for the non-preemptive tests.
    pub blocking: BlockingConvention,
    /// Longest busy period (and longest demand-check interval) an analysis explores.
    pub horizon: Duration,
    /// Most fixed-point iterations / check points one test call may spend.
    pub max_steps: u64,
}

impl AnalysisOptions {
    /// The default horizon: one hour of busy period.
    pub const DEFAULT_HORIZON: Duration = Duration::from_secs(3_600);
    /// The default step budget per test call.
    pub const DEFAULT_MAX_STEPS: u64 = 10_000_000;

    /// The defaults with a different blocking convention.
    pub fn with_blocking(blocking: BlockingConvention) -> Self {
        AnalysisOptions { blocking, ..AnalysisOptions::default() }
    }
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            blocking: BlockingConvention::Continuous,
            horizon: Self::DEFAULT_HORIZON,
            max_steps: Self::DEFAULT_MAX_STEPS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocking_conventions_differ_by_one_tick() {
        let c = Duration::from_micros(5);
        assert_eq!(BlockingConvention::Continuous.blocking_of(c), c);
        let d = BlockingConvention::Discrete { tick: Duration::from_micros(1) };
        assert_eq!(d.blocking_of(c), Duration::from_micros(4));
        assert_eq!(d.blocking_of(Duration::from_nanos(10)), Duration::ZERO);
        assert_eq!(AnalysisOptions::with_blocking(d).blocking, d);
        assert_eq!(AnalysisOptions::default().horizon, AnalysisOptions::DEFAULT_HORIZON);
    }
}
