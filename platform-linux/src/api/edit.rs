//! Partial edits as `failoverctl ... set` takes them: read the current object, apply the
//! fields given on the command line, send the whole object back. Values are checked
//! for form here (a CIDR, a controller letter); the service validates their meaning.

use std::net::IpAddr;

use super::types::{InterfaceJson, NetworkJson, SettingsJson};

/// Changes to the failover settings; `None` keeps the current value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SettingsChanges {
    /// Failover disabled.
    pub disabled: Option<bool>,
    /// Designated primary, `A` or `B`.
    pub primary: Option<String>,
    /// Failover timeout, milliseconds.
    pub timeout_ms: Option<u64>,
    /// Heartbeat interval, milliseconds.
    pub heartbeat_interval_ms: Option<u64>,
}

impl SettingsChanges {
    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `current` with the changes applied.
    pub fn apply(&self, mut current: SettingsJson) -> SettingsJson {
        set(&mut current.disabled, self.disabled);
        set(&mut current.primary, self.primary.clone());
        set(&mut current.timeout_ms, self.timeout_ms);
        set(&mut current.heartbeat_interval_ms, self.heartbeat_interval_ms);
        current
    }
}

/// Changes to one interface's failover fields; `None` keeps the current value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InterfaceChanges {
    /// Critical for failover.
    pub critical: Option<bool>,
    /// Failover group; `Some(None)` clears it.
    pub group: Option<Option<u8>>,
    /// VHID; `Some(None)` clears it.
    pub vhid: Option<Option<u8>>,
    /// This controller's addresses.
    pub addresses: Option<Vec<String>>,
    /// The peer controller's addresses.
    pub peer_addresses: Option<Vec<String>>,
    /// Virtual addresses.
    pub virtual_addresses: Option<Vec<String>>,
}

impl InterfaceChanges {
    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `current` with the changes applied.
    pub fn apply(&self, mut current: InterfaceJson) -> InterfaceJson {
        set(&mut current.critical, self.critical);
        set(&mut current.group, self.group);
        set(&mut current.vhid, self.vhid);
        set(&mut current.addresses, self.addresses.clone());
        set(&mut current.peer_addresses, self.peer_addresses.clone());
        set(&mut current.virtual_addresses, self.virtual_addresses.clone());
        current
    }
}

/// Changes to the hostnames; `None` keeps the current value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetworkChanges {
    /// Controller A's hostname.
    pub hostname_a: Option<String>,
    /// Controller B's hostname.
    pub hostname_b: Option<String>,
    /// The virtual hostname.
    pub hostname_virtual: Option<String>,
}

impl NetworkChanges {
    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `current` with the changes applied.
    pub fn apply(&self, mut current: NetworkJson) -> NetworkJson {
        set(&mut current.hostname_a, self.hostname_a.clone());
        set(&mut current.hostname_b, self.hostname_b.clone());
        set(&mut current.hostname_virtual, self.hostname_virtual.clone());
        current
    }
}

fn set<T>(field: &mut T, change: Option<T>) {
    if let Some(v) = change {
        *field = v;
    }
}

/// A controller letter, `A` or `B` (either case), upper-cased.
pub fn parse_controller(s: &str) -> Result<String, String> {
    match s.trim() {
        "A" | "a" => Ok("A".to_owned()),
        "B" | "b" => Ok("B".to_owned()),
        other => Err(format!("`{other}` is not a controller: expected A or B")),
    }
}

/// A number, or `none` to clear the field.
pub fn parse_optional_u8(s: &str) -> Result<Option<u8>, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    s.parse::<u8>().map(Some).map_err(|_| format!("`{s}` is not a number from 0 to 255 (or `none`)"))
}

/// A comma-separated list of CIDR addresses (`192.0.2.10/24,2001:db8::10/64`); an
/// empty string is the empty list.
pub fn parse_cidr_list(s: &str) -> Result<Vec<String>, String> {
    s.split(',').map(str::trim).filter(|p| !p.is_empty()).map(parse_cidr).collect()
}

/// One CIDR address, normalised (`address/prefix`).
pub fn parse_cidr(s: &str) -> Result<String, String> {
    let (addr, prefix) =
        s.split_once('/').ok_or_else(|| format!("`{s}` is not in CIDR form address/prefix"))?;
    let addr: IpAddr = addr.parse().map_err(|_| format!("`{s}`: `{addr}` is not an IP address"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    match prefix.parse::<u8>() {
        Ok(p) if p <= max => Ok(format!("{addr}/{p}")),
        _ => Err(format!("`{s}`: the prefix length must be 0 to {max}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_changes_keep_unset_fields() {
        let current = SettingsJson {
            disabled: true,
            primary: "A".into(),
            timeout_ms: 3000,
            heartbeat_interval_ms: 500,
        };
        let none = SettingsChanges::default();
        assert!(none.is_empty());
        assert_eq!(none.apply(current.clone()), current);
        let c =
            SettingsChanges { disabled: Some(false), timeout_ms: Some(6000), ..SettingsChanges::default() };
        assert!(!c.is_empty());
        assert_eq!(
            c.apply(current),
            SettingsJson {
                disabled: false,
                primary: "A".into(),
                timeout_ms: 6000,
                heartbeat_interval_ms: 500
            }
        );
    }

    #[test]
    fn interface_changes_can_clear_group_and_vhid() {
        let current = InterfaceJson {
            name: "eth0".into(),
            critical: true,
            group: Some(1),
            vhid: Some(10),
            addresses: vec!["10.0.0.2/24".into()],
            peer_addresses: vec![],
            virtual_addresses: vec!["10.0.0.1/24".into()],
            state: "MASTER".into(),
            carrier: true,
        };
        let c = InterfaceChanges {
            critical: Some(false),
            group: Some(None),
            peer_addresses: Some(vec!["10.0.0.3/24".into()]),
            ..InterfaceChanges::default()
        };
        let after = c.apply(current.clone());
        assert!(!after.critical);
        assert_eq!(after.group, None);
        assert_eq!(after.vhid, Some(10));
        assert_eq!(after.peer_addresses, vec!["10.0.0.3/24".to_owned()]);
        assert_eq!(after.virtual_addresses, current.virtual_addresses);
    }

    #[test]
    fn network_changes() {
        let current =
            NetworkJson { hostname_a: "a".into(), hostname_b: "b".into(), hostname_virtual: "v".into() };
        let c = NetworkChanges { hostname_virtual: Some("nas".into()), ..NetworkChanges::default() };
        assert_eq!(c.apply(current).hostname_virtual, "nas");
    }

    #[test]
    fn parsers() {
        assert_eq!(parse_controller("b"), Ok("B".into()));
        assert!(parse_controller("C").is_err());
        assert_eq!(parse_optional_u8("none"), Ok(None));
        assert_eq!(parse_optional_u8("12"), Ok(Some(12)));
        assert!(parse_optional_u8("256").is_err());
        assert_eq!(
            parse_cidr_list(" 192.0.2.10/24, 2001:db8::10/64 "),
            Ok(vec!["192.0.2.10/24".into(), "2001:db8::10/64".into()])
        );
        assert_eq!(parse_cidr_list(""), Ok(vec![]));
        assert!(parse_cidr_list("192.0.2.10").unwrap_err().contains("CIDR"));
        assert!(parse_cidr_list("192.0.2.10/33").unwrap_err().contains("0 to 32"));
        assert!(parse_cidr_list("nas/24").unwrap_err().contains("not an IP address"));
    }
}
