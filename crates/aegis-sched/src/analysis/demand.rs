//! Processor-demand tests for EDF: [`edf_demand`] (preemptive; Baruah, Rosier & Howell 1990,
//! decided with Zhang & Burns' 2009 Quick Processor-demand Analysis) and [`edf_nonpreemptive`]
//! (George, Rivierre & Spuri 1996).
//!
//! Owns the demand bound function, the check interval and the QPA walk. It must not know
//! priorities or response times.
//!
//! ## Conditions (integer nanoseconds, synchronous release, constrained deadlines)
//! `h(t) = Σᵢ max(0, ⌊(t − Dᵢ)/Tᵢ⌋ + 1)·Cᵢ` is the demand of jobs released and due in `[0, t]`.
//!
//! * Preemptive EDF is schedulable iff `U ≤ 1` and `h(t) ≤ t` at every absolute deadline `t ≤ L`.
//! * Non-preemptive EDF (George et al., Theorem for sporadic tasks) is schedulable iff `U ≤ 1`
//!   and `h(t) + b(t) ≤ t` at every absolute deadline `t ≤ L`, where
//!   `b(t) = max { blocking(Cⱼ) : Dⱼ > t }` (0 if none) is the longest job with a later
//!   relative deadline, which may have started just before the synchronous release.
//!   George et al. work on integer time and use `Cⱼ − 1`; [`BlockingConvention::Continuous`]
//!   (default) uses `Cⱼ`, the supremum of `Cⱼ − ε` in continuous time, and
//!   [`BlockingConvention::Discrete`] uses `Cⱼ − tick`.
//!
//! `L` is `max(D_max, min(L_a, L_b))` with `L_b` the synchronous busy period
//! (`L = Σ ⌈L/Tᵢ⌉·Cᵢ`) and, when `U < 1`, `L_a = max(D_max, ⌈Σ (Tᵢ − Dᵢ)·Uᵢ / (1 − U)⌉)`
//! (Zhang & Burns 2009, computed exactly on big integers). Beyond `D_max` the blocking term is
//! zero and the preemptive argument bounds the interval.
//!
//! ## QPA
//! `b` is constant between consecutive distinct relative deadlines, so the check interval is cut
//! into segments with constant `b`, and QPA runs backwards in each: from the largest deadline
//! `t` of the segment, if `h(t)+b > t` the set fails at `t`; if `h(t)+b ≤` the segment's start,
//! the segment is done; if `h(t)+b < t` jump to `t = h(t)+b` (every deadline in between has
//! smaller demand); otherwise step to the previous deadline. With `b = 0` this is exactly
//! Zhang & Burns' algorithm.
//!
//! [`BlockingConvention::Continuous`]: super::BlockingConvention::Continuous
//! [`BlockingConvention::Discrete`]: super::BlockingConvention::Discrete

use super::arith::{Budget, Ctd, Ratio, checked_sum, dur, least_fixed_point};
use super::options::AnalysisOptions;
use super::verdict::{TestKind, Unbounded, Verdict};
use crate::task::{TaskParams, TaskSetError, validate_task_set};
use aegis_trace::Duration;
use num_bigint::BigUint;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// Where a demand test found more work than time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemandViolation {
    /// The absolute deadline (from the synchronous release) where demand exceeds supply.
    pub at: Duration,
    /// `h(at)`: work released and due in `[0, at]`.
    pub demand: Duration,
    /// `b(at)`: the non-preemptive blocking charged at `at` (zero for preemptive EDF).
    pub blocking: Duration,
    /// `h(at) + b(at) − at`: by how much.
    pub excess: Duration,
}

/// Result of an EDF demand test.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemandResult {
    /// The test.
    pub test: TestKind,
    /// Whether every deadline is proven met.
    pub schedulable: bool,
    /// The end of the check interval `L`, when it could be bounded.
    pub checked_until: Option<Duration>,
    /// QPA points evaluated.
    pub points_checked: u64,
    /// The first violation found (QPA walks backwards, so the latest failing deadline).
    pub violation: Option<DemandViolation>,
    /// Why no verdict could be reached (verdict then "not schedulable").
    pub unbounded: Option<Unbounded>,
    /// Human-readable explanation.
    pub detail: String,
}

impl Verdict for DemandResult {
    fn is_schedulable(&self) -> bool {
        self.schedulable
    }
    fn detail(&self) -> &str {
        &self.detail
    }
}

/// Preemptive EDF processor-demand test, decided with QPA (exact for sporadic tasks with
/// constrained deadlines).
///
/// # Errors
/// An invalid task or a duplicate name.
pub fn edf_demand(
    tasks: &[TaskParams],
    opts: &AnalysisOptions,
) -> Result<DemandResult, TaskSetError> {
    demand_test(tasks, opts, false)
}

/// Non-preemptive EDF test of George, Rivierre & Spuri (1996) with the blocking convention of
/// `opts.blocking` (module docs). Exact under the discrete convention on integer ticks.
///
/// # Errors
/// An invalid task or a duplicate name.
pub fn edf_nonpreemptive(
    tasks: &[TaskParams],
    opts: &AnalysisOptions,
) -> Result<DemandResult, TaskSetError> {
    demand_test(tasks, opts, true)
}

struct Ctx {
    all: Vec<Ctd>,
    /// `(Dⱼ, blocking(Cⱼ))` of every task.
    blockers: Vec<(u128, u128)>,
    nonpreemptive: bool,
}

impl Ctx {
    fn h(&self, t: u128) -> Option<u128> {
        checked_sum(self.all.iter().copied(), |x| x.dbf(t))
    }
    fn b(&self, t: u128) -> u128 {
        if !self.nonpreemptive {
            return 0;
        }
        self.blockers.iter().filter(|(d, _)| *d > t).map(|(_, b)| *b).max().unwrap_or(0)
    }
    fn deadline_below(&self, t: u128) -> Option<u128> {
        self.all.iter().filter_map(|x| x.deadline_below(t)).max()
    }
}

fn demand_test(
    tasks: &[TaskParams],
    opts: &AnalysisOptions,
    nonpreemptive: bool,
) -> Result<DemandResult, TaskSetError> {
    validate_task_set(tasks, false)?;
    let test = if nonpreemptive { TestKind::EdfNonpreemptive } else { TestKind::EdfDemand };
    let ctx = Ctx {
        all: tasks.iter().map(Ctd::of).collect(),
        blockers: tasks
            .iter()
            .map(|t| {
                (
                    u128::from(t.deadline.as_nanos()),
                    u128::from(opts.blocking.blocking_of(t.wcet).as_nanos()),
                )
            })
            .collect(),
        nonpreemptive,
    };
    let mut res = DemandResult {
        test,
        schedulable: false,
        checked_until: None,
        points_checked: 0,
        violation: None,
        unbounded: None,
        detail: String::new(),
    };
    if ctx.all.is_empty() {
        res.schedulable = true;
        res.detail = format!("{test}: schedulable (no tasks)");
        return Ok(res);
    }
    let u = Ratio::sum(ctx.all.iter().map(|x| (x.c, x.t)));
    if u.cmp_int(1) == Ordering::Greater {
        res.unbounded = Some(Unbounded::Overloaded);
        res.detail = format!("{test}: not schedulable: U = {:.6} > 1", u.to_f64());
        return Ok(res);
    }
    let mut budget = Budget::new(opts.max_steps);
    let outcome = check_interval(&ctx, &u, opts, &mut budget).and_then(|l| {
        res.checked_until = Some(dur(l));
        qpa(&ctx, l, &mut budget)
    });
    res.points_checked = budget.used();
    match outcome {
        Err(un) => {
            res.unbounded = Some(un);
            res.detail = format!("{test}: not schedulable: no verdict: {un}");
        }
        Ok(Some(v)) => {
            res.violation = Some(v);
            res.detail = format!(
                "{test}: not schedulable: at t = {} demand {}{} exceeds the time available by {}",
                v.at,
                v.demand,
                if nonpreemptive { format!(" + blocking {}", v.blocking) } else { String::new() },
                v.excess
            );
        }
        Ok(None) => {
            res.schedulable = true;
            res.detail = format!(
                "{test}: schedulable: demand{} ≤ t at every deadline up to {} (U = {:.6})",
                if nonpreemptive { " + blocking" } else { "" },
                res.checked_until.unwrap_or(Duration::ZERO),
                u.to_f64()
            );
        }
    }
    Ok(res)
}

/// `L = max(D_max, min(L_a, L_b))`; unbounded only when neither bound is available.
fn check_interval(
    ctx: &Ctx,
    u: &Ratio,
    opts: &AnalysisOptions,
    budget: &mut Budget,
) -> Result<u128, Unbounded> {
    let horizon = u128::from(opts.horizon.as_nanos());
    let d_max = ctx.all.iter().map(|x| x.d).max().unwrap_or(0);
    let total_c: u128 = ctx.all.iter().map(|x| x.c).sum();
    let lb = least_fixed_point(total_c, horizon, budget, |l| {
        checked_sum(ctx.all.iter().copied(), |x| x.rbf_open(l))
    });
    let la = if u.cmp_int(1) == Ordering::Less {
        // Σ (Tᵢ − Dᵢ)·Cᵢ/Tᵢ over the same denominator as U, divided by (1 − U).
        let num: BigUint = ctx
            .all
            .iter()
            .map(|x| BigUint::from(x.t - x.d) * x.c * (&u.den / BigUint::from(x.t)))
            .sum();
        let den = &u.den - &u.num;
        let q = (&num + &den - 1u32) / &den;
        u128::try_from(&q).ok().map(|q| q.max(d_max)).filter(|&q| q <= horizon)
    } else {
        None
    };
    let l = match (la, lb) {
        (Some(a), Ok(b)) => a.min(b),
        (Some(a), Err(_)) => a,
        (None, Ok(b)) => b,
        (None, Err(e)) => return Err(e),
    };
    Ok(l.max(d_max))
}

/// QPA over `[D_min, l]`, segment by segment of constant blocking. `Ok(None)`: no violation.
fn qpa(ctx: &Ctx, l: u128, budget: &mut Budget) -> Result<Option<DemandViolation>, Unbounded> {
    let mut ds: Vec<u128> = ctx.all.iter().map(|x| x.d).collect();
    ds.sort_unstable();
    ds.dedup();
    // Segment k covers [ds[k], ds[k+1] − 1] (the last one [ds[last], l]); blocking constant.
    for k in (0..ds.len()).rev() {
        let lo = ds[k];
        if lo > l {
            continue;
        }
        let hi = ds.get(k + 1).map_or(l, |&next| (next - 1).min(l));
        let b = ctx.b(lo);
        let Some(mut t) = ctx.deadline_below(hi + 1).filter(|&t| t >= lo) else { continue };
        loop {
            budget.step()?;
            let demand = ctx.h(t).ok_or(Unbounded::HorizonExceeded { horizon_ns: u64::MAX })?;
            let v = demand.saturating_add(b);
            if v > t {
                return Ok(Some(violation_at(ctx, t)));
            }
            if v <= lo {
                break;
            }
            if v < t {
                t = v;
            } else {
                match ctx.deadline_below(t).filter(|&d| d >= lo) {
                    Some(d) => t = d,
                    None => break,
                }
            }
        }
    }
    Ok(None)
}

/// The violation reported at the deadline `d* ≤ t` that carries `t`'s demand.
fn violation_at(ctx: &Ctx, t: u128) -> DemandViolation {
    let d = ctx.deadline_below(t + 1).unwrap_or(t);
    let demand = ctx.h(d).unwrap_or(u128::MAX);
    let b = ctx.b(d);
    DemandViolation {
        at: dur(d),
        demand: dur(demand),
        blocking: dur(b),
        excess: dur((demand.saturating_add(b)).saturating_sub(d)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::options::BlockingConvention;

    fn t(name: &str, c: u64, p: u64, d: u64) -> TaskParams {
        crate::task::task_ns(name, c, p, d, 0)
    }

    fn discrete() -> AnalysisOptions {
        AnalysisOptions::with_blocking(BlockingConvention::Discrete {
            tick: Duration::from_nanos(1),
        })
    }

    #[test]
    fn demand_hand_example_fails_at_six_by_one() {
        // Processor-demand criterion (Baruah, Rosier & Howell 1990), hand-computed:
        // (C,D,T) = (1,2,4), (2,4,6), (3,6,8); U = 23/24. h(2) = 1, h(4) = 3,
        // h(6) = 2 + 2 + 3 = 7 > 6: fails at t = 6 by 1.
        let set = [t("a", 1, 4, 2), t("b", 2, 6, 4), t("c", 3, 8, 6)];
        let r = edf_demand(&set, &AnalysisOptions::default()).unwrap();
        assert!(!r.schedulable);
        let v = r.violation.unwrap();
        assert_eq!((v.at.as_nanos(), v.demand.as_nanos(), v.excess.as_nanos()), (6, 7, 1));
        assert!(r.detail.contains("exceeds the time available by 1 ns"), "{}", r.detail);
        // With C_c = 2: h(6) = 6, and the set is schedulable (U = 5/6).
        let set = [t("a", 1, 4, 2), t("b", 2, 6, 4), t("c", 2, 8, 6)];
        let r = edf_demand(&set, &AnalysisOptions::default()).unwrap();
        assert!(r.schedulable, "{}", r.detail);
    }

    #[test]
    fn implicit_deadlines_reduce_to_utilisation() {
        // Liu & Layland 1973: U = 1 with implicit deadlines is EDF-schedulable.
        let set = [t("a", 1, 2, 2), t("b", 1, 3, 3), t("c", 1, 6, 6)];
        assert!(edf_demand(&set, &AnalysisOptions::default()).unwrap().schedulable);
        let over = [t("a", 1, 2, 2), t("b", 1, 3, 3), t("c", 2, 11, 11)];
        let r = edf_demand(&over, &AnalysisOptions::default()).unwrap();
        assert_eq!(r.unbounded, Some(Unbounded::Overloaded));
        assert!(edf_demand(&[], &AnalysisOptions::default()).unwrap().schedulable);
    }

    #[test]
    fn nonpreemptive_blocking_conventions_differ_by_one_tick() {
        // George, Rivierre & Spuri 1996 condition, hand-computed: a (C=1, D=T=4),
        // b (C=4, D=T=12). At t = 4: h = 1, b(4) = C_b (D_b = 12 > 4).
        // Continuous: 1 + 4 = 5 > 4 → fails by 1. Discrete: 1 + 3 = 4 ≤ 4; t = 8: 2 + 3 ≤ 8;
        // t = 12: 3 + 4 = 7 ≤ 12 → schedulable. Preemptive EDF: trivially schedulable.
        let set = [t("a", 1, 4, 4), t("b", 4, 12, 12)];
        let cont = edf_nonpreemptive(&set, &AnalysisOptions::default()).unwrap();
        assert!(!cont.schedulable);
        let v = cont.violation.unwrap();
        assert_eq!((v.at.as_nanos(), v.blocking.as_nanos(), v.excess.as_nanos()), (4, 4, 1));
        assert!(cont.detail.contains("+ blocking 4 ns"), "{}", cont.detail);
        assert!(edf_nonpreemptive(&set, &discrete()).unwrap().schedulable);
        assert!(edf_demand(&set, &AnalysisOptions::default()).unwrap().schedulable);
        // A clear failure under both: a (C=1, D=3, T=4), b (C=4, D=T=10).
        let set = [t("a", 1, 4, 3), t("b", 4, 10, 10)];
        assert!(!edf_nonpreemptive(&set, &discrete()).unwrap().schedulable);
    }

    #[test]
    fn la_bound_and_limits() {
        // U < 1 with large hyperperiod: L_a keeps the interval short.
        let set = [t("a", 1_000, 7_919, 5_000), t("b", 2_000, 10_007, 9_000)];
        let r = edf_demand(&set, &AnalysisOptions::default()).unwrap();
        assert!(r.schedulable, "{}", r.detail);
        assert!(r.checked_until.unwrap() <= Duration::from_nanos(10_007));
        let few = AnalysisOptions { max_steps: 1, ..Default::default() };
        let r = edf_nonpreemptive(&set, &few).unwrap();
        assert!(matches!(r.unbounded, Some(Unbounded::StepLimit { .. })), "{r:?}");
        assert!(!r.schedulable);
        // U = 1 with a horizon shorter than the busy period: no verdict.
        let full = [t("a", 1, 2, 2), t("b", 3, 6, 5)];
        let short = AnalysisOptions { horizon: Duration::from_nanos(3), ..Default::default() };
        let r = edf_demand(&full, &short).unwrap();
        assert!(matches!(r.unbounded, Some(Unbounded::HorizonExceeded { .. })), "{r:?}");
        assert!(edf_demand(&full, &AnalysisOptions::default()).unwrap().schedulable);
    }
}
