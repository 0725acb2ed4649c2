//! The `ui` suite: the administrator's web UI in a real browser (headless Chromium
//! driven over WebDriver) against two real `failoverd` processes with simulated
//! backends on loopback. Controller A serves its UI over HTTP, B over HTTPS with a
//! self-signed certificate.
//!
//! The cases run in order on one pair and one browser, each starting from where the
//! previous one left the system (as an administrator's session would): sign-in
//! refused and accepted, A active / B standby on both UIs, a POST without its CSRF
//! token refused, an interface edit refused while failover is enabled, a hostile host
//! name shown escaped, Sync to Peer through its confirmation, failover disabled with
//! the reason appearing, the status updating live when the peer dies, the pools'
//! passphrase asked for after both controllers rebooted, and Force Takeover offered
//! and carried out when both are standby. Every page is saved as a PNG under
//! `<target>/ui/` (and `FAIL-<case>.png` when a case fails) so a person can look.

pub mod browser;
pub mod controllers;
pub mod webdriver;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use failover_core::wire::Controller::{A, B};

use crate::report::{CaseResult, guarded};
use browser::Browser;
use controllers::{Controllers, PASSWORD};
use webdriver::Session;

/// Long enough for two live refreshes (every 2 s) and a takeover.
const WAIT: Duration = Duration::from_secs(10);

type Case = fn(&mut Ctx) -> Result<String, String>;

/// The cases, in the order they run.
const CASES: &[(&str, Case)] = &[
    ("wrong-password-refused", wrong_password_refused),
    ("login", login),
    ("a-active-b-standby", a_active_b_standby),
    ("post-without-csrf-refused", post_without_csrf_refused),
    ("interface-edit-refused", interface_edit_refused),
    ("hostname-shown-escaped", hostname_shown_escaped),
    ("sync-to-peer-confirmed", sync_to_peer_confirmed),
    ("disable-failover-shows-reason", disable_failover_shows_reason),
    ("live-update-peer-lost", live_update_peer_lost),
    ("unlock-after-both-rebooted", unlock_after_both_rebooted),
    ("force-takeover-both-standby", force_takeover_both_standby),
];

/// What the cases share.
struct Ctx {
    pair: Controllers,
    browser: Browser,
    shots: PathBuf,
    saved: Vec<String>,
}

fn ensure(ok: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(msg()) }
}

fn wd<T>(r: Result<T, webdriver::WdError>) -> Result<T, String> {
    r.map_err(|e| e.to_string())
}

impl Ctx {
    fn s(&self) -> &Session {
        self.browser.session()
    }

    fn goto(&self, c: failover_core::wire::Controller, path: &str) -> Result<(), String> {
        wd(self.s().goto(&format!("{}{path}", self.pair.url(c))))
    }

    /// Save the viewport as `<name>.png`.
    fn shot(&mut self, name: &str) -> Result<(), String> {
        let png = wd(self.s().screenshot())?;
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png).map_err(|e| format!("{}: {e}", path.display()))?;
        self.saved.push(format!("{name}.png"));
        Ok(())
    }

    fn wait(&self, css: &str, want: impl Fn(&str) -> bool) -> Result<String, String> {
        self.s().wait_text(css, WAIT, want)
    }

    fn sign_in(&self, c: failover_core::wire::Controller, password: &str) -> Result<(), String> {
        self.goto(c, "/login")?;
        wd(self.s().fill("#password", password))?;
        wd(self.s().click("button[type=submit]"))
    }

    fn diagnostics(&self) -> String {
        let url = self.s().url().unwrap_or_default();
        let text = self.s().text("body").unwrap_or_default();
        let text: String = text.chars().take(700).collect();
        format!("\n  page {url}:\n  {}{}", text.replace('\n', "\n  "), self.pair.log_tails())
    }
}

/// The screenshots' directory: `<target>/ui/`, next to the profile directory this
/// executable runs from.
fn shots_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    exe.parent()
        .and_then(Path::parent)
        .map(|t| t.join("ui"))
        .ok_or_else(|| format!("{} is not in a cargo target directory", exe.display()))
}

fn setup() -> Result<Ctx, String> {
    let bins = super::rig::Binaries::locate()?;
    let shots = shots_dir()?;
    std::fs::create_dir_all(&shots).map_err(|e| format!("{}: {e}", shots.display()))?;
    let mut pair = Controllers::new(&bins)?;
    pair.start(B)?;
    pair.start(A)?;
    pair.wait_status(A, "MASTER with B alive", |s| s.status == "MASTER" && s.peer.verdict == "alive")?;
    pair.wait_status(B, "BACKUP with A alive", |s| s.status == "BACKUP" && s.peer.verdict == "alive")?;
    let browser = Browser::start(&shots).map_err(|e| format!("{e}{}", pair.log_tails()))?;
    Ok(Ctx { pair, browser, shots, saved: Vec::new() })
}

/// Run the suite.
pub fn run() -> Vec<CaseResult> {
    let t0 = Instant::now();
    let mut ctx = match setup() {
        Ok(c) => c,
        Err(e) => {
            return vec![CaseResult { name: "ui/setup".into(), outcome: Err(e), elapsed: t0.elapsed() }];
        }
    };
    println!(
        "ui: A at {}, B at {}, chromedriver log {}, screenshots in {}",
        ctx.pair.url(A),
        ctx.pair.url(B),
        ctx.browser.log().display(),
        ctx.shots.display()
    );
    let mut results = Vec::new();
    for (name, case) in CASES {
        let t = Instant::now();
        let outcome = guarded(|| case(&mut ctx));
        let outcome = outcome.map_err(|e| {
            let _ = ctx.shot(&format!("FAIL-{name}"));
            format!("{e}{}", ctx.diagnostics())
        });
        results.push(CaseResult { name: format!("ui/{name}"), outcome, elapsed: t.elapsed() });
    }
    println!(
        "ui: {} cases in {:.1} s; {} screenshots in {}: {}",
        results.len(),
        t0.elapsed().as_secs_f64(),
        ctx.saved.len(),
        ctx.shots.display(),
        ctx.saved.join(" ")
    );
    results
}

// ------------------------------------------------------------------ cases ----------

fn wrong_password_refused(x: &mut Ctx) -> Result<String, String> {
    x.goto(A, "/")?;
    let url = wd(x.s().url())?;
    ensure(url.ends_with("/login"), || format!("an unauthenticated visit to / ended at {url}, not /login"))?;
    x.shot("01-login")?;
    x.sign_in(A, "not-the-password")?;
    let msg = x.wait("#login-error", |t| t.contains("Wrong password."))?;
    ensure(!wd(x.s().exists("#ha"))?, || "a wrong password showed a signed-in page".into())?;
    x.shot("02-login-wrong-password")?;
    Ok(format!("`{msg}`, still on the sign-in page"))
}

fn login(x: &mut Ctx) -> Result<String, String> {
    x.sign_in(A, PASSWORD)?;
    x.wait("#ha", |t| !t.is_empty())?;
    let url = wd(x.s().url())?;
    // The encrypted pool's key is not held yet: sign-in goes to the unlock page.
    ensure(url.ends_with("/unlock"), || format!("signed in at {url}, expected /unlock (passphrase needed)"))?;
    // The session cookie is HttpOnly: invisible to page scripts.
    let cookies = wd(x.s().execute("return document.cookie;"))?;
    ensure(!cookies.as_str().unwrap_or_default().contains("failoverd-"), || {
        format!("the session cookie is visible to scripts: {cookies}")
    })?;
    Ok(format!("signed in on A, sent to {url}; document.cookie {cookies}"))
}

fn a_active_b_standby(x: &mut Ctx) -> Result<String, String> {
    x.goto(A, "/")?;
    let a = x.wait("#ha", |t| {
        t.contains("HA enabled") && t.contains("A active (MASTER) · peer B standby (BACKUP), healthy")
    })?;
    let peer = wd(x.s().text("#peer-status"))?;
    ensure(peer.contains("BACKUP"), || format!("A's dashboard shows the peer as {peer}"))?;
    x.shot("03-dashboard-a")?;
    x.sign_in(B, PASSWORD)?;
    x.wait("#ha", |t| !t.is_empty())?;
    x.goto(B, "/")?;
    let b = x.wait("#ha", |t| {
        t.contains("HA enabled") && t.contains("B standby (BACKUP) · peer A active (MASTER), healthy")
    })?;
    let url = wd(x.s().url())?;
    ensure(url.starts_with("https://"), || format!("B's UI is not HTTPS: {url}"))?;
    x.shot("04-dashboard-b")?;
    Ok(format!("A: {:?}; B over HTTPS: {:?}", first_line(&a, 1), first_line(&b, 1)))
}

fn first_line(s: &str, n: usize) -> String {
    s.lines().nth(n).unwrap_or_default().to_owned()
}

fn post_without_csrf_refused(x: &mut Ctx) -> Result<String, String> {
    x.goto(A, "/system/failover")?;
    x.shot("05-failover")?;
    wd(x.s().execute(
        "document.querySelector('#settings input[name=csrf]').remove();\
         document.getElementById('disabled').checked = true;\
         document.getElementById('settings').submit();",
    ))?;
    let msg = x.wait("#refused", |t| t.contains("security token (csrf)"))?;
    x.shot("06-csrf-refused")?;
    let s = x.pair.settings(A)?;
    ensure(!s.disabled, || "the POST without a CSRF token disabled failover".into())?;
    Ok(format!("`{msg}`; failover still enabled"))
}

fn interface_edit_refused(x: &mut Ctx) -> Result<String, String> {
    x.goto(A, "/network/interfaces")?;
    let why = x.wait("#edit-refused", |t| t.contains("cannot be edited while failover is enabled"))?;
    let table = wd(x.s().text("#interfaces"))?;
    ensure(table.contains("192.0.2.100/24") && table.contains("eth1"), || {
        format!("interfaces table: {table}")
    })?;
    x.shot("07-interfaces")?;
    x.goto(A, "/network/interfaces/eth0")?;
    let disabled = wd(x.s().property("#interface-fields", "disabled"))?;
    ensure(disabled.as_bool() == Some(true), || format!("the edit form is not disabled: {disabled}"))?;
    x.shot("08-interface-edit-disabled")?;
    // Force the form open in the page and send it anyway: the service refuses.
    wd(x.s().execute(
        "document.getElementById('interface-fields').disabled = false;\
         document.getElementById('vhid').value = '12';\
         document.getElementById('interface').submit();",
    ))?;
    let refused =
        x.wait("#flash", |t| t.contains("Refused: interfaces cannot be edited while failover is enabled"))?;
    let vhid = x.pair.interfaces(A)?.iter().find(|i| i.name == "eth0").and_then(|i| i.vhid);
    ensure(vhid == Some(10), || format!("the refused edit changed eth0's vhid to {vhid:?}"))?;
    Ok(format!("form disabled with `{why}`; forced POST: `{refused}`; vhid still 10"))
}

fn hostname_shown_escaped(x: &mut Ctx) -> Result<String, String> {
    x.goto(A, "/network/global")?;
    x.shot("09-global-configuration")?;
    let evil = "<script>alert(1)</script>";
    wd(x.s().fill("#hostname_a", evil))?;
    wd(x.s().click("#save"))?;
    let msg = x.wait("#flash", |t| t.contains("hostname_a: `<script>alert(1)</script>` is not a valid"))?;
    ensure(wd(x.s().alert_text())?.is_none(), || "the hostile host name ran as a script".into())?;
    let scripts = wd(x.s().execute("return document.scripts.length;"))?;
    ensure(scripts.as_u64() == Some(1), || format!("{scripts} scripts on the page, expected only app.js"))?;
    x.shot("10-global-configuration-refused")?;
    Ok(format!("`{msg}` shown as text, no alert, one script"))
}

fn sync_to_peer_confirmed(x: &mut Ctx) -> Result<String, String> {
    x.goto(A, "/system/failover")?;
    wd(x.s().click("#sync-to-peer-button"))?;
    let warning = x.wait("#sync-warning", |t| t.contains("only when directed by support"))?;
    x.shot("11-confirm-sync-to-peer")?;
    wd(x.s().click("#confirm"))?;
    wd(x.s().click("#do-it"))?;
    let done = x.wait("#flash", |t| t.contains("Synced"))?;
    Ok(format!("warning shown; `{done}`; ({} chars of warning)", warning.len()))
}

fn disable_failover_shows_reason(x: &mut Ctx) -> Result<String, String> {
    x.goto(A, "/system/failover")?;
    wd(x.s().click("#disabled"))?;
    wd(x.s().click("#save"))?;
    let saved = x.wait("#flash", |t| t.contains("Saved: failover disabled"))?;
    let ha = x.wait("#ha", |t| {
        t.contains("HA unavailable")
            && t.contains("NO_FAILOVER")
            && t.contains("failover is disabled by the administrator")
    })?;
    x.shot("12-failover-disabled")?;
    x.pair.wait_status(B, "reporting NO_FAILOVER (the setting synced)", |s| {
        s.disabled_reasons.iter().any(|r| r == "NO_FAILOVER")
    })?;
    Ok(format!("`{saved}`; indicator: {:?}", ha.replace('\n', " / ")))
}

fn live_update_peer_lost(x: &mut Ctx) -> Result<String, String> {
    x.goto(A, "/")?;
    x.wait("#ha", |t| t.contains("healthy") || t.contains("BACKUP"))?;
    let url = wd(x.s().url())?;
    let t0 = Instant::now();
    x.pair.kill(B);
    // No navigation: the page's script must bring the change.
    let ha = x.wait("#ha", |t| t.contains("peer B") && !t.contains("healthy"))?;
    let took = t0.elapsed();
    let after = wd(x.s().url())?;
    ensure(after == url, || format!("the page navigated ({url} -> {after})"))?;
    x.shot("13-dashboard-peer-lost")?;
    Ok(format!(
        "B killed; A's open dashboard showed {:?} after {:.1} s without reload",
        first_line(&ha, 1),
        took.as_secs_f64()
    ))
}

fn unlock_after_both_rebooted(x: &mut Ctx) -> Result<String, String> {
    x.pair.kill(A);
    x.pair.start(A)?;
    x.pair.start(B)?;
    // Failover is disabled (saved in both files): both boot as standby.
    for c in [A, B] {
        x.pair.wait_status(c, "BACKUP with the peer alive", |s| {
            s.status == "BACKUP" && s.peer.verdict == "alive"
        })?;
    }
    // The open dashboard's session died with A's restart: the page goes to sign-in.
    let t0 = Instant::now();
    while !wd(x.s().url())?.ends_with("/login") {
        ensure(t0.elapsed() < WAIT, || {
            "the open page did not go to the sign-in page after A restarted".into()
        })?;
        std::thread::sleep(Duration::from_millis(100));
    }
    x.sign_in(A, PASSWORD)?;
    let needed = x.wait("#unlock-needed", |t| t.contains("Both controllers rebooted"))?;
    x.shot("14-unlock")?;
    wd(x.s().fill("#passphrase", "correct horse battery staple"))?;
    wd(x.s().click("#save"))?;
    let done = x.wait("#flash", |t| t.contains("Unlocked"))?;
    let s = x.pair.wait_status(A, "holding the key", |s| !s.passphrase_needed)?;
    Ok(format!(
        "redirected to sign-in, then `{}`; `{done}`; passphrase_needed {}",
        first_line(&needed, 0),
        s.passphrase_needed
    ))
}

fn force_takeover_both_standby(x: &mut Ctx) -> Result<String, String> {
    let before = x.pair.status(A)?;
    x.goto(A, "/system/failover")?;
    ensure(wd(x.s().exists("#takeover-button"))?, || "both standby, but no Force Takeover button".into())?;
    x.shot("15-failover-both-standby")?;
    wd(x.s().click("#takeover-button"))?;
    x.wait("#consequence", |t| t.contains("fences the peer"))?;
    x.shot("16-confirm-takeover")?;
    // Unticked, the browser will not send it.
    wd(x.s().click("#do-it"))?;
    std::thread::sleep(Duration::from_millis(300));
    let url = wd(x.s().url())?;
    ensure(url.ends_with("/confirm/takeover"), || format!("the unconfirmed form was sent: now at {url}"))?;
    ensure(x.pair.status(A)?.status == "BACKUP", || "an unconfirmed takeover happened".into())?;
    wd(x.s().click("#confirm"))?;
    wd(x.s().click("#do-it"))?;
    let started = x.wait("#flash", |t| t.contains("Force Takeover started"))?;
    let after = x.pair.wait_status(A, "MASTER", |s| s.status == "MASTER")?;
    ensure(after.epoch > before.epoch, || format!("epoch {} -> {}", before.epoch, after.epoch))?;
    x.goto(A, "/")?;
    let ha = x.wait("#ha", |t| t.contains("A active (MASTER)"))?;
    x.shot("17-dashboard-after-takeover")?;
    let timing = x.wait("#last-failover", |t| t.contains("total"))?;
    ensure(timing.contains("forced"), || format!("the last failover is not the forced one: {timing}"))?;
    x.goto(A, "/system/failover")?;
    x.shot("18-failover-after-takeover")?;
    Ok(format!(
        "`{started}`; A MASTER at epoch {} (was {}); indicator {:?}",
        after.epoch,
        before.epoch,
        first_line(&ha, 1)
    ))
}
