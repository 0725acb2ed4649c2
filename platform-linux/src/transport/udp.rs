//! Path H: one frame per UDP datagram on the dedicated link.
//!
//! Bind to the link's own address (and, when configured, to the link's interface with
//! `SO_BINDTODEVICE`) so heartbeats never leave by another route. The reference uses
//! 169.254.10.1/.2 on a dedicated link with a blackhole route for 169.254.10.0/23: if
//! the link goes down, packets for the peer are dropped rather than routed out of a
//! public interface, where they could be answered by the wrong host or leak.

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd};

use super::TransportError;

/// The UDP end of the host link.
#[derive(Debug)]
pub struct UdpLink {
    sock: UdpSocket,
    peer: SocketAddr,
    /// Datagrams from an address other than the peer's, dropped.
    pub foreign: u64,
    /// Sends the kernel refused (no buffer, unreachable); counted, never fatal.
    pub send_errors: u64,
}

impl UdpLink {
    /// Bind `local`, talk to `peer`, optionally pinned to `interface`.
    pub fn bind(
        local: SocketAddr,
        peer: SocketAddr,
        interface: Option<&str>,
    ) -> Result<Self, TransportError> {
        let err = |source| TransportError::Udp { addr: local, source };
        let sock = UdpSocket::bind(local).map_err(err)?;
        if let Some(ifname) = interface {
            let name = std::ffi::OsString::from(ifname);
            nix::sys::socket::setsockopt(&sock, nix::sys::socket::sockopt::BindToDevice, &name)
                .map_err(|e| err(std::io::Error::from(e)))?;
        }
        sock.set_nonblocking(true).map_err(err)?;
        Ok(Self { sock, peer, foreign: 0, send_errors: 0 })
    }

    /// The bound local address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.sock.local_addr()
    }

    /// Send one frame to the peer. Failures are counted, not returned: a heartbeat
    /// that cannot be sent is a lost heartbeat, which the protocol tolerates.
    pub fn send(&mut self, frame: &[u8]) {
        if self.sock.send_to(frame, self.peer).is_err() {
            self.send_errors += 1;
        }
    }

    /// Receive one datagram from the peer, if one is waiting.
    pub fn recv<'a>(&mut self, buf: &'a mut [u8]) -> Option<&'a [u8]> {
        loop {
            match self.sock.recv_from(buf) {
                Ok((n, from)) if from == self.peer => return buf.get(..n),
                Ok(_) => self.foreign += 1,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return None,
            }
        }
    }
}

impl AsFd for UdpLink {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_flow_between_two_links_and_foreign_datagrams_are_dropped() {
        let a0: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let probe_a = UdpSocket::bind(a0).unwrap();
        let probe_b = UdpSocket::bind(a0).unwrap();
        let (pa, pb) = (probe_a.local_addr().unwrap(), probe_b.local_addr().unwrap());
        drop((probe_a, probe_b));
        let mut a = UdpLink::bind(pa, pb, None).unwrap();
        let mut b = UdpLink::bind(pb, pa, None).unwrap();
        a.send(b"hello");
        let mut buf = [0u8; 64];
        let mut got = None;
        for _ in 0..100 {
            if let Some(f) = b.recv(&mut buf) {
                got = Some(f.to_vec());
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        assert_eq!(got.as_deref(), Some(&b"hello"[..]));
        let stranger = UdpSocket::bind(a0).unwrap();
        stranger.send_to(b"spoof", pb).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(b.recv(&mut buf), None);
        assert_eq!(b.foreign, 1);
    }
}
