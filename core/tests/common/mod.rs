//! What the scripted node tests share: a settled pair on the simulated world and the
//! checks on it.

#![allow(dead_code)]

use failover_core::node::{Settings, StateName, TakeoverCause};
use failover_core::sim::{SimConfig, World};
use failover_core::status::Status;
use failover_core::time::{Duration, Instant};
use failover_core::wire::Controller::{self, A, B};

/// `v` milliseconds.
pub(crate) fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// A world with `settings`, the BMCs' host-hang time equal to the failover timeout.
pub(crate) fn world_with(settings: Settings) -> World {
    let mut cfg = SimConfig::realistic();
    cfg.settings = settings;
    cfg.host_hang = settings.failover_timeout;
    World::new(cfg, 7)
}

/// Both booted with the default settings and settled: A active, B standby.
pub(crate) fn settled() -> World {
    let mut w = world_with(Settings::default());
    w.boot_all();
    w.run_for(ms(500));
    assert_pair(&w, A, B);
    w
}

/// No safety violation so far.
#[track_caller]
pub(crate) fn assert_no_violation(w: &World) {
    assert_eq!(w.violation, None, "{}", w.summary());
}

/// `active` active and serving alone, `standby` standby without a key.
#[track_caller]
pub(crate) fn assert_pair(w: &World, active: Controller, standby: Controller) {
    assert_no_violation(w);
    let a = w.host(active).expect("active host runs");
    let s = w.host(standby).expect("standby host runs");
    assert_eq!(a.state_name(), StateName::Active, "{}", w.summary());
    assert_eq!(a.status(), Status::Master);
    assert_eq!(s.state_name(), StateName::Standby, "{}", w.summary());
    assert_eq!(s.status(), Status::Backup);
    assert_eq!(w.disk.holder(), Some(active), "reservation held by the active");
    assert_eq!(w.disk.registration(standby), None, "standby holds no key");
    assert_eq!(w.vip_owner, Some(active), "VIP on the active");
    assert_eq!(w.writers(), vec![active]);
}

/// The takeovers begun after `t`: who, and why.
pub(crate) fn takeovers_after(w: &World, t: Instant) -> Vec<(Controller, TakeoverCause)> {
    w.takeovers.iter().filter(|r| r.at > t).map(|r| (r.by, r.cause)).collect()
}
