//! The real-hardware path tested without real hardware: a target file describing the
//! emulated rig in the terms of real controllers (`ip netns exec <ns> sh -c` as each
//! command prefix, a pid file where systemd would be, the middlebox's control files
//! where `tc netem` would be, the BMC console log where a console server would be),
//! loaded and driven by [`Remote`] exactly as a file for real controllers is.

use std::path::{Path, PathBuf};

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

/// A fresh emulated pair as real controllers would be found: the JBOD present (it
/// exists before any controller starts), the wire following its control files, the
/// passphrase and the target file written; nothing runs on the hosts. Its target file.
fn prepare(bins: &Binaries, images: &Images) -> Result<(Cluster, PathBuf), String> {
    let mut cl = Cluster::new(bins, images)?;
    let dir = cl.pair.dir().to_path_buf();
    failover_linux::backend::SimDiskSet::open(dir.join("disks"), crate::suites::rig::DISKS, Controller::A)
        .map_err(|e| format!("disks: {e}"))?;
    cl.wire.follow(&dir)?;
    std::fs::write(dir.join("passphrase"), format!("{PASSPHRASE}\n"))
        .map_err(|e| format!("passphrase: {e}"))?;
    let path = dir.join("target.toml");
    std::fs::write(&path, target_file(&cl)).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((cl, path))
}

/// A fresh emulated pair behind a [`Remote`] loaded from its target file.
pub fn remote_on_rig(bins: &Binaries, images: &Images) -> Result<Remote, String> {
    let (cl, path) = prepare(bins, images)?;
    Remote::new(RemoteConfig::load(&path)?, Some(Box::new(cl)))
}

/// `hw-tests rig`: build an emulated pair with its target file, print
/// `ready <target file>`, and keep it until stdin closes. Nothing runs on the hosts:
/// `hw-tests run system --target <file>` starts the daemons through the file's
/// commands, as it would on real controllers. Used by the system suite to run the
/// documented real-hardware command end to end.
pub fn serve(_args: &[String]) -> i32 {
    let built = (|| {
        let bins = crate::suites::rig::preflight()?;
        crate::firmware::image::preflight()?;
        let root = crate::firmware::image::target_dir()?.join("system");
        std::fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
        let images = crate::firmware::image::build_images(&root, "rig-bmc", &[])?;
        prepare(&bins, &images)
    })();
    let (cl, path) = match built {
        Ok(x) => x,
        Err(e) => {
            eprintln!("hw-tests rig: {e}");
            return 2;
        }
    };
    println!("ready {}", path.display());
    let _ = std::io::Write::flush(&mut std::io::stdout());
    let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new());
    drop(cl);
    0
}

/// Run `hw-tests run system --target <file> --scenario <scenarios>` as a user would,
/// against a pair served by `hw-tests rig` in another process; its summary line and
/// case lines.
pub fn target_file_end_to_end(scenarios: &str) -> Result<String, String> {
    use std::io::BufRead as _;
    use std::process::{Command, Stdio};
    let exe = std::env::current_exe().map_err(|e| format!("this executable: {e}"))?;
    let mut rig = Command::new(&exe);
    crate::process::dies_with_runner(&mut rig);
    let mut rig = rig
        .arg("rig")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("hw-tests rig: {e}"))?;
    let out = rig.stdout.take().ok_or("hw-tests rig: no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufReader::new(out).read_line(&mut line);
        let _ = tx.send(line);
    });
    let result = (|| {
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(120))
            .map_err(|_| "hw-tests rig did not report ready within 120 s".to_string())?;
        let file = line
            .trim()
            .strip_prefix("ready ")
            .ok_or_else(|| format!("hw-tests rig said `{}`", line.trim()))?;
        let run = Command::new(&exe)
            .args(["run", "system", "--target", file, "--scenario", scenarios])
            .output()
            .map_err(|e| format!("hw-tests run system --target: {e}"))?;
        let text = String::from_utf8_lossy(&run.stdout).into_owned();
        let summary = text.lines().last().unwrap_or_default().to_owned();
        let cases: Vec<&str> =
            text.lines().filter(|l| l.starts_with("PASS ") || l.starts_with("FAIL ")).collect();
        let want = format!("{} passed, 0 failed", scenarios.split(',').count() + 1);
        if run.status.success() && summary == want {
            Ok(format!(
                "`hw-tests run system --target <rig>/target.toml --scenario {scenarios}`: {summary} ({})",
                cases.join(" | ")
            ))
        } else {
            Err(format!(
                "`hw-tests run system --target {file} --scenario {scenarios}` ended {} with `{summary}` (expected `{want}`):\n{text}{}",
                run.status,
                String::from_utf8_lossy(&run.stderr)
            ))
        }
    })();
    drop(rig.stdin.take());
    let _ = rig.wait();
    result
}
