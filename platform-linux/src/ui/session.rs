//! Sessions of the web UI: random ids in an HttpOnly, SameSite=Strict cookie, each
//! with its own CSRF token, ended after an idle time.
//!
//! A visitor gets a *pending* session when the sign-in page is shown, so even the
//! sign-in form carries a token bound to a cookie (no login CSRF); a correct password
//! replaces it with a fresh *signed-in* session under a new id (no session fixation).
//! Both kinds are capped in number: a flood of sign-in page views evicts only pending
//! sessions, and a new sign-in beyond the cap ends the least recently used one.
//!
//! The store takes `now` in every call rather than reading the clock, so expiry is
//! tested with scripted time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::csrf::Token;

/// Most signed-in sessions at once.
pub const MAX_SIGNED_IN: usize = 32;
/// Most pending (sign-in page) sessions at once.
pub const MAX_PENDING: usize = 256;
/// A pending session lives this long: enough to type a password.
pub const PENDING_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// A signed-in session ends this long after sign-in however busy it is (an idle limit
/// alone lets a polling tab, or a stolen cookie in use, live for ever).
pub const MAX_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// A session id: 32 random bytes, hex in the cookie.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SessionId(String);

impl SessionId {
    fn random() -> Result<Self, getrandom::Error> {
        let mut b = [0u8; 32];
        getrandom::getrandom(&mut b)?;
        Ok(Self(hex::encode(b)))
    }

    /// The cookie value.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An id from a cookie value, if it has the form of one.
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
            .then(|| Self(s.to_owned()))
    }
}

/// A one-shot message shown on the next page (after a redirect).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flash {
    /// `true` for a success, `false` for a refusal or failure.
    pub ok: bool,
    /// The message.
    pub text: String,
}

/// What a handler sees of a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionView {
    /// The id.
    pub id: SessionId,
    /// The session's CSRF token, for forms.
    pub csrf: Token,
    /// Whether the password was given.
    pub signed_in: bool,
}

#[derive(Debug)]
struct Session {
    csrf: Token,
    signed_in: bool,
    created: Instant,
    last_used: Instant,
    flash: Option<Flash>,
}

/// Why no session could be created.
#[derive(Debug, thiserror::Error)]
#[error("no random session id: {0}")]
pub struct NoRandomness(#[from] getrandom::Error);

/// The sessions of one UI.
#[derive(Debug)]
pub struct SessionStore {
    idle: Duration,
    sessions: Mutex<HashMap<SessionId, Session>>,
}

impl SessionStore {
    /// Signed-in sessions end after `idle` without a page view or action.
    pub fn new(idle: Duration) -> Self {
        Self { idle, sessions: Mutex::new(HashMap::new()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Session>> {
        // A panic elsewhere while holding the lock leaves a map that is still
        // consistent (every change is a single insert or remove).
        self.sessions.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn alive(&self, s: &Session, now: Instant) -> bool {
        let age = now.saturating_duration_since(s.created);
        let idle = now.saturating_duration_since(s.last_used);
        if s.signed_in { idle < self.idle && age < MAX_LIFETIME } else { age < PENDING_LIFETIME }
    }

    /// A new pending session for the sign-in page.
    pub fn create_pending(&self, now: Instant) -> Result<SessionView, NoRandomness> {
        self.insert(false, now)
    }

    fn insert(&self, signed_in: bool, now: Instant) -> Result<SessionView, NoRandomness> {
        let id = SessionId::random()?;
        let csrf = Token::random()?;
        let mut map = self.lock();
        map.retain(|_, s| self.alive(s, now));
        let cap = if signed_in { MAX_SIGNED_IN } else { MAX_PENDING };
        if map.values().filter(|s| s.signed_in == signed_in).count() >= cap {
            let oldest = map
                .iter()
                .filter(|(_, s)| s.signed_in == signed_in)
                .min_by_key(|(_, s)| s.last_used)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                map.remove(&k);
                if signed_in {
                    tracing::warn!("UI: too many sessions; the least recently used one was ended");
                }
            }
        }
        let session = Session { csrf: csrf.clone(), signed_in, created: now, last_used: now, flash: None };
        map.insert(id.clone(), session);
        Ok(SessionView { id, csrf, signed_in })
    }

    /// The session `id` if it is alive. `touch` counts this as use (a page view or an
    /// action); the status polls of an open page do not, so an unattended tab still
    /// times out.
    pub fn get(&self, id: &SessionId, now: Instant, touch: bool) -> Option<SessionView> {
        let mut map = self.lock();
        let alive = map.get(id).is_some_and(|s| self.alive(s, now));
        if !alive {
            map.remove(id);
            return None;
        }
        let s = map.get_mut(id)?;
        if touch {
            s.last_used = now;
        }
        Some(SessionView { id: id.clone(), csrf: s.csrf.clone(), signed_in: s.signed_in })
    }

    /// Sign in: end `pending` (if any) and start a signed-in session under a new id.
    pub fn sign_in(&self, pending: Option<&SessionId>, now: Instant) -> Result<SessionView, NoRandomness> {
        if let Some(p) = pending {
            self.lock().remove(p);
        }
        self.insert(true, now)
    }

    /// End a session.
    pub fn end(&self, id: &SessionId) {
        self.lock().remove(id);
    }

    /// Leave a message for the session's next page.
    pub fn set_flash(&self, id: &SessionId, ok: bool, text: impl Into<String>) {
        if let Some(s) = self.lock().get_mut(id) {
            s.flash = Some(Flash { ok, text: text.into() });
        }
    }

    /// Take the session's message, if any.
    pub fn take_flash(&self, id: &SessionId) -> Option<Flash> {
        self.lock().get_mut(id).and_then(|s| s.flash.take())
    }

    /// Sessions held (alive or not yet swept), for tests and metrics.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDLE: Duration = Duration::from_secs(30 * 60);

    #[test]
    fn ids_are_random_hex_and_parse_strictly() {
        let store = SessionStore::new(IDLE);
        let now = Instant::now();
        let a = store.create_pending(now).expect("session");
        let b = store.create_pending(now).expect("session");
        assert_ne!(a.id, b.id);
        assert_ne!(a.csrf, b.csrf);
        assert_eq!(SessionId::parse(a.id.as_str()), Some(a.id.clone()));
        assert_eq!(SessionId::parse("abc"), None);
        assert_eq!(SessionId::parse(&"G".repeat(64)), None);
        assert_eq!(SessionId::parse(&"A".repeat(64)), None, "upper case is not what we issue");
    }

    #[test]
    fn sign_in_replaces_the_pending_session_with_a_new_id() {
        let store = SessionStore::new(IDLE);
        let now = Instant::now();
        let pending = store.create_pending(now).expect("session");
        assert!(!pending.signed_in);
        let s = store.sign_in(Some(&pending.id), now).expect("session");
        assert!(s.signed_in);
        assert_ne!(s.id, pending.id);
        assert_ne!(s.csrf, pending.csrf);
        assert_eq!(store.get(&pending.id, now, true), None, "the pending id is gone");
        assert_eq!(store.get(&s.id, now, true).map(|v| v.signed_in), Some(true));
    }

    #[test]
    fn idle_sessions_expire_and_use_extends_them() {
        let store = SessionStore::new(IDLE);
        let t0 = Instant::now();
        let s = store.sign_in(None, t0).expect("session");
        let t1 = t0 + IDLE - Duration::from_secs(1);
        assert!(store.get(&s.id, t1, true).is_some());
        // Touched at t1: alive until t1 + IDLE.
        assert!(store.get(&s.id, t1 + IDLE - Duration::from_secs(1), false).is_some());
        // A poll (no touch) does not extend it.
        assert!(store.get(&s.id, t1 + IDLE, false).is_none());
        assert!(store.is_empty(), "an expired session is removed when seen");
    }

    #[test]
    fn sessions_end_at_the_absolute_limit_however_busy() {
        let store = SessionStore::new(IDLE);
        let t0 = Instant::now();
        let s = store.sign_in(None, t0).expect("session");
        let mut t = t0;
        while t < t0 + MAX_LIFETIME - IDLE {
            t += IDLE / 2;
            assert!(store.get(&s.id, t, true).is_some());
        }
        assert!(store.get(&s.id, t0 + MAX_LIFETIME, true).is_none());
    }

    #[test]
    fn pending_sessions_expire_and_are_capped_without_touching_signed_in_ones() {
        let store = SessionStore::new(IDLE);
        let t0 = Instant::now();
        let admin = store.sign_in(None, t0).expect("session");
        let first = store.create_pending(t0).expect("session");
        for i in 0..MAX_PENDING + 10 {
            store.create_pending(t0 + Duration::from_millis(i as u64 + 1)).expect("session");
        }
        assert_eq!(store.len(), MAX_PENDING + 1);
        assert!(store.get(&first.id, t0, false).is_none(), "the oldest pending session was evicted");
        assert!(store.get(&admin.id, t0, false).is_some(), "a flood of pending sessions keeps the admin's");
        let p = store.create_pending(t0).expect("session");
        assert!(store.get(&p.id, t0 + PENDING_LIFETIME, false).is_none());
    }

    #[test]
    fn signed_in_sessions_are_capped_least_recently_used_first() {
        let store = SessionStore::new(IDLE);
        let t0 = Instant::now();
        let ids: Vec<_> = (0..MAX_SIGNED_IN)
            .map(|i| store.sign_in(None, t0 + Duration::from_millis(i as u64)).expect("session").id)
            .collect();
        // The first is used again, so the second is the least recently used.
        let t1 = t0 + Duration::from_secs(1);
        assert!(store.get(&ids[0], t1, true).is_some());
        store.sign_in(None, t1).expect("session");
        assert!(store.get(&ids[0], t1, false).is_some());
        assert!(store.get(&ids[1], t1, false).is_none());
    }

    #[test]
    fn flash_is_shown_once_and_end_ends() {
        let store = SessionStore::new(IDLE);
        let now = Instant::now();
        let s = store.sign_in(None, now).expect("session");
        store.set_flash(&s.id, false, "timeout_ms: too long");
        assert_eq!(store.take_flash(&s.id), Some(Flash { ok: false, text: "timeout_ms: too long".into() }));
        assert_eq!(store.take_flash(&s.id), None);
        store.end(&s.id);
        assert!(store.get(&s.id, now, true).is_none());
    }
}
