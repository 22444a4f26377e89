//! Admission control end to end: a model the analysis refuses never runs, and says why.

mod common;

use common::{parse, prepare, row, run};

const OVERLOADED: &str = r#"
name = "e2e-admission"
policy = "fixed_priority"
lanes = 1
pool_mib = 64

[[models]]
name = "front"
backend = "tract"
model = "models/squeezenet1_1.onnx"
period_ms = 100
priority = 0
wcet_us = 60000

[[models]]
name = "greedy"
backend = "tract"
model = "models/mobilenet_v3_small.onnx"
period_ms = 100
priority = 1
wcet_us = 50000

[[models]]
name = "slow"
backend = "tract"
model = "models/mobilenet_v3_small.onnx"
period_ms = 1000
priority = 2
wcet_us = 5000
"#;

#[test]
fn a_refused_model_never_runs_and_the_table_says_why() {
    let p = prepare(parse(OVERLOADED).expect("valid deployment"));
    let table = p.admission();
    let verdict = |name: &str| table.iter().find(|r| r.model.as_str() == name).expect(name);
    assert!(verdict("front").admitted, "{}", verdict("front").reason);
    let greedy = verdict("greedy");
    assert!(!greedy.admitted, "U = 1.1 on one lane must be refused: {}", greedy.reason);
    // Non-preemptive: greedy's 50 ms job can block front's release, 60 + 50 > 100 ms.
    assert!(
        greedy.reason.contains("fp_rta_nonpreemptive") && greedy.reason.contains("front"),
        "the reason names the test and the deadline that would break: {}",
        greedy.reason
    );
    assert!(verdict("slow").admitted, "{}", verdict("slow").reason);

    if common::emulated() {
        return; // the verdicts above hold anywhere; running needs real-time speed
    }
    let r = run(&p, 2);
    eprintln!("{}", r.results_table());
    assert!(row(&r, "greedy").is_none_or(|m| m.jobs == 0), "a refused model must not run");
    assert!(row(&r, "front").is_some_and(|m| m.jobs > 0));
    assert!(row(&r, "slow").is_some_and(|m| m.jobs > 0));
}
