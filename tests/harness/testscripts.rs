//! MedCom's FHIR TestScripts run as scenarios against the embedded reference vendor: they pass
//! (but for the published scripts' own defects), each leaves an R4 TestReport that fits the R4
//! type model, and every CareCommunication and acknowledgement fault of the vendor fails one.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::support::{bin, corpus};

/// The CareCommunication send scripts and the Acknowledgement receive scripts: what runs on
/// this build without HospitalNotification templates.
fn scripts() -> Vec<PathBuf> {
    let ig = corpus().join("medcomfhir-website/ig");
    let mut files = Vec::new();
    for (dir, prefix) in [
        (
            "carecommunicationtestscripts/5.0.0",
            "TestScript-carecommunication-send-",
        ),
        (
            "acknowledgementtestscript",
            "TestScript-acknowledgement-receive-",
        ),
    ] {
        for e in std::fs::read_dir(ig.join(dir)).expect("script folder") {
            let p = e.expect("entry").path();
            if p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
            {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// Runs `files` (with `--fault` when given) in a fresh folder; returns the folder and the JSON
/// results.
fn run(files: &[PathBuf], fault: Option<&str>) -> (tempfile::TempDir, Value) {
    let dir = tempfile::tempdir().expect("tmp");
    let config = dir.path().join("fast.toml");
    std::fs::write(&config, "default-within = 3\n").expect("config");
    let mut cmd = bin();
    cmd.current_dir(dir.path())
        .arg("run")
        .args(files)
        .arg("--ig")
        .arg(corpus().join("medcomfhir-website/ig"))
        .arg("--config")
        .arg(&config)
        .arg("--report-json")
        .arg(dir.path().join("reports/results.json"))
        .arg("--report-html")
        .arg(dir.path().join("reports/r.html"))
        .arg("--report-junit")
        .arg(dir.path().join("reports/j.xml"));
    if let Some(f) = fault {
        cmd.args(["--fault", f]);
    }
    let out = cmd.output().expect("run");
    let text = std::fs::read_to_string(dir.path().join("reports/results.json"))
        .unwrap_or_else(|_| panic!("no results: {}", String::from_utf8_lossy(&out.stderr)));
    (dir, serde_json::from_str(&text).expect("results are JSON"))
}

fn ids_with(results: &Value, status: &str) -> Vec<String> {
    results["scenarios"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["status"] == status)
        .filter_map(|s| s["id"].as_str().map(str::to_string))
        .collect()
}

/// Every key of `value` (of FHIR type `ty`) is an element of that type in the R4 model, arrays
/// only where the element repeats; recurses into complex types and contained resources.
fn conforms(model: &medcom_harness::fhir::model::Model, ty: &str, value: &Value, path: &str) {
    let def = model
        .type_def(ty)
        .unwrap_or_else(|| panic!("{path}: no R4 type `{ty}`"));
    let Some(object) = value.as_object() else {
        panic!("{path}: a {ty} must be a JSON object");
    };
    for (key, v) in object {
        if key == "resourceType" {
            continue;
        }
        let (_, element, t) = def
            .element(key)
            .unwrap_or_else(|| panic!("{path}.{key}: not an element of R4 `{ty}`"));
        let items: Vec<&Value> = match v {
            Value::Array(a) => {
                assert!(
                    element.repeats,
                    "{path}.{key}: an array where R4 allows one"
                );
                a.iter().collect()
            }
            other => {
                assert!(!element.repeats, "{path}.{key}: R4 wants an array");
                vec![other]
            }
        };
        let complex = t.contains('.') || t.chars().next().is_some_and(char::is_uppercase);
        for item in items {
            if complex {
                conforms(model, t, item, &format!("{path}.{key}"));
            } else {
                assert!(
                    !item.is_object() && !item.is_array(),
                    "{path}.{key}: a primitive"
                );
            }
        }
    }
}

/// CareCommunication 5.0.0 send scripts and Acknowledgement receive scripts, played against the
/// reference vendor, whose messages are the harness's own templates (new, reply, forward,
/// acknowledgement): none fails. The scripts that end in errors are exactly the published
/// scripts' defects the README names (three undefined variables, two reply data counts that
/// contradict the IG), and every passing script has a TestReport with `result = pass`.
#[test]
fn medcom_scripts_pass_against_the_reference_vendor_with_a_test_report_each() {
    let (dir, results) = run(&scripts(), None);
    assert_eq!(ids_with(&results, "failed"), Vec::<String>::new());
    let mut errors = ids_with(&results, "error");
    errors.sort();
    assert_eq!(
        errors,
        [
            "carecommunication-send-forward-changetopic",
            "carecommunication-send-forward-partialthread",
            "carecommunication-send-reply-add-attachment",
            "carecommunication-send-reply-attachment",
            "carecommunication-send-reply-forward",
        ]
    );
    let passed = ids_with(&results, "passed");
    assert_eq!(passed.len(), scripts().len() - 5);
    let model = medcom_harness::fhir::model::r4().expect("the R4 model loads");
    for id in &passed {
        let path = dir.path().join(format!("reports/testreports/{id}.json"));
        let report: Value = serde_json::from_str(
            &std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("no {}", path.display())),
        )
        .expect("a TestReport is JSON");
        assert_eq!(report["resourceType"], "TestReport");
        assert_eq!(report["result"], "pass", "{id}");
        assert_eq!(report["status"], "completed", "{id}");
        conforms(model, "TestReport", &report, "TestReport");
    }
    // A script whose own defects made some asserts errors still ran every action: R4's
    // `completed` ("stopped" is an execution stopped before its end), result `pending`.
    for id in &errors {
        let path = dir.path().join(format!("reports/testreports/{id}.json"));
        let report: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("TestReport"))
                .expect("JSON");
        assert_eq!(report["status"], "completed", "{id}");
        assert_eq!(report["result"], "pending", "{id}");
    }
}

/// `testreports/` holds the TestReports of the run that wrote it: a rerun of fewer scripts in the
/// same folder leaves none of the earlier run's behind, and `evidence pack` carries them.
#[test]
fn testreports_are_the_last_runs_and_go_into_the_evidence_package() {
    let all = scripts();
    let (dir, _) = run(&all[..3], None);
    let reports = dir.path().join("reports/testreports");
    let count = || std::fs::read_dir(&reports).expect("testreports").count();
    assert_eq!(count(), 3);
    let out = bin()
        .current_dir(dir.path())
        .arg("run")
        .arg(&all[0])
        .arg("--ig")
        .arg(corpus().join("medcomfhir-website/ig"))
        .args(["--config", "fast.toml"])
        .output()
        .expect("rerun");
    assert!(
        out.status.code().is_some(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count(), 1, "only the rerun's script");
    // The package carries it, under report/testreports/.
    let with_password = |args: &[&str]| {
        use std::io::Write;
        let mut child = bin()
            .current_dir(dir.path())
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"pw\n")
            .expect("password");
        let out = child.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    with_password(&["key", "new", "--output", "k"]);
    with_password(&["evidence", "pack", "--key", "k", "--output", "e.zip"]);
    let zip = zip::ZipArchive::new(std::fs::File::open(dir.path().join("e.zip")).expect("zip"))
        .expect("a zip");
    let names: Vec<String> = zip
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .filter(|n| n.starts_with("report/testreports/"))
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

/// Each CareCommunication and acknowledgement fault profile of the reference vendor fails at
/// least one MedCom script. `non-ok-without-operationoutcome` and `duplicate-different-ack` show
/// only in the Acknowledgement send scripts, which acknowledge HospitalNotifications.
#[test]
fn every_carecommunication_and_acknowledgement_fault_fails_a_medcom_script() {
    let mut with_hn = scripts();
    let faults = [
        "no-ack",
        "wrong-response-identifier",
        "fatal-for-valid",
        "ack-missing-provenance",
        "reply-resends-attachment",
        "forward-drops-attachment",
        "non-ok-without-operationoutcome",
        "duplicate-different-ack",
    ];
    let ack = corpus().join("medcomfhir-website/ig/acknowledgementtestscript");
    for e in std::fs::read_dir(ack).expect("ack scripts") {
        let p = e.expect("entry").path();
        if p.to_string_lossy().contains("acknowledgement-send-") {
            with_hn.push(p);
        }
    }
    for fault in faults {
        let (_dir, results) = run(&with_hn, Some(fault));
        assert!(
            !ids_with(&results, "failed").is_empty(),
            "no MedCom script fails against the fault `{fault}`"
        );
    }
}

/// A TestScript is a scenario beside TOML scenarios: one run takes both.
#[test]
fn a_testscript_runs_mixed_with_toml_scenarios() {
    let script = scripts()
        .into_iter()
        .find(|p| p.ends_with("TestScript-carecommunication-send-new-message.json"))
        .expect("the new-message script");
    let toml =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/carecommunication/new-json.toml");
    let (_dir, results) = run(&[script, toml], None);
    let mut passed = ids_with(&results, "passed");
    passed.sort();
    assert_eq!(passed.len(), 2, "{results}");
    assert!(passed.contains(&"carecommunication-send-new-message".to_string()));
}

/// A send script of our own whose asserts and variable read HTTP headers (`headerField`): the
/// vendor's POST to the harness's listener, as R4 TestScript `assert.headerField` with
/// `direction = request` means. `expected` is the media type the script wants.
fn header_script(dir: &Path, id: &str, expected: &str) -> PathBuf {
    let script = serde_json::json!({
        "resourceType": "TestScript",
        "id": id,
        "url": format!("http://example.org/TestScript/{id}"),
        "name": "HeaderFieldScript",
        "status": "active",
        "origin": [{"index": 1, "profile": {"code": "FHIR-Client"}}],
        "destination": [{"index": 1, "profile": {"code": "FHIR-Server"}}],
        "fixture": [{"id": "create-new-message-01",
                     "resource": {"reference": "../Fixtures/CareCommunication-fixture-empty.xml"}}],
        "variable": [{"name": "sent-as", "headerField": "Content-Type",
                      "sourceId": "create-new-message-01"}],
        "test": [{"name": "send", "description": "Post CareCommunication to the server.",
            "action": [
                {"operation": {"type": {"code": "create"}, "resource": "Bundle", "origin": 1,
                               "destination": 1, "sourceId": "create-new-message-01"}},
                {"assert": {"description": "content type", "direction": "request",
                            "headerField": "Content-Type", "operator": "contains",
                            "value": expected}},
                {"assert": {"description": "the variable reads the same header",
                            "direction": "request",
                            "expression": format!("'${{sent-as}}'.contains('{expected}')")}}
            ]}]
    });
    let path = dir.join(format!("TestScript-{id}.json"));
    std::fs::write(&path, script.to_string()).expect("script");
    path
}

/// `headerField` asserts and variables read the vendor's POST headers: the reference vendor
/// sends `application/fhir+json` (FHIR R4 http.html, the JSON media type), so a script that
/// wants it passes and one that wants `application/fhir+xml` fails on that assert.
#[test]
fn header_field_asserts_and_variables_read_the_vendors_request_headers() {
    let dir = tempfile::tempdir().expect("tmp");
    let good = header_script(dir.path(), "harness-header-json", "application/fhir+json");
    let bad = header_script(dir.path(), "harness-header-xml", "application/fhir+xml");
    let (_d, results) = run(&[good, bad], None);
    assert_eq!(
        ids_with(&results, "passed"),
        ["harness-header-json"],
        "{results}"
    );
    assert_eq!(
        ids_with(&results, "failed"),
        ["harness-header-xml"],
        "{results}"
    );
    let failed = results["scenarios"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["id"] == "harness-header-xml")
        .expect("the xml script");
    let text = failed.to_string();
    assert!(
        text.contains("the request's `Content-Type` header is"),
        "{text}"
    );
}

fn scenario<'a>(results: &'a Value, id: &str) -> &'a Value {
    results["scenarios"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no scenario `{id}` in {results}"))
}

fn cc_script(name: &str) -> PathBuf {
    corpus().join(format!(
        "medcomfhir-website/ig/carecommunicationtestscripts/5.0.0/TestScript-carecommunication-{name}.json"
    ))
}

/// `send-reply-forward` uses an undefined variable in one assert (`test[1].action[4]`, 0-based
/// as JSON indices into the script): only that assert is the script's error. Its other asserts
/// still judge the vendor, so a vendor that acknowledges without the copied Provenance fails the
/// script instead of hiding behind the defect. Messages quote the assert as written.
#[test]
fn a_script_defect_does_not_hide_a_vendor_fault() {
    let script = cc_script("send-reply-forward");
    let (_d, good) = run(std::slice::from_ref(&script), None);
    let s = scenario(&good, "carecommunication-send-reply-forward");
    assert_eq!(s["status"], "error", "{s}");
    let text = s.to_string();
    assert!(text.contains("test[1].action[4]"), "{text}");
    assert!(text.contains("${messageHeaderid-new-message-01}"), "{text}");
    // The payload count is quoted as the script writes it.
    assert!(text.contains("payload.count() = '2'"), "{text}");
    let (_d, bad) = run(&[script], Some("ack-missing-provenance"));
    let s = scenario(&bad, "carecommunication-send-reply-forward");
    assert_eq!(s["status"], "failed", "{s}");
}

/// HospitalNotification PF-send-imp-05 compares the revision's sender SOR code and GLN with the
/// admission's, unquoted: the message names the quirk and shows the comparison as meant, which
/// holds because the reference vendor sends the revision from another department. PF-send-imp-06
/// stays the script's error (its unquoted dateTime does not parse), yet the vendor's revision
/// does change the admission time.
#[test]
fn hospital_notification_revisions_do_what_imp_05_and_imp_06_mean() {
    let dir = corpus().join("HospitalNotificationTouchStoneTestscripts/fsh-generated/resources");
    let files = [
        dir.join("TestScript-hospitalnotification-PF-send-imp-05.json"),
        dir.join("TestScript-hospitalnotification-PF-send-imp-06.json"),
    ];
    let (d, results) = run(&files, None);
    let five = scenario(&results, "hospitalnotification-PF-send-imp-05");
    assert_eq!(five["status"], "passed", "{five}");
    let text = five.to_string();
    assert!(text.contains("compares a string with an integer"), "{text}");
    assert_eq!(
        text.matches("with the value quoted, as the script means it")
            .count(),
        2,
        "{text}"
    );
    // Quoted, the sender's SOR code and GLN differ from the admission's.
    for meant in text.split("as the script means it").skip(1) {
        let result = &meant[meant.find("gives [").expect("a result")..];
        assert!(result.starts_with("gives [\\\"true\\\"]"), "{result}");
    }
    let six = scenario(&results, "hospitalnotification-PF-send-imp-06");
    assert_eq!(six["status"], "error", "{six}");
    assert!(six.to_string().contains("test[1].action[12]"), "{six}");
    // The two HospitalNotifications the vendor sent in imp-06: their admission times differ.
    let starts: Vec<String> = std::fs::read_dir(d.path().join("reports/evidence"))
        .expect("evidence")
        .filter_map(|e| {
            let e = e.ok()?;
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("hospitalnotification-PF-send-imp-06.")
                .then_some(())?;
            let v: Value = serde_json::from_str(&std::fs::read_to_string(e.path()).ok()?).ok()?;
            let header = &v["entry"][0]["resource"];
            (header["eventCoding"]["code"] == "hospital-notification-message").then(|| {
                v["entry"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|e| e["resource"]["resourceType"] == "Encounter")
                    .map(|e| e["resource"]["period"]["start"].to_string())
                    .unwrap_or_default()
            })
        })
        .collect();
    assert_eq!(starts.len(), 2, "{starts:?}");
    assert_ne!(starts[0], starts[1], "{starts:?}");
}

/// Against a real vendor (here one that never answers) without a terminal, the instruction for a
/// send script's `create` (the test's description and what the asserts expect) is logged in the
/// step, and the harness waits `default-within` for the message before it fails the step.
#[test]
fn a_real_vendor_without_a_terminal_gets_the_instruction_in_the_report() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = dir.path().join("fast.toml");
    std::fs::write(&config, "default-within = 2\n").expect("config");
    // A vendor that answers every request `200 ok` and never sends anything.
    let server = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let target = format!("http://{}/fhir", server.local_addr().expect("addr"));
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for stream in server.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    let started = std::time::Instant::now();
    let out = bin()
        .current_dir(dir.path())
        .arg("run")
        .arg(cc_script("send-new-priority"))
        .args(["--target", &target, "--config"])
        .arg(&config)
        .arg("--report-json")
        .arg(dir.path().join("reports/results.json"))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run");
    assert!(started.elapsed() >= std::time::Duration::from_secs(2));
    let text = std::fs::read_to_string(dir.path().join("reports/results.json"))
        .unwrap_or_else(|_| panic!("no results: {}", String::from_utf8_lossy(&out.stderr)));
    let results: Value = serde_json::from_str(&text).expect("JSON");
    let s = scenario(&results, "carecommunication-send-new-priority");
    assert_eq!(s["status"], "failed", "{s}");
    let create = &s["steps"][0];
    let summary = create["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains("logged here for the vendor's system")
            && summary.contains("Post CareCommunication to the server.")
            && summary.contains("priority `asap`"),
        "{summary}"
    );
    assert!(
        create.to_string().contains("no message from the vendor"),
        "{create}"
    );
}

/// An operation whose `sourceId` names a fixture the script does not declare is the script's
/// defect (R4 TestScript: `operation.sourceId` is the id of one of its `fixture`s), whether the
/// vendor or the harness performs it: an error naming the element and the id, never a pass, and
/// the actions after it still run.
#[test]
fn an_undeclared_fixture_in_an_operation_is_an_error_of_the_script() {
    let dir = tempfile::tempdir().expect("tmp");
    let script = serde_json::json!({
        "resourceType": "TestScript",
        "id": "harness-undeclared-fixture",
        "status": "active",
        "origin": [{"index": 1, "profile": {"code": "FHIR-Client"}}],
        "destination": [{"index": 1, "profile": {"code": "FHIR-Server"}}],
        "fixture": [{"id": "create-new-message-01",
                     "resource": {"reference": "../Fixtures/CareCommunication-fixture-empty.xml"}}],
        "setup": {"action": [
            {"operation": {"type": {"code": "create"}, "resource": "Bundle",
                           "sourceId": "gone"}}
        ]},
        "test": [{"name": "send", "description": "Post CareCommunication to the server.",
            "action": [
                {"operation": {"type": {"code": "create"}, "resource": "Bundle", "origin": 1,
                               "destination": 1, "sourceId": "nope"}},
                {"operation": {"type": {"code": "create"}, "resource": "Bundle", "origin": 1,
                               "destination": 1, "sourceId": "create-new-message-01"}},
                {"assert": {"description": "a Bundle came", "direction": "request",
                            "resource": "Bundle"}}
            ]}]
    });
    let path = dir.path().join("TestScript-undeclared.json");
    std::fs::write(&path, script.to_string()).expect("script");
    let (_d, results) = run(&[path], None);
    let s = scenario(&results, "harness-undeclared-fixture");
    assert_eq!(s["status"], "error", "{s}");
    let steps = s["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 4, "{s}");
    let step = |i: usize| steps[i].to_string();
    assert!(
        step(0).contains("setup.action[0].operation.sourceId") && step(0).contains("`gone`"),
        "{}",
        step(0)
    );
    assert!(
        step(1).contains("test[0].action[0].operation.sourceId") && step(1).contains("`nope`"),
        "{}",
        step(1)
    );
    // The run went on: the declared fixture's create and the assert after it judged the vendor.
    assert_eq!(steps[2]["status"], "ran", "{s}");
    assert_eq!(steps[3]["status"], "ran", "{s}");
}
