//! The schedulability-ratio experiment on a small scale: ratios in range, the expected order
//! at the extremes, simulation agreeing with every admitted verdict, and the CSV form.

use aegis_sched::analysis::Policy;
use aegis_sched::sim::{SweepConfig, TaskSetGenerator, sweep, sweep_csv};
use std::num::NonZeroU32;

#[test]
fn a_small_sweep_agrees_with_simulation() {
    let cfg = SweepConfig {
        generator: TaskSetGenerator { tasks: 4, ..TaskSetGenerator::default() },
        utilisations: vec![0.1, 0.5, 1.0, 1.6],
        sets_per_level: 30,
        policies: vec![Policy::Fifo, Policy::Edf, Policy::FixedPriority],
        lanes: vec![NonZeroU32::MIN, NonZeroU32::new(2).unwrap()],
        simulate_sets: 10,
        horizon_periods: 3,
        seed: 5,
        threads: 2,
    };
    let points = sweep(&cfg);
    assert_eq!(points.len(), 4 * 3 * 2);
    for p in &points {
        assert_eq!(p.sets, 30);
        assert!((0.0..=1.0).contains(&p.ratio));
        assert_eq!(p.simulated, 10);
        assert_eq!(p.admitted_missed, 0, "{p:?}");
        assert!(p.jobs_simulated > 0);
    }
    let at = |u: f64, policy: &str, lanes: u32| {
        points
            .iter()
            .find(|p| (p.utilisation - u).abs() < 1e-9 && p.policy == policy && p.lanes == lanes)
            .unwrap()
    };
    assert_eq!(at(0.1, "edf", 1).ratio, 1.0);
    assert_eq!(at(1.6, "edf", 1).ratio, 0.0, "U > 1 never fits one lane");
    assert!(at(1.6, "edf", 2).ratio > 0.0, "but may fit two");
    assert!(at(0.5, "edf", 1).ratio >= at(0.5, "fifo", 1).ratio);
    assert!(at(1.0, "fp", 1).refused_missed + at(1.0, "fp", 1).refused_clean > 0);
    let csv = sweep_csv(&points);
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().starts_with("utilisation,policy,lanes,sets,admitted,ratio"));
    assert_eq!(lines.count(), points.len());
    assert!(csv.contains("\n0.10,fifo,1,30,"), "{csv}");
}
