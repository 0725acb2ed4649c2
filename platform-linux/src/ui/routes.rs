//! The routes and their handlers, over any [`ControlPlane`].
//!
//! | method | path                          | what                                    |
//! |--------|-------------------------------|-----------------------------------------|
//! | GET    | `/login`                      | sign-in page (starts a pending session) |
//! | POST   | `/login`, `/logout`           | sign in (rate limited), sign out        |
//! | GET    | `/`                           | the HA status dashboard                 |
//! | GET    | `/system/failover`            | settings and actions                    |
//! | POST   | `/system/failover`            | save the settings                       |
//! | GET    | `/confirm/{action}`           | confirm a dangerous action              |
//! | POST   | `/actions/{action}`           | do it (`confirm=yes` required)          |
//! | GET    | `/network/global`             | host names                              |
//! | POST   | `/network/global`             | save them                               |
//! | GET    | `/network/interfaces[/{name}]`| the list; one interface's edit form     |
//! | POST   | `/network/interfaces/{name}`  | save an interface                       |
//! | GET    | `/unlock`; POST `/unlock`     | the pools' passphrase                   |
//! | GET    | `/live/ha`, `/live/status`    | fragments the page script refreshes     |
//! | GET    | `/static/app.css`, `app.js`   | the embedded assets                     |
//!
//! Pages redirect to `/login` without a signed-in session; the `/live/` fragments
//! answer 401 instead (and do not count as use of the session). Actions answer with a
//! redirect (303) to a page showing what happened.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, Path, Request, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::Markup;
use tokio::sync::Semaphore;

use crate::api::control::{ControlError, ControlPlane};
use crate::api::edit::parse_cidr_list;
use crate::api::types::{
    InterfaceJson, NetworkJson, SettingsJson, StatusJson, SyncJson, TakeoverJson, UnlockJson,
};
use crate::config::UiConfig;

use super::ClientAddr;
use super::csrf;
use super::forms::{Fields, MAX_FORM_BYTES};
use super::html::{self, Frame, Nav, path_segment};
use super::pages::confirm::{self, Action};
use super::pages::{dashboard, failover, interfaces, login, network, unlock};
use super::password;
use super::ratelimit::LoginLimiter;
use super::session::{SessionId, SessionStore, SessionView};

/// Password checks running at once: each takes ~20 MiB and tens of milliseconds.
const CONCURRENT_CHECKS: usize = 2;

const CSS: &str = include_str!("assets/app.css");
const JS: &str = include_str!("assets/app.js");

/// Every response's Content-Security-Policy: scripts and styles from this origin
/// only (no inline script, so an injected tag could not run), no framing, forms
/// posting only here.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// One UI: the control plane, the sessions, the sign-in limiter and the password hash.
#[derive(Debug)]
pub struct Ui<C> {
    control: Arc<C>,
    sessions: SessionStore,
    limiter: LoginLimiter,
    password_hash: Arc<str>,
    tls: bool,
    cookie: String,
    checks: Semaphore,
}

impl<C: ControlPlane> Ui<C> {
    /// The UI of `control` as `cfg` describes it.
    pub fn new(control: Arc<C>, cfg: &UiConfig) -> Self {
        let tls = cfg.tls.is_some();
        // Cookies ignore the port: two controllers' UIs on one host need two names.
        // With TLS, the `__Host-` prefix makes the browser insist on Secure and Path=/.
        let port = cfg.listen.port();
        let cookie = if tls { format!("__Host-failoverd-{port}") } else { format!("failoverd-{port}") };
        Self {
            control,
            sessions: SessionStore::new(cfg.session_idle),
            limiter: LoginLimiter::new(),
            password_hash: Arc::from(cfg.password_hash.as_str()),
            tls,
            cookie,
            checks: Semaphore::new(CONCURRENT_CHECKS),
        }
    }

    /// The sessions (for tests).
    pub fn sessions(&self) -> &SessionStore {
        &self.sessions
    }

    /// The session cookie's name.
    pub fn cookie_name(&self) -> &str {
        &self.cookie
    }

    fn session(&self, headers: &HeaderMap, now: Instant, touch: bool) -> Option<SessionView> {
        let id = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == self.cookie)
            .and_then(|(_, v)| SessionId::parse(v))?;
        self.sessions.get(&id, now, touch)
    }

    fn set_cookie(&self, id: &SessionId) -> (HeaderName, HeaderValue) {
        let secure = if self.tls { "; Secure" } else { "" };
        let v = format!("{}={}; Path=/; HttpOnly; SameSite=Strict{secure}", self.cookie, id.as_str());
        (header::SET_COOKIE, HeaderValue::from_str(&v).unwrap_or(HeaderValue::from_static("")))
    }

    fn clear_cookie(&self) -> (HeaderName, HeaderValue) {
        let secure = if self.tls { "; Secure" } else { "" };
        let v = format!("{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{secure}", self.cookie);
        (header::SET_COOKIE, HeaderValue::from_str(&v).unwrap_or(HeaderValue::from_static("")))
    }

    async fn verify(&self, password: String) -> bool {
        let Ok(_permit) = self.checks.acquire().await else { return false };
        let hash = self.password_hash.clone();
        tokio::task::spawn_blocking(move || password::verify(&password, &hash)).await.unwrap_or(false)
    }

    /// A page in the frame, with the session's flash message.
    fn page(&self, s: &SessionView, title: &str, nav: Nav, status: &StatusJson, content: Markup) -> Response {
        let flash = self.sessions.take_flash(&s.id);
        let frame = Frame { title, nav, status, csrf: s.csrf.as_str(), flash: flash.as_ref() };
        Html(html::page(&frame, content).into_string()).into_response()
    }

    /// Leave the outcome of an action as a message and go to `to`.
    fn done(&self, s: &SessionView, outcome: Result<String, String>, to: &str) -> Response {
        match outcome {
            Ok(m) => self.sessions.set_flash(&s.id, true, m),
            Err(m) => self.sessions.set_flash(&s.id, false, m),
        }
        Redirect::to(to).into_response()
    }

    /// The refusal of a POST whose CSRF token is not the session's, if it is not.
    fn csrf_refusal(&self, s: &SessionView, f: &Fields, what: &str) -> Option<Response> {
        if s.csrf.matches(f.get(csrf::FIELD)) {
            return None;
        }
        tracing::warn!(action = what, "UI: request refused: missing or wrong CSRF token");
        Some(refused(
            StatusCode::FORBIDDEN,
            "Refused: the form's security token (csrf) is missing or does not belong to this session. \
             Reload the page and try again.",
        ))
    }
}

fn refused(status: StatusCode, message: &str) -> Response {
    (status, Html(login::refused(message).into_string())).into_response()
}

/// A signed-in session, or a redirect to the sign-in page (401 for `/live/`).
#[derive(Debug)]
pub struct Signed(pub SessionView);

impl<C: ControlPlane> FromRequestParts<Arc<Ui<C>>> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, ui: &Arc<Ui<C>>) -> Result<Self, Self::Rejection> {
        let live = parts.uri.path().starts_with("/live/");
        match ui.session(&parts.headers, Instant::now(), !live) {
            Some(s) if s.signed_in => Ok(Self(s)),
            _ if live => Err(StatusCode::UNAUTHORIZED.into_response()),
            _ => Err(Redirect::to("/login").into_response()),
        }
    }
}

/// Every route of the UI over `ui`.
pub fn router<C: ControlPlane>(ui: Arc<Ui<C>>) -> Router {
    Router::new()
        .route("/", get(dashboard_page::<C>))
        .route("/login", get(login_page::<C>).post(sign_in::<C>))
        .route("/logout", post(sign_out::<C>))
        .route("/system/failover", get(failover_page::<C>).post(save_settings::<C>))
        .route("/confirm/{action}", get(confirm_page::<C>))
        .route("/actions/{action}", post(act::<C>))
        .route("/network/global", get(network_page::<C>).post(save_network::<C>))
        .route("/network/interfaces", get(interfaces_page::<C>))
        .route("/network/interfaces/{name}", get(interface_page::<C>).post(save_interface::<C>))
        .route("/unlock", get(unlock_page::<C>).post(save_passphrase::<C>))
        .route("/live/ha", get(live_ha::<C>))
        .route("/live/status", get(live_status::<C>))
        .route(
            "/static/app.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS) }),
        )
        .route(
            "/static/app.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], JS) }),
        )
        .fallback(|| async { refused(StatusCode::NOT_FOUND, "No such page.") })
        .layer(middleware::from_fn_with_state(ui.clone(), guard::<C>))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .with_state(ui)
}

/// Refuse a POST from another origin; put the security headers on every answer.
async fn guard<C: ControlPlane>(State(ui): State<Arc<Ui<C>>>, req: Request, next: Next) -> Response {
    let mut resp = if req.method() == Method::POST {
        let h = req.headers();
        let origin = h.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let host = h.get(header::HOST).and_then(|v| v.to_str().ok());
        if csrf::origin_ok(origin, host, ui.tls) {
            next.run(req).await
        } else {
            tracing::warn!(origin, host, path = %req.uri().path(), "UI: POST from another origin refused");
            refused(StatusCode::FORBIDDEN, "Refused: this form was sent from another site (Origin).")
        }
    } else {
        next.run(req).await
    };
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // `same-origin`, not `no-referrer`: the latter makes browsers send `Origin: null`
    // on this site's own form posts.
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if ui.tls {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    resp
}

type St<C> = State<Arc<Ui<C>>>;

// ------------------------------------------------------------------ sign-in ----------

async fn login_page<C: ControlPlane>(State(ui): St<C>, headers: HeaderMap) -> Response {
    let now = Instant::now();
    let node = ui.control.status().await.node;
    match ui.session(&headers, now, false) {
        Some(s) if s.signed_in => Redirect::to("/").into_response(),
        Some(s) => {
            let error = ui.sessions.take_flash(&s.id).map(|f| f.text);
            Html(login::page(&node, s.csrf.as_str(), error.as_deref()).into_string()).into_response()
        }
        None => match ui.sessions.create_pending(now) {
            Ok(s) => {
                let page = login::page(&node, s.csrf.as_str(), None).into_string();
                ([ui.set_cookie(&s.id)], Html(page)).into_response()
            }
            Err(e) => {
                tracing::error!(error = %e, "UI: cannot start a session");
                refused(StatusCode::INTERNAL_SERVER_ERROR, "No session could be started (no randomness).")
            }
        },
    }
}

async fn sign_in<C: ControlPlane>(
    State(ui): St<C>,
    ConnectInfo(ClientAddr(client)): ConnectInfo<ClientAddr>,
    headers: HeaderMap,
    f: Fields,
) -> Response {
    let now = Instant::now();
    let ip = client.ip();
    let pending = ui.session(&headers, now, false);
    let Some(p) = pending.filter(|p| p.csrf.matches(f.get(csrf::FIELD))) else {
        tracing::warn!(client = %ip, "UI: sign-in refused: missing or wrong CSRF token");
        return refused(
            StatusCode::FORBIDDEN,
            "Refused: the sign-in form expired or did not come from this page (csrf). Reload the sign-in page.",
        );
    };
    let node = ui.control.status().await.node;
    let retry = |status: StatusCode, message: &str| {
        (status, Html(login::page(&node, p.csrf.as_str(), Some(message)).into_string())).into_response()
    };
    if let Err(r) = ui.limiter.check(ip, now) {
        let secs = r.retry_after().as_secs().max(1);
        tracing::warn!(client = %ip, retry_after_s = secs, refusal = ?r, "UI: sign-in refused: too many failed sign-ins");
        let mut resp = retry(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("Too many failed sign-ins: try again in {secs} s."),
        );
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return resp;
    }
    let password = f.get("password").unwrap_or_default().to_owned();
    if !ui.verify(password).await {
        let lockout = ui.limiter.failure(ip, Instant::now());
        tracing::warn!(client = %ip, lockout_s = lockout.as_secs(), "UI: failed sign-in: wrong password");
        return retry(StatusCode::UNAUTHORIZED, "Wrong password.");
    }
    ui.limiter.success(ip);
    match ui.sessions.sign_in(Some(&p.id), Instant::now()) {
        Ok(s) => {
            tracing::info!(client = %ip, "UI: signed in");
            let to = if ui.control.status().await.passphrase_needed { "/unlock" } else { "/" };
            ([ui.set_cookie(&s.id)], Redirect::to(to)).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "UI: cannot start a session");
            refused(StatusCode::INTERNAL_SERVER_ERROR, "No session could be started (no randomness).")
        }
    }
}

async fn sign_out<C: ControlPlane>(State(ui): St<C>, Signed(s): Signed, f: Fields) -> Response {
    if let Some(r) = ui.csrf_refusal(&s, &f, "sign out") {
        return r;
    }
    ui.sessions.end(&s.id);
    tracing::info!("UI: signed out");
    ([ui.clear_cookie()], Redirect::to("/login")).into_response()
}

// ------------------------------------------------------------------- pages ----------

async fn dashboard_page<C: ControlPlane>(State(ui): St<C>, Signed(s): Signed) -> Response {
    let (status, events) = (ui.control.status().await, ui.control.events().await);
    ui.page(&s, "HA Status", Nav::Dashboard, &status, dashboard::content(&status, &events))
}

async fn live_ha<C: ControlPlane>(State(ui): St<C>, _s: Signed) -> Html<String> {
    Html(html::ha_indicator(&ui.control.status().await).into_string())
}

async fn live_status<C: ControlPlane>(State(ui): St<C>, _s: Signed) -> Html<String> {
    let (status, events) = (ui.control.status().await, ui.control.events().await);
    Html(dashboard::body(&status, &events).into_string())
}

async fn failover_page<C: ControlPlane>(State(ui): St<C>, Signed(s): Signed) -> Response {
    let (status, settings) = (ui.control.status().await, ui.control.settings().await);
    let content = failover::content(&settings, &status, s.csrf.as_str());
    ui.page(&s, "System › Failover", Nav::Failover, &status, content)
}

async fn confirm_page<C: ControlPlane>(
    State(ui): St<C>,
    Signed(s): Signed,
    Path(slug): Path<String>,
) -> Response {
    let Some(action) = Action::from_slug(&slug) else {
        return refused(StatusCode::NOT_FOUND, "No such action.");
    };
    let status = ui.control.status().await;
    let title = format!("Confirm: {}", action.label());
    ui.page(&s, &title, Nav::Failover, &status, confirm::content(action, s.csrf.as_str()))
}

async fn network_page<C: ControlPlane>(State(ui): St<C>, Signed(s): Signed) -> Response {
    let (status, n) = (ui.control.status().await, ui.control.network().await);
    ui.page(&s, "Network › Global Configuration", Nav::Global, &status, network::content(&n, s.csrf.as_str()))
}

async fn interfaces_page<C: ControlPlane>(State(ui): St<C>, Signed(s): Signed) -> Response {
    let status = ui.control.status().await;
    let (ifs, settings) = (ui.control.interfaces().await, ui.control.settings().await);
    ui.page(
        &s,
        "Network › Interfaces",
        Nav::Interfaces,
        &status,
        interfaces::content(&ifs, !settings.disabled),
    )
}

async fn interface_page<C: ControlPlane>(
    State(ui): St<C>,
    Signed(s): Signed,
    Path(name): Path<String>,
) -> Response {
    let status = ui.control.status().await;
    let (ifs, settings) = (ui.control.interfaces().await, ui.control.settings().await);
    let Some(i) = ifs.iter().find(|i| i.name == name) else {
        return ui.done(&s, Err(format!("name: no interface `{name}` is configured")), "/network/interfaces");
    };
    let title = format!("Network › Interfaces › {}", i.name);
    ui.page(&s, &title, Nav::Interfaces, &status, interfaces::edit(i, !settings.disabled, s.csrf.as_str()))
}

async fn unlock_page<C: ControlPlane>(State(ui): St<C>, Signed(s): Signed) -> Response {
    let status = ui.control.status().await;
    let content = unlock::content(status.passphrase_needed, s.csrf.as_str());
    ui.page(&s, "Storage › Unlock Pools", Nav::Unlock, &status, content)
}

// ----------------------------------------------------------------- actions ----------

fn control_error(e: &ControlError) -> String {
    match e {
        ControlError::BadRequest(m) | ControlError::Conflict(m) => format!("Refused: {m}"),
        ControlError::Internal(m) => format!("Failed: {m}"),
    }
}

async fn save_settings<C: ControlPlane>(State(ui): St<C>, Signed(s): Signed, f: Fields) -> Response {
    if let Some(r) = ui.csrf_refusal(&s, &f, "settings") {
        return r;
    }
    let parsed = (|| -> Result<SettingsJson, String> {
        Ok(SettingsJson {
            disabled: f.checked("disabled"),
            primary: f.text("primary")?,
            timeout_ms: f.number("timeout_ms", 0, 120_000)?,
            heartbeat_interval_ms: f.number("heartbeat_interval_ms", 1, 10_000)?,
        })
    })();
    let outcome = match parsed {
        Err(e) => Err(format!("Refused: {e}")),
        Ok(new) => {
            tracing::info!(settings = ?new, "UI: set failover settings");
            ui.control.set_settings(new).await.map_err(|e| control_error(&e)).map(|a| {
                format!(
                    "Saved: failover {}, default controller {}, timeout {} ms, heartbeat every {} ms.",
                    if a.disabled { "disabled" } else { "enabled" },
                    a.primary,
                    a.timeout_ms,
                    a.heartbeat_interval_ms
                )
            })
        }
    };
    ui.done(&s, outcome, "/system/failover")
}

async fn act<C: ControlPlane>(
    State(ui): St<C>,
    Signed(s): Signed,
    Path(slug): Path<String>,
    f: Fields,
) -> Response {
    if let Some(r) = ui.csrf_refusal(&s, &f, "action") {
        return r;
    }
    let Some(action) = Action::from_slug(&slug) else {
        return refused(StatusCode::NOT_FOUND, "No such action.");
    };
    if f.get(confirm::FIELD) != Some("yes") {
        let m = format!("Refused: {}: tick the box to confirm {}.", confirm::FIELD, action.label());
        return ui.done(&s, Err(m), &format!("/confirm/{}", action.slug()));
    }
    tracing::info!(action = action.slug(), "UI: action confirmed");
    let result = match action {
        Action::Takeover => ui.control.takeover(TakeoverJson { force: true }).await,
        Action::Giveback => ui.control.giveback().await,
        Action::SyncToPeer => ui.control.sync(SyncJson { direction: "to-peer".into() }).await,
        Action::SyncFromPeer => ui.control.sync(SyncJson { direction: "from-peer".into() }).await,
    };
    let outcome = result.map_err(|e| control_error(&e)).map(|()| match action {
        Action::Takeover => "Force Takeover started: this controller is becoming active.".to_owned(),
        Action::Giveback => "Giveback started: the peer is becoming active.".to_owned(),
        Action::SyncToPeer => "Synced: the peer now has this controller's configuration.".to_owned(),
        Action::SyncFromPeer => "Synced: this controller now has the peer's configuration.".to_owned(),
    });
    ui.done(&s, outcome, "/system/failover")
}

async fn save_network<C: ControlPlane>(State(ui): St<C>, Signed(s): Signed, f: Fields) -> Response {
    if let Some(r) = ui.csrf_refusal(&s, &f, "network") {
        return r;
    }
    let parsed = (|| -> Result<NetworkJson, String> {
        Ok(NetworkJson {
            hostname_a: f.text("hostname_a")?,
            hostname_b: f.text("hostname_b")?,
            hostname_virtual: f.text("hostname_virtual")?,
        })
    })();
    let outcome = match parsed {
        Err(e) => Err(format!("Refused: {e}")),
        Ok(n) => {
            tracing::info!(network = ?n, "UI: set host names");
            ui.control.set_network(n).await.map_err(|e| control_error(&e)).map(|n| {
                format!(
                    "Saved: {} (A), {} (B), {} (virtual).",
                    n.hostname_a, n.hostname_b, n.hostname_virtual
                )
            })
        }
    };
    ui.done(&s, outcome, "/network/global")
}

async fn save_interface<C: ControlPlane>(
    State(ui): St<C>,
    Signed(s): Signed,
    Path(name): Path<String>,
    f: Fields,
) -> Response {
    if let Some(r) = ui.csrf_refusal(&s, &f, "interface") {
        return r;
    }
    let back = format!("/network/interfaces/{}", path_segment(&name));
    let Some(current) = ui.control.interfaces().await.into_iter().find(|i| i.name == name) else {
        return ui.done(
            &s,
            Err(format!("Refused: name: no interface `{name}` is configured")),
            "/network/interfaces",
        );
    };
    let parsed = (|| -> Result<InterfaceJson, String> {
        Ok(InterfaceJson {
            critical: f.checked("critical"),
            group: f.optional_u8("group")?,
            vhid: f.optional_u8("vhid")?,
            virtual_addresses: parse_cidr_list(f.get("virtual_addresses").unwrap_or_default())
                .map_err(|e| format!("virtual_addresses: {e}"))?,
            ..current
        })
    })();
    match parsed {
        Err(e) => ui.done(&s, Err(format!("Refused: {e}")), &back),
        Ok(i) => {
            tracing::info!(interface = ?i, "UI: edit interface");
            match ui.control.set_interface(i).await {
                Ok(()) => ui.done(&s, Ok(format!("Saved interface {name}.")), "/network/interfaces"),
                Err(e) => ui.done(&s, Err(control_error(&e)), &back),
            }
        }
    }
}

async fn save_passphrase<C: ControlPlane>(State(ui): St<C>, Signed(s): Signed, f: Fields) -> Response {
    if let Some(r) = ui.csrf_refusal(&s, &f, "unlock") {
        return r;
    }
    // Never logged, never trimmed (spaces may be part of it).
    let passphrase = f.get("passphrase").unwrap_or_default().to_owned();
    tracing::info!("UI: unlock requested");
    let outcome = ui
        .control
        .unlock(UnlockJson { passphrase })
        .await
        .map_err(|e| control_error(&e))
        .map(|()| "Unlocked: the passphrase is held in memory and escrowed to the peer.".to_owned());
    ui.done(&s, outcome, "/unlock")
}
