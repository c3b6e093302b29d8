//! The home care and LÆ letters on MedCom's own schemas. Expected verdicts come from the schemas
//! through `xmllint --schema` (libxml2's command-line tool, the independent oracle); the codes
//! from the schema files (`VersionCode`/`TypeCode` patterns).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::envelope::SchemaFiles;
use crate::finding::Grade;
use crate::oioxml::{Body, Emessage, Encoding, RELEASES, check, parse, schema, write};

fn files() -> SchemaFiles {
    SchemaFiles::in_corpus(&crate::test_corpus())
}

/// The `EMessage.xsd` of the release with `namespace` (its folder is the date in it).
fn xsd(namespace: &str) -> PathBuf {
    let date: Vec<&str> = namespace
        .trim_end_matches('/')
        .rsplit('/')
        .take(3)
        .collect();
    files()
        .oioxml
        .join(date[2])
        .join(date[1])
        .join(date[0])
        .join("EMessage.xsd")
}

fn xmllint(schema: &Path, bytes: &[u8]) -> (bool, String) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let file = std::env::temp_dir().join(format!(
        "medcom-form-{}-{}.xml",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&file, bytes).expect("the temporary directory is writable");
    let output = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(schema)
        .arg(&file)
        .output()
        .expect("xmllint runs (apt-get install libxml2-utils)");
    let _ = std::fs::remove_file(&file);
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn municipality() -> Addressee {
    Addressee {
        ean: "5790001348120".into(),
        sor_id: "123451000016008".into(),
        name: "Testkommune Hjemmepleje".into(),
    }
}

fn hospital() -> Addressee {
    Addressee {
        ean: "5790000209354".into(),
        sor_id: "953741000016009".into(),
        name: "Test Sygehus".into(),
    }
}

fn form(m: &Emessage) -> &Form {
    match &m.body {
        Body::Form(f) => f,
        _ => panic!("a form letter"),
    }
}

#[test]
fn every_template_is_its_type_in_every_release_medcom_gives_it() {
    assert_eq!(FORM_TYPES.len(), 15);
    for t in FORM_TYPES {
        let root = t.template();
        assert_eq!(root.name, t.element);
        assert_eq!(root.text_at("Letter/VersionCode"), t.version_code);
        assert_eq!(root.text_at("Letter/TypeCode"), t.type_code);
        for ns in t.releases {
            assert!(
                RELEASES.contains(&(t.element, ns, t.version_code)),
                "{} in {ns}",
                t.type_code
            );
            // The release's schema fixes this VersionCode for the letter (its `pattern`).
            let folder = xsd(ns).parent().map(Path::to_path_buf).unwrap_or_default();
            let fixed = std::fs::read_dir(&folder)
                .expect("the release folder")
                .filter_map(Result::ok)
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .any(|text| {
                    text.contains(&format!("name=\"{}\"", t.element))
                        && text.contains(&format!("pattern value=\"{}\"", t.version_code))
                });
            assert!(fixed, "{} fixed in {}", t.version_code, folder.display());
        }
    }
}

#[test]
fn every_letter_we_write_is_valid_against_medcoms_schema_by_xmllint() {
    for t in FORM_TYPES {
        let m = build(t, &municipality(), &hospital(), None);
        for encoding in [Encoding::Iso88591, Encoding::Utf8] {
            let bytes = write(&m, encoding);
            let (valid, stderr) = xmllint(&xsd(t.namespace()), &bytes);
            assert!(valid, "{}: {stderr}", t.type_code);
            // Our validator agrees, and the structure rules find nothing beyond it.
            let judged = schema::judge(Some(&files()), &bytes, &m);
            let bad: Vec<_> = judged.iter().filter(|f| f.grade != Grade::Ok).collect();
            assert!(bad.is_empty(), "{}: {bad:?}", t.type_code);
            assert!(judged.iter().any(|f| f.rule == "oioxml-schema"));
        }
    }
}

#[test]
fn written_letters_read_back_as_they_were() {
    for t in FORM_TYPES {
        let m = build(t, &municipality(), &hospital(), None);
        let again = parse(&write(&m, Encoding::Iso88591)).expect("our letter reads");
        assert_eq!(again, m, "{}", t.type_code);
        assert_eq!(again.type_code(), t.type_code);
        assert_eq!(again.version_code(), t.version_code);
        assert_eq!(again.envelope_facts().type_code, t.type_code);
    }
}

#[test]
fn every_release_of_every_type_is_read_and_valid_as_xmllint_says() {
    // The 2004 release knows no `sorkode`: a location number identifies the parties there.
    for t in FORM_TYPES {
        for ns in t.releases {
            let mut m = build(t, &municipality(), &hospital(), None);
            m.namespace = (*ns != t.namespace()).then(|| ns.to_string());
            if let Body::Form(f) = &mut m.body {
                for role in ["Sender", "Receiver"] {
                    let ean = f.root.text_at(&format!("{role}/EANIdentifier")).to_string();
                    f.root.set(&format!("{role}/Identifier"), &ean);
                    f.root
                        .set(&format!("{role}/IdentifierCode"), "lokationsnummer");
                }
            }
            let bytes = write(&m, Encoding::Utf8);
            let (valid, stderr) = xmllint(&xsd(ns), &bytes);
            assert!(valid, "{} in {ns}: {stderr}", t.type_code);
            let read = parse(&bytes).expect("read in its release");
            assert_eq!(read.namespace(), *ns);
            assert_eq!(read.expected_version(), t.version_code);
        }
    }
}

#[test]
fn one_broken_letter_per_type_is_rejected_in_the_schemas_words() {
    for (i, t) in FORM_TYPES.iter().enumerate() {
        // A VersionCode of the same release's sibling type: the wrong version for this one (the
        // fault `form-wrong-versioncode` of the reference vendor).
        let sibling = FORM_TYPES
            .iter()
            .cycle()
            .skip(i + 1)
            .find(|s| s.releases == t.releases)
            .expect("every release has two types");
        let mut m = build(t, &municipality(), &hospital(), None);
        if let Body::Form(f) = &mut m.body {
            f.root.set("Letter/VersionCode", sibling.version_code);
        }
        let bytes = write(&m, Encoding::Utf8);
        let (valid, stderr) = xmllint(&xsd(t.namespace()), &bytes);
        assert!(
            !valid,
            "{}: xmllint refuses a foreign VersionCode",
            t.type_code
        );
        assert!(stderr.contains("VersionCode"), "{stderr}");
        let judged = schema::judge(Some(&files()), &bytes, &m);
        let breach = judged
            .iter()
            .find(|f| f.rule == "oioxml-schema" && f.grade != Grade::Ok)
            .unwrap_or_else(|| panic!("{}: a schema breach", t.type_code));
        // libxml2's words, as xmllint prints them.
        assert!(breach.message.contains("VersionCode"), "{}", breach.message);
        assert!(
            breach.message.contains("[facet 'pattern']"),
            "{}",
            breach.message
        );
        assert!(
            breach.message.contains(sibling.version_code),
            "{}",
            breach.message
        );
    }
}

#[test]
fn an_answer_of_admission_quotes_the_notification_and_goes_back() {
    let xdis20 = FormType::by_type_code("XDIS20").expect("XDIS20");
    let xdis14 = FormType::by_type_code("XDIS14").expect("XDIS14");
    let notification = build(xdis20, &hospital(), &municipality(), None);
    let answer = build(
        xdis14,
        &municipality(),
        &hospital(),
        Some(form(&notification)),
    );
    let judged = check::answer(&answer, &notification);
    assert!(judged.iter().all(|f| f.grade == Grade::Ok), "{judged:?}");
    assert_eq!(
        form(&answer).root.text_at("Letter/NotificationIdentifier"),
        form(&notification)
            .root
            .text_at("Letter/NotificationIdentifier")
    );

    let mut unquoted = answer.clone();
    if let Body::Form(f) = &mut unquoted.body {
        f.root
            .set("Letter/NotificationIdentifier", "N0000000000000");
    }
    let judged = check::answer(&unquoted, &notification);
    let bad: Vec<_> = judged.iter().filter(|f| f.grade != Grade::Ok).collect();
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(bad[0].rule, "oioxml-answer-quotes");
    assert_eq!(bad[0].grade, Grade::F1);
}

#[test]
fn an_le_answer_is_paired_by_type_patient_and_parties() {
    let la121 = FormType::by_type_code("LA121").expect("LA121 by MedCom's short name");
    let la125 = FormType::by_type_code("XLA125").expect("XLA125");
    let la145 = FormType::by_type_code("XLA145").expect("XLA145");
    let request = build(la121, &municipality(), &hospital(), None);
    let answer = build(la125, &hospital(), &municipality(), Some(form(&request)));
    assert!(
        check::answer(&answer, &request)
            .iter()
            .all(|f| f.grade == Grade::Ok)
    );
    // The wrong form answers nothing.
    let wrong = build(la145, &hospital(), &municipality(), Some(form(&request)));
    let judged = check::answer(&wrong, &request);
    assert!(judged.iter().any(|f| f.rule == "oioxml-answer-pair"
        && f.grade == Grade::F2
        && f.message.contains("XLA125")));
    // Another patient, or sent to someone else, is not this request's answer.
    let mut other = answer.clone();
    if let Body::Form(f) = &mut other.body {
        f.root.set("Patient/CivilRegistrationNumber", "0101709996");
        f.root.set("Receiver/EANIdentifier", "5790000209354");
    }
    let bad = check::answer(&other, &request)
        .into_iter()
        .filter(|f| f.grade != Grade::Ok)
        .count();
    assert_eq!(bad, 2);
}

#[test]
fn a_bad_check_digit_in_a_form_is_a_party_identifiers_finding() {
    let t = FormType::by_type_code("XDIS19").expect("XDIS19");
    let mut m = build(t, &hospital(), &municipality(), None);
    if let Body::Form(f) = &mut m.body {
        // GS1: the check digit of 579000020935 is 4.
        f.root.set("Sender/EANIdentifier", "5790000209355");
    }
    let found = crate::oioxml::structure::check(&m);
    assert!(found.iter().any(|f| f.rule == "party-identifiers"
        && f.grade == Grade::F2
        && f.message.contains("check digit")));
}
