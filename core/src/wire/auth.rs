//! Frame authentication: keyed BLAKE2s with a 16-byte tag over header and payload.
//!
//! Why BLAKE2s rather than HMAC-SHA256: BLAKE2s is a MAC in its own right in keyed mode
//! (RFC 7693), so one pass over the frame suffices where HMAC needs two nested hashes;
//! it works on 32-bit words, which suits the Cortex-M4 in the BMC as well as the host;
//! and its output length is a parameter, so the 16-byte tag is native rather than a
//! truncation. RustCrypto's `blake2` is `no_std` and allocation free. The key state is
//! prepared once per [`MacKey`] and cloned per frame.
//!
//! Tags are compared in constant time.

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
        let mut mac = self.keyed.clone();
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// Whether `tag` is the tag of `data` (constant-time comparison).
    pub fn verify(&self, data: &[u8], tag: &[u8]) -> bool {
        let mut mac = self.keyed.clone();
        mac.update(data);
        mac.verify_slice(tag).is_ok()
    }

    /// An independent 32-byte key for another purpose named by `label`.
    pub(crate) fn derive(&self, label: &[u8]) -> [u8; 32] {
        let mut mac = <Blake2sMac<U32> as KeyInit>::new(&self.raw.into());
        mac.update(label);
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
        assert_ne!(k1.derive(b"x"), k1.derive(b"y"));
        assert_eq!(std::format!("{k1:?}"), "MacKey(..)");
    }
}
