//! [`ServiceControl`]: the management API's view of the running service.
//!
//! Edits of the shared configuration (settings, interfaces, host names) go through the
//! [`ConfigStore`]: written to the configuration file first, then in force everywhere
//! (the node's settings, the health reporter's digest, the effects), and pushed to the
//! standby by config sync when this controller is active (see [`super::sync`]).

use std::sync::Arc;

use crate::api::control::{ControlError, ControlPlane};
use crate::api::types::{
    EventJson, InterfaceJson, LastFailover, NetworkJson, PathState, PeerJson, SettingsJson, StatusJson,
    SyncJson, TakeoverJson, UnlockJson,
};
use crate::config::{Config, InterfaceConfig, SharedConfig};
use failover_core::node::{
    AdminCommand, AdminError, Path, PeerVerdict, Settings, SettingsError, TakeoverCause,
};
use failover_core::time::Duration;
use failover_core::wire::{Controller, Digest};

use super::escrow::{KeyVault, MAX_SECRET_LEN, Secret};
use super::executor::{EventCounts, EventLog};
use super::heartbeat::{NodeSender, NodeView};
use super::link_stats::PathCounters;
use super::store::{ConfigStore, EditError, hex_digest};
use super::sync::{Direction, ManualError, SyncService};

/// The service as the API sees it.
pub struct ServiceControl {
    node: NodeSender,
    store: Arc<ConfigStore>,
    sync: Arc<SyncService>,
    vault: Arc<KeyVault>,
    events: EventLog,
    /// Whether this controller holds the VIPs (for the interfaces view).
    vips_here: Arc<dyn Fn() -> bool + Send + Sync>,
}

impl std::fmt::Debug for ServiceControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceControl").finish_non_exhaustive()
    }
}

fn verdict_name(v: PeerVerdict) -> &'static str {
    match v {
        PeerVerdict::Unknown => "unknown",
        PeerVerdict::Alive => "alive",
        PeerVerdict::AliveViaBmcOnly => "alive_via_bmc_only",
        PeerVerdict::Silent => "silent",
        PeerVerdict::Hung => "hung",
        PeerVerdict::Dead => "dead",
    }
}

fn cause_name(c: TakeoverCause) -> &'static str {
    match c {
        TakeoverCause::PeerSilent => "peer_silent",
        TakeoverCause::PeerHung => "peer_hung",
        TakeoverCause::PeerDead => "peer_dead",
        TakeoverCause::Election => "election",
        TakeoverCause::Handover => "handover",
        TakeoverCause::Forced => "forced",
    }
}

fn ms(d: Option<Duration>) -> Option<f64> {
    d.map(|d| d.micros() as f64 / 1e3)
}

fn admin_error(e: AdminError) -> ControlError {
    match e {
        AdminError::BadSettings(s) => ControlError::BadRequest(settings_error(s)),
        other => ControlError::Conflict(other.to_string()),
    }
}

fn settings_error(e: SettingsError) -> String {
    match e {
        SettingsError::HeartbeatInterval => format!("heartbeat_interval_ms: {e}"),
        SettingsError::FailoverTimeout => format!("timeout_ms: {e}"),
    }
}

fn parse_controller(field: &str, s: &str) -> Result<Controller, ControlError> {
    match s {
        "A" | "a" => Ok(Controller::A),
        "B" | "b" => Ok(Controller::B),
        other => Err(ControlError::BadRequest(format!("{field}: `{other}` is not A or B"))),
    }
}

/// Whether encrypted pools are configured and no key is held for them.
pub fn passphrase_needed(shared: &SharedConfig, vault: &KeyVault) -> bool {
    shared.pools.iter().any(|p| p.encrypted) && !vault.holds_key()
}

fn edit_error(e: EditError<ControlError>) -> ControlError {
    match e {
        EditError::Refused(e) => e,
        e @ EditError::Persist { .. } => ControlError::Internal(e.to_string()),
    }
}

/// The status document for a node view.
pub fn status_json(
    view: &NodeView,
    hostname: &str,
    has_bmc: bool,
    passphrase_needed: bool,
    config_digest: Digest,
) -> StatusJson {
    let s = &view.status;
    let timeout = view.settings.failover_timeout;
    let path = |age: Option<Duration>| PathState {
        up: age.is_some_and(|a| a < timeout),
        last_seen_ms: age.map(|a| a.millis()),
    };
    StatusJson {
        node: view.controller.letter().to_string(),
        hostname: hostname.to_string(),
        status: s.status.name().to_string(),
        state: s.state.name().to_string(),
        epoch: s.epoch,
        disabled_reasons: s.disabled.iter().map(|r| r.name().to_string()).collect(),
        peer: PeerJson {
            verdict: verdict_name(s.peer).to_string(),
            status: s.peer_status.map(|p| p.name().to_string()),
            host_link: path(s.host_link_age),
            bmc_link: has_bmc.then(|| path(s.bmc_link_age)),
            config_digest: s.peer_config_digest.map(hex_digest),
        },
        last_failover: s.last_failover.map(|t| LastFailover {
            cause: cause_name(t.cause).to_string(),
            epoch: t.epoch,
            detect_ms: ms(t.detect()),
            fence_ms: ms(t.fence()),
            import_ms: ms(t.import()),
            total_ms: ms(t.total()),
        }),
        passphrase_needed,
        config_digest: hex_digest(config_digest),
    }
}

impl ServiceControl {
    /// The control plane for the service reachable through `node`, with its
    /// configuration in `store`, config sync in `sync` and the pool key in `vault`.
    pub fn new(
        node: NodeSender,
        store: Arc<ConfigStore>,
        sync: Arc<SyncService>,
        vault: Arc<KeyVault>,
        events: EventLog,
        vips_here: Arc<dyn Fn() -> bool + Send + Sync>,
    ) -> Self {
        Self { node, store, sync, vault, events, vips_here }
    }

    fn config(&self) -> Arc<Config> {
        self.store.get()
    }

    /// A snapshot of the node.
    pub async fn view(&self) -> Option<NodeView> {
        self.node.snapshot().await
    }

    async fn admin(&self, cmd: AdminCommand) -> Result<(), ControlError> {
        match self.node.admin(cmd).await {
            Some(r) => r.map_err(admin_error),
            None => Err(ControlError::Internal("the heartbeat thread is not running".into())),
        }
    }

    fn interface_json(&self, c: &Config, i: &InterfaceConfig) -> InterfaceJson {
        let me = c.local.controller;
        let fmt = |v: &[crate::config::Cidr]| v.iter().map(ToString::to_string).collect();
        let carrier = match c.local.backends.vips {
            crate::config::VipBackend::Sim { .. } => true,
            crate::config::VipBackend::Netlink => crate::actions::vip::has_carrier(&i.name).unwrap_or(false),
        };
        InterfaceJson {
            name: i.name.clone(),
            critical: i.critical,
            group: i.group,
            vhid: i.vhid,
            addresses: fmt(i.addresses(me)),
            peer_addresses: fmt(i.addresses(me.peer())),
            virtual_addresses: fmt(&i.virtual_addresses),
            state: if (self.vips_here)() { "MASTER" } else { "BACKUP" }.to_string(),
            carrier,
        }
    }
}

impl ControlPlane for ServiceControl {
    async fn status(&self) -> StatusJson {
        let c = self.config();
        let needed = passphrase_needed(&c.shared, &self.vault);
        match self.view().await {
            Some(v) => status_json(&v, c.hostname(), c.local.bmc.is_some(), needed, self.store.digest()),
            None => StatusJson {
                node: c.local.controller.letter().to_string(),
                hostname: c.hostname().to_string(),
                status: "ERROR".into(),
                state: "stopped".into(),
                epoch: 0,
                disabled_reasons: vec![],
                peer: PeerJson {
                    verdict: "unknown".into(),
                    status: None,
                    host_link: PathState { up: false, last_seen_ms: None },
                    bmc_link: None,
                    config_digest: None,
                },
                last_failover: None,
                passphrase_needed: needed,
                config_digest: hex_digest(self.store.digest()),
            },
        }
    }

    async fn settings(&self) -> SettingsJson {
        let s = match self.view().await {
            Some(v) => v.settings,
            None => self.config().shared.settings(),
        };
        SettingsJson {
            disabled: s.disabled,
            primary: s.primary.letter().to_string(),
            timeout_ms: s.failover_timeout.millis(),
            heartbeat_interval_ms: s.heartbeat_interval.millis(),
        }
    }

    async fn set_settings(&self, s: SettingsJson) -> Result<SettingsJson, ControlError> {
        let settings = Settings {
            disabled: s.disabled,
            primary: parse_controller("primary", &s.primary)?,
            failover_timeout: Duration::from_millis(s.timeout_ms),
            heartbeat_interval: Duration::from_millis(s.heartbeat_interval_ms),
        };
        settings.validate().map_err(|e| ControlError::BadRequest(settings_error(e)))?;
        // Check against the node's rules first (a refused value changes nothing).
        let current = self.config().shared.settings();
        self.admin(AdminCommand::SetSettings(settings)).await?;
        let edited = self
            .store
            .edit_shared(|c| {
                let f = &mut c.failover;
                f.disabled = settings.disabled;
                f.primary = settings.primary;
                f.timeout_ms = s.timeout_ms;
                f.heartbeat_interval_ms = s.heartbeat_interval_ms;
                Ok::<(), ControlError>(())
            })
            .await;
        if let Err(e) = edited {
            // Not saved: the node goes back to the settings in force.
            let _ = self.admin(AdminCommand::SetSettings(current)).await;
            return Err(edit_error(e));
        }
        Ok(self.settings().await)
    }

    async fn takeover(&self, t: TakeoverJson) -> Result<(), ControlError> {
        self.admin(if t.force { AdminCommand::ForceTakeover } else { AdminCommand::RequestTakeover }).await
    }

    async fn giveback(&self) -> Result<(), ControlError> {
        self.admin(AdminCommand::Giveback).await
    }

    async fn sync(&self, s: SyncJson) -> Result<(), ControlError> {
        let direction = match s.direction.as_str() {
            "to-peer" => Direction::ToPeer,
            "from-peer" => Direction::FromPeer,
            other => {
                return Err(ControlError::BadRequest(format!(
                    "direction: `{other}` is not to-peer or from-peer"
                )));
            }
        };
        self.sync.manual(direction).await.map_err(|e| match e {
            ManualError::PeerUnreachable => ControlError::Conflict(e.to_string()),
            ManualError::TooLarge | ManualError::Timeout(_) | ManualError::Stopped => {
                ControlError::Internal(e.to_string())
            }
        })
    }

    async fn interfaces(&self) -> Vec<InterfaceJson> {
        let c = self.config();
        c.shared.interfaces.iter().map(|i| self.interface_json(&c, i)).collect()
    }

    async fn set_interface(&self, i: InterfaceJson) -> Result<(), ControlError> {
        let disabled = self.settings().await.disabled;
        if !disabled {
            return Err(ControlError::Conflict(
                "interfaces cannot be edited while failover is enabled: disable failover first".into(),
            ));
        }
        if i.critical && i.group.is_none() {
            return Err(ControlError::BadRequest(
                "group: a critical interface needs a failover group".into(),
            ));
        }
        if i.vhid == Some(0) {
            return Err(ControlError::BadRequest("vhid: must be 1-255".into()));
        }
        let parse = |field: &str, v: &[String]| -> Result<Vec<crate::config::Cidr>, ControlError> {
            v.iter()
                .map(|a| {
                    a.parse().map_err(|_| {
                        ControlError::BadRequest(format!("{field}: `{a}` is not address/prefix"))
                    })
                })
                .collect()
        };
        let virt = parse("virtual_addresses", &i.virtual_addresses)?;
        self.store
            .edit_shared(|c| {
                let Some(iface) = c.interfaces.iter_mut().find(|x| x.name == i.name) else {
                    return Err(ControlError::BadRequest(format!(
                        "name: no interface `{}` is configured",
                        i.name
                    )));
                };
                iface.critical = i.critical;
                iface.group = i.group;
                iface.vhid = i.vhid;
                iface.virtual_addresses = virt;
                Ok(())
            })
            .await
            .map_err(edit_error)?;
        Ok(())
    }

    async fn network(&self) -> NetworkJson {
        let n = self.config().shared.network.clone();
        NetworkJson {
            hostname_a: n.hostname_a,
            hostname_b: n.hostname_b,
            hostname_virtual: n.hostname_virtual,
        }
    }

    async fn set_network(&self, n: NetworkJson) -> Result<NetworkJson, ControlError> {
        for (field, v) in [
            ("hostname_a", &n.hostname_a),
            ("hostname_b", &n.hostname_b),
            ("hostname_virtual", &n.hostname_virtual),
        ] {
            let ok = !v.is_empty()
                && v.len() <= 253
                && v.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && !l.starts_with('-')
                        && !l.ends_with('-')
                        && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                });
            if !ok {
                return Err(ControlError::BadRequest(format!(
                    "{field}: `{v}` is not a valid RFC 1123 host name"
                )));
            }
        }
        if n.hostname_a == n.hostname_b {
            return Err(ControlError::BadRequest("hostname_b: must differ from hostname_a".into()));
        }
        self.store
            .edit_shared(|c| {
                c.network.hostname_a = n.hostname_a;
                c.network.hostname_b = n.hostname_b;
                c.network.hostname_virtual = n.hostname_virtual;
                Ok::<(), ControlError>(())
            })
            .await
            .map_err(edit_error)?;
        Ok(self.network().await)
    }

    async fn unlock(&self, u: UnlockJson) -> Result<(), ControlError> {
        let bytes = u.passphrase.into_bytes();
        let secret = Secret::new(bytes);
        if secret.expose().is_empty() {
            return Err(ControlError::BadRequest("passphrase: must not be empty".into()));
        }
        if secret.expose().len() > MAX_SECRET_LEN {
            return Err(ControlError::BadRequest(format!("passphrase: longer than {MAX_SECRET_LEN} bytes")));
        }
        if !self.config().shared.pools.iter().any(|p| p.encrypted) {
            return Err(ControlError::Conflict("no pool is configured with `encrypted = true`".into()));
        }
        let changed = self.vault.set(secret);
        tracing::info!(changed, "pool passphrase set by an administrator (held in memory only)");
        // Escrow it to the peer now rather than at the next check.
        self.sync.wake();
        Ok(())
    }

    async fn events(&self) -> Vec<EventJson> {
        self.events.all().into_iter().map(|(at_ms, what)| EventJson { at_ms, what }).collect()
    }

    async fn metrics(&self) -> String {
        let Some(v) = self.view().await else { return String::new() };
        render_metrics(&v, &self.events.counts())
    }
}

/// A number of seconds for Prometheus (`NaN` when unknown).
fn seconds(d: Option<Duration>) -> String {
    d.map_or("NaN".into(), |a| format!("{:.6}", a.micros() as f64 / 1e6))
}

/// The Prometheus text (exposition format 0.0.4) for `/metrics`.
fn render_metrics(v: &NodeView, counts: &EventCounts) -> String {
    use std::fmt::Write as _;
    let s = &v.status;
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, samples: &[(&str, String)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    family(
        "failover_active",
        "gauge",
        "1 when this controller is active",
        &[("", u8::from(s.status.name() == "MASTER").to_string())],
    );
    family("failover_epoch", "gauge", "epoch held or highest seen", &[("", s.epoch.to_string())]);
    family(
        "failover_disabled_reasons",
        "gauge",
        "number of reasons failover is unavailable",
        &[("", s.disabled.iter().count().to_string())],
    );
    family(
        "failover_heartbeat_age_seconds",
        "gauge",
        "age of the last frame on each path (NaN: never)",
        &[("{path=\"host_link\"}", seconds(s.host_link_age)), ("{path=\"bmc\"}", seconds(s.bmc_link_age))],
    );
    let paths = [("host_link", Path::HostLink), ("bmc", Path::Local)];
    for (name, help, field) in [
        (
            "failover_frames_accepted_total",
            "frames authenticated and taken, per path",
            (|c: PathCounters| c.accepted) as fn(PathCounters) -> u64,
        ),
        ("failover_frames_rejected_total", "frames dropped as garbled, forged or replayed, per path", |c| {
            c.rejected
        }),
        ("failover_frames_lost_total", "frames missing from the peer's sequence (loss), per path", |c| {
            c.lost
        }),
    ] {
        let samples: Vec<(String, String)> = paths
            .iter()
            .map(|(label, p)| (format!("{{path=\"{label}\"}}"), field(v.links.get(*p)).to_string()))
            .collect();
        let samples: Vec<(&str, String)> = samples.iter().map(|(l, x)| (l.as_str(), x.clone())).collect();
        family(name, "counter", help, &samples);
    }
    family(
        "failover_link_errors_total",
        "counter",
        "frames the transports could not send or frame",
        &[("", v.link_errors.to_string())],
    );
    family(
        "failover_takeovers_total",
        "counter",
        "takeovers since the service started, by outcome",
        &[
            ("{outcome=\"started\"}", counts.takeovers_started.to_string()),
            ("{outcome=\"completed\"}", counts.takeovers_completed.to_string()),
            ("{outcome=\"failed\"}", counts.takeovers_failed.to_string()),
        ],
    );
    family(
        "failover_givebacks_total",
        "counter",
        "handovers to the peer started",
        &[("", counts.givebacks.to_string())],
    );
    family(
        "failover_fenced_total",
        "counter",
        "times this controller found itself fenced",
        &[("", counts.fenced.to_string())],
    );
    if let Some(t) = s.last_failover {
        family(
            "failover_last_takeover_seconds",
            "gauge",
            "the last takeover's phases: detection, fence, import, total",
            &[
                ("{phase=\"detect\"}", seconds(t.detect())),
                ("{phase=\"fence\"}", seconds(t.fence())),
                ("{phase=\"import\"}", seconds(t.import())),
                ("{phase=\"total\"}", seconds(t.total())),
            ],
        );
    }
    out
}
