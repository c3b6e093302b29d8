//! MedCom rules that profiles cannot express: identity, time zones, the Provenance of the
//! message's own step, activities per family, parties, attachment size and HospitalNotification
//! consistency. Each rule is in the catalogue ([`crate::rule`]) with its grade and source.

use serde_json::Value;

use super::{LetterIdentifier, Settings};
use crate::finding::{Finding, Grade};
use crate::identifier::{is_fhir_id, is_uuid, is_valid_gln, is_valid_sor_id};
use crate::message::{Activity, Message, ProvenanceInfo, reference_names, resources_of_type};
use crate::rule;

/// `fhir-id`: Bundle.id and MessageHeader.id.
pub fn ids(message: &Message) -> Vec<Finding> {
    let mut out = Vec::new();
    for (what, at, value) in [
        ("Bundle.id", "Bundle.id", &message.identity.envelope_id),
        (
            "MessageHeader.id",
            "Bundle.entry[0].resource.id",
            &message.identity.letter_id,
        ),
    ] {
        match value.as_deref() {
            None => out.push(rule::FHIR_ID.breach(format!("{what} is missing")).at(at)),
            Some(id) if !is_fhir_id(id) => out.push(rule::FHIR_ID.breach(format!("{what} `{id}` is not a valid FHIR id")).at(at)),
            Some(id) if !is_uuid(id) => out.push(
                rule::FHIR_ID.finding(Grade::Ok, format!(
                    "note: {what} `{id}` is a valid FHIR id but not a UUID; governance asks for UUIDs, receivers must accept it (Tek-B)"))
                .at(at),
            ),
            Some(_) => {}
        }
    }
    out
}

/// `time-zone`: every string that is a date with a time has a zone.
pub fn time_zones(message: &Message) -> Vec<Finding> {
    let mut out = Vec::new();
    walk(
        &message.resource,
        &mut String::from("Bundle"),
        &mut |path, text| {
            if looks_like_date_time(text) && !has_zone(text) {
                out.push(
                    rule::TIME_ZONE.breach(
                        // `+0100` is a zone in the wrong form, not a missing one.
                        match text.get(19..).and_then(|t| t.find(['+', '-', 'z'])) {
                            Some(_) => format!(
                                "`{text}` has a time zone that is not `Z` or `±hh:mm` (FHIR dateTime, ISO 8601 extended form)"
                            ),
                            None => format!("`{text}` has a time but no time zone"),
                        },
                    )
                    .at(path.to_string()),
                );
            }
        },
    );
    out
}

fn looks_like_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 16
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[11..13].iter().all(u8::is_ascii_digit)
        && b[13] == b':'
}

fn has_zone(s: &str) -> bool {
    if s.ends_with('Z') {
        return true;
    }
    // Bytes, not a `str` slice: the sixth byte from the end may be inside a character.
    let b = s.as_bytes();
    let b = &b[b.len().saturating_sub(6)..];
    b.len() == 6 && (b[0] == b'+' || b[0] == b'-') && b[3] == b':'
}

fn walk(v: &Value, path: &mut String, f: &mut impl FnMut(&str, &str)) {
    match v {
        Value::String(s) => f(path, s),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(item, path, f);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (k, child) in map {
                if k == "text" && child.get("div").is_some() {
                    continue;
                }
                let len = path.len();
                path.push('.');
                path.push_str(k);
                walk(child, path, f);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// Every code of CodeSystem `medcom-messaging-activityCodes` ([`Activity::CODES`]).
pub const ACTIVITY_CODES: [&str; 25] = {
    assert!(Activity::CODES.len() == 25);
    let mut codes = [""; 25];
    let mut i = 0;
    while i < codes.len() {
        codes[i] = Activity::CODES[i];
        i += 1;
    }
    codes
};

/// The activities allowed for a message family, by its MessageHeader event.
fn allowed_activities(event: &str) -> Option<Vec<Activity>> {
    match event {
        "care-communication-message" => Some(vec![
            Activity::NewMessage,
            Activity::ReplyMessage,
            Activity::ForwardMessage,
        ]),
        // The admit, leave and discharge codes with their revise-/cancel- variants: the
        // HospitalNotification part of the activity CodeSystem.
        "hospital-notification-message" => Some(
            Activity::ALL
                .iter()
                .copied()
                .filter(|a| a.is_hospital_notification())
                .collect(),
        ),
        "acknowledgement-message" => Some(vec![Activity::Acknowledgement]),
        _ => None,
    }
}

/// `provenance-own` and `activity-allowed`.
pub fn provenance(message: &Message, order: LetterIdentifier) -> Vec<Finding> {
    let mut out = Vec::new();
    let id = &message.identity;
    let letter = id.letter_id.as_deref().unwrap_or("");
    let Some(own) = id
        .provenances
        .iter()
        .rev()
        .find(|p| p.targets_letter(letter))
    else {
        if !id.provenances.is_empty() {
            // For the clinical families and acknowledgements the history is part of the message;
            // for other events (the technical `empty-message`) a stray target is minor.
            let grade = if id.event.as_deref().and_then(allowed_activities).is_some() {
                rule::PROVENANCE_OWN.grade
            } else {
                Grade::F4
            };
            out.push(
                rule::PROVENANCE_OWN
                    .finding(
                        grade,
                        format!("no Provenance targets the message's own MessageHeader `{letter}`"),
                    )
                    .at("Bundle.entry"),
            );
        }
        return out;
    };
    let base = provenance_location(&message.resource, own);
    out.extend(letter_identifiers(own, order, &base));
    let activity = own.activity.as_deref().unwrap_or("");
    if let Some(allowed) = id.event.as_deref().and_then(allowed_activities)
        && !own.activity_code().is_some_and(|a| allowed.contains(&a))
    {
        out.push(
            rule::ACTIVITY_ALLOWED
                .breach(format!(
                    "activity `{activity}` is not allowed for `{}` (allowed: {})",
                    id.event.as_deref().unwrap_or(""),
                    allowed
                        .iter()
                        .map(|a| a.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .at(format!("{base}.activity")),
        );
    }
    if id.event.as_deref() == Some("care-communication-message") {
        out.extend(payload_entities(&message.resource, own, activity, &base));
    }
    // A revision points to an earlier message; a CareCommunication follow-up carries that
    // message's Provenance along, so the bundle must hold one targeting it.
    if id.event.as_deref() == Some("care-communication-message") {
        for (k, e) in own
            .entities
            .iter()
            .enumerate()
            .filter(|(_, e)| e.role.as_deref() == Some("revision"))
        {
            let Some(r) = e.what_reference.as_deref() else {
                continue;
            };
            let previous = r.rsplit('/').next().unwrap_or("");
            if !id.provenances.iter().any(|p| {
                p.targets
                    .iter()
                    .any(|t| reference_names(t, "MessageHeader", previous))
            }) {
                out.push(rule::PROVENANCE_OWN.breach(format!(
                    "the revision entity points to `{r}`, but no carried-over Provenance targets that message")).at(format!("{base}.entity[{k}].what.reference")));
            }
        }
    }
    out
}

/// The identifiers of the CareCommunication's payload segments
/// (`Communication.payload.extension.valueIdentifier.value`, medcom-core-identifier-extension).
fn payload_identifiers(bundle: &Value) -> Vec<&str> {
    resources_of_type(bundle, "Communication")
        .flat_map(|(_, c)| c["payload"].as_array().into_iter().flatten())
        .flat_map(|p| p["extension"].as_array().into_iter().flatten())
        .filter_map(|x| x["valueIdentifier"]["value"].as_str())
        .collect()
}

/// `provenance-payload`: the entities of the message's own Provenance that name a payload
/// segment (role `source`, or `revision` with a `urn:uuid:` identifier; `what.identifier` and no
/// `what.reference`; a revision entity with `lokationsnummer#brevid` names a preceding letter).
///
/// A new message consists only of segments it adds, so when none of its payload entities names a
/// segment of the message, the message is broken: MedCom's receive examples R-Tek-M and R-Tek-N
/// (`dublicate-inv`, whose only defect this is) expect `fatal-error`. Any other entity naming no
/// segment is a note (F4): MedCom's own current examples carry such entities and are published as
/// valid (IG example gfd00bc2, a new message naming two unknown ids beside a known one; IG example
/// k7bfbc0c and send example S-Tek-C, replies naming ids not in the message), so MedCom's material
/// decides the grade there.
fn payload_entities(
    bundle: &Value,
    own: &ProvenanceInfo,
    activity: &str,
    base: &str,
) -> Vec<Finding> {
    let segments = payload_identifiers(bundle);
    let named: Vec<(usize, &str)> = own
        .entities
        .iter()
        .enumerate()
        .filter(|(_, e)| e.what_reference.is_none())
        .filter_map(|(k, e)| {
            e.what_identifier
                .as_deref()
                .map(|v| (k, e.role.as_deref(), v))
        })
        .filter(|(_, role, v)| match role {
            Some("source") => true,
            // A revision entity names a preceding letter (`lokationsnummer#brevid`) or a
            // payload segment (a `urn:uuid:` like the segment identifiers).
            Some("revision") => v.starts_with("urn:uuid:"),
            _ => false,
        })
        .map(|(k, _, v)| (k, v))
        .collect();
    let unknown: Vec<&(usize, &str)> = named
        .iter()
        .filter(|(_, v)| !segments.contains(v))
        .collect();
    if named.is_empty() || unknown.is_empty() {
        return Vec::new();
    }
    if unknown.len() == named.len() && activity == "new-message" {
        return unknown
            .iter()
            .map(|(k, v)| {
                rule::PROVENANCE_PAYLOAD.breach(
                    format!("the new message's Provenance entity names payload segment `{v}`, but no Communication.payload of the message has that identifier, and no entity names one that has"),
                )
                .at(format!("{base}.entity[{k}].what.identifier.value"))
            })
            .collect();
    }
    unknown
        .iter()
        .map(|(k, v)| {
            rule::PROVENANCE_PAYLOAD.finding(
                Grade::F4,
                format!("note: the Provenance entity names payload segment `{v}`, which no Communication.payload of the message has"),
            )
            .at(format!("{base}.entity[{k}].what.identifier.value"))
        })
        .collect()
}

/// `provenance-letter-identifier`: an entity of the message's own Provenance that names a
/// preceding letter by identifier (role `revision` or `removal`, no `what.reference`) gives
/// `[lokationsnummer]#[brevid]` in the configured order, with a valid EAN/GLN location number.
fn letter_identifiers(own: &ProvenanceInfo, order: LetterIdentifier, base: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    for (k, e) in own.entities.iter().enumerate().filter(|(_, e)| {
        matches!(e.role.as_deref(), Some("revision" | "removal")) && e.what_reference.is_none()
    }) {
        let at = format!("{base}.entity[{k}].what.identifier.value");
        let Some(value) = e.what_identifier.as_deref() else {
            continue;
        };
        let form = order.as_str();
        match order.split(value) {
            None => out.push(
                rule::PROVENANCE_LETTER_IDENTIFIER
                    .breach(format!("`{value}` is not `{form}`"))
                    .at(at.clone()),
            ),
            Some((location, _)) if !is_valid_gln(location) => {
                let other = order.other();
                let finding = match other.split(value) {
                    // The parts in the other order: MedCom's own CareCommunication example
                    // (Bundle k7bfbc0c, `B300720181623#5790000121526`) writes them so, against
                    // the Provenance profile's text. The letter is still found: minor.
                    Some((gln, _)) if is_valid_gln(gln) => rule::PROVENANCE_LETTER_IDENTIFIER.finding(
                        Grade::F4,
                        format!(
                            "`{value}` is `{}`; the `letter-identifier` setting says `{form}` (the Provenance profile's order; MedCom's CareCommunication example k7bfbc0c has the other)",
                            other.as_str()
                        ),
                    ),
                    _ => rule::PROVENANCE_LETTER_IDENTIFIER.breach(
                        format!(
                            "`{value}`: the lokationsnummer `{location}` is not a 13-digit EAN/GLN with a valid check digit (read as `{form}`)"
                        ),
                    ),
                };
                out.push(finding.at(at.clone()));
            }
            Some(_) => {}
        }
    }
    out
}

/// Where a Provenance is in the Bundle: `Bundle.entry[i].resource`, found by its id; `Provenance`
/// when it has none.
fn provenance_location(bundle: &Value, p: &ProvenanceInfo) -> String {
    p.id.as_deref()
        .and_then(|id| {
            crate::message::entries(bundle).iter().position(|e| {
                e["resource"]["resourceType"] == "Provenance" && e["resource"]["id"] == id
            })
        })
        .map_or_else(
            || "Provenance".to_string(),
            |i| format!("Bundle.entry[{i}].resource"),
        )
}

/// `party-identifiers`: sender and primary receiver Organizations.
pub fn parties(message: &Message) -> Vec<Finding> {
    let mut out = Vec::new();
    for (role, party, header) in [
        ("sender", &message.identity.sender, "MessageHeader.sender"),
        (
            "receiver",
            &message.identity.receiver,
            "MessageHeader.destination.receiver",
        ),
    ] {
        let Some(p) = party else {
            out.push(
                rule::PARTY_IDENTIFIERS
                    .breach(format!(
                        "the {role} Organization is missing or its reference does not resolve"
                    ))
                    .at(header),
            );
            continue;
        };
        let at =
            |value: Option<&str>| organization_location(&message.resource, &p.reference, value);
        match p.ean.as_deref() {
            None => out.push(
                rule::PARTY_IDENTIFIERS
                    .breach(format!(
                        "the {role} `{}` has no EAN/GLN (https://www.gs1.org/gln)",
                        p.reference
                    ))
                    .at(at(None)),
            ),
            Some(ean) if !is_valid_gln(ean) => out.push(
                rule::PARTY_IDENTIFIERS
                    .breach(format!(
                        "the {role}'s EAN/GLN `{ean}` is not 13 digits with a valid GS1 check digit"
                    ))
                    .at(at(Some(ean))),
            ),
            Some(_) => {}
        }
        match p.sor_id.as_deref() {
            None => out.push(rule::PARTY_IDENTIFIERS.breach(format!("the {role} `{}` has no SOR id (urn:oid:1.2.208.176.1.1)", p.reference)).at(at(None))),
            Some(sor) if !is_valid_sor_id(sor) => out.push(rule::PARTY_IDENTIFIERS.finding(Grade::F3, format!(
                "the {role}'s SOR id `{sor}` does not have the SOR form (digits ending in 100001600 + a digit)")).at(at(Some(sor)))),
            Some(_) => {}
        }
    }
    out
}

/// Where an Organization's identifiers are: `Bundle.entry[i].resource.identifier[j].value` for
/// the identifier with `value`, `….identifier` without one.
fn organization_location(bundle: &Value, reference: &str, value: Option<&str>) -> String {
    let found = crate::message::entries(bundle)
        .iter()
        .enumerate()
        .find(|(_, e)| {
            let r = &e["resource"];
            r["resourceType"] == "Organization"
                && (e["fullUrl"].as_str() == Some(reference)
                    || r["id"]
                        .as_str()
                        .is_some_and(|id| reference_names(reference, "Organization", id)))
        });
    let Some((i, entry)) = found else {
        return reference.to_string();
    };
    let identifiers = entry["resource"]["identifier"].as_array();
    match value.and_then(|v| identifiers?.iter().position(|x| x["value"] == v)) {
        Some(j) => format!("Bundle.entry[{i}].resource.identifier[{j}].value"),
        None => format!("Bundle.entry[{i}].resource.identifier"),
    }
}

/// `cc-attachment-size`: the whole message's size against the limits.
pub fn size(message: &Message, settings: &Settings) -> Vec<Finding> {
    let n = message.bytes.len() as u64;
    if n > settings.size_limit {
        vec![rule::ATTACHMENT_SIZE.breach(format!(
            "the message is {n} bytes, over the limit of {} bytes",
            settings.size_limit
        ))]
    } else if n > settings.size_warning {
        vec![rule::ATTACHMENT_SIZE.finding(
            Grade::F4,
            format!(
                "the message is {n} bytes, over the clinical guideline's {} bytes",
                settings.size_warning
            ),
        )]
    } else {
        Vec::new()
    }
}

/// `hn-consistency`: activity against Encounter status, class, period and leave period.
///
/// HospitalNotification IG 3.0: start-leave needs `onleave` with the leave period's start
/// (invariant medcom-hospitalNotification-6: "When the status = 'onleave', the timestamp for
/// beginning of a leave (extension.valuePeriod.start) shall be present"); a discharge is
/// `finished` with `period.end`; a cancellation is `entered-in-error`. MORS (Index page): "The
/// status in the Encounter is changed from 'in-progress' to 'finished', and the Encounter is
/// populated with a timestamp indicating end of the encounter (period.end) … The element
/// Patient.deceased is sat to 'true' … In the Provenance instance is the activity code
/// 'admit-inpatient', as it shall remain the current activity": a deceased patient's message
/// keeps the stay's current activity (admit, start-leave or end-leave) with a `finished`
/// Encounter and `period.end`.
pub fn hospital_notification(message: &Message) -> Vec<Finding> {
    use crate::hospitalnotification::{Change, Facts, split_activity};
    let Some(facts) = Facts::of(message) else {
        return Vec::new();
    };
    if resources_of_type(&message.resource, "Encounter")
        .next()
        .is_none()
    {
        return vec![rule::HN_CONSISTENCY.breach("a HospitalNotification without an Encounter")];
    }
    let activity = facts.activity.as_str();
    if activity.is_empty() {
        return Vec::new();
    }
    let (base, change) = split_activity(activity);
    let known = base.starts_with("admit-")
        || base.starts_with("discharge-")
        || base == "start-leave-inpatient"
        || base == "end-leave-inpatient";
    if !known {
        return Vec::new();
    }
    let status = facts.status.as_str();
    let class = facts.class.as_str();
    let mut out = Vec::new();
    let expected_status = if change == Change::Cancel {
        "entered-in-error"
    } else if facts.deceased || base.starts_with("discharge-") {
        "finished"
    } else if base == "start-leave-inpatient" {
        "onleave"
    } else {
        "in-progress"
    };
    let why = if facts.deceased && change != Change::Cancel && !base.starts_with("discharge-") {
        " (the patient is deceased: MORS keeps the current activity and finishes the Encounter)"
    } else {
        ""
    };
    if status != expected_status {
        out.push(
            rule::HN_CONSISTENCY
                .breach(format!(
                    "activity `{activity}` needs Encounter.status `{expected_status}`{why}, found `{status}`"
                ))
                .at("Encounter.status"),
        );
    }
    let expected_class = if base.contains("emergency") {
        "EMER"
    } else {
        "IMP"
    };
    if class != expected_class {
        out.push(rule::HN_CONSISTENCY.breach(format!(
            "activity `{activity}` needs Encounter.class `{expected_class}`, found `{class}`")).at("Encounter.class"));
    }
    if expected_status == "finished" && status == "finished" && facts.period_end.is_none() {
        out.push(
            rule::HN_CONSISTENCY
                .breach(format!(
                    "activity `{activity}` with a `finished` Encounter needs `period.end` (the end of the stay{})",
                    if facts.deceased { ", the death" } else { "" }
                ))
                .at("Encounter.period.end"),
        );
    }
    if expected_status == "onleave" && facts.leave_start.is_none() {
        out.push(
            rule::HN_CONSISTENCY
                .breach(format!(
                    "activity `{activity}` with an `onleave` Encounter needs the leave period's start (medcom-hospitalNotification-6)"
                ))
                .at("Encounter.extension:leavePeriod.valuePeriod.start"),
        );
    }
    if base == "end-leave-inpatient" && change != Change::Cancel && facts.leave_end.is_none() {
        out.push(
            rule::HN_CONSISTENCY
                .breach(format!(
                    "activity `{activity}` needs the leave period with its end (when the leave ended)"
                ))
                .at("Encounter.extension:leavePeriod.valuePeriod.end"),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fhir_ids_and_uuids() {
        assert!(is_fhir_id("gfd00bc2-9c26-4174-934e-f6e4360845de"));
        assert!(!is_uuid("gfd00bc2-9c26-4174-934e-f6e4360845de"));
        assert!(is_uuid("0d5b3c18-fab6-4d93-9d88-c9c8abf1f18c"));
        assert!(!is_fhir_id("has space"));
        assert!(!is_fhir_id(&"a".repeat(65)));
    }

    #[test]
    fn zones() {
        assert!(has_zone("2024-06-01T13:55:00+02:00"));
        assert!(has_zone("2024-06-01T13:55:00Z"));
        assert!(!has_zone("2024-06-01T13:55:00"));
        assert!(looks_like_date_time("2024-06-01T13:55:00"));
        assert!(!looks_like_date_time("2024-06-01"));
    }

    /// Found by `examples/fuzz.rs`: the zone test cut the text six bytes from its end, inside
    /// the `€`, and panicked. `+€02:00` is no zone of the form `Z` / `±hh:mm` (FHIR dateTime).
    #[test]
    fn a_zone_cut_inside_a_character_is_a_time_zone_breach_not_a_panic() {
        assert!(!has_zone("2024-05-03T09:25:00+\u{20ac}02:00"));
        let bytes = b"{\"resourceType\":\"Bundle\",\"type\":\"message\",\
            \"timestamp\":\"2024-05-03T09:25:00+\xe2\x82\xac02:00\",\
            \"entry\":[{\"resource\":{\"resourceType\":\"MessageHeader\"}}]}";
        let message = Message::parse(bytes.to_vec(), None).expect("a message Bundle");
        let findings = time_zones(&message);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].location.as_deref(), Some("Bundle.timestamp"));
    }
}
