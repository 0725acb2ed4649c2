//! The service: the heartbeat thread that owns the state machine, the executor that
//! carries out its actions on the tokio runtime, the shared configuration, and config
//! sync / pool-key escrow with the peer.

pub mod control;
pub mod effects;
pub mod escrow;
pub mod executor;
pub mod heartbeat;
pub mod link_stats;
pub mod run;
pub mod store;
pub mod sync;
