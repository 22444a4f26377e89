//! The exit target: a pWCET computed from training samples is never exceeded by 200,000
//! held-out samples of the same execution-time-like workload, with the pessimism
//! (pWCET / held-out maximum) reported.

mod wcet_support;

use aegis_sched::wcet::{PwcetMethod, WcetError, WcetProfiler, holdout_check};
use aegis_trace::Duration;
use wcet_support::{Sampler, bimodal, series, shifted_gamma, shifted_lognormal};

const TRAIN: usize = 20_000;
const HELD_OUT: usize = 200_000;

fn check(name: &str, f: fn(&mut Sampler) -> Duration) {
    let profiler = WcetProfiler::default();
    for seed in 0..3 {
        let train = series(TRAIN, 100 + seed, f);
        let held = series(HELD_OUT, 900 + seed, f);
        let p = profiler.profile(&train).unwrap();
        let h = holdout_check(&p, &held).unwrap();
        println!(
            "{name} seed {seed}: pWCET {} ({:?}), held-out max {}, exceedances {}, pessimism {:.3}",
            p.pwcet,
            p.method,
            h.observed_max,
            h.exceedances,
            h.pessimism.unwrap()
        );
        assert!(!matches!(p.method, PwcetMethod::EmpiricalFallback { .. }), "{}", p.method_reason);
        assert!(h.never_exceeded && h.meets_roadmap_target, "{name} seed {seed}: {h:?}");
        assert_eq!((h.samples, h.exceedance_p_value), (HELD_OUT, 1.0));
        assert!((h.expected_exceedances - 0.2).abs() < 1e-12);
        let pess = h.pessimism.unwrap();
        assert!((1.0..1.6).contains(&pess), "{name} seed {seed}: pessimism {pess}");
    }
}

#[test]
fn shifted_gamma_is_never_exceeded() {
    check("shifted gamma", shifted_gamma);
}

#[test]
fn shifted_lognormal_is_never_exceeded() {
    check("shifted lognormal", shifted_lognormal);
}

#[test]
fn mixture_with_a_rare_slow_mode_is_never_exceeded() {
    check("1% slow mode", bimodal);
}

#[test]
fn exceedances_are_counted_and_judged() {
    // 1000 samples of 1..=1000 µs: the order statistic is unavailable (n < 3/p), EVT runs.
    let train: Vec<Duration> = (1..=1000).map(Duration::from_micros).collect();
    let mut p = WcetProfiler::default().profile(&train).unwrap();
    let pwcet = p.pwcet;
    let mut held = vec![Duration::from_micros(10); 9990];
    held.extend(std::iter::repeat_n(pwcet + Duration::from_nanos(1), 10));
    let h = holdout_check(&p, &held).unwrap();
    assert_eq!((h.exceedances, h.never_exceeded), (10, false));
    assert!(h.meets_roadmap_target); // 10 of 10,000 = 0.1%
    // P(Binomial(10^4, 10^-6) >= 10) = 2.7e-27: far too many exceedances for the claimed p.
    assert!(h.exceedance_p_value < 1e-20, "{}", h.exceedance_p_value);
    assert_eq!(h.observed_max, pwcet + Duration::from_nanos(1));
    held.push(pwcet + Duration::from_nanos(5));
    assert!(!holdout_check(&p, &held).unwrap().meets_roadmap_target);
    assert_eq!(holdout_check(&p, &[]).unwrap_err(), WcetError::NoSamples { field: "held_out" });
    p.exceedance_probability = 0.5;
    let h = holdout_check(&p, &[Duration::ZERO]).unwrap();
    assert_eq!(h.pessimism, None);
}
