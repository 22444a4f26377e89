//! What the shim reports: TensorRT logger lines, error-recorder entries and failed CUDA driver
//! calls ([`TrtMessage`]), and the typed failure of one boundary call ([`ShimError`]).
//!
//! Owns the naming of TensorRT's severities and error codes. It must not decide what a failure
//! means for the runtime (see `error_map`).

use aegis_cuda::AegisCudaError;
use std::fmt;

/// Where a message came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageOrigin {
    /// TensorRT's `ILogger` (code: `ILogger::Severity`).
    Logger,
    /// TensorRT's `IErrorRecorder` (code: `ErrorCode`).
    Recorder,
    /// A CUDA driver call made by the shim (code: `CUresult`).
    Cuda,
    /// The shim itself (code 0).
    Shim,
}

impl MessageOrigin {
    /// From the shim's numeric origin.
    pub fn from_raw(v: i32) -> Self {
        match v {
            0 => MessageOrigin::Logger,
            1 => MessageOrigin::Recorder,
            2 => MessageOrigin::Cuda,
            _ => MessageOrigin::Shim,
        }
    }
}

/// One message from TensorRT, the shim or the CUDA driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrtMessage {
    /// Where it came from.
    pub origin: MessageOrigin,
    /// Severity, error code or `CUresult`, by origin.
    pub code: i32,
    /// The TensorRT or CUDA call that produced it.
    pub call: String,
    /// The text.
    pub text: String,
}

/// `ILogger::Severity` names.
fn severity_name(code: i32) -> &'static str {
    match code {
        0 => "internal error",
        1 => "error",
        2 => "warning",
        3 => "info",
        _ => "verbose",
    }
}

/// `nvinfer1::ErrorCode` names.
pub(crate) fn error_code_name(code: i32) -> &'static str {
    match code {
        0 => "kSUCCESS",
        1 => "kUNSPECIFIED_ERROR",
        2 => "kINTERNAL_ERROR",
        3 => "kINVALID_ARGUMENT",
        4 => "kINVALID_CONFIG",
        5 => "kFAILED_ALLOCATION",
        6 => "kFAILED_INITIALIZATION",
        7 => "kFAILED_EXECUTION",
        8 => "kFAILED_COMPUTATION",
        9 => "kINVALID_STATE",
        10 => "kUNSUPPORTED_STATE",
        _ => "unknown error code",
    }
}

impl TrtMessage {
    /// A message.
    pub fn new(origin: MessageOrigin, code: i32, call: &str, text: &str) -> Self {
        TrtMessage { origin, code, call: call.to_owned(), text: text.to_owned() }
    }

    /// True for errors (logger errors, recorder entries, CUDA failures, shim failures);
    /// false for warnings.
    pub fn is_error(&self) -> bool {
        match self.origin {
            MessageOrigin::Logger => self.code <= 1,
            _ => true,
        }
    }
}

impl fmt::Display for TrtMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.origin {
            MessageOrigin::Logger => {
                write!(f, "{} [{}]: {}", self.call, severity_name(self.code), self.text)
            }
            MessageOrigin::Recorder => {
                write!(f, "{} [{}]: {}", self.call, error_code_name(self.code), self.text)
            }
            MessageOrigin::Cuda => {
                write!(f, "{} [CUresult {}]: {}", self.call, self.code, self.text)
            }
            MessageOrigin::Shim => write!(f, "{}: {}", self.call, self.text),
        }
    }
}

/// Joins the errors among `messages` (all messages when none is an error) into one line.
pub(crate) fn summary(messages: &[TrtMessage]) -> String {
    const MAX: usize = 8;
    let errors: Vec<&TrtMessage> = messages.iter().filter(|m| m.is_error()).collect();
    let chosen: Vec<&TrtMessage> =
        if errors.is_empty() { messages.iter().collect() } else { errors };
    if chosen.is_empty() {
        return "TensorRT reported no details".into();
    }
    let mut s: Vec<String> = chosen.iter().take(MAX).map(|m| m.to_string()).collect();
    if chosen.len() > MAX {
        s.push(format!("… {} more", chosen.len() - MAX));
    }
    s.join("; ")
}

/// The failure of one call across the shim boundary.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShimError {
    /// TensorRT refused or failed; its messages say why.
    #[error("TensorRT {call} failed: {}", summary(messages))]
    TensorRt {
        /// The call.
        call: &'static str,
        /// TensorRT's messages during the call.
        messages: Vec<TrtMessage>,
    },
    /// A CUDA driver call failed (in the shim, or pending on the stream when TensorRT failed).
    #[error("{call} failed: {name} ({code}): {description}")]
    Cuda {
        /// The call (`enqueueV3` when TensorRT failed on a stream with a CUDA error).
        call: &'static str,
        /// The `CUresult`.
        code: i32,
        /// Its name (`CUDA_ERROR_ILLEGAL_ADDRESS`).
        name: String,
        /// Its description.
        description: String,
        /// TensorRT's messages during the call.
        messages: Vec<TrtMessage>,
    },
    /// A call the boundary refused (null pointer, unknown tensor, wrong state).
    #[error("{call}: {problem}")]
    InvalidArgument {
        /// The call.
        call: &'static str,
        /// What was wrong.
        problem: String,
    },
    /// A C++ exception was caught at the boundary.
    #[error("{call}: C++ exception caught at the shim boundary (out of memory?)")]
    Exception {
        /// The call.
        call: &'static str,
    },
    /// A library or entry point this call needs is missing.
    #[error("{call}: {what}")]
    NotInstalled {
        /// The call.
        call: &'static str,
        /// What is missing and how to provide it.
        what: String,
    },
    /// A call of the CUDA layer (allocation, copy) failed.
    #[error(transparent)]
    CudaLayer(#[from] AegisCudaError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_their_origin_and_code() {
        let w = TrtMessage::new(MessageOrigin::Logger, 2, "enqueueV3", "slow path");
        assert!(!w.is_error());
        assert_eq!(w.to_string(), "enqueueV3 [warning]: slow path");
        let e = TrtMessage::new(MessageOrigin::Logger, 1, "x", "bad");
        assert!(e.is_error());
        assert_eq!(e.to_string(), "x [error]: bad");
        assert_eq!(
            TrtMessage::new(MessageOrigin::Logger, 0, "x", "y").to_string(),
            "x [internal error]: y"
        );
        let r = TrtMessage::new(MessageOrigin::Recorder, 3, "setInputShape", "dim 0");
        assert_eq!(r.to_string(), "setInputShape [kINVALID_ARGUMENT]: dim 0");
        let c = TrtMessage::new(MessageOrigin::Cuda, 700, "cuGraphLaunch", "illegal");
        assert_eq!(c.to_string(), "cuGraphLaunch [CUresult 700]: illegal");
        let s = TrtMessage::new(MessageOrigin::Shim, 0, "load", "null");
        assert_eq!(s.to_string(), "load: null");
        for (v, o) in [
            (0, MessageOrigin::Logger),
            (1, MessageOrigin::Recorder),
            (2, MessageOrigin::Cuda),
            (3, MessageOrigin::Shim),
        ] {
            assert_eq!(MessageOrigin::from_raw(v), o);
        }
        for code in 0..=10 {
            assert!(error_code_name(code).starts_with('k'));
        }
        assert_eq!(error_code_name(99), "unknown error code");
        assert_eq!(severity_name(4), "verbose");
        assert_eq!(severity_name(3), "info");
    }

    #[test]
    fn summary_prefers_errors_and_is_bounded() {
        assert_eq!(summary(&[]), "TensorRT reported no details");
        let w = TrtMessage::new(MessageOrigin::Logger, 2, "c", "warn");
        assert_eq!(summary(std::slice::from_ref(&w)), "c [warning]: warn");
        let e = TrtMessage::new(MessageOrigin::Recorder, 7, "c", "boom");
        assert_eq!(summary(&[w.clone(), e.clone()]), "c [kFAILED_EXECUTION]: boom");
        let many = vec![e; 10];
        let s = summary(&many);
        assert!(s.ends_with("… 2 more"), "{s}");
    }
}
