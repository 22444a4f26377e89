//! Percentiles of one scheduling decision (64 models, 1,024 pending requests), per policy and
//! recording mode: times each of `N` decisions with `Instant` and prints p50 / p99 / p99.9 /
//! max, plus the cost of an empty `Instant::now()` pair (included in every sample).
//!
//! `cargo bench -p aegis-sched --bench decision_latency [-- N [FILTER]]` (default N = 200,000
//! after N/10 warm-up decisions; FILTER keeps rows whose `policy/recording` contains it).

#[path = "support/decision_setup.rs"]
mod setup;

use aegis_sched::analysis::Policy;
use aegis_sched::policy::policy_name;
use setup::{Recording, Rig};
use std::hint::black_box;
use std::time::Instant;

fn pct(sorted: &[u64], p: f64) -> u64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let n: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(200_000);
    let filter: String = std::env::args()
        .skip(1)
        .filter(|a| a.parse::<usize>().is_err())
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    let warm = n / 10;
    // Timer overhead: an empty Instant pair.
    let mut empty: Vec<u64> = (0..n)
        .map(|_| {
            let t = Instant::now();
            black_box(());
            t.elapsed().as_nanos() as u64
        })
        .collect();
    empty.sort_unstable();
    println!(
        "timer overhead (empty Instant pair, {n} samples): p50 {} ns, p99 {} ns, p99.9 {} ns",
        pct(&empty, 0.5),
        pct(&empty, 0.99),
        pct(&empty, 0.999)
    );
    println!("| policy | recording | p50 | p99 | p99.9 | max | mean |");
    println!("|---|---|---|---|---|---|---|");
    for policy in [Policy::Fifo, Policy::Edf, Policy::FixedPriority] {
        for rec in Recording::ALL {
            if !format!("{}/{}", policy_name(policy), rec.name()).contains(&filter) {
                continue;
            }
            let mut rig = Rig::new(policy, rec);
            for _ in 0..warm {
                rig.decide();
                rig.refill();
            }
            let mut samples = Vec::with_capacity(n);
            for _ in 0..n {
                let t = Instant::now();
                rig.decide();
                samples.push(t.elapsed().as_nanos() as u64);
                black_box(&rig.core);
                rig.refill();
            }
            let mean = samples.iter().sum::<u64>() as f64 / n as f64;
            samples.sort_unstable();
            println!(
                "| {} | {} | {} ns | {} ns | {} ns | {} ns | {:.0} ns |",
                policy_name(policy),
                rec.name(),
                pct(&samples, 0.5),
                pct(&samples, 0.99),
                pct(&samples, 0.999),
                samples[n - 1],
                mean
            );
        }
    }
}
