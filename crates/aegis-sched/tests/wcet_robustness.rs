//! Numerical robustness and input validation: constant, tiny and huge samples, bad
//! configurations, the fallback, the order-statistic method, contention, serialisation.

use aegis_sched::wcet::{
    MethodChoice, PwcetMethod, TailModel, WcetConfig, WcetError, WcetProfile, WcetProfiler,
    contention_factor, contention_min_samples, order_statistic_min_samples,
};
use aegis_trace::Duration;

fn d(v: u64) -> Duration {
    Duration::from_nanos(v)
}

/// A deterministic i.i.d.-looking series: base + exponential(scale), from a splitmix64 hash.
fn spread(n: usize, base: u64, scale: f64) -> Vec<Duration> {
    (0..n as u64)
        .map(|i| {
            let mut z = i.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            let u = ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
            d(base + (-u.ln() * scale) as u64)
        })
        .collect()
}

fn is_fallback(p: &WcetProfile) -> bool {
    matches!(p.method, PwcetMethod::EmpiricalFallback { .. })
}

#[test]
fn empty_samples_are_refused() {
    let e = WcetProfiler::default().profile(&[]).unwrap_err();
    assert_eq!(e, WcetError::NoSamples { field: "samples" });
    assert!(e.to_string().contains("measure at least one"));
}

#[test]
fn constant_samples_fall_back_explicitly() {
    let p = WcetProfiler::default().profile(&vec![d(1_000_000); 5000]).unwrap();
    assert!(is_fallback(&p), "{:?}", p.method);
    assert_eq!(p.pwcet, d(1_200_000));
    assert_eq!(
        (p.best, p.worst, p.average, p.p99, p.p999),
        (d(1_000_000), d(1_000_000), d(1_000_000), d(1_000_000), d(1_000_000))
    );
    assert_eq!(p.confidence, None);
    assert!(
        p.method_reason.contains("EMPIRICAL FALLBACK") && p.method_reason.contains("zero variance")
    );
    assert!(!p.meets_mbpta_assumptions);
    assert!(p.warnings.iter().any(|w| w.contains("no exceedance probability")));
}

#[test]
fn tiny_samples_fall_back_and_state_the_minimum() {
    for n in [2usize, 10, 100, 249] {
        let x = spread(n, 1_000_000, 5e4);
        let p = WcetProfiler::default().profile(&x).unwrap();
        assert!(is_fallback(&p), "n = {n}: {:?}", p.method);
        assert!(p.pwcet >= p.worst);
        assert_eq!(p.sample_count, n);
        assert!(p.method_reason.contains("n >= 250"), "n = {n}: {}", p.method_reason);
        assert!(p.method_reason.contains("n >= 300"), "n = {n}: {}", p.method_reason);
    }
    let p = WcetProfiler::default().profile(&[d(7)]).unwrap();
    assert_eq!((p.pwcet, p.p99, p.average), (d(9), d(7), d(7)));
    assert!(is_fallback(&p) && p.iid.tests_run == 0 && !p.iid.passed);
    // From 300 samples both EVT analyses can run.
    let p = WcetProfiler::default().profile(&spread(300, 1_000_000, 5e4)).unwrap();
    assert!(p.fit.block_maxima.is_some() && p.fit.pot.is_some(), "{:?}", p.fit);
}

#[test]
fn huge_values_work_or_overflow_with_a_typed_error() {
    // Around 10^15 ns (11.6 days) with a 5 µs exponential spread (true 1e-6 quantile: base +
    // 69 µs): the statistics work on offsets from the minimum, so nothing is lost to rounding.
    let base = 1_000_000_000_000_000;
    let x = spread(2000, base, 5e3);
    let small = spread(2000, 0, 5e3);
    let p = WcetProfiler::default().profile(&x).unwrap();
    let q = WcetProfiler::default().profile(&small).unwrap();
    assert!(!is_fallback(&p), "{}", p.method_reason);
    assert_eq!(p.pwcet.as_nanos() - base, q.pwcet.as_nanos(), "shift invariance");
    assert!(p.pwcet.as_nanos() - base > 69_000 && p.pwcet.as_nanos() - base < 300_000);
    // Near u64::MAX the fallback margin cannot be represented.
    let x = vec![d(u64::MAX - 10), d(u64::MAX - 5), d(u64::MAX)];
    let e = WcetProfiler::default().profile(&x).unwrap_err();
    assert!(matches!(e, WcetError::Overflow { field: "pwcet", .. }), "{e}");
    assert!(e.to_string().contains("does not fit in a u64"));
    // With margin 1 the maximum itself is the fallback.
    let cfg = WcetConfig { fallback_margin: 1.0, ..WcetConfig::default() };
    let p = WcetProfiler::new(cfg).unwrap().profile(&x).unwrap();
    assert_eq!(p.pwcet, d(u64::MAX));
    assert_eq!(p.average, d(u64::MAX - 5));
}

#[test]
fn invalid_configuration_names_the_field() {
    let bad = [
        (
            WcetConfig { exceedance_probability: 0.0, ..Default::default() },
            "exceedance_probability",
        ),
        (
            WcetConfig { exceedance_probability: f64::NAN, ..Default::default() },
            "exceedance_probability",
        ),
        (WcetConfig { confidence: 0.4, ..Default::default() }, "confidence"),
        (WcetConfig { block_size: Some(0), ..Default::default() }, "block_size"),
        (WcetConfig { min_blocks: 3, ..Default::default() }, "min_blocks"),
        (
            WcetConfig { pot_threshold_quantile: 1.0, ..Default::default() },
            "pot_threshold_quantile",
        ),
        (
            WcetConfig { pot_min_threshold_quantile: 0.99, ..Default::default() },
            "pot_min_threshold_quantile",
        ),
        (WcetConfig { min_exceedances: 5, ..Default::default() }, "min_exceedances"),
        (WcetConfig { max_exceedances: 20, ..Default::default() }, "max_exceedances"),
        (WcetConfig { model_selection_alpha: 0.0, ..Default::default() }, "model_selection_alpha"),
        (WcetConfig { iid_alpha: 1.0, ..Default::default() }, "iid_alpha"),
        (WcetConfig { gof_alpha: -0.1, ..Default::default() }, "gof_alpha"),
        (WcetConfig { ljung_box_lags: 0, ..Default::default() }, "ljung_box_lags"),
        (WcetConfig { fallback_margin: 0.9, ..Default::default() }, "fallback_margin"),
        (WcetConfig { fallback_margin: f64::INFINITY, ..Default::default() }, "fallback_margin"),
        (WcetConfig { contention_quantile: 1.5, ..Default::default() }, "contention_quantile"),
    ];
    for (cfg, field) in bad {
        match WcetProfiler::new(cfg) {
            Err(WcetError::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    let e = WcetConfig { confidence: 2.0, ..Default::default() }.validate().unwrap_err();
    assert!(e.to_string().contains("config field confidence = 2 is invalid"), "{e}");
}

#[test]
fn order_statistic_is_used_when_the_sample_suffices() {
    // p = 1e-3 at 95%: the maximum is a bound from 2995 samples; with 10,000 samples the
    // value with 4 samples above it is (P(Bin(10^4, 10^-3) <= 4) = 0.029 <= 0.05).
    assert_eq!(order_statistic_min_samples(1e-3, 0.95), 2995);
    let cfg = WcetConfig { exceedance_probability: 1e-3, ..WcetConfig::default() };
    let x = spread(10_000, 1_000_000, 5e4);
    let p = WcetProfiler::new(cfg.clone()).unwrap().profile(&x).unwrap();
    assert_eq!(p.method, PwcetMethod::OrderStatistic { samples_above: 4 });
    let mut sorted: Vec<Duration> = x.clone();
    sorted.sort();
    // n p = 10 >= 1, so the bound is not raised to the maximum.
    assert_eq!(p.pwcet, sorted[10_000 - 5]);
    assert!(p.pwcet < p.worst);
    assert_eq!(p.confidence, Some(0.95));
    assert!(p.method_reason.contains("no tail model needed"));
    // Forcing a method skips the order statistic.
    let cfg = WcetConfig { method: MethodChoice::PeaksOverThreshold, ..cfg };
    let p = WcetProfiler::new(cfg).unwrap().profile(&x).unwrap();
    assert!(matches!(p.method, PwcetMethod::PeaksOverThreshold { .. }), "{:?}", p.method);
    assert!(
        p.fit.block_maxima.is_none()
            && p.fit.block_maxima_skipped.unwrap().contains("not requested")
    );
}

#[test]
fn forced_block_maxima_and_fixed_block_size() {
    let cfg = WcetConfig {
        method: MethodChoice::BlockMaxima,
        block_size: Some(40),
        adapt_to_fit: false,
        ..WcetConfig::default()
    };
    let p = WcetProfiler::new(cfg).unwrap().profile(&spread(4010, 1_000_000, 5e4)).unwrap();
    let bm = p.fit.block_maxima.as_ref().unwrap();
    assert_eq!((bm.block_size, bm.blocks, bm.discarded_samples, bm.tried.len()), (40, 100, 10, 1));
    assert!(p.fit.pot.is_none());
    assert!(matches!(bm.selected, TailModel::Gev | TailModel::Gumbel));
    assert!(matches!(p.method, PwcetMethod::BlockMaxima { .. }));
    assert!(p.pwcet_estimate.unwrap() <= p.pwcet);
}

#[test]
fn gof_off_is_reported() {
    let cfg = WcetConfig { gof_bootstrap: 0, ..WcetConfig::default() };
    let p = WcetProfiler::new(cfg).unwrap().profile(&spread(3000, 1_000_000, 5e4)).unwrap();
    assert!(!p.meets_mbpta_assumptions);
    assert!(p.warnings.iter().any(|w| w.contains("gof_bootstrap = 0")), "{:?}", p.warnings);
}

#[test]
fn contention_factor_compares_high_quantiles() {
    assert_eq!(contention_min_samples(0.999), 1000);
    let iso: Vec<Duration> = (1..=1000).map(|i| d(1000 * i)).collect();
    let loaded: Vec<Duration> = (1..=2000).map(|i| d(750 * i)).collect();
    let c = contention_factor(&iso, &loaded, 0.999).unwrap();
    // Nearest rank: 999th of 1000 and 1998th of 2000.
    assert_eq!((c.isolated, c.loaded), (d(999_000), d(1_498_500)));
    assert!((c.factor - 1.5).abs() < 1e-12);
    assert_eq!((c.isolated_samples, c.loaded_samples), (1000, 2000));
    let e = contention_factor(&iso[..999], &loaded, 0.999).unwrap_err();
    assert!(matches!(
        e,
        WcetError::TooFewSamples { field: "isolated", needed: 1000, got: 999, .. }
    ));
    assert_eq!(
        contention_factor(&iso, &[], 0.999).unwrap_err(),
        WcetError::NoSamples { field: "loaded" }
    );
    assert!(matches!(contention_factor(&iso, &loaded, 1.0), Err(WcetError::InvalidConfig { .. })));
    let zeros = vec![Duration::ZERO; 1000];
    assert!(matches!(
        contention_factor(&zeros, &loaded, 0.999),
        Err(WcetError::ZeroDenominator { .. })
    ));
    // The profiler profiles the loaded samples and attaches the factor.
    let p = WcetProfiler::default().profile_with_contention(&iso, &loaded).unwrap();
    assert_eq!(p.sample_count, 2000);
    assert_eq!(p.contention_factor, Some(c));
}

#[test]
fn profile_serialises_to_json_and_back() {
    let p = WcetProfiler::default().profile(&spread(3000, 1_000_000, 5e4)).unwrap();
    let json = serde_json::to_string(&p).unwrap();
    assert!(!json.contains("NaN") && !json.contains("null,\"p_value\""));
    let back: WcetProfile = serde_json::from_str(&json).unwrap();
    // Floats may differ in the last bit through text; times and verdicts are exact.
    assert_eq!((back.pwcet, back.worst, &back.method), (p.pwcet, p.worst, &p.method));
    assert_eq!(back.iid.passed, p.iid.passed);
}
