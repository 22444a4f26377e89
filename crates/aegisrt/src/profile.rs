//! Profiling one model of a deployment on its backend (for `aegisrt profile`).
//!
//! Owns [`profile_model`]: build the engine, bind its memory, measure back-to-back executions,
//! fit the WCET profile. It must not admit or schedule.

use crate::backends;
use crate::deployment::Deployment;
use aegis_context::{ContextOptions, ExecutionContext, Placement};
use aegis_cuda::{
    CudaContext, CudaEvent, CudaStream, DeviceMemoryPool, EventFlags, GemmWorkload, PoolOptions,
    StreamPriority,
};
use aegis_memory::{MemoryOrchestrator, OrchestratorOptions};
use aegis_sched::wcet::{HoldoutReport, WcetConfig, WcetProfile, WcetProfiler, holdout_check};
use aegis_trace::{Clock, Duration, MonotonicClock};
use std::sync::Arc;

/// What `aegisrt profile` measures beyond the profile itself.
#[derive(Clone, Debug, Default)]
pub struct ProfileOptions {
    /// Measure this many further executions, not used for the fit, and check the pWCET
    /// against them.
    pub holdout: usize,
    /// Also measure under a co-running, unmanaged GPU load (a cuBLAS SGEMM loop of this size on
    /// another stream and thread) and report the contention factor.
    pub co_runner_gemm: Option<usize>,
}

/// The profile and what else was asked.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ProfileResult {
    /// The WCET profile (of the loaded samples when a co-runner was asked, with the contention
    /// factor against the isolated ones).
    pub profile: WcetProfile,
    /// The isolated profile, when a co-runner was asked.
    pub isolated: Option<WcetProfile>,
    /// The held-out check.
    pub holdout: Option<HoldoutReport>,
    /// MBPTA's i.i.d. assumptions, in a sentence.
    pub iid_note: String,
}

/// Measures `samples` executions of `model` (after 10 warm-up ones) and returns its WCET
/// profile and a sentence on MBPTA's i.i.d. assumptions.
///
/// # Errors
/// Unknown model, backend, CUDA, memory or profiling failures (`anyhow`: this serves the CLI).
pub fn profile_model(
    dep: &Deployment,
    model: &str,
    samples: usize,
    progress: impl FnMut(usize, usize),
) -> anyhow::Result<(WcetProfile, String)> {
    let r = profile_model_with(dep, model, samples, &ProfileOptions::default(), progress)?;
    Ok((r.profile, r.iid_note))
}

/// [`profile_model`] with a held-out check and/or a co-runner.
///
/// # Errors
/// As [`profile_model`].
pub fn profile_model_with(
    dep: &Deployment,
    model: &str,
    samples: usize,
    opts: &ProfileOptions,
    mut progress: impl FnMut(usize, usize),
) -> anyhow::Result<ProfileResult> {
    let m = dep
        .model(model)
        .ok_or_else(|| anyhow::anyhow!("{}: no model named {model:?}", dep.file.display()))?;
    let cuda = if backends::needs_gpu(&m.backend) { Some(CudaContext::new(0)?) } else { None };
    let backend = backends::build(m, cuda.as_ref())?;
    let ctx =
        ExecutionContext::create(m.name.clone(), m.budget, backend, ContextOptions::default())?;
    let pool = Arc::new(match &cuda {
        Some(c) => DeviceMemoryPool::new(c, dep.pool_bytes, PoolOptions::default())?,
        None => DeviceMemoryPool::host_backed(dep.pool_bytes, PoolOptions::default())?,
    });
    let orch = MemoryOrchestrator::new(pool, OrchestratorOptions::default());
    let plan = orch.plan(std::slice::from_ref(&ctx), &[], &[])?;
    orch.bind(&ctx, &plan)?;
    let gpu = match &cuda {
        Some(c) => Some((
            CudaStream::new(c, StreamPriority::Level(0))?,
            CudaEvent::new(c, EventFlags { timing: false, blocking: true })?,
        )),
        None => None,
    };
    if ctx.placement() == Placement::Gpu {
        ctx.with_backend(|b| b.prepare(gpu.as_ref().map(|g| &g.0)))?;
    }
    let clock = MonotonicClock::new();
    let total = samples + opts.holdout + opts.co_runner_gemm.map_or(0, |_| samples);
    let mut done = 0;
    let mut measure = |n: usize| -> anyhow::Result<Vec<Duration>> {
        let mut times = Vec::with_capacity(n);
        for i in 0..10 + n {
            let t0 = clock.now();
            match &gpu {
                Some((s, e)) if ctx.placement() == Placement::Gpu => {
                    ctx.enqueue(s)?;
                    s.record_event(e)?;
                    e.synchronize()?;
                }
                _ => ctx.run()?,
            }
            if i >= 10 {
                times.push(clock.now().saturating_duration_since(t0));
                done += 1;
                progress(done, total);
            }
        }
        Ok(times)
    };
    let times = measure(samples)?;
    let held = if opts.holdout > 0 { Some(measure(opts.holdout)?) } else { None };
    let loaded = match (opts.co_runner_gemm, &cuda) {
        (Some(n), Some(c)) => {
            let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let (c2, stop2) = (c.clone(), stop.clone());
            let load = std::thread::spawn(move || -> anyhow::Result<u64> {
                let s = CudaStream::new(&c2, StreamPriority::Lowest)?;
                let mut g = GemmWorkload::new(&c2, n, &s)?;
                let mut launched = 0;
                let looped = (|| -> anyhow::Result<()> {
                    while !stop2.load(std::sync::atomic::Ordering::Acquire) {
                        g.launch(&s)?;
                        launched += 1;
                        if launched % 4 == 0 {
                            s.synchronize()?;
                        }
                    }
                    Ok(())
                })();
                // Whatever ended the loop, the GEMMs still in flight read the workload's
                // buffers: wait for them before the workload (and its memory) is dropped.
                let synced = s.synchronize();
                drop(g);
                looped?;
                synced?;
                Ok(launched)
            });
            std::thread::sleep(std::time::Duration::from_millis(200));
            let r = measure(samples);
            stop.store(true, std::sync::atomic::Ordering::Release);
            let launched =
                load.join().map_err(|_| anyhow::anyhow!("co-runner thread panicked"))??;
            anyhow::ensure!(launched > 0, "the co-runner never ran");
            Some(r?)
        }
        (Some(_), None) => anyhow::bail!("--co-runner-gemm needs a GPU model"),
        (None, _) => None,
    };
    let profiler = WcetProfiler::new(WcetConfig::default())?;
    let isolated = profiler.profile(&times)?;
    let (profile, isolated) = match &loaded {
        Some(l) => (profiler.profile_with_contention(&times, l)?, Some(isolated)),
        None => (isolated, None),
    };
    let holdout = match &held {
        Some(h) => Some(holdout_check(isolated.as_ref().unwrap_or(&profile), h)?),
        None => None,
    };
    let iid_note = if profile.meets_mbpta_assumptions {
        "the samples passed the independence and identical-distribution checks MBPTA requires"
            .to_owned()
    } else {
        "the samples FAILED MBPTA's independence / identical-distribution checks: treat the pWCET as an estimate, not a bound".to_owned()
    };
    Ok(ProfileResult { profile, isolated, holdout, iid_note })
}
