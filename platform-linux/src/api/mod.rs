//! The management API: HTTP/JSON on a Unix socket (and optionally TCP), served by
//! `failoverd`, used by `failoverctl`.

pub mod control;
pub mod types;
