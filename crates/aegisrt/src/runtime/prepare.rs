//! Preparing a run: backends and contexts, WCET profiling, admission, memory.
//!
//! Owns [`prepare`] and [`Prepared`]. Admission adds models one at a time in priority order
//! (0 first) and keeps a model only when the configured policy's non-preemptive test proves
//! every admitted deadline with it, and its activation memory fits what the pool has left.
//! It must not execute jobs (see [`super::exec`]).

use super::RuntimeError;
use super::exec::{DriverModel, Engine};
use super::gpu_lane::GpuLane;
use super::lane::measure;
use super::realtime::ThreadPolicy;
use super::report::{RunReport, build_report};
use crate::backends;
use crate::deployment::{Deployment, ModelDeployment};
use aegis_context::{ContextOptions, ExecutionContext, Placement};
use aegis_cuda::{CudaContext, DeviceMemoryPool, PoolOptions};
use aegis_memory::{AllocationPlan, ExclusivityGroup, MemoryOrchestrator, OrchestratorOptions};
use aegis_sched::TaskParams;
use aegis_sched::analysis::{
    AdmissionConfig, AdmissionController, AdmissionRequest, AdmissionResult, LaneVerdict,
    MemoryCheck,
};
use aegis_sched::scheduler::{CoreConfig, ModelSpec, OverrunConfig, SchedulerCore};
use aegis_sched::wcet::{WcetConfig, WcetProfile, WcetProfiler};
use aegis_trace::{
    Alternative, AuditTrail, Clock, Decision, DecisionKind, Duration, EventId, EventKind,
    MetricsAggregator, ModelId, MonotonicClock, TraceCollector, TraceEvent,
};
use serde::Serialize;
use std::sync::Arc;

/// Where the WCET used for admission came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum WcetSource {
    /// Given in the deployment file (`wcet_us`).
    Given,
    /// Profiled before admission.
    Profiled {
        /// How the bound was computed (EVT method or the explicit fallback).
        method: String,
        /// Samples measured.
        samples: usize,
        /// Largest sample.
        observed_max: Duration,
        /// Whether the samples passed MBPTA's independence / identical-distribution checks.
        iid: bool,
    },
}

impl WcetSource {
    /// Short text for tables.
    pub fn describe(&self) -> String {
        match self {
            WcetSource::Given => "given".into(),
            WcetSource::Profiled { method, samples, .. } => {
                format!("profiled n={samples}: {method}")
            }
        }
    }
}

/// One row of the admission table.
#[derive(Clone, Debug, Serialize)]
pub struct AdmissionRow {
    /// The model.
    pub model: ModelId,
    /// Its backend.
    pub backend: &'static str,
    /// Priority (0 highest).
    pub priority: u32,
    /// Period.
    pub period: Duration,
    /// Relative deadline.
    pub deadline: Duration,
    /// The model's WCET (given or profiled).
    pub wcet: Duration,
    /// Where it came from.
    pub wcet_source: WcetSource,
    /// What the analysis charged per job: the WCET plus the deployment's host overhead
    /// (`[host] overhead_us`).
    pub cost: Duration,
    /// cost / period, for display.
    pub utilisation: f64,
    /// Worst-case response time proven by the analysis (EDF proves the deadline).
    pub worst_case_response_time: Option<Duration>,
    /// Admitted?
    pub admitted: bool,
    /// The analysis' reason (which test, and by how much when refused).
    pub reason: String,
    /// Its lane, when it runs.
    pub lane: Option<u32>,
    /// Runs although refused (`--force`).
    pub forced: bool,
}

pub(crate) struct PModel {
    pub(crate) dep: ModelDeployment,
    pub(crate) ctx: Arc<ExecutionContext>,
    pub(crate) task: TaskParams,
    pub(crate) runs: bool,
    pub(crate) lane: u32,
    pub(crate) admission_event: EventId,
}

/// A deployment ready to run.
pub struct Prepared {
    pub(crate) dep: Deployment,
    pub(crate) clock: Arc<MonotonicClock>,
    pub(crate) trace: Arc<TraceCollector>,
    pub(crate) audit: Arc<AuditTrail>,
    pub(crate) metrics: Arc<MetricsAggregator>,
    pub(crate) models: Vec<PModel>,
    pub(crate) rows: Vec<AdmissionRow>,
    pub(crate) profiles: Vec<(ModelId, WcetProfile)>,
    pub(crate) gpu_lanes: Vec<Option<Arc<GpuLane>>>,
    pub(crate) plan: Option<AllocationPlan>,
    // Kept alive for the run: bindings live in the orchestrator, memory in the pool.
    pub(crate) orchestrator: MemoryOrchestrator,
    _cuda: Option<Arc<CudaContext>>,
}

/// Profiling progress: (model, samples done, samples wanted).
pub type ProfileProgress<'a> = (&'a ModelId, usize, usize);

fn wcrt_of(result: &AdmissionResult, model: &ModelId, deadline: Duration) -> Option<Duration> {
    for lane in &result.analysis_detail.lanes {
        match &lane.verdict {
            Some(LaneVerdict::Rta(r)) => {
                if let Some(t) = r.tasks.iter().find(|t| &t.task == model) {
                    return t.response;
                }
            }
            Some(LaneVerdict::Demand(d)) if lane.tasks.contains(model) => {
                return d.schedulable.then_some(deadline);
            }
            _ => {}
        }
    }
    None
}

fn lane_of(result: &AdmissionResult, model: &ModelId) -> Option<u32> {
    result.analysis_detail.lanes.iter().find(|l| l.tasks.contains(model)).map(|l| l.lane)
}

/// Builds every model, profiles the WCETs that are not given, admits, and binds memory.
/// `force` keeps refused models in the run (to show what admission prevents).
///
/// # Errors
/// A backend, context, CUDA, profiling or memory failure, named by model.
pub fn prepare(
    dep: Deployment,
    force: bool,
    progress: impl FnMut(ProfileProgress<'_>),
) -> Result<Prepared, RuntimeError> {
    prepare_with(dep, force, backends::build, progress)
}

/// [`prepare`] with the engines built by `build` instead of the built-in registry: how an
/// embedder plugs in its own [`aegis_context::RuntimeBackend`] (or wraps a built-in one, e.g.
/// to inject faults in a test) while keeping the deployment file, admission and runtime.
/// `build` is called once per model, in file order, with the CUDA context when any model of
/// the deployment needs the GPU.
///
/// # Errors
/// As [`prepare`], with `build`'s error for the model it failed on.
pub fn prepare_with(
    dep: Deployment,
    force: bool,
    mut build: impl FnMut(
        &ModelDeployment,
        Option<&Arc<CudaContext>>,
    )
        -> Result<Box<dyn aegis_context::RuntimeBackend>, backends::BackendBuildError>,
    mut progress: impl FnMut(ProfileProgress<'_>),
) -> Result<Prepared, RuntimeError> {
    let clock = Arc::new(MonotonicClock::new());
    let capacity = dep.trace_capacity_for(dep.duration);
    let trace = Arc::new(TraceCollector::with_capacity(capacity).unwrap_or_default());
    let audit = Arc::new(AuditTrail::new());
    let metrics = Arc::new(MetricsAggregator::new());
    let needs_gpu = dep.models.iter().any(|m| backends::needs_gpu(&m.backend));
    let cuda = if needs_gpu { Some(CudaContext::new(0)?) } else { None };

    let mut built = Vec::with_capacity(dep.models.len());
    for m in &dep.models {
        let backend = build(m, cuda.as_ref())?;
        let opts = ContextOptions {
            trace: Some(trace.clone()),
            clock: clock.clone(),
            device_memory: cuda.as_ref().map(|c| c.capabilities().memory_total),
        };
        let ctx =
            ExecutionContext::create(m.name.clone(), m.budget, backend, opts).map_err(|e| {
                RuntimeError::Context { model: m.name.to_string(), source: Box::new(e) }
            })?;
        metrics.register(&m.name);
        built.push((m.clone(), ctx));
    }

    let pool = Arc::new(match &cuda {
        Some(c) => DeviceMemoryPool::new(
            c,
            dep.pool_bytes,
            PoolOptions {
                name: "aegisrt".into(),
                trace: Some(trace.clone()),
                clock: clock.clone(),
            },
        )?,
        None => DeviceMemoryPool::host_backed(
            dep.pool_bytes,
            PoolOptions {
                name: "aegisrt".into(),
                trace: Some(trace.clone()),
                clock: clock.clone(),
            },
        )?,
    });
    let orchestrator = MemoryOrchestrator::new(
        pool.clone(),
        OrchestratorOptions {
            trace: Some(trace.clone()),
            clock: clock.clone(),
            ..Default::default()
        },
    );
    let gpu_lanes: Vec<Option<Arc<GpuLane>>> = (0..dep.lanes.get())
        .map(|_| cuda.as_ref().map(GpuLane::new).transpose().map(|g| g.map(Arc::new)))
        .collect::<Result<_, _>>()?;

    // Each model alone: its activation need (for the admission memory check), and the WCET
    // profile of models that do not give one (bound, prepared, measured, released).
    let profiler = WcetProfiler::new(WcetConfig::default())
        .map_err(|e| RuntimeError::Profile { model: "-".into(), reason: e.to_string() })?;
    let mut needs = Vec::with_capacity(built.len());
    let mut profiles = Vec::new();
    let mut wcets = Vec::with_capacity(built.len());
    for (m, ctx) in &built {
        let plan = orchestrator.plan(std::slice::from_ref(ctx), &[], &[])?;
        needs.push(plan.pool_bytes);
        let gpu = gpu_lanes.first().cloned().flatten();
        if ctx.placement() == Placement::Gpu {
            let stream = gpu.as_ref().map(|g| &g.stream);
            ctx.with_backend(|b| b.prepare(stream)).map_err(|e| RuntimeError::Context {
                model: m.name.to_string(),
                source: Box::new(e),
            })?;
        }
        let (wcet, source) = match m.wcet {
            Some(w) => (w, WcetSource::Given),
            None => {
                orchestrator.bind(ctx, &plan)?;
                let n = dep.profile_samples;
                // Back to back, the engine busy as in a loaded run. (Measured at each model's
                // own period, an H200 between jobs produced outliers of tens of milliseconds
                // that made every EVT bound useless: ADR 0003.)
                let pace = None; // back to back: see ADR 0003 on profiling at the period
                let samples =
                    measure(ctx, gpu.as_deref(), 50, n, pace, |done| progress((&m.name, done, n)))
                        .map_err(|e| RuntimeError::Profile {
                            model: m.name.to_string(),
                            reason: e.to_string(),
                        })?;
                orchestrator.release(&m.name)?;
                let p = profiler.profile(&samples).map_err(|e| RuntimeError::Profile {
                    model: m.name.to_string(),
                    reason: e.to_string(),
                })?;
                // EVT extrapolation is valid only for samples that pass MBPTA's i.i.d. checks.
                // When they fail (as measured execution times usually do on a shared machine),
                // admission uses the largest measured time times the profiler's fallback
                // margin, and the table says so; the EVT figure stays in the profile.
                let (bound, method) = if p.meets_mbpta_assumptions {
                    (p.pwcet, format!("{:?}", p.method))
                } else {
                    let margin = profiler.config().fallback_margin;
                    let b =
                        Duration::from_nanos((p.worst.as_nanos() as f64 * margin).ceil() as u64);
                    let why = match p.method {
                        aegis_sched::wcet::PwcetMethod::EmpiricalFallback { .. } => {
                            "not i.i.d.; every EVT fit rejected".to_string()
                        }
                        _ => format!("not i.i.d.: EVT {} not used", p.pwcet),
                    };
                    (b, format!("max x {margin} ({why})"))
                };
                let wcet = Duration::from_micros(bound.as_nanos().div_ceil(1000));
                let src = WcetSource::Profiled {
                    method,
                    samples: p.sample_count,
                    observed_max: p.worst,
                    iid: p.meets_mbpta_assumptions,
                };
                profiles.push((m.name.clone(), p));
                (wcet, src)
            }
        };
        wcets.push((wcet, source));
    }

    // Each model as admission analyses it, and as the scheduler core then holds it: a job costs
    // C = WCET + host overhead, since the lane is busy for its execution and the host work
    // around it. The core's early-miss detection, safe windows for contained work and overrun
    // threshold must use the lane time the analysis proved, not the execution alone (ADR 0006).
    let tasks: Vec<TaskParams> = built
        .iter()
        .zip(&wcets)
        .map(|((m, _), (w, _))| TaskParams {
            name: m.name.clone(),
            wcet: w.saturating_add(dep.host.overhead),
            period: m.period,
            deadline: m.deadline,
            priority: m.priority,
        })
        .collect();

    // Admission, one model at a time in priority order.
    let controller =
        AdmissionController::new(AdmissionConfig::new(dep.policy).with_lanes(dep.lanes));
    let mut order: Vec<usize> = (0..built.len()).collect();
    order.sort_by_key(|&i| built[i].0.priority);
    let mut admitted: Vec<TaskParams> = Vec::new();
    let mut used_pool = 0u64;
    let mut last_ok: Option<AdmissionResult> = None;
    let mut results: Vec<Option<AdmissionResult>> = vec![None; built.len()];
    let mut events = vec![EventId::UNASSIGNED; built.len()];
    for &i in &order {
        let (m, _) = &built[i];
        let task = &tasks[i];
        let memory = Some(MemoryCheck {
            required_bytes: needs[i],
            available_bytes: dep.pool_bytes.saturating_sub(used_pool),
        });
        let r = controller.analyze(&AdmissionRequest { task: task.clone(), memory }, &admitted);
        let kind = if r.admitted { EventKind::Admitted } else { EventKind::Rejected };
        let now = clock.now();
        let ev = trace.record(
            TraceEvent::new(kind, "admission", now)
                .model(m.name.clone())
                .rationale(r.reason.clone())
                .attr("wcet_ns", wcets[i].0.as_nanos())
                .attr("host_overhead_ns", dep.host.overhead.as_nanos())
                .attr("period_ns", task.period.as_nanos())
                .attr("deadline_ns", task.deadline.as_nanos())
                .attr("policy", format!("{:?}", dep.policy)),
        );
        let chosen = if r.admitted { "admit" } else { "refuse" };
        let other = if r.admitted { "refuse" } else { "admit" };
        audit.record(
            Decision::new(DecisionKind::Admission, now, chosen, r.reason.clone())
                .model(m.name.clone())
                .alternative(Alternative::new(
                    other,
                    if r.admitted {
                        "the test proves every admitted deadline with it"
                    } else {
                        "the test cannot prove the deadlines"
                    },
                ))
                .event(ev),
        );
        events[i] = ev;
        if r.admitted {
            admitted.push(task.clone());
            used_pool += needs[i];
            last_ok = Some(r.clone());
        }
        results[i] = Some(r);
    }

    let mut models = Vec::with_capacity(built.len());
    let mut rows = Vec::with_capacity(built.len());
    for (i, (m, ctx)) in built.into_iter().enumerate() {
        let r = results[i].take().expect("every model was analysed");
        let final_lane = last_ok.as_ref().and_then(|l| lane_of(l, &m.name));
        let runs = r.admitted || force;
        let lane = final_lane.unwrap_or(0);
        let wcrt = if r.admitted {
            last_ok.as_ref().and_then(|l| wcrt_of(l, &m.name, m.deadline))
        } else {
            r.worst_case_response_time
        };
        let (wcet, source) = wcets[i].clone();
        let cost = tasks[i].wcet;
        rows.push(AdmissionRow {
            model: m.name.clone(),
            backend: m.backend.name(),
            priority: m.priority,
            period: m.period,
            deadline: m.deadline,
            wcet,
            wcet_source: source,
            cost,
            utilisation: cost.as_nanos() as f64 / m.period.as_nanos() as f64,
            worst_case_response_time: wcrt,
            admitted: r.admitted,
            reason: r.reason.clone(),
            lane: runs.then_some(lane),
            forced: runs && !r.admitted,
        });
        let task = tasks[i].clone();
        models.push(PModel { dep: m, ctx, task, runs, lane, admission_event: events[i] });
    }

    // Memory: one shared arena per lane for the models that run.
    let running: Vec<Arc<ExecutionContext>> =
        models.iter().filter(|m| m.runs).map(|m| m.ctx.clone()).collect();
    let plan = if running.is_empty() {
        None
    } else {
        let groups: Vec<ExclusivityGroup> = (0..dep.lanes.get())
            .map(|l| {
                ExclusivityGroup::new(
                    format!("lane{l}"),
                    models.iter().filter(|m| m.runs && m.lane == l).map(|m| m.dep.name.clone()),
                )
            })
            .filter(|g| !g.models.is_empty())
            .collect();
        let plan = orchestrator.plan(&running, &[], &groups)?;
        plan.check_fits(pool.available())?;
        for c in &running {
            orchestrator.bind(c, &plan)?;
        }
        Some(plan)
    };
    // Warm every running model up on its own lane in its final memory: the first jobs pay lazy
    // kernel loading (cuBLAS: ~150 ms measured on an H200) and cold caches, which must not
    // land on released jobs.
    for m in models.iter().filter(|m| m.runs) {
        let gpu = gpu_lanes.get(m.lane as usize).cloned().flatten();
        let warmup = if m.ctx.placement() == Placement::Gpu { 30 } else { 3 };
        measure(&m.ctx, gpu.as_deref(), warmup, 0, None, |_| {}).map_err(|e| {
            RuntimeError::Profile { model: m.dep.name.to_string(), reason: format!("warm-up: {e}") }
        })?;
    }
    Ok(Prepared {
        dep,
        clock,
        trace,
        audit,
        metrics,
        models,
        rows,
        profiles,
        gpu_lanes,
        plan,
        orchestrator,
        _cuda: cuda,
    })
}

impl Prepared {
    /// The admission table, in priority order.
    pub fn admission(&self) -> Vec<&AdmissionRow> {
        let mut rows: Vec<&AdmissionRow> = self.rows.iter().collect();
        rows.sort_by_key(|r| r.priority);
        rows
    }

    /// The WCET profiles measured during preparation.
    pub fn profiles(&self) -> &[(ModelId, WcetProfile)] {
        &self.profiles
    }

    /// The memory plan of the models that run.
    pub fn memory_plan(&self) -> Option<&AllocationPlan> {
        self.plan.as_ref()
    }

    /// The memory orchestrator holding the run's bindings.
    pub fn orchestrator(&self) -> &MemoryOrchestrator {
        &self.orchestrator
    }

    /// The deployment.
    pub fn deployment(&self) -> &Deployment {
        &self.dep
    }

    /// The trace collected so far (admission events; the run adds the rest).
    pub fn trace(&self) -> &Arc<TraceCollector> {
        &self.trace
    }

    /// The audit trail.
    pub fn audit(&self) -> &Arc<AuditTrail> {
        &self.audit
    }

    /// Runs the admitted (and forced) models for `duration` and reports.
    ///
    /// # Errors
    /// [`RuntimeError::NothingAdmitted`]; the core refusing a model; threads not starting.
    pub fn run(
        &self,
        duration: Duration,
        progress: impl FnMut(&super::Progress),
    ) -> Result<RunReport, RuntimeError> {
        if !self.models.iter().any(|m| m.runs) {
            return Err(RuntimeError::NothingAdmitted);
        }
        let dep = &self.dep;
        let config = CoreConfig::new(dep.policy)
            .with_lanes(dep.lanes)
            .with_late_action(dep.late_action)
            .with_overrun(OverrunConfig {
                action: dep.overrun,
                restore_after: dep.overrun_restore_after,
                grace: dep.overrun_grace,
            });
        let mut core = SchedulerCore::new(config);
        core.attach_trace(self.trace.clone());
        core.attach_audit(self.audit.clone());
        let start = self.clock.now();
        let mut driver = Vec::new();
        for m in self.models.iter().filter(|m| m.runs) {
            let spec = ModelSpec::new(m.task.clone())
                .lane(m.lane)
                .admission_event(m.admission_event)
                .first_release(start + m.dep.offset);
            core.register(spec)?;
            driver.push(DriverModel {
                name: m.dep.name.clone(),
                ctx: m.ctx.clone(),
                period: m.dep.period,
                offset: m.dep.offset,
                jitter: m.dep.sporadic_jitter,
                lane: m.lane,
            });
        }
        let longest =
            self.models.iter().map(|m| m.dep.deadline).max().unwrap_or(Duration::from_secs(1));
        let drain = (longest + longest + Duration::from_secs(1)).min(Duration::from_secs(30));
        let engine = Engine::new(
            core,
            self.clock.clone(),
            driver,
            self.metrics.clone(),
            Some(self.trace.clone()),
        );
        let threads = ThreadPolicy::of(&dep.host);
        let outcome = engine.run(self.gpu_lanes.clone(), duration, drain, &threads, progress)?;
        self.metrics.observe_window(start, start + outcome.elapsed);
        Ok(build_report(self, outcome))
    }
}
