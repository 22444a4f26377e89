//! # aegis-backend-trt — layer 5 of AegisRT: the TensorRT 10 backend
//!
//! Runs serialized TensorRT engines (`.engine` / `.plan`) as a [`RuntimeBackend`] whose
//! activation workspace comes from AegisRT's memory pool: the execution context is created
//! with user-managed device memory (`ExecutionContextAllocationStrategy::kUSER_MANAGED`), its
//! size (`getDeviceMemorySizeV2`) is reported as [`MemoryRequirements::activation_bytes`], and
//! the region the runtime binds is handed over with `setDeviceMemoryV2`, so models serialised
//! on one lane can share one arena.
//!
//! Structure: TensorRT's C++ API is reached through a small C++ shim
//! (`shim/aegis_trt_shim.cpp`, compiled by the build script only when TensorRT 10 headers are
//! found) and, above it, the Rust trait boundary in [`boundary`] ([`TrtApi`],
//! [`EngineHandle`], [`IoBuffer`]). Everything above the boundary — engine loading, the
//! activation hand-off, I/O binding by tensor name with shape validation, host-side dtype
//! conversion, CUDA-graph capture policy, error mapping, drop order — is [`TrtBackend`], and is
//! tested against the `FakeTrt` engine double (feature `test-support`). `libnvinfer` and
//! `libcuda` are loaded at run time, so binaries start without TensorRT; a missing library,
//! or a build without the shim, is a typed [`BackendError::Unavailable`] (see
//! [`shim_status`]).
//!
//! Architecture invariant: knows TensorRT and nothing about scheduling or memory plans; the
//! GPU only through `aegis-cuda` and TensorRT itself (the shim adds the stream-ordered input
//! copy and the CUDA-graph calls aegis-cuda does not have yet).
#![deny(missing_docs)]

mod activation;
mod backend;
pub mod boundary;
mod dtype;
mod error_map;
#[cfg(any(test, feature = "test-support"))]
pub mod fake;
mod graph;
mod io;
mod message;
mod options;
#[cfg(aegis_trt_shim)]
mod real;
mod status;
mod tensor;

pub use aegis_context::{BackendError, MemoryRequirements, RuntimeBackend};
pub use backend::TrtBackend;
pub use boundary::{EngineHandle, IoBuffer, StreamHandle, TrtApi};
pub use graph::{GraphMode, GraphStats};
pub use message::{MessageOrigin, ShimError, TrtMessage};
pub use options::{DEFAULT_ACTIVATION_ALIGNMENT, TrtOptions};
pub use status::{ShimStatus, shim_status};
pub use tensor::{DataType, ProfileShape, TensorDesc, TensorMode};

/// The engine name this backend reports (`RuntimeBackend::engine`).
pub const ENGINE: &str = "tensorrt";
