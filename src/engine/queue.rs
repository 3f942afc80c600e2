//! Which steps may start, and when the next retry comes due: readiness by counts of
//! unfinished parents (nothing rescans the graph), retries by the time they are due. It
//! keeps no clock: the time is given, so it is tested without waiting.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use crate::model::State;

#[derive(Debug, Default)]
pub(super) struct Queue {
    /// Each step's parents not yet `complete` or `resolved_manually`.
    unfinished: Vec<usize>,
    /// Steps whose parents are all done, in the order they became so.
    ready: VecDeque<usize>,
    /// Steps waiting out a backoff, by the time their retry is due (ms).
    backoff: BinaryHeap<Reverse<(i64, usize)>>,
}

impl Queue {
    pub(super) fn new(steps: usize) -> Queue {
        Queue {
            unfinished: vec![0; steps],
            ..Queue::default()
        }
    }

    /// The queue of a task as it stands when a run takes it over: each step's parents not
    /// yet done counted; a pending step with none ready, in order; a step in error with a
    /// retry time waiting for it. `steps` holds each step's state and retry time, `parents`
    /// its parents. The steps made ready are returned too.
    pub(super) fn resume<I: Iterator<Item = usize>>(
        steps: &[(State, Option<i64>)],
        parents: impl Fn(usize) -> I,
    ) -> (Queue, Vec<usize>) {
        let mut queue = Queue::new(steps.len());
        let mut ready = Vec::new();
        for (i, &(status, retry_at)) in steps.iter().enumerate() {
            let unfinished = parents(i).filter(|&p| !steps[p].0.is_satisfied()).count();
            queue.set_unfinished(i, unfinished);
            if unfinished > 0 {
                continue;
            }
            match (status, retry_at) {
                (State::Pending, _) => {
                    queue.push_ready(i);
                    ready.push(i);
                }
                (State::Error, Some(at)) => queue.retry_at(i, at),
                _ => {}
            }
        }
        (queue, ready)
    }

    /// Step `i` has `count` parents not yet done.
    pub(super) fn set_unfinished(&mut self, i: usize, count: usize) {
        self.unfinished[i] = count;
    }

    /// A parent of `child` is done; whether `child` has none left undone now.
    pub(super) fn parent_done(&mut self, child: usize) -> bool {
        let n = &mut self.unfinished[child];
        *n = n.saturating_sub(1);
        *n == 0
    }

    pub(super) fn push_ready(&mut self, i: usize) {
        self.ready.push_back(i);
    }

    pub(super) fn front(&self) -> Option<usize> {
        self.ready.front().copied()
    }

    pub(super) fn pop_front(&mut self) -> Option<usize> {
        self.ready.pop_front()
    }

    pub(super) fn ready_len(&self) -> usize {
        self.ready.len()
    }

    /// Step `i` retries at `at` (ms).
    pub(super) fn retry_at(&mut self, i: usize, at: i64) {
        self.backoff.push(Reverse((at, i)));
    }

    /// The earliest retry due at `now` or before, taken off the queue: `(due time, step)`.
    pub(super) fn take_due(&mut self, now: i64) -> Option<(i64, usize)> {
        match self.backoff.peek() {
            Some(&Reverse((at, i))) if at <= now => {
                self.backoff.pop();
                Some((at, i))
            }
            _ => None,
        }
    }

    /// Take the ready steps that may start now, in order: each that runs a process takes a
    /// slot while `busy` is under `limit`; a noop takes none but at most `noops` of them go
    /// (a round stays bounded); the first that may not start stops the rest, so order is
    /// kept. A step no longer pending (cancelled, resolved meanwhile) is dropped.
    pub(super) fn pick(
        &mut self,
        mut busy: usize,
        limit: usize,
        mut noops: usize,
        is_noop: impl Fn(usize) -> bool,
        pending: impl Fn(usize) -> bool,
    ) -> Vec<usize> {
        let mut started = Vec::new();
        while let Some(i) = self.front() {
            let noop = is_noop(i);
            if (!noop && busy >= limit) || (noop && noops == 0) {
                break;
            }
            noops -= usize::from(noop);
            self.pop_front();
            if !pending(i) {
                continue;
            }
            busy += usize::from(!noop);
            started.push(i);
        }
        started
    }

    /// When the earliest retry is due, if any waits.
    pub(super) fn next_retry(&self) -> Option<i64> {
        self.backoff.peek().map(|Reverse((at, _))| *at)
    }

    /// The steps waiting out a backoff.
    pub(super) fn waiting(&self) -> impl Iterator<Item = usize> + '_ {
        self.backoff.iter().map(|Reverse((_, i))| *i)
    }

    /// Nothing ready and nothing waiting.
    pub(super) fn is_idle(&self) -> bool {
        self.ready.is_empty() && self.backoff.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// a → (b, c) → d: d is ready only once both b and c are done, and each step becomes
    /// ready once.
    #[test]
    fn readiness_follows_the_counts() {
        let mut q = Queue::new(4);
        for (i, n) in [(0, 0), (1, 1), (2, 1), (3, 2)] {
            q.set_unfinished(i, n);
        }
        q.push_ready(0);
        assert_eq!(q.pop_front(), Some(0));
        assert!(q.parent_done(1) && q.parent_done(2), "b and c after a");
        q.push_ready(1);
        q.push_ready(2);
        assert_eq!((q.pop_front(), q.pop_front()), (Some(1), Some(2)));
        assert!(!q.parent_done(3), "d waits for c");
        assert!(q.parent_done(3), "then d is ready");
        assert!(q.is_idle());
    }

    /// A task taken over part-way: done steps release their children, a failed step waits
    /// for its retry, and a step behind it is ready only once it is done.
    #[test]
    fn a_take_over_counts_from_the_state_as_it_stands() {
        // a (complete) → b (error, retry at 5,000) → c (pending); a → d (pending);
        // e (resolved by hand) → f (pending); g (cancelled) → h (pending).
        let steps = [
            (State::Complete, None),
            (State::Error, Some(5_000)),
            (State::Pending, None),
            (State::Pending, None),
            (State::ResolvedManually, None),
            (State::Pending, None),
            (State::Cancelled, None),
            (State::Pending, None),
        ];
        let parents: [&[usize]; 8] = [&[], &[0], &[1], &[0], &[], &[4], &[], &[6]];
        let (mut q, ready) = Queue::resume(&steps, |i| parents[i].iter().copied());
        assert_eq!(ready, vec![3, 5], "d and f: their parents are done");
        assert_eq!(q.next_retry(), Some(5_000), "b waits for its retry");
        assert_eq!(q.take_due(4_999), None);
        assert_eq!(q.take_due(5_000), Some((5_000, 1)));
        assert!(q.parent_done(2), "c once b is done");
        assert!(!ready.contains(&7), "h: a cancelled parent blocks it");
        assert_eq!(q.unfinished[7], 1);
    }

    /// Steps start under the limit in order; noops take no slot but are bounded; a step no
    /// longer pending is dropped; the first that may not start holds the rest back.
    #[test]
    fn steps_start_under_the_limit_in_order() {
        let mut q = Queue::new(6);
        for i in [0, 1, 2, 3, 4, 5] {
            q.push_ready(i);
        }
        let noop = |i: usize| i == 2 || i == 4;
        let pending = |i: usize| i != 1;
        // One slot of three taken: 0 starts, 1 is dropped (no longer pending), 2 is a noop
        // and takes no slot, 3 takes the last slot, 4 is a noop and starts too; 5 waits.
        let started = q.pick(1, 3, 64, noop, pending);
        assert_eq!(started, vec![0, 2, 3, 4]);
        assert_eq!(q.front(), Some(5), "5 waits for a slot");
        // With no slot, a noop behind a waiting step waits too: order is kept.
        let mut q = Queue::new(3);
        for i in [0, 1, 2] {
            q.push_ready(i);
        }
        assert_eq!(q.pick(2, 2, 64, |i| i == 1, |_| true), Vec::<usize>::new());
        // The noop budget bounds a round.
        let mut q = Queue::new(5);
        for i in 0..5 {
            q.push_ready(i);
        }
        assert_eq!(q.pick(0, 1, 2, |_| true, |_| true), vec![0, 1]);
        assert_eq!(q.ready_len(), 3);
    }

    /// Retries come due in time order, each once, and only when their time has come.
    #[test]
    fn retries_come_due_in_order() {
        let mut q = Queue::new(3);
        q.retry_at(0, 1_500);
        q.retry_at(1, 1_000);
        q.retry_at(2, 2_000);
        assert_eq!(q.next_retry(), Some(1_000));
        assert_eq!(q.take_due(999), None, "nothing is due early");
        assert_eq!(q.take_due(1_600), Some((1_000, 1)));
        assert_eq!(q.take_due(1_600), Some((1_500, 0)));
        assert_eq!(q.take_due(1_600), None, "2,000 is not due at 1,600");
        assert_eq!(q.waiting().collect::<Vec<_>>(), vec![2]);
        assert!(!q.is_idle());
        assert_eq!(
            q.take_due(2_000),
            Some((2_000, 2)),
            "due exactly at its time"
        );
        assert!(q.is_idle());
    }
}
