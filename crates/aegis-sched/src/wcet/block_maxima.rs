//! The block-maxima method: maxima of consecutive blocks of b jobs fitted to a GEV (or a
//! Gumbel when the shape is not significantly different from 0).
//!
//! Owns [`BlockMaximaReport`], the block-size rule and the per-job → per-block probability
//! conversion. It must not know about thresholds or how the final method is chosen.
//!
//! Block size: `block_size` from the configuration, or by default max(10, ⌊n / 200⌋), which
//! keeps about 200 maxima (enough to estimate three parameters) while blocks grow with n (the
//! GEV is the limit law as b grows). At least `min_blocks` (default 30) complete blocks are
//! required; the incomplete last block is discarded and counted. When the goodness-of-fit test
//! rejects, the block size is doubled while enough blocks remain (see [`block_maxima`]).
//!
//! Probability conversion: a block maximum exceeds x iff at least one of its b jobs does, so
//! for a per-job exceedance probability p the per-block probability is 1 − (1 − p)ᵇ, computed
//! as −expm1(b · ln1p(−p)) to keep precision at p = 1e-6 and below. The pWCET is the GEV
//! return level at that per-block probability.

use super::gof::GofTest;
use super::iid::HypothesisTest;
use super::mle::{TailModel, TailProb, fit_gev, fit_gumbel};
use super::tail::{
    AnalysisSettings, FittedTail, Standardiser, Tested, first_acceptable, fit_and_test,
};
use serde::{Deserialize, Serialize};

/// One block size tried.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BlockSizeTrial {
    /// Jobs per block.
    pub block_size: usize,
    /// Complete blocks.
    pub blocks: usize,
    /// The model the likelihood-ratio test chose.
    pub selected: TailModel,
    /// Its goodness-of-fit p-value.
    pub gof_p_value: Option<f64>,
    /// Whether the goodness-of-fit test rejected it.
    pub rejected: bool,
}

/// What the block-maxima analysis found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BlockMaximaReport {
    /// Jobs per block (of the block size used).
    pub block_size: usize,
    /// Complete blocks (= maxima fitted).
    pub blocks: usize,
    /// Samples of the incomplete last block, not used.
    pub discarded_samples: usize,
    /// Block sizes tried, in order (doubling while the fit is rejected).
    pub tried: Vec<BlockSizeTrial>,
    /// Per-block exceedance probability 1 − (1 − p)ᵇ the return level is computed at.
    pub per_block_probability: f64,
    /// The GEV fit (free shape), if it succeeded.
    pub gev: Option<FittedTail>,
    /// The Gumbel fit (shape 0), if it succeeded.
    pub gumbel: Option<FittedTail>,
    /// Likelihood-ratio test of shape = 0 (when both fits succeeded).
    pub shape_zero_test: Option<HypothesisTest>,
    /// The model used for the pWCET.
    pub selected: TailModel,
    /// Why that model.
    pub selection_reason: String,
    /// Anderson–Darling test of the selected model against the maxima.
    pub goodness_of_fit: GofTest,
    /// Point estimate of the per-job (1−p)-quantile, ns.
    pub pwcet_estimate_ns: f64,
    /// Profile-likelihood upper confidence bound, ns; `None` when the data do not bound it.
    pub pwcet_upper_ns: Option<f64>,
}

/// Settings of the block-maxima analysis.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BmSettings {
    pub(crate) block_size: Option<usize>,
    pub(crate) min_blocks: usize,
    pub(crate) adapt: bool,
    pub(crate) exceedance_probability: f64,
    pub(crate) analysis: AnalysisSettings,
}

/// The default block size for n samples.
pub(crate) fn auto_block_size(n: usize) -> usize {
    (n / 200).max(10)
}

/// Per-block exceedance probability for per-job probability `p` and block size `b`.
pub(crate) fn per_block_probability(p: f64, b: usize) -> f64 {
    -(b as f64 * (-p).ln_1p()).exp_m1()
}

/// Fits and bounds the maxima of blocks of `b`; `None` when they are all equal or both fits
/// fail.
fn at_block_size(x: &[f64], base_ns: f64, b: usize, s: &BmSettings) -> Option<Tested> {
    let maxima: Vec<f64> =
        x.chunks_exact(b).map(|c| c.iter().copied().fold(f64::NEG_INFINITY, f64::max)).collect();
    let m = maxima.len() as f64;
    let mean = maxima.iter().sum::<f64>() / m;
    let sd = (maxima.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (m - 1.0)).sqrt();
    if sd.is_nan() || sd <= 0.0 {
        return None;
    }
    let st = Standardiser { offset: base_ns + mean, scale: sd };
    let z: Vec<f64> = maxima.iter().map(|v| (v - mean) / sd).collect();
    let mut sorted = z.clone();
    sorted.sort_by(f64::total_cmp);
    let (gev, gumbel) = (fit_gev(&z, &sorted), fit_gumbel(&z));
    let pb = per_block_probability(s.exceedance_probability, b);
    fit_and_test(z, gev, gumbel, TailProb::PerBlock(pb), st, s.analysis)
}

/// Runs the block-maxima analysis on `x` (ns offsets from `base_ns`, measurement order).
/// `Err` says why it could not run.
///
/// Block sizes b₀, 2b₀, 4b₀, … are tried while at least `min_blocks` blocks remain and the
/// goodness-of-fit test rejects (larger blocks move the maxima further into the tail, e.g.
/// past a rare slow mode); the first size not rejected is used, or, if all are rejected, the
/// one with the largest p-value (`adapt = false` tries b₀ only).
pub(crate) fn block_maxima(
    x: &[f64],
    base_ns: f64,
    s: BmSettings,
) -> Result<BlockMaximaReport, String> {
    let n = x.len();
    let b0 = s.block_size.unwrap_or_else(|| auto_block_size(n)).max(1);
    if n / b0 < s.min_blocks {
        return Err(format!(
            "{} blocks of {b0} samples, at least {} needed (n >= {})",
            n / b0,
            s.min_blocks,
            s.min_blocks * b0
        ));
    }
    let mut cands: Vec<(usize, Tested)> = Vec::new();
    let mut b = b0;
    while n / b >= s.min_blocks {
        if let Some(t) = at_block_size(x, base_ns, b, &s) {
            let done = !t.gof.rejected;
            cands.push((b, t));
            if done {
                break;
            }
        }
        if !s.adapt {
            break;
        }
        b *= 2;
    }
    let tried = cands
        .iter()
        .map(|(b, t)| BlockSizeTrial {
            block_size: *b,
            blocks: n / b,
            selected: t.selected,
            gof_p_value: t.gof.p_value,
            rejected: t.gof.rejected,
        })
        .collect();
    let i = first_acceptable(&cands, |c| &c.1.gof)
        .ok_or_else(|| "block maxima all equal or every GEV and Gumbel fit failed".to_string())?;
    let (b, t) = cands.swap_remove(i);
    Ok(BlockMaximaReport {
        block_size: b,
        blocks: n / b,
        discarded_samples: n % b,
        tried,
        per_block_probability: per_block_probability(s.exceedance_probability, b),
        selected: t.selected,
        gev: t.full,
        gumbel: t.restricted,
        shape_zero_test: t.shape_zero_test,
        selection_reason: t.selection_reason,
        goodness_of_fit: t.gof,
        pwcet_estimate_ns: t.estimate_ns,
        pwcet_upper_ns: t.upper_ns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_block_probability_is_accurate_for_tiny_p() {
        // 1 - (1 - p)^50 = 50p - C(50,2)p^2 + C(50,3)p^3 - C(50,4)p^4 + ... at p = 1e-6.
        let pb = per_block_probability(1e-6, 50);
        let series = 50.0 * 1e-6 - 1225.0 * 1e-12 + 19600.0 * 1e-18 - 230_300.0 * 1e-24;
        assert!((pb - series).abs() < 1e-15 * series, "{pb} {series}");
        assert!((per_block_probability(1e-15, 100) - 1e-13).abs() < 1e-26);
        assert_eq!(auto_block_size(100), 10);
        assert_eq!(auto_block_size(100_000), 500);
    }
}
