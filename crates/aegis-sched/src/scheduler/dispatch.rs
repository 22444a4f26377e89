//! The per-tick work of the scheduler core: overrun detection of running jobs, early
//! detection of queued jobs that can no longer meet their deadline, and dispatch (ready work
//! first, contained work only in safe windows).
//!
//! Owns [`SchedulerCore::tick`] and [`SchedulerCore::next_wakeup`]. It must not know where
//! time comes from.

use super::config::OverrunAction;
use super::decision::{Decision, DeferReason, DropReason, OverrunStage};
use super::engine::SchedulerCore;
use super::input::Input;
use super::state::{Job, Loc};
use aegis_trace::{Duration, EventId, Timestamp};

impl SchedulerCore {
    /// Time is now `now`: flags running jobs that exceed their budget, handles queued jobs
    /// that can no longer meet their deadline, and dispatches on every idle lane (lanes in
    /// index order). Decisions are appended to `out`.
    ///
    /// Call it after each batch of inputs that happened at the same instant (releases and
    /// completions at `t`, then `tick(t)`), and at [`SchedulerCore::next_wakeup`].
    pub fn tick(&mut self, now: Timestamp, out: &mut Vec<Decision>) {
        self.log(|| Input::Tick { now });
        self.advance(now);
        for lane in 0..self.lanes.len() {
            self.detect_running_overrun(lane, out);
            self.handle_doomed(lane, out);
            if self.lanes[lane].running.is_none() {
                self.dispatch(lane, out);
            }
        }
    }

    /// The earliest future time at which [`SchedulerCore::tick`] has something to detect
    /// without any other input: a running job passing its budget (+ grace), or a queued job
    /// passing its latest start time. `None` when nothing is pending. Releases and
    /// completions are the driver's to know.
    pub fn next_wakeup(&self) -> Option<Timestamp> {
        let one = Duration::from_nanos(1);
        let grace = self.config.overrun.grace;
        let mut best: Option<Timestamp> = None;
        let mut consider = |t: Timestamp| best = Some(best.map_or(t, |b| b.min(t)));
        for l in &self.lanes {
            if let Some(j) = l.running.as_ref().filter(|j| !j.flagged) {
                consider(j.since + self.models[j.model as usize].threshold + grace + one);
            }
            if let Some((&(latest, _), _)) = l.watch.first_key_value() {
                consider(latest + one);
            }
        }
        best
    }

    fn detect_running_overrun(&mut self, lane: usize, out: &mut Vec<Decision>) {
        let now = self.now;
        let grace = self.config.overrun.grace;
        let Some(job) = self.lanes[lane].running.as_mut() else { return };
        if job.flagged {
            return;
        }
        let ms = &mut self.models[job.model as usize];
        if now <= job.since + ms.threshold + grace {
            return;
        }
        job.flagged = true;
        let elapsed = now.saturating_duration_since(job.since);
        ms.observed_max = ms.observed_max.max(elapsed);
        let job = job.clone();
        let parent = job.events.dispatched;
        self.on_overrun(&job, lane as u32, now, elapsed, OverrunStage::Running, parent, out);
    }

    /// Reports an overrun and applies the configured action.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_overrun(
        &mut self,
        job: &Job,
        lane: u32,
        at: Timestamp,
        elapsed: Duration,
        stage: OverrunStage,
        parent: EventId,
        out: &mut Vec<Decision>,
    ) {
        let action = self.config.overrun.action;
        let ms = &mut self.models[job.model as usize];
        ms.good_streak = 0;
        let threshold = ms.threshold;
        out.push(Decision::Overrun {
            at,
            lane,
            model: ms.spec.task.name.clone(),
            request: job.request,
            elapsed,
            threshold,
            stage,
            action,
        });
        if action == OverrunAction::SkipNextRelease {
            ms.skip_pending = ms.skip_pending.saturating_add(1);
        }
        if action.contains() {
            let begins = !ms.contained || ms.probation;
            if begins {
                ms.contained_since = at;
            }
            ms.contained_by = (begins && stage == OverrunStage::Running).then_some(job.request);
            ms.contained = true;
            ms.probation = false;
        }
        self.rec_overrun(job, lane, at, elapsed, stage, parent);
        if action.contains() {
            self.refile_model(job.model);
        }
    }

    /// Queued jobs whose latest start time has passed (`now + estimate > deadline`).
    fn handle_doomed(&mut self, lane: usize, out: &mut Vec<Decision>) {
        while let Some((&(latest, seq), &request)) = self.lanes[lane].watch.first_key_value() {
            if self.now <= latest {
                break;
            }
            self.lanes[lane].watch.remove(&(latest, seq));
            let Some(&Loc::Queued { key, background, .. }) = self.requests.get(&request) else {
                continue;
            };
            let Some(job) = self.lanes[lane].queue_mut(background).get_mut(&key) else {
                continue;
            };
            job.watch = None;
            job.late_reported = true;
            let snapshot = job.clone();
            let ms = &self.models[snapshot.model as usize];
            let earliest_finish = self.now + ms.estimate();
            let drop = self.drops_late(ms);
            let deadline = snapshot.deadline;
            let model = ms.spec.task.name.clone();
            let miss = self.rec_late(&snapshot, lane as u32, earliest_finish, drop);
            if let Some(job) = self.lanes[lane].queue_mut(background).get_mut(&key)
                && miss != EventId::UNASSIGNED
            {
                job.events.queued = miss;
            }
            if drop {
                if let Some(job) = self.dequeue(request) {
                    let reason = DropReason::CannotMeetDeadline { earliest_finish, deadline };
                    self.drop_queued(job, reason, out);
                }
            } else {
                let at = self.now;
                out.push(Decision::LateDetected { at, model, request, earliest_finish, deadline });
            }
        }
    }

    /// The end of the safe window on `lane`: the earliest possible next release of any
    /// uncontained model bound to it (`Timestamp::MAX` when there is none).
    fn safe_window_end(&self, lane: usize) -> Timestamp {
        self.lanes[lane]
            .models
            .iter()
            .map(|&m| &self.models[m as usize])
            .filter(|ms| !ms.contained)
            .map(|ms| ms.next_earliest_release())
            .min()
            .unwrap_or(Timestamp::MAX)
    }

    fn dispatch(&mut self, lane: usize, out: &mut Vec<Decision>) {
        if let Some((_, job)) = self.lanes[lane].ready.pop_first() {
            self.start(lane, job, None, out);
            return;
        }
        if self.lanes[lane].background.is_empty() {
            return;
        }
        let window_end = self.safe_window_end(lane);
        let now = self.now;
        let fits = self.lanes[lane]
            .background
            .iter()
            .find(|(_, j)| now + self.models[j.model as usize].estimate() <= window_end)
            .map(|(k, _)| *k);
        if let Some(job) = fits.and_then(|k| self.lanes[lane].background.remove(&k)) {
            self.start(lane, job, Some(window_end), out);
            return;
        }
        let Some((_, head)) = self.lanes[lane].background.first_key_value() else { return };
        if self.lanes[lane].deferred == Some(head.request) {
            return;
        }
        let head = head.clone();
        self.lanes[lane].deferred = Some(head.request);
        let needed = self.models[head.model as usize].estimate();
        let reason = DeferReason::NoSafeWindow { needed, window_end };
        out.push(Decision::Defer {
            at: now,
            lane: lane as u32,
            model: self.models[head.model as usize].spec.task.name.clone(),
            request: head.request,
            reason,
        });
        self.rec_defer(lane as u32, &head, needed, window_end);
    }

    /// Starts `job` on `lane` (already removed from its queue). `window` is the safe window's
    /// end for contained work.
    fn start(
        &mut self,
        lane: usize,
        mut job: Job,
        window: Option<Timestamp>,
        out: &mut Vec<Decision>,
    ) {
        let now = self.now;
        let l = &mut self.lanes[lane];
        if let Some(latest) = job.watch.take() {
            l.watch.remove(&(latest, job.key.seq));
        }
        l.deferred = None;
        self.requests.insert(job.request, Loc::Running { lane: lane as u32 });
        let ms = &mut self.models[job.model as usize];
        ms.last_start = Some(now);
        job.since = now;
        job.estimate = ms.estimate();
        job.flagged = false;
        out.push(Decision::Dispatch {
            at: now,
            lane: lane as u32,
            model: ms.spec.task.name.clone(),
            request: job.request,
            release: job.release,
            deadline: job.deadline,
            estimate: job.estimate,
            background: window.is_some(),
        });
        job.events.dispatched = self.rec_dispatch(lane as u32, &job, window);
        self.lanes[lane].running = Some(job);
    }
}
