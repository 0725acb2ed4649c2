//! The contract between the API server and the service: what an administrator can
//! ask and see. `failoverd` implements it; tests use a fake.

use std::future::Future;

use super::types::{
    EventJson, InterfaceJson, NetworkJson, SettingsJson, StatusJson, SyncJson, TakeoverJson, UnlockJson,
};

/// A refused or failed request, with the HTTP status it maps to.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// The request is malformed or a value is invalid (400); names the field.
    #[error("{0}")]
    BadRequest(String),
    /// The request is valid but refused in the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// The service could not carry it out (500).
    #[error("{0}")]
    Internal(String),
}

/// What the management API can ask of the service.
pub trait ControlPlane: Send + Sync + 'static {
    /// Current status (the HA status icon).
    fn status(&self) -> impl Future<Output = StatusJson> + Send;
    /// Current failover settings.
    fn settings(&self) -> impl Future<Output = SettingsJson> + Send;
    /// Replace the failover settings (validated; synced to the peer).
    fn set_settings(
        &self,
        s: SettingsJson,
    ) -> impl Future<Output = Result<SettingsJson, ControlError>> + Send;
    /// Take over (forced or by request to the active).
    fn takeover(&self, t: TakeoverJson) -> impl Future<Output = Result<(), ControlError>> + Send;
    /// Give back to the standby.
    fn giveback(&self) -> impl Future<Output = Result<(), ControlError>> + Send;
    /// Push the configuration to the peer, or pull it.
    fn sync(&self, s: SyncJson) -> impl Future<Output = Result<(), ControlError>> + Send;
    /// The interfaces' failover fields.
    fn interfaces(&self) -> impl Future<Output = Vec<InterfaceJson>> + Send;
    /// Edit an interface; refused while failover is enabled (as in the reference).
    fn set_interface(&self, i: InterfaceJson) -> impl Future<Output = Result<(), ControlError>> + Send;
    /// Hostnames.
    fn network(&self) -> impl Future<Output = NetworkJson> + Send;
    /// Set hostnames.
    fn set_network(&self, n: NetworkJson) -> impl Future<Output = Result<NetworkJson, ControlError>> + Send;
    /// Unlock encrypted pools after both controllers rebooted.
    fn unlock(&self, u: UnlockJson) -> impl Future<Output = Result<(), ControlError>> + Send;
    /// Recent events, oldest first.
    fn events(&self) -> impl Future<Output = Vec<EventJson>> + Send;
    /// Prometheus text metrics.
    fn metrics(&self) -> impl Future<Output = String> + Send;
}
