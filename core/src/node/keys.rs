//! SCSI-3 persistent reservation keys that embed the node and the epoch.
//!
//! A key is 8 bytes. Layout (big endian, as it appears in PR parameter data and in
//! `sg_persist` output): `0x46 ('F') | 0x41 ('A') or 0x42 ('B') | epoch (48 bits)`.
//! Anyone reading the keys on a disk can tell whose they are and from which reign, and
//! the epoch in the key is the fencing token the disk enforces.

use core::fmt;

use crate::wire::Controller;

const TAG: u64 = 0x46;
const EPOCH_MASK: u64 = (1 << 48) - 1;

/// A reservation key: controller + epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReservationKey(u64);

impl ReservationKey {
    /// The key `controller` uses while holding `epoch` (epochs above 2^48 wrap into the
    /// low 48 bits; 2^48 takeovers is beyond any appliance's life).
    pub const fn new(controller: Controller, epoch: u64) -> Self {
        let c = match controller {
            Controller::A => 0x41,
            Controller::B => 0x42,
        };
        Self(TAG << 56 | c << 48 | (epoch & EPOCH_MASK))
    }

    /// Parse a key read from a disk; `None` if it is not one of ours.
    pub const fn from_u64(raw: u64) -> Option<Self> {
        if raw >> 56 != TAG {
            return None;
        }
        match (raw >> 48) & 0xFF {
            0x41 | 0x42 => Some(Self(raw)),
            _ => None,
        }
    }

    /// The raw 64-bit key.
    pub const fn as_u64(self) -> u64 {
        self.0
    }

    /// The controller the key belongs to.
    pub const fn controller(self) -> Controller {
        if (self.0 >> 48) & 0xFF == 0x41 { Controller::A } else { Controller::B }
    }

    /// The epoch the key was registered under.
    pub const fn epoch(self) -> u64 {
        self.0 & EPOCH_MASK
    }
}

impl fmt::Display for ReservationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#018x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_embed_controller_and_epoch() {
        let k = ReservationKey::new(Controller::B, 7);
        assert_eq!(k.as_u64(), 0x4642_0000_0000_0007);
        assert_eq!(k.controller(), Controller::B);
        assert_eq!(k.epoch(), 7);
        assert_eq!(ReservationKey::from_u64(k.as_u64()), Some(k));
        assert_eq!(ReservationKey::from_u64(0x4643_0000_0000_0001), None);
        assert_eq!(ReservationKey::from_u64(0x1234), None);
        assert!(ReservationKey::new(Controller::A, 2) > ReservationKey::new(Controller::A, 1));
    }
}
