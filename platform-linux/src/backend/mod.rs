//! The hardware the service drives, behind traits: disk ownership (SCSI-3 persistent
//! reservations), the host watchdog, the enclosure fence and the peer host reset.
//!
//! Every trait is blocking: `failoverd` calls them from tokio's blocking pool (never
//! from the heartbeat thread), so an implementation may take a lock, sleep or wait on
//! a SCSI command. Which implementation runs is chosen by the configuration
//! (`[backends]`, [`crate::config`]); the service opens the one named there. Today
//! there are simulated ones, which let two `failoverd` processes on one machine share
//! a JBOD and fence each other for real:
//!
//! - [`pr`]: the SPC-4 persistent reservation rules of one logical unit;
//! - [`sim_disk`]: a file-backed dual-ported disk set driven through those rules, and
//!   the simulated enclosure (cut expander ports);
//! - [`sim_watchdog`]: a watchdog that lives in a supervisor process, so it still
//!   fires when `failoverd` is stopped or wedged, and a simulated peer reset.
//!
//! The real Linux ones (SG_IO PR, `/dev/watchdog`, i2c / gpio enclosure lines) implement
//! the same traits.

pub mod gpio;
pub mod i2c_enclosure;
pub mod pr;
pub mod scsi;
pub mod sim_disk;
pub mod sim_watchdog;
pub mod watchdog_dev;

use std::path::PathBuf;

use failover_core::node::{FenceResult, ReservationKey};
use failover_core::wire::Controller;
use thiserror::Error;

pub use gpio::{GpioEnclosure, GpioError, GpioPeerReset, StatusLed};
pub use i2c_enclosure::{I2cEnclosure, I2cError};
pub use scsi::{ScsiDevice, ScsiDiskSet};
pub use sim_disk::{LogEntry, SimDiskSet, SimEnclosure};
pub use sim_watchdog::{NoWatchdog, SimPeerReset, SimWatchdog};
pub use watchdog_dev::{DeviceWatchdog, WatchdogError};

/// Why a backend operation failed. Every variant names the disk or device.
#[derive(Debug, Error)]
pub enum BackendError {
    /// The disk answered RESERVATION CONFLICT: the command or the write is not allowed
    /// for our port under the current reservation (we were fenced, or never registered).
    #[error("disk {disk}: reservation conflict")]
    ReservationConflict {
        /// Disk (unit serial).
        disk: String,
    },
    /// No path to the disk: our expander port is cut, or the device is gone.
    #[error("disk {disk}: no path to the device")]
    NoPath {
        /// Disk (unit serial).
        disk: String,
    },
    /// The disk did not answer in time (a simulated disk: another process holds it; a
    /// SCSI disk: a command timed out or the per-disk deadline passed).
    #[error("disk {disk}: timed out")]
    Timeout {
        /// Disk (unit serial).
        disk: String,
    },
    /// A persistent reservation command was rejected for a reason other than a
    /// reservation conflict (CHECK CONDITION, ILLEGAL REQUEST).
    #[error("disk {disk}: {action} rejected: {error}")]
    PrRejected {
        /// Disk (unit serial).
        disk: String,
        /// The PR OUT service action.
        action: pr::ServiceAction,
        /// The status the device server returned.
        #[source]
        error: pr::PrError,
    },
    /// A SCSI command ended in CHECK CONDITION for a reason the backend does not retry
    /// (or kept doing so after the retries).
    #[error("disk {disk}: {command}: CHECK CONDITION: {sense}")]
    Sense {
        /// Disk (unit identity and device path).
        disk: String,
        /// The command.
        command: &'static str,
        /// Why.
        sense: scsi::Sense,
    },
    /// A SCSI command ended with a status other than GOOD, CHECK CONDITION or
    /// RESERVATION CONFLICT (BUSY after the retries, TASK ABORTED, ACA ACTIVE).
    #[error("disk {disk}: {command}: {status}")]
    ScsiStatus {
        /// Disk (unit identity and device path).
        disk: String,
        /// The command.
        command: &'static str,
        /// The status.
        status: scsi::ScsiStatus,
    },
    /// The HBA driver or the SCSI midlayer failed a command (no answer from the device).
    #[error("disk {disk}: {command}: transport failure: {host_status}, {driver_status}")]
    Transport {
        /// Disk (unit identity and device path).
        disk: String,
        /// The command.
        command: &'static str,
        /// The HBA driver's status.
        host_status: scsi::HostStatus,
        /// The midlayer's status.
        driver_status: scsi::DriverStatus,
    },
    /// A device returned data that does not parse.
    #[error("disk {disk}: {command}: bad response: {error}")]
    BadResponse {
        /// Disk (unit identity and device path).
        disk: String,
        /// The command.
        command: &'static str,
        /// What is wrong with it.
        #[source]
        error: scsi::ParseError,
    },
    /// A configured device is not a disk the fence can use.
    #[error("{disk}: not a disk (peripheral qualifier {qualifier}, device type {device_type:#04x})")]
    NotADisk {
        /// The device.
        disk: String,
        /// PERIPHERAL QUALIFIER (0: a logical unit is connected).
        qualifier: u8,
        /// PERIPHERAL DEVICE TYPE (0: direct access).
        device_type: u8,
    },
    /// A device reports no identity both controllers could compare.
    #[error("{disk}: no logical unit designator (VPD page 83h) and no unit serial number (VPD page 80h)")]
    NoIdentity {
        /// The device.
        disk: String,
    },
    /// Two configured device paths lead to the same logical unit.
    #[error("{} and {} are the same disk {id}", first.display(), second.display())]
    DuplicateDisk {
        /// The unit's identity.
        id: String,
        /// One path.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },
    /// A key that belongs to the other controller was passed for our port.
    #[error("key {key} belongs to controller {}, this backend is port {port}", key.controller())]
    ForeignKey {
        /// The key.
        key: ReservationKey,
        /// Our port.
        port: Controller,
    },
    /// A disk index out of range.
    #[error("no disk {index} in {path} ({count} disks)")]
    NoSuchDisk {
        /// The index asked for.
        index: usize,
        /// The disk set.
        path: PathBuf,
        /// How many disks it has.
        count: usize,
    },
    /// A file or device operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or device.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A file holds something it must not.
    #[error("{}: corrupt: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The watchdog was used after its magic close.
    #[error("watchdog {device}: already stopped")]
    WatchdogStopped {
        /// The watchdog.
        device: String,
    },
    /// The watchdog supervisor process did not come up.
    #[error("watchdog supervisor {}: {reason}", program.display())]
    Supervisor {
        /// The executable started as the supervisor.
        program: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A process could not be signalled.
    #[error("signal {signal} to pid {pid}: {source}")]
    Signal {
        /// The target.
        pid: i32,
        /// The signal.
        signal: nix::sys::signal::Signal,
        /// The OS error.
        #[source]
        source: nix::errno::Errno,
    },
    /// A pid file names a process that must never be signalled (init, ourselves, a
    /// process group) or one that is not the process that wrote it.
    #[error("{}: refusing to signal pid {pid}: {reason}", path.display())]
    UnsafePid {
        /// The pid file.
        path: PathBuf,
        /// The pid it names.
        pid: i64,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A kernel watchdog device failed or refused our settings.
    #[error(transparent)]
    WatchdogDevice(#[from] watchdog_dev::WatchdogError),
    /// The enclosure fence controller on I2C failed or misbehaved.
    #[error(transparent)]
    I2c(#[from] i2c_enclosure::I2cError),
    /// A GPIO line could not be found, requested or driven.
    #[error(transparent)]
    Gpio(#[from] gpio::GpioError),
}

impl BackendError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }

    /// Map a device server status for `action` on `disk`.
    pub(crate) fn pr(disk: &str, action: pr::ServiceAction, error: pr::PrError) -> Self {
        match error {
            pr::PrError::ReservationConflict => Self::ReservationConflict { disk: disk.to_owned() },
            error => Self::PrRejected { disk: disk.to_owned(), action, error },
        }
    }
}

/// The result of [`DiskOwnership::fence_and_reserve`] over the whole disk set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FenceOutcome {
    /// `Done` only if every disk is reserved with our key; `Superseded` if any disk
    /// carries a newer key (the highest epoch found); `Failed` otherwise.
    pub result: FenceResult,
    /// Disks now reserved with our key.
    pub disks_done: u16,
    /// Disks in the set.
    pub disks_total: u16,
}

/// Ownership of the shared disks through SCSI-3 persistent reservations.
///
/// Our reservation key embeds our controller and epoch
/// ([`failover_core::node::ReservationKey`]); the disks enforce the epoch as a fencing
/// token: a node fences only with a key newer than every other controller's key it
/// finds (the rules of `failover_core::sim::PrDisk`, the disk the model checker proves
/// the core safe against).
pub trait DiskOwnership: Send + Sync + 'static {
    /// For logs and status: what and where.
    fn describe(&self) -> String;

    /// Unit serials of the shared disks, sorted (both controllers must agree).
    fn disk_serials(&self) -> Result<Vec<String>, BackendError>;

    /// On every disk, in parallel, as one step per disk: read the keys; refuse with
    /// `Superseded` if the other controller's key has an epoch >= ours or our own old
    /// key a higher one; REGISTER AND IGNORE EXISTING KEY with `key`; PREEMPT (AND
    /// ABORT) every other key; RESERVE Write Exclusive - Registrants Only.
    /// Per-disk failures make the result `Failed` (they are logged); `Err` means the
    /// fence could not be attempted at all.
    fn fence_and_reserve(&self, key: ReservationKey) -> Result<FenceOutcome, BackendError>;

    /// RELEASE and unregister `key` on every disk. A disk where `key` is no longer
    /// registered (someone preempted us) is left alone: that is not an error.
    fn release(&self, key: ReservationKey) -> Result<(), BackendError>;

    /// Whether `key` is registered and holds the reservation on every disk.
    fn check(&self, key: ReservationKey) -> Result<bool, BackendError>;
}

/// The host's hardware watchdog: once started it resets the host unless kicked within
/// its timeout.
pub trait Watchdog: Send + 'static {
    /// Kick: restart the countdown.
    fn kick(&mut self) -> Result<(), BackendError>;
    /// Magic close: disarm it (a clean shutdown). Kicking after this is an error.
    fn stop(&mut self) -> Result<(), BackendError>;
    /// For logs and status.
    fn describe(&self) -> String;
}

/// The enclosure fence: cutting a controller's SAS expander ports so none of its
/// commands reaches any disk.
pub trait EnclosureFence: Send + Sync + 'static {
    /// Cut `target`'s ports. When this returns `Ok`, no command of `target` is in flight.
    fn cut(&self, target: Controller) -> Result<(), BackendError>;
    /// Give `target` its ports back.
    fn restore(&self, target: Controller) -> Result<(), BackendError>;
    /// Whether `target`'s ports are cut.
    fn is_cut(&self, target: Controller) -> Result<bool, BackendError>;
}

/// Resetting a controller's host (the reset line the BMC pulses).
pub trait PeerReset: Send + Sync + 'static {
    /// Reset `target`'s host now.
    fn reset(&self, target: Controller) -> Result<(), BackendError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pr_statuses_map_to_errors_naming_the_disk() {
        let e = BackendError::pr("SIM-1-00", pr::ServiceAction::Reserve, pr::PrError::ReservationConflict);
        assert!(matches!(&e, BackendError::ReservationConflict { disk } if disk == "SIM-1-00"));
        let e = BackendError::pr(
            "SIM-1-00",
            pr::ServiceAction::Preempt,
            pr::PrError::InvalidFieldInParameterList,
        );
        assert_eq!(
            e.to_string(),
            "disk SIM-1-00: PREEMPT rejected: CHECK CONDITION: ILLEGAL REQUEST, INVALID FIELD IN PARAMETER LIST"
        );
    }
}
