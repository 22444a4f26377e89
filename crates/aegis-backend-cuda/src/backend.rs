//! [`CudaKernelBackend`]: a GPU model made of calibrated kernels, implementing
//! `RuntimeBackend`.
//!
//! Owns the model's spin kernel (calibrated at `prepare`), its cuBLAS handle and resident
//! weight matrices; its activation workspace (A and C of every GEMM) is the region the
//! runtime binds from its pool, so models serialised on one lane share it. Enqueues every
//! kernel on the lane's stream and returns; the runtime learns completion from an event.
//! It must not know how it is scheduled.
//!
//! Coverage: GPU-only (building the model calibrates kernels on a device; its tests run on
//! the GPU machine, `cargo xtask gpu-bundle`).

use crate::spec::{KernelModelSpec, KernelStep, SpecError};
use aegis_context::{
    ActivationRegion, BackendError, MemoryRequirements, Placement, RuntimeBackend, TensorData,
};
use aegis_cuda::{CublasHandle, CudaContext, CudaStream, DeviceBuffer, PoolMemory, SpinKernel};
use aegis_trace::Duration;
use std::sync::Arc;

const ENGINE: &str = "cuda-kernels";

/// A GPU model built from calibrated kernels (see the module docs).
pub struct CudaKernelBackend {
    spec: KernelModelSpec,
    spin: SpinKernel,
    blas: Option<CublasHandle>,
    weights: Vec<(usize, DeviceBuffer)>,
    region: Option<ActivationRegion>,
    jobs: u64,
}

impl CudaKernelBackend {
    /// Builds the model on `ctx`: compiles the spin kernel, creates the cuBLAS handle and
    /// uploads one weight matrix per distinct GEMM size (a constant pattern).
    ///
    /// # Errors
    /// [`BackendError::Load`] for an invalid spec; [`BackendError::Cuda`] for CUDA failures
    /// (no driver, NVRTC or cuBLAS missing, out of memory).
    pub fn new(ctx: &Arc<CudaContext>, spec: KernelModelSpec) -> Result<Self, BackendError> {
        spec.validate().map_err(|e: SpecError| BackendError::Load {
            path: "kernel model".into(),
            reason: e.to_string(),
        })?;
        let spin = SpinKernel::new(ctx)?;
        let mut sizes: Vec<usize> = spec
            .kernels
            .iter()
            .filter_map(
                |k| if let KernelStep::Gemm { gemm_n, .. } = k { Some(*gemm_n) } else { None },
            )
            .collect();
        sizes.sort_unstable();
        sizes.dedup();
        let blas = if sizes.is_empty() { None } else { Some(CublasHandle::new(ctx)?) };
        let mut weights = Vec::new();
        for n in sizes {
            let b = DeviceBuffer::new(ctx, (n * n * 4) as u64)?;
            // 0x3c bytes: every f32 is about 0.0115, so products stay finite.
            let host = vec![0x3cu8; n * n * 4];
            b.copy_from_host(&host)?;
            weights.push((n, b));
        }
        Ok(CudaKernelBackend { spec, spin, blas, weights, region: None, jobs: 0 })
    }

    /// The spec.
    pub fn spec(&self) -> &KernelModelSpec {
        &self.spec
    }

    /// Jobs enqueued.
    pub fn jobs(&self) -> u64 {
        self.jobs
    }

    fn weight(&self, n: usize) -> u64 {
        self.weights.iter().find(|(m, _)| *m == n).map_or(0, |(_, b)| b.address())
    }
}

impl RuntimeBackend for CudaKernelBackend {
    fn engine(&self) -> &str {
        ENGINE
    }

    fn placement(&self) -> Placement {
        Placement::Gpu
    }

    fn memory_requirements(&self) -> MemoryRequirements {
        MemoryRequirements {
            weights_bytes: self.spec.weights_bytes(),
            activation_bytes: self.spec.activation_bytes(),
            io_bytes: 0,
            alignment: 256,
            external_activations: true,
        }
    }

    fn bind_activation_memory(&mut self, region: ActivationRegion) -> Result<(), BackendError> {
        let needed = self.spec.activation_bytes();
        if region.memory != PoolMemory::Device
            || region.bytes < needed
            || !region.address.is_multiple_of(256)
        {
            return Err(BackendError::BadActivationRegion {
                address: region.address,
                given: region.bytes,
                needed,
                alignment: 256,
            });
        }
        self.region = Some(region);
        Ok(())
    }

    fn prepare(&mut self, stream: Option<&CudaStream>) -> Result<(), BackendError> {
        let stream = stream
            .ok_or_else(|| BackendError::unsupported(ENGINE, "preparing without a GPU stream"))?;
        if self.spin.calibration().is_none() {
            self.spin.calibrate(stream)?;
        }
        Ok(())
    }

    fn set_input(&mut self, input: &TensorData) -> Result<(), BackendError> {
        Err(BackendError::InvalidInput {
            name: input.name.clone(),
            reason: "kernel models are synthetic workloads and take no inputs".into(),
        })
    }

    fn outputs(&mut self) -> Result<Vec<TensorData>, BackendError> {
        Ok(Vec::new())
    }

    fn enqueue(&mut self, stream: &CudaStream) -> Result<(), BackendError> {
        if self.spin.calibration().is_none() {
            return Err(BackendError::Execution {
                engine: ENGINE.into(),
                reason: "not prepared: call prepare() on the lane's stream first".into(),
            });
        }
        for k in &self.spec.kernels {
            match *k {
                KernelStep::Spin { spin_us, blocks } => {
                    self.spin.launch_for(stream, Duration::from_micros(spin_us), blocks)?
                }
                KernelStep::Gemm { gemm_n, repeat } => {
                    let region = self.region.ok_or_else(|| BackendError::Execution {
                        engine: ENGINE.into(),
                        reason: "activation memory not bound: the runtime must bind the model's arena first".into(),
                    })?;
                    let (a, c) = (region.address, region.address + (gemm_n * gemm_n * 4) as u64);
                    let b = self.weight(gemm_n);
                    let blas = self.blas.as_mut().ok_or_else(|| BackendError::Execution {
                        engine: ENGINE.into(),
                        reason: "no cuBLAS handle".into(),
                    })?;
                    for _ in 0..repeat {
                        // SAFETY: A and C lie inside the bound device region, which holds
                        // 2·n²·4 bytes (checked at bind); B is this model's live weight
                        // buffer of n²·4 bytes; the runtime keeps the region bound while the
                        // job runs (the backend contract).
                        unsafe { blas.sgemm(stream, gemm_n, a, b, c)? };
                    }
                }
            }
        }
        self.jobs += 1;
        Ok(())
    }
}
