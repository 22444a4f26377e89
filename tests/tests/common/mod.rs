//! Shared helpers of the end-to-end tests: deployments over the repository's example models,
//! and a fault-injecting wrapper around a real engine.

#![allow(dead_code, unreachable_pub)]

use aegisrt::backends::{self, BackendBuildError};
use aegisrt::context::{
    ActivationRegion, BackendError, MemoryRequirements, OpGraph, Placement, RuntimeBackend,
    TensorData,
};
use aegisrt::cuda::{CudaContext, CudaStream};
use aegisrt::deployment::{Deployment, DeploymentError, ModelDeployment};
use aegisrt::runtime::{self, Prepared, RunReport};
use aegisrt::trace::Duration;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The repository's `examples/` folder (model paths in the test deployments are relative to it).
pub fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// Parses a deployment written as if it lived in `examples/`.
pub fn parse(toml: &str) -> Result<Deployment, DeploymentError> {
    Deployment::parse(toml, &examples().join("e2e-test.toml"))
}

/// A unique scratch directory for one test.
pub fn scratch(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("aegisrt-e2e-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&d).expect("create scratch dir");
    d
}

/// True when the tests run under an emulator (`cargo xtask cross-build --test` sets
/// `AEGIS_EMULATED`): there a debug-build inference takes seconds, and the tests that need the
/// models to run in real time skip, saying so.
pub fn emulated() -> bool {
    match std::env::var("AEGIS_EMULATED") {
        Ok(runner) if !runner.is_empty() => {
            eprintln!(
                "skipped: running under emulation ({runner}); models are too slow for real time"
            );
            true
        }
        _ => false,
    }
}

/// Serialises the timing-sensitive tests of one test binary: on a 2-core machine two runs at
/// once would make each other's jobs overrun.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Prepares with the built-in engines (no profiling progress output).
pub fn prepare(dep: Deployment) -> Prepared {
    runtime::prepare(dep, false, |_| {}).expect("prepare")
}

/// Runs for `secs` seconds.
pub fn run(p: &Prepared, secs: u64) -> RunReport {
    p.run(Duration::from_secs(secs), |_| {}).expect("run")
}

/// The report row of `model` (models that did not run have none).
pub fn row<'r>(r: &'r RunReport, model: &str) -> Option<&'r aegisrt::runtime::ModelRun> {
    r.models.iter().find(|m| m.model.as_str() == model)
}

/// How an injected fault shows itself.
#[derive(Clone, Copy, Debug)]
pub enum Injected {
    /// The engine returns an execution error.
    Error,
    /// The engine panics.
    Panic,
    /// The inference succeeds but takes this much longer (an overrun, not a fault).
    Stall(std::time::Duration),
}

/// A real engine whose every `every`-th inference after arming fails or stalls (after running
/// it), to exercise the fault boundary and overrun containment with a real model's timing and
/// memory. Unarmed (profiling, warm-up) it is the engine it wraps.
pub struct FaultEvery {
    inner: Box<dyn RuntimeBackend>,
    every: u64,
    how: Injected,
    armed: Arc<AtomicBool>,
    calls: u64,
}

impl FaultEvery {
    /// Wraps `inner`.
    pub fn new(
        inner: Box<dyn RuntimeBackend>,
        every: u64,
        how: Injected,
        armed: Arc<AtomicBool>,
    ) -> Self {
        FaultEvery { inner, every, how, armed, calls: 0 }
    }
}

impl RuntimeBackend for FaultEvery {
    fn engine(&self) -> &str {
        self.inner.engine()
    }
    fn placement(&self) -> Placement {
        self.inner.placement()
    }
    fn memory_requirements(&self) -> MemoryRequirements {
        self.inner.memory_requirements()
    }
    fn graph(&self) -> Option<OpGraph> {
        self.inner.graph()
    }
    fn bind_activation_memory(&mut self, region: ActivationRegion) -> Result<(), BackendError> {
        self.inner.bind_activation_memory(region)
    }
    fn prepare(&mut self, stream: Option<&CudaStream>) -> Result<(), BackendError> {
        self.inner.prepare(stream)
    }
    fn set_input(&mut self, input: &TensorData) -> Result<(), BackendError> {
        self.inner.set_input(input)
    }
    fn outputs(&mut self) -> Result<Vec<TensorData>, BackendError> {
        self.inner.outputs()
    }
    fn run(&mut self) -> Result<(), BackendError> {
        self.inner.run()?;
        if !self.armed.load(Ordering::Acquire) {
            return Ok(());
        }
        self.calls += 1;
        if self.calls.is_multiple_of(self.every) {
            match self.how {
                Injected::Error => {
                    return Err(BackendError::Execution {
                        engine: self.inner.engine().into(),
                        reason: format!("injected fault on inference {}", self.calls),
                    });
                }
                Injected::Panic => panic!("injected panic on inference {}", self.calls),
                Injected::Stall(d) => std::thread::sleep(d),
            }
        }
        Ok(())
    }
}

/// Builds every model of `dep` with the built-in registry, wrapping the models named in
/// `faulty` (unarmed: profiling and warm-up see the real engine), then arms the faults and runs
/// for `secs` seconds, printing the results table.
pub fn run_with_faults(
    dep: Deployment,
    faulty: &[(&str, u64, Injected)],
    secs: u64,
) -> (Prepared, RunReport) {
    let armed = Arc::new(AtomicBool::new(false));
    let build = |m: &ModelDeployment,
                 cuda: Option<&Arc<CudaContext>>|
     -> Result<Box<dyn RuntimeBackend>, BackendBuildError> {
        let b = backends::build(m, cuda)?;
        Ok(match faulty.iter().find(|(n, ..)| *n == m.name.as_str()) {
            Some(&(_, every, how)) => Box::new(FaultEvery::new(b, every, how, armed.clone())),
            None => b,
        })
    };
    let p = runtime::prepare_with(dep, false, build, |_| {}).expect("prepare");
    armed.store(true, Ordering::Release);
    let r = run(&p, secs);
    eprintln!("{}", r.results_table());
    (p, r)
}
