//! Errors of the execution-context layer.
//!
//! Owns [`ContextError`] and the description of a contained fault ([`ContextFault`]).

use crate::backend::BackendError;
use crate::budget::{BudgetError, BudgetField};
use aegis_trace::{ModelId, Timestamp};
use serde::Serialize;
use std::fmt;

/// What kind of failure faulted a context.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// The backend returned an error.
    Backend,
    /// The backend panicked (caught at the boundary).
    Panic,
    /// A CUDA call failed (reported by the backend or by the runtime's completion event).
    Cuda,
    /// A job exceeded its timeout.
    Timeout,
}

/// How a fault can be recovered from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Recovery {
    /// `clear_error()` returns the context to service (or re-create it).
    ClearError,
    /// A sticky CUDA error: the GPU is unusable for this whole process (ADR 0002); only a new
    /// process recovers. `clear_error()` refuses.
    RestartProcess,
}

/// A contained fault: what happened, when, and how to recover.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContextFault {
    /// The model whose context faulted.
    pub model: ModelId,
    /// The kind of failure.
    pub kind: FaultKind,
    /// The failure, in words.
    pub message: String,
    /// When it was recorded.
    pub at: Timestamp,
    /// How to recover.
    pub recovery: Recovery,
}

impl fmt::Display for ContextFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = match self.recovery {
            Recovery::ClearError => "clear_error() or re-create the context to recover",
            Recovery::RestartProcess => "sticky GPU error: restart the process to recover",
        };
        write!(
            f,
            "model {} faulted ({:?}) at {}: {}; {how}",
            self.model, self.kind, self.at, self.message
        )
    }
}

/// What can go wrong in an execution context.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContextError {
    /// The budget is not valid.
    #[error("model {model}: invalid budget: {source}")]
    InvalidBudget {
        /// The model.
        model: ModelId,
        /// The problem.
        #[source]
        source: BudgetError,
    },
    /// A request would exceed a budget; nothing was granted.
    #[error("model {model}: {} budget exceeded: {requested} requested, {used} in use, limit {limit}; raise the model's {} or release resources", resource.name(), resource.name())]
    BudgetExceeded {
        /// The model.
        model: ModelId,
        /// Which budget.
        resource: BudgetField,
        /// Amount requested (bytes, streams, or ns).
        requested: u64,
        /// Amount in use before the request.
        used: u64,
        /// The limit.
        limit: u64,
    },
    /// The context is faulted and refuses work until recovered.
    #[error("{0}")]
    Faulted(Box<ContextFault>),
    /// The call faulted the context (the fault is also recorded as `last_error`).
    #[error("{fault}")]
    Fault {
        /// The recorded fault.
        fault: Box<ContextFault>,
        /// The backend error, when there was one.
        #[source]
        source: Option<Box<BackendError>>,
    },
    /// `clear_error` cannot recover this fault.
    #[error("model {model}: cannot clear the fault in this process: {fault}")]
    Unrecoverable {
        /// The model.
        model: ModelId,
        /// The fault.
        fault: Box<ContextFault>,
    },
    /// A backend call failed without faulting the context (e.g. a rejected input).
    #[error("model {model}: {source}")]
    Backend {
        /// The model.
        model: ModelId,
        /// The cause.
        #[source]
        source: Box<BackendError>,
    },
}
