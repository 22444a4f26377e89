//! Execution-provider registration: from [`ExecutionProvider`] to ONNX Runtime's requests.
//!
//! Owns [`EpRequest`] (the provider name and the exact key/value options handed to ONNX
//! Runtime's `SessionOptionsAppendExecutionProvider_*_V2`, so the mapping is testable without
//! a GPU), the conversion into `ort`'s dispatch objects, and [`EpSelection`] (what was asked
//! for, what runs, and why a fallback happened). It must not create sessions or load the
//! library.

use crate::options::{CudaOptions, ExecutionProvider, TensorRtOptions};
use aegis_trace::{EventKind, ModelId, Timestamp, TraceEvent};
use ort::ep::{self, ArbitrarilyConfigurableExecutionProvider, ExecutionProviderDispatch};

/// ONNX Runtime's name of the CPU provider.
pub const CPU_PROVIDER: &str = "CPUExecutionProvider";
/// ONNX Runtime's name of the CUDA provider.
pub const CUDA_PROVIDER: &str = "CUDAExecutionProvider";
/// ONNX Runtime's name of the TensorRT provider.
pub const TENSORRT_PROVIDER: &str = "TensorrtExecutionProvider";

/// Provider-option keys the typed [`CudaOptions`] fields own: (key, field).
pub(crate) const CUDA_TYPED_KEYS: &[(&str, &str)] = &[
    ("device_id", "device_id"),
    ("gpu_mem_limit", "memory_limit_bytes"),
    ("enable_cuda_graph", "cuda_graph"),
];

/// Provider-option keys the typed [`TensorRtOptions`] fields own: (key, field).
pub(crate) const TENSORRT_TYPED_KEYS: &[(&str, &str)] = &[
    ("device_id", "device_id"),
    ("trt_fp16_enable", "fp16"),
    ("trt_engine_cache_enable", "engine_cache_path"),
    ("trt_engine_cache_path", "engine_cache_path"),
    ("trt_timing_cache_enable", "timing_cache_path"),
    ("trt_timing_cache_path", "timing_cache_path"),
    ("trt_max_workspace_size", "workspace_bytes"),
    ("trt_dla_enable", "dla_core"),
    ("trt_dla_core", "dla_core"),
    ("trt_builder_optimization_level", "builder_optimization_level"),
    ("trt_cuda_graph_enable", "cuda_graph"),
];

/// One execution provider to register on a session, in ONNX Runtime's own terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpRequest {
    /// ONNX Runtime's provider name ([`CUDA_PROVIDER`], [`TENSORRT_PROVIDER`]).
    pub provider: &'static str,
    /// Provider options (ONNX Runtime's keys and string values), in registration order.
    pub options: Vec<(String, String)>,
}

impl ExecutionProvider {
    /// The providers to register, highest priority first. Empty for [`ExecutionProvider::Cpu`]
    /// (ONNX Runtime always appends its CPU provider last). TensorRT is followed by CUDA on the
    /// same device, as ONNX Runtime advises, so nodes TensorRT rejects run on the GPU too.
    pub fn registration_requests(&self) -> Vec<EpRequest> {
        match self {
            ExecutionProvider::Cpu => Vec::new(),
            ExecutionProvider::Cuda(c) => vec![cuda_request(c)],
            ExecutionProvider::TensorRt(t) => vec![
                tensorrt_request(t),
                EpRequest {
                    provider: CUDA_PROVIDER,
                    options: vec![("device_id".into(), t.device_id.to_string())],
                },
            ],
        }
    }
}

fn flag(on: bool) -> String {
    if on { "1" } else { "0" }.to_owned()
}

fn path(p: &std::path::Path) -> String {
    // Validated as UTF-8 by `OrtOptions::validate`.
    p.to_string_lossy().into_owned()
}

fn cuda_request(c: &CudaOptions) -> EpRequest {
    let mut options = vec![("device_id".to_owned(), c.device_id.to_string())];
    if let Some(limit) = c.memory_limit_bytes {
        options.push(("gpu_mem_limit".into(), limit.to_string()));
    }
    if c.cuda_graph {
        options.push(("enable_cuda_graph".into(), flag(true)));
    }
    options.extend(c.provider_options.iter().map(|(k, v)| (k.clone(), v.clone())));
    EpRequest { provider: CUDA_PROVIDER, options }
}

fn tensorrt_request(t: &TensorRtOptions) -> EpRequest {
    let mut options = vec![
        ("device_id".to_owned(), t.device_id.to_string()),
        ("trt_fp16_enable".to_owned(), flag(t.fp16)),
    ];
    if let Some(p) = &t.engine_cache_path {
        options.push(("trt_engine_cache_enable".into(), flag(true)));
        options.push(("trt_engine_cache_path".into(), path(p)));
    }
    if let Some(p) = &t.timing_cache_path {
        options.push(("trt_timing_cache_enable".into(), flag(true)));
        options.push(("trt_timing_cache_path".into(), path(p)));
    }
    if let Some(bytes) = t.workspace_bytes {
        options.push(("trt_max_workspace_size".into(), bytes.to_string()));
    }
    if let Some(core) = t.dla_core {
        options.push(("trt_dla_enable".into(), flag(true)));
        options.push(("trt_dla_core".into(), core.to_string()));
    }
    if let Some(level) = t.builder_optimization_level {
        options.push(("trt_builder_optimization_level".into(), level.to_string()));
    }
    if t.cuda_graph {
        options.push(("trt_cuda_graph_enable".into(), flag(true)));
    }
    options.extend(t.provider_options.iter().map(|(k, v)| (k.clone(), v.clone())));
    EpRequest { provider: TENSORRT_PROVIDER, options }
}

/// `ort`'s dispatch object for `req`, failing registration loudly (never silently skipped).
/// The options must be NUL-free (`OrtOptions::validate` guarantees it).
pub(crate) fn dispatch(req: &EpRequest) -> Option<ExecutionProviderDispatch> {
    fn with<E: ArbitrarilyConfigurableExecutionProvider>(mut e: E, req: &EpRequest) -> E {
        for (k, v) in &req.options {
            e = e.with_arbitrary_config(k, v);
        }
        e
    }
    let d = match req.provider {
        CUDA_PROVIDER => with(ep::CUDA::default(), req).build(),
        TENSORRT_PROVIDER => with(ep::TensorRT::default(), req).build(),
        _ => return None,
    };
    Some(d.error_on_failure())
}

/// Which execution providers a loaded model got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpSelection {
    /// The configured provider (`cpu`, `cuda`, `tensorrt`).
    pub requested: &'static str,
    /// ONNX Runtime providers registered on the session, highest priority first (the CPU
    /// provider, always present last, included).
    pub active: Vec<&'static str>,
    /// Why the requested provider is not running, when `fallback_to_cpu` let the model fall
    /// back to the CPU; `None` when it runs as configured.
    pub fallback: Option<String>,
}

impl EpSelection {
    /// The trace event recording a fallback (kind `ep_fallback`), for the runtime to put in its
    /// trace at load time; `None` when nothing fell back.
    pub fn trace_event(&self, model: ModelId, at: Timestamp) -> Option<TraceEvent> {
        let reason = self.fallback.as_ref()?;
        Some(
            TraceEvent::new(EventKind::Custom("ep_fallback".into()), "aegis-backend-ort", at)
                .model(model)
                .rationale(reason.clone())
                .attr("requested", self.requested)
                .attr("active", self.active.join(",")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn names_match_onnx_runtime() {
        use ort::ep::ExecutionProvider as _;
        assert_eq!(CPU_PROVIDER, <ep::CPU as ort::ep::ExecutionProvider>::NAME);
        assert_eq!(CUDA_PROVIDER, ep::CUDA::NAME);
        assert_eq!(TENSORRT_PROVIDER, ep::TensorRT::NAME);
    }

    #[test]
    fn cpu_registers_nothing() {
        assert!(ExecutionProvider::Cpu.registration_requests().is_empty());
    }

    #[test]
    fn cuda_request_carries_its_options() {
        let mut extra = BTreeMap::new();
        extra.insert("cudnn_conv_algo_search".to_owned(), "HEURISTIC".to_owned());
        let ep = ExecutionProvider::Cuda(CudaOptions {
            device_id: 1,
            memory_limit_bytes: Some(1 << 30),
            cuda_graph: true,
            provider_options: extra,
        });
        assert_eq!(
            ep.registration_requests(),
            [EpRequest {
                provider: CUDA_PROVIDER,
                options: kv(&[
                    ("device_id", "1"),
                    ("gpu_mem_limit", "1073741824"),
                    ("enable_cuda_graph", "1"),
                    ("cudnn_conv_algo_search", "HEURISTIC"),
                ]),
            }]
        );
        let plain = ExecutionProvider::Cuda(CudaOptions::default()).registration_requests();
        assert_eq!(plain[0].options, kv(&[("device_id", "0")]));
    }

    #[test]
    fn tensorrt_request_is_followed_by_cuda_on_the_same_device() {
        let mut extra = BTreeMap::new();
        extra.insert("trt_min_subgraph_size".to_owned(), "5".to_owned());
        let ep = ExecutionProvider::TensorRt(TensorRtOptions {
            device_id: 0,
            fp16: true,
            engine_cache_path: Some(PathBuf::from("/var/cache/aegisrt/trt")),
            timing_cache_path: Some(PathBuf::from("/var/cache/aegisrt/timing")),
            workspace_bytes: Some(1 << 30),
            dla_core: Some(1),
            builder_optimization_level: Some(4),
            cuda_graph: true,
            provider_options: extra,
        });
        assert_eq!(
            ep.registration_requests(),
            [
                EpRequest {
                    provider: TENSORRT_PROVIDER,
                    options: kv(&[
                        ("device_id", "0"),
                        ("trt_fp16_enable", "1"),
                        ("trt_engine_cache_enable", "1"),
                        ("trt_engine_cache_path", "/var/cache/aegisrt/trt"),
                        ("trt_timing_cache_enable", "1"),
                        ("trt_timing_cache_path", "/var/cache/aegisrt/timing"),
                        ("trt_max_workspace_size", "1073741824"),
                        ("trt_dla_enable", "1"),
                        ("trt_dla_core", "1"),
                        ("trt_builder_optimization_level", "4"),
                        ("trt_cuda_graph_enable", "1"),
                        ("trt_min_subgraph_size", "5"),
                    ]),
                },
                EpRequest { provider: CUDA_PROVIDER, options: kv(&[("device_id", "0")]) },
            ]
        );
        let plain =
            ExecutionProvider::TensorRt(TensorRtOptions { device_id: 2, ..Default::default() })
                .registration_requests();
        assert_eq!(plain[0].options, kv(&[("device_id", "2"), ("trt_fp16_enable", "0")]));
        assert_eq!(plain[1].options, kv(&[("device_id", "2")]));
    }

    #[test]
    fn typed_keys_cover_every_key_the_typed_fields_emit() {
        let cuda = ExecutionProvider::Cuda(CudaOptions {
            memory_limit_bytes: Some(1),
            cuda_graph: true,
            ..Default::default()
        });
        for (k, _) in &cuda.registration_requests()[0].options {
            assert!(CUDA_TYPED_KEYS.iter().any(|(t, _)| t == k), "{k}");
        }
        let trt = ExecutionProvider::TensorRt(TensorRtOptions {
            fp16: true,
            engine_cache_path: Some("/a".into()),
            timing_cache_path: Some("/b".into()),
            workspace_bytes: Some(1),
            dla_core: Some(0),
            builder_optimization_level: Some(1),
            cuda_graph: true,
            ..Default::default()
        });
        for (k, _) in &trt.registration_requests()[0].options {
            assert!(TENSORRT_TYPED_KEYS.iter().any(|(t, _)| t == k), "{k}");
        }
    }

    #[test]
    fn dispatch_names_the_provider_and_refuses_unknown_ones() {
        let trt = ExecutionProvider::TensorRt(TensorRtOptions::default()).registration_requests();
        let names: Vec<_> = trt.iter().map(|r| dispatch(r).map(|d| d.name())).collect();
        assert_eq!(names, [Some(TENSORRT_PROVIDER), Some(CUDA_PROVIDER)]);
        let other = EpRequest { provider: CPU_PROVIDER, options: Vec::new() };
        assert!(dispatch(&other).is_none());
    }

    #[test]
    fn fallback_becomes_a_trace_event() {
        let s = EpSelection {
            requested: "cuda",
            active: vec![CPU_PROVIDER],
            fallback: Some("CUDAExecutionProvider is not in this ONNX Runtime".into()),
        };
        let e = s.trace_event(ModelId::new("det"), Timestamp::from_nanos(5)).unwrap();
        assert_eq!(e.kind, EventKind::Custom("ep_fallback".into()));
        assert_eq!(e.attribute("requested"), Some("cuda"));
        assert_eq!(e.attribute("active"), Some(CPU_PROVIDER));
        assert_eq!(e.model, Some(ModelId::new("det")));
        let ok = EpSelection { fallback: None, ..s };
        assert!(ok.trace_event(ModelId::new("det"), Timestamp::ZERO).is_none());
    }
}
