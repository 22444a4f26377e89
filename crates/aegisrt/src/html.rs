//! The HTML report of a run: admission table, per-model results, latency histograms and
//! latency-over-time plots (SVG drawn with `plotters`), runtime overhead.
//!
//! Owns the page layout only; every number comes from a [`RunReport`]. It must not compute
//! statistics.

use crate::runtime::RunReport;
use plotters::prelude::*;
use std::fmt::Write as _;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn ms(ns: u64) -> String {
    format!("{:.3}", ns as f64 / 1e6)
}

/// Response times (ms) of model `idx` over the run: (time since start s, response ms).
fn series(report: &RunReport, idx: u32) -> Vec<(f64, f64)> {
    let t0 = report.samples.iter().map(|s| s.release_ns).min().unwrap_or(0);
    report
        .samples
        .iter()
        .filter(|s| s.model == idx)
        .map(|s| ((s.release_ns - t0) as f64 / 1e9, (s.end_ns - s.release_ns) as f64 / 1e6))
        .collect()
}

fn histogram_svg(name: &str, data: &[(f64, f64)], deadline_ms: f64) -> Result<String, String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (560, 260)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let lo = data.iter().map(|d| d.1).fold(f64::INFINITY, f64::min).min(deadline_ms);
        let hi = data.iter().map(|d| d.1).fold(0.0, f64::max).max(deadline_ms) * 1.02;
        let lo = if lo.is_finite() { lo * 0.98 } else { 0.0 };
        let bins = 60usize;
        let width = ((hi - lo) / bins as f64).max(1e-9);
        let mut counts = vec![0u32; bins];
        for d in data {
            let b = (((d.1 - lo) / width) as usize).min(bins - 1);
            counts[b] += 1;
        }
        let ymax = counts.iter().copied().max().unwrap_or(1).max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("{name}: response time histogram"), ("sans-serif", 14))
            .margin(8)
            .x_label_area_size(30)
            .y_label_area_size(44)
            .build_cartesian_2d(lo..hi, 0u32..ymax + ymax / 10 + 1)
            .map_err(|e| e.to_string())?;
        chart.configure_mesh().x_desc("ms").y_desc("jobs").draw().map_err(|e| e.to_string())?;
        chart
            .draw_series(counts.iter().enumerate().map(|(i, c)| {
                let x0 = lo + i as f64 * width;
                Rectangle::new([(x0, 0), (x0 + width, *c)], BLUE.mix(0.6).filled())
            }))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new(
                [(deadline_ms, 0), (deadline_ms, ymax)],
                RED.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label("deadline");
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

fn timeline_svg(name: &str, data: &[(f64, f64)], deadline_ms: f64) -> Result<String, String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (560, 260)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let tmax = data.iter().map(|d| d.0).fold(0.0, f64::max).max(1e-3);
        let ymax = data.iter().map(|d| d.1).fold(0.0, f64::max).max(deadline_ms) * 1.05;
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("{name}: response time over the run"), ("sans-serif", 14))
            .margin(8)
            .x_label_area_size(30)
            .y_label_area_size(44)
            .build_cartesian_2d(0.0..tmax, 0.0..ymax)
            .map_err(|e| e.to_string())?;
        chart.configure_mesh().x_desc("s").y_desc("ms").draw().map_err(|e| e.to_string())?;
        // At most ~4000 points per plot: every k-th job (the histogram shows all of them).
        let step = (data.len() / 4000).max(1);
        chart
            .draw_series(
                data.iter().step_by(step).map(|(t, r)| Circle::new((*t, *r), 1, BLUE.filled())),
            )
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new(
                [(0.0, deadline_ms), (tmax, deadline_ms)],
                RED.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// The report as one self-contained HTML page.
///
/// # Errors
/// A plot that could not be drawn (the message says which).
pub fn render(report: &RunReport, machine: &str) -> Result<String, String> {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>AegisRT run: {}</title>\
         <style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}td:first-child{{text-align:left}}\
         .bad{{color:#b00;font-weight:bold}}</style></head><body>",
        esc(&report.deployment)
    );
    let _ = write!(
        h,
        "<h1>AegisRT run: {}</h1><p>policy {}, {} lane(s), ran {:.2} s on {}; {} jobs released, {} completed.</p>",
        esc(&report.deployment),
        esc(&report.policy),
        report.lanes,
        report.elapsed.as_secs_f64(),
        esc(machine),
        report.progress.released,
        report.progress.completed
    );
    h.push_str("<h2>Admission</h2><table><tr><th>model</th><th>engine</th><th>priority</th><th>period ms</th><th>deadline ms</th><th>WCET ms</th><th>WCET source</th><th>cost ms (WCET + host)</th><th>U</th><th>WCRT ms</th><th>verdict</th><th>reason</th></tr>");
    for r in &report.admission {
        let verdict = if r.admitted {
            "admitted"
        } else if r.forced {
            "FORCED"
        } else {
            "refused"
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.3}</td><td>{}</td><td>{}</td><td style=\"text-align:left\">{}</td></tr>",
            esc(r.model.as_str()),
            r.backend,
            r.priority,
            ms(r.period.as_nanos()),
            ms(r.deadline.as_nanos()),
            ms(r.wcet.as_nanos()),
            esc(&r.wcet_source.describe()),
            ms(r.cost.as_nanos()),
            r.utilisation,
            r.worst_case_response_time.map_or("-".into(), |d| ms(d.as_nanos())),
            verdict,
            esc(&r.reason)
        );
    }
    h.push_str("</table><h2>Results</h2><table><tr><th>model</th><th>jobs</th><th>p50 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th><th>CV %</th><th>misses</th><th>drops</th><th>overruns</th><th>withdrawn</th><th>faults</th></tr>");
    for m in &report.models {
        let r = &m.response;
        let miss = if m.deadline_misses > 0 { " class=\"bad\"" } else { "" };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td{miss}>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(m.model.as_str()),
            m.jobs,
            ms(r.p50_ns),
            ms(r.p99_ns),
            ms(r.p999_ns),
            ms(r.max_ns),
            r.cv * 100.0,
            m.deadline_misses,
            m.dropped,
            m.overruns,
            m.overruns_withdrawn,
            m.faults
        );
    }
    h.push_str("</table><h2>Latency</h2>");
    for m in &report.models {
        let Some(row) = report.admission.iter().find(|r| r.model == m.model) else { continue };
        let Some(idx) = report.sample_models.iter().position(|n| *n == m.model) else { continue };
        let idx = idx as u32;
        let data = series(report, idx);
        if data.is_empty() {
            continue;
        }
        let d = row.deadline.as_nanos() as f64 / 1e6;
        let _ = write!(
            h,
            "<h3>{}</h3>{}{}",
            esc(m.model.as_str()),
            histogram_svg(m.model.as_str(), &data, d)?,
            timeline_svg(m.model.as_str(), &data, d)?
        );
    }
    let o = &report.overhead;
    let _ = write!(
        h,
        "<h2>Runtime overhead</h2><table><tr><th>path</th><th>p50 µs</th><th>p99 µs</th><th>max µs</th><th>samples</th></tr>\
         <tr><td>release timer lateness</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{}</td></tr>\
         <tr><td>dispatch → start</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{}</td></tr>\
         <tr><td>completion bookkeeping</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{}</td></tr></table>",
        o.release_lateness.p50_ns as f64 / 1e3,
        o.release_lateness.p99_ns as f64 / 1e3,
        o.release_lateness.max_ns as f64 / 1e3,
        o.release_lateness.count,
        o.dispatch_to_start.p50_ns as f64 / 1e3,
        o.dispatch_to_start.p99_ns as f64 / 1e3,
        o.dispatch_to_start.max_ns as f64 / 1e3,
        o.dispatch_to_start.count,
        o.bookkeeping.p50_ns as f64 / 1e3,
        o.bookkeeping.p99_ns as f64 / 1e3,
        o.bookkeeping.max_ns as f64 / 1e3,
        o.bookkeeping.count,
    );
    h.push_str("</body></html>\n");
    Ok(h)
}
