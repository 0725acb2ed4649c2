//! Judging the peer over several paths.
//!
//! Evidence that the peer host is alive comes from two independent places: its
//! heartbeats on the host link (H), and its BMC, which hears the peer host over the
//! peer's own UART and tells our BMC over the BMC link (B), which tells us over our UART
//! (L). The rules:
//!
//! - the peer is *alive* if either source heard it within the failover timeout;
//! - H silent but the BMCs say alive is a *link fault*: alert, never take over;
//! - the peer is *gone* only when every source has been silent for the timeout, or
//!   when the peer's BMC positively reports its host hung or dead (and H is silent: a
//!   host whose heartbeats arrive is not hung, whatever a BMC thinks);
//! - silence counts only while we were listening: after our own stall (the process
//!   was stopped or starved) we listen for a whole timeout again before judging. We
//!   judge by the peer's frames, never by our own missed ticks.

use crate::time::{Duration, Instant};
use crate::wire::{HostLiveness, Relay};

use super::PeerVerdict;

/// What we have heard of the peer, and when.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct PeerEvidence {
    /// Last authenticated frame from the peer host on H.
    pub(crate) heard_host_link: Option<Instant>,
    /// Last authenticated frame from our own BMC on L.
    pub(crate) heard_own_bmc: Option<Instant>,
    /// Our BMC's last relay about the peer, and when it arrived.
    pub(crate) relay: Option<(Instant, Relay)>,
    /// Silence before this instant does not count (boot, or the end of a self-stall).
    pub(crate) listening_since: Instant,
}

impl PeerEvidence {
    pub(crate) fn new(now: Instant) -> Self {
        Self { heard_host_link: None, heard_own_bmc: None, relay: None, listening_since: now }
    }

    fn fresh(now: Instant, at: Option<Instant>, timeout: Duration) -> bool {
        at.is_some_and(|t| now.saturating_since(t) < timeout)
    }

    /// The relay, if our BMC is talking to us and hears the peer BMC.
    fn live_relay(&self, now: Instant, timeout: Duration) -> Option<(Instant, Relay)> {
        if !Self::fresh(now, self.heard_own_bmc, timeout) {
            return None;
        }
        self.relay.filter(|(_, r)| r.peer_bmc_alive)
    }

    /// When the peer's BMC last saw the peer host alive, as far as we know.
    fn bmc_saw_host_alive_at(&self, now: Instant, timeout: Duration) -> Option<Instant> {
        let (at, r) = self.live_relay(now, timeout)?;
        (r.peer_host == HostLiveness::Alive)
            .then(|| at - Duration::from_millis(u64::from(r.peer_host_age_ms)))
    }

    /// Whether our BMC path is working: our BMC talks to us and hears the peer BMC.
    pub(crate) fn bmc_path_up(&self, now: Instant, timeout: Duration) -> bool {
        self.live_relay(now, timeout).is_some()
    }

    /// Whether the host link carried a peer frame within the timeout.
    pub(crate) fn host_link_up(&self, now: Instant, timeout: Duration) -> bool {
        Self::fresh(now, self.heard_host_link, timeout)
    }

    /// The verdict on the peer at `now`.
    pub(crate) fn judge(&self, now: Instant, timeout: Duration) -> PeerVerdict {
        if self.host_link_up(now, timeout) {
            return PeerVerdict::Alive;
        }
        if let Some((_, r)) = self.live_relay(now, timeout) {
            match r.peer_host {
                HostLiveness::Hung => return PeerVerdict::Hung,
                HostLiveness::Dead => return PeerVerdict::Dead,
                HostLiveness::Alive | HostLiveness::Unknown => {}
            }
        }
        let bmc_alive = self.bmc_saw_host_alive_at(now, timeout);
        if Self::fresh(now, bmc_alive, timeout) {
            return PeerVerdict::AliveViaBmcOnly;
        }
        let last = [self.heard_host_link, bmc_alive, Some(self.listening_since)]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(self.listening_since);
        if now.saturating_since(last) >= timeout { PeerVerdict::Silent } else { PeerVerdict::Unknown }
    }

    /// The last instant any path showed the peer alive (for detection timings).
    pub(crate) fn last_alive(&self, now: Instant, timeout: Duration) -> Option<Instant> {
        [self.heard_host_link, self.bmc_saw_host_alive_at(now, timeout)].into_iter().flatten().max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Status;
    use crate::wire::AGE_NEVER;

    const T: Duration = Duration::from_millis(50);

    fn ms(v: u64) -> Instant {
        Instant::from_millis(v)
    }

    fn relay(peer_bmc_alive: bool, peer_host: HostLiveness, age: u32) -> Relay {
        Relay {
            peer_bmc_alive,
            peer_bmc_age_ms: 0,
            peer_host,
            peer_host_age_ms: age,
            peer_host_status: Status::Master,
            peer_host_epoch: 1,
        }
    }

    #[test]
    fn silence_counts_only_after_listening_for_a_timeout() {
        let e = PeerEvidence::new(ms(1000));
        assert_eq!(e.judge(ms(1049), T), PeerVerdict::Unknown);
        assert_eq!(e.judge(ms(1050), T), PeerVerdict::Silent);
    }

    #[test]
    fn host_link_alone_keeps_the_peer_alive() {
        let mut e = PeerEvidence::new(ms(0));
        e.heard_host_link = Some(ms(100));
        assert_eq!(e.judge(ms(149), T), PeerVerdict::Alive);
        assert_eq!(e.judge(ms(150), T), PeerVerdict::Silent);
    }

    #[test]
    fn bmc_alive_with_silent_host_link_is_a_link_fault() {
        let mut e = PeerEvidence::new(ms(0));
        e.heard_own_bmc = Some(ms(200));
        e.relay = Some((ms(200), relay(true, HostLiveness::Alive, 5)));
        assert_eq!(e.judge(ms(210), T), PeerVerdict::AliveViaBmcOnly);
        // The relay's own age counts: seen alive at 195, so gone at 245.
        assert_eq!(e.judge(ms(244), T), PeerVerdict::AliveViaBmcOnly);
        assert_eq!(e.judge(ms(245), T), PeerVerdict::Silent);
    }

    #[test]
    fn bmc_report_of_hang_acts_at_once_unless_the_host_link_is_alive() {
        let mut e = PeerEvidence::new(ms(0));
        e.heard_own_bmc = Some(ms(10));
        e.relay = Some((ms(10), relay(true, HostLiveness::Hung, AGE_NEVER)));
        assert_eq!(e.judge(ms(11), T), PeerVerdict::Hung);
        e.heard_host_link = Some(ms(11));
        assert_eq!(e.judge(ms(12), T), PeerVerdict::Alive);
        e.relay = Some((ms(10), relay(true, HostLiveness::Dead, AGE_NEVER)));
        e.heard_host_link = None;
        assert_eq!(e.judge(ms(12), T), PeerVerdict::Dead);
    }

    #[test]
    fn a_relay_from_a_silent_own_bmc_or_without_the_peer_bmc_counts_for_nothing() {
        let mut e = PeerEvidence::new(ms(0));
        e.heard_own_bmc = Some(ms(10));
        e.relay = Some((ms(10), relay(false, HostLiveness::Hung, 0)));
        assert_eq!(e.judge(ms(20), T), PeerVerdict::Unknown);
        e.relay = Some((ms(10), relay(true, HostLiveness::Hung, 0)));
        assert_eq!(e.judge(ms(60), T), PeerVerdict::Silent);
    }
}
