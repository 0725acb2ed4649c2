//! The HTTP/JSON server of the management API.
//!
//! [`router`] maps every route onto a [`ControlPlane`]; [`serve_unix`] serves it on the
//! Unix socket `failoverctl` uses, [`serve_tcp`] serves the read-only part on TCP (for
//! Prometheus and dashboards).
//!
//! Routes (JSON bodies are the types of [`super::types`]):
//!
//! | method | path             | body            | answer                          |
//! |--------|------------------|-----------------|---------------------------------|
//! | GET    | `/v1/status`     |                 | `StatusJson`                    |
//! | GET    | `/v1/settings`   |                 | `SettingsJson`                  |
//! | PUT    | `/v1/settings`   | `SettingsJson`  | `SettingsJson` as applied       |
//! | POST   | `/v1/takeover`   | `TakeoverJson`  | 204                             |
//! | POST   | `/v1/giveback`   | none            | 204                             |
//! | POST   | `/v1/sync`       | `SyncJson`      | 204                             |
//! | GET    | `/v1/interfaces` |                 | `[InterfaceJson]`               |
//! | PUT    | `/v1/interfaces` | `InterfaceJson` | 204                             |
//! | GET    | `/v1/network`    |                 | `NetworkJson`                   |
//! | PUT    | `/v1/network`    | `NetworkJson`   | `NetworkJson` as applied        |
//! | POST   | `/v1/unlock`     | `UnlockJson`    | 204                             |
//! | GET    | `/v1/events`     |                 | `[EventJson]`, oldest first     |
//! | GET    | `/metrics`       |                 | Prometheus text format 0.0.4    |
//!
//! Every error answers with an [`ErrorJson`] body: 400 for a malformed body or an
//! invalid value ([`ControlError::BadRequest`]), 409 for a request refused in the
//! current state ([`ControlError::Conflict`]), 500 when the service failed
//! ([`ControlError::Internal`]), 404 / 405 for unknown routes and methods.
//!
//! Access control is the socket file's mode (0660: root and the socket's group). The
//! TCP listener has no authentication, so it serves only the `GET` routes: a takeover,
//! an interface edit or a passphrase never travel over it.

use std::future::Future;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;

use super::control::{ControlError, ControlPlane};
use super::types::{
    ErrorJson, EventJson, InterfaceJson, NetworkJson, SettingsJson, StatusJson, SyncJson, TakeoverJson,
    UnlockJson,
};

/// Content type of `GET /metrics` (Prometheus text exposition format 0.0.4).
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Mode of the Unix socket: read/write for the owner (root) and the socket's group.
pub const SOCKET_MODE: u32 = 0o660;

/// The full API over `control`: every route of the module table.
pub fn router<C: ControlPlane>(control: Arc<C>) -> Router {
    Router::new()
        .route("/v1/status", get(status::<C>))
        .route("/v1/settings", get(settings::<C>).put(set_settings::<C>))
        .route("/v1/takeover", post(takeover::<C>))
        .route("/v1/giveback", post(giveback::<C>))
        .route("/v1/sync", post(sync::<C>))
        .route("/v1/interfaces", get(interfaces::<C>).put(set_interface::<C>))
        .route("/v1/network", get(network::<C>).put(set_network::<C>))
        .route("/v1/unlock", post(unlock::<C>))
        .route("/v1/events", get(events::<C>))
        .route("/metrics", get(metrics::<C>))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(control)
}

/// The `GET` routes only, for the unauthenticated TCP listener. Any other request is
/// answered 403, naming the Unix socket as the place for changes.
pub fn read_only_router<C: ControlPlane>(control: Arc<C>) -> Router {
    Router::new()
        .route("/v1/status", get(status::<C>))
        .route("/v1/settings", get(settings::<C>))
        .route("/v1/interfaces", get(interfaces::<C>))
        .route("/v1/network", get(network::<C>))
        .route("/v1/events", get(events::<C>))
        .route("/metrics", get(metrics::<C>))
        .fallback(read_only_fallback)
        .method_not_allowed_fallback(read_only_fallback)
        .with_state(control)
}

/// Serve the full API on the Unix socket `path` until `shutdown` completes, then wait
/// for requests in flight and remove the socket file.
///
/// A socket file left by a previous run is replaced; a socket something still answers
/// on is not (`AddrInUse`), nor is a path that is not a socket (`AlreadyExists`). The
/// parent directory is created if missing. The socket is bound under a temporary name,
/// given mode [`SOCKET_MODE`] and renamed into place, so it is never reachable with a
/// wider mode.
pub async fn serve_unix<C: ControlPlane>(
    path: &Path,
    control: Arc<C>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let listener = bind_unix(path)?;
    let inode = std::fs::symlink_metadata(path)?.ino();
    tracing::info!(socket = %path.display(), "management API listening");
    let served = axum::serve(listener, router(control)).with_graceful_shutdown(shutdown).await;
    // Remove the socket only if it is still ours (not replaced by a newer instance).
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.ino() == inode) {
        let _ = std::fs::remove_file(path);
    }
    served
}

/// Serve the read-only API ([`read_only_router`]) on TCP `addr` until `shutdown`
/// completes.
pub async fn serve_tcp<C: ControlPlane>(
    addr: std::net::SocketAddr,
    control: Arc<C>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| with_context(e, &addr))?;
    serve_tcp_listener(listener, control, shutdown).await
}

/// [`serve_tcp`] on an already bound listener (to learn the port of `:0`).
pub async fn serve_tcp_listener<C: ControlPlane>(
    listener: tokio::net::TcpListener,
    control: Arc<C>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "read-only management API listening");
    }
    axum::serve(listener, read_only_router(control)).with_graceful_shutdown(shutdown).await
}

fn with_context(e: io::Error, what: &dyn std::fmt::Display) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

/// Bind `path` as described in [`serve_unix`].
fn bind_unix(path: &Path) -> io::Result<tokio::net::UnixListener> {
    let shown = path.display();
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| with_context(e, &parent.display()))?;
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => match std::os::unix::net::UnixStream::connect(path) {
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("{shown}: another process is serving this socket"),
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                tracing::info!(socket = %shown, "removing stale socket");
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(with_context(e, &shown)),
        },
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{shown}: exists and is not a socket; not replacing it"),
            ));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(with_context(e, &shown)),
    }

    let tmp = temporary_name(path);
    let _ = std::fs::remove_file(&tmp);
    let listener = tokio::net::UnixListener::bind(&tmp).map_err(|e| with_context(e, &tmp.display()))?;
    let placed = std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(SOCKET_MODE))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = placed {
        let _ = std::fs::remove_file(&tmp);
        return Err(with_context(e, &shown));
    }
    Ok(listener)
}

/// A name next to `path`, unique in this process, to bind before the rename.
fn temporary_name(path: &Path) -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".{}.{n}.tmp", std::process::id()));
    path.with_file_name(name)
}

/// An error answer: a status and an [`ErrorJson`] body.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }
}

impl From<ControlError> for ApiError {
    fn from(e: ControlError) -> Self {
        match e {
            ControlError::BadRequest(m) => Self::new(StatusCode::BAD_REQUEST, m),
            ControlError::Conflict(m) => Self::new(StatusCode::CONFLICT, m),
            ControlError::Internal(m) => Self::new(StatusCode::INTERNAL_SERVER_ERROR, m),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(status = self.status.as_u16(), error = %self.message, "API request failed");
        } else {
            tracing::debug!(status = self.status.as_u16(), error = %self.message, "API request refused");
        }
        (self.status, Json(ErrorJson { error: self.message })).into_response()
    }
}

/// A JSON request body. Unlike axum's `Json`, every decoding failure is a 400 with an
/// [`ErrorJson`] naming the problem and the field (`timeout_ms: invalid type ...`), and
/// the content type is not checked (`curl -d` sends a form type).
struct JsonBody<T>(T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|r| {
            ApiError::new(r.status(), format!("cannot read the request body: {}", r.body_text()))
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::new(StatusCode::BAD_REQUEST, "malformed JSON body: the body is empty"));
        }
        let malformed =
            |m: String| ApiError::new(StatusCode::BAD_REQUEST, format!("malformed JSON body: {m}"));
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(&mut de).map_err(|e| match e.path().to_string() {
            p if p == "." => malformed(e.inner().to_string()),
            p => malformed(format!("{p}: {}", e.inner())),
        })?;
        // Bytes after the value are as malformed as a broken value.
        de.end().map_err(|e| malformed(e.to_string()))?;
        Ok(Self(value))
    }
}

type ApiResult<T> = Result<T, ApiError>;

async fn status<C: ControlPlane>(State(c): State<Arc<C>>) -> Json<StatusJson> {
    Json(c.status().await)
}

async fn settings<C: ControlPlane>(State(c): State<Arc<C>>) -> Json<SettingsJson> {
    Json(c.settings().await)
}

async fn set_settings<C: ControlPlane>(
    State(c): State<Arc<C>>,
    JsonBody(s): JsonBody<SettingsJson>,
) -> ApiResult<Json<SettingsJson>> {
    tracing::info!(?s, "API: set settings");
    Ok(Json(c.set_settings(s).await?))
}

async fn takeover<C: ControlPlane>(
    State(c): State<Arc<C>>,
    JsonBody(t): JsonBody<TakeoverJson>,
) -> ApiResult<StatusCode> {
    tracing::info!(force = t.force, "API: takeover requested");
    c.takeover(t).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn giveback<C: ControlPlane>(State(c): State<Arc<C>>) -> ApiResult<StatusCode> {
    tracing::info!("API: giveback requested");
    c.giveback().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn sync<C: ControlPlane>(
    State(c): State<Arc<C>>,
    JsonBody(s): JsonBody<SyncJson>,
) -> ApiResult<StatusCode> {
    tracing::info!(direction = %s.direction, "API: manual sync requested");
    c.sync(s).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn interfaces<C: ControlPlane>(State(c): State<Arc<C>>) -> Json<Vec<InterfaceJson>> {
    Json(c.interfaces().await)
}

async fn set_interface<C: ControlPlane>(
    State(c): State<Arc<C>>,
    JsonBody(i): JsonBody<InterfaceJson>,
) -> ApiResult<StatusCode> {
    tracing::info!(?i, "API: set interface");
    c.set_interface(i).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn network<C: ControlPlane>(State(c): State<Arc<C>>) -> Json<NetworkJson> {
    Json(c.network().await)
}

async fn set_network<C: ControlPlane>(
    State(c): State<Arc<C>>,
    JsonBody(n): JsonBody<NetworkJson>,
) -> ApiResult<Json<NetworkJson>> {
    tracing::info!(?n, "API: set network");
    Ok(Json(c.set_network(n).await?))
}

async fn unlock<C: ControlPlane>(
    State(c): State<Arc<C>>,
    JsonBody(u): JsonBody<UnlockJson>,
) -> ApiResult<StatusCode> {
    // Never log the passphrase.
    tracing::info!("API: unlock requested");
    c.unlock(u).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn events<C: ControlPlane>(State(c): State<Arc<C>>) -> Json<Vec<EventJson>> {
    Json(c.events().await)
}

async fn metrics<C: ControlPlane>(State(c): State<Arc<C>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)], c.metrics().await)
}

async fn not_found(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, format!("no such route: {method} {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, format!("{method} is not allowed on {}", uri.path()))
}

async fn read_only_fallback(method: Method, uri: axum::http::Uri) -> ApiError {
    if method == Method::GET || method == Method::HEAD {
        not_found(method, uri).await
    } else {
        ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "{method} {} refused: the TCP listener is read-only; use failoverctl on the Unix socket",
                uri.path()
            ),
        )
    }
}
