//! tract's outputs on the example models match the reference outputs of the manifest
//! (`examples/models/manifest.json`, produced by onnxruntime 1.32 CPU).
//!
//! Metric: with `a` tract's output and `b` the reference, both flattened,
//! `relative = max_i |a_i - b_i| / max_i |b_i|`, computed in f64; the test requires
//! `relative <= 1e-4` and prints `max_i |a_i - b_i|` beside it.

use aegis_backend_tract::{Manifest, TractBackend, TractOptions, compare, reference_input};
use aegis_context::RuntimeBackend;
use std::path::PathBuf;
use std::time::Instant;

fn manifest() -> Manifest {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/models");
    Manifest::load(root.join("manifest.json")).unwrap()
}

fn check(model: &str) {
    let m = manifest();
    let entry = m.entry(model).unwrap();
    let t = Instant::now();
    let mut b = TractBackend::load(m.model_path(entry), &TractOptions::default()).unwrap();
    let load = t.elapsed();
    b.set_input(&reference_input(entry)).unwrap();
    let t = Instant::now();
    b.run().unwrap();
    let run = t.elapsed();
    let out = b.outputs().unwrap();
    let expected = m.expected_output(entry).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].name, entry.output.name);
    assert_eq!(out[0].shape, entry.output.shape);
    let c = compare(&out[0].data, &expected.data);
    println!(
        "{model}: max |a-b| = {:.3e}, max |b| = {:.3e}, relative = {:.3e} (load {load:?}, run {run:?})",
        c.max_abs_diff, c.max_abs_expected, c.relative
    );
    assert!(c.max_abs_expected > 0.0, "{model}: reference is all zeros");
    assert!(c.relative <= 1e-4, "{model}: relative error {:.3e} > 1e-4", c.relative);
    // A second job on the same backend gives the same outputs (no state leaks between jobs).
    b.run().unwrap();
    assert_eq!(b.outputs().unwrap(), out, "{model}: second run differs");
}

#[test]
fn squeezenet1_1_matches_the_reference() {
    check("squeezenet1_1");
}

#[test]
fn mobilenet_v3_small_matches_the_reference() {
    check("mobilenet_v3_small");
}
