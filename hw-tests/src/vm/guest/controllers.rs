//! Two real `failoverd` in the VM, on the real backends: SCSI-3 PR over SG_IO on the
//! rig's LIO disks, `/dev/watchdogN` (softdog for A, i6300esb for B), the enclosure
//! fence on the i2c-stub chip or the gpio-sim fence lines, the status LED on gpio-sim.
//!
//! Virtual IPs are simulated (a file): the `netns` suite proves them on real
//! interfaces; here the subject is the fencing hardware. Timings are relaxed for TCG
//! (heartbeat 20 ms, timeout 300 ms): the VM runs both daemons on one emulated CPU.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use failover_core::enclosure::{ID_VALUE, PORT_ENABLE_RESET, Register, VERSION};
use failover_core::wire::Controller::{self, A, B};
use failover_linux::api::client::ApiClient;
use failover_linux::api::types::{StatusJson, TakeoverJson};
use nix::sys::signal::Signal;

use super::net;
use super::rig::Rig;
use crate::suites::rig::Daemon;
use crate::suites::shared_toml::SharedToml;

/// Heartbeat interval in the VM.
pub const HEARTBEAT_MS: u64 = 20;
/// Failover timeout in the VM.
pub const TIMEOUT_MS: u64 = 300;
/// How often the active re-reads its reservation.
pub const CHECK_MS: u64 = 100;
/// Hardware watchdog timeout (softdog's minimum is 1 s).
pub const WATCHDOG_S: u32 = 2;

/// How a controller's enclosure fence is driven.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enclosure {
    /// None configured.
    None,
    /// The CPLD register protocol on the i2c-stub chip.
    I2c,
    /// The gpio-sim line cutting the peer (`fence-b` on A, `fence-a` on B).
    Gpio,
}

/// What each controller is given.
#[derive(Clone, Debug)]
pub struct Options {
    /// Indices into the rig's disks.
    pub disks: Vec<usize>,
    /// Each controller's enclosure backend (A, B).
    pub enclosure: [Enclosure; 2],
    /// `led-a` / `led-b` on gpio-sim.
    pub led: bool,
}

/// Both controllers' files, daemons and API clients.
pub struct Controllers<'r> {
    rig: &'r Rig,
    dir: PathBuf,
    daemons: [Option<Daemon>; 2],
    clients: [ApiClient; 2],
    rt: tokio::runtime::Runtime,
}

impl std::fmt::Debug for Controllers<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controllers").field("dir", &self.dir).finish_non_exhaustive()
    }
}

impl<'r> Controllers<'r> {
    /// Write the key and both configurations under `<out>/<tag>/`, and give the i2c
    /// enclosure chip a CPLD's power-on registers (i2c-stub starts as zeros).
    pub fn new(rig: &'r Rig, tag: &str, o: &Options) -> Result<Self, String> {
        let dir = rig.out.join(tag);
        // Unix sockets cannot live on the 9p share: the API sockets go to tmpfs.
        let sockets = rig.scratch.join(tag);
        for c in [A, B] {
            for d in [dir.join(net::ns(c)), sockets.join(net::ns(c))] {
                fs::create_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
            }
        }
        let key: Vec<u8> = (0u8..32).map(|i| i.wrapping_mul(37).wrapping_add(tag.len() as u8)).collect();
        fs::write(dir.join("link.key"), key).map_err(|e| format!("link.key: {e}"))?;
        if o.enclosure.contains(&Enclosure::I2c) {
            rig.i2c.set(Register::Id.addr(), ID_VALUE)?;
            rig.i2c.set(Register::Version.addr(), VERSION)?;
            rig.i2c.set(Register::PortEnable.addr(), PORT_ENABLE_RESET)?;
            rig.i2c.set(Register::FenceLatch.addr(), 0)?;
        }
        for c in [A, B] {
            let path = config_path(&dir, c);
            fs::write(&path, config_toml(rig, &dir, &sockets, c, o)?)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("tokio runtime: {e}"))?;
        let clients = [A, B].map(|c| {
            ApiClient::new(sockets.join(net::ns(c)).join("failoverd.sock"))
                .with_timeout(Duration::from_secs(2))
        });
        Ok(Self { rig, dir, daemons: [None, None], clients, rt })
    }

    /// Start a controller's daemon.
    pub fn start(&mut self, c: Controller) -> Result<(), String> {
        let d = self.rig.spawn_failoverd(c, &config_path(&self.dir, c), &self.log_path(c))?;
        self.daemons[c.index()] = Some(d);
        Ok(())
    }

    /// SIGKILL a controller's daemon (and reap it).
    pub fn kill(&mut self, c: Controller) {
        if let Some(mut d) = self.daemons[c.index()].take() {
            d.kill();
        }
    }

    /// Signal a controller's daemon.
    pub fn signal(&self, c: Controller, sig: Signal) -> Result<(), String> {
        self.daemons[c.index()].as_ref().ok_or_else(|| format!("{c} is not running"))?.signal(sig)
    }

    /// `GET /v1/status`.
    pub fn status(&self, c: Controller) -> Result<StatusJson, String> {
        self.rt.block_on(self.clients[c.index()].status()).map_err(|e| format!("{c}: status: {e}"))
    }

    /// `POST /v1/giveback` on `c`.
    pub fn giveback(&self, c: Controller) -> Result<(), String> {
        self.rt.block_on(self.clients[c.index()].giveback()).map_err(|e| format!("{c}: giveback: {e}"))
    }

    /// `POST /v1/takeover` on `c`.
    pub fn takeover(&self, c: Controller, force: bool) -> Result<(), String> {
        self.rt
            .block_on(self.clients[c.index()].takeover(&TakeoverJson { force }))
            .map_err(|e| format!("{c}: takeover: {e}"))
    }

    /// Poll `c`'s status until `pred` holds, for at most `limit`.
    pub fn wait_status(
        &self,
        c: Controller,
        limit: Duration,
        what: &str,
        pred: impl Fn(&StatusJson) -> bool,
    ) -> Result<StatusJson, String> {
        let t0 = Instant::now();
        loop {
            let last = match self.status(c) {
                Ok(s) if pred(&s) => return Ok(s),
                Ok(s) => line(&s),
                Err(e) => e,
            };
            if t0.elapsed() >= limit {
                return Err(format!(
                    "{c} did not {what} within {} ms (last: {last}){}",
                    limit.as_millis(),
                    self.diagnostics()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Start both and wait for A MASTER, B BACKUP at epoch 1.
    pub fn settle(&mut self) -> Result<Duration, String> {
        let t0 = Instant::now();
        self.start(A)?;
        self.start(B)?;
        self.wait_status(A, Duration::from_secs(20), "become MASTER", |s| s.status == "MASTER")?;
        self.wait_status(B, Duration::from_secs(20), "become BACKUP", |s| {
            s.status == "BACKUP" && s.disabled_reasons.is_empty()
        })?;
        Ok(t0.elapsed())
    }

    /// A controller's log file.
    pub fn log_path(&self, c: Controller) -> PathBuf {
        self.dir.join(net::ns(c)).join("failoverd.log")
    }

    /// Both logs' tails and statuses, for a failure message.
    pub fn diagnostics(&self) -> String {
        let mut out = String::new();
        for c in [A, B] {
            let _ = match self.status(c) {
                Ok(s) => write!(out, "\n  {c}: {}", line(&s)),
                Err(e) => write!(out, "\n  {c}: {e}"),
            };
            let log = fs::read_to_string(self.log_path(c)).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(15).collect();
            for l in tail.into_iter().rev() {
                let _ = write!(out, "\n    {l}");
            }
        }
        out
    }
}

/// One status as a line.
pub fn line(s: &StatusJson) -> String {
    format!(
        "{} {} ({}) epoch {} reasons [{}]",
        s.node,
        s.status,
        s.state,
        s.epoch,
        s.disabled_reasons.join(",")
    )
}

fn config_path(dir: &Path, c: Controller) -> PathBuf {
    dir.join(net::ns(c)).join("failoverd.toml")
}

fn quoted(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| format!("\"{}\"", p.display())).collect::<Vec<_>>().join(", ")
}

/// A controller's configuration on the real backends.
pub fn config_toml(
    rig: &Rig,
    dir: &Path,
    sockets: &Path,
    c: Controller,
    o: &Options,
) -> Result<String, String> {
    let me = c.letter();
    let d = dir.display();
    let ns = net::ns(c);
    let (local, peer) = (net::link_addr(c), net::link_addr(c.peer()));
    let devices: Vec<PathBuf> = o
        .disks
        .iter()
        .map(|&i| {
            rig.disks.get(i).map(|d| d.sg(c).to_owned()).ok_or_else(|| format!("no disk {i} in the rig"))
        })
        .collect::<Result<_, _>>()?;
    let chip = rig.gpio.cdev();
    let chip = chip.display();
    let enclosure = match o.enclosure[c.index()] {
        Enclosure::None => "{ kind = \"none\" }".to_owned(),
        Enclosure::I2c => {
            format!(
                "{{ kind = \"i2c\", bus = \"{}\", address = {} }}",
                rig.i2c.dev.display(),
                rig.i2c.address
            )
        }
        Enclosure::Gpio => {
            let peer = c.peer().letter().to_ascii_lowercase();
            format!("{{ kind = \"gpio\", chip = \"{chip}\", peer_line = \"fence-{peer}\" }}")
        }
    };
    let lower = me.to_ascii_lowercase();
    let led = if o.led {
        format!("{{ kind = \"gpio\", chip = \"{chip}\", line = \"led-{lower}\" }}")
    } else {
        "{ kind = \"none\" }".to_owned()
    };
    let peer_lower = c.peer().letter().to_ascii_lowercase();
    Ok(format!(
        r#"# Written by hw-tests (vm suite) for controller {me}: real backends.
[node]
controller = "{me}"
state_file = "{d}/{ns}/state"

[link]
local = "{local}:7600"
peer = "{peer}:7600"
interface = "{link_if}"
key_file = "{d}/link.key"

[realtime]
priority = 50
lock_memory = true

[backends]
disk = {{ kind = "scsi", devices = [{devices}], preempt = "preempt" }}
watchdog = {{ kind = "device", path = "{watchdog}", timeout_s = {WATCHDOG_S} }}
enclosure = {enclosure}
peer_reset = {{ kind = "gpio", chip = "{chip}", line = "reset-{peer_lower}" }}
led = {led}
vips = {{ kind = "sim", path = "{d}/vips" }}

[api]
socket = "{sockets}/{ns}/failoverd.sock"

{shared}"#,
        link_if = net::LINK_IF,
        shared = SharedToml {
            timeout_ms: TIMEOUT_MS,
            heartbeat_ms: HEARTBEAT_MS,
            check_ms: Some(CHECK_MS),
            interface: "pub0",
            vip: "192.0.2.100",
            more_interfaces: "",
            encrypted: false,
        }
        .render(),
        devices = quoted(&devices),
        watchdog = rig.watchdog(c).display(),
        sockets = sockets.display(),
    ))
}
