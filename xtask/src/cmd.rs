//! Running external commands: echo them, run them, fail with a clear message.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A command line with environment overrides, printed before it runs.
#[derive(Debug, Clone)]
pub(crate) struct Cmd {
    program: OsString,
    args: Vec<OsString>,
    envs: Vec<(String, OsString)>,
    cwd: Option<PathBuf>,
}

impl Cmd {
    /// A command running `program`.
    pub(crate) fn new(program: impl Into<OsString>) -> Self {
        Self { program: program.into(), args: Vec::new(), envs: Vec::new(), cwd: None }
    }

    /// `cargo` as chosen by the invoking cargo (`$CARGO`), else `cargo` on `PATH`.
    pub(crate) fn cargo() -> Self {
        Self::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
    }

    /// Appends arguments.
    pub(crate) fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Appends one argument.
    pub(crate) fn arg(self, arg: impl Into<OsString>) -> Self {
        self.args([arg])
    }

    /// Sets an environment variable for the child.
    pub(crate) fn env(mut self, key: impl Into<String>, value: impl Into<OsString>) -> Self {
        self.envs.push((key.into(), value.into()));
        self
    }

    /// Runs in `dir`.
    pub(crate) fn cwd(mut self, dir: impl AsRef<Path>) -> Self {
        self.cwd = Some(dir.as_ref().to_path_buf());
        self
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.program);
        c.args(&self.args);
        for (k, v) in &self.envs {
            c.env(k, v);
        }
        if let Some(dir) = &self.cwd {
            c.current_dir(dir);
        }
        c
    }

    /// Runs with inherited stdio; an error if it cannot start or exits non-zero.
    pub(crate) fn run(&self) -> Result<()> {
        eprintln!("$ {self}");
        let status = self.command().status().with_context(|| format!("cannot start `{self}`"))?;
        if !status.success() {
            bail!("`{self}` failed ({status})");
        }
        Ok(())
    }

    /// Runs quietly and returns stdout; an error (with its stderr) if it exits non-zero.
    pub(crate) fn read(&self) -> Result<String> {
        let out = self.command().output().with_context(|| format!("cannot start `{self}`"))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            bail!("`{self}` failed ({}):\n{}", out.status, stderr.trim_end());
        }
        String::from_utf8(out.stdout).with_context(|| format!("`{self}` printed non-UTF-8"))
    }

    /// Like [`Cmd::run`], but also hands every stdout line to `on_line` (after echoing it).
    pub(crate) fn run_tee(&self, mut on_line: impl FnMut(&str)) -> Result<()> {
        eprintln!("$ {self}");
        let mut child = self
            .command()
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start `{self}`"))?;
        let stdout = child.stdout.take().context("no stdout pipe")?;
        for line in BufReader::new(stdout).lines() {
            let line = line.context("reading child stdout")?;
            println!("{line}");
            on_line(&line);
        }
        let status = child.wait()?;
        if !status.success() {
            bail!("`{self}` failed ({status})");
        }
        Ok(())
    }
}

impl std::fmt::Display for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (k, v) in &self.envs {
            write!(f, "{k}={} ", v.to_string_lossy())?;
        }
        write!(f, "{}", self.program.to_string_lossy())?;
        for a in &self.args {
            write!(f, " {}", a.to_string_lossy())?;
        }
        Ok(())
    }
}

/// Finds an executable on `PATH` (or checks an absolute/relative path).
pub(crate) fn which(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let p = PathBuf::from(program);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|p| p.is_file())
}

/// Runs `f` and returns its result with the wall time it took.
pub(crate) fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed())
}

/// Formats a duration as `1m 02.3s` or `4.5s`.
pub(crate) fn fmt_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs >= 60.0 {
        let m = (secs / 60.0).floor();
        format!("{m:.0}m {:04.1}s", secs - m * 60.0)
    } else {
        format!("{secs:.1}s")
    }
}

/// The workspace root that contains this xtask.
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_shows_env_and_args() {
        let c = Cmd::new("cargo").arg("test").env("A", "1");
        assert_eq!(c.to_string(), "A=1 cargo test");
    }

    #[test]
    fn durations() {
        assert_eq!(fmt_duration(Duration::from_millis(4_540)), "4.5s");
        assert_eq!(fmt_duration(Duration::from_millis(62_300)), "1m 02.3s");
    }

    #[test]
    fn read_and_fail() {
        assert_eq!(Cmd::new("sh").args(["-c", "echo hi"]).read().unwrap(), "hi\n");
        let err = Cmd::new("sh").args(["-c", "exit 3"]).run().unwrap_err();
        assert!(err.to_string().contains("failed"), "{err}");
    }
}
