//! # aegisrt — layer 6 of AegisRT: the facade
//!
//! One dependency for applications: re-exports the layers below under short names. The
//! `aegisrt` binary (this package's `src/main.rs`) is the command line.
//!
//! Architecture invariant: the facade adds wiring, never policy; every decision lives in the
//! layer that owns it.
#![deny(missing_docs)]

pub mod backends;
pub mod baseline;
pub mod deployment;
pub mod html;
pub mod platform;
pub mod profile;
pub mod runtime;

pub use aegis_context as context;
pub use aegis_cuda as cuda;
pub use aegis_memory as memory;
pub use aegis_sched as sched;
pub use aegis_trace as trace;
