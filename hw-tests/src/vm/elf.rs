//! Just enough ELF64 reading to check two things before QEMU or the kernel would fail
//! obscurely: that a kernel has the PVH entry note, and that a busybox is static.

/// `PT_INTERP`: the program needs a dynamic loader.
const PT_INTERP: u32 = 3;
/// `PT_NOTE`.
const PT_NOTE: u32 = 4;
/// `XEN_ELFNOTE_PHYS32_ENTRY`: the 32-bit PVH entry point QEMU's `-kernel` looks for.
const XEN_ELFNOTE_PHYS32_ENTRY: u32 = 18;

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(off..off + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(off..off + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], off: usize) -> Option<usize> {
    usize::try_from(u64::from_le_bytes(b.get(off..off + 8)?.try_into().ok()?)).ok()
}

/// One program header: type, file offset, file size.
fn program_headers(b: &[u8]) -> Result<Vec<(u32, usize, usize)>, String> {
    if b.get(..4) != Some(b"\x7fELF".as_slice()) {
        return Err("not an ELF file".into());
    }
    if b.get(4) != Some(&2) || b.get(5) != Some(&1) {
        return Err("not a little-endian 64-bit ELF file".into());
    }
    let bad = || "truncated ELF header".to_owned();
    let phoff = u64_at(b, 0x20).ok_or_else(bad)?;
    let phentsize = usize::from(u16_at(b, 0x36).ok_or_else(bad)?);
    let phnum = usize::from(u16_at(b, 0x38).ok_or_else(bad)?);
    (0..phnum)
        .map(|i| {
            let p = phoff + i * phentsize;
            let bad = || format!("program header {i} is outside the file");
            Ok((
                u32_at(b, p).ok_or_else(bad)?,
                u64_at(b, p + 8).ok_or_else(bad)?,
                u64_at(b, p + 0x20).ok_or_else(bad)?,
            ))
        })
        .collect()
}

/// Whether the ELF image `b` has no dynamic loader (`PT_INTERP`).
pub fn is_static(b: &[u8]) -> Result<bool, String> {
    Ok(!program_headers(b)?.iter().any(|h| h.0 == PT_INTERP))
}

/// Whether the ELF image `b` carries the Xen PVH entry note.
pub fn has_pvh_note(b: &[u8]) -> Result<bool, String> {
    for (kind, off, size) in program_headers(b)? {
        if kind != PT_NOTE {
            continue;
        }
        let seg = b.get(off..off.saturating_add(size)).ok_or("a PT_NOTE segment is outside the file")?;
        let mut p = 0;
        while p + 12 <= seg.len() {
            let (Some(namesz), Some(descsz), Some(ty)) =
                (u32_at(seg, p), u32_at(seg, p + 4), u32_at(seg, p + 8))
            else {
                break;
            };
            let name_len = namesz as usize;
            let name = seg.get(p + 12..p + 12 + name_len).unwrap_or_default();
            if ty == XEN_ELFNOTE_PHYS32_ENTRY && name.starts_with(b"Xen") {
                return Ok(true);
            }
            p += 12 + name_len.next_multiple_of(4) + (descsz as usize).next_multiple_of(4);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF64 with the given program headers: (type, data).
    fn elf(segments: &[(u32, Vec<u8>)]) -> Vec<u8> {
        let phoff = 64usize;
        let data_start = phoff + 56 * segments.len();
        let mut b = vec![0u8; data_start];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = 2;
        b[5] = 1;
        b[0x20..0x28].copy_from_slice(&(phoff as u64).to_le_bytes());
        b[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        b[0x38..0x3a].copy_from_slice(&(segments.len() as u16).to_le_bytes());
        for (i, (kind, data)) in segments.iter().enumerate() {
            let off = b.len();
            b.extend_from_slice(data);
            let p = phoff + 56 * i;
            b[p..p + 4].copy_from_slice(&kind.to_le_bytes());
            b[p + 8..p + 16].copy_from_slice(&(off as u64).to_le_bytes());
            b[p + 0x20..p + 0x28].copy_from_slice(&(data.len() as u64).to_le_bytes());
        }
        b
    }

    fn note(name: &[u8], ty: u32, desc: &[u8]) -> Vec<u8> {
        let mut n = Vec::new();
        n.extend_from_slice(&(name.len() as u32).to_le_bytes());
        n.extend_from_slice(&(desc.len() as u32).to_le_bytes());
        n.extend_from_slice(&ty.to_le_bytes());
        n.extend_from_slice(name);
        n.resize(n.len().next_multiple_of(4), 0);
        n.extend_from_slice(desc);
        n.resize(n.len().next_multiple_of(4), 0);
        n
    }

    #[test]
    fn finds_the_pvh_note_after_other_notes() {
        let mut notes = note(b"GNU\0", 3, &[1; 20]);
        notes.extend(note(b"Xen\0", XEN_ELFNOTE_PHYS32_ENTRY, &[0, 0, 0, 1]));
        assert_eq!(has_pvh_note(&elf(&[(1, vec![0; 8]), (PT_NOTE, notes)])), Ok(true));
        assert_eq!(has_pvh_note(&elf(&[(PT_NOTE, note(b"GNU\0", 3, &[1; 20]))])), Ok(false));
    }

    #[test]
    fn static_means_no_interpreter() {
        assert_eq!(is_static(&elf(&[(1, vec![0; 8])])), Ok(true));
        assert_eq!(is_static(&elf(&[(PT_INTERP, b"/lib64/ld.so\0".to_vec()), (1, vec![])])), Ok(false));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(is_static(b"#!/bin/sh").is_err());
        let mut b = elf(&[(PT_NOTE, vec![0; 4])]);
        b[0x38] = 200; // more headers than the file holds
        assert!(has_pvh_note(&b).is_err());
        b.truncate(10);
        assert!(has_pvh_note(&b).is_err());
    }
}
