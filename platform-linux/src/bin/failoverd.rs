//! `failoverd`: the controller host service.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use failover_linux::backend::sim_watchdog::run_if_supervisor;

/// Dual-controller HA failover service.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run the service for one controller.
    Run {
        /// The controller's configuration file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Check a configuration file and print every problem found.
    CheckConfig {
        /// The configuration file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Read a password from stdin and print its argon2 PHC string for `[ui]
    /// password_hash` (`printf %s 'secret' | failoverd hash-password`).
    HashPassword,
    /// Two controllers on loopback with simulated hardware: settle, kill the active,
    /// show the takeover.
    Demo {
        /// Keep the demo directory (configs, logs, disks) afterwards.
        #[arg(long)]
        keep: bool,
    },
}

fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // stderr, never the console: a synchronous console write freezes every process.
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
}

/// One line from stdin without its line ending; typed without echo on a terminal.
fn read_password() -> std::io::Result<String> {
    use nix::sys::termios::{self, LocalFlags, SetArg};
    use std::io::{BufRead as _, IsTerminal as _};
    let stdin = std::io::stdin();
    let saved = if stdin.is_terminal() {
        eprint!("Password: ");
        let saved = termios::tcgetattr(&stdin)?;
        let mut quiet = saved.clone();
        quiet.local_flags.remove(LocalFlags::ECHO);
        termios::tcsetattr(&stdin, SetArg::TCSAFLUSH, &quiet)?;
        Some(saved)
    } else {
        None
    };
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if let Some(saved) = saved {
        let _ = termios::tcsetattr(&stdin, SetArg::TCSAFLUSH, &saved);
        eprintln!();
    }
    read?;
    let trimmed = line.strip_suffix('\n').unwrap_or(&line);
    Ok(trimmed.strip_suffix('\r').unwrap_or(trimmed).to_owned())
}

fn main() -> ExitCode {
    // The simulated watchdog's supervisor is this same executable.
    if let Some(code) = run_if_supervisor() {
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("failoverd: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match cli.cmd {
        Cmd::Run { config } => {
            init_logs();
            match rt.block_on(failover_linux::service::run::run(&config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("failoverd: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Cmd::CheckConfig { config } => match failover_linux::config::load(&config) {
            Ok(_) => {
                println!("{}: OK", config.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(2)
            }
        },
        Cmd::HashPassword => match read_password()
            .map_err(|e| e.to_string())
            .and_then(|p| failover_linux::ui::password::hash_password(&p).map_err(|e| e.to_string()))
        {
            Ok(phc) => {
                println!("{phc}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("failoverd hash-password: {e}");
                ExitCode::from(2)
            }
        },
        Cmd::Demo { keep } => match rt.block_on(failover_linux::demo::run(keep)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(1)
            }
        },
    }
}
