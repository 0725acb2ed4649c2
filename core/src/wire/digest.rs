//! Short content digests compared across controllers (configuration, disk set).
//!
//! Eight bytes of unkeyed BLAKE2s: enough to tell two configurations apart (a chance
//! collision is 2^-64), small enough for every heartbeat. They detect drift, they do
//! not authenticate anything: the frame MAC does that.

use blake2::Blake2s;
use blake2::digest::{Digest as _, consts::U8};
use postcard::experimental::max_size::MaxSize;
use serde::{Deserialize, Serialize};

/// An 8-byte content digest.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, MaxSize,
)]
pub struct Digest(pub [u8; 8]);

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        let out = Blake2s::<U8>::digest(bytes);
        let mut d = [0u8; 8];
        d.copy_from_slice(&out);
        Self(d)
    }

    /// The digest of several parts, each length-prefixed so that `["ab", "c"]` and
    /// `["a", "bc"]` differ (used for disk sets: one part per unit serial, sorted).
    pub fn of_parts<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut h = Blake2s::<U8>::new();
        for p in parts {
            h.update((p.len() as u64).to_le_bytes());
            h.update(p);
        }
        let mut d = [0u8; 8];
        d.copy_from_slice(&h.finalize());
        Self(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_differ_for_different_content_and_framing() {
        assert_eq!(Digest::of(b"abc"), Digest::of(b"abc"));
        assert_ne!(Digest::of(b"abc"), Digest::of(b"abd"));
        let a: [&[u8]; 2] = [b"ab", b"c"];
        let b: [&[u8]; 2] = [b"a", b"bc"];
        assert_ne!(Digest::of_parts(a), Digest::of_parts(b));
    }
}
