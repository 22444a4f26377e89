//! The real-time driver: release timers, dispatch of the scheduler core's decisions to lanes,
//! completion bookkeeping, metrics, trace, clean shutdown.
//!
//! Owns [`Engine`]. Two kinds of threads: the release loop (the caller's thread: sleeps until
//! the next release or the core's next wake-up, publishes that time as the lanes' release hint,
//! releases jobs, ticks the core) and one worker per lane (see [`super::lane`]), which executes
//! a job and then does its completion bookkeeping itself ([`Engine::on_done`]: accounts the job,
//! feeds the core, dispatches what the core decides next — to itself without a thread hand-off).
//! The core (`aegis_sched::scheduler`) is the only place decisions are made; it is behind one
//! mutex, taken for a few microseconds per event.
//! It must not know how models execute (lanes) or which policy is configured (the core).

use super::RuntimeError;
use super::lane::{Lane, LaneDone, LaneJob};
use super::realtime::ThreadPolicy;
use super::records::{Overhead, SAMPLE_CAP, expected_jobs, prefaulted};
use aegis_context::ExecutionContext;
use aegis_sched::scheduler::{Decision, SchedulerCore};
use aegis_trace::{
    Clock, Duration, EventKind, JobRecord, MetricsAggregator, ModelId, MonotonicClock, RequestId,
    Timestamp, TraceCollector, TraceEvent,
};
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

/// One model as the driver releases it.
pub(crate) struct DriverModel {
    pub(crate) name: ModelId,
    pub(crate) ctx: Arc<ExecutionContext>,
    pub(crate) period: Duration,
    pub(crate) offset: Duration,
    pub(crate) jitter: Duration,
    /// The lane its jobs run on (admission's partition).
    pub(crate) lane: u32,
}

/// One finished job, for the report's plots.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct JobSample {
    /// Index of the model in the run's model list.
    pub model: u32,
    /// Release, ns since the run's start.
    pub release_ns: u64,
    /// Start of execution.
    pub start_ns: u64,
    /// End of execution.
    pub end_ns: u64,
    /// Absolute deadline.
    pub deadline_ns: u64,
}

/// Live counters, for the progress line.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Progress {
    /// Time since the start.
    pub elapsed: Duration,
    /// Jobs released.
    pub released: u64,
    /// Jobs completed.
    pub completed: u64,
    /// Deadline misses seen.
    pub misses: u64,
    /// Jobs dropped.
    pub dropped: u64,
    /// Faults contained.
    pub faults: u64,
}

/// Consecutive faulted jobs after which a model is stopped for the rest of the run.
pub(crate) const MAX_FAULT_STREAK: u64 = 3;

struct Counters {
    released: AtomicU64,
    completed: AtomicU64,
    misses: AtomicU64,
    dropped: AtomicU64,
    faults: AtomicU64,
}

/// The shared state of a run.
pub(crate) struct Engine {
    core: Mutex<SchedulerCore>,
    clock: Arc<MonotonicClock>,
    /// Set once, when the run starts its lanes.
    lanes: OnceLock<Vec<Lane>>,
    models: Vec<DriverModel>,
    index: HashMap<ModelId, u32>,
    faulted: Vec<AtomicBool>,
    /// Faulted jobs in a row, per model (reset by a job that completes).
    fault_streak: Vec<AtomicU64>,
    metrics: Arc<MetricsAggregator>,
    trace: Option<Arc<TraceCollector>>,
    samples: Mutex<Vec<JobSample>>,
    overhead: Mutex<Overhead>,
    counters: Counters,
    next_request: AtomicU64,
    in_flight: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// What a run leaves behind.
pub(crate) struct RunOutcome {
    pub(crate) elapsed: Duration,
    pub(crate) samples: Vec<JobSample>,
    pub(crate) overhead: Overhead,
    pub(crate) progress: Progress,
    pub(crate) unfinished: u64,
}

impl Engine {
    pub(crate) fn new(
        core: SchedulerCore,
        clock: Arc<MonotonicClock>,
        models: Vec<DriverModel>,
        metrics: Arc<MetricsAggregator>,
        trace: Option<Arc<TraceCollector>>,
    ) -> Self {
        let index = models.iter().enumerate().map(|(i, m)| (m.name.clone(), i as u32)).collect();
        let faulted = models.iter().map(|_| AtomicBool::new(false)).collect();
        let fault_streak = models.iter().map(|_| AtomicU64::new(0)).collect();
        Engine {
            core: Mutex::new(core),
            clock,
            lanes: OnceLock::new(),
            models,
            index,
            faulted,
            fault_streak,
            metrics,
            trace,
            samples: Mutex::new(Vec::new()),
            overhead: Mutex::new(Overhead::default()),
            counters: Counters {
                released: AtomicU64::new(0),
                completed: AtomicU64::new(0),
                misses: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
                faults: AtomicU64::new(0),
            },
            next_request: AtomicU64::new(1),
            in_flight: AtomicU64::new(0),
        }
    }

    fn progress(&self, start: Timestamp) -> Progress {
        let c = &self.counters;
        Progress {
            elapsed: self.clock.now().saturating_duration_since(start),
            released: c.released.load(Ordering::Relaxed),
            completed: c.completed.load(Ordering::Relaxed),
            misses: c.misses.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            faults: c.faults.load(Ordering::Relaxed),
        }
    }

    /// Acts on the core's decisions (the core lock is held by the caller) and returns the jobs
    /// to hand to lanes, which the caller sends with [`Self::send`] after releasing the lock: a
    /// lane worker woken by the send may preempt the sender on a small machine, and must not do
    /// so while the sender holds the core (measured on the 2-core VM: p99 time in the core fell
    /// from 3.4–4.8 ms to microseconds).
    #[must_use = "the dispatched jobs must be sent to their lanes"]
    fn handle(&self, core: &SchedulerCore, decisions: &mut Vec<Decision>) -> Vec<(u32, LaneJob)> {
        let mut to_send = Vec::new();
        for d in decisions.drain(..) {
            match d {
                Decision::Dispatch { lane, model, request, release, deadline, .. } => {
                    let Some(&m) = self.index.get(&model) else { continue };
                    // The host time of the decision (the core's own `at` is the nominal
                    // release for a job dispatched at its release).
                    let decided = self.clock.now();
                    let job = LaneJob {
                        model,
                        ctx: self.models[m as usize].ctx.clone(),
                        request,
                        release,
                        deadline,
                        dispatched_at: decided,
                        // The release loop moves this back to the start of its core visit.
                        visit_start: decided,
                        dispatched_event: core
                            .dispatched_event(request)
                            .unwrap_or(aegis_trace::EventId::UNASSIGNED),
                    };
                    // Counted now, under the lock: a drain check must never see the job
                    // neither pending in the core nor in flight.
                    self.in_flight.fetch_add(1, Ordering::AcqRel);
                    to_send.push((lane, job));
                }
                Decision::Drop { model, .. } => {
                    self.metrics.record_drop(&model);
                    self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                }
                Decision::Overrun { model, .. } => self.metrics.record_overrun(&model),
                Decision::OverrunWithdrawn { model, .. } => {
                    self.metrics.record_overrun_withdrawn(&model);
                }
                Decision::Completed { met: false, .. } => {
                    self.counters.misses.fetch_add(1, Ordering::Relaxed);
                }
                _ => {}
            }
        }
        to_send
    }

    /// Hands dispatched jobs to their lanes (without the core lock).
    fn send(&self, jobs: Vec<(u32, LaneJob)>) {
        for (lane, job) in jobs {
            let lane = self.lanes.get().and_then(|l| l.get(lane as usize));
            if !lane.is_some_and(|l| l.send(job)) {
                self.in_flight.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }

    /// Returns a faulted model to service at its next release when its fault is clearable
    /// (not a sticky CUDA error) and it has not faulted [`MAX_FAULT_STREAK`] jobs in a row;
    /// otherwise it stays out of the run (its releases are dropped and traced).
    fn try_recover(&self, m: usize, at: Timestamp) -> bool {
        let model = &self.models[m];
        let streak = self.fault_streak[m].load(Ordering::Acquire);
        let clearable = model
            .ctx
            .last_error()
            .is_some_and(|f| f.recovery == aegis_context::Recovery::ClearError);
        if streak >= MAX_FAULT_STREAK || !clearable || model.ctx.clear_error().is_err() {
            return false;
        }
        self.faulted[m].store(false, Ordering::Release);
        if let Some(tr) = &self.trace {
            tr.record(
                TraceEvent::new(EventKind::Recovered, "runtime", at)
                    .model(model.name.clone())
                    .rationale(format!(
                        "fault cleared at the next release ({streak} faulted job(s) in a row; \
                         the model is stopped after {MAX_FAULT_STREAK})"
                    )),
            );
        }
        true
    }

    /// Completion bookkeeping of one finished job, on the lane worker that ran it.
    fn on_done(&self, d: LaneDone) {
        let exec = d.end.saturating_duration_since(d.start);
        let job = &d.job;
        let m = self.index.get(&job.model).copied().unwrap_or(0);
        if let Some(t) = &self.trace {
            t.record(
                TraceEvent::new(EventKind::Started, "runtime", d.start)
                    .model(job.model.clone())
                    .request(job.request)
                    .stream(d.lane)
                    .duration(exec)
                    .rationale("executed on its lane")
                    .parent(job.dispatched_event),
            );
        }
        match &d.outcome {
            Ok(()) => {
                if let Some(s) = self.fault_streak.get(m as usize) {
                    s.store(0, Ordering::Release);
                }
                self.metrics.record_job(&JobRecord {
                    model: job.model.clone(),
                    release: job.release,
                    start: d.start,
                    end: d.end,
                    deadline: job.deadline,
                });
                let mut s = lock(&self.samples);
                if s.len() < SAMPLE_CAP {
                    s.push(JobSample {
                        model: m,
                        release_ns: job.release.as_nanos(),
                        start_ns: d.start.as_nanos(),
                        end_ns: d.end.as_nanos(),
                        deadline_ns: job.deadline.as_nanos(),
                    });
                }
            }
            Err(_) => {
                self.metrics.record_fault(&job.model);
                self.counters.faults.fetch_add(1, Ordering::Relaxed);
                if let Some(s) = self.fault_streak.get(m as usize) {
                    s.fetch_add(1, Ordering::AcqRel);
                }
                if let Some(f) = self.faulted.get(m as usize) {
                    f.store(true, Ordering::Release);
                }
            }
        }
        self.counters.completed.fetch_add(1, Ordering::Relaxed);
        let mut out = Vec::new();
        let t_core = self.clock.now();
        let to_send = {
            let mut core = lock(&self.core);
            // The lane is free whatever the outcome: the core must hear about it. Its budget
            // check sees the model's own work: a GPU job's GPU time, so a lane thread
            // descheduled while it waits (host time, charged by `[host] overhead_us` and
            // reported apart) neither contains the model nor inflates the estimate its
            // contained jobs need a window for.
            let work = d.gpu_time.unwrap_or(exec);
            let _ = core.complete(d.lane, job.request, d.end, work, &mut out);
            core.tick(self.clock.now(), &mut out);
            self.handle(&core, &mut out)
        };
        let core_done = self.clock.now();
        self.send(to_send);
        let done = self.clock.now();
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
        let mut o = lock(&self.overhead);
        if o.bookkeeping.len() < SAMPLE_CAP {
            let bookkeeping = done.saturating_duration_since(d.end).as_nanos();
            let hand_off = d.start.saturating_duration_since(job.dispatched_at).as_nanos();
            let before_start = d.start.saturating_duration_since(job.visit_start).as_nanos();
            o.core_time.push(core_done.saturating_duration_since(t_core).as_nanos());
            o.bookkeeping.push(bookkeeping);
            o.dispatch_to_start.push(hand_off);
            o.host_per_job.push(before_start.saturating_add(bookkeeping));
            if let Some(g) = d.gpu_start {
                o.release_to_gpu_start.push(g.saturating_duration_since(job.release).as_nanos());
            }
        }
        if d.outcome.is_ok() {
            let i = m as usize;
            if o.exec_by_model.len() <= i {
                o.exec_by_model.resize(i + 1, Vec::new());
            }
            if o.exec_by_model[i].len() < SAMPLE_CAP {
                o.exec_by_model[i].push(exec.as_nanos());
            }
        }
    }

    /// Runs for `duration`: starts lanes (`gpu[i]` for lane i), releases jobs, and drains.
    /// `progress` is called about twice a second from the calling thread.
    pub(crate) fn run(
        mut self,
        gpus: Vec<Option<Arc<super::gpu_lane::GpuLane>>>,
        duration: Duration,
        drain_timeout: Duration,
        threads: &ThreadPolicy,
        mut progress: impl FnMut(&Progress),
    ) -> Result<RunOutcome, RuntimeError> {
        // The calling thread releases jobs: under the lanes' policy one priority level up, and
        // it gets its own back when the run ends (`_saved` is dropped last).
        let _saved = threads.for_release().apply()?;
        // Every per-job record is reserved and touched now: none may allocate mid-run.
        let jobs = expected_jobs(self.models.iter().map(|m| m.period), duration);
        *self.overhead.get_mut().unwrap_or_else(PoisonError::into_inner) =
            Overhead::reserved(&jobs);
        *self.samples.get_mut().unwrap_or_else(PoisonError::into_inner) =
            prefaulted(jobs.iter().sum::<usize>().min(SAMPLE_CAP), JobSample::default());
        let engine = Arc::new(self);
        // Per lane: its models' next release or the core's next wake-up (ns on `clock`;
        // `u64::MAX`: none), around which an idle worker polls its queue. Per lane, so a
        // worker does not poll for releases that go to another lane.
        let hints: Vec<Arc<AtomicU64>> =
            gpus.iter().map(|_| Arc::new(AtomicU64::new(u64::MAX))).collect();
        let mut lanes = Vec::with_capacity(gpus.len());
        for (i, gpu) in gpus.into_iter().enumerate() {
            // Each worker holds the engine until `close` below ends it (an intended cycle,
            // broken by closing the lanes).
            let e = engine.clone();
            let on_done = Box::new(move |d: LaneDone| e.on_done(d));
            let (clock, hint) = (engine.clock.clone(), hints[i].clone());
            lanes.push(Lane::start(i as u32, gpu, clock, hint, threads.clone(), on_done)?);
        }
        // `run` consumes the engine, so the lanes are set exactly once, here.
        let _ = engine.lanes.set(lanes);
        // Closes the lanes however this function is left (a panicking progress callback
        // included), so no worker keeps the engine alive.
        let lanes_open = CloseLanes(&engine);
        let start = engine.clock.now();
        let end = start + duration;
        // (next release, model index), earliest first.
        let mut releases: BinaryHeap<Reverse<(Timestamp, u32)>> = engine
            .models
            .iter()
            .enumerate()
            .map(|(i, m)| Reverse((start + m.offset, i as u32)))
            .collect();
        // The next release of each model (what the heap holds, by model).
        let mut next_of: Vec<Timestamp> = engine.models.iter().map(|m| start + m.offset).collect();
        let mut rng = 0x5EED_u64;
        let mut last_progress = start;
        loop {
            let next_release = releases.peek().map(|Reverse((t, _))| *t).unwrap_or(Timestamp::MAX);
            let wakeup = lock(&engine.core).next_wakeup().unwrap_or(Timestamp::MAX);
            let target =
                next_release.min(wakeup).min(end).min(last_progress + Duration::from_millis(500));
            for (lane, hint) in hints.iter().enumerate() {
                let next = engine
                    .models
                    .iter()
                    .zip(&next_of)
                    .filter(|(m, _)| m.lane as usize == lane)
                    .map(|(_, t)| *t)
                    .min()
                    .unwrap_or(Timestamp::MAX);
                hint.store(next.min(wakeup).as_nanos(), Ordering::Release);
            }
            sleep_until(&engine.clock, target);
            let now = engine.clock.now();
            if now >= end {
                break;
            }
            let mut out = Vec::new();
            let mut lateness = Vec::new();
            let t_core = engine.clock.now();
            let mut to_send = {
                let mut core = lock(&engine.core);
                while let Some(Reverse((t, m))) = releases.peek().copied() {
                    if t > now {
                        break;
                    }
                    releases.pop();
                    let model = &engine.models[m as usize];
                    let jitter = if model.jitter.is_zero() {
                        0
                    } else {
                        splitmix(&mut rng) % (model.jitter.as_nanos() + 1)
                    };
                    let next = t + model.period + Duration::from_nanos(jitter);
                    releases.push(Reverse((next, m)));
                    next_of[m as usize] = next;
                    lateness.push(now.saturating_duration_since(t).as_nanos());
                    engine.counters.released.fetch_add(1, Ordering::Relaxed);
                    if engine.faulted[m as usize].load(Ordering::Acquire)
                        && !engine.try_recover(m as usize, t)
                    {
                        engine.metrics.record_drop(&model.name);
                        engine.counters.dropped.fetch_add(1, Ordering::Relaxed);
                        if let Some(tr) = &engine.trace {
                            tr.record(
                                TraceEvent::new(EventKind::Dropped, "runtime", t)
                                    .model(model.name.clone())
                                    .rationale("model faulted: its releases are skipped until it is recovered"),
                            );
                        }
                        continue;
                    }
                    let request = RequestId(engine.next_request.fetch_add(1, Ordering::Relaxed));
                    let _ = core.release(&model.name, request, t, &mut out);
                }
                core.tick(now, &mut out);
                engine.handle(&core, &mut out)
            };
            let core_ns = engine.clock.now().saturating_duration_since(t_core).as_nanos();
            for (_, job) in &mut to_send {
                job.visit_start = t_core;
            }
            engine.send(to_send);
            {
                let mut o = lock(&engine.overhead);
                if o.release_lateness.len() < SAMPLE_CAP {
                    if !lateness.is_empty() {
                        o.release_core.push(core_ns);
                    }
                    o.release_lateness.extend(lateness);
                    o.core_time.push(core_ns);
                }
            }
            if now >= last_progress + Duration::from_millis(500) {
                last_progress = now;
                progress(&engine.progress(start));
            }
        }
        // Drain: no new releases; let released jobs run (their deadlines still count).
        for hint in &hints {
            hint.store(u64::MAX, Ordering::Release);
        }
        let drain_end = engine.clock.now() + drain_timeout;
        loop {
            {
                let mut out = Vec::new();
                let (to_send, idle) = {
                    let mut core = lock(&engine.core);
                    core.tick(engine.clock.now(), &mut out);
                    let to_send = engine.handle(&core, &mut out);
                    let idle = core.pending() == 0 && engine.in_flight.load(Ordering::Acquire) == 0;
                    (to_send, idle)
                };
                engine.send(to_send);
                if idle {
                    break;
                }
            }
            if engine.clock.now() >= drain_end {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let unfinished =
            engine.in_flight.load(Ordering::Acquire) + lock(&engine.core).pending() as u64;
        let elapsed = engine.clock.now().saturating_duration_since(start);
        let final_progress = engine.progress(start);
        progress(&final_progress);
        // Stop the lanes (they finish what they hold and its bookkeeping).
        drop(lanes_open);
        Ok(outcome_of(&engine, elapsed, final_progress, unfinished))
    }
}

/// Closes every lane of the engine when dropped.
struct CloseLanes<'e>(&'e Engine);

impl Drop for CloseLanes<'_> {
    fn drop(&mut self) {
        for l in self.0.lanes.get().into_iter().flatten() {
            l.close();
        }
    }
}

fn outcome_of(e: &Engine, elapsed: Duration, progress: Progress, unfinished: u64) -> RunOutcome {
    RunOutcome {
        elapsed,
        samples: std::mem::take(&mut *lock(&e.samples)),
        overhead: std::mem::take(&mut *lock(&e.overhead)),
        progress,
        unfinished,
    }
}

/// How early the release timer wakes before a release, to poll the last stretch: `sleep`
/// overshoots by tens of microseconds (measured: ADR 0003).
const TIMER_SLACK: Duration = Duration::from_micros(150);

/// Sleeps until `target - TIMER_SLACK`, then polls the clock until `target`.
fn sleep_until(clock: &MonotonicClock, target: Timestamp) {
    let wake = clock.instant_at(target);
    let early = wake.checked_sub(TIMER_SLACK.into()).unwrap_or(wake);
    let now = std::time::Instant::now();
    if early > now {
        std::thread::sleep(early - now);
    }
    while std::time::Instant::now() < wake {
        std::hint::spin_loop();
    }
}
