//! One test per rejection, the example files, sync round trips and digests.

use std::path::{Path, PathBuf};

use failover_core::node::SettingsError;
use failover_core::time::Duration as CoreDuration;
use failover_core::wire::{Controller, MAX_GROUPS, MacKey};

use super::*;

const A: &str = include_str!("../../examples/controller-a.toml");
const B: &str = include_str!("../../examples/controller-b.toml");
const KEY: [u8; 32] = [7; 32];

fn p(text: &str) -> Result<Config, ConfigErrors> {
    parse(text, Path::new("test.toml"))
}

/// Controller A's example with `from` replaced by `to` (which must be there).
fn edit(from: &str, to: &str) -> String {
    assert!(A.contains(from), "{from:?} not in the example");
    A.replacen(from, to, 1)
}

/// Controller A's example naming `key` as its key file.
fn with_key_file(key: &Path) -> String {
    edit(
        "key_file = \"/tmp/failoverd-demo/link.key\"",
        &format!("key_file = {:?}", key.to_str().expect("utf-8")),
    )
}

/// Parse `text`, expect a rejection at `key`, return the reason.
fn rejected(text: &str, key: &str) -> ConfigErrors {
    match p(text) {
        Ok(_) => panic!("accepted; expected a problem at {key}"),
        Err(e) => {
            assert!(e.has_key(key), "no problem at {key}; got:\n{e}");
            e
        }
    }
}

fn reason<'a>(e: &'a ConfigErrors, key: &str) -> &'a Reason {
    e.find(key).expect("a problem at the key")
}

/// A temporary directory with a key file (raw bytes) in it.
fn key_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("link.key");
    std::fs::write(&key, KEY).expect("write key");
    (dir, key)
}

/// `parse` + the key injected from a key file, as `load` would.
fn parse_with_key(text: &str, key_file: &Path) -> Config {
    let cfg = p(text).expect("valid");
    assert_eq!(cfg.local.link.key, None, "parse reads no key");
    cfg.with_key(LinkKey::read(key_file).expect("key"))
}

// ---------------------------------------------------------------- examples ----------

#[test]
fn both_examples_parse() {
    let (_dir, key) = key_dir();
    let a = parse_with_key(A, &key);
    let b = parse_with_key(B, &key);
    assert_eq!(a.local.controller, Controller::A);
    assert_eq!(b.local.controller, Controller::B);
    assert_eq!(a.local.link.local, b.local.link.peer);
    assert_eq!(a.local.link.peer, b.local.link.local);
    assert_eq!(a.local.link.key, Some(LinkKey(KEY)));
    assert_eq!(a.hostname(), "nas-a");
    assert_eq!(b.hostname(), "nas-b");
    assert_eq!(a.shared, b.shared);
    assert_eq!(a.shared.interfaces.len(), 3);
    assert_eq!(a.shared.interfaces[1].virtual_addresses.len(), 2);
    assert_eq!(a.shared.interfaces[1].addresses(Controller::B)[1].to_string(), "fd00:db8::11/64");
    assert_eq!(a.shared.pools[0].name, "tank");
    assert!(matches!(a.local.backends.disk, DiskBackend::Sim { disks: 4, .. }));
    assert!(matches!(a.local.backends.watchdog, WatchdogBackend::Sim { .. }));
    assert_eq!(a.local.bmc, None);
    assert_eq!(a.local.realtime, RealtimeConfig { priority: 50, lock_memory: true });
    assert!(a.local.api.tcp.is_some());
}

#[test]
fn examples_share_a_digest_and_a_shared_change_changes_it() {
    let a = p(A).expect("A").shared;
    let b = p(B).expect("B").shared;
    assert_eq!(a.digest(), b.digest());
    for (from, to) in [
        ("timeout_ms = 50", "timeout_ms = 60"),
        ("disabled = false", "disabled = true"),
        ("primary = \"A\"", "primary = \"B\""),
        ("hostname_virtual = \"nas\"", "hostname_virtual = \"nas2\""),
        ("vhid = 11", "vhid = 12"),
        ("virtual = [\"192.0.2.100/24\"]", "virtual = [\"192.0.2.100/25\"]"),
        ("hook_timeout_ms = 30000", "hook_timeout_ms = 30001"),
        ("encrypted = false", "encrypted = true"),
        ("reset_peer_on_fence = true", "reset_peer_on_fence = false"),
    ] {
        let changed = p(&edit(from, to)).expect("valid").shared;
        assert_ne!(changed.digest(), a.digest(), "{from} -> {to}");
    }
    // Local values are not part of it.
    let local = p(&edit("priority = 50", "priority = 60")).expect("valid").shared;
    assert_eq!(local.digest(), a.digest());
}

#[test]
fn digest_ignores_formatting_defaults_and_entry_order_but_not_address_order() {
    let a = p(A).expect("A").shared;
    // Defaults written out or left implicit, comments, spacing: the same meaning.
    let implicit = edit("reservation_check_ms = 100\n", "").replace("# ", "#  ");
    assert_eq!(p(&implicit).expect("valid").shared.digest(), a.digest());
    // Interfaces in another order.
    let mut reordered = a.clone();
    reordered.interfaces.reverse();
    assert_eq!(reordered.digest(), a.digest());
    // An IPv6 address written differently.
    let long = edit("\"fd00:db8::10/64\"", "\"fd00:0db8:0::10/64\"");
    assert_eq!(p(&long).expect("valid").shared.digest(), a.digest());
    // Address pairs in another order are a different configuration.
    let mut swapped = a.clone();
    swapped.interfaces[1].virtual_addresses.reverse();
    assert_ne!(swapped.digest(), a.digest());
}

#[test]
fn shared_part_round_trips_through_toml_with_its_digest() {
    let a = p(A).expect("A").shared;
    let text = a.to_toml();
    let back = SharedConfig::from_toml(&text).expect("round trip");
    assert_eq!(back, a);
    assert_eq!(back.digest(), a.digest());
    // Default hooks stay default.
    let defaults = edit("import_hook = [\"echo\", \"demo: import tank\"]\n", "");
    let s = p(&defaults).expect("valid").shared;
    assert_eq!(SharedConfig::from_toml(&s.to_toml()).expect("round trip"), s);
}

#[test]
fn shared_part_from_the_peer_accepts_only_shared_sections() {
    let a = p(A).expect("A").shared;
    let text = format!("[node]\ncontroller = \"B\"\n{}", a.to_toml());
    let e = SharedConfig::from_toml(&text).expect_err("local section");
    assert!(matches!(e.find("node"), Some(Reason::UnknownKey { .. })), "{e}");
    assert_eq!(e.errors()[0].file, Path::new(SHARED_SOURCE));
    let e = SharedConfig::from_toml("[failover]\ntimeout_ms = 1\n").expect_err("bad");
    assert!(e.has_key("failover.timeout_ms") && e.has_key("network"), "{e}");
}

#[test]
fn the_simulated_workload_is_on_unless_switched_off_and_round_trips() {
    let (_dir, key) = key_dir();
    let a = parse_with_key(A, &key);
    assert!(matches!(a.local.backends.disk, DiskBackend::Sim { workload: true, .. }));
    assert!(!a.to_toml().contains("workload"), "the default is not written out");
    let text = edit(
        "disk = { kind = \"sim\", path = \"/tmp/failoverd-demo/disks\", disks = 4 }",
        "disk = { kind = \"sim\", path = \"/tmp/failoverd-demo/disks\", disks = 4, workload = false }",
    );
    let off = p(&text).expect("parses");
    assert!(matches!(off.local.backends.disk, DiskBackend::Sim { workload: false, .. }));
    assert_eq!(p(&off.to_toml()).expect("round trip").local.backends.disk, off.local.backends.disk);
    let bad = edit(
        "disk = { kind = \"sim\", path = \"/tmp/failoverd-demo/disks\", disks = 4 }",
        "disk = { kind = \"sim\", path = \"/tmp/failoverd-demo/disks\", disks = 4, workload = \"no\" }",
    );
    let e = p(&bad).expect_err("a string is not a bool").to_string();
    assert!(e.contains("backends.disk"), "{e}");
}

#[test]
fn whole_config_round_trips_through_toml() {
    let (_dir, key) = key_dir();
    let a = parse_with_key(A, &key);
    let back = p(&a.to_toml()).expect("round trip").with_key(LinkKey(KEY));
    assert_eq!(back, a);
    // Every backend kind and the optional sections survive too.
    let text = edit(
        "disk = { kind = \"sim\", path = \"/tmp/failoverd-demo/disks\", disks = 4 }",
        "disk = { kind = \"scsi\", devices = [\"/dev/sg1\", \"/dev/sg2\"], preempt = \"preempt\" }",
    )
    .replace(
        "watchdog = { kind = \"sim\", path = \"/tmp/failoverd-demo/a/watchdog\", timeout_ms = 1000 }",
        "watchdog = { kind = \"device\", path = \"/dev/watchdog0\", timeout_s = 10 }",
    )
    .replace(
        "enclosure = { kind = \"sim\", path = \"/tmp/failoverd-demo/enclosure\" }",
        "enclosure = { kind = \"i2c\", bus = \"/dev/i2c-0\", address = 0x1c }",
    )
    .replace(
        "peer_reset = { kind = \"sim\", path = \"/tmp/failoverd-demo/pids\" }",
        "peer_reset = { kind = \"gpio\", chip = \"gpiochip0\", line = \"peer-reset\" }",
    )
    .replace("# [bmc]\n# serial = \"/dev/ttyS1\"\n# baud = 115200", "[bmc]\nserial = \"/dev/ttyS1\"")
    .replace("# interface = \"ntb0\"", "interface = \"ntb0\"");
    let c = p(&text).expect("valid");
    assert_eq!(c.local.bmc, Some(BmcConfig { serial: "/dev/ttyS1".into(), baud: 115_200 }));
    assert_eq!(c.local.backends.enclosure, EnclosureBackend::I2c { bus: "/dev/i2c-0".into(), address: 0x1c });
    assert_eq!(c.local.link.interface.as_deref(), Some("ntb0"));
    assert_eq!(p(&c.to_toml()).expect("round trip"), c);
    // And the none kinds.
    let none = edit(
        "watchdog = { kind = \"sim\", path = \"/tmp/failoverd-demo/a/watchdog\", timeout_ms = 1000 }",
        "watchdog = { kind = \"none\" }",
    );
    let c = p(&none).expect("valid");
    assert_eq!(c.local.backends.watchdog, WatchdogBackend::None);
    assert_eq!(p(&c.to_toml()).expect("round trip"), c);
}

/// The smallest valid file.
const MINIMAL: &str = "[node]\ncontroller = \"B\"\n\
    [link]\nlocal = \"[fe80::1]:7600\"\npeer = \"[fe80::2]:7600\"\nkey_file = \"k\"\n\
    [network]\nhostname_a = \"a\"\nhostname_b = \"b\"\nhostname_virtual = \"v\"\n\
    [backends]\ndisk = { kind = \"scsi\", devices = [\"/dev/sg1\"] }\n";

#[test]
fn sections_with_defaults_may_be_left_out() {
    let c = p(MINIMAL).expect("valid");
    assert_eq!(c.local.state_file, Path::new("/var/lib/failoverd/state"));
    assert_eq!(c.local.api.socket, Path::new("/run/failoverd/failoverd.sock"));
    assert_eq!(c.local.realtime, RealtimeConfig { priority: 50, lock_memory: true });
    assert_eq!(c.local.backends.watchdog, WatchdogBackend::None);
    assert_eq!(c.local.backends.enclosure, EnclosureBackend::None);
    assert_eq!(c.local.backends.peer_reset, PeerResetBackend::None);
    assert_eq!(
        c.local.backends.disk,
        DiskBackend::Scsi { devices: vec!["/dev/sg1".into()], preempt: PreemptMode::PreemptAndAbort }
    );
    assert_eq!(c.shared.settings(), failover_core::node::Settings::default());
    assert_eq!(c.shared.failover.boot_listen_ms, 1000);
    assert_eq!(c.shared.failover.reservation_check_ms, 100);
    assert!(c.shared.interfaces.is_empty() && c.shared.pools.is_empty());
}

#[test]
fn pool_hooks_default_to_zpool_with_the_pool_name() {
    let text = edit(
        "import_hook = [\"echo\", \"demo: import tank\"]\nexport_hook = [\"echo\", \"demo: export tank\"]\n",
        "",
    );
    let pool = &p(&text).expect("valid").shared.pools[0];
    assert_eq!(pool.import_hook, ["zpool", "import", "-f", "-N", "-o", "cachefile=none", "tank"]);
    assert_eq!(pool.export_hook, ["zpool", "export", "tank"]);
}

// ---------------------------------------------------------------- core ----------

#[test]
fn host_config_carries_identity_settings_and_state() {
    let (_dir, key) = key_dir();
    let a = parse_with_key(&edit("timeout_ms = 50", "timeout_ms = 70"), &key);
    let h = a.host_config(9, 41, Some(40));
    assert_eq!(h.controller, Controller::A);
    assert_eq!(h.boot_id, 9);
    assert_eq!(h.key, MacKey::new(KEY));
    assert_eq!(h.persisted_epoch, 41);
    assert_eq!(h.fenced_marker, Some(40));
    assert_eq!(h.settings.failover_timeout, CoreDuration::from_millis(70));
    assert_eq!(h.settings.heartbeat_interval, CoreDuration::from_millis(10));
    assert_eq!(h.settings.primary, Controller::A);
    assert!(!h.settings.disabled);
    assert_eq!(h.boot_listen, CoreDuration::from_millis(1000));
    assert_eq!(h.reservation_check_interval, CoreDuration::from_millis(100));
    assert!(!h.has_bmc);
    assert!(h.reset_peer_on_fence);
    assert_eq!(h.version, SOFTWARE_VERSION);
    let with_bmc = edit("# [bmc]\n# serial = \"/dev/ttyS1\"", "[bmc]\nserial = \"/dev/ttyS1\"");
    assert!(parse_with_key(&with_bmc, &key).host_config(1, 0, None).has_bmc);
}

// ---------------------------------------------------------------- load / key ----------

#[test]
fn load_reads_the_key_file_named_in_the_config() {
    let (dir, key) = key_dir();
    let cfg_path = dir.path().join("a.toml");
    let text = with_key_file(&key);
    std::fs::write(&cfg_path, &text).expect("write");
    let c = load(&cfg_path).expect("loads");
    assert_eq!(c.local.link.key, Some(LinkKey(KEY)));
    // Hex with a newline works the same.
    std::fs::write(&key, format!("{}\n", hex::encode(KEY))).expect("write");
    assert_eq!(load(&cfg_path).expect("loads").local.link.key, Some(LinkKey(KEY)));
}

#[test]
fn load_rejects_a_bad_key_file_naming_it() {
    let (dir, key) = key_dir();
    std::fs::write(&key, [1u8; 31]).expect("write");
    let cfg_path = dir.path().join("a.toml");
    let text = with_key_file(&key);
    std::fs::write(&cfg_path, &text).expect("write");
    let e = load(&cfg_path).expect_err("short key");
    match reason(&e, "link.key_file") {
        Reason::KeyFile { path, problem: KeyProblem::Length { len: 31 } } => assert_eq!(path, &key),
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains(key.to_str().expect("utf-8")), "{e}");
    assert!(e.to_string().starts_with(&format!("{}: link.key_file: key file ", cfg_path.display())), "{e}");
}

#[test]
fn load_rejects_a_missing_key_file_with_the_other_problems() {
    let (dir, _key) = key_dir();
    let cfg_path = dir.path().join("a.toml");
    let missing = dir.path().join("nope.key");
    let text = with_key_file(&missing).replace("priority = 50", "priority = 0");
    std::fs::write(&cfg_path, &text).expect("write");
    let e = load(&cfg_path).expect_err("missing key");
    match reason(&e, "link.key_file") {
        Reason::Read { path, .. } => assert_eq!(path, &missing),
        other => panic!("{other:?}"),
    }
    assert!(e.has_key("realtime.priority"), "{e}");
}

#[test]
fn load_reports_an_unreadable_config_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = load(&dir.path().join("absent.toml")).expect_err("absent");
    assert!(matches!(e.errors()[0].reason, Reason::Read { .. }));
    assert_eq!(e.errors()[0].key, "");
}

#[test]
fn key_file_formats() {
    assert_eq!(LinkKey::parse(&KEY), Ok(LinkKey(KEY)));
    let hex = hex::encode(KEY);
    assert_eq!(LinkKey::parse(hex.as_bytes()), Ok(LinkKey(KEY)));
    assert_eq!(LinkKey::parse(format!("{hex}\n").as_bytes()), Ok(LinkKey(KEY)));
    assert_eq!(LinkKey::parse(format!("{hex}\r\n").as_bytes()), Ok(LinkKey(KEY)));
    assert_eq!(LinkKey::parse(hex.to_uppercase().as_bytes()), Ok(LinkKey(KEY)));
    assert_eq!(LinkKey::parse(&[0; 33]), Err(KeyProblem::Length { len: 33 }));
    assert_eq!(LinkKey::parse(&[]), Err(KeyProblem::Length { len: 0 }));
    assert_eq!(LinkKey::parse(format!("{hex}\n\n").as_bytes()), Err(KeyProblem::Length { len: 66 }));
    assert_eq!(LinkKey::parse(&[b'g'; 64]), Err(KeyProblem::NotHex));
    assert_eq!(format!("{:?}", LinkKey(KEY)), "LinkKey(..)");
}

// ---------------------------------------------------------------- errors ----------

#[test]
fn every_problem_is_reported_one_per_line() {
    let text = edit("controller = \"A\"", "controller = \"C\"")
        .replace("priority = 50", "priority = 100")
        .replace("vhid = 11", "vhid = 10")
        .replace("hostname_b = \"nas-b\"", "hostname_b = \"nas_b\"");
    let e = p(&text).expect_err("four problems");
    assert_eq!(e.errors().len(), 4, "{e}");
    let lines: Vec<String> = e.to_string().lines().map(String::from).collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0], "test.toml: node.controller: must be \"A\" or \"B\", found \"C\"");
    assert!(lines.contains(&"test.toml: realtime.priority: must be between 1 and 99, found 100".to_owned()));
    assert!(
        lines.contains(&"test.toml: interfaces[1].vhid: 10 is already used by interfaces[0].vhid".to_owned())
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("test.toml: network.hostname_b: \"nas_b\" is not a valid host name"))
    );
}

#[test]
fn syntax_errors_give_line_and_column() {
    let e = rejected(&edit("\n[network]\n", "\n[network\n"), "");
    match reason(&e, "") {
        Reason::Syntax { line, .. } => {
            assert_eq!(*line, A.lines().position(|l| l == "[network]").expect("line") + 1)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn rejects_unknown_keys_naming_them() {
    let e = rejected(&format!("extra = 1\n{A}"), "extra");
    assert!(
        matches!(reason(&e, "extra"), Reason::UnknownKey { expected } if expected.starts_with("`node`, `link`"))
    );
    let e = rejected(&edit("timeout_ms = 50", "timout_ms = 50"), "failover.timout_ms");
    assert!(matches!(reason(&e, "failover.timout_ms"), Reason::UnknownKey { .. }));
    assert!(
        e.to_string()
            .contains("failover.timout_ms: unknown key (expected one of `disabled`, `primary`, `timeout_ms`"),
        "{e}"
    );
    let e = rejected(&edit("vhid = 11", "vhid = 11\nvhidd = 3"), "interfaces[1].vhidd");
    assert!(matches!(reason(&e, "interfaces[1].vhidd"), Reason::UnknownKey { .. }));
    let e = rejected(&edit("disks = 4", "disks = 4, colour = \"red\""), "backends.disk.colour");
    assert!(matches!(reason(&e, "backends.disk.colour"), Reason::UnknownKey { .. }));
    rejected(
        &edit("watchdog = { kind = \"sim\"", "watchdog = { kind = \"sim\", x = 1"),
        "backends.watchdog.x",
    );
    rejected(&edit("[backends]", "[backends]\nfan = { kind = \"none\" }"), "backends.fan");
    rejected(
        &edit(
            "watchdog = { kind = \"sim\", path = \"/tmp/failoverd-demo/a/watchdog\", timeout_ms = 1000 }",
            "watchdog = { kind = \"none\", path = \"x\" }",
        ),
        "backends.watchdog.path",
    );
}

#[test]
fn rejects_missing_sections_and_keys() {
    let e = rejected(&edit("[node]\n", "[nodes]\n"), "node");
    assert!(matches!(reason(&e, "node"), Reason::Missing));
    assert!(e.has_key("nodes"));
    let e = rejected(&edit("key_file = \"/tmp/failoverd-demo/link.key\"\n", ""), "link.key_file");
    assert!(matches!(reason(&e, "link.key_file"), Reason::Missing));
    rejected(&edit("hostname_virtual = \"nas\"\n", ""), "network.hostname_virtual");
    rejected(&edit("name = \"eth1\"\n", ""), "interfaces[1].name");
}

#[test]
fn rejects_wrong_types_at_the_key() {
    let e = rejected(&edit("timeout_ms = 50", "timeout_ms = \"50\""), "failover.timeout_ms");
    assert!(matches!(reason(&e, "failover.timeout_ms"), Reason::WrongType { .. }));
    rejected(
        &edit("addresses_a = [\"192.0.2.10/24\"]", "addresses_a = [\"192.0.2.10/24\", 5]"),
        "interfaces[0].addresses_a[1]",
    );
    let e = rejected(&format!("interfaces = 3\n{MINIMAL}"), "interfaces");
    assert!(matches!(reason(&e, "interfaces"), Reason::WrongType { .. }));
    let e = rejected(&format!("interfaces = [1]\n{MINIMAL}"), "interfaces[0]");
    assert!(e.to_string().ends_with("interfaces[0]: invalid type: integer `1`, expected a table"), "{e}");
    let e = rejected(&edit("priority = 50", "priority = \"high\""), "realtime.priority");
    assert!(e.to_string().ends_with("expected an integer"), "{e}");
    rejected(&edit("[[pools]]\nname = \"tank\"", "[pools]\nname = \"tank\""), "pools");
}

#[test]
fn rejects_a_bad_controller() {
    let e = rejected(&edit("controller = \"A\"", "controller = \"a\""), "node.controller");
    assert!(matches!(reason(&e, "node.controller"), Reason::Controller { found } if found == "a"));
}

#[test]
fn rejects_bad_link_addresses() {
    let e = rejected(&edit("local = \"127.0.10.1:7600\"", "local = \"127.0.10.1\""), "link.local");
    assert!(matches!(reason(&e, "link.local"), Reason::SocketAddr { .. }));
    let e = rejected(&edit("peer = \"127.0.10.2:7600\"", "peer = \"127.0.10.2:0\""), "link.peer");
    assert!(matches!(reason(&e, "link.peer"), Reason::PortZero));
    let e = rejected(&edit("peer = \"127.0.10.2:7600\"", "peer = \"127.0.10.1:7600\""), "link.peer");
    assert!(matches!(reason(&e, "link.peer"), Reason::SameAddress { .. }));
    let e = rejected(&edit("# interface = \"ntb0\"", "interface = \"a/b\""), "link.interface");
    assert!(matches!(reason(&e, "link.interface"), Reason::InterfaceName { .. }));
    let e =
        rejected(&edit("key_file = \"/tmp/failoverd-demo/link.key\"", "key_file = \"\""), "link.key_file");
    assert!(matches!(reason(&e, "link.key_file"), Reason::Empty));
}

#[test]
fn rejects_settings_the_core_refuses_at_the_right_key() {
    let e = rejected(
        &edit("heartbeat_interval_ms = 10", "heartbeat_interval_ms = 0"),
        "failover.heartbeat_interval_ms",
    );
    assert!(matches!(
        reason(&e, "failover.heartbeat_interval_ms"),
        Reason::Settings(SettingsError::HeartbeatInterval)
    ));
    let e = rejected(&edit("timeout_ms = 50", "timeout_ms = 29"), "failover.timeout_ms");
    assert!(matches!(reason(&e, "failover.timeout_ms"), Reason::Settings(SettingsError::FailoverTimeout)));
    let e = rejected(&edit("timeout_ms = 50", "timeout_ms = 120001"), "failover.timeout_ms");
    assert!(matches!(reason(&e, "failover.timeout_ms"), Reason::OutOfRange { .. }));
    let e = rejected(
        &edit("heartbeat_interval_ms = 10", "heartbeat_interval_ms = -1"),
        "failover.heartbeat_interval_ms",
    );
    assert!(matches!(reason(&e, "failover.heartbeat_interval_ms"), Reason::OutOfRange { .. }));
}

#[test]
fn rejects_a_bad_primary() {
    let e = rejected(&edit("primary = \"A\"", "primary = \"both\""), "failover.primary");
    assert!(matches!(reason(&e, "failover.primary"), Reason::Controller { .. }));
}

#[test]
fn rejects_boot_listen_shorter_than_the_timeout() {
    let e = rejected(&edit("boot_listen_ms = 1000", "boot_listen_ms = 49"), "failover.boot_listen_ms");
    assert!(matches!(
        reason(&e, "failover.boot_listen_ms"),
        Reason::BootListenTooShort { found: 49, timeout_ms: 50 }
    ));
    p(&edit("boot_listen_ms = 1000", "boot_listen_ms = 50")).expect("equal is enough");
}

#[test]
fn rejects_a_bad_reservation_check_period() {
    rejected(
        &edit("reservation_check_ms = 100", "reservation_check_ms = 0"),
        "failover.reservation_check_ms",
    );
    rejected(
        &edit("reservation_check_ms = 100", "reservation_check_ms = 60001"),
        "failover.reservation_check_ms",
    );
}

#[test]
fn rejects_a_realtime_priority_outside_1_to_99() {
    for bad in ["0", "100", "-5"] {
        let e = rejected(&edit("priority = 50", &format!("priority = {bad}")), "realtime.priority");
        assert!(matches!(reason(&e, "realtime.priority"), Reason::OutOfRange { min: 1, max: 99, .. }));
    }
    p(&edit("priority = 50", "priority = 99")).expect("99 is fine");
}

#[test]
fn rejects_invalid_hostnames() {
    let long_label = "a".repeat(64);
    let long_name = vec!["a".repeat(63); 4].join(".");
    for (bad, problem) in [
        ("", HostnameProblem::Length),
        ("NAS", HostnameProblem::Character),
        ("nas_a", HostnameProblem::Character),
        ("nas a", HostnameProblem::Character),
        ("-nas", HostnameProblem::Hyphen),
        ("nas-", HostnameProblem::Hyphen),
        ("nas.-x", HostnameProblem::Hyphen),
        ("nas..local", HostnameProblem::LabelLength),
        ("nas.", HostnameProblem::LabelLength),
        (long_label.as_str(), HostnameProblem::LabelLength),
        (long_name.as_str(), HostnameProblem::Length),
    ] {
        let e = rejected(
            &edit("hostname_virtual = \"nas\"", &format!("hostname_virtual = \"{bad}\"")),
            "network.hostname_virtual",
        );
        assert!(
            matches!(reason(&e, "network.hostname_virtual"), Reason::Hostname { problem: p, .. } if *p == problem),
            "{bad}: {e}"
        );
    }
    p(&edit("hostname_virtual = \"nas\"", "hostname_virtual = \"nas-1.example.com\"")).expect("fqdn");
    p(&edit("hostname_virtual = \"nas\"", &format!("hostname_virtual = \"{}\"", "a".repeat(63))))
        .expect("63");
}

#[test]
fn rejects_the_same_hostname_for_both_controllers() {
    let e = rejected(&edit("hostname_b = \"nas-b\"", "hostname_b = \"nas-a\""), "network.hostname_b");
    assert!(matches!(reason(&e, "network.hostname_b"), Reason::SameHostname { .. }));
}

#[test]
fn rejects_empty_invalid_or_duplicate_interface_names() {
    let e = rejected(&edit("name = \"eth1\"", "name = \"\""), "interfaces[1].name");
    assert!(matches!(reason(&e, "interfaces[1].name"), Reason::Empty));
    let e = rejected(&edit("name = \"eth1\"", "name = \"a-very-long-interface\""), "interfaces[1].name");
    assert!(matches!(reason(&e, "interfaces[1].name"), Reason::InterfaceName { .. }));
    let e = rejected(&edit("name = \"eth1\"", "name = \"eth0\""), "interfaces[1].name");
    assert!(
        matches!(reason(&e, "interfaces[1].name"), Reason::Duplicate { other, .. } if other == "interfaces[0].name")
    );
}

#[test]
fn rejects_a_critical_interface_without_a_group() {
    let e = rejected(
        &edit("critical = true\ngroup = 1\nvhid = 10", "critical = true\nvhid = 10"),
        "interfaces[0].group",
    );
    assert!(matches!(reason(&e, "interfaces[0].group"), Reason::CriticalWithoutGroup));
}

#[test]
fn rejects_a_group_outside_1_to_255() {
    rejected(&edit("group = 1\nvhid = 10", "group = 0\nvhid = 10"), "interfaces[0].group");
    rejected(&edit("group = 1\nvhid = 10", "group = 256\nvhid = 10"), "interfaces[0].group");
}

#[test]
fn rejects_a_vhid_outside_1_to_255() {
    for bad in ["0", "256", "-1"] {
        let e = rejected(&edit("vhid = 10", &format!("vhid = {bad}")), "interfaces[0].vhid");
        assert!(matches!(reason(&e, "interfaces[0].vhid"), Reason::OutOfRange { min: 1, max: 255, .. }));
    }
    p(&edit("vhid = 10", "vhid = 255")).expect("255 is fine");
}

#[test]
fn rejects_duplicate_vhids() {
    let e = rejected(&edit("vhid = 11", "vhid = 10"), "interfaces[1].vhid");
    assert!(matches!(reason(&e, "interfaces[1].vhid"), Reason::Duplicate { .. }));
}

#[test]
fn rejects_virtual_addresses_without_a_vhid() {
    let e = rejected(&edit("vhid = 11\n", ""), "interfaces[1].vhid");
    assert!(matches!(reason(&e, "interfaces[1].vhid"), Reason::VirtualWithoutVhid));
}

#[test]
fn rejects_addresses_that_are_not_ip_and_prefix() {
    for bad in [
        "192.0.2.10",
        "192.0.2.10/33",
        "fd00::1/129",
        "192.0.2.10/+24",
        "192.0.2.10/",
        "nas/24",
        "192.0.2.256/24",
        "fe80::1%eth0/64",
    ] {
        let e = rejected(&edit("\"192.0.2.11/24\"", &format!("\"{bad}\"")), "interfaces[0].addresses_b[0]");
        assert!(
            matches!(reason(&e, "interfaces[0].addresses_b[0]"), Reason::Address { found } if found == bad)
        );
    }
    let e = rejected(&edit("\"fd00:db8::100/64\"", "\"fd00:db8::100\""), "interfaces[1].virtual[1]");
    assert!(matches!(reason(&e, "interfaces[1].virtual[1]"), Reason::Address { .. }));
}

#[test]
fn rejects_address_lists_of_different_lengths_naming_the_interface() {
    let e = rejected(
        &edit("virtual = [\"192.0.2.100/24\"]", "virtual = [\"192.0.2.100/24\", \"192.0.2.101/24\"]"),
        "interfaces[0]",
    );
    match reason(&e, "interfaces[0]") {
        Reason::AddressCounts { interface, a: 1, b: 1, virtual_: 2 } => assert_eq!(interface, "eth0"),
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("interface \"eth0\""), "{e}");
    rejected(&edit("addresses_b = [\"192.0.2.11/24\"]", "addresses_b = []"), "interfaces[0]");
    // No virtual addresses at all is fine; A and B must still pair up.
    p(&edit("virtual = [\"192.0.2.100/24\"]", "virtual = []").replace("vhid = 10\n", "")).expect("no VIPs");
    let e = rejected(&edit("addresses_b = [\"203.0.113.11/24\"]", "addresses_b = []"), "interfaces[2]");
    assert!(matches!(reason(&e, "interfaces[2]"), Reason::AddressCounts { a: 1, b: 0, virtual_: 0, .. }));
}

#[test]
fn rejects_an_address_used_twice() {
    let e = rejected(
        &edit("addresses_b = [\"192.0.2.11/24\"]", "addresses_b = [\"192.0.2.10/24\"]"),
        "interfaces[0].addresses_b[0]",
    );
    assert!(
        matches!(reason(&e, "interfaces[0].addresses_b[0]"), Reason::Duplicate { other, .. } if other == "interfaces[0].addresses_a[0]")
    );
    rejected(
        &edit("virtual = [\"198.51.100.100/24\"", "virtual = [\"192.0.2.100/25\""),
        "interfaces[1].virtual[0]",
    );
}

#[test]
fn rejects_more_critical_groups_than_a_heartbeat_carries() {
    let mut text = A.to_owned();
    for g in 0..MAX_GROUPS {
        text.push_str(&format!("\n[[interfaces]]\nname = \"x{g}\"\ncritical = true\ngroup = {}\n", g + 2));
    }
    let e = rejected(&text, "interfaces");
    assert!(matches!(reason(&e, "interfaces"), Reason::TooManyGroups { found: 9, max: 8 }));
}

#[test]
fn rejects_empty_invalid_or_duplicate_pool_names() {
    let two = format!("{A}\n[[pools]]\nname = \"tank\"\n");
    let e = rejected(&two, "pools[1].name");
    assert!(matches!(reason(&e, "pools[1].name"), Reason::Duplicate { .. }));
    let e = rejected(&edit("name = \"tank\"", "name = \"\""), "pools[0].name");
    assert!(matches!(reason(&e, "pools[0].name"), Reason::Empty));
    for bad in ["1tank", "tank/data", "my tank", "-x"] {
        let e = rejected(&edit("name = \"tank\"", &format!("name = \"{bad}\"")), "pools[0].name");
        assert!(matches!(reason(&e, "pools[0].name"), Reason::PoolName { .. }));
    }
}

#[test]
fn rejects_empty_hooks() {
    let e = rejected(
        &edit("import_hook = [\"echo\", \"demo: import tank\"]", "import_hook = []"),
        "pools[0].import_hook",
    );
    assert!(matches!(reason(&e, "pools[0].import_hook"), Reason::Empty));
    let e = rejected(&edit("export_hook = [\"echo\"", "export_hook = [\"\""), "pools[0].export_hook[0]");
    assert!(matches!(reason(&e, "pools[0].export_hook[0]"), Reason::Empty));
}

#[test]
fn rejects_a_hook_timeout_outside_1_to_600000() {
    rejected(&edit("hook_timeout_ms = 30000", "hook_timeout_ms = 0"), "pools[0].hook_timeout_ms");
    rejected(&edit("hook_timeout_ms = 30000", "hook_timeout_ms = 600001"), "pools[0].hook_timeout_ms");
    p(&edit("hook_timeout_ms = 30000", "hook_timeout_ms = 600000")).expect("the limit is fine");
}

const DISK: &str = "disk = { kind = \"sim\", path = \"/tmp/failoverd-demo/disks\", disks = 4 }";
const WATCHDOG: &str =
    "watchdog = { kind = \"sim\", path = \"/tmp/failoverd-demo/a/watchdog\", timeout_ms = 1000 }";
const ENCLOSURE: &str = "enclosure = { kind = \"sim\", path = \"/tmp/failoverd-demo/enclosure\" }";
const PEER_RESET: &str = "peer_reset = { kind = \"sim\", path = \"/tmp/failoverd-demo/pids\" }";
const VIPS: &str = "vips = { kind = \"sim\", path = \"/tmp/failoverd-demo/vips\" }";

#[test]
fn rejects_a_missing_disk_backend() {
    let e = rejected(&edit(DISK, ""), "backends.disk");
    assert!(matches!(reason(&e, "backends.disk"), Reason::Missing));
    rejected(&edit("[backends]\n", "[backend]\n"), "backends");
}

#[test]
fn rejects_unknown_or_missing_backend_kinds() {
    let e = rejected(&edit(DISK, "disk = { kind = \"nvme\" }"), "backends.disk.kind");
    assert!(matches!(reason(&e, "backends.disk.kind"), Reason::UnknownKind { found, .. } if found == "nvme"));
    rejected(&edit(WATCHDOG, "watchdog = { kind = \"ipmi\" }"), "backends.watchdog.kind");
    rejected(&edit(PEER_RESET, "peer_reset = { kind = \"ipmi\" }"), "backends.peer_reset.kind");
    let e = rejected(&edit(ENCLOSURE, "enclosure = { kind = \"ses\" }"), "backends.enclosure.kind");
    assert!(e.to_string().ends_with("expected one of \"none\", \"sim\", \"i2c\", \"gpio\""), "{e}");
    let e = rejected(&edit(DISK, "disk = { path = \"x\" }"), "backends.disk.kind");
    assert!(matches!(reason(&e, "backends.disk.kind"), Reason::Missing));
    let e = rejected(&edit(DISK, "disk = { kind = 1 }"), "backends.disk.kind");
    assert!(matches!(reason(&e, "backends.disk.kind"), Reason::WrongType { .. }));
}

#[test]
fn rejects_sim_disk_without_path_or_disks() {
    let e = rejected(&edit(DISK, "disk = { kind = \"sim\", path = \"\", disks = 4 }"), "backends.disk.path");
    assert!(matches!(reason(&e, "backends.disk.path"), Reason::Empty));
    rejected(&edit(DISK, "disk = { kind = \"sim\", path = \"d\", disks = 0 }"), "backends.disk.disks");
    let e = rejected(&edit(DISK, "disk = { kind = \"sim\", path = \"d\" }"), "backends.disk.disks");
    assert!(matches!(reason(&e, "backends.disk.disks"), Reason::Missing));
}

#[test]
fn rejects_scsi_disks_without_devices_or_with_a_bad_preempt() {
    let e = rejected(&edit(DISK, "disk = { kind = \"scsi\", devices = [] }"), "backends.disk.devices");
    assert!(matches!(reason(&e, "backends.disk.devices"), Reason::Empty));
    rejected(
        &edit(DISK, "disk = { kind = \"scsi\", devices = [\"/dev/sg1\", \"\"] }"),
        "backends.disk.devices[1]",
    );
    let e = rejected(
        &edit(DISK, "disk = { kind = \"scsi\", devices = [\"/dev/sg1\", \"/dev/sg1\"] }"),
        "backends.disk.devices[1]",
    );
    assert!(matches!(reason(&e, "backends.disk.devices[1]"), Reason::Duplicate { .. }));
    let e = rejected(
        &edit(DISK, "disk = { kind = \"scsi\", devices = [\"/dev/sg1\"], preempt = \"clear\" }"),
        "backends.disk.preempt",
    );
    assert!(matches!(reason(&e, "backends.disk.preempt"), Reason::UnknownKind { .. }));
}

#[test]
fn rejects_bad_watchdog_fields() {
    rejected(
        &edit(WATCHDOG, "watchdog = { kind = \"sim\", path = \"w\", timeout_ms = 0 }"),
        "backends.watchdog.timeout_ms",
    );
    rejected(&edit(WATCHDOG, "watchdog = { kind = \"sim\", path = \"\" }"), "backends.watchdog.path");
    rejected(
        &edit(WATCHDOG, "watchdog = { kind = \"device\", path = \"/dev/watchdog0\", timeout_s = 0 }"),
        "backends.watchdog.timeout_s",
    );
    rejected(
        &edit(WATCHDOG, "watchdog = { kind = \"device\", path = \"/dev/watchdog0\", timeout_s = 65536 }"),
        "backends.watchdog.timeout_s",
    );
    rejected(&edit(WATCHDOG, "watchdog = { kind = \"device\" }"), "backends.watchdog.path");
}

#[test]
fn rejects_bad_enclosure_fields() {
    for bad in ["0x02", "0x78", "-1"] {
        let text = edit(
            ENCLOSURE,
            &format!("enclosure = {{ kind = \"i2c\", bus = \"/dev/i2c-0\", address = {bad} }}"),
        );
        let e = rejected(&text, "backends.enclosure.address");
        assert!(matches!(
            reason(&e, "backends.enclosure.address"),
            Reason::OutOfRange { min: 3, max: 0x77, .. }
        ));
    }
    rejected(
        &edit(ENCLOSURE, "enclosure = { kind = \"i2c\", bus = \"\", address = 0x1c }"),
        "backends.enclosure.bus",
    );
    rejected(&edit(ENCLOSURE, "enclosure = { kind = \"sim\", path = \"\" }"), "backends.enclosure.path");
}

#[test]
fn rejects_bad_peer_reset_fields() {
    rejected(
        &edit(PEER_RESET, "peer_reset = { kind = \"gpio\", chip = \"\", line = \"r\" }"),
        "backends.peer_reset.chip",
    );
    rejected(
        &edit(PEER_RESET, "peer_reset = { kind = \"gpio\", chip = \"gpiochip0\", line = \"\" }"),
        "backends.peer_reset.line",
    );
    rejected(&edit(PEER_RESET, "peer_reset = { kind = \"sim\" }"), "backends.peer_reset.path");
    for bad in ["0", "10001", "-1"] {
        let text = edit(
            PEER_RESET,
            &format!("peer_reset = {{ kind = \"gpio\", chip = \"c\", line = \"r\", pulse_ms = {bad} }}"),
        );
        let e = rejected(&text, "backends.peer_reset.pulse_ms");
        assert!(matches!(
            reason(&e, "backends.peer_reset.pulse_ms"),
            Reason::OutOfRange { min: 1, max: 10_000, .. }
        ));
    }
    let e = rejected(
        &edit(PEER_RESET, "peer_reset = { kind = \"gpio\", chip = \"c\", line = \"r\", pulse_ms = \"1s\" }"),
        "backends.peer_reset.pulse_ms",
    );
    assert!(matches!(reason(&e, "backends.peer_reset.pulse_ms"), Reason::WrongType { .. }));
    let e = rejected(
        &edit(PEER_RESET, "peer_reset = { kind = \"gpio\", chip = \"c\", line = \"r\", fence_a = \"x\" }"),
        "backends.peer_reset.fence_a",
    );
    assert!(matches!(reason(&e, "backends.peer_reset.fence_a"), Reason::UnknownKey { .. }));
    let ok =
        edit(PEER_RESET, "peer_reset = { kind = \"gpio\", chip = \"c\", line = \"r\", pulse_ms = 10000 }");
    assert!(matches!(
        p(&ok).expect("the limit is fine").local.backends.peer_reset,
        PeerResetBackend::Gpio { pulse, .. } if pulse == std::time::Duration::from_secs(10)
    ));
}

const GPIO_FENCE: &str = "enclosure = { kind = \"gpio\", chip = \"gpiochip0\", peer_line = \"fence-b\" }";

#[test]
fn gpio_backends_parse_with_their_defaults_and_round_trip() {
    let text = edit(ENCLOSURE, GPIO_FENCE)
        .replace(PEER_RESET, "peer_reset = { kind = \"gpio\", chip = \"gpio-sim.0\", line = \"reset-b\" }")
        .replace(VIPS, &format!("{VIPS}\nled = {{ kind = \"gpio\", chip = \"/dev/gpiochip1\", line = \"led\", active_low = true }}"));
    let c = p(&text).expect("valid");
    let b = &c.local.backends;
    assert_eq!(
        b.enclosure,
        EnclosureBackend::Gpio { chip: "gpiochip0".into(), peer_line: "fence-b".into(), active_low: false }
    );
    assert_eq!(
        b.peer_reset,
        PeerResetBackend::Gpio {
            chip: "gpio-sim.0".into(),
            line: "reset-b".into(),
            pulse: std::time::Duration::from_millis(100),
            active_low: false,
        }
    );
    assert_eq!(
        b.led,
        LedBackend::Gpio { chip: "/dev/gpiochip1".into(), line: "led".into(), active_low: true }
    );
    assert_eq!(p(&c.to_toml()).expect("round trip"), c);
    // Active low and an explicit pulse survive too; no led means none.
    let text = edit(
        ENCLOSURE,
        "enclosure = { kind = \"gpio\", chip = \"c\", peer_line = \"b\", active_low = true }",
    )
    .replace(
        PEER_RESET,
        "peer_reset = { kind = \"gpio\", chip = \"c\", line = \"r\", pulse_ms = 250, active_low = true }",
    );
    let c = p(&text).expect("valid");
    assert_eq!(c.local.backends.led, LedBackend::None);
    assert_eq!(p(&c.to_toml()).expect("round trip"), c);
    let none = edit(VIPS, &format!("{VIPS}\nled = {{ kind = \"none\" }}"));
    assert_eq!(p(&none).expect("valid").local.backends.led, LedBackend::None);
}

#[test]
fn rejects_bad_gpio_enclosure_fields() {
    let gpio = |fields: &str| edit(ENCLOSURE, &format!("enclosure = {{ kind = \"gpio\", {fields} }}"));
    let e = rejected(&gpio("chip = \"\", peer_line = \"b\""), "backends.enclosure.chip");
    assert!(matches!(reason(&e, "backends.enclosure.chip"), Reason::Empty));
    let e = rejected(&gpio("chip = \"c\", peer_line = \"\""), "backends.enclosure.peer_line");
    assert!(matches!(reason(&e, "backends.enclosure.peer_line"), Reason::Empty));
    let e = rejected(&gpio("chip = \"c\""), "backends.enclosure.peer_line");
    assert!(matches!(reason(&e, "backends.enclosure.peer_line"), Reason::Missing));
    // The old two-line form names lines a host never drives: refused, by name.
    let e = rejected(&gpio("chip = \"c\", peer_line = \"b\", fence_a = \"a\""), "backends.enclosure.fence_a");
    assert!(matches!(reason(&e, "backends.enclosure.fence_a"), Reason::UnknownKey { .. }));
    let e = rejected(
        &gpio("chip = \"c\", peer_line = \"b\", active_low = \"yes\""),
        "backends.enclosure.active_low",
    );
    assert!(matches!(reason(&e, "backends.enclosure.active_low"), Reason::WrongType { .. }));
    // The I2C kind takes no line names.
    let e = rejected(
        &edit(
            ENCLOSURE,
            "enclosure = { kind = \"i2c\", bus = \"/dev/i2c-0\", address = 0x1c, fence_a = \"a\" }",
        ),
        "backends.enclosure.fence_a",
    );
    assert!(matches!(reason(&e, "backends.enclosure.fence_a"), Reason::UnknownKey { .. }));
}

#[test]
fn rejects_bad_led_fields() {
    let led = |v: &str| edit(VIPS, &format!("{VIPS}\nled = {v}"));
    let e = rejected(&led("{ kind = \"pwm\" }"), "backends.led.kind");
    assert!(matches!(reason(&e, "backends.led.kind"), Reason::UnknownKind { found, .. } if found == "pwm"));
    let e = rejected(&led("{ chip = \"c\", line = \"l\" }"), "backends.led.kind");
    assert!(matches!(reason(&e, "backends.led.kind"), Reason::Missing));
    rejected(&led("{ kind = \"gpio\", chip = \"\", line = \"l\" }"), "backends.led.chip");
    let e = rejected(&led("{ kind = \"gpio\", chip = \"c\", line = \"\" }"), "backends.led.line");
    assert!(e.to_string().contains("test.toml: backends.led.line: must not be empty"), "{e}");
    let e = rejected(&led("{ kind = \"gpio\", chip = \"c\" }"), "backends.led.line");
    assert!(matches!(reason(&e, "backends.led.line"), Reason::Missing));
    let e = rejected(
        &led("{ kind = \"gpio\", chip = \"c\", line = \"l\", pulse_ms = 5 }"),
        "backends.led.pulse_ms",
    );
    assert!(matches!(reason(&e, "backends.led.pulse_ms"), Reason::UnknownKey { .. }));
    let e = rejected(&led("{ kind = \"none\", line = \"l\" }"), "backends.led.line");
    assert!(matches!(reason(&e, "backends.led.line"), Reason::UnknownKey { .. }));
    rejected(&led("\"gpio\""), "backends.led");
}

#[test]
fn rejects_a_bad_bmc_section() {
    let e = rejected(&edit("# [bmc]\n# serial = \"/dev/ttyS1\"", "[bmc]\nserial = \"\""), "bmc.serial");
    assert!(matches!(reason(&e, "bmc.serial"), Reason::Empty));
    let e = rejected(
        &edit(
            "# [bmc]\n# serial = \"/dev/ttyS1\"\n# baud = 115200",
            "[bmc]\nserial = \"/dev/ttyS1\"\nbaud = 115201",
        ),
        "bmc.baud",
    );
    assert!(matches!(reason(&e, "bmc.baud"), Reason::Baud { found: 115_201 }));
    rejected(&edit("# [bmc]\n", "[bmc]\n"), "bmc.serial");
}

#[test]
fn rejects_a_bad_api_section() {
    let e =
        rejected(&edit("socket = \"/tmp/failoverd-demo/a/failoverd.sock\"", "socket = \"\""), "api.socket");
    assert!(matches!(reason(&e, "api.socket"), Reason::Empty));
    let e = rejected(&edit("tcp = \"127.0.0.1:8601\"", "tcp = \"localhost:8601\""), "api.tcp");
    assert!(matches!(reason(&e, "api.tcp"), Reason::SocketAddr { .. }));
}

// ---------------------------------------------------------------- [ui] ----------

/// The example's `[ui]` password line.
fn hash_line() -> &'static str {
    A.lines().find(|l| l.starts_with("password_hash = ")).expect("the example has a [ui] password_hash")
}

#[test]
fn the_ui_section_parses_with_defaults_and_stays_local() {
    let a = p(A).expect("A").local.ui.expect("A has a UI");
    let b = p(B).expect("B").local.ui.expect("B has a UI");
    assert_eq!(a.listen, "127.0.0.1:8443".parse().expect("addr"));
    assert_eq!(b.listen, "127.0.0.1:8444".parse().expect("addr"));
    assert_eq!(a.session_idle, std::time::Duration::from_secs(30 * 60));
    assert_eq!(a.tls, None);
    assert!(crate::ui::password::verify("demo-password", &a.password_hash), "the documented demo password");
    assert!(!format!("{a:?}").contains("argon2"), "the hash is not printed: {a:?}");
    // Only the password: listen and the idle time take their defaults.
    let only = edit("listen = \"127.0.0.1:8443\"\n", "").replace("session_idle_minutes = 30\n", "");
    let ui = p(&only).expect("valid").local.ui.expect("ui");
    assert_eq!(ui.listen, "127.0.0.1:8443".parse().expect("addr"));
    assert_eq!(ui.session_idle, std::time::Duration::from_secs(30 * 60));
    // No section: no UI.
    assert_eq!(p(MINIMAL).expect("valid").local.ui, None);
    // Local: not in the digest, refused in a shared part from the peer.
    let moved = p(&edit("listen = \"127.0.0.1:8443\"", "listen = \"0.0.0.0:9443\"")).expect("valid");
    assert_eq!(moved.shared.digest(), p(A).expect("A").shared.digest());
    let text = format!("[ui]\n{}\n{}", hash_line(), p(A).expect("A").shared.to_toml());
    let e = SharedConfig::from_toml(&text).expect_err("local section");
    assert!(matches!(e.find("ui"), Some(Reason::UnknownKey { .. })), "{e}");
}

#[test]
fn the_ui_section_round_trips_with_tls() {
    let text = edit(
        "# tls_cert = \"/etc/failoverd/ui.crt\"\n# tls_key",
        "tls_cert = \"/etc/failoverd/ui.crt\"\ntls_key",
    )
    .replace("session_idle_minutes = 30", "session_idle_minutes = 5");
    let c = p(&text).expect("valid");
    let ui = c.local.ui.as_ref().expect("ui");
    assert_eq!(
        ui.tls,
        Some(TlsFiles { cert: "/etc/failoverd/ui.crt".into(), key: "/etc/failoverd/ui.key".into() })
    );
    assert_eq!(ui.session_idle, std::time::Duration::from_secs(5 * 60));
    assert_eq!(p(&c.to_toml()).expect("round trip"), c);
}

#[test]
fn rejects_a_bad_ui_section() {
    let e = rejected(&edit("listen = \"127.0.0.1:8443\"", "listen = \"localhost:8443\""), "ui.listen");
    assert!(matches!(reason(&e, "ui.listen"), Reason::SocketAddr { .. }));
    let e = rejected(&edit("listen = \"127.0.0.1:8443\"", "listen = \"127.0.0.1:0\""), "ui.listen");
    assert!(matches!(reason(&e, "ui.listen"), Reason::PortZero));
    let e = rejected(&edit(hash_line(), ""), "ui.password_hash");
    assert!(matches!(reason(&e, "ui.password_hash"), Reason::Missing));
    let e = rejected(&edit(hash_line(), "password_hash = \"hunter2\""), "ui.password_hash");
    assert!(matches!(reason(&e, "ui.password_hash"), Reason::PasswordHash { .. }));
    assert!(e.to_string().contains("failoverd hash-password"), "{e}");
    let pbkdf2 = "password_hash = \"$pbkdf2-sha256$i=1000$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo\"";
    let e = rejected(&edit(hash_line(), pbkdf2), "ui.password_hash");
    assert!(e.to_string().contains("not argon2id"), "{e}");
    for bad in ["0", "1441", "-1"] {
        let e = rejected(
            &edit("session_idle_minutes = 30", &format!("session_idle_minutes = {bad}")),
            "ui.session_idle_minutes",
        );
        assert!(matches!(
            reason(&e, "ui.session_idle_minutes"),
            Reason::OutOfRange { min: 1, max: 1440, .. }
        ));
    }
    let e = rejected(
        &edit("session_idle_minutes = 30", "session_idle_minutes = \"30\""),
        "ui.session_idle_minutes",
    );
    assert!(matches!(reason(&e, "ui.session_idle_minutes"), Reason::WrongType { .. }));
    let e = rejected(
        &edit("# tls_cert = \"/etc/failoverd/ui.crt\"", "tls_cert = \"/etc/failoverd/ui.crt\""),
        "ui.tls_key",
    );
    assert!(matches!(reason(&e, "ui.tls_key"), Reason::RequiredWith { other: "ui.tls_cert" }));
    let e = rejected(
        &edit("# tls_key = \"/etc/failoverd/ui.key\"", "tls_key = \"/etc/failoverd/ui.key\""),
        "ui.tls_cert",
    );
    assert!(matches!(reason(&e, "ui.tls_cert"), Reason::RequiredWith { other: "ui.tls_key" }));
    let e = rejected(
        &edit("# tls_cert = \"/etc/failoverd/ui.crt\"\n# tls_key", "tls_cert = \"\"\ntls_key"),
        "ui.tls_cert",
    );
    assert!(matches!(reason(&e, "ui.tls_cert"), Reason::Empty));
    let e = rejected(&edit("session_idle_minutes = 30", "session_idle_minutes = 30\nport = 1"), "ui.port");
    assert!(matches!(reason(&e, "ui.port"), Reason::UnknownKey { .. }));
}

#[test]
fn load_checks_the_ui_certificate_and_key() {
    let (dir, key) = key_dir();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ui/testdata");
    let cfg_path = dir.path().join("a.toml");
    let with_tls = |cert: &Path, tls_key: &Path| {
        with_key_file(&key).replace(
            "# tls_cert = \"/etc/failoverd/ui.crt\"\n# tls_key = \"/etc/failoverd/ui.key\"",
            &format!(
                "tls_cert = {:?}\ntls_key = {:?}",
                cert.to_str().expect("utf-8"),
                tls_key.to_str().expect("utf-8")
            ),
        )
    };
    std::fs::write(&cfg_path, with_tls(&data.join("cert.pem"), &data.join("key.pem"))).expect("write");
    let c = load(&cfg_path).expect("a good pair loads");
    assert!(c.local.ui.expect("ui").tls.is_some());
    // A key file given as the certificate: no certificate in it.
    std::fs::write(&cfg_path, with_tls(&data.join("key.pem"), &data.join("key.pem"))).expect("write");
    let e = load(&cfg_path).expect_err("no certificate");
    assert!(matches!(reason(&e, "ui.tls_cert"), Reason::Tls { .. }), "{e}");
    // A key that does not go with the certificate.
    std::fs::write(&cfg_path, with_tls(&data.join("cert.pem"), &data.join("other-key.pem"))).expect("write");
    let e = load(&cfg_path).expect_err("mismatched key");
    assert!(matches!(reason(&e, "ui.tls_key"), Reason::Tls { .. }), "{e}");
    // A missing file, named.
    std::fs::write(&cfg_path, with_tls(&dir.path().join("absent.pem"), &data.join("key.pem")))
        .expect("write");
    let e = load(&cfg_path).expect_err("missing certificate");
    assert!(e.to_string().contains("absent.pem"), "{e}");
    // parse() reads no file.
    assert!(p(&with_tls(&dir.path().join("absent.pem"), &data.join("key.pem"))).is_ok());
}

fn v4_host() -> Cidr {
    "192.0.2.1/24".parse().expect("v4")
}

#[test]
fn ip_prefixes_parse_and_print_canonically() {
    let v4: Cidr = "192.0.2.10/24".parse().expect("v4");
    assert_eq!(v4.prefix(), 24);
    assert_eq!(v4.to_string(), "192.0.2.10/24");
    let v6: Cidr = "FD00:0:0::1/128".parse().expect("v6");
    assert_eq!(v6.to_string(), "fd00::1/128");
    assert!("0.0.0.0/0".parse::<Cidr>().is_ok());
    // The configuration wants an explicit, plain prefix length.
    let prefixed = super::parse::parse_prefixed;
    assert_eq!(prefixed("192.0.2.1/24"), Some(v4_host()));
    assert_eq!(prefixed("192.0.2.1/0024"), None);
    assert_eq!(prefixed("192.0.2.1/24/1"), None);
    assert_eq!(prefixed("192.0.2.1"), None, "a bare address is a host route elsewhere, not here");
    assert_eq!(prefixed("192.0.2.1/"), None);
}
