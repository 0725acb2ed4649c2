//! The administrator's password: an argon2 PHC string in the configuration, made by
//! `failoverd hash-password`, checked at every sign-in.
//!
//! Argon2id with the crate's defaults (19 MiB, 2 passes: OWASP's recommendation) costs
//! tens of milliseconds per check, so a stolen configuration is expensive to guess
//! from and the sign-in handler runs checks on the blocking pool, a few at a time.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};

/// Longest password accepted (argon2 takes any length; a megabyte of it is an attack).
pub const MAX_PASSWORD_LEN: usize = 1024;

/// Why a password cannot be hashed.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// Empty.
    #[error("the password is empty")]
    Empty,
    /// Longer than [`MAX_PASSWORD_LEN`] bytes.
    #[error("the password is longer than {MAX_PASSWORD_LEN} bytes")]
    TooLong,
    /// No random salt could be drawn, or argon2 refused.
    #[error("{0}")]
    Failed(String),
}

/// Hash `password` with argon2id and a random salt: the PHC string for `[ui]
/// password_hash`.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    if password.is_empty() {
        return Err(HashError::Empty);
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(HashError::TooLong);
    }
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| HashError::Failed(format!("no random salt: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| HashError::Failed(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError::Failed(e.to_string()))
}

/// Whether `phc` is an argon2 PHC string this build can check against (for the
/// configuration's validation); the problem in words if not.
pub fn check_phc(phc: &str) -> Result<(), String> {
    let parsed = PasswordHash::new(phc).map_err(|e| e.to_string())?;
    if !matches!(parsed.algorithm.as_str(), "argon2id" | "argon2i" | "argon2d") {
        return Err(format!("algorithm `{}` is not argon2id, argon2i or argon2d", parsed.algorithm));
    }
    if parsed.hash.is_none() || parsed.salt.is_none() {
        return Err("the salt or the hash is missing".into());
    }
    argon2::Params::try_from(&parsed).map_err(|e| format!("bad parameters: {e}"))?;
    Ok(())
}

/// Whether `password` matches `phc`. A malformed `phc` matches nothing (the
/// configuration check rejects one before the service starts). Slow on purpose: call
/// it off the async threads.
pub fn verify(password: &str, phc: &str) -> bool {
    if password.len() > MAX_PASSWORD_LEN {
        return false;
    }
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// "secret" with the cheapest parameters argon2 allows, so debug-build tests stay
    /// fast (verification reads the parameters from the string).
    pub(crate) const CHEAP_SECRET: &str =
        "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0$WHwbVkQ5XzAMaltcqwxy+X9v0VxYTVTjS9BRTrowawM";

    #[test]
    fn the_cheap_test_hash_is_secret() {
        assert_eq!(check_phc(CHEAP_SECRET), Ok(()));
        assert!(verify("secret", CHEAP_SECRET));
        assert!(!verify("Secret", CHEAP_SECRET));
        assert!(!verify("", CHEAP_SECRET));
    }

    #[test]
    fn hashes_verify_and_are_salted() {
        let a = hash_password("pw").expect("hash");
        let b = hash_password("pw").expect("hash");
        assert_ne!(a, b, "two hashes of one password must differ by their salt");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_eq!(check_phc(&a), Ok(()));
        assert!(verify("pw", &a));
        assert!(!verify("pw ", &a));
    }

    #[test]
    fn refuses_empty_and_huge_passwords() {
        assert_eq!(hash_password(""), Err(HashError::Empty));
        assert_eq!(hash_password(&"x".repeat(MAX_PASSWORD_LEN + 1)), Err(HashError::TooLong));
        assert!(!verify(&"x".repeat(MAX_PASSWORD_LEN + 1), CHEAP_SECRET));
    }

    #[test]
    fn check_phc_names_the_problem() {
        assert!(check_phc("").is_err());
        assert!(check_phc("hunter2").is_err());
        let bcrypt_like = "$pbkdf2-sha256$i=1000$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";
        assert!(check_phc(bcrypt_like).unwrap_err().contains("not argon2id"), "{:?}", check_phc(bcrypt_like));
        assert!(check_phc("$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0").is_err());
        assert!(!verify("secret", "garbage"));
    }
}
