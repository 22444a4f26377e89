//! Goodness of fit of a fitted tail model: the Anderson–Darling statistic against the fitted
//! distribution, with its p-value by parametric bootstrap.
//!
//! Owns [`GofTest`] and the bootstrap. Why a bootstrap: the parameters were estimated from the
//! same data, so the textbook A² tables (fully specified distribution) would almost never
//! reject, and published tables for estimated GEV/GPD parameters depend on the shape. The
//! bootstrap simulates `replicates` samples of the same size from the fitted model (inverse
//! CDF, seeded xoshiro256++ so a profile is reproducible), refits each (from the fitted
//! parameters) and reports
//! p = (1 + #{A²ᵦ ≥ A²}) / (1 + B) (Davison & Hinkley 1997, §4.2). It must not know about
//! nanoseconds, blocks or thresholds.

use super::gev::Gev;
use super::gpd::Gpd;
use super::mle::{ModelFit, TailModel, refit_from};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Gumbel};

/// The Anderson–Darling goodness-of-fit test of a tail model against the data it was fitted to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GofTest {
    /// A² of the data against the fitted model.
    pub statistic: f64,
    /// Parametric-bootstrap p-value; `None` when no bootstrap was run (`gof_bootstrap = 0`).
    pub p_value: Option<f64>,
    /// Bootstrap replicates that were refitted successfully.
    pub replicates: usize,
    /// Whether the fit is rejected at the configured level (`false` when no p-value).
    pub rejected: bool,
}

/// The fitted model's (cdf, sf) at x; Gumbel through statrs.
fn cdf_sf(fit: &ModelFit, x: f64) -> (f64, f64) {
    let p = &fit.params;
    match fit.model {
        TailModel::Gev => {
            let g = Gev { location: p[0], scale: p[1], shape: p[2] };
            (g.cdf(x), g.sf(x))
        }
        TailModel::Gumbel => match Gumbel::new(p[0], p[1]) {
            Ok(g) => (g.cdf(x), g.sf(x)),
            Err(_) => (f64::NAN, f64::NAN),
        },
        TailModel::Gpd => {
            let g = Gpd { scale: p[0], shape: p[1] };
            (g.cdf(x), g.sf(x))
        }
        TailModel::Exponential => {
            let g = Gpd { scale: p[0], shape: 0.0 };
            (g.cdf(x), g.sf(x))
        }
    }
}

/// The x with P(X > x) = u under the fitted model (inverse-CDF sampling).
fn upper_quantile(fit: &ModelFit, u: f64) -> f64 {
    let p = &fit.params;
    match fit.model {
        TailModel::Gev => Gev { location: p[0], scale: p[1], shape: p[2] }.quantile_upper(u),
        TailModel::Gumbel => Gev { location: p[0], scale: p[1], shape: 0.0 }.quantile_upper(u),
        TailModel::Gpd => Gpd { scale: p[0], shape: p[1] }.quantile_upper(u),
        TailModel::Exponential => Gpd { scale: p[0], shape: 0.0 }.quantile_upper(u),
    }
}

/// A² = −n − (1/n) Σ (2i − 1) [ln F(x₍ᵢ₎) + ln S(x₍ₙ₊₁₋ᵢ₎)], with F and S floored at 1e-300 so
/// a point outside the fitted support gives a large finite statistic.
pub(crate) fn anderson_darling(fit: &ModelFit, sorted: &[f64]) -> f64 {
    let n = sorted.len();
    let nf = n as f64;
    let vals: Vec<(f64, f64)> = sorted.iter().map(|&x| cdf_sf(fit, x)).collect();
    let ln = |v: f64| if v.is_nan() { 1e-300f64.ln() } else { v.max(1e-300).ln() };
    let s: f64 =
        (0..n).map(|i| (2.0 * i as f64 + 1.0) * (ln(vals[i].0) + ln(vals[n - 1 - i].1))).sum();
    -nf - s / nf
}

fn uniform_open(rng: &mut Xoshiro256PlusPlus) -> f64 {
    ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

/// The A² test of `fit` on `data` with a `replicates`-sample parametric bootstrap.
pub(crate) fn ad_test(
    fit: &ModelFit,
    data: &[f64],
    replicates: usize,
    seed: u64,
    alpha: f64,
) -> GofTest {
    let mut sorted = data.to_vec();
    sorted.sort_by(f64::total_cmp);
    let statistic = anderson_darling(fit, &sorted);
    if replicates == 0 {
        return GofTest { statistic, p_value: None, replicates: 0, rejected: false };
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let (mut done, mut at_least) = (0usize, 0usize);
    let mut sim = vec![0.0; data.len()];
    for _ in 0..replicates {
        for v in sim.iter_mut() {
            *v = upper_quantile(fit, uniform_open(&mut rng));
        }
        let Some(refit) = refit_from(fit, &sim) else { continue };
        sim.sort_by(f64::total_cmp);
        let a = anderson_darling(&refit, &sim);
        done += 1;
        if a >= statistic {
            at_least += 1;
        }
    }
    let p = (1 + at_least) as f64 / (1 + done) as f64;
    GofTest { statistic, p_value: Some(p), replicates: done, rejected: p < alpha }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wcet::mle::fit_exponential;

    #[test]
    fn statistic_matches_scipy_for_a_fully_specified_exponential() {
        // scipy 1.17.1: `goodness_of_fit(expon, [0.1, 0.4, 0.9, 1.5, 2.8],
        // known_params={'loc': 0, 'scale': 1}, statistic='ad').statistic` = 0.22445191577459056.
        let fit = ModelFit {
            model: TailModel::Exponential,
            params: vec![1.0],
            nll: 0.0,
            cov: None,
            converged: true,
            at_shape_limit: false,
        };
        let a = anderson_darling(&fit, &[0.1, 0.4, 0.9, 1.5, 2.8]);
        assert!((a - 0.224_451_915_774_590_56).abs() < 1e-12, "{a}");
    }

    #[test]
    fn bootstrap_accepts_its_own_model_and_rejects_a_wrong_one() {
        let y: Vec<f64> = (1..=300).map(|i| -((i as f64 - 0.5) / 300.0).ln()).collect();
        let fit = fit_exponential(&y).unwrap();
        let t = ad_test(&fit, &y, 99, 1, 0.05);
        assert!(!t.rejected, "{t:?}");
        assert_eq!(t.replicates, 99);
        // Uniform excesses are far from exponential.
        let u: Vec<f64> = (1..=300).map(|i| i as f64 / 300.0).collect();
        let fit = fit_exponential(&u).unwrap();
        let t = ad_test(&fit, &u, 99, 1, 0.05);
        assert!(t.rejected, "{t:?}");
        let t = ad_test(&fit, &u, 0, 1, 0.05);
        assert!(t.p_value.is_none() && !t.rejected);
    }
}
