//! The administrator's web UI, served by `failoverd` on its own TCP listener: the
//! reference's failover screens (an HA status indicator on every page, System >
//! Failover, Network > Global Configuration, Network > Interfaces, and unlocking the
//! encrypted pools), server-rendered, with a few lines of script that refresh the
//! status parts every two seconds.
//!
//! Every datum and every action goes through the same
//! [`ControlPlane`] as the management API, so the UI can do nothing
//! `failoverctl` cannot, and the service's rules (interfaces locked while failover is
//! enabled, settings validated by the core) apply unchanged.
//!
//! Security, in the order a request meets it:
//! - the listener binds to loopback unless `[ui] listen` says otherwise, and serves
//!   HTTPS when `tls_cert` / `tls_key` are set ([`tls`]);
//! - every response carries a strict Content-Security-Policy (no inline script, no
//!   framing) and `no-store`; a POST from another origin is refused ([`csrf`]);
//! - every page and action needs a signed-in session ([`session`]): a random id in an
//!   HttpOnly, SameSite=Strict cookie (Secure with TLS), ended after
//!   `session_idle_minutes` without use;
//! - every action is a POST carrying the session's CSRF token; the dangerous ones
//!   (Force Takeover, Giveback, Sync) go through a confirmation page with a required
//!   checkbox that the server checks again ([`pages::confirm`]);
//! - the password is checked against an argon2 hash ([`password`]); failed sign-ins
//!   are logged and rate limited per client address and globally ([`ratelimit`]).
//!
//! Modules: [`routes`] (handlers), [`html`] (frame and indicator), [`pages`] (one per
//! screen), [`forms`] (reading submitted fields), and the security pieces above.

pub mod csrf;
pub mod forms;
pub mod html;
pub mod pages;
pub mod password;
pub mod ratelimit;
pub mod routes;
pub mod session;
pub mod tls;

#[cfg(test)]
mod tests;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use tokio::net::TcpListener;

use crate::api::control::ControlPlane;
use crate::config::UiConfig;

pub use routes::{Ui, router};

/// The client's address, as the connection gave it (for the sign-in rate limits and
/// the logs).
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub SocketAddr);

impl Connected<IncomingStream<'_, TcpListener>> for ClientAddr {
    fn connect_info(stream: IncomingStream<'_, TcpListener>) -> Self {
        Self(*stream.remote_addr())
    }
}

impl Connected<IncomingStream<'_, tls::TlsListener>> for ClientAddr {
    fn connect_info(stream: IncomingStream<'_, tls::TlsListener>) -> Self {
        Self(*stream.remote_addr())
    }
}

/// Why the UI could not be served.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    /// The certificate or key is unusable.
    #[error("{0}")]
    Tls(#[from] tls::TlsError),
    /// The address could not be bound.
    #[error("ui.listen {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("{0}")]
    Serve(#[from] std::io::Error),
}

/// Serve the UI as configured until `shutdown` completes.
pub async fn serve<C: ControlPlane>(
    cfg: &UiConfig,
    control: Arc<C>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), UiError> {
    let tls = cfg.tls.as_ref().map(tls::server_config).transpose()?;
    let listener =
        TcpListener::bind(cfg.listen).await.map_err(|source| UiError::Bind { addr: cfg.listen, source })?;
    serve_listener(listener, tls, Arc::new(Ui::new(control, cfg)), shutdown).await?;
    Ok(())
}

/// [`serve`] on an already bound listener (tests bind port 0).
pub async fn serve_listener<C: ControlPlane>(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    ui: Arc<Ui<C>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let app = router(ui).into_make_service_with_connect_info::<ClientAddr>();
    match tls {
        Some(config) => {
            tracing::info!(%addr, "web UI listening (HTTPS)");
            axum::serve(tls::TlsListener::new(listener, config)?, app).with_graceful_shutdown(shutdown).await
        }
        None => {
            if addr.ip().is_loopback() {
                tracing::info!(%addr, "web UI listening (HTTP, loopback only)");
            } else {
                tracing::warn!(
                    %addr,
                    "web UI listening on a network address without TLS: the password and session cookies cross the network in clear; set ui.tls_cert and ui.tls_key"
                );
            }
            axum::serve(listener, app).with_graceful_shutdown(shutdown).await
        }
    }
}
