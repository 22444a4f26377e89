//! Schedulability analysis and admission control for non-preemptive GPU lanes.
//!
//! Owns every schedulability test (each a public function callable on its own, returning a
//! typed result with per-task detail), the multi-lane partitioner, the
//! [`AdmissionController`], and the `aegisrt analyze --json` input/report formats. It must not
//! know how WCETs are measured ([`crate::wcet`]), how jobs are dispatched, or any I/O.
//!
//! Conventions: times are integer nanoseconds ([`aegis_trace::Duration`]); verdicts use exact
//! integer arithmetic (`u128`, and big integers for utilisation sums, whose common
//! denominators overflow `u128` with a handful of nanosecond periods); floats appear only in
//! fields documented as display-only. Priority 0 is the highest. Task sets are sporadic with
//! constrained deadlines (`C ≤ D ≤ T`).
//!
//! | test | scheduler | kind |
//! |---|---|---|
//! | [`rms_ll_bound`], [`hyperbolic`] | preemptive RM/DM | sufficient |
//! | [`edf_util`] | preemptive EDF | exact for `D = T` |
//! | [`edf_demand`] | preemptive EDF | exact (QPA) |
//! | [`fp_rta_preemptive`] | preemptive FP | exact |
//! | [`fp_rta_nonpreemptive`] | non-preemptive FP | Davis et al. 2007; exact in discrete time |
//! | [`edf_nonpreemptive`] | non-preemptive EDF | George et al. 1996; exact in discrete time |
//! | [`fifo_nonpreemptive`] | FIFO | sound bound (same as pyRTA's FIFO RTA) |
//!
//! The non-preemptive tests take a [`BlockingConvention`]: continuous (default, safe) or
//! discrete with a tick (the convention of the papers and of pyRTA).

mod admission;
mod arith;
mod demand;
mod fifo;
mod input;
mod options;
pub mod partition;
mod report;
mod rta;
mod utilisation;
mod verdict;

pub use admission::{
    AdmissionConfig, AdmissionController, AdmissionRequest, AdmissionResult, AnalysisDetail,
    LaneAnalysis, LaneVerdict, MemoryCheck, Policy, Refusal,
};
pub use demand::{DemandResult, DemandViolation, edf_demand, edf_nonpreemptive};
pub use fifo::fifo_nonpreemptive;
pub use input::{InputError, TaskRef, parse_task_set_json};
pub use options::{AnalysisOptions, BlockingConvention};
pub use partition::{Lane, Unplaced, partition_first_fit};
pub use report::{AllVerdicts, ResponseReport, Schedulable, VerdictReport, Verdicts, all_verdicts};
pub use rta::{fp_rta_nonpreemptive, fp_rta_preemptive};
pub use utilisation::{UtilisationResult, edf_util, hyperbolic, rms_ll_bound};
pub use verdict::{RtaResult, TaskResponse, TestKind, Unbounded, Verdict};
