//! The contention factor: how much co-running load inflates a high quantile of a model's
//! execution time.
//!
//! Owns [`ContentionFactor`] and [`contention_factor`]: the ratio of the nearest-rank
//! q-quantile (default p99.9) of samples measured under co-running load to the same quantile
//! measured in isolation. A high quantile rather than the maximum, because the maximum of a
//! finite sample is its noisiest statistic; a quantile rather than the mean, because
//! contention hurts the tail more than the centre. Each set needs at least ⌈1/(1 − q)⌉ samples
//! (1,000 for p99.9) so that the quantile is not just the maximum. It must not know about
//! tail models.

use super::WcetError;
use super::empirical::quantile;
use aegis_trace::Duration;
use serde::{Deserialize, Serialize};

/// The contention factor between isolated and loaded measurements.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContentionFactor {
    /// The quantile level compared (e.g. 0.999).
    pub quantile: f64,
    /// That quantile in isolation.
    pub isolated: Duration,
    /// That quantile under co-running load.
    pub loaded: Duration,
    /// loaded / isolated (for display and statistics; decisions use the Durations).
    pub factor: f64,
    /// Samples measured in isolation.
    pub isolated_samples: usize,
    /// Samples measured under load.
    pub loaded_samples: usize,
}

/// Fewest samples per set for the `quantile` contention factor.
pub fn contention_min_samples(quantile: f64) -> usize {
    (1.0 / (1.0 - quantile)).ceil() as usize
}

/// The ratio of the `quantile` of `loaded` to that of `isolated`.
///
/// # Errors
/// Empty or too short sample sets, a quantile outside (0, 1), or an isolated quantile of zero.
pub fn contention_factor(
    isolated: &[Duration],
    loaded: &[Duration],
    quantile_level: f64,
) -> Result<ContentionFactor, WcetError> {
    if !(quantile_level > 0.0 && quantile_level < 1.0) {
        return Err(WcetError::InvalidConfig {
            field: "contention_quantile",
            value: quantile_level.to_string(),
            fix: "a quantile level strictly between 0 and 1, e.g. 0.999",
        });
    }
    let need = contention_min_samples(quantile_level);
    for (field, s) in [("isolated", isolated), ("loaded", loaded)] {
        if s.is_empty() {
            return Err(WcetError::NoSamples { field });
        }
        if s.len() < need {
            return Err(WcetError::TooFewSamples {
                field,
                needed: need,
                got: s.len(),
                fix: "measure more jobs or use a lower contention quantile",
            });
        }
    }
    let q = |s: &[Duration]| {
        let mut v: Vec<u64> = s.iter().map(|d| d.as_nanos()).collect();
        v.sort_unstable();
        quantile(&v, quantile_level)
    };
    let (qi, ql) = (q(isolated), q(loaded));
    if qi == 0 {
        return Err(WcetError::ZeroDenominator {
            field: "isolated quantile",
            fix: "the isolated samples are zero at that quantile; check the measurement",
        });
    }
    Ok(ContentionFactor {
        quantile: quantile_level,
        isolated: Duration::from_nanos(qi),
        loaded: Duration::from_nanos(ql),
        factor: ql as f64 / qi as f64,
        isolated_samples: isolated.len(),
        loaded_samples: loaded.len(),
    })
}
