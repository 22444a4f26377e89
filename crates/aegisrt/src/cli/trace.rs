//! `aegisrt trace explain TRACE EVENT_ID`: a decision chain from a trace file alone.

use aegis_trace::EventId;
use aegis_trace::export::TraceDocument;
use std::path::PathBuf;

/// `trace` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Prints the causal chain that led to an event (admission → … → the event).
    Explain {
        /// A JSON trace written by `aegisrt run --trace` (`*.trace.json`).
        trace: PathBuf,
        /// The event id (a number, or `e42`).
        event: String,
    },
}

pub(crate) fn run(c: Command) -> anyhow::Result<()> {
    match c {
        Command::Explain { trace, event } => {
            let id: u64 = event.trim_start_matches('e').parse().map_err(|_| {
                anyhow::anyhow!("event id {event:?}: give a number such as 42 or e42")
            })?;
            let doc = TraceDocument::read(&trace)?;
            let chain = doc.reconstruct_decision_chain(EventId(id))?;
            print!("{}", chain.explain());
            if !chain.is_complete() {
                println!(
                    "(chain incomplete: {} ancestor(s) were overwritten in the bounded trace buffer)",
                    chain.missing.len()
                );
            }
            Ok(())
        }
    }
}
