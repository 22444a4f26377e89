//! `aegisrt baseline FILE [--duration S] [--stream-priorities] [--json PATH]`: the same models
//! without the runtime (one thread and stream each, launching at their periods).

use aegis_trace::Duration;
use aegisrt::baseline::run_baseline;
use aegisrt::deployment::Deployment;
use std::path::PathBuf;

/// Arguments of `baseline`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The deployment file.
    file: PathBuf,
    /// How long to run, seconds (default: the file's `duration_s`).
    #[arg(long)]
    duration: Option<f64>,
    /// Give each model's stream the CUDA priority of its model priority.
    #[arg(long)]
    stream_priorities: bool,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

pub(crate) fn run(a: Args) -> anyhow::Result<()> {
    let dep = Deployment::load(&a.file)?;
    let duration =
        a.duration.map_or(dep.duration, |s| Duration::from_nanos((s.max(0.001) * 1e9) as u64));
    println!(
        "baseline {}: {} model(s), one thread{} each, no admission, {:.1} s",
        dep.name,
        dep.models.len(),
        if a.stream_priorities { " and prioritised stream" } else { " and stream" },
        duration.as_secs_f64()
    );
    let r = run_baseline(&dep, duration, a.stream_priorities)?;
    print!("{}", r.table());
    if let Some(p) = a.json {
        std::fs::write(&p, serde_json::to_string_pretty(&r)?)?;
        println!("json: {}", p.display());
    }
    Ok(())
}
