//! Failed sign-ins are rate limited per client address and globally.
//!
//! Per address: the first [`FREE_FAILURES`] failures cost nothing (typos), each one
//! after that locks the address out for twice as long as the last, from
//! [`FIRST_LOCKOUT`] up to [`MAX_LOCKOUT`]; a success forgets the address. Globally:
//! at most [`GLOBAL_FAILURES`] failures per [`GLOBAL_WINDOW`] from all addresses
//! together, so a guesser with many addresses gets no more than that. A refused
//! attempt is not checked against the password at all (the check is what costs CPU).
//!
//! The table is bounded ([`MAX_TRACKED`] addresses, the stalest forgotten first).
//! Every call takes `now`, so the limits are tested with scripted time.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures per address before lockouts start.
pub const FREE_FAILURES: u32 = 3;
/// The first lockout.
pub const FIRST_LOCKOUT: Duration = Duration::from_secs(1);
/// The longest lockout.
pub const MAX_LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// Failures from all addresses accepted per window.
pub const GLOBAL_FAILURES: usize = 30;
/// The global window.
pub const GLOBAL_WINDOW: Duration = Duration::from_secs(60);
/// Addresses tracked at most.
pub const MAX_TRACKED: usize = 4096;
/// An address without a failure for this long is forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy)]
struct Record {
    failures: u32,
    locked_until: Option<Instant>,
    last_failure: Instant,
}

#[derive(Debug, Default)]
struct Inner {
    per_ip: HashMap<IpAddr, Record>,
    recent: VecDeque<Instant>,
}

/// Why an attempt is refused without checking the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This address failed too often; try again after the duration.
    Address(Duration),
    /// Too many failures from everywhere; try again after the duration.
    Global(Duration),
}

impl Refusal {
    /// How long until an attempt can be made.
    pub fn retry_after(self) -> Duration {
        match self {
            Self::Address(d) | Self::Global(d) => d,
        }
    }
}

/// The sign-in limiter of one UI.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    inner: Mutex<Inner>,
}

impl LoginLimiter {
    /// A limiter with no history.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// May `ip` try a password now?
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), Refusal> {
        let mut g = self.lock();
        while g.recent.front().is_some_and(|t| now.saturating_duration_since(*t) >= GLOBAL_WINDOW) {
            g.recent.pop_front();
        }
        if let Some(until) = g.per_ip.get(&ip).and_then(|r| r.locked_until)
            && until > now
        {
            return Err(Refusal::Address(until - now));
        }
        if g.recent.len() >= GLOBAL_FAILURES {
            let oldest = g.recent.front().copied().unwrap_or(now);
            return Err(Refusal::Global(GLOBAL_WINDOW.saturating_sub(now.saturating_duration_since(oldest))));
        }
        Ok(())
    }

    /// Record a wrong password from `ip`: the lockout it now has (zero while free).
    pub fn failure(&self, ip: IpAddr, now: Instant) -> Duration {
        let mut g = self.lock();
        g.recent.push_back(now);
        if !g.per_ip.contains_key(&ip) && g.per_ip.len() >= MAX_TRACKED {
            g.per_ip.retain(|_, r| now.saturating_duration_since(r.last_failure) < FORGET_AFTER);
            if g.per_ip.len() >= MAX_TRACKED
                && let Some(stalest) = g.per_ip.iter().min_by_key(|(_, r)| r.last_failure).map(|(k, _)| *k)
            {
                g.per_ip.remove(&stalest);
            }
        }
        let r = g.per_ip.entry(ip).or_insert(Record { failures: 0, locked_until: None, last_failure: now });
        if now.saturating_duration_since(r.last_failure) >= FORGET_AFTER {
            r.failures = 0;
        }
        r.failures = r.failures.saturating_add(1);
        r.last_failure = now;
        let lockout = lockout_after(r.failures);
        r.locked_until = (!lockout.is_zero()).then(|| now + lockout);
        lockout
    }

    /// A correct password from `ip`: forget its failures.
    pub fn success(&self, ip: IpAddr) {
        self.lock().per_ip.remove(&ip);
    }
}

/// The lockout after `failures` consecutive failures.
pub fn lockout_after(failures: u32) -> Duration {
    if failures <= FREE_FAILURES {
        return Duration::ZERO;
    }
    let doublings = (failures - FREE_FAILURES - 1).min(20);
    FIRST_LOCKOUT.saturating_mul(1 << doublings).min(MAX_LOCKOUT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, n])
    }

    #[test]
    fn lockouts_double_after_the_free_failures_up_to_the_cap() {
        assert_eq!(lockout_after(1), Duration::ZERO);
        assert_eq!(lockout_after(FREE_FAILURES), Duration::ZERO);
        assert_eq!(lockout_after(FREE_FAILURES + 1), Duration::from_secs(1));
        assert_eq!(lockout_after(FREE_FAILURES + 2), Duration::from_secs(2));
        assert_eq!(lockout_after(FREE_FAILURES + 5), Duration::from_secs(16));
        assert_eq!(lockout_after(u32::MAX), MAX_LOCKOUT);
    }

    #[test]
    fn an_address_is_locked_out_then_let_in_again() {
        let l = LoginLimiter::new();
        let t0 = Instant::now();
        for _ in 0..FREE_FAILURES {
            assert_eq!(l.check(ip(1), t0), Ok(()));
            assert_eq!(l.failure(ip(1), t0), Duration::ZERO);
        }
        assert_eq!(l.failure(ip(1), t0), Duration::from_secs(1));
        assert_eq!(l.check(ip(1), t0), Err(Refusal::Address(Duration::from_secs(1))));
        assert_eq!(l.check(ip(2), t0), Ok(()), "other addresses are not affected");
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(l.check(ip(1), t1), Ok(()));
        assert_eq!(l.failure(ip(1), t1), Duration::from_secs(2));
        l.success(ip(1));
        assert_eq!(l.check(ip(1), t1), Ok(()), "a success forgets the failures");
        assert_eq!(l.failure(ip(1), t1), Duration::ZERO);
    }

    #[test]
    fn failures_from_many_addresses_hit_the_global_limit() {
        let l = LoginLimiter::new();
        let t0 = Instant::now();
        for i in 0..GLOBAL_FAILURES {
            let a = IpAddr::from([10, 0, (i / 256) as u8, (i % 256) as u8]);
            assert_eq!(l.check(a, t0), Ok(()));
            l.failure(a, t0);
        }
        let r = l.check(ip(9), t0 + Duration::from_secs(10));
        assert_eq!(r, Err(Refusal::Global(Duration::from_secs(50))));
        assert_eq!(l.check(ip(9), t0 + GLOBAL_WINDOW), Ok(()), "the window slides");
    }

    #[test]
    fn the_table_is_bounded() {
        let l = LoginLimiter::new();
        let t0 = Instant::now();
        for i in 0..MAX_TRACKED + 5 {
            let a = IpAddr::from((i as u128).to_be_bytes());
            l.failure(a, t0 + Duration::from_millis(i as u64));
        }
        assert_eq!(l.lock().per_ip.len(), MAX_TRACKED);
    }

    #[test]
    fn old_failures_are_forgotten() {
        let l = LoginLimiter::new();
        let t0 = Instant::now();
        for _ in 0..FREE_FAILURES {
            l.failure(ip(3), t0);
        }
        assert_eq!(l.failure(ip(3), t0 + FORGET_AFTER), Duration::ZERO);
    }
}
