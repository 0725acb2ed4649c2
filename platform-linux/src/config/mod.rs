//! The per-controller configuration file (TOML) and its validation.
//!
//! Each controller has its own file. It splits in two:
//! - the **shared** part ([`SharedConfig`]: `[failover]`, `[network]`,
//!   `[[interfaces]]`, `[[pools]]`) must be identical on both controllers. Its
//!   [`SharedConfig::digest`] goes out in every heartbeat; when the digests differ the
//!   active pushes its [`SharedConfig::to_toml`] to the standby, which checks it with
//!   [`SharedConfig::from_toml`] and the digest before applying it (a mismatch is a
//!   reason failover is unavailable, as in the reference);
//! - the **local** part ([`LocalConfig`]: `[node]`, `[link]`, `[bmc]`, `[realtime]`,
//!   `[backends]`, `[api]`, `[ui]`) belongs to one controller and is never synchronised.
//!
//! # Schema
//! Keys are exactly these: an unknown key anywhere is an error (a misspelt setting
//! must not silently keep its default). Defaults are given after `=`; keys without
//! one are required.
//!
//! ```toml
//! [node]
//! controller = "A"                       # required: "A" or "B"
//! state_file = "/var/lib/failoverd/state"
//!
//! [link]                                 # the dedicated host-to-host link (path H)
//! local = "169.254.10.1:7600"            # required: our UDP address
//! peer = "169.254.10.2:7600"             # required: the peer's; must differ
//! interface = "ntb0"                     # optional: SO_BINDTODEVICE
//! key_file = "/etc/failoverd/link.key"   # required: 32 raw bytes, or 64 hex + newline
//!
//! [bmc]                                  # optional section: absent = no BMC
//! serial = "/dev/ttyS1"                  # required in the section
//! baud = 115200
//!
//! [failover]                             # shared; System > Failover
//! disabled = false
//! primary = "A"                          # the designated primary ("default controller")
//! timeout_ms = 50                        # >= 3 heartbeats, <= 120000
//! heartbeat_interval_ms = 10             # 1..=10000
//! boot_listen_ms = 1000                  # >= timeout_ms, <= 600000
//! reservation_check_ms = 100             # 1..=60000
//! reset_peer_on_fence = true
//!
//! [realtime]
//! priority = 50                          # SCHED_FIFO, 1..=99
//! lock_memory = true
//!
//! [network]                              # shared; required; RFC 1123 host names
//! hostname_a = "nas-a"
//! hostname_b = "nas-b"                   # must differ from hostname_a
//! hostname_virtual = "nas"
//!
//! [[interfaces]]                         # shared; any number
//! name = "eth0"                          # required, unique
//! critical = false
//! group = 1                              # 1..=255; required when critical
//! vhid = 10                              # 1..=255, unique; required with virtual addresses
//! addresses_a = ["192.168.1.10/24"]      # address/prefix, IPv4 or IPv6
//! addresses_b = ["192.168.1.11/24"]
//! virtual = ["192.168.1.100/24"]         # as many as addresses_a and _b, or none
//!
//! [[pools]]                              # shared; any number
//! name = "tank"                          # required, unique
//! import_hook = ["zpool", "import", "-f", "-N", "-o", "cachefile=none", "tank"]
//! export_hook = ["zpool", "export", "tank"]
//! hook_timeout_ms = 30000                # 1..=600000
//! encrypted = false
//!
//! [backends]                             # required; so is disk; the others default to none
//! disk = { kind = "sim", path = "/tmp/disks", disks = 4 }
//! # (sim: `workload = false` stops the simulated pool I/O, one record per 10 ms while active)
//! # disk = { kind = "scsi", devices = ["/dev/sg1"], preempt = "preempt-and-abort" | "preempt" }
//! watchdog = { kind = "none" }
//! # watchdog = { kind = "sim", path = "...", timeout_ms = 1000 }
//! # watchdog = { kind = "device", path = "/dev/watchdog0", timeout_s = 10 }
//! enclosure = { kind = "none" }
//! # enclosure = { kind = "sim", path = "..." } | { kind = "i2c", bus = "/dev/i2c-0", address = 0x1c }
//! # enclosure = { kind = "gpio", chip = "gpiochip0", peer_line = "fence-b" }   # cuts the peer's port
//! peer_reset = { kind = "none" }
//! # peer_reset = { kind = "sim", path = "..." }
//! # peer_reset = { kind = "gpio", chip = "gpiochip0", line = "peer-reset", pulse_ms = 100 }
//! led = { kind = "none" }                # the status LED, lit while this controller is active
//! # led = { kind = "gpio", chip = "gpiochip0", line = "led-active" }
//! # gpio: chip is a path, a /dev name or a chip label; lines by name; every gpio kind
//! # also takes active_low = false; pulse_ms is 1..=10000
//!
//! [api]
//! socket = "/run/failoverd/failoverd.sock"
//! tcp = "127.0.0.1:8600"                 # optional
//!
//! [ui]                                   # optional section: absent = no web UI
//! listen = "127.0.0.1:8443"              # loopback unless configured otherwise
//! password_hash = "$argon2id$v=19$..."   # required: `failoverd hash-password` prints one
//! session_idle_minutes = 30              # 1..=1440
//! tls_cert = "/etc/failoverd/ui.crt"     # optional, with tls_key: HTTPS (PEM chain)
//! tls_key = "/etc/failoverd/ui.key"      # PEM private key (PKCS#8, PKCS#1 or SEC1)
//! ```
//!
//! Paths are used as written (relative ones from the service's working directory).
//!
//! # Errors
//! The whole file is checked before anything is rejected, and every problem is
//! reported ([`ConfigErrors`]), one per line as `<file>: <key>: <reason>`, the key a
//! dotted path such as `interfaces[1].vhid`. A file with a problem is never used in
//! part.

mod emit;
mod error;
mod key;
mod parse;
mod raw;
mod types;

#[cfg(test)]
mod tests;

use std::path::Path;

use failover_core::node::{HostConfig, Settings};
use failover_core::time::Duration;
use failover_core::wire::{Digest, SoftwareVersion};

pub use error::{ConfigError, ConfigErrors, HostnameProblem, KeyProblem, Reason};
pub use types::{
    ApiConfig, Backends, BmcConfig, Cidr, Config, DiskBackend, EnclosureBackend, FailoverConfig,
    InterfaceConfig, LedBackend, LinkConfig, LinkKey, LocalConfig, NetworkConfig, PeerResetBackend,
    PoolConfig, PreemptMode, RealtimeConfig, SharedConfig, TlsFiles, UiConfig, VipBackend, WatchdogBackend,
};

/// Where errors in a shared configuration received from the peer are reported.
pub const SHARED_SOURCE: &str = "<shared>";

/// Read and check the configuration file at `path`, and read the key file it names
/// (and the web UI's certificate and key, if set, to check them).
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let mut ctx = parse::Ctx::new(path, true);
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let cfg = parse::table(&mut ctx, &text).and_then(|t| parse::config(&mut ctx, t));
            ctx.finish(cfg)
        }
        Err(source) => {
            ctx.err("", Reason::Read { path: path.to_owned(), source });
            ctx.finish(None)
        }
    }
}

/// Check configuration `text`, reporting problems against `path`. Reads no file: the
/// returned configuration has no key ([`LinkConfig::key`] is `None`); see
/// [`Config::with_key`].
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigErrors> {
    let mut ctx = parse::Ctx::new(path, false);
    let cfg = parse::table(&mut ctx, text).and_then(|t| parse::config(&mut ctx, t));
    ctx.finish(cfg)
}

/// This build's version, for the version check between controllers.
pub const SOFTWARE_VERSION: SoftwareVersion = SoftwareVersion {
    major: decimal_u8(env!("CARGO_PKG_VERSION_MAJOR")),
    minor: decimal_u8(env!("CARGO_PKG_VERSION_MINOR")),
    patch: decimal_u8(env!("CARGO_PKG_VERSION_PATCH")),
};

const fn decimal_u8(s: &str) -> u8 {
    let b = s.as_bytes();
    let mut v: u32 = 0;
    let mut i = 0;
    while i < b.len() {
        v = v * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    assert!(v <= 255, "version component above 255");
    v as u8
}

impl Config {
    /// The configuration with its link key set (after [`parse`], which reads no file).
    pub fn with_key(mut self, key: LinkKey) -> Self {
        self.local.link.key = Some(key);
        self
    }

    /// This controller's host name.
    pub fn hostname(&self) -> &str {
        self.shared.network.hostname(self.local.controller)
    }

    /// The core's static configuration for this start: `boot_id` from
    /// [`crate::state::next_boot`], the epoch and fenced marker from the state file.
    ///
    /// # Panics
    /// If the key was never loaded: a configuration from [`parse`] needs
    /// [`Self::with_key`] first ([`load`] does it).
    pub fn host_config(&self, boot_id: u32, persisted_epoch: u64, fenced_marker: Option<u64>) -> HostConfig {
        let key =
            self.local.link.key.as_ref().expect("link key not loaded: use config::load or Config::with_key");
        let f = &self.shared.failover;
        HostConfig {
            controller: self.local.controller,
            boot_id,
            key: key.mac_key(),
            settings: self.shared.settings(),
            persisted_epoch,
            fenced_marker,
            boot_listen: Duration::from_millis(f.boot_listen_ms),
            reservation_check_interval: Duration::from_millis(f.reservation_check_ms),
            has_bmc: self.local.bmc.is_some(),
            reset_peer_on_fence: f.reset_peer_on_fence,
            // Without a BMC, an enclosure on the host is driven by the host itself.
            host_enclosure_fence: self.local.bmc.is_none()
                && !matches!(self.local.backends.enclosure, EnclosureBackend::None),
            version: SOFTWARE_VERSION,
        }
    }

    /// The whole configuration as TOML, without comments (to rewrite the file after a
    /// sync replaced the shared part). [`parse`] gives back an equal configuration.
    pub fn to_toml(&self) -> String {
        emit::config_toml(self)
    }
}

impl SharedConfig {
    /// The shared part as TOML: what config sync sends.
    pub fn to_toml(&self) -> String {
        emit::shared_toml(self)
    }

    /// Check a shared part received by sync (errors are reported against
    /// [`SHARED_SOURCE`]). Only the shared sections are accepted.
    pub fn from_toml(text: &str) -> Result<Self, ConfigErrors> {
        let mut ctx = parse::Ctx::new(Path::new(SHARED_SOURCE), false);
        let shared = parse::table(&mut ctx, text).and_then(|mut t| {
            let s = parse::shared(&mut ctx, &mut t);
            ctx.leftovers(t, &parse::SHARED_SECTIONS);
            s
        });
        ctx.finish(shared)
    }

    /// The digest both controllers compare: over a canonical encoding of the values
    /// (not of the text), so formatting, comments, defaults written out or left
    /// implicit, and the order of interfaces and pools do not matter.
    pub fn digest(&self) -> Digest {
        emit::shared_digest(self)
    }

    /// The core's failover settings.
    pub fn settings(&self) -> Settings {
        parse::settings(&self.failover)
    }
}
