//! The command line as users run it: exit codes, errors with positions, `diff`, `--update-golden`.

use crate::support::{SCENARIO_HEAD, bin, write_scenario};
use std::path::Path;

fn suite(dir: &Path, body: &str) {
    write_scenario(dir, &format!("{SCENARIO_HEAD}{body}"));
}

#[test]
fn a_misspelt_step_kind_exits_2_naming_file_line_and_the_right_kind() {
    let dir = tempfile::tempdir().expect("tmp");
    suite(
        dir.path(),
        "[[step]]\nsend = { message = \"carecommunication/new\", as = \"first\" }\n[[step]]\nexpect-ak = { for = \"first\" }\n",
    );
    let out = bin()
        .current_dir(dir.path())
        .arg("run")
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("t.toml:7:"), "{err}");
    assert!(err.contains("hint: did you mean `expect-ack`?"), "{err}");
}

#[test]
fn a_vendor_that_is_not_running_is_an_error_of_the_run_exit_2() {
    let dir = tempfile::tempdir().expect("tmp");
    suite(
        dir.path(),
        "[[step]]\nsend = { message = \"carecommunication/new\", as = \"first\" }\n",
    );
    // A port from a listener that is closed again: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let out = bin()
        .current_dir(dir.path())
        .args(["run", "--target", &format!("http://127.0.0.1:{port}/fhir")])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot connect to the vendor endpoint"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
}

#[test]
fn a_vendor_that_never_answers_is_a_transport_finding_within_the_request_timeout() {
    let dir = tempfile::tempdir().expect("tmp");
    suite(
        dir.path(),
        "[[step]]\nsend = { message = \"carecommunication/new\", as = \"first\" }\n[[step]]\nexpect-ack = { for = \"first\" }\n",
    );
    std::fs::write(
        dir.path().join("h.toml"),
        "request-timeout = 1\ndefault-within = 1\n",
    )
    .expect("config");
    // Accepts connections (the kernel's backlog) and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let started = std::time::Instant::now();
    let out = bin()
        .current_dir(dir.path())
        .args([
            "run",
            "--config",
            "h.toml",
            "--target",
            &format!("http://127.0.0.1:{port}/fhir"),
        ])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("transport F1"), "{text}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "bounded by the timeouts"
    );
    let json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("reports/results.json")).expect("results"),
    )
    .expect("json");
    assert_eq!(json["scenarios"][0]["status"], "failed");
    assert_eq!(
        json["scenarios"][0]["steps"][1]["status"], "skipped",
        "nothing to wait for"
    );
    drop(silent);
}

#[test]
fn diff_is_0_for_equal_messages_in_any_key_order_and_1_with_the_path_otherwise() {
    let dir = tempfile::tempdir().expect("tmp");
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.json");
    let c = dir.path().join("c.json");
    std::fs::write(
        &a,
        r#"{"resourceType":"Bundle","id":"{{uuid}}","type":"message"}"#,
    )
    .expect("w");
    std::fs::write(
        &b,
        r#"{"type":"message","id":"0b0d7c43-3d0e-4d61-9c38-5b3b8a6c2f10","resourceType":"Bundle"}"#,
    )
    .expect("w");
    std::fs::write(
        &c,
        r#"{"type":"history","id":"0b0d7c43-3d0e-4d61-9c38-5b3b8a6c2f10","resourceType":"Bundle"}"#,
    )
    .expect("w");
    let same = bin().arg("diff").arg(&a).arg(&b).output().expect("diff");
    assert_eq!(same.status.code(), Some(0));
    let differ = bin().arg("diff").arg(&a).arg(&c).output().expect("diff");
    assert_eq!(differ.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&differ.stdout).contains("type"));
}

/// An XCTL02 negative receipt (OIOXML 2005/08/07, DOMAIN.md §4) whose `RefuseText` names
/// "Sygehus Sønderjylland", with the XML declaration naming `encoding`.
fn xctl02_receipt(encoding: &str, refuse_text: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="{encoding}"?>
<Emessage xmlns="http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2005/08/07/">
  <Envelope>
    <Sent><Date>2024-05-01</Date><Time>10:21</Time></Sent>
    <Identifier>E2405011021004</Identifier>
    <AcknowledgementCode>minuspositivkvitt</AcknowledgementCode>
  </Envelope>
  <NegativeReceipt>
    <Letter>
      <Identifier>K2405011021004</Identifier>
      <VersionCode>XC0230Q</VersionCode>
      <StatisticalCode>XCTL02</StatisticalCode>
    </Letter>
    <Sender><EANIdentifier>5790000209354</EANIdentifier></Sender>
    <Receiver><EANIdentifier>5790001348120</EANIdentifier></Receiver>
    <OriginalEmessage>
      <OriginalEnvelopeIdentifier>E2405011015001</OriginalEnvelopeIdentifier>
      <OriginalSender><EANIdentifier>5790001348120</EANIdentifier></OriginalSender>
      <OriginalReceiver><EANIdentifier>5790000209354</EANIdentifier></OriginalReceiver>
      <OriginalLetter>
        <OriginalLetterIdentifier>L2405011015001</OriginalLetterIdentifier>
        <OriginalVersionCode>XD9134L</OriginalVersionCode>
        <RefuseCode>problem_med_modtagerID</RefuseCode>
        <RefuseText>{refuse_text}</RefuseText>
      </OriginalLetter>
    </OriginalEmessage>
  </NegativeReceipt>
</Emessage>
"#
    )
}

/// `text` in ISO-8859-1: every character is the byte of its code point (ISO/IEC 8859-1).
fn iso_8859_1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).expect("a Latin-1 character"))
        .collect()
}

#[test]
fn an_iso_8859_1_xctl_receipt_equals_its_utf8_golden_and_a_real_difference_is_found() {
    let dir = tempfile::tempdir().expect("tmp");
    let refuse = "Ukendt modtager hos Sygehus Sønderjylland, Åbenrå";
    let golden = dir.path().join("xctl02.golden.xml");
    std::fs::write(&golden, xctl02_receipt("UTF-8", refuse)).expect("w");
    let received = dir.path().join("xctl02.xml");
    let latin1 = iso_8859_1(&xctl02_receipt("ISO-8859-1", refuse));
    assert!(
        std::str::from_utf8(&latin1).is_err(),
        "the received receipt must really be ISO-8859-1 (ø is the single byte 0xF8)"
    );
    std::fs::write(&received, &latin1).expect("w");
    let same = bin()
        .arg("diff")
        .arg(&golden)
        .arg(&received)
        .output()
        .expect("diff");
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&same.stdout),
        String::from_utf8_lossy(&same.stderr)
    );
    // One letter differs: ø (0xF8) became o. The comparison still sees it, at its path.
    let other = dir.path().join("xctl02-other.xml");
    std::fs::write(
        &other,
        iso_8859_1(&xctl02_receipt(
            "ISO-8859-1",
            &refuse.replace("Sønderjylland", "Sonderjylland"),
        )),
    )
    .expect("w");
    let differ = bin()
        .arg("diff")
        .arg(&golden)
        .arg(&other)
        .output()
        .expect("diff");
    assert_eq!(differ.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&differ.stdout);
    assert!(stdout.contains("RefuseText"), "{stdout}");
    assert!(stdout.contains("Sønderjylland"), "{stdout}");
}

/// `golden/cc/ack.json` under `dir`: the bundled `ack-ok.json` expecting the code
/// `transient-error`, where the reference vendor answers `ok`.
fn wrong_code_golden(dir: &Path) -> std::path::PathBuf {
    std::fs::create_dir_all(dir.join("golden/cc")).expect("mkdir");
    let golden = dir.join("golden/cc/ack.json");
    let bundled = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/carecommunication/ack-ok.json"),
    )
    .expect("golden");
    std::fs::write(
        &golden,
        bundled.replace("\"code\": \"ok\"", "\"code\": \"transient-error\""),
    )
    .expect("w");
    golden
}

#[test]
fn update_golden_new_writes_a_new_file_that_keeps_the_placeholders() {
    let dir = tempfile::tempdir().expect("tmp");
    suite(
        dir.path(),
        "[[step]]\nsend = { message = \"carecommunication/new\", as = \"first\" }\n[[step]]\nexpect-ack = { for = \"first\", golden = \"ack.json\" }\n",
    );
    // A golden that expects the wrong code.
    let golden = wrong_code_golden(dir.path());
    let out = bin()
        .current_dir(dir.path())
        .args(["run", "--update-golden", "new"])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let new =
        std::fs::read_to_string(dir.path().join("golden/cc/ack.json.new")).expect("a .new golden");
    assert!(new.contains("{{capture:first.letter-id}}"), "{new}");
    assert!(new.contains("\"ok\""), "{new}");
    assert!(
        std::fs::read_to_string(&golden)
            .expect("golden")
            .contains("transient-error"),
        "the golden itself is untouched"
    );
}

/// A small FHIR R4 message (Bundle of type `message`) in JSON: a MessageHeader answering letter
/// `5a1b2c3d-…` with `code`, an Organization and a Binary holding `data`, entries in `order`
/// (indices into [header, organization, binary]).
fn small_message(code: &str, data: &str, order: [usize; 3]) -> String {
    let entries = [
        format!(
            r#"{{"fullUrl":"https://example.org/fhir/MessageHeader/h1","resource":{{"resourceType":"MessageHeader","id":"h1","eventCoding":{{"system":"http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-eventCodes","code":"acknowledgement-message"}},"source":{{"endpoint":"https://sor2.sum.dsdn.dk/#id=123456789012345"}},"response":{{"identifier":"5a1b2c3d-0000-4000-8000-00000000abcd","code":"{code}"}}}}}}"#
        ),
        r#"{"fullUrl":"https://example.org/fhir/Organization/o1","resource":{"resourceType":"Organization","id":"o1","name":"Sender"}}"#.to_owned(),
        format!(
            r#"{{"fullUrl":"https://example.org/fhir/Binary/x1","resource":{{"resourceType":"Binary","id":"x1","contentType":"application/pdf","data":"{data}"}}}}"#
        ),
    ];
    let ordered: Vec<&str> = order.iter().map(|&i| entries[i].as_str()).collect();
    format!(
        r#"{{"resourceType":"Bundle","id":"b1","type":"message","timestamp":"2024-05-01T12:30:00+02:00","entry":[{}]}}"#,
        ordered.join(",")
    )
}

/// [`small_message`] with `ok`, the one-line data and the header-organization-binary order,
/// written by hand as FHIR R4 XML (elements in the R4 definition order, primitives in `value`
/// attributes, the resource type as the element inside `resource`).
const SMALL_MESSAGE_XML: &str = r##"<Bundle xmlns="http://hl7.org/fhir">
  <id value="b1"/>
  <type value="message"/>
  <timestamp value="2024-05-01T12:30:00+02:00"/>
  <entry>
    <fullUrl value="https://example.org/fhir/MessageHeader/h1"/>
    <resource>
      <MessageHeader>
        <id value="h1"/>
        <eventCoding>
          <system value="http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-eventCodes"/>
          <code value="acknowledgement-message"/>
        </eventCoding>
        <source><endpoint value="https://sor2.sum.dsdn.dk/#id=123456789012345"/></source>
        <response>
          <identifier value="5a1b2c3d-0000-4000-8000-00000000abcd"/>
          <code value="ok"/>
        </response>
      </MessageHeader>
    </resource>
  </entry>
  <entry>
    <fullUrl value="https://example.org/fhir/Organization/o1"/>
    <resource><Organization><id value="o1"/><name value="Sender"/></Organization></resource>
  </entry>
  <entry>
    <fullUrl value="https://example.org/fhir/Binary/x1"/>
    <resource>
      <Binary>
        <id value="x1"/>
        <contentType value="application/pdf"/>
        <data value="SGVsbG8sIE1lZENvbSEgVGhpcyBsaW5lIGlzIGxvbmcgZW5vdWdoIHRvIHdyYXAgYXQgNzYgY2hhcmFjdGVycyBpbiBNSU1FIGJhc2U2NC4="/>
      </Binary>
    </resource>
  </entry>
</Bundle>
"##;

#[test]
fn diff_follows_fhir_equality_for_entry_order_xml_and_base64_and_names_real_differences() {
    // `Hello, MedCom! This line is long enough to wrap at 76 characters in MIME base64.` as
    // Python's base64.b64encode and base64.encodebytes (76-character lines) write it.
    let one_line = "SGVsbG8sIE1lZENvbSEgVGhpcyBsaW5lIGlzIGxvbmcgZW5vdWdoIHRvIHdyYXAgYXQgNzYgY2hhcmFjdGVycyBpbiBNSU1FIGJhc2U2NC4=";
    let wrapped = "SGVsbG8sIE1lZENvbSEgVGhpcyBsaW5lIGlzIGxvbmcgZW5vdWdoIHRvIHdyYXAgYXQgNzYgY2hh\\ncmFjdGVycyBpbiBNSU1FIGJhc2U2NC4=\\n";
    let dir = tempfile::tempdir().expect("tmp");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("w");
        path
    };
    let golden = write("golden.json", &small_message("ok", one_line, [0, 1, 2]));
    let diff = |actual: &Path| {
        let out = bin()
            .arg("diff")
            .arg(&golden)
            .arg(actual)
            .output()
            .expect("diff");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    // FHIR R4: only entry[0] of a message Bundle has a place (bdl-12); base64Binary is its
    // bytes; XML and JSON are two forms of one resource.
    let permuted = write("permuted.json", &small_message("ok", wrapped, [0, 2, 1]));
    assert_eq!(diff(&permuted), (Some(0), "equal\n".to_owned()));
    let xml = write("message.xml", SMALL_MESSAGE_XML);
    assert_eq!(diff(&xml), (Some(0), "equal\n".to_owned()));

    let changed = write(
        "changed.json",
        &small_message("fatal-error", one_line, [0, 2, 1]),
    );
    let (code, stdout) = diff(&changed);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "`entry[0].resource.response.code`: expected `\"ok\"`, found `\"fatal-error\"`"
        ),
        "{stdout}"
    );
    for internal in ["Mismatch", "Missing", "Unexpected", "{ placeholder"] {
        assert!(!stdout.contains(internal), "{internal} in {stdout}");
    }

    let short = small_message("ok", one_line, [0, 2, 2]);
    let (code, stdout) = diff(&write("short.json", &short));
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("`entry[1]`: missing, expected `{"),
        "{stdout}"
    );
    assert!(
        stdout.contains("`entry[2]`: not in the golden, found `{"),
        "{stdout}"
    );
}

/// `--skip` leaves its trace: results.json says what was selected and how many were left out,
/// the HTML header says it in words.
#[test]
fn scenarios_left_out_by_skip_are_counted_in_every_report() {
    fn tomls(dir: &Path) -> usize {
        std::fs::read_dir(dir)
            .expect("folder")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .map(|p| {
                if p.is_dir() {
                    tomls(&p)
                } else {
                    usize::from(p.extension().is_some_and(|x| x == "toml"))
                }
            })
            .sum()
    }
    let bundled = tomls(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"));
    let dir = tempfile::tempdir().expect("tmp");
    let run = crate::support::run_with_reports(
        dir.path(),
        &[
            "run".as_ref(),
            "scenarios".as_ref(),
            "--filter".as_ref(),
            "new-json".as_ref(),
        ],
    );
    assert!(run.status.code().is_some(), "run ended");
    let text = std::fs::read_to_string(dir.path().join("results.json")).expect("results");
    let results: serde_json::Value = serde_json::from_str(&text).expect("json");
    let ran = results["scenarios"].as_array().map_or(0, Vec::len);
    assert_eq!(
        results["selection"]["filter"],
        serde_json::json!(["new-json"])
    );
    assert_eq!(results["selection"]["skip"], serde_json::json!([]));
    assert_eq!(results["selection"]["left_out"], bundled - ran);
    let html = std::fs::read_to_string(dir.path().join("r.html")).expect("html");
    assert!(
        html.contains(&format!(
            "{} scenario(s) left out by --filter/--skip",
            bundled - ran
        )),
        "the HTML header does not say what was left out"
    );
}

#[test]
fn update_golden_always_rewrites_a_shared_golden_that_the_next_scenario_then_passes() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(dir.path().join("scenarios/cc")).expect("mkdir");
    // Two scenarios, run one after the other, judge their acknowledgements by one golden.
    for id in ["a", "b"] {
        std::fs::write(
            dir.path().join(format!("scenarios/cc/{id}.toml")),
            format!(
                "id = \"{id}\"\ntitle = \"{id}\"\nstandard = \"CareCommunication 5.0\"\n[[step]]\nsend = {{ message = \"carecommunication/new\", as = \"first\" }}\n[[step]]\nexpect-ack = {{ for = \"first\", golden = \"ack.json\" }}\n"
            ),
        )
        .expect("write");
    }
    let golden = wrong_code_golden(dir.path());
    let out = bin()
        .current_dir(dir.path())
        .args(["run", "--update-golden", "always", "--jobs", "1"])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The first scenario finds the wrong code and rewrites the golden; the second is judged by
    // the rewritten golden, not by the one the run started with.
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(": 1 passed, 1 failed, 0 errors"),
        "{stdout}"
    );
    let rewritten = std::fs::read_to_string(&golden).expect("golden");
    assert!(!rewritten.contains("transient-error"), "{rewritten}");
    assert!(rewritten.contains("\"ok\""), "{rewritten}");
}
