//! The description of a kernel model, as a deployment file writes it.
//!
//! Owns [`KernelModelSpec`] and [`KernelStep`] with their validation and memory arithmetic.
//! It must not know CUDA.

use serde::{Deserialize, Serialize};

/// Largest GEMM dimension accepted (a 16384² f32 matrix is 1 GiB).
pub const MAX_GEMM_N: usize = 16_384;

/// One kernel of a model's sequence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, untagged)]
pub enum KernelStep {
    /// A calibrated `clock64()` spin lasting `spin_us` microseconds on `blocks` blocks.
    Spin {
        /// Duration, µs.
        spin_us: u64,
        /// Blocks of one thread (default 1); more blocks occupy more SMs.
        #[serde(default = "one")]
        blocks: u32,
    },
    /// `repeat` SGEMMs C = A × B of n×n f32 matrices (A and C in the activation arena, B a
    /// resident weight).
    Gemm {
        /// Matrix size.
        gemm_n: usize,
        /// Products in a row (default 1).
        #[serde(default = "one")]
        repeat: u32,
    },
}

fn one() -> u32 {
    1
}

/// A GPU model: kernels run in order on the lane's stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KernelModelSpec {
    /// The kernels, in order.
    pub kernels: Vec<KernelStep>,
}

/// Why a spec cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("kernels[{index}]: {problem}; {fix}")]
pub struct SpecError {
    /// Which step (0-based); equal to the number of steps for whole-spec problems.
    pub index: usize,
    /// What is wrong.
    pub problem: String,
    /// How to fix it.
    pub fix: &'static str,
}

impl KernelModelSpec {
    /// Checks every step.
    ///
    /// # Errors
    /// The first bad step, naming its index and the fix.
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.kernels.is_empty() {
            return Err(SpecError {
                index: 0,
                problem: "no kernels".into(),
                fix: "list at least one kernel step",
            });
        }
        for (index, k) in self.kernels.iter().enumerate() {
            let bad = |problem: String, fix| Err(SpecError { index, problem, fix });
            match *k {
                KernelStep::Spin { spin_us: 0, .. } => {
                    return bad("spin_us is 0".into(), "give a positive duration in µs");
                }
                KernelStep::Spin { spin_us, .. } if spin_us > 10_000_000 => {
                    return bad(
                        format!("spin_us {spin_us} is over 10 s"),
                        "use at most 10,000,000 µs",
                    );
                }
                KernelStep::Spin { blocks: 0, .. } => {
                    return bad("blocks is 0".into(), "use at least 1 block");
                }
                KernelStep::Gemm { gemm_n: 0, .. } => {
                    return bad("gemm_n is 0".into(), "give a positive matrix size");
                }
                KernelStep::Gemm { gemm_n, .. } if gemm_n > MAX_GEMM_N => {
                    return bad(
                        format!("gemm_n {gemm_n} is over {MAX_GEMM_N}"),
                        "use a smaller matrix",
                    );
                }
                KernelStep::Gemm { repeat: 0, .. } => {
                    return bad("repeat is 0".into(), "use at least 1");
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Bytes of resident weights: one n×n f32 B matrix per distinct GEMM size.
    pub fn weights_bytes(&self) -> u64 {
        let mut sizes: Vec<usize> = self.gemm_sizes();
        sizes.sort_unstable();
        sizes.dedup();
        sizes.iter().map(|n| (n * n * 4) as u64).sum()
    }

    /// Bytes of activation workspace: A and C of the largest GEMM (steps run one after the
    /// other, so every step reuses the same region).
    pub fn activation_bytes(&self) -> u64 {
        self.gemm_sizes().into_iter().map(|n| (2 * n * n * 4) as u64).max().unwrap_or(0)
    }

    fn gemm_sizes(&self) -> Vec<usize> {
        self.kernels
            .iter()
            .filter_map(|k| match k {
                KernelStep::Gemm { gemm_n, .. } => Some(*gemm_n),
                KernelStep::Spin { .. } => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_from_deployment_style_json_and_validate() {
        let s: KernelModelSpec = serde_json::from_str(
            r#"{"kernels":[{"spin_us":1500},{"gemm_n":1024,"repeat":2},{"spin_us":300,"blocks":8}]}"#,
        )
        .unwrap();
        assert_eq!(s.kernels[0], KernelStep::Spin { spin_us: 1500, blocks: 1 });
        assert_eq!(s.kernels[1], KernelStep::Gemm { gemm_n: 1024, repeat: 2 });
        s.validate().unwrap();
        assert_eq!(s.weights_bytes(), 1024 * 1024 * 4);
        assert_eq!(s.activation_bytes(), 2 * 1024 * 1024 * 4);
        assert!(serde_json::from_str::<KernelModelSpec>(r#"{"kernels":[{"spin":1}]}"#).is_err());
    }

    #[test]
    fn bad_steps_are_named() {
        let cases = [
            (vec![], 0),
            (vec![KernelStep::Spin { spin_us: 0, blocks: 1 }], 0),
            (
                vec![
                    KernelStep::Spin { spin_us: 5, blocks: 1 },
                    KernelStep::Spin { spin_us: 5, blocks: 0 },
                ],
                1,
            ),
            (vec![KernelStep::Spin { spin_us: 20_000_000, blocks: 1 }], 0),
            (vec![KernelStep::Gemm { gemm_n: 0, repeat: 1 }], 0),
            (vec![KernelStep::Gemm { gemm_n: 100_000, repeat: 1 }], 0),
            (vec![KernelStep::Gemm { gemm_n: 8, repeat: 0 }], 0),
        ];
        for (kernels, index) in cases {
            let e = KernelModelSpec { kernels }.validate().unwrap_err();
            assert_eq!(e.index, index);
            assert!(e.to_string().starts_with(&format!("kernels[{index}]")), "{e}");
        }
        let spin_only =
            KernelModelSpec { kernels: vec![KernelStep::Spin { spin_us: 5, blocks: 1 }] };
        assert_eq!((spin_only.weights_bytes(), spin_only.activation_bytes()), (0, 0));
    }
}
