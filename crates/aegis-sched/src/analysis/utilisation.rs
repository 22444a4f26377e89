//! Utilisation-based tests: [`rms_ll_bound`], [`hyperbolic`] and [`edf_util`].
//!
//! Owns the exact rational comparisons (no float decides a verdict; floats appear only in the
//! display fields). These tests assume a *preemptive* processor; GPU jobs are not preemptive,
//! so the admission controller never relies on them — they are reported for comparison.
//! With constrained deadlines (some `D < T`) the two fixed-priority bounds use the density
//! `C/D` in place of `C/T` (a sufficient condition under deadline-monotonic priorities), and
//! [`edf_util`] becomes the sufficient density test `Σ C/D ≤ 1`. This module must not know
//! response times or demand functions.

use super::arith::{Ctd, Ratio};
use super::verdict::{TestKind, Verdict};
use crate::task::{TaskParams, TaskSetError, validate_task_set};
use num_bigint::BigUint;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// Result of a utilisation-based test.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UtilisationResult {
    /// The test.
    pub test: TestKind,
    /// Whether the (exact, integer) comparison passed.
    pub schedulable: bool,
    /// True when the verdict is necessary and sufficient (only [`edf_util`] with implicit
    /// deadlines); otherwise a failed test proves nothing.
    pub exact: bool,
    /// True when some `D < T`, so `C/D` (density) replaced `C/T`.
    pub density_used: bool,
    /// `Σ Cᵢ/Xᵢ` as a float, display only.
    pub utilisation: f64,
    /// The bound it was compared with, display only.
    pub bound: f64,
    /// Human-readable explanation.
    pub detail: String,
}

impl Verdict for UtilisationResult {
    fn is_schedulable(&self) -> bool {
        self.schedulable
    }
    fn detail(&self) -> &str {
        &self.detail
    }
}

/// Bits above which `(nQ+P)^n` is not expanded; [`rms_ll_bound`] then falls back to the
/// sufficient `U ≤ 0.693147 < ln 2` (the limit of the bound as `n → ∞`).
const LL_MAX_BITS: u64 = 1 << 20;

fn density_pairs(tasks: &[TaskParams]) -> (Vec<(u128, u128)>, bool) {
    let density = tasks.iter().any(|t| t.deadline < t.period);
    let pairs = tasks.iter().map(Ctd::of).map(|x| (x.c, if density { x.d } else { x.t })).collect();
    (pairs, density)
}

fn ratio_word(density: bool) -> &'static str {
    if density { "density Σ C/D" } else { "utilisation Σ C/T" }
}

/// Liu & Layland (1973): a preemptive set is schedulable under rate-monotonic priorities if
/// `U ≤ n(2^{1/n} − 1)`.
///
/// Decided exactly as `(1 + U/n)^n ≤ 2`, i.e. `(nQ + P)^n ≤ 2·(nQ)^n` with `U = P/Q`. It ignores
/// the given priorities (it certifies the rate/deadline-monotonic order) and uses density when
/// deadlines are constrained. Sufficient only.
///
/// # Errors
/// An invalid task (zero period, WCET above deadline, …) or a duplicate name.
pub fn rms_ll_bound(tasks: &[TaskParams]) -> Result<UtilisationResult, TaskSetError> {
    validate_task_set(tasks, false)?;
    let (pairs, density) = density_pairs(tasks);
    let n = pairs.len();
    let u = Ratio::sum(pairs);
    let nn = u32::try_from(n).unwrap_or(u32::MAX);
    let bound = if n == 0 { 1.0 } else { n as f64 * (2f64.powf(1.0 / n as f64) - 1.0) };
    let (schedulable, how) = if n == 0 {
        (true, "no tasks".to_string())
    } else {
        let nq = &u.den * nn;
        let lhs_base = &nq + &u.num;
        if lhs_base.bits().saturating_mul(u64::from(nn)) <= LL_MAX_BITS {
            let lhs = lhs_base.pow(nn);
            let rhs = nq.pow(nn) * 2u32;
            (lhs <= rhs, "exact comparison (1+U/n)^n ≤ 2".to_string())
        } else {
            // 0.693147 < ln 2 < n(2^{1/n} − 1) for every n: sufficient.
            let ok = &u.num * BigUint::from(1_000_000u32) <= &u.den * 693_147u32;
            (ok, "numbers too large for the exact power: sufficient U ≤ 0.693147 < ln 2".into())
        }
    };
    let utilisation = u.to_f64();
    let detail = format!(
        "rms_ll_bound: {} = {utilisation:.6} {} n(2^(1/n)-1) = {bound:.6} for n = {n} ({how}){}",
        ratio_word(density),
        if schedulable { "≤" } else { ">" },
        if density { "; deadline-monotonic priorities assumed" } else { "" },
    );
    Ok(UtilisationResult {
        test: TestKind::RmsLlBound,
        schedulable,
        exact: false,
        density_used: density,
        utilisation,
        bound,
        detail,
    })
}

/// Bini, Buttazzo & Buttazzo (2003): schedulable under RM if `Π (Uᵢ + 1) ≤ 2`.
///
/// Decided exactly as `Π (Cᵢ + Xᵢ) ≤ 2·Π Xᵢ` on big integers (`X = T`, or `D` when deadlines are
/// constrained). Dominates [`rms_ll_bound`]; sufficient only; ignores the given priorities.
///
/// # Errors
/// An invalid task or a duplicate name.
pub fn hyperbolic(tasks: &[TaskParams]) -> Result<UtilisationResult, TaskSetError> {
    validate_task_set(tasks, false)?;
    let (pairs, density) = density_pairs(tasks);
    let mut lhs = BigUint::from(1u32);
    let mut rhs = BigUint::from(2u32);
    let mut product = 1.0f64;
    for &(c, x) in &pairs {
        lhs *= BigUint::from(c + x);
        rhs *= BigUint::from(x);
        product *= 1.0 + c as f64 / x as f64;
    }
    let schedulable = lhs <= rhs;
    let detail = format!(
        "hyperbolic: Π(U_i+1) = {product:.6} {} 2 ({}; exact integer comparison)",
        if schedulable { "≤" } else { ">" },
        ratio_word(density)
    );
    Ok(UtilisationResult {
        test: TestKind::Hyperbolic,
        schedulable,
        exact: false,
        density_used: density,
        utilisation: Ratio::sum(pairs).to_f64(),
        bound: 2.0,
        detail,
    })
}

/// Liu & Layland (1973): a preemptive set with implicit deadlines is EDF-schedulable iff
/// `U ≤ 1` (exact).
///
/// With constrained deadlines `U ≤ 1` is only necessary; the verdict is then the sufficient
/// density test `Σ C/D ≤ 1`, `exact` is false and the detail says so (use
/// [`super::edf_demand`] for the exact answer).
///
/// # Errors
/// An invalid task or a duplicate name.
pub fn edf_util(tasks: &[TaskParams]) -> Result<UtilisationResult, TaskSetError> {
    validate_task_set(tasks, false)?;
    let u = Ratio::sum(tasks.iter().map(Ctd::of).map(|x| (x.c, x.t)));
    let (pairs, density) = density_pairs(tasks);
    let uo = u.cmp_int(1);
    let (schedulable, detail) = if !density {
        let ok = uo != Ordering::Greater;
        (ok, format!("edf_util: U = {:.6} {} 1 (exact for implicit deadlines)", u.to_f64(), le(ok)))
    } else {
        let dens = Ratio::sum(pairs);
        let ok = dens.cmp_int(1) != Ordering::Greater;
        let why = if uo == Ordering::Greater {
            format!("U = {:.6} > 1, so no scheduler can meet every deadline", u.to_f64())
        } else {
            format!(
                "deadlines are constrained (some D < T): U = {:.6} ≤ 1 is necessary only; \
                 sufficient density Σ C/D = {:.6} {} 1; use edf_demand for the exact test",
                u.to_f64(),
                dens.to_f64(),
                le(ok)
            )
        };
        (ok, format!("edf_util: {why}"))
    };
    Ok(UtilisationResult {
        test: TestKind::EdfUtil,
        schedulable,
        exact: !density,
        density_used: density,
        utilisation: u.to_f64(),
        bound: 1.0,
        detail,
    })
}

fn le(ok: bool) -> &'static str {
    if ok { "≤" } else { ">" }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str, c: u64, p: u64, d: u64) -> TaskParams {
        crate::task::task_ns(name, c, p, d, 0)
    }

    #[test]
    fn ll_bound_is_decided_exactly_at_the_irrational_boundary() {
        // Liu & Layland 1973, Theorem 5: n = 2 gives 2(√2 − 1) = 0.828427124…
        let below = [t("a", 414_213, 1_000_000, 1_000_000), t("b", 414_213, 1_000_000, 1_000_000)];
        let above = [t("a", 414_214, 1_000_000, 1_000_000), t("b", 414_214, 1_000_000, 1_000_000)];
        assert!(rms_ll_bound(&below).unwrap().schedulable); // U = 0.828426
        let r = rms_ll_bound(&above).unwrap(); // U = 0.828428
        assert!(!r.schedulable, "{}", r.detail);
        assert!(r.detail.contains("0.828428 > n(2^(1/n)-1) = 0.828427"), "{}", r.detail);
        // n = 1: the bound is 1, reached exactly.
        assert!(rms_ll_bound(&[t("a", 5, 5, 5)]).unwrap().schedulable);
        assert!(rms_ll_bound(&[]).unwrap().schedulable);
    }

    #[test]
    fn hyperbolic_dominates_ll_on_the_bini_buttazzo_example() {
        // Bini, Buttazzo & Buttazzo 2003 (IEEE TC 52(7)), the motivating case: U1 = 0.6,
        // U2 = 0.25: U = 0.85 > 0.8284 fails Liu & Layland, but (1.6)(1.25) = 2 ≤ 2 passes
        // (exactly on the boundary, so only exact arithmetic gets it right).
        let set = [t("a", 3, 5, 5), t("b", 1, 4, 4)];
        assert!(!rms_ll_bound(&set).unwrap().schedulable);
        let h = hyperbolic(&set).unwrap();
        assert!(h.schedulable, "{}", h.detail);
        let over = [t("a", 3, 5, 5), t("b", 1_000_001, 4_000_000, 4_000_000)];
        assert!(!hyperbolic(&over).unwrap().schedulable);
    }

    #[test]
    fn edf_util_is_exact_for_implicit_and_says_so_for_constrained() {
        // Liu & Layland 1973, Theorem 7: U = 1 exactly is EDF-schedulable.
        let set = [t("a", 1, 2, 2), t("b", 1, 3, 3), t("c", 1, 6, 6)];
        let r = edf_util(&set).unwrap();
        assert!(r.schedulable && r.exact && !r.density_used, "{}", r.detail);
        let over = [t("a", 1, 2, 2), t("b", 1, 3, 3), t("c", 2, 11, 11)];
        assert!(!edf_util(&over).unwrap().schedulable);
        // Constrained: U = 0.5 but density 1/2 + 1/1.5 > 1.
        let c = [t("a", 1, 4, 2), t("b", 1, 4, 1)];
        let r = edf_util(&c).unwrap();
        assert!(!r.schedulable && !r.exact && r.density_used);
        assert!(r.detail.contains("necessary only"), "{}", r.detail);
        let c = [t("a", 3, 4, 3), t("b", 2, 4, 2)];
        assert!(edf_util(&c).unwrap().detail.contains("U = 1.250000 > 1"));
        let r = rms_ll_bound(&[t("a", 1, 4, 2)]).unwrap();
        assert!(r.density_used && r.detail.contains("deadline-monotonic"));
    }

    #[test]
    fn large_sets_fall_back_to_ln2_and_bad_input_is_named() {
        let primes: Vec<TaskParams> = (0..200)
            .map(|i| t(&format!("t{i}"), 1, 4_294_967_291 - 2 * i, 4_294_967_291 - 2 * i))
            .collect();
        let r = rms_ll_bound(&primes).unwrap();
        assert!(r.schedulable && r.detail.contains("0.693147"), "{}", r.detail);
        assert!(hyperbolic(&primes).unwrap().schedulable);
        let bad = [t("a", 0, 5, 5)];
        assert!(
            rms_ll_bound(&bad).is_err() && hyperbolic(&bad).is_err() && edf_util(&bad).is_err()
        );
    }
}
