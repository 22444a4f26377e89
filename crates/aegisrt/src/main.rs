//! `aegisrt`: the AegisRT command line.
//!
//! | command | what it does |
//! |---|---|
//! | `plan-memory FILE... [--align BYTES] [--fp16] [--shared] [--json]` | static arena plans from lifetime files |

mod cli;

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
    if let Err(e) = cli::run(args) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
