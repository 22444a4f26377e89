//! The independence and identical-distribution checks that measurement-based probabilistic
//! timing analysis (MBPTA) requires before extreme value theory may be applied.
//!
//! Owns [`IidReport`] and [`HypothesisTest`]: Ljung–Box on the first `h` autocorrelations
//! (independence, linear dependence), the Wald–Wolfowitz runs test above/below the median
//! (independence, clustering/trends) and the two-sample Kolmogorov–Smirnov test between the
//! first and second half of the series (identical distribution, level shifts and drift).
//! Samples must be given in measurement order. It must not know about tail models.
//!
//! Multiple testing: the three tests are combined with Bonferroni, so `passed` is a test at
//! family-wise level α (default 0.05): each test that ran rejects when p < α / (tests run).
//! Each test's p-value is reported, so a caller can apply its own rule.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};
use statrs::stats_tests::NaNPolicy;
use statrs::stats_tests::ks_test::{KSTwoSampleAlternativeMethod, ks_twosample};

/// Fewest samples for which any of the checks is run.
pub const MIN_IID_SAMPLES: usize = 20;

/// One hypothesis test's outcome, or why it was not run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HypothesisTest {
    /// The test.
    pub name: String,
    /// What rejecting would mean is false.
    pub null_hypothesis: String,
    /// The test statistic; `None` when the test was not run.
    pub statistic: Option<f64>,
    /// The p-value; `None` when the test was not run.
    pub p_value: Option<f64>,
    /// Whether the null hypothesis is rejected at the level it was judged at.
    pub rejected: bool,
    /// Details (lags, ties dropped, approximation used) or why the test was skipped.
    pub note: String,
}

impl HypothesisTest {
    fn skipped(name: &str, null: &str, why: String) -> Self {
        HypothesisTest {
            name: name.into(),
            null_hypothesis: null.into(),
            statistic: None,
            p_value: None,
            rejected: false,
            note: format!("not run: {why}"),
        }
    }

    fn ran(name: &str, null: &str, statistic: f64, p: f64, note: String) -> Self {
        HypothesisTest {
            name: name.into(),
            null_hypothesis: null.into(),
            statistic: Some(statistic),
            p_value: Some(p),
            rejected: false,
            note,
        }
    }
}

/// The i.i.d. checks on one measured series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IidReport {
    /// Family-wise significance level.
    pub alpha: f64,
    /// Level each test is judged at: α / (number of tests that ran) (Bonferroni).
    pub per_test_alpha: f64,
    /// Ljung–Box portmanteau test of zero autocorrelation.
    pub ljung_box: HypothesisTest,
    /// Wald–Wolfowitz runs test above/below the median.
    pub runs: HypothesisTest,
    /// Two-sample KS test, first half against second half.
    pub ks_halves: HypothesisTest,
    /// How many of the three tests ran.
    pub tests_run: usize,
    /// `true` when no test that ran rejected (and at least one ran). `false` means the data
    /// do not meet MBPTA's i.i.d. assumption and any pWCET from them is flagged.
    pub passed: bool,
}

const LB: &str = "Ljung-Box";
const LB_NULL: &str = "no autocorrelation up to the tested lag (independence)";
const RUNS: &str = "Wald-Wolfowitz runs";
const RUNS_NULL: &str = "above/below-median pattern is random (independence)";
const KS: &str = "two-sample Kolmogorov-Smirnov, first half vs second half";
const KS_NULL: &str = "both halves come from one distribution (identical distribution)";

/// Ljung–Box Q = n(n+2) Σₖ ρₖ²/(n−k) over lags 1..=h and its χ²ₕ p-value; `None` for a
/// constant series or h = 0.
pub(crate) fn ljung_box(x: &[f64], h: usize) -> Option<(f64, f64)> {
    let n = x.len();
    if h == 0 || h >= n {
        return None;
    }
    let nf = n as f64;
    let m = x.iter().sum::<f64>() / nf;
    let d: Vec<f64> = x.iter().map(|v| v - m).collect();
    let c0: f64 = d.iter().map(|v| v * v).sum();
    if c0.is_nan() || c0 <= 0.0 {
        return None;
    }
    let q: f64 = (1..=h)
        .map(|k| {
            let ck: f64 = d[k..].iter().zip(&d[..n - k]).map(|(a, b)| a * b).sum();
            let r = ck / c0;
            r * r / (nf - k as f64)
        })
        .sum::<f64>()
        * nf
        * (nf + 2.0);
    let p = ChiSquared::new(h as f64).ok()?.sf(q);
    Some((q, p))
}

/// Wald–Wolfowitz runs test on above/below the median, ties with the median dropped.
/// Returns (z, two-sided p, above, below); `None` when either side has fewer than 10 points.
pub(crate) fn runs_test(x: &[f64]) -> Option<(f64, f64, usize, usize)> {
    let mut s = x.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n == 0 {
        return None;
    }
    let med = if n % 2 == 1 { s[n / 2] } else { 0.5 * (s[n / 2 - 1] + s[n / 2]) };
    let signs: Vec<bool> = x.iter().filter(|&&v| v != med).map(|&v| v > med).collect();
    let n1 = signs.iter().filter(|&&b| b).count();
    let n2 = signs.len() - n1;
    if n1 < 10 || n2 < 10 {
        return None;
    }
    let runs = 1 + signs.windows(2).filter(|w| w[0] != w[1]).count();
    let (a, b) = (n1 as f64, n2 as f64);
    let mean = 2.0 * a * b / (a + b) + 1.0;
    let var = 2.0 * a * b * (2.0 * a * b - a - b) / ((a + b) * (a + b) * (a + b - 1.0));
    let z = (runs as f64 - mean) / var.sqrt();
    let p = 2.0 * Normal::standard().sf(z.abs());
    Some((z, p.min(1.0), n1, n2))
}

/// Two-sample KS between the first and second half; exact p-value (Schröer & Trenkler 1995,
/// ties allowed) when the halves' sizes multiply to at most 10,000, else Kolmogorov's
/// asymptotic distribution. Returns (D, p, exact).
pub(crate) fn ks_halves(x: &[f64]) -> Option<(f64, f64, bool)> {
    let h = x.len() / 2;
    if h < 8 {
        return None;
    }
    let (mut a, mut b) = (x[..h].to_vec(), x[h..].to_vec());
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    // Identical empirical distributions (D = 0): statrs's asymptotic series never terminates
    // at D = 0, and the answer is p = 1.
    if a == b || (a[0] == a[h - 1] && b[0] == b[b.len() - 1] && a[0] == b[0]) {
        return Some((0.0, 1.0, a.len() * b.len() <= 10_000));
    }
    let exact = a.len() * b.len() <= 10_000;
    let method = if exact {
        KSTwoSampleAlternativeMethod::TwoSidedExact
    } else {
        KSTwoSampleAlternativeMethod::TwoSidedAsymptotic
    };
    let (d, p) = ks_twosample(a, b, method, NaNPolicy::Error).ok()?;
    (d.is_finite() && p.is_finite()).then_some((d, p.clamp(0.0, 1.0), exact))
}

/// Runs the three checks on `x` (measurement order) at family-wise level `alpha`, with up to
/// `lags` Ljung–Box lags (fewer for short series: at most n/5).
pub(crate) fn iid_report(x: &[f64], alpha: f64, lags: usize) -> IidReport {
    let n = x.len();
    let constant = x.windows(2).all(|w| w[0] == w[1]);
    let too_few = format!("{n} samples, at least {MIN_IID_SAMPLES} needed");
    let mut lb = if n < MIN_IID_SAMPLES {
        HypothesisTest::skipped(LB, LB_NULL, too_few.clone())
    } else if constant {
        HypothesisTest::skipped(LB, LB_NULL, "all samples equal; autocorrelation undefined".into())
    } else {
        let h = lags.min(n / 5).max(1);
        match ljung_box(x, h) {
            Some((q, p)) => {
                HypothesisTest::ran(LB, LB_NULL, q, p, format!("lags 1..={h}, chi-square({h})"))
            }
            None => HypothesisTest::skipped(LB, LB_NULL, "autocorrelation undefined".into()),
        }
    };
    let mut runs = match runs_test(x) {
        Some((z, p, a, b)) => HypothesisTest::ran(
            RUNS,
            RUNS_NULL,
            z,
            p,
            format!(
                "{a} above, {b} below the median ({} ties dropped); normal approximation",
                n - a - b
            ),
        ),
        None => HypothesisTest::skipped(
            RUNS,
            RUNS_NULL,
            "fewer than 10 samples strictly above or below the median".into(),
        ),
    };
    let mut ks = match ks_halves(x) {
        Some((d, p, exact)) => HypothesisTest::ran(
            KS,
            KS_NULL,
            d,
            p,
            format!(
                "halves of {} and {}; {} p-value",
                n / 2,
                n - n / 2,
                if exact { "exact" } else { "asymptotic" }
            ),
        ),
        None => HypothesisTest::skipped(KS, KS_NULL, "fewer than 8 samples per half".into()),
    };
    let tests_run = [&lb, &runs, &ks].iter().filter(|t| t.p_value.is_some()).count();
    let per_test_alpha = alpha / tests_run.max(1) as f64;
    for t in [&mut lb, &mut runs, &mut ks] {
        t.rejected = t.p_value.is_some_and(|p| p < per_test_alpha);
    }
    let passed = tests_run > 0 && !(lb.rejected || runs.rejected || ks.rejected);
    IidReport { alpha, per_test_alpha, ljung_box: lb, runs, ks_halves: ks, tests_run, passed }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A fixed pseudo-random series (64-bit LCG, top 31 bits) and reference values from
    // statsmodels 0.15.0 and scipy 1.17.1 on the same series:
    // acorr_ljungbox(x, lags=[5]) -> (1.5307966609213632, 0.909488759550843);
    // runstest_1samp(x, cutoff='median', correction=False) -> (-0.201017818278147,
    // 0.8406846414712399); ks_2samp(x[:50], x[50:], method='exact') -> (0.2, 0.2719135601522248).
    fn series() -> Vec<f64> {
        let mut s: u64 = 12345;
        (0..100)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (s >> 33) as f64 / (1u64 << 31) as f64
            })
            .collect()
    }

    #[test]
    fn matches_statsmodels_and_scipy() {
        let x = series();
        let (q, p) = ljung_box(&x, 5).unwrap();
        assert!(
            (q - 1.530_796_660_921_363_2).abs() < 1e-10
                && (p - 0.909_488_759_550_843).abs() < 1e-10
        );
        let (z, p, above, below) = runs_test(&x).unwrap();
        assert!(
            (z + 0.201_017_818_278_147).abs() < 1e-12
                && (p - 0.840_684_641_471_239_9).abs() < 1e-12
        );
        assert_eq!((above, below), (50, 50));
        let (d, p, exact) = ks_halves(&x).unwrap();
        assert!(exact && (d - 0.2).abs() < 1e-12 && (p - 0.271_913_560_152_224_8).abs() < 1e-9);
        let r = iid_report(&x, 0.05, 5);
        assert!(r.passed && r.tests_run == 3 && (r.per_test_alpha - 0.05 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn degenerate_series_are_skipped_not_failed() {
        let r = iid_report(&[5.0; 100], 0.05, 20);
        assert_eq!(r.tests_run, 1, "{r:?}");
        assert_eq!((r.ks_halves.statistic, r.ks_halves.p_value), (Some(0.0), Some(1.0)));
        let big: Vec<f64> = (0..5000).map(|i| f64::from(i % 7)).collect();
        assert_eq!(ks_halves(&big[..4998]).map(|r| r.1), Some(1.0));
        assert!(r.ljung_box.p_value.is_none() && r.runs.p_value.is_none());
        assert!(r.passed);
        let r = iid_report(&[1.0, 2.0, 3.0], 0.05, 20);
        assert_eq!(r.tests_run, 0);
        assert!(!r.passed);
        assert!(r.ljung_box.note.contains("at least 20"));
        assert!(ljung_box(&[1.0, 2.0], 0).is_none());
        assert!(runs_test(&[]).is_none());
    }
}
