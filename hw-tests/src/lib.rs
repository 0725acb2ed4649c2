//! `hw-tests`: the one entry point for the project's system-level suites.
//!
//! `cargo run --release -p hw-tests -- run <suite>` runs a suite; each case prints one
//! line and the run ends with `N passed, N failed`. Suites arrive with the issues that
//! build what they test (model checking and simulation of the core, network-namespace
//! runs of `failoverd`, the VM with real kernel drivers, the emulated BMC firmware, the
//! whole system).

pub mod cli;
pub mod report;
