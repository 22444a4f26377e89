//! The heap tract really uses during one inference, measured with a counting global
//! allocator (every allocation of the process: graph tensors and operator scratch), against
//! the activation figure the backend reports (the aegis-memory plan of the translated graph).
//! The figure must cover the measured peak (admission must not under-reserve) and be within
//! 5% of it (it describes what tract does). One test in this binary: the counter is global.

mod support;

use aegis_backend_tract::{Manifest, TractBackend, TractOptions, reference_input};
use aegis_context::RuntimeBackend;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;

static CURRENT: AtomicU64 = AtomicU64::new(0);
static PEAK: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call forwards to the system allocator with the caller's arguments; the
// counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now =
                CURRENT.fetch_add(layout.size() as u64, Ordering::Relaxed) + layout.size() as u64;
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size() as u64, Ordering::Relaxed);
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn heap_peak_of_one_inference() {
    let m = Manifest::load(support::manifest_path()).unwrap();
    let models = ["squeezenet1_1", "mobilenet_v3_small"];
    // Loaded in parallel (slow in debug builds under emulation), measured one at a time.
    let backends: Vec<TractBackend> = std::thread::scope(|s| {
        let handles: Vec<_> = models
            .iter()
            .map(|model| {
                let path = m.model_path(m.entry(model).unwrap());
                s.spawn(move || TractBackend::load(path, &TractOptions::default()).unwrap())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (model, mut b) in models.into_iter().zip(backends) {
        let e = m.entry(model).unwrap();
        b.set_input(&reference_input(e)).unwrap();
        // Warm-up: the measured run starts, as every later job does, by dropping the
        // outputs of the previous one.
        b.run().unwrap();
        let before = CURRENT.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        b.run().unwrap();
        let peak = PEAK.load(Ordering::Relaxed) - before;
        let ap = b.activation_plan().unwrap();
        println!(
            "{model}: heap peak during run {peak} B ({:.3} MiB); planned arena {} B ({:.3} MiB), \
             lower bound {} B",
            peak as f64 / 1048576.0,
            ap.arena_bytes,
            ap.arena_bytes as f64 / 1048576.0,
            ap.lower_bound_bytes
        );
        assert!(ap.arena_bytes >= peak, "{model}: planned {} < measured {peak}", ap.arena_bytes);
        assert!(
            ap.arena_bytes as f64 <= peak as f64 * 1.05,
            "{model}: planned {} is more than 5% above the measured {peak}",
            ap.arena_bytes
        );
    }
}
