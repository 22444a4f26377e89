//! Gap statistics: what a stall probe's raw gaps (host or GPU) amount to, and which GPU gaps
//! fell while a host CPU was stalled too.
//!
//! Owns [`GapSummary`], [`Gap`] and [`coincident`]. Pure arithmetic on recorded gaps; it must
//! not know how they were measured.

use serde::Serialize;

/// One stall: `len_ns` without the probe thread running, from `at_ns` after the probe start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// Start, nanoseconds after the probe start (host and GPU share this timeline).
    pub at_ns: u64,
    /// Length, nanoseconds.
    pub len_ns: u64,
}

/// Upper bounds of the length classes a summary counts: the threshold up to 100 µs, to 1 ms,
/// to 10 ms, and longer.
pub const CLASS_BOUNDS_NS: [u64; 3] = [100_000, 1_000_000, 10_000_000];

/// Largest gaps kept per summary.
pub const TOP: usize = 10;

/// What one probed source (a host CPU, or the GPU) saw.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GapSummary {
    /// `cpu N`, `cpu any` (unpinned) or `gpu`.
    pub source: String,
    /// How long it probed, nanoseconds.
    pub span_ns: u64,
    /// Clock reads.
    pub reads: u64,
    /// Smallest nonzero step between two reads (the clock's resolution as the thread saw it).
    pub resolution_ns: u64,
    /// Gaps longer than the threshold.
    pub count: u64,
    /// Gaps per length class (see [`CLASS_BOUNDS_NS`]).
    pub classes: [u64; 4],
    /// Time lost in gaps, nanoseconds (of recorded gaps).
    pub lost_ns: u64,
    /// The longest gap, nanoseconds.
    pub max_ns: u64,
    /// The longest gaps, longest first.
    pub top: Vec<Gap>,
}

impl GapSummary {
    /// Summarises `gaps` (every gap recorded; `count` may be larger when the source counted
    /// gaps it could not record).
    pub fn new(
        source: String,
        span_ns: u64,
        reads: u64,
        resolution_ns: u64,
        count: u64,
        gaps: &[Gap],
    ) -> Self {
        let mut classes = [0u64; 4];
        for g in gaps {
            classes[CLASS_BOUNDS_NS.iter().take_while(|&&b| g.len_ns >= b).count()] += 1;
        }
        let mut top = gaps.to_vec();
        top.sort_by(|a, b| b.len_ns.cmp(&a.len_ns).then(a.at_ns.cmp(&b.at_ns)));
        top.truncate(TOP);
        GapSummary {
            source,
            span_ns,
            reads,
            resolution_ns,
            count: count.max(gaps.len() as u64),
            classes,
            lost_ns: gaps.iter().map(|g| g.len_ns).sum(),
            max_ns: gaps.iter().map(|g| g.len_ns).max().unwrap_or(0),
            top,
        }
    }

    /// Share of the probed time lost in gaps.
    pub fn lost_fraction(&self) -> f64 {
        if self.span_ns == 0 { 0.0 } else { self.lost_ns as f64 / self.span_ns as f64 }
    }
}

/// GPU gaps of at least `min_ns` that overlap (within `slack_ns`) a host gap of at least
/// `min_ns` on any probed CPU: stalls of the whole machine rather than of the GPU alone.
/// Returns (GPU gaps considered, of them coinciding).
pub fn coincident(gpu: &[Gap], host: &[&[Gap]], min_ns: u64, slack_ns: u64) -> (usize, usize) {
    let long = |g: &&Gap| g.len_ns >= min_ns;
    let considered: Vec<&Gap> = gpu.iter().filter(long).collect();
    let hit = considered
        .iter()
        .filter(|g| {
            let (a, b) = (g.at_ns.saturating_sub(slack_ns), g.at_ns + g.len_ns + slack_ns);
            host.iter()
                .any(|cpu| cpu.iter().filter(long).any(|h| h.at_ns < b && h.at_ns + h.len_ns > a))
        })
        .count();
    (considered.len(), hit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gap(at_us: u64, len_us: u64) -> Gap {
        Gap { at_ns: at_us * 1000, len_ns: len_us * 1000 }
    }

    #[test]
    fn gaps_are_counted_per_class_and_the_longest_kept() {
        let gaps = [gap(1, 30), gap(5, 150), gap(9, 2_000), gap(20, 25_000), gap(90, 99)];
        let s = GapSummary::new("cpu 2".into(), 1_000_000_000, 5_000, 20, 9, &gaps);
        assert_eq!(s.classes, [2, 1, 1, 1]);
        assert_eq!(s.count, 9, "the source counted more than it recorded");
        assert_eq!(s.max_ns, 25_000_000);
        assert_eq!(s.lost_ns, (30 + 150 + 2_000 + 25_000 + 99) * 1000);
        assert_eq!(s.top[0], gap(20, 25_000));
        assert_eq!(s.top[1], gap(9, 2_000));
        assert!((s.lost_fraction() - 0.027279).abs() < 1e-6);
    }

    #[test]
    fn a_gpu_gap_coincides_only_with_an_overlapping_long_host_gap() {
        let gpu = [gap(1_000, 5_000), gap(50_000, 2_000), gap(90_000, 20_000), gap(200, 50)];
        let cpu2 = [gap(3_000, 1_500), gap(60_000, 1_000)];
        let cpu3 = [gap(89_000, 500), gap(112_000, 1_000)];
        // 1 000 µs gap overlaps cpu2's; 50 000 does not; 90 000–110 000 ends 2 ms before
        // cpu3's long gap: outside 1 ms of slack, inside 3 ms.
        assert_eq!(coincident(&gpu, &[&cpu2, &cpu3], 1_000_000, 1_000_000), (3, 1));
        assert_eq!(coincident(&gpu, &[&cpu2, &cpu3], 1_000_000, 3_000_000), (3, 2));
        assert_eq!(coincident(&gpu, &[], 1_000_000, 0), (3, 0));
    }
}
