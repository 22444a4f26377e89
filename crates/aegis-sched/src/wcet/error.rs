//! The typed errors of WCET profiling.
//!
//! Owns [`WcetError`]: every way a profiling call can refuse its input or its result, each
//! naming the field and the fix. It must not know how profiles are computed.

/// Why a WCET profile, contention factor or hold-out check could not be produced.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum WcetError {
    /// A sample slice is empty.
    #[error("{field}: no samples; measure at least one execution time")]
    NoSamples {
        /// The argument that was empty.
        field: &'static str,
    },
    /// A configuration value is out of its range.
    #[error("config field {field} = {value} is invalid: {fix}")]
    InvalidConfig {
        /// The configuration field.
        field: &'static str,
        /// The value given, as text.
        value: String,
        /// What a valid value looks like.
        fix: &'static str,
    },
    /// Too few samples for the statistic asked for.
    #[error("{field}: {got} samples, at least {needed} needed; {fix}")]
    TooFewSamples {
        /// The argument that is too short.
        field: &'static str,
        /// How many samples the statistic needs.
        needed: usize,
        /// How many were given.
        got: usize,
        /// What to do about it.
        fix: &'static str,
    },
    /// A data point is not acceptable.
    #[error("{field}[{index}] = {value} is invalid: {fix}")]
    InvalidSample {
        /// The argument.
        field: &'static str,
        /// Position of the point.
        index: usize,
        /// Its value.
        value: f64,
        /// What valid data look like.
        fix: &'static str,
    },
    /// Maximum-likelihood fitting found no usable optimum.
    #[error("fitting {model:?} failed: {reason}")]
    FitFailed {
        /// The model.
        model: super::TailModel,
        /// Why.
        reason: String,
    },
    /// A ratio's denominator is zero.
    #[error("{field} is zero; a ratio against it is undefined ({fix})")]
    ZeroDenominator {
        /// The quantity that is zero.
        field: &'static str,
        /// What to do about it.
        fix: &'static str,
    },
    /// A computed time does not fit in a [`aegis_trace::Duration`] (u64 nanoseconds).
    #[error("{field} = {value_ns:e} ns does not fit in a u64 nanosecond Duration; {fix}")]
    Overflow {
        /// The quantity that overflowed.
        field: &'static str,
        /// Its value in nanoseconds, as a float (may be infinite).
        value_ns: f64,
        /// What to do about it.
        fix: &'static str,
    },
}
