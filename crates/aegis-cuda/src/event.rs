//! CUDA events: RAII, timing or not, blocking-sync or spinning.
//!
//! Owns [`CudaEvent`] and the elapsed time between two events. A `blocking` event makes
//! `synchronize` sleep in the driver instead of spinning a core (the runtime's completion wait).
//! It must not know what the events mark.
//!
//! Coverage: GPU-only (every path past the driver check needs a device; its tests run on
//! the GPU machine, `cargo xtask gpu-bundle`).

use crate::context::CudaContext;
use crate::deferred::defer_result;
use crate::driver::{self, CUevent};
use crate::error::{AegisCudaError, CudaResult};
use aegis_trace::Duration;
use cudarc::driver::sys::CUevent_flags as F;
use std::sync::Arc;

/// How an event behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct EventFlags {
    /// Records timestamps (needed for [`CudaEvent::elapsed_since`]); costs a little more.
    pub timing: bool,
    /// `synchronize` yields the CPU instead of spinning.
    pub blocking: bool,
}

/// A CUDA event.
pub struct CudaEvent {
    ctx: Arc<CudaContext>,
    raw: CUevent,
    flags: EventFlags,
}

// SAFETY: a CUevent may be used from any thread with its context current, which every method
// ensures.
unsafe impl Send for CudaEvent {}
// SAFETY: methods take `&self` and only query/synchronise; the driver is thread-safe for these.
unsafe impl Sync for CudaEvent {}

impl CudaEvent {
    /// A new event on `ctx`.
    ///
    /// # Errors
    /// The failing driver call.
    pub fn new(ctx: &Arc<CudaContext>, flags: EventFlags) -> CudaResult<Self> {
        let mut bits = 0u32;
        if !flags.timing {
            bits |= F::CU_EVENT_DISABLE_TIMING as u32;
        }
        if flags.blocking {
            bits |= F::CU_EVENT_BLOCKING_SYNC as u32;
        }
        ctx.bind()?;
        let raw = driver::event_create(bits)?;
        Ok(CudaEvent { ctx: ctx.clone(), raw, flags })
    }

    /// A timing event (spinning sync).
    ///
    /// # Errors
    /// The failing driver call.
    pub fn timing(ctx: &Arc<CudaContext>) -> CudaResult<Self> {
        Self::new(ctx, EventFlags { timing: true, blocking: false })
    }

    /// A non-timing event (cheapest; for ordering and completion only).
    ///
    /// # Errors
    /// The failing driver call.
    pub fn fence(ctx: &Arc<CudaContext>) -> CudaResult<Self> {
        Self::new(ctx, EventFlags::default())
    }

    /// Flags it was created with.
    pub fn flags(&self) -> EventFlags {
        self.flags
    }

    pub(crate) fn raw(&self) -> CUevent {
        self.raw
    }

    /// Blocks until the work before the event's last record has completed.
    ///
    /// # Errors
    /// The failing driver call (including a sticky fault of that work).
    pub fn synchronize(&self) -> CudaResult<()> {
        self.ctx.bind()?;
        driver::event_synchronize(self.raw)
    }

    /// True when the work before the last record has completed (or it was never recorded).
    ///
    /// # Errors
    /// The failing driver call.
    pub fn is_complete(&self) -> CudaResult<bool> {
        self.ctx.bind()?;
        driver::event_query(self.raw)
    }

    /// Time from `start` to `self` (both timing events, recorded and complete). CUDA reports
    /// milliseconds as f32 with about 0.5 µs resolution; converted to whole nanoseconds.
    ///
    /// # Errors
    /// [`AegisCudaError::InvalidArgument`] if either is not a timing event; the failing driver
    /// call otherwise.
    pub fn elapsed_since(&self, start: &CudaEvent) -> CudaResult<Duration> {
        if !self.flags.timing || !start.flags.timing {
            return Err(AegisCudaError::InvalidArgument {
                argument: "event",
                problem: "elapsed time needs two timing events".into(),
                fix: "create both with EventFlags { timing: true, .. }",
            });
        }
        self.ctx.bind()?;
        let ms = driver::event_elapsed_ms(start.raw, self.raw)?;
        Ok(Duration::from_nanos((f64::from(ms.max(0.0)) * 1e6).round() as u64))
    }

    /// Destroys the event, returning any error instead of deferring it.
    ///
    /// # Errors
    /// The failing driver call.
    pub fn close(self) -> CudaResult<()> {
        let me = std::mem::ManuallyDrop::new(self);
        let r = me.ctx.bind().and_then(|_| driver::event_destroy(me.raw));
        // SAFETY: `me` is never used or dropped again; the context Arc is read out once so
        // its reference count is released.
        drop(unsafe { std::ptr::read(&me.ctx) });
        r
    }
}

impl Drop for CudaEvent {
    fn drop(&mut self) {
        let r = self.ctx.bind().and_then(|_| driver::event_destroy(self.raw));
        defer_result("CudaEvent", r);
    }
}

impl std::fmt::Debug for CudaEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CudaEvent").field("flags", &self.flags).finish()
    }
}
