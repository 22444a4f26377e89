//! Validation of a pWCET against samples that were not used to compute it.
//!
//! Owns [`HoldoutReport`] and [`holdout_check`]: how many held-out jobs exceeded the pWCET,
//! how many were expected (p · n), how surprising the count is (binomial tail probability),
//! and the pessimism pWCET / observed maximum. The roadmap's target is that at least 99.9% of
//! held-out jobs stay within the pWCET; ours is that none exceeds it. It must not know how the
//! pWCET was computed.

use super::{WcetError, WcetProfile};
use aegis_trace::Duration;
use serde::{Deserialize, Serialize};
use statrs::distribution::{Binomial, DiscreteCDF};

/// The result of checking a profile's pWCET against held-out samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HoldoutReport {
    /// Held-out samples checked.
    pub samples: usize,
    /// Samples strictly above the pWCET.
    pub exceedances: usize,
    /// exceedances / samples.
    pub exceedance_rate: f64,
    /// Exceedances expected if the pWCET were exactly the per-job (1−p)-quantile: p · samples.
    pub expected_exceedances: f64,
    /// P(Binomial(samples, p) ≥ exceedances): small values mean the pWCET is too low.
    pub exceedance_p_value: f64,
    /// Largest held-out sample.
    pub observed_max: Duration,
    /// The pWCET checked.
    pub pwcet: Duration,
    /// pWCET / observed maximum (≥ 1 when never exceeded); `None` when the maximum is zero.
    pub pessimism: Option<f64>,
    /// No held-out sample exceeded the pWCET.
    pub never_exceeded: bool,
    /// At least 99.9% of held-out samples stayed within the pWCET (the roadmap's target).
    pub meets_roadmap_target: bool,
}

/// Checks `profile.pwcet` against `held_out` samples.
///
/// # Errors
/// [`WcetError::NoSamples`] when `held_out` is empty.
pub fn holdout_check(
    profile: &WcetProfile,
    held_out: &[Duration],
) -> Result<HoldoutReport, WcetError> {
    let n = held_out.len();
    let Some(&observed_max) = held_out.iter().max() else {
        return Err(WcetError::NoSamples { field: "held_out" });
    };
    let pwcet = profile.pwcet;
    let exceedances = held_out.iter().filter(|&&d| d > pwcet).count();
    let p = profile.exceedance_probability;
    let exceedance_p_value = match exceedances {
        0 => 1.0,
        e => Binomial::new(p, n as u64).map_or(f64::NAN, |b| b.sf(e as u64 - 1)),
    };
    Ok(HoldoutReport {
        samples: n,
        exceedances,
        exceedance_rate: exceedances as f64 / n as f64,
        expected_exceedances: p * n as f64,
        exceedance_p_value,
        observed_max,
        pwcet,
        pessimism: (!observed_max.is_zero())
            .then(|| pwcet.as_nanos() as f64 / observed_max.as_nanos() as f64),
        never_exceeded: exceedances == 0,
        meets_roadmap_target: exceedances * 1000 <= n,
    })
}
