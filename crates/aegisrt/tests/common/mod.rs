//! Shared helpers of the command-line tests: running the binary and scratch folders.

#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs the binary, through the emulator when the tests themselves run under one
/// (`cargo xtask cross-build --test` sets `AEGIS_EMULATED` to its runner, e.g. `qemu-aarch64`).
pub fn aegisrt(args: &[&str]) -> Output {
    let bin = env!("CARGO_BIN_EXE_aegisrt");
    let runner = std::env::var("AEGIS_EMULATED").unwrap_or_default();
    let mut words = runner.split_whitespace();
    let mut cmd = match words.next() {
        Some(emulator) => {
            let mut c = Command::new(emulator);
            c.args(words).arg(bin);
            c
        }
        None => Command::new(bin),
    };
    cmd.args(args).output().expect("run aegisrt")
}

/// stdout and stderr as text.
pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts a failure with an `error:` line containing every one of `needles`, and no panic.
pub fn assert_refused(out: &Output, needles: &[&str]) {
    let (_, err) = text(out);
    assert!(!out.status.success(), "expected a failure; stderr: {err}");
    assert!(err.contains("error:") && !err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}: {err}");
    }
}

/// A fresh scratch folder for one test.
pub fn scratch(test: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cli-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create scratch folder");
    d
}

/// True (after a note) when the tests run under an emulator, where a debug-build inference
/// takes seconds: the tests that run models skip there.
pub fn emulated() -> bool {
    match std::env::var("AEGIS_EMULATED") {
        Ok(r) if !r.is_empty() => {
            eprintln!("skipped: running under emulation ({r}); models are too slow for this test");
            true
        }
        _ => false,
    }
}

/// A path as a `&str`-able string.
pub fn s(p: &std::path::Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Serialises the tests of one binary that run models: on a 2-core machine two at once would
/// slow each other's jobs past their deadlines.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
