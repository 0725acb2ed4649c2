//! The host's HA state machine ([`HostNode`]).
//!
//! # Call order (sans-IO)
//! 1. Create with [`HostNode::new`]; it waits in `Booting` for the first
//!    [`HostNode::handle_health`] (the platform's first look at disks, NICs, watchdog).
//! 2. Feed inputs as they happen, each with the current `now`: frames
//!    ([`HostNode::handle_frame`]), expired timers ([`HostNode::handle_timeout`]),
//!    finished actions ([`HostNode::handle_completion`]), admin commands
//!    ([`HostNode::handle_admin`]) and health changes ([`HostNode::handle_health`]).
//!    After a stall, drain every frame already received *before* calling
//!    `handle_timeout`. Every input notices a stall of our own (a gap of more than
//!    half the failover timeout since the last tick, or the clock stepping back) before
//!    it judges the peer, so silence during the gap is never held against the peer,
//!    whichever input comes first.
//! 3. After every input, drain [`HostNode::poll_action`], [`HostNode::poll_transmit`]
//!    and [`HostNode::poll_event`] until each returns `None`, then arm one timer for
//!    [`HostNode::poll_timeout`].
//!
//! Calling `handle_timeout` early, late or twice with the same `now` is harmless: work
//! happens only for deadlines that have passed, and each deadline is consumed once.
//!
//! # Safety argument, in brief
//! A node does I/O only while it holds the reservation with a key carrying an epoch
//! that it persisted *before* fencing, and that is above every epoch it has seen. A
//! node that loses its key (reservation check) or sees an active peer with a higher
//! epoch stops I/O at once and stops kicking its watchdog. The disk, not the network,
//! decides between two concurrent takeovers.

use heapless::Vec;

use crate::status::{DisabledReason, DisabledReasons, Status};
use crate::time::{Duration, Instant};
use crate::wire::{ConfigChunk, Endpoint, Freshness};
use crate::wire::{
    Control, Controller, DecodeError, Digest, EncodeError, FenceOutcome, FencingState, GroupState, Health,
    Heartbeat, KeyEscrowChunk, MAX_GROUPS, MacKey, Message, Received, Sender, SoftwareVersion, Station,
};

use super::liveness::PeerEvidence;
use super::outputs::Outputs;
use super::{
    Action, AdminCommand, AdminError, Completion, ErrorCause, Event, EventKind, FenceResult, GivebackCause,
    Path, PeerVerdict, ReservationKey, Settings, StateName, TakeoverCause, Transmit,
};

/// How long an active waits for the standby to accept a giveback before giving up:
/// 20 heartbeat intervals (200 ms at the default), ample for one round trip.
pub const GIVEBACK_ACK_INTERVALS: u64 = 20;

/// How long pools may take to export on demotion before the node reboots itself:
/// 4 s, the reference's limit (a hung export must not keep the peer from importing).
pub const EXPORT_TIMEOUT_MS: u64 = 4_000;

/// How long releasing the disks may take before the node hands over anyway (the peer
/// preempts whatever is left): 2 s.
pub const RELEASE_TIMEOUT_MS: u64 = 2_000;

/// How long, in failover timeouts, no election runs after an active was last seen
/// (its claim, our own giveback or fence, a supersession on the disk): long enough for
/// a handover to finish, short enough that a pair whose active is gone elects one.
pub const ELECTION_HOLD_TIMEOUTS: u64 = 4;

/// Default time a booting node listens before deciding: 1 s. A node that comes up
/// while its peer is active but its own link is still settling must not fence a
/// healthy active; a second of boot time costs nothing.
pub const DEFAULT_BOOT_LISTEN_MS: u64 = 1_000;

/// Default reservation check period on the active: 100 ms. The disk refuses a fenced
/// node's writes at once; the check is how the node learns it and stops cleanly.
pub const DEFAULT_RESERVATION_CHECK_MS: u64 = 100;

const ACTION_QUEUE: usize = 16;
const EVENT_QUEUE: usize = 32;
const OUTBOX: usize = 8;

/// Static configuration of a host node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostConfig {
    /// Which controller this is.
    pub controller: Controller,
    /// Greater at every start of the service (a persisted counter; see `wire::replay`).
    pub boot_id: u32,
    /// The link key.
    pub key: MacKey,
    /// The administrator's failover settings.
    pub settings: Settings,
    /// The highest epoch persisted in the state file.
    pub persisted_epoch: u64,
    /// The state file says the peer fenced us at this epoch (see
    /// [`Action::RecordFenced`]); cleared once the peer is heard again.
    pub fenced_marker: Option<u64>,
    /// How long to listen at boot before deciding (at least the failover timeout).
    pub boot_listen: Duration,
    /// How often the active checks that it still holds the reservation.
    pub reservation_check_interval: Duration,
    /// Whether a BMC is attached (path L); without one, the BMC path is not expected.
    pub has_bmc: bool,
    /// Ask our BMC to reset the peer host when fencing a peer its BMC reports hung or
    /// dead. A peer that is merely silent is never reset: it may be alive behind a cut
    /// link, and resetting what you cannot see is how fence deathmatches start.
    pub reset_peer_on_fence: bool,
    /// The host itself drives an enclosure fence (I2C or GPIO on the host, no BMC):
    /// it cuts the peer's expander ports behind the disk fence of a takeover from a
    /// lost peer, and gives them back when it hands over (giveback).
    pub host_enclosure_fence: bool,
    /// Our software version.
    pub version: SoftwareVersion,
}

impl HostConfig {
    /// A configuration with the default timings.
    pub fn new(controller: Controller, key: MacKey, boot_id: u32) -> Self {
        Self {
            controller,
            boot_id,
            key,
            settings: Settings::default(),
            persisted_epoch: 0,
            fenced_marker: None,
            boot_listen: Duration::from_millis(DEFAULT_BOOT_LISTEN_MS),
            reservation_check_interval: Duration::from_millis(DEFAULT_RESERVATION_CHECK_MS),
            has_bmc: false,
            reset_peer_on_fence: true,
            host_enclosure_fence: false,
            version: SoftwareVersion { major: 0, minor: 1, patch: 0 },
        }
    }
}

/// The platform's view of this controller's own fitness.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LocalHealth {
    /// Critical failover groups and their link states.
    pub groups: Vec<GroupState, MAX_GROUPS>,
    /// Pools configured.
    pub pools_total: u16,
    /// Pools imported here.
    pub pools_imported: u16,
    /// The disk fence can be used (disks found, PR supported).
    pub fencing_available: bool,
    /// The hardware watchdog is open and armed.
    pub watchdog_available: bool,
    /// The dedicated link's interface has carrier.
    pub heartbeat_carrier: bool,
    /// Virtual IPs configured.
    pub vip_count: u16,
    /// Digest of the HA configuration.
    pub config_digest: Digest,
    /// Digest of the shared disks' unit serials.
    pub disk_set_digest: Digest,
}

impl LocalHealth {
    /// A healthy controller with one critical group up, one pool and one VIP (tests,
    /// simulation).
    pub fn nominal() -> Self {
        let mut groups = Vec::new();
        let _ = groups.push(GroupState { group: 1, up: 1, total: 1 });
        Self {
            groups,
            pools_total: 1,
            pools_imported: 0,
            fencing_available: true,
            watchdog_available: true,
            heartbeat_carrier: true,
            vip_count: 1,
            config_digest: Digest::default(),
            disk_set_digest: Digest::default(),
        }
    }
}

/// Timings of the last takeover, for the status and the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FailoverTimeline {
    /// Why.
    pub cause: TakeoverCause,
    /// The epoch taken.
    pub epoch: u64,
    /// Last time any path showed the peer alive (if ever).
    pub peer_last_alive: Option<Instant>,
    /// When the takeover was decided.
    pub decided: Instant,
    /// When the epoch was durable.
    pub persisted: Option<Instant>,
    /// When the fence completed.
    pub fenced: Option<Instant>,
    /// When the pools were imported.
    pub imported: Option<Instant>,
    /// When the node became active.
    pub active: Option<Instant>,
}

impl FailoverTimeline {
    /// From the peer's last sign of life to the decision.
    pub fn detect(&self) -> Option<Duration> {
        self.peer_last_alive.map(|t| self.decided.saturating_since(t))
    }
    /// From the decision to the fence's completion (includes persisting the epoch).
    pub fn fence(&self) -> Option<Duration> {
        self.fenced.map(|t| t.saturating_since(self.decided))
    }
    /// From the fence to the pools imported.
    pub fn import(&self) -> Option<Duration> {
        Some(self.imported?.saturating_since(self.fenced?))
    }
    /// From the peer's last sign of life (or the decision) to active.
    pub fn total(&self) -> Option<Duration> {
        Some(self.active?.saturating_since(self.peer_last_alive.unwrap_or(self.decided)))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum TakeoverPhase {
    Persisting,
    Fencing,
    Importing,
    RaisingVips,
    /// A last reservation check: become active only on a verified reservation (a
    /// concurrent takeover may have preempted us while we imported).
    Verifying,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum GivebackPhase {
    AwaitingAck,
    Exporting,
    Releasing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum State {
    Booting,
    Electing {
        until: Instant,
    },
    Standby,
    Takeover {
        epoch: u64,
        phase: TakeoverPhase,
        cause: TakeoverCause,
    },
    Active {
        epoch: u64,
    },
    Giveback {
        epoch: u64,
        phase: GivebackPhase,
        cause: GivebackCause,
        deadline: Instant,
    },
    Fenced {
        epoch: u64,
    },
    Error {
        cause: ErrorCause,
    },
    /// Demotion failed: the node asked to be rebooted and must not touch anything.
    Rebooting,
}

/// What the peer last told us about itself (from H heartbeats or the BMC relay).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct PeerReport {
    status: Status,
    epoch: u64,
    disabled: DisabledReasons,
    health: Option<Health>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum OutMsg {
    Heartbeat,
    Control(Control),
}

/// Data the platform must handle that the state machine only passes through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivered {
    /// A configuration chunk from the peer's active.
    ConfigChunk(ConfigChunk),
    /// An escrowed pool-key chunk from the peer host. Only frames whose header names
    /// the peer host as sender are delivered, so the chunk opens with the escrow key of
    /// `Sender::new(controller.peer(), Station::Host)`.
    KeyEscrowChunk(KeyEscrowChunk),
    /// An administrator's manual sync request from the peer host
    /// ([`Control::SyncRequest`]): the platform pushes or accepts a configuration.
    SyncRequest {
        /// The digest of the peer's shared configuration.
        digest: Digest,
        /// `true`: the peer pushes its configuration and asks us to apply it; `false`:
        /// the peer asks us to push ours.
        push: bool,
    },
}

/// A point-in-time summary for the API, metrics and UI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostStatus {
    /// The reference-style status.
    pub status: Status,
    /// The internal state.
    pub state: StateName,
    /// The epoch held (active) or the highest seen.
    pub epoch: u64,
    /// Why failover is unavailable.
    pub disabled: DisabledReasons,
    /// The verdict on the peer.
    pub peer: PeerVerdict,
    /// What the peer last reported, if anything.
    pub peer_status: Option<Status>,
    /// Age of the last frame from the peer host on H.
    pub host_link_age: Option<Duration>,
    /// Age of the last frame from our BMC on L.
    pub bmc_link_age: Option<Duration>,
    /// Whether this node may do I/O to the shared disks now.
    pub io_allowed: bool,
    /// The last takeover's timings.
    pub last_failover: Option<FailoverTimeline>,
    /// The configuration digest in the peer's last heartbeat on the host link, if any.
    pub peer_config_digest: Option<Digest>,
    /// The epoch the peer last reported, if any.
    pub peer_epoch: Option<u64>,
}

/// The host's HA state machine. See the module docs for the call order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostNode {
    cfg: HostConfig,
    endpoint: Endpoint,
    state: State,
    health: LocalHealth,
    group_down_since: [Option<Instant>; MAX_GROUPS],
    evidence: PeerEvidence,
    verdict: PeerVerdict,
    peer: Option<PeerReport>,
    peer_ever_heard: bool,
    /// No election before this instant: an active existed (we heard its claim, held
    /// the role ourselves, or found its key on the disk) too recently for "both
    /// standby" to mean "nobody is active" (for example during a handover).
    election_hold_until: Instant,
    /// The highest epoch seen anywhere (persisted, in frames, on disk).
    max_seen: u64,
    /// We were fenced by the peer at this epoch and have not heard it since.
    fenced_marker: Option<u64>,
    persisted: u64,
    reservation_ok: bool,
    /// The peer's enclosure ports may be cut by us (host-driven enclosure fence): set
    /// when we cut them, and at boot (a latch survives our restart); cleared when we
    /// give them back.
    peer_maybe_cut: bool,
    next_tick: Instant,
    next_check: Option<Instant>,
    /// The last tick, or the last stall noticed: a gap from here longer than half the
    /// failover timeout is a stall of our own (see `observe_clock`).
    last_tick: Option<Instant>,
    /// The latest `now` seen; an earlier one means the host's clock stepped back.
    last_now: Instant,
    timeline: Option<FailoverTimeline>,
    out: Outputs<OutMsg, ACTION_QUEUE, OUTBOX, EVENT_QUEUE>,
}

impl HostNode {
    /// A node that has just started at `now`.
    pub fn new(cfg: HostConfig, now: Instant) -> Self {
        let endpoint =
            Endpoint::new(cfg.key.clone(), Sender::new(cfg.controller, Station::Host), cfg.boot_id);
        let persisted = cfg.persisted_epoch;
        Self {
            endpoint,
            state: State::Booting,
            health: LocalHealth::default(),
            group_down_since: [None; MAX_GROUPS],
            evidence: PeerEvidence::new(now),
            verdict: PeerVerdict::Unknown,
            peer: None,
            peer_ever_heard: false,
            election_hold_until: now,
            max_seen: persisted,
            fenced_marker: cfg.fenced_marker,
            persisted,
            reservation_ok: false,
            peer_maybe_cut: cfg.host_enclosure_fence,
            next_tick: now,
            next_check: None,
            last_tick: None,
            last_now: now,
            timeline: None,
            out: Outputs::new(),
            cfg,
        }
    }

    // ----- queries -------------------------------------------------------------------

    /// This controller.
    pub fn controller(&self) -> Controller {
        self.cfg.controller
    }

    /// The current settings.
    pub fn settings(&self) -> Settings {
        self.cfg.settings
    }

    fn timeout(&self) -> Duration {
        self.cfg.settings.failover_timeout
    }

    /// The internal state's name.
    pub fn state_name(&self) -> StateName {
        match self.state {
            State::Booting => StateName::Booting,
            State::Electing { .. } => StateName::Electing,
            State::Standby => StateName::Standby,
            State::Takeover { phase, .. } => match phase {
                TakeoverPhase::Persisting => StateName::TakeoverPersisting,
                TakeoverPhase::Fencing => StateName::TakeoverFencing,
                TakeoverPhase::Importing => StateName::TakeoverImporting,
                TakeoverPhase::RaisingVips => StateName::TakeoverRaisingVips,
                TakeoverPhase::Verifying => StateName::TakeoverVerifying,
            },
            State::Active { .. } => StateName::Active,
            State::Giveback { phase, .. } => match phase {
                GivebackPhase::AwaitingAck => StateName::GivebackAwaitingAck,
                GivebackPhase::Exporting => StateName::GivebackExporting,
                GivebackPhase::Releasing => StateName::GivebackReleasing,
            },
            State::Fenced { .. } => StateName::Fenced,
            State::Error { .. } | State::Rebooting => StateName::Error,
        }
    }

    /// The reference-style status.
    pub fn status(&self) -> Status {
        match self.state {
            State::Booting | State::Electing { .. } => Status::Electing,
            State::Standby => Status::Backup,
            State::Takeover { .. } => Status::Importing,
            State::Active { .. } | State::Giveback { .. } => {
                if self.peer_ever_heard {
                    Status::Master
                } else {
                    Status::Single
                }
            }
            State::Fenced { .. } | State::Error { .. } | State::Rebooting => Status::Error,
        }
    }

    /// The epoch this node holds, if it holds one (takeover past persisting, active,
    /// giving back, fenced).
    pub fn held_epoch(&self) -> Option<u64> {
        match self.state {
            State::Takeover { epoch, phase, .. } if phase != TakeoverPhase::Persisting => Some(epoch),
            State::Active { epoch } | State::Giveback { epoch, .. } | State::Fenced { epoch } => Some(epoch),
            _ => None,
        }
    }

    /// The epoch reported: the one held, else the highest seen.
    pub fn epoch(&self) -> u64 {
        self.held_epoch().unwrap_or(self.max_seen)
    }

    /// Whether the node remembers being fenced by a peer it has not heard since.
    pub fn fenced_marker(&self) -> Option<u64> {
        self.fenced_marker
    }

    /// The highest epoch persisted by this node.
    pub fn persisted_epoch(&self) -> u64 {
        self.persisted
    }

    /// Whether this node believes it may do I/O on the shared disks: it imported (or is
    /// importing, or still exporting) pools under a reservation it has not seen lost.
    pub fn io_allowed(&self) -> bool {
        match self.state {
            State::Takeover { phase, .. } => {
                matches!(
                    phase,
                    TakeoverPhase::Importing | TakeoverPhase::RaisingVips | TakeoverPhase::Verifying
                )
            }
            State::Active { .. } => true,
            State::Giveback { phase, .. } => phase != GivebackPhase::Releasing,
            _ => false,
        }
    }

    /// Whether this node is active (holds the role, VIPs up).
    pub fn is_active(&self) -> bool {
        matches!(self.state, State::Active { .. })
    }

    /// The verdict on the peer as of the last input.
    pub fn peer_verdict(&self) -> PeerVerdict {
        self.verdict
    }

    /// The last takeover's timings.
    pub fn last_failover(&self) -> Option<FailoverTimeline> {
        self.timeline
    }

    /// The disabled reasons at `now`.
    pub fn disabled_reasons(&self, now: Instant) -> DisabledReasons {
        let mut r = DisabledReasons::NONE;
        let h = &self.health;
        if self.cfg.settings.disabled {
            r.insert(DisabledReason::AdminDisabled);
        }
        let t = self.timeout();
        let verdict = self.evidence.judge(now, t);
        if !verdict.is_alive() {
            r.insert(DisabledReason::NoPeer);
        }
        if self.peer_ever_heard && !self.evidence.host_link_up(now, t) {
            r.insert(DisabledReason::NoHostLink);
        }
        if self.cfg.has_bmc && !self.evidence.bmc_path_up(now, t) {
            r.insert(DisabledReason::NoBmcLink);
        }
        if !h.heartbeat_carrier {
            r.insert(DisabledReason::NoCarrierOnHeartbeat);
        }
        if let Some(peer_health) = self.peer.as_ref().and_then(|p| p.health.as_ref()) {
            if peer_health.config_digest != h.config_digest {
                r.insert(DisabledReason::ConfigMismatch);
            }
            if peer_health.disk_set_digest != h.disk_set_digest {
                r.insert(DisabledReason::DiskSetMismatch);
            }
            if peer_health.version != self.cfg.version {
                r.insert(DisabledReason::VersionMismatch);
            }
        }
        if h.groups.is_empty() {
            r.insert(DisabledReason::NoCriticalInterfaces);
        }
        if h.vip_count == 0 {
            r.insert(DisabledReason::NoVip);
        }
        if h.pools_total == 0 {
            r.insert(DisabledReason::NoPools);
        }
        if !h.fencing_available {
            r.insert(DisabledReason::FencingUnavailable);
        }
        if !h.watchdog_available {
            r.insert(DisabledReason::WatchdogUnavailable);
        }
        if matches!(self.state, State::Takeover { .. } | State::Giveback { .. }) {
            r.insert(DisabledReason::LocalFailoverInProgress);
        }
        if let Some(p) = &self.peer
            && verdict.is_alive()
            && (p.status == Status::Importing || p.disabled.contains(DisabledReason::LocalFailoverInProgress))
        {
            r.insert(DisabledReason::RemoteFailoverInProgress);
        }
        r
    }

    /// A status snapshot at `now`.
    pub fn snapshot(&self, now: Instant) -> HostStatus {
        HostStatus {
            status: self.status(),
            state: self.state_name(),
            epoch: self.epoch(),
            disabled: self.disabled_reasons(now),
            peer: self.evidence.judge(now, self.timeout()),
            peer_status: self.peer.as_ref().map(|p| p.status),
            host_link_age: self.evidence.heard_host_link.map(|t| now.saturating_since(t)),
            bmc_link_age: self.evidence.heard_own_bmc.map(|t| now.saturating_since(t)),
            io_allowed: self.io_allowed(),
            last_failover: self.timeline,
            peer_config_digest: self.peer.as_ref().and_then(|p| p.health.as_ref()).map(|h| h.config_digest),
            peer_epoch: self.peer.as_ref().map(|p| p.epoch),
        }
    }

    // ----- outputs -------------------------------------------------------------------

    /// The next action to carry out.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.out.pop_action()
    }

    /// The next event to log.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.out.pop_event()
    }

    /// Encode the next frame to send into `buf` (at least
    /// [`crate::wire::MAX_FRAME_LEN`] bytes); `None` when there is nothing to send.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        loop {
            let (path, msg) = self.out.pop_send()?;
            let message = match msg {
                OutMsg::Heartbeat => Message::Heartbeat(self.heartbeat(now)),
                OutMsg::Control(c) => Message::Control(c),
            };
            let to = match path {
                Path::HostLink => Sender::new(self.cfg.controller.peer(), Station::Host),
                Path::Local => Sender::new(self.cfg.controller, Station::Bmc),
                Path::BmcLink => Sender::new(self.cfg.controller.peer(), Station::Bmc),
            };
            // A buffer too small is the caller's bug; drop the frame rather than panic.
            if let Ok(len) = self.endpoint.seal(&message, to, buf) {
                return Some(Transmit { path, len });
            }
        }
    }

    /// Seal a platform-built message (configuration chunks, key escrow) with this
    /// node's identity and sequence, for sending on the host link (to the peer host).
    pub fn seal(&mut self, message: &Message, buf: &mut [u8]) -> Result<usize, EncodeError> {
        self.endpoint.seal(message, Sender::new(self.cfg.controller.peer(), Station::Host), buf)
    }

    /// When [`Self::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut next = self.next_tick;
        if let Some(c) = self.next_check {
            next = next.min(c);
        }
        match self.state {
            State::Electing { until } => next = next.min(until),
            State::Giveback { deadline, .. } => next = next.min(deadline),
            _ => {}
        }
        Some(next)
    }

    // ----- inputs --------------------------------------------------------------------

    /// A frame arrived on `path`. Returns what the platform must handle itself
    /// (configuration and key chunks), or why the frame was dropped.
    pub fn handle_frame(
        &mut self,
        now: Instant,
        path: Path,
        bytes: &[u8],
    ) -> Result<Option<Delivered>, DecodeError> {
        self.observe_clock(now);
        let rx = match self.endpoint.open(bytes) {
            Ok(rx) => rx,
            Err(error) => {
                self.out.event(now, EventKind::FrameRejected { path, error });
                return Err(error);
            }
        };
        let expected = match path {
            Path::HostLink => Sender::new(self.cfg.controller.peer(), Station::Host),
            Path::Local => Sender::new(self.cfg.controller, Station::Bmc),
            Path::BmcLink => Sender::new(self.cfg.controller.peer(), Station::Bmc),
        };
        if rx.header.sender != expected || path == Path::BmcLink {
            let error = DecodeError::BadSender(rx.header.sender.to_byte());
            self.out.event(now, EventKind::FrameRejected { path, error });
            return Err(error);
        }
        if let Freshness::Restarted { .. } = rx.freshness {
            let bmc = rx.header.sender.station == Station::Bmc;
            self.out.event(now, EventKind::PeerRestarted { controller: rx.header.sender.controller, bmc });
            if !bmc {
                // Whatever active we saw was the peer's previous life (possibly only a
                // frame still in flight when it died): the pair may need an election.
                self.election_hold_until = now;
            }
        }
        let delivered = self.on_message(now, path, rx);
        self.evaluate(now);
        Ok(delivered)
    }

    /// A deadline from [`Self::poll_timeout`] passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.observe_clock(now);
        if now >= self.next_tick {
            self.tick(now);
        }
        if let Some(at) = self.next_check
            && now >= at
        {
            self.next_check = None;
            if let State::Active { epoch } | State::Giveback { epoch, .. } = self.state {
                self.out.action(now, Action::CheckReservation { epoch, key: self.key(epoch) });
            }
        }
        self.evaluate(now);
    }

    /// An action finished.
    pub fn handle_completion(&mut self, now: Instant, completion: Completion) {
        self.observe_clock(now);
        self.on_completion(now, completion);
        self.evaluate(now);
    }

    /// The platform's view of local health changed (or is reported for the first time).
    pub fn handle_health(&mut self, now: Instant, health: LocalHealth) {
        self.observe_clock(now);
        for (i, slot) in self.group_down_since.iter_mut().enumerate() {
            *slot = match health.groups.get(i) {
                Some(g) if g.is_down() => {
                    // Keep the original instant while the same group stays down.
                    let same = self.health.groups.get(i).is_some_and(|old| old.group == g.group);
                    if same { slot.or(Some(now)) } else { Some(now) }
                }
                _ => None,
            };
        }
        self.health = health;
        if self.state == State::Booting {
            let listen = self.cfg.boot_listen.max(self.timeout());
            self.evidence.listening_since = now;
            self.set_state(now, State::Electing { until: now + listen });
            self.next_tick = now;
        }
        self.evaluate(now);
    }

    /// An administrator's command.
    pub fn handle_admin(&mut self, now: Instant, cmd: AdminCommand) -> Result<(), AdminError> {
        self.observe_clock(now);
        let r = self.on_admin(now, cmd);
        self.evaluate(now);
        r
    }

    // ----- internals -----------------------------------------------------------------

    /// Notice our own stalls; called first by every input, before anything judges the
    /// peer (the platform drains frames, completions, health and admin commands before
    /// it runs deadlines, so the first input after a stall is often not a timeout).
    ///
    /// - A `now` earlier than one already seen means the clock stepped back: deadlines
    ///   computed from the old clock may lie far in the future, so tick at once and
    ///   listen afresh before judging the peer.
    /// - More than half a failover timeout since our last tick means we did not run for
    ///   a while (stopped, starved, a VM descheduled, the clock jumped ahead): silence
    ///   during the gap proves nothing, so listen afresh. The stall is noticed once:
    ///   later inputs measure from here.
    fn observe_clock(&mut self, now: Instant) {
        if now < self.last_now {
            let gap = self.last_now.saturating_since(now);
            self.out.event(now, EventKind::SelfStall { gap });
            self.evidence.listening_since = now;
            self.next_tick = now;
            self.last_tick = None;
            self.next_check = self.next_check.map(|_| now);
            if let State::Electing { until } = self.state {
                self.state = State::Electing { until: until.min(now + self.cfg.boot_listen) };
            }
            if let State::Giveback { epoch, phase, cause, deadline } = self.state {
                let d = deadline.min(now + Duration::from_millis(EXPORT_TIMEOUT_MS));
                self.state = State::Giveback { epoch, phase, cause, deadline: d };
            }
        } else if let Some(last) = self.last_tick {
            let gap = now.saturating_since(last);
            if gap.micros() > self.timeout().micros() / 2 {
                self.evidence.listening_since = self.evidence.listening_since.max(now);
                self.out.event(now, EventKind::SelfStall { gap });
                self.last_tick = Some(now);
            }
        }
        self.last_now = now;
    }

    fn key(&self, epoch: u64) -> ReservationKey {
        ReservationKey::new(self.cfg.controller, epoch)
    }

    fn set_state(&mut self, now: Instant, next: State) {
        let from = self.state_name();
        self.state = next;
        let to = self.state_name();
        if from != to {
            self.out.event(now, EventKind::StateChanged { from, to });
        }
    }

    fn heartbeat(&self, now: Instant) -> Heartbeat {
        let fencing = match self.state {
            State::Fenced { .. } => FencingState::Fenced,
            State::Active { .. } | State::Giveback { .. } if self.reservation_ok => FencingState::Holding,
            _ if self.health.fencing_available => FencingState::Ready,
            _ => FencingState::Unavailable,
        };
        Heartbeat {
            status: self.status(),
            epoch: self.epoch(),
            interval_ms: self.cfg.settings.heartbeat_interval.millis_u32(),
            disabled: self.disabled_reasons(now),
            health: Health {
                groups: self.health.groups.clone(),
                pools_imported: self.health.pools_imported,
                pools_total: self.health.pools_total,
                fencing,
                config_digest: self.health.config_digest,
                disk_set_digest: self.health.disk_set_digest,
                version: self.cfg.version,
            },
        }
    }

    fn tick(&mut self, now: Instant) {
        // A stall before this tick was noticed by `observe_clock`, which every input
        // runs first.
        self.last_tick = Some(now);
        self.next_tick = now + self.cfg.settings.heartbeat_interval;
        if self.state == State::Booting {
            return;
        }
        self.out.send(Path::HostLink, OutMsg::Heartbeat);
        if self.cfg.has_bmc {
            self.out.send(Path::Local, OutMsg::Heartbeat);
        }
        if self.watchdog_may_be_kicked() {
            self.out.action(now, Action::KickWatchdog);
        }
        self.restore_a_healthy_peer(now);
    }

    /// Host-driven enclosure fence: a peer we cut that is back as a healthy standby
    /// (heard on the host link now, reporting BACKUP) gets its ports back, as the BMC
    /// does; its key was preempted, so the reservation still keeps it from writing,
    /// and it can take over again should we fail.
    fn restore_a_healthy_peer(&mut self, now: Instant) {
        if self.peer_maybe_cut
            && matches!(self.state, State::Active { .. })
            && self.evidence.host_link_up(now, self.timeout())
            && self.peer.as_ref().is_some_and(|p| p.status == Status::Backup)
        {
            self.peer_maybe_cut = false;
            self.out.action(now, Action::RestorePeerEnclosure);
        }
    }

    fn watchdog_may_be_kicked(&self) -> bool {
        if !self.health.watchdog_available {
            return false;
        }
        match self.state {
            State::Fenced { .. } | State::Rebooting => false,
            State::Active { .. } | State::Giveback { .. } => self.reservation_ok,
            _ => true,
        }
    }

    /// Reasons that forbid an automatic takeover: failover disabled, no usable fence,
    /// or a disk set that differs from the peer's (importing would miss disks).
    fn blocked(&self, now: Instant) -> bool {
        let r = self.disabled_reasons(now);
        r.contains(DisabledReason::AdminDisabled) || self.handover_blocked(r)
    }

    /// Reasons that forbid taking the disks even when the peer hands them over.
    fn handover_blocked(&self, r: DisabledReasons) -> bool {
        r.contains(DisabledReason::FencingUnavailable) || r.contains(DisabledReason::DiskSetMismatch)
    }

    fn peer_blocked(p: &PeerReport) -> bool {
        p.disabled.contains(DisabledReason::AdminDisabled)
            || p.disabled.contains(DisabledReason::FencingUnavailable)
            || p.disabled.contains(DisabledReason::DiskSetMismatch)
    }

    fn on_message(&mut self, now: Instant, path: Path, rx: Received) -> Option<Delivered> {
        match path {
            Path::HostLink => {
                self.evidence.heard_host_link = Some(now);
                self.peer_ever_heard = true;
            }
            Path::Local => self.evidence.heard_own_bmc = Some(now),
            Path::BmcLink => {}
        }
        match rx.message {
            Message::Heartbeat(hb) if path == Path::HostLink => self.on_peer_heartbeat(now, hb),
            Message::Relay(relay) if path == Path::Local => {
                self.evidence.relay = Some((now, relay));
                if relay.peer_bmc_alive && relay.peer_host == crate::wire::HostLiveness::Alive {
                    self.peer_ever_heard = true;
                    // Without the host link, the relay is our only news of the peer.
                    if !self.evidence.host_link_up(now, self.timeout()) {
                        let health = self.peer.as_ref().and_then(|p| p.health.clone());
                        let disabled = self.peer.as_ref().map(|p| p.disabled).unwrap_or_default();
                        self.note_peer_epoch(now, relay.peer_host_status, relay.peer_host_epoch);
                        self.peer = Some(PeerReport {
                            status: relay.peer_host_status,
                            epoch: relay.peer_host_epoch,
                            disabled,
                            health,
                        });
                    }
                }
            }
            Message::Control(Control::SyncRequest { digest, push }) if path == Path::HostLink => {
                return Some(Delivered::SyncRequest { digest, push });
            }
            Message::Control(c) if path == Path::HostLink => self.on_control(now, c),
            Message::FenceReport(r) => match r.outcome {
                FenceOutcome::Done => self.out.event(now, EventKind::PeerFenced { ok: true }),
                FenceOutcome::Failed | FenceOutcome::Partial => {
                    self.out.event(now, EventKind::PeerFenced { ok: false })
                }
                FenceOutcome::Lifted => {}
            },
            Message::ConfigChunk(c) if path == Path::HostLink => return Some(Delivered::ConfigChunk(c)),
            Message::KeyEscrowChunk(k) if path == Path::HostLink => {
                return Some(Delivered::KeyEscrowChunk(k));
            }
            _ => {}
        }
        None
    }

    /// Raise `max_seen`, and notice stale or superseding claims to be active.
    fn note_peer_epoch(&mut self, now: Instant, status: Status, epoch: u64) {
        if status == Status::Master {
            if epoch < self.max_seen {
                self.out.event(now, EventKind::StaleClaim { epoch });
                return;
            }
            self.hold_election(now);
            if let State::Active { epoch: mine } | State::Giveback { epoch: mine, .. } = self.state
                && epoch > mine
            {
                self.out.event(now, EventKind::Superseded { epoch });
                self.fence_self(now, mine);
            }
        }
        self.max_seen = self.max_seen.max(epoch);
    }

    fn on_peer_heartbeat(&mut self, now: Instant, hb: Heartbeat) {
        let previous = self.peer.as_ref().map(|p| p.status);
        self.note_peer_epoch(now, hb.status, hb.epoch);
        self.peer = Some(PeerReport {
            status: hb.status,
            epoch: hb.epoch,
            disabled: hb.disabled,
            health: Some(hb.health),
        });
        // The peer stood down (giveback released): the fallback for a lost BecomePassive.
        if previous == Some(Status::Master) && hb.status == Status::Backup && hb.epoch >= self.max_seen {
            self.accept_handover(now);
        }
    }

    fn on_control(&mut self, now: Instant, c: Control) {
        match c {
            Control::TakeoverRequest { epoch } => {
                if epoch > self.max_seen
                    && let State::Active { epoch: mine } = self.state
                {
                    self.out.send(Path::HostLink, OutMsg::Control(Control::TakeoverAck { epoch: mine }));
                    self.start_export(now, mine, GivebackCause::PeerRequest);
                }
            }
            Control::GivebackRequest { epoch } => {
                if epoch >= self.max_seen
                    && matches!(self.state, State::Standby | State::Electing { .. })
                    && !self.handover_blocked(self.disabled_reasons(now))
                {
                    self.max_seen = epoch;
                    self.out.send(Path::HostLink, OutMsg::Control(Control::GivebackAck { epoch }));
                }
            }
            Control::GivebackAck { epoch } => {
                if let State::Giveback { epoch: mine, phase: GivebackPhase::AwaitingAck, cause, .. } =
                    self.state
                    && epoch == mine
                {
                    self.start_export(now, mine, cause);
                }
            }
            Control::BecomePassive { epoch } => {
                if epoch >= self.max_seen {
                    self.max_seen = epoch;
                    self.accept_handover(now);
                }
            }
            Control::TakeoverAck { .. }
            | Control::FencePeer { .. }
            | Control::UnfencePeer { .. }
            | Control::SyncRequest { .. } => {}
        }
    }

    fn accept_handover(&mut self, now: Instant) {
        if matches!(self.state, State::Standby | State::Electing { .. })
            && !self.handover_blocked(self.disabled_reasons(now))
        {
            self.start_takeover(now, TakeoverCause::Handover);
        }
    }

    fn on_completion(&mut self, now: Instant, c: Completion) {
        match (self.state, c) {
            (
                State::Takeover { epoch, phase: TakeoverPhase::Persisting, cause },
                Completion::EpochPersisted { epoch: e, ok },
            ) if e == epoch => {
                if !ok {
                    self.set_state(now, State::Error { cause: ErrorCause::PersistFailed });
                    return;
                }
                self.persisted = self.persisted.max(epoch);
                self.max_seen = self.max_seen.max(epoch);
                self.mark(|t| t.persisted = Some(now));
                self.set_state(now, State::Takeover { epoch, phase: TakeoverPhase::Fencing, cause });
                self.out.action(now, Action::FenceAndReserve { epoch, key: self.key(epoch) });
            }
            (
                State::Takeover { epoch, phase: TakeoverPhase::Fencing, cause },
                Completion::Fenced { epoch: e, result },
            ) if e == epoch => match result {
                FenceResult::Done => {
                    self.mark(|t| t.fenced = Some(now));
                    self.request_hard_fence(now, epoch, cause);
                    self.set_state(now, State::Takeover { epoch, phase: TakeoverPhase::Importing, cause });
                    self.out.action(now, Action::ImportPools { epoch });
                }
                FenceResult::Failed => self.set_state(now, State::Error { cause: ErrorCause::FenceFailed }),
                FenceResult::Superseded { epoch: newer } => {
                    self.max_seen = self.max_seen.max(newer);
                    self.hold_election(now);
                    self.out.event(now, EventKind::Superseded { epoch: newer });
                    self.set_state(now, State::Standby);
                }
            },
            (
                State::Takeover { epoch, phase: TakeoverPhase::Importing, cause },
                Completion::PoolsImported { epoch: e, ok },
            ) if e == epoch => {
                if ok {
                    self.mark(|t| t.imported = Some(now));
                    self.set_state(now, State::Takeover { epoch, phase: TakeoverPhase::RaisingVips, cause });
                    self.out.action(now, Action::RaiseVips { epoch });
                } else {
                    self.set_state(now, State::Error { cause: ErrorCause::ImportFailed });
                }
            }
            (
                State::Takeover { epoch, phase: TakeoverPhase::RaisingVips, cause },
                Completion::VipsRaised { epoch: e },
            ) if e == epoch => {
                self.set_state(now, State::Takeover { epoch, phase: TakeoverPhase::Verifying, cause });
                self.out.action(now, Action::CheckReservation { epoch, key: self.key(epoch) });
            }
            (
                State::Takeover { epoch, phase: TakeoverPhase::Verifying, .. },
                Completion::ReservationChecked { epoch: e, held },
            ) if e == epoch => {
                if !held {
                    self.out.event(now, EventKind::ReservationLost);
                    self.fence_self(now, epoch);
                    return;
                }
                self.mark(|t| t.active = Some(now));
                self.reservation_ok = true;
                self.next_check = Some(now + self.cfg.reservation_check_interval);
                self.set_state(now, State::Active { epoch });
            }
            // Releasing: we are removing our key ourselves, so a check that was already
            // running can only find it gone. That is the handover, not a fence.
            (
                State::Giveback { epoch, phase: GivebackPhase::Releasing, .. },
                Completion::ReservationChecked { epoch: e, .. },
            ) if e == epoch => {}
            (
                State::Active { epoch } | State::Giveback { epoch, .. },
                Completion::ReservationChecked { epoch: e, held },
            ) if e == epoch => {
                if held {
                    self.reservation_ok = true;
                    self.next_check = Some(now + self.cfg.reservation_check_interval);
                } else {
                    self.out.event(now, EventKind::ReservationLost);
                    self.fence_self(now, epoch);
                }
            }
            (
                State::Giveback { epoch, phase: GivebackPhase::Exporting, cause, .. },
                Completion::PoolsExported { epoch: e, ok },
            ) if e == epoch => {
                if ok {
                    let deadline = now + Duration::from_millis(RELEASE_TIMEOUT_MS);
                    self.set_state(
                        now,
                        State::Giveback { epoch, phase: GivebackPhase::Releasing, cause, deadline },
                    );
                    self.out.action(now, Action::ReleaseDisks { epoch, key: self.key(epoch) });
                } else {
                    self.reboot(now);
                }
            }
            (
                State::Giveback { epoch, phase: GivebackPhase::Releasing, .. },
                Completion::DisksReleased { epoch: e },
            ) if e == epoch => {
                self.finish_giveback(now, epoch);
            }
            _ => self.out.event(now, EventKind::StaleCompletion),
        }
    }

    /// Behind the disk fence, and only once it has succeeded (the disk is what must
    /// succeed; a node that could not take the disks must not touch the peer): ask our
    /// BMC to cut the peer's enclosure ports, and to reset the peer host when its BMC
    /// reported it hung or dead. A peer that handed over or lost an election is healthy
    /// and left alone.
    fn request_hard_fence(&mut self, now: Instant, epoch: u64, cause: TakeoverCause) {
        let peer_reported_down = matches!(cause, TakeoverCause::PeerHung | TakeoverCause::PeerDead);
        let peer_lost = peer_reported_down || cause == TakeoverCause::PeerSilent;
        if self.cfg.has_bmc && (peer_lost || cause == TakeoverCause::Forced) {
            let reset_host = self.cfg.reset_peer_on_fence && peer_reported_down;
            self.out.send(Path::Local, OutMsg::Control(Control::FencePeer { epoch, reset_host }));
        } else if self.cfg.host_enclosure_fence && (peer_lost || cause == TakeoverCause::Forced) {
            self.peer_maybe_cut = true;
            self.out.action(now, Action::CutPeerEnclosure);
        }
    }

    fn mark(&mut self, f: impl FnOnce(&mut FailoverTimeline)) {
        if let Some(t) = self.timeline.as_mut() {
            f(t);
        }
    }

    fn on_admin(&mut self, now: Instant, cmd: AdminCommand) -> Result<(), AdminError> {
        let t = self.timeout();
        let peer_active_alive = self.evidence.judge(now, t).is_alive()
            && self.peer.as_ref().is_some_and(|p| matches!(p.status, Status::Master | Status::Importing));
        match cmd {
            AdminCommand::SetSettings(s) => {
                s.validate().map_err(AdminError::BadSettings)?;
                self.cfg.settings = s;
                self.next_tick = self.next_tick.min(now + s.heartbeat_interval);
                Ok(())
            }
            AdminCommand::ForceTakeover => match self.state {
                State::Active { .. } | State::Giveback { .. } => Err(AdminError::AlreadyActive),
                State::Takeover { .. } => Err(AdminError::FailoverInProgress),
                _ if peer_active_alive => Err(AdminError::PeerActive),
                _ => {
                    self.fenced_marker = None;
                    self.start_takeover(now, TakeoverCause::Forced);
                    Ok(())
                }
            },
            AdminCommand::RequestTakeover => match self.state {
                State::Active { .. } | State::Giveback { .. } => Err(AdminError::AlreadyActive),
                State::Takeover { .. } => Err(AdminError::FailoverInProgress),
                _ if !peer_active_alive || !self.evidence.host_link_up(now, t) => {
                    Err(AdminError::PeerUnavailable)
                }
                _ => {
                    let epoch = self.max_seen + 1;
                    self.out.send(Path::HostLink, OutMsg::Control(Control::TakeoverRequest { epoch }));
                    Ok(())
                }
            },
            AdminCommand::Giveback => match self.state {
                State::Active { epoch } => {
                    if !self.peer_ready_for_handover(now) {
                        return Err(AdminError::PeerUnavailable);
                    }
                    self.start_giveback(now, epoch, GivebackCause::Admin);
                    Ok(())
                }
                State::Giveback { .. } | State::Takeover { .. } => Err(AdminError::FailoverInProgress),
                _ => Err(AdminError::NotActive),
            },
            AdminCommand::BecomePassive => match self.state {
                State::Active { epoch } => {
                    self.start_export(now, epoch, GivebackCause::BecomePassive);
                    Ok(())
                }
                State::Giveback { .. } | State::Takeover { .. } => Err(AdminError::FailoverInProgress),
                _ => Err(AdminError::NotActive),
            },
        }
    }

    /// The peer is reachable over the host link, standby, and able to take the disks.
    fn peer_ready_for_handover(&self, now: Instant) -> bool {
        self.evidence.host_link_up(now, self.timeout())
            && self.peer.as_ref().is_some_and(|p| p.status == Status::Backup && !Self::peer_blocked(p))
    }

    fn start_takeover(&mut self, now: Instant, cause: TakeoverCause) {
        let epoch = self.max_seen + 1;
        self.timeline = Some(FailoverTimeline {
            cause,
            epoch,
            peer_last_alive: self.evidence.last_alive(now, self.timeout()),
            decided: now,
            persisted: None,
            fenced: None,
            imported: None,
            active: None,
        });
        self.out.event(now, EventKind::TakeoverStarted { cause, epoch });
        self.set_state(now, State::Takeover { epoch, phase: TakeoverPhase::Persisting, cause });
        self.out.action(now, Action::PersistEpoch { epoch });
    }

    fn start_giveback(&mut self, now: Instant, epoch: u64, cause: GivebackCause) {
        self.out.event(now, EventKind::GivebackStarted { cause });
        if self.cfg.host_enclosure_fence {
            // The peer is healthy (it is heard, and standby): it gets its ports back
            // first, so it can see and fence the disks when it takes them.
            self.peer_maybe_cut = false;
            self.out.action(now, Action::RestorePeerEnclosure);
        }
        let wait = self.cfg.settings.heartbeat_interval.saturating_mul(GIVEBACK_ACK_INTERVALS);
        self.set_state(
            now,
            State::Giveback { epoch, phase: GivebackPhase::AwaitingAck, cause, deadline: now + wait },
        );
        self.out.send(Path::HostLink, OutMsg::Control(Control::GivebackRequest { epoch }));
    }

    fn start_export(&mut self, now: Instant, epoch: u64, cause: GivebackCause) {
        if !matches!(self.state, State::Giveback { .. }) {
            self.out.event(now, EventKind::GivebackStarted { cause });
        }
        let deadline = now + Duration::from_millis(EXPORT_TIMEOUT_MS);
        self.set_state(now, State::Giveback { epoch, phase: GivebackPhase::Exporting, cause, deadline });
        self.out.action(now, Action::DropVips);
        self.out.action(now, Action::ExportPools { epoch });
    }

    fn finish_giveback(&mut self, now: Instant, epoch: u64) {
        // The peer takes over next: we must not win an election meanwhile (no failback).
        self.hold_election(now);
        self.reservation_ok = false;
        self.next_check = None;
        self.set_state(now, State::Standby);
        self.out.send(Path::HostLink, OutMsg::Control(Control::BecomePassive { epoch }));
    }

    /// Our reservation is gone, or a newer active exists: stop I/O now and let the
    /// watchdog take the host down.
    /// Hold elections for [`ELECTION_HOLD_TIMEOUTS`] failover timeouts from `now`.
    fn hold_election(&mut self, now: Instant) {
        let hold = now + self.timeout().saturating_mul(ELECTION_HOLD_TIMEOUTS);
        self.election_hold_until = self.election_hold_until.max(hold);
    }

    fn fence_self(&mut self, now: Instant, epoch: u64) {
        self.hold_election(now);
        self.reservation_ok = false;
        self.next_check = None;
        self.set_state(now, State::Fenced { epoch });
        self.out.action(now, Action::StopIo);
        self.out.action(now, Action::DropVips);
        self.fenced_marker = Some(epoch);
        self.out.action(now, Action::RecordFenced { epoch });
    }

    fn reboot(&mut self, now: Instant) {
        self.next_check = None;
        self.set_state(now, State::Rebooting);
        self.out.action(now, Action::StopIo);
        self.out.action(now, Action::Reboot);
    }

    /// Apply the rules that depend on time and on everything known: called after every
    /// input. Idempotent for a given `now`.
    fn evaluate(&mut self, now: Instant) {
        let t = self.timeout();
        // Silent for the timeout: hear them again whatever their boot id (wire::replay).
        if !self.evidence.host_link_up(now, t) {
            self.endpoint.forget(Sender::new(self.cfg.controller.peer(), Station::Host));
        }
        if self.evidence.heard_own_bmc.is_none_or(|at| now.saturating_since(at) >= t) {
            self.endpoint.forget(Sender::new(self.cfg.controller, Station::Bmc));
        }
        let verdict = self.evidence.judge(now, t);
        if verdict != self.verdict {
            self.verdict = verdict;
            self.out.event(now, EventKind::PeerVerdict { verdict });
        }
        if verdict.is_alive() && !matches!(self.state, State::Fenced { .. }) {
            self.fenced_marker = None;
        }
        match self.state {
            State::Booting
            | State::Takeover { .. }
            | State::Fenced { .. }
            | State::Error { .. }
            | State::Rebooting => {}
            State::Electing { until } => {
                let peer_active = self.peer_claims_active(now);
                if peer_active {
                    self.set_state(now, State::Standby);
                } else if self.election_won(now) {
                    self.start_takeover(now, TakeoverCause::Election);
                } else if now >= until {
                    self.set_state(now, State::Standby);
                    self.evaluate_standby(now, verdict);
                }
            }
            State::Standby => self.evaluate_standby(now, verdict),
            State::Active { epoch } => self.evaluate_active(now, epoch),
            State::Giveback { epoch, phase, deadline, .. } => {
                if now >= deadline {
                    match phase {
                        GivebackPhase::AwaitingAck => {
                            self.out.event(now, EventKind::GivebackAborted);
                            self.set_state(now, State::Active { epoch });
                        }
                        GivebackPhase::Exporting => self.reboot(now),
                        GivebackPhase::Releasing => self.finish_giveback(now, epoch),
                    }
                }
            }
        }
    }

    fn peer_claims_active(&self, now: Instant) -> bool {
        self.evidence.judge(now, self.timeout()).is_alive()
            && self.peer.as_ref().is_some_and(|p| {
                matches!(p.status, Status::Master | Status::Importing) && p.epoch >= self.max_seen
            })
    }

    /// Both standby, no active since boot: the designated primary takes over; if the
    /// primary says it cannot, the other one does.
    fn election_won(&self, now: Instant) -> bool {
        if now < self.election_hold_until
            || self.blocked(now)
            || !self.evidence.host_link_up(now, self.timeout())
        {
            return false;
        }
        let Some(p) = &self.peer else { return false };
        if !matches!(p.status, Status::Backup | Status::Electing) {
            return false;
        }
        self.cfg.settings.primary == self.cfg.controller || Self::peer_blocked(p)
    }

    fn evaluate_standby(&mut self, now: Instant, verdict: PeerVerdict) {
        // Fenced by a live peer before our last reboot: silence alone is not enough.
        let silence_suffices = self.fenced_marker.is_none();
        if verdict.is_gone() && !self.blocked(now) && (silence_suffices || verdict != PeerVerdict::Silent) {
            let cause = match verdict {
                PeerVerdict::Hung => TakeoverCause::PeerHung,
                PeerVerdict::Dead => TakeoverCause::PeerDead,
                _ => TakeoverCause::PeerSilent,
            };
            self.start_takeover(now, cause);
        } else if self.election_won(now) {
            self.start_takeover(now, TakeoverCause::Election);
        }
    }

    fn evaluate_active(&mut self, now: Instant, epoch: u64) {
        if self.cfg.settings.disabled || !self.peer_ready_for_handover(now) {
            return;
        }
        let t = self.timeout();
        let Some(peer_groups) = self.peer.as_ref().and_then(|p| p.health.as_ref()).map(|h| &h.groups) else {
            return;
        };
        let lost = self.health.groups.iter().zip(self.group_down_since.iter()).any(|(g, since)| {
            since.is_some_and(|s| now.saturating_since(s) >= t)
                && peer_groups.iter().any(|pg| pg.group == g.group && pg.up > 0)
        });
        if lost {
            self.start_giveback(now, epoch, GivebackCause::NetworkLoss);
        }
    }
}

impl core::hash::Hash for HostNode {
    /// Hashes the whole state (the model checker deduplicates states with it).
    fn hash<H: core::hash::Hasher>(&self, h: &mut H) {
        self.cfg.hash(h);
        self.endpoint.hash(h);
        self.state.hash(h);
        self.health.hash(h);
        self.group_down_since.hash(h);
        self.evidence.hash(h);
        self.verdict.hash(h);
        self.peer.hash(h);
        (self.peer_ever_heard, self.election_hold_until, self.max_seen, self.persisted, self.reservation_ok)
            .hash(h);
        self.fenced_marker.hash(h);
        (self.next_tick, self.next_check, self.last_tick, self.last_now, self.timeline).hash(h);
        self.out.hash(h);
    }
}
