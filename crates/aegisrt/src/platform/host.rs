//! The host stall probe: a thread pinned to one CPU (under the scheduling the runtime's threads
//! would get) reads the monotonic clock in a tight loop and records every step between two
//! reads longer than a threshold: time the thread did not run (preempted by another task or an
//! interrupt, or its virtual CPU held by the hypervisor).
//!
//! Owns [`HostGaps`] and [`probe_cpu`]. It must not know about the GPU or how gaps are
//! summarised.

use super::summary::Gap;
#[cfg(test)]
use crate::deployment::HostSettings;
use crate::runtime::RealtimeError;
use crate::runtime::realtime::ThreadPolicy;
use std::time::{Duration, Instant};

/// Gaps recorded per CPU at most (more are counted).
pub(crate) const HOST_CAP: usize = 1 << 20;

/// What one host probe thread saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct HostGaps {
    /// How long it probed, nanoseconds.
    pub(crate) span_ns: u64,
    /// Clock reads.
    pub(crate) reads: u64,
    /// Smallest nonzero step.
    pub(crate) resolution_ns: u64,
    /// Gaps counted (also past the cap).
    pub(crate) count: u64,
    /// The gaps recorded, from `t0`.
    pub(crate) gaps: Vec<Gap>,
}

/// Probes on the calling thread, after applying `policy` (restored on return): reads the clock
/// from `t0` until `t0 + duration`, recording steps longer than `threshold`.
///
/// # Errors
/// [`RealtimeError`] when the policy cannot be applied.
pub(crate) fn probe_cpu(
    policy: &ThreadPolicy,
    t0: Instant,
    duration: Duration,
    threshold: Duration,
) -> Result<HostGaps, RealtimeError> {
    let _saved = policy.apply()?;
    let thr = threshold.as_nanos() as u64;
    let end = t0 + duration;
    let mut out = HostGaps { resolution_ns: u64::MAX, ..HostGaps::default() };
    let mut prev = Instant::now().max(t0);
    let start = prev;
    while prev < end {
        let now = Instant::now();
        out.reads += 1;
        let step = now.saturating_duration_since(prev).as_nanos() as u64;
        if step != 0 && step < out.resolution_ns {
            out.resolution_ns = step;
        }
        if step > thr {
            out.count += 1;
            if out.gaps.len() < HOST_CAP {
                let at_ns = prev.saturating_duration_since(t0).as_nanos() as u64;
                out.gaps.push(Gap { at_ns, len_ns: step });
            }
        }
        prev = now;
    }
    out.span_ns = prev.saturating_duration_since(start).as_nanos() as u64;
    if out.resolution_ns == u64::MAX {
        out.resolution_ns = 0;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_reads_the_clock_often_until_the_end_of_its_window() {
        let t0 = Instant::now();
        let g = probe_cpu(
            &ThreadPolicy::default(),
            t0,
            Duration::from_millis(50),
            Duration::from_millis(20),
        )
        .unwrap();
        assert!(t0.elapsed() >= Duration::from_millis(50));
        assert!(g.span_ns >= 45_000_000, "probed {} ns", g.span_ns);
        assert!(g.reads > 1_000, "only {} reads in 50 ms", g.reads);
        assert!(g.resolution_ns > 0 && g.resolution_ns < 1_000_000);
        assert_eq!(g.count as usize, g.gaps.len());
    }

    #[test]
    fn a_thread_taking_the_probed_cpu_shows_up_as_gaps_where_it_ran() {
        let cpu = *crate::runtime::allowed_cpus().unwrap().last().unwrap();
        let pinned = move |rt_priority| {
            ThreadPolicy::of(&HostSettings { rt_priority, cpus: vec![cpu], ..Default::default() })
        };
        let t0 = Instant::now();
        // A hog on the same CPU from 20 ms to 50 ms: SCHED_FIFO where allowed (the probe then
        // loses all 30 ms), else the normal scheduler (it loses its share, about half).
        let hog = std::thread::spawn(move || {
            let policy = pinned(Some(10));
            let _saved = policy.apply().or_else(|_| pinned(None).apply()).unwrap();
            std::thread::sleep(
                (t0 + Duration::from_millis(20)).saturating_duration_since(Instant::now()),
            );
            while t0.elapsed() < Duration::from_millis(50) {
                std::hint::spin_loop();
            }
        });
        let g = probe_cpu(&pinned(None), t0, Duration::from_millis(80), Duration::from_micros(200))
            .unwrap();
        hog.join().unwrap();
        let in_window: u64 = g
            .gaps
            .iter()
            .filter(|x| x.at_ns >= 15_000_000 && x.at_ns < 55_000_000)
            .map(|x| x.len_ns)
            .sum();
        assert!(in_window >= 8_000_000, "lost {in_window} ns while the hog ran: {:?}", g.gaps);
        assert!(g.gaps.iter().all(|x| x.len_ns > 200_000));
    }
}
