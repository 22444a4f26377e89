//! # aegis-sched — layer 4 of AegisRT: the scheduler core
//!
//! WCET profiling, admission control backed by schedulability analysis for non-preemptive GPU
//! jobs, the real-time policies (FIFO, EDF, fixed priority), the deterministic scheduler
//! state machine and the virtual-time simulator.
//!
//! Architecture invariant: the scheduler core has no I/O and no clock of its own; events come
//! in (release, completion, cancellation, time), decisions go out. The real-time runtime and
//! the simulator drive the same core.
//!
//! Conventions: times are integer nanoseconds ([`aegis_trace::Duration`]); no floating point
//! enters a verdict; priority 0 is the highest.
#![deny(missing_docs)]

pub mod analysis;
pub mod policy;
pub mod scheduler;
pub mod sim;
pub mod task;
pub mod wcet;

pub use task::{TaskParams, TaskSetError, validate_task, validate_task_set};
