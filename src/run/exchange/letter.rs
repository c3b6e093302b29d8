//! The classic OIOXML steps of an exchange: XDIS91 letters with XBIN01 binaries out, XCTL
//! receipts back, and letters from the vendor with the harness's receipts. They travel only
//! through exchange folders, each file in a VANSEnvelope (`Format` XML, `Name` `MCM:<TypeCode>`).

use std::time::Instant;

use super::capture::{Capture, Item};
use super::{Exchange, StepResult, Stop};
use crate::oioxml::build::{self, BinaryAttachment};
use crate::oioxml::{Body, Emessage, Encoding, ReceiptKind, check, schema};
use crate::rule;
use crate::run::outcome::Direction;
use crate::scenario::{self, ExpectLetter, ExpectReceipt, ReceiptStep, Resend, SendLetter};
use crate::transport::{Parcel, Received, WriteMode};

/// The `ObjectExtensionCode` of a MIME type.
fn extension_of(content_type: &str) -> Option<&'static str> {
    Some(match content_type {
        "application/pdf" => "pdf",
        "image/png" => "png",
        "image/jpeg" => "jpeg",
        "image/gif" => "gif",
        "image/tiff" => "tiff",
        "image/bmp" => "bmp",
        "text/plain" => "txt",
        _ => return None,
    })
}

/// Checks a letter or receipt the harness is about to send (`payload`, the `Emessage` as it goes
/// into the envelope; `label` names it) against MedCom's schema of its release. The harness
/// never sends what MedCom's schema refuses: a schema error in its own letter is the harness's
/// error (the scenario errs, the run ends 2), never a finding against the vendor. Without schemas,
/// or for a release the schema folder lacks, nothing is checked.
///
/// # Errors
/// A sentence naming the letter, the release and libxml2's first errors.
fn own_letter_schema(
    schemas: Option<&crate::envelope::SchemaFiles>,
    payload: &[u8],
    label: &str,
) -> Result<(), String> {
    match schema::validate(schemas, payload) {
        schema::Outcome::Validated {
            namespace, report, ..
        } if !report.errors.is_empty() => {
            let errors: Vec<String> = report
                .errors
                .iter()
                .take(3)
                .map(ToString::to_string)
                .collect();
            Err(format!(
                "the harness's own {label} is not valid against MedCom's OIOXML schema of `{namespace}`, so it was not sent (a harness error, not the vendor's): {}",
                errors.join("; ")
            ))
        }
        _ => Ok(()),
    }
}

impl Exchange<'_> {
    /// A received letter or receipt judged on its own: MedCom's schema of its release (the run's
    /// schema folder: `schemas`, else `$MEDCOM_CORPUS`, resolved once by the command line) and the
    /// structure rules a schema cannot say; without the schemas the structure rules alone, with a
    /// note ([`schema::judge`]).
    fn judge_alone(&self, received: &Received, message: &Emessage) -> Vec<crate::finding::Finding> {
        schema::judge(self.env.schemas.as_ref(), &received.bytes, message)
    }

    fn letter_folder(&self) -> Result<crate::transport::FolderLayout, Stop> {
        self.env.folder.clone().ok_or_else(|| {
            Stop::Skip("classic OIOXML letters travel through exchange folders: run with `--target DIR` (or against the embedded reference vendor)".into())
        })
    }

    fn captured_letter(&self, name: &str) -> Result<Emessage, Stop> {
        self.captures.letter(name).cloned().ok_or_else(|| {
            Stop::Skip(format!(
                "`{name}` was not captured: the step that should have produced it got nothing"
            ))
        })
    }

    fn capture_letter(&mut self, name: &str, m: &Emessage, evidence: &str) {
        self.captures
            .insert(name, Capture::new(Item::Letter(m.clone()), evidence));
    }

    /// Writes one OIOXML message into the vendor's inbox in a VANSEnvelope; returns the evidence id.
    /// `checked`: whether MedCom's schema must accept it first ([`own_letter_schema`]); `false`
    /// only for a letter the scenario breaks on purpose (`syntax-error`) and its resends.
    fn drop_letter(
        &mut self,
        m: &Emessage,
        result: &mut StepResult,
        checked: bool,
    ) -> Result<String, Stop> {
        let layout = self.letter_folder()?;
        let seq = self.env.inbox.next_send();
        let label = format!(
            "{} `{}` (Envelope `{}`)",
            m.type_code(),
            m.letter_identifier(),
            m.envelope.identifier
        );
        let parcel = Parcel::letter(m, Encoding::Iso88591, seq);
        if checked {
            own_letter_schema(self.env.schemas.as_ref(), &parcel.payload, &label)
                .map_err(Stop::Error)?;
        }
        self.within_size_limit(parcel.bytes.len(), "enveloped letter")?;
        if let Err(e) = parcel.write(&layout.inbox, WriteMode::Atomic) {
            return Err(Stop::Error(format!(
                "the harness could not write the letter into the vendor's inbox: {e}"
            )));
        }
        let ev = self.add_evidence(
            Direction::Sent,
            label,
            "application/xml".into(),
            parcel.payload,
        );
        result.evidence.push(ev.clone());
        let env_ev = self.add_evidence(
            Direction::Sent,
            format!("VANSEnvelope carrying {ev}"),
            "application/xml".into(),
            parcel.bytes,
        );
        result.evidence.push(env_ev);
        Ok(ev)
    }

    pub(super) async fn send_letter(&mut self, l: &SendLetter) -> Result<StepResult, Stop> {
        self.letter_folder()?;
        if let Some(kind) = l
            .letter_type
            .as_deref()
            .and_then(crate::oioxml::form::FormType::by_type_code)
        {
            return self.send_form(l, kind).await;
        }
        let c = &self.env.config;
        let sender = build::party(&c.harness.ean, &c.harness.sor_id, &c.harness.name);
        let receiver = build::party(
            l.receiver_ean.as_deref().unwrap_or(&c.vendor.ean),
            &c.vendor.sor_id,
            &c.vendor.name,
        );
        let mut attachments = Vec::new();
        for a in &l.attachments {
            let file = a
                .file
                .as_ref()
                .map(|f| self.dir.join(f))
                .unwrap_or_default();
            let bytes = std::fs::read(&file).map_err(|e| {
                Stop::Error(format!(
                    "failed to read attachment `{}`: {e}",
                    file.display()
                ))
            })?;
            let content_type = a
                .content_type
                .clone()
                .or_else(|| infer::get(&bytes).map(|t| t.mime_type().to_string()))
                .unwrap_or_default();
            let extension = extension_of(&content_type)
                .ok_or_else(|| Stop::Error(format!("attachment `{}`: no ObjectExtensionCode for `{content_type}`; give `content-type` (application/pdf, image/png, …)", file.display())))?;
            attachments.push(BinaryAttachment {
                title: a.title.clone(),
                extension: extension.to_string(),
                bytes,
            });
        }
        let subject = l
            .subject
            .clone()
            .unwrap_or_else(|| format!("Testbrev {}", self.scenario.id));
        let text = l.text.clone().unwrap_or_else(|| {
            format!("Testbrev fra medcom-harness\nScenarie {}", self.scenario.id)
        });
        let (mut letter, bins) = build::xdis91(sender, receiver, &subject, &text, &attachments);
        if l.syntax_error
            && let Body::ClinicalEmail(x) = &mut letter.body
        {
            // An empty required element is left out when written: a syntax error to refuse.
            x.letter.version_code.clear();
        }
        let mut result = StepResult::new(format!(
            "sent XDIS91 `{}` as `{}` with {} XBIN01 letter(s)",
            letter.letter_identifier(),
            l.as_,
            bins.len()
        ));
        // The binaries go first, as many systems send them: the receiver must match them whichever
        // arrives first.
        for (i, bin) in bins.iter().enumerate() {
            let ev = self.drop_letter(bin, &mut result, true)?;
            self.capture_letter(&format!("{}-bin{}", l.as_, i + 1), bin, &ev);
        }
        let ev = self.drop_letter(&letter, &mut result, !l.syntax_error)?;
        self.capture_letter(&l.as_, &letter, &ev);
        Ok(result)
    }

    /// A home care letter or LÆ form from the harness to the vendor, from our template
    /// ([`crate::oioxml::form::build`]); with `answers`, answering that captured vendor letter.
    async fn send_form(
        &mut self,
        l: &SendLetter,
        kind: &'static crate::oioxml::form::FormType,
    ) -> Result<StepResult, Stop> {
        use crate::oioxml::form::{self, Addressee};
        let request = match &l.answers {
            Some(name) => match self.captured_letter(name)?.body {
                Body::Form(f) => Some(f),
                _ => {
                    return Err(Stop::Error(format!(
                        "`answers = \"{name}\"` is not a home care letter or LÆ form"
                    )));
                }
            },
            None => None,
        };
        let c = &self.env.config;
        let sender = Addressee {
            ean: c.harness.ean.clone(),
            sor_id: c.harness.sor_id.clone(),
            name: c.harness.name.clone(),
        };
        let receiver = Addressee {
            ean: l
                .receiver_ean
                .clone()
                .unwrap_or_else(|| c.vendor.ean.clone()),
            sor_id: c.vendor.sor_id.clone(),
            name: c.vendor.name.clone(),
        };
        let mut letter = form::build(kind, &sender, &receiver, request.as_ref());
        if l.syntax_error
            && let Body::Form(f) = &mut letter.body
        {
            f.root.remove("Letter/VersionCode");
        }
        let mut result = StepResult::new(format!(
            "sent {} `{}` ({}) as `{}`",
            kind.type_code,
            letter.letter_identifier(),
            kind.title,
            l.as_
        ));
        let ev = self.drop_letter(&letter, &mut result, !l.syntax_error)?;
        self.capture_letter(&l.as_, &letter, &ev);
        Ok(result)
    }

    /// A letter sent again: a new Envelope/Identifier and the same letter (or the very same
    /// envelope with `same-envelope`).
    pub(super) async fn resend_letter(&mut self, r: &Resend) -> Result<StepResult, Stop> {
        let mut again = self.captured_letter(&r.of)?;
        // A letter broken on purpose is resent as it was; any other is checked again.
        let first = Parcel::letter(&again, Encoding::Iso88591, 0);
        let checked = own_letter_schema(self.env.schemas.as_ref(), &first.payload, "").is_ok();
        if !r.same_envelope {
            again.envelope.identifier = build::identifier('E');
        }
        let name = r.as_.clone().unwrap_or_else(|| format!("{}-resend", r.of));
        let mut result = StepResult::new(format!(
            "resent `{}` as `{name}`: Envelope `{}`, Letter `{}`",
            r.of,
            again.envelope.identifier,
            again.letter_identifier()
        ));
        let ev = self.drop_letter(&again, &mut result, checked)?;
        self.capture_letter(&name, &again, &ev);
        Ok(result)
    }

    pub(super) async fn expect_receipt(&mut self, r: &ExpectReceipt) -> Result<StepResult, Stop> {
        self.letter_folder()?;
        let original = self.captured_letter(&r.for_)?;
        let within = self.within(r.within);
        let (envelope_id, letter_id) = (
            original.envelope.identifier.clone(),
            original.letter_identifier().to_string(),
        );
        let found = self
            .env
            .inbox
            .claim(within, |x: &Received| {
                x.letter
                    .as_ref()
                    .and_then(Emessage::receipt)
                    .is_some_and(|rc| {
                        rc.original_envelope_identifier == envelope_id
                            || rc
                                .letters
                                .iter()
                                .any(|l| l.original_letter_identifier == letter_id)
                    })
            })
            .await;
        let mut result = StepResult::new(format!(
            "waited up to {} for the receipt of `{}`",
            humantime::format_duration(within),
            r.for_
        ));
        let Some(received) = found else {
            result.findings.push(
                rule::OIOXML_RECEIPT_RECEIVED.breach(format!(
                    "no receipt for `{}` (Envelope `{envelope_id}`, Letter `{letter_id}`) within {}",
                    r.for_, humantime::format_duration(within)))
                .with_evidence(self.captures.get(&r.for_).map(|c| c.evidence.clone())),
            );
            return Ok(result);
        };
        let Some(message) = received.letter.clone() else {
            return Err(Stop::Error("a claimed receipt without its letter".into()));
        };
        let Some(receipt) = message.receipt().cloned() else {
            return Err(Stop::Error("a claimed receipt that is not one".into()));
        };
        let ev = self.received_evidence(
            &received,
            format!("{} receipt for `{}`", receipt.kind.standard(), r.for_),
            &mut result,
        );
        result.summary = format!(
            "received {} ({:?}) for `{}`",
            receipt.kind.standard(),
            receipt.kind,
            r.for_
        );
        // A duplicate is answered with the first copy's receipt, which quotes the first envelope:
        // judge the quote against the copy it names.
        let quoted = self
            .captures
            .letters()
            .find(|m| {
                !m.is_receipt()
                    && m.letter_identifier() == original.letter_identifier()
                    && m.envelope.identifier == receipt.original_envelope_identifier
            })
            .cloned()
            .filter(|_| r.same_as.is_some())
            .unwrap_or_else(|| original.clone());
        let mut findings = check::receipt(&receipt, &quoted);
        findings.extend(self.judge_alone(&received, &message));
        findings.extend(crate::check::receipt_kind(
            &receipt,
            r.expected_kind() == scenario::ReceiptExpectation::Negative,
            r.expected_refuse_code(),
        ));
        if let Some(same) = &r.same_as {
            let first = self.captured_letter(same)?;
            if let Some(first) = first.receipt() {
                findings.extend(check::same_receipt(first, &receipt));
            }
        }
        if let Some(golden) = &r.golden {
            let actual = crate::message::Message {
                bytes: received.bytes.clone(),
                format: crate::message::Format::Xml,
                resource: serde_json::Value::Null,
                identity: crate::message::Identity::default(),
            };
            let (f, d) = self.golden(golden, &actual)?;
            findings.extend(f);
            result.diffs.extend(d);
        }
        result
            .findings
            .extend(findings.into_iter().map(|f| f.with_evidence([ev.clone()])));
        let name = r
            .as_
            .clone()
            .unwrap_or_else(|| format!("{}-receipt", r.for_));
        self.capture_letter(&name, &message, &ev);
        Ok(result)
    }

    pub(super) async fn expect_letter(&mut self, l: &ExpectLetter) -> Result<StepResult, Stop> {
        self.letter_folder()?;
        if let Some(kind) = l
            .letter_type
            .as_deref()
            .and_then(crate::oioxml::form::FormType::by_type_code)
        {
            return self.expect_form(l, kind).await;
        }
        let within = self.within(l.within);
        let deadline = Instant::now() + within;
        let found = self
            .env
            .inbox
            .claim(within, |x: &Received| {
                matches!(
                    x.letter.as_ref().map(|m| &m.body),
                    Some(Body::ClinicalEmail(_))
                )
            })
            .await;
        let mut result = StepResult::new(format!(
            "waited up to {} for an XDIS91 letter",
            humantime::format_duration(within)
        ));
        let Some(received) = found else {
            result.findings.push(rule::EXPECTED_MESSAGE.breach(format!(
                "no XDIS91 letter arrived within {}",
                humantime::format_duration(within)
            )));
            return Ok(result);
        };
        let Some(letter) = received.letter.clone() else {
            return Err(Stop::Error("a claimed letter without its content".into()));
        };
        let ev = self.received_evidence(
            &received,
            format!("XDIS91 `{}`", letter.letter_identifier()),
            &mut result,
        );
        result.summary = format!("received XDIS91 `{}`", letter.letter_identifier());
        let mut findings = self.judge_alone(&received, &letter);
        let mut matcher = check::BinMatcher::new();
        findings.extend(matcher.add(&letter, Some(&ev)));
        // The XBIN01 letters it refers to, whenever they arrive within the same time limit.
        let wanted: Vec<String> = match &letter.body {
            Body::ClinicalEmail(x) => x
                .references
                .iter()
                .filter_map(|r| r.bin())
                .map(|b| check::object_key(&b.object_identifier))
                .collect(),
            _ => Vec::new(),
        };
        for (i, key) in wanted.iter().enumerate() {
            let left = deadline.saturating_duration_since(Instant::now());
            let bin = self
                .env
                .inbox
                .claim(left, |x: &Received| {
                    match x.letter.as_ref().map(|m| &m.body) {
                        Some(Body::BinaryLetter(b)) => b
                            .objects
                            .iter()
                            .any(|o| &check::object_key(&o.object_identifier) == key),
                        _ => false,
                    }
                })
                .await;
            if let Some(bin_received) = bin
                && let Some(bin) = bin_received.letter.clone()
            {
                let bev = self.received_evidence(
                    &bin_received,
                    format!("XBIN01 `{}`", bin.letter_identifier()),
                    &mut result,
                );
                findings.extend(
                    self.judge_alone(&bin_received, &bin)
                        .into_iter()
                        .map(|f| f.with_evidence([bev.clone()])),
                );
                findings.extend(matcher.add(&bin, Some(&bev)));
                self.capture_letter(&format!("{}-bin{}", l.as_, i + 1), &bin, &bev);
            }
        }
        findings.extend(matcher.finish());
        result.findings.extend(findings.into_iter().map(|f| {
            if f.evidence.is_empty() {
                f.with_evidence([ev.clone()])
            } else {
                f
            }
        }));
        self.capture_letter(&l.as_, &letter, &ev);
        Ok(result)
    }

    /// Waits for a home care letter or LÆ form of type `kind` from the vendor, judges it on its
    /// own (MedCom's schema and the structure rules) and, with `answers`, against the letter of
    /// the harness it answers ([`check::answer`]).
    async fn expect_form(
        &mut self,
        l: &ExpectLetter,
        kind: &'static crate::oioxml::form::FormType,
    ) -> Result<StepResult, Stop> {
        let within = self.within(l.within);
        let element = kind.element;
        let found = self
            .env
            .inbox
            .claim(within, |x: &Received| {
                x.letter
                    .as_ref()
                    .is_some_and(|m| matches!(&m.body, Body::Form(f) if f.root.name == element))
            })
            .await;
        let mut result = StepResult::new(format!(
            "waited up to {} for an {} letter ({})",
            humantime::format_duration(within),
            kind.type_code,
            kind.title
        ));
        let Some(received) = found else {
            result.findings.push(rule::EXPECTED_MESSAGE.breach(format!(
                "no {} letter ({}) arrived within {}",
                kind.type_code,
                kind.title,
                humantime::format_duration(within)
            )));
            return Ok(result);
        };
        let Some(letter) = received.letter.clone() else {
            return Err(Stop::Error("a claimed letter without its content".into()));
        };
        let ev = self.received_evidence(
            &received,
            format!("{} `{}`", kind.type_code, letter.letter_identifier()),
            &mut result,
        );
        result.summary = format!(
            "received {} `{}`",
            kind.type_code,
            letter.letter_identifier()
        );
        let mut findings = self.judge_alone(&received, &letter);
        if let Some(name) = &l.answers {
            let request = self.captured_letter(name)?;
            findings.extend(check::answer(&letter, &request));
        }
        result
            .findings
            .extend(findings.into_iter().map(|f| f.with_evidence([ev.clone()])));
        self.capture_letter(&l.as_, &letter, &ev);
        Ok(result)
    }

    pub(super) async fn receipt(&mut self, r: &ReceiptStep) -> Result<StepResult, Stop> {
        let letter = self.captured_letter(&r.for_)?;
        let mut result = StepResult::new(format!(
            "sent a positive receipt for `{}` and its binaries",
            r.for_
        ));
        let mut originals = vec![letter];
        let mut n = 1;
        while let Some(bin) = self.captures.letter(&format!("{}-bin{n}", r.for_)).cloned() {
            originals.push(bin);
            n += 1;
        }
        for original in originals.iter().filter(|m| m.wants_positive_receipt()) {
            let receipt = build::receipt(original, ReceiptKind::Positive, None);
            self.drop_letter(&receipt, &mut result, true)?;
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::process::Command;

    const XDIS91: &[u8] = include_bytes!("../../../tests/fixtures/oioxml/xdis91.xml");

    fn files() -> crate::envelope::SchemaFiles {
        crate::envelope::SchemaFiles::in_corpus(&crate::test_corpus())
    }

    /// `xmllint --noout --nonet --schema` on MedCom's EMessage.xsd of the 2006/07/01 release: the
    /// independent oracle's verdict.
    fn xmllint_accepts(bytes: &[u8]) -> bool {
        let file: PathBuf = std::env::temp_dir().join(format!(
            "medcom-own-letter-{}-{}.xml",
            std::process::id(),
            bytes.len()
        ));
        std::fs::write(&file, bytes).expect("temp file");
        let status = Command::new("xmllint")
            .args(["--noout", "--nonet", "--schema"])
            .arg(files().oioxml.join("2006/07/01/EMessage.xsd"))
            .arg(&file)
            .output()
            .expect("xmllint runs (apt-get install libxml2-utils)")
            .status;
        let _ = std::fs::remove_file(&file);
        status.success()
    }

    #[test]
    fn an_own_letter_valid_against_medcoms_schema_is_sent() {
        assert!(xmllint_accepts(XDIS91), "the oracle accepts the fixture");
        assert_eq!(
            own_letter_schema(Some(&files()), XDIS91, "XDIS91 `L1`"),
            Ok(())
        );
    }

    #[test]
    fn an_own_letter_medcoms_schema_refuses_is_a_harness_error() {
        // StatusCode is an enumeration in MedCom's schema (nytbrev, ...); `ukendt` is not in it.
        let text = String::from_utf8_lossy(XDIS91).into_owned();
        let broken = text
            .replacen(
                "<StatusCode>nytbrev</StatusCode>",
                "<StatusCode>ukendt</StatusCode>",
                1,
            )
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
            .collect::<Vec<u8>>();
        assert!(!xmllint_accepts(&broken), "the oracle refuses it");
        let e =
            own_letter_schema(Some(&files()), &broken, "XDIS91 `L1`").expect_err("a harness error");
        assert!(e.contains("harness's own XDIS91 `L1`"), "{e}");
        assert!(e.contains("2006/07/01"), "{e}");
    }

    #[test]
    fn without_schemas_an_own_letter_is_sent_unchecked() {
        assert_eq!(own_letter_schema(None, b"<Emessage/>", "XDIS91"), Ok(()));
    }
}
