//! Headless Chromium under chromedriver, installed from Debian when missing.
//!
//! Chromium runs as root here, so it needs `--no-sandbox`; the machine has no
//! internet, so everything Chromium would fetch by itself (component updates, sync,
//! safe browsing lists, QUIC probes) is switched off, or its refused connections slow
//! every page. A fresh profile per run (`--user-data-dir`) keeps cookies from leaking
//! between runs.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use super::webdriver::{self, Session};

/// The Debian packages: the browser, its WebDriver, and openssl for the test
/// certificate.
pub const PACKAGES: &[&str] = &["chromium", "chromium-driver", "openssl"];

/// Chromium's switches (see the module doc).
pub const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--disable-background-timer-throttling",
    "--window-size=1366,960",
];

/// chromedriver and the session it drives; both ended on drop.
#[derive(Debug)]
pub struct Browser {
    /// The WebDriver session; ended before chromedriver is stopped, so it closes
    /// Chromium rather than orphaning it.
    session: Option<Session>,
    driver: Child,
    log: PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        drop(self.session.take());
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn first_existing(paths: &[&str]) -> Option<PathBuf> {
    paths.iter().map(PathBuf::from).find(|p| p.is_file())
}

/// A free TCP port on loopback (bound and released: good enough on a test machine).
pub fn free_tcp_port() -> io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Browser {
    /// Install what is missing, start chromedriver (its log at `dir/chromedriver.log`)
    /// and open a session with a fresh profile under `dir`.
    pub fn start(dir: &Path) -> Result<Self, String> {
        crate::vm::packages::install_missing(PACKAGES)?;
        let chrome = first_existing(&["/usr/lib/chromium/chromium", "/usr/bin/chromium"]).ok_or(
            "chromium is installed but no binary found at /usr/lib/chromium/chromium or /usr/bin/chromium",
        )?;
        let driver_bin = first_existing(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"])
            .ok_or("chromium-driver is installed but /usr/bin/chromedriver is missing")?;
        let port = free_tcp_port().map_err(|e| format!("no free port for chromedriver: {e}"))?;
        let log = dir.join("chromedriver.log");
        let mut cmd = Command::new(&driver_bin);
        cmd.arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        crate::process::dies_with_runner(&mut cmd);
        let mut driver = cmd.spawn().map_err(|e| format!("starting {}: {e}", driver_bin.display()))?;
        let t0 = Instant::now();
        loop {
            match webdriver::command(port, "GET", "/status", None) {
                Ok(v) if v["ready"].as_bool() == Some(true) => break,
                _ if t0.elapsed() > Duration::from_secs(20) => {
                    let _ = driver.kill();
                    let _ = driver.wait();
                    return Err(format!(
                        "chromedriver did not come up on port {port}; see {}",
                        log.display()
                    ));
                }
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        let profile = dir.join("chromium-profile");
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|s| (*s).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let caps = json!({
            "alwaysMatch": {
                "browserName": "chrome",
                // Controller B's UI serves HTTPS with a self-signed test certificate.
                "acceptInsecureCerts": true,
                "goog:chromeOptions": { "binary": chrome, "args": args }
            }
        });
        match Session::new(port, &caps) {
            Ok(session) => Ok(Self { session: Some(session), driver, log }),
            Err(e) => {
                let _ = driver.kill();
                let _ = driver.wait();
                Err(format!("no browser session: {e}; see {}", log.display()))
            }
        }
    }

    /// The session.
    pub fn session(&self) -> &Session {
        // Always `Some` until drop.
        self.session.as_ref().unwrap_or_else(|| unreachable!("the session is taken only on drop"))
    }

    /// chromedriver's log.
    pub fn log(&self) -> &Path {
        &self.log
    }
}
