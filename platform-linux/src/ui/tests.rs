//! The UI end to end in-process: its router over a fake control plane, requests as a
//! browser sends them (cookies, forms, CSRF tokens), and one HTTPS round trip.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

use super::password::tests::CHEAP_SECRET;
use super::{ClientAddr, Ui, router};
use crate::api::control::{ControlError, ControlPlane};
use crate::api::types::{
    EventJson, InterfaceJson, LastFailover, NetworkJson, PathState, PeerJson, SettingsJson, StatusJson,
    SyncJson, TakeoverJson, UnlockJson,
};
use crate::config::{TlsFiles, UiConfig};

// ------------------------------------------------------------------ the fake ----------

struct State {
    status: StatusJson,
    settings: SettingsJson,
    network: NetworkJson,
    interfaces: Vec<InterfaceJson>,
    actions: Vec<String>,
}

/// A control plane with the service's rules where the UI depends on them.
struct Fake(Mutex<State>);

fn status(me: &str, peer: &str) -> StatusJson {
    StatusJson {
        node: "A".into(),
        hostname: "nas-a".into(),
        status: me.into(),
        state: if me == "MASTER" { "active" } else { "standby" }.into(),
        epoch: 3,
        disabled_reasons: vec![],
        peer: PeerJson {
            verdict: "alive".into(),
            status: Some(peer.into()),
            host_link: PathState { up: true, last_seen_ms: Some(4) },
            bmc_link: None,
            config_digest: Some("00aa".into()),
        },
        last_failover: Some(LastFailover {
            cause: "peer_silent".into(),
            epoch: 3,
            detect_ms: Some(51.0),
            fence_ms: Some(7.5),
            import_ms: Some(1.25),
            total_ms: Some(60.0),
        }),
        passphrase_needed: false,
        config_digest: "00aa".into(),
    }
}

impl Fake {
    fn new() -> Arc<Self> {
        Arc::new(Self(Mutex::new(State {
            status: status("MASTER", "BACKUP"),
            settings: SettingsJson {
                disabled: false,
                primary: "A".into(),
                timeout_ms: 50,
                heartbeat_interval_ms: 10,
            },
            network: NetworkJson {
                hostname_a: "nas-a".into(),
                hostname_b: "nas-b".into(),
                hostname_virtual: "nas".into(),
            },
            interfaces: vec![InterfaceJson {
                name: "eth0".into(),
                critical: true,
                group: Some(1),
                vhid: Some(10),
                addresses: vec!["192.0.2.10/24".into()],
                peer_addresses: vec!["192.0.2.11/24".into()],
                virtual_addresses: vec!["192.0.2.100/24".into()],
                state: "MASTER".into(),
                carrier: true,
            }],
            actions: vec![],
        })))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().expect("fake poisoned")
    }
}

impl ControlPlane for Fake {
    async fn status(&self) -> StatusJson {
        let s = self.lock();
        let mut st = s.status.clone();
        if s.settings.disabled && !st.disabled_reasons.iter().any(|r| r == "NO_FAILOVER") {
            st.disabled_reasons.push("NO_FAILOVER".into());
        }
        st
    }
    async fn settings(&self) -> SettingsJson {
        self.lock().settings.clone()
    }
    async fn set_settings(&self, s: SettingsJson) -> Result<SettingsJson, ControlError> {
        if s.timeout_ms < 3 * s.heartbeat_interval_ms {
            return Err(ControlError::BadRequest("timeout_ms: must be at least three heartbeats".into()));
        }
        self.lock().settings = s.clone();
        Ok(s)
    }
    async fn takeover(&self, t: TakeoverJson) -> Result<(), ControlError> {
        self.lock().actions.push(format!("takeover force={}", t.force));
        Ok(())
    }
    async fn giveback(&self) -> Result<(), ControlError> {
        self.lock().actions.push("giveback".into());
        Ok(())
    }
    async fn sync(&self, s: SyncJson) -> Result<(), ControlError> {
        self.lock().actions.push(format!("sync {}", s.direction));
        Ok(())
    }
    async fn interfaces(&self) -> Vec<InterfaceJson> {
        self.lock().interfaces.clone()
    }
    async fn set_interface(&self, i: InterfaceJson) -> Result<(), ControlError> {
        let mut s = self.lock();
        if !s.settings.disabled {
            return Err(ControlError::Conflict(
                "interfaces cannot be edited while failover is enabled: disable failover first".into(),
            ));
        }
        s.actions.push(format!("interface {} vhid={:?}", i.name, i.vhid));
        Ok(())
    }
    async fn network(&self) -> NetworkJson {
        self.lock().network.clone()
    }
    async fn set_network(&self, n: NetworkJson) -> Result<NetworkJson, ControlError> {
        if n.hostname_a.contains('<') {
            return Err(ControlError::BadRequest(format!(
                "hostname_a: `{}` is not a valid RFC 1123 host name",
                n.hostname_a
            )));
        }
        self.lock().network = n.clone();
        Ok(n)
    }
    async fn unlock(&self, u: UnlockJson) -> Result<(), ControlError> {
        self.lock().actions.push(format!("unlock {} bytes", u.passphrase.len()));
        self.lock().status.passphrase_needed = false;
        Ok(())
    }
    async fn events(&self) -> Vec<EventJson> {
        vec![
            EventJson { at_ms: 12, what: "started".into() },
            EventJson { at_ms: 2_345, what: "became MASTER at epoch 3".into() },
        ]
    }
    async fn metrics(&self) -> String {
        String::new()
    }
}

// ----------------------------------------------------------------- the client ----------

fn ui_config(tls: Option<TlsFiles>) -> UiConfig {
    UiConfig {
        listen: "127.0.0.1:8443".parse().expect("addr"),
        password_hash: CHEAP_SECRET.into(),
        session_idle: Duration::from_secs(60),
        tls,
    }
}

/// A browser of one: the app, the cookie it holds, the last CSRF token it saw.
struct Browser {
    app: axum::Router,
    ui: Arc<Ui<Fake>>,
    fake: Arc<Fake>,
    cookie: Option<String>,
    csrf: Option<String>,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let enc = |s: &str| {
                s.bytes()
                    .map(|b| {
                        if b.is_ascii_alphanumeric() {
                            char::from(b).to_string()
                        } else {
                            format!("%{b:02X}")
                        }
                    })
                    .collect::<String>()
            };
            format!("{}={}", enc(k), enc(v))
        })
        .collect::<Vec<_>>()
        .join("&")
}

impl Browser {
    fn new() -> Self {
        let fake = Fake::new();
        let ui = Arc::new(Ui::new(fake.clone(), &ui_config(None)));
        let app =
            router(ui.clone()).layer(MockConnectInfo(ClientAddr("127.0.0.1:40000".parse().expect("addr"))));
        Self { app, ui, fake, cookie: None, csrf: None }
    }

    async fn send(&mut self, req: Request<Body>) -> Answer {
        let resp = self.app.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        if let Some(c) = headers.get(header::SET_COOKIE).and_then(|v| v.to_str().ok()) {
            let pair = c.split(';').next().unwrap_or_default();
            self.cookie = pair.split_once('=').filter(|(_, v)| !v.is_empty()).map(|_| pair.to_owned());
        }
        let body = String::from_utf8(resp.into_body().collect().await.expect("body").to_bytes().to_vec())
            .expect("utf-8");
        if let Some(i) = body.find("name=\"csrf\" value=\"") {
            let rest = &body[i + 19..];
            self.csrf = rest.split('"').next().map(str::to_owned);
        }
        Answer { status, headers, body }
    }

    fn request(&self, method: &str, path: &str) -> axum::http::request::Builder {
        let mut b = Request::builder().method(method).uri(path).header(header::HOST, "127.0.0.1:8443");
        if let Some(c) = &self.cookie {
            b = b.header(header::COOKIE, c);
        }
        b
    }

    async fn get(&mut self, path: &str) -> Answer {
        let req = self.request("GET", path).body(Body::empty()).expect("request");
        self.send(req).await
    }

    /// POST `pairs` with the CSRF token the last page carried.
    async fn post(&mut self, path: &str, pairs: &[(&str, &str)]) -> Answer {
        let token = self.csrf.clone().unwrap_or_default();
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(pairs);
        self.post_raw(path, &form(&all)).await
    }

    async fn post_raw(&mut self, path: &str, body: &str) -> Answer {
        let req = self
            .request("POST", path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, "http://127.0.0.1:8443")
            .body(Body::from(body.to_owned()))
            .expect("request");
        self.send(req).await
    }

    async fn signed_in() -> Self {
        let mut b = Self::new();
        b.get("/login").await;
        let a = b.post("/login", &[("password", "secret")]).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
        b
    }
}

// -------------------------------------------------------------------- tests ----------

#[tokio::test]
async fn pages_need_a_session_and_fragments_answer_401() {
    let mut b = Browser::new();
    for path in
        ["/", "/system/failover", "/network/global", "/network/interfaces", "/unlock", "/confirm/takeover"]
    {
        let a = b.get(path).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(a.location(), "/login", "{path}");
    }
    assert_eq!(b.get("/live/ha").await.status, StatusCode::UNAUTHORIZED);
    // An action without a session changes nothing.
    let a = b.post_raw("/actions/takeover", "confirm=yes").await;
    assert_eq!(a.location(), "/login");
    assert!(b.fake.lock().actions.is_empty());
}

#[tokio::test]
async fn sign_in_sets_a_strict_cookie_and_replaces_the_session_id() {
    let mut b = Browser::new();
    let a = b.get("/login").await;
    assert_eq!(a.status, StatusCode::OK);
    let cookie = a.headers.get(header::SET_COOKIE).and_then(|v| v.to_str().ok()).expect("cookie").to_owned();
    assert!(cookie.starts_with("failoverd-8443="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "no Secure without TLS: {cookie}");
    let pending = b.cookie.clone();
    let a = b.post("/login", &[("password", "secret")]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.location(), "/");
    assert_ne!(b.cookie, pending, "a new session id after sign-in");
    let a = b.get("/").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains("HA Status") && a.body.contains("HA enabled"), "{}", a.body);
    assert_eq!(b.ui.sessions().len(), 1, "the pending session is gone");
}

#[tokio::test]
async fn a_wrong_password_is_refused_then_rate_limited() {
    let mut b = Browser::new();
    b.get("/login").await;
    for _ in 0..super::ratelimit::FREE_FAILURES + 1 {
        let a = b.post("/login", &[("password", "Secret")]).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert!(a.body.contains("Wrong password."), "{}", a.body);
    }
    let a = b.post("/login", &[("password", "secret")]).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "locked out even with the right password");
    assert!(a.body.contains("Too many failed sign-ins"), "{}", a.body);
    assert!(a.headers.contains_key(header::RETRY_AFTER));
    assert_eq!(b.get("/").await.location(), "/login");
}

#[tokio::test]
async fn sign_in_without_the_form_token_is_refused() {
    let mut b = Browser::new();
    b.get("/login").await;
    let a = b.post_raw("/login", "password=secret").await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(a.body.contains("csrf"), "{}", a.body);
    // No cookie at all (a form posted from elsewhere).
    let mut c = Browser::new();
    assert_eq!(c.post_raw("/login", "password=secret&csrf=00").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn actions_without_the_csrf_token_or_from_another_origin_are_refused() {
    let mut b = Browser::signed_in().await;
    b.get("/system/failover").await;
    let a =
        b.post_raw("/system/failover", "disabled=on&primary=A&timeout_ms=50&heartbeat_interval_ms=10").await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(a.body.contains("security token (csrf)"), "{}", a.body);
    let a = b
        .post_raw(
            "/system/failover",
            "csrf=0000&disabled=on&primary=A&timeout_ms=50&heartbeat_interval_ms=10",
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(!b.fake.lock().settings.disabled, "nothing changed");
    // The right token from another origin.
    let body = form(&[("csrf", b.csrf.clone().unwrap_or_default().as_str()), ("disabled", "on")]);
    let req = b
        .request("POST", "/system/failover")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, "http://127.0.0.1:8444")
        .body(Body::from(body))
        .expect("request");
    let a = b.send(req).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(a.body.contains("another site"), "{}", a.body);
    assert!(!b.fake.lock().settings.disabled, "nothing changed");
}

#[tokio::test]
async fn settings_are_saved_and_the_reason_appears() {
    let mut b = Browser::signed_in().await;
    b.get("/system/failover").await;
    let a = b
        .post(
            "/system/failover",
            &[("disabled", "on"), ("primary", "B"), ("timeout_ms", "60"), ("heartbeat_interval_ms", "10")],
        )
        .await;
    assert_eq!(a.location(), "/system/failover");
    let page = b.get("/system/failover").await.body;
    assert!(page.contains("Saved: failover disabled, default controller B, timeout 60 ms"), "{page}");
    assert!(
        page.contains("NO_FAILOVER") && page.contains("failover is disabled by the administrator"),
        "{page}"
    );
    assert!(page.contains("HA unavailable"), "{page}");
    // A value the form cannot read, then one the service refuses: each names its field.
    b.post("/system/failover", &[("primary", "A"), ("timeout_ms", "lots"), ("heartbeat_interval_ms", "10")])
        .await;
    let page = b.get("/system/failover").await.body;
    assert!(page.contains("timeout_ms: `lots` is not a whole number from 0 to 120000"), "{page}");
    b.post("/system/failover", &[("primary", "A"), ("timeout_ms", "20"), ("heartbeat_interval_ms", "10")])
        .await;
    let page = b.get("/system/failover").await.body;
    assert!(page.contains("Refused: timeout_ms: must be at least three heartbeats"), "{page}");
}

#[tokio::test]
async fn force_takeover_is_offered_only_when_both_are_standby_and_needs_confirming() {
    let mut b = Browser::signed_in().await;
    let page = b.get("/system/failover").await.body;
    assert!(!page.contains("takeover-button"), "MASTER: no Force Takeover");
    assert!(page.contains("giveback-button"), "MASTER with a healthy standby: Giveback");
    b.fake.lock().status = status("BACKUP", "BACKUP");
    let page = b.get("/system/failover").await.body;
    assert!(page.contains("takeover-button") && !page.contains("giveback-button"), "{page}");
    b.fake.lock().status = status("BACKUP", "MASTER");
    assert!(!b.get("/system/failover").await.body.contains("takeover-button"));
    b.fake.lock().status = status("BACKUP", "BACKUP");

    let confirm = b.get("/confirm/takeover").await.body;
    assert!(confirm.contains("name=\"confirm\"") && confirm.contains("required"), "{confirm}");
    let a = b.post("/actions/takeover", &[]).await;
    assert_eq!(a.location(), "/confirm/takeover", "unconfirmed: back to the confirmation");
    assert!(b.fake.lock().actions.is_empty());
    assert!(b.get("/confirm/takeover").await.body.contains("tick the box to confirm Force Takeover"));
    b.post("/actions/takeover", &[("confirm", "yes")]).await;
    assert_eq!(b.fake.lock().actions, vec!["takeover force=true".to_owned()]);
    for (slug, expected) in
        [("giveback", "giveback"), ("sync-to-peer", "sync to-peer"), ("sync-from-peer", "sync from-peer")]
    {
        let page = b.get(&format!("/confirm/{slug}")).await.body;
        if slug.starts_with("sync") {
            assert!(page.contains("only when directed by"), "{page}");
        }
        b.post(&format!("/actions/{slug}"), &[("confirm", "yes")]).await;
        assert_eq!(b.fake.lock().actions.last().map(String::as_str), Some(expected));
    }
    assert_eq!(b.get("/confirm/reboot").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn interface_edits_are_disabled_and_refused_while_failover_is_enabled() {
    let mut b = Browser::signed_in().await;
    let list = b.get("/network/interfaces").await.body;
    assert!(list.contains("Interfaces cannot be edited while failover is enabled"), "{list}");
    assert!(list.contains("192.0.2.100/24") && list.contains("/network/interfaces/eth0"), "{list}");
    let edit = b.get("/network/interfaces/eth0").await.body;
    assert!(edit.contains("<fieldset id=\"interface-fields\" disabled>"), "{edit}");
    let a = b
        .post(
            "/network/interfaces/eth0",
            &[("critical", "on"), ("group", "1"), ("vhid", "11"), ("virtual_addresses", "192.0.2.100/24")],
        )
        .await;
    assert_eq!(a.location(), "/network/interfaces/eth0");
    let edit = b.get("/network/interfaces/eth0").await.body;
    assert!(edit.contains("Refused: interfaces cannot be edited while failover is enabled"), "{edit}");
    assert!(b.fake.lock().actions.is_empty());
    // Disabled: the form is live, values are checked with the field named.
    b.fake.lock().settings.disabled = true;
    let edit = b.get("/network/interfaces/eth0").await.body;
    assert!(edit.contains("<fieldset id=\"interface-fields\">"), "{edit}");
    b.post("/network/interfaces/eth0", &[("group", "1"), ("vhid", "300")]).await;
    assert!(
        b.get("/network/interfaces/eth0").await.body.contains("vhid: `300` is not a number from 1 to 255")
    );
    b.post("/network/interfaces/eth0", &[("vhid", "11"), ("virtual_addresses", "192.0.2.100")]).await;
    assert!(
        b.get("/network/interfaces/eth0")
            .await
            .body
            .contains("virtual_addresses: `192.0.2.100` is not in CIDR form")
    );
    let a =
        b.post("/network/interfaces/eth0", &[("vhid", "11"), ("virtual_addresses", "192.0.2.100/24")]).await;
    assert_eq!(a.location(), "/network/interfaces");
    assert_eq!(b.fake.lock().actions, vec!["interface eth0 vhid=Some(11)".to_owned()]);
}

#[tokio::test]
async fn every_value_is_escaped() {
    let mut b = Browser::signed_in().await;
    let evil = "<script>alert(1)</script>";
    {
        let mut s = b.fake.lock();
        s.status.hostname = evil.into();
        s.status.disabled_reasons = vec![evil.into()];
        s.network.hostname_b = evil.into();
        s.interfaces[0].name = "e<b>0".into();
    }
    for path in ["/", "/live/ha", "/live/status", "/network/global", "/network/interfaces"] {
        let body = b.get(path).await.body;
        assert!(!body.contains("<script>alert"), "{path}: {body}");
        assert!(
            body.contains("&lt;script&gt;alert(1)&lt;/script&gt;") || path == "/network/interfaces",
            "{path}: {body}"
        );
    }
    let list = b.get("/network/interfaces").await.body;
    assert!(list.contains("e&lt;b&gt;0") && list.contains("/network/interfaces/e%3Cb%3E0"), "{list}");
    // A refused value comes back in the message, escaped.
    b.get("/network/global").await;
    b.post("/network/global", &[("hostname_a", evil), ("hostname_b", "b"), ("hostname_virtual", "v")]).await;
    let page = b.get("/network/global").await.body;
    assert!(page.contains("hostname_a: `&lt;script&gt;"), "{page}");
    assert!(!page.contains("<script>alert"), "{page}");
}

#[tokio::test]
async fn every_page_renders_with_the_indicator_and_headers() {
    let mut b = Browser::signed_in().await;
    for (path, title) in [
        ("/", "HA Status"),
        ("/system/failover", "System › Failover"),
        ("/network/global", "Network › Global Configuration"),
        ("/network/interfaces", "Network › Interfaces"),
        ("/network/interfaces/eth0", "Network › Interfaces › eth0"),
        ("/unlock", "Storage › Unlock Pools"),
        ("/confirm/sync-to-peer", "Confirm: Sync to Peer"),
    ] {
        let a = b.get(path).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        assert!(a.body.contains(&format!("<h1>{title}</h1>")), "{path}: {}", a.body);
        assert!(a.body.contains("id=\"ha-indicator\""), "{path}");
        assert!(a.body.contains("A active (MASTER) · peer B standby (BACKUP), healthy"), "{path}");
        let csp = a.headers.get(header::CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok()).unwrap_or("");
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(a.headers.get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok()), Some("no-store"));
    }
    let dash = b.get("/").await.body;
    for text in ["detect", "51.0 ms", "7.5 ms", "1.2 ms", "60.0 ms", "became MASTER at epoch 3", "2.3 s"] {
        assert!(dash.contains(text), "{text} missing from the dashboard");
    }
    assert!(b.get("/static/app.js").await.body.contains("data-live"));
    assert!(b.get("/static/app.css").await.body.contains(".ha-ok"));
    assert_eq!(b.get("/nope").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn unlock_takes_the_passphrase_and_sign_in_goes_there_when_needed() {
    let mut b = Browser::new();
    b.fake.lock().status.passphrase_needed = true;
    b.get("/login").await;
    let a = b.post("/login", &[("password", "secret")]).await;
    assert_eq!(a.location(), "/unlock");
    let page = b.get("/unlock").await.body;
    assert!(page.contains("unlock-needed") && page.contains("locked"), "{page}");
    b.post("/unlock", &[("passphrase", " two words ")]).await;
    assert_eq!(b.fake.lock().actions, vec!["unlock 11 bytes".to_owned()], "not trimmed");
    assert!(b.get("/unlock").await.body.contains("Unlocked: the passphrase is held in memory"));
}

#[tokio::test]
async fn sign_out_ends_the_session() {
    let mut b = Browser::signed_in().await;
    b.get("/").await;
    let old = b.cookie.clone();
    let a = b.post("/logout", &[]).await;
    assert_eq!(a.location(), "/login");
    b.cookie = old;
    assert_eq!(b.get("/").await.location(), "/login", "the old cookie no longer works");
}

#[test]
fn indicator_levels() {
    use super::html::{Level, level};
    let mut s = status("MASTER", "BACKUP");
    assert_eq!(level(&s), Level::Healthy);
    s.disabled_reasons = vec!["NO_FAILOVER".into()];
    assert_eq!(level(&s), Level::Degraded);
    s.disabled_reasons.clear();
    s.peer.verdict = "silent".into();
    assert_eq!(level(&s), Level::Degraded, "a silent peer is not healthy HA");
    s.status = "IMPORTING".into();
    assert_eq!(level(&s), Level::Busy);
    s.status = "ERROR".into();
    assert_eq!(level(&s), Level::Error);
}

#[tokio::test]
async fn https_serves_with_a_secure_host_cookie() {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ui/testdata");
    let files = TlsFiles { cert: data.join("cert.pem"), key: data.join("key.pem") };
    let server = super::tls::server_config(&files).expect("test certificate");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let ui = Arc::new(Ui::new(Fake::new(), &ui_config(Some(files.clone()))));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(super::serve_listener(listener, Some(server), ui, async move {
        let _ = stopped.await;
    }));

    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_file(&files.cert).expect("cert")).expect("root");
    let client =
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let mut tls =
        tokio_rustls::TlsConnector::from(Arc::new(client)).connect(name, tcp).await.expect("handshake");
    tls.write_all(b"GET /login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut answer = String::new();
    let _ = tls.read_to_string(&mut answer).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("__Host-failoverd-8443="), "{answer}");
    assert!(answer.contains("; Secure"), "{answer}");
    assert!(answer.to_lowercase().contains("strict-transport-security"), "{answer}");

    // A client that sends no handshake does not stop the next one.
    let _idle = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let plain = tokio::net::TcpStream::connect(addr).await.expect("connect");
    drop(plain);
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), served).await;
}
