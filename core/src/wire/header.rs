//! The fixed 17-byte frame header.
//!
//! It is laid out by hand (not postcard) so that magic and version can be checked
//! before anything else is parsed, and so its bytes are stable across serde versions:
//!
//! | offset | size | field                                                  |
//! |--------|------|--------------------------------------------------------|
//! | 0      | 2    | magic `0xFA 0x11`                                      |
//! | 2      | 1    | protocol version ([`version::CURRENT`])                |
//! | 3      | 1    | message kind ([`Kind`])                                |
//! | 4      | 1    | sender: bit 0 controller (0 = A, 1 = B), bit 1 BMC     |
//! | 5      | 4    | boot id, little endian (monotonic: up at every boot)   |
//! | 9      | 8    | sequence number, little endian, strictly increasing    |
//!
//! The recipient is not in the header: it is bound into the tag instead (see
//! [`super::frame`]).

use core::fmt;

use serde::{Deserialize, Serialize};

use super::DecodeError;
use postcard::experimental::max_size::MaxSize;

/// Protocol versions. The protocol is append-only: a version adds message kinds or
/// trailing fields, never reorders or removes them.
pub mod version {
    /// The oldest version this build still decodes.
    pub const MIN: u8 = 1;
    /// The version this build sends.
    pub const CURRENT: u8 = 1;
}

/// First two bytes of every frame.
pub const MAGIC: [u8; 2] = [0xFA, 0x11];

/// Length of the encoded header in bytes.
pub const HEADER_LEN: usize = 17;

/// One of the two controllers in the chassis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, MaxSize)]
pub enum Controller {
    /// Controller A.
    A,
    /// Controller B.
    B,
}

impl Controller {
    /// The other controller.
    pub const fn peer(self) -> Self {
        match self {
            Self::A => Self::B,
            Self::B => Self::A,
        }
    }

    /// 0 for A, 1 for B: the slot of per-controller arrays.
    pub const fn index(self) -> usize {
        match self {
            Self::A => 0,
            Self::B => 1,
        }
    }

    /// `'A'` or `'B'`.
    pub const fn letter(self) -> char {
        match self {
            Self::A => 'A',
            Self::B => 'B',
        }
    }
}

impl fmt::Display for Controller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.letter())
    }
}

/// Which processor of a controller speaks: the host OS or its BMC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Station {
    /// The controller's Linux host (`failoverd`).
    Host,
    /// The controller's BMC microcontroller (the firmware).
    Bmc,
}

/// The sender of a frame: a controller and a station on it. Four senders exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sender {
    /// Which controller.
    pub controller: Controller,
    /// Host or BMC.
    pub station: Station,
}

impl Sender {
    /// Every sender, in index order.
    pub const ALL: [Self; 4] = [
        Self::new(Controller::A, Station::Host),
        Self::new(Controller::B, Station::Host),
        Self::new(Controller::A, Station::Bmc),
        Self::new(Controller::B, Station::Bmc),
    ];

    /// The sender `station` on `controller`.
    pub const fn new(controller: Controller, station: Station) -> Self {
        Self { controller, station }
    }

    /// The header byte: bit 0 controller, bit 1 station; other bits are zero.
    pub const fn to_byte(self) -> u8 {
        let c = match self.controller {
            Controller::A => 0,
            Controller::B => 1,
        };
        let s = match self.station {
            Station::Host => 0,
            Station::Bmc => 2,
        };
        c | s
    }

    /// Parse the header byte; `None` if reserved bits are set.
    pub const fn from_byte(b: u8) -> Option<Self> {
        if b & !3 != 0 {
            return None;
        }
        let controller = if b & 1 == 0 { Controller::A } else { Controller::B };
        let station = if b & 2 == 0 { Station::Host } else { Station::Bmc };
        Some(Self { controller, station })
    }

    /// Dense index 0..4 (same as the header byte), for per-sender tables.
    pub const fn index(self) -> usize {
        self.to_byte() as usize
    }
}

impl fmt::Display for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = match self.station {
            Station::Host => "host",
            Station::Bmc => "bmc",
        };
        write!(f, "{}-{}", self.controller, st)
    }
}

/// Message kind byte. Append-only: never renumber.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    /// [`super::Heartbeat`]: a host's status and health.
    Heartbeat = 1,
    /// [`super::BmcHeartbeat`]: a BMC's view of its own host, to the peer BMC (path B).
    BmcHeartbeat = 2,
    /// [`super::Relay`]: a BMC's view of the peer, to its own host (path L).
    Relay = 3,
    /// [`super::Control`]: takeover / giveback / become-passive / fence requests.
    Control = 4,
    /// [`super::ConfigChunk`]: one chunk of a configuration push.
    ConfigChunk = 5,
    /// [`super::KeyEscrowChunk`]: one encrypted chunk of an escrowed pool key.
    KeyEscrowChunk = 6,
    /// [`super::FenceReport`]: the outcome of a fence.
    FenceReport = 7,
}

impl Kind {
    /// Every kind, in number order.
    pub const ALL: [Self; 7] = [
        Self::Heartbeat,
        Self::BmcHeartbeat,
        Self::Relay,
        Self::Control,
        Self::ConfigChunk,
        Self::KeyEscrowChunk,
        Self::FenceReport,
    ];

    /// Parse the kind byte.
    pub const fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            1 => Self::Heartbeat,
            2 => Self::BmcHeartbeat,
            3 => Self::Relay,
            4 => Self::Control,
            5 => Self::ConfigChunk,
            6 => Self::KeyEscrowChunk,
            7 => Self::FenceReport,
            _ => return None,
        })
    }
}

/// A decoded frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    /// Protocol version the frame was encoded with.
    pub version: u8,
    /// Which message follows.
    pub kind: Kind,
    /// Who sent it.
    pub sender: Sender,
    /// The sender's boot id: greater at each restart of the sender (a persisted or
    /// reset-surviving counter; see [`super::replay`]).
    pub boot_id: u32,
    /// Strictly increasing per (sender, boot id, recipient).
    pub seq: u64,
}

impl Header {
    /// Write the header into the first [`HEADER_LEN`] bytes of `out`.
    pub(crate) fn write(&self, out: &mut [u8; HEADER_LEN]) {
        out[0..2].copy_from_slice(&MAGIC);
        out[2] = self.version;
        out[3] = self.kind as u8;
        out[4] = self.sender.to_byte();
        out[5..9].copy_from_slice(&self.boot_id.to_le_bytes());
        out[9..17].copy_from_slice(&self.seq.to_le_bytes());
    }

    /// Parse a header, checking magic, version, kind and sender.
    pub(crate) fn read(bytes: &[u8; HEADER_LEN]) -> Result<Self, DecodeError> {
        if bytes[0..2] != MAGIC {
            return Err(DecodeError::BadMagic);
        }
        let version = bytes[2];
        if !(version::MIN..=version::CURRENT).contains(&version) {
            return Err(DecodeError::UnsupportedVersion(version));
        }
        let kind = Kind::from_byte(bytes[3]).ok_or(DecodeError::UnknownKind(bytes[3]))?;
        let sender = Sender::from_byte(bytes[4]).ok_or(DecodeError::BadSender(bytes[4]))?;
        let mut boot = [0u8; 4];
        boot.copy_from_slice(&bytes[5..9]);
        let mut seq = [0u8; 8];
        seq.copy_from_slice(&bytes[9..17]);
        Ok(Self { version, kind, sender, boot_id: u32::from_le_bytes(boot), seq: u64::from_le_bytes(seq) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_byte_round_trips_and_rejects_reserved_bits() {
        for s in Sender::ALL {
            assert_eq!(Sender::from_byte(s.to_byte()), Some(s));
        }
        for b in 4..=255u8 {
            assert_eq!(Sender::from_byte(b), None);
        }
        assert_eq!(Sender::ALL.map(Sender::index), [0, 1, 2, 3]);
    }

    #[test]
    fn kind_byte_round_trips() {
        for k in Kind::ALL {
            assert_eq!(Kind::from_byte(k as u8), Some(k));
        }
        assert_eq!(Kind::from_byte(0), None);
        assert_eq!(Kind::from_byte(8), None);
    }
}
