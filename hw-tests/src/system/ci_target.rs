//! The real-hardware path tested without real hardware: a target file describing the
//! emulated rig in the terms of real controllers (`ip netns exec <ns> sh -c` as each
//! command prefix, a pid file where systemd would be, the middlebox's control files
//! where `tc netem` would be, the BMC console log where a console server would be),
//! loaded and driven by [`Remote`] exactly as a file for real controllers is.

use std::path::Path;

use failover_core::wire::Controller;

use super::cluster::{Cluster, PASSPHRASE, TIMEOUT_MS};
use super::remote::{Remote, RemoteConfig, sh_quote};
use super::target::Capability;
use crate::firmware::image::Images;
use crate::suites::rig::{Binaries, CLIENT_IF, Host, LINK_IF, PUB_IF, VIP};

/// What the rig's target file offers beyond the basics: impairment through the
/// middlebox's control files and the BMCs' status lines from their console logs. BMC
/// power, the BMC link and the BMC fence line stay with the emulated pass (QEMU and
/// the relay live in the test process).
pub const OFFERS: &[Capability] = &[Capability::Impair, Capability::BmcStatus];

/// The target file for `cl`: what [`RemoteConfig`] would be for two real controllers
/// reachable by `ssh`, with the emulated rig's commands in place of systemd and `tc`.
pub fn target_file(cl: &Cluster) -> String {
    let dir = cl.pair.dir();
    let bins = cl.pair.bins();
    let controller = |c: Controller| {
        let l = c.letter().to_ascii_lowercase();
        let sub = dir.join(l.to_string());
        let q = |p: &Path| sh_quote(&p.display().to_string());
        let pid = q(&sub.join("failoverd.pid"));
        let log = q(&sub.join("failoverd.log"));
        let console = q(&cl.bmc_console_log(c));
        let ctl = format!("{} --socket {}", q(&bins.failoverctl), q(&cl.pair.socket(c)));
        let start = format!(
            "RUST_LOG=info NO_COLOR=1 {} run --config {} </dev/null >>{log} 2>&1 & echo $! > {pid}",
            q(&bins.failoverd),
            q(&cl.pair.config_file(c))
        );
        let running = format!(
            "p=$(cat {pid} 2>/dev/null) && [ -e /proc/$p ] && [ \"$(cut -d' ' -f3 /proc/$p/stat)\" != Z ]"
        );
        let toml_str = |s: &str| toml_quote(s);
        format!(
            r#"
[{l}]
run = {run}
failoverctl = {ctl}
start = {start}
signal = {signal}
running = {running}
logs = {logs}
config = {config}
link_interface = "{LINK_IF}"
public_interface = "{PUB_IF}"
impair = {impair}
unimpair = {unimpair}
bmc_status = {bmc_status}

[{l}.hardware]
serial = {serial}
"#,
            run = toml_str(&format!("ip netns exec {} sh -c", cl.pair.rig.ctrl_ns(c))),
            ctl = toml_str(&ctl),
            start = toml_str(&start),
            signal = toml_str(&format!("kill -{{signal}} $(cat {pid})")),
            running = toml_str(&running),
            logs = toml_str(&format!("tail -n 30 {log}")),
            config = toml_str(&cl.pair.config_file(c).display().to_string()),
            impair = toml_str(&format!(
                "echo {{delay_ms}} {{jitter_ms}} {{loss_percent}} > {}",
                q(&dir.join(format!("wire-{l}.ctl")))
            )),
            unimpair = toml_str(&format!("echo 0 0 0 > {}", q(&dir.join(format!("wire-{l}.ctl"))))),
            bmc_status = toml_str(&format!("grep -a '^status ' {console} | tail -n 1")),
            serial = toml_str(&cl.pair.bmc_tty(c).display().to_string()),
        )
    };
    format!(
        r#"# Written by hw-tests: the emulated pair, driven as real controllers are.
timeout_ms = {TIMEOUT_MS}
vip = "{VIP}"
passphrase_file = {pass}

[client]
run = {client}
interface = "{CLIENT_IF}"
{a}{b}"#,
        pass = toml_quote(&dir.join("passphrase").display().to_string()),
        client = toml_quote(&format!("ip netns exec {} sh -c", cl.pair.rig.ns(Host::Client))),
        a = controller(Controller::A),
        b = controller(Controller::B),
    )
}

/// A TOML basic string.
fn toml_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A fresh emulated pair behind a [`Remote`] loaded from its target file (written to
/// `<dir>/target.toml`); nothing runs on it yet.
pub fn remote_on_rig(bins: &Binaries, images: &Images) -> Result<Remote, String> {
    let mut cl = Cluster::new(bins, images)?;
    let dir = cl.pair.dir().to_path_buf();
    cl.wire.follow(&dir)?;
    std::fs::write(dir.join("passphrase"), format!("{PASSPHRASE}\n"))
        .map_err(|e| format!("passphrase: {e}"))?;
    let path = dir.join("target.toml");
    std::fs::write(&path, target_file(&cl)).map_err(|e| format!("{}: {e}", path.display()))?;
    let cfg = RemoteConfig::load(&path)?;
    Remote::new(cfg, Some(Box::new(cl)))
}
