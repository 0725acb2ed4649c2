//! Assembling and running the service from a configuration file.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use failover_core::node::{AdminCommand, HostNode, LocalHealth};
use failover_core::wire::{Digest, GroupState};
use tokio::sync::mpsc::unbounded_channel;

use crate::api::server;
use crate::backend::{
    DeviceWatchdog, DiskOwnership, EnclosureFence, GpioEnclosure, GpioPeerReset, I2cEnclosure, NoWatchdog,
    PeerReset, SimDiskSet, SimEnclosure, SimPeerReset, SimWatchdog, StatusLed, Watchdog,
};
use crate::config::{
    self, Config, DiskBackend, EnclosureBackend, LedBackend, PeerResetBackend, VipBackend, WatchdogBackend,
};
use crate::state;
use crate::transport::serial::SerialLink;
use crate::transport::udp::UdpLink;

use super::control::ServiceControl;
use super::effects::{HostHardware, LinuxEffects};
use super::escrow::KeyVault;
use super::executor::{self, Effects, EventLog};
use super::heartbeat::{Clock, Heartbeat, KickPacer, NodeSender, RtOptions, ToNode};
use super::store::{ConfigStore, hex_digest};
use super::sync::SyncService;

/// How often local health (carrier, disks) is re-read.
const HEALTH_PERIOD: StdDuration = StdDuration::from_millis(500);

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is invalid (every problem listed).
    #[error("{0}")]
    Config(#[from] config::ConfigErrors),
    /// The state file is unreadable or corrupt (never silently reset).
    #[error("{0}")]
    State(#[from] state::StateError),
    /// A backend could not be opened.
    #[error("{what}: {reason}")]
    Backend {
        /// Which backend (config key).
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// A transport could not be opened.
    #[error("{0}")]
    Transport(#[from] crate::transport::TransportError),
    /// Anything else the OS refused.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
}

fn backend_err(what: &'static str, reason: impl std::fmt::Display) -> StartError {
    StartError::Backend { what, reason: reason.to_string() }
}

type OpenedDisks = (Arc<dyn DiskOwnership>, Option<Arc<SimDiskSet>>);

fn open_disks(c: &Config) -> Result<OpenedDisks, StartError> {
    match &c.local.backends.disk {
        DiskBackend::Sim { path, disks, .. } => {
            let set = SimDiskSet::open(path, *disks as usize, c.local.controller)
                .map_err(|e| backend_err("backends.disk", e))?;
            let set = Arc::new(set);
            Ok((set.clone(), Some(set)))
        }
        DiskBackend::Scsi { devices, preempt } => {
            let set = crate::backend::ScsiDiskSet::open(devices, *preempt, c.local.controller)
                .map_err(|e| backend_err("backends.disk", e))?;
            Ok((Arc::new(set), None))
        }
    }
}

/// The configured watchdog, and whether one is armed. A device that cannot be opened
/// (missing, busy) does not stop the service: it runs without one and reports
/// WATCHDOG_UNAVAILABLE, so it never takes over unguarded, and the error is logged.
fn open_watchdog(c: &Config) -> Result<(Box<dyn Watchdog>, bool), StartError> {
    match &c.local.backends.watchdog {
        WatchdogBackend::None => Ok((Box::new(NoWatchdog), false)),
        WatchdogBackend::Sim { path, timeout } => Ok((
            Box::new(SimWatchdog::start(path, *timeout).map_err(|e| backend_err("backends.watchdog", e))?),
            true,
        )),
        WatchdogBackend::Device { path, timeout_s } => match DeviceWatchdog::open(path, *timeout_s) {
            Ok(w) => Ok((Box::new(w), true)),
            Err(e) => {
                tracing::error!(
                    key = "backends.watchdog", error = %e,
                    "no hardware watchdog: failover stays unavailable (WATCHDOG_UNAVAILABLE) until it can be opened"
                );
                Ok((Box::new(NoWatchdog), false))
            }
        },
    }
}

/// Open the configured enclosure fence (`None` without one).
///
/// The simulated enclosure is the simulated JBOD's own when the disks are simulated
/// too (`<disk.path>/enclosure/`, which every simulated disk command consults, so a cut
/// really takes the port's disks away); its `path` is used only with real disks.
pub fn open_enclosure(c: &Config) -> Result<Option<Arc<dyn EnclosureFence>>, StartError> {
    const K: &str = "backends.enclosure";
    let fence: Arc<dyn EnclosureFence> = match &c.local.backends.enclosure {
        EnclosureBackend::None => return Ok(None),
        EnclosureBackend::Sim { path } => {
            let jbod = match &c.local.backends.disk {
                DiskBackend::Sim { path: disks, .. } => {
                    if disks != path {
                        tracing::info!(
                            jbod = %disks.display(),
                            "simulated enclosure: the simulated JBOD's own ({K}.path is used with real disks only)"
                        );
                    }
                    disks
                }
                DiskBackend::Scsi { .. } => path,
            };
            Arc::new(SimEnclosure::open(jbod).map_err(|e| backend_err(K, e))?)
        }
        EnclosureBackend::I2c { bus, address } => {
            Arc::new(I2cEnclosure::open(bus, *address).map_err(|e| backend_err(K, e))?)
        }
        EnclosureBackend::Gpio { chip, peer_line, active_low } => Arc::new(
            GpioEnclosure::open(chip, peer_line, c.local.controller.peer(), *active_low)
                .map_err(|e| backend_err(K, e))?,
        ),
    };
    Ok(Some(fence))
}

/// Open the configured peer reset (`None` without one). The simulated one needs the
/// peer's pid file, which the peer writes at its start.
pub fn open_peer_reset(c: &Config) -> Result<Option<Arc<dyn PeerReset>>, StartError> {
    const K: &str = "backends.peer_reset";
    let reset: Arc<dyn PeerReset> = match &c.local.backends.peer_reset {
        PeerResetBackend::None => return Ok(None),
        PeerResetBackend::Sim { path } => Arc::new(SimPeerReset::new(path)),
        PeerResetBackend::Gpio { chip, line, pulse, active_low } => {
            let peer = c.local.controller.peer();
            Arc::new(
                GpioPeerReset::open(chip, line, *active_low, peer, *pulse).map_err(|e| backend_err(K, e))?,
            )
        }
    };
    Ok(Some(reset))
}

/// Open the configured status LED (`None` without one); it starts off.
pub fn open_led(c: &Config) -> Result<Option<Arc<StatusLed>>, StartError> {
    match &c.local.backends.led {
        LedBackend::None => Ok(None),
        LedBackend::Gpio { chip, line, active_low } => Ok(Some(Arc::new(
            StatusLed::open(chip, line, *active_low).map_err(|e| backend_err("backends.led", e))?,
        ))),
    }
}

/// The armed watchdog while the service starts: magic-closed if the start fails
/// before the effects take it over.
struct DisarmOnFailedStart(Option<Box<dyn Watchdog>>);

impl DisarmOnFailedStart {
    fn take(&mut self) -> Box<dyn Watchdog> {
        self.0.take().unwrap_or_else(|| Box::new(NoWatchdog))
    }
}

impl Drop for DisarmOnFailedStart {
    fn drop(&mut self) {
        if let Some(mut w) = self.0.take() {
            match w.stop() {
                Ok(()) => tracing::warn!(watchdog = %w.describe(), "start failed: watchdog disarmed"),
                Err(e) => tracing::error!(error = %e, "start failed and the watchdog could not be disarmed"),
            }
        }
    }
}

/// Local health as the platform sees it now.
pub fn local_health(
    c: &Config,
    disks: &dyn DiskOwnership,
    pools_imported: u16,
    watchdog_armed: bool,
) -> LocalHealth {
    let sim_net = matches!(c.local.backends.vips, VipBackend::Sim { .. });
    let carrier = |iface: &str| sim_net || crate::actions::vip::has_carrier(iface).unwrap_or(false);
    let mut groups: heapless::Vec<GroupState, { failover_core::wire::MAX_GROUPS }> = heapless::Vec::new();
    for i in c.shared.interfaces.iter().filter(|i| i.critical) {
        let Some(g) = i.group else { continue };
        let up = u8::from(carrier(&i.name));
        if let Some(e) = groups.iter_mut().find(|e| e.group == g) {
            e.total = e.total.saturating_add(1);
            e.up = e.up.saturating_add(up);
        } else {
            let _ = groups.push(GroupState { group: g, up, total: 1 });
        }
    }
    let serials = disks.disk_serials();
    let disk_set_digest =
        serials.as_ref().map_or(Digest::default(), |s| Digest::of_parts(s.iter().map(|x| x.as_bytes())));
    LocalHealth {
        groups,
        pools_total: u16::try_from(c.shared.pools.len()).unwrap_or(u16::MAX),
        pools_imported,
        fencing_available: serials.is_ok_and(|s| !s.is_empty()),
        watchdog_available: watchdog_armed,
        heartbeat_carrier: c.local.link.interface.as_deref().is_none_or(|i| sim_net || carrier(i)),
        vip_count: u16::try_from(
            c.shared.interfaces.iter().map(|i| i.virtual_addresses.len()).sum::<usize>(),
        )
        .unwrap_or(u16::MAX),
        config_digest: c.shared.digest(),
        disk_set_digest,
    }
}

/// Follow changes of the configuration (API edits, config sync): send the failover
/// settings to the node when they changed, and let the effects adjust the VIPs. (The
/// health loop re-reads health on the same changes, so the digest follows.)
async fn follow_config(store: Arc<ConfigStore>, effects: Arc<LinuxEffects>, node: NodeSender) {
    let mut changes = store.subscribe();
    // Changes in quick succession are seen once: compare with what was last followed.
    let mut last = store.get();
    while changes.changed().await.is_ok() {
        let current = store.get();
        let (old, new) = (last.shared.settings(), current.shared.settings());
        if old != new {
            match node.admin(AdminCommand::SetSettings(new)).await {
                Some(Ok(())) => tracing::info!(settings = ?new, "failover settings in force"),
                Some(Err(e)) => tracing::error!(error = %e, "the node refused the new failover settings"),
                None => return,
            }
        }
        effects.config_changed(&last, &current).await;
        last = current;
    }
}

/// Tell systemd (Type=notify) something, if it is listening.
fn sd_notify(msg: &str) {
    if let Some(path) = std::env::var_os("NOTIFY_SOCKET")
        && let Ok(sock) = std::os::unix::net::UnixDatagram::unbound()
    {
        let _ = sock.send_to(msg.as_bytes(), path);
    }
}

/// Load `config_path` and run the service until SIGTERM / SIGINT.
pub async fn run(config_path: &Path) -> Result<(), StartError> {
    let c = config::load(config_path)?;
    let me = c.local.controller;
    let boot = state::next_boot(&c.local.state_file, me)?;
    tracing::info!(
        controller = %me, boot = boot.boot_count, epoch = boot.epoch, fenced_marker = ?boot.fenced_marker,
        "failoverd starting"
    );
    let (disks, sim_disks) = open_disks(&c)?;
    let hardware =
        HostHardware { enclosure: open_enclosure(&c)?, peer_reset: open_peer_reset(&c)?, led: open_led(&c)? };
    if let PeerResetBackend::Sim { path } = &c.local.backends.peer_reset {
        SimPeerReset::write_pid_file(path, me).map_err(|e| backend_err("backends.peer_reset", e))?;
    }
    // Armed last, and disarmed again if anything below fails: a service that never
    // started must not reset its host a timeout later.
    let (watchdog, watchdog_armed) = open_watchdog(&c)?;
    let mut watchdog = DisarmOnFailedStart(Some(watchdog));
    let clock = Clock::start();
    let mut node = HostNode::new(c.host_config(boot.boot_count, boot.epoch, boot.fenced_marker), clock.now());
    node.handle_health(clock.now(), local_health(&c, disks.as_ref(), 0, watchdog_armed));
    let udp = UdpLink::bind(c.local.link.local, c.local.link.peer, c.local.link.interface.as_deref())?;
    let serial = match &c.local.bmc {
        Some(b) => Some(SerialLink::open(&b.serial.to_string_lossy(), b.baud)?),
        None => None,
    };
    let (tx, rx) = unbounded_channel();
    let rt = RtOptions {
        priority: Some(i32::from(c.local.realtime.priority)),
        lock_memory: c.local.realtime.lock_memory,
    };
    let kicks = KickPacer::for_timeout(match &c.local.backends.watchdog {
        WatchdogBackend::None => None,
        WatchdogBackend::Sim { timeout, .. } => Some(*timeout),
        WatchdogBackend::Device { timeout_s, .. } => Some(StdDuration::from_secs(u64::from(*timeout_s))),
    });
    let heartbeat = Heartbeat::spawn(node, clock, udp, serial, rt, kicks, tx)
        .map_err(|source| StartError::Io { what: "heartbeat thread", source })?;
    let sender = heartbeat.sender();

    // One configuration for everyone: the API edits it, config sync replaces its shared
    // part, the effects and the health reporter read it.
    let store = Arc::new(ConfigStore::new(config_path, c.clone()));
    let link_key = c
        .local
        .link
        .key
        .as_ref()
        .map(|k| k.mac_key())
        .ok_or_else(|| backend_err("link.key_file", "not loaded"))?;
    let vault = Arc::new(KeyVault::new(&link_key, me, boot.boot_count));
    tracing::info!(digest = %hex_digest(store.digest()), "shared configuration");

    let effects = Arc::new(
        LinuxEffects::new(
            store.clone(),
            vault.clone(),
            boot,
            disks.clone(),
            sim_disks,
            watchdog.take(),
            hardware,
        )
        .map_err(|e| backend_err("backends.vips", e))?,
    );
    // A previous incarnation killed before it could drop its VIPs (SIGKILL, OOM, a
    // watchdog kill) leaves them on the interfaces, and two hosts would answer for
    // them. Remove every configured VIP before any action runs: the node's actions
    // queue up until the executor below starts, so a takeover's RaiseVips comes after.
    effects.drop_vips().await;
    if matches!(c.local.backends.disk, DiskBackend::Sim { workload: true, .. }) {
        effects.spawn_sim_io();
    }
    let log = EventLog::default();
    let (delivered_tx, delivered_rx) = unbounded_channel();
    tokio::spawn(executor::run(effects.clone(), sender.clone(), rx, log.clone(), delivered_tx));
    let sync = Arc::new(SyncService::new(store.clone(), vault.clone(), sender.clone()));
    tokio::spawn(sync.clone().run(delivered_rx));
    tokio::spawn(follow_config(store.clone(), effects.clone(), sender.clone()));

    // Health: re-read periodically and at once after a configuration change, sent only
    // when it changed.
    {
        let (store, disks, fx, sender) = (store.clone(), disks.clone(), effects.clone(), sender.clone());
        let mut changes = store.subscribe();
        tokio::spawn(async move {
            let mut last = None;
            loop {
                tokio::select! {
                    () = tokio::time::sleep(HEALTH_PERIOD) => {},
                    r = changes.changed() => if r.is_err() { return },
                }
                let (c2, d2, n) = (store.get(), disks.clone(), fx.pools_imported());
                let Ok(h) =
                    tokio::task::spawn_blocking(move || local_health(&c2, d2.as_ref(), n, watchdog_armed))
                        .await
                else {
                    continue;
                };
                if last.as_ref() != Some(&h) {
                    last = Some(h.clone());
                    sender.send(ToNode::Health(h));
                }
            }
        });
    }

    let vips_path = match &c.local.backends.vips {
        VipBackend::Sim { path } => Some(path.clone()),
        VipBackend::Netlink => None,
    };
    let letter = me.letter().to_string();
    let control = Arc::new(ServiceControl::new(
        sender,
        store.clone(),
        sync,
        vault,
        log,
        Arc::new(move || {
            vips_path.as_ref().is_some_and(|p| std::fs::read_to_string(p).is_ok_and(|s| s.trim() == letter))
        }),
    ));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let socket = c.local.api.socket.clone();
    {
        let control = control.clone();
        let mut rx = stop_rx.clone();
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = rx.changed().await;
            };
            if let Err(e) = server::serve_unix(&socket, control, shutdown).await {
                tracing::error!(socket = %socket.display(), error = %e, "API socket failed");
            }
        });
    }
    if let Some(addr) = c.local.api.tcp {
        let control = control.clone();
        let mut rx = stop_rx.clone();
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = rx.changed().await;
            };
            if let Err(e) = server::serve_tcp(addr, control, shutdown).await {
                tracing::error!(%addr, error = %e, "API TCP listener failed");
            }
        });
    }
    if let Some(ui) = c.local.ui.clone() {
        let mut rx = stop_rx.clone();
        let control = control.clone();
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = rx.changed().await;
            };
            // The UI is for people: failing to serve it never stops failover.
            if let Err(e) = crate::ui::serve(&ui, control, shutdown).await {
                tracing::error!(listen = %ui.listen, error = %e, "web UI failed");
            }
        });
    }
    sd_notify("READY=1");
    if let Some(usec) = std::env::var("WATCHDOG_USEC").ok().and_then(|v| v.parse::<u64>().ok()) {
        tokio::spawn(async move {
            let period = StdDuration::from_micros(usec / 2);
            loop {
                tokio::time::sleep(period).await;
                sd_notify("WATCHDOG=1");
            }
        });
    }
    tracing::info!(controller = %me, "failoverd running");

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|source| StartError::Io { what: "SIGTERM handler", source })?;
    tokio::select! {
        _ = term.recv() => {},
        _ = tokio::signal::ctrl_c() => {},
    }
    tracing::info!("stopping");
    sd_notify("STOPPING=1");
    let _ = stop_tx.send(true);
    heartbeat.stop();
    effects.shutdown().await;
    tokio::time::sleep(StdDuration::from_millis(50)).await;
    Ok(())
}
