//! `aegisrt analyze FILE [--json]`: every schedulability test on a task set.

use aegis_sched::analysis::{AnalysisOptions, all_verdicts, parse_task_set_json};
use std::path::PathBuf;

/// Arguments of `analyze`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Task set: {"tasks":[{"name","wcet_us","period_us","deadline_us","priority"}]}.
    file: PathBuf,
    /// Print the machine-readable verdicts.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(a: Args) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&a.file)
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.file.display()))?;
    let tasks =
        parse_task_set_json(&text).map_err(|e| anyhow::anyhow!("{}: {e}", a.file.display()))?;
    let v = all_verdicts(&tasks, &AnalysisOptions::default())
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.file.display()))?;
    let report = v.report();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let value = serde_json::to_value(&report)?;
    for (test, verdict) in value["verdicts"].as_object().into_iter().flatten() {
        let ok = verdict["schedulable"].as_bool().unwrap_or(false);
        print!("{test:<22} {}", if ok { "schedulable" } else { "NOT schedulable" });
        if let Some(r) = verdict.get("response_us").and_then(|r| r.as_object()) {
            let parts: Vec<String> = r
                .iter()
                .map(|(k, v)| {
                    format!("{k}={}", if v.is_null() { "∞".into() } else { format!("{v} µs") })
                })
                .collect();
            print!("  ({})", parts.join(", "));
        }
        println!();
    }
    Ok(())
}
