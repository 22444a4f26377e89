//! Command-line parsing and dispatch; one module per command. Commands print and exit; the
//! work is done by the library crates.

mod analyze;
mod baseline;
mod plan_memory;
mod probe;
mod profile;
mod run;
mod simulate;
mod trace;

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
    /// Runs a deployment: admission, real-time scheduling, report (the main job).
    Run(run::Args),
    /// Runs a deployment the way users do without a runtime (a thread and stream per model).
    Baseline(baseline::Args),
    /// Runs every schedulability test on a task set.
    Analyze(analyze::Args),
    /// Simulates a task set in virtual time through the scheduler core.
    Simulate(simulate::Args),
    /// Profiles the WCET of one model of a deployment.
    Profile(profile::Args),
    /// Measures how long this machine's CPUs and GPU stall with nothing else running.
    Probe(probe::Args),
    /// Reads trace files.
    #[command(subcommand)]
    Trace(trace::Command),
    /// Plans each model's activation arena from lifetime files (and what sharing saves).
    PlanMemory(plan_memory::Args),
}

/// Runs the parsed command.
pub(crate) fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::PlanMemory(a) => plan_memory::run(a),
        Command::Run(a) => run::run(a),
        Command::Analyze(a) => analyze::run(a),
        Command::Baseline(a) => baseline::run(a),
        Command::Simulate(a) => simulate::run(a),
        Command::Profile(a) => profile::run(a),
        Command::Probe(a) => probe::run(a),
        Command::Trace(c) => trace::run(c),
    }
}
