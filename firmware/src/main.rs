//! BMC firmware for the ASPEED AST1030 (Cortex-M4F), running `failover-core`.
//!
//! This first image proves the toolchain path end to end: it boots on the emulated
//! SoC, prints a banner on the console UART, and emits one authenticated, COBS-framed
//! BMC heartbeat built by the same core the host uses. The BMC role (paths B and L,
//! fences, watchdog) is built on top of it.
#![no_std]
#![no_main]

mod bsp;
mod uart;

use cortex_m_rt::entry;
use failover_core::status::Status;
use failover_core::wire::{
    AGE_NEVER, BmcHeartbeat, Controller, Endpoint, HostLiveness, MAX_FRAME_LEN, MAX_STREAM_FRAME_LEN, MacKey,
    Message, Sender, Station, encode_stream_frame,
};

#[entry]
fn main() -> ! {
    let console = uart::Uart16550::new(bsp::board::CONSOLE_UART_BASE);
    console.write_all(b"failover-firmware ");
    console.write_all(env!("CARGO_PKG_VERSION").as_bytes());
    console.write_all(b" booted\r\n");

    // Boot id 1: the reset-surviving boot counter comes with the BMC role.
    let mut endpoint = Endpoint::new(MacKey::new([0; 32]), Sender::new(Controller::A, Station::Bmc), 1);
    let hello = Message::BmcHeartbeat(BmcHeartbeat {
        host: HostLiveness::Unknown,
        host_age_ms: AGE_NEVER,
        host_status: Status::Electing,
        host_epoch: 0,
        fencing_peer: false,
    });
    let mut frame = [0u8; MAX_FRAME_LEN];
    let mut wire = [0u8; MAX_STREAM_FRAME_LEN];
    // A BMC heartbeat is for the peer BMC (path B); the recipient is bound into its MAC.
    let peer_bmc = Sender::new(Controller::B, Station::Bmc);
    if let Ok(n) = endpoint.seal(&hello, peer_bmc, &mut frame)
        && let Ok(m) = encode_stream_frame(&frame[..n], &mut wire)
    {
        console.write_all(&wire[..m]);
    }
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    // Stop here; the hardware watchdog (once armed) resets the SoC.
    loop {
        cortex_m::asm::wfi();
    }
}
