//! The management API: HTTP/JSON on a Unix socket (and optionally TCP), served by
//! `failoverd`, used by `failoverctl`.
//!
//! - [`types`]: the JSON bodies; [`control`]: what the service must answer;
//! - [`server`]: the routes over a [`control::ControlPlane`], on a Unix socket or TCP;
//! - [`client`]: the Unix-socket client `failoverctl` uses;
//! - [`format`]: `failoverctl`'s human-readable output; [`edit`]: its partial edits.

pub mod client;
pub mod control;
pub mod edit;
pub mod format;
pub mod server;
pub mod types;
