//! CUDA streams: move-only RAII, created with a priority.
//!
//! Owns [`CudaStream`]. Dropping a stream synchronises it first (so no work is cut off) and
//! then destroys it; a failure there is pushed to [`crate::take_deferred_errors`]. Use
//! [`CudaStream::close`] to receive that error directly. It must not know what runs on it.
//!
//! Coverage: GPU-only (every path past the driver check needs a device; its tests run on
//! the GPU machine, `cargo xtask gpu-bundle`).

use crate::context::CudaContext;
use crate::deferred::defer_result;
use crate::driver::{self, CUstream};
use crate::error::{AegisCudaError, CudaResult};
use crate::event::CudaEvent;
use crate::priority::{StreamPriority, cuda_priority_for_level};
use std::ffi::c_void;
use std::sync::Arc;

/// A CUDA stream (non-blocking with respect to the legacy default stream).
pub struct CudaStream {
    ctx: Arc<CudaContext>,
    raw: CUstream,
    priority: i32,
    closed: bool,
}

// SAFETY: a CUstream may be used from any thread with its context current, which every method
// ensures; the driver serialises operations on one stream.
unsafe impl Send for CudaStream {}
// SAFETY: all methods take `&self` and only enqueue work or query; the driver API is
// thread-safe for these calls.
unsafe impl Sync for CudaStream {}

type Callback = Box<dyn FnOnce() + Send + 'static>;

unsafe extern "C" fn run_callback(data: *mut c_void) {
    // SAFETY: `data` is the `Box<Callback>` leaked by `on_complete`, handed to us exactly once.
    let cb: Box<Callback> = unsafe { Box::from_raw(data.cast()) };
    // A panic must not unwind into the driver's thread.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(cb));
}

impl CudaStream {
    /// A new stream on `ctx` with `priority`.
    ///
    /// # Errors
    /// [`AegisCudaError::InvalidPriority`] for a CUDA value outside the device range; the
    /// failing driver call otherwise.
    pub fn new(ctx: &Arc<CudaContext>, priority: StreamPriority) -> CudaResult<Self> {
        let caps = ctx.capabilities();
        let (least, greatest) = (caps.stream_priority_least, caps.stream_priority_greatest);
        let cuda = match priority {
            StreamPriority::Level(l) => cuda_priority_for_level(l, least, greatest),
            StreamPriority::Lowest => least,
            StreamPriority::Cuda(p) if (greatest..=least).contains(&p) => p,
            StreamPriority::Cuda(requested) => {
                return Err(AegisCudaError::InvalidPriority { requested, least, greatest });
            }
        };
        ctx.bind()?;
        let raw = driver::stream_create(cuda)?;
        Ok(CudaStream { ctx: ctx.clone(), raw, priority: cuda, closed: false })
    }

    /// The CUDA priority the stream was created with.
    pub fn priority(&self) -> i32 {
        self.priority
    }

    /// The priority as the driver reports it (for verification).
    ///
    /// # Errors
    /// The failing driver call.
    pub fn query_priority(&self) -> CudaResult<i32> {
        self.ctx.bind()?;
        driver::stream_priority(self.raw)
    }

    /// Blocks until all work on the stream has completed.
    ///
    /// # Errors
    /// The failing driver call (including a sticky fault of earlier work).
    pub fn synchronize(&self) -> CudaResult<()> {
        self.ctx.bind()?;
        driver::stream_synchronize(self.raw)
    }

    /// True when all work on the stream has completed.
    ///
    /// # Errors
    /// The failing driver call.
    pub fn is_ready(&self) -> CudaResult<bool> {
        self.ctx.bind()?;
        driver::stream_query(self.raw)
    }

    /// Records `event` after the work enqueued so far.
    ///
    /// # Errors
    /// The failing driver call.
    pub fn record_event(&self, event: &CudaEvent) -> CudaResult<()> {
        self.ctx.bind()?;
        driver::event_record(event.raw(), self.raw)
    }

    /// Makes later work on this stream wait for `event`.
    ///
    /// # Errors
    /// The failing driver call.
    pub fn wait_event(&self, event: &CudaEvent) -> CudaResult<()> {
        self.ctx.bind()?;
        driver::stream_wait_event(self.raw, event.raw())
    }

    /// Runs `f` on a driver thread once all work enqueued so far has completed. `f` must not
    /// call CUDA (the driver forbids it in host functions); a panic in `f` is caught.
    ///
    /// # Errors
    /// The failing driver call (then `f` is dropped without running).
    pub fn on_complete(&self, f: impl FnOnce() + Send + 'static) -> CudaResult<()> {
        self.ctx.bind()?;
        let data: *mut Callback = Box::into_raw(Box::new(Box::new(f) as Callback));
        // SAFETY: `data` stays valid until `run_callback` reclaims it; `run_callback` does not
        // call CUDA. On failure the driver will never call it, so we reclaim it here.
        let r = unsafe { driver::launch_host_func(self.raw, run_callback, data.cast()) };
        if r.is_err() {
            // SAFETY: the launch failed, so ownership of `data` never passed to the driver.
            drop(unsafe { Box::from_raw(data) });
        }
        r
    }

    /// The context the stream belongs to.
    pub fn context(&self) -> &Arc<CudaContext> {
        &self.ctx
    }

    /// The raw handle, for engines that take one (cuBLAS, TensorRT). Stays owned by `self`.
    pub fn as_raw(&self) -> CUstream {
        self.raw
    }

    fn release(&mut self) -> CudaResult<()> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        self.ctx.bind()?;
        let synced = driver::stream_synchronize(self.raw);
        let destroyed = driver::stream_destroy(self.raw);
        synced.and(destroyed)
    }

    /// Synchronises and destroys the stream, returning any error instead of deferring it.
    ///
    /// # Errors
    /// The first failing driver call (the stream is destroyed regardless).
    pub fn close(mut self) -> CudaResult<()> {
        self.release()
    }
}

impl Drop for CudaStream {
    fn drop(&mut self) {
        let r = self.release();
        defer_result("CudaStream", r);
    }
}

impl std::fmt::Debug for CudaStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CudaStream").field("priority", &self.priority).finish()
    }
}
