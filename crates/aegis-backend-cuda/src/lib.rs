//! # aegis-backend-cuda — layer 5: GPU models from calibrated CUDA kernels
//!
//! A deployment can describe a GPU model as a kernel sequence — calibrated `clock64()` spins
//! and cuBLAS SGEMM chains ([`KernelModelSpec`]) — and run it through the same
//! `RuntimeBackend` interface as real engines: its activation workspace comes from the
//! runtime's arena, its execution is enqueued on the lane's stream. These are the precise,
//! repeatable GPU workloads of the multi-model case study. (Real ONNX graphs on CUDA go
//! through ONNX Runtime's CUDA/TensorRT execution providers or the TensorRT backend.)
//!
//! Architecture invariant: knows nothing about scheduling or memory planning.
#![deny(missing_docs)]

mod backend;
mod spec;

pub use backend::CudaKernelBackend;
pub use spec::{KernelModelSpec, KernelStep, MAX_GEMM_N, SpecError};
