//! HospitalNotification (sygehusadvis) as a message family: the events of a hospital stay, the
//! template view each event renders from, and the rules across the messages of one stay.
//!
//! A stay is a sequence of events (HospitalNotification IG 3.0, "Index" and "Messaging"
//! pages, <https://medcomfhir.dk/ig/hospitalnotification/>):
//!
//! | event | Provenance activity | Encounter |
//! |---|---|---|
//! | STIN admit inpatient | `admit-inpatient` | `in-progress`, class `IMP`, `period.start` |
//! | STAA admit emergency | `admit-emergency` | `in-progress`, class `EMER` |
//! | STOR start leave | `start-leave-inpatient` | `onleave`, `leavePeriod.start` |
//! | SLOR end leave | `end-leave-inpatient` | `in-progress`, `leavePeriod.end` |
//! | SLHJ discharge home | `discharge-inpatient-home` / `discharge-emergency-home` | `finished`, `period.end` |
//! | MORS deceased | the stay's current activity, unchanged | `finished`, `period.end`, `Patient.deceased` |
//! | `RE_<event>` revision | `revise-<activity>`, entity role `revision` | as the revised message |
//! | `AN_<event>` cancellation | `cancel-<activity>`, entity role `removal` | `entered-in-error` |
//!
//! Every message of a stay keeps the `episodeOfCare.identifier` of the admission and carries
//! every earlier Provenance along with its own. [`prepare`] builds the template view of an event
//! from the stay's previous message; [`stay::judge`] judges a message against the earlier
//! messages of its stay.
//!
//! Files: `mod.rs` (events, facts of a message, the template view), `stay.rs` (the state machine
//! and its rules).

pub mod stay;

use serde_json::{Value, json};

use crate::message::{Message, resources_of_type};
use crate::template::Context;

/// The leave-period extension of the HospitalNotification Encounter.
pub const LEAVE_PERIOD_URL: &str = "http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/medcom-hospitalnotifiation-leave-period-extension";

/// The event code of a HospitalNotification MessageHeader.
pub const EVENT_CODE: &str = "hospital-notification-message";

/// MedCom's test CPR of the HospitalNotification examples: medcom-hospitalNotification-4 asks for
/// an official CPR (`urn:oid:1.2.208.176.1.2`), so the harness's x-eCPR patient cannot be used.
pub const TEST_CPR: &str = "2509479989";

/// What happens in the stay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// STIN: the patient is admitted (inpatient).
    Stin,
    /// STAA: the patient starts an acute ambulant (emergency) stay.
    Staa,
    /// STOR: the patient goes on leave.
    Stor,
    /// SLOR: the patient is back from leave.
    Slor,
    /// SLHJ: the patient is discharged home.
    Slhj,
    /// MORS: the patient died.
    Mors,
}

/// A new event, or a revision or cancellation of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Change {
    /// The event itself.
    New,
    /// `RE_`: the latest message of the event's kind is revised.
    Revise,
    /// `AN_`: the latest message of the event's kind is cancelled.
    Cancel,
}

/// One event of a stay, as a scenario or an instruction names it (`STIN`, `RE_STOR`, `AN_SLHJ`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Event {
    /// What happens.
    pub kind: Kind,
    /// New, revised or cancelled.
    pub change: Change,
}

impl Event {
    /// Every event name [`Event::parse`] takes.
    pub const NAMES: &[&str] = &[
        "STIN", "STAA", "STOR", "SLOR", "SLHJ", "MORS", "RE_STIN", "RE_STAA", "RE_STOR", "RE_SLOR",
        "RE_SLHJ", "RE_MORS", "AN_STIN", "AN_STAA", "AN_STOR", "AN_SLOR", "AN_SLHJ",
    ];

    /// Reads an event name (case-insensitive); `None` for anything else, and for `AN_MORS` (a
    /// death is not cancelled by an event of its own).
    pub fn parse(name: &str) -> Option<Event> {
        let upper = name.trim().to_ascii_uppercase();
        let (change, rest) = if let Some(r) = upper.strip_prefix("RE_") {
            (Change::Revise, r)
        } else if let Some(r) = upper.strip_prefix("AN_") {
            (Change::Cancel, r)
        } else {
            (Change::New, upper.as_str())
        };
        let kind = match rest {
            "STIN" => Kind::Stin,
            "STAA" => Kind::Staa,
            "STOR" => Kind::Stor,
            "SLOR" => Kind::Slor,
            "SLHJ" => Kind::Slhj,
            "MORS" if change != Change::Cancel => Kind::Mors,
            _ => return None,
        };
        Some(Event { kind, change })
    }

    /// The event of a built-in template name `hospitalnotification/<EVENT>`.
    pub fn of_template(name: &str) -> Option<Event> {
        name.strip_prefix("hospitalnotification/")
            .and_then(Event::parse)
    }
}

/// The base activity (without `revise-`/`cancel-`) and whether the code is a revision or a
/// cancellation.
pub fn split_activity(code: &str) -> (&str, Change) {
    if let Some(base) = code.strip_prefix("revise-") {
        (base, Change::Revise)
    } else if let Some(base) = code.strip_prefix("cancel-") {
        (base, Change::Cancel)
    } else {
        (code, Change::New)
    }
}

/// What the rules need of one HospitalNotification, read from the Bundle.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// MessageHeader.id.
    pub letter_id: String,
    /// Bundle.timestamp.
    pub timestamp: Option<String>,
    /// The activity of the Provenance targeting this message.
    pub activity: String,
    /// That Provenance's entities: (role, the MessageHeader id its `what.reference` names).
    pub entities: Vec<(String, String)>,
    /// Every Provenance: (id, activity, the MessageHeader id it targets).
    pub provenances: Vec<(String, String, String)>,
    /// Encounter.status.
    pub status: String,
    /// Encounter.class.code.
    pub class: String,
    /// Encounter.episodeOfCare[0].identifier.value.
    pub episode: Option<String>,
    /// Encounter.period.start / end.
    pub period_start: Option<String>,
    /// See `period_start`.
    pub period_end: Option<String>,
    /// The leave period extension's start / end.
    pub leave_start: Option<String>,
    /// See `leave_start`.
    pub leave_end: Option<String>,
    /// Whether the leave period extension is there at all.
    pub has_leave: bool,
    /// Patient.deceasedBoolean true, or a deceasedDateTime.
    pub deceased: bool,
}

fn str_at(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The MessageHeader id a reference names (`MessageHeader/<id>`, absolute or relative).
fn header_id(reference: &str) -> String {
    reference
        .split("/_history/")
        .next()
        .unwrap_or(reference)
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string()
}

impl Facts {
    /// Reads the facts of a HospitalNotification; `None` for another kind of message.
    pub fn of(message: &Message) -> Option<Facts> {
        if message.identity.event.as_deref() != Some(EVENT_CODE) {
            return None;
        }
        let bundle = &message.resource;
        let encounter = resources_of_type(bundle, "Encounter")
            .next()
            .map(|(_, e)| e.clone())
            .unwrap_or(Value::Null);
        let leave = encounter
            .get("extension")
            .and_then(Value::as_array)
            .and_then(|x| {
                x.iter()
                    .find(|e| e["url"].as_str() == Some(LEAVE_PERIOD_URL))
            })
            .map(|e| e["valuePeriod"].clone());
        let deceased = resources_of_type(bundle, "Patient").any(|(_, p)| {
            p.get("deceasedBoolean").and_then(Value::as_bool) == Some(true)
                || p.get("deceasedDateTime").is_some()
        });
        let id = &message.identity;
        let own = id.own_provenance();
        Some(Facts {
            letter_id: id.letter_id.clone().unwrap_or_default(),
            timestamp: id.timestamp.clone(),
            activity: own.and_then(|p| p.activity.clone()).unwrap_or_default(),
            entities: own
                .map(|p| {
                    p.entities
                        .iter()
                        .map(|e| {
                            (
                                e.role.clone().unwrap_or_default(),
                                e.what_reference
                                    .as_deref()
                                    .map(header_id)
                                    .unwrap_or_default(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            provenances: id
                .provenances
                .iter()
                .map(|p| {
                    (
                        p.id.clone().unwrap_or_default(),
                        p.activity.clone().unwrap_or_default(),
                        p.targets.first().map(|t| header_id(t)).unwrap_or_default(),
                    )
                })
                .collect(),
            status: str_at(&encounter, "/status").unwrap_or_default(),
            class: str_at(&encounter, "/class/code").unwrap_or_default(),
            episode: str_at(&encounter, "/episodeOfCare/0/identifier/value"),
            period_start: str_at(&encounter, "/period/start"),
            period_end: str_at(&encounter, "/period/end"),
            leave_start: leave.as_ref().and_then(|l| str_at(l, "/start")),
            leave_end: leave.as_ref().and_then(|l| str_at(l, "/end")),
            has_leave: leave.is_some(),
            deceased,
        })
    }
}

/// Why an event cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HnError {
    /// A follow-up event without the stay's previous message, or an admission with one.
    #[error("{0}")]
    Stay(String),
}

/// The activity an event gets in a stay whose previous message is `previous`.
fn activity_of(kind: Kind, previous: Option<&Facts>) -> Result<String, HnError> {
    let emergency = previous.is_some_and(|p| p.class == "EMER");
    Ok(match kind {
        Kind::Stin => "admit-inpatient".into(),
        Kind::Staa => "admit-emergency".into(),
        Kind::Stor => "start-leave-inpatient".into(),
        Kind::Slor => "end-leave-inpatient".into(),
        Kind::Slhj if emergency => "discharge-emergency-home".into(),
        Kind::Slhj => "discharge-inpatient-home".into(),
        // HN IG 3.0 index: "In the Provenance instance is the activity code 'admit-inpatient',
        // as it shall remain the current activity."
        Kind::Mors => {
            let p = previous.ok_or_else(|| {
                HnError::Stay("MORS needs the stay's previous message (`follows`)".into())
            })?;
            split_activity(&p.activity).0.to_string()
        }
    })
}

/// The MessageHeader id of the latest message of the stay whose own activity is `base` or its
/// revision, read from the Provenances `previous` carries (in order).
pub fn latest_of_kind(previous: &Facts, base: &str) -> Option<String> {
    previous
        .provenances
        .iter()
        .rev()
        .find(|(_, activity, _)| {
            let (b, change) = split_activity(activity);
            b == base && change != Change::Cancel
        })
        .map(|(_, _, target)| target.clone())
}

/// Fills `ctx` for `event`: the template view `ctx.hn`, and, for a follow-up, the Patient,
/// Organizations and parties of the stay's previous message `previous` (their ids stay, as the
/// carried Provenances refer to them). `ctx` comes from [`Context::new_message`] with the
/// hospital as sender.
///
/// # Errors
/// [`HnError::Stay`] for a follow-up without `previous` or an admission with one.
pub fn prepare(ctx: &mut Context, event: Event, previous: Option<&Message>) -> Result<(), HnError> {
    let prev_facts = previous.and_then(Facts::of);
    let admission = matches!(event.kind, Kind::Stin | Kind::Staa) && event.change == Change::New;
    if admission && previous.is_some() {
        return Err(HnError::Stay(
            "an admission starts a stay: it follows no earlier message".into(),
        ));
    }
    let now = ctx.now.clone();
    let hn = match (previous, prev_facts.as_ref()) {
        (None, _) if admission => {
            ctx.patient["identifier"] =
                json!([{"system": "urn:oid:1.2.208.176.1.2", "value": TEST_CPR}]);
            // MedComCorePatient (the core IG the HospitalNotification IG 3.0 builds on) requires
            // `Patient.text` (1..1).
            ctx.patient["text"] = json!({
                "status": "generated",
                "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Harness Testpatient</p></div>"
            });
            json!({
                "activity": activity_of(event.kind, None)?,
                "status": "in-progress",
                "class": if event.kind == Kind::Staa { "EMER" } else { "IMP" },
                "encounter_id": uuid::Uuid::new_v4().to_string(),
                "episode": uuid::Uuid::new_v4().to_string(),
                "period": {"start": now},
                "leave_period": null,
                "report_of_admission": true,
                "entity": null,
                "provenances": [],
            })
        }
        (Some(prev), Some(p)) => {
            carry_parties(ctx, prev);
            follow_up_view(event, prev, p, &now)?
        }
        _ => {
            return Err(HnError::Stay(format!(
                "`{event:?}` continues a stay: name the stay's previous HospitalNotification with `follows`"
            )));
        }
    };
    ctx.hn = Some(hn);
    // HN IG 3.0 index (MORS): "The element Patient.deceased is sat to 'true'".
    if event.kind == Kind::Mors && event.change == Change::New {
        ctx.patient["deceasedBoolean"] = json!(true);
    }
    Ok(())
}

/// Takes the previous message's Patient, Organizations and sender/receiver references.
fn carry_parties(ctx: &mut Context, prev: &Message) {
    let bundle = &prev.resource;
    if let Some((_, patient)) = resources_of_type(bundle, "Patient").next() {
        ctx.patient = patient.clone();
    }
    let orgs: Vec<Value> = resources_of_type(bundle, "Organization")
        .map(|(_, o)| o.clone())
        .collect();
    if !orgs.is_empty() {
        ctx.organizations = orgs;
    }
    let header = bundle.pointer("/entry/0/resource").unwrap_or(&Value::Null);
    if let Some(s) = str_at(header, "/sender/reference") {
        ctx.sender_ref = type_and_id(&s);
    }
    if let Some(r) = str_at(header, "/destination/0/receiver/reference") {
        ctx.receiver_ref = type_and_id(&r);
    }
}

/// The `Type/id` tail of a reference, absolute or relative: the template writes the
/// MessageHeader's sender and receiver as the fullUrls they point at (MedCom's HospitalNotification
/// TestScripts find the sender by `fullUrl = MessageHeader.sender.reference`).
fn type_and_id(reference: &str) -> String {
    let mut parts = reference.rsplitn(3, '/');
    match (parts.next(), parts.next()) {
        (Some(id), Some(kind)) => format!("{kind}/{id}"),
        _ => reference.to_string(),
    }
}

fn follow_up_view(event: Event, prev: &Message, p: &Facts, now: &str) -> Result<Value, HnError> {
    let encounter = resources_of_type(&prev.resource, "Encounter")
        .next()
        .map(|(_, e)| e.clone())
        .unwrap_or(Value::Null);
    let provenances: Vec<Value> = resources_of_type(&prev.resource, "Provenance")
        .map(|(_, v)| v.clone())
        .collect();
    let mut period = encounter.get("period").cloned().unwrap_or(json!({}));
    let mut leave = p.has_leave.then(|| {
        json!({"start": p.leave_start, "end": p.leave_end})
            .as_object()
            .map(|o| {
                o.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<serde_json::Map<_, _>>()
            })
            .map(Value::Object)
            .unwrap_or(Value::Null)
    });
    let mut status = p.status.clone();
    let base_activity = activity_of(event.kind, Some(p))?;
    let (activity, entity) = match event.change {
        Change::New => {
            match event.kind {
                Kind::Stor => {
                    status = "onleave".into();
                    leave = Some(json!({"start": now}));
                }
                Kind::Slor => {
                    status = "in-progress".into();
                    let start = p.leave_start.clone().unwrap_or_else(|| now.to_string());
                    leave = Some(json!({"start": start, "end": now}));
                }
                Kind::Slhj | Kind::Mors => {
                    status = "finished".into();
                    period["end"] = json!(now);
                }
                Kind::Stin | Kind::Staa => {}
            }
            (
                base_activity,
                Some(json!({"role": "revision", "letter": p.letter_id})),
            )
        }
        Change::Revise | Change::Cancel => {
            let target = latest_of_kind(p, &base_activity).ok_or_else(|| {
                HnError::Stay(format!(
                    "the stay has no `{base_activity}` message to revise or cancel"
                ))
            })?;
            let (prefix, role) = if event.change == Change::Revise {
                ("revise-", "revision")
            } else {
                status = "entered-in-error".into();
                ("cancel-", "removal")
            };
            (
                format!("{prefix}{base_activity}"),
                Some(json!({"role": role, "letter": target})),
            )
        }
    };
    Ok(json!({
        "activity": activity,
        "status": status,
        "class": p.class,
        "encounter_id": encounter.get("id").cloned().unwrap_or_else(|| json!(uuid::Uuid::new_v4().to_string())),
        "episode": p.episode.clone().unwrap_or_default(),
        "period": period,
        "leave_period": leave,
        "report_of_admission": false,
        "entity": entity,
        "provenances": provenances,
        "deceased": event.kind == Kind::Mors,
    }))
}

/// Renders `event` of a stay whose previous message is `previous`, from `sender` (the hospital)
/// to `receiver` (the municipality), with the built-in templates; `letter_id` is the
/// MessageHeader.id to give it (`None`: a fresh UUID).
///
/// # Errors
/// The reason, in a line of text.
pub fn render(
    templates: &crate::template::Templates,
    base: &str,
    sender: crate::template::Organization,
    receiver: crate::template::Organization,
    event: Event,
    previous: Option<&Message>,
    letter_id: Option<&str>,
) -> Result<Value, String> {
    let mut ctx = Context::new_message(base, sender, receiver);
    if let Some(id) = letter_id.filter(|i| !i.is_empty()) {
        ctx.ids.header = id.to_string();
    }
    prepare(&mut ctx, event, previous).map_err(|e| e.to_string())?;
    let name = format!(
        "hospitalnotification/{}",
        Event::NAMES
            .iter()
            .find(|n| Event::parse(n) == Some(event))
            .unwrap_or(&"STIN")
    );
    templates
        .render_resource(&name, &ctx)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;
