//! Corpus tests of the envelope module: MedCom's real VANSEnvelope and ehmiSBDH samples, with
//! `xmllint` (libxml2-utils) as the independent oracle for schema verdicts.
//!
//! Expected values are facts from the corpus files, `PROVENANCE.tsv` and `xmllint`, never from
//! our own output.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::finding::Grade;

/// The MedCom corpus, through the crate's one helper.
fn corpus() -> PathBuf {
    crate::test_corpus()
}

fn read(relative: &str) -> Vec<u8> {
    let path = corpus().join(relative);
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("cannot read corpus file {}: {e}", path.display()))
}

fn validator() -> Validator {
    Validator::shared(&SchemaFiles::in_corpus(&corpus()))
        .expect("MedCom's XSDs in the corpus compile")
}

const VANS_SAMPLE: &str = "vans-envelope/VANSEnvelope-example-XDIS22.xml";
const SBDH_DIR: &str = "dk-ehmi-sbdh/input/pagecontent/ehmiSBDH";

/// A scratch file under the system temp dir, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> TempFile {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "medcom-envelope-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("write temp file");
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// `xmllint --noout --nonet --schema <xsd> <file>`: its verdict and the lines it names.
fn xmllint(schema: &Path, file: &Path) -> (bool, BTreeSet<u32>) {
    let output = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(schema)
        .arg(file)
        .output()
        .expect("xmllint runs (apt-get install libxml2-utils)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let prefix = format!("{}:", file.display());
    let lines = stderr
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .filter_map(|rest| rest.split(':').next()?.parse::<u32>().ok())
        .collect();
    (output.status.success(), lines)
}

fn report_lines(report: &XsdReport) -> BTreeSet<u32> {
    report
        .errors
        .iter()
        .chain(&report.overruled)
        .filter_map(|i| i.line)
        .collect()
}

/// Every ehmiSBDH envelope under the sample folder, found by its root element (the folder also
/// holds FHIR Bundles such as `ehmiMessage.xml` and `ehmisbdh_fullsample_ack2.xml`).
fn sbdh_samples() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("read sample dir")
            .map(|e| e.expect("dir entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "xml")
                && detect(&std::fs::read(&path).expect("read sample")).ok()
                    == Some(EnvelopeKind::Sbdh)
            {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&corpus().join(SBDH_DIR), &mut out);
    out
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The corpus's decoded VANS payload, found through `PROVENANCE.tsv` (the DERIVED row of
/// `/VANSEnvelope/Message/Data`, whose description ends in `-> <path>`).
fn provenance_decoded_vans_payload() -> PathBuf {
    let table = String::from_utf8(read("PROVENANCE.tsv")).expect("PROVENANCE.tsv is UTF-8");
    let row = table
        .lines()
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .find(|cols| {
            cols.len() >= 4 && cols[1].contains("/VANSEnvelope/Message/Data (base64-decoded)")
        })
        .expect("PROVENANCE.tsv names the decoded VANSEnvelope Data");
    let target = row[3]
        .rsplit("-> ")
        .next()
        .expect("the row names its file")
        .trim();
    corpus().join(target)
}

// ---- VANSEnvelope ----

#[test]
fn real_vans_envelope_unwraps_to_the_corpus_decoded_payload_byte_for_byte() {
    let envelope = unwrap_vans(&read(VANS_SAMPLE)).expect("the real envelope unwraps");
    let decoded = std::fs::read(provenance_decoded_vans_payload()).expect("decoded payload file");
    let message = envelope.message().expect("the sample carries a message");
    assert_eq!(
        message.payload, decoded,
        "decoded Data differs from the corpus's decoded file"
    );
    assert_eq!(envelope.sender, EndPoint::ean("5790001659592"));
    assert_eq!(envelope.receiver, EndPoint::ean("5790000121526"));
    assert_eq!(
        envelope.envelope_identifier,
        "068dadff-12bb-406d-8c86-083974dc0180"
    );
    assert_eq!(envelope.sent_date_time, "2020-08-26T17:12:13");
    let meta = &message.meta;
    assert_eq!(meta.document.format, Format::Xml);
    assert_eq!(meta.document.name, "MCM:XDIS22");
    assert_eq!(meta.document.version.as_deref(), Some("XD2230L"));
    assert_eq!(
        meta.document.size_in_bytes, 6089,
        "PROVENANCE: 6089 bytes = SizeInBytes"
    );
    assert_eq!(meta.service_tag("MCM:STATISTIC"), Some("manual"));
    let transport = meta.transport.as_ref().expect("transport");
    assert_eq!(transport.transport_type, Some(TransportType::Reliable));
    assert!(!transport.transform_message);
}

#[test]
fn real_vans_envelope_validates() {
    let report = validator()
        .validate_vans(&read(VANS_SAMPLE))
        .expect("validator runs");
    assert!(report.is_valid(), "{:?}", report.errors);
    assert!(report.overruled.is_empty() && report.notes.is_empty());
}

#[test]
fn real_vans_envelope_is_consistent_with_its_oioxml_letter() {
    let envelope = unwrap_vans(&read(VANS_SAMPLE)).expect("unwraps");
    let payload = &envelope.message().expect("message").payload;
    let text = std::str::from_utf8(payload).expect("the letter is UTF-8");
    let letter = roxmltree::Document::parse(text).expect("the letter is XML");
    let value = |name: &str| {
        letter
            .descendants()
            .find(|n| {
                n.tag_name().name() == name
                    && n.parent().is_some_and(|p| p.tag_name().name() == "Letter")
            })
            .and_then(|n| n.text())
            .expect("Letter field")
            .to_string()
    };
    assert_eq!(
        check_vans_oioxml(&envelope, &value("TypeCode"), &value("VersionCode")),
        vec![]
    );
    let problems = check_vans_oioxml(&envelope, "XDIS91", "XD9134L");
    let rules: Vec<_> = problems.iter().map(|p| p.rule.as_str()).collect();
    assert_eq!(rules, ["vans-name", "vans-version"]);
}

#[test]
fn wrap_of_unwrap_keeps_the_payload_byte_exact_and_validates() {
    let original = read(VANS_SAMPLE);
    let envelope = unwrap_vans(&original).expect("unwraps");
    let wrapped = wrap_vans(&envelope);
    let again = unwrap_vans(wrapped.as_bytes()).expect("our envelope unwraps");
    assert_eq!(again, envelope, "the model survives wrap/unwrap");
    let decoded = std::fs::read(provenance_decoded_vans_payload()).expect("decoded payload file");
    assert_eq!(
        again.message().map(|m| m.payload.as_slice()),
        Some(decoded.as_slice())
    );
    let report = validator()
        .validate_vans(wrapped.as_bytes())
        .expect("validator runs");
    assert!(report.is_valid(), "{:?}", report.errors);
    let file = TempFile::new("wrapped.xml", wrapped.as_bytes());
    let xsd = SchemaFiles::in_corpus(&corpus()).vans;
    assert!(
        xmllint(&xsd, &file.0).0,
        "xmllint rejects our wrapped envelope"
    );
}

/// Corrupted copies of the real envelope, with what the standard says about each.
fn vans_corruptions() -> Vec<(&'static str, String, bool)> {
    let original = String::from_utf8(read(VANS_SAMPLE)).expect("UTF-8");
    let without_sent: String = original
        .lines()
        .filter(|l| !l.contains("<SentDateTime>"))
        .map(|l| format!("{l}\n"))
        .collect();
    vec![
        (
            "envelope id not a UUID (the contract check's corruption)",
            original.replace("<EnvelopeIdentifier>", "<EnvelopeIdentifier>not-a-uuid"),
            false,
        ),
        ("SentDateTime removed", without_sent, false),
        (
            "EndPointType GLN is not EAN|CVR|VANS",
            original.replacen("EndPointType=\"EAN\"", "EndPointType=\"GLN\"", 1),
            false,
        ),
        (
            "Format lower case",
            original.replace("<Format>XML</Format>", "<Format>xml</Format>"),
            false,
        ),
        (
            "SizeInBytes padded with whitespace (xs:int collapses it: valid)",
            original.replace(
                "<SizeInBytes>6089</SizeInBytes>",
                "<SizeInBytes>\n  6089\n</SizeInBytes>",
            ),
            true,
        ),
    ]
}

#[test]
fn corrupted_vans_envelopes_fail_validation() {
    for (what, text, standard_valid) in vans_corruptions() {
        let report = validator()
            .validate_vans(text.as_bytes())
            .expect("validator runs");
        assert_eq!(
            report.is_valid(),
            standard_valid,
            "{what}: {:?}",
            report.errors
        );
        assert!(
            report.errors.iter().all(|e| e.line.is_some()),
            "{what}: errors carry lines"
        );
    }
}

#[test]
fn size_in_bytes_mismatch_is_detected() {
    let text = String::from_utf8(read(VANS_SAMPLE))
        .expect("UTF-8")
        .replace(
            "<SizeInBytes>6089</SizeInBytes>",
            "<SizeInBytes>6090</SizeInBytes>",
        );
    let envelope = unwrap_vans(text.as_bytes()).expect("unwraps");
    let problems = check_vans_size(&envelope);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].rule, VANS_SIZE_IN_BYTES.id);
    assert_eq!(problems[0].grade, Grade::F2);
    assert!(problems[0].message.contains("6090") && problems[0].message.contains("6089"));
    assert!(
        validator()
            .validate_vans(text.as_bytes())
            .expect("runs")
            .is_valid(),
        "the XSD cannot see it"
    );
    assert!(check_vans_size(&unwrap_vans(&read(VANS_SAMPLE)).expect("unwraps")).is_empty());
}

#[test]
fn vans_unwrap_errors_name_element_and_line() {
    let text = String::from_utf8(read(VANS_SAMPLE)).expect("UTF-8");
    let broken = text.replace("<Data>PD94", "<Data>*D94");
    match unwrap_vans(broken.as_bytes()) {
        Err(EnvelopeError::Base64 { path, line, .. }) => {
            assert_eq!((path.as_str(), line), ("Data", 22))
        }
        other => panic!("expected a base64 error, got {other:?}"),
    }
    let no_size = text.replace(
        "<SizeInBytes>6089</SizeInBytes>",
        "<SizeInBytes>many</SizeInBytes>",
    );
    assert!(
        matches!(unwrap_vans(no_size.as_bytes()), Err(EnvelopeError::Value { ref path, line: 14, .. }) if path == "SizeInBytes")
    );
    let doctype = text.replacen(
        "<VANSEnvelope",
        "<!DOCTYPE VANSEnvelope [<!ENTITY a \"b\">]>\n<VANSEnvelope",
        1,
    );
    assert!(matches!(
        unwrap_vans(doctype.as_bytes()),
        Err(EnvelopeError::Doctype { line: 2 })
    ));
    let report = validator().validate_vans(doctype.as_bytes()).expect("runs");
    assert!(
        !report.is_valid(),
        "a DTD is refused before libxml2 sees it"
    );
    assert!(
        report.errors[0].message.contains("DTD"),
        "{:?}",
        report.errors
    );
    let external = text.replacen(
        "<VANSEnvelope",
        "<!DOCTYPE VANSEnvelope SYSTEM \"http://example.invalid/vans.dtd\">\n<VANSEnvelope",
        1,
    );
    let report = validator()
        .validate_vans(external.as_bytes())
        .expect("runs");
    assert_eq!(
        report.errors.len(),
        1,
        "refused, never fetched: {:?}",
        report.errors
    );
    assert_eq!(report.errors[0].line, Some(2));
    assert!(matches!(
        unwrap_vans(&read(&format!("{SBDH_DIR}/ehmisbdh_fullsample.xml"))),
        Err(EnvelopeError::Root { .. })
    ));
}

#[test]
fn an_envelope_over_the_size_limit_is_refused_before_parsing() {
    let huge = vec![b' '; MAX_ENVELOPE_BYTES + 1];
    assert!(matches!(
        unwrap_vans(&huge),
        Err(EnvelopeError::TooLarge { .. })
    ));
    assert!(!validator().validate_vans(&huge).expect("runs").is_valid());
}

fn fhir_envelope(facts: &FhirFacts<'_>, payload: &[u8]) -> VansEnvelope {
    let fields = fhir_envelope_fields(facts).expect("fields derive");
    let meta = MetaInformation {
        identifier: "8977c47b-8d55-4a6a-81ff-dcd3dc2b3871".into(),
        processing: None,
        document: DocumentInfo {
            format: fields.format,
            name: fields.name,
            version: None,
            size_in_bytes: 0,
        },
        transport: Some(Transport {
            transport_type: Some(TransportType::Reliable),
            transform_message: false,
            service_tags: vec![ServiceTag {
                name: MIME_SERVICE_TAG.into(),
                value: fields.mime,
            }],
        }),
    };
    VansEnvelope {
        sender: EndPoint::ean("5790001659592"),
        receiver: EndPoint::ean("5790000121526"),
        envelope_identifier: "f06c1ac8-6096-4178-a380-2831d2456986".into(),
        sent_date_time: "2025-04-01T16:19:00+01:00".into(),
        body: VansBody::Message(VansMessage::new(meta, payload.to_vec())),
    }
}

#[test]
fn a_fhir_message_wraps_into_a_valid_consistent_envelope() {
    let payload = read("dk-ehmi-sbdh/input/pagecontent/ehmiSBDH/ehmiMessage_Ack.xml");
    let facts = FhirFacts {
        event_code: ACKNOWLEDGEMENT_EVENT,
        ack_code: Some("ok"),
        media_type: "application/fhir+xml",
        ..FhirFacts::default()
    };
    let envelope = fhir_envelope(&facts, &payload);
    let wrapped = wrap_vans(&envelope);
    assert!(wrapped.contains("<Format>HL7</Format>"));
    assert!(wrapped.contains("<Name>MCM:FCTL#ok</Name>"));
    assert!(wrapped.contains("<ServiceTag name=\"MCM:MIME\">application/fhir+xml</ServiceTag>"));
    assert!(wrapped.contains(&format!("<SizeInBytes>{}</SizeInBytes>", payload.len())));
    let report = validator().validate_vans(wrapped.as_bytes()).expect("runs");
    assert!(report.is_valid(), "{:?}", report.errors);
    let back = unwrap_vans(wrapped.as_bytes()).expect("unwraps");
    assert_eq!(back.message().map(|m| &m.payload), Some(&payload));
    assert_eq!(check_vans_fhir(&back, &facts), vec![]);

    let json_facts = FhirFacts {
        media_type: "application/fhir+json",
        ack_code: Some("fatal-error"),
        ..facts
    };
    let rules: Vec<_> = check_vans_fhir(&back, &json_facts)
        .into_iter()
        .map(|p| p.rule.to_string())
        .collect();
    assert_eq!(rules, ["vans-name", "vans-mime"]);
    let mut xml_format = back.clone();
    if let VansBody::Message(m) = &mut xml_format.body {
        m.meta.document.format = Format::Xml;
        m.meta.transport = None;
    }
    let rules: Vec<_> = check_vans_fhir(&xml_format, &facts)
        .into_iter()
        .map(|p| p.rule.to_string())
        .collect();
    assert_eq!(rules, ["vans-format", "vans-mime"]);
}

#[test]
fn envelope_receipts_quote_the_envelope_they_answer_and_validate() {
    let original = unwrap_vans(&read(VANS_SAMPLE)).expect("unwraps");
    let cases = [
        (ReceiptKind::Positive, None),
        (
            ReceiptKind::Negative,
            Some(ReceiptError {
                code: Some(12),
                description: "ukendt lokationsnummer".into(),
            }),
        ),
        (
            ReceiptKind::NegativeVans,
            Some(ReceiptError {
                code: None,
                description: "mailbox <closed> & gone".into(),
            }),
        ),
    ];
    for (kind, error) in cases {
        let receipt = VansEnvelope::receipt_for(
            &original,
            kind,
            error,
            "a1b2c3d4-0000-4000-8000-000000000001",
            "2020-08-26T17:13:00+02:00",
        )
        .expect("a message can be answered");
        let wrapped = wrap_vans(&receipt);
        assert!(wrapped.contains(&format!("<{}>", kind.element())));
        let report = validator().validate_vans(wrapped.as_bytes()).expect("runs");
        assert!(report.is_valid(), "{kind:?}: {:?}", report.errors);
        let back = unwrap_vans(wrapped.as_bytes()).expect("unwraps");
        assert_eq!(back, receipt);
        assert_eq!(check_vans_receipt(&back, &original), vec![], "{kind:?}");
    }
    let mut wrong = VansEnvelope::receipt_for(
        &original,
        ReceiptKind::Positive,
        None,
        "a1b2c3d4-0000-4000-8000-000000000002",
        "2020-08-26T17:13:00",
    )
    .expect("answerable");
    if let VansBody::Receipt(r) = &mut wrong.body {
        r.original_envelope_identifier = "00000000-0000-4000-8000-000000000000".into();
    }
    std::mem::swap(&mut wrong.sender, &mut wrong.receiver);
    let problems = check_vans_receipt(&wrong, &original);
    let rules: Vec<_> = problems
        .iter()
        .map(|p| (p.rule.as_str(), p.grade))
        .collect();
    assert_eq!(
        rules,
        [
            ("vans-receipt-original", Grade::F1),
            ("vans-receipt-addressing", Grade::F3)
        ]
    );
    let receipt = VansEnvelope::receipt_for(&original, ReceiptKind::Positive, None, "x", "y")
        .expect("answerable");
    assert!(
        VansEnvelope::receipt_for(&receipt, ReceiptKind::Positive, None, "x", "y").is_none(),
        "receipts are never answered"
    );
    assert_eq!(
        check_vans_receipt(&receipt, &receipt)[0].rule,
        "vans-receipt-of-receipt"
    );
}

#[test]
fn a_vans_resend_is_a_duplicate_and_the_same_envelope_asks_for_the_original_response() {
    let first = Envelope::Vans(unwrap_vans(&read(VANS_SAMPLE)).expect("unwraps"));
    let mut resend = first.clone();
    if let Envelope::Vans(v) = &mut resend {
        v.envelope_identifier = "1b0d4c1e-8f7e-4d56-9d0c-2f0a7e0c1a11".into();
    }
    let mut matrix = DuplicateMatrix::new();
    let key = first.duplicate_key().expect("a message has a key");
    assert_eq!(
        key,
        DuplicateKey::new(
            "068dadff-12bb-406d-8c86-083974dc0180",
            "068dadff-12bb-406d-8c86-083974dc0180"
        )
    );
    assert_eq!(matrix.record(&key), DuplicateVerdict::Process);
    assert_eq!(
        matrix.record(&key),
        DuplicateVerdict::ResendOriginalResponse
    );
    assert_eq!(
        matrix.record(&resend.duplicate_key().expect("key")),
        DuplicateVerdict::Duplicate
    );
    assert_eq!(
        matrix.record(&DuplicateKey::new(
            "068dadff-12bb-406d-8c86-083974dc0180",
            "5d1c2b3a-0000-4000-8000-000000000000"
        )),
        DuplicateVerdict::EnvelopeIdReused
    );
}

// ---- ehmiSBDH ----

/// What XML Schema says about each ehmiSBDH sample, under the default `BinaryContent` setting
/// and as published. Two samples break the schema in ways §6 does not cover (facts from the
/// files and from `xmllint`): `Standard` = `Acknowledgement-message` is not in the enumeration
/// (which has `acknowledgement-message`), and scope `Type` = `XDS_METADATA` is not in it (which
/// has `XDS-METADATA`).
fn sbdh_expectations() -> Vec<(&'static str, bool, bool)> {
    vec![
        ("20250429_ehmisbdh_ack_sample.xml", false, false),
        ("20250429_ehmisbdh_sample.xml", true, false),
        ("x.xml", true, true),
        (
            "ehmiSBDH_9a6ff822-08de-5a6f-9670-9fa4b9d2f0dc_HomeCareObservation_XDS_full.xml",
            false,
            false,
        ),
        (
            "ehmiSBDH_9a6ff822-08de-5a6f-9670-9fa4b9d2f0dc_ReceiptAcknowledgement_full.xml",
            true,
            true,
        ),
        ("ehmisbdh_fullsample.xml", true, false),
        ("ehmisbdh_fullsample_ack.xml", true, false),
        ("ehmisbdh_fullsample_sbdhack.xml", true, true),
    ]
}

#[test]
fn every_sbdh_sample_unwraps_and_gets_the_standards_verdict() {
    let samples = sbdh_samples();
    let names: Vec<String> = samples.iter().map(|p| file_name(p)).collect();
    let mut expected: Vec<&str> = sbdh_expectations().iter().map(|e| e.0).collect();
    expected.sort_unstable();
    let mut found: Vec<&str> = names.iter().map(String::as_str).collect();
    found.sort_unstable();
    assert_eq!(found, expected, "the corpus's ehmiSBDH samples");
    for (path, name) in samples.iter().zip(&names) {
        let bytes = std::fs::read(path).expect("read sample");
        let envelope = unwrap_sbdh(&bytes).unwrap_or_else(|e| panic!("{name} unwraps: {e}"));
        assert!(
            !envelope.binary_content.payload.is_empty(),
            "{name} has a payload"
        );
        assert!(
            envelope.sender.gln().is_some() && envelope.receiver.gln().is_some(),
            "{name}: 0088:<GLN> participants"
        );
        let (_, default_valid, published_valid) = sbdh_expectations()
            .into_iter()
            .find(|e| e.0 == name)
            .expect("expected");
        let default = validator()
            .validate_sbdh(&bytes, BinaryContentRule::AcceptEnvelopeSchema)
            .expect("runs");
        assert_eq!(
            default.is_valid(),
            default_valid,
            "{name} (default): {:?}",
            default.errors
        );
        let strict = validator()
            .validate_sbdh(&bytes, BinaryContentRule::AsPublished)
            .expect("runs");
        assert_eq!(
            strict.is_valid(),
            published_valid,
            "{name} (as published): {:?}",
            strict.errors
        );
    }
}

#[test]
fn sbdh_sample_payload_equals_the_corpus_decoded_file() {
    let table = String::from_utf8(read("PROVENANCE.tsv")).expect("UTF-8");
    assert!(table.contains(
        "input/pagecontent/ehmiSBDH/20250429_ehmisbdh_sample.xml (BinaryContent base64-decoded)"
    ));
    let envelope =
        unwrap_sbdh(&read(&format!("{SBDH_DIR}/20250429_ehmisbdh_sample.xml"))).expect("unwraps");
    let decoded = read("dk-ehmi-sbdh/derived/20250429_ehmisbdh_sample.BinaryContent.decoded.xml");
    assert_eq!(envelope.binary_content.payload, decoded);
    assert_eq!(
        envelope.binary_content.namespace,
        BinaryContentNamespace::Peppol
    );
    assert_eq!(envelope.sender.gln(), Some("5790000121526"));
    assert_eq!(envelope.scope_value(PATIENTID), Some("0101010227"));
    assert_eq!(
        Envelope::Sbdh(envelope).duplicate_key(),
        Some(DuplicateKey::new(
            "f06c1ac8-6096-5178-a380-2831d2456986",
            "f06c1ac8-6096-5178-a380-2831d2456986"
        ))
    );
}

#[test]
fn sbdh_samples_round_trip_with_the_same_verdict() {
    for path in sbdh_samples() {
        let name = file_name(&path);
        let bytes = std::fs::read(&path).expect("read");
        let envelope = unwrap_sbdh(&bytes).expect("unwraps");
        let wrapped = wrap_sbdh(&envelope);
        let back = unwrap_sbdh(wrapped.as_bytes())
            .unwrap_or_else(|e| panic!("{name}: our SBDH unwraps: {e}"));
        assert_eq!(back, envelope, "{name}: the model survives wrap/unwrap");
        for rule in [
            BinaryContentRule::AcceptEnvelopeSchema,
            BinaryContentRule::AsPublished,
        ] {
            let before = validator().validate_sbdh(&bytes, rule).expect("runs");
            let after = validator()
                .validate_sbdh(wrapped.as_bytes(), rule)
                .expect("runs");
            assert_eq!(
                after.is_valid(),
                before.is_valid(),
                "{name} {rule:?}: {:?}",
                after.errors
            );
        }
    }
}

#[test]
fn strict_setting_reports_the_binary_content_namespace_mismatch() {
    let bytes = read(&format!("{SBDH_DIR}/ehmisbdh_fullsample.xml"));
    let default = validator()
        .validate_sbdh(&bytes, BinaryContentRule::AcceptEnvelopeSchema)
        .expect("runs");
    assert!(default.is_valid(), "{:?}", default.errors);
    assert_eq!(default.notes.len(), 1);
    assert_eq!(default.notes[0].line, Some(92));
    assert!(default.notes[0].message.contains("accepted"));
    let strict = validator()
        .validate_sbdh(&bytes, BinaryContentRule::AsPublished)
        .expect("runs");
    assert!(!strict.is_valid());
    assert_eq!(strict.errors.len(), 1, "{:?}", strict.errors);
    assert_eq!(strict.errors[0].line, Some(92));
    assert!(strict.errors[0].message.contains(
        "{http://peppol.eu/xsd/ticc/envelope/1.0}BinaryContent': This element is not expected"
    ));
    assert!(strict.notes[0].message.contains("strict"));
}

#[test]
fn default_setting_still_checks_the_structure_around_a_peppol_binary_content() {
    let text =
        String::from_utf8(read(&format!("{SBDH_DIR}/ehmisbdh_fullsample.xml"))).expect("UTF-8");
    let start = text.find("<BinaryContent").expect("has BinaryContent");
    let end = text.find("</BinaryContent>").expect("closed") + "</BinaryContent>".len();
    let content = &text[start..end];
    let twice = text.replacen(content, &format!("{content}\n{content}"), 1);
    let report = validator()
        .validate_sbdh(twice.as_bytes(), BinaryContentRule::AcceptEnvelopeSchema)
        .expect("runs");
    assert!(!report.is_valid(), "two BinaryContent elements");
    let bad_mime = text.replacen(
        "mimeType=\"application/fhir+xml\"",
        "mimeType=\"text/plain\"",
        1,
    );
    let report = validator()
        .validate_sbdh(bad_mime.as_bytes(), BinaryContentRule::AcceptEnvelopeSchema)
        .expect("runs");
    assert!(
        !report.is_valid(),
        "BinaryContent is validated against the envelope schema"
    );
    assert!(
        report.errors[0].message.contains("mimeType"),
        "{:?}",
        report.errors
    );
    let no_header_version = text.replacen("<HeaderVersion>1.0</HeaderVersion>", "", 1);
    let report = validator()
        .validate_sbdh(
            no_header_version.as_bytes(),
            BinaryContentRule::AcceptEnvelopeSchema,
        )
        .expect("runs");
    assert!(
        !report.is_valid(),
        "the header is validated against the SBDH schema"
    );
}

#[test]
fn sbdhack_whitespace_datetimes_are_valid_per_the_standard_though_libxml2_rejects_them() {
    let name = "ehmisbdh_fullsample_sbdhack.xml";
    let bytes = read(&format!("{SBDH_DIR}/{name}"));
    for rule in [
        BinaryContentRule::AcceptEnvelopeSchema,
        BinaryContentRule::AsPublished,
    ] {
        let report = validator().validate_sbdh(&bytes, rule).expect("runs");
        assert!(report.is_valid(), "{rule:?}: {:?}", report.errors);
        assert!(
            !report.libxml2_is_valid(),
            "libxml2 2.9 rejects the padded dateTimes"
        );
        let lines: Vec<_> = report.overruled.iter().filter_map(|i| i.line).collect();
        assert_eq!(
            lines,
            [81, 87],
            "RequestingDocumentCreationDateTime and ExpectedResponseDateTime"
        );
        assert!(
            report
                .overruled
                .iter()
                .all(|i| i.message.contains("'xs:dateTime'"))
        );
    }
    let sbdh = SchemaFiles::in_corpus(&corpus()).sbdh;
    let (xmllint_valid, xmllint_lines) =
        xmllint(&sbdh, &corpus().join(format!("{SBDH_DIR}/{name}")));
    assert!(
        !xmllint_valid,
        "xmllint (libxml2 2.9) disagrees with the standard here"
    );
    assert_eq!(xmllint_lines, BTreeSet::from([81, 87]));
    let bad = String::from_utf8(bytes).expect("UTF-8").replacen(
        "2025-04-01T16:30:10+01:00",
        "2025-04-01T25:30:10+01:00",
        1,
    );
    let report = validator()
        .validate_sbdh(bad.as_bytes(), BinaryContentRule::AsPublished)
        .expect("runs");
    assert!(
        !report.is_valid(),
        "a padded but impossible dateTime stays invalid"
    );
}

#[test]
fn xmllint_agrees_with_our_schema_verdicts_except_the_whitespace_cases() {
    let files = SchemaFiles::in_corpus(&corpus());
    let mut disagreements = Vec::new();
    let mut checked = 0;
    let mut compare = |label: String, path: &Path, xsd: &Path, report: &XsdReport| {
        let (xmllint_valid, xmllint_lines) = xmllint(xsd, path);
        assert_eq!(
            report.libxml2_is_valid(),
            xmllint_valid,
            "{label}: libxml2 through the crate vs xmllint"
        );
        assert_eq!(
            report_lines(report),
            xmllint_lines,
            "{label}: lines of the errors"
        );
        if report.is_valid() != xmllint_valid {
            assert!(
                !report.overruled.is_empty(),
                "{label}: a disagreement must come from an overruled error"
            );
            disagreements.push(label);
        }
        checked += 1;
    };
    let vans = corpus().join(VANS_SAMPLE);
    let report = validator().validate_vans(&read(VANS_SAMPLE)).expect("runs");
    compare(
        "VANSEnvelope-example-XDIS22.xml".into(),
        &vans,
        &files.vans,
        &report,
    );
    for (what, text, _) in vans_corruptions() {
        let file = TempFile::new("corrupted.xml", text.as_bytes());
        let report = validator().validate_vans(text.as_bytes()).expect("runs");
        compare(format!("VANS: {what}"), &file.0, &files.vans, &report);
    }
    for path in sbdh_samples() {
        let report = validator()
            .validate_sbdh(
                &std::fs::read(&path).expect("read"),
                BinaryContentRule::AsPublished,
            )
            .expect("runs");
        compare(file_name(&path), &path, &files.sbdh, &report);
    }
    assert_eq!(
        checked,
        1 + vans_corruptions().len() + sbdh_expectations().len()
    );
    assert_eq!(
        disagreements,
        [
            "VANS: SizeInBytes padded with whitespace (xs:int collapses it: valid)",
            "ehmisbdh_fullsample_sbdhack.xml",
        ],
        "where we and xmllint disagree, the standard decides (DOMAIN.md §6)"
    );
}

#[test]
fn sbdh_header_checks_hold_on_the_message_samples() {
    for name in ["ehmisbdh_fullsample.xml", "20250429_ehmisbdh_sample.xml"] {
        let envelope = unwrap_sbdh(&read(&format!("{SBDH_DIR}/{name}"))).expect("unwraps");
        assert_eq!(
            check_sbdh(&envelope, Some("application/fhir+xml; charset=UTF-8")),
            vec![],
            "{name}"
        );
    }
    let mut envelope =
        unwrap_sbdh(&read(&format!("{SBDH_DIR}/ehmisbdh_fullsample.xml"))).expect("unwraps");
    envelope.sender = Participant::from_gln("5790000121527");
    envelope
        .scopes
        .retain(|s| s.scope_type.trim() != MESSAGEIDENTIFIER);
    let rules: Vec<_> = check_sbdh(&envelope, Some("application/fhir+json"))
        .into_iter()
        .map(|p| p.rule.to_string())
        .collect();
    assert_eq!(rules, ["sbdh-participant", "sbdh-scopes", "sbdh-mime"]);
}

#[test]
fn a_new_sbdh_envelope_is_valid_under_both_settings() {
    let payload = read("dk-ehmi-sbdh/input/pagecontent/ehmiSBDH/ehmiMessage.xml");
    let mut request = Scope::new(RECEIPT_ACKNOWLEDGEMENT, "Request");
    request.correlation = Some(CorrelationInformation {
        requesting_document_creation_date_time: "2025-04-01T16:19:00+01:00".into(),
        requesting_document_instance_identifier: "9a6ff822-08de-5a6f-9670-9fa4b9d2f0dc".into(),
        expected_response_date_time: "2025-04-01T16:29:00+01:00".into(),
    });
    let envelope = SbdhEnvelope::new(
        "5790000121526",
        "5790000201389",
        DocumentIdentification {
            standard: "homecareobservation-message".into(),
            type_version: "1.2".into(),
            instance_identifier: "9a6ff822-08de-5a6f-9670-9fa4b9d2f0dc".into(),
            document_type: "Bundle".into(),
            multiple_type: Some(false),
            creation_date_and_time: "2025-04-01T16:19:00+01:00".into(),
        },
        vec![
            Scope::new(
                DOCUMENTID,
                "urn:dk:healthcare:medcom:messaging:fhir:structuredefinition::homecareobservation-message##urn:dk:medcom:fhir:homecareobservation-message::1.2",
            ),
            Scope::new(PROCESSID, "urn:ehmi:sdn-emergence"),
            Scope::new(PATIENTID, "2509479989"),
            Scope::new(SENDERID, "8851000016006"),
            Scope::new(RECEIVERID, "263001000016001"),
            Scope::new(MESSAGEIDENTIFIER, "489de4f2-0d8d-4de2-a7ce-ccb93568799f"),
            Scope::new(
                MESSAGEENVELOPEIDENTIFIER,
                "401cbc36-db1e-4fe0-bf90-6df331dde179",
            ),
            request,
        ],
        "application/fhir+xml",
        payload.clone(),
    );
    let wrapped = wrap_sbdh(&envelope);
    for rule in [
        BinaryContentRule::AcceptEnvelopeSchema,
        BinaryContentRule::AsPublished,
    ] {
        let report = validator()
            .validate_sbdh(wrapped.as_bytes(), rule)
            .expect("runs");
        assert!(
            report.is_valid() && report.notes.is_empty(),
            "{rule:?}: {:?}",
            report.errors
        );
    }
    let file = TempFile::new("new-sbdh.xml", wrapped.as_bytes());
    assert!(
        xmllint(&SchemaFiles::in_corpus(&corpus()).sbdh, &file.0).0,
        "xmllint accepts it too"
    );
    let back = unwrap_sbdh(wrapped.as_bytes()).expect("unwraps");
    assert_eq!(back.binary_content.payload, payload);
    assert_eq!(check_sbdh(&back, Some("application/fhir+xml")), vec![]);
}

// ---- ebBP signals ----

#[test]
fn receipt_acknowledgement_signals_are_read_from_the_samples() {
    let original =
        unwrap_sbdh(&read(&format!("{SBDH_DIR}/20250429_ehmisbdh_sample.xml"))).expect("unwraps");
    let receipt =
        unwrap_sbdh(&read(&format!("{SBDH_DIR}/a sbdh ack example.xml/x.xml"))).expect("unwraps");
    assert!(receipt.is_signal());
    let signal = read_signal(&receipt.binary_content.payload).expect("the signal reads");
    assert_eq!(signal.kind, SignalKind::ReceiptAcknowledgement);
    assert_eq!(
        signal.original_message_identifier.as_deref(),
        Some("f06c1ac8-6096-5178-a380-2831d2456986")
    );
    assert_eq!(
        signal.from_party.as_ref().map(|p| p.id.as_str()),
        Some("0088:5790000201389")
    );
    assert_eq!(
        signal.original_message_date_time, None,
        "the sample omits ebBP's required OriginalMessageDateTime"
    );
    let problems = check_sbdh_receipt(&receipt, &signal, &original);
    let found: Vec<_> = problems
        .iter()
        .map(|p| (p.rule.as_str(), p.location.as_deref().unwrap_or_default()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "sbdh-signal-original",
                "StandardBusinessDocumentHeader/BusinessScope/Scope[ORIGINALMESSAGEIDENTIFIER]"
            ),
            (
                "sbdh-receipt-addressing",
                "StandardBusinessDocumentHeader/Sender"
            ),
        ],
        "x.xml's signal quotes f06c1ac8…, but its ORIGINALMESSAGEIDENTIFIER scope says 489de4f2… and its header goes 5790000127092 -> 5790000123117"
    );
    let full = unwrap_sbdh(&read(&format!(
        "{SBDH_DIR}/ehmiSBDH_9a6ff822-08de-5a6f-9670-9fa4b9d2f0dc_examples/ehmiSBDH_9a6ff822-08de-5a6f-9670-9fa4b9d2f0dc_ReceiptAcknowledgement_full.xml"
    )))
    .expect("unwraps");
    let signal = read_signal(&full.binary_content.payload).expect("reads");
    assert_eq!(
        signal.original_message_identifier.as_deref(),
        Some("489de4f2-0d8d-4de2-a7ce-ccb93568799f")
    );
    assert_eq!(
        full.scope_value(ORIGINALMESSAGEIDENTIFIER),
        signal.original_message_identifier.as_deref()
    );
}

#[test]
fn the_sbdhack_signal_is_not_well_formed_and_xmllint_agrees() {
    let receipt = unwrap_sbdh(&read(&format!(
        "{SBDH_DIR}/ehmisbdh_fullsample_sbdhack.xml"
    )))
    .expect("unwraps");
    let payload = &receipt.binary_content.payload;
    assert!(
        String::from_utf8_lossy(payload).contains("type=\u{201d}iso6523-actorid-upis\u{201d}"),
        "curly quotes"
    );
    match read_signal(payload) {
        Err(EnvelopeError::Xml { line, .. }) => assert_eq!(line, 14),
        other => panic!("expected a well-formedness error, got {other:?}"),
    }
    let file = TempFile::new("signal.xml", payload);
    let status = Command::new("xmllint")
        .args(["--noout", "--nonet"])
        .arg(&file.0)
        .output()
        .expect("xmllint runs");
    assert!(
        !status.status.success(),
        "xmllint also finds the signal malformed"
    );
}

#[test]
fn signals_round_trip_through_write_and_read() {
    let mut signal = Signal::receipt_acknowledgement(
        "f06c1ac8-6096-5178-a380-2831d2456986",
        "2025-04-01T16:19:00+01:00",
        "2025-04-01T16:19:10+01:00",
    );
    signal.from_party = Some(PartyInfo {
        id: "0088:5790000201389".into(),
        id_type: Some("iso6523-actorid-upis".into()),
    });
    assert_eq!(
        read_signal(write_signal(&signal).as_bytes()).expect("reads"),
        signal
    );
    signal.kind = SignalKind::ReceiptException("Syntax".into());
    signal.reason = Some("BinaryContent is not valid base64 & < >".into());
    let back = read_signal(write_signal(&signal).as_bytes()).expect("reads");
    assert_eq!(back, signal);
    assert!(!back.kind.is_positive());
}

#[test]
fn detect_and_unwrap_dispatch_on_the_root_element() {
    assert_eq!(
        detect(&read(VANS_SAMPLE)).expect("reads"),
        EnvelopeKind::Vans
    );
    let sbdh = read(&format!("{SBDH_DIR}/ehmisbdh_fullsample.xml"));
    assert_eq!(unwrap(&sbdh).expect("unwraps").kind(), EnvelopeKind::Sbdh);
    let bundle = read(&format!("{SBDH_DIR}/ehmisbdh_fullsample_ack2.xml"));
    assert!(matches!(detect(&bundle), Err(EnvelopeError::Root { .. })));
    let (kind, report) = validator()
        .validate(&bundle, BinaryContentRule::default())
        .expect("runs");
    assert_eq!(kind, None);
    assert!(!report.is_valid());
}

/// A damaged envelope is still known as an envelope by its root element, so its findings say
/// "envelope", not "invalid FHIR XML": MedCom's VANSEnvelope cut short, and with a DOCTYPE.
#[test]
fn a_truncated_or_doctyped_vans_envelope_is_still_an_envelope() {
    let whole = read(VANS_SAMPLE);
    let cut = &whole[..whole.len() / 3];
    assert!(matches!(super::detect(cut), Ok(EnvelopeKind::Vans)));
    assert!(
        super::unwrap_vans(cut).is_err(),
        "a truncated envelope does not unwrap"
    );
    let text = String::from_utf8(whole).expect("utf-8");
    let body = text.split_once("?>").map_or(text.as_str(), |(_, b)| b);
    let doctyped = format!("<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY a \"b\">]>{body}");
    assert!(matches!(
        super::detect(doctyped.as_bytes()),
        Ok(EnvelopeKind::Vans)
    ));
    assert!(
        super::unwrap_vans(doctyped.as_bytes()).is_err(),
        "a DOCTYPE is refused"
    );
    // A FHIR message is not an envelope, whole or cut.
    let fhir = b"<Bundle xmlns=\"http://hl7.org/fhir\"><id value=\"x\"/>";
    assert!(super::detect(fhir).is_err());
}
