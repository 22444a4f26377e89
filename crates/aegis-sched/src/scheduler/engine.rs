//! The scheduler core: [`SchedulerCore`], its construction, queries and the inputs that change
//! its state (register, release, complete, cancel, restore, rebind).
//!
//! Owns the state transitions of jobs and models. The per-tick work (overrun and early miss
//! detection, dispatch, safe windows) is in `dispatch`; trace and audit records in `record`.
//! It must not read a clock, sleep, or perform I/O.

use super::config::{CoreConfig, OverrunAction};
use super::decision::{Decision, DropReason};
use super::error::CoreError;
use super::input::{Input, InputLog};
use super::model::ModelSpec;
use super::state::{Job, JobEvents, LaneState, Loc, ModelState};
use crate::policy::{JobView, SchedulingPolicy, policy_for};
use crate::task::validate_task;
use aegis_trace::{AuditTrail, Duration, EventId, ModelId, RequestId, Timestamp, TraceCollector};
use std::collections::HashMap;
use std::sync::Arc;

/// Why a contained model is restored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RestoreCause {
    /// `restore_after` consecutive jobs within budget.
    GoodStreak,
    /// [`SchedulerCore::restore`].
    Caller,
    /// The overrun that began the containment was withdrawn.
    Withdrawn,
}

/// The deterministic scheduler state machine (see the module docs of [`super`]).
pub struct SchedulerCore {
    pub(super) config: CoreConfig,
    pub(super) policy: Box<dyn SchedulingPolicy>,
    pub(super) models: Vec<ModelState>,
    pub(super) index: HashMap<ModelId, u32>,
    pub(super) requests: HashMap<RequestId, Loc>,
    pub(super) lanes: Vec<LaneState>,
    pub(super) now: Timestamp,
    pub(super) seq: u64,
    pub(super) trace: Option<Arc<TraceCollector>>,
    pub(super) audit: Option<Arc<AuditTrail>>,
    log: Option<InputLog>,
}

impl std::fmt::Debug for SchedulerCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchedulerCore")
            .field("policy", &self.policy.name())
            .field("lanes", &self.lanes.len())
            .field("models", &self.models.len())
            .field("live_requests", &self.requests.len())
            .field("now", &self.now)
            .finish()
    }
}

impl SchedulerCore {
    /// A core for `config`, dispatching with the policy that matches `config.policy`.
    pub fn new(config: CoreConfig) -> Self {
        Self::with_policy(config, policy_for(config.policy))
    }

    /// A core with a custom dispatch policy (its [`SchedulingPolicy::policy`] should name the
    /// admission test that covers it). [`super::replay`] rebuilds the policy from
    /// `config.policy`; replay a custom policy with [`SchedulerCore::apply`].
    pub fn with_policy(config: CoreConfig, policy: Box<dyn SchedulingPolicy>) -> Self {
        let lanes = (0..config.lanes.get()).map(|_| LaneState::default()).collect();
        SchedulerCore {
            config,
            policy,
            models: Vec::new(),
            index: HashMap::new(),
            requests: HashMap::new(),
            lanes,
            now: Timestamp::ZERO,
            seq: 0,
            trace: None,
            audit: None,
            log: None,
        }
    }

    /// Records every decision's events (with causal parents) into `trace` from now on.
    pub fn attach_trace(&mut self, trace: Arc<TraceCollector>) {
        self.trace = Some(trace);
    }

    /// Records every decision, with the alternatives considered, into `audit` from now on.
    pub fn attach_audit(&mut self, audit: Arc<AuditTrail>) {
        self.audit = Some(audit);
    }

    /// Starts recording every input (an empty log) for [`super::replay`].
    pub fn record_inputs(&mut self) {
        self.log = Some(InputLog::new());
    }

    /// The inputs recorded so far, if recording.
    pub fn input_log(&self) -> Option<&InputLog> {
        self.log.as_ref()
    }

    /// Takes the recorded inputs and stops recording.
    pub fn take_input_log(&mut self) -> Option<InputLog> {
        self.log.take()
    }

    /// The configuration.
    pub fn config(&self) -> &CoreConfig {
        &self.config
    }

    /// The dispatch policy.
    pub fn policy(&self) -> &dyn SchedulingPolicy {
        self.policy.as_ref()
    }

    /// The latest time the core has seen.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// The registered models, in registration order.
    pub fn models(&self) -> impl Iterator<Item = &ModelSpec> {
        self.models.iter().map(|m| &m.spec)
    }

    /// The registration index of `model`.
    pub fn index_of(&self, model: &ModelId) -> Option<u32> {
        self.index.get(model).copied()
    }

    /// Whether `model` is contained after an overrun (`None`: not registered).
    pub fn is_contained(&self, model: &ModelId) -> Option<bool> {
        self.index_of(model).map(|i| self.models[i as usize].contained)
    }

    /// The longest execution time observed for `model` (`None`: not registered).
    pub fn observed_max(&self, model: &ModelId) -> Option<Duration> {
        self.index_of(model).map(|i| self.models[i as usize].observed_max)
    }

    /// Jobs queued on `lane` (0 for a lane that does not exist).
    pub fn queued(&self, lane: u32) -> usize {
        self.lanes.get(lane as usize).map_or(0, LaneState::queued)
    }

    /// Jobs queued on every lane.
    pub fn pending(&self) -> usize {
        self.lanes.iter().map(LaneState::queued).sum()
    }

    /// The request running on `lane`, if any.
    pub fn running(&self, lane: u32) -> Option<RequestId> {
        self.lanes.get(lane as usize)?.running.as_ref().map(|j| j.request)
    }

    /// The `dispatched` trace event of a running request (the parent for a runtime's
    /// `started` event); `None` when not running or not tracing.
    pub fn dispatched_event(&self, request: RequestId) -> Option<EventId> {
        let Some(Loc::Running { lane }) = self.requests.get(&request) else { return None };
        let ev = self.lanes[*lane as usize].running.as_ref()?.events.dispatched;
        (ev != EventId::UNASSIGNED).then_some(ev)
    }

    pub(super) fn log(&mut self, input: impl FnOnce() -> Input) {
        if let Some(log) = &mut self.log {
            log.inputs.push(input());
        }
    }

    pub(super) fn advance(&mut self, t: Timestamp) {
        self.now = self.now.max(t);
    }

    /// Applies one recorded input (release, completion, …, or a tick), appending decisions to
    /// `out`.
    ///
    /// # Errors
    /// As the corresponding method.
    pub fn apply(&mut self, input: &Input, out: &mut Vec<Decision>) -> Result<(), CoreError> {
        match input {
            Input::Register { spec } => self.register(spec.clone()).map(|_| ()),
            Input::Release { model, request, at } => self.release(model, *request, *at, out),
            Input::Complete { lane, request, at, exec } => {
                self.complete(*lane, *request, *at, *exec, out)
            }
            Input::Cancel { request, at } => self.cancel(*request, *at, out),
            Input::Tick { now } => {
                self.tick(*now, out);
                Ok(())
            }
            Input::Restore { model, at } => self.restore(model, *at, out),
            Input::Rebind { model, lane } => self.rebind(model, *lane),
        }
    }

    /// Registers an admitted model and returns its index. Register models only after the
    /// admission controller admitted them with this policy and lane count: the core enforces
    /// budgets and isolation, not schedulability.
    ///
    /// # Errors
    /// Invalid task parameters, a zero budget, a lane out of range, or a duplicate name.
    pub fn register(&mut self, spec: ModelSpec) -> Result<u32, CoreError> {
        self.log(|| Input::Register { spec: spec.clone() });
        validate_task(&spec.task)?;
        let model = spec.task.name.clone();
        if spec.budget.is_some_and(Duration::is_zero) {
            return Err(CoreError::ZeroBudget { model });
        }
        let lanes = self.config.lanes.get();
        if spec.lane >= lanes {
            return Err(CoreError::LaneOutOfRange { model, lane: spec.lane, lanes });
        }
        if self.index.contains_key(&model) {
            return Err(CoreError::DuplicateModel { model });
        }
        let idx = u32::try_from(self.models.len()).unwrap_or(u32::MAX);
        self.lanes[spec.lane as usize].models.push(idx);
        self.index.insert(model, idx);
        self.models.push(ModelState::new(spec, self.now));
        Ok(idx)
    }

    /// A job of `model` was released at `at`. Its absolute deadline is `at` + the model's
    /// relative deadline. The job is queued (or dropped: too early for the model's minimum
    /// inter-arrival time, or skipped after an overrun); nothing is dispatched until
    /// [`SchedulerCore::tick`].
    ///
    /// # Errors
    /// Unknown model or a request id that is still live.
    pub fn release(
        &mut self,
        model: &ModelId,
        request: RequestId,
        at: Timestamp,
        out: &mut Vec<Decision>,
    ) -> Result<(), CoreError> {
        self.log(|| Input::Release { model: model.clone(), request, at });
        let m =
            self.index_of(model).ok_or_else(|| CoreError::UnknownModel { model: model.clone() })?;
        if self.requests.contains_key(&request) {
            return Err(CoreError::DuplicateRequest { request });
        }
        self.advance(at);
        let submitted = self.ev_submitted(m, request, at);
        let ms = &mut self.models[m as usize];
        if let Some(last) = ms.last_release {
            let earliest = last + ms.spec.task.period;
            if at < earliest {
                self.drop_unqueued(
                    m,
                    request,
                    at,
                    DropReason::ReleaseTooEarly { earliest },
                    submitted,
                    out,
                );
                return Ok(());
            }
        }
        ms.last_release = Some(at);
        if self.starved(m, at) {
            self.begin_probation(m, at);
        }
        let ms = &mut self.models[m as usize];
        if ms.skip_pending > 0 {
            ms.skip_pending -= 1;
            self.drop_unqueued(m, request, at, DropReason::OverrunSkip, submitted, out);
            return Ok(());
        }
        let deadline = at + ms.spec.task.deadline;
        let view =
            JobView { release: at, deadline, priority: ms.spec.task.priority, seq: self.seq };
        self.seq += 1;
        let key = self.policy.key(&view);
        let queued = self.ev_queued(m, request, at, submitted);
        let job = Job {
            model: m,
            request,
            release: at,
            deadline,
            key,
            watch: None,
            since: Timestamp::ZERO,
            estimate: Duration::ZERO,
            flagged: false,
            late_reported: false,
            events: JobEvents { queued, dispatched: EventId::UNASSIGNED },
        };
        self.enqueue(job);
        Ok(())
    }

    /// Inserts a job into its model's lane: the ready or background queue, and the watch
    /// index when early detection applies.
    pub(super) fn enqueue(&mut self, mut job: Job) {
        let ms = &self.models[job.model as usize];
        let lane = ms.spec.lane;
        let background = ms.contained;
        if self.watches(ms) && (!job.late_reported || self.drops_late(ms)) {
            let latest = Timestamp::from_nanos(
                job.deadline.as_nanos().saturating_sub(ms.estimate().as_nanos()),
            );
            job.watch = Some(latest);
            self.lanes[lane as usize].watch.insert((latest, job.key.seq), job.request);
        }
        self.requests.insert(job.request, Loc::Queued { lane, key: job.key, background });
        self.lanes[lane as usize].queue_mut(background).insert(job.key, job);
    }

    /// True when jobs of `ms` are checked for early misses.
    pub(super) fn watches(&self, ms: &ModelState) -> bool {
        self.config.early_miss_detection
            || (ms.contained && self.config.overrun.action == OverrunAction::DropLateJobs)
    }

    /// True when a late queued job of `ms` is dropped rather than kept.
    pub(super) fn drops_late(&self, ms: &ModelState) -> bool {
        self.config.late_action == super::LateAction::Drop
            || (ms.contained && self.config.overrun.action == OverrunAction::DropLateJobs)
    }

    /// Removes a queued job from its queue and the watch index.
    pub(super) fn dequeue(&mut self, request: RequestId) -> Option<Job> {
        let Some(&Loc::Queued { lane, key, background }) = self.requests.get(&request) else {
            return None;
        };
        self.requests.remove(&request);
        let l = &mut self.lanes[lane as usize];
        let job = l.queue_mut(background).remove(&key)?;
        if let Some(latest) = job.watch {
            l.watch.remove(&(latest, job.key.seq));
        }
        Some(job)
    }

    /// Re-files every queued job of model `m` (after containment, restoration, a new observed
    /// worst): queue, background flag and latest start follow the model's state.
    pub(super) fn refile_model(&mut self, m: u32) {
        let none = self.refile_model_except(m, |_| false);
        debug_assert!(none.is_empty());
    }

    /// [`Self::refile_model`], except for the queued jobs `doomed` picks: those are dequeued
    /// and returned, for the caller to drop.
    fn refile_model_except(&mut self, m: u32, doomed: impl Fn(&Job) -> bool) -> Vec<Job> {
        let lane = self.models[m as usize].spec.lane;
        let (doomed, keep): (Vec<Job>, Vec<Job>) =
            self.take_queued(m, lane).into_iter().partition(doomed);
        self.file_all(keep);
        self.lanes[lane as usize].deferred = None;
        doomed
    }

    /// Dequeues every queued job of model `m` on `lane`.
    fn take_queued(&mut self, m: u32, lane: u32) -> Vec<Job> {
        let l = &self.lanes[lane as usize];
        let mine: Vec<RequestId> = l
            .ready
            .values()
            .chain(l.background.values())
            .filter(|j| j.model == m)
            .map(|j| j.request)
            .collect();
        mine.into_iter().filter_map(|r| self.dequeue(r)).collect()
    }

    /// Enqueues dequeued jobs again, in arrival order.
    fn file_all(&mut self, mut jobs: Vec<Job>) {
        jobs.sort_by_key(|j| j.key.seq);
        for mut j in jobs {
            j.watch = None;
            self.enqueue(j);
        }
    }

    /// `request` finished on `lane` at `at` after executing for `exec` (measured). Reports
    /// the deadline verdict ([`Decision::Completed`]), detects an overrun, and frees the lane
    /// (dispatch happens at the next [`SchedulerCore::tick`]).
    ///
    /// # Errors
    /// Unknown request, or not running on `lane`.
    pub fn complete(
        &mut self,
        lane: u32,
        request: RequestId,
        at: Timestamp,
        exec: Duration,
        out: &mut Vec<Decision>,
    ) -> Result<(), CoreError> {
        self.log(|| Input::Complete { lane, request, at, exec });
        match self.requests.get(&request) {
            None => return Err(CoreError::UnknownRequest { request }),
            Some(Loc::Running { lane: l }) if *l == lane => {}
            Some(_) => return Err(CoreError::NotRunning { request, lane }),
        }
        let Some(job) = self.lanes[lane as usize].running.take() else {
            return Err(CoreError::NotRunning { request, lane });
        };
        self.requests.remove(&request);
        self.lanes[lane as usize].deferred = None;
        self.advance(at);
        let m = job.model;
        let met = at <= job.deadline;
        let model = self.models[m as usize].spec.task.name.clone();
        out.push(Decision::Completed {
            at,
            lane,
            model,
            request,
            release: job.release,
            deadline: job.deadline,
            exec,
            met,
        });
        let completed = self.ev_completed(&job, lane, at, exec, met);
        let ms = &mut self.models[m as usize];
        ms.completed_max = ms.completed_max.max(exec);
        let grew = exec > ms.observed_max;
        ms.observed_max = ms.observed_max.max(exec);
        if exec > ms.threshold {
            if !job.flagged {
                self.on_overrun(
                    &job,
                    lane,
                    at,
                    exec,
                    super::OverrunStage::AtCompletion,
                    completed,
                    out,
                );
            } else {
                self.models[m as usize].good_streak = 0;
                if grew && self.models[m as usize].contained {
                    self.refile_model(m);
                }
            }
        } else if job.flagged && self.withdraw_overrun(&job, lane, at, exec, completed, out) {
            // The containment this job's flag began is lifted.
        } else if self.models[m as usize].contained {
            let ms = &mut self.models[m as usize];
            ms.good_streak += 1;
            let n = self.config.overrun.restore_after;
            if n > 0 && ms.good_streak >= n {
                self.restore_model(m, at, RestoreCause::GoodStreak, out);
            } else if grew {
                self.refile_model(m);
            }
        }
        Ok(())
    }

    /// Cancels a queued request ([`Decision::Drop`] with [`DropReason::Cancelled`]).
    ///
    /// # Errors
    /// [`CoreError::NotCancellable`] for a running request (non-preemptive), or unknown.
    pub fn cancel(
        &mut self,
        request: RequestId,
        at: Timestamp,
        out: &mut Vec<Decision>,
    ) -> Result<(), CoreError> {
        self.log(|| Input::Cancel { request, at });
        match self.requests.get(&request) {
            None => return Err(CoreError::UnknownRequest { request }),
            Some(Loc::Running { .. }) => return Err(CoreError::NotCancellable { request }),
            Some(Loc::Queued { .. }) => {}
        }
        self.advance(at);
        if let Some(job) = self.dequeue(request) {
            self.drop_queued(job, DropReason::Cancelled, out);
        }
        Ok(())
    }

    /// Lifts the containment of `model` ([`Decision::Restored`]), e.g. after it was
    /// re-profiled and re-admitted. Nothing happens when it is not contained.
    ///
    /// # Errors
    /// Unknown model.
    pub fn restore(
        &mut self,
        model: &ModelId,
        at: Timestamp,
        out: &mut Vec<Decision>,
    ) -> Result<(), CoreError> {
        self.log(|| Input::Restore { model: model.clone(), at });
        let m =
            self.index_of(model).ok_or_else(|| CoreError::UnknownModel { model: model.clone() })?;
        self.advance(at);
        if self.models[m as usize].contained {
            self.restore_model(m, at, RestoreCause::Caller, out);
        }
        Ok(())
    }

    /// True when contained model `m` has had no job started for
    /// [`super::OverrunConfig::restore_after`] periods of its containment while its observed
    /// worst (which no window fits) decided its windows: restoration needs jobs that run, so
    /// without probation one outlier (a host stall counted as execution) would shut the model
    /// out for good.
    fn starved(&self, m: u32, at: Timestamp) -> bool {
        let ms = &self.models[m as usize];
        let k = self.config.overrun.restore_after;
        if !ms.contained || ms.probation || k == 0 || ms.estimate() == ms.spec.task.wcet {
            return false;
        }
        let since = ms.last_start.map_or(ms.contained_since, |s| s.max(ms.contained_since));
        let patience =
            Duration::from_nanos(ms.spec.task.period.as_nanos().saturating_mul(k.into()));
        at >= since + patience
    }

    /// Puts contained model `m` on probation: its jobs get windows of its WCET again. A job
    /// that then overruns ends the probation (a new overrun, traced); jobs within budget count
    /// towards restoration as usual. Only that one job's excess can delay others, the same
    /// bound as for any contained job that outruns its estimate.
    fn begin_probation(&mut self, m: u32, at: Timestamp) {
        self.models[m as usize].probation = true;
        self.rec_probation(m, at);
        self.refile_model(m);
    }

    /// Withdraws the overrun flagged while `job` ran: it finished within its budget, so the
    /// time past the budget was spent outside its execution (a late start on its lane, a late
    /// completion report). Its running time leaves the model's observed worst, a skipped
    /// release it caused is given back, and the containment it began (nothing else added to
    /// it) is lifted at once. Returns true when that containment was lifted.
    fn withdraw_overrun(
        &mut self,
        job: &Job,
        lane: u32,
        at: Timestamp,
        exec: Duration,
        parent: EventId,
        out: &mut Vec<Decision>,
    ) -> bool {
        let action = self.config.overrun.action;
        let ms = &mut self.models[job.model as usize];
        ms.observed_max = ms.completed_max;
        if action == OverrunAction::SkipNextRelease {
            ms.skip_pending = ms.skip_pending.saturating_sub(1);
        }
        let threshold = ms.threshold;
        let lift = ms.contained && ms.contained_by == Some(job.request);
        out.push(Decision::OverrunWithdrawn {
            at,
            lane,
            model: ms.spec.task.name.clone(),
            request: job.request,
            exec,
            threshold,
        });
        self.rec_withdrawn(job, lane, at, exec, parent);
        if lift {
            self.restore_model(job.model, at, RestoreCause::Withdrawn, out);
        }
        lift
    }

    pub(super) fn restore_model(
        &mut self,
        m: u32,
        at: Timestamp,
        cause: RestoreCause,
        out: &mut Vec<Decision>,
    ) {
        let ms = &mut self.models[m as usize];
        let streak = ms.good_streak;
        ms.contained = false;
        ms.contained_by = None;
        ms.probation = false;
        ms.good_streak = 0;
        ms.skip_pending = 0;
        let model = ms.spec.task.name.clone();
        out.push(Decision::Restored { at, model });
        self.rec_restored(
            m,
            at,
            match cause {
                RestoreCause::GoodStreak => format!("{streak} consecutive jobs within budget"),
                RestoreCause::Caller => "restored by the caller".to_string(),
                RestoreCause::Withdrawn => {
                    "the overrun that contained it was withdrawn: the job finished within budget"
                        .to_string()
                }
            },
        );
        // What piled up while contained (kept to run late, or waiting for a window) must not
        // become admitted work all at once: the admission tests allow one job per period.
        // Jobs that can no longer meet their deadline are dropped; the rest (released within
        // the last deadline) run at the model's normal rank.
        let estimate = self.models[m as usize].estimate();
        let now = self.now;
        for job in self.refile_model_except(m, |j| now + estimate > j.deadline) {
            let reason = DropReason::CannotMeetDeadline {
                earliest_finish: now + estimate,
                deadline: job.deadline,
            };
            self.drop_queued(job, reason, out);
        }
    }

    /// Moves `model` to `lane` (the admission controller re-partitions on every admission).
    /// Its queued jobs move now; a running job finishes on its old lane.
    ///
    /// # Errors
    /// Unknown model or lane out of range.
    pub fn rebind(&mut self, model: &ModelId, lane: u32) -> Result<(), CoreError> {
        self.log(|| Input::Rebind { model: model.clone(), lane });
        let m =
            self.index_of(model).ok_or_else(|| CoreError::UnknownModel { model: model.clone() })?;
        let lanes = self.config.lanes.get();
        if lane >= lanes {
            return Err(CoreError::LaneOutOfRange { model: model.clone(), lane, lanes });
        }
        let old = self.models[m as usize].spec.lane;
        if old != lane {
            self.lanes[old as usize].models.retain(|&x| x != m);
            self.lanes[lane as usize].models.push(m);
            let jobs = self.take_queued(m, old);
            self.models[m as usize].spec.lane = lane;
            self.file_all(jobs);
            self.lanes[old as usize].deferred = None;
        }
        Ok(())
    }

    /// Drops a job that was never queued (too early, skipped).
    fn drop_unqueued(
        &mut self,
        m: u32,
        request: RequestId,
        at: Timestamp,
        reason: DropReason,
        parent: EventId,
        out: &mut Vec<Decision>,
    ) {
        let model = self.models[m as usize].spec.task.name.clone();
        out.push(Decision::Drop { at, model, request, reason });
        self.rec_drop(m, request, at, reason, parent, None);
    }

    /// Drops a job that was dequeued.
    pub(super) fn drop_queued(&mut self, job: Job, reason: DropReason, out: &mut Vec<Decision>) {
        let model = self.models[job.model as usize].spec.task.name.clone();
        let at = self.now;
        out.push(Decision::Drop { at, model, request: job.request, reason });
        self.rec_drop(job.model, job.request, at, reason, job.events.queued, Some(&job));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_core_can_move_to_a_real_time_thread() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<super::SchedulerCore>();
    }
}
