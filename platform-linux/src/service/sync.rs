//! Config sync and pool-key escrow between the two controllers' hosts.
//!
//! # What must agree
//! The shared configuration ([`SharedConfig`]: failover settings, host names,
//! interfaces, pools) must be identical on both controllers. Its digest is in every
//! heartbeat; while the two differ, both report `CONFIG_MISMATCH`.
//!
//! # Who pushes, who applies
//! - **Automatic push: the active only.** Every [`CHECK_PERIOD`] the service compares
//!   its digest with the one in the peer's last heartbeat. A controller that is MASTER,
//!   hears the peer on the host link, and has seen the same mismatch on two
//!   consecutive checks (a peer in the middle of an edit or an apply is left alone for
//!   one period; a change made through its own API is pushed at once) pushes its [`SharedConfig::to_toml`] as [`ConfigChunk`]s of
//!   [`CONFIG_CHUNK_LEN`] bytes. If the mismatch persists, the same push is repeated
//!   after [`PUSH_BACKOFF_MIN`], doubling up to [`PUSH_BACKOFF_MAX`] ([`PushPolicy`]),
//!   so a peer that refuses it does not get the link flooded. A standby never pushes
//!   on its own.
//! - **Reassembly** ([`Reassembler`]): chunks may come in any order and repeat; a push
//!   announces its total length (at most [`MAX_CONFIG_LEN`]) and digest; a chunk with
//!   another digest or length starts over. A complete push is parsed with
//!   [`SharedConfig::from_toml`] and accepted only if the digest recomputed from the
//!   parsed values equals the announced one ([`verify`]).
//! - **Automatic apply: a controller that is not active** (BACKUP, ELECTING, ERROR)
//!   applies any verified push. **An active never applies a pushed configuration on its
//!   own**: it is the source of truth. It keeps the verified push for
//!   [`MANUAL_WINDOW`] in case a manual request for it follows.
//! - **Applying** means: the [`ConfigStore`] takes the new shared part (the API, the
//!   effects and the health reporter read it from there), writes the configuration file
//!   atomically with the previous one kept as `<file>.bak` (a restart keeps the new
//!   configuration), and announces the change; the service's follower then sends the new
//!   failover settings to the node and reports health with the new digest (the next
//!   heartbeat carries it, and the mismatch clears on both sides). `boot_listen_ms`,
//!   `reservation_check_ms` and `reset_peer_on_fence` are read at start only; the
//!   virtual IPs held by an active are adjusted at once; pools added or removed are
//!   imported or exported at the next takeover or giveback.
//!
//! Every push and every apply (or refusal) is logged with both digests.
//!
//! # Manual sync (`POST /v1/sync`, `failoverctl sync to-peer|from-peer`)
//! The reference's troubleshooting buttons. Both answer 409 when the peer is not
//! reachable on the host link. The one rule: **a pushed configuration is applied by a
//! standby, and by an active only when an administrator asked for exactly that push**.
//! The intent travels as [`Control::SyncRequest`]:
//! - `to-peer`: we send `SyncRequest { digest: ours, push: true }`, then push ours
//!   (whatever our role). The peer, even if active, applies a push with exactly that
//!   digest received within [`MANUAL_WINDOW`] of the request (or one it already holds).
//!   The call returns once the peer's heartbeat reports our digest, and fails after
//!   [`MANUAL_TIMEOUT`] (re-sending every second meanwhile).
//! - `from-peer`: we note that we asked, then send `SyncRequest { digest: ours, push:
//!   false }`; the peer pushes its configuration whatever its role, and we apply the
//!   push completed within [`MANUAL_WINDOW`] even if we are active. The call returns
//!   once a complete push arrived (applied, or already identical).
//!
//! An edit made through the API on the standby is therefore overwritten by the active's
//! push unless it is sent with `sync to-peer`.
//!
//! # Pool-key escrow
//! See [`super::escrow`] for the key and the nonces. A controller that holds the pool
//! passphrase (from `unlock`, or escrowed to it) escrows it to the peer host as soon as
//! it has it and again every [`ESCROW_REFRESH`] while the peer is reachable on the host
//! link (there is no acknowledgement; a restarted peer gets it within that period). A
//! receiver takes an escrowed key unless it is active and already holds one: the
//! active's key wins, so after `unlock` on the active both hold the new key, while a
//! standby that alone holds a key (unlocked there after both restarted) gives it to the
//! active.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use failover_core::node::Delivered;
use failover_core::status::Status;
use failover_core::wire::{CONFIG_CHUNK_LEN, ConfigChunk, Control, Digest, KeyEscrowChunk, Message};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::{Notify, watch};

use crate::config::SharedConfig;

use super::escrow::KeyVault;
use super::heartbeat::{NodeSender, NodeView, ToNode};
use super::store::{ConfigStore, hex_digest};

/// Largest configuration accepted (and pushed), in bytes.
pub const MAX_CONFIG_LEN: usize = 256 * 1024;
/// How often digests are compared (and escrow refreshed).
pub const CHECK_PERIOD: Duration = Duration::from_millis(500);
/// First wait before the same push is repeated.
pub const PUSH_BACKOFF_MIN: Duration = Duration::from_secs(1);
/// Longest wait between repeats of the same push.
pub const PUSH_BACKOFF_MAX: Duration = Duration::from_secs(30);
/// How long a manual request is honoured (and an unapplied push kept).
pub const MANUAL_WINDOW: Duration = Duration::from_secs(6);
/// How long a manual sync waits for the peer before failing.
pub const MANUAL_TIMEOUT: Duration = Duration::from_secs(5);
/// How often manual requests and pushes are re-sent while waiting.
const MANUAL_RESEND: Duration = Duration::from_secs(1);
/// How often the key is escrowed again while the peer is reachable.
pub const ESCROW_REFRESH: Duration = Duration::from_secs(2);
/// A partial push untouched this long is dropped.
pub const ASSEMBLY_IDLE: Duration = Duration::from_secs(10);
/// Chunks handed to the heartbeat thread at once before a short pause (so a large
/// push does not overflow the peer's socket buffer).
const PACE_CHUNKS: usize = 32;
const PACE_PAUSE: Duration = Duration::from_millis(2);
/// A peer's request for our configuration is answered at most this often.
const ANSWER_INTERVAL: Duration = Duration::from_millis(200);

// ----- reassembly ------------------------------------------------------------------

/// Why a configuration chunk was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    /// The announced length is zero or above [`MAX_CONFIG_LEN`].
    #[error("announced length {0} is not within 1..={MAX_CONFIG_LEN}")]
    BadLength(u32),
    /// The chunk is empty or reaches past the announced length.
    #[error("chunk at offset {offset} with {len} bytes does not fit a {total}-byte configuration")]
    OutOfBounds {
        /// The announced length.
        total: u32,
        /// The chunk's offset.
        offset: u32,
        /// The chunk's length.
        len: usize,
    },
}

#[derive(Debug)]
struct Assembly {
    digest: Digest,
    buf: Vec<u8>,
    have: Vec<bool>,
    missing: usize,
    touched: Instant,
}

/// Puts one configuration push back together (one push at a time: a chunk of another
/// push starts over).
#[derive(Debug, Default)]
pub struct Reassembler {
    current: Option<Assembly>,
}

impl Reassembler {
    /// Take one chunk. Returns the digest and the whole text once every byte arrived.
    pub fn push(
        &mut self,
        now: Instant,
        chunk: &ConfigChunk,
    ) -> Result<Option<(Digest, Vec<u8>)>, ChunkError> {
        let total = chunk.total_len;
        let len = chunk.data.len();
        let total_usize = usize::try_from(total).unwrap_or(usize::MAX);
        if total == 0 || total_usize > MAX_CONFIG_LEN {
            return Err(ChunkError::BadLength(total));
        }
        let offset = usize::try_from(chunk.offset).unwrap_or(usize::MAX);
        if len == 0 || offset.checked_add(len).is_none_or(|end| end > total_usize) {
            return Err(ChunkError::OutOfBounds { total, offset: chunk.offset, len });
        }
        let fresh = self.current.as_ref().is_none_or(|a| {
            a.digest != chunk.digest
                || a.buf.len() != total_usize
                || now.duration_since(a.touched) >= ASSEMBLY_IDLE
        });
        if fresh {
            self.current = Some(Assembly {
                digest: chunk.digest,
                buf: vec![0; total_usize],
                have: vec![false; total_usize],
                missing: total_usize,
                touched: now,
            });
        }
        let Some(a) = self.current.as_mut() else { return Ok(None) };
        a.touched = now;
        a.buf[offset..offset + len].copy_from_slice(&chunk.data);
        for seen in &mut a.have[offset..offset + len] {
            if !*seen {
                *seen = true;
                a.missing -= 1;
            }
        }
        if a.missing > 0 {
            return Ok(None);
        }
        Ok(self.current.take().map(|a| (a.digest, a.buf)))
    }
}

/// Why a complete push was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Not UTF-8.
    #[error("the configuration is not UTF-8 text")]
    NotUtf8,
    /// Not a valid shared configuration (every problem, one a line).
    #[error("the configuration is invalid: {0}")]
    Invalid(String),
    /// Parsed, but its digest is not the announced one.
    #[error("digest mismatch: announced {}, computed {}", hex_digest(*.announced), hex_digest(*.computed))]
    DigestMismatch {
        /// The digest in the chunks.
        announced: Digest,
        /// The digest of what was parsed.
        computed: Digest,
    },
}

/// Parse a reassembled push and check it against its announced digest.
pub fn verify(announced: Digest, bytes: &[u8]) -> Result<SharedConfig, VerifyError> {
    let text = std::str::from_utf8(bytes).map_err(|_| VerifyError::NotUtf8)?;
    let shared = SharedConfig::from_toml(text).map_err(|e| VerifyError::Invalid(e.to_string()))?;
    let computed = shared.digest();
    if computed != announced {
        return Err(VerifyError::DigestMismatch { announced, computed });
    }
    Ok(shared)
}

/// The chunks of a push of `shared`, with its digest; `None` if it is larger than
/// [`MAX_CONFIG_LEN`].
pub fn config_chunks(shared: &SharedConfig) -> Option<(Digest, Vec<ConfigChunk>)> {
    let text = shared.to_toml();
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_CONFIG_LEN {
        return None;
    }
    let digest = shared.digest();
    let total_len = u32::try_from(bytes.len()).ok()?;
    let chunks = bytes
        .chunks(CONFIG_CHUNK_LEN)
        .enumerate()
        .filter_map(|(i, piece)| {
            Some(ConfigChunk {
                digest,
                total_len,
                offset: u32::try_from(i * CONFIG_CHUNK_LEN).ok()?,
                data: heapless::Vec::from_slice(piece).ok()?,
            })
        })
        .collect();
    Some((digest, chunks))
}

// ----- policies ----------------------------------------------------------------------

/// When the active pushes on its own (see the module docs).
#[derive(Debug, Default)]
pub struct PushPolicy {
    /// The mismatch (ours, theirs) seen at the last check.
    seen: Option<(Digest, Digest)>,
    /// The last push of that mismatch, and the wait before repeating it.
    last: Option<((Digest, Digest), Instant, Duration)>,
    /// Our configuration was just edited here: the mismatch is ours, push at once.
    edited_here: bool,
}

impl PushPolicy {
    /// Our configuration changed here (an edit through our API): the next mismatch is
    /// our doing, not a peer in the middle of an apply, so it is pushed without
    /// waiting for a second check.
    pub fn edited_here(&mut self) {
        self.edited_here = true;
    }

    /// Called at every check: whether to push now. `active`: we are MASTER; `link_up`:
    /// the peer is heard on the host link; `theirs`: the digest in its last heartbeat.
    pub fn due(
        &mut self,
        now: Instant,
        active: bool,
        link_up: bool,
        ours: Digest,
        theirs: Option<Digest>,
    ) -> bool {
        let Some(theirs) = theirs.filter(|t| active && link_up && *t != ours) else {
            self.seen = None;
            self.edited_here = false;
            if theirs == Some(ours) {
                self.last = None;
            }
            return false;
        };
        let pair = (ours, theirs);
        if std::mem::take(&mut self.edited_here) {
            self.seen = Some(pair);
        }
        if self.seen != Some(pair) {
            self.seen = Some(pair);
            return false;
        }
        match self.last {
            Some((p, at, wait)) if p == pair => {
                if now.duration_since(at) < wait {
                    return false;
                }
                self.last = Some((pair, now, (wait * 2).min(PUSH_BACKOFF_MAX)));
            }
            _ => self.last = Some((pair, now, PUSH_BACKOFF_MIN)),
        }
        true
    }
}

/// Why a received configuration is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApplyReason {
    /// We are not active: the active's push.
    Automatic,
    /// We asked for it (`sync from-peer` here).
    RequestedByUs,
    /// The peer's administrator sent it with `sync to-peer`.
    PushedByPeerAdmin,
}

impl ApplyReason {
    fn describe(self) -> &'static str {
        match self {
            Self::Automatic => "configuration pushed by the active peer",
            Self::RequestedByUs => "configuration pulled from the peer (manual sync from-peer)",
            Self::PushedByPeerAdmin => "configuration pushed by the peer on request (manual sync to-peer)",
        }
    }
}

/// What to do with a verified push.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// It is what we have already.
    AlreadyCurrent,
    /// Apply it.
    Apply(ApplyReason),
    /// We are active and nobody asked for it: keep ours.
    Refuse,
}

/// Manual requests in force (see the module docs).
#[derive(Debug, Default)]
pub struct Intents {
    /// We asked the peer to push to us (from-peer), until then.
    pub pull_until: Option<Instant>,
    /// The peer asked us to apply its push with this digest, until then.
    pub accept: Option<(Digest, Instant)>,
}

impl Intents {
    /// Decide on a verified push with `digest` (ours is `ours`). Consumes the intent
    /// that allowed it.
    pub fn decide(&mut self, now: Instant, digest: Digest, ours: Digest, active: bool) -> Verdict {
        self.pull_until = self.pull_until.filter(|t| now < *t);
        self.accept = self.accept.filter(|(_, t)| now < *t);
        let pulling = self.pull_until.is_some();
        let accepted = self.accept.is_some_and(|(d, _)| d == digest);
        if digest == ours {
            if accepted {
                self.accept = None;
            }
            return Verdict::AlreadyCurrent;
        }
        if pulling {
            self.pull_until = None;
            Verdict::Apply(ApplyReason::RequestedByUs)
        } else if accepted {
            self.accept = None;
            Verdict::Apply(ApplyReason::PushedByPeerAdmin)
        } else if !active {
            Verdict::Apply(ApplyReason::Automatic)
        } else {
            Verdict::Refuse
        }
    }
}

// ----- the service -------------------------------------------------------------------

/// A manual sync's direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Push ours; the peer applies it whatever its role.
    ToPeer,
    /// Ask for the peer's and apply it whatever our role.
    FromPeer,
}

/// Why a manual sync failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ManualError {
    /// The peer is not heard on the host link.
    #[error("the peer is not reachable on the host link; nothing was synced")]
    PeerUnreachable,
    /// The configuration cannot be pushed (too large).
    #[error("the configuration is larger than {MAX_CONFIG_LEN} bytes and cannot be pushed")]
    TooLarge,
    /// The peer did not confirm in time.
    #[error("{0}")]
    Timeout(String),
    /// The heartbeat thread is gone.
    #[error("the heartbeat thread is not running")]
    Stopped,
}

/// Whether the view shows the peer reachable on the host link.
pub fn peer_reachable(v: &NodeView) -> bool {
    v.status.host_link_age.is_some_and(|a| a < v.settings.failover_timeout)
}

/// Whether the view shows this controller active (or becoming active).
pub fn is_active(v: &NodeView) -> bool {
    matches!(v.status.status, Status::Master | Status::Single | Status::Importing)
}

#[derive(Debug, Default)]
struct Inner {
    reassembler: Reassembler,
    intents: Intents,
    policy: PushPolicy,
    /// A verified push an active did not apply, for a manual request that may follow.
    held: Option<(Digest, SharedConfig, Instant)>,
    /// When we last answered a peer's request for our configuration.
    answered: Option<Instant>,
    /// The key generation last escrowed, and when.
    escrowed: Option<(u64, Instant)>,
}

/// Config sync and key escrow for one controller (see the module docs).
#[derive(Debug)]
pub struct SyncService {
    store: Arc<ConfigStore>,
    vault: Arc<KeyVault>,
    node: NodeSender,
    inner: Mutex<Inner>,
    /// Check now (a key to escrow).
    wake: Notify,
    /// Counts complete pushes received while we were pulling (from-peer).
    pulled: watch::Sender<u64>,
}

impl SyncService {
    /// The service over `store` and `vault`, reaching the node through `node`.
    pub fn new(store: Arc<ConfigStore>, vault: Arc<KeyVault>, node: NodeSender) -> Self {
        Self { store, vault, node, inner: Mutex::default(), wake: Notify::new(), pulled: watch::channel(0).0 }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Run until the node's delivery channel closes: periodic checks, and what the peer
    /// sends.
    pub async fn run(self: Arc<Self>, mut delivered: UnboundedReceiver<Delivered>) {
        let mut tick = tokio::time::interval(CHECK_PERIOD);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut changes = self.store.subscribe();
        loop {
            tokio::select! {
                Ok(()) = changes.changed() => {
                    // On the active every change is a local edit (it never applies a
                    // push on its own); on a standby `due` is false anyway.
                    self.inner().policy.edited_here();
                    self.check().await;
                }
                d = delivered.recv() => match d {
                    Some(d) => self.on_delivered(d).await,
                    None => return,
                },
                _ = tick.tick() => self.check().await,
                () = self.wake.notified() => self.check().await,
            }
        }
    }

    /// Check now (after an unlock: escrow the new key without waiting).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    async fn check(&self) {
        let Some(view) = self.node.snapshot().await else { return };
        let now = Instant::now();
        let reachable = peer_reachable(&view);
        let ours = self.store.digest();
        let theirs = view.status.peer_config_digest;
        let master = view.status.status == Status::Master;
        let due = {
            let mut inner = self.inner();
            inner.held = inner.held.take().filter(|(_, _, at)| now.duration_since(*at) < MANUAL_WINDOW);
            inner.policy.due(now, master, reachable, ours, theirs)
        };
        if due {
            let theirs = theirs.map(hex_digest).unwrap_or_default();
            self.push(false, &format!("automatic push by the active: the peer reports digest {theirs}"))
                .await;
        }
        if reachable {
            self.escrow_if_due(now);
        }
    }

    fn escrow_if_due(&self, now: Instant) {
        let generation = self.vault.generation();
        if generation == 0 {
            return;
        }
        {
            let mut inner = self.inner();
            let due = inner
                .escrowed
                .is_none_or(|(g, at)| g != generation || now.duration_since(at) >= ESCROW_REFRESH);
            if !due {
                return;
            }
            inner.escrowed = Some((generation, now));
        }
        let chunks = self.vault.seal_chunks();
        tracing::debug!(chunks = chunks.len(), "pool key escrowed to the peer");
        for c in chunks {
            self.node.send(ToNode::Send(Message::KeyEscrowChunk(c)));
        }
    }

    /// Push our shared configuration to the peer; `manual` first asks it to apply this
    /// very push whatever its role. Returns the digest pushed.
    async fn push(&self, manual: bool, why: &str) -> Option<Digest> {
        let config = self.store.get();
        let Some((digest, chunks)) = config_chunks(&config.shared) else {
            tracing::error!(why, "configuration too large to push (limit {MAX_CONFIG_LEN} bytes)");
            return None;
        };
        if manual {
            self.node.send(ToNode::Send(Message::Control(Control::SyncRequest { digest, push: true })));
        }
        let n = chunks.len();
        let bytes = chunks.first().map_or(0, |c| c.total_len);
        for (i, c) in chunks.into_iter().enumerate() {
            self.node.send(ToNode::Send(Message::ConfigChunk(c)));
            if (i + 1) % PACE_CHUNKS == 0 {
                tokio::time::sleep(PACE_PAUSE).await;
            }
        }
        tracing::info!(digest = %hex_digest(digest), bytes, chunks = n, why, "configuration pushed to the peer");
        Some(digest)
    }

    async fn on_delivered(&self, d: Delivered) {
        match d {
            Delivered::ConfigChunk(c) => self.on_chunk(c).await,
            Delivered::KeyEscrowChunk(k) => self.on_escrow(k).await,
            Delivered::SyncRequest { digest, push } => self.on_request(digest, push).await,
        }
    }

    async fn on_chunk(&self, c: ConfigChunk) {
        let done = self.inner().reassembler.push(Instant::now(), &c);
        let (digest, bytes) = match done {
            Ok(Some(done)) => done,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(digest = %hex_digest(c.digest), error = %e, "configuration chunk from the peer dropped");
                return;
            }
        };
        let shared = match verify(digest, &bytes) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(digest = %hex_digest(digest), error = %e, "configuration push from the peer refused");
                return;
            }
        };
        let active = match self.node.snapshot().await {
            Some(v) => is_active(&v),
            None => return,
        };
        self.consider(digest, shared, active).await;
    }

    /// Apply a verified push if the rules allow it (see the module docs).
    async fn consider(&self, digest: Digest, shared: SharedConfig, active: bool) {
        let now = Instant::now();
        let ours = self.store.digest();
        let (verdict, pulling) = {
            let mut inner = self.inner();
            let pulling = inner.intents.pull_until.is_some_and(|t| now < t);
            let verdict = inner.intents.decide(now, digest, ours, active);
            if verdict == Verdict::Refuse {
                inner.held = Some((digest, shared.clone(), now));
            }
            (verdict, pulling)
        };
        match verdict {
            Verdict::AlreadyCurrent => {
                tracing::debug!(digest = %hex_digest(digest), "configuration from the peer is already ours");
            }
            Verdict::Refuse => tracing::warn!(
                theirs = %hex_digest(digest), ours = %hex_digest(ours),
                "active: configuration pushed by the peer NOT applied (the active's configuration is \
                 authoritative; use `failoverctl sync from-peer` here to take the peer's)"
            ),
            Verdict::Apply(reason) => {
                let change = self.store.replace_shared(shared, reason.describe()).await;
                tracing::info!(
                    old = %hex_digest(change.old.shared.digest()),
                    new = %hex_digest(change.new.shared.digest()),
                    file = %self.store.path().display(),
                    "configuration applied: {}", reason.describe()
                );
            }
        }
        if pulling && matches!(verdict, Verdict::AlreadyCurrent | Verdict::Apply(ApplyReason::RequestedByUs))
        {
            self.pulled.send_modify(|n| *n += 1);
        }
    }

    async fn on_escrow(&self, k: KeyEscrowChunk) {
        let secret = match self.vault.receive(&k) {
            Ok(Some(s)) => s,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "pool-key escrow chunk from the peer dropped");
                return;
            }
        };
        let active = self.node.snapshot().await.is_some_and(|v| is_active(&v));
        if active && self.vault.holds_key() {
            tracing::debug!("active with a pool key of its own: escrowed key ignored");
            return;
        }
        if self.vault.set(secret) {
            tracing::info!("pool key received in escrow from the peer (held in memory only)");
        }
    }

    async fn on_request(&self, digest: Digest, push: bool) {
        let now = Instant::now();
        if push {
            tracing::info!(digest = %hex_digest(digest), "the peer's administrator pushes its configuration (sync to-peer)");
            let held = {
                let mut inner = self.inner();
                inner.intents.accept = Some((digest, now + MANUAL_WINDOW));
                inner.held.take().filter(|(d, _, at)| *d == digest && now.duration_since(*at) < MANUAL_WINDOW)
            };
            if let Some((d, shared, _)) = held {
                let active = self.node.snapshot().await.is_some_and(|v| is_active(&v));
                self.consider(d, shared, active).await;
            }
        } else {
            {
                let mut inner = self.inner();
                if inner.answered.is_some_and(|at| now.duration_since(at) < ANSWER_INTERVAL) {
                    return;
                }
                inner.answered = Some(now);
            }
            let why = format!(
                "the peer asked for our configuration (sync from-peer; its digest {})",
                hex_digest(digest)
            );
            self.push(false, &why).await;
        }
    }

    /// An administrator's manual sync (see the module docs).
    pub async fn manual(&self, direction: Direction) -> Result<(), ManualError> {
        let view = self.node.snapshot().await.ok_or(ManualError::Stopped)?;
        if !peer_reachable(&view) {
            return Err(ManualError::PeerUnreachable);
        }
        match direction {
            Direction::ToPeer => self.manual_push().await,
            Direction::FromPeer => self.manual_pull().await,
        }
    }

    async fn manual_push(&self) -> Result<(), ManualError> {
        let why = "manual sync to-peer";
        let target = self.push(true, why).await.ok_or(ManualError::TooLarge)?;
        let start = Instant::now();
        let mut sent = start;
        loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let view = self.node.snapshot().await.ok_or(ManualError::Stopped)?;
            if view.status.peer_config_digest == Some(target) {
                tracing::info!(digest = %hex_digest(target), "manual sync to-peer: the peer reports our digest");
                return Ok(());
            }
            if !peer_reachable(&view) {
                return Err(ManualError::PeerUnreachable);
            }
            if start.elapsed() >= MANUAL_TIMEOUT {
                let theirs = view.status.peer_config_digest.map(hex_digest).unwrap_or_else(|| "none".into());
                return Err(ManualError::Timeout(format!(
                    "the peer did not apply our configuration (digest {}) within {} s; it reports {theirs} \
                     (see the peer's log)",
                    hex_digest(target),
                    MANUAL_TIMEOUT.as_secs()
                )));
            }
            if sent.elapsed() >= MANUAL_RESEND {
                sent = Instant::now();
                self.push(true, why).await;
            }
        }
    }

    async fn manual_pull(&self) -> Result<(), ManualError> {
        let mut pulled = self.pulled.subscribe();
        pulled.mark_unchanged();
        let start = Instant::now();
        loop {
            let ours = self.store.digest();
            self.inner().intents.pull_until = Some(Instant::now() + MANUAL_WINDOW);
            self.node
                .send(ToNode::Send(Message::Control(Control::SyncRequest { digest: ours, push: false })));
            tracing::info!(ours = %hex_digest(ours), "manual sync from-peer: asked the peer for its configuration");
            if tokio::time::timeout(MANUAL_RESEND, pulled.changed()).await.is_ok() {
                self.inner().intents.pull_until = None;
                tracing::info!(digest = %hex_digest(self.store.digest()), "manual sync from-peer done");
                return Ok(());
            }
            let view = self.node.snapshot().await.ok_or(ManualError::Stopped)?;
            if !peer_reachable(&view) {
                self.inner().intents.pull_until = None;
                return Err(ManualError::PeerUnreachable);
            }
            if start.elapsed() >= MANUAL_TIMEOUT {
                self.inner().intents.pull_until = None;
                return Err(ManualError::Timeout(format!(
                    "no configuration arrived from the peer within {} s (see the peer's log)",
                    MANUAL_TIMEOUT.as_secs()
                )));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../examples/controller-a.toml");

    fn shared() -> SharedConfig {
        crate::config::parse(EXAMPLE, std::path::Path::new("a.toml")).expect("example parses").shared
    }

    fn chunk(digest: Digest, total: u32, offset: u32, data: &[u8]) -> ConfigChunk {
        ConfigChunk { digest, total_len: total, offset, data: heapless::Vec::from_slice(data).expect("fits") }
    }

    #[test]
    fn a_push_reassembles_in_any_order_with_duplicates() {
        let s = shared();
        let (digest, chunks) = config_chunks(&s).expect("fits");
        assert!(chunks.len() > 3, "the example takes several chunks");
        let now = Instant::now();
        let mut r = Reassembler::default();
        // Reversed, with every chunk but the first sent twice.
        let mut order: Vec<&ConfigChunk> = chunks.iter().rev().collect();
        let dups: Vec<&ConfigChunk> = chunks.iter().skip(1).collect();
        order.splice(1..1, dups);
        let last = order.len() - 1;
        for c in &order[..last] {
            assert_eq!(r.push(now, c), Ok(None));
        }
        let (d, bytes) = r.push(now, order[last]).expect("valid").expect("complete");
        assert_eq!(d, digest);
        assert_eq!(verify(d, &bytes), Ok(s));
    }

    #[test]
    fn a_wrong_digest_or_invalid_text_is_refused() {
        let s = shared();
        let text = s.to_toml();
        let wrong = Digest::of(b"something else");
        assert_eq!(
            verify(wrong, text.as_bytes()),
            Err(VerifyError::DigestMismatch { announced: wrong, computed: s.digest() })
        );
        assert_eq!(verify(wrong, &[0xFF, 0xFE]), Err(VerifyError::NotUtf8));
        assert!(matches!(verify(wrong, b"[node]\ncontroller = \"A\"\n"), Err(VerifyError::Invalid(_))));
        // Chunks that reassemble into a text whose values do not match the digest.
        let tampered = text.replace("hostname_virtual = \"nas\"", "hostname_virtual = \"evil\"");
        assert_ne!(tampered, text);
        let (d, bytes) = assemble(s.digest(), tampered.as_bytes()).expect("complete");
        assert!(matches!(verify(d, &bytes), Err(VerifyError::DigestMismatch { .. })));
    }

    /// Feed `bytes` in order as a push with `digest`; the last chunk's result.
    fn assemble(digest: Digest, bytes: &[u8]) -> Option<(Digest, Vec<u8>)> {
        let mut r = Reassembler::default();
        let total = u32::try_from(bytes.len()).expect("small");
        let mut done = None;
        for (i, piece) in bytes.chunks(CONFIG_CHUNK_LEN).enumerate() {
            let offset = u32::try_from(i * CONFIG_CHUNK_LEN).expect("small");
            done = r.push(Instant::now(), &chunk(digest, total, offset, piece)).expect("valid");
        }
        done
    }

    #[test]
    fn oversize_empty_and_out_of_bounds_chunks_are_dropped() {
        let d = Digest::of(b"x");
        let now = Instant::now();
        let mut r = Reassembler::default();
        let over = u32::try_from(MAX_CONFIG_LEN + 1).expect("small");
        assert_eq!(r.push(now, &chunk(d, over, 0, b"a")), Err(ChunkError::BadLength(over)));
        assert_eq!(r.push(now, &chunk(d, 0, 0, b"a")), Err(ChunkError::BadLength(0)));
        assert!(matches!(r.push(now, &chunk(d, 4, 0, b"")), Err(ChunkError::OutOfBounds { .. })));
        assert!(matches!(r.push(now, &chunk(d, 4, 2, b"abc")), Err(ChunkError::OutOfBounds { .. })));
        assert!(matches!(r.push(now, &chunk(d, 4, u32::MAX, b"a")), Err(ChunkError::OutOfBounds { .. })));
        // The largest allowed length is accepted.
        let max = u32::try_from(MAX_CONFIG_LEN).expect("small");
        assert_eq!(r.push(now, &chunk(d, max, 0, b"a")), Ok(None));
    }

    #[test]
    fn a_new_digest_or_length_restarts_the_assembly() {
        let (d1, d2) = (Digest::of(b"one"), Digest::of(b"two"));
        let now = Instant::now();
        let mut r = Reassembler::default();
        assert_eq!(r.push(now, &chunk(d1, 4, 0, b"ab")), Ok(None));
        // Another push starts: the first one's bytes do not count for it.
        assert_eq!(r.push(now, &chunk(d2, 4, 2, b"cd")), Ok(None));
        assert_eq!(r.push(now, &chunk(d1, 4, 2, b"cd")), Ok(None), "d1 restarted, its first half is gone");
        assert_eq!(r.push(now, &chunk(d1, 4, 0, b"ab")), Ok(Some((d1, b"abcd".to_vec()))));
        // Same digest, another length: also a new push.
        assert_eq!(r.push(now, &chunk(d2, 4, 0, b"ab")), Ok(None));
        assert_eq!(r.push(now, &chunk(d2, 3, 2, b"c")), Ok(None));
        assert_eq!(r.push(now, &chunk(d2, 3, 0, b"ab")), Ok(Some((d2, b"abc".to_vec()))));
        // A stale partial push is dropped.
        assert_eq!(r.push(now, &chunk(d1, 4, 0, b"ab")), Ok(None));
        assert_eq!(r.push(now + ASSEMBLY_IDLE, &chunk(d1, 4, 2, b"cd")), Ok(None));
    }

    #[test]
    fn the_active_pushes_after_a_mismatch_persists_and_backs_off() {
        let (ours, theirs) = (Digest::of(b"ours"), Digest::of(b"theirs"));
        let t = Instant::now();
        let mut p = PushPolicy::default();
        // A standby, or a peer not heard on the host link, is never pushed to.
        assert!(!p.due(t, false, true, ours, Some(theirs)));
        assert!(!p.due(t, false, true, ours, Some(theirs)));
        assert!(!p.due(t, true, false, ours, Some(theirs)));
        assert!(!p.due(t, true, false, ours, Some(theirs)));
        assert!(!p.due(t, true, true, ours, None));
        // The first check only notes the mismatch; the second pushes.
        assert!(!p.due(t, true, true, ours, Some(theirs)));
        assert!(p.due(t + CHECK_PERIOD, true, true, ours, Some(theirs)));
        // Still different: repeated after 1 s, then 2 s, 4 s...
        let mut at = t + CHECK_PERIOD;
        let mut wait = PUSH_BACKOFF_MIN;
        for _ in 0..8 {
            assert!(!p.due(at + wait - Duration::from_millis(1), true, true, ours, Some(theirs)));
            at += wait;
            assert!(p.due(at, true, true, ours, Some(theirs)));
            wait = (wait * 2).min(PUSH_BACKOFF_MAX);
        }
        assert_eq!(wait, PUSH_BACKOFF_MAX);
        // In sync again: forgotten; a new mismatch starts from the beginning.
        assert!(!p.due(at, true, true, ours, Some(ours)));
        assert!(!p.due(at, true, true, ours, Some(theirs)));
        assert!(p.due(at + CHECK_PERIOD, true, true, ours, Some(theirs)));
        // Our own digest changed (an edit): a new mismatch, pushed without the backoff.
        let edited = Digest::of(b"edited");
        assert!(!p.due(at + CHECK_PERIOD, true, true, edited, Some(theirs)));
        assert!(p.due(at + CHECK_PERIOD * 2, true, true, edited, Some(theirs)));
    }

    #[test]
    fn an_edit_made_here_is_pushed_at_the_first_check() {
        let (ours, theirs) = (Digest::of(b"ours"), Digest::of(b"theirs"));
        let t = Instant::now();
        let mut p = PushPolicy::default();
        p.edited_here();
        assert!(p.due(t, true, true, ours, Some(theirs)), "no second check for our own edit");
        // The mark is used once: a later new mismatch waits for its second check again.
        let other = Digest::of(b"other");
        assert!(!p.due(t, true, true, ours, Some(other)));
        // An edit on a standby pushes nothing (and the mark does not outlive it).
        let mut s = PushPolicy::default();
        s.edited_here();
        assert!(!s.due(t, false, true, ours, Some(theirs)));
    }

    #[test]
    fn only_a_standby_applies_on_its_own_an_active_only_on_request() {
        let (ours, theirs, other) = (Digest::of(b"ours"), Digest::of(b"theirs"), Digest::of(b"other"));
        let t = Instant::now();
        let mut i = Intents::default();
        assert_eq!(i.decide(t, ours, ours, false), Verdict::AlreadyCurrent);
        assert_eq!(i.decide(t, theirs, ours, false), Verdict::Apply(ApplyReason::Automatic));
        assert_eq!(i.decide(t, theirs, ours, true), Verdict::Refuse);

        // We asked (from-peer): applied even when active, once.
        i.pull_until = Some(t + MANUAL_WINDOW);
        assert_eq!(i.decide(t, theirs, ours, true), Verdict::Apply(ApplyReason::RequestedByUs));
        assert_eq!(i.decide(t, theirs, ours, true), Verdict::Refuse);
        i.pull_until = Some(t + MANUAL_WINDOW);
        assert_eq!(i.decide(t + MANUAL_WINDOW, theirs, ours, true), Verdict::Refuse, "expired");

        // The peer's administrator pushed (to-peer): only that digest, once.
        i.accept = Some((theirs, t + MANUAL_WINDOW));
        assert_eq!(i.decide(t, other, ours, true), Verdict::Refuse);
        assert_eq!(i.decide(t, theirs, ours, true), Verdict::Apply(ApplyReason::PushedByPeerAdmin));
        assert_eq!(i.decide(t, theirs, ours, true), Verdict::Refuse);
        i.accept = Some((theirs, t + MANUAL_WINDOW));
        assert_eq!(i.decide(t + MANUAL_WINDOW, theirs, ours, true), Verdict::Refuse, "expired");
    }
}
