//! A simulated hardware watchdog, a do-nothing one, and a simulated peer host reset.
//!
//! # SimWatchdog
//!
//! A hardware watchdog resets the host however wedged the software is, so the simulated
//! one cannot be a thread of `failoverd`: a SIGSTOPped or deadlocked process would stop
//! it too. It is a *supervisor process*: [`SimWatchdog::start`] re-executes the current
//! executable (`/proc/self/exe`) as
//!
//! ```text
//! <current exe> __watchdog-supervisor <pid to kill> <kick file> <timeout ms>
//! ```
//!
//! in its own process group (a terminal's ^Z or ^C does not reach it). **`failoverd`'s
//! `main` must dispatch that invocation before anything else**, either with
//! [`run_if_supervisor`]:
//!
//! ```no_run
//! if let Some(code) = failover_linux::backend::sim_watchdog::run_if_supervisor() {
//!     std::process::exit(code);
//! }
//! ```
//!
//! or by calling [`supervisor_main`] with the arguments after [`SUPERVISOR_ARG`]. The
//! supervisor polls the kick file every [`POLL`]; every change of its content is a kick
//! (the supervisor times kicks on its own monotonic clock, so wall-clock jumps do not
//! matter). Without a kick for the timeout it prints `watchdog fired` to stderr and
//! SIGKILLs the supervised process (the "reset"). Content `V` is the magic close: it
//! exits without firing. If the supervised process dies, it exits too.
//!
//! Like the real device (softdog, see HIL-LINUX.md), dropping a [`SimWatchdog`] without
//! [`Watchdog::stop`] leaves it armed: it fires at the last kick plus the timeout.
//! [`SimWatchdog::start`] waits for the supervisor to report ready, so a `main` that
//! does not dispatch the hidden argument is an error at start, not a silent no-op.
//!
//! # SimPeerReset
//!
//! The BMC's reset line, simulated: SIGKILL the peer `failoverd`, whose pid is in
//! `<dir>/<controller>.pid` ([`SimPeerReset::write_pid_file`], called by the service at
//! start). The file also records the process start time, so a stale file whose pid was
//! reused by an unrelated process never gets that process killed.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::fs::FileExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use failover_core::wire::Controller;
use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, getppid};

use super::{BackendError, PeerReset, Watchdog};

/// The hidden first argument that makes the executable a watchdog supervisor.
pub const SUPERVISOR_ARG: &str = "__watchdog-supervisor";

/// How often the supervisor looks at the kick file: the firing time is late by at most
/// this, and a poll is one small read.
pub const POLL: Duration = Duration::from_millis(5);

/// Supervisor exit status: stopped by the magic close.
pub const EXIT_STOPPED: i32 = 0;
/// Supervisor exit status: the supervised process went away.
pub const EXIT_TARGET_GONE: i32 = 1;
/// Supervisor exit status: it fired and killed the supervised process.
pub const EXIT_FIRED: i32 = 2;
/// Supervisor exit status: bad arguments.
pub const EXIT_USAGE: i32 = 64;

/// The running executable, whatever happened to its path since.
const SELF_EXE: &str = "/proc/self/exe";
/// What the supervisor writes on stdout once it watches (the only thing it writes there).
const READY_TOKEN: &str = "__watchdog-supervisor-ready";
/// How long [`SimWatchdog::start`] waits for the supervisor to come up.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long [`Watchdog::stop`] waits for the supervisor to exit before killing it.
const STOP_TIMEOUT: Duration = Duration::from_secs(2);
/// A kick: a 20-digit counter and a newline, written at offset 0 in one `pwrite`.
const KICK_LEN: usize = 21;

/// The simulated watchdog: a supervisor process watching a kick file.
#[derive(Debug)]
pub struct SimWatchdog {
    kick_file: PathBuf,
    file: File,
    kicks: u64,
    timeout: Duration,
    program: PathBuf,
    child: Child,
    stopped: bool,
}

impl SimWatchdog {
    /// Arm a watchdog over this process: re-execute the current executable as the
    /// supervisor (see the module doc: `main` must dispatch [`SUPERVISOR_ARG`]). It is
    /// executed as `/proc/self/exe`, the running image even if the file was replaced
    /// (an upgrade, a rebuild) since we started.
    pub fn start(kick_file: impl AsRef<Path>, timeout: Duration) -> Result<Self, BackendError> {
        Self::start_with(Command::new(SELF_EXE), std::process::id(), kick_file, timeout)
    }

    /// Arm a watchdog over process `target` with `supervisor` as the supervisor command:
    /// the arguments `__watchdog-supervisor <target> <kick file> <timeout ms>` are
    /// appended to it, and it must end up in [`supervisor_main`] with them.
    pub fn start_with(
        mut supervisor: Command,
        target: u32,
        kick_file: impl AsRef<Path>,
        timeout: Duration,
    ) -> Result<Self, BackendError> {
        let kick_file = kick_file.as_ref().to_path_buf();
        let program = PathBuf::from(supervisor.get_program());
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&kick_file)
            .map_err(|e| BackendError::io(&kick_file, e))?;
        write_kick(&file, 0).map_err(|e| BackendError::io(&kick_file, e))?;
        let mut child = supervisor
            .arg(SUPERVISOR_ARG)
            .arg(target.to_string())
            .arg(&kick_file)
            .arg(timeout.as_millis().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|e| BackendError::io(&program, e))?;
        let ready = match child.stdout.take() {
            Some(stdout) => wait_ready(stdout),
            None => Err("no stdout pipe".to_owned()),
        };
        if let Err(mut reason) = ready {
            if let Ok(Some(status)) = child.try_wait() {
                reason = format!("{reason}: {status}");
            }
            // Best effort: it is ours and useless.
            let _ = child.kill();
            let _ = child.wait();
            return Err(BackendError::Supervisor { program, reason });
        }
        Ok(Self { kick_file, file, kicks: 0, timeout, program, child, stopped: false })
    }

    /// The supervisor's pid.
    pub fn supervisor_pid(&self) -> u32 {
        self.child.id()
    }

    fn device(&self) -> String {
        self.kick_file.display().to_string()
    }
}

/// Read the supervisor's stdout until the ready token (other lines, such as a test
/// harness's banner, are skipped), for at most [`READY_TIMEOUT`].
fn wait_ready(stdout: std::process::ChildStdout) -> Result<(), String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let ready = loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break false,
                Ok(_) if line.contains(READY_TOKEN) => break true,
                Ok(_) => {}
            }
        };
        let _ = tx.send(ready);
    });
    match rx.recv_timeout(READY_TIMEOUT) {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!("exited without reporting ready (does main dispatch {SUPERVISOR_ARG}?)")),
        Err(_) => Err(format!("not ready after {} s", READY_TIMEOUT.as_secs())),
    }
}

fn write_kick(file: &File, n: u64) -> std::io::Result<()> {
    let s = format!("{n:020}\n");
    debug_assert_eq!(s.len(), KICK_LEN);
    file.write_all_at(s.as_bytes(), 0)
}

impl Watchdog for SimWatchdog {
    fn kick(&mut self) -> Result<(), BackendError> {
        if self.stopped {
            return Err(BackendError::WatchdogStopped { device: self.device() });
        }
        if let Ok(Some(status)) = self.child.try_wait() {
            return Err(BackendError::Supervisor {
                program: self.program.clone(),
                reason: format!("exited ({status})"),
            });
        }
        self.kicks = self.kicks.wrapping_add(1);
        write_kick(&self.file, self.kicks).map_err(|e| BackendError::io(&self.kick_file, e))
    }

    fn stop(&mut self) -> Result<(), BackendError> {
        if self.stopped {
            return Ok(());
        }
        let magic = format!("{:<width$}\n", "V", width = KICK_LEN - 1);
        self.file.write_all_at(magic.as_bytes(), 0).map_err(|e| BackendError::io(&self.kick_file, e))?;
        self.stopped = true;
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => return Ok(()),
                Ok(None) if Instant::now() < deadline => std::thread::sleep(POLL),
                // Disarm it the hard way: it is our child and must not fire now.
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return Ok(());
                }
            }
        }
    }

    fn describe(&self) -> String {
        format!(
            "simulated watchdog (supervisor pid {}, kick file {}, timeout {} ms)",
            self.child.id(),
            self.kick_file.display(),
            self.timeout.as_millis()
        )
    }
}

/// No watchdog: kicks and stops do nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoWatchdog;

impl Watchdog for NoWatchdog {
    fn kick(&mut self) -> Result<(), BackendError> {
        Ok(())
    }

    fn stop(&mut self) -> Result<(), BackendError> {
        Ok(())
    }

    fn describe(&self) -> String {
        "none".to_owned()
    }
}

/// If this process was started as a watchdog supervisor (`argv[1]` is
/// [`SUPERVISOR_ARG`]), run it and return its exit status; otherwise `None` at once.
pub fn run_if_supervisor() -> Option<i32> {
    let args: Vec<String> = std::env::args().collect();
    (args.get(1).map(String::as_str) == Some(SUPERVISOR_ARG)).then(|| supervisor_main(&args[2..]))
}

/// The supervisor: `args` are `<pid> <kick file> <timeout ms>` (a leading
/// [`SUPERVISOR_ARG`] is skipped). Returns the exit status: [`EXIT_STOPPED`],
/// [`EXIT_TARGET_GONE`], [`EXIT_FIRED`] or [`EXIT_USAGE`]. It writes the ready token to
/// stdout and its reports to stderr, unbuffered, bypassing any test output capture.
pub fn supervisor_main(args: &[String]) -> i32 {
    let args = match args.first() {
        Some(a) if a == SUPERVISOR_ARG => &args[1..],
        _ => args,
    };
    let parsed = match args {
        [pid, file, ms] => pid
            .parse::<i32>()
            .ok()
            .filter(|&p| p > 1)
            .zip(ms.parse::<u64>().ok().filter(|&ms| ms > 0))
            .map(|(pid, ms)| (Pid::from_raw(pid), PathBuf::from(file), Duration::from_millis(ms))),
        _ => None,
    };
    let Some((target, kick_file, timeout)) = parsed else {
        report(&format!("usage: {SUPERVISOR_ARG} <pid > 1> <kick file> <timeout ms > 0>"));
        return EXIT_USAGE;
    };
    // Our parent is the supervised process itself (the normal case): its death
    // reparents us, which is seen even while it lingers as a zombie.
    let watch_parent = getppid() == target;
    let mut last = read_kick(&kick_file);
    let mut last_kick = Instant::now();
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{READY_TOKEN}");
        let _ = out.flush();
    }
    loop {
        std::thread::sleep(POLL);
        if !alive(target) || (watch_parent && getppid() != target) {
            report(&format!("pid {target} is gone; watchdog exits"));
            return EXIT_TARGET_GONE;
        }
        // Read before judging the time: a supervisor that was itself delayed must not
        // fire over kicks it has not looked at yet.
        let now = read_kick(&kick_file);
        if now.as_deref().map(str::trim) == Some("V") {
            return EXIT_STOPPED;
        }
        if now.is_some() && now != last {
            last = now;
            last_kick = Instant::now();
        }
        let silent = last_kick.elapsed();
        if silent >= timeout {
            report(&format!(
                "watchdog fired: no kick in {} for {} ms; killing pid {target}",
                kick_file.display(),
                silent.as_millis()
            ));
            if let Err(e) = kill(target, Signal::SIGKILL) {
                report(&format!("kill {target}: {e}"));
            }
            return EXIT_FIRED;
        }
    }
}

fn report(msg: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{SUPERVISOR_ARG}[{}]: {msg}", std::process::id());
}

fn read_kick(path: &Path) -> Option<String> {
    fs::read_to_string(path).ok()
}

/// Whether `pid` exists and is not a zombie.
fn alive(pid: Pid) -> bool {
    match kill(pid, None) {
        Ok(()) => proc_stat(pid).is_none_or(|s| s.state != 'Z'),
        Err(Errno::EPERM) => true,
        Err(_) => false,
    }
}

/// The fields of `/proc/<pid>/stat` we use.
struct ProcStat {
    state: char,
    start_time: u64,
}

fn proc_stat(pid: Pid) -> Option<ProcStat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S ppid ...": comm may hold anything, so split after the last ')'.
    let mut fields = text.get(text.rfind(')')? + 1..)?.split_whitespace();
    let state = fields.next()?.chars().next()?;
    // Field 22 (starttime) is the 20th after the state (field 3).
    let start_time = fields.nth(18)?.parse().ok()?;
    Some(ProcStat { state, start_time })
}

/// How long [`SimPeerReset::reset`] waits for the killed process to be gone.
const RESET_WAIT: Duration = Duration::from_secs(2);

/// The simulated reset line: SIGKILL the pid in `<dir>/<controller>.pid`.
#[derive(Clone, Debug)]
pub struct SimPeerReset {
    dir: PathBuf,
}

impl SimPeerReset {
    /// Reset through the pid files in `dir`.
    pub fn new(dir: impl AsRef<Path>) -> Self {
        Self { dir: dir.as_ref().to_path_buf() }
    }

    /// The pid file of `controller` in `dir`.
    pub fn pid_file(dir: impl AsRef<Path>, controller: Controller) -> PathBuf {
        dir.as_ref().join(format!("{}.pid", controller.letter()))
    }

    /// Write this process's pid file for `me` (`<pid> <start time>`, atomically), so the
    /// peer can reset us. The service calls it at start.
    pub fn write_pid_file(dir: impl AsRef<Path>, me: Controller) -> Result<PathBuf, BackendError> {
        let dir = dir.as_ref();
        fs::create_dir_all(dir).map_err(|e| BackendError::io(dir, e))?;
        let path = Self::pid_file(dir, me);
        let tmp = path.with_extension("pid.tmp");
        let pid = std::process::id();
        let start = proc_stat(Pid::from_raw(pid as i32)).map(|s| s.start_time);
        let text = match start {
            Some(t) => format!("{pid} {t}\n"),
            None => format!("{pid}\n"),
        };
        fs::write(&tmp, text).map_err(|e| BackendError::io(&tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| BackendError::io(&path, e))?;
        Ok(path)
    }
}

impl PeerReset for SimPeerReset {
    /// Kill `target`'s process and wait until it is gone (its locks released). A pid
    /// file naming a process that no longer runs (gone, or its pid reused, which the
    /// start time reveals) means the host is already down: `Ok`.
    fn reset(&self, target: Controller) -> Result<(), BackendError> {
        let path = Self::pid_file(&self.dir, target);
        let text = fs::read_to_string(&path).map_err(|e| BackendError::io(&path, e))?;
        let corrupt = |reason: &str| BackendError::Corrupt { path: path.clone(), reason: reason.to_owned() };
        let mut fields = text.split_whitespace();
        let raw: i64 = fields.next().and_then(|p| p.parse().ok()).ok_or_else(|| corrupt("no pid"))?;
        let start_time: Option<u64> = match fields.next() {
            Some(t) => Some(t.parse().map_err(|_| corrupt("bad start time"))?),
            None => None,
        };
        let unsafe_pid = |reason| BackendError::UnsafePid { path: path.clone(), pid: raw, reason };
        // kill(0) is our process group, kill(-n) a group, kill(-1) everything, 1 is init.
        let pid =
            i32::try_from(raw).ok().filter(|&p| p > 1).ok_or_else(|| unsafe_pid("not a single process"))?;
        if u32::try_from(pid).ok() == Some(std::process::id()) {
            return Err(unsafe_pid("that is this process"));
        }
        let pid = Pid::from_raw(pid);
        match (proc_stat(pid), start_time) {
            (None, _) => return Ok(()),
            (Some(s), Some(t)) if s.start_time != t => return Ok(()),
            _ => {}
        }
        match kill(pid, Signal::SIGKILL) {
            Ok(()) => {}
            Err(Errno::ESRCH) => return Ok(()),
            Err(source) => {
                return Err(BackendError::Signal { pid: pid.as_raw(), signal: Signal::SIGKILL, source });
            }
        }
        let deadline = Instant::now() + RESET_WAIT;
        while alive(pid) {
            if Instant::now() >= deadline {
                return Err(BackendError::Signal {
                    pid: pid.as_raw(),
                    signal: Signal::SIGKILL,
                    source: Errno::ETIMEDOUT,
                });
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt as _;

    use super::*;

    const TRAMPOLINE: &str = "backend::sim_watchdog::tests::supervisor_trampoline";

    /// Not a test: when this test binary is started as a supervisor (by
    /// [`supervisor_command`]), this runs it; in a normal test run it does nothing.
    #[test]
    fn supervisor_trampoline() {
        let args: Vec<String> = std::env::args().collect();
        if let Some(i) = args.iter().position(|a| a == SUPERVISOR_ARG) {
            std::process::exit(supervisor_main(&args[i + 1..]));
        }
    }

    /// This test binary, running only [`supervisor_trampoline`]; the supervisor
    /// arguments come after `--` as (non-matching) exact test-name filters.
    fn supervisor_command() -> Command {
        // Not current_exe(): cargo may relink the test binary while the tests run.
        let mut cmd = Command::new(SELF_EXE);
        cmd.args(["--exact", TRAMPOLINE, "--nocapture", "--test-threads=1", "--"]);
        cmd
    }

    fn sleeper() -> Child {
        Command::new("sleep").arg("30").spawn().unwrap()
    }

    fn args(pid: u32, file: &Path, ms: u64) -> Vec<String> {
        vec![pid.to_string(), file.display().to_string(), ms.to_string()]
    }

    fn wait_exit(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(s) = child.try_wait().unwrap() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    }

    #[test]
    fn supervisor_fires_without_kicks() {
        let tmp = tempfile::tempdir().unwrap();
        let kick = tmp.path().join("kick");
        fs::write(&kick, "0").unwrap();
        let mut victim = sleeper();
        let t0 = Instant::now();
        let code = supervisor_main(&args(victim.id(), &kick, 150));
        assert_eq!(code, EXIT_FIRED);
        assert!(t0.elapsed() >= Duration::from_millis(150));
        let status = wait_exit(&mut victim, Duration::from_secs(5)).unwrap();
        assert_eq!(status.signal(), Some(Signal::SIGKILL as i32));
    }

    #[test]
    fn supervisor_spares_a_kicked_target_and_stops_on_magic_close() {
        let tmp = tempfile::tempdir().unwrap();
        let kick = tmp.path().join("kick");
        fs::write(&kick, "0").unwrap();
        let mut victim = sleeper();
        let a = args(victim.id(), &kick, 400);
        let sup = std::thread::spawn(move || supervisor_main(&a));
        for n in 1..=20 {
            std::thread::sleep(Duration::from_millis(30));
            fs::write(&kick, n.to_string()).unwrap();
        }
        assert!(!sup.is_finished(), "fired although kicked");
        fs::write(&kick, "V").unwrap();
        assert_eq!(sup.join().unwrap(), EXIT_STOPPED);
        // Long after the timeout, nothing fired.
        std::thread::sleep(Duration::from_millis(500));
        assert!(victim.try_wait().unwrap().is_none());
        victim.kill().unwrap();
        victim.wait().unwrap();
    }

    #[test]
    fn supervisor_exits_when_the_target_dies() {
        let tmp = tempfile::tempdir().unwrap();
        let kick = tmp.path().join("kick");
        fs::write(&kick, "0").unwrap();
        let mut victim = sleeper();
        let a = args(victim.id(), &kick, 60_000);
        let sup = std::thread::spawn(move || supervisor_main(&a));
        std::thread::sleep(Duration::from_millis(50));
        victim.kill().unwrap();
        // Still a zombie (not reaped yet): that counts as gone.
        assert_eq!(sup.join().unwrap(), EXIT_TARGET_GONE);
        victim.wait().unwrap();
    }

    #[test]
    fn supervisor_rejects_bad_arguments() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(supervisor_main(&s(&[])), EXIT_USAGE);
        assert_eq!(supervisor_main(&s(&["1", "/tmp/k", "100"])), EXIT_USAGE);
        assert_eq!(supervisor_main(&s(&["-1", "/tmp/k", "100"])), EXIT_USAGE);
        assert_eq!(supervisor_main(&s(&[SUPERVISOR_ARG, "1234", "/tmp/k", "0"])), EXIT_USAGE);
        assert_eq!(supervisor_main(&s(&["x", "/tmp/k", "100"])), EXIT_USAGE);
    }

    #[test]
    fn sim_watchdog_kicked_then_stopped_never_fires() {
        let tmp = tempfile::tempdir().unwrap();
        let kick = tmp.path().join("kick");
        let mut victim = sleeper();
        let mut wd =
            SimWatchdog::start_with(supervisor_command(), victim.id(), &kick, Duration::from_millis(400))
                .unwrap();
        assert!(wd.describe().contains("timeout 400 ms"));
        for _ in 0..15 {
            std::thread::sleep(Duration::from_millis(40));
            wd.kick().unwrap();
        }
        wd.stop().unwrap();
        assert_eq!(wait_exit(&mut wd.child, Duration::from_secs(1)).unwrap().code(), Some(EXIT_STOPPED));
        assert!(matches!(wd.kick(), Err(BackendError::WatchdogStopped { .. })));
        wd.stop().unwrap();
        std::thread::sleep(Duration::from_millis(500));
        assert!(victim.try_wait().unwrap().is_none());
        victim.kill().unwrap();
        victim.wait().unwrap();
    }

    #[test]
    fn sim_watchdog_fires_when_the_kicker_is_stopped() {
        let tmp = tempfile::tempdir().unwrap();
        let kick = tmp.path().join("kick");
        // The "failoverd": a shell that kicks every 20 ms until it is SIGSTOPped.
        let script = format!("while :; do date +%s%N > '{}'; sleep 0.02; done", kick.display());
        let mut kicker = Command::new("/bin/sh").args(["-c", &script]).spawn().unwrap();
        let mut wd =
            SimWatchdog::start_with(supervisor_command(), kicker.id(), &kick, Duration::from_millis(500))
                .unwrap();
        std::thread::sleep(Duration::from_millis(700));
        assert!(kicker.try_wait().unwrap().is_none(), "fired while the kicker ran");
        let pid = Pid::from_raw(kicker.id() as i32);
        let stopped_at = Instant::now();
        kill(pid, Signal::SIGSTOP).unwrap();
        let status = wait_exit(&mut kicker, Duration::from_secs(5)).expect("the watchdog did not fire");
        assert_eq!(status.signal(), Some(Signal::SIGKILL as i32));
        assert!(stopped_at.elapsed() >= Duration::from_millis(400));
        assert_eq!(wait_exit(&mut wd.child, Duration::from_secs(1)).unwrap().code(), Some(EXIT_FIRED));
        // A dead supervisor is reported on the next kick.
        assert!(matches!(wd.kick(), Err(BackendError::Supervisor { .. })));
    }

    #[test]
    fn sim_watchdog_start_fails_if_main_does_not_dispatch() {
        let tmp = tempfile::tempdir().unwrap();
        let victim_pid = std::process::id();
        let err = SimWatchdog::start_with(
            Command::new("true"),
            victim_pid,
            tmp.path().join("k"),
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(matches!(err, BackendError::Supervisor { .. }), "{err}");
    }

    #[test]
    fn no_watchdog_does_nothing() {
        let mut wd = NoWatchdog;
        wd.kick().unwrap();
        wd.stop().unwrap();
        assert_eq!(wd.describe(), "none");
    }

    #[test]
    fn peer_reset_kills_the_recorded_process() {
        let tmp = tempfile::tempdir().unwrap();
        let mut victim = sleeper();
        let start = proc_stat(Pid::from_raw(victim.id() as i32)).unwrap().start_time;
        let file = SimPeerReset::pid_file(tmp.path(), Controller::B);
        fs::write(&file, format!("{} {start}\n", victim.id())).unwrap();
        SimPeerReset::new(tmp.path()).reset(Controller::B).unwrap();
        let status = wait_exit(&mut victim, Duration::from_secs(5)).unwrap();
        assert_eq!(status.signal(), Some(Signal::SIGKILL as i32));
        // Resetting a host that is already down is fine.
        SimPeerReset::new(tmp.path()).reset(Controller::B).unwrap();
    }

    #[test]
    fn peer_reset_spares_a_reused_pid_and_refuses_unsafe_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let reset = SimPeerReset::new(tmp.path());
        let file = SimPeerReset::pid_file(tmp.path(), Controller::A);
        let mut victim = sleeper();
        let start = proc_stat(Pid::from_raw(victim.id() as i32)).unwrap().start_time;
        // Same pid, another start time: not the process that wrote the file.
        fs::write(&file, format!("{} {}\n", victim.id(), start + 1)).unwrap();
        reset.reset(Controller::A).unwrap();
        assert!(victim.try_wait().unwrap().is_none());
        victim.kill().unwrap();
        victim.wait().unwrap();
        for bad in ["1", "0", "-1", "99999999999"] {
            fs::write(&file, bad).unwrap();
            assert!(matches!(reset.reset(Controller::A), Err(BackendError::UnsafePid { .. })), "{bad}");
        }
        fs::write(&file, std::process::id().to_string()).unwrap();
        assert!(matches!(reset.reset(Controller::A), Err(BackendError::UnsafePid { .. })));
        fs::write(&file, "garbage").unwrap();
        assert!(matches!(reset.reset(Controller::A), Err(BackendError::Corrupt { .. })));
        fs::remove_file(&file).unwrap();
        assert!(matches!(reset.reset(Controller::A), Err(BackendError::Io { .. })));
    }

    #[test]
    fn pid_file_records_this_process() {
        let tmp = tempfile::tempdir().unwrap();
        let path = SimPeerReset::write_pid_file(tmp.path().join("run"), Controller::A).unwrap();
        assert_eq!(path, SimPeerReset::pid_file(tmp.path().join("run"), Controller::A));
        let text = fs::read_to_string(&path).unwrap();
        let mut f = text.split_whitespace();
        assert_eq!(f.next().unwrap(), std::process::id().to_string());
        let start: u64 = f.next().unwrap().parse().unwrap();
        assert_eq!(proc_stat(Pid::from_raw(std::process::id() as i32)).unwrap().start_time, start);
    }
}
