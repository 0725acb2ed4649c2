//! Cross-site request forgery: every form carries its session's token in the hidden
//! field [`FIELD`], and every POST is checked against it (constant time). Behind that,
//! a POST whose `Origin` header names another origin is refused outright: browsers
//! send it on form posts, so a page of another site (or another port of this host,
//! which SameSite cookies do not separate) cannot act even with a leaked token.

use std::fmt;

use subtle::ConstantTimeEq as _;

/// The form field holding the token.
pub const FIELD: &str = "csrf";

/// A per-session token: 32 random bytes, hex.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// A fresh random token.
    pub fn random() -> Result<Self, getrandom::Error> {
        let mut b = [0u8; 32];
        getrandom::getrandom(&mut b)?;
        Ok(Self(hex::encode(b)))
    }

    /// The value for the hidden field.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the submitted value is this token (constant time; absent never is).
    pub fn matches(&self, submitted: Option<&str>) -> bool {
        submitted
            .is_some_and(|s| s.len() == self.0.len() && bool::from(s.as_bytes().ct_eq(self.0.as_bytes())))
    }
}

impl fmt::Debug for Token {
    /// Never printed: a token in a log is a token for anyone who reads the log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(..)")
    }
}

/// Whether a POST's `Origin` header is acceptable: absent (older clients, scripts), or
/// exactly `scheme://host` of the request.
pub fn origin_ok(origin: Option<&str>, host: Option<&str>, tls: bool) -> bool {
    let Some(origin) = origin else { return true };
    let Some(host) = host else { return false };
    let scheme = if tls { "https" } else { "http" };
    origin == format!("{scheme}://{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_only_themselves() {
        let t = Token::random().expect("token");
        let other = Token::random().expect("token");
        assert_ne!(t, other);
        assert_eq!(t.as_str().len(), 64);
        assert!(t.matches(Some(t.as_str())));
        assert!(!t.matches(Some(other.as_str())));
        assert!(!t.matches(None));
        assert!(!t.matches(Some("")));
        assert!(!t.matches(Some(&t.as_str()[..63])));
        assert!(!t.matches(Some(&format!("{}0", t.as_str()))));
        assert_eq!(format!("{t:?}"), "Token(..)");
    }

    #[test]
    fn origins_must_be_this_one() {
        assert!(origin_ok(None, Some("127.0.0.1:8443"), false));
        assert!(origin_ok(Some("http://127.0.0.1:8443"), Some("127.0.0.1:8443"), false));
        assert!(origin_ok(Some("https://nas:8443"), Some("nas:8443"), true));
        assert!(!origin_ok(Some("http://127.0.0.1:8444"), Some("127.0.0.1:8443"), false));
        assert!(!origin_ok(Some("http://nas:8443"), Some("nas:8443"), true), "scheme must match");
        assert!(!origin_ok(Some("null"), Some("nas:8443"), false));
        assert!(!origin_ok(Some("http://evil.example"), None, false));
    }
}
