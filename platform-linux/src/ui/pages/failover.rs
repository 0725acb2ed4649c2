//! System > Failover: the failover settings and the actions (Force Takeover, Giveback,
//! Sync to / from Peer).

use maud::{Markup, html};

use crate::api::types::{SettingsJson, StatusJson};
use crate::ui::html::{csrf_field, role};

use super::confirm::Action;

/// The reference's warning on the sync buttons.
pub const SYNC_WARNING: &str = "Warning: use Sync to Peer and Sync from Peer only when directed by \
     support. Synchronization is automatic (the active pushes its configuration to the standby); \
     these buttons are for troubleshooting HA.";

/// Whether the peer is alive and says it is active.
fn peer_active(s: &StatusJson) -> bool {
    s.peer.verdict == "alive" && s.peer.status.as_deref() == Some("MASTER")
}

/// Force Takeover is offered only when both controllers are standby: this one is, and
/// the peer is not active (standby, or not heard at all).
pub fn takeover_offered(s: &StatusJson) -> bool {
    s.status == "BACKUP" && !peer_active(s)
}

/// Giveback is offered on the active while the peer is a live standby.
pub fn giveback_offered(s: &StatusJson) -> bool {
    s.status == "MASTER" && s.peer.verdict == "alive" && s.peer.status.as_deref() == Some("BACKUP")
}

/// A link to the action's confirmation page, looking like a button.
fn confirm_button(action: Action, class: &str) -> Markup {
    html! {
        a class=(format!("button {class}")) id=(format!("{}-button", action.slug()))
            href=(format!("/confirm/{}", action.slug())) { (action.label()) }
    }
}

/// The page's content.
pub fn content(settings: &SettingsJson, s: &StatusJson, csrf: &str) -> Markup {
    let peer_now = match &s.peer.status {
        Some(st) if s.peer.verdict == "alive" => format!("{st} ({})", role(st)),
        _ => s.peer.verdict.replace('_', " "),
    };
    html! {
        section.card {
            h2 { "Settings" }
            form #settings method="post" action="/system/failover" {
                (csrf_field(csrf))
                label.check {
                    input #disabled type="checkbox" name="disabled" value="on" checked[settings.disabled];
                    " Disable Failover"
                }
                p.hint { "Nothing moves automatically; both controllers boot as standby and Force Takeover is offered." }
                label for="primary" { "Default Controller" }
                select #primary name="primary" {
                    @for c in ["A", "B"] {
                        option value=(c) selected[settings.primary == c] { (c) }
                    }
                }
                p.hint { "The designated primary wins when both controllers boot together; there is no automatic failback." }
                label for="timeout_ms" { "Timeout after a network interruption (ms)" }
                input #timeout_ms type="number" name="timeout_ms" min="0" max="120000" value=(settings.timeout_ms) required;
                p.hint { "Every path to the peer silent this long: the peer is failed. At least three heartbeats, at most 120000." }
                label for="heartbeat_interval_ms" { "Heartbeat interval (ms)" }
                input #heartbeat_interval_ms type="number" name="heartbeat_interval_ms" min="1" max="10000" value=(settings.heartbeat_interval_ms) required;
                div.buttons { button.primary #save type="submit" { "Save" } }
            }
        }
        section.card #actions {
            h2 { "Actions" }
            p.muted { "This controller: " (s.status) " (" (role(&s.status)) "); peer: " (peer_now) "." }
            @if takeover_offered(s) {
                div.action {
                    (confirm_button(Action::Takeover, "danger"))
                    span { "Both controllers are standby: make this one active." }
                }
            } @else {
                p.muted #takeover-unavailable { "Force Takeover is offered only when both controllers are standby." }
            }
            @if giveback_offered(s) {
                div.action {
                    (confirm_button(Action::Giveback, "secondary"))
                    span { "Hand the service to the standby (planned failover)." }
                }
            } @else {
                p.muted { "Giveback is offered on the active controller while the peer is a healthy standby." }
            }
        }
        section.card #sync {
            h2 { "Sync" }
            p.warning #sync-warning { (SYNC_WARNING) }
            div.action {
                (confirm_button(Action::SyncToPeer, "secondary"))
                (confirm_button(Action::SyncFromPeer, "secondary"))
            }
        }
    }
}
