//! Validation of a raw deployment: every value checked, every error naming its field and fix.
//!
//! Owns the rules (ranges, units, uniqueness, defaults). It must not know TOML syntax.

use super::schema::{RawDeployment, RawModel};
use super::{BackendChoice, Deployment, DeploymentError, ModelDeployment};
use aegis_backend_cuda::KernelModelSpec;
use aegis_context::ResourceBudget;
use aegis_sched::analysis::Policy;
use aegis_sched::scheduler::{LateAction, OverrunAction};
use aegis_trace::{Duration, ModelId};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

pub(super) struct Ctx<'a> {
    file: &'a Path,
}

impl Ctx<'_> {
    pub(super) fn err(
        &self,
        field: impl Into<String>,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) -> DeploymentError {
        DeploymentError::Field {
            file: self.file.to_path_buf(),
            field: field.into(),
            problem: problem.into(),
            fix: fix.into(),
        }
    }

    /// A positive time in milliseconds (decimals allowed, nanosecond resolution).
    fn ms(&self, field: &str, v: f64, max_ms: f64) -> Result<Duration, DeploymentError> {
        if !v.is_finite() || v <= 0.0 {
            return Err(self.err(
                field,
                format!("{v} is not a positive number of milliseconds"),
                "give a positive time in ms",
            ));
        }
        if v > max_ms {
            return Err(self.err(
                field,
                format!("{v} ms is more than {max_ms} ms"),
                "check the unit: this field is in milliseconds",
            ));
        }
        Ok(Duration::from_nanos((v * 1e6).round() as u64))
    }

    fn path(&self, field: &str, p: &str) -> Result<PathBuf, DeploymentError> {
        if p.trim().is_empty() {
            return Err(self.err(
                field,
                "is empty",
                "give a file path (relative to the deployment file)",
            ));
        }
        let base = self.file.parent().unwrap_or(Path::new("."));
        Ok(if Path::new(p).is_absolute() { PathBuf::from(p) } else { base.join(p) })
    }
}

/// `p` with each `dir/..` pair removed, without touching the file system, for output paths
/// (printed and written as `target/x`, not `examples/../target/x`). Input paths are left as
/// written: through a symbolic link `dir/..` is not the folder holding `dir`. A `..` with no
/// directory before it is kept.
fn lexical(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir if !out.is_empty() => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    if out.is_empty() { PathBuf::from(".") } else { out.iter().collect() }
}

const MAX_PERIOD_MS: f64 = 3_600_000.0;

pub(super) fn deployment(raw: RawDeployment, file: &Path) -> Result<Deployment, DeploymentError> {
    let c = Ctx { file };
    let policy = match raw.policy.as_deref().unwrap_or("edf") {
        "edf" => Policy::Edf,
        "fifo" => Policy::Fifo,
        "fp" | "fixed_priority" => Policy::FixedPriority,
        other => {
            return Err(c.err(
                "policy",
                format!("unknown policy {other:?}"),
                "use \"edf\", \"fifo\" or \"fp\"",
            ));
        }
    };
    let lanes = match raw.lanes.unwrap_or(1) {
        n @ 1..=64 => NonZeroU32::new(n as u32).unwrap_or(NonZeroU32::MIN),
        n => return Err(c.err("lanes", format!("{n} lanes"), "use 1 to 64 lanes")),
    };
    let duration = match raw.duration_s {
        None => Duration::from_secs(10),
        Some(s) if s.is_finite() && s > 0.0 && s <= 86_400.0 => {
            Duration::from_nanos((s * 1e9).round() as u64)
        }
        Some(s) => {
            return Err(c.err(
                "duration_s",
                format!("{s} s"),
                "give a positive duration of at most 86400 s",
            ));
        }
    };
    let pool_bytes = match raw.pool_mib.unwrap_or(64) {
        n @ 1..=1_048_576 => (n as u64) << 20,
        n => return Err(c.err("pool_mib", format!("{n} MiB"), "use 1 to 1048576 MiB")),
    };
    let trace_capacity = match raw.trace_capacity {
        None => None,
        Some(n @ 1..=50_000_000) => Some(n as usize),
        Some(n) => {
            return Err(c.err(
                "trace_capacity",
                format!("{n} events"),
                "use 1 to 50,000,000 events",
            ));
        }
    };
    let late_action = match raw.late_action.as_deref().unwrap_or("drop") {
        "drop" => LateAction::Drop,
        "run_late" => LateAction::RunLate,
        other => {
            return Err(c.err(
                "late_action",
                format!("unknown action {other:?}"),
                "use \"drop\" or \"run_late\"",
            ));
        }
    };
    let overrun = match raw.overrun.as_deref().unwrap_or("demote") {
        "demote" => OverrunAction::Demote,
        "skip_next_release" => OverrunAction::SkipNextRelease,
        "drop_late_jobs" => OverrunAction::DropLateJobs,
        "report_only" => OverrunAction::ReportOnly,
        other => {
            return Err(c.err(
                "overrun",
                format!("unknown action {other:?}"),
                "use \"demote\", \"skip_next_release\", \"drop_late_jobs\" or \"report_only\"",
            ));
        }
    };
    let profile_samples = match raw.profile_samples.unwrap_or(300) {
        n @ 30..=1_000_000 => n as usize,
        n => {
            return Err(c.err(
                "profile_samples",
                format!("{n}"),
                "use 30 to 1,000,000 samples (EVT needs at least 30)",
            ));
        }
    };
    let overrun_grace = match raw.overrun_grace_us.unwrap_or(300) {
        n @ 0..=1_000_000 => Duration::from_micros(n as u64),
        n => return Err(c.err("overrun_grace_us", format!("{n}"), "use 0 to 1,000,000 µs")),
    };
    let overrun_restore_after = match raw.overrun_restore_after.unwrap_or(5) {
        n @ 0..=1_000_000 => n as u32,
        n => {
            return Err(c.err(
                "overrun_restore_after",
                format!("{n}"),
                "use 0 (never) to 1,000,000 jobs",
            ));
        }
    };
    let host = super::host::host(&c, raw.host)?;
    if raw.models.is_empty() {
        return Err(c.err("models", "no models", "add at least one [[models]] table"));
    }
    let mut models: Vec<ModelDeployment> = Vec::with_capacity(raw.models.len());
    for (i, m) in raw.models.into_iter().enumerate() {
        let md = model(&c, i, m)?;
        if let Some(prev) = models.iter().find(|p| p.name == md.name) {
            return Err(c.err(
                format!("models[{i}].name"),
                format!("{} is already used", prev.name),
                "give every model a unique name",
            ));
        }
        if let Some(prev) = models.iter().find(|p| p.priority == md.priority) {
            return Err(c.err(
                format!("models[{i}].priority"),
                format!("{} is already the priority of {}", md.priority, prev.name),
                "give every model a unique priority (0 is the highest)",
            ));
        }
        models.push(md);
    }
    Ok(Deployment {
        file: file.to_path_buf(),
        name: raw.name.unwrap_or_else(|| {
            file.file_stem().map_or("deployment".into(), |s| s.to_string_lossy().into_owned())
        }),
        policy,
        lanes,
        duration,
        pool_bytes,
        trace: raw.trace.map(|p| c.path("trace", &p).map(|p| lexical(&p))).transpose()?,
        report: raw.report.map(|p| c.path("report", &p).map(|p| lexical(&p))).transpose()?,
        trace_capacity,
        late_action,
        overrun,
        profile_samples,
        overrun_grace,
        overrun_restore_after,
        host,
        models,
    })
}

fn model(c: &Ctx<'_>, i: usize, m: RawModel) -> Result<ModelDeployment, DeploymentError> {
    let f = |name: &str| format!("models[{i}].{name}");
    let name = match m.name {
        Some(n)
            if !n.trim().is_empty()
                && n.chars().all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch)) =>
        {
            n
        }
        Some(n) => {
            return Err(c.err(
                f("name"),
                format!(
                    "{n:?} is empty or has characters other than letters, digits, '-', '_', '.'"
                ),
                "use a short identifier",
            ));
        }
        None => return Err(c.err(f("name"), "is missing", "give the model a unique name")),
    };
    let backend_name = m.backend.ok_or_else(|| {
        c.err(f("backend"), "is missing", "use \"tract\", \"ort\", \"cuda\" or \"trt\"")
    })?;
    let need_model = |what: &str| -> Result<PathBuf, DeploymentError> {
        let p = m.model.as_deref().ok_or_else(|| {
            c.err(
                f("model"),
                format!("is missing (backend {backend_name} needs {what})"),
                format!("give the path of the {what}"),
            )
        })?;
        c.path(&f("model"), p)
    };
    let backend = match backend_name.as_str() {
        "tract" => BackendChoice::Tract { model: need_model("ONNX file")? },
        "ort" => BackendChoice::Ort {
            model: need_model("ONNX file")?,
            options: m.options.clone().unwrap_or_default(),
        },
        "trt" => BackendChoice::Trt {
            engine: need_model("serialized TensorRT engine")?,
            options: m.options.clone().unwrap_or_default(),
        },
        "cuda" => {
            let kernels = m.kernels.ok_or_else(|| {
                c.err(
                    f("kernels"),
                    "is missing (backend cuda needs a kernel sequence)",
                    "e.g. kernels = [{ spin_us = 1500 }, { gemm_n = 1024 }]",
                )
            })?;
            let value = toml::Value::Table(toml::Table::from_iter([(
                "kernels".to_owned(),
                toml::Value::Array(kernels),
            )]));
            let spec: KernelModelSpec = value.try_into().map_err(|e: toml::de::Error| {
                c.err(
                    f("kernels"),
                    e.message().to_owned(),
                    "each step is { spin_us = N[, blocks = B] } or { gemm_n = N[, repeat = R] }",
                )
            })?;
            spec.validate().map_err(|e| {
                c.err(format!("models[{i}].kernels[{}]", e.index), e.problem.clone(), e.fix)
            })?;
            BackendChoice::Cuda { spec }
        }
        other => {
            return Err(c.err(
                f("backend"),
                format!("unknown backend {other:?}"),
                "use \"tract\", \"ort\", \"cuda\" or \"trt\"",
            ));
        }
    };
    let period = c.ms(
        &f("period_ms"),
        m.period_ms
            .ok_or_else(|| c.err(f("period_ms"), "is missing", "give the release period in ms"))?,
        MAX_PERIOD_MS,
    )?;
    let deadline = match m.deadline_ms {
        Some(d) => c.ms(&f("deadline_ms"), d, MAX_PERIOD_MS)?,
        None => period,
    };
    if deadline > period {
        return Err(c.err(
            f("deadline_ms"),
            format!("{deadline} is longer than the period {period}"),
            "use a deadline at most the period",
        ));
    }
    let offset = match m.offset_ms {
        None => Duration::ZERO,
        Some(0.0) => Duration::ZERO,
        Some(o) => c.ms(&f("offset_ms"), o, MAX_PERIOD_MS)?,
    };
    let sporadic_jitter = match m.sporadic_jitter_ms {
        None => Duration::ZERO,
        Some(0.0) => Duration::ZERO,
        Some(o) => c.ms(&f("sporadic_jitter_ms"), o, MAX_PERIOD_MS)?,
    };
    let priority = match m.priority {
        Some(p @ 0..=1_000_000) => p as u32,
        Some(p) => {
            return Err(c.err(f("priority"), format!("{p}"), "use 0 (highest) to 1,000,000"));
        }
        None => {
            return Err(c.err(
                f("priority"),
                "is missing",
                "give a unique priority, 0 is the highest",
            ));
        }
    };
    let wcet = match m.wcet_us {
        None => None,
        Some(w) if w > 0 && Duration::from_micros(w as u64) <= deadline => {
            Some(Duration::from_micros(w as u64))
        }
        Some(w) if w > 0 => {
            return Err(c.err(f("wcet_us"), format!("{w} µs exceeds the deadline {deadline}"), "the model can never meet its deadline: lengthen the deadline or use a faster model"));
        }
        Some(w) => {
            return Err(c.err(
                f("wcet_us"),
                format!("{w}"),
                "give a positive WCET in µs, or leave it out to profile the model",
            ));
        }
    };
    let memory_limit = match m.memory_limit_mib.unwrap_or(512) {
        n @ 1..=1_048_576 => (n as u64) << 20,
        n => return Err(c.err(f("memory_limit_mib"), format!("{n} MiB"), "use 1 to 1048576 MiB")),
    };
    let stream_limit = match m.stream_limit.unwrap_or(1) {
        n @ 1..=64 => n as u32,
        n => return Err(c.err(f("stream_limit"), format!("{n}"), "use 1 to 64 streams")),
    };
    let compute_budget = match m.compute_budget_ms {
        Some(b) => c.ms(&f("compute_budget_ms"), b, MAX_PERIOD_MS)?,
        None => deadline,
    };
    let budget = ResourceBudget { memory_limit, stream_limit, compute_budget, period };
    if let Some(e) = budget.validation_error() {
        let field = match e.field {
            aegis_context::BudgetField::MemoryLimit => "memory_limit_mib",
            aegis_context::BudgetField::StreamLimit => "stream_limit",
            aegis_context::BudgetField::ComputeBudget => "compute_budget_ms",
            aegis_context::BudgetField::Period => "period_ms",
        };
        return Err(c.err(f(field), e.problem, e.fix));
    }
    Ok(ModelDeployment {
        name: ModelId::new(&name),
        backend,
        period,
        deadline,
        offset,
        sporadic_jitter,
        priority,
        wcet,
        budget,
    })
}

#[cfg(test)]
mod tests {
    use crate::deployment::{BackendChoice, Deployment, DeploymentError};
    use aegis_sched::analysis::Policy;
    use aegis_trace::Duration;
    use std::path::Path;

    const GOOD: &str = r#"
name = "demo"
policy = "fp"
lanes = 1
duration_s = 2.5
[[models]]
name = "a"
backend = "tract"
model = "models/a.onnx"
period_ms = 10
deadline_ms = 8.5
priority = 0
wcet_us = 2000
[[models]]
name = "b"
backend = "cuda"
kernels = [{ spin_us = 1500 }, { gemm_n = 256, repeat = 2 }]
period_ms = 20
priority = 1
"#;

    fn field_error(text: &str) -> (String, String) {
        match Deployment::parse(text, Path::new("/d/x.toml")).unwrap_err() {
            DeploymentError::Field { field, problem, .. } => (field, problem),
            e => panic!("{e}"),
        }
    }

    #[test]
    fn relative_paths_are_joined_to_the_file_and_tidied() {
        use super::lexical;
        assert_eq!(lexical(Path::new("examples/../target/a.html")), Path::new("target/a.html"));
        assert_eq!(lexical(Path::new("/d/e/../../t")), Path::new("/t"));
        assert_eq!(lexical(Path::new("../x")), Path::new("../x"));
        assert_eq!(lexical(Path::new("a/./b/..")), Path::new("a"));
        assert_eq!(lexical(Path::new("a/..")), Path::new("."));
        let text = format!("report = \"../out/r.html\"\n{GOOD}");
        let d = Deployment::parse(&text, Path::new("/d/ex/x.toml")).unwrap();
        assert_eq!(d.report.as_deref(), Some(Path::new("/d/out/r.html")));
    }

    #[test]
    fn the_trace_buffer_is_sized_for_the_run_unless_the_file_fixes_it() {
        use crate::deployment::{TRACE_CAPACITY_MAX, TRACE_CAPACITY_MIN};
        let d = Deployment::parse(GOOD, Path::new("/d/x.toml")).unwrap();
        assert_eq!(d.trace_capacity, None);
        // Periods 10 and 20 ms: a short run gets the minimum.
        assert_eq!(d.trace_capacity_for(d.duration), TRACE_CAPACITY_MIN);
        // 1000 s: (100 001 + 50 001) releases × 8 events + 10 000.
        assert_eq!(d.trace_capacity_for(Duration::from_secs(1000)), 150_002 * 8 + 10_000);
        assert_eq!(d.trace_capacity_for(Duration::from_secs(1_000_000)), TRACE_CAPACITY_MAX);
        let fixed = GOOD.replace("duration_s = 2.5", "duration_s = 2.5\ntrace_capacity = 5");
        let d = Deployment::parse(&fixed, Path::new("/d/x.toml")).unwrap();
        assert_eq!(d.trace_capacity_for(Duration::from_secs(1000)), 5);
    }

    #[test]
    fn a_good_file_is_validated_with_units_and_defaults() {
        let d = Deployment::parse(GOOD, Path::new("/d/x.toml")).unwrap();
        assert_eq!((d.name.as_str(), d.policy, d.lanes.get()), ("demo", Policy::FixedPriority, 1));
        assert_eq!(d.duration, Duration::from_millis(2500));
        let a = d.model("a").unwrap();
        assert_eq!(a.deadline, Duration::from_micros(8500));
        assert_eq!(a.wcet, Some(Duration::from_millis(2)));
        assert_eq!(a.backend, BackendChoice::Tract { model: "/d/models/a.onnx".into() });
        let b = d.model("b").unwrap();
        assert_eq!(b.deadline, b.period);
        assert!(matches!(&b.backend, BackendChoice::Cuda { spec } if spec.kernels.len() == 2));
        assert_eq!(b.backend.name(), "cuda");
    }

    #[test]
    fn every_bad_field_is_named() {
        let cases: Vec<(String, &str)> = vec![
            (GOOD.replace("policy = \"fp\"", "policy = \"rr\""), "policy"),
            (GOOD.replace("lanes = 1", "lanes = 0"), "lanes"),
            (GOOD.replace("duration_s = 2.5", "duration_s = -1"), "duration_s"),
            (GOOD.replace("period_ms = 10", "period_ms = 0"), "models[0].period_ms"),
            (GOOD.replace("deadline_ms = 8.5", "deadline_ms = 11"), "models[0].deadline_ms"),
            (GOOD.replace("wcet_us = 2000", "wcet_us = 9000"), "models[0].wcet_us"),
            (GOOD.replace("wcet_us = 2000", "wcet_us = -3"), "models[0].wcet_us"),
            (GOOD.replace("priority = 1", "priority = 0"), "models[1].priority"),
            (GOOD.replace("name = \"b\"", "name = \"a\""), "models[1].name"),
            (GOOD.replace("name = \"b\"", "name = \"b c\""), "models[1].name"),
            (GOOD.replace("backend = \"tract\"", "backend = \"tvm\""), "models[0].backend"),
            (GOOD.replace("model = \"models/a.onnx\"\n", ""), "models[0].model"),
            (GOOD.replace("spin_us = 1500", "spin_us = 0"), "models[1].kernels[0]"),
            (
                GOOD.replace("period_ms = 20", "period_ms = 20\ncompute_budget_ms = 30"),
                "models[1].compute_budget_ms",
            ),
            (
                GOOD.replace("period_ms = 20", "period_ms = 20\nmemory_limit_mib = 0"),
                "models[1].memory_limit_mib",
            ),
            (GOOD.replace("period_ms = 10", "period_ms = 1e12"), "models[0].period_ms"),
            ("name = \"x\"\n".to_string(), "models"),
        ];
        for (text, field) in cases {
            let (got, problem) = field_error(&text);
            assert_eq!(got, field, "{problem}");
        }
    }

    #[test]
    fn unknown_keys_and_syntax_errors_name_the_place() {
        let e = Deployment::parse(
            &GOOD.replace("priority = 0", "priority = 0\nperiod = 5"),
            Path::new("x.toml"),
        )
        .unwrap_err();
        assert!(matches!(e, DeploymentError::Syntax { .. }));
        assert!(e.to_string().contains("period"), "{e}");
        let e = Deployment::parse("name = ", Path::new("x.toml")).unwrap_err();
        assert!(e.to_string().contains("x.toml"), "{e}");
        let e = Deployment::load(Path::new("/nonexistent/deploy.toml")).unwrap_err();
        assert!(matches!(e, DeploymentError::Io { .. }));
    }
}
