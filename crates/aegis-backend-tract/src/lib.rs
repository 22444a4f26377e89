//! # aegis-backend-tract — layer 5 of AegisRT: the embedded CPU backend
//!
//! Real ONNX inference on the CPU with [tract](https://github.com/sonos/tract) (pure Rust, no
//! native dependency; x86_64 and aarch64), behind the runtime's
//! [`aegis_context::RuntimeBackend`] contract. This is the default engine: it needs nothing
//! beyond Rust.
//!
//! - [`backend`]: [`TractBackend`], one model, loaded, optimised and run on the calling thread;
//!   its weights can be evicted under memory pressure and reloaded from the file.
//! - [`load`]: the loader's checks and tract's stages; [`TensorSpec`] describes an input or
//!   output.
//! - [`graph`]: tract's optimised graph as an [`aegis_context::OpGraph`] ([`TractGraph`]), for
//!   aegis-memory's lifetime analysis.
//! - [`memory`]: the [`aegis_context::MemoryRequirements`] accounting ([`ActivationPlan`]).
//!   tract allocates its own activation memory, so `external_activations` is false.
//! - [`options`]: [`TractOptions`] (concrete shapes for symbolic inputs).
//! - [`reference`](mod@reference): the example models' manifest, deterministic input, expected outputs and
//!   the comparison metric.
//! - [`error`]: [`TractError`], each naming the file; converts into
//!   [`aegis_context::BackendError::Load`].
//!
//! Architecture invariant: knows tract and the backend contract; nothing about scheduling.
//!
//! ```no_run
//! use aegis_backend_tract::{Manifest, TractBackend, TractOptions, compare, reference_input};
//! use aegis_context::RuntimeBackend;
//!
//! let manifest = Manifest::load("examples/models/manifest.json")?;
//! let entry = manifest.entry("squeezenet1_1")?;
//! let mut backend = TractBackend::load(manifest.model_path(entry), &TractOptions::default())?;
//! backend.set_input(&reference_input(entry))?;
//! backend.run()?;
//! let out = backend.outputs()?;
//! let expected = manifest.expected_output(entry)?;
//! assert!(compare(&out[0].data, &expected.data).relative <= 1e-4);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod backend;
pub mod error;
pub mod graph;
pub mod load;
pub mod memory;
pub mod options;
pub mod reference;

pub use backend::TractBackend;
pub use error::{ENGINE, TractError};
pub use graph::TractGraph;
pub use load::TensorSpec;
pub use memory::ActivationPlan;
pub use options::TractOptions;
pub use reference::{
    Comparison, Manifest, ManifestEntry, ManifestInput, ManifestOutput, compare, load_expected,
    reference_input,
};
