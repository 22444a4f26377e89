//! The generalised Pareto distribution (GPD), the law of excesses over a high threshold.
//!
//! Owns [`Gpd`] for excesses y = x − u ≥ 0: survival function, cdf, upper-tail quantile,
//! log-density, negative log-likelihood and probability-weighted-moment starting values
//! (Hosking & Wallis 1987). Shape ξ as in Coles (2001) and SciPy's `genpareto` (c = ξ): ξ > 0
//! heavy tail, ξ = 0 exponential, ξ < 0 finite end point −σ/ξ. It must not know about
//! thresholds, samples in nanoseconds or fitting strategy.
//!
//! P(Y > y) = (1 + ξ y/σ)^(−1/ξ), or exp(−y/σ) when ξ = 0.

use super::gev::SHAPE_ZERO;
use serde::{Deserialize, Serialize};

/// A GPD with scale σ > 0 and shape ξ, for excesses over a threshold.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gpd {
    /// Scale σ (> 0).
    pub scale: f64,
    /// Shape ξ (positive = heavy tail, 0 = exponential).
    pub shape: f64,
}

impl Gpd {
    /// A GPD, or `None` when a parameter is not finite or the scale is not positive.
    pub fn new(scale: f64, shape: f64) -> Option<Gpd> {
        (scale.is_finite() && scale > 0.0 && shape.is_finite()).then_some(Gpd { scale, shape })
    }

    /// P(Y > y).
    pub fn sf(&self, y: f64) -> f64 {
        if y <= 0.0 {
            return 1.0;
        }
        let z = y / self.scale;
        if self.shape.abs() < SHAPE_ZERO {
            return (-z).exp();
        }
        let a = self.shape * z;
        if a <= -1.0 {
            return 0.0;
        }
        (-(a.ln_1p()) / self.shape).exp()
    }

    /// P(Y ≤ y).
    pub fn cdf(&self, y: f64) -> f64 {
        if y <= 0.0 {
            return 0.0;
        }
        let z = y / self.scale;
        if self.shape.abs() < SHAPE_ZERO {
            return -(-z).exp_m1();
        }
        let a = self.shape * z;
        if a <= -1.0 {
            return 1.0;
        }
        -(-(a.ln_1p()) / self.shape).exp_m1()
    }

    /// The excess y with P(Y > y) = `q`, for 0 < q ≤ 1 (NaN otherwise).
    pub fn quantile_upper(&self, q: f64) -> f64 {
        if !(q > 0.0 && q <= 1.0) {
            return f64::NAN;
        }
        self.scale * excess_factor(self.shape, -q.ln())
    }

    /// The finite end point −σ/ξ when ξ < 0.
    pub fn upper_end_point(&self) -> Option<f64> {
        (self.shape <= -SHAPE_ZERO).then(|| -self.scale / self.shape)
    }

    /// ln f(y); `-inf` outside the support.
    pub fn ln_pdf(&self, y: f64) -> f64 {
        if y < 0.0 {
            return f64::NEG_INFINITY;
        }
        let z = y / self.scale;
        if self.shape.abs() < SHAPE_ZERO {
            return -self.scale.ln() - z;
        }
        let a = self.shape * z;
        if a <= -1.0 {
            return f64::NEG_INFINITY;
        }
        -self.scale.ln() - (1.0 + 1.0 / self.shape) * a.ln_1p()
    }

    /// −Σ ln f(yᵢ); `+inf` when a point lies outside the support.
    pub fn nll(&self, excesses: &[f64]) -> f64 {
        gpd_nll(self.scale, self.shape, excesses)
    }
}

/// (e^(ξL) − 1)/ξ, or L when ξ = 0: the excess quantile is σ times this, L = ln(1/q).
pub(crate) fn excess_factor(shape: f64, l: f64) -> f64 {
    if shape.abs() < SHAPE_ZERO { l } else { (shape * l).exp_m1() / shape }
}

/// The GPD negative log-likelihood (hot loop of the optimiser).
pub(crate) fn gpd_nll(sigma: f64, xi: f64, y: &[f64]) -> f64 {
    if !(sigma > 0.0 && sigma.is_finite() && xi.is_finite()) {
        return f64::INFINITY;
    }
    let n = y.len() as f64;
    let inv = 1.0 / sigma;
    if xi.abs() < SHAPE_ZERO {
        return n * sigma.ln() + y.iter().sum::<f64>() * inv;
    }
    let mut s = 0.0;
    for &v in y {
        let a = xi * v * inv;
        if a <= -1.0 || v < 0.0 {
            return f64::INFINITY;
        }
        s += a.ln_1p();
    }
    n * sigma.ln() + (1.0 + 1.0 / xi) * s
}

/// Probability-weighted-moment estimate (Hosking & Wallis 1987) from ascending sorted excesses
/// (at least 2); shape clamped to [−0.9, 0.9]. `None` if degenerate.
pub(crate) fn pwm_start(sorted: &[f64]) -> Option<Gpd> {
    let n = sorted.len();
    if n < 2 {
        return None;
    }
    let nf = n as f64;
    let a0 = sorted.iter().sum::<f64>() / nf;
    let a1 = sorted
        .iter()
        .enumerate()
        .map(|(i, &y)| y * (nf - 1.0 - i as f64) / (nf - 1.0))
        .sum::<f64>()
        / nf;
    let d = a0 - 2.0 * a1;
    if a0.is_nan() || a0 <= 0.0 || d.abs() < f64::MIN_POSITIVE {
        return None;
    }
    let k = (a0 / d - 2.0).clamp(-0.9, 0.9);
    let scale = if (a0 / d - 2.0) == k { 2.0 * a0 * a1 / d } else { a0 * (1.0 + k) };
    Gpd::new(scale, -k)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values: scipy 1.17.1, `p = scipy.stats.genpareto(c=0.25, scale=3)`:
    // p.cdf(2), p.sf(40), p.isf(1e-4), p.logpdf(2); `e = genpareto(c=-0.2, scale=3)`:
    // e.cdf(2), e.isf(1e-4), e.logpdf(2).
    #[test]
    fn matches_scipy_genpareto() {
        let p = Gpd::new(3.0, 0.25).unwrap();
        assert!((p.cdf(2.0) - 0.460_224_906_289_046_2).abs() < 1e-12);
        assert!((p.sf(40.0) - 0.002_836_035_152_830_781_7).abs() < 1e-12);
        assert!((p.quantile_upper(1e-4) - 108.0).abs() < 1e-9);
        assert!((p.ln_pdf(2.0) - (-1.869_365_687_804_401_2)).abs() < 1e-12);
        let e = Gpd::new(3.0, -0.2).unwrap();
        assert!((e.cdf(2.0) - 0.511_054_485_596_707_9).abs() < 1e-12);
        assert!((e.quantile_upper(1e-4) - 12.622_660_211_308_329).abs() < 1e-9);
        assert!((e.ln_pdf(2.0) - (-1.671_015_663_230_803)).abs() < 1e-12);
        assert_eq!(e.upper_end_point(), Some(15.0));
        assert_eq!((e.sf(16.0), e.cdf(16.0)), (0.0, 1.0));
        assert!(e.ln_pdf(16.0).is_infinite() && e.ln_pdf(-1.0).is_infinite());
        assert_eq!((p.sf(-1.0), p.cdf(-1.0)), (1.0, 0.0));
        assert!(p.quantile_upper(0.0).is_nan());
        assert_eq!(p.quantile_upper(1.0), 0.0);
    }

    #[test]
    fn shape_zero_is_the_exponential() {
        let g = Gpd::new(2.0, 0.0).unwrap();
        assert!((g.sf(3.0) - (-1.5f64).exp()).abs() < 1e-15);
        assert!((g.cdf(3.0) + (-1.5f64).exp_m1()).abs() < 1e-15);
        assert!((g.quantile_upper(1e-6) - 2.0 * 1e6f64.ln()).abs() < 1e-12);
        assert!((g.ln_pdf(3.0) - (-(2f64.ln()) - 1.5)).abs() < 1e-15);
        assert!((g.nll(&[1.0, 3.0]) - (2.0 * 2f64.ln() + 2.0)).abs() < 1e-12);
        let near = Gpd::new(2.0, 1e-9).unwrap();
        assert!((near.quantile_upper(1e-6) - g.quantile_upper(1e-6)).abs() < 1e-6);
        assert!(g.upper_end_point().is_none());
    }

    #[test]
    fn degenerate_inputs() {
        assert!(Gpd::new(-1.0, 0.0).is_none());
        assert!(gpd_nll(1.0, 0.1, &[-1.0]).is_infinite());
        assert!(gpd_nll(f64::NAN, 0.1, &[1.0]).is_infinite());
        assert!(pwm_start(&[1.0]).is_none());
        assert!(pwm_start(&[0.0, 0.0, 0.0]).is_none());
        let s = pwm_start(&[0.1, 0.5, 1.0, 2.0, 4.0]).unwrap();
        assert!(s.scale > 0.0);
    }
}
