//! The `plan-memory` report: its JSON shape is pinned, totals follow `--shared`, and bad input
//! is a typed error naming the file.

use aegis_memory::{MemoryError, ReportOptions, plan_memory_report};
use serde_json::{Value, json};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/lifetimes").join(name)
}

fn temp_file(name: &str, content: &Value) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("aegis-memory-report");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content.to_string()).unwrap();
    path
}

fn tiny(model: &str, weights: u64) -> Value {
    json!({
        "model": model,
        "weights_bytes": weights,
        "tensors": [
            {"id": 0, "size": 100, "first": 0, "last": 1},
            {"id": 1, "size": 300, "first": 1, "last": 2},
            {"id": 10, "size": 50, "first": 2, "last": 2},
            {"id": 2, "size": 100, "first": 2, "last": 3}
        ]
    })
}

/// The report with `planning_ms` zeroed (the only field that varies between runs).
fn stable(mut v: Value) -> Value {
    for m in v["models"].as_array_mut().unwrap() {
        assert!(m["planning_ms"].as_f64().unwrap() >= 0.0);
        m["planning_ms"] = json!(0.0);
    }
    v
}

#[test]
fn json_shape_is_pinned() {
    let a = temp_file("a.json", &tiny("a", 1000));
    let b = temp_file("b.json", &tiny("b", 24));
    let opts = ReportOptions { align: 1, fp16: false, shared: false };
    let report = plan_memory_report(&[a, b], &opts).unwrap();
    let expected_model = |name: &str| {
        json!({
            "model": name,
            "arena_bytes": 450,
            "lower_bound_bytes": 450,
            "offsets": {"0": 300, "1": 0, "2": 300, "10": 400},
            "planning_ms": 0.0
        })
    };
    let got = stable(report.to_json());
    assert_eq!(
        got,
        json!({
            "models": [expected_model("a"), expected_model("b")],
            "total": {"isolated_bytes": 900, "shared_bytes": 900, "weights_bytes": 1024}
        })
    );
    // Offsets come in numeric id order ("2" before "10").
    let text = serde_json::to_string(&report).unwrap();
    assert!(text.find("\"2\":").unwrap() < text.find("\"10\":").unwrap(), "{text}");
    assert_eq!(report.models[0].plan.offsets.len(), 4);
    assert_eq!(report.sharing.models.len(), 2);
}

#[test]
fn shared_makes_all_models_one_group() {
    let paths =
        [fixture("resnet18.json"), fixture("mobilenet_v2.json"), fixture("efficientnet_b0.json")];
    let isolated = plan_memory_report(&paths, &ReportOptions::default()).unwrap();
    let shared =
        plan_memory_report(&paths, &ReportOptions { shared: true, ..Default::default() }).unwrap();
    let arenas: Vec<u64> = isolated.models.iter().map(|m| m.arena_bytes).collect();
    assert_eq!(isolated.total.isolated_bytes, arenas.iter().sum::<u64>());
    assert_eq!(isolated.total.shared_bytes, isolated.total.isolated_bytes);
    assert_eq!(shared.total.isolated_bytes, isolated.total.isolated_bytes);
    assert_eq!(shared.total.shared_bytes, *arenas.iter().max().unwrap());
    assert_eq!(shared.total.weights_bytes, isolated.total.weights_bytes);
    assert_eq!(shared.sharing.opportunities.len(), 1);
    assert_eq!(shared.sharing.opportunities[0].members.len(), 3);
    for m in &shared.models {
        assert!(m.arena_bytes % 256 == 0 && m.arena_bytes >= m.lower_bound_bytes);
        assert!(m.offsets.values().all(|o| o % 256 == 0));
    }
    let v = shared.to_json();
    assert_eq!(v["models"][0]["model"], json!("resnet18"));
    assert_eq!(v["models"].as_array().unwrap().len(), 3);
}

#[test]
fn fp16_and_alignment_options_apply() {
    let path = [fixture("resnet18.json")];
    let fp32 =
        plan_memory_report(&path, &ReportOptions { align: 1, ..Default::default() }).unwrap();
    let fp16 =
        plan_memory_report(&path, &ReportOptions { align: 1, fp16: true, shared: false }).unwrap();
    assert_eq!(fp32.models[0].lower_bound_bytes, 6_422_528);
    assert_eq!(fp16.models[0].lower_bound_bytes, 3_211_264);
    assert_eq!(fp16.models[0].arena_bytes, 3_211_264);
    let err =
        plan_memory_report(&path, &ReportOptions { align: 100, ..Default::default() }).unwrap_err();
    assert!(matches!(err, MemoryError::InvalidAlignment { alignment: 100 }));
}

#[test]
fn bad_inputs_are_typed_errors_naming_the_file() {
    assert!(matches!(
        plan_memory_report(&[], &ReportOptions::default()).unwrap_err(),
        MemoryError::NoInputs
    ));
    let a = fixture("resnet18.json");
    let err = plan_memory_report(&[a.clone(), a.clone()], &ReportOptions::default()).unwrap_err();
    assert!(
        matches!(&err, MemoryError::DuplicateModel { model, .. } if model.as_str() == "resnet18")
    );
    assert!(err.to_string().contains("resnet18.json and"), "{err}");
    let mut bad = tiny("c", 0);
    bad["tensors"][1]["size"] = json!(-1);
    let c = temp_file("c.json", &bad);
    let err = plan_memory_report(&[a, c], &ReportOptions::default()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("c.json: `tensors[1].size`: must be >= 0"), "{text}");
    let err = plan_memory_report(&[PathBuf::from("/nonexistent.json")], &ReportOptions::default())
        .unwrap_err();
    assert!(matches!(err, MemoryError::Io { .. }));
}
