//! Errors raised where nobody can receive them: in `Drop`.
//!
//! Owns the process-wide list of deferred errors. A `Drop` of a stream, event, module, buffer,
//! pool or context that fails (e.g. the stream's final synchronise reports a sticky kernel
//! fault) pushes a [`DeferredError`] here instead of losing it or panicking. The runtime drains
//! the list with [`take_deferred_errors`] after shutdown (and may at any time) and reports
//! each; code that wants the error directly calls the type's `close(self) -> Result` instead
//! of dropping it. This module must not know which resources exist.

use crate::error::AegisCudaError;
use std::sync::{Mutex, PoisonError};

/// An error raised while releasing a resource in `Drop`.
#[derive(Debug)]
pub struct DeferredError {
    /// The resource being released (`"CudaStream"`, `"DeviceMemoryPool"`, …).
    pub resource: &'static str,
    /// What failed.
    pub error: AegisCudaError,
}

static DEFERRED: Mutex<Vec<DeferredError>> = Mutex::new(Vec::new());

/// Records an error raised in `Drop`.
pub(crate) fn defer(resource: &'static str, error: AegisCudaError) {
    DEFERRED.lock().unwrap_or_else(PoisonError::into_inner).push(DeferredError { resource, error });
}

/// Takes every error recorded by `Drop` implementations since the last call.
pub fn take_deferred_errors() -> Vec<DeferredError> {
    std::mem::take(&mut *DEFERRED.lock().unwrap_or_else(PoisonError::into_inner))
}

/// Records `r`'s error, if any, as deferred.
pub(crate) fn defer_result(resource: &'static str, r: Result<(), AegisCudaError>) {
    if let Err(e) = r {
        defer(resource, e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_errors_are_kept_until_taken() {
        defer_result("Test", Ok(()));
        defer_result("Test", Err(AegisCudaError::DriverNotFound));
        let taken: Vec<_> =
            take_deferred_errors().into_iter().filter(|d| d.resource == "Test").collect();
        assert_eq!(taken.len(), 1);
        assert!(matches!(taken[0].error, AegisCudaError::DriverNotFound));
        assert!(take_deferred_errors().iter().all(|d| d.resource != "Test"));
    }
}
