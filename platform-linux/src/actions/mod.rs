//! The slow, side-effecting actions the executor carries out for the host node.
//!
//! - [`vip`]: virtual IP addresses on an interface (rtnetlink), their announcement
//!   (gratuitous ARP for IPv4, unsolicited neighbour advertisement for IPv6) and the
//!   link carrier;
//! - [`hooks`]: the pool import / export hooks (external programs with a timeout that
//!   kills their whole process group; a pool key only ever travels on stdin).

pub mod hooks;
pub mod vip;
