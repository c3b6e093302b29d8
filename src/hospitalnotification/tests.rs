//! The events of a stay rendered from the built-in template, judged by MedCom's rules and the
//! stay rules. Expected verdicts quote the HospitalNotification IG 3.0
//! (<https://medcomfhir.dk/ig/hospitalnotification/>).

/// The MedCom corpus folder (`$MEDCOM_CORPUS`), read by this test module only (the library reads
/// no environment variable).
#[cfg(test)]
fn corpus() -> Option<std::ffi::OsString> {
    std::env::var_os("MEDCOM_CORPUS")
}

use super::stay::judge;
use super::*;
use crate::finding::{Finding, Grade};
use crate::message::Format;
use crate::template::{Organization, Templates};

fn org(ean: &str, sor: &str, name: &str) -> Organization {
    Organization {
        ean: ean.into(),
        sor_id: sor.into(),
        name: name.into(),
    }
}

fn hospital() -> Organization {
    org(
        "5790000209354",
        "265161000016000",
        "Hjerteafdelingen (test)",
    )
}

fn municipality() -> Organization {
    org("5790001348120", "953741000016009", "Plejecenter (test)")
}

/// Renders `name` after `previous`.
fn event(name: &str, previous: Option<&Message>) -> Message {
    let e = Event::parse(name).expect("an event name");
    let v = render(
        &Templates::builtin(),
        "https://hospital.example/fhir/",
        hospital(),
        municipality(),
        e,
        previous,
        None,
    )
    .expect("renders");
    Message::encode(&v, Format::Json).expect("encodes")
}

/// A stay of events, each after the one before.
fn stay(names: &[&str]) -> Vec<Message> {
    let mut out: Vec<Message> = Vec::new();
    for n in names {
        let m = event(n, out.last());
        out.push(m);
    }
    out
}

fn errors(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f.grade != Grade::Ok)
        .map(|f| format!("{}: {}", f.rule, f.message))
        .collect()
}

/// The `hn-consistency` findings of MedCom's rules on `m`.
fn hn_consistency(m: &Message) -> Vec<Finding> {
    crate::validate::message(m)
        .into_iter()
        .filter(|f| f.rule == "hn-consistency")
        .collect()
}

fn facts(m: &Message) -> Facts {
    Facts::of(m).expect("a HospitalNotification")
}

/// Judges the last message of `messages` against the ones before it.
fn judge_last(messages: &[Message]) -> Vec<Finding> {
    let all: Vec<Facts> = messages.iter().map(facts).collect();
    let (last, earlier) = all.split_last().expect("a message");
    judge(earlier, last)
}

fn broken(findings: &[Finding]) -> Vec<String> {
    let mut r: Vec<String> = findings
        .iter()
        .filter(|f| f.grade != Grade::Ok)
        .map(|f| f.rule.to_string())
        .collect();
    r.dedup();
    r
}

#[test]
fn every_event_name_parses_and_has_a_built_in_template() {
    for n in Event::NAMES {
        assert!(Event::parse(n).is_some(), "{n}");
        let name = format!("hospitalnotification/{n}");
        assert!(
            crate::template::BUILTIN.iter().any(|(b, _)| *b == name),
            "{name}"
        );
    }
    assert_eq!(Event::parse("AN_MORS"), None);
    assert_eq!(Event::parse("XXXX"), None);
    // Without the event's view (`prepare`), the template does not render.
    let bare = Context::new_message("b/", hospital(), municipality());
    assert!(
        Templates::builtin()
            .render("hospitalnotification/STIN", &bare)
            .is_err()
    );
}

#[test]
fn a_whole_stay_passes_medcoms_rules_and_the_stay_rules() {
    for names in [
        &["STIN", "STOR", "SLOR", "SLHJ"][..],
        &["STAA", "SLHJ"],
        &["STIN", "MORS"],
        &["STIN", "STOR", "MORS"],
        &["STIN", "RE_STIN", "STOR", "RE_STOR", "AN_STOR"],
        &["STAA", "AN_STAA"],
        &["STIN", "SLHJ", "RE_SLHJ", "AN_SLHJ"],
    ] {
        let messages = stay(names);
        for (i, m) in messages.iter().enumerate() {
            let v = crate::validate::message(m);
            assert!(errors(&v).is_empty(), "{names:?} #{i}: {:?}", errors(&v));
            let judged = judge_last(&messages[..=i]);
            assert!(
                errors(&judged).is_empty(),
                "{names:?} #{i}: {:?}",
                errors(&judged)
            );
        }
    }
}

/// HN IG 3.0 Index, MORS: "In the Provenance instance is the activity code 'admit-inpatient', as
/// it shall remain the current activity" and "The status in the Encounter is changed from
/// 'in-progress' to 'finished', and the Encounter is populated with a timestamp indicating end
/// of the encounter (period.end) … The element Patient.deceased is sat to 'true'".
#[test]
fn mors_keeps_the_current_activity_and_finishes_the_encounter() {
    let during = stay(&["STIN", "MORS"]);
    let f = facts(&during[1]);
    assert_eq!(f.activity, "admit-inpatient");
    assert_eq!(f.status, "finished");
    assert!(f.period_end.is_some() && f.deceased);
    let on_leave = stay(&["STIN", "STOR", "MORS"]);
    assert_eq!(facts(&on_leave[2]).activity, "start-leave-inpatient");
    // The same activity again without a death is no MORS.
    let mut alive = facts(&during[1]);
    alive.deceased = false;
    alive.status = "in-progress".into();
    assert_eq!(
        broken(&judge(&[facts(&during[0])], &alive)),
        vec!["hn-order"]
    );
}

/// The rule `hn-consistency` before this change asked every deceased patient's Encounter of an
/// admission to be finished, and a deceased patient on leave to be `onleave`; the IG says the
/// Encounter is 'finished' in both (MORS keeps `start-leave-inpatient`).
#[test]
fn a_death_on_leave_with_a_finished_encounter_is_consistent() {
    let on_leave = stay(&["STIN", "STOR", "MORS"]);
    let v = hn_consistency(&on_leave[2]);
    assert!(errors(&v).is_empty(), "{v:?}");
    // The same message still `onleave` breaks it.
    let mut r = on_leave[2].resource.clone();
    set_encounter(&mut r, "status", serde_json::json!("onleave"));
    let m = Message::encode(&r, Format::Json).expect("encodes");
    assert_eq!(broken(&hn_consistency(&m)), vec!["hn-consistency"]);
}

fn set_encounter(bundle: &mut Value, key: &str, value: Value) {
    for e in bundle["entry"].as_array_mut().expect("entries") {
        if e["resource"]["resourceType"] == "Encounter" {
            e["resource"][key] = value.clone();
        }
    }
}

/// medcom-hospitalNotification-6: "When the status = 'onleave', the timestamp for beginning of a
/// leave (extension.valuePeriod.start) shall be present."
#[test]
fn a_leave_without_its_leave_period_breaks_hn_consistency() {
    let s = stay(&["STIN", "STOR"]);
    let mut r = s[1].resource.clone();
    for e in r["entry"].as_array_mut().expect("entries") {
        if e["resource"]["resourceType"] == "Encounter" {
            e["resource"]
                .as_object_mut()
                .expect("object")
                .remove("extension");
        }
    }
    let m = Message::encode(&r, Format::Json).expect("encodes");
    assert_eq!(broken(&hn_consistency(&m)), vec!["hn-consistency"]);
}

/// HN IG 3.0 Index: a cancellation (`AN_`) sets the Encounter to `entered-in-error` (the
/// cancel example Bundle-c83671a4 has `"status" : "entered-in-error"` with
/// `cancel-admit-inpatient`).
#[test]
fn a_cancellation_without_entered_in_error_breaks_hn_consistency() {
    let s = stay(&["STIN", "AN_STIN"]);
    assert_eq!(facts(&s[1]).status, "entered-in-error");
    let mut r = s[1].resource.clone();
    set_encounter(&mut r, "status", serde_json::json!("in-progress"));
    let m = Message::encode(&r, Format::Json).expect("encodes");
    assert_eq!(broken(&hn_consistency(&m)), vec!["hn-consistency"]);
}

/// The events of a stay (HN IG 3.0 Index): a leave starts after an admission and ends after it
/// started.
#[test]
fn a_leave_before_the_admission_or_an_end_without_a_leave_breaks_hn_order() {
    let s = stay(&["STIN", "STOR", "SLOR"]);
    // SLOR straight after STIN: no leave to end.
    assert_eq!(
        broken(&judge(&[facts(&s[0])], &facts(&s[2]))),
        vec!["hn-order"]
    );
    // STOR as the first message of a stay.
    assert!(broken(&judge(&[], &facts(&s[1]))).contains(&"hn-order".to_string()));
}

/// Nothing but a revision or cancellation after discharge (HN IG 3.0 Index).
#[test]
fn a_leave_after_the_discharge_breaks_hn_order() {
    let s = stay(&["STIN", "SLHJ"]);
    let leave = stay(&["STIN", "STOR"]);
    let judged = judge(&[facts(&s[0]), facts(&s[1])], &facts(&leave[1]));
    assert!(
        broken(&judged).contains(&"hn-order".to_string()),
        "{judged:?}"
    );
}

/// A revision revises the latest message of its kind: `entity.role = revision` naming it.
#[test]
fn a_revision_naming_another_message_breaks_hn_revision_target() {
    let s = stay(&["STIN", "STOR", "RE_STOR"]);
    let mut f = facts(&s[2]);
    assert_eq!(
        f.entities,
        vec![("revision".into(), facts(&s[1]).letter_id)]
    );
    f.entities = vec![("revision".into(), facts(&s[0]).letter_id)];
    assert_eq!(
        broken(&judge(&[facts(&s[0]), facts(&s[1])], &f)),
        vec!["hn-revision-target"]
    );
}

/// `Encounter.episodeOfCare`: "Shall contain an episode of care identifier for the entire
/// hospitalisation".
#[test]
fn a_new_episode_id_mid_stay_breaks_hn_episode() {
    let s = stay(&["STIN", "STOR"]);
    let mut f = facts(&s[1]);
    f.episode = Some("another-episode".into());
    assert_eq!(broken(&judge(&[facts(&s[0])], &f)), vec!["hn-episode"]);
}

/// Every earlier Provenance is carried along (the IG's later examples hold the earlier ones).
#[test]
fn a_dropped_earlier_provenance_breaks_hn_provenance_carried() {
    let s = stay(&["STIN", "STOR"]);
    let mut f = facts(&s[1]);
    f.provenances.remove(0);
    assert_eq!(
        broken(&judge(&[facts(&s[0])], &f)),
        vec!["hn-provenance-carried"]
    );
}

/// `period.start` "is the timestamp that is registered by the hospital at patient physical
/// attendance at the hospital": it stays through the stay; compared as instants, so the same
/// instant in another zone is the same start.
#[test]
fn times_are_compared_as_instants() {
    let s = stay(&["STIN", "STOR"]);
    let first = facts(&s[0]);
    let mut f = facts(&s[1]);
    let start = time::OffsetDateTime::parse(
        first.period_start.as_deref().expect("start"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("instant");
    let shifted = start
        .to_offset(time::UtcOffset::from_hms(2, 0, 0).expect("offset"))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formats");
    f.period_start = Some(shifted);
    assert!(broken(&judge(std::slice::from_ref(&first), &f)).is_empty());
    f.period_start = Some("2001-01-01T00:00:00Z".into());
    assert_eq!(broken(&judge(&[first], &f)), vec!["hn-times"]);
}

/// Every current HospitalNotification example of the IG validates by MedCom's rules, in JSON and
/// in XML (the corpus is read at run time from `$MEDCOM_CORPUS`).
#[test]
fn every_current_hn_example_validates_in_json_and_xml() {
    let Some(corpus) = corpus() else {
        eprintln!("MEDCOM_CORPUS is not set: skipped");
        return;
    };
    let dir = std::path::Path::new(&corpus).join("medcomfhir-website/ig/hospitalnotification");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("the HN IG folder") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !name.starts_with("Bundle-") {
            continue;
        }
        let bytes = std::fs::read(&path).expect("reads");
        let m = Message::parse(bytes, None).expect("parses");
        let v = crate::validate::message(&m);
        assert!(errors(&v).is_empty(), "{name}: {:?}", errors(&v));
        // Each example also as the other format.
        let other = match m.format {
            Format::Json => Format::Xml,
            Format::Xml => Format::Json,
        };
        let again = Message::encode(&m.resource, other).expect("re-encodes");
        let v = crate::validate::message(&again);
        assert!(errors(&v).is_empty(), "{name} as {other}: {:?}", errors(&v));
        n += 1;
    }
    assert!(n >= 12, "only {n} examples");
}

/// Over exchange folders a HospitalNotification travels in a VANSEnvelope named by its
/// statistical code, `MCM:FDIS20#<postfix>` of CodeSystem medcom-messaging-statisticalCodes
/// (`AdmissionInpatient`, `AcuteAmbulant`, `OnLeave`, `EndOfLeave`, `EndHospitalStay`): a death
/// keeps the current activity, so its envelope is named as that activity's.
#[test]
fn every_event_travels_in_a_vans_envelope_named_by_its_statistical_code() {
    for (names, expected) in [
        (
            &["STIN", "STOR", "SLOR", "SLHJ"][..],
            &[
                "MCM:FDIS20#AdmissionInpatient",
                "MCM:FDIS20#OnLeave",
                "MCM:FDIS20#EndOfLeave",
                "MCM:FDIS20#EndHospitalStay",
            ][..],
        ),
        (
            &["STAA", "RE_STAA", "AN_STAA"],
            &[
                "MCM:FDIS20#AcuteAmbulant",
                "MCM:FDIS20#AcuteAmbulant",
                "MCM:FDIS20#AcuteAmbulant",
            ],
        ),
        (
            &["STIN", "STOR", "MORS"],
            &[
                "MCM:FDIS20#AdmissionInpatient",
                "MCM:FDIS20#OnLeave",
                "MCM:FDIS20#OnLeave",
            ],
        ),
    ] {
        for (m, want) in stay(names).iter().zip(expected) {
            let bytes = crate::envelope::carry::wrap_fhir(m, None).expect("wraps");
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                text.contains(&format!(">{want}<")),
                "{names:?}: {want} not in {text}"
            );
        }
    }
}
