//! Rate- and deadline-monotonic priority assignment.
//!
//! Owns the two classic orderings that give fixed priorities (0 highest, dense `0..n`). It must
//! not know any schedulability test: the assignment is a heuristic, checked afterwards by the
//! admission controller. Note that for *non-preemptive* scheduling neither ordering is optimal
//! (Audsley's algorithm would be); they are the conventional defaults.

use crate::task::TaskParams;

/// Rate-monotonic: the shorter the period, the higher the priority. Priorities become
/// `0..tasks.len()` (0 highest); ties: shorter deadline first, then name (so the result does
/// not depend on input order).
pub fn assign_rate_monotonic(tasks: &mut [TaskParams]) {
    assign_by(tasks, |t| (t.period, t.deadline));
}

/// Deadline-monotonic: the shorter the relative deadline, the higher the priority. Priorities
/// become `0..tasks.len()` (0 highest); ties: shorter period first, then name.
pub fn assign_deadline_monotonic(tasks: &mut [TaskParams]) {
    assign_by(tasks, |t| (t.deadline, t.period));
}

fn assign_by<K: Ord>(tasks: &mut [TaskParams], key: impl Fn(&TaskParams) -> K) {
    let mut order: Vec<usize> = (0..tasks.len()).collect();
    order.sort_by(|&a, &b| {
        key(&tasks[a]).cmp(&key(&tasks[b])).then_with(|| tasks[a].name.cmp(&tasks[b].name))
    });
    for (prio, i) in order.into_iter().enumerate() {
        tasks[i].priority = u32::try_from(prio).unwrap_or(u32::MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str, p: u64, d: u64) -> TaskParams {
        crate::task::task_ns(name, 1, p, d, 99)
    }

    fn prios(ts: &[TaskParams]) -> Vec<(String, u32)> {
        ts.iter().map(|t| (t.name.to_string(), t.priority)).collect()
    }

    #[test]
    fn rate_monotonic_orders_by_period_then_deadline_then_name() {
        let mut ts =
            [t("slow", 100, 100), t("fast", 10, 10), t("mid_b", 50, 50), t("mid_a", 50, 50)];
        assign_rate_monotonic(&mut ts);
        assert_eq!(
            prios(&ts),
            vec![("slow".into(), 3), ("fast".into(), 0), ("mid_b".into(), 2), ("mid_a".into(), 1)]
        );
        let mut ts = [t("x", 50, 50), t("y", 50, 20)];
        assign_rate_monotonic(&mut ts);
        assert_eq!(prios(&ts), vec![("x".into(), 1), ("y".into(), 0)]);
    }

    #[test]
    fn deadline_monotonic_orders_by_deadline_then_period() {
        // Period says a first, deadline says b first.
        let mut ts = [t("a", 10, 10), t("b", 100, 5), t("c", 20, 10)];
        assign_deadline_monotonic(&mut ts);
        assert_eq!(prios(&ts), vec![("a".into(), 1), ("b".into(), 0), ("c".into(), 2)]);
        let mut empty: [TaskParams; 0] = [];
        assign_deadline_monotonic(&mut empty);
    }
}
