//! A shared disk with SCSI-3 persistent reservation semantics, as the simulators and
//! the model checker see it.
//!
//! Two initiators (one per controller). Reservation type Write Exclusive - Registrants
//! Only: while a reservation exists only registered initiators may write; with no
//! reservation anyone may. Each fence step the host performs is applied atomically, as
//! the disk executes each PR command atomically; the enclosure fence (a cut expander
//! port) makes every command and write from that initiator fail.

use crate::node::{FenceResult, ReservationKey};
use crate::wire::Controller;

/// The disk's reservation state plus ghost variables for the safety checks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PrDisk {
    registrations: [Option<ReservationKey>; 2],
    holder: Option<Controller>,
    path_cut: [bool; 2],
    /// Ghost: the highest epoch whose key ever held the reservation.
    pub max_reserved_epoch: u64,
}

impl PrDisk {
    /// A disk with no registrations.
    pub fn new() -> Self {
        Self::default()
    }

    /// The key `c` has registered.
    pub fn registration(&self, c: Controller) -> Option<ReservationKey> {
        self.registrations[c.index()]
    }

    /// The initiator holding the reservation.
    pub fn holder(&self) -> Option<Controller> {
        self.holder
    }

    /// Whether `c`'s expander port is cut.
    pub fn is_cut(&self, c: Controller) -> bool {
        self.path_cut[c.index()]
    }

    /// Cut or restore `c`'s expander port (the enclosure fence).
    pub fn set_cut(&mut self, c: Controller, cut: bool) {
        self.path_cut[c.index()] = cut;
    }

    /// Whether a write from `c` would succeed now.
    pub fn accepts_write(&self, c: Controller) -> bool {
        !self.is_cut(c) && (self.holder.is_none() || self.registrations[c.index()].is_some())
    }

    /// Register `key` for `c` (REGISTER AND IGNORE EXISTING KEY), preempt the other
    /// initiator's key (PREEMPT: its registration goes, the reservation moves to us),
    /// and reserve. Refuses with `Superseded` if a key carries a higher epoch, or the
    /// other initiator's key the same one.
    /// Returns the result and, when a key was preempted, its epoch.
    pub fn fence_and_reserve(&mut self, c: Controller, key: ReservationKey) -> (FenceResult, Option<u64>) {
        if self.is_cut(c) {
            return (FenceResult::Failed, None);
        }
        // A key from a higher epoch (even one this initiator registered in an earlier
        // life), or the other initiator's key from the same epoch (two takeovers that
        // picked the same number), means another reign exists: back off and learn its
        // epoch. Ties go to whoever reached the disk first.
        let other = self.registrations[c.peer().index()];
        let own = self.registrations[c.index()];
        let newer = [other.filter(|k| k.epoch() >= key.epoch()), own.filter(|k| k.epoch() > key.epoch())]
            .into_iter()
            .flatten()
            .map(ReservationKey::epoch)
            .max();
        if let Some(epoch) = newer {
            return (FenceResult::Superseded { epoch }, None);
        }
        self.registrations[c.index()] = Some(key);
        self.registrations[c.peer().index()] = None;
        self.holder = Some(c);
        self.max_reserved_epoch = self.max_reserved_epoch.max(key.epoch());
        (FenceResult::Done, other.map(ReservationKey::epoch))
    }

    /// RELEASE and unregister `key`, if it is `c`'s.
    pub fn release(&mut self, c: Controller, key: ReservationKey) {
        if self.is_cut(c) || self.registrations[c.index()] != Some(key) {
            return;
        }
        if self.holder == Some(c) {
            self.holder = None;
        }
        self.registrations[c.index()] = None;
    }

    /// Whether `key` is registered for `c` and holds the reservation.
    pub fn holds(&self, c: Controller, key: ReservationKey) -> bool {
        !self.is_cut(c) && self.registrations[c.index()] == Some(key) && self.holder == Some(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preempt_moves_the_reservation_and_blocks_the_victim() {
        let mut d = PrDisk::new();
        assert!(d.accepts_write(Controller::A) && d.accepts_write(Controller::B));
        let a1 = ReservationKey::new(Controller::A, 1);
        assert_eq!(d.fence_and_reserve(Controller::A, a1), (FenceResult::Done, None));
        assert!(d.accepts_write(Controller::A) && !d.accepts_write(Controller::B));
        let b2 = ReservationKey::new(Controller::B, 2);
        assert_eq!(d.fence_and_reserve(Controller::B, b2), (FenceResult::Done, Some(1)));
        assert!(!d.accepts_write(Controller::A) && d.accepts_write(Controller::B));
        assert!(!d.holds(Controller::A, a1));
        // A stale takeover attempt with a lower epoch is refused by the disk.
        assert_eq!(d.fence_and_reserve(Controller::A, a1), (FenceResult::Superseded { epoch: 2 }, None));
        d.release(Controller::B, b2);
        assert_eq!(d.holder(), None);
        d.set_cut(Controller::A, true);
        assert_eq!(d.fence_and_reserve(Controller::A, a1).0, FenceResult::Failed);
        assert!(!d.accepts_write(Controller::A));
        assert_eq!(d.max_reserved_epoch, 2);
    }
}
