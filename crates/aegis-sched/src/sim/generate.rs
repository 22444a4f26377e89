//! Random task sets for schedulability experiments.
//!
//! Owns the generator: utilisations by UUniFast-discard (Bini & Buttazzo 2005; Davis & Burns
//! 2009 for the discard variant when the total exceeds 1), periods log-uniform in
//! `[period_min, period_max]` rounded to whole microseconds, `C = round(Uᵢ·T)` nanoseconds
//! (at least 1), implicit deadlines (`D = T`), deadline-monotonic priorities (0 highest), names
//! `t0 … t(n-1)`. Floats are used only to draw the parameters; every parameter is then an
//! integer and the tests decide on integers. It must not run any analysis.

use crate::policy::assign_deadline_monotonic;
use crate::task::TaskParams;
use aegis_trace::Duration;
use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

/// Parameters of the generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSetGenerator {
    /// Tasks per set.
    pub tasks: usize,
    /// Shortest period.
    pub period_min: Duration,
    /// Longest period.
    pub period_max: Duration,
}

impl Default for TaskSetGenerator {
    /// 8 tasks, periods log-uniform in [10 ms, 100 ms].
    fn default() -> Self {
        TaskSetGenerator {
            tasks: 8,
            period_min: Duration::from_millis(10),
            period_max: Duration::from_millis(100),
        }
    }
}

/// UUniFast: `n` utilisations that sum to `total`, uniformly distributed over the simplex.
pub fn uunifast(n: usize, total: f64, rng: &mut Xoshiro256PlusPlus) -> Vec<f64> {
    let mut out = Vec::with_capacity(n);
    let mut sum = total;
    for i in 1..n {
        let next = sum * rng.random::<f64>().powf(1.0 / (n - i) as f64);
        out.push(sum - next);
        sum = next;
    }
    if n > 0 {
        out.push(sum);
    }
    out
}

/// UUniFast-discard: redraws until every utilisation is at most 1 (needed when
/// `total > 1`, e.g. for several lanes). `None` after 10,000 draws.
pub fn uunifast_discard(n: usize, total: f64, rng: &mut Xoshiro256PlusPlus) -> Option<Vec<f64>> {
    (0..10_000).map(|_| uunifast(n, total, rng)).find(|us| us.iter().all(|&u| u <= 1.0))
}

impl TaskSetGenerator {
    /// One random set with total utilisation (about) `total`; `None` when UUniFast-discard
    /// gives up.
    pub fn generate(&self, total: f64, rng: &mut Xoshiro256PlusPlus) -> Option<Vec<TaskParams>> {
        let us = uunifast_discard(self.tasks, total, rng)?;
        let (lo, hi) = (self.period_min.as_nanos() as f64, self.period_max.as_nanos() as f64);
        let mut set: Vec<TaskParams> = us
            .iter()
            .enumerate()
            .map(|(i, &u)| {
                let t = (lo.ln() + rng.random::<f64>() * (hi.ln() - lo.ln())).exp();
                let period_us = ((t / 1_000.0).round() as u64).max(1);
                let period = Duration::from_micros(period_us);
                let c = ((u * period.as_nanos() as f64).round() as u64).clamp(1, period.as_nanos());
                TaskParams::implicit(format!("t{i}"), Duration::from_nanos(c), period, 0)
            })
            .collect();
        assign_deadline_monotonic(&mut set);
        Some(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn uunifast_sums_to_the_total() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        for n in [1, 2, 8] {
            let us = uunifast(n, 0.7, &mut rng);
            assert_eq!(us.len(), n);
            assert!((us.iter().sum::<f64>() - 0.7).abs() < 1e-9);
            assert!(us.iter().all(|&u| u >= 0.0));
        }
        let us = uunifast_discard(4, 3.0, &mut rng).unwrap();
        assert!(us.iter().all(|&u| u <= 1.0));
        assert!(uunifast_discard(2, 3.0, &mut rng).is_none());
        assert!(uunifast(0, 1.0, &mut rng).is_empty());
    }

    #[test]
    fn generated_sets_are_valid_and_in_range() {
        let g = TaskSetGenerator::default();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        let set = g.generate(0.5, &mut rng).unwrap();
        assert_eq!(set.len(), 8);
        crate::task::validate_task_set(&set, true).unwrap();
        for t in &set {
            assert!(t.period >= g.period_min && t.period <= g.period_max, "{t:?}");
            assert_eq!(t.period.as_nanos() % 1_000, 0);
        }
        let u: f64 =
            set.iter().map(|t| t.wcet.as_nanos() as f64 / t.period.as_nanos() as f64).sum();
        assert!((u - 0.5).abs() < 1e-3, "{u}");
    }
}
