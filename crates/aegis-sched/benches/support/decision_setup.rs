//! Shared set-up of the decision-latency benchmarks: a core with 64 models on one lane and
//! 1,024 pending requests, kept in that steady state.
//!
//! One *decision* is [`Rig::decide`]: `tick(now)` on an idle lane, which chooses the next job
//! by the policy, dispatches it and updates the state (queue, request map, lane). Between
//! decisions, [`Rig::refill`] (not timed) completes the dispatched job and releases one new
//! request, so every decision sees exactly 1,024 pending requests.
//!
//! Scenario notes: 64 sporadic models with 1,024 pending jobs is an overload (16 jobs per
//! model; constrained deadlines allow at most one live job per model), so early miss detection
//! is off — with it on, the core would drop the doomed jobs and the queue would not stay at
//! 1,024. Model `i` has period and deadline `(i + 1)` µs, priority `i`; time advances 1 µs per
//! decision and models release round-robin (each every 64 µs, never faster than its period).

use aegis_sched::TaskParams;
use aegis_sched::analysis::Policy;
use aegis_sched::scheduler::{CoreConfig, Decision, ModelSpec, SchedulerCore};
use aegis_trace::{AuditTrail, Duration, ModelId, RequestId, Timestamp, TraceCollector};
use std::sync::Arc;

pub(crate) const MODELS: u64 = 64;
pub(crate) const PENDING: u64 = 1_024;

/// Which recorders are attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Recording {
    Off,
    Trace,
    Audit,
    Both,
}

impl Recording {
    pub(crate) const ALL: [Recording; 4] =
        [Recording::Off, Recording::Trace, Recording::Audit, Recording::Both];
    pub(crate) fn name(self) -> &'static str {
        match self {
            Recording::Off => "off",
            Recording::Trace => "trace",
            Recording::Audit => "audit",
            Recording::Both => "trace+audit",
        }
    }
}

pub(crate) struct Rig {
    pub core: SchedulerCore,
    names: Vec<ModelId>,
    out: Vec<Decision>,
    now: u64,
    next_request: u64,
    next_model: u64,
    running: Option<RequestId>,
}

impl Rig {
    pub(crate) fn new(policy: Policy, rec: Recording) -> Rig {
        let mut config = CoreConfig::new(policy);
        config.early_miss_detection = false;
        // `AUDIT_ALTERNATIVES=n` lists n losing candidates per audited decision (default 3).
        if let Some(n) = std::env::var("AUDIT_ALTERNATIVES").ok().and_then(|v| v.parse().ok()) {
            config.audit_alternatives = n;
        }
        let mut core = SchedulerCore::new(config);
        if matches!(rec, Recording::Trace | Recording::Both) {
            core.attach_trace(Arc::new(TraceCollector::new()));
        }
        if matches!(rec, Recording::Audit | Recording::Both) {
            core.attach_audit(Arc::new(AuditTrail::with_capacity(10_000).unwrap_or_default()));
        }
        let names: Vec<ModelId> =
            (0..MODELS).map(|i| ModelId::new(format!("model-{i:02}"))).collect();
        for (i, name) in names.iter().enumerate() {
            let t = Duration::from_micros(i as u64 + 1);
            let task = TaskParams {
                name: name.clone(),
                wcet: Duration::from_nanos(1),
                period: t,
                deadline: t,
                priority: i as u32,
            };
            core.register(ModelSpec::new(task)).expect("valid model");
        }
        let mut rig = Rig {
            core,
            names,
            out: Vec::with_capacity(16),
            now: 0,
            next_request: 1,
            next_model: 0,
            running: None,
        };
        for _ in 0..PENDING {
            rig.release_one();
        }
        assert_eq!(rig.core.pending() as u64, PENDING);
        rig
    }

    fn release_one(&mut self) {
        self.now += 1_000;
        let m = &self.names[self.next_model as usize];
        self.next_model = (self.next_model + 1) % MODELS;
        let r = RequestId(self.next_request);
        self.next_request += 1;
        self.core.release(m, r, Timestamp::from_nanos(self.now), &mut self.out).expect("release");
    }

    /// One scheduling decision (timed by the benchmarks).
    #[inline]
    pub(crate) fn decide(&mut self) {
        self.core.tick(Timestamp::from_nanos(self.now), &mut self.out);
    }

    /// Completes the dispatched job and releases a new one (not timed).
    pub(crate) fn refill(&mut self) {
        let Some(Decision::Dispatch { request, .. }) = self.out.pop() else {
            panic!("the decision must be one dispatch, got {:?}", self.out);
        };
        assert!(self.out.is_empty() && self.running.is_none());
        let at = Timestamp::from_nanos(self.now);
        self.core
            .complete(0, request, at, Duration::from_nanos(1), &mut self.out)
            .expect("complete");
        self.out.clear();
        self.release_one();
        debug_assert_eq!(self.core.pending() as u64, PENDING);
    }
}
