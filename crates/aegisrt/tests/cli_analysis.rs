//! `analyze` and `simulate` as a user runs them, on task-set files: verdicts, virtual-time
//! results, and typed refusals of bad input.

mod common;

use common::{aegisrt, assert_refused, s, scratch, text};
use std::path::{Path, PathBuf};

fn example() -> String {
    s(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../aegis-sched/examples/sim_taskset.json"))
}

/// A task set with utilisation 1.3: nothing can schedule it.
fn overloaded(dir: &Path) -> PathBuf {
    let f = dir.join("overloaded.json");
    std::fs::write(
        &f,
        r#"{"tasks":[
  {"name":"a","wcet_us":8000,"period_us":10000,"deadline_us":10000,"priority":0},
  {"name":"b","wcet_us":5000,"period_us":10000,"deadline_us":10000,"priority":1}
]}"#,
    )
    .expect("write task set");
    f
}

#[test]
fn analyze_prints_every_test_and_the_json_agrees() {
    let out = aegisrt(&["analyze", &example()]);
    let (table, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines.len() >= 7, "one line per test: {table}");
    assert!(lines.iter().all(|l| l.contains("schedulable")), "{table}");
    assert!(!table.contains("NOT"), "the example set is schedulable: {table}");
    assert!(table.contains("tracker=8500 µs"), "non-preemptive FP response times: {table}");

    let out = aegisrt(&["analyze", &example(), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let verdicts = v["verdicts"].as_object().expect("verdicts");
    assert_eq!(verdicts.len(), lines.len(), "the same tests in both forms");
    assert_eq!(v["verdicts"]["fp_rta_nonpreemptive"]["response_us"]["tracker"], 8500);
}

#[test]
fn analyze_says_not_schedulable_and_infinite_response_for_an_overload() {
    let dir = scratch("analyze-overload");
    let out = aegisrt(&["analyze", &s(&overloaded(&dir))]);
    let (table, stderr) = text(&out);
    assert!(out.status.success(), "a verdict is not an error: {stderr}");
    assert!(table.lines().all(|l| l.contains("NOT schedulable")), "{table}");
    assert!(table.contains('∞'), "an unbounded response is shown as ∞: {table}");
}

#[test]
fn simulate_runs_the_set_through_the_scheduler_core() {
    let out = aegisrt(&["simulate", &example(), "--policy", "fp", "--jobs", "2000"]);
    let (report, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(report.contains("2000 jobs released, 2000 completed, 0 deadline misses"), "{report}");
    assert!(report.contains("admitted by fp_rta_nonpreemptive"), "{report}");

    let dir = scratch("simulate");
    let out = aegisrt(&[
        "simulate",
        &s(&overloaded(&dir)),
        "--jobs",
        "500",
        "--lanes",
        "1",
        "--seed",
        "7",
        "--json",
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(v["policy"], "edf");
    assert_eq!(v["seed"], 7);
    assert_eq!(v["released"], 500);
    assert_eq!(v["admission"]["admitted"], false, "an overload is refused, then simulated");
    let misses = v["deadline_misses"].as_u64().unwrap() + v["dropped"].as_u64().unwrap();
    assert!(misses > 0, "U = 1.3 must miss: {v}");
}

#[test]
fn bad_task_sets_and_flags_are_refused_naming_the_problem() {
    let dir = scratch("bad-sets");
    assert_refused(&aegisrt(&["analyze", &s(&dir.join("none.json"))]), &["none.json"]);
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"tasks":[{"name":"x","wcet_us":-1,"period_us":10}]}"#).unwrap();
    assert_refused(&aegisrt(&["analyze", &s(&bad)]), &["bad.json"]);
    assert_refused(&aegisrt(&["simulate", &s(&bad)]), &["bad.json", "wcet_us"]);
    assert_refused(&aegisrt(&["simulate", &s(&dir.join("none.json"))]), &["none.json"]);
    assert_refused(
        &aegisrt(&["simulate", &example(), "--policy", "rr"]),
        &["--policy", "edf, fifo or fp"],
    );
    assert_refused(&aegisrt(&["simulate", &example(), "--lanes", "0"]), &["--lanes 0"]);
}
