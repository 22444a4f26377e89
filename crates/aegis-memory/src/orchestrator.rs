//! The memory orchestrator: plans every model's activation memory, shares arenas between
//! models that never run at the same time, and binds plans to real memory from the runtime's
//! [`DeviceMemoryPool`].
//!
//! Owns [`MemoryOrchestrator`], [`AllocationPlan`] and [`MemoryBinding`]. Only engines that
//! take their activation memory from the runtime (`MemoryRequirements::external_activations`)
//! get arenas from the pool and can share; an engine that allocates its own keeps an isolated
//! activation budget, charged to its context but not to the pool. It must not know how
//! exclusivity is established (the scheduler proves it: one non-preemptive job at a time on a
//! lane) nor any engine.

use crate::error::MemoryError;
use crate::graph::{Op, OpSequence, TensorId};
use crate::lifetime::{LifetimeAnalyzer, TensorLifetime};
use crate::planner::{ArenaPlan, MemoryPlanner, PlannerConfig};
use crate::sharing::{ExclusivityGroup, ModelMemory, SharingPlan, plan_sharing};
use aegis_context::{ActivationRegion, ExecutionContext, MemoryReservation, OpGraph};
use aegis_cuda::{DeviceAllocation, DeviceMemoryPool, POOL_ALIGNMENT};
use aegis_trace::{Clock, EventKind, ModelId, MonotonicClock, TraceCollector, TraceEvent};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Options of an orchestrator.
#[derive(Clone)]
pub struct OrchestratorOptions {
    /// How arenas are planned (alignment, search budgets).
    pub planner: PlannerConfig,
    /// Where plan/bind/release events go.
    pub trace: Option<Arc<TraceCollector>>,
    /// Clock for the events.
    pub clock: Arc<dyn Clock>,
}

impl Default for OrchestratorOptions {
    fn default() -> Self {
        OrchestratorOptions {
            planner: PlannerConfig::default(),
            trace: None,
            clock: Arc::new(MonotonicClock::new()),
        }
    }
}

/// Where a model's activation size came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivationSource {
    /// Planned from tensor lifetimes (a lifetime file or the engine's graph).
    Planned,
    /// The engine's own figure (an opaque workspace, e.g. TensorRT's device memory size).
    EngineReported,
}

/// One model's part of an [`AllocationPlan`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelAllocation {
    /// The model.
    pub model: ModelId,
    /// Weights, bytes (held by the engine).
    pub weights_bytes: u64,
    /// I/O buffers, bytes (held by the engine).
    pub io_bytes: u64,
    /// The activation memory this model needs on its own, bytes (aligned).
    pub activations_isolated_bytes: u64,
    /// Shared activation bytes attributed to it (see [`crate::sharing`]).
    pub activations_shared_bytes: u64,
    /// True when the engine takes activations from the runtime (pool arena, shareable).
    pub runtime_managed: bool,
    /// The arena it is bound into (its group's, or its own); `None` when engine-managed.
    pub arena: Option<String>,
    /// Where the activation size came from.
    pub source: ActivationSource,
    /// The per-tensor layout, when planned from lifetimes.
    #[serde(skip)]
    pub arena_plan: Option<ArenaPlan>,
}

/// One pool arena of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ArenaSpec {
    /// Its key: the exclusivity group's name, or `model:<name>` for a model on its own.
    pub key: String,
    /// Bytes (aligned): the largest need among its members.
    pub bytes: u64,
    /// The models bound into it.
    pub members: Vec<ModelId>,
}

/// The whole deployment's memory plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AllocationPlan {
    /// Per model, in the order given.
    pub models: Vec<ModelAllocation>,
    /// The pool arenas.
    pub arenas: Vec<ArenaSpec>,
    /// Sharing arithmetic over all models (weights, isolated, shared, peak, saved,
    /// opportunities).
    pub sharing: SharingPlan,
    /// Bytes of pool memory the arenas need.
    pub pool_bytes: u64,
}

impl AllocationPlan {
    /// The allocation of `model`.
    pub fn model(&self, model: &ModelId) -> Option<&ModelAllocation> {
        self.models.iter().find(|m| &m.model == model)
    }

    /// Checks the arenas fit `available` pool bytes.
    ///
    /// # Errors
    /// [`MemoryError::PlanDoesNotFit`] with both figures.
    pub fn check_fits(&self, available: u64) -> Result<(), MemoryError> {
        if self.pool_bytes > available {
            return Err(MemoryError::PlanDoesNotFit { needed: self.pool_bytes, available });
        }
        Ok(())
    }
}

/// What a bound model got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MemoryBinding {
    /// The model.
    pub model: ModelId,
    /// Start of its activation region (pool memory), when runtime-managed.
    pub address: Option<u64>,
    /// Bytes of activation memory charged to its budget.
    pub bytes: u64,
    /// The arena's key, when runtime-managed.
    pub arena: Option<String>,
    /// Address of every planned tensor (`address + offset`), when planned from lifetimes.
    pub tensor_addresses: BTreeMap<TensorId, u64>,
}

struct Bound {
    ctx: Arc<ExecutionContext>,
    binding: MemoryBinding,
    _reservation: MemoryReservation,
    arena: Option<Arc<DeviceAllocation>>,
}

#[derive(Default)]
struct State {
    bound: BTreeMap<ModelId, Bound>,
    arenas: HashMap<String, std::sync::Weak<DeviceAllocation>>,
    peak: u64,
}

/// Plans and binds the deployment's activation memory (see the module docs).
pub struct MemoryOrchestrator {
    pool: Arc<DeviceMemoryPool>,
    planner: MemoryPlanner,
    opts: OrchestratorOptions,
    state: Mutex<State>,
}

fn align(bytes: u64) -> u64 {
    bytes.div_ceil(POOL_ALIGNMENT) * POOL_ALIGNMENT
}

/// An engine's [`OpGraph`] as an [`OpSequence`].
pub fn sequence_from_graph(g: &OpGraph) -> OpSequence {
    let mut seq = OpSequence::new();
    let mut tensors: Vec<&(u32, u64)> = g.tensors.iter().collect();
    tensors.sort_by_key(|(id, _)| *id);
    for (id, size) in tensors {
        seq.tensors.push(crate::graph::TensorInfo::new(TensorId(*id), *size));
    }
    seq.graph_inputs = g.inputs.iter().map(|i| TensorId(*i)).collect();
    seq.graph_outputs = g.outputs.iter().map(|i| TensorId(*i)).collect();
    for (ins, outs) in &g.ops {
        seq.push_op(Op::new(
            ins.iter().map(|i| TensorId(*i)).collect::<Vec<_>>(),
            outs.iter().map(|i| TensorId(*i)).collect::<Vec<_>>(),
        ));
    }
    seq
}

impl MemoryOrchestrator {
    /// An orchestrator binding into `pool`.
    pub fn new(pool: Arc<DeviceMemoryPool>, opts: OrchestratorOptions) -> Self {
        MemoryOrchestrator {
            pool,
            planner: MemoryPlanner::new(opts.planner.clone()),
            opts,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The pool it binds into.
    pub fn pool(&self) -> &Arc<DeviceMemoryPool> {
        &self.pool
    }

    fn trace(
        &self,
        kind: EventKind,
        model: &ModelId,
        why: String,
        attrs: &[(&'static str, String)],
    ) {
        if let Some(t) = &self.opts.trace {
            let mut e = TraceEvent::new(kind, "memory", self.opts.clock.now())
                .model(model.clone())
                .rationale(why);
            for (k, v) in attrs {
                e = e.attr(*k, v);
            }
            t.record(e);
        }
    }

    /// Plans the activation memory of `contexts`. `lifetimes` (any models' tensors, by
    /// `owner_model`) are used where given; otherwise the engine's graph when it exposes one;
    /// otherwise the engine's own activation figure. Models in one `exclusivity` group never
    /// run at the same time and share one arena (runtime-managed engines only).
    ///
    /// # Errors
    /// A model given twice, unknown group members, a model in two groups, planner errors, a
    /// backend refusing to describe itself.
    pub fn plan(
        &self,
        contexts: &[Arc<ExecutionContext>],
        lifetimes: &[TensorLifetime],
        exclusivity: &[ExclusivityGroup],
    ) -> Result<AllocationPlan, MemoryError> {
        let mut models = Vec::with_capacity(contexts.len());
        for ctx in contexts {
            let id = ctx.model_id().clone();
            let (req, graph) = ctx
                .with_backend(|b| Ok((b.memory_requirements(), b.graph())))
                .map_err(|e| MemoryError::Context(Box::new(e)))?;
            let mut own: Vec<TensorLifetime> =
                lifetimes.iter().filter(|l| l.owner_model == id).cloned().collect();
            if own.is_empty()
                && let Some(g) = graph
            {
                own = LifetimeAnalyzer::new(id.clone()).analyze(&sequence_from_graph(&g))?;
            }
            let (activations, source, arena_plan) = if own.is_empty() {
                (align(req.activation_bytes), ActivationSource::EngineReported, None)
            } else {
                let p = self.planner.plan(&own)?;
                (align(p.arena_bytes), ActivationSource::Planned, Some(p))
            };
            models.push(ModelAllocation {
                model: id,
                weights_bytes: req.weights_bytes,
                io_bytes: req.io_bytes,
                activations_isolated_bytes: activations,
                activations_shared_bytes: activations,
                runtime_managed: req.external_activations,
                arena: None,
                source,
                arena_plan,
            });
        }
        // Only runtime-managed models can share; the others keep their own activations.
        let managed: HashMap<&ModelId, bool> =
            models.iter().map(|m| (&m.model, m.runtime_managed)).collect();
        let mut groups = Vec::new();
        for g in exclusivity {
            for m in &g.models {
                if !managed.contains_key(m) {
                    return Err(MemoryError::UnknownModel {
                        model: m.clone(),
                        group: g.name.clone(),
                    });
                }
            }
            let members: Vec<ModelId> = g.models.iter().filter(|m| managed[m]).cloned().collect();
            if !members.is_empty() {
                groups.push(ExclusivityGroup::new(g.name.clone(), members));
            }
        }
        let input: Vec<ModelMemory> = models
            .iter()
            .map(|m| ModelMemory {
                model: m.model.clone(),
                weights_bytes: m.weights_bytes,
                activation_arena_bytes: m.activations_isolated_bytes,
            })
            .collect();
        let sharing = plan_sharing(&input, &groups)?;
        let mut arenas: Vec<ArenaSpec> = Vec::new();
        for (m, share) in models.iter_mut().zip(&sharing.models) {
            m.activations_shared_bytes = share.activations_shared_bytes;
            if !m.runtime_managed {
                continue;
            }
            let key = share.group.clone().unwrap_or_else(|| format!("model:{}", m.model));
            m.arena = Some(key.clone());
            match arenas.iter_mut().find(|a| a.key == key) {
                Some(a) => {
                    a.bytes = a.bytes.max(m.activations_isolated_bytes);
                    a.members.push(m.model.clone());
                }
                None => arenas.push(ArenaSpec {
                    key,
                    bytes: m.activations_isolated_bytes,
                    members: vec![m.model.clone()],
                }),
            }
        }
        let pool_bytes = arenas.iter().map(|a| a.bytes).sum();
        for m in &models {
            self.trace(
                EventKind::MemoryPlanned,
                &m.model,
                format!(
                    "{} activation bytes ({:?}), arena {:?}",
                    m.activations_isolated_bytes, m.source, m.arena
                ),
                &[
                    ("weights_bytes", m.weights_bytes.to_string()),
                    ("activations_isolated_bytes", m.activations_isolated_bytes.to_string()),
                    ("activations_shared_bytes", m.activations_shared_bytes.to_string()),
                ],
            );
        }
        Ok(AllocationPlan { models, arenas, sharing, pool_bytes })
    }

    fn arena_for(
        &self,
        st: &mut State,
        plan: &AllocationPlan,
        key: &str,
    ) -> Result<Arc<DeviceAllocation>, MemoryError> {
        if let Some(a) = st.arenas.get(key).and_then(std::sync::Weak::upgrade) {
            return Ok(a);
        }
        let spec =
            plan.arenas.iter().find(|a| a.key == key).ok_or_else(|| MemoryError::InvalidGroup {
                group: key.to_owned(),
                problem: "the plan has no such arena; plan again".into(),
            })?;
        let a = Arc::new(
            self.pool
                .allocate(spec.bytes.max(1), &format!("arena:{key}"))
                .map_err(|e| MemoryError::Pool(Box::new(e)))?,
        );
        st.arenas.insert(key.to_owned(), Arc::downgrade(&a));
        Ok(a)
    }

    /// Binds `ctx`'s model as `plan` says: charges its activation bytes to its budget and,
    /// when runtime-managed, hands its engine the region of its arena (allocating the arena
    /// from the pool for its first member). Call only while the model runs no job.
    ///
    /// # Errors
    /// [`MemoryError::NotPlanned`], [`MemoryError::AlreadyBound`], the budget or backend
    /// refusing ([`MemoryError::Context`]), the pool refusing ([`MemoryError::Pool`]).
    pub fn bind(
        &self,
        ctx: &Arc<ExecutionContext>,
        plan: &AllocationPlan,
    ) -> Result<MemoryBinding, MemoryError> {
        let model = ctx.model_id().clone();
        let alloc =
            plan.model(&model).ok_or_else(|| MemoryError::NotPlanned { model: model.clone() })?;
        let mut st = self.lock();
        if st.bound.contains_key(&model) {
            return Err(MemoryError::AlreadyBound { model });
        }
        let bytes = alloc.activations_isolated_bytes;
        let reservation = ctx
            .reserve_memory(bytes, "activations")
            .map_err(|e| MemoryError::Context(Box::new(e)))?;
        let (arena, address) = match &alloc.arena {
            Some(key) => {
                let arena = self.arena_for(&mut st, plan, key)?;
                let region =
                    ActivationRegion { address: arena.address(), bytes, memory: arena.memory() };
                ctx.with_backend(|b| b.bind_activation_memory(region))
                    .map_err(|e| MemoryError::Context(Box::new(e)))?;
                let address = arena.address();
                (Some(arena), Some(address))
            }
            None => (None, None),
        };
        let tensor_addresses = match (&alloc.arena_plan, address) {
            (Some(p), Some(base)) => p.offsets.iter().map(|(t, o)| (*t, base + o)).collect(),
            _ => BTreeMap::new(),
        };
        let binding = MemoryBinding {
            model: model.clone(),
            address,
            bytes,
            arena: alloc.arena.clone(),
            tensor_addresses,
        };
        st.bound.insert(
            model.clone(),
            Bound { ctx: ctx.clone(), binding: binding.clone(), _reservation: reservation, arena },
        );
        let usage = Self::usage_of(&st);
        st.peak = st.peak.max(usage);
        drop(st);
        self.trace(
            EventKind::MemoryBound,
            &model,
            format!("bound {bytes} activation bytes in {:?}", binding.arena),
            &[("address", format!("{:#x}", address.unwrap_or(0))), ("bytes", bytes.to_string())],
        );
        Ok(binding)
    }

    /// Unbinds `model`: its budget charge is given back, and its arena returns to the pool
    /// when no other model is bound into it.
    ///
    /// # Errors
    /// [`MemoryError::NotPlanned`] when it is not bound.
    pub fn release(&self, model: &ModelId) -> Result<(), MemoryError> {
        let removed = self.lock().bound.remove(model);
        match removed {
            Some(b) => {
                drop(b);
                self.trace(
                    EventKind::MemoryReleased,
                    model,
                    "activation memory released".into(),
                    &[],
                );
                Ok(())
            }
            None => Err(MemoryError::NotPlanned { model: model.clone() }),
        }
    }

    fn usage_of(st: &State) -> u64 {
        let mut seen = std::collections::HashSet::new();
        st.bound
            .values()
            .filter_map(|b| b.arena.as_ref())
            .filter(|a| seen.insert(a.address()))
            .map(|a| a.reserved())
            .sum()
    }

    /// Pool bytes held by bound arenas now.
    pub fn current_usage(&self) -> u64 {
        Self::usage_of(&self.lock())
    }

    /// Highest [`Self::current_usage`] seen.
    pub fn peak_usage(&self) -> u64 {
        self.lock().peak
    }

    /// The binding of `model`, if bound.
    pub fn binding(&self, model: &ModelId) -> Option<MemoryBinding> {
        self.lock().bound.get(model).map(|b| b.binding.clone())
    }

    /// Models bound now, by name.
    pub fn bound_models(&self) -> Vec<ModelId> {
        self.lock().bound.keys().cloned().collect()
    }

    /// The context of a bound model.
    pub fn context(&self, model: &ModelId) -> Option<Arc<ExecutionContext>> {
        self.lock().bound.get(model).map(|b| b.ctx.clone())
    }

    /// Moves the bound, runtime-managed members of each group into one shared arena per group
    /// (the largest member's size) and returns the pool bytes before and after. Old arenas
    /// return to the pool once no member uses them. Call only while none of these models runs
    /// a job.
    ///
    /// # Errors
    /// The pool or a backend refusing; members keep their old arenas on a pool refusal.
    pub fn shrink_to_shared(&self, groups: &[ExclusivityGroup]) -> Result<(u64, u64), MemoryError> {
        let before = self.current_usage();
        for g in groups {
            let mut st = self.lock();
            let members: Vec<ModelId> = g
                .models
                .iter()
                .filter(|m| st.bound.get(*m).is_some_and(|b| b.arena.is_some()))
                .cloned()
                .collect();
            let distinct: std::collections::HashSet<u64> = members
                .iter()
                .filter_map(|m| st.bound[m].arena.as_ref().map(|a| a.address()))
                .collect();
            if members.len() < 2 || distinct.len() < 2 {
                continue;
            }
            let bytes = members.iter().map(|m| st.bound[m].binding.bytes).max().unwrap_or(0);
            let key = format!("shared:{}", g.name);
            let arena = Arc::new(
                self.pool
                    .allocate(bytes.max(1), &format!("arena:{key}"))
                    .map_err(|e| MemoryError::Pool(Box::new(e)))?,
            );
            st.arenas.insert(key.clone(), Arc::downgrade(&arena));
            for m in &members {
                let b = st.bound.get_mut(m).expect("member is bound");
                let region = ActivationRegion {
                    address: arena.address(),
                    bytes: b.binding.bytes,
                    memory: arena.memory(),
                };
                b.ctx
                    .with_backend(|be| be.bind_activation_memory(region))
                    .map_err(|e| MemoryError::Context(Box::new(e)))?;
                let old_base = b.binding.address.unwrap_or(0);
                for a in b.binding.tensor_addresses.values_mut() {
                    *a = *a - old_base + arena.address();
                }
                b.arena = Some(arena.clone());
                b.binding.address = Some(arena.address());
                b.binding.arena = Some(key.clone());
            }
        }
        let after = self.current_usage();
        Ok((before, after))
    }
}

impl std::fmt::Debug for MemoryOrchestrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryOrchestrator")
            .field("bound", &self.bound_models())
            .field("usage", &self.current_usage())
            .finish()
    }
}
