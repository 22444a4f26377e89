//! The Rust boundary over the C++ shim: what [`crate::TrtBackend`] needs from TensorRT and
//! from device memory, as traits.
//!
//! Owns [`TrtApi`] (deserialize a plan, allocate I/O buffers), [`EngineHandle`] (one engine
//! and its execution context) and [`IoBuffer`] (one device buffer). The real implementation
//! calls the shim's `extern "C"` functions (built only with TensorRT headers); `FakeTrt`
//! (feature `test-support`) scripts them for tests. Implementations do what they are told
//! and report failures as [`ShimError`]: validation and policy belong above, in the backend.

use crate::message::{ShimError, TrtMessage};
use crate::tensor::TensorDesc;
use std::ffi::c_void;

/// A CUDA stream handle (`CUstream` / `cudaStream_t`) as a plain value; owned elsewhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StreamHandle(usize);

impl StreamHandle {
    /// From a raw stream pointer.
    pub fn from_ptr(p: *mut c_void) -> Self {
        StreamHandle(p as usize)
    }

    /// From an integer value (tests and fakes).
    pub const fn from_raw(v: usize) -> Self {
        StreamHandle(v)
    }

    /// The raw pointer.
    pub fn as_ptr(self) -> *mut c_void {
        self.0 as *mut c_void
    }

    /// The integer value.
    pub fn raw(self) -> usize {
        self.0
    }
}

/// The entry into TensorRT: deserializing plans and allocating device buffers.
pub trait TrtApi: Send + Sync {
    /// Deserializes `plan` and creates its execution context with user-managed device memory.
    ///
    /// # Errors
    /// TensorRT refusing the plan, or the library failing.
    fn deserialize(&self, plan: &[u8]) -> Result<Box<dyn EngineHandle>, ShimError>;

    /// A device buffer of `bytes` (at least one) for an I/O tensor.
    ///
    /// # Errors
    /// The allocation failing.
    fn allocate_io(&self, bytes: u64) -> Result<Box<dyn IoBuffer>, ShimError>;

    /// What it is (library and header versions), for messages.
    fn describe(&self) -> String;
}

/// One deserialized engine and its execution context (TensorRT calls are not concurrent on
/// one handle: the backend serialises them).
pub trait EngineHandle: Send {
    /// The engine's I/O tensors, in TensorRT's order.
    fn io_tensors(&self) -> Vec<TensorDesc>;

    /// Bytes of device memory the context needs (`getDeviceMemorySizeV2`).
    fn device_memory_size(&self) -> u64;

    /// Gives the context its device memory (`setDeviceMemoryV2`).
    ///
    /// # Errors
    /// TensorRT refusing it.
    fn set_device_memory(&mut self, address: u64, bytes: u64) -> Result<(), ShimError>;

    /// Sets the shape of a dynamic input for the next enqueue (`setInputShape`).
    ///
    /// # Errors
    /// TensorRT refusing the shape.
    fn set_input_shape(&mut self, name: &str, dims: &[i64]) -> Result<(), ShimError>;

    /// The context's current shape of a tensor (`getTensorShape`); outputs resolve once every
    /// input shape is set; `-1` stays for data-dependent dimensions.
    ///
    /// # Errors
    /// An unknown tensor.
    fn tensor_shape(&mut self, name: &str) -> Result<Vec<i64>, ShimError>;

    /// Binds a tensor to a device address (`setTensorAddress`).
    ///
    /// # Errors
    /// TensorRT refusing it (unknown name, misaligned address).
    fn set_tensor_address(&mut self, name: &str, address: u64) -> Result<(), ShimError>;

    /// Copies host bytes to device address `dst`, ordered on `stream` (returns before the copy
    /// completes; `src` may be reused as soon as it returns).
    ///
    /// # Errors
    /// The copy failing to enqueue.
    fn upload(&mut self, dst: u64, src: &[u8], stream: StreamHandle) -> Result<(), ShimError>;

    /// Enqueues one inference on `stream` (`enqueueV3`).
    ///
    /// # Errors
    /// TensorRT failing, or a CUDA error pending on the stream.
    fn enqueue(&mut self, stream: StreamHandle) -> Result<(), ShimError>;

    /// Captures one enqueue into a CUDA graph (nothing runs), replacing an earlier graph.
    ///
    /// # Errors
    /// The capture failing (the stream leaves capture mode regardless).
    fn capture_graph(&mut self, stream: StreamHandle) -> Result<(), ShimError>;

    /// Launches the captured graph on `stream`.
    ///
    /// # Errors
    /// No graph, or the launch failing.
    fn launch_graph(&mut self, stream: StreamHandle) -> Result<(), ShimError>;

    /// Destroys the captured graph, if any.
    fn reset_graph(&mut self);

    /// Drains the messages (warnings) successful calls left behind.
    fn take_messages(&mut self) -> Vec<TrtMessage>;
}

/// A device buffer for one I/O tensor, owned by the backend.
pub trait IoBuffer: Send {
    /// Its device address.
    fn address(&self) -> u64;

    /// Its length, bytes.
    fn len(&self) -> u64;

    /// Never empty (zero-byte buffers are not allocated).
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copies the start of the buffer into `dst` (after the job's completion).
    ///
    /// # Errors
    /// The copy failing.
    fn download(&self, dst: &mut [u8]) -> Result<(), ShimError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_handles_are_plain_values() {
        let s = StreamHandle::from_raw(0x1234);
        assert_eq!(s.raw(), 0x1234);
        assert_eq!(StreamHandle::from_ptr(s.as_ptr()), s);
    }
}
