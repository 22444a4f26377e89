//! Partitioned multi-lane analysis: [`partition_first_fit`] assigns tasks to lanes and every
//! lane is then analysed on its own as a uniprocessor.
//!
//! Owns the assignment heuristic only; the per-lane test is passed in. It must not know any
//! particular test.
//!
//! ## Why partitioned, not global
//! A job that waits for "any free lane" (global scheduling) would need a global
//! non-preemptive multiprocessor analysis; the known ones (e.g. Baruah 2006, Guan et al. 2011)
//! are sufficient-only and very pessimistic, and they lose the exact per-lane tests above.
//! Partitioning keeps each lane a uniprocessor with exact (or tight) analysis, makes a lane's
//! timing independent of the other lanes' dispatch order, and is simple to enforce in the
//! dispatcher: a task's jobs always go to its lane.
//!
//! Caveat that no scheduling test can see: lanes (CUDA streams) of one GPU share the SMs and
//! the memory bandwidth, so a kernel runs slower when another lane is busy. With more than one
//! lane the WCETs given here must be the *contended* WCETs (isolation WCET × the contention
//! factor measured by the WCET profiler); otherwise the per-lane verdicts are optimistic.
//!
//! ## Heuristic
//! First-fit decreasing: tasks sorted by decreasing utilisation `C/T` (exact cross-multiplied
//! comparison; ties keep input order), each placed on the first lane whose task set, with it
//! added, still passes the test. All the tests used here are monotone (removing a task never
//! hurts), so a set that passes on one lane is placed entirely on lane 0: more lanes never
//! refuse what one lane admits.

use super::verdict::Verdict;
use crate::task::TaskParams;
use aegis_trace::ModelId;

/// One lane of a successful partition.
#[derive(Clone, Debug, PartialEq)]
pub struct Lane<R> {
    /// Lane index, `0 ..` lanes.
    pub lane: u32,
    /// The tasks on it, in placement order.
    pub tasks: Vec<TaskParams>,
    /// The test result for exactly these tasks (`None` for an empty lane).
    pub result: Option<R>,
}

/// Why no partition was found: the first task (in placement order) that fits no lane.
#[derive(Clone, Debug, PartialEq)]
pub struct Unplaced<R> {
    /// The task that fits nowhere.
    pub task: ModelId,
    /// The test result of each lane with the task added, by lane index.
    pub attempts: Vec<R>,
}

/// Assigns `tasks` to `lanes` lanes by first-fit decreasing utilisation; `test` decides one
/// lane's task set. Test errors (invalid tasks) propagate as `Err(Err(e))`.
///
/// # Errors
/// `Err(Ok(unplaced))` when some task fits no lane; `Err(Err(e))` when the test itself errs.
pub fn partition_first_fit<R, E, F>(
    tasks: &[TaskParams],
    lanes: u32,
    mut test: F,
) -> Result<Vec<Lane<R>>, Result<Unplaced<R>, E>>
where
    R: Verdict,
    F: FnMut(&[TaskParams]) -> Result<R, E>,
{
    let mut order: Vec<&TaskParams> = tasks.iter().collect();
    // C_a/T_a > C_b/T_b  ⇔  C_a·T_b > C_b·T_a (u128: no overflow for u64 factors).
    order.sort_by(|a, b| {
        let lhs = u128::from(a.wcet.as_nanos()) * u128::from(b.period.as_nanos());
        let rhs = u128::from(b.wcet.as_nanos()) * u128::from(a.period.as_nanos());
        rhs.cmp(&lhs)
    });
    let mut out: Vec<Lane<R>> =
        (0..lanes).map(|lane| Lane { lane, tasks: Vec::new(), result: None }).collect();
    for task in order {
        let mut attempts = Vec::new();
        let mut placed = false;
        for lane in &mut out {
            let mut trial = lane.tasks.clone();
            trial.push(task.clone());
            let r = test(&trial).map_err(Err)?;
            if r.is_schedulable() {
                lane.tasks = trial;
                lane.result = Some(r);
                placed = true;
                break;
            }
            attempts.push(r);
        }
        if !placed {
            return Err(Ok(Unplaced { task: task.name.clone(), attempts }));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{AnalysisOptions, RtaResult, fp_rta_nonpreemptive};
    use crate::task::TaskSetError;
    use aegis_trace::Duration;

    fn t(name: &str, c: u64, p: u64, prio: u32) -> TaskParams {
        TaskParams::implicit(name, Duration::from_nanos(c), Duration::from_nanos(p), prio)
    }

    fn fp(ts: &[TaskParams]) -> Result<RtaResult, TaskSetError> {
        fp_rta_nonpreemptive(ts, &AnalysisOptions::default())
    }

    #[test]
    fn heavy_tasks_spread_over_lanes() {
        let set = [t("a", 6, 10, 0), t("b", 6, 10, 1), t("c", 1, 10, 2)];
        let lanes = partition_first_fit(&set, 2, fp).unwrap();
        assert_eq!(lanes[0].tasks.len(), 2, "{lanes:?}");
        assert_eq!(lanes[1].tasks[0].name.as_str(), "b");
        assert!(lanes.iter().all(|l| l.result.as_ref().is_some_and(Verdict::is_schedulable)));
        let un = partition_first_fit(&set, 1, fp).unwrap_err().unwrap();
        assert_eq!(un.task.as_str(), "b");
        assert_eq!(un.attempts.len(), 1);
        assert!(!un.attempts[0].is_schedulable());
        // Everything fits one lane → everything on lane 0.
        let light = [t("a", 1, 10, 0), t("b", 1, 10, 1)];
        let lanes = partition_first_fit(&light, 3, fp).unwrap();
        assert_eq!(lanes[0].tasks.len(), 2);
        assert!(lanes[2].result.is_none());
        let bad = [t("a", 0, 10, 0)];
        assert!(matches!(partition_first_fit(&bad, 1, fp), Err(Err(_))));
    }
}
