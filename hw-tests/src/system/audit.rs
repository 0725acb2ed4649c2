//! The audit run after every scenario, as Pacemaker's CTS audits the cluster after
//! each test: the pair must have come back to one healthy, consistent state.

use std::time::Duration;

use failover_core::wire::Controller;

use super::target::{Capability, Target, settled, status_lines, wait_disks_held, wait_for};

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
/// - where the target shows the BMCs' own view: each BMC hears its host, the peer BMC
///   and (through it) the peer host, and no BMC still drives a fence line to its peer;
/// - no controller but the active can have written to the disks (on the emulated rig:
///   no write in any disk's log from a port that did not hold the reservation; on real
///   controllers: the active's key is the only one registered), and the active's
///   writes are landing where the target can count them.
pub fn audit(t: &mut dyn Target) -> Result<Audited, String> {
    let (active, epoch) = settled(t)?;
    wait_disks_held(t, active, epoch)?;
    t.expect_serving(active, true)?;
    wait_for(t, HEALTHY_LIMIT, "both controllers to report HA enabled with equal configurations", |t| {
        let (a, b) = (t.status(Controller::A)?, t.status(Controller::B)?);
        let healthy = |s: &failover_linux::api::types::StatusJson| {
            s.disabled_reasons.is_empty() && !s.passphrase_needed && s.peer.verdict == "alive"
        };
        let same = a.config_digest == b.config_digest
            && a.peer.config_digest.as_deref() == Some(b.config_digest.as_str())
            && b.peer.config_digest.as_deref() == Some(a.config_digest.as_str());
        Ok((healthy(&a) && healthy(&b) && same && a.epoch == b.epoch).then_some(()))
    })
    .map_err(|e| format!("{e}: {}", status_lines(t)))?;
    if t.supports(Capability::BmcStatus).is_ok() {
        bmcs_hear_all(t)?;
    }
    if t.supports(Capability::BmcFenceLine).is_ok() {
        no_fence_line_raised(t)?;
    }
    t.audit_fencing(active, epoch)?;
    Ok(Audited { active, epoch })
}

/// Each BMC sees its host, the peer BMC and the peer host.
fn bmcs_hear_all(t: &mut dyn Target) -> Result<(), String> {
    let whole = |l: &Option<String>| {
        l.as_deref().is_some_and(|l| {
            let f = |k: &str| crate::firmware::host::field(l, k);
            f("host") == Some("alive") && f("peer_bmc") == Some("up") && f("peer_host") == Some("alive")
        })
    };
    wait_for(t, HEALTHY_LIMIT, "both BMCs to see their host, the peer BMC and the peer host", |t| {
        let lines = [t.bmc_status(Controller::A)?, t.bmc_status(Controller::B)?];
        Ok(lines.iter().all(whole).then_some(()))
    })
    .map_err(|e| {
        format!("{e}: A `{:?}`, B `{:?}`", t.bmc_status(Controller::A), t.bmc_status(Controller::B))
    })?;
    Ok(())
}

/// No BMC still drives its fence line to the peer's enclosure port.
fn no_fence_line_raised(t: &mut dyn Target) -> Result<(), String> {
    for c in [Controller::A, Controller::B] {
        wait_for(
            t,
            Duration::from_secs(3),
            &format!("{c}'s BMC to give its peer's enclosure port back"),
            |t| Ok((!t.bmc_fencing(c)?).then_some(())),
        )?;
    }
    Ok(())
}
