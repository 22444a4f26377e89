//! Maximum-likelihood fits recover the parameters of known GEV, Gumbel, GPD and exponential
//! distributions from large seeded samples (inverse-CDF sampling with rand 0.10).

mod wcet_support;

use aegis_sched::wcet::{FittedTail, Gev, Gpd, TailModel, WcetError, fit_tail};
use wcet_support::Sampler;

const N: usize = 5000;

fn gev_sample(g: Gev, seed: u64) -> Vec<f64> {
    let mut s = Sampler::new(seed);
    (0..N).map(|_| s.gev(g)).collect()
}

fn gpd_sample(g: Gpd, seed: u64) -> Vec<f64> {
    let mut s = Sampler::new(seed);
    (0..N).map(|_| s.gpd(g)).collect()
}

/// |estimate − truth| within 4 standard errors.
fn close(what: &str, est: f64, se: Option<f64>, truth: f64) {
    let se = se.unwrap_or_else(|| panic!("{what}: no standard error"));
    assert!((est - truth).abs() <= 4.0 * se, "{what}: {est} vs {truth} (se {se})");
}

#[test]
fn gev_with_heavy_and_bounded_tails_is_recovered() {
    for (seed, (mu, sigma, xi)) in
        [(1, (10.0, 2.0, 0.2)), (2, (1e6, 5e4, -0.2)), (3, (0.0, 1.0, 0.05))]
    {
        let f =
            fit_tail(TailModel::Gev, &gev_sample(Gev::new(mu, sigma, xi).unwrap(), seed)).unwrap();
        assert_eq!(f.model, TailModel::Gev);
        assert!(f.converged && !f.at_shape_limit);
        close("location", f.location_ns.unwrap(), f.location_se_ns, mu);
        close("scale", f.scale_ns, f.scale_se_ns, sigma);
        close("shape", f.shape, f.shape_se, xi);
        // With n = 5000 the shape's standard error is about 0.01.
        assert!(f.shape_se.unwrap() < 0.02, "{f:?}");
    }
}

#[test]
fn gumbel_is_recovered_and_its_shape_free_fit_is_near_zero() {
    let data = gev_sample(Gev::new(3e6, 1e5, 0.0).unwrap(), 4);
    let g = fit_tail(TailModel::Gumbel, &data).unwrap();
    close("location", g.location_ns.unwrap(), g.location_se_ns, 3e6);
    close("scale", g.scale_ns, g.scale_se_ns, 1e5);
    assert_eq!(g.shape, 0.0);
    assert!(g.shape_se.is_none());
    let full = fit_tail(TailModel::Gev, &data).unwrap();
    close("shape", full.shape, full.shape_se, 0.0);
    // Nested models: the free-shape likelihood is at least as high.
    assert!(full.neg_log_likelihood <= g.neg_log_likelihood + 1e-6);
}

#[test]
fn gpd_and_exponential_are_recovered() {
    for (seed, (sigma, xi)) in [(5, (3.0, 0.25)), (6, (2e5, -0.2)), (7, (1.0, 0.0))] {
        let f = fit_tail(TailModel::Gpd, &gpd_sample(Gpd::new(sigma, xi).unwrap(), seed)).unwrap();
        assert!(f.location_ns.is_none() && f.converged);
        close("scale", f.scale_ns, f.scale_se_ns, sigma);
        close("shape", f.shape, f.shape_se, xi);
        // The observed-information standard error agrees with the asymptotic one,
        // sd(ξ̂) = (1 + ξ)/√n (Smith 1987), within 15%.
        let asym = (1.0 + xi) / (N as f64).sqrt();
        let se = f.shape_se.unwrap();
        assert!((se / asym - 1.0).abs() < 0.15, "shape se {se} vs asymptotic {asym}");
    }
    let e = fit_tail(TailModel::Exponential, &gpd_sample(Gpd::new(7.0, 0.0).unwrap(), 8)).unwrap();
    close("scale", e.scale_ns, e.scale_se_ns, 7.0);
    // Closed form: se = σ/√n.
    assert!((e.scale_se_ns.unwrap() - e.scale_ns / (N as f64).sqrt()).abs() < 1e-9);
}

#[test]
fn bad_data_gets_typed_errors() {
    let e = fit_tail(TailModel::Gev, &[1.0; 5]).unwrap_err();
    assert!(matches!(e, WcetError::TooFewSamples { needed: 10, got: 5, .. }), "{e}");
    let mut d: Vec<f64> = (0..20).map(f64::from).collect();
    d[3] = f64::NAN;
    assert!(matches!(fit_tail(TailModel::Gev, &d), Err(WcetError::InvalidSample { index: 3, .. })));
    d[3] = -1.0;
    assert!(fit_tail(TailModel::Gev, &d).is_ok());
    let e = fit_tail(TailModel::Gpd, &d).unwrap_err();
    assert!(e.to_string().contains("excesses >= 0"), "{e}");
    let e = fit_tail(TailModel::Gumbel, &[4.0; 20]).unwrap_err();
    assert!(matches!(e, WcetError::FitFailed { model: TailModel::Gumbel, .. }), "{e}");
}

#[test]
fn reports_are_consistent() {
    let f: FittedTail =
        fit_tail(TailModel::Gev, &gev_sample(Gev::new(0.0, 1.0, 0.1).unwrap(), 9)).unwrap();
    let g = Gev::new(f.location_ns.unwrap(), f.scale_ns, f.shape).unwrap();
    let data = gev_sample(Gev::new(0.0, 1.0, 0.1).unwrap(), 9);
    assert!((g.nll(&data) - f.neg_log_likelihood).abs() < 1e-6 * f.neg_log_likelihood.abs());
}
