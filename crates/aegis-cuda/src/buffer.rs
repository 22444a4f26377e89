//! Plain device buffers straight from the driver, outside any pool.
//!
//! Owns [`DeviceBuffer`]: RAII over `cuMemAlloc`/`cuMemFree` or the stream-ordered
//! `cuMemAllocAsync`/`cuMemFreeAsync`, plus host↔device copies. Used by the calibrated
//! workloads and as the baseline the pool is benchmarked against. It must not know about pools.
//!
//! Coverage: GPU-only (every path past the driver check needs a device; its tests run on
//! the GPU machine, `cargo xtask gpu-bundle`).

use crate::context::CudaContext;
use crate::deferred::defer_result;
use crate::driver::{self, CUdeviceptr};
use crate::error::{AegisCudaError, CudaResult};
use crate::stream::CudaStream;
use std::sync::Arc;

/// A device allocation owned directly (freed on drop).
pub struct DeviceBuffer {
    ctx: Arc<CudaContext>,
    ptr: CUdeviceptr,
    len: u64,
}

// SAFETY: a device pointer is plain data; every use binds the context first.
unsafe impl Send for DeviceBuffer {}
// SAFETY: `&self` methods only read the pointer or issue thread-safe driver calls.
unsafe impl Sync for DeviceBuffer {}

fn nonzero(bytes: u64) -> CudaResult<()> {
    if bytes == 0 {
        return Err(AegisCudaError::InvalidArgument {
            argument: "bytes",
            problem: "zero-byte buffer requested".into(),
            fix: "request at least one byte",
        });
    }
    Ok(())
}

impl DeviceBuffer {
    /// `cuMemAlloc` of `bytes`.
    ///
    /// # Errors
    /// Zero bytes, or the failing driver call.
    pub fn new(ctx: &Arc<CudaContext>, bytes: u64) -> CudaResult<Self> {
        nonzero(bytes)?;
        ctx.bind()?;
        Ok(DeviceBuffer { ctx: ctx.clone(), ptr: driver::mem_alloc(bytes)?, len: bytes })
    }

    /// `cuMemAllocAsync` of `bytes`, ordered on `stream`; release with [`Self::free_async`].
    ///
    /// # Errors
    /// Zero bytes, or the failing driver call.
    pub fn new_async(stream: &CudaStream, bytes: u64) -> CudaResult<Self> {
        nonzero(bytes)?;
        let ctx = stream.context().clone();
        ctx.bind()?;
        let ptr = driver::mem_alloc_async(bytes, stream.as_raw())?;
        Ok(DeviceBuffer { ctx, ptr, len: bytes })
    }

    /// `cuMemFreeAsync` on `stream`.
    ///
    /// # Errors
    /// The failing driver call.
    pub fn free_async(self, stream: &CudaStream) -> CudaResult<()> {
        let me = std::mem::ManuallyDrop::new(self);
        let r = me.ctx.bind().and_then(|_| driver::mem_free_async(me.ptr, stream.as_raw()));
        // SAFETY: `me` is not used again; reading the Arc out releases its count exactly once.
        drop(unsafe { std::ptr::read(&me.ctx) });
        r
    }

    /// Device address.
    pub fn address(&self) -> u64 {
        self.ptr
    }

    /// Bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Always false: zero-byte buffers are refused.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Copies `src` into the start of the buffer (synchronous).
    ///
    /// # Errors
    /// [`AegisCudaError::InvalidArgument`] if `src` is longer than the buffer; the failing
    /// driver call otherwise.
    pub fn copy_from_host(&self, src: &[u8]) -> CudaResult<()> {
        self.fits(src.len())?;
        self.ctx.bind()?;
        driver::memcpy_htod(self.ptr, src)
    }

    /// Copies the start of the buffer into `dst` (synchronous).
    ///
    /// # Errors
    /// As [`Self::copy_from_host`].
    pub fn copy_to_host(&self, dst: &mut [u8]) -> CudaResult<()> {
        self.fits(dst.len())?;
        self.ctx.bind()?;
        driver::memcpy_dtoh(dst, self.ptr)
    }

    /// Fills the buffer with `value` on `stream`.
    ///
    /// # Errors
    /// The failing driver call.
    pub fn fill_async(&self, value: u8, stream: &CudaStream) -> CudaResult<()> {
        self.ctx.bind()?;
        driver::memset_d8_async(self.ptr, value, self.len, stream.as_raw())
    }

    fn fits(&self, n: usize) -> CudaResult<()> {
        if n as u64 > self.len {
            return Err(AegisCudaError::InvalidArgument {
                argument: "host slice",
                problem: format!("{n} bytes do not fit a {}-byte buffer", self.len),
                fix: "copy at most the buffer's length",
            });
        }
        Ok(())
    }
}

impl Drop for DeviceBuffer {
    fn drop(&mut self) {
        defer_result("DeviceBuffer", self.ctx.bind().and_then(|_| driver::mem_free(self.ptr)));
    }
}
