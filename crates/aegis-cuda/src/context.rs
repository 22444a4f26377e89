//! CUDA contexts: device selection, initialisation and capabilities.
//!
//! Owns [`CudaContext`]. A context is either the device's primary context (shared by every
//! user of the device in the process, like the CUDA runtime's) or a dedicated one (its own
//! address space and its own sticky-error state: see ADR 0002 for what that buys and costs).
//! Every operation makes the context current on the calling thread first. It must not know
//! about streams' or allocations' lifetimes beyond holding an `Arc` to keep itself alive.
//!
//! Coverage: GPU-only (every path past the driver check needs a device; its tests run on
//! the GPU machine, `cargo xtask gpu-bundle`).

use crate::capabilities::DeviceCapabilities;
use crate::deferred::defer_result;
use crate::driver::{self, CUcontext, CUdevice};
use crate::error::CudaResult;
use std::sync::Arc;

/// Which kind of context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContextKind {
    /// The device's primary context (retained, released on drop).
    Primary,
    /// A context of its own (created, destroyed on drop).
    Dedicated,
}

/// A CUDA context on one device. Shared through `Arc`; every stream, event, module and pool
/// holds one, so the context outlives them.
pub struct CudaContext {
    raw: CUcontext,
    device: CUdevice,
    kind: ContextKind,
    caps: DeviceCapabilities,
}

// SAFETY: a CUcontext handle may be used from any thread (the driver API is thread-safe);
// every method makes the context current on the calling thread before using it.
unsafe impl Send for CudaContext {}
// SAFETY: as above; `CudaContext` has no interior mutability of its own.
unsafe impl Sync for CudaContext {}

impl CudaContext {
    /// Number of CUDA devices.
    ///
    /// # Errors
    /// [`crate::AegisCudaError::DriverNotFound`] without a driver; a driver error otherwise.
    pub fn device_count() -> CudaResult<usize> {
        driver::device_count()
    }

    /// The primary context of device `ordinal`.
    ///
    /// # Errors
    /// `DriverNotFound`, `InvalidDevice`, or the failing driver call.
    pub fn new(ordinal: usize) -> CudaResult<Arc<Self>> {
        let device = driver::device_get(ordinal)?;
        let raw = driver::primary_ctx_retain(device)?;
        Self::finish(ordinal, device, raw, ContextKind::Primary)
    }

    /// A dedicated context on device `ordinal`.
    ///
    /// # Errors
    /// `DriverNotFound`, `InvalidDevice`, or the failing driver call.
    pub fn dedicated(ordinal: usize) -> CudaResult<Arc<Self>> {
        let device = driver::device_get(ordinal)?;
        let raw = driver::ctx_create(device)?;
        Self::finish(ordinal, device, raw, ContextKind::Dedicated)
    }

    fn finish(
        ordinal: usize,
        device: CUdevice,
        raw: CUcontext,
        kind: ContextKind,
    ) -> CudaResult<Arc<Self>> {
        let release = |kind| match kind {
            ContextKind::Primary => driver::primary_ctx_release(device),
            ContextKind::Dedicated => driver::ctx_destroy(raw),
        };
        if let Err(e) = driver::ctx_set_current(raw) {
            defer_result("CudaContext", release(kind));
            return Err(e);
        }
        match DeviceCapabilities::query(ordinal, device) {
            Ok(caps) => Ok(Arc::new(CudaContext { raw, device, kind, caps })),
            Err(e) => {
                defer_result("CudaContext", release(kind));
                Err(e)
            }
        }
    }

    /// Makes this context current on the calling thread.
    ///
    /// # Errors
    /// The failing `cuCtxSetCurrent`.
    pub fn bind(&self) -> CudaResult<()> {
        if driver::ctx_get_current()? != self.raw {
            driver::ctx_set_current(self.raw)?;
        }
        Ok(())
    }

    /// What the device can do (read at creation; `memory_free` is that moment's).
    pub fn capabilities(&self) -> &DeviceCapabilities {
        &self.caps
    }

    /// Primary or dedicated.
    pub fn kind(&self) -> ContextKind {
        self.kind
    }

    /// (free, total) device memory now, bytes.
    ///
    /// # Errors
    /// The failing driver call.
    pub fn memory_info(&self) -> CudaResult<(u64, u64)> {
        self.bind()?;
        driver::mem_get_info()
    }

    /// The raw handle, for engines that take one (TensorRT, cuBLAS). Stays owned by `self`.
    pub fn as_raw(&self) -> CUcontext {
        self.raw
    }
}

impl Drop for CudaContext {
    fn drop(&mut self) {
        let r = match self.kind {
            ContextKind::Primary => driver::primary_ctx_release(self.device),
            ContextKind::Dedicated => driver::ctx_destroy(self.raw),
        };
        defer_result("CudaContext", r);
    }
}

impl std::fmt::Debug for CudaContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CudaContext")
            .field("device", &self.caps.name)
            .field("ordinal", &self.caps.ordinal)
            .field("kind", &self.kind)
            .finish()
    }
}
