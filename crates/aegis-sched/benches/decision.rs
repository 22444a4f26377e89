//! Criterion: one scheduling decision (choose the next job, dispatch it, update the state) with
//! 64 models and 1,024 pending requests, per policy, with trace/audit off and on.
//!
//! `cargo bench -p aegis-sched --bench decision`. Only the decision is timed (criterion's
//! `iter_custom`; each timed region includes one `Instant::now()` pair). See
//! `decision_latency` for percentiles.

#[path = "support/decision_setup.rs"]
mod setup;

use aegis_sched::analysis::Policy;
use criterion::{Criterion, criterion_group, criterion_main};
use setup::{Recording, Rig};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("decision_64_models_1024_pending");
    for policy in [Policy::Fifo, Policy::Edf, Policy::FixedPriority] {
        for rec in Recording::ALL {
            let name = format!("{}/{}", aegis_sched::policy::policy_name(policy), rec.name());
            let mut rig = Rig::new(policy, rec);
            g.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let t = Instant::now();
                        rig.decide();
                        total += t.elapsed();
                        black_box(&rig.core);
                        rig.refill();
                    }
                    total
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
