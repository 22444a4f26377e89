//! The vocabulary every test answers in: which test ran ([`TestKind`]), why an analysis gave no
//! bound ([`Unbounded`]), per-task response times ([`TaskResponse`], [`RtaResult`]) and the
//! [`Verdict`] trait that the lane partitioner and the admission controller read.
//!
//! Owns result types only; it must not compute anything.

use aegis_trace::{Duration, ModelId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// One schedulability test; its [`TestKind::name`] is the key in the `--json` report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TestKind {
    /// Liu & Layland utilisation bound (preemptive, rate/deadline-monotonic priorities).
    RmsLlBound,
    /// Hyperbolic bound of Bini, Buttazzo & Buttazzo (preemptive, RM/DM priorities).
    Hyperbolic,
    /// `U ≤ 1` for preemptive EDF.
    EdfUtil,
    /// Processor demand / QPA for preemptive EDF.
    EdfDemand,
    /// Response-time analysis, preemptive fixed priority.
    FpRtaPreemptive,
    /// Response-time analysis, non-preemptive fixed priority (Davis et al. 2007).
    FpRtaNonpreemptive,
    /// Non-preemptive EDF (George, Rivierre & Spuri 1996).
    EdfNonpreemptive,
    /// Response-time bound for non-preemptive FIFO dispatch.
    FifoNonpreemptive,
}

impl TestKind {
    /// The snake-case name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            TestKind::RmsLlBound => "rms_ll_bound",
            TestKind::Hyperbolic => "hyperbolic",
            TestKind::EdfUtil => "edf_util",
            TestKind::EdfDemand => "edf_demand",
            TestKind::FpRtaPreemptive => "fp_rta_preemptive",
            TestKind::FpRtaNonpreemptive => "fp_rta_nonpreemptive",
            TestKind::EdfNonpreemptive => "edf_nonpreemptive",
            TestKind::FifoNonpreemptive => "fifo_nonpreemptive",
        }
    }
}

impl fmt::Display for TestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an analysis produced no finite bound (reported as `null`; the verdict is then "not
/// schedulable").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Unbounded {
    /// The busy period provably never ends: the utilisation of the interfering tasks exceeds 1
    /// (or equals 1 while a blocking job adds work).
    Overloaded,
    /// The busy period or check interval passed [`super::AnalysisOptions::horizon`].
    HorizonExceeded {
        /// The horizon in nanoseconds.
        horizon_ns: u64,
    },
    /// The analysis used [`super::AnalysisOptions::max_steps`] iterations.
    StepLimit {
        /// The step budget.
        max_steps: u64,
    },
}

impl fmt::Display for Unbounded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unbounded::Overloaded => {
                f.write_str("the busy period never ends (interfering utilisation ≥ 1)")
            }
            Unbounded::HorizonExceeded { horizon_ns } => write!(
                f,
                "the busy period exceeds the analysis horizon of {}",
                Duration::from_nanos(*horizon_ns)
            ),
            Unbounded::StepLimit { max_steps } => {
                write!(f, "the analysis exceeded its budget of {max_steps} steps")
            }
        }
    }
}

/// What the partitioner and the admission controller need from any test result.
pub trait Verdict {
    /// Whether the test proved every deadline is met.
    fn is_schedulable(&self) -> bool;
    /// A human-readable explanation (why it failed and by how much, or the margin).
    fn detail(&self) -> &str;
}

/// One task's outcome in a response-time analysis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskResponse {
    /// The task.
    pub task: ModelId,
    /// Its relative deadline.
    pub deadline: Duration,
    /// The blocking term the analysis charged to it (non-preemptive tests; zero otherwise).
    pub blocking: Duration,
    /// Worst-case response time (an upper bound; exact for the exact tests); `None` when the
    /// busy period does not converge within the limits (see `unbounded`).
    pub response: Option<Duration>,
    /// Length of the busy period that was examined, when it converged.
    pub busy_period: Option<Duration>,
    /// Number of jobs (or release offsets) of the busy period that were checked.
    pub jobs_checked: u64,
    /// Why `response` is `None`.
    pub unbounded: Option<Unbounded>,
}

impl TaskResponse {
    /// True when the bound exists and does not exceed the deadline.
    pub fn meets_deadline(&self) -> bool {
        self.response.is_some_and(|r| r <= self.deadline)
    }

    /// One line: "`task`: response R ≤ deadline D" or why not.
    pub fn describe(&self) -> String {
        match (self.response, &self.unbounded) {
            (Some(r), _) if r <= self.deadline => {
                format!("task {}: response {} ≤ deadline {}", self.task, r, self.deadline)
            }
            (Some(r), _) => format!(
                "task {}: response {} > deadline {} (by {})",
                self.task,
                r,
                self.deadline,
                r - self.deadline
            ),
            (None, Some(u)) => format!("task {}: no response bound: {u}", self.task),
            (None, None) => format!("task {}: no response bound", self.task),
        }
    }
}

/// Result of a response-time analysis (fixed priority or FIFO).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RtaResult {
    /// The test.
    pub test: TestKind,
    /// True iff every task has a bound within its deadline.
    pub schedulable: bool,
    /// Per task, in input order.
    pub tasks: Vec<TaskResponse>,
    /// Human-readable summary: the first task that misses and by how much, or the tightest one.
    pub detail: String,
}

impl RtaResult {
    pub(crate) fn from_tasks(test: TestKind, tasks: Vec<TaskResponse>) -> Self {
        let schedulable = tasks.iter().all(TaskResponse::meets_deadline);
        let detail = if let Some(miss) = tasks.iter().find(|t| !t.meets_deadline()) {
            format!("{test}: not schedulable: {}", miss.describe())
        } else if let Some(tight) = tasks.iter().min_by_key(|t| {
            t.deadline.saturating_sub(t.response.unwrap_or(Duration::ZERO)).as_nanos()
        }) {
            format!("{test}: schedulable; tightest {}", tight.describe())
        } else {
            format!("{test}: schedulable (no tasks)")
        };
        RtaResult { test, schedulable, tasks, detail }
    }

    /// The entry of the named task.
    pub fn task(&self, name: &str) -> Option<&TaskResponse> {
        self.tasks.iter().find(|t| t.task.as_str() == name)
    }

    /// The first task (input order) whose bound is missing or exceeds its deadline.
    pub fn first_miss(&self) -> Option<&TaskResponse> {
        self.tasks.iter().find(|t| !t.meets_deadline())
    }
}

impl Verdict for RtaResult {
    fn is_schedulable(&self) -> bool {
        self.schedulable
    }
    fn detail(&self) -> &str {
        &self.detail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(name: &str, r: Option<u64>, d: u64) -> TaskResponse {
        TaskResponse {
            task: ModelId::new(name),
            deadline: Duration::from_millis(d),
            blocking: Duration::ZERO,
            response: r.map(Duration::from_millis),
            busy_period: None,
            jobs_checked: 1,
            unbounded: r.is_none().then_some(Unbounded::Overloaded),
        }
    }

    #[test]
    fn rta_result_names_the_miss_and_the_margin() {
        let r = RtaResult::from_tasks(
            TestKind::FpRtaNonpreemptive,
            vec![resp("a", Some(3), 5), resp("x", Some(12), 10)],
        );
        assert!(!r.is_schedulable());
        assert!(r.detail().contains("task x: response 12.000 ms > deadline 10.000 ms"), "{r:?}");
        assert!(r.detail().contains("by 2.000 ms"));
        assert_eq!(r.first_miss().map(|t| t.task.as_str()), Some("x"));
        assert_eq!(r.task("a").and_then(|t| t.response), Some(Duration::from_millis(3)));
        let r = RtaResult::from_tasks(TestKind::FpRtaPreemptive, vec![resp("a", None, 5)]);
        assert!(r.detail.contains("never ends"), "{}", r.detail);
        let r = RtaResult::from_tasks(TestKind::FifoNonpreemptive, vec![]);
        assert!(r.schedulable && r.detail.contains("no tasks"));
        let r = RtaResult::from_tasks(TestKind::FpRtaPreemptive, vec![resp("a", Some(4), 5)]);
        assert!(r.detail.contains("tightest task a"));
        let mut t = resp("a", None, 5);
        t.unbounded = None;
        assert!(t.describe().contains("no response bound"));
    }

    #[test]
    fn names_and_unbounded_messages() {
        assert_eq!(TestKind::EdfDemand.to_string(), "edf_demand");
        for k in [
            TestKind::RmsLlBound,
            TestKind::Hyperbolic,
            TestKind::EdfUtil,
            TestKind::FpRtaPreemptive,
            TestKind::FpRtaNonpreemptive,
            TestKind::EdfNonpreemptive,
            TestKind::FifoNonpreemptive,
        ] {
            assert_eq!(serde_json::to_value(k).ok(), Some(serde_json::json!(k.name())));
        }
        assert!(Unbounded::StepLimit { max_steps: 3 }.to_string().contains("3 steps"));
        assert!(Unbounded::HorizonExceeded { horizon_ns: 1_000 }.to_string().contains("1.000 µs"));
    }
}
