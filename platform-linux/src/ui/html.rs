//! The page frame every signed-in page shares (header with the HA status indicator,
//! navigation, flash message) and the small pieces pages are built from.
//!
//! Everything is rendered with `maud`, which escapes every interpolated value: a
//! value from the service or the administrator never becomes markup.

use maud::{DOCTYPE, Markup, html};

use crate::api::format::{disabled_reason_meaning, status_meaning};
use crate::api::types::StatusJson;

use super::csrf;
use super::session::Flash;

/// The navigation entries, in the reference's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nav {
    /// The HA status dashboard.
    Dashboard,
    /// System > Failover.
    Failover,
    /// Network > Global Configuration.
    Global,
    /// Network > Interfaces.
    Interfaces,
    /// Storage > Unlock.
    Unlock,
}

/// What the frame needs besides the page's own content.
#[derive(Debug)]
pub struct Frame<'a> {
    /// The page's title.
    pub title: &'a str,
    /// The navigation entry to highlight.
    pub nav: Nav,
    /// This controller's status (for the indicator and the header).
    pub status: &'a StatusJson,
    /// The session's CSRF token (the sign-out form).
    pub csrf: &'a str,
    /// A message left by the last action.
    pub flash: Option<&'a Flash>,
}

/// How the HA status indicator looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Active or standby, no reason failover is unavailable, the peer alive.
    Healthy,
    /// A takeover or election is running.
    Busy,
    /// Failover unavailable: the reasons are listed.
    Degraded,
    /// `ERROR`: an administrator is needed.
    Error,
}

impl Level {
    fn class(self) -> &'static str {
        match self {
            Self::Healthy => "ha ha-ok",
            Self::Busy => "ha ha-busy",
            Self::Degraded => "ha ha-degraded",
            Self::Error => "ha ha-error",
        }
    }
}

/// The indicator's level for a status.
pub fn level(s: &StatusJson) -> Level {
    match s.status.as_str() {
        "ERROR" => Level::Error,
        "ELECTING" | "IMPORTING" => Level::Busy,
        "MASTER" | "BACKUP" if s.disabled_reasons.is_empty() && s.peer.verdict == "alive" => Level::Healthy,
        _ => Level::Degraded,
    }
}

/// `active` / `standby` / the meaning of another status name.
pub fn role(status: &str) -> &'static str {
    match status {
        "MASTER" => "active",
        "BACKUP" => "standby",
        other => status_meaning(other),
    }
}

/// The other controller's letter.
pub fn peer_letter(node: &str) -> &'static str {
    if node == "A" { "B" } else { "A" }
}

/// The HA status indicator (the reference's icon in the upper-right corner), as the
/// content of the live `#ha` element.
pub fn ha_indicator(s: &StatusJson) -> Markup {
    let lvl = level(s);
    let headline = match lvl {
        Level::Healthy => "HA enabled",
        Level::Busy => "HA: failover in progress",
        Level::Degraded => "HA unavailable",
        Level::Error => "HA error",
    };
    let peer = peer_letter(&s.node);
    let peer_says = match (&s.peer.status, s.peer.verdict.as_str()) {
        (Some(st), "alive") => format!("peer {peer} {} ({st}), healthy", role(st)),
        (Some(st), v) => format!("peer {peer} last reported {st}; now {}", v.replace('_', " ")),
        (None, v) => format!("peer {peer} {}", v.replace('_', " ")),
    };
    html! {
        div class=(lvl.class()) id="ha-indicator" data-level=(format!("{lvl:?}").to_lowercase()) {
            span.dot {}
            div.ha-text {
                strong.ha-headline { (headline) }
                span.ha-roles {
                    (s.node) " " (role(&s.status)) " (" (s.status) ") · " (peer_says)
                }
                @if !s.disabled_reasons.is_empty() {
                    ul.reasons {
                        @for r in &s.disabled_reasons {
                            li { code { (r) } " " (disabled_reason_meaning(r)) }
                        }
                    }
                }
                @if let Some(f) = &s.last_failover {
                    span.ha-last {
                        "last failover: " (f.cause.replace('_', " ")) ", total " (ms(f.total_ms))
                    }
                }
            }
        }
    }
}

/// `12.3 ms`, or `-` when not measured.
pub fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1} ms"))
}

/// The hidden CSRF field of a form.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name=(csrf::FIELD) value=(token); }
}

/// A one-shot message.
pub fn flash(f: Option<&Flash>) -> Markup {
    html! {
        @if let Some(f) = f {
            p class=(if f.ok { "flash flash-ok" } else { "flash flash-error" }) id="flash" role="status" { (f.text) }
        }
    }
}

/// A whole signed-in page: the frame around `content`.
pub fn page(frame: &Frame<'_>, content: Markup) -> Markup {
    let s = frame.status;
    let link = |nav: Nav, href: &str, label: &str| {
        html! { a href=(href) class=[(frame.nav == nav).then_some("current")] { (label) } }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (frame.title) " · failoverd " (s.node) }
                link rel="stylesheet" href="/static/app.css";
                script src="/static/app.js" defer {}
            }
            body {
                header.top {
                    div.brand {
                        span.logo { "failoverd" }
                        span.where { "controller " (s.node) " · " (s.hostname) }
                    }
                    div #ha data-live="/live/ha" { (ha_indicator(s)) }
                    form.signout method="post" action="/logout" {
                        (csrf_field(frame.csrf))
                        button type="submit" { "Sign out" }
                    }
                }
                div.layout {
                    nav.side {
                        (link(Nav::Dashboard, "/", "Dashboard"))
                        h4 { "System" }
                        (link(Nav::Failover, "/system/failover", "Failover"))
                        h4 { "Network" }
                        (link(Nav::Global, "/network/global", "Global Configuration"))
                        (link(Nav::Interfaces, "/network/interfaces", "Interfaces"))
                        h4 { "Storage" }
                        a href="/unlock" class=[(frame.nav == Nav::Unlock).then_some("current")] {
                            "Unlock Pools"
                            @if s.passphrase_needed { " " span.badge { "locked" } }
                        }
                    }
                    main {
                        h1 { (frame.title) }
                        (flash(frame.flash))
                        (content)
                    }
                }
            }
        }
    }
}

/// A page outside the frame (sign-in, refusals before sign-in).
pub fn bare(title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · failoverd" }
                link rel="stylesheet" href="/static/app.css";
            }
            body.bare {
                main.bare-card {
                    div.logo { "failoverd" }
                    h1 { (title) }
                    (content)
                }
            }
        }
    }
}

/// `name` as one URL path segment: everything but unreserved characters
/// percent-encoded (interface names may hold `#`, `?` or `%`).
pub fn path_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
