//! Containment end to end: a model that overruns its declared WCET, and a model whose engine
//! fails, are contained; the other models keep their deadlines.
//!
//! Periods are long enough for an unoptimised (debug, coverage) build of tract, and the honest
//! models' WCETs are profiled on the build under test, so the tests hold at any build speed.

mod common;

use aegisrt::trace::EventKind;
use common::{Injected, parse, prepare, prepare_with_faults, row, run, serial};

/// `liar` declares 1 ms and really takes ~10 ms (release) to ~100 ms (debug build).
const LIAR: &str = r#"
name = "e2e-overrun"
policy = "fixed_priority"
lanes = 1
pool_mib = 64
profile_samples = 30
overrun = "demote"

[[models]]
name = "honest"
backend = "tract"
model = "models/mobilenet_v3_small.onnx"
period_ms = 400
priority = 0

[[models]]
name = "liar"
backend = "tract"
model = "models/squeezenet1_1.onnx"
period_ms = 400
offset_ms = 20
priority = 1
wcet_us = 1000
"#;

#[test]
fn an_overrunning_model_is_contained_and_the_others_meet_their_deadlines() {
    if common::emulated() {
        return;
    }
    let _g = serial();
    let p = prepare(parse(LIAR).expect("valid deployment"));
    assert!(p.admission().iter().all(|r| r.admitted), "both admitted on their declared WCETs");
    let r = run(&p, 6);
    eprintln!("{}", r.results_table());
    let liar = row(&r, "liar").expect("liar ran");
    let honest = row(&r, "honest").expect("honest ran");
    assert!(liar.overruns >= 1, "the 1 ms claim must be caught: {liar:?}");
    assert!(honest.jobs >= 12, "honest kept being released and run: {honest:?}");
    assert_eq!(honest.deadline_misses, 0, "containment protects the honest model: {honest:?}");
    // (honest's own WCET is a 30-sample estimate: an occasional overrun of it on a busy
    // machine is possible and is not what this test is about.)
    let events = p.trace().events();
    let overrun = events
        .iter()
        .find(|e| {
            e.kind == EventKind::Overrun && e.model.as_ref().is_some_and(|m| m.as_str() == "liar")
        })
        .expect("the overrun is traced");
    assert!(!overrun.rationale.is_empty(), "the trace says why: {overrun:?}");
}

const TWO: &str = r#"
name = "e2e-faults"
policy = "edf"
lanes = 1
pool_mib = 64
profile_samples = 30

[[models]]
name = "steady"
backend = "tract"
model = "models/mobilenet_v3_small.onnx"
period_ms = 400
priority = 0

[[models]]
name = "flaky"
backend = "tract"
model = "models/squeezenet1_1.onnx"
period_ms = 400
offset_ms = 200
priority = 1
"#;

#[test]
fn a_failing_engine_is_contained_recovered_and_does_not_disturb_the_others() {
    if common::emulated() {
        return;
    }
    let _g = serial();
    // Every 2nd inference of `flaky` in the run fails.
    let (p, armed) =
        prepare_with_faults(parse(TWO).expect("valid"), &[("flaky", 2, Injected::Error)]);
    armed.store(true, std::sync::atomic::Ordering::Release);
    let r = run(&p, 6);
    eprintln!("{}", r.results_table());
    let steady = row(&r, "steady").expect("steady ran");
    let flaky = row(&r, "flaky").expect("flaky ran");
    assert!(flaky.faults >= 3, "faults are counted: {flaky:?}");
    assert!(flaky.jobs >= 3, "a clearable fault is recovered at the next release: {flaky:?}");
    assert!(steady.jobs >= 12 && steady.faults == 0, "{steady:?}");
    assert_eq!(steady.deadline_misses, 0, "{steady:?}");
    let events = p.trace().events();
    let count = |k: EventKind| {
        events
            .iter()
            .filter(|e| e.kind == k && e.model.as_ref().is_some_and(|m| m.as_str() == "flaky"))
            .count()
    };
    assert!(count(EventKind::Fault) >= 3, "each fault is traced");
    assert!(count(EventKind::Recovered) >= 2, "each recovery is traced");
}

#[test]
fn a_panicking_engine_is_stopped_after_three_faults_in_a_row() {
    if common::emulated() {
        return;
    }
    let _g = serial();
    // Every inference of `flaky` in the run panics.
    let (p, armed) =
        prepare_with_faults(parse(TWO).expect("valid"), &[("flaky", 1, Injected::Panic)]);
    armed.store(true, std::sync::atomic::Ordering::Release);
    let r = run(&p, 5);
    eprintln!("{}", r.results_table());
    let steady = row(&r, "steady").expect("steady ran");
    assert!(steady.jobs >= 10 && steady.deadline_misses == 0 && steady.faults == 0, "{steady:?}");
    let flaky = row(&r, "flaky").expect("flaky is reported");
    // Never more than three: after three faulted jobs in a row the model is stopped. (Fewer
    // only if the scheduler dropped its jobs as late first, on an overloaded machine.)
    assert!((1..=3).contains(&flaky.faults), "stopped after three faults in a row: {flaky:?}");
    assert_eq!(flaky.jobs, 0);
    if flaky.faults == 3 {
        assert!(flaky.dropped >= 5, "its later releases are dropped, not run: {flaky:?}");
    }
}
