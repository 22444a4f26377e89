//! Admitted sets never miss: random task sets admitted by the admission controller, each
//! policy, one and two lanes, simulated with worst-case and random behaviour. (The 1e6-job run
//! is `examples/sim_million.rs`; its output is recorded in docs/benchmarks/scheduler.md.)

use aegis_sched::analysis::Policy;
use aegis_sched::sim::{CampaignConfig, admitted_campaign};
use std::num::NonZeroU32;

#[test]
fn admitted_random_sets_never_miss_under_any_policy() {
    let mut total = 0;
    for policy in [Policy::Fifo, Policy::Edf, Policy::FixedPriority] {
        for lanes in [1, 2] {
            let lanes = NonZeroU32::new(lanes).unwrap();
            let mut cfg = CampaignConfig::new(policy, lanes, 20_000);
            cfg.jobs_per_set = 1_000;
            cfg.seed = 11 + u64::from(lanes.get());
            let r = admitted_campaign(&cfg);
            assert!(r.sets_admitted >= 10, "too few admitted sets to mean anything: {r}");
            assert!(r.jobs >= 20_000, "{r}");
            assert_eq!(r.completed, r.jobs, "{r}");
            assert_eq!(
                (r.deadline_misses, r.dropped, r.overruns, r.over_bound),
                (0, 0, 0, 0),
                "{r}"
            );
            assert!(r.worst_bound_ratio <= 1.0 && r.worst_bound_ratio > 0.2, "{r}");
            total += r.jobs;
        }
    }
    assert!(total >= 120_000);
}
