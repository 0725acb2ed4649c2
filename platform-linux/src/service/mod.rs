//! The service: the heartbeat thread that owns the state machine, and the executor
//! that carries out its actions on the tokio runtime.

pub mod control;
pub mod effects;
pub mod executor;
pub mod heartbeat;
pub mod run;
