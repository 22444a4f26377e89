//! Containment end to end: a model that overruns its declared WCET, and a model whose engine
//! fails, are contained; the other models keep their deadlines.
//!
//! Periods are long enough for an unoptimised (debug, coverage) build of tract, and the honest
//! models' WCETs are profiled on the build under test, so the tests hold at any build speed.

mod common;

use aegisrt::trace::EventKind;
use common::{Injected, parse, prepare, row, run, run_with_faults, serial};

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

/// `spiky` alone on its lane: every 4th inference stalls 120 ms past its profiled WCET.
const SPIKY: &str = r#"
name = "e2e-restore"
policy = "edf"
lanes = 1
pool_mib = 64
profile_samples = 30
overrun = "demote"
overrun_restore_after = 2

[[models]]
name = "spiky"
backend = "tract"
model = "models/mobilenet_v3_small.onnx"
period_ms = 400
priority = 0
"#;

#[test]
fn a_contained_model_is_restored_after_the_configured_jobs_within_budget() {
    if common::emulated() {
        return;
    }
    let _g = serial();
    let stall = Injected::Stall(std::time::Duration::from_millis(120));
    let (p, r) = run_with_faults(parse(SPIKY).expect("valid"), &[("spiky", 4, stall)], 7);
    let spiky = row(&r, "spiky").expect("spiky ran");
    assert!(spiky.overruns >= 2, "each stall is an overrun: {spiky:?}");
    let events = p.trace().events();
    let restored: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::Recovered && e.rationale.contains("overrun containment"))
        .collect();
    // `overrun_restore_after = 2` and three good jobs between stalls: containments end. (Not
    // necessarily each one: on a loaded machine an ordinary job can overrun the 30-sample
    // WCET while contained, which counts as an overrun but needs no restoration of its own.)
    assert!(!restored.is_empty(), "contained {} times, never restored", spiky.overruns);
}

/// `lean` alone on its lane, its WCET given as `wcet_us` (or profiled when `None`) and
/// `overhead_us` of host time charged on top.
fn charged(wcet_us: Option<u64>, overhead_us: u64) -> String {
    let wcet = wcet_us.map(|w| format!("wcet_us = {w}\n")).unwrap_or_default();
    format!(
        "name = \"e2e-threshold\"\npolicy = \"fixed_priority\"\nlanes = 1\npool_mib = 64\n\
         profile_samples = 30\noverrun = \"demote\"\n\n[host]\noverhead_us = {overhead_us}\n\n\
         [[models]]\nname = \"lean\"\nbackend = \"tract\"\n\
         model = \"models/mobilenet_v3_small.onnx\"\nperiod_ms = 2000\npriority = 0\n{wcet}"
    )
}

#[test]
fn the_overrun_threshold_is_the_cost_admission_charged() {
    if common::emulated() {
        return;
    }
    let _g = serial();
    // The build under test's execution time: its largest profiled sample.
    let probe = prepare(parse(&charged(None, 0)).expect("valid"));
    let max = match &probe.admission()[0].wcet_source {
        aegisrt::runtime::WcetSource::Profiled { observed_max, .. } => observed_max.as_micros(),
        other => panic!("profiled: {other:?}"),
    };
    drop(probe);
    // Declared: half of it, so every job breaks the WCET; charged on top: up to 100 ms (the
    // largest `overhead_us`), so the admitted cost covers 1.5x the largest sample.
    let (wcet, host) = (max / 2, max.min(100_000));
    let p = prepare(parse(&charged(Some(wcet), host)).expect("valid"));
    let r = run(&p, 5);
    eprintln!("{}", r.results_table());
    let lean = row(&r, "lean").expect("lean ran");
    assert!(lean.jobs >= 2, "{lean:?}");
    assert_eq!(lean.exec_over_wcet, lean.jobs, "every job broke the {wcet} µs WCET: {lean:?}");
    assert_eq!(lean.overruns, 0, "none broke the {} µs admitted: {lean:?}", wcet + host);
    assert_eq!(lean.deadline_misses, 0, "{lean:?}");
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
    let (p, r) = run_with_faults(parse(TWO).expect("valid"), &[("flaky", 2, Injected::Error)], 6);
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
    let (_p, r) = run_with_faults(parse(TWO).expect("valid"), &[("flaky", 1, Injected::Panic)], 5);
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
