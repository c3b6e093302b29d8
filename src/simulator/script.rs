//! What MedCom's send TestScripts ask a sender to do, as the reference vendor does it: the
//! control protocol's `POST /_harness/script` with a [`ScriptOrder`].
//!
//! The harness sends one order per `create` the vendor performs in a script (the order's
//! options come from `data/testscript-instructions.toml`): `send-new` (with priority, category
//! and topic, attachments with creation and author, sender and recipient, a replacement CPR, an
//! Encounter with episodeOfCare), `reply` and `forward` (changing category or topic, adding
//! attachments, forwarding only the text, forwarding to a second receiver; a reply to a message
//! the vendor sent itself stays in its thread), and `acknowledge` (answer the next copy of a
//! letter `ok`, `transient-error` or `fatal-error`; the duplicate that follows is answered by
//! the duplicate matrix, and a duplicate after a `transient-error` is processed anew, KR5).
//! `send-hospital-notification` (with `event`) sends the next HospitalNotification of a stay as a
//! hospital: the first (no `of`) starts a stay, a later one continues the stay whose latest
//! notification `of` names ([`crate::simulator`]'s hospital role).
//!
//! The answer is `200 OK` with a [`ScriptDone`] naming the MessageHeader.id of what it sent, so
//! the harness claims exactly that message even when scenarios run in parallel.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

use super::control::Refusal;
use super::vendor::Vendor;
use crate::message::{Format, Message};
use crate::template::{Context, Issue, Organization};
use crate::testscript::{Instruction, shape};
use crate::transport::{Route, Sent};

/// The path a harness POSTs [`ScriptOrder`]s to.
pub const SCRIPT_PATH: &str = "/_harness/script";

/// The body of `POST /_harness/script`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ScriptOrder {
    /// What to do, as the data file says it (its `of` is a fixture id there, ignored here).
    pub instruction: Instruction,
    /// The MessageHeader.id `of` names: the letter followed up or acknowledged.
    #[serde(default)]
    pub letter_id: Option<String>,
    /// Where the result is POSTed (the harness's listener).
    pub deliver_to: String,
    /// The receiver of a new message (the harness's identity).
    #[serde(default)]
    pub receiver: Option<Organization>,
    /// The receiver of a forward `to = "second-receiver"` (the harness's second identity).
    #[serde(default)]
    pub second_receiver: Option<Organization>,
    /// The wire format of what it sends (default JSON).
    #[serde(default)]
    pub format: Option<Format>,
}

/// The body of a `200` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ScriptDone {
    /// The MessageHeader.id of the message it sent, if it sent one.
    pub letter_id: Option<String>,
    /// What it did, in a line.
    pub text: String,
}

/// What the vendor remembers for scripts: its own messages, and instructed acknowledgement codes.
#[derive(Default)]
pub(super) struct ScriptState {
    /// MessageHeader.id -> a message it sent on a script's order.
    sent: HashMap<String, Message>,
    /// MessageHeader.id -> the code to answer the next copy with.
    codes: HashMap<String, String>,
}

impl Vendor {
    /// The acknowledgement code an `acknowledge` order set for `letter`, taken (it applies once).
    pub(super) fn instructed_code(&self, letter: &str) -> Option<String> {
        self.script.lock().ok()?.codes.remove(letter)
    }

    /// The answer an instructed `code` gives, with the OperationOutcome a non-ok code needs
    /// (medcom-acknowledgement-1); `None` keeps the vendor's own verdict.
    pub(super) fn instructed_answer(
        code: &str,
        issues: Vec<Issue>,
    ) -> Option<(&'static str, Vec<Issue>)> {
        let issue = |code: &str, details: &str, text: &str| Issue {
            severity: "error".into(),
            code: code.into(),
            system: super::HL7_OUTCOME.into(),
            details: details.into(),
            diagnostics: text.into(),
            expression: None,
        };
        match code {
            "ok" => Some(("ok", Vec::new())),
            "transient-error" => Some((
                "transient-error",
                vec![issue(
                    "transient",
                    "MSG_BAD_FORMAT",
                    "temporarily unable to process the message; send it again",
                )],
            )),
            "fatal-error" if issues.is_empty() => Some((
                "fatal-error",
                vec![issue(
                    "processing",
                    "MSG_BAD_FORMAT",
                    "the message was refused",
                )],
            )),
            "fatal-error" => Some(("fatal-error", issues)),
            _ => None,
        }
    }

    /// Performs a script order.
    pub(super) async fn perform_script(
        self: &Arc<Self>,
        order: ScriptOrder,
    ) -> Result<ScriptDone, Refusal> {
        let what = &order.instruction;
        let unprocessable = |text: String| Refusal {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            text,
        };
        if what.action == "acknowledge" {
            let letter = order
                .letter_id
                .clone()
                .ok_or_else(|| unprocessable("`acknowledge` names no letter".into()))?;
            let code = what.code.clone().unwrap_or_else(|| "ok".into());
            if let Ok(mut s) = self.script.lock() {
                s.codes.insert(letter.clone(), code.clone());
            }
            return Ok(ScriptDone {
                letter_id: None,
                text: format!("will answer `{letter}` with `{code}`"),
            });
        }
        let message = self.script_message(&order).map_err(unprocessable)?;
        let letter = message.identity.letter_id.clone();
        if let Some(l) = &letter
            && let Ok(mut s) = self.script.lock()
        {
            s.sent.insert(l.clone(), message.clone());
        }
        let route = Route::Http(order.deliver_to.clone());
        let label = message.label();
        match self.send(&route, &message).await {
            Ok(Sent::Posted(d)) if d.status.is_some() => Ok(ScriptDone {
                letter_id: letter,
                text: format!("delivered {label} to {route}"),
            }),
            Ok(Sent::Posted(d)) => Err(Refusal {
                status: StatusCode::BAD_GATEWAY,
                text: format!(
                    "could not deliver to {route}: {}",
                    d.failure.unwrap_or_default()
                ),
            }),
            Ok(Sent::Written(_)) => Ok(ScriptDone {
                letter_id: letter,
                text: format!("wrote {label}"),
            }),
            Err(e) => Err(Refusal {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                text: e,
            }),
        }
    }

    /// The message an order asks for.
    fn script_message(&self, order: &ScriptOrder) -> Result<Message, String> {
        let what = &order.instruction;
        let config = &self.config;
        let format = order.format.unwrap_or(Format::Json);
        let (template, mut ctx, original) = match what.action.as_str() {
            "send-new" => {
                let receiver = order
                    .receiver
                    .clone()
                    .ok_or("`send-new` needs the receiver's identity")?;
                let mut ctx =
                    Context::new_message(&config.fhir_base, config.identity.clone(), receiver);
                ctx.text = "Ny besked fra referenceleverandøren.".into();
                ("carecommunication/new", ctx, None)
            }
            "reply" | "forward" => {
                let letter = order
                    .letter_id
                    .as_deref()
                    .ok_or("a reply or forward names the letter it follows up")?;
                let (original, own) = self.original(letter)?;
                let to = if what.action == "forward" {
                    Some(match what.to.as_deref() {
                        Some("second-receiver") => order
                            .second_receiver
                            .clone()
                            .ok_or("`second-receiver` needs the harness's second identity")?,
                        _ => order
                            .receiver
                            .clone()
                            .unwrap_or_else(|| config.forward_to.clone()),
                    })
                } else if own {
                    order.receiver.clone()
                } else {
                    None
                };
                let mut ctx =
                    Context::follow_up(&config.fhir_base, &original, config.identity.clone(), to);
                if own {
                    // A reply to its own message: it stays the sender, the first receiver stays
                    // the receiver, and the message's own organisations are reused.
                    if let Some(s) = &original.identity.sender {
                        ctx.sender_ref = s.reference.clone();
                    }
                    if let Some(r) = &original.identity.receiver
                        && what.action == "reply"
                    {
                        ctx.receiver_ref = r.reference.clone();
                        ctx.organizations =
                            crate::message::resources_of_type(&original.resource, "Organization")
                                .map(|(_, o)| o.clone())
                                .collect();
                    }
                }
                if let Some(c) = &what.category {
                    ctx.category = c.clone();
                }
                // The vendor's fault profiles show in script messages as in instructed ones.
                if let Some(previous) = ctx.previous.as_mut() {
                    if self.has(super::Fault::ReplyResendsAttachment) && what.action == "reply" {
                        previous["payload_reference_only"] = previous["payload"].clone();
                    }
                    if self.has(super::Fault::ForwardDropsAttachment) && what.action == "forward" {
                        without_attachments(previous);
                    }
                }
                if what.payload.as_deref() == Some("text-only")
                    && let Some(previous) = ctx.previous.as_mut()
                {
                    without_attachments(previous);
                }
                ctx.text = if what.action == "reply" {
                    "Svar fra referenceleverandøren.".into()
                } else {
                    "Videresendt af referenceleverandøren.".into()
                };
                let template = if what.action == "reply" {
                    "carecommunication/reply"
                } else {
                    "carecommunication/forward"
                };
                (template, ctx, Some(original.resource.clone()))
            }
            "send-hospital-notification" => return self.script_hospital_notification(order),
            other => return Err(format!("unknown script action `{other}`")),
        };
        for wish in &what.attachments {
            ctx.attachments
                .push(shape::attachment_for(wish, &ctx.now)?.into());
        }
        let mut resource = self
            .templates
            .render_resource(template, &ctx)
            .map_err(|e| e.to_string())?;
        shape::apply(&mut resource, what, &config.fhir_base, original.as_ref());
        Message::encode(&resource, format).map_err(|e| e.to_string())
    }

    /// `send-hospital-notification`: the event of the stay whose latest notification the order's
    /// letter names (a new stay, named by a fresh id, when it names none).
    fn script_hospital_notification(&self, order: &ScriptOrder) -> Result<Message, String> {
        let what = &order.instruction;
        let name = what.event.as_deref().unwrap_or("STIN");
        let event = crate::hospitalnotification::Event::parse(name)
            .ok_or_else(|| format!("`event` `{name}` is not a HospitalNotification event"))?;
        let stay = match order.letter_id.as_deref() {
            Some(letter) => self
                .stay_of(letter)
                .ok_or_else(|| format!("no stay's latest notification is `{letter}`"))?,
            None => format!("script/{}", uuid::Uuid::new_v4()),
        };
        let receiver = order
            .receiver
            .clone()
            .ok_or("`send-hospital-notification` needs the receiver's identity")?;
        let department = match what.sender.as_deref() {
            None => None,
            Some("another-department") => Some(another_department(&self.config.identity)),
            Some(other) => return Err(format!("unknown `sender` `{other}` (another-department)")),
        };
        let base = self.config.fhir_base.clone();
        let revise_admission = match what.revise.as_deref() {
            None => false,
            Some("admission-time") => true,
            Some(other) => return Err(format!("unknown `revise` `{other}` (admission-time)")),
        };
        let shape = move |bundle: &mut Value, earlier: &[Message]| {
            if revise_admission {
                revised_admission_time(bundle, earlier);
            }
            if let Some(d) = &department {
                sent_from(bundle, d, &base);
            }
        };
        self.hospital_notification_shaped(
            event,
            &stay,
            receiver,
            order.format.unwrap_or(Format::Json),
            "",
            &shape,
        )
    }

    /// The message `letter` names: one it received, or one it sent itself (`true`).
    fn original(&self, letter: &str) -> Result<(Message, bool), String> {
        if let Some(m) = self.received_letter(letter) {
            return Ok((m, false));
        }
        self.script
            .lock()
            .ok()
            .and_then(|s| s.sent.get(letter).cloned())
            .map(|m| (m, true))
            .ok_or_else(|| {
                format!("the reference vendor has no message with MessageHeader.id `{letter}`")
            })
    }
}

/// Another department of the hospital `identity` belongs to: its own SOR code and GLN (a GS1
/// test number with a valid check digit), as HospitalNotification PF-send-imp-05 wants a
/// revision's sender to be.
fn another_department(identity: &Organization) -> Organization {
    Organization {
        ean: "5790000000043".into(),
        sor_id: "999961000016004".into(),
        name: format!("{} (anden afdeling)", identity.name),
    }
}

/// Makes `department` the sender of `bundle`: a new Organization entry (GLN and SOR code of the
/// department, the rest as the current sender's), which MessageHeader.sender and the agent of
/// the message's own Provenance (the one whose target is the MessageHeader) point to. The
/// earlier messages' Provenances keep pointing to the sender they had.
fn sent_from(bundle: &mut Value, department: &Organization, base: &str) {
    let Some(entries) = bundle["entry"].as_array_mut() else {
        return;
    };
    let Some(header_url) = entries
        .first()
        .and_then(|e| e["fullUrl"].as_str())
        .map(str::to_string)
    else {
        return;
    };
    let Some(old) = entries
        .first()
        .and_then(|e| e["resource"]["sender"]["reference"].as_str())
        .map(str::to_string)
    else {
        return;
    };
    let Some(mut org) = entries
        .iter()
        .find(|e| e["fullUrl"].as_str() == Some(old.as_str()))
        .map(|e| e["resource"].clone())
    else {
        return;
    };
    let id = uuid::Uuid::new_v4().to_string();
    org["id"] = Value::from(id.clone());
    org["name"] = Value::from(department.name.clone());
    if let Some(ids) = org["identifier"].as_array_mut() {
        for i in ids {
            match i["system"].as_str() {
                Some("https://www.gs1.org/gln") => i["value"] = Value::from(department.ean.clone()),
                Some("urn:oid:1.2.208.176.1.1") => {
                    i["value"] = Value::from(department.sor_id.clone());
                }
                _ => {}
            }
        }
    }
    let url = format!("{base}Organization/{id}");
    entries[0]["resource"]["sender"]["reference"] = Value::from(url.clone());
    for e in entries.iter_mut() {
        let r = &mut e["resource"];
        let own = r["resourceType"] == "Provenance"
            && r["target"].as_array().is_some_and(|t| {
                t.iter()
                    .any(|t| t["reference"].as_str() == Some(&header_url))
            });
        if own && let Some(agents) = r["agent"].as_array_mut() {
            for a in agents {
                if a["who"]["reference"].as_str() == Some(old.as_str()) {
                    a["who"]["reference"] = Value::from(url.clone());
                }
            }
        }
    }
    entries.push(serde_json::json!({"fullUrl": url, "resource": org}));
}

/// Sets the Encounter's `period.start` in `bundle` one hour before the admission time of the
/// latest of `earlier` (a revision correcting the admission time, HospitalNotification
/// PF-send-imp-06), written as FHIR `dateTime` with seconds and the offset `Z`.
fn revised_admission_time(bundle: &mut Value, earlier: &[Message]) {
    use time::format_description::well_known::Rfc3339;
    let start_of = |b: &Value| -> Option<String> {
        b["entry"]
            .as_array()?
            .iter()
            .map(|e| &e["resource"])
            .find(|r| r["resourceType"] == "Encounter")?["period"]["start"]
            .as_str()
            .map(str::to_string)
    };
    let Some(previous) = earlier.last().and_then(|m| start_of(&m.resource)) else {
        return;
    };
    let Ok(at) = time::OffsetDateTime::parse(&previous, &Rfc3339) else {
        return;
    };
    let revised = (at - time::Duration::hours(1)).to_offset(time::UtcOffset::UTC);
    let Ok(text) = revised.format(&time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    )) else {
        return;
    };
    if let Some(entries) = bundle["entry"].as_array_mut() {
        for e in entries {
            if e["resource"]["resourceType"] == "Encounter" {
                e["resource"]["period"]["start"] = Value::from(text.clone());
            }
        }
    }
}

/// Leaves the attachment segments out of a follow-up's `previous` payload: a forward of the
/// text only (MedCom's `send-forward-partialthread`).
fn without_attachments(previous: &mut Value) {
    let kept: Vec<Value> = previous["payload"]
        .as_array()
        .map(|p| {
            p.iter()
                .filter(|s| s.get("contentAttachment").is_none())
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    previous["payload"] = Value::Array(kept);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape `data/testscript-instructions.toml` gives an order, on the wire.
    #[test]
    fn a_script_order_reads_the_wire_form_the_harness_sends() {
        let wire = serde_json::json!({
            "instruction": {"action": "send-hospital-notification", "event": "STIN"},
            "letter-id": null,
            "deliver-to": "http://127.0.0.1:9/fhir",
            "receiver": {"ean": "5790000000012", "sor-id": "999991000016001", "name": "H"},
        });
        let order: ScriptOrder = serde_json::from_value(wire).expect("reads");
        assert_eq!(order.instruction.action, "send-hospital-notification");
        assert_eq!(order.instruction.event.as_deref(), Some("STIN"));
        assert_eq!(order.second_receiver, None);
    }

    /// KR4/KR5 and medcom-acknowledgement-1: a non-ok instructed answer carries an
    /// OperationOutcome issue; `ok` none.
    #[test]
    fn an_instructed_non_ok_answer_carries_an_issue() {
        let (code, issues) =
            Vendor::instructed_answer("transient-error", Vec::new()).expect("known");
        assert_eq!(code, "transient-error");
        assert_eq!(issues.len(), 1);
        let (code, issues) = Vendor::instructed_answer("ok", Vec::new()).expect("known");
        assert_eq!((code, issues.len()), ("ok", 0));
        assert!(Vendor::instructed_answer("maybe", Vec::new()).is_none());
    }
}
