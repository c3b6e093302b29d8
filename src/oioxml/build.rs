//! Building OIOXML messages: the XDIS91 letters (with their XBIN01 binary letters) the harness
//! and the reference vendor send, and the XCTL receipts that answer them.
//!
//! Identifiers are 14 characters (`Envelope/Identifier`, `Letter/Identifier`: 1–14), made from a
//! letter and 13 digits that are new for every message. `Sent` and `Authorisation` are Danish
//! local time as OIOXML writes it (`Date`, `Time` `hh:mm`); the harness uses UTC, which the
//! format cannot tell apart.

use super::model::*;
use super::structure::is_uuid;

/// A fresh 14-character identifier: `prefix` and 13 digits.
pub fn identifier(prefix: char) -> String {
    let n = uuid::Uuid::new_v4().as_u128() % 10_000_000_000_000;
    format!("{prefix}{n:013}")
}

/// Now as OIOXML writes it.
pub fn now() -> DateTime {
    let t = time::OffsetDateTime::now_utc();
    DateTime::new(
        format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()),
        format!("{:02}:{:02}", t.hour(), t.minute()),
    )
}

/// A party registered in SOR: EAN, SOR id (`IdentifierCode` `sorkode`) and name (at most 35
/// characters).
pub fn party(ean: &str, sor_id: &str, name: &str) -> Party {
    Party {
        ean: ean.to_string(),
        identifier: sor_id.to_string(),
        identifier_code: "sorkode".to_string(),
        organisation_name: Some(name.chars().take(35).collect()),
        ..Party::default()
    }
}

/// The test patient of the built-in letters: MedCom's test CPR from its published examples,
/// never a real person.
pub fn test_patient() -> Patient {
    Patient {
        identifier: Some(PatientIdentifier::Cpr("2509479989".to_string())),
        surname: "Berggren".to_string(),
        given_name: Some("Nancy Ann Test".to_string()),
        episode_of_care_status_code: Some("ambulant".to_string()),
        ..Patient::default()
    }
}

/// A binary attachment of a letter: title, `ObjectExtensionCode` (`pdf`, `png`, …) and the bytes.
#[derive(Debug, Clone)]
pub struct BinaryAttachment {
    /// `RefDescription`.
    pub title: String,
    /// `ObjectExtensionCode`.
    pub extension: String,
    /// The object.
    pub bytes: Vec<u8>,
}

/// The `ObjectCode` for an extension: images are `billede`, PDF is `vektor_grafik`, text
/// `tekstfil`, anything else `proprietaert_indhold`.
pub fn object_code(extension: &str) -> &'static str {
    match extension {
        "jpeg" | "png" | "gif" | "tiff" | "bmp" | "pcx" => "billede",
        "pdf" => "vektor_grafik",
        "txt" | "rtf" => "tekstfil",
        _ => "proprietaert_indhold",
    }
}

/// An XDIS91 letter (new, `pluspositivkvitt`) from `sender` to `receiver` with `text` (lines
/// split at `\n`, written as `<Break/>`), and one XBIN01 per attachment, linked by
/// `Reference/BIN/ObjectIdentifier` (the UUID without hyphens in XDIS91, with them in XBIN01).
pub fn xdis91(
    sender: Party,
    receiver: Party,
    subject: &str,
    text: &str,
    attachments: &[BinaryAttachment],
) -> (Emessage, Vec<Emessage>) {
    let sent = now();
    let mut references = Vec::new();
    let mut binaries = Vec::new();
    for a in attachments {
        let id = uuid::Uuid::new_v4();
        let size = a.bytes.len().to_string();
        references.push(Reference {
            description: a.title.chars().take(70).collect(),
            target: Some(ReferenceTarget::Bin(Bin {
                object_identifier: id.simple().to_string(),
                object_code: object_code(&a.extension).to_string(),
                object_extension_code: a.extension.clone(),
                original_object_size: size.clone(),
            })),
        });
        binaries.push(Emessage {
            envelope: Envelope {
                sent: sent.clone(),
                identifier: identifier('E'),
                acknowledgement_code: AcknowledgementCode::PlusPositive,
            },
            body: Body::BinaryLetter(Xbin01 {
                letter: letter("XB0131X", "XBIN01", &sent),
                sender: sender.clone(),
                receiver: receiver.clone(),
                subject: BinarySubject::Patient(Patient {
                    episode_of_care_status_code: None,
                    ..test_patient()
                }),
                objects: vec![BinaryObject {
                    object_identifier: id.hyphenated().to_string(),
                    object_code: object_code(&a.extension).to_string(),
                    object_extension_code: a.extension.clone(),
                    original_object_size: size,
                    data: a.bytes.clone(),
                }],
            }),
            namespace: None,
        });
    }
    let letter_message = Emessage {
        envelope: Envelope {
            sent: sent.clone(),
            identifier: identifier('E'),
            acknowledgement_code: AcknowledgementCode::PlusPositive,
        },
        body: Body::ClinicalEmail(Xdis91 {
            letter: letter("XD9134L", "XDIS91", &sent),
            sender,
            receiver,
            patient: test_patient(),
            additional_information: Some(AdditionalInformation {
                priority: Some("rutine".to_string()),
                subject: Some(subject.chars().take(70).collect()),
            }),
            clinical_information: vec![text.to_string()],
            references,
        }),
        namespace: None,
    };
    (letter_message, binaries)
}

fn letter(version: &str, kind: &str, sent: &DateTime) -> Letter {
    Letter {
        identifier: identifier('L'),
        version_code: version.to_string(),
        statistical_code: kind.to_string(),
        authorisation: sent.clone(),
        type_code: kind.to_string(),
        status_code: "nytbrev".to_string(),
        episode_of_care_identifier: None,
    }
}

/// The receipt for `original`: from its receiver back to its sender, quoting its envelope,
/// parties and letter. A negative receipt gives `refuse` (code and text) for the letter.
pub fn receipt(
    original: &Emessage,
    kind: ReceiptKind,
    refuse: Option<(RefuseCode, String)>,
) -> Emessage {
    let (refuse_code, refuse_text) = match refuse {
        Some((c, t)) => (Some(c), Some(t)),
        None => (None, None),
    };
    Emessage {
        envelope: Envelope {
            sent: now(),
            identifier: identifier('E'),
            acknowledgement_code: AcknowledgementCode::MinusPositive,
        },
        body: Body::Receipt(Receipt {
            kind,
            letter: ReceiptLetter {
                identifier: identifier('K'),
                version_code: kind.version_code().to_string(),
                statistical_code: kind.standard().to_string(),
            },
            sender_ean: original.receiver_ean().to_string(),
            receiver_ean: original.sender_ean().to_string(),
            original_envelope_identifier: original.envelope.identifier.clone(),
            original_sender_ean: original.sender_ean().to_string(),
            original_receiver_ean: original.receiver_ean().to_string(),
            refuse_code: None,
            refuse_text: None,
            letters: vec![OriginalLetter {
                original_letter_identifier: original.letter_identifier().to_string(),
                original_version_code: quoted_version(if original.version_code().is_empty() {
                    implied_version(original)
                } else {
                    original.version_code()
                }),
                refuse_code,
                refuse_text,
            }],
        }),
        namespace: None,
    }
}

/// A letter's `VersionCode` as a receipt quotes it in `OriginalVersionCode`: MedCom's receipt
/// schemas allow at most 7 characters there (`OriginalVersionCodeType`, a `String_1_7`, in
/// `ValueLists.xsd` of 2004/06/01 and 2005/08/07), so the 11-character codes of the LÆ forms
/// (`XLA1211203A`) are quoted by their first 7 (`XLA1211`); every other code fits whole.
pub fn quoted_version(version: &str) -> String {
    version.chars().take(7).collect()
}

/// The VersionCode a letter's type implies, for quoting a letter that lacks its own.
fn implied_version(m: &Emessage) -> &'static str {
    match &m.body {
        Body::ClinicalEmail(_) => "XD9134L",
        Body::BinaryLetter(_) => "XB0131X",
        Body::Receipt(r) => r.kind.version_code(),
        Body::Form(f) => f.form_type().map_or("", |t| t.version_code),
    }
}

/// Whether `text` is a UUID written with or without hyphens (an XDIS91 `ObjectIdentifier`).
pub fn is_object_identifier(text: &str) -> bool {
    is_uuid(text) || uuid::Uuid::try_parse(text).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oioxml::{Encoding, check, parse, structure, write};

    fn parties() -> (Party, Party) {
        (
            party("5790000000012", "999991000016001", "medcom-harness"),
            party("5790000000029", "999981000016002", "Leverandør"),
        )
    }

    #[test]
    fn a_built_letter_and_its_binary_pass_our_structure_checks_and_match() {
        let (s, r) = parties();
        let pdf = b"%PDF-1.4\n%test\n".to_vec();
        let (letter, bins) = xdis91(
            s,
            r,
            "Emne",
            "Linje 1\nLinje 2 æøå",
            &[BinaryAttachment {
                title: "Epikrise".into(),
                extension: "pdf".into(),
                bytes: pdf,
            }],
        );
        for m in std::iter::once(&letter).chain(bins.iter()) {
            let bytes = write(m, Encoding::Iso88591);
            let back = parse(&bytes).expect("parses");
            assert_eq!(&back, m);
            let broken: Vec<_> = structure::check(&back)
                .into_iter()
                .filter(|f| f.grade != crate::finding::Grade::Ok)
                .collect();
            assert!(broken.is_empty(), "{broken:?}");
        }
        let mut matcher = check::BinMatcher::new();
        matcher.add(&letter, None);
        let found = matcher.add(&bins[0], None);
        assert!(
            found
                .iter()
                .any(|f| f.rule == "oioxml-bin-match" && f.grade == crate::finding::Grade::Ok),
            "{found:?}"
        );
        assert!(matcher.finish().is_empty());
    }

    #[test]
    fn a_built_receipt_quotes_its_original() {
        let (s, r) = parties();
        let (letter, _) = xdis91(s, r, "Emne", "Tekst", &[]);
        let positive = receipt(&letter, ReceiptKind::Positive, None);
        let found = check::receipt(positive.receipt().expect("receipt"), &letter);
        assert!(
            found.iter().all(|f| f.grade == crate::finding::Grade::Ok),
            "{found:?}"
        );
    }
}
