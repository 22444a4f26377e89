//! Fixed-priority response-time analysis: [`fp_rta_preemptive`] (Joseph & Pandya 1986,
//! Audsley et al. 1993, with Lehoczky's 1990 multi-job busy period) and
//! [`fp_rta_nonpreemptive`] (Davis, Burns, Bril & Lukkien 2007).
//!
//! Owns the level-i busy period and the per-job fixed points. Both analyses examine *every*
//! job of task i in its level-i busy period, so they stay exact when a response exceeds the
//! period and — for the non-preemptive case — they are the *corrected* analysis: the older
//! single-first-job analysis is optimistic (see the tests for a set whose first job meets its
//! deadline while the second misses). It must not know EDF, FIFO or lanes.
//!
//! ## Equations (all integer nanoseconds)
//! Level-i busy period, `B` the blocking term (0 when preemptive):
//! `L = B + Σ_{j ∈ hep(i)} ⌈L/Tⱼ⌉·Cⱼ`, jobs `q = 0 … ⌈L/Tᵢ⌉ − 1`.
//!
//! Preemptive: `w(q) = (q+1)·Cᵢ + Σ_{j ∈ hp(i)} ⌈w/Tⱼ⌉·Cⱼ`, `R(q) = w(q) − q·Tᵢ`.
//!
//! Non-preemptive (`w` is the start time of job q; a higher-priority job released exactly
//! when job q would start goes first, hence `⌊w/Tⱼ⌋ + 1`):
//! `w(q) = B + q·Cᵢ + Σ_{j ∈ hp(i)} (⌊w/Tⱼ⌋ + 1)·Cⱼ`, `R(q) = w(q) + Cᵢ − q·Tᵢ`,
//! with `B = max_{k ∈ lp(i)} Cₖ` under [`BlockingConvention::Continuous`] and
//! `max_{k ∈ lp(i)} (Cₖ − tick)` under [`BlockingConvention::Discrete`] (Davis et al.'s τ_bit,
//! pyRTA's `C − 1`).
//!
//! `Rᵢ = max_q R(q)`. Under synchronous release (and, for the non-preemptive case, the
//! lower-priority blocking job started one tick before) the discrete versions are exact;
//! the continuous version adds at most the one-tick blocking difference.
//!
//! [`BlockingConvention::Continuous`]: super::BlockingConvention::Continuous
//! [`BlockingConvention::Discrete`]: super::BlockingConvention::Discrete

use super::arith::{Budget, Ctd, Ratio, checked_sum, dur, least_fixed_point};
use super::options::AnalysisOptions;
use super::verdict::{RtaResult, TaskResponse, TestKind, Unbounded};
use crate::task::{TaskParams, TaskSetError, validate_task_set};
use aegis_trace::Duration;
use std::cmp::Ordering;

/// Preemptive fixed-priority response-time analysis (exact for sporadic tasks with
/// constrained deadlines under synchronous release). Priority 0 is the highest.
///
/// # Errors
/// An invalid task, a duplicate name or a duplicate priority.
pub fn fp_rta_preemptive(
    tasks: &[TaskParams],
    opts: &AnalysisOptions,
) -> Result<RtaResult, TaskSetError> {
    fp_rta(tasks, opts, false)
}

/// Non-preemptive fixed-priority response-time analysis of Davis, Burns, Bril & Lukkien
/// (2007), checking every job of the level-i busy period. Blocking follows
/// `opts.blocking` (module docs). Priority 0 is the highest.
///
/// # Errors
/// An invalid task, a duplicate name or a duplicate priority.
pub fn fp_rta_nonpreemptive(
    tasks: &[TaskParams],
    opts: &AnalysisOptions,
) -> Result<RtaResult, TaskSetError> {
    fp_rta(tasks, opts, true)
}

fn fp_rta(
    tasks: &[TaskParams],
    opts: &AnalysisOptions,
    nonpreemptive: bool,
) -> Result<RtaResult, TaskSetError> {
    validate_task_set(tasks, true)?;
    let mut budget = Budget::new(opts.max_steps);
    let out = tasks
        .iter()
        .map(|ti| {
            let hp: Vec<Ctd> =
                tasks.iter().filter(|t| t.priority < ti.priority).map(Ctd::of).collect();
            let blocking = if nonpreemptive {
                tasks
                    .iter()
                    .filter(|t| t.priority > ti.priority)
                    .map(|t| opts.blocking.blocking_of(t.wcet))
                    .max()
                    .unwrap_or(Duration::ZERO)
            } else {
                Duration::ZERO
            };
            let mut entry = TaskResponse {
                task: ti.name.clone(),
                deadline: ti.deadline,
                blocking,
                response: None,
                busy_period: None,
                jobs_checked: 0,
                unbounded: None,
            };
            match task_response(Ctd::of(ti), &hp, blocking, nonpreemptive, opts, &mut budget) {
                Ok((r, l, jobs)) => {
                    entry.response = Some(dur(r));
                    entry.busy_period = Some(dur(l));
                    entry.jobs_checked = jobs;
                }
                Err(u) => entry.unbounded = Some(u),
            }
            entry
        })
        .collect();
    let kind = if nonpreemptive { TestKind::FpRtaNonpreemptive } else { TestKind::FpRtaPreemptive };
    Ok(RtaResult::from_tasks(kind, out))
}

/// `(R, L, jobs checked)` of one task.
fn task_response(
    ti: Ctd,
    hp: &[Ctd],
    blocking: Duration,
    nonpreemptive: bool,
    opts: &AnalysisOptions,
    budget: &mut Budget,
) -> Result<(u128, u128, u64), Unbounded> {
    let b = u128::from(blocking.as_nanos());
    // Exact divergence check: the busy period never ends when the level-i utilisation exceeds
    // one, or equals one while blocking adds work.
    let u = Ratio::sum(hp.iter().chain([&ti]).map(|x| (x.c, x.t)));
    match u.cmp_int(1) {
        Ordering::Greater => return Err(Unbounded::Overloaded),
        Ordering::Equal if b > 0 => return Err(Unbounded::Overloaded),
        _ => {}
    }
    let horizon = u128::from(opts.horizon.as_nanos());
    let hep_c: u128 = hp.iter().map(|x| x.c).sum::<u128>() + ti.c;
    let l = least_fixed_point(b + hep_c, horizon, budget, |l| {
        let s = checked_sum(hp.iter().copied().chain([ti]), |x| x.rbf_open(l))?;
        s.checked_add(b)
    })?;
    let jobs = l.div_ceil(ti.t);
    let hp_c: u128 = hp.iter().map(|x| x.c).sum();
    let mut worst = 0u128;
    let mut w_prev: Option<u128> = None;
    for q in 0..jobs {
        budget.step()?;
        let own = if nonpreemptive { b + q * ti.c } else { (q + 1) * ti.c };
        // w(q) ≥ w(q−1) + Cᵢ, so starting there never overshoots the least fixed point.
        let start = w_prev.map_or(own + hp_c, |w| (w + ti.c).max(own + hp_c));
        let w = least_fixed_point(start, horizon, budget, |w| {
            let s = if nonpreemptive {
                checked_sum(hp.iter().copied(), |x| x.rbf_closed(w))?
            } else {
                checked_sum(hp.iter().copied(), |x| x.rbf_open(w))?
            };
            s.checked_add(own)
        })?;
        w_prev = Some(w);
        let finish = if nonpreemptive { w + ti.c } else { w };
        worst = worst.max(finish.saturating_sub(q * ti.t));
    }
    Ok((worst, l, u64::try_from(jobs).unwrap_or(u64::MAX)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::options::BlockingConvention;

    fn t(name: &str, c: u64, p: u64, d: u64, prio: u32) -> TaskParams {
        crate::task::task_ns(name, c, p, d, prio)
    }

    fn r(res: &RtaResult, name: &str) -> Option<u64> {
        res.task(name).and_then(|x| x.response).map(Duration::as_nanos)
    }

    #[test]
    fn burns_wellings_preemptive_example() {
        // Burns & Wellings, "Real-Time Systems and Programming Languages" (4th ed.), §11.5:
        // a (T=7, C=3), b (T=12, C=3), c (T=20, C=5): R = 3, 6, 20.
        let set = [t("a", 3, 7, 7, 0), t("b", 3, 12, 12, 1), t("c", 5, 20, 20, 2)];
        let res = fp_rta_preemptive(&set, &AnalysisOptions::default()).unwrap();
        assert_eq!((r(&res, "a"), r(&res, "b"), r(&res, "c")), (Some(3), Some(6), Some(20)));
        assert!(res.schedulable, "{}", res.detail);
    }

    #[test]
    fn lehoczky_later_job_is_the_worst_when_response_exceeds_the_period() {
        // Lehoczky 1990 style (arbitrary deadlines; here D = T and the set is unschedulable):
        // hp (C=26, T=70), task (C=62, T=100). First job R = 114 > 100; the busy period holds
        // several jobs and a later one is worse: the exact WCRT is the maximum over all of them.
        let set = [t("hp", 26, 70, 70, 0), t("lo", 62, 100, 100, 1)];
        let res = fp_rta_preemptive(&set, &AnalysisOptions::default()).unwrap();
        let lo = res.task("lo").unwrap();
        assert!(lo.jobs_checked > 1);
        // Hand computation: L = 26⌈L/70⌉ + 62⌈L/100⌉ → 694, so jobs q = 0..6.
        // w(q) = 62(q+1) + 26⌈w/70⌉: w = 114, 202, 316, 404, 518, 606, 694;
        // R(q) = w − 100q = 114, 102, 116, 104, 118, 106, 94 → the worst is job q = 4: 118.
        assert_eq!(lo.busy_period, Some(Duration::from_nanos(694)));
        assert_eq!(lo.jobs_checked, 7);
        assert_eq!(lo.response, Some(Duration::from_nanos(118)));
        assert!(!res.schedulable);
    }

    #[test]
    fn davis_2007_first_job_meets_later_job_misses() {
        // Counterexample in the style of Davis, Burns, Bril & Lukkien 2007 §3 (three equal-length
        // CAN messages, periods 2.5/3.5/3.5 ms, scaled ×2 to integers): A (C=2, T=5),
        // B (C=2, T=7), C (C=2, T=7) with D_C = 6 chosen here. C is lowest priority (B = 0).
        // Job 0 of C: starts at 4, ends at 6 (R = 6 ≤ 6) — the old single-job analysis stops
        // here and says "schedulable". The level-3 busy period is 14 long and holds a second
        // job, released at 7, which starts at 12 (A at 5 and 10, B at 7 go first) and ends at
        // 14: R = 7 > 6. The simulation test in tests/analysis_crosscheck.rs replays this.
        let set = [t("A", 2, 5, 5, 0), t("B", 2, 7, 7, 1), t("C", 2, 7, 6, 2)];
        let res = fp_rta_nonpreemptive(&set, &AnalysisOptions::default()).unwrap();
        let c = res.task("C").unwrap();
        assert_eq!(c.busy_period, Some(Duration::from_nanos(14)));
        assert_eq!(c.jobs_checked, 2);
        assert_eq!(c.response, Some(Duration::from_nanos(7)));
        assert!(!res.schedulable);
        assert!(
            res.detail.contains("task C: response 7 ns > deadline 6 ns (by 1 ns)"),
            "{}",
            res.detail
        );
        // With D_C = 7 it is schedulable (second job exactly on time).
        let set = [t("A", 2, 5, 5, 0), t("B", 2, 7, 7, 1), t("C", 2, 7, 7, 2)];
        assert!(fp_rta_nonpreemptive(&set, &AnalysisOptions::default()).unwrap().schedulable);
    }

    #[test]
    fn blocking_conventions_and_hand_example() {
        // Hand example (Buttazzo, Hard Real-Time Computing Systems, 3rd ed., §8 non-preemptive
        // scheduling, same structure): hi (C=1, T=4), lo (C=3, T=10).
        // Continuous: B_hi = 3, w = 3 + 0 → R_hi = 4. Discrete (tick 1): B_hi = 2, R_hi = 3.
        // lo: B = 0, w = 0 + (⌊w/4⌋+1)·1 = 1 → R_lo = 1 + 3 = 4.
        let set = [t("hi", 1, 4, 4, 0), t("lo", 3, 10, 10, 1)];
        let cont = fp_rta_nonpreemptive(&set, &AnalysisOptions::default()).unwrap();
        assert_eq!((r(&cont, "hi"), r(&cont, "lo")), (Some(4), Some(4)));
        assert_eq!(cont.task("hi").unwrap().blocking, Duration::from_nanos(3));
        let disc = AnalysisOptions::with_blocking(BlockingConvention::Discrete {
            tick: Duration::from_nanos(1),
        });
        let d = fp_rta_nonpreemptive(&set, &disc).unwrap();
        assert_eq!((r(&d, "hi"), r(&d, "lo")), (Some(3), Some(4)));
        // Preemptive: no blocking; lo: w = 3 + ⌈w/4⌉ → 4.
        let p = fp_rta_preemptive(&set, &AnalysisOptions::default()).unwrap();
        assert_eq!((r(&p, "hi"), r(&p, "lo")), (Some(1), Some(4)));
    }

    #[test]
    fn overload_and_limits_give_null_not_a_guess() {
        let set = [t("a", 3, 4, 4, 0), t("b", 2, 4, 4, 1)];
        let res = fp_rta_preemptive(&set, &AnalysisOptions::default()).unwrap();
        assert_eq!(res.task("a").unwrap().response, Some(Duration::from_nanos(3)));
        assert_eq!(res.task("b").unwrap().unbounded, Some(Unbounded::Overloaded));
        assert!(!res.schedulable);
        // U = 1 exactly: preemptive converges (hyperperiod), non-preemptive with blocking does not.
        let set = [t("a", 1, 2, 2, 0), t("b", 2, 4, 4, 1)];
        let p = fp_rta_preemptive(&set, &AnalysisOptions::default()).unwrap();
        assert_eq!(r(&p, "b"), Some(4));
        let np = fp_rta_nonpreemptive(&set, &AnalysisOptions::default()).unwrap();
        assert_eq!(r(&np, "a"), Some(3));
        // b (lowest, B = 0): a runs [0,1), b starts at 1 and ends at 3 (a's job at 2 waits).
        assert_eq!(r(&np, "b"), Some(3));
        // b's level utilisation is exactly 1 and c can block it: never converges.
        let set = [t("a", 1, 2, 2, 0), t("b", 2, 4, 4, 1), t("c", 1, 8, 8, 2)];
        let np = fp_rta_nonpreemptive(&set, &AnalysisOptions::default()).unwrap();
        assert_eq!(np.task("b").unwrap().unbounded, Some(Unbounded::Overloaded));
        // Horizon and step limits.
        let set = [t("a", 1, 1_000, 1_000, 0), t("b", 998, 1_000, 1_000, 1)];
        let tight = AnalysisOptions { horizon: Duration::from_nanos(500), ..Default::default() };
        let res = fp_rta_preemptive(&set, &tight).unwrap();
        assert!(matches!(
            res.task("b").unwrap().unbounded,
            Some(Unbounded::HorizonExceeded { .. })
        ));
        let few = AnalysisOptions { max_steps: 1, ..Default::default() };
        let res = fp_rta_preemptive(&set, &few).unwrap();
        assert!(matches!(res.task("b").unwrap().unbounded, Some(Unbounded::StepLimit { .. })));
    }

    #[test]
    fn duplicate_priorities_are_refused() {
        let set = [t("a", 1, 4, 4, 0), t("b", 1, 4, 4, 0)];
        assert!(matches!(
            fp_rta_nonpreemptive(&set, &AnalysisOptions::default()),
            Err(TaskSetError::DuplicatePriority { .. })
        ));
    }
}
