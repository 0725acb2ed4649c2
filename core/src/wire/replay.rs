//! Anti-replay: per-sender monotonic boot id plus a strictly increasing sequence number.
//!
//! # The rule
//! Every sender numbers its boots with a counter that only goes up: hosts persist it on
//! disk and increment it at every start of the service, BMCs keep it in RAM that
//! survives a reset. Within a boot, frames to a given receiver carry strictly increasing
//! sequence numbers (see [`super::Endpoint`]). A receiver keeps, per sender, the boot id
//! and sequence number of the last frame it accepted, and judges a new frame by its
//! header:
//!
//! | header vs. last accepted         | verdict                                   |
//! |----------------------------------|-------------------------------------------|
//! | nothing accepted (or forgotten)  | accept, [`Freshness::First`]              |
//! | higher boot id                   | accept, [`Freshness::Restarted`]          |
//! | same boot id, higher sequence    | accept, [`Freshness::InOrder`]            |
//! | same boot id, same or lower seq  | refuse, [`DecodeError::Replayed`]         |
//! | lower boot id                    | refuse, [`DecodeError::Replayed`]         |
//!
//! # Why monotonic boot ids
//! The previous rule accepted any boot id outside a small window of retired ones as a
//! restart. Replaying a single recorded frame from an older boot then "restarted" the
//! sender in the receiver's eyes and retired its real, current boot: every genuine frame
//! after that was refused as a replay, so one old frame locked a live peer out. With
//! monotonic boot ids the live sender always holds the highest boot id it ever used, so
//! no recorded frame can outrank it: old frames are refused, and nothing an attacker
//! replays can make a genuine frame look old.
//!
//! # Forgetting a silent sender
//! A counter can still go backwards: a BMC's reset-surviving RAM is lost on a cold
//! power-on, a host's persisted counter with its disk. Such a sender would be refused
//! forever. So the state machine calls [`ReplayGuard::forget`] (through
//! [`super::Endpoint::forget`]) once it has judged a sender silent for the failover
//! timeout; its next frame, whatever its boot id, is accepted as [`Freshness::First`]
//! and the rule above applies from there. Frames refused as replays do not count as
//! hearing the sender, so a sender whose counter went backwards is heard again one
//! timeout after it comes back. `forget` is idempotent: forgetting a forgotten (or
//! never heard) sender changes nothing.
//!
//! # What replay can still do
//! - **After a `forget`**, one recorded frame (and the frames of its boot that follow
//!   it) is accepted once as news from the sender. It can only revive *stale*
//!   information: every claim that moves the active role or fences carries an epoch,
//!   and the state machines refuse epochs below the highest they have seen, so an old
//!   heartbeat claiming MASTER or an old takeover or fence request is recognised as
//!   stale. At worst an old frame makes a silent sender look alive for as long as the
//!   attacker has recorded frames to feed, which delays a takeover; it cannot cause
//!   one. The sender's next genuine frame carries a higher boot id than anything
//!   recorded (unless its counter went backwards) and is accepted as a restart, after
//!   which the recorded frames are refused again: no lock-out.
//! - **A sender whose counter went backwards** can be locked out by replaying a frame
//!   recorded before the reset (its boot id outranks the new ones) until it is forgotten
//!   again, and an attacker holding such frames can repeat that after every `forget`.
//!   That is denial of service against a station that already lost its state, not a
//!   forgery: the recorded frames carry stale epochs like any other. It ends when the
//!   station's counter passes its old boot ids, or when the link key is rotated (which
//!   voids every recorded frame); a station that can, should resume above the boot ids
//!   it used before.
//! - **Across recipients**, nothing: the recipient is bound into every frame's MAC (see
//!   [`super::frame`]), so a frame can only be replayed to the station it was sent to.

use super::{DecodeError, Header, Sender};

/// How an accepted frame relates to the sender's earlier ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// The first frame heard from this sender, ever or since it was forgotten.
    First,
    /// The next frame of the current boot; `lost` frames were skipped (lost on the path
    /// or reordered behind this one).
    InOrder {
        /// Sequence numbers skipped since the last accepted frame.
        lost: u64,
    },
    /// A higher boot id: the sender restarted.
    Restarted {
        /// The boot id it had before.
        previous_boot: u32,
    },
}

/// Per-sender replay state; one per receiving endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ReplayGuard {
    /// Per sender (indexed by [`Sender::index`]): boot id and sequence number of the
    /// last accepted frame.
    last: [Option<(u32, u64)>; 4],
}

impl ReplayGuard {
    /// A guard that has heard nobody.
    pub fn new() -> Self {
        Self::default()
    }

    /// Judge `header` without recording it.
    pub fn check(&self, header: &Header) -> Result<Freshness, DecodeError> {
        let Some((boot, last)) = self.last[header.sender.index()] else {
            return Ok(Freshness::First);
        };
        if header.boot_id > boot {
            Ok(Freshness::Restarted { previous_boot: boot })
        } else if header.boot_id < boot || header.seq <= last {
            Err(DecodeError::Replayed)
        } else {
            Ok(Freshness::InOrder { lost: header.seq - last - 1 })
        }
    }

    /// Record `header` as accepted (call after [`Self::check`] passed and the frame
    /// authenticated and decoded).
    pub fn accept(&mut self, header: &Header) {
        self.last[header.sender.index()] = Some((header.boot_id, header.seq));
    }

    /// Forget everything about `sender`: its next frame is [`Freshness::First`],
    /// whatever its boot id. Call only when the sender has been silent for the failover
    /// timeout (see the module docs for why that is safe). Idempotent.
    pub fn forget(&mut self, sender: Sender) {
        self.last[sender.index()] = None;
    }

    /// The boot id and last sequence accepted from `sender`, if any.
    pub fn last(&self, sender: Sender) -> Option<(u32, u64)> {
        self.last[sender.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Controller, Kind, Station, version};

    const B_HOST: Sender = Sender::new(Controller::B, Station::Host);

    fn h(boot_id: u32, seq: u64) -> Header {
        Header { version: version::CURRENT, kind: Kind::Heartbeat, sender: B_HOST, boot_id, seq }
    }

    #[test]
    fn sequence_must_increase_within_a_boot() {
        let mut g = ReplayGuard::new();
        assert_eq!(g.check(&h(7, 10)), Ok(Freshness::First));
        g.accept(&h(7, 10));
        assert_eq!(g.check(&h(7, 10)), Err(DecodeError::Replayed));
        assert_eq!(g.check(&h(7, 9)), Err(DecodeError::Replayed));
        assert_eq!(g.check(&h(7, 13)), Ok(Freshness::InOrder { lost: 2 }));
        g.accept(&h(7, 13));
        assert_eq!(g.last(B_HOST), Some((7, 13)));
        assert_eq!(g.last(Sender::new(Controller::A, Station::Host)), None);
    }

    #[test]
    fn higher_boot_is_a_restart_and_lower_boots_are_replays() {
        let mut g = ReplayGuard::new();
        g.accept(&h(5, 100));
        assert_eq!(g.check(&h(6, 0)), Ok(Freshness::Restarted { previous_boot: 5 }));
        assert_eq!(g.check(&h(u32::MAX, 0)), Ok(Freshness::Restarted { previous_boot: 5 }));
        for old in [0, 1, 4] {
            assert_eq!(g.check(&h(old, u64::MAX)), Err(DecodeError::Replayed));
        }
        g.accept(&h(6, 0));
        // Boot 5's later frames must not flip us back, however far back the boot.
        assert_eq!(g.check(&h(5, 101)), Err(DecodeError::Replayed));
        assert_eq!(g.check(&h(1, 1)), Err(DecodeError::Replayed));
        assert_eq!(g.check(&h(6, 1)), Ok(Freshness::InOrder { lost: 0 }));
    }

    #[test]
    fn forget_accepts_any_boot_as_first_and_is_idempotent() {
        let mut g = ReplayGuard::new();
        g.forget(B_HOST);
        assert_eq!(g, ReplayGuard::new());
        g.accept(&h(9, 4));
        let other = Sender::new(Controller::A, Station::Bmc);
        g.accept(&Header { sender: other, ..h(3, 3) });
        g.forget(B_HOST);
        g.forget(B_HOST);
        assert_eq!(g.last(B_HOST), None);
        assert_eq!(g.last(other), Some((3, 3)), "only the forgotten sender");
        // A sender whose counter went backwards (a BMC after a cold power-on).
        assert_eq!(g.check(&h(1, 1)), Ok(Freshness::First));
        g.accept(&h(1, 1));
        assert_eq!(g.check(&h(9, 5)), Ok(Freshness::Restarted { previous_boot: 1 }));
    }
}
