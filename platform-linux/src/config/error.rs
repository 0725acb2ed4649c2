//! Configuration errors: every problem found, each naming the file, the key and why.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use failover_core::node::SettingsError;

/// One problem in a configuration file.
///
/// Displayed as `<file>: <key>: <reason>` (`<file>: <reason>` when the problem is
/// not tied to one key, such as a file that cannot be read or a TOML syntax error).
#[derive(Debug, thiserror::Error)]
pub struct ConfigError {
    /// The configuration file (or `<shared>` for a configuration received by sync).
    pub file: PathBuf,
    /// Dotted path of the offending key, such as `interfaces[1].vhid`; empty when the
    /// problem concerns the whole file.
    pub key: String,
    /// What is wrong.
    #[source]
    pub reason: Reason,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file.display(), self.reason)
        } else {
            write!(f, "{}: {}: {}", self.file.display(), self.key, self.reason)
        }
    }
}

/// All the problems found in one configuration file, in the order found (the file is
/// read to the end, so an administrator can fix everything in one pass).
#[derive(Debug, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// The problems.
    pub fn errors(&self) -> &[ConfigError] {
        &self.0
    }

    /// Whether some problem concerns `key` exactly.
    pub fn has_key(&self, key: &str) -> bool {
        self.0.iter().any(|e| e.key == key)
    }

    /// The first problem concerning `key` exactly.
    pub fn find(&self, key: &str) -> Option<&Reason> {
        self.0.iter().find(|e| e.key == key).map(|e| &e.reason)
    }
}

impl fmt::Display for ConfigErrors {
    /// One problem per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Why a key (or the file) was rejected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Reason {
    /// A file could not be read (the configuration file itself, or the key file).
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The file is not valid TOML.
    #[error("TOML syntax error at line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// A key (or section) this version does not know: a typo, or a setting from a
    /// newer version. Rejected rather than ignored, so a misspelt setting never
    /// silently keeps its default.
    #[error("unknown key{}", known_keys(expected))]
    UnknownKey {
        /// The keys accepted here, as a list such as `` `name`, `critical` `` (empty
        /// when none are).
        expected: String,
    },
    /// A required key or section is absent.
    #[error("required key is missing")]
    Missing,
    /// The value has the wrong type (a string where a number is expected, ...).
    #[error("{message}")]
    WrongType {
        /// The deserializer's message.
        message: String,
    },
    /// Not a controller name.
    #[error("must be \"A\" or \"B\", found {found:?}")]
    Controller {
        /// The value given.
        found: String,
    },
    /// Not an `ip:port` socket address.
    #[error("must be a socket address such as 169.254.10.1:7600 or [fe80::1]:7600, found {found:?}")]
    SocketAddr {
        /// The value given.
        found: String,
    },
    /// A socket address with port 0.
    #[error("port must not be 0")]
    PortZero,
    /// The link's peer address equals its local address.
    #[error("must differ from link.local ({addr})")]
    SameAddress {
        /// The address given for both.
        addr: SocketAddr,
    },
    /// The key file holds neither 32 raw bytes nor 64 hex characters.
    #[error("key file {}: {problem}", path.display())]
    KeyFile {
        /// The key file.
        path: PathBuf,
        /// What is wrong with its contents.
        problem: KeyProblem,
    },
    /// The failover settings are out of range (see [`failover_core::node::Settings`]).
    #[error("{0}")]
    Settings(SettingsError),
    /// The boot listening time is shorter than the failover timeout: a node booting
    /// next to a healthy active would decide before it could have heard it.
    #[error("must be at least failover.timeout_ms ({timeout_ms} ms), found {found} ms")]
    BootListenTooShort {
        /// The value given.
        found: u64,
        /// The failover timeout.
        timeout_ms: u64,
    },
    /// A number outside its range.
    #[error("must be between {min} and {max}, found {found}")]
    OutOfRange {
        /// The value given.
        found: i64,
        /// Smallest accepted.
        min: i64,
        /// Largest accepted.
        max: i64,
    },
    /// Not a valid RFC 1123 host name.
    #[error("{found:?} is not a valid host name: {problem}")]
    Hostname {
        /// The value given.
        found: String,
        /// What is wrong.
        problem: HostnameProblem,
    },
    /// Both controllers were given the same host name.
    #[error("must differ from network.hostname_a ({name:?})")]
    SameHostname {
        /// The name given for both.
        name: String,
    },
    /// An empty string or list where a value is required.
    #[error("must not be empty")]
    Empty,
    /// A value that must be unique appears twice.
    #[error("{value} is already used by {other}")]
    Duplicate {
        /// The repeated value.
        value: String,
        /// The key that uses it first.
        other: String,
    },
    /// A critical interface without a failover group (the reference's rule).
    #[error("a critical interface needs a failover group")]
    CriticalWithoutGroup,
    /// An interface with virtual addresses but no VHID.
    #[error("an interface with virtual addresses needs a vhid")]
    VirtualWithoutVhid,
    /// Not an `address/prefix` pair.
    #[error(
        "must be an address with a prefix length such as 192.168.1.10/24 or fd00::10/64, found {found:?}"
    )]
    Address {
        /// The value given.
        found: String,
    },
    /// The address lists of an interface differ in length (the reference's rule:
    /// every virtual address pairs with one address on each controller; without
    /// virtual addresses, A's and B's lists must still pair up).
    #[error(
        "interface {interface:?}: addresses_a ({a}), addresses_b ({b}) and virtual ({virtual_}) must hold the same number of addresses (virtual may be empty)"
    )]
    AddressCounts {
        /// The interface.
        interface: String,
        /// Length of `addresses_a`.
        a: usize,
        /// Length of `addresses_b`.
        b: usize,
        /// Length of `virtual`.
        virtual_: usize,
    },
    /// More critical failover groups than a heartbeat can report.
    #[error("at most {max} distinct failover groups may be critical, found {found}")]
    TooManyGroups {
        /// Groups configured.
        found: usize,
        /// The limit ([`failover_core::wire::MAX_GROUPS`]).
        max: usize,
    },
    /// Not a Linux network interface name.
    #[error("{found:?} is not a network interface name (1-15 characters, no '/', ':' or whitespace)")]
    InterfaceName {
        /// The value given.
        found: String,
    },
    /// Not a ZFS pool name.
    #[error(
        "{found:?} is not a pool name (a letter, then letters, digits, '_', '-', '.' or ':'; at most 255 characters)"
    )]
    PoolName {
        /// The value given.
        found: String,
    },
    /// A backend `kind` this version does not know.
    #[error("unknown kind {found:?}, expected one of {expected}")]
    UnknownKind {
        /// The value given.
        found: String,
        /// The kinds accepted.
        expected: &'static str,
    },
    /// Not an argon2 password hash in PHC form.
    #[error(
        "not an argon2 PHC string ($argon2id$v=19$m=...): {problem}; make one with `failoverd hash-password`"
    )]
    PasswordHash {
        /// What is wrong.
        problem: String,
    },
    /// One of `tls_cert` / `tls_key` without the other.
    #[error("required when {other} is set")]
    RequiredWith {
        /// The key that is set.
        other: &'static str,
    },
    /// A TLS certificate or key file that cannot be used.
    #[error("{}: {problem}", path.display())]
    Tls {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// A serial speed the kernel cannot set.
    #[error("{found} is not a standard serial speed (such as 9600, 115200, 921600)")]
    Baud {
        /// The value given.
        found: i64,
    },
}

fn known_keys(expected: &str) -> String {
    if expected.is_empty() { String::new() } else { format!(" (expected one of {expected})") }
}

/// What is wrong with the contents of a key file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyProblem {
    /// Neither 32 bytes nor 64 characters (plus an optional newline).
    #[error("holds {len} bytes; expected 32 raw bytes or 64 hex characters and an optional newline")]
    Length {
        /// The file's length.
        len: usize,
    },
    /// 64 characters, but not all hexadecimal digits.
    #[error("holds 64 characters that are not all hex digits")]
    NotHex,
}

/// Why a host name is not valid (RFC 1123).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HostnameProblem {
    /// Empty, or longer than 253 characters.
    #[error("must be 1 to 253 characters long")]
    Length,
    /// A label (between dots) empty or longer than 63 characters.
    #[error("each dot-separated label must be 1 to 63 characters long")]
    LabelLength,
    /// A character other than `a-z`, `0-9`, `-` and `.`.
    #[error("only lowercase letters, digits, '-' and '.' are allowed")]
    Character,
    /// A label starting or ending with `-`.
    #[error("a label must not start or end with '-'")]
    Hyphen,
}
