//! `aegisrt run FILE [--duration S] [--trace PATH] [--report PATH] [--force] [--policy P]
//! [--rt-priority N]`: the main job.

use aegis_trace::Duration;
use aegis_trace::export::{TraceDocument, write_file, write_perfetto};
use aegisrt::deployment::Deployment;
use aegisrt::runtime::{self, admission_table};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Arguments of `run`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The deployment file (TOML).
    file: PathBuf,
    /// How long to run, seconds (default: the file's `duration_s`).
    #[arg(long)]
    duration: Option<f64>,
    /// Perfetto trace output (the JSON trace for `aegisrt trace explain` is written beside it
    /// with the extension `.trace.json`); default: the file's `trace`.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// HTML report output (a JSON summary is written beside it, `.json`); default: the file's
    /// `report`.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Run refused models too (to show what admission control prevents).
    #[arg(long)]
    force: bool,
    /// Override the file's policy: edf, fifo or fp.
    #[arg(long)]
    policy: Option<String>,
    /// Run the lane workers SCHED_FIFO at this priority (1-98) and the release thread one
    /// above (overrides `[host] rt_priority`; needs root or CAP_SYS_NICE).
    #[arg(long, allow_hyphen_values = true)]
    rt_priority: Option<i64>,
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cores} cores, {}", std::env::consts::ARCH)
}

pub(crate) fn run(a: Args) -> anyhow::Result<()> {
    let mut dep = Deployment::load(&a.file)?;
    if let Some(p) = &a.policy {
        dep.policy = match p.as_str() {
            "edf" => aegis_sched::analysis::Policy::Edf,
            "fifo" => aegis_sched::analysis::Policy::Fifo,
            "fp" => aegis_sched::analysis::Policy::FixedPriority,
            other => anyhow::bail!("--policy {other:?}: use edf, fifo or fp"),
        };
        dep.name = format!("{}-{p}", dep.name);
    }
    if let Some(n) = a.rt_priority {
        let Some(p) = aegisrt::deployment::rt_priority(n) else {
            anyhow::bail!(
                "--rt-priority {n}: use 1 to {} (the release thread runs one above)",
                aegisrt::deployment::MAX_RT_PRIORITY
            )
        };
        dep.host.rt_priority = Some(p);
    }
    let duration = match a.duration {
        Some(s) if s.is_finite() && s > 0.0 => Duration::from_nanos((s * 1e9) as u64),
        Some(s) => anyhow::bail!("--duration {s}: give a positive number of seconds"),
        None => dep.duration,
    };
    // The trace buffer is sized for the run's length (when the file does not fix it).
    dep.duration = duration;
    let trace_path = a.trace.or_else(|| dep.trace.clone());
    let report_path = a.report.or_else(|| dep.report.clone());
    println!(
        "deployment {} ({}): policy {:?}, {} lane(s), {} model(s), run {:.1} s",
        dep.name,
        a.file.display(),
        dep.policy,
        dep.lanes,
        dep.models.len(),
        duration.as_secs_f64()
    );
    let h = &dep.host;
    if h.rt_priority.is_some() || !h.cpus.is_empty() || !h.overhead.is_zero() {
        println!(
            "host: {} µs charged per job; threads {}{}",
            h.overhead.as_nanos() / 1000,
            h.rt_priority.map_or("under the normal scheduler".into(), |p| {
                format!("SCHED_FIFO {p} (release thread {})", p + 1)
            }),
            if h.cpus.is_empty() {
                String::new()
            } else {
                format!(", pinned to CPUs {:?}", h.cpus)
            }
        );
    }
    let mut last = std::time::Instant::now();
    let prepared = runtime::prepare(dep, a.force, |(model, done, total)| {
        if done == total || last.elapsed() >= std::time::Duration::from_millis(200) {
            last = std::time::Instant::now();
            let width = 30;
            let filled = done * width / total.max(1);
            eprint!(
                "\rprofiling {:<16} [{}{}] {done}/{total}",
                model.as_str(),
                "#".repeat(filled),
                ".".repeat(width - filled)
            );
            if done == total {
                eprintln!();
            }
            let _ = std::io::stderr().flush();
        }
    })?;
    println!("\nadmission ({:?}, non-preemptive analysis):", prepared.deployment().policy);
    print!("{}", admission_table(&prepared.admission()));
    if let Some(plan) = prepared.memory_plan() {
        let t = &plan.sharing.total;
        println!(
            "memory: activations {:.2} MiB isolated → {:.2} MiB shared per lane (saved {:.2} MiB), weights {:.2} MiB",
            t.activations_isolated_bytes as f64 / 1048576.0,
            t.activations_shared_bytes as f64 / 1048576.0,
            t.saved_bytes as f64 / 1048576.0,
            t.weights_bytes as f64 / 1048576.0
        );
    }
    println!();
    let report = prepared.run(duration, |p| {
        eprint!(
            "\r[{:>6.1} s] released {:>7}  completed {:>7}  misses {:>5}  dropped {:>5}  faults {:>3}",
            p.elapsed.as_secs_f64(),
            p.released,
            p.completed,
            p.misses,
            p.dropped,
            p.faults
        );
        let _ = std::io::stderr().flush();
    })?;
    eprintln!();
    println!(
        "\nresults ({} jobs in {:.2} s):",
        report.progress.completed,
        report.elapsed.as_secs_f64()
    );
    print!("{}", report.results_table());
    if let Some(p) = &trace_path {
        let events = prepared.trace().events();
        write_file(p, |w| write_perfetto(w, &events))?;
        let json = p.with_extension("trace.json");
        let doc = TraceDocument::capture(prepared.trace(), Some(prepared.audit()));
        write_file(&json, |w| doc.write_json(w))?;
        println!(
            "trace: {} (Perfetto), {} (JSON; `aegisrt trace explain {} EVENT_ID`)",
            p.display(),
            json.display(),
            json.display()
        );
    }
    if let Some(p) = &report_path {
        write_report(p, &report)?;
        println!("report: {} (+ .json)", p.display());
    }
    let misses = report.admitted_misses();
    if misses > 0 {
        println!("ADMITTED MODELS MISSED {misses} DEADLINE(S)");
    }
    Ok(())
}

fn write_report(p: &Path, report: &runtime::RunReport) -> anyhow::Result<()> {
    let html = aegisrt::html::render(report, &machine())
        .map_err(|e| anyhow::anyhow!("drawing the report: {e}"))?;
    if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(p, html)?;
    std::fs::write(p.with_extension("json"), serde_json::to_string_pretty(report)?)?;
    Ok(())
}
