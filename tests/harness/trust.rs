//! Verdicts a certifier can trust, as users run the harness: no stale or false PASSED, nothing
//! lost to `kill -9`, the harness's own failures are exit 2 and never the vendor's findings, CPR
//! numbers masked in reports, oversized scenario files refused.

use crate::support::{SCENARIO_HEAD, bin, write_scenario};
use serde_json::Value;
use std::path::Path;

const SEND_AND_ACK: &str = "[[step]]\nsend = { message = \"carecommunication/new\", as = \"first\" }\n[[step]]\nexpect-ack = { for = \"first\" }\n";

fn suite(dir: &Path, body: &str) {
    write_scenario(dir, &format!("{SCENARIO_HEAD}{body}"));
}

fn results(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("reports/results.json")).expect("results.json");
    serde_json::from_str(&text).expect("results.json is JSON")
}

fn run_in(dir: &Path, args: &[&str]) -> std::process::Output {
    bin()
        .current_dir(dir)
        .arg("run")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run")
}

/// A port nothing listens on: taken from a listener that is closed again.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port()
}

#[test]
fn a_run_that_cannot_start_replaces_an_earlier_passed_report_with_not_run() {
    let dir = tempfile::tempdir().expect("tmp");
    suite(dir.path(), SEND_AND_ACK);
    let passed = run_in(dir.path(), &[]);
    assert_eq!(passed.status.code(), Some(0), "the embedded vendor passes");
    assert_eq!(results(dir.path())["passed"], true);
    let out = run_in(
        dir.path(),
        &[
            "--target",
            &format!("http://127.0.0.1:{}/fhir", closed_port()),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let json = results(dir.path());
    assert_eq!(json["passed"], false);
    assert_eq!(json["status"], "not-started");
    assert_eq!(json["verdict"], "NOT RUN");
    assert!(
        json["note"]
            .as_str()
            .is_some_and(|n| n.contains("cannot connect")),
        "{json}"
    );
    let html = std::fs::read_to_string(dir.path().join("reports/report.html")).expect("html");
    assert!(
        html.contains("NOT RUN") && !html.contains("PASSED"),
        "{html}"
    );
    let junit = std::fs::read_to_string(dir.path().join("reports/junit.xml")).expect("junit");
    // No scenario's test case of the earlier run; the run itself is one test case in error, so
    // CI shows red.
    assert!(!junit.contains("name=\"t\""), "{junit}");
    assert_eq!(junit.matches("<testcase").count(), 1, "{junit}");
    assert!(
        junit.contains("name=\"medcom-harness run\"")
            && junit.contains("<error message=\"NOT RUN:"),
        "{junit}"
    );
}

#[test]
fn an_unwritable_report_path_is_exit_2_before_any_scenario_runs() {
    let dir = tempfile::tempdir().expect("tmp");
    suite(dir.path(), SEND_AND_ACK);
    std::fs::create_dir_all(dir.path().join("a-folder")).expect("mkdir");
    let out = run_in(dir.path(), &["--report-html", "a-folder"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("a-folder") && err.contains("is a folder"),
        "{err}"
    );
    assert!(!err.contains("running"), "a scenario ran: {err}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The same file for two reports is refused too.
    let out = run_in(dir.path(), &["--report-junit", "reports/results.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("two reports"));
}

#[test]
fn a_run_with_a_skipped_scenario_is_incomplete_and_exits_2_unless_skips_are_allowed() {
    let dir = tempfile::tempdir().expect("tmp");
    // An exchange folder with no reference vendor behind it: nobody performs `instruct`.
    let exchange = dir.path().join("exchange");
    std::fs::create_dir_all(&exchange).expect("mkdir");
    suite(
        dir.path(),
        "[[step]]\ninstruct = { text = \"Reply to the message in your system.\" }\n",
    );
    let target = exchange.display().to_string();
    let out = run_in(dir.path(), &["--target", &target]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("INCOMPLETE"), "{stdout}");
    let json = results(dir.path());
    assert_eq!(json["scenarios"][0]["status"], "skipped");
    assert_eq!(json["passed"], false);
    assert_eq!(json["verdict"], "INCOMPLETE");
    let html = std::fs::read_to_string(dir.path().join("reports/report.html")).expect("html");
    let doc = scraper::Html::parse_document(&html);
    let verdict = scraper::Selector::parse(".verdict").expect("css");
    let v = doc.select(&verdict).next().expect("a verdict");
    assert_eq!(v.text().collect::<String>(), "INCOMPLETE");
    assert!(
        !v.value().classes().any(|c| c == "passed"),
        "a green banner"
    );
    let row = scraper::Selector::parse("table.scenarios tbody tr").expect("css");
    for r in doc.select(&row) {
        let green = scraper::Selector::parse(".passed, .ok").expect("css");
        assert!(
            r.select(&green).next().is_none(),
            "a skipped row is green: {}",
            r.html()
        );
    }
    let allowed = run_in(dir.path(), &["--target", &target, "--allow-skipped"]);
    assert_eq!(allowed.status.code(), Some(0));
    assert_eq!(results(dir.path())["passed"], true);
}

#[test]
fn a_read_only_inbox_is_an_error_of_the_run_exit_2() {
    let dir = tempfile::tempdir().expect("tmp");
    let exchange = dir.path().join("exchange");
    // A file where the inbox folder should be: no user, root included, can write into it.
    std::fs::create_dir_all(&exchange).expect("mkdir");
    std::fs::write(exchange.join("in"), b"not a folder").expect("write");
    suite(dir.path(), SEND_AND_ACK);
    let out = run_in(dir.path(), &["--target", &exchange.display().to_string()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(results(dir.path())["passed"], false);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("FAIL"));
}

#[test]
fn a_port_in_use_is_an_error_of_the_run_exit_2_with_a_hint() {
    let dir = tempfile::tempdir().expect("tmp");
    suite(dir.path(), SEND_AND_ACK);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    std::fs::write(
        dir.path().join("h.toml"),
        format!("listen = \"127.0.0.1:{port}\"\n"),
    )
    .expect("config");
    let out = run_in(dir.path(), &["--config", "h.toml"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("hint:"), "{err}");
    assert_eq!(results(dir.path())["verdict"], "NOT RUN");
    drop(taken);
}

#[test]
fn a_message_the_harness_builds_over_the_size_limit_is_not_sent_and_is_its_error() {
    let dir = tempfile::tempdir().expect("tmp");
    suite(dir.path(), SEND_AND_ACK);
    std::fs::write(
        dir.path().join("h.toml"),
        "[rules]\nsize-limit = 1000\nsize-warning = 500\n",
    )
    .expect("config");
    let out = run_in(dir.path(), &["--config", "h.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let json = results(dir.path());
    let scenario = &json["scenarios"][0];
    assert_eq!(scenario["status"], "error");
    assert!(
        scenario["reason"]
            .as_str()
            .is_some_and(|r| r.contains("size-limit")),
        "{scenario}"
    );
    assert_eq!(
        scenario["evidence"].as_array().map(Vec::len),
        Some(0),
        "nothing was sent"
    );
}

#[test]
fn a_scenario_file_over_the_size_limit_is_refused_naming_it() {
    let dir = tempfile::tempdir().expect("tmp");
    suite(dir.path(), SEND_AND_ACK);
    std::fs::write(dir.path().join("h.toml"), "scenario-size-limit = 100\n").expect("config");
    let out = run_in(dir.path(), &["--config", "h.toml", "--list"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("t.toml") && err.contains("size limit"),
        "{err}"
    );
}

#[test]
fn cpr_numbers_are_masked_in_reports_and_kept_in_evidence() {
    let dir = tempfile::tempdir().expect("tmp");
    // MedCom's test patient's CPR number, in free text with the hyphen.
    suite(
        dir.path(),
        "[[step]]\nsend = { message = \"carecommunication/new\", as = \"first\", text = \"Vedr. patient 250947-9989 og 2509479989.\" }\n[[step]]\nexpect-ack = { for = \"first\" }\n",
    );
    let out = run_in(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0));
    let reports = dir.path().join("reports");
    for report in ["report.html", "results.json", "junit.xml"] {
        let text = std::fs::read_to_string(reports.join(report)).expect("report");
        assert!(
            !text.contains("250947-9989") && !text.contains("2509479989"),
            "a CPR number in {report}"
        );
    }
    let html = std::fs::read_to_string(reports.join("report.html")).expect("html");
    assert!(html.contains("250947-****"), "the masked form is shown");
    // The evidence file keeps the bytes as sent.
    let json = results(dir.path());
    let file = json["scenarios"][0]["evidence"][0]["file"]
        .as_str()
        .expect("evidence file");
    let sent = std::fs::read_to_string(reports.join(file)).expect("evidence");
    assert!(sent.contains("250947-9989"), "{sent}");
    let shown = run_in(dir.path(), &["--show-cpr"]);
    assert_eq!(shown.status.code(), Some(0));
    let html = std::fs::read_to_string(reports.join("report.html")).expect("html");
    assert!(html.contains("250947-9989"));
}

#[test]
fn kill_9_then_resume_writes_one_report_with_every_scenario_once() {
    let dir = tempfile::tempdir().expect("tmp");
    // Three scenarios that each wait out a missing acknowledgement (`no-ack`), one at a time.
    for n in 1..=3 {
        std::fs::create_dir_all(dir.path().join("scenarios/cc")).expect("mkdir");
        std::fs::write(
            dir.path().join(format!("scenarios/cc/t{n}.toml")),
            format!(
                "id = \"t{n}\"\ntitle = \"t{n}\"\nstandard = \"CareCommunication 5.0\"\n{SEND_AND_ACK}"
            ),
        )
        .expect("write");
    }
    std::fs::write(dir.path().join("h.toml"), "default-within = 2\n").expect("config");
    let args = [
        "run", "--config", "h.toml", "--fault", "no-ack", "--jobs", "1",
    ];
    let mut child = bin()
        .current_dir(dir.path())
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run");
    let journal = dir.path().join("reports/.journal.jsonl");
    let started = std::time::Instant::now();
    loop {
        let lines = std::fs::read_to_string(&journal)
            .map(|t| t.matches("{\"scenario\"").count())
            .unwrap_or(0);
        if lines >= 1 {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "no scenario finished"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().expect("kill -9");
    child.wait().expect("reaped");
    // What the kill left: the in-progress report, never a verdict.
    let left = results(dir.path());
    assert_eq!(left["status"], "in-progress");
    assert_eq!(left["passed"], false);
    let html = std::fs::read_to_string(dir.path().join("reports/report.html")).expect("html");
    assert!(html.contains("In progress / not finished") && !html.contains("PASSED"));
    let out = bin()
        .current_dir(dir.path())
        .args(args)
        .arg("--resume")
        .output()
        .expect("resume");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("resuming:"), "{err}");
    let json = results(dir.path());
    let ids: Vec<&str> = json["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(ids, ["t1", "t2", "t3"]);
    for s in json["scenarios"].as_array().expect("scenarios") {
        assert_eq!(s["status"], "failed", "{s}");
        for e in s["evidence"].as_array().expect("evidence") {
            let file = e["file"].as_str().expect("filed");
            assert!(dir.path().join("reports").join(file).is_file(), "{file}");
        }
    }
}

#[test]
fn resume_against_another_target_is_refused_exit_2_and_sends_it_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    suite(dir.path(), SEND_AND_ACK);
    let first = run_in(dir.path(), &[]);
    assert_eq!(first.status.code(), Some(0), "the embedded vendor passes");
    // A vendor that was never tested: it must get no request, and no PASSED may stand for it.
    let vendor = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    vendor.set_nonblocking(true).expect("non-blocking");
    let url = format!(
        "http://127.0.0.1:{}/fhir",
        vendor.local_addr().expect("addr").port()
    );
    let out = run_in(dir.path(), &["--resume", "--target", &url]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("target") && err.contains(&url), "{err}");
    assert!(err.contains("hint:"), "{err}");
    assert!(!err.contains("resuming:"), "{err}");
    match vendor.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the untested vendor was contacted: {other:?}"),
    }
    // The earlier run's reports stay as they were: they name the embedded vendor.
    let json = results(dir.path());
    assert_eq!(json["target"], "embedded reference vendor");
}

#[test]
fn resume_of_a_finished_run_is_refused_and_counts_nothing_twice() {
    let dir = tempfile::tempdir().expect("tmp");
    suite(dir.path(), SEND_AND_ACK);
    let first = run_in(dir.path(), &[]);
    assert_eq!(first.status.code(), Some(0));
    let out = run_in(dir.path(), &["--resume"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("nothing to resume") && err.contains("run without --resume"),
        "{err}"
    );
    let json = results(dir.path());
    let ids: Vec<&str> = json["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(ids, ["t"], "every scenario once");
}

#[test]
fn a_step_the_harness_cannot_perform_is_reported_with_its_file_and_line() {
    let dir = tempfile::tempdir().expect("tmp");
    // A JSON Patch that does not apply: the harness cannot build the message.
    suite(
        dir.path(),
        "\n[[step]]\nsend = { message = \"carecommunication/new\", as = \"first\", patch = [{ op = \"remove\", path = \"/no-such-key\" }] }\n",
    );
    let out = run_in(dir.path(), &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    // SCENARIO_HEAD is three lines and a blank one: the `[[step]]` is on line 5.
    let at = Path::new("scenarios/cc/t.toml").display().to_string() + ":5";
    assert!(stdout.contains(&at), "{stdout}");
    let json = results(dir.path());
    assert_eq!(
        json["scenarios"][0]["steps"][0]["error"]["location"],
        at.as_str()
    );
    let junit = std::fs::read_to_string(dir.path().join("reports/junit.xml")).expect("junit");
    assert!(junit.contains(&at), "{junit}");
    let html = std::fs::read_to_string(dir.path().join("reports/report.html")).expect("html");
    assert!(html.contains(&at), "the HTML report names the line");
}

#[test]
fn scenarios_an_http_endpoint_cannot_take_are_listed_as_not_applicable_not_skipped() {
    // The bundled OIOXML scenarios need an exchange folder; against an HTTP endpoint they are
    // left out and listed, and the verdict covers the scenarios that ran.
    let dir = tempfile::tempdir().expect("tmp");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let serve = crate::support::Serve::start(&[]);
    let out = crate::support::run_with_reports(
        dir.path(),
        &[
            "run".as_ref(),
            root.join("scenarios/oioxml/xdis91-new-with-bin.toml")
                .as_os_str(),
            root.join("scenarios/carecommunication/new-json.toml")
                .as_os_str(),
            "--target".as_ref(),
            serve.url.as_ref(),
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("not applicable: "), "{err}");
    let json: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("results.json")).expect("results"))
            .expect("json");
    assert_eq!(json["scenarios"].as_array().map(Vec::len), Some(1));
    assert_eq!(json["not_applicable"].as_array().map(Vec::len), Some(1));
    let html = std::fs::read_to_string(dir.path().join("r.html")).expect("html");
    assert!(html.contains("Not applicable to this target"));
}

#[test]
fn without_a_terminal_an_instruct_step_asks_nothing_and_records_no_review() {
    // stdin is not a terminal (null): the step is skipped as before, and the review log, where
    // a terminal operator's answer would go, is not written.
    let dir = tempfile::tempdir().expect("tmp");
    let exchange = dir.path().join("exchange");
    std::fs::create_dir_all(&exchange).expect("mkdir");
    suite(
        dir.path(),
        "[[step]]\ninstruct = { text = \"Show the message in your system.\" }\n",
    );
    let target = exchange.display().to_string();
    let out = run_in(dir.path(), &["--target", &target]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("not relevant"),
        "a prompt was shown: {stderr}"
    );
    let json = results(dir.path());
    assert_eq!(json["scenarios"][0]["status"], "skipped");
    assert!(!dir.path().join("reports/review.jsonl").exists());
}
