//! Command line of the runner.

use crate::report::Tally;

/// The suites this build knows, with one line each on what they cover.
pub const SUITES: &[(&str, &str)] = &[];

const USAGE: &str = "usage: hw-tests run <suite>|all [options]\n       hw-tests list";

/// Run the command line `args` (without the program name); returns the exit code.
pub fn main(args: Vec<String>) -> i32 {
    match args.first().map(String::as_str) {
        Some("list") => {
            for (name, what) in SUITES {
                println!("{name:10} {what}");
            }
            0
        }
        Some("run") => match args.get(1).map(String::as_str) {
            Some("all") => {
                let tally = Tally::default();
                println!("{}", tally.summary());
                0
            }
            Some(other) => {
                eprintln!(
                    "unknown suite `{other}`; known: all{}",
                    SUITES.iter().map(|(n, _)| format!(", {n}")).collect::<String>()
                );
                2
            }
            None => {
                eprintln!("{USAGE}");
                2
            }
        },
        _ => {
            eprintln!("{USAGE}");
            2
        }
    }
}
