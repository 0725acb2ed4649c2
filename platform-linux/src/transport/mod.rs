//! Transports: UDP on the dedicated inter-controller link (path H) and COBS frames over
//! a serial port to the local BMC (path L). Both are non-blocking and expose their file
//! descriptor so the heartbeat thread can wait on all of them with one `poll(2)`.

pub mod serial;
pub mod udp;

/// A transport failed; names the endpoint.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// Binding or configuring the UDP socket failed.
    #[error("udp {addr}: {source}")]
    Udp {
        /// The local address.
        addr: std::net::SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// Opening or configuring the serial port failed.
    #[error("serial {path}: {source}")]
    Serial {
        /// The device path.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
}
