//! `failover-core`: the part of the dual-controller HA system that must be right.
//!
//! Two controllers (A and B) share dual-ported disks; exactly one is active. This crate
//! holds everything both the Linux host service and the BMC firmware must agree on:
//!
//! - [`wire`]: the authenticated, versioned frame format spoken on every path
//!   (host link H, BMC link B, host-to-BMC link L), with datagram and COBS-stream
//!   framings. Decoding never panics on any byte string.
//! - [`time`]: the crate's own [`time::Instant`] / [`time::Duration`] (microseconds).
//!   The core never reads a clock: every input carries `now`.
//! - [`node`]: the HA state machines, [`node::HostNode`] and [`node::BmcNode`], sans-IO.
//! - `sim` (feature `sim`): a deterministic world of two controllers for tests,
//!   simulation and model checking.
//! - [`enclosure`]: the enclosure fence controller's register protocol (cut / restore a
//!   controller's SAS expander port), over a register bus each host provides.
//! - [`status`]: the status names and disabled reasons the reference system (TrueNAS
//!   Enterprise HA) reports, shared by the wire format and the state machine.
//!
//! # Guarantees
//! `#![no_std]` outside tests, no `alloc`, no `unsafe`. Every buffer is bounded and
//! provided by the caller; every size has a compile-time bound ([`wire::MAX_FRAME_LEN`]).
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod enclosure;
pub mod node;
#[cfg(feature = "sim")]
pub mod sim;
pub mod status;
pub mod time;
pub mod wire;
