//! Human-readable renderings of the API types, as `failoverctl` prints them. Every
//! function returns the whole text, ending in a newline, so it can be tested as is.

use std::fmt::Write as _;

use failover_core::status::DisabledReason;

use super::types::{
    EventJson, InterfaceJson, LastFailover, NetworkJson, PathState, SettingsJson, StatusJson,
};

/// Printed (to stderr) before a manual sync, as the reference warns on its buttons.
pub const SYNC_WARNING: &str = "Warning: manual sync to or from the peer is for troubleshooting HA only. \
Synchronization is normally automatic: the active controller pushes every configuration change to the standby.";

/// Width of the label column of the key/value blocks.
const LABEL_WIDTH: usize = 16;

/// `failoverctl status`: node, status, epoch, peer verdict and per-path ages, the
/// disabled reasons spelled out, and the timings of the last takeover.
pub fn status(s: &StatusJson) -> String {
    let mut out = String::new();
    line(&mut out, "node", &format!("{} ({})", s.node, s.hostname));
    line(&mut out, "status", &format!("{} ({})", s.status, status_meaning(&s.status)));
    line(&mut out, "state", &s.state);
    line(&mut out, "epoch", &s.epoch.to_string());

    let mut peer = s.peer.verdict.replace('_', " ");
    if let Some(st) = &s.peer.status {
        let _ = write!(peer, ", reports {st}");
    }
    line(&mut out, "peer", &peer);
    line(&mut out, "  host link", &path_state(&s.peer.host_link));
    line(&mut out, "  bmc link", &s.peer.bmc_link.as_ref().map_or_else(|| "no BMC".to_owned(), path_state));
    let config = match &s.peer.config_digest {
        None => format!("{} (peer's not known yet)", s.config_digest),
        Some(p) if *p == s.config_digest => format!("{} (same as the peer's)", s.config_digest),
        Some(p) => format!("{} (peer has {p}: differs, sync pending)", s.config_digest),
    };
    line(&mut out, "config", &config);

    if s.disabled_reasons.is_empty() {
        line(&mut out, "failover", "available");
    } else {
        line(&mut out, "failover", "unavailable:");
        let width = s.disabled_reasons.iter().map(String::len).max().unwrap_or(0);
        for r in &s.disabled_reasons {
            let _ = writeln!(out, "  {r:<width$}  {}", disabled_reason_meaning(r));
        }
    }

    match &s.last_failover {
        None => line(&mut out, "last failover", "none"),
        Some(f) => {
            line(&mut out, "last failover", &format!("{} at epoch {}", f.cause.replace('_', " "), f.epoch));
            let _ = writeln!(out, "  {}", failover_timings(f));
        }
    }
    if s.passphrase_needed {
        line(&mut out, "passphrase", "needed: run `failoverctl unlock` to unlock the encrypted pools");
    }
    out
}

/// `failoverctl settings show`.
pub fn settings(s: &SettingsJson) -> String {
    let mut out = String::new();
    line(&mut out, "failover", if s.disabled { "disabled" } else { "enabled" });
    line(&mut out, "primary", &s.primary);
    line(&mut out, "timeout", &format!("{} ms", s.timeout_ms));
    line(&mut out, "heartbeat", &format!("every {} ms", s.heartbeat_interval_ms));
    out
}

/// `failoverctl interfaces`: one row per interface.
pub fn interfaces(list: &[InterfaceJson]) -> String {
    if list.is_empty() {
        return "no interfaces\n".to_owned();
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|i| {
            vec![
                i.name.clone(),
                yes_no(i.critical).to_owned(),
                opt(i.group),
                opt(i.vhid),
                list_or_dash(&i.addresses),
                list_or_dash(&i.peer_addresses),
                list_or_dash(&i.virtual_addresses),
                i.state.clone(),
                yes_no(i.carrier).to_owned(),
            ]
        })
        .collect();
    table(&["NAME", "CRITICAL", "GROUP", "VHID", "ADDRESSES", "PEER", "VIRTUAL", "STATE", "CARRIER"], &rows)
}

/// `failoverctl network show`.
pub fn network(n: &NetworkJson) -> String {
    let mut out = String::new();
    line(&mut out, "hostname (A)", &n.hostname_a);
    line(&mut out, "hostname (B)", &n.hostname_b);
    line(&mut out, "virtual", &format!("{} (also the Kerberos principal)", n.hostname_virtual));
    out
}

/// `failoverctl events`: `seconds since the service started  what`, oldest first.
pub fn events(list: &[EventJson]) -> String {
    if list.is_empty() {
        return "no events\n".to_owned();
    }
    let stamps: Vec<String> =
        list.iter().map(|e| format!("{}.{:03}", e.at_ms / 1000, e.at_ms % 1000)).collect();
    let width = stamps.iter().map(String::len).max().unwrap_or(0);
    let mut out = String::new();
    for (stamp, e) in stamps.iter().zip(list) {
        let _ = writeln!(out, "{stamp:>width$}s  {}", e.what);
    }
    out
}

/// What a status name means, in words.
pub fn status_meaning(status: &str) -> &'static str {
    match status {
        "MASTER" => "active",
        "BACKUP" => "standby",
        "ELECTING" => "deciding which controller is active",
        "IMPORTING" => "taking over: fencing the peer and importing pools",
        "ERROR" => "needs an administrator",
        "SINGLE" => "running alone, HA unavailable",
        _ => "unknown status",
    }
}

/// What a disabled reason means, in words. Knows every reason the core reports and
/// the reference's others; an unknown code is said to be unknown.
pub fn disabled_reason_meaning(code: &str) -> &'static str {
    if let Some(r) = DisabledReason::ALL.into_iter().find(|r| r.name() == code) {
        return match r {
            DisabledReason::AdminDisabled => "failover is disabled by the administrator",
            DisabledReason::NoPeer => "no heartbeat from the peer on any path",
            DisabledReason::NoHostLink => {
                "the host-to-host link is silent (the peer is seen by another path)"
            }
            DisabledReason::NoBmcLink => "the BMC path (host to BMC, or BMC to BMC) is silent",
            DisabledReason::NoCarrierOnHeartbeat => "the dedicated heartbeat link has no carrier",
            DisabledReason::ConfigMismatch => "the peer's configuration differs from ours",
            DisabledReason::DiskSetMismatch => "the peer sees a different set of shared disks",
            DisabledReason::VersionMismatch => "the peer runs a different software version",
            DisabledReason::NoCriticalInterfaces => "no interface is marked critical",
            DisabledReason::NoVip => "no virtual IP is configured",
            DisabledReason::NoPools => "no pool is configured",
            DisabledReason::FencingUnavailable => {
                "the disk fence (SCSI-3 persistent reservations) is unavailable"
            }
            DisabledReason::WatchdogUnavailable => "the hardware watchdog cannot be armed",
            DisabledReason::LocalFailoverInProgress => "this controller is in the middle of a failover",
            DisabledReason::RemoteFailoverInProgress => "the peer is in the middle of a failover",
        };
    }
    match code {
        "NO_LICENSE" => "no HA license",
        "MISMATCH_NICS" => "the controllers have different network interfaces",
        "DISAGREE_VIP" => "the controllers disagree on the virtual IPs",
        "NO_SYSTEM_READY" => "the peer has not finished booting",
        "NO_HEARTBEAT_IFACE" => "no heartbeat interface is configured",
        _ => "unknown reason",
    }
}

/// `up, last frame 120 ms ago` / `down, never heard`.
pub fn path_state(p: &PathState) -> String {
    let updown = if p.up { "up" } else { "down" };
    match p.last_seen_ms {
        None => format!("{updown}, never heard"),
        Some(ms) => format!("{updown}, last frame {} ago", age(ms)),
    }
}

/// A duration in milliseconds, compact: `850 ms`, `12.3 s`, `4 min 5 s`, `2 h 3 min`.
pub fn age(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{}.{} s", ms / 1000, ms % 1000 / 100),
        60_000..3_600_000 => format!("{} min {} s", ms / 60_000, ms % 60_000 / 1000),
        _ => format!("{} h {} min", ms / 3_600_000, ms % 3_600_000 / 60_000),
    }
}

/// `detect 2100.0 ms, fence 150.2 ms, import 800.0 ms, total 3050.2 ms`; a phase not
/// measured shows `-`.
pub fn failover_timings(f: &LastFailover) -> String {
    let ms = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1} ms"));
    format!(
        "detect {}, fence {}, import {}, total {}",
        ms(f.detect_ms),
        ms(f.fence_ms),
        ms(f.import_ms),
        ms(f.total_ms)
    )
}

fn line(out: &mut String, label: &str, value: &str) {
    let label = format!("{label}:");
    let _ = writeln!(out, "{label:<LABEL_WIDTH$}{value}");
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

fn list_or_dash(v: &[String]) -> String {
    if v.is_empty() { "-".to_owned() } else { v.join(",") }
}

/// Left-aligned columns two spaces apart, no trailing blanks.
fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut emit = |cells: &mut dyn Iterator<Item = &str>| {
        let mut l = String::new();
        for (cell, w) in cells.zip(&widths) {
            let _ = write!(l, "{cell:<w$}  ");
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    emit(&mut headers.iter().copied());
    for row in rows {
        emit(&mut row.iter().map(String::as_str));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::types::PeerJson;

    fn sample_status() -> StatusJson {
        StatusJson {
            node: "A".into(),
            hostname: "nas-a".into(),
            status: "MASTER".into(),
            state: "active".into(),
            epoch: 7,
            disabled_reasons: vec![],
            peer: PeerJson {
                verdict: "alive".into(),
                status: Some("BACKUP".into()),
                host_link: PathState { up: true, last_seen_ms: Some(120) },
                bmc_link: Some(PathState { up: false, last_seen_ms: None }),
                config_digest: Some("00112233aabbccdd".into()),
            },
            last_failover: Some(LastFailover {
                cause: "peer_silent".into(),
                epoch: 7,
                detect_ms: Some(2100.0),
                fence_ms: Some(150.25),
                import_ms: None,
                total_ms: Some(3050.25),
            }),
            passphrase_needed: false,
            config_digest: "00112233aabbccdd".into(),
        }
    }

    #[test]
    fn status_block_is_stable() {
        let expected = "\
node:           A (nas-a)
status:         MASTER (active)
state:          active
epoch:          7
peer:           alive, reports BACKUP
  host link:    up, last frame 120 ms ago
  bmc link:     down, never heard
config:         00112233aabbccdd (same as the peer's)
failover:       available
last failover:  peer silent at epoch 7
  detect 2100.0 ms, fence 150.2 ms, import -, total 3050.2 ms
";
        assert_eq!(status(&sample_status()), expected);
    }

    #[test]
    fn status_says_when_the_configurations_differ() {
        let mut s = sample_status();
        s.peer.config_digest = Some("ffeeddccbbaa9988".into());
        assert!(status(&s).contains(
            "config:         00112233aabbccdd (peer has ffeeddccbbaa9988: differs, sync pending)\n"
        ));
        s.peer.config_digest = None;
        assert!(status(&s).contains("config:         00112233aabbccdd (peer's not known yet)\n"));
    }

    #[test]
    fn status_spells_out_disabled_reasons_and_passphrase() {
        let mut s = sample_status();
        s.status = "BACKUP".into();
        s.disabled_reasons = vec!["NO_FAILOVER".into(), "NO_PONG".into(), "SOMETHING_NEW".into()];
        s.peer.verdict = "alive_via_bmc_only".into();
        s.peer.status = None;
        s.peer.bmc_link = None;
        s.last_failover = None;
        s.passphrase_needed = true;
        let text = status(&s);
        assert!(text.contains("status:         BACKUP (standby)\n"), "{text}");
        assert!(text.contains("peer:           alive via bmc only\n"), "{text}");
        assert!(text.contains("  bmc link:     no BMC\n"), "{text}");
        assert!(text.contains("failover:       unavailable:\n"), "{text}");
        assert!(text.contains("  NO_FAILOVER    failover is disabled by the administrator\n"), "{text}");
        assert!(text.contains("  NO_PONG        no heartbeat from the peer on any path\n"), "{text}");
        assert!(text.contains("  SOMETHING_NEW  unknown reason\n"), "{text}");
        assert!(text.contains("last failover:  none\n"), "{text}");
        assert!(text.contains("failoverctl unlock"), "{text}");
    }

    #[test]
    fn every_core_reason_is_explained() {
        for r in DisabledReason::ALL {
            assert_ne!(disabled_reason_meaning(r.name()), "unknown reason", "{}", r.name());
        }
        assert_eq!(disabled_reason_meaning("NO_LICENSE"), "no HA license");
    }

    #[test]
    fn ages_are_compact() {
        assert_eq!(age(0), "0 ms");
        assert_eq!(age(999), "999 ms");
        assert_eq!(age(1_000), "1.0 s");
        assert_eq!(age(12_345), "12.3 s");
        assert_eq!(age(245_000), "4 min 5 s");
        assert_eq!(age(7_380_000), "2 h 3 min");
    }

    #[test]
    fn settings_block() {
        let s = SettingsJson {
            disabled: true,
            primary: "B".into(),
            timeout_ms: 3000,
            heartbeat_interval_ms: 500,
        };
        assert_eq!(
            settings(&s),
            "failover:       disabled\nprimary:        B\ntimeout:        3000 ms\nheartbeat:      every 500 ms\n"
        );
    }

    #[test]
    fn interface_table_aligns_columns() {
        let list = vec![
            InterfaceJson {
                name: "eth0".into(),
                critical: true,
                group: Some(1),
                vhid: Some(10),
                addresses: vec!["10.0.0.2/24".into()],
                peer_addresses: vec!["10.0.0.3/24".into()],
                virtual_addresses: vec!["10.0.0.1/24".into(), "10.0.0.9/24".into()],
                state: "MASTER".into(),
                carrier: true,
            },
            InterfaceJson {
                name: "enp3s0f1".into(),
                critical: false,
                group: None,
                vhid: None,
                addresses: vec![],
                peer_addresses: vec![],
                virtual_addresses: vec![],
                state: "BACKUP".into(),
                carrier: false,
            },
        ];
        let expected = "\
NAME      CRITICAL  GROUP  VHID  ADDRESSES    PEER         VIRTUAL                  STATE   CARRIER
eth0      yes       1      10    10.0.0.2/24  10.0.0.3/24  10.0.0.1/24,10.0.0.9/24  MASTER  yes
enp3s0f1  no        -      -     -            -            -                        BACKUP  no
";
        assert_eq!(interfaces(&list), expected);
        assert_eq!(interfaces(&[]), "no interfaces\n");
    }

    #[test]
    fn network_block() {
        let n = NetworkJson {
            hostname_a: "nas-a".into(),
            hostname_b: "nas-b".into(),
            hostname_virtual: "nas".into(),
        };
        assert_eq!(
            network(&n),
            "hostname (A):   nas-a\nhostname (B):   nas-b\nvirtual:        nas (also the Kerberos principal)\n"
        );
    }

    #[test]
    fn events_are_right_aligned_seconds() {
        let list = vec![
            EventJson { at_ms: 5, what: "started".into() },
            EventJson { at_ms: 123_456, what: "became MASTER".into() },
        ];
        assert_eq!(events(&list), "  0.005s  started\n123.456s  became MASTER\n");
        assert_eq!(events(&[]), "no events\n");
    }
}
