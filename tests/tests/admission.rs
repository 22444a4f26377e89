//! Admission control end to end: a model the analysis refuses never runs, and says why.

mod common;

use common::{parse, prepare, row, run};

/// A fixed-priority, one-lane deployment of tract models with given WCETs:
/// (name, ONNX file under examples/models, period ms, WCET µs), priorities in order.
fn deployment(name: &str, models: &[(&str, &str, u32, u32)]) -> String {
    let mut t =
        format!("name = \"{name}\"\npolicy = \"fixed_priority\"\nlanes = 1\npool_mib = 64\n");
    for (prio, (model, onnx, period, wcet)) in models.iter().enumerate() {
        t += &format!(
            "\n[[models]]\nname = \"{model}\"\nbackend = \"tract\"\nmodel = \"models/{onnx}.onnx\"\n\
             period_ms = {period}\npriority = {prio}\nwcet_us = {wcet}\n"
        );
    }
    t
}

const SQUEEZENET: &str = "squeezenet1_1";
const MOBILENET: &str = "mobilenet_v3_small";

fn overloaded() -> String {
    deployment(
        "e2e-admission",
        &[
            ("front", SQUEEZENET, 100, 60_000),
            ("greedy", MOBILENET, 100, 50_000),
            ("slow", MOBILENET, 1000, 5_000),
        ],
    )
}

/// Fits on its WCETs alone (40 + 40 ms of blocking in 100 ms), not with 15 ms of host time.
fn host_cost() -> String {
    deployment(
        "e2e-host-cost",
        &[("front", SQUEEZENET, 100, 40_000), ("back", MOBILENET, 100, 40_000)],
    )
}

#[test]
fn a_refused_model_never_runs_and_the_table_says_why() {
    let p = prepare(parse(&overloaded()).expect("valid deployment"));
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

#[test]
fn admission_charges_each_job_the_host_overhead_on_top_of_its_wcet() {
    let p = prepare(parse(&host_cost()).expect("valid deployment"));
    assert!(p.admission().iter().all(|r| r.admitted), "40 + 40 ms blocking fits 100 ms");
    // 15 ms of host work per job: front waits for a 55 ms job and runs 55 ms > 100 ms.
    let text = format!("{}\n[host]\noverhead_us = 15000\n", host_cost());
    let p = prepare(parse(&text).expect("valid deployment"));
    let table = p.admission();
    let back = table.iter().find(|r| r.model.as_str() == "back").expect("back");
    assert!(!back.admitted, "with the host cost the set does not fit: {}", back.reason);
    assert!(back.reason.contains("front"), "names the deadline that breaks: {}", back.reason);
    let front = table.iter().find(|r| r.model.as_str() == "front").expect("front");
    assert_eq!(front.wcet, aegisrt::trace::Duration::from_millis(40), "the WCET is kept apart");
    assert_eq!(front.cost, aegisrt::trace::Duration::from_millis(55), "cost = WCET + host");
    assert!((front.utilisation - 0.55).abs() < 1e-9, "U counts the cost");
}

#[test]
fn a_real_time_run_reports_the_host_time_per_job_against_its_bound() {
    if common::emulated() {
        return;
    }
    let _serial = common::serial();
    let allowed = aegisrt::runtime::allowed_cpus().expect("affinity readable");
    let cpu = allowed.last().copied().expect("some CPU allowed");
    let text =
        format!("{}\n[host]\noverhead_us = 5000\nrt_priority = 5\ncpus = [{cpu}]\n", host_cost());
    let p = prepare(parse(&text).expect("valid deployment"));
    match p.run(aegisrt::trace::Duration::from_secs(2), |_| {}) {
        Ok(r) => {
            let o = &r.overhead;
            let jobs: u64 = r.models.iter().map(|m| m.jobs).sum();
            // Debug-build inference is slower than the WCETs given, and the other tests of
            // this binary share the CPU: jobs are late or dropped, but some run.
            assert!(jobs >= 4, "jobs ran: {jobs}\n{}", r.results_table());
            assert_eq!(o.host_bound, aegisrt::trace::Duration::from_millis(5));
            assert_eq!(o.host_per_job.count as u64, jobs, "one host time per finished job");
            assert!(o.host_per_job.p50_ns > 0 && o.host_per_job.max_ns >= o.host_per_job.p99_ns);
            assert!(o.host_over_bound <= jobs);
            assert!(r.results_table().contains("host time per job"), "{}", r.results_table());
        }
        // Without CAP_SYS_NICE the run refuses before releasing anything, naming the key.
        Err(aegisrt::runtime::RuntimeError::Realtime(e)) => {
            assert!(e.to_string().contains("host.rt_priority"), "{e}");
        }
        Err(e) => panic!("unexpected: {e}"),
    }
}
