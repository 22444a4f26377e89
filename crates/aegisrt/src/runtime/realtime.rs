//! Real-time scheduling of the runtime's own threads: `SCHED_FIFO` at `[host] rt_priority` for
//! every lane worker and one above for the release thread (it must preempt a CPU lane's
//! inference pinned to the same core to release on time), and CPU affinity to `[host] cpus`,
//! for the length of a run.
//!
//! Owns [`ThreadPolicy`] (what to apply), [`Saved`] (what it replaced, restored when the caller's
//! thread leaves the run) and [`RealtimeError`]. It must not know what the threads do.
//!
//! Linux only (the targets: x86_64 servers, aarch64 Jetson). `SCHED_FIFO` needs root,
//! `CAP_SYS_NICE` or an `RLIMIT_RTPRIO` at least the priority; the kernel's real-time throttling
//! (`/proc/sys/kernel/sched_rt_runtime_us`, 95 % by default) still leaves other tasks a share
//! when a runtime thread polls.

use crate::deployment::HostSettings;

/// Why the runtime's threads could not be given the `[host]` scheduling.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RealtimeError {
    /// The kernel refused `SCHED_FIFO` at that priority.
    #[error(
        "`host.rt_priority`: SCHED_FIFO priority {priority} refused: {source}; run as root or \
         with CAP_SYS_NICE (`setcap cap_sys_nice+ep <aegisrt binary>`), or raise RLIMIT_RTPRIO \
         (`ulimit -r {priority}`), or remove `rt_priority` to keep the normal scheduler"
    )]
    Priority {
        /// The priority asked for.
        priority: u8,
        /// The kernel's answer.
        #[source]
        source: std::io::Error,
    },
    /// A CPU of `host.cpus` is not one this process may run on.
    #[error(
        "`host.cpus`: CPU {cpu} is not available to this process (it may run on CPUs {allowed:?}); \
         list CPUs from that set"
    )]
    Cpu {
        /// The CPU asked for.
        cpu: usize,
        /// The CPUs the process may run on.
        allowed: Vec<usize>,
    },
    /// Reading or setting the affinity failed.
    #[error("`host.cpus`: CPU affinity: {0}; remove `cpus` to leave the threads unpinned")]
    Affinity(#[source] std::io::Error),
    /// The thread's current scheduling could not be read.
    #[error("`host.rt_priority`: reading the thread's scheduling policy: {0}")]
    Query(#[source] std::io::Error),
    /// Not a Linux build.
    #[error("`host`: rt_priority and cpus are supported on Linux only; remove them")]
    Unsupported,
}

/// What the runtime's threads get during a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ThreadPolicy {
    rt_priority: Option<u8>,
    cpus: Vec<usize>,
}

impl ThreadPolicy {
    /// The lane workers' policy, from a deployment's `[host]` table.
    pub(crate) fn of(h: &HostSettings) -> Self {
        ThreadPolicy { rt_priority: h.rt_priority, cpus: h.cpus.clone() }
    }

    /// The release thread's policy: the same, one priority level higher.
    pub(crate) fn for_release(&self) -> Self {
        ThreadPolicy { rt_priority: self.rt_priority.map(|p| p.saturating_add(1)), ..self.clone() }
    }

    /// Applies the policy to the calling thread; the returned [`Saved`] puts back what it
    /// replaced. Nothing to apply: nothing is touched.
    ///
    /// # Errors
    /// [`RealtimeError`]; the thread is left as it was.
    pub(crate) fn apply(&self) -> Result<Saved, RealtimeError> {
        if self.rt_priority.is_none() && self.cpus.is_empty() {
            return Ok(Saved { inner: None });
        }
        imp::apply(self).map(|s| Saved { inner: Some(s) })
    }
}

/// The calling thread's scheduling before [`ThreadPolicy::apply`]; restored on drop.
pub(crate) struct Saved {
    inner: Option<imp::State>,
}

impl Drop for Saved {
    fn drop(&mut self) {
        if let Some(s) = self.inner.take() {
            imp::restore(&s);
        }
    }
}

/// The CPUs the calling thread may run on: what `[host] cpus` may list.
///
/// # Errors
/// [`RealtimeError::Affinity`] when the kernel cannot say; [`RealtimeError::Unsupported`]
/// off Linux.
pub fn allowed_cpus() -> Result<Vec<usize>, RealtimeError> {
    imp::allowed_cpus()
}

#[cfg(target_os = "linux")]
mod imp {
    use super::{RealtimeError, ThreadPolicy};
    use crate::deployment::MAX_CPU;

    pub(super) struct State {
        policy: libc::c_int,
        param: libc::sched_param,
        affinity: Option<libc::cpu_set_t>,
    }

    fn get_affinity() -> Result<libc::cpu_set_t, RealtimeError> {
        // SAFETY: cpu_set_t is a plain bit array; all zeroes is the empty set.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: pid 0 is the calling thread; `set` is a valid, writable cpu_set_t of the
        // size passed.
        let rc =
            unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
        if rc != 0 {
            return Err(RealtimeError::Affinity(std::io::Error::last_os_error()));
        }
        Ok(set)
    }

    fn set_affinity(set: &libc::cpu_set_t) -> std::io::Result<()> {
        // SAFETY: pid 0 is the calling thread; `set` is a valid cpu_set_t of the size passed.
        let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set) };
        if rc != 0 { Err(std::io::Error::last_os_error()) } else { Ok(()) }
    }

    fn members(set: &libc::cpu_set_t) -> Vec<usize> {
        // SAFETY: CPU_ISSET reads one bit of a valid set; the index is below CPU_SETSIZE.
        (0..=MAX_CPU).filter(|&c| unsafe { libc::CPU_ISSET(c, set) }).collect()
    }

    pub(super) fn allowed_cpus() -> Result<Vec<usize>, RealtimeError> {
        get_affinity().map(|s| members(&s))
    }

    /// The calling thread's scheduling policy and parameters.
    pub(super) fn current() -> Result<(libc::c_int, libc::sched_param), RealtimeError> {
        let mut policy = 0;
        // SAFETY: an all-zero sched_param is valid.
        let mut param: libc::sched_param = unsafe { std::mem::zeroed() };
        // SAFETY: pthread_self() is always valid for the calling thread; the out-pointers are
        // valid and writable.
        let rc =
            unsafe { libc::pthread_getschedparam(libc::pthread_self(), &mut policy, &mut param) };
        if rc != 0 {
            return Err(RealtimeError::Query(std::io::Error::from_raw_os_error(rc)));
        }
        Ok((policy, param))
    }

    pub(super) fn apply(p: &ThreadPolicy) -> Result<State, RealtimeError> {
        let (policy, param) = current()?;
        let mut state = State { policy, param, affinity: None };
        if !p.cpus.is_empty() {
            let before = get_affinity()?;
            let allowed = members(&before);
            // SAFETY: as in get_affinity.
            let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
            for &cpu in &p.cpus {
                if !allowed.contains(&cpu) {
                    return Err(RealtimeError::Cpu { cpu, allowed });
                }
                // SAFETY: cpu <= MAX_CPU < CPU_SETSIZE (checked by the deployment).
                unsafe { libc::CPU_SET(cpu, &mut set) };
            }
            set_affinity(&set).map_err(RealtimeError::Affinity)?;
            state.affinity = Some(before);
        }
        if let Some(priority) = p.rt_priority {
            let param = libc::sched_param { sched_priority: libc::c_int::from(priority) };
            // SAFETY: as above; `param` is a valid sched_param.
            let rc = unsafe {
                libc::pthread_setschedparam(libc::pthread_self(), libc::SCHED_FIFO, &param)
            };
            if rc != 0 {
                restore(&state);
                let source = std::io::Error::from_raw_os_error(rc);
                return Err(RealtimeError::Priority { priority, source });
            }
        }
        Ok(state)
    }

    /// Best effort: lowering one's own priority and widening one's affinity back to a set the
    /// thread had are always permitted.
    pub(super) fn restore(s: &State) {
        // SAFETY: as in apply; `s.param` came from pthread_getschedparam.
        unsafe {
            libc::pthread_setschedparam(libc::pthread_self(), s.policy, &s.param);
        }
        if let Some(set) = &s.affinity {
            let _ = set_affinity(set);
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::{RealtimeError, ThreadPolicy};

    pub(super) struct State;

    pub(super) fn allowed_cpus() -> Result<Vec<usize>, RealtimeError> {
        Err(RealtimeError::Unsupported)
    }

    pub(super) fn apply(_: &ThreadPolicy) -> Result<State, RealtimeError> {
        Err(RealtimeError::Unsupported)
    }

    pub(super) fn restore(_: &State) {}
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::{RealtimeError, ThreadPolicy, allowed_cpus};

    /// The calling thread's policy and priority.
    fn sched() -> (libc::c_int, libc::c_int) {
        let (policy, param) = super::imp::current().expect("scheduling readable");
        (policy, param.sched_priority)
    }

    /// Runs `f` on a fresh thread (so a test never changes the test harness' thread).
    fn on_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::spawn(f).join().expect("test thread")
    }

    #[test]
    fn nothing_to_apply_touches_nothing() {
        on_thread(|| {
            let before = (sched(), allowed_cpus().unwrap());
            let saved = ThreadPolicy::default().apply().unwrap();
            assert_eq!((sched(), allowed_cpus().unwrap()), before);
            drop(saved);
        });
    }

    #[test]
    fn fifo_and_affinity_apply_to_the_thread_and_are_restored() {
        on_thread(|| {
            let allowed = allowed_cpus().unwrap();
            assert!(!allowed.is_empty(), "some CPU is allowed");
            let before = sched();
            let cpu = *allowed.last().unwrap();
            let p = ThreadPolicy { rt_priority: Some(10), cpus: vec![cpu] };
            match p.apply() {
                Ok(saved) => {
                    assert_eq!(sched(), (libc::SCHED_FIFO, 10));
                    assert_eq!(allowed_cpus().unwrap(), vec![cpu]);
                    drop(saved);
                    assert_eq!(sched(), before, "policy restored");
                    assert_eq!(allowed_cpus().unwrap(), allowed, "affinity restored");
                }
                // Without CAP_SYS_NICE / RLIMIT_RTPRIO: the typed error, and nothing changed.
                Err(e @ RealtimeError::Priority { .. }) => {
                    let msg = e.to_string();
                    assert!(
                        msg.contains("host.rt_priority") && msg.contains("CAP_SYS_NICE"),
                        "{msg}"
                    );
                    assert_eq!(sched(), before);
                    assert_eq!(allowed_cpus().unwrap(), allowed, "affinity put back");
                }
                Err(e) => panic!("unexpected: {e}"),
            }
        });
    }

    #[test]
    fn a_cpu_outside_the_allowed_set_is_refused_naming_the_set() {
        on_thread(|| {
            let allowed = allowed_cpus().unwrap();
            let cpu = (0..=crate::deployment::MAX_CPU).find(|c| !allowed.contains(c)).unwrap();
            let before = sched();
            let e = ThreadPolicy { rt_priority: Some(10), cpus: vec![cpu] }.apply().err().unwrap();
            assert!(
                matches!(&e, RealtimeError::Cpu { cpu: c, allowed: a } if *c == cpu && *a == allowed),
                "{e}"
            );
            assert!(e.to_string().contains("host.cpus"), "{e}");
            assert_eq!(sched(), before, "nothing applied");
            assert_eq!(allowed_cpus().unwrap(), allowed);
        });
    }

    #[test]
    fn a_refused_priority_names_the_field_and_the_fixes() {
        let e = RealtimeError::Priority {
            priority: 80,
            source: std::io::Error::from_raw_os_error(libc::EPERM),
        };
        let msg = e.to_string();
        for part in ["host.rt_priority", "80", "CAP_SYS_NICE", "ulimit -r 80", "remove"] {
            assert!(msg.contains(part), "{part}: {msg}");
        }
    }
}
