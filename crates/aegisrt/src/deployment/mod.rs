//! Deployment files: what to run, how, and under which guarantees.
//!
//! Owns [`Deployment`] (validated), its parser and its errors. Every field is validated with an
//! error that names the field (`models[1].period_ms`) and the fix; unknown keys are refused.
//! Times are written in milliseconds (`*_ms`, decimals allowed) or microseconds (`wcet_us`)
//! and held as integer nanoseconds. Relative paths are relative to the deployment file.
//! It must not construct backends or run anything (see `crate::backends`, `crate::runtime`).
//!
//! ```toml
//! name = "cpu-demo"
//! policy = "edf"            # edf | fifo | fp
//! lanes = 1
//! duration_s = 20
//! pool_mib = 64
//! trace = "out/cpu-demo.pftrace"
//! report = "out/cpu-demo.html"
//!
//! [[models]]
//! name = "squeezenet"
//! backend = "tract"         # tract | ort | cuda | trt
//! model = "models/squeezenet1_1.onnx"
//! period_ms = 100
//! deadline_ms = 100         # default: the period
//! priority = 0              # 0 is the highest; unique
//! memory_limit_mib = 256
//! # wcet_us = 25000         # when absent, the model is profiled before admission
//!
//! [host]                    # optional: see `HostSettings`
//! overhead_us = 60          # admission charges every job WCET + this
//! ```

mod host;
mod schema;
mod validate;

pub use host::{HostSettings, MAX_CPU, MAX_RT_PRIORITY, rt_priority};

use aegis_backend_cuda::KernelModelSpec;
use aegis_context::ResourceBudget;
use aegis_sched::analysis::Policy;
use aegis_sched::scheduler::{LateAction, OverrunAction};
use aegis_trace::{Duration, ModelId};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

/// Trace events budgeted per released job when the buffer is sized for a run: a job records
/// five (submitted, queued, dispatched, started, completed; measured on the CPU example), an
/// overrun, drop or miss adds one; eight leaves room.
pub const TRACE_EVENTS_PER_JOB: u64 = 8;
/// Events budgeted besides the jobs (admission, memory, faults).
pub const TRACE_EVENTS_FIXED: u64 = 10_000;
/// Smallest trace buffer sized for a run, events.
pub const TRACE_CAPACITY_MIN: usize = 200_000;
/// Largest trace buffer sized for a run, events. The buffer reserves about 210 bytes per event
/// up front (x86_64: `size_of::<TraceEvent>()` is 192 bytes, plus each slot's lock and id; the
/// events' strings come on top as they are recorded): 2 000 000 events are about 420 MiB, as
/// much as a small Jetson should give a trace by default.
pub const TRACE_CAPACITY_MAX: usize = 2_000_000;

/// Which engine runs a model, with its source.
#[derive(Clone, Debug, PartialEq)]
pub enum BackendChoice {
    /// ONNX on the CPU with tract.
    Tract {
        /// The ONNX file.
        model: PathBuf,
    },
    /// ONNX with ONNX Runtime.
    Ort {
        /// The ONNX file.
        model: PathBuf,
        /// Engine options (`[models.options]`), interpreted by the backend.
        options: toml::Table,
    },
    /// A GPU model of calibrated kernels.
    Cuda {
        /// The kernel sequence.
        spec: KernelModelSpec,
    },
    /// A serialized TensorRT engine.
    Trt {
        /// The engine file.
        engine: PathBuf,
        /// Engine options.
        options: toml::Table,
    },
}

impl BackendChoice {
    /// The backend's name as written in the file.
    pub fn name(&self) -> &'static str {
        match self {
            BackendChoice::Tract { .. } => "tract",
            BackendChoice::Ort { .. } => "ort",
            BackendChoice::Cuda { .. } => "cuda",
            BackendChoice::Trt { .. } => "trt",
        }
    }
}

/// One model of a deployment, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelDeployment {
    /// Unique name.
    pub name: ModelId,
    /// Engine and source.
    pub backend: BackendChoice,
    /// Release period (minimum inter-arrival time).
    pub period: Duration,
    /// Relative deadline (<= period).
    pub deadline: Duration,
    /// First release after the start.
    pub offset: Duration,
    /// Releases come up to this much later than the period (sporadic); zero: periodic.
    pub sporadic_jitter: Duration,
    /// Fixed priority (0 highest; unique).
    pub priority: u32,
    /// WCET, when given (otherwise profiled).
    pub wcet: Option<Duration>,
    /// Hard budgets.
    pub budget: ResourceBudget,
}

/// A validated deployment.
#[derive(Clone, Debug, PartialEq)]
pub struct Deployment {
    /// The file it came from.
    pub file: PathBuf,
    /// A name for reports.
    pub name: String,
    /// Dispatch policy (and so the admission test).
    pub policy: Policy,
    /// GPU/CPU lanes (jobs on one lane are serialised).
    pub lanes: NonZeroU32,
    /// How long to run.
    pub duration: Duration,
    /// Device memory pool size, bytes.
    pub pool_bytes: u64,
    /// Perfetto trace output.
    pub trace: Option<PathBuf>,
    /// HTML report output (a JSON summary is written next to it).
    pub report: Option<PathBuf>,
    /// Trace buffer capacity, events (`trace_capacity`); `None`: sized for the run
    /// ([`Deployment::trace_capacity_for`]).
    pub trace_capacity: Option<usize>,
    /// What to do with jobs that can no longer meet their deadline.
    pub late_action: LateAction,
    /// What to do with models that overrun their WCET.
    pub overrun: OverrunAction,
    /// Samples per model when profiling a WCET.
    pub profile_samples: usize,
    /// Allowance between a dispatch decision and the job's start before a running job counts
    /// as overrunning (the lane's hand-off latency).
    pub overrun_grace: Duration,
    /// A contained (overrunning) model is restored after this many consecutive jobs within
    /// budget, and put on probation after this many of its periods without a safe window
    /// (0: neither; it stays contained for the run). ADR 0006.
    pub overrun_restore_after: u32,
    /// The runtime's host side: its per-job cost for admission, its threads' scheduling.
    pub host: HostSettings,
    /// The models.
    pub models: Vec<ModelDeployment>,
}

/// Why a deployment file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeploymentError {
    /// The file cannot be read.
    #[error("{file}: cannot read: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Not valid TOML, or an unknown key / wrong type.
    #[error("{file}: {message}")]
    Syntax {
        /// The file.
        file: PathBuf,
        /// The parser's message (with line and column).
        message: String,
    },
    /// A field has a value that cannot be used.
    #[error("{file}: `{field}`: {problem}; {fix}")]
    Field {
        /// The file.
        file: PathBuf,
        /// The field (`models[1].period_ms`).
        field: String,
        /// What is wrong.
        problem: String,
        /// How to fix it.
        fix: String,
    },
}

impl Deployment {
    /// Reads and validates a deployment file.
    ///
    /// # Errors
    /// [`DeploymentError`] naming the file, the field and the fix.
    pub fn load(path: &Path) -> Result<Self, DeploymentError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| DeploymentError::Io { file: path.to_path_buf(), source })?;
        Self::parse(&text, path)
    }

    /// Validates deployment text; `path` names it in errors and anchors relative paths.
    ///
    /// # Errors
    /// [`DeploymentError`] naming the file, the field and the fix.
    pub fn parse(text: &str, path: &Path) -> Result<Self, DeploymentError> {
        let raw: schema::RawDeployment =
            toml::from_str(text).map_err(|e| DeploymentError::Syntax {
                file: path.to_path_buf(),
                message: e.to_string().trim_end().to_owned(),
            })?;
        validate::deployment(raw, path)
    }

    /// The trace buffer's capacity for a run of `duration`: the file's `trace_capacity`, or
    /// else room for every job's events ([`TRACE_EVENTS_PER_JOB`] per release) plus
    /// [`TRACE_EVENTS_FIXED`], at least [`TRACE_CAPACITY_MIN`] and at most
    /// [`TRACE_CAPACITY_MAX`] (a longer run keeps its last events and says how many it lost).
    pub fn trace_capacity_for(&self, duration: Duration) -> usize {
        if let Some(n) = self.trace_capacity {
            return n;
        }
        let releases: u64 = self
            .models
            .iter()
            .map(|m| duration.as_nanos() / m.period.as_nanos().max(1) + 1)
            .fold(0u64, u64::saturating_add);
        let events =
            releases.saturating_mul(TRACE_EVENTS_PER_JOB).saturating_add(TRACE_EVENTS_FIXED);
        usize::try_from(events).unwrap_or(usize::MAX).clamp(TRACE_CAPACITY_MIN, TRACE_CAPACITY_MAX)
    }

    /// The model named `name`.
    pub fn model(&self, name: &str) -> Option<&ModelDeployment> {
        self.models.iter().find(|m| m.name.as_str() == name)
    }
}
