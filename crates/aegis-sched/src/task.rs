//! The real-time task model shared by every analysis, policy and the simulator.
//!
//! Owns [`TaskParams`] (one model as a sporadic task: WCET, minimum inter-arrival time,
//! relative deadline, priority) and task-set validation ([`validate_task_set`]). Priority 0 is the highest, here and
//! everywhere in the API. It must not know how a WCET was obtained or how jobs execute.

use aegis_trace::{Duration, ModelId};
use serde::{Deserialize, Serialize};

/// One model as a sporadic task with a constrained deadline (`wcet <= deadline <= period`).
///
/// All times are integer nanoseconds. Jobs are non-preemptive once started on a lane.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TaskParams {
    /// The model (unique within a task set).
    pub name: ModelId,
    /// Worst-case execution time C.
    pub wcet: Duration,
    /// Period or minimum inter-arrival time T.
    pub period: Duration,
    /// Relative deadline D.
    pub deadline: Duration,
    /// Fixed priority; 0 is the highest; unique within a task set for fixed-priority tests.
    pub priority: u32,
}

impl TaskParams {
    /// A task with an implicit deadline (D = T).
    pub fn implicit(
        name: impl Into<ModelId>,
        wcet: Duration,
        period: Duration,
        priority: u32,
    ) -> Self {
        TaskParams { name: name.into(), wcet, period, deadline: period, priority }
    }
}

/// Why a task or task set cannot be analysed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TaskSetError {
    /// A task's period is zero.
    #[error("task {task}: period is zero; give a positive period")]
    ZeroPeriod {
        /// The task.
        task: ModelId,
    },
    /// A task's WCET is zero.
    #[error("task {task}: wcet is zero; give the measured worst-case execution time")]
    ZeroWcet {
        /// The task.
        task: ModelId,
    },
    /// A task's deadline is zero.
    #[error("task {task}: deadline is zero; give a positive relative deadline")]
    ZeroDeadline {
        /// The task.
        task: ModelId,
    },
    /// WCET larger than the deadline: no analysis can meet it.
    #[error(
        "task {task}: wcet {wcet} exceeds deadline {deadline}; the task can never meet its deadline"
    )]
    WcetExceedsDeadline {
        /// The task.
        task: ModelId,
        /// Its WCET.
        wcet: Duration,
        /// Its deadline.
        deadline: Duration,
    },
    /// Deadline larger than the period (arbitrary deadlines are not supported).
    #[error("task {task}: deadline {deadline} exceeds period {period}; use deadline <= period")]
    DeadlineExceedsPeriod {
        /// The task.
        task: ModelId,
        /// Its deadline.
        deadline: Duration,
        /// Its period.
        period: Duration,
    },
    /// Two tasks share a name.
    #[error("task name {task} appears twice; names must be unique")]
    DuplicateName {
        /// The name.
        task: ModelId,
    },
    /// Two tasks share a priority (fixed-priority analysis needs a total order).
    #[error(
        "tasks {a} and {b} share priority {priority}; fixed-priority analysis needs unique priorities"
    )]
    DuplicatePriority {
        /// One task.
        a: ModelId,
        /// The other.
        b: ModelId,
        /// The shared priority.
        priority: u32,
    },
}

/// Checks one task's parameters.
///
/// # Errors
/// The first problem found, naming the task and the fix.
pub fn validate_task(t: &TaskParams) -> Result<(), TaskSetError> {
    let task = t.name.clone();
    if t.period.is_zero() {
        return Err(TaskSetError::ZeroPeriod { task });
    }
    if t.wcet.is_zero() {
        return Err(TaskSetError::ZeroWcet { task });
    }
    if t.deadline.is_zero() {
        return Err(TaskSetError::ZeroDeadline { task });
    }
    if t.wcet > t.deadline {
        return Err(TaskSetError::WcetExceedsDeadline { task, wcet: t.wcet, deadline: t.deadline });
    }
    if t.deadline > t.period {
        return Err(TaskSetError::DeadlineExceedsPeriod {
            task,
            deadline: t.deadline,
            period: t.period,
        });
    }
    Ok(())
}

/// Checks every task and that names (and, when `unique_priorities`, priorities) are unique.
///
/// # Errors
/// The first problem found.
pub fn validate_task_set(
    tasks: &[TaskParams],
    unique_priorities: bool,
) -> Result<(), TaskSetError> {
    for (i, t) in tasks.iter().enumerate() {
        validate_task(t)?;
        for u in &tasks[..i] {
            if u.name == t.name {
                return Err(TaskSetError::DuplicateName { task: t.name.clone() });
            }
            if unique_priorities && u.priority == t.priority {
                return Err(TaskSetError::DuplicatePriority {
                    a: u.name.clone(),
                    b: t.name.clone(),
                    priority: t.priority,
                });
            }
        }
    }
    Ok(())
}

/// A task from nanosecond figures, for the unit tests of this crate's analyses.
#[cfg(test)]
pub(crate) fn task_ns(name: &str, c: u64, t: u64, d: u64, priority: u32) -> TaskParams {
    TaskParams {
        name: ModelId::new(name),
        wcet: Duration::from_nanos(c),
        period: Duration::from_nanos(t),
        deadline: Duration::from_nanos(d),
        priority,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str, c: u64, tp: u64, d: u64, p: u32) -> TaskParams {
        task_ns(name, c, tp, d, p)
    }

    #[test]
    fn bad_tasks_are_named_with_the_fix() {
        assert!(matches!(validate_task(&t("a", 1, 0, 1, 0)), Err(TaskSetError::ZeroPeriod { .. })));
        assert!(matches!(validate_task(&t("a", 0, 5, 5, 0)), Err(TaskSetError::ZeroWcet { .. })));
        assert!(matches!(
            validate_task(&t("a", 1, 5, 0, 0)),
            Err(TaskSetError::ZeroDeadline { .. })
        ));
        let e = validate_task(&t("a", 6, 10, 5, 0)).unwrap_err();
        assert!(e.to_string().contains("never meet"), "{e}");
        assert!(matches!(
            validate_task(&t("a", 1, 5, 6, 0)),
            Err(TaskSetError::DeadlineExceedsPeriod { .. })
        ));
        assert!(
            validate_task(&TaskParams::implicit(
                "ok",
                Duration::from_nanos(1),
                Duration::from_nanos(2),
                0
            ))
            .is_ok()
        );
    }

    #[test]
    fn duplicates_are_refused() {
        let set = [t("a", 1, 10, 10, 0), t("a", 1, 10, 10, 1)];
        assert!(matches!(validate_task_set(&set, false), Err(TaskSetError::DuplicateName { .. })));
        let set = [t("a", 1, 10, 10, 0), t("b", 1, 10, 10, 0)];
        assert!(validate_task_set(&set, false).is_ok());
        assert!(matches!(
            validate_task_set(&set, true),
            Err(TaskSetError::DuplicatePriority { .. })
        ));
    }
}
