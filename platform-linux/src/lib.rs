//! `failover-linux`: the controller host side of the HA system.
//!
//! This crate will hold the tokio service `failoverd`, the CLI `failoverctl` and the
//! Linux backends (UDP and serial transports, watchdog, SCSI-3 PR over SG_IO, gpio-cdev,
//! i2cdev, virtual IPs, hooks, persistence, API). Today it carries only what the
//! protocol layer needs on a host: the link identity read from the configuration.

use failover_core::wire::{Controller, Endpoint, MacKey, Sender, Station};

/// The host endpoint for `controller`, keyed with `key`, in a boot identified by
/// `boot_id` (fresh at every start of the service).
pub fn host_endpoint(controller: Controller, key: [u8; 32], boot_id: u32) -> Endpoint {
    Endpoint::new(MacKey::new(key), Sender::new(controller, Station::Host), boot_id)
}
