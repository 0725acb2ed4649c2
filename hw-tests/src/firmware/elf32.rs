//! Just enough ELF32 reading to size a firmware image from its section headers.
//!
//! - **flash**: every allocated section that is not writable (vector table, `.text`,
//!   `.rodata`), plus the initial values of writable sections that have any (`.data`
//!   is copied from flash at start);
//! - **static RAM**: every allocated writable section, with or without contents
//!   (`.data`, `.bss`, `.uninit`). The stack is not static: it is the rest of RAM.

/// `SHT_NOBITS`: the section occupies memory but no file space (`.bss`).
const SHT_NOBITS: u32 = 8;
/// `SHF_WRITE`.
const SHF_WRITE: u32 = 0x1;
/// `SHF_ALLOC`: the section occupies memory at run time.
const SHF_ALLOC: u32 = 0x2;
/// Size of one ELF32 section header.
const SHDR_LEN: usize = 40;

/// One section: name, type, flags, size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// Its name.
    pub name: String,
    /// `sh_type`.
    pub kind: u32,
    /// `sh_flags`.
    pub flags: u32,
    /// `sh_size`.
    pub size: u32,
}

/// An image's footprint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footprint {
    /// Bytes of flash (code, read-only data, initial values).
    pub flash: u64,
    /// Bytes of statically allocated RAM.
    pub ram: u64,
}

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(off..off + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(off..off + 4)?.try_into().ok()?))
}

/// The section headers of the little-endian ELF32 image `b`.
pub fn sections(b: &[u8]) -> Result<Vec<Section>, String> {
    if b.get(..4) != Some(b"\x7fELF".as_slice()) {
        return Err("not an ELF file".into());
    }
    if b.get(4) != Some(&1) || b.get(5) != Some(&1) {
        return Err("not a little-endian 32-bit ELF file".into());
    }
    let bad = || "truncated ELF header".to_owned();
    let shoff = u32_at(b, 0x20).ok_or_else(bad)? as usize;
    let shentsize = usize::from(u16_at(b, 0x2E).ok_or_else(bad)?);
    let shnum = usize::from(u16_at(b, 0x30).ok_or_else(bad)?);
    let shstrndx = usize::from(u16_at(b, 0x32).ok_or_else(bad)?);
    if shentsize < SHDR_LEN {
        return Err(format!("section headers of {shentsize} bytes, expected {SHDR_LEN}"));
    }
    let header = |i: usize| -> Result<[u32; 6], String> {
        let p = shoff + i * shentsize;
        let f =
            |k: usize| u32_at(b, p + 4 * k).ok_or_else(|| format!("section header {i} is outside the file"));
        Ok([f(0)?, f(1)?, f(2)?, f(3)?, f(4)?, f(5)?])
    };
    let strtab = header(shstrndx)?;
    let (str_off, str_len) = (strtab[4] as usize, strtab[5] as usize);
    let names = b.get(str_off..str_off + str_len).ok_or("the section name table is outside the file")?;
    (0..shnum)
        .map(|i| {
            let [name, kind, flags, _addr, _offset, size] = header(i)?;
            let name = names.get(name as usize..).unwrap_or_default();
            let end = name.iter().position(|&c| c == 0).unwrap_or(name.len());
            Ok(Section { name: String::from_utf8_lossy(&name[..end]).into_owned(), kind, flags, size })
        })
        .collect()
}

/// Flash and static RAM of the image `b` (see the module doc).
pub fn footprint(b: &[u8]) -> Result<Footprint, String> {
    let mut fp = Footprint { flash: 0, ram: 0 };
    for s in sections(b)?.iter().filter(|s| s.flags & SHF_ALLOC != 0) {
        let size = u64::from(s.size);
        if s.flags & SHF_WRITE != 0 {
            fp.ram += size;
            if s.kind != SHT_NOBITS {
                fp.flash += size;
            }
        } else {
            fp.flash += size;
        }
    }
    Ok(fp)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF32 with the given sections: (name, type, flags, size).
    fn elf(secs: &[(&str, u32, u32, u32)]) -> Vec<u8> {
        let mut names = vec![0u8];
        let mut offsets = Vec::new();
        for (n, ..) in secs.iter().chain([&(".shstrtab", 3, 0, 0)]) {
            offsets.push(names.len() as u32);
            names.extend_from_slice(n.as_bytes());
            names.push(0);
        }
        let shoff = 52 + names.len();
        let mut b = vec![0u8; 52];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = 1;
        b[5] = 1;
        b[0x20..0x24].copy_from_slice(&(shoff as u32).to_le_bytes());
        b[0x2E..0x30].copy_from_slice(&40u16.to_le_bytes());
        b[0x30..0x32].copy_from_slice(&((secs.len() + 1) as u16).to_le_bytes());
        b[0x32..0x34].copy_from_slice(&(secs.len() as u16).to_le_bytes());
        b.extend_from_slice(&names);
        for (i, &(_, kind, flags, size)) in
            secs.iter().chain([&(".shstrtab", 3, 0, names.len() as u32)]).enumerate()
        {
            let mut h = [0u8; 40];
            let off = if i == secs.len() { 52 } else { 0 };
            for (k, v) in [offsets[i], kind, flags, 0, off, size].into_iter().enumerate() {
                h[4 * k..4 * k + 4].copy_from_slice(&v.to_le_bytes());
            }
            b.extend_from_slice(&h);
        }
        b
    }

    #[test]
    fn flash_is_read_only_plus_initial_values_and_ram_is_writable() {
        let b = elf(&[
            (".vector_table", 1, SHF_ALLOC, 1024),
            (".text", 1, SHF_ALLOC | 0x4, 30_000),
            (".rodata", 1, SHF_ALLOC, 2_000),
            (".data", 1, SHF_ALLOC | SHF_WRITE, 16),
            (".bss", SHT_NOBITS, SHF_ALLOC | SHF_WRITE, 7_000),
            (".uninit", SHT_NOBITS, SHF_ALLOC | SHF_WRITE, 32),
            (".debug_info", 1, 0, 99_999),
        ]);
        let names: Vec<String> = sections(&b).unwrap().into_iter().map(|s| s.name).collect();
        assert_eq!(names[1], ".text");
        assert_eq!(footprint(&b), Ok(Footprint { flash: 1024 + 30_000 + 2_000 + 16, ram: 16 + 7_000 + 32 }));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(footprint(b"#!/bin/sh").is_err());
        let mut b = elf(&[(".text", 1, SHF_ALLOC, 10)]);
        b[4] = 2;
        assert!(footprint(&b).is_err());
        b[4] = 1;
        b[0x30] = 200; // more headers than the file holds
        assert!(footprint(&b).is_err());
        b.truncate(40);
        assert!(footprint(&b).is_err());
    }
}
