//! The schedulability-ratio experiment: fraction of random task sets admitted versus total
//! utilisation for FIFO, EDF and fixed priority (non-preemptive tests), with the analysis
//! verdict checked against simulation; then the effect of 2 and 4 lanes. Writes CSV files and
//! SVG plots (plotters) into `docs/benchmarks/results/`.
//!
//! ```text
//! cargo run -p aegis-sched --release --example sim_schedulability [-- SETS [OUT_DIR]]
//! ```
//! SETS: task sets per utilisation level (default 1,000). Generator: 8 tasks, UUniFast-discard
//! utilisations, periods log-uniform in [10 ms, 100 ms] (whole µs), implicit deadlines,
//! deadline-monotonic priorities; the same sets are analysed under every policy and lane count.
//! Simulation (one lane, every set): synchronous periodic releases, every job exactly its WCET,
//! late jobs run late, 10 × the longest period.

use aegis_sched::analysis::Policy;
use aegis_sched::sim::{SweepConfig, SweepPoint, TaskSetGenerator, sweep, sweep_csv};
use plotters::prelude::*;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Instant;

const POLICIES: [(Policy, &str, RGBColor); 3] = [
    (Policy::Fifo, "fifo", RGBColor(230, 120, 20)),
    (Policy::Edf, "edf", RGBColor(30, 100, 200)),
    (Policy::FixedPriority, "fp", RGBColor(40, 160, 60)),
];

fn lanes(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn plot_ratio(path: &Path, points: &[SweepPoint], sets: usize) -> Res<()> {
    let root = SVGBackend::new(path, (820, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Non-preemptive schedulability, 1 lane ({sets} sets per point, n = 8)"),
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(55)
        .build_cartesian_2d(0.0f64..1.02, 0.0f64..1.02)?;
    chart
        .configure_mesh()
        .x_desc("total utilisation U")
        .y_desc("schedulability ratio (admitted / generated)")
        .draw()?;
    for (policy, name, color) in POLICIES {
        let _ = policy;
        let series: Vec<(f64, f64)> = points
            .iter()
            .filter(|p| p.policy == name && p.lanes == 1)
            .map(|p| (p.utilisation, p.ratio))
            .collect();
        chart
            .draw_series(LineSeries::new(series.clone(), color.stroke_width(2)))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart.draw_series(series.iter().map(|&(x, y)| Circle::new((x, y), 3, color.filled())))?;
    }
    chart.configure_series_labels().border_style(BLACK).background_style(WHITE).draw()?;
    root.present()?;
    Ok(())
}

fn plot_lanes(path: &Path, points: &[SweepPoint], sets: usize) -> Res<()> {
    let root = SVGBackend::new(path, (1200, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((1, 3));
    let lane_colors =
        [(1u32, RGBColor(120, 120, 120)), (2, RGBColor(30, 100, 200)), (4, RGBColor(200, 40, 40))];
    for ((_, name, _), area) in POLICIES.iter().zip(panels.iter()) {
        let mut chart = ChartBuilder::on(area)
            .caption(format!("{name}: lanes 1 / 2 / 4 ({sets} sets per point)"), ("sans-serif", 17))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(45)
            .build_cartesian_2d(0.0f64..4.05, 0.0f64..1.02)?;
        chart.configure_mesh().x_desc("total utilisation U").y_desc("ratio").draw()?;
        for (l, color) in lane_colors {
            let series: Vec<(f64, f64)> = points
                .iter()
                .filter(|p| p.policy == *name && p.lanes == l)
                .map(|p| (p.utilisation, p.ratio))
                .collect();
            chart
                .draw_series(LineSeries::new(series, color.stroke_width(2)))?
                .label(format!("{l} lane(s)"))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        chart.configure_series_labels().border_style(BLACK).background_style(WHITE).draw()?;
    }
    root.present()?;
    Ok(())
}

fn main() -> Res<()> {
    let mut args = std::env::args().skip(1);
    let sets: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_000);
    let out: PathBuf = args.next().map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/benchmarks/results")
    });
    std::fs::create_dir_all(&out)?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let policies: Vec<Policy> = POLICIES.iter().map(|p| p.0).collect();

    // (b) one lane, U = 0.05 … 1.00, every set also simulated.
    let t = Instant::now();
    let cfg = SweepConfig {
        generator: TaskSetGenerator::default(),
        utilisations: (1..=20).map(|i| f64::from(i) * 0.05).collect(),
        sets_per_level: sets,
        policies: policies.clone(),
        lanes: vec![lanes(1)],
        simulate_sets: sets,
        horizon_periods: 10,
        seed: 2026,
        threads,
    };
    let points = sweep(&cfg);
    std::fs::write(out.join("scheduler-schedulability.csv"), sweep_csv(&points))?;
    plot_ratio(&out.join("scheduler-schedulability.svg"), &points, sets)?;
    println!("one lane: {:.1} s", t.elapsed().as_secs_f64());
    println!(
        "| U | fifo | edf | fp | simulated | admitted & missed | refused & missed | refused & clean |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for u in &cfg.utilisations {
        let at: Vec<&SweepPoint> =
            points.iter().filter(|p| (p.utilisation - u).abs() < 1e-9).collect();
        let r = |n: &str| at.iter().find(|p| p.policy == n).map_or(0.0, |p| p.ratio);
        let sum = |f: fn(&SweepPoint) -> usize| at.iter().map(|p| f(p)).sum::<usize>();
        println!(
            "| {u:.2} | {:.3} | {:.3} | {:.3} | {} | {} | {} | {} |",
            r("fifo"),
            r("edf"),
            r("fp"),
            sum(|p| p.simulated),
            sum(|p| p.admitted_missed),
            sum(|p| p.refused_missed),
            sum(|p| p.refused_clean)
        );
    }
    let jobs: u64 = points.iter().map(|p| p.jobs_simulated).sum();
    let bad: usize = points.iter().map(|p| p.admitted_missed).sum();
    println!("simulated jobs: {jobs}; admitted sets that missed in simulation: {bad}");

    // (c) lanes 1, 2, 4; U = 0.1 … 4.0 (analysis only).
    let t = Instant::now();
    let cfg = SweepConfig {
        utilisations: (1..=40).map(|i| f64::from(i) * 0.1).collect(),
        lanes: vec![lanes(1), lanes(2), lanes(4)],
        simulate_sets: 0,
        ..cfg
    };
    let lane_points = sweep(&cfg);
    std::fs::write(out.join("scheduler-lanes.csv"), sweep_csv(&lane_points))?;
    plot_lanes(&out.join("scheduler-lanes.svg"), &lane_points, sets)?;
    println!("lanes: {:.1} s", t.elapsed().as_secs_f64());
    println!("| U | policy | 1 lane | 2 lanes | 4 lanes |");
    println!("|---|---|---|---|---|");
    for u in [0.5, 0.8, 1.0, 1.2, 1.5, 1.8, 2.0, 2.5, 3.0, 3.5, 4.0] {
        for (_, name, _) in POLICIES {
            let r = |l: u32| {
                lane_points
                    .iter()
                    .find(|p| (p.utilisation - u).abs() < 1e-9 && p.policy == name && p.lanes == l)
                    .map_or(0.0, |p| p.ratio)
            };
            println!("| {u:.1} | {name} | {:.3} | {:.3} | {:.3} |", r(1), r(2), r(4));
        }
    }
    if bad > 0 {
        return Err(format!("{bad} admitted set(s) missed a deadline in simulation").into());
    }
    Ok(())
}
