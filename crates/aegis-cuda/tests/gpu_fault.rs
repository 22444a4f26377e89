//! GPU fault containment (its own test binary, never run under compute-sanitizer: it plants an
//! illegal-address fault on purpose).
//!
//! Measured on an H200 with driver 580.159.04 (ADR 0002): a sticky error in one CUDA context
//! poisons every context of the process, primary and dedicated alike. The fault boundary for
//! sticky GPU errors is therefore the process: these tests check that the fault is reported as
//! a typed error (never a crash or a hang) inside a child process, and that the parent — which
//! shares the GPU but not the process — keeps working.

use aegis_cuda::{
    AegisCudaError, CudaContext, CudaStream, GemmWorkload, SpinKernel, StreamPriority,
};
use aegis_trace::Duration;
use std::process::Command;

const CHILD: &str = "child_process_faults_one_context_and_probes_the_others";

/// Entry point of the child process: fault a dedicated context, then report (on stdout) what
/// every other context in this process can still do. Ignored in normal runs; started by
/// `fault_is_contained_to_its_process` with `--ignored`.
#[test]
#[ignore = "child-process entry of fault_is_contained_to_its_process"]
fn child_process_faults_one_context_and_probes_the_others() {
    let primary = CudaContext::new(0).unwrap();
    let other = CudaContext::dedicated(0).unwrap();
    let victim = CudaContext::dedicated(0).unwrap();
    let ps = CudaStream::new(&primary, StreamPriority::Level(0)).unwrap();
    let os = CudaStream::new(&other, StreamPriority::Level(0)).unwrap();
    let vs = CudaStream::new(&victim, StreamPriority::Level(0)).unwrap();
    let (pk, ok, vk) = (
        SpinKernel::new(&primary).unwrap(),
        SpinKernel::new(&other).unwrap(),
        SpinKernel::new(&victim).unwrap(),
    );
    vk.launch_fault(&vs).unwrap();
    let fault = vs.synchronize().unwrap_err();
    let sticky =
        matches!(&fault, AegisCudaError::Driver { name, .. } if name.contains("ILLEGAL_ADDRESS"));
    println!("RESULT victim_fault={sticky}");
    let probe =
        |k: &SpinKernel, s: &CudaStream| k.launch_cycles(s, 1000, 1).and_then(|_| s.synchronize());
    println!("RESULT victim_after={}", probe(&vk, &vs).is_ok());
    println!("RESULT other_dedicated_after={}", probe(&ok, &os).is_ok());
    println!("RESULT primary_after={}", probe(&pk, &ps).is_ok());
    println!(
        "RESULT new_context_after={}",
        CudaContext::dedicated(0)
            .and_then(|c| {
                let s = CudaStream::new(&c, StreamPriority::Lowest)?;
                let k = SpinKernel::new(&c)?;
                probe(&k, &s)
            })
            .is_ok()
    );
    // Leave without running destructors against the poisoned device.
    std::process::exit(0);
}

#[test]
#[cfg_attr(not(feature = "gpu-tests"), ignore = "needs an NVIDIA GPU (cargo xtask gpu-bundle)")]
fn fault_is_contained_to_its_process() {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args(["--exact", CHILD, "--ignored", "--nocapture", "--test-threads=1"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("child exit: {}\n{stdout}", out.status);
    let result = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.split_once(&format!("RESULT {key}=")).map(|(_, v)| v.trim()))
            .unwrap_or_else(|| {
                panic!(
                    "child printed no {key}:\n{stdout}\n{}",
                    String::from_utf8_lossy(&out.stderr)
                )
            })
            == "true"
    };
    assert!(out.status.success(), "the fault crashed the child instead of being reported");
    assert!(result("victim_fault"), "the fault was not reported as CUDA_ERROR_ILLEGAL_ADDRESS");
    assert!(!result("victim_after"), "a sticky error must poison the faulting context");
    // Whether the other contexts of the faulting process survive is recorded (ADR 0002), not
    // assumed: on the H200 / driver 580 they did not.
    println!(
        "other dedicated context usable after the fault: {}; primary: {}; new context: {}",
        result("other_dedicated_after"),
        result("primary_after"),
        result("new_context_after")
    );
    // The parent process shares the GPU but not the faulting process: it keeps working.
    let c = CudaContext::new(0).unwrap();
    let s = CudaStream::new(&c, StreamPriority::Level(0)).unwrap();
    let mut k = SpinKernel::new(&c).unwrap();
    k.calibrate(&s).unwrap();
    k.launch_for(&s, Duration::from_millis(2), 1).unwrap();
    s.synchronize().unwrap();
    let mut g = GemmWorkload::new(&c, 256, &s).unwrap();
    g.launch(&s).unwrap();
    s.synchronize().unwrap();
    let x = f32::from_le_bytes([0x3c; 4]);
    assert!((g.first_output().unwrap() - 256.0 * x * x).abs() < 1e-3);
}
