//! The failover settings an administrator sets (the reference's System > Failover
//! screen) and their validation.

use crate::time::Duration;
use crate::wire::Controller;

/// Default heartbeat interval: 10 ms. A UDP datagram every 10 ms is negligible load,
/// and it is what lets a failover decision come in tens of milliseconds instead of the
/// reference's ~2.2 s VRRP master-down interval.
pub const DEFAULT_HEARTBEAT_INTERVAL_MS: u64 = 10;

/// Default failover timeout: 50 ms, five heartbeat intervals. Every path to the peer
/// must stay silent this long before the peer is judged dead (a BMC's positive report
/// of a hung or dead host acts sooner). Five intervals ride out four lost datagrams in
/// a row or a scheduling hiccup of ~40 ms on a real-time heartbeat thread.
pub const DEFAULT_FAILOVER_TIMEOUT_MS: u64 = 50;

/// Longest failover timeout accepted: 120 s, as in the reference.
pub const MAX_FAILOVER_TIMEOUT_MS: u64 = 120_000;

/// Shortest heartbeat interval accepted: 1 ms.
pub const MIN_HEARTBEAT_INTERVAL_MS: u64 = 1;

/// Longest heartbeat interval accepted: 10 s.
pub const MAX_HEARTBEAT_INTERVAL_MS: u64 = 10_000;

/// The administrator's failover settings; identical on both controllers (they are part
/// of the synchronised configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Settings {
    /// Failover disabled: nothing moves automatically; an admin forced takeover still
    /// works. With failover disabled both controllers boot as standby.
    pub disabled: bool,
    /// The designated primary ("default controller"): wins a simultaneous boot. There is
    /// no automatic failback to it.
    pub primary: Controller,
    /// How long every path to the peer must be silent (or a critical failover group be
    /// down) before failing over ("timeout after a network interruption").
    pub failover_timeout: Duration,
    /// How often heartbeats are sent on every path.
    pub heartbeat_interval: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            disabled: false,
            primary: Controller::A,
            failover_timeout: Duration::from_millis(DEFAULT_FAILOVER_TIMEOUT_MS),
            heartbeat_interval: Duration::from_millis(DEFAULT_HEARTBEAT_INTERVAL_MS),
        }
    }
}

/// A rejected setting, naming the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SettingsError {
    /// `heartbeat_interval` outside 1 ms ..= 10 s.
    HeartbeatInterval,
    /// `failover_timeout` above 120 s or below three heartbeat intervals.
    FailoverTimeout,
}

impl core::fmt::Display for SettingsError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::HeartbeatInterval => "heartbeat_interval must be between 1 ms and 10 s",
            Self::FailoverTimeout => {
                "failover_timeout must be at least three heartbeat intervals and at most 120 s"
            }
        })
    }
}

impl Settings {
    /// Check the settings; the error names the first bad field.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let hb = self.heartbeat_interval.millis();
        if self.heartbeat_interval.micros() < MIN_HEARTBEAT_INTERVAL_MS * 1000
            || hb > MAX_HEARTBEAT_INTERVAL_MS
        {
            return Err(SettingsError::HeartbeatInterval);
        }
        // Fewer than three intervals and a single lost datagram plus jitter would fail over.
        if self.failover_timeout < self.heartbeat_interval.saturating_mul(3)
            || self.failover_timeout.millis() > MAX_FAILOVER_TIMEOUT_MS
        {
            return Err(SettingsError::FailoverTimeout);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_fields_are_named() {
        assert_eq!(Settings::default().validate(), Ok(()));
        let s = Settings { heartbeat_interval: Duration::ZERO, ..Settings::default() };
        assert_eq!(s.validate(), Err(SettingsError::HeartbeatInterval));
        let s = Settings { heartbeat_interval: Duration::from_secs(11), ..Settings::default() };
        assert_eq!(s.validate(), Err(SettingsError::HeartbeatInterval));
        let s = Settings { failover_timeout: Duration::from_millis(20), ..Settings::default() };
        assert_eq!(s.validate(), Err(SettingsError::FailoverTimeout));
        let s = Settings { failover_timeout: Duration::from_secs(121), ..Settings::default() };
        assert_eq!(s.validate(), Err(SettingsError::FailoverTimeout));
    }
}
