/*
 * aegis_trt_shim.h: the extern "C" surface over TensorRT 10 used by aegis-backend-trt.
 *
 * Owns nothing above TensorRT: no policy, no validation beyond what keeps C++ exceptions and
 * null pointers from crossing into Rust. Every function is noexcept from the caller's view.
 *
 * The shim never links libnvinfer or libcuda. The Rust side dlopens them and hands the shim
 * the few entry points it needs (aegis_trt_install); everything else in TensorRT is reached
 * through the virtual tables of the objects createInferRuntime_INTERNAL returns.
 *
 * Errors: functions return an AEGIS_TRT_* status. Details (ILogger lines, IErrorRecorder
 * entries, failed CUDA driver calls) are kept on the engine handle as messages, read with
 * aegis_trt_message_count/aegis_trt_message_get and dropped with aegis_trt_messages_clear.
 */
#ifndef AEGIS_TRT_SHIM_H
#define AEGIS_TRT_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a signature or struct below changes (checked by the Rust side). */
#define AEGIS_TRT_SHIM_ABI 1
/* Dimensions per tensor (nvinfer1::Dims::MAX_DIMS). */
#define AEGIS_TRT_MAX_DIMS 8

/* Status codes. */
#define AEGIS_TRT_OK 0
/* TensorRT refused or failed; the messages say why. */
#define AEGIS_TRT_FAILED 1
/* A CUDA driver call failed; the last message (origin CUDA) names it and its CUresult. */
#define AEGIS_TRT_CUDA_FAILED 2
/* aegis_trt_install was not called, or lacked the entry point this call needs. */
#define AEGIS_TRT_NOT_INSTALLED 3
/* A null pointer, an index out of range, or a call in the wrong state. */
#define AEGIS_TRT_BAD_ARGUMENT 4
/* A C++ exception was caught at the boundary (e.g. std::bad_alloc). */
#define AEGIS_TRT_EXCEPTION 5

/* Message origins. */
#define AEGIS_TRT_ORIGIN_LOGGER 0
#define AEGIS_TRT_ORIGIN_RECORDER 1
#define AEGIS_TRT_ORIGIN_CUDA 2
#define AEGIS_TRT_ORIGIN_SHIM 3

typedef struct AegisTrtEngine AegisTrtEngine;

/* Entry points resolved by the caller (dlsym). Null members disable what needs them. */
typedef struct AegisTrtSymbols {
    void* create_infer_runtime;    /* libnvinfer: createInferRuntime_INTERNAL */
    void* cu_stream_begin_capture; /* libcuda: cuStreamBeginCapture_v2 */
    void* cu_stream_end_capture;   /* libcuda: cuStreamEndCapture */
    void* cu_graph_instantiate;    /* libcuda: cuGraphInstantiateWithFlags */
    void* cu_graph_launch;         /* libcuda: cuGraphLaunch */
    void* cu_graph_exec_destroy;   /* libcuda: cuGraphExecDestroy */
    void* cu_graph_destroy;        /* libcuda: cuGraphDestroy */
    void* cu_memcpy_htod_async;    /* libcuda: cuMemcpyHtoDAsync_v2 */
    void* cu_stream_query;         /* libcuda: cuStreamQuery */
    void* cu_get_error_name;       /* libcuda: cuGetErrorName */
    void* cu_get_error_string;     /* libcuda: cuGetErrorString */
} AegisTrtSymbols;

/* One I/O tensor of the engine. Raw TensorRT enum values; the Rust side interprets them. */
typedef struct AegisTrtTensorDesc {
    const char* name; /* valid while the engine handle lives */
    int32_t mode;     /* nvinfer1::TensorIOMode: 1 input, 2 output */
    int32_t dtype;    /* nvinfer1::DataType */
    int32_t location; /* nvinfer1::TensorLocation: 0 device, 1 host */
    int32_t format;   /* nvinfer1::TensorFormat: 0 linear */
    int32_t shape_io; /* 1 for a shape tensor (isShapeInferenceIO) */
    int32_t nb_dims;  /* engine shape; -1 marks a dynamic dimension */
    int64_t dims[AEGIS_TRT_MAX_DIMS];
    int32_t has_profile; /* 1 when min/opt/max of optimisation profile 0 are filled */
    int64_t min[AEGIS_TRT_MAX_DIMS];
    int64_t opt[AEGIS_TRT_MAX_DIMS];
    int64_t max[AEGIS_TRT_MAX_DIMS];
} AegisTrtTensorDesc;

/* One collected message. Strings stay valid until aegis_trt_messages_clear or free. */
typedef struct AegisTrtMessage {
    int32_t origin;   /* AEGIS_TRT_ORIGIN_* */
    int32_t code;     /* logger: ILogger::Severity; recorder: ErrorCode; CUDA: CUresult */
    const char* call; /* the call that produced it (static string) */
    const char* name; /* CUDA: the CUresult's name; otherwise "" */
    const char* text; /* the message or the CUDA error description */
} AegisTrtMessage;

/* AEGIS_TRT_SHIM_ABI of the compiled shim. */
int32_t aegis_trt_shim_abi(void);
/* NV_TENSORRT_VERSION of the headers the shim was compiled against:
 * MAJOR*10000 + MINOR*100 + PATCH (100300 for 10.3.0). */
int32_t aegis_trt_header_version(void);
/* Stores the entry points (copied). Call before any engine is created. */
int32_t aegis_trt_install(const AegisTrtSymbols* symbols);

/* A new, empty engine handle (holds messages even when loading fails); null if out of memory. */
AegisTrtEngine* aegis_trt_engine_new(void);
/* Destroys everything the handle holds, in order: graph, context, engine, runtime, recorder. */
void aegis_trt_engine_free(AegisTrtEngine* e);
/* Deserialises a plan and creates its context with user-managed device memory. */
int32_t aegis_trt_engine_load(AegisTrtEngine* e, const void* plan, size_t len);

/* getDeviceMemorySizeV2 (bytes the context needs; -1 before a successful load). */
int64_t aegis_trt_device_memory_size(const AegisTrtEngine* e);
/* Number of I/O tensors. */
int32_t aegis_trt_io_count(const AegisTrtEngine* e);
/* Describes I/O tensor `index`. */
int32_t aegis_trt_io_desc(const AegisTrtEngine* e, int32_t index, AegisTrtTensorDesc* out);

/* setDeviceMemoryV2. */
int32_t aegis_trt_set_device_memory(AegisTrtEngine* e, uint64_t address, int64_t size);
/* setInputShape. */
int32_t aegis_trt_set_input_shape(AegisTrtEngine* e, const char* name, const int64_t* dims,
                                  int32_t nb_dims);
/* The context's current shape of a tensor (outputs resolve once all input shapes are set). */
int32_t aegis_trt_tensor_shape(AegisTrtEngine* e, const char* name, int64_t* dims,
                               int32_t* nb_dims);
/* setTensorAddress. */
int32_t aegis_trt_set_tensor_address(AegisTrtEngine* e, const char* name, uint64_t address);
/* enqueueV3 on `stream` (a CUstream / cudaStream_t). On failure, a CUDA error already pending
 * on the stream is reported as AEGIS_TRT_CUDA_FAILED. */
int32_t aegis_trt_enqueue(AegisTrtEngine* e, void* stream);

/* Captures one enqueueV3 on `stream` into a CUDA graph (thread-local capture mode) and keeps
 * its executable instance, replacing an earlier one. Nothing runs during capture. */
int32_t aegis_trt_graph_capture(AegisTrtEngine* e, void* stream);
/* Launches the captured graph on `stream`. */
int32_t aegis_trt_graph_launch(AegisTrtEngine* e, void* stream);
/* Destroys the captured graph, if any. */
void aegis_trt_graph_reset(AegisTrtEngine* e);

/* cuMemcpyHtoDAsync_v2 of `len` bytes on `stream`; failures are reported on `e`. */
int32_t aegis_trt_memcpy_htod_async(AegisTrtEngine* e, uint64_t dst, const void* src,
                                    size_t len, void* stream);

/* Messages collected so far. */
int32_t aegis_trt_message_count(const AegisTrtEngine* e);
int32_t aegis_trt_message_get(const AegisTrtEngine* e, int32_t index, AegisTrtMessage* out);
void aegis_trt_messages_clear(AegisTrtEngine* e);

#ifdef __cplusplus
}
#endif

#endif /* AEGIS_TRT_SHIM_H */
