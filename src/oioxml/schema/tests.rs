//! MedCom's OIOXML schemas on our reading and writing. Expected verdicts come from the schemas
//! themselves through `xmllint --schema` (libxml2's command-line tool, the independent oracle),
//! and the namespaces from each release's `EMessage.xsd`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::oioxml::build::{self, BinaryAttachment};
use crate::oioxml::{Encoding, ReceiptKind, RefuseCode, parse, write};

const XDIS91: &[u8] = include_bytes!("../../../tests/fixtures/oioxml/xdis91.xml");
const XBIN01: &[u8] = include_bytes!("../../../tests/fixtures/oioxml/xbin01.xml");
const XCTL01: &[u8] = include_bytes!("../../../tests/fixtures/oioxml/xctl01.xml");

fn files() -> SchemaFiles {
    SchemaFiles::in_corpus(&crate::test_corpus())
}

fn xsd(release: &str) -> PathBuf {
    files().oioxml.join(release).join("EMessage.xsd")
}

/// Writes `bytes` to a fresh temporary file for `xmllint`.
fn temp(bytes: &[u8]) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "medcom-oioxsd-{}-{}.xml",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, bytes).expect("the temporary directory is writable");
    path
}

/// `xmllint --noout --nonet --schema XSD FILE`: whether it validates, and the lines of its
/// errors.
fn xmllint(schema: &Path, bytes: &[u8]) -> (bool, Vec<u32>, String) {
    let file = temp(bytes);
    let output = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(schema)
        .arg(&file)
        .output()
        .expect("xmllint runs (apt-get install libxml2-utils)");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let prefix = format!("{}:", file.display());
    let lines = stderr
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .filter_map(|rest| rest.split(':').next()?.parse::<u32>().ok())
        .collect();
    let _ = std::fs::remove_file(&file);
    (output.status.success(), lines, stderr)
}

fn schema_breaches(findings: &[Finding]) -> Vec<&Finding> {
    findings
        .iter()
        .filter(|f| f.rule == "oioxml-schema" && f.grade != Grade::Ok)
        .collect()
}

fn replace(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    // Only for unique snippets of our fixtures.
    let text = String::from_utf8_lossy(bytes);
    assert!(text.contains(from), "`{from}` is in the document");
    text.replacen(from, to, 1).into_bytes()
}

#[test]
fn every_release_is_found_by_the_target_namespace_of_its_emessage_xsd() {
    let releases = Releases::read(&files().oioxml);
    // The targetNamespace attributes of oioxml-xsd/*/*/*/EMessage.xsd (15 releases).
    assert_eq!(releases.namespaces().count(), 15);
    for (namespace, folder) in [
        (
            "http://rep.oio.dk/medcom.dk/xml/schemas/2004/06/01/",
            "2004/06/01",
        ),
        (
            "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2005/08/07/",
            "2005/08/07",
        ),
        (
            "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2006/07/01/",
            "2006/07/01",
        ),
        (
            "http://rep.oio.dk/medcom.dk/xml/schemas/2012/03/28/",
            "2012/03/28",
        ),
    ] {
        assert_eq!(releases.entry(namespace), Some(xsd(folder).as_path()));
    }
    // Every release the harness reads has its schema in the folder.
    for (_, namespace, _) in crate::oioxml::RELEASES {
        assert!(releases.entry(namespace).is_some(), "{namespace}");
    }
}

#[test]
fn our_fixtures_are_valid_against_medcoms_schema_as_xmllint_says() {
    for (name, bytes, release) in [
        ("xdis91", XDIS91, "2006/07/01"),
        ("xbin01", XBIN01, "2012/03/28"),
        ("xctl01", XCTL01, "2005/08/07"),
        (
            "xctl02",
            &include_bytes!("../../../tests/fixtures/oioxml/xctl02.xml")[..],
            "2005/08/07",
        ),
        (
            "xctl03",
            &include_bytes!("../../../tests/fixtures/oioxml/xctl03.xml")[..],
            "2005/08/07",
        ),
    ] {
        assert!(xmllint(&xsd(release), bytes).0, "{name}: xmllint");
        let outcome = validate(Some(&files()), bytes);
        assert!(outcome.ran(), "{name}");
        let found = findings(&outcome);
        assert_eq!(found.len(), 1, "{name}: {found:?}");
        assert_eq!(found[0].grade, Grade::Ok, "{name}");
    }
}

#[test]
fn a_schema_error_is_an_oioxml_schema_finding_in_libxml2s_words_at_xmllints_line() {
    // OrganisationName is String_1_35 in MedCom's schema (GeneralElements.xsd).
    let text = String::from_utf8_lossy(XDIS91);
    let start = text.find("<OrganisationName>").expect("has one") + "<OrganisationName>".len();
    let end = start + text[start..].find("</OrganisationName>").expect("closes");
    let bytes = format!("{}{}{}", &text[..start], "A".repeat(36), &text[end..]);
    let (valid, lines, stderr) = xmllint(&xsd("2006/07/01"), bytes.as_bytes());
    assert!(!valid, "xmllint refuses a 36-character OrganisationName");
    let found = findings(&validate(Some(&files()), bytes.as_bytes()));
    let breaches = schema_breaches(&found);
    assert_eq!(breaches.len(), lines.len(), "{found:?} vs {stderr}");
    for (finding, line) in breaches.iter().zip(&lines) {
        assert_eq!(finding.grade, Grade::F2);
        assert_eq!(
            finding.location.as_deref(),
            Some(format!("line {line}").as_str())
        );
        assert!(
            finding.message.contains("2006/07/01"),
            "{}",
            finding.message
        );
        assert!(
            finding.message.contains("OrganisationName") && stderr.contains("OrganisationName"),
            "{} / {stderr}",
            finding.message
        );
    }
}

#[test]
fn when_the_schema_ran_a_breach_is_reported_once_and_without_schemas_the_structure_rule_stands_in()
{
    // Leave out Letter/VersionCode: MedCom's schema requires it (ClinicalEmailLetterType).
    let text = String::from_utf8_lossy(XDIS91);
    let start = text.find("<VersionCode>").expect("has a VersionCode");
    let end = text.find("</VersionCode>").expect("closes") + "</VersionCode>".len();
    let broken = format!("{}{}", &text[..start], &text[end..]);
    assert!(!xmllint(&xsd("2006/07/01"), broken.as_bytes()).0);
    let message = parse(broken.as_bytes()).expect("the model holds a missing VersionCode");

    let with = judge(Some(&files()), broken.as_bytes(), &message);
    let bad: Vec<_> = with.iter().filter(|f| f.grade != Grade::Ok).collect();
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(bad[0].rule, "oioxml-schema");
    assert!(bad[0].message.contains("VersionCode"), "{}", bad[0].message);

    let without = judge(None, broken.as_bytes(), &message);
    let bad: Vec<_> = without.iter().filter(|f| f.grade != Grade::Ok).collect();
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert_eq!(bad[0].rule, "oioxml-schema");
    assert_eq!(bad[0].grade, Grade::F4);
    assert!(bad[0].message.contains("not schema-validated"));
    assert_eq!(bad[1].rule, "oioxml-structure");
}

/// The XDIS91 fixture as a letter of MedCom's 2005/08/07 release: that namespace, `XD9133L`,
/// and no `AdditionalInformation` (ClinicalEmail.xsd of 2005/08/07 has none).
fn xdis91_2005() -> Vec<u8> {
    let text = String::from_utf8_lossy(XDIS91)
        .replace(
            crate::oioxml::XDIS91_NAMESPACE,
            crate::oioxml::RECEIPT_NAMESPACE,
        )
        .replace("XD9134L", "XD9133L");
    let start = text.find("<AdditionalInformation>").expect("has one");
    let end =
        text.find("</AdditionalInformation>").expect("closes") + "</AdditionalInformation>".len();
    format!("{}{}", &text[..start], &text[end..]).into_bytes()
}

#[test]
fn xdis91_and_xbin01_of_the_older_releases_are_read_validated_and_written_back_in_their_namespace()
{
    let xdis = xdis91_2005();
    assert!(xmllint(&xsd("2005/08/07"), &xdis).0, "xmllint: 2005 XDIS91");
    let message = parse(&xdis).expect("the 2005 XDIS91 is read");
    assert_eq!(message.namespace(), crate::oioxml::RECEIPT_NAMESPACE);
    assert_eq!(message.expected_version(), "XD9133L");
    let judged = judge(Some(&files()), &xdis, &message);
    assert!(judged.iter().all(|f| f.grade == Grade::Ok), "{judged:?}");
    assert!(xmllint(&xsd("2005/08/07"), &write(&message, Encoding::Utf8)).0);

    // XBIN01 XB0130X in 2005/08/07: its Sender has StreetName, DistrictName,
    // PostCodeIdentifier and MedicalSpecialityCode required (BinaryLetter.xsd of 2005/08/07).
    let text = String::from_utf8_lossy(XBIN01)
        .replace(
            crate::oioxml::XBIN01_NAMESPACE,
            crate::oioxml::RECEIPT_NAMESPACE,
        )
        .replace("XB0131X", "XB0130X");
    let bin = text.into_bytes();
    let (valid, _, stderr) = xmllint(&xsd("2005/08/07"), &bin);
    let message = parse(&bin).expect("the 2005 XBIN01 is read");
    assert_eq!(message.expected_version(), "XB0130X");
    let judged = judge(Some(&files()), &bin, &message);
    assert_eq!(
        schema_breaches(&judged).is_empty(),
        valid,
        "{judged:?} / {stderr}"
    );
    assert!(
        !judged
            .iter()
            .any(|f| f.rule == "oioxml-structure" && f.grade != Grade::Ok),
        "{judged:?}"
    );
}

#[test]
fn a_negative_vans_receipt_has_a_vans_id_as_its_sender_not_an_ean() {
    // CTRLSenderType's EANIdentifier is EANIdentifierType = String_1_35 (2005/08/07).
    let bytes = replace(
        XCTL01,
        "<EANIdentifier>5790000000005</EANIdentifier>",
        "<EANIdentifier>VANS-DMDD</EANIdentifier>",
    );
    assert!(xmllint(&xsd("2005/08/07"), &bytes).0);
    let message = parse(&bytes).expect("reads");
    let judged = judge(Some(&files()), &bytes, &message);
    assert!(judged.iter().all(|f| f.grade == Grade::Ok), "{judged:?}");
    // A positive receipt's sender is the receiving party: an EAN it must be.
    let positive = include_bytes!("../../../tests/fixtures/oioxml/xctl03.xml");
    let text = String::from_utf8_lossy(positive);
    let sender = text.find("<Sender>").expect("has a Sender");
    let start = sender + text[sender..].find("<EANIdentifier>").expect("has an EAN");
    let end = start + text[start..].find("</EANIdentifier>").expect("closes");
    let bytes = format!("{}<EANIdentifier>VANS-DMDD{}", &text[..start], &text[end..]);
    let message = parse(bytes.as_bytes()).expect("reads");
    let judged = judge(Some(&files()), bytes.as_bytes(), &message);
    assert!(
        judged
            .iter()
            .any(|f| f.rule == "party-identifiers" && f.grade != Grade::Ok),
        "{judged:?}"
    );
}

#[test]
fn medcoms_xdis22_example_is_a_letter_of_an_unknown_release_named_by_namespace_not_unreadable() {
    let envelope = crate::test_corpus().join("vans-envelope/VANSEnvelope-example-XDIS22.xml");
    let bytes = std::fs::read(envelope).expect("the corpus has MedCom's XDIS22 example");
    let settings = crate::validate::Settings {
        payload: true,
        ..crate::validate::Settings::default()
    };
    let found = crate::validate::bytes(bytes, &settings, Some(&files()), None);
    assert!(!found.iter().any(|f| f.rule == "well-formed"), "{found:?}");
    let release: Vec<_> = found
        .iter()
        .filter(|f| f.rule == "oioxml-release")
        .collect();
    assert_eq!(release.len(), 1, "{found:?}");
    // The decoded payload's root: <Emessage xmlns="http://rep.oio.dk/medcom.dk/xml/schemas/2019/03/31/">
    // with <EmergencyMunicipalityLetter> (VANSEnvelope-example-XDIS22.Data.decoded.xml).
    assert!(
        release[0]
            .message
            .contains("http://rep.oio.dk/medcom.dk/xml/schemas/2019/03/31/"),
        "{}",
        release[0].message
    );
    assert!(release[0].message.contains("EmergencyMunicipalityLetter"));
    assert_eq!(release[0].grade, Grade::F3);
}

#[test]
fn a_letter_the_harness_does_not_read_in_a_release_it_has_is_still_schema_validated() {
    // XDIS01 DischargeLetter is in 2005/08/07 (its Letters.xsd) and not read by the harness (XDIS14
    // AnswerOfAdmission, the example before, is read since the home care letters were added);
    // an empty one breaks the schema.
    let bytes = String::from_utf8_lossy(XCTL01)
        .split("<NegativeVansReceipt>")
        .next()
        .expect("head")
        .to_string()
        + "<DischargeLetter/>\n</Emessage>\n";
    let (valid, lines, _) = xmllint(&xsd("2005/08/07"), bytes.as_bytes());
    assert!(!valid);
    let found = crate::validate::message_bytes(
        bytes.clone().into_bytes(),
        &crate::validate::Settings::default(),
        None,
    );
    assert!(
        found.iter().any(|f| f.rule == "oioxml-release"),
        "{found:?}"
    );
    let settings = crate::validate::Settings::default();
    let found = crate::validate::bytes(bytes.into_bytes(), &settings, Some(&files()), None);
    assert!(
        found.iter().any(|f| f.rule == "oioxml-release"),
        "{found:?}"
    );
    let schema_lines: Vec<String> = schema_breaches(&found)
        .iter()
        .filter_map(|f| f.location.clone())
        .collect();
    let expected: Vec<String> = lines.iter().map(|l| format!("line {l}")).collect();
    assert_eq!(schema_lines, expected);
}

#[test]
fn the_letters_and_receipts_we_write_are_valid_against_medcoms_schemas_by_xmllint() {
    let sender = build::party("5790001348120", "123451000016008", "Test Lægehus");
    let receiver = build::party("5790000209354", "953741000016009", "Test Sygehus");
    let pdf = BinaryAttachment {
        title: "Epikrise".to_string(),
        extension: "pdf".to_string(),
        bytes: include_bytes!("../../../tests/fixtures/oioxml/epikrise.pdf").to_vec(),
    };
    let (letter, binaries) = build::xdis91(sender, receiver, "Svar", "Linje 1\nLinje 2", &[pdf]);
    let mut written = vec![("XDIS91", "2006/07/01", write(&letter, Encoding::Iso88591))];
    for binary in &binaries {
        written.push(("XBIN01", "2012/03/28", write(binary, Encoding::Iso88591)));
    }
    let positive = build::receipt(&letter, ReceiptKind::Positive, None);
    written.push(("XCTL03", "2005/08/07", write(&positive, Encoding::Utf8)));
    let negative = build::receipt(
        &letter,
        ReceiptKind::Negative,
        Some((RefuseCode::Syntaksfejl, "Fejl i brevet".to_string())),
    );
    written.push(("XCTL02", "2005/08/07", write(&negative, Encoding::Utf8)));
    assert_eq!(written.len(), 4);
    for (what, release, bytes) in written {
        let (valid, _, stderr) = xmllint(&xsd(release), &bytes);
        assert!(valid, "{what}: {stderr}");
    }
}

#[test]
fn a_refuse_code_off_the_list_is_reported_once_by_the_refuse_code_rule() {
    // NegativeVansReceipt.xsd (2005/08/07) enumerates RefuseCode; xmllint refuses another value.
    let bytes = replace(
        XCTL01,
        "<RefuseCode>ukendt_lokationsnummer</RefuseCode>\n      <RefuseText>",
        "<RefuseCode>ukendt</RefuseCode>\n      <RefuseText>",
    );
    assert!(!xmllint(&xsd("2005/08/07"), &bytes).0);
    let message = parse(&bytes).expect("the model keeps an unknown code");
    let judged = judge(Some(&files()), &bytes, &message);
    let bad: Vec<_> = judged.iter().filter(|f| f.grade != Grade::Ok).collect();
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(bad[0].rule, "oioxml-refusecode");
}
