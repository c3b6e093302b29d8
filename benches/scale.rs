//! Scale: the reports of a 10,000-scenario run (writing time, size, peak RSS) and the reference
//! vendor's memory after 20,000 messages: `cargo bench --bench scale -- reports` and
//! `cargo bench --bench scale -- serve` (each in its own process, so each peak is its own; with
//! neither, both run, serve first).
//!
//! Memory figures are the process's own, from `/proc/self/status` (Linux): `VmRSS` (resident
//! now) and `VmHWM` (the peak). The run of 10,000 scenarios is synthetic (two steps, two 6.5 KB
//! messages each, one in ten failing with a KR3 finding), built in memory before the clock
//! starts; its size is printed as the RSS before writing. `SCALE_SCENARIOS` and
//! `SCALE_MESSAGES` change the counts.

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

fn reports(n: usize) {
    let run = synthetic_run(n);
    let before = status_kib("VmRSS:");
    let dir = tempfile::tempdir().expect("temp dir");
    let paths = Paths {
        html: dir.path().join("report.html"),
        junit: dir.path().join("junit.xml"),
        json: dir.path().join("results.json"),
    };
    paths.check().expect("report paths");
    let t = Instant::now();
    write_all(&run, &paths, &Options::default()).expect("reports written");
    let secs = t.elapsed().as_secs_f64();
    let size = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len()) as f64 / 1e6;
    println!(
        "reports, {n} scenarios: {secs:.2} s (HTML, JUnit, JSON and {} evidence files); report.html {:.1} MB, junit.xml {:.1} MB, results.json {:.1} MB; RSS before {:.0} MiB, peak {:.0} MiB",
        2 * n,
        size(&paths.html),
        size(&paths.junit),
        size(&paths.json),
        mib(before),
        mib(status_kib("VmHWM:")),
    );
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

fn main() {
    let which = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    if which.as_deref().is_none_or(|w| w == "serve") {
        serve(count("SCALE_MESSAGES", 20_000));
    }
    if which.as_deref().is_none_or(|w| w == "reports") {
        reports(count("SCALE_SCENARIOS", 10_000));
    }
}
