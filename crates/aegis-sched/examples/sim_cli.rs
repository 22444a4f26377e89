//! `aegisrt simulate` until the CLI exists: simulates an `aegisrt analyze` task-set file and
//! prints per-task misses and response times (p50/p99/max) beside the analysis bound.
//!
//! ```text
//! cargo run -p aegis-sched --release --example sim_cli -- FILE [--policy edf|fifo|fp]
//!     [--jobs N] [--lanes L] [--seed S] [--bcet-percent P] [--sporadic-percent P] [--json]
//! ```
//! Defaults: `--policy edf --jobs 100000 --lanes 1 --seed 1`, every job runs its WCET,
//! periodic releases. Try `crates/aegis-sched/examples/sim_taskset.json`.
//! Exit status: 0 when every job met its deadline, 1 when some missed or were dropped (or the
//! input is bad), 2 on usage errors.

use aegis_sched::analysis::Policy;
use aegis_sched::policy::parse_policy;
use aegis_sched::sim::{ArrivalChoice, ExecChoice, SimFileOptions, simulate_file};
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: sim_cli FILE [--policy edf|fifo|fp] [--jobs N] [--lanes L] [--seed S] \
                     [--bcet-percent P] [--sporadic-percent P] [--json]";

fn parse() -> Result<(PathBuf, SimFileOptions, bool), String> {
    let mut opts = SimFileOptions::new(Policy::Edf, 100_000);
    let (mut file, mut json) = (None, false);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        let num = |name: &str, v: String| {
            v.parse::<u64>().map_err(|_| format!("{name} {v:?}: give a non-negative integer"))
        };
        match a.as_str() {
            "--policy" => {
                let v = value("--policy")?;
                opts.policy =
                    parse_policy(&v).ok_or(format!("--policy {v:?}: use edf, fifo or fp"))?;
            }
            "--jobs" => opts.jobs = num("--jobs", value("--jobs")?)?,
            "--seed" => opts.seed = num("--seed", value("--seed")?)?,
            "--lanes" => {
                let v = num("--lanes", value("--lanes")?)?;
                opts.lanes = u32::try_from(v)
                    .ok()
                    .and_then(NonZeroU32::new)
                    .ok_or("--lanes: give 1 or more")?;
            }
            "--bcet-percent" => {
                let v = num("--bcet-percent", value("--bcet-percent")?)?;
                let p = u8::try_from(v).map_err(|_| "--bcet-percent: give 1 ..= 100")?;
                opts.exec = ExecChoice::Uniform { bcet_percent: p };
            }
            "--sporadic-percent" => {
                let v = num("--sporadic-percent", value("--sporadic-percent")?)?;
                let p = u32::try_from(v).map_err(|_| "--sporadic-percent: too large")?;
                opts.arrival = ArrivalChoice::Sporadic { max_extra_percent: p };
            }
            "--json" => json = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other if other.starts_with('-') => return Err(format!("unknown option {other}")),
            other => file = Some(PathBuf::from(other)),
        }
    }
    Ok((file.ok_or("give a task-set FILE")?, opts, json))
}

fn main() -> ExitCode {
    let (file, opts, json) = match parse() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match simulate_file(&file, &opts) {
        Ok(report) => {
            if json {
                match serde_json::to_string_pretty(&report) {
                    Ok(s) => println!("{s}"),
                    Err(e) => eprintln!("cannot serialise the report: {e}"),
                }
            } else {
                print!("{report}");
            }
            if report.deadline_misses + report.dropped == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
