//! The network-namespace rig: two controllers, a public segment and a client, built from
//! namespaces, veth pairs and a bridge, with the real `failoverd` running in each
//! controller's namespace. Used by the `netns` suite and the `failover-netns` bench.
//!
//! ```text
//!   fo-<pid>-a                                     fo-<pid>-b
//!   ha0 169.254.10.1/30 ===== veth (dedicated) ===== ha0 169.254.10.2/30
//!   pub0 192.0.2.10/24                               pub0 192.0.2.11/24
//!   (02:fa:00:00:00:0a)                              (02:fa:00:00:00:0b)
//!          \                                            /
//!           pa ---------- br0 (fo-<pid>-pub) --------- pb
//!                               |
//!                               pc
//!                               |
//!                 eth0 192.0.2.50/24 (fo-<pid>-c, the client, 02:fa:00:00:00:50)
//!
//!   VIP 192.0.2.100/24 on the active's pub0 (critical, group 1, vhid 10)
//! ```
//!
//! Both daemons share one temporary directory: the simulated JBOD (4 disks), the
//! enclosure and the peer-reset pid files; each has its own state file, simulated
//! watchdog, API socket and log there. VIPs are real (`vips = { kind = "netlink" }`):
//! rtnetlink on `pub0` plus gratuitous ARP, observed from the client namespace with ARP
//! probes and ICMP echo sent from a thread that entered that namespace (`setns`), so
//! the rig needs no tool beyond `ip`.
//!
//! Cleanup is by guards: [`Daemon`] kills and reaps its process, [`Rig`] kills whatever
//! still runs in its namespaces (the daemons' watchdog supervisors) and deletes them,
//! [`TempDir`] removes the directory; all of it also while unwinding from a panic.
//! Namespaces left by a run that was itself killed (`fo-<pid>-*` of a pid that no
//! longer exists, with no process inside) are swept at the next start.

use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::mem::size_of;
use std::net::Ipv4Addr;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use failover_core::node::ReservationKey;
use failover_core::wire::Controller;
use failover_linux::api::client::ApiClient;
use failover_linux::api::types::{SettingsJson, StatusJson};
use failover_linux::backend::SimDiskSet;
use failover_linux::backend::sim_disk::{LogEntry, check_log};
use nix::sched::CloneFlags;
use nix::sys::signal::Signal;
use nix::unistd::Pid;

use super::shared_toml::SharedToml;

/// The virtual IP.
pub const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
/// The client's address on the public segment.
pub const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 50);
/// The public interface's name in both controller namespaces.
pub const PUB_IF: &str = "pub0";
/// The dedicated link's interface name in both controller namespaces.
pub const LINK_IF: &str = "ha0";
/// The middlebox's ends of the dedicated link (facing A, facing B).
pub const WIRE_ENDS: [&str; 2] = ["wa", "wb"];
/// The client's interface.
pub const CLIENT_IF: &str = "eth0";
/// Simulated disks in the shared JBOD.
pub const DISKS: usize = 4;
/// The failover settings the rig runs with: the defaults.
pub const HEARTBEAT_MS: u64 = 10;
/// See [`HEARTBEAT_MS`].
pub const TIMEOUT_MS: u64 = 50;
/// The simulated watchdog's timeout (the configuration default).
pub const WATCHDOG_MS: u64 = 1_000;

/// An Ethernet address.
pub type Mac = [u8; 6];
/// Controller A's `pub0`.
pub const MAC_A: Mac = [0x02, 0xfa, 0, 0, 0, 0x0a];
/// Controller B's `pub0`.
pub const MAC_B: Mac = [0x02, 0xfa, 0, 0, 0, 0x0b];
/// The client's `eth0`.
pub const MAC_CLIENT: Mac = [0x02, 0xfa, 0, 0, 0, 0x50];

/// How often waits poll.
const POLL: Duration = Duration::from_millis(5);
/// API requests that take longer than this count as unanswered.
const API_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a daemon may take to come up, settle, or take over before a wait fails.
pub const SETTLE_LIMIT: Duration = Duration::from_secs(10);

/// `aa:bb:..` for a MAC.
pub fn fmt_mac(m: &Mac) -> String {
    m.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

/// The `pub0` MAC of a controller.
pub fn mac_of(c: Controller) -> Mac {
    match c {
        Controller::A => MAC_A,
        Controller::B => MAC_B,
    }
}

/// Which controller a MAC belongs to, if either.
pub fn owner_of(m: &Mac) -> Option<Controller> {
    [Controller::A, Controller::B].into_iter().find(|c| mac_of(*c) == *m)
}

/// Run a command; its stdout on success, else an error naming it with its stderr.
pub fn run_cmd(cmd: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(cmd)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `{cmd}`: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "`{cmd} {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn ip(args: &[&str]) -> Result<String, String> {
    run_cmd("ip", args)
}

/// The `failoverd` and `failoverctl` binaries next to this executable.
#[derive(Clone, Debug)]
pub struct Binaries {
    /// The daemon.
    pub failoverd: PathBuf,
    /// The CLI.
    pub failoverctl: PathBuf,
}

impl Binaries {
    /// Find them next to the running hw-tests executable (the same cargo profile).
    pub fn locate() -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find the hw-tests executable: {e}"))?;
        let dir = exe.parent().ok_or_else(|| format!("{} has no directory", exe.display()))?;
        let profile = dir.file_name().map_or("release".into(), |n| n.to_string_lossy().into_owned());
        let flag = if profile == "debug" { "" } else { " --release" };
        let find = |name: &str| {
            let p = dir.join(name);
            if p.is_file() {
                Ok(p)
            } else {
                Err(format!(
                    "{} not found: the netns rig runs the real daemon from next to hw-tests; \
                     build it first with `cargo build{flag} -p failover-linux`",
                    p.display()
                ))
            }
        };
        Ok(Self { failoverd: find("failoverd")?, failoverctl: find("failoverctl")? })
    }
}

/// Why the rig cannot run here (not root, no `ip`, no namespaces), if it cannot.
pub fn preflight() -> Result<Binaries, String> {
    let bins = Binaries::locate()?;
    if !nix::unistd::geteuid().is_root() {
        return Err("the netns rig needs root (network namespaces, veth, bridges)".into());
    }
    ip(&["-V"]).map_err(|e| format!("iproute2 is needed: {e}"))?;
    Ok(bins)
}

// ---------------------------------------------------------------------------------
// Namespaces
// ---------------------------------------------------------------------------------

/// One of the rig's namespaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host {
    /// A controller.
    Ctrl(Controller),
    /// The public segment's bridge.
    Pub,
    /// The client.
    Client,
    /// The middlebox in the dedicated link ([`Rig::create_with_wire`]).
    Wire,
}

impl Host {
    fn suffix(self) -> &'static str {
        match self {
            Self::Ctrl(Controller::A) => "a",
            Self::Ctrl(Controller::B) => "b",
            Self::Pub => "pub",
            Self::Client => "c",
            Self::Wire => "w",
        }
    }
}

/// The namespaces and links; deleted on drop (after killing what still runs there).
#[derive(Debug)]
pub struct Rig {
    tag: String,
    created: Vec<String>,
}

impl Rig {
    /// Build the rig: `fo-<pid>-{a,b,pub,c}`, the dedicated link one veth pair.
    pub fn create() -> Result<Self, String> {
        Self::build(false)
    }

    /// Build the rig with the dedicated link through a middlebox namespace
    /// `fo-<pid>-w`: `ha0` of A and of B are veths whose peers there are
    /// [`WIRE_ENDS`] (A's, B's), joined by whatever the test runs there (nothing
    /// crosses until it does; see `system::wire`).
    pub fn create_with_wire() -> Result<Self, String> {
        Self::build(true)
    }

    fn build(wire: bool) -> Result<Self, String> {
        sweep_stale();
        let mut rig = Self { tag: format!("fo-{}", std::process::id()), created: Vec::new() };
        let mut hosts = vec![Host::Ctrl(Controller::A), Host::Ctrl(Controller::B), Host::Pub, Host::Client];
        if wire {
            hosts.push(Host::Wire);
        }
        for h in hosts {
            let name = rig.ns(h);
            if Path::new("/run/netns").join(&name).exists() {
                // Our own pid: left by an earlier rig of this run that failed to go.
                kill_all_in(&name);
                let _ = ip(&["netns", "del", &name]);
            }
            ip(&["netns", "add", &name])?;
            rig.created.push(name.clone());
            ip(&["-n", &name, "link", "set", "lo", "up"])?;
        }
        let (a, b) = (rig.ns(Host::Ctrl(Controller::A)), rig.ns(Host::Ctrl(Controller::B)));
        let (pubns, client) = (rig.ns(Host::Pub), rig.ns(Host::Client));
        // The dedicated link.
        if wire {
            let w = rig.ns(Host::Wire);
            for (ns, end) in [(&a, WIRE_ENDS[0]), (&b, WIRE_ENDS[1])] {
                ip(&["-n", ns, "link", "add", LINK_IF, "type", "veth", "peer", "name", end, "netns", &w])?;
                ip(&["-n", &w, "link", "set", end, "up"])?;
            }
        } else {
            ip(&["-n", &a, "link", "add", LINK_IF, "type", "veth", "peer", "name", LINK_IF, "netns", &b])?;
        }
        for (ns, addr) in [(&a, "169.254.10.1/30"), (&b, "169.254.10.2/30")] {
            ip(&["-n", ns, "addr", "add", addr, "dev", LINK_IF])?;
            ip(&["-n", ns, "link", "set", LINK_IF, "up"])?;
        }
        // The public segment.
        ip(&["-n", &pubns, "link", "add", "br0", "type", "bridge"])?;
        ip(&["-n", &pubns, "link", "set", "br0", "up"])?;
        for (ns, ifname, port, mac, addr) in [
            (&a, PUB_IF, "pa", MAC_A, "192.0.2.10/24"),
            (&b, PUB_IF, "pb", MAC_B, "192.0.2.11/24"),
            (&client, CLIENT_IF, "pc", MAC_CLIENT, "192.0.2.50/24"),
        ] {
            let mac = fmt_mac(&mac);
            ip(&[
                "-n", ns, "link", "add", ifname, "address", &mac, "type", "veth", "peer", "name", port,
                "netns", &pubns,
            ])?;
            ip(&["-n", &pubns, "link", "set", port, "master", "br0"])?;
            ip(&["-n", &pubns, "link", "set", port, "up"])?;
            ip(&["-n", ns, "addr", "add", addr, "dev", ifname])?;
            ip(&["-n", ns, "link", "set", ifname, "up"])?;
        }
        Ok(rig)
    }

    /// The namespace name of `h`.
    pub fn ns(&self, h: Host) -> String {
        format!("{}-{}", self.tag, h.suffix())
    }

    /// A controller's namespace.
    pub fn ctrl_ns(&self, c: Controller) -> String {
        self.ns(Host::Ctrl(c))
    }

    /// The IPv4 addresses on a controller's `pub0` (`addr/prefix`).
    pub fn pub_addresses(&self, c: Controller) -> Result<Vec<String>, String> {
        let out = ip(&["-n", &self.ctrl_ns(c), "-o", "-4", "addr", "show", "dev", PUB_IF])?;
        Ok(out
            .lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                w.position(|x| x == "inet").and(w.next()).map(str::to_owned)
            })
            .collect())
    }

    /// Whether the VIP is configured on a controller's `pub0`.
    pub fn has_vip(&self, c: Controller) -> Result<bool, String> {
        let vip = format!("{VIP}/");
        Ok(self.pub_addresses(c)?.iter().any(|a| a.starts_with(&vip)))
    }

    /// Remove the VIP from a controller's `pub0` (what a reboot of that host does).
    pub fn flush_vip(&self, c: Controller) -> Result<(), String> {
        if self.has_vip(c)? {
            ip(&["-n", &self.ctrl_ns(c), "addr", "del", &format!("{VIP}/24"), "dev", PUB_IF])?;
        }
        Ok(())
    }

    /// Bring a controller's end of the dedicated link down or up.
    pub fn set_link(&self, c: Controller, up: bool) -> Result<(), String> {
        ip(&["-n", &self.ctrl_ns(c), "link", "set", LINK_IF, if up { "up" } else { "down" }])?;
        Ok(())
    }

    /// The client's neighbour entry for the VIP: its MAC and state, if any.
    pub fn client_neighbour(&self) -> Result<Option<(Mac, String)>, String> {
        let out = ip(&["-n", &self.ns(Host::Client), "neigh", "show", &VIP.to_string(), "dev", CLIENT_IF])?;
        Ok(parse_neighbour(&out))
    }

    /// Ask "who has the VIP" once from the client and collect the distinct MACs that
    /// answer within `wait`.
    pub fn arp_probe(&self, wait: Duration) -> Result<Vec<Mac>, String> {
        in_netns(&self.ns(Host::Client), move || arp_who_has(CLIENT_IF, VIP, wait))
    }

    /// One ICMP echo from the client to the VIP; the round trip time.
    pub fn ping_vip(&self, timeout: Duration) -> Result<Duration, String> {
        in_netns(&self.ns(Host::Client), move || ping(VIP, timeout).map_err(|e| format!("ping {VIP}: {e}")))?
            .ok_or_else(|| format!("no echo reply from {VIP} within {} ms", timeout.as_millis()))
    }

    /// The client's namespace.
    pub fn client_ns(&self) -> String {
        self.ns(Host::Client)
    }
}

/// The MAC and state of the first entry of `ip neigh show <ip> dev <if>` output.
pub fn parse_neighbour(out: &str) -> Option<(Mac, String)> {
    let line = out.lines().next()?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let mac = words
        .iter()
        .position(|w| *w == "lladdr")
        .and_then(|i| words.get(i + 1))
        .and_then(|m| parse_mac(m))?;
    Some((mac, words.last().map_or(String::new(), |s| (*s).to_owned())))
}

/// Ask "who has `ip`" once on `ifname` and collect the distinct MACs that answer
/// within `wait`.
pub fn arp_who_has(ifname: &str, ip: Ipv4Addr, wait: Duration) -> Result<Vec<Mac>, String> {
    let s = ArpSocket::open(ifname).map_err(|e| format!("ARP socket on {ifname}: {e}"))?;
    s.send_request(ip).map_err(|e| format!("ARP request: {e}"))?;
    let until = Instant::now() + wait;
    let mut seen = Vec::new();
    while let Some(m) = s.recv_reply(ip, until).map_err(|e| format!("ARP reply: {e}"))? {
        if !seen.contains(&m) {
            seen.push(m);
        }
    }
    Ok(seen)
}

/// Run `kill` while the client namespace watches for `survivor`'s first ARP answer for
/// the VIP (asking every `period`, for at most `limit`): the instant `kill` started,
/// what it returned, and when the survivor first answered. If `kill` fails the watch
/// stops at once.
pub fn kill_and_watch_arp<T>(
    client_ns: &str,
    survivor: Controller,
    period: Duration,
    limit: Duration,
    kill: impl FnOnce() -> Result<T, String>,
) -> (Instant, Result<T, String>, Result<Option<Instant>, String>) {
    let stop = AtomicBool::new(false);
    let (ready_tx, ready_rx) = mpsc::channel();
    std::thread::scope(|s| {
        let watcher = s.spawn(|| arp_watch(client_ns, mac_of(survivor), period, limit, ready_tx, &stop));
        let started =
            ready_rx.recv_timeout(Duration::from_secs(5)).map_err(|_| "the ARP watcher did not start");
        let t_kill = Instant::now();
        let killed = started.map_err(str::to_owned).and_then(|()| kill());
        if killed.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        let arp = watcher.join().unwrap_or_else(|_| Err("the ARP watcher panicked".into()));
        (t_kill, killed, arp)
    })
}

/// From the client namespace `client_ns`, ask for the VIP every `period` until `want`
/// answers, `stop` is set or `limit` passes; `ready` is told once the socket is open.
/// The time of `want`'s first answer.
pub fn arp_watch(
    client_ns: &str,
    want: Mac,
    period: Duration,
    limit: Duration,
    ready: mpsc::Sender<()>,
    stop: &AtomicBool,
) -> Result<Option<Instant>, String> {
    in_netns(client_ns, move || {
        let s = ArpSocket::open(CLIENT_IF).map_err(|e| format!("ARP socket: {e}"))?;
        let _ = ready.send(());
        let end = Instant::now() + limit;
        while Instant::now() < end && !stop.load(Ordering::Relaxed) {
            s.send_request(VIP).map_err(|e| format!("ARP request: {e}"))?;
            let next = Instant::now() + period;
            while let Some(m) = s.recv_reply(VIP, next).map_err(|e| format!("ARP reply: {e}"))? {
                if m == want {
                    return Ok(Some(Instant::now()));
                }
            }
        }
        Ok(None)
    })
}

impl Drop for Rig {
    fn drop(&mut self) {
        for name in self.created.iter().rev() {
            kill_all_in(name);
        }
        for name in self.created.iter().rev() {
            if let Err(e) = ip(&["netns", "del", name]) {
                eprintln!("rig: {e}");
            }
        }
    }
}

/// SIGKILL every process in our namespace `name` (started by this rig: daemons and
/// their watchdog supervisors), then give them a moment to go.
fn kill_all_in(name: &str) {
    let Ok(out) = ip(&["netns", "pids", name]) else { return };
    let pids: Vec<i32> = out.split_whitespace().filter_map(|p| p.parse().ok()).filter(|&p| p > 1).collect();
    for &p in &pids {
        let _ = nix::sys::signal::kill(Pid::from_raw(p), Signal::SIGKILL);
    }
    let t0 = Instant::now();
    while !pids.is_empty() && t0.elapsed() < Duration::from_secs(2) {
        let left = ip(&["netns", "pids", name]).unwrap_or_default();
        if left.split_whitespace().next().is_none() {
            break;
        }
        std::thread::sleep(POLL);
    }
}

/// Delete `fo-<pid>-*` namespaces of runs that no longer exist and have no process.
fn sweep_stale() {
    let Ok(list) = ip(&["netns", "list"]) else { return };
    for name in list.lines().filter_map(|l| l.split_whitespace().next()) {
        let Some(pid) =
            name.strip_prefix("fo-").and_then(|r| r.split('-').next()).and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        let gone =
            pid != std::process::id() as i32 && nix::sys::signal::kill(Pid::from_raw(pid), None).is_err();
        let empty = ip(&["netns", "pids", name]).is_ok_and(|p| p.trim().is_empty());
        if gone && empty {
            let _ = ip(&["netns", "del", name]);
        }
    }
}

/// Call `f` every `every` until it gives a value, for at most `limit`; the error names
/// `what` was waited for.
pub fn poll_until<T>(
    limit: Duration,
    every: Duration,
    what: &str,
    mut f: impl FnMut() -> Result<Option<T>, String>,
) -> Result<T, String> {
    let t0 = Instant::now();
    loop {
        if let Some(v) = f()? {
            return Ok(v);
        }
        if t0.elapsed() >= limit {
            return Err(format!("timed out after {} ms waiting for {what}", limit.as_millis()));
        }
        std::thread::sleep(every);
    }
}

/// Run `f` on a fresh thread that entered network namespace `ns`.
fn in_netns<T: Send>(ns: &str, f: impl FnOnce() -> Result<T, String> + Send) -> Result<T, String> {
    let path = Path::new("/run/netns").join(ns);
    std::thread::scope(|s| {
        s.spawn(move || {
            let file = File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            nix::sched::setns(file.as_fd(), CloneFlags::CLONE_NEWNET)
                .map_err(|e| format!("setns {}: {e}", path.display()))?;
            f()
        })
        .join()
        .unwrap_or_else(|_| Err(format!("the thread in {ns} panicked")))
    })
}

/// Run `f` on a fresh thread that entered network namespace `ns` (one of the rig's,
/// by name), and wait for it. Sockets `f` opens belong to `ns` for their whole life,
/// whichever thread uses them afterwards.
pub fn in_namespace<T: Send>(ns: &str, f: impl FnOnce() -> Result<T, String> + Send) -> Result<T, String> {
    in_netns(ns, f)
}

/// `aa:bb:cc:dd:ee:ff` as a MAC.
pub fn parse_mac(s: &str) -> Option<Mac> {
    let mut m = [0u8; 6];
    let mut parts = s.split(':');
    for b in &mut m {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(m)
}

// ---------------------------------------------------------------------------------
// Raw sockets in the client namespace
// ---------------------------------------------------------------------------------

const ETH_P_ARP: u16 = 0x0806;

/// An `AF_PACKET` socket for ARP on one interface.
struct ArpSocket {
    fd: OwnedFd,
    ifindex: i32,
}

/// A libc return code as an `io::Result` (negative: `errno`).
pub(crate) fn cvt(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 { Err(io::Error::last_os_error()) } else { Ok(rc) }
}

fn wait_readable(fd: &OwnedFd, until: Instant) -> io::Result<bool> {
    let left = until.saturating_duration_since(Instant::now());
    let ms = i32::try_from(left.as_millis().max(u128::from(!left.is_zero()))).unwrap_or(i32::MAX);
    let mut p = libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd, its count, a timeout.
    let n = cvt(unsafe { libc::poll(&mut p, 1, ms) })?;
    Ok(n > 0)
}

/// An `AF_PACKET` raw socket for protocol `proto_be` (network byte order) bound to
/// `ifname` in the calling thread's namespace: the descriptor and the ifindex.
pub fn packet_socket(ifname: &str, proto_be: u16, nonblocking: bool) -> io::Result<(OwnedFd, i32)> {
    let flags = libc::SOCK_RAW | libc::SOCK_CLOEXEC | if nonblocking { libc::SOCK_NONBLOCK } else { 0 };
    // SAFETY: socket(2) with constant arguments; the result is checked.
    let raw = cvt(unsafe { libc::socket(libc::AF_PACKET, flags, i32::from(proto_be)) })?;
    // SAFETY: `raw` is a descriptor we just opened and nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let name = CString::new(ifname).map_err(io::Error::other)?;
    // SAFETY: a valid NUL-terminated name.
    let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if ifindex == 0 {
        return Err(io::Error::last_os_error());
    }
    let ifindex = i32::try_from(ifindex).map_err(io::Error::other)?;
    let sll = sockaddr_ll(ifindex, proto_be, None);
    // SAFETY: `sll` is a valid sockaddr_ll and the length is its size.
    cvt(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&raw const sll).cast::<libc::sockaddr>(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    })?;
    Ok((fd, ifindex))
}

impl ArpSocket {
    fn open(ifname: &str) -> io::Result<Self> {
        let (fd, ifindex) = packet_socket(ifname, ETH_P_ARP.to_be(), true)?;
        Ok(Self { fd, ifindex })
    }

    /// Broadcast "who has `target`, tell CLIENT_IP".
    fn send_request(&self, target: Ipv4Addr) -> io::Result<()> {
        let mut f = [0u8; 60];
        f[0..6].copy_from_slice(&[0xff; 6]);
        f[6..12].copy_from_slice(&MAC_CLIENT);
        f[12..14].copy_from_slice(&ETH_P_ARP.to_be_bytes());
        let arp = &mut f[14..42];
        arp[0..2].copy_from_slice(&1u16.to_be_bytes());
        arp[2..4].copy_from_slice(&0x0800u16.to_be_bytes());
        arp[4] = 6;
        arp[5] = 4;
        arp[6..8].copy_from_slice(&1u16.to_be_bytes());
        arp[8..14].copy_from_slice(&MAC_CLIENT);
        arp[14..18].copy_from_slice(&CLIENT_IP.octets());
        arp[24..28].copy_from_slice(&target.octets());
        let sll = sockaddr_ll(self.ifindex, ETH_P_ARP.to_be(), Some([0xff; 6]));
        // SAFETY: a valid buffer with its length, a valid sockaddr_ll with its size.
        cvt(unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                f.as_ptr().cast(),
                f.len(),
                0,
                (&raw const sll).cast::<libc::sockaddr>(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            ) as libc::c_int
        })?;
        Ok(())
    }

    /// The sender MAC of the next ARP reply for `target` addressed to the client, or
    /// `None` at `until`.
    fn recv_reply(&self, target: Ipv4Addr, until: Instant) -> io::Result<Option<Mac>> {
        let mut buf = [0u8; 128];
        loop {
            // SAFETY: a valid buffer and its length.
            let n = unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::WouldBlock {
                    return Err(e);
                }
                if Instant::now() >= until || !wait_readable(&self.fd, until)? {
                    return Ok(None);
                }
                continue;
            }
            let f = &buf[..n as usize];
            if f.len() < 42 || f[12..14] != ETH_P_ARP.to_be_bytes() {
                continue;
            }
            let arp = &f[14..42];
            let reply = arp[6..8] == 2u16.to_be_bytes();
            if reply && arp[14..18] == target.octets() && arp[24..28] == CLIENT_IP.octets() {
                let mut m = [0u8; 6];
                m.copy_from_slice(&arp[8..14]);
                return Ok(Some(m));
            }
        }
    }
}

fn sockaddr_ll(ifindex: i32, proto_be: u16, dst: Option<Mac>) -> libc::sockaddr_ll {
    // SAFETY: sockaddr_ll is plain old data; all zeroes is a valid value.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = proto_be;
    sll.sll_ifindex = ifindex;
    if let Some(d) = dst {
        sll.sll_halen = 6;
        sll.sll_addr[..6].copy_from_slice(&d);
    }
    sll
}

fn inet_checksum(data: &[u8]) -> u16 {
    let mut sum: u32 =
        data.chunks(2).map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

static PING_SEQ: AtomicU16 = AtomicU16::new(1);

/// One ICMP echo to `dst` over a raw socket; the round trip, or `None` on timeout.
pub fn ping(dst: Ipv4Addr, timeout: Duration) -> io::Result<Option<Duration>> {
    // SAFETY: socket(2) with constant arguments; the result is checked.
    let raw = cvt(unsafe {
        libc::socket(
            libc::AF_INET,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            libc::IPPROTO_ICMP,
        )
    })?;
    // SAFETY: `raw` is a descriptor we just opened and nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let id = (std::process::id() & 0xffff) as u16;
    let seq = PING_SEQ.fetch_add(1, Ordering::Relaxed);
    let mut pkt = [0u8; 24];
    pkt[0] = 8;
    pkt[4..6].copy_from_slice(&id.to_be_bytes());
    pkt[6..8].copy_from_slice(&seq.to_be_bytes());
    pkt[8..24].copy_from_slice(b"failover-netns!!");
    let ck = inet_checksum(&pkt);
    pkt[2..4].copy_from_slice(&ck.to_be_bytes());
    // SAFETY: sockaddr_in is plain old data; all zeroes is a valid value.
    let mut sin: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    sin.sin_family = libc::AF_INET as libc::sa_family_t;
    sin.sin_addr = libc::in_addr { s_addr: u32::from_ne_bytes(dst.octets()) };
    let t0 = Instant::now();
    // SAFETY: a valid buffer with its length, a valid sockaddr_in with its size.
    cvt(unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            pkt.as_ptr().cast(),
            pkt.len(),
            0,
            (&raw const sin).cast::<libc::sockaddr>(),
            size_of::<libc::sockaddr_in>() as libc::socklen_t,
        ) as libc::c_int
    })?;
    let until = t0 + timeout;
    let mut buf = [0u8; 256];
    loop {
        // SAFETY: a valid buffer and its length.
        let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::WouldBlock {
                return Err(e);
            }
            if Instant::now() >= until || !wait_readable(&fd, until)? {
                return Ok(None);
            }
            continue;
        }
        let p = &buf[..n as usize];
        let ihl = usize::from(p.first().map_or(0, |b| b & 0x0f)) * 4;
        if p.len() < ihl + 8 || p[12..16] != dst.octets() {
            continue;
        }
        let icmp = &p[ihl..];
        if icmp[0] == 0 && icmp[4..6] == id.to_be_bytes() && icmp[6..8] == seq.to_be_bytes() {
            return Ok(Some(t0.elapsed()));
        }
    }
}

// ---------------------------------------------------------------------------------
// Files and processes
// ---------------------------------------------------------------------------------

/// A directory removed on drop (kept when `FO_KEEP` is set, for post-mortems).
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// `<tmp>/failover-<tag>-<pid>-<n>`, fresh.
    pub fn new(tag: &str) -> Result<Self, String> {
        static N: AtomicU16 = AtomicU16::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        if n == 0 {
            sweep_stale_dirs(tag);
        }
        let p = std::env::temp_dir().join(format!("failover-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        Ok(Self(p))
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

/// Remove `failover-<tag>-<pid>-<n>` directories of runs that no longer exist.
fn sweep_stale_dirs(tag: &str) {
    let prefix = format!("failover-{tag}-");
    let Ok(entries) = fs::read_dir(std::env::temp_dir()) else { return };
    for e in entries.filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) =
            name.strip_prefix(&prefix).and_then(|r| r.split('-').next()).and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() as i32 && nix::sys::signal::kill(Pid::from_raw(pid), None).is_err() {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("FO_KEEP").is_some() {
            eprintln!("kept {}", self.0.display());
        } else {
            let _ = fs::remove_dir_all(&self.0);
        }
    }
}

/// One `failoverd` process in a controller's namespace; killed and reaped on drop.
#[derive(Debug)]
pub struct Daemon {
    child: Child,
    exited: Option<ExitStatus>,
}

impl Daemon {
    /// `ip netns exec <ns> failoverd run --config <config>`, output appended to `log`
    /// (`ip netns exec` execs, so the child's pid is the daemon's).
    pub fn spawn(exe: &Path, ns: &str, config: &Path, log: &Path) -> Result<Self, String> {
        let mut out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let _ = writeln!(out, "==== hw-tests: starting failoverd in {ns} ====");
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let mut cmd = Command::new("ip");
        crate::process::dies_with_runner(&mut cmd);
        let child = cmd
            .args(["netns", "exec", ns])
            .arg(exe)
            .args(["run", "--config"])
            .arg(config)
            .env("RUST_LOG", std::env::var("FO_RUST_LOG").unwrap_or_else(|_| "info".into()))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("starting failoverd in {ns}: {e}"))?;
        Ok(Self { child, exited: None })
    }

    /// The daemon's pid.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Send a signal.
    pub fn signal(&self, sig: Signal) -> Result<(), String> {
        nix::sys::signal::kill(Pid::from_raw(self.pid()), sig)
            .map_err(|e| format!("kill -{sig} {}: {e}", self.pid()))
    }

    /// How it ended, if it has.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            self.exited = self.child.try_wait().ok().flatten();
        }
        self.exited
    }

    /// SIGKILL it and reap it.
    pub fn kill(&mut self) {
        if self.exit_status().is_none() {
            let _ = self.signal(Signal::SIGKILL);
            self.exited = self.child.wait().ok();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

// ---------------------------------------------------------------------------------
// The pair
// ---------------------------------------------------------------------------------

/// What is known about one controller right now.
#[derive(Clone, Debug)]
pub enum Seen {
    /// Its API answered.
    Up(Box<StatusJson>),
    /// Its process ended.
    Exited(String),
    /// Running (or never started) but its API did not answer.
    Silent(String),
}

/// Two controllers on the rig: the daemons, the shared directory, the API clients.
/// Fields drop in order: daemons first, then the namespaces, then the directory.
#[derive(Debug)]
pub struct Pair {
    daemons: [Option<Daemon>; 2],
    /// The namespaces.
    pub rig: Rig,
    dir: TempDir,
    bins: Binaries,
    clients: [ApiClient; 2],
    rt: tokio::runtime::Runtime,
}

/// How a [`Pair`] is configured beyond the netns rig's defaults.
#[derive(Clone, Copy, Debug)]
pub struct PairOptions {
    /// The link key; a random one when `None`.
    pub key: Option<[u8; 32]>,
    /// Each controller has a BMC on path L, reached through `<dir>/<x>/bmc.tty`.
    pub bmc: bool,
    /// The heartbeat interval.
    pub heartbeat_ms: u64,
    /// The failover timeout.
    pub timeout_ms: u64,
    /// The pool is encrypted (a passphrase is needed after both controllers rebooted).
    pub encrypted: bool,
    /// The dedicated link runs through a middlebox namespace ([`Rig::create_with_wire`]).
    pub wire: bool,
    /// The simulated disks' workload runs (one record per 10 ms while active: what
    /// the audits check for writes from a fenced node); off to measure the service
    /// alone.
    pub workload: bool,
    /// The simulated watchdog's timeout.
    pub watchdog_ms: u64,
}

impl Default for PairOptions {
    fn default() -> Self {
        Self {
            key: None,
            bmc: false,
            heartbeat_ms: HEARTBEAT_MS,
            timeout_ms: TIMEOUT_MS,
            encrypted: false,
            wire: false,
            workload: true,
            watchdog_ms: WATCHDOG_MS,
        }
    }
}

impl Pair {
    /// A fresh rig and directory with both configurations written; nothing running.
    pub fn new(bins: &Binaries) -> Result<Self, String> {
        Self::with_options(bins, &PairOptions::default())
    }

    /// [`Self::new`] configured by `o`.
    pub fn with_options(bins: &Binaries, o: &PairOptions) -> Result<Self, String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("tokio runtime: {e}"))?;
        let dir = TempDir::new("netns")?;
        let rig = if o.wire { Rig::create_with_wire()? } else { Rig::create()? };
        let d = dir.path();
        for sub in ["a", "b", "disks", "reset"] {
            fs::create_dir_all(d.join(sub)).map_err(|e| format!("{}: {e}", d.display()))?;
        }
        let mut key = [0u8; 32];
        match o.key {
            Some(k) => key = k,
            None => File::open("/dev/urandom")
                .and_then(|mut f| io::Read::read_exact(&mut f, &mut key))
                .map_err(|e| format!("/dev/urandom: {e}"))?,
        }
        fs::write(d.join("link.key"), key).map_err(|e| format!("link.key: {e}"))?;
        for c in [Controller::A, Controller::B] {
            let path = Self::config_path(d, c);
            fs::write(&path, config_toml(d, c, o)).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        let clients = [Controller::A, Controller::B]
            .map(|c| ApiClient::new(Self::sub(d, c).join("failoverd.sock")).with_timeout(API_TIMEOUT));
        Ok(Self { daemons: [None, None], rig, dir, bins: bins.clone(), clients, rt })
    }

    fn sub(d: &Path, c: Controller) -> PathBuf {
        d.join(c.letter().to_ascii_lowercase().to_string())
    }

    fn config_path(d: &Path, c: Controller) -> PathBuf {
        Self::sub(d, c).join("failoverd.toml")
    }

    /// A controller's configuration file (config sync rewrites it on the standby).
    pub fn config_file(&self, c: Controller) -> PathBuf {
        Self::config_path(self.dir.path(), c)
    }

    /// The rig's directory (configurations, disks, sockets, logs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Where a controller's configuration expects its BMC's tty ([`PairOptions::bmc`]).
    pub fn bmc_tty(&self, c: Controller) -> PathBuf {
        Self::sub(self.dir.path(), c).join("bmc.tty")
    }

    /// A controller's log file.
    pub fn log_path(&self, c: Controller) -> PathBuf {
        Self::sub(self.dir.path(), c).join("failoverd.log")
    }

    /// A controller's API socket.
    pub fn socket(&self, c: Controller) -> PathBuf {
        self.clients[c.index()].socket().to_path_buf()
    }

    /// The binaries in use.
    pub fn bins(&self) -> &Binaries {
        &self.bins
    }

    /// Start (or restart) a controller's daemon.
    pub fn start(&mut self, c: Controller) -> Result<(), String> {
        if let Some(mut old) = self.daemons[c.index()].take() {
            old.kill();
        }
        let d = Daemon::spawn(
            &self.bins.failoverd,
            &self.rig.ctrl_ns(c),
            &Self::config_path(self.dir.path(), c),
            &self.log_path(c),
        )?;
        self.daemons[c.index()] = Some(d);
        Ok(())
    }

    /// SIGKILL a controller's daemon and reap it.
    pub fn kill(&mut self, c: Controller) -> Result<(), String> {
        let d = self.daemons[c.index()].as_mut().ok_or_else(|| format!("{c} is not running"))?;
        d.kill();
        Ok(())
    }

    /// Send a signal to a controller's daemon.
    pub fn signal(&self, c: Controller, sig: Signal) -> Result<(), String> {
        self.daemons[c.index()].as_ref().ok_or_else(|| format!("{c} is not running"))?.signal(sig)
    }

    /// How a controller's daemon ended, if it has.
    pub fn exit_status(&mut self, c: Controller) -> Option<ExitStatus> {
        self.daemons[c.index()].as_mut().and_then(Daemon::exit_status)
    }

    /// Run an async API call to completion.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// A controller's API client.
    pub fn client(&self, c: Controller) -> &ApiClient {
        &self.clients[c.index()]
    }

    /// `GET /v1/status`.
    pub fn status(&self, c: Controller) -> Result<StatusJson, String> {
        self.block_on(self.clients[c.index()].status()).map_err(|e| e.to_string())
    }

    /// What a controller looks like now.
    pub fn seen(&mut self, c: Controller) -> Seen {
        if let Some(s) = self.exit_status(c) {
            return Seen::Exited(s.to_string());
        }
        match self.status(c) {
            Ok(s) => Seen::Up(Box::new(s)),
            Err(e) => Seen::Silent(e),
        }
    }

    /// Set failover disabled / enabled through a controller's API.
    pub fn set_disabled(&self, c: Controller, disabled: bool) -> Result<SettingsJson, String> {
        let client = &self.clients[c.index()];
        let s = self.block_on(client.settings()).map_err(|e| format!("{c}: GET settings: {e}"))?;
        let want = SettingsJson { disabled, ..s };
        self.block_on(client.set_settings(&want)).map_err(|e| format!("{c}: PUT settings: {e}"))
    }

    /// Poll `f` every few milliseconds until it gives a value, for at most `limit`.
    pub fn wait_for<T>(
        &mut self,
        limit: Duration,
        what: &str,
        mut f: impl FnMut(&mut Self) -> Result<Option<T>, String>,
    ) -> Result<T, String> {
        poll_until(limit, POLL, what, || f(self))
    }

    /// Wait for a controller's status to satisfy `want`.
    pub fn wait_status(
        &mut self,
        c: Controller,
        limit: Duration,
        what: &str,
        want: impl Fn(&StatusJson) -> bool,
    ) -> Result<StatusJson, String> {
        self.wait_for(limit, &format!("{c} {what}"), |p| Ok(p.status(c).ok().filter(|s| want(s))))
    }

    /// Wait until one controller is MASTER and the other BACKUP, each seeing the other
    /// alive, at the same epoch: `(active, epoch)`.
    pub fn settled(&mut self) -> Result<(Controller, u64), String> {
        self.wait_for(SETTLE_LIMIT, "the pair to settle (one MASTER, one BACKUP, peers alive)", |p| {
            let (Ok(a), Ok(b)) = (p.status(Controller::A), p.status(Controller::B)) else { return Ok(None) };
            Ok(settled_pair(&a, &b))
        })
    }

    /// Whether `c`'s daemon was started and has not exited.
    pub fn running(&mut self, c: Controller) -> bool {
        self.daemons[c.index()].as_mut().is_some_and(|d| d.exit_status().is_none())
    }

    fn disks(&self) -> Result<SimDiskSet, String> {
        // The audit only reads (READ RESERVATION and reads are allowed to every port),
        // through a port the enclosure has not cut: a host without a BMC cuts its lost
        // peer's ports after a takeover.
        let open =
            |c| SimDiskSet::open(self.dir.path().join("disks"), DISKS, c).map_err(|e| format!("disks: {e}"));
        let a = open(Controller::A)?;
        if failover_linux::backend::EnclosureFence::is_cut(a.enclosure(), Controller::A)
            .map_err(|e| format!("enclosure: {e}"))?
        {
            open(Controller::B)
        } else {
            Ok(a)
        }
    }

    /// Whether the simulated enclosure has `c`'s ports cut.
    pub fn enclosure_cut(&self, c: Controller) -> Result<bool, String> {
        let d = self.disks()?;
        failover_linux::backend::EnclosureFence::is_cut(d.enclosure(), c)
            .map_err(|e| format!("enclosure: {e}"))
    }

    /// Who holds the reservation on each disk.
    pub fn holders(&self) -> Result<Vec<Option<ReservationKey>>, String> {
        let d = self.disks()?;
        (0..d.disk_count())
            .map(|i| {
                let r = d.read_reservation(i).map_err(|e| format!("disk {i}: {e}"))?;
                Ok(r.reservation.and_then(|x| ReservationKey::from_u64(x.key)))
            })
            .collect()
    }

    /// Wait until every disk is reserved by `c` with `epoch`.
    pub fn wait_disks_held(&mut self, c: Controller, epoch: u64) -> Result<(), String> {
        let want = ReservationKey::new(c, epoch);
        self.wait_for(
            Duration::from_secs(3),
            &format!("every disk reserved by {want} ({c}, epoch {epoch})"),
            |p| Ok(p.holders()?.iter().all(|h| *h == Some(want)).then_some(())),
        )
    }

    /// Writes through `c`'s port in disk 0's log.
    pub fn writes_by(&self, c: Controller) -> Result<usize, String> {
        let log = self.disks()?.read_records(0).map_err(|e| format!("disk 0 log: {e}"))?;
        Ok(log.iter().filter(|e| matches!(e, LogEntry::Write { port, .. } if *port == c)).count())
    }

    /// Wait until `c` has written `n` more records than `from`.
    pub fn wait_writes(&mut self, c: Controller, from: usize, n: usize) -> Result<usize, String> {
        self.wait_for(Duration::from_secs(3), &format!("{n} writes by {c}"), |p| {
            let w = p.writes_by(c)?;
            Ok((w >= from + n).then_some(w))
        })
    }

    /// `check_log` on every disk; the number of entries checked.
    pub fn audit_logs(&self) -> Result<usize, String> {
        let d = self.disks()?;
        let mut total = 0;
        for i in 0..d.disk_count() {
            let log = d.read_records(i).map_err(|e| format!("disk {i} log: {e}"))?;
            check_log(&log).map_err(|v| format!("disk {i}: fencing violated: {v} ({:?})", v.entry))?;
            total += log.len();
        }
        Ok(total)
    }

    /// Wait until the VIP is served by `active`: configured on its `pub0` (and, when
    /// `exclusive`, on no other controller, and answered by ARP from it alone), an
    /// echo from the client is answered, and the client's neighbour entry for the VIP
    /// holds `active`'s MAC. A short description of what was seen.
    pub fn expect_serving(&mut self, active: Controller, exclusive: bool) -> Result<String, String> {
        let other = active.peer();
        let what = if exclusive {
            format!("the VIP on {active} only, answering ARP from {active} only")
        } else {
            format!("the VIP on {active}, answering ARP from {active}")
        };
        let answerers = self.wait_for(Duration::from_secs(3), &what, |p| {
            if !p.rig.has_vip(active)? || (exclusive && p.rig.has_vip(other)?) {
                return Ok(None);
            }
            let macs = p.rig.arp_probe(Duration::from_millis(20))?;
            let from_active = macs.contains(&mac_of(active));
            let only = macs.iter().all(|m| *m == mac_of(active));
            Ok((from_active && (only || !exclusive)).then_some(macs))
        })?;
        let (rtt, neigh) = self.wait_for(
            Duration::from_secs(3),
            &format!("an echo reply from {VIP} with the client's neighbour entry naming {active}"),
            |p| {
                let Ok(rtt) = p.rig.ping_vip(Duration::from_millis(500)) else { return Ok(None) };
                Ok(p.rig.client_neighbour()?.filter(|(m, _)| *m == mac_of(active)).map(|n| (rtt, n)))
            },
        )?;
        let names: Vec<String> =
            answerers.iter().map(|m| owner_of(m).map_or_else(|| fmt_mac(m), |c| c.to_string())).collect();
        Ok(format!(
            "VIP on {active}{}, ARP answered by [{}], ping {:.2} ms via {} ({})",
            if exclusive { " only" } else { "" },
            names.join(","),
            rtt.as_secs_f64() * 1e3,
            fmt_mac(&neigh.0),
            neigh.1
        ))
    }

    /// Both controllers' state, the disks, the VIP, the client's neighbour entry and
    /// the tail of both logs: for failure messages.
    pub fn diagnostics(&mut self) -> String {
        let mut out = String::from("\n  ---- diagnostics ----");
        for c in [Controller::A, Controller::B] {
            let line = match self.seen(c) {
                Seen::Up(s) => status_line(&s),
                Seen::Exited(e) => format!("{c} exited: {e}"),
                Seen::Silent(e) => format!("{c} not answering: {e}"),
            };
            out.push_str(&format!("\n  {line}"));
        }
        match self.holders() {
            Ok(h) => {
                let h: Vec<String> = h
                    .iter()
                    .map(|k| k.map_or("none".into(), |k| format!("{}@{}", k.controller(), k.epoch())))
                    .collect();
                out.push_str(&format!("\n  disks reserved by: [{}]", h.join(", ")));
            }
            Err(e) => out.push_str(&format!("\n  disks: {e}")),
        }
        if let Err(e) = self.audit_logs() {
            out.push_str(&format!("\n  disk logs: {e}"));
        }
        for c in [Controller::A, Controller::B] {
            let a = self.rig.pub_addresses(c).map_or_else(|e| e, |v| v.join(" "));
            out.push_str(&format!("\n  {c} {PUB_IF}: {a}"));
        }
        let n = match self.rig.client_neighbour() {
            Ok(Some((m, state))) => format!("{} {state}", fmt_mac(&m)),
            Ok(None) => "none".into(),
            Err(e) => e,
        };
        out.push_str(&format!("\n  client neighbour {VIP}: {n}"));
        for c in [Controller::A, Controller::B] {
            out.push_str(&format!("\n  ---- {c} log ({}), last lines ----", self.log_path(c).display()));
            let text = fs::read_to_string(self.log_path(c)).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            for l in &lines[lines.len().saturating_sub(25)..] {
                out.push_str(&format!("\n  {c}| {l}"));
            }
        }
        out
    }
}

/// `(active, epoch)` if A's and B's statuses show a settled pair: one MASTER and one
/// BACKUP at the same epoch, each seeing the other alive in the other's role.
pub fn settled_pair(a: &StatusJson, b: &StatusJson) -> Option<(Controller, u64)> {
    let ok = |s: &StatusJson, me: &str, peer: &str| {
        s.status == me && s.peer.verdict == "alive" && s.peer.status.as_deref() == Some(peer)
    };
    if a.epoch != b.epoch {
        None
    } else if ok(a, "MASTER", "BACKUP") && ok(b, "BACKUP", "MASTER") {
        Some((Controller::A, a.epoch))
    } else if ok(b, "MASTER", "BACKUP") && ok(a, "BACKUP", "MASTER") {
        Some((Controller::B, b.epoch))
    } else {
        None
    }
}

/// One line for a status.
pub fn status_line(s: &StatusJson) -> String {
    let reasons =
        if s.disabled_reasons.is_empty() { "none".to_string() } else { s.disabled_reasons.join(",") };
    format!(
        "{} {} ({}) epoch {} peer {} ({}) disabled: {reasons}{}",
        s.node,
        s.status,
        s.state,
        s.epoch,
        s.peer.verdict,
        s.peer.status.as_deref().unwrap_or("-"),
        s.last_failover
            .as_ref()
            .map(|f| format!("; last failover {} epoch {} total {:?} ms", f.cause, f.epoch, f.total_ms))
            .unwrap_or_default()
    )
}

/// The configuration of controller `c` with everything under `d`: the dedicated link
/// on `ha0`, `pub0` critical with the VIP, simulated disks / watchdog / enclosure /
/// peer reset, real VIPs, default failover settings.
pub fn config_toml(d: &Path, c: Controller, o: &PairOptions) -> String {
    let d = d.display();
    let me = c.letter();
    let lower = me.to_ascii_lowercase();
    let (local, peer) = match c {
        Controller::A => ("169.254.10.1", "169.254.10.2"),
        Controller::B => ("169.254.10.2", "169.254.10.1"),
    };
    format!(
        r#"# Written by hw-tests (netns rig) for controller {me}.
[node]
controller = "{me}"
state_file = "{d}/{lower}/state"

[link]
local = "{local}:7600"
peer = "{peer}:7600"
interface = "{LINK_IF}"
key_file = "{d}/link.key"

[realtime]
priority = 50
lock_memory = true

[backends]
disk = {{ kind = "sim", path = "{d}/disks", disks = {DISKS}{workload} }}
watchdog = {{ kind = "sim", path = "{d}/{lower}/watchdog", timeout_ms = {watchdog_ms} }}
enclosure = {{ kind = "sim", path = "{d}/enclosure" }}
peer_reset = {{ kind = "sim", path = "{d}/reset" }}
vips = {{ kind = "netlink" }}

[api]
socket = "{d}/{lower}/failoverd.sock"
{bmc}
{shared}"#,
        workload = if o.workload { "" } else { ", workload = false" },
        watchdog_ms = o.watchdog_ms,
        bmc = if o.bmc {
            format!("\n[bmc]\nserial = \"{d}/{lower}/bmc.tty\"\nbaud = 115200\n")
        } else {
            String::new()
        },
        shared = SharedToml {
            timeout_ms: o.timeout_ms,
            heartbeat_ms: o.heartbeat_ms,
            check_ms: None,
            interface: PUB_IF,
            vip: &VIP.to_string(),
            more_interfaces: "",
            encrypted: o.encrypted,
        }
        .render()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_configurations_pass_the_daemons_validation() {
        let dir = Path::new("/tmp/failover-netns-test");
        let bmc = PairOptions { bmc: true, encrypted: true, ..PairOptions::default() };
        for (c, o) in
            [Controller::A, Controller::B].into_iter().flat_map(|c| [(c, PairOptions::default()), (c, bmc)])
        {
            let text = config_toml(dir, c, &o);
            let cfg = failover_linux::config::parse(&text, &dir.join("failoverd.toml"))
                .unwrap_or_else(|e| panic!("controller {c}: {e}"));
            assert_eq!(cfg.local.controller, c);
            assert_eq!(cfg.local.link.interface.as_deref(), Some(LINK_IF));
            assert_eq!(cfg.shared.failover.timeout_ms, TIMEOUT_MS);
            assert_eq!(cfg.shared.failover.heartbeat_interval_ms, HEARTBEAT_MS);
            assert_eq!(cfg.local.bmc.is_some(), o.bmc);
        }
        // The shared sections are identical (the daemons compare their digests).
        let o = PairOptions::default();
        let (a, b) = (config_toml(dir, Controller::A, &o), config_toml(dir, Controller::B, &o));
        let shared = |t: &str| t[t.find("[failover]").expect("shared part")..].to_owned();
        assert_eq!(shared(&a), shared(&b));
    }

    #[test]
    fn macs_parse_and_print() {
        assert_eq!(parse_mac("02:fa:00:00:00:0a"), Some(MAC_A));
        assert_eq!(fmt_mac(&MAC_B), "02:fa:00:00:00:0b");
        assert_eq!(parse_mac("02:fa:00:00:00"), None);
        assert_eq!(parse_mac("02:fa:00:00:00:0a:01"), None);
        assert_eq!(owner_of(&MAC_A), Some(Controller::A));
        assert_eq!(owner_of(&MAC_CLIENT), None);
    }

    #[test]
    fn internet_checksum_matches_rfc1071_example() {
        // RFC 1071 section 3: the one's complement sum of 00 01 f2 03 f4 f5 f6 f7 is ddf2.
        assert_eq!(inet_checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]), !0xddf2);
        // A packet with its checksum in place sums to zero.
        let mut p = [8u8, 0, 0, 0, 0x12, 0x34, 0, 1, b'x'];
        let ck = inet_checksum(&p);
        p[2..4].copy_from_slice(&ck.to_be_bytes());
        assert_eq!(inet_checksum(&p), 0);
    }
}
