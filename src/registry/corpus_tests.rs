//! The registry against MedCom's corpus: the EER organisations (`seed-rows/ehmi-eer`), the SOR
//! XML v1 extracts (`seed-rows/sor-xml-v1/samples`) and our own EER Endpoint fixture
//! (`tests/fixtures/registry/eer-endpoints.json`, see its README).

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::*;
use crate::grade::Grade;

fn seed() -> PathBuf {
    crate::test_corpus().join("seed-rows")
}

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/registry/eer-endpoints.json")
}

fn corpus_registry() -> Registry {
    Registry::load(&[
        seed().join("ehmi-eer/eer_fhir_org.json"),
        fixture(),
        seed().join("sor-xml-v1/samples"),
    ])
    .expect("the corpus registry loads")
}

fn party(role: Role, gln: &str, sor: &str) -> Party {
    Party {
        role,
        gln: Some(gln.into()),
        sor_id: Some(sor.into()),
        location: "MessageHeader".into(),
    }
}

fn graded<'a>(found: &'a [crate::finding::Finding], rule: &str) -> Vec<(Grade, &'a str)> {
    found
        .iter()
        .filter(|f| f.rule == rule)
        .map(|f| (f.grade, f.message.as_str()))
        .collect()
}

#[test]
fn the_corpus_registry_holds_every_eer_organisation_and_the_sor_extracts() {
    let r = corpus_registry();
    // 1,999 EER organisations (DOMAIN facts, counted in the file), 4 + 3 + 3 SOR XML entities.
    let eer = r.units().filter(|u| u.source == Some(Source::Eer)).count();
    assert_eq!(eer, 1999);
    assert_eq!(
        r.units()
            .filter(|u| u.source == Some(Source::SorXml))
            .count(),
        10
    );
    assert_eq!(r.endpoints().len(), 3);
}

#[test]
fn a_known_ean_and_its_sor_id_pass() {
    let r = corpus_registry();
    // SOR XML: the practice's owner carries EanLocationCode 5790000141227 itself.
    let found = judge(
        &r,
        &[party(Role::Sender, "5790000141227", "8321000016007")],
        None,
    );
    assert!(found.iter().all(|f| f.grade == Grade::Ok), "{found:?}");
    assert_eq!(graded(&found, "registry-gln").len(), 1);
    assert_eq!(graded(&found, "registry-sor-id").len(), 1);
    // EER: the organisation's endpoint (our fixture) has the GLN.
    let found = judge(
        &r,
        &[party(Role::Receiver, "5790000160013", "1254731000016003")],
        Some(&MessageType::of_event("care-communication-message")),
    );
    assert!(found.iter().all(|f| f.grade == Grade::Ok), "{found:?}");
    assert!(graded(&found, "registry-accepts")[0].1.contains("accepts"));
}

#[test]
fn an_ean_not_in_the_registry_is_registry_gln() {
    let r = corpus_registry();
    let found = judge(
        &r,
        &[party(Role::Receiver, "5790000000029", "1254731000016003")],
        None,
    );
    let gln = graded(&found, "registry-gln");
    assert_eq!(gln.len(), 1);
    assert_eq!(gln[0].0, Grade::F2);
    assert!(
        gln[0]
            .1
            .contains("`5790000000029` is not a location number"),
        "{}",
        gln[0].1
    );
}

#[test]
fn a_sor_id_of_another_organisation_is_registry_sor_id() {
    let r = corpus_registry();
    // Genoptræning, Københavns Kommune with the GLN of Almen Lægeklinik Hvidovre's endpoint.
    let found = judge(
        &r,
        &[party(Role::Sender, "5790000160013", "193221000016001")],
        None,
    );
    assert_eq!(graded(&found, "registry-gln")[0].0, Grade::Ok);
    let sor = graded(&found, "registry-sor-id");
    assert_eq!(sor[0].0, Grade::F3);
    assert!(
        sor[0].1.contains("belongs to another organisation"),
        "{}",
        sor[0].1
    );
    // SOR XML: the eye clinic's ward with the practice owner's location number.
    let found = judge(
        &r,
        &[party(Role::Sender, "5790000141227", "347831000016005")],
        None,
    );
    assert_eq!(graded(&found, "registry-sor-id")[0].0, Grade::F3);
    // A SOR id no register knows.
    let found = judge(
        &r,
        &[party(Role::Sender, "5790000141227", "999991000016001")],
        None,
    );
    assert!(
        graded(&found, "registry-sor-id")[0]
            .1
            .contains("not a unit in the registry")
    );
}

#[test]
fn a_receiver_that_does_not_accept_the_message_type_is_registry_accepts() {
    let r = corpus_registry();
    // The home-care unit's endpoint declares HospitalNotification 3.0 and Acknowledgement 2.0.
    let cc = MessageType::of_event("care-communication-message");
    let found = judge(
        &r,
        &[party(Role::Receiver, "5790000160037", "1119001000016000")],
        Some(&cc),
    );
    let accepts = graded(&found, "registry-accepts");
    assert_eq!(accepts[0].0, Grade::F2);
    assert!(
        accepts[0]
            .1
            .contains("does not accept carecommunication-message 5.0"),
        "{}",
        accepts[0].1
    );
    let hn = MessageType::of_event("hospital-notification-message");
    let found = judge(
        &r,
        &[party(Role::Receiver, "5790000160037", "1119001000016000")],
        Some(&hn),
    );
    assert_eq!(graded(&found, "registry-accepts")[0].0, Grade::Ok);
    // An OIOXML letter against the catalogue's OIOXML URI.
    let xdis91 = MessageType::Oioxml {
        type_code: "XDIS91".into(),
        version_code: "XD9134L".into(),
    };
    let found = judge(
        &r,
        &[party(Role::Receiver, "5790000160020", "193221000016001")],
        Some(&xdis91),
    );
    assert_eq!(graded(&found, "registry-accepts")[0].0, Grade::Ok);
    let found = judge(
        &r,
        &[party(Role::Receiver, "5790000160013", "1254731000016003")],
        Some(&xdis91),
    );
    assert_eq!(graded(&found, "registry-accepts")[0].0, Grade::F2);
}

#[test]
fn an_organisational_unit_inherits_its_nearest_ancestors_location_number() {
    let r = corpus_registry();
    // ONE_PRAKSIS.xml: the unit 8341000016002 and its institution 8331000016009 say
    // EntityInheritedIndicator true; the owner 8321000016007 has EanLocationCode 5790000141227.
    assert_eq!(r.unit("8341000016002").and_then(|u| u.gln.as_deref()), None);
    assert_eq!(
        r.ancestors("8341000016002"),
        ["8331000016009", "8321000016007"]
    );
    assert_eq!(
        r.location_number("8341000016002"),
        Some(("5790000141227", "8321000016007"))
    );
    let found = judge(
        &r,
        &[party(Role::Sender, "5790000141227", "8341000016002")],
        None,
    );
    let sor = graded(&found, "registry-sor-id");
    assert_eq!(sor[0].0, Grade::Ok);
    assert!(
        sor[0]
            .1
            .contains("inherits location number `5790000141227`"),
        "{}",
        sor[0].1
    );
}

#[test]
fn municipality_units_are_found_by_their_owners_cvr() {
    let r = corpus_registry();
    // Københavns Kommune (IE, type kommune) has CVR 64942212; Genoptræning shares it.
    let u = r.unit("193221000016001").expect("in EER");
    assert_eq!(u.municipality.as_deref(), Some("Københavns Kommune"));
    assert_eq!(r.sector("193221000016001"), "municipality");
}

#[test]
fn an_oioxml_letter_names_its_parties_and_type() {
    let letter = br#"<?xml version="1.0" encoding="UTF-8"?>
<Emessage xmlns="http://rep.oio.dk/medcom.dk/xml/schemas/2012/03/28/"><Envelope/>
<ClinicalEmail><Letter><Identifier>L1</Identifier><VersionCode>XD9134L</VersionCode><StatisticalCode>XDIS91</StatisticalCode><TypeCode>XDIS91</TypeCode></Letter>
<Sender><EANIdentifier>5790000141227</EANIdentifier><Identifier>8341000016002</Identifier><IdentifierCode>sorkode</IdentifierCode></Sender>
<Receiver><EANIdentifier>5790000160020</EANIdentifier><Identifier>193221000016001</Identifier><IdentifierCode>sorkode</IdentifierCode></Receiver>
</ClinicalEmail></Emessage>"#;
    let (parties, t) = parties_in_xml(letter).expect("an Emessage");
    assert_eq!(parties.len(), 2);
    assert_eq!(parties[0].sor_id.as_deref(), Some("8341000016002"));
    let found = judge(&corpus_registry(), &parties, t.as_ref());
    assert!(found.iter().all(|f| f.grade == Grade::Ok), "{found:?}");
}

#[test]
fn a_sor2_csv_export_gives_units_parents_and_the_edi_type_map() {
    let dir = tempfile::tempdir().expect("temp dir");
    let entities = dir.path().join("SorEntity_daily.csv");
    std::fs::write(
        &entities,
        "SorIdentifier;ParentSorIdentifier;EntityName;EanLocationCode;RegionCode\n\
         8321000016007;;Owner;5790000141227;1084\n\
         8341000016002;8321000016007;Unit;;1084\n",
    )
    .expect("written");
    let map = dir.path().join("LocationsCodeEDITypeMap.csv");
    std::fs::write(&map, "EanLocationCode,EdiType\n5790000141227,XDIS91\n").expect("written");
    let r = Registry::load(&[entities, map]).expect("loads");
    assert_eq!(
        r.location_number("8341000016002"),
        Some(("5790000141227", "8321000016007"))
    );
    assert_eq!(
        r.unit("8321000016007").map(|u| u.edi_types.clone()),
        Some(vec!["XDIS91".to_string()])
    );
}

#[test]
fn a_folder_is_read_with_its_subfolders_and_other_xml_is_passed_over() {
    // `seed-rows/` keeps the EER organisations in `ehmi-eer/` and the SOR extracts two levels
    // down in `sor-xml-v1/samples/`; the DGWS samples beside them are SOAP, not SorTree.
    let r = Registry::load(&[seed()]).expect("the seed-rows folder loads");
    let eer = r.units().filter(|u| u.source == Some(Source::Eer)).count();
    let file: serde_json::Value = serde_json::from_slice(
        &std::fs::read(seed().join("ehmi-eer/eer_fhir_org.json")).expect("readable"),
    )
    .expect("JSON");
    assert_eq!(eer, file["entry"].as_array().map_or(0, Vec::len));
    let sor_files = std::fs::read_dir(seed().join("sor-xml-v1/samples"))
        .expect("samples")
        .count();
    let read_sor = r
        .files
        .iter()
        .filter(|f| {
            f.extension().is_some_and(|x| x == "xml") && f.starts_with(seed().join("sor-xml-v1"))
        })
        .count();
    assert_eq!(read_sor, sor_files);
    assert!(
        r.skipped()
            .iter()
            .any(|(p, why)| p.starts_with(seed().join("dgws")) && why.contains("not a SOR XML v1")),
        "{:?}",
        r.skipped()
    );
}

#[test]
fn a_path_without_any_party_is_an_error_naming_it_and_the_file_kinds() {
    let dir = tempfile::tempdir().expect("temp dir");
    let nested = dir.path().join("a/b");
    std::fs::create_dir_all(&nested).expect("folders");
    std::fs::write(nested.join("notes.txt"), "no registry here").expect("written");
    std::fs::write(nested.join("other.xml"), "<Envelope/>").expect("written");
    let err = Registry::load(&[dir.path().to_path_buf()]).expect_err("nothing to load");
    let text = err.to_string();
    assert!(
        matches!(err, RegistryError::Empty { files: 0, .. }),
        "{err:?}"
    );
    assert!(text.contains(&dir.path().display().to_string()), "{text}");
    for kind in ["`.json`", "`SorTree`", "`.csv`", "subfolders"] {
        assert!(text.contains(kind), "{kind}: {text}");
    }
    // An empty Bundle named directly is a file read that gave nothing.
    let empty = dir.path().join("empty.json");
    std::fs::write(
        &empty,
        r#"{"resourceType":"Bundle","type":"collection","entry":[]}"#,
    )
    .expect("written");
    let err = Registry::load(&[empty]).expect_err("no party");
    assert!(
        matches!(err, RegistryError::Empty { files: 1, .. }),
        "{err:?}"
    );
}

#[test]
fn the_runs_own_identity_missing_from_the_registry_is_f4_naming_the_config_key() {
    let mut r = corpus_registry();
    r.add_own(
        "the identity of the system under test",
        Some("vendor"),
        "5790000000029",
        "999981000016002",
    );
    let found = judge(
        &r,
        &[party(Role::Sender, "5790000000029", "999981000016002")],
        None,
    );
    let gln = graded(&found, "registry-gln");
    assert_eq!(gln[0].0, Grade::F4);
    assert!(gln[0].1.contains("config `[vendor] ean`"), "{}", gln[0].1);
    assert!(gln[0].1.contains("eer_fhir_org.json"), "{}", gln[0].1);
    assert!(
        gln[0]
            .1
            .contains("add an EER Endpoint with identifier `http://www.gs1.org/gln|5790000000029`"),
        "{}",
        gln[0].1
    );
    let sor = graded(&found, "registry-sor-id");
    assert_eq!(sor[0].0, Grade::F4);
    assert!(sor[0].1.contains("`[vendor] sor-id`"), "{}", sor[0].1);
    assert_eq!(r.own_missing().len(), 1);
    // A party the config does not name is still a breach.
    let found = judge(
        &r,
        &[party(Role::Receiver, "5790000000036", "1254731000016003")],
        None,
    );
    assert_eq!(graded(&found, "registry-gln")[0].0, Grade::F2);
    // Registered, the own identity is checked like any other party.
    let mut r = corpus_registry();
    r.add_own(
        "the harness's own test identity",
        Some("harness"),
        "5790000160013",
        "1254731000016003",
    );
    assert!(r.own_missing().is_empty());
    let found = judge(
        &r,
        &[party(Role::Sender, "5790000160013", "1254731000016003")],
        None,
    );
    assert!(found.iter().all(|f| f.grade == Grade::Ok), "{found:?}");
}

/// An ehmiSBDH envelope of our own around a placeholder payload.
fn sbdh(
    sender: &str,
    receiver: &str,
    sender_sor: &str,
    receiver_sor: &str,
    standard: &str,
) -> Vec<u8> {
    use crate::envelope::{DocumentIdentification, RECEIVERID, SENDERID, SbdhEnvelope, Scope};
    let envelope = SbdhEnvelope::new(
        sender,
        receiver,
        DocumentIdentification {
            standard: standard.into(),
            type_version: "5.0".into(),
            instance_identifier: "9a6ff822-08de-4a6f-9670-9fa4b9d2f0dc".into(),
            document_type: "Bundle".into(),
            multiple_type: Some(false),
            creation_date_and_time: "2026-05-05T10:00:00+02:00".into(),
        },
        vec![
            Scope::new(SENDERID, sender_sor),
            Scope::new(RECEIVERID, receiver_sor),
        ],
        "application/fhir+xml",
        b"<Bundle xmlns=\"http://hl7.org/fhir\"/>".to_vec(),
    );
    crate::envelope::wrap_sbdh(&envelope).into_bytes()
}

#[test]
fn an_ehmi_sbdh_envelopes_parties_are_checked_like_a_message_headers() {
    // MedCom's own sample: GLNs in `Sender`/`Receiver`, SOR ids in the SENDERID/RECEIVERID
    // scopes, HomeCareObservation 1.2 in DocumentIdentification.
    let sample = std::fs::read(
        crate::test_corpus()
            .join("dk-ehmi-sbdh/input/pagecontent/ehmiSBDH/ehmisbdh_fullsample.xml"),
    )
    .expect("the SBDH sample");
    let (parties, t) = parties_in_xml(&sample).expect("an SBDH");
    let got: Vec<(Role, Option<&str>, Option<&str>)> = parties
        .iter()
        .map(|p| (p.role, p.gln.as_deref(), p.sor_id.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            (Role::Sender, Some("5790000121526"), Some("8851000016006")),
            (
                Role::Receiver,
                Some("5790000201389"),
                Some("263001000016001")
            ),
        ]
    );
    assert_eq!(
        t.map(|t| t.uri()).as_deref(),
        Some(
            "urn:dk:healthcare:medcom:messaging:fhir:structuredefinition::homecareobservation-message##urn:dk:medcom:fhir:homecareobservation-message::1.2"
        )
    );
    // Our own envelope between registered parties: every check passes.
    let r = corpus_registry();
    let known = sbdh(
        "5790000141227",
        "5790000160013",
        "8341000016002",
        "1254731000016003",
        "carecommunication-message",
    );
    let (parties, t) = parties_in_xml(&known).expect("an SBDH");
    let found = judge(&r, &parties, t.as_ref());
    assert!(found.iter().all(|f| f.grade == Grade::Ok), "{found:?}");
    assert_eq!(graded(&found, "registry-accepts").len(), 1);
    assert!(found.iter().all(|f| {
        f.location
            .as_deref()
            .is_some_and(|l| l.starts_with("StandardBusinessDocumentHeader/"))
    }));
    // An unknown sender GLN, a sender SOR id whose unit has another location number, a
    // receiver (the home-care unit of our Endpoint fixture: HospitalNotification and
    // Acknowledgement only) that does not accept CareCommunication: each its finding, as for a
    // MessageHeader.
    let wrong = sbdh(
        "5790000000036",
        "5790000160037",
        "8341000016002",
        "1119001000016000",
        "carecommunication-message",
    );
    let (parties, t) = parties_in_xml(&wrong).expect("an SBDH");
    let found = judge(&r, &parties, t.as_ref());
    assert_eq!(graded(&found, "registry-gln")[0].0, Grade::F2);
    assert!(
        graded(&found, "registry-sor-id")
            .iter()
            .any(|(g, m)| *g == Grade::F3 && m.contains("belongs to another organisation"))
    );
    assert_eq!(graded(&found, "registry-accepts")[0].0, Grade::F2);
}

#[test]
fn eer_general_practices_get_a_sector_from_their_level_and_own_cvr() {
    // Independently from the file: municipal CVRs are those of the `kommune` owners; a health
    // institution (SI) without an EER unit type and with another CVR is a practice.
    let file: serde_json::Value = serde_json::from_slice(
        &std::fs::read(seed().join("ehmi-eer/eer_fhir_org.json")).expect("readable"),
    )
    .expect("JSON");
    let orgs: Vec<&serde_json::Value> = file["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| &e["resource"])
        .collect();
    let code = |r: &serde_json::Value, system: &str| -> Option<String> {
        r["type"].as_array()?.iter().find_map(|t| {
            t["coding"].as_array()?.iter().find_map(|c| {
                c["system"]
                    .as_str()?
                    .ends_with(system)
                    .then(|| c["code"].as_str().map(str::to_string))?
            })
        })
    };
    let cvr = |r: &serde_json::Value| -> Option<String> {
        r["identifier"].as_array()?.iter().find_map(|i| {
            (i["system"] == "http://cvr.dk").then(|| i["value"].as_str().map(str::to_string))?
        })
    };
    let sor = |r: &serde_json::Value| -> String {
        r["identifier"]
            .as_array()
            .and_then(|ids| {
                ids.iter()
                    .find(|i| i["system"] == "urn:oid:1.2.208.176.1.1")
            })
            .and_then(|i| i["value"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    let kommune_cvrs: Vec<String> = orgs
        .iter()
        .filter(|r| code(r, "eer-sor-unit-type").as_deref() == Some("kommune"))
        .filter_map(|r| cvr(r))
        .collect();
    assert_eq!(kommune_cvrs.len(), 2, "Københavns and Aarhus Kommune");
    let practices: BTreeSet<String> = orgs
        .iter()
        .filter(|r| {
            code(r, "eer-sor-organization-type").as_deref() == Some("SI")
                && code(r, "eer-sor-unit-type").is_none()
                && cvr(r).is_some_and(|c| !kommune_cvrs.contains(&c))
        })
        .map(|r| sor(r))
        .collect();
    let municipal = orgs
        .iter()
        .filter(|r| cvr(r).is_some_and(|c| kommune_cvrs.contains(&c)))
        .count();
    let r = Registry::load(&[seed().join("ehmi-eer/eer_fhir_org.json")]).expect("loads");
    let by_sector = |name: &str| -> BTreeSet<String> {
        r.units()
            .filter(|u| r.sector(&u.sor_id) == name)
            .map(|u| u.sor_id.clone())
            .collect()
    };
    assert_eq!(by_sector("general practice"), practices);
    assert_eq!(by_sector("municipality").len(), municipal);
    assert_eq!(
        by_sector("unknown").len(),
        orgs.len() - practices.len() - municipal
    );
    // Almen Lægeklinik Hvidovre: SI, CVR 31336244; the source says it is inferred.
    let s = r.sector_of("1254731000016003");
    assert_eq!(s.name, "general practice");
    assert!(
        s.source
            .starts_with("inferred: EER health institution (SI)"),
        "{}",
        s.source
    );
    assert!(s.source.contains("31336244"), "{}", s.source);
    let s = r.sector_of("193221000016001");
    assert_eq!(s.name, "municipality");
    assert!(
        s.source.starts_with("EER unit type `genoptræningsenhed`"),
        "{}",
        s.source
    );
    // SOR XML v1: the practice's unit by its institution's SNOMED CT type 394761003.
    let sor = Registry::load(&[seed().join("sor-xml-v1/samples")]).expect("loads");
    let s = sor.sector_of("8341000016002");
    assert_eq!(s.name, "general practice");
    assert!(s.source.contains("394761003"), "{}", s.source);
}
