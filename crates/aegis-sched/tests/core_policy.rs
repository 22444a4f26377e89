//! Dispatch order of each policy on textbook cases, the tie rules, and non-preemption.

use aegis_sched::TaskParams;
use aegis_sched::analysis::Policy;
use aegis_sched::policy::{JobView, SchedulingPolicy};
use aegis_sched::scheduler::{CoreConfig, Decision, ModelSpec, SchedulerCore};
use aegis_trace::{Duration, ModelId, RequestId, Timestamp};

fn task(name: &str, c: u64, t: u64, d: u64, prio: u32) -> TaskParams {
    TaskParams {
        name: name.into(),
        wcet: Duration::from_nanos(c),
        period: Duration::from_nanos(t),
        deadline: Duration::from_nanos(d),
        priority: prio,
    }
}

fn core(policy: Policy, tasks: &[TaskParams]) -> SchedulerCore {
    let mut core = SchedulerCore::new(CoreConfig::new(policy));
    for t in tasks {
        core.register(ModelSpec::new(t.clone())).unwrap();
    }
    core
}

/// Releases one job per `(model, time)`, runs every dispatched job for its model's WCET on the
/// single lane, and returns `(model, start)` in dispatch order.
fn schedule(core: &mut SchedulerCore, releases: &[(&str, u64)]) -> Vec<(String, u64)> {
    let mut pending: Vec<(u64, &str)> = releases.iter().map(|&(m, t)| (t, m)).collect();
    pending.sort_by_key(|&(t, _)| t);
    pending.reverse();
    let wcet = |core: &SchedulerCore, m: &ModelId| {
        core.models().find(|s| &s.task.name == m).map(|s| s.task.wcet).unwrap()
    };
    let mut running: Option<(u64, RequestId, Duration)> = None;
    let mut order = Vec::new();
    let mut out = Vec::new();
    let mut next_id = 1;
    loop {
        let t_rel = pending.last().map(|&(t, _)| t);
        let t_fin = running.map(|r| r.0);
        let Some(t) = [t_rel, t_fin].into_iter().flatten().min() else { break };
        let now = Timestamp::from_nanos(t);
        if let Some((f, r, e)) = running.filter(|r| r.0 == t) {
            core.complete(0, r, Timestamp::from_nanos(f), e, &mut out).unwrap();
            running = None;
        }
        while pending.last().is_some_and(|&(rt, _)| rt == t) {
            let (_, m) = pending.pop().unwrap();
            core.release(&ModelId::new(m), RequestId(next_id), now, &mut out).unwrap();
            next_id += 1;
        }
        core.tick(now, &mut out);
        for d in out.drain(..) {
            if let Decision::Dispatch { model, request, .. } = d {
                let e = wcet(core, &model);
                running = Some((t + e.as_nanos(), request, e));
                order.push((model.to_string(), t));
            }
        }
    }
    order
}

fn names(order: &[(String, u64)]) -> Vec<&str> {
    order.iter().map(|(m, _)| m.as_str()).collect()
}

fn textbook() -> Vec<TaskParams> {
    // a: long deadline, top priority; b: tightest deadline, lowest priority; c: in between.
    vec![task("a", 2, 20, 20, 0), task("b", 1, 20, 5, 2), task("c", 3, 20, 8, 1)]
}

#[test]
fn edf_runs_the_earliest_absolute_deadline_first() {
    let mut c = core(Policy::Edf, &textbook());
    let order = schedule(&mut c, &[("a", 0), ("b", 0), ("c", 0)]);
    assert_eq!(names(&order), ["b", "c", "a"]);
    assert_eq!(order.iter().map(|o| o.1).collect::<Vec<_>>(), [0, 1, 4]);
}

#[test]
fn fixed_priority_runs_the_highest_priority_first() {
    let mut c = core(Policy::FixedPriority, &textbook());
    let order = schedule(&mut c, &[("b", 0), ("c", 0), ("a", 0)]);
    // a 0..2, c 2..5; b (deadline 5) can no longer finish at 5 and is dropped: these
    // priorities are not deadline-monotonic, and the admission test would refuse them.
    assert_eq!(names(&order), ["a", "c"]);
    let mut relaxed = textbook();
    relaxed[1].deadline = Duration::from_nanos(20);
    let mut c = core(Policy::FixedPriority, &relaxed);
    let order = schedule(&mut c, &[("b", 0), ("c", 0), ("a", 0)]);
    assert_eq!(names(&order), ["a", "c", "b"]);
}

#[test]
fn fifo_runs_in_release_order_whatever_the_deadlines() {
    // c runs 0..3; a (released 1, deadline 21) then b (released 2, deadline 7).
    let releases = [("c", 0), ("a", 1), ("b", 2)];
    let mut fifo = core(Policy::Fifo, &textbook());
    assert_eq!(names(&schedule(&mut fifo, &releases)), ["c", "a", "b"]);
    // EDF on the same releases swaps a and b.
    let mut edf = core(Policy::Edf, &textbook());
    assert_eq!(names(&schedule(&mut edf, &releases)), ["c", "b", "a"]);
}

#[test]
fn fifo_breaks_release_ties_by_priority_then_arrival() {
    let set = [task("lo", 1, 20, 20, 5), task("hi", 1, 20, 20, 1), task("lo2", 1, 20, 20, 5)];
    let mut c = core(Policy::Fifo, &set);
    let order = schedule(&mut c, &[("lo", 0), ("lo2", 0), ("hi", 0)]);
    assert_eq!(names(&order), ["hi", "lo", "lo2"]);
}

#[test]
fn edf_breaks_deadline_ties_by_release_then_priority_then_arrival() {
    // x (released 0, D 10) and y (released 2, D 8) share deadline 10; x was released first.
    let set = [
        task("blocker", 3, 50, 4, 0),
        task("x", 1, 50, 10, 3),
        task("y", 1, 50, 8, 4),
        task("p1", 1, 50, 7, 1),
        task("p2", 1, 50, 7, 2),
        task("q", 1, 50, 7, 2),
    ];
    let mut c = core(Policy::Edf, &set);
    let order = schedule(&mut c, &[("blocker", 0), ("x", 0), ("y", 2)]);
    assert_eq!(names(&order), ["blocker", "x", "y"]);
    // Same deadline and release: higher priority (p1) first, then arrival order (p2 before q).
    let mut c = core(Policy::Edf, &set);
    let order = schedule(&mut c, &[("blocker", 0), ("q", 1), ("p2", 1), ("p1", 1)]);
    assert_eq!(names(&order), ["blocker", "p1", "q", "p2"]);
}

#[test]
fn fixed_priority_jobs_of_one_task_run_in_release_order() {
    // Two models with the same priority (allowed by the core; FP admission needs unique ones):
    // earlier release first, then arrival order.
    let set = [task("blocker", 5, 50, 50, 0), task("m", 1, 50, 50, 1), task("n", 1, 50, 50, 1)];
    let mut c = core(Policy::FixedPriority, &set);
    let order = schedule(&mut c, &[("blocker", 0), ("n", 1), ("m", 3)]);
    assert_eq!(names(&order), ["blocker", "n", "m"]);
}

#[test]
fn a_running_job_is_never_preempted() {
    let set = [task("hi", 1, 100, 100, 0), task("lo", 10, 100, 100, 1)];
    let mut c = core(Policy::FixedPriority, &set);
    let mut out = Vec::new();
    c.release(&ModelId::new("lo"), RequestId(1), Timestamp::ZERO, &mut out).unwrap();
    c.tick(Timestamp::ZERO, &mut out);
    assert!(matches!(out[0], Decision::Dispatch { request: RequestId(1), .. }));
    out.clear();
    let t1 = Timestamp::from_nanos(1);
    c.release(&ModelId::new("hi"), RequestId(2), t1, &mut out).unwrap();
    c.tick(t1, &mut out);
    assert!(out.is_empty(), "nothing may start while lo runs: {out:?}");
    assert_eq!(c.running(0), Some(RequestId(1)));
    assert_eq!(c.queued(0), 1);
    let t10 = Timestamp::from_nanos(10);
    c.complete(0, RequestId(1), t10, Duration::from_nanos(10), &mut out).unwrap();
    c.tick(t10, &mut out);
    assert!(matches!(out[1], Decision::Dispatch { request: RequestId(2), .. }), "{out:?}");
}

#[test]
fn inputs_never_dispatch_until_tick() {
    let mut c = core(Policy::Edf, &textbook());
    let mut out = Vec::new();
    c.release(&ModelId::new("a"), RequestId(1), Timestamp::ZERO, &mut out).unwrap();
    c.release(&ModelId::new("b"), RequestId(2), Timestamp::ZERO, &mut out).unwrap();
    assert!(out.is_empty());
    c.tick(Timestamp::ZERO, &mut out);
    // b (deadline 5) wins although a arrived first: releases at one instant are seen together.
    assert!(matches!(&out[0], Decision::Dispatch { model, .. } if model.as_str() == "b"));
}

/// Longest WCET first: a custom policy plugged into the core.
#[derive(Debug)]
struct LatestRelease;

impl SchedulingPolicy for LatestRelease {
    fn policy(&self) -> Policy {
        Policy::Fifo
    }
    fn name(&self) -> &'static str {
        "lifo"
    }
    fn rank(&self, job: &JobView) -> u64 {
        u64::MAX - job.release.as_nanos()
    }
    fn rule(&self) -> &'static str {
        "latest release"
    }
    fn rank_loss(&self, _: &JobView, _: &JobView) -> String {
        "released earlier".into()
    }
}

#[test]
fn custom_policies_plug_into_the_core() {
    let mut c = SchedulerCore::with_policy(CoreConfig::new(Policy::Fifo), Box::new(LatestRelease));
    for t in textbook() {
        c.register(ModelSpec::new(t)).unwrap();
    }
    assert_eq!(c.policy().name(), "lifo");
    let order = schedule(&mut c, &[("c", 0), ("a", 1), ("b", 2)]);
    assert_eq!(names(&order), ["c", "b", "a"]);
}
