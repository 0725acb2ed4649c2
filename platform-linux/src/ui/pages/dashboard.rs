//! The dashboard: the HA status in full. This controller and its peer, the paths
//! between them, why failover is unavailable, the last failover's phases and the
//! recent events. Its body is also the live fragment `/live/status`.

use maud::{Markup, html};

use crate::api::format::{age, disabled_reason_meaning, path_state};
use crate::api::types::{EventJson, StatusJson};
use crate::ui::html::{ms, peer_letter, role};

/// Events shown, newest first.
pub const EVENTS_SHOWN: usize = 25;

/// The live body of the dashboard.
pub fn body(s: &StatusJson, events: &[EventJson]) -> Markup {
    let peer = peer_letter(&s.node);
    let config = match &s.peer.config_digest {
        None => "peer's not known yet".to_owned(),
        Some(p) if *p == s.config_digest => "same as the peer's".to_owned(),
        Some(p) => format!("differs from the peer's ({p}): sync pending"),
    };
    html! {
        div.cards {
            section.card #this-controller {
                h2 { "This controller: " (s.node) " · " (s.hostname) }
                dl {
                    dt { "Status" } dd #status { strong { (s.status) } " (" (role(&s.status)) ")" }
                    dt { "State" } dd { (s.state) }
                    dt { "Epoch" } dd { (s.epoch) }
                    dt { "Configuration" } dd { code { (s.config_digest) } " " (config) }
                    @if s.passphrase_needed {
                        dt { "Encrypted pools" } dd { a href="/unlock" { "passphrase needed: unlock" } }
                    }
                }
            }
            section.card #peer {
                h2 { "Peer: controller " (peer) }
                dl {
                    dt { "Verdict" } dd #peer-verdict { (s.peer.verdict.replace('_', " ")) }
                    dt { "Reports" } dd #peer-status {
                        @match &s.peer.status {
                            Some(st) => { strong { (st) } " (" (role(st)) ")" }
                            None => "nothing yet",
                        }
                    }
                    dt { "Host link" } dd { (path_state(&s.peer.host_link)) }
                    dt { "BMC link" } dd {
                        @match &s.peer.bmc_link { Some(p) => (path_state(p)), None => "no BMC" }
                    }
                }
            }
            section.card #failover-availability {
                h2 { "Failover" }
                @if s.disabled_reasons.is_empty() {
                    p.ok { "Available: the standby takes over if the active fails." }
                } @else {
                    p.warn { "Unavailable:" }
                    table.reasons {
                        @for r in &s.disabled_reasons {
                            tr { td { code { (r) } } td { (disabled_reason_meaning(r)) } }
                        }
                    }
                }
            }
            section.card #last-failover {
                h2 { "Last failover" }
                @match &s.last_failover {
                    None => p.muted { "None since this controller started." },
                    Some(f) => {
                        p { (f.cause.replace('_', " ")) ", epoch " (f.epoch) }
                        table.timings {
                            tr { th { "detect" } td { (ms(f.detect_ms)) } td.muted { "peer's last sign of life to the decision" } }
                            tr { th { "fence" } td { (ms(f.fence_ms)) } td.muted { "decision to disks reserved" } }
                            tr { th { "import" } td { (ms(f.import_ms)) } td.muted { "pools imported" } }
                            tr { th { "total" } td { strong { (ms(f.total_ms)) } } td.muted { "last sign of life to active" } }
                        }
                    }
                }
            }
        }
        section.card.wide #events {
            h2 { "Recent events" }
            @if events.is_empty() {
                p.muted { "No events." }
            } @else {
                table.timeline {
                    @for e in events.iter().rev().take(EVENTS_SHOWN) {
                        tr { td.when { (age(e.at_ms)) } td { (e.what) } }
                    }
                }
                p.muted { "Times since the service started." }
            }
        }
    }
}

/// The dashboard's content (the live body in its refreshing container).
pub fn content(s: &StatusJson, events: &[EventJson]) -> Markup {
    html! { div #status-body data-live="/live/status" { (body(s, events)) } }
}
