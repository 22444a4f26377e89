//! How long WCET profiling takes, for admission-time use: `WcetProfiler::profile` on 10^4 and
//! 10^5 execution-time-like samples, with the default configuration (99 bootstrap replicates
//! per goodness-of-fit test) and without the bootstrap.
//!
//! Run: `cargo bench -p aegis-sched --bench wcet_profile`. Prints a table of wall-clock times
//! per call (min / median / max over the repetitions, after one warm-up call).

use aegis_sched::wcet::{WcetConfig, WcetProfiler};
use aegis_trace::Duration;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use std::hint::black_box;
use std::time::Instant;

fn exp(r: &mut Xoshiro256PlusPlus, mean: f64) -> f64 {
    let u: f64 = r.random();
    -mean * (1.0 - u).ln()
}

/// 2 ms + Erlang(4) with mean 300 µs.
fn gamma(r: &mut Xoshiro256PlusPlus) -> f64 {
    2e6 + (0..4).map(|_| exp(r, 7.5e4)).sum::<f64>()
}

/// 5 ms + Erlang(8) (mean 200 µs), with a 1% slow mode at 6.5 ms + Erlang(8) (mean 400 µs).
fn bimodal(r: &mut Xoshiro256PlusPlus) -> f64 {
    let slow = r.random::<f64>() < 0.01;
    let (base, mean) = if slow { (6.5e6, 4e5) } else { (5e6, 2e5) };
    base + (0..8).map(|_| exp(r, mean / 8.0)).sum::<f64>()
}

/// A workload: one execution time in ns per call.
type Workload = fn(&mut Xoshiro256PlusPlus) -> f64;

fn samples(n: usize, f: Workload) -> Vec<Duration> {
    let mut r = Xoshiro256PlusPlus::seed_from_u64(42);
    (0..n).map(|_| Duration::from_nanos(f(&mut r) as u64)).collect()
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument is a filter on the workload name.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let reps = 7;
    println!("| workload | n | config | min ms | median ms | max ms | method |");
    println!("|---|---|---|---|---|---|---|");
    let workloads: [(&str, Workload); 2] = [("shifted gamma", gamma), ("1% slow mode", bimodal)];
    for (name, f) in workloads {
        if filter.as_deref().is_some_and(|flt| !name.contains(flt)) {
            continue;
        }
        for n in [10_000usize, 100_000] {
            let x = samples(n, f);
            for (label, cfg) in [
                ("default (B = 99)", WcetConfig::default()),
                ("gof_bootstrap = 0", WcetConfig { gof_bootstrap: 0, ..WcetConfig::default() }),
            ] {
                let p = WcetProfiler::new(cfg).expect("valid config");
                let first = p.profile(&x).expect("profile");
                let mut t: Vec<f64> = (0..reps)
                    .map(|_| {
                        let s = Instant::now();
                        black_box(p.profile(black_box(&x)).expect("profile"));
                        s.elapsed().as_secs_f64() * 1e3
                    })
                    .collect();
                t.sort_by(f64::total_cmp);
                println!(
                    "| {name} | {n} | {label} | {:.1} | {:.1} | {:.1} | {:?} |",
                    t[0],
                    t[reps / 2],
                    t[reps - 1],
                    first.method
                );
            }
        }
    }
}
