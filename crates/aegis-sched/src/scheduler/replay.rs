//! Replay: an [`InputLog`] fed to a fresh core gives the same decisions.
//!
//! Owns [`replay`]. It must not know where the log came from (simulator or runtime).

use super::config::CoreConfig;
use super::decision::Decision;
use super::engine::SchedulerCore;
use super::error::CoreError;
use super::input::InputLog;

/// What a replay produced: every decision in order, and the inputs that were refused (by
/// index in the log) with the same error as in the recorded run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Decisions, in the order the core emitted them.
    pub decisions: Vec<Decision>,
    /// Refused inputs: `(index in the log, error)`.
    pub refused: Vec<(usize, CoreError)>,
}

/// Feeds `log` to a fresh [`SchedulerCore`] with `config` (no trace, no audit) and returns the
/// decisions. The core is deterministic: no clock, no randomness, no iteration over unordered
/// containers, so a log recorded by the simulator or the runtime replays to the same
/// decisions.
pub fn replay(config: &CoreConfig, log: &InputLog) -> Replayed {
    let mut core = SchedulerCore::new(*config);
    let mut out = Replayed::default();
    for (i, input) in log.inputs.iter().enumerate() {
        if let Err(e) = core.apply(input, &mut out.decisions) {
            out.refused.push((i, e));
        }
    }
    out
}
