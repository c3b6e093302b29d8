//! The reference vendor's FHIR answers: acknowledgements by the receiver's duplicate matrix
//! (MR8) and MedCom's rules (KR3, KR6), and the replies and forwards it is instructed to send.

use serde_json::{Value, json};
use std::collections::HashMap;

use super::Fault;
use super::vendor::Vendor;
use crate::envelope::{DuplicateKey, DuplicateMatrix, DuplicateVerdict};
use crate::finding::Finding;
use crate::message::{Format, Message};
use crate::scenario::Action;
use crate::template::{Context, Issue};

/// HL7's OperationOutcome code system (R4 `MSG_*` codes).
pub const HL7_OUTCOME: &str = "http://terminology.hl7.org/CodeSystem/operation-outcome";
/// MedCom's acknowledgement error codes.
pub const MEDCOM_ERRORS: &str =
    "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-acknowledgement-error-codes";

/// What the vendor remembers of FHIR messages: the receiver's matrix on (Bundle.id,
/// MessageHeader.id), and each processed letter with its acknowledgement.
#[derive(Default)]
pub(super) struct FhirState {
    matrix: DuplicateMatrix,
    /// MessageHeader.id -> the first copy and its acknowledgement.
    answered: HashMap<String, Answered>,
}

struct Answered {
    message: Message,
    ack: Message,
}

impl Vendor {
    /// The acknowledgement for a received message, by the duplicate matrix.
    pub(super) fn answer(&self, message: Message) -> Result<Message, String> {
        let key = DuplicateKey::new(
            message.identity.envelope_id.as_deref().unwrap_or_default(),
            message.identity.letter_id.as_deref().unwrap_or_default(),
        );
        let mut state = self.fhir.lock().map_err(|_| "state poisoned".to_string())?;
        let verdict = state.matrix.record(&key);
        let earlier = match verdict {
            DuplicateVerdict::ResendOriginalResponse | DuplicateVerdict::Duplicate => {
                state.answered.get(&key.message_id)
            }
            DuplicateVerdict::Process | DuplicateVerdict::EnvelopeIdReused => None,
        };
        if let Some(earlier) = earlier {
            if verdict == DuplicateVerdict::Duplicate && self.has(Fault::DuplicateDifferentAck) {
                let issue = Issue {
                    severity: "error".into(),
                    code: "duplicate".into(),
                    system: HL7_OUTCOME.into(),
                    details: "MSG_DUPLICATE_ID".into(),
                    diagnostics: "this message was received before".into(),
                    expression: None,
                };
                return self.acknowledge(
                    &earlier.message,
                    "fatal-error",
                    vec![issue],
                    message.format,
                );
            }
            // MR8: the same acknowledgement as the first copy, for a lost response and a resend alike.
            return Ok(earlier.ack.clone());
        }
        let (code, issues) = if verdict == DuplicateVerdict::EnvelopeIdReused {
            (
                "fatal-error",
                vec![Issue {
                    severity: "error".into(),
                    code: "duplicate".into(),
                    system: HL7_OUTCOME.into(),
                    details: "MSG_DUPLICATE_ID".into(),
                    diagnostics: format!(
                        "Bundle.id `{}` was used before for another letter",
                        key.envelope_id
                    ),
                    expression: Some("Bundle.id".into()),
                }],
            )
        } else {
            // KR6: an error (F1, F2) rejects the message; minor findings and notes do not.
            let errors: Vec<Finding> = crate::validate::with_profiles(
                &message,
                &self.config.rules,
                self.config.ig.as_deref(),
            )
            .into_iter()
            .filter(|f| f.grade >= crate::finding::Grade::F2)
            .collect();
            if errors.is_empty() {
                ("ok", Vec::new())
            } else {
                ("fatal-error", errors.iter().map(issue_for).collect())
            }
        };
        let (code, issues) = if self.has(Fault::FatalForValid) && code == "ok" {
            (
                "fatal-error",
                vec![Issue {
                    severity: "error".into(),
                    code: "processing".into(),
                    system: MEDCOM_ERRORS.into(),
                    details: "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE".into(),
                    diagnostics: "rejected by fault profile fatal-for-valid".into(),
                    expression: None,
                }],
            )
        } else {
            (code, issues)
        };
        let ack = self.acknowledge(&message, code, issues, message.format)?;
        // A letter that came only in a reused envelope was never accepted: nothing to remember.
        if verdict == DuplicateVerdict::Process {
            state.answered.insert(
                key.message_id,
                Answered {
                    message,
                    ack: ack.clone(),
                },
            );
        }
        Ok(ack)
    }

    fn acknowledge(
        &self,
        acked: &Message,
        code: &str,
        issues: Vec<Issue>,
        format: Format,
    ) -> Result<Message, String> {
        let issues = if self.has(Fault::NonOkWithoutOperationOutcome) {
            Vec::new()
        } else {
            issues
        };
        let ctx = Context::acknowledgement(
            &self.config.fhir_base,
            acked,
            self.config.identity.clone(),
            code,
            issues,
        );
        let mut resource = self
            .templates
            .render_resource("acknowledgement/ack", &ctx)
            .map_err(|e| e.to_string())?;
        if self.has(Fault::WrongResponseIdentifier) {
            resource["entry"][0]["resource"]["response"]["identifier"] =
                json!(uuid::Uuid::new_v4().to_string());
        }
        if self.has(Fault::AckMissingProvenance)
            && let Some(entries) = resource.get_mut("entry").and_then(Value::as_array_mut)
        {
            let ack_letter = ctx.ids.header.clone();
            entries.retain(|e| {
                e.pointer("/resource/resourceType").and_then(Value::as_str) != Some("Provenance")
                    || e.pointer("/resource/target/0/reference")
                        .and_then(Value::as_str)
                        == Some(&format!("MessageHeader/{ack_letter}"))
            });
        }
        Message::encode(&resource, format).map_err(|e| e.to_string())
    }

    /// Builds a reply or forward to a received message.
    pub(super) fn follow_up(
        &self,
        action: Action,
        letter: &str,
        format: Format,
    ) -> Result<Message, String> {
        let state = self.fhir.lock().map_err(|_| "state poisoned".to_string())?;
        let original = &state
            .answered
            .get(letter.trim())
            .ok_or_else(|| {
                format!("the reference vendor received no message with MessageHeader.id `{letter}`")
            })?
            .message;
        let (template, to, text) = match action {
            Action::SendLetter => {
                return Err("a letter is not a follow-up".to_string());
            }
            Action::Reply => (
                "carecommunication/reply",
                None,
                "Svar fra referenceleverandøren.",
            ),
            Action::Forward => (
                "carecommunication/forward",
                Some(self.config.forward_to.clone()),
                "Videresendt af referenceleverandøren.",
            ),
        };
        let mut ctx = Context::follow_up(
            &self.config.fhir_base,
            original,
            self.config.identity.clone(),
            to,
        );
        ctx.text = text.to_string();
        if let Some(previous) = ctx.previous.as_mut() {
            if self.has(Fault::ReplyResendsAttachment) && action == Action::Reply {
                previous["payload_reference_only"] = previous["payload"].clone();
            }
            if self.has(Fault::ForwardDropsAttachment) && action == Action::Forward {
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
        }
        let resource = self
            .templates
            .render_resource(template, &ctx)
            .map_err(|e| e.to_string())?;
        Message::encode(&resource, format).map_err(|e| e.to_string())
    }
}

/// The OperationOutcome issue that reports a validation finding (KR6).
fn issue_for(f: &Finding) -> Issue {
    let (system, details) = match f.rule.as_str() {
        "cc-category" => (MEDCOM_ERRORS, "MSG_CodeSystem_VALUE_UNKNOWN"),
        "medcom-careCommunication-2" | "medcom-messaging-2" => {
            (HL7_OUTCOME, "MSG_RESOURCE_REQUIRED")
        }
        "cc-attachment-mime" => (MEDCOM_ERRORS, "MSG_VALUESET_VALUE_UNKNOWN"),
        _ => (HL7_OUTCOME, "MSG_BAD_FORMAT"),
    };
    Issue {
        severity: "error".into(),
        code: "invalid".into(),
        system: system.into(),
        details: details.into(),
        diagnostics: format!("{}: {}", f.rule, f.message),
        expression: f.location.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::VendorConfig;
    use super::*;
    use crate::template::{Organization, Templates};

    fn org(ean: &str, sor: &str) -> Organization {
        Organization {
            ean: ean.into(),
            sor_id: sor.into(),
            name: "Test".into(),
        }
    }

    fn vendor() -> Vendor {
        Vendor::new(VendorConfig::new(org("5790000000029", "999981000016002"))).expect("vendor")
    }

    fn letter() -> Message {
        let ctx = Context::new_message(
            "https://test.example/fhir/",
            org("5790000000012", "999991000016001"),
            org("5790000000029", "999981000016002"),
        );
        let v = Templates::builtin()
            .render_resource("carecommunication/new", &ctx)
            .expect("renders");
        Message::encode(&v, Format::Json).expect("encodes")
    }

    fn code(ack: &Message) -> Option<&str> {
        ack.identity.response.as_ref()?.code.as_deref()
    }

    #[test]
    fn a_resend_and_a_lost_response_get_the_first_acknowledgement() {
        let v = vendor();
        let first = letter();
        let ack = v.answer(first.clone()).expect("answers");
        assert_eq!(code(&ack), Some("ok"));
        let again = v.answer(first.repeat().expect("repeats")).expect("answers");
        assert_eq!(
            again.bytes, ack.bytes,
            "(yes, yes): the original response again"
        );
        let resent = v.answer(first.resend().expect("resends")).expect("answers");
        assert_eq!(
            resent.bytes, ack.bytes,
            "(no, yes): MR8, the same acknowledgement"
        );
    }

    #[test]
    fn an_envelope_id_reused_for_another_letter_is_msg_duplicate_id() {
        let v = vendor();
        let first = letter();
        v.answer(first.clone()).expect("answers");
        let mut other = letter().resource;
        other["id"] = first.resource["id"].clone();
        let other = Message::encode(&other, Format::Json).expect("encodes");
        assert_ne!(other.identity.letter_id, first.identity.letter_id);
        let ack = v.answer(other).expect("answers");
        assert_eq!(code(&ack), Some("fatal-error"));
        assert!(
            String::from_utf8_lossy(&ack.bytes).contains("MSG_DUPLICATE_ID"),
            "(yes, no): the envelope id was reused"
        );
    }
}
