//! Fence report: how a fence went, from whoever executed it.
//!
//! A BMC reports its enclosure / reset fence to its host (path L) and to the peer BMC;
//! a host reports its disk fence to the peer when it can still reach it, so both sides'
//! logs tell one story.

use postcard::experimental::max_size::MaxSize;
use serde::{Deserialize, Serialize};

use super::Controller;

/// Which fence was used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, MaxSize)]
pub enum FenceMethod {
    /// SCSI-3 persistent reservation: the peer's key preempted on the shared disks.
    Reservation,
    /// The peer's SAS expander ports cut in the enclosure (I2C register / GPIO).
    Enclosure,
    /// The peer's host reset through its reset line.
    HostReset,
}

/// How the fence ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, MaxSize)]
pub enum FenceOutcome {
    /// Done on every target.
    Done,
    /// Done on some targets only (see the counts).
    Partial,
    /// Not done.
    Failed,
    /// The fence was lifted (unfence).
    Lifted,
}

/// The outcome of one fence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, MaxSize)]
pub struct FenceReport {
    /// The epoch on whose authority the fence ran.
    pub epoch: u64,
    /// The fenced controller.
    pub target: Controller,
    /// The fence used.
    pub method: FenceMethod,
    /// How it ended.
    pub outcome: FenceOutcome,
    /// Targets (disks, ports, lines) done.
    pub done: u16,
    /// Targets attempted.
    pub total: u16,
    /// Wall time the fence took, in milliseconds.
    pub elapsed_ms: u32,
}
