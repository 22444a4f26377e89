//! The peaks-over-threshold method: excesses over a high threshold u fitted to a generalised
//! Pareto distribution (or an exponential when the shape is not significantly different from 0).
//!
//! Owns [`PotReport`], [`ThresholdStability`] and the threshold rule. It must not know about
//! blocks or how the final method is chosen.
//!
//! Threshold rule (documented, deterministic): first aim for k = clamp(round((1 − q₀)·n), k_min,
//! k_max) exceedances, q₀ = `pot_threshold_quantile` (0.95), k_min = `min_exceedances` (50),
//! k_max = `max_exceedances` (1000: beyond that a higher threshold costs no precision worth
//! the bias). u is the (k+1)-th largest sample; with ties at u the exceedances are the samples
//! strictly above u, and u is lowered to the next distinct value until there are at least
//! k_min of them. u may not fall below the `pot_min_threshold_quantile` (0.80) quantile: so
//! POT needs n ≥ k_min / (1 − 0.80) = 250 samples with the defaults. When the
//! goodness-of-fit test rejects the GPD there, the threshold is raised (k halved, down to
//! k_min) until it does not; see `peaks_over_threshold`.
//!
//! Tail probability: P(X > x) = ζ · P(Y > x − u) with ζ = k / n, so the per-job
//! (1−p)-quantile is u + the excess quantile at conditional probability p/ζ (which must be
//! below 1). The uncertainty of ζ is not propagated (it is small against the shape's;
//! Coles 2001 §4.3.3).
//!
//! Threshold stability (reported, and part of the fit's diagnostics): the GPD is refitted
//! above a higher threshold with k/2 exceedances (if at least 25); the threshold is called
//! stable when the lower-threshold shape lies within ±1.96 standard errors of the
//! higher-threshold shape, the reading of a parameter-stability plot. The mean-excess function
//! e(v) = E[X − v | X > v] is linear in v with slope ξ/(1 − ξ) above a valid threshold; its
//! weighted least-squares slope over 20 thresholds from u up to the 10th-largest value is
//! reported with the shape it implies.

use super::gof::GofTest;
use super::iid::HypothesisTest;
use super::mle::{TailModel, TailProb, fit_exponential, fit_gpd};
use super::tail::{
    AnalysisSettings, FittedTail, Standardiser, Tested, first_acceptable, fit_and_test,
};
use serde::{Deserialize, Serialize};

/// The threshold-stability diagnostics of a POT analysis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ThresholdStability {
    /// The higher threshold, ns (`None` when too few exceedances for a refit).
    pub higher_threshold_ns: Option<u64>,
    /// GPD shape fitted above the higher threshold.
    pub shape_at_higher: Option<f64>,
    /// Its standard error.
    pub shape_se_at_higher: Option<f64>,
    /// Weighted least-squares slope of the mean-excess function above u.
    pub mean_excess_slope: Option<f64>,
    /// The shape the slope implies, slope / (1 + slope).
    pub mean_excess_shape: Option<f64>,
    /// Whether the shape is stable between the two thresholds (`false` when not checkable).
    pub stable: bool,
    /// How the verdict was reached.
    pub note: String,
}

/// One threshold tried.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ThresholdTrial {
    /// The threshold, ns.
    pub threshold_ns: u64,
    /// Samples strictly above it.
    pub exceedances: usize,
    /// The model the likelihood-ratio test chose.
    pub selected: TailModel,
    /// Its goodness-of-fit p-value.
    pub gof_p_value: Option<f64>,
    /// Whether the goodness-of-fit test rejected it.
    pub rejected: bool,
}

/// What the peaks-over-threshold analysis found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PotReport {
    /// The threshold u, ns (a measured value).
    pub threshold_ns: u64,
    /// Fraction of samples at or below u.
    pub threshold_quantile: f64,
    /// Samples strictly above u.
    pub exceedances: usize,
    /// ζ = exceedances / n.
    pub exceedance_rate: f64,
    /// Conditional exceedance probability p / ζ the excess quantile is computed at.
    pub conditional_probability: f64,
    /// Thresholds tried, in order (rising while the fit is rejected).
    pub tried: Vec<ThresholdTrial>,
    /// The GPD fit (free shape), if it succeeded.
    pub gpd: Option<FittedTail>,
    /// The exponential fit (shape 0), if it succeeded.
    pub exponential: Option<FittedTail>,
    /// Likelihood-ratio test of shape = 0 (when both fits succeeded).
    pub shape_zero_test: Option<HypothesisTest>,
    /// The model used for the pWCET.
    pub selected: TailModel,
    /// Why that model.
    pub selection_reason: String,
    /// Anderson–Darling test of the selected model against the excesses.
    pub goodness_of_fit: GofTest,
    /// Threshold-stability diagnostics.
    pub stability: ThresholdStability,
    /// Point estimate of the per-job (1−p)-quantile, ns.
    pub pwcet_estimate_ns: f64,
    /// Profile-likelihood upper confidence bound, ns; `None` when the data do not bound it.
    pub pwcet_upper_ns: Option<f64>,
}

/// Settings of the POT analysis.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PotSettings {
    pub(crate) threshold_quantile: f64,
    pub(crate) min_threshold_quantile: f64,
    pub(crate) min_exceedances: usize,
    pub(crate) max_exceedances: usize,
    pub(crate) adapt: bool,
    pub(crate) exceedance_probability: f64,
    pub(crate) analysis: AnalysisSettings,
}

/// The exceedance counts aimed for: k₀ = clamp(round((1 − q₀)·n), k_min, k_max), then halved
/// while at least k_min, then k_min.
fn target_counts(n: usize, s: &PotSettings) -> Vec<usize> {
    let k_min = s.min_exceedances.max(3);
    let k0 = (((1.0 - s.threshold_quantile) * n as f64).round() as usize)
        .clamp(k_min, s.max_exceedances.max(k_min));
    let mut v = vec![k0];
    let mut k = k0 / 2;
    while k >= k_min {
        v.push(k);
        k /= 2;
    }
    if *v.last().unwrap_or(&0) != k_min {
        v.push(k_min);
    }
    v
}

/// Index in `sorted` of the threshold for `target` exceedances and the count strictly above
/// it, u lowered past ties until at least `k_min` exceed it; `None` if u would fall below
/// `floor_idx`.
fn threshold_for(
    sorted: &[u64],
    target: usize,
    k_min: usize,
    floor_idx: usize,
) -> Option<(usize, usize)> {
    let n = sorted.len();
    if target >= n {
        return None;
    }
    let mut idx = n - target - 1;
    loop {
        if idx < floor_idx {
            return None;
        }
        let u = sorted[idx];
        let k = n - sorted.partition_point(|&v| v <= u);
        if k >= k_min {
            return Some((idx, k));
        }
        let first = sorted.partition_point(|&v| v < u);
        if first == 0 {
            return None;
        }
        idx = first - 1;
    }
}

/// The lowest threshold: index and count, or why none qualifies.
fn select_threshold(sorted: &[u64], s: &PotSettings) -> Result<(usize, usize), String> {
    let n = sorted.len();
    let k_min = s.min_exceedances.max(3);
    let floor_idx = ((s.min_threshold_quantile * n as f64).ceil() as usize).saturating_sub(1);
    let k0 = target_counts(n, s)[0];
    threshold_for(sorted, k0, k_min, floor_idx).ok_or_else(|| {
        format!(
            "at least {k_min} samples above a threshold at or above the {} quantile (n >= {})",
            s.min_threshold_quantile,
            (k_min as f64 / (1.0 - s.min_threshold_quantile) - 1e-9).ceil()
        )
    })
}

/// Weighted least-squares slope of the mean-excess function over thresholds from the k-th to
/// the 10th exceedance.
fn mean_excess_slope(sorted: &[u64], k: usize) -> Option<f64> {
    let n = sorted.len();
    if k < 20 {
        return None;
    }
    // Suffix sums so each mean excess is O(1).
    let mut suffix = vec![0f64; n + 1];
    for i in (0..n).rev() {
        suffix[i] = suffix[i + 1] + sorted[i] as f64;
    }
    let (mut sw, mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let steps = 20;
    for t in 0..steps {
        // j exceedances, geometric from k down to 10.
        let j = (k as f64 * (10.0 / k as f64).powf(t as f64 / (steps - 1) as f64)).round() as usize;
        let v = sorted[n - j - 1] as f64;
        let above = n - sorted.partition_point(|&x| x as f64 <= v);
        if above == 0 {
            continue;
        }
        let e = suffix[n - above] / above as f64 - v;
        let w = above as f64;
        sw += w;
        sx += w * v;
        sy += w * e;
        sxx += w * v * v;
        sxy += w * v * e;
    }
    let d = sw * sxx - sx * sx;
    (d > 0.0).then(|| (sw * sxy - sx * sy) / d)
}

/// Fits the excesses over `sorted[idx]`; `None` when both fits fail.
fn at_threshold(sorted: &[u64], idx: usize, k: usize, s: &PotSettings) -> Option<Tested> {
    let n = sorted.len();
    let u = sorted[idx];
    let excess: Vec<f64> = sorted[n - k..].iter().map(|&v| (v - u) as f64).collect();
    let scale = excess.iter().sum::<f64>() / k as f64;
    let st = Standardiser { offset: u as f64, scale };
    let y: Vec<f64> = excess.iter().map(|v| v / scale).collect(); // ascending already
    let (gpd, exp) = (fit_gpd(&y, &y), fit_exponential(&y));
    let q = s.exceedance_probability / (k as f64 / n as f64);
    fit_and_test(y, gpd, exp, TailProb::Conditional(q), st, s.analysis)
}

/// Runs the POT analysis on ascending `sorted` samples (ns). `Err` says why it could not run.
///
/// Thresholds for k₀, k₀/2, … , k_min exceedances are tried in that order while the
/// goodness-of-fit test rejects (a higher threshold leaves a mixture's lower mode behind); the
/// first not rejected is used, or, if all are rejected, the one with the largest p-value
/// (`adapt = false` tries k₀ only).
pub(crate) fn peaks_over_threshold(sorted: &[u64], s: PotSettings) -> Result<PotReport, String> {
    let n = sorted.len();
    select_threshold(sorted, &s)?;
    let k_min = s.min_exceedances.max(3);
    let floor_idx = ((s.min_threshold_quantile * n as f64).ceil() as usize).saturating_sub(1);
    let mut cands: Vec<(usize, usize, Tested)> = Vec::new();
    for target in target_counts(n, &s) {
        let Some((idx, k)) = threshold_for(sorted, target, k_min, floor_idx) else { continue };
        if cands.iter().any(|c| c.0 == idx) {
            continue;
        }
        if s.exceedance_probability * n as f64 >= k as f64 {
            // p is not in the tail beyond this threshold: nothing to extrapolate.
            continue;
        }
        if let Some(t) = at_threshold(sorted, idx, k, &s) {
            let done = !t.gof.rejected;
            cands.push((idx, k, t));
            if done {
                break;
            }
        }
        if !s.adapt {
            break;
        }
    }
    let tried = cands
        .iter()
        .map(|(idx, k, t)| ThresholdTrial {
            threshold_ns: sorted[*idx],
            exceedances: *k,
            selected: t.selected,
            gof_p_value: t.gof.p_value,
            rejected: t.gof.rejected,
        })
        .collect();
    let i = first_acceptable(&cands, |c| &c.2.gof).ok_or_else(|| {
        format!(
            "no threshold with more than p x n = {:.1} exceedances gave a GPD or exponential fit",
            s.exceedance_probability * n as f64
        )
    })?;
    let (idx, k, t) = cands.swap_remove(i);
    let u = sorted[idx];
    let zeta = k as f64 / n as f64;
    let stability = stability(sorted, k, t.full.as_ref());
    Ok(PotReport {
        threshold_ns: u,
        threshold_quantile: (n - k) as f64 / n as f64,
        exceedances: k,
        exceedance_rate: zeta,
        conditional_probability: s.exceedance_probability / zeta,
        tried,
        selected: t.selected,
        gpd: t.full,
        exponential: t.restricted,
        shape_zero_test: t.shape_zero_test,
        selection_reason: t.selection_reason,
        goodness_of_fit: t.gof,
        stability,
        pwcet_estimate_ns: t.estimate_ns,
        pwcet_upper_ns: t.upper_ns,
    })
}

fn stability(sorted: &[u64], k: usize, gpd: Option<&FittedTail>) -> ThresholdStability {
    let n = sorted.len();
    let slope = mean_excess_slope(sorted, k);
    let mut out = ThresholdStability {
        higher_threshold_ns: None,
        shape_at_higher: None,
        shape_se_at_higher: None,
        mean_excess_slope: slope,
        mean_excess_shape: slope.filter(|b| *b > -1.0).map(|b| b / (1.0 + b)),
        stable: false,
        note: String::new(),
    };
    let Some(low) = gpd else {
        out.note = "no GPD fit at the threshold; stability not checkable".into();
        return out;
    };
    let k2 = k / 2;
    if k2 < 25 {
        out.note = format!("{k} exceedances: too few to refit above a higher threshold");
        return out;
    }
    let u2 = sorted[n - k2 - 1];
    let ex: Vec<f64> =
        sorted[n - k2..].iter().filter(|&&v| v > u2).map(|&v| (v - u2) as f64).collect();
    let sc = ex.iter().sum::<f64>() / ex.len().max(1) as f64;
    let y: Vec<f64> = ex.iter().map(|v| v / sc).collect();
    out.higher_threshold_ns = Some(u2);
    match fit_gpd(&y, &y) {
        Some(f) => {
            out.shape_at_higher = Some(f.shape());
            out.shape_se_at_higher = f.shape_se();
            match f.shape_se() {
                Some(se) => {
                    out.stable = (low.shape - f.shape()).abs() <= 1.96 * se;
                    out.note = format!(
                        "shape {:.3} at u, {:.3} (se {se:.3}) above the higher threshold: {}",
                        low.shape,
                        f.shape(),
                        if out.stable { "within 1.96 se" } else { "outside 1.96 se" }
                    );
                }
                None => out.note = "no standard error at the higher threshold".into(),
            }
        }
        None => out.note = "the GPD refit above the higher threshold failed".into(),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> PotSettings {
        PotSettings {
            threshold_quantile: 0.95,
            min_threshold_quantile: 0.8,
            min_exceedances: 50,
            max_exceedances: 1000,
            adapt: true,
            exceedance_probability: 1e-6,
            analysis: AnalysisSettings {
                selection_alpha: 0.05,
                confidence: 0.95,
                gof_alpha: 0.05,
                gof_replicates: 0,
                seed: 1,
            },
        }
    }

    #[test]
    fn threshold_rule() {
        let s: Vec<u64> = (0..2000).collect();
        assert_eq!(select_threshold(&s, &settings()).unwrap(), (1899, 100));
        let s: Vec<u64> = (0..100_000).collect();
        assert_eq!(select_threshold(&s, &settings()).unwrap().1, 1000);
        let s: Vec<u64> = (0..250).collect();
        assert_eq!(select_threshold(&s, &settings()).unwrap(), (199, 50));
        let s: Vec<u64> = (0..249).collect();
        assert!(select_threshold(&s, &settings()).unwrap_err().contains("n >= 250"));
        // Ties: 900 samples at 7 and 100 distinct above: u lowered below the tie block? No:
        // k = 50 target, u = 949th smallest... here the top 100 are distinct, so no lowering.
        let mut s = vec![7u64; 900];
        s.extend(8..108);
        assert_eq!(select_threshold(&s, &settings()).unwrap().1, 50);
        // Ties at the candidate threshold: the top 60 values are all 500.
        let mut s: Vec<u64> = (0..940).collect();
        s.extend(std::iter::repeat_n(500, 60));
        s.sort();
        let e = select_threshold(&s, &settings());
        assert!(e.is_ok_and(|(_, k)| k >= 50));
        // All equal: no threshold has exceedances.
        assert!(select_threshold(&[3; 1000], &settings()).is_err());
    }

    #[test]
    fn mean_excess_of_an_exponential_is_flat() {
        // Exponential quantiles: mean excess is constant, slope about 0.
        let s: Vec<u64> = (1..=20_000)
            .map(|i| (-((i as f64 - 0.5) / 20_000.0).ln() * 1e6) as u64)
            .rev()
            .collect();
        let mut s = s;
        s.sort();
        let b = mean_excess_slope(&s, 1000).unwrap();
        assert!(b.abs() < 0.1, "{b}");
        assert!(mean_excess_slope(&s, 10).is_none());
    }
}
