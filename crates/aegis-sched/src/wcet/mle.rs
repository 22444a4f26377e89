//! Maximum-likelihood fitting of the four tail models (GEV, Gumbel, GPD, exponential), their
//! standard errors, the likelihood-ratio test for shape = 0, and their profile likelihood for a
//! return level.
//!
//! Owns [`TailModel`] and the crate-internal `ModelFit`. Works on standardised data (the
//! callers divide by a scale so the optimiser sees values of order 1); it must not know about
//! nanoseconds, blocks, thresholds or which method the profile finally uses.
//!
//! Shape ξ is restricted to (−1, 2): below −1 the GEV/GPD likelihood is unbounded (Smith 1985);
//! above 2 the tail is heavier than any execution-time distribution has a reason to be. A fit
//! that ends within 0.01 of either limit is flagged `at_shape_limit`.

use super::gev::{gev_nll, return_level_factor};
use super::gpd::{excess_factor, gpd_nll};
use super::optim::{NmOptions, hessian, nelder_mead, spd_inverse};
use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF};

/// Lower limit (exclusive) of the shape parameter.
pub(crate) const SHAPE_MIN: f64 = -1.0;
/// Upper limit (exclusive) of the shape parameter.
pub(crate) const SHAPE_MAX: f64 = 2.0;
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// Which extreme-value model a fit uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TailModel {
    /// Generalised extreme value, for block maxima (location, scale, shape).
    Gev,
    /// Gumbel, the GEV with shape 0 (location, scale).
    Gumbel,
    /// Generalised Pareto, for excesses over a threshold (scale, shape).
    Gpd,
    /// Exponential, the GPD with shape 0 (scale).
    Exponential,
}

/// The tail probability a return level refers to, in the model's own terms.
#[derive(Clone, Copy, Debug)]
pub(crate) enum TailProb {
    /// Per-block exceedance probability of a block maximum (GEV, Gumbel).
    PerBlock(f64),
    /// Conditional exceedance probability of an excess over the threshold (GPD, exponential).
    Conditional(f64),
}

/// A maximum-likelihood fit on standardised data.
#[derive(Clone, Debug)]
pub(crate) struct ModelFit {
    pub(crate) model: TailModel,
    /// Natural parameters: GEV (μ, σ, ξ), Gumbel (μ, σ), GPD (σ, ξ), exponential (σ).
    pub(crate) params: Vec<f64>,
    /// Negative log-likelihood at the optimum (standardised units).
    pub(crate) nll: f64,
    /// Covariance of the natural parameters from the observed information, if invertible.
    pub(crate) cov: Option<Vec<Vec<f64>>>,
    pub(crate) converged: bool,
    pub(crate) at_shape_limit: bool,
}

impl ModelFit {
    /// The shape ξ (0 for Gumbel and exponential).
    pub(crate) fn shape(&self) -> f64 {
        match self.model {
            TailModel::Gev => self.params[2],
            TailModel::Gpd => self.params[1],
            _ => 0.0,
        }
    }

    /// Standard error of the shape, when estimated and the information is invertible.
    pub(crate) fn shape_se(&self) -> Option<f64> {
        let i = match self.model {
            TailModel::Gev => 2,
            TailModel::Gpd => 1,
            _ => return None,
        };
        self.cov.as_ref().map(|c| c[i][i].sqrt()).filter(|v| v.is_finite())
    }

    /// The return level at `tail` (standardised units; for GPD/exponential an excess).
    pub(crate) fn return_level(&self, tail: TailProb) -> f64 {
        let p = &self.params;
        match (self.model, tail) {
            (TailModel::Gev, TailProb::PerBlock(pb)) => {
                p[0] + p[1] * return_level_factor(p[2], -(-pb).ln_1p())
            }
            (TailModel::Gumbel, TailProb::PerBlock(pb)) => {
                p[0] + p[1] * return_level_factor(0.0, -(-pb).ln_1p())
            }
            (TailModel::Gpd, TailProb::Conditional(q)) => p[0] * excess_factor(p[1], -q.ln()),
            (TailModel::Exponential, TailProb::Conditional(q)) => p[0] * -q.ln(),
            _ => f64::NAN,
        }
    }

    /// Negative log-likelihood when the return level at `tail` is fixed at `z` and the
    /// remaining free parameters are `psi` (see [`ModelFit::profile_start`]).
    pub(crate) fn profile_nll(&self, tail: TailProb, z: f64, psi: &[f64], data: &[f64]) -> f64 {
        match (self.model, tail) {
            (TailModel::Gev, TailProb::PerBlock(pb)) => {
                let (sigma, xi) = (psi[0].exp(), psi[1]);
                if !(SHAPE_MIN < xi && xi < SHAPE_MAX) {
                    return f64::INFINITY;
                }
                let mu = z - sigma * return_level_factor(xi, -(-pb).ln_1p());
                gev_nll(mu, sigma, xi, data)
            }
            (TailModel::Gumbel, TailProb::PerBlock(pb)) => {
                let sigma = psi[0].exp();
                let mu = z - sigma * return_level_factor(0.0, -(-pb).ln_1p());
                gev_nll(mu, sigma, 0.0, data)
            }
            (TailModel::Gpd, TailProb::Conditional(q)) => {
                let xi = psi[0];
                if !(SHAPE_MIN < xi && xi < SHAPE_MAX) {
                    return f64::INFINITY;
                }
                gpd_nll(z / excess_factor(xi, -q.ln()), xi, data)
            }
            (TailModel::Exponential, TailProb::Conditional(q)) => gpd_nll(z / -q.ln(), 0.0, data),
            _ => f64::INFINITY,
        }
    }

    /// The free parameters at the optimum, as [`ModelFit::profile_nll`] takes them.
    pub(crate) fn profile_start(&self) -> Vec<f64> {
        let p = &self.params;
        match self.model {
            TailModel::Gev => vec![p[1].ln(), p[2]],
            TailModel::Gumbel => vec![p[1].ln()],
            TailModel::Gpd => vec![p[1]],
            TailModel::Exponential => vec![],
        }
    }
}

fn shape_ok(xi: f64) -> bool {
    SHAPE_MIN < xi && xi < SHAPE_MAX
}

fn at_limit(xi: f64) -> bool {
    !(SHAPE_MIN + 0.01..=SHAPE_MAX - 0.01).contains(&xi)
}

fn mean_sd(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    let v = x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1.0).max(1.0);
    (m, v.sqrt())
}

/// Covariance of natural parameters from the Hessian in the optimiser's coordinates, where
/// coordinate `log_idx` holds ln σ (so the Jacobian multiplies that row/column by σ).
fn covariance<F: Fn(&[f64]) -> f64>(f: F, theta: &[f64], log_idx: usize) -> Option<Vec<Vec<f64>>> {
    let h: Vec<f64> = theta.iter().map(|t| 1e-4 * t.abs().max(1.0)).collect();
    let inv = spd_inverse(&hessian(f, theta, &h)?)?;
    let sigma = theta[log_idx].exp();
    let n = theta.len();
    let j = |i: usize| if i == log_idx { sigma } else { 1.0 };
    Some((0..n).map(|r| (0..n).map(|c| inv[r][c] * j(r) * j(c)).collect()).collect())
}

fn best_of<F: Fn(&[f64]) -> f64>(
    f: &F,
    starts: &[Vec<f64>],
    step: &[f64],
) -> Option<(Vec<f64>, f64, bool)> {
    let mut best: Option<(Vec<f64>, f64, bool)> = None;
    for s in starts {
        if !f(s).is_finite() {
            continue;
        }
        let r = nelder_mead(f, s, step, NmOptions::default());
        if r.f.is_finite() && best.as_ref().is_none_or(|b| r.f < b.1) {
            best = Some((r.x, r.f, r.converged));
        }
    }
    best
}

/// GEV by maximum likelihood from standardised block maxima (`sorted` = the same, ascending).
pub(crate) fn fit_gev(data: &[f64], sorted: &[f64]) -> Option<ModelFit> {
    if data.len() < 3 {
        return None;
    }
    let f = |t: &[f64]| {
        if !shape_ok(t[2]) {
            return f64::INFINITY;
        }
        gev_nll(t[0], t[1].exp(), t[2], data)
    };
    let (m, sd) = mean_sd(data);
    if sd.is_nan() || sd <= 0.0 {
        return None;
    }
    let s0 = sd * 6f64.sqrt() / std::f64::consts::PI;
    let mut starts =
        vec![vec![m - EULER_GAMMA * s0, s0.ln(), 0.0], vec![m - EULER_GAMMA * s0, s0.ln(), 0.1]];
    if let Some(g) = super::gev::pwm_start(sorted) {
        starts.insert(0, vec![g.location, g.scale.ln(), g.shape]);
    }
    let (t, nll, converged) = best_of(&f, &starts, &[0.1, 0.1, 0.1])?;
    Some(ModelFit {
        model: TailModel::Gev,
        params: vec![t[0], t[1].exp(), t[2]],
        nll,
        cov: covariance(f, &t, 1),
        converged,
        at_shape_limit: at_limit(t[2]),
    })
}

/// Gumbel by maximum likelihood from standardised block maxima.
pub(crate) fn fit_gumbel(data: &[f64]) -> Option<ModelFit> {
    if data.len() < 2 {
        return None;
    }
    let f = |t: &[f64]| gev_nll(t[0], t[1].exp(), 0.0, data);
    let (m, sd) = mean_sd(data);
    if sd.is_nan() || sd <= 0.0 {
        return None;
    }
    let s0 = sd * 6f64.sqrt() / std::f64::consts::PI;
    let (t, nll, converged) = best_of(&f, &[vec![m - EULER_GAMMA * s0, s0.ln()]], &[0.1, 0.1])?;
    Some(ModelFit {
        model: TailModel::Gumbel,
        params: vec![t[0], t[1].exp()],
        nll,
        cov: covariance(f, &t, 1),
        converged,
        at_shape_limit: false,
    })
}

/// GPD by maximum likelihood from standardised excesses (`sorted` = the same, ascending).
pub(crate) fn fit_gpd(y: &[f64], sorted: &[f64]) -> Option<ModelFit> {
    if y.len() < 3 {
        return None;
    }
    let f = |t: &[f64]| {
        if !shape_ok(t[1]) {
            return f64::INFINITY;
        }
        gpd_nll(t[0].exp(), t[1], y)
    };
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    if mean.is_nan() || mean <= 0.0 {
        return None;
    }
    let mut starts = vec![vec![mean.ln(), 0.0]];
    if let Some(g) = super::gpd::pwm_start(sorted) {
        starts.insert(0, vec![g.scale.ln(), g.shape]);
        // A negative-shape start may put the largest excess beyond the end point; also try the
        // same shape with a scale that keeps it inside.
        let ymax = sorted.last().copied().unwrap_or(0.0);
        if g.shape < 0.0 {
            starts.push(vec![(-g.shape * ymax * 1.1).max(g.scale).ln(), g.shape]);
        }
    }
    let (t, nll, converged) = best_of(&f, &starts, &[0.1, 0.1])?;
    Some(ModelFit {
        model: TailModel::Gpd,
        params: vec![t[0].exp(), t[1]],
        nll,
        cov: covariance(f, &t, 0),
        converged,
        at_shape_limit: at_limit(t[1]),
    })
}

/// Exponential (GPD with ξ = 0) in closed form: σ̂ = mean excess, var(σ̂) = σ̂²/k.
pub(crate) fn fit_exponential(y: &[f64]) -> Option<ModelFit> {
    let k = y.len() as f64;
    let sigma = y.iter().sum::<f64>() / k;
    if !(sigma > 0.0 && sigma.is_finite()) {
        return None;
    }
    Some(ModelFit {
        model: TailModel::Exponential,
        params: vec![sigma],
        nll: gpd_nll(sigma, 0.0, y),
        cov: Some(vec![vec![sigma * sigma / k]]),
        converged: true,
        at_shape_limit: false,
    })
}

/// Refits `start`'s model to `data` from `start`'s parameters only, without standard errors:
/// the bootstrap's refit of data simulated from `start` (falls back to [`fit_model`] when the
/// start is infeasible).
pub(crate) fn refit_from(start: &ModelFit, data: &[f64]) -> Option<ModelFit> {
    let p = &start.params;
    let opts = NmOptions { max_evals: 2000, f_tol: 1e-9, x_tol: 1e-6, restarts: 1 };
    let (theta, step): (Vec<f64>, Vec<f64>) = match start.model {
        TailModel::Gev => (vec![p[0], p[1].ln(), p[2]], vec![0.1; 3]),
        TailModel::Gumbel => (vec![p[0], p[1].ln()], vec![0.1; 2]),
        TailModel::Gpd => (vec![p[0].ln(), p[1]], vec![0.1; 2]),
        TailModel::Exponential => return fit_exponential(data),
    };
    let f = |t: &[f64]| match start.model {
        TailModel::Gev if shape_ok(t[2]) => gev_nll(t[0], t[1].exp(), t[2], data),
        TailModel::Gumbel => gev_nll(t[0], t[1].exp(), 0.0, data),
        TailModel::Gpd if shape_ok(t[1]) => gpd_nll(t[0].exp(), t[1], data),
        _ => f64::INFINITY,
    };
    if !f(&theta).is_finite() {
        return fit_model(start.model, data);
    }
    let r = nelder_mead(f, &theta, &step, opts);
    let params = match start.model {
        TailModel::Gev => vec![r.x[0], r.x[1].exp(), r.x[2]],
        TailModel::Gumbel => vec![r.x[0], r.x[1].exp()],
        _ => vec![r.x[0].exp(), r.x[1]],
    };
    r.f.is_finite().then(|| ModelFit {
        model: start.model,
        at_shape_limit: at_limit(match start.model {
            TailModel::Gev => params[2],
            TailModel::Gpd => params[1],
            _ => 0.0,
        }),
        params,
        nll: r.f,
        cov: None,
        converged: r.converged,
    })
}

/// Fits `model` from scratch.
pub(crate) fn fit_model(model: TailModel, data: &[f64]) -> Option<ModelFit> {
    let mut sorted = data.to_vec();
    sorted.sort_by(f64::total_cmp);
    match model {
        TailModel::Gev => fit_gev(data, &sorted),
        TailModel::Gumbel => fit_gumbel(data),
        TailModel::Gpd => fit_gpd(data, &sorted),
        TailModel::Exponential => fit_exponential(data),
    }
}

/// Likelihood-ratio test of shape = 0: statistic 2(ℓ_full − ℓ_restricted) and its χ²₁ p-value.
pub(crate) fn lr_test(full: &ModelFit, restricted: &ModelFit) -> (f64, f64) {
    let d = (2.0 * (restricted.nll - full.nll)).max(0.0);
    let p = ChiSquared::new(1.0).map(|c| c.sf(d)).unwrap_or(f64::NAN);
    (d, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_return_level_and_mismatched_tails() {
        let f = ModelFit {
            model: TailModel::Exponential,
            params: vec![2.0],
            nll: 0.0,
            cov: None,
            converged: true,
            at_shape_limit: false,
        };
        assert!((f.return_level(TailProb::Conditional(1e-3)) - 2.0 * 1e3f64.ln()).abs() < 1e-12);
        assert!(f.return_level(TailProb::PerBlock(1e-3)).is_nan());
        assert!(f.profile_nll(TailProb::PerBlock(1e-3), 1.0, &[], &[1.0]).is_infinite());
        assert_eq!(f.shape(), 0.0);
        assert!(f.shape_se().is_none());
        assert!(f.profile_start().is_empty());
    }

    #[test]
    fn degenerate_data_gives_no_fit() {
        assert!(fit_gev(&[1.0, 1.0, 1.0, 1.0], &[1.0, 1.0, 1.0, 1.0]).is_none());
        assert!(fit_gev(&[1.0, 2.0], &[1.0, 2.0]).is_none());
        assert!(fit_gumbel(&[1.0]).is_none());
        assert!(fit_gumbel(&[2.0, 2.0]).is_none());
        assert!(fit_gpd(&[0.0, 0.0, 0.0], &[0.0, 0.0, 0.0]).is_none());
        assert!(fit_gpd(&[1.0], &[1.0]).is_none());
        assert!(fit_exponential(&[0.0, 0.0]).is_none());
    }
}
