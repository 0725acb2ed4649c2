//! From TOML text to a checked [`Config`], collecting every problem on the way.
//!
//! Each section, each `[[interfaces]]` / `[[pools]]` entry and each backend is
//! deserialized on its own, so one malformed entry does not hide the problems of the
//! others; then every value is checked. Nothing is returned unless nothing was wrong.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;

use failover_core::node::{MAX_FAILOVER_TIMEOUT_MS, MAX_HEARTBEAT_INTERVAL_MS, Settings, SettingsError};
use failover_core::time::Duration as CoreDuration;
use failover_core::wire::{Controller, MAX_GROUPS};

use super::error::{ConfigError, ConfigErrors, HostnameProblem, Reason};
use super::raw::{
    RawApi, RawBackends, RawBmc, RawDeviceWatchdog, RawFailover, RawGpioFence, RawGpioLine, RawGpioReset,
    RawI2c, RawInterface, RawLink, RawNetwork, RawNode, RawNone, RawPool, RawRealtime, RawScsiDisk,
    RawSimDisk, RawSimPath, RawSimWatchdog, RawUi,
};
use super::types::{
    ApiConfig, Backends, BmcConfig, Cidr, Config, DiskBackend, EnclosureBackend, FailoverConfig,
    InterfaceConfig, LedBackend, LinkConfig, LinkKey, LocalConfig, NetworkConfig, PeerResetBackend,
    PoolConfig, PreemptMode, RealtimeConfig, SharedConfig, TlsFiles, UiConfig, VipBackend, WatchdogBackend,
};

/// The sections of a controller's file.
pub(crate) const SECTIONS: [&str; 11] = [
    "node",
    "link",
    "bmc",
    "failover",
    "realtime",
    "network",
    "interfaces",
    "pools",
    "backends",
    "api",
    "ui",
];
/// The sections of the shared part.
pub(crate) const SHARED_SECTIONS: [&str; 4] = ["failover", "network", "interfaces", "pools"];

/// Longest web UI session idle time accepted: a day (a session left open longer is
/// one somebody forgot).
pub(crate) const MAX_UI_SESSION_IDLE_MINUTES: i64 = 1_440;
/// Longest hook timeout accepted: 10 minutes.
pub(crate) const MAX_HOOK_TIMEOUT_MS: i64 = 600_000;
/// Longest boot listening time accepted: 10 minutes.
pub(crate) const MAX_BOOT_LISTEN_MS: i64 = 600_000;
/// Longest reservation check period accepted: 60 s (the reference re-registers every
/// 5 s; anything slower leaves a fenced active writing for too long).
pub(crate) const MAX_RESERVATION_CHECK_MS: i64 = 60_000;
/// Most simulated disks.
pub(crate) const MAX_SIM_DISKS: i64 = 1024;
/// Longest simulated watchdog timeout: 10 minutes.
pub(crate) const MAX_SIM_WATCHDOG_MS: i64 = 600_000;
/// Longest device watchdog timeout: the kernel API's limit (softdog refuses more).
pub(crate) const MAX_DEVICE_WATCHDOG_S: i64 = 65_535;
/// Longest peer reset pulse: 10 s (a reset that needs longer is a power cycle).
pub(crate) const MAX_RESET_PULSE_MS: i64 = 10_000;

/// Serial speeds Linux can set with termios.
const BAUD_RATES: [i64; 22] = [
    1200, 1800, 2400, 4800, 9600, 19200, 38400, 57600, 115_200, 230_400, 460_800, 500_000, 576_000, 921_600,
    1_000_000, 1_152_000, 1_500_000, 2_000_000, 2_500_000, 3_000_000, 3_500_000, 4_000_000,
];

/// Collects problems for one file.
pub(crate) struct Ctx {
    file: PathBuf,
    errors: Vec<ConfigError>,
    /// Read the files the configuration names: the key file (`link.key_file`) and the
    /// UI's certificate and key ([`super::load`] does, [`super::parse`] does not).
    read_key: bool,
}

impl Ctx {
    pub(crate) fn new(file: &Path, read_key: bool) -> Self {
        Self { file: file.to_owned(), errors: Vec::new(), read_key }
    }

    pub(crate) fn err(&mut self, key: impl Into<String>, reason: Reason) {
        self.errors.push(ConfigError { file: self.file.clone(), key: key.into(), reason });
    }

    /// `Ok(v)` if nothing was reported, else every problem.
    pub(crate) fn finish<T>(self, v: Option<T>) -> Result<T, ConfigErrors> {
        match v {
            Some(v) if self.errors.is_empty() => Ok(v),
            // A `None` always comes with a reported problem; keep the fallback honest anyway.
            _ if self.errors.is_empty() => Err(ConfigErrors(vec![ConfigError {
                file: self.file,
                key: String::new(),
                reason: Reason::Missing,
            }])),
            _ => Err(ConfigErrors(self.errors)),
        }
    }

    /// Deserialize `value` (found at `key`) into `T`, reporting a failure at the
    /// exact key: serde's path inside the value is appended to `key`.
    fn de<T: DeserializeOwned>(&mut self, key: &str, value: toml::Value) -> Option<T> {
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(v) => Some(v),
            Err(e) => {
                let path = e.path().to_string();
                let inner = e.into_inner();
                let message = inner.message().trim().to_owned();
                let mut full = join(key, &path);
                let reason = if let Some(field) = quoted_after(&message, "missing field `") {
                    full = join(&full, field);
                    Reason::Missing
                } else if message.starts_with("unknown field `") {
                    // "unknown field `x`, expected one of `a`, `b`" / "expected `a`" /
                    // "there are no fields".
                    let expected = message.split_once(", expected ").map_or("", |(_, e)| e);
                    let expected = expected.strip_prefix("one of ").unwrap_or(expected);
                    Reason::UnknownKey { expected: expected.to_owned() }
                } else {
                    Reason::WrongType { message: tidy(message) }
                };
                self.err(full, reason);
                None
            }
        }
    }

    /// Deserialize an optional section, `T::default()` when absent.
    fn section_or_default<T: DeserializeOwned + Default>(
        &mut self,
        t: &mut toml::Table,
        key: &str,
    ) -> Option<T> {
        match t.remove(key) {
            Some(v) => self.de(key, v),
            None => Some(T::default()),
        }
    }

    /// Deserialize a required section.
    fn section<T: DeserializeOwned>(&mut self, t: &mut toml::Table, key: &str) -> Option<T> {
        match t.remove(key) {
            Some(v) => self.de(key, v),
            None => {
                self.err(key, Reason::Missing);
                None
            }
        }
    }

    /// Deserialize an array of tables entry by entry.
    fn array<T: DeserializeOwned>(&mut self, t: &mut toml::Table, key: &str) -> Vec<Option<T>> {
        match t.remove(key) {
            None => Vec::new(),
            Some(toml::Value::Array(items)) => {
                items.into_iter().enumerate().map(|(i, v)| self.de(&format!("{key}[{i}]"), v)).collect()
            }
            Some(other) => {
                let message = format!("invalid type: {}, expected an array of tables", other.type_str());
                self.err(key, Reason::WrongType { message });
                vec![None]
            }
        }
    }

    /// Report every key left in `t` as unknown; `known` lists the accepted ones.
    pub(crate) fn leftovers(&mut self, t: toml::Table, known: &[&str]) {
        let expected = known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
        for key in t.keys() {
            self.err(key.clone(), Reason::UnknownKey { expected: expected.clone() });
        }
    }

    fn range(&mut self, key: impl Into<String>, found: i64, min: i64, max: i64) -> Option<i64> {
        if (min..=max).contains(&found) {
            Some(found)
        } else {
            self.err(key, Reason::OutOfRange { found, min, max });
            None
        }
    }

    fn controller(&mut self, key: &str, s: &str) -> Option<Controller> {
        match s {
            "A" => Some(Controller::A),
            "B" => Some(Controller::B),
            _ => {
                self.err(key, Reason::Controller { found: s.to_owned() });
                None
            }
        }
    }

    fn socket(&mut self, key: &str, s: &str) -> Option<SocketAddr> {
        match s.parse::<SocketAddr>() {
            Ok(a) if a.port() == 0 => {
                self.err(key, Reason::PortZero);
                None
            }
            Ok(a) => Some(a),
            Err(_) => {
                self.err(key, Reason::SocketAddr { found: s.to_owned() });
                None
            }
        }
    }

    fn non_empty(&mut self, key: &str, s: &str) -> Option<String> {
        if s.is_empty() {
            self.err(key, Reason::Empty);
            None
        } else {
            Some(s.to_owned())
        }
    }

    fn path(&mut self, key: &str, s: &str) -> Option<PathBuf> {
        self.non_empty(key, s).map(PathBuf::from)
    }

    fn hostname(&mut self, key: &str, s: &str) -> Option<String> {
        match check_hostname(s) {
            Ok(()) => Some(s.to_owned()),
            Err(problem) => {
                self.err(key, Reason::Hostname { found: s.to_owned(), problem });
                None
            }
        }
    }

    fn ifname(&mut self, key: &str, s: &str) -> Option<String> {
        if s.is_empty() {
            self.err(key, Reason::Empty);
            None
        } else if !is_ifname(s) {
            self.err(key, Reason::InterfaceName { found: s.to_owned() });
            None
        } else {
            Some(s.to_owned())
        }
    }

    fn prefixes(&mut self, key: &str, list: &[String]) -> Option<Vec<Cidr>> {
        let mut out = Vec::with_capacity(list.len());
        let mut ok = true;
        for (j, s) in list.iter().enumerate() {
            match parse_prefixed(s) {
                Some(p) => out.push(p),
                None => {
                    self.err(format!("{key}[{j}]"), Reason::Address { found: s.clone() });
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    fn hook(&mut self, key: &str, argv: Option<Vec<String>>, default: Vec<String>) -> Option<Vec<String>> {
        let Some(argv) = argv else { return Some(default) };
        match argv.first() {
            None => {
                self.err(key, Reason::Empty);
                None
            }
            Some(p) if p.is_empty() => {
                self.err(format!("{key}[0]"), Reason::Empty);
                None
            }
            Some(_) => Some(argv),
        }
    }
}

/// Serde's wording for the administrator: the raw types read numbers as `i64` and
/// tables into internal structs.
fn tidy(mut message: String) -> String {
    message = message.replace("expected i64", "expected an integer");
    if let Some(i) = message.find("expected struct Raw") {
        message.truncate(i);
        message.push_str("expected a table");
    }
    message
}

fn join(key: &str, path: &str) -> String {
    match path {
        "" | "." => key.to_owned(),
        p if key.is_empty() => p.to_owned(),
        p if p.starts_with('[') => format!("{key}{p}"),
        p => format!("{key}.{p}"),
    }
}

/// The text between `prefix` and the next backquote, if `message` starts with `prefix`.
fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    message.strip_prefix(prefix)?.split('`').next()
}

/// RFC 1123 host name, lowercase: labels of 1-63 characters of `[a-z0-9-]`, not
/// starting or ending with `-`, separated by dots; at most 253 characters.
pub(crate) fn check_hostname(s: &str) -> Result<(), HostnameProblem> {
    if s.is_empty() || s.len() > 253 {
        return Err(HostnameProblem::Length);
    }
    if !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.') {
        return Err(HostnameProblem::Character);
    }
    for label in s.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(HostnameProblem::LabelLength);
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(HostnameProblem::Hyphen);
        }
    }
    Ok(())
}

/// A name the kernel accepts for a network device (`dev_valid_name`): 1-15 bytes,
/// not `.` or `..`, no `/`, `:` or whitespace.
fn is_ifname(s: &str) -> bool {
    (1..=15).contains(&s.len())
        && s != "."
        && s != ".."
        && s.bytes().all(|b| b.is_ascii_graphic() && b != b'/' && b != b':')
}

/// A ZFS pool name: a letter, then letters, digits, `_`, `-`, `.`, `:`.
fn is_pool_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    s.len() <= 255
        && bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

/// Parse the text into a TOML table, reporting a syntax error.
pub(crate) fn table(ctx: &mut Ctx, text: &str) -> Option<toml::Table> {
    match text.parse::<toml::Table>() {
        Ok(t) => Some(t),
        Err(e) => {
            let (line, column) = e.span().map_or((1, 1), |s| line_column(text, s.start));
            let message = e.message().trim().replace('\n', "; ");
            ctx.err("", Reason::Syntax { line, column, message });
            None
        }
    }
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
    let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
    (line, column)
}

/// The whole file.
pub(crate) fn config(ctx: &mut Ctx, mut t: toml::Table) -> Option<Config> {
    let local = local(ctx, &mut t);
    let shared = shared(ctx, &mut t);
    ctx.leftovers(t, &SECTIONS);
    Some(Config { local: local?, shared: shared? })
}

/// The shared sections, removed from `t`.
pub(crate) fn shared(ctx: &mut Ctx, t: &mut toml::Table) -> Option<SharedConfig> {
    let failover = ctx.section_or_default::<RawFailover>(t, "failover").and_then(|f| failover(ctx, f));
    let network = ctx.section::<RawNetwork>(t, "network").and_then(|n| network(ctx, n));
    let interfaces = ctx.array::<RawInterface>(t, "interfaces");
    let interfaces = self::interfaces(ctx, interfaces);
    let pools = ctx.array::<RawPool>(t, "pools");
    let pools = self::pools(ctx, pools);
    Some(SharedConfig { failover: failover?, network: network?, interfaces: interfaces?, pools: pools? })
}

fn failover(ctx: &mut Ctx, f: RawFailover) -> Option<FailoverConfig> {
    let primary = ctx.controller("failover.primary", &f.primary);
    let timeout = ctx.range("failover.timeout_ms", f.timeout_ms, 0, MAX_FAILOVER_TIMEOUT_MS as i64);
    let heartbeat = ctx.range(
        "failover.heartbeat_interval_ms",
        f.heartbeat_interval_ms,
        0,
        MAX_HEARTBEAT_INTERVAL_MS as i64,
    );
    let boot_listen = ctx.range("failover.boot_listen_ms", f.boot_listen_ms, 0, MAX_BOOT_LISTEN_MS);
    let check =
        ctx.range("failover.reservation_check_ms", f.reservation_check_ms, 1, MAX_RESERVATION_CHECK_MS);
    let (Some(timeout), Some(heartbeat)) = (timeout, heartbeat) else { return None };
    let cfg = FailoverConfig {
        disabled: f.disabled,
        // Checked above; the placeholder only lets the timings be checked too.
        primary: primary.unwrap_or(Controller::A),
        timeout_ms: timeout as u64,
        heartbeat_interval_ms: heartbeat as u64,
        boot_listen_ms: boot_listen.unwrap_or(i64::MAX) as u64,
        reservation_check_ms: check.unwrap_or(1) as u64,
        reset_peer_on_fence: f.reset_peer_on_fence,
    };
    let mut ok = primary.is_some() && boot_listen.is_some() && check.is_some();
    if let Err(e) = settings(&cfg).validate() {
        let key = match e {
            SettingsError::HeartbeatInterval => "failover.heartbeat_interval_ms",
            SettingsError::FailoverTimeout => "failover.timeout_ms",
        };
        ctx.err(key, Reason::Settings(e));
        ok = false;
    }
    if cfg.boot_listen_ms < cfg.timeout_ms {
        ctx.err(
            "failover.boot_listen_ms",
            Reason::BootListenTooShort { found: cfg.boot_listen_ms, timeout_ms: cfg.timeout_ms },
        );
        ok = false;
    }
    ok.then_some(cfg)
}

/// The core's settings from the failover section.
pub(crate) fn settings(f: &FailoverConfig) -> Settings {
    Settings {
        disabled: f.disabled,
        primary: f.primary,
        failover_timeout: CoreDuration::from_millis(f.timeout_ms),
        heartbeat_interval: CoreDuration::from_millis(f.heartbeat_interval_ms),
    }
}

fn network(ctx: &mut Ctx, n: RawNetwork) -> Option<NetworkConfig> {
    let a = ctx.hostname("network.hostname_a", &n.hostname_a);
    let b = ctx.hostname("network.hostname_b", &n.hostname_b);
    let v = ctx.hostname("network.hostname_virtual", &n.hostname_virtual);
    let (a, b) = (a?, b?);
    if a == b {
        ctx.err("network.hostname_b", Reason::SameHostname { name: b });
        return None;
    }
    Some(NetworkConfig { hostname_a: a, hostname_b: b, hostname_virtual: v? })
}

fn interfaces(ctx: &mut Ctx, raws: Vec<Option<RawInterface>>) -> Option<Vec<InterfaceConfig>> {
    let mut out = Vec::with_capacity(raws.len());
    let mut ok = true;
    let mut names: HashMap<String, String> = HashMap::new();
    let mut vhids: HashMap<i64, String> = HashMap::new();
    let mut addrs: HashMap<std::net::IpAddr, String> = HashMap::new();
    let mut critical_groups = BTreeSet::new();
    for (i, raw) in raws.into_iter().enumerate() {
        let Some(r) = raw else {
            ok = false;
            continue;
        };
        let k = format!("interfaces[{i}]");
        let name = ctx.ifname(&format!("{k}.name"), &r.name);
        if let Some(n) = &name {
            if let Some(other) = names.get(n) {
                ctx.err(format!("{k}.name"), Reason::Duplicate { value: n.clone(), other: other.clone() });
                ok = false;
            } else {
                names.insert(n.clone(), format!("{k}.name"));
            }
        }
        let group = match r.group {
            Some(g) => ctx.range(format!("{k}.group"), g, 1, 255).map(|g| Some(g as u8)),
            None if r.critical => {
                ctx.err(format!("{k}.group"), Reason::CriticalWithoutGroup);
                None
            }
            None => Some(None),
        };
        if r.critical
            && let Some(Some(g)) = group
        {
            critical_groups.insert(g);
        }
        let vhid = match r.vhid {
            Some(v) => ctx.range(format!("{k}.vhid"), v, 1, 255).and_then(|v| {
                if let Some(other) = vhids.get(&v) {
                    ctx.err(
                        format!("{k}.vhid"),
                        Reason::Duplicate { value: v.to_string(), other: other.clone() },
                    );
                    None
                } else {
                    vhids.insert(v, format!("{k}.vhid"));
                    Some(Some(v as u8))
                }
            }),
            None if !r.virtual_.is_empty() => {
                ctx.err(format!("{k}.vhid"), Reason::VirtualWithoutVhid);
                None
            }
            None => Some(None),
        };
        let a = ctx.prefixes(&format!("{k}.addresses_a"), &r.addresses_a);
        let b = ctx.prefixes(&format!("{k}.addresses_b"), &r.addresses_b);
        let v = ctx.prefixes(&format!("{k}.virtual"), &r.virtual_);
        let (la, lb, lv) = (r.addresses_a.len(), r.addresses_b.len(), r.virtual_.len());
        // Every virtual address pairs with one address of each controller. An interface
        // without virtual addresses (management, say) only needs A and B to match.
        let mut counts_ok = true;
        if la != lb || (lv != 0 && la != lv) {
            ctx.err(
                k.clone(),
                Reason::AddressCounts { interface: r.name.clone(), a: la, b: lb, virtual_: lv },
            );
            counts_ok = false;
        }
        // Every address (of A, of B, virtual) is unique across all interfaces: two
        // hosts or a host and a VIP sharing an address is a copy-paste mistake that
        // would break the network the moment both are up.
        let mut addrs_ok = true;
        for (list, field) in [(&a, "addresses_a"), (&b, "addresses_b"), (&v, "virtual")] {
            for (j, p) in list.iter().flatten().enumerate() {
                let here = format!("{k}.{field}[{j}]");
                if let Some(other) = addrs.get(&p.addr()) {
                    ctx.err(here, Reason::Duplicate { value: p.addr().to_string(), other: other.clone() });
                    addrs_ok = false;
                } else {
                    addrs.insert(p.addr(), here);
                }
            }
        }
        match (name, group, vhid, a, b, v) {
            (Some(name), Some(group), Some(vhid), Some(a), Some(b), Some(v)) if counts_ok && addrs_ok => {
                out.push(InterfaceConfig {
                    name,
                    critical: r.critical,
                    group,
                    vhid,
                    addresses_a: a,
                    addresses_b: b,
                    virtual_addresses: v,
                });
            }
            _ => ok = false,
        }
    }
    if critical_groups.len() > MAX_GROUPS {
        ctx.err("interfaces", Reason::TooManyGroups { found: critical_groups.len(), max: MAX_GROUPS });
        ok = false;
    }
    ok.then_some(out)
}

fn pools(ctx: &mut Ctx, raws: Vec<Option<RawPool>>) -> Option<Vec<PoolConfig>> {
    let mut out = Vec::with_capacity(raws.len());
    let mut ok = true;
    let mut names: HashMap<String, String> = HashMap::new();
    for (i, raw) in raws.into_iter().enumerate() {
        let Some(r) = raw else {
            ok = false;
            continue;
        };
        let k = format!("pools[{i}]");
        let name = if r.name.is_empty() {
            ctx.err(format!("{k}.name"), Reason::Empty);
            None
        } else if !is_pool_name(&r.name) {
            ctx.err(format!("{k}.name"), Reason::PoolName { found: r.name.clone() });
            None
        } else if let Some(other) = names.get(&r.name) {
            ctx.err(format!("{k}.name"), Reason::Duplicate { value: r.name.clone(), other: other.clone() });
            None
        } else {
            names.insert(r.name.clone(), format!("{k}.name"));
            Some(r.name.clone())
        };
        let import =
            ctx.hook(&format!("{k}.import_hook"), r.import_hook, PoolConfig::default_import_hook(&r.name));
        let export =
            ctx.hook(&format!("{k}.export_hook"), r.export_hook, PoolConfig::default_export_hook(&r.name));
        let timeout = ctx.range(format!("{k}.hook_timeout_ms"), r.hook_timeout_ms, 1, MAX_HOOK_TIMEOUT_MS);
        match (name, import, export, timeout) {
            (Some(name), Some(import_hook), Some(export_hook), Some(t)) => out.push(PoolConfig {
                name,
                import_hook,
                export_hook,
                hook_timeout: Duration::from_millis(t as u64),
                encrypted: r.encrypted,
            }),
            _ => ok = false,
        }
    }
    ok.then_some(out)
}

/// The local sections, removed from `t`.
fn local(ctx: &mut Ctx, t: &mut toml::Table) -> Option<LocalConfig> {
    let node = ctx.section::<RawNode>(t, "node");
    let (controller, state_file) = match node {
        Some(n) => {
            (ctx.controller("node.controller", &n.controller), ctx.path("node.state_file", &n.state_file))
        }
        None => (None, None),
    };
    let link = ctx.section::<RawLink>(t, "link").and_then(|l| link(ctx, l));
    let bmc = match t.remove("bmc") {
        None => Some(None),
        Some(v) => ctx.de::<RawBmc>("bmc", v).and_then(|b| {
            let serial = ctx.path("bmc.serial", &b.serial);
            let baud = if BAUD_RATES.contains(&b.baud) {
                Some(b.baud as u32)
            } else {
                ctx.err("bmc.baud", Reason::Baud { found: b.baud });
                None
            };
            Some(Some(BmcConfig { serial: serial?, baud: baud? }))
        }),
    };
    let realtime = ctx.section_or_default::<RawRealtime>(t, "realtime").and_then(|r| {
        let priority = ctx.range("realtime.priority", r.priority, 1, 99)?;
        Some(RealtimeConfig { priority: priority as u8, lock_memory: r.lock_memory })
    });
    let backends = ctx.section::<RawBackends>(t, "backends").and_then(|b| backends(ctx, b));
    let api = ctx.section_or_default::<RawApi>(t, "api").and_then(|a| {
        let socket = ctx.path("api.socket", &a.socket);
        let tcp = match &a.tcp {
            Some(s) => ctx.socket("api.tcp", s).map(Some),
            None => Some(None),
        };
        Some(ApiConfig { socket: socket?, tcp: tcp? })
    });
    let ui = match t.remove("ui") {
        None => Some(None),
        Some(v) => ctx.de::<RawUi>("ui", v).and_then(|u| ui(ctx, u)).map(Some),
    };
    Some(LocalConfig {
        controller: controller?,
        state_file: state_file?,
        link: link?,
        bmc: bmc?,
        realtime: realtime?,
        backends: backends?,
        api: api?,
        ui: ui?,
    })
}

fn ui(ctx: &mut Ctx, u: RawUi) -> Option<UiConfig> {
    let listen = ctx.socket("ui.listen", &u.listen);
    let hash = match crate::ui::password::check_phc(&u.password_hash) {
        Ok(()) => Some(u.password_hash.clone()),
        Err(problem) => {
            ctx.err("ui.password_hash", Reason::PasswordHash { problem });
            None
        }
    };
    let idle = ctx.range("ui.session_idle_minutes", u.session_idle_minutes, 1, MAX_UI_SESSION_IDLE_MINUTES);
    let cert = u.tls_cert.as_deref().map(|c| ctx.path("ui.tls_cert", c));
    let key = u.tls_key.as_deref().map(|k| ctx.path("ui.tls_key", k));
    let tls = match (cert, key) {
        (None, None) => Some(None),
        (Some(_), None) => {
            ctx.err("ui.tls_key", Reason::RequiredWith { other: "ui.tls_cert" });
            None
        }
        (None, Some(_)) => {
            ctx.err("ui.tls_cert", Reason::RequiredWith { other: "ui.tls_key" });
            None
        }
        (Some(cert), Some(key)) => {
            let files = TlsFiles { cert: cert?, key: key? };
            if ctx.read_key
                && let Err(e) = crate::ui::tls::server_config(&files)
            {
                let key = match e.file {
                    crate::ui::tls::TlsFile::Cert => "ui.tls_cert",
                    crate::ui::tls::TlsFile::Key => "ui.tls_key",
                };
                ctx.err(key, Reason::Tls { path: e.path, problem: e.problem });
                return None;
            }
            Some(Some(files))
        }
    };
    Some(UiConfig {
        listen: listen?,
        password_hash: hash?,
        session_idle: Duration::from_secs(idle? as u64 * 60),
        tls: tls?,
    })
}

fn link(ctx: &mut Ctx, l: RawLink) -> Option<LinkConfig> {
    let local = ctx.socket("link.local", &l.local);
    let peer = ctx.socket("link.peer", &l.peer);
    let interface = match &l.interface {
        Some(i) => ctx.ifname("link.interface", i).map(Some),
        None => Some(None),
    };
    let key_file = ctx.path("link.key_file", &l.key_file);
    let key = match &key_file {
        Some(path) if ctx.read_key => match LinkKey::read(path) {
            Ok(k) => Some(Some(k)),
            Err(reason) => {
                ctx.err("link.key_file", reason);
                None
            }
        },
        _ => Some(None),
    };
    let (local, peer) = (local?, peer?);
    if local == peer {
        ctx.err("link.peer", Reason::SameAddress { addr: peer });
        return None;
    }
    Some(LinkConfig { local, peer, interface: interface?, key_file: key_file?, key: key? })
}

/// Split a backend table into its `kind` and the rest.
fn kind(ctx: &mut Ctx, key: &str, mut t: toml::Table) -> Option<(String, toml::Value)> {
    match t.remove("kind") {
        Some(toml::Value::String(k)) => Some((k, toml::Value::Table(t))),
        Some(other) => {
            let message = format!("invalid type: {}, expected a string", other.type_str());
            ctx.err(format!("{key}.kind"), Reason::WrongType { message });
            None
        }
        None => {
            ctx.err(format!("{key}.kind"), Reason::Missing);
            None
        }
    }
}

fn unknown_kind<T>(ctx: &mut Ctx, key: &str, found: String, expected: &'static str) -> Option<T> {
    ctx.err(format!("{key}.kind"), Reason::UnknownKind { found, expected });
    None
}

fn backends(ctx: &mut Ctx, b: RawBackends) -> Option<Backends> {
    let disk = match b.disk {
        None => {
            ctx.err("backends.disk", Reason::Missing);
            None
        }
        Some(t) => disk(ctx, t),
    };
    let watchdog = match b.watchdog {
        None => Some(WatchdogBackend::None),
        Some(t) => watchdog(ctx, t),
    };
    let enclosure = match b.enclosure {
        None => Some(EnclosureBackend::None),
        Some(t) => enclosure(ctx, t),
    };
    let peer_reset = match b.peer_reset {
        None => Some(PeerResetBackend::None),
        Some(t) => peer_reset(ctx, t),
    };
    let vips = match b.vips {
        None => Some(VipBackend::Netlink),
        Some(t) => vips(ctx, t),
    };
    let led = match b.led {
        None => Some(LedBackend::None),
        Some(t) => led(ctx, t),
    };
    Some(Backends {
        disk: disk?,
        watchdog: watchdog?,
        enclosure: enclosure?,
        peer_reset: peer_reset?,
        vips: vips?,
        led: led?,
    })
}

fn disk(ctx: &mut Ctx, t: toml::Table) -> Option<DiskBackend> {
    const K: &str = "backends.disk";
    let (kind, rest) = kind(ctx, K, t)?;
    match kind.as_str() {
        "sim" => {
            let r: RawSimDisk = ctx.de(K, rest)?;
            let path = ctx.path(&format!("{K}.path"), &r.path);
            let disks = ctx.range(format!("{K}.disks"), r.disks, 1, MAX_SIM_DISKS);
            Some(DiskBackend::Sim { path: path?, disks: disks? as u32, workload: r.workload })
        }
        "scsi" => {
            let r: RawScsiDisk = ctx.de(K, rest)?;
            let mut ok = true;
            if r.devices.is_empty() {
                ctx.err(format!("{K}.devices"), Reason::Empty);
                ok = false;
            }
            let mut seen: HashMap<&str, usize> = HashMap::new();
            for (j, d) in r.devices.iter().enumerate() {
                if d.is_empty() {
                    ctx.err(format!("{K}.devices[{j}]"), Reason::Empty);
                    ok = false;
                } else if let Some(first) = seen.insert(d, j) {
                    let other = format!("{K}.devices[{first}]");
                    ctx.err(format!("{K}.devices[{j}]"), Reason::Duplicate { value: d.clone(), other });
                    ok = false;
                }
            }
            let preempt = match r.preempt.as_str() {
                "preempt-and-abort" => Some(PreemptMode::PreemptAndAbort),
                "preempt" => Some(PreemptMode::Preempt),
                _ => {
                    let reason = Reason::UnknownKind {
                        found: r.preempt.clone(),
                        expected: "\"preempt-and-abort\", \"preempt\"",
                    };
                    ctx.err(format!("{K}.preempt"), reason);
                    None
                }
            };
            let devices = r.devices.into_iter().map(PathBuf::from).collect();
            ok.then_some(DiskBackend::Scsi { devices, preempt: preempt? })
        }
        _ => unknown_kind(ctx, K, kind, "\"sim\", \"scsi\""),
    }
}

fn watchdog(ctx: &mut Ctx, t: toml::Table) -> Option<WatchdogBackend> {
    const K: &str = "backends.watchdog";
    let (kind, rest) = kind(ctx, K, t)?;
    match kind.as_str() {
        "none" => ctx.de::<RawNone>(K, rest).map(|_| WatchdogBackend::None),
        "sim" => {
            let r: RawSimWatchdog = ctx.de(K, rest)?;
            let path = ctx.path(&format!("{K}.path"), &r.path);
            let ms = ctx.range(format!("{K}.timeout_ms"), r.timeout_ms, 1, MAX_SIM_WATCHDOG_MS);
            Some(WatchdogBackend::Sim { path: path?, timeout: Duration::from_millis(ms? as u64) })
        }
        "device" => {
            let r: RawDeviceWatchdog = ctx.de(K, rest)?;
            let path = ctx.path(&format!("{K}.path"), &r.path);
            let s = ctx.range(format!("{K}.timeout_s"), r.timeout_s, 1, MAX_DEVICE_WATCHDOG_S);
            Some(WatchdogBackend::Device { path: path?, timeout_s: s? as u32 })
        }
        _ => unknown_kind(ctx, K, kind, "\"none\", \"sim\", \"device\""),
    }
}

fn enclosure(ctx: &mut Ctx, t: toml::Table) -> Option<EnclosureBackend> {
    const K: &str = "backends.enclosure";
    let (kind, rest) = kind(ctx, K, t)?;
    match kind.as_str() {
        "none" => ctx.de::<RawNone>(K, rest).map(|_| EnclosureBackend::None),
        "sim" => {
            let r: RawSimPath = ctx.de(K, rest)?;
            Some(EnclosureBackend::Sim { path: ctx.path(&format!("{K}.path"), &r.path)? })
        }
        "i2c" => {
            let r: RawI2c = ctx.de(K, rest)?;
            let bus = ctx.path(&format!("{K}.bus"), &r.bus);
            // 0x00-0x02 and 0x78-0x7f are reserved by the I2C specification.
            let address = ctx.range(format!("{K}.address"), r.address, 0x03, 0x77);
            Some(EnclosureBackend::I2c { bus: bus?, address: address? as u8 })
        }
        "gpio" => {
            let r: RawGpioFence = ctx.de(K, rest)?;
            let chip = ctx.non_empty(&format!("{K}.chip"), &r.chip);
            let peer_line = ctx.non_empty(&format!("{K}.peer_line"), &r.peer_line);
            Some(EnclosureBackend::Gpio { chip: chip?, peer_line: peer_line?, active_low: r.active_low })
        }
        _ => unknown_kind(ctx, K, kind, "\"none\", \"sim\", \"i2c\", \"gpio\""),
    }
}

fn vips(ctx: &mut Ctx, t: toml::Table) -> Option<VipBackend> {
    const K: &str = "backends.vips";
    let (kind, rest) = kind(ctx, K, t)?;
    match kind.as_str() {
        "netlink" => ctx.de::<RawNone>(K, rest).map(|_| VipBackend::Netlink),
        "sim" => {
            let r: RawSimPath = ctx.de(K, rest)?;
            Some(VipBackend::Sim { path: ctx.path(&format!("{K}.path"), &r.path)? })
        }
        _ => unknown_kind(ctx, K, kind, "\"netlink\", \"sim\""),
    }
}

fn peer_reset(ctx: &mut Ctx, t: toml::Table) -> Option<PeerResetBackend> {
    const K: &str = "backends.peer_reset";
    let (kind, rest) = kind(ctx, K, t)?;
    match kind.as_str() {
        "none" => ctx.de::<RawNone>(K, rest).map(|_| PeerResetBackend::None),
        "sim" => {
            let r: RawSimPath = ctx.de(K, rest)?;
            Some(PeerResetBackend::Sim { path: ctx.path(&format!("{K}.path"), &r.path)? })
        }
        "gpio" => {
            let r: RawGpioReset = ctx.de(K, rest)?;
            let chip = ctx.non_empty(&format!("{K}.chip"), &r.chip);
            let line = ctx.non_empty(&format!("{K}.line"), &r.line);
            let pulse = ctx.range(format!("{K}.pulse_ms"), r.pulse_ms, 1, MAX_RESET_PULSE_MS);
            Some(PeerResetBackend::Gpio {
                chip: chip?,
                line: line?,
                pulse: Duration::from_millis(pulse? as u64),
                active_low: r.active_low,
            })
        }
        _ => unknown_kind(ctx, K, kind, "\"none\", \"sim\", \"gpio\""),
    }
}

fn led(ctx: &mut Ctx, t: toml::Table) -> Option<LedBackend> {
    const K: &str = "backends.led";
    let (kind, rest) = kind(ctx, K, t)?;
    match kind.as_str() {
        "none" => ctx.de::<RawNone>(K, rest).map(|_| LedBackend::None),
        "gpio" => {
            let r: RawGpioLine = ctx.de(K, rest)?;
            let chip = ctx.non_empty(&format!("{K}.chip"), &r.chip);
            let line = ctx.non_empty(&format!("{K}.line"), &r.line);
            Some(LedBackend::Gpio { chip: chip?, line: line?, active_low: r.active_low })
        }
        _ => unknown_kind(ctx, K, kind, "\"none\", \"gpio\""),
    }
}

/// An interface address with an explicit prefix length of plain digits (`/24`, not
/// a bare address, `/+24` or `/0024`).
pub(crate) fn parse_prefixed(s: &str) -> Option<Cidr> {
    let (_, len) = s.split_once('/')?;
    (!len.is_empty() && len.len() <= 3).then_some(())?;
    s.parse().ok()
}
