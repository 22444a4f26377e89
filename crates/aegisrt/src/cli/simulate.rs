//! `aegisrt simulate FILE --policy edf|fifo|fp --jobs N [--lanes L] [--json]`: virtual-time
//! simulation of a task set through the same scheduler core the runtime drives.

use aegis_sched::analysis::Policy;
use aegis_sched::sim::{SimError, SimFileOptions, simulate_file};
use std::num::NonZeroU32;
use std::path::PathBuf;

/// Arguments of `simulate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Task set, as for `aegisrt analyze`.
    file: PathBuf,
    /// Dispatch policy: edf, fifo or fp.
    #[arg(long, default_value = "edf")]
    policy: String,
    /// Jobs to release in total.
    #[arg(long, default_value_t = 100_000)]
    jobs: u64,
    /// Lanes.
    #[arg(long, default_value_t = 1)]
    lanes: u32,
    /// Random seed (execution times, sporadic releases).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print the machine-readable report.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(a: Args) -> anyhow::Result<()> {
    let policy = match a.policy.as_str() {
        "edf" => Policy::Edf,
        "fifo" => Policy::Fifo,
        "fp" => Policy::FixedPriority,
        other => anyhow::bail!("--policy {other:?}: use edf, fifo or fp"),
    };
    let lanes =
        NonZeroU32::new(a.lanes).ok_or_else(|| anyhow::anyhow!("--lanes 0: use at least 1"))?;
    let opts = SimFileOptions { lanes, seed: a.seed, ..SimFileOptions::new(policy, a.jobs) };
    // Read errors name the file already; the others get it in front.
    let report = simulate_file(&a.file, &opts).map_err(|e| match e {
        e @ SimError::Io { .. } => anyhow::Error::new(e),
        e => anyhow::anyhow!("{}: {e}", a.file.display()),
    })?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
    }
    Ok(())
}
