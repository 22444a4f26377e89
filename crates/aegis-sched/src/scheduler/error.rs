//! Why the scheduler core refused an input.
//!
//! Owns [`CoreError`]. Every variant names the model, request or lane and says what to fix. A
//! refused input changes no state (and is still recorded in the input log, so a replay refuses
//! it the same way).

use crate::task::TaskSetError;
use aegis_trace::{ModelId, RequestId};

/// A refused input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    /// The model's task parameters are invalid.
    #[error("invalid model: {0}")]
    InvalidTask(#[from] TaskSetError),
    /// The model is bound to a lane the core does not have.
    #[error(
        "model {model}: lane {lane} does not exist; the core has {lanes} lane(s) (0 ..= {})",
        lanes.saturating_sub(1)
    )]
    LaneOutOfRange {
        /// The model.
        model: ModelId,
        /// The lane asked for.
        lane: u32,
        /// Lanes configured.
        lanes: u32,
    },
    /// A model with this name is already registered.
    #[error("model {model} is already registered; model names must be unique")]
    DuplicateModel {
        /// The model.
        model: ModelId,
    },
    /// No model with this name is registered.
    #[error("model {model} is not registered; register it (after admission) first")]
    UnknownModel {
        /// The model.
        model: ModelId,
    },
    /// The model's compute budget is zero.
    #[error("model {model}: compute budget is zero; give a positive budget or none")]
    ZeroBudget {
        /// The model.
        model: ModelId,
    },
    /// A release reused the id of a request that is still queued or running.
    #[error("request {request} is already queued or running; request ids must be unique")]
    DuplicateRequest {
        /// The request.
        request: RequestId,
    },
    /// The request is neither queued nor running.
    #[error("request {request} is not queued or running (finished, dropped or never released)")]
    UnknownRequest {
        /// The request.
        request: RequestId,
    },
    /// A completion named a request that is not running on that lane.
    #[error(
        "request {request} is not running on lane {lane}; report completions on the lane of the dispatch"
    )]
    NotRunning {
        /// The request.
        request: RequestId,
        /// The lane given.
        lane: u32,
    },
    /// A running job cannot be cancelled.
    #[error(
        "request {request} is already running; GPU jobs are non-preemptive and cannot be cancelled once dispatched"
    )]
    NotCancellable {
        /// The request.
        request: RequestId,
    },
    /// The admission result has no lane for this model.
    #[error("model {model} is not in the admission result's lane assignment; admit it first")]
    NotAdmitted {
        /// The model.
        model: ModelId,
    },
}
