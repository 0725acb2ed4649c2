//! `failoverd demo`: two controllers as two processes on loopback, with simulated
//! disks, watchdogs and VIPs (no root, no hardware).
//!
//! It writes configurations A and B into a fresh directory, starts both services,
//! waits for them to settle (A active, B standby), kills the active with SIGKILL, and
//! prints the takeover timeline as the survivor measured it (detection, fence, import,
//! total) next to the wall time from the kill to the survivor reporting MASTER. It
//! exits 0 only if the takeover happened and was safe: the survivor holds every disk
//! and the VIP, and the disks' logs show no write through the old active's key after
//! the survivor's fence.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::api::client::ApiClient;
use crate::api::types::StatusJson;
use crate::backend::SimDiskSet;
use crate::backend::sim_disk::check_log;
use failover_core::node::ReservationKey;
use failover_core::wire::Controller;

const CONFIG_A: &str = include_str!("../examples/controller-a.toml");
const CONFIG_B: &str = include_str!("../examples/controller-b.toml");
const EXAMPLE_DIR: &str = "/tmp/failoverd-demo";
const SETTLE_LIMIT: Duration = Duration::from_secs(15);
const TAKEOVER_LIMIT: Duration = Duration::from_secs(10);

/// Why the demo failed.
#[derive(Debug, thiserror::Error)]
#[error("demo failed: {0}")]
pub struct DemoError(String);

fn err(s: impl Into<String>) -> DemoError {
    DemoError(s.into())
}

struct Proc {
    name: char,
    child: Child,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write_config(dir: &Path, template: &str, name: char) -> Result<PathBuf, DemoError> {
    let text = template
        .replace(EXAMPLE_DIR, &dir.to_string_lossy())
        // The demo serves the API on the Unix socket only.
        .lines()
        .filter(|l| !l.trim_start().starts_with("tcp ="))
        .collect::<Vec<_>>()
        .join("\n");
    let path = dir.join(format!("controller-{}.toml", name.to_ascii_lowercase()));
    std::fs::write(&path, text).map_err(|e| err(format!("{}: {e}", path.display())))?;
    Ok(path)
}

fn spawn(exe: &Path, config: &Path, log: &Path, name: char) -> Result<Proc, DemoError> {
    let out = std::fs::File::create(log).map_err(|e| err(format!("{}: {e}", log.display())))?;
    let child = Command::new(exe)
        .args(["run", "--config"])
        .arg(config)
        .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()))
        .stdin(Stdio::null())
        .stdout(out.try_clone().map_err(|e| err(e.to_string()))?)
        .stderr(out)
        .spawn()
        .map_err(|e| err(format!("starting {}: {e}", exe.display())))?;
    Ok(Proc { name, child })
}

async fn status(c: &ApiClient) -> Option<StatusJson> {
    c.status().await.ok()
}

async fn wait_for(
    c: &ApiClient,
    limit: Duration,
    want: impl Fn(&StatusJson) -> bool,
) -> Option<(StatusJson, Duration)> {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if let Some(s) = status(c).await
            && want(&s)
        {
            return Some((s, t0.elapsed()));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    None
}

fn line(s: &StatusJson) -> String {
    let reasons =
        if s.disabled_reasons.is_empty() { "none".to_string() } else { s.disabled_reasons.join(",") };
    format!(
        "{} {:<9} epoch {:<3} peer {:<10} disabled reasons: {reasons}",
        s.node, s.status, s.epoch, s.peer.verdict
    )
}

/// Run the demo; prints as it goes.
pub async fn run(keep: bool) -> Result<(), DemoError> {
    let dir = std::env::temp_dir().join(format!("failoverd-demo-{}", std::process::id()));
    for sub in ["a", "b", "disks"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(|e| err(format!("{}: {e}", dir.display())))?;
    }
    let mut key = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut key))
        .map_err(|e| err(format!("/dev/urandom: {e}")))?;
    std::fs::write(dir.join("link.key"), key).map_err(|e| err(e.to_string()))?;
    let cfg_a = write_config(&dir, CONFIG_A, 'A')?;
    let cfg_b = write_config(&dir, CONFIG_B, 'B')?;
    let exe = std::env::current_exe().map_err(|e| err(e.to_string()))?;
    println!("failoverd demo: two controllers on loopback, simulated disks / watchdogs / VIPs");
    println!("  directory {}", dir.display());
    println!("  heartbeat 10 ms, failover timeout 50 ms (controller-a.toml [failover])");

    let client_a = ApiClient::new(dir.join("a/failoverd.sock"));
    let client_b = ApiClient::new(dir.join("b/failoverd.sock"));
    let t0 = Instant::now();
    let a = spawn(&exe, &cfg_a, &dir.join("a/failoverd.log"), 'A')?;
    let b = spawn(&exe, &cfg_b, &dir.join("b/failoverd.log"), 'B')?;
    let Some((sa, _)) = wait_for(&client_a, SETTLE_LIMIT, |s| s.status == "MASTER").await else {
        return Err(err(format!("A did not become active; see {}/a/failoverd.log", dir.display())));
    };
    let Some((sb, _)) =
        wait_for(&client_b, SETTLE_LIMIT, |s| s.status == "BACKUP" && s.peer.verdict == "alive").await
    else {
        return Err(err(format!("B did not become standby; see {}/b/failoverd.log", dir.display())));
    };
    println!(
        "\nsettled after {:.0} ms (both booted together: the designated primary A won the election):",
        t0.elapsed().as_secs_f64() * 1e3
    );
    println!("  {}\n  {}", line(&sa), line(&sb));
    // Let the active write for a while.
    tokio::time::sleep(Duration::from_millis(300)).await;

    println!("\nkilling the active (A, pid {}) with SIGKILL ...", a.child.id());
    // SAFETY: kill(2) on our own child's pid with SIGKILL.
    unsafe {
        libc::kill(a.child.id() as i32, libc::SIGKILL);
    }
    let a_name = a.name;
    drop(a);
    let Some((sb, wall)) =
        wait_for(&client_b, TAKEOVER_LIMIT, |s| s.status == "MASTER" || s.status == "SINGLE").await
    else {
        return Err(err(format!("B did not take over; see {}/b/failoverd.log", dir.display())));
    };
    let tl = sb.last_failover.clone().ok_or_else(|| err("B is active but reports no failover timeline"))?;
    let f = |v: Option<f64>| v.map_or("-".to_string(), |m| format!("{m:.1} ms"));
    println!("\ntakeover timeline (measured by B, cause {}, epoch {}):", tl.cause, tl.epoch);
    println!("  detection  {:>10}   A's last heartbeat to B's decision", f(tl.detect_ms));
    println!("  fence      {:>10}   decision to disks reserved (epoch persisted first)", f(tl.fence_ms));
    println!("  import     {:>10}   pools imported (hooks)", f(tl.import_ms));
    println!("  total      {:>10}   A's last heartbeat to B active", f(tl.total_ms));
    println!(
        "  wall clock {:>10}   SIGKILL to B reporting MASTER over its API",
        format!("{:.1} ms", wall.as_secs_f64() * 1e3)
    );

    // Let B write, then audit the disks.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let disks = SimDiskSet::open(dir.join("disks"), 4, Controller::B).map_err(|e| err(e.to_string()))?;
    let mut writes = 0usize;
    for i in 0..disks.disk_count() {
        let log = disks.read_records(i).map_err(|e| err(e.to_string()))?;
        check_log(&log).map_err(|v| err(format!("disk {i}: {v:?}")))?;
        writes += log.len();
        let r = disks.read_reservation(i).map_err(|e| err(e.to_string()))?;
        let holder = r.reservation.and_then(|d| ReservationKey::from_u64(d.key));
        if holder.map(|k| k.controller()) != Some(Controller::B) {
            return Err(err(format!("disk {i} is not reserved by B: {holder:?}")));
        }
    }
    let vip = std::fs::read_to_string(dir.join("vips")).unwrap_or_default();
    if vip.trim() != "B" {
        return Err(err(format!("the VIP is on `{}`, not B", vip.trim())));
    }
    println!(
        "\nsafety: all 4 disks reserved by B; VIP on B; {writes} log entries checked: no write through A's key after B's fence"
    );
    println!("\nfinal status:");
    println!("  {a_name} down (killed)");
    println!("  {}", line(&sb));
    let ok = tl.detect_ms.is_some() && tl.total_ms.is_some();
    drop(b);
    if !keep {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        println!("\nkept {}", dir.display());
    }
    if ok { Ok(()) } else { Err(err("the timeline is incomplete")) }
}
