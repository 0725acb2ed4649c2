//! Back from a [`Config`] to TOML (for config sync and for rewriting the file after a
//! sync), and the canonical encoding the shared digest is computed over.

use serde::Serialize;

use failover_core::wire::{Controller, Digest};

use super::raw::{
    RawApi, RawBmc, RawFailover, RawInterface, RawLink, RawNetwork, RawNode, RawPool, RawRealtime, RawUi,
};
use super::types::{
    Cidr, Config, DiskBackend, EnclosureBackend, LedBackend, PeerResetBackend, PoolConfig, SharedConfig,
    VipBackend, WatchdogBackend,
};

/// Domain and version of the canonical encoding: a change to the encoding must
/// change this, so two versions never compare digests of different encodings.
const DIGEST_DOMAIN: &[u8] = b"failoverd/shared-config/v1";

#[derive(Serialize)]
struct SharedOut {
    failover: RawFailover,
    network: RawNetwork,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    interfaces: Vec<RawInterface>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pools: Vec<RawPool>,
}

#[derive(Serialize)]
struct ConfigOut {
    node: RawNode,
    link: RawLink,
    #[serde(skip_serializing_if = "Option::is_none")]
    bmc: Option<RawBmc>,
    failover: RawFailover,
    realtime: RawRealtime,
    network: RawNetwork,
    backends: BackendsOut,
    api: RawApi,
    #[serde(skip_serializing_if = "Option::is_none")]
    ui: Option<RawUi>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    interfaces: Vec<RawInterface>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pools: Vec<RawPool>,
}

#[derive(Serialize)]
struct BackendsOut {
    disk: DiskOut,
    watchdog: WatchdogOut,
    enclosure: EnclosureOut,
    peer_reset: PeerResetOut,
    vips: VipsOut,
    led: LedOut,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum VipsOut {
    Netlink,
    Sim { path: String },
}

/// Serde's `skip_serializing_if` for keys whose default is `true`.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_true(b: &bool) -> bool {
    *b
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum DiskOut {
    Sim {
        path: String,
        disks: u32,
        #[serde(skip_serializing_if = "is_true")]
        workload: bool,
    },
    Scsi {
        devices: Vec<String>,
        preempt: &'static str,
    },
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum WatchdogOut {
    None,
    Sim { path: String, timeout_ms: u64 },
    Device { path: String, timeout_s: u32 },
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum EnclosureOut {
    None,
    Sim {
        path: String,
    },
    I2c {
        bus: String,
        address: u8,
    },
    Gpio {
        chip: String,
        peer_line: String,
        #[serde(skip_serializing_if = "is_false")]
        active_low: bool,
    },
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum PeerResetOut {
    None,
    Sim {
        path: String,
    },
    Gpio {
        chip: String,
        line: String,
        pulse_ms: u64,
        #[serde(skip_serializing_if = "is_false")]
        active_low: bool,
    },
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum LedOut {
    None,
    Gpio {
        chip: String,
        line: String,
        #[serde(skip_serializing_if = "is_false")]
        active_low: bool,
    },
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn path(p: &std::path::Path) -> String {
    // Every path came from a TOML string, so it is valid UTF-8.
    p.to_string_lossy().into_owned()
}

fn strings(list: &[Cidr]) -> Vec<String> {
    list.iter().map(ToString::to_string).collect()
}

fn shared_out(s: &SharedConfig) -> SharedOut {
    let f = &s.failover;
    SharedOut {
        failover: RawFailover {
            disabled: f.disabled,
            primary: f.primary.letter().to_string(),
            timeout_ms: f.timeout_ms as i64,
            heartbeat_interval_ms: f.heartbeat_interval_ms as i64,
            boot_listen_ms: f.boot_listen_ms as i64,
            reservation_check_ms: f.reservation_check_ms as i64,
            reset_peer_on_fence: f.reset_peer_on_fence,
        },
        network: RawNetwork {
            hostname_a: s.network.hostname_a.clone(),
            hostname_b: s.network.hostname_b.clone(),
            hostname_virtual: s.network.hostname_virtual.clone(),
        },
        interfaces: s
            .interfaces
            .iter()
            .map(|i| RawInterface {
                name: i.name.clone(),
                critical: i.critical,
                group: i.group.map(i64::from),
                vhid: i.vhid.map(i64::from),
                addresses_a: strings(&i.addresses_a),
                addresses_b: strings(&i.addresses_b),
                virtual_: strings(&i.virtual_addresses),
            })
            .collect(),
        pools: s
            .pools
            .iter()
            .map(|p| RawPool {
                name: p.name.clone(),
                import_hook: (p.import_hook != PoolConfig::default_import_hook(&p.name))
                    .then(|| p.import_hook.clone()),
                export_hook: (p.export_hook != PoolConfig::default_export_hook(&p.name))
                    .then(|| p.export_hook.clone()),
                hook_timeout_ms: p.hook_timeout.as_millis() as i64,
                encrypted: p.encrypted,
            })
            .collect(),
    }
}

fn to_string<T: Serialize>(v: &T) -> String {
    // Plain strings, booleans, small integers and arrays of tables: nothing here can
    // fail to serialize.
    toml::to_string(v).expect("a checked configuration always serializes to TOML")
}

/// The shared part as TOML.
pub(crate) fn shared_toml(s: &SharedConfig) -> String {
    to_string(&shared_out(s))
}

/// The whole configuration as TOML (comments are not kept).
pub(crate) fn config_toml(c: &Config) -> String {
    let l = &c.local;
    let b = &l.backends;
    let SharedOut { failover, network, interfaces, pools } = shared_out(&c.shared);
    let out = ConfigOut {
        node: RawNode { controller: l.controller.letter().to_string(), state_file: path(&l.state_file) },
        link: RawLink {
            local: l.link.local.to_string(),
            peer: l.link.peer.to_string(),
            interface: l.link.interface.clone(),
            key_file: path(&l.link.key_file),
        },
        bmc: l.bmc.as_ref().map(|m| RawBmc { serial: path(&m.serial), baud: i64::from(m.baud) }),
        failover,
        realtime: RawRealtime {
            priority: i64::from(l.realtime.priority),
            lock_memory: l.realtime.lock_memory,
        },
        network,
        backends: BackendsOut {
            disk: match &b.disk {
                DiskBackend::Sim { path: p, disks, workload } => {
                    DiskOut::Sim { path: path(p), disks: *disks, workload: *workload }
                }
                DiskBackend::Scsi { devices, preempt } => DiskOut::Scsi {
                    devices: devices.iter().map(|d| path(d)).collect(),
                    preempt: preempt.as_str(),
                },
            },
            watchdog: match &b.watchdog {
                WatchdogBackend::None => WatchdogOut::None,
                WatchdogBackend::Sim { path: p, timeout } => {
                    WatchdogOut::Sim { path: path(p), timeout_ms: timeout.as_millis() as u64 }
                }
                WatchdogBackend::Device { path: p, timeout_s } => {
                    WatchdogOut::Device { path: path(p), timeout_s: *timeout_s }
                }
            },
            enclosure: match &b.enclosure {
                EnclosureBackend::None => EnclosureOut::None,
                EnclosureBackend::Sim { path: p } => EnclosureOut::Sim { path: path(p) },
                EnclosureBackend::I2c { bus, address } => {
                    EnclosureOut::I2c { bus: path(bus), address: *address }
                }
                EnclosureBackend::Gpio { chip, peer_line, active_low } => EnclosureOut::Gpio {
                    chip: chip.clone(),
                    peer_line: peer_line.clone(),
                    active_low: *active_low,
                },
            },
            vips: match &b.vips {
                VipBackend::Netlink => VipsOut::Netlink,
                VipBackend::Sim { path: p } => VipsOut::Sim { path: path(p) },
            },
            peer_reset: match &b.peer_reset {
                PeerResetBackend::None => PeerResetOut::None,
                PeerResetBackend::Sim { path: p } => PeerResetOut::Sim { path: path(p) },
                PeerResetBackend::Gpio { chip, line, pulse, active_low } => PeerResetOut::Gpio {
                    chip: chip.clone(),
                    line: line.clone(),
                    pulse_ms: pulse.as_millis() as u64,
                    active_low: *active_low,
                },
            },
            led: match &b.led {
                LedBackend::None => LedOut::None,
                LedBackend::Gpio { chip, line, active_low } => {
                    LedOut::Gpio { chip: chip.clone(), line: line.clone(), active_low: *active_low }
                }
            },
        },
        api: RawApi { socket: path(&l.api.socket), tcp: l.api.tcp.map(|t| t.to_string()) },
        ui: l.ui.as_ref().map(|u| RawUi {
            listen: u.listen.to_string(),
            password_hash: u.password_hash.clone(),
            session_idle_minutes: (u.session_idle.as_secs() / 60) as i64,
            tls_cert: u.tls.as_ref().map(|t| path(&t.cert)),
            tls_key: u.tls.as_ref().map(|t| path(&t.key)),
        }),
        interfaces,
        pools,
    };
    to_string(&out)
}

/// A length-prefixed, tagged byte encoding: unambiguous, and independent of how any
/// TOML library formats or orders things.
struct Canon(Vec<u8>);

impl Canon {
    fn bytes(&mut self, b: &[u8]) {
        self.0.extend_from_slice(&(b.len() as u64).to_le_bytes());
        self.0.extend_from_slice(b);
    }
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn bool(&mut self, b: bool) {
        self.0.push(u8::from(b));
    }
    fn opt_u8(&mut self, v: Option<u8>) {
        match v {
            None => self.0.push(0),
            Some(v) => self.0.extend_from_slice(&[1, v]),
        }
    }
    fn strs<S: AsRef<str>>(&mut self, list: &[S]) {
        self.u64(list.len() as u64);
        for s in list {
            self.str(s.as_ref());
        }
    }
    fn controller(&mut self, c: Controller) {
        self.0.push(c.letter() as u8);
    }
}

/// The digest of the shared part's meaning: interfaces and pools are taken in name
/// order (their order in the file means nothing), addresses in their written order
/// (the n-th address of A, of B and the n-th virtual address go together) and in
/// canonical form (`fd00:0::1/64` and `fd00::1/64` are one address).
pub(crate) fn shared_digest(s: &SharedConfig) -> Digest {
    let mut c = Canon(Vec::with_capacity(512));
    c.bytes(DIGEST_DOMAIN);
    let f = &s.failover;
    c.str("failover");
    c.bool(f.disabled);
    c.controller(f.primary);
    c.u64(f.timeout_ms);
    c.u64(f.heartbeat_interval_ms);
    c.u64(f.boot_listen_ms);
    c.u64(f.reservation_check_ms);
    c.bool(f.reset_peer_on_fence);
    c.str("network");
    c.str(&s.network.hostname_a);
    c.str(&s.network.hostname_b);
    c.str(&s.network.hostname_virtual);
    c.str("interfaces");
    let mut interfaces: Vec<_> = s.interfaces.iter().collect();
    interfaces.sort_by(|a, b| a.name.cmp(&b.name));
    c.u64(interfaces.len() as u64);
    for i in interfaces {
        c.str(&i.name);
        c.bool(i.critical);
        c.opt_u8(i.group);
        c.opt_u8(i.vhid);
        c.strs(&strings(&i.addresses_a));
        c.strs(&strings(&i.addresses_b));
        c.strs(&strings(&i.virtual_addresses));
    }
    c.str("pools");
    let mut pools: Vec<_> = s.pools.iter().collect();
    pools.sort_by(|a, b| a.name.cmp(&b.name));
    c.u64(pools.len() as u64);
    for p in pools {
        c.str(&p.name);
        c.strs(&p.import_hook);
        c.strs(&p.export_hook);
        c.u64(p.hook_timeout.as_millis() as u64);
        c.bool(p.encrypted);
    }
    Digest::of(&c.0)
}
