//! JSON types of the management API, shared by `failoverd` and `failoverctl`.

use serde::{Deserialize, Serialize};

/// Per-path state of the link to the peer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PathState {
    /// `true` when frames arrive within the failover timeout.
    pub up: bool,
    /// Milliseconds since the last frame, `null` if never.
    pub last_seen_ms: Option<u64>,
}

/// What we know of the peer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeerJson {
    /// The verdict: `unknown`, `alive`, `alive_via_bmc_only`, `silent`, `hung`, `dead`.
    pub verdict: String,
    /// The status the peer last reported (`MASTER`, `BACKUP`, ...), if any.
    pub status: Option<String>,
    /// Host link H.
    pub host_link: PathState,
    /// Our BMC (path L, and through it the BMC link B); `null` without a BMC.
    pub bmc_link: Option<PathState>,
    /// The digest of the shared configuration the peer last announced (hex).
    #[serde(default)]
    pub config_digest: Option<String>,
}

/// Timings of the last takeover, in milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LastFailover {
    /// Why it happened (`peer_silent`, `peer_hung`, `election`, `handover`, `forced`, ...).
    pub cause: String,
    /// The epoch taken.
    pub epoch: u64,
    /// Peer's last sign of life to the decision.
    pub detect_ms: Option<f64>,
    /// Decision to fence complete (includes persisting the epoch).
    pub fence_ms: Option<f64>,
    /// Fence to pools imported.
    pub import_ms: Option<f64>,
    /// Peer's last sign of life (or the decision) to active.
    pub total_ms: Option<f64>,
}

/// `GET /v1/status`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusJson {
    /// `A` or `B`.
    pub node: String,
    /// This controller's hostname.
    pub hostname: String,
    /// `MASTER`, `BACKUP`, `ELECTING`, `IMPORTING`, `ERROR` or `SINGLE`.
    pub status: String,
    /// Internal state (`standby`, `takeover/fencing`, ...).
    pub state: String,
    /// Epoch held (active) or the highest seen.
    pub epoch: u64,
    /// Reference-style disabled reasons (`NO_FAILOVER`, `NO_PONG`, ...).
    pub disabled_reasons: Vec<String>,
    /// The peer.
    pub peer: PeerJson,
    /// The last takeover on this controller.
    pub last_failover: Option<LastFailover>,
    /// Whether a passphrase is needed to unlock encrypted pools.
    pub passphrase_needed: bool,
    /// The digest of our shared configuration (hex); equal to the peer's when in sync.
    #[serde(default)]
    pub config_digest: String,
}

/// `GET/PUT /v1/settings` (System > Failover).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SettingsJson {
    /// Failover disabled.
    pub disabled: bool,
    /// Designated primary, `A` or `B`.
    pub primary: String,
    /// Failover timeout, milliseconds.
    pub timeout_ms: u64,
    /// Heartbeat interval, milliseconds.
    pub heartbeat_interval_ms: u64,
}

/// One recent event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventJson {
    /// Milliseconds since the service started.
    pub at_ms: u64,
    /// What happened, human readable.
    pub what: String,
}

/// An API error body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorJson {
    /// What went wrong, naming the bad field or the refused action.
    pub error: String,
}

/// One interface's failover fields (what the reference shows in ifconfig).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InterfaceJson {
    /// Interface name.
    pub name: String,
    /// Critical for failover.
    pub critical: bool,
    /// Failover group (required when critical).
    pub group: Option<u8>,
    /// VRRP-style virtual host id, 1-255.
    pub vhid: Option<u8>,
    /// This controller's addresses (CIDR).
    pub addresses: Vec<String>,
    /// The peer controller's addresses (CIDR).
    pub peer_addresses: Vec<String>,
    /// Virtual IPs (CIDR).
    pub virtual_addresses: Vec<String>,
    /// `MASTER` when the VIPs are up here, else `BACKUP`.
    pub state: String,
    /// Link has carrier.
    pub carrier: bool,
}

/// `GET/PUT /v1/network` (Network > Global Configuration).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkJson {
    /// Controller A's hostname.
    pub hostname_a: String,
    /// Controller B's hostname.
    pub hostname_b: String,
    /// The virtual hostname (also the Kerberos principal).
    pub hostname_virtual: String,
}

/// `POST /v1/takeover`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TakeoverJson {
    /// Force: become active although failover is disabled or undecided.
    pub force: bool,
}

/// `POST /v1/sync`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncJson {
    /// `to-peer` or `from-peer`.
    pub direction: String,
}

/// `POST /v1/unlock`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnlockJson {
    /// The pool-encryption passphrase.
    pub passphrase: String,
}
