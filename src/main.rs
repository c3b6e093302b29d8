//! The `medcom-harness` command line: a thin layer that turns flags into a validated
//! configuration, calls the library and maps outcomes to exit codes.

mod cli;

/// mimalloc rather than the system allocator: a run and `serve` allocate and free many small
/// buffers per message (JSON values, strings, evidence), and glibc's malloc was a fifth of the
/// harness's CPU time per exchange (perf, 1,000 exchanges). Built with `no_thp`: mimalloc's
/// `madvise(MADV_HUGEPAGE)` made every fresh 2 MiB region fault in zeroed whole, ~1,100 times
/// (2.3 GB) in a 2,000-scenario run whose peak RSS is 130 MB — 13 % of its CPU samples; without
/// it the run's task-clock fell 10–30 % in four alternating pairs (`perf stat`, `--jobs 1`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(cli::main());
}
