//! A host-opened gate on a stream: work enqueued behind [`StreamGate::close`] does not start on
//! the GPU until the host calls [`StreamGate::open`]. A job's whole kernel sequence can then be
//! enqueued first and released at once, so a host thread descheduled *between* two launches
//! (or between the job's start event and its first kernel) delays the job's start instead of
//! stretching its measured GPU time: the timing events then bracket the kernels alone.
//!
//! Owns [`StreamGate`] (one 32-bit word of mapped page-locked host memory; the stream waits with
//! `cuStreamWaitValue32` until the word reaches the gate's sequence number, which the host then
//! writes) and [`GateGuard`] (opens on drop, so no error path leaves a stream waiting for ever).
//! It must not know what the gated work is.
//!
//! **Constraint: nothing between `close` and `open` may wait for the gated stream**, directly
//! (a synchronisation) or through the driver: with lazy module loading (CUDA's default) the
//! first launch of a function may wait for the context's work, which waits for the gate — a
//! deadlock. Measured on an H200 (2026-11-27, ADR 0007): the runtime's GPU lanes gated every
//! job and hung in the first warm-up job, whose kernels had not been launched before. The
//! runtime does not gate its lanes for that reason; gating needs every function loaded first
//! (`cuFuncLoad`, or an ungated warm-up) and a watchdog that opens a gate held too long.
//!
//! Coverage: GPU-only (every path past the driver check needs a device; its tests run on
//! the GPU machine, `cargo xtask gpu-bundle`).

use crate::context::CudaContext;
use crate::deferred::defer_result;
use crate::driver::{self, CUdeviceptr};
use crate::error::{AegisCudaError, CudaResult};
use crate::stream::CudaStream;
use std::ffi::c_void;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// A gate for the streams of one context.
pub struct StreamGate {
    ctx: Arc<CudaContext>,
    host: *mut c_void,
    device: CUdeviceptr,
    /// The last sequence number a `close` used.
    next: AtomicU32,
}

// SAFETY: the host word is only written through atomic stores and freed once, on drop; the
// device address is plain data; every driver call binds the context first.
unsafe impl Send for StreamGate {}
// SAFETY: as above; `close` takes its sequence number from an atomic counter.
unsafe impl Sync for StreamGate {}

/// A closed gate; [`GateGuard::open`] (or dropping the guard) lets the stream run.
#[must_use = "the stream waits until the guard is opened or dropped"]
pub struct GateGuard<'a> {
    gate: &'a StreamGate,
    seq: u32,
    open: bool,
}

impl StreamGate {
    /// Allocates the gate's word (mapped page-locked host memory) in `ctx`.
    ///
    /// # Errors
    /// [`AegisCudaError::MissingSymbol`] when the driver lacks stream memory operations (before
    /// CUDA 11.7); the failing driver call.
    pub fn new(ctx: &Arc<CudaContext>) -> CudaResult<Self> {
        if let Some(symbol) = driver::missing_gate_call()? {
            return Err(AegisCudaError::MissingSymbol { symbol });
        }
        ctx.bind()?;
        let host = driver::mem_host_alloc_mapped(std::mem::size_of::<u32>())?;
        // Owned from here: an error below frees the allocation on drop.
        let mut gate = StreamGate { ctx: ctx.clone(), host, device: 0, next: AtomicU32::new(0) };
        // SAFETY: `host` is a live, suitably aligned 4-byte page-locked allocation; the store
        // happens before any stream can read it.
        unsafe { gate.word().store(0, Ordering::SeqCst) };
        gate.device = driver::mem_host_device_pointer(host)?;
        Ok(gate)
    }

    /// # Safety
    /// `self.host` must be live (it is, until drop).
    unsafe fn word(&self) -> &AtomicU32 {
        // SAFETY: the allocation is 4 bytes, page-aligned, and lives as long as `self`.
        unsafe { &*self.host.cast::<AtomicU32>() }
    }

    /// Closes the gate on `stream`: work enqueued from now on waits for the returned guard to
    /// open. Open it right after enqueueing.
    ///
    /// # Errors
    /// The failing driver call (nothing is left waiting then).
    pub fn close(&self, stream: &CudaStream) -> CudaResult<GateGuard<'_>> {
        let seq = self.next.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        self.ctx.bind()?;
        driver::stream_wait_value32_geq(stream.as_raw(), self.device, seq)?;
        Ok(GateGuard { gate: self, seq, open: false })
    }

    /// The context it belongs to.
    pub fn context(&self) -> &Arc<CudaContext> {
        &self.ctx
    }
}

impl GateGuard<'_> {
    /// Lets the gated stream run.
    pub fn open(mut self) {
        self.release();
    }

    fn release(&mut self) {
        if !self.open {
            self.open = true;
            // SAFETY: the gate (and so its word) outlives the guard.
            let word = unsafe { self.gate.word() };
            // Cyclic "at least": never move the word backwards past a later guard's number.
            let _ = word.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |w| {
                ((self.seq.wrapping_sub(w) as i32) > 0).then_some(self.seq)
            });
        }
    }
}

impl Drop for GateGuard<'_> {
    fn drop(&mut self) {
        self.release();
    }
}

impl Drop for StreamGate {
    fn drop(&mut self) {
        // Every guard borrowed the gate, so none is left closed; work still queued behind an
        // opened gate has already passed its wait (the word only grows), and callers drop
        // their streams (which wait for their work) before the gate.
        defer_result("StreamGate", self.ctx.bind().and_then(|_| driver::mem_free_host(self.host)));
    }
}
