//! [`all_verdicts`]: every test on one task set, and [`VerdictReport`], its wire form for
//! `aegisrt analyze FILE --json`.
//!
//! Owns the exact JSON shape of the report:
//! `{"verdicts":{"rms_ll_bound":{"schedulable":b},"hyperbolic":{…},"edf_util":{…},
//! "edf_demand":{…},"fp_rta_preemptive":{"schedulable":b,"response_us":{"<name>":n|null}},
//! "fp_rta_nonpreemptive":{…},"edf_nonpreemptive":{"schedulable":b}}}`.
//! Response times are rounded *up* to whole microseconds (exact for µs inputs); `null` where
//! the busy period does not converge within the limits. It must not parse input (see
//! [`super::input`]).

use super::demand::{DemandResult, edf_demand, edf_nonpreemptive};
use super::fifo::fifo_nonpreemptive;
use super::options::AnalysisOptions;
use super::rta::{fp_rta_nonpreemptive, fp_rta_preemptive};
use super::utilisation::{UtilisationResult, edf_util, hyperbolic, rms_ll_bound};
use super::verdict::RtaResult;
use crate::task::{TaskParams, TaskSetError, validate_task_set};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Every test's typed result for one task set.
#[derive(Clone, Debug, PartialEq)]
pub struct AllVerdicts {
    /// Liu & Layland bound.
    pub rms_ll_bound: UtilisationResult,
    /// Hyperbolic bound.
    pub hyperbolic: UtilisationResult,
    /// `U ≤ 1`.
    pub edf_util: UtilisationResult,
    /// Preemptive EDF demand (QPA).
    pub edf_demand: DemandResult,
    /// Preemptive fixed-priority RTA.
    pub fp_rta_preemptive: RtaResult,
    /// Non-preemptive fixed-priority RTA (Davis et al. 2007).
    pub fp_rta_nonpreemptive: RtaResult,
    /// Non-preemptive EDF (George et al. 1996).
    pub edf_nonpreemptive: DemandResult,
    /// Non-preemptive FIFO bound (not part of the CLI report; see [`AllVerdicts::report_with_fifo`]).
    pub fifo_nonpreemptive: RtaResult,
}

/// Runs every test on `tasks` (names and priorities must be unique).
///
/// # Errors
/// The first invalid task, duplicate name or duplicate priority.
pub fn all_verdicts(
    tasks: &[TaskParams],
    opts: &AnalysisOptions,
) -> Result<AllVerdicts, TaskSetError> {
    validate_task_set(tasks, true)?;
    Ok(AllVerdicts {
        rms_ll_bound: rms_ll_bound(tasks)?,
        hyperbolic: hyperbolic(tasks)?,
        edf_util: edf_util(tasks)?,
        edf_demand: edf_demand(tasks, opts)?,
        fp_rta_preemptive: fp_rta_preemptive(tasks, opts)?,
        fp_rta_nonpreemptive: fp_rta_nonpreemptive(tasks, opts)?,
        edf_nonpreemptive: edf_nonpreemptive(tasks, opts)?,
        fifo_nonpreemptive: fifo_nonpreemptive(tasks, opts)?,
    })
}

impl AllVerdicts {
    /// The `aegisrt analyze --json` report (exactly the documented keys).
    pub fn report(&self) -> VerdictReport {
        VerdictReport {
            verdicts: Verdicts {
                rms_ll_bound: Schedulable { schedulable: self.rms_ll_bound.schedulable },
                hyperbolic: Schedulable { schedulable: self.hyperbolic.schedulable },
                edf_util: Schedulable { schedulable: self.edf_util.schedulable },
                edf_demand: Schedulable { schedulable: self.edf_demand.schedulable },
                fp_rta_preemptive: ResponseReport::from(&self.fp_rta_preemptive),
                fp_rta_nonpreemptive: ResponseReport::from(&self.fp_rta_nonpreemptive),
                edf_nonpreemptive: Schedulable { schedulable: self.edf_nonpreemptive.schedulable },
                fifo: None,
            },
        }
    }

    /// [`AllVerdicts::report`] plus an extra `"fifo"` entry (used by the cross-check).
    pub fn report_with_fifo(&self) -> VerdictReport {
        let mut r = self.report();
        r.verdicts.fifo = Some(ResponseReport::from(&self.fifo_nonpreemptive));
        r
    }
}

/// The wire form: `{"verdicts": …}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerdictReport {
    /// The verdicts by test.
    pub verdicts: Verdicts,
}

/// One entry per test; keys are the test names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verdicts {
    /// `rms_ll_bound`.
    pub rms_ll_bound: Schedulable,
    /// `hyperbolic`.
    pub hyperbolic: Schedulable,
    /// `edf_util`.
    pub edf_util: Schedulable,
    /// `edf_demand`.
    pub edf_demand: Schedulable,
    /// `fp_rta_preemptive`.
    pub fp_rta_preemptive: ResponseReport,
    /// `fp_rta_nonpreemptive`.
    pub fp_rta_nonpreemptive: ResponseReport,
    /// `edf_nonpreemptive`.
    pub edf_nonpreemptive: Schedulable,
    /// Non-preemptive FIFO; absent from the CLI report (cross-check extension only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fifo: Option<ResponseReport>,
}

/// `{"schedulable": bool}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedulable {
    /// The verdict.
    pub schedulable: bool,
}

/// `{"schedulable": bool, "response_us": {"<task>": integer | null}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseReport {
    /// The verdict.
    pub schedulable: bool,
    /// Worst-case response time per task in whole µs (rounded up); `None` = `null`.
    pub response_us: BTreeMap<String, Option<u64>>,
}

impl From<&RtaResult> for ResponseReport {
    fn from(r: &RtaResult) -> Self {
        ResponseReport {
            schedulable: r.schedulable,
            response_us: r
                .tasks
                .iter()
                .map(|t| {
                    (t.task.as_str().to_string(), t.response.map(|d| d.as_nanos().div_ceil(1_000)))
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aegis_trace::Duration;

    #[test]
    fn report_shape_is_pinned_without_snapshots() {
        let us = Duration::from_micros;
        let t = |name: &str, c, p, prio| TaskParams::implicit(name, us(c), us(p), prio);
        // U = 1.01. Preemptive: a = 1; b's level busy period has utilisation exactly 1 and no
        // blocking, so it converges (w = 2 + ⌈w/2⌉ → 4); c's diverges → null.
        // Non-preemptive: a is blocked by b (B = 2): R = 3 > 2; b has utilisation 1 *plus*
        // blocking by c → never converges → null; c → null.
        let tasks = [t("a", 1, 2, 0), t("b", 2, 4, 1), t("c", 1, 100, 2)];
        let v = all_verdicts(&tasks, &AnalysisOptions::default()).unwrap();
        let json = serde_json::to_value(v.report()).unwrap();
        let expected = serde_json::json!({"verdicts": {
            "rms_ll_bound": {"schedulable": false},
            "hyperbolic": {"schedulable": false},
            "edf_util": {"schedulable": false},
            "edf_demand": {"schedulable": false},
            "fp_rta_preemptive": {"schedulable": false, "response_us": {"a": 1, "b": 4, "c": null}},
            "fp_rta_nonpreemptive": {"schedulable": false, "response_us": {"a": 3, "b": null, "c": null}},
            "edf_nonpreemptive": {"schedulable": false},
        }});
        assert_eq!(json, expected);
        // Sub-microsecond responses round up.
        let ns = |c, p, prio| {
            TaskParams::implicit(
                format!("n{prio}"),
                Duration::from_nanos(c),
                Duration::from_nanos(p),
                prio,
            )
        };
        let small = all_verdicts(&[ns(1_001, 10_000, 0)], &AnalysisOptions::default()).unwrap();
        assert_eq!(small.report().verdicts.fp_rta_preemptive.response_us["n0"], Some(2));
        let with = serde_json::to_value(v.report_with_fifo()).unwrap();
        // FIFO: U > 1, so null for every task.
        assert_eq!(
            with["verdicts"]["fifo"]["response_us"].get("a"),
            Some(&serde_json::Value::Null),
            "{with}"
        );
        let back: VerdictReport = serde_json::from_value(with).unwrap();
        assert!(back.verdicts.fifo.is_some());
    }
}
