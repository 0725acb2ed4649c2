//! Sense data (SPC-4 §4.5): why a command ended in CHECK CONDITION.
//!
//! Both formats are decoded: fixed (response codes 70h current, 71h deferred) and
//! descriptor (72h, 73h); Linux passes through whichever the device returns. Only the
//! sense key and ASC / ASCQ matter to the backend: UNIT ATTENTION means "retry"
//! (§5.12.11: a PR OUT that meets a pending unit attention is not executed), ILLEGAL
//! REQUEST means the command or its parameter list is wrong, NOT READY that the LU
//! cannot serve yet. Everything else is reported with its name.

use std::fmt;

use super::parse::ParseError;

/// The sense key (SPC-4 table 27): every 4-bit value has a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SenseKey {
    /// 0h.
    NoSense,
    /// 1h: the command completed after recovery.
    RecoveredError,
    /// 2h.
    NotReady,
    /// 3h.
    MediumError,
    /// 4h.
    HardwareError,
    /// 5h.
    IllegalRequest,
    /// 6h.
    UnitAttention,
    /// 7h.
    DataProtect,
    /// 8h.
    BlankCheck,
    /// 9h.
    VendorSpecific,
    /// Ah.
    CopyAborted,
    /// Bh.
    AbortedCommand,
    /// Ch (obsolete).
    Equal,
    /// Dh.
    VolumeOverflow,
    /// Eh.
    Miscompare,
    /// Fh.
    Completed,
}

impl SenseKey {
    /// The key for the low 4 bits of `nibble`.
    pub const fn from_nibble(nibble: u8) -> Self {
        match nibble & 0xF {
            0x0 => Self::NoSense,
            0x1 => Self::RecoveredError,
            0x2 => Self::NotReady,
            0x3 => Self::MediumError,
            0x4 => Self::HardwareError,
            0x5 => Self::IllegalRequest,
            0x6 => Self::UnitAttention,
            0x7 => Self::DataProtect,
            0x8 => Self::BlankCheck,
            0x9 => Self::VendorSpecific,
            0xA => Self::CopyAborted,
            0xB => Self::AbortedCommand,
            0xC => Self::Equal,
            0xD => Self::VolumeOverflow,
            0xE => Self::Miscompare,
            _ => Self::Completed,
        }
    }

    /// The name as SPC spells it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::NoSense => "NO SENSE",
            Self::RecoveredError => "RECOVERED ERROR",
            Self::NotReady => "NOT READY",
            Self::MediumError => "MEDIUM ERROR",
            Self::HardwareError => "HARDWARE ERROR",
            Self::IllegalRequest => "ILLEGAL REQUEST",
            Self::UnitAttention => "UNIT ATTENTION",
            Self::DataProtect => "DATA PROTECT",
            Self::BlankCheck => "BLANK CHECK",
            Self::VendorSpecific => "VENDOR SPECIFIC",
            Self::CopyAborted => "COPY ABORTED",
            Self::AbortedCommand => "ABORTED COMMAND",
            Self::Equal => "EQUAL",
            Self::VolumeOverflow => "VOLUME OVERFLOW",
            Self::Miscompare => "MISCOMPARE",
            Self::Completed => "COMPLETED",
        }
    }
}

/// Which of the two sense data formats a device returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SenseFormat {
    /// Response code 70h / 71h.
    Fixed,
    /// Response code 72h / 73h.
    Descriptor,
}

/// Decoded sense data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Sense {
    /// The format it came in.
    pub format: SenseFormat,
    /// A deferred error (71h / 73h): it belongs to an earlier command.
    pub deferred: bool,
    /// SENSE KEY.
    pub key: SenseKey,
    /// ADDITIONAL SENSE CODE (zero when the device did not return it).
    pub asc: u8,
    /// ADDITIONAL SENSE CODE QUALIFIER.
    pub ascq: u8,
}

/// ASC / ASCQ pairs the backend meets or acts on.
pub mod asc {
    /// 29h/xxh: POWER ON, RESET, OR BUS DEVICE RESET OCCURRED (any qualifier).
    pub const POWER_ON_RESET: u8 = 0x29;
    /// 2Ah/03h: RESERVATIONS PREEMPTED.
    pub const RESERVATIONS_PREEMPTED: (u8, u8) = (0x2A, 0x03);
    /// 2Ah/04h: RESERVATIONS RELEASED.
    pub const RESERVATIONS_RELEASED: (u8, u8) = (0x2A, 0x04);
    /// 2Ah/05h: REGISTRATIONS PREEMPTED.
    pub const REGISTRATIONS_PREEMPTED: (u8, u8) = (0x2A, 0x05);
    /// 24h/00h: INVALID FIELD IN CDB.
    pub const INVALID_FIELD_IN_CDB: (u8, u8) = (0x24, 0x00);
    /// 26h/00h: INVALID FIELD IN PARAMETER LIST.
    pub const INVALID_FIELD_IN_PARAMETER_LIST: (u8, u8) = (0x26, 0x00);
    /// 26h/04h: INVALID RELEASE OF PERSISTENT RESERVATION.
    pub const INVALID_RELEASE: (u8, u8) = (0x26, 0x04);
}

/// The name of an ASC / ASCQ pair (SPC-4 annex D), for the ones a shared disk reports
/// around reservations, resets and path changes; `None` for the rest.
pub const fn asc_name(asc: u8, ascq: u8) -> Option<&'static str> {
    Some(match (asc, ascq) {
        (0x00, 0x00) => "NO ADDITIONAL SENSE INFORMATION",
        (0x04, 0x00) => "LOGICAL UNIT NOT READY, CAUSE NOT REPORTABLE",
        (0x04, 0x01) => "LOGICAL UNIT IS IN PROCESS OF BECOMING READY",
        (0x04, 0x02) => "LOGICAL UNIT NOT READY, INITIALIZING COMMAND REQUIRED",
        (0x04, 0x03) => "LOGICAL UNIT NOT READY, MANUAL INTERVENTION REQUIRED",
        (0x04, 0x0A) => "LOGICAL UNIT NOT ACCESSIBLE, ASYMMETRIC ACCESS STATE TRANSITION",
        (0x04, 0x0B) => "LOGICAL UNIT NOT ACCESSIBLE, TARGET PORT IN STANDBY STATE",
        (0x04, 0x0C) => "LOGICAL UNIT NOT ACCESSIBLE, TARGET PORT IN UNAVAILABLE STATE",
        (0x08, 0x00) => "LOGICAL UNIT COMMUNICATION FAILURE",
        (0x1A, 0x00) => "PARAMETER LIST LENGTH ERROR",
        (0x20, 0x00) => "INVALID COMMAND OPERATION CODE",
        (0x21, 0x00) => "LOGICAL BLOCK ADDRESS OUT OF RANGE",
        (0x24, 0x00) => "INVALID FIELD IN CDB",
        (0x25, 0x00) => "LOGICAL UNIT NOT SUPPORTED",
        (0x26, 0x00) => "INVALID FIELD IN PARAMETER LIST",
        (0x26, 0x04) => "INVALID RELEASE OF PERSISTENT RESERVATION",
        (0x27, 0x00) => "WRITE PROTECTED",
        (0x28, 0x00) => "NOT READY TO READY CHANGE, MEDIUM MAY HAVE CHANGED",
        (0x29, 0x00) => "POWER ON, RESET, OR BUS DEVICE RESET OCCURRED",
        (0x29, 0x01) => "POWER ON OCCURRED",
        (0x29, 0x02) => "SCSI BUS RESET OCCURRED",
        (0x29, 0x03) => "BUS DEVICE RESET FUNCTION OCCURRED",
        (0x29, 0x04) => "DEVICE INTERNAL RESET",
        (0x29, 0x07) => "I_T NEXUS LOSS OCCURRED",
        (0x2A, 0x00) => "PARAMETERS CHANGED",
        (0x2A, 0x01) => "MODE PARAMETERS CHANGED",
        (0x2A, 0x03) => "RESERVATIONS PREEMPTED",
        (0x2A, 0x04) => "RESERVATIONS RELEASED",
        (0x2A, 0x05) => "REGISTRATIONS PREEMPTED",
        (0x2A, 0x06) => "ASYMMETRIC ACCESS STATE CHANGED",
        (0x2A, 0x09) => "CAPACITY DATA HAS CHANGED",
        (0x2C, 0x00) => "COMMAND SEQUENCE ERROR",
        (0x2F, 0x00) => "COMMANDS CLEARED BY ANOTHER INITIATOR",
        (0x3A, 0x00) => "MEDIUM NOT PRESENT",
        (0x3F, 0x01) => "MICROCODE HAS BEEN CHANGED",
        (0x3F, 0x03) => "INQUIRY DATA HAS CHANGED",
        (0x3F, 0x0E) => "REPORTED LUNS DATA HAS CHANGED",
        (0x44, 0x00) => "INTERNAL TARGET FAILURE",
        (0x55, 0x04) => "INSUFFICIENT REGISTRATION RESOURCES",
        _ => return None,
    })
}

impl Sense {
    /// Decode sense data as the device returned it (`sb_len_wr` bytes). Fixed format
    /// needs the first 3 bytes for the sense key; ASC / ASCQ (bytes 12-13) are zero if the
    /// ADDITIONAL SENSE LENGTH or the buffer stops before them. Descriptor format needs its
    /// 4 header bytes. Anything else (no data, response code 7Fh or not 7xh) is an error.
    pub fn decode(bytes: &[u8]) -> Result<Self, ParseError> {
        let Some(&first) = bytes.first() else {
            return Err(ParseError::Short { field: "sense data RESPONSE CODE", need: 1, got: 0 });
        };
        let code = first & 0x7F;
        let (format, deferred) = match code {
            0x70 => (SenseFormat::Fixed, false),
            0x71 => (SenseFormat::Fixed, true),
            0x72 => (SenseFormat::Descriptor, false),
            0x73 => (SenseFormat::Descriptor, true),
            _ => {
                return Err(ParseError::Invalid {
                    field: "sense data RESPONSE CODE",
                    value: u64::from(code),
                });
            }
        };
        match format {
            SenseFormat::Fixed => {
                let Some(&key) = bytes.get(2) else {
                    return Err(ParseError::Short {
                        field: "fixed sense SENSE KEY",
                        need: 3,
                        got: bytes.len(),
                    });
                };
                // Bytes present: what was returned, and no more than the header (8) plus
                // ADDITIONAL SENSE LENGTH claims.
                let claimed = bytes.get(7).map_or(bytes.len(), |&n| 8 + usize::from(n));
                let valid = &bytes[..claimed.min(bytes.len())];
                let asc = valid.get(12).copied().unwrap_or(0);
                let ascq = valid.get(13).copied().unwrap_or(0);
                Ok(Self { format, deferred, key: SenseKey::from_nibble(key), asc, ascq })
            }
            SenseFormat::Descriptor => {
                let [_, key, asc, ascq, ..] = *bytes else {
                    return Err(ParseError::Short {
                        field: "descriptor sense header",
                        need: 4,
                        got: bytes.len(),
                    });
                };
                Ok(Self { format, deferred, key: SenseKey::from_nibble(key), asc, ascq })
            }
        }
    }

    /// Whether this is `key` with ASC / ASCQ `code`.
    pub fn is(&self, key: SenseKey, code: (u8, u8)) -> bool {
        self.key == key && (self.asc, self.ascq) == code
    }

    /// UNIT ATTENTION: the device reports a change (reset, reservations preempted,
    /// parameters changed) once per I_T nexus and did not execute the command.
    pub fn is_unit_attention(&self) -> bool {
        self.key == SenseKey::UnitAttention
    }

    /// NO SENSE or RECOVERED ERROR: the command completed; the sense is informational.
    pub fn is_success(&self) -> bool {
        matches!(self.key, SenseKey::NoSense | SenseKey::RecoveredError)
    }

    /// The ASC / ASCQ name, if known.
    pub fn asc_name(&self) -> Option<&'static str> {
        asc_name(self.asc, self.ascq)
    }
}

impl fmt::Display for Sense {
    /// `UNIT ATTENTION, RESERVATIONS PREEMPTED (2Ah/03h)`, with `deferred ` in front for
    /// a deferred error and `ASC/ASCQ` for a pair without a name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.deferred {
            f.write_str("deferred ")?;
        }
        f.write_str(self.key.name())?;
        match self.asc_name() {
            Some(name) => write!(f, ", {name} ({:02X}h/{:02X}h)", self.asc, self.ascq),
            None => write!(f, ", ASC/ASCQ {:02X}h/{:02X}h", self.asc, self.ascq),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_format_as_lio_sends_it() {
        // LIO's unit attention after another initiator's PREEMPT (fixed, 18 bytes).
        #[rustfmt::skip]
        let bytes = [
            0x70,                   // 0: VALID 0, RESPONSE CODE 70h (current, fixed)
            0x00,                   // 1: obsolete
            0x06,                   // 2: SENSE KEY 6h UNIT ATTENTION
            0x00, 0x00, 0x00, 0x00, // 3-6: INFORMATION
            0x0A,                   // 7: ADDITIONAL SENSE LENGTH 10
            0x00, 0x00, 0x00, 0x00, // 8-11: COMMAND-SPECIFIC INFORMATION
            0x2A,                   // 12: ASC
            0x03,                   // 13: ASCQ
            0x00,                   // 14: FRU
            0x00, 0x00, 0x00,       // 15-17: SENSE KEY SPECIFIC
        ];
        let s = Sense::decode(&bytes).unwrap();
        assert_eq!(
            s,
            Sense {
                format: SenseFormat::Fixed,
                deferred: false,
                key: SenseKey::UnitAttention,
                asc: 0x2A,
                ascq: 3
            }
        );
        assert!(s.is_unit_attention() && !s.is_success());
        assert!(s.is(SenseKey::UnitAttention, asc::RESERVATIONS_PREEMPTED));
        assert_eq!(s.to_string(), "UNIT ATTENTION, RESERVATIONS PREEMPTED (2Ah/03h)");
        // VALID bit set (INFORMATION valid) and a deferred error: same decoding.
        let mut deferred = bytes;
        deferred[0] = 0xF1;
        let s = Sense::decode(&deferred).unwrap();
        assert!(s.deferred);
        assert_eq!(s.to_string(), "deferred UNIT ATTENTION, RESERVATIONS PREEMPTED (2Ah/03h)");
    }

    #[test]
    fn descriptor_format() {
        #[rustfmt::skip]
        let bytes = [
            0x72,             // 0: RESPONSE CODE 72h (current, descriptor)
            0x05,             // 1: SENSE KEY 5h ILLEGAL REQUEST
            0x26,             // 2: ASC
            0x00,             // 3: ASCQ
            0x00, 0x00, 0x00, // 4-6: reserved
            0x08,             // 7: ADDITIONAL SENSE LENGTH: one 8-byte descriptor
            0x02, 0x06, 0x00, 0x00, 0x80, 0x00, 0x14, 0x00, // sense key specific descriptor
        ];
        let s = Sense::decode(&bytes).unwrap();
        assert_eq!(s.format, SenseFormat::Descriptor);
        assert!(s.is(SenseKey::IllegalRequest, asc::INVALID_FIELD_IN_PARAMETER_LIST));
        assert_eq!(s.to_string(), "ILLEGAL REQUEST, INVALID FIELD IN PARAMETER LIST (26h/00h)");
        // The header alone is enough; the descriptors are not needed.
        let s = Sense::decode(&[0x73, 0x06, 0x29, 0x00]).unwrap();
        assert!(s.deferred && s.is_unit_attention());
        assert_eq!(
            s.to_string(),
            "deferred UNIT ATTENTION, POWER ON, RESET, OR BUS DEVICE RESET OCCURRED (29h/00h)"
        );
    }

    #[test]
    fn short_and_garbled_sense() {
        assert_eq!(
            Sense::decode(&[]),
            Err(ParseError::Short { field: "sense data RESPONSE CODE", need: 1, got: 0 })
        );
        assert_eq!(
            Sense::decode(&[0x70, 0x00]),
            Err(ParseError::Short { field: "fixed sense SENSE KEY", need: 3, got: 2 })
        );
        assert_eq!(
            Sense::decode(&[0x72, 0x06, 0x29]),
            Err(ParseError::Short { field: "descriptor sense header", need: 4, got: 3 })
        );
        for code in [0x00, 0x7F, 0x74, 0x0F] {
            assert!(
                matches!(Sense::decode(&[code, 0, 6, 0]), Err(ParseError::Invalid { value, .. }) if value == u64::from(code & 0x7F))
            );
        }
        // Fixed sense cut before ASC / ASCQ: the key alone, ASC / ASCQ zero.
        let s = Sense::decode(&[0x70, 0x00, 0x02]).unwrap();
        assert_eq!((s.key, s.asc, s.ascq), (SenseKey::NotReady, 0, 0));
        // ADDITIONAL SENSE LENGTH 0 hides ASC / ASCQ even if junk follows.
        let mut junk = [0xEE_u8; 18];
        junk[0] = 0x70;
        junk[2] = 0x0B;
        junk[7] = 0;
        let s = Sense::decode(&junk).unwrap();
        assert_eq!((s.key, s.asc, s.ascq), (SenseKey::AbortedCommand, 0, 0));
        // Upper bits of the key byte (FILEMARK, EOM, ILI) do not leak into the key.
        junk[2] = 0xE5;
        assert_eq!(Sense::decode(&junk).unwrap().key, SenseKey::IllegalRequest);
    }

    #[test]
    fn names() {
        for n in 0..16u8 {
            assert!(!SenseKey::from_nibble(n).name().is_empty());
        }
        assert_eq!(SenseKey::from_nibble(0x16), SenseKey::UnitAttention);
        assert_eq!(asc_name(0x2A, 0x05), Some("REGISTRATIONS PREEMPTED"));
        assert_eq!(asc_name(0x24, 0x00), Some("INVALID FIELD IN CDB"));
        assert_eq!(asc_name(0x5D, 0x10), None);
        let s = Sense {
            format: SenseFormat::Fixed,
            deferred: false,
            key: SenseKey::MediumError,
            asc: 0x5D,
            ascq: 0x10,
        };
        assert_eq!(s.to_string(), "MEDIUM ERROR, ASC/ASCQ 5Dh/10h");
        let s = Sense { key: SenseKey::RecoveredError, ..s };
        assert!(s.is_success());
    }
}
