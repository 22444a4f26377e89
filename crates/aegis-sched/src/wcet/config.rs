//! The profiler's configuration: [`WcetConfig`] with its documented defaults and validation,
//! and [`MethodChoice`].
//!
//! Owns the settings and their valid ranges only; it must not know how they are used.

use super::WcetError;
use serde::{Deserialize, Serialize};

/// Which pWCET methods the profiler may use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum MethodChoice {
    /// Order statistic when the sample allows it, else the EVT analyses (both), else the
    /// empirical fallback.
    #[default]
    Auto,
    /// Only block maxima (else the fallback).
    BlockMaxima,
    /// Only peaks over threshold (else the fallback).
    PeaksOverThreshold,
}

/// Settings of the profiler. `Default` gives the documented defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WcetConfig {
    /// Per-job exceedance probability of the pWCET (default 1e-6).
    pub exceedance_probability: f64,
    /// One-sided confidence level of the pWCET upper bound (default 0.95), in (0.5, 1).
    pub confidence: f64,
    /// Methods allowed (default [`MethodChoice::Auto`]).
    pub method: MethodChoice,
    /// Jobs per block for block maxima; `None` = max(10, n/200).
    pub block_size: Option<usize>,
    /// Fewest complete blocks for block maxima (default 30, at least 10).
    pub min_blocks: usize,
    /// Aimed-for threshold quantile for POT (default 0.95).
    pub pot_threshold_quantile: f64,
    /// Lowest threshold quantile POT may use (default 0.80).
    pub pot_min_threshold_quantile: f64,
    /// Fewest exceedances for POT (default 50, at least 10).
    pub min_exceedances: usize,
    /// Most exceedances for POT (default 1000); the threshold rises with n beyond that.
    pub max_exceedances: usize,
    /// Try larger blocks / higher thresholds while the goodness-of-fit test rejects (default
    /// true).
    pub adapt_to_fit: bool,
    /// Level of the likelihood-ratio test of shape = 0 (default 0.05).
    pub model_selection_alpha: f64,
    /// Family-wise level of the i.i.d. tests (default 0.05, Bonferroni over the tests run).
    pub iid_alpha: f64,
    /// Level of the goodness-of-fit tests (default 0.05).
    pub gof_alpha: f64,
    /// Parametric-bootstrap replicates of each goodness-of-fit test (default 99; 0 = no
    /// p-value, and then the profile cannot claim to meet MBPTA's assumptions).
    pub gof_bootstrap: usize,
    /// Lags of the Ljung–Box test (default 20; at most n/5 are used).
    pub ljung_box_lags: usize,
    /// Margin of the empirical fallback: pWCET = ⌈max × margin⌉ (default 1.2, at least 1).
    pub fallback_margin: f64,
    /// Quantile compared by the contention factor (default 0.999).
    pub contention_quantile: f64,
    /// Seed of the bootstrap, so a profile is reproducible (default 0x5EED).
    pub seed: u64,
}

impl Default for WcetConfig {
    fn default() -> Self {
        WcetConfig {
            exceedance_probability: 1e-6,
            confidence: 0.95,
            method: MethodChoice::Auto,
            block_size: None,
            min_blocks: 30,
            pot_threshold_quantile: 0.95,
            pot_min_threshold_quantile: 0.80,
            min_exceedances: 50,
            max_exceedances: 1000,
            adapt_to_fit: true,
            model_selection_alpha: 0.05,
            iid_alpha: 0.05,
            gof_alpha: 0.05,
            gof_bootstrap: 99,
            ljung_box_lags: 20,
            fallback_margin: 1.2,
            contention_quantile: 0.999,
            seed: 0x5EED,
        }
    }
}

fn invalid(field: &'static str, value: impl ToString, fix: &'static str) -> WcetError {
    WcetError::InvalidConfig { field, value: value.to_string(), fix }
}

fn open_unit(v: f64) -> bool {
    v > 0.0 && v < 1.0
}

impl WcetConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// [`WcetError::InvalidConfig`] naming the first bad field and its valid range.
    pub fn validate(&self) -> Result<(), WcetError> {
        if !open_unit(self.exceedance_probability) {
            return Err(invalid(
                "exceedance_probability",
                self.exceedance_probability,
                "a per-job probability strictly between 0 and 1, e.g. 1e-6",
            ));
        }
        if !(self.confidence > 0.5 && self.confidence < 1.0) {
            return Err(invalid("confidence", self.confidence, "a level in (0.5, 1), e.g. 0.95"));
        }
        if self.block_size == Some(0) {
            return Err(invalid("block_size", 0, "a positive block size, or None for automatic"));
        }
        if self.min_blocks < 10 {
            return Err(invalid("min_blocks", self.min_blocks, "at least 10 blocks"));
        }
        if !open_unit(self.pot_threshold_quantile) {
            return Err(invalid(
                "pot_threshold_quantile",
                self.pot_threshold_quantile,
                "a quantile level in (0, 1), e.g. 0.95",
            ));
        }
        if !(self.pot_min_threshold_quantile > 0.0
            && self.pot_min_threshold_quantile <= self.pot_threshold_quantile)
        {
            return Err(invalid(
                "pot_min_threshold_quantile",
                self.pot_min_threshold_quantile,
                "a level in (0, pot_threshold_quantile], e.g. 0.80",
            ));
        }
        if self.min_exceedances < 10 {
            return Err(invalid("min_exceedances", self.min_exceedances, "at least 10"));
        }
        if self.max_exceedances < self.min_exceedances {
            return Err(invalid(
                "max_exceedances",
                self.max_exceedances,
                "at least min_exceedances",
            ));
        }
        for (field, v) in [
            ("model_selection_alpha", self.model_selection_alpha),
            ("iid_alpha", self.iid_alpha),
            ("gof_alpha", self.gof_alpha),
        ] {
            if !open_unit(v) {
                return Err(invalid(field, v, "a significance level in (0, 1), e.g. 0.05"));
            }
        }
        if self.ljung_box_lags == 0 {
            return Err(invalid("ljung_box_lags", 0, "at least 1 lag, e.g. 20"));
        }
        if !(self.fallback_margin.is_finite() && self.fallback_margin >= 1.0) {
            return Err(invalid(
                "fallback_margin",
                self.fallback_margin,
                "a finite factor >= 1, e.g. 1.2",
            ));
        }
        if !open_unit(self.contention_quantile) {
            return Err(invalid(
                "contention_quantile",
                self.contention_quantile,
                "a quantile level in (0, 1), e.g. 0.999",
            ));
        }
        Ok(())
    }
}
