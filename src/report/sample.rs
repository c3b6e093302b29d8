//! A small run for the reporters' tests: one scenario of each status, hostile text in a message
//! body and in a finding, a golden diff, an unclaimed message, and an id that is no safe file name.

use std::time::Duration;

use crate::finding::{Finding, Grade};
use crate::rule;
use crate::run::{
    Direction, Evidence, GoldenDiff, RunOutcome, ScenarioOutcome, ScenarioStatus, StepOutcome,
    StepStatus,
};

/// Text that breaks a report that does not escape: markup, a script, an ampersand, quotes.
pub(crate) const HOSTILE: &str = r#"<script>alert(1)</script> & "Ærø" <b>bold</b>"#;

/// The id of the scenario that errored; it has a slash and a space.
pub(crate) const ODD_ID: &str = "cc/odd id";

/// The golden diff of the failed scenario: one removed and one added line.
pub(crate) const DIFF: &str = "--- golden/carecommunication/reply.json\n+++ actual\n@@ -3,3 +3,3 @@\n   \"resourceType\": \"Bundle\",\n-  \"contentType\": \"application/pdf\"\n+  \"data\": \"JVBERi0xLjQK & <script>\"\n";

fn json(text: &str) -> Vec<u8> {
    text.as_bytes().to_vec()
}

fn step(
    index: usize,
    kind: &str,
    summary: &str,
    findings: Vec<Finding>,
    evidence: &[&str],
) -> StepOutcome {
    StepOutcome {
        index,
        kind: kind.to_owned(),
        summary: summary.to_owned(),
        status: StepStatus::Ran,
        reason: None,
        error: None,
        findings,
        evidence: evidence.iter().map(|e| (*e).to_owned()).collect(),
        diffs: Vec::new(),
        duration: Duration::from_millis(120 * index as u64),
    }
}

fn scenario(
    id: &str,
    status: ScenarioStatus,
    steps: Vec<StepOutcome>,
    evidence: Vec<Evidence>,
) -> ScenarioOutcome {
    let verdict = crate::finding::worst(steps.iter().flat_map(|s| &s.findings));
    ScenarioOutcome {
        id: id.to_owned(),
        title: format!("Scenario {id}"),
        path: format!("scenarios/carecommunication/{}.toml", id.replace('/', "_")),
        standard: "CareCommunication 5.0".to_owned(),
        protocol_step: Some("R-A".to_owned()),
        tags: vec!["carecommunication".to_owned(), "receive".to_owned()],
        status,
        verdict,
        reason: None,
        steps,
        evidence,
        duration: Duration::from_millis(1500),
    }
}

fn sent(id: &str, body: &str) -> Evidence {
    Evidence::new(
        id.to_owned(),
        Direction::Sent,
        format!("CareCommunication new-message ({id})"),
        "application/fhir+json".to_owned(),
        json(body),
    )
}

fn received(id: &str, body: &str) -> Evidence {
    Evidence::new(
        id.to_owned(),
        Direction::Received,
        format!("Acknowledgement ({id})"),
        "application/fhir+json".to_owned(),
        json(body),
    )
}

/// The sample run: passed, failed (an F2 finding and a golden diff), error, skipped, in that
/// order, with one unclaimed message.
pub(crate) fn run() -> RunOutcome {
    let passed = scenario(
        "cc-receive-new",
        ScenarioStatus::Passed,
        vec![
            step(
                1,
                "send",
                "Sent CareCommunication `first`.",
                vec![],
                &["e1"],
            ),
            step(
                2,
                "expect-ack",
                "Received the acknowledgement of `first`.",
                vec![
                    rule::KR1
                        .pass("The message was acknowledged.")
                        .with_evidence(["e2"]),
                    rule::KR3.pass("Acknowledged `ok`.").with_evidence(["e2"]),
                ],
                &["e2"],
            ),
        ],
        vec![
            sent("e1", r#"{"resourceType":"Bundle","type":"message"}"#),
            received("e2", r#"{"resourceType":"Bundle","id":"ack-1"}"#),
        ],
    );

    let mut reply = step(
        2,
        "expect-message",
        "Received the reply to `first`.",
        vec![
            rule::CC_THREAD.pass("The reply keeps the thread id."),
            rule::CC_REPLY_NO_RESEND
                .breach(format!("The reply resends attachment data: {HOSTILE}"))
                .with_evidence(["e2", "e9"])
                .at("Bundle.entry[1].resource.payload[1].contentAttachment.data"),
            rule::GOLDEN
                .finding(Grade::F4, "The reply differs from its golden message.")
                .with_evidence(["e2"]),
        ],
        &["e2"],
    );
    reply.diffs.push(GoldenDiff {
        golden: "golden/carecommunication/reply.json".to_owned(),
        diff: DIFF.to_owned(),
    });
    let failed = scenario(
        "cc-reply-no-resend",
        ScenarioStatus::Failed,
        vec![
            step(
                1,
                "send",
                "Sent CareCommunication `first`.",
                vec![],
                &["e1"],
            ),
            reply,
        ],
        vec![
            sent("e1", r#"{"resourceType":"Bundle"}"#),
            received(
                "e2",
                &format!(
                    r#"{{"resourceType":"Bundle","text":{}}}"#,
                    serde_json::json!(HOSTILE)
                ),
            ),
        ],
    );

    let mut broken = step(1, "send", "Could not build the message.", vec![], &[]);
    broken.status = StepStatus::Error;
    broken.reason = Some("template `messages/new.json` failed: unknown helper `captur`".to_owned());
    let mut error = scenario(
        ODD_ID,
        ScenarioStatus::Error,
        vec![broken],
        vec![sent("e1", "not json & <b>")],
    );
    error.reason = Some("step 1 could not run: template `messages/new.json` failed".to_owned());

    let mut later = step(
        1,
        "instruct",
        "Reply to the message in your system.",
        vec![],
        &[],
    );
    later.status = StepStatus::Skipped;
    later.reason = Some("no operator available".to_owned());
    let mut skipped = scenario("cc-forward", ScenarioStatus::Skipped, vec![later], vec![]);
    skipped.reason = Some("needs an operator and none is available".to_owned());

    let stray = Evidence::new(
        "u1".to_owned(),
        Direction::Received,
        "Unknown message".to_owned(),
        "application/fhir+xml".to_owned(),
        json("<Bundle xmlns=\"http://hl7.org/fhir\"><id value=\"x&amp;y\"/></Bundle>"),
    );
    let stray_finding = rule::EXPECTED_MESSAGE
        .breach("No scenario expected this message.")
        .with_evidence(["u1"]);

    RunOutcome {
        interrupted: false,
        status: crate::run::RunStatus::Finished,
        note: None,
        allow_skipped: false,
        harness_version: "0.1.0".to_owned(),
        target: "http://127.0.0.1:8080/fhir".to_owned(),
        threshold: Grade::F4,
        started: "2026-11-29T17:50:00+01:00".to_owned(),
        scenarios: vec![passed, failed, error, skipped],
        unclaimed: vec![(stray, stray_finding)],
        not_applicable: Vec::new(),
        selection: crate::run::Selection::default(),
        duration: Duration::from_millis(6250),
        certification: None,
    }
}

/// A run of `n` scenarios: the sample's four in turn, ids made unique (`cc-receive-new-17`),
/// every evidence item a realistic 6 KB message already filed under `evidence/`.
pub(crate) fn large(n: usize) -> RunOutcome {
    let mut run = run();
    let body = format!(
        r#"{{"resourceType":"Bundle","type":"message","entry":[{}]}}"#,
        vec![r#"{"resource":{"resourceType":"Communication","status":"unknown","payload":[{"contentString":"Patienten er udskrevet til eget hjem."}]}}"#; 48].join(",")
    );
    let four = std::mem::take(&mut run.scenarios);
    run.scenarios = (0..n)
        .map(|i| {
            let mut s = four[i % four.len()].clone();
            s.id = format!("{}-{i}", s.id);
            for e in &mut s.evidence {
                e.bytes = body.clone().into_bytes();
                e.size = e.bytes.len();
                e.sha256 = crate::message::AttachmentData::of(&e.bytes);
                e.file = Some(format!(
                    "evidence/{}.{}.json",
                    super::slug::slug(&s.id),
                    e.id
                ));
            }
            s
        })
        .collect();
    run
}
