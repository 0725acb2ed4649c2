//! One module per screen. Each renders from the API types alone (no I/O), so every
//! page is tested with made-up data; the handlers in [`super::routes`] fetch the data
//! through the [`crate::api::control::ControlPlane`] and wrap the result in the frame.

pub mod confirm;
pub mod dashboard;
pub mod failover;
pub mod interfaces;
pub mod login;
pub mod network;
pub mod unlock;
