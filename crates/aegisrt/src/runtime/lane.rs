//! Lanes: the execution resources jobs are dispatched to, one worker thread each.
//!
//! Owns [`Lane`] and its worker. A lane runs one job at a time to completion: CPU engines on
//! the worker thread itself (`ExecutionContext::run`), GPU engines through the lane's
//! [`GpuLane`] (enqueue on its stream, then sleep and poll for completion; ADR 0003 and
//! `docs/benchmarks/runtime.md` give the measured wake-up latency), then hands the finished job
//! to the engine's bookkeeping on its own thread. An idle worker polls its queue around the
//! next expected release instead of sleeping through it ([`DISPATCH_SPIN_BEFORE`]). It must not
//! know the scheduling policy or CUDA: it executes what it is sent and reports back.

use super::RuntimeError;
use super::gpu_lane::GpuLane;
use super::realtime::ThreadPolicy;
use aegis_context::{ContextError, ExecutionContext, FaultKind, Placement};
use aegis_trace::{Clock, Duration, EventId, ModelId, MonotonicClock, RequestId, Timestamp};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError, channel, sync_channel};
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
    /// Start of the host work that led to the dispatch: the release thread's core visit for a
    /// job dispatched at a release (releasing, queueing, deciding, recording), the decision
    /// itself for a job dispatched at another job's completion (that visit is the other job's
    /// bookkeeping).
    pub(crate) visit_start: Timestamp,
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
    /// GPU jobs: the GPU time between the job's timing events (the model's own work; unlike
    /// `end - start` it does not grow when the lane thread is descheduled while it waits).
    pub(crate) gpu_time: Option<Duration>,
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

/// How long before its lane's next expected release an idle lane worker stops sleeping and
/// polls its queue instead, and how long after it goes on polling. Waking a thread that sleeps
/// in `recv` costs about 45 µs on the 2-core VM; a polling worker picks the job up in about a
/// microsecond (docs/benchmarks/runtime.md). The price is this window of one busy core per
/// idle lane around each release of that lane's models.
pub(crate) const DISPATCH_SPIN_BEFORE: Duration = Duration::from_micros(300);
/// See [`DISPATCH_SPIN_BEFORE`].
pub(crate) const DISPATCH_SPIN_AFTER: Duration = Duration::from_micros(150);

/// Longest sleep of an idle lane worker before it reads the release hint again.
const IDLE_RECHECK: std::time::Duration = std::time::Duration::from_millis(5);

/// What a lane does with a finished job: the engine's completion bookkeeping, run on the lane's
/// own thread (no hand-off to another thread; a job it dispatches to this lane is picked up at
/// once).
pub(crate) type OnDone = Box<dyn Fn(LaneDone) + Send>;

/// The next job: polls around the expected release time `hint` (ns on `clock`; `u64::MAX`:
/// none expected), sleeps in the channel otherwise. `None` when the lane is closed.
fn next_job<T>(rx: &Receiver<T>, clock: &MonotonicClock, hint: &AtomicU64) -> Option<T> {
    loop {
        match rx.try_recv() {
            Ok(job) => return Some(job),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) => {}
        }
        let now = clock.now().as_nanos();
        let next = hint.load(Ordering::Acquire);
        let spin_from = next.saturating_sub(DISPATCH_SPIN_BEFORE.as_nanos());
        let spin_until = next.saturating_add(DISPATCH_SPIN_AFTER.as_nanos());
        if (spin_from..spin_until).contains(&now) {
            std::hint::spin_loop();
            continue;
        }
        let wait = if now < spin_from {
            std::time::Duration::from_nanos(spin_from - now).min(IDLE_RECHECK)
        } else {
            IDLE_RECHECK
        };
        match rx.recv_timeout(wait) {
            Ok(job) => return Some(job),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return None,
        }
    }
}

impl Lane {
    /// Starts lane `index`; its GPU jobs run on `gpu`; it polls for work around the time in
    /// `release_hint` and hands every finished job to `on_done` on its own thread.
    pub(crate) fn start(
        index: u32,
        gpu: Option<Arc<GpuLane>>,
        clock: Arc<MonotonicClock>,
        release_hint: Arc<AtomicU64>,
        threads: ThreadPolicy,
        on_done: OnDone,
    ) -> Result<Self, RuntimeError> {
        let (tx, rx): (Sender<LaneJob>, Receiver<LaneJob>) = channel();
        let (ready_tx, ready_rx) = sync_channel(1);
        let handle =
            std::thread::Builder::new().name(format!("aegisrt-lane-{index}")).spawn(move || {
                // The worker's real-time scheduling ([host]); it runs no job without it.
                let _saved = match threads.apply() {
                    Ok(saved) => {
                        let _ = ready_tx.send(Ok(()));
                        saved
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                // Shortest execution seen per model: the sleep-then-poll hint.
                let mut shortest: std::collections::HashMap<ModelId, Duration> =
                    std::collections::HashMap::new();
                while let Some(job) = next_job(&rx, &clock, &release_hint) {
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
                    let (outcome, gpu_time) = match outcome {
                        Ok(Some(gpu_time)) => {
                            let e = shortest.entry(job.model.clone()).or_insert(gpu_time);
                            *e = (*e).min(gpu_time);
                            (Ok(()), Some(gpu_time))
                        }
                        Ok(None) => (Ok(()), None),
                        Err(e) => (Err(e), None),
                    };
                    let gpu_start = match gpu.as_deref() {
                        Some(g) if on_gpu && outcome.is_ok() => g.gpu_start(),
                        _ => None,
                    };
                    on_done(LaneDone {
                        lane: index,
                        job,
                        start,
                        end,
                        gpu_start,
                        gpu_time,
                        outcome,
                    });
                }
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let _ = handle.join();
                return Err(RuntimeError::Realtime(e));
            }
            // The worker ended before it could answer (it panicked): report it as such.
            Err(_) => {
                let _ = handle.join();
                return Err(RuntimeError::Thread(std::io::Error::other(format!(
                    "lane {index} worker ended while starting"
                ))));
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends 1, 2, 3 from another thread (the second after `pause`), then hangs up.
    fn sender(pause: std::time::Duration) -> Receiver<u32> {
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            tx.send(1).unwrap();
            std::thread::sleep(pause);
            tx.send(2).unwrap();
            tx.send(3).unwrap();
        });
        rx
    }

    fn drain(rx: &Receiver<u32>, clock: &MonotonicClock, hint: &AtomicU64) -> Vec<u32> {
        std::iter::from_fn(|| next_job(rx, clock, hint)).collect()
    }

    #[test]
    fn an_idle_lane_without_a_hint_sleeps_and_still_gets_every_job_then_stops() {
        let clock = MonotonicClock::new();
        let hint = AtomicU64::new(u64::MAX);
        let rx = sender(std::time::Duration::from_millis(12)); // longer than IDLE_RECHECK
        assert_eq!(drain(&rx, &clock, &hint), [1, 2, 3]);
    }

    #[test]
    fn a_lane_polling_around_the_hint_gets_every_job_then_stops() {
        let clock = MonotonicClock::new();
        // The expected release is "now": the worker polls (for DISPATCH_SPIN_AFTER), then
        // sleeps again; both paths must deliver.
        let hint = AtomicU64::new(clock.now().as_nanos());
        let rx = sender(std::time::Duration::from_millis(2));
        assert_eq!(drain(&rx, &clock, &hint), [1, 2, 3]);
        let hint = AtomicU64::new(clock.now().as_nanos() + 1_000_000);
        let rx = sender(std::time::Duration::from_micros(900));
        assert_eq!(drain(&rx, &clock, &hint), [1, 2, 3]);
    }

    #[test]
    fn a_closed_lane_with_nothing_queued_returns_none_at_once() {
        let (tx, rx) = channel::<u32>();
        drop(tx);
        let clock = MonotonicClock::new();
        assert_eq!(next_job(&rx, &clock, &AtomicU64::new(clock.now().as_nanos())), None);
        assert_eq!(next_job(&rx, &clock, &AtomicU64::new(u64::MAX)), None);
    }
}
