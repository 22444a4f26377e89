//! The baseline AegisRT is compared with: what users do without a runtime.
//!
//! Owns [`run_baseline`]: every model on its own host thread and (GPU) its own CUDA stream,
//! releasing at its period and launching immediately, with no admission, no serialisation and
//! no shared arenas (each model its own). Optionally the streams get CUDA priorities from the
//! models' priorities. Measured the same way as a runtime run (release-to-completion latency,
//! misses, busy fraction). It must not use the scheduler.

use crate::backends;
use crate::deployment::Deployment;
use crate::runtime::{JobSample, busy_fraction, response_columns, response_header};
use aegis_context::{ContextOptions, ExecutionContext, Placement};
use aegis_cuda::{
    CudaContext, CudaEvent, CudaStream, DeviceMemoryPool, EventFlags, PoolOptions, StreamPriority,
};
use aegis_memory::{MemoryOrchestrator, OrchestratorOptions};
use aegis_trace::{
    Clock, Duration, JobRecord, LatencySummary, MetricsAggregator, ModelId, MonotonicClock,
};
use serde::Serialize;
use std::sync::{Arc, Mutex, PoisonError};

/// One model's baseline results.
#[derive(Clone, Debug, Serialize)]
pub struct BaselineModel {
    /// The model.
    pub model: ModelId,
    /// Jobs completed.
    pub jobs: u64,
    /// Release-to-completion latency.
    pub response: LatencySummary,
    /// Completed after the deadline.
    pub deadline_misses: u64,
    /// Releases skipped because the previous job was still running (the thread was late).
    pub skipped: u64,
}

/// A baseline run.
#[derive(Clone, Debug, Serialize)]
pub struct BaselineReport {
    /// Deployment name.
    pub deployment: String,
    /// Whether stream priorities were used.
    pub stream_priorities: bool,
    /// Wall time.
    pub elapsed: Duration,
    /// Per model, in the file's order.
    pub models: Vec<BaselineModel>,
    /// Union of execution intervals / run time.
    pub busy_fraction: f64,
}

/// Runs every model of `dep` on its own thread (and stream) for `duration`.
///
/// # Errors
/// Backend, CUDA or memory failures (`anyhow`: this serves the CLI).
pub fn run_baseline(
    dep: &Deployment,
    duration: Duration,
    stream_priorities: bool,
) -> anyhow::Result<BaselineReport> {
    let cuda = if dep.models.iter().any(|m| backends::needs_gpu(&m.backend)) {
        Some(CudaContext::new(0)?)
    } else {
        None
    };
    let clock = Arc::new(MonotonicClock::new());
    let pool = Arc::new(match &cuda {
        Some(c) => DeviceMemoryPool::new(c, dep.pool_bytes, PoolOptions::default())?,
        None => DeviceMemoryPool::host_backed(dep.pool_bytes, PoolOptions::default())?,
    });
    let orch = MemoryOrchestrator::new(pool, OrchestratorOptions::default());
    let mut contexts = Vec::new();
    for m in &dep.models {
        let b = backends::build(m, cuda.as_ref())?;
        contexts.push(ExecutionContext::create(
            m.name.clone(),
            m.budget,
            b,
            ContextOptions { clock: clock.clone(), ..Default::default() },
        )?);
    }
    // Concurrent models cannot share arenas: each gets its own.
    let plan = orch.plan(&contexts, &[], &[])?;
    for c in &contexts {
        orch.bind(c, &plan)?;
    }
    let metrics = Arc::new(MetricsAggregator::new());
    let samples = Arc::new(Mutex::new(Vec::<JobSample>::new()));
    let start = clock.now() + Duration::from_millis(50);
    let end = start + duration;
    let mut threads = Vec::new();
    for (i, (m, ctx)) in dep.models.iter().zip(&contexts).enumerate() {
        let gpu = match (&cuda, ctx.placement()) {
            (Some(c), Placement::Gpu) => {
                let prio = if stream_priorities {
                    StreamPriority::Level(m.priority)
                } else {
                    StreamPriority::Lowest
                };
                let s = CudaStream::new(c, prio)?;
                ctx.with_backend(|b| b.prepare(Some(&s)))?;
                Some((s, CudaEvent::new(c, EventFlags { timing: false, blocking: true })?))
            }
            _ => None,
        };
        metrics.register(&m.name);
        let (ctx, clock, metrics, samples) =
            (ctx.clone(), clock.clone(), metrics.clone(), samples.clone());
        let (name, period, deadline, offset) = (m.name.clone(), m.period, m.deadline, m.offset);
        threads.push(std::thread::Builder::new().name(format!("baseline-{name}")).spawn(
            move || -> (u64, anyhow::Result<()>) {
                let mut release = start + offset;
                let mut skipped = 0;
                while release < end {
                    let now = clock.now();
                    if release > now {
                        std::thread::sleep(
                            clock
                                .instant_at(release)
                                .saturating_duration_since(std::time::Instant::now()),
                        );
                    }
                    let t0 = clock.now();
                    let r = match &gpu {
                        Some((s, e)) => {
                            ctx.enqueue(s).map_err(anyhow::Error::from).and_then(|_| {
                                s.record_event(e)?;
                                e.synchronize()?;
                                Ok(())
                            })
                        }
                        None => ctx.run().map_err(anyhow::Error::from),
                    };
                    let t1 = clock.now();
                    if let Err(e) = r {
                        return (skipped, Err(e));
                    }
                    metrics.record_job(&JobRecord {
                        model: name.clone(),
                        release,
                        start: t0,
                        end: t1,
                        deadline: release + deadline,
                    });
                    samples.lock().unwrap_or_else(PoisonError::into_inner).push(JobSample {
                        model: i as u32,
                        release_ns: release.as_nanos(),
                        start_ns: t0.as_nanos(),
                        end_ns: t1.as_nanos(),
                        deadline_ns: (release + deadline).as_nanos(),
                    });
                    // Next release; a thread that fell behind skips the releases it missed.
                    release = release + period;
                    while release < t1 {
                        release = release + period;
                        skipped += 1;
                    }
                }
                (skipped, Ok(()))
            },
        )?);
    }
    let mut models = Vec::new();
    for (t, m) in threads.into_iter().zip(&dep.models) {
        let (skipped, r) =
            t.join().map_err(|_| anyhow::anyhow!("baseline thread of {} panicked", m.name))?;
        r?;
        let s =
            metrics.summary(&m.name).ok_or_else(|| anyhow::anyhow!("no metrics for {}", m.name))?;
        models.push(BaselineModel {
            model: m.name.clone(),
            jobs: s.jobs,
            response: s.response,
            deadline_misses: s.deadline_misses,
            skipped,
        });
    }
    let elapsed = clock.now().saturating_duration_since(start);
    let samples = std::mem::take(&mut *samples.lock().unwrap_or_else(PoisonError::into_inner));
    Ok(BaselineReport {
        deployment: dep.name.clone(),
        stream_priorities,
        elapsed,
        models,
        busy_fraction: busy_fraction(&samples, elapsed),
    })
}

impl BaselineReport {
    /// Per-model results as text.
    pub fn table(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let _ = writeln!(s, "{} {:>6} {:>7}", response_header(), "misses", "skipped");
        for m in &self.models {
            let cells = response_columns(m.model.as_str(), m.jobs, &m.response);
            let _ = writeln!(s, "{cells} {:>6} {:>7}", m.deadline_misses, m.skipped);
        }
        let _ = writeln!(s, "busy fraction: {:.3}", self.busy_fraction);
        s
    }
}
