//! Storage > Unlock: the passphrase of the encrypted pools, needed after both
//! controllers rebooted (the keys live only in memory, escrowed to the peer).

use maud::{Markup, html};

use crate::ui::html::csrf_field;

/// The page's content.
pub fn content(passphrase_needed: bool, csrf: &str) -> Markup {
    html! {
        section.card {
            @if passphrase_needed {
                p.warning #unlock-needed {
                    "Both controllers rebooted: the encrypted pools' key is not held anywhere. "
                    "Enter the passphrase so the pools can be imported (on takeover too)."
                }
            } @else {
                p.ok #unlock-not-needed { "No passphrase is needed: the key is held in memory (or no pool is encrypted)." }
            }
            form #unlock method="post" action="/unlock" {
                (csrf_field(csrf))
                label for="passphrase" { "Passphrase for encrypted pools" }
                input #passphrase type="password" name="passphrase" autocomplete="off" required;
                p.hint { "Held in memory only, and escrowed encrypted to the peer's memory; never written to disk." }
                div.buttons { button.primary #save type="submit" { "Unlock" } }
            }
        }
    }
}
