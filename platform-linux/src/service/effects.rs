//! [`LinuxEffects`]: the node's actions carried out with the configured backends,
//! hooks, VIPs and state file.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant as WallInstant};

use failover_core::node::{EXPORT_TIMEOUT_MS, FenceResult, ReservationKey};
use failover_core::wire::Controller;
use futures::future::join_all;

use crate::actions::hooks::{HookContext, HookRole, HookSpec, run_hook};
use crate::actions::vip::{Cidr, VipManager};
use crate::backend::gpio::StatusLed;
use crate::backend::{DiskOwnership, EnclosureFence, PeerReset, SimDiskSet, Watchdog};
use crate::config::{Config, LocalConfig, VipBackend};
use crate::state::{self, State};

use super::escrow::KeyVault;
use super::executor::Effects;
use super::store::ConfigStore;

/// How often the simulated I/O workload writes while the node may do I/O.
const SIM_IO_PERIOD: Duration = Duration::from_millis(10);

/// The Linux platform's effects.
pub struct LinuxEffects {
    /// The local part (never changes while the service runs).
    local: LocalConfig,
    /// The configuration in force (the shared part changes with edits and sync).
    store: Arc<ConfigStore>,
    /// The pool passphrase, for the import hooks of encrypted pools.
    vault: Arc<KeyVault>,
    state_path: PathBuf,
    state: Mutex<State>,
    disks: Arc<dyn DiskOwnership>,
    /// The simulated disk set, when that is the backend: the demo's I/O workload writes
    /// to it so a run can prove no write from a fenced node landed.
    sim_disks: Option<Arc<SimDiskSet>>,
    watchdog: Mutex<Box<dyn Watchdog>>,
    hard: HostHardware,
    vips: Option<VipManager>,
    io_allowed: Arc<AtomicBool>,
    /// Told when `io_allowed` changes: the simulated workload waits on it while I/O is
    /// not allowed instead of waking every period for nothing.
    io_changed: tokio::sync::Notify,
    io_key: Mutex<Option<ReservationKey>>,
    pools_imported: AtomicU16,
    /// The virtual IPs are up here (raised and not dropped since).
    vips_up: AtomicBool,
}

/// Hardware a host without a BMC drives itself: the hard fences (none when the BMC
/// holds them) and the status LED.
#[derive(Clone, Default)]
pub struct HostHardware {
    /// Cuts a controller's SAS expander ports.
    pub enclosure: Option<Arc<dyn EnclosureFence>>,
    /// Resets the peer host.
    pub peer_reset: Option<Arc<dyn PeerReset>>,
    /// Lit while this controller serves the virtual IPs.
    pub led: Option<Arc<StatusLed>>,
}

impl std::fmt::Debug for LinuxEffects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinuxEffects").field("disks", &self.disks.describe()).finish_non_exhaustive()
    }
}

impl LinuxEffects {
    /// Effects for the configuration in `store`, with the pool key in `vault`, the
    /// opened backends and the current state.
    pub fn new(
        store: Arc<ConfigStore>,
        vault: Arc<KeyVault>,
        state: State,
        disks: Arc<dyn DiskOwnership>,
        sim_disks: Option<Arc<SimDiskSet>>,
        watchdog: Box<dyn Watchdog>,
        hard: HostHardware,
    ) -> Result<Self, crate::actions::vip::VipError> {
        let local = store.get().local.clone();
        let vips = match local.backends.vips {
            VipBackend::Netlink => Some(VipManager::new()?),
            VipBackend::Sim { .. } => None,
        };
        Ok(Self {
            state_path: local.state_file.clone(),
            local,
            store,
            vault,
            state: Mutex::new(state),
            disks,
            sim_disks,
            watchdog: Mutex::new(watchdog),
            hard,
            vips,
            io_allowed: Arc::new(AtomicBool::new(false)),
            io_changed: tokio::sync::Notify::new(),
            io_key: Mutex::new(None),
            pools_imported: AtomicU16::new(0),
            vips_up: AtomicBool::new(false),
        })
    }

    fn set_led(&self, on: bool) {
        if let Some(led) = &self.hard.led
            && let Err(e) = led.set(on)
        {
            tracing::warn!(on, error = %e, "status LED not set");
        }
    }

    fn me(&self) -> Controller {
        self.local.controller
    }

    /// Pools imported here now.
    pub fn pools_imported(&self) -> u16 {
        self.pools_imported.load(Ordering::Relaxed)
    }

    /// An orderly stop (SIGTERM): no more I/O, and the virtual IPs go with us, so that
    /// once the peer takes over it alone answers for them (a stopped daemon that left
    /// them configured would answer ARP beside the new active). The reservation stays:
    /// the peer's fence takes it. Then the watchdog is stopped cleanly.
    pub async fn shutdown(&self) {
        self.stop_io();
        if self.vips_up.load(Ordering::Acquire) {
            self.drop_vips().await;
            tracing::info!("virtual IPs removed on stop");
        }
        self.stop_watchdog();
    }

    /// Stop the watchdog cleanly (magic close) on an orderly shutdown.
    pub fn stop_watchdog(&self) {
        if let Ok(mut w) = self.watchdog.lock()
            && let Err(e) = w.stop()
        {
            tracing::warn!(error = %e, "watchdog did not stop cleanly");
        }
    }

    async fn store_state(&self, edit: impl FnOnce(&mut State)) -> bool {
        let snapshot = {
            let Ok(mut s) = self.state.lock() else { return false };
            edit(&mut s);
            *s
        };
        let path = self.state_path.clone();
        match tokio::task::spawn_blocking(move || state::store(&path, &snapshot)).await {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "state file not written");
                false
            }
            Err(e) => {
                tracing::error!(error = %e, "state file task failed");
                false
            }
        }
    }

    fn hook_context(&self, config: &Config, role: HookRole, epoch: u64, pool: &str) -> HookContext {
        HookContext {
            role,
            epoch,
            pool: pool.to_string(),
            virtual_hostname: config.shared.network.hostname_virtual.clone(),
            node: self.me().letter().to_string(),
        }
    }

    async fn run_pool_hooks(&self, role: HookRole, epoch: u64) -> bool {
        let config = self.store.get();
        let key = self.vault.key();
        let runs = config.shared.pools.iter().map(|p| {
            let argv = match role {
                HookRole::Import => p.import_hook.clone(),
                HookRole::Export => p.export_hook.clone(),
            };
            let spec = HookSpec { name: format!("{role} {}", p.name), argv, timeout: p.hook_timeout };
            let ctx = self.hook_context(&config, role, epoch, &p.name);
            // An encrypted pool's import hook gets the passphrase on stdin.
            let secret = (role == HookRole::Import && p.encrypted).then_some(key.as_ref()).flatten();
            if role == HookRole::Import && p.encrypted && secret.is_none() {
                tracing::warn!(
                    pool = %p.name,
                    "encrypted pool imported without its key (none held: `failoverctl unlock` is needed)"
                );
            }
            async move {
                let t0 = WallInstant::now();
                let r = run_hook(&spec, &ctx, secret.map(|s| s.expose())).await;
                match &r {
                    Ok(_) => tracing::info!(pool = %ctx.pool, %role, ms = t0.elapsed().as_millis() as u64, "pool hook done"),
                    Err(e) => tracing::error!(pool = %ctx.pool, %role, error = %e, "pool hook failed"),
                }
                r.is_ok()
            }
        });
        join_all(runs).await.into_iter().all(|ok| ok)
    }

    fn virtual_addresses(config: &Config) -> Vec<(String, Cidr)> {
        config
            .shared
            .interfaces
            .iter()
            .flat_map(|i| {
                i.virtual_addresses.iter().copied().map(|c| (i.name.clone(), c)).collect::<Vec<_>>()
            })
            .collect()
    }

    /// The shared configuration changed from `old` to `new`: while the VIPs are up here,
    /// remove those no longer configured and raise (and announce) the new ones. Pools
    /// added or removed are imported / exported at the next takeover / giveback.
    pub async fn config_changed(&self, old: &Config, new: &Config) {
        if !self.vips_up.load(Ordering::Acquire) {
            return;
        }
        let Some(m) = &self.vips else { return };
        let (before, after) = (Self::virtual_addresses(old), Self::virtual_addresses(new));
        for (iface, cidr) in before.iter().filter(|v| !after.contains(v)) {
            match m.remove(iface, *cidr).await {
                Ok(()) => tracing::info!(%iface, vip = %cidr.addr(), "VIP no longer configured: removed"),
                Err(e) => tracing::error!(error = %e, "VIP not removed"),
            }
        }
        for (iface, cidr) in after.iter().filter(|v| !before.contains(v)) {
            if let Err(e) = m.add(iface, *cidr).await {
                tracing::error!(error = %e, "VIP not raised");
                continue;
            }
            tracing::info!(%iface, vip = %cidr.addr(), "newly configured VIP raised");
            if let Err(e) = m.announce(iface, cidr.addr()).await {
                tracing::warn!(error = %e, "VIP not announced");
            }
        }
    }

    fn set_io_allowed(&self, allowed: bool) {
        self.io_allowed.store(allowed, Ordering::Release);
        self.io_changed.notify_one();
    }

    /// Start the simulated I/O workload (one record per period while I/O is allowed).
    pub fn spawn_sim_io(self: &Arc<Self>) {
        let Some(disks) = self.sim_disks.clone() else { return };
        let me = self.clone();
        tokio::spawn(async move {
            let mut n: u64 = 0;
            loop {
                tokio::time::sleep(SIM_IO_PERIOD).await;
                if !me.io_allowed.load(Ordering::Acquire) {
                    // A permit stored by a change since the load ends this at once.
                    me.io_changed.notified().await;
                    continue;
                }
                let Some(key) = me.io_key.lock().ok().and_then(|k| *k) else { continue };
                n += 1;
                let d = disks.clone();
                let payload = format!("{} epoch {} write {n}", me.me(), key.epoch());
                let r = tokio::task::spawn_blocking(move || d.append_record(key, &payload)).await;
                if let Ok(Err(e)) = r {
                    tracing::warn!(error = %e, "write refused");
                }
            }
        });
    }
}

impl Effects for LinuxEffects {
    async fn persist_epoch(&self, epoch: u64) -> bool {
        self.store_state(|s| s.epoch = s.epoch.max(epoch)).await
    }

    async fn record_fenced(&self, epoch: u64) {
        self.store_state(|s| s.fenced_marker = Some(epoch)).await;
    }

    async fn fence_and_reserve(&self, key: ReservationKey) -> FenceResult {
        let disks = self.disks.clone();
        let t0 = WallInstant::now();
        match tokio::task::spawn_blocking(move || disks.fence_and_reserve(key)).await {
            Ok(Ok(o)) => {
                tracing::info!(
                    key = %key,
                    result = ?o.result,
                    disks = o.disks_done,
                    of = o.disks_total,
                    ms = t0.elapsed().as_secs_f64() * 1e3,
                    "disk fence"
                );
                if o.result == FenceResult::Done
                    && let Ok(mut k) = self.io_key.lock()
                {
                    *k = Some(key);
                }
                o.result
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "disk fence failed");
                FenceResult::Failed
            }
            Err(e) => {
                tracing::error!(error = %e, "disk fence task failed");
                FenceResult::Failed
            }
        }
    }

    async fn import_pools(&self, epoch: u64) -> bool {
        // Once the fence is done the disks are ours: I/O may start with the import.
        self.set_io_allowed(true);
        let ok = self.run_pool_hooks(HookRole::Import, epoch).await;
        if ok {
            let n = u16::try_from(self.store.get().shared.pools.len()).unwrap_or(u16::MAX);
            self.pools_imported.store(n, Ordering::Relaxed);
        }
        ok
    }

    async fn raise_vips(&self, _epoch: u64) {
        self.vips_up.store(true, Ordering::Release);
        self.set_led(true);
        match (&self.local.backends.vips, &self.vips) {
            (VipBackend::Sim { path }, _) => {
                if let Err(e) = std::fs::write(path, self.me().letter().to_string()) {
                    tracing::error!(path = %path.display(), error = %e, "simulated VIP not raised");
                }
            }
            (VipBackend::Netlink, Some(m)) => {
                for (iface, cidr) in Self::virtual_addresses(&self.store.get()) {
                    if let Err(e) = m.add(&iface, cidr).await {
                        tracing::error!(error = %e, "VIP not raised");
                        continue;
                    }
                    if let Err(e) = m.announce(&iface, cidr.addr()).await {
                        tracing::warn!(error = %e, "VIP not announced");
                    }
                }
            }
            (VipBackend::Netlink, None) => {}
        }
    }

    async fn drop_vips(&self) {
        self.vips_up.store(false, Ordering::Release);
        self.set_led(false);
        match (&self.local.backends.vips, &self.vips) {
            (VipBackend::Sim { path }, _) => {
                let mine =
                    std::fs::read_to_string(path).is_ok_and(|s| s.trim() == self.me().letter().to_string());
                if mine {
                    let _ = std::fs::write(path, "");
                }
            }
            (VipBackend::Netlink, Some(m)) => {
                for (iface, cidr) in Self::virtual_addresses(&self.store.get()) {
                    if let Err(e) = m.remove(&iface, cidr).await {
                        tracing::error!(error = %e, "VIP not removed");
                    }
                }
            }
            (VipBackend::Netlink, None) => {}
        }
    }

    async fn export_pools(&self, epoch: u64) -> bool {
        self.set_io_allowed(false);
        let limit = Duration::from_millis(EXPORT_TIMEOUT_MS);
        let ok =
            tokio::time::timeout(limit, self.run_pool_hooks(HookRole::Export, epoch)).await.unwrap_or(false);
        if ok {
            self.pools_imported.store(0, Ordering::Relaxed);
        }
        ok
    }

    async fn release(&self, key: ReservationKey) {
        if let Ok(mut k) = self.io_key.lock() {
            *k = None;
        }
        let disks = self.disks.clone();
        match tokio::task::spawn_blocking(move || disks.release(key)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "release failed (the peer will preempt)"),
            Err(e) => tracing::error!(error = %e, "release task failed"),
        }
    }

    async fn check(&self, key: ReservationKey) -> bool {
        // One retry: a single transient error must not fence a healthy active (the
        // fence_scsi failure mode of a momentary key loss causing a reboot).
        for attempt in 0..2 {
            let disks = self.disks.clone();
            match tokio::task::spawn_blocking(move || disks.check(key)).await {
                Ok(Ok(held)) => return held,
                Ok(Err(e)) => tracing::warn!(attempt, error = %e, "reservation check failed"),
                Err(e) => tracing::warn!(attempt, error = %e, "reservation check task failed"),
            }
        }
        false
    }

    fn stop_io(&self) {
        self.set_io_allowed(false);
        if let Ok(mut k) = self.io_key.lock() {
            *k = None;
        }
    }

    fn kick_watchdog(&self) {
        if let Ok(mut w) = self.watchdog.lock()
            && let Err(e) = w.kick()
        {
            tracing::error!(error = %e, "watchdog kick failed");
        }
    }

    async fn peer_enclosure(&self, cut: bool) {
        let Some(enclosure) = self.hard.enclosure.clone() else {
            tracing::warn!(cut, "no enclosure fence configured: the peer's ports stay as they are");
            return;
        };
        let peer = self.me().peer();
        let t0 = WallInstant::now();
        let r = tokio::task::spawn_blocking(move || {
            if cut { enclosure.cut(peer) } else { enclosure.restore(peer) }?;
            enclosure.is_cut(peer)
        })
        .await;
        let ms = t0.elapsed().as_secs_f64() * 1e3;
        match r {
            Ok(Ok(now_cut)) if now_cut == cut => {
                tracing::info!(%peer, cut, ms, "peer's enclosure ports {}", if cut { "cut" } else { "given back" });
            }
            Ok(Ok(now_cut)) => tracing::error!(%peer, cut, now_cut, "enclosure readback disagrees"),
            Ok(Err(e)) => tracing::error!(%peer, cut, error = %e, "enclosure fence failed"),
            Err(e) => tracing::error!(%peer, cut, error = %e, "enclosure fence task failed"),
        }
    }

    async fn reset_peer(&self) {
        let Some(reset) = self.hard.peer_reset.clone() else {
            tracing::warn!("no peer reset configured: the peer host is not reset");
            return;
        };
        let peer = self.me().peer();
        match tokio::task::spawn_blocking(move || reset.reset(peer)).await {
            Ok(Ok(())) => tracing::info!(%peer, "peer host reset"),
            Ok(Err(e)) => tracing::error!(%peer, error = %e, "peer reset failed"),
            Err(e) => tracing::error!(%peer, error = %e, "peer reset task failed"),
        }
    }

    fn reboot(&self) {
        // With simulated backends a "reboot" ends the process (the demo and tests
        // restart it); on hardware it is an immediate kernel restart.
        let real = matches!(self.local.backends.watchdog, crate::config::WatchdogBackend::Device { .. });
        if real {
            // SAFETY: sync(2) and reboot(2) take no pointers; RB_AUTOBOOT restarts now.
            unsafe {
                libc::sync();
                libc::reboot(libc::RB_AUTOBOOT);
            }
        }
        std::process::exit(70);
    }
}
