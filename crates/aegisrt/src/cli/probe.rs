//! `aegisrt probe [--duration S] [--threshold-us U] [--cpus LIST] [--rt-priority N] [--no-gpu]
//! [--json PATH]`: how long this machine's CPUs and GPU stall with nothing else running.

use aegisrt::platform::{ProbeOptions, probe_platform};
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `probe`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// How long to probe, seconds.
    #[arg(long, default_value_t = 30.0)]
    duration: f64,
    /// Steps between two clock reads longer than this are stalls, microseconds.
    #[arg(long, default_value_t = 20)]
    threshold_us: u64,
    /// Host CPUs to probe, one pinned thread each (e.g. `2,3`: the runtime's `[host] cpus`);
    /// default: one unpinned thread.
    #[arg(long, value_delimiter = ',')]
    cpus: Vec<usize>,
    /// Probe threads SCHED_FIFO at this priority (1-98; needs root or CAP_SYS_NICE). They spin:
    /// each takes its CPU from everything else there for the whole probe, bar the 5 % the
    /// kernel's real-time throttling keeps back.
    #[arg(long, allow_hyphen_values = true)]
    rt_priority: Option<i64>,
    /// Probe the host only.
    #[arg(long)]
    no_gpu: bool,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

pub(crate) fn run(a: Args) -> anyhow::Result<()> {
    // The range is the library's to check (`probe_platform`); this only refuses what is no
    // duration at all (negative, not a number).
    let duration = Duration::try_from_secs_f64(a.duration)
        .map_err(|_| anyhow::anyhow!("--duration {}: give seconds, 0.01 to 3600", a.duration))?;
    let rt_priority = match a.rt_priority {
        None => None,
        Some(n) => Some(aegisrt::deployment::rt_priority(n).ok_or_else(|| {
            anyhow::anyhow!("--rt-priority {n}: use 1 to {}", aegisrt::deployment::MAX_RT_PRIORITY)
        })?),
    };
    let o = ProbeOptions {
        duration,
        threshold: Duration::from_micros(a.threshold_us),
        cpus: a.cpus,
        rt_priority,
        gpu: !a.no_gpu,
    };
    o.check()?;
    println!(
        "probe: {:.1} s, stalls > {} µs, host CPUs {}{}, GPU {}",
        a.duration,
        a.threshold_us,
        if o.cpus.is_empty() {
            "any (one unpinned thread)".to_owned()
        } else {
            format!("{:?}", o.cpus)
        },
        o.rt_priority.map_or_else(String::new, |p| format!(" at SCHED_FIFO {p}")),
        if o.gpu { "device 0 (one thread of one block)" } else { "not probed" }
    );
    let r = probe_platform(&o)?;
    print!("{}", r.table());
    if let Some(p) = a.json {
        std::fs::write(&p, serde_json::to_string_pretty(&r)?)?;
        println!("json: {}", p.display());
    }
    Ok(())
}
