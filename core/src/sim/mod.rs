//! Deterministic simulation of a whole HA pair (feature `sim`, std only).
//!
//! [`World`] holds the four real state machines ([`crate::node::HostNode`] ×2,
//! [`crate::node::BmcNode`] ×2), the links between them, a shared disk with SCSI-3 PR
//! semantics ([`PrDisk`]) and the platforms' operations, all in virtual time. Scripted
//! tests, the seeded simulator and the model checker drive it; it checks the safety
//! properties after every step.

mod disk;
mod rng;
mod world;

pub use disk::PrDisk;
pub use rng::Rng;
pub use world::{
    BmcSlot, Choice, Fault, HostSlot, InFlight, Link, NodeId, Op, Pending, SimConfig, TakeoverRecord,
    Timings, Violation, World,
};
