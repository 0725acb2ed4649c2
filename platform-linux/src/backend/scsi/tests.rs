//! The device layer and the disk set against in-memory dual-ported units
//! ([`super::fake`]): the same scenarios as the simulated disk's tests, plus what only a
//! real device does (unit attentions, BUSY, lying lengths, timeouts, vanished paths).

use std::sync::Arc;
use std::time::{Duration, Instant};

use failover_core::node::{FenceResult, ReservationKey};
use failover_core::wire::Controller::{self, A, B};

use super::fake::{BLOCK_LEN, FakeLun, Fault};
use super::fence::FENCE_TYPE;
use super::sense::SenseKey;
use super::transport::Completion;
use super::*;
use crate::backend::pr::{PrError, ReservationType, ServiceAction};
use crate::backend::{BackendError, DiskOwnership, FenceOutcome};
use crate::config::PreemptMode;

const FAST: Timeouts = Timeouts { command: Duration::from_secs(2), disk: Duration::from_secs(5) };

fn key(c: Controller, epoch: u64) -> ReservationKey {
    ReservationKey::new(c, epoch)
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(5)
}

fn device(lun: &Arc<FakeLun>, port: Controller, path: &str) -> ScsiDevice {
    ScsiDevice::with_transport(path, lun.path(port), FAST.command, soon()).unwrap()
}

/// `n` shared units and each controller's set over them.
fn pair_with(n: usize, mode: PreemptMode) -> (Vec<Arc<FakeLun>>, ScsiDiskSet, ScsiDiskSet) {
    let luns: Vec<_> = (0..n).map(|i| FakeLun::new(&format!("serial{i:02}"))).collect();
    let set = |port: Controller| {
        let devs =
            luns.iter().enumerate().map(|(i, l)| device(l, port, &format!("/dev/sg{port}{i}"))).collect();
        ScsiDiskSet::from_devices(devs, mode, port, FAST).unwrap()
    };
    let (a, b) = (set(A), set(B));
    (luns, a, b)
}

fn pair(n: usize) -> (Vec<Arc<FakeLun>>, ScsiDiskSet, ScsiDiskSet) {
    pair_with(n, PreemptMode::Preempt)
}

fn outcome(result: FenceResult, done: u16, total: u16) -> FenceOutcome {
    FenceOutcome { result, disks_done: done, disks_total: total }
}

fn keys(lun: &FakeLun) -> Vec<u64> {
    lun.state().lu.read_keys().keys
}

#[test]
fn identity_from_the_device_identification_page() {
    let lun = FakeLun::new("abc");
    let dev = device(&lun, A, "/dev/sg1");
    assert_eq!(dev.id(), "naa.60014050616263000000000000000000");
    assert_eq!(dev.identity().serial.as_deref(), Some("abc"));
    assert_eq!((dev.identity().vendor.as_str(), dev.identity().product.as_str()), ("LIO-ORG", "FILEIO"));
    assert_eq!(dev.name(), "naa.60014050616263000000000000000000 at /dev/sg1");
    assert_eq!(dev.path(), std::path::Path::new("/dev/sg1"));
    // The other port sees the same unit (the target port designator differs, and is
    // not used).
    assert_eq!(device(&lun, B, "/dev/sg7").id(), dev.id());
    // No VPD page 83h (ILLEGAL REQUEST): the unit serial names it.
    lun.state().has_vpd_83 = false;
    assert_eq!(device(&lun, A, "/dev/sg1").id(), "abc");
    // Neither: refused.
    lun.state().serial.clear();
    let err = ScsiDevice::with_transport("/dev/sg1", lun.path(A), FAST.command, soon()).unwrap_err();
    assert!(matches!(&err, BackendError::NoIdentity { disk } if disk == "/dev/sg1"), "{err}");
}

#[test]
fn only_disks_are_accepted() {
    let lun = FakeLun::new("tape");
    lun.state().device_type = 1;
    let err = ScsiDevice::with_transport("/dev/sg3", lun.path(A), FAST.command, soon()).unwrap_err();
    assert!(matches!(err, BackendError::NotADisk { device_type: 1, qualifier: 0, .. }));
    assert_eq!(err.to_string(), "/dev/sg3: not a disk (peripheral qualifier 0, device type 0x01)");
}

#[test]
fn two_paths_to_one_unit_are_refused() {
    let lun = FakeLun::new("same");
    let other = FakeLun::new("other");
    let devs = vec![device(&lun, A, "/dev/sg1"), device(&other, A, "/dev/sg2"), device(&lun, A, "/dev/sg3")];
    let err = ScsiDiskSet::from_devices(devs, PreemptMode::Preempt, A, FAST).unwrap_err();
    assert!(
        matches!(&err, BackendError::DuplicateDisk { first, second, .. }
            if first.as_os_str() == "/dev/sg1" && second.as_os_str() == "/dev/sg3"),
        "{err}"
    );
    assert!(err.to_string().contains("are the same disk naa."));
    assert!(matches!(
        ScsiDiskSet::from_devices(vec![], PreemptMode::Preempt, A, FAST),
        Err(BackendError::NoSuchDisk { count: 0, .. })
    ));
}

#[test]
fn both_controllers_see_the_same_disk_set() {
    let (_luns, a, b) = pair(3);
    let serials = a.disk_serials().unwrap();
    assert_eq!(serials.len(), 3);
    assert_eq!(serials, b.disk_serials().unwrap());
    assert!(serials.windows(2).all(|w| w[0] < w[1]));
    assert!(a.describe().starts_with("SCSI-3 PR on 3 disks (/dev/sgA0, /dev/sgA1, /dev/sgA2) via port A"));
    assert_eq!((a.port(), a.preempt_mode(), a.timeouts()), (A, PreemptMode::Preempt, FAST));
    assert_eq!(a.devices().len(), 3);
}

#[test]
fn disk_serials_leave_out_a_disk_without_a_path() {
    let (luns, a, _b) = pair(2);
    let all = a.disk_serials().unwrap();
    assert_eq!(all.len(), 2);
    // One path gone: the set shrinks (the peer then reports MISMATCH_DISKS).
    luns[1].inject(A, Fault::Os(libc::ENODEV));
    assert_eq!(a.disk_serials().unwrap(), vec![a.devices()[0].id().to_owned()]);
    assert_eq!(a.disk_serials().unwrap(), all, "the fault was one command");
    // No disk answers: an error naming the first.
    luns[0].inject(A, Fault::Os(libc::ENODEV));
    luns[1].inject(A, Fault::Os(libc::ENODEV));
    assert!(matches!(a.disk_serials(), Err(BackendError::NoPath { disk }) if disk.ends_with("/dev/sgA0")));
}

#[test]
fn fence_takes_every_disk_and_blocks_the_other_port() {
    let (luns, a, b) = pair(3);
    // Unreserved: anyone writes.
    b.devices()[0].write_block(7, b"b before", soon()).unwrap();
    assert_eq!(a.fence_and_reserve(key(A, 1)).unwrap(), outcome(FenceResult::Done, 3, 3));
    assert!(a.check(key(A, 1)).unwrap());
    assert!(!b.check(key(B, 1)).unwrap());
    for (lun, (da, db)) in luns.iter().zip(a.devices().iter().zip(b.devices())) {
        assert_eq!(keys(lun), vec![key(A, 1).as_u64()]);
        let r = db.read_reservation(soon()).unwrap().reservation.unwrap();
        assert_eq!((r.key, r.kind()), (key(A, 1).as_u64(), Some(FENCE_TYPE)));
        da.write_block(7, b"a1", soon()).unwrap();
        let err = db.write_block(7, b"b late", soon()).unwrap_err();
        assert!(matches!(&err, BackendError::ReservationConflict { disk } if disk == db.name()), "{err}");
        // Write Exclusive: B still reads, and sees A's write.
        let block = db.read_block(7, soon()).unwrap();
        assert_eq!((&block[..2], block.len()), (&b"a1"[..], BLOCK_LEN));
    }
    // Fencing again with the same key is idempotent.
    assert_eq!(a.fence_and_reserve(key(A, 1)).unwrap().result, FenceResult::Done);
    assert_eq!(keys(&luns[0]), vec![key(A, 1).as_u64()]);
}

#[test]
fn a_newer_epoch_preempts_and_the_old_holder_is_fenced() {
    let (luns, a, b) = pair(2);
    assert_eq!(a.fence_and_reserve(key(A, 1)).unwrap().result, FenceResult::Done);
    assert_eq!(b.fence_and_reserve(key(B, 2)).unwrap(), outcome(FenceResult::Done, 2, 2));
    // B's PREEMPT left A a unit attention on each disk; A's next command drains it and
    // gets the real answer.
    assert_eq!(luns[0].state().attention[0].len(), 1);
    assert!(!a.check(key(A, 1)).unwrap());
    assert!(luns.iter().all(|l| l.state().attention[0].is_empty()));
    assert!(b.check(key(B, 2)).unwrap());
    let err = a.devices()[0].write_block(0, b"a after", soon()).unwrap_err();
    assert!(matches!(err, BackendError::ReservationConflict { .. }));
    b.devices()[0].write_block(0, b"b2", soon()).unwrap();
    // The fenced node's release does nothing (its key is gone) and is no error.
    a.release(key(A, 1)).unwrap();
    assert!(b.check(key(B, 2)).unwrap());
    assert_eq!(keys(&luns[1]), vec![key(B, 2).as_u64()]);
}

#[test]
fn preempt_mode_picks_the_service_action() {
    for (mode, sa) in [(PreemptMode::Preempt, 0x04), (PreemptMode::PreemptAndAbort, 0x05)] {
        let (luns, a, b) = pair_with(1, mode);
        assert_eq!(a.fence_and_reserve(key(A, 1)).unwrap().result, FenceResult::Done);
        assert_eq!(b.fence_and_reserve(key(B, 2)).unwrap().result, FenceResult::Done);
        // Round 1: REGISTER AND IGNORE, PREEMPT (AND ABORT), RESERVE; round 2 reads only.
        assert_eq!(luns[0].pr_out_log(B), vec![0x06, sa, 0x01], "{mode:?}");
    }
}

#[test]
fn supersede_rules_match_the_sim_disk() {
    let (luns, a, b) = pair(2);
    assert_eq!(b.fence_and_reserve(key(B, 5)).unwrap().result, FenceResult::Done);
    assert_eq!(a.fence_and_reserve(key(A, 4)).unwrap(), outcome(FenceResult::Superseded { epoch: 5 }, 0, 2));
    assert_eq!(a.fence_and_reserve(key(A, 5)).unwrap().result, FenceResult::Superseded { epoch: 5 });
    assert!(b.check(key(B, 5)).unwrap());
    // Refused fences left nothing behind: A never even registered.
    assert_eq!(keys(&luns[0]), vec![key(B, 5).as_u64()]);
    assert!(luns[0].pr_out_log(A).is_empty());
    // Our own older key is replaced; our own newer key supersedes us.
    assert_eq!(b.fence_and_reserve(key(B, 7)).unwrap().result, FenceResult::Done);
    assert_eq!(keys(&luns[1]), vec![key(B, 7).as_u64()]);
    assert_eq!(b.fence_and_reserve(key(B, 6)).unwrap().result, FenceResult::Superseded { epoch: 7 });
    assert!(b.check(key(B, 7)).unwrap());
    assert_eq!(a.fence_and_reserve(key(A, 8)).unwrap().result, FenceResult::Done);
    // A key is only usable through its own port.
    assert!(matches!(a.fence_and_reserve(key(B, 9)), Err(BackendError::ForeignKey { port: A, .. })));
    assert!(matches!(a.check(key(B, 9)), Err(BackendError::ForeignKey { .. })));
    assert!(matches!(a.release(key(B, 9)), Err(BackendError::ForeignKey { .. })));
}

#[test]
fn a_partial_supersede_reports_the_newest_epoch() {
    let (luns, a, b) = pair(2);
    assert_eq!(b.fence_and_reserve(key(B, 3)).unwrap().result, FenceResult::Done);
    // Disk 1 alone has a newer key of B's (a half-finished takeover of a later reign).
    b.devices()[1].register_ignore(key(B, 9).as_u64(), soon()).unwrap();
    let per_disk = a.fence_disks(key(A, 4)).unwrap();
    assert_eq!(per_disk[0].as_ref().unwrap(), &FenceResult::Done);
    assert_eq!(per_disk[1].as_ref().unwrap(), &FenceResult::Superseded { epoch: 9 });
    assert_eq!(a.fence_and_reserve(key(A, 4)).unwrap(), outcome(FenceResult::Superseded { epoch: 9 }, 1, 2));
    assert_eq!(keys(&luns[1]), vec![key(B, 9).as_u64()]);
}

#[test]
fn foreign_keys_and_types_are_taken_over() {
    let (luns, a, b) = pair(1);
    // Another initiator's key that is not one of ours, holding an EARO reservation.
    let db = &b.devices()[0];
    db.register_ignore(0x1234, soon()).unwrap();
    db.reserve(0x1234, ReservationType::ExclusiveAccessRegistrantsOnly, soon()).unwrap();
    assert_eq!(a.fence_and_reserve(key(A, 1)).unwrap().result, FenceResult::Done);
    assert_eq!(keys(&luns[0]), vec![key(A, 1).as_u64()]);
    // We hold it with the wrong type (an operator's sg_persist): retyped.
    let da = &a.devices()[0];
    da.release(key(A, 1).as_u64(), FENCE_TYPE, soon()).unwrap();
    da.reserve(key(A, 1).as_u64(), ReservationType::ExclusiveAccessRegistrantsOnly, soon()).unwrap();
    assert!(!a.check(key(A, 1)).unwrap());
    assert_eq!(a.fence_and_reserve(key(A, 1)).unwrap().result, FenceResult::Done);
    assert!(a.check(key(A, 1)).unwrap());
}

#[test]
fn release_gives_the_disks_back() {
    let (luns, a, b) = pair(2);
    assert_eq!(a.fence_and_reserve(key(A, 1)).unwrap().result, FenceResult::Done);
    a.release(key(A, 1)).unwrap();
    assert!(!a.check(key(A, 1)).unwrap());
    for (lun, db) in luns.iter().zip(b.devices()) {
        assert!(keys(lun).is_empty());
        assert_eq!(db.read_reservation(soon()).unwrap().reservation, None);
        db.write_block(1, b"b", soon()).unwrap();
    }
    // Releasing again is no error; B takes over a released set without a newer epoch.
    a.release(key(A, 1)).unwrap();
    assert_eq!(b.fence_and_reserve(key(B, 1)).unwrap().result, FenceResult::Done);
}

#[test]
fn release_reports_other_errors() {
    let (luns, a, _b) = pair(1);
    let da = &a.devices()[0];
    da.register_ignore(key(A, 1).as_u64(), soon()).unwrap();
    da.reserve(key(A, 1).as_u64(), ReservationType::ExclusiveAccessRegistrantsOnly, soon()).unwrap();
    // Held with another type: RELEASE with type 5 is an invalid release.
    let err = a.release(key(A, 1)).unwrap_err();
    assert!(
        matches!(
            &err,
            BackendError::PrRejected { action: ServiceAction::Release, error: PrError::InvalidRelease, .. }
        ),
        "{err}"
    );
    assert_eq!(keys(&luns[0]), vec![key(A, 1).as_u64()]);
}

#[test]
fn unit_attentions_are_drained_and_retried() {
    let (luns, a, _b) = pair(1);
    for (asc, ascq) in [(0x29, 0x00), (0x2A, 0x03), (0x2A, 0x05)] {
        luns[0].attention(A, asc, ascq);
    }
    luns[0].state().descriptor_sense = true;
    assert_eq!(a.fence_and_reserve(key(A, 1)).unwrap().result, FenceResult::Done);
    // Too many in a row (each retry drains up to MAX_RETRIES): the command fails,
    // naming the condition.
    for _ in 0..100 {
        luns[0].attention(A, 0x29, 0x00);
    }
    let err = a.devices()[0].read_keys(soon()).unwrap_err();
    match &err {
        BackendError::Sense { command, sense, .. } => {
            assert_eq!(*command, "PERSISTENT RESERVE IN (READ KEYS)");
            assert_eq!(sense.key, SenseKey::UnitAttention);
        }
        e => panic!("{e}"),
    }
    assert!(
        err.to_string().contains("UNIT ATTENTION, POWER ON, RESET, OR BUS DEVICE RESET OCCURRED (29h/00h)")
    );
}

#[test]
fn busy_is_retried() {
    let (luns, a, _b) = pair(1);
    let busy = || Fault::Respond(Completion { status: 0x08, ..Completion::default() }, vec![]);
    luns[0].inject(A, busy());
    luns[0].inject(A, busy());
    assert!(a.devices()[0].read_keys(soon()).unwrap().keys.is_empty());
    for _ in 0..=device::MAX_RETRIES {
        luns[0].inject(A, busy());
    }
    let err = a.devices()[0].test_unit_ready(soon()).unwrap_err();
    assert!(matches!(err, BackendError::ScsiStatus { status: ScsiStatus(0x08), .. }), "{err}");
}

#[test]
fn errors_name_the_disk_the_command_and_the_condition() {
    let (luns, a, _b) = pair(1);
    let d = &a.devices()[0];
    let name = d.name().to_owned();
    let check = |fault: Fault, expect: &str| {
        luns[0].inject(A, fault);
        let err = d.read_reservation(soon()).unwrap_err();
        assert_eq!(err.to_string(), expect.replace("{name}", &name));
    };
    let cc = |sense: Vec<u8>| Completion { status: 0x02, sense, ..Completion::default() };
    check(
        Fault::Respond(cc(vec![0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x24, 0, 0, 0, 0, 0]), vec![]),
        "disk {name}: PERSISTENT RESERVE IN (READ RESERVATION): CHECK CONDITION: ILLEGAL REQUEST, INVALID FIELD IN CDB (24h/00h)",
    );
    check(
        Fault::Respond(cc(vec![]), vec![]),
        "disk {name}: PERSISTENT RESERVE IN (READ RESERVATION): bad response: sense data RESPONSE CODE: needs 1 bytes, got 0",
    );
    check(
        Fault::Respond(Completion { host_status: 0x07, ..Completion::default() }, vec![]),
        "disk {name}: PERSISTENT RESERVE IN (READ RESERVATION): transport failure: DID_ERROR (0x07), DRIVER_OK (0x00)",
    );
    check(
        Fault::Respond(Completion { host_status: 0x03, ..Completion::default() }, vec![]),
        "disk {name}: timed out",
    );
    check(
        Fault::Respond(Completion { host_status: 0x01, ..Completion::default() }, vec![]),
        "disk {name}: no path to the device",
    );
    check(Fault::Os(libc::ENXIO), "disk {name}: no path to the device");
    let err = {
        luns[0].inject(A, Fault::Os(libc::EIO));
        d.read_keys(soon()).unwrap_err()
    };
    assert!(matches!(&err, BackendError::Io { path, .. } if path.as_os_str() == "/dev/sgA0"));
    assert!(err.to_string().contains("PERSISTENT RESERVE IN (READ KEYS)"), "{err}");
    assert!(err.to_string().contains(d.id()), "{err}");
    // A signal interrupting the wait is retried.
    luns[0].inject(A, Fault::Os(libc::EINTR));
    d.test_unit_ready(soon()).unwrap();
    // PR OUT errors the PR model names come back as in the simulated disk.
    let err = d.preempt(0, 0, FENCE_TYPE, PreemptMode::Preempt, soon()).unwrap_err();
    assert!(matches!(err, BackendError::ReservationConflict { .. }), "{err}");
    d.register_ignore(7, soon()).unwrap();
    let err = d.preempt(7, 0, FENCE_TYPE, PreemptMode::Preempt, soon()).unwrap_err();
    assert!(
        matches!(err, BackendError::PrRejected { error: PrError::InvalidFieldInParameterList, .. }),
        "{err}"
    );
    d.clear(7, soon()).unwrap();
    assert!(keys(&luns[0]).is_empty());
}

#[test]
fn a_longer_answer_is_asked_for_again() {
    let (luns, a, _b) = pair(1);
    let d = &a.devices()[0];
    // A READ KEYS answer claiming 300 keys, cut at the allocation length: the device
    // asks again with the length the answer needs.
    let n_keys = 300u32;
    let mut full = 1u32.to_be_bytes().to_vec();
    full.extend_from_slice(&(n_keys * 8).to_be_bytes());
    for k in 0..u64::from(n_keys) {
        full.extend_from_slice(&(0x1000 + k).to_be_bytes());
    }
    let ok = Completion::default();
    luns[0].inject(A, Fault::Respond(ok.clone(), full.clone()));
    luns[0].inject(A, Fault::Respond(ok.clone(), full.clone()));
    let k = d.read_keys(soon()).unwrap();
    assert_eq!((k.generation, k.keys.len(), k.keys[299]), (1, 300, 0x1000 + 299));
    // A device that keeps claiming more than it sends is an error, not a loop.
    let mut liar = full.clone();
    liar[4..8].copy_from_slice(&0xFFF8u32.to_be_bytes());
    for _ in 0..2 {
        luns[0].inject(A, Fault::Respond(ok.clone(), liar.clone()));
    }
    let err = d.read_keys(soon()).unwrap_err();
    assert!(
        matches!(&err, BackendError::BadResponse { error: ParseError::Truncated { need: 0x10000, .. }, .. }),
        "{err}"
    );
    // A short transfer (residue) is honoured: the device sent 12 bytes of one key.
    let mut short = full[..12].to_vec();
    short[4..8].copy_from_slice(&8u32.to_be_bytes());
    luns[0].inject(A, Fault::Respond(ok, short));
    assert!(matches!(
        d.read_keys(soon()),
        Err(BackendError::BadResponse { error: ParseError::Truncated { .. }, .. })
    ));
}

#[test]
fn a_slow_disk_fails_the_fence_by_its_deadline() {
    let (luns, _a, _b) = pair(3);
    let limits = Timeouts { command: Duration::from_millis(200), disk: Duration::from_millis(400) };
    let devs = luns.iter().enumerate().map(|(i, l)| device(l, A, &format!("/dev/sgX{i}"))).collect();
    let a = ScsiDiskSet::from_devices(devs, PreemptMode::Preempt, A, limits).unwrap();
    // Each command answers in time, but a fence's commands do not fit the deadline.
    luns[1].state().delay = Duration::from_millis(120);
    let t0 = Instant::now();
    let per_disk = a.fence_disks(key(A, 1)).unwrap();
    let took = t0.elapsed();
    assert!(matches!(per_disk[1], Err(BackendError::Timeout { .. })), "{:?}", per_disk[1]);
    assert!(per_disk[0].is_ok() && per_disk[2].is_ok());
    assert!(took < Duration::from_millis(1000), "the deadline did not bound the fence: {took:?}");
    // A command that does not answer within its timeout.
    luns[1].state().delay = Duration::from_millis(300);
    assert_eq!(a.fence_and_reserve(key(A, 1)).unwrap(), outcome(FenceResult::Failed, 2, 3));
    // Once the disk is fast again, the fence completes.
    luns[1].state().delay = Duration::ZERO;
    assert_eq!(a.fence_and_reserve(key(A, 1)).unwrap(), outcome(FenceResult::Done, 3, 3));
    // An expired deadline fails without sending anything.
    let before = luns[0].state().log.len();
    let err = a.devices()[0].test_unit_ready(Instant::now()).unwrap_err();
    assert!(matches!(err, BackendError::Timeout { .. }));
    assert_eq!(luns[0].state().log.len(), before);
}

#[test]
fn a_lost_path_fails_that_disk_only() {
    let (luns, a, b) = pair(2);
    assert_eq!(a.fence_and_reserve(key(A, 1)).unwrap().result, FenceResult::Done);
    luns[0].inject(B, Fault::Os(libc::ENODEV));
    let per_disk = b.fence_disks(key(B, 2)).unwrap();
    assert!(matches!(per_disk[0], Err(BackendError::NoPath { .. })));
    assert_eq!(per_disk[1].as_ref().unwrap(), &FenceResult::Done);
    assert_eq!(b.fence_and_reserve(key(B, 2)).unwrap(), outcome(FenceResult::Done, 2, 2));
    assert!(matches!(b.check(key(B, 2)), Ok(true)));
}

#[test]
fn concurrent_fences_leave_at_most_one_holder() {
    for round in 0..20u64 {
        let (luns, a, b) = pair(4);
        // Distinct epochs: the newer reign ends up holding every disk.
        let (ra, rb) = std::thread::scope(|s| {
            let ha = s.spawn(|| a.fence_and_reserve(key(A, 5)).unwrap());
            let hb = s.spawn(|| b.fence_and_reserve(key(B, 6)).unwrap());
            (ha.join().unwrap(), hb.join().unwrap())
        });
        assert_eq!(rb.result, FenceResult::Done, "round {round}: {ra:?} {rb:?}");
        assert!(matches!(ra.result, FenceResult::Done | FenceResult::Superseded { epoch: 6 }));
        assert!(b.check(key(B, 6)).unwrap() && !a.check(key(A, 5)).unwrap());
        for lun in &luns {
            assert_eq!(keys(lun), vec![key(B, 6).as_u64()]);
        }
        // Equal epochs: both may back off (the disks are not atomic across commands),
        // but never do both win a disk, and a winner holds it alone.
        let (pa, pb) = std::thread::scope(|s| {
            let ha = s.spawn(|| a.fence_disks(key(A, 7)).unwrap());
            let hb = s.spawn(|| b.fence_disks(key(B, 7)).unwrap());
            (ha.join().unwrap(), hb.join().unwrap())
        });
        for (i, lun) in luns.iter().enumerate() {
            let (da, db) = (matches!(pa[i], Ok(FenceResult::Done)), matches!(pb[i], Ok(FenceResult::Done)));
            assert!(!(da && db), "round {round} disk {i}: both won");
            let st = lun.state();
            let holder = st.lu.reservation().map(|r| r.holder);
            if da {
                assert_eq!((holder, st.lu.read_keys().keys), (Some(A), vec![key(A, 7).as_u64()]));
            }
            if db {
                assert_eq!((holder, st.lu.read_keys().keys), (Some(B), vec![key(B, 7).as_u64()]));
            }
            // Whoever holds the disk is the only one who may write to it.
            if let Some(h) = holder {
                assert!(st.lu.check_write(h.peer()).is_err(), "round {round} disk {i}");
            }
        }
    }
}

#[test]
fn a_fenced_writer_stops_at_the_fence() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
    let (luns, a, b) = pair(1);
    assert_eq!(a.fence_and_reserve(key(A, 1)).unwrap().result, FenceResult::Done);
    let (stop, landed, refused) = (AtomicBool::new(false), AtomicUsize::new(0), AtomicUsize::new(0));
    let wait_for = |counter: &AtomicUsize| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while counter.load(Relaxed) < 5 {
            assert!(Instant::now() < deadline, "the writer does not progress");
            std::thread::sleep(Duration::from_millis(1));
        }
    };
    std::thread::scope(|s| {
        // A keeps writing through the takeover, as a wedged-but-alive active would.
        s.spawn(|| {
            let d = &a.devices()[0];
            for n in 0u32.. {
                if stop.load(Relaxed) {
                    break;
                }
                match d.write_block(n, b"a", soon()) {
                    Ok(()) => landed.fetch_add(1, Relaxed),
                    Err(BackendError::ReservationConflict { .. }) => refused.fetch_add(1, Relaxed),
                    Err(e) => panic!("{e}"),
                };
            }
        });
        wait_for(&landed);
        assert_eq!(b.fence_and_reserve(key(B, 2)).unwrap().result, FenceResult::Done);
        let fenced_at = luns[0].state().writes.len();
        wait_for(&refused);
        stop.store(true, Relaxed);
        b.devices()[0].write_block(0, b"b", soon()).unwrap();
        // No WRITE of A's was accepted after B's fence completed; B's was.
        let st = luns[0].state();
        assert!(fenced_at >= 5, "A's writes before the fence landed");
        assert_eq!(st.writes[fenced_at..], [B]);
    });
    assert_eq!(keys(&luns[0]), vec![key(B, 2).as_u64()]);
}

#[test]
fn write_block_checks_its_length() {
    let (_luns, a, _b) = pair(1);
    let d = &a.devices()[0];
    d.write_block(3, &[0xAB; BLOCK_LEN], soon()).unwrap();
    assert_eq!(d.read_block(3, soon()).unwrap(), vec![0xAB; BLOCK_LEN]);
    let err = d.write_block(3, &[0; BLOCK_LEN + 1], soon()).unwrap_err();
    assert!(
        matches!(&err, BackendError::Io { source, .. } if source.kind() == std::io::ErrorKind::InvalidInput)
    );
    assert_eq!(d.read_capacity(soon()).unwrap().block_len, 512);
}
