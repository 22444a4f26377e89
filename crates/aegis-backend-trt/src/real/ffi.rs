//! The shim's `extern "C"` surface, mirrored from `shim/aegis_trt_shim.h` (ABI version 1).
//!
//! Owns the declarations and `#[repr(C)]` layouts only; callers document why each call is
//! sound.

use std::ffi::{c_char, c_void};

/// `AEGIS_TRT_SHIM_ABI` this file mirrors.
pub(crate) const ABI: i32 = 1;
pub(crate) const MAX_DIMS: usize = 8;

pub(crate) const OK: i32 = 0;
// 1 (AEGIS_TRT_FAILED): TensorRT failed; any status not listed here is treated as such.
pub(crate) const CUDA_FAILED: i32 = 2;
pub(crate) const NOT_INSTALLED: i32 = 3;
pub(crate) const BAD_ARGUMENT: i32 = 4;
pub(crate) const EXCEPTION: i32 = 5;

/// Opaque engine handle.
#[repr(C)]
pub(crate) struct AegisTrtEngine {
    _private: [u8; 0],
}

#[repr(C)]
pub(crate) struct Symbols {
    pub(crate) create_infer_runtime: *mut c_void,
    pub(crate) cu_stream_begin_capture: *mut c_void,
    pub(crate) cu_stream_end_capture: *mut c_void,
    pub(crate) cu_graph_instantiate: *mut c_void,
    pub(crate) cu_graph_launch: *mut c_void,
    pub(crate) cu_graph_exec_destroy: *mut c_void,
    pub(crate) cu_graph_destroy: *mut c_void,
    pub(crate) cu_memcpy_htod_async: *mut c_void,
    pub(crate) cu_stream_query: *mut c_void,
    pub(crate) cu_get_error_name: *mut c_void,
    pub(crate) cu_get_error_string: *mut c_void,
}

#[repr(C)]
pub(crate) struct TensorDescRaw {
    pub(crate) name: *const c_char,
    pub(crate) mode: i32,
    pub(crate) dtype: i32,
    pub(crate) location: i32,
    pub(crate) format: i32,
    pub(crate) shape_io: i32,
    pub(crate) nb_dims: i32,
    pub(crate) dims: [i64; MAX_DIMS],
    pub(crate) has_profile: i32,
    pub(crate) min: [i64; MAX_DIMS],
    pub(crate) opt: [i64; MAX_DIMS],
    pub(crate) max: [i64; MAX_DIMS],
}

#[repr(C)]
pub(crate) struct MessageRaw {
    pub(crate) origin: i32,
    pub(crate) code: i32,
    pub(crate) call: *const c_char,
    pub(crate) name: *const c_char,
    pub(crate) text: *const c_char,
}

unsafe extern "C" {
    pub(crate) safe fn aegis_trt_shim_abi() -> i32;
    pub(crate) safe fn aegis_trt_header_version() -> i32;
    pub(crate) fn aegis_trt_install(symbols: *const Symbols) -> i32;

    pub(crate) safe fn aegis_trt_engine_new() -> *mut AegisTrtEngine;
    pub(crate) fn aegis_trt_engine_free(e: *mut AegisTrtEngine);
    pub(crate) fn aegis_trt_engine_load(
        e: *mut AegisTrtEngine,
        plan: *const c_void,
        len: usize,
    ) -> i32;

    pub(crate) fn aegis_trt_device_memory_size(e: *const AegisTrtEngine) -> i64;
    pub(crate) fn aegis_trt_io_count(e: *const AegisTrtEngine) -> i32;
    pub(crate) fn aegis_trt_io_desc(
        e: *const AegisTrtEngine,
        index: i32,
        out: *mut TensorDescRaw,
    ) -> i32;

    pub(crate) fn aegis_trt_set_device_memory(
        e: *mut AegisTrtEngine,
        address: u64,
        size: i64,
    ) -> i32;
    pub(crate) fn aegis_trt_set_input_shape(
        e: *mut AegisTrtEngine,
        name: *const c_char,
        dims: *const i64,
        nb_dims: i32,
    ) -> i32;
    pub(crate) fn aegis_trt_tensor_shape(
        e: *mut AegisTrtEngine,
        name: *const c_char,
        dims: *mut i64,
        nb_dims: *mut i32,
    ) -> i32;
    pub(crate) fn aegis_trt_set_tensor_address(
        e: *mut AegisTrtEngine,
        name: *const c_char,
        address: u64,
    ) -> i32;
    pub(crate) fn aegis_trt_enqueue(e: *mut AegisTrtEngine, stream: *mut c_void) -> i32;
    pub(crate) fn aegis_trt_graph_capture(e: *mut AegisTrtEngine, stream: *mut c_void) -> i32;
    pub(crate) fn aegis_trt_graph_launch(e: *mut AegisTrtEngine, stream: *mut c_void) -> i32;
    pub(crate) fn aegis_trt_graph_reset(e: *mut AegisTrtEngine);
    pub(crate) fn aegis_trt_memcpy_htod_async(
        e: *mut AegisTrtEngine,
        dst: u64,
        src: *const c_void,
        len: usize,
        stream: *mut c_void,
    ) -> i32;

    pub(crate) fn aegis_trt_message_count(e: *const AegisTrtEngine) -> i32;
    pub(crate) fn aegis_trt_message_get(
        e: *const AegisTrtEngine,
        index: i32,
        out: *mut MessageRaw,
    ) -> i32;
    pub(crate) fn aegis_trt_messages_clear(e: *mut AegisTrtEngine);
}
