//! The i.i.d. checks reject dependent and non-identically distributed series and accept
//! i.i.d. ones at the nominal rate.

mod wcet_support;

use aegis_sched::wcet::{WcetConfig, WcetProfiler, iid_checks};
use aegis_trace::Duration;
use wcet_support::{Sampler, ns};

fn cfg() -> WcetConfig {
    WcetConfig::default()
}

/// x_t = 1 ms + 50 µs · (φ x_{t−1} + e_t), e_t ~ N(0, 1).
fn ar1(n: usize, phi: f64, seed: u64) -> Vec<Duration> {
    let mut s = Sampler::new(seed);
    let mut x = 0.0;
    (0..n)
        .map(|_| {
            x = phi * x + s.normal(0.0, 1.0);
            ns(1e6 + 5e4 * x + 5e5)
        })
        .collect()
}

#[test]
fn autocorrelated_series_is_rejected() {
    let mut rejected_by_lb = 0;
    for seed in 0..20 {
        let r = iid_checks(&ar1(1000, 0.5, seed), &cfg()).unwrap();
        assert!(!r.passed, "seed {seed}: {r:?}");
        if r.ljung_box.rejected {
            rejected_by_lb += 1;
        }
    }
    assert_eq!(rejected_by_lb, 20);
}

#[test]
fn level_shift_is_rejected_by_the_identical_distribution_test() {
    // The second half runs 2% slower (e.g. a clock or thermal state change); each half is i.i.d.
    for seed in 0..20 {
        let mut s = Sampler::new(seed);
        let x: Vec<Duration> = (0..2000)
            .map(|i| ns(if i < 1000 { 1e6 } else { 1.02e6 } + s.normal(0.0, 1e4)))
            .collect();
        let r = iid_checks(&x, &cfg()).unwrap();
        assert!(r.ks_halves.rejected, "seed {seed}: {:?}", r.ks_halves);
        assert!(!r.passed);
    }
}

#[test]
fn iid_series_are_accepted_at_the_nominal_rate() {
    // 400 i.i.d. series of 500 samples: each test's p-value should be uniform, so it falls
    // below 0.05 about 5% of the time: Binomial(400, 0.05) lies in 10..=32 with probability
    // 0.99 (scipy binom.ppf(0.005), .ppf(0.995)); 8..=32 is asserted. The Bonferroni family
    // should reject at most about 5%.
    let reps = 400;
    let (mut lb, mut runs, mut ks, mut family) = (0, 0, 0, 0);
    for seed in 0..reps {
        let mut s = Sampler::new(10_000 + seed);
        let x: Vec<Duration> = (0..500).map(|_| ns(2e6 + s.erlang(4, 3e5))).collect();
        let r = iid_checks(&x, &cfg()).unwrap();
        assert_eq!(r.tests_run, 3);
        lb += usize::from(r.ljung_box.p_value.unwrap() < 0.05);
        runs += usize::from(r.runs.p_value.unwrap() < 0.05);
        ks += usize::from(r.ks_halves.p_value.unwrap() < 0.05);
        family += usize::from(!r.passed);
    }
    println!("rejections at 0.05 of {reps}: Ljung-Box {lb}, runs {runs}, KS {ks}; family {family}");
    for (name, k) in [("Ljung-Box", lb), ("runs", runs), ("KS halves", ks)] {
        assert!((8..=32).contains(&k), "{name}: {k} rejections of {reps}");
    }
    assert!(family <= 32, "family-wise rejections {family} of {reps}");
}

#[test]
fn profile_reports_failed_tests_instead_of_pretending() {
    let p = WcetProfiler::default().profile(&ar1(5000, 0.6, 3)).unwrap();
    assert!(!p.iid.passed && !p.meets_mbpta_assumptions);
    // The pWCET is still computed, and the failure is spelled out with statistic and p-value.
    assert!(p.confidence.is_some(), "{}", p.method_reason);
    let w = p.warnings.iter().find(|w| w.contains("not i.i.d.")).expect("an i.i.d. warning");
    assert!(w.contains("Ljung-Box (statistic") && w.contains("p = "), "{w}");
    let lb = &p.iid.ljung_box;
    assert!(lb.rejected && lb.statistic.unwrap() > 100.0 && lb.p_value.unwrap() < 1e-6, "{lb:?}");
}
