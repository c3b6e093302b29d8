//! The reference vendor's classic OIOXML answers: XCTL receipts for the letters it receives, by
//! the receiver's duplicate matrix on (Envelope/Identifier, Letter/Identifier), and the XDIS91
//! letters with XBIN01 binaries it is instructed to send, and the home care letters and LÆ forms
//! ([`crate::oioxml::form`]) in both roles: it receipts those it receives and, on instruction,
//! sends any of them, an answer answering the letter of the type it answers.

use std::collections::VecDeque;

use super::Fault;
use super::fhir::{ANSWERED_ENTRIES, MATRIX_ENVELOPES};
use super::recent::Recent;
use super::vendor::Vendor;
use crate::envelope::{DuplicateKey, DuplicateMatrix, DuplicateVerdict};

/// What the reference vendor remembers of classic OIOXML letters: the receiver's matrix on
/// (Envelope/Identifier, Letter/Identifier) for the newest [`MATRIX_ENVELOPES`] envelopes, and
/// the receipt it gave for each of the newest [`ANSWERED_ENTRIES`] dedup keys and letters, as
/// for FHIR messages: bounded, so `serve` under load keeps a bounded memory. A duplicate of a
/// letter whose receipt is forgotten is judged as a new letter.
pub(super) struct LetterState {
    matrix: DuplicateMatrix,
    by_key: Recent<crate::oioxml::Emessage, crate::oioxml::DedupKey>,
    by_letter: Recent<crate::oioxml::Emessage>,
    /// The last party that sent a letter: where `send-letter` instructions send to.
    last_sender: Option<crate::oioxml::Party>,
    /// The newest [`ANSWERED_ENTRIES`] home care and LÆ letters received, oldest first: what an
    /// instructed answer answers.
    forms: VecDeque<crate::oioxml::form::Form>,
    /// How many forms it keeps.
    max_forms: usize,
}

impl Default for LetterState {
    fn default() -> LetterState {
        LetterState::bounded(MATRIX_ENVELOPES, ANSWERED_ENTRIES)
    }
}

impl LetterState {
    /// An empty memory of the newest `envelopes` envelopes in the matrix and the newest
    /// `receipts` receipts (per dedup key and per letter) and forms, the oldest forgotten first.
    /// Receipts are small (a few KB); their count bounds them.
    fn bounded(envelopes: usize, receipts: usize) -> LetterState {
        LetterState {
            matrix: DuplicateMatrix::bounded(envelopes),
            by_key: Recent::keyed(receipts, usize::MAX),
            by_letter: Recent::new(receipts, usize::MAX),
            last_sender: None,
            forms: VecDeque::new(),
            max_forms: receipts.max(1),
        }
    }
}

impl Vendor {
    /// The XCTL receipt for an arriving OIOXML message, by the receiver's matrix: a repeat gets
    /// the receipt again, a duplicate the first copy's receipt; a new letter is refused
    /// `ukendt_lokationsnummer` when it is not addressed to this vendor's EAN, `syntaksfejl` when
    /// it breaks the structure, and otherwise gets a positive receipt when it asks for one.
    /// Receipts are never receipted.
    pub(super) fn receipt_for(
        &self,
        letter: &crate::oioxml::Emessage,
        bytes: &[u8],
    ) -> Option<crate::oioxml::Emessage> {
        use crate::oioxml::{Body, ReceiptKind, RefuseCode, build};
        if letter.is_receipt() {
            return None;
        }
        let fault = self.config.fault;
        let mut state = self.letters.lock().ok()?;
        if let Body::ClinicalEmail(x) = &letter.body {
            state.last_sender = Some(x.sender.clone());
        }
        if let Body::Form(f) = &letter.body {
            if state.forms.len() >= state.max_forms {
                state.forms.pop_front();
            }
            state.forms.push_back(f.clone());
        }
        let key = letter.dedup_key();
        let verdict = state
            .matrix
            .record(&DuplicateKey::new(&key.envelope, &key.letter));
        if let Some(earlier) = match verdict {
            DuplicateVerdict::ResendOriginalResponse => state.by_key.get(&key).cloned(),
            DuplicateVerdict::Duplicate => state.by_letter.get(&key.letter).cloned(),
            DuplicateVerdict::Process | DuplicateVerdict::EnvelopeIdReused => None,
        } {
            return (fault != Some(Fault::NoReceipt)).then_some(earlier);
        }
        // MedCom's schema of the letter's release, and the structure rules a schema cannot say;
        // without the schemas the structure rules alone.
        let errors: Vec<String> =
            crate::oioxml::schema::judge(self.config.schemas.as_ref(), bytes, letter)
                .into_iter()
                .filter(|f| !f.message.starts_with("note:"))
                .filter(|f| f.grade >= crate::finding::Grade::F2)
                .map(|f| f.message)
                .collect();
        // The fault: a home care or LÆ letter that breaks its schema is taken as valid.
        let accepts_broken =
            fault == Some(Fault::FormWrongReceipt) && matches!(letter.body, Body::Form(_));
        let refuse = if letter.receiver_ean() != self.config.identity.ean {
            Some((
                RefuseCode::parse("ukendt_lokationsnummer"),
                format!("EAN {} er ikke kendt her", letter.receiver_ean()),
            ))
        } else if verdict == DuplicateVerdict::EnvelopeIdReused {
            Some((
                RefuseCode::parse("ikke_specificeret"),
                format!(
                    "Envelope/Identifier {} er brugt før til et andet brev",
                    key.envelope
                ),
            ))
        } else if !errors.is_empty() && !accepts_broken {
            Some((
                RefuseCode::parse("syntaksfejl"),
                errors.join("; ").chars().take(200).collect(),
            ))
        } else {
            None
        };
        if refuse.is_none() && !letter.wants_positive_receipt() {
            return None;
        }
        let kind = if refuse.is_some() {
            ReceiptKind::Negative
        } else {
            ReceiptKind::Positive
        };
        let refuse = refuse.map(|(code, text)| {
            if fault == Some(Fault::NegativeReceiptBadRefusecode) {
                (RefuseCode::parse("ukendt_fejl"), text)
            } else {
                (code, text)
            }
        });
        let mut receipt = build::receipt(letter, kind, refuse);
        if let Body::Receipt(r) = &mut receipt.body {
            if fault == Some(Fault::ReceiptWrongEnvelopeId) {
                r.original_envelope_identifier = build::identifier('E');
            }
            if fault == Some(Fault::ReceiptMissingLetter) {
                r.letters.clear();
            }
        }
        state.by_key.insert(key.clone(), receipt.clone(), 0);
        // A letter keeps the receipt of its first copy.
        if state.by_letter.get(&key.letter).is_none() {
            state.by_letter.insert(key.letter, receipt.clone(), 0);
        }
        (fault != Some(Fault::NoReceipt)).then_some(receipt)
    }

    /// Sends a classic XDIS91 letter with a PDF (as XBIN01) to the last party that sent this
    /// vendor a letter, or the harness's default identity.
    pub(super) fn send_letter(&self, outbox: &std::path::Path) -> Result<String, String> {
        use crate::oioxml::{Body, build};
        let to = self
            .letters
            .lock()
            .ok()
            .and_then(|s| s.last_sender.clone())
            .unwrap_or_else(|| {
                build::party(
                    "5790000000012",
                    "999991000016001",
                    "medcom-harness testafsender",
                )
            });
        let me = build::party(
            &self.config.identity.ean,
            &self.config.identity.sor_id,
            &self.config.identity.name,
        );
        let pdf = super::pdf::simple_pdf("Epikrise fra referenceleverandoeren");
        let (mut letter, mut bins) = build::xdis91(
            me,
            to,
            "Epikrise",
            "Kære kolleger\nVedlagt epikrise.\nMed venlig hilsen\nReferenceleverandøren",
            &[build::BinaryAttachment {
                title: "Epikrise".into(),
                extension: "pdf".into(),
                bytes: pdf,
            }],
        );
        if self.has(Fault::BinSizeMismatch) {
            let wrong =
                |size: &mut String| *size = (size.parse::<u64>().unwrap_or(0) + 17).to_string();
            if let Body::ClinicalEmail(x) = &mut letter.body {
                for r in &mut x.references {
                    if let Some(crate::oioxml::ReferenceTarget::Bin(b)) = &mut r.target {
                        wrong(&mut b.original_object_size);
                    }
                }
            }
            for bin in &mut bins {
                if let Body::BinaryLetter(b) = &mut bin.body {
                    for o in &mut b.objects {
                        wrong(&mut o.original_object_size);
                    }
                }
            }
        }
        // ISO-8859-1, as many systems still write, so the receiver's decoding is exercised.
        let route = self.outbox_route(outbox, true);
        for m in std::iter::once(&letter).chain(bins.iter()) {
            route
                .write_letter(m, crate::oioxml::Encoding::Iso88591, self.next_file())
                .map_err(|e| e.to_string())?;
        }
        Ok(format!(
            "wrote XDIS91 `{}` with {} XBIN01 letter(s) to {}",
            letter.letter_identifier(),
            bins.len(),
            outbox.display()
        ))
    }

    /// Sends a home care letter or LÆ form of type `kind` from this vendor. An answer answers
    /// the received letter with `Letter/Identifier` `of` (empty: the last one received of the
    /// type it answers) and goes back to its sender (`Sender/AnswerTo` when it names one);
    /// any other letter goes to the last party that sent this vendor a letter, or the harness's
    /// default identity.
    pub(super) fn send_form(
        &self,
        outbox: &std::path::Path,
        kind: &'static crate::oioxml::form::FormType,
        of: &str,
    ) -> Result<String, String> {
        use crate::oioxml::form::{self, Addressee};
        let (request, last) = {
            let state = self
                .letters
                .lock()
                .map_err(|_| "state poisoned".to_string())?;
            let request = kind.answers.map(|answers| {
                state
                    .forms
                    .iter()
                    .rev()
                    .find(|f| {
                        f.type_code() == answers && (of.is_empty() || f.letter_identifier() == of)
                    })
                    .cloned()
                    .ok_or_else(|| {
                        format!(
                            "the reference vendor received no {answers}{} to answer with {}",
                            if of.is_empty() {
                                String::new()
                            } else {
                                format!(" `{of}`")
                            },
                            kind.type_code
                        )
                    })
            });
            let last = state
                .forms
                .back()
                .map(|f| {
                    (
                        f.sender_ean().to_string(),
                        f.root.text_at("Sender/Identifier").to_string(),
                    )
                })
                .or_else(|| {
                    state
                        .last_sender
                        .as_ref()
                        .map(|p| (p.ean.clone(), p.identifier.clone()))
                });
            (request.transpose()?, last)
        };
        let to = match &request {
            Some(r) => {
                let answer_to = r.root.text_at("Sender/AnswerTo/EANIdentifier");
                Addressee {
                    ean: if answer_to.is_empty() {
                        r.sender_ean().to_string()
                    } else {
                        answer_to.to_string()
                    },
                    sor_id: r.root.text_at("Sender/Identifier").to_string(),
                    name: String::new(),
                }
            }
            None => {
                let (ean, sor_id) = last.unwrap_or_else(|| {
                    ("5790000000012".to_string(), "999991000016001".to_string())
                });
                Addressee {
                    ean,
                    sor_id,
                    name: String::new(),
                }
            }
        };
        let me = Addressee {
            ean: self.config.identity.ean.clone(),
            sor_id: self.config.identity.sor_id.clone(),
            name: self.config.identity.name.clone(),
        };
        let mut letter = form::build(kind, &me, &to, request.as_ref());
        if let crate::oioxml::Body::Form(f) = &mut letter.body {
            if self.has(Fault::FormAnswerUnquoted) && request.is_some() {
                if kind.quotes.is_some() {
                    f.root.set(
                        "Letter/NotificationIdentifier",
                        &crate::oioxml::build::identifier('N'),
                    );
                } else {
                    // Another CPR than the request's: the answer is about someone else.
                    f.root.set("Patient/CivilRegistrationNumber", "0101709996");
                }
            }
            if self.has(Fault::FormBreaksSchema) {
                f.root.remove("Letter/StatisticalCode");
            }
            if self.has(Fault::FormWrongVersioncode) {
                let other = form::FORM_TYPES
                    .iter()
                    .find(|t| t.releases == kind.releases && t.type_code != kind.type_code)
                    .map_or("XD9134L", |t| t.version_code);
                f.root.set("Letter/VersionCode", other);
            }
        }
        self.outbox_route(outbox, true)
            .write_letter(&letter, crate::oioxml::Encoding::Iso88591, self.next_file())
            .map_err(|e| e.to_string())?;
        Ok(format!(
            "wrote {} `{}`{} to {}",
            kind.type_code,
            letter.letter_identifier(),
            request
                .map(|r| format!(" answering {} `{}`", r.type_code(), r.letter_identifier()))
                .unwrap_or_default(),
            outbox.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::VendorConfig;
    use super::*;
    use crate::oioxml::{Emessage, build};

    fn vendor() -> Vendor {
        Vendor::new(VendorConfig::new(crate::template::Organization {
            ean: "5790000000029".into(),
            sor_id: "999981000016002".into(),
            name: "Modtager".into(),
        }))
        .expect("vendor")
    }

    /// A new XDIS91 letter to `v`, asking for a positive receipt, with its bytes.
    fn letter(v: &Vendor) -> (Emessage, Vec<u8>) {
        let me = &v.config.identity;
        let (letter, _) = build::xdis91(
            build::party("5790000000012", "999991000016001", "Afsender"),
            build::party(&me.ean, &me.sor_id, &me.name),
            "Epikrise",
            "Kære kolleger",
            &[],
        );
        let bytes = crate::oioxml::write(&letter, crate::oioxml::Encoding::Utf8);
        (letter, bytes)
    }

    /// The same letter in a new envelope: a resend after a lost receipt.
    fn resend(letter: &Emessage) -> Emessage {
        let mut again = letter.clone();
        again.envelope.identifier = build::identifier('E');
        again
    }

    fn receipt_id(receipt: Option<Emessage>) -> String {
        receipt.expect("a receipt").envelope.identifier
    }

    /// MedCom's receiver matrix (governance 020/043, MR8): a resend gets the first copy's
    /// receipt while the vendor remembers the letter; past the bound the oldest letter is
    /// forgotten, and its resend is judged as a new letter (a receipt of its own).
    #[test]
    fn past_the_bound_the_oldest_letter_is_forgotten_but_a_duplicate_within_it_is_answered() {
        let v = vendor();
        *v.letters.lock().expect("state") = LetterState::bounded(2, 2);
        let letters: Vec<(Emessage, Vec<u8>)> = (0..3).map(|_| letter(&v)).collect();
        let firsts: Vec<String> = letters
            .iter()
            .map(|(l, bytes)| receipt_id(v.receipt_for(l, bytes)))
            .collect();
        {
            let state = v.letters.lock().expect("state");
            assert_eq!(state.matrix.len(), 2);
            assert!(
                state
                    .by_letter
                    .get(letters[0].0.letter_identifier())
                    .is_none()
            );
        }
        let (newest, bytes) = &letters[2];
        assert_eq!(
            receipt_id(v.receipt_for(&resend(newest), bytes)),
            firsts[2],
            "a duplicate within the bound gets the first copy's receipt"
        );
        assert_eq!(
            receipt_id(v.receipt_for(newest, bytes)),
            firsts[2],
            "the same envelope again gets its receipt again"
        );
        let (oldest, bytes) = &letters[0];
        assert_ne!(
            receipt_id(v.receipt_for(&resend(oldest), bytes)),
            firsts[0],
            "the oldest letter was forgotten: its resend gets a new receipt"
        );
    }
}
