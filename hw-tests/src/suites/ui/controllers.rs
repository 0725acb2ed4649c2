//! Two real `failoverd` processes on loopback with simulated backends (as `failoverd
//! demo` runs them: no namespaces, no root needed for the link), each serving its web
//! UI: A over HTTP, B over HTTPS with a self-signed certificate made by `openssl`.

use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use failover_core::wire::Controller;
use failover_linux::api::client::ApiClient;
use failover_linux::api::types::{InterfaceJson, SettingsJson, StatusJson};

use super::browser::free_tcp_port;
use crate::suites::rig::{Binaries, TempDir, run_cmd};
use crate::suites::shared_toml::SharedToml;

/// The administrator's password in the suite's configurations.
pub const PASSWORD: &str = "ui-suite-password";
/// How long a daemon may take to come up or settle.
pub const SETTLE: Duration = Duration::from_secs(15);

/// One daemon; SIGKILLed and reaped on drop.
#[derive(Debug)]
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The pair, its directory and API clients.
#[derive(Debug)]
pub struct Controllers {
    daemons: [Option<Daemon>; 2],
    bins: Binaries,
    dir: TempDir,
    ui_ports: [u16; 2],
    clients: [ApiClient; 2],
    rt: tokio::runtime::Runtime,
}

fn lower(c: Controller) -> String {
    c.letter().to_ascii_lowercase().to_string()
}

fn free_udp_port() -> io::Result<u16> {
    Ok(std::net::UdpSocket::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The password's PHC string, from the daemon itself (`failoverd hash-password`).
fn hash_password(failoverd: &Path) -> Result<String, String> {
    let mut child = Command::new(failoverd)
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("failoverd hash-password: {e}"))?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(PASSWORD.as_bytes())
        .map_err(|e| format!("failoverd hash-password: {e}"))?;
    let out = child.wait_with_output().map_err(|e| format!("failoverd hash-password: {e}"))?;
    let phc = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || !phc.starts_with("$argon2id$") {
        return Err(format!(
            "failoverd hash-password failed ({}): {phc} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(phc)
}

/// Controller `c`'s configuration.
fn config(d: &Path, c: Controller, link: [u16; 2], ui: u16, hash: &str) -> String {
    let me = c.letter();
    let l = lower(c);
    let dd = d.display();
    let (local, peer) = match c {
        Controller::A => (link[0], link[1]),
        Controller::B => (link[1], link[0]),
    };
    let tls = match c {
        Controller::A => String::new(),
        Controller::B => format!("tls_cert = \"{dd}/ui.crt\"\ntls_key = \"{dd}/ui.key\"\n"),
    };
    format!(
        r#"# Written by hw-tests (ui suite) for controller {me}.
[node]
controller = "{me}"
state_file = "{dd}/{l}/state"

[link]
local = "127.0.0.1:{local}"
peer = "127.0.0.1:{peer}"
key_file = "{dd}/link.key"

[backends]
disk = {{ kind = "sim", path = "{dd}/disks", disks = 4 }}
watchdog = {{ kind = "sim", path = "{dd}/{l}/watchdog", timeout_ms = 1000 }}
enclosure = {{ kind = "sim", path = "{dd}/enclosure" }}
peer_reset = {{ kind = "sim", path = "{dd}/pids" }}
vips = {{ kind = "sim", path = "{dd}/vips" }}

[api]
socket = "{dd}/{l}/failoverd.sock"

[ui]
listen = "127.0.0.1:{ui}"
password_hash = "{hash}"
session_idle_minutes = 30
{tls}
{shared}"#,
        shared = SharedToml {
            timeout_ms: 50,
            heartbeat_ms: 10,
            check_ms: None,
            interface: "eth0",
            vip: "192.0.2.100",
            more_interfaces: "\n[[interfaces]]\nname = \"eth1\"\naddresses_a = [\"203.0.113.10/24\"]\naddresses_b = [\"203.0.113.11/24\"]\n",
            encrypted: true,
        }
        .render()
    )
}

impl Controllers {
    /// Write both configurations (and B's certificate); nothing running yet.
    pub fn new(bins: &Binaries) -> Result<Self, String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("tokio runtime: {e}"))?;
        let dir = TempDir::new("ui")?;
        let d = dir.path();
        for sub in ["a", "b", "disks", "pids"] {
            fs::create_dir_all(d.join(sub)).map_err(|e| format!("{}: {e}", d.display()))?;
        }
        let mut key = [0u8; 32];
        fs::File::open("/dev/urandom")
            .and_then(|mut f| io::Read::read_exact(&mut f, &mut key))
            .map_err(|e| format!("/dev/urandom: {e}"))?;
        fs::write(d.join("link.key"), key).map_err(|e| format!("link.key: {e}"))?;
        let (crt, key) = (d.join("ui.crt"), d.join("ui.key"));
        run_cmd(
            "openssl",
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-days",
                "2",
                "-nodes",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-keyout",
                &key.to_string_lossy(),
                "-out",
                &crt.to_string_lossy(),
            ],
        )?;
        let hash = hash_password(&bins.failoverd)?;
        let link = [free_udp_port().map_err(|e| e.to_string())?, free_udp_port().map_err(|e| e.to_string())?];
        let ui_ports =
            [free_tcp_port().map_err(|e| e.to_string())?, free_tcp_port().map_err(|e| e.to_string())?];
        for c in [Controller::A, Controller::B] {
            let path = Self::config_path(d, c);
            fs::write(&path, config(d, c, link, ui_ports[c.index()], &hash))
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        let clients = [Controller::A, Controller::B].map(|c| {
            ApiClient::new(d.join(lower(c)).join("failoverd.sock")).with_timeout(Duration::from_secs(2))
        });
        Ok(Self { daemons: [None, None], bins: bins.clone(), dir, ui_ports, clients, rt })
    }

    fn config_path(d: &Path, c: Controller) -> PathBuf {
        d.join(lower(c)).join("failoverd.toml")
    }

    /// A controller's log.
    pub fn log_path(&self, c: Controller) -> PathBuf {
        self.dir.path().join(lower(c)).join("failoverd.log")
    }

    /// The base URL of a controller's UI (`http://` for A, `https://` for B).
    pub fn url(&self, c: Controller) -> String {
        let scheme = if c == Controller::A { "http" } else { "https" };
        format!("{scheme}://127.0.0.1:{}", self.ui_ports[c.index()])
    }

    /// Start (or restart) a controller.
    pub fn start(&mut self, c: Controller) -> Result<(), String> {
        self.daemons[c.index()] = None;
        let log = self.log_path(c);
        let mut out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let _ = writeln!(out, "==== hw-tests: starting failoverd ====");
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(&self.bins.failoverd);
        cmd.args(["run", "--config"])
            .arg(Self::config_path(self.dir.path(), c))
            .env("RUST_LOG", std::env::var("FO_RUST_LOG").unwrap_or_else(|_| "info".into()))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        crate::process::dies_with_runner(&mut cmd);
        let child = cmd.spawn().map_err(|e| format!("starting failoverd {c}: {e}"))?;
        self.daemons[c.index()] = Some(Daemon(child));
        Ok(())
    }

    /// SIGKILL a controller (what a crash or a power loss does).
    pub fn kill(&mut self, c: Controller) {
        self.daemons[c.index()] = None;
    }

    /// A controller's status over its API.
    pub fn status(&self, c: Controller) -> Result<StatusJson, String> {
        self.rt.block_on(self.clients[c.index()].status()).map_err(|e| format!("{c}: status: {e}"))
    }

    /// A controller's failover settings over its API.
    pub fn settings(&self, c: Controller) -> Result<SettingsJson, String> {
        self.rt.block_on(self.clients[c.index()].settings()).map_err(|e| format!("{c}: settings: {e}"))
    }

    /// A controller's interfaces over its API.
    pub fn interfaces(&self, c: Controller) -> Result<Vec<InterfaceJson>, String> {
        self.rt.block_on(self.clients[c.index()].interfaces()).map_err(|e| format!("{c}: interfaces: {e}"))
    }

    /// Wait until `c`'s status satisfies `want`.
    pub fn wait_status(
        &self,
        c: Controller,
        what: &str,
        want: impl Fn(&StatusJson) -> bool,
    ) -> Result<StatusJson, String> {
        let t0 = Instant::now();
        let mut last = String::from("no answer");
        while t0.elapsed() < SETTLE {
            match self.status(c) {
                Ok(s) if want(&s) => return Ok(s),
                Ok(s) => last = format!("{} epoch {} reasons {:?}", s.status, s.epoch, s.disabled_reasons),
                Err(e) => last = e,
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("{c} not {what} after {} s (last: {last})", SETTLE.as_secs()))
    }

    /// The last lines of both logs, for failure messages.
    pub fn log_tails(&self) -> String {
        let mut out = String::new();
        for c in [Controller::A, Controller::B] {
            let text = fs::read_to_string(self.log_path(c)).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            out.push_str(&format!("\n  ---- {c} log ({}) ----", self.log_path(c).display()));
            for l in &lines[lines.len().saturating_sub(12)..] {
                out.push_str(&format!("\n  {c}| {l}"));
            }
        }
        out
    }
}
