//! The bounded queues a node's outputs wait in until its host drains them.
//!
//! Actions must never be lost, so the queue is sized for the worst single input and
//! an overflow is reported as an event (a bug, not a condition). Frames to send and
//! events are informational: when full, the oldest is dropped (a heartbeat rebuilt at
//! the next tick replaces a stale one; a lost log line is no safety issue).

use core::hash::{Hash, Hasher};

use heapless::Deque;

use crate::time::Instant;

use super::{Action, Event, EventKind, Path};

/// Actions, frames to send (as message descriptors `M`) and events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Outputs<M, const A: usize, const X: usize, const E: usize> {
    actions: Deque<Action, A>,
    outbox: Deque<(Path, M), X>,
    events: Deque<Event, E>,
}

impl<M, const A: usize, const X: usize, const E: usize> Outputs<M, A, X, E> {
    pub(crate) const fn new() -> Self {
        Self { actions: Deque::new(), outbox: Deque::new(), events: Deque::new() }
    }

    /// Queue an action; an overflow is reported as an event.
    pub(crate) fn action(&mut self, now: Instant, action: Action) {
        if self.actions.push_back(action).is_err() {
            self.event(now, EventKind::ActionOverflow);
        }
    }

    /// Queue an event, dropping the oldest when full.
    pub(crate) fn event(&mut self, at: Instant, kind: EventKind) {
        if self.events.is_full() {
            self.events.pop_front();
        }
        let _ = self.events.push_back(Event { at, kind });
    }

    /// Queue a frame to send, dropping the oldest when full.
    pub(crate) fn send(&mut self, path: Path, msg: M) {
        if self.outbox.is_full() {
            self.outbox.pop_front();
        }
        let _ = self.outbox.push_back((path, msg));
    }

    pub(crate) fn pop_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    pub(crate) fn pop_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    pub(crate) fn pop_send(&mut self) -> Option<(Path, M)> {
        self.outbox.pop_front()
    }
}

impl<M: Hash, const A: usize, const X: usize, const E: usize> Hash for Outputs<M, A, X, E> {
    /// Pending actions and frames are state; events are only counted (their contents
    /// carry times that would keep equal states apart in the model checker).
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.actions.iter().for_each(|a| a.hash(h));
        self.outbox.iter().for_each(|o| o.hash(h));
        self.events.len().hash(h);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflowing_actions_are_reported_and_old_frames_and_events_dropped() {
        let mut o: Outputs<u8, 2, 2, 3> = Outputs::new();
        let t = Instant::ZERO;
        for _ in 0..3 {
            o.action(t, Action::KickWatchdog);
        }
        assert_eq!(o.pop_action(), Some(Action::KickWatchdog));
        assert_eq!(o.pop_action(), Some(Action::KickWatchdog));
        assert_eq!(o.pop_action(), None);
        assert_eq!(o.pop_event().map(|e| e.kind), Some(EventKind::ActionOverflow));
        for m in 1..=3 {
            o.send(Path::HostLink, m);
        }
        assert_eq!(o.pop_send(), Some((Path::HostLink, 2)));
        assert_eq!(o.pop_send(), Some((Path::HostLink, 3)));
        assert_eq!(o.pop_send(), None);
    }
}
