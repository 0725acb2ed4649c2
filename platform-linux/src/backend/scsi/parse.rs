//! Parameter data the device returns: PERSISTENT RESERVE IN (READ KEYS, READ
//! RESERVATION), standard INQUIRY, the Unit Serial Number and Device Identification VPD
//! pages, READ CAPACITY (10).
//!
//! Every parser takes exactly the bytes the device transferred and trusts none of its
//! length fields: a length that runs past the data is [`ParseError::Truncated`] (the
//! caller may ask again with a larger allocation), a header that is not there is
//! [`ParseError::Short`], a field with a value the standard does not allow is
//! [`ParseError::Invalid`]. Nothing here panics or allocates in proportion to a length
//! field.

use thiserror::Error;

use crate::backend::pr::{ReadKeys, ReservationType};

use super::cdb::{LU_SCOPE, VPD_DEVICE_ID, VPD_UNIT_SERIAL};

/// Why returned data does not parse. Every variant names the field.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ParseError {
    /// A fixed-size header or field is not all there.
    #[error("{field}: needs {need} bytes, got {got}")]
    Short {
        /// The field.
        field: &'static str,
        /// Bytes it needs (counted from the start of the data).
        need: usize,
        /// Bytes there are.
        got: usize,
    },
    /// A length field claims more data than was transferred: the allocation length was
    /// too small, or the device lies.
    #[error("{field} claims {need} bytes, got {got}")]
    Truncated {
        /// The length field.
        field: &'static str,
        /// Bytes the whole response would take.
        need: usize,
        /// Bytes there are.
        got: usize,
    },
    /// A field holds a value the standard does not allow there.
    #[error("{field}: invalid value {value:#x}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Its value.
        value: u64,
    },
}

fn be_u16(data: &[u8], at: usize, field: &'static str) -> Result<u16, ParseError> {
    match data.get(at..at + 2) {
        Some(&[a, b]) => Ok(u16::from_be_bytes([a, b])),
        _ => Err(ParseError::Short { field, need: at + 2, got: data.len() }),
    }
}

fn be_u32(data: &[u8], at: usize, field: &'static str) -> Result<u32, ParseError> {
    match data.get(at..at + 4) {
        Some(&[a, b, c, d]) => Ok(u32::from_be_bytes([a, b, c, d])),
        _ => Err(ParseError::Short { field, need: at + 4, got: data.len() }),
    }
}

fn be_u64(data: &[u8], at: usize, field: &'static str) -> Result<u64, ParseError> {
    match data.get(at..at + 8).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
        Some(b) => Ok(u64::from_be_bytes(b)),
        None => Err(ParseError::Short { field, need: at + 8, got: data.len() }),
    }
}

/// `data[from..from + len]`, or `Truncated` naming `field` (the length field).
fn body<'a>(data: &'a [u8], from: usize, len: usize, field: &'static str) -> Result<&'a [u8], ParseError> {
    let need = from.saturating_add(len);
    data.get(from..need).ok_or(ParseError::Truncated { field, need, got: data.len() })
}

/// Printable ASCII of an ASCII field with the padding (spaces, NULs) trimmed; any other
/// byte becomes `?` (vendors put odd bytes in serials, and they end up in logs).
fn ascii(bytes: &[u8]) -> String {
    let pad = |b: &u8| *b == b' ' || *b == 0;
    let start = bytes.iter().position(|b| !pad(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !pad(b)).map_or(start, |last| last + 1);
    let field = bytes.get(start..end).unwrap_or_default();
    field.iter().map(|&b| if (0x20..0x7F).contains(&b) { char::from(b) } else { '?' }).collect()
}

/// PERSISTENT RESERVE IN, READ KEYS parameter data (SPC-4 §6.15.2, table 166):
///
/// ```text
/// 0-3  PRGENERATION
/// 4-7  ADDITIONAL LENGTH (n - 7): bytes of keys that follow, 8 per key
/// 8-   RESERVATION KEY list
/// ```
///
/// Keys are returned in the device's order (one per registered I_T nexus; two nexuses
/// may hold the same key).
pub fn read_keys(data: &[u8]) -> Result<ReadKeys, ParseError> {
    const FIELD: &str = "READ KEYS ADDITIONAL LENGTH";
    let generation = be_u32(data, 0, "READ KEYS PRGENERATION")?;
    let len = be_u32(data, 4, FIELD)?;
    if len % 8 != 0 {
        return Err(ParseError::Invalid { field: FIELD, value: u64::from(len) });
    }
    let list = body(data, 8, len as usize, FIELD)?;
    let keys =
        list.chunks_exact(8).filter_map(|k| <[u8; 8]>::try_from(k).ok()).map(u64::from_be_bytes).collect();
    Ok(ReadKeys { generation, keys })
}

/// The persistent reservation READ RESERVATION reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HeldReservation {
    /// The reservation holder's key (zero for the all-registrants types, whose holders
    /// are every registrant).
    pub key: u64,
    /// SCOPE (0 = LU_SCOPE; the others are obsolete).
    pub scope: u8,
    /// TYPE (SPC-4 table 172): 1 Write Exclusive, 3 Exclusive Access, 5 / 6 the
    /// registrants-only types, 7 / 8 the all-registrants types.
    pub type_code: u8,
}

impl HeldReservation {
    /// The type, if it is one of the registrants-only types with LU scope (the only
    /// reservations the fence establishes).
    pub fn kind(&self) -> Option<ReservationType> {
        if self.scope == LU_SCOPE { ReservationType::from_code(self.type_code) } else { None }
    }

    /// An all-registrants type (7h, 8h): every registrant is a holder.
    pub fn is_all_registrants(&self) -> bool {
        matches!(self.type_code, 7 | 8)
    }
}

/// READ RESERVATION parameter data, parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReservationStatus {
    /// PRGENERATION.
    pub generation: u32,
    /// The reservation, if any.
    pub reservation: Option<HeldReservation>,
}

/// PERSISTENT RESERVE IN, READ RESERVATION parameter data (SPC-4 §6.15.3, tables 167
/// and 168):
///
/// ```text
/// 0-3   PRGENERATION
/// 4-7   ADDITIONAL LENGTH: 0 (no reservation) or 10h
/// 8-15  RESERVATION KEY
/// 16-19 obsolete
/// 20    reserved
/// 21    SCOPE (bits 7-4), TYPE (bits 3-0)
/// 22-23 obsolete
/// ```
pub fn read_reservation(data: &[u8]) -> Result<ReservationStatus, ParseError> {
    const FIELD: &str = "READ RESERVATION ADDITIONAL LENGTH";
    let generation = be_u32(data, 0, "READ RESERVATION PRGENERATION")?;
    let len = be_u32(data, 4, FIELD)?;
    if len == 0 {
        return Ok(ReservationStatus { generation, reservation: None });
    }
    if len < 0x10 {
        return Err(ParseError::Invalid { field: FIELD, value: u64::from(len) });
    }
    let descriptor = body(data, 8, 0x10, FIELD)?;
    let key = be_u64(descriptor, 0, "READ RESERVATION RESERVATION KEY")?;
    let scope_type = descriptor.get(13).copied().unwrap_or(0);
    Ok(ReservationStatus {
        generation,
        reservation: Some(HeldReservation { key, scope: scope_type >> 4, type_code: scope_type & 0xF }),
    })
}

/// Standard INQUIRY data, the part the backend uses (SPC-4 §6.4.2, table 142).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StandardInquiry {
    /// PERIPHERAL QUALIFIER (byte 0 bits 7-5): 0 = a logical unit is connected here.
    pub qualifier: u8,
    /// PERIPHERAL DEVICE TYPE (byte 0 bits 4-0): 0 = direct access block device.
    pub device_type: u8,
    /// T10 VENDOR IDENTIFICATION (bytes 8-15), trimmed.
    pub vendor: String,
    /// PRODUCT IDENTIFICATION (bytes 16-31), trimmed.
    pub product: String,
    /// PRODUCT REVISION LEVEL (bytes 32-35), trimmed.
    pub revision: String,
}

/// Bytes of standard INQUIRY data up to and including PRODUCT REVISION LEVEL.
pub const STANDARD_INQUIRY_LEN: usize = 36;

/// Standard INQUIRY data; the first 36 bytes must be there.
pub fn standard_inquiry(data: &[u8]) -> Result<StandardInquiry, ParseError> {
    let field = |from: usize, to: usize, name: &'static str| {
        data.get(from..to).map(ascii).ok_or(ParseError::Short { field: name, need: to, got: data.len() })
    };
    let vendor = field(8, 16, "INQUIRY T10 VENDOR IDENTIFICATION")?;
    let product = field(16, 32, "INQUIRY PRODUCT IDENTIFICATION")?;
    let revision = field(32, 36, "INQUIRY PRODUCT REVISION LEVEL")?;
    let b0 = data.first().copied().unwrap_or(0);
    Ok(StandardInquiry { qualifier: b0 >> 5, device_type: b0 & 0x1F, vendor, product, revision })
}

/// The header of a VPD page: checks PAGE CODE and returns the page body (PAGE LENGTH
/// bytes from byte 4).
fn vpd_page<'a>(data: &'a [u8], page: u8, name: &'static str) -> Result<&'a [u8], ParseError> {
    let Some(&code) = data.get(1) else {
        return Err(ParseError::Short { field: name, need: 4, got: data.len() });
    };
    if code != page {
        return Err(ParseError::Invalid { field: name, value: u64::from(code) });
    }
    let len = be_u16(data, 2, name)?;
    body(data, 4, usize::from(len), name)
}

/// The Unit Serial Number VPD page (SPC-4 §7.8.17): PRODUCT SERIAL NUMBER, trimmed;
/// `None` if it is empty or all padding.
pub fn unit_serial(data: &[u8]) -> Result<Option<String>, ParseError> {
    let serial = ascii(vpd_page(data, VPD_UNIT_SERIAL, "unit serial number VPD page length")?);
    Ok((!serial.is_empty()).then_some(serial))
}

/// DESIGNATOR TYPE values (SPC-4 table 459) the backend names a disk by.
pub mod designator_type {
    /// 1h: T10 vendor ID based.
    pub const T10_VENDOR_ID: u8 = 0x1;
    /// 2h: EUI-64 based.
    pub const EUI_64: u8 = 0x2;
    /// 3h: NAA.
    pub const NAA: u8 = 0x3;
    /// 8h: SCSI name string.
    pub const SCSI_NAME_STRING: u8 = 0x8;
}

/// ASSOCIATION value 0: the designator names the logical unit (not the target port or
/// the target device, which differ between a dual-ported disk's two ports).
pub const ASSOCIATION_LOGICAL_UNIT: u8 = 0;

/// One designation descriptor of the Device Identification VPD page (SPC-4 §7.8.6.1,
/// table 456).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Designator {
    /// CODE SET: 1 binary, 2 ASCII, 3 UTF-8.
    pub code_set: u8,
    /// ASSOCIATION: 0 logical unit, 1 target port, 2 target device.
    pub association: u8,
    /// DESIGNATOR TYPE.
    pub designator_type: u8,
    /// The designator.
    pub value: Vec<u8>,
}

impl Designator {
    /// The designator as Linux names devices (`/dev/disk/by-id/wwn-…`, multipath
    /// WWIDs): `naa.` / `eui.` + lowercase hex, `t10.` + ASCII, a SCSI name string as is.
    /// `None` for other types or an empty designator.
    pub fn name(&self) -> Option<String> {
        if self.value.is_empty() {
            return None;
        }
        match self.designator_type {
            designator_type::NAA => Some(format!("naa.{}", hex::encode(&self.value))),
            designator_type::EUI_64 => Some(format!("eui.{}", hex::encode(&self.value))),
            designator_type::T10_VENDOR_ID => Some(format!("t10.{}", ascii(&self.value))),
            designator_type::SCSI_NAME_STRING => Some(ascii(&self.value)).filter(|s| !s.is_empty()),
            _ => None,
        }
    }
}

/// The Device Identification VPD page (SPC-4 §7.8.6): every designation descriptor.
///
/// ```text
/// page:        0 PERIPHERAL, 1 PAGE CODE 83h, 2-3 PAGE LENGTH, 4- descriptors
/// descriptor:  0 PROTOCOL IDENTIFIER (7-4), CODE SET (3-0)
///              1 PIV (7), ASSOCIATION (5-4), DESIGNATOR TYPE (3-0)
///              2 reserved, 3 DESIGNATOR LENGTH, 4- DESIGNATOR
/// ```
pub fn device_identification(data: &[u8]) -> Result<Vec<Designator>, ParseError> {
    let mut rest = vpd_page(data, VPD_DEVICE_ID, "device identification VPD page length")?;
    let mut out = Vec::new();
    while !rest.is_empty() {
        let [b0, b1, _, len, ..] = *rest else {
            return Err(ParseError::Short {
                field: "designation descriptor header",
                need: 4,
                got: rest.len(),
            });
        };
        let value = body(rest, 4, usize::from(len), "designation descriptor DESIGNATOR LENGTH")?;
        out.push(Designator {
            code_set: b0 & 0xF,
            association: (b1 >> 4) & 0x3,
            designator_type: b1 & 0xF,
            value: value.to_vec(),
        });
        rest = rest.get(4 + usize::from(len)..).unwrap_or_default();
    }
    Ok(out)
}

/// The logical unit's name from its designators: the first logical-unit designator of
/// the most specific kind, NAA, then EUI-64, then T10 vendor ID, then SCSI name string.
/// Both ports of a dual-ported disk report the same one.
pub fn logical_unit_name(designators: &[Designator]) -> Option<String> {
    use designator_type::{EUI_64, NAA, SCSI_NAME_STRING, T10_VENDOR_ID};
    [NAA, EUI_64, T10_VENDOR_ID, SCSI_NAME_STRING].into_iter().find_map(|kind| {
        designators
            .iter()
            .filter(|d| d.association == ASSOCIATION_LOGICAL_UNIT && d.designator_type == kind)
            .find_map(Designator::name)
    })
}

/// READ CAPACITY (10) parameter data (SBC-3 §5.16.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Capacity {
    /// RETURNED LOGICAL BLOCK ADDRESS: the last LBA (FFFFFFFFh: too large for 32 bits).
    pub last_lba: u32,
    /// LOGICAL BLOCK LENGTH IN BYTES.
    pub block_len: u32,
}

/// READ CAPACITY (10) parameter data ([`super::cdb::READ_CAPACITY_10_LEN`] bytes): 0-3
/// the last LBA, 4-7 the block length, which must not be zero.
pub fn capacity(data: &[u8]) -> Result<Capacity, ParseError> {
    let last_lba = be_u32(data, 0, "READ CAPACITY RETURNED LOGICAL BLOCK ADDRESS")?;
    let block_len = be_u32(data, 4, "READ CAPACITY LOGICAL BLOCK LENGTH")?;
    if block_len == 0 {
        return Err(ParseError::Invalid { field: "READ CAPACITY LOGICAL BLOCK LENGTH", value: 0 });
    }
    Ok(Capacity { last_lba, block_len })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_keys_lists_every_key() {
        #[rustfmt::skip]
        let data = [
            0x00, 0x00, 0x00, 0x07,                         // PRGENERATION 7
            0x00, 0x00, 0x00, 0x10,                         // ADDITIONAL LENGTH 16: two keys
            0x46, 0x41, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, // key 1
            0x46, 0x42, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, // key 2
            0xEE, 0xEE,                                     // beyond ADDITIONAL LENGTH: ignored
        ];
        let k = read_keys(&data).unwrap();
        assert_eq!(k, ReadKeys { generation: 7, keys: vec![0x4641_0000_0000_0003, 0x4642_0000_0000_0002] });
        // No keys.
        assert_eq!(read_keys(&[0, 0, 1, 0, 0, 0, 0, 0]).unwrap(), ReadKeys { generation: 256, keys: vec![] });
    }

    #[test]
    fn read_keys_rejects_short_truncated_and_lying_data() {
        assert_eq!(
            read_keys(&[0, 0, 0]),
            Err(ParseError::Short { field: "READ KEYS PRGENERATION", need: 4, got: 3 })
        );
        assert_eq!(
            read_keys(&[0, 0, 0, 1, 0, 0]),
            Err(ParseError::Short { field: "READ KEYS ADDITIONAL LENGTH", need: 8, got: 6 })
        );
        // Two keys claimed, one returned: the allocation was too small.
        let mut data = vec![0, 0, 0, 1, 0, 0, 0, 16];
        data.extend_from_slice(&[0x11; 8]);
        assert_eq!(
            read_keys(&data),
            Err(ParseError::Truncated { field: "READ KEYS ADDITIONAL LENGTH", need: 24, got: 16 })
        );
        // A length that is not a whole number of keys.
        data[7] = 12;
        assert_eq!(
            read_keys(&data),
            Err(ParseError::Invalid { field: "READ KEYS ADDITIONAL LENGTH", value: 12 })
        );
        // A length near u32::MAX allocates nothing and does not overflow.
        let huge = [0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xF8];
        assert!(matches!(read_keys(&huge), Err(ParseError::Truncated { need: 0x1_0000_0000, got: 8, .. })));
    }

    #[test]
    fn read_reservation_with_and_without_a_reservation() {
        #[rustfmt::skip]
        let held = [
            0x00, 0x00, 0x00, 0x02,                         // PRGENERATION 2
            0x00, 0x00, 0x00, 0x10,                         // ADDITIONAL LENGTH 16
            0x46, 0x42, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, // RESERVATION KEY
            0x00, 0x00, 0x00, 0x00,                         // obsolete
            0x00,                                           // reserved
            0x05,                                           // SCOPE 0 (LU), TYPE 5
            0x00, 0x00,                                     // obsolete
        ];
        let r = read_reservation(&held).unwrap();
        let h = HeldReservation { key: 0x4642_0000_0000_0005, scope: 0, type_code: 5 };
        assert_eq!(r, ReservationStatus { generation: 2, reservation: Some(h) });
        assert_eq!(h.kind(), Some(ReservationType::WriteExclusiveRegistrantsOnly));
        assert!(!h.is_all_registrants());
        let none = [0, 0, 0, 9, 0, 0, 0, 0];
        assert_eq!(read_reservation(&none).unwrap(), ReservationStatus { generation: 9, reservation: None });
        // Other scopes and types parse, but are not a type the fence establishes.
        let mut other = held;
        other[21] = 0x17;
        let h = read_reservation(&other).unwrap().reservation.unwrap();
        assert_eq!((h.scope, h.type_code, h.kind()), (1, 7, None));
        assert!(h.is_all_registrants());
        other[21] = 0x01;
        assert_eq!(read_reservation(&other).unwrap().reservation.unwrap().kind(), None);
    }

    #[test]
    fn read_reservation_rejects_short_and_lying_data() {
        assert!(matches!(read_reservation(&[0; 7]), Err(ParseError::Short { need: 8, got: 7, .. })));
        // A descriptor announced but not sent.
        assert_eq!(
            read_reservation(&[0, 0, 0, 1, 0, 0, 0, 0x10, 0x46]),
            Err(ParseError::Truncated { field: "READ RESERVATION ADDITIONAL LENGTH", need: 24, got: 9 })
        );
        // A length that cannot hold a descriptor.
        assert_eq!(
            read_reservation(&[0, 0, 0, 1, 0, 0, 0, 0x08, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(ParseError::Invalid { field: "READ RESERVATION ADDITIONAL LENGTH", value: 8 })
        );
    }

    /// Standard INQUIRY data as LIO returns it for a fileio backstore.
    fn lio_inquiry() -> Vec<u8> {
        let mut d = vec![
            0x00, // qualifier 0, type 0 (disk)
            0x00, // RMB 0
            0x06, // VERSION SPC-4
            0x02, // response data format 2
            0x1F, // ADDITIONAL LENGTH
            0x00, 0x00, 0x02,
        ];
        d.extend_from_slice(b"LIO-ORG ");
        d.extend_from_slice(b"shared0         ");
        d.extend_from_slice(b"4.0\0");
        d
    }

    #[test]
    fn standard_inquiry_fields() {
        let i = standard_inquiry(&lio_inquiry()).unwrap();
        assert_eq!(
            i,
            StandardInquiry {
                qualifier: 0,
                device_type: 0,
                vendor: "LIO-ORG".into(),
                product: "shared0".into(),
                revision: "4.0".into()
            }
        );
        let mut odd = lio_inquiry();
        odd[0] = 0x7F; // qualifier 3 (no LU here), type 1Fh (unknown)
        odd[9] = 0x01; // a control byte inside the vendor field
        let i = standard_inquiry(&odd).unwrap();
        assert_eq!((i.qualifier, i.device_type, i.vendor.as_str()), (3, 0x1F, "L?O-ORG"));
        assert_eq!(
            standard_inquiry(&lio_inquiry()[..20]),
            Err(ParseError::Short { field: "INQUIRY PRODUCT IDENTIFICATION", need: 32, got: 20 })
        );
        assert!(matches!(standard_inquiry(&[]), Err(ParseError::Short { need: 16, .. })));
    }

    #[test]
    fn unit_serial_page() {
        #[rustfmt::skip]
        let mut page = vec![
            0x00,       // disk
            0x80,       // PAGE CODE
            0x00, 0x0C, // PAGE LENGTH 12
        ];
        page.extend_from_slice(b"  8a2d61f0  ");
        assert_eq!(unit_serial(&page).unwrap().as_deref(), Some("8a2d61f0"));
        // All padding: no serial.
        let blank = [0x00, 0x80, 0x00, 0x04, b' ', 0, b' ', 0];
        assert_eq!(unit_serial(&blank).unwrap(), None);
        assert_eq!(unit_serial(&[0x00, 0x80, 0x00, 0x00]).unwrap(), None);
        // The wrong page, a short header, a length past the data.
        assert_eq!(
            unit_serial(&[0x00, 0x83, 0x00, 0x00]),
            Err(ParseError::Invalid { field: "unit serial number VPD page length", value: 0x83 })
        );
        assert!(matches!(unit_serial(&[0x00]), Err(ParseError::Short { .. })));
        assert!(matches!(unit_serial(&[0x00, 0x80, 0x00]), Err(ParseError::Short { need: 4, got: 3, .. })));
        assert_eq!(
            unit_serial(&page[..10]),
            Err(ParseError::Truncated { field: "unit serial number VPD page length", need: 16, got: 10 })
        );
    }

    /// A Device Identification page as LIO returns it: NAA 6, T10 vendor ID, then
    /// target-port designators (relative target port, target port group).
    fn lio_device_id() -> Vec<u8> {
        let mut descriptors = vec![
            0x01, 0x03, 0x00, 0x10, // binary, LU, NAA, 16 bytes
            0x60, 0x01, 0x40, 0x5a, 0x2d, 0x61, 0xf0, 0x4b, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
            0x02, 0x01, 0x00, 0x10, // ASCII, LU, T10 vendor ID, 16 bytes
        ];
        descriptors.extend_from_slice(b"LIO-ORG 8a2d61f0");
        descriptors.extend_from_slice(&[
            0x61, 0x94, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, // SAS, PIV, target port, relative port 1
            0x61, 0x95, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, // target port group 0
        ]);
        let mut page = vec![0x00, 0x83];
        page.extend_from_slice(&u16::try_from(descriptors.len()).unwrap().to_be_bytes());
        page.extend_from_slice(&descriptors);
        page
    }

    #[test]
    fn device_identification_page() {
        let d = device_identification(&lio_device_id()).unwrap();
        assert_eq!(d.len(), 4);
        assert_eq!((d[0].code_set, d[0].association, d[0].designator_type), (1, 0, 3));
        assert_eq!(d[0].name().as_deref(), Some("naa.6001405a2d61f04b1122334455667788"));
        assert_eq!(d[1].name().as_deref(), Some("t10.LIO-ORG 8a2d61f0"));
        assert_eq!((d[2].association, d[2].designator_type, d[2].name()), (1, 4, None));
        assert_eq!(logical_unit_name(&d).as_deref(), Some("naa.6001405a2d61f04b1122334455667788"));
        // Without the NAA designator the T10 one names the unit.
        assert_eq!(logical_unit_name(&d[1..]).as_deref(), Some("t10.LIO-ORG 8a2d61f0"));
        // Target port designators never name the unit, even when they are NAA.
        let port_naa = Designator { code_set: 1, association: 1, designator_type: 3, value: vec![0x50, 1] };
        assert_eq!(logical_unit_name(&[port_naa]), None);
        let eui = Designator { code_set: 1, association: 0, designator_type: 2, value: vec![0xAB; 8] };
        let name =
            Designator { code_set: 3, association: 0, designator_type: 8, value: b"iqn.x\0\0\0".to_vec() };
        assert_eq!(logical_unit_name(&[name.clone(), eui]).as_deref(), Some("eui.abababababababab"));
        assert_eq!(logical_unit_name(&[name]).as_deref(), Some("iqn.x"));
        assert_eq!(logical_unit_name(&[]), None);
    }

    #[test]
    fn device_identification_rejects_garbage() {
        let page = lio_device_id();
        // PAGE LENGTH past the data.
        assert!(matches!(device_identification(&page[..30]), Err(ParseError::Truncated { .. })));
        // A descriptor length running past PAGE LENGTH.
        let mut bad = page.clone();
        bad[7] = 0xF0;
        assert_eq!(
            device_identification(&bad),
            Err(ParseError::Truncated {
                field: "designation descriptor DESIGNATOR LENGTH",
                need: 0xF4,
                got: page.len() - 4
            })
        );
        // A page that ends inside a descriptor header.
        let stub = [0x00, 0x83, 0x00, 0x02, 0x01, 0x03];
        assert_eq!(
            device_identification(&stub),
            Err(ParseError::Short { field: "designation descriptor header", need: 4, got: 2 })
        );
        assert_eq!(device_identification(&[0x00, 0x83, 0x00, 0x00]).unwrap(), vec![]);
        assert!(matches!(
            device_identification(&[0x00, 0x80, 0, 0]),
            Err(ParseError::Invalid { value: 0x80, .. })
        ));
    }

    #[test]
    fn read_capacity_data() {
        let data = [0x00, 0x01, 0xFF, 0xFF, 0x00, 0x00, 0x02, 0x00];
        assert_eq!(capacity(&data).unwrap(), Capacity { last_lba: 0x1_FFFF, block_len: 512 });
        assert!(matches!(capacity(&data[..6]), Err(ParseError::Short { need: 8, got: 6, .. })));
        assert!(matches!(capacity(&[0; 8]), Err(ParseError::Invalid { value: 0, .. })));
    }

    #[test]
    fn ascii_trims_padding_and_masks_control_bytes() {
        assert_eq!(ascii(b"  ab c \0\0"), "ab c");
        assert_eq!(ascii(b"\0\0"), "");
        assert_eq!(ascii(&[b'a', 0x07, 0xFF, b'b']), "a??b");
        assert_eq!(ascii(b""), "");
    }
}
