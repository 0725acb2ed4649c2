//! The file's shape as serde sees it: strings and `i64`s with their defaults, unknown
//! keys rejected. Values are checked and typed in [`super::parse`]; numbers are read as
//! `i64` (TOML's integer) so that a value out of range gets our message, naming the
//! range, rather than serde's.

use serde::{Deserialize, Serialize};

use failover_core::node::{DEFAULT_BOOT_LISTEN_MS, DEFAULT_RESERVATION_CHECK_MS};
use failover_core::node::{DEFAULT_FAILOVER_TIMEOUT_MS, DEFAULT_HEARTBEAT_INTERVAL_MS};

/// Default state file.
pub(crate) const DEFAULT_STATE_FILE: &str = "/var/lib/failoverd/state";
/// Default API socket.
pub(crate) const DEFAULT_API_SOCKET: &str = "/run/failoverd/failoverd.sock";
/// Default BMC serial speed.
pub(crate) const DEFAULT_BAUD: i64 = 115_200;
/// Default `SCHED_FIFO` priority of the heartbeat thread: above ordinary real-time
/// housekeeping, below the kernel's own threaded interrupts (which default to 50 and
/// are needed to receive the heartbeats in the first place). Equal to them is fine:
/// FIFO threads of equal priority do not preempt each other, and the heartbeat thread
/// sleeps almost all the time.
pub(crate) const DEFAULT_RT_PRIORITY: i64 = 50;
/// Default hook timeout: 30 s. An import of a large pool on slow disks takes seconds;
/// a hook still running after 30 s is hung.
pub(crate) const DEFAULT_HOOK_TIMEOUT_MS: i64 = 30_000;
/// Default simulated watchdog timeout: 1 s, twenty default failover timeouts.
pub(crate) const DEFAULT_SIM_WATCHDOG_MS: i64 = 1_000;
/// Default device watchdog timeout: 10 s (sbd's order of magnitude; long enough that
/// a loaded but healthy host is never reset, short against a hung one).
pub(crate) const DEFAULT_DEVICE_WATCHDOG_S: i64 = 10;
/// Default peer reset pulse: 100 ms, well past the minimum assertion time of reset
/// supervisors and host reset inputs (microseconds to tens of milliseconds).
pub(crate) const DEFAULT_RESET_PULSE_MS: i64 = 100;

fn default_true() -> bool {
    true
}
fn default_state_file() -> String {
    DEFAULT_STATE_FILE.to_owned()
}
fn default_baud() -> i64 {
    DEFAULT_BAUD
}
fn default_primary() -> String {
    "A".to_owned()
}
fn default_timeout() -> i64 {
    DEFAULT_FAILOVER_TIMEOUT_MS as i64
}
fn default_heartbeat() -> i64 {
    DEFAULT_HEARTBEAT_INTERVAL_MS as i64
}
fn default_boot_listen() -> i64 {
    DEFAULT_BOOT_LISTEN_MS as i64
}
fn default_reservation_check() -> i64 {
    DEFAULT_RESERVATION_CHECK_MS as i64
}
fn default_priority() -> i64 {
    DEFAULT_RT_PRIORITY
}
fn default_hook_timeout() -> i64 {
    DEFAULT_HOOK_TIMEOUT_MS
}
fn default_api_socket() -> String {
    DEFAULT_API_SOCKET.to_owned()
}
fn default_preempt() -> String {
    "preempt-and-abort".to_owned()
}
fn default_sim_watchdog() -> i64 {
    DEFAULT_SIM_WATCHDOG_MS
}
fn default_device_watchdog() -> i64 {
    DEFAULT_DEVICE_WATCHDOG_S
}
fn default_reset_pulse() -> i64 {
    DEFAULT_RESET_PULSE_MS
}

/// `[node]`
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNode {
    pub(crate) controller: String,
    #[serde(default = "default_state_file")]
    pub(crate) state_file: String,
}

/// `[link]`
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLink {
    pub(crate) local: String,
    pub(crate) peer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) interface: Option<String>,
    pub(crate) key_file: String,
}

/// `[bmc]`
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBmc {
    pub(crate) serial: String,
    #[serde(default = "default_baud")]
    pub(crate) baud: i64,
}

/// `[failover]`
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFailover {
    #[serde(default)]
    pub(crate) disabled: bool,
    #[serde(default = "default_primary")]
    pub(crate) primary: String,
    #[serde(default = "default_timeout")]
    pub(crate) timeout_ms: i64,
    #[serde(default = "default_heartbeat")]
    pub(crate) heartbeat_interval_ms: i64,
    #[serde(default = "default_boot_listen")]
    pub(crate) boot_listen_ms: i64,
    #[serde(default = "default_reservation_check")]
    pub(crate) reservation_check_ms: i64,
    #[serde(default = "default_true")]
    pub(crate) reset_peer_on_fence: bool,
}

impl Default for RawFailover {
    fn default() -> Self {
        Self {
            disabled: false,
            primary: default_primary(),
            timeout_ms: default_timeout(),
            heartbeat_interval_ms: default_heartbeat(),
            boot_listen_ms: default_boot_listen(),
            reservation_check_ms: default_reservation_check(),
            reset_peer_on_fence: true,
        }
    }
}

/// `[realtime]`
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRealtime {
    #[serde(default = "default_priority")]
    pub(crate) priority: i64,
    #[serde(default = "default_true")]
    pub(crate) lock_memory: bool,
}

impl Default for RawRealtime {
    fn default() -> Self {
        Self { priority: DEFAULT_RT_PRIORITY, lock_memory: true }
    }
}

/// `[network]`
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNetwork {
    pub(crate) hostname_a: String,
    pub(crate) hostname_b: String,
    pub(crate) hostname_virtual: String,
}

/// `[[interfaces]]`
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawInterface {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) critical: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) group: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) vhid: Option<i64>,
    #[serde(default)]
    pub(crate) addresses_a: Vec<String>,
    #[serde(default)]
    pub(crate) addresses_b: Vec<String>,
    #[serde(rename = "virtual", default)]
    pub(crate) virtual_: Vec<String>,
}

/// `[[pools]]`
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPool {
    pub(crate) name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) import_hook: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) export_hook: Option<Vec<String>>,
    #[serde(default = "default_hook_timeout")]
    pub(crate) hook_timeout_ms: i64,
    #[serde(default)]
    pub(crate) encrypted: bool,
}

/// `[backends]`: each entry is a table with a `kind`, read by hand so the kind gets
/// its own message and the other fields are checked against that kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBackends {
    pub(crate) disk: Option<toml::Table>,
    pub(crate) watchdog: Option<toml::Table>,
    pub(crate) enclosure: Option<toml::Table>,
    pub(crate) peer_reset: Option<toml::Table>,
    pub(crate) vips: Option<toml::Table>,
    pub(crate) led: Option<toml::Table>,
}

/// `kind = "none"`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNone {}

/// `disk = { kind = "sim", .. }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSimDisk {
    pub(crate) path: String,
    pub(crate) disks: i64,
    #[serde(default = "yes")]
    pub(crate) workload: bool,
}

fn yes() -> bool {
    true
}

/// `disk = { kind = "scsi", .. }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScsiDisk {
    pub(crate) devices: Vec<String>,
    #[serde(default = "default_preempt")]
    pub(crate) preempt: String,
}

/// `watchdog = { kind = "sim", .. }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSimWatchdog {
    pub(crate) path: String,
    #[serde(default = "default_sim_watchdog")]
    pub(crate) timeout_ms: i64,
}

/// `watchdog = { kind = "device", .. }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDeviceWatchdog {
    pub(crate) path: String,
    #[serde(default = "default_device_watchdog")]
    pub(crate) timeout_s: i64,
}

/// `{ kind = "sim", path = .. }` (enclosure, peer reset)
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSimPath {
    pub(crate) path: String,
}

/// `enclosure = { kind = "i2c", .. }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawI2c {
    pub(crate) bus: String,
    pub(crate) address: i64,
}

/// `enclosure = { kind = "gpio", .. }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGpioFence {
    pub(crate) chip: String,
    pub(crate) peer_line: String,
    #[serde(default)]
    pub(crate) active_low: bool,
}

/// `peer_reset = { kind = "gpio", .. }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGpioReset {
    pub(crate) chip: String,
    pub(crate) line: String,
    #[serde(default = "default_reset_pulse")]
    pub(crate) pulse_ms: i64,
    #[serde(default)]
    pub(crate) active_low: bool,
}

/// `led = { kind = "gpio", .. }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGpioLine {
    pub(crate) chip: String,
    pub(crate) line: String,
    #[serde(default)]
    pub(crate) active_low: bool,
}

/// Default listening address of the web UI: loopback only, so nothing is exposed
/// until an administrator chooses an address (and, off the machine, a certificate).
pub(crate) const DEFAULT_UI_LISTEN: &str = "127.0.0.1:8443";
/// Default idle time before a web UI session ends: 30 minutes, as in most appliance UIs.
pub(crate) const DEFAULT_UI_SESSION_IDLE_MINUTES: i64 = 30;

fn default_ui_listen() -> String {
    DEFAULT_UI_LISTEN.to_owned()
}
fn default_ui_session_idle() -> i64 {
    DEFAULT_UI_SESSION_IDLE_MINUTES
}

/// `[ui]`
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawUi {
    #[serde(default = "default_ui_listen")]
    pub(crate) listen: String,
    pub(crate) password_hash: String,
    #[serde(default = "default_ui_session_idle")]
    pub(crate) session_idle_minutes: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tls_cert: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tls_key: Option<String>,
}

/// `[api]`
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawApi {
    #[serde(default = "default_api_socket")]
    pub(crate) socket: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tcp: Option<String>,
}

impl Default for RawApi {
    fn default() -> Self {
        Self { socket: default_api_socket(), tcp: None }
    }
}
