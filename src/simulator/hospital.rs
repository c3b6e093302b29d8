//! The reference vendor as a hospital: on instruction it sends the HospitalNotifications of a
//! stay, each event from the stay's latest message ([`crate::hospitalnotification`]), and
//! resends them while unacknowledged (KR7), as it does its replies and forwards.
//!
//! The `hn-…` fault profiles change what it sends in one named way each.

use axum::http::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::Fault;
use super::control::{DEFAULT_RESEND_AFTER, Instruction, Refusal};
use super::vendor::Vendor;
use crate::hospitalnotification::{Change, Event, Kind};
use crate::message::{Format, Message};
use crate::template::Organization;

/// The stays the vendor has notified: the caller's stay name -> its messages, in order.
#[derive(Default)]
pub(super) struct HospitalState {
    stays: HashMap<String, Vec<Message>>,
}

impl Vendor {
    /// Performs `{"action": "hospital-notification", "event": …, "stay": …}`.
    pub(super) async fn perform_hospital_notification(
        self: &Arc<Self>,
        instruction: Instruction,
    ) -> Result<String, Refusal> {
        let name = instruction.event.as_deref().unwrap_or_default();
        let event = Event::parse(name).ok_or_else(|| {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                format!("`event` `{name}` is not one of {}", Event::NAMES.join(", ")),
            )
        })?;
        let stay = instruction
            .stay
            .clone()
            .ok_or_else(|| Refusal::new(StatusCode::BAD_REQUEST, "`stay` names no stay"))?;
        let receiver = instruction
            .receiver
            .clone()
            .unwrap_or_else(|| crate::config::Config::default_config().harness);
        let message = self
            .hospital_notification(
                event,
                &stay,
                receiver,
                instruction.format.unwrap_or(Format::Json),
                instruction.letter_id.trim(),
            )
            .map_err(|e| Refusal::new(StatusCode::UNPROCESSABLE_ENTITY, e))?;
        let resend_after = instruction
            .resend_after_ms
            .map_or(DEFAULT_RESEND_AFTER, Duration::from_millis);
        self.deliver_result(&instruction.deliver_to, message, resend_after)
            .await
    }

    /// The name of the stay whose latest notification has MessageHeader.id `letter`.
    pub(super) fn stay_of(&self, letter: &str) -> Option<String> {
        let state = self.hospital.lock().ok()?;
        state
            .stays
            .iter()
            .find(|(_, m)| {
                m.last()
                    .and_then(|l| l.identity.letter_id.as_deref())
                    .is_some_and(|id| id == letter.trim())
            })
            .map(|(name, _)| name.clone())
    }

    /// Builds `event` of `stay` and remembers it as the stay's latest message.
    pub(super) fn hospital_notification(
        &self,
        event: Event,
        stay: &str,
        receiver: Organization,
        format: Format,
        letter_id: &str,
    ) -> Result<Message, String> {
        self.hospital_notification_shaped(event, stay, receiver, format, letter_id, &|_, _| {})
    }

    /// [`Self::hospital_notification`] with `shape` applied to the rendered Bundle (given the
    /// stay's earlier messages) before it is encoded and remembered: what a TestScript order
    /// asks for.
    pub(super) fn hospital_notification_shaped(
        &self,
        event: Event,
        stay: &str,
        receiver: Organization,
        format: Format,
        letter_id: &str,
        shape: &dyn Fn(&mut Value, &[Message]),
    ) -> Result<Message, String> {
        let mut state = self
            .hospital
            .lock()
            .map_err(|_| "state poisoned".to_string())?;
        let admission =
            matches!(event.kind, Kind::Stin | Kind::Staa) && event.change == Change::New;
        let messages: &[Message] = if admission {
            &[]
        } else {
            state
                .stays
                .get(stay)
                .map(Vec::as_slice)
                .filter(|m| !m.is_empty())
                .ok_or_else(|| {
                    format!("the reference vendor sent no admission for stay `{stay}`")
                })?
        };
        let rendered = if self.has(Fault::HnOutOfOrder) && event.kind == Kind::Stor {
            Event {
                kind: Kind::Slor,
                change: event.change,
            }
        } else {
            event
        };
        let mut resource = crate::hospitalnotification::render(
            &self.templates,
            &self.config.fhir_base,
            self.config.identity.clone(),
            receiver,
            rendered,
            messages.last(),
            Some(letter_id),
        )?;
        shape(&mut resource, messages);
        self.spoil(&mut resource, event, messages);
        let message = Message::encode(&resource, format).map_err(|e| e.to_string())?;
        if admission {
            state.stays.insert(stay.to_string(), vec![message.clone()]);
        } else if let Some(m) = state.stays.get_mut(stay) {
            m.push(message.clone());
        }
        Ok(message)
    }

    /// Applies the `hn-…` fault profile, if any, to the rendered `resource` of `event`.
    fn spoil(&self, resource: &mut Value, event: Event, earlier: &[Message]) {
        let Some(fault) = self.config.fault else {
            return;
        };
        let Some(entries) = resource.get_mut("entry").and_then(Value::as_array_mut) else {
            return;
        };
        let previous_status = earlier
            .last()
            .and_then(crate::hospitalnotification::Facts::of)
            .map(|f| f.status);
        for entry in entries.iter_mut() {
            let r = &mut entry["resource"];
            match r["resourceType"].as_str() {
                Some("Encounter") => match fault {
                    Fault::HnWrongEncounterStatus
                        if event.kind == Kind::Stor && event.change == Change::New =>
                    {
                        r["status"] = json!("in-progress");
                    }
                    Fault::HnNewEpisodeId if !earlier.is_empty() => {
                        r["episodeOfCare"][0]["identifier"]["value"] =
                            json!(uuid::Uuid::new_v4().to_string());
                    }
                    Fault::HnMissingLeavePeriod
                        if matches!(event.kind, Kind::Stor | Kind::Slor)
                            && event.change == Change::New =>
                    {
                        if let Some(o) = r.as_object_mut() {
                            o.remove("extension");
                        }
                    }
                    Fault::HnCancelWithoutEnteredInError if event.change == Change::Cancel => {
                        if let Some(s) = &previous_status {
                            r["status"] = json!(s);
                        }
                    }
                    _ => {}
                },
                Some("Provenance")
                    if fault == Fault::HnRevisionWrongTarget && event.change == Change::Revise =>
                {
                    let own = resource_targets_own(r);
                    if own
                        && let Some(first) =
                            earlier.first().and_then(|m| m.identity.letter_id.clone())
                    {
                        r["entity"][0]["what"]["reference"] =
                            json!(format!("MessageHeader/{first}"));
                    }
                }
                _ => {}
            }
        }
    }
}

/// Whether a Provenance of a fresh rendering is the new one (its activity is a revision or
/// cancellation, as only the new one is in a `RE_`/`AN_` rendering).
fn resource_targets_own(provenance: &Value) -> bool {
    provenance
        .pointer("/activity/coding/0/code")
        .and_then(Value::as_str)
        .is_some_and(|c| c.starts_with("revise-"))
}

#[cfg(test)]
mod tests {
    use super::super::VendorConfig;
    use super::*;
    use crate::hospitalnotification::{Facts, stay::judge};

    fn vendor(fault: Option<Fault>) -> Vendor {
        let mut c = VendorConfig::new(Organization {
            ean: "5790000209354".into(),
            sor_id: "265161000016000".into(),
            name: "Hospital (test)".into(),
        });
        c.fault = fault;
        Vendor::new(c).expect("vendor")
    }

    fn send(v: &Vendor, events: &[&str]) -> Vec<Facts> {
        let to = crate::config::Config::default_config().harness;
        events
            .iter()
            .map(|e| {
                let m = v
                    .hospital_notification(
                        Event::parse(e).expect("event"),
                        "s",
                        to.clone(),
                        Format::Json,
                        "",
                    )
                    .expect("sends");
                Facts::of(&m).expect("HN")
            })
            .collect()
    }

    fn broken_after(stay: &[Facts]) -> Vec<String> {
        let (last, earlier) = stay.split_last().expect("one");
        let mut r: Vec<String> = judge(earlier, last)
            .into_iter()
            .filter(|f| f.grade != crate::finding::Grade::Ok)
            .map(|f| f.rule.to_string())
            .collect();
        r.dedup();
        r
    }

    /// The wire form a TestScript engine or a harness sends for "send HN event X of stay S".
    #[test]
    fn a_hospital_notification_instruction_reads_its_wire_form() {
        let i: Instruction = serde_json::from_value(serde_json::json!({
            "action": "hospital-notification",
            "event": "STOR",
            "stay": "s1",
            "letter-id": "",
            "deliver-to": "folder",
            "receiver": {"ean": "5790001348120", "sor-id": "953741000016009", "name": "Kommune"},
        }))
        .expect("reads");
        assert_eq!(i.event.as_deref(), Some("STOR"));
        assert_eq!(i.stay.as_deref(), Some("s1"));
        assert_eq!(i.receiver.map(|r| r.ean), Some("5790001348120".into()));
    }

    #[test]
    fn the_correct_vendor_sends_a_stay_the_rules_accept_and_a_leave_needs_an_admission() {
        let v = vendor(None);
        let stay = send(&v, &["STIN", "STOR", "SLOR", "SLHJ"]);
        for i in 1..stay.len() {
            assert!(broken_after(&stay[..=i]).is_empty(), "{i}");
        }
        let fresh = vendor(None);
        let to = crate::config::Config::default_config().harness;
        assert!(
            fresh
                .hospital_notification(Event::parse("STOR").expect("e"), "x", to, Format::Json, "")
                .is_err()
        );
    }

    #[test]
    fn the_hn_fault_profiles_break_their_rules() {
        let stay = send(&vendor(Some(Fault::HnNewEpisodeId)), &["STIN", "STOR"]);
        assert_eq!(broken_after(&stay), vec!["hn-episode"]);
        let stay = send(
            &vendor(Some(Fault::HnRevisionWrongTarget)),
            &["STIN", "STOR", "RE_STOR"],
        );
        assert_eq!(broken_after(&stay), vec!["hn-revision-target"]);
        let stay = send(&vendor(Some(Fault::HnOutOfOrder)), &["STIN", "STOR"]);
        assert_eq!(broken_after(&stay), vec!["hn-order"]);
        let stay = send(
            &vendor(Some(Fault::HnWrongEncounterStatus)),
            &["STIN", "STOR"],
        );
        assert_eq!(stay[1].status, "in-progress");
        let stay = send(
            &vendor(Some(Fault::HnMissingLeavePeriod)),
            &["STIN", "STOR"],
        );
        assert!(!stay[1].has_leave);
        let stay = send(
            &vendor(Some(Fault::HnCancelWithoutEnteredInError)),
            &["STIN", "AN_STIN"],
        );
        assert_eq!(stay[1].status, "in-progress");
    }
}
