//! Seeded samplers for the WCET tests: inverse-CDF sampling with rand 0.10 (statrs's
//! `Gumbel::sample` returns NaN, statrs issue #461, so no statrs sampler is used).
#![allow(dead_code, unreachable_pub)]

use aegis_sched::wcet::{Gev, Gpd};
use aegis_trace::Duration;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use statrs::distribution::{ContinuousCDF, Normal};

pub struct Sampler(Xoshiro256PlusPlus);

impl Sampler {
    pub fn new(seed: u64) -> Self {
        Sampler(Xoshiro256PlusPlus::seed_from_u64(seed))
    }

    /// Uniform on the open interval (0, 1).
    pub fn u(&mut self) -> f64 {
        loop {
            let v: f64 = self.0.random();
            if v > 0.0 {
                return v;
            }
        }
    }

    pub fn gev(&mut self, g: Gev) -> f64 {
        let u = self.u();
        g.quantile_upper(u)
    }

    pub fn gpd(&mut self, g: Gpd) -> f64 {
        let u = self.u();
        g.quantile_upper(u)
    }

    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * self.u().ln()
    }

    pub fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        let u = self.u();
        mean + sd * Normal::standard().inverse_cdf(u)
    }

    /// Gamma with integer shape k (Erlang): a sum of k exponentials.
    pub fn erlang(&mut self, k: usize, mean: f64) -> f64 {
        (0..k).map(|_| self.exp(mean / k as f64)).sum()
    }

    pub fn lognormal(&mut self, mu: f64, sigma: f64) -> f64 {
        self.normal(mu, sigma).exp()
    }
}

pub fn ns(v: f64) -> Duration {
    assert!(v.is_finite() && v >= 0.0, "{v}");
    Duration::from_nanos(v.round() as u64)
}

/// Execution-time-like: 2 ms + Erlang(4) with mean 300 µs (light exponential tail).
pub fn shifted_gamma(s: &mut Sampler) -> Duration {
    ns(2e6 + s.erlang(4, 3e5))
}

/// Execution-time-like: 1.5 ms + lognormal(ln 2e5, 0.25).
pub fn shifted_lognormal(s: &mut Sampler) -> Duration {
    ns(1.5e6 + s.lognormal(2e5f64.ln(), 0.25))
}

/// A fast mode (5 ms + Erlang(8), mean 200 µs) with a rare slow mode (1%: 6.5 ms + Erlang(8),
/// mean 400 µs), drawn independently.
pub fn bimodal(s: &mut Sampler) -> Duration {
    if s.u() < 0.01 { ns(6.5e6 + s.erlang(8, 4e5)) } else { ns(5e6 + s.erlang(8, 2e5)) }
}

pub fn series(n: usize, seed: u64, f: fn(&mut Sampler) -> Duration) -> Vec<Duration> {
    let mut s = Sampler::new(seed);
    (0..n).map(|_| f(&mut s)).collect()
}
