//! `failover-linux`: the controller host side of the HA system.
//!
//! `failoverd` drives one [`failover_core::node::HostNode`] per controller: a
//! real-time heartbeat thread owns the node and the link sockets and never waits on
//! anything slow; a tokio runtime carries out the node's actions (fencing, imports,
//! VIPs, hooks) concurrently and reports completions back, serves the management API,
//! and logs. `failoverctl` talks to the API over a Unix socket.
//!
//! Modules, one responsibility each:
//! - [`config`]: the per-controller TOML file and its validation;
//! - [`state`]: the epoch / identity state file (atomic writes, corruption detected);
//! - [`backend`]: disk ownership (SCSI-3 PR), watchdog, enclosure fence, peer reset,
//!   behind traits, with simulated implementations for the demo and tests;
//! - [`actions`]: virtual IPs (rtnetlink + gratuitous ARP / unsolicited NA) and hooks;
//! - [`transport`]: UDP on the dedicated link, COBS over a serial port to the BMC;
//! - [`service`]: the heartbeat thread and the action executor;
//! - [`api`]: the management API (HTTP/JSON on a Unix socket) and its types;
//! - [`inspect`]: the disks', enclosure's and GPIO lines' state read directly, without
//!   the service (`failoverctl inspect`);
//! - [`ui`]: the administrator's web UI over the same control plane.

pub mod actions;
pub mod api;
pub mod backend;
pub mod cidr;
pub mod config;
pub mod demo;
pub mod inspect;
pub mod service;
pub mod state;
pub mod transport;
pub mod ui;
