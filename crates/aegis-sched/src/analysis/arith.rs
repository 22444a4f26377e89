//! Exact integer arithmetic shared by the analyses.
//!
//! Owns the checked request- and demand-bound functions on `u128` nanoseconds, the bounded
//! least-fixed-point iteration, the step budget, and exact rational sums of `C/X` on
//! [`BigUint`] (a product of a few nanosecond periods already overflows `u128`). No floating
//! point here. It must not know any schedulability test.

use super::verdict::Unbounded;
use crate::task::TaskParams;
use num_bigint::BigUint;
use std::cmp::Ordering;

/// A task's `(C, T, D)` in nanoseconds, widened so that products of two fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ctd {
    pub(crate) c: u128,
    pub(crate) t: u128,
    pub(crate) d: u128,
}

impl Ctd {
    pub(crate) fn of(task: &TaskParams) -> Self {
        Ctd {
            c: u128::from(task.wcet.as_nanos()),
            t: u128::from(task.period.as_nanos()),
            d: u128::from(task.deadline.as_nanos()),
        }
    }

    /// Work of the jobs released in the half-open window `[0, x)`: `⌈x/T⌉·C`.
    pub(crate) fn rbf_open(self, x: u128) -> Option<u128> {
        x.div_ceil(self.t).checked_mul(self.c)
    }

    /// Work of the jobs released in the closed window `[0, x]`: `(⌊x/T⌋+1)·C`.
    pub(crate) fn rbf_closed(self, x: u128) -> Option<u128> {
        (x / self.t + 1).checked_mul(self.c)
    }

    /// Demand of the jobs released and due in `[0, x]`: `max(0, ⌊(x−D)/T⌋+1)·C`.
    pub(crate) fn dbf(self, x: u128) -> Option<u128> {
        if x < self.d { Some(0) } else { ((x - self.d) / self.t + 1).checked_mul(self.c) }
    }

    /// The largest absolute deadline `k·T + D` strictly below `x`, if any.
    pub(crate) fn deadline_below(self, x: u128) -> Option<u128> {
        if x <= self.d {
            return None;
        }
        let k = (x - 1 - self.d) / self.t;
        k.checked_mul(self.t)?.checked_add(self.d)
    }
}

/// Sums `f` over `items`, `None` on overflow.
pub(crate) fn checked_sum<I, F>(items: I, mut f: F) -> Option<u128>
where
    I: IntoIterator<Item = Ctd>,
    F: FnMut(Ctd) -> Option<u128>,
{
    items.into_iter().try_fold(0u128, |acc, x| acc.checked_add(f(x)?))
}

/// The number of iterations an analysis call may still spend.
#[derive(Debug)]
pub(crate) struct Budget {
    left: u64,
    max: u64,
}

impl Budget {
    pub(crate) fn new(max: u64) -> Self {
        Budget { left: max, max }
    }

    /// Spends one step, or reports the exhausted budget.
    pub(crate) fn step(&mut self) -> Result<(), Unbounded> {
        if self.left == 0 {
            return Err(Unbounded::StepLimit { max_steps: self.max });
        }
        self.left -= 1;
        Ok(())
    }

    pub(crate) fn used(&self) -> u64 {
        self.max - self.left
    }
}

/// Iterates `x ← f(x)` from `start` (which must not exceed the least fixed point of the
/// monotone `f`) until `f(x) ≤ x`, i.e. the least `x ≥ start` with `f(x) ≤ x`.
///
/// # Errors
/// [`Unbounded::HorizonExceeded`] once `x` passes `horizon` (or on overflow),
/// [`Unbounded::StepLimit`] when the budget runs out.
pub(crate) fn least_fixed_point<F>(
    start: u128,
    horizon: u128,
    budget: &mut Budget,
    mut f: F,
) -> Result<u128, Unbounded>
where
    F: FnMut(u128) -> Option<u128>,
{
    let exceeded = || Unbounded::HorizonExceeded { horizon_ns: horizon_u64(horizon) };
    let mut x = start;
    loop {
        if x > horizon {
            return Err(exceeded());
        }
        budget.step()?;
        let y = f(x).ok_or_else(exceeded)?;
        if y <= x {
            return Ok(x);
        }
        x = y;
    }
}

fn horizon_u64(h: u128) -> u64 {
    u64::try_from(h).unwrap_or(u64::MAX)
}

/// `u128` nanoseconds back to a [`aegis_trace::Duration`], saturating.
pub(crate) fn dur(ns: u128) -> aegis_trace::Duration {
    aegis_trace::Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
}

/// An exact non-negative rational `num/den` (`den > 0`), typically `Σ Cᵢ/Xᵢ`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ratio {
    pub(crate) num: BigUint,
    pub(crate) den: BigUint,
}

fn gcd(mut a: BigUint, mut b: BigUint) -> BigUint {
    while b != BigUint::ZERO {
        let r = &a % &b;
        a = b;
        b = r;
    }
    a
}

impl Ratio {
    /// `Σ cᵢ/xᵢ` over `(cᵢ, xᵢ)` pairs with `xᵢ > 0`, over the least common denominator.
    pub(crate) fn sum(pairs: impl IntoIterator<Item = (u128, u128)>) -> Ratio {
        let pairs: Vec<(BigUint, BigUint)> =
            pairs.into_iter().map(|(c, x)| (BigUint::from(c), BigUint::from(x))).collect();
        let mut den = BigUint::from(1u32);
        for (_, x) in &pairs {
            let g = gcd(den.clone(), x.clone());
            den = &den / g * x;
        }
        let mut num = BigUint::ZERO;
        for (c, x) in &pairs {
            num += c * (&den / x);
        }
        Ratio { num, den }
    }

    /// Compares with the integer `k`.
    pub(crate) fn cmp_int(&self, k: u32) -> Ordering {
        self.num.cmp(&(&self.den * k))
    }

    /// The value as a float, for display only.
    pub(crate) fn to_f64(&self) -> f64 {
        big_to_f64(&self.num) / big_to_f64(&self.den)
    }
}

/// A big integer as a float (display only): exact up to 2^53, then rounded via its top bits.
pub(crate) fn big_to_f64(x: &BigUint) -> f64 {
    let bits = x.bits();
    if bits <= 64 {
        return u64::try_from(x).map_or(f64::MAX, |v| v as f64);
    }
    let shift = bits - 64;
    let top = u64::try_from(x >> shift).unwrap_or(u64::MAX);
    (top as f64) * 2f64.powi(i32::try_from(shift).unwrap_or(i32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctd(c: u128, t: u128, d: u128) -> Ctd {
        Ctd { c, t, d }
    }

    #[test]
    fn bound_functions_count_the_right_jobs() {
        let x = ctd(2, 5, 4);
        assert_eq!(x.rbf_open(0), Some(0));
        assert_eq!(x.rbf_open(5), Some(2));
        assert_eq!(x.rbf_open(6), Some(4));
        assert_eq!(x.rbf_closed(0), Some(2));
        assert_eq!(x.rbf_closed(5), Some(4));
        assert_eq!(x.dbf(3), Some(0));
        assert_eq!(x.dbf(4), Some(2));
        assert_eq!(x.dbf(8), Some(2));
        assert_eq!(x.dbf(9), Some(4));
        assert_eq!(x.deadline_below(4), None);
        assert_eq!(x.deadline_below(5), Some(4));
        assert_eq!(x.deadline_below(9), Some(4));
        assert_eq!(x.deadline_below(10), Some(9));
        assert_eq!(ctd(u128::MAX, 1, 1).rbf_open(3), None);
        assert_eq!(checked_sum([x, x], |t| t.rbf_closed(0)), Some(4));
        assert_eq!(checked_sum([ctd(u128::MAX, 1, 1); 2], |t| t.rbf_closed(0)), None);
    }

    #[test]
    fn fixed_point_stops_at_horizon_and_budget() {
        let mut b = Budget::new(100);
        assert_eq!(least_fixed_point(1, 1000, &mut b, |x| Some(x.min(7) + 3)), Ok(10));
        assert!(b.used() > 0);
        let mut b = Budget::new(100);
        assert!(matches!(
            least_fixed_point(1, 50, &mut b, |x| Some(x + 1)),
            Err(Unbounded::StepLimit { .. }) | Err(Unbounded::HorizonExceeded { .. })
        ));
        let mut b = Budget::new(1_000);
        assert_eq!(
            least_fixed_point(1, 50, &mut b, |x| Some(x + 1)),
            Err(Unbounded::HorizonExceeded { horizon_ns: 50 })
        );
        let mut b = Budget::new(1_000);
        assert!(least_fixed_point(1, 50, &mut b, |_| None).is_err());
    }

    #[test]
    fn ratios_are_exact() {
        let r = Ratio::sum([(1, 3), (1, 6)]);
        assert_eq!(r.num * 2u32, r.den.clone());
        let r = Ratio::sum([(1, 3), (2, 3)]);
        assert_eq!(r.cmp_int(1), Ordering::Equal);
        // Ten coprime-ish 33-bit periods: the denominator needs far more than 128 bits.
        let primes = [
            4_294_967_291u128,
            4_294_967_279,
            4_294_967_231,
            4_294_967_197,
            4_294_967_189,
            4_294_967_161,
        ];
        let r = Ratio::sum(primes.iter().map(|&p| (p / 6, p)));
        assert!(r.den.bits() > 128);
        assert_eq!(r.cmp_int(1), Ordering::Less);
        assert!((r.to_f64() - 1.0).abs() < 1e-6);
        assert!((big_to_f64(&BigUint::from(3u32)) - 3.0).abs() < f64::EPSILON);
    }
}
