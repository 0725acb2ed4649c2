//! Command descriptor blocks and the PERSISTENT RESERVE OUT parameter list, byte for
//! byte (SPC-4 §6.4 INQUIRY, §6.15 / §6.16 PERSISTENT RESERVE IN / OUT, §6.37 TEST UNIT
//! READY; SBC-3 §5.11 READ (10), §5.16 READ CAPACITY (10), §5.37 WRITE (10)).
//!
//! Builders only: no I/O, no allocation, every field not named is zero (CONTROL
//! included: no NACA, no linked commands). Multi-byte fields are big endian, as SCSI
//! transmits them.

use crate::backend::pr::{ReservationType, ServiceAction};

/// TEST UNIT READY.
pub const TEST_UNIT_READY: u8 = 0x00;
/// INQUIRY.
pub const INQUIRY: u8 = 0x12;
/// READ CAPACITY (10).
pub const READ_CAPACITY_10: u8 = 0x25;
/// READ (10).
pub const READ_10: u8 = 0x28;
/// WRITE (10).
pub const WRITE_10: u8 = 0x2A;
/// PERSISTENT RESERVE IN.
pub const PERSISTENT_RESERVE_IN: u8 = 0x5E;
/// PERSISTENT RESERVE OUT.
pub const PERSISTENT_RESERVE_OUT: u8 = 0x5F;

/// VPD page: Unit Serial Number (SPC-4 §7.8.17).
pub const VPD_UNIT_SERIAL: u8 = 0x80;
/// VPD page: Device Identification (SPC-4 §7.8.6).
pub const VPD_DEVICE_ID: u8 = 0x83;

/// Length of the basic PERSISTENT RESERVE OUT parameter list: every service action but
/// REGISTER AND MOVE, with SPEC_I_PT zero (a device server rejects any other length with
/// PARAMETER LIST LENGTH ERROR).
pub const PR_OUT_PARAM_LEN: usize = 24;

/// The SCOPE field value LU_SCOPE, the only scope SPC-4 still defines.
pub const LU_SCOPE: u8 = 0;

/// Bytes of the READ CAPACITY (10) parameter data.
pub const READ_CAPACITY_10_LEN: usize = 8;

/// PERSISTENT RESERVE IN service actions (SPC-4 table 164) the backend uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PrInAction {
    /// 00h: every registered reservation key.
    ReadKeys,
    /// 01h: the persistent reservation, if any.
    ReadReservation,
}

impl PrInAction {
    /// The SERVICE ACTION field code.
    pub const fn code(self) -> u8 {
        match self {
            Self::ReadKeys => 0x00,
            Self::ReadReservation => 0x01,
        }
    }
}

/// TEST UNIT READY: six zero bytes but the operation code.
pub const fn test_unit_ready() -> [u8; 6] {
    [TEST_UNIT_READY, 0, 0, 0, 0, 0]
}

/// INQUIRY for the standard data (`page` `None`) or a vital product data page, asking
/// for at most `alloc_len` bytes.
pub const fn inquiry(page: Option<u8>, alloc_len: u16) -> [u8; 6] {
    let (evpd, page_code) = match page {
        Some(p) => (1, p),
        None => (0, 0),
    };
    let len = alloc_len.to_be_bytes();
    [
        INQUIRY,   // 0: OPERATION CODE
        evpd,      // 1: bit 0 EVPD
        page_code, // 2: PAGE CODE (zero unless EVPD)
        len[0],    // 3-4: ALLOCATION LENGTH
        len[1], 0, // 5: CONTROL
    ]
}

/// PERSISTENT RESERVE IN `action`, asking for at most `alloc_len` bytes.
pub const fn pr_in(action: PrInAction, alloc_len: u16) -> [u8; 10] {
    let len = alloc_len.to_be_bytes();
    [
        PERSISTENT_RESERVE_IN, // 0: OPERATION CODE
        action.code(),         // 1: bits 4-0 SERVICE ACTION
        0,                     // 2-6: reserved
        0,
        0,
        0,
        0,
        len[0], // 7-8: ALLOCATION LENGTH
        len[1],
        0, // 9: CONTROL
    ]
}

/// PERSISTENT RESERVE OUT `action` with LU_SCOPE and TYPE `kind` (ignored by the
/// device server for the register actions and CLEAR, where it is `None`: zero), followed
/// by the basic 24-byte parameter list ([`PrOutParams`]).
pub const fn pr_out(action: ServiceAction, kind: Option<ReservationType>) -> [u8; 10] {
    let type_code = match kind {
        Some(k) => k.code(),
        None => 0,
    };
    let len = (PR_OUT_PARAM_LEN as u32).to_be_bytes();
    [
        PERSISTENT_RESERVE_OUT,              // 0: OPERATION CODE
        action.code(),                       // 1: bits 4-0 SERVICE ACTION
        (LU_SCOPE << 4) | (type_code & 0xF), // 2: bits 7-4 SCOPE, bits 3-0 TYPE
        0,                                   // 3-4: reserved
        0,
        len[0], // 5-8: PARAMETER LIST LENGTH
        len[1],
        len[2],
        len[3],
        0, // 9: CONTROL
    ]
}

/// The basic PERSISTENT RESERVE OUT parameter list (SPC-4 §6.16.3, table 174).
///
/// SPEC_I_PT and ALL_TG_PT stay zero: a registration applies to the one I_T nexus the
/// command travels on, which is the path this controller fences through.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PrOutParams {
    /// RESERVATION KEY: the key the sending I_T nexus is registered with (zero when it
    /// is not registered; ignored by REGISTER AND IGNORE EXISTING KEY).
    pub key: u64,
    /// SERVICE ACTION RESERVATION KEY: the new key (register actions, zero to
    /// unregister) or the key to preempt (PREEMPT, PREEMPT AND ABORT).
    pub service_action_key: u64,
    /// APTPL: keep the registrations and the reservation across power loss (only
    /// meaningful for the register actions; a device without PTPL support rejects it).
    pub aptpl: bool,
}

impl PrOutParams {
    /// The 24 bytes sent after [`pr_out`].
    pub const fn to_bytes(&self) -> [u8; PR_OUT_PARAM_LEN] {
        let k = self.key.to_be_bytes();
        let s = self.service_action_key.to_be_bytes();
        #[rustfmt::skip]
        let bytes = [
            k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7], // 0-7: RESERVATION KEY
            s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], // 8-15: SERVICE ACTION RESERVATION KEY
            0, 0, 0, 0,                 // 16-19: obsolete (scope-specific address)
            self.aptpl as u8,           // 20: bit 3 SPEC_I_PT, bit 2 ALL_TG_PT, bit 0 APTPL
            0,                          // 21: reserved
            0, 0,                       // 22-23: obsolete (extent length)
        ];
        bytes
    }
}

/// READ CAPACITY (10): the last LBA and the block length.
pub const fn read_capacity_10() -> [u8; 10] {
    [READ_CAPACITY_10, 0, 0, 0, 0, 0, 0, 0, 0, 0]
}

/// READ (10) of `blocks` logical blocks from `lba`.
pub const fn read_10(lba: u32, blocks: u16) -> [u8; 10] {
    rw_10(READ_10, lba, blocks)
}

/// WRITE (10) of `blocks` logical blocks at `lba`.
pub const fn write_10(lba: u32, blocks: u16) -> [u8; 10] {
    rw_10(WRITE_10, lba, blocks)
}

const fn rw_10(opcode: u8, lba: u32, blocks: u16) -> [u8; 10] {
    let l = lba.to_be_bytes();
    let n = blocks.to_be_bytes();
    [
        opcode, // 0: OPERATION CODE
        0,      // 1: RDPROTECT/WRPROTECT, DPO, FUA, FUA_NV: all zero
        l[0],   // 2-5: LOGICAL BLOCK ADDRESS
        l[1], l[2], l[3], 0,    // 6: GROUP NUMBER
        n[0], // 7-8: TRANSFER LENGTH (blocks)
        n[1], 0, // 9: CONTROL
    ]
}

/// The name of a CDB's command, for errors and logs (`sg_persist` / `sg_inq` spelling).
pub fn command_name(cdb: &[u8]) -> &'static str {
    match (cdb.first(), cdb.get(1).map(|b| b & 0x1F)) {
        (Some(&TEST_UNIT_READY), _) => "TEST UNIT READY",
        (Some(&INQUIRY), _) => match (cdb.get(1).map(|b| b & 1), cdb.get(2)) {
            (Some(1), Some(&VPD_UNIT_SERIAL)) => "INQUIRY (unit serial number VPD page)",
            (Some(1), Some(&VPD_DEVICE_ID)) => "INQUIRY (device identification VPD page)",
            (Some(1), _) => "INQUIRY (VPD page)",
            _ => "INQUIRY",
        },
        (Some(&READ_CAPACITY_10), _) => "READ CAPACITY (10)",
        (Some(&READ_10), _) => "READ (10)",
        (Some(&WRITE_10), _) => "WRITE (10)",
        (Some(&PERSISTENT_RESERVE_IN), Some(0x00)) => "PERSISTENT RESERVE IN (READ KEYS)",
        (Some(&PERSISTENT_RESERVE_IN), Some(0x01)) => "PERSISTENT RESERVE IN (READ RESERVATION)",
        (Some(&PERSISTENT_RESERVE_IN), _) => "PERSISTENT RESERVE IN",
        (Some(&PERSISTENT_RESERVE_OUT), Some(0x00)) => "PERSISTENT RESERVE OUT (REGISTER)",
        (Some(&PERSISTENT_RESERVE_OUT), Some(0x01)) => "PERSISTENT RESERVE OUT (RESERVE)",
        (Some(&PERSISTENT_RESERVE_OUT), Some(0x02)) => "PERSISTENT RESERVE OUT (RELEASE)",
        (Some(&PERSISTENT_RESERVE_OUT), Some(0x03)) => "PERSISTENT RESERVE OUT (CLEAR)",
        (Some(&PERSISTENT_RESERVE_OUT), Some(0x04)) => "PERSISTENT RESERVE OUT (PREEMPT)",
        (Some(&PERSISTENT_RESERVE_OUT), Some(0x05)) => "PERSISTENT RESERVE OUT (PREEMPT AND ABORT)",
        (Some(&PERSISTENT_RESERVE_OUT), Some(0x06)) => {
            "PERSISTENT RESERVE OUT (REGISTER AND IGNORE EXISTING KEY)"
        }
        (Some(&PERSISTENT_RESERVE_OUT), _) => "PERSISTENT RESERVE OUT",
        _ => "SCSI command",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WERO: ReservationType = ReservationType::WriteExclusiveRegistrantsOnly;

    #[test]
    fn test_unit_ready_is_all_zero() {
        assert_eq!(test_unit_ready(), [0u8; 6]);
    }

    #[test]
    fn inquiry_standard_and_vpd() {
        #[rustfmt::skip]
        let standard = [
            0x12,       // INQUIRY
            0x00,       // EVPD 0: standard data
            0x00,       // PAGE CODE must be zero without EVPD
            0x00, 0x60, // ALLOCATION LENGTH 96
            0x00,       // CONTROL
        ];
        assert_eq!(inquiry(None, 96), standard);
        #[rustfmt::skip]
        let serial = [
            0x12,
            0x01,       // EVPD 1
            0x80,       // Unit Serial Number page
            0x01, 0x04, // ALLOCATION LENGTH 260
            0x00,
        ];
        assert_eq!(inquiry(Some(VPD_UNIT_SERIAL), 260), serial);
        #[rustfmt::skip]
        let device_id = [0x12, 0x01, 0x83, 0xFF, 0xFF, 0x00]; // Device Identification, 65535 bytes
        assert_eq!(inquiry(Some(VPD_DEVICE_ID), u16::MAX), device_id);
    }

    #[test]
    fn pr_in_read_keys_and_read_reservation() {
        #[rustfmt::skip]
        let read_keys = [
            0x5E,                         // PERSISTENT RESERVE IN
            0x00,                         // SERVICE ACTION 00h READ KEYS
            0x00, 0x00, 0x00, 0x00, 0x00, // reserved
            0x10, 0x08,                   // ALLOCATION LENGTH 4104
            0x00,                         // CONTROL
        ];
        assert_eq!(pr_in(PrInAction::ReadKeys, 4104), read_keys);
        #[rustfmt::skip]
        let read_reservation = [
            0x5E,
            0x01,                         // SERVICE ACTION 01h READ RESERVATION
            0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x18,                   // ALLOCATION LENGTH 24 (8 header + 16 descriptor)
            0x00,
        ];
        assert_eq!(pr_in(PrInAction::ReadReservation, 24), read_reservation);
    }

    #[test]
    fn pr_out_cdbs_carry_action_scope_type_and_length() {
        let cases = [
            (ServiceAction::Register, None, 0x00, 0x00),
            (ServiceAction::Reserve, Some(WERO), 0x01, 0x05),
            (ServiceAction::Release, Some(WERO), 0x02, 0x05),
            (ServiceAction::Clear, None, 0x03, 0x00),
            (ServiceAction::Preempt, Some(WERO), 0x04, 0x05),
            (
                ServiceAction::PreemptAndAbort,
                Some(ReservationType::ExclusiveAccessRegistrantsOnly),
                0x05,
                0x06,
            ),
            (ServiceAction::RegisterAndIgnoreExistingKey, None, 0x06, 0x00),
        ];
        for (action, kind, sa, scope_type) in cases {
            #[rustfmt::skip]
            let expected = [
                0x5F,                   // PERSISTENT RESERVE OUT
                sa,                     // bits 4-0 SERVICE ACTION
                scope_type,             // SCOPE 0h (LU_SCOPE) << 4 | TYPE
                0x00, 0x00,             // reserved
                0x00, 0x00, 0x00, 0x18, // PARAMETER LIST LENGTH 24
                0x00,                   // CONTROL
            ];
            assert_eq!(pr_out(action, kind), expected, "{action}");
        }
    }

    #[test]
    fn pr_out_parameter_list_layout() {
        let p = PrOutParams {
            key: 0x4641_0000_0000_0003,
            service_action_key: 0x4642_0000_0000_0002,
            aptpl: false,
        };
        #[rustfmt::skip]
        let expected = [
            0x46, 0x41, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, // 0-7 RESERVATION KEY
            0x46, 0x42, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, // 8-15 SERVICE ACTION RESERVATION KEY
            0x00, 0x00, 0x00, 0x00,                         // 16-19 obsolete
            0x00,                                           // 20 SPEC_I_PT 0, ALL_TG_PT 0, APTPL 0
            0x00,                                           // 21 reserved
            0x00, 0x00,                                     // 22-23 obsolete
        ];
        assert_eq!(p.to_bytes(), expected);
        let with_aptpl = PrOutParams { aptpl: true, ..PrOutParams::default() }.to_bytes();
        assert_eq!(with_aptpl[20], 0x01, "APTPL is bit 0 of byte 20");
        assert!(with_aptpl.iter().enumerate().all(|(i, &b)| i == 20 || b == 0));
    }

    #[test]
    fn read_write_capacity() {
        #[rustfmt::skip]
        let read = [
            0x28,                   // READ (10)
            0x00,                   // no protection, DPO 0, FUA 0
            0x12, 0x34, 0x56, 0x78, // LOGICAL BLOCK ADDRESS
            0x00,                   // GROUP NUMBER
            0x00, 0x02,             // TRANSFER LENGTH 2 blocks
            0x00,                   // CONTROL
        ];
        assert_eq!(read_10(0x1234_5678, 2), read);
        let mut write = read;
        write[0] = 0x2A; // WRITE (10), same layout
        assert_eq!(write_10(0x1234_5678, 2), write);
        assert_eq!(read_capacity_10(), [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn command_names() {
        assert_eq!(command_name(&test_unit_ready()), "TEST UNIT READY");
        assert_eq!(
            command_name(&inquiry(Some(VPD_DEVICE_ID), 4)),
            "INQUIRY (device identification VPD page)"
        );
        assert_eq!(command_name(&pr_in(PrInAction::ReadKeys, 8)), "PERSISTENT RESERVE IN (READ KEYS)");
        assert_eq!(
            command_name(&pr_out(ServiceAction::PreemptAndAbort, Some(WERO))),
            "PERSISTENT RESERVE OUT (PREEMPT AND ABORT)"
        );
        assert_eq!(command_name(&[]), "SCSI command");
        assert_eq!(command_name(&[0xFF]), "SCSI command");
    }
}
