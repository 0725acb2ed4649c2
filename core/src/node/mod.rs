//! The HA state machines: [`HostNode`] for a controller's host, [`BmcNode`] for its BMC.
//!
//! Both are sans-IO in the style of quinn-proto: no clock, no I/O, no allocation.
//! Inputs are `handle_*(now, ..)` calls; outputs are drained with `poll_action()`,
//! `poll_transmit()`, `poll_event()`; `poll_timeout()` says when to call
//! `handle_timeout()` next. The Linux service, the firmware and the simulators all
//! drive these same types.
//!
//! Roles (internal states) and the reference's status names:
//!
//! | state                          | status                 |
//! |--------------------------------|------------------------|
//! | booting, electing              | ELECTING               |
//! | standby                        | BACKUP                 |
//! | takeover (persist, fence, import, VIPs) | IMPORTING     |
//! | active, giveback               | MASTER (SINGLE if the peer was never heard) |
//! | fenced, error                  | ERROR                  |

mod bmc;
mod host;
mod io;
mod keys;
mod liveness;
mod outputs;
mod settings;

pub use bmc::{BmcConfig, BmcHealth, BmcNode, BmcStatus, DEFAULT_HOST_HANG_MS};
pub use host::{
    DEFAULT_BOOT_LISTEN_MS, DEFAULT_RESERVATION_CHECK_MS, Delivered, ELECTION_HOLD_TIMEOUTS,
    EXPORT_TIMEOUT_MS, FailoverTimeline, GIVEBACK_ACK_INTERVALS, HostConfig, HostNode, HostStatus,
    LocalHealth, RELEASE_TIMEOUT_MS,
};
pub use io::{
    Action, AdminCommand, AdminError, Completion, ErrorCause, Event, EventKind, FenceResult, GivebackCause,
    Path, PeerVerdict, StateName, TakeoverCause, Transmit,
};
pub use keys::ReservationKey;
pub use settings::{
    DEFAULT_FAILOVER_TIMEOUT_MS, DEFAULT_HEARTBEAT_INTERVAL_MS, MAX_FAILOVER_TIMEOUT_MS,
    MAX_HEARTBEAT_INTERVAL_MS, MIN_HEARTBEAT_INTERVAL_MS, Settings, SettingsError,
};
