//! Reference data of the example models: the manifest (`examples/models/manifest.json`), the
//! deterministic input it describes, the expected outputs (`*.expected.f32`) and the error
//! metric they are compared with.
//!
//! Owns the manifest format and the comparison. It must not know any engine: outputs come in as
//! [`TensorData`].

use crate::error::TractError;
use aegis_context::TensorData;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The input of a manifest entry.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ManifestInput {
    /// Input name in the model.
    pub name: String,
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Element type; only `float32` is accepted.
    pub dtype: String,
    /// How the values are generated (prose; [`reference_input`] implements it).
    pub values: String,
}

/// The reference output of a manifest entry.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ManifestOutput {
    /// Output name in the model.
    pub name: String,
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Element type; only `float32` is accepted.
    pub dtype: String,
    /// File of the expected values, relative to the manifest.
    pub file: String,
    /// Byte layout (prose): raw little-endian f32, row-major.
    pub layout: String,
}

/// One model of the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ManifestEntry {
    /// Model file, relative to the manifest.
    pub file: String,
    /// SHA-256 of the model file (hex), when given.
    #[serde(default)]
    pub sha256: Option<String>,
    /// The input.
    pub input: ManifestInput,
    /// The reference output.
    pub output: ManifestOutput,
    /// What produced the reference output.
    #[serde(default)]
    pub reference: Option<String>,
    /// Where the model comes from.
    #[serde(default)]
    pub origin: Option<String>,
}

/// A reference manifest: model name → entry, with the folder its files are relative to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// The manifest file.
    pub path: PathBuf,
    /// Entries by model name.
    pub models: BTreeMap<String, ManifestEntry>,
}

impl Manifest {
    /// Reads and validates `path` (float32 input and output, non-empty shapes).
    ///
    /// # Errors
    /// [`TractError::Manifest`] naming the file, the model and the field at fault;
    /// [`TractError::FileNotFound`] / [`TractError::Io`] when it cannot be read.
    pub fn load(path: impl AsRef<Path>) -> Result<Manifest, TractError> {
        let path = path.as_ref().to_path_buf();
        let text = std::fs::read_to_string(&path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                TractError::FileNotFound { path: path.clone() }
            } else {
                TractError::Io { path: path.clone(), source }
            }
        })?;
        let models: BTreeMap<String, ManifestEntry> = serde_json::from_str(&text)
            .map_err(|e| TractError::Manifest { path: path.clone(), reason: e.to_string() })?;
        for (name, e) in &models {
            let bad = |field: &str, what: String| TractError::Manifest {
                path: path.clone(),
                reason: format!("model {name}: {field} {what}"),
            };
            for (field, dtype) in
                [("input.dtype", &e.input.dtype), ("output.dtype", &e.output.dtype)]
            {
                if dtype != "float32" {
                    return Err(bad(field, format!("is {dtype:?}; only \"float32\" is supported")));
                }
            }
            for (field, shape) in
                [("input.shape", &e.input.shape), ("output.shape", &e.output.shape)]
            {
                if shape.is_empty() || shape.contains(&0) {
                    return Err(bad(field, format!("is {shape:?}; give positive dimensions")));
                }
            }
        }
        Ok(Manifest { path, models })
    }

    /// The entry of `model`.
    ///
    /// # Errors
    /// [`TractError::Manifest`] listing the models it has.
    pub fn entry(&self, model: &str) -> Result<&ManifestEntry, TractError> {
        self.models.get(model).ok_or_else(|| TractError::Manifest {
            path: self.path.clone(),
            reason: format!(
                "no model {model:?}; it has {:?}",
                self.models.keys().collect::<Vec<_>>()
            ),
        })
    }

    fn dir(&self) -> &Path {
        self.path.parent().unwrap_or_else(|| Path::new("."))
    }

    /// Path of the entry's model file.
    pub fn model_path(&self, entry: &ManifestEntry) -> PathBuf {
        self.dir().join(&entry.file)
    }

    /// The entry's expected output.
    ///
    /// # Errors
    /// See [`load_expected`].
    pub fn expected_output(&self, entry: &ManifestEntry) -> Result<TensorData, TractError> {
        load_expected(self.dir().join(&entry.output.file), &entry.output.name, &entry.output.shape)
    }
}

/// The manifest's deterministic input: `x[i] = sin(0.001 * i)` for `i` in `0..N`, computed in
/// f64 and rounded to f32, row-major over `entry.input.shape`.
pub fn reference_input(entry: &ManifestEntry) -> TensorData {
    let n: usize = entry.input.shape.iter().product();
    TensorData {
        name: entry.input.name.clone(),
        shape: entry.input.shape.clone(),
        data: (0..n).map(|i| (0.001 * i as f64).sin() as f32).collect(),
    }
}

/// Reads an expected-output file: raw little-endian f32, row-major, exactly `shape`'s elements.
///
/// # Errors
/// [`TractError::FileNotFound`] / [`TractError::Io`]; [`TractError::Reference`] when the size
/// does not match the shape.
pub fn load_expected(
    path: impl AsRef<Path>,
    name: &str,
    shape: &[usize],
) -> Result<TensorData, TractError> {
    let path = path.as_ref().to_path_buf();
    let bytes = std::fs::read(&path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            TractError::FileNotFound { path: path.clone() }
        } else {
            TractError::Io { path: path.clone(), source }
        }
    })?;
    let n: usize = shape.iter().product();
    if bytes.len() != n * 4 {
        return Err(TractError::Reference {
            path,
            reason: format!(
                "holds {} bytes; shape {shape:?} needs {} (raw little-endian f32)",
                bytes.len(),
                n * 4
            ),
        });
    }
    let data =
        bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    Ok(TensorData { name: name.to_owned(), shape: shape.to_vec(), data })
}

/// How far `actual` is from `expected`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Comparison {
    /// `max_i |actual_i - expected_i|`.
    pub max_abs_diff: f64,
    /// `max_i |expected_i|`.
    pub max_abs_expected: f64,
    /// `max_abs_diff / max_abs_expected` (the diff itself when the reference is all zeros;
    /// infinite when a value is NaN or the lengths differ).
    pub relative: f64,
}

/// Compares element-wise in f64 (see [`Comparison`] for the metric).
pub fn compare(actual: &[f32], expected: &[f32]) -> Comparison {
    if actual.len() != expected.len() {
        return Comparison {
            max_abs_diff: f64::INFINITY,
            max_abs_expected: 0.0,
            relative: f64::INFINITY,
        };
    }
    let mut max_abs_diff = 0.0f64;
    let mut max_abs_expected = 0.0f64;
    for (a, b) in actual.iter().zip(expected) {
        let d = (f64::from(*a) - f64::from(*b)).abs();
        // NaN anywhere must fail the comparison, not vanish in `max`.
        max_abs_diff = if d.is_nan() { f64::INFINITY } else { max_abs_diff.max(d) };
        max_abs_expected = max_abs_expected.max(f64::from(*b).abs());
    }
    let relative =
        if max_abs_expected > 0.0 { max_abs_diff / max_abs_expected } else { max_abs_diff };
    Comparison { max_abs_diff, max_abs_expected, relative }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str, bytes: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("aegis-tract-ref-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    const ENTRY: &str = r#"{"m": {"file": "m.onnx",
        "input": {"name": "x", "shape": [2, 3], "dtype": "float32", "values": "sin"},
        "output": {"name": "y", "shape": [2], "dtype": "float32", "file": "m.expected.f32",
                   "layout": "raw little-endian f32, row-major"}}}"#;

    #[test]
    fn the_reference_input_is_sin_of_a_thousandth_of_the_index() {
        let path = temp("manifest_ok.json", ENTRY.as_bytes());
        let m = Manifest::load(&path).unwrap();
        let e = m.entry("m").unwrap();
        let x = reference_input(e);
        assert_eq!((x.name.as_str(), x.shape.as_slice()), ("x", &[2usize, 3][..]));
        assert_eq!(x.data.len(), 6);
        assert_eq!(x.data[0], 0.0);
        assert_eq!(x.data[5], 0.005f64.sin() as f32);
        assert_eq!(m.model_path(e), path.parent().unwrap().join("m.onnx"));
        assert!(e.sha256.is_none() && e.reference.is_none());
    }

    #[test]
    fn expected_outputs_are_raw_little_endian_f32() {
        let path = temp("manifest_exp.json", ENTRY.as_bytes());
        let m = Manifest::load(&path).unwrap();
        let e = m.entry("m").unwrap();
        let missing = m.expected_output(e).unwrap_err();
        assert!(matches!(missing, TractError::FileNotFound { .. }), "{missing:?}");
        let bytes: Vec<u8> = [1.5f32, -2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        temp("m.expected.f32", &bytes);
        let y = m.expected_output(e).unwrap();
        assert_eq!(
            (y.name.as_str(), y.shape.as_slice(), y.data.as_slice()),
            ("y", &[2usize][..], &[1.5f32, -2.0][..])
        );
        let short = temp("short.f32", &bytes[..6]);
        let err = load_expected(&short, "y", &[2]).unwrap_err();
        assert!(err.to_string().contains("holds 6 bytes; shape [2] needs 8"), "{err}");
    }

    #[test]
    fn bad_manifests_name_the_model_and_field() {
        let missing = Manifest::load("/nonexistent/manifest.json").unwrap_err();
        assert!(matches!(missing, TractError::FileNotFound { .. }));
        let p = temp("manifest_bad_json.json", b"{ not json");
        assert!(matches!(Manifest::load(&p).unwrap_err(), TractError::Manifest { .. }));
        let p = temp("manifest_f16.json", ENTRY.replacen("float32", "float16", 1).as_bytes());
        let e = Manifest::load(&p).unwrap_err().to_string();
        assert!(e.contains("model m: input.dtype is \"float16\""), "{e}");
        let p = temp("manifest_shape.json", ENTRY.replace("[2]", "[0]").as_bytes());
        let e = Manifest::load(&p).unwrap_err().to_string();
        assert!(e.contains("model m: output.shape is [0]"), "{e}");
        let p = temp("manifest_ok2.json", ENTRY.as_bytes());
        let e = Manifest::load(&p).unwrap().entry("resnet").unwrap_err().to_string();
        assert!(e.contains("no model \"resnet\"; it has [\"m\"]"), "{e}");
    }

    #[test]
    fn the_metric_is_max_abs_diff_over_max_abs_reference() {
        let c = compare(&[1.0, 2.0, 3.0], &[1.0, 2.5, -4.0]);
        assert_eq!((c.max_abs_diff, c.max_abs_expected, c.relative), (7.0, 4.0, 1.75));
        assert_eq!(compare(&[1.0], &[1.0]).relative, 0.0);
        assert_eq!(compare(&[0.5], &[0.0]).relative, 0.5, "all-zero reference: absolute");
        assert!(compare(&[f32::NAN, 1.0], &[1.0, 1.0]).relative.is_infinite());
        assert!(compare(&[1.0], &[1.0, 2.0]).relative.is_infinite());
    }
}
