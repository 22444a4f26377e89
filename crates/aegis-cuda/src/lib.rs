//! # aegis-cuda — layer 1 of AegisRT: the CUDA foundation
//!
//! RAII over the CUDA driver API (loaded at run time through `cudarc`, so everything builds and
//! its host tests run without CUDA), streams with priorities, events, a device memory pool with
//! bounded-time allocation and leak reports, capability discovery, and calibrated GPU workloads
//! (an NVRTC `clock64()` spin kernel and a cuBLAS GEMM), a GPU stall probe, and a host-opened
//! stream gate.
//!
//! Structure, as in cudarc: [`driver`] is the thin checked-call layer (every `CUresult` becomes
//! a typed error naming the call; nothing else calls the raw bindings), the other modules are
//! safe RAII types on top. A missing driver is [`AegisCudaError::DriverNotFound`], never a
//! panic. Errors raised while dropping a resource are kept in [`take_deferred_errors`]; each
//! type also has a `close(self) -> Result` that returns them directly.
//!
//! Architecture invariant: knows nothing about models, budgets, memory plans or scheduling.
//! Everything above touches the GPU only through this crate.
#![deny(missing_docs)]

mod buffer;
mod capabilities;
mod context;
mod deferred;
pub mod driver;
mod error;
mod event;
mod gate;
mod gemm;
mod module;
mod pool;
mod priority;
mod spin;
mod stream;
mod timer_gaps;
pub mod tlsf;

pub use buffer::DeviceBuffer;
pub use capabilities::DeviceCapabilities;
pub use context::{ContextKind, CudaContext};
pub use deferred::{DeferredError, take_deferred_errors};
pub use driver::driver_available;
pub use error::{AegisCudaError, CudaResult};
pub use event::{CudaEvent, EventFlags};
pub use gate::{GateGuard, StreamGate};
pub use gemm::{CublasHandle, GemmWorkload, cublas_available};
pub use module::{CudaModule, compile, nvrtc_available};
pub use pool::{
    DeviceAllocation, DeviceMemoryPool, LeakReport, LeakedAllocation, POOL_ALIGNMENT, PoolMemory,
    PoolOptions, PoolStats,
};
pub use priority::{StreamPriority, cuda_priority_for_level};
pub use spin::{Calibration, SpinKernel};
pub use stream::CudaStream;
pub use timer_gaps::{GpuTimerGaps, TimerGap, TimerGapOptions, TimerGapProbe};
