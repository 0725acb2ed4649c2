//! [`Cidr`]: an interface address with its prefix length, the one address type of the
//! configuration, the API and the VIP actions.
//!
//! An [`IpAddr`] and a prefix length no longer than the family allows, written
//! `addr/prefix` (`10.0.0.5/24`, `2001:db8::5/64`). It is an *interface address*, not a
//! network: host bits are kept, exactly as `ip addr` shows them. A bare address parses
//! as a host route (`/32`, `/128`); the configuration insists on an explicit prefix.
//! It serialises (serde) as that string.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An interface address with its prefix length, `addr/prefix`. See the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

/// Why a string or pair is not a [`Cidr`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    /// The address part does not parse.
    #[error("invalid IP address {0:?}")]
    Addr(String),
    /// The prefix part is not a number.
    #[error("invalid prefix length {0:?}")]
    Prefix(String),
    /// The prefix is longer than the address family allows.
    #[error("prefix length /{prefix} is too long for {addr} (at most /{max})")]
    TooLong {
        /// The address.
        addr: IpAddr,
        /// The rejected prefix length.
        prefix: u8,
        /// The family's maximum.
        max: u8,
    },
}

impl Cidr {
    /// `addr/prefix`; the prefix must be at most 32 (IPv4) or 128 (IPv6).
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Self, CidrError> {
        let max = max_prefix(addr);
        if prefix > max {
            return Err(CidrError::TooLong { addr, prefix, max });
        }
        Ok(Self { addr, prefix })
    }

    /// The address alone: `/32` or `/128`.
    pub const fn host(addr: IpAddr) -> Self {
        Self { addr, prefix: max_prefix(addr) }
    }

    /// The address (host bits kept).
    pub const fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    pub const fn prefix(&self) -> u8 {
        self.prefix
    }

    /// True for an IPv4 address.
    pub const fn is_ipv4(&self) -> bool {
        self.addr.is_ipv4()
    }
}

const fn max_prefix(addr: IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr_s, prefix_s) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr_s.parse().map_err(|_| CidrError::Addr(addr_s.to_owned()))?;
        match prefix_s {
            None => Ok(Self::host(addr)),
            Some(p) => {
                // `u8::from_str` accepts a leading '+'; a prefix is digits only.
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(CidrError::Prefix(p.to_owned()));
                }
                let prefix: u8 = p.parse().map_err(|_| CidrError::Prefix(p.to_owned()))?;
                Self::new(addr, prefix)
            }
        }
    }
}

impl Serialize for Cidr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    #[test]
    fn cidr_parses_displays_and_validates() {
        let c: Cidr = "10.0.0.5/24".parse().expect("v4");
        assert_eq!(c.addr(), IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5)));
        assert_eq!(c.prefix(), 24);
        assert!(c.is_ipv4());
        assert_eq!(c.to_string(), "10.0.0.5/24");

        let c: Cidr = "2001:db8::5/64".parse().expect("v6");
        assert_eq!(c.to_string(), "2001:db8::5/64");
        assert!(!c.is_ipv4());

        assert_eq!("192.0.2.1".parse::<Cidr>().expect("bare v4").prefix(), 32);
        assert_eq!("2001:db8::1".parse::<Cidr>().expect("bare v6").prefix(), 128);
        assert_eq!("0.0.0.0/0".parse::<Cidr>().expect("/0").prefix(), 0);

        assert!(matches!("10.0.0.5/33".parse::<Cidr>(), Err(CidrError::TooLong { max: 32, .. })));
        assert!(matches!("2001:db8::/129".parse::<Cidr>(), Err(CidrError::TooLong { max: 128, .. })));
        assert!(matches!("10.0.0.5/".parse::<Cidr>(), Err(CidrError::Prefix(_))));
        assert!(matches!("10.0.0.5/+8".parse::<Cidr>(), Err(CidrError::Prefix(_))));
        assert!(matches!("10.0.0.5/x".parse::<Cidr>(), Err(CidrError::Prefix(_))));
        assert!(matches!("10.0.0.256/8".parse::<Cidr>(), Err(CidrError::Addr(_))));
        assert!(matches!("".parse::<Cidr>(), Err(CidrError::Addr(_))));
        assert!(Cidr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)), 33).is_err());
        assert_eq!(Cidr::host(IpAddr::V6(Ipv6Addr::LOCALHOST)).prefix(), 128);

        let json =
            serde_json::to_string(&Cidr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)), 24).expect("cidr"))
                .expect("ser");
        assert_eq!(json, "\"192.0.2.10/24\"");
        let back: Cidr = serde_json::from_str(&json).expect("de");
        assert_eq!(back.to_string(), "192.0.2.10/24");
        assert!(serde_json::from_str::<Cidr>("\"10.0.0.1/40\"").is_err());
    }
}
