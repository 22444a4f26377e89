//! Distribution-free statistics of a measured sample: extremes, mean, nearest-rank quantiles
//! and the order-statistic upper confidence bound of a quantile.
//!
//! Owns exact integer-nanosecond summaries (no interpolation: every reported quantile is a
//! measured value) and the binomial argument behind the order-statistic bound. It must not
//! know about tail models.
//!
//! Nearest-rank quantile: the q-quantile of n sorted samples is the ⌈q·n⌉-th smallest (1-based,
//! at least the first), so p99 of 100 samples is the 99th smallest.
//!
//! Order-statistic bound: for i.i.d. samples the number K of samples above the true per-job
//! (1−p)-quantile q is Binomial(n, p). The order statistic with j samples above it is below q
//! only if K ≤ j, so it is at or above q with probability at least 1 − P(K ≤ j). The largest j
//! with P(K ≤ j) ≤ 1 − c gives a distribution-free upper bound at confidence c. It exists only
//! when (1 − p)ⁿ ≤ 1 − c, i.e. n ≥ ln(1 − c)/ln(1 − p) (about 3/p at c = 0.95).

use statrs::distribution::{Binomial, DiscreteCDF};

/// The 1-based nearest rank ⌈q·n⌉ of the q-quantile among n samples, clamped to 1..=n.
/// Products within 1e-9·n of an integer are treated as that integer (so 0.07 · 100 is rank 7,
/// not 8 from rounding).
pub(crate) fn nearest_rank(n: usize, q: f64) -> usize {
    let r = q * n as f64;
    let rounded = r.round();
    let rank = if (r - rounded).abs() <= 1e-9 * (n as f64).max(1.0) { rounded } else { r.ceil() };
    (rank as usize).clamp(1, n.max(1))
}

/// The nearest-rank q-quantile of ascending `sorted` (non-empty).
pub(crate) fn quantile(sorted: &[u64], q: f64) -> u64 {
    sorted[nearest_rank(sorted.len(), q) - 1]
}

/// The arithmetic mean rounded to the nearest nanosecond (exact in u128).
pub(crate) fn mean_ns(samples: &[u64]) -> u64 {
    let n = samples.len() as u128;
    let sum: u128 = samples.iter().map(|&v| u128::from(v)).sum();
    // The mean of u64 values is a u64.
    u64::try_from((sum + n / 2) / n).unwrap_or(u64::MAX)
}

/// The number j of samples allowed above the order statistic that bounds the per-job
/// (1−p)-quantile at confidence `c`, or `None` when n samples are too few.
pub(crate) fn order_statistic_excess_count(n: usize, p: f64, c: f64) -> Option<usize> {
    let b = Binomial::new(p, n as u64).ok()?;
    let ok = |j: usize| b.cdf(j as u64) <= 1.0 - c;
    if !ok(0) {
        return None;
    }
    // Largest j with ok(j): binary search on the monotone cdf.
    let (mut lo, mut hi) = (0usize, n.saturating_sub(1));
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if ok(mid) { lo = mid } else { hi = mid - 1 }
    }
    Some(lo)
}

/// Fewest samples for which the order-statistic bound exists at (p, c).
pub fn order_statistic_min_samples(p: f64, c: f64) -> usize {
    ((1.0 - c).ln() / (-p).ln_1p()).ceil() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_quantiles() {
        let s: Vec<u64> = (1..=100).collect();
        assert_eq!(quantile(&s, 0.99), 99);
        assert_eq!(quantile(&s, 0.999), 100);
        assert_eq!(quantile(&s, 0.07), 7);
        assert_eq!(quantile(&s, 0.0), 1);
        assert_eq!(quantile(&s, 1.0), 100);
        let s: Vec<u64> = (1..=1000).collect();
        assert_eq!(quantile(&s, 0.999), 999);
        assert_eq!(quantile(&[5], 0.5), 5);
    }

    #[test]
    fn mean_is_exact_for_huge_values() {
        assert_eq!(mean_ns(&[u64::MAX, u64::MAX]), u64::MAX);
        assert_eq!(mean_ns(&[1, 2]), 2); // 1.5 rounds half up
        assert_eq!(mean_ns(&[1, 2, 4]), 2);
    }

    #[test]
    fn order_statistic_bound_follows_the_rule_of_three() {
        // At p = 1e-3, c = 0.95 the maximum alone is a bound from n = 2995 samples
        // (0.999^2995 = 0.04998 <= 0.05 < 0.999^2994).
        assert_eq!(order_statistic_min_samples(1e-3, 0.95), 2995);
        assert_eq!(order_statistic_excess_count(2994, 1e-3, 0.95), None);
        assert_eq!(order_statistic_excess_count(2995, 1e-3, 0.95), Some(0));
        // n = 10,000, p = 1e-3: K ~ Bin(1e4, 1e-3), P(K <= 4) = 0.0291, P(K <= 5) = 0.0669
        // (scipy.stats.binom(10000, 0.001).cdf), so j = 4.
        assert_eq!(order_statistic_excess_count(10_000, 1e-3, 0.95), Some(4));
    }
}
