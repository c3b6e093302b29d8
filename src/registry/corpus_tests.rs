//! The registry against MedCom's corpus: the EER organisations (`seed-rows/ehmi-eer`), the SOR
//! XML v1 extracts (`seed-rows/sor-xml-v1/samples`) and our own EER Endpoint fixture
//! (`tests/fixtures/registry/eer-endpoints.json`, see its README).

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
