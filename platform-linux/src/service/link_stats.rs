//! Per-path frame counters for `/metrics`: frames accepted, rejected, and lost.
//!
//! Loss is read off the sequence numbers of accepted frames: every sender numbers the
//! frames it sends to one recipient strictly upwards (per boot), so a jump from 7 to
//! 10 on a path means two frames of that sender were lost (or arrived too late to be
//! useful, which for a heartbeat is the same). Counted per (path, sender); a new boot
//! id starts the count afresh. Reordered frames are rejected as replays by the core
//! and never count as accepted.

use failover_core::node::Path;
use failover_core::wire::HEADER_LEN;

/// The counters of one path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PathCounters {
    /// Frames authenticated and taken.
    pub accepted: u64,
    /// Frames dropped (garbled, forged, replayed, for someone else).
    pub rejected: u64,
    /// Frames missing between accepted ones (sequence gaps).
    pub lost: u64,
}

/// Where the last accepted frame of one sender on one path left its sequence.
#[derive(Clone, Copy, Debug)]
struct LastSeen {
    sender: u8,
    boot_id: u32,
    seq: u64,
}

/// Counters for every path the heartbeat thread reads.
#[derive(Clone, Debug, Default)]
pub struct LinkStats {
    counters: [PathCounters; 3],
    last: [[Option<LastSeen>; 4]; 3],
}

const fn slot(path: Path) -> usize {
    match path {
        Path::HostLink => 0,
        Path::BmcLink => 1,
        Path::Local => 2,
    }
}

impl LinkStats {
    /// Count a frame the node accepted; `frame` is the whole frame (its header valid).
    pub fn accepted(&mut self, path: Path, frame: &[u8]) {
        let p = slot(path);
        self.counters[p].accepted += 1;
        let Some(header) = frame.get(..HEADER_LEN) else { return };
        let sender = header[4];
        let boot_id = u32::from_le_bytes([header[5], header[6], header[7], header[8]]);
        let mut seq = [0u8; 8];
        seq.copy_from_slice(&header[9..17]);
        let seq = u64::from_le_bytes(seq);
        let Some(entry) = self.last[p].get_mut(usize::from(sender & 3)) else { return };
        if let Some(prev) = entry
            && prev.sender == sender
            && prev.boot_id == boot_id
            && seq > prev.seq
        {
            self.counters[p].lost += seq - prev.seq - 1;
        }
        *entry = Some(LastSeen { sender, boot_id, seq });
    }

    /// Count a frame the node rejected.
    pub fn rejected(&mut self, path: Path) {
        self.counters[slot(path)].rejected += 1;
    }

    /// The counters of `path`.
    pub fn get(&self, path: Path) -> PathCounters {
        self.counters[slot(path)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(sender: u8, boot: u32, seq: u64) -> Vec<u8> {
        let mut f = vec![0xFA, 0x11, 1, 1, sender];
        f.extend_from_slice(&boot.to_le_bytes());
        f.extend_from_slice(&seq.to_le_bytes());
        f.extend_from_slice(&[0; 20]);
        f
    }

    #[test]
    fn sequence_gaps_count_as_lost_per_sender_and_boot() {
        let mut s = LinkStats::default();
        for seq in [1, 2, 5, 6, 10] {
            s.accepted(Path::HostLink, &frame(1, 7, seq));
        }
        assert_eq!(s.get(Path::HostLink), PathCounters { accepted: 5, rejected: 0, lost: 2 + 3 });
        // A restart (new boot id) starts afresh: seq 1 after 10 is no loss.
        s.accepted(Path::HostLink, &frame(1, 8, 1));
        s.accepted(Path::HostLink, &frame(1, 8, 2));
        assert_eq!(s.get(Path::HostLink).lost, 5);
        // Another sender on another path has its own sequence.
        s.accepted(Path::Local, &frame(2, 1, 100));
        s.accepted(Path::Local, &frame(2, 1, 102));
        s.rejected(Path::Local);
        assert_eq!(s.get(Path::Local), PathCounters { accepted: 2, rejected: 1, lost: 1 });
        assert_eq!(s.get(Path::HostLink).rejected, 0);
    }

    #[test]
    fn a_short_frame_is_counted_but_never_panics() {
        let mut s = LinkStats::default();
        s.accepted(Path::HostLink, &[0xFA]);
        assert_eq!(s.get(Path::HostLink), PathCounters { accepted: 1, rejected: 0, lost: 0 });
    }
}
