//! Anti-replay: per-sender boot id plus a strictly increasing sequence number.
//!
//! Each sender picks a fresh boot id every time it starts and numbers its frames from
//! there. A receiver accepts a frame only if its sequence number is above the last one
//! accepted for that sender and boot id. A frame with a boot id not seen before is
//! accepted and reported as a peer restart: the peer cannot be expected to remember
//! its sequence across a crash. The last [`RETIRED_BOOTS`] boot ids a sender left
//! behind are remembered and refused, so an attacker cannot flip a receiver back to a
//! previous boot by replaying its frames.
//!
//! What this cannot stop, by design: replay of frames from a boot older than the
//! retired window. Those frames carry an old epoch, which the state machine treats as
//! stale, so they cannot move the active role.

use super::{DecodeError, Header, Sender};

/// How many previous boot ids per sender are refused.
pub const RETIRED_BOOTS: usize = 4;

/// How an accepted frame relates to the sender's earlier ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// The first frame ever heard from this sender.
    First,
    /// The next frame of the current boot; `lost` frames were skipped (lost on the path
    /// or reordered behind this one).
    InOrder {
        /// Sequence numbers skipped since the last accepted frame.
        lost: u64,
    },
    /// A new boot id: the sender restarted.
    Restarted {
        /// The boot id it had before.
        previous_boot: u32,
    },
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
struct Slot {
    current: Option<(u32, u64)>,
    retired: [Option<u32>; RETIRED_BOOTS],
}

/// Per-sender replay state; one per receiving endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ReplayGuard {
    slots: [Slot; 4],
}

impl ReplayGuard {
    /// A guard that has heard nobody.
    pub fn new() -> Self {
        Self::default()
    }

    /// Judge `header` without recording it.
    pub fn check(&self, header: &Header) -> Result<Freshness, DecodeError> {
        let slot = &self.slots[header.sender.index()];
        if slot.retired.contains(&Some(header.boot_id)) {
            return Err(DecodeError::Replayed);
        }
        match slot.current {
            None => Ok(Freshness::First),
            Some((boot, last)) if boot == header.boot_id => {
                if header.seq > last {
                    Ok(Freshness::InOrder { lost: header.seq - last - 1 })
                } else {
                    Err(DecodeError::Replayed)
                }
            }
            Some((boot, _)) => Ok(Freshness::Restarted { previous_boot: boot }),
        }
    }

    /// Record `header` as accepted (call after [`Self::check`] passed and the frame
    /// authenticated and decoded).
    pub fn accept(&mut self, header: &Header) {
        let slot = &mut self.slots[header.sender.index()];
        if let Some((boot, _)) = slot.current
            && boot != header.boot_id
        {
            slot.retired.rotate_right(1);
            slot.retired[0] = Some(boot);
        }
        slot.current = Some((header.boot_id, header.seq));
    }

    /// The boot id and last sequence accepted from `sender`, if any.
    pub fn last(&self, sender: Sender) -> Option<(u32, u64)> {
        self.slots[sender.index()].current
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Controller, Kind, Station, version};

    fn h(boot_id: u32, seq: u64) -> Header {
        Header {
            version: version::CURRENT,
            kind: Kind::Heartbeat,
            sender: Sender::new(Controller::B, Station::Host),
            boot_id,
            seq,
        }
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
        assert_eq!(g.last(Sender::new(Controller::B, Station::Host)), Some((7, 13)));
        assert_eq!(g.last(Sender::new(Controller::A, Station::Host)), None);
    }

    #[test]
    fn new_boot_is_a_restart_and_old_boots_stay_retired() {
        let mut g = ReplayGuard::new();
        g.accept(&h(1, 100));
        assert_eq!(g.check(&h(2, 0)), Ok(Freshness::Restarted { previous_boot: 1 }));
        g.accept(&h(2, 0));
        // Replaying boot 1's later frames must not flip us back.
        assert_eq!(g.check(&h(1, 101)), Err(DecodeError::Replayed));
        for b in 3..=6 {
            g.accept(&h(b, 0));
        }
        // Boots 2..=5 are retired now; boot 1 fell out of the window.
        assert_eq!(g.check(&h(2, 5)), Err(DecodeError::Replayed));
        assert_eq!(g.check(&h(1, 101)), Ok(Freshness::Restarted { previous_boot: 6 }));
    }
}
