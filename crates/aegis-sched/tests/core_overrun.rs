//! Budget enforcement: what each overrun action does, shown on one small set.
//!
//! The set (fixed priority, one lane, admitted): `v` (C 2, T 20, D 5, priority 0) and `o`
//! (C 3, T 20, D 20, priority 1); `v` can be blocked by one `o` job: 3 + 2 = 5 ≤ 5. Model
//! `o` then runs longer than its WCET of 3. Times in nanoseconds.

use aegis_sched::TaskParams;
use aegis_sched::analysis::{AdmissionConfig, AdmissionController, AdmissionRequest, Policy};
use aegis_sched::scheduler::{
    CoreConfig, Decision, DeferReason, DropReason, LateAction, ModelSpec, OverrunAction,
    OverrunConfig, OverrunStage,
};
use aegis_sched::sim::{Arrival, ExecTime, SimConfig, SimRun, SimTask, simulate};
use aegis_trace::{Duration, RequestId, Timestamp};

fn task(name: &str, c: u64, t: u64, d: u64, prio: u32) -> TaskParams {
    TaskParams {
        name: name.into(),
        wcet: Duration::from_nanos(c),
        period: Duration::from_nanos(t),
        deadline: Duration::from_nanos(d),
        priority: prio,
    }
}

fn ns(v: u64) -> Timestamp {
    Timestamp::from_nanos(v)
}

/// The tests' premise: `o` is admitted beside `v` under `policy`.
fn assert_admitted(policy: Policy, v: &TaskParams, o: &TaskParams) {
    let ctl = AdmissionController::new(AdmissionConfig::new(policy));
    let adm =
        ctl.analyze(&AdmissionRequest { task: o.clone(), memory: None }, std::slice::from_ref(v));
    assert!(adm.admitted, "{}", adm.reason);
}

fn run(action: OverrunAction, restore_after: u32, late: LateAction, o_exec: ExecTime) -> SimRun {
    let v = task("v", 2, 20, 5, 0);
    let o = task("o", 3, 20, 20, 1);
    assert_admitted(Policy::FixedPriority, &v, &o);
    let tasks = [
        SimTask::worst_case(v),
        SimTask { spec: ModelSpec::new(o), exec: o_exec, arrival: Arrival::default() },
    ];
    let core = CoreConfig::new(Policy::FixedPriority)
        .with_late_action(late)
        .with_overrun(OverrunConfig { action, restore_after, grace: Duration::ZERO });
    let mut cfg = SimConfig::new(core, 40);
    cfg.record_decisions = true;
    cfg.record_log = true;
    simulate(&cfg, &tasks).unwrap()
}

fn of<'a>(r: &'a SimRun, name: &str) -> &'a aegis_sched::sim::TaskReport {
    r.report.tasks.iter().find(|t| t.name.as_str() == name).unwrap()
}

/// Every job of `o` started as contained work ran in an interval that holds no release of `v`
/// (the isolation mechanism), and `v` never missed nor was dropped.
fn assert_isolated(r: &SimRun) {
    let v = of(r, "v");
    assert_eq!((v.deadline_misses, v.dropped), (0, 0), "{}", r.report);
    let mut starts: Vec<(RequestId, Timestamp)> = Vec::new();
    let mut intervals = Vec::new();
    for d in &r.decisions {
        match d {
            Decision::Dispatch { request, at, background: true, .. } => {
                starts.push((*request, *at))
            }
            Decision::Completed { request, at, .. } => {
                if let Some(&(_, s)) = starts.iter().find(|(q, _)| q == request) {
                    intervals.push((s, *at));
                }
            }
            _ => {}
        }
    }
    for d in &r.decisions {
        if let Decision::Completed { model, release, .. } = d
            && model.as_str() == "v"
        {
            for &(s, e) in &intervals {
                assert!(!(s < *release && *release < e), "v released at {release} inside {s}..{e}");
            }
        }
    }
}

/// When a contained model was restored.
fn restorations(r: &SimRun) -> Vec<Timestamp> {
    r.decisions
        .iter()
        .filter(|d| matches!(d, Decision::Restored { .. }))
        .map(Decision::at)
        .collect()
}

fn overruns(r: &SimRun) -> Vec<(Timestamp, OverrunStage, Duration)> {
    r.decisions
        .iter()
        .filter_map(|d| match d {
            Decision::Overrun { at, stage, elapsed, .. } => Some((*at, *stage, *elapsed)),
            _ => None,
        })
        .collect()
}

#[test]
fn report_only_shows_why_containment_is_needed() {
    // o runs 19 every time: v's jobs are pushed later each period until one misses.
    let r = run(
        OverrunAction::ReportOnly,
        0,
        LateAction::Drop,
        ExecTime::Constant(Duration::from_nanos(19)),
    );
    let v = of(&r, "v");
    assert!(v.deadline_misses + v.dropped > 0, "{}", r.report);
    assert_eq!(of(&r, "o").overruns, of(&r, "o").released);
    assert!(r.decisions.iter().all(|d| !matches!(d, Decision::Dispatch { background: true, .. })));
}

#[test]
fn demote_runs_the_overrunning_model_only_in_safe_windows() {
    let r = run(
        OverrunAction::Demote,
        0,
        LateAction::Drop,
        ExecTime::Constant(Duration::from_nanos(5)),
    );
    // First job: dispatched at 2, flagged while still running at 2 + 3 + 1 = 6.
    let ov = overruns(&r);
    assert_eq!(ov[0], (ns(6), OverrunStage::Running, Duration::from_nanos(4)));
    // Every later o job starts as background work right after v's job (window up to the next
    // v release: 22 + 5 ≤ 40) and completes; v is untouched.
    let bg: Vec<Timestamp> = r
        .decisions
        .iter()
        .filter_map(|d| match d {
            Decision::Dispatch { model, at, background: true, estimate, .. }
                if model.as_str() == "o" =>
            {
                assert_eq!(*estimate, Duration::from_nanos(5), "observed worst, not the WCET");
                Some(*at)
            }
            _ => None,
        })
        .collect();
    assert_eq!(&bg[..3], &[ns(22), ns(42), ns(62)]);
    assert_eq!(bg.len() as u64, of(&r, "o").released - 1);
    assert_eq!(of(&r, "o").completed, of(&r, "o").released);
    assert_isolated(&r);
}

#[test]
fn skip_next_release_skips_then_restores_after_good_jobs() {
    // First o job runs 9, every later one 3 (within budget).
    let mut list = vec![Duration::from_nanos(9)];
    list.extend(std::iter::repeat_n(Duration::from_nanos(3), 30));
    let r = run(OverrunAction::SkipNextRelease, 2, LateAction::Drop, ExecTime::Replay(list));
    let skipped: Vec<_> = r
        .decisions
        .iter()
        .filter(|d| matches!(d, Decision::Drop { reason: DropReason::OverrunSkip, .. }))
        .collect();
    assert_eq!(skipped.len(), 1, "exactly the next release");
    assert_eq!(skipped[0].at(), ns(20));
    // o's jobs at 40 and 60 run contained (estimate 9 fits 42 + 9 ≤ 60), then two good jobs
    // restore it at 65 and its job at 80 runs at its normal priority.
    let restored = restorations(&r);
    assert_eq!(restored, vec![ns(65)]);
    let o_dispatch: Vec<(Timestamp, bool)> = r
        .decisions
        .iter()
        .filter_map(|d| match d {
            Decision::Dispatch { model, at, background, .. } if model.as_str() == "o" => {
                Some((*at, *background))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        &o_dispatch[..4],
        &[(ns(2), false), (ns(42), true), (ns(62), true), (ns(82), false)]
    );
    assert_eq!(of(&r, "o").overruns, 1);
    assert_isolated(&r);
}

#[test]
fn drop_late_jobs_drops_what_cannot_fit_even_when_late_jobs_may_run() {
    // o runs 19: after the first job, no window (18 between v's jobs) is long enough.
    let exec = ExecTime::Constant(Duration::from_nanos(19));
    let r = run(OverrunAction::DropLateJobs, 0, LateAction::RunLate, exec.clone());
    let o = of(&r, "o");
    assert_eq!(o.completed, 1);
    assert_eq!(o.dropped, o.released - 1);
    assert!(r.decisions.iter().any(|d| matches!(
        d,
        Decision::Drop { model, reason: DropReason::CannotMeetDeadline { .. }, .. } if model.as_str() == "o"
    )));
    assert_eq!(r.report.unfinished, 0);
    assert_isolated(&r);

    // Demote with run-late keeps them: they wait for a window that never comes.
    let r = run(OverrunAction::Demote, 0, LateAction::RunLate, exec);
    assert_eq!(of(&r, "o").completed, 1);
    assert_eq!(of(&r, "o").dropped, 0);
    assert!(r.report.unfinished > 0);
    assert!(r.decisions.iter().any(|d| matches!(
        d,
        Decision::Defer { reason: DeferReason::NoSafeWindow { needed, .. }, .. } if *needed == Duration::from_nanos(19)
    )));
    assert!(r.decisions.iter().any(|d| matches!(d, Decision::LateDetected { .. })));
    assert_isolated(&r);
}

#[test]
fn an_overrun_seen_only_at_completion_is_handled_the_same_way() {
    // A large grace hides the overrun while running; the measured time reveals it.
    let v = task("v", 2, 20, 5, 0);
    let o = task("o", 3, 20, 20, 1);
    let tasks = [
        SimTask::worst_case(v),
        SimTask {
            spec: ModelSpec::new(o).budget(Duration::from_nanos(2)),
            exec: ExecTime::Constant(Duration::from_nanos(3)),
            arrival: Arrival::default(),
        },
    ];
    let overrun = OverrunConfig {
        action: OverrunAction::Demote,
        restore_after: 0,
        grace: Duration::from_nanos(100),
    };
    let mut cfg = SimConfig::new(CoreConfig::new(Policy::FixedPriority).with_overrun(overrun), 10);
    cfg.record_decisions = true;
    let r = simulate(&cfg, &tasks).unwrap();
    // The budget (2) is below the WCET (3): a 3 ns job is an overrun.
    let ov = overruns(&r);
    assert_eq!(ov[0], (ns(5), OverrunStage::AtCompletion, Duration::from_nanos(3)));
    assert_eq!(of(&r, "v").deadline_misses, 0);
}

/// EDF, `a` (C 2, T 10) and `o` (C 3, T 10), both D 10, demote on overrun: `jobs` jobs with
/// the given execution times, decisions recorded.
fn edf_pair(
    a_exec: ExecTime,
    o_exec: Vec<Duration>,
    late: LateAction,
    restore_after: u32,
    jobs: u64,
) -> SimRun {
    let a = task("a", 2, 10, 10, 0);
    let o = task("o", 3, 10, 10, 1);
    assert_admitted(Policy::Edf, &a, &o);
    let tasks = [
        SimTask { spec: ModelSpec::new(a), exec: a_exec, arrival: Arrival::default() },
        SimTask {
            spec: ModelSpec::new(o),
            exec: ExecTime::Replay(o_exec),
            arrival: Arrival::default(),
        },
    ];
    let core = CoreConfig::new(Policy::Edf).with_late_action(late).with_overrun(OverrunConfig {
        action: OverrunAction::Demote,
        restore_after,
        grace: Duration::ZERO,
    });
    let mut cfg = SimConfig::new(core, jobs);
    cfg.record_decisions = true;
    simulate(&cfg, &tasks).unwrap()
}

#[test]
fn a_restored_model_does_not_bring_its_backlog_back_as_admitted_work() {
    // EDF, a (C 2, T 10) and o (C 3, T 10), both D 10. o's second job runs 9: contained, its
    // estimate is 9. While a runs 2 the windows between a's jobs are 8 < 9, so o's jobs pile
    // up (kept to run late); once a runs 1 they are 9 and o runs in them, one per period,
    // within budget, and is restored after 20. Its piled-up jobs have earlier deadlines than
    // a's next job: released as admitted work they would run back to back ahead of a and make
    // it miss.
    let d = Duration::from_nanos;
    let mut a_exec = vec![d(2); 12];
    a_exec.extend(std::iter::repeat_n(d(1), 300));
    let mut o_exec = vec![d(3), d(9)];
    o_exec.extend(std::iter::repeat_n(d(3), 300));
    let r = edf_pair(ExecTime::Replay(a_exec), o_exec, LateAction::RunLate, 20, 200);
    let restored_at = *restorations(&r)
        .first()
        .unwrap_or_else(|| panic!("o is restored once it runs within budget\n{}", r.report));
    let a_rep = of(&r, "a");
    assert_eq!((a_rep.deadline_misses, a_rep.dropped), (0, 0), "{}", r.report);
    // The backlog is dropped at the restoration, as jobs that can no longer make it.
    let dropped_then = r
        .decisions
        .iter()
        .filter(|d| {
            matches!(d, Decision::Drop { model, at, reason: DropReason::CannotMeetDeadline { .. }, .. }
                if model.as_str() == "o" && *at == restored_at)
        })
        .count();
    assert!(dropped_then >= 2, "{dropped_then} dropped at {restored_at}\n{}", r.report);
    assert_eq!(of(&r, "o").dropped as usize, dropped_then, "nothing else was dropped");
}

#[test]
fn a_model_starved_of_safe_windows_gets_probation_and_is_restored() {
    // EDF, a (C 2, T 10) and o (C 3, T 10), both D 10; a always runs 2. o's second job runs
    // 9 (one outlier): contained with estimate 9, and no window between a's jobs (8) ever fits
    // it, so no job of o could run and prove it is back within budget. After `restore_after`
    // = 2 periods without a start, o's jobs get windows of its WCET (3) again: they run,
    // within budget, and o is restored; a is never disturbed.
    let d = Duration::from_nanos;
    let mut o_exec = vec![d(3), d(9)];
    o_exec.extend(std::iter::repeat_n(d(3), 100));
    let r = edf_pair(ExecTime::Constant(d(2)), o_exec, LateAction::Drop, 2, 100);
    let a_rep = of(&r, "a");
    assert_eq!((a_rep.deadline_misses, a_rep.dropped), (0, 0), "{}", r.report);
    let restored = restorations(&r);
    assert_eq!(restored.len(), 1, "{}", r.report);
    let o_rep = of(&r, "o");
    assert_eq!(o_rep.overruns, 1, "{}", r.report);
    // o lost only the jobs of its starved periods: it runs normally after the restoration.
    assert!(o_rep.completed + 5 >= o_rep.released, "{}", r.report);
    assert!(restored[0] < ns(100), "restored within a few periods: {restored:?}");
}

/// A core with `v` and `o` registered, overrun action demote, restoration after 5 good jobs.
fn core_pair() -> aegis_sched::scheduler::SchedulerCore {
    let (v, o) = (task("v", 2, 20, 5, 0), task("o", 3, 20, 20, 1));
    assert_admitted(Policy::FixedPriority, &v, &o);
    let mut core = aegis_sched::scheduler::SchedulerCore::new(
        CoreConfig::new(Policy::FixedPriority).with_overrun(OverrunConfig {
            action: OverrunAction::Demote,
            restore_after: 5,
            grace: Duration::ZERO,
        }),
    );
    core.register(ModelSpec::new(v)).unwrap();
    core.register(ModelSpec::new(o)).unwrap();
    core
}

/// Releases `o`'s job `request` at `at`, lets it run past its budget (flagged while running
/// at `at + 4`) and completes it at `at + 5` having executed `exec`; `v` runs from `at + 7`
/// to `at + 9` (so its next release is known: a safe window for contained work ends there);
/// then releases the next job of `o` at `at + 20`. Returns every decision.
fn flagged_then_completed(
    core: &mut aegis_sched::scheduler::SchedulerCore,
    request: u64,
    at: u64,
    exec: u64,
) -> Vec<Decision> {
    let o = aegis_trace::ModelId::new("o");
    let mut out = Vec::new();
    core.release(&o, RequestId(request), ns(at), &mut out).unwrap();
    core.tick(ns(at), &mut out);
    core.tick(ns(at + 4), &mut out);
    core.complete(0, RequestId(request), ns(at + 5), Duration::from_nanos(exec), &mut out).unwrap();
    core.tick(ns(at + 5), &mut out);
    v_job(core, 100 + request, at + 7, &mut out);
    core.release(&o, RequestId(request + 1), ns(at + 20), &mut out).unwrap();
    core.tick(ns(at + 20), &mut out);
    out
}

/// `v`'s job `request` released at `at`, run for its WCET of 2.
fn v_job(
    core: &mut aegis_sched::scheduler::SchedulerCore,
    request: u64,
    at: u64,
    out: &mut Vec<Decision>,
) {
    core.release(&aegis_trace::ModelId::new("v"), RequestId(request), ns(at), out).unwrap();
    core.tick(ns(at), out);
    core.complete(0, RequestId(request), ns(at + 2), Duration::from_nanos(2), out).unwrap();
    core.tick(ns(at + 2), out);
}

fn background_dispatches(out: &[Decision]) -> Vec<RequestId> {
    out.iter()
        .filter_map(|d| match d {
            Decision::Dispatch { request, background: true, .. } => Some(*request),
            _ => None,
        })
        .collect()
}

#[test]
fn a_flag_raised_while_running_is_withdrawn_when_the_job_executed_within_budget() {
    // The host reported o's completion late (at 5, 4 past its budget of 3 from dispatch at 0)
    // but the job executed 2: not an overrun of the model's work.
    let out = flagged_then_completed(&mut core_pair(), 1, 0, 2);
    let stages: Vec<OverrunStage> = out
        .iter()
        .filter_map(|d| match d {
            Decision::Overrun { stage, .. } => Some(*stage),
            _ => None,
        })
        .collect();
    assert_eq!(stages, vec![OverrunStage::Running]);
    assert!(out.contains(&Decision::OverrunWithdrawn {
        at: ns(5),
        lane: 0,
        model: aegis_trace::ModelId::new("o"),
        request: RequestId(1),
        exec: Duration::from_nanos(2),
        threshold: Duration::from_nanos(3),
    }));
    assert!(out.iter().any(|d| matches!(d, Decision::Restored { at, .. } if *at == ns(5))));
    // Its next job is admitted work again, not background work waiting for a safe window.
    assert!(background_dispatches(&out).is_empty(), "{out:?}");
    assert!(out.iter().any(|d| matches!(d, Decision::Dispatch { request: RequestId(2), .. })));
}

#[test]
fn a_flag_confirmed_by_the_execution_time_keeps_the_model_contained() {
    let out = flagged_then_completed(&mut core_pair(), 1, 0, 4);
    assert!(!out.iter().any(|d| matches!(d, Decision::OverrunWithdrawn { .. })), "{out:?}");
    assert!(!out.iter().any(|d| matches!(d, Decision::Restored { .. })));
    assert_eq!(background_dispatches(&out), vec![RequestId(2)]);
}

#[test]
fn a_withdrawal_does_not_lift_a_containment_another_overrun_began() {
    let mut core = core_pair();
    // Job 1 really overruns (executed 4 > 3); job 2, contained, is flagged while running but
    // executed 2: its flag is withdrawn, the containment job 1 began stays.
    let first = flagged_then_completed(&mut core, 1, 0, 4);
    assert_eq!(background_dispatches(&first), vec![RequestId(2)]);
    let mut out = Vec::new();
    core.tick(ns(24), &mut out);
    core.complete(0, RequestId(2), ns(25), Duration::from_nanos(2), &mut out).unwrap();
    assert!(
        out.iter().any(|d| matches!(d, Decision::OverrunWithdrawn { request: RequestId(2), .. }))
    );
    assert!(!out.iter().any(|d| matches!(d, Decision::Restored { .. })), "{out:?}");
    v_job(&mut core, 200, 27, &mut out);
    let o = aegis_trace::ModelId::new("o");
    core.release(&o, RequestId(3), ns(40), &mut out).unwrap();
    core.tick(ns(40), &mut out);
    assert_eq!(background_dispatches(&out), vec![RequestId(3)]);
}
