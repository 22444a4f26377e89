//! The cuBLAS GEMM workload: square single-precision matrix products on a stream, a realistic
//! tensor-core-free load for tests, benchmarks and co-running contention.
//!
//! Owns [`GemmWorkload`] (a cuBLAS handle and three device matrices). cuBLAS is loaded at run
//! time; its absence is a typed error. It must not know what a model is.
//!
//! Coverage: GPU-only (every path past the driver check needs a device; its tests run on
//! the GPU machine, `cargo xtask gpu-bundle`).

use crate::buffer::DeviceBuffer;
use crate::context::CudaContext;
use crate::deferred::defer;
use crate::error::{AegisCudaError, CudaResult};
use crate::stream::CudaStream;
use cudarc::cublas::{result as blas, sys as blas_sys};
use std::sync::Arc;

/// True when cuBLAS can be loaded.
pub fn cublas_available() -> bool {
    // SAFETY: probing only tries to dlopen candidate library names.
    unsafe { blas_sys::is_culib_present() }
}

fn blas_err(call: &'static str, e: blas::CublasError) -> AegisCudaError {
    AegisCudaError::Cublas { call, status: format!("{:?}", e.0) }
}

/// A cuBLAS handle bound to one context, for products on caller-owned device memory.
pub struct CublasHandle {
    ctx: Arc<CudaContext>,
    handle: blas_sys::cublasHandle_t,
}

// SAFETY: the handle is only used through `&mut self` (one thread at a time) with its context
// bound first.
unsafe impl Send for CublasHandle {}

impl CublasHandle {
    /// A new handle on `ctx`.
    ///
    /// # Errors
    /// cuBLAS missing, or the failing `cublasCreate`.
    pub fn new(ctx: &Arc<CudaContext>) -> CudaResult<Self> {
        if !cublas_available() {
            return Err(AegisCudaError::LibraryNotFound { library: "cublas" });
        }
        ctx.bind()?;
        let handle = blas::create_handle().map_err(|e| blas_err("cublasCreate_v2", e))?;
        Ok(CublasHandle { ctx: ctx.clone(), handle })
    }

    /// Enqueues C = A × B for n×n column-major f32 matrices at device addresses `a`, `b`, `c`.
    ///
    /// # Safety
    /// `a`, `b` and `c` must each be live device memory of this context holding at least
    /// `n * n` f32 values, and must stay live until the product has run on `stream`.
    pub unsafe fn sgemm(
        &mut self,
        stream: &CudaStream,
        n: usize,
        a: u64,
        b: u64,
        c: u64,
    ) -> CudaResult<()> {
        let n = i32::try_from(n).map_err(|_| AegisCudaError::InvalidArgument {
            argument: "n",
            problem: format!("matrix size {n} does not fit a 32-bit cuBLAS dimension"),
            fix: "use a smaller matrix",
        })?;
        self.ctx.bind()?;
        let (alpha, beta) = (1.0f32, 0.0f32);
        // SAFETY: the handle is live; the stream belongs to this context (the caller's stream
        // is bound to the same device context); the caller guarantees the matrices; alpha and
        // beta are host scalars (default pointer mode).
        unsafe {
            blas::set_stream(self.handle, stream.as_raw() as blas_sys::cudaStream_t)
                .map_err(|e| blas_err("cublasSetStream_v2", e))?;
            blas::sgemm(
                self.handle,
                blas_sys::cublasOperation_t::CUBLAS_OP_N,
                blas_sys::cublasOperation_t::CUBLAS_OP_N,
                n,
                n,
                n,
                &alpha,
                a as *const f32,
                n,
                b as *const f32,
                n,
                &beta,
                c as *mut f32,
                n,
            )
            .map_err(|e| blas_err("cublasSgemm_v2", e))
        }
    }
}

impl Drop for CublasHandle {
    fn drop(&mut self) {
        let r = self.ctx.bind().and_then(|_| {
            // SAFETY: the handle is live and destroyed exactly once here.
            unsafe { blas::destroy_handle(self.handle) }
                .map_err(|e| blas_err("cublasDestroy_v2", e))
        });
        if let Err(e) = r {
            defer("CublasHandle", e);
        }
    }
}

/// C = A × B for n×n f32 matrices, repeatedly.
///
/// Synchronise the stream of the last [`GemmWorkload::launch`] before dropping a workload: the
/// drop frees the matrices a product in flight still reads.
pub struct GemmWorkload {
    blas: CublasHandle,
    n: usize,
    a: DeviceBuffer,
    b: DeviceBuffer,
    c: DeviceBuffer,
}

impl GemmWorkload {
    /// Allocates three n×n matrices (A and B filled with a constant pattern) and a handle, and
    /// runs one warm-up product.
    ///
    /// # Errors
    /// cuBLAS missing; `n` zero or too large; the failing allocation or cuBLAS call.
    pub fn new(ctx: &Arc<CudaContext>, n: usize, stream: &CudaStream) -> CudaResult<Self> {
        if !cublas_available() {
            return Err(AegisCudaError::LibraryNotFound { library: "cublas" });
        }
        if n == 0 || n > 32_768 {
            return Err(AegisCudaError::InvalidArgument {
                argument: "n",
                problem: format!("matrix size {n}"),
                fix: "use 1 ..= 32768",
            });
        }
        let bytes = (n * n * 4) as u64;
        let (a, b, c) = (
            DeviceBuffer::new(ctx, bytes)?,
            DeviceBuffer::new(ctx, bytes)?,
            DeviceBuffer::new(ctx, bytes)?,
        );
        // 0x3c bytes make every f32 about 0.0115: products stay finite.
        a.fill_async(0x3c, stream)?;
        b.fill_async(0x3c, stream)?;
        stream.synchronize()?;
        let mut w = GemmWorkload { blas: CublasHandle::new(ctx)?, n, a, b, c };
        // The first product loads cuBLAS's kernels (milliseconds); keep that out of every
        // later measurement.
        w.launch(stream)?;
        stream.synchronize()?;
        Ok(w)
    }

    /// Matrix size.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Floating-point operations of one product (2n³).
    pub fn flops(&self) -> f64 {
        2.0 * (self.n as f64).powi(3)
    }

    /// Enqueues one product on `stream`.
    ///
    /// # Errors
    /// The failing cuBLAS call.
    pub fn launch(&mut self, stream: &CudaStream) -> CudaResult<()> {
        let (a, b, c) = (self.a.address(), self.b.address(), self.c.address());
        // SAFETY: a, b and c are this workload's live n×n f32 device matrices, allocated in
        // the handle's context, and freed only when the workload is dropped; the type's
        // documentation makes the caller synchronise the stream before that (`cuMemFree` only
        // *may* synchronise).
        unsafe { self.blas.sgemm(stream, self.n, a, b, c) }
    }

    /// Copies C's first element to the host (to check the product ran).
    ///
    /// # Errors
    /// The failing copy.
    pub fn first_output(&self) -> CudaResult<f32> {
        let mut b = [0u8; 4];
        self.c.copy_to_host(&mut b)?;
        Ok(f32::from_le_bytes(b))
    }
}
