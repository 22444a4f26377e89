//! `aegisrt`: the AegisRT command line.
//!
//! | command | what it does |
//! |---|---|
//! | `run FILE [--duration S] [--trace PATH] [--report PATH] [--force]` | the main job: admit, run in real time, report |
//! | `analyze FILE [--json]` | every schedulability test on a task set |
//! | `simulate FILE --policy P --jobs N` | virtual-time simulation of a task set |
//! | `profile FILE MODEL` | WCET profile of one model of a deployment |
//! | `trace explain TRACE EVENT_ID` | a decision chain from a trace file alone |
//! | `plan-memory FILE... [--align BYTES] [--fp16] [--shared] [--json]` | static arena plans from lifetime files |

mod cli;

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
    if let Err(e) = cli::run(args) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
