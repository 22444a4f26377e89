//! The real handles: [`RealTrt`] (deserialize through the shim, I/O buffers from
//! `aegis-cuda`), one engine handle per deserialized plan, and device I/O buffers.
//!
//! Owns the translation of shim statuses and messages into [`ShimError`], binding the CUDA
//! context before every call that reaches TensorRT or the driver, and destroying the shim's
//! engine handle exactly once. It must not validate shapes or sizes (the backend does).

use super::ffi::{self, AegisTrtEngine};
use crate::boundary::{EngineHandle, IoBuffer, StreamHandle, TrtApi};
use crate::message::{MessageOrigin, ShimError, TrtMessage};
use crate::tensor::{DataType, ProfileShape, TensorDesc, TensorMode};
use aegis_cuda::{CudaContext, DeviceBuffer};
use std::ffi::{CStr, CString, c_char};
use std::ptr::NonNull;
use std::sync::Arc;

/// TensorRT through the shim, in one CUDA context.
pub(crate) struct RealTrt {
    ctx: Arc<CudaContext>,
    describe: String,
}

impl RealTrt {
    pub(crate) fn new(ctx: Arc<CudaContext>, describe: String) -> Self {
        RealTrt { ctx, describe }
    }
}

fn text(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: the shim's strings are NUL-terminated and valid until the messages are cleared,
    // which happens only after this copy.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// The shim's call names, as the static strings errors carry.
fn static_call(name: &str, fallback: &'static str) -> &'static str {
    const KNOWN: &[&str] = &[
        "enqueueV3",
        "cuStreamBeginCapture",
        "cuStreamEndCapture",
        "cuGraphInstantiateWithFlags",
        "cuGraphLaunch",
        "cuMemcpyHtoDAsync",
    ];
    KNOWN.iter().find(|k| **k == name).copied().unwrap_or(fallback)
}

struct Raw {
    message: TrtMessage,
    name: String,
    description: String,
}

/// Reads and clears the handle's messages.
fn drain(e: NonNull<AegisTrtEngine>) -> Vec<Raw> {
    // SAFETY: `e` is a live handle owned by the caller.
    let n = unsafe { ffi::aegis_trt_message_count(e.as_ptr()) };
    let mut out = Vec::new();
    for i in 0..n {
        let mut m = ffi::MessageRaw {
            origin: 0,
            code: 0,
            call: std::ptr::null(),
            name: std::ptr::null(),
            text: std::ptr::null(),
        };
        // SAFETY: `i` is in range and `m` is a valid out-pointer.
        if unsafe { ffi::aegis_trt_message_get(e.as_ptr(), i, &mut m) } != ffi::OK {
            continue;
        }
        let origin = MessageOrigin::from_raw(m.origin);
        let (name, description) = (text(m.name), text(m.text));
        let shown = if origin == MessageOrigin::Cuda {
            format!("{name}: {description}")
        } else {
            description.clone()
        };
        out.push(Raw {
            message: TrtMessage::new(origin, m.code, &text(m.call), &shown),
            name,
            description,
        });
    }
    // SAFETY: `e` is live; the strings read above were copied.
    unsafe { ffi::aegis_trt_messages_clear(e.as_ptr()) };
    out
}

/// The error for a failed shim call `status`.
fn failure(e: NonNull<AegisTrtEngine>, status: i32, call: &'static str) -> ShimError {
    let raw = drain(e);
    match status {
        ffi::CUDA_FAILED => {
            let cuda = raw.iter().rev().find(|r| r.message.origin == MessageOrigin::Cuda);
            let (c, code, name, description) = match cuda {
                Some(r) => (
                    static_call(&r.message.call, call),
                    r.message.code,
                    r.name.clone(),
                    r.description.clone(),
                ),
                None => (call, 999, "CUDA_ERROR_UNKNOWN".into(), "no details".into()),
            };
            let messages = raw
                .into_iter()
                .filter(|r| r.message.origin != MessageOrigin::Cuda)
                .map(|r| r.message)
                .collect();
            ShimError::Cuda { call: c, code, name, description, messages }
        }
        ffi::BAD_ARGUMENT => ShimError::InvalidArgument {
            call,
            problem: "the shim refused the arguments (unknown tensor, too many dimensions, or a \
                      call in the wrong state)"
                .into(),
        },
        ffi::NOT_INSTALLED => ShimError::NotInstalled {
            call,
            what: "the CUDA driver lacks the CUDA-graph entry points (cuStreamBeginCapture_v2, \
                   cuGraphInstantiateWithFlags, …); update the driver or turn \
                   TrtOptions::cuda_graph off"
                .into(),
        },
        ffi::EXCEPTION => ShimError::Exception { call },
        _ => ShimError::TensorRt { call, messages: raw.into_iter().map(|r| r.message).collect() },
    }
}

fn cname(call: &'static str, name: &str) -> Result<CString, ShimError> {
    CString::new(name).map_err(|_| ShimError::InvalidArgument {
        call,
        problem: format!("tensor name {name:?} contains a NUL byte"),
    })
}

fn dims(raw: &[i64; ffi::MAX_DIMS], n: i32) -> Vec<i64> {
    raw[..usize::try_from(n).unwrap_or(0).min(ffi::MAX_DIMS)].to_vec()
}

impl TrtApi for RealTrt {
    fn deserialize(&self, plan: &[u8]) -> Result<Box<dyn EngineHandle>, ShimError> {
        self.ctx.bind()?;
        let raw = NonNull::new(ffi::aegis_trt_engine_new())
            .ok_or(ShimError::Exception { call: "aegis_trt_engine_new" })?;
        let engine = RealEngine { raw, ctx: self.ctx.clone(), tensors: Vec::new() };
        // SAFETY: `raw` is a fresh handle; `plan` is valid for `plan.len()` bytes for the call.
        let st =
            unsafe { ffi::aegis_trt_engine_load(raw.as_ptr(), plan.as_ptr().cast(), plan.len()) };
        if st != ffi::OK {
            return Err(failure(raw, st, "deserializeCudaEngine"));
        }
        let mut engine = engine;
        engine.tensors = engine.read_tensors()?;
        Ok(Box::new(engine))
    }

    fn allocate_io(&self, bytes: u64) -> Result<Box<dyn IoBuffer>, ShimError> {
        Ok(Box::new(RealBuffer(DeviceBuffer::new(&self.ctx, bytes)?)))
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }
}

struct RealEngine {
    raw: NonNull<AegisTrtEngine>,
    ctx: Arc<CudaContext>,
    tensors: Vec<TensorDesc>,
}

// SAFETY: the shim's handle may be used from any thread as long as calls are not concurrent;
// `&mut self` on every TensorRT call (and the backend's lock above) guarantees that, and the
// CUDA context is bound on the calling thread before each call.
unsafe impl Send for RealEngine {}

impl RealEngine {
    fn check(&self, st: i32, call: &'static str) -> Result<(), ShimError> {
        if st == ffi::OK { Ok(()) } else { Err(failure(self.raw, st, call)) }
    }

    fn read_tensors(&self) -> Result<Vec<TensorDesc>, ShimError> {
        // SAFETY: `raw` is live.
        let n = unsafe { ffi::aegis_trt_io_count(self.raw.as_ptr()) };
        let mut out = Vec::new();
        for i in 0..n {
            let mut d = ffi::TensorDescRaw {
                name: std::ptr::null(),
                mode: 0,
                dtype: 0,
                location: 0,
                format: 0,
                shape_io: 0,
                nb_dims: 0,
                dims: [0; ffi::MAX_DIMS],
                has_profile: 0,
                min: [0; ffi::MAX_DIMS],
                opt: [0; ffi::MAX_DIMS],
                max: [0; ffi::MAX_DIMS],
            };
            // SAFETY: `i` is in range and `d` is a valid out-pointer.
            self.check(unsafe { ffi::aegis_trt_io_desc(self.raw.as_ptr(), i, &mut d) }, "io_desc")?;
            let mode = if d.mode == 1 { TensorMode::Input } else { TensorMode::Output };
            let profile = (d.has_profile == 1).then(|| ProfileShape {
                min: dims(&d.min, d.nb_dims),
                opt: dims(&d.opt, d.nb_dims),
                max: dims(&d.max, d.nb_dims),
            });
            out.push(TensorDesc {
                name: text(d.name),
                mode,
                dtype: DataType::from_raw(d.dtype),
                shape: dims(&d.dims, d.nb_dims),
                on_device: d.location == 0,
                linear: d.format == 0,
                shape_tensor: d.shape_io == 1,
                profile,
            });
        }
        Ok(out)
    }
}

impl EngineHandle for RealEngine {
    fn io_tensors(&self) -> Vec<TensorDesc> {
        self.tensors.clone()
    }

    fn device_memory_size(&self) -> u64 {
        // SAFETY: `raw` is live.
        u64::try_from(unsafe { ffi::aegis_trt_device_memory_size(self.raw.as_ptr()) }).unwrap_or(0)
    }

    fn set_device_memory(&mut self, address: u64, bytes: u64) -> Result<(), ShimError> {
        self.ctx.bind()?;
        let size = i64::try_from(bytes).unwrap_or(i64::MAX);
        // SAFETY: `raw` is live; the region is the runtime's and outlives its binding.
        self.check(
            unsafe { ffi::aegis_trt_set_device_memory(self.raw.as_ptr(), address, size) },
            "setDeviceMemoryV2",
        )
    }

    fn set_input_shape(&mut self, name: &str, d: &[i64]) -> Result<(), ShimError> {
        let c = cname("setInputShape", name)?;
        let n = i32::try_from(d.len()).unwrap_or(i32::MAX);
        self.ctx.bind()?;
        // SAFETY: `raw` is live, `c` is NUL-terminated, `d` holds `n` values.
        self.check(
            unsafe { ffi::aegis_trt_set_input_shape(self.raw.as_ptr(), c.as_ptr(), d.as_ptr(), n) },
            "setInputShape",
        )
    }

    fn tensor_shape(&mut self, name: &str) -> Result<Vec<i64>, ShimError> {
        let c = cname("getTensorShape", name)?;
        let mut out = [0i64; ffi::MAX_DIMS];
        let mut n = 0i32;
        self.ctx.bind()?;
        // SAFETY: `raw` is live; `out` has MAX_DIMS slots, `n` is a valid out-pointer.
        let st = unsafe {
            ffi::aegis_trt_tensor_shape(self.raw.as_ptr(), c.as_ptr(), out.as_mut_ptr(), &mut n)
        };
        self.check(st, "getTensorShape")?;
        Ok(dims(&out, n))
    }

    fn set_tensor_address(&mut self, name: &str, address: u64) -> Result<(), ShimError> {
        let c = cname("setTensorAddress", name)?;
        self.ctx.bind()?;
        // SAFETY: `raw` is live, `c` is NUL-terminated; the buffer outlives the context (drop
        // order of the backend).
        self.check(
            unsafe { ffi::aegis_trt_set_tensor_address(self.raw.as_ptr(), c.as_ptr(), address) },
            "setTensorAddress",
        )
    }

    fn upload(&mut self, dst: u64, src: &[u8], stream: StreamHandle) -> Result<(), ShimError> {
        self.ctx.bind()?;
        // SAFETY: `raw` is live; `src` is valid for `src.len()` bytes during the call (the
        // driver stages pageable memory before returning); `stream` is the caller's live
        // stream of this context.
        let st = unsafe {
            ffi::aegis_trt_memcpy_htod_async(
                self.raw.as_ptr(),
                dst,
                src.as_ptr().cast(),
                src.len(),
                stream.as_ptr(),
            )
        };
        self.check(st, "cuMemcpyHtoDAsync")
    }

    fn enqueue(&mut self, stream: StreamHandle) -> Result<(), ShimError> {
        self.ctx.bind()?;
        // SAFETY: `raw` is live; `stream` is the caller's live stream of this context.
        self.check(
            unsafe { ffi::aegis_trt_enqueue(self.raw.as_ptr(), stream.as_ptr()) },
            "enqueueV3",
        )
    }

    fn capture_graph(&mut self, stream: StreamHandle) -> Result<(), ShimError> {
        self.ctx.bind()?;
        // SAFETY: as `enqueue`.
        self.check(
            unsafe { ffi::aegis_trt_graph_capture(self.raw.as_ptr(), stream.as_ptr()) },
            "cudaGraphCapture",
        )
    }

    fn launch_graph(&mut self, stream: StreamHandle) -> Result<(), ShimError> {
        self.ctx.bind()?;
        // SAFETY: as `enqueue`.
        self.check(
            unsafe { ffi::aegis_trt_graph_launch(self.raw.as_ptr(), stream.as_ptr()) },
            "cuGraphLaunch",
        )
    }

    fn reset_graph(&mut self) {
        if self.ctx.bind().is_ok() {
            // SAFETY: `raw` is live.
            unsafe { ffi::aegis_trt_graph_reset(self.raw.as_ptr()) };
        }
    }

    fn take_messages(&mut self) -> Vec<TrtMessage> {
        drain(self.raw).into_iter().map(|r| r.message).collect()
    }
}

impl Drop for RealEngine {
    fn drop(&mut self) {
        // TensorRT frees device resources in its destructors: bind the context first (a
        // failure leaves the current context as it is; freeing is still right).
        let _ = self.ctx.bind();
        // SAFETY: `raw` came from aegis_trt_engine_new and is freed exactly once, here.
        unsafe { ffi::aegis_trt_engine_free(self.raw.as_ptr()) };
    }
}

struct RealBuffer(DeviceBuffer);

impl IoBuffer for RealBuffer {
    fn address(&self) -> u64 {
        self.0.address()
    }

    fn len(&self) -> u64 {
        self.0.len()
    }

    fn download(&self, dst: &mut [u8]) -> Result<(), ShimError> {
        Ok(self.0.copy_to_host(dst)?)
    }
}
