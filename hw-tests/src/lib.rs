//! `hw-tests`: the one entry point for the project's system-level suites.
//!
//! `cargo run --release -p hw-tests -- run <suite> [options]` runs a suite; each case
//! prints one line and the run ends with `N passed, N failed`. `run all` runs every
//! suite with its CI settings.
//!
//! Suites so far:
//! - `model`: exhaustive exploration of the real core state machines (two hosts, two
//!   BMCs, a PR disk) over every schedule that deviates from the nominal one in at most
//!   K ways (lost, duplicated or reordered frames, early completions, crashes, hangs,
//!   partitions), checking safety at every state and liveness under fair continuation.
//! - `sim`: seeded whole-system simulation in virtual time with random faults,
//!   checking the same safety properties and the detection-time bound, and reporting
//!   the latency distribution.
//! - `netns`: two real `failoverd` processes in network namespaces with real virtual
//!   IPs on a bridged segment and simulated disks and watchdogs: takeover after a kill
//!   or a hang, a cut link, a simultaneous start, failover disabled with a forced
//!   takeover, giveback, and a refused interface edit.
//! - `vm` (not in `run all` yet): Debian's own 6.1 kernel in QEMU with real drivers
//!   (LIO dual-ported disks with persistent reservations, softdog + i6300esb, i2c-stub,
//!   gpio-sim, veth between two namespaces), running this workspace's binaries inside.
//! - `firmware`: the BMC firmware on two emulated AST1030s (QEMU `ast1030-evb`) linked
//!   by a UART, each with a test host on its host UART: authenticated heartbeats, peer
//!   BMC loss, host hang, GPIO and I2C fences, the watchdog and reset causes, bad
//!   frames. `hw-tests size` prints the firmware's flash and static RAM.
//!
//! Benchmarks (not part of `run all`): `bench failover-netns` measures takeover
//! latency on the namespace rig and counts false takeovers under full CPU load;
//! `bench failover` runs the same kills and stress against keepalived (VRRPv3, advert
//! 0.01 s and 0.68 s) on the same rig and prints the ratios.

pub mod bench;
pub mod bench_failover;
pub mod cli;
pub mod firmware;
pub mod keepalived;
pub mod process;
pub mod report;
pub mod stats;
pub mod suites;
pub mod system;
pub mod vm;
