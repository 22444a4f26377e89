//! Admitted sets never miss, at scale: for each policy and 1, 2 and 4 lanes, random task sets
//! admitted by the admission controller are simulated until at least `JOBS` jobs (default
//! 1,000,000) were released; prints misses, drops and the largest response/bound ratio.
//!
//! ```text
//! cargo run -p aegis-sched --release --example sim_million [-- JOBS]
//! ```
//! Generator: 8 tasks, UUniFast utilisation uniform in [0.2, 0.95 × lanes], periods
//! log-uniform in [10 ms, 100 ms] (whole µs), implicit deadlines, deadline-monotonic
//! priorities; half the sets run synchronous periodic releases with every job at its WCET, the
//! other half sporadic releases (up to +50 % of the period) with execution times uniform in
//! [50 %, 100 %] of the WCET. Exit status 1 if any admitted set missed a deadline.

use aegis_sched::analysis::Policy;
use aegis_sched::sim::{CampaignConfig, admitted_campaign};
use std::num::NonZeroU32;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let jobs: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let mut bad = false;
    let started = Instant::now();
    for policy in [Policy::Fifo, Policy::Edf, Policy::FixedPriority] {
        for lanes in [1u32, 2, 4] {
            let Some(lanes) = NonZeroU32::new(lanes) else { continue };
            let mut cfg = CampaignConfig::new(policy, lanes, jobs);
            cfg.seed = 2026 + u64::from(lanes.get());
            let t = Instant::now();
            let r = admitted_campaign(&cfg);
            println!("{r} ({:.1} s)", t.elapsed().as_secs_f64());
            bad |= r.deadline_misses + r.dropped + r.over_bound > 0 || r.jobs < jobs;
        }
    }
    println!("total wall time {:.1} s", started.elapsed().as_secs_f64());
    if bad { ExitCode::from(1) } else { ExitCode::SUCCESS }
}
