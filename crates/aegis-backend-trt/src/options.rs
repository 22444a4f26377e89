//! How a [`crate::TrtBackend`] is set up: CUDA context, CUDA-graph capture, warm-up,
//! activation alignment, tracing.
//!
//! Owns [`TrtOptions`] and its validation. It must not know TensorRT.

use aegis_cuda::CudaContext;
use aegis_trace::{Clock, MonotonicClock, TraceCollector};
use std::fmt;
use std::sync::Arc;

/// Alignment asked of the activation region by default: 256 bytes, what `cudaMalloc`
/// guarantees and what the runtime's pool gives (`aegis_cuda::POOL_ALIGNMENT`).
pub const DEFAULT_ACTIVATION_ALIGNMENT: u64 = 256;

/// Options of a TensorRT backend.
#[derive(Clone)]
pub struct TrtOptions {
    /// The CUDA context the engine lives in; `None`: the primary context of device 0. Jobs must
    /// be enqueued on streams of this context.
    pub context: Option<Arc<CudaContext>>,
    /// Capture the enqueue into a CUDA graph after the first job (and after every change of
    /// input shapes or activation memory) and launch the graph instead: fewer launches, less
    /// jitter. An engine that cannot be captured falls back to plain enqueues.
    pub cuda_graph: bool,
    /// `prepare` runs one inference on zeroed inputs (and captures the graph) when every input
    /// is static, so that TensorRT's lazy initialisation is not paid by the first job.
    pub warm_up: bool,
    /// Alignment the activation region must have: a power of two, at least 256. TensorRT asks
    /// for "CUDA's memory alignment"; raise it (e.g. 512, the texture alignment) if an engine
    /// refuses the region.
    pub activation_alignment: u64,
    /// Where graph-capture and TensorRT warning events go.
    pub trace: Option<Arc<TraceCollector>>,
    /// Clock for those events.
    pub clock: Arc<dyn Clock>,
}

impl Default for TrtOptions {
    fn default() -> Self {
        TrtOptions {
            context: None,
            cuda_graph: false,
            warm_up: true,
            activation_alignment: DEFAULT_ACTIVATION_ALIGNMENT,
            trace: None,
            clock: Arc::new(MonotonicClock::new()),
        }
    }
}

impl TrtOptions {
    /// Why the options cannot be used, naming the field and the fix.
    pub(crate) fn problem(&self) -> Option<String> {
        let a = self.activation_alignment;
        if a < 256 || !a.is_power_of_two() {
            return Some(format!(
                "TrtOptions::activation_alignment = {a}: must be a power of two of at least 256; \
                 use 256 (the default) or 512"
            ));
        }
        None
    }
}

impl fmt::Debug for TrtOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrtOptions")
            .field("context", &self.context.as_ref().map(|_| "given"))
            .field("cuda_graph", &self.cuda_graph)
            .field("warm_up", &self.warm_up)
            .field("activation_alignment", &self.activation_alignment)
            .field("trace", &self.trace.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment_must_be_a_power_of_two_of_at_least_256() {
        assert_eq!(TrtOptions::default().problem(), None);
        for bad in [0, 1, 128, 300, 768] {
            let o = TrtOptions { activation_alignment: bad, ..Default::default() };
            let p = o.problem().unwrap();
            assert!(p.contains("activation_alignment") && p.contains("256"), "{p}");
        }
        let o = TrtOptions { activation_alignment: 512, ..Default::default() };
        assert_eq!(o.problem(), None);
        let dbg = format!("{o:?}");
        assert!(dbg.contains("activation_alignment: 512") && dbg.contains("warm_up: true"));
    }
}
