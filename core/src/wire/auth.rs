//! Frame authentication: keyed BLAKE2s with a 16-byte tag over the intended recipient,
//! the header and the payload.
//!
//! Why BLAKE2s rather than HMAC-SHA256: BLAKE2s is a MAC in its own right in keyed mode
//! (RFC 7693), so one pass over the frame suffices where HMAC needs two nested hashes;
//! it works on 32-bit words, which suits the Cortex-M4 in the BMC as well as the host;
//! and its output length is a parameter, so the 16-byte tag is native rather than a
//! truncation. RustCrypto's `blake2` is `no_std` and allocation free. The key state is
//! prepared once per [`MacKey`] and cloned per frame.
//!
//! Tags are compared in constant time.
//!
//! A frame's tag covers bytes that are not all contiguous on the wire (the recipient byte
//! is bound into the MAC but never sent, see [`super::frame`]), so the tag functions take
//! the MACed input as a list of parts, fed to one MAC state in order with repeated
//! `update`s: no copy, no allocation. The tag of `[a, b]` is the tag of `a || b`.

use blake2::Blake2sMac;
use blake2::digest::consts::{U16, U32};
use blake2::digest::{KeyInit, Mac};

/// Length of the authentication tag at the end of every frame.
pub const TAG_LEN: usize = 16;

/// The shared link key (32 bytes), provisioned identically on both controllers and both
/// BMCs (from the configuration's MAC key file, or baked into the firmware).
#[derive(Clone)]
pub struct MacKey {
    raw: [u8; 32],
    keyed: Blake2sMac<U16>,
}

impl core::fmt::Debug for MacKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never print key material.
        f.write_str("MacKey(..)")
    }
}

impl PartialEq for MacKey {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl Eq for MacKey {}

impl core::hash::Hash for MacKey {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        // Simulation state hashing only; never exposed on a wire or in a log.
        self.raw.hash(state);
    }
}

impl MacKey {
    /// A key from its 32 raw bytes.
    pub fn new(raw: [u8; 32]) -> Self {
        let keyed = <Blake2sMac<U16> as KeyInit>::new(&raw.into());
        Self { raw, keyed }
    }

    /// The 16-byte tag of `data`.
    pub fn tag(&self, data: &[u8]) -> [u8; TAG_LEN] {
        self.tag_parts(&[data])
    }

    /// The 16-byte tag of the concatenation of `parts` (fed in order; nothing is
    /// copied or allocated). `tag_parts(&[a, b]) == tag(a || b)`.
    pub fn tag_parts(&self, parts: &[&[u8]]) -> [u8; TAG_LEN] {
        self.mac_over(parts).finalize().into_bytes().into()
    }

    /// Whether `tag` is the tag of `data` (constant-time comparison).
    pub fn verify(&self, data: &[u8], tag: &[u8]) -> bool {
        self.verify_parts(&[data], tag)
    }

    /// Whether `tag` is the tag of the concatenation of `parts` (constant-time
    /// comparison; a `tag` of the wrong length never verifies).
    pub fn verify_parts(&self, parts: &[&[u8]], tag: &[u8]) -> bool {
        self.mac_over(parts).verify_slice(tag).is_ok()
    }

    /// The prepared keyed state, fed with every part in order.
    fn mac_over(&self, parts: &[&[u8]]) -> Blake2sMac<U16> {
        let mut mac = self.keyed.clone();
        for part in parts {
            mac.update(part);
        }
        mac
    }

    /// An independent 32-byte key for another purpose, named by the concatenation of
    /// `label` (keyed BLAKE2s-256 under the raw link key: a different output length from
    /// the frame tag, so no derived key is ever a frame tag).
    pub(crate) fn derive(&self, label: &[&[u8]]) -> [u8; 32] {
        let mut mac = <Blake2sMac<U32> as KeyInit>::new(&self.raw.into());
        for part in label {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_depends_on_key_and_data() {
        let k1 = MacKey::new([1; 32]);
        let k2 = MacKey::new([2; 32]);
        let t = k1.tag(b"frame");
        assert!(k1.verify(b"frame", &t));
        assert!(!k1.verify(b"framf", &t));
        assert!(!k2.verify(b"frame", &t));
        assert!(!k1.verify(b"frame", &t[..15]));
        assert_ne!(k1.derive(&[b"x"]), k1.derive(&[b"y"]));
        assert_eq!(k1.derive(&[b"xy"]), k1.derive(&[b"x", b"y"]));
        assert_eq!(std::format!("{k1:?}"), "MacKey(..)");
    }

    #[test]
    fn tag_over_parts_is_the_tag_of_their_concatenation() {
        let k = MacKey::new([3; 32]);
        let whole = k.tag(b"\x01header|payload");
        assert_eq!(k.tag_parts(&[b"\x01", b"header|", b"payload"]), whole);
        assert_eq!(k.tag_parts(&[b"", b"\x01header|payload", b""]), whole);
        assert!(k.verify_parts(&[b"\x01header", b"|payload"], &whole));
        assert!(!k.verify_parts(&[b"\x02header", b"|payload"], &whole));
        assert!(!k.verify_parts(&[b"\x01header|payload"], &whole[..TAG_LEN - 1]));
        assert_eq!(k.tag_parts(&[]), k.tag(b""));
    }
}
