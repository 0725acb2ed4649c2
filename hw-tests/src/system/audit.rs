//! The audit run after every scenario, as Pacemaker's CTS audits the cluster after
//! each test: the pair must have come back to one healthy, consistent state.

use std::time::Duration;

use failover_core::wire::Controller;

use super::cluster::Cluster;

/// How long the pair may take to look healthy again after a scenario healed the rig
/// (a restarted BMC's pty is reopened within 250 ms, QEMU notices the open within 1 s).
const HEALTHY_LIMIT: Duration = Duration::from_secs(8);

/// What the audit found, for the scenario's line.
#[derive(Clone, Debug)]
pub struct Audited {
    /// The active controller.
    pub active: Controller,
    /// Its epoch.
    pub epoch: u64,
}

/// Check that:
/// - exactly one controller is MASTER and the other BACKUP, each seeing the other
///   alive, both at the same epoch;
/// - every disk is reserved by the active's key for that epoch and no one else;
/// - the VIP is configured on the active only and answers ARP and ping from it alone;
/// - both report HA enabled (no disabled reason: both paths, BMCs, config, disks) and
///   neither needs the passphrase;
/// - both controllers' shared configurations have the same digest;
/// - each BMC hears its host, the peer BMC and (through it) the peer host;
/// - no BMC still drives a fence line to its peer;
/// - no disk's write log has a write from a port that did not hold the reservation
///   (no write from a fenced node), and the active's writes are landing.
pub fn audit(cl: &mut Cluster) -> Result<Audited, String> {
    let (active, epoch) = cl.pair.settled()?;
    cl.pair.wait_disks_held(active, epoch)?;
    cl.pair.expect_serving(active, true)?;
    let p = &mut cl.pair;
    p.wait_for(HEALTHY_LIMIT, "both controllers to report HA enabled with equal configurations", |p| {
        let (a, b) = (p.status(Controller::A)?, p.status(Controller::B)?);
        let healthy = |s: &failover_linux::api::types::StatusJson| {
            s.disabled_reasons.is_empty() && !s.passphrase_needed && s.peer.verdict == "alive"
        };
        let same = a.config_digest == b.config_digest
            && a.peer.config_digest.as_deref() == Some(b.config_digest.as_str())
            && b.peer.config_digest.as_deref() == Some(a.config_digest.as_str());
        Ok((healthy(&a) && healthy(&b) && same && a.epoch == b.epoch).then_some(()))
    })
    .map_err(|e| {
        let line =
            |c| p.status(c).map_or_else(|e| format!("{c}: {e}"), |s| crate::suites::rig::status_line(&s));
        format!("{e}: {} / {}", line(Controller::A), line(Controller::B))
    })?;
    let whole = |l: &Option<String>| {
        l.as_deref().is_some_and(|l| {
            let f = |k: &str| crate::firmware::host::field(l, k);
            f("host") == Some("alive") && f("peer_bmc") == Some("up") && f("peer_host") == Some("alive")
        })
    };
    cl.wait_for(HEALTHY_LIMIT, "both BMCs to see their host, the peer BMC and the peer host", |cl| {
        let lines = [cl.bmc_status(Controller::A)?, cl.bmc_status(Controller::B)?];
        Ok(lines.iter().all(whole).then_some(()))
    })
    .map_err(|e| {
        format!("{e}: A `{:?}`, B `{:?}`", cl.bmc_status(Controller::A), cl.bmc_status(Controller::B))
    })?;
    for c in [Controller::A, Controller::B] {
        cl.wait_for(
            Duration::from_secs(3),
            &format!("{c}'s BMC to give its peer's enclosure port back"),
            |cl| Ok((!cl.bmc_fencing(c)?).then_some(())),
        )?;
    }
    let w = cl.pair.writes_by(active)?;
    cl.pair.wait_writes(active, w, 2)?;
    cl.pair.audit_logs()?;
    Ok(Audited { active, epoch })
}
