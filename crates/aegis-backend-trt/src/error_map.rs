//! How a failure at the shim boundary becomes a [`BackendError`], and so what the fault
//! boundary of the model's execution context does with it.
//!
//! Owns the mapping per phase: loading errors are [`BackendError::Load`]; a shape TensorRT
//! refuses is the caller's [`BackendError::InvalidInput`] (reported, context stays ready); a
//! CUDA error is [`BackendError::Cuda`] carrying the driver's code, so a sticky fault
//! (illegal address, …) is classified as needing a process restart; any other TensorRT failure
//! while binding or executing is [`BackendError::Execution`] (the context faults, clearable). A
//! missing library is [`BackendError::Unavailable`]. It must not know the shim.

use crate::ENGINE;
use crate::message::{ShimError, summary};
use aegis_context::BackendError;
use aegis_cuda::AegisCudaError;

/// What the backend was doing when the boundary call failed.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Phase<'a> {
    /// Loading the engine from this file.
    Load(&'a str),
    /// Setting the shape of this input.
    Input(&'a str),
    /// Binding memory or tensor addresses.
    Bind,
    /// Enqueueing a job (or preparing one).
    Execute,
    /// Reading outputs.
    Output,
}

pub(crate) fn to_backend(e: ShimError, phase: Phase<'_>) -> BackendError {
    match (e, phase) {
        (ShimError::Cuda { call, code, name, description, messages }, _) => {
            let description = if messages.iter().any(|m| m.is_error()) {
                format!("{description}; TensorRT: {}", summary(&messages))
            } else {
                description
            };
            BackendError::Cuda(AegisCudaError::Driver { call, code, name, description })
        }
        (ShimError::CudaLayer(c), _) => BackendError::Cuda(c),
        (ShimError::NotInstalled { what, .. }, _) => {
            BackendError::Unavailable { engine: ENGINE.into(), reason: what }
        }
        (e, Phase::Load(path)) => {
            BackendError::Load { path: path.to_owned(), reason: e.to_string() }
        }
        (
            e @ (ShimError::TensorRt { .. } | ShimError::InvalidArgument { .. }),
            Phase::Input(name),
        ) => BackendError::InvalidInput { name: name.to_owned(), reason: e.to_string() },
        (e, _) => BackendError::Execution { engine: ENGINE.into(), reason: e.to_string() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{MessageOrigin, TrtMessage};

    fn trt(code: i32) -> ShimError {
        ShimError::TensorRt {
            call: "enqueueV3",
            messages: vec![TrtMessage::new(MessageOrigin::Recorder, code, "enqueueV3", "boom")],
        }
    }

    fn cuda(code: i32, with_trt: bool) -> ShimError {
        let messages = if with_trt {
            vec![TrtMessage::new(MessageOrigin::Recorder, 7, "enqueueV3", "kernel failed")]
        } else {
            vec![TrtMessage::new(MessageOrigin::Logger, 2, "enqueueV3", "a warning")]
        };
        ShimError::Cuda {
            call: "enqueueV3",
            code,
            name: "CUDA_ERROR_ILLEGAL_ADDRESS".into(),
            description: "an illegal memory access was encountered".into(),
            messages,
        }
    }

    #[test]
    fn cuda_errors_keep_their_code_so_sticky_faults_are_recognised() {
        for phase in [Phase::Execute, Phase::Bind, Phase::Output, Phase::Load("m.engine")] {
            match to_backend(cuda(700, true), phase) {
                BackendError::Cuda(c) => {
                    assert!(c.is_sticky());
                    assert!(c.to_string().contains("TensorRT: enqueueV3 [kFAILED_EXECUTION]"));
                }
                other => panic!("{other:?}"),
            }
        }
        match to_backend(cuda(701, false), Phase::Execute) {
            BackendError::Cuda(c) => {
                assert!(!c.is_sticky());
                assert!(!c.to_string().contains("a warning"));
            }
            other => panic!("{other:?}"),
        }
        let layer = ShimError::CudaLayer(AegisCudaError::DriverNotFound);
        assert!(matches!(
            to_backend(layer, Phase::Execute),
            BackendError::Cuda(AegisCudaError::DriverNotFound)
        ));
    }

    #[test]
    fn tensorrt_errors_map_by_phase() {
        match to_backend(trt(7), Phase::Execute) {
            BackendError::Execution { engine, reason } => {
                assert_eq!(engine, "tensorrt");
                assert!(reason.contains("kFAILED_EXECUTION"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        match to_backend(trt(6), Phase::Load("/m/a.engine")) {
            BackendError::Load { path, reason } => {
                assert_eq!(path, "/m/a.engine");
                assert!(reason.contains("kFAILED_INITIALIZATION"));
            }
            other => panic!("{other:?}"),
        }
        match to_backend(trt(3), Phase::Input("images")) {
            BackendError::InvalidInput { name, reason } => {
                assert_eq!(name, "images");
                assert!(reason.contains("kINVALID_ARGUMENT"));
            }
            other => panic!("{other:?}"),
        }
        let bad = ShimError::InvalidArgument { call: "setInputShape", problem: "rank 9".into() };
        assert!(matches!(to_backend(bad, Phase::Input("x")), BackendError::InvalidInput { .. }));
        let ex = ShimError::Exception { call: "enqueueV3" };
        assert!(matches!(to_backend(ex, Phase::Output), BackendError::Execution { .. }));
        let ni = ShimError::NotInstalled { call: "capture", what: "no libcuda".into() };
        match to_backend(ni, Phase::Execute) {
            BackendError::Unavailable { engine, reason } => {
                assert_eq!((engine.as_str(), reason.as_str()), ("tensorrt", "no libcuda"));
            }
            other => panic!("{other:?}"),
        }
    }
}
