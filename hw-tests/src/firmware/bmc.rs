//! One emulated BMC: `qemu-system-arm -M ast1030-evb` running a firmware image, its
//! console captured, its QMP socket connected, and on its path L either a [`TestHost`]
//! (the firmware suite) or a pty for a real `failoverd` to open as its tty
//! ([`PtyHost`], the system suite).
//!
//! The test listens on a Unix socket per UART and QEMU connects to them as it starts
//! (`-chardev socket,path=...`, client side), so nothing the firmware sends at boot is
//! lost: the sockets buffer it until the test reads. `-serial` order on this machine:
//! #0 UART5 (console), #1 UART1 (path L), #2 UART2 (path B). The QEMU process runs in
//! the case's directory with its stdout and stderr in `bmc-<x>.qemu.log`.

use std::fs::{self, File};
use std::io::{BufRead as _, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use failover_core::wire::Controller;

use super::host::TestHost;
use super::image::{QEMU, TEST_TIMINGS};
use super::qmp::Qmp;

/// How long QEMU may take to connect its sockets.
const START_LIMIT: Duration = Duration::from_secs(10);

/// A running emulated BMC, with `H` on its path L.
#[derive(Debug)]
pub struct Bmc<H = TestHost> {
    /// Which controller's BMC.
    pub node: Controller,
    child: Child,
    /// Its QMP session.
    pub qmp: Qmp,
    /// What is on its path L.
    pub host: H,
    console: Arc<Mutex<Vec<(Instant, String)>>>,
    log: PathBuf,
}

/// Path L as a pty (`-chardev pty`) that a real host opens as its serial port,
/// reached through a symbolic link that stays put when the BMC restarts on a new pty.
#[derive(Debug)]
pub struct PtyHost {
    /// The pty QEMU allocated (`/dev/pts/N`).
    pub pty: PathBuf,
    /// The link the host's configuration names, pointing at `pty`.
    pub link: PathBuf,
}

/// How path L is wired.
enum PathL {
    /// A Unix socket the test accepts.
    Socket,
    /// A pty.
    Pty,
}

/// A QEMU that has started: everything but what sits on path L.
struct Booted {
    child: Child,
    qmp: Qmp,
    console: Arc<Mutex<Vec<(Instant, String)>>>,
    log: PathBuf,
    /// Path L's socket ([`PathL::Socket`] only).
    host: Option<UnixStream>,
    /// Path B's socket, for the link relay.
    link: UnixStream,
}

fn listen(path: &Path) -> Result<UnixListener, String> {
    let _ = fs::remove_file(path);
    let l = UnixListener::bind(path).map_err(|e| format!("listen on {}: {e}", path.display()))?;
    l.set_nonblocking(true).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(l)
}

impl Bmc {
    /// Boot `elf` as `node`'s BMC with its sockets in `dir` and a [`TestHost`] on path
    /// L; the BMC and its path-B socket (for the link relay).
    pub fn launch(node: Controller, elf: &Path, dir: &Path) -> Result<(Self, UnixStream), String> {
        let b = boot(node, elf, dir, PathL::Socket)?;
        let stream = b.host.ok_or("no path L socket")?;
        let host = TestHost::start(node, stream, Duration::from_millis(TEST_TIMINGS.interval_ms))?;
        let bmc = Self { node, child: b.child, qmp: b.qmp, host, console: b.console, log: b.log };
        Ok((bmc, b.link))
    }
}

impl Bmc<PtyHost> {
    /// Boot `elf` as `node`'s BMC with its sockets in `dir` and path L on a pty, linked
    /// from `tty_link` (replacing what was there); the BMC and its path-B socket.
    pub fn launch_pty(
        node: Controller,
        elf: &Path,
        dir: &Path,
        tty_link: &Path,
    ) -> Result<(Self, UnixStream), String> {
        let mut b = boot(node, elf, dir, PathL::Pty)?;
        let chardevs = b.qmp.execute("query-chardev", serde_json::Value::Null)?;
        let pty = chardevs
            .as_array()
            .and_then(|all| all.iter().find(|c| c.get("label").and_then(|l| l.as_str()) == Some("host")))
            .and_then(|c| c.get("filename").and_then(|f| f.as_str()))
            .and_then(|f| f.strip_prefix("pty:"))
            .map(PathBuf::from)
            .ok_or_else(|| format!("QEMU did not report path L's pty: {chardevs}"))?;
        let _ = fs::remove_file(tty_link);
        std::os::unix::fs::symlink(&pty, tty_link)
            .map_err(|e| format!("link {} to {}: {e}", tty_link.display(), pty.display()))?;
        let host = PtyHost { pty, link: tty_link.to_path_buf() };
        let bmc = Self { node, child: b.child, qmp: b.qmp, host, console: b.console, log: b.log };
        Ok((bmc, b.link))
    }
}

/// Start QEMU on `elf` with its console, path L (as `path_l`) and path B wired, and
/// connect QMP.
fn boot(node: Controller, elf: &Path, dir: &Path, path_l: PathL) -> Result<Booted, String> {
    let name = name_of(node);
    let sock = |what: &str| dir.join(format!("{name}.{what}"));
    let mut listeners = vec![listen(&sock("con"))?];
    if matches!(path_l, PathL::Socket) {
        listeners.push(listen(&sock("host"))?);
    }
    listeners.push(listen(&sock("link"))?);
    let host_chardev = match path_l {
        PathL::Socket => format!("socket,id=host,path={}", sock("host").display()),
        PathL::Pty => "pty,id=host".to_owned(),
    };
    let qmp_path = sock("qmp");
    let _ = fs::remove_file(&qmp_path);
    let log = dir.join(format!("{name}.qemu.log"));
    let out = File::create(&log).map_err(|e| format!("create {}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| format!("{}: {e}", log.display()))?;
    let mut cmd = Command::new(QEMU);
    cmd.args(["-M", "ast1030-evb", "-display", "none", "-monitor", "none", "-name", &name])
        .arg("-kernel")
        .arg(elf)
        .args([
            "-chardev",
            &format!("socket,id=con,path={}", sock("con").display()),
            "-serial",
            "chardev:con",
        ])
        .args(["-chardev", &host_chardev, "-serial", "chardev:host"])
        .args([
            "-chardev",
            &format!("socket,id=link,path={}", sock("link").display()),
            "-serial",
            "chardev:link",
        ])
        .args(["-qmp", &format!("unix:{},server=on,wait=off", qmp_path.display())])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    let mut child = cmd.spawn().map_err(|e| format!("cannot start {QEMU}: {e}"))?;
    let deadline = Instant::now() + START_LIMIT;
    let mut streams = Vec::new();
    for l in &listeners {
        match accept(l, &mut child, deadline) {
            Ok(s) => streams.push(s),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                let qemu = fs::read_to_string(&log).unwrap_or_default();
                return Err(format!("{name}: {e}; {QEMU} said: {}", qemu.trim()));
            }
        }
    }
    let link = streams.pop().ok_or("no path B socket")?;
    let host =
        if matches!(path_l, PathL::Socket) { Some(streams.pop().ok_or("no path L socket")?) } else { None };
    let console_stream = streams.pop().ok_or("no console socket")?;
    let console = Arc::new(Mutex::new(Vec::new()));
    spawn_console(console_stream, Arc::clone(&console), dir.join(format!("{name}.console.log")))?;
    let qmp = match Qmp::connect(&qmp_path, deadline) {
        Ok(q) => q,
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
    };
    Ok(Booted { child, qmp, console, log, host, link })
}

impl<H> Bmc<H> {
    /// Kill QEMU (SIGKILL) now; when it is gone.
    pub fn kill(&mut self) -> Instant {
        let _ = self.child.kill();
        let _ = self.child.wait();
        Instant::now()
    }

    /// CPU time QEMU has used so far (user + system), from `/proc/<pid>/stat`.
    pub fn cpu_time(&self) -> Result<Duration, String> {
        let path = format!("/proc/{}/stat", self.child.id());
        let stat = fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        // Fields after the parenthesised command name; utime and stime are the 14th and
        // 15th fields of the line, in clock ticks.
        let rest =
            stat.rsplit_once(')').map(|(_, r)| r).ok_or_else(|| format!("{path}: unexpected format"))?;
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| {
            f.get(i).and_then(|v| v.parse::<u64>().ok()).ok_or_else(|| format!("{path}: no field {i}"))
        };
        // SAFETY: sysconf has no preconditions.
        let hz = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).unwrap_or(100).max(1);
        Ok(Duration::from_millis((ticks(11)? + ticks(12)?) * 1000 / hz))
    }

    /// Console lines after `since` that start with `word`.
    pub fn console(&self, word: &str, since: Instant) -> Vec<(Instant, String)> {
        self.console
            .lock()
            .map(|c| {
                c.iter().filter(|(t, l)| *t >= since && l.split(' ').next() == Some(word)).cloned().collect()
            })
            .unwrap_or_default()
    }

    /// The last `n` console lines and QEMU's own output, for a failure report.
    pub fn tail(&self, n: usize) -> String {
        let lines: Vec<String> = self
            .console
            .lock()
            .map(|c| c.iter().rev().take(n).rev().map(|(_, l)| format!("    {l}")).collect())
            .unwrap_or_default();
        let qemu = fs::read_to_string(&self.log).unwrap_or_default();
        format!(
            "\n  BMC {} console (last {n} lines):\n{}{}",
            self.node,
            lines.join("\n"),
            if qemu.trim().is_empty() { String::new() } else { format!("\n  qemu: {}", qemu.trim()) }
        )
    }
}

impl<H> Drop for Bmc<H> {
    fn drop(&mut self) {
        self.kill();
    }
}

fn accept(l: &UnixListener, child: &mut Child, deadline: Instant) -> Result<UnixStream, String> {
    loop {
        match l.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).map_err(|e| format!("socket: {e}"))?;
                return Ok(s);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(format!("accept: {e}")),
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("QEMU exited ({status}) before connecting its UARTs"));
        }
        if Instant::now() >= deadline {
            return Err(format!("QEMU did not connect its UARTs within {START_LIMIT:?}"));
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// The BMC's name in file names: `bmc-a`, `bmc-b` (its console goes to
/// `<dir>/<name>.console.log`, rewritten at each boot).
pub fn name_of(node: Controller) -> String {
    format!("bmc-{}", node.letter().to_ascii_lowercase())
}

fn spawn_console(
    stream: UnixStream,
    lines: Arc<Mutex<Vec<(Instant, String)>>>,
    log: PathBuf,
) -> Result<(), String> {
    let mut file = File::create(&log).map_err(|e| format!("create {}: {e}", log.display()))?;
    thread::spawn(move || {
        for line in BufReader::new(stream).split(b'\n') {
            let Ok(line) = line else { return };
            let line = String::from_utf8_lossy(&line).trim_end_matches('\r').to_owned();
            let _ = writeln!(file, "{line}");
            if let Ok(mut l) = lines.lock() {
                l.push((Instant::now(), line));
            }
        }
    });
    Ok(())
}
