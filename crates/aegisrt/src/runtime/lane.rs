//! Lanes: the execution resources jobs are dispatched to, one worker thread each.
//!
//! Owns [`Lane`] and its worker. A lane runs one job at a time to completion: CPU engines on
//! the worker thread itself (`ExecutionContext::run`), GPU engines through the lane's
//! [`GpuLane`] (enqueue on its stream, then sleep and poll for completion; ADR 0003 and
//! `docs/benchmarks/runtime.md` give the measured wake-up latency). It must not know the
//! scheduling policy or CUDA: it executes what it is sent and reports back.

use super::gpu_lane::GpuLane;
use aegis_context::{ContextError, ExecutionContext, FaultKind, Placement};
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
        (Placement::Gpu, Some(g)) => g.run_job(&job.ctx, hint).map(Some),
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
                let gpu_time = g.run_job(ctx, hint)?;
                // The hint follows GPU times only (see GpuLane::wait_done).
                hint = if i == 0 { gpu_time } else { hint.min(gpu_time) };
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
