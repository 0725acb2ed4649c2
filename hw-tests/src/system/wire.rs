//! The dedicated link's middlebox: a userspace stand-in for `tc netem`, which this
//! machine's kernel does not have (`CONFIG_NET_SCH_NETEM` is off; `tc qdisc add ...
//! netem` answers "Specified qdisc kind is unknown").
//!
//! The rig runs the dedicated link through its own namespace ([`Rig::create_with_wire`]):
//! each controller's `ha0` is a veth whose peer sits there. One `AF_PACKET` socket per
//! end receives every frame its controller sends (outgoing copies ignored), and a
//! thread per direction forwards it out of the other end after the direction's
//! impairment: a delay with uniform jitter (frames may be reordered, as with netem's
//! jitter), a loss percentage, or a cut. Carrier stays up on both controllers, as when
//! a switch in the path fails, unlike `ip link set down`.
//!
//! [`Rig::create_with_wire`]: crate::suites::rig::Rig::create_with_wire

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use failover_core::sim::Rng;
use failover_core::wire::Controller;

use crate::suites::rig::{WIRE_ENDS, cvt, in_namespace, packet_socket};

/// `ETH_P_ALL`: every protocol.
const ETH_P_ALL: u16 = 0x0003;
/// `SOL_PACKET` option: do not deliver frames this host sends (Linux 4.20+).
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
/// How often blocked threads look at the stop flag.
const TICK: Duration = Duration::from_millis(50);

/// What happens to the frames one controller sends on the dedicated link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Impairment {
    /// Added to every frame.
    pub delay: Duration,
    /// Each frame's delay is `delay` ± up to this much, uniformly.
    pub jitter: Duration,
    /// Frames dropped, in percent (100: the direction is cut).
    pub loss_percent: u8,
}

impl Impairment {
    /// Nothing lost, nothing delayed.
    pub const NONE: Self = Self { delay: Duration::ZERO, jitter: Duration::ZERO, loss_percent: 0 };
    /// Every frame lost.
    pub const CUT: Self = Self { delay: Duration::ZERO, jitter: Duration::ZERO, loss_percent: 100 };

    /// A control file's line: `<delay_ms> <jitter_ms> <loss_percent>` (what a target
    /// file's `impair` command writes when the link runs through this middlebox).
    pub fn parse_control(line: &str) -> Result<Self, String> {
        let n: Vec<u64> = line
            .split_whitespace()
            .map(|w| w.parse().map_err(|_| format!("`{w}` is not a number")))
            .collect::<Result<_, _>>()?;
        match n[..] {
            [delay, jitter, loss] if loss <= 100 => Ok(Self {
                delay: Duration::from_millis(delay),
                jitter: Duration::from_millis(jitter),
                loss_percent: loss as u8,
            }),
            _ => Err(format!("`{}`: expected <delay_ms> <jitter_ms> <loss_percent 0-100>", line.trim())),
        }
    }
}

/// Frames forwarded and dropped, per direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WireCounts {
    /// Frames that went through.
    pub forwarded: u64,
    /// Frames dropped by the impairment.
    pub dropped: u64,
}

struct Direction {
    impairment: Mutex<Impairment>,
    counts: Mutex<WireCounts>,
}

/// The running middlebox; stops its threads when dropped.
pub struct Wire {
    dirs: [Arc<Direction>; 2],
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wire")
            .field("a", &self.impairment(Controller::A))
            .field("b", &self.impairment(Controller::B))
            .finish()
    }
}

/// A blocking socket on `ifname` that sees only frames arriving there, with a
/// receive timeout of [`TICK`].
fn end_socket(ifname: &str) -> io::Result<OwnedFd> {
    let (fd, _) = packet_socket(ifname, ETH_P_ALL.to_be(), false)?;
    let one: libc::c_int = 1;
    // SAFETY: a valid socket, option and int-sized value.
    cvt(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_PACKET,
            PACKET_IGNORE_OUTGOING,
            (&raw const one).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    })?;
    let tv = libc::timeval { tv_sec: 0, tv_usec: TICK.as_micros() as libc::suseconds_t };
    // SAFETY: a valid socket, option and timeval.
    cvt(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&raw const tv).cast(),
            size_of::<libc::timeval>() as libc::socklen_t,
        )
    })?;
    Ok(fd)
}

impl Wire {
    /// Start forwarding between the ends in namespace `ns`; `seed` drives loss and jitter.
    pub fn start(ns: &str, seed: u64) -> Result<Self, String> {
        let ends = in_namespace(ns, || {
            let open = |n: &str| end_socket(n).map_err(|e| format!("packet socket on {n} in {ns}: {e}"));
            Ok([Arc::new(open(WIRE_ENDS[0])?), Arc::new(open(WIRE_ENDS[1])?)])
        })?;
        let dirs = [0, 1].map(|_| {
            Arc::new(Direction { impairment: Mutex::new(Impairment::NONE), counts: Mutex::default() })
        });
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for from in [Controller::A, Controller::B] {
            let (tx, rx) = channel();
            let (src, dst) = (Arc::clone(&ends[from.index()]), Arc::clone(&ends[from.peer().index()]));
            let (dir, stop_r, stop_s) =
                (Arc::clone(&dirs[from.index()]), Arc::clone(&stop), Arc::clone(&stop));
            let mut rng = Rng::new(seed ^ (from.index() as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            threads.push(
                thread::Builder::new()
                    .name(format!("wire-rx-{from}"))
                    .spawn(move || receive(&src, &dir, &tx, &mut rng, &stop_r))
                    .map_err(|e| format!("wire thread: {e}"))?,
            );
            threads.push(
                thread::Builder::new()
                    .name(format!("wire-tx-{from}"))
                    .spawn(move || release(&dst, &rx, &stop_s))
                    .map_err(|e| format!("wire thread: {e}"))?,
            );
        }
        Ok(Self { dirs, stop, threads })
    }

    /// Impair what `from` sends.
    pub fn set(&self, from: Controller, imp: Impairment) {
        if let Ok(mut i) = self.dirs[from.index()].impairment.lock() {
            *i = imp;
        }
    }

    /// What `from`'s frames go through now.
    pub fn impairment(&self, from: Controller) -> Impairment {
        self.dirs[from.index()].impairment.lock().map(|i| *i).unwrap_or_default()
    }

    /// Both directions clean again.
    pub fn clear(&self) {
        for c in [Controller::A, Controller::B] {
            self.set(c, Impairment::NONE);
        }
    }

    /// Also take each direction's impairment from `<dir>/wire-a.ctl` / `wire-b.ctl`
    /// (checked every 10 ms; see [`Impairment::parse_control`]), so commands run
    /// outside this process can impair the link. A bad line is reported and ignored.
    pub fn follow(&mut self, dir: &Path) -> Result<(), String> {
        let (dirs, stop) = (self.dirs.clone(), Arc::clone(&self.stop));
        let files = [dir.join("wire-a.ctl"), dir.join("wire-b.ctl")];
        let t = thread::Builder::new()
            .name("wire-ctl".into())
            .spawn(move || {
                let mut last = [String::new(), String::new()];
                while !stop.load(Ordering::Relaxed) {
                    for (i, f) in files.iter().enumerate() {
                        let text = std::fs::read_to_string(f).unwrap_or_default();
                        if text == last[i] {
                            continue;
                        }
                        match Impairment::parse_control(&text) {
                            Ok(imp) => {
                                if let Ok(mut x) = dirs[i].impairment.lock() {
                                    *x = imp;
                                }
                            }
                            Err(e) if !text.trim().is_empty() => eprintln!("wire: {}: {e}", f.display()),
                            Err(_) => {}
                        }
                        last[i] = text;
                    }
                    thread::sleep(Duration::from_millis(10));
                }
            })
            .map_err(|e| format!("wire control thread: {e}"))?;
        self.threads.push(t);
        Ok(())
    }

    /// Frames forwarded and dropped so far from `from`.
    pub fn counts(&self, from: Controller) -> WireCounts {
        self.dirs[from.index()].counts.lock().map(|c| *c).unwrap_or_default()
    }
}

impl Drop for Wire {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// One's-complement sum of `data` as big-endian 16-bit words, added to `sum`.
fn sum16(mut sum: u32, data: &[u8]) -> u32 {
    for c in data.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    sum
}

/// Fill in the UDP or TCP checksum of an IPv4 Ethernet frame. A frame captured on a
/// veth carries the sender's checksum offload state: the kernel left the L4 checksum
/// for the "hardware" to fill, and a copy sent on unchanged would be dropped by the
/// receiver as corrupt. Other frames are left as they are.
fn fix_l4_checksum(frame: &mut [u8]) {
    const ETH: usize = 14;
    if frame.len() < ETH + 20 || frame[12..14] != [0x08, 0x00] {
        return;
    }
    let ihl = usize::from(frame[ETH] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([frame[ETH + 2], frame[ETH + 3]]));
    let fragmented = u16::from_be_bytes([frame[ETH + 6], frame[ETH + 7]]) & 0x3fff != 0;
    let (proto, l4) = (frame[ETH + 9], ETH + ihl);
    let end = ETH + total;
    let ck = match proto {
        17 => 6,
        6 => 16,
        _ => return,
    };
    if fragmented || ihl < 20 || end > frame.len() || l4 + ck + 2 > end {
        return;
    }
    frame[l4 + ck] = 0;
    frame[l4 + ck + 1] = 0;
    let len = (end - l4) as u16;
    let mut sum = sum16(0, &frame[ETH + 12..ETH + 20]);
    sum += u32::from(proto) + u32::from(len);
    sum = sum16(sum, &frame[l4..end]);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let mut v = !(sum as u16);
    if proto == 17 && v == 0 {
        v = 0xffff;
    }
    frame[l4 + ck..l4 + ck + 2].copy_from_slice(&v.to_be_bytes());
}

/// Receive what arrives at `src`, drop or schedule it.
fn receive(
    src: &OwnedFd,
    dir: &Direction,
    tx: &Sender<(Instant, Vec<u8>)>,
    rng: &mut Rng,
    stop: &AtomicBool,
) {
    let mut buf = vec![0u8; 65_536];
    while !stop.load(Ordering::Relaxed) {
        // SAFETY: a valid socket and a buffer of the given length.
        let n = unsafe { libc::recv(src.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        let Ok(n) = usize::try_from(n) else { continue };
        let now = Instant::now();
        let imp = dir.impairment.lock().map(|i| *i).unwrap_or_default();
        let lost = imp.loss_percent > 0 && rng.below(100) < u64::from(imp.loss_percent);
        if let Ok(mut c) = dir.counts.lock() {
            if lost {
                c.dropped += 1;
            } else {
                c.forwarded += 1;
            }
        }
        if lost {
            continue;
        }
        let jitter = imp.jitter.as_micros() as u64;
        let delay_us = if jitter == 0 {
            imp.delay.as_micros() as u64
        } else {
            (imp.delay.as_micros() as u64 + rng.below(2 * jitter + 1)).saturating_sub(jitter)
        };
        let mut frame = buf[..n].to_vec();
        fix_l4_checksum(&mut frame);
        if tx.send((now + Duration::from_micros(delay_us), frame)).is_err() {
            return;
        }
    }
}

/// Send each frame out of `dst` when its time comes, earliest first.
fn release(dst: &OwnedFd, rx: &Receiver<(Instant, Vec<u8>)>, stop: &AtomicBool) {
    let mut queue: BinaryHeap<Reverse<(Instant, u64, Vec<u8>)>> = BinaryHeap::new();
    let mut seq = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        while let Some(Reverse((at, _, _))) = queue.peek() {
            if *at > now {
                break;
            }
            if let Some(Reverse((_, _, frame))) = queue.pop() {
                // SAFETY: a valid bound socket and a buffer of the given length.
                let _ = unsafe { libc::send(dst.as_raw_fd(), frame.as_ptr().cast(), frame.len(), 0) };
            }
        }
        let wait =
            queue.peek().map_or(TICK, |Reverse((at, _, _))| at.saturating_duration_since(now).min(TICK));
        match rx.recv_timeout(wait) {
            Ok((at, frame)) => {
                seq += 1;
                queue.push(Reverse((at, seq, frame)));
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suites::rig::{Rig, ping};

    #[test]
    fn udp_checksum_is_filled_in_as_rfc768_says() {
        // Ethernet + IPv4 (10.0.0.1 -> 10.0.0.2) + UDP 1000 -> 2000, payload "hi".
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00]);
        f.extend_from_slice(&[0x45, 0, 0, 30, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        f.extend_from_slice(&[0x03, 0xe8, 0x07, 0xd0, 0, 10, 0xde, 0xad, b'h', b'i']);
        fix_l4_checksum(&mut f);
        // Pseudo-header + header + data sum to all ones with the checksum in place.
        let udp = &f[34..];
        let mut sum = sum16(0, &f[26..34]) + 17 + 10;
        sum = sum16(sum, udp);
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        assert_eq!(sum, 0xffff, "checksum {:02x}{:02x}", udp[6], udp[7]);
        // An ARP frame is left alone.
        let mut arp = vec![0u8; 42];
        arp[12] = 0x08;
        arp[13] = 0x06;
        let copy = arp.clone();
        fix_l4_checksum(&mut arp);
        assert_eq!(arp, copy);
    }

    #[test]
    fn frames_cross_the_wire_and_the_impairments_apply() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("needs root for network namespaces: run by the system suite instead");
            return;
        }
        let rig = Rig::create_with_wire().expect("rig");
        let mut wire = Wire::start(&rig.ns(crate::suites::rig::Host::Wire), 1).expect("wire");
        let peer = std::net::Ipv4Addr::new(169, 254, 10, 2);
        let ping = |ms: u64| {
            in_namespace(&rig.ctrl_ns(Controller::A), || {
                ping(peer, Duration::from_millis(ms)).map_err(|e| format!("ping: {e}"))
            })
            .expect("ping runs")
        };
        let clean = ping(2_000).expect("a ping crosses the clean wire");
        // UDP too (its checksum left to the veth's "hardware" by the sender).
        let rx = in_namespace(&rig.ctrl_ns(Controller::B), || {
            std::net::UdpSocket::bind("169.254.10.2:7777").map_err(|e| e.to_string())
        })
        .expect("bind in B");
        rx.set_read_timeout(Some(Duration::from_secs(2))).expect("timeout");
        in_namespace(&rig.ctrl_ns(Controller::A), || {
            let tx = std::net::UdpSocket::bind("169.254.10.1:0").map_err(|e| e.to_string())?;
            tx.send_to(b"over the wire", "169.254.10.2:7777").map_err(|e| e.to_string())
        })
        .expect("send from A");
        let mut buf = [0u8; 64];
        let (n, _) = rx.recv_from(&mut buf).expect("the UDP datagram crossed the wire");
        assert_eq!(&buf[..n], b"over the wire");
        wire.set(Controller::B, Impairment::CUT);
        assert_eq!(ping(300), None, "the reply crossed a cut direction");
        assert!(wire.counts(Controller::B).dropped > 0);
        wire.set(Controller::B, Impairment { delay: Duration::from_millis(100), ..Impairment::NONE });
        let delayed = ping(2_000).expect("a delayed ping");
        assert!(delayed >= Duration::from_millis(100), "{delayed:?} (clean {clean:?})");
        // Through the control files, as a target file's `impair` command sets it.
        let dir = crate::suites::rig::TempDir::new("wire-ctl").expect("dir");
        wire.follow(dir.path()).expect("follow");
        std::fs::write(dir.path().join("wire-b.ctl"), "0 0 100\n").expect("write");
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(wire.impairment(Controller::B), Impairment::CUT);
        assert_eq!(ping(300), None, "the reply crossed a direction cut by its control file");
        std::fs::write(dir.path().join("wire-b.ctl"), "0 0 0\n").expect("write");
        std::thread::sleep(Duration::from_millis(50));
        assert!(ping(2_000).is_some(), "the control file did not clear the cut");
    }

    #[test]
    fn control_lines_parse_or_name_what_is_wrong() {
        assert_eq!(
            Impairment::parse_control("150 100 0\n"),
            Ok(Impairment {
                delay: Duration::from_millis(150),
                jitter: Duration::from_millis(100),
                loss_percent: 0
            })
        );
        assert_eq!(Impairment::parse_control("0 0 100"), Ok(Impairment::CUT));
        assert!(Impairment::parse_control("0 0 101").expect_err("loss over 100").contains("0-100"));
        assert!(Impairment::parse_control("1 x 0").expect_err("not a number").contains("`x`"));
        assert!(Impairment::parse_control("1 2").is_err());
    }
}
