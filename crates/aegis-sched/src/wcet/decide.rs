//! The choice of the pWCET among the order statistic, the extreme-value analyses and the
//! empirical fallback, and the reason given for it.
//!
//! Owns the rule stated in the `wcet` module documentation: order statistic when the sample
//! suffices (method `Auto` only); else the larger bound among EVT analyses whose
//! goodness-of-fit test does not reject; else the explicit fallback. It must not know how the
//! analyses are computed.

use super::block_maxima::BlockMaximaReport;
use super::config::{MethodChoice, WcetConfig};
use super::empirical::{order_statistic_excess_count, order_statistic_min_samples};
use super::gof::GofTest;
use super::iid::IidReport;
use super::pot::PotReport;
use super::{PwcetMethod, WcetError};
use aegis_trace::Duration;

/// The chosen pWCET and how it was obtained.
pub(crate) struct Decision {
    pub(crate) method: PwcetMethod,
    /// The pWCET in ns.
    pub(crate) pwcet: u64,
    pub(crate) estimate: Option<Duration>,
    pub(crate) confidence: Option<f64>,
    pub(crate) reason: String,
    /// Goodness of fit of the chosen method: `Some(true)` not rejected (or not needed),
    /// `Some(false)` fallback, `None` not tested.
    pub(crate) gof_ok: Option<bool>,
}

/// ⌈v⌉ as a Duration, or an overflow error naming `field`.
fn ceil_duration(field: &'static str, v: f64) -> Result<Duration, WcetError> {
    let c = v.ceil();
    if (0.0..18_446_744_073_709_551_616.0).contains(&c) {
        Ok(Duration::from_nanos(c as u64))
    } else {
        Err(WcetError::Overflow {
            field,
            value_ns: v,
            fix: "the samples are too large or too spread for a u64 nanosecond bound; check units",
        })
    }
}

/// One EVT analysis offered as the pWCET.
struct Candidate {
    method: PwcetMethod,
    upper: Duration,
    estimate: Option<Duration>,
    gof_ok: Option<bool>,
    label: &'static str,
}

/// Chooses the pWCET for ascending `sorted` samples from the analyses' results, adding to
/// `warnings` whatever weakens it.
pub(crate) fn decide(
    c: &WcetConfig,
    sorted: &[u64],
    bm: &Result<BlockMaximaReport, String>,
    pot: &Result<PotReport, String>,
    warnings: &mut Vec<String>,
) -> Result<Decision, WcetError> {
    let n = sorted.len();
    let worst = sorted[n - 1];
    let mut candidates = Vec::new();
    if let Ok(r) = &bm {
        push_candidate(
            &mut candidates,
            warnings,
            "block maxima",
            PwcetMethod::BlockMaxima { model: r.selected },
            r.pwcet_estimate_ns,
            r.pwcet_upper_ns,
            &r.goodness_of_fit,
        );
    }
    if let Ok(r) = &pot {
        push_candidate(
            &mut candidates,
            warnings,
            "peaks over threshold",
            PwcetMethod::PeaksOverThreshold { model: r.selected },
            r.pwcet_estimate_ns,
            r.pwcet_upper_ns,
            &r.goodness_of_fit,
        );
        if r.gpd.is_some() && !r.stability.stable {
            warnings.push(format!("POT threshold stability not confirmed: {}", r.stability.note));
        }
    }
    let os_j = if c.method == MethodChoice::Auto {
        order_statistic_excess_count(n, c.exceedance_probability, c.confidence)
    } else {
        None
    };
    let (method, bound, estimate, confidence, reason, gof_ok) = if let Some(j) = os_j {
        let v = sorted[n - 1 - j];
        let reason = format!(
            "order statistic: with {n} i.i.d. samples the value with {j} samples above it is \
             at or above the per-job (1 - {p:e})-quantile with probability >= {conf} \
             (binomial argument, no tail model needed; needs n >= {m})",
            p = c.exceedance_probability,
            conf = c.confidence,
            m = order_statistic_min_samples(c.exceedance_probability, c.confidence)
        );
        (
            PwcetMethod::OrderStatistic { samples_above: j },
            v,
            None,
            Some(c.confidence),
            reason,
            Some(true),
        )
    } else if let Some(ch) = choose(&candidates) {
        let others: Vec<String> = candidates
            .iter()
            .filter(|o| o.label != ch.label)
            .map(|o| {
                let rej = if o.gof_ok == Some(false) { ", fit rejected" } else { "" };
                format!("{} gave {} ns{rej}", o.label, o.upper.as_nanos())
            })
            .collect();
        if ch.gof_ok.is_none() {
            warnings.push("goodness of fit not tested (gof_bootstrap = 0)".into());
        }
        let fit_note = match ch.gof_ok {
            Some(true) => "its goodness-of-fit test does not reject the model".to_string(),
            _ => "goodness of fit was not tested (gof_bootstrap = 0)".to_string(),
        };
        let reason = format!(
            "{}: {}-level profile-likelihood upper bound of the per-job (1 - {:e})-quantile; {}{}",
            ch.label,
            c.confidence,
            c.exceedance_probability,
            fit_note,
            if others.is_empty() {
                String::new()
            } else {
                format!(
                    "; the largest bound among analyses not rejected by goodness of fit is used (other: {})",
                    others.join(", ")
                )
            }
        );
        (ch.method.clone(), ch.upper.as_nanos(), ch.estimate, Some(c.confidence), reason, ch.gof_ok)
    } else {
        let margin = c.fallback_margin;
        // worst + ⌈worst × (margin − 1)⌉, so margin 1 is exactly the maximum.
        let extra = ceil_duration("pwcet", worst as f64 * (margin - 1.0))?;
        let v = worst.checked_add(extra.as_nanos()).ok_or(WcetError::Overflow {
            field: "pwcet",
            value_ns: worst as f64 * margin,
            fix: "the samples are too large for a u64 nanosecond bound with this margin; check units",
        })?;
        let note = |l: &str, r: Result<(), &String>| match r {
            Err(e) => format!("{l}: {e}"),
            Ok(()) => match candidates.iter().find(|x| x.label == l) {
                Some(x) => format!(
                    "{l}: every tail model tried is rejected by its goodness-of-fit test \
                     (its untrustworthy bound was {} ns)",
                    x.upper.as_nanos()
                ),
                None => format!("{l}: no finite bound"),
            },
        };
        let why = [
            note("block maxima", bm.as_ref().map(|_| ())),
            note("peaks over threshold", pot.as_ref().map(|_| ())),
        ];
        let reason = format!(
            "EMPIRICAL FALLBACK, no probabilistic guarantee: observed maximum x {margin}; \
             extreme value theory could not be used ({})",
            why.join("; ")
        );
        warnings
            .push("pWCET is the empirical fallback: it carries no exceedance probability".into());
        (PwcetMethod::EmpiricalFallback { margin }, v, None, None, reason, Some(false))
    };
    // With fewer than 1/p samples the maximum is expected below the (1−p)-quantile, so a
    // bound below it contradicts the data: raise it.
    let mut pwcet = bound;
    if pwcet < worst && (n as f64) * c.exceedance_probability < 1.0 {
        warnings.push(format!(
            "the bound {pwcet} ns was below the observed maximum {worst} ns and was raised to it"
        ));
        pwcet = worst;
    }
    Ok(Decision { method, pwcet, estimate, confidence, reason, gof_ok })
}

/// The warning for i.i.d. checks that did not pass.
pub(crate) fn iid_warning(iid: &IidReport) -> String {
    let failed: Vec<String> = [&iid.ljung_box, &iid.runs, &iid.ks_halves]
        .iter()
        .filter(|t| t.rejected)
        .map(|t| {
            format!(
                "{} (statistic {:.4}, p = {:.3e})",
                t.name,
                t.statistic.unwrap_or(f64::NAN),
                t.p_value.unwrap_or(f64::NAN)
            )
        })
        .collect();
    if failed.is_empty() {
        format!("i.i.d. not established: {} of 3 tests could run", iid.tests_run)
    } else {
        format!(
            "samples are not i.i.d. at family-wise level {}: rejected by {}; the pWCET does not \
             meet MBPTA's assumptions",
            iid.alpha,
            failed.join(", ")
        )
    }
}

#[allow(clippy::too_many_arguments)]
fn push_candidate(
    out: &mut Vec<Candidate>,
    warnings: &mut Vec<String>,
    label: &'static str,
    method: PwcetMethod,
    estimate_ns: f64,
    upper_ns: Option<f64>,
    gof: &GofTest,
) {
    let Some(u) = upper_ns else {
        warnings.push(format!(
            "{label}: the upper confidence bound is unbounded (the tail shape is too uncertain); not used"
        ));
        return;
    };
    let Ok(upper) = ceil_duration("pwcet", u) else {
        warnings.push(format!("{label}: the bound {u:e} ns exceeds the u64 range; not used"));
        return;
    };
    out.push(Candidate {
        method,
        upper,
        estimate: ceil_duration("pwcet_estimate", estimate_ns).ok(),
        gof_ok: gof.p_value.map(|_| !gof.rejected),
        label,
    });
}

/// The largest bound among candidates whose fit is not rejected by goodness of fit.
fn choose(c: &[Candidate]) -> Option<&Candidate> {
    c.iter().filter(|x| x.gof_ok != Some(false)).max_by_key(|x| x.upper)
}
