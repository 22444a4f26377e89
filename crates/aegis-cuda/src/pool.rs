//! The device memory pool: one reservation from the device, bounded-time sub-allocation,
//! exact accounting and leak reports.
//!
//! Owns [`DeviceMemoryPool`] and [`DeviceAllocation`]. The pool reserves its whole capacity
//! once (`cuMemAlloc`) and places allocations with the TLSF allocator in [`crate::tlsf`]; an
//! allocation is an RAII handle that returns its range on drop. A host-backed pool (same
//! allocator over host memory) serves CPU lanes and tests without a GPU.
//!
//! Leaks: when the pool handle is dropped (or [`DeviceMemoryPool::close`]d) with live
//! allocations, each one (tag, size, age) is recorded as a `leak` trace event and the whole
//! report as a deferred error (or returned by `close`). The reservation itself is released
//! only after the last allocation handle is gone, so a leaked handle never dangles.
//!
//! It must not know what the memory is used for; tags are opaque labels.

use crate::context::CudaContext;
use crate::deferred::{defer, defer_result};
use crate::driver::{self, CUdeviceptr};
use crate::error::{AegisCudaError, CudaResult};
use crate::tlsf::{GRANULE, Tlsf};
use aegis_trace::{Clock, Duration, EventKind, MonotonicClock, TraceCollector, TraceEvent};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

/// Alignment of every allocation, bytes.
pub const POOL_ALIGNMENT: u64 = GRANULE;

/// Options of a pool.
#[derive(Clone)]
pub struct PoolOptions {
    /// Name used in trace events and reports.
    pub name: String,
    /// Where leak events go.
    pub trace: Option<Arc<TraceCollector>>,
    /// Clock for trace timestamps.
    pub clock: Arc<dyn Clock>,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions { name: "pool".into(), trace: None, clock: Arc::new(MonotonicClock::new()) }
    }
}

/// Where the pool's memory lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolMemory {
    /// Device memory (`cuMemAlloc`).
    Device,
    /// Host memory (CPU lanes, tests).
    Host,
}

enum Backing {
    Device { ctx: Arc<CudaContext>, ptr: CUdeviceptr },
    Host { _mem: Vec<u8> },
}

struct Meta {
    tag: Box<str>,
    requested: u64,
    at: Instant,
}

struct State {
    tlsf: Tlsf<Meta>,
    peak: u64,
    requested: u64,
    allocations: u64,
    failures: u64,
}

struct Shared {
    backing: Backing,
    base: u64,
    state: Mutex<State>,
    opts: PoolOptions,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // State updates are completed before any call that could panic; a poisoned lock is
        // still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Backing::Device { ctx, ptr } = &self.backing {
            defer_result("DeviceMemoryPool", ctx.bind().and_then(|_| driver::mem_free(*ptr)));
        }
    }
}

/// A pool of device (or host) memory with bounded-time allocation.
pub struct DeviceMemoryPool {
    shared: Arc<Shared>,
    closed: bool,
}

/// One live allocation: frees its range when dropped.
pub struct DeviceAllocation {
    shared: Arc<Shared>,
    block: u32,
    offset: u64,
    len: u64,
    reserved: u64,
}

/// A point-in-time view of a pool.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolStats {
    /// Bytes reserved from the device.
    pub capacity: u64,
    /// Bytes in live allocations (each rounded up to the alignment).
    pub used: u64,
    /// Bytes requested by live allocations (before rounding).
    pub requested: u64,
    /// Free bytes.
    pub available: u64,
    /// Highest `used` seen.
    pub peak: u64,
    /// Live allocations.
    pub live: usize,
    /// Allocations ever granted.
    pub allocations: u64,
    /// Allocations refused.
    pub failures: u64,
    /// Largest contiguous free block.
    pub largest_free: u64,
    /// 1 − largest free block / free bytes.
    pub fragmentation: f64,
}

/// An allocation still live when its pool was closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeakedAllocation {
    /// Its tag.
    pub tag: String,
    /// Bytes requested.
    pub size: u64,
    /// Offset in the pool.
    pub offset: u64,
    /// How long it had been live.
    pub age: Duration,
}

/// Every allocation still live when a pool was closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeakReport {
    /// The pool.
    pub pool: String,
    /// The live allocations.
    pub leaks: Vec<LeakedAllocation>,
}

impl fmt::Display for LeakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total: u64 = self.leaks.iter().map(|l| l.size).sum();
        write!(
            f,
            "pool {:?} closed with {} live allocation(s), {} bytes:",
            self.pool,
            self.leaks.len(),
            total
        )?;
        for l in &self.leaks {
            write!(f, " [{} {} bytes at +{} live {}]", l.tag, l.size, l.offset, l.age)?;
        }
        write!(f, "; drop every allocation before its pool")
    }
}

impl DeviceMemoryPool {
    /// Reserves `capacity` bytes (rounded down to the alignment) of device memory on `ctx`.
    ///
    /// # Errors
    /// [`AegisCudaError::InvalidArgument`] for a capacity below one granule; the failing
    /// `cuMemAlloc` (e.g. out of memory) otherwise.
    pub fn new(ctx: &Arc<CudaContext>, capacity: u64, opts: PoolOptions) -> CudaResult<Self> {
        let capacity = Self::check_capacity(capacity)?;
        ctx.bind()?;
        let ptr = driver::mem_alloc(capacity)?;
        Ok(Self::build(Backing::Device { ctx: ctx.clone(), ptr }, ptr, capacity, opts))
    }

    /// A pool of `capacity` bytes of host memory (zero-filled lazily by the OS), for CPU lanes
    /// and for testing the layers above without a GPU. Addresses are host addresses.
    ///
    /// # Errors
    /// [`AegisCudaError::InvalidArgument`] for a capacity below one granule.
    pub fn host_backed(capacity: u64, opts: PoolOptions) -> CudaResult<Self> {
        let capacity = Self::check_capacity(capacity)?;
        let len = usize::try_from(capacity + POOL_ALIGNMENT).map_err(|_| {
            AegisCudaError::InvalidArgument {
                argument: "capacity",
                problem: format!("{capacity} bytes do not fit this machine's address space"),
                fix: "use a smaller capacity",
            }
        })?;
        let mem = vec![0u8; len];
        let base = (mem.as_ptr() as u64).next_multiple_of(POOL_ALIGNMENT);
        Ok(Self::build(Backing::Host { _mem: mem }, base, capacity, opts))
    }

    fn check_capacity(capacity: u64) -> CudaResult<u64> {
        let rounded = capacity / POOL_ALIGNMENT * POOL_ALIGNMENT;
        if rounded == 0 {
            return Err(AegisCudaError::InvalidArgument {
                argument: "capacity",
                problem: format!("{capacity} bytes is less than one {POOL_ALIGNMENT}-byte granule"),
                fix: "give the pool at least 256 bytes",
            });
        }
        Ok(rounded)
    }

    fn build(backing: Backing, base: u64, capacity: u64, opts: PoolOptions) -> Self {
        let state =
            State { tlsf: Tlsf::new(capacity), peak: 0, requested: 0, allocations: 0, failures: 0 };
        DeviceMemoryPool {
            shared: Arc::new(Shared { backing, base, state: Mutex::new(state), opts }),
            closed: false,
        }
    }

    /// Allocates `bytes` (aligned to [`POOL_ALIGNMENT`]) labelled `tag`, in bounded time.
    ///
    /// # Errors
    /// [`AegisCudaError::InvalidArgument`] for zero bytes; [`AegisCudaError::PoolExhausted`]
    /// when no free block is large enough (the error says how much is free).
    pub fn allocate(&self, bytes: u64, tag: &str) -> CudaResult<DeviceAllocation> {
        if bytes == 0 {
            return Err(AegisCudaError::InvalidArgument {
                argument: "bytes",
                problem: format!("zero-byte allocation requested (tag {tag:?})"),
                fix: "request at least one byte",
            });
        }
        let meta = Meta { tag: tag.into(), requested: bytes, at: Instant::now() };
        let mut st = self.shared.lock();
        match st.tlsf.allocate(bytes, meta) {
            Ok(g) => {
                st.requested += bytes;
                st.allocations += 1;
                st.peak = st.peak.max(st.tlsf.used_bytes());
                drop(st);
                Ok(DeviceAllocation {
                    shared: self.shared.clone(),
                    block: g.block,
                    offset: g.offset,
                    len: bytes,
                    reserved: g.reserved,
                })
            }
            Err(e) => {
                st.failures += 1;
                Err(AegisCudaError::PoolExhausted {
                    requested: bytes,
                    tag: tag.to_owned(),
                    available: e.free,
                    largest_free: e.largest_free,
                })
            }
        }
    }

    /// Device or host memory.
    pub fn memory(&self) -> PoolMemory {
        match self.shared.backing {
            Backing::Device { .. } => PoolMemory::Device,
            Backing::Host { .. } => PoolMemory::Host,
        }
    }

    /// Base address of the reservation.
    pub fn base(&self) -> u64 {
        self.shared.base
    }

    /// Bytes reserved.
    pub fn capacity(&self) -> u64 {
        self.shared.lock().tlsf.capacity()
    }

    /// Bytes in live allocations.
    pub fn used(&self) -> u64 {
        self.shared.lock().tlsf.used_bytes()
    }

    /// Free bytes.
    pub fn available(&self) -> u64 {
        self.shared.lock().tlsf.free_bytes()
    }

    /// Highest `used` seen.
    pub fn peak(&self) -> u64 {
        self.shared.lock().peak
    }

    /// 1 − largest free block / free bytes.
    pub fn fragmentation(&self) -> f64 {
        self.shared.lock().tlsf.fragmentation()
    }

    /// Everything at once, consistently.
    pub fn stats(&self) -> PoolStats {
        let st = self.shared.lock();
        PoolStats {
            capacity: st.tlsf.capacity(),
            used: st.tlsf.used_bytes(),
            requested: st.requested,
            available: st.tlsf.free_bytes(),
            peak: st.peak,
            live: st.tlsf.live(),
            allocations: st.allocations,
            failures: st.failures,
            largest_free: st.tlsf.largest_free(),
            fragmentation: st.tlsf.fragmentation(),
        }
    }

    /// The allocations live now (tag, size, offset, age).
    pub fn live_allocations(&self) -> Vec<LeakedAllocation> {
        let st = self.shared.lock();
        let now = Instant::now();
        st.tlsf
            .live_allocations()
            .into_iter()
            .map(|(offset, _, m)| LeakedAllocation {
                tag: m.tag.to_string(),
                size: m.requested,
                offset,
                age: now.saturating_duration_since(m.at).into(),
            })
            .collect()
    }

    fn report_leaks(&mut self) -> Option<LeakReport> {
        if self.closed {
            return None;
        }
        self.closed = true;
        let leaks = self.live_allocations();
        if leaks.is_empty() {
            return None;
        }
        let opts = &self.shared.opts;
        if let Some(trace) = &opts.trace {
            let now = opts.clock.now();
            for l in &leaks {
                trace.record(
                    TraceEvent::new(EventKind::Leak, "cuda.pool", now)
                        .rationale(format!(
                            "allocation still live when pool {:?} was closed",
                            opts.name
                        ))
                        .attr("pool", &opts.name)
                        .attr("tag", &l.tag)
                        .attr("bytes", l.size)
                        .attr("offset", l.offset)
                        .attr("age_ns", l.age.as_nanos()),
                );
            }
        }
        Some(LeakReport { pool: opts.name.clone(), leaks })
    }

    /// Closes the pool: `Ok` when nothing is live, otherwise the leak report (also traced).
    /// The reservation is returned to the device once the last allocation is dropped.
    ///
    /// # Errors
    /// [`AegisCudaError::Leaked`] listing every live allocation.
    pub fn close(mut self) -> CudaResult<()> {
        match self.report_leaks() {
            None => Ok(()),
            Some(r) => Err(AegisCudaError::Leaked(r)),
        }
    }
}

impl Drop for DeviceMemoryPool {
    fn drop(&mut self) {
        if let Some(r) = self.report_leaks() {
            defer("DeviceMemoryPool", AegisCudaError::Leaked(r));
        }
    }
}

impl fmt::Debug for DeviceMemoryPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceMemoryPool")
            .field("name", &self.shared.opts.name)
            .field("memory", &self.memory())
            .field("stats", &self.stats())
            .finish()
    }
}

impl DeviceAllocation {
    /// Address of the first byte (device address, or host address for a host-backed pool).
    pub fn address(&self) -> u64 {
        self.shared.base + self.offset
    }

    /// Offset from the pool's base.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Bytes requested.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Always false: zero-byte allocations are refused.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes reserved (requested, rounded up to the alignment).
    pub fn reserved(&self) -> u64 {
        self.reserved
    }

    /// Where the memory lives.
    pub fn memory(&self) -> PoolMemory {
        match self.shared.backing {
            Backing::Device { .. } => PoolMemory::Device,
            Backing::Host { .. } => PoolMemory::Host,
        }
    }
}

impl Drop for DeviceAllocation {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        if let Some(m) = st.tlsf.free(self.block) {
            st.requested -= m.requested;
        }
    }
}

impl fmt::Debug for DeviceAllocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceAllocation")
            .field("offset", &self.offset)
            .field("len", &self.len)
            .field("reserved", &self.reserved)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aegis_trace::TraceQuery;

    fn pool(cap: u64) -> DeviceMemoryPool {
        DeviceMemoryPool::host_backed(cap, PoolOptions::default()).unwrap()
    }

    #[test]
    fn accounting_is_exact_and_handles_free_on_drop() {
        let p = pool(1 << 20);
        assert_eq!(p.memory(), PoolMemory::Host);
        let a = p.allocate(1000, "act").unwrap();
        let b = p.allocate(256, "w").unwrap();
        assert_eq!(a.address() % POOL_ALIGNMENT, 0);
        assert_eq!(b.address(), p.base() + 1024);
        assert_eq!((a.len(), a.reserved(), a.offset()), (1000, 1024, 0));
        assert!(!a.is_empty());
        assert_eq!(a.memory(), PoolMemory::Host);
        let s = p.stats();
        assert_eq!((s.used, s.requested, s.live, s.allocations), (1280, 1256, 2, 2));
        assert_eq!(s.available, (1 << 20) - 1280);
        drop(a);
        assert_eq!(p.used(), 256);
        assert_eq!(p.peak(), 1280);
        drop(b);
        assert_eq!((p.used(), p.available(), p.capacity()), (0, 1 << 20, 1 << 20));
        assert_eq!(p.fragmentation(), 0.0);
        assert!(format!("{p:?}").contains("Host"));
        assert!(p.close().is_ok());
    }

    #[test]
    fn bad_requests_get_typed_errors() {
        assert!(matches!(
            DeviceMemoryPool::host_backed(100, PoolOptions::default()),
            Err(AegisCudaError::InvalidArgument { argument: "capacity", .. })
        ));
        let p = pool(4096);
        assert!(matches!(
            p.allocate(0, "x"),
            Err(AegisCudaError::InvalidArgument { argument: "bytes", .. })
        ));
        let _a = p.allocate(4096, "all").unwrap();
        let e = p.allocate(1, "more").unwrap_err();
        assert!(matches!(e, AegisCudaError::PoolExhausted { requested: 1, available: 0, .. }));
        assert!(e.to_string().contains("\"more\""), "{e}");
        assert_eq!(p.stats().failures, 1);
    }

    #[test]
    fn leaks_are_reported_with_tag_size_and_age_and_traced() {
        let trace = Arc::new(TraceCollector::new());
        let p = DeviceMemoryPool::host_backed(
            1 << 16,
            PoolOptions { name: "arena".into(), trace: Some(trace.clone()), ..Default::default() },
        )
        .unwrap();
        let kept = p.allocate(300, "model-a/activations").unwrap();
        let addr = kept.address();
        let err = p.close().unwrap_err();
        let AegisCudaError::Leaked(report) = &err else { panic!("{err}") };
        assert_eq!(report.pool, "arena");
        assert_eq!(report.leaks.len(), 1);
        assert_eq!(
            (report.leaks[0].tag.as_str(), report.leaks[0].size),
            ("model-a/activations", 300)
        );
        assert!(err.to_string().contains("drop every allocation"));
        let leaks = trace.query(&TraceQuery::all().kind(EventKind::Leak));
        assert_eq!(leaks.len(), 1);
        assert_eq!(leaks[0].attribute("bytes"), Some("300"));
        // The leaked handle still points at live memory; dropping it later is safe.
        assert_eq!(kept.address(), addr);
        drop(kept);
    }

    #[test]
    fn dropping_a_pool_with_live_allocations_defers_the_report() {
        let p = pool(1 << 16);
        let a = p.allocate(10, "late").unwrap();
        drop(p);
        let found = crate::take_deferred_errors()
            .into_iter()
            .any(|d| matches!(&d.error, AegisCudaError::Leaked(r) if r.leaks[0].tag == "late"));
        assert!(found);
        drop(a);
    }

    #[test]
    fn concurrent_allocation_keeps_exact_accounting() {
        let p = Arc::new(pool(256 << 20));
        let hs: Vec<_> = (0..4)
            .map(|t| {
                let p = p.clone();
                std::thread::spawn(move || {
                    let mut held = Vec::new();
                    for i in 0..2000u64 {
                        held.push(p.allocate(1 + (i * 7919 + t) % 50_000, "t").unwrap());
                        if i % 3 == 0 {
                            held.swap_remove((i as usize * 31) % held.len());
                        }
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        let s = p.stats();
        assert_eq!((s.used, s.requested, s.live), (0, 0, 0));
        assert_eq!(s.allocations, 8000);
        assert_eq!(s.largest_free, 256 << 20);
    }
}
