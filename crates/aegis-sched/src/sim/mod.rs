//! The virtual-time simulator: drives the same [`crate::scheduler::SchedulerCore`] as the
//! runtime with periodic or sporadic releases and execution times drawn from distributions or
//! replayed from measurements.
//!
//! Owns the discrete-event loop ([`simulate`]), release and execution-time models
//! ([`Arrival`], [`ExecTime`]), the report ([`SimReport`]), admission of a whole set
//! ([`admit_set`]), the admitted-sets-never-miss campaign ([`admitted_campaign`]), the random task-set generator ([`TaskSetGenerator`], UUniFast-discard,
//! log-uniform periods), the schedulability-ratio experiment ([`sweep`]) and the
//! `aegisrt simulate` entry point ([`simulate_file`]). It must not make scheduling decisions
//! (the core does) and does no I/O except reading the task-set file in [`simulate_file`].
//!
//! Randomness: one [`rand::rngs::Xoshiro256PlusPlus`] per task (or per generated set), seeded
//! from the run's seed; the algorithm is portable and reproducible, so a seed gives the same
//! run on every machine.

mod admit;
mod campaign;
mod error;
mod exec;
mod experiment;
mod file;
mod generate;
mod report;
mod run;

pub use admit::{admit_set, admitted_specs, response_bound};
pub use campaign::{CampaignConfig, CampaignReport, admitted_campaign};
pub use error::SimError;
pub use exec::{Arrival, ExecTime};
pub use experiment::{SweepConfig, SweepPoint, sweep, sweep_csv};
pub use file::{ArrivalChoice, ExecChoice, SimFileOptions, simulate_file, simulate_json};
pub use generate::{TaskSetGenerator, uunifast, uunifast_discard};
pub use report::{AdmissionSummary, SimReport, TaskReport};
pub use run::{SimConfig, SimRun, SimTask, simulate};
