//! Throughput of the bundled suite against the embedded reference vendor, with `--jobs 1` and
//! `--jobs 2` (`cargo bench --bench exchanges -- jobs`), and the peak memory of sending a big
//! attachment through a separate `serve` (`cargo bench --bench exchanges -- attachment`); with
//! neither name, both run.
//!
//! An exchange is one message the harness sent together with the vendor's answer to it (an
//! acknowledgement in the HTTP response); messages the vendor sent on its own (replies, forwards)
//! count as exchanges too. The suite is run `ROUNDS` times per setting after one warm-up round,
//! and the median round is printed.

use medcom_harness::config::Config;
use medcom_harness::run::{self, Direction, Settings, Target, UpdateGolden};
use std::path::Path;
use std::time::Instant;

const ROUNDS: usize = 7;

fn main() {
    let which = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    if which.as_deref().is_none_or(|w| w == "jobs") {
        jobs();
    }
    if which.as_deref().is_none_or(|w| w == "attachment") {
        attachment();
    }
}

fn jobs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let all = medcom_harness::scenario::load(&[root]).expect("bundled suite loads");
    // A scenario that watches for resends waits `during` by design; it measures the vendor's
    // resend timer, not the harness, so it is left out.
    let (timed, scenarios): (Vec<_>, Vec<_>) = all.into_iter().partition(|s| {
        s.steps.iter().any(|st| {
            matches!(
                st.get_ref(),
                medcom_harness::scenario::Step::ExpectResends(_)
            )
        })
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "bundled suite: {} scenarios ({} that wait for resends by design left out), {ROUNDS} rounds per setting (median shown)",
        scenarios.len(),
        timed.len()
    );
    let mut rates = Vec::new();
    for jobs in [1, 2] {
        let mut rounds = Vec::new();
        for round in 0..=ROUNDS {
            let settings = Settings {
                config: Config::load(None).expect("config"),
                target: Target::Embedded(None),
                jobs,
                update_golden: UpdateGolden::Never,
                interactive: false,
                allow_skipped: false,
                ig: None,
                schemas: None,
                recorder: None,
            };
            let t = Instant::now();
            let outcome = rt
                .block_on(run::run(scenarios.clone(), settings, |_| {}))
                .expect("run");
            let secs = t.elapsed().as_secs_f64();
            assert!(outcome.passed(), "the suite must pass to be measured");
            let exchanges: usize = outcome
                .scenarios
                .iter()
                .flat_map(|s| s.evidence.iter())
                .filter(|e| {
                    e.direction == Direction::Sent || !e.label.starts_with("acknowledgement")
                })
                .count();
            if round > 0 {
                rounds.push((secs, exchanges));
            }
        }
        rounds.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (secs, exchanges) = rounds[rounds.len() / 2];
        println!(
            "--jobs {jobs}: {exchanges} exchanges in {:.1} ms = {:.0} exchanges/s ({:.0} scenarios/s)",
            secs * 1000.0,
            exchanges as f64 / secs,
            scenarios.len() as f64 / secs
        );
        rates.push(exchanges as f64 / secs);
    }
    println!("--jobs 2 / --jobs 1 = {:.2}x", rates[1] / rates[0]);
}

/// A `ATTACHMENT_MB` (default 100) MB attachment sent by `medcom-harness run` (its own process)
/// to a `medcom-harness serve` (another process) and acknowledged: each one's peak resident set
/// (`VmHWM` of serve; `ru_maxrss` of the finished run) against the attachment's size.
fn attachment() {
    use std::io::{BufRead, Write};
    use std::process::{Command, Stdio};
    let mb: usize = std::env::var("ATTACHMENT_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    // `HARNESS_BIN` measures another build (an older one, for a before/after).
    let bin_env = std::env::var("HARNESS_BIN").ok();
    let bin = bin_env
        .as_deref()
        .unwrap_or(env!("CARGO_BIN_EXE_medcom-harness"));
    let dir = tempfile::tempdir().expect("temp dir");
    let size = mb * 1024 * 1024;
    {
        // A PDF header, then bytes that do not compress (xorshift), so nothing is special.
        let mut file = std::io::BufWriter::new(
            std::fs::File::create(dir.path().join("big.pdf")).expect("file"),
        );
        file.write_all(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
            .expect("write");
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut written = 15;
        while written < size {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let chunk = x.to_le_bytes();
            let n = chunk.len().min(size - written);
            file.write_all(&chunk[..n]).expect("write");
            written += n;
        }
    }
    std::fs::write(
        dir.path().join("big.toml"),
        r#"id = "big-attachment"
title = "A big attachment is acknowledged"
standard = "CareCommunication 5.0"

[[step]]
send = { message = "carecommunication/new", as = "first", category = "discharge", attachments = [
  { file = "big.pdf", content-type = "application/pdf", title = "Stort bilag" },
] }

[[step]]
expect-ack = { for = "first", code = "ok" }
"#,
    )
    .expect("scenario");
    // The message is bigger than the default `[rules] size-limit` (100 MB) allows.
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[rules]\nsize-limit = {0}\nsize-warning = {0}\n",
            2 * size + 1_000_000
        ),
    )
    .expect("config");
    let mut serve = Command::new(bin)
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let mut lines = std::io::BufReader::new(serve.stdout.take().expect("stdout")).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("listening on ").map(str::to_string))
        .expect("serve says where it listens");
    let idle = proc_kib(serve.id(), "VmRSS:");
    let out = dir.path().join("out");
    // GNU time reports the run's peak (`%M`, KiB) on stderr; without it, VmHWM is polled.
    let gnu_time = Path::new("/usr/bin/time").exists();
    let mut run = if gnu_time {
        let mut c = Command::new("/usr/bin/time");
        c.args(["-f", "%M", bin]);
        c
    } else {
        Command::new(bin)
    };
    let t = Instant::now();
    let mut child = run
        .arg("run")
        .arg(dir.path().join("big.toml"))
        .arg("--config")
        .arg(&config)
        .args(["--target", &url, "--jobs", "1", "--report-html"])
        .arg(out.join("report.html"))
        .arg("--report-junit")
        .arg(out.join("junit.xml"))
        .arg("--report-json")
        .arg(out.join("results.json"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run");
    let mut polled = 0;
    let status = loop {
        if let Some(status) = child.try_wait().expect("run") {
            break status;
        }
        polled = polled.max(proc_kib(child.id(), "VmHWM:"));
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let secs = t.elapsed().as_secs_f64();
    let mut stderr = String::new();
    let _ = std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr);
    let harness = if gnu_time {
        stderr
            .lines()
            .filter_map(|l| l.trim().parse::<u64>().ok())
            .next_back()
            .unwrap_or(polled)
    } else {
        polled
    };
    let served = proc_kib(serve.id(), "VmHWM:");
    let _ = serve.kill();
    let _ = serve.wait();
    let mib = |kib: u64| kib as f64 / 1024.0;
    let ratio = |kib: u64| kib as f64 * 1024.0 / size as f64;
    println!(
        "{mb} MB attachment, send and acknowledgement ({}, {secs:.1} s): peak RSS harness {:.0} MiB = {:.2}x its size; serve {:.0} MiB = {:.2}x (idle {:.0} MiB)",
        if status.success() { "passed" } else { "FAILED" },
        mib(harness),
        ratio(harness),
        mib(served),
        ratio(served),
        mib(idle),
    );
}

/// A `/proc/<pid>/status` figure in KiB (0 when unreadable).
fn proc_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
