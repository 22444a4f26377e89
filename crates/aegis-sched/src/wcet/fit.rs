//! Direct maximum-likelihood fitting of one tail model to caller-supplied data.
//!
//! Owns [`fit_tail`], the public face of the fitting code for callers (and tests) that have
//! block maxima or threshold excesses of their own. It standardises the data, fits, and
//! reports in the data's units. It must not know about profiles or methods.

use super::WcetError;
use super::mle::{TailModel, fit_exponential, fit_gev, fit_gpd, fit_gumbel};
use super::tail::{FittedTail, Standardiser, report};

/// Fewest data points [`fit_tail`] accepts.
pub const MIN_FIT_POINTS: usize = 10;

/// Fits `model` by maximum likelihood to `data`: block maxima for [`TailModel::Gev`] and
/// [`TailModel::Gumbel`], excesses over a threshold (all ≥ 0) for [`TailModel::Gpd`] and
/// [`TailModel::Exponential`].
///
/// # Errors
/// Fewer than [`MIN_FIT_POINTS`] points, a non-finite point, a negative excess, data without
/// spread, or an optimiser that finds no finite likelihood.
pub fn fit_tail(model: TailModel, data: &[f64]) -> Result<FittedTail, WcetError> {
    if data.len() < MIN_FIT_POINTS {
        return Err(WcetError::TooFewSamples {
            field: "data",
            needed: MIN_FIT_POINTS,
            got: data.len(),
            fix: "give more block maxima or excesses",
        });
    }
    let excesses = matches!(model, TailModel::Gpd | TailModel::Exponential);
    for (index, &value) in data.iter().enumerate() {
        if !value.is_finite() || (excesses && value < 0.0) {
            return Err(WcetError::InvalidSample {
                field: "data",
                index,
                value,
                fix: "give finite values (and excesses >= 0 for GPD/exponential)",
            });
        }
    }
    let n = data.len() as f64;
    let mean = data.iter().sum::<f64>() / n;
    let sd = (data.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0)).sqrt();
    let failed = |reason: &str| WcetError::FitFailed { model, reason: reason.to_string() };
    if sd.is_nan() || sd <= 0.0 {
        return Err(failed("the data have no spread"));
    }
    let (st, z) = if excesses {
        let st = Standardiser { offset: 0.0, scale: mean };
        (st, data.iter().map(|v| v / mean).collect::<Vec<f64>>())
    } else {
        let st = Standardiser { offset: mean, scale: sd };
        (st, data.iter().map(|v| (v - mean) / sd).collect::<Vec<f64>>())
    };
    let mut sorted = z.clone();
    sorted.sort_by(f64::total_cmp);
    let fit = match model {
        TailModel::Gev => fit_gev(&z, &sorted),
        TailModel::Gumbel => fit_gumbel(&z),
        TailModel::Gpd => fit_gpd(&z, &sorted),
        TailModel::Exponential => fit_exponential(&z),
    };
    fit.map(|f| report(&f, st, z.len())).ok_or_else(|| failed("no finite likelihood found"))
}
