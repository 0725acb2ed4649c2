//! The shared part of a test controller's configuration (`[failover]` through
//! `[[pools]]`), written once for every rig that starts real `failoverd` processes:
//! both controllers must carry it byte for byte alike (its digest is compared in every
//! heartbeat), so each rig builds A's and B's from the same call.

use std::fmt::Write as _;

/// What differs between the rigs.
#[derive(Clone, Copy, Debug)]
pub struct SharedToml<'a> {
    /// `timeout_ms`.
    pub timeout_ms: u64,
    /// `heartbeat_interval_ms`.
    pub heartbeat_ms: u64,
    /// `reservation_check_ms`, when not the default.
    pub check_ms: Option<u64>,
    /// The critical interface carrying the virtual IP.
    pub interface: &'a str,
    /// The virtual IP (a /24 on `interface`).
    pub vip: &'a str,
    /// More `[[interfaces]]` tables, verbatim.
    pub more_interfaces: &'a str,
    /// The pool `tank` is encrypted.
    pub encrypted: bool,
}

impl SharedToml<'_> {
    /// The TOML text.
    pub fn render(&self) -> String {
        let mut out = format!(
            "[failover]\ndisabled = false\nprimary = \"A\"\ntimeout_ms = {}\nheartbeat_interval_ms = {}\n",
            self.timeout_ms, self.heartbeat_ms
        );
        if let Some(ms) = self.check_ms {
            let _ = writeln!(out, "reservation_check_ms = {ms}");
        }
        let _ = write!(
            out,
            r#"
[network]
hostname_a = "nas-a"
hostname_b = "nas-b"
hostname_virtual = "nas"

[[interfaces]]
name = "{}"
critical = true
group = 1
vhid = 10
addresses_a = ["192.0.2.10/24"]
addresses_b = ["192.0.2.11/24"]
virtual = ["{}/24"]
{}
[[pools]]
name = "tank"
import_hook = ["true"]
export_hook = ["true"]
"#,
            self.interface, self.vip, self.more_interfaces
        );
        if self.encrypted {
            out.push_str("encrypted = true\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_what_the_daemon_parses() {
        let text = SharedToml {
            timeout_ms: 300,
            heartbeat_ms: 20,
            check_ms: Some(100),
            interface: "pub0",
            vip: "192.0.2.100",
            more_interfaces: "\n[[interfaces]]\nname = \"eth1\"\naddresses_a = [\"203.0.113.10/24\"]\naddresses_b = [\"203.0.113.11/24\"]\n",
            encrypted: true,
        }
        .render();
        let shared = failover_linux::config::SharedConfig::from_toml(&text).expect("the daemon takes it");
        assert_eq!(shared.failover.timeout_ms, 300);
        assert_eq!(shared.failover.reservation_check_ms, 100);
        assert_eq!(shared.interfaces.len(), 2);
        assert!(shared.pools[0].encrypted);
    }
}
