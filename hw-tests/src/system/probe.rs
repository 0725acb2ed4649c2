//! `hw-tests probe vip`: what a client on the public network sees of the VIP, printed
//! as JSON for the real-hardware target ([`super::remote`]), which runs it on the
//! client host (or here) through the client's command prefix.

use std::net::Ipv4Addr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cli::flag;
use crate::suites::rig::{arp_who_has, fmt_mac, parse_neighbour, ping, run_cmd};

/// One look at the VIP from the client.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VipProbe {
    /// The MACs that answered one ARP request for the VIP.
    pub arp: Vec<String>,
    /// The round trip of one ICMP echo to the VIP, if answered.
    pub ping_ms: Option<f64>,
    /// The client's neighbour entry for the VIP after the echo: MAC and state.
    pub neighbour: Option<(String, String)>,
}

/// Probe `vip` from `interface`: one ARP request (answers collected for `wait`), one
/// echo (answered within `ping_timeout`), then the neighbour entry.
pub fn probe_vip(
    interface: &str,
    vip: Ipv4Addr,
    wait: Duration,
    ping_timeout: Duration,
) -> Result<VipProbe, String> {
    let arp = arp_who_has(interface, vip, wait)?.iter().map(fmt_mac).collect();
    let rtt = ping(vip, ping_timeout).map_err(|e| format!("ping {vip}: {e}"))?;
    let out = run_cmd("ip", &["neigh", "show", &vip.to_string(), "dev", interface])?;
    let neighbour = parse_neighbour(&out).map(|(m, state)| (fmt_mac(&m), state));
    Ok(VipProbe { arp, ping_ms: rtt.map(|d| d.as_secs_f64() * 1e3), neighbour })
}

/// `hw-tests probe vip --interface I --vip V [--wait-ms N] [--ping-timeout-ms N]`:
/// prints one [`VipProbe`] as JSON; exit 0, or 2 with the error on stderr.
pub fn main(args: &[String]) -> i32 {
    let run = || -> Result<VipProbe, String> {
        if args.first().map(String::as_str) != Some("vip") {
            return Err(
                "usage: hw-tests probe vip --interface I --vip V [--wait-ms N] [--ping-timeout-ms N]".into(),
            );
        }
        let ms = |name: &str, default: u64| -> Result<Duration, String> {
            Ok(Duration::from_millis(flag(args, name)?.unwrap_or(default)))
        };
        let interface: String = flag(args, "--interface")?.ok_or("--interface is required")?;
        let vip: Ipv4Addr = flag(args, "--vip")?.ok_or("--vip is required")?;
        probe_vip(&interface, vip, ms("--wait-ms", 50)?, ms("--ping-timeout-ms", 500)?)
    };
    match run() {
        Ok(p) => match serde_json::to_string(&p) {
            Ok(j) => {
                println!("{j}");
                0
            }
            Err(e) => {
                eprintln!("hw-tests probe: {e}");
                2
            }
        },
        Err(e) => {
            eprintln!("hw-tests probe: {e}");
            2
        }
    }
}
