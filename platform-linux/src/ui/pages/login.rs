//! Sign-in: one password (the administrator's, hashed in `[ui] password_hash`).

use maud::{Markup, html};

use crate::ui::html::{bare, csrf_field};

/// The sign-in page; `error` says why the last attempt failed.
pub fn page(node: &str, csrf: &str, error: Option<&str>) -> Markup {
    bare(
        "Sign in",
        html! {
            p.muted { "Controller " (node) " · dual-controller HA" }
            @if let Some(e) = error { p.flash.flash-error #login-error role="alert" { (e) } }
            form method="post" action="/login" {
                (csrf_field(csrf))
                label for="password" { "Password" }
                input #password type="password" name="password" autocomplete="current-password" required autofocus;
                button.primary type="submit" { "Sign in" }
            }
        },
    )
}

/// A request refused before sign-in (bad CSRF token on the sign-in form, unreadable
/// form).
pub fn refused(message: &str) -> Markup {
    bare(
        "Refused",
        html! {
            p.flash.flash-error #refused role="alert" { (message) }
            p { a href="/login" { "Back to sign-in" } }
        },
    )
}
