//! Disk ownership on real shared disks: SCSI-3 persistent reservations sent through
//! the SG_IO ioctl.
//!
//! Persistent reservations are the authoritative fence: once the new active has
//! preempted the old one's key and reserved Write Exclusive - Registrants Only, every
//! disk itself refuses the old active's writes with RESERVATION CONFLICT, whatever that
//! host still believes. The keys embed controller and epoch
//! ([`failover_core::node::ReservationKey`]), so the disk also carries the fencing
//! token: a fence backs off from a newer reign's key instead of preempting it.
//!
//! Layers, each testable alone:
//! - [`cdb`]: command descriptor blocks and the PR OUT parameter list, byte for byte;
//! - [`parse`]: the data devices return (PR IN, INQUIRY, VPD pages), never trusting a
//!   length field;
//! - [`sense`]: sense data, fixed and descriptor format, with names;
//! - [`transport`]: one command's round trip behind a trait, and what its completion
//!   means; [`sg_io`] implements it with the ioctl;
//! - [`device`]: one path to one unit, typed commands with unit-attention and BUSY
//!   retries and deadlines;
//! - [`fence`]: the pure per-disk decision (the rules of [`super::sim_disk`]);
//! - [`set`]: [`ScsiDiskSet`], the [`super::DiskOwnership`] over all shared disks in
//!   parallel.
//!
//! Facts from LIO / tcm_loop (`shared/design/HIL-LINUX.md`) this follows: a PR OUT that
//! meets a pending unit attention is not executed and must be retried; PREEMPT AND ABORT
//! hangs tcm_loop, so the preempt mode is configurable; writes from a preempted path
//! fail with RESERVATION CONFLICT.

pub mod cdb;
pub mod device;
pub mod fence;
pub mod parse;
pub mod sense;
pub mod set;
pub mod sg_io;
pub mod transport;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;

pub use device::{DiskIdentity, ScsiDevice};
pub use parse::ParseError;
pub use sense::{Sense, SenseKey};
pub use set::{ScsiDiskSet, Timeouts};
pub use transport::{DriverStatus, HostStatus, ScsiStatus, ScsiTransport};
