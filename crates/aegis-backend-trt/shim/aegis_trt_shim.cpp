// aegis_trt_shim.cpp: the C++ side of aegis-backend-trt (see aegis_trt_shim.h).
//
// Owns the TensorRT objects of one engine (runtime, engine, execution context with
// user-managed device memory, an optional CUDA graph of its enqueue) and the collection of
// TensorRT's logger and error-recorder messages. It must not decide anything: sizes, shapes
// and addresses are validated on the Rust side, which also owns the memory handed in here.
//
// Nothing here links libnvinfer or libcuda: createInferRuntime_INTERNAL and the CUDA driver
// calls come as function pointers from aegis_trt_install. No C++ exception leaves this file.

#include "aegis_trt_shim.h"

#include <NvInferRuntime.h>
#include <NvInferVersion.h>
#include <cuda.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <vector>

static_assert(nvinfer1::Dims::MAX_DIMS == AEGIS_TRT_MAX_DIMS, "AEGIS_TRT_MAX_DIMS must match");
static_assert(NV_TENSORRT_MAJOR > 10 || (NV_TENSORRT_MAJOR == 10 && NV_TENSORRT_MINOR >= 1),
              "aegis_trt_shim needs TensorRT >= 10.1 (getDeviceMemorySizeV2/setDeviceMemoryV2)");

namespace {

// --- entry points handed in by the Rust side ----------------------------------------------

using CreateRuntimeFn = void* (*)(void* logger, int32_t version);
using BeginCaptureFn = CUresult (*)(CUstream, CUstreamCaptureMode);
using EndCaptureFn = CUresult (*)(CUstream, CUgraph*);
using InstantiateFn = CUresult (*)(CUgraphExec*, CUgraph, unsigned long long);
using GraphLaunchFn = CUresult (*)(CUgraphExec, CUstream);
using GraphExecDestroyFn = CUresult (*)(CUgraphExec);
using GraphDestroyFn = CUresult (*)(CUgraph);
using MemcpyHtoDAsyncFn = CUresult (*)(CUdeviceptr, const void*, size_t, CUstream);
using StreamQueryFn = CUresult (*)(CUstream);
using GetErrorFn = CUresult (*)(CUresult, const char**);

struct Symbols {
    CreateRuntimeFn create_runtime = nullptr;
    BeginCaptureFn begin_capture = nullptr;
    EndCaptureFn end_capture = nullptr;
    InstantiateFn instantiate = nullptr;
    GraphLaunchFn graph_launch = nullptr;
    GraphExecDestroyFn graph_exec_destroy = nullptr;
    GraphDestroyFn graph_destroy = nullptr;
    MemcpyHtoDAsyncFn memcpy_htod_async = nullptr;
    StreamQueryFn stream_query = nullptr;
    GetErrorFn error_name = nullptr;
    GetErrorFn error_string = nullptr;
};

Symbols g_symbols;
std::atomic<bool> g_installed{false};

template <typename F>
F as_fn(void* p) {
    F f = nullptr;
    static_assert(sizeof(F) == sizeof(void*), "function pointers must be pointer-sized");
    std::memcpy(&f, &p, sizeof(f));
    return f;
}

bool graphs_available() {
    const Symbols& s = g_symbols;
    return s.begin_capture && s.end_capture && s.instantiate && s.graph_launch &&
           s.graph_exec_destroy && s.graph_destroy;
}

// --- messages ------------------------------------------------------------------------------

struct Message {
    int32_t origin;
    int32_t code;
    const char* call;
    std::string name;
    std::string text;
};

// The sink of the shim call running on this thread (null outside calls): TensorRT logs on the
// calling thread during deserialisation and enqueue, so lines land on the right engine.
thread_local std::vector<Message>* t_sink = nullptr;
thread_local const char* t_call = "";

class Logger final : public nvinfer1::ILogger {
public:
    void log(Severity severity, nvinfer1::AsciiChar const* msg) noexcept override {
        if (severity > Severity::kWARNING || t_sink == nullptr) {
            return;
        }
        try {
            t_sink->push_back(Message{AEGIS_TRT_ORIGIN_LOGGER, static_cast<int32_t>(severity),
                                      t_call, std::string(), msg ? std::string(msg) : std::string()});
        } catch (...) {
            // Out of memory while logging: the line is lost, the call goes on.
        }
    }
};

// One logger for the process: TensorRT keeps the first logger it is given.
Logger g_logger;

class Recorder final : public nvinfer1::IErrorRecorder {
public:
    static constexpr int32_t kCapacity = 64;

    int32_t getNbErrors() const noexcept override {
        std::lock_guard<std::mutex> lock(mMutex);
        return static_cast<int32_t>(mErrors.size());
    }
    nvinfer1::ErrorCode getErrorCode(int32_t errorIdx) const noexcept override {
        std::lock_guard<std::mutex> lock(mMutex);
        if (errorIdx < 0 || static_cast<size_t>(errorIdx) >= mErrors.size()) {
            return nvinfer1::ErrorCode::kINVALID_ARGUMENT;
        }
        return mErrors[static_cast<size_t>(errorIdx)].first;
    }
    ErrorDesc getErrorDesc(int32_t errorIdx) const noexcept override {
        std::lock_guard<std::mutex> lock(mMutex);
        if (errorIdx < 0 || static_cast<size_t>(errorIdx) >= mErrors.size()) {
            return "error index out of range";
        }
        return mErrors[static_cast<size_t>(errorIdx)].second.c_str();
    }
    bool hasOverflowed() const noexcept override {
        std::lock_guard<std::mutex> lock(mMutex);
        return mOverflowed;
    }
    void clear() noexcept override {
        std::lock_guard<std::mutex> lock(mMutex);
        mErrors.clear();
        mOverflowed = false;
    }
    bool reportError(nvinfer1::ErrorCode val, ErrorDesc desc) noexcept override {
        std::lock_guard<std::mutex> lock(mMutex);
        if (mErrors.size() >= static_cast<size_t>(kCapacity)) {
            mOverflowed = true;
            return false;
        }
        try {
            mErrors.emplace_back(val, desc ? std::string(desc) : std::string());
        } catch (...) {
            mOverflowed = true;
        }
        // false: TensorRT goes on and reports the failure through the call's result.
        return false;
    }
    RefCount incRefCount() noexcept override { return ++mRefs; }
    RefCount decRefCount() noexcept override { return --mRefs; }

    // Moves the recorded errors into `out` (origin RECORDER) and clears.
    void drain(std::vector<Message>& out, const char* call) noexcept {
        std::lock_guard<std::mutex> lock(mMutex);
        try {
            for (auto& err : mErrors) {
                out.push_back(Message{AEGIS_TRT_ORIGIN_RECORDER, static_cast<int32_t>(err.first),
                                      call, std::string(), std::move(err.second)});
            }
            if (mOverflowed) {
                out.push_back(Message{AEGIS_TRT_ORIGIN_SHIM, 0, call, std::string(),
                                      "error recorder overflowed; later errors were dropped"});
            }
        } catch (...) {
        }
        mErrors.clear();
        mOverflowed = false;
    }

private:
    mutable std::mutex mMutex;
    std::vector<std::pair<nvinfer1::ErrorCode, std::string>> mErrors;
    bool mOverflowed = false;
    std::atomic<RefCount> mRefs{0};
};

struct TensorInfo {
    std::string name;
    AegisTrtTensorDesc desc;
};

}  // namespace

// Field order is destruction order in reverse; aegis_trt_engine_free also destroys the
// TensorRT objects explicitly, newest first, before the recorder they report to.
struct AegisTrtEngine {
    Recorder recorder;
    std::vector<Message> messages;
    std::vector<TensorInfo> tensors;
    nvinfer1::IRuntime* runtime = nullptr;
    nvinfer1::ICudaEngine* engine = nullptr;
    nvinfer1::IExecutionContext* context = nullptr;
    CUgraphExec graph = nullptr;
    int64_t device_memory = -1;
};

namespace {

// Routes logger lines of this thread to `e` for the duration of one call and, at the end,
// moves the error recorder's entries after them.
class CallScope {
public:
    CallScope(AegisTrtEngine* e, const char* call) : mEngine(e), mCall(call) {
        mPrevSink = t_sink;
        mPrevCall = t_call;
        t_sink = &e->messages;
        t_call = call;
    }
    ~CallScope() {
        mEngine->recorder.drain(mEngine->messages, mCall);
        t_sink = mPrevSink;
        t_call = mPrevCall;
    }
    CallScope(const CallScope&) = delete;
    CallScope& operator=(const CallScope&) = delete;

private:
    AegisTrtEngine* mEngine;
    const char* mCall;
    std::vector<Message>* mPrevSink;
    const char* mPrevCall;
};

void push(AegisTrtEngine* e, int32_t origin, int32_t code, const char* call, std::string name,
          std::string text) noexcept {
    try {
        e->messages.push_back(Message{origin, code, call, std::move(name), std::move(text)});
    } catch (...) {
    }
}

int32_t shim_fail(AegisTrtEngine* e, const char* call, const char* what) noexcept {
    push(e, AEGIS_TRT_ORIGIN_SHIM, 0, call, std::string(), what);
    return AEGIS_TRT_FAILED;
}

int32_t cuda_fail(AegisTrtEngine* e, const char* call, CUresult r) noexcept {
    const char* name = nullptr;
    const char* text = nullptr;
    if (g_symbols.error_name == nullptr || g_symbols.error_name(r, &name) != CUDA_SUCCESS) {
        name = nullptr;
    }
    if (g_symbols.error_string == nullptr || g_symbols.error_string(r, &text) != CUDA_SUCCESS) {
        text = nullptr;
    }
    push(e, AEGIS_TRT_ORIGIN_CUDA, static_cast<int32_t>(r), call,
         name ? std::string(name) : std::string("CUresult ") + std::to_string(static_cast<int>(r)),
         text ? std::string(text) : std::string("unknown CUDA error"));
    return AEGIS_TRT_CUDA_FAILED;
}

bool to_dims(const int64_t* dims, int32_t nb, nvinfer1::Dims& out) {
    if (nb < 0 || nb > nvinfer1::Dims::MAX_DIMS || (nb > 0 && dims == nullptr)) {
        return false;
    }
    out.nbDims = nb;
    for (int32_t i = 0; i < nb; ++i) {
        out.d[i] = dims[i];
    }
    return true;
}

void copy_dims(const nvinfer1::Dims& d, int64_t* out) {
    int32_t nb = d.nbDims < 0 ? 0 : d.nbDims;
    for (int32_t i = 0; i < nb && i < nvinfer1::Dims::MAX_DIMS; ++i) {
        out[i] = d.d[i];
    }
}

void destroy_graph(AegisTrtEngine* e) noexcept {
    if (e->graph != nullptr && g_symbols.graph_exec_destroy != nullptr) {
        g_symbols.graph_exec_destroy(e->graph);
    }
    e->graph = nullptr;
}

int32_t describe(AegisTrtEngine* e) {
    nvinfer1::ICudaEngine* eng = e->engine;
    int32_t n = eng->getNbIOTensors();
    bool profiles = eng->getNbOptimizationProfiles() > 0;
    e->tensors.clear();
    e->tensors.reserve(n < 0 ? 0 : static_cast<size_t>(n));
    for (int32_t i = 0; i < n; ++i) {
        const char* name = eng->getIOTensorName(i);
        if (name == nullptr) {
            return shim_fail(e, "getIOTensorName", "TensorRT returned no name for an I/O tensor");
        }
        TensorInfo t;
        t.name = name;
        std::memset(&t.desc, 0, sizeof(t.desc));
        t.desc.mode = static_cast<int32_t>(eng->getTensorIOMode(name));
        t.desc.dtype = static_cast<int32_t>(eng->getTensorDataType(name));
        t.desc.location = static_cast<int32_t>(eng->getTensorLocation(name));
        t.desc.format = static_cast<int32_t>(eng->getTensorFormat(name));
        t.desc.shape_io = eng->isShapeInferenceIO(name) ? 1 : 0;
        nvinfer1::Dims d = eng->getTensorShape(name);
        t.desc.nb_dims = d.nbDims;
        copy_dims(d, t.desc.dims);
        bool dynamic = false;
        for (int32_t k = 0; k < d.nbDims && k < nvinfer1::Dims::MAX_DIMS; ++k) {
            dynamic = dynamic || d.d[k] < 0;
        }
        if (dynamic && profiles && t.desc.mode == static_cast<int32_t>(nvinfer1::TensorIOMode::kINPUT) &&
            t.desc.shape_io == 0) {
            using S = nvinfer1::OptProfileSelector;
            copy_dims(eng->getProfileShape(name, 0, S::kMIN), t.desc.min);
            copy_dims(eng->getProfileShape(name, 0, S::kOPT), t.desc.opt);
            copy_dims(eng->getProfileShape(name, 0, S::kMAX), t.desc.max);
            t.desc.has_profile = 1;
        }
        e->tensors.push_back(std::move(t));
    }
    for (auto& t : e->tensors) {
        t.desc.name = t.name.c_str();
    }
    return AEGIS_TRT_OK;
}

}  // namespace

extern "C" {

int32_t aegis_trt_shim_abi(void) { return AEGIS_TRT_SHIM_ABI; }

int32_t aegis_trt_header_version(void) { return static_cast<int32_t>(NV_TENSORRT_VERSION); }

int32_t aegis_trt_install(const AegisTrtSymbols* s) {
    if (s == nullptr || s->create_infer_runtime == nullptr) {
        return AEGIS_TRT_BAD_ARGUMENT;
    }
    Symbols n;
    n.create_runtime = as_fn<CreateRuntimeFn>(s->create_infer_runtime);
    n.begin_capture = as_fn<BeginCaptureFn>(s->cu_stream_begin_capture);
    n.end_capture = as_fn<EndCaptureFn>(s->cu_stream_end_capture);
    n.instantiate = as_fn<InstantiateFn>(s->cu_graph_instantiate);
    n.graph_launch = as_fn<GraphLaunchFn>(s->cu_graph_launch);
    n.graph_exec_destroy = as_fn<GraphExecDestroyFn>(s->cu_graph_exec_destroy);
    n.graph_destroy = as_fn<GraphDestroyFn>(s->cu_graph_destroy);
    n.memcpy_htod_async = as_fn<MemcpyHtoDAsyncFn>(s->cu_memcpy_htod_async);
    n.stream_query = as_fn<StreamQueryFn>(s->cu_stream_query);
    n.error_name = as_fn<GetErrorFn>(s->cu_get_error_name);
    n.error_string = as_fn<GetErrorFn>(s->cu_get_error_string);
    g_symbols = n;
    g_installed.store(true, std::memory_order_release);
    return AEGIS_TRT_OK;
}

AegisTrtEngine* aegis_trt_engine_new(void) { return new (std::nothrow) AegisTrtEngine(); }

void aegis_trt_engine_free(AegisTrtEngine* e) {
    if (e == nullptr) {
        return;
    }
    try {
        CallScope scope(e, "aegis_trt_engine_free");
        destroy_graph(e);
        delete e->context;
        e->context = nullptr;
        delete e->engine;
        e->engine = nullptr;
        delete e->runtime;
        e->runtime = nullptr;
    } catch (...) {
    }
    delete e;
}

int32_t aegis_trt_engine_load(AegisTrtEngine* e, const void* plan, size_t len) {
    if (e == nullptr || plan == nullptr || len == 0 || e->runtime != nullptr) {
        return AEGIS_TRT_BAD_ARGUMENT;
    }
    if (!g_installed.load(std::memory_order_acquire)) {
        return AEGIS_TRT_NOT_INSTALLED;
    }
    try {
        CallScope scope(e, "deserializeCudaEngine");
        e->runtime = static_cast<nvinfer1::IRuntime*>(
            g_symbols.create_runtime(&g_logger, NV_TENSORRT_VERSION));
        if (e->runtime == nullptr) {
            return shim_fail(e, "createInferRuntime",
                             "createInferRuntime_INTERNAL returned null (library and header "
                             "versions incompatible?)");
        }
        e->runtime->setErrorRecorder(&e->recorder);
        e->engine = e->runtime->deserializeCudaEngine(plan, len);
        if (e->engine == nullptr) {
            return shim_fail(e, "deserializeCudaEngine",
                             "the plan could not be deserialised (built by another TensorRT "
                             "version or for another GPU?)");
        }
        e->context = e->engine->createExecutionContext(
            nvinfer1::ExecutionContextAllocationStrategy::kUSER_MANAGED);
        if (e->context == nullptr) {
            return shim_fail(e, "createExecutionContext", "no execution context was created");
        }
        e->device_memory = e->engine->getDeviceMemorySizeV2();
        return describe(e);
    } catch (const std::bad_alloc&) {
        return AEGIS_TRT_EXCEPTION;
    } catch (...) {
        return AEGIS_TRT_EXCEPTION;
    }
}

int64_t aegis_trt_device_memory_size(const AegisTrtEngine* e) {
    return e == nullptr ? -1 : e->device_memory;
}

int32_t aegis_trt_io_count(const AegisTrtEngine* e) {
    return e == nullptr ? 0 : static_cast<int32_t>(e->tensors.size());
}

int32_t aegis_trt_io_desc(const AegisTrtEngine* e, int32_t index, AegisTrtTensorDesc* out) {
    if (e == nullptr || out == nullptr || index < 0 ||
        static_cast<size_t>(index) >= e->tensors.size()) {
        return AEGIS_TRT_BAD_ARGUMENT;
    }
    *out = e->tensors[static_cast<size_t>(index)].desc;
    return AEGIS_TRT_OK;
}

int32_t aegis_trt_set_device_memory(AegisTrtEngine* e, uint64_t address, int64_t size) {
    if (e == nullptr || e->context == nullptr || size < 0) {
        return AEGIS_TRT_BAD_ARGUMENT;
    }
    try {
        CallScope scope(e, "setDeviceMemoryV2");
        size_t before = e->messages.size();
        e->context->setDeviceMemoryV2(reinterpret_cast<void*>(static_cast<uintptr_t>(address)), size);
        e->recorder.drain(e->messages, "setDeviceMemoryV2");
        for (size_t i = before; i < e->messages.size(); ++i) {
            const Message& m = e->messages[i];
            bool logged_error = m.origin == AEGIS_TRT_ORIGIN_LOGGER &&
                                m.code <= static_cast<int32_t>(nvinfer1::ILogger::Severity::kERROR);
            if (m.origin == AEGIS_TRT_ORIGIN_RECORDER || logged_error) {
                return AEGIS_TRT_FAILED;
            }
        }
        return AEGIS_TRT_OK;
    } catch (...) {
        return AEGIS_TRT_EXCEPTION;
    }
}

int32_t aegis_trt_set_input_shape(AegisTrtEngine* e, const char* name, const int64_t* dims,
                                  int32_t nb_dims) {
    nvinfer1::Dims d{};
    if (e == nullptr || e->context == nullptr || name == nullptr || !to_dims(dims, nb_dims, d)) {
        return AEGIS_TRT_BAD_ARGUMENT;
    }
    try {
        CallScope scope(e, "setInputShape");
        return e->context->setInputShape(name, d) ? AEGIS_TRT_OK : AEGIS_TRT_FAILED;
    } catch (...) {
        return AEGIS_TRT_EXCEPTION;
    }
}

int32_t aegis_trt_tensor_shape(AegisTrtEngine* e, const char* name, int64_t* dims,
                               int32_t* nb_dims) {
    if (e == nullptr || e->context == nullptr || name == nullptr || dims == nullptr ||
        nb_dims == nullptr) {
        return AEGIS_TRT_BAD_ARGUMENT;
    }
    try {
        CallScope scope(e, "getTensorShape");
        nvinfer1::Dims d = e->context->getTensorShape(name);
        if (d.nbDims < 0) {
            return shim_fail(e, "getTensorShape", "TensorRT knows no such tensor, or its shape "
                                                  "cannot be computed yet");
        }
        *nb_dims = d.nbDims;
        copy_dims(d, dims);
        return AEGIS_TRT_OK;
    } catch (...) {
        return AEGIS_TRT_EXCEPTION;
    }
}

int32_t aegis_trt_set_tensor_address(AegisTrtEngine* e, const char* name, uint64_t address) {
    if (e == nullptr || e->context == nullptr || name == nullptr) {
        return AEGIS_TRT_BAD_ARGUMENT;
    }
    try {
        CallScope scope(e, "setTensorAddress");
        void* p = reinterpret_cast<void*>(static_cast<uintptr_t>(address));
        return e->context->setTensorAddress(name, p) ? AEGIS_TRT_OK : AEGIS_TRT_FAILED;
    } catch (...) {
        return AEGIS_TRT_EXCEPTION;
    }
}

int32_t aegis_trt_enqueue(AegisTrtEngine* e, void* stream) {
    if (e == nullptr || e->context == nullptr) {
        return AEGIS_TRT_BAD_ARGUMENT;
    }
    try {
        CallScope scope(e, "enqueueV3");
        if (e->context->enqueueV3(static_cast<cudaStream_t>(stream))) {
            return AEGIS_TRT_OK;
        }
        // A CUDA error behind the failure (e.g. a sticky fault of earlier work) decides how
        // the runtime recovers: report it as such.
        if (g_symbols.stream_query != nullptr) {
            CUresult r = g_symbols.stream_query(static_cast<CUstream>(stream));
            if (r != CUDA_SUCCESS && r != CUDA_ERROR_NOT_READY) {
                return cuda_fail(e, "enqueueV3", r);
            }
        }
        return AEGIS_TRT_FAILED;
    } catch (...) {
        return AEGIS_TRT_EXCEPTION;
    }
}

int32_t aegis_trt_graph_capture(AegisTrtEngine* e, void* stream) {
    if (e == nullptr || e->context == nullptr) {
        return AEGIS_TRT_BAD_ARGUMENT;
    }
    if (!graphs_available()) {
        return AEGIS_TRT_NOT_INSTALLED;
    }
    try {
        CallScope scope(e, "cudaGraphCapture");
        destroy_graph(e);
        CUstream s = static_cast<CUstream>(stream);
        CUresult r = g_symbols.begin_capture(s, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
        if (r != CUDA_SUCCESS) {
            return cuda_fail(e, "cuStreamBeginCapture", r);
        }
        bool ok = e->context->enqueueV3(static_cast<cudaStream_t>(stream));
        CUgraph graph = nullptr;
        // Always end the capture, so the stream leaves capture mode whatever happened.
        CUresult end = g_symbols.end_capture(s, &graph);
        if (!ok) {
            if (graph != nullptr) {
                g_symbols.graph_destroy(graph);
            }
            return shim_fail(e, "enqueueV3", "enqueueV3 failed while capturing a CUDA graph");
        }
        if (end != CUDA_SUCCESS) {
            return cuda_fail(e, "cuStreamEndCapture", end);
        }
        CUgraphExec exec = nullptr;
        r = g_symbols.instantiate(&exec, graph, 0);
        g_symbols.graph_destroy(graph);
        if (r != CUDA_SUCCESS) {
            return cuda_fail(e, "cuGraphInstantiateWithFlags", r);
        }
        e->graph = exec;
        return AEGIS_TRT_OK;
    } catch (...) {
        return AEGIS_TRT_EXCEPTION;
    }
}

int32_t aegis_trt_graph_launch(AegisTrtEngine* e, void* stream) {
    if (e == nullptr || e->graph == nullptr) {
        return AEGIS_TRT_BAD_ARGUMENT;
    }
    if (!graphs_available()) {
        return AEGIS_TRT_NOT_INSTALLED;
    }
    CUresult r = g_symbols.graph_launch(e->graph, static_cast<CUstream>(stream));
    return r == CUDA_SUCCESS ? AEGIS_TRT_OK : cuda_fail(e, "cuGraphLaunch", r);
}

void aegis_trt_graph_reset(AegisTrtEngine* e) {
    if (e != nullptr) {
        destroy_graph(e);
    }
}

int32_t aegis_trt_memcpy_htod_async(AegisTrtEngine* e, uint64_t dst, const void* src,
                                    size_t len, void* stream) {
    if (e == nullptr || (src == nullptr && len > 0)) {
        return AEGIS_TRT_BAD_ARGUMENT;
    }
    if (g_symbols.memcpy_htod_async == nullptr) {
        return AEGIS_TRT_NOT_INSTALLED;
    }
    if (len == 0) {
        return AEGIS_TRT_OK;
    }
    CUresult r = g_symbols.memcpy_htod_async(static_cast<CUdeviceptr>(dst), src, len,
                                             static_cast<CUstream>(stream));
    return r == CUDA_SUCCESS ? AEGIS_TRT_OK : cuda_fail(e, "cuMemcpyHtoDAsync", r);
}

int32_t aegis_trt_message_count(const AegisTrtEngine* e) {
    return e == nullptr ? 0 : static_cast<int32_t>(e->messages.size());
}

int32_t aegis_trt_message_get(const AegisTrtEngine* e, int32_t index, AegisTrtMessage* out) {
    if (e == nullptr || out == nullptr || index < 0 ||
        static_cast<size_t>(index) >= e->messages.size()) {
        return AEGIS_TRT_BAD_ARGUMENT;
    }
    const Message& m = e->messages[static_cast<size_t>(index)];
    out->origin = m.origin;
    out->code = m.code;
    out->call = m.call;
    out->name = m.name.c_str();
    out->text = m.text.c_str();
    return AEGIS_TRT_OK;
}

void aegis_trt_messages_clear(AegisTrtEngine* e) {
    if (e != nullptr) {
        e->messages.clear();
    }
}

}  // extern "C"
