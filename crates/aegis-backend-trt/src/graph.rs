//! The CUDA-graph policy of one engine: when to enqueue plainly, when to capture the enqueue
//! into a graph, when to launch the graph, and when a captured graph is stale.
//!
//! Owns [`GraphMode`], [`GraphStats`] and the state machine: with capture on, the first job
//! (or warm-up) enqueues plainly and then captures; later jobs launch the graph. A graph bakes
//! in every address and shape, so binding new activation memory or changing an input shape
//! makes it stale (captured again on the next job). A failed capture turns capture off for the
//! engine. It must not know TensorRT or CUDA calls.

/// Where an engine's graph capture stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GraphMode {
    /// Capture is off (`TrtOptions::cuda_graph` is false).
    Off,
    /// The next job enqueues plainly and then captures a graph.
    Pending,
    /// Jobs launch the captured graph.
    Ready,
    /// Capture failed (the reason); jobs enqueue plainly.
    Unavailable(String),
}

/// An engine's graph mode and counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphStats {
    /// Current mode.
    pub mode: GraphMode,
    /// Graphs captured.
    pub captures: u64,
    /// Jobs run by launching a graph.
    pub launches: u64,
    /// Jobs run by a plain enqueue.
    pub plain_enqueues: u64,
}

/// What the next job does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Launch {
    /// `enqueueV3`.
    Plain,
    /// `enqueueV3`, then capture a graph for the next jobs.
    PlainThenCapture,
    /// Launch the captured graph.
    Graph,
}

#[derive(Debug)]
pub(crate) struct GraphState {
    stats: GraphStats,
}

impl GraphState {
    pub(crate) fn new(enabled: bool) -> Self {
        let mode = if enabled { GraphMode::Pending } else { GraphMode::Off };
        GraphState { stats: GraphStats { mode, captures: 0, launches: 0, plain_enqueues: 0 } }
    }

    pub(crate) fn stats(&self) -> &GraphStats {
        &self.stats
    }

    pub(crate) fn next(&self) -> Launch {
        match self.stats.mode {
            GraphMode::Off | GraphMode::Unavailable(_) => Launch::Plain,
            GraphMode::Pending => Launch::PlainThenCapture,
            GraphMode::Ready => Launch::Graph,
        }
    }

    /// Addresses or shapes changed: returns true when a captured graph must be destroyed.
    pub(crate) fn invalidate(&mut self) -> bool {
        if self.stats.mode == GraphMode::Ready {
            self.stats.mode = GraphMode::Pending;
            return true;
        }
        false
    }

    pub(crate) fn enqueued(&mut self) {
        self.stats.plain_enqueues += 1;
    }

    pub(crate) fn launched(&mut self) {
        self.stats.launches += 1;
    }

    pub(crate) fn captured(&mut self) {
        self.stats.captures += 1;
        self.stats.mode = GraphMode::Ready;
    }

    pub(crate) fn capture_failed(&mut self, reason: String) {
        self.stats.mode = GraphMode::Unavailable(reason);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_stays_plain() {
        let mut g = GraphState::new(false);
        assert_eq!(g.next(), Launch::Plain);
        assert!(!g.invalidate());
        g.enqueued();
        assert_eq!(g.stats().plain_enqueues, 1);
        assert_eq!(g.stats().mode, GraphMode::Off);
    }

    #[test]
    fn capture_then_launch_until_invalidated() {
        let mut g = GraphState::new(true);
        assert_eq!(g.next(), Launch::PlainThenCapture);
        assert!(!g.invalidate(), "nothing captured yet");
        g.captured();
        assert_eq!(g.next(), Launch::Graph);
        g.launched();
        assert!(g.invalidate());
        assert_eq!(g.next(), Launch::PlainThenCapture);
        g.capture_failed("not capturable".into());
        assert_eq!(g.next(), Launch::Plain);
        assert!(!g.invalidate());
        assert_eq!(g.stats().mode, GraphMode::Unavailable("not capturable".into()));
        assert_eq!((g.stats().captures, g.stats().launches), (1, 1));
    }
}
