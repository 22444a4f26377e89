//! Stream priorities: the ONE place where AegisRT's priority levels (0 = highest, larger =
//! lower) meet CUDA's stream priorities (a device range such as 0 … −5 where the smaller number
//! is the higher priority).
//!
//! It must not know about models or policies; callers choose a level.

/// A stream priority, either an AegisRT level or a raw CUDA value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamPriority {
    /// AegisRT level: 0 is the highest; maps onto the device range, clamped at its lowest.
    Level(u32),
    /// A CUDA priority value, validated against the device range.
    Cuda(i32),
    /// The device's lowest priority (CUDA's default for new streams).
    Lowest,
}

/// Maps AegisRT level `level` onto a device range (`greatest` is the highest priority, the
/// smaller number): level 0 → `greatest`, each further level one step lower, clamped at
/// `least`.
pub fn cuda_priority_for_level(level: u32, least: i32, greatest: i32) -> i32 {
    let steps = i64::from(least) - i64::from(greatest); // >= 0
    let step = i64::from(level).min(steps);
    (i64::from(greatest) + step) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_zero_is_the_highest_cuda_priority() {
        // H200/H100 range measured: least 0, greatest -5.
        assert_eq!(cuda_priority_for_level(0, 0, -5), -5);
        assert_eq!(cuda_priority_for_level(1, 0, -5), -4);
        assert_eq!(cuda_priority_for_level(5, 0, -5), 0);
        assert_eq!(cuda_priority_for_level(99, 0, -5), 0, "clamped at the lowest");
        assert_eq!(cuda_priority_for_level(u32::MAX, 0, 0), 0, "single-level device");
    }
}
