//! The raw TOML schema of a deployment file, exactly as written (before validation).
//!
//! Owns the serde shapes; unknown keys are refused here (`deny_unknown_fields`) so a typo is
//! an error naming the key. It must not decide what values are acceptable (see `validate`).

use serde::Deserialize;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDeployment {
    pub(crate) name: Option<String>,
    pub(crate) policy: Option<String>,
    pub(crate) lanes: Option<i64>,
    pub(crate) duration_s: Option<f64>,
    pub(crate) pool_mib: Option<i64>,
    pub(crate) trace: Option<String>,
    pub(crate) report: Option<String>,
    pub(crate) trace_capacity: Option<i64>,
    pub(crate) late_action: Option<String>,
    pub(crate) overrun: Option<String>,
    pub(crate) profile_samples: Option<i64>,
    pub(crate) overrun_grace_us: Option<i64>,
    pub(crate) overrun_restore_after: Option<i64>,
    /// The runtime's host side (`[host]`).
    pub(crate) host: Option<RawHost>,
    #[serde(default)]
    pub(crate) models: Vec<RawModel>,
}

/// The `[host]` table: what the runtime's own threads cost and how they are scheduled.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHost {
    pub(crate) overhead_us: Option<i64>,
    pub(crate) rt_priority: Option<i64>,
    pub(crate) cpus: Option<Vec<i64>>,
}

/// One `[[models]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawModel {
    pub(crate) name: Option<String>,
    pub(crate) backend: Option<String>,
    /// ONNX model (tract, ort) or serialized engine (trt), relative to the deployment file.
    pub(crate) model: Option<String>,
    /// Kernel sequence (backend "cuda").
    pub(crate) kernels: Option<Vec<toml::Value>>,
    /// Backend-specific options (e.g. ONNX Runtime execution providers).
    pub(crate) options: Option<toml::Table>,
    pub(crate) period_ms: Option<f64>,
    pub(crate) deadline_ms: Option<f64>,
    pub(crate) offset_ms: Option<f64>,
    pub(crate) priority: Option<i64>,
    pub(crate) wcet_us: Option<i64>,
    pub(crate) memory_limit_mib: Option<i64>,
    pub(crate) stream_limit: Option<i64>,
    pub(crate) compute_budget_ms: Option<f64>,
    pub(crate) sporadic_jitter_ms: Option<f64>,
}
