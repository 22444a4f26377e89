//! `aegisrt profile FILE MODEL [--samples N] [--json]`: the WCET profile of one model of a
//! deployment, measured on its backend alone.

use aegisrt::deployment::Deployment;
use std::path::PathBuf;

/// Arguments of `profile`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The deployment file that describes the model.
    file: PathBuf,
    /// The model's name in it.
    model: String,
    /// Samples to measure (default: the file's `profile_samples`).
    #[arg(long)]
    samples: Option<usize>,
    /// Also measure this many held-out executions and check the pWCET against them.
    #[arg(long, default_value_t = 0)]
    holdout: usize,
    /// Also measure under a co-running cuBLAS SGEMM loop of this size (GPU models): the
    /// contention factor.
    #[arg(long)]
    co_runner_gemm: Option<usize>,
    /// Print the whole result as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(a: Args) -> anyhow::Result<()> {
    let dep = Deployment::load(&a.file)?;
    let samples = a.samples.unwrap_or(dep.profile_samples);
    let opts =
        aegisrt::profile::ProfileOptions { holdout: a.holdout, co_runner_gemm: a.co_runner_gemm };
    let result =
        aegisrt::profile::profile_model_with(&dep, &a.model, samples, &opts, |done, total| {
            if done % 50 == 0 || done == total {
                eprint!("\rprofiling {} {done}/{total}", a.model);
            }
        })?;
    eprintln!();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
        return Ok(());
    }
    let profile = &result.profile;
    let iid_note = &result.iid_note;
    let ms = |d: aegis_trace::Duration| format!("{:.3} ms", d.as_nanos() as f64 / 1e6);
    println!("model {} ({} samples)", a.model, profile.sample_count);
    println!(
        "  best {}  average {}  p99 {}  p99.9 {}  worst {}",
        ms(profile.best),
        ms(profile.average),
        ms(profile.p99),
        ms(profile.p999),
        ms(profile.worst)
    );
    println!(
        "  pWCET at exceedance {:e} per job: {} ({:?}: {})",
        profile.exceedance_probability,
        ms(profile.pwcet),
        profile.method,
        profile.method_reason
    );
    println!(
        "  pessimism pWCET / observed max: {:.3}",
        profile.pwcet.as_nanos() as f64 / profile.worst.as_nanos().max(1) as f64
    );
    println!("  {iid_note}");
    for w in &profile.warnings {
        println!("  warning: {w}");
    }
    if let Some(c) = &profile.contention_factor {
        println!(
            "  contention factor (q{}): {:.3} (isolated {} → loaded {})",
            c.quantile,
            c.factor,
            ms(c.isolated),
            ms(c.loaded)
        );
    }
    if let Some(h) = &result.holdout {
        println!(
            "  held-out check: {} samples, {} above the pWCET, observed max {}, pessimism {}",
            h.samples,
            h.exceedances,
            ms(h.observed_max),
            h.pessimism.map_or("-".into(), |p| format!("{p:.3}"))
        );
    }
    Ok(())
}
