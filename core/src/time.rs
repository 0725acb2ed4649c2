//! The core's own notion of time: microsecond [`Instant`]s and [`Duration`]s.
//!
//! The core never reads a clock. Hosts pass `now` into every call: the Linux service
//! from `CLOCK_MONOTONIC`, the firmware from its hardware timer, the simulator from
//! virtual time. Microseconds in a `u64` cover 584,000 years, so arithmetic saturates
//! rather than wrapping, and nothing here can panic.

use core::fmt;
use core::ops::{Add, Sub};

/// A point in time, in microseconds since an arbitrary per-host origin (usually boot).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    micros: u64,
}

/// A span of time in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration {
    micros: u64,
}

impl Instant {
    /// The origin of the host's clock.
    pub const ZERO: Self = Self { micros: 0 };

    /// An instant `micros` microseconds after the origin.
    pub const fn from_micros(micros: u64) -> Self {
        Self { micros }
    }

    /// An instant `millis` milliseconds after the origin.
    pub const fn from_millis(millis: u64) -> Self {
        Self { micros: millis.saturating_mul(1000) }
    }

    /// Microseconds since the origin.
    pub const fn micros(self) -> u64 {
        self.micros
    }

    /// Milliseconds since the origin, rounded down.
    pub const fn millis(self) -> u64 {
        self.micros / 1000
    }

    /// Time elapsed from `earlier` to `self`; zero if `earlier` is later (a clock that
    /// stepped back must never make a peer look silent for longer).
    pub const fn saturating_since(self, earlier: Self) -> Duration {
        Duration { micros: self.micros.saturating_sub(earlier.micros) }
    }
}

impl Duration {
    /// No time at all.
    pub const ZERO: Self = Self { micros: 0 };
    /// The longest representable span; used as "never".
    pub const MAX: Self = Self { micros: u64::MAX };

    /// A span of `micros` microseconds.
    pub const fn from_micros(micros: u64) -> Self {
        Self { micros }
    }

    /// A span of `millis` milliseconds.
    pub const fn from_millis(millis: u64) -> Self {
        Self { micros: millis.saturating_mul(1000) }
    }

    /// A span of `secs` seconds.
    pub const fn from_secs(secs: u64) -> Self {
        Self { micros: secs.saturating_mul(1_000_000) }
    }

    /// The span in microseconds.
    pub const fn micros(self) -> u64 {
        self.micros
    }

    /// The span in milliseconds, rounded down.
    pub const fn millis(self) -> u64 {
        self.micros / 1000
    }

    /// The span in milliseconds as a `u32`, saturating (wire fields carry ages this way).
    pub const fn millis_u32(self) -> u32 {
        let ms = self.micros / 1000;
        if ms > u32::MAX as u64 { u32::MAX } else { ms as u32 }
    }

    /// `self * n`, saturating.
    pub const fn saturating_mul(self, n: u64) -> Self {
        Self { micros: self.micros.saturating_mul(n) }
    }
}

impl Add<Duration> for Instant {
    type Output = Self;
    fn add(self, rhs: Duration) -> Self {
        Self { micros: self.micros.saturating_add(rhs.micros) }
    }
}

impl Sub<Duration> for Instant {
    type Output = Self;
    fn sub(self, rhs: Duration) -> Self {
        Self { micros: self.micros.saturating_sub(rhs.micros) }
    }
}

impl Add for Duration {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        Self { micros: self.micros.saturating_add(rhs.micros) }
    }
}

impl Sub for Duration {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        Self { micros: self.micros.saturating_sub(rhs.micros) }
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}ms", self.micros / 1000, self.micros % 1000)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}ms", self.micros / 1000, self.micros % 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_instead_of_panicking() {
        assert_eq!(Instant::from_micros(u64::MAX) + Duration::from_micros(1), Instant::from_micros(u64::MAX));
        assert_eq!(Instant::from_micros(5) - Duration::from_micros(9), Instant::ZERO);
        assert_eq!(Instant::from_millis(1).saturating_since(Instant::from_millis(2)), Duration::ZERO);
        assert_eq!(Duration::MAX.millis_u32(), u32::MAX);
        assert_eq!(Duration::from_millis(1500).millis_u32(), 1500);
    }
}
