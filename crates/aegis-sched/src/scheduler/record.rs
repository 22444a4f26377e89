//! Trace events and audit decisions of the scheduler core.
//!
//! Owns what the core writes into an attached [`aegis_trace::TraceCollector`] (events with
//! causal parents: submitted → queued → dispatched → completed / deadline_miss / dropped, the
//! submitted event linked to the model's admission event) and [`aegis_trace::AuditTrail`]
//! (each decision with the alternatives considered). With neither attached every function
//! returns after one branch. It must not change scheduling state.

use super::decision::{DropReason, OverrunStage};
use super::engine::SchedulerCore;
use super::state::Job;
use crate::policy::{At, JobView, Span, text};
use aegis_trace::{
    Alternative, Decision as Audit, DecisionId, DecisionKind, Duration, EventId, EventKind,
    RequestId, Timestamp, TraceEvent,
};

impl SchedulerCore {
    fn view(&self, job: &Job) -> JobView {
        JobView {
            release: job.release,
            deadline: job.deadline,
            priority: self.models[job.model as usize].spec.task.priority,
            seq: job.key.seq,
        }
    }

    fn event(&self, kind: EventKind, at: Timestamp, m: u32, request: RequestId) -> TraceEvent {
        let ms = &self.models[m as usize];
        TraceEvent::new(kind, super::COMPONENT, at)
            .model(ms.spec.task.name.clone())
            .request(request)
            .stream(ms.spec.lane)
    }

    fn job_label(&self, job: &Job) -> String {
        text(32, format_args!("{}/{}", self.models[job.model as usize].spec.task.name, job.request))
    }

    pub(super) fn ev_queued(
        &self,
        m: u32,
        request: RequestId,
        at: Timestamp,
        parent: EventId,
    ) -> EventId {
        let Some(trace) = &self.trace else { return EventId::UNASSIGNED };
        let rationale = if self.models[m as usize].contained {
            "queued as background work (model contained after an overrun)"
        } else {
            "queued in policy order"
        };
        trace.record(
            self.event(EventKind::Queued, at, m, request).rationale(rationale).parent(parent),
        )
    }

    pub(super) fn rec_dispatch(&self, lane: u32, job: &Job, window: Option<Timestamp>) -> EventId {
        if self.trace.is_none() && self.audit.is_none() {
            return EventId::UNASSIGNED;
        }
        let rule = match window {
            Some(_) => "contained work started in a safe window",
            None => self.policy.rule(),
        };
        let id = self.trace.as_ref().map_or(EventId::UNASSIGNED, |t| {
            t.record(
                self.event(EventKind::Dispatched, self.now, job.model, job.request)
                    .stream(lane)
                    .rationale(rule)
                    .parent(job.events.queued),
            )
        });
        let Some(audit) = &self.audit else { return id };
        let l = &self.lanes[lane as usize];
        let queue = if window.is_some() { &l.background } else { &l.ready };
        let cap = usize::from(self.config.audit_alternatives);
        let winner = self.view(job);
        let listed = queue.len().min(cap);
        let mut alternatives = Vec::with_capacity(listed + 2);
        for other in queue.values().take(cap) {
            let why = if window.is_some() {
                "ranks later among contained work".to_string()
            } else {
                self.policy.explain_loss(&winner, &self.view(other))
            };
            alternatives.push(Alternative::new(self.job_label(other), why));
        }
        if window.is_none() && !l.background.is_empty() {
            alternatives.push(Alternative::new(
                format!("{} contained job(s)", l.background.len()),
                "contained after an overrun: they run only in safe windows",
            ));
        }
        if self.lanes.len() > 1 {
            alternatives.push(Alternative::new(
                "any other lane",
                format!("the model is bound to lane {lane} by the admission partition"),
            ));
        }
        let rationale = match window {
            Some(end) => text(
                192,
                format_args!(
                    "{rule}: estimate {} ends by {}, the earliest possible release of an uncontained \
                 model on lane {lane}",
                    Span(job.estimate),
                    At(end)
                ),
            ),
            None => text(
                192,
                format_args!(
                    "{}: {rule} (deadline {}, priority {}, released {}); {} more queued on lane \
                 {lane}, {listed} listed",
                    self.policy.name(),
                    At(job.deadline),
                    winner.priority,
                    At(job.release),
                    l.queued(),
                ),
            ),
        };
        audit.record(Audit {
            id: DecisionId(0),
            timestamp: self.now,
            kind: DecisionKind::Dispatch,
            model: Some(self.models[job.model as usize].spec.task.name.clone()),
            request: Some(job.request),
            chosen: text(48, format_args!("{} on lane {lane}", self.job_label(job))),
            alternatives,
            rationale,
            event: (id != EventId::UNASSIGNED).then_some(id),
        });
        id
    }

    /// Records `completed` (and `deadline_miss` after it when late); returns the completed
    /// event.
    pub(super) fn ev_completed(
        &self,
        job: &Job,
        lane: u32,
        at: Timestamp,
        exec: Duration,
        met: bool,
    ) -> EventId {
        let Some(trace) = &self.trace else { return EventId::UNASSIGNED };
        let done = trace.record(
            self.event(EventKind::Completed, at, job.model, job.request)
                .stream(lane)
                .rationale(if met { "deadline met" } else { "finished after its deadline" })
                .attr("exec_ns", exec.as_nanos())
                .parent(job.events.dispatched),
        );
        if !met {
            trace.record(
                self.event(EventKind::DeadlineMiss, at, job.model, job.request)
                    .stream(lane)
                    .rationale("completed after its absolute deadline")
                    .attr("lateness_ns", at.saturating_duration_since(job.deadline).as_nanos())
                    .parent(done),
            );
        }
        done
    }

    /// Records a drop (event `dropped`, audit `drop`).
    pub(super) fn rec_drop(
        &self,
        m: u32,
        request: RequestId,
        at: Timestamp,
        reason: DropReason,
        parent: EventId,
        job: Option<&Job>,
    ) {
        if self.trace.is_none() && self.audit.is_none() {
            return;
        }
        let (why, detail): (&'static str, String) = match reason {
            DropReason::Cancelled => ("cancelled by the caller", String::new()),
            DropReason::CannotMeetDeadline { earliest_finish, deadline } => (
                "cannot meet its deadline",
                format!("earliest finish {earliest_finish} > deadline {deadline}"),
            ),
            DropReason::OverrunSkip => {
                ("release skipped after an overrun", "overrun action skip_next_release".into())
            }
            DropReason::ReleaseTooEarly { earliest } => (
                "released before its minimum inter-arrival time",
                format!("earliest admissible release {earliest}"),
            ),
        };
        let id = self.trace.as_ref().map_or(EventId::UNASSIGNED, |t| {
            t.record(self.event(EventKind::Dropped, at, m, request).rationale(why).parent(parent))
        });
        let Some(audit) = &self.audit else { return };
        let model = self.models[m as usize].spec.task.name.clone();
        let mut d = Audit::new(
            DecisionKind::Drop,
            at,
            format!("drop {model}/{request}"),
            if detail.is_empty() { why.to_string() } else { format!("{why}: {detail}") },
        )
        .model(model)
        .request(request);
        let keep = match (reason, job) {
            (DropReason::CannotMeetDeadline { .. }, Some(_)) => Some(
                "late action is drop: running late would take lane time from jobs that can still meet their deadlines",
            ),
            (DropReason::ReleaseTooEarly { .. }, _) => {
                Some("running it would exceed the sporadic rate the admission test assumed")
            }
            (DropReason::OverrunSkip, _) => {
                Some("the overrun action skips the next release to give back one budget")
            }
            _ => None,
        };
        if let Some(k) = keep {
            d = d.alternative(Alternative::new("keep it", k));
        }
        if id != EventId::UNASSIGNED {
            d = d.event(id);
        }
        audit.record(d);
    }

    /// Records early detection of a late job (event `deadline_miss`; audit of the choice to
    /// keep it when it is not dropped). Returns the event.
    pub(super) fn rec_late(
        &self,
        job: &Job,
        lane: u32,
        earliest_finish: Timestamp,
        dropping: bool,
    ) -> EventId {
        if self.trace.is_none() && self.audit.is_none() {
            return EventId::UNASSIGNED;
        }
        let id = self.trace.as_ref().map_or(EventId::UNASSIGNED, |t| {
            t.record(
                self.event(EventKind::DeadlineMiss, self.now, job.model, job.request)
                    .stream(lane)
                    .rationale("still queued and can no longer meet its deadline (now + estimate > deadline)")
                    .attr("earliest_finish_ns", earliest_finish.as_nanos())
                    .parent(job.events.queued),
            )
        });
        if let (Some(audit), false) = (&self.audit, dropping) {
            let mut d = Audit::new(
                DecisionKind::Defer,
                self.now,
                format!("keep {} queued to run late", self.job_label(job)),
                format!("earliest finish {earliest_finish} > deadline {}", job.deadline),
            )
            .model(self.models[job.model as usize].spec.task.name.clone())
            .request(job.request)
            .alternative(Alternative::new("drop it", "late action is run_late"));
            if id != EventId::UNASSIGNED {
                d = d.event(id);
            }
            audit.record(d);
        }
        id
    }

    pub(super) fn rec_overrun(
        &self,
        job: &Job,
        lane: u32,
        at: Timestamp,
        elapsed: Duration,
        stage: OverrunStage,
        parent: EventId,
    ) {
        if self.trace.is_none() && self.audit.is_none() {
            return;
        }
        let ms = &self.models[job.model as usize];
        let action = self.config.overrun.action;
        let stage_word = match stage {
            OverrunStage::Running => "still running",
            OverrunStage::AtCompletion => "at completion",
        };
        let id = self.trace.as_ref().map_or(EventId::UNASSIGNED, |t| {
            t.record(
                self.event(EventKind::Overrun, at, job.model, job.request)
                    .stream(lane)
                    .rationale("execution exceeded the model's budget")
                    .attr("elapsed_ns", elapsed.as_nanos())
                    .attr("threshold_ns", ms.threshold.as_nanos())
                    .attr("stage", stage_word)
                    .attr("action", action.name())
                    .parent(parent),
            )
        });
        let Some(audit) = &self.audit else { return };
        let mut d = Audit::new(
            DecisionKind::Overrun,
            at,
            format!("{} for {}", action.name(), ms.spec.task.name),
            format!(
                "{} ran {elapsed} ({stage_word}) > budget {}; configured overrun action",
                self.job_label(job),
                ms.threshold
            ),
        )
        .model(ms.spec.task.name.clone())
        .request(job.request)
        .alternative(Alternative::new(
            "stop the running job",
            "GPU jobs are non-preemptive: the core cannot stop a dispatched job",
        ));
        if id != EventId::UNASSIGNED {
            d = d.event(id);
        }
        audit.record(d);
    }

    pub(super) fn rec_defer(&self, lane: u32, head: &Job, needed: Duration, window_end: Timestamp) {
        if self.trace.is_none() && self.audit.is_none() {
            return;
        }
        let id = self.trace.as_ref().map_or(EventId::UNASSIGNED, |t| {
            t.record(
                self.event(
                    EventKind::Custom("deferred".into()),
                    self.now,
                    head.model,
                    head.request,
                )
                .stream(lane)
                .rationale("lane left idle: contained work does not fit the safe window")
                .attr("window_end_ns", window_end.as_nanos())
                .parent(head.events.queued),
            )
        });
        let Some(audit) = &self.audit else { return };
        let mut d = Audit::new(
            DecisionKind::Defer,
            self.now,
            format!("leave lane {lane} idle"),
            format!(
                "{} needs {needed} but an uncontained model may release at {window_end}",
                self.job_label(head)
            ),
        )
        .model(self.models[head.model as usize].spec.task.name.clone())
        .request(head.request)
        .alternative(Alternative::new(
            format!("start {}", self.job_label(head)),
            "it could delay a job of an admitted model (non-preemptive lane)",
        ));
        if id != EventId::UNASSIGNED {
            d = d.event(id);
        }
        audit.record(d);
    }

    /// Records the `submitted` event, linked to the model's admission event.
    pub(super) fn ev_submitted(&self, m: u32, request: RequestId, at: Timestamp) -> EventId {
        let Some(trace) = &self.trace else { return EventId::UNASSIGNED };
        let ms = &self.models[m as usize];
        let mut e = TraceEvent::new(EventKind::Submitted, super::COMPONENT, at)
            .model(ms.spec.task.name.clone())
            .request(request)
            .stream(ms.spec.lane)
            .rationale("job released");
        if let Some(adm) = ms.spec.admission_event {
            e = e.parent(adm);
        }
        trace.record(e)
    }

    /// Records the withdrawal of a running-stage overrun (event `overrun_withdrawn`, audit
    /// `overrun`), linked to the job's completion.
    pub(super) fn rec_withdrawn(
        &self,
        job: &Job,
        lane: u32,
        at: Timestamp,
        exec: Duration,
        parent: EventId,
    ) {
        if self.trace.is_none() && self.audit.is_none() {
            return;
        }
        let ms = &self.models[job.model as usize];
        let why = format!(
            "{} was flagged while running but executed {} within its budget {}: the time past \
             the budget was spent outside its execution (late start or late completion report)",
            self.job_label(job),
            Span(exec),
            Span(ms.threshold)
        );
        if let Some(t) = &self.trace {
            t.record(
                self.event(
                    EventKind::Custom("overrun_withdrawn".into()),
                    at,
                    job.model,
                    job.request,
                )
                .stream(lane)
                .rationale(why.clone())
                .attr("exec_ns", exec.as_nanos())
                .attr("threshold_ns", ms.threshold.as_nanos())
                .parent(parent),
            );
        }
        if let Some(a) = &self.audit {
            a.record(
                Audit::new(
                    DecisionKind::Overrun,
                    at,
                    format!("withdraw the overrun of {}", ms.spec.task.name),
                    why,
                )
                .model(ms.spec.task.name.clone())
                .request(job.request),
            );
        }
    }

    pub(super) fn rec_restored(&self, m: u32, at: Timestamp, why: String) {
        let ms = &self.models[m as usize];
        if let Some(t) = &self.trace {
            t.record(
                TraceEvent::new(EventKind::Recovered, super::COMPONENT, at)
                    .model(ms.spec.task.name.clone())
                    .stream(ms.spec.lane)
                    .rationale("model restored from overrun containment"),
            );
        }
        if let Some(a) = &self.audit {
            a.record(
                Audit::new(
                    DecisionKind::Overrun,
                    at,
                    format!("restore {}", ms.spec.task.name),
                    why,
                )
                .model(ms.spec.task.name.clone()),
            );
        }
    }

    pub(super) fn rec_probation(&self, m: u32, at: Timestamp) {
        let ms = &self.models[m as usize];
        let model = &ms.spec.task.name;
        let why = format!(
            "no safe window fitted its observed worst {} for {} of its periods; its jobs get \
             windows of its WCET {} until one overruns again or it is restored",
            Span(ms.observed_max),
            self.config.overrun.restore_after,
            Span(ms.spec.task.wcet)
        );
        if let Some(t) = &self.trace {
            t.record(
                TraceEvent::new(EventKind::Custom("probation".into()), super::COMPONENT, at)
                    .model(model.clone())
                    .rationale(why.clone()),
            );
        }
        if let Some(a) = &self.audit {
            a.record(
                Audit::new(DecisionKind::Overrun, at, format!("probation for {model}"), why)
                    .model(model.clone()),
            );
        }
    }
}
