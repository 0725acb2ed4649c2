//! The node's configuration, baked in at build time (see `build.rs`).
//!
//! `build.rs` reads `$FAILOVER_FW_CONFIG` (default `firmware/config/bmc-a.toml`),
//! checks it, and generates the constants included below:
//! - `CONTROLLER`: the controller this BMC sits on (A or B);
//! - `KEY`: the 32-byte link key shared with both hosts and the peer BMC;
//! - `INTERVAL_MS`: heartbeat interval on path B and relay interval on path L;
//! - `PEER_TIMEOUT_MS`: peer BMC silent this long: the BMC link is down;
//! - `HOST_HANG_MS`: our host silent this long while powered: hung;
//! - `WATCHDOG_MS`: WDT1 timeout; the main loop kicks it once per interval;
//! - `FENCE_HUNG_PEER`, `RESET_HUNG_PEER`: fence (and reset) the peer on our own when
//!   its BMC reports its host hung or dead;
//! - `RESET_PULSE_MS`: width of the peer host reset pulse;
//! - `SOURCE`: the configuration file's name, for the boot report.
//!
//! Provisioning over path L instead (not implemented): a host would send the key and
//! timings in a `Control` message sealed with the current key; the firmware would keep
//! them in the same reset-surviving record as the epoch (`crate::persist`) and, on
//! hardware, in its SPI flash page. Baking them in keeps the image self-contained and
//! the key out of any message.

use failover_core::node::BmcConfig;
use failover_core::time::Duration;
use failover_core::wire::{Controller, MacKey};

include!(concat!(env!("OUT_DIR"), "/config.rs"));

/// The core's configuration for this boot.
pub(crate) fn bmc_config(boot_id: u32, max_epoch: u64) -> BmcConfig {
    let mut cfg = BmcConfig::new(CONTROLLER, MacKey::new(KEY), boot_id);
    cfg.interval = Duration::from_millis(INTERVAL_MS);
    cfg.peer_timeout = Duration::from_millis(PEER_TIMEOUT_MS);
    cfg.host_hang_timeout = Duration::from_millis(HOST_HANG_MS);
    cfg.fence_hung_peer = FENCE_HUNG_PEER;
    cfg.reset_hung_peer = RESET_HUNG_PEER;
    cfg.max_epoch = max_epoch;
    cfg
}
