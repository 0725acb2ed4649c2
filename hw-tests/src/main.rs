//! The hardware-in-the-loop runner: `cargo run --release -p hw-tests -- run <suite>`.
//!
//! Every suite prints one line per case and ends with `N passed, N failed`; the exit
//! code is non-zero when anything failed.

fn main() {
    std::process::exit(hw_tests::cli::main(std::env::args().skip(1).collect()));
}
