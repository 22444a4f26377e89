//! Per-model resource budgets.
//!
//! Owns [`ResourceBudget`] and its validation. A budget is a hard limit: the execution context
//! refuses what exceeds it with a typed error, it never clamps. It must not know how the limits
//! are enforced (see [`crate::ExecutionContext`]).

use aegis_trace::Duration;
use serde::{Deserialize, Serialize};

/// Longest period a budget may have (one hour): longer periods are almost certainly a unit
/// mistake, and per-period accounting and the metrics histograms are sized for it.
pub const MAX_PERIOD: Duration = Duration::from_secs(3600);

/// Most streams one model may hold.
pub const MAX_STREAMS: u32 = 64;

/// Hard limits for one model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceBudget {
    /// Maximum device memory the model may hold, bytes (weights, activations, I/O).
    pub memory_limit: u64,
    /// Maximum streams (GPU lanes) the model may hold at once.
    pub stream_limit: u32,
    /// Maximum execution time per period.
    pub compute_budget: Duration,
    /// The accounting period (normally the model's release period).
    pub period: Duration,
}

/// Which limit a budget problem or violation concerns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetField {
    /// `memory_limit`
    MemoryLimit,
    /// `stream_limit`
    StreamLimit,
    /// `compute_budget`
    ComputeBudget,
    /// `period`
    Period,
}

impl BudgetField {
    /// The field's name as written in a deployment file.
    pub fn name(self) -> &'static str {
        match self {
            BudgetField::MemoryLimit => "memory_limit",
            BudgetField::StreamLimit => "stream_limit",
            BudgetField::ComputeBudget => "compute_budget",
            BudgetField::Period => "period",
        }
    }
}

/// Why a budget is not valid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("budget field `{}`: {problem}; {fix}", field.name())]
pub struct BudgetError {
    /// The field at fault.
    pub field: BudgetField,
    /// What is wrong with it.
    pub problem: String,
    /// How to fix it.
    pub fix: String,
}

impl BudgetError {
    fn new(field: BudgetField, problem: impl Into<String>, fix: impl Into<String>) -> Self {
        BudgetError { field, problem: problem.into(), fix: fix.into() }
    }
}

impl ResourceBudget {
    /// True when [`Self::validation_error`] finds nothing.
    pub fn is_valid(&self) -> bool {
        self.validation_error().is_none()
    }

    /// The first problem with this budget, naming the field and the fix.
    pub fn validation_error(&self) -> Option<BudgetError> {
        use BudgetField::*;
        if self.memory_limit == 0 {
            return Some(BudgetError::new(
                MemoryLimit,
                "is zero",
                "give the model's weights + activations + I/O bytes",
            ));
        }
        if self.memory_limit > (1 << 50) {
            return Some(BudgetError::new(
                MemoryLimit,
                format!("{} bytes overflows any device (over 1 PiB)", self.memory_limit),
                "check the unit: the limit is in bytes",
            ));
        }
        if self.stream_limit == 0 {
            return Some(BudgetError::new(StreamLimit, "is zero", "allow at least 1 stream"));
        }
        if self.stream_limit > MAX_STREAMS {
            return Some(BudgetError::new(
                StreamLimit,
                format!("{} exceeds the maximum of {MAX_STREAMS}", self.stream_limit),
                format!("use 1..={MAX_STREAMS}"),
            ));
        }
        if self.period.is_zero() {
            return Some(BudgetError::new(Period, "is zero", "give the model's release period"));
        }
        if self.period > MAX_PERIOD {
            return Some(BudgetError::new(
                Period,
                format!("{} exceeds the maximum of {MAX_PERIOD}", self.period),
                "check the unit, or use a period of at most one hour",
            ));
        }
        if self.compute_budget.is_zero() {
            return Some(BudgetError::new(
                ComputeBudget,
                "is zero",
                "give at least the model's WCET per period",
            ));
        }
        if self.compute_budget > self.period {
            return Some(BudgetError::new(
                ComputeBudget,
                format!("{} is larger than the period {}", self.compute_budget, self.period),
                "a model cannot use more than its whole period: lower the budget or lengthen the period",
            ));
        }
        None
    }

    /// Validates the budget and that its memory fits a device of `device_memory` bytes.
    ///
    /// # Errors
    /// The first problem, naming the field and the fix.
    pub fn validate_for_device(&self, device_memory: u64) -> Result<(), BudgetError> {
        if let Some(e) = self.validation_error() {
            return Err(e);
        }
        if self.memory_limit > device_memory {
            return Err(BudgetError::new(
                BudgetField::MemoryLimit,
                format!(
                    "{} bytes is more than the device's {device_memory} bytes",
                    self.memory_limit
                ),
                "lower the limit below the device memory (leave room for other models)",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> ResourceBudget {
        ResourceBudget {
            memory_limit: 64 << 20,
            stream_limit: 2,
            compute_budget: Duration::from_millis(5),
            period: Duration::from_millis(20),
        }
    }

    fn field_of(b: ResourceBudget) -> BudgetField {
        b.validation_error().expect("invalid").field
    }

    #[test]
    fn a_sane_budget_is_valid() {
        assert!(ok().is_valid());
        assert!(ok().validate_for_device(1 << 30).is_ok());
    }

    #[test]
    fn each_bad_field_is_named_with_a_fix() {
        let cases = [
            (ResourceBudget { memory_limit: 0, ..ok() }, BudgetField::MemoryLimit),
            (ResourceBudget { memory_limit: u64::MAX, ..ok() }, BudgetField::MemoryLimit),
            (ResourceBudget { stream_limit: 0, ..ok() }, BudgetField::StreamLimit),
            (ResourceBudget { stream_limit: 65, ..ok() }, BudgetField::StreamLimit),
            (ResourceBudget { period: Duration::ZERO, ..ok() }, BudgetField::Period),
            (ResourceBudget { period: Duration::from_secs(7200), ..ok() }, BudgetField::Period),
            (ResourceBudget { compute_budget: Duration::ZERO, ..ok() }, BudgetField::ComputeBudget),
            (
                ResourceBudget { compute_budget: Duration::from_millis(21), ..ok() },
                BudgetField::ComputeBudget,
            ),
        ];
        for (b, field) in cases {
            assert!(!b.is_valid());
            assert_eq!(field_of(b), field, "{b:?}");
            let msg = b.validation_error().unwrap().to_string();
            assert!(msg.contains(field.name()) && msg.contains(';'), "{msg}");
        }
    }

    #[test]
    fn memory_larger_than_the_device_is_refused() {
        let e = ok().validate_for_device(1 << 20).unwrap_err();
        assert_eq!(e.field, BudgetField::MemoryLimit);
        assert!(e.to_string().contains("device"), "{e}");
        let bad = ResourceBudget { stream_limit: 0, ..ok() };
        assert_eq!(bad.validate_for_device(1 << 40).unwrap_err().field, BudgetField::StreamLimit);
    }
}
