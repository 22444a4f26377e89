//! The admission controller: [`AdmissionController::analyze`] decides whether a new model may
//! join the running set.
//!
//! Owns the choice of test for a [`Policy`] and lane count, the memory check and the wording of
//! the refusal. It must not know how WCETs were measured, how the memory plan was computed or
//! how jobs are dispatched; it assumes the dispatcher is work-conserving per lane, never
//! preempts a started job, and dispatches each task only on the lane assigned here.
//!
//! | policy | test per lane |
//! |---|---|
//! | [`Policy::Fifo`] | [`fifo_nonpreemptive`] (response-time bound for FIFO dispatch) |
//! | [`Policy::Edf`] | [`edf_nonpreemptive`] (George, Rivierre & Spuri 1996) |
//! | [`Policy::FixedPriority`] | [`fp_rta_nonpreemptive`] (Davis, Burns, Bril & Lukkien 2007) |
//!
//! Every test is for *non-preemptive* lanes (GPU jobs run to completion) and uses the blocking
//! convention of [`AdmissionConfig::options`] (continuous by default: safe for any clock).
//! The utilisation tests and the preemptive tests are never used to admit. With more than one
//! lane the tasks are partitioned (see [`super::partition`]; the WCETs must then be contended
//! WCETs). The analysis re-partitions the whole set on every request, so an existing task may
//! move lane: the caller applies the returned assignment at a job boundary.

use super::demand::{DemandResult, DemandViolation, edf_nonpreemptive};
use super::fifo::fifo_nonpreemptive;
use super::options::AnalysisOptions;
use super::partition::{Lane, partition_first_fit};
use super::rta::fp_rta_nonpreemptive;
use super::verdict::{RtaResult, TestKind, Unbounded, Verdict};
use crate::task::{TaskParams, TaskSetError, validate_task, validate_task_set};
use aegis_trace::{Duration, ModelId};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::num::NonZeroU32;

/// The dispatch policy of the lanes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Policy {
    /// First in, first out by release time.
    Fifo,
    /// Earliest absolute deadline first (non-preemptive).
    Edf,
    /// Fixed priority, 0 highest (non-preemptive).
    FixedPriority,
}

impl Policy {
    /// The test the controller runs for this policy.
    pub fn test(self) -> TestKind {
        match self {
            Policy::Fifo => TestKind::FifoNonpreemptive,
            Policy::Edf => TestKind::EdfNonpreemptive,
            Policy::FixedPriority => TestKind::FpRtaNonpreemptive,
        }
    }
}

/// How the controller analyses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdmissionConfig {
    /// Dispatch policy.
    pub policy: Policy,
    /// Number of non-preemptive GPU lanes (default 1).
    pub lanes: NonZeroU32,
    /// Blocking convention and analysis limits.
    pub options: AnalysisOptions,
}

impl AdmissionConfig {
    /// One lane, default options.
    pub fn new(policy: Policy) -> Self {
        AdmissionConfig { policy, lanes: NonZeroU32::MIN, options: AnalysisOptions::default() }
    }

    /// The same configuration with `lanes` lanes.
    pub fn with_lanes(self, lanes: NonZeroU32) -> Self {
        AdmissionConfig { lanes, ..self }
    }
}

/// Memory the new plan needs versus what the pool has (filled in by the caller from the memory
/// orchestrator's plan).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryCheck {
    /// Bytes the plan including the new model needs.
    pub required_bytes: u64,
    /// Bytes the pool can give.
    pub available_bytes: u64,
}

/// A request to admit one model.
///
/// The memory check lives here rather than in the configuration because the required bytes
/// depend on the plan that includes this model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdmissionRequest {
    /// The new model as a sporadic task.
    pub task: TaskParams,
    /// The memory check, when the caller has a plan (`None`: not checked).
    pub memory: Option<MemoryCheck>,
}

/// Why a request was refused (machine-readable; [`AdmissionResult::reason`] says it in words).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Refusal {
    /// The request or the combined set is invalid (bad parameters, duplicate name/priority).
    InvalidTask {
        /// The validation error.
        #[serde(serialize_with = "display")]
        error: TaskSetError,
    },
    /// The memory plan does not fit the pool.
    Memory {
        /// Bytes needed.
        required_bytes: u64,
        /// Bytes available.
        available_bytes: u64,
        /// `required − available`.
        shortfall_bytes: u64,
    },
    /// A response-time test found a task whose bound exceeds its deadline.
    ResponseExceedsDeadline {
        /// The test.
        test: TestKind,
        /// The task that misses.
        task: ModelId,
        /// Its response-time bound.
        response: Duration,
        /// Its deadline.
        deadline: Duration,
        /// `response − deadline`.
        excess: Duration,
    },
    /// A demand test found more work than time.
    DemandExceedsTime {
        /// The test.
        test: TestKind,
        /// Where and by how much.
        violation: DemandViolation,
    },
    /// The analysis produced no bound (overload or limits).
    Unbounded {
        /// The test.
        test: TestKind,
        /// The task, for response-time tests.
        task: Option<ModelId>,
        /// Why.
        why: Unbounded,
    },
    /// With several lanes: a task fits on no lane; `per_lane` says why for each lane.
    NoLaneFits {
        /// The task that fits nowhere.
        task: ModelId,
        /// The refusal of each lane with the task added.
        per_lane: Vec<Refusal>,
    },
}

fn display<S: Serializer>(e: &TaskSetError, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(e)
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::InvalidTask { error } => write!(f, "invalid task set: {error}"),
            Refusal::Memory { required_bytes, available_bytes, shortfall_bytes } => write!(
                f,
                "memory: plan needs {required_bytes} bytes but the pool has {available_bytes} \
                 (short by {shortfall_bytes} bytes)"
            ),
            Refusal::ResponseExceedsDeadline { test, task, response, deadline, excess } => write!(
                f,
                "{test}: task {task} response {response} > deadline {deadline} (by {excess})"
            ),
            Refusal::DemandExceedsTime { test, violation: v } => write!(
                f,
                "{test}: at t = {} demand {} + blocking {} exceeds the time available by {}",
                v.at, v.demand, v.blocking, v.excess
            ),
            Refusal::Unbounded { test, task: Some(task), why } => {
                write!(f, "{test}: task {task}: {why}")
            }
            Refusal::Unbounded { test, task: None, why } => write!(f, "{test}: {why}"),
            Refusal::NoLaneFits { task, per_lane } => {
                write!(f, "task {task} fits on none of the {} lanes:", per_lane.len())?;
                for (i, r) in per_lane.iter().enumerate() {
                    write!(f, " lane {i}: {r};")?;
                }
                Ok(())
            }
        }
    }
}

/// The per-lane test result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum LaneVerdict {
    /// From a response-time test (FIFO, fixed priority).
    Rta(RtaResult),
    /// From a demand test (EDF).
    Demand(DemandResult),
}

impl Verdict for LaneVerdict {
    fn is_schedulable(&self) -> bool {
        match self {
            LaneVerdict::Rta(r) => r.schedulable,
            LaneVerdict::Demand(d) => d.schedulable,
        }
    }
    fn detail(&self) -> &str {
        match self {
            LaneVerdict::Rta(r) => &r.detail,
            LaneVerdict::Demand(d) => &d.detail,
        }
    }
}

impl LaneVerdict {
    fn refusal(&self) -> Option<Refusal> {
        match self {
            LaneVerdict::Rta(r) => r.first_miss().map(|m| match m.response {
                Some(response) => Refusal::ResponseExceedsDeadline {
                    test: r.test,
                    task: m.task.clone(),
                    response,
                    deadline: m.deadline,
                    excess: response - m.deadline,
                },
                None => Refusal::Unbounded {
                    test: r.test,
                    task: Some(m.task.clone()),
                    why: m.unbounded.unwrap_or(Unbounded::Overloaded),
                },
            }),
            LaneVerdict::Demand(d) if d.schedulable => None,
            LaneVerdict::Demand(d) => Some(match (d.violation, d.unbounded) {
                (Some(violation), _) => Refusal::DemandExceedsTime { test: d.test, violation },
                (None, why) => Refusal::Unbounded {
                    test: d.test,
                    task: None,
                    why: why.unwrap_or(Unbounded::Overloaded),
                },
            }),
        }
    }
}

/// One lane of the analysed set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LaneAnalysis {
    /// Lane index.
    pub lane: u32,
    /// Tasks assigned to it (the dispatcher must send their jobs to this lane).
    pub tasks: Vec<ModelId>,
    /// The test result for this lane (`None` when empty).
    pub verdict: Option<LaneVerdict>,
}

/// What the analysis looked at.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AnalysisDetail {
    /// The test that decided (`None` when the request was invalid before any test ran).
    pub test: Option<TestKind>,
    /// Per-lane results of the admitted partition (empty when no partition was found).
    pub lanes: Vec<LaneAnalysis>,
    /// The human-readable details of every lane result (or of the failed attempts).
    pub notes: Vec<String>,
}

/// The controller's answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AdmissionResult {
    /// Whether the model may join.
    pub admitted: bool,
    /// In words: which check refused and by how much, or why it was admitted.
    pub reason: String,
    /// The first refusal, typed (`None` when admitted).
    pub refusal: Option<Refusal>,
    /// Per-lane test results and the lane assignment.
    pub analysis_detail: AnalysisDetail,
    /// Total utilisation `Σ C/T` of the combined set, display only (never used to decide).
    pub utilisation: f64,
    /// Upper bound on the new model's response time: the response-time bound for FIFO and
    /// fixed priority; for EDF the deadline itself when admitted (the demand test proves
    /// `R ≤ D` without computing `R`); `None` when no bound exists.
    pub worst_case_response_time: Option<Duration>,
    /// Longest non-preemptive blocking the new model's jobs can suffer on its lane: the
    /// largest (convention-adjusted) WCET among lower-priority tasks (fixed priority), among
    /// tasks with a longer relative deadline (EDF), or among the other tasks (FIFO).
    pub max_blocking_time: Duration,
}

/// Decides admissions for one configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdmissionController {
    config: AdmissionConfig,
}

impl AdmissionController {
    /// A controller for `config`.
    pub fn new(config: AdmissionConfig) -> Self {
        AdmissionController { config }
    }

    /// The configuration.
    pub fn config(&self) -> &AdmissionConfig {
        &self.config
    }

    /// Whether `request` may join `existing`: validates the set, checks memory, and runs the
    /// policy's non-preemptive test on every lane. Never panics; every refusal is in the
    /// result.
    pub fn analyze(&self, request: &AdmissionRequest, existing: &[TaskParams]) -> AdmissionResult {
        let cfg = &self.config;
        let mut all: Vec<TaskParams> = existing.to_vec();
        all.push(request.task.clone());
        let utilisation =
            all.iter().map(|t| t.wcet.as_nanos() as f64 / t.period.as_nanos().max(1) as f64).sum();
        let mut result = AdmissionResult {
            admitted: false,
            reason: String::new(),
            refusal: None,
            analysis_detail: AnalysisDetail::default(),
            utilisation,
            worst_case_response_time: None,
            max_blocking_time: Duration::ZERO,
        };
        let unique_prio = cfg.policy == Policy::FixedPriority;
        if let Err(error) =
            validate_task(&request.task).and_then(|()| validate_task_set(&all, unique_prio))
        {
            result.reason = format!("refused: invalid task set: {error}");
            result.refusal = Some(Refusal::InvalidTask { error });
            return result;
        }
        let memory = request.memory.and_then(|m| {
            (m.required_bytes > m.available_bytes).then(|| Refusal::Memory {
                required_bytes: m.required_bytes,
                available_bytes: m.available_bytes,
                shortfall_bytes: m.required_bytes - m.available_bytes,
            })
        });
        result.analysis_detail.test = Some(cfg.policy.test());
        let opts = cfg.options;
        let policy = cfg.policy;
        let test = |ts: &[TaskParams]| -> Result<LaneVerdict, TaskSetError> {
            Ok(match policy {
                Policy::Fifo => LaneVerdict::Rta(fifo_nonpreemptive(ts, &opts)?),
                Policy::Edf => LaneVerdict::Demand(edf_nonpreemptive(ts, &opts)?),
                Policy::FixedPriority => LaneVerdict::Rta(fp_rta_nonpreemptive(ts, &opts)?),
            })
        };
        let schedule = match partition_first_fit(&all, cfg.lanes.get(), test) {
            Ok(lanes) => {
                self.fill_admitted(&mut result, &request.task, lanes);
                None
            }
            Err(Ok(unplaced)) => {
                result.analysis_detail.notes =
                    unplaced.attempts.iter().map(|a| a.detail().to_string()).collect();
                let per_lane: Vec<Refusal> =
                    unplaced.attempts.iter().filter_map(LaneVerdict::refusal).collect();
                if cfg.lanes.get() == 1 {
                    per_lane.into_iter().next()
                } else {
                    Some(Refusal::NoLaneFits { task: unplaced.task, per_lane })
                }
            }
            Err(Err(error)) => Some(Refusal::InvalidTask { error }),
        };
        let refusals: Vec<Refusal> = memory.into_iter().chain(schedule).collect();
        if refusals.is_empty() {
            result.admitted = true;
            result.reason = format!(
                "admitted by {} on {} lane(s): {}",
                cfg.policy.test(),
                cfg.lanes,
                result.analysis_detail.notes.join("; ")
            );
        } else {
            let words: Vec<String> = refusals.iter().map(ToString::to_string).collect();
            result.reason = format!("refused: {}", words.join("; also "));
            result.refusal = refusals.into_iter().next();
        }
        result
    }

    fn fill_admitted(
        &self,
        result: &mut AdmissionResult,
        task: &TaskParams,
        lanes: Vec<Lane<LaneVerdict>>,
    ) {
        for lane in lanes {
            let holds_request = lane.tasks.iter().any(|t| t.name == task.name);
            if holds_request {
                let (wcrt, blocking) = self.bounds_for(task, &lane);
                result.worst_case_response_time = wcrt;
                result.max_blocking_time = blocking;
            }
            if let Some(v) = &lane.result {
                result.analysis_detail.notes.push(format!("lane {}: {}", lane.lane, v.detail()));
            }
            result.analysis_detail.lanes.push(LaneAnalysis {
                lane: lane.lane,
                tasks: lane.tasks.iter().map(|t| t.name.clone()).collect(),
                verdict: lane.result,
            });
        }
    }

    fn bounds_for(
        &self,
        task: &TaskParams,
        lane: &Lane<LaneVerdict>,
    ) -> (Option<Duration>, Duration) {
        match &lane.result {
            Some(LaneVerdict::Rta(r)) => {
                let entry = r.task(task.name.as_str());
                (entry.and_then(|e| e.response), entry.map_or(Duration::ZERO, |e| e.blocking))
            }
            Some(LaneVerdict::Demand(d)) => {
                let blocking = lane
                    .tasks
                    .iter()
                    .filter(|t| t.name != task.name && t.deadline > task.deadline)
                    .map(|t| self.config.options.blocking.blocking_of(t.wcet))
                    .max()
                    .unwrap_or(Duration::ZERO);
                (d.schedulable.then_some(task.deadline), blocking)
            }
            None => (None, Duration::ZERO),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(name: &str, c: u64, p: u64, prio: u32) -> TaskParams {
        TaskParams::implicit(name, Duration::from_millis(c), Duration::from_millis(p), prio)
    }

    fn req(task: TaskParams) -> AdmissionRequest {
        AdmissionRequest { task, memory: None }
    }

    #[test]
    fn fixed_priority_refusal_names_task_and_excess() {
        let existing = [ms("cam", 4, 10, 1)];
        let ctl = AdmissionController::new(AdmissionConfig::new(Policy::FixedPriority));
        // New high-priority model with C = 7: cam's first job waits 7 ms → R = 11 > 10.
        let r = ctl.analyze(&req(ms("det", 7, 20, 0)), &existing);
        assert!(!r.admitted);
        assert!(
            r.reason.contains("task cam response 11.000 ms > deadline 10.000 ms (by 1.000 ms)"),
            "{}",
            r.reason
        );
        assert!(matches!(r.refusal, Some(Refusal::ResponseExceedsDeadline { .. })));
        let ok = ctl.analyze(&req(ms("det", 3, 20, 0)), &existing);
        assert!(ok.admitted, "{}", ok.reason);
        // det (priority 0) can be blocked by cam's 4 ms job: R = 4 + 3 = 7.
        assert_eq!(ok.worst_case_response_time, Some(Duration::from_millis(7)));
        assert_eq!(ok.max_blocking_time, Duration::from_millis(4));
        assert!((ok.utilisation - 0.55).abs() < 1e-9);
        assert_eq!(ok.analysis_detail.lanes.len(), 1);
        assert!(serde_json::to_string(&ok).is_ok());
    }

    #[test]
    fn memory_is_checked_with_the_shortfall() {
        let ctl = AdmissionController::new(AdmissionConfig::new(Policy::Edf));
        let mut request = req(ms("a", 1, 10, 0));
        request.memory = Some(MemoryCheck { required_bytes: 300, available_bytes: 200 });
        let r = ctl.analyze(&request, &[]);
        assert!(!r.admitted);
        assert!(r.reason.contains("short by 100 bytes"), "{}", r.reason);
        assert_eq!(
            r.refusal,
            Some(Refusal::Memory {
                required_bytes: 300,
                available_bytes: 200,
                shortfall_bytes: 100
            })
        );
        request.memory = Some(MemoryCheck { required_bytes: 200, available_bytes: 200 });
        let r = ctl.analyze(&request, &[]);
        assert!(r.admitted && r.worst_case_response_time == Some(Duration::from_millis(10)));
    }

    #[test]
    fn edf_and_fifo_refusals_and_invalid_input() {
        let existing = [ms("a", 1, 4, 0)];
        let edf = AdmissionController::new(AdmissionConfig::new(Policy::Edf));
        let r = edf.analyze(&req(ms("b", 4, 12, 1)), &existing);
        assert!(!r.admitted);
        assert!(r.reason.contains("edf_nonpreemptive: at t = 4.000 ms"), "{}", r.reason);
        let fifo = AdmissionController::new(AdmissionConfig::new(Policy::Fifo));
        let r = fifo.analyze(&req(ms("b", 4, 12, 1)), &existing);
        assert!(!r.admitted && r.reason.contains("fifo_nonpreemptive"), "{}", r.reason);
        let r = fifo.analyze(&req(ms("b", 2, 12, 1)), &existing);
        assert!(r.admitted, "{}", r.reason);
        assert_eq!(r.max_blocking_time, Duration::from_millis(1));
        let bad = fifo.analyze(&req(ms("a", 1, 4, 3)), &existing);
        assert!(matches!(bad.refusal, Some(Refusal::InvalidTask { .. })), "{}", bad.reason);
        assert!(bad.reason.contains("appears twice"));
        let over = edf.analyze(&req(ms("b", 4, 4, 1)), &existing);
        assert!(matches!(over.refusal, Some(Refusal::Unbounded { .. })), "{}", over.reason);
        let fp = AdmissionController::new(AdmissionConfig::new(Policy::FixedPriority));
        let over = fp.analyze(&req(ms("b", 4, 4, 1)), &existing);
        assert!(over.reason.contains("never ends"), "{}", over.reason);
        assert_eq!(fp.config().policy, Policy::FixedPriority);
    }

    #[test]
    fn lanes_admit_what_one_lane_refuses() {
        let existing = [ms("a", 6, 10, 0)];
        let two = NonZeroU32::new(2).unwrap_or(NonZeroU32::MIN);
        let one = AdmissionController::new(AdmissionConfig::new(Policy::FixedPriority));
        assert!(!one.analyze(&req(ms("b", 6, 10, 1)), &existing).admitted);
        let ctl =
            AdmissionController::new(AdmissionConfig::new(Policy::FixedPriority).with_lanes(two));
        let r = ctl.analyze(&req(ms("b", 6, 10, 1)), &existing);
        assert!(r.admitted, "{}", r.reason);
        assert_eq!(r.analysis_detail.lanes[1].tasks, vec![ModelId::new("b")]);
        assert_eq!(r.worst_case_response_time, Some(Duration::from_millis(6)));
        let existing = [ms("a", 6, 10, 0), ms("b", 6, 10, 1)];
        let r = ctl.analyze(&req(ms("c", 6, 10, 2)), &existing);
        assert!(!r.admitted);
        assert!(
            matches!(&r.refusal, Some(Refusal::NoLaneFits { per_lane, .. }) if per_lane.len() == 2)
        );
        assert!(r.reason.contains("fits on none of the 2 lanes"), "{}", r.reason);
    }
}
