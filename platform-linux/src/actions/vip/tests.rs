//! VIP tests. The pure parts (Cidr, frame layout, checksum) run anywhere; the rest
//! need root: each builds its own pair of network namespaces joined by a veth pair
//! (`veth0` in `a`, `veth1` in `b`), removed by a guard even when the test panics,
//! and runs the [`VipManager`] on a thread that `setns`-ed into `a`.

use super::*;

use std::ffi::CString;
use std::future::Future;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Instant;

use nix::sched::CloneFlags;

const VIP4: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 100);
const VIP6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x77, 0, 0, 0, 0, 0x100);

// ---------------------------------------------------------------------------------
// Pure
// ---------------------------------------------------------------------------------

#[test]
fn gratuitous_arp_frame_layout() {
    let mac = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
    let f = garp_frame(mac, VIP4);
    assert_eq!(f.len(), 60);
    assert_eq!(&f[0..6], &[0xff; 6]);
    assert_eq!(&f[6..12], &mac);
    assert_eq!(&f[12..14], &[0x08, 0x06]);
    assert_eq!(&f[14..22], &[0, 1, 0x08, 0, 6, 4, 0, 1]);
    assert_eq!(&f[22..28], &mac);
    assert_eq!(&f[28..32], &VIP4.octets());
    assert_eq!(&f[32..38], &[0; 6]);
    assert_eq!(&f[38..42], &VIP4.octets());
    assert!(f[42..].iter().all(|&b| b == 0));
}

#[test]
fn neighbour_advertisement_frame_layout_and_checksum() {
    let mac = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
    let f = unsolicited_na_frame(mac, VIP6);
    assert_eq!(f.len(), 14 + 40 + 32);
    assert_eq!(&f[0..6], &ALL_NODES_MAC);
    assert_eq!(&f[6..12], &mac);
    assert_eq!(&f[12..14], &[0x86, 0xdd]);
    let ip6 = &f[14..54];
    assert_eq!(ip6[0] >> 4, 6);
    assert_eq!(u16::from_be_bytes([ip6[4], ip6[5]]), 32);
    assert_eq!(ip6[6], 58);
    assert_eq!(ip6[7], 255);
    assert_eq!(&ip6[8..24], &VIP6.octets());
    let all_nodes: Ipv6Addr = "ff02::1".parse().expect("ff02::1");
    assert_eq!(&ip6[24..40], &all_nodes.octets());
    let icmp = &f[54..];
    assert_eq!(icmp[0], 136);
    assert_eq!(icmp[1], 0);
    assert_eq!(icmp[4], 0x20, "override set, router and solicited clear");
    assert_eq!(&icmp[8..24], &VIP6.octets());
    assert_eq!(&icmp[24..26], &[2, 1]);
    assert_eq!(&icmp[26..32], &mac);
    // With the checksum in place the one's complement sum is all ones: recomputing
    // over the filled-in message yields zero.
    assert_eq!(icmpv6_checksum(&VIP6, &all_nodes, icmp), 0);
}

#[test]
fn icmpv6_checksum_known_value() {
    // An echo request ::1 -> ::1, id 0, seq 0, no data: the sum of the pseudo-header
    // (2 x ::1 = 0x0002, length 8, next header 58 = 0x3a) and the type (0x8000) is
    // 0x8044, so the checksum is !0x8044 = 0x7fbb.
    let lo = Ipv6Addr::LOCALHOST;
    assert_eq!(icmpv6_checksum(&lo, &lo, &[128, 0, 0, 0, 0, 0, 0, 0]), 0x7fbb);
    // Odd lengths pad with a zero byte.
    assert_eq!(icmpv6_checksum(&lo, &lo, &[1]), !(0x0002 + 1 + 0x3a + 0x0100));
}

#[test]
fn sysfs_carrier_rejects_bad_names_and_unknown_interfaces() {
    assert!(has_carrier("lo").is_ok());
    assert!(matches!(
        has_carrier("fo-nonexistent0"),
        Err(VipError::NoSuchInterface { iface }) if iface == "fo-nonexistent0"
    ));
    for bad in ["", "../lo", "a/b", "..", "much-too-long-name0"] {
        assert!(matches!(has_carrier(bad), Err(VipError::InvalidName { .. })), "{bad:?}");
    }
}

#[test]
fn manager_needs_a_runtime() {
    assert!(matches!(VipManager::new(), Err(VipError::NoRuntime)));
}

// ---------------------------------------------------------------------------------
// Namespace plumbing
// ---------------------------------------------------------------------------------

fn is_root() -> bool {
    // SAFETY: geteuid(2) cannot fail and touches no memory.
    unsafe { libc::geteuid() == 0 }
}

/// Skip (with a note) when not root: namespaces and packet sockets need it.
macro_rules! require_root {
    () => {
        if !is_root() {
            eprintln!("skipped: needs root (network namespaces, AF_PACKET)");
            return;
        }
    };
}

fn ip(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(out.status.success(), "ip {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn sysctl_in(ns: &str, key: &str, value: &str) {
    let setting = format!("{key}={value}");
    ip(&["netns", "exec", ns, "sysctl", "-q", "-w", &setting]);
}

/// Two fresh namespaces `a` and `b` joined by `veth0` (in `a`) -- `veth1` (in `b`),
/// both ends and both loopbacks up. Dropping it deletes both namespaces (and so the
/// veth pair), also when the test panics.
struct TestNet {
    a: String,
    b: String,
}

impl TestNet {
    fn new(tag: &str) -> Self {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        // The guard exists before anything is created, so a failure half-way through
        // still removes what was made.
        let net = Self { a: format!("fo-vip-{tag}-{pid}-{n}-a"), b: format!("fo-vip-{tag}-{pid}-{n}-b") };
        for ns in [&net.a, &net.b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
            ip(&["netns", "add", ns]);
        }
        ip(&["-n", &net.a, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1", "netns", &net.b]);
        for (ns, dev) in [(&net.a, "lo"), (&net.a, "veth0"), (&net.b, "lo"), (&net.b, "veth1")] {
            ip(&["-n", ns, "link", "set", dev, "up"]);
        }
        net
    }

    fn mac(ns: &str, dev: &str) -> [u8; 6] {
        let json = ip(&["-j", "-n", ns, "link", "show", "dev", dev]);
        let v: serde_json::Value = serde_json::from_str(&json).expect("ip -j json");
        let s = v[0]["address"].as_str().expect("address").to_owned();
        let bytes: Vec<u8> = s.split(':').map(|h| u8::from_str_radix(h, 16).expect("mac hex")).collect();
        <[u8; 6]>::try_from(bytes.as_slice()).expect("6-byte mac")
    }
}

impl Drop for TestNet {
    fn drop(&mut self) {
        for ns in [&self.a, &self.b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

fn enter_netns(ns: &str) {
    let file = std::fs::File::open(format!("/run/netns/{ns}")).expect("open netns file");
    nix::sched::setns(&file, CloneFlags::CLONE_NEWNET).expect("setns");
}

/// Runs `f` on a new thread inside namespace `ns`; a panic there is re-raised here.
fn in_netns<R: Send + 'static>(ns: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    let ns = ns.to_owned();
    let thread = std::thread::spawn(move || {
        enter_netns(&ns);
        f()
    });
    match thread.join() {
        Ok(r) => r,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Runs the future made by `f` on a current-thread runtime built inside `ns`.
fn block_on_in_netns<F, Fut, R>(ns: &str, f: F) -> R
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = R>,
    R: Send + 'static,
{
    in_netns(ns, move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(f())
    })
}

/// Captures, inside `ns` on `dev`, the frames `keep` accepts, until `want` of them
/// arrived or `limit` passed. Returns once the socket is listening.
fn capture(
    ns: &str,
    dev: &'static str,
    want: usize,
    limit: Duration,
    keep: impl Fn(&[u8]) -> bool + Send + 'static,
) -> JoinHandle<Vec<Vec<u8>>> {
    let ns = ns.to_owned();
    let (ready_tx, ready_rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        enter_netns(&ns);
        let index = nix::net::if_::if_nametoindex(dev).expect("if_nametoindex");
        let protocol = (libc::ETH_P_ALL as u16).to_be();
        // SAFETY: socket(2) with constant arguments.
        let fd = unsafe {
            libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, i32::from(protocol))
        };
        assert!(fd >= 0, "packet socket: {}", io::Error::last_os_error());
        // SAFETY: fresh descriptor, owned here.
        let socket = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: zero is a valid sockaddr_ll.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = protocol;
        sll.sll_ifindex = i32::try_from(index).expect("ifindex");
        // SAFETY: pointer and length describe `sll`.
        let rc = unsafe {
            libc::bind(
                socket.as_raw_fd(),
                (&raw const sll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        assert_eq!(rc, 0, "bind: {}", io::Error::last_os_error());
        let timeout = libc::timeval { tv_sec: 0, tv_usec: 50_000 };
        // SAFETY: pointer and length describe `timeout`.
        let rc = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&raw const timeout).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        assert_eq!(rc, 0, "SO_RCVTIMEO: {}", io::Error::last_os_error());
        ready_tx.send(()).expect("ready");

        let deadline = Instant::now() + limit;
        let mut kept = Vec::new();
        let mut buf = [0u8; 2048];
        while kept.len() < want && Instant::now() < deadline {
            // SAFETY: pointer and length describe `buf`.
            let n = unsafe { libc::recv(socket.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            let Ok(n) = usize::try_from(n) else {
                continue; // timeout (EAGAIN) or EINTR
            };
            if keep(&buf[..n]) {
                kept.push(buf[..n].to_vec());
            }
        }
        kept
    });
    ready_rx.recv_timeout(Duration::from_secs(10)).expect("capture socket ready");
    thread
}

fn join<T>(thread: JoinHandle<T>) -> T {
    match thread.join() {
        Ok(t) => t,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

fn wait_for_ipv6_multicast_route(ns: &str, dev: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let routes = ip(&["-n", ns, "-6", "route", "show", "table", "local", "dev", dev]);
        if routes.contains("ff00::/8") {
            return;
        }
        assert!(Instant::now() < deadline, "no IPv6 multicast route on {dev}: {routes}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn cidr(s: &str) -> Cidr {
    s.parse().expect("cidr")
}

// ---------------------------------------------------------------------------------
// Namespace tests
// ---------------------------------------------------------------------------------

#[test]
fn add_is_visible_idempotent_and_removable() {
    require_root!();
    let net = TestNet::new("add");
    let v4 = cidr("10.77.0.100/24");
    let v6 = cidr("2001:db8:77::100/64");

    let listed = block_on_in_netns(&net.a, move || async move {
        let vips = VipManager::new().expect("manager");
        vips.add("veth0", v4).await.expect("add v4");
        vips.add("veth0", v4).await.expect("add v4 again (idempotent)");
        vips.add("veth0", v6).await.expect("add v6");
        vips.add("veth0", v6).await.expect("add v6 again (idempotent)");
        vips.addresses("veth0").await.expect("addresses")
    });
    assert!(listed.contains(&v4), "{listed:?}");
    assert!(listed.contains(&v6), "{listed:?}");

    let shown = ip(&["-n", &net.a, "addr", "show", "dev", "veth0"]);
    assert_eq!(shown.matches("inet 10.77.0.100/24").count(), 1, "{shown}");
    assert_eq!(shown.matches("inet6 2001:db8:77::100/64").count(), 1, "{shown}");
    // Usable at once: no duplicate address detection on the VIP.
    let v6_line = shown.lines().find(|l| l.contains("2001:db8:77::100")).expect("v6 line");
    assert!(!v6_line.contains("tentative"), "{v6_line}");

    block_on_in_netns(&net.a, move || async move {
        let vips = VipManager::new().expect("manager");
        vips.remove("veth0", v4).await.expect("remove v4");
        vips.remove("veth0", v4).await.expect("remove v4 again (idempotent)");
        vips.remove("veth0", v6).await.expect("remove v6");
        vips.remove("veth0", v6).await.expect("remove v6 again (idempotent)");
        let left = vips.addresses("veth0").await.expect("addresses");
        assert!(!left.contains(&v4) && !left.contains(&v6), "{left:?}");
    });
    let shown = ip(&["-n", &net.a, "addr", "show", "dev", "veth0"]);
    assert!(!shown.contains("10.77.0.100"), "{shown}");
    assert!(!shown.contains("2001:db8:77::100"), "{shown}");
}

#[test]
fn same_address_with_another_prefix_is_left_alone() {
    require_root!();
    let net = TestNet::new("pfx");
    ip(&["-n", &net.a, "addr", "add", "10.77.0.100/16", "dev", "veth0"]);
    block_on_in_netns(&net.a, move || async move {
        let vips = VipManager::new().expect("manager");
        vips.add("veth0", cidr("10.77.0.100/24")).await.expect("add");
        vips.remove("veth0", cidr("10.77.0.100/24")).await.expect("remove");
        let left = vips.addresses("veth0").await.expect("addresses");
        assert_eq!(
            left.iter().filter(|c| c.addr() == IpAddr::V4(VIP4)).collect::<Vec<_>>(),
            vec![&cidr("10.77.0.100/16")]
        );
    });
}

#[test]
fn errors_name_the_interface() {
    require_root!();
    let net = TestNet::new("err");
    block_on_in_netns(&net.a, move || async move {
        let vips = VipManager::new().expect("manager");
        let v4 = cidr("10.77.0.100/24");
        let err = vips.add("nosuch0", v4).await.expect_err("no interface");
        assert!(matches!(&err, VipError::NoSuchInterface { iface } if iface == "nosuch0"));
        assert!(err.to_string().contains("nosuch0"), "{err}");
        let err = vips.remove("nosuch0", v4).await.expect_err("no interface");
        assert!(matches!(err, VipError::NoSuchInterface { .. }));
        let err = vips.announce("nosuch0", IpAddr::V4(VIP4)).await.expect_err("no interface");
        assert!(matches!(err, VipError::NoSuchInterface { .. }));
        let err = vips.add("bad/name", v4).await.expect_err("bad name");
        assert!(matches!(err, VipError::InvalidName { .. }));

        // Loopback is not Ethernet: nothing to announce on.
        let err = vips.announce("lo", IpAddr::V4(VIP4)).await.expect_err("loopback");
        assert!(matches!(&err, VipError::Unsupported { iface, .. } if iface == "lo"), "{err}");
        assert!(err.to_string().contains("10.77.0.100"), "{err}");
    });

    // A netlink refusal names interface and address: IPv6 disabled on the link.
    sysctl_in(&net.a, "net.ipv6.conf.veth0.disable_ipv6", "1");
    block_on_in_netns(&net.a, move || async move {
        let vips = VipManager::new().expect("manager");
        let v6 = cidr("2001:db8:77::100/64");
        let err = vips.add("veth0", v6).await.expect_err("IPv6 disabled");
        assert!(
            matches!(&err, VipError::Add { iface, addr, .. } if iface == "veth0" && *addr == v6),
            "{err:?}"
        );
        let s = err.to_string();
        assert!(s.contains("veth0") && s.contains("2001:db8:77::100/64"), "{s}");
    });
}

#[test]
fn carrier_follows_the_link() {
    require_root!();
    let net = TestNet::new("carrier");
    let up = block_on_in_netns(&net.a, || async {
        let vips = VipManager::new().expect("manager");
        vips.link_has_carrier("veth0").await.expect("carrier")
    });
    assert!(up, "veth0 with its peer up has carrier");

    // A veth end loses carrier when its peer goes down.
    ip(&["-n", &net.b, "link", "set", "veth1", "down"]);
    let up = block_on_in_netns(&net.a, || async {
        let vips = VipManager::new().expect("manager");
        let up = vips.link_has_carrier("veth0").await.expect("carrier");
        let missing = vips.link_has_carrier("nosuch0").await;
        assert!(matches!(missing, Err(VipError::NoSuchInterface { .. })));
        up
    });
    assert!(!up, "veth0 with its peer down has no carrier");
}

/// The sysfs reader, in the namespace: sysfs shows the namespace it was mounted in,
/// so the thread also enters a private mount namespace and mounts a fresh sysfs
/// (what `ip netns exec` does).
#[test]
fn sysfs_carrier_in_namespace() {
    require_root!();
    let net = TestNet::new("sysfs");
    let read = |net: &TestNet| {
        in_netns(&net.a, || {
            nix::sched::unshare(CloneFlags::CLONE_NEWNS).expect("unshare mount namespace");
            let root = CString::new("/").expect("cstr");
            let sys = CString::new("/sys").expect("cstr");
            let sysfs = CString::new("sysfs").expect("cstr");
            // SAFETY: valid NUL-terminated strings; null data/fs type where allowed.
            let rc = unsafe {
                libc::mount(
                    std::ptr::null(),
                    root.as_ptr(),
                    std::ptr::null(),
                    libc::MS_REC | libc::MS_SLAVE,
                    std::ptr::null(),
                )
            };
            assert_eq!(rc, 0, "make / rslave: {}", io::Error::last_os_error());
            // SAFETY: as above.
            let rc =
                unsafe { libc::mount(sysfs.as_ptr(), sys.as_ptr(), sysfs.as_ptr(), 0, std::ptr::null()) };
            assert_eq!(rc, 0, "mount sysfs: {}", io::Error::last_os_error());
            has_carrier("veth0").expect("carrier")
        })
    };
    assert!(read(&net));
    ip(&["-n", &net.b, "link", "set", "veth1", "down"]);
    assert!(!read(&net));
    ip(&["-n", &net.a, "link", "set", "veth0", "down"]);
    assert!(!read(&net), "an admin-down link reads as no carrier");
}

#[test]
fn gratuitous_arp_reaches_the_peer() {
    require_root!();
    let net = TestNet::new("garp");
    let mac = TestNet::mac(&net.a, "veth0");
    // The peer learns addresses from gratuitous ARP only with arp_accept.
    ip(&["-n", &net.b, "addr", "add", "10.77.0.2/24", "dev", "veth1"]);
    sysctl_in(&net.b, "net.ipv4.conf.veth1.arp_accept", "1");

    let listener = capture(&net.b, "veth1", ANNOUNCE_COUNT, Duration::from_secs(5), |f| {
        f.len() >= 42 && f[12..14] == [0x08, 0x06] && f[28..32] == VIP4.octets()
    });
    block_on_in_netns(&net.a, || async {
        let vips = VipManager::new().expect("manager");
        vips.add("veth0", cidr("10.77.0.100/24")).await.expect("add");
        vips.announce("veth0", IpAddr::V4(VIP4)).await.expect("announce");
    });
    let frames = join(listener);
    assert_eq!(frames.len(), ANNOUNCE_COUNT, "one frame per announcement");
    for f in &frames {
        assert_eq!(&f[0..6], &[0xff; 6], "broadcast");
        assert_eq!(&f[6..12], &mac, "from veth0");
        assert_eq!(&f[20..22], &[0, 1], "ARP request");
        assert_eq!(&f[22..28], &mac, "sender MAC");
        assert_eq!(&f[28..32], &VIP4.octets(), "sender IP");
        assert_eq!(&f[38..42], &VIP4.octets(), "target IP");
    }

    let neigh = ip(&["-n", &net.b, "neigh", "show", "10.77.0.100", "dev", "veth1"]);
    let mac_s = format_mac(mac);
    assert!(neigh.contains(&mac_s), "peer cache learned {mac_s}: {neigh:?}");
}

#[test]
fn unsolicited_neighbour_advertisement_reaches_the_peer() {
    require_root!();
    let net = TestNet::new("una");
    let mac = TestNet::mac(&net.a, "veth0");
    // The peer creates a cache entry from an unsolicited NA only as a router with
    // accept_untracked_na (Linux 5.19+); the capture below is checked regardless.
    let untracked = ip(&[
        "netns",
        "exec",
        &net.b,
        "sh",
        "-c",
        "test -e /proc/sys/net/ipv6/conf/veth1/accept_untracked_na && echo yes || echo no",
    ]);
    let check_cache = untracked.trim() == "yes";
    if check_cache {
        sysctl_in(&net.b, "net.ipv6.conf.veth1.forwarding", "1");
        sysctl_in(&net.b, "net.ipv6.conf.veth1.accept_untracked_na", "1");
    }

    // IPv6 input needs the multicast route the kernel adds once it saw the link come
    // up (a link-watch event, some 100 ms late): before it, the NA is dropped as
    // "no route" (a fresh-namespace artefact; a production link is long up).
    wait_for_ipv6_multicast_route(&net.b, "veth1");

    let listener = capture(&net.b, "veth1", ANNOUNCE_COUNT, Duration::from_secs(5), |f| {
        f.len() >= 86
            && f[12..14] == [0x86, 0xdd]
            && f[20] == 58
            && f[54] == 136
            && f[62..78] == VIP6.octets()
    });
    block_on_in_netns(&net.a, || async {
        let vips = VipManager::new().expect("manager");
        vips.add("veth0", cidr("2001:db8:77::100/64")).await.expect("add");
        vips.announce("veth0", IpAddr::V6(VIP6)).await.expect("announce");
    });
    let frames = join(listener);
    assert_eq!(frames.len(), ANNOUNCE_COUNT, "one frame per announcement");
    for f in &frames {
        assert_eq!(&f[0..6], &ALL_NODES_MAC);
        assert_eq!(&f[6..12], &mac);
        assert_eq!(f[21], 255, "hop limit");
        assert_eq!(&f[22..38], &VIP6.octets(), "from the VIP");
        assert_eq!(f[58] & 0x20, 0x20, "override flag");
        assert_eq!(&f[78..80], &[2, 1], "target link-layer address option");
        assert_eq!(&f[80..86], &mac);
    }

    if check_cache {
        let neigh = ip(&["-n", &net.b, "neigh", "show", "2001:db8:77::100", "dev", "veth1"]);
        let mac_s = format_mac(mac);
        assert!(neigh.contains(&mac_s), "peer cache learned {mac_s}: {neigh:?}");
    }
}
