//! The reference vendor's FHIR answers: acknowledgements by the receiver's duplicate matrix
//! (MR8) and MedCom's rules (KR3, KR6), and the replies and forwards it is instructed to send.

use serde_json::{Value, json};
use std::sync::Arc;

use super::Fault;
use super::vendor::Vendor;
use crate::envelope::{DuplicateKey, DuplicateMatrix, DuplicateVerdict};
use crate::finding::Finding;
use crate::message::{Format, Message};
use crate::scenario::Action;
use crate::template::{AckIds, Context, Issue};

/// HL7's OperationOutcome code system (R4 `MSG_*` codes).
pub const HL7_OUTCOME: &str = "http://terminology.hl7.org/CodeSystem/operation-outcome";
/// MedCom's acknowledgement error codes.
pub const MEDCOM_ERRORS: &str =
    "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-acknowledgement-error-codes";

/// What the vendor remembers of FHIR messages: the receiver's matrix on (Bundle.id,
/// MessageHeader.id) for the newest [`MATRIX_ENVELOPES`] envelopes, and the recent processed
/// letters with their acknowledgements, as the bytes they travelled in. Both are bounded, so
/// `serve` under load keeps a bounded memory.
pub(super) struct FhirState {
    matrix: DuplicateMatrix,
    /// MessageHeader.id -> the first copy and its acknowledgement, for the newest
    /// [`ANSWERED_ENTRIES`] letters within [`ANSWERED_BYTES`]: a duplicate of an older letter is
    /// answered as a new one, a follow-up to it cannot be built.
    answered: super::recent::Recent<Answered>,
}

/// How many envelopes the vendor's duplicate matrix remembers (Bundle.id with its
/// MessageHeader.id, about 200 bytes each: some 40 MB at most). A copy that comes back after this
/// many other envelopes is processed as new; resends come minutes after the first copy (KR7).
pub(super) const MATRIX_ENVELOPES: usize = 200_000;

/// How many processed letters the vendor keeps (with their acknowledgements).
pub(super) const ANSWERED_ENTRIES: usize = 4096;
/// What those letters may weigh together, in bytes: their sizes on the wire plus their
/// acknowledgements' (only the bytes are kept; they are parsed again when needed).
const ANSWERED_BYTES: usize = 128 * 1024 * 1024;

impl Default for FhirState {
    fn default() -> FhirState {
        FhirState {
            matrix: DuplicateMatrix::bounded(MATRIX_ENVELOPES),
            answered: super::recent::Recent::new(ANSWERED_ENTRIES, ANSWERED_BYTES),
        }
    }
}

/// A processed letter and its acknowledgement, as the bytes they travelled in, shared (not
/// copied) with those who read them. A parsed message weighs several times its bytes, and only
/// a duplicate (rare) or a follow-up (rarer) needs one: they parse these bytes again.
#[derive(Clone)]
struct Answered {
    message: Arc<Stored>,
    ack: Arc<Stored>,
}

/// The bytes of a message and their format.
struct Stored {
    bytes: Vec<u8>,
    format: Format,
}

impl Stored {
    /// The message again, parsed from its bytes.
    fn parse(&self) -> Result<Message, String> {
        Message::parse(self.bytes.clone(), Some(self.format)).map_err(|e| e.to_string())
    }
}

impl Vendor {
    /// A message it received and processed, by MessageHeader.id.
    pub(super) fn received_letter(&self, letter: &str) -> Option<Message> {
        let stored = self
            .fhir
            .lock()
            .ok()?
            .answered
            .get(letter.trim())
            .map(|a| a.message.clone())?;
        stored.parse().ok()
    }

    /// The acknowledgement for a received message, by the duplicate matrix.
    pub(super) fn answer(&self, message: Message) -> Result<Message, String> {
        let key = DuplicateKey::new(
            message.identity.envelope_id.as_deref().unwrap_or_default(),
            message.identity.letter_id.as_deref().unwrap_or_default(),
        );
        // The lock is held to consult and update the matrix only; validating and rendering the
        // acknowledgement happen outside it, so concurrent messages are answered in parallel.
        let (verdict, earlier) = {
            let mut state = self.fhir.lock().map_err(|_| "state poisoned".to_string())?;
            let verdict = state.matrix.record(&key);
            let earlier = match verdict {
                DuplicateVerdict::ResendOriginalResponse | DuplicateVerdict::Duplicate => {
                    state.answered.get(&key.message_id).cloned()
                }
                DuplicateVerdict::Process | DuplicateVerdict::EnvelopeIdReused => None,
            };
            (verdict, earlier)
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
                    &earlier.message.parse()?,
                    "fatal-error",
                    vec![issue],
                    message.format,
                );
            }
            // MR8: the same acknowledgement as the first copy, for a lost response and a resend
            // alike, resent as any letter is (MedCom's `send-*-duplicate-*` TestScripts).
            return resent(&earlier.ack.parse()?);
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
        // A script's `acknowledge` order (control protocol, `simulator::script`) sets the code.
        let instructed = self
            .instructed_code(&key.message_id)
            .and_then(|c| Vendor::instructed_answer(&c, issues.clone()));
        let stamped = instructed.is_some();
        let (code, issues) = instructed.unwrap_or((code, issues));
        let ack = self.acknowledge(&message, code, issues, message.format)?;
        // An instructed acknowledgement often answers the second copy of a letter within the
        // second of the first answer: its timestamp to the millisecond keeps the two apart.
        let ack = if stamped { resent(&ack)? } else { ack };
        // A letter that came only in a reused envelope was never accepted: nothing to remember.
        // After a technical error (`transient-error`) the letter was not processed either: its
        // resend is processed anew and acknowledged `ok` (KR5).
        if verdict == DuplicateVerdict::Process && code != "transient-error" {
            let weight = message.bytes.len() + ack.bytes.len();
            let answered = Answered {
                message: Arc::new(Stored {
                    format: message.format,
                    bytes: message.bytes,
                }),
                ack: Arc::new(Stored {
                    bytes: ack.bytes.clone(),
                    format: ack.format,
                }),
            };
            self.fhir
                .lock()
                .map_err(|_| "state poisoned".to_string())?
                .answered
                .insert(key.message_id, answered, weight);
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
        // Built directly (`template::acknowledgement`): no template rendering, no copy of the
        // acked message's payload on the hot path of `serve`.
        let ids = AckIds::fresh();
        let mut resource = crate::template::acknowledgement(
            &self.config.fhir_base,
            acked,
            &self.config.identity,
            code,
            &issues,
            &ids,
        );
        if self.has(Fault::WrongResponseIdentifier) {
            resource["entry"][0]["resource"]["response"]["identifier"] =
                json!(uuid::Uuid::new_v4().to_string());
        }
        if self.has(Fault::AckMissingProvenance)
            && let Some(entries) = resource.get_mut("entry").and_then(Value::as_array_mut)
        {
            let ack_letter = ids.header.clone();
            entries.retain(|e| {
                e.pointer("/resource/resourceType").and_then(Value::as_str) != Some("Provenance")
                    || e.pointer("/resource/target/0/reference")
                        .and_then(Value::as_str)
                        .is_some_and(|r| {
                            crate::message::reference_names(r, "MessageHeader", &ack_letter)
                        })
            });
        }
        Message::encode_owned(resource, format).map_err(|e| e.to_string())
    }

    /// Builds a reply or forward to a received message.
    pub(super) fn follow_up(
        &self,
        action: Action,
        letter: &str,
        format: Format,
    ) -> Result<Message, String> {
        let original = self
            .fhir
            .lock()
            .map_err(|_| "state poisoned".to_string())?
            .answered
            .get(letter.trim())
            .map(|a| a.message.clone())
            .ok_or_else(|| {
                format!("the reference vendor received no message with MessageHeader.id `{letter}`")
            })?
            .parse()?;
        let (template, to, text) = match action {
            Action::SendLetter | Action::HospitalNotification => {
                return Err("a letter or a HospitalNotification is not a follow-up".to_string());
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
            &original,
            self.config.identity.clone(),
            to,
        );
        ctx.text = text.to_string();
        if let Some(previous) = ctx.previous.as_mut() {
            if self.has(Fault::ReplyResendsAttachment) && action == Action::Reply {
                previous["payload_reference_only"] = previous["payload"].clone();
            }
            if self.has(Fault::ForwardDropsAttachment) && action == Action::Forward {
                previous["payload"] = previous["payload_reference_only"].clone();
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
/// The first acknowledgement `ack` resent for a duplicate: the same MessageHeader (id, code,
/// response.identifier) and Provenances in a new envelope, a new `Bundle.id` (a UUID) and a new
/// `Bundle.timestamp`. MedCom's `acknowledgement-send-*-duplicate-*` TestScripts assert that both
/// differ from the first acknowledgement's, comparing the strings; the timestamp is written to the
/// millisecond, so it differs from the first one (written to the second) even within the same
/// second.
fn resent(ack: &Message) -> Result<Message, String> {
    let mut resource = ack.resource.clone();
    resource["id"] = json!(uuid::Uuid::new_v4().to_string());
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    let now = time::OffsetDateTime::now_utc()
        .format(&format)
        .map_err(|e| format!("the resent acknowledgement's timestamp: {e}"))?;
    resource["timestamp"] = json!(now);
    Message::encode(&resource, ack.format).map_err(|e| e.to_string())
}

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
        let resent = v.answer(first.resend().expect("resends")).expect("answers");
        for (case, dup) in [
            ("(yes, yes): the original response again", &again),
            ("(no, yes): MR8, the same acknowledgement", &resent),
        ] {
            assert_eq!(dup.identity.response, ack.identity.response, "{case}");
            assert_eq!(dup.identity.letter_id, ack.identity.letter_id, "{case}");
        }
    }

    /// TestScript-acknowledgement-send-ok-duplicate-hospitalnotification.json: "Confirm that the
    /// Bundle.timestamp of the two Acknowledgements are different" (`'${bundletimestamp-ok-02}' !=
    /// '${bundletimestamp-ok-04}'`) and "… the Bundle.id of the two Acknowledgements are
    /// different", with `response.code = 'ok'` both times.
    #[test]
    fn a_duplicate_gets_its_acknowledgement_resent_with_a_new_bundle_id_and_timestamp() {
        let v = vendor();
        let first = letter();
        let ack = v.answer(first.clone()).expect("answers");
        let again = v.answer(first.resend().expect("resends")).expect("answers");
        assert_eq!(code(&again), Some("ok"));
        assert_ne!(again.identity.envelope_id, ack.identity.envelope_id);
        assert_ne!(again.identity.timestamp, ack.identity.timestamp);
        assert!(
            crate::check::same_acknowledgement(&ack, &again)
                .iter()
                .all(|f| f.grade == crate::finding::Grade::Ok),
            "the harness accepts the vendor's resent acknowledgement"
        );
    }

    fn of_rule<'a>(findings: &'a [Finding], rule: &str) -> Vec<&'a Finding> {
        findings.iter().filter(|f| f.rule == rule).collect()
    }

    /// TestScript-acknowledgement-send-ok-duplicate-hospitalnotification.json asserts the two
    /// acknowledgements' Bundle.id and Bundle.timestamp differ and both are `ok`: a byte-identical
    /// copy, or one in the first one's envelope, is `ack-duplicate-resent` (F3); MR8 (same code
    /// and response.identifier) still holds for both.
    #[test]
    fn a_copied_acknowledgement_of_a_duplicate_is_ack_duplicate_resent() {
        use crate::finding::Grade;
        let ack = vendor().answer(letter()).expect("answers");
        let copied = crate::check::same_acknowledgement(&ack, &ack);
        let resent = of_rule(&copied, "ack-duplicate-resent");
        assert_eq!(resent.len(), 1, "{copied:?}");
        assert_eq!(resent[0].grade, Grade::F3);
        assert!(resent[0].message.contains("byte-identical"), "{copied:?}");
        assert!(of_rule(&copied, "MR8").iter().all(|f| f.grade == Grade::Ok));
        // The same envelope with a new timestamp: still not resent.
        let mut later = ack.resource.clone();
        later["timestamp"] = json!("2099-01-01T00:00:00Z");
        let later = Message::encode(&later, Format::Json).expect("encodes");
        let same_envelope = crate::check::same_acknowledgement(&ack, &later);
        let resent = of_rule(&same_envelope, "ack-duplicate-resent");
        assert_eq!(resent.len(), 1, "{same_envelope:?}");
        assert_eq!(resent[0].location.as_deref(), Some("Bundle.id"));
    }

    /// MR8 (governance 040): the duplicate's acknowledgement answers the same MessageHeader; the
    /// `send-*-duplicate-*` scripts acknowledge the same STIN MessageHeader twice.
    #[test]
    fn a_duplicate_acknowledgement_naming_another_message_breaks_mr8() {
        use crate::finding::Grade;
        let ack = vendor().answer(letter()).expect("answers");
        let mut other = ack.resend().expect("resends").resource;
        other["entry"][0]["resource"]["response"]["identifier"] = json!("another-letter");
        let other = Message::encode(&other, Format::Json).expect("encodes");
        let findings = crate::check::same_acknowledgement(&ack, &other);
        let mr8 = of_rule(&findings, "MR8");
        assert!(mr8.iter().any(|f| f.grade == Grade::F1), "{findings:?}");
    }

    fn acknowledgement_provenance(ack: &Message) -> Value {
        crate::message::resources_of_type(&ack.resource, "Provenance")
            .map(|(_, p)| p.clone())
            .find(|p| p.pointer("/activity/coding/0/code") == Some(&json!("acknowledgement")))
            .expect("an acknowledgement Provenance")
    }

    /// TestScript-acknowledgement-send-ok-hospitalnotification.json: "Confirm that the previous
    /// MessageHeader fullURL is identical to Provenance.entity.what"
    /// (`entity.what.reference = '${messageHeaderid-STIN}'`, the variable being
    /// `Bundle.entry[0].fullUrl` of the acknowledged message) and
    /// `target.reference = %resource.entry[0].fullUrl`.
    #[test]
    fn the_acknowledgement_provenance_names_the_fullurls_as_written() {
        let sent = letter();
        let ack = vendor().answer(sent.clone()).expect("answers");
        let p = acknowledgement_provenance(&ack);
        assert_eq!(
            p.pointer("/target/0/reference"),
            ack.resource.pointer("/entry/0/fullUrl")
        );
        assert_eq!(
            p.pointer("/entity/0/what/reference"),
            sent.resource.pointer("/entry/0/fullUrl")
        );
        let findings = crate::check::acknowledgement(&ack, &sent, crate::message::AckCode::Ok);
        let form = of_rule(&findings, "ack-reference-form");
        assert!(
            !form.is_empty() && form.iter().all(|f| f.grade == crate::finding::Grade::Ok),
            "{findings:?}"
        );
    }

    /// The same scripts compare the strings: a relative `MessageHeader/<id>` against absolute
    /// fullUrls resolves by FHIR's rules (no `ack-provenance` breach) but is an
    /// `ack-reference-form` note (F4), once for the target and once for the entity.
    #[test]
    fn a_relative_reference_against_absolute_fullurls_is_an_ack_reference_form_note() {
        use crate::finding::Grade;
        let sent = letter();
        let ack = vendor().answer(sent.clone()).expect("answers");
        let mut resource = ack.resource.clone();
        let header = ack.identity.letter_id.clone().expect("ack id");
        let acked = sent.identity.letter_id.clone().expect("letter id");
        for entry in resource["entry"].as_array_mut().expect("entries") {
            let p = &mut entry["resource"];
            if p.pointer("/activity/coding/0/code") == Some(&json!("acknowledgement")) {
                p["target"][0]["reference"] = json!(format!("MessageHeader/{header}"));
                p["entity"][0]["what"]["reference"] = json!(format!("MessageHeader/{acked}"));
            }
        }
        let relative = Message::encode(&resource, Format::Json).expect("encodes");
        let findings = crate::check::acknowledgement(&relative, &sent, crate::message::AckCode::Ok);
        let form = of_rule(&findings, "ack-reference-form");
        assert_eq!(form.len(), 2, "{findings:?}");
        assert!(form.iter().all(|f| f.grade == Grade::F4), "{findings:?}");
        assert!(
            of_rule(&findings, "ack-provenance")
                .iter()
                .all(|f| f.grade == Grade::Ok),
            "{findings:?}"
        );
    }

    /// FHIR R4 http.html: "UTF-8 encoding SHALL be used for FHIR instances". A FHIR XML message
    /// declared ISO-8859-1 is answered `fatal-error` with an OperationOutcome naming the rule.
    #[test]
    fn an_iso_8859_1_xml_message_is_answered_fatal_error_with_an_operationoutcome() {
        let xml = crate::fhir::json_to_xml(&letter().resource).expect("xml");
        let (_, body) = xml.split_once("?>").expect("a declaration");
        let text = format!("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>{body}");
        let latin1: Vec<u8> = text
            .chars()
            .map(|c| u8::try_from(u32::from(c)).expect("latin-1"))
            .collect();
        let message = Message::parse(latin1, None).expect("readable as latin-1");
        let ack = vendor().answer(message).expect("answers");
        assert_eq!(code(&ack), Some("fatal-error"));
        assert!(
            ack.identity
                .response
                .as_ref()
                .and_then(|r| r.details.as_ref())
                .is_some()
        );
        let outcome = crate::message::resources_of_type(&ack.resource, "OperationOutcome")
            .next()
            .map(|(_, o)| o.to_string())
            .expect("an OperationOutcome");
        assert!(outcome.contains("fhir-xml-utf8"), "{outcome}");
    }

    /// MedCom's CareCommunication 4.0.0 package example, as the bytes of a 4.0 message.
    fn example_4_0(corpus: &std::path::Path) -> Message {
        let file = std::fs::File::open(
            corpus.join("medcomfhir-website/ig-packages/carecommunication-4.0.0.package.tgz"),
        )
        .expect("the 4.0.0 package");
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        let mut bytes = Vec::new();
        for entry in archive.entries().expect("tar") {
            let mut entry = entry.expect("entry");
            let name = entry.path().expect("path").to_string_lossy().into_owned();
            if name == "package/example/Bundle-0d5b3c18-fab6-4d93-9d88-c9c8abf1f18c.json" {
                std::io::Read::read_to_end(&mut entry, &mut bytes).expect("read");
            }
        }
        Message::parse(bytes, None).expect("a 4.0 message")
    }

    /// The reference vendor acknowledges every release it has the IG for: with MedCom's 5.0
    /// folder and the 4.0.0 packages (carecommunication 4.0.0 and the core 2.4.0, messaging 2.2.0
    /// and terminology 1.7.0 its package.json depends on), MedCom's own 4.0.0 example is `ok`.
    #[test]
    fn the_vendor_acknowledges_a_4_0_message_ok_when_it_has_the_4_0_ig() {
        let corpus = crate::test_corpus();
        let p = corpus.join("medcomfhir-website/ig-packages");
        let sources = [
            corpus.join("medcomfhir-website/ig"),
            p.join("carecommunication-4.0.0.package.tgz"),
            p.join("core-2.4.0.package.tgz"),
            p.join("messaging-2.2.0.package.tgz"),
            p.join("terminology-1.7.0.package.tgz"),
        ];
        let refs: Vec<&std::path::Path> = sources.iter().map(|s| s.as_path()).collect();
        let ig = crate::validate::profile::Ig::load_all(&refs).expect("IGs");
        let mut config = VendorConfig::new(org("5790000000029", "999981000016002"));
        config.ig = Some(std::sync::Arc::new(ig));
        let v = Vendor::new(config).expect("vendor");
        let ack = v.answer(example_4_0(&corpus)).expect("answers");
        assert_eq!(
            code(&ack),
            Some("ok"),
            "{}",
            String::from_utf8_lossy(&ack.bytes)
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
