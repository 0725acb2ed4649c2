//! Config sync and pool-key escrow end to end: two real `failoverd` processes on
//! loopback with simulated disks, watchdogs and VIPs (as `failoverd demo` runs them),
//! driven through their management APIs.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use failover_linux::api::client::ApiClient;
use failover_linux::api::types::{NetworkJson, StatusJson, SyncJson, UnlockJson};
use failover_linux::config;
use hyper::StatusCode;

const CONFIG_A: &str = include_str!("../examples/controller-a.toml");
const CONFIG_B: &str = include_str!("../examples/controller-b.toml");
const EXAMPLE_DIR: &str = "/tmp/failoverd-demo";
const SETTLE: Duration = Duration::from_secs(20);
const PASSPHRASE: &str = "correct horse battery staple";

struct Daemon {
    child: Child,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two controllers' files in one temporary directory; `net` picks the link addresses
/// (127.0.`net`.1 and .2), so tests running at once do not hear each other.
struct Pair {
    dir: tempfile::TempDir,
    a: Option<Daemon>,
    b: Option<Daemon>,
}

impl Pair {
    fn new(net: u8, edit_a: impl Fn(String) -> String, edit_b: impl Fn(String) -> String) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["a", "b", "disks"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        std::fs::write(dir.path().join("link.key"), [0x5A; 32]).expect("key");
        let pair = Self { dir, a: None, b: None };
        std::fs::write(pair.config('A'), edit_a(pair.render(CONFIG_A, net))).expect("config A");
        std::fs::write(pair.config('B'), edit_b(pair.render(CONFIG_B, net))).expect("config B");
        pair
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn render(&self, template: &str, net: u8) -> String {
        template
            .replace(EXAMPLE_DIR, &self.path().to_string_lossy())
            .replace("127.0.10.1:7600", &format!("127.0.{net}.1:7600"))
            .replace("127.0.10.2:7600", &format!("127.0.{net}.2:7600"))
            .lines()
            .filter(|l| !l.trim_start().starts_with("tcp ="))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn config(&self, c: char) -> PathBuf {
        self.path().join(format!("controller-{}.toml", c.to_ascii_lowercase()))
    }

    fn client(&self, c: char) -> ApiClient {
        ApiClient::new(self.path().join(format!("{}/failoverd.sock", c.to_ascii_lowercase())))
            .with_timeout(Duration::from_secs(20))
    }

    fn spawn(&self, c: char) -> Daemon {
        let log = self.path().join(format!("{}/failoverd.log", c.to_ascii_lowercase()));
        let out = std::fs::File::create(&log).expect("log");
        let child = Command::new(env!("CARGO_BIN_EXE_failoverd"))
            .args(["run", "--config"])
            .arg(self.config(c))
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log"))
            .stderr(out)
            .spawn()
            .expect("failoverd starts");
        Daemon { child }
    }

    fn start(&mut self) {
        self.a = Some(self.spawn('A'));
        self.b = Some(self.spawn('B'));
    }

    fn logs(&self) -> String {
        let read =
            |c: &str| std::fs::read_to_string(self.path().join(c).join("failoverd.log")).unwrap_or_default();
        format!("--- A's log ---\n{}\n--- B's log ---\n{}", read("a"), read("b"))
    }

    /// Wait until `want` holds for `c`'s status; panics with both logs otherwise.
    async fn wait_status(&self, c: char, what: &str, want: impl Fn(&StatusJson) -> bool) -> StatusJson {
        let client = self.client(c);
        let t0 = Instant::now();
        let mut last = None;
        while t0.elapsed() < SETTLE {
            if let Ok(s) = client.status().await {
                if want(&s) {
                    return s;
                }
                last = Some(s);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{c}: {what} not reached; last status {last:?}\n{}", self.logs());
    }

    /// Wait until `c`'s virtual hostname is `want`.
    async fn wait_virtual_hostname(&self, c: char, want: &str) {
        let client = self.client(c);
        let t0 = Instant::now();
        let mut last = None;
        while t0.elapsed() < SETTLE {
            let n = client.network().await.expect("network");
            if n.hostname_virtual == want {
                return;
            }
            last = Some(n);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{c}: virtual hostname never became {want}; last {last:?}\n{}", self.logs());
    }

    /// Wait until both are settled (A active, B standby, each hearing the other) with
    /// the same configuration (no MISMATCH_CONFIG on either side).
    async fn wait_in_sync(&self) {
        let in_sync = |s: &StatusJson| {
            s.peer.verdict == "alive" && !s.disabled_reasons.iter().any(|r| r == "MISMATCH_CONFIG")
        };
        self.wait_status('A', "MASTER and in sync", |s| s.status == "MASTER" && in_sync(s)).await;
        self.wait_status('B', "BACKUP and in sync", |s| s.status == "BACKUP" && in_sync(s)).await;
    }

    fn kill(&mut self, c: char) {
        let d = if c == 'A' { self.a.take() } else { self.b.take() };
        drop(d);
    }
}

async fn set_virtual_hostname(client: &ApiClient, name: &str) {
    let n = client.network().await.expect("network");
    let n = NetworkJson { hostname_virtual: name.to_string(), ..n };
    client.set_network(&n).await.expect("set network");
}

fn sync(direction: &str) -> SyncJson {
    SyncJson { direction: direction.to_string() }
}

fn shared_digest(path: &Path) -> String {
    let c = config::load(path).unwrap_or_else(|e| panic!("{} does not load: {e}", path.display()));
    format!("{:?}", c.shared.digest())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_active_pushes_its_configuration_and_manual_sync_works_both_ways() {
    // B starts with another virtual hostname and failover timeout: a config mismatch.
    let mut pair = Pair::new(
        41,
        |a| a,
        |b| {
            let b = b.replace("hostname_virtual = \"nas\"", "hostname_virtual = \"nas-old\"");
            b.replace("timeout_ms = 50", "timeout_ms = 60")
        },
    );
    let original_a = std::fs::read_to_string(pair.config('A')).expect("A's file");
    assert_ne!(shared_digest(&pair.config('A')), shared_digest(&pair.config('B')));
    pair.start();
    let (a, b) = (pair.client('A'), pair.client('B'));

    // Automatic: the active (A) pushes; B applies it, in force and on disk.
    pair.wait_in_sync().await;
    assert_eq!(b.network().await.expect("network").hostname_virtual, "nas");
    assert_eq!(b.settings().await.expect("settings").timeout_ms, 50, "B's node runs the pushed settings");
    assert_eq!(shared_digest(&pair.config('B')), shared_digest(&pair.config('A')), "B's file was rewritten");
    let bak = std::fs::read_to_string(pair.path().join("controller-b.toml.bak")).expect("B's .bak");
    assert!(bak.contains("hostname_virtual = \"nas-old\""), "the previous file is kept");
    assert_eq!(
        std::fs::read_to_string(pair.config('A')).expect("A's file"),
        original_a,
        "the active never applies"
    );

    // Manual to-peer from the standby: the active applies it because it was asked to.
    set_virtual_hostname(&b, "nas-edit").await;
    b.sync(&sync("to-peer")).await.expect("sync to-peer");
    assert_eq!(a.network().await.expect("network").hostname_virtual, "nas-edit");
    let a_file = config::load(&pair.config('A')).expect("A's file loads");
    assert_eq!(a_file.shared.network.hostname_virtual, "nas-edit", "A persisted it");
    pair.wait_virtual_hostname('B', "nas-edit").await;
    pair.wait_in_sync().await;

    // Manual from-peer on the active: it takes the standby's.
    set_virtual_hostname(&b, "nas-pull").await;
    a.sync(&sync("from-peer")).await.expect("sync from-peer");
    assert_eq!(a.network().await.expect("network").hostname_virtual, "nas-pull");
    pair.wait_virtual_hostname('B', "nas-pull").await;
    pair.wait_in_sync().await;
    assert_eq!(shared_digest(&pair.config('A')), shared_digest(&pair.config('B')));
    // Already identical: both directions succeed at once.
    a.sync(&sync("to-peer")).await.expect("to-peer when in sync");
    b.sync(&sync("from-peer")).await.expect("from-peer when in sync");

    // Refusals: a bad direction (400); unlock without an encrypted pool (409); the
    // peer gone from the host link (409).
    assert_eq!(a.sync(&sync("sideways")).await.expect_err("bad").status(), Some(StatusCode::BAD_REQUEST));
    let e = a.unlock(&UnlockJson { passphrase: PASSPHRASE.into() }).await.expect_err("no encrypted pool");
    assert_eq!(e.status(), Some(StatusCode::CONFLICT));
    pair.kill('B');
    pair.wait_status('A', "B gone from the host link", |s| !s.peer.host_link.up).await;
    for direction in ["to-peer", "from-peer"] {
        let e = a.sync(&sync(direction)).await.expect_err("peer unreachable");
        assert_eq!(e.status(), Some(StatusCode::CONFLICT), "{direction}: {e}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pool_key_is_escrowed_to_the_standby_and_used_at_takeover() {
    let dir_marker = "@DIR@";
    let encrypted = move |text: String, dir: &Path| {
        text.replace(
            "import_hook = [\"echo\", \"demo: import tank\"]",
            &format!("import_hook = [\"sh\", \"-c\", \"cat > {dir_marker}/key-$FAILOVER_NODE\"]"),
        )
        .replace("encrypted = false", "encrypted = true")
        .replace(dir_marker, &dir.to_string_lossy())
    };
    let mut pair = Pair::new(42, |a| a, |b| b);
    let dir = pair.path().to_path_buf();
    for c in ['A', 'B'] {
        let text = std::fs::read_to_string(pair.config(c)).expect("config");
        std::fs::write(pair.config(c), encrypted(text, &dir)).expect("config");
    }
    pair.start();
    let (a, b) = (pair.client('A'), pair.client('B'));
    pair.wait_in_sync().await;

    // Nobody holds a key: both say so; A imported without one (empty stdin).
    for c in [&a, &b] {
        assert!(c.status().await.expect("status").passphrase_needed);
    }
    assert_eq!(std::fs::read_to_string(dir.join("key-A")).expect("A's import ran"), "");
    let e = a.unlock(&UnlockJson { passphrase: String::new() }).await.expect_err("empty");
    assert_eq!(e.status(), Some(StatusCode::BAD_REQUEST));

    // Unlock the active; the key reaches the standby's memory.
    a.unlock(&UnlockJson { passphrase: PASSPHRASE.into() }).await.expect("unlock");
    assert!(!a.status().await.expect("status").passphrase_needed);
    pair.wait_status('B', "key escrowed", |s| !s.passphrase_needed).await;

    // The active dies; the standby imports with the escrowed key on the hook's stdin.
    pair.kill('A');
    pair.wait_status('B', "active after A died", |s| s.status == "MASTER" || s.status == "SINGLE").await;
    let t0 = Instant::now();
    loop {
        let got = std::fs::read_to_string(dir.join("key-B")).unwrap_or_default();
        if got == PASSPHRASE {
            break;
        }
        assert!(t0.elapsed() < SETTLE, "B's import hook got `{got}` on stdin\n{}", pair.logs());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!b.status().await.expect("status").passphrase_needed);
}
