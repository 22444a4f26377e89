//! The trace end to end: a run's trace file, read back alone, explains why a job ran:
//! admission decision → release → dispatch decision → execution → completion.

mod common;

use aegisrt::trace::export::TraceDocument;
use aegisrt::trace::{EventKind, TraceEvent};
use common::{parse, prepare, run, scratch};

const ONE: &str = r#"
name = "e2e-trace"
policy = "edf"
lanes = 1
pool_mib = 64

[[models]]
name = "solo"
backend = "tract"
model = "models/mobilenet_v3_small.onnx"
period_ms = 300
priority = 0
wcet_us = 250000
"#;

fn is(e: &TraceEvent, k: EventKind) -> bool {
    e.kind == k
}

#[test]
fn a_completed_job_is_explained_from_the_trace_file_alone() {
    if common::emulated() {
        return;
    }
    let p = prepare(parse(ONE).expect("valid"));
    let r = run(&p, 2);
    assert!(r.models[0].jobs >= 3, "{}", r.results_table());

    let dir = scratch("trace");
    let file = dir.join("run.trace.json");
    let doc = TraceDocument::capture(p.trace(), Some(p.audit()));
    let mut out = std::fs::File::create(&file).expect("create trace file");
    doc.write_json(&mut out).expect("write trace");
    drop(out);
    drop(p);

    let back = TraceDocument::read(&file).expect("read back");
    let done =
        back.events.iter().rev().find(|e| is(e, EventKind::Completed)).expect("a completion event");
    let chain = back.reconstruct_decision_chain(done.id).expect("chain");
    assert!(chain.is_complete(), "every ancestor is in the file: missing {:?}", chain.missing);
    let kinds: Vec<&EventKind> = chain.events.iter().map(|e| &e.kind).collect();
    for k in
        [EventKind::Admitted, EventKind::Submitted, EventKind::Dispatched, EventKind::Completed]
    {
        assert!(kinds.contains(&&k), "chain has {k:?}: {kinds:?}\n{}", chain.explain());
    }
    // Time order, ending at the target.
    assert!(chain.events.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
    assert_eq!(chain.events.last().map(|e| e.id), Some(done.id));
    let text = chain.explain();
    assert!(text.contains("solo"), "{text}");
    eprintln!("{text}");
    std::fs::remove_dir_all(dir).ok();
}
