//! Export formats: snapshot tests pin the text formats; the Perfetto protobuf is decoded by
//! our own wire decoder and, where the `perfetto`/`protobuf` Python packages are installed
//! (required when `AEGIS_REQUIRE_PYTHON_CHECKS=1`, as `cargo xtask ci` sets), by Perfetto's
//! generated classes through `perfetto_check.py`.

use aegis_trace::export::{
    ProtoValue, TraceDocument, decode_message, write_chrome_trace, write_csv, write_file,
    write_perfetto,
};
use aegis_trace::{
    Alternative, AuditTrail, Decision, DecisionKind, Duration, EventKind, ModelId, RequestId,
    Timestamp, TraceCollector, TraceEvent,
};
use std::path::PathBuf;
use std::process::Command;

/// A small, fixed trace: two models admitted, each with one job's full lifecycle, one on
/// stream 0 and one on stream 1, and one runtime-wide event.
fn sample() -> (TraceCollector, AuditTrail) {
    let c = TraceCollector::new();
    let audit = AuditTrail::new();
    let t = Timestamp::from_nanos;
    for (i, name) in ["camera", "lidar"].iter().enumerate() {
        let m = ModelId::new(*name);
        let base = 1_000_000 * i as u64;
        let adm = c.record(
            TraceEvent::new(EventKind::Admitted, "admission", t(base))
                .model(m.clone())
                .rationale("edf_demand: schedulable")
                .attr("test", "edf_demand")
                .attr("utilisation", "0.35"),
        );
        audit.record(
            Decision::new(
                DecisionKind::Admission,
                t(base),
                "admit",
                "demand <= supply at every deadline",
            )
            .model(m.clone())
            .alternative(Alternative::new("refuse", "no test failed"))
            .event(adm),
        );
        let r = RequestId(i as u64 + 1);
        let sub = c.record(
            TraceEvent::new(EventKind::Submitted, "runtime", t(base + 10_000))
                .model(m.clone())
                .request(r)
                .parent(adm),
        );
        let q = c.record(
            TraceEvent::new(EventKind::Queued, "scheduler", t(base + 10_500))
                .model(m.clone())
                .request(r)
                .parent(sub),
        );
        let d = c.record(
            TraceEvent::new(EventKind::Dispatched, "scheduler", t(base + 11_000))
                .model(m.clone())
                .request(r)
                .stream(i as u32)
                .parent(q)
                .rationale("earliest absolute deadline"),
        );
        c.record(
            TraceEvent::new(EventKind::Completed, "runtime", t(base + 11_250))
                .model(m.clone())
                .request(r)
                .stream(i as u32)
                .duration(Duration::from_nanos(500_125))
                .parent(d),
        );
    }
    c.record(
        TraceEvent::new(EventKind::Custom("shutdown".into()), "runtime", t(3_000_000))
            .rationale("duration elapsed, \"clean\""),
    );
    (c, audit)
}

fn render(f: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut buf = Vec::new();
    f(&mut buf);
    String::from_utf8(buf).unwrap()
}

#[test]
fn json_format_is_pinned() {
    let (c, audit) = sample();
    let doc = TraceDocument::capture(&c, Some(&audit));
    insta::assert_snapshot!("trace_json", render(|b| doc.write_json(b).unwrap()));
}

#[test]
fn csv_format_is_pinned() {
    let (c, _) = sample();
    insta::assert_snapshot!("trace_csv", render(|b| write_csv(b, &c.events()).unwrap()));
}

#[test]
fn chrome_format_is_pinned() {
    let (c, _) = sample();
    let text = render(|b| write_chrome_trace(b, &c.events()).unwrap());
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let events = v["traceEvents"].as_array().unwrap();
    assert_eq!(events.iter().filter(|e| e["ph"] == "s").count(), 8, "one flow per causal link");
    assert_eq!(events.iter().filter(|e| e["ph"] == "X").count(), 4, "2 slices + 2 stream mirrors");
    insta::assert_snapshot!("trace_chrome", text);
}

#[test]
fn trace_file_round_trip_explains_a_chain_from_the_file_alone() {
    let (c, audit) = sample();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("aegis-trace-roundtrip");
    let path = dir.join("trace.json");
    let doc = TraceDocument::capture(&c, Some(&audit));
    write_file(&path, |w| doc.write_json(w)).unwrap();
    drop(c);
    let back = TraceDocument::read(&path).unwrap();
    let completed = back.events.iter().find(|e| e.kind == EventKind::Completed).unwrap().id;
    let chain = back.reconstruct_decision_chain(completed).unwrap();
    let kinds: Vec<&str> = chain.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["admitted", "submitted", "queued", "dispatched", "completed"]);
    assert_eq!(back.decisions[0].event, Some(chain.events[0].id));
}

#[test]
fn write_file_names_the_path_on_failure() {
    let err = write_file(std::path::Path::new("/proc/no/such/dir/t.json"), |_| Ok(())).unwrap_err();
    assert!(err.to_string().contains("/proc/no/such/dir"), "{err}");
}

fn fields(b: &[u8]) -> Vec<aegis_trace::export::ProtoField> {
    decode_message(b).expect("well-formed protobuf")
}

fn bytes_of(v: &ProtoValue) -> &[u8] {
    match v {
        ProtoValue::Bytes(b) => b,
        other => panic!("expected bytes, got {other:?}"),
    }
}

#[test]
fn perfetto_trace_has_tracks_slices_and_flows() {
    let (c, _) = sample();
    let mut buf = Vec::new();
    write_perfetto(&mut buf, &c.events()).unwrap();
    let packets = fields(&buf);
    assert!(packets.iter().all(|p| p.number == 1));
    let mut track_names = Vec::new();
    let (mut begins, mut ends, mut instants, mut flows_out, mut flows_in) = (0, 0, 0, 0, 0);
    let mut last_ts = 0;
    for p in &packets {
        let pf = fields(bytes_of(&p.value));
        for f in &pf {
            match f.number {
                8 => {
                    let ProtoValue::Varint(ts) = f.value else { panic!() };
                    assert!(ts >= last_ts, "packets in time order");
                    last_ts = ts;
                }
                60 => {
                    for td in fields(bytes_of(&f.value)) {
                        if td.number == 2 {
                            track_names
                                .push(String::from_utf8(bytes_of(&td.value).to_vec()).unwrap());
                        }
                    }
                }
                11 => {
                    for te in fields(bytes_of(&f.value)) {
                        match (te.number, &te.value) {
                            (9, ProtoValue::Varint(1)) => begins += 1,
                            (9, ProtoValue::Varint(2)) => ends += 1,
                            (9, ProtoValue::Varint(3)) => instants += 1,
                            (47, _) => flows_out += 1,
                            (48, _) => flows_in += 1,
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
    }
    assert_eq!(track_names, ["runtime", "model camera", "model lidar", "stream 0", "stream 1"]);
    assert_eq!((begins, ends), (4, 4));
    assert_eq!(instants, 9);
    assert_eq!((flows_out, flows_in), (8, 8));
}

#[test]
fn perfetto_trace_parses_with_perfettos_own_python_classes() {
    let (c, _) = sample();
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("aegis-trace-sample.pftrace");
    write_file(&path, |w| write_perfetto(w, &c.events())).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/perfetto_check.py");
    let required = std::env::var("AEGIS_REQUIRE_PYTHON_CHECKS").is_ok_and(|v| v == "1");
    let probe = Command::new("python3")
        .args(["-c", "import perfetto.protos.perfetto.trace.perfetto_trace_pb2, google.protobuf"])
        .output();
    let available = probe.as_ref().is_ok_and(|o| o.status.success());
    if !available {
        assert!(
            !required,
            "AEGIS_REQUIRE_PYTHON_CHECKS=1 but the Python packages are missing: \
             run `python3 -m pip install perfetto protobuf`"
        );
        eprintln!("note: python3 perfetto/protobuf not installed; only the Rust decoder checked");
        return;
    }
    let out = Command::new("python3")
        .arg(&script)
        .arg(&path)
        .args(["--tracks", "runtime,model camera,model lidar,stream 0,stream 1"])
        .args(["--slices", "2", "--instants", "9", "--flows", "8"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "perfetto_check.py failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
