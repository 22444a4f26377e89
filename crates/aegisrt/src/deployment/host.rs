//! The `[host]` table: the per-job cost of the runtime's own host work, which admission charges
//! on top of each WCET, and the real-time scheduling of the runtime's threads.
//!
//! Owns [`HostSettings`] and the validation of its fields. It must not touch threads (the
//! runtime applies the settings: `runtime::realtime`).
//!
//! ```toml
//! [host]
//! overhead_us = 60     # per job: the core visit that dispatched it -> its start, + bookkeeping
//! rt_priority = 80     # SCHED_FIFO 1..98: lane workers; the release thread gets one more
//! cpus = [2, 3]        # pin those threads to these CPUs
//! ```

use super::DeploymentError;
use super::schema::RawHost;
use super::validate::Ctx;
use aegis_trace::Duration;

/// Largest CPU index accepted (the kernel's `CPU_SETSIZE` is 1024).
pub const MAX_CPU: usize = 1023;

/// Highest `rt_priority` accepted: the release thread runs one above, and 99 is `SCHED_FIFO`'s
/// top.
pub const MAX_RT_PRIORITY: u8 = 98;

/// `n` as an `rt_priority` (1 ..= [`MAX_RT_PRIORITY`]), or `None` when it is not one. The file's
/// `[host] rt_priority` and `aegisrt run --rt-priority` accept the same values.
pub fn rt_priority(n: i64) -> Option<u8> {
    u8::try_from(n).ok().filter(|p| (1..=MAX_RT_PRIORITY).contains(p))
}

/// How the runtime's host side is accounted and scheduled.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostSettings {
    /// Host time per job besides its execution: from the start of the scheduler-core visit
    /// that dispatched it (for a job dispatched at its release, the release batch) to its
    /// start on the lane, plus its completion bookkeeping. Admission charges every job
    /// `WCET + overhead`, so a set admitted with it stays schedulable when the host side costs
    /// that much; the run reports the jobs whose measured host time exceeded it.
    pub overhead: Duration,
    /// `SCHED_FIFO` priority (1..=98) of the lane workers during a run; the release thread runs
    /// one above, so it preempts a CPU lane's inference on the same core to release on time.
    /// `None`: the threads keep the caller's policy.
    pub rt_priority: Option<u8>,
    /// CPUs the release thread and the lane workers are pinned to during a run; empty: not
    /// pinned.
    pub cpus: Vec<usize>,
}

pub(super) fn host(c: &Ctx<'_>, raw: Option<RawHost>) -> Result<HostSettings, DeploymentError> {
    let Some(raw) = raw else { return Ok(HostSettings::default()) };
    let overhead = match raw.overhead_us.unwrap_or(0) {
        n @ 0..=100_000 => Duration::from_micros(n as u64),
        n => {
            return Err(c.err(
                "host.overhead_us",
                format!("{n} µs"),
                "use 0 to 100,000 µs (measure it: `aegisrt run` prints the host time per job)",
            ));
        }
    };
    let rt_priority = raw
        .rt_priority
        .map(|n| {
            rt_priority(n).ok_or_else(|| {
                c.err(
                    "host.rt_priority",
                    format!("{n} is not a SCHED_FIFO priority"),
                    format!(
                        "use 1 (lowest) to {MAX_RT_PRIORITY} (the release thread runs one \
                         above), or remove the key to keep the normal scheduler"
                    ),
                )
            })
        })
        .transpose()?;
    let mut cpus = Vec::new();
    for (i, n) in raw.cpus.unwrap_or_default().into_iter().enumerate() {
        let field = format!("host.cpus[{i}]");
        let cpu = usize::try_from(n).ok().filter(|&n| n <= MAX_CPU).ok_or_else(|| {
            c.err(&field, format!("{n} is not a CPU index"), format!("use 0 to {MAX_CPU}"))
        })?;
        if cpus.contains(&cpu) {
            return Err(c.err(field, format!("CPU {cpu} is listed twice"), "list each CPU once"));
        }
        cpus.push(cpu);
    }
    Ok(HostSettings { overhead, rt_priority, cpus })
}

#[cfg(test)]
mod tests {
    use super::HostSettings;
    use crate::deployment::{Deployment, DeploymentError};
    use aegis_trace::Duration;
    use std::path::Path;

    const MODELS: &str = r#"
[[models]]
name = "a"
backend = "tract"
model = "a.onnx"
period_ms = 10
priority = 0
"#;

    fn parse(host: &str) -> Result<HostSettings, DeploymentError> {
        Deployment::parse(&format!("{MODELS}{host}"), Path::new("/d/x.toml")).map(|d| d.host)
    }

    fn field(host: &str) -> String {
        match parse(host).expect_err("must be refused") {
            DeploymentError::Field { field, fix, .. } => {
                assert!(!fix.is_empty(), "{field}: says how to fix it");
                field
            }
            other => other.to_string(),
        }
    }

    #[test]
    fn absent_host_table_changes_nothing() {
        assert_eq!(parse("").unwrap(), HostSettings::default());
        assert_eq!(parse("[host]\n").unwrap(), HostSettings::default());
    }

    #[test]
    fn host_table_is_read_in_its_units() {
        let h = parse("[host]\noverhead_us = 60\nrt_priority = 80\ncpus = [1, 0]\n").unwrap();
        assert_eq!(h.overhead, Duration::from_micros(60));
        assert_eq!(h.rt_priority, Some(80));
        assert_eq!(h.cpus, vec![1, 0]);
    }

    #[test]
    fn host_mistakes_name_the_field() {
        assert_eq!(field("[host]\noverhead_us = -1\n"), "host.overhead_us");
        assert_eq!(field("[host]\noverhead_us = 100001\n"), "host.overhead_us");
        assert_eq!(field("[host]\nrt_priority = 0\n"), "host.rt_priority");
        assert_eq!(field("[host]\nrt_priority = 99\n"), "host.rt_priority");
        assert_eq!(field("[host]\ncpus = [0, 1, 0]\n"), "host.cpus[2]");
        assert_eq!(field("[host]\ncpus = [1024]\n"), "host.cpus[0]");
        assert_eq!(field("[host]\ncpus = [-1]\n"), "host.cpus[0]");
        assert!(field("[host]\nrt_prio = 5\n").contains("rt_prio"), "unknown key named");
    }
}
