//! Response-time bound for non-preemptive FIFO dispatch on one lane: [`fifo_nonpreemptive`].
//!
//! Owns the FIFO busy-window argument. It must not know priorities or deadlines beyond the
//! final comparison.
//!
//! ## Derivation and assumptions
//! Assumptions: sporadic tasks (minimum inter-arrival `T`), jobs run to completion in release
//! order on one work-conserving lane, jobs released at the same instant are served in *any*
//! order (the bound takes the worst), each job runs at most its WCET `C`.
//!
//! Take a job J released at `r`, and let `s ≤ r` be the start of the busy period that contains
//! `r` (the lane was idle just before `s`). FIFO serves nothing released after `r` before J, and
//! everything released in `[s, r]` was released after the lane went idle, so the lane is busy
//! from `s` until J completes executing exactly the jobs released in `[s, r]` (J and the jobs
//! that tie with it included). With `x = r − s`, the work released in a closed window of length
//! `x` is at most `W(x) = Σₖ (⌊x/Tₖ⌋ + 1)·Cₖ`, so J completes by `s + W(x)` and its response is at
//! most `W(x) − x`. `x` is shorter than the longest busy period, the synchronous busy period `L`
//! (least `L > 0` with `Σₖ ⌈L/Tₖ⌉·Cₖ ≤ L`). `W(x) − x` only jumps up at release points, so
//!
//! `R_FIFO = max { W(x) − x : x ∈ {0} ∪ {m·Tₖ : m ≥ 1}, x < L }`,
//!
//! the same bound for every task (it already includes the job's own `C`). This is the bound
//! that pyRTA computes for FIFO (`fifo.rta`), which the cross-check compares exactly. Being
//! non-preemptive costs FIFO nothing extra: a job that started before `r` was released before
//! `r` and is part of `W(x)` already. The lane is schedulable iff `R_FIFO ≤ Dᵢ` for every task.

use super::arith::{Budget, Ctd, Ratio, checked_sum, dur, least_fixed_point};
use super::options::AnalysisOptions;
use super::verdict::{RtaResult, TaskResponse, TestKind, Unbounded};
use crate::task::{TaskParams, TaskSetError, validate_task_set};
use aegis_trace::Duration;
use std::cmp::Ordering;

/// Response-time bound of non-preemptive FIFO dispatch on one lane (module docs for the
/// derivation). Priorities are ignored. `blocking` in each entry is the longest job of another
/// task (the job a new release may find running), for display; it is already inside the bound.
///
/// # Errors
/// An invalid task or a duplicate name.
pub fn fifo_nonpreemptive(
    tasks: &[TaskParams],
    opts: &AnalysisOptions,
) -> Result<RtaResult, TaskSetError> {
    validate_task_set(tasks, false)?;
    let all: Vec<Ctd> = tasks.iter().map(Ctd::of).collect();
    let mut budget = Budget::new(opts.max_steps);
    let bound = fifo_bound(&all, opts, &mut budget);
    let entries = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let blocking = tasks
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(_, o)| o.wcet)
                .max()
                .unwrap_or(Duration::ZERO);
            let mut e = TaskResponse {
                task: t.name.clone(),
                deadline: t.deadline,
                blocking,
                response: None,
                busy_period: None,
                jobs_checked: 0,
                unbounded: None,
            };
            match &bound {
                Ok((r, l, points)) => {
                    e.response = Some(dur(*r));
                    e.busy_period = Some(dur(*l));
                    e.jobs_checked = *points;
                }
                Err(u) => e.unbounded = Some(*u),
            }
            e
        })
        .collect();
    Ok(RtaResult::from_tasks(TestKind::FifoNonpreemptive, entries))
}

/// `(R_FIFO, L, release points checked)`.
fn fifo_bound(
    all: &[Ctd],
    opts: &AnalysisOptions,
    budget: &mut Budget,
) -> Result<(u128, u128, u64), Unbounded> {
    if all.is_empty() {
        return Ok((0, 0, 0));
    }
    if Ratio::sum(all.iter().map(|x| (x.c, x.t))).cmp_int(1) == Ordering::Greater {
        return Err(Unbounded::Overloaded);
    }
    let horizon = u128::from(opts.horizon.as_nanos());
    let total_c: u128 = all.iter().map(|x| x.c).sum();
    let l = least_fixed_point(total_c, horizon, budget, |l| {
        checked_sum(all.iter().copied(), |x| x.rbf_open(l))
    })?;
    let exceeded = Unbounded::HorizonExceeded { horizon_ns: opts.horizon.as_nanos() };
    // Walk the release points below L in increasing order, one task cursor each.
    let mut next: Vec<u128> = vec![0; all.len()];
    let mut worst = 0u128;
    let mut points = 0u64;
    while let Some(&x) = next.iter().min() {
        if x >= l {
            break;
        }
        budget.step()?;
        points += 1;
        let w = checked_sum(all.iter().copied(), |k| k.rbf_closed(x)).ok_or(exceeded)?;
        worst = worst.max(w.saturating_sub(x));
        for (n, k) in next.iter_mut().zip(all) {
            if *n == x {
                *n = n.checked_add(k.t).ok_or(exceeded)?;
            }
        }
    }
    Ok((worst, l, points))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str, c: u64, p: u64, d: u64) -> TaskParams {
        crate::task::task_ns(name, c, p, d, 0)
    }

    #[test]
    fn pyrta_readme_fifo_example() {
        // pyRTA README quickstart (response-time-analysis 0.1.1): tsk1 (C=1, T=5),
        // tsk2 (C=6, T=10) under FIFO: bound 7. By hand: L = 7 + … : ⌈L/5⌉+6⌈L/10⌉ → L = 8;
        // x = 0: W = 1 + 6 = 7 → 7; x = 5: W = 2 + 6 = 8 → 3. R = 7.
        let set = [t("tsk1", 1, 5, 5), t("tsk2", 6, 10, 9)];
        let res = fifo_nonpreemptive(&set, &AnalysisOptions::default()).unwrap();
        assert_eq!(res.task("tsk1").unwrap().response, Some(Duration::from_nanos(7)));
        assert_eq!(res.task("tsk1").unwrap().blocking, Duration::from_nanos(6));
        assert!(!res.schedulable, "tsk1 has D = 5 < 7: {}", res.detail);
        let set = [t("tsk1", 1, 8, 8), t("tsk2", 6, 10, 9)];
        assert!(fifo_nonpreemptive(&set, &AnalysisOptions::default()).unwrap().schedulable);
    }

    #[test]
    fn overload_empty_and_limits() {
        let over = [t("a", 3, 4, 4), t("b", 2, 4, 4)];
        let res = fifo_nonpreemptive(&over, &AnalysisOptions::default()).unwrap();
        assert_eq!(res.tasks[0].unbounded, Some(Unbounded::Overloaded));
        assert!(fifo_nonpreemptive(&[], &AnalysisOptions::default()).unwrap().schedulable);
        // U = 1: converges at the hyperperiod; here the bound is the whole busy period minus 0.
        let full = [t("a", 1, 2, 2), t("b", 2, 4, 4)];
        let res = fifo_nonpreemptive(&full, &AnalysisOptions::default()).unwrap();
        assert_eq!(res.tasks[1].response, Some(Duration::from_nanos(3)));
        let few = AnalysisOptions { max_steps: 1, ..Default::default() };
        let res = fifo_nonpreemptive(&[t("a", 1, 3, 3), t("b", 1, 5, 5)], &few).unwrap();
        assert!(matches!(res.tasks[0].unbounded, Some(Unbounded::StepLimit { .. })));
    }
}
