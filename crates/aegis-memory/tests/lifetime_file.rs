//! Lifetime files: the six fixtures parse, and every malformation is a typed error naming the
//! file and the field.

use aegis_memory::lifetime_file::TensorKind;
use aegis_memory::{LifetimeFile, MemoryError, Precision, TensorId};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/lifetimes")
}

fn fixtures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

fn minimal() -> Value {
    json!({
        "model": "tiny",
        "weights_bytes": 100,
        "num_ops": 2,
        "tensors": [
            {"id": 0, "size": 8, "first": 0, "last": 0, "kind": "input", "name": "x"},
            {"id": 1, "size": 6, "first": 0, "last": 1, "kind": "intermediate"},
            {"id": 2, "size": 4, "first": 1, "last": 1, "kind": "output"}
        ],
        "nonfloat_ids": [2],
        "greedy_by_size_offsets_fp32": [0, 8, 0],
        "stats_fp32": {"naive": 18, "lower_bound": 14, "greedy_by_size": 14, "first_fit": 14,
                        "greedy_by_size_valid": true}
    })
}

fn parse(v: &Value) -> Result<LifetimeFile, MemoryError> {
    LifetimeFile::parse(&v.to_string(), Path::new("bad.json"))
}

/// Asserts a `LifetimeFile` error on `field` whose message contains `needle`.
fn expect_err(v: &Value, field: &str, needle: &str) {
    let err = parse(v).unwrap_err();
    let text = err.to_string();
    match &err {
        MemoryError::LifetimeFile { file, field: f, problem } => {
            assert_eq!(file, Path::new("bad.json"));
            assert_eq!(f, field, "{text}");
            assert!(problem.contains(needle), "{text}");
        }
        other => panic!("expected a LifetimeFile error, got {other}"),
    }
    assert!(text.starts_with("bad.json: `"), "{text}");
}

#[test]
fn all_six_fixtures_parse_with_their_reference_data() {
    let files = fixtures();
    assert_eq!(files.len(), 6);
    for path in files {
        let f = LifetimeFile::load(&path).unwrap();
        let n = f.tensors.len();
        assert!(n > 40, "{}", f.model);
        assert_eq!(f.path, path);
        assert!(f.weights_bytes > 0);
        let num_ops = f.num_ops.unwrap();
        assert_eq!(f.tensors[0].kind, Some(TensorKind::Input));
        assert_eq!(f.tensors[n - 1].kind, Some(TensorKind::Output));
        assert_eq!(f.tensors[n - 1].last, num_ops - 1);
        assert_eq!(f.reference_greedy_offsets_fp32.as_ref().unwrap().len(), n);
        let naive: u64 = f.tensors.iter().map(|t| t.size).sum();
        assert_eq!(f.stats(Precision::Fp32).unwrap().naive, Some(naive));
        let half: u64 = f.lifetimes(Precision::Fp16).iter().map(|l| l.size).sum();
        assert_eq!(f.stats(Precision::Fp16).unwrap().naive, Some(half), "{}", f.model);
    }
}

#[test]
fn fp16_halves_every_float_tensor_and_keeps_nonfloat_ones() {
    let f = parse(&minimal()).unwrap();
    let sizes = |p| f.lifetimes(p).iter().map(|l| l.size).collect::<Vec<_>>();
    assert_eq!(sizes(Precision::Fp32), vec![8, 6, 4]);
    assert_eq!(sizes(Precision::Fp16), vec![4, 3, 4]);
    // An odd float size rounds up: never under-allocate.
    let mut v = minimal();
    v["tensors"][1]["size"] = json!(7);
    let f = parse(&v).unwrap();
    assert_eq!(f.lifetimes(Precision::Fp16)[1].size, 4);
    assert_eq!(f.lifetimes(Precision::Fp16)[1].owner_model.as_str(), "tiny");
    assert!(f.stats(Precision::Fp16).is_none());
}

#[test]
fn vit_has_nonfloat_tensors_kept_at_full_size_in_fp16() {
    let f = LifetimeFile::load(&fixture_dir().join("vit_b_16.json")).unwrap();
    assert_eq!(f.nonfloat_ids.iter().map(|t| t.0).collect::<Vec<_>>(), vec![4, 5, 6, 7]);
    let l16 = f.lifetimes(Precision::Fp16);
    let l32 = f.lifetimes(Precision::Fp32);
    assert_eq!(l16[6].size, l32[6].size); // 3 bytes of bools stay 3
    assert_eq!(l16[8].size * 2, l32[8].size);
}

#[test]
fn minimal_file_parses_every_optional_field() {
    let f = parse(&minimal()).unwrap();
    assert_eq!(f.model.as_str(), "tiny");
    assert_eq!(f.num_ops, Some(2));
    assert_eq!(f.tensors[0].name.as_deref(), Some("x"));
    assert_eq!(f.tensors[1].kind, Some(TensorKind::Intermediate));
    assert_eq!(f.nonfloat_ids.len(), 1);
    assert_eq!(f.reference_greedy_offsets_fp32.as_ref().unwrap()[&TensorId(1)], 8);
    let s = f.stats(Precision::Fp32).unwrap();
    assert_eq!(
        (s.naive, s.lower_bound, s.greedy_by_size, s.first_fit),
        (Some(18), Some(14), Some(14), Some(14))
    );
    // Without the optional fields.
    let v = json!({"model": "m", "weights_bytes": 0,
                   "tensors": [{"id": 3, "size": 0, "first": 2, "last": 5}]});
    let f = parse(&v).unwrap();
    assert_eq!(f.num_ops, None);
    assert!(f.nonfloat_ids.is_empty() && f.reference_greedy_offsets_fp32.is_none());
    assert_eq!(f.tensors[0].kind, None);
    // Provenance keys are accepted and not interpreted.
    let mut v = minimal();
    v["source"] = json!("torchvision");
    v["op_types"] = json!(["Conv", "Relu"]);
    v["check_vs_torch"] = json!({"outputs": 1});
    assert!(parse(&v).is_ok());
}

#[test]
fn io_and_syntax_errors_name_the_file() {
    let err = LifetimeFile::load(Path::new("/nonexistent/x.json")).unwrap_err();
    assert!(matches!(err, MemoryError::Io { .. }));
    assert!(err.to_string().contains("/nonexistent/x.json"), "{err}");
    let err = LifetimeFile::parse("{\"model\": ", Path::new("bad.json")).unwrap_err();
    assert!(err.to_string().contains("bad.json: `<document>`: not valid JSON"), "{err}");
    expect_err(&json!([1, 2]), "<document>", "must be an object");
}

#[test]
fn missing_required_fields_are_named() {
    for key in ["model", "weights_bytes", "tensors"] {
        let mut v = minimal();
        v.as_object_mut().unwrap().remove(key);
        expect_err(&v, key, "is missing");
    }
    for key in ["id", "size", "first", "last"] {
        let mut v = minimal();
        v["tensors"][1].as_object_mut().unwrap().remove(key);
        expect_err(&v, &format!("tensors[1].{key}"), "is missing");
    }
}

#[test]
fn negative_fractional_and_mistyped_numbers_are_rejected() {
    let mut v = minimal();
    v["tensors"][2]["size"] = json!(-4);
    expect_err(&v, "tensors[2].size", "must be >= 0, got -4");
    let mut v = minimal();
    v["tensors"][0]["size"] = json!(1.5);
    expect_err(&v, "tensors[0].size", "whole number");
    let mut v = minimal();
    v["weights_bytes"] = json!("100");
    expect_err(&v, "weights_bytes", "got a string");
    let mut v = minimal();
    v["tensors"][0]["id"] = json!(5_000_000_000u64);
    expect_err(&v, "tensors[0].id", "below 2^32");
    let mut v = minimal();
    v["num_ops"] = json!(0);
    expect_err(&v, "num_ops", "at least 1");
    let mut v = minimal();
    v["tensors"][0]["first"] = json!(null);
    expect_err(&v, "tensors[0].first", "got null");
    let mut v = minimal();
    v["greedy_by_size_offsets_fp32"][1] = json!(-1);
    expect_err(&v, "greedy_by_size_offsets_fp32[1]", ">= 0");
    let mut v = minimal();
    v["stats_fp32"]["lower_bound"] = json!(true);
    expect_err(&v, "stats_fp32.lower_bound", "got a boolean");
}

#[test]
fn interval_violations_are_rejected() {
    let mut v = minimal();
    v["tensors"][1]["first"] = json!(1);
    v["tensors"][1]["last"] = json!(0);
    expect_err(&v, "tensors[1].first", "first step 1 is after last step 0");
    let mut v = minimal();
    v["tensors"][1]["last"] = json!(2);
    expect_err(&v, "tensors[1].last", "outside the 2 ops");
    let mut v = minimal();
    v["tensors"][2]["last"] = json!(0);
    v["tensors"][2]["first"] = json!(0);
    expect_err(&v, "tensors[2].last", "output tensor must live to the last step 1");
    let mut v = minimal();
    v["tensors"][0]["first"] = json!(1);
    v["tensors"][0]["last"] = json!(1);
    expect_err(&v, "tensors[0].first", "input tensor must be live from step 0");
}

#[test]
fn duplicate_ids_are_rejected() {
    let mut v = minimal();
    v["tensors"][2]["id"] = json!(0);
    expect_err(&v, "tensors[2].id", "already used by tensors[0]");
    let mut v = minimal();
    v["nonfloat_ids"] = json!([2, 2]);
    expect_err(&v, "nonfloat_ids[1]", "listed twice");
    let mut v = minimal();
    v["nonfloat_ids"] = json!([9]);
    expect_err(&v, "nonfloat_ids[0]", "not in `tensors`");
}

#[test]
fn unknown_keys_are_rejected_where_they_would_change_the_layout() {
    let mut v = minimal();
    v["tensors"][1]["alias_of"] = json!(0);
    expect_err(&v, "tensors[1].alias_of", "unknown key");
    let mut v = minimal();
    v["weight_bytes"] = json!(1);
    expect_err(&v, "weight_bytes", "unknown key");
}

#[test]
fn structural_errors_are_named() {
    let mut v = minimal();
    v["tensors"] = json!([]);
    expect_err(&v, "tensors", "is empty");
    let mut v = minimal();
    v["tensors"] = json!({});
    expect_err(&v, "tensors", "must be an array");
    let mut v = minimal();
    v["tensors"][1] = json!(3);
    expect_err(&v, "tensors[1]", "must be an object");
    let mut v = minimal();
    v["model"] = json!("  ");
    expect_err(&v, "model", "must not be empty");
    let mut v = minimal();
    v["model"] = json!(7);
    expect_err(&v, "model", "must be a string");
    let mut v = minimal();
    v["tensors"][0]["name"] = json!(1);
    expect_err(&v, "tensors[0].name", "must be a string");
    let mut v = minimal();
    v["tensors"][0]["kind"] = json!("weight");
    expect_err(&v, "tensors[0].kind", "\"input\", \"intermediate\" or \"output\"");
    let mut v = minimal();
    v["tensors"][0]["kind"] = json!(0);
    expect_err(&v, "tensors[0].kind", "must be a string");
    let mut v = minimal();
    v["greedy_by_size_offsets_fp32"] = json!([0, 1]);
    expect_err(&v, "greedy_by_size_offsets_fp32", "has 2 entries but there are 3 tensors");
    let mut v = minimal();
    v["tensors"][2]["id"] = json!(5);
    v["nonfloat_ids"] = json!([]);
    expect_err(&v, "greedy_by_size_offsets_fp32", "no entry for tensor id 5");
    let mut v = minimal();
    v["stats_fp16"] = json!([]);
    expect_err(&v, "stats_fp16", "must be an object");
}
