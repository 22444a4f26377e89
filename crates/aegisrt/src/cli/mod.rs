//! Command-line parsing and dispatch; one module per command. Commands print and exit; the
//! work is done by the library crates.

mod plan_memory;

use clap::{Parser, Subcommand};

/// AegisRT: several neural networks on one GPU, every one with a deadline.
#[derive(Debug, Parser)]
#[command(name = "aegisrt", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Plans each model's activation arena from lifetime files (and what sharing saves).
    PlanMemory(plan_memory::Args),
}

/// Runs the parsed command.
pub(crate) fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::PlanMemory(a) => plan_memory::run(a),
    }
}
