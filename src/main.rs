//! The `medcom-harness` command line: a thin layer that turns flags into a validated
//! configuration, calls the library and maps outcomes to exit codes.

mod cli;

/// mimalloc rather than the system allocator: a run and `serve` allocate and free many small
/// buffers per message (JSON values, strings, evidence), and glibc's malloc was a fifth of the
/// harness's CPU time per exchange (perf, 1,000 exchanges).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(cli::main());
}
