//! One emulated BMC: `qemu-system-arm -M ast1030-evb` running a firmware image, its
//! console captured, its QMP socket connected, and a [`TestHost`] on its path L.
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

/// A running emulated BMC.
#[derive(Debug)]
pub struct Bmc {
    /// Which controller's BMC.
    pub node: Controller,
    child: Child,
    /// Its QMP session.
    pub qmp: Qmp,
    /// The test host on its path L.
    pub host: TestHost,
    console: Arc<Mutex<Vec<(Instant, String)>>>,
    log: PathBuf,
}

fn listen(path: &Path) -> Result<UnixListener, String> {
    let _ = fs::remove_file(path);
    let l = UnixListener::bind(path).map_err(|e| format!("listen on {}: {e}", path.display()))?;
    l.set_nonblocking(true).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(l)
}

impl Bmc {
    /// Boot `elf` as `node`'s BMC with its sockets in `dir`; the BMC and its path-B
    /// socket (for the link relay).
    pub fn launch(node: Controller, elf: &Path, dir: &Path) -> Result<(Self, UnixStream), String> {
        let name = format!("bmc-{}", node.letter().to_ascii_lowercase());
        let sock = |what: &str| dir.join(format!("{name}.{what}"));
        let listeners = [listen(&sock("con"))?, listen(&sock("host"))?, listen(&sock("link"))?];
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
            .args([
                "-chardev",
                &format!("socket,id=host,path={}", sock("host").display()),
                "-serial",
                "chardev:host",
            ])
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
        let host_stream = streams.pop().ok_or("no path L socket")?;
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
        let host = TestHost::start(node, host_stream, Duration::from_millis(TEST_TIMINGS.interval_ms))?;
        Ok((Self { node, child, qmp, host, console, log }, link))
    }

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

impl Drop for Bmc {
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
