//! Scale: the reports of a 10,000-scenario run (writing time, size, peak RSS) and the reference
//! vendor's memory after 20,000 messages: `cargo bench --bench scale -- reports` and
//! `cargo bench --bench scale -- serve` (each in its own process, so each peak is its own; with
//! neither, both run, serve first). `-- loading` times loading 2,500, 5,000 and 10,000 scenario
//! files (each a copy of the bundled `cc-receive-reply` under its own id), so that its growth
//! shows; `-- golden` times the golden comparison of unordered arrays of 500 to 4,000 items,
//! repeated and in reverse order (the pairing of unordered items).
//!
//! Memory figures are the process's own, from `/proc/self/status` (Linux): `VmRSS` (resident
//! now) and `VmHWM` (the peak). The run of 10,000 scenarios is synthetic (two steps, two 6.5 KB
//! messages each, one in ten failing with a KR3 finding), built in memory before the clock
//! starts; its size is printed as the RSS before writing. `SCALE_SCENARIOS` and
//! `SCALE_MESSAGES` change the counts. When a headless Chromium is there (`chromium`, or the
//! browser `SCALE_CHROMIUM` names), `reports` also prints how long it takes to open the
//! `report.html` (`--dump-dom`), beside its start-up on an empty page.

use std::time::{Duration, Instant};

use medcom_harness::finding::Grade;
use medcom_harness::report::{Options, Paths, write_all};
use medcom_harness::run::{
    Direction, Evidence, RunOutcome, RunStatus, ScenarioOutcome, ScenarioStatus, StepOutcome,
    StepStatus,
};

/// A `/proc/self/status` field in KiB (0 where there is none).
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn synthetic_run(n: usize) -> RunOutcome {
    let body = format!(
        r#"{{"resourceType":"Bundle","type":"message","entry":[{}]}}"#,
        vec![r#"{"resource":{"resourceType":"Communication","status":"unknown","payload":[{"contentString":"Patienten er udskrevet til eget hjem."}]}}"#; 48].join(",")
    );
    let mut run = RunOutcome::placeholder(
        RunStatus::Finished,
        "http://127.0.0.1:8080/fhir".into(),
        Grade::F4,
        None,
    );
    run.scenarios = (0..n)
        .map(|i| {
            let failing = i % 10 == 3;
            let mut ack = vec![
                medcom_harness::rule::KR1
                    .pass("The message was acknowledged.")
                    .with_evidence(["e2"]),
            ];
            if failing {
                ack.push(
                    medcom_harness::rule::KR3
                        .breach("Acknowledged `fatal-error`, expected `ok`.")
                        .with_evidence(["e2"]),
                );
            }
            let step = |index: usize, kind: &str, findings, evidence: &str| StepOutcome {
                index,
                kind: kind.into(),
                summary: format!("Step {index} of scenario {i}."),
                status: StepStatus::Ran,
                reason: None,
                error: None,
                findings,
                evidence: vec![evidence.into()],
                diffs: Vec::new(),
                duration: Duration::from_millis(12),
            };
            let evidence = |id: &str, direction| {
                Evidence::new(
                    id.into(),
                    direction,
                    format!("CareCommunication ({id})"),
                    "application/fhir+json".into(),
                    body.clone().into_bytes(),
                )
            };
            let steps = vec![
                step(1, "send", Vec::new(), "e1"),
                step(2, "expect-ack", ack, "e2"),
            ];
            ScenarioOutcome {
                id: format!("cc-scale-{i:05}"),
                title: format!("Scale scenario {i}"),
                path: format!("scenarios/scale/cc-scale-{i:05}.toml"),
                standard: "CareCommunication 5.0".into(),
                protocol_step: Some("R-A".into()),
                tags: vec!["scale".into()],
                status: if failing {
                    ScenarioStatus::Failed
                } else {
                    ScenarioStatus::Passed
                },
                verdict: if failing { Grade::F1 } else { Grade::Ok },
                reason: None,
                steps,
                evidence: vec![
                    evidence("e1", Direction::Sent),
                    evidence("e2", Direction::Received),
                ],
                duration: Duration::from_millis(30),
            }
        })
        .collect();
    run
}

/// CPU time of this process so far (user and system), in seconds, from `/proc/self/stat`
/// (clock ticks of 1/100 s, Linux's `USER_HZ`).
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // The fields after the command name (in parentheses, which may hold spaces).
            let rest = s.rsplit_once(')')?.1.split_whitespace().collect::<Vec<_>>();
            let utime: f64 = rest.get(11)?.parse().ok()?;
            let stime: f64 = rest.get(12)?.parse().ok()?;
            Some((utime + stime) / 100.0)
        })
        .unwrap_or(0.0)
}

/// Writes each evidence item's bytes to `evidence/<scenario>.<id>.json` beside the results and
/// sets its `file`, keeping the bytes in memory: what a run's recorder (the journal) does while
/// the run goes on, before the reports are written.
fn record_evidence(run: &mut RunOutcome, dir: &std::path::Path) {
    let folder = dir.join("evidence");
    std::fs::create_dir_all(&folder).expect("evidence folder");
    for s in &mut run.scenarios {
        for e in &mut s.evidence {
            let name = format!("{}.{}.json", s.id, e.id);
            std::fs::write(folder.join(&name), &e.bytes).expect("evidence");
            e.file = Some(format!("evidence/{name}"));
        }
    }
}

/// The reports of `n` synthetic scenarios, timed (wall and CPU). The evidence files are written
/// first, as a run's recorder writes them while the run goes on, and timed apart (unless
/// `SCALE_UNRECORDED` is set: then the reports write them, and their time counts). With
/// `SCALE_OUT=<folder>` the reports are written there and kept (to open `report.html`).
fn reports(n: usize) {
    let mut run = synthetic_run(n);
    let before = status_kib("VmRSS:");
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = std::env::var_os("SCALE_OUT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| temp.path().to_path_buf());
    let paths = Paths {
        html: dir.join("report.html"),
        junit: dir.join("junit.xml"),
        json: dir.join("results.json"),
    };
    paths.check().expect("report paths");
    let t = Instant::now();
    // `SCALE_UNRECORDED=1`: the reports write the evidence files too (as the bench did before).
    if std::env::var_os("SCALE_UNRECORDED").is_none() {
        record_evidence(&mut run, &dir);
    }
    let recorded = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds();
    let t = Instant::now();
    write_all(&run, &paths, &Options::default()).expect("reports written");
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    let size = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len()) as f64 / 1e6;
    println!(
        "reports, {n} scenarios: {secs:.2} s wall, {cpu:.2} s CPU (HTML, JUnit, JSON; the {} evidence files, written before as a run's recorder does: {recorded:.2} s); report.html {:.1} MB, junit.xml {:.1} MB, results.json {:.1} MB; RSS before {:.0} MiB, peak {:.0} MiB",
        2 * n,
        size(&paths.html),
        size(&paths.junit),
        size(&paths.json),
        mib(before),
        mib(status_kib("VmHWM:")),
    );
    chromium(&paths.html);
}

/// Seconds headless Chromium takes to load `page` and print its DOM (`--dump-dom`, which waits
/// for the page to load), the median of three; `None` when it cannot be started.
fn chromium_seconds(browser: &str, page: &std::path::Path) -> Option<f64> {
    let mut times = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let done = std::process::Command::new(browser)
            .args(["--headless", "--disable-gpu", "--no-sandbox", "--dump-dom"])
            .arg(format!("file://{}", page.display()))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        if !done.success() {
            return None;
        }
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Some(times[1])
}

/// Prints how long headless Chromium takes to open the report at `html`, beside its start-up
/// (an empty page), when a browser is there: `SCALE_CHROMIUM` names it, else `chromium`.
fn chromium(html: &std::path::Path) {
    let browser = std::env::var("SCALE_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let empty = html.with_file_name("empty.html");
    if std::fs::write(&empty, "<!DOCTYPE html><title>empty</title>").is_err() {
        return;
    }
    let html = std::fs::canonicalize(html).unwrap_or_else(|_| html.to_path_buf());
    let empty_path = std::fs::canonicalize(&empty).unwrap_or_else(|_| empty.clone());
    if let (Some(page), Some(start)) = (
        chromium_seconds(&browser, &html),
        chromium_seconds(&browser, &empty_path),
    ) {
        println!(
            "report.html in headless {browser} (--dump-dom, median of 3): {page:.2} s; an empty page (start-up): {start:.2} s"
        );
    }
    let _ = std::fs::remove_file(empty);
}

fn serve(messages: usize) {
    use medcom_harness::simulator::{Simulator, VendorConfig};
    use medcom_harness::template::{Context, Templates};
    let config = medcom_harness::config::Config::load(None).expect("config");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let vendor = config.vendor.clone();
        let sim = Simulator::start("127.0.0.1:0".parse().expect("addr"), VendorConfig::new(vendor.clone()))
            .await
            .expect("serve starts");
        let url = sim.url();
        let templates = std::sync::Arc::new(Templates::builtin());
        let client = reqwest::Client::new();
        let before = status_kib("VmRSS:");
        let t = Instant::now();
        let workers = 4;
        let mut tasks = Vec::new();
        for w in 0..workers {
            let (templates, client, url, vendor) =
                (templates.clone(), client.clone(), url.clone(), vendor.clone());
            tasks.push(tokio::spawn(async move {
                for _ in (w..messages).step_by(workers) {
                    let ctx = Context::new_message(
                        "https://harness.medcom.example/fhir/",
                        medcom_harness::template::Organization {
                            ean: "5790000000012".into(),
                            sor_id: "953741000016009".into(),
                            name: "Harness".into(),
                        },
                        vendor.clone(),
                    );
                    let (body, _) = templates
                        .render("carecommunication/new", &ctx)
                        .expect("message renders");
                    let answer = client
                        .post(&url)
                        .header("content-type", "application/fhir+json")
                        .body(body)
                        .send()
                        .await
                        .expect("posted");
                    assert!(answer.status().is_success(), "{}", answer.status());
                    let _ = answer.bytes().await;
                }
            }));
        }
        for t in tasks {
            t.await.expect("worker");
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "serve, {messages} messages (4 connections, harness and vendor in one process): {:.0} acks/s; RSS before {:.0} MiB, after {:.0} MiB, peak {:.0} MiB",
            messages as f64 / secs,
            mib(before),
            mib(status_kib("VmRSS:")),
            mib(status_kib("VmHWM:")),
        );
    });
}

/// Loading `n` scenario files from one folder, timed (the files are written before the clock
/// starts, and removed after).
fn loading(n: usize) {
    let model = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios/carecommunication/reply-thread.toml"),
    )
    .expect("the bundled reply-thread scenario");
    let dir = tempfile::tempdir().expect("temp dir");
    for i in 0..n {
        let text = model.replacen(
            "id = \"cc-receive-reply\"",
            &format!("id = \"cc-load-{i:05}\""),
            1,
        );
        std::fs::write(dir.path().join(format!("s{i:05}.toml")), text).expect("scenario written");
    }
    let t = Instant::now();
    let loaded = medcom_harness::scenario::load(&[dir.path().to_path_buf()]).expect("loads");
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(loaded.len(), n);
    println!(
        "loading, {n} scenario files: {:.3} s ({:.1} µs a file)",
        secs,
        secs * 1e6 / n as f64
    );
}

/// The golden comparison of one JSON document with an unordered array of `n` items, the
/// actual's in reverse order: `n / 10` distinct items, each repeated ten times.
fn golden(n: usize) {
    use medcom_harness::golden::{CompareOptions, compare};
    let item = |i: usize| {
        format!(
            r#"{{"code":"c{}","display":"Item {}"}}"#,
            i % (n / 10),
            i % (n / 10)
        )
    };
    let golden: Vec<String> = (0..n).map(item).collect();
    let actual: Vec<String> = (0..n).rev().map(item).collect();
    let doc = |items: &[String]| format!(r#"{{"items":[{}]}}"#, items.join(","));
    let opts = CompareOptions {
        unordered: vec!["items".into()],
        ..CompareOptions::default()
    };
    let t = Instant::now();
    let outcome =
        compare(doc(&golden).as_bytes(), doc(&actual).as_bytes(), &opts).expect("compares");
    let secs = t.elapsed().as_secs_f64();
    assert!(outcome.is_match(), "{:?}", outcome.differences.first());
    println!(
        "golden, unordered array of {n} items (reversed, each repeated 10 times): {secs:.3} s"
    );
}

fn main() {
    let which = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    if which.as_deref().is_none_or(|w| w == "serve") {
        serve(count("SCALE_MESSAGES", 20_000));
    }
    if which.as_deref().is_none_or(|w| w == "reports") {
        reports(count("SCALE_SCENARIOS", 10_000));
    }
    if which.as_deref() == Some("loading") {
        for n in [2_500, 5_000, 10_000] {
            loading(n);
        }
    }
    if which.as_deref() == Some("golden") {
        for n in [500, 1_000, 2_000, 4_000] {
            golden(n);
        }
    }
}
