//! The activation hand-off: the workspace TensorRT's execution context needs, provided by the
//! runtime's pool instead of TensorRT's own allocator.
//!
//! Owns the checks of an offered [`ActivationRegion`] (device memory, at least
//! `getDeviceMemorySizeV2` bytes, the alignment asked for) and whether one is bound. The
//! region stays the runtime's (the backend never frees it); models serialised on one lane may
//! be bound to the same bytes. It must not know TensorRT calls.

use crate::ENGINE;
use aegis_context::{ActivationRegion, BackendError};
use aegis_cuda::PoolMemory;

/// The activation needs of one engine and the region bound to it.
#[derive(Debug)]
pub(crate) struct Activation {
    needed: u64,
    alignment: u64,
    bound: Option<ActivationRegion>,
}

impl Activation {
    pub(crate) fn new(needed: u64, alignment: u64) -> Self {
        Activation { needed, alignment, bound: None }
    }

    pub(crate) fn needed(&self) -> u64 {
        self.needed
    }

    pub(crate) fn alignment(&self) -> u64 {
        self.alignment
    }

    pub(crate) fn bound(&self) -> Option<ActivationRegion> {
        self.bound
    }

    /// Checks `region` can serve as the workspace.
    pub(crate) fn check(&self, region: &ActivationRegion) -> Result<(), BackendError> {
        if region.memory != PoolMemory::Device {
            return Err(BackendError::unsupported(
                ENGINE,
                "activation memory in host memory (TensorRT needs device memory: bind from a \
                 device pool)",
            ));
        }
        let misaligned = !region.address.is_multiple_of(self.alignment);
        let small = region.bytes < self.needed;
        if self.needed > 0 && (misaligned || small || region.address == 0) {
            return Err(BackendError::BadActivationRegion {
                address: region.address,
                given: region.bytes,
                needed: self.needed,
                alignment: self.alignment,
            });
        }
        Ok(())
    }

    pub(crate) fn set_bound(&mut self, region: ActivationRegion) {
        self.bound = Some(region);
    }

    /// Refuses to run without a workspace.
    pub(crate) fn require_bound(&self) -> Result<(), BackendError> {
        if self.needed > 0 && self.bound.is_none() {
            return Err(BackendError::Execution {
                engine: ENGINE.into(),
                reason: format!(
                    "no activation memory bound: the engine needs {} bytes; the runtime must \
                     call bind_activation_memory before the first job",
                    self.needed
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(address: u64, bytes: u64) -> ActivationRegion {
        ActivationRegion { address, bytes, memory: PoolMemory::Device }
    }

    #[test]
    fn regions_are_checked_for_memory_size_and_alignment() {
        let a = Activation::new(1000, 256);
        assert!(a.check(&region(0x1000, 1000)).is_ok());
        assert!(a.check(&region(0x1000, 4096)).is_ok());
        for (addr, bytes) in [(0x1000, 999), (0x1010, 1000), (0, 1000)] {
            match a.check(&region(addr, bytes)) {
                Err(BackendError::BadActivationRegion { address, given, needed, alignment }) => {
                    assert_eq!((address, given, needed, alignment), (addr, bytes, 1000, 256));
                }
                other => panic!("{other:?}"),
            }
        }
        let host = ActivationRegion { address: 0x1000, bytes: 1000, memory: PoolMemory::Host };
        let e = a.check(&host).unwrap_err();
        assert!(matches!(e, BackendError::Unsupported { .. }));
        assert!(e.to_string().contains("device memory"), "{e}");
    }

    #[test]
    fn an_engine_without_workspace_needs_no_binding() {
        let a = Activation::new(0, 256);
        assert!(a.require_bound().is_ok());
        assert!(a.check(&region(0x10, 0)).is_ok());
        let mut b = Activation::new(64, 256);
        let e = b.require_bound().unwrap_err();
        assert!(e.to_string().contains("bind_activation_memory"), "{e}");
        b.set_bound(region(0x100, 64));
        assert!(b.require_bound().is_ok());
        assert_eq!(b.bound(), Some(region(0x100, 64)));
        assert_eq!((b.needed(), b.alignment()), (64, 256));
    }
}
