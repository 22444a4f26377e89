//! # aegis-context — layer 2 of AegisRT: execution contexts
//!
//! Per-model resource containers with hard budgets (memory, streams, compute per period), a
//! fault boundary per model, and the [`RuntimeBackend`] trait every inference engine
//! implements (its contract is in the [`backend`] module docs).
//!
//! Architecture invariant: knows nothing about memory plans, scheduling policies or specific
//! engines; the GPU only through `aegis-cuda`.
#![deny(missing_docs)]

pub mod backend;
mod budget;
mod compute;
mod context;
mod error;
mod fault;
#[cfg(any(test, feature = "test-support"))]
pub mod mock;

pub use backend::{
    ActivationRegion, BackendError, MemoryRequirements, OpGraph, Placement, RuntimeBackend,
    TensorData,
};
pub use budget::{BudgetError, BudgetField, MAX_PERIOD, MAX_STREAMS, ResourceBudget};
pub use compute::ComputeStatus;
pub use context::{
    ContextOptions, ContextStream, ExecutionContext, MemoryReservation, StreamLease,
};
pub use error::{ContextError, ContextFault, FaultKind, Recovery};
pub use fault::ContextState;
