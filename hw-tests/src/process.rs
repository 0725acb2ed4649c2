//! Child processes of the runner.

use std::io;
use std::os::unix::process::CommandExt as _;
use std::process::Command;

/// Have `cmd`'s child killed (SIGKILL) when the thread that spawns it ends: a runner
/// that is killed or panics leaves no daemon, emulator or browser behind. The setting
/// survives the child's own exec (`ip netns exec`, chromedriver's browser is its own).
pub fn dies_with_runner(cmd: &mut Command) -> &mut Command {
    // SAFETY: the closure runs in the child between fork and exec and only calls
    // prctl(2), which is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        })
    }
}
