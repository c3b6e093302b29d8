//! The `medcom-harness` command line: a thin layer that turns flags into a validated
//! configuration, calls the library and maps outcomes to exit codes.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
