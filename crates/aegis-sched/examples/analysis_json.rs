//! Prints the `aegisrt analyze FILE --json` verdict report for a task-set file, until the CLI
//! exists; the Python cross-check in `crates/aegis-sched/crosscheck/` drives it.
//!
//! ```text
//! cargo run -p aegis-sched --example analysis_json -- [--blocking continuous|discrete]
//!     [--with-fifo] [--jsonl] FILE
//! ```
//! * `--blocking discrete`: non-preemptive blocking `C − 1 µs` (pyRTA's convention) instead of
//!   the default continuous `C`.
//! * `--with-fifo`: add a `"fifo"` entry (not part of the CLI report).
//! * `--jsonl`: FILE holds one input document per line; one report (or `{"error": …}`) per line.
//!
//! Exit status: 0 on success, 1 on a bad input (single-document mode), 2 on usage errors.

use aegis_sched::analysis::{
    AnalysisOptions, BlockingConvention, all_verdicts, parse_task_set_json,
};
use aegis_trace::Duration;
use std::process::ExitCode;

fn analyze(text: &str, opts: &AnalysisOptions, fifo: bool) -> Result<String, String> {
    let tasks = parse_task_set_json(text).map_err(|e| e.to_string())?;
    let all = all_verdicts(&tasks, opts).map_err(|e| e.to_string())?;
    let report = if fifo { all.report_with_fifo() } else { all.report() };
    serde_json::to_string(&report).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let mut opts = AnalysisOptions::default();
    let (mut fifo, mut jsonl, mut file) = (false, false, None);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--blocking" => match args.next().as_deref() {
                Some("continuous") => opts.blocking = BlockingConvention::Continuous,
                Some("discrete") => {
                    opts.blocking = BlockingConvention::Discrete { tick: Duration::from_micros(1) }
                }
                other => {
                    eprintln!("--blocking takes continuous|discrete, got {other:?}");
                    return ExitCode::from(2);
                }
            },
            "--with-fifo" => fifo = true,
            "--jsonl" => jsonl = true,
            _ if file.is_none() && !a.starts_with("--") => file = Some(a),
            _ => {
                eprintln!("unexpected argument {a:?}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(path) = file else {
        eprintln!(
            "usage: analysis_json [--blocking continuous|discrete] [--with-fifo] [--jsonl] FILE"
        );
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            return ExitCode::from(2);
        }
    };
    if jsonl {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match analyze(line, &opts, fifo) {
                Ok(out) => println!("{out}"),
                Err(e) => println!("{}", serde_json::json!({ "error": e })),
            }
        }
        return ExitCode::SUCCESS;
    }
    match analyze(&text, &opts, fifo) {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
