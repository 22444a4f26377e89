//! The fault boundary of one execution context.
//!
//! Owns catching (backend errors, backend panics, CUDA errors, timeouts), the faulted state and
//! its recovery. A faulted context refuses further work without touching its backend until
//! `clear_error()`; nothing here touches any other context. Sticky CUDA errors are classified as
//! [`Recovery::RestartProcess`] (ADR 0002: on the H200 / driver 580 they poison every CUDA
//! context of the process). It must not know about budgets or scheduling.

use crate::backend::BackendError;
use crate::error::{ContextError, ContextFault, FaultKind, Recovery};
use aegis_trace::{Clock, EventKind, ModelId, TraceCollector, TraceEvent};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Whether a context accepts work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContextState {
    /// Accepts work.
    Ready,
    /// Refuses work until recovered.
    Faulted,
}

pub(crate) struct FaultBoundary {
    model: ModelId,
    faulted: AtomicBool,
    last: Mutex<Option<ContextFault>>,
    faults: std::sync::atomic::AtomicU64,
    trace: Option<Arc<TraceCollector>>,
    clock: Arc<dyn Clock>,
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

/// Whether a backend error is the caller's mistake (reported, context stays ready) rather
/// than a failure of the model.
fn is_caller_error(e: &BackendError) -> bool {
    matches!(
        e,
        BackendError::InvalidInput { .. }
            | BackendError::Unsupported { .. }
            | BackendError::BadActivationRegion { .. }
    )
}

impl FaultBoundary {
    pub(crate) fn new(
        model: ModelId,
        trace: Option<Arc<TraceCollector>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        FaultBoundary {
            model,
            faulted: AtomicBool::new(false),
            last: Mutex::new(None),
            faults: std::sync::atomic::AtomicU64::new(0),
            trace,
            clock,
        }
    }

    pub(crate) fn state(&self) -> ContextState {
        if self.faulted.load(Ordering::Acquire) {
            ContextState::Faulted
        } else {
            ContextState::Ready
        }
    }

    pub(crate) fn last_error(&self) -> Option<ContextFault> {
        self.last.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub(crate) fn fault_count(&self) -> u64 {
        self.faults.load(Ordering::Relaxed)
    }

    /// Refuses work while faulted.
    pub(crate) fn check_ready(&self) -> Result<(), ContextError> {
        if self.faulted.load(Ordering::Acquire) {
            let fault = self.last_error().unwrap_or_else(|| {
                self.make(FaultKind::Backend, "faulted".into(), Recovery::ClearError)
            });
            return Err(ContextError::Faulted(Box::new(fault)));
        }
        Ok(())
    }

    fn make(&self, kind: FaultKind, message: String, recovery: Recovery) -> ContextFault {
        ContextFault { model: self.model.clone(), kind, message, at: self.clock.now(), recovery }
    }

    /// Records a fault: the context refuses work until recovered.
    pub(crate) fn record(
        &self,
        kind: FaultKind,
        message: String,
        recovery: Recovery,
    ) -> ContextFault {
        let fault = self.make(kind, message, recovery);
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some(fault.clone());
        self.faulted.store(true, Ordering::Release);
        self.faults.fetch_add(1, Ordering::Relaxed);
        if let Some(t) = &self.trace {
            t.record(
                TraceEvent::new(EventKind::Fault, "context", fault.at)
                    .model(self.model.clone())
                    .rationale(fault.message.clone())
                    .attr("kind", format!("{kind:?}"))
                    .attr("recovery", format!("{recovery:?}")),
            );
        }
        fault
    }

    /// Records the fault a backend error means.
    pub(crate) fn record_backend_error(&self, e: &BackendError) -> ContextFault {
        let (kind, recovery) = match e {
            BackendError::Cuda(c) if c.is_sticky() => (FaultKind::Cuda, Recovery::RestartProcess),
            BackendError::Cuda(_) => (FaultKind::Cuda, Recovery::ClearError),
            _ => (FaultKind::Backend, Recovery::ClearError),
        };
        self.record(kind, e.to_string(), recovery)
    }

    /// Runs `f` inside the boundary. Panics are caught and fault the context; backend errors
    /// fault it when `errors_fault` and the error is not the caller's mistake.
    pub(crate) fn call<R>(
        &self,
        errors_fault: bool,
        f: impl FnOnce() -> Result<R, BackendError>,
    ) -> Result<R, ContextError> {
        self.check_ready()?;
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) if !errors_fault || is_caller_error(&e) => {
                Err(ContextError::Backend { model: self.model.clone(), source: Box::new(e) })
            }
            Ok(Err(e)) => {
                let fault = self.record_backend_error(&e);
                Err(ContextError::Fault { fault: Box::new(fault), source: Some(Box::new(e)) })
            }
            Err(p) => {
                let fault = self.record(
                    FaultKind::Panic,
                    format!("backend panicked: {}", panic_message(p.as_ref())),
                    Recovery::ClearError,
                );
                Err(ContextError::Fault { fault: Box::new(fault), source: None })
            }
        }
    }

    /// Returns the context to service, unless the fault needs a new process.
    pub(crate) fn clear(&self) -> Result<(), ContextError> {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(f) = last.as_ref().filter(|f| f.recovery == Recovery::RestartProcess) {
            return Err(ContextError::Unrecoverable {
                model: self.model.clone(),
                fault: Box::new(f.clone()),
            });
        }
        let was = self.faulted.swap(false, Ordering::AcqRel);
        *last = None;
        if was && let Some(t) = &self.trace {
            t.record(
                TraceEvent::new(EventKind::Recovered, "context", self.clock.now())
                    .model(self.model.clone())
                    .rationale("fault cleared by clear_error()"),
            );
        }
        Ok(())
    }
}
