//! WCET profiling: from measured execution times to a [`WcetProfile`] with a probabilistic
//! WCET (pWCET) by measurement-based probabilistic timing analysis (MBPTA).
//!
//! Owns the public API ([`WcetProfiler`], [`WcetConfig`], [`WcetProfile`], [`PwcetMethod`])
//! and the choice of method; the statistics live in the submodules, one concept each. It must
//! not know how samples were measured, what a task set is or how admission uses the result.
//!
//! # What the pWCET is
//! `pwcet` is an upper bound, at one-sided confidence `confidence` (default 0.95), of the
//! per-job execution time exceeded with probability `exceedance_probability` (default 1e-6).
//! When fewer than 1/p samples were measured it is never below the observed maximum (which is
//! then expected below the quantile, so a lower bound would contradict the data). The method,
//! in order of preference (`PwcetMethod`):
//!
//! 1. **Order statistic** (distribution-free) when there are enough samples that a measured
//!    value is itself such a bound: n ≥ ln(1 − c)/ln(1 − p) (about 3/p; see `empirical`).
//! 2. **Extreme value theory**: block maxima → GEV/Gumbel and peaks over threshold →
//!    GPD/exponential (see `block_maxima`, `pot`), each fitted by maximum likelihood
//!    (Nelder–Mead from probability-weighted-moment starts), the bound by profile likelihood;
//!    the free shape is used when a likelihood-ratio test rejects shape 0, else the larger of
//!    the two models' bounds (see `tail` for why and for the measured coverage). Among the
//!    analyses whose Anderson–Darling goodness-of-fit test (parametric bootstrap) does not
//!    reject, the larger bound is used (conservative). Each analysis first moves further into
//!    the tail (larger blocks, higher thresholds) while its fit is rejected.
//! 3. **Empirical fallback**: observed maximum × `fallback_margin` (default 1.2), used when
//!    EVT cannot run or cannot be trusted: fewer than 300 samples for block maxima and 250 for
//!    POT with the defaults, all samples equal, every fit failed, every bound unbounded, or
//!    every tail model rejected by its goodness-of-fit test (the rejected bounds are quoted in
//!    `method_reason`). It carries no probabilistic guarantee, so `confidence` is `None`.
//!
//! # What is checked and reported, never hidden
//! The i.i.d. tests (`iid`) run on every profile; a rejection does not stop the pWCET from
//! being computed, but `meets_mbpta_assumptions` is then false and the test, statistic and
//! p-value are in `iid`. Timing on a shared GPU is typically not i.i.d.
//!
//! # Units
//! Samples and every reported time are integer nanoseconds ([`Duration`]); floats are used for
//! the statistics only. A result that cannot be represented (not finite, beyond u64 ns) is a
//! typed [`WcetError`], never a NaN or a wrapped value.

mod block_maxima;
mod config;
mod contention;
mod decide;
mod empirical;
mod error;
mod fit;
mod gev;
mod gof;
mod gpd;
mod holdout;
mod iid;
mod mle;
mod optim;
mod pot;
mod profile;
mod tail;

pub use block_maxima::{BlockMaximaReport, BlockSizeTrial};
pub use config::{MethodChoice, WcetConfig};
pub use contention::{ContentionFactor, contention_factor, contention_min_samples};
pub use empirical::order_statistic_min_samples;
pub use error::WcetError;
pub use fit::{MIN_FIT_POINTS, fit_tail};
pub use gev::Gev;
pub use gof::GofTest;
pub use gpd::Gpd;
pub use holdout::{HoldoutReport, holdout_check};
pub use iid::{HypothesisTest, IidReport, MIN_IID_SAMPLES};
pub use mle::TailModel;
pub use pot::{PotReport, ThresholdStability, ThresholdTrial};
pub use tail::FittedTail;

use aegis_trace::Duration;
use serde::{Deserialize, Serialize};

/// How the pWCET was obtained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum PwcetMethod {
    /// A measured value that is a distribution-free upper confidence bound (needs only i.i.d.).
    OrderStatistic {
        /// Samples above the chosen one (0 = the maximum).
        samples_above: usize,
    },
    /// Block maxima fitted to the given model.
    BlockMaxima {
        /// GEV or Gumbel.
        model: TailModel,
    },
    /// Peaks over threshold fitted to the given model.
    PeaksOverThreshold {
        /// GPD or exponential.
        model: TailModel,
    },
    /// Observed maximum × margin: no probabilistic guarantee.
    EmpiricalFallback {
        /// The margin applied.
        margin: f64,
    },
}

/// The extreme-value analyses of a profile, or why each did not run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FitDiagnostics {
    /// The block-maxima analysis, if it ran.
    pub block_maxima: Option<BlockMaximaReport>,
    /// Why it did not run.
    pub block_maxima_skipped: Option<String>,
    /// The peaks-over-threshold analysis, if it ran.
    pub pot: Option<PotReport>,
    /// Why it did not run.
    pub pot_skipped: Option<String>,
}

/// A model's measured execution-time profile and its probabilistic WCET.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WcetProfile {
    /// Largest sample (observed WCET).
    pub worst: Duration,
    /// Mean, rounded to the nearest ns.
    pub average: Duration,
    /// Smallest sample.
    pub best: Duration,
    /// Nearest-rank 99th percentile (a measured value).
    pub p99: Duration,
    /// Nearest-rank 99.9th percentile (a measured value).
    pub p999: Duration,
    /// Samples profiled.
    pub sample_count: usize,
    /// Loaded vs isolated quantile ratio, when profiled with
    /// [`WcetProfiler::profile_with_contention`].
    pub contention_factor: Option<ContentionFactor>,
    /// The probabilistic WCET: the value to admit the model with.
    pub pwcet: Duration,
    /// The chosen method's point estimate of the (1−p)-quantile, when it has one.
    pub pwcet_estimate: Option<Duration>,
    /// Per-job exceedance probability p the pWCET refers to.
    pub exceedance_probability: f64,
    /// One-sided confidence level of `pwcet` as an upper bound of the (1−p)-quantile
    /// (asymptotic for EVT, exact for the order statistic), assuming i.i.d. samples and, for
    /// EVT, the fitted model; `None` for the empirical fallback, which has no such guarantee.
    pub confidence: Option<f64>,
    /// How the pWCET was obtained.
    pub method: PwcetMethod,
    /// Why that method, in words.
    pub method_reason: String,
    /// The i.i.d. checks.
    pub iid: IidReport,
    /// The extreme-value analyses.
    pub fit: FitDiagnostics,
    /// `true` only when the i.i.d. checks passed and the method's goodness-of-fit test was run
    /// and did not reject (the order statistic needs only the former; the fallback never).
    pub meets_mbpta_assumptions: bool,
    /// Everything the caller should know that weakens the result.
    pub warnings: Vec<String>,
}

/// Profiles measured execution times.
#[derive(Clone, Debug, Default)]
pub struct WcetProfiler {
    config: WcetConfig,
}

/// The i.i.d. checks alone, on samples in measurement order.
///
/// # Errors
/// Empty samples or an invalid `iid_alpha` / `ljung_box_lags`.
pub fn iid_checks(samples: &[Duration], config: &WcetConfig) -> Result<IidReport, WcetError> {
    config.validate()?;
    let min = samples.iter().min().ok_or(WcetError::NoSamples { field: "samples" })?;
    let x: Vec<f64> = samples.iter().map(|d| (d.as_nanos() - min.as_nanos()) as f64).collect();
    Ok(iid::iid_report(&x, config.iid_alpha, config.ljung_box_lags))
}

impl WcetProfiler {
    /// A profiler with `config`.
    ///
    /// # Errors
    /// [`WcetError::InvalidConfig`] for a bad field.
    pub fn new(config: WcetConfig) -> Result<Self, WcetError> {
        config.validate()?;
        Ok(WcetProfiler { config })
    }

    /// The configuration.
    pub fn config(&self) -> &WcetConfig {
        &self.config
    }

    /// Profiles `loaded` (the deployment condition) and adds the contention factor of
    /// `loaded` against `isolated` at `contention_quantile`.
    ///
    /// # Errors
    /// As [`WcetProfiler::profile`] and [`contention_factor`].
    pub fn profile_with_contention(
        &self,
        isolated: &[Duration],
        loaded: &[Duration],
    ) -> Result<WcetProfile, WcetError> {
        let cf = contention_factor(isolated, loaded, self.config.contention_quantile)?;
        let mut p = self.profile(loaded)?;
        p.contention_factor = Some(cf);
        Ok(p)
    }

    /// Profiles `samples` (execution times in measurement order: the order matters for the
    /// independence tests and the blocks).
    ///
    /// # Errors
    /// [`WcetError::NoSamples`] for an empty slice; [`WcetError::Overflow`] when the bound
    /// does not fit in u64 nanoseconds.
    pub fn profile(&self, samples: &[Duration]) -> Result<WcetProfile, WcetError> {
        let c = &self.config;
        if samples.is_empty() {
            return Err(WcetError::NoSamples { field: "samples" });
        }
        let n = samples.len();
        let mut sorted: Vec<u64> = samples.iter().map(|d| d.as_nanos()).collect();
        sorted.sort_unstable();
        let (best, worst) = (sorted[0], sorted[n - 1]);
        let x: Vec<f64> = samples.iter().map(|d| (d.as_nanos() - best) as f64).collect();
        let iid = iid::iid_report(&x, c.iid_alpha, c.ljung_box_lags);
        let mut warnings = Vec::new();
        if !iid.passed {
            warnings.push(decide::iid_warning(&iid));
        }
        let analysis = tail::AnalysisSettings {
            selection_alpha: c.model_selection_alpha,
            confidence: c.confidence,
            gof_alpha: c.gof_alpha,
            gof_replicates: c.gof_bootstrap,
            seed: c.seed,
        };
        let constant = best == worst;
        let constant_note = "all samples are equal (zero variance): no tail to fit";
        let bm = match c.method {
            MethodChoice::PeaksOverThreshold => {
                Err("not requested (method = PeaksOverThreshold)".into())
            }
            _ if constant => Err(constant_note.to_string()),
            _ => block_maxima::block_maxima(
                &x,
                best as f64,
                block_maxima::BmSettings {
                    block_size: c.block_size,
                    min_blocks: c.min_blocks,
                    adapt: c.adapt_to_fit,
                    exceedance_probability: c.exceedance_probability,
                    analysis,
                },
            ),
        };
        let pot = match c.method {
            MethodChoice::BlockMaxima => Err("not requested (method = BlockMaxima)".into()),
            _ if constant => Err(constant_note.to_string()),
            _ => pot::peaks_over_threshold(
                &sorted,
                pot::PotSettings {
                    threshold_quantile: c.pot_threshold_quantile,
                    min_threshold_quantile: c.pot_min_threshold_quantile,
                    min_exceedances: c.min_exceedances,
                    max_exceedances: c.max_exceedances,
                    adapt: c.adapt_to_fit,
                    exceedance_probability: c.exceedance_probability,
                    analysis: tail::AnalysisSettings { seed: c.seed.wrapping_add(1), ..analysis },
                },
            ),
        };
        let d = decide::decide(c, &sorted, &bm, &pot, &mut warnings)?;
        let meets_mbpta_assumptions =
            iid.passed && d.gof_ok == Some(true) && d.confidence.is_some();
        Ok(WcetProfile {
            worst: Duration::from_nanos(worst),
            average: Duration::from_nanos(empirical::mean_ns(&sorted)),
            best: Duration::from_nanos(best),
            p99: Duration::from_nanos(empirical::quantile(&sorted, 0.99)),
            p999: Duration::from_nanos(empirical::quantile(&sorted, 0.999)),
            sample_count: n,
            contention_factor: None,
            pwcet: Duration::from_nanos(d.pwcet),
            pwcet_estimate: d.estimate,
            exceedance_probability: c.exceedance_probability,
            confidence: d.confidence,
            method: d.method,
            method_reason: d.reason,
            iid,
            fit: FitDiagnostics {
                block_maxima_skipped: bm.as_ref().err().cloned(),
                block_maxima: bm.ok(),
                pot_skipped: pot.as_ref().err().cloned(),
                pot: pot.ok(),
            },
            meets_mbpta_assumptions,
            warnings,
        })
    }
}
