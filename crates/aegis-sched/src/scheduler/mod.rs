//! The scheduler core: a deterministic state machine that turns inputs (model registration,
//! job release, completion, cancellation, time) into [`Decision`]s (dispatch job R of model M
//! on lane L now; drop R and why; leave a lane idle and why), and detects deadline misses and
//! budget overruns.
//!
//! Owns job and model state, dispatch, budget enforcement and miss detection. It must not
//! read a clock, sleep, do I/O, or know what executes a job: the real-time runtime (timestamps
//! from [`aegis_trace::MonotonicClock`]) and the simulator (virtual time from
//! [`aegis_trace::ManualClock`]) drive the same core.
//!
//! ## Driving it
//! ```
//! use aegis_sched::analysis::Policy;
//! use aegis_sched::scheduler::{CoreConfig, Decision, ModelSpec, SchedulerCore};
//! use aegis_sched::TaskParams;
//! use aegis_trace::{Duration, ModelId, RequestId, Timestamp};
//!
//! let mut core = SchedulerCore::new(CoreConfig::new(Policy::Edf));
//! let task = TaskParams::implicit("cam", Duration::from_millis(2), Duration::from_millis(10), 0);
//! core.register(ModelSpec::new(task)).unwrap();
//! let mut out = Vec::new();
//! let t0 = Timestamp::ZERO;
//! core.release(&ModelId::new("cam"), RequestId(1), t0, &mut out).unwrap();
//! core.tick(t0, &mut out); // detect and dispatch
//! assert!(matches!(out[0], Decision::Dispatch { lane: 0, request: RequestId(1), .. }));
//! let t1 = t0 + Duration::from_millis(2);
//! core.complete(0, RequestId(1), t1, Duration::from_millis(2), &mut out).unwrap();
//! assert!(matches!(out[1], Decision::Completed { met: true, .. }));
//! ```
//! Inputs change state but never dispatch; [`SchedulerCore::tick`] detects and dispatches.
//! Feed every release and completion that happened at an instant, then `tick` at that
//! instant; also `tick` at [`SchedulerCore::next_wakeup`] (overrun and early-miss detection).
//! Time never goes backwards inside the core (an input stamped earlier than the latest time
//! seen is processed at its own stamp for deadlines and response times, but does not move the
//! core's clock back).
//!
//! ## Dispatch
//! Each model is bound to one lane (the admission controller's partition). A lane runs one job
//! at a time, to completion (GPU jobs are **non-preemptive**), and is work-conserving for
//! admitted work: when it is idle and a job of an uncontained model is queued, the job first in
//! [`crate::policy`] order starts. These are exactly the assumptions of the admission tests
//! (`fifo_nonpreemptive`, `edf_nonpreemptive`, `fp_rta_nonpreemptive`), so an admitted set
//! whose jobs stay within their WCETs and respect their minimum inter-arrival times meets
//! every deadline. A release earlier than `previous release + period` is dropped
//! ([`DropReason::ReleaseTooEarly`]) instead of breaking that assumption.
//!
//! ## Budgets and overruns
//! A job overruns when it runs longer than its model's threshold (`min(WCET, budget)`). The
//! core sees this while the job runs (a `tick` more than threshold + grace after dispatch) or
//! at completion (measured execution time), records an `overrun` event and applies
//! [`OverrunAction`]. **The core cannot stop a running job** (non-preemptive): the overrunning
//! job itself runs to completion and may delay the jobs behind it by its excess; no software
//! scheduler on a non-preemptive lane can prevent that, so the guarantee is about what happens
//! after the overrun is seen. Every action except `ReportOnly` *contains* the model: its jobs
//! move to a background queue and start only in a **safe window**: the lane is idle, no job of
//! an uncontained model is queued on it, and `now + estimate ≤` the earliest possible next
//! release of every uncontained model on the lane, where `estimate` is the larger of the
//! model's WCET and its observed worst execution time. Such a job ends before any uncontained
//! job can exist on the lane, so uncontained jobs see the schedule they would see if the
//! contained model never released (a legal sporadic behaviour the admission test covered).
//!
//! Assumptions of that guarantee, stated honestly:
//! * periodic releases are known (the next release of a model is its previous release plus
//!   its period) and a sporadic model is treated as releasing at its *earliest* possible time
//!   (previous release + minimum inter-arrival); once that time has passed it may release at
//!   any moment, so there is no safe window until it does. Before its first release a model is
//!   assumed to release at [`ModelSpec::first_release`], or at once when that is unknown;
//! * a contained job runs no longer than its estimate. If it does, that is a new overrun: it is
//!   traced, the estimate grows to the new observed worst, and only that one job's excess can
//!   delay others;
//! * `ReportOnly` gives no isolation (it exists as a baseline).
//!
//! Containment ends after [`OverrunConfig::restore_after`] consecutive jobs within budget, or
//! when the caller calls [`SchedulerCore::restore`], or at once when the overrun that began it
//! was flagged while the job ran and the job then completed within budget
//! ([`Decision::OverrunWithdrawn`]: the time past the budget was a late start or a late
//! completion report, not execution; ADR 0007). What piled up while it was contained
//! does not come back as admitted work all at once (more than one job per period, which no
//! admission test covered: under EDF or FIFO those old jobs would go first and the other
//! models would miss behind them): at restoration its queued jobs that can no longer meet
//! their deadline are dropped ([`DropReason::CannotMeetDeadline`]) and only the others run at
//! the model's normal rank.
//!
//! ## Deadline misses
//! At completion a job is late when `finish > deadline` ([`Decision::Completed`] with
//! `met: false`, traced `deadline_miss`). While queued, a job is doomed when
//! `now + estimate > deadline` (estimate = WCET, or the contained estimate); with
//! [`CoreConfig::early_miss_detection`] the core then drops it or keeps it to run late
//! ([`LateAction`]). In an admitted set whose jobs stay within budget this never fires: the
//! admission tests bound every job's start time by `deadline − WCET`.
//!
//! ## Tracing, audit, replay
//! Attach a [`aegis_trace::TraceCollector`] and/or [`aegis_trace::AuditTrail`] to record every
//! decision (trace events with causal parents; audit decisions with up to
//! [`CoreConfig::audit_alternatives`] losing candidates and why each lost). Detached, the cost
//! is one branch per record site. [`SchedulerCore::record_inputs`] records an [`InputLog`];
//! [`replay()`] feeds it to a fresh core and returns the same decisions.

mod config;
mod decision;
mod dispatch;
mod engine;
mod error;
mod input;
mod model;
mod record;
mod replay;
mod state;

pub use config::{CoreConfig, LateAction, OverrunAction, OverrunConfig};
pub use decision::{Decision, DeferReason, DropReason, OverrunStage};
pub use engine::SchedulerCore;
pub use error::CoreError;
pub use input::{Input, InputLog};
pub use model::{ModelSpec, specs_from_admission};
pub use replay::{Replayed, replay};

/// The `component` of every trace event the core records.
pub const COMPONENT: &str = "scheduler";
