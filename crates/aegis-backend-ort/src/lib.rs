//! # aegis-backend-ort — layer 5 of AegisRT: ONNX Runtime behind `RuntimeBackend`
//!
//! Runs ONNX models with [ONNX Runtime](https://onnxruntime.ai) through the `ort` crate, with
//! the library **loaded at run time**: binaries start without ONNX Runtime and say what is
//! missing when a model needs it. It knows nothing about scheduling, budgets or the deployment
//! file's layout (it only defines the [`OrtOptions`] block that file carries).
//!
//! ```no_run
//! use aegis_backend_ort::{OrtBackend, OrtOptions};
//! use aegis_context::{RuntimeBackend, TensorData};
//!
//! let mut model = OrtBackend::load("examples/models/squeezenet1_1.onnx", &OrtOptions::default())?;
//! let n = 3 * 224 * 224;
//! let data = vec![0.0; n];
//! let input = TensorData { name: "input".into(), shape: vec![1, 3, 224, 224], data };
//! model.set_input(&input)?;
//! model.run()?;
//! let scores = &model.outputs()?[0];
//! assert_eq!(scores.shape, [1, 1000]);
//! # Ok::<(), aegis_context::BackendError>(())
//! ```
//!
//! ## Providing ONNX Runtime
//!
//! The library is looked for, in order ([`locate_library`]): the `library` option; the
//! `ORT_DYLIB_PATH` environment variable; the `onnxruntime` package of `python3` (its
//! `capi/libonnxruntime.so*`); `/usr/local/lib`, `/usr/lib/<arch>-linux-gnu`, `/usr/lib`,
//! `/opt/onnxruntime/lib`. ONNX Runtime 1.31 or newer is needed; 1.32.0 is the version verified
//! (`python3 -m pip install onnxruntime==1.32.0`, the CPU build, is what CI installs). When
//! nothing usable is found, loading a model fails with
//! [`BackendError::Unavailable`](aegis_context::BackendError::Unavailable) listing where it
//! looked and these fixes. One process holds one ONNX Runtime: the first successful load wins
//! ([`runtime`]) and a model naming another library is refused with a typed error.
//!
//! ## Execution providers
//!
//! [`ExecutionProvider::Cpu`] (default) works with every build. [`ExecutionProvider::Cuda`] and
//! [`ExecutionProvider::TensorRt`] need a build that has them (`onnxruntime-gpu`, the Jetson
//! builds).
//! When the requested provider is missing or fails to register, loading fails with
//! `Unavailable` — unless `fallback_to_cpu = true`, which runs the model on the CPU, prints a
//! warning and records the reason in [`EpSelection::fallback`] (the runtime turns it into an
//! `ep_fallback` trace event with [`EpSelection::trace_event`]). Nothing falls back silently.
//! Within a GPU session ONNX Runtime still assigns single nodes its GPU providers cannot run
//! to the CPU provider, as it always does.
//!
//! ### TensorRT on a Jetson (the second route to TensorRT)
//!
//! JetPack 6.1/6.2 ship CUDA 12.6, cuDNN 9 and TensorRT 10.3 (6.0 has TensorRT 8.6). JetPack
//! does not install ONNX Runtime itself: take a Jetson build of `onnxruntime-gpu` (Jetson Zoo /
//! Jetson AI Lab wheels; discovery finds it through `python3`), which has the CUDA and
//! TensorRT providers, **version 1.31 or newer** (older wheels are refused with a typed error),
//! or build it on the device:
//!
//! ```text
//! ./build.sh --config Release --build_shared_lib --parallel --skip_tests \
//!     --use_tensorrt --cuda_home /usr/local/cuda \
//!     --cudnn_home /usr/lib/aarch64-linux-gnu --tensorrt_home /usr/lib/aarch64-linux-gnu
//! ```
//!
//! and keep `libonnxruntime.so*` and `libonnxruntime_providers_{shared,cuda,tensorrt}.so`
//! (from `build/Linux/Release`) in one directory — ONNX Runtime loads its providers from the
//! directory of `libonnxruntime.so` — e.g. `/usr/local/lib`, which discovery searches. Then
//! select the provider per model in the deployment file:
//!
//! ```toml
//! [[models]]
//! name = "detector"
//! backend = "ort"
//! model = "models/detector.onnx"
//! # period_ms, deadline_ms, priority, … as for any model
//! [models.options]                            # this crate's `OrtOptions`
//! library = "/usr/local/lib/libonnxruntime.so"   # or ORT_DYLIB_PATH, or discovery
//! [models.options.execution_provider]
//! kind = "tensorrt"
//! device_id = 0
//! fp16 = true                                    # Orin's tensor cores
//! engine_cache_path = "/var/cache/aegisrt/trt"   # build engines once, not at every start
//! timing_cache_path = "/var/cache/aegisrt/trt"
//! workspace_bytes = 1073741824
//! # dla_core = 0                                 # run on a DLA core instead of the GPU
//! ```
//!
//! The TensorRT provider is registered first, then the CUDA provider on the same device for
//! the nodes TensorRT does not take, then (implicitly) the CPU provider. The first load of a
//! model builds its engine (minutes on an Orin); with `engine_cache_path` later starts reuse
//! it — profile WCETs after the cache is warm. [`ExecutionProvider::registration_requests`]
//! shows the exact provider options handed to ONNX Runtime. None of this can run on the
//! development machines (no GPU, CPU-only wheel): there the mapping is unit-tested and the
//! "provider missing" path is tested against the real library.
//!
//! ## Threads and placement
//!
//! `intra_op_threads` defaults to 1 so inference runs on the lane's own thread: the real-time
//! runtime owns the cores (see [`OrtOptions::intra_op_threads`]); inter-op parallelism is off
//! and idle threads never spin. `Run` is synchronous, so this backend reports
//! [`Placement::Cpu`](aegis_context::Placement::Cpu) with every provider.
//!
//! ## Memory
//!
//! [`MemoryRequirements`](aegis_context::MemoryRequirements): `weights_bytes` is the decoded
//! size of every weight tensor in the file (counted by a small protobuf reader: ONNX Runtime
//! does not expose it); `io_bytes` the f32 inputs and outputs (dynamic dimensions counted as
//! 1, so a lower bound for such models); `activation_bytes` 0 with `external_activations`
//! false, because ONNX Runtime allocates activations from its own arena — engine-managed
//! memory outside AegisRT's pool (see the `backend` module docs for how to account it).
#![deny(missing_docs)]

mod backend;
mod library;
mod onnx_weights;
mod options;
mod providers;
mod runtime;

pub use backend::{OrtBackend, TensorSpec};
pub use library::{LibrarySource, LocatedLibrary, MIN_VERSION, locate_library};
pub use options::{CudaOptions, ExecutionProvider, OrtOptions, OrtOptionsError, TensorRtOptions};
pub use providers::{CPU_PROVIDER, CUDA_PROVIDER, EpRequest, EpSelection, TENSORRT_PROVIDER};
pub use runtime::{OrtRuntime, runtime};
