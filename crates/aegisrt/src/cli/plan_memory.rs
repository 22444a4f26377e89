//! `aegisrt plan-memory FILE... [--align BYTES] [--fp16] [--shared] [--json]`.

use aegis_memory::report::{ReportOptions, plan_memory_report};
use std::path::PathBuf;

/// Arguments of `plan-memory`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Lifetime files (JSON: model, tensors[{id,size,first,last}], weights_bytes).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Alignment of every tensor, bytes (a power of two; 1 = unaligned).
    #[arg(long, default_value_t = 256)]
    align: u64,
    /// Halve every floating-point tensor (fp16 activations).
    #[arg(long)]
    fp16: bool,
    /// The models never run at the same time: share one arena.
    #[arg(long)]
    shared: bool,
    /// Print the machine-readable JSON report.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(a: Args) -> anyhow::Result<()> {
    let opts = ReportOptions { align: a.align, fp16: a.fp16, shared: a.shared };
    let report = plan_memory_report(&a.files, &opts)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
        return Ok(());
    }
    let mib = |b: u64| b as f64 / (1u64 << 20) as f64;
    println!(
        "{:<32} {:>12} {:>12} {:>8} {:>10}",
        "model", "arena MiB", "bound MiB", "ratio", "plan ms"
    );
    for m in &report.models {
        let ratio = if m.lower_bound_bytes == 0 {
            1.0
        } else {
            m.arena_bytes as f64 / m.lower_bound_bytes as f64
        };
        println!(
            "{:<32} {:>12.3} {:>12.3} {:>8.4} {:>10.2}",
            m.model.as_str(),
            mib(m.arena_bytes),
            mib(m.lower_bound_bytes),
            ratio,
            m.planning_ms
        );
    }
    let t = &report.total;
    println!(
        "total: activations isolated {:.3} MiB, shared {:.3} MiB{}, weights {:.3} MiB",
        mib(t.isolated_bytes),
        mib(t.shared_bytes),
        if a.shared { "" } else { " (no --shared: nothing shared)" },
        mib(t.weights_bytes)
    );
    Ok(())
}
