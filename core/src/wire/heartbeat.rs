//! Heartbeat: a host announces its status and health (paths H and L).
//!
//! Sent every heartbeat interval by both hosts, to the peer host over the dedicated
//! link and to the own BMC over the UART. Everything the peer needs to decide whether
//! failover is possible and safe is here: who is active and with which epoch, whether
//! the critical networks are up, and whether both sides agree on configuration, disks
//! and software.

use heapless::Vec;
use postcard::experimental::max_size::MaxSize;
use serde::{Deserialize, Serialize};

use super::Digest;
use crate::status::{DisabledReasons, Status};

/// Most failover groups a heartbeat reports (the reference's UI offers a handful).
pub const MAX_GROUPS: usize = 8;

/// A host's heartbeat.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, MaxSize)]
pub struct Heartbeat {
    /// The status the sender reports.
    pub status: Status,
    /// The sender's epoch: the one it holds when active, else the highest it has seen.
    pub epoch: u64,
    /// The sender's heartbeat interval in milliseconds (so the receiver can judge gaps).
    pub interval_ms: u32,
    /// Why failover is unavailable, as the sender sees it.
    pub disabled: DisabledReasons,
    /// The sender's health summary.
    pub health: Health,
}

/// What a host knows of its own fitness to be (or stay) active.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, MaxSize)]
pub struct Health {
    /// Link state of each critical failover group.
    pub groups: Vec<GroupState, MAX_GROUPS>,
    /// How many configured pools are imported on the sender.
    pub pools_imported: u16,
    /// How many pools are configured.
    pub pools_total: u16,
    /// The sender's disk-fence state.
    pub fencing: FencingState,
    /// Digest of the sender's HA configuration.
    pub config_digest: Digest,
    /// Digest of the sorted unit serials of the shared disks the sender sees.
    pub disk_set_digest: Digest,
    /// The sender's software version.
    pub version: SoftwareVersion,
}

/// Link state of one critical failover group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, MaxSize)]
pub struct GroupState {
    /// Failover group number (from the configuration).
    pub group: u8,
    /// Interfaces of the group with carrier.
    pub up: u8,
    /// Interfaces in the group.
    pub total: u8,
}

impl GroupState {
    /// The group counts as down only when every interface in it is down (the
    /// reference's rule: multipath survives the loss of one link).
    pub const fn is_down(&self) -> bool {
        self.total > 0 && self.up == 0
    }
}

/// The disk-fence state of a host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, MaxSize)]
pub enum FencingState {
    /// The fence cannot be used (no disks, no PR support, backend error).
    Unavailable,
    /// Registered and ready; not holding the reservation (a healthy standby).
    Ready,
    /// Holding the reservation with its own key (a healthy active).
    Holding,
    /// Its key was preempted: it must not write.
    Fenced,
}

/// A software version, compared for the version-mismatch reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, MaxSize)]
pub struct SoftwareVersion {
    /// Major version.
    pub major: u8,
    /// Minor version.
    pub minor: u8,
    /// Patch version.
    pub patch: u8,
}
