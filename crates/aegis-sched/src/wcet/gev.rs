//! The generalised extreme value (GEV) distribution, the law of block maxima.
//!
//! Owns [`Gev`]: cdf, survival function, upper-tail quantile, log-density, negative
//! log-likelihood, and probability-weighted-moment starting values (Hosking, Wallis & Wood
//! 1985). Shape convention: `shape` = ξ as in Coles (2001), so ξ > 0 is heavy-tailed (Fréchet),
//! ξ = 0 is Gumbel and ξ < 0 has a finite upper end point (Weibull). SciPy's `genextreme`
//! uses c = −ξ. It must not know about samples in nanoseconds, blocks or fitting strategy.
//!
//! F(x) = exp(−t(x)), t(x) = (1 + ξ (x−μ)/σ)^(−1/ξ), or exp(−(x−μ)/σ) when ξ = 0.

use serde::{Deserialize, Serialize};
use statrs::function::gamma::gamma;

/// Below this |ξ| the Gumbel (ξ = 0) formulas are used.
pub(crate) const SHAPE_ZERO: f64 = 1e-10;

/// A GEV distribution with location μ, scale σ > 0 and shape ξ.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gev {
    /// Location μ.
    pub location: f64,
    /// Scale σ (> 0).
    pub scale: f64,
    /// Shape ξ (Coles' sign convention: positive = heavy tail).
    pub shape: f64,
}

impl Gev {
    /// A GEV, or `None` when a parameter is not finite or the scale is not positive.
    pub fn new(location: f64, scale: f64, shape: f64) -> Option<Gev> {
        (location.is_finite() && scale.is_finite() && scale > 0.0 && shape.is_finite())
            .then_some(Gev { location, scale, shape })
    }

    /// t(x) of the definition, or `None` outside the support (then `Some(true)` = above the
    /// upper end point, `Some(false)` = below the lower one).
    fn t(&self, x: f64) -> Result<f64, bool> {
        let z = (x - self.location) / self.scale;
        if self.shape.abs() < SHAPE_ZERO {
            return Ok((-z).exp());
        }
        let a = self.shape * z;
        if a <= -1.0 {
            return Err(self.shape < 0.0);
        }
        Ok((-(a.ln_1p()) / self.shape).exp())
    }

    /// P(X ≤ x).
    pub fn cdf(&self, x: f64) -> f64 {
        match self.t(x) {
            Ok(t) => (-t).exp(),
            Err(above) => f64::from(u8::from(above)),
        }
    }

    /// P(X > x), accurate far in the upper tail.
    pub fn sf(&self, x: f64) -> f64 {
        match self.t(x) {
            Ok(t) => -(-t).exp_m1(),
            Err(above) => f64::from(u8::from(!above)),
        }
    }

    /// The x with P(X > x) = `p`, for 0 < p < 1 (NaN otherwise).
    pub fn quantile_upper(&self, p: f64) -> f64 {
        if !(p > 0.0 && p < 1.0) {
            return f64::NAN;
        }
        // y = -ln(1 - p), computed without cancellation for tiny p.
        let y = -(-p).ln_1p();
        self.location + self.scale * return_level_factor(self.shape, y)
    }

    /// The finite upper end point μ − σ/ξ when ξ < 0.
    pub fn upper_end_point(&self) -> Option<f64> {
        (self.shape <= -SHAPE_ZERO).then(|| self.location - self.scale / self.shape)
    }

    /// ln f(x); `-inf` outside the support.
    pub fn ln_pdf(&self, x: f64) -> f64 {
        let z = (x - self.location) / self.scale;
        if self.shape.abs() < SHAPE_ZERO {
            return -self.scale.ln() - z - (-z).exp();
        }
        let a = self.shape * z;
        if a <= -1.0 {
            return f64::NEG_INFINITY;
        }
        let l = a.ln_1p();
        -self.scale.ln() - (1.0 + 1.0 / self.shape) * l - (-l / self.shape).exp()
    }

    /// −Σ ln f(xᵢ); `+inf` when a point lies outside the support.
    pub fn nll(&self, data: &[f64]) -> f64 {
        gev_nll(self.location, self.scale, self.shape, data)
    }
}

/// (y^(−ξ) − 1)/ξ, or −ln y when ξ = 0: the quantile is μ + σ · this factor.
pub(crate) fn return_level_factor(shape: f64, y: f64) -> f64 {
    if shape.abs() < SHAPE_ZERO { -y.ln() } else { (-shape * y.ln()).exp_m1() / shape }
}

/// The GEV negative log-likelihood without building a [`Gev`] (hot loop of the optimiser).
pub(crate) fn gev_nll(mu: f64, sigma: f64, xi: f64, data: &[f64]) -> f64 {
    if !(sigma > 0.0 && sigma.is_finite() && mu.is_finite() && xi.is_finite()) {
        return f64::INFINITY;
    }
    let n = data.len() as f64;
    let inv = 1.0 / sigma;
    if xi.abs() < SHAPE_ZERO {
        let s: f64 = data
            .iter()
            .map(|&x| {
                let z = (x - mu) * inv;
                z + (-z).exp()
            })
            .sum();
        return n * sigma.ln() + s;
    }
    let (mut sum_l, mut sum_t) = (0.0, 0.0);
    for &x in data {
        let a = xi * (x - mu) * inv;
        if a <= -1.0 {
            return f64::INFINITY;
        }
        let l = a.ln_1p();
        sum_l += l;
        sum_t += (-l / xi).exp();
    }
    n * sigma.ln() + (1.0 + 1.0 / xi) * sum_l + sum_t
}

/// Probability-weighted-moment estimate (Hosking, Wallis & Wood 1985) from ascending sorted
/// data with at least 3 points; shape clamped to [−0.9, 0.9]. `None` if degenerate.
pub(crate) fn pwm_start(sorted: &[f64]) -> Option<Gev> {
    let n = sorted.len();
    if n < 3 {
        return None;
    }
    let nf = n as f64;
    let (mut b0, mut b1, mut b2) = (0.0, 0.0, 0.0);
    for (i, &x) in sorted.iter().enumerate() {
        let i = i as f64;
        b0 += x;
        b1 += x * i / (nf - 1.0);
        b2 += x * i * (i - 1.0) / ((nf - 1.0) * (nf - 2.0));
    }
    b0 /= nf;
    b1 /= nf;
    b2 /= nf;
    let denom = 3.0 * b2 - b0;
    if denom.abs() < f64::MIN_POSITIVE || (2.0 * b1 - b0) <= 0.0 {
        return None;
    }
    let c = (2.0 * b1 - b0) / denom - 2f64.ln() / 3f64.ln();
    // Hosking's k = -ξ.
    let k = (7.8590 * c + 2.9554 * c * c).clamp(-0.9, 0.9);
    let (scale, location) = if k.abs() < 1e-6 {
        let s = (2.0 * b1 - b0) / 2f64.ln();
        (s, b0 - 0.577_215_664_901_532_9 * s)
    } else {
        let g = gamma(1.0 + k);
        let s = (2.0 * b1 - b0) * k / (g * (1.0 - 2f64.powf(-k)));
        (s, b0 + s * (g - 1.0) / k)
    };
    Gev::new(location, scale, -k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use statrs::distribution::{ContinuousCDF, Gumbel};

    // Reference values: scipy 1.17.1, `scipy.stats.genextreme(c=-xi, loc, scale)`; computed with
    // `g = genextreme(c=-0.2, loc=10, scale=2)`: g.cdf(12), g.sf(30), g.isf(1e-6), g.logpdf(12);
    // `w = genextreme(c=0.3, loc=10, scale=2)`: w.cdf(12), w.isf(1e-6).
    #[test]
    fn matches_scipy_genextreme() {
        let g = Gev::new(10.0, 2.0, 0.2).unwrap();
        assert!((g.cdf(12.0) - 0.669_062_652_667_818_7).abs() < 1e-12, "{}", g.cdf(12.0));
        assert!((g.sf(30.0) - 0.004_106_770_396_890_854).abs() < 1e-12, "{}", g.sf(30.0));
        assert!((g.quantile_upper(1e-6) - 158.489_303_397_173_64).abs() < 1e-8);
        let w = Gev::new(10.0, 2.0, -0.3).unwrap();
        assert!((w.cdf(12.0) - 0.737_454_363_562_754_7).abs() < 1e-12, "{}", w.cdf(12.0));
        assert!((w.quantile_upper(1e-6) - 16.561_007_104_653_655).abs() < 1e-9);
        assert_eq!(w.upper_end_point(), Some(10.0 + 2.0 / 0.3));
        assert_eq!(w.cdf(17.0), 1.0);
        assert_eq!(w.sf(17.0), 0.0);
        assert_eq!(g.cdf(0.0), 0.0);
        assert_eq!(g.sf(0.0), 1.0);
        assert!(g.ln_pdf(0.0).is_infinite());
        assert!((g.ln_pdf(12.0) - (-2.188_954_093_340_134)).abs() < 1e-12, "{}", g.ln_pdf(12.0));
        assert!(g.quantile_upper(0.0).is_nan() && g.quantile_upper(1.0).is_nan());
    }

    #[test]
    fn shape_zero_is_statrs_gumbel() {
        let g = Gev::new(5.0, 1.5, 0.0).unwrap();
        let s = Gumbel::new(5.0, 1.5).unwrap();
        for x in [2.0, 5.0, 7.5, 20.0] {
            assert!((g.cdf(x) - s.cdf(x)).abs() < 1e-14);
        }
        for p in [0.5, 1e-3, 1e-6] {
            assert!((g.quantile_upper(p) - s.inverse_cdf(1.0 - p)).abs() < 1e-6);
        }
        // Continuity in ξ around 0.
        let near = Gev::new(5.0, 1.5, 1e-8).unwrap();
        assert!((near.quantile_upper(1e-6) - g.quantile_upper(1e-6)).abs() < 1e-5);
        assert!((near.ln_pdf(7.0) - g.ln_pdf(7.0)).abs() < 1e-7);
        assert!((g.nll(&[4.0, 6.0]) - near.nll(&[4.0, 6.0])).abs() < 1e-7);
        assert!(g.upper_end_point().is_none());
    }

    #[test]
    fn invalid_parameters_are_refused() {
        assert!(Gev::new(0.0, 0.0, 0.1).is_none());
        assert!(Gev::new(f64::NAN, 1.0, 0.1).is_none());
        assert!(Gev::new(0.0, 1.0, f64::INFINITY).is_none());
        assert!(gev_nll(0.0, -1.0, 0.1, &[1.0]).is_infinite());
        assert!(pwm_start(&[1.0, 2.0]).is_none());
        assert!(pwm_start(&[1.0, 1.0, 1.0, 1.0]).is_none());
    }
}
