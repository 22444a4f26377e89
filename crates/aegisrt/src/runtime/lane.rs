//! Lanes: the execution resources jobs are dispatched to, one worker thread each.
//!
//! Owns [`Lane`] and its worker. A lane runs one job at a time to completion: CPU engines on
//! the worker thread itself (`ExecutionContext::run`), GPU engines by enqueueing on the lane's
//! CUDA stream and waiting on a **blocking-sync event** (`CU_EVENT_BLOCKING_SYNC`: the worker
//! sleeps in the driver instead of spinning a core; ADR 0003 and `docs/benchmarks/runtime.md`
//! give the measured wake-up latency). It must not know the scheduling policy: it executes
//! what it is sent and reports back.

use aegis_context::{ContextError, ExecutionContext, FaultKind, Placement};
use aegis_cuda::{CudaContext, CudaEvent, CudaStream, EventFlags, StreamPriority};
use aegis_trace::{Clock, Duration, EventId, ModelId, MonotonicClock, RequestId, Timestamp};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

/// One job sent to a lane.
pub(crate) struct LaneJob {
    pub(crate) model: ModelId,
    pub(crate) ctx: Arc<ExecutionContext>,
    pub(crate) request: RequestId,
    pub(crate) release: Timestamp,
    pub(crate) deadline: Timestamp,
    pub(crate) dispatched_at: Timestamp,
    pub(crate) dispatched_event: EventId,
}

/// What a lane reports after a job.
pub(crate) struct LaneDone {
    pub(crate) lane: u32,
    pub(crate) job: LaneJob,
    pub(crate) start: Timestamp,
    pub(crate) end: Timestamp,
    /// GPU jobs: when the first kernel started, on the host clock (via timing events).
    pub(crate) gpu_start: Option<Timestamp>,
    pub(crate) outcome: Result<(), ContextError>,
}

/// A lane's GPU resources: its stream, the blocking event it waits on, and timing events that
/// place each job's GPU start on the host clock.
pub(crate) struct GpuLane {
    pub(crate) stream: CudaStream,
    pub(crate) done: CudaEvent,
    start: CudaEvent,
    end: CudaEvent,
    epoch: CudaEvent,
    epoch_host: Mutex<Option<(Timestamp, std::time::Instant)>>,
}

/// How long before the expected completion the waiting thread starts polling.
pub(crate) const SPIN_WINDOW: Duration = Duration::from_micros(300);

/// Longest a lane polls before it falls back to a blocking wait (a job far longer than its
/// history, or the first job of a model).
pub(crate) const MAX_SPIN: std::time::Duration = std::time::Duration::from_millis(3);

/// How often the GPU-to-host clock mapping is re-measured (the two clocks drift apart by tens
/// of parts per million).
const EPOCH_REFRESH: std::time::Duration = std::time::Duration::from_millis(500);

impl GpuLane {
    /// A stream at the highest priority level, a blocking-sync event and two timing events.
    pub(crate) fn new(cuda: &Arc<CudaContext>) -> Result<Self, aegis_cuda::AegisCudaError> {
        Ok(GpuLane {
            stream: CudaStream::new(cuda, StreamPriority::Level(0))?,
            done: CudaEvent::new(cuda, EventFlags { timing: false, blocking: true })?,
            start: CudaEvent::timing(cuda)?,
            end: CudaEvent::timing(cuda)?,
            epoch: CudaEvent::timing(cuda)?,
            epoch_host: Mutex::new(None),
        })
    }

    /// Re-measures the mapping of GPU event time to the host clock when it is older than
    /// [`EPOCH_REFRESH`] (the lane is idle: an event recorded now completes at once; its
    /// completion is detected by polling, about a microsecond).
    fn refresh_epoch(&self, clock: &MonotonicClock) {
        let mut e = self.epoch_host.lock().unwrap_or_else(PoisonError::into_inner);
        if e.is_some_and(|(_, at)| at.elapsed() < EPOCH_REFRESH) {
            return;
        }
        if self.stream.record_event(&self.epoch).is_err() {
            return;
        }
        while let Ok(false) = self.epoch.is_complete() {
            std::hint::spin_loop();
        }
        *e = Some((clock.now(), std::time::Instant::now()));
    }

    /// Waits for the work enqueued so far: **sleep, then poll**. Sleeps until `hint` minus
    /// [`SPIN_WINDOW`] after `since` (the job's shortest execution seen so far), then polls the
    /// completion event (`cuEventQuery`, about 1 µs per poll); after [`MAX_SPIN`] of polling it
    /// falls back to a blocking wait. The core is burned only around the expected completion.
    /// Measured on an H200 (ADR 0003): blocking-sync events alone cost 60 µs (p50) / 255 µs
    /// (p99) of detection latency, polling 6.5 / 11 µs.
    ///
    /// Returns the job's GPU time (from the start event recorded before the enqueue to the end
    /// event after it). The hint must come from GPU times, never from host times that include
    /// this very sleep: a hint taken from host times can only grow (a first job slowed by lazy
    /// loading would set it for ever).
    pub(crate) fn wait_done(
        &self,
        since: std::time::Instant,
        hint: Duration,
    ) -> Result<Duration, aegis_cuda::AegisCudaError> {
        self.stream.record_event(&self.end)?;
        self.stream.record_event(&self.done)?;
        let wake = since + std::time::Duration::from(hint.saturating_sub(SPIN_WINDOW));
        let now = std::time::Instant::now();
        if wake > now {
            std::thread::sleep(wake - now);
        }
        let polling = std::time::Instant::now();
        loop {
            if self.end.is_complete()? {
                break;
            }
            if polling.elapsed() > MAX_SPIN {
                self.done.synchronize()?;
                break;
            }
            std::hint::spin_loop();
        }
        self.end.elapsed_since(&self.start)
    }

    /// Records the start event before a job's work.
    pub(crate) fn mark_start(&self) -> Result<(), aegis_cuda::AegisCudaError> {
        self.stream.record_event(&self.start)
    }

    /// The host time at which the last job's first kernel started on the GPU.
    fn gpu_start(&self) -> Option<Timestamp> {
        let (host, _) = (*self.epoch_host.lock().unwrap_or_else(PoisonError::into_inner))?;
        self.start.elapsed_since(&self.epoch).ok().map(|d| host + d)
    }
}

/// A lane: a worker thread and the channel that feeds it.
pub(crate) struct Lane {
    tx: Mutex<Option<Sender<LaneJob>>>,
    handle: Mutex<Option<JoinHandle<()>>>,
}

fn execute(
    job: &LaneJob,
    gpu: Option<&GpuLane>,
    hint: Duration,
) -> Result<Option<Duration>, ContextError> {
    match (job.ctx.placement(), gpu) {
        (Placement::Cpu, _) => job.ctx.run().map(|()| None),
        (Placement::Gpu, Some(g)) => {
            g.stream.record_event(&g.start).map_err(|e| {
                let f = job.ctx.report_fault(
                    FaultKind::Cuda,
                    format!("start event: {e}"),
                    e.is_sticky(),
                );
                ContextError::Fault { fault: Box::new(f), source: None }
            })?;
            let since = std::time::Instant::now();
            job.ctx.enqueue(&g.stream)?;
            match g.wait_done(since, hint) {
                Ok(gpu_time) => Ok(Some(gpu_time)),
                Err(e) => {
                    let sticky = e.is_sticky();
                    let fault = job.ctx.report_fault(
                        FaultKind::Cuda,
                        format!("completion wait: {e}"),
                        sticky,
                    );
                    Err(ContextError::Fault { fault: Box::new(fault), source: None })
                }
            }
        }
        (Placement::Gpu, None) => {
            let fault = job.ctx.report_fault(
                FaultKind::Cuda,
                "GPU model on a lane without a CUDA stream",
                false,
            );
            Err(ContextError::Fault { fault: Box::new(fault), source: None })
        }
    }
}

impl Lane {
    /// Starts lane `index`; its GPU jobs run on `gpu`.
    pub(crate) fn start(
        index: u32,
        gpu: Option<Arc<GpuLane>>,
        clock: Arc<MonotonicClock>,
        done: Sender<LaneDone>,
    ) -> std::io::Result<Self> {
        let (tx, rx): (Sender<LaneJob>, Receiver<LaneJob>) = channel();
        let handle =
            std::thread::Builder::new().name(format!("aegisrt-lane-{index}")).spawn(move || {
                // Shortest execution seen per model: the sleep-then-poll hint.
                let mut shortest: std::collections::HashMap<ModelId, Duration> =
                    std::collections::HashMap::new();
                for job in rx {
                    let on_gpu = job.ctx.placement() == Placement::Gpu;
                    if let Some(g) = gpu.as_deref().filter(|_| on_gpu) {
                        g.refresh_epoch(&clock);
                    }
                    let hint = shortest.get(&job.model).copied().unwrap_or(Duration::ZERO);
                    let start = clock.now();
                    let outcome = execute(&job, gpu.as_deref(), hint);
                    let end = clock.now();
                    // The hint is the shortest *GPU* time seen (never a host time, which
                    // includes the sleep the hint itself caused).
                    let outcome = match outcome {
                        Ok(Some(gpu_time)) => {
                            let e = shortest.entry(job.model.clone()).or_insert(gpu_time);
                            *e = (*e).min(gpu_time);
                            Ok(())
                        }
                        Ok(None) => Ok(()),
                        Err(e) => Err(e),
                    };
                    let gpu_start = match gpu.as_deref() {
                        Some(g) if on_gpu && outcome.is_ok() => g.gpu_start(),
                        _ => None,
                    };
                    let d = LaneDone { lane: index, job, start, end, gpu_start, outcome };
                    if done.send(d).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Lane { tx: Mutex::new(Some(tx)), handle: Mutex::new(Some(handle)) })
    }

    /// Sends a job; false when the lane is closed.
    pub(crate) fn send(&self, job: LaneJob) -> bool {
        self.tx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_some_and(|tx| tx.send(job).is_ok())
    }

    /// Stops accepting jobs and waits for the worker to finish the ones it holds.
    pub(crate) fn close(&self) {
        drop(self.tx.lock().unwrap_or_else(PoisonError::into_inner).take());
        if let Some(h) = self.handle.lock().unwrap_or_else(PoisonError::into_inner).take() {
            let _ = h.join();
        }
    }
}

impl Drop for Lane {
    fn drop(&mut self) {
        self.close();
    }
}

/// Measures `n` executions of `ctx` on the calling thread (CPU) or on `gpu` (sleep-then-poll
/// completion, as in a run), after `warmup` unmeasured ones; back to back, or one per `pace`.
/// Returns host execution times.
///
/// # Errors
/// The first failing execution.
pub(crate) fn measure(
    ctx: &ExecutionContext,
    gpu: Option<&GpuLane>,
    warmup: usize,
    n: usize,
    pace: Option<Duration>,
    mut progress: impl FnMut(usize),
) -> Result<Vec<Duration>, ContextError> {
    let clock = MonotonicClock::new();
    let mut out = Vec::with_capacity(n);
    let mut hint = Duration::ZERO;
    let mut release = clock.now();
    for i in 0..warmup + n {
        if let Some(p) = pace {
            release = release + p;
            let wait =
                clock.instant_at(release).saturating_duration_since(std::time::Instant::now());
            std::thread::sleep(wait);
        }
        let t0 = clock.now();
        match (ctx.placement(), gpu) {
            (Placement::Gpu, Some(g)) => {
                g.mark_start().map_err(|err| {
                    let f = ctx.report_fault(FaultKind::Cuda, err.to_string(), err.is_sticky());
                    ContextError::Fault { fault: Box::new(f), source: None }
                })?;
                let since = std::time::Instant::now();
                ctx.enqueue(&g.stream)?;
                match g.wait_done(since, hint) {
                    // The hint follows GPU times only (see GpuLane::wait_done).
                    Ok(gpu_time) => hint = if i == 0 { gpu_time } else { hint.min(gpu_time) },
                    Err(err) => {
                        let f = ctx.report_fault(FaultKind::Cuda, err.to_string(), err.is_sticky());
                        return Err(ContextError::Fault { fault: Box::new(f), source: None });
                    }
                }
            }
            _ => ctx.run()?,
        }
        let d = clock.now().saturating_duration_since(t0);
        if i >= warmup {
            out.push(d);
            progress(out.len());
        }
    }
    Ok(out)
}
