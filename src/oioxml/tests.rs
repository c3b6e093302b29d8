//! Tests over our own fixtures (`tests/fixtures/oioxml/`, see its README): parsing facts, namespace
//! and DOCTYPE errors, encodings, and write/parse round trips. The fixture loaders are shared with
//! the check tests in `structure.rs` and `check.rs`.

use super::*;

pub(super) const XDIS91: &[u8] = include_bytes!("../../tests/fixtures/oioxml/xdis91.xml");
pub(super) const XBIN01: &[u8] = include_bytes!("../../tests/fixtures/oioxml/xbin01.xml");
pub(super) const XCTL03: &[u8] = include_bytes!("../../tests/fixtures/oioxml/xctl03.xml");
pub(super) const XCTL02: &[u8] = include_bytes!("../../tests/fixtures/oioxml/xctl02.xml");
pub(super) const XCTL01: &[u8] = include_bytes!("../../tests/fixtures/oioxml/xctl01.xml");
pub(super) const PDF: &[u8] = include_bytes!("../../tests/fixtures/oioxml/epikrise.pdf");

pub(super) fn message(bytes: &[u8]) -> Emessage {
    parse(bytes).expect("our fixtures parse")
}

pub(super) fn xdis91() -> (Emessage, Xdis91) {
    let m = message(XDIS91);
    let Body::ClinicalEmail(x) = m.body.clone() else {
        panic!("xdis91.xml is a ClinicalEmail")
    };
    (m, x)
}

pub(super) fn xbin01() -> (Emessage, Xbin01) {
    let m = message(XBIN01);
    let Body::BinaryLetter(x) = m.body.clone() else {
        panic!("xbin01.xml is a BinaryLetter")
    };
    (m, x)
}

pub(super) fn receipt(bytes: &[u8]) -> Receipt {
    message(bytes).receipt().expect("a receipt fixture").clone()
}

/// Replaces the first occurrence of `from` in `bytes` (the fixture must contain it).
pub(super) fn replace(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let from = from.as_bytes();
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("the fixture contains the text to replace");
    [&bytes[..at], to.as_bytes(), &bytes[at + from.len()..]].concat()
}

#[test]
fn xdis91_fixture_facts() {
    let (m, x) = xdis91();
    assert_eq!(m.envelope.identifier, "E2405011015001");
    assert_eq!(m.envelope.sent, DateTime::new("2024-05-01", "10:15"));
    assert_eq!(
        m.envelope.acknowledgement_code,
        AcknowledgementCode::PlusPositive
    );
    assert_eq!(x.letter.identifier, "L2405011015001");
    assert_eq!(x.letter.version_code, "XD9134L");
    assert_eq!(x.letter.type_code, "XDIS91");
    assert_eq!(x.letter.status_code, "nytbrev");
    assert_eq!(x.sender.ean, "5790001348120");
    assert_eq!(x.receiver.ean, "5790000209354");
    assert_eq!(
        x.patient.identifier,
        Some(PatientIdentifier::Cpr("2509479989".to_string()))
    );
    assert_eq!(
        m.dedup_key(),
        DedupKey {
            envelope: "E2405011015001".to_string(),
            letter: "L2405011015001".to_string(),
        }
    );
    let bin = x.references[0].bin().expect("the reference has a BIN");
    assert_eq!(bin.object_extension_code, "pdf");
    assert_eq!(bin.declared_size(), Some(628));
}

#[test]
fn iso_8859_1_danish_letters_and_breaks_are_decoded() {
    let (_, x) = xdis91();
    // The file holds these as single Latin-1 bytes (e.g. 0xF8 for ø).
    assert!(XDIS91.contains(&0xF8) && !XDIS91.windows(2).any(|w| w == "ø".as_bytes()));
    assert_eq!(
        x.sender.organisation_name.as_deref(),
        Some("Plejecenter Søndergården")
    );
    assert_eq!(x.sender.street_name.as_deref(), Some("Ærøvej 12"));
    assert_eq!(
        x.additional_information.and_then(|a| a.subject).as_deref(),
        Some("Spørgsmål om årskontrol")
    );
    assert_eq!(
        x.clinical_information,
        vec![
            "Kære kolleger\nVedlagt epikrise fra besøget på Ærø.\nMed venlig hilsen\nSøs Ågård, sygeplejerske"
                .to_string()
        ]
    );
}

#[test]
fn xbin01_fixture_decodes_to_the_pdf() {
    let (m, x) = xbin01();
    assert_eq!(m.envelope.identifier, "E2405011015002");
    assert_eq!(x.letter.version_code, "XB0131X");
    assert_eq!(
        x.sender.organisation_name.as_deref(),
        Some("Plejecenter Søndergården")
    );
    let object = &x.objects[0];
    assert_eq!(
        object.object_identifier,
        "3f2b8c1e-9d4a-4f6b-8e2a-7c5d1b0e9f34"
    );
    assert_eq!(object.data, PDF);
    assert_eq!(object.data.len(), 628);
    assert_eq!(object.declared_size(), Some(628));
    assert!(object.data.starts_with(b"%PDF-"));
}

#[test]
fn receipt_fixtures_facts() {
    let positive = receipt(XCTL03);
    assert_eq!(positive.kind, ReceiptKind::Positive);
    assert_eq!(positive.letter.version_code, "XC0330Q");
    assert_eq!(positive.original_envelope_identifier, "E2405011015001");
    assert_eq!(positive.original_sender_ean, "5790001348120");
    assert_eq!(positive.original_receiver_ean, "5790000209354");
    assert_eq!(
        positive.letters[0].original_letter_identifier,
        "L2405011015001"
    );
    assert_eq!(positive.letters[0].refuse_code, None);

    let negative = receipt(XCTL02);
    assert_eq!(negative.kind, ReceiptKind::Negative);
    assert_eq!(negative.letter.version_code, "XC0230Q");
    assert_eq!(
        negative.letters[0].refuse_code,
        Some(RefuseCode::ProblemMedModtagerId)
    );
    assert_eq!(
        negative.letters[0].refuse_text.as_deref(),
        Some(
            "Afdelingen modtager ikke korrespondance på dette id.\nRet modtager og send brevet igen."
        )
    );

    let vans = receipt(XCTL01);
    assert_eq!(vans.kind, ReceiptKind::VansNegative);
    assert_eq!(vans.letter.version_code, "XC0130Q");
    assert_eq!(vans.refuse_code, Some(RefuseCode::UkendtLokationsnummer));
    assert_eq!(
        vans.letters[0].refuse_code,
        Some(RefuseCode::UkendtLokationsnummer)
    );
    assert_eq!(message(XCTL01).type_code(), "XCTL01");
}

#[test]
fn every_fixture_round_trips_byte_for_byte() {
    for (name, bytes, encoding) in [
        ("xdis91.xml", XDIS91, Encoding::Iso88591),
        ("xbin01.xml", XBIN01, Encoding::Utf8),
        ("xctl03.xml", XCTL03, Encoding::Iso88591),
        ("xctl02.xml", XCTL02, Encoding::Iso88591),
        ("xctl01.xml", XCTL01, Encoding::Utf8),
    ] {
        let written = write(&message(bytes), encoding);
        assert!(
            written == bytes,
            "{name} does not round-trip:\n{}",
            String::from_utf8_lossy(&written)
        );
    }
}

#[test]
fn a_letter_written_in_the_other_encoding_reads_the_same() {
    for bytes in [XDIS91, XBIN01, XCTL02] {
        let m = message(bytes);
        for encoding in [Encoding::Utf8, Encoding::Iso88591] {
            assert_eq!(parse(&write(&m, encoding)), Ok(m.clone()));
        }
    }
}

#[test]
fn characters_beyond_latin_1_become_references_in_iso_8859_1() {
    let (mut m, mut x) = xdis91();
    x.clinical_information = vec!["Dosis 5–10 mg € <ok> & \"godt\"".to_string()];
    m.body = Body::ClinicalEmail(x.clone());
    let written = write(&m, Encoding::Iso88591);
    let text: String = written.iter().map(|&b| char::from(b)).collect();
    assert!(text.contains("Dosis 5&#x2013;10 mg &#x20AC; &lt;ok&gt; &amp; \"godt\""));
    let Body::ClinicalEmail(again) = message(&written).body else {
        panic!("still a ClinicalEmail")
    };
    assert_eq!(again.clinical_information, x.clinical_information);
}

#[test]
fn an_emptied_required_field_is_left_out_and_reads_back_empty() {
    let (mut m, mut x) = xdis91();
    x.sender.ean = String::new();
    m.body = Body::ClinicalEmail(x);
    let written = write(&m, Encoding::Utf8);
    assert!(!String::from_utf8_lossy(&written).contains("<EANIdentifier>5790001348120"));
    assert_eq!(message(&written), m);
}

#[test]
fn a_namespace_of_no_release_is_an_unknown_release_naming_namespace_and_letter() {
    // Issue 10: a letter of a release the harness does not know is named, not "unreadable".
    let wrong = replace(XDIS91, "2006/07/01/", "2006/07/02/");
    let error = parse(&wrong).expect_err("an unknown namespace");
    let OioxmlError::UnknownRelease {
        namespace, letter, ..
    } = &error
    else {
        panic!("an unknown release, got {error}")
    };
    assert_eq!(
        namespace,
        "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2006/07/02/"
    );
    assert_eq!(letter, "ClinicalEmail");
    // The letter element's place.
    assert_eq!(error.line(), 11);
}

#[test]
fn a_letter_in_a_release_of_ours_that_lacks_it_names_the_right_namespace() {
    // MedCom's 2006/07/01 release has ClinicalEmail but no receipts (its Letters.xsd).
    let wrong = replace(XCTL03, RECEIPT_NAMESPACE, XDIS91_NAMESPACE);
    let error = parse(&wrong).expect_err("a PositiveReceipt in the 2006/07/01 namespace");
    let OioxmlError::Namespace { path, expected, .. } = &error else {
        panic!("a namespace error, got {error}")
    };
    assert_eq!(path, "Emessage.PositiveReceipt");
    assert_eq!(expected, RECEIPT_NAMESPACE);
}

#[test]
fn xdis91_and_xbin01_of_medcoms_2005_release_are_read_in_their_namespace() {
    // Issue 10: XDIS91 is published in 2004/06/01, 2005/08/07 and 2006/07/01, XBIN01 in
    // 2004/06/01, 2005/08/07 and 2012/03/28 (oioxml-xsd/README.md and each Letters.xsd).
    let old = replace(XDIS91, "2006/07/01/", "2005/08/07/");
    let m = parse(&old).expect("a ClinicalEmail in the 2005/08/07 namespace");
    assert_eq!(m.namespace(), RECEIPT_NAMESPACE);
    assert_eq!(m.expected_version(), "XD9133L");
    let old = replace(
        XBIN01,
        "http://rep.oio.dk/medcom.dk/xml/schemas/2012/03/28/",
        RECEIPT_NAMESPACE,
    );
    let m = parse(&old).expect("XB0130X's namespace");
    assert_eq!(m.namespace(), RECEIPT_NAMESPACE);
    assert_eq!(m.expected_version(), "XB0130X");
    assert!(String::from_utf8_lossy(&write(&m, Encoding::Utf8)).contains(RECEIPT_NAMESPACE));
}

#[test]
fn a_child_in_no_namespace_is_an_error_with_its_path() {
    let wrong = replace(XDIS91, "<Subject>", "<Subject xmlns=\"\">");
    let error = parse(&wrong).expect_err("Subject in no namespace");
    assert!(matches!(error, OioxmlError::Namespace { .. }), "{error}");
    assert_eq!(
        error.path(),
        Some("Emessage.ClinicalEmail.AdditionalInformation.Subject")
    );
    assert_eq!(error.line(), 49);
}

#[test]
fn prefixed_elements_in_the_right_namespace_are_fine() {
    let text = String::from_utf8(XCTL03.to_vec()).expect("ASCII");
    let prefixed = text
        .replace("</", "\u{1}")
        .replace("<?", "\u{2}")
        .replace('<', "<m:")
        .replace('\u{1}', "</m:")
        .replace('\u{2}', "<?")
        .replace("xmlns=", "xmlns:m=");
    assert_eq!(parse(prefixed.as_bytes()), Ok(message(XCTL03)));
}

#[test]
fn a_doctype_is_an_error() {
    let with_doctype = replace(
        XCTL03,
        "<Emessage",
        "<!DOCTYPE Emessage [<!ENTITY x \"boom\">]>\n<Emessage",
    );
    let error = parse(&with_doctype).expect_err("a DOCTYPE");
    assert_eq!(error, OioxmlError::Doctype { line: 2, column: 1 });
    let bare = replace(
        XCTL03,
        "<Emessage",
        "<!-- c -->\n<!DOCTYPE Emessage>\n<Emessage",
    );
    assert!(matches!(
        parse(&bare),
        Err(OioxmlError::Doctype { line: 3, column: 1 })
    ));
}

#[test]
fn an_undeclared_entity_is_not_expanded() {
    let with_entity = replace(XCTL03, "XCTL03", "&x;");
    assert!(matches!(
        parse(&with_entity),
        Err(OioxmlError::Xml { line: 15, .. })
    ));
}

#[test]
fn iso_8859_1_bytes_declared_as_utf_8_are_an_encoding_error_at_their_place() {
    let lying = replace(XDIS91, "ISO-8859-1", "UTF-8");
    let error = parse(&lying).expect_err("Latin-1 bytes are not UTF-8");
    assert!(matches!(error, OioxmlError::Encoding { .. }), "{error}");
    // `<OrganisationName>Plejecenter S` then 0xF8 (ø).
    assert_eq!((error.line(), error.column()), (27, 38));
}

#[test]
fn utf_16_is_refused() {
    assert!(matches!(
        parse(b"\xFF\xFE<\0?\0x\0m\0l\0"),
        Err(OioxmlError::Encoding { .. })
    ));
}

#[test]
fn unknown_and_misplaced_elements_are_structure_errors_with_paths() {
    let error = parse(&replace(
        XCTL03,
        "<StatisticalCode>XCTL03</StatisticalCode>",
        "<StatisticalCode>XCTL03</StatisticalCode><Extra/>",
    ))
    .expect_err("an unknown element");
    let OioxmlError::Structure {
        path,
        message,
        line,
        ..
    } = &error
    else {
        panic!("a structure error, got {error}")
    };
    assert_eq!(path, "Emessage.PositiveReceipt.Letter");
    assert!(message.contains("unknown element `Extra`"), "{message}");
    assert_eq!(*line, 15);

    let swapped = replace(
        XCTL03,
        "<Identifier>K2405011020003</Identifier>\n      <VersionCode>XC0330Q</VersionCode>",
        "<VersionCode>XC0330Q</VersionCode>\n      <Identifier>K2405011020003</Identifier>",
    );
    let error = parse(&swapped).expect_err("out of order");
    assert!(
        error.to_string().contains("`Identifier` is out of order"),
        "{error}"
    );

    let twice = replace(
        XCTL03,
        "<StatisticalCode>",
        "<StatisticalCode>XCTL03</StatisticalCode><StatisticalCode>",
    );
    assert!(
        parse(&twice)
            .expect_err("twice")
            .to_string()
            .contains("more than once")
    );
}

#[test]
fn two_letters_in_one_envelope_are_refused() {
    let doubled = replace(XCTL03, "</Emessage>", "  <PositiveReceipt/>\n</Emessage>");
    let error = parse(&doubled).expect_err("two letters");
    assert!(error.to_string().contains("a second letter"), "{error}");
}

#[test]
fn invalid_base64_is_an_error_at_the_element() {
    let broken = replace(XBIN01, "<Object_Base64Encoded>", "<Object_Base64Encoded>*");
    let error = parse(&broken).expect_err("not base64");
    assert!(matches!(error, OioxmlError::Base64 { .. }), "{error}");
    assert_eq!(
        error.path(),
        Some("Emessage.BinaryLetter.BinaryObject[0].Object_Base64Encoded")
    );
}

#[test]
fn wrapped_base64_decodes_and_formatting_is_flattened() {
    let b64 = String::from_utf8_lossy(XBIN01)
        .split("<Object_Base64Encoded>")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the fixture has base64")
        .to_string();
    let wrapped: Vec<String> = b64
        .as_bytes()
        .chunks(76)
        .map(|c| String::from_utf8_lossy(c).to_string())
        .collect();
    let wrapped = replace(XBIN01, &b64, &format!("\n{}\n      ", wrapped.join("\n")));
    let Body::BinaryLetter(x) = message(&wrapped).body else {
        panic!("a BinaryLetter")
    };
    assert_eq!(x.objects[0].data, PDF);

    let utf8 = write(&message(XDIS91), Encoding::Utf8);
    let formatted = replace(
        &utf8,
        "Kære kolleger<Break/>",
        "<Bold>Kære</Bold><Space/>kolleger\n<Break/>",
    );
    let Body::ClinicalEmail(x) = message(&formatted).body else {
        panic!("a ClinicalEmail")
    };
    assert!(x.clinical_information[0].starts_with("Kære kolleger \nVedlagt"));
}

#[test]
fn a_missing_required_element_is_held_as_empty_not_an_error() {
    let missing = replace(XDIS91, "<EANIdentifier>5790001348120</EANIdentifier>", "");
    let (_, x) = {
        let m = message(&missing);
        let Body::ClinicalEmail(x) = m.body.clone() else {
            panic!("a ClinicalEmail")
        };
        (m, x)
    };
    assert_eq!(x.sender.ean, "");
}

#[test]
fn statistics_fields_per_letter_type() {
    let fields = |bytes: &[u8]| {
        let m = message(bytes);
        (
            m.type_code().to_string(),
            m.version_code().to_string(),
            m.statistical_code().to_string(),
        )
    };
    let owned = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(fields(XDIS91), owned("XDIS91", "XD9134L", "XDIS91"));
    assert_eq!(fields(XBIN01), owned("XBIN01", "XB0131X", "XBIN01"));
    assert_eq!(fields(XCTL03), owned("XCTL03", "XC0330Q", "XCTL03"));
    assert_eq!(fields(XCTL02), owned("XCTL02", "XC0230Q", "XCTL02"));
}

#[test]
fn a_missing_envelope_reads_as_empty_with_no_acknowledgement_code() {
    let start = XCTL03
        .windows(10)
        .position(|w| w == b"<Envelope>")
        .expect("an Envelope");
    let end = XCTL03
        .windows(11)
        .position(|w| w == b"</Envelope>")
        .expect("its end")
        + 11;
    let without = [&XCTL03[..start], &XCTL03[end..]].concat();
    let m = message(&without);
    assert_eq!(m.envelope.identifier, "");
    assert_eq!(
        m.envelope.acknowledgement_code,
        AcknowledgementCode::Other(String::new())
    );
}
