//! Acknowledgement rules: Acknowledgement IG 2.0 and MedCom governance 040 (KR1–KR7, MR8).

use super::Finding;
use crate::message::AckCodes;
use crate::message::Identity;
use crate::message::{AckCode, Activity, Message, resources_of_type};
use crate::rule;

/// Judges `ack` as the acknowledgement of `acked` (a message the harness sent), expecting
/// `expected_code`.
///
/// Rules: `ack-event`, `ack-response-identifier`, KR3/KR6/`ack-code`, `medcom-acknowledgement-1`,
/// `ack-provenance`, `ack-addressing`.
pub fn acknowledgement(ack: &Message, acked: &Message, expected_code: AckCode) -> Vec<Finding> {
    acknowledgement_with(ack, acked, expected_code, AckCodes::default())
}

/// [`acknowledgement`], naming codes by their HL7 v2 name as the `transient-error` setting maps
/// them (`fatal-error (AE)`).
pub fn acknowledgement_with(
    ack: &Message,
    acked: &Message,
    expected_code: AckCode,
    codes: AckCodes,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let a = &ack.identity;
    let m = &acked.identity;
    if !ack.is_acknowledgement() {
        out.push(
            rule::ACK_EVENT
                .breach(format!(
                    "the answer is not an acknowledgement: MessageHeader.eventCoding is `{}`",
                    a.event.as_deref().unwrap_or("missing")
                ))
                .at("Bundle.entry[0].resource.eventCoding"),
        );
        return out;
    }
    out.push(rule::ACK_EVENT.pass("MessageHeader.eventCoding is `acknowledgement-message`"));
    let letter = m.letter_id.as_deref().unwrap_or("");
    let response = a.response.clone().unwrap_or_default();
    match response.identifier.as_deref() {
        Some(id) if id == letter => out.push(rule::ACK_RESPONSE_IDENTIFIER.pass(
            format!("response.identifier `{id}` is the acknowledged MessageHeader.id"),
        )),
        other => out.push(
            rule::ACK_RESPONSE_IDENTIFIER.breach(
                format!(
                    "response.identifier is {} but the acknowledged MessageHeader.id is `{letter}`{}",
                    other.map_or_else(|| "missing".to_string(), |o| format!("`{o}`")),
                    if other.is_some() && Some(other) == Some(m.envelope_id.as_deref()) {
                        " (it is the Bundle.id: R4 correlates on MessageHeader.id)"
                    } else {
                        ""
                    }
                ),
            )
            .at("Bundle.entry[0].resource.response.identifier"),
        ),
    }
    let mut judged = code(&response.code, expected_code, codes);
    // When the code is not the expected one, the vendor's own words say why.
    if judged.iter().any(|f| f.grade != crate::finding::Grade::Ok) {
        let said: Vec<String> = resources_of_type(&ack.resource, "OperationOutcome")
            .flat_map(|(_, o)| o["issue"].as_array().cloned().unwrap_or_default())
            .map(|i| {
                let code = i
                    .pointer("/details/coding/0/code")
                    .and_then(|c| c.as_str())
                    .unwrap_or("");
                let text = i["diagnostics"].as_str().unwrap_or("");
                format!("{code} {text}").trim().to_string()
            })
            .filter(|t| !t.is_empty())
            .collect();
        if !said.is_empty()
            && let Some(f) = judged.first_mut()
        {
            f.message.push_str(&format!(
                "; the vendor's OperationOutcome says: {}",
                said.join("; ")
            ));
        }
    }
    out.extend(judged);
    out.extend(operation_outcome(ack));
    out.extend(provenance(a, m));
    out.extend(reference_form(ack, acked));
    out.extend(addressing(a, m));
    out
}

/// `ack-reference-form`: the `acknowledgement` Provenance's `target.reference` is written as the
/// acknowledgement's own `entry[0].fullUrl` and its `entity.what.reference` as the acknowledged
/// message's `entry[0].fullUrl`, string for string, as MedCom's Acknowledgement TestScripts
/// compare them. A reference that names the right MessageHeader in the other form (relative
/// `MessageHeader/<id>` against an absolute fullUrl, or the other way round) resolves by FHIR's
/// rules, so it is a note (F4); one that names another MessageHeader is `ack-provenance`'s
/// breach, not judged here.
fn reference_form(ack: &Message, acked: &Message) -> Vec<Finding> {
    let full_url = |m: &Message| {
        crate::message::pointer(&m.resource, "/entry/0/fullUrl")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (own_url, acked_url) = (full_url(ack), full_url(acked));
    let own_letter = ack.identity.letter_id.as_deref().unwrap_or("");
    let acked_letter = acked.identity.letter_id.as_deref().unwrap_or("");
    let Some(p) = ack
        .identity
        .provenances
        .iter()
        .find(|p| p.activity_code() == Some(Activity::Acknowledgement))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut judge = |what: &str, refs: Vec<&str>, url: &str, letter: &str| {
        let naming: Vec<&str> = refs
            .into_iter()
            .filter(|r| crate::message::reference_names(r, "MessageHeader", letter))
            .collect();
        if naming.is_empty() || url.is_empty() || naming.contains(&url) {
            return;
        }
        out.push(
            rule::ACK_REFERENCE_FORM
                .breach(format!(
                    "the `acknowledgement` Provenance's {what} is `{}` but the fullUrl it points at is `{url}`: it resolves, but MedCom's TestScripts compare the strings",
                    naming[0]
                ))
                .at(format!("Provenance.{what}")),
        );
    };
    judge(
        "target.reference",
        p.targets.iter().map(String::as_str).collect(),
        &own_url,
        own_letter,
    );
    judge(
        "entity.what.reference",
        p.entities
            .iter()
            .filter_map(|e| e.what_reference.as_deref())
            .collect(),
        &acked_url,
        acked_letter,
    );
    if out.is_empty() {
        out.push(rule::ACK_REFERENCE_FORM.pass(
            "the `acknowledgement` Provenance writes its target and entity references as the fullUrls they point at",
        ));
    }
    out
}

fn code(actual: &Option<String>, expected: AckCode, codes: AckCodes) -> Vec<Finding> {
    let actual_code = actual.as_deref().and_then(AckCode::parse);
    // A code outside FHIR's `response-code` is quoted as the vendor wrote it.
    let actual = match (actual_code, actual.as_deref()) {
        (Some(code), _) => codes.label(code),
        (None, Some(raw)) => raw.to_string(),
        (None, None) => "missing".to_string(),
    };
    let r = match expected {
        AckCode::Ok => &rule::KR3,
        AckCode::FatalError => &rule::KR6,
        AckCode::TransientError => &rule::ACK_CODE,
    };
    let expected_label = codes.label(expected);
    if actual_code == Some(expected) {
        return vec![r.pass(format!("response.code is `{actual}` as expected"))];
    }
    let message = match expected {
        AckCode::Ok => format!(
            "the scenario sent a message without errors, which KR3 acknowledges `{expected_label}`; the vendor answered `{actual}`"
        ),
        AckCode::FatalError => format!(
            "the scenario sent a message that breaks the profile, which KR6 acknowledges `{expected_label}`; the vendor answered `{actual}`"
        ),
        AckCode::TransientError => {
            format!("response.code is `{actual}`, expected `{expected_label}`")
        }
    };
    vec![
        r.breach(message)
            .at("Bundle.entry[0].resource.response.code"),
    ]
}

/// `medcom-acknowledgement-1`: a non-ok code comes with an OperationOutcome, referenced from
/// `response.details`.
fn operation_outcome(ack: &Message) -> Vec<Finding> {
    let r = ack.identity.response.clone().unwrap_or_default();
    let outcomes: Vec<_> = resources_of_type(&ack.resource, "OperationOutcome").collect();
    if r.code.as_deref() == Some("ok") {
        return Vec::new();
    }
    if outcomes.is_empty() {
        return vec![
            rule::ACK_OPERATION_OUTCOME
                .breach(format!(
                    "response.code is `{}` but the acknowledgement carries no OperationOutcome",
                    r.code.as_deref().unwrap_or("missing")
                ))
                .at("Bundle.entry"),
        ];
    }
    let detailed = r.details.as_deref().is_some_and(|d| {
        outcomes.iter().any(|(_, o)| {
            o["id"]
                .as_str()
                .is_some_and(|id| crate::message::reference_names(d, "OperationOutcome", id))
        })
    });
    if detailed {
        vec![
            rule::ACK_OPERATION_OUTCOME.pass(
                "the non-ok acknowledgement carries its OperationOutcome in response.details",
            ),
        ]
    } else {
        vec![
            rule::ACK_OPERATION_OUTCOME
                .finding(
                    crate::finding::Grade::F3,
                    "an OperationOutcome is present but response.details does not reference it",
                )
                .at("Bundle.entry[0].resource.response.details"),
        ]
    }
}

/// `ack-provenance`: exactly two Provenances, the copy and the new acknowledgement Provenance.
fn provenance(a: &Identity, m: &Identity) -> Vec<Finding> {
    let mut out = Vec::new();
    let letter = m.letter_id.as_deref().unwrap_or("");
    let ack_letter = a.letter_id.as_deref().unwrap_or("");
    if a.provenances.len() != 2 {
        out.push(rule::ACK_PROVENANCE.breach(format!(
            "the acknowledgement has {} Provenance(s); exactly two are required",
            a.provenances.len()
        )));
    }
    let new = a
        .provenances
        .iter()
        .find(|p| p.activity_code() == Some(Activity::Acknowledgement));
    match new {
        None => {
            out.push(rule::ACK_PROVENANCE.breach("no Provenance with activity `acknowledgement`"))
        }
        Some(p) => {
            if !p.targets_letter(ack_letter) {
                out.push(rule::ACK_PROVENANCE.breach(format!(
                    "the `acknowledgement` Provenance targets {:?}, not the acknowledgement's own MessageHeader `{ack_letter}`", p.targets)));
            }
            let points = p.entities.iter().any(|e| {
                e.role.as_deref() == Some("revision")
                    && e.what_reference.as_deref().is_some_and(|r| {
                        crate::message::reference_names(r, "MessageHeader", letter)
                    })
            });
            if !points {
                out.push(rule::ACK_PROVENANCE.breach(format!(
                    "the `acknowledgement` Provenance has no entity with role `revision` and what = `MessageHeader/{letter}`")));
            }
        }
    }
    if let Some(latest) = m.own_provenance() {
        let copied = a.provenances.iter().any(|p| {
            p.activity_code() != Some(Activity::Acknowledgement)
                && p.activity == latest.activity
                && p.targets_letter(letter)
        });
        if !copied {
            out.push(rule::ACK_PROVENANCE.breach(format!(
                "no copy of the acknowledged message's latest Provenance (activity `{}`, target `MessageHeader/{letter}`)",
                latest.activity.as_deref().unwrap_or("?"))));
        }
    }
    if out.is_empty() {
        out.push(rule::ACK_PROVENANCE.pass("two Provenances: the copied one and the `acknowledgement` one pointing to the acknowledged MessageHeader"));
    }
    out
}

/// `ack-addressing`: the acknowledgement goes back to the sender of the acknowledged message.
fn addressing(a: &Identity, m: &Identity) -> Vec<Finding> {
    let ean = |p: &Option<crate::message::Party>| p.as_ref().and_then(|p| p.ean.clone());
    let (to, from) = (ean(&a.receiver), ean(&a.sender));
    let (orig_from, orig_to) = (ean(&m.sender), ean(&m.receiver));
    if to == orig_from && from == orig_to {
        return vec![
            rule::ACK_ADDRESSING
                .pass("the acknowledgement goes from the receiver back to the sender (EAN)"),
        ];
    }
    vec![rule::ACK_ADDRESSING.breach(
        format!(
            "the acknowledgement goes from EAN {} to EAN {}, but the acknowledged message went from {} to {}",
            from.as_deref().unwrap_or("?"),
            to.as_deref().unwrap_or("?"),
            orig_from.as_deref().unwrap_or("?"),
            orig_to.as_deref().unwrap_or("?")
        ),
    )]
}

/// Judges an acknowledgement on its own, without the acknowledged message: its
/// `response.identifier` must name the MessageHeader that its `acknowledgement` Provenance's
/// `entity.what` points to, and a non-ok code needs an OperationOutcome. Used on received
/// acknowledgements and on the published examples.
pub fn acknowledgement_alone(ack: &Message) -> Vec<Finding> {
    let mut out = Vec::new();
    let a = &ack.identity;
    let id = a
        .response
        .as_ref()
        .and_then(|r| r.identifier.clone())
        .unwrap_or_default();
    let entity_targets: Vec<String> = a
        .provenances
        .iter()
        .filter(|p| p.activity_code() == Some(Activity::Acknowledgement))
        .flat_map(|p| p.entities.iter().filter_map(|e| e.what_reference.clone()))
        .collect();
    if entity_targets.is_empty() {
        // Nothing to compare with: that is the Provenance's fault, not response.identifier's.
        out.push(
            rule::ACK_PROVENANCE.breach(
                "no Provenance with activity `acknowledgement` has an `entity.what.reference`, so nothing says which message is acknowledged besides response.identifier",
            )
            .at("Provenance.entity"),
        );
    } else if entity_targets
        .iter()
        .any(|r| crate::message::reference_names(r, "MessageHeader", &id))
    {
        out.push(rule::ACK_RESPONSE_IDENTIFIER.pass(format!(
            "response.identifier `{id}` agrees with the acknowledgement Provenance's entity"
        )));
    } else {
        out.push(rule::ACK_RESPONSE_IDENTIFIER.breach(
            format!(
                "response.identifier `{id}` disagrees with the acknowledgement Provenance's entity.what ({}): one of them names the wrong message",
                entity_targets.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
            ),
        ).at("Bundle.entry[0].resource.response.identifier"));
    }
    out.extend(operation_outcome(ack));
    out
}

/// MR8: the acknowledgement of a duplicate is the same acknowledgement as the first copy's: the
/// same code (never first positive, then negative), the same `response.identifier` and the same
/// acknowledgement (its MessageHeader.id), resent. `ack-duplicate-resent`: resent, not copied, so
/// in a new envelope: a new `Bundle.id` and a new `Bundle.timestamp` (MedCom's
/// `acknowledgement-send-*-duplicate-*` TestScripts compare both as strings and want them to
/// differ).
pub fn same_acknowledgement(first: &Message, again: &Message) -> Vec<Finding> {
    let response = |m: &Message| m.identity.response.clone().unwrap_or_default();
    let (r1, r2) = (response(first), response(again));
    let (c1, c2) = (
        r1.code.clone().unwrap_or_default(),
        r2.code.clone().unwrap_or_default(),
    );
    if c1 != c2 {
        return vec![rule::MR8.breach(
            format!(
                "the duplicate was acknowledged `{c2}` but the first copy `{c1}`: a receiver answers a duplicate with the same acknowledgement"
            ),
        )];
    }
    let mut out = Vec::new();
    if r1.identifier != r2.identifier {
        out.push(
            rule::MR8
                .breach(format!(
                    "the duplicate's acknowledgement names `{}` in response.identifier but the first one `{}`: both answer the same MessageHeader",
                    r2.identifier.unwrap_or_default(),
                    r1.identifier.unwrap_or_default()
                ))
                .at("Bundle.entry[0].resource.response.identifier"),
        );
    }
    let (l1, l2) = (
        first.identity.letter_id.clone(),
        again.identity.letter_id.clone(),
    );
    if l1 != l2 {
        out.push(rule::MR8.finding(
            crate::finding::Grade::F3,
            format!(
                "the duplicate got a new acknowledgement (MessageHeader.id `{}`) instead of the first one (`{}`) resent; the code agrees (`{c1}`)",
                l2.unwrap_or_default(),
                l1.unwrap_or_default()
            ),
        ));
    }
    if out.is_empty() {
        out.push(rule::MR8.pass(format!(
            "the duplicate got the same acknowledgement (`{c1}`, same response.identifier and MessageHeader.id)"
        )));
    }
    let judged = out.len();
    let (e1, e2) = (&first.identity.envelope_id, &again.identity.envelope_id);
    if first.bytes == again.bytes {
        out.push(rule::ACK_DUPLICATE_RESENT.breach(
            "the duplicate's acknowledgement is a byte-identical copy of the first: a resent acknowledgement has a new Bundle.id and Bundle.timestamp",
        ));
    } else {
        if e1 == e2 {
            out.push(
                rule::ACK_DUPLICATE_RESENT
                    .breach(format!(
                        "the duplicate's acknowledgement reuses the first one's Bundle.id `{}`: a resent acknowledgement has a new one",
                        e2.as_deref().unwrap_or("")
                    ))
                    .at("Bundle.id"),
            );
        }
        let (t1, t2) = (&first.identity.timestamp, &again.identity.timestamp);
        if t1 == t2 {
            out.push(
                rule::ACK_DUPLICATE_RESENT
                    .breach(format!(
                        "the duplicate's acknowledgement has the first one's Bundle.timestamp `{}`: a resent acknowledgement has a new one",
                        t2.as_deref().unwrap_or("")
                    ))
                    .at("Bundle.timestamp"),
            );
        }
    }
    if out.len() == judged {
        out.push(
            rule::ACK_DUPLICATE_RESENT
                .pass("the acknowledgement was resent with a new Bundle.id and Bundle.timestamp"),
        );
    }
    out
}
