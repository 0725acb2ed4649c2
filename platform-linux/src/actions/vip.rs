//! Virtual IP addresses: add / remove them on an interface over rtnetlink, announce
//! them to the segment, and read the link carrier.
//!
//! # Address type
//!
//! Addresses are [`Cidr`]s (see [`crate::cidr`]), the same type the configuration
//! holds: an interface address with its prefix length, host bits kept.
//!
//! # Namespaces
//!
//! A [`VipManager`] works in the network namespace its netlink socket was opened in,
//! that is the namespace of the thread that called [`VipManager::new`]; the packet
//! sockets of [`VipManager::announce`] are opened in the namespace of the thread that
//! polls the future. The free function [`has_carrier`] reads sysfs, which shows the
//! namespace sysfs was *mounted* in (normally the host's), whatever the caller's
//! namespace; [`VipManager::link_has_carrier`] asks netlink instead.
//!
//! # Announcements
//!
//! After a takeover the segment's ARP / neighbour caches still point at the old
//! controller's MAC. [`VipManager::announce`] sends, [`ANNOUNCE_COUNT`] times
//! [`ANNOUNCE_GAP`] apart, on an `AF_PACKET` socket:
//! - IPv4: a gratuitous ARP *request*, broadcast, sender and target IP both the VIP,
//!   sender MAC the interface's (RFC 5227 "ARP announcement");
//! - IPv6: an unsolicited neighbour advertisement (ICMPv6 136) with the override flag,
//!   target the VIP and a target link-layer address option, from the VIP to `ff02::1`
//!   (`33:33:00:00:00:01`) with hop limit 255 (RFC 4861 7.2.6).
//!
//! IPv6 VIPs are added with `IFA_F_NODAD` (as keepalived does): a VIP that waits a
//! second for duplicate address detection cannot be used, nor announced, meanwhile.
//! Only Ethernet-type links (`ARPHRD_ETHER`: physical NICs, bonds, VLANs, bridges,
//! veth) can be announced on.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use futures::TryStreamExt;
use rtnetlink::packet_route::address::{AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage};
use rtnetlink::packet_route::link::{LinkAttribute, LinkFlags, LinkLayerType, LinkMessage};
use tracing::{debug, info, warn};

pub use crate::cidr::{Cidr, CidrError};

/// How many times [`VipManager::announce`] sends its packet.
pub const ANNOUNCE_COUNT: usize = 3;
/// The gap between two announcements.
pub const ANNOUNCE_GAP: Duration = Duration::from_millis(5);

const ETH_P_ARP: u16 = 0x0806;
const ETH_P_IPV6: u16 = 0x86dd;
const IPPROTO_ICMPV6: u8 = 58;
const ICMPV6_NEIGHBOR_ADVERT: u8 = 136;
const ND_OPT_TARGET_LL_ADDR: u8 = 2;
/// Linux `IFNAMSIZ` minus the terminating NUL.
const IFNAME_MAX: usize = 15;
/// Minimum Ethernet frame without the FCS.
const ETH_MIN_FRAME: usize = 60;
const BROADCAST_MAC: [u8; 6] = [0xff; 6];
/// `ff02::1` mapped to Ethernet (RFC 2464 7).
const ALL_NODES_MAC: [u8; 6] = [0x33, 0x33, 0, 0, 0, 1];

// ---------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------

/// A VIP operation failed. Every variant names the interface (and the address when
/// there is one) and carries the netlink or socket error.
#[derive(Debug, thiserror::Error)]
pub enum VipError {
    /// [`VipManager::new`] was called outside a tokio runtime.
    #[error("no tokio runtime to run the netlink connection on")]
    NoRuntime,
    /// The netlink socket could not be opened.
    #[error("cannot open a netlink route socket: {0}")]
    Connect(#[source] io::Error),
    /// The interface name is empty, too long or contains `/`.
    #[error("invalid interface name {iface:?}")]
    InvalidName {
        /// The rejected name.
        iface: String,
    },
    /// No interface of that name (in this namespace).
    #[error("interface {iface}: no such interface")]
    NoSuchInterface {
        /// The interface.
        iface: String,
    },
    /// Looking the link up failed.
    #[error("interface {iface}: link lookup failed: {source}")]
    Link {
        /// The interface.
        iface: String,
        /// The netlink error.
        #[source]
        source: rtnetlink::Error,
    },
    /// Listing the interface's addresses failed.
    #[error("interface {iface}: cannot list addresses: {source}")]
    List {
        /// The interface.
        iface: String,
        /// The netlink error.
        #[source]
        source: rtnetlink::Error,
    },
    /// Adding the address failed.
    #[error("cannot add {addr} to {iface}: {source}")]
    Add {
        /// The interface.
        iface: String,
        /// The address.
        addr: Cidr,
        /// The netlink error.
        #[source]
        source: rtnetlink::Error,
    },
    /// Removing the address failed.
    #[error("cannot remove {addr} from {iface}: {source}")]
    Remove {
        /// The interface.
        iface: String,
        /// The address.
        addr: Cidr,
        /// The netlink error.
        #[source]
        source: rtnetlink::Error,
    },
    /// The interface cannot carry an announcement (not Ethernet, no MAC address).
    #[error("cannot announce {addr} on {iface}: {reason}")]
    Unsupported {
        /// The interface.
        iface: String,
        /// The address.
        addr: IpAddr,
        /// Why not.
        reason: &'static str,
    },
    /// A packet socket operation of an announcement failed.
    #[error("cannot announce {addr} on {iface}: {op}: {source}")]
    Announce {
        /// The interface.
        iface: String,
        /// The address.
        addr: IpAddr,
        /// The failed step (`socket`, `sendto`).
        op: &'static str,
        /// The socket error.
        #[source]
        source: io::Error,
    },
    /// Reading the carrier from sysfs failed.
    #[error("interface {iface}: cannot read {path}: {source}")]
    Sysfs {
        /// The interface.
        iface: String,
        /// The file read.
        path: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

/// The positive errno of a netlink error message, if it is one.
fn errno(e: &rtnetlink::Error) -> Option<i32> {
    match e {
        rtnetlink::Error::NetlinkError(m) => m.code.map(|c| c.get().abs()),
        _ => None,
    }
}

fn check_name(iface: &str) -> Result<(), VipError> {
    if iface.is_empty()
        || iface.len() > IFNAME_MAX
        || iface == "."
        || iface == ".."
        || iface.bytes().any(|b| b == b'/' || b == 0 || b.is_ascii_whitespace())
    {
        return Err(VipError::InvalidName { iface: iface.to_owned() });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// Carrier from sysfs
// ---------------------------------------------------------------------------------

/// Whether `iface` has carrier, from `/sys/class/net/<iface>/carrier`.
///
/// Synchronous and cheap (one small sysfs read), so usable from the heartbeat thread.
/// An administratively down interface has no carrier (the kernel refuses the read
/// with `EINVAL`; reported as `false`). Sysfs shows the namespace it was mounted in,
/// see the module docs; [`VipManager::link_has_carrier`] is the netlink equivalent.
pub fn has_carrier(iface: &str) -> Result<bool, VipError> {
    check_name(iface)?;
    let path = format!("/sys/class/net/{iface}/carrier");
    match std::fs::read_to_string(&path) {
        Ok(s) => Ok(s.trim() == "1"),
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => Ok(false),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            Err(VipError::NoSuchInterface { iface: iface.to_owned() })
        }
        Err(source) => Err(VipError::Sysfs { iface: iface.to_owned(), path, source }),
    }
}

// ---------------------------------------------------------------------------------
// VipManager
// ---------------------------------------------------------------------------------

/// What the announcement and carrier code need to know of a link.
struct LinkInfo {
    index: u32,
    flags: LinkFlags,
    ether: bool,
    mac: Option<[u8; 6]>,
}

impl LinkInfo {
    fn from_message(msg: &LinkMessage) -> Self {
        let mac = msg.attributes.iter().find_map(|a| match a {
            LinkAttribute::Address(bytes) => <[u8; 6]>::try_from(bytes.as_slice()).ok(),
            _ => None,
        });
        Self {
            index: msg.header.index,
            flags: msg.header.flags,
            ether: msg.header.link_layer_type == LinkLayerType::Ether,
            mac,
        }
    }
}

/// Adds, removes and announces virtual IPs over one rtnetlink connection.
///
/// The connection task runs on the tokio runtime [`new`](Self::new) was called on
/// and is aborted when the manager is dropped. Cheap to share behind an `Arc`; all
/// methods take `&self` and may run concurrently.
pub struct VipManager {
    handle: rtnetlink::Handle,
    connection: tokio::task::JoinHandle<()>,
}

impl fmt::Debug for VipManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VipManager")
            .field("connection_finished", &self.connection.is_finished())
            .finish_non_exhaustive()
    }
}

impl Drop for VipManager {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

impl VipManager {
    /// Opens a netlink route socket (in the calling thread's network namespace) and
    /// spawns its connection task on the current tokio runtime.
    pub fn new() -> Result<Self, VipError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| VipError::NoRuntime)?;
        let (connection, handle, _unsolicited) = rtnetlink::new_connection().map_err(VipError::Connect)?;
        let connection = runtime.spawn(connection);
        Ok(Self { handle, connection })
    }

    async fn link(&self, iface: &str) -> Result<LinkInfo, VipError> {
        check_name(iface)?;
        let mut links = self.handle.link().get().match_name(iface.to_owned()).execute();
        match links.try_next().await {
            Ok(Some(msg)) => Ok(LinkInfo::from_message(&msg)),
            Ok(None) => Err(VipError::NoSuchInterface { iface: iface.to_owned() }),
            Err(e) if errno(&e) == Some(libc::ENODEV) => {
                Err(VipError::NoSuchInterface { iface: iface.to_owned() })
            }
            Err(source) => Err(VipError::Link { iface: iface.to_owned(), source }),
        }
    }

    async fn address_messages(&self, iface: &str, index: u32) -> Result<Vec<AddressMessage>, VipError> {
        self.handle
            .address()
            .get()
            .set_link_index_filter(index)
            .execute()
            .try_collect()
            .await
            .map_err(|source| VipError::List { iface: iface.to_owned(), source })
    }

    /// The addresses configured on `iface`, in kernel order.
    pub async fn addresses(&self, iface: &str) -> Result<Vec<Cidr>, VipError> {
        let link = self.link(iface).await?;
        let messages = self.address_messages(iface, link.index).await?;
        Ok(messages.iter().filter_map(message_cidr).collect())
    }

    /// Whether `iface` is up with carrier (`IFF_LOWER_UP`, the `LOWER_UP` of
    /// `ip link`), asked over netlink, so in the manager's namespace.
    pub async fn link_has_carrier(&self, iface: &str) -> Result<bool, VipError> {
        let link = self.link(iface).await?;
        Ok(link.flags.contains(LinkFlags::LowerUp))
    }

    /// Adds `addr` to `iface`. Idempotent: the same address with the same prefix
    /// already there is success. If the address is there with another prefix it is
    /// left alone (a warning is logged) and this is success too: the address is
    /// reachable here, and the kernel would refuse (IPv6) or duplicate (IPv4) it.
    pub async fn add(&self, iface: &str, addr: Cidr) -> Result<(), VipError> {
        let link = self.link(iface).await?;
        let present = self.address_messages(iface, link.index).await?;
        let same_ip: Vec<Cidr> =
            present.iter().filter_map(message_cidr).filter(|c| c.addr() == addr.addr()).collect();
        if same_ip.contains(&addr) {
            debug!(%iface, %addr, "virtual IP already present");
            return Ok(());
        }
        if let Some(other) = same_ip.first() {
            warn!(%iface, %addr, present = %other, "address already present with another prefix; leaving it");
            return Ok(());
        }

        let mut request = self.handle.address().add(link.index, addr.addr(), addr.prefix());
        if !addr.is_ipv4() {
            let message = request.message_mut();
            message.header.flags |= AddressHeaderFlags::Nodad;
            message.attributes.push(AddressAttribute::Flags(AddressFlags::Nodad));
        }
        match request.execute().await {
            Ok(()) => {
                info!(%iface, %addr, "virtual IP added");
                Ok(())
            }
            Err(e) if errno(&e) == Some(libc::EEXIST) => {
                debug!(%iface, %addr, "virtual IP added concurrently");
                Ok(())
            }
            Err(source) => Err(VipError::Add { iface: iface.to_owned(), addr, source }),
        }
    }

    /// Removes `addr` (this address with this prefix) from `iface`. Idempotent: an
    /// absent address is success. The same address with another prefix is left alone
    /// (a warning is logged), as it was not put there by [`add`](Self::add).
    pub async fn remove(&self, iface: &str, addr: Cidr) -> Result<(), VipError> {
        let link = self.link(iface).await?;
        let present = self.address_messages(iface, link.index).await?;
        let mut removed = false;
        for message in present {
            let Some(cidr) = message_cidr(&message) else {
                continue;
            };
            if cidr.addr() != addr.addr() {
                continue;
            }
            if cidr != addr {
                warn!(%iface, %addr, present = %cidr, "address present with another prefix; not removing it");
                continue;
            }
            match self.handle.address().del(message).execute().await {
                Ok(()) => removed = true,
                Err(e) if matches!(errno(&e), Some(libc::EADDRNOTAVAIL | libc::ENOENT)) => {}
                Err(source) => {
                    return Err(VipError::Remove { iface: iface.to_owned(), addr, source });
                }
            }
        }
        if removed {
            info!(%iface, %addr, "virtual IP removed");
        } else {
            debug!(%iface, %addr, "virtual IP already absent");
        }
        Ok(())
    }

    /// Announces `ip` as being at `iface`'s MAC address: gratuitous ARP (IPv4) or
    /// unsolicited neighbour advertisement (IPv6), [`ANNOUNCE_COUNT`] times
    /// [`ANNOUNCE_GAP`] apart. The interface must be up and of Ethernet type; the
    /// address need not be configured on it (the caller adds it first).
    pub async fn announce(&self, iface: &str, ip: IpAddr) -> Result<(), VipError> {
        let link = self.link(iface).await?;
        let unsupported = |reason| VipError::Unsupported { iface: iface.to_owned(), addr: ip, reason };
        if !link.ether {
            return Err(unsupported("not an Ethernet interface"));
        }
        let mac = link.mac.ok_or_else(|| unsupported("the interface has no MAC address"))?;
        let (frame, dst, ethertype) = match ip {
            IpAddr::V4(v4) => (garp_frame(mac, v4).to_vec(), BROADCAST_MAC, ETH_P_ARP),
            IpAddr::V6(v6) => (unsolicited_na_frame(mac, v6), ALL_NODES_MAC, ETH_P_IPV6),
        };
        let socket_error = |op, source| VipError::Announce { iface: iface.to_owned(), addr: ip, op, source };
        let socket = packet_socket().map_err(|e| socket_error("socket", e))?;
        for n in 0..ANNOUNCE_COUNT {
            if n > 0 {
                tokio::time::sleep(ANNOUNCE_GAP).await;
            }
            send_frame(&socket, link.index, dst, ethertype, &frame).map_err(|e| socket_error("sendto", e))?;
        }
        info!(%iface, %ip, mac = %format_mac(mac), count = ANNOUNCE_COUNT, "virtual IP announced");
        Ok(())
    }
}

/// The interface address of an address message: `IFA_LOCAL` if present (it differs
/// from `IFA_ADDRESS` on point-to-point links), else `IFA_ADDRESS`.
fn message_cidr(message: &AddressMessage) -> Option<Cidr> {
    let local = message.attributes.iter().find_map(|a| match a {
        AddressAttribute::Local(ip) => Some(*ip),
        _ => None,
    });
    let address = || {
        message.attributes.iter().find_map(|a| match a {
            AddressAttribute::Address(ip) => Some(*ip),
            _ => None,
        })
    };
    let ip = local.or_else(address)?;
    Cidr::new(ip, message.header.prefix_len).ok()
}

fn format_mac(mac: [u8; 6]) -> String {
    mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

// ---------------------------------------------------------------------------------
// Frames and the packet socket
// ---------------------------------------------------------------------------------

/// A gratuitous ARP request: broadcast, sender = target = `ip`, sender MAC `mac`,
/// target MAC zero, padded to the Ethernet minimum.
fn garp_frame(mac: [u8; 6], ip: Ipv4Addr) -> [u8; ETH_MIN_FRAME] {
    let mut f = [0u8; ETH_MIN_FRAME];
    f[0..6].copy_from_slice(&BROADCAST_MAC);
    f[6..12].copy_from_slice(&mac);
    f[12..14].copy_from_slice(&ETH_P_ARP.to_be_bytes());
    let arp = &mut f[14..42];
    arp[0..2].copy_from_slice(&1u16.to_be_bytes()); // hardware: Ethernet
    arp[2..4].copy_from_slice(&0x0800u16.to_be_bytes()); // protocol: IPv4
    arp[4] = 6;
    arp[5] = 4;
    arp[6..8].copy_from_slice(&1u16.to_be_bytes()); // request
    arp[8..14].copy_from_slice(&mac);
    arp[14..18].copy_from_slice(&ip.octets());
    // arp[18..24]: target hardware address, zero
    arp[24..28].copy_from_slice(&ip.octets());
    f
}

/// An unsolicited neighbour advertisement for `ip` at `mac`: Ethernet + IPv6 (from
/// `ip` to ff02::1, hop limit 255) + ICMPv6 136 (override) + target link-layer
/// address option.
fn unsolicited_na_frame(mac: [u8; 6], ip: Ipv6Addr) -> Vec<u8> {
    let dst = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

    let mut icmp = Vec::with_capacity(32);
    icmp.extend_from_slice(&[ICMPV6_NEIGHBOR_ADVERT, 0, 0, 0]); // type, code, checksum
    icmp.extend_from_slice(&[0x20, 0, 0, 0]); // R=0 S=0 O=1, reserved
    icmp.extend_from_slice(&ip.octets());
    icmp.extend_from_slice(&[ND_OPT_TARGET_LL_ADDR, 1]); // option, length in 8-byte units
    icmp.extend_from_slice(&mac);
    let checksum = icmpv6_checksum(&ip, &dst, &icmp);
    icmp[2..4].copy_from_slice(&checksum.to_be_bytes());

    let mut f = Vec::with_capacity(14 + 40 + icmp.len());
    f.extend_from_slice(&ALL_NODES_MAC);
    f.extend_from_slice(&mac);
    f.extend_from_slice(&ETH_P_IPV6.to_be_bytes());
    f.extend_from_slice(&[0x60, 0, 0, 0]); // version 6, traffic class 0, flow 0
    let payload_len = u16::try_from(icmp.len()).unwrap_or(u16::MAX);
    f.extend_from_slice(&payload_len.to_be_bytes());
    f.push(IPPROTO_ICMPV6);
    f.push(255); // hop limit: ND packets must carry 255
    f.extend_from_slice(&ip.octets());
    f.extend_from_slice(&dst.octets());
    f.extend_from_slice(&icmp);
    f
}

/// The ICMPv6 checksum (RFC 4443 2.3) of `message` (with its checksum field zero)
/// over the IPv6 pseudo-header.
fn icmpv6_checksum(src: &Ipv6Addr, dst: &Ipv6Addr, message: &[u8]) -> u16 {
    let mut sum: u64 = 0;
    let mut add = |bytes: &[u8]| {
        for pair in bytes.chunks(2) {
            let hi = pair[0];
            let lo = pair.get(1).copied().unwrap_or(0);
            sum += u64::from(u16::from_be_bytes([hi, lo]));
        }
    };
    add(&src.octets());
    add(&dst.octets());
    let len = u32::try_from(message.len()).unwrap_or(u32::MAX);
    add(&len.to_be_bytes());
    add(&[0, 0, 0, IPPROTO_ICMPV6]);
    add(message);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A send-only `AF_PACKET` raw socket (protocol 0: it receives nothing).
fn packet_socket() -> io::Result<OwnedFd> {
    // SAFETY: socket(2) with constant arguments; no pointers involved.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by socket(2), is valid and owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sends one complete Ethernet frame out of interface `ifindex`.
fn send_frame(socket: &OwnedFd, ifindex: u32, dst: [u8; 6], ethertype: u16, frame: &[u8]) -> io::Result<()> {
    // SAFETY: sockaddr_ll is plain old data; all-zero is a valid value.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as libc::c_ushort;
    sll.sll_protocol = ethertype.to_be();
    sll.sll_ifindex = i32::try_from(ifindex)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface index overflow"))?;
    sll.sll_halen = 6;
    sll.sll_addr[..6].copy_from_slice(&dst);
    // SAFETY: the buffer pointer and length describe `frame`; the address pointer and
    // length describe `sll`, which lives across the call.
    let sent = unsafe {
        libc::sendto(
            socket.as_raw_fd(),
            frame.as_ptr().cast(),
            frame.len(),
            libc::MSG_DONTWAIT,
            (&raw const sll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    if usize::try_from(sent).ok() != Some(frame.len()) {
        return Err(io::Error::new(io::ErrorKind::WriteZero, "short packet write"));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
