//! A small client of the management API over its Unix socket (what `failoverctl` uses).
//!
//! One HTTP/1.1 connection per request: the CLI makes one or two requests per run, and
//! a fresh connection never sees a half-closed keep-alive socket from a restarted
//! daemon.

use std::path::{Path, PathBuf};
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::types::{
    ErrorJson, EventJson, InterfaceJson, NetworkJson, SettingsJson, StatusJson, SyncJson, TakeoverJson,
    UnlockJson,
};

/// Where `failoverd` listens by default.
pub const DEFAULT_SOCKET: &str = "/run/failoverd/failoverd.sock";

/// How long a request may take by default, connection to last byte. A takeover or an
/// unlock answers once the service accepted it, so this only catches a stuck daemon.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Answers larger than this are refused (the event log is the largest, well below).
const MAX_RESPONSE_BYTES: usize = 16 << 20;

/// A failed API call.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The socket could not be reached.
    #[error("cannot connect to {}: {source} (is failoverd running?)", socket.display())]
    Connect {
        /// The socket path tried.
        socket: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The HTTP exchange broke off (the daemon closed the connection, ...).
    #[error("request to {} failed: {source}", socket.display())]
    Http {
        /// The socket path.
        socket: PathBuf,
        /// Why.
        source: hyper::Error,
    },
    /// The request could not be built (a path that is not a URI path).
    #[error("invalid request to {path}: {source}")]
    InvalidRequest {
        /// The route asked for.
        path: String,
        /// Why.
        source: hyper::http::Error,
    },
    /// The answer exceeds the size limit.
    #[error("the answer from {} exceeds {limit} bytes", socket.display())]
    TooLarge {
        /// The socket path.
        socket: PathBuf,
        /// The limit.
        limit: usize,
    },
    /// No complete answer within the timeout.
    #[error("no answer from {} within {} s", socket.display(), after.as_secs_f64())]
    Timeout {
        /// The socket path.
        socket: PathBuf,
        /// The timeout.
        after: Duration,
    },
    /// The server refused or failed the request; `message` is its [`ErrorJson`].
    #[error("{message}")]
    Api {
        /// The HTTP status (400 invalid, 409 refused in this state, 500 failed).
        status: StatusCode,
        /// The server's explanation.
        message: String,
    },
    /// A success answer that is not the expected JSON.
    #[error("unexpected answer to {path}: {source}")]
    Decode {
        /// The route.
        path: String,
        /// Why it did not decode.
        source: serde_json::Error,
    },
}

impl ClientError {
    /// The HTTP status of an [`ClientError::Api`] error.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the daemon could not be reached at all.
    pub fn is_connect(&self) -> bool {
        matches!(self, Self::Connect { .. })
    }
}

/// A raw answer: status, content type and body.
#[derive(Clone, Debug)]
pub struct RawResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The body.
    pub body: Bytes,
}

impl RawResponse {
    /// The error an unsuccessful answer stands for, with the server's [`ErrorJson`]
    /// message (or the body text, or the status reason, if it sent none).
    pub fn error(&self) -> ClientError {
        let message = match serde_json::from_slice::<ErrorJson>(&self.body) {
            Ok(e) => e.error,
            Err(_) => {
                let text = String::from_utf8_lossy(&self.body).trim().to_owned();
                if text.is_empty() {
                    self.status.canonical_reason().unwrap_or("error").to_owned()
                } else {
                    text
                }
            }
        };
        ClientError::Api { status: self.status, message }
    }
}

/// The management API client.
#[derive(Clone, Debug)]
pub struct ApiClient {
    socket: PathBuf,
    timeout: Duration,
}

impl ApiClient {
    /// A client of the daemon listening on `socket`. Nothing is connected yet.
    pub fn new(socket: impl Into<PathBuf>) -> Self {
        Self { socket: socket.into(), timeout: DEFAULT_TIMEOUT }
    }

    /// The same client with another per-request timeout.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The socket path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// `GET /v1/status`.
    pub async fn status(&self) -> Result<StatusJson, ClientError> {
        self.get_json("/v1/status").await
    }

    /// `GET /v1/settings`.
    pub async fn settings(&self) -> Result<SettingsJson, ClientError> {
        self.get_json("/v1/settings").await
    }

    /// `PUT /v1/settings`: the settings as applied.
    pub async fn set_settings(&self, s: &SettingsJson) -> Result<SettingsJson, ClientError> {
        self.send_json(Method::PUT, "/v1/settings", s).await
    }

    /// `POST /v1/takeover`.
    pub async fn takeover(&self, t: &TakeoverJson) -> Result<(), ClientError> {
        self.send_no_answer(Method::POST, "/v1/takeover", Some(t)).await
    }

    /// `POST /v1/giveback`.
    pub async fn giveback(&self) -> Result<(), ClientError> {
        self.send_no_answer::<()>(Method::POST, "/v1/giveback", None).await
    }

    /// `POST /v1/sync`.
    pub async fn sync(&self, s: &SyncJson) -> Result<(), ClientError> {
        self.send_no_answer(Method::POST, "/v1/sync", Some(s)).await
    }

    /// `GET /v1/interfaces`.
    pub async fn interfaces(&self) -> Result<Vec<InterfaceJson>, ClientError> {
        self.get_json("/v1/interfaces").await
    }

    /// `PUT /v1/interfaces`.
    pub async fn set_interface(&self, i: &InterfaceJson) -> Result<(), ClientError> {
        self.send_no_answer(Method::PUT, "/v1/interfaces", Some(i)).await
    }

    /// `GET /v1/network`.
    pub async fn network(&self) -> Result<NetworkJson, ClientError> {
        self.get_json("/v1/network").await
    }

    /// `PUT /v1/network`: the hostnames as applied.
    pub async fn set_network(&self, n: &NetworkJson) -> Result<NetworkJson, ClientError> {
        self.send_json(Method::PUT, "/v1/network", n).await
    }

    /// `POST /v1/unlock`.
    pub async fn unlock(&self, u: &UnlockJson) -> Result<(), ClientError> {
        self.send_no_answer(Method::POST, "/v1/unlock", Some(u)).await
    }

    /// `GET /v1/events`, oldest first.
    pub async fn events(&self) -> Result<Vec<EventJson>, ClientError> {
        self.get_json("/v1/events").await
    }

    /// `GET /metrics`, the Prometheus text.
    pub async fn metrics(&self) -> Result<String, ClientError> {
        let r = Self::ok(self.raw(Method::GET, "/metrics", None).await?)?;
        Ok(String::from_utf8_lossy(&r.body).into_owned())
    }

    /// One request with an arbitrary body; any status is returned as is. Errors are
    /// only connection, transport and timeout failures.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> Result<RawResponse, ClientError> {
        let exchange = self.exchange(method, path, body);
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(ClientError::Timeout { socket: self.socket.clone(), after: self.timeout }),
        }
    }

    async fn exchange(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> Result<RawResponse, ClientError> {
        let http_err = |source: hyper::Error| ClientError::Http { socket: self.socket.clone(), source };
        let stream = tokio::net::UnixStream::connect(&self.socket)
            .await
            .map_err(|source| ClientError::Connect { socket: self.socket.clone(), source })?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(http_err)?;
        let driver = tokio::spawn(conn);

        let mut request = Request::builder().method(method).uri(path).header(header::HOST, "localhost");
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let request = request
            .body(Full::new(body.unwrap_or_default()))
            .map_err(|source| ClientError::InvalidRequest { path: path.to_owned(), source })?;
        let response = sender.send_request(request).await.map_err(http_err)?;
        let status = response.status();
        let content_type =
            response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = Limited::new(response.into_body(), MAX_RESPONSE_BYTES).collect().await.map_err(|e| {
            match e.downcast::<hyper::Error>() {
                Ok(source) => http_err(*source),
                // The only other error `Limited` yields is its length limit.
                Err(_) => ClientError::TooLarge { socket: self.socket.clone(), limit: MAX_RESPONSE_BYTES },
            }
        })?;
        drop(sender);
        driver.abort();
        Ok(RawResponse { status, content_type, body: body.to_bytes() })
    }

    /// `r` if it is a success, else its error.
    fn ok(r: RawResponse) -> Result<RawResponse, ClientError> {
        if r.status.is_success() { Ok(r) } else { Err(r.error()) }
    }

    fn decode<T: DeserializeOwned>(path: &str, r: &RawResponse) -> Result<T, ClientError> {
        serde_json::from_slice(&r.body)
            .map_err(|source| ClientError::Decode { path: path.to_owned(), source })
    }

    async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let r = Self::ok(self.raw(Method::GET, path, None).await?)?;
        Self::decode(path, &r)
    }

    async fn send_json<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        let r = Self::ok(self.raw(method, path, Some(encode(body))).await?)?;
        Self::decode(path, &r)
    }

    async fn send_no_answer<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<(), ClientError> {
        Self::ok(self.raw(method, path, body.map(encode)).await?)?;
        Ok(())
    }
}

fn encode<B: Serialize>(body: &B) -> Bytes {
    // The API types are plain structs of strings, numbers and lists: serializing them
    // cannot fail.
    Bytes::from(serde_json::to_vec(body).unwrap_or_default())
}
