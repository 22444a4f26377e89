//! The execution context: one model's resource container.
//!
//! Owns [`ExecutionContext`]: the model's backend behind its fault boundary, exact memory and
//! stream accounting against the budget (atomics, lock-free; grants are RAII leases that give
//! back on drop), and compute accounting per period (measured and exposed; the scheduler
//! enforces). Exceeding a budget is a typed error and a `budget_exceeded` trace event, never a
//! silent clamp. It must not know about scheduling policies or memory plans.

use crate::backend::{Placement, RuntimeBackend};
use crate::budget::{BudgetField, ResourceBudget};
use crate::compute::{ComputeAccount, ComputeStatus};
use crate::error::{ContextError, ContextFault, FaultKind, Recovery};
use crate::fault::{ContextState, FaultBoundary};
use aegis_cuda::{CudaContext, CudaStream, StreamPriority};
use aegis_trace::{
    Clock, Duration, EventKind, ModelId, MonotonicClock, Timestamp, TraceCollector, TraceEvent,
};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Options of a context.
#[derive(Clone)]
pub struct ContextOptions {
    /// Where budget and fault events go.
    pub trace: Option<Arc<TraceCollector>>,
    /// Clock for events and fault timestamps.
    pub clock: Arc<dyn Clock>,
    /// Device memory, bytes, to validate the memory budget against (None: not checked).
    pub device_memory: Option<u64>,
}

impl Default for ContextOptions {
    fn default() -> Self {
        ContextOptions { trace: None, clock: Arc::new(MonotonicClock::new()), device_memory: None }
    }
}

/// One model's execution context. Create with [`ExecutionContext::create`]; share by `Arc`.
pub struct ExecutionContext {
    model: ModelId,
    budget: ResourceBudget,
    placement: Placement,
    engine: String,
    backend: Mutex<Box<dyn RuntimeBackend>>,
    memory_used: AtomicU64,
    streams_in_use: AtomicU32,
    compute: ComputeAccount,
    boundary: FaultBoundary,
    trace: Option<Arc<TraceCollector>>,
    clock: Arc<dyn Clock>,
    resident_bytes: u64,
}

/// Memory granted against a context's budget; given back on drop.
#[must_use = "dropping the reservation gives the memory back to the budget"]
pub struct MemoryReservation {
    ctx: Arc<ExecutionContext>,
    bytes: u64,
}

/// A stream slot granted against a context's budget; given back on drop.
#[must_use = "dropping the lease gives the stream slot back to the budget"]
pub struct StreamLease {
    ctx: Arc<ExecutionContext>,
}

/// A CUDA stream counted against a context's stream budget.
pub struct ContextStream {
    stream: CudaStream,
    _lease: StreamLease,
}

impl ExecutionContext {
    /// Creates the context of `model` around `backend`, validating `budget` (and against the
    /// device memory when given) and reserving the backend's resident memory (weights and I/O
    /// buffers) against it.
    ///
    /// # Errors
    /// [`ContextError::InvalidBudget`] naming the field and the fix;
    /// [`ContextError::BudgetExceeded`] when the model's resident memory alone exceeds it.
    pub fn create(
        model: ModelId,
        budget: ResourceBudget,
        backend: Box<dyn RuntimeBackend>,
        opts: ContextOptions,
    ) -> Result<Arc<Self>, ContextError> {
        let checked = match opts.device_memory {
            Some(dev) => budget.validate_for_device(dev),
            None => budget.validation_error().map_or(Ok(()), Err),
        };
        checked.map_err(|source| ContextError::InvalidBudget { model: model.clone(), source })?;
        let req = backend.memory_requirements();
        let ctx = Arc::new(ExecutionContext {
            boundary: FaultBoundary::new(model.clone(), opts.trace.clone(), opts.clock.clone()),
            compute: ComputeAccount::new(budget.compute_budget, budget.period),
            placement: backend.placement(),
            engine: backend.engine().to_owned(),
            model,
            budget,
            backend: Mutex::new(backend),
            memory_used: AtomicU64::new(0),
            streams_in_use: AtomicU32::new(0),
            trace: opts.trace,
            clock: opts.clock,
            resident_bytes: req.weights_bytes.saturating_add(req.io_bytes),
        });
        // The backend's resident memory lives as long as the context: granted once, never
        // given back (no lease object, which would keep the context alive).
        ctx.grant(ctx.resident_bytes, "weights+io")?;
        Ok(ctx)
    }

    /// The model.
    pub fn model_id(&self) -> &ModelId {
        &self.model
    }

    /// The budget.
    pub fn budget(&self) -> &ResourceBudget {
        &self.budget
    }

    /// Where the backend executes.
    pub fn placement(&self) -> Placement {
        self.placement
    }

    /// The backend's engine name.
    pub fn engine(&self) -> &str {
        &self.engine
    }

    // --- memory ---------------------------------------------------------------------------

    /// Bytes currently granted.
    pub fn memory_used(&self) -> u64 {
        self.memory_used.load(Ordering::Acquire)
    }

    /// Whether `bytes` more would fit the memory budget now.
    pub fn can_allocate(&self, bytes: u64) -> bool {
        self.memory_used().checked_add(bytes).is_some_and(|t| t <= self.budget.memory_limit)
    }

    /// Grants `bytes` against the memory budget (`what` labels the trace event on refusal).
    ///
    /// # Errors
    /// [`ContextError::BudgetExceeded`] (nothing granted) when it would exceed the limit.
    pub fn reserve_memory(
        self: &Arc<Self>,
        bytes: u64,
        what: &str,
    ) -> Result<MemoryReservation, ContextError> {
        self.grant(bytes, what)?;
        Ok(MemoryReservation { ctx: self.clone(), bytes })
    }

    fn grant(&self, bytes: u64, what: &str) -> Result<(), ContextError> {
        let limit = self.budget.memory_limit;
        self.memory_used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|t| *t <= limit)
            })
            .map(|_| ())
            .map_err(|used| self.exceeded(BudgetField::MemoryLimit, bytes, used, limit, what))
    }

    /// Bytes the backend holds for the context's whole life (weights and I/O buffers).
    pub fn resident_bytes(&self) -> u64 {
        self.resident_bytes
    }

    fn exceeded(
        &self,
        resource: BudgetField,
        requested: u64,
        used: u64,
        limit: u64,
        what: &str,
    ) -> ContextError {
        if let Some(t) = &self.trace {
            t.record(
                TraceEvent::new(EventKind::BudgetExceeded, "context", self.clock.now())
                    .model(self.model.clone())
                    .rationale(format!("{} budget refused {what}", resource.name()))
                    .attr("resource", resource.name())
                    .attr("requested", requested)
                    .attr("used", used)
                    .attr("limit", limit),
            );
        }
        ContextError::BudgetExceeded { model: self.model.clone(), resource, requested, used, limit }
    }

    // --- streams --------------------------------------------------------------------------

    /// Streams currently held.
    pub fn streams_in_use(&self) -> u32 {
        self.streams_in_use.load(Ordering::Acquire)
    }

    /// Grants one stream slot against the stream budget.
    ///
    /// # Errors
    /// [`ContextError::BudgetExceeded`] when all slots are held.
    pub fn acquire_stream(self: &Arc<Self>) -> Result<StreamLease, ContextError> {
        let limit = self.budget.stream_limit;
        match self
            .streams_in_use
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < limit).then_some(n + 1))
        {
            Ok(_) => Ok(StreamLease { ctx: self.clone() }),
            Err(n) => Err(self.exceeded(
                BudgetField::StreamLimit,
                1,
                u64::from(n),
                u64::from(limit),
                "a stream",
            )),
        }
    }

    /// Creates a CUDA stream on `cuda` counted against the stream budget.
    ///
    /// # Errors
    /// [`ContextError::BudgetExceeded`]; a CUDA failure as a [`ContextError::Backend`].
    pub fn create_stream(
        self: &Arc<Self>,
        cuda: &Arc<CudaContext>,
        priority: StreamPriority,
    ) -> Result<ContextStream, ContextError> {
        let lease = self.acquire_stream()?;
        let stream = CudaStream::new(cuda, priority).map_err(|e| ContextError::Backend {
            model: self.model.clone(),
            source: Box::new(e.into()),
        })?;
        Ok(ContextStream { stream, _lease: lease })
    }

    // --- compute --------------------------------------------------------------------------

    /// Accounts a job that started at `start` and executed for `duration` in the period that
    /// contains `start`; reports (and traces, once per period) an overrun of the compute budget.
    pub fn record_execution(&self, start: Timestamp, duration: Duration) -> ComputeStatus {
        let status = self.compute.record(start, duration);
        if status.newly_overrun
            && let Some(t) = &self.trace
        {
            t.record(
                TraceEvent::new(EventKind::Overrun, "context", start)
                    .model(self.model.clone())
                    .duration(duration)
                    .rationale(format!(
                        "compute budget {} exceeded in period {}: {} used",
                        self.budget.compute_budget, status.period_index, status.used_in_period
                    ))
                    .attr("budget_ns", self.budget.compute_budget.as_nanos())
                    .attr("used_ns", status.used_in_period.as_nanos()),
            );
        }
        status
    }

    /// Execution time accounted in the period containing `at`.
    pub fn compute_used_in_period(&self, at: Timestamp) -> Duration {
        self.compute.used_at(at)
    }

    /// Periods in which the compute budget was exceeded.
    pub fn compute_overruns(&self) -> u64 {
        self.compute.overruns()
    }

    // --- execution inside the fault boundary ----------------------------------------------

    /// Runs one inference on the calling thread (CPU engines).
    ///
    /// # Errors
    /// [`ContextError::Faulted`] while faulted; [`ContextError::Fault`] when this call faulted
    /// the context (backend error or panic); [`ContextError::Backend`] for a caller mistake.
    pub fn run(&self) -> Result<(), ContextError> {
        self.boundary.call(true, || self.lock_backend().run())
    }

    /// Enqueues one inference on `stream` (GPU engines); see [`Self::run`] for errors.
    ///
    /// # Errors
    /// As [`Self::run`].
    pub fn enqueue(&self, stream: &CudaStream) -> Result<(), ContextError> {
        self.boundary.call(true, || self.lock_backend().enqueue(stream))
    }

    /// Calls `f` on the backend inside the boundary (setup, inputs, outputs). A panic faults
    /// the context; an error is returned without faulting it.
    ///
    /// # Errors
    /// [`ContextError::Faulted`] while faulted; [`ContextError::Backend`] with `f`'s error;
    /// [`ContextError::Fault`] if `f` panicked.
    pub fn with_backend<R>(
        &self,
        f: impl FnOnce(&mut dyn RuntimeBackend) -> Result<R, crate::BackendError>,
    ) -> Result<R, ContextError> {
        self.boundary.call(false, || f(self.lock_backend().as_mut()))
    }

    fn lock_backend(&self) -> std::sync::MutexGuard<'_, Box<dyn RuntimeBackend>> {
        // A panic inside a backend call poisons the lock; the fault boundary has recorded it,
        // and recovery decides whether the backend is used again.
        self.backend.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a fault the runtime detected outside a backend call: a CUDA error reported by
    /// the job's completion event, or a job exceeding its timeout.
    pub fn report_fault(
        &self,
        kind: FaultKind,
        message: impl Into<String>,
        sticky_cuda: bool,
    ) -> ContextFault {
        let recovery = if sticky_cuda { Recovery::RestartProcess } else { Recovery::ClearError };
        self.boundary.record(kind, message.into(), recovery)
    }

    /// Ready or faulted.
    pub fn state(&self) -> ContextState {
        self.boundary.state()
    }

    /// True while faulted.
    pub fn has_error(&self) -> bool {
        self.state() == ContextState::Faulted
    }

    /// The fault that put the context in the faulted state.
    pub fn last_error(&self) -> Option<ContextFault> {
        self.boundary.last_error()
    }

    /// Faults recorded over the context's life.
    pub fn fault_count(&self) -> u64 {
        self.boundary.fault_count()
    }

    /// Returns the context to service. After a panic the same backend object is used again;
    /// an engine that cannot tolerate that must be re-created with a new context instead.
    ///
    /// # Errors
    /// [`ContextError::Unrecoverable`] for a sticky CUDA fault (restart the process).
    pub fn clear_error(&self) -> Result<(), ContextError> {
        self.boundary.clear()
    }
}

impl std::fmt::Debug for ExecutionContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecutionContext")
            .field("model", &self.model)
            .field("engine", &self.engine)
            .field("memory_used", &self.memory_used())
            .field("streams_in_use", &self.streams_in_use())
            .field("state", &self.state())
            .finish()
    }
}

impl std::fmt::Debug for MemoryReservation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryReservation")
            .field("model", &self.ctx.model)
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl std::fmt::Debug for StreamLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamLease").field("model", &self.ctx.model).finish()
    }
}

impl MemoryReservation {
    /// Bytes granted.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Drop for MemoryReservation {
    fn drop(&mut self) {
        self.ctx.memory_used.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

impl Drop for StreamLease {
    fn drop(&mut self) {
        self.ctx.streams_in_use.fetch_sub(1, Ordering::AcqRel);
    }
}

impl ContextStream {
    /// The stream.
    pub fn stream(&self) -> &CudaStream {
        &self.stream
    }
}
