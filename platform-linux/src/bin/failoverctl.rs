//! `failoverctl`: the administrator's command line for `failoverd`, over its Unix socket
//! (and `inspect`, which reads the shared hardware directly, without the service).
//!
//! Exit status: 0 done; 1 the service refused or failed the request (its error is
//! printed on stderr), or `inspect` could not read some item; 2 usage error, an
//! unreadable configuration, or the service cannot be reached.

use std::io::{BufRead as _, IsTerminal as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use failover_core::wire::Controller;
use failover_linux::api::client::{ApiClient, ClientError, DEFAULT_SOCKET};
use failover_linux::api::edit::{
    InterfaceChanges, NetworkChanges, SettingsChanges, parse_cidr_list, parse_controller, parse_optional_u8,
};
use failover_linux::api::format;
use failover_linux::api::types::{SyncJson, TakeoverJson, UnlockJson};
use failover_linux::config::{self, Config, ConfigError, DiskBackend, EnclosureBackend, PreemptMode, Reason};
use failover_linux::inspect::inspect;
use hyper::StatusCode;
use serde::Serialize;

/// Overrides the default socket path (`--socket` overrides it).
const SOCKET_ENV: &str = "FAILOVERCTL_SOCKET";

/// failoverd's configuration file where the packaged service unit keeps it.
const DEFAULT_CONFIG: &str = "/etc/failoverd/failoverd.toml";

#[derive(Debug, Parser)]
#[command(name = "failoverctl", version, about = "Control and inspect the failoverd HA service")]
struct Cli {
    /// The management socket of failoverd [env: FAILOVERCTL_SOCKET] [default:
    /// /run/failoverd/failoverd.sock].
    #[arg(long, global = true, value_name = "PATH")]
    socket: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Node, status, epoch, peer and links, why failover is unavailable, last takeover.
    Status {
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Failover settings (System > Failover).
    #[command(subcommand)]
    Settings(SettingsCmd),
    /// Make this controller active (asks the active controller to hand over).
    Takeover {
        /// Become active although failover is disabled or undecided (both standby).
        #[arg(long)]
        force: bool,
    },
    /// Hand the active role to the standby.
    Giveback,
    /// Copy the configuration to or from the peer (troubleshooting only).
    Sync {
        /// Which way.
        direction: Direction,
    },
    /// Interfaces' failover fields; `interfaces set` edits one.
    Interfaces(InterfacesArgs),
    /// Hostnames (Network > Global Configuration).
    #[command(subcommand)]
    Network(NetworkCmd),
    /// Unlock encrypted pools after both controllers rebooted. The passphrase is read
    /// from stdin, or prompted for without echo when stdin is a terminal.
    Unlock,
    /// Recent events, oldest first.
    Events {
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// The Prometheus metrics text.
    Metrics,
    /// Read the shared disks' reservations, the enclosure's ports and GPIO input lines
    /// directly, without failoverd (whose own status this lets you audit). Read only.
    Inspect(InspectArgs),
}

/// What `inspect` reads: failoverd's configuration, or these flags instead of parts of it.
#[derive(Debug, Args)]
struct InspectArgs {
    /// failoverd's configuration file: this host's controller, disks and enclosure
    /// [default: /etc/failoverd/failoverd.toml, not read when the flags give all three].
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Read this SCSI device instead of the configured disks (repeatable).
    #[arg(long = "disk", value_name = "DEV")]
    disks: Vec<PathBuf>,
    /// Read the enclosure fence controller on this I2C bus instead of the configured
    /// enclosure.
    #[arg(long, value_name = "PATH", requires = "i2c_address")]
    i2c_bus: Option<PathBuf>,
    /// The fence controller's 7-bit address on --i2c-bus, decimal or 0x hex.
    #[arg(long, value_name = "N", requires = "i2c_bus", value_parser = parse_i2c_address)]
    i2c_address: Option<u8>,
    /// Read no enclosure, whatever the configuration says.
    #[arg(long, conflicts_with = "i2c_bus")]
    no_enclosure: bool,
    /// Also read this input line: CHIP:LINE, or CHIP:LINE:active-low (repeatable).
    #[arg(long = "gpio", value_name = "CHIP:LINE[:active-low]", value_parser = parse_gpio_line)]
    gpio: Vec<GpioLineArg>,
    /// The controller this host is, A or B, instead of the configured one.
    #[arg(long, value_name = "A|B", value_parser = parse_controller_arg)]
    controller: Option<Controller>,
    /// Print the inspection as JSON.
    #[arg(long)]
    json: bool,
}

/// A `--gpio` line: chip, line name, active low.
#[derive(Clone, Debug, PartialEq, Eq)]
struct GpioLineArg(String, String, bool);

fn parse_gpio_line(s: &str) -> Result<GpioLineArg, String> {
    let (spec, active_low) = match s.strip_suffix(":active-low") {
        Some(spec) => (spec, true),
        None => (s, false),
    };
    match spec.split_once(':') {
        Some((chip, line)) if !chip.is_empty() && !line.is_empty() => {
            Ok(GpioLineArg(chip.to_owned(), line.to_owned(), active_low))
        }
        _ => Err(format!("`{s}` is not CHIP:LINE or CHIP:LINE:active-low")),
    }
}

fn parse_i2c_address(s: &str) -> Result<u8, String> {
    let t = s.trim();
    let n = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u8::from_str_radix(hex, 16),
        None => t.parse::<u8>(),
    };
    // The 7-bit addresses a device may have, as in `[backends] enclosure.address`.
    match n {
        Ok(a @ 0x03..=0x77) => Ok(a),
        _ => Err(format!("`{s}` is not a 7-bit I2C device address (0x03..=0x77, decimal or 0x hex)")),
    }
}

fn parse_controller_arg(s: &str) -> Result<Controller, String> {
    parse_controller(s).map(|c| if c == "A" { Controller::A } else { Controller::B })
}

#[derive(Debug, Subcommand)]
enum SettingsCmd {
    /// Show the settings.
    Show {
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change some settings; the others keep their value.
    Set {
        /// Disable (true) or enable (false) failover.
        #[arg(long, value_name = "BOOL")]
        disabled: Option<bool>,
        /// The designated primary controller, A or B.
        #[arg(long, value_name = "A|B", value_parser = parse_controller)]
        primary: Option<String>,
        /// Failover timeout in milliseconds.
        #[arg(long, value_name = "N")]
        timeout_ms: Option<u64>,
        /// Heartbeat interval in milliseconds.
        #[arg(long, value_name = "N")]
        interval_ms: Option<u64>,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Direction {
    /// Push this controller's configuration to the peer.
    ToPeer,
    /// Pull the peer's configuration.
    FromPeer,
}

impl Direction {
    const fn wire(self) -> &'static str {
        match self {
            Self::ToPeer => "to-peer",
            Self::FromPeer => "from-peer",
        }
    }
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
struct InterfacesArgs {
    /// Print the API's JSON.
    #[arg(long)]
    json: bool,
    #[command(subcommand)]
    command: Option<InterfacesCmd>,
}

#[derive(Debug, Subcommand)]
enum InterfacesCmd {
    /// Edit one interface's failover fields (refused while failover is enabled).
    Set(InterfaceSet),
}

#[derive(Debug, Args)]
struct InterfaceSet {
    /// The interface.
    name: String,
    /// Critical for failover.
    #[arg(long, value_name = "BOOL")]
    critical: Option<bool>,
    /// Failover group (required when critical), or `none`.
    #[arg(long, value_name = "N|none", value_parser = opt_u8)]
    group: Option<OptU8>,
    /// Virtual host id 1-255, or `none`.
    #[arg(long, value_name = "N|none", value_parser = opt_u8)]
    vhid: Option<OptU8>,
    /// This controller's addresses, comma-separated CIDR ("" for none).
    #[arg(long, value_name = "CIDR,...", value_parser = cidrs)]
    addresses: Option<Cidrs>,
    /// The peer controller's addresses, comma-separated CIDR.
    #[arg(long, value_name = "CIDR,...", value_parser = cidrs)]
    peer_addresses: Option<Cidrs>,
    /// Virtual addresses, comma-separated CIDR.
    #[arg(long = "virtual", value_name = "CIDR,...", value_parser = cidrs)]
    virtual_addresses: Option<Cidrs>,
}

/// A number or `none` (a newtype: clap reads `Option<Option<_>>` as an optional value).
#[derive(Clone, Copy, Debug)]
struct OptU8(Option<u8>);

fn opt_u8(s: &str) -> Result<OptU8, String> {
    parse_optional_u8(s).map(OptU8)
}

/// A CIDR list (a newtype: clap reads `Option<Vec<_>>` as repeated values).
#[derive(Clone, Debug)]
struct Cidrs(Vec<String>);

fn cidrs(s: &str) -> Result<Cidrs, String> {
    parse_cidr_list(s).map(Cidrs)
}

#[derive(Debug, Subcommand)]
enum NetworkCmd {
    /// Show the hostnames.
    Show {
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change some hostnames; the others keep their value.
    Set {
        /// Controller A's hostname.
        #[arg(long, value_name = "NAME")]
        hostname_a: Option<String>,
        /// Controller B's hostname.
        #[arg(long, value_name = "NAME")]
        hostname_b: Option<String>,
        /// The virtual hostname (also the Kerberos principal).
        #[arg(long, value_name = "NAME")]
        virtual_hostname: Option<String>,
    },
}

/// Why a command failed, and so the exit status.
#[derive(Debug, thiserror::Error)]
enum CliError {
    /// Bad usage (exit 2).
    #[error("{0}")]
    Usage(String),
    /// From the API (exit 1, or 2 when the socket cannot be reached).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// `inspect` printed its result, but some items could not be read (exit 1).
    #[error("{0} item(s) could not be read (listed in the output)")]
    Unread(usize),
}

impl CliError {
    fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => 2,
            Self::Client(e) if e.is_connect() => 2,
            Self::Client(_) | Self::Unread(_) => 1,
        }
    }

    fn report(&self) -> String {
        match self {
            Self::Client(ClientError::Api { status, message }) => {
                let what = match *status {
                    StatusCode::CONFLICT => "refused",
                    StatusCode::BAD_REQUEST => "invalid request",
                    s if s.is_server_error() => "failed",
                    _ => "error",
                };
                format!("failoverctl: {what}: {message}")
            }
            other => format!("failoverctl: {other}"),
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let socket = cli
        .socket
        .or_else(|| std::env::var_os(SOCKET_ENV).filter(|v| !v.is_empty()).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_SOCKET));
    let client = ApiClient::new(socket);
    match run(&client, cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", e.report());
            ExitCode::from(e.exit_code())
        }
    }
}

async fn run(client: &ApiClient, command: Command) -> Result<(), CliError> {
    match command {
        Command::Status { json } => {
            let s = client.status().await?;
            emit(json, &s, format::status);
        }
        Command::Settings(SettingsCmd::Show { json }) => {
            let s = client.settings().await?;
            emit(json, &s, format::settings);
        }
        Command::Settings(SettingsCmd::Set { disabled, primary, timeout_ms, interval_ms }) => {
            let changes =
                SettingsChanges { disabled, primary, timeout_ms, heartbeat_interval_ms: interval_ms };
            if changes.is_empty() {
                return Err(usage(
                    "nothing to change: give --disabled, --primary, --timeout-ms or --interval-ms",
                ));
            }
            let current = client.settings().await?;
            let applied = client.set_settings(&changes.apply(current)).await?;
            print!("{}", format::settings(&applied));
        }
        Command::Takeover { force } => {
            client.takeover(&TakeoverJson { force }).await?;
            println!("{}", if force { "forced takeover started" } else { "takeover requested" });
        }
        Command::Giveback => {
            client.giveback().await?;
            println!("giveback requested");
        }
        Command::Sync { direction } => {
            eprintln!("{}", format::SYNC_WARNING);
            client.sync(&SyncJson { direction: direction.wire().to_owned() }).await?;
            println!(
                "{}",
                match direction {
                    Direction::ToPeer => "configuration sent to the peer",
                    Direction::FromPeer => "configuration received from the peer",
                }
            );
        }
        Command::Interfaces(InterfacesArgs { json, command: None }) => {
            let list = client.interfaces().await?;
            emit(json, &list, |l| format::interfaces(l));
        }
        Command::Interfaces(InterfacesArgs { command: Some(InterfacesCmd::Set(set)), .. }) => {
            set_interface(client, set).await?;
        }
        Command::Network(NetworkCmd::Show { json }) => {
            let n = client.network().await?;
            emit(json, &n, format::network);
        }
        Command::Network(NetworkCmd::Set { hostname_a, hostname_b, virtual_hostname }) => {
            let changes = NetworkChanges { hostname_a, hostname_b, hostname_virtual: virtual_hostname };
            if changes.is_empty() {
                return Err(usage(
                    "nothing to change: give --hostname-a, --hostname-b or --virtual-hostname",
                ));
            }
            let current = client.network().await?;
            let applied = client.set_network(&changes.apply(current)).await?;
            print!("{}", format::network(&applied));
        }
        Command::Unlock => {
            let passphrase = read_passphrase()?;
            client.unlock(&UnlockJson { passphrase }).await?;
            println!("pools unlocked");
        }
        Command::Events { json } => {
            let list = client.events().await?;
            emit(json, &list, |l| format::events(l));
        }
        Command::Metrics => print!("{}", client.metrics().await?),
        // Blocking, and fine here: nothing else runs on this runtime.
        Command::Inspect(args) => inspect_hardware(&args)?,
    }
    Ok(())
}

/// What `inspect` reads, once the configuration and the flags are combined.
#[derive(Debug, PartialEq)]
struct InspectPlan {
    controller: Controller,
    disks: DiskBackend,
    enclosure: EnclosureBackend,
}

/// The flags over the configuration. The file is read when something is left for it
/// to say, or when --config names it; a file that cannot be used is a usage error.
fn inspect_plan(args: &InspectArgs) -> Result<InspectPlan, CliError> {
    let disks = (!args.disks.is_empty())
        .then(|| DiskBackend::Scsi { devices: args.disks.clone(), preempt: PreemptMode::PreemptAndAbort });
    let enclosure = match (&args.i2c_bus, args.i2c_address) {
        _ if args.no_enclosure => Some(EnclosureBackend::None),
        (Some(bus), Some(address)) => Some(EnclosureBackend::I2c { bus: bus.clone(), address }),
        _ => None,
    };
    let all_given = disks.is_some() && enclosure.is_some() && args.controller.is_some();
    let config = match &args.config {
        Some(path) => Some(read_config(path)?),
        None if all_given => None,
        None => Some(read_config(Path::new(DEFAULT_CONFIG)).map_err(|e| {
            usage(&format!(
                "{e}\n(name the file with --config, or give --disk, --i2c-bus and --i2c-address \
                 or --no-enclosure, and --controller)"
            ))
        })?),
    };
    let local = config.map(|c| c.local);
    let controller = args.controller.or(local.as_ref().map(|l| l.controller));
    let disks = disks.or_else(|| local.as_ref().map(|l| l.backends.disk.clone()));
    let enclosure = enclosure.or_else(|| local.as_ref().map(|l| l.backends.enclosure.clone()));
    match (controller, disks, enclosure) {
        (Some(controller), Some(disks), Some(enclosure)) => Ok(InspectPlan { controller, disks, enclosure }),
        // Without a file, every one was given.
        _ => Err(usage("give --controller, --disk and an enclosure, or a configuration file")),
    }
}

/// failoverd's file, checked as failoverd checks it, without reading the link key
/// (root's alone, and not needed to look).
fn read_config(path: &Path) -> Result<Config, CliError> {
    let text = std::fs::read_to_string(path).map_err(|source| {
        let reason = Reason::Read { path: path.to_owned(), source };
        usage(&ConfigError { file: path.to_owned(), key: String::new(), reason }.to_string())
    })?;
    config::parse(&text, path).map_err(|e| usage(&e.to_string()))
}

fn inspect_hardware(args: &InspectArgs) -> Result<(), CliError> {
    let plan = inspect_plan(args)?;
    let lines: Vec<(String, String, bool)> =
        args.gpio.iter().map(|GpioLineArg(chip, line, low)| (chip.clone(), line.clone(), *low)).collect();
    let seen = inspect(plan.controller, &plan.disks, &plan.enclosure, &lines);
    emit(args.json, &seen, |s| s.render());
    match seen.errors.len() {
        0 => Ok(()),
        n => Err(CliError::Unread(n)),
    }
}

async fn set_interface(client: &ApiClient, set: InterfaceSet) -> Result<(), CliError> {
    let changes = InterfaceChanges {
        critical: set.critical,
        group: set.group.map(|g| g.0),
        vhid: set.vhid.map(|v| v.0),
        addresses: set.addresses.map(|a| a.0),
        peer_addresses: set.peer_addresses.map(|a| a.0),
        virtual_addresses: set.virtual_addresses.map(|a| a.0),
    };
    if changes.is_empty() {
        return Err(usage(
            "nothing to change: give --critical, --group, --vhid, --addresses, --peer-addresses or --virtual",
        ));
    }
    let list = client.interfaces().await?;
    let Some(current) = list.into_iter().find(|i| i.name == set.name) else {
        return Err(usage(&format!("no interface named `{}` (see `failoverctl interfaces`)", set.name)));
    };
    let edited = changes.apply(current);
    client.set_interface(&edited).await?;
    println!("interface {} updated", edited.name);
    Ok(())
}

fn usage(message: &str) -> CliError {
    CliError::Usage(message.to_owned())
}

/// Print `value` as pretty JSON or through its human formatter.
fn emit<T: Serialize + ?Sized>(json: bool, value: &T, human: impl Fn(&T) -> String) {
    if json {
        // The API types always serialize.
        println!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
    } else {
        print!("{}", human(value));
    }
}

/// The passphrase: prompted for without echo on the terminal when stdin is one, else
/// the first line of stdin. Never taken from the command line (it would show in ps).
fn read_passphrase() -> Result<String, CliError> {
    let stdin = std::io::stdin();
    let passphrase = if stdin.is_terminal() {
        tty::prompt("Passphrase: ").map_err(|e| usage(&format!("cannot read the passphrase: {e}")))?
    } else {
        let mut line = String::new();
        stdin.lock().read_line(&mut line).map_err(|e| usage(&format!("cannot read the passphrase: {e}")))?;
        let trimmed = line.strip_suffix('\n').unwrap_or(&line);
        trimmed.strip_suffix('\r').unwrap_or(trimmed).to_owned()
    };
    if passphrase.is_empty() {
        return Err(usage("empty passphrase"));
    }
    Ok(passphrase)
}

/// Reading a line from the terminal without echo.
mod tty {
    use std::fs::{File, OpenOptions};
    use std::io::{self, Read as _, Write as _};

    use nix::sys::termios::{self, LocalFlags, SetArg, SpecialCharacterIndices, Termios};

    /// What one typed byte does to the line being entered.
    #[derive(Debug, PartialEq, Eq)]
    pub(super) enum Step {
        /// Keep reading.
        More,
        /// Enter: the line is complete.
        Done,
        /// Ctrl-C or Ctrl-D on an empty line.
        Abort,
    }

    /// Apply typed byte `b` to `line`: Enter ends it, Backspace removes a character,
    /// Ctrl-U clears it, Ctrl-C (and Ctrl-D on an empty line) aborts.
    pub(super) fn step(line: &mut Vec<u8>, b: u8) -> Step {
        match b {
            b'\n' | b'\r' => return Step::Done,
            0x03 => return Step::Abort,
            0x04 if line.is_empty() => return Step::Abort,
            0x04 => {}
            0x7f | 0x08 => {
                // Remove one whole UTF-8 character.
                while let Some(last) = line.pop() {
                    if last & 0xc0 != 0x80 {
                        break;
                    }
                }
            }
            0x15 => line.clear(),
            b => line.push(b),
        }
        Step::More
    }

    /// Restores the terminal's modes when dropped, whatever happens while reading.
    struct Restore<'a> {
        tty: &'a File,
        saved: Termios,
    }

    impl Drop for Restore<'_> {
        fn drop(&mut self) {
            let _ = termios::tcsetattr(self.tty, SetArg::TCSAFLUSH, &self.saved);
        }
    }

    /// Show `prompt` on the controlling terminal and read a line without echo. Signals
    /// are off while reading (Ctrl-C is handled here) so the echo is always restored.
    pub(super) fn prompt(prompt: &str) -> io::Result<String> {
        let mut tty = OpenOptions::new().read(true).write(true).open("/dev/tty")?;
        let saved = termios::tcgetattr(&tty)?;
        let mut raw = saved.clone();
        raw.local_flags.remove(LocalFlags::ECHO | LocalFlags::ICANON | LocalFlags::ISIG);
        raw.control_chars[SpecialCharacterIndices::VMIN as usize] = 1;
        raw.control_chars[SpecialCharacterIndices::VTIME as usize] = 0;
        tty.write_all(prompt.as_bytes())?;
        tty.flush()?;

        let mut line = Vec::new();
        let outcome = {
            let _restore = Restore { tty: &tty, saved };
            termios::tcsetattr(&tty, SetArg::TCSAFLUSH, &raw)?;
            let mut byte = [0u8; 1];
            loop {
                if (&tty).read(&mut byte)? == 0 {
                    break Step::Abort;
                }
                match step(&mut line, byte[0]) {
                    Step::More => {}
                    done => break done,
                }
            }
        };
        tty.write_all(b"\n")?;
        if outcome == Step::Abort {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "cancelled"));
        }
        String::from_utf8(line).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::tty::{Step, step};
    use super::*;

    fn typed(bytes: &[u8]) -> (Vec<u8>, Step) {
        let mut line = Vec::new();
        for &b in bytes {
            match step(&mut line, b) {
                Step::More => {}
                done => return (line, done),
            }
        }
        (line, Step::More)
    }

    #[test]
    fn line_editing_of_the_prompt() {
        assert_eq!(typed(b"secret\r"), (b"secret".to_vec(), Step::Done));
        assert_eq!(typed(b"secrex\x7ft\n"), (b"secret".to_vec(), Step::Done));
        assert_eq!(typed("pé\x7f\x7fok\n".as_bytes()), (b"ok".to_vec(), Step::Done));
        assert_eq!(typed(b"junk\x15pass\n"), (b"pass".to_vec(), Step::Done));
        assert_eq!(typed(b"abc\x03").1, Step::Abort);
        assert_eq!(typed(b"\x04").1, Step::Abort);
    }

    #[test]
    fn command_line_parses() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();

        let cli = Cli::try_parse_from([
            "failoverctl",
            "interfaces",
            "set",
            "eth0",
            "--group",
            "none",
            "--virtual",
            "10.0.0.1/24,10.0.0.9/24",
            "--socket",
            "/tmp/x.sock",
        ])
        .unwrap();
        assert_eq!(cli.socket, Some(PathBuf::from("/tmp/x.sock")));
        let Command::Interfaces(InterfacesArgs { command: Some(InterfacesCmd::Set(set)), .. }) = cli.command
        else {
            panic!("wrong command");
        };
        assert_eq!(set.name, "eth0");
        assert_eq!(set.group.map(|g| g.0), Some(None));
        assert_eq!(set.virtual_addresses.map(|v| v.0).unwrap_or_default().len(), 2);

        assert!(Cli::try_parse_from(["failoverctl", "settings", "set", "--primary", "C"]).is_err());
        assert!(Cli::try_parse_from(["failoverctl", "settings", "set", "--disabled", "maybe"]).is_err());
        assert!(
            Cli::try_parse_from(["failoverctl", "interfaces", "set", "eth0", "--virtual", "10.0.0.1"])
                .is_err()
        );
        assert!(Cli::try_parse_from(["failoverctl", "sync", "sideways"]).is_err());
        assert!(Cli::try_parse_from(["failoverctl", "unlock", "hunter2"]).is_err());
    }

    fn inspect_args(args: &[&str]) -> Result<InspectArgs, clap::Error> {
        let cli = Cli::try_parse_from(["failoverctl", "inspect"].iter().chain(args))?;
        match cli.command {
            Command::Inspect(a) => Ok(a),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn inspect_flags_parse() {
        let a = inspect_args(&[
            "--disk",
            "/dev/sg1",
            "--disk",
            "/dev/sg2",
            "--i2c-bus",
            "/dev/i2c-3",
            "--i2c-address",
            "0x1c",
            "--gpio",
            "gpiochip0:fence-a",
            "--gpio",
            "gpio-sim.0-node0:peer-cut:active-low",
            "--controller",
            "b",
            "--json",
        ])
        .unwrap();
        assert_eq!(a.disks, [PathBuf::from("/dev/sg1"), PathBuf::from("/dev/sg2")]);
        assert_eq!((a.i2c_bus.as_deref(), a.i2c_address), (Some(Path::new("/dev/i2c-3")), Some(0x1c)));
        assert_eq!(
            a.gpio,
            [
                GpioLineArg("gpiochip0".into(), "fence-a".into(), false),
                GpioLineArg("gpio-sim.0-node0".into(), "peer-cut".into(), true)
            ]
        );
        assert_eq!((a.controller, a.json), (Some(Controller::B), true));
        assert_eq!(
            inspect_args(&["--i2c-bus", "/dev/i2c-0", "--i2c-address", "28"]).unwrap().i2c_address,
            Some(28)
        );

        for bad in [
            &["--i2c-address", "0x1c"][..],
            &["--i2c-bus", "/dev/i2c-0"],
            &["--i2c-bus", "/dev/i2c-0", "--i2c-address", "0x78"],
            &["--i2c-bus", "/dev/i2c-0", "--i2c-address", "1c"],
            &["--i2c-bus", "/dev/i2c-0", "--i2c-address", "0x1c", "--no-enclosure"],
            &["--gpio", "gpiochip0"],
            &["--gpio", ":fence-a"],
            &["--gpio", "gpiochip0::active-low"],
            &["--controller", "C"],
        ] {
            assert!(inspect_args(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn inspect_flags_replace_the_configuration() {
        // Everything given: no file is read (there is none here).
        let a = inspect_args(&["--disk", "/dev/sg1", "--no-enclosure", "--controller", "A"]).unwrap();
        let plan = inspect_plan(&a).unwrap();
        assert_eq!(
            plan,
            InspectPlan {
                controller: Controller::A,
                disks: DiskBackend::Scsi {
                    devices: vec!["/dev/sg1".into()],
                    preempt: PreemptMode::PreemptAndAbort
                },
                enclosure: EnclosureBackend::None,
            }
        );
        // A named file is always read.
        let a = inspect_args(&[
            "--config",
            "/nonexistent/failoverd.toml",
            "--disk",
            "/dev/sg1",
            "--no-enclosure",
            "--controller",
            "A",
        ])
        .unwrap();
        let e = inspect_plan(&a).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.report().contains("/nonexistent/failoverd.toml: cannot read"), "{}", e.report());
    }
}
