//! Workspace-level end-to-end tests of AegisRT; the library is empty.
//!
//! The tests (in `tests/tests/`) drive the real runtime on real ONNX models with tract, through
//! the same deployment files and library calls the `aegisrt` CLI uses: admission refusal,
//! budget-overrun containment, fault containment, trace reconstruction of a decision chain,
//! and bad deployment files. They must not reach into crate internals.
