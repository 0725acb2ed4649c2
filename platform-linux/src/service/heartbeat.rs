//! The heartbeat thread: owns the [`HostNode`] and the link sockets.
//!
//! Heartbeats must survive a loaded host (the top complaint against keepalived and
//! corosync is false failover when the daemon is starved). So this thread:
//! - runs at real-time priority (SCHED_FIFO, configurable; falls back with a warning
//!   when not permitted) with all memory locked (mlockall), so it is neither starved
//!   nor paged out;
//! - never waits on disk, hooks, the API or logging: actions and events leave through
//!   a non-blocking channel to the tokio runtime, completions and commands arrive
//!   through another that it drains without blocking; its only wait is `poll(2)` on
//!   the sockets and a wake-up socket, bounded by the node's next deadline;
//! - after any stall of its own, drains every frame already received *before* it lets
//!   the node judge the peer silent, and the node judges by the peer's frames, not by
//!   its own missed ticks (see `failover_core::node`).

use std::os::fd::AsFd;
use std::os::unix::net::UnixDatagram;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::thread::JoinHandle;

use failover_core::node::{
    Action, AdminCommand, AdminError, Completion, Delivered, Event, HostNode, HostStatus, LocalHealth, Path,
    Settings,
};
use failover_core::time::Instant;
use failover_core::wire::{Controller, MAX_FRAME_LEN, Message};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use tokio::sync::{mpsc::UnboundedSender, oneshot};

use super::link_stats::LinkStats;
use crate::transport::serial::SerialLink;
use crate::transport::udp::UdpLink;

/// Requests to the heartbeat thread.
#[derive(Debug)]
pub enum ToNode {
    /// An action finished.
    Completion(Completion),
    /// Local health changed.
    Health(LocalHealth),
    /// An admin command, with where to send its result.
    Admin(AdminCommand, oneshot::Sender<Result<(), AdminError>>),
    /// Ask for a status snapshot.
    Snapshot(oneshot::Sender<NodeView>),
    /// Seal a platform-built message (config chunk, key escrow) and send it on H.
    Send(Message),
    /// Stop the thread.
    Stop,
}

/// What the heartbeat thread hands to the runtime.
#[derive(Debug)]
pub enum FromNode {
    /// An action to carry out.
    Action(Action),
    /// Something to log.
    Event(Event),
    /// Configuration or key-escrow data from the peer.
    Delivered(Delivered),
}

/// A snapshot of the node for the API.
#[derive(Clone, Debug)]
pub struct NodeView {
    /// This controller.
    pub controller: Controller,
    /// The status.
    pub status: HostStatus,
    /// The settings in force.
    pub settings: Settings,
    /// Frames the link transports dropped or could not send.
    pub link_errors: u64,
    /// Frames accepted, rejected and lost, per path.
    pub links: LinkStats,
}

/// Real-time options of the heartbeat thread.
#[derive(Clone, Copy, Debug)]
pub struct RtOptions {
    /// SCHED_FIFO priority (1..=99), or `None` to stay at normal priority.
    pub priority: Option<i32>,
    /// Lock all memory (mlockall).
    pub lock_memory: bool,
}

/// Forwards the core's watchdog kicks at most once per period. The core asks for a
/// kick at every heartbeat (100 a second at 10 ms) while the service is healthy; the
/// watchdog needs one a few times per timeout, and every forwarded kick wakes the
/// executor. Dropping kicks only moves the last kick earlier, never later, so a hung
/// service is reset no later than with every kick forwarded; when the core stops
/// asking, no kick goes out.
#[derive(Clone, Copy, Debug)]
pub struct KickPacer {
    every: std::time::Duration,
    last: Option<std::time::Instant>,
}

impl KickPacer {
    /// The longest period: ten kicks a second at the most.
    pub const MAX_PERIOD: std::time::Duration = std::time::Duration::from_millis(100);

    /// A pacer for a watchdog firing `timeout` after its last kick: a tenth of it (so
    /// pacing costs at most a tenth of the margin), at most [`Self::MAX_PERIOD`] (a
    /// watchdog without a timeout gets that).
    pub fn for_timeout(timeout: Option<std::time::Duration>) -> Self {
        let every = timeout.map_or(Self::MAX_PERIOD, |t| (t / 10).min(Self::MAX_PERIOD));
        Self { every, last: None }
    }

    /// Whether a kick asked for at `now` goes out.
    pub fn admit(&mut self, now: std::time::Instant) -> bool {
        if self.last.is_some_and(|l| now.saturating_duration_since(l) < self.every) {
            return false;
        }
        self.last = Some(now);
        true
    }
}

/// The monotonic clock the node runs on: microseconds since the service started.
#[derive(Clone, Copy, Debug)]
pub struct Clock(std::time::Instant);

impl Clock {
    /// A clock starting now.
    pub fn start() -> Self {
        Self(std::time::Instant::now())
    }

    /// Now, for the node.
    pub fn now(&self) -> Instant {
        Instant::from_micros(u64::try_from(self.0.elapsed().as_micros()).unwrap_or(u64::MAX))
    }
}

/// A handle to the running heartbeat thread.
#[derive(Debug)]
pub struct Heartbeat {
    tx: Sender<ToNode>,
    wake: Arc<UnixDatagram>,
    join: Option<JoinHandle<()>>,
}

impl Heartbeat {
    /// Start the thread that owns `node`.
    pub fn spawn(
        node: HostNode,
        clock: Clock,
        udp: UdpLink,
        serial: Option<SerialLink>,
        rt: RtOptions,
        kicks: KickPacer,
        out: UnboundedSender<FromNode>,
    ) -> std::io::Result<Self> {
        let (tx, rx) = std::sync::mpsc::channel();
        let (wake_tx, wake_rx) = UnixDatagram::pair()?;
        wake_rx.set_nonblocking(true)?;
        wake_tx.set_nonblocking(true)?;
        let join = std::thread::Builder::new().name("heartbeat".into()).spawn(move || {
            apply_rt(rt);
            Loop { node, clock, udp, serial, rx, wake: wake_rx, out, stats: LinkStats::default(), kicks }
                .run();
        })?;
        Ok(Self { tx, wake: Arc::new(wake_tx), join: Some(join) })
    }

    /// Queue a request and wake the thread.
    pub fn send(&self, msg: ToNode) {
        if self.tx.send(msg).is_ok() {
            let _ = self.wake.send(&[1]);
        }
    }

    /// A cloneable sender for requests.
    pub fn sender(&self) -> NodeSender {
        NodeSender { tx: self.tx.clone(), wake: self.wake.clone() }
    }

    /// Stop the thread and wait for it.
    pub fn stop(mut self) {
        self.send(ToNode::Stop);
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
    }
}

/// A cloneable way to send requests to the heartbeat thread.
#[derive(Clone, Debug)]
pub struct NodeSender {
    tx: Sender<ToNode>,
    wake: Arc<UnixDatagram>,
}

impl NodeSender {
    /// Queue a request and wake the thread.
    pub fn send(&self, msg: ToNode) {
        if self.tx.send(msg).is_ok() {
            let _ = self.wake.send(&[1]);
        }
    }

    /// A snapshot of the node; `None` when the thread is gone.
    pub async fn snapshot(&self) -> Option<NodeView> {
        let (tx, rx) = oneshot::channel();
        self.send(ToNode::Snapshot(tx));
        rx.await.ok()
    }

    /// Carry out an admin command; `None` when the thread is gone.
    pub async fn admin(&self, cmd: AdminCommand) -> Option<Result<(), AdminError>> {
        let (tx, rx) = oneshot::channel();
        self.send(ToNode::Admin(cmd, tx));
        rx.await.ok()
    }
}

fn apply_rt(rt: RtOptions) {
    if rt.lock_memory
        && let Err(e) = nix::sys::mman::mlockall(
            nix::sys::mman::MlockAllFlags::MCL_CURRENT | nix::sys::mman::MlockAllFlags::MCL_FUTURE,
        )
    {
        tracing::warn!(error = %e, "mlockall failed; heartbeat memory may be paged out");
    }
    if let Some(priority) = rt.priority {
        let param = libc::sched_param { sched_priority: priority };
        // SAFETY: sched_setscheduler with pid 0 changes the calling thread's policy;
        // `param` is a valid, initialised sched_param that outlives the call.
        let rc = unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) };
        if rc != 0 {
            let e = std::io::Error::last_os_error();
            tracing::warn!(priority, error = %e, "SCHED_FIFO not permitted; heartbeats run at normal priority");
        } else {
            tracing::info!(priority, "heartbeat thread runs SCHED_FIFO");
        }
    }
}

struct Loop {
    node: HostNode,
    clock: Clock,
    udp: UdpLink,
    serial: Option<SerialLink>,
    rx: Receiver<ToNode>,
    wake: UnixDatagram,
    out: UnboundedSender<FromNode>,
    stats: LinkStats,
    kicks: KickPacer,
}

impl Loop {
    fn run(mut self) {
        let mut buf = [0u8; 2048];
        loop {
            // 1. Every frame already received, before any deadline is judged.
            self.drain_frames(&mut buf);
            // 2. Completions, health, admin commands.
            if !self.drain_requests() {
                return;
            }
            // 3. Deadlines.
            let now = self.clock.now();
            if self.node.poll_timeout().is_some_and(|t| t <= now) {
                self.node.handle_timeout(now);
            }
            self.flush(now);
            // 4. Sleep until the next deadline or input.
            if let Some(s) = self.serial.as_mut() {
                s.maintain(std::time::Instant::now());
            }
            // The next deadline: the core's, or a hung-up path L's next reopen.
            let node_ms = self
                .node
                .poll_timeout()
                .map(|t| t.saturating_since(self.clock.now()).micros().div_ceil(1000));
            let serial_ms = self.serial.as_ref().and_then(SerialLink::next_wakeup).map(|at| {
                u64::try_from(at.saturating_duration_since(std::time::Instant::now()).as_millis())
                    .unwrap_or(u64::MAX)
            });
            let timeout = node_ms.into_iter().chain(serial_ms).min().map_or(PollTimeout::NONE, |ms| {
                PollTimeout::try_from(ms.min(60_000) as i32).unwrap_or(PollTimeout::NONE)
            });
            let mut fds = vec![
                PollFd::new(self.udp.as_fd(), PollFlags::POLLIN),
                PollFd::new(self.wake.as_fd(), PollFlags::POLLIN),
            ];
            if let Some(fd) = self.serial.as_ref().and_then(SerialLink::fd) {
                fds.push(PollFd::new(fd, PollFlags::POLLIN));
            }
            let _ = poll(&mut fds, timeout);
        }
    }

    fn drain_frames(&mut self, buf: &mut [u8]) {
        while let Some(frame) = self.udp.recv(buf) {
            let now = self.clock.now();
            take_frame(&mut self.node, &mut self.stats, &self.out, now, Path::HostLink, frame);
        }
        if let Some(serial) = self.serial.as_mut() {
            let (node, stats, out, clock) = (&mut self.node, &mut self.stats, &self.out, self.clock);
            serial.poll_frames(|frame| take_frame(node, stats, out, clock.now(), Path::Local, frame));
        }
    }

    /// Returns false when asked to stop.
    fn drain_requests(&mut self) -> bool {
        let mut b = [0u8; 64];
        while self.wake.recv(&mut b).is_ok() {}
        loop {
            let msg = match self.rx.try_recv() {
                Ok(m) => m,
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Disconnected) => return false,
            };
            let now = self.clock.now();
            match msg {
                ToNode::Completion(c) => self.node.handle_completion(now, c),
                ToNode::Health(h) => self.node.handle_health(now, h),
                ToNode::Admin(cmd, reply) => {
                    let _ = reply.send(self.node.handle_admin(now, cmd));
                }
                ToNode::Snapshot(reply) => {
                    let _ = reply.send(NodeView {
                        controller: self.node.controller(),
                        status: self.node.snapshot(now),
                        settings: self.node.settings(),
                        link_errors: self.udp.send_errors
                            + self.udp.foreign
                            + self.serial.as_ref().map_or(0, |s| s.framing_errors + s.write_errors),
                        links: self.stats.clone(),
                    });
                }
                ToNode::Send(m) => {
                    let mut frame = [0u8; MAX_FRAME_LEN];
                    if let Ok(n) = self.node.seal(&m, &mut frame) {
                        self.udp.send(&frame[..n]);
                    }
                }
                ToNode::Stop => return false,
            }
            self.flush(now);
        }
    }

    fn flush(&mut self, now: Instant) {
        let mut frame = [0u8; MAX_FRAME_LEN];
        while let Some(t) = self.node.poll_transmit(now, &mut frame) {
            let bytes = &frame[..t.len];
            match t.path {
                Path::HostLink => self.udp.send(bytes),
                Path::Local => {
                    if let Some(s) = self.serial.as_mut() {
                        s.send(bytes);
                    }
                }
                Path::BmcLink => {}
            }
        }
        while let Some(a) = self.node.poll_action() {
            if a == Action::KickWatchdog && !self.kicks.admit(std::time::Instant::now()) {
                continue;
            }
            let _ = self.out.send(FromNode::Action(a));
        }
        while let Some(e) = self.node.poll_event() {
            let _ = self.out.send(FromNode::Event(e));
        }
    }
}

/// Hand one frame to the node, count it, and pass on what it delivered.
fn take_frame(
    node: &mut HostNode,
    stats: &mut LinkStats,
    out: &UnboundedSender<FromNode>,
    now: Instant,
    path: Path,
    frame: &[u8],
) {
    match node.handle_frame(now, path, frame) {
        Ok(delivered) => {
            stats.accepted(path, frame);
            if let Some(d) = delivered {
                let _ = out.send(FromNode::Delivered(d));
            }
        }
        Err(_) => stats.rejected(path),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::KickPacer;

    #[test]
    fn kicks_go_out_at_most_once_a_period_and_the_first_at_once() {
        let mut p = KickPacer::for_timeout(Some(Duration::from_secs(5)));
        let t0 = Instant::now();
        assert!(p.admit(t0), "the first kick goes out");
        // Heartbeats every 10 ms for one second: one kick per 100 ms.
        let sent = (1..=100).filter(|i| p.admit(t0 + Duration::from_millis(10 * i))).count();
        assert_eq!(sent, 10);
    }

    #[test]
    fn the_period_is_a_tenth_of_a_short_timeout() {
        let mut p = KickPacer::for_timeout(Some(Duration::from_millis(500)));
        let t0 = Instant::now();
        assert!(p.admit(t0));
        assert!(!p.admit(t0 + Duration::from_millis(49)));
        assert!(p.admit(t0 + Duration::from_millis(50)));
        let mut none = KickPacer::for_timeout(None);
        assert!(none.admit(t0));
        assert!(!none.admit(t0 + Duration::from_millis(99)));
        assert!(none.admit(t0 + Duration::from_millis(100)));
    }
}
