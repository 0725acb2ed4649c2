//! Confirmation of the dangerous actions (Force Takeover, Giveback, Sync to / from
//! Peer): a page of its own with a required checkbox, checked again by the server, so
//! nothing dangerous happens on one click or without JavaScript.

use maud::{Markup, html};

use crate::ui::html::csrf_field;

/// The field that must be `yes`.
pub const FIELD: &str = "confirm";

/// An action that needs confirming.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Become active although the peer is not known to have failed.
    Takeover,
    /// Hand the service to the peer.
    Giveback,
    /// Push this controller's configuration to the peer.
    SyncToPeer,
    /// Pull the peer's configuration.
    SyncFromPeer,
}

impl Action {
    /// Every action.
    pub const ALL: [Self; 4] = [Self::Takeover, Self::Giveback, Self::SyncToPeer, Self::SyncFromPeer];

    /// The URL segment.
    pub fn slug(self) -> &'static str {
        match self {
            Self::Takeover => "takeover",
            Self::Giveback => "giveback",
            Self::SyncToPeer => "sync-to-peer",
            Self::SyncFromPeer => "sync-from-peer",
        }
    }

    /// The action from its URL segment.
    pub fn from_slug(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.slug() == s)
    }

    /// The button's label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Takeover => "Force Takeover",
            Self::Giveback => "Giveback",
            Self::SyncToPeer => "Sync to Peer",
            Self::SyncFromPeer => "Sync from Peer",
        }
    }

    /// What happens, in words.
    pub fn consequence(self) -> &'static str {
        match self {
            Self::Takeover => {
                "This controller becomes active: it takes a new epoch, fences the peer off the \
                 shared disks (SCSI-3 reservations, then the enclosure), imports the pools and \
                 raises the virtual IPs. Use it when both controllers are standby, for instance \
                 after both booted with failover disabled."
            }
            Self::Giveback => {
                "This controller exports the pools, drops the virtual IPs and hands the service \
                 to the standby, which becomes active. Clients see a short interruption."
            }
            Self::SyncToPeer => {
                "This controller's shared configuration (failover settings, host names, \
                 interfaces, pools) replaces the peer's."
            }
            Self::SyncFromPeer => {
                "The peer's shared configuration (failover settings, host names, interfaces, \
                 pools) replaces this controller's."
            }
        }
    }

    /// What the administrator ticks.
    pub fn acknowledgement(self) -> &'static str {
        match self {
            Self::Takeover => "I understand that this controller will fence its peer and become active.",
            Self::Giveback => "I understand that the service moves to the peer controller.",
            Self::SyncToPeer | Self::SyncFromPeer => {
                "I understand that this overwrites a configuration, and that sync is normally automatic."
            }
        }
    }

    /// Whether the action is one of the troubleshooting syncs.
    pub fn is_sync(self) -> bool {
        matches!(self, Self::SyncToPeer | Self::SyncFromPeer)
    }
}

/// The confirmation page's content.
pub fn content(action: Action, csrf: &str) -> Markup {
    html! {
        section.card.danger-zone {
            @if action.is_sync() {
                p.warning #sync-warning { (super::failover::SYNC_WARNING) }
            }
            p #consequence { (action.consequence()) }
            form method="post" action=(format!("/actions/{}", action.slug())) {
                (csrf_field(csrf))
                label.check {
                    input #confirm type="checkbox" name=(FIELD) value="yes" required;
                    " " (action.acknowledgement())
                }
                div.buttons {
                    button.danger #do-it type="submit" { (action.label()) }
                    a.button href="/system/failover" { "Cancel" }
                }
            }
        }
    }
}
