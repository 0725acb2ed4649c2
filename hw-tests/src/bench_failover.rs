//! `hw-tests bench failover [--n N] [--stress-seconds S] [--jitter-seconds J] [--idle-seconds I]`:
//! `failoverd` against keepalived on the same namespace rig, in the same run.
//!
//! Three subjects, one after the other on one [`Rig`] (the [`Pair`]'s namespaces,
//! `pub0`, the same VIP, the same client):
//! 1. `failoverd`, heartbeat 10 ms / timeout 50 ms, `[realtime] priority = 50` and
//!    `lock_memory = true` (the rig's configuration);
//! 2. keepalived VRRPv3 with `advert_int 0.01` (its minimum);
//! 3. keepalived VRRPv3 with `advert_int 0.68` (the reference's).
//!
//! keepalived runs with `state BACKUP` on both, priorities A 150 / B 100 and
//! `nopreempt`: a restarted controller comes back as backup and the next round kills
//! the other one, exactly as the failoverd bench alternates (with preemption the
//! restarted A would take the VIP back, a second outage per round, and only B's
//! takeover would ever be measured). It gets the same real-time treatment as
//! failoverd's heartbeat thread: `vrrp_rt_priority 50` (SCHED_RR 50 for the VRRP
//! process) and `vrrp_no_swap` (`mlockall`); what each really runs with is read back
//! from `/proc` and shown in the table.
//!
//! For each subject:
//! - idle CPU (utime + stime of every process in each controller's namespace, from
//!   `/proc/PID/stat`) over an idle window, and VmRSS of those processes;
//! - N times: SIGKILL the active (for keepalived, its whole process group: parent and
//!   VRRP child) and time, from the client namespace,
//!   - the first ARP reply for the VIP from the survivor's MAC ([`rig::arp_watch`], a
//!     request every millisecond), and
//!   - the first TCP connect to `VIP:`[`TCP_PORT`] that succeeds (a new non-blocking
//!     connect every millisecond, each given [`ATTEMPT_LIFE`]), checked to have been
//!     accepted by the survivor's listener.
//!
//!   Every controller namespace has a listener on `0.0.0.0:`[`TCP_PORT`] (a socket of
//!   this runner, opened in that namespace: the storage service). The killed host dies
//!   on the public segment with its daemon: its listener is closed just before the
//!   SIGKILL and its `pub0` is set down right after it (`SIOCSIFFLAGS`, microseconds),
//!   so the kernel of a host that in reality would be gone answers neither ARP nor TCP
//!   for the VIP it still holds. Then, as a reset would, its VIP is removed, `pub0`
//!   comes back up with the listener, the daemon restarts and settles as the backup;
//! - false takeovers during S s of `stress-ng --cpu 0 --cpu-load 100`, and during J s
//!   of jitter on the link the heartbeats cross: `ha0`, the dedicated link, for both
//!   (keepalived's VRRP adverts go over it too, see [`crate::keepalived`]). Delay and
//!   jitter are both a fifth of the time the standby waits before it takes over
//!   (failoverd: the 50 ms timeout, so 10 ms ± 10 ms; keepalived: the standby's
//!   Master_Down_Interval), so the mean plus three standard deviations is four fifths
//!   of it. The jitter is netem's (`tc qdisc add dev ha0 root netem delay D J
//!   distribution normal` in both controllers' namespaces) when the kernel has it (or
//!   `modprobe sch_netem` loads it); otherwise the rig is built with the dedicated link
//!   through the userspace middlebox of the `system` suite ([`Wire`], started for the
//!   whole bench, its threads SCHED_FIFO [`WIRE_RT_PRIORITY`] as a cable is not slowed
//!   by CPU load, clean but during the jitter runs) and the jitter is its uniform one,
//!   D ± √3·J: the same standard deviation (and, with negative delays sent at once as
//!   netem does, nearly the same mean) as netem's normal D ± J, bounded at D + √3·J.
//!   Counted as for the CPU stress: for failoverd epoch increments; for keepalived
//!   moves of the VIP (it appears on the standby, alone or on both), by polling `ip
//!   addr` in both namespaces every 20 ms, plus the `Entering MASTER STATE` lines
//!   keepalived logged meanwhile.
//!
//! Prints a Markdown table with the ratios (ours / keepalived) and writes it to
//! `<target>/bench/failover.md`.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::io;
use std::mem::size_of;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use failover_core::wire::Controller::{self, A, B};
use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::bench::{self, PROBE_PERIOD, ensure};
use crate::keepalived::{self, KaConf, Keepalived};
use crate::stats::{Summary, summarize};
use crate::suites::rig::{
    self, CLIENT_IP, HEARTBEAT_MS, Host, LINK_IF, PUB_IF, Pair, PairOptions, Rig, SETTLE_LIMIT, TIMEOUT_MS,
    TempDir, VIP, mac_of,
};
use crate::system::wire::{Impairment, Wire};

/// Options of `bench failover`.
#[derive(Clone, Copy, Debug)]
pub struct FailoverOpts {
    /// Kills of the active per subject.
    pub n: usize,
    /// Seconds of CPU stress per subject (0: skip).
    pub stress_seconds: u64,
    /// Seconds of netem jitter on the heartbeat link per subject (0: skip).
    pub jitter_seconds: u64,
    /// Seconds of the idle CPU window per subject.
    pub idle_seconds: u64,
}

impl Default for FailoverOpts {
    fn default() -> Self {
        Self { n: 50, stress_seconds: 60, jitter_seconds: 30, idle_seconds: 10 }
    }
}

/// The real-time priority of failoverd's heartbeat thread on the rig (its
/// configuration's `[realtime] priority = 50`), given to keepalived's VRRP process too.
pub const RT_PRIORITY: u8 = 50;

/// The keepalived setups measured.
const KA_CONFS: [KaConf; 2] = [
    KaConf { advert_s: 0.01, nopreempt: true, rt_priority: RT_PRIORITY, lock_memory: true },
    KaConf { advert_s: 0.68, nopreempt: true, rt_priority: RT_PRIORITY, lock_memory: true },
];

/// VIP poll period during keepalived's stress and jitter runs.
const VIP_POLL: Duration = Duration::from_millis(20);

/// The port of the service the TCP measurement connects to (NFS's; nothing speaks NFS
/// here, a listener accepts and closes).
pub const TCP_PORT: u16 = 2049;

/// How long one TCP connect attempt of the measurement is waited for. A SYN that went
/// to the dead host is only retransmitted by the kernel after a second: by then
/// younger attempts have found the survivor.
pub const ATTEMPT_LIFE: Duration = Duration::from_millis(200);

/// Netem delay and jitter (each) as a fraction of the standby's takeover time.
pub const JITTER_FRACTION: f64 = 0.2;

/// SCHED_FIFO priority of the userspace wire's threads: above the daemons' (50), as
/// the kernel's netem (softirq) and a real cable are not slowed by the CPU load.
pub const WIRE_RT_PRIORITY: i32 = 60;

/// CPU and memory of one controller's daemon processes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Usage {
    /// CPU time used over the window, milliseconds.
    pub cpu_ms: f64,
    /// The window, seconds.
    pub window_s: f64,
    /// VmRSS summed over the processes at the end of the window, kB.
    pub rss_kb: u64,
    /// The processes' names (`/proc/PID/comm`).
    pub procs: Vec<String>,
    /// CPU time of the daemon's own processes only, milliseconds: the simulated
    /// watchdog's supervisor (`exe`, a stand-in for `/dev/watchdog`) left out.
    pub daemon_cpu_ms: f64,
}

/// The false takeovers a stress or jitter run saw.
#[derive(Clone, Debug, Default)]
struct Stress {
    /// `None`: not known (skipped, or no single holder after the run).
    false_takeovers: Option<u64>,
    /// What else to say.
    note: String,
}

impl Stress {
    fn skipped(why: impl std::fmt::Display) -> Self {
        Self { false_takeovers: None, note: format!("skipped: {why}") }
    }
}

/// What one kill measured.
#[derive(Clone, Copy, Debug)]
struct Kill {
    /// SIGKILL to the survivor's first ARP answer for the VIP.
    arp_ms: f64,
    /// SIGKILL to the first TCP connect to the VIP that succeeded (on the survivor).
    tcp_ms: f64,
    /// SIGKILL to the killed host's `pub0` being down.
    silenced_ms: f64,
}

/// Everything measured for one subject.
#[derive(Clone, Debug)]
struct Subject {
    name: String,
    kills: Vec<Kill>,
    stress: Stress,
    jitter: Stress,
    /// The jitter applied (or that would have been): "netem, normal: 10.0 ± 10.0 ms on
    /// ha0 (...)".
    jitter_plan: String,
    /// Real-time tasks and locked memory seen in `/proc`, per controller.
    realtime: [String; 2],
    idle: [Usage; 2],
    /// Where the gratuitous ARPs went.
    garp: String,
    /// The slowest kill, with what the survivor reported of its takeover (failoverd
    /// only; empty for keepalived, which reports no timeline).
    slowest: String,
}

impl Subject {
    fn arp(&self) -> Vec<f64> {
        self.kills.iter().map(|k| k.arp_ms).collect()
    }

    fn tcp(&self) -> Vec<f64> {
        self.kills.iter().map(|k| k.tcp_ms).collect()
    }
}

/// `utime + stime` (clock ticks) from the text of `/proc/PID/stat`.
pub fn parse_stat_ticks(stat: &str) -> Option<u64> {
    // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // f[0] is field 3 (state); utime and stime are fields 14 and 15.
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// VmRSS in kB from the text of `/proc/PID/status` (`None` for a kernel thread or zombie).
pub fn parse_vm_rss_kb(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// The processes in namespace `ns`.
fn ns_pids(ns: &str) -> Vec<i32> {
    rig::run_cmd("ip", &["netns", "pids", ns])
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

fn ticks_of(pid: i32) -> Option<u64> {
    parse_stat_ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// One idle CPU row: per subject both controllers' `ms` per 10 s (and each), then the
/// ratios ours / theirs.
fn cpu_row(md: &mut String, s: &[Subject], label: &str, ms: impl Fn(&Usage) -> f64) {
    let per10 = |u: &Usage| ms(u) * 10.0 / u.window_s.max(1e-9);
    let both = |x: &Subject| x.idle.iter().map(&per10).sum::<f64>();
    let _ = write!(md, "\n| {label} |");
    for x in s {
        let _ = write!(md, " {:.0} (A {:.0}, B {:.0}) |", both(x), per10(&x.idle[0]), per10(&x.idle[1]));
    }
    for x in &s[1..] {
        let _ = write!(md, " {} |", ratio(both(&s[0]), both(x)));
    }
}

/// The simulated watchdog's supervisor as `/proc/PID/comm` names it (the service's own
/// executable, run from `/proc/self/exe` with a hidden argument).
const SIM_WATCHDOG_COMM: &str = "exe";

/// CPU time and RSS of the processes in each controller's namespace over `window`.
fn idle_usage(r: &Rig, window: Duration) -> [Usage; 2] {
    let before: [HashMap<i32, u64>; 2] =
        [A, B].map(|c| ns_pids(&r.ctrl_ns(c)).into_iter().filter_map(|p| Some((p, ticks_of(p)?))).collect());
    let t0 = Instant::now();
    std::thread::sleep(window);
    let secs = t0.elapsed().as_secs_f64();
    let hz = clock_ticks();
    let mut out = [Usage::default(), Usage::default()];
    for (i, c) in [A, B].into_iter().enumerate() {
        let u = &mut out[i];
        u.window_s = secs;
        for pid in ns_pids(&r.ctrl_ns(c)) {
            let Some(t1) = ticks_of(pid) else { continue };
            // A process born during the window counts from zero.
            let t0 = before[i].get(&pid).copied().unwrap_or(0);
            let ms = t1.saturating_sub(t0) as f64 * 1e3 / hz;
            u.cpu_ms += ms;
            u.rss_kb += std::fs::read_to_string(format!("/proc/{pid}/status"))
                .ok()
                .and_then(|s| parse_vm_rss_kb(&s))
                .unwrap_or(0);
            if let Ok(name) = std::fs::read_to_string(format!("/proc/{pid}/comm")) {
                let name = name.trim().to_owned();
                if name != SIM_WATCHDOG_COMM {
                    u.daemon_cpu_ms += ms;
                }
                u.procs.push(name);
            }
        }
    }
    out
}

/// SIGKILL whatever still runs in the controllers' namespaces and remove the VIP.
fn clear_controllers(r: &Rig) -> Result<(), String> {
    for c in [A, B] {
        let ns = r.ctrl_ns(c);
        for pid in ns_pids(&ns) {
            let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        let t0 = Instant::now();
        while !ns_pids(&ns).is_empty() && t0.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(5));
        }
        r.flush_vip(c)?;
    }
    Ok(())
}

/// `(rt_priority, policy)` (fields 40 and 41) from the text of `/proc/PID/task/TID/stat`.
pub fn parse_stat_sched(stat: &str) -> Option<(u32, u32)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // f[0] is field 3.
    Some((f.get(37)?.parse().ok()?, f.get(38)?.parse().ok()?))
}

/// The name of a scheduling policy number.
fn policy_name(p: u32) -> String {
    match p {
        0 => "SCHED_OTHER".into(),
        1 => "SCHED_FIFO".into(),
        2 => "SCHED_RR".into(),
        3 => "SCHED_BATCH".into(),
        5 => "SCHED_IDLE".into(),
        6 => "SCHED_DEADLINE".into(),
        other => format!("policy {other}"),
    }
}

/// The real-time threads (`comm POLICY prio`) and the locked memory (VmLck, summed)
/// of the processes in namespace `ns`, in one line.
fn realtime_summary(ns: &str) -> String {
    let mut rt: Vec<String> = Vec::new();
    let mut locked_kb = 0u64;
    for pid in ns_pids(ns) {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        locked_kb += status
            .lines()
            .find_map(|l| l.strip_prefix("VmLck:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { continue };
        for t in tasks.filter_map(Result::ok) {
            let Ok(stat) = std::fs::read_to_string(t.path().join("stat")) else { continue };
            let Some((prio, policy)) = parse_stat_sched(&stat) else { continue };
            if policy == 1 || policy == 2 {
                let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
                rt.push(format!("{} {} {prio}", comm.trim(), policy_name(policy)));
            }
        }
    }
    rt.sort();
    let rt = if rt.is_empty() { "no real-time thread".to_owned() } else { rt.join(", ") };
    format!("{rt}; VmLck {locked_kb} kB")
}

// ---------------------------------------------------------------------------------
// The hosts around the daemons: a TCP service and a public NIC that die with them
// ---------------------------------------------------------------------------------

/// Per controller: a listener on `0.0.0.0:`[`TCP_PORT`] in its namespace (the service
/// the TCP measurement connects to) and a socket in its namespace to set its `pub0`
/// up or down with (`SIOCSIFFLAGS`). `pub0` is set up again on drop.
#[derive(Debug)]
struct Hosts {
    ns: [String; 2],
    listeners: [Option<TcpListener>; 2],
    ctl: [OwnedFd; 2],
}

impl Hosts {
    fn new(r: &Rig) -> Result<Self, String> {
        let ns = [A, B].map(|c| r.ctrl_ns(c));
        let ctl = |ns: &str| {
            rig::in_namespace(ns, || {
                // SAFETY: socket(2) with constant arguments; the result is checked.
                let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
                if raw < 0 {
                    return Err(format!("socket: {}", io::Error::last_os_error()));
                }
                // SAFETY: `raw` is a descriptor we just opened and nothing else owns.
                Ok(unsafe { OwnedFd::from_raw_fd(raw) })
            })
        };
        let ctl = [ctl(&ns[0])?, ctl(&ns[1])?];
        let mut h = Self { ns, listeners: [None, None], ctl };
        for c in [A, B] {
            h.set_nic(c, true)?;
            h.listen(c)?;
        }
        Ok(h)
    }

    /// Open `c`'s listener.
    fn listen(&mut self, c: Controller) -> Result<(), String> {
        let l = rig::in_namespace(&self.ns[c.index()], || {
            let l = TcpListener::bind((Ipv4Addr::UNSPECIFIED, TCP_PORT))
                .map_err(|e| format!("{c}: listen on 0.0.0.0:{TCP_PORT}: {e}"))?;
            l.set_nonblocking(true).map_err(|e| format!("{c}: O_NONBLOCK: {e}"))?;
            Ok(l)
        })?;
        self.listeners[c.index()] = Some(l);
        Ok(())
    }

    /// Close `c`'s listener (its service died).
    fn close(&mut self, c: Controller) {
        self.listeners[c.index()] = None;
    }

    /// Set `c`'s `pub0` up or down.
    fn set_nic(&self, c: Controller, up: bool) -> Result<(), String> {
        let fd = self.ctl[c.index()].as_raw_fd();
        let err = |op: &str| format!("{c}: {op} {PUB_IF}: {}", io::Error::last_os_error());
        // SAFETY: ifreq is plain old data; all zeroes is a valid value.
        let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
        for (d, s) in ifr.ifr_name.iter_mut().zip(PUB_IF.bytes()) {
            *d = s as libc::c_char;
        }
        // SAFETY: a socket, SIOCGIFFLAGS and a valid ifreq naming the interface.
        if unsafe { libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut ifr) } < 0 {
            return Err(err("SIOCGIFFLAGS"));
        }
        // SAFETY: SIOCGIFFLAGS filled the flags member of the union.
        let flags = unsafe { ifr.ifr_ifru.ifru_flags };
        let bit = libc::IFF_UP as libc::c_short;
        ifr.ifr_ifru.ifru_flags = if up { flags | bit } else { flags & !bit };
        // SAFETY: a socket, SIOCSIFFLAGS and a valid ifreq naming the interface.
        if unsafe { libc::ioctl(fd, libc::SIOCSIFFLAGS, &ifr) } < 0 {
            return Err(err("SIOCSIFFLAGS"));
        }
        Ok(())
    }

    /// After `c`'s VIP was removed: `pub0` up and the listener back (the host rebooted).
    fn revive(&mut self, c: Controller) -> Result<(), String> {
        self.set_nic(c, true)?;
        self.listen(c)
    }

    /// Wait (up to `wait`) for `c`'s listener to hold the connection from the client's
    /// `port`; connections accepted meanwhile are closed.
    fn accepted(&self, c: Controller, port: u16, wait: Duration) -> Result<(), String> {
        let l = self.listeners[c.index()].as_ref().ok_or_else(|| format!("{c} has no listener"))?;
        let t0 = Instant::now();
        loop {
            match l.accept() {
                Ok((_, peer)) if peer.ip() == std::net::IpAddr::V4(CLIENT_IP) && peer.port() == port => {
                    return Ok(());
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if t0.elapsed() > wait {
                        return Err(format!(
                            "the client's connect from port {port} succeeded but {c}'s listener did not get it"
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(e) => return Err(format!("{c}: accept: {e}")),
            }
        }
    }

    /// Accept and close whatever waits on the listeners.
    fn drain(&self) {
        for l in self.listeners.iter().flatten() {
            while l.accept().is_ok() {}
        }
    }

    /// From the client: one blocking connect to the VIP, which `c` must accept.
    fn check_serving(&self, client_ns: &str, c: Controller) -> Result<(), String> {
        let port = rig::in_namespace(client_ns, || {
            let s =
                TcpStream::connect_timeout(&SocketAddrV4::new(VIP, TCP_PORT).into(), Duration::from_secs(2))
                    .map_err(|e| format!("connect {VIP}:{TCP_PORT} before the kill: {e}"))?;
            s.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
        })?;
        self.accepted(c, port, Duration::from_millis(500))?;
        self.drain();
        Ok(())
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for c in [A, B] {
            let _ = self.set_nic(c, true);
        }
    }
}

/// A non-blocking TCP connect to `dst` from the calling thread's namespace: the
/// socket and whether it connected at once.
fn connect_nonblocking(dst: SocketAddrV4) -> io::Result<(TcpStream, bool)> {
    // SAFETY: socket(2) with constant arguments; the result is checked.
    let raw = unsafe {
        libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0)
    };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a descriptor we just opened and nothing else owns.
    let s = TcpStream::from(unsafe { OwnedFd::from_raw_fd(raw) });
    // SAFETY: sockaddr_in is plain old data; all zeroes is a valid value.
    let mut sin: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    sin.sin_family = libc::AF_INET as libc::sa_family_t;
    sin.sin_port = dst.port().to_be();
    sin.sin_addr = libc::in_addr { s_addr: u32::from_ne_bytes(dst.ip().octets()) };
    // SAFETY: a valid socket, a valid sockaddr_in and its size.
    let rc = unsafe {
        libc::connect(
            s.as_raw_fd(),
            (&raw const sin).cast::<libc::sockaddr>(),
            size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        return Ok((s, true));
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EINPROGRESS) { Ok((s, false)) } else { Err(e) }
}

fn local_port(s: &TcpStream) -> Result<u16, String> {
    s.local_addr().map(|a| a.port()).map_err(|e| format!("getsockname: {e}"))
}

/// From the client namespace `client_ns`, once `go` says so: a new non-blocking
/// connect to `VIP:port` every `period`, each waited for [`ATTEMPT_LIFE`], until one
/// succeeds, `stop` is set or `limit` passes. `ready` is told once in the namespace.
/// When the first one succeeded, and its local port.
fn tcp_watch(
    client_ns: &str,
    port: u16,
    period: Duration,
    limit: Duration,
    ready: mpsc::Sender<()>,
    go: mpsc::Receiver<()>,
    stop: &AtomicBool,
) -> Result<Option<(Instant, u16)>, String> {
    rig::in_namespace(client_ns, move || {
        let _ = ready.send(());
        if go.recv_timeout(Duration::from_secs(10)).is_err() {
            return Ok(None);
        }
        let dst = SocketAddrV4::new(VIP, port);
        let end = Instant::now() + limit;
        let mut inflight: VecDeque<(TcpStream, Instant)> = VecDeque::new();
        let mut next = Instant::now();
        while Instant::now() < end && !stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            if now >= next {
                next = now + period;
                // A failure to start (no route, say) is one failed attempt, as a refusal is.
                if let Ok((s, connected)) = connect_nonblocking(dst) {
                    if connected {
                        return Ok(Some((Instant::now(), local_port(&s)?)));
                    }
                    inflight.push_back((s, now));
                }
                while inflight.front().is_some_and(|(_, at)| now.duration_since(*at) > ATTEMPT_LIFE) {
                    inflight.pop_front();
                }
            }
            let mut fds: Vec<libc::pollfd> = inflight
                .iter()
                .map(|(s, _)| libc::pollfd { fd: s.as_raw_fd(), events: libc::POLLOUT, revents: 0 })
                .collect();
            let left = next.saturating_duration_since(Instant::now());
            let ts = libc::timespec { tv_sec: 0, tv_nsec: i64::from(left.subsec_nanos()) };
            // SAFETY: `fds` is a valid array of pollfd with its length; a valid timespec.
            let n =
                unsafe { libc::ppoll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, &ts, std::ptr::null()) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(format!("ppoll: {e}"));
                }
                continue;
            }
            if n == 0 {
                continue;
            }
            let t = Instant::now();
            let mut keep = VecDeque::with_capacity(inflight.len());
            for (pfd, (s, at)) in fds.iter().zip(inflight.drain(..)) {
                if pfd.revents == 0 {
                    keep.push_back((s, at));
                } else if pfd.revents & libc::POLLOUT != 0 && matches!(s.take_error(), Ok(None)) {
                    return Ok(Some((t, local_port(&s)?)));
                }
                // Otherwise refused or unreachable: dropped.
            }
            inflight = keep;
        }
        Ok(None)
    })
}

/// Kill the active `active` of a pair with `kill` (which only sends SIGKILL; the
/// caller reaps afterwards) while the client namespace watches for the survivor's
/// first ARP answer for the VIP and the first TCP connect to it that succeeds. The
/// killed host dies on the public segment too: its listener is closed just before
/// the SIGKILL, its `pub0` goes down right after it.
fn kill_and_watch(
    client_ns: &str,
    hosts: &mut Hosts,
    active: Controller,
    kill: impl FnOnce() -> Result<(), String>,
) -> Result<Kill, String> {
    let survivor = active.peer();
    let stop = AtomicBool::new(false);
    let (arp_tx, arp_rx) = mpsc::channel();
    let (tcp_tx, tcp_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel();
    let (t_kill, killed, arp, tcp) = std::thread::scope(|s| {
        let stop = &stop;
        let arp = s.spawn(move || {
            rig::arp_watch(client_ns, mac_of(survivor), PROBE_PERIOD, SETTLE_LIMIT, arp_tx, stop)
        });
        let tcp =
            s.spawn(move || tcp_watch(client_ns, TCP_PORT, PROBE_PERIOD, SETTLE_LIMIT, tcp_tx, go_rx, stop));
        let ready = [arp_rx, tcp_rx].iter().all(|r| r.recv_timeout(Duration::from_secs(5)).is_ok());
        hosts.close(active);
        let t_kill = Instant::now();
        let killed = if ready {
            let _ = go_tx.send(());
            kill().and_then(|()| {
                hosts.set_nic(active, false)?;
                Ok(t_kill.elapsed())
            })
        } else {
            Err("the ARP and TCP watchers did not start".to_owned())
        };
        drop(go_tx);
        if killed.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        let arp = arp.join().unwrap_or_else(|_| Err("the ARP watcher panicked".into()));
        let tcp = tcp.join().unwrap_or_else(|_| Err("the TCP watcher panicked".into()));
        (t_kill, killed, arp, tcp)
    });
    let silenced = killed?;
    let arp_at = arp?.ok_or_else(|| format!("{survivor} never answered ARP for the VIP"))?;
    let (tcp_at, port) = tcp?.ok_or_else(|| {
        format!("no TCP connect to {VIP}:{TCP_PORT} succeeded within {} s", SETTLE_LIMIT.as_secs())
    })?;
    hosts.accepted(survivor, port, Duration::from_millis(500))?;
    hosts.drain();
    let ms = |at: Instant| at.saturating_duration_since(t_kill).as_secs_f64() * 1e3;
    Ok(Kill { arp_ms: ms(arp_at), tcp_ms: ms(tcp_at), silenced_ms: silenced.as_secs_f64() * 1e3 })
}

// ---------------------------------------------------------------------------------
// netem
// ---------------------------------------------------------------------------------

/// Netem delay and jitter for a standby that takes over after `takeover`: each
/// [`JITTER_FRACTION`] of it, to the microsecond.
pub fn netem_params(takeover: Duration) -> (Duration, Duration) {
    let d = Duration::from_micros((takeover.as_secs_f64() * JITTER_FRACTION * 1e6).round() as u64);
    (d, d)
}

/// `tc` arguments adding netem `delay ± jitter` (normal) as `ifname`'s root qdisc in
/// namespace `ns`.
pub fn netem_args(ns: &str, ifname: &str, delay: Duration, jitter: Duration) -> Vec<String> {
    let mut v: Vec<String> = ["-n", ns, "qdisc", "add", "dev", ifname, "root", "netem", "delay"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    v.push(format!("{}us", delay.as_micros()));
    v.push(format!("{}us", jitter.as_micros()));
    v.extend(["distribution", "normal"].map(str::to_owned));
    v
}

/// "10.0 ± 10.0 ms on ha0".
fn netem_text(delay: Duration, jitter: Duration, ifname: &str) -> String {
    format!("{:.1} ± {:.1} ms on {ifname}", delay.as_secs_f64() * 1e3, jitter.as_secs_f64() * 1e3)
}

/// The half-width of the userspace wire's uniform jitter comparable to netem's normal
/// jitter `sigma`: √3·σ, the same standard deviation.
pub fn uniform_jitter(sigma: Duration) -> Duration {
    Duration::from_micros((sigma.as_micros() as f64 * 3f64.sqrt()).round() as u64)
}

/// How the jitter runs impair the dedicated link.
#[derive(Debug)]
enum Jitter {
    /// `tc netem ... distribution normal` in both controllers' namespaces.
    Netem(PathBuf),
    /// The userspace middlebox the dedicated link runs through: uniform jitter.
    Wire(Wire),
}

impl Jitter {
    /// What the table calls it.
    fn label(&self) -> &'static str {
        match self {
            Self::Netem(_) => "netem, normal",
            Self::Wire(_) => "userspace wire, uniform",
        }
    }

    /// Run `f` with `delay` ± `sigma` (netem's normal; the wire's comparable uniform)
    /// on the dedicated link in both directions; what it returned and a note on what
    /// was applied.
    fn during<T>(
        &self,
        ns: &[String; 2],
        delay: Duration,
        sigma: Duration,
        f: impl FnOnce() -> Result<T, String>,
    ) -> Result<(T, String), String> {
        match self {
            Self::Netem(tc) => {
                let n = Netem::apply(tc, ns, LINK_IF, delay, sigma)?;
                let shown = n.shown();
                let out = f();
                drop(n);
                Ok((out?, format!("`{shown}`")))
            }
            Self::Wire(w) => {
                let before = [A, B].map(|c| w.counts(c).forwarded);
                let imp = Impairment { delay, jitter: uniform_jitter(sigma), loss_percent: 0 };
                for c in [A, B] {
                    w.set(c, imp);
                }
                let out = f();
                w.clear();
                let n = [A, B].map(|c| w.counts(c).forwarded.saturating_sub(before[c.index()]));
                Ok((
                    out?,
                    format!(
                        "userspace wire {:.1} ± {:.1} ms uniform each way, frames forwarded A→B {}, B→A {}",
                        imp.delay.as_secs_f64() * 1e3,
                        imp.jitter.as_secs_f64() * 1e3,
                        n[0],
                        n[1]
                    ),
                ))
            }
        }
    }
}

/// "netem, normal: 10.0 ± 10.0 ms on ha0" or "userspace wire, uniform: 10.0 ± 17.3 ms on
/// ha0 (σ 10.0 ms)" for netem's `delay` ± `sigma` made `how` (netem's when not run).
fn jitter_plan(how: Option<&Jitter>, delay: Duration, sigma: Duration) -> String {
    match how {
        Some(w @ Jitter::Wire(_)) => format!(
            "{}: {} (σ {:.1} ms)",
            w.label(),
            netem_text(delay, uniform_jitter(sigma), LINK_IF),
            sigma.as_secs_f64() * 1e3
        ),
        _ => format!("netem, normal: {}", netem_text(delay, sigma, LINK_IF)),
    }
}

/// Where keepalived's log says it sent gratuitous ARPs: "pub0 ×12" for each interface
/// named after " on " in its `gratuitous ARP` lines.
pub fn garp_summary(log: &str) -> String {
    let mut per_if: Vec<(String, usize)> = Vec::new();
    for l in log.lines().filter(|l| l.contains("gratuitous ARP")) {
        let Some(ifname) = l.split(" on ").nth(1).and_then(|r| r.split_whitespace().next()) else { continue };
        match per_if.iter_mut().find(|(i, _)| i == ifname) {
            Some((_, n)) => *n += 1,
            None => per_if.push((ifname.to_owned(), 1)),
        }
    }
    if per_if.is_empty() {
        return "no gratuitous ARP logged".into();
    }
    let v: Vec<String> = per_if.iter().map(|(i, n)| format!("{i} ×{n}")).collect();
    format!("logged gratuitous ARP lines on {}", v.join(", "))
}

/// Start the userspace wire in `p`'s middlebox namespace, clean, with its threads
/// (`wire-rx-*`, `wire-tx-*` of this process) SCHED_FIFO [`WIRE_RT_PRIORITY`].
fn start_wire(p: &Pair) -> Result<Wire, String> {
    let w = Wire::start(&p.rig.ns(Host::Wire), u64::from(std::process::id()))?;
    // The threads name themselves as they start: look until all four are there.
    let t0 = Instant::now();
    let mut done: Vec<i32> = Vec::new();
    while done.len() < 4 {
        if t0.elapsed() > Duration::from_secs(2) {
            return Err(format!("found {} of the wire's 4 threads to make real-time", done.len()));
        }
        let tasks = std::fs::read_dir("/proc/self/task").map_err(|e| format!("/proc/self/task: {e}"))?;
        for t in tasks.filter_map(Result::ok) {
            let Some(tid) = t.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
            let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
            if !comm.starts_with("wire-") || done.contains(&tid) {
                continue;
            }
            let param = libc::sched_param { sched_priority: WIRE_RT_PRIORITY };
            // SAFETY: sched_setscheduler on a thread of this process with a valid param.
            if unsafe { libc::sched_setscheduler(tid, libc::SCHED_FIFO, &param) } != 0 {
                return Err(format!("SCHED_FIFO for {}: {}", comm.trim(), io::Error::last_os_error()));
            }
            done.push(tid);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(w)
}

/// `tc` (Debian's iproute2, installed when missing).
fn tc_exe() -> Result<PathBuf, String> {
    crate::vm::packages::find_or_install(&["/usr/sbin/tc", "/sbin/tc", "/usr/bin/tc", "/bin/tc"], "iproute2")
}

fn run_tc(tc: &Path, args: &[String]) -> Result<String, String> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    rig::run_cmd(&tc.to_string_lossy(), &args)
}

/// Netem on `ifname` in both controllers' namespaces; removed on drop.
#[derive(Debug)]
struct Netem {
    tc: PathBuf,
    ifname: &'static str,
    /// The namespaces it was added in.
    on: Vec<String>,
}

impl Netem {
    /// In the namespaces `ns` (the controllers').
    fn apply(
        tc: &Path,
        ns: &[String; 2],
        ifname: &'static str,
        delay: Duration,
        jitter: Duration,
    ) -> Result<Self, String> {
        let mut n = Self { tc: tc.to_owned(), ifname, on: Vec::new() };
        for ns in ns {
            run_tc(tc, &netem_args(ns, ifname, delay, jitter))?;
            n.on.push(ns.clone());
        }
        Ok(n)
    }

    /// `tc qdisc show dev <if>` in the first namespace, one line.
    fn shown(&self) -> String {
        let Some(ns) = self.on.first() else { return String::new() };
        let args = ["-n", ns, "qdisc", "show", "dev", self.ifname].map(str::to_owned);
        run_tc(&self.tc, &args).map_or_else(|e| e, |s| s.lines().next().unwrap_or_default().trim().to_owned())
    }
}

impl Drop for Netem {
    fn drop(&mut self) {
        for ns in &self.on {
            let args = ["-n", ns, "qdisc", "del", "dev", self.ifname, "root"].map(str::to_owned);
            if let Err(e) = run_tc(&self.tc, &args) {
                eprintln!("netem: {e}");
            }
        }
    }
}

/// The controllers' namespaces (A's, B's).
fn ctrl_namespaces(r: &Rig) -> [String; 2] {
    [A, B].map(|c| r.ctrl_ns(c))
}

/// The lines of the running kernel's configuration that set (or do not set) `keys`.
fn kernel_config(keys: &[&str]) -> Option<String> {
    let text = rig::run_cmd("zcat", &["/proc/config.gz"]).ok().or_else(|| {
        let release = rig::run_cmd("uname", &["-r"]).ok()?;
        std::fs::read_to_string(format!("/boot/config-{}", release.trim())).ok()
    })?;
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| keys.iter().any(|k| l.starts_with(&format!("{k}=")) || *l == format!("# {k} is not set")))
        .collect();
    (!lines.is_empty()).then(|| lines.join(", "))
}

/// Whether netem works here: added and removed once on the dedicated link (after
/// `modprobe sch_netem` if the first try fails). `tc` if it does, else why not.
fn netem_check(rig: &Rig) -> Result<PathBuf, String> {
    let tc = tc_exe()?;
    let ns = ctrl_namespaces(rig);
    let once =
        || Netem::apply(&tc, &ns, LINK_IF, Duration::from_millis(1), Duration::from_millis(1)).map(drop);
    let Err(first) = once() else { return Ok(tc) };
    let modprobe = match rig::run_cmd("modprobe", &["sch_netem"]) {
        Ok(_) => match once() {
            Ok(()) => return Ok(tc),
            Err(e) => format!("loaded, but still: {e}"),
        },
        Err(e) => e,
    };
    let kernel = rig::run_cmd("uname", &["-r"]).unwrap_or_default();
    let config = kernel_config(&["CONFIG_NET_SCH_NETEM", "CONFIG_MODULES"])
        .map_or_else(String::new, |c| format!("; its configuration: {c}"));
    Err(format!("no netem in kernel {}: {first}; {modprobe}{config}", kernel.trim()))
}

/// Run the bench; prints as it goes and writes the report.
pub fn run(o: FailoverOpts) -> Result<(), String> {
    let bins = rig::preflight()?;
    let ka = keepalived::ensure_installed()?;
    let ka_version = keepalived::version(&ka);
    println!(
        "failover: failoverd (heartbeat {HEARTBEAT_MS} ms) vs {ka_version} (advert {} s and {} s): \
         {} kills each, {} s of CPU stress each, {} s of heartbeat-link jitter each, {} s idle window each",
        KA_CONFS[0].advert_s, KA_CONFS[1].advert_s, o.n, o.stress_seconds, o.jitter_seconds, o.idle_seconds
    );
    // Neither daemon does I/O here: failoverd's simulated pool workload stays off, so
    // the idle figures compare the services alone.
    let quiet = PairOptions { workload: false, ..PairOptions::default() };
    let mut p = Pair::with_options(&bins, &quiet)?;
    let netem =
        if o.jitter_seconds == 0 { Err("--jitter-seconds 0".to_owned()) } else { netem_check(&p.rig) };
    // Without netem, the jitter goes through the userspace wire: the rig is built again
    // with the dedicated link through it, and it runs (clean) for the whole bench.
    let (jitter, no_netem) = match netem {
        Ok(tc) => (Ok(Jitter::Netem(tc)), None),
        Err(why) if o.jitter_seconds == 0 => {
            println!("  the jitter runs are skipped: {why}");
            (Err(why), None)
        }
        Err(why) => {
            println!(
                "  {why}\n  the jitter goes through the userspace wire: the dedicated link runs through it"
            );
            drop(p);
            p = Pair::with_options(&bins, &PairOptions { wire: true, ..quiet })?;
            (start_wire(&p).map(Jitter::Wire), Some(why))
        }
    };
    if let (Err(why), Some(_)) = (&jitter, &no_netem) {
        return Err(format!("the userspace wire: {why}{}", p.diagnostics()));
    }
    let ours = match failoverd(&mut p, o, &jitter) {
        Ok(s) => s,
        Err(e) => return Err(format!("failoverd: {e}{}", p.diagnostics())),
    };
    let _ = p.kill(A);
    let _ = p.kill(B);
    clear_controllers(&p.rig)?;
    let dir = TempDir::new("bench-ka")?;
    let mut subjects = vec![ours];
    for k in KA_CONFS {
        let d = dir.path().join(format!("adv{}", (k.advert_s * 100.0).round()));
        subjects.push(keepalived_subject(&p.rig, &ka, &d, k, o, &jitter)?);
        clear_controllers(&p.rig)?;
    }
    let md =
        report(o, &ka_version, &subjects, jitter.as_ref().err().map(String::as_str), no_netem.as_deref());
    println!("\n{md}");
    let path = bench::report_path("failover.md");
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    std::fs::write(&path, &md).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("written to {}", path.display());
    Ok(())
}

fn failoverd(p: &mut Pair, o: FailoverOpts, how: &Result<Jitter, String>) -> Result<Subject, String> {
    println!("== failoverd, heartbeat {HEARTBEAT_MS} ms, timeout {TIMEOUT_MS} ms");
    let mut hosts = Hosts::new(&p.rig)?;
    p.start(B)?;
    p.start(A)?;
    p.settled()?;
    let realtime = [A, B].map(|c| realtime_summary(&p.rig.ctrl_ns(c)));
    let idle = idle_usage(&p.rig, Duration::from_secs(o.idle_seconds));
    let mut slowest = String::new();
    let kills = failoverd_takeovers(p, &mut hosts, o.n, &mut slowest)?;
    drop(hosts);
    let stress = if o.stress_seconds == 0 {
        Stress::skipped("--stress-seconds 0")
    } else if let Err(e) = p.settled() {
        Stress::skipped(format!("the pair did not settle before it: {e}"))
    } else {
        let st = bench::stress(p, o.stress_seconds)?;
        match st.skipped {
            Some(why) => Stress::skipped(why),
            None => Stress {
                false_takeovers: st.false_takeovers(),
                note: format!("epoch increments; {} active/epoch changes seen", st.changes.len()),
            },
        }
    };
    let (delay, sigma) = netem_params(Duration::from_millis(TIMEOUT_MS));
    let jitter_plan = format!("{} (timeout {TIMEOUT_MS} ms)", jitter_plan(how.as_ref().ok(), delay, sigma));
    let jitter = match how {
        Err(_) => Stress::skipped("see the jitter note"),
        Ok(how) => {
            if let Err(e) = p.settled() {
                Stress::skipped(format!("the pair did not settle before it: {e}"))
            } else {
                println!("  jitter: {jitter_plan}, both directions, for {} s", o.jitter_seconds);
                let ns = ctrl_namespaces(&p.rig);
                let (st, applied) =
                    how.during(&ns, delay, sigma, || bench::watch(p, o.jitter_seconds, || Ok(None)))?;
                Stress {
                    false_takeovers: st.false_takeovers(),
                    note: format!(
                        "epoch increments; {} active/epoch changes seen; largest heartbeat age either side \
                         reported {} ms; {applied}",
                        st.changes.len(),
                        st.max_heartbeat_age_ms
                    ),
                }
            }
        }
    };
    Ok(Subject {
        name: format!("failoverd, heartbeat {HEARTBEAT_MS} ms / timeout {TIMEOUT_MS} ms"),
        kills,
        stress,
        jitter,
        jitter_plan,
        realtime,
        idle,
        garp: format!("failoverd's own (rtnetlink + gratuitous ARP on {PUB_IF})"),
        slowest,
    })
}

/// With both daemons started: settle, then `n` times kill the active and measure the
/// takeover, restarting the killed one each time (as `bench failover-netns` does, with
/// the TCP measurement and the killed host's death on the public segment added).
/// `n` kills of the active; the slowest one's timeline goes to `slowest`.
fn failoverd_takeovers(
    p: &mut Pair,
    hosts: &mut Hosts,
    n: usize,
    slowest: &mut String,
) -> Result<Vec<Kill>, String> {
    let (mut active, mut epoch) = p.settled()?;
    let client_ns = p.rig.client_ns();
    let mut kills = Vec::new();
    for i in 0..n {
        let survivor = active.peer();
        p.expect_serving(active, true)?;
        ensure(!p.rig.has_vip(survivor)?, || format!("{survivor} holds the VIP before the kill"))?;
        hosts.check_serving(&client_ns, active)?;
        let k = kill_and_watch(&client_ns, hosts, active, || p.signal(active, Signal::SIGKILL))?;
        p.kill(active)?;
        let s = p.wait_status(survivor, SETTLE_LIMIT, "to become MASTER", |s| s.status == "MASTER")?;
        let timeline = s.last_failover.as_ref().map_or_else(
            || "no timeline".to_owned(),
            |f| {
                let v = |x: Option<f64>| x.map_or_else(|| "-".to_owned(), |x| format!("{x:.1}"));
                format!(
                    "{}: detect {}, fence {}, import {}, total {} ms",
                    f.cause,
                    v(f.detect_ms),
                    v(f.fence_ms),
                    v(f.import_ms),
                    v(f.total_ms)
                )
            },
        );
        ensure(s.epoch == epoch + 1, || {
            format!("{survivor} took over at epoch {}, expected {}", s.epoch, epoch + 1)
        })?;
        p.wait_disks_held(survivor, epoch + 1)?;
        // The killed host comes back as after a reset (see `bench::rejoin`).
        bench::rejoin(p, active, epoch + 1, || hosts.revive(active))?;
        println!(
            "  round {:>2}: killed {active} -> {survivor} at epoch {}: ARP {:.1} ms, TCP {:.1} ms ({timeline})",
            i + 1,
            epoch + 1,
            k.arp_ms,
            k.tcp_ms
        );
        if kills.iter().all(|x: &Kill| x.arp_ms < k.arp_ms) {
            *slowest = format!("round {} (ARP {:.1} ms): the survivor's {timeline}", i + 1, k.arp_ms);
        }
        kills.push(k);
        active = survivor;
        epoch += 1;
    }
    Ok(kills)
}

/// Who holds the VIP: (A, B).
fn holders(r: &Rig) -> Result<(bool, bool), String> {
    Ok((r.has_vip(A)?, r.has_vip(B)?))
}

fn only(c: Controller) -> (bool, bool) {
    (c == A, c == B)
}

/// The keepalived pair on the rig.
struct KaPair<'a> {
    rig: &'a Rig,
    exe: &'a Path,
    dir: &'a Path,
    k: KaConf,
    daemons: [Option<Keepalived>; 2],
}

impl KaPair<'_> {
    fn start(&mut self, c: Controller) -> Result<(), String> {
        if let Some(mut old) = self.daemons[c.index()].take() {
            old.kill();
        }
        let sub = self.dir.join(c.letter().to_ascii_lowercase().to_string());
        let mut d = Keepalived::spawn(self.exe, &self.rig.ctrl_ns(c), &sub, c, self.k)?;
        d.wait_log("Entering BACKUP STATE", SETTLE_LIMIT).map_err(|e| format!("{c}: {e}"))?;
        self.daemons[c.index()] = Some(d);
        Ok(())
    }

    fn daemon(&self, c: Controller) -> Result<&Keepalived, String> {
        self.daemons[c.index()].as_ref().ok_or_else(|| format!("{c} is not running"))
    }

    /// SIGKILL, reap, and wait for its process group to be gone.
    fn kill(&mut self, c: Controller) -> Result<(), String> {
        self.daemons[c.index()].as_mut().ok_or_else(|| format!("{c} is not running"))?.kill();
        Ok(())
    }

    fn master_lines(&self) -> usize {
        self.daemons.iter().flatten().map(|d| d.new_log().matches("Entering MASTER STATE").count()).sum()
    }

    /// Wait until exactly `c` holds the VIP.
    fn wait_holder(&self, c: Controller, limit: Duration) -> Result<(), String> {
        let t0 = Instant::now();
        loop {
            let h = holders(self.rig)?;
            if h == only(c) {
                return Ok(());
            }
            if t0.elapsed() > limit {
                return Err(format!(
                    "VIP holders (A, B) = {h:?} after {} ms, wanted only {c}",
                    limit.as_millis()
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// After (re)starting `backup`: let a few Master_Down_Intervals pass and check it
    /// stayed backup with the VIP on `active` alone.
    fn settle(&self, active: Controller, backup: Controller) -> Result<(), String> {
        let prio = KaConf::priority(backup);
        std::thread::sleep((self.k.master_down(prio) * 2).max(Duration::from_millis(200)));
        let d = self.daemon(backup)?;
        ensure(!d.new_log().contains("Entering MASTER STATE"), || {
            format!("the restarted {backup} became MASTER:\n{}", d.new_log())
        })?;
        self.wait_holder(active, Duration::from_millis(500))
    }

    /// Kill `active`, time to the survivor's first ARP reply and first accepted TCP
    /// connect; restart and settle.
    fn round(&mut self, hosts: &mut Hosts, active: Controller) -> Result<(Kill, Controller), String> {
        let survivor = active.peer();
        ensure(holders(self.rig)? == only(active), || format!("{active} is not the only VIP holder"))?;
        let client_ns = self.rig.client_ns();
        hosts.check_serving(&client_ns, active)?;
        let k = kill_and_watch(&client_ns, hosts, active, || self.daemon(active)?.signal_kill())?;
        self.kill(active)?;
        // The killed host comes back as after a reset: its kernel forgot the VIP.
        self.rig.flush_vip(active)?;
        hosts.revive(active)?;
        self.wait_holder(survivor, SETTLE_LIMIT)?;
        self.start(active)?;
        let now_active = if self.k.nopreempt { survivor } else { A };
        if now_active == survivor {
            self.settle(survivor, active)?;
        } else {
            self.wait_holder(now_active, SETTLE_LIMIT)?;
            self.settle(now_active, now_active.peer())?;
        }
        Ok((k, now_active))
    }

    /// Poll the VIP holders while the disturbance `start` sets up lasts: until the
    /// process it returns exits, or for `seconds` if it returns none. Every time the
    /// VIP appears on the standby is a false takeover.
    fn watch(
        &self,
        active: Controller,
        seconds: u64,
        start: impl FnOnce() -> Result<Option<Child>, String>,
    ) -> Result<Stress, String> {
        let masters_before = self.master_lines();
        let mut child = start()?;
        let t0 = Instant::now();
        let (mut moves, mut dual, mut none, mut polls) = (0u64, 0u64, 0u64, 0u64);
        let mut last = only(active);
        let mut changes = Vec::new();
        let outcome = loop {
            match bench::disturbance_over(&mut child, t0, seconds) {
                Ok(false) => {}
                Ok(true) => break Ok(()),
                Err(e) => break Err(e),
            }
            let h = match holders(self.rig) {
                Ok(h) => h,
                Err(e) => break Err(e),
            };
            polls += 1;
            if h != last {
                let standby_has = if active == A { h.1 } else { h.0 };
                let standby_had = if active == A { last.1 } else { last.0 };
                if standby_has && !standby_had {
                    moves += 1;
                }
                if h.0 && h.1 {
                    dual += 1;
                }
                if !h.0 && !h.1 {
                    none += 1;
                }
                changes.push(format!("{:.2} s: (A, B) = {h:?}", t0.elapsed().as_secs_f64()));
                last = h;
            }
            std::thread::sleep(VIP_POLL);
        };
        if let Some(c) = child.as_mut() {
            if outcome.is_err() {
                let _ = c.kill();
            }
            let _ = c.wait();
        }
        outcome?;
        let masters = self.master_lines().saturating_sub(masters_before);
        let mut note = format!(
            "VIP appeared on the standby {moves}× (on both {dual}×, on neither {none}×) in {polls} polls; \
             `Entering MASTER STATE` logged {masters}×"
        );
        for c in changes.iter().take(10) {
            let _ = write!(note, "; {c}");
        }
        Ok(Stress { false_takeovers: Some(moves), note })
    }

    /// Both under `stress-ng --cpu 0` for `seconds`; VIP holders polled.
    fn stress(&self, active: Controller, seconds: u64) -> Result<Stress, String> {
        let exe = match bench::stress_ng() {
            Ok(e) => e,
            Err(e) => return Ok(Stress::skipped(e)),
        };
        self.watch(active, seconds, || bench::spawn_stress(&exe, seconds).map(Some))
    }

    /// The sole VIP holder, if there is one.
    fn sole_holder(&self) -> Result<Option<Controller>, String> {
        let h = holders(self.rig)?;
        Ok([A, B].into_iter().find(|c| h == only(*c)))
    }
}

fn keepalived_subject(
    r: &Rig,
    exe: &Path,
    dir: &Path,
    k: KaConf,
    o: FailoverOpts,
    how: &Result<Jitter, String>,
) -> Result<Subject, String> {
    println!(
        "== keepalived VRRPv3, advert_int {} s, nopreempt {}, vrrp_rt_priority {}, vrrp_no_swap {}",
        k.advert_s, k.nopreempt, k.rt_priority, k.lock_memory
    );
    let mut kp = KaPair { rig: r, exe, dir, k, daemons: [None, None] };
    let res = (|| -> Result<Subject, String> {
        let mut hosts = Hosts::new(r)?;
        kp.start(A)?;
        kp.wait_holder(A, SETTLE_LIMIT)?;
        kp.start(B)?;
        kp.settle(A, B)?;
        let realtime = [A, B].map(|c| realtime_summary(&r.ctrl_ns(c)));
        let idle = idle_usage(r, Duration::from_secs(o.idle_seconds));
        let mut active = A;
        let mut kills = Vec::new();
        for i in 0..o.n {
            let (kill, now) = kp.round(&mut hosts, active)?;
            println!(
                "  round {:>2}: killed {active} -> {}: ARP {:.1} ms, TCP {:.1} ms",
                i + 1,
                active.peer(),
                kill.arp_ms,
                kill.tcp_ms
            );
            kills.push(kill);
            active = now;
        }
        drop(hosts);
        let garp = garp_summary(
            &[A, B]
                .iter()
                .filter_map(|c| kp.daemons[c.index()].as_ref())
                .map(|d| String::from_utf8_lossy(&std::fs::read(&d.log).unwrap_or_default()).into_owned())
                .collect::<String>(),
        );
        let stress = if o.stress_seconds == 0 {
            Stress::skipped("--stress-seconds 0")
        } else {
            kp.stress(active, o.stress_seconds)?
        };
        // The standby's Master_Down_Interval sets the jitter.
        let active = kp.sole_holder()?;
        let standby = active.map_or(B, Controller::peer);
        let mdi = k.master_down(KaConf::priority(standby));
        let (delay, sigma) = netem_params(mdi);
        let jitter_plan = format!(
            "{} (standby {standby}'s Master_Down_Interval {:.1} ms)",
            jitter_plan(how.as_ref().ok(), delay, sigma),
            mdi.as_secs_f64() * 1e3
        );
        let jitter = match (how, active) {
            (Err(_), _) => Stress::skipped("see the jitter note"),
            (Ok(_), None) => Stress::skipped("no single VIP holder after the stress run"),
            (Ok(how), Some(active)) => {
                println!("  jitter: {jitter_plan}, both directions, for {} s", o.jitter_seconds);
                let (mut st, applied) = how.during(&ctrl_namespaces(r), delay, sigma, || {
                    kp.watch(active, o.jitter_seconds, || Ok(None))
                })?;
                let _ = write!(st.note, "; {applied}");
                st
            }
        };
        Ok(Subject {
            name: format!("keepalived VRRPv3, advert_int {} s", k.advert_s),
            kills,
            stress,
            jitter,
            jitter_plan,
            realtime,
            idle,
            garp,
            slowest: String::new(),
        })
    })();
    res.map_err(|e| {
        let logs: String = kp
            .daemons
            .iter()
            .flatten()
            .map(|d| format!("\n--- {}:\n{}", d.log.display(), d.new_log()))
            .collect();
        format!("keepalived advert {} s: {e}{logs}", k.advert_s)
    })
}

fn ratio(ours: f64, theirs: f64) -> String {
    if theirs > 0.0 { format!("{:.3}", ours / theirs) } else { "-".into() }
}

/// Three rows (p50, p99, max) of a latency, with the ratios.
fn latency_rows(md: &mut String, what: &str, s: &[Subject], samples: fn(&Subject) -> Vec<f64>) {
    let sums: Vec<Option<Summary>> = s.iter().map(|x| summarize(&samples(x))).collect();
    type Pick = fn(&Summary) -> f64;
    let picks: [(&str, Pick); 3] = [("p50", |x| x.p50), ("p99", |x| x.p99), ("max", |x| x.max)];
    for (label, f) in picks {
        let _ = write!(md, "| {what}, {label} (ms) |");
        for x in &sums {
            match x {
                Some(x) => {
                    let _ = write!(md, " {:.1} |", f(x));
                }
                None => md.push_str(" - |"),
            }
        }
        for x in &sums[1..] {
            let r = match (sums[0], x) {
                (Some(a), Some(b)) => ratio(f(&a), f(b)),
                _ => "-".into(),
            };
            let _ = write!(md, " {r} |");
        }
        md.push('\n');
    }
}

/// `jitter_skipped`: why the jitter runs were not run; `no_netem`: why netem could not
/// be used (the userspace wire was).
fn report(
    o: FailoverOpts,
    ka_version: &str,
    s: &[Subject],
    jitter_skipped: Option<&str>,
    no_netem: Option<&str>,
) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# failover benchmark: failoverd vs keepalived\n");
    let _ = writeln!(
        md,
        "Same namespace rig, same run: controllers A and B in network namespaces, bridged public \
         segment `pub0`, VIP 192.0.2.100/24, a client namespace. {ka_version} (Debian package), \
         VRRPv3 with its adverts on the dedicated link `{LINK_IF}` (as failoverd's heartbeats) and the \
         VIP on `{PUB_IF}`, `state BACKUP` on both, priorities A 150 / B 100, `nopreempt` (a restarted \
         controller comes back as backup and the next round kills the other one, as in the failoverd \
         bench), `garp_master_delay 0`, `garp_master_repeat 1`, and the real-time treatment failoverd's \
         heartbeat thread gets from the rig's `[realtime] priority = {RT_PRIORITY}`, `lock_memory = true` \
         (SCHED_FIFO {RT_PRIORITY}, `mlockall`): `vrrp_rt_priority {RT_PRIORITY}` (SCHED_RR \
         {RT_PRIORITY} for the VRRP process) and `vrrp_no_swap` (`mlockall`); the row \"real-time \
         threads, locked memory\" is what `/proc` showed. {}.\n",
        bench::host_line()
    );
    let _ = writeln!(
        md,
        "**Not the same job:** keepalived only moves the IP. failoverd, on a takeover, also fences \
         (persistent reservations on the simulated PR disks, epoch persisted) and imports the pool \
         (a no-op pool hook here) before raising the VIP, and verifies the reservation afterwards.\n"
    );
    md.push_str("| metric |");
    for x in s {
        let _ = write!(md, " {} |", x.name);
    }
    for x in &s[1..] {
        let _ = write!(md, " ours / {} |", x.name.replace("keepalived VRRPv3, ", "keepalived "));
    }
    md.push_str("\n|---|");
    for _ in 0..(2 * s.len() - 1) {
        md.push_str("---:|");
    }
    md.push('\n');
    let blank_ratios = |md: &mut String| {
        for _ in &s[1..] {
            md.push_str(" |");
        }
    };
    latency_rows(&mut md, "SIGKILL → VIP answers ARP", s, Subject::arp);
    latency_rows(&mut md, &format!("SIGKILL → TCP connect to VIP:{TCP_PORT} accepted"), s, Subject::tcp);
    let _ = write!(md, "| kills measured |");
    for x in s {
        let _ = write!(md, " {} |", x.kills.len());
    }
    blank_ratios(&mut md);
    let ft = |x: &Stress| x.false_takeovers.map_or("-".into(), |v| v.to_string());
    let _ = write!(md, "\n| false takeovers, {} s of 100 % CPU on both |", o.stress_seconds);
    for x in s {
        let _ = write!(md, " {} |", ft(&x.stress));
    }
    for x in &s[1..] {
        let _ = write!(md, " {} vs {} |", ft(&s[0].stress), ft(&x.stress));
    }
    let _ = write!(md, "\n| false takeovers, {} s of jitter on the heartbeat link |", o.jitter_seconds);
    for x in s {
        let _ = write!(md, " {} |", ft(&x.jitter));
    }
    for x in &s[1..] {
        let _ = write!(md, " {} vs {} |", ft(&s[0].jitter), ft(&x.jitter));
    }
    md.push_str("\n| jitter: how, delay ± jitter, both directions |");
    for x in s {
        let _ = write!(
            md,
            " {}{} |",
            x.jitter_plan,
            if x.jitter.false_takeovers.is_none() { ", not run" } else { "" }
        );
    }
    blank_ratios(&mut md);
    md.push_str("\n| real-time threads, locked memory (from `/proc`, per controller) |");
    for x in s {
        if x.realtime[0] == x.realtime[1] {
            let _ = write!(md, " {} |", x.realtime[0]);
        } else {
            let _ = write!(md, " A: {}; B: {} |", x.realtime[0], x.realtime[1]);
        }
    }
    blank_ratios(&mut md);
    let rss = |x: &Subject| x.idle.iter().map(|u| u.rss_kb as f64).sum::<f64>() / 2.0;
    cpu_row(&mut md, s, "idle CPU, both controllers (ms per 10 s)", |u| u.cpu_ms);
    cpu_row(&mut md, s, "idle CPU, the daemons alone (the simulated watchdog's supervisor left out)", |u| {
        u.daemon_cpu_ms
    });
    let _ = write!(md, "\n| idle RSS per controller (kB, all its processes) |");
    for x in s {
        let _ = write!(md, " {:.0} (A {}, B {}) |", rss(x), x.idle[0].rss_kb, x.idle[1].rss_kb);
    }
    for x in &s[1..] {
        let _ = write!(md, " {} |", ratio(rss(&s[0]), rss(x)));
    }
    md.push_str("\n| on takeover |");
    md.push_str(" fence (PR disks) + epoch + import (no-op hook) + VIP + GARP |");
    for _ in &s[1..] {
        md.push_str(" VIP + GARP only |");
    }
    blank_ratios(&mut md);
    md.push('\n');
    let silenced = s.iter().flat_map(|x| x.kills.iter().map(|k| k.silenced_ms)).fold(0.0, f64::max);
    let _ = writeln!(
        md,
        "\nSIGKILL → ARP: from the SIGKILL of the active (keepalived: its whole process group, \
         parent and VRRP child) to the first ARP reply for the VIP from the survivor's MAC, seen from \
         the client namespace, which asks every {} ms. SIGKILL → TCP: to the first TCP connect from \
         the client to VIP:{TCP_PORT} that completes (a new non-blocking connect every {} ms, each \
         waited for {} ms), checked to be accepted by the listener on the survivor. Each controller \
         namespace has a listener on 0.0.0.0:{TCP_PORT}; the killed host dies on the public segment \
         with its daemon: its listener is closed just before the SIGKILL and its `pub0` set down just \
         after it (at most {silenced:.2} ms after it in this run), so it answers neither ARP nor TCP \
         for the VIP its kernel still holds; then, as a reset would, the VIP is removed and `pub0` and \
         the listener come back before the daemon restarts. Idle CPU: utime + stime from \
         `/proc/PID/stat` of every process in the controller's namespace over a {} s window with the \
         pair settled; RSS: their VmRSS summed (both lock their memory).\n",
        PROBE_PERIOD.as_millis(),
        PROBE_PERIOD.as_millis(),
        ATTEMPT_LIFE.as_millis(),
        o.idle_seconds
    );
    let wire = no_netem.map_or_else(String::new, |why| {
        format!(
            " **netem unavailable here** ({why}): the dedicated link ran through the userspace \
             middlebox of the `system` suite for the whole bench (both controllers' `{LINK_IF}` are veths \
             to a namespace where a thread per direction forwards every frame, SCHED_FIFO \
             {WIRE_RT_PRIORITY}, above the daemons, as netem's softirq or a cable would be), clean but \
             during the jitter runs, when each frame waits D ± √3·J, uniform (the same standard \
             deviation J as netem's normal, and with negative delays sent at once, as netem does, \
             about the same mean; but bounded at D + √3·J = {:.0} % of the takeover time where the \
             normal has a tail); it reorders too.",
            JITTER_FRACTION * (1.0 + 3f64.sqrt()) * 100.0
        )
    });
    let _ = writeln!(
        md,
        "Jitter: on the dedicated link `{LINK_IF}`, which both failoverd's heartbeats and keepalived's \
         VRRP adverts cross, both directions: `tc qdisc add dev {LINK_IF} root netem delay D J \
         distribution normal` in both controllers' namespaces, with D = J = {:.0} % of the time the \
         standby waits before taking over (failoverd's timeout, keepalived's Master_Down_Interval), so \
         that mean + 3σ is {:.0} % of it; counted as under CPU stress. With a jitter wider than \
         the packet spacing netem reorders: failoverd drops a heartbeat older than one it has \
         accepted (anti-replay), VRRP takes any advert.{wire}{}\n",
        JITTER_FRACTION * 100.0,
        JITTER_FRACTION * 400.0,
        jitter_skipped.map_or_else(String::new, |why| format!(" **Not run here:** {why}."))
    );
    for x in s {
        let _ = writeln!(
            md,
            "- {}: processes A {:?}, B {:?}; stress: {}; jitter: {}; gratuitous ARP: {}",
            x.name, x.idle[0].procs, x.idle[1].procs, x.stress.note, x.jitter.note, x.garp
        );
    }
    let _ = writeln!(md, "\nPer-kill SIGKILL → ARP / → TCP (ms):\n");
    for x in s {
        let v: Vec<String> = x.kills.iter().map(|k| format!("{:.1}/{:.1}", k.arp_ms, k.tcp_ms)).collect();
        let _ = writeln!(md, "- {}: {}", x.name, v.join(", "));
        if !x.slowest.is_empty() {
            let _ = writeln!(md, "  - slowest: {}", x.slowest);
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_ticks() {
        let stat = "1234 (keep alived) (x)) S 1 1234 1234 0 -1 4194560 300 0 0 0 17 5 0 0 20 0 2 0 \
                    4242 12345678 900 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        assert_eq!(parse_stat_ticks(stat), Some(22));
        assert_eq!(parse_stat_ticks("1 (x) S 1"), None);
        assert_eq!(parse_stat_ticks("garbage"), None);
        let own = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
        assert!(parse_stat_ticks(&own).is_some());
    }

    #[test]
    fn stat_sched() {
        // Fields 40 (rt_priority) and 41 (policy): a SCHED_RR 50 task.
        let stat = "77 (keepalived) S 1 77 77 0 -1 4194560 300 0 0 0 17 5 0 0 -51 0 1 0 4242 12345678 \
                    900 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 50 2 0 0 0";
        assert_eq!(parse_stat_sched(stat), Some((50, 2)));
        assert_eq!(parse_stat_sched("1 (x) S 1"), None);
        let own = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
        assert_eq!(parse_stat_sched(&own).map(|(_, policy)| policy), Some(0));
        assert_eq!(policy_name(2), "SCHED_RR");
    }

    #[test]
    fn vm_rss() {
        let status = "Name:\tkeepalived\nVmPeak:\t   9000 kB\nVmRSS:\t    2468 kB\nThreads:\t1\n";
        assert_eq!(parse_vm_rss_kb(status), Some(2468));
        assert_eq!(parse_vm_rss_kb("Name:\tkthreadd\n"), None);
        let own = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
        assert!(parse_vm_rss_kb(&own).is_some_and(|kb| kb > 0));
    }

    #[test]
    fn netem_parameters_and_command() {
        let (d, j) = netem_params(Duration::from_millis(TIMEOUT_MS));
        assert_eq!((d, j), (Duration::from_millis(10), Duration::from_millis(10)));
        let k = KaConf { advert_s: 0.01, nopreempt: true, rt_priority: 50, lock_memory: true };
        let (d, _) = netem_params(k.master_down(KaConf::priority(B)));
        // (3 + 156/256) * 10 ms = 36.09 ms; a fifth of it.
        assert_eq!(d, Duration::from_micros(7219));
        assert_eq!(
            netem_args("fo-1-a", LINK_IF, Duration::from_millis(10), Duration::from_micros(7219)).join(" "),
            "-n fo-1-a qdisc add dev ha0 root netem delay 10000us 7219us distribution normal"
        );
        assert_eq!(netem_text(d, d, PUB_IF), "7.2 ± 7.2 ms on pub0");
        // The wire's uniform half-width: √3 σ, the same standard deviation.
        assert_eq!(uniform_jitter(Duration::from_millis(10)), Duration::from_micros(17_321));
        assert_eq!(
            jitter_plan(None, Duration::from_millis(10), Duration::from_millis(10)),
            "netem, normal: 10.0 ± 10.0 ms on ha0"
        );
    }

    #[test]
    fn garp_lines_by_interface() {
        let log = "Sat Keepalived_vrrp[7]: (VI_1) Sending/queueing gratuitous ARPs on pub0 for 192.0.2.100\n\
                   Sat Keepalived_vrrp[7]: Sending gratuitous ARP on pub0 for 192.0.2.100\n\
                   Sat Keepalived_vrrp[7]: (VI_1) Entering MASTER STATE\n\
                   Sat Keepalived_vrrp[7]: Sending gratuitous ARP on ha0 for 192.0.2.100\n";
        assert_eq!(garp_summary(log), "logged gratuitous ARP lines on pub0 ×2, ha0 ×1");
        assert_eq!(garp_summary("nothing"), "no gratuitous ARP logged");
    }

    #[test]
    fn report_has_ratios_and_the_caveat() {
        let u = |cpu_ms, rss_kb| Usage {
            cpu_ms,
            window_s: 10.0,
            rss_kb,
            procs: vec!["x".into(), "exe".into()],
            daemon_cpu_ms: cpu_ms / 2.0,
        };
        let subj = |name: &str, ms: f64, ft| Subject {
            name: name.into(),
            kills: [1.0, 2.0]
                .map(|f| Kill { arp_ms: ms * f, tcp_ms: ms * f + 1.0, silenced_ms: 0.05 })
                .to_vec(),
            stress: Stress { false_takeovers: Some(ft), note: String::new() },
            jitter: Stress::skipped("no netem"),
            jitter_plan: jitter_plan(None, Duration::from_millis(10), Duration::from_millis(10)),
            realtime: ["x SCHED_FIFO 50; VmLck 100 kB".into(), "x SCHED_FIFO 50; VmLck 100 kB".into()],
            idle: [u(100.0, 4000), u(100.0, 4000)],
            garp: "logged gratuitous ARP lines on pub0 ×2".into(),
            slowest: if name == "failoverd" {
                "round 2 (ARP 20.0 ms): the survivor's peer_silent: ...".into()
            } else {
                String::new()
            },
        };
        let md = report(
            FailoverOpts::default(),
            "Keepalived v2.2.7",
            &[subj("failoverd", 10.0, 0), subj("keepalived VRRPv3, advert_int 0.01 s", 40.0, 1)],
            Some("no netem in kernel x"),
            None,
        );
        assert!(md.contains("| SIGKILL → VIP answers ARP, p50 (ms) | 10.0 | 40.0 | 0.250 |"), "{md}");
        assert!(
            md.contains("| SIGKILL → TCP connect to VIP:2049 accepted, p50 (ms) | 11.0 | 41.0 | 0.268 |"),
            "{md}"
        );
        assert!(md.contains("keepalived only moves the IP"));
        assert!(md.contains("vrrp_rt_priority 50"));
        assert_eq!(md.matches("  - slowest: round 2 (ARP 20.0 ms)").count(), 1, "{md}");
        assert!(
            md.contains("| idle CPU, the daemons alone (the simulated watchdog's supervisor left out) | 100 (A 50, B 50) |"),
            "{md}"
        );
        assert!(md.contains("| 0 | 1 | 0 vs 1 |"), "{md}");
        assert!(
            md.contains("| false takeovers, 30 s of jitter on the heartbeat link | - | - | - vs - |"),
            "{md}"
        );
        assert!(md.contains("| netem, normal: 10.0 ± 10.0 ms on ha0, not run |"), "{md}");
        assert!(md.contains("gratuitous ARP: logged gratuitous ARP lines on pub0 ×2"), "{md}");
        assert!(!md.contains("userspace wire"), "{md}");
        let wired = report(
            FailoverOpts::default(),
            "Keepalived v2.2.7",
            &[subj("failoverd", 10.0, 0)],
            None,
            Some("no netem in kernel x"),
        );
        assert!(wired.contains("**netem unavailable here** (no netem in kernel x)"), "{wired}");
        assert!(!wired.contains("Not run here"), "{wired}");
        assert!(md.contains("**Not run here:** no netem in kernel x."), "{md}");
        assert!(md.contains("| x SCHED_FIFO 50; VmLck 100 kB |"), "{md}");
    }
}
