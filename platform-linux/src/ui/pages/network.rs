//! Network > Global Configuration: the host names of both controllers and the
//! virtual host name.

use maud::{Markup, html};

use crate::api::types::NetworkJson;
use crate::ui::html::csrf_field;

/// The page's content.
pub fn content(n: &NetworkJson, csrf: &str) -> Markup {
    html! {
        section.card {
            form #network method="post" action="/network/global" {
                (csrf_field(csrf))
                label for="hostname_a" { "Hostname (Controller A)" }
                input #hostname_a type="text" name="hostname_a" value=(n.hostname_a) required;
                label for="hostname_b" { "Hostname (Controller B)" }
                input #hostname_b type="text" name="hostname_b" value=(n.hostname_b) required;
                label for="hostname_virtual" { "Hostname (Virtual)" }
                input #hostname_virtual type="text" name="hostname_virtual" value=(n.hostname_virtual) required;
                p.hint { "The virtual host name follows the active controller; it is also the Kerberos principal. RFC 1123 names: lowercase letters, digits, '-' and '.'." }
                div.buttons { button.primary #save type="submit" { "Save" } }
            }
        }
    }
}
