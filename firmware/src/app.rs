//! The BMC role's main loop: the core's [`BmcNode`] driven by the board's drivers.
//!
//! One pass at every deadline of the core or the fences (SysTick ends the `wfi`), and
//! whenever a path UART has data (its receive interrupt ends the `wfi`):
//! 1. `now` from the monotonic timer; the host's power input to `handle_health` when
//!    it changes;
//! 2. received bytes of paths L and B through the stream decoders into
//!    `handle_frame` (every outcome counted per path);
//! 3. `handle_timeout` once its deadline passed: a heartbeat to the peer BMC, a relay
//!    to the host, and one [`Action::KickWatchdog`];
//! 4. actions: kick the watchdog, cut / restore the peer's enclosure ports, pulse the
//!    peer host's reset; a cut's outcome goes back as a completion;
//! 5. frames out (COBS into the transmit queues), events and status changes to the
//!    console, the host-fault line, the epoch into the reset-surviving record;
//! 6. transmit queues to the UARTs, then sleep.
//!
//! The watchdog is kicked only by the action the core emits once per tick, so it is
//! kicked only while this loop runs and the core's timer fires; a stalled loop is
//! reset after `watchdog_ms`. Nothing in a pass waits: UART output is queued, I2C
//! transfers are bounded, the reset pulse ends in a later pass. No allocation: the
//! state is one static (about 7 KiB), every buffer a fixed array; the stack peaks at
//! about 3.7 KiB (the `memory` report measures it).

use core::mem::MaybeUninit;
use core::ptr::addr_of_mut;

use cortex_m::peripheral::{NVIC, SCB, SYST};
use embedded_hal::digital::{InputPin, OutputPin};
use failover_core::node::{Action, BmcHealth, BmcNode, BmcStatus, Completion, Path};
use failover_core::time::{Duration, Instant};
use failover_core::wire::{HostLiveness, MAX_FRAME_LEN};

use crate::bsp::{Board, Irq, board};
use crate::config;
use crate::console::{Console, Line};
use crate::drivers::gpio::{Input, Output};
use crate::drivers::timer::{Monotonic, Tick};
use crate::drivers::wdt::Watchdog;
use crate::fence::Fence;
use crate::link::Link;
use crate::persist::{self, BootInfo, Intent};
use crate::report;

/// How often the console gets the path counters (and the stack's high-water mark),
/// when frames were dropped since.
const COUNTERS_EVERY: Duration = Duration::from_secs(10);

/// Everything the loop owns.
struct App {
    node: BmcNode,
    host: Link,
    peer: Link,
    console: Console,
    fence: Fence,
    clock: Monotonic,
    tick: Tick,
    watchdog: Watchdog,
    host_fault: Output,
    host_in_reset: Input,
    host_powered: bool,
    last_status: Option<BmcStatus>,
    persisted_epoch: u64,
    /// When the counters were last printed, and their totals then.
    counters_at: Instant,
    counters_seen: (u32, u32),
    wake_irqs: [Irq; 2],
}

/// Set up from `board`, report the boot, arm the watchdog and run forever.
pub(crate) fn run(board: Board, syst: SYST) -> ! {
    let boot = persist::boot();
    let Board {
        console,
        host,
        peer,
        mut clock,
        watchdog,
        fence_bus,
        fence_address,
        fence_standin,
        cut_peer_ports,
        reset_peer_host,
        host_fault,
        host_in_reset,
        wake_irqs,
    } = board;
    let now = clock.now();
    let fence = Fence::new(
        config::CONTROLLER.peer(),
        fence_bus,
        fence_address,
        fence_standin,
        cut_peer_ports,
        reset_peer_host,
        Duration::from_millis(config::RESET_PULSE_MS),
    );
    let app = App {
        node: BmcNode::new(config::bmc_config(boot.boot_id, boot.max_epoch), now),
        host: Link::new(Path::Local, host),
        peer: Link::new(Path::BmcLink, peer),
        console: Console::new(console),
        fence,
        clock,
        tick: Tick::start(syst, board::CORE_CLOCK_HZ),
        watchdog,
        host_fault,
        host_in_reset,
        host_powered: true,
        last_status: None,
        persisted_epoch: boot.max_epoch,
        counters_at: now,
        counters_seen: (0, 0),
        wake_irqs,
    };
    // The loop's state lives in a static, so the RAM budget (`hw-tests size`) counts it.
    static mut APP: MaybeUninit<App> = MaybeUninit::uninit();
    // SAFETY: `run` is entered once (it takes the one `Board`) and never returns, so
    // this is the only reference to APP there ever is.
    let app: &'static mut App = unsafe { (*addr_of_mut!(APP)).write(app) };
    app.start(&boot);
    persist::set_intent(Intent::Armed, 0);
    app.watchdog.start(config::WATCHDOG_MS);
    loop {
        if !app.step() {
            app.idle();
        }
    }
}

impl App {
    fn start(&mut self, boot: &BootInfo) {
        self.report(&report::boot(boot, config::CONTROLLER, config::SOURCE));
        // Seeds the stand-in on boards that have one, and says what answered.
        let _ = self.fence.probe();
        let fence = report::fence(&mut self.fence);
        self.report(&fence);
        self.flush();
    }

    /// One pass; whether input is still waiting (then pass again without sleeping).
    fn step(&mut self) -> bool {
        let now = self.clock.now();
        let powered = !self.host_in_reset.is_high().unwrap_or(false);
        if powered != self.host_powered || self.last_status.is_none() {
            self.host_powered = powered;
            self.node.handle_health(now, BmcHealth { host_powered: powered });
        }

        #[cfg_attr(not(feature = "test-hooks"), allow(unused_mut))]
        let mut commands = Commands::default();
        let node = &mut self.node;
        let more_l = self.host.poll(|frame| {
            #[cfg(feature = "test-hooks")]
            if let Some(command) = crate::debug::parse(frame) {
                return command.map(|c| commands.push(c));
            }
            node.handle_frame(now, Path::Local, frame)
        });
        let more_b = self.peer.poll(|frame| node.handle_frame(now, Path::BmcLink, frame));

        if self.node.poll_timeout().is_some_and(|t| now >= t) {
            self.node.handle_timeout(now);
        }
        self.act(now);
        self.fence.poll(now);
        self.transmit(now);
        self.observe(now);
        for command in commands.take() {
            self.command(command);
        }
        self.flush();
        more_l || more_b
    }

    /// Sleep until the next deadline or until a path UART has data (its receive
    /// interrupt: the FIFO reached its trigger level, or the receive timeout of four
    /// character times passed with bytes in it). While output waits for a UART that
    /// pushed back, wake every millisecond to move it on. Interrupts are masked
    /// (PRIMASK), so no handler runs: the pending bits are cleared here and `wfi`
    /// returns when one is set again.
    fn idle(&mut self) {
        let now = self.clock.now();
        let next = [self.node.poll_timeout(), self.fence.next_deadline()].into_iter().flatten().min();
        let mut sleep = next.map_or(Tick::MAX_US, |t| t.saturating_since(now).micros());
        if self.host.tx_pending() || self.peer.tx_pending() || self.console.tx_pending() {
            sleep = sleep.min(1000);
        }
        self.tick.wake_in(sleep);
        SCB::clear_pendst();
        for &irq in &self.wake_irqs {
            NVIC::unpend(irq);
        }
        cortex_m::asm::wfi();
    }

    fn act(&mut self, now: Instant) {
        while let Some(action) = self.node.poll_action() {
            match action {
                Action::KickWatchdog => self.watchdog.kick(),
                Action::CutPeerEnclosure => {
                    let ok = self.fence.cut();
                    self.node.handle_completion(now, Completion::PeerFenced { ok });
                    let l = report::fence(&mut self.fence);
                    self.report(&l);
                }
                Action::RestorePeerEnclosure => {
                    self.fence.restore();
                    let l = report::fence(&mut self.fence);
                    self.report(&l);
                }
                Action::ResetPeerHost => self.fence.reset_peer(now),
                // The rest are the host's (disks, pools, VIPs, its own epoch file):
                // a BmcNode never emits them.
                _ => {}
            }
        }
    }

    fn transmit(&mut self, now: Instant) {
        let mut buf = [0u8; MAX_FRAME_LEN];
        while let Some(tx) = self.node.poll_transmit(now, &mut buf) {
            let frame = &buf[..tx.len];
            match tx.path {
                Path::Local => self.host.send(frame),
                Path::BmcLink => self.peer.send(frame),
                Path::HostLink => {}
            }
        }
    }

    /// Events and status changes to the console; the host-fault line; the epoch kept.
    fn observe(&mut self, now: Instant) {
        while let Some(e) = self.node.poll_event() {
            if let Some(l) = report::event(&e) {
                self.console.write_line(&l);
            }
        }
        let s = self.node.snapshot(now);
        if self.last_status != Some(s) {
            self.last_status = Some(s);
            self.report(&report::status(&s));
            let fault = matches!(s.host, HostLiveness::Hung | HostLiveness::Dead);
            let _ = if fault { self.host_fault.set_high() } else { self.host_fault.set_low() };
        }
        if s.max_epoch != self.persisted_epoch {
            self.persisted_epoch = s.max_epoch;
            persist::set_max_epoch(s.max_epoch);
        }
        if now.saturating_since(self.counters_at) >= COUNTERS_EVERY {
            self.counters_at = now;
            let seen = (self.host.stats.rejected_total(), self.peer.stats.rejected_total());
            if seen != self.counters_seen {
                self.counters_seen = seen;
                let (l, b) = (report::counters(&self.host), report::counters(&self.peer));
                self.console.write_line(&l);
                self.console.write_line(&b);
                self.console.write_line(&report::memory());
            }
        }
    }

    /// Print `l` on the console; test images also send it to the host.
    fn report(&mut self, l: &Line) {
        self.console.write_line(l);
        #[cfg(feature = "test-hooks")]
        {
            let mut frame = [0u8; MAX_FRAME_LEN];
            let n = crate::debug::report_frame(l, &mut frame);
            self.host.send(&frame[..n]);
        }
    }

    fn flush(&mut self) {
        self.host.pump();
        self.peer.pump();
        self.console.pump();
    }

    #[cfg(feature = "test-hooks")]
    fn command(&mut self, command: crate::debug::Command) {
        use crate::debug::Command;
        match command {
            Command::Counters => {
                let (l, b) = (report::counters(&self.host), report::counters(&self.peer));
                self.report(&l);
                self.report(&b);
                self.report(&report::memory());
            }
            Command::Fence => {
                let l = report::fence(&mut self.fence);
                self.report(&l);
            }
            Command::Status => {
                let s = self.node.snapshot(self.clock.now());
                self.report(&report::status(&s));
            }
            Command::Stall => {
                self.report(&crate::console::line(format_args!("stalling: the main loop stops here")));
                self.flush();
                // Only SysTick wakes us from now on; the watchdog is never kicked again.
                for &irq in &self.wake_irqs {
                    NVIC::mask(irq);
                }
                loop {
                    SCB::clear_pendst();
                    cortex_m::asm::wfi();
                }
            }
            Command::Panic => panic!("test-hooks: panic requested"),
            Command::Reset => {
                self.report(&crate::console::line(format_args!("resetting on request")));
                self.flush();
                persist::set_intent(Intent::Requested, 1);
                SCB::sys_reset()
            }
        }
    }

    #[cfg(not(feature = "test-hooks"))]
    fn command(&mut self, command: Never) {
        match command {}
    }
}

/// Production images have no debug commands.
#[cfg(not(feature = "test-hooks"))]
#[derive(Clone, Copy, Debug)]
enum Never {}

#[cfg(feature = "test-hooks")]
type Command = crate::debug::Command;
#[cfg(not(feature = "test-hooks"))]
type Command = Never;

/// Debug commands received in one pass, run after the pass (a few at most).
#[derive(Default)]
struct Commands {
    queue: [Option<Command>; 4],
}

impl Commands {
    #[cfg(feature = "test-hooks")]
    fn push(&mut self, c: Command) {
        if let Some(slot) = self.queue.iter_mut().find(|s| s.is_none()) {
            *slot = Some(c);
        }
    }

    fn take(self) -> impl Iterator<Item = Command> {
        self.queue.into_iter().flatten()
    }
}
