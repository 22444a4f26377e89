//! Per-job cost of the runtime on the CPU (tract) against calling the engine directly in a
//! loop: the issue-7 measurement. Prints a table; the numbers are measured, never asserted.
//!
//! For each example model: (1) the engine alone, `run()` back to back (the direct loop);
//! (2) the same engine under `aegisrt` (admission, release timer, scheduler core, lane
//! worker, completion bookkeeping, trace and metrics on), released periodically. The runtime's
//! per-job overhead is the host time a job spends in the runtime rather than in the engine (the
//! run's "host time per job"): from the start of the core visit that dispatched it (the release
//! batch: releasing, queueing, deciding, recording) to the engine's start on the lane, plus
//! engine end → end of completion bookkeeping. The ratio divides its mean by the direct loop's
//! mean execution. Release timer lateness (the OS waking the release thread late) is reported
//! apart.
//! (3) With `rt`: the same run again with `[host] rt_priority = 50` (`SCHED_FIFO` release and
//! lane threads), in the same process, so the two runtime rows compare on the same machine
//! state; it needs root or `CAP_SYS_NICE` and says so when refused.
//!
//!     cargo bench -p aegisrt --bench runtime_overhead [-- SECONDS] [rt]

use aegisrt::backends;
use aegisrt::deployment::Deployment;
use aegisrt::runtime;
use aegisrt::trace::Duration;
use std::path::Path;
use std::time::Instant;

const MODELS: [(&str, &str, u32); 2] = [
    ("squeezenet", "models/squeezenet1_1.onnx", 30),
    ("mobilenet", "models/mobilenet_v3_small.onnx", 20),
];

fn deployment(name: &str, model: &str, period_ms: u32, host: &str) -> Deployment {
    let text = format!(
        "name = \"overhead-{name}\"\npolicy = \"edf\"\nlanes = 1\npool_mib = 64\nprofile_samples = 200\n\
         [[models]]\nname = \"{name}\"\nbackend = \"tract\"\nmodel = \"{model}\"\nperiod_ms = {period_ms}\npriority = 0\n\
         {host}"
    );
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/overhead.toml");
    Deployment::parse(&text, &examples).expect("bench deployment is valid")
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let secs: u64 = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(20);
    let rt = std::env::args().skip(1).any(|a| a == "rt");
    println!(
        "{:<16} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>9}",
        "model",
        "direct p50",
        "direct avg",
        "rt exec50",
        "release",
        "disp→start",
        "bookkeep",
        "overhead",
        "ratio"
    );
    println!(
        "{:<16} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>9}",
        "", "ms", "ms", "ms", "µs avg", "µs avg", "µs avg", "µs avg", "%"
    );
    for (name, model, period) in MODELS {
        let dep = deployment(name, model, period, "");
        // (1) The engine alone, back to back.
        let mut engine = backends::build(&dep.models[0], None).expect("build engine");
        for _ in 0..20 {
            engine.run().expect("warm-up inference");
        }
        let n = (secs * 1000 / u64::from(period)).max(50) as usize;
        let mut direct = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            engine.run().expect("inference");
            direct.push(t.elapsed().as_secs_f64() * 1e3);
        }
        drop(engine);
        let direct_avg = direct.iter().sum::<f64>() / direct.len() as f64;
        let direct_p50 = pct(&mut direct, 0.5);

        // (2) Under the runtime; (3) again with SCHED_FIFO threads.
        let hosts: &[(&str, &str)] =
            if rt { &[("", ""), (" (rt)", "[host]\nrt_priority = 50\n")] } else { &[("", "")] };
        for (tag, host) in hosts {
            let p = runtime::prepare(deployment(name, model, period, host), false, |_| {})
                .expect("prepare");
            match p.run(Duration::from_secs(secs), |_| {}) {
                Ok(r) => row(&format!("{name}{tag}"), direct_p50, direct_avg, &r),
                Err(e) => println!("{name}{tag}: not run: {e}"),
            }
        }
    }
}

fn row(name: &str, direct_p50: f64, direct_avg: f64, r: &runtime::RunReport) {
    let o = &r.overhead;
    let m = &r.models[0];
    let overhead_us = o.host_per_job.mean_ns / 1e3;
    println!(
        "{:<16} {:>10.3} {:>10.3} {:>10.3} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>9.2}",
        name,
        direct_p50,
        direct_avg,
        m.execution.p50_ns as f64 / 1e6,
        o.release_core.mean_ns / 1e3,
        o.dispatch_to_start.mean_ns / 1e3,
        o.bookkeeping.mean_ns / 1e3,
        overhead_us,
        overhead_us / 1e3 / direct_avg * 100.0
    );
    let p50_us = o.host_per_job.p50_ns as f64 / 1e3;
    println!(
        "{:<16} jobs {}, misses {}; overhead median {:.1} µs = {:.2} %; p50/p99/max µs: overhead {}, core per release batch {}, dispatch→start {}, bookkeeping {}, release lateness {}",
        "",
        m.jobs,
        m.deadline_misses,
        p50_us,
        p50_us / 1e3 / direct_p50 * 100.0,
        o.host_per_job.us_p50_p99_max(),
        o.release_core.us_p50_p99_max(),
        o.dispatch_to_start.us_p50_p99_max(),
        o.bookkeeping.us_p50_p99_max(),
        o.release_lateness.us_p50_p99_max()
    );
}
