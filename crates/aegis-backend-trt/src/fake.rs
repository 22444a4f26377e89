//! `FakeTrt`: a TEST DOUBLE of the shim boundary — scripted engines, fake device memory, call
//! log and failures — so that everything above the shim is tested without TensorRT or a GPU.
//!
//! For tests of this crate and of the layers above only (feature `test-support`); never part
//! of a deployment. It performs no inference: a job writes, into every output, the first
//! input's values times two (converted through the tensors' element types), reading and
//! writing the fake device memory at the addresses the backend bound. Like TensorRT it refuses
//! to run without device memory when it needs some, without every tensor address, or with a
//! shape outside the profile; unlike real CUDA, launching a graph captured with other
//! addresses or shapes is an error, so a missed invalidation is caught.

use crate::boundary::{EngineHandle, IoBuffer, StreamHandle, TrtApi};
use crate::dtype::{decode, encode};
use crate::io::tensor_bytes;
use crate::message::{MessageOrigin, ShimError, TrtMessage};
use crate::tensor::{TensorDesc, TensorMode};
use aegis_cuda::AegisCudaError;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// A scripted failure of [`FakeTrt`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FakeFailure {
    /// `deserialize` refuses the plan.
    Deserialize,
    /// `setDeviceMemoryV2` reports an error.
    SetDeviceMemory,
    /// `setInputShape` refuses every shape after the first call (which happens at load).
    SetInputShape,
    /// `enqueueV3` fails (TensorRT error, no CUDA error) on the n-th enqueue (1-based).
    EnqueueOnJob(u64),
    /// `enqueueV3` fails on the n-th enqueue with a CUDA error pending on the stream.
    CudaOnJob {
        /// Which enqueue (1-based).
        job: u64,
        /// The `CUresult` (700 = illegal address, sticky).
        code: i32,
    },
    /// Graph capture fails (an engine that cannot be captured).
    Capture,
    /// `cuMemcpyHtoDAsync` fails with this `CUresult`.
    Upload(i32),
    /// Device allocation fails (out of memory).
    Allocate,
    /// Reading an output back fails.
    Download,
    /// Every successful enqueue leaves a TensorRT warning.
    Warnings,
}

/// The script of one fake engine.
#[derive(Clone, Debug)]
pub struct FakeEngine {
    /// I/O tensors, in order.
    pub tensors: Vec<TensorDesc>,
    /// Bytes of device memory the context needs.
    pub device_memory: u64,
    /// Dynamic output dimensions stay `-1` (a data-dependent shape).
    pub data_dependent_outputs: bool,
    /// After the first shape query (the one made while loading an engine with one dynamic
    /// output), dynamic output dimensions resolve to twice the input's: outputs outgrow the
    /// buffers sized at load.
    pub grow_outputs_after_load: bool,
    /// Scripted failures.
    pub failures: Vec<FakeFailure>,
}

impl FakeEngine {
    /// An engine with these tensors needing `device_memory` bytes of workspace.
    pub fn new(tensors: Vec<TensorDesc>, device_memory: u64) -> Self {
        FakeEngine {
            tensors,
            device_memory,
            data_dependent_outputs: false,
            grow_outputs_after_load: false,
            failures: Vec::new(),
        }
    }

    /// Adds a scripted failure.
    pub fn fail(mut self, f: FakeFailure) -> Self {
        self.failures.push(f);
        self
    }

    /// Makes dynamic outputs outgrow the buffers sized at load.
    pub fn grow_outputs_after_load(mut self) -> Self {
        self.grow_outputs_after_load = true;
        self
    }

    /// Makes dynamic output dimensions data-dependent.
    pub fn data_dependent_outputs(mut self) -> Self {
        self.data_dependent_outputs = true;
        self
    }

    fn fails(&self, f: &FakeFailure) -> bool {
        self.failures.contains(f)
    }
}

/// One call the backend made across the boundary (in order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FakeCall {
    /// A plan of this many bytes was deserialized.
    Deserialize(usize),
    /// An I/O buffer was allocated.
    Allocate {
        /// Its address.
        address: u64,
        /// Its bytes.
        bytes: u64,
    },
    /// `setDeviceMemoryV2`.
    SetDeviceMemory {
        /// Address.
        address: u64,
        /// Bytes.
        bytes: u64,
    },
    /// `setInputShape`.
    SetInputShape(String, Vec<i64>),
    /// `setTensorAddress`.
    SetTensorAddress(String, u64),
    /// An input upload on a stream.
    Upload {
        /// Destination.
        address: u64,
        /// Bytes.
        bytes: usize,
        /// Stream.
        stream: usize,
    },
    /// `enqueueV3` on a stream.
    Enqueue(usize),
    /// A graph was captured on a stream.
    Capture(usize),
    /// The graph was launched on a stream.
    Launch(usize),
    /// The graph was destroyed.
    ResetGraph,
    /// An output was read back.
    Download(u64),
    /// The engine (context, engine, runtime) was destroyed.
    DropEngine,
    /// An I/O buffer was freed.
    Free(u64),
}

#[derive(Default)]
struct Device {
    memory: BTreeMap<u64, Vec<u8>>,
    next: u64,
    calls: Vec<FakeCall>,
    enqueues: u64,
}

impl Device {
    /// The allocation holding `[address, address + len)`: (base, offset).
    fn locate(&self, address: u64, len: usize) -> Option<(u64, usize)> {
        let (base, bytes) = self.memory.range(..=address).next_back()?;
        let off = usize::try_from(address - base).ok()?;
        (off + len <= bytes.len()).then_some((*base, off))
    }

    fn read(&self, address: u64, len: usize) -> Option<Vec<u8>> {
        let (base, off) = self.locate(address, len)?;
        Some(self.memory[&base][off..off + len].to_vec())
    }

    fn write(&mut self, address: u64, data: &[u8]) -> bool {
        let Some((base, off)) = self.locate(address, data.len()) else { return false };
        if let Some(m) = self.memory.get_mut(&base) {
            m[off..off + data.len()].copy_from_slice(data);
        }
        true
    }
}

/// A scripted [`TrtApi`] over fake device memory (see the module docs).
#[derive(Clone)]
pub struct FakeTrt {
    script: FakeEngine,
    device: Arc<Mutex<Device>>,
}

fn lock(d: &Mutex<Device>) -> MutexGuard<'_, Device> {
    d.lock().unwrap_or_else(PoisonError::into_inner)
}

fn cuda_name(code: i32) -> &'static str {
    match code {
        2 => "CUDA_ERROR_OUT_OF_MEMORY",
        700 => "CUDA_ERROR_ILLEGAL_ADDRESS",
        701 => "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
        _ => "CUDA_ERROR_UNKNOWN",
    }
}

fn trt_error(call: &'static str, code: i32, text: &str) -> ShimError {
    ShimError::TensorRt {
        call,
        messages: vec![TrtMessage::new(MessageOrigin::Recorder, code, call, text)],
    }
}

impl FakeTrt {
    /// A fake TensorRT whose plans all deserialize to `script`.
    pub fn new(script: FakeEngine) -> Self {
        FakeTrt {
            script,
            device: Arc::new(Mutex::new(Device { next: 0x7000_0000, ..Default::default() })),
        }
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<FakeCall> {
        lock(&self.device).calls.clone()
    }

    /// Enqueues and graph launches so far.
    pub fn enqueues(&self) -> u64 {
        lock(&self.device).enqueues
    }

    /// I/O buffers currently allocated.
    pub fn live_buffers(&self) -> usize {
        lock(&self.device).memory.len()
    }

    /// Writes bytes into fake device memory (to simulate what a kernel would have done).
    pub fn poke(&self, address: u64, data: &[u8]) -> bool {
        lock(&self.device).write(address, data)
    }
}

impl TrtApi for FakeTrt {
    fn deserialize(&self, plan: &[u8]) -> Result<Box<dyn EngineHandle>, ShimError> {
        lock(&self.device).calls.push(FakeCall::Deserialize(plan.len()));
        if self.script.fails(&FakeFailure::Deserialize) {
            return Err(trt_error(
                "deserializeCudaEngine",
                6,
                "scripted: the plan is not a valid engine",
            ));
        }
        Ok(Box::new(FakeHandle {
            script: self.script.clone(),
            device: self.device.clone(),
            memory: None,
            addresses: HashMap::new(),
            shapes: self
                .script
                .tensors
                .iter()
                .filter(|t| t.mode == TensorMode::Input)
                .map(|t| (t.name.clone(), t.shape.clone()))
                .collect(),
            graph: None,
            shape_queries: 0,
            messages: vec![TrtMessage::new(
                MessageOrigin::Logger,
                2,
                "deserializeCudaEngine",
                "scripted load warning",
            )],
        }))
    }

    fn allocate_io(&self, bytes: u64) -> Result<Box<dyn IoBuffer>, ShimError> {
        if self.script.fails(&FakeFailure::Allocate) {
            return Err(ShimError::CudaLayer(AegisCudaError::Driver {
                call: "cuMemAlloc_v2",
                code: 2,
                name: cuda_name(2).into(),
                description: "scripted: out of memory".into(),
            }));
        }
        let mut d = lock(&self.device);
        let address = d.next;
        d.next += bytes.div_ceil(256) * 256 + 256;
        d.memory.insert(address, vec![0xAB; bytes as usize]);
        d.calls.push(FakeCall::Allocate { address, bytes });
        Ok(Box::new(FakeBuffer {
            address,
            len: bytes,
            device: self.device.clone(),
            fail: self.script.fails(&FakeFailure::Download),
        }))
    }

    fn describe(&self) -> String {
        "FakeTrt (test double, no TensorRT)".into()
    }
}

struct FakeBuffer {
    address: u64,
    len: u64,
    device: Arc<Mutex<Device>>,
    fail: bool,
}

impl IoBuffer for FakeBuffer {
    fn address(&self) -> u64 {
        self.address
    }

    fn len(&self) -> u64 {
        self.len
    }

    fn download(&self, dst: &mut [u8]) -> Result<(), ShimError> {
        let mut d = lock(&self.device);
        d.calls.push(FakeCall::Download(self.address));
        if self.fail {
            return Err(ShimError::CudaLayer(AegisCudaError::Driver {
                call: "cuMemcpyDtoH_v2",
                code: 700,
                name: cuda_name(700).into(),
                description: "scripted download failure".into(),
            }));
        }
        let src = d.read(self.address, dst.len()).ok_or(ShimError::InvalidArgument {
            call: "cuMemcpyDtoH",
            problem: "read past the buffer".into(),
        })?;
        dst.copy_from_slice(&src);
        Ok(())
    }
}

impl Drop for FakeBuffer {
    fn drop(&mut self) {
        let mut d = lock(&self.device);
        d.memory.remove(&self.address);
        d.calls.push(FakeCall::Free(self.address));
    }
}

/// What a captured graph baked in.
#[derive(Clone, Debug, PartialEq)]
struct Snapshot {
    memory: Option<(u64, u64)>,
    addresses: Vec<(String, u64)>,
    shapes: Vec<(String, Vec<i64>)>,
}

struct FakeHandle {
    script: FakeEngine,
    device: Arc<Mutex<Device>>,
    memory: Option<(u64, u64)>,
    addresses: HashMap<String, u64>,
    shapes: HashMap<String, Vec<i64>>,
    graph: Option<Snapshot>,
    messages: Vec<TrtMessage>,
    /// Shape queries so far (the first ones happen while loading).
    shape_queries: u64,
}

impl FakeHandle {
    fn desc(&self, name: &str) -> Option<&TensorDesc> {
        self.script.tensors.iter().find(|t| t.name == name)
    }

    fn snapshot(&self) -> Snapshot {
        let mut addresses: Vec<_> = self.addresses.iter().map(|(k, v)| (k.clone(), *v)).collect();
        addresses.sort();
        let mut shapes: Vec<_> = self.shapes.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        shapes.sort();
        Snapshot { memory: self.memory, addresses, shapes }
    }

    /// The context's shape of `t` (outputs: dynamic dims follow the first input).
    fn shape_of(&self, t: &TensorDesc) -> Vec<i64> {
        if t.mode == TensorMode::Input {
            return self.shapes.get(&t.name).cloned().unwrap_or_else(|| t.shape.clone());
        }
        let first = self
            .script
            .tensors
            .iter()
            .find(|x| x.mode == TensorMode::Input)
            .and_then(|x| self.shapes.get(&x.name).cloned())
            .unwrap_or_default();
        t.shape
            .iter()
            .enumerate()
            .map(|(k, d)| match d {
                d if *d >= 0 => *d,
                _ if self.script.data_dependent_outputs => -1,
                _ if self.script.grow_outputs_after_load && self.shape_queries > 1 => {
                    2 * first.get(k).copied().unwrap_or(1)
                }
                _ => first.get(k).copied().unwrap_or(1),
            })
            .collect()
    }

    /// One inference over the fake device memory.
    fn run(&mut self) -> Result<(), ShimError> {
        if self.script.device_memory > 0 && self.memory.is_none() {
            return Err(trt_error("enqueueV3", 9, "device memory was not set (kUSER_MANAGED)"));
        }
        let mut d = lock(&self.device);
        let mut first: Option<Vec<f32>> = None;
        for t in &self.script.tensors {
            let Some(&address) = self.addresses.get(&t.name) else {
                return Err(trt_error(
                    "enqueueV3",
                    3,
                    &format!("no address set for tensor {}", t.name),
                ));
            };
            let shape: Vec<usize> =
                match self.shape_of(t).iter().map(|v| usize::try_from(*v).ok()).collect() {
                    Some(s) => s,
                    None => {
                        return Err(trt_error(
                            "enqueueV3",
                            9,
                            &format!("shape of {} unresolved", t.name),
                        ));
                    }
                };
            let bytes =
                tensor_bytes(t.dtype.host_bytes().unwrap_or(1), &shape).unwrap_or(0) as usize;
            if t.mode == TensorMode::Input {
                let raw = d.read(address, bytes).ok_or_else(|| {
                    trt_error("enqueueV3", 3, &format!("input {} address out of bounds", t.name))
                })?;
                if first.is_none() {
                    first = Some(decode(t.dtype, &raw));
                }
            } else {
                let src = first.clone().unwrap_or_default();
                let n = bytes / t.dtype.host_bytes().unwrap_or(1) as usize;
                let vals: Vec<f32> =
                    (0..n).map(|i| src.get(i).copied().unwrap_or(0.0) * 2.0).collect();
                let enc = encode(t.dtype, &vals).unwrap_or_else(|_| vec![0; bytes]);
                if !d.write(address, &enc) {
                    return Err(trt_error(
                        "enqueueV3",
                        3,
                        &format!("output {} address out of bounds", t.name),
                    ));
                }
            }
        }
        Ok(())
    }

    fn next_job_fails(&self) -> Option<ShimError> {
        let n = lock(&self.device).enqueues + 1;
        for f in &self.script.failures {
            match f {
                FakeFailure::EnqueueOnJob(k) if *k == n => {
                    return Some(trt_error(
                        "enqueueV3",
                        7,
                        &format!("scripted failure of enqueue {n}"),
                    ));
                }
                FakeFailure::CudaOnJob { job, code } if *job == n => {
                    return Some(ShimError::Cuda {
                        call: "enqueueV3",
                        code: *code,
                        name: cuda_name(*code).into(),
                        description: "scripted CUDA error".into(),
                        messages: vec![TrtMessage::new(
                            MessageOrigin::Recorder,
                            7,
                            "enqueueV3",
                            "scripted kernel failure",
                        )],
                    });
                }
                _ => {}
            }
        }
        None
    }
}

impl EngineHandle for FakeHandle {
    fn io_tensors(&self) -> Vec<TensorDesc> {
        self.script.tensors.clone()
    }

    fn device_memory_size(&self) -> u64 {
        self.script.device_memory
    }

    fn set_device_memory(&mut self, address: u64, bytes: u64) -> Result<(), ShimError> {
        lock(&self.device).calls.push(FakeCall::SetDeviceMemory { address, bytes });
        if self.script.fails(&FakeFailure::SetDeviceMemory) {
            return Err(trt_error("setDeviceMemoryV2", 3, "scripted: memory refused"));
        }
        self.memory = Some((address, bytes));
        Ok(())
    }

    fn set_input_shape(&mut self, name: &str, dims: &[i64]) -> Result<(), ShimError> {
        let earlier = {
            let mut d = lock(&self.device);
            let n = d.calls.iter().filter(|c| matches!(c, FakeCall::SetInputShape(..))).count();
            d.calls.push(FakeCall::SetInputShape(name.to_owned(), dims.to_vec()));
            n
        };
        if self.script.fails(&FakeFailure::SetInputShape) && earlier > 0 {
            return Err(trt_error("setInputShape", 3, "scripted: shape refused"));
        }
        let Some(t) = self.desc(name).filter(|t| t.mode == TensorMode::Input) else {
            return Err(trt_error("setInputShape", 3, &format!("no input named {name}")));
        };
        let inside = t.profile.as_ref().is_some_and(|p| {
            dims.len() == p.min.len()
                && dims.iter().zip(p.min.iter().zip(&p.max)).all(|(d, (lo, hi))| d >= lo && d <= hi)
        });
        if !inside {
            return Err(trt_error("setInputShape", 3, "shape outside the optimisation profile"));
        }
        self.shapes.insert(name.to_owned(), dims.to_vec());
        Ok(())
    }

    fn tensor_shape(&mut self, name: &str) -> Result<Vec<i64>, ShimError> {
        self.shape_queries += 1;
        let t = self.desc(name).cloned().ok_or(ShimError::InvalidArgument {
            call: "getTensorShape",
            problem: format!("no tensor {name}"),
        })?;
        Ok(self.shape_of(&t))
    }

    fn set_tensor_address(&mut self, name: &str, address: u64) -> Result<(), ShimError> {
        lock(&self.device).calls.push(FakeCall::SetTensorAddress(name.to_owned(), address));
        if self.desc(name).is_none() {
            return Err(trt_error("setTensorAddress", 3, &format!("no tensor named {name}")));
        }
        self.addresses.insert(name.to_owned(), address);
        Ok(())
    }

    fn upload(&mut self, dst: u64, src: &[u8], stream: StreamHandle) -> Result<(), ShimError> {
        let mut d = lock(&self.device);
        d.calls.push(FakeCall::Upload { address: dst, bytes: src.len(), stream: stream.raw() });
        if let Some(code) = self.script.failures.iter().find_map(|f| match f {
            FakeFailure::Upload(c) => Some(*c),
            _ => None,
        }) {
            return Err(ShimError::Cuda {
                call: "cuMemcpyHtoDAsync",
                code,
                name: cuda_name(code).into(),
                description: "scripted upload failure".into(),
                messages: Vec::new(),
            });
        }
        if !d.write(dst, src) {
            return Err(ShimError::InvalidArgument {
                call: "cuMemcpyHtoDAsync",
                problem: "not a fake device range".into(),
            });
        }
        Ok(())
    }

    fn enqueue(&mut self, stream: StreamHandle) -> Result<(), ShimError> {
        lock(&self.device).calls.push(FakeCall::Enqueue(stream.raw()));
        if let Some(e) = self.next_job_fails() {
            lock(&self.device).enqueues += 1;
            return Err(e);
        }
        self.run()?;
        lock(&self.device).enqueues += 1;
        if self.script.fails(&FakeFailure::Warnings) {
            self.messages.push(TrtMessage::new(
                MessageOrigin::Logger,
                2,
                "enqueueV3",
                "scripted warning",
            ));
        }
        Ok(())
    }

    fn capture_graph(&mut self, stream: StreamHandle) -> Result<(), ShimError> {
        lock(&self.device).calls.push(FakeCall::Capture(stream.raw()));
        if self.script.fails(&FakeFailure::Capture) {
            return Err(ShimError::Cuda {
                call: "cuStreamEndCapture",
                code: 901,
                name: "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED".into(),
                description: "scripted: not capturable".into(),
                messages: Vec::new(),
            });
        }
        self.graph = Some(self.snapshot());
        Ok(())
    }

    fn launch_graph(&mut self, stream: StreamHandle) -> Result<(), ShimError> {
        lock(&self.device).calls.push(FakeCall::Launch(stream.raw()));
        match &self.graph {
            None => Err(ShimError::InvalidArgument {
                call: "cuGraphLaunch",
                problem: "no graph captured".into(),
            }),
            Some(s) if *s != self.snapshot() => Err(trt_error(
                "cuGraphLaunch",
                9,
                "FakeTrt: the graph was captured with other addresses or shapes (stale graph)",
            )),
            Some(_) => {
                if let Some(e) = self.next_job_fails() {
                    lock(&self.device).enqueues += 1;
                    return Err(e);
                }
                self.run()?;
                lock(&self.device).enqueues += 1;
                Ok(())
            }
        }
    }

    fn reset_graph(&mut self) {
        lock(&self.device).calls.push(FakeCall::ResetGraph);
        self.graph = None;
    }

    fn take_messages(&mut self) -> Vec<TrtMessage> {
        std::mem::take(&mut self.messages)
    }
}

impl Drop for FakeHandle {
    fn drop(&mut self) {
        lock(&self.device).calls.push(FakeCall::DropEngine);
    }
}
