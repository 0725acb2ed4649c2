//! Network > Interfaces: every interface's failover fields, and the edit form, which
//! is disabled (with the reason) while failover is enabled, as in the reference.

use maud::{Markup, html};

use crate::api::types::InterfaceJson;
use crate::ui::html::{csrf_field, path_segment};

/// Why interfaces cannot be edited now.
pub const EDIT_REFUSED: &str = "Interfaces cannot be edited while failover is enabled: \
     disable failover in System > Failover first.";

fn list(v: &[String]) -> String {
    if v.is_empty() { "-".to_owned() } else { v.join(", ") }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn opt(v: Option<u8>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// The list.
pub fn content(ifs: &[InterfaceJson], failover_enabled: bool) -> Markup {
    html! {
        @if failover_enabled {
            p.notice #edit-refused { (EDIT_REFUSED) }
        }
        section.card.wide {
            @if ifs.is_empty() {
                p.muted { "No interface is configured." }
            } @else {
                table.grid #interfaces {
                    thead { tr {
                        th { "Name" } th { "Critical" } th { "Group" } th { "VHID" }
                        th { "Addresses (this)" } th { "Addresses (peer)" } th { "Virtual IPs" }
                        th { "State" } th { "Carrier" } th {}
                    } }
                    tbody {
                        @for i in ifs {
                            tr {
                                td { strong { (i.name) } }
                                td { (yes_no(i.critical)) }
                                td { (opt(i.group)) }
                                td { (opt(i.vhid)) }
                                td { (list(&i.addresses)) }
                                td { (list(&i.peer_addresses)) }
                                td { (list(&i.virtual_addresses)) }
                                td { span class=(if i.state == "MASTER" { "pill pill-ok" } else { "pill" }) { (i.state) } }
                                td { span class=(if i.carrier { "pill pill-ok" } else { "pill pill-bad" }) { (if i.carrier { "up" } else { "down" }) } }
                                td { a href=(format!("/network/interfaces/{}", path_segment(&i.name))) { "Edit" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One interface's edit form.
pub fn edit(i: &InterfaceJson, failover_enabled: bool, csrf: &str) -> Markup {
    let opt_value = |v: Option<u8>| v.map(|v| v.to_string()).unwrap_or_default();
    html! {
        @if failover_enabled {
            p.notice #edit-refused { (EDIT_REFUSED) }
        }
        section.card {
            form #interface method="post" action=(format!("/network/interfaces/{}", path_segment(&i.name))) {
                (csrf_field(csrf))
                fieldset #interface-fields disabled[failover_enabled] {
                    p { "Addresses on this controller: " (list(&i.addresses)) "; on the peer: " (list(&i.peer_addresses)) "." }
                    label.check {
                        input #critical type="checkbox" name="critical" value="on" checked[i.critical];
                        " Critical for failover"
                    }
                    label for="group" { "Failover Group (1-255; required when critical)" }
                    input #group type="number" name="group" min="1" max="255" value=(opt_value(i.group));
                    label for="vhid" { "VHID (1-255)" }
                    input #vhid type="number" name="vhid" min="1" max="255" value=(opt_value(i.vhid));
                    label for="virtual_addresses" { "Virtual IPs (address/prefix, comma-separated)" }
                    input #virtual_addresses type="text" name="virtual_addresses" value=(i.virtual_addresses.join(", "));
                    div.buttons {
                        button.primary #save type="submit" { "Save" }
                        a.button href="/network/interfaces" { "Cancel" }
                    }
                }
            }
        }
    }
}
