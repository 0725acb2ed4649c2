//! The controllers' network namespaces, `ctl-a` and `ctl-b`, joined by a veth pair:
//! the dedicated link (`ha0`, 169.254.10.1/30 and .2/30).

use std::net::Ipv4Addr;

use failover_core::wire::Controller;

use crate::suites::rig::run_cmd;

/// The dedicated link's interface name in both namespaces.
pub const LINK_IF: &str = "ha0";

/// A controller's namespace.
pub fn ns(c: Controller) -> &'static str {
    match c {
        Controller::A => "ctl-a",
        Controller::B => "ctl-b",
    }
}

/// A controller's address on the dedicated link.
pub fn link_addr(c: Controller) -> Ipv4Addr {
    match c {
        Controller::A => Ipv4Addr::new(169, 254, 10, 1),
        Controller::B => Ipv4Addr::new(169, 254, 10, 2),
    }
}

/// `ip` with arguments.
pub fn ip(args: &[&str]) -> Result<String, String> {
    run_cmd("ip", args)
}

/// Create both namespaces and the link.
pub fn create() -> Result<(), String> {
    let (a, b) = (ns(Controller::A), ns(Controller::B));
    for n in [a, b] {
        ip(&["netns", "add", n])?;
        ip(&["-n", n, "link", "set", "lo", "up"])?;
    }
    ip(&["-n", a, "link", "add", LINK_IF, "type", "veth", "peer", "name", LINK_IF, "netns", b])?;
    for c in [Controller::A, Controller::B] {
        ip(&["-n", ns(c), "addr", "add", &format!("{}/30", link_addr(c)), "dev", LINK_IF])?;
        ip(&["-n", ns(c), "link", "set", LINK_IF, "up"])?;
    }
    Ok(())
}

/// Run a command in a controller's namespace; its stdout.
pub fn exec(c: Controller, cmd: &str, args: &[&str]) -> Result<String, String> {
    let mut all = vec!["netns", "exec", ns(c), cmd];
    all.extend_from_slice(args);
    ip(&all)
}

/// One ICMP echo from `c` to its peer over the link (busybox ping).
pub fn ping_peer(c: Controller) -> Result<(), String> {
    let to = link_addr(c.peer()).to_string();
    exec(c, "busybox", &["ping", "-c", "1", "-W", "3", &to]).map(|_| ())
}

/// Bring a controller's end of the link down or up.
pub fn set_link(c: Controller, up: bool) -> Result<(), String> {
    ip(&["-n", ns(c), "link", "set", LINK_IF, if up { "up" } else { "down" }]).map(|_| ())
}

/// Impair a controller's side of the link with netem (`delay 100ms 10ms loss 20%`).
pub fn netem(c: Controller, spec: &[&str]) -> Result<(), String> {
    let mut args = vec!["-n", ns(c), "qdisc", "replace", "dev", LINK_IF, "root", "netem"];
    args.extend_from_slice(spec);
    run_cmd("tc", &args).map(|_| ())
}
