//! The real-time runtime: a deployment from load to report.
//!
//! Owns the phases of a run, each a function the CLI calls in turn:
//! 1. [`prepare`]: build each model's backend and execution context, profile the WCET of models
//!    that do not give one (extreme-value pWCET, `aegis_sched::wcet`), admit models one at a time in
//!    priority order with the schedulability test of the configured policy (and the memory
//!    check), plan and bind activation memory (one shared arena per lane).
//! 2. [`Prepared::admission`]: the admission table.
//! 3. [`Prepared::run`]: drive the scheduler core in real time (module `exec`) and return a
//!    [`RunReport`].
//!
//! It must not print (the CLI does) or decide anything the layers below decide.

mod exec;
mod gpu_lane;
mod lane;
mod prepare;
pub(crate) mod realtime;
mod records;
mod report;

pub use exec::{JobSample, Progress};
pub use prepare::{AdmissionRow, Prepared, ProfileProgress, WcetSource, prepare, prepare_with};
pub use realtime::{RealtimeError, allowed_cpus};
pub use report::{ModelRun, OverheadSummary, RunReport, Summary, admission_table, busy_fraction};
pub(crate) use report::{response_columns, response_header};

use crate::backends::BackendBuildError;

/// What can stop a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// A model's backend could not be built.
    #[error(transparent)]
    Backend(#[from] BackendBuildError),
    /// A model's execution context refused (budget) or failed.
    #[error("model {model}: {source}")]
    Context {
        /// The model.
        model: String,
        /// The cause.
        #[source]
        source: Box<aegis_context::ContextError>,
    },
    /// Profiling a model's WCET failed.
    #[error("model {model}: WCET profiling failed: {reason}")]
    Profile {
        /// The model.
        model: String,
        /// Why.
        reason: String,
    },
    /// Memory planning or binding failed.
    #[error("memory: {0}")]
    Memory(#[from] aegis_memory::MemoryError),
    /// The scheduler core refused a model.
    #[error("scheduler: {0}")]
    Core(#[from] aegis_sched::scheduler::CoreError),
    /// CUDA failed while setting up lanes.
    #[error("CUDA: {0}")]
    Cuda(#[from] aegis_cuda::AegisCudaError),
    /// No model was admitted: nothing to run.
    #[error(
        "no model was admitted (see the admission table); use --force to run refused models anyway"
    )]
    NothingAdmitted,
    /// The runtime's threads could not be given the `[host]` real-time scheduling.
    #[error(transparent)]
    Realtime(#[from] RealtimeError),
    /// Threads could not be started.
    #[error("starting runtime threads: {0}")]
    Thread(#[from] std::io::Error),
}
