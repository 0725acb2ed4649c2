//! BMC messages: what a BMC knows, told to the peer BMC (path B) and to its own host
//! (path L).
//!
//! The BMC is the independent witness. It keeps running when its host hangs, so a
//! standby can learn "the active's host is hung" from the active's own BMC, and tell a
//! dead host from a cut host link.

use postcard::experimental::max_size::MaxSize;
use serde::{Deserialize, Serialize};

use crate::status::Status;

/// Age value meaning "never heard".
pub const AGE_NEVER: u32 = u32::MAX;

/// What a BMC concludes about a host it watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, MaxSize)]
pub enum HostLiveness {
    /// No information yet (BMC just booted, or it never heard the host).
    Unknown,
    /// Heartbeats arrive on time.
    Alive,
    /// Heartbeats stopped for the hang timeout while the host is powered: hung.
    Hung,
    /// The host is powered off, held in reset, or was reset by a fence.
    Dead,
}

/// BMC to peer BMC (path B), every BMC interval: the state of the sender's own host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, MaxSize)]
pub struct BmcHeartbeat {
    /// Liveness of the sender's host.
    pub host: HostLiveness,
    /// Milliseconds since the sender's host last heartbeated ([`AGE_NEVER`] if never).
    pub host_age_ms: u32,
    /// The status the sender's host last reported.
    pub host_status: Status,
    /// The epoch the sender's host last reported.
    pub host_epoch: u64,
    /// Whether the sender currently holds the peer fenced (enclosure ports cut).
    pub fencing_peer: bool,
}

/// BMC to own host (path L): everything the BMC knows of the peer controller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, MaxSize)]
pub struct Relay {
    /// Whether the peer BMC's heartbeats arrive on time.
    pub peer_bmc_alive: bool,
    /// Milliseconds since the last frame from the peer BMC ([`AGE_NEVER`] if never).
    pub peer_bmc_age_ms: u32,
    /// What the peer BMC says of its host.
    pub peer_host: HostLiveness,
    /// Milliseconds since the peer host last heartbeated its BMC, as that BMC reported
    /// it, plus the age of that report ([`AGE_NEVER`] if never).
    pub peer_host_age_ms: u32,
    /// The status the peer host last reported to its BMC.
    pub peer_host_status: Status,
    /// The epoch the peer host last reported to its BMC.
    pub peer_host_epoch: u64,
}
