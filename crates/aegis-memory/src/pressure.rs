//! Memory pressure: levels from usage, and explicit, traced policies.
//!
//! Owns [`PressureHandler`]. Usage is the runtime's memory in use (pool bytes plus resident
//! weights) over its capacity; the level is the highest threshold reached. Each policy in the
//! handler's table acts at and above its trigger level, in table order; every action is a
//! `memory_pressure` trace event and an audit decision. The policies:
//!
//! - [`PressurePolicy::RefuseNewAdmissions`]: while active, [`PressureHandler::admission_allowed`]
//!   refuses with the level and usage; lifted as soon as the level drops below the trigger.
//! - [`PressurePolicy::ShrinkToSharedArenas`]: moves the bound members of each given lane group
//!   into one shared arena ([`MemoryOrchestrator::shrink_to_shared`]); permanent.
//! - [`PressurePolicy::EvictIdleWeights`]: evicts the weights of models idle for at least the
//!   given time (engines that support it), largest first, until the level is below the trigger;
//!   an evicted model is reloaded on demand by [`PressureHandler::ensure_resident`] before its
//!   next job.
//! - [`PressurePolicy::ShedLowestPriority`]: marks the lowest-priority (largest number) bound
//!   model as shed; the runtime drops its releases ([`PressureHandler::is_shed`]) until the level
//!   drops below the trigger.
//!
//! It must not know how the runtime schedules; it is told who is idle and their priorities.

use crate::error::MemoryError;
use crate::orchestrator::MemoryOrchestrator;
use crate::sharing::ExclusivityGroup;
use aegis_trace::{
    Alternative, AuditTrail, Clock, Decision, DecisionKind, Duration, EventKind, ModelId,
    MonotonicClock, Timestamp, TraceCollector, TraceEvent,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// How full memory is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PressureLevel {
    /// Below the elevated threshold.
    Normal,
    /// At or above the elevated threshold.
    Elevated,
    /// At or above the high threshold.
    High,
    /// At or above the critical threshold.
    Critical,
}

/// Usage thresholds, in percent of capacity (integers: no float in a decision).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PressureThresholds {
    /// Elevated from this percentage (default 70).
    pub elevated_pct: u8,
    /// High from this percentage (default 85).
    pub high_pct: u8,
    /// Critical from this percentage (default 95).
    pub critical_pct: u8,
}

impl Default for PressureThresholds {
    fn default() -> Self {
        PressureThresholds { elevated_pct: 70, high_pct: 85, critical_pct: 95 }
    }
}

impl PressureThresholds {
    /// The level of `used` bytes out of `capacity`.
    pub fn level(&self, used: u64, capacity: u64) -> PressureLevel {
        let pct_at_least = |p: u8| u128::from(used) * 100 >= u128::from(capacity) * u128::from(p);
        if capacity == 0 || pct_at_least(self.critical_pct) {
            PressureLevel::Critical
        } else if pct_at_least(self.high_pct) {
            PressureLevel::High
        } else if pct_at_least(self.elevated_pct) {
            PressureLevel::Elevated
        } else {
            PressureLevel::Normal
        }
    }
}

/// A pressure policy (see the module docs for exactly what each does).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PressurePolicy {
    /// Refuse new admissions while active.
    RefuseNewAdmissions,
    /// Move each lane group's bound models into one shared arena.
    ShrinkToSharedArenas {
        /// The groups (models that never run at the same time, e.g. one per GPU lane).
        groups: Vec<ExclusivityGroup>,
    },
    /// Evict weights of models idle at least this long.
    EvictIdleWeights {
        /// Minimum idle time.
        idle_for: Duration,
    },
    /// Shed the lowest-priority model's requests while active.
    ShedLowestPriority,
}

/// What the runtime knows about a model at evaluation time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelActivity {
    /// The model.
    pub model: ModelId,
    /// Its priority (0 highest).
    pub priority: u32,
    /// When its last job ended (None: never ran).
    pub last_job_end: Option<Timestamp>,
    /// Whether a job of it is queued or running now.
    pub busy: bool,
}

/// One action a policy took.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum PressureAction {
    /// Admissions are refused from now on.
    AdmissionsRefused,
    /// Admissions are allowed again.
    AdmissionsAllowed,
    /// Arenas were merged.
    Shrunk {
        /// Pool bytes of bound arenas before.
        before: u64,
        /// After.
        after: u64,
    },
    /// A model's weights were evicted.
    Evicted {
        /// The model.
        model: ModelId,
        /// Bytes freed.
        bytes: u64,
    },
    /// A model's requests are shed from now on.
    Shed {
        /// The model.
        model: ModelId,
    },
    /// A model's requests are accepted again.
    Unshed {
        /// The model.
        model: ModelId,
    },
}

/// The result of one evaluation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PressureReport {
    /// Level before the actions.
    pub level: PressureLevel,
    /// Bytes in use before the actions.
    pub used: u64,
    /// Capacity.
    pub capacity: u64,
    /// What was done, in order.
    pub actions: Vec<PressureAction>,
}

#[derive(Default)]
struct State {
    refusing: Option<(PressureLevel, u64, u64)>,
    shed: BTreeSet<ModelId>,
    evicted: BTreeMap<ModelId, u64>,
}

/// Applies the pressure policies (see the module docs).
pub struct PressureHandler {
    thresholds: PressureThresholds,
    policies: Vec<(PressureLevel, PressurePolicy)>,
    state: Mutex<State>,
    trace: Option<Arc<TraceCollector>>,
    audit: Option<Arc<AuditTrail>>,
    clock: Arc<dyn Clock>,
}

impl PressureHandler {
    /// A handler with `policies`, each `(trigger level, policy)`, applied in order.
    pub fn new(
        thresholds: PressureThresholds,
        policies: Vec<(PressureLevel, PressurePolicy)>,
    ) -> Self {
        PressureHandler {
            thresholds,
            policies,
            state: Mutex::new(State::default()),
            trace: None,
            audit: None,
            clock: Arc::new(MonotonicClock::new()),
        }
    }

    /// Records actions into `trace` and `audit`, timestamped by `clock`.
    pub fn with_observability(
        mut self,
        trace: Option<Arc<TraceCollector>>,
        audit: Option<Arc<AuditTrail>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        self.trace = trace;
        self.audit = audit;
        self.clock = clock;
        self
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The level of `used` out of `capacity`.
    pub fn level(&self, used: u64, capacity: u64) -> PressureLevel {
        self.thresholds.level(used, capacity)
    }

    /// Bytes of weights evicted and not yet restored (subtract from resident usage).
    pub fn evicted_bytes(&self) -> u64 {
        self.lock().evicted.values().sum()
    }

    fn record(
        &self,
        action: &PressureAction,
        level: PressureLevel,
        why: String,
        alternatives: Vec<Alternative>,
    ) {
        let now = self.clock.now();
        let model = match action {
            PressureAction::Evicted { model, .. }
            | PressureAction::Shed { model }
            | PressureAction::Unshed { model } => Some(model.clone()),
            _ => None,
        };
        let mut event = None;
        if let Some(t) = &self.trace {
            let mut e = TraceEvent::new(EventKind::MemoryPressure, "memory.pressure", now)
                .rationale(why.clone())
                .attr("level", format!("{level:?}"))
                .attr("action", serde_json::to_string(action).unwrap_or_default());
            if let Some(m) = &model {
                e = e.model(m.clone());
            }
            event = Some(t.record(e));
        }
        if let Some(a) = &self.audit {
            let mut d = Decision::new(DecisionKind::Pressure, now, format!("{action:?}"), why);
            d.alternatives = alternatives;
            d.model = model;
            d.event = event;
            a.record(d);
        }
    }

    /// Evaluates `used`/`capacity` and applies every policy whose trigger is reached (and
    /// lifts refusals and shedding whose trigger is no longer reached).
    ///
    /// # Errors
    /// The orchestrator failing to shrink arenas.
    pub fn evaluate(
        &self,
        orchestrator: &MemoryOrchestrator,
        used: u64,
        capacity: u64,
        activity: &[ModelActivity],
    ) -> Result<PressureReport, MemoryError> {
        let level = self.level(used, capacity);
        let mut actions = Vec::new();
        let mut remaining = used;
        let now = self.clock.now();
        for (trigger, policy) in &self.policies {
            let active = level >= *trigger;
            match policy {
                PressurePolicy::RefuseNewAdmissions => {
                    let mut st = self.lock();
                    if active && st.refusing.is_none() {
                        st.refusing = Some((level, used, capacity));
                        drop(st);
                        let a = PressureAction::AdmissionsRefused;
                        self.record(
                            &a,
                            level,
                            format!("usage {used}/{capacity} bytes reached {trigger:?}"),
                            vec![],
                        );
                        actions.push(a);
                    } else if !active && st.refusing.is_some() {
                        st.refusing = None;
                        drop(st);
                        let a = PressureAction::AdmissionsAllowed;
                        self.record(
                            &a,
                            level,
                            format!("usage {used}/{capacity} bytes is below {trigger:?}"),
                            vec![],
                        );
                        actions.push(a);
                    } else if active {
                        st.refusing = Some((level, used, capacity));
                    }
                }
                PressurePolicy::ShrinkToSharedArenas { groups } if active => {
                    let (before, after) = orchestrator.shrink_to_shared(groups)?;
                    if after < before {
                        remaining = remaining.saturating_sub(before - after);
                        let a = PressureAction::Shrunk { before, after };
                        self.record(
                            &a,
                            level,
                            format!("merged lane arenas: {before} -> {after} pool bytes"),
                            vec![],
                        );
                        actions.push(a);
                    }
                }
                PressurePolicy::EvictIdleWeights { idle_for } if active => {
                    let mut idle: Vec<(u64, &ModelActivity)> = Vec::new();
                    for m in activity.iter().filter(|m| !m.busy) {
                        let idle_long = m
                            .last_job_end
                            .is_none_or(|t| now.saturating_duration_since(t) >= *idle_for);
                        if idle_long
                            && !self.lock().evicted.contains_key(&m.model)
                            && let Some(ctx) = orchestrator.context(&m.model)
                        {
                            idle.push((ctx.resident_bytes(), m));
                        }
                    }
                    idle.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.model.cmp(&b.1.model)));
                    for (_, m) in idle {
                        if self.level(remaining, capacity) < *trigger {
                            break;
                        }
                        let Some(ctx) = orchestrator.context(&m.model) else { continue };
                        let Ok(bytes) = ctx.with_backend(|b| b.release_weights()) else { continue };
                        remaining = remaining.saturating_sub(bytes);
                        self.lock().evicted.insert(m.model.clone(), bytes);
                        let a = PressureAction::Evicted { model: m.model.clone(), bytes };
                        self.record(
                            &a,
                            level,
                            format!("idle at least {idle_for}; reloaded on its next job"),
                            vec![],
                        );
                        actions.push(a);
                    }
                }
                PressurePolicy::ShedLowestPriority => {
                    let mut st = self.lock();
                    if active {
                        let victim = activity
                            .iter()
                            .filter(|m| !st.shed.contains(&m.model))
                            .max_by(|a, b| a.priority.cmp(&b.priority).then(b.model.cmp(&a.model)));
                        if st.shed.is_empty()
                            && let Some(v) = victim
                        {
                            st.shed.insert(v.model.clone());
                            drop(st);
                            let others: Vec<Alternative> = activity
                                .iter()
                                .filter(|m| m.model != v.model)
                                .map(|m| {
                                    Alternative::new(
                                        m.model.to_string(),
                                        format!(
                                            "priority {} is higher than {}",
                                            m.priority, v.priority
                                        ),
                                    )
                                })
                                .collect();
                            let a = PressureAction::Shed { model: v.model.clone() };
                            self.record(
                                &a,
                                level,
                                format!("lowest priority ({}) at {level:?}", v.priority),
                                others,
                            );
                            actions.push(a);
                        }
                    } else if !st.shed.is_empty() {
                        let shed: Vec<ModelId> = std::mem::take(&mut st.shed).into_iter().collect();
                        drop(st);
                        for model in shed {
                            let a = PressureAction::Unshed { model };
                            self.record(&a, level, format!("usage below {trigger:?}"), vec![]);
                            actions.push(a);
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(PressureReport { level, used, capacity, actions })
    }

    /// Whether a new model may be admitted now.
    ///
    /// # Errors
    /// The reason, naming the level and usage, while the refusal policy is active.
    pub fn admission_allowed(&self) -> Result<(), String> {
        match self.lock().refusing {
            None => Ok(()),
            Some((level, used, cap)) => Err(format!(
                "memory pressure {level:?}: {used} of {cap} bytes in use; new admissions are refused until usage falls below the policy's threshold"
            )),
        }
    }

    /// Whether `model`'s requests are being shed.
    pub fn is_shed(&self, model: &ModelId) -> bool {
        self.lock().shed.contains(model)
    }

    /// Whether `model`'s weights are evicted.
    pub fn is_evicted(&self, model: &ModelId) -> bool {
        self.lock().evicted.contains_key(model)
    }

    /// Reloads `model`'s weights if they were evicted (call before dispatching its job).
    /// Returns true when it reloaded.
    ///
    /// # Errors
    /// The backend failing to restore ([`MemoryError::Context`]); the model stays evicted.
    pub fn ensure_resident(
        &self,
        orchestrator: &MemoryOrchestrator,
        model: &ModelId,
    ) -> Result<bool, MemoryError> {
        if !self.is_evicted(model) {
            return Ok(false);
        }
        let ctx = orchestrator
            .context(model)
            .ok_or_else(|| MemoryError::NotPlanned { model: model.clone() })?;
        ctx.with_backend(|b| b.restore_weights()).map_err(|e| MemoryError::Context(Box::new(e)))?;
        self.lock().evicted.remove(model);
        Ok(true)
    }
}

impl std::fmt::Debug for PressureHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PressureHandler")
            .field("thresholds", &self.thresholds)
            .field("policies", &self.policies.len())
            .finish()
    }
}
