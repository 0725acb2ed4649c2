//! The fence decision for one disk: given what the disk reported (READ KEYS, READ
//! RESERVATION), what to do next. Pure, so every case is tested without a device.
//!
//! The rules are those of the simulated disk ([`crate::backend::sim_disk`]) and of
//! `failover_core::sim::PrDisk`, which the model checker proves the core safe against:
//! back off if the other controller has a key from our epoch or later, or we have one
//! from a later epoch; otherwise register our key, preempt every other key, reserve
//! Write Exclusive - Registrants Only.
//!
//! A real disk runs each command atomically but not the sequence, so the other
//! controller may act between our commands. The executor therefore works in rounds:
//! read, decide, act, read again, until the disk is [`FencePlan::Done`] or the decision
//! is to back off. What makes this safe is that PREEMPT names the key it removes: we
//! only ever remove keys we have read and judged older than ours, so a newer reign that
//! registers after our read is never preempted by us, and our next read sees it.

use failover_core::node::ReservationKey;

use crate::backend::pr::ReservationType;

use super::parse::HeldReservation;

/// The reservation type the fence establishes: Write Exclusive - Registrants Only
/// (5h). Everyone may read (the standby's health checks, `sg_persist`); only registered
/// ports may write, and after the fence that is ours alone.
pub const FENCE_TYPE: ReservationType = ReservationType::WriteExclusiveRegistrantsOnly;

/// What to do on one disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FencePlan {
    /// Another reign is newer: leave the disk alone. `epoch` is the newest epoch found.
    Superseded {
        /// The highest epoch among the keys that make us back off.
        epoch: u64,
    },
    /// Our key is registered through this path, holds a Write Exclusive - Registrants
    /// Only reservation, and no other key is registered.
    Done,
    /// The disk holds an all-registrants reservation (type 7h / 8h), which nothing in
    /// this system creates and PREEMPT does not convert: someone else uses the disk.
    Blocked {
        /// The reservation's TYPE.
        type_code: u8,
    },
    /// Commands to send, in the order of the fields; then read again.
    Act(Actions),
}

/// The commands of one round, in the order of the fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actions {
    /// REGISTER AND IGNORE EXISTING KEY with our key.
    pub register: bool,
    /// PREEMPT (AND ABORT) each of these keys, in order: every registered key but ours,
    /// each once, never zero. Preempting the holder's key moves the reservation to us.
    pub preempt: Vec<u64>,
    /// PREEMPT our own key with [`FENCE_TYPE`]: our key is registered through another
    /// I_T nexus too (which could write), or we hold the reservation with another type
    /// or scope. It removes every other nexus registered with our key, keeps ours, and
    /// makes the reservation ours with [`FENCE_TYPE`] if our key held it (SPC-4
    /// §5.12.11.4.3).
    pub preempt_self: bool,
    /// RESERVE with [`FENCE_TYPE`]: we do not hold the reservation with that type yet.
    /// After the preempts above it may be ours already; RESERVE then confirms it (a
    /// holder reserving again with the same type gets GOOD).
    pub reserve: bool,
}

/// Whether `key` on the disk means a reign at least as new as `ours`: the other
/// controller's key from our epoch or later (a tie goes to whoever reached the disk
/// first), or our own key from a later epoch.
pub fn is_newer(key: ReservationKey, ours: ReservationKey) -> bool {
    if key.controller() == ours.controller() {
        key.epoch() > ours.epoch()
    } else {
        key.epoch() >= ours.epoch()
    }
}

/// Decide the next step on a disk that reports `keys` and `reservation`, fencing with
/// `ours`. `registered` says whether this fence already registered `ours` through our
/// path: READ KEYS does not say which I_T nexus holds a key, so until we have
/// registered ourselves, our key in the list may be another path's.
pub fn plan(
    ours: ReservationKey,
    keys: &[u64],
    reservation: Option<HeldReservation>,
    registered: bool,
) -> FencePlan {
    let holder = reservation.map(|r| r.key).filter(|&k| k != 0);
    let newer = keys
        .iter()
        .chain(holder.as_ref())
        .filter_map(|&k| ReservationKey::from_u64(k))
        .filter(|&k| is_newer(k, ours))
        .map(ReservationKey::epoch)
        .max();
    if let Some(epoch) = newer {
        return FencePlan::Superseded { epoch };
    }
    if let Some(r) = reservation.filter(HeldReservation::is_all_registrants) {
        return FencePlan::Blocked { type_code: r.type_code };
    }
    let own = ours.as_u64();
    let mut preempt: Vec<u64> = Vec::new();
    // The holder's key is always registered; it is added in case the two reads saw
    // different moments.
    for k in keys.iter().copied().chain(holder) {
        if k != 0 && k != own && !preempt.contains(&k) {
            preempt.push(k);
        }
    }
    let register = !registered || !keys.contains(&own);
    let held = reservation.is_some_and(|r| r.key == own && r.kind() == Some(FENCE_TYPE));
    let held_otherwise = reservation.is_some_and(|r| r.key == own && r.kind() != Some(FENCE_TYPE));
    let preempt_self = keys.iter().filter(|&&k| k == own).count() > 1 || held_otherwise;
    if !register && preempt.is_empty() && !preempt_self && held {
        FencePlan::Done
    } else {
        FencePlan::Act(Actions { register, preempt, preempt_self, reserve: !held })
    }
}

#[cfg(test)]
mod tests {
    use failover_core::wire::Controller::{self, A, B};

    use super::*;
    use crate::backend::pr::{LogicalUnit, ReservationType};

    const WERO: ReservationType = ReservationType::WriteExclusiveRegistrantsOnly;
    const EARO: ReservationType = ReservationType::ExclusiveAccessRegistrantsOnly;
    const FOREIGN: u64 = 0x1234;

    fn key(c: Controller, epoch: u64) -> ReservationKey {
        ReservationKey::new(c, epoch)
    }

    fn held(key: u64, type_code: u8) -> Option<HeldReservation> {
        Some(HeldReservation { key, scope: 0, type_code })
    }

    fn act(register: bool, preempt: &[u64], preempt_self: bool, reserve: bool) -> FencePlan {
        FencePlan::Act(Actions { register, preempt: preempt.to_vec(), preempt_self, reserve })
    }

    #[test]
    fn supersede_rules_match_the_sim_disk() {
        let ours = key(A, 5);
        let plan_keys = |keys: &[ReservationKey]| {
            let raw: Vec<u64> = keys.iter().map(|k| k.as_u64()).collect();
            plan(ours, &raw, None, false)
        };
        // The other controller from a later epoch, or the same one: back off.
        assert_eq!(plan_keys(&[key(B, 6)]), FencePlan::Superseded { epoch: 6 });
        assert_eq!(plan_keys(&[key(B, 5)]), FencePlan::Superseded { epoch: 5 });
        // Our own key from a later epoch: back off; from ours or earlier: replace it.
        assert_eq!(plan_keys(&[key(A, 6)]), FencePlan::Superseded { epoch: 6 });
        assert!(matches!(plan_keys(&[key(A, 5)]), FencePlan::Act(_)));
        assert_eq!(plan_keys(&[key(A, 4)]), act(true, &[key(A, 4).as_u64()], false, true));
        // An older key of the other controller's is preempted.
        assert_eq!(plan_keys(&[key(B, 4)]), act(true, &[key(B, 4).as_u64()], false, true));
        // The newest epoch among several is reported.
        assert_eq!(plan_keys(&[key(B, 5), key(A, 9), key(B, 7)]), FencePlan::Superseded { epoch: 9 });
        // A holder key newer than ours counts even if READ KEYS missed it.
        assert_eq!(plan(ours, &[], held(key(B, 8).as_u64(), 5), true), FencePlan::Superseded { epoch: 8 });
    }

    #[test]
    fn the_ordinary_takeover() {
        let (ours, peer) = (key(B, 2), key(A, 1));
        // The peer holds the disk: register, preempt it (the reservation moves to us),
        // reserve (a no-op confirming it).
        let p = plan(ours, &[peer.as_u64()], held(peer.as_u64(), 5), false);
        assert_eq!(p, act(true, &[peer.as_u64()], false, true));
        // The next read: only our key, our reservation.
        assert_eq!(plan(ours, &[ours.as_u64()], held(ours.as_u64(), 5), true), FencePlan::Done);
        // The same state before we registered through this path: register first.
        assert_eq!(plan(ours, &[ours.as_u64()], held(ours.as_u64(), 5), false), act(true, &[], false, false));
        // An empty disk.
        assert_eq!(plan(ours, &[], None, false), act(true, &[], false, true));
        assert_eq!(plan(ours, &[ours.as_u64()], None, true), act(false, &[], false, true));
    }

    #[test]
    fn foreign_keys_and_odd_reservations() {
        let ours = key(A, 3);
        let o = ours.as_u64();
        // Keys that are not ours at all go, whatever they are; zero never is preempted
        // (a zero SERVICE ACTION RESERVATION KEY means something else entirely).
        assert_eq!(
            plan(ours, &[FOREIGN, 0, o, FOREIGN], held(FOREIGN, 1), true),
            act(false, &[FOREIGN], false, true)
        );
        // We hold it with another type: retype by preempting ourselves (RESERVE then
        // confirms).
        assert_eq!(plan(ours, &[o], held(o, 6), true), act(false, &[], true, true));
        let other_scope = Some(HeldReservation { key: o, scope: 1, type_code: 5 });
        assert_eq!(plan(ours, &[o], other_scope, true), act(false, &[], true, true));
        // Our key registered through another nexus too: that nexus goes.
        assert_eq!(plan(ours, &[o, o], held(o, 5), true), act(false, &[], true, false));
        assert_eq!(plan(ours, &[o, FOREIGN, o], None, true), act(false, &[FOREIGN], true, true));
        // All-registrants reservations are not ours to take.
        assert_eq!(plan(ours, &[o, FOREIGN], held(0, 7), true), FencePlan::Blocked { type_code: 7 });
        assert_eq!(plan(ours, &[FOREIGN], held(0, 8), false), FencePlan::Blocked { type_code: 8 });
        // ... unless a newer reign is there anyway: that answer matters more.
        assert_eq!(plan(ours, &[key(B, 3).as_u64()], held(0, 7), false), FencePlan::Superseded { epoch: 3 });
        // A holder missing from READ KEYS (the reads straddled a change) is preempted.
        assert_eq!(plan(ours, &[o], held(FOREIGN, 5), true), act(false, &[FOREIGN], false, true));
    }

    /// Every key a disk can carry in these tests, for fencing with A5.
    fn universe() -> Vec<u64> {
        let mut u: Vec<u64> = [key(A, 3), key(A, 5), key(A, 7), key(B, 4), key(B, 5), key(B, 6)]
            .iter()
            .map(|k| k.as_u64())
            .collect();
        u.push(FOREIGN);
        u
    }

    #[test]
    fn exhaustive_decisions_follow_the_rules() {
        let ours = key(A, 5);
        let u = universe();
        let reservations: Vec<Option<HeldReservation>> = std::iter::once(None)
            .chain(u.iter().flat_map(|&k| [1, 5, 6].map(|t| held(k, t))))
            .chain([held(0, 7), held(0, 8)])
            .collect();
        let mut seen = 0;
        // Every subset of the universe as the key list, every reservation, both flags.
        for mask in 0u32..(1 << u.len()) {
            let keys: Vec<u64> =
                u.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, &k)| k).collect();
            for &r in &reservations {
                for registered in [false, true] {
                    seen += 1;
                    let p = plan(ours, &keys, r, registered);
                    let visible: Vec<u64> = keys.iter().copied().chain(r.map(|r| r.key)).collect();
                    let newest = visible
                        .iter()
                        .filter_map(|&k| ReservationKey::from_u64(k))
                        .filter(|&k| is_newer(k, ours))
                        .map(ReservationKey::epoch)
                        .max();
                    match p {
                        FencePlan::Superseded { epoch } => assert_eq!(newest, Some(epoch)),
                        FencePlan::Blocked { type_code } => {
                            assert_eq!(newest, None);
                            assert_eq!(r.map(|r| r.type_code), Some(type_code));
                        }
                        FencePlan::Done => {
                            assert_eq!(newest, None);
                            assert!(registered);
                            assert_eq!(keys, vec![ours.as_u64()]);
                            assert_eq!(r, held(ours.as_u64(), 5));
                        }
                        FencePlan::Act(a) => {
                            assert_eq!(newest, None);
                            // Never preempt ourselves, zero, a key twice, or a newer key.
                            for (i, &v) in a.preempt.iter().enumerate() {
                                assert!(v != 0 && v != ours.as_u64() && !a.preempt[..i].contains(&v));
                                assert!(ReservationKey::from_u64(v).is_none_or(|k| !is_newer(k, ours)));
                            }
                            // Every other visible key is preempted.
                            for &k in &visible {
                                assert!(k == 0 || k == ours.as_u64() || a.preempt.contains(&k));
                            }
                            assert_eq!(a.register, !registered || !keys.contains(&ours.as_u64()));
                            let own = ours.as_u64();
                            let dup = keys.iter().filter(|&&k| k == own).count() > 1;
                            let wrong_type = r.is_some_and(|r| r.key == own && r.kind() != Some(FENCE_TYPE));
                            assert_eq!(a.preempt_self, dup || wrong_type);
                            assert_eq!(a.reserve, r != held(own, 5));
                        }
                    }
                }
            }
        }
        assert_eq!(seen, 128 * 24 * 2);
    }

    /// Apply one round of `a` for port `me` to the SPC model, as the executor would.
    fn apply(lu: &mut LogicalUnit, me: Controller, ours: u64, a: &Actions) {
        if a.register {
            lu.register_and_ignore_existing_key(me, ours);
        }
        for &v in &a.preempt {
            if lu.preempt(me, ours, v, FENCE_TYPE).is_err() {
                return;
            }
        }
        if a.preempt_self && lu.preempt(me, ours, ours, FENCE_TYPE).is_err() {
            return;
        }
        if a.reserve {
            let _ = lu.reserve(me, ours, FENCE_TYPE);
        }
    }

    fn observe(lu: &LogicalUnit) -> (Vec<u64>, Option<HeldReservation>) {
        let r = lu.read_reservation().reservation.map(|d| HeldReservation {
            key: d.key,
            scope: 0,
            type_code: d.kind.code(),
        });
        (lu.read_keys().keys, r)
    }

    #[test]
    fn every_reachable_disk_state_converges_in_two_rounds() {
        // Every registration of A and B from the universe (or none), every reservation
        // one of them could hold; A fences with A5 against the SPC model.
        let ours = key(A, 5);
        let options: Vec<Option<u64>> =
            std::iter::once(None).chain(universe().into_iter().map(Some)).collect();
        for &ra in &options {
            for &rb in &options {
                for holder in [None, Some((A, WERO)), Some((A, EARO)), Some((B, WERO)), Some((B, EARO))] {
                    let mut lu = LogicalUnit::new();
                    if let Some(k) = ra {
                        lu.register_and_ignore_existing_key(A, k);
                    }
                    if let Some(k) = rb {
                        lu.register_and_ignore_existing_key(B, k);
                    }
                    if let Some((c, t)) = holder {
                        let Some(k) = lu.registration(c) else { continue };
                        lu.reserve(c, k, t).unwrap();
                    }
                    let start = lu.clone();
                    let mut registered = false;
                    let mut rounds = 0;
                    let outcome = loop {
                        let (keys, r) = observe(&lu);
                        match plan(ours, &keys, r, registered) {
                            FencePlan::Act(a) => {
                                assert!(rounds < 2, "{start:?}: no progress after {rounds} rounds: {a:?}");
                                apply(&mut lu, A, ours.as_u64(), &a);
                                registered |= a.register;
                                rounds += 1;
                            }
                            other => break other,
                        }
                    };
                    match outcome {
                        FencePlan::Done => {
                            assert_eq!(lu.read_keys().keys, vec![ours.as_u64()]);
                            assert_eq!(lu.reservation().map(|r| (r.holder, r.kind)), Some((A, WERO)));
                            assert!(lu.check_write(B).is_err());
                        }
                        FencePlan::Superseded { .. } => assert_eq!(lu, start, "backing off changes nothing"),
                        FencePlan::Blocked { .. } => unreachable!("the model has no all-registrants types"),
                        FencePlan::Act(_) => unreachable!(),
                    }
                }
            }
        }
    }
}
