//! The ONNX Runtime backend's configuration, as a deployment file carries it.
//!
//! Owns [`OrtOptions`], the [`ExecutionProvider`] choice with its [`CudaOptions`] and
//! [`TensorRtOptions`], and their validation ([`OrtOptionsError`] names the field and the fix).
//! It must not load ONNX Runtime nor know how the options reach it (`providers.rs` maps them to
//! ONNX Runtime's provider options).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// How one model runs on ONNX Runtime.
///
/// In a deployment file it is the model's `[models.options]` table (every field optional;
/// these are the defaults except `execution_provider`):
///
/// ```toml
/// [models.options]
/// library = "/opt/onnxruntime/lib/libonnxruntime.so"  # default: ORT_DYLIB_PATH, then discovery
/// intra_op_threads = 1
/// fallback_to_cpu = false
/// [models.options.execution_provider]
/// kind = "tensorrt"               # "cpu" (default), "cuda" or "tensorrt"
/// device_id = 0
/// fp16 = true
/// engine_cache_path = "/var/cache/aegisrt/trt"
/// workspace_bytes = 1073741824
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrtOptions {
    /// The `libonnxruntime` shared library to load. `None`: the `ORT_DYLIB_PATH` environment
    /// variable, then discovery (see [`crate::locate_library`]). One process loads one ONNX
    /// Runtime: every model must name the same library (or none).
    pub library: Option<PathBuf>,
    /// Which execution provider runs the model.
    pub execution_provider: ExecutionProvider,
    /// When the requested provider is missing from the loaded ONNX Runtime or fails to
    /// register: `false` (default) fails the load with
    /// [`aegis_context::BackendError::Unavailable`];
    /// `true` runs the model on the CPU provider instead, and says so (a warning on stderr and
    /// [`crate::EpSelection::fallback`], which the runtime records as a trace event).
    pub fallback_to_cpu: bool,
    /// Threads ONNX Runtime may use inside one operator (at least 1). Default 1: the calling
    /// thread does all the work. The real-time runtime owns the CPU cores — it sizes its lanes
    /// and pins its workers — so an engine must not start a pool of busy threads of its own
    /// that compete with other models' jobs unseen by the scheduler; raise this only for a
    /// model whose lane has cores reserved for it (the extra `n - 1` threads are ONNX Runtime's,
    /// created per model, and never spin while idle).
    pub intra_op_threads: u32,
}

impl Default for OrtOptions {
    fn default() -> Self {
        OrtOptions {
            library: None,
            execution_provider: ExecutionProvider::Cpu,
            fallback_to_cpu: false,
            intra_op_threads: 1,
        }
    }
}

/// The execution provider a model runs on. Serialised with a `kind` tag (`"cpu"`, `"cuda"`,
/// `"tensorrt"`) beside the provider's own fields.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ExecutionProvider {
    /// ONNX Runtime's CPU provider (in every build, including the PyPI `onnxruntime` wheel).
    #[default]
    Cpu,
    /// The CUDA provider (`onnxruntime-gpu` builds, the Jetson builds).
    Cuda(CudaOptions),
    /// The TensorRT provider, with the CUDA provider behind it for the nodes TensorRT does not
    /// take (`onnxruntime-gpu` builds with TensorRT, the Jetson builds).
    #[serde(rename = "tensorrt")]
    TensorRt(TensorRtOptions),
}

impl ExecutionProvider {
    /// Short name: `cpu`, `cuda` or `tensorrt`.
    pub fn name(&self) -> &'static str {
        match self {
            ExecutionProvider::Cpu => "cpu",
            ExecutionProvider::Cuda(_) => "cuda",
            ExecutionProvider::TensorRt(_) => "tensorrt",
        }
    }
}

/// Options of the CUDA execution provider.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CudaOptions {
    /// CUDA device ordinal.
    pub device_id: u32,
    /// Cap on the provider's device memory arena, bytes (`gpu_mem_limit`); `None`: no cap.
    /// This is the figure to account for the model on the device: ONNX Runtime allocates its
    /// activations from this arena, outside AegisRT's pool.
    pub memory_limit_bytes: Option<u64>,
    /// Capture the model in a CUDA graph and replay it (`enable_cuda_graph`; static shapes).
    pub cuda_graph: bool,
    /// Further provider options passed verbatim (ONNX Runtime's names, e.g.
    /// `cudnn_conv_algo_search = "HEURISTIC"`). Keys the typed fields set are refused.
    pub provider_options: BTreeMap<String, String>,
}

/// Options of the TensorRT execution provider.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TensorRtOptions {
    /// CUDA device ordinal.
    pub device_id: u32,
    /// Let TensorRT pick FP16 kernels (`trt_fp16_enable`).
    pub fp16: bool,
    /// Directory for serialized engines (`trt_engine_cache_enable` + `trt_engine_cache_path`).
    /// Strongly advised: without it every start rebuilds the engines (minutes on a Jetson).
    pub engine_cache_path: Option<PathBuf>,
    /// Directory for the tactic timing cache (`trt_timing_cache_enable` +
    /// `trt_timing_cache_path`).
    pub timing_cache_path: Option<PathBuf>,
    /// Most device memory a TensorRT engine may use as build/run workspace, bytes
    /// (`trt_max_workspace_size`); `None`: ONNX Runtime's default.
    pub workspace_bytes: Option<u64>,
    /// Run on this DLA core (`trt_dla_enable` + `trt_dla_core`; Jetson AGX Orin has two).
    pub dla_core: Option<u32>,
    /// TensorRT builder optimization level 0–5 (`trt_builder_optimization_level`).
    pub builder_optimization_level: Option<u8>,
    /// Capture the engine in a CUDA graph (`trt_cuda_graph_enable`; static shapes).
    pub cuda_graph: bool,
    /// Further provider options passed verbatim (ONNX Runtime's `trt_*` names). Keys the typed
    /// fields set are refused.
    pub provider_options: BTreeMap<String, String>,
}

/// A bad [`OrtOptions`] field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OrtOptionsError {
    /// `field` holds a value that cannot work; `fix` says what to write instead.
    #[error("option `{field}`: {problem}; {fix}")]
    Invalid {
        /// Dotted path of the field (e.g. `execution_provider.device_id`).
        field: String,
        /// What is wrong.
        problem: String,
        /// How to fix it.
        fix: String,
    },
}

fn invalid(field: impl Into<String>, problem: impl Into<String>, fix: &str) -> OrtOptionsError {
    OrtOptionsError::Invalid { field: field.into(), problem: problem.into(), fix: fix.into() }
}

impl OrtOptions {
    /// Checks every field.
    ///
    /// # Errors
    /// [`OrtOptionsError::Invalid`] naming the first bad field and the fix.
    pub fn validate(&self) -> Result<(), OrtOptionsError> {
        if self.intra_op_threads == 0 {
            return Err(invalid(
                "intra_op_threads",
                "0 lets ONNX Runtime start one thread per core",
                "give an explicit count (1 runs on the lane's own thread)",
            ));
        }
        if let Some(lib) = &self.library
            && lib.as_os_str().is_empty()
        {
            return Err(invalid(
                "library",
                "empty path",
                "remove the field to use ORT_DYLIB_PATH or discovery",
            ));
        }
        match &self.execution_provider {
            ExecutionProvider::Cpu => Ok(()),
            ExecutionProvider::Cuda(c) => {
                device_id(c.device_id)?;
                if c.memory_limit_bytes == Some(0) {
                    return Err(invalid(
                        "execution_provider.memory_limit_bytes",
                        "0 bytes",
                        "give the arena cap in bytes, or remove the field for no cap",
                    ));
                }
                extra(&c.provider_options, crate::providers::CUDA_TYPED_KEYS)
            }
            ExecutionProvider::TensorRt(t) => {
                device_id(t.device_id)?;
                if t.workspace_bytes == Some(0) {
                    return Err(invalid(
                        "execution_provider.workspace_bytes",
                        "0 bytes",
                        "give the workspace in bytes, or remove the field for the default",
                    ));
                }
                if let Some(level) = t.builder_optimization_level
                    && level > 5
                {
                    return Err(invalid(
                        "execution_provider.builder_optimization_level",
                        format!("{level} is out of range"),
                        "use 0 to 5 (TensorRT's default is 3)",
                    ));
                }
                for (field, path) in [
                    ("engine_cache_path", &t.engine_cache_path),
                    ("timing_cache_path", &t.timing_cache_path),
                ] {
                    if let Some(p) = path {
                        utf8_path(field, p)?;
                    }
                }
                extra(&t.provider_options, crate::providers::TENSORRT_TYPED_KEYS)
            }
        }
    }
}

fn device_id(id: u32) -> Result<(), OrtOptionsError> {
    if i32::try_from(id).is_err() {
        return Err(invalid(
            "execution_provider.device_id",
            format!("{id} is not a CUDA device ordinal"),
            "use the device's index (0 for the first GPU)",
        ));
    }
    Ok(())
}

fn utf8_path(field: &str, p: &std::path::Path) -> Result<(), OrtOptionsError> {
    let field = format!("execution_provider.{field}");
    match p.to_str() {
        None => Err(invalid(field, "not valid UTF-8", "use a UTF-8 path")),
        Some("") => Err(invalid(field, "empty path", "give a directory or remove the field")),
        Some(s) if s.contains('\0') => Err(invalid(field, "contains a NUL byte", "remove it")),
        Some(_) => Ok(()),
    }
}

fn extra(
    options: &BTreeMap<String, String>,
    typed: &[(&str, &str)],
) -> Result<(), OrtOptionsError> {
    for (k, v) in options {
        let field = format!("execution_provider.provider_options.{k}");
        if k.is_empty() || k.contains('\0') || v.contains('\0') {
            return Err(invalid(field, "empty key or a NUL byte", "remove it"));
        }
        if let Some((_, owner)) = typed.iter().find(|(key, _)| key == k) {
            return Err(invalid(
                field,
                "this provider option is set by a typed field",
                &format!("set `execution_provider.{owner}` instead"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err_field(o: &OrtOptions) -> String {
        match o.validate() {
            Err(OrtOptionsError::Invalid { field, .. }) => field,
            Ok(()) => panic!("{o:?} validated"),
        }
    }

    #[test]
    fn defaults_are_cpu_one_thread_no_fallback() {
        let o = OrtOptions::default();
        assert_eq!(o.execution_provider, ExecutionProvider::Cpu);
        assert_eq!(o.intra_op_threads, 1);
        assert!(!o.fallback_to_cpu && o.library.is_none());
        assert_eq!(o.validate(), Ok(()));
        let empty: OrtOptions = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, o);
    }

    #[test]
    fn deserialises_each_provider() {
        let o: OrtOptions = serde_json::from_str(
            r#"{"library": "/x/libonnxruntime.so", "fallback_to_cpu": true, "intra_op_threads": 2,
                "execution_provider": {"kind": "tensorrt", "device_id": 1, "fp16": true,
                  "engine_cache_path": "/cache", "workspace_bytes": 1024, "dla_core": 0,
                  "provider_options": {"trt_min_subgraph_size": "3"}}}"#,
        )
        .unwrap();
        let ExecutionProvider::TensorRt(t) = &o.execution_provider else { panic!("{o:?}") };
        assert_eq!(
            (t.device_id, t.fp16, t.workspace_bytes, t.dla_core),
            (1, true, Some(1024), Some(0))
        );
        assert_eq!(t.engine_cache_path.as_deref(), Some(std::path::Path::new("/cache")));
        assert_eq!(o.execution_provider.name(), "tensorrt");
        assert_eq!(o.validate(), Ok(()));

        let c: ExecutionProvider =
            serde_json::from_str(r#"{"kind": "cuda", "memory_limit_bytes": 4096}"#).unwrap();
        assert_eq!(
            c,
            ExecutionProvider::Cuda(CudaOptions {
                memory_limit_bytes: Some(4096),
                ..Default::default()
            })
        );
        assert_eq!(c.name(), "cuda");
        let cpu: ExecutionProvider = serde_json::from_str(r#"{"kind": "cpu"}"#).unwrap();
        assert_eq!(cpu.name(), "cpu");
        // Round trip.
        let back: OrtOptions = serde_json::from_str(&serde_json::to_string(&o).unwrap()).unwrap();
        assert_eq!(back, o);
    }

    #[test]
    fn the_documented_toml_parses() {
        // The `[models.options]` table of the example in the docs above and in the crate docs.
        let o: OrtOptions = toml::from_str(
            r#"
            library = "/usr/local/lib/libonnxruntime.so"
            intra_op_threads = 1
            fallback_to_cpu = false
            [execution_provider]
            kind = "tensorrt"
            device_id = 0
            fp16 = true
            engine_cache_path = "/var/cache/aegisrt/trt"
            timing_cache_path = "/var/cache/aegisrt/trt"
            workspace_bytes = 1073741824
            dla_core = 0
            "#,
        )
        .unwrap();
        assert_eq!(o.validate(), Ok(()));
        let ExecutionProvider::TensorRt(t) = o.execution_provider else { panic!() };
        assert_eq!((t.fp16, t.workspace_bytes, t.dla_core), (true, Some(1 << 30), Some(0)));
        let cuda: OrtOptions =
            toml::from_str("execution_provider = { kind = \"cuda\", device_id = 1 }").unwrap();
        assert_eq!(
            cuda.execution_provider,
            ExecutionProvider::Cuda(CudaOptions { device_id: 1, ..Default::default() })
        );
    }

    #[test]
    fn unknown_fields_and_kinds_are_refused() {
        let e = serde_json::from_str::<OrtOptions>(r#"{"threads": 1}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `threads`"), "{e}");
        let e = serde_json::from_str::<ExecutionProvider>(r#"{"kind": "cuda", "fp16": true}"#)
            .unwrap_err();
        assert!(e.to_string().contains("unknown field `fp16`"), "{e}");
        let e = serde_json::from_str::<ExecutionProvider>(r#"{"kind": "rocm"}"#).unwrap_err();
        assert!(e.to_string().contains("unknown variant `rocm`"), "{e}");
    }

    #[test]
    fn bad_values_name_their_field() {
        let o = OrtOptions { intra_op_threads: 0, ..Default::default() };
        assert_eq!(err_field(&o), "intra_op_threads");
        let e = o.validate().unwrap_err().to_string();
        assert!(e.starts_with("option `intra_op_threads`: 0 lets"), "{e}");
        let o = OrtOptions { library: Some(PathBuf::new()), ..Default::default() };
        assert_eq!(err_field(&o), "library");

        let cuda = |c: CudaOptions| OrtOptions {
            execution_provider: ExecutionProvider::Cuda(c),
            ..Default::default()
        };
        let o = cuda(CudaOptions { device_id: u32::MAX, ..Default::default() });
        assert_eq!(err_field(&o), "execution_provider.device_id");
        let o = cuda(CudaOptions { memory_limit_bytes: Some(0), ..Default::default() });
        assert_eq!(err_field(&o), "execution_provider.memory_limit_bytes");
        let mut extra = BTreeMap::new();
        extra.insert("gpu_mem_limit".to_owned(), "5".to_owned());
        let o = cuda(CudaOptions { provider_options: extra, ..Default::default() });
        assert_eq!(err_field(&o), "execution_provider.provider_options.gpu_mem_limit");
        assert!(o.validate().unwrap_err().to_string().contains("memory_limit_bytes"));

        let trt = |t: TensorRtOptions| OrtOptions {
            execution_provider: ExecutionProvider::TensorRt(t),
            ..Default::default()
        };
        let o = trt(TensorRtOptions { device_id: 1 << 31, ..Default::default() });
        assert_eq!(err_field(&o), "execution_provider.device_id");
        let o = trt(TensorRtOptions { workspace_bytes: Some(0), ..Default::default() });
        assert_eq!(err_field(&o), "execution_provider.workspace_bytes");
        let o = trt(TensorRtOptions { builder_optimization_level: Some(6), ..Default::default() });
        assert_eq!(err_field(&o), "execution_provider.builder_optimization_level");
        let o = trt(TensorRtOptions {
            engine_cache_path: Some(PathBuf::from("a\0b")),
            ..Default::default()
        });
        assert_eq!(err_field(&o), "execution_provider.engine_cache_path");
        let o =
            trt(TensorRtOptions { timing_cache_path: Some(PathBuf::new()), ..Default::default() });
        assert_eq!(err_field(&o), "execution_provider.timing_cache_path");
        let mut extra = BTreeMap::new();
        extra.insert("trt_fp16_enable".to_owned(), "1".to_owned());
        let o = trt(TensorRtOptions { provider_options: extra, ..Default::default() });
        assert!(o.validate().unwrap_err().to_string().contains("`execution_provider.fp16`"));
        let mut extra = BTreeMap::new();
        extra.insert("trt_x".to_owned(), "a\0".to_owned());
        let o = trt(TensorRtOptions { provider_options: extra, ..Default::default() });
        assert_eq!(err_field(&o), "execution_provider.provider_options.trt_x");
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_cache_path_is_refused() {
        use std::os::unix::ffi::OsStrExt;
        let p = PathBuf::from(std::ffi::OsStr::from_bytes(b"/cache/\xff"));
        let o = OrtOptions {
            execution_provider: ExecutionProvider::TensorRt(TensorRtOptions {
                engine_cache_path: Some(p),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(o.validate().unwrap_err().to_string().contains("not valid UTF-8"));
    }
}
