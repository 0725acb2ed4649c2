//! SCSI-3 persistent reservations (SPC-4 §5.12, PERSISTENT RESERVE IN / OUT §6.15,
//! §6.16) for one logical unit seen through two initiator ports, one per controller.
//!
//! This is the device server's side, pure and deterministic: [`LogicalUnit`] is the
//! state a disk keeps (registrations, the persistent reservation, PRgeneration) and
//! each method is one command applied atomically, as a disk executes each PR command.
//! The simulated JBOD ([`super::sim_disk`]) persists a `LogicalUnit` per disk and drives
//! it with the same command sequence the real SG_IO backend sends, so the composite
//! fence is exercised against SPC rules rather than against a shortcut.
//!
//! Modelled (and only this, which is what the failover fence needs):
//! - an I_T nexus per [`Controller`] port, at most one registration each, keys are
//!   arbitrary 64-bit values (not only [`failover_core::node::ReservationKey`]s);
//! - LU_SCOPE reservations of the two *registrants only* types (5h, 6h), whose
//!   reservation holder is the I_T nexus that established it (§5.12.10);
//! - REGISTER, REGISTER AND IGNORE EXISTING KEY, RESERVE, RELEASE, CLEAR, PREEMPT and
//!   PREEMPT AND ABORT; READ KEYS and READ RESERVATION;
//! - the access rules of §5.12.1 table 51 for WRITE and READ.
//!
//! Not modelled: unit attentions (a real disk reports REGISTRATIONS / RESERVATIONS
//! PREEMPTED to the preempted port once; the real backend retries on them), APTPL,
//! all-registrants and non-registrants types, REGISTER AND MOVE, task abortion (PREEMPT
//! AND ABORT changes the PR state exactly as PREEMPT does; there are no queued tasks).

use failover_core::wire::Controller;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Persistent reservation types (SPC-4 table 172) this model supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReservationType {
    /// 5h, Write Exclusive - Registrants Only: while it exists only registered I_T
    /// nexuses may write; everyone may read. The failover fence uses this type.
    WriteExclusiveRegistrantsOnly,
    /// 6h, Exclusive Access - Registrants Only: only registered I_T nexuses may read or
    /// write. Present so the type checks of RESERVE / RELEASE / PREEMPT are testable.
    ExclusiveAccessRegistrantsOnly,
}

impl ReservationType {
    /// The TYPE field code.
    pub const fn code(self) -> u8 {
        match self {
            Self::WriteExclusiveRegistrantsOnly => 5,
            Self::ExclusiveAccessRegistrantsOnly => 6,
        }
    }

    /// The type for a TYPE field code, if modelled.
    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            5 => Some(Self::WriteExclusiveRegistrantsOnly),
            6 => Some(Self::ExclusiveAccessRegistrantsOnly),
            _ => None,
        }
    }
}

/// The persistent reservation of a logical unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reservation {
    /// The reservation holder: the I_T nexus that established it (registrants-only
    /// types, SPC-4 §5.12.10).
    pub holder: Controller,
    /// Its type.
    pub kind: ReservationType,
}

/// PERSISTENT RESERVE OUT service actions (SPC-4 table 173), for error context.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServiceAction {
    /// 00h.
    Register,
    /// 01h.
    Reserve,
    /// 02h.
    Release,
    /// 03h.
    Clear,
    /// 04h.
    Preempt,
    /// 05h.
    PreemptAndAbort,
    /// 06h.
    RegisterAndIgnoreExistingKey,
}

impl ServiceAction {
    /// The SERVICE ACTION field code of the PERSISTENT RESERVE OUT CDB.
    pub const fn code(self) -> u8 {
        match self {
            Self::Register => 0x00,
            Self::Reserve => 0x01,
            Self::Release => 0x02,
            Self::Clear => 0x03,
            Self::Preempt => 0x04,
            Self::PreemptAndAbort => 0x05,
            Self::RegisterAndIgnoreExistingKey => 0x06,
        }
    }

    /// The name as SPC and `sg_persist` print it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Register => "REGISTER",
            Self::Reserve => "RESERVE",
            Self::Release => "RELEASE",
            Self::Clear => "CLEAR",
            Self::Preempt => "PREEMPT",
            Self::PreemptAndAbort => "PREEMPT AND ABORT",
            Self::RegisterAndIgnoreExistingKey => "REGISTER AND IGNORE EXISTING KEY",
        }
    }
}

impl std::fmt::Display for ServiceAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How a command (PR OUT, or a data command checked against the reservation) ends when
/// it does not end with GOOD status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Error)]
pub enum PrError {
    /// Status RESERVATION CONFLICT: the I_T nexus is not registered, its key does not
    /// match, the LU is reserved by another nexus, or access is denied by the
    /// reservation type.
    #[error("RESERVATION CONFLICT")]
    ReservationConflict,
    /// CHECK CONDITION, ILLEGAL REQUEST, INVALID RELEASE OF PERSISTENT RESERVATION
    /// (26h/04h): the holder released with a TYPE other than the reservation's.
    #[error("CHECK CONDITION: ILLEGAL REQUEST, INVALID RELEASE OF PERSISTENT RESERVATION")]
    InvalidRelease,
    /// CHECK CONDITION, ILLEGAL REQUEST, INVALID FIELD IN PARAMETER LIST (26h/00h): a
    /// PREEMPT with a zero SERVICE ACTION RESERVATION KEY.
    #[error("CHECK CONDITION: ILLEGAL REQUEST, INVALID FIELD IN PARAMETER LIST")]
    InvalidFieldInParameterList,
}

/// PR IN READ KEYS parameter data.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReadKeys {
    /// PRgeneration.
    pub generation: u32,
    /// Every registered reservation key, one per registered I_T nexus (port A's first).
    pub keys: Vec<u64>,
}

/// PR IN READ RESERVATION parameter data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReadReservation {
    /// PRgeneration.
    pub generation: u32,
    /// The reservation, if any: the holder's reservation key and the type.
    pub reservation: Option<ReservationDescriptor>,
}

/// The reservation descriptor of READ RESERVATION.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReservationDescriptor {
    /// The reservation holder's key.
    pub key: u64,
    /// The type.
    pub kind: ReservationType,
}

/// What a successful PREEMPT / PREEMPT AND ABORT did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Preempted {
    /// The ports whose registrations were removed (their tasks are aborted by PREEMPT
    /// AND ABORT).
    pub removed: Vec<Controller>,
    /// Whether the preempting port now holds the reservation.
    pub reservation_taken: bool,
}

/// One logical unit's persistent reservation state (what a disk keeps, and with APTPL,
/// keeps across power loss).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LogicalUnit {
    /// Registration per port (A, B).
    registrations: [Option<u64>; 2],
    reservation: Option<Reservation>,
    generation: u32,
}

const fn idx(port: Controller) -> usize {
    match port {
        Controller::A => 0,
        Controller::B => 1,
    }
}

const PORTS: [Controller; 2] = [Controller::A, Controller::B];

impl LogicalUnit {
    /// A logical unit with no registrations, no reservation, PRgeneration 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// PRgeneration: incremented by every successful REGISTER, REGISTER AND IGNORE
    /// EXISTING KEY, CLEAR, PREEMPT and PREEMPT AND ABORT that changed something, never
    /// by RESERVE or RELEASE (SPC-4 §6.15.2).
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// The key registered for `port`.
    pub fn registration(&self, port: Controller) -> Option<u64> {
        self.registrations[idx(port)]
    }

    /// The persistent reservation.
    pub fn reservation(&self) -> Option<Reservation> {
        self.reservation
    }

    fn bump(&mut self) {
        self.generation = self.generation.wrapping_add(1);
    }

    /// Remove `port`'s registration. Unregistering the holder of a registrants-only
    /// reservation releases it (SPC-4 §5.12.11.2.3 / §5.12.11.2.5).
    fn unregister(&mut self, port: Controller) {
        self.registrations[idx(port)] = None;
        if self.reservation.is_some_and(|r| r.holder == port) {
            self.reservation = None;
        }
    }

    /// The check every PR OUT service action but the two registers starts with: the
    /// nexus must be registered and RESERVATION KEY must match its key, else RESERVATION
    /// CONFLICT (SPC-4 §6.16.2, RESERVATION KEY field).
    fn check_key(&self, port: Controller, key: u64) -> Result<(), PrError> {
        match self.registrations[idx(port)] {
            Some(k) if k == key => Ok(()),
            _ => Err(PrError::ReservationConflict),
        }
    }

    /// PR OUT REGISTER (SPC-4 §5.12.7, table 57).
    ///
    /// Unregistered nexus: RESERVATION KEY must be zero (else RESERVATION CONFLICT); a
    /// zero SERVICE ACTION RESERVATION KEY is then a no-op, anything else registers it.
    /// Registered nexus: RESERVATION KEY must equal its key (else RESERVATION CONFLICT);
    /// a zero service action key unregisters, anything else replaces the key (a holder
    /// keeps its reservation: the holder is the nexus, not the key).
    pub fn register(&mut self, port: Controller, key: u64, service_action_key: u64) -> Result<(), PrError> {
        match self.registrations[idx(port)] {
            None if key != 0 => Err(PrError::ReservationConflict),
            Some(k) if k != key => Err(PrError::ReservationConflict),
            _ => {
                self.register_and_ignore_existing_key(port, service_action_key);
                Ok(())
            }
        }
    }

    /// PR OUT REGISTER AND IGNORE EXISTING KEY (SPC-4 §5.12.7, table 58): as REGISTER
    /// without the RESERVATION KEY check. Never fails.
    pub fn register_and_ignore_existing_key(&mut self, port: Controller, service_action_key: u64) {
        let registered = self.registrations[idx(port)].is_some();
        match (registered, service_action_key) {
            (false, 0) => {}
            (true, 0) => {
                self.unregister(port);
                self.bump();
            }
            (_, k) => {
                self.registrations[idx(port)] = Some(k);
                self.bump();
            }
        }
    }

    /// PR OUT RESERVE (SPC-4 §5.12.9): the nexus must be registered with `key`. No
    /// reservation: `port` becomes the holder. Reserved by `port` with the same type:
    /// GOOD, nothing changes. Reserved by another nexus, or by `port` with another type:
    /// RESERVATION CONFLICT.
    pub fn reserve(&mut self, port: Controller, key: u64, kind: ReservationType) -> Result<(), PrError> {
        self.check_key(port, key)?;
        match self.reservation {
            None => {
                self.reservation = Some(Reservation { holder: port, kind });
                Ok(())
            }
            Some(r) if r.holder == port && r.kind == kind => Ok(()),
            Some(_) => Err(PrError::ReservationConflict),
        }
    }

    /// PR OUT RELEASE (SPC-4 §5.12.11.2.2): the nexus must be registered with `key`. No
    /// reservation, or `port` is not the holder: GOOD, nothing changes. The holder with a
    /// different type: INVALID RELEASE OF PERSISTENT RESERVATION. Otherwise released
    /// (registrations stay).
    pub fn release(&mut self, port: Controller, key: u64, kind: ReservationType) -> Result<(), PrError> {
        self.check_key(port, key)?;
        match self.reservation {
            Some(r) if r.holder == port && r.kind != kind => Err(PrError::InvalidRelease),
            Some(r) if r.holder == port => {
                self.reservation = None;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// PR OUT CLEAR (SPC-4 §5.12.11.2.6): the nexus must be registered with `key`;
    /// then every registration and the reservation are removed.
    pub fn clear(&mut self, port: Controller, key: u64) -> Result<(), PrError> {
        self.check_key(port, key)?;
        self.registrations = [None; 2];
        self.reservation = None;
        self.bump();
        Ok(())
    }

    /// PR OUT PREEMPT (SPC-4 §5.12.11.4), for registrants-only reservations.
    ///
    /// The nexus must be registered with `key`. A zero `service_action_key` is INVALID
    /// FIELD IN PARAMETER LIST. Registrations whose key is `service_action_key` are
    /// removed, except the preempting nexus's own (§5.12.11.4.3 b); if none is, RESERVATION
    /// CONFLICT. If the key identified the reservation holder, the reservation is
    /// released and a new one of type `kind` is established for `port` (it "moves to the
    /// preemptor"); otherwise the reservation is untouched.
    pub fn preempt(
        &mut self,
        port: Controller,
        key: u64,
        service_action_key: u64,
        kind: ReservationType,
    ) -> Result<Preempted, PrError> {
        self.check_key(port, key)?;
        if service_action_key == 0 {
            return Err(PrError::InvalidFieldInParameterList);
        }
        if !self.registrations.contains(&Some(service_action_key)) {
            return Err(PrError::ReservationConflict);
        }
        let holder_preempted =
            self.reservation.is_some_and(|r| self.registrations[idx(r.holder)] == Some(service_action_key));
        let removed: Vec<Controller> = PORTS
            .into_iter()
            .filter(|&p| p != port && self.registrations[idx(p)] == Some(service_action_key))
            .collect();
        for &p in &removed {
            // Not `unregister`: a preempted holder's reservation moves, it is not released.
            self.registrations[idx(p)] = None;
        }
        if holder_preempted {
            self.reservation = Some(Reservation { holder: port, kind });
        }
        self.bump();
        Ok(Preempted { removed, reservation_taken: holder_preempted })
    }

    /// PR OUT PREEMPT AND ABORT (SPC-4 §5.12.11.5): the PR state changes exactly as for
    /// [`Self::preempt`]; a real device server also aborts every task of the preempted
    /// nexuses, so none of their queued writes lands after the command completes. This
    /// model executes commands atomically, so there is nothing queued to abort.
    pub fn preempt_and_abort(
        &mut self,
        port: Controller,
        key: u64,
        service_action_key: u64,
        kind: ReservationType,
    ) -> Result<Preempted, PrError> {
        self.preempt(port, key, service_action_key, kind)
    }

    /// PR IN READ KEYS (SPC-4 §6.15.2). Allowed from any nexus, reserved or not.
    pub fn read_keys(&self) -> ReadKeys {
        ReadKeys { generation: self.generation, keys: self.registrations.iter().flatten().copied().collect() }
    }

    /// PR IN READ RESERVATION (SPC-4 §6.15.3). Allowed from any nexus.
    pub fn read_reservation(&self) -> ReadReservation {
        let reservation = self.reservation.and_then(|r| {
            self.registrations[idx(r.holder)].map(|key| ReservationDescriptor { key, kind: r.kind })
        });
        ReadReservation { generation: self.generation, reservation }
    }

    /// Whether a WRITE from `port` is allowed now (SPC-4 §5.12.1 table 51): with no
    /// reservation anyone writes; with a registrants-only reservation only registered
    /// nexuses do; everyone else gets RESERVATION CONFLICT.
    pub fn check_write(&self, port: Controller) -> Result<(), PrError> {
        match self.reservation {
            Some(_) if self.registrations[idx(port)].is_none() => Err(PrError::ReservationConflict),
            _ => Ok(()),
        }
    }

    /// Whether a READ from `port` is allowed now (SPC-4 §5.12.1 table 51): Write
    /// Exclusive types let everyone read; Exclusive Access - Registrants Only only
    /// registered nexuses.
    pub fn check_read(&self, port: Controller) -> Result<(), PrError> {
        match self.reservation {
            Some(Reservation { kind: ReservationType::ExclusiveAccessRegistrantsOnly, .. })
                if self.registrations[idx(port)].is_none() =>
            {
                Err(PrError::ReservationConflict)
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Controller::{A, B};

    const WERO: ReservationType = ReservationType::WriteExclusiveRegistrantsOnly;
    const EARO: ReservationType = ReservationType::ExclusiveAccessRegistrantsOnly;
    const KA: u64 = 0xA1;
    const KB: u64 = 0xB1;

    /// A registered with KA, B with KB, no reservation.
    fn both_registered() -> LogicalUnit {
        let mut lu = LogicalUnit::new();
        lu.register(A, 0, KA).unwrap();
        lu.register(B, 0, KB).unwrap();
        lu
    }

    #[test]
    fn type_codes_round_trip() {
        for t in [WERO, EARO] {
            assert_eq!(ReservationType::from_code(t.code()), Some(t));
        }
        assert_eq!(WERO.code(), 5);
        assert_eq!(ReservationType::from_code(1), None);
        assert_eq!(ServiceAction::PreemptAndAbort.to_string(), "PREEMPT AND ABORT");
    }

    #[test]
    fn register_checks_the_reservation_key() {
        let mut lu = LogicalUnit::new();
        // Unregistered: RESERVATION KEY must be zero.
        assert_eq!(lu.register(A, 7, KA), Err(PrError::ReservationConflict));
        assert_eq!(lu.generation(), 0);
        // Unregistered, service action key zero: GOOD, nothing happens.
        lu.register(A, 0, 0).unwrap();
        assert_eq!((lu.registration(A), lu.generation()), (None, 0));
        lu.register(A, 0, KA).unwrap();
        assert_eq!((lu.registration(A), lu.generation()), (Some(KA), 1));
        // Registered: RESERVATION KEY must match the registered key.
        assert_eq!(lu.register(A, 0, 0x99), Err(PrError::ReservationConflict));
        assert_eq!(lu.register(A, 0x98, 0x99), Err(PrError::ReservationConflict));
        lu.register(A, KA, 0x99).unwrap();
        assert_eq!((lu.registration(A), lu.generation()), (Some(0x99), 2));
        // Zero service action key unregisters.
        lu.register(A, 0x99, 0).unwrap();
        assert_eq!((lu.registration(A), lu.generation()), (None, 3));
    }

    #[test]
    fn register_and_ignore_replaces_any_key() {
        let mut lu = LogicalUnit::new();
        lu.register_and_ignore_existing_key(A, 0);
        assert_eq!(lu.generation(), 0);
        lu.register_and_ignore_existing_key(A, KA);
        lu.reserve(A, KA, WERO).unwrap();
        lu.register_and_ignore_existing_key(A, 0xA2);
        // The holder is the nexus: changing its key keeps the reservation.
        assert_eq!(lu.registration(A), Some(0xA2));
        assert_eq!(lu.reservation(), Some(Reservation { holder: A, kind: WERO }));
        assert_eq!(lu.read_reservation().reservation, Some(ReservationDescriptor { key: 0xA2, kind: WERO }));
        assert_eq!(lu.generation(), 2);
        // Unregistering the holder of a registrants-only reservation releases it.
        lu.register_and_ignore_existing_key(A, 0);
        assert_eq!((lu.registration(A), lu.reservation(), lu.generation()), (None, None, 3));
    }

    #[test]
    fn reserve_rules() {
        let mut lu = both_registered();
        let g = lu.generation();
        // Unregistered or wrong key: conflict.
        let mut empty = LogicalUnit::new();
        assert_eq!(empty.reserve(A, 0, WERO), Err(PrError::ReservationConflict));
        assert_eq!(lu.reserve(A, KB, WERO), Err(PrError::ReservationConflict));
        lu.reserve(A, KA, WERO).unwrap();
        // Same holder, same type: GOOD, idempotent.
        lu.reserve(A, KA, WERO).unwrap();
        // Same holder, other type: conflict.
        assert_eq!(lu.reserve(A, KA, EARO), Err(PrError::ReservationConflict));
        // Held by another nexus: conflict, even with the same type.
        assert_eq!(lu.reserve(B, KB, WERO), Err(PrError::ReservationConflict));
        assert_eq!(lu.reservation(), Some(Reservation { holder: A, kind: WERO }));
        // RESERVE does not change PRgeneration.
        assert_eq!(lu.generation(), g);
    }

    #[test]
    fn release_rules() {
        let mut lu = both_registered();
        // No reservation: GOOD.
        lu.release(A, KA, WERO).unwrap();
        lu.reserve(A, KA, WERO).unwrap();
        // Unregistered / wrong key: conflict.
        assert_eq!(LogicalUnit::new().release(A, 0, WERO), Err(PrError::ReservationConflict));
        assert_eq!(lu.release(A, KB, WERO), Err(PrError::ReservationConflict));
        // A registrant that is not the holder: GOOD, the reservation stays.
        lu.release(B, KB, WERO).unwrap();
        assert_eq!(lu.reservation().map(|r| r.holder), Some(A));
        // The holder with the wrong type: invalid release.
        assert_eq!(lu.release(A, KA, EARO), Err(PrError::InvalidRelease));
        let g = lu.generation();
        lu.release(A, KA, WERO).unwrap();
        assert_eq!(lu.reservation(), None);
        // Registrations stay; PRgeneration unchanged.
        assert_eq!(lu.read_keys(), ReadKeys { generation: g, keys: vec![KA, KB] });
    }

    #[test]
    fn clear_removes_everything() {
        let mut lu = both_registered();
        lu.reserve(A, KA, WERO).unwrap();
        assert_eq!(lu.clear(B, KA), Err(PrError::ReservationConflict));
        let g = lu.generation();
        // Any registrant may clear, holder or not.
        lu.clear(B, KB).unwrap();
        assert_eq!(lu.read_keys(), ReadKeys { generation: g + 1, keys: vec![] });
        assert_eq!(lu.read_reservation(), ReadReservation { generation: g + 1, reservation: None });
    }

    #[test]
    fn preempting_the_holder_moves_the_reservation() {
        let mut lu = both_registered();
        lu.reserve(A, KA, WERO).unwrap();
        let g = lu.generation();
        let p = lu.preempt(B, KB, KA, WERO).unwrap();
        assert_eq!(p, Preempted { removed: vec![A], reservation_taken: true });
        assert_eq!(lu.registration(A), None);
        assert_eq!(lu.reservation(), Some(Reservation { holder: B, kind: WERO }));
        assert_eq!(lu.generation(), g + 1);
        // The preempted port has lost everything: its PR OUTs conflict, its writes too.
        assert_eq!(lu.reserve(A, KA, WERO), Err(PrError::ReservationConflict));
        assert_eq!(lu.check_write(A), Err(PrError::ReservationConflict));
        assert_eq!(lu.check_write(B), Ok(()));
    }

    #[test]
    fn preempting_a_non_holder_only_removes_its_registration() {
        let mut lu = both_registered();
        // No reservation at all: registrations with the key go, nothing is reserved.
        let p = lu.preempt(A, KA, KB, WERO).unwrap();
        assert_eq!(p, Preempted { removed: vec![B], reservation_taken: false });
        assert_eq!(lu.reservation(), None);
        // A reservation held by the preemptor stays as it is (type not changed).
        let mut lu = both_registered();
        lu.reserve(A, KA, EARO).unwrap();
        let p = lu.preempt_and_abort(A, KA, KB, WERO).unwrap();
        assert_eq!(p, Preempted { removed: vec![B], reservation_taken: false });
        assert_eq!(lu.reservation(), Some(Reservation { holder: A, kind: EARO }));
    }

    #[test]
    fn preempt_errors() {
        let mut lu = both_registered();
        lu.reserve(A, KA, WERO).unwrap();
        let before = lu.clone();
        // Preemptor not registered with that key.
        assert_eq!(lu.preempt(B, KA, KA, WERO), Err(PrError::ReservationConflict));
        assert_eq!(LogicalUnit::new().preempt(A, 0, KB, WERO), Err(PrError::ReservationConflict));
        // Zero service action key.
        assert_eq!(lu.preempt(B, KB, 0, WERO), Err(PrError::InvalidFieldInParameterList));
        // A key nobody holds.
        assert_eq!(lu.preempt(B, KB, 0x55, WERO), Err(PrError::ReservationConflict));
        // Failed commands change nothing, PRgeneration included.
        assert_eq!(lu, before);
    }

    #[test]
    fn self_preempt_changes_the_type_and_keeps_the_registration() {
        let mut lu = both_registered();
        lu.reserve(A, KA, WERO).unwrap();
        let p = lu.preempt(A, KA, KA, EARO).unwrap();
        assert_eq!(p, Preempted { removed: vec![], reservation_taken: true });
        assert_eq!(lu.registration(A), Some(KA));
        assert_eq!(lu.reservation(), Some(Reservation { holder: A, kind: EARO }));
    }

    #[test]
    fn preempt_removes_every_nexus_sharing_the_key() {
        // SPC allows two nexuses to register the same key: both go, but not the issuer.
        let mut lu = LogicalUnit::new();
        lu.register(A, 0, KA).unwrap();
        lu.register(B, 0, KA).unwrap();
        lu.reserve(B, KA, WERO).unwrap();
        let p = lu.preempt(A, KA, KA, WERO).unwrap();
        assert_eq!(p, Preempted { removed: vec![B], reservation_taken: true });
        assert_eq!(lu.read_keys().keys, vec![KA]);
        assert_eq!(lu.reservation(), Some(Reservation { holder: A, kind: WERO }));
    }

    #[test]
    fn data_access_rules() {
        let mut lu = LogicalUnit::new();
        // No reservation: everyone reads and writes, registered or not.
        for p in PORTS {
            assert_eq!((lu.check_write(p), lu.check_read(p)), (Ok(()), Ok(())));
        }
        lu.register(A, 0, KA).unwrap();
        lu.reserve(A, KA, WERO).unwrap();
        // WERO: unregistered B may read but not write.
        assert_eq!(lu.check_write(A), Ok(()));
        assert_eq!(lu.check_write(B), Err(PrError::ReservationConflict));
        assert_eq!(lu.check_read(B), Ok(()));
        // A registered non-holder may write under a registrants-only reservation.
        lu.register(B, 0, KB).unwrap();
        assert_eq!(lu.check_write(B), Ok(()));
        // EARO: unregistered nexuses may not even read.
        let mut lu = LogicalUnit::new();
        lu.register(A, 0, KA).unwrap();
        lu.reserve(A, KA, EARO).unwrap();
        assert_eq!(lu.check_read(B), Err(PrError::ReservationConflict));
        assert_eq!(lu.check_read(A), Ok(()));
    }

    #[test]
    fn read_keys_and_reservation_report_the_state() {
        let mut lu = both_registered();
        assert_eq!(lu.read_keys(), ReadKeys { generation: 2, keys: vec![KA, KB] });
        assert_eq!(lu.read_reservation(), ReadReservation { generation: 2, reservation: None });
        lu.reserve(B, KB, WERO).unwrap();
        assert_eq!(
            lu.read_reservation(),
            ReadReservation {
                generation: 2,
                reservation: Some(ReservationDescriptor { key: KB, kind: WERO })
            }
        );
    }

    #[test]
    fn state_round_trips_through_json() {
        let mut lu = both_registered();
        lu.reserve(B, KB, WERO).unwrap();
        let json = serde_json::to_string(&lu).unwrap();
        assert_eq!(serde_json::from_str::<LogicalUnit>(&json).unwrap(), lu);
    }
}
