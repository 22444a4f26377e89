//! Integer-only formatting of times for decision explanations.
//!
//! Owns [`Span`], [`At`] and [`text`]: the same text as `aegis_trace::Duration`'s and `Timestamp`'s
//! `Display` (`"2.500 ms"`, `"t+1.000 s"`) but truncated to three decimals with integer
//! arithmetic instead of rounded through `f64`, because the audit trail formats several
//! times per scheduling decision and float formatting dominated its cost. It must not know
//! what the times mean.

use aegis_trace::{Duration, Timestamp};
use std::fmt;

/// A duration as `"999 ns"`, `"1.500 µs"`, `"2.250 ms"` or `"3.000 s"` (truncated).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span(pub Duration);

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0.as_nanos();
        let (unit, scale) = match ns {
            1_000_000_000.. => ("s", 1_000_000_000),
            1_000_000.. => ("ms", 1_000_000),
            1_000.. => ("µs", 1_000),
            _ => return write!(f, "{ns} ns"),
        };
        write!(f, "{}.{:03} {unit}", ns / scale, ns % scale / (scale / 1_000))
    }
}

/// Formats `args` into a string allocated once with room for `capacity` bytes (`format!`
/// grows its buffer step by step, copying each time).
pub fn text(capacity: usize, args: fmt::Arguments<'_>) -> String {
    let mut s = String::with_capacity(capacity);
    let _ = fmt::Write::write_fmt(&mut s, args);
    s
}

/// A timestamp as `"t+"` followed by its [`Span`] since the clock's epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct At(pub Timestamp);

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t+{}", Span(Duration::from_nanos(self.0.as_nanos())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_trace_display_up_to_truncation() {
        for ns in [0, 999, 1_000, 1_500, 2_250_000, 3_000_000_000, 12_345_678, 999_999] {
            let d = Duration::from_nanos(ns);
            let ours = Span(d).to_string();
            if ns % 1_000 == 0 || ns < 1_000 {
                assert_eq!(ours, d.to_string(), "{ns}");
            }
        }
        assert_eq!(Span(Duration::from_nanos(999_999)).to_string(), "999.999 µs");
        assert_eq!(Span(Duration::from_nanos(12_345_678)).to_string(), "12.345 ms");
        assert_eq!(At(Timestamp::from_nanos(1_500)).to_string(), "t+1.500 µs");
        let s = text(64, format_args!("{} and {}", 1, Span(Duration::from_nanos(5))));
        assert_eq!(s, "1 and 5 ns");
        assert!(s.capacity() >= 64);
    }
}
