//! The traffic of one or more runs, read back from their `results.json` and the evidence files
//! beside it: one [`Item`] per message (FHIR message or classic OIOXML letter/receipt) the run
//! sent or received, classified the way MedCom's statistics count traffic. Envelopes
//! (VANSEnvelope, ehmiSBDH) that carry a letter already counted are kept as [`Kind::Envelope`]
//! and not counted twice.
//!
//! The statistical code of a message (MedCom terminology `medcom-messaging-statisticalCodes`
//! 2.0.0, https://medcomfhir.dk/ig/terminology/CodeSystem-medcom-messaging-statisticalCodes.html):
//! a CareCommunication `MCM:FDIS91#<Communication.category>`, a HospitalNotification
//! `MCM:FDIS20#<event>` (from its activity: `admit-inpatient` AdmissionInpatient, `admit-emergency`
//! AcuteAmbulant, `start-leave` OnLeave, `end-leave` EndOfLeave, `discharge…` EndHospitalStay), an
//! Acknowledgement `MCM:FCTL#<response.code>`; an OIOXML letter its `Letter/StatisticalCode`
//! (`XDIS91`, `XBIN01`, `XCTL03`).

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::StatsError;
use crate::arrival::Payload;

/// What an evidence item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A FHIR message.
    Fhir,
    /// A classic OIOXML letter or receipt.
    Oioxml,
    /// A VANSEnvelope or ehmiSBDH around a message counted on its own.
    Envelope,
    /// Anything else (an HTTP body, an unreadable file).
    Other,
}

/// One message of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    /// Index of the run in the order given.
    pub run: usize,
    /// Scenario id.
    pub scenario: String,
    /// Evidence id within the scenario.
    pub evidence: String,
    /// `sent` (harness to vendor) or `received`.
    pub direction: String,
    /// What it is.
    pub kind: Kind,
    /// `json` or `xml`.
    pub format: String,
    /// Message type: the FHIR event code (`care-communication-message`) or the OIOXML
    /// `TypeCode` (`XDIS91`).
    pub message_type: String,
    /// MedCom statistical code (module docs).
    pub statistical_code: String,
    /// `YYYY-MM` of the message's own time (Bundle.timestamp, OIOXML `Envelope/Sent/Date`),
    /// else of its capture.
    pub month: Option<String>,
    /// When the harness captured it, milliseconds since the Unix epoch.
    pub at_ms: Option<i128>,
    /// Its own id: MessageHeader.id, OIOXML `Envelope/Identifier`.
    pub id: Option<String>,
    /// For an acknowledgement, the MessageHeader.id it answers; for a receipt, the original's
    /// `Envelope/Identifier`.
    pub answers: Option<String>,
    /// Provenance activity of a FHIR message's own step (`new-message`, `reply-message`, …).
    pub activity: Option<String>,
    /// Attachment MIME types (FHIR `contentType`; OIOXML `ObjectExtensionCode`).
    pub attachments: Vec<String>,
    /// Sender (EAN/GLN, SOR id).
    pub sender: (Option<String>, Option<String>),
    /// Receiver (EAN/GLN, SOR id).
    pub receiver: (Option<String>, Option<String>),
}

/// One scenario of a run, as far as statistics and capabilities need it.
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    /// Index of the run.
    pub run: usize,
    /// Scenario id.
    pub id: String,
    /// Title.
    pub title: String,
    /// The standard(s) it tests, as written (`CareCommunication 5.0`).
    pub standard: String,
    /// Tags.
    pub tags: Vec<String>,
    /// `passed`, `failed`, `error`, `skipped`.
    pub status: String,
    /// Worst grade.
    pub verdict: String,
}

/// One run: its results file and top-level facts.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    /// The results file.
    pub file: PathBuf,
    /// `target`.
    pub target: String,
    /// `started`.
    pub started: String,
    /// `verdict`.
    pub verdict: String,
    /// The system under test when the results say: the certification record's `[system]`
    /// (`certification.system` in `results.json`: `vendor`, `name`, `version`, `test_type`, …),
    /// else a top-level `system`; `null` when neither is there.
    pub system: Value,
}

/// Everything read from the runs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Traffic {
    /// The runs, in the order given.
    pub runs: Vec<Run>,
    /// Their scenarios.
    pub scenarios: Vec<Scenario>,
    /// Their messages, envelopes and other items.
    pub items: Vec<Item>,
}

/// Reads every results file and its evidence.
///
/// # Errors
///
/// [`StatsError::Read`] or [`StatsError::Json`] for a results file; an evidence file that cannot
/// be read becomes an item of kind [`Kind::Other`].
pub fn read(paths: &[PathBuf]) -> Result<Traffic, StatsError> {
    let mut traffic = Traffic::default();
    for (run, path) in paths.iter().enumerate() {
        let bytes = std::fs::read(path).map_err(|source| StatsError::Read {
            path: path.clone(),
            source,
        })?;
        let doc: Value = serde_json::from_slice(&bytes).map_err(|source| StatsError::Json {
            path: path.clone(),
            source,
        })?;
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        traffic.runs.push(Run {
            file: path.clone(),
            target: text(&doc["target"]),
            started: text(&doc["started"]),
            verdict: text(&doc["verdict"]),
            system: if doc["certification"]["system"].is_object() {
                doc["certification"]["system"].clone()
            } else {
                doc["system"].clone()
            },
        });
        let dir = path.parent().unwrap_or(Path::new("."));
        for s in doc["scenarios"].as_array().into_iter().flatten() {
            let id = text(&s["id"]);
            traffic.scenarios.push(Scenario {
                run,
                id: id.clone(),
                title: text(&s["title"]),
                standard: text(&s["standard"]),
                tags: s["tags"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect(),
                status: text(&s["status"]),
                verdict: text(&s["verdict"]),
            });
            for e in s["evidence"].as_array().into_iter().flatten() {
                traffic.items.push(item(run, &id, e, dir));
            }
        }
    }
    Ok(traffic)
}

fn item(run: usize, scenario: &str, e: &Value, dir: &Path) -> Item {
    let text = |v: &Value| v.as_str().map(str::to_string);
    let at = text(&e["at"]);
    let mut out = Item {
        run,
        scenario: scenario.to_string(),
        evidence: text(&e["id"]).unwrap_or_default(),
        direction: text(&e["direction"]).unwrap_or_default(),
        kind: Kind::Other,
        format: if e["media_type"]
            .as_str()
            .unwrap_or_default()
            .contains("json")
        {
            "json".into()
        } else {
            "xml".into()
        },
        message_type: String::new(),
        statistical_code: String::new(),
        month: at.as_deref().and_then(month),
        at_ms: at.as_deref().and_then(epoch_ms),
        id: None,
        answers: None,
        activity: None,
        attachments: Vec::new(),
        sender: (None, None),
        receiver: (None, None),
    };
    let Some(bytes) = text(&e["file"]).and_then(|f| std::fs::read(dir.join(f)).ok()) else {
        return out;
    };
    match Payload::read(&bytes) {
        Payload::Fhir(m) => fhir(&mut out, &m),
        Payload::Oioxml(_) => oioxml(&mut out, &bytes),
        Payload::Unreadable(_) => {
            if let Some(root) = root_name(&bytes)
                && matches!(root.as_str(), "VANSEnvelope" | "StandardBusinessDocument")
            {
                out.kind = Kind::Envelope;
                out.message_type = root;
            }
        }
    }
    out
}

fn fhir(out: &mut Item, m: &crate::message::Message) {
    let id = &m.identity;
    out.kind = Kind::Fhir;
    out.format = m.format.to_string().to_ascii_lowercase();
    out.message_type = id.event.clone().unwrap_or_default();
    out.id = id.letter_id.clone();
    if let Some(t) = id.timestamp.as_deref().and_then(month) {
        out.month = Some(t);
    }
    let own = id
        .letter_id
        .as_deref()
        .and_then(|l| id.provenances.iter().find(|p| p.targets_letter(l)))
        .or(id.provenances.last());
    out.activity = own.and_then(|p| p.activity.clone());
    out.attachments = id
        .attachments
        .iter()
        .filter_map(|a| a.content_type.clone())
        .collect();
    out.sender = id
        .sender
        .as_ref()
        .map_or((None, None), |p| (p.ean.clone(), p.sor_id.clone()));
    out.receiver = id
        .receiver
        .as_ref()
        .map_or((None, None), |p| (p.ean.clone(), p.sor_id.clone()));
    out.statistical_code = match out.message_type.as_str() {
        "care-communication-message" => {
            format!("MCM:FDIS91#{}", id.category.as_deref().unwrap_or("?"))
        }
        "hospital-notification-message" => format!(
            "MCM:FDIS20#{}",
            hospital_event(out.activity.as_deref().unwrap_or("?"))
        ),
        "acknowledgement-message" => {
            out.answers = id.response.as_ref().and_then(|r| r.identifier.clone());
            format!(
                "MCM:FCTL#{}",
                id.response
                    .as_ref()
                    .and_then(|r| r.code.as_deref())
                    .unwrap_or("?")
            )
        }
        other => format!("FHIR {other}"),
    };
}

/// The FDIS20 event of a HospitalNotification activity code: the envelope's statistical name
/// ([`crate::envelope::hospital_notification_postfix`]), the activity itself when it has none.
fn hospital_event(activity: &str) -> String {
    crate::envelope::hospital_notification_postfix(activity)
        .map_or_else(|| activity.to_string(), str::to_string)
}

fn oioxml(out: &mut Item, bytes: &[u8]) {
    out.kind = Kind::Oioxml;
    out.format = "xml".into();
    let Ok(text) = crate::encoding::decode_xml(bytes) else {
        return;
    };
    let Ok(doc) = roxmltree::Document::parse(text.trim_start_matches('\u{feff}')) else {
        return;
    };
    let find = |name: &str| {
        doc.descendants()
            .find(|n| n.tag_name().name() == name)
            .and_then(|n| n.text())
            .map(|t| t.trim().to_string())
    };
    let path = |a: &str, b: &str| {
        doc.descendants()
            .find(|n| n.tag_name().name() == a)
            .and_then(|n| n.children().find(|c| c.tag_name().name() == b))
            .and_then(|n| n.text())
            .map(|t| t.trim().to_string())
    };
    out.id = path("Envelope", "Identifier");
    if let Some(m) = path("Sent", "Date").as_deref().and_then(month) {
        out.month = Some(m);
    }
    out.message_type = find("TypeCode")
        .or_else(|| find("StatisticalCode"))
        .unwrap_or_default();
    out.statistical_code = find("StatisticalCode").unwrap_or_else(|| out.message_type.clone());
    out.answers = find("OriginalEnvelopeIdentifier");
    out.attachments = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "ObjectExtensionCode")
        .filter_map(|n| n.text().map(|t| t.trim().to_ascii_lowercase()))
        .collect();
    let party = |name: &str| {
        doc.descendants()
            .find(|n| n.tag_name().name() == name)
            .map_or((None, None), |n| {
                let child = |c: &str| {
                    n.children()
                        .find(|x| x.tag_name().name() == c)
                        .and_then(|x| x.text())
                        .map(|t| t.trim().to_string())
                };
                (child("EANIdentifier"), child("Identifier"))
            })
    };
    out.sender = party("Sender");
    out.receiver = party("Receiver");
}

fn root_name(bytes: &[u8]) -> Option<String> {
    let text = crate::encoding::decode_xml(bytes).ok()?;
    let doc = roxmltree::Document::parse(text.trim_start_matches('\u{feff}')).ok()?;
    Some(doc.root_element().tag_name().name().to_string())
}

/// `YYYY-MM` of an ISO date or instant.
fn month(date: &str) -> Option<String> {
    let m = date.get(..7)?;
    (m.as_bytes().get(4) == Some(&b'-')).then(|| m.to_string())
}

/// Milliseconds since the Unix epoch of an RFC 3339 instant.
fn epoch_ms(at: &str) -> Option<i128> {
    let t = time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).ok()?;
    Some(t.unix_timestamp_nanos() / 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hospital_notification_activities_map_to_fdis20_events() {
        // MedCom statistical codes 2.0.0: MCM:FDIS20#AdmissionInpatient, AcuteAmbulant, OnLeave,
        // EndOfLeave, EndHospitalStay.
        assert_eq!(hospital_event("admit-inpatient"), "AdmissionInpatient");
        assert_eq!(hospital_event("revise-admit-emergency"), "AcuteAmbulant");
        // The activity codes of medcom-messaging-activityCodes (HospitalNotification IG 3.0).
        assert_eq!(
            hospital_event("discharge-inpatient-home"),
            "EndHospitalStay"
        );
        assert_eq!(hospital_event("start-leave-inpatient"), "OnLeave");
        assert_eq!(hospital_event("cancel-end-leave-inpatient"), "EndOfLeave");
    }

    #[test]
    fn instants_read_as_months_and_milliseconds() {
        assert_eq!(month("2026-12-07T14:16:57Z").as_deref(), Some("2026-12"));
        assert_eq!(epoch_ms("1970-01-01T00:00:01.250Z"), Some(1250));
    }
}
