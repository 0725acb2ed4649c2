//! Real controllers as a [`Target`]: the system suite's scenarios and audit run against
//! a pair named in a TOML file (`hw-tests run system --target FILE`).
//!
//! Everything is done by commands: each controller has a command prefix (`run`, such
//! as `ssh root@nas-a`) that runs one shell command given as its last argument, and
//! the service, `failoverctl`, `ip`, `tc` and hardware commands go through it. The
//! shared hardware is read past the daemons with `failoverctl inspect` (persistent
//! reservations over SG_IO, the enclosure CPLD over I2C, GPIO lines), and the VIP is
//! probed from a client on the public network with `hw-tests probe vip`.
//!
//! The emulated rig is driven the same way in CI (`ip netns exec <ns> sh -c` as the
//! prefix; see [`super::ci_target`]), so this path is tested without real hardware.

use std::io::{Read as _, Write as _};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use failover_core::node::ReservationKey;
use failover_core::wire::Controller;
use failover_linux::api::types::StatusJson;
use failover_linux::inspect::Inspection;
use nix::sys::signal::Signal;
use serde::Deserialize;

use super::probe::VipProbe;
use super::target::{self, Capability, Target};
use super::wire::Impairment;
use crate::suites::rig::{Mac, fmt_mac, parse_mac, poll_until};

/// How long one command may run before it counts as hung (and is killed).
const COMMAND_LIMIT: Duration = Duration::from_secs(20);

/// The target file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteConfig {
    /// The pair's failover timeout in milliseconds, as configured on the controllers:
    /// the scenarios' windows scale with it.
    pub timeout_ms: u64,
    /// The virtual IP the client checks.
    pub vip: Ipv4Addr,
    /// A file on this machine holding the pool's passphrase (for the scenarios that
    /// restart both controllers), or none when the pool is not encrypted.
    #[serde(default)]
    pub passphrase_file: Option<PathBuf>,
    /// The client on the public network.
    pub client: ClientConfig,
    /// Controller A.
    pub a: ControllerConfig,
    /// Controller B.
    pub b: ControllerConfig,
}

/// The client host that checks the VIP.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// Command prefix on the client (default: this machine, `sh -c`).
    #[serde(default = "local")]
    pub run: String,
    /// Its interface on the public network.
    pub interface: String,
    /// The `hw-tests` executable there (default: this one).
    #[serde(default)]
    pub probe: Option<String>,
}

/// One controller.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControllerConfig {
    /// Command prefix that runs one shell command given as its last argument, such as
    /// `ssh -o BatchMode=yes root@nas-a` (reach the controller over a management
    /// interface, not the critical one the scenarios take down).
    pub run: String,
    /// `failoverctl` there, with `--socket` if not the default.
    #[serde(default = "d_failoverctl")]
    pub failoverctl: String,
    /// Starts the service.
    #[serde(default = "d_start")]
    pub start: String,
    /// Sends `{signal}` (KILL, TERM, STOP, CONT) to the daemon.
    #[serde(default = "d_signal")]
    pub signal: String,
    /// Exits 0 while the daemon runs.
    #[serde(default = "d_running")]
    pub running: String,
    /// Prints the daemon's recent log (for failure reports).
    #[serde(default = "d_logs")]
    pub logs: String,
    /// The daemon's configuration file.
    #[serde(default = "d_config")]
    pub config: String,
    /// The dedicated link's interface.
    pub link_interface: String,
    /// The critical (public) interface carrying the VIP.
    pub public_interface: String,
    /// Impairs what this controller sends on the dedicated link: `{interface}`,
    /// `{delay_ms}`, `{jitter_ms}` (uniform), `{loss_percent}`.
    #[serde(default = "d_impair")]
    pub impair: String,
    /// Removes the impairment.
    #[serde(default = "d_unimpair")]
    pub unimpair: String,
    /// Takes this controller's BMC down (for `kill-bmc`).
    #[serde(default)]
    pub bmc_down: Option<String>,
    /// Brings it back; must succeed when it is already up.
    #[serde(default)]
    pub bmc_up: Option<String>,
    /// Prints the BMC's last status line (`status host=.. peer_bmc=.. peer_host=..`),
    /// for example from a console server's log.
    #[serde(default)]
    pub bmc_status: Option<String>,
    /// Cuts what this controller's BMC sends to the peer BMC (path B).
    #[serde(default)]
    pub bmc_link_cut: Option<String>,
    /// Restores it; must succeed when it is not cut.
    #[serde(default)]
    pub bmc_link_restore: Option<String>,
    /// The hardware the audit reads past the daemon.
    #[serde(default)]
    pub hardware: Hardware,
}

/// A controller's hardware, as `failoverctl inspect` reads it (anything not named is
/// taken from the daemon's configuration file).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hardware {
    /// The serial port to its BMC (path L); checked to exist.
    #[serde(default)]
    pub serial: Option<String>,
    /// The shared disks' SCSI devices.
    #[serde(default)]
    pub disks: Vec<String>,
    /// The enclosure CPLD: I2C bus device and 7-bit address.
    #[serde(default)]
    pub enclosure_i2c: Option<I2cAddress>,
    /// A GPIO input (`chip:line`, `chip:line:active-low`) showing this controller's
    /// BMC driving its fence line to the peer's enclosure port.
    #[serde(default)]
    pub bmc_fence_gpio: Option<String>,
}

/// An I2C device.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct I2cAddress {
    /// `/dev/i2c-N`.
    pub bus: String,
    /// The 7-bit address.
    pub address: u8,
}

fn local() -> String {
    "sh -c".into()
}
fn d_failoverctl() -> String {
    "failoverctl".into()
}
fn d_start() -> String {
    "systemctl start failoverd".into()
}
fn d_signal() -> String {
    "systemctl kill --signal={signal} failoverd".into()
}
fn d_running() -> String {
    "systemctl is-active --quiet failoverd".into()
}
fn d_logs() -> String {
    "journalctl -u failoverd -n 30 --no-pager".into()
}
fn d_config() -> String {
    "/etc/failoverd/failoverd.toml".into()
}
fn d_impair() -> String {
    "tc qdisc replace dev {interface} root netem delay {delay_ms}ms {jitter_ms}ms loss {loss_percent}%".into()
}
fn d_unimpair() -> String {
    "tc qdisc del dev {interface} root 2>/dev/null || true".into()
}

impl RemoteConfig {
    /// Parse a target file's text; errors name the file, line and field.
    pub fn parse(text: &str, path: &Path) -> Result<Self, String> {
        let c: Self = toml::from_str(text).map_err(|e| format!("{}: {e}", path.display()))?;
        if c.timeout_ms == 0 {
            return Err(format!("{}: timeout_ms must be above 0", path.display()));
        }
        for (x, cc) in [("a", &c.a), ("b", &c.b)] {
            if cc.bmc_down.is_some() != cc.bmc_up.is_some() {
                return Err(format!("{}: [{x}] needs both bmc_down and bmc_up, or neither", path.display()));
            }
            if cc.bmc_link_cut.is_some() != cc.bmc_link_restore.is_some() {
                return Err(format!(
                    "{}: [{x}] needs both bmc_link_cut and bmc_link_restore, or neither",
                    path.display()
                ));
            }
        }
        Ok(c)
    }

    /// Read and parse a target file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::parse(&text, path)
    }

    fn of(&self, c: Controller) -> &ControllerConfig {
        match c {
            Controller::A => &self.a,
            Controller::B => &self.b,
        }
    }
}

/// `s` quoted for a POSIX shell.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// What a command did.
#[derive(Debug)]
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Run `command` through `prefix` (`sh -c "<prefix> '<command>'"`), with `stdin` fed
/// to it; killed after [`COMMAND_LIMIT`].
fn exec(prefix: &str, command: &str, stdin: Option<&str>) -> Result<Ran, String> {
    let line = format!("{prefix} {}", sh_quote(command));
    let mut child = Command::new("sh")
        .args(["-c", &line])
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("`{line}`: {e}"))?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes()).map_err(|e| format!("`{line}`: writing its input: {e}"))?;
    }
    let reader = |p: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(mut p) = p {
                let _ = p.read_to_string(&mut s);
            }
            s
        })
    };
    let out = reader(child.stdout.take().map(|p| Box::new(p) as Box<dyn std::io::Read + Send>));
    let err = reader(child.stderr.take().map(|p| Box::new(p) as Box<dyn std::io::Read + Send>));
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| format!("`{line}`: {e}"))? {
            break s;
        }
        if t0.elapsed() > COMMAND_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("`{line}` did not finish within {} s", COMMAND_LIMIT.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    Ok(Ran {
        code: status.code(),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

/// [`exec`], requiring exit status 0; its stdout.
fn exec_ok(prefix: &str, command: &str, stdin: Option<&str>) -> Result<String, String> {
    let r = exec(prefix, command, stdin)?;
    if r.code == Some(0) {
        Ok(r.stdout)
    } else {
        Err(format!(
            "`{prefix} {command}` failed ({}): {}",
            r.code.map_or("killed by a signal".into(), |c| format!("exit {c}")),
            r.stderr.trim()
        ))
    }
}

/// A placeholder-filled command.
fn fill(template: &str, vars: &[(&str, String)]) -> String {
    vars.iter().fold(template.to_owned(), |t, (k, v)| t.replace(&format!("{{{k}}}"), v))
}

/// Real controllers (or anything reached the same way).
pub struct Remote {
    cfg: RemoteConfig,
    probe: String,
    passphrase: Option<String>,
    macs: [Option<Mac>; 2],
    /// What the commands rely on and must outlive them (the emulated rig, in CI).
    _keep: Option<Box<dyn std::any::Any>>,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote").field("a", &self.cfg.a.run).field("b", &self.cfg.b.run).finish()
    }
}

impl Remote {
    /// A target for `cfg`; `keep` is dropped after it (the rig its commands reach).
    pub fn new(cfg: RemoteConfig, keep: Option<Box<dyn std::any::Any>>) -> Result<Self, String> {
        let probe = match &cfg.client.probe {
            Some(p) => p.clone(),
            None => std::env::current_exe()
                .map_err(|e| format!("the hw-tests executable: {e}"))?
                .display()
                .to_string(),
        };
        let passphrase = match &cfg.passphrase_file {
            Some(p) => Some(
                std::fs::read_to_string(p)
                    .map_err(|e| format!("passphrase_file {}: {e}", p.display()))?
                    .trim_end_matches('\n')
                    .to_owned(),
            ),
            None => None,
        };
        Ok(Self { cfg, probe, passphrase, macs: [None, None], _keep: keep })
    }

    fn run(&self, c: Controller, command: &str) -> Result<String, String> {
        exec_ok(&self.cfg.of(c).run, command, None).map_err(|e| format!("{c}: {e}"))
    }

    fn ctl(&self, c: Controller, args: &str, stdin: Option<&str>) -> Result<String, String> {
        let cc = self.cfg.of(c);
        exec_ok(&cc.run, &format!("{} {args}", cc.failoverctl), stdin).map_err(|e| format!("{c}: {e}"))
    }

    /// `failoverctl inspect` on `c`, with the hardware its section names (the BMC fence
    /// line only `with_gpio`).
    pub fn inspect(&self, c: Controller, with_gpio: bool) -> Result<Inspection, String> {
        let cc = self.cfg.of(c);
        let mut args = format!("inspect --json --config {}", sh_quote(&cc.config));
        for d in &cc.hardware.disks {
            args.push_str(&format!(" --disk {}", sh_quote(d)));
        }
        if let Some(e) = &cc.hardware.enclosure_i2c {
            args.push_str(&format!(" --i2c-bus {} --i2c-address {:#04x}", sh_quote(&e.bus), e.address));
        }
        if let Some(g) = cc.hardware.bmc_fence_gpio.as_ref().filter(|_| with_gpio) {
            args.push_str(&format!(" --gpio {}", sh_quote(g)));
        }
        // Exit 1 means some item could not be read: the JSON says which.
        let r = exec(&cc.run, &format!("{} {args}", cc.failoverctl), None)?;
        if !matches!(r.code, Some(0 | 1)) {
            return Err(format!("{c}: failoverctl {args}: {}", r.stderr.trim()));
        }
        serde_json::from_str(&r.stdout)
            .map_err(|e| format!("{c}: failoverctl inspect printed bad JSON ({e}): {}", r.stdout))
    }

    /// The disks as seen from the first controller that reads them all (a fenced
    /// controller's port may be cut).
    fn disks(&self) -> Result<Inspection, String> {
        let mut why = Vec::new();
        for c in [Controller::A, Controller::B] {
            match self.inspect(c, false) {
                Ok(i) if i.errors.is_empty() && !i.disks.is_empty() => return Ok(i),
                Ok(i) => why.push(format!("{c}: {}", i.errors.join("; "))),
                Err(e) => why.push(e),
            }
        }
        Err(format!("no controller could read the disks: {}", why.join(" / ")))
    }

    fn mac(&mut self, c: Controller) -> Result<Mac, String> {
        if let Some(m) = self.macs[c.index()] {
            return Ok(m);
        }
        let iface = self.cfg.of(c).public_interface.clone();
        let out = self.run(c, &format!("cat /sys/class/net/{iface}/address"))?;
        let m = parse_mac(out.trim()).ok_or_else(|| format!("{c}: `{}` is not a MAC", out.trim()))?;
        self.macs[c.index()] = Some(m);
        Ok(m)
    }

    fn probe_vip(&self) -> Result<VipProbe, String> {
        let cmd = format!(
            "{} probe vip --interface {} --vip {} --wait-ms 50 --ping-timeout-ms 500",
            self.probe,
            sh_quote(&self.cfg.client.interface),
            self.cfg.vip
        );
        let out = exec_ok(&self.cfg.client.run, &cmd, None).map_err(|e| format!("client: {e}"))?;
        serde_json::from_str(&out).map_err(|e| format!("client: bad probe output ({e}): {out}"))
    }

    fn optional<'a>(
        &'a self,
        c: Controller,
        pick: impl Fn(&'a ControllerConfig) -> &'a Option<String>,
        what: &str,
    ) -> Result<&'a str, String> {
        pick(self.cfg.of(c)).as_deref().ok_or_else(|| format!("{c}: `{what}` is not configured"))
    }

    fn on_both(&self, pick: impl Fn(&ControllerConfig) -> bool, keys: &str) -> Result<(), String> {
        if pick(&self.cfg.a) && pick(&self.cfg.b) {
            Ok(())
        } else {
            Err(format!("needs {keys} in both [a] and [b] of the target file"))
        }
    }

    /// Check that both controllers, the client and the named hardware answer; one
    /// line describing what was found.
    pub fn preflight(&mut self) -> Result<String, String> {
        let mut found = Vec::new();
        for c in [Controller::A, Controller::B] {
            let cc = self.cfg.of(c).clone();
            self.run(c, "true")?;
            for iface in [&cc.link_interface, &cc.public_interface] {
                self.run(c, &format!("test -d /sys/class/net/{iface}"))
                    .map_err(|_| format!("{c}: no interface `{iface}`"))?;
            }
            if let Some(s) = &cc.hardware.serial {
                self.run(c, &format!("test -c {}", sh_quote(s)))
                    .map_err(|_| format!("{c}: the BMC serial port {s} is not a character device"))?;
            }
            let i = self.inspect(c, true)?;
            if !i.errors.is_empty() {
                return Err(format!("{c}: failoverctl inspect: {}", i.errors.join("; ")));
            }
            let mac = fmt_mac(&self.mac(c)?);
            let st = if self.running(c)? {
                self.status(c)
                    .map_or_else(|e| format!("not answering ({e})"), |s| format!("{}@{}", s.status, s.epoch))
            } else {
                "not running".into()
            };
            found.push(format!(
                "{c}: {} disks, enclosure {}, {} {mac}, failoverd {st}",
                i.disks.len(),
                i.enclosure.as_ref().map_or("none".into(), |e| e.describe.clone()),
                cc.public_interface
            ));
        }
        self.probe_vip()?;
        Ok(found.join("; "))
    }
}

impl Target for Remote {
    fn describe(&self) -> String {
        format!("controllers reached by `{}` and `{}`", self.cfg.a.run, self.cfg.b.run)
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.cfg.timeout_ms)
    }

    fn supports(&self, cap: Capability) -> Result<(), String> {
        match cap {
            Capability::Impair => Ok(()),
            Capability::BmcPower => {
                self.on_both(|c| c.bmc_down.is_some() && c.bmc_up.is_some(), "`bmc_down` and `bmc_up`")
            }
            Capability::BmcLinkCut => self.on_both(
                |c| c.bmc_link_cut.is_some() && c.bmc_link_restore.is_some(),
                "`bmc_link_cut` and `bmc_link_restore`",
            ),
            Capability::BmcStatus => self.on_both(|c| c.bmc_status.is_some(), "`bmc_status`"),
            Capability::BmcFenceLine => {
                self.on_both(|c| c.hardware.bmc_fence_gpio.is_some(), "`hardware.bmc_fence_gpio`")
            }
        }
    }

    fn status(&mut self, c: Controller) -> Result<StatusJson, String> {
        let out = self.ctl(c, "status --json", None)?;
        serde_json::from_str(&out).map_err(|e| format!("{c}: failoverctl status printed bad JSON ({e})"))
    }

    fn running(&mut self, c: Controller) -> Result<bool, String> {
        let cc = self.cfg.of(c);
        let r = exec(&cc.run, &cc.running, None)?;
        match r.code {
            Some(0) => Ok(true),
            // ssh's own failure: the controller could not be asked.
            Some(255) | None => Err(format!("{c}: `{}` failed: {}", cc.running, r.stderr.trim())),
            Some(_) => Ok(false),
        }
    }

    fn start(&mut self, c: Controller) -> Result<(), String> {
        if self.running(c)? {
            self.signal(c, Signal::SIGKILL)?;
        }
        let cmd = self.cfg.of(c).start.clone();
        self.run(c, &cmd).map(|_| ())
    }

    fn signal(&mut self, c: Controller, sig: Signal) -> Result<(), String> {
        let name = sig.as_str().trim_start_matches("SIG").to_owned();
        let cmd = fill(&self.cfg.of(c).signal, &[("signal", name)]);
        self.run(c, &cmd)?;
        if sig == Signal::SIGKILL {
            target::wait_gone(self, c)?;
        }
        Ok(())
    }

    fn giveback(&mut self, c: Controller) -> Result<(), String> {
        self.ctl(c, "giveback", None).map(|_| ())
    }

    fn force_takeover(&mut self, c: Controller) -> Result<(), String> {
        self.ctl(c, "takeover --force", None).map(|_| ())
    }

    fn unlock(&mut self, c: Controller) -> Result<(), String> {
        let p = self
            .passphrase
            .clone()
            .ok_or("the pool needs its passphrase: set passphrase_file in the target file")?;
        self.ctl(c, "unlock", Some(&format!("{p}\n"))).map(|_| ())
    }

    fn set_disabled(&mut self, c: Controller, disabled: bool) -> Result<bool, String> {
        self.ctl(c, &format!("settings set --disabled {disabled}"), None)?;
        let out = self.ctl(c, "settings show --json", None)?;
        let s: failover_linux::api::types::SettingsJson =
            serde_json::from_str(&out).map_err(|e| format!("{c}: settings JSON: {e}"))?;
        Ok(s.disabled)
    }

    fn read_config(&mut self, c: Controller) -> Result<String, String> {
        let path = self.cfg.of(c).config.clone();
        self.run(c, &format!("cat {}", sh_quote(&path)))
    }

    fn write_config(&mut self, c: Controller, text: &str) -> Result<(), String> {
        let p = sh_quote(&self.cfg.of(c).config);
        let cmd = format!("cat > {p}.hw-tests && mv {p}.hw-tests {p}");
        exec_ok(&self.cfg.of(c).run, &cmd, Some(text)).map(|_| ()).map_err(|e| format!("{c}: {e}"))
    }

    fn holders(&mut self) -> Result<Vec<Option<ReservationKey>>, String> {
        Ok(self.disks()?.disks.iter().map(|d| d.holder.as_ref().and_then(key_of)).collect())
    }

    fn audit_fencing(&mut self, active: Controller, epoch: u64) -> Result<String, String> {
        let want = ReservationKey::new(active, epoch);
        let i = self.disks()?;
        for d in &i.disks {
            let registered: Vec<Option<ReservationKey>> = d.registered.iter().map(key_of).collect();
            if registered != [Some(want)] {
                return Err(format!(
                    "disk {}: registered keys {:?}, expected only {want}: another controller could write",
                    d.name,
                    d.registered.iter().map(|k| k.key.as_str()).collect::<Vec<_>>()
                ));
            }
        }
        Ok(format!(
            "{} disks: only {active}@{epoch}'s key ({want}) registered, so no other controller can write",
            i.disks.len()
        ))
    }

    fn writes_by(&mut self, _: Controller) -> Result<Option<usize>, String> {
        Ok(None)
    }

    fn has_vip(&mut self, c: Controller) -> Result<bool, String> {
        let iface = self.cfg.of(c).public_interface.clone();
        let out = self.run(c, &format!("ip -o -4 addr show dev {iface}"))?;
        let want = format!("inet {}/", self.cfg.vip);
        Ok(out.contains(&want))
    }

    fn expect_serving(&mut self, active: Controller, exclusive: bool) -> Result<String, String> {
        let mac = self.mac(active)?;
        let limit = (10 * self.timeout()).max(Duration::from_secs(3));
        let what = format!(
            "the VIP on {active}{}, answering ARP and ping from {active}",
            if exclusive { " only" } else { "" }
        );
        let want = fmt_mac(&mac);
        let p = poll_until(limit, Duration::from_millis(20), &what, || {
            if !self.has_vip(active)? || (exclusive && self.has_vip(active.peer())?) {
                return Ok(None);
            }
            let Ok(r) = self.probe_vip() else { return Ok(None) };
            let arp_ok = r.arp.contains(&want) && (!exclusive || r.arp.iter().all(|m| *m == want));
            let neigh_ok = r.neighbour.as_ref().is_some_and(|(m, _)| *m == want);
            Ok((arp_ok && r.ping_ms.is_some() && neigh_ok).then_some(r))
        })?;
        Ok(format!(
            "VIP on {active}{}, ARP answered by [{}], ping {:.2} ms",
            if exclusive { " only" } else { "" },
            p.arp.join(","),
            p.ping_ms.unwrap_or_default()
        ))
    }

    fn set_host_link(&mut self, c: Controller, up: bool) -> Result<(), String> {
        let iface = self.cfg.of(c).link_interface.clone();
        self.run(c, &format!("ip link set {iface} {}", if up { "up" } else { "down" })).map(|_| ())
    }

    fn set_public_link(&mut self, c: Controller, up: bool) -> Result<(), String> {
        let iface = self.cfg.of(c).public_interface.clone();
        self.run(c, &format!("ip link set {iface} {}", if up { "up" } else { "down" })).map(|_| ())
    }

    fn impair(&mut self, from: Controller, imp: Impairment) -> Result<(), String> {
        let cc = self.cfg.of(from);
        let cmd = if imp == Impairment::NONE {
            fill(&cc.unimpair, &[("interface", cc.link_interface.clone())])
        } else {
            fill(
                &cc.impair,
                &[
                    ("interface", cc.link_interface.clone()),
                    ("delay_ms", imp.delay.as_millis().to_string()),
                    ("jitter_ms", imp.jitter.as_millis().to_string()),
                    ("loss_percent", imp.loss_percent.to_string()),
                ],
            )
        };
        self.run(from, &cmd).map(|_| ())
    }

    fn link_frames(&mut self, from: Controller) -> Result<u64, String> {
        let iface = self.cfg.of(from).link_interface.clone();
        let out = self.run(from, &format!("cat /sys/class/net/{iface}/statistics/tx_packets"))?;
        out.trim().parse().map_err(|_| format!("{from}: tx_packets `{}`", out.trim()))
    }

    fn set_bmc_power(&mut self, c: Controller, on: bool) -> Result<(), String> {
        let cmd = if on {
            self.optional(c, |x| &x.bmc_up, "bmc_up")?
        } else {
            self.optional(c, |x| &x.bmc_down, "bmc_down")?
        }
        .to_owned();
        self.run(c, &cmd).map(|_| ())
    }

    fn cut_bmc_link(&mut self, from: Controller, cut: bool) -> Result<(), String> {
        let cmd = if cut {
            self.optional(from, |x| &x.bmc_link_cut, "bmc_link_cut")?
        } else {
            self.optional(from, |x| &x.bmc_link_restore, "bmc_link_restore")?
        }
        .to_owned();
        self.run(from, &cmd).map(|_| ())
    }

    fn bmc_status(&mut self, c: Controller) -> Result<Option<String>, String> {
        let cmd = self.optional(c, |x| &x.bmc_status, "bmc_status")?.to_owned();
        let out = self.run(c, &cmd)?;
        Ok(out.lines().rev().find(|l| l.starts_with("status ")).map(str::to_owned))
    }

    fn bmc_fencing(&mut self, c: Controller) -> Result<bool, String> {
        let i = self.inspect(c, true)?;
        i.gpio
            .first()
            .map(|g| g.asserted)
            .ok_or_else(|| format!("{c}: the BMC fence line could not be read: {}", i.errors.join("; ")))
    }

    fn heal(&mut self) -> Result<(), String> {
        for c in [Controller::A, Controller::B] {
            if self.supports(Capability::BmcLinkCut).is_ok() {
                self.cut_bmc_link(c, false)?;
            }
            self.impair(c, Impairment::NONE)?;
            self.set_host_link(c, true)?;
            self.set_public_link(c, true)?;
            if self.supports(Capability::BmcPower).is_ok() {
                self.set_bmc_power(c, true)?;
            }
            if self.running(c)? {
                self.signal(c, Signal::SIGCONT)?;
            }
        }
        target::restart_the_fallen(self)
    }

    fn diagnostics(&mut self) -> String {
        let mut out = format!("\n  ---- diagnostics ----\n  {}", target::status_lines(self));
        match self.disks() {
            Ok(i) => out.push_str(&format!("\n  {}", i.render().replace('\n', "\n  "))),
            Err(e) => out.push_str(&format!("\n  disks: {e}")),
        }
        for c in [Controller::A, Controller::B] {
            let cmd = self.cfg.of(c).logs.clone();
            out.push_str(&format!("\n  ---- {c}: {cmd} ----"));
            match self.run(c, &cmd) {
                Ok(l) => l.lines().for_each(|l| out.push_str(&format!("\n  {c}| {l}"))),
                Err(e) => out.push_str(&format!("\n  {e}")),
            }
        }
        out
    }
}

/// A key printed by `failoverctl inspect`, decoded.
fn key_of(k: &failover_linux::inspect::KeyJson) -> Option<ReservationKey> {
    u64::from_str_radix(k.key.trim_start_matches("0x"), 16).ok().and_then(ReservationKey::from_u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
timeout_ms = 2000
vip = "192.168.1.50"
[client]
interface = "eth0"
[a]
run = "ssh root@nas-a"
link_interface = "ha0"
public_interface = "eno1"
[b]
run = "ssh root@nas-b"
link_interface = "ha0"
public_interface = "eno1"
"#;

    #[test]
    fn a_minimal_file_gets_the_systemd_and_tc_defaults() {
        let c = RemoteConfig::parse(MINIMAL, Path::new("t.toml")).expect("parses");
        assert_eq!(c.a.start, "systemctl start failoverd");
        assert_eq!(c.b.signal, "systemctl kill --signal={signal} failoverd");
        assert_eq!(c.client.run, "sh -c");
        assert!(c.a.impair.starts_with("tc qdisc replace dev {interface} root netem"));
        assert!(c.a.bmc_down.is_none() && c.a.hardware.disks.is_empty());
    }

    #[test]
    fn errors_name_the_file_and_the_field() {
        let typo = MINIMAL.replace(
            "link_interface = \"ha0\"\npublic_interface = \"eno1\"\n[b]",
            "link_iface = \"ha0\"\npublic_interface = \"eno1\"\n[b]",
        );
        let e = RemoteConfig::parse(&typo, Path::new("t.toml")).expect_err("unknown field");
        assert!(e.contains("t.toml") && e.contains("link_iface"), "{e}");
        let half = format!("{MINIMAL}bmc_down = \"ipmitool chassis power off\"\n");
        let e = RemoteConfig::parse(&half, Path::new("t.toml")).expect_err("bmc_down alone");
        assert!(e.contains("[b] needs both bmc_down and bmc_up"), "{e}");
        let e = RemoteConfig::parse(&MINIMAL.replace("192.168.1.50", "nas"), Path::new("t.toml"))
            .expect_err("bad vip");
        assert!(e.contains("vip"), "{e}");
    }

    #[test]
    fn commands_are_quoted_once_for_the_prefix_and_filled() {
        assert_eq!(sh_quote("echo 'x' $y"), r#"'echo '\''x'\'' $y'"#);
        let r = exec("sh -c", "printf '%s' \"$0\"", None).expect("runs");
        assert_eq!(r.stdout, "sh");
        let r = exec("sh -c", "cat; exit 3", Some("in\n")).expect("runs");
        assert_eq!((r.code, r.stdout.as_str()), (Some(3), "in\n"));
        assert!(exec_ok("sh -c", "echo no >&2; false", None).expect_err("fails").contains("no"));
        let cmd = fill(
            &d_impair(),
            &[
                ("interface", "ha0".into()),
                ("delay_ms", "5".into()),
                ("jitter_ms", "2".into()),
                ("loss_percent", "100".into()),
            ],
        );
        assert_eq!(cmd, "tc qdisc replace dev ha0 root netem delay 5ms 2ms loss 100%");
    }

    #[test]
    fn the_documented_example_parses_with_every_capability() {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/target.example.toml"));
        let c = RemoteConfig::load(path).expect("the example parses");
        assert_eq!(c.a.hardware.disks.len(), 2);
        assert_eq!(c.b.hardware.enclosure_i2c.as_ref().map(|e| e.address), Some(0x40));
        let r =
            Remote { cfg: c, probe: "hw-tests".into(), passphrase: None, macs: [None, None], _keep: None };
        for cap in Capability::ALL {
            assert_eq!(r.supports(cap), Ok(()), "{cap:?}");
        }
        let bare = RemoteConfig::parse(MINIMAL, Path::new("t.toml")).expect("parses");
        let r =
            Remote { cfg: bare, probe: "hw-tests".into(), passphrase: None, macs: [None, None], _keep: None };
        assert!(r.supports(Capability::BmcPower).expect_err("not configured").contains("bmc_down"));
        assert_eq!(r.supports(Capability::Impair), Ok(()));
    }

    #[test]
    fn keys_decode_as_controller_and_epoch() {
        let k = ReservationKey::new(Controller::B, 7);
        let j = failover_linux::inspect::KeyJson {
            key: format!("{:#018x}", k.as_u64()),
            controller: None,
            epoch: None,
        };
        assert_eq!(key_of(&j), Some(k));
    }
}
