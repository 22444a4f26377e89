//! Lifetime files: one model's tensor lifetimes as JSON, strictly validated.
//!
//! Owns [`LifetimeFile`] (the parsed file), [`FileTensor`], [`TensorKind`], [`ReferenceStats`]
//! and [`Precision`]. The format is the one of `tests/data/lifetimes/*.json` (described in
//! `tests/data/lifetimes/summary.md`). This module must not know how lifetimes are planned.
//!
//! # Validation policy
//!
//! Every error names the file and the field as a JSON path (`tensors[3].size`).
//!
//! - Required: `model` (non-empty string), `weights_bytes` (integer >= 0), `tensors`
//!   (non-empty array). Each tensor requires `id` (0..2^32), `size` (integer >= 0), `first` and
//!   `last` (op steps, `first <= last`); `name` (string) and `kind` (`"input"`,
//!   `"intermediate"` or `"output"`) are optional. Ids must be unique.
//! - Interpreted when present: `num_ops` (every `last < num_ops`; a `kind: "input"` tensor has
//!   `first = 0`, a `kind: "output"` tensor has `last = num_ops - 1`), `nonfloat_ids` (declared
//!   ids, no repeats), `greedy_by_size_offsets_fp32` (one integer per tensor, indexed by id),
//!   `stats_fp32` / `stats_fp16` (objects; their integer fields `naive`, `lower_bound`,
//!   `greedy_by_size`, `first_fit` are read, other fields are ignored).
//! - Accepted and not interpreted (provenance): `source`, `opset`, `input_shape`,
//!   `raw_export_nodes`, `graph_cleanup`, `check_vs_torch`, `conventions`,
//!   `folded_constant_nodes`, `shape_source`, `ort_shape_ids`, `data_dependent_ids`,
//!   `op_types`, `torch_param_bytes`.
//! - Unknown keys are rejected, at the top level and in tensor objects. This is where it
//!   matters: an unknown key is either a typo of a key above (whose value would otherwise be
//!   silently ignored) or a semantic this planner does not implement (an in-place alias, a
//!   fixed offset, a dtype), and planning while ignoring it would produce a wrong layout.
//!
//! # Precision
//!
//! Sizes in the file are fp32. [`Precision::Fp16`] halves every size except those of
//! `nonfloat_ids` (rounding an odd size up, so a tensor is never under-allocated).

use crate::error::MemoryError;
use crate::graph::TensorId;
use crate::lifetime::TensorLifetime;
use aegis_trace::ModelId;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Element precision of float activations when planning from a lifetime file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Precision {
    /// Sizes as in the file.
    #[default]
    Fp32,
    /// Float tensors halved (every id not in `nonfloat_ids`).
    Fp16,
}

/// What a tensor is at the graph boundary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorKind {
    /// A graph input (`first = 0`).
    Input,
    /// Produced and consumed inside the graph.
    Intermediate,
    /// A graph output (`last = num_ops - 1`).
    Output,
}

/// One tensor entry of a lifetime file (sizes in fp32 bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileTensor {
    /// The id.
    pub id: TensorId,
    /// Size in bytes (fp32).
    pub size: u64,
    /// First op step (inclusive).
    pub first: u32,
    /// Last op step (inclusive).
    pub last: u32,
    /// The exporter's name, if given.
    pub name: Option<String>,
    /// The kind, if given.
    pub kind: Option<TensorKind>,
}

/// Reference figures a file carries (computed by the tool that wrote it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReferenceStats {
    /// Sum of all tensor sizes.
    pub naive: Option<u64>,
    /// Maximum over op steps of the live bytes.
    pub lower_bound: Option<u64>,
    /// Arena size of the reference greedy-by-size layout (alignment 1).
    pub greedy_by_size: Option<u64>,
    /// Arena size of the reference first-fit layout (alignment 1).
    pub first_fit: Option<u64>,
}

/// A parsed and validated lifetime file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LifetimeFile {
    /// Where it was read from (`<memory>` when parsed from a string).
    pub path: PathBuf,
    /// The model's name.
    pub model: ModelId,
    /// Number of op steps, if given.
    pub num_ops: Option<u32>,
    /// Bytes of weights (initializers) the model keeps resident.
    pub weights_bytes: u64,
    /// The tensors, in file order.
    pub tensors: Vec<FileTensor>,
    /// Tensors that are not floating point (kept at full size for fp16).
    pub nonfloat_ids: BTreeSet<TensorId>,
    /// The reference greedy-by-size offsets (fp32, alignment 1), if given.
    pub reference_greedy_offsets_fp32: Option<BTreeMap<TensorId, u64>>,
    /// Reference figures for fp32, if given.
    pub stats_fp32: Option<ReferenceStats>,
    /// Reference figures for fp16, if given.
    pub stats_fp16: Option<ReferenceStats>,
}

const REQUIRED_TOP: [&str; 3] = ["model", "weights_bytes", "tensors"];
const INTERPRETED_TOP: [&str; 5] =
    ["num_ops", "nonfloat_ids", "greedy_by_size_offsets_fp32", "stats_fp32", "stats_fp16"];
const PROVENANCE_TOP: [&str; 13] = [
    "source",
    "opset",
    "input_shape",
    "raw_export_nodes",
    "graph_cleanup",
    "check_vs_torch",
    "conventions",
    "folded_constant_nodes",
    "shape_source",
    "ort_shape_ids",
    "data_dependent_ids",
    "op_types",
    "torch_param_bytes",
];
const TENSOR_KEYS: [&str; 6] = ["id", "size", "first", "last", "name", "kind"];

/// Builds errors naming one file.
struct Ctx<'a> {
    file: &'a Path,
}

impl Ctx<'_> {
    fn err(&self, field: impl Into<String>, problem: impl Into<String>) -> MemoryError {
        MemoryError::LifetimeFile {
            file: self.file.to_path_buf(),
            field: field.into(),
            problem: problem.into(),
        }
    }

    fn u64_of(&self, v: &Value, field: &str) -> Result<u64, MemoryError> {
        match v {
            Value::Number(n) => {
                if let Some(x) = n.as_u64() {
                    Ok(x)
                } else if let Some(x) = n.as_i64() {
                    Err(self.err(field, format!("must be >= 0, got {x}")))
                } else {
                    Err(self.err(field, format!("must be a whole number, got {n}")))
                }
            }
            other => Err(self
                .err(field, format!("must be a non-negative integer, got {}", type_name(other)))),
        }
    }

    fn u32_of(&self, v: &Value, field: &str) -> Result<u32, MemoryError> {
        let x = self.u64_of(v, field)?;
        u32::try_from(x).map_err(|_| self.err(field, format!("must be below 2^32, got {x}")))
    }

    fn object<'v>(&self, v: &'v Value, field: &str) -> Result<&'v Map<String, Value>, MemoryError> {
        v.as_object()
            .ok_or_else(|| self.err(field, format!("must be an object, got {}", type_name(v))))
    }

    fn array<'v>(&self, v: &'v Value, field: &str) -> Result<&'v Vec<Value>, MemoryError> {
        v.as_array()
            .ok_or_else(|| self.err(field, format!("must be an array, got {}", type_name(v))))
    }

    fn required<'v>(
        &self,
        obj: &'v Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Result<&'v Value, MemoryError> {
        obj.get(key).ok_or_else(|| self.err(path, "is missing; this field is required"))
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl LifetimeFile {
    /// Reads and validates the file at `path`.
    pub fn load(path: &Path) -> Result<Self, MemoryError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| MemoryError::Io { file: path.to_path_buf(), source })?;
        Self::parse(&text, path)
    }

    /// Parses and validates `text`; `file` only names the source in errors.
    pub fn parse(text: &str, file: &Path) -> Result<Self, MemoryError> {
        let ctx = Ctx { file };
        let root: Value = serde_json::from_str(text)
            .map_err(|e| ctx.err("<document>", format!("not valid JSON ({e}); fix the syntax")))?;
        let obj = ctx.object(&root, "<document>")?;
        for key in obj.keys() {
            let k = key.as_str();
            if !REQUIRED_TOP.contains(&k)
                && !INTERPRETED_TOP.contains(&k)
                && !PROVENANCE_TOP.contains(&k)
            {
                return Err(ctx.err(
                    k,
                    format!(
                        "unknown key; a lifetime file may hold only {} (see the aegis-memory \
                         lifetime_file docs); remove or rename it",
                        REQUIRED_TOP
                            .iter()
                            .chain(&INTERPRETED_TOP)
                            .chain(&PROVENANCE_TOP)
                            .copied()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        let model = match ctx.required(obj, "model", "model")? {
            Value::String(s) if !s.trim().is_empty() => ModelId::new(s),
            Value::String(_) => return Err(ctx.err("model", "must not be empty")),
            other => {
                return Err(ctx.err("model", format!("must be a string, got {}", type_name(other))));
            }
        };
        let weights_bytes =
            ctx.u64_of(ctx.required(obj, "weights_bytes", "weights_bytes")?, "weights_bytes")?;
        let num_ops = match obj.get("num_ops") {
            None => None,
            Some(v) => {
                let n = ctx.u32_of(v, "num_ops")?;
                if n == 0 {
                    return Err(ctx.err("num_ops", "must be at least 1"));
                }
                Some(n)
            }
        };
        let tensors = parse_tensors(&ctx, ctx.required(obj, "tensors", "tensors")?, num_ops)?;
        let ids: BTreeSet<TensorId> = tensors.iter().map(|t| t.id).collect();
        let nonfloat_ids = match obj.get("nonfloat_ids") {
            None => BTreeSet::new(),
            Some(v) => {
                let mut set = BTreeSet::new();
                for (i, x) in ctx.array(v, "nonfloat_ids")?.iter().enumerate() {
                    let field = format!("nonfloat_ids[{i}]");
                    let id = TensorId(ctx.u32_of(x, &field)?);
                    if !ids.contains(&id) {
                        return Err(
                            ctx.err(field, format!("tensor id {} is not in `tensors`", id.0))
                        );
                    }
                    if !set.insert(id) {
                        return Err(ctx.err(field, format!("tensor id {} is listed twice", id.0)));
                    }
                }
                set
            }
        };
        let reference_greedy_offsets_fp32 = match obj.get("greedy_by_size_offsets_fp32") {
            None => None,
            Some(v) => {
                let field = "greedy_by_size_offsets_fp32";
                let arr = ctx.array(v, field)?;
                if arr.len() != tensors.len() {
                    return Err(ctx.err(
                        field,
                        format!(
                            "has {} entries but there are {} tensors; give one offset per tensor, \
                             indexed by id",
                            arr.len(),
                            tensors.len()
                        ),
                    ));
                }
                let mut map = BTreeMap::new();
                for t in &tensors {
                    let i = t.id.0 as usize;
                    let Some(x) = arr.get(i) else {
                        return Err(ctx.err(
                            field,
                            format!("has no entry for tensor id {i}; offsets are indexed by id"),
                        ));
                    };
                    map.insert(t.id, ctx.u64_of(x, &format!("{field}[{i}]"))?);
                }
                Some(map)
            }
        };
        let stats_fp32 =
            obj.get("stats_fp32").map(|v| parse_stats(&ctx, v, "stats_fp32")).transpose()?;
        let stats_fp16 =
            obj.get("stats_fp16").map(|v| parse_stats(&ctx, v, "stats_fp16")).transpose()?;
        Ok(LifetimeFile {
            path: file.to_path_buf(),
            model,
            num_ops,
            weights_bytes,
            tensors,
            nonfloat_ids,
            reference_greedy_offsets_fp32,
            stats_fp32,
            stats_fp16,
        })
    }

    /// The lifetimes at `precision`, owned by this file's model, in file order.
    pub fn lifetimes(&self, precision: Precision) -> Vec<TensorLifetime> {
        self.tensors
            .iter()
            .map(|t| TensorLifetime {
                tensor: t.id,
                first: t.first,
                last: t.last,
                size: match precision {
                    Precision::Fp16 if !self.nonfloat_ids.contains(&t.id) => t.size.div_ceil(2),
                    _ => t.size,
                },
                owner_model: self.model.clone(),
            })
            .collect()
    }

    /// The reference figures for `precision`, if the file has them.
    pub fn stats(&self, precision: Precision) -> Option<&ReferenceStats> {
        match precision {
            Precision::Fp32 => self.stats_fp32.as_ref(),
            Precision::Fp16 => self.stats_fp16.as_ref(),
        }
    }
}

fn parse_tensors(
    ctx: &Ctx<'_>,
    v: &Value,
    num_ops: Option<u32>,
) -> Result<Vec<FileTensor>, MemoryError> {
    let arr = ctx.array(v, "tensors")?;
    if arr.is_empty() {
        return Err(ctx.err("tensors", "is empty; list at least one tensor"));
    }
    let mut seen: BTreeMap<TensorId, usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(arr.len());
    for (i, tv) in arr.iter().enumerate() {
        let path = format!("tensors[{i}]");
        let t = ctx.object(tv, &path)?;
        for key in t.keys() {
            if !TENSOR_KEYS.contains(&key.as_str()) {
                return Err(ctx.err(
                    format!("{path}.{key}"),
                    format!(
                        "unknown key; a tensor may hold only {}; remove or rename it",
                        TENSOR_KEYS.join(", ")
                    ),
                ));
            }
        }
        let field = |k: &str| format!("{path}.{k}");
        let id = TensorId(ctx.u32_of(ctx.required(t, "id", &field("id"))?, &field("id"))?);
        let size = ctx.u64_of(ctx.required(t, "size", &field("size"))?, &field("size"))?;
        let first = ctx.u32_of(ctx.required(t, "first", &field("first"))?, &field("first"))?;
        let last = ctx.u32_of(ctx.required(t, "last", &field("last"))?, &field("last"))?;
        if let Some(prev) = seen.insert(id, i) {
            return Err(ctx.err(
                field("id"),
                format!(
                    "tensor id {} is already used by tensors[{prev}]; ids must be unique",
                    id.0
                ),
            ));
        }
        if first > last {
            return Err(ctx.err(
                field("first"),
                format!("first step {first} is after last step {last}; need first <= last"),
            ));
        }
        let name = match t.get("name") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(
                    ctx.err(field("name"), format!("must be a string, got {}", type_name(other)))
                );
            }
        };
        let kind = match t.get("kind") {
            None => None,
            Some(Value::String(s)) => Some(match s.as_str() {
                "input" => TensorKind::Input,
                "intermediate" => TensorKind::Intermediate,
                "output" => TensorKind::Output,
                other => {
                    return Err(ctx.err(
                        field("kind"),
                        format!("is {other:?}; use \"input\", \"intermediate\" or \"output\""),
                    ));
                }
            }),
            Some(other) => {
                return Err(
                    ctx.err(field("kind"), format!("must be a string, got {}", type_name(other)))
                );
            }
        };
        if let Some(n) = num_ops {
            if last >= n {
                return Err(ctx.err(
                    field("last"),
                    format!("step {last} is outside the {n} ops (`num_ops`); need last < num_ops"),
                ));
            }
            if kind == Some(TensorKind::Output) && last != n - 1 {
                return Err(ctx.err(
                    field("last"),
                    format!("an output tensor must live to the last step {}, got {last}", n - 1),
                ));
            }
        }
        if kind == Some(TensorKind::Input) && first != 0 {
            return Err(ctx.err(
                field("first"),
                format!("an input tensor must be live from step 0, got {first}"),
            ));
        }
        out.push(FileTensor { id, size, first, last, name, kind });
    }
    Ok(out)
}

fn parse_stats(ctx: &Ctx<'_>, v: &Value, field: &str) -> Result<ReferenceStats, MemoryError> {
    let obj = ctx.object(v, field)?;
    let get = |k: &str| -> Result<Option<u64>, MemoryError> {
        obj.get(k).map(|x| ctx.u64_of(x, &format!("{field}.{k}"))).transpose()
    };
    Ok(ReferenceStats {
        naive: get("naive")?,
        lower_bound: get("lower_bound")?,
        greedy_by_size: get("greedy_by_size")?,
        first_fit: get("first_fit")?,
    })
}
