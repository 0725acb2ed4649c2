//! The link key file: 32 raw bytes, or 64 hex digits and an optional newline.

use std::path::Path;

use super::error::{KeyProblem, Reason};
use super::types::LinkKey;

impl LinkKey {
    /// The key from a key file's contents: exactly 32 raw bytes, or exactly 64 hex
    /// digits (either case) followed by nothing, `\n` or `\r\n`. The two forms cannot
    /// be confused: their lengths differ.
    pub fn parse(bytes: &[u8]) -> Result<Self, KeyProblem> {
        let mut raw = [0u8; 32];
        if bytes.len() == 32 {
            raw.copy_from_slice(bytes);
            return Ok(Self(raw));
        }
        let text = bytes.strip_suffix(b"\r\n").or_else(|| bytes.strip_suffix(b"\n")).unwrap_or(bytes);
        if text.len() != 64 {
            return Err(KeyProblem::Length { len: bytes.len() });
        }
        hex::decode_to_slice(text, &mut raw).map_err(|_| KeyProblem::NotHex)?;
        Ok(Self(raw))
    }

    /// Read and parse the key file at `path`.
    pub fn read(path: &Path) -> Result<Self, Reason> {
        let bytes = std::fs::read(path).map_err(|source| Reason::Read { path: path.to_owned(), source })?;
        Self::parse(&bytes).map_err(|problem| Reason::KeyFile { path: path.to_owned(), problem })
    }
}
