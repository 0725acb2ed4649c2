//! The BMC's role ([`BmcNode`]): the independent witness and the hard fence.
//!
//! A BMC watches its own host over path L (the host heartbeats it), tells the peer BMC
//! over path B what it sees (alive / hung / dead, with the host's status and epoch),
//! and tells its own host over L what the peer BMC said (a [`Relay`]). It executes the
//! hard fences: cutting the peer controller's enclosure ports and pulsing its reset.
//!
//! It fences the peer when its own host asks (with an epoch not below the highest it
//! has seen, so a stale host cannot fence the new active), or on its own when the
//! peer's BMC reports the peer host hung or dead while our host is alive (our host is
//! about to take over; cutting a hung host off the disks early costs nothing). It lifts
//! the fence when the peer host is back as a healthy standby.
//!
//! Call order is the same as [`super::HostNode`]'s. The firmware kicks its hardware
//! watchdog on every [`Action::KickWatchdog`], which comes once per tick.

use crate::status::Status;
use crate::time::{Duration, Instant};
use crate::wire::{
    AGE_NEVER, BmcHeartbeat, Control, Controller, DecodeError, Endpoint, FenceMethod, FenceOutcome,
    FenceReport, Freshness, HostLiveness, MacKey, Message, Relay, Sender, Station,
};

use super::outputs::Outputs;
use super::{Action, Completion, Event, EventKind, Path, StateName, Transmit};

/// Default time without host heartbeats before a powered host is declared hung: 50 ms,
/// the default failover timeout. The BMC hears its host over a dedicated UART, so
/// silence there means the host's heartbeat thread is not running.
pub const DEFAULT_HOST_HANG_MS: u64 = 50;

const ACTION_QUEUE: usize = 8;
const EVENT_QUEUE: usize = 32;
const OUTBOX: usize = 8;

/// Static configuration of a BMC node (baked into the firmware or provisioned).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BmcConfig {
    /// Which controller this BMC sits on.
    pub controller: Controller,
    /// Greater at every boot (a counter kept in reset-surviving RAM; see `wire::replay`).
    pub boot_id: u32,
    /// The link key (same as the hosts').
    pub key: MacKey,
    /// Heartbeat interval on paths B and L.
    pub interval: Duration,
    /// Peer BMC silent this long: the BMC path is down.
    pub peer_timeout: Duration,
    /// Host silent this long while powered: hung.
    pub host_hang_timeout: Duration,
    /// Fence the peer on our own when its BMC reports its host hung or dead.
    pub fence_hung_peer: bool,
    /// Also pulse the peer's reset line in that case.
    pub reset_hung_peer: bool,
    /// The highest epoch seen before this boot (kept in reset-surviving RAM).
    pub max_epoch: u64,
}

impl BmcConfig {
    /// A configuration with the default timings.
    pub fn new(controller: Controller, key: MacKey, boot_id: u32) -> Self {
        Self {
            controller,
            boot_id,
            key,
            interval: Duration::from_millis(super::DEFAULT_HEARTBEAT_INTERVAL_MS),
            peer_timeout: Duration::from_millis(super::DEFAULT_FAILOVER_TIMEOUT_MS),
            host_hang_timeout: Duration::from_millis(DEFAULT_HOST_HANG_MS),
            fence_hung_peer: true,
            reset_hung_peer: false,
            max_epoch: 0,
        }
    }
}

/// What the BMC's own hardware says about its host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BmcHealth {
    /// The host is powered and out of reset.
    pub host_powered: bool,
}

/// A point-in-time summary (console, tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BmcStatus {
    /// Our host's liveness.
    pub host: HostLiveness,
    /// Whether the peer BMC's heartbeats arrive.
    pub peer_bmc_alive: bool,
    /// What the peer BMC says of its host.
    pub peer_host: HostLiveness,
    /// Whether we hold the peer fenced.
    pub fencing_peer: bool,
    /// Highest epoch seen.
    pub max_epoch: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum OutMsg {
    Relay,
    BmcHeartbeat,
    Report(FenceReport),
}

/// The BMC state machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BmcNode {
    cfg: BmcConfig,
    endpoint: Endpoint,
    host_powered: bool,
    host_heard: Option<Instant>,
    host_status: Status,
    host_epoch: u64,
    peer_heard: Option<Instant>,
    peer_report: Option<(Instant, BmcHeartbeat)>,
    max_epoch: u64,
    fencing_peer: bool,
    fence_started: Option<Instant>,
    listening_since: Instant,
    last_tick: Option<Instant>,
    next_tick: Instant,
    out: Outputs<OutMsg, ACTION_QUEUE, OUTBOX, EVENT_QUEUE>,
}

impl BmcNode {
    /// A BMC that booted at `now`.
    pub fn new(cfg: BmcConfig, now: Instant) -> Self {
        let endpoint = Endpoint::new(cfg.key.clone(), Sender::new(cfg.controller, Station::Bmc), cfg.boot_id);
        Self {
            endpoint,
            host_powered: true,
            host_heard: None,
            host_status: Status::Electing,
            host_epoch: 0,
            peer_heard: None,
            peer_report: None,
            max_epoch: cfg.max_epoch,
            fencing_peer: false,
            fence_started: None,
            listening_since: now,
            last_tick: None,
            next_tick: now,
            out: Outputs::new(),
            cfg,
        }
    }

    /// Our host's liveness at `now`.
    pub fn host_liveness(&self, now: Instant) -> HostLiveness {
        if !self.host_powered {
            return HostLiveness::Dead;
        }
        match self.host_heard {
            None => HostLiveness::Unknown,
            Some(t) => {
                let since = t.max(self.listening_since);
                if now.saturating_since(since) >= self.cfg.host_hang_timeout {
                    HostLiveness::Hung
                } else {
                    HostLiveness::Alive
                }
            }
        }
    }

    fn peer_bmc_alive(&self, now: Instant) -> bool {
        self.peer_heard.is_some_and(|t| now.saturating_since(t) < self.cfg.peer_timeout)
    }

    fn peer_host(&self, now: Instant) -> HostLiveness {
        match self.peer_report {
            Some((_, r)) if self.peer_bmc_alive(now) => r.host,
            _ => HostLiveness::Unknown,
        }
    }

    /// A status snapshot.
    pub fn snapshot(&self, now: Instant) -> BmcStatus {
        BmcStatus {
            host: self.host_liveness(now),
            peer_bmc_alive: self.peer_bmc_alive(now),
            peer_host: self.peer_host(now),
            fencing_peer: self.fencing_peer,
            max_epoch: self.max_epoch,
        }
    }

    /// The highest epoch seen (the firmware keeps it across resets).
    pub fn max_epoch(&self) -> u64 {
        self.max_epoch
    }

    /// The state name (always [`StateName::Bmc`]; for uniform logs).
    pub fn state_name(&self) -> StateName {
        StateName::Bmc
    }

    /// The next action to carry out.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.out.pop_action()
    }

    /// The next event to log.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.out.pop_event()
    }

    /// When [`Self::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        Some(self.next_tick)
    }

    /// Encode the next frame to send into `buf`.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        loop {
            let (path, msg) = self.out.pop_send()?;
            let message = match msg {
                OutMsg::Relay => Message::Relay(self.relay(now)),
                OutMsg::BmcHeartbeat => Message::BmcHeartbeat(self.bmc_heartbeat(now)),
                OutMsg::Report(r) => Message::FenceReport(r),
            };
            let to = match path {
                Path::BmcLink => Sender::new(self.cfg.controller.peer(), Station::Bmc),
                Path::Local => Sender::new(self.cfg.controller, Station::Host),
                Path::HostLink => Sender::new(self.cfg.controller.peer(), Station::Host),
            };
            if let Ok(len) = self.endpoint.seal(&message, to, buf) {
                return Some(Transmit { path, len });
            }
        }
    }

    fn relay(&self, now: Instant) -> Relay {
        let (age, status, epoch) = match self.peer_report {
            Some((at, r)) if self.peer_bmc_alive(now) => {
                let age = if r.host_age_ms == AGE_NEVER {
                    AGE_NEVER
                } else {
                    r.host_age_ms.saturating_add(now.saturating_since(at).millis_u32())
                };
                (age, r.host_status, r.host_epoch)
            }
            _ => (AGE_NEVER, Status::Electing, 0),
        };
        Relay {
            peer_bmc_alive: self.peer_bmc_alive(now),
            peer_bmc_age_ms: self.peer_heard.map_or(AGE_NEVER, |t| now.saturating_since(t).millis_u32()),
            peer_host: self.peer_host(now),
            peer_host_age_ms: age,
            peer_host_status: status,
            peer_host_epoch: epoch,
        }
    }

    fn bmc_heartbeat(&self, now: Instant) -> BmcHeartbeat {
        BmcHeartbeat {
            host: self.host_liveness(now),
            host_age_ms: self.host_heard.map_or(AGE_NEVER, |t| now.saturating_since(t).millis_u32()),
            host_status: self.host_status,
            host_epoch: self.host_epoch,
            fencing_peer: self.fencing_peer,
        }
    }

    /// A frame arrived on `path` (L from our host, B from the peer BMC).
    pub fn handle_frame(&mut self, now: Instant, path: Path, bytes: &[u8]) -> Result<(), DecodeError> {
        let rx = match self.endpoint.open(bytes) {
            Ok(rx) => rx,
            Err(error) => {
                self.out.event(now, EventKind::FrameRejected { path, error });
                return Err(error);
            }
        };
        let expected = match path {
            Path::Local => Some(Sender::new(self.cfg.controller, Station::Host)),
            Path::BmcLink => Some(Sender::new(self.cfg.controller.peer(), Station::Bmc)),
            Path::HostLink => None,
        };
        if Some(rx.header.sender) != expected {
            let error = DecodeError::BadSender(rx.header.sender.to_byte());
            self.out.event(now, EventKind::FrameRejected { path, error });
            return Err(error);
        }
        if let Freshness::Restarted { .. } = rx.freshness {
            let s = rx.header.sender;
            self.out.event(
                now,
                EventKind::PeerRestarted { controller: s.controller, bmc: s.station == Station::Bmc },
            );
        }
        match (path, rx.message) {
            (Path::Local, Message::Heartbeat(hb)) => {
                self.host_heard = Some(now);
                self.host_status = hb.status;
                self.host_epoch = hb.epoch;
                self.max_epoch = self.max_epoch.max(hb.epoch);
            }
            (Path::Local, Message::Control(Control::FencePeer { epoch, reset_host })) => {
                self.host_heard = Some(now);
                if epoch >= self.max_epoch {
                    self.max_epoch = epoch;
                    self.fence_peer(now, reset_host);
                } else {
                    self.out.event(now, EventKind::StaleClaim { epoch });
                }
            }
            (Path::Local, Message::Control(Control::UnfencePeer { epoch })) => {
                self.host_heard = Some(now);
                if epoch >= self.max_epoch && self.fencing_peer {
                    self.unfence_peer(now);
                }
            }
            (Path::BmcLink, Message::BmcHeartbeat(hb)) => {
                self.peer_heard = Some(now);
                self.peer_report = Some((now, hb));
                self.max_epoch = self.max_epoch.max(hb.host_epoch);
            }
            (Path::BmcLink, _) => self.peer_heard = Some(now),
            _ => {}
        }
        self.evaluate(now);
        Ok(())
    }

    /// A deadline from [`Self::poll_timeout`] passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        if now >= self.next_tick {
            if let Some(last) = self.last_tick {
                let gap = now.saturating_since(last);
                if gap.micros() > self.cfg.host_hang_timeout.micros() / 2 {
                    self.listening_since = self.listening_since.max(now);
                    self.out.event(now, EventKind::SelfStall { gap });
                }
            }
            self.last_tick = Some(now);
            self.next_tick = now + self.cfg.interval;
            self.out.send(Path::BmcLink, OutMsg::BmcHeartbeat);
            self.out.send(Path::Local, OutMsg::Relay);
            self.out.action(now, Action::KickWatchdog);
        }
        self.evaluate(now);
    }

    /// The hardware fence finished.
    pub fn handle_completion(&mut self, now: Instant, completion: Completion) {
        if let Completion::PeerFenced { ok } = completion {
            let elapsed_ms = self.fence_started.take().map_or(0, |t| now.saturating_since(t).millis_u32());
            let report = FenceReport {
                epoch: self.max_epoch,
                target: self.cfg.controller.peer(),
                method: FenceMethod::Enclosure,
                outcome: if ok { FenceOutcome::Done } else { FenceOutcome::Failed },
                done: u16::from(ok),
                total: 1,
                elapsed_ms,
            };
            self.out.event(now, EventKind::PeerFenced { ok });
            self.out.send(Path::Local, OutMsg::Report(report));
            self.out.send(Path::BmcLink, OutMsg::Report(report));
        } else {
            self.out.event(now, EventKind::StaleCompletion);
        }
    }

    /// The host's power state changed.
    pub fn handle_health(&mut self, now: Instant, health: BmcHealth) {
        self.host_powered = health.host_powered;
        self.evaluate(now);
    }

    fn evaluate(&mut self, now: Instant) {
        // Silent for the timeout: hear them again whatever their boot id (wire::replay).
        if !self.peer_bmc_alive(now) {
            self.endpoint.forget(Sender::new(self.cfg.controller.peer(), Station::Bmc));
        }
        if self.host_heard.is_none_or(|t| now.saturating_since(t) >= self.cfg.host_hang_timeout) {
            self.endpoint.forget(Sender::new(self.cfg.controller, Station::Host));
        }
        let peer_host = self.peer_host(now);
        let own_alive = self.host_liveness(now) == HostLiveness::Alive;
        // The peer BMC judges its host by path L alone: a "hung" from there may be a
        // quiet UART or a stalled BMC while the host link shows the peer host alive. So
        // the cut waits until our host has decided too (taking over, or active, at an
        // epoch above the peer's): cutting a live active that nobody replaces would
        // cause the outage the fence is there to contain.
        let replacing_peer = matches!(self.host_status, Status::Importing | Status::Master)
            && self.peer_report.is_some_and(|(_, r)| self.host_epoch > r.host_epoch);
        if !self.fencing_peer
            && self.cfg.fence_hung_peer
            && own_alive
            && replacing_peer
            && matches!(peer_host, HostLiveness::Hung | HostLiveness::Dead)
        {
            self.fence_peer(now, self.cfg.reset_hung_peer);
        }
        // The peer host is back as a healthy standby: it may see the disks again (its
        // key was preempted; the reservation keeps it from writing).
        if self.fencing_peer
            && peer_host == HostLiveness::Alive
            && let Some((_, r)) = self.peer_report
            && r.host_status == Status::Backup
        {
            self.unfence_peer(now);
        }
    }

    fn fence_peer(&mut self, now: Instant, reset_host: bool) {
        if !self.fencing_peer {
            self.fencing_peer = true;
            self.fence_started = Some(now);
            self.out.action(now, Action::CutPeerEnclosure);
        }
        if reset_host {
            self.out.action(now, Action::ResetPeerHost);
        }
    }

    fn unfence_peer(&mut self, now: Instant) {
        self.fencing_peer = false;
        self.out.action(now, Action::RestorePeerEnclosure);
        let report = FenceReport {
            epoch: self.max_epoch,
            target: self.cfg.controller.peer(),
            method: FenceMethod::Enclosure,
            outcome: FenceOutcome::Lifted,
            done: 1,
            total: 1,
            elapsed_ms: 0,
        };
        self.out.send(Path::Local, OutMsg::Report(report));
    }
}

impl core::hash::Hash for BmcNode {
    /// Hashes the whole state (the model checker deduplicates states with it).
    fn hash<H: core::hash::Hasher>(&self, h: &mut H) {
        self.cfg.hash(h);
        self.endpoint.hash(h);
        (self.host_powered, self.host_heard, self.host_status, self.host_epoch).hash(h);
        (self.peer_heard, self.peer_report, self.max_epoch, self.fencing_peer, self.fence_started).hash(h);
        (self.listening_since, self.last_tick, self.next_tick).hash(h);
        self.out.hash(h);
    }
}
