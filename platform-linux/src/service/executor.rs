//! The executor: carries out the node's actions on the tokio runtime and reports
//! completions back to the heartbeat thread.
//!
//! Every action that takes time runs in its own task, so a slow hook or a slow disk
//! never delays another action, and never the heartbeats (they live on their own
//! thread). Completions carry the epoch the action was issued with; the node ignores
//! any that no longer match its state.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};

use failover_core::node::{
    Action, Completion, Delivered, Event, EventKind, FenceResult, ReservationKey, StateName,
};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::heartbeat::{FromNode, NodeSender, ToNode};

/// How the platform carries out each action. The Linux implementation composes the
/// configured backends, hooks and VIPs; tests use fakes.
pub trait Effects: Send + Sync + 'static {
    /// Persist the epoch (state file, atomically).
    fn persist_epoch(&self, epoch: u64) -> impl Future<Output = bool> + Send;
    /// Record that the peer fenced us at `epoch`.
    fn record_fenced(&self, epoch: u64) -> impl Future<Output = ()> + Send;
    /// The PR fence on every shared disk.
    fn fence_and_reserve(&self, key: ReservationKey) -> impl Future<Output = FenceResult> + Send;
    /// Import every pool.
    fn import_pools(&self, epoch: u64) -> impl Future<Output = bool> + Send;
    /// Raise the virtual IPs and announce them.
    fn raise_vips(&self, epoch: u64) -> impl Future<Output = ()> + Send;
    /// Remove the virtual IPs.
    fn drop_vips(&self) -> impl Future<Output = ()> + Send;
    /// Export every pool (within the export time limit).
    fn export_pools(&self, epoch: u64) -> impl Future<Output = bool> + Send;
    /// Release the reservation and unregister.
    fn release(&self, key: ReservationKey) -> impl Future<Output = ()> + Send;
    /// Whether our key still holds the reservation everywhere.
    fn check(&self, key: ReservationKey) -> impl Future<Output = bool> + Send;
    /// Stop all I/O to the shared disks now.
    fn stop_io(&self);
    /// Kick the hardware watchdog.
    fn kick_watchdog(&self);
    /// Cut (`true`) or give back (`false`) the peer's enclosure ports, when this host
    /// drives the enclosure fence itself.
    fn peer_enclosure(&self, cut: bool) -> impl Future<Output = ()> + Send;
    /// Pulse the peer host's reset line.
    fn reset_peer(&self) -> impl Future<Output = ()> + Send;
    /// Reboot now (the pools may still be imported).
    fn reboot(&self);
}

/// Recent events, for the API (newest last, bounded), and counts of the ones that
/// matter for alerting, since the service started.
#[derive(Clone, Debug, Default)]
pub struct EventLog {
    inner: Arc<Mutex<VecDeque<(u64, String)>>>,
    counts: Arc<Mutex<EventCounts>>,
}

/// Failover counts since the service started (Prometheus counters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EventCounts {
    /// Takeovers started.
    pub takeovers_started: u64,
    /// Takeovers that ended active.
    pub takeovers_completed: u64,
    /// Takeovers that ended anywhere else (fence refused or failed, import failed).
    pub takeovers_failed: u64,
    /// Handovers to the peer started.
    pub givebacks: u64,
    /// Times this controller found itself fenced (key gone or superseded).
    pub fenced: u64,
}

impl EventCounts {
    /// Count `e`.
    pub fn record(&mut self, e: &Event) {
        match e.kind {
            EventKind::TakeoverStarted { .. } => self.takeovers_started += 1,
            EventKind::GivebackStarted { .. } => self.givebacks += 1,
            EventKind::ReservationLost | EventKind::Superseded { .. } => self.fenced += 1,
            EventKind::StateChanged { from, to } if from.is_takeover() && !to.is_takeover() => {
                if to == StateName::Active {
                    self.takeovers_completed += 1;
                } else {
                    self.takeovers_failed += 1;
                }
            }
            _ => {}
        }
    }
}

const EVENT_LOG_LEN: usize = 256;

impl EventLog {
    /// Append one event.
    pub fn push(&self, at_ms: u64, what: String) {
        if let Ok(mut q) = self.inner.lock() {
            if q.len() == EVENT_LOG_LEN {
                q.pop_front();
            }
            q.push_back((at_ms, what));
        }
    }

    /// Count an event (every event, including those not kept as text).
    pub fn count(&self, e: &Event) {
        if let Ok(mut c) = self.counts.lock() {
            c.record(e);
        }
    }

    /// The counts so far.
    pub fn counts(&self) -> EventCounts {
        self.counts.lock().map(|c| *c).unwrap_or_default()
    }

    /// Everything kept, oldest first.
    pub fn all(&self) -> Vec<(u64, String)> {
        self.inner.lock().map(|q| q.iter().cloned().collect()).unwrap_or_default()
    }
}

/// Describe an event for logs and the API.
pub fn describe(e: &Event) -> Option<String> {
    Some(match e.kind {
        EventKind::StateChanged { from, to } => format!("state {} -> {}", from.name(), to.name()),
        EventKind::PeerVerdict { verdict } => format!("peer verdict: {verdict:?}"),
        EventKind::PeerRestarted { controller, bmc } => {
            format!("{} {controller} restarted", if bmc { "BMC" } else { "host" })
        }
        EventKind::TakeoverStarted { cause, epoch } => {
            format!("takeover started ({cause:?}) with epoch {epoch}")
        }
        EventKind::GivebackStarted { cause } => format!("giveback started ({cause:?})"),
        EventKind::StaleClaim { epoch } => format!("ignored a stale claim to be active with epoch {epoch}"),
        EventKind::Superseded { epoch } => format!("superseded by epoch {epoch}"),
        EventKind::ReservationLost => "reservation lost: fenced by the peer".to_string(),
        EventKind::SelfStall { gap } => format!("service did not run for {gap}; listening afresh"),
        EventKind::PeerFenced { ok } => format!("peer hard fence {}", if ok { "done" } else { "FAILED" }),
        EventKind::GivebackAborted => "giveback aborted: the standby did not accept".to_string(),
        EventKind::ActionOverflow => "action queue overflow".to_string(),
        EventKind::StaleCompletion | EventKind::FrameRejected { .. } => return None,
    })
}

/// Run actions until the heartbeat thread goes away. Configuration and key-escrow data
/// from the peer go on to `delivered` (config sync, see [`super::sync`]).
pub async fn run<E: Effects>(
    effects: Arc<E>,
    node: NodeSender,
    mut rx: UnboundedReceiver<FromNode>,
    log: EventLog,
    delivered: UnboundedSender<Delivered>,
) {
    while let Some(msg) = rx.recv().await {
        match msg {
            FromNode::Action(a) => dispatch(&effects, &node, a),
            FromNode::Event(e) => {
                log.count(&e);
                if let Some(what) = describe(&e) {
                    tracing::info!(at_ms = e.at.millis(), "{what}");
                    log.push(e.at.millis(), what);
                } else if let EventKind::FrameRejected { path, error } = e.kind {
                    tracing::debug!(path = %path.letter(), %error, "frame rejected");
                }
            }
            FromNode::Delivered(d) => {
                if delivered.send(d).is_err() {
                    tracing::debug!("sync data from the peer dropped: config sync is not running");
                }
            }
        }
    }
}

fn complete(node: &NodeSender, c: Completion) {
    node.send(ToNode::Completion(c));
}

fn dispatch<E: Effects>(effects: &Arc<E>, node: &NodeSender, a: Action) {
    let (fx, n) = (effects.clone(), node.clone());
    match a {
        Action::KickWatchdog => effects.kick_watchdog(),
        Action::StopIo => {
            tracing::error!("reservation lost: stopping all I/O now");
            effects.stop_io();
        }
        Action::Reboot => {
            tracing::error!("demotion failed: rebooting now");
            effects.reboot();
        }
        Action::PersistEpoch { epoch } => {
            tokio::spawn(async move {
                let ok = fx.persist_epoch(epoch).await;
                complete(&n, Completion::EpochPersisted { epoch, ok });
            });
        }
        Action::RecordFenced { epoch } => {
            tokio::spawn(async move { fx.record_fenced(epoch).await });
        }
        Action::FenceAndReserve { epoch, key } => {
            tokio::spawn(async move {
                let result = fx.fence_and_reserve(key).await;
                complete(&n, Completion::Fenced { epoch, result });
            });
        }
        Action::ImportPools { epoch } => {
            tokio::spawn(async move {
                let ok = fx.import_pools(epoch).await;
                complete(&n, Completion::PoolsImported { epoch, ok });
            });
        }
        Action::RaiseVips { epoch } => {
            tokio::spawn(async move {
                fx.raise_vips(epoch).await;
                complete(&n, Completion::VipsRaised { epoch });
            });
        }
        Action::DropVips => {
            tokio::spawn(async move { fx.drop_vips().await });
        }
        Action::ExportPools { epoch } => {
            tokio::spawn(async move {
                let ok = fx.export_pools(epoch).await;
                complete(&n, Completion::PoolsExported { epoch, ok });
            });
        }
        Action::ReleaseDisks { epoch, key } => {
            tokio::spawn(async move {
                fx.release(key).await;
                complete(&n, Completion::DisksReleased { epoch });
            });
        }
        Action::CheckReservation { epoch, key } => {
            tokio::spawn(async move {
                let held = fx.check(key).await;
                complete(&n, Completion::ReservationChecked { epoch, held });
            });
        }
        Action::CutPeerEnclosure => {
            tokio::spawn(async move { fx.peer_enclosure(true).await });
        }
        Action::RestorePeerEnclosure => {
            tokio::spawn(async move { fx.peer_enclosure(false).await });
        }
        Action::ResetPeerHost => {
            tokio::spawn(async move { fx.reset_peer().await });
        }
    }
}
