//! [`World`]: two hosts, two BMCs, their links and a shared PR disk, in virtual time.
//!
//! The same world serves three drivers: scripted tests (advance time, inject one
//! fault, assert), the seeded whole-system simulation (random faults and timings), and
//! the exhaustive model checker (which picks each next step itself through
//! [`World::enabled`] / [`World::apply`]). Every step is followed by the safety checks
//! in [`World::check`]; a violation is kept and reported with the step that caused it.
//!
//! What the world plays:
//! - each host's platform: it persists epochs, runs the PR fence on the disk, imports
//!   and exports pools, raises VIPs, kicks a hardware watchdog (which resets the host
//!   when the kicks stop), and reboots on request;
//! - each BMC's hardware: the enclosure fence (cut the peer's expander port) and the
//!   peer host's reset line;
//! - the links H, B and L in both directions: latency, jitter, loss, cuts;
//! - faults: crashes, hangs (SIGSTOP), BMC crashes, clock steps.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::node::{
    Action, AdminCommand, AdminError, BmcConfig, BmcHealth, BmcNode, Completion, EventKind, HostConfig,
    HostNode, LocalHealth, Path, ReservationKey, Settings, TakeoverCause,
};
use crate::time::{Duration, Instant};
use crate::wire::{Controller, MAX_FRAME_LEN, MacKey};

use super::{PrDisk, Rng};

/// A station in the world.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeId {
    /// A controller's host (`failoverd`).
    Host(Controller),
    /// A controller's BMC (firmware).
    Bmc(Controller),
}

impl std::fmt::Display for NodeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Host(c) => write!(f, "host-{c}"),
            Self::Bmc(c) => write!(f, "bmc-{c}"),
        }
    }
}

/// A directed link between two stations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Link {
    /// Sender.
    pub from: NodeId,
    /// Receiver.
    pub to: NodeId,
}

impl Link {
    /// Both directions of the host link H.
    pub fn host_link() -> [Self; 2] {
        let (a, b) = (NodeId::Host(Controller::A), NodeId::Host(Controller::B));
        [Self { from: a, to: b }, Self { from: b, to: a }]
    }
    /// Both directions of the BMC link B.
    pub fn bmc_link() -> [Self; 2] {
        let (a, b) = (NodeId::Bmc(Controller::A), NodeId::Bmc(Controller::B));
        [Self { from: a, to: b }, Self { from: b, to: a }]
    }
    /// Both directions of controller `c`'s host-to-BMC link L.
    pub fn local(c: Controller) -> [Self; 2] {
        let (h, b) = (NodeId::Host(c), NodeId::Bmc(c));
        [Self { from: h, to: b }, Self { from: b, to: h }]
    }
}

/// How long things take and how links behave.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Timings {
    /// One-way link latency.
    pub link: Duration,
    /// Extra random latency, uniform in `0..=link_jitter`.
    pub link_jitter: Duration,
    /// Frame loss, in parts per million.
    pub loss_ppm: u32,
    /// Persisting an epoch (write + fsync + rename + fsync).
    pub persist: Duration,
    /// The PR fence on every disk.
    pub fence: Duration,
    /// Importing the pools.
    pub import: Duration,
    /// Raising the VIPs.
    pub vips: Duration,
    /// Exporting the pools.
    pub export: Duration,
    /// Releasing the disks.
    pub release: Duration,
    /// One reservation check.
    pub check: Duration,
    /// The BMC's enclosure fence.
    pub bmc_fence: Duration,
}

impl Timings {
    /// Everything instantaneous (the model checker orders steps itself).
    pub fn zero() -> Self {
        Self {
            link: Duration::ZERO,
            link_jitter: Duration::ZERO,
            loss_ppm: 0,
            persist: Duration::ZERO,
            fence: Duration::ZERO,
            import: Duration::ZERO,
            vips: Duration::ZERO,
            export: Duration::ZERO,
            release: Duration::ZERO,
            check: Duration::ZERO,
            bmc_fence: Duration::ZERO,
        }
    }

    /// Plausible figures for a small appliance (SSD state file, a handful of disks).
    pub fn realistic() -> Self {
        Self {
            link: Duration::from_micros(100),
            link_jitter: Duration::from_micros(400),
            loss_ppm: 0,
            persist: Duration::from_millis(2),
            fence: Duration::from_millis(5),
            import: Duration::from_millis(20),
            vips: Duration::from_millis(1),
            export: Duration::from_millis(20),
            release: Duration::from_millis(2),
            check: Duration::from_millis(2),
            bmc_fence: Duration::from_millis(1),
        }
    }
}

/// The world's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SimConfig {
    /// Failover settings on both hosts.
    pub settings: Settings,
    /// Whether the BMCs exist (paths B and L).
    pub has_bmc: bool,
    /// Without BMCs: whether the hosts drive the enclosure fence themselves.
    pub host_enclosure_fence: bool,
    /// Host boot listen window.
    pub boot_listen: Duration,
    /// Reservation check period.
    pub reservation_check: Duration,
    /// BMC heartbeat interval (paths B and L from the BMC).
    pub bmc_interval: Duration,
    /// Host hang timeout at the BMC.
    pub host_hang: Duration,
    /// Host hardware watchdog timeout.
    pub watchdog: Duration,
    /// From a reset to the service running again.
    pub reboot_delay: Duration,
    /// Operation and link timings.
    pub timings: Timings,
}

impl SimConfig {
    /// Default settings, BMCs present, realistic timings.
    pub fn realistic() -> Self {
        let settings = Settings::default();
        Self {
            settings,
            has_bmc: true,
            host_enclosure_fence: false,
            boot_listen: Duration::from_millis(200),
            reservation_check: Duration::from_millis(20),
            bmc_interval: settings.heartbeat_interval,
            host_hang: settings.failover_timeout,
            watchdog: Duration::from_millis(500),
            reboot_delay: Duration::from_millis(300),
            timings: Timings::realistic(),
        }
    }
}

/// A frame on its way.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct InFlight {
    /// The link it travels.
    pub link: Link,
    /// The path as the receiver sees it.
    pub path: Path,
    /// The frame.
    pub bytes: Vec<u8>,
    /// When it arrives.
    pub due: Instant,
}

/// An operation a platform is carrying out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// Persist an epoch.
    Persist(u64),
    /// Fence and reserve.
    Fence(u64, ReservationKey),
    /// Import pools.
    Import(u64),
    /// Raise VIPs.
    Vips(u64),
    /// Export pools.
    Export(u64),
    /// Release the disks.
    Release(u64, ReservationKey),
    /// Check the reservation.
    Check(u64, ReservationKey),
    /// BMC: cut the peer's enclosure port.
    BmcFence,
}

/// An operation in progress.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Pending {
    /// Who asked.
    pub node: NodeId,
    /// What.
    pub op: Op,
    /// When it completes.
    pub due: Instant,
}

/// Per-host platform state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostSlot {
    /// The running service, `None` while down.
    pub node: Option<HostNode>,
    /// Stopped (SIGSTOP) or starved: runs nothing, frames queue up.
    pub hung: bool,
    /// The epoch in the state file.
    pub durable_epoch: u64,
    /// The "fenced by the peer" marker in the state file.
    pub fenced_marker: Option<u64>,
    /// How many times the service started (its boot id).
    pub boots: u32,
    /// The service stopped I/O after losing its reservation.
    pub io_stopped: bool,
    /// Last watchdog kick (the watchdog is armed from the first kick of a boot).
    pub last_kick: Option<Instant>,
    /// When the host comes back after a reset.
    pub restart_at: Option<Instant>,
    /// Local clock offset from world time, in microseconds.
    pub clock_offset: i64,
    /// Health the platform reports.
    pub health: LocalHealth,
    /// The next pool import fails.
    pub fail_import: bool,
    /// The next pool export fails (or hangs past its limit).
    pub fail_export: bool,
    was_active: bool,
}

/// Per-BMC state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BmcSlot {
    /// The running firmware, `None` while down.
    pub node: Option<BmcNode>,
    /// Boots so far (its boot id).
    pub boots: u32,
    /// The epoch kept in reset-surviving RAM.
    pub max_epoch: u64,
    /// When it comes back.
    pub restart_at: Option<Instant>,
}

/// A takeover seen in the world.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TakeoverRecord {
    /// When it was decided.
    pub at: Instant,
    /// By whom.
    pub by: Controller,
    /// Why.
    pub cause: TakeoverCause,
    /// With which epoch.
    pub epoch: u64,
}

/// A safety violation, with what was going on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Violation {
    /// When.
    pub at: Instant,
    /// What property failed, and how.
    pub what: String,
}

/// A step the model checker can choose.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Choice {
    /// Deliver the in-flight frame at this index.
    Deliver(usize),
    /// Lose it.
    Drop(usize),
    /// Deliver it and keep a copy in flight (duplication).
    Duplicate(usize),
    /// Complete the pending operation at this index.
    Complete(usize),
    /// Let time pass to the next timed event and run it.
    Tick,
    /// Inject a fault.
    Fault(Fault),
}

/// A fault the simulators inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// The host goes down (kernel panic, SIGKILL of the service) and restarts after
    /// the reboot delay.
    CrashHost(Controller),
    /// The host goes down and stays down (power loss).
    PowerOff(Controller),
    /// The host stops running (SIGSTOP, starvation).
    HangHost(Controller),
    /// The hung host runs again (SIGCONT).
    ResumeHost(Controller),
    /// The BMC goes down and reboots after the reboot delay.
    CrashBmc(Controller),
    /// Cut a directed link.
    Cut(Link),
    /// Heal a directed link.
    Heal(Link),
    /// Cut every link between the controllers (H and B, both ways).
    Partition,
    /// Heal every link.
    HealAll,
    /// Step a host's clock by this many microseconds.
    ClockStep(Controller, i64),
    /// Cut a controller's expander port (its disk path).
    LoseDiskPath(Controller),
}

/// Two controllers, their BMCs, links and disk, in virtual time.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct World {
    /// Configuration.
    pub cfg: SimConfig,
    /// World time.
    pub now: Instant,
    /// The hosts.
    pub hosts: [HostSlot; 2],
    /// The BMCs.
    pub bmcs: [BmcSlot; 2],
    /// The shared disk.
    pub disk: PrDisk,
    /// Which controller has the virtual IPs up.
    pub vip_owner: Option<Controller>,
    /// Links that are cut.
    pub cut: BTreeSet<Link>,
    /// Frames in flight.
    pub in_flight: Vec<InFlight>,
    /// Operations in progress.
    pub pending: Vec<Pending>,
    /// Frames in flight per link, at most (older ones are lost); 0 = unbounded.
    pub max_in_flight_per_link: usize,
    /// Every takeover decided.
    pub takeovers: Vec<TakeoverRecord>,
    /// Every entry into the active state: (when, who, epoch).
    pub activations: Vec<(Instant, Controller, u64)>,
    /// Ghost: the epoch at which each controller's key was last preempted.
    pub preempted: [Option<u64>; 2],
    /// The first safety violation.
    pub violation: Option<Violation>,
    /// Frames rejected by receivers (bad MAC, replay, ...).
    pub rejected_frames: u64,
    /// A human-readable log of the run, when enabled.
    pub trace: Option<Vec<String>>,
    rng: Rng,
}

const KEY: [u8; 32] = *b"simulated-link-key-for-the-world";

/// Nodes' clocks start this far (one hour) ahead of world time.
const LOCAL_CLOCK_ORIGIN_US: i64 = 3_600_000_000;

impl World {
    /// A world with nothing running yet.
    pub fn new(cfg: SimConfig, seed: u64) -> Self {
        let slot = HostSlot {
            node: None,
            hung: false,
            durable_epoch: 0,
            fenced_marker: None,
            boots: 0,
            io_stopped: false,
            last_kick: None,
            restart_at: None,
            clock_offset: 0,
            health: LocalHealth::nominal(),
            fail_import: false,
            fail_export: false,
            was_active: false,
        };
        let bmc = BmcSlot { node: None, boots: 0, max_epoch: 0, restart_at: None };
        Self {
            cfg,
            now: Instant::from_millis(1_000),
            hosts: [slot.clone(), slot],
            bmcs: [bmc.clone(), bmc],
            disk: PrDisk::new(),
            vip_owner: None,
            cut: BTreeSet::new(),
            in_flight: Vec::new(),
            pending: Vec::new(),
            max_in_flight_per_link: 0,
            takeovers: Vec::new(),
            activations: Vec::new(),
            preempted: [None; 2],
            violation: None,
            rejected_frames: 0,
            trace: None,
            rng: Rng::new(seed),
        }
    }

    /// Record a log line (when tracing is on).
    pub fn log(&mut self, line: impl FnOnce() -> String) {
        if let Some(t) = self.trace.as_mut() {
            let l = line();
            t.push(format!("{:>12} {l}", self.now.to_string()));
        }
    }

    // ----- starting and stopping ------------------------------------------------------

    /// Start every host and BMC now.
    pub fn boot_all(&mut self) {
        for c in [Controller::A, Controller::B] {
            if self.cfg.has_bmc {
                self.boot_bmc(c);
            }
            self.boot_host(c);
        }
    }

    fn clock_offset(&self, n: NodeId) -> i64 {
        LOCAL_CLOCK_ORIGIN_US
            + match n {
                NodeId::Host(c) => self.hosts[c.index()].clock_offset,
                NodeId::Bmc(_) => 0,
            }
    }

    /// What `n`'s own clock reads now. Every node's clock starts an hour ahead of world
    /// time, so a simulated step backwards never saturates at zero.
    pub fn local_now(&self, n: NodeId) -> Instant {
        shift(self.now, self.clock_offset(n))
    }

    /// The world time at which `n`'s clock reads `local`.
    fn to_world(&self, n: NodeId, local: Instant) -> Instant {
        shift(local, -self.clock_offset(n))
    }

    /// Start `c`'s host service (reads its state file, reports health).
    pub fn boot_host(&mut self, c: Controller) {
        let slot = &mut self.hosts[c.index()];
        slot.boots += 1;
        let mut hc = HostConfig::new(c, MacKey::new(KEY), slot.boots);
        hc.settings = self.cfg.settings;
        hc.persisted_epoch = slot.durable_epoch;
        hc.fenced_marker = slot.fenced_marker;
        hc.boot_listen = self.cfg.boot_listen;
        hc.reservation_check_interval = self.cfg.reservation_check;
        hc.has_bmc = self.cfg.has_bmc;
        hc.host_enclosure_fence = self.cfg.host_enclosure_fence;
        let local = shift(self.now, LOCAL_CLOCK_ORIGIN_US + slot.clock_offset);
        let mut node = HostNode::new(hc, local);
        node.handle_health(local, slot.health.clone());
        slot.node = Some(node);
        slot.hung = false;
        slot.io_stopped = false;
        slot.last_kick = None;
        slot.restart_at = None;
        slot.was_active = false;
        self.log(|| format!("host-{c} boots"));
        self.drain(NodeId::Host(c));
    }

    /// Start `c`'s BMC firmware.
    pub fn boot_bmc(&mut self, c: Controller) {
        let slot = &mut self.bmcs[c.index()];
        slot.boots += 1;
        let mut bc = BmcConfig::new(c, MacKey::new(KEY), slot.boots);
        bc.interval = self.cfg.bmc_interval;
        bc.peer_timeout = self.cfg.settings.failover_timeout;
        bc.host_hang_timeout = self.cfg.host_hang;
        bc.max_epoch = slot.max_epoch;
        let local = shift(self.now, LOCAL_CLOCK_ORIGIN_US);
        slot.node = Some(BmcNode::new(bc, local));
        slot.restart_at = None;
        self.log(|| format!("bmc-{c} boots"));
        self.drain(NodeId::Bmc(c));
    }

    /// Take `c`'s host down at once; it stays down unless `restart_after` is given.
    pub fn crash_host(&mut self, c: Controller, restart_after: Option<Duration>) {
        let slot = &mut self.hosts[c.index()];
        slot.node = None;
        slot.hung = false;
        slot.restart_at = restart_after.map(|d| self.now + d);
        if self.vip_owner == Some(c) {
            self.vip_owner = None;
        }
        self.pending.retain(|p| p.node != NodeId::Host(c));
        self.log(|| format!("host-{c} crashes"));
    }

    /// Take `c`'s BMC down; it reboots after the reboot delay.
    pub fn crash_bmc(&mut self, c: Controller) {
        let restart = self.now + self.cfg.reboot_delay;
        let slot = &mut self.bmcs[c.index()];
        if let Some(n) = slot.node.take() {
            slot.max_epoch = n.max_epoch();
        }
        slot.restart_at = Some(restart);
        self.pending.retain(|p| p.node != NodeId::Bmc(c));
        self.log(|| format!("bmc-{c} crashes"));
    }

    /// Freeze `c`'s host (SIGSTOP).
    pub fn hang_host(&mut self, c: Controller) {
        if self.hosts[c.index()].node.is_some() {
            self.hosts[c.index()].hung = true;
            self.log(|| format!("host-{c} hangs"));
        }
    }

    /// Let `c`'s host run again (SIGCONT). Frames that arrived meanwhile are delivered
    /// before its timers run, as the service drains its sockets first.
    pub fn resume_host(&mut self, c: Controller) {
        if self.hosts[c.index()].hung {
            self.hosts[c.index()].hung = false;
            self.log(|| format!("host-{c} resumes"));
        }
    }

    /// Cut or heal a directed link.
    pub fn set_link(&mut self, link: Link, up: bool) {
        if up {
            self.cut.remove(&link);
        } else {
            self.cut.insert(link);
        }
    }

    /// Replace `c`'s health report.
    pub fn set_health(&mut self, c: Controller, health: LocalHealth) {
        self.hosts[c.index()].health = health.clone();
        let local = self.local_now(NodeId::Host(c));
        if let Some(n) = self.hosts[c.index()].node.as_mut() {
            n.handle_health(local, health);
        }
        self.drain(NodeId::Host(c));
    }

    /// An admin command on `c`'s host.
    pub fn admin(&mut self, c: Controller, cmd: AdminCommand) -> Result<(), AdminError> {
        let local = self.local_now(NodeId::Host(c));
        let r = match self.hosts[c.index()].node.as_mut() {
            Some(n) => n.handle_admin(local, cmd),
            None => Err(AdminError::NotActive),
        };
        self.drain(NodeId::Host(c));
        self.check_now();
        r
    }

    /// Apply a fault.
    pub fn inject(&mut self, f: Fault) {
        match f {
            Fault::CrashHost(c) => self.crash_host(c, Some(self.cfg.reboot_delay)),
            Fault::PowerOff(c) => self.crash_host(c, None),
            Fault::HangHost(c) => self.hang_host(c),
            Fault::ResumeHost(c) => self.resume_host(c),
            Fault::CrashBmc(c) => self.crash_bmc(c),
            Fault::Cut(l) => self.set_link(l, false),
            Fault::Heal(l) => self.set_link(l, true),
            Fault::Partition => {
                for l in Link::host_link().into_iter().chain(Link::bmc_link()) {
                    self.set_link(l, false);
                }
            }
            Fault::HealAll => self.cut.clear(),
            Fault::ClockStep(c, d) => self.hosts[c.index()].clock_offset += d,
            Fault::LoseDiskPath(c) => self.disk.set_cut(c, true),
        }
        self.log(|| format!("fault {f:?}"));
        self.check_now();
    }

    // ----- queries --------------------------------------------------------------------

    /// `c`'s host service, if running.
    pub fn host(&self, c: Controller) -> Option<&HostNode> {
        self.hosts[c.index()].node.as_ref()
    }

    /// `c`'s BMC, if running.
    pub fn bmc(&self, c: Controller) -> Option<&BmcNode> {
        self.bmcs[c.index()].node.as_ref()
    }

    /// Controllers whose service is running and active.
    pub fn actives(&self) -> Vec<Controller> {
        [Controller::A, Controller::B]
            .into_iter()
            .filter(|c| self.host(*c).is_some_and(HostNode::is_active))
            .collect()
    }

    /// Whether `c`'s host is running and not hung.
    pub fn host_runs(&self, c: Controller) -> bool {
        self.hosts[c.index()].node.is_some() && !self.hosts[c.index()].hung
    }

    /// Controllers that could write to the disk right now: their service runs, believes
    /// it may do I/O, has not stopped it, and the disk accepts their writes.
    pub fn writers(&self) -> Vec<Controller> {
        [Controller::A, Controller::B]
            .into_iter()
            .filter(|&c| {
                let s = &self.hosts[c.index()];
                s.node.as_ref().is_some_and(HostNode::io_allowed)
                    && !s.hung
                    && !s.io_stopped
                    && self.disk.accepts_write(c)
            })
            .collect()
    }

    // ----- the safety checks ----------------------------------------------------------

    /// Check the safety properties on the current state.
    pub fn check(&self) -> Result<(), String> {
        let writers = self.writers();
        if writers.len() > 1 {
            return Err(format!("split brain: {writers:?} can both write"));
        }
        for c in writers {
            let held = self.host(c).and_then(HostNode::held_epoch);
            if held != Some(self.disk.max_reserved_epoch) {
                return Err(format!(
                    "stale writer: host-{c} writes with epoch {held:?} below the highest reserved {}",
                    self.disk.max_reserved_epoch
                ));
            }
        }
        for c in [Controller::A, Controller::B] {
            if let Some(n) = self.host(c)
                && n.persisted_epoch() < self.hosts[c.index()].durable_epoch
            {
                return Err(format!("host-{c} runs with an epoch below its state file"));
            }
        }
        Ok(())
    }

    fn check_now(&mut self) {
        if self.violation.is_some() {
            return;
        }
        if let Err(what) = self.check() {
            self.log(|| format!("VIOLATION: {what}"));
            self.violation = Some(Violation { at: self.now, what });
        }
    }

    fn violate(&mut self, what: String) {
        if self.violation.is_none() {
            self.log(|| format!("VIOLATION: {what}"));
            self.violation = Some(Violation { at: self.now, what });
        }
    }

    // ----- moving outputs into the world ----------------------------------------------

    fn route(from: NodeId, path: Path) -> Option<NodeId> {
        Some(match (from, path) {
            (NodeId::Host(c), Path::HostLink) => NodeId::Host(c.peer()),
            (NodeId::Host(c), Path::Local) => NodeId::Bmc(c),
            (NodeId::Bmc(c), Path::BmcLink) => NodeId::Bmc(c.peer()),
            (NodeId::Bmc(c), Path::Local) => NodeId::Host(c),
            _ => return None,
        })
    }

    fn send(&mut self, from: NodeId, path: Path, bytes: Vec<u8>) {
        let Some(to) = Self::route(from, path) else { return };
        let link = Link { from, to };
        if self.cut.contains(&link) {
            return;
        }
        let t = &self.cfg.timings;
        if t.loss_ppm > 0 && self.rng.below(1_000_000) < u64::from(t.loss_ppm) {
            return;
        }
        let jitter = Duration::from_micros(self.rng.below(t.link_jitter.micros() + 1));
        let due = self.now + t.link + jitter;
        if self.max_in_flight_per_link > 0 {
            let queued = self.in_flight.iter().filter(|f| f.link == link).count();
            if queued >= self.max_in_flight_per_link
                && let Some(i) = self.in_flight.iter().position(|f| f.link == link)
            {
                self.in_flight.remove(i);
            }
        }
        self.in_flight.push(InFlight { link, path, bytes, due });
    }

    fn op_latency(&self, op: &Op) -> Duration {
        let t = &self.cfg.timings;
        match op {
            Op::Persist(_) => t.persist,
            Op::Fence(..) => t.fence,
            Op::Import(_) => t.import,
            Op::Vips(_) => t.vips,
            Op::Export(_) => t.export,
            Op::Release(..) => t.release,
            Op::Check(..) => t.check,
            Op::BmcFence => t.bmc_fence,
        }
    }

    fn start_op(&mut self, node: NodeId, op: Op) {
        // A release takes effect on the disk as soon as it reaches it; its completion
        // comes later. Anything that reads the disk meanwhile (a reservation check
        // still running) sees the key gone while the node is still releasing.
        if let (NodeId::Host(c), Op::Release(_, key)) = (node, &op) {
            self.disk.release(c, *key);
        }
        let due = self.now + self.op_latency(&op);
        self.pending.push(Pending { node, op, due });
    }

    fn reset_host(&mut self, c: Controller, why: &str) {
        self.log(|| format!("host-{c} reset ({why})"));
        self.crash_host(c, Some(self.cfg.reboot_delay));
    }

    fn host_action(&mut self, c: Controller, a: Action) {
        let me = NodeId::Host(c);
        match a {
            Action::PersistEpoch { epoch } => self.start_op(me, Op::Persist(epoch)),
            Action::FenceAndReserve { epoch, key } => self.start_op(me, Op::Fence(epoch, key)),
            Action::ImportPools { epoch } => self.start_op(me, Op::Import(epoch)),
            Action::RaiseVips { epoch } => self.start_op(me, Op::Vips(epoch)),
            Action::ExportPools { epoch } => self.start_op(me, Op::Export(epoch)),
            Action::ReleaseDisks { epoch, key } => self.start_op(me, Op::Release(epoch, key)),
            Action::CheckReservation { epoch, key } => self.start_op(me, Op::Check(epoch, key)),
            Action::DropVips => {
                if self.vip_owner == Some(c) {
                    self.vip_owner = None;
                }
            }
            Action::StopIo => self.hosts[c.index()].io_stopped = true,
            Action::RecordFenced { epoch } => self.hosts[c.index()].fenced_marker = Some(epoch),
            Action::KickWatchdog => self.hosts[c.index()].last_kick = Some(self.now),
            Action::Reboot => self.reset_host(c, "reboot requested"),
            // A host that drives the enclosure itself (no BMC): the same cut as the BMC's.
            Action::CutPeerEnclosure => self.disk.set_cut(c.peer(), true),
            Action::RestorePeerEnclosure => self.disk.set_cut(c.peer(), false),
            Action::ResetPeerHost => {}
        }
    }

    fn bmc_action(&mut self, c: Controller, a: Action) {
        match a {
            Action::CutPeerEnclosure => self.start_op(NodeId::Bmc(c), Op::BmcFence),
            Action::RestorePeerEnclosure => self.disk.set_cut(c.peer(), false),
            Action::ResetPeerHost if self.hosts[c.peer().index()].node.is_some() => {
                self.reset_host(c.peer(), "reset by the peer's BMC");
            }
            _ => {}
        }
    }

    /// Move a node's transmits, actions and events into the world.
    fn drain(&mut self, id: NodeId) {
        let local = self.local_now(id);
        let mut frames = Vec::new();
        let mut actions = Vec::new();
        let mut events = Vec::new();
        let mut buf = [0u8; MAX_FRAME_LEN];
        match id {
            NodeId::Host(c) => {
                let Some(n) = self.hosts[c.index()].node.as_mut() else { return };
                while let Some(t) = n.poll_transmit(local, &mut buf) {
                    frames.push((t.path, buf[..t.len].to_vec()));
                }
                while let Some(a) = n.poll_action() {
                    actions.push(a);
                }
                while let Some(e) = n.poll_event() {
                    events.push(e);
                }
            }
            NodeId::Bmc(c) => {
                let Some(n) = self.bmcs[c.index()].node.as_mut() else { return };
                while let Some(t) = n.poll_transmit(local, &mut buf) {
                    frames.push((t.path, buf[..t.len].to_vec()));
                }
                while let Some(a) = n.poll_action() {
                    actions.push(a);
                }
                while let Some(e) = n.poll_event() {
                    events.push(e);
                }
            }
        }
        for (path, bytes) in frames {
            self.send(id, path, bytes);
        }
        for e in events {
            match e.kind {
                EventKind::TakeoverStarted { cause, epoch } => {
                    if let NodeId::Host(c) = id {
                        self.takeovers.push(TakeoverRecord { at: self.now, by: c, cause, epoch });
                    }
                }
                EventKind::FrameRejected { .. } => self.rejected_frames += 1,
                _ => {}
            }
            if self.trace.is_some() {
                self.log(|| format!("{id}: {:?}", e.kind));
            }
        }
        for a in actions {
            if self.trace.is_some() && a != Action::KickWatchdog {
                self.log(|| format!("{id} action {a:?}"));
            }
            match id {
                NodeId::Host(c) => self.host_action(c, a),
                NodeId::Bmc(c) => self.bmc_action(c, a),
            }
        }
        if let NodeId::Host(c) = id {
            self.note_activation(c);
        }
    }

    fn note_activation(&mut self, c: Controller) {
        let slot = &self.hosts[c.index()];
        let active = slot.node.as_ref().filter(|n| n.is_active()).and_then(HostNode::held_epoch);
        let was = slot.was_active;
        self.hosts[c.index()].was_active = active.is_some();
        if let (Some(epoch), false) = (active, was) {
            self.activations.push((self.now, c, epoch));
            self.log(|| format!("host-{c} ACTIVE with epoch {epoch}"));
            if let Some(p) = self.preempted[c.index()]
                && epoch <= p
            {
                self.violate(format!(
                    "host-{c} active again with epoch {epoch} after being preempted at {p}"
                ));
            }
        }
    }

    // ----- the steps -------------------------------------------------------------------

    /// Deliver in-flight frame `i` (`keep` leaves a copy in flight: duplication).
    pub fn deliver(&mut self, i: usize, keep: bool) {
        if i >= self.in_flight.len() {
            return;
        }
        let f = if keep { self.in_flight[i].clone() } else { self.in_flight.remove(i) };
        if self.cut.contains(&f.link) {
            return;
        }
        let local = self.local_now(f.link.to);
        let path = f.path;
        match f.link.to {
            NodeId::Host(c) => {
                let s = &mut self.hosts[c.index()];
                if s.hung {
                    return;
                }
                if let Some(n) = s.node.as_mut() {
                    let _ = n.handle_frame(local, path, &f.bytes);
                }
            }
            NodeId::Bmc(c) => {
                if let Some(n) = self.bmcs[c.index()].node.as_mut() {
                    let _ = n.handle_frame(local, path, &f.bytes);
                }
            }
        }
        self.drain(f.link.to);
        self.check_now();
    }

    /// Complete pending operation `i`.
    pub fn complete(&mut self, i: usize) {
        if i >= self.pending.len() {
            return;
        }
        let p = self.pending.remove(i);
        let local = self.local_now(p.node);
        match p.node {
            NodeId::Host(c) => {
                let completion = match p.op {
                    Op::Persist(e) => {
                        let s = &mut self.hosts[c.index()];
                        s.durable_epoch = s.durable_epoch.max(e);
                        Completion::EpochPersisted { epoch: e, ok: true }
                    }
                    Op::Fence(e, key) => {
                        let (result, preempted) = self.disk.fence_and_reserve(c, key);
                        if let Some(pe) = preempted {
                            let slot = &mut self.preempted[c.peer().index()];
                            *slot = Some(slot.map_or(pe, |x| x.max(pe)));
                        }
                        Completion::Fenced { epoch: e, result }
                    }
                    Op::Import(e) => {
                        let fail = std::mem::take(&mut self.hosts[c.index()].fail_import);
                        Completion::PoolsImported { epoch: e, ok: !fail && !self.disk.is_cut(c) }
                    }
                    Op::Vips(e) => {
                        self.vip_owner = Some(c);
                        Completion::VipsRaised { epoch: e }
                    }
                    Op::Export(e) => {
                        let fail = std::mem::take(&mut self.hosts[c.index()].fail_export);
                        Completion::PoolsExported { epoch: e, ok: !fail }
                    }
                    // Applied when it started (see `start_op`).
                    Op::Release(e, _) => Completion::DisksReleased { epoch: e },
                    Op::Check(e, key) => {
                        Completion::ReservationChecked { epoch: e, held: self.disk.holds(c, key) }
                    }
                    Op::BmcFence => return,
                };
                if let Some(n) = self.hosts[c.index()].node.as_mut() {
                    n.handle_completion(local, completion);
                }
            }
            NodeId::Bmc(c) => {
                if p.op == Op::BmcFence {
                    self.disk.set_cut(c.peer(), true);
                }
                if let Some(n) = self.bmcs[c.index()].node.as_mut() {
                    n.handle_completion(local, Completion::PeerFenced { ok: true });
                }
            }
        }
        self.drain(p.node);
        self.check_now();
    }

    /// The next time-driven event: a node timer, a restart or a watchdog firing.
    fn next_timed(&self) -> Option<(Instant, Timed)> {
        let mut best: Option<(Instant, Timed)> = None;
        let mut consider = |t: Instant, e: Timed| {
            if best.is_none_or(|(bt, _)| t < bt) {
                best = Some((t, e));
            }
        };
        for c in [Controller::A, Controller::B] {
            let s = &self.hosts[c.index()];
            if let Some(n) = &s.node {
                if !s.hung
                    && let Some(t) = n.poll_timeout()
                {
                    consider(self.to_world(NodeId::Host(c), t), Timed::Timer(NodeId::Host(c)));
                }
                if let Some(k) = s.last_kick {
                    consider(k + self.cfg.watchdog, Timed::Watchdog(c));
                }
            } else if let Some(t) = s.restart_at {
                consider(t, Timed::Restart(NodeId::Host(c)));
            }
            let b = &self.bmcs[c.index()];
            if let Some(n) = &b.node {
                if let Some(t) = n.poll_timeout() {
                    consider(self.to_world(NodeId::Bmc(c), t), Timed::Timer(NodeId::Bmc(c)));
                }
            } else if let Some(t) = b.restart_at {
                consider(t, Timed::Restart(NodeId::Bmc(c)));
            }
        }
        best
    }

    /// Advance time to the next timed event and run it (model checker's `Tick`).
    pub fn tick(&mut self) {
        let Some((t, e)) = self.next_timed() else { return };
        self.now = self.now.max(t);
        self.run_timed(e);
    }

    fn run_timed(&mut self, e: Timed) {
        match e {
            Timed::Timer(id) => {
                let local = self.local_now(id);
                match id {
                    NodeId::Host(c) => {
                        if let Some(n) = self.hosts[c.index()].node.as_mut() {
                            n.handle_timeout(local);
                        }
                    }
                    NodeId::Bmc(c) => {
                        if let Some(n) = self.bmcs[c.index()].node.as_mut() {
                            n.handle_timeout(local);
                        }
                    }
                }
                self.drain(id);
            }
            Timed::Restart(NodeId::Host(c)) => self.boot_host(c),
            Timed::Restart(NodeId::Bmc(c)) => self.boot_bmc(c),
            Timed::Watchdog(c) => self.reset_host(c, "hardware watchdog fired"),
        }
        self.check_now();
    }

    /// The step [`Self::step`] would take next and when: the earliest event of any
    /// kind, frames first, then completed operations, then timers (so a resumed host
    /// drains its input before judging). `None` when nothing is left to happen.
    pub fn nominal(&self) -> Option<(Instant, Choice)> {
        let frame = self
            .in_flight
            .iter()
            .enumerate()
            .filter(|(_, f)| self.runnable(f.link.to))
            .min_by_key(|(i, f)| (f.due, *i))
            .map(|(i, f)| (f.due, Choice::Deliver(i)));
        let op = self
            .pending
            .iter()
            .enumerate()
            .filter(|(_, p)| self.runnable(p.node))
            .min_by_key(|(i, p)| (p.due, *i))
            .map(|(i, p)| (p.due, Choice::Complete(i)));
        let timed = self.next_timed().map(|(t, _)| (t, Choice::Tick));
        [frame, op, timed].into_iter().flatten().min_by_key(|(t, c)| (*t, matches!(c, Choice::Tick)))
    }

    fn runnable(&self, n: NodeId) -> bool {
        match n {
            NodeId::Host(c) => !self.hosts[c.index()].hung,
            NodeId::Bmc(_) => true,
        }
    }

    /// Run the next event at its time (see [`Self::nominal`]). Returns false when
    /// nothing is left to happen.
    pub fn step(&mut self) -> bool {
        let Some((t, choice)) = self.nominal() else { return false };
        self.now = self.now.max(t);
        self.apply(&choice);
        true
    }

    /// Run every event up to `until`, then set the clock to it.
    pub fn run_until(&mut self, until: Instant) {
        let mut guard = 0u64;
        while self.violation.is_none() {
            let next = self.peek_next();
            match next {
                Some(t) if t <= until => {
                    self.step();
                    guard += 1;
                    if guard > 50_000_000 {
                        self.violate("livelock: too many events".into());
                        break;
                    }
                }
                _ => break,
            }
        }
        self.now = self.now.max(until);
    }

    /// Run for `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    fn peek_next(&self) -> Option<Instant> {
        self.nominal().map(|(t, _)| t.max(self.now))
    }

    // ----- the model checker's interface -----------------------------------------------

    /// Every step enabled now, faults excluded (the checker adds those it allows).
    pub fn enabled(&self, allow_loss: bool, allow_dup: bool) -> Vec<Choice> {
        let mut out = Vec::new();
        for (i, f) in self.in_flight.iter().enumerate() {
            if !self.runnable(f.link.to) {
                continue;
            }
            out.push(Choice::Deliver(i));
            if allow_loss {
                out.push(Choice::Drop(i));
            }
            if allow_dup {
                out.push(Choice::Duplicate(i));
            }
        }
        for (i, p) in self.pending.iter().enumerate() {
            if !self.runnable(p.node) {
                continue;
            }
            out.push(Choice::Complete(i));
        }
        if self.next_timed().is_some() {
            out.push(Choice::Tick);
        }
        out
    }

    /// Take a step chosen from [`Self::enabled`] (or a fault).
    pub fn apply(&mut self, choice: &Choice) {
        match *choice {
            Choice::Deliver(i) => self.deliver(i, false),
            Choice::Duplicate(i) => self.deliver(i, true),
            Choice::Drop(i) => {
                if i < self.in_flight.len() {
                    self.in_flight.remove(i);
                }
            }
            Choice::Complete(i) => self.complete(i),
            Choice::Tick => self.tick(),
            Choice::Fault(f) => self.inject(f),
        }
    }

    /// A one-line summary of each controller (for traces and failures).
    pub fn summary(&self) -> String {
        let mut s = String::new();
        for c in [Controller::A, Controller::B] {
            let slot = &self.hosts[c.index()];
            let _ = match &slot.node {
                Some(n) => write!(
                    s,
                    "{c}:{}{} e{} ",
                    n.state_name().name(),
                    if slot.hung { "(hung)" } else { "" },
                    n.epoch()
                ),
                None => write!(s, "{c}:down "),
            };
        }
        let _ = write!(s, "disk:{:?} vip:{:?}", self.disk.holder(), self.vip_owner);
        s
    }

    /// Give `c` the health `f(health)` returns.
    pub fn update_health(&mut self, c: Controller, f: impl FnOnce(&mut LocalHealth)) {
        let mut h = self.hosts[c.index()].health.clone();
        f(&mut h);
        self.set_health(c, h);
    }

    /// Change `c`'s BMC's view of its host's power.
    pub fn set_host_power(&mut self, c: Controller, powered: bool) {
        let local = self.local_now(NodeId::Bmc(c));
        if let Some(n) = self.bmcs[c.index()].node.as_mut() {
            n.handle_health(local, BmcHealth { host_powered: powered });
        }
        self.drain(NodeId::Bmc(c));
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Timed {
    Timer(NodeId),
    Restart(NodeId),
    Watchdog(Controller),
}

fn shift(t: Instant, off: i64) -> Instant {
    if off >= 0 {
        t + Duration::from_micros(off as u64)
    } else {
        t - Duration::from_micros(off.unsigned_abs())
    }
}
