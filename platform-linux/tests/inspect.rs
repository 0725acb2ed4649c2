//! `failoverctl inspect` end to end: the built binary reading simulated disks named by
//! a controller's configuration file, with no failoverd running.

use std::path::Path;
use std::process::{Command, Output};

use failover_core::node::{FenceResult, ReservationKey};
use failover_core::wire::Controller;
use failover_linux::backend::{DiskOwnership as _, EnclosureFence as _, SimDiskSet};
use failover_linux::inspect::{Inspection, KeyJson};

const CONFIG_B: &str = include_str!("../examples/controller-b.toml");
const EXAMPLE_DIR: &str = "/tmp/failoverd-demo";

/// Controller B's example configuration with every path under `dir`.
fn write_config(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("controller-b.toml");
    std::fs::write(&path, CONFIG_B.replace(EXAMPLE_DIR, &dir.to_string_lossy())).expect("config");
    path
}

fn ctl(args: &[&str], config: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_failoverctl"));
    cmd.env_remove("FAILOVERCTL_SOCKET").arg("inspect");
    if let Some(config) = config {
        cmd.arg("--config").arg(config);
    }
    cmd.args(args).output().expect("run failoverctl")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_exit(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "stdout:\n{}\nstderr:\n{}", text(&o.stdout), text(&o.stderr));
}

#[test]
fn inspect_reads_the_configured_disks_and_enclosure() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = write_config(tmp.path());
    // The example's JBOD: 4 disks, fenced by A at epoch 3, B's port cut.
    let a = SimDiskSet::open(tmp.path().join("disks"), 4, Controller::A).expect("disks");
    let fenced = a.fence_and_reserve(ReservationKey::new(Controller::A, 3)).expect("fence");
    assert_eq!(fenced.result, FenceResult::Done);

    let o = ctl(&["--json"], Some(&config));
    assert_exit(&o, 0);
    let seen: Inspection = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(seen.controller, "B");
    assert_eq!(seen.errors, Vec::<String>::new());
    let a3 = KeyJson { key: "0x4641000000000003".into(), controller: Some("A".into()), epoch: Some(3) };
    assert_eq!(seen.disks.len(), 4);
    for (i, d) in seen.disks.iter().enumerate() {
        assert_eq!(d.name, a.serial(i).expect("serial"));
        assert_eq!((d.holder.as_ref(), d.registered.as_slice()), (Some(&a3), std::slice::from_ref(&a3)));
    }
    let enclosure = seen.enclosure.expect("the simulated enclosure");
    assert_eq!((enclosure.a_cut, enclosure.b_cut), (false, false));

    let o = ctl(&[], Some(&config));
    assert_exit(&o, 0);
    let human = text(&o.stdout);
    assert!(
        human.contains(&format!(
            "{}: reserved by A@3 (write exclusive, registrants only); registered: A@3\n",
            a.serial(3).expect("serial")
        )),
        "{human}"
    );
    assert!(human.contains("A connected, B connected"), "{human}");

    // B's port cut: the enclosure says so, and B can no longer reach the disks; the
    // result is still printed, with one error per disk, and the exit status is 1.
    a.enclosure().cut(Controller::B).expect("cut");
    let o = ctl(&["--json"], Some(&config));
    assert_exit(&o, 1);
    let seen: Inspection = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(seen.enclosure.map(|e| (e.a_cut, e.b_cut)), Some((false, true)));
    assert_eq!(seen.errors.len(), 4, "{:?}", seen.errors);
    assert!(
        text(&o.stderr).contains("4 item(s) could not be read (listed in the output)"),
        "{}",
        text(&o.stderr)
    );
    // --controller overrides the file: through A's port all is readable again.
    assert_exit(&ctl(&["--controller", "A"], Some(&config)), 0);
}

#[test]
fn inspect_usage_errors_exit_2() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = ctl(&["--disk", "/dev/null", "--i2c-bus", "/dev/i2c-0", "--i2c-address", "0x99"], None);
    assert_exit(&o, 2);
    assert!(text(&o.stderr).contains("--i2c-address"), "{}", text(&o.stderr));

    // A file that cannot be read, and one with a bad field: both named.
    let missing = tmp.path().join("missing.toml");
    let o = ctl(&[], Some(&missing));
    assert_exit(&o, 2);
    assert!(text(&o.stderr).contains(&format!("{}: cannot read", missing.display())), "{}", text(&o.stderr));

    let config = write_config(tmp.path());
    let bad = std::fs::read_to_string(&config).expect("config").replace("disks = 4", "disks = \"four\"");
    std::fs::write(&config, bad).expect("config");
    let o = ctl(&["--json"], Some(&config));
    assert_exit(&o, 2);
    let err = text(&o.stderr);
    assert!(err.contains(&config.display().to_string()) && err.contains("backends.disk"), "{err}");
    assert!(o.stdout.is_empty());

    // No file needed when the flags say everything; a missing device is exit 1.
    let nodev = tmp.path().join("sg-nothing");
    let o = ctl(&["--disk", &nodev.to_string_lossy(), "--no-enclosure", "--controller", "B", "--json"], None);
    assert_exit(&o, 1);
    let seen: Inspection = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(seen.errors.len(), 1);
    assert!(seen.errors[0].contains(&nodev.display().to_string()), "{:?}", seen.errors);
}
