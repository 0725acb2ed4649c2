//! Status names and disabled reasons, as the reference system (TrueNAS Enterprise HA)
//! reports them. They travel in every heartbeat so each controller can report both its
//! own and its peer's view, and the API shows them unchanged.
//!
//! Append-only: these enums are on the wire (postcard encodes the variant index), so
//! variants are never reordered or removed, and bit positions never change.

use core::fmt;

use postcard::experimental::max_size::MaxSize;
use serde::{Deserialize, Serialize};

/// The HA status a controller reports (the reference's status values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, MaxSize)]
pub enum Status {
    /// Active: owns the disks, has the pools imported and the virtual IPs up.
    Master,
    /// Standby: healthy and ready to take over.
    Backup,
    /// Deciding who is active (booting, or both standby with nothing decided yet).
    Electing,
    /// Taking over: fencing the peer and importing pools.
    Importing,
    /// A failure that needs an administrator (for example a fence that failed).
    Error,
    /// Running alone: HA is not available (see the disabled reasons).
    Single,
}

impl Status {
    /// The name the reference system uses.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Master => "MASTER",
            Self::Backup => "BACKUP",
            Self::Electing => "ELECTING",
            Self::Importing => "IMPORTING",
            Self::Error => "ERROR",
            Self::Single => "SINGLE",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why failover is not available right now. Bit positions are part of the wire format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum DisabledReason {
    /// The administrator disabled failover (reference: NO_FAILOVER).
    AdminDisabled = 0,
    /// No heartbeat from the peer on any path (reference: NO_PONG).
    NoPeer = 1,
    /// The host-to-host link is silent while the peer is known alive by another path.
    NoHostLink = 2,
    /// The BMC path (host to own BMC, or BMC to BMC) is silent.
    NoBmcLink = 3,
    /// The dedicated link's interface reports no carrier (reference: NO_CARRIER_ON_HEARTBEAT).
    NoCarrierOnHeartbeat = 4,
    /// The peer's configuration digest differs from ours.
    ConfigMismatch = 5,
    /// The peer sees a different set of shared disks (reference: MISMATCH_DISKS).
    DiskSetMismatch = 6,
    /// The peer runs different software (reference: MISMATCH_VERSIONS).
    VersionMismatch = 7,
    /// No interface is marked critical (reference: NO_CRITICAL_INTERFACES).
    NoCriticalInterfaces = 8,
    /// No virtual IP is configured (reference: NO_VIP).
    NoVip = 9,
    /// No pool is configured (reference: NO_VOLUME).
    NoPools = 10,
    /// The disk fence (SCSI-3 PR) cannot be used (reference: NO_FENCED).
    FencingUnavailable = 11,
    /// The hardware watchdog cannot be opened or armed.
    WatchdogUnavailable = 12,
    /// This controller is in the middle of a failover (reference: LOC_FAILOVER_ONGOING).
    LocalFailoverInProgress = 13,
    /// The peer is in the middle of a failover (reference: REM_FAILOVER_ONGOING).
    RemoteFailoverInProgress = 14,
}

impl DisabledReason {
    /// Every reason, in bit order.
    pub const ALL: [Self; 15] = [
        Self::AdminDisabled,
        Self::NoPeer,
        Self::NoHostLink,
        Self::NoBmcLink,
        Self::NoCarrierOnHeartbeat,
        Self::ConfigMismatch,
        Self::DiskSetMismatch,
        Self::VersionMismatch,
        Self::NoCriticalInterfaces,
        Self::NoVip,
        Self::NoPools,
        Self::FencingUnavailable,
        Self::WatchdogUnavailable,
        Self::LocalFailoverInProgress,
        Self::RemoteFailoverInProgress,
    ];

    /// The reference-style name shown by the API and UI.
    pub const fn name(self) -> &'static str {
        match self {
            Self::AdminDisabled => "NO_FAILOVER",
            Self::NoPeer => "NO_PONG",
            Self::NoHostLink => "NO_HOST_LINK",
            Self::NoBmcLink => "NO_BMC_LINK",
            Self::NoCarrierOnHeartbeat => "NO_CARRIER_ON_HEARTBEAT",
            Self::ConfigMismatch => "MISMATCH_CONFIG",
            Self::DiskSetMismatch => "MISMATCH_DISKS",
            Self::VersionMismatch => "MISMATCH_VERSIONS",
            Self::NoCriticalInterfaces => "NO_CRITICAL_INTERFACES",
            Self::NoVip => "NO_VIP",
            Self::NoPools => "NO_VOLUME",
            Self::FencingUnavailable => "NO_FENCED",
            Self::WatchdogUnavailable => "NO_WATCHDOG",
            Self::LocalFailoverInProgress => "LOC_FAILOVER_ONGOING",
            Self::RemoteFailoverInProgress => "REM_FAILOVER_ONGOING",
        }
    }

    const fn bit(self) -> u32 {
        1 << (self as u8)
    }
}

impl fmt::Display for DisabledReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of [`DisabledReason`]s, carried on the wire as a `u32` bit set. Unknown bits
/// from a newer peer are kept (and reported as such) rather than rejected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, MaxSize)]
#[serde(transparent)]
pub struct DisabledReasons(u32);

impl DisabledReasons {
    /// No reason: failover is available.
    pub const NONE: Self = Self(0);

    /// The set with the raw bits `bits` (as read off the wire).
    pub const fn from_bits(bits: u32) -> Self {
        Self(bits)
    }

    /// The raw bits.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether no reason is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether `reason` is set.
    pub const fn contains(self, reason: DisabledReason) -> bool {
        self.0 & reason.bit() != 0
    }

    /// Add `reason`.
    pub const fn insert(&mut self, reason: DisabledReason) {
        self.0 |= reason.bit();
    }

    /// Remove `reason`.
    pub const fn remove(&mut self, reason: DisabledReason) {
        self.0 &= !reason.bit();
    }

    /// This set with `reason` added.
    #[must_use]
    pub const fn with(mut self, reason: DisabledReason) -> Self {
        self.insert(reason);
        self
    }

    /// The known reasons in the set, in bit order.
    pub fn iter(self) -> impl Iterator<Item = DisabledReason> {
        DisabledReason::ALL.into_iter().filter(move |r| self.contains(*r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_round_trip_through_bits() {
        let mut set = DisabledReasons::NONE;
        assert!(set.is_empty());
        set.insert(DisabledReason::AdminDisabled);
        set.insert(DisabledReason::RemoteFailoverInProgress);
        assert_eq!(set.bits(), 1 | 1 << 14);
        assert!(set.contains(DisabledReason::AdminDisabled));
        assert!(!set.contains(DisabledReason::NoPeer));
        let names: std::vec::Vec<_> = set.iter().map(DisabledReason::name).collect();
        assert_eq!(names, ["NO_FAILOVER", "REM_FAILOVER_ONGOING"]);
        set.remove(DisabledReason::AdminDisabled);
        assert_eq!(set, DisabledReasons::NONE.with(DisabledReason::RemoteFailoverInProgress));
    }

    #[test]
    fn bit_positions_are_distinct_and_dense() {
        for (i, r) in DisabledReason::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i);
        }
    }
}
