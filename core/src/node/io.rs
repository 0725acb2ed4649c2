//! The vocabulary between a node and its host: paths, actions out, completions and
//! admin commands in, events for the log.

use crate::time::{Duration, Instant};
use crate::wire::{Controller, DecodeError};

use super::{ReservationKey, Settings};

/// A link a frame travels on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Path {
    /// H: host to host over the dedicated inter-controller link (UDP).
    HostLink,
    /// B: BMC to BMC over their own UART link.
    BmcLink,
    /// L: a host and its own BMC over a UART.
    Local,
}

impl Path {
    /// One-letter name used in logs and the design documents.
    pub const fn letter(self) -> char {
        match self {
            Self::HostLink => 'H',
            Self::BmcLink => 'B',
            Self::Local => 'L',
        }
    }
}

/// A frame to send: the caller's buffer holds `len` bytes to put on `path`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Where to send it.
    pub path: Path,
    /// How many bytes of the buffer passed to `poll_transmit` make the frame.
    pub len: usize,
}

/// Something the host must do in the world. Actions that take time report back with a
/// [`Completion`] carrying the same epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Write `epoch` durably (state file, fsync) before anything is fenced with it.
    PersistEpoch {
        /// The epoch to persist.
        epoch: u64,
    },
    /// Take the shared disks: register `key`, preempt every other key (PREEMPT or
    /// PREEMPT AND ABORT), reserve Write Exclusive - Registrants Only; fail with
    /// `Superseded` if a key with a higher epoch is found.
    FenceAndReserve {
        /// The epoch the takeover runs under.
        epoch: u64,
        /// Our key for this epoch.
        key: ReservationKey,
    },
    /// Import every pool (hooks) now that the disks are ours.
    ImportPools {
        /// The epoch the import runs under.
        epoch: u64,
    },
    /// Add the virtual IPs and announce them (gratuitous ARP / unsolicited NA).
    RaiseVips {
        /// The epoch the VIPs are raised under.
        epoch: u64,
    },
    /// Remove the virtual IPs.
    DropVips,
    /// Export every pool (hooks); a failure or a timeout must be reported as such.
    ExportPools {
        /// The epoch being given up.
        epoch: u64,
    },
    /// Release the reservation and unregister `key`.
    ReleaseDisks {
        /// The epoch being given up.
        epoch: u64,
        /// Our key to remove.
        key: ReservationKey,
    },
    /// Check that `key` is still registered and holds the reservation on every disk.
    CheckReservation {
        /// The epoch we hold.
        epoch: u64,
        /// Our key.
        key: ReservationKey,
    },
    /// Stop all I/O to the shared disks now: our reservation is gone.
    StopIo,
    /// Record durably (best effort, next to the epoch) that the peer fenced us at
    /// `epoch`. After the reboot that follows, the node does not take over on silence
    /// alone until it hears the peer again: that is what stops a fence ping-pong when
    /// both links are cut while both controllers live.
    RecordFenced {
        /// The epoch we held when we lost the disks.
        epoch: u64,
    },
    /// Kick the hardware watchdog. Emitted once per heartbeat tick while the node is
    /// healthy; when it stops coming, the watchdog resets the host.
    KickWatchdog,
    /// Reboot immediately (the reference's STCNITH): a demotion could not be completed
    /// and the pools may still be imported.
    Reboot,
    /// Cut the peer controller's SAS expander ports in the enclosure (GPIO / I2C): the
    /// BMC's job, or the host's when it drives the enclosure itself
    /// ([`super::HostConfig::host_enclosure_fence`]).
    CutPeerEnclosure,
    /// Give the peer controller its enclosure ports back (BMC, or host as above).
    RestorePeerEnclosure,
    /// BMC: pulse the peer host's reset line.
    ResetPeerHost,
}

/// The outcome of a fence-and-reserve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FenceResult {
    /// Every disk is reserved with our key; the peer's keys are gone.
    Done,
    /// The fence did not complete (errors, timeouts); the node must not import.
    Failed,
    /// A key with a higher epoch was found: someone newer owns the disks.
    Superseded {
        /// The higher epoch found.
        epoch: u64,
    },
}

/// The result of an [`Action`] that took time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Completion {
    /// [`Action::PersistEpoch`] finished (`ok` false: the write failed).
    EpochPersisted {
        /// The epoch.
        epoch: u64,
        /// Whether it is durable now.
        ok: bool,
    },
    /// [`Action::FenceAndReserve`] finished.
    Fenced {
        /// The epoch.
        epoch: u64,
        /// How it went.
        result: FenceResult,
    },
    /// [`Action::ImportPools`] finished.
    PoolsImported {
        /// The epoch.
        epoch: u64,
        /// Whether every pool imported.
        ok: bool,
    },
    /// [`Action::RaiseVips`] finished.
    VipsRaised {
        /// The epoch.
        epoch: u64,
    },
    /// [`Action::ExportPools`] finished (`ok` false: failed or timed out).
    PoolsExported {
        /// The epoch.
        epoch: u64,
        /// Whether every pool exported.
        ok: bool,
    },
    /// [`Action::ReleaseDisks`] finished.
    DisksReleased {
        /// The epoch.
        epoch: u64,
    },
    /// [`Action::CheckReservation`] finished.
    ReservationChecked {
        /// The epoch.
        epoch: u64,
        /// Whether our key still holds the reservation everywhere.
        held: bool,
    },
    /// A BMC's enclosure cut / reset finished.
    PeerFenced {
        /// Whether the hardware fence took effect.
        ok: bool,
    },
}

/// An administrator's request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AdminCommand {
    /// Replace the failover settings.
    SetSettings(Settings),
    /// Become active now, whatever the peer looks like, unless the peer is a live
    /// active (then use giveback on it). The reference offers it when both are standby.
    ForceTakeover,
    /// Standby: ask the active to hand over (it exports, then we take over).
    RequestTakeover,
    /// Active: hand over to the standby (planned failover).
    Giveback,
    /// Active: stand down even without a standby to take over.
    BecomePassive,
}

/// Why an admin command was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AdminError {
    /// The settings are invalid (names the field).
    BadSettings(super::SettingsError),
    /// This controller is already active.
    AlreadyActive,
    /// Only the active controller can do that.
    NotActive,
    /// The peer is a live active controller: ask it to give back instead.
    PeerActive,
    /// Giveback needs a reachable, healthy standby.
    PeerUnavailable,
    /// A failover is already under way.
    FailoverInProgress,
}

impl core::fmt::Display for AdminError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::BadSettings(e) => write!(f, "bad settings: {e}"),
            Self::AlreadyActive => f.write_str("this controller is already active"),
            Self::NotActive => f.write_str("only the active controller can do that"),
            Self::PeerActive => f.write_str("the peer is active and alive: use giveback on it"),
            Self::PeerUnavailable => f.write_str("no healthy standby is reachable to take over"),
            Self::FailoverInProgress => f.write_str("a failover is already in progress"),
        }
    }
}

/// Why a takeover started.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TakeoverCause {
    /// Every path to the peer was silent for the failover timeout.
    PeerSilent,
    /// The peer's BMC reported its host hung.
    PeerHung,
    /// The peer's BMC reported its host dead (powered off / reset).
    PeerDead,
    /// Both controllers were standby and this one is the designated primary.
    Election,
    /// The active handed over (giveback, become-passive, or our takeover request).
    Handover,
    /// An administrator forced it.
    Forced,
}

/// Why the active gave up its role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GivebackCause {
    /// Administrator's giveback.
    Admin,
    /// Administrator's become-passive.
    BecomePassive,
    /// The standby asked (its administrator's takeover request).
    PeerRequest,
    /// A critical failover group has been down for the timeout while the peer's is up.
    NetworkLoss,
}

/// Name of a node's internal state, for logs and status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StateName {
    /// Waiting for the first health report.
    Booting,
    /// Listening for the peer before deciding.
    Electing,
    /// Healthy standby.
    Standby,
    /// Persisting the new epoch.
    TakeoverPersisting,
    /// Fencing the peer off the disks.
    TakeoverFencing,
    /// Importing pools.
    TakeoverImporting,
    /// Raising the virtual IPs.
    TakeoverRaisingVips,
    /// Verifying the reservation before declaring itself active.
    TakeoverVerifying,
    /// Active.
    Active,
    /// Waiting for the standby to accept a handover.
    GivebackAwaitingAck,
    /// Exporting pools to hand over.
    GivebackExporting,
    /// Releasing the disks to hand over.
    GivebackReleasing,
    /// Our reservation was taken: I/O stopped, watchdog starved.
    Fenced,
    /// Something failed that needs an administrator.
    Error,
    /// BMC: running.
    Bmc,
}

impl StateName {
    /// Lower-case name for logs and JSON.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Booting => "booting",
            Self::Electing => "electing",
            Self::Standby => "standby",
            Self::TakeoverPersisting => "takeover/persisting",
            Self::TakeoverFencing => "takeover/fencing",
            Self::TakeoverImporting => "takeover/importing",
            Self::TakeoverRaisingVips => "takeover/raising-vips",
            Self::TakeoverVerifying => "takeover/verifying",
            Self::Active => "active",
            Self::GivebackAwaitingAck => "giveback/awaiting-ack",
            Self::GivebackExporting => "giveback/exporting",
            Self::GivebackReleasing => "giveback/releasing",
            Self::Fenced => "fenced",
            Self::Error => "error",
            Self::Bmc => "bmc",
        }
    }

    /// Whether this is one of the takeover steps.
    pub const fn is_takeover(self) -> bool {
        matches!(
            self,
            Self::TakeoverPersisting
                | Self::TakeoverFencing
                | Self::TakeoverImporting
                | Self::TakeoverRaisingVips
                | Self::TakeoverVerifying
        )
    }
}

/// Why a node went to Error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCause {
    /// The epoch could not be persisted.
    PersistFailed,
    /// The disk fence failed: pools were not imported.
    FenceFailed,
    /// The pools did not import after the fence.
    ImportFailed,
}

/// What the peer looks like from here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PeerVerdict {
    /// Not heard yet; still within the first timeout of listening.
    Unknown,
    /// Heard on the host link (and maybe via the BMCs).
    Alive,
    /// The host link is silent but the BMCs say the peer host is alive: a link fault.
    AliveViaBmcOnly,
    /// Every path silent for the failover timeout.
    Silent,
    /// The peer's BMC reports its host hung.
    Hung,
    /// The peer's BMC reports its host dead.
    Dead,
}

impl PeerVerdict {
    /// Whether this verdict lets a standby take over.
    pub const fn is_gone(self) -> bool {
        matches!(self, Self::Silent | Self::Hung | Self::Dead)
    }

    /// Whether the peer is known alive.
    pub const fn is_alive(self) -> bool {
        matches!(self, Self::Alive | Self::AliveViaBmcOnly)
    }
}

/// Something worth a log line, with the time it happened. `Copy` and small so the
/// firmware can keep them in a ring buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// When.
    pub at: Instant,
    /// What.
    pub kind: EventKind,
}

/// The kinds of [`Event`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// The node changed state.
    StateChanged {
        /// Before.
        from: StateName,
        /// After.
        to: StateName,
    },
    /// The verdict on the peer changed.
    PeerVerdict {
        /// The new verdict.
        verdict: PeerVerdict,
    },
    /// A frame was rejected.
    FrameRejected {
        /// The path it came on.
        path: Path,
        /// Why.
        error: DecodeError,
    },
    /// A sender restarted (new boot id).
    PeerRestarted {
        /// Which controller's station restarted.
        controller: Controller,
        /// Whether it was the BMC (else the host).
        bmc: bool,
    },
    /// A takeover started.
    TakeoverStarted {
        /// Why.
        cause: TakeoverCause,
        /// The new epoch.
        epoch: u64,
    },
    /// The active started handing over.
    GivebackStarted {
        /// Why.
        cause: GivebackCause,
    },
    /// A claim to be active with an epoch below the highest seen was ignored.
    StaleClaim {
        /// The stale epoch.
        epoch: u64,
    },
    /// The peer became active with a higher epoch while we were active: we were fenced.
    Superseded {
        /// The peer's epoch.
        epoch: u64,
    },
    /// The reservation check found our key gone.
    ReservationLost,
    /// A completion that did not match the current state was ignored.
    StaleCompletion,
    /// The node noticed it had not run for a while (stopped or starved); it does not
    /// judge the peer silent until it has listened for a whole timeout again.
    SelfStall {
        /// How long it had not run.
        gap: Duration,
    },
    /// A fence ran on the peer (BMC enclosure cut / reset, or its report to the host).
    PeerFenced {
        /// Whether it worked.
        ok: bool,
    },
    /// A handover was refused or timed out.
    GivebackAborted,
    /// The action queue was full and an action was dropped (a bug: it is sized for the
    /// worst case).
    ActionOverflow,
}
