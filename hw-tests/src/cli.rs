//! Command line of the runner.

use crate::bench::{self, BenchOpts};
use crate::bench_failover;
use crate::firmware;
use crate::report::{CaseResult, Tally};
use crate::suites::{model, netns, sim, ui};
use crate::system;
use crate::vm;

/// The suites this build knows, with one line each on what they cover.
pub const SUITES: &[(&str, &str)] = &[
    ("model", "exhaustive deviation-bounded exploration of the core state machines"),
    ("sim", "seeded whole-system simulation with random faults (--seeds N, --seed S)"),
    ("netns", "two real failoverd in network namespaces: real VIPs, simulated disks (root)"),
    (
        "vm",
        "Debian's kernel in QEMU, real drivers (LIO PR disks, watchdogs, i2c, gpio), real failoverd (root; --scenario S)",
    ),
    (
        "ui",
        "the web UI in headless Chromium (WebDriver) against two real failoverd: sign-in, status, CSRF, interface lock, takeover (root; screenshots in <target>/ui/)",
    ),
    (
        "firmware",
        "the BMC firmware on two emulated AST1030s (QEMU ast1030-evb): heartbeats, peer loss, host hang, fences, watchdog, bad frames (--scenario S)",
    ),
    (
        "system",
        "the whole pair: two failoverd in namespaces, each with its BMC firmware on QEMU over a pty, the BMC link, PR disks, the VIP; CTS-style scenarios each followed by an audit, then again through the real-hardware path (root; --scenario S, --random N --seed S; --target FILE for real controllers)",
    ),
];

/// Suites that exist but are not part of `run all` (none today).
pub const EXTRA_SUITES: &[(&str, &str)] = &[];

/// The benchmarks (`hw-tests bench <name>`), not part of `run all`.
pub const BENCHES: &[(&str, &str)] = &[
    (
        "failover-netns",
        "takeover latency on the netns rig, false takeovers under CPU stress (--n N, --stress-seconds S)",
    ),
    (
        "failover",
        "failoverd vs keepalived (advert 0.01 s and 0.68 s) on the netns rig: SIGKILL to ARP, false takeovers under CPU stress, idle CPU and RSS (--n N, --stress-seconds S, --idle-seconds I, --jitter-seconds J)",
    ),
];

const USAGE: &str = "usage: hw-tests run <suite>|all [--seeds N] [--seed S] [--deviations K] [--horizon-factor F]\n       hw-tests run system [--scenario S[,S..]] [--random N --seed S] [--target FILE | --via-commands]\n       hw-tests probe vip --interface I --vip V\n       hw-tests bench failover-netns [--n N] [--stress-seconds S]\n       hw-tests bench failover [--n N] [--stress-seconds S] [--idle-seconds I] [--jitter-seconds J]\n       hw-tests size\n       hw-tests list";

/// The value after `name` in `args`, parsed; `None` when `name` is absent.
pub(crate) fn flag<T: std::str::FromStr>(args: &[String], name: &str) -> Result<Option<T>, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(None),
        Some(i) => {
            let v = args.get(i + 1).ok_or_else(|| format!("{name} needs a value"))?;
            v.parse().map(Some).map_err(|_| format!("{name}: `{v}` is not a valid value"))
        }
    }
}

fn run_suite(name: &str, args: &[String]) -> Result<Vec<CaseResult>, String> {
    match name {
        "model" => {
            let mut o = model::ModelOpts::default();
            if let Some(k) = flag(args, "--deviations")? {
                o.extra_deviations = k;
            }
            if let Some(f) = flag(args, "--horizon-factor")? {
                o.horizon_factor = f;
            }
            if let Some(n) = flag(args, "--liveness-every")? {
                o.liveness_every = n;
            }
            o.only = flag(args, "--scenario")?;
            Ok(model::run(&o))
        }
        "sim" => {
            let seeds = flag(args, "--seeds")?.unwrap_or(10_000);
            let seed = flag(args, "--seed")?;
            Ok(sim::run(sim::SimOpts { seeds, seed }))
        }
        "netns" => Ok(netns::run()),
        "vm" => Ok(vm::run(&vm::VmOpts { only: flag(args, "--scenario")?, smp: flag(args, "--smp")? })),
        "ui" => Ok(ui::run()),
        "firmware" => Ok(firmware::run(&firmware::FirmwareOpts { only: flag(args, "--scenario")? })),
        "system" => Ok(system::run(&system::SystemOpts {
            only: flag(args, "--scenario")?,
            random: flag(args, "--random")?,
            seed: flag(args, "--seed")?,
            target: flag(args, "--target")?,
            via_commands: args.iter().any(|a| a == "--via-commands"),
        })),
        other => Err(format!(
            "unknown suite `{other}`; known: all{}",
            SUITES.iter().chain(EXTRA_SUITES).map(|(n, _)| format!(", {n}")).collect::<String>()
        )),
    }
}

/// Run the command line `args` (without the program name); returns the exit code.
pub fn main(args: Vec<String>) -> i32 {
    match args.first().map(String::as_str) {
        Some("list") => {
            for (name, what) in SUITES {
                println!("{name:10} {what}");
            }
            for (name, what) in EXTRA_SUITES {
                println!("{name:10} {what} (not in `run all`)");
            }
            for (name, what) in BENCHES {
                println!("bench {name:16} {what}");
            }
            0
        }
        Some("run") => {
            let Some(suite) = args.get(1) else {
                eprintln!("{USAGE}");
                return 2;
            };
            let names: Vec<&str> =
                if suite == "all" { SUITES.iter().map(|(n, _)| *n).collect() } else { vec![suite.as_str()] };
            let mut tally = Tally::default();
            for name in names {
                match run_suite(name, &args[2..]) {
                    Ok(results) => results.iter().for_each(|r| tally.record(r)),
                    Err(e) => {
                        eprintln!("{e}\n{USAGE}");
                        return 2;
                    }
                }
            }
            println!("{}", tally.summary());
            i32::from(tally.failed > 0)
        }
        Some("bench") => run_bench(&args[1..]),
        // Run on the client host by the system suite's real-hardware target.
        Some("probe") => system::probe::main(&args[1..]),
        // An emulated pair served for `run system --target` (the system suite's own test).
        Some("rig") => system::ci_target::serve(&args[1..]),
        // The BMC firmware's flash and static RAM, against its budgets.
        Some("size") => firmware::size(),
        // Run by the VM suite's /init inside the guest, not by hand.
        Some("vm-guest") => vm::guest::main(&args[1..]),
        _ => {
            eprintln!("{USAGE}");
            2
        }
    }
}

fn run_bench(args: &[String]) -> i32 {
    match args.first().map(String::as_str) {
        Some("failover-netns") => {
            let mut o = BenchOpts::default();
            let parsed = (|| -> Result<(), String> {
                if let Some(n) = flag(args, "--n")? {
                    o.n = n;
                }
                if let Some(s) = flag(args, "--stress-seconds")? {
                    o.stress_seconds = s;
                }
                Ok(())
            })();
            if let Err(e) = parsed {
                eprintln!("{e}\n{USAGE}");
                return 2;
            }
            match bench::failover_netns(o) {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("bench failover-netns failed: {e}");
                    1
                }
            }
        }
        Some("failover") => {
            let mut o = bench_failover::FailoverOpts::default();
            let parsed = (|| -> Result<(), String> {
                if let Some(n) = flag(args, "--n")? {
                    o.n = n;
                }
                if let Some(s) = flag(args, "--stress-seconds")? {
                    o.stress_seconds = s;
                }
                if let Some(s) = flag(args, "--idle-seconds")? {
                    o.idle_seconds = s;
                }
                if let Some(s) = flag(args, "--jitter-seconds")? {
                    o.jitter_seconds = s;
                }
                Ok(())
            })();
            if let Err(e) = parsed {
                eprintln!("{e}\n{USAGE}");
                return 2;
            }
            match bench_failover::run(o) {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("bench failover failed: {e}");
                    1
                }
            }
        }
        other => {
            eprintln!(
                "unknown bench {other:?}; known:{}\n{USAGE}",
                BENCHES.iter().map(|(n, _)| format!(" {n}")).collect::<String>()
            );
            2
        }
    }
}
