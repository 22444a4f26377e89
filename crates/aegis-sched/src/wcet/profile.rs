//! The one-sided upper confidence bound of a return level by profile likelihood.
//!
//! Owns the search for the return level z_U above the estimate ẑ at which the profile
//! negative log-likelihood rises by Δ = z²_c / 2, z_c = Φ⁻¹(c): the upper end of the two-sided
//! likelihood-ratio interval of level 2c − 1, hence a one-sided upper bound of asymptotic
//! level c (Coles 2001, §2.6.6 and §4.3.3). It must not know what a block, a threshold or a
//! nanosecond is.

use super::mle::{ModelFit, TailModel, TailProb};
use super::optim::{NmOptions, bisect_upper, nelder_mead};
use statrs::distribution::{ContinuousCDF, Normal};

/// The upper bound found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Bound {
    /// A finite bound (standardised units of the fit).
    Finite(f64),
    /// The profile likelihood never rose by Δ within 10⁶ × the estimate: the data do not
    /// bound the return level at this confidence.
    Unbounded,
}

/// Δ of the profile-likelihood bound at one-sided confidence `c` in (0.5, 1).
pub(crate) fn half_critical(c: f64) -> f64 {
    let z = Normal::standard().inverse_cdf(c);
    0.5 * z * z
}

/// The profile-likelihood upper bound of `fit`'s return level at `tail`.
pub(crate) fn upper_bound(fit: &ModelFit, tail: TailProb, data: &[f64], confidence: f64) -> Bound {
    let z_hat = fit.return_level(tail);
    if !z_hat.is_finite() {
        return Bound::Unbounded;
    }
    let delta = half_critical(confidence);
    let psi_hat = fit.profile_start();
    let step = vec![0.1; psi_hat.len()];
    let opts = NmOptions { max_evals: 1500, f_tol: 1e-10, x_tol: 1e-6, restarts: 1 };
    // Warm starts: the profile's optimum at the closest return level already evaluated.
    let mut seen: Vec<(f64, Vec<f64>)> = vec![(z_hat, psi_hat.clone())];
    let mut g = |z: f64| -> f64 {
        let nearest = seen
            .iter()
            .min_by(|a, b| (a.0 - z).abs().total_cmp(&(b.0 - z).abs()))
            .map(|s| s.1.clone())
            .unwrap_or_else(|| psi_hat.clone());
        let mut starts = vec![nearest, psi_hat.clone()];
        if fit.model == TailModel::Gev {
            starts.push(vec![psi_hat[0], 0.0]);
            starts.push(vec![psi_hat[0] + 1.0, 0.0]);
        }
        let f = |psi: &[f64]| fit.profile_nll(tail, z, psi, data);
        let mut best: Option<(Vec<f64>, f64)> = None;
        for s in starts {
            if !f(&s).is_finite() {
                continue;
            }
            let r = nelder_mead(f, &s, &step, opts);
            if best.as_ref().is_none_or(|b| r.f < b.1) {
                best = Some((r.x, r.f));
            }
            if best.as_ref().is_some_and(|b| b.1.is_finite()) {
                break;
            }
        }
        match best {
            Some((psi, v)) if v.is_finite() => {
                seen.push((z, psi));
                v - fit.nll - delta
            }
            _ => f64::INFINITY,
        }
    };
    let base = z_hat.abs().max(1.0);
    let mut lo = z_hat;
    let mut h = 0.05 * base;
    loop {
        let hi = z_hat + h;
        if g(hi) >= 0.0 {
            return Bound::Finite(bisect_upper(&mut g, lo, hi, 1e-7 * hi.abs().max(1.0)));
        }
        lo = hi;
        h *= 2.0;
        if h > 1e6 * base {
            return Bound::Unbounded;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wcet::mle::fit_exponential;

    #[test]
    fn critical_value_is_the_chi_square_quantile() {
        // χ²₁ at 0.90 is 2.705543454095404 (scipy.stats.chi2(1).ppf(0.9)).
        assert!((2.0 * half_critical(0.95) - 2.705_543_454_095_404).abs() < 1e-9);
    }

    #[test]
    fn exponential_bound_matches_the_closed_form() {
        // For k exponential excesses with mean m, the profile in σ is k ln σ + k m/σ; the bound
        // solves k(ln(σ/m) + m/σ − 1) = Δ for σ > m. Check the search against that root.
        let y: Vec<f64> = (1..=200).map(|i| -((i as f64 - 0.5) / 200.0).ln()).collect();
        let fit = fit_exponential(&y).unwrap();
        let q = 1e-4;
        let Bound::Finite(z) = upper_bound(&fit, TailProb::Conditional(q), &y, 0.95) else {
            panic!("unbounded")
        };
        let (k, m, d) = (200.0, fit.params[0], half_critical(0.95));
        let s = z / -(q.ln());
        assert!((k * ((s / m).ln() + m / s - 1.0) - d).abs() < 1e-4, "{s} {m}");
        assert!(z > fit.return_level(TailProb::Conditional(q)));
    }

    #[test]
    fn a_model_without_that_tail_is_unbounded() {
        let fit = fit_exponential(&[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(upper_bound(&fit, TailProb::PerBlock(1e-3), &[1.0], 0.95), Bound::Unbounded);
    }
}
