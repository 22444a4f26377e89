//! Why a simulation could not run.
//!
//! Owns [`SimError`]; every variant names the task or file and the fix.

use crate::analysis::InputError;
use crate::scheduler::CoreError;
use aegis_trace::ModelId;
use std::path::PathBuf;

/// A simulation that could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The task-set file could not be read.
    #[error("cannot read task set {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The task set is not valid `aegisrt analyze` JSON.
    #[error("task set: {0}")]
    Input(#[from] InputError),
    /// The scheduler core refused a model or an input.
    #[error("scheduler core: {0}")]
    Core(#[from] CoreError),
    /// No tasks to simulate.
    #[error("the task set is empty; give at least one task")]
    NoTasks,
    /// Zero jobs asked for.
    #[error("jobs is zero; simulate at least one job")]
    ZeroJobs,
    /// An execution-time model is unusable.
    #[error("task {task}: execution time: {problem}")]
    BadExecTime {
        /// The task.
        task: ModelId,
        /// What is wrong and the fix.
        problem: String,
    },
}
