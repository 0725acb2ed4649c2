//! The validated configuration: every value here has passed its checks.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use failover_core::wire::{Controller, MacKey};

pub use crate::cidr::Cidr;

/// One controller's whole configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// What belongs to this controller alone.
    pub local: LocalConfig,
    /// What both controllers must agree on (and what config sync pushes).
    pub shared: SharedConfig,
}

/// The per-controller part: identity, link, hardware, process settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalConfig {
    /// Which controller this is (`[node] controller`).
    pub controller: Controller,
    /// The epoch / identity state file (`[node] state_file`).
    pub state_file: PathBuf,
    /// The dedicated link to the peer host.
    pub link: LinkConfig,
    /// The serial port to this controller's BMC; `None` without a BMC.
    pub bmc: Option<BmcConfig>,
    /// Scheduling of the heartbeat thread.
    pub realtime: RealtimeConfig,
    /// Disk, watchdog, enclosure and peer-reset backends.
    pub backends: Backends,
    /// The management API.
    pub api: ApiConfig,
    /// The administrator's web UI; `None` (no `[ui]` section) serves none.
    pub ui: Option<UiConfig>,
}

/// The dedicated host-to-host link (path H).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkConfig {
    /// Our UDP address on the link.
    pub local: SocketAddr,
    /// The peer's UDP address on the link.
    pub peer: SocketAddr,
    /// Bind the socket to this device (`SO_BINDTODEVICE`) so heartbeats never leave by
    /// another route.
    pub interface: Option<String>,
    /// The file holding the link key.
    pub key_file: PathBuf,
    /// The link key: `Some` after [`super::load`] (or [`Config::with_key`]), `None`
    /// after [`super::parse`], which reads no other file.
    pub key: Option<LinkKey>,
}

/// The 32-byte link key shared by both hosts and both BMCs. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkKey(pub [u8; 32]);

impl LinkKey {
    /// The MAC key for the wire.
    pub fn mac_key(&self) -> MacKey {
        MacKey::new(self.0)
    }
}

impl fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkKey(..)")
    }
}

/// The UART to this controller's BMC (path L).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BmcConfig {
    /// The serial device.
    pub serial: PathBuf,
    /// Its speed in baud.
    pub baud: u32,
}

/// Real-time scheduling of the heartbeat thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RealtimeConfig {
    /// `SCHED_FIFO` priority, 1..=99.
    pub priority: u8,
    /// `mlockall` so a page fault never stalls a heartbeat.
    pub lock_memory: bool,
}

/// The hardware backends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backends {
    /// Disk ownership (the authoritative fence).
    pub disk: DiskBackend,
    /// The host watchdog.
    pub watchdog: WatchdogBackend,
    /// Enclosure fencing (cut the peer's expander ports).
    pub enclosure: EnclosureBackend,
    /// Resetting the peer host.
    pub peer_reset: PeerResetBackend,
    /// How virtual IPs are raised.
    pub vips: VipBackend,
    /// The status LED (on while this controller is active).
    pub led: LedBackend,
}

/// How virtual IPs are raised and announced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VipBackend {
    /// rtnetlink on the configured interfaces, plus gratuitous ARP / unsolicited NA
    /// (needs CAP_NET_ADMIN and CAP_NET_RAW).
    Netlink,
    /// Simulated: the owner of the VIPs is recorded in a file shared by both
    /// controllers (the demo runs without root).
    Sim {
        /// The shared ownership file.
        path: PathBuf,
    },
}

/// Disk ownership backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiskBackend {
    /// Simulated persistent-reservation disks in a file shared by both controllers.
    Sim {
        /// The shared file.
        path: PathBuf,
        /// How many disks it simulates.
        disks: u32,
        /// Run the simulated pool I/O (one record per 10 ms while this controller may
        /// do I/O), which the demo and the tests audit for writes from a fenced node.
        /// Off for measurements of the service alone (`workload = false`).
        workload: bool,
    },
    /// SCSI-3 persistent reservations over SG_IO.
    Scsi {
        /// The shared disks' SCSI generic devices.
        devices: Vec<PathBuf>,
        /// How to take the peer's reservation.
        preempt: PreemptMode,
    },
}

/// How the fence removes the peer's reservation key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreemptMode {
    /// PREEMPT AND ABORT: also aborts the peer's queued commands (what fence_scsi does
    /// on real SAS disks).
    PreemptAndAbort,
    /// PREEMPT: for fabrics where PREEMPT AND ABORT misbehaves (LIO over tcm_loop).
    Preempt,
}

impl PreemptMode {
    /// The configuration spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PreemptAndAbort => "preempt-and-abort",
            Self::Preempt => "preempt",
        }
    }
}

/// Host watchdog backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WatchdogBackend {
    /// No watchdog (the core then reports the watchdog unavailable).
    None,
    /// A simulated watchdog.
    Sim {
        /// Its control file.
        path: PathBuf,
        /// Time from the last kick to firing.
        timeout: Duration,
    },
    /// A kernel watchdog device.
    Device {
        /// The device, such as `/dev/watchdog0`.
        path: PathBuf,
        /// Timeout set with `WDIOC_SETTIMEOUT`, in seconds.
        timeout_s: u32,
    },
}

/// Enclosure fencing backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnclosureBackend {
    /// None.
    None,
    /// A simulated enclosure.
    Sim {
        /// Its state file.
        path: PathBuf,
    },
    /// An enclosure CPLD on an I2C bus.
    I2c {
        /// The bus device, such as `/dev/i2c-0`.
        bus: PathBuf,
        /// The 7-bit address, 0x03..=0x77.
        address: u8,
    },
    /// A GPIO line wired to the expander of the peer's port: asserting it cuts the
    /// peer. (A host only ever fences its peer; each controller has its own line.)
    Gpio {
        /// The chip: a path, a device name such as `gpiochip0`, or a chip label.
        chip: String,
        /// The name of the line cutting the peer's ports.
        peer_line: String,
        /// The line is asserted low.
        active_low: bool,
    },
}

/// Peer host reset backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerResetBackend {
    /// None.
    None,
    /// A simulated reset line.
    Sim {
        /// Its state file.
        path: PathBuf,
    },
    /// A GPIO line through the character device.
    Gpio {
        /// The chip: a path, a device name such as `gpiochip0`, or a chip label.
        chip: String,
        /// The line's name.
        line: String,
        /// How long a reset holds the line asserted.
        pulse: Duration,
        /// The line is asserted low (a `RESET_N`).
        active_low: bool,
    },
}

/// Status LED backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LedBackend {
    /// None.
    None,
    /// A GPIO line through the character device.
    Gpio {
        /// The chip: a path, a device name such as `gpiochip0`, or a chip label.
        chip: String,
        /// The line's name.
        line: String,
        /// The LED lights when the line is low.
        active_low: bool,
    },
}

/// The management API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiConfig {
    /// The Unix socket `failoverctl` talks to.
    pub socket: PathBuf,
    /// Optionally also serve HTTP on this TCP address.
    pub tcp: Option<SocketAddr>,
}

/// The administrator's web UI (`[ui]`). Local: each controller has its own address,
/// certificate and password, and none of it travels with config sync.
#[derive(Clone, PartialEq, Eq)]
pub struct UiConfig {
    /// Where the UI listens (loopback unless configured otherwise).
    pub listen: SocketAddr,
    /// The administrator's password as an argon2 PHC string (`failoverd hash-password`).
    pub password_hash: String,
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// Serve HTTPS with this certificate; plain HTTP without.
    pub tls: Option<TlsFiles>,
}

impl fmt::Debug for UiConfig {
    /// Without the password hash: a hash in a log is an offline guessing target.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UiConfig")
            .field("listen", &self.listen)
            .field("session_idle", &self.session_idle)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

/// A PEM certificate chain and its private key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain (PEM), leaf first.
    pub cert: PathBuf,
    /// The private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// The part both controllers must agree on: compared by digest in every heartbeat and
/// pushed by the active to the standby.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedConfig {
    /// The failover settings (System > Failover).
    pub failover: FailoverConfig,
    /// Host names (Network > Global Configuration).
    pub network: NetworkConfig,
    /// Interfaces with their failover fields, in file order.
    pub interfaces: Vec<InterfaceConfig>,
    /// Pools, in file order.
    pub pools: Vec<PoolConfig>,
}

/// The failover settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailoverConfig {
    /// Failover disabled by the administrator.
    pub disabled: bool,
    /// The designated primary.
    pub primary: Controller,
    /// Failover timeout in milliseconds.
    pub timeout_ms: u64,
    /// Heartbeat interval in milliseconds.
    pub heartbeat_interval_ms: u64,
    /// How long a booting node listens before deciding, in milliseconds.
    pub boot_listen_ms: u64,
    /// How often the active checks its reservation, in milliseconds.
    pub reservation_check_ms: u64,
    /// Ask our BMC to reset a peer host its BMC reports hung or dead.
    pub reset_peer_on_fence: bool,
}

/// Host names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkConfig {
    /// Controller A's host name.
    pub hostname_a: String,
    /// Controller B's host name.
    pub hostname_b: String,
    /// The name that follows the active controller.
    pub hostname_virtual: String,
}

impl NetworkConfig {
    /// The host name of `controller`.
    pub fn hostname(&self, controller: Controller) -> &str {
        match controller {
            Controller::A => &self.hostname_a,
            Controller::B => &self.hostname_b,
        }
    }
}

/// One network interface's failover fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceConfig {
    /// The interface name, the same on both controllers.
    pub name: String,
    /// Critical for failover: losing every interface of its group for the timeout
    /// moves the service to the peer.
    pub critical: bool,
    /// Failover group (required when critical).
    pub group: Option<u8>,
    /// Virtual host id, 1..=255 (required with virtual addresses).
    pub vhid: Option<u8>,
    /// Controller A's addresses.
    pub addresses_a: Vec<Cidr>,
    /// Controller B's addresses.
    pub addresses_b: Vec<Cidr>,
    /// The virtual addresses that follow the active controller (TOML key `virtual`).
    pub virtual_addresses: Vec<Cidr>,
}

impl InterfaceConfig {
    /// The addresses of `controller` on this interface.
    pub fn addresses(&self, controller: Controller) -> &[Cidr] {
        match controller {
            Controller::A => &self.addresses_a,
            Controller::B => &self.addresses_b,
        }
    }
}

/// One pool and how to import / export it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolConfig {
    /// The pool name.
    pub name: String,
    /// argv run to import the pool.
    pub import_hook: Vec<String>,
    /// argv run to export the pool.
    pub export_hook: Vec<String>,
    /// How long a hook may run before it is killed and counted as failed.
    pub hook_timeout: Duration,
    /// The pool is encrypted: a key (held in memory, escrowed to the peer) is needed.
    pub encrypted: bool,
}

impl PoolConfig {
    /// The default import hook: by name, forced (the peer may have died holding it), no
    /// mounts yet (`-N`), no cache file (the reference imports without one).
    pub fn default_import_hook(name: &str) -> Vec<String> {
        ["zpool", "import", "-f", "-N", "-o", "cachefile=none", name].map(String::from).to_vec()
    }

    /// The default export hook.
    pub fn default_export_hook(name: &str) -> Vec<String> {
        ["zpool", "export", name].map(String::from).to_vec()
    }
}
