//! Checks across OIOXML messages: a receipt against its original, a duplicate's receipt against
//! the first one, a resend against its first send, and XDIS91 `Reference/BIN`s against XBIN01
//! binary objects.
//!
//! Rules (DOMAIN.md §4 unless said otherwise):
//!
//! - `oioxml-receipt-quotes` ([`receipt`]): the receipt quotes the original's
//!   `Envelope/Identifier`, its sender and receiver EAN, and each of its letters
//!   (`OriginalLetterIdentifier` with the letter's `VersionCode`), and no other letter.
//! - `oioxml-receipt-addressing` ([`receipt`]): the receipt goes to the original's sender and
//!   comes from its receiver (a VANS receipt, XCTL01, may come from the VANS provider).
//! - `oioxml-receipt-no-receipt` ([`receipt`]): a receipt is never answered with a receipt.
//! - `oioxml-receipt-duplicate` ([`same_receipt`]): a duplicate gets the same receipt as the
//!   first copy: same kind (never first positive, then negative: `F1`) and the same RefuseCodes
//!   (a different reason: `F3`).
//! - `oioxml-resend-identity` ([`resend`]; a receiver's matrix is [`crate::envelope::DuplicateMatrix`]): a resend has a new `Envelope/Identifier`
//!   and the same `Letter/Identifier`; the dedup key is (`Envelope/Identifier`,
//!   `Letter/Identifier`).
//! - `oioxml-bin-match`, `oioxml-bin-extension`, `oioxml-bin-size` ([`BinMatcher`]).
//!
//! The RefuseCode list and a receipt's own `minuspositivkvitt` are judged on the receipt alone by
//! [`super::structure::check`].

use crate::finding::{Finding, Grade};
use crate::rule;

use super::model::*;

/// Judges `receipt` as the answer to `original` (rules `oioxml-receipt-quotes`,
/// `oioxml-receipt-addressing`, `oioxml-receipt-no-receipt`).
pub fn receipt(receipt: &Receipt, original: &Emessage) -> Vec<Finding> {
    let at = format!("Emessage.{}", receipt.kind.element());
    let o_at = format!("{at}.OriginalEmessage");
    let mut out = Vec::new();
    if let Some(quoted) = original.receipt() {
        out.push(rule::OIOXML_RECEIPT_NO_RECEIPT.breach(format!(
            "a {} receipt answers a {} receipt (envelope `{}`); receipts are never answered",
            receipt.kind.standard(),
            quoted.kind.standard(),
            original.envelope.identifier
        )));
    }
    let mut quotes = Vec::new();
    let mut quote = |at: String, what: &str, found: &str, expected: &str| {
        if found != expected {
            quotes.push(
                rule::OIOXML_RECEIPT_QUOTES
                    .breach(format!(
                        "the receipt quotes {what} `{found}` but the original's is `{expected}`"
                    ))
                    .at(at),
            );
        }
    };
    quote(
        format!("{o_at}.OriginalEnvelopeIdentifier"),
        "the envelope identifier",
        &receipt.original_envelope_identifier,
        &original.envelope.identifier,
    );
    quote(
        format!("{o_at}.OriginalSender.EANIdentifier"),
        "the sender EAN",
        &receipt.original_sender_ean,
        original.sender_ean(),
    );
    quote(
        format!("{o_at}.OriginalReceiver.EANIdentifier"),
        "the receiver EAN",
        &receipt.original_receiver_ean,
        original.receiver_ean(),
    );
    let letter = original.letter_identifier();
    let matching: Vec<(usize, &OriginalLetter)> = receipt
        .letters
        .iter()
        .enumerate()
        .filter(|(_, l)| l.original_letter_identifier == letter)
        .collect();
    match matching.as_slice() {
        [] => quotes.push(
            rule::OIOXML_RECEIPT_QUOTES.breach(
                format!(
                    "the receipt does not quote the original's letter `{letter}` (OriginalLetterIdentifier)"
                ),
            )
            .at(format!("{o_at}.OriginalLetter")),
        ),
        [(i, quoted)] => {
            // A letter that lacks its VersionCode (refused `syntaksfejl`) is quoted with the
            // version its type implies; only a version the letter states can be held against it.
            if !original.version_code().is_empty()
                && quoted.original_version_code
                    != super::build::quoted_version(original.version_code())
            {
                quotes.push(
                    rule::OIOXML_RECEIPT_QUOTES.breach(
                        format!(
                            "the receipt quotes letter `{letter}` with version `{}` but the letter is `{}`",
                            quoted.original_version_code,
                            original.version_code()
                        ),
                    )
                    .at(format!("{o_at}.OriginalLetter[{i}].OriginalVersionCode")),
                );
            }
        }
        [_, (i, _), ..] => quotes.push(
            rule::OIOXML_RECEIPT_QUOTES.breach(
                format!("the receipt quotes letter `{letter}` {} times", matching.len()),
            )
            .at(format!("{o_at}.OriginalLetter[{i}]")),
        ),
    }
    for (i, quoted) in receipt.letters.iter().enumerate() {
        if quoted.original_letter_identifier != letter {
            quotes.push(
                rule::OIOXML_RECEIPT_QUOTES.breach(
                    format!(
                        "the receipt quotes letter `{}`, which is not in the original envelope (its letter is `{letter}`)",
                        quoted.original_letter_identifier
                    ),
                )
                .at(format!("{o_at}.OriginalLetter[{i}].OriginalLetterIdentifier")),
            );
        }
    }
    if quotes.is_empty() {
        quotes.push(rule::OIOXML_RECEIPT_QUOTES.pass(format!(
            "the receipt quotes envelope `{}`, sender `{}`, receiver `{}` and letter `{letter}`",
            original.envelope.identifier,
            original.sender_ean(),
            original.receiver_ean()
        )));
    }
    out.extend(quotes);
    out.extend(addressing(receipt, original, &at));
    out
}

fn addressing(receipt: &Receipt, original: &Emessage, at: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    if receipt.receiver_ean != original.sender_ean() {
        out.push(
            rule::OIOXML_RECEIPT_ADDRESSING
                .breach(format!(
                    "the receipt goes to `{}` but the original came from `{}`",
                    receipt.receiver_ean,
                    original.sender_ean()
                ))
                .at(format!("{at}.Receiver.EANIdentifier")),
        );
    }
    if receipt.kind != ReceiptKind::VansNegative && receipt.sender_ean != original.receiver_ean() {
        out.push(
            rule::OIOXML_RECEIPT_ADDRESSING
                .breach(format!(
                    "the receipt comes from `{}` but the original went to `{}`",
                    receipt.sender_ean,
                    original.receiver_ean()
                ))
                .at(format!("{at}.Sender.EANIdentifier")),
        );
    }
    if out.is_empty() {
        out.push(rule::OIOXML_RECEIPT_ADDRESSING.pass(format!(
            "the receipt goes back to the original's sender `{}`",
            original.sender_ean()
        )));
    }
    out
}

/// `oioxml-receipt-duplicate`: `again`, the receipt of a duplicate, is the same receipt as
/// `first`: the same kind (`F1` otherwise) and the same RefuseCodes for the envelope and for each
/// letter (`F3` otherwise). Quoting the duplicate's own envelope identifier is right, not a
/// difference ([`receipt`] checks it).
pub fn same_receipt(first: &Receipt, again: &Receipt) -> Vec<Finding> {
    if first.kind != again.kind {
        return vec![rule::OIOXML_SAME_RECEIPT.breach(
            format!(
                "the duplicate was answered with {} ({}) but the first copy with {} ({}): a duplicate gets the same receipt",
                again.kind.standard(),
                again.kind.element(),
                first.kind.standard(),
                first.kind.element()
            ),
        )];
    }
    let codes = |r: &Receipt| -> Vec<(String, Option<String>)> {
        let mut codes: Vec<(String, Option<String>)> = r
            .letters
            .iter()
            .map(|l| {
                (
                    l.original_letter_identifier.clone(),
                    l.refuse_code.as_ref().map(|c| c.as_str().to_string()),
                )
            })
            .collect();
        codes.push((
            String::new(),
            r.refuse_code.as_ref().map(|c| c.as_str().to_string()),
        ));
        codes.sort();
        codes
    };
    let (c1, c2) = (codes(first), codes(again));
    if c1 != c2 {
        let show = |codes: &[(String, Option<String>)]| -> String {
            codes
                .iter()
                .filter_map(|(letter, code)| {
                    let code = code.as_deref()?;
                    Some(if letter.is_empty() {
                        format!("envelope: `{code}`")
                    } else {
                        format!("`{letter}`: `{code}`")
                    })
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        return vec![rule::OIOXML_SAME_RECEIPT.finding(
            Grade::F3,
            format!(
                "the duplicate got a {} receipt with other RefuseCodes ({}) than the first copy ({})",
                again.kind.standard(),
                show(&c2),
                show(&c1)
            ),
        )];
    }
    vec![rule::OIOXML_SAME_RECEIPT.pass(format!(
        "the duplicate got the same {} receipt as the first copy",
        first.kind.standard()
    ))]
}

/// `oioxml-resend-identity`: `again` is a resend of `first`: the same `Letter/Identifier` in a new
/// envelope.
pub fn resend(first: &Emessage, again: &Emessage) -> Vec<Finding> {
    let mut out = Vec::new();
    if again.envelope.identifier == first.envelope.identifier {
        out.push(
            rule::OIOXML_RESEND_IDENTITY
                .breach(format!(
                    "the resend reuses Envelope/Identifier `{}`; every send gets a new one",
                    again.envelope.identifier
                ))
                .at("Emessage.Envelope.Identifier"),
        );
    }
    if again.letter_identifier() != first.letter_identifier() {
        out.push(
            rule::OIOXML_RESEND_IDENTITY.breach(
                format!(
                    "the resend has Letter/Identifier `{}` but the first send `{}`; a resend keeps the letter",
                    again.letter_identifier(),
                    first.letter_identifier()
                ),
            )
            .at(format!("Emessage.{}.Letter.Identifier", again.body.element())),
        );
    }
    if out.is_empty() {
        out.push(rule::OIOXML_RESEND_IDENTITY.pass(format!(
            "the resend keeps letter `{}` in a new envelope `{}`",
            again.letter_identifier(),
            again.envelope.identifier
        )));
    }
    out
}

/// How an `ObjectExtensionCode` compares with the bytes' magic number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extension {
    /// The bytes are what the code says; the media type the bytes were recognised as.
    Agrees(&'static str),
    /// The bytes are something else; the media type recognised, if any.
    Disagrees(Option<&'static str>),
    /// The code has no magic number the harness knows (`txt`, `scp`, `wpd`, …) and the bytes
    /// are nothing it recognises either.
    NotJudged,
}

/// Each extension code with a magic number, and the media types `infer` reports for it. `doc` and
/// `xls` share the OLE container, and `zip` covers the zip-based office formats.
const MAGIC: &[(&[&str], &[&str])] = &[
    (&["pdf"], &["application/pdf"]),
    (&["jpeg", "jpg"], &["image/jpeg"]),
    (&["png"], &["image/png"]),
    (&["gif"], &["image/gif"]),
    (&["tiff", "tif"], &["image/tiff"]),
    (&["bmp"], &["image/bmp"]),
    (&["rtf"], &["application/rtf"]),
    (&["avi"], &["video/x-msvideo"]),
    (&["mpg", "mpeg"], &["video/mpeg"]),
    (&["wav"], &["audio/x-wav"]),
    (&["mid", "midi"], &["audio/midi"]),
    (&["dcm"], &["application/dicom"]),
    (&["exe"], &["application/vnd.microsoft.portable-executable"]),
    (
        &["doc", "xls"],
        &[
            "application/msword",
            "application/vnd.ms-excel",
            "application/vnd.ms-powerpoint",
            "application/x-ole-storage",
        ],
    ),
    (
        &["zip"],
        &[
            "application/zip",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "application/vnd.oasis.opendocument.text",
            "application/vnd.oasis.opendocument.spreadsheet",
            "application/vnd.oasis.opendocument.presentation",
            "application/epub+zip",
            "application/java-archive",
        ],
    ),
];

/// Compares an `ObjectExtensionCode` (case-insensitive; `jpg`/`jpeg` and `tif`/`tiff` alike)
/// with the magic number of `bytes`.
pub fn extension(code: &str, bytes: &[u8]) -> Extension {
    let code = code.to_ascii_lowercase();
    let sniffed: Option<&'static str> = infer::get(bytes).map(|t| t.mime_type());
    match MAGIC
        .iter()
        .find(|(codes, _)| codes.contains(&code.as_str()))
    {
        Some((_, types)) => match sniffed {
            Some(found) if types.contains(&found) => Extension::Agrees(found),
            other => Extension::Disagrees(other),
        },
        None => match sniffed {
            Some(found) if MAGIC.iter().any(|(_, types)| types.contains(&found)) => {
                Extension::Disagrees(Some(found))
            }
            _ => Extension::NotJudged,
        },
    }
}

/// Whether two extension codes name the same format (`jpg`/`jpeg`, `tif`/`tiff`, any case).
fn same_extension(a: &str, b: &str) -> bool {
    let canonical = |code: &str| {
        let code = code.to_ascii_lowercase();
        match code.as_str() {
            "jpg" => "jpeg".to_string(),
            "tif" => "tiff".to_string(),
            "mpeg" => "mpg".to_string(),
            "midi" => "mid".to_string(),
            _ => code,
        }
    };
    canonical(a) == canonical(b)
}

/// An `ObjectIdentifier` as the matcher compares it: a UUID is compared by its 32 hex digits in
/// lower case, with or without hyphens; anything else exactly.
///
/// XB0131X requires a hyphenated UUID (36 characters), while XDIS91's `Reference/BIN/
/// ObjectIdentifier` allows at most 35, so senders write the same UUID without hyphens there
/// (a public MedCom mailbox implementation does exactly that).
pub fn object_key(identifier: &str) -> String {
    let compact: String = identifier.chars().filter(|c| *c != '-').collect();
    if compact.len() == 32 && compact.bytes().all(|b| b.is_ascii_hexdigit()) {
        compact.to_ascii_lowercase()
    } else {
        identifier.to_string()
    }
}

/// An XDIS91 `Reference/BIN` waiting for, or matched with, its binary object.
#[derive(Debug, Clone)]
struct PendingReference {
    key: String,
    letter: String,
    sender: String,
    receiver: String,
    bin: Bin,
    location: String,
    evidence: Option<String>,
    matched: bool,
}

/// An XBIN01 `BinaryObject` waiting for, or matched with, its reference.
#[derive(Debug, Clone)]
struct PendingObject {
    key: String,
    letter: String,
    sender: String,
    receiver: String,
    object_identifier: String,
    object_code: String,
    extension_code: String,
    size: u64,
    fingerprint: u64,
    location: String,
    evidence: Option<String>,
    matched: bool,
}

/// Matches XDIS91 `Reference/BIN`s with XBIN01 `BinaryObject`s, fed in any order.
///
/// [`BinMatcher::add`] takes each message as it arrives and returns the findings it can already
/// give: an XBIN01 object's `ObjectExtensionCode` against its bytes (`oioxml-bin-extension`) and
/// its `OriginalObjectSize` against the decoded size (`oioxml-bin-size`) at once; a match
/// (`oioxml-bin-match` OK, with the reference's own extension code and size judged against the
/// object) when the second half arrives. [`BinMatcher::finish`] reports what never found its
/// other half. A message fed twice (a resend with the same letter) is not counted twice;
/// receipts are ignored.
#[derive(Debug, Clone, Default)]
pub struct BinMatcher {
    references: Vec<PendingReference>,
    objects: Vec<PendingObject>,
}

impl BinMatcher {
    /// An empty matcher.
    pub fn new() -> BinMatcher {
        BinMatcher::default()
    }

    /// Feeds one message; `evidence` is the id of the evidence item that holds it, attached to
    /// its findings.
    pub fn add(&mut self, message: &Emessage, evidence: Option<&str>) -> Vec<Finding> {
        let evidence = evidence.map(str::to_string);
        let out = match &message.body {
            Body::ClinicalEmail(x) => self.add_letter(x, &evidence),
            Body::BinaryLetter(x) => self.add_binary(x, &evidence),
            Body::Receipt(_) | Body::Form(_) => Vec::new(),
        };
        out.into_iter()
            .map(|finding| with_evidence(finding, &evidence))
            .collect()
    }

    /// The findings for what was never matched: each reference without a binary object and each
    /// binary object without a reference (`oioxml-bin-match`).
    pub fn finish(self) -> Vec<Finding> {
        let mut out = Vec::new();
        for r in self.references.iter().filter(|r| !r.matched) {
            out.push(with_evidence(
                rule::OIOXML_BIN_MATCH.breach(
                    format!(
                        "XDIS91 letter `{}` refers to binary object `{}`, but no XBIN01 letter carried it",
                        r.letter, r.bin.object_identifier
                    ),
                )
                .at(format!("{}.ObjectIdentifier", r.location)),
                &r.evidence,
            ));
        }
        for o in self.objects.iter().filter(|o| !o.matched) {
            out.push(with_evidence(
                rule::OIOXML_BIN_MATCH.breach(
                    format!(
                        "XBIN01 letter `{}` carries binary object `{}`, but no XDIS91 letter refers to it",
                        o.letter, o.object_identifier
                    ),
                )
                .at(format!("{}.ObjectIdentifier", o.location)),
                &o.evidence,
            ));
        }
        out
    }

    /// The `ObjectIdentifier`s of references still waiting for their binary object.
    pub fn unmatched_references(&self) -> Vec<&str> {
        self.references
            .iter()
            .filter(|r| !r.matched)
            .map(|r| r.bin.object_identifier.as_str())
            .collect()
    }

    /// The `ObjectIdentifier`s of binary objects still waiting for their reference.
    pub fn unmatched_objects(&self) -> Vec<&str> {
        self.objects
            .iter()
            .filter(|o| !o.matched)
            .map(|o| o.object_identifier.as_str())
            .collect()
    }

    fn add_letter(&mut self, x: &Xdis91, evidence: &Option<String>) -> Vec<Finding> {
        let mut out = Vec::new();
        for (i, reference) in x.references.iter().enumerate() {
            let Some(bin) = reference.bin() else {
                continue;
            };
            let key = object_key(&bin.object_identifier);
            if self
                .references
                .iter()
                .any(|r| r.key == key && r.letter == x.letter.identifier)
            {
                continue;
            }
            let mut pending = PendingReference {
                key,
                letter: x.letter.identifier.clone(),
                sender: x.sender.ean.clone(),
                receiver: x.receiver.ean.clone(),
                bin: bin.clone(),
                location: format!("Emessage.ClinicalEmail.Reference[{i}].BIN"),
                evidence: evidence.clone(),
                matched: false,
            };
            if let Some(object) = self.objects.iter_mut().find(|o| o.key == pending.key) {
                object.matched = true;
                pending.matched = true;
                out.extend(
                    compare(&pending, object)
                        .into_iter()
                        .map(|f| with_evidence(f, &object.evidence)),
                );
            }
            self.references.push(pending);
        }
        out
    }

    fn add_binary(&mut self, x: &Xbin01, evidence: &Option<String>) -> Vec<Finding> {
        let mut out = Vec::new();
        for (i, object) in x.objects.iter().enumerate() {
            let location = format!("Emessage.BinaryLetter.BinaryObject[{i}]");
            let key = object_key(&object.object_identifier);
            let fingerprint = fingerprint(&object.data);
            if let Some(earlier) = self.objects.iter().find(|o| o.key == key) {
                if earlier.fingerprint != fingerprint || earlier.size != object.data.len() as u64 {
                    out.push(
                        rule::OIOXML_BIN_MATCH.breach(
                            format!(
                                "XBIN01 letter `{}` carries other bytes under ObjectIdentifier `{}` than letter `{}` did; one identifier names one object",
                                x.letter.identifier, object.object_identifier, earlier.letter
                            ),
                        )
                        .at(format!("{location}.ObjectIdentifier")),
                    );
                }
                continue;
            }
            out.extend(object_alone(object, &location));
            let mut pending = PendingObject {
                key,
                letter: x.letter.identifier.clone(),
                sender: x.sender.ean.clone(),
                receiver: x.receiver.ean.clone(),
                object_identifier: object.object_identifier.clone(),
                object_code: object.object_code.clone(),
                extension_code: object.object_extension_code.clone(),
                size: object.data.len() as u64,
                fingerprint,
                location,
                evidence: evidence.clone(),
                matched: false,
            };
            if let Some(reference) = self
                .references
                .iter_mut()
                .find(|r| r.key == pending.key && !r.matched)
            {
                reference.matched = true;
                pending.matched = true;
                out.extend(
                    compare(reference, &pending)
                        .into_iter()
                        .map(|f| with_evidence(f, &reference.evidence)),
                );
            }
            self.objects.push(pending);
        }
        out
    }
}

fn with_evidence(finding: Finding, evidence: &Option<String>) -> Finding {
    match evidence {
        Some(id) => finding.with_evidence([id.clone()]),
        None => finding,
    }
}

/// FNV-1a of the bytes: tells a resent object from a different one under the same identifier.
fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// An XBIN01 object on its own: its extension code against its bytes, its declared size against
/// the decoded one.
fn object_alone(object: &BinaryObject, location: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let code = &object.object_extension_code;
    match extension(code, &object.data) {
        Extension::Agrees(found) => out.push(
            rule::OIOXML_BIN_EXTENSION
                .pass(format!(
                    "ObjectExtensionCode `{code}` agrees with the bytes ({found})"
                ))
                .at(format!("{location}.ObjectExtensionCode")),
        ),
        Extension::Disagrees(found) => out.push(
            rule::OIOXML_BIN_EXTENSION
                .breach(format!(
                    "ObjectExtensionCode is `{code}` but the bytes are {}",
                    found.map_or_else(
                        || "no format with that signature".to_string(),
                        |f| format!("{f} by their magic number")
                    )
                ))
                .at(format!("{location}.ObjectExtensionCode")),
        ),
        Extension::NotJudged => {}
    }
    let decoded = object.data.len() as u64;
    match object.declared_size() {
        Some(size) if size == decoded => out.push(
            rule::OIOXML_BIN_SIZE.pass(
                format!("OriginalObjectSize {size} is the decoded size"),
            )
            .at(format!("{location}.OriginalObjectSize")),
        ),
        Some(size) => out.push(
            rule::OIOXML_BIN_SIZE.breach(
                format!(
                    "OriginalObjectSize is {size} bytes but Object_Base64Encoded decodes to {decoded} bytes"
                ),
            )
            .at(format!("{location}.OriginalObjectSize")),
        ),
        // Not a positive integer: a structure finding already says so.
        None => {}
    }
    out
}

/// A reference and its object: the match itself, the parties, and the reference's own codes and
/// size against the object.
fn compare(reference: &PendingReference, object: &PendingObject) -> Vec<Finding> {
    let mut out = Vec::new();
    let at = &reference.location;
    let spelled = if reference.bin.object_identifier == object.object_identifier {
        String::new()
    } else {
        format!(
            " (the same UUID, written `{}` in XDIS91)",
            reference.bin.object_identifier
        )
    };
    let mut parties = Vec::new();
    if reference.sender != object.sender {
        parties.push(format!(
            "the XBIN01 sender `{}` is not the XDIS91 sender `{}`",
            object.sender, reference.sender
        ));
    }
    if reference.receiver != object.receiver {
        parties.push(format!(
            "the XBIN01 receiver `{}` is not the XDIS91 receiver `{}`",
            object.receiver, reference.receiver
        ));
    }
    if parties.is_empty() {
        out.push(
            rule::OIOXML_BIN_MATCH
                .pass(format!(
                    "XDIS91 letter `{}` and XBIN01 letter `{}` share binary object `{}`{spelled}",
                    reference.letter, object.letter, object.object_identifier
                ))
                .at(format!("{at}.ObjectIdentifier")),
        );
    } else {
        out.push(
            rule::OIOXML_BIN_MATCH.breach(
                format!(
                    "binary object `{}` of XDIS91 letter `{}` arrived in XBIN01 letter `{}`, but {}",
                    object.object_identifier,
                    reference.letter,
                    object.letter,
                    parties.join(" and ")
                ),
            )
            .at(format!("{at}.ObjectIdentifier")),
        );
    }
    let bin = &reference.bin;
    if !same_extension(&bin.object_extension_code, &object.extension_code) {
        out.push(
            rule::OIOXML_BIN_EXTENSION
                .breach(format!(
                    "the reference says ObjectExtensionCode `{}` but the XBIN01 object `{}`",
                    bin.object_extension_code, object.extension_code
                ))
                .at(format!("{at}.ObjectExtensionCode")),
        );
    }
    if bin.object_code != object.object_code {
        out.push(
            rule::OIOXML_BIN_EXTENSION
                .breach(format!(
                    "the reference says ObjectCode `{}` but the XBIN01 object `{}`",
                    bin.object_code, object.object_code
                ))
                .at(format!("{at}.ObjectCode")),
        );
    }
    match bin.declared_size() {
        Some(size) if size == object.size => {}
        Some(size) => out.push(
            rule::OIOXML_BIN_SIZE.breach(
                format!(
                    "the reference says OriginalObjectSize {size} but the XBIN01 object decodes to {} bytes",
                    object.size
                ),
            )
            .at(format!("{at}.OriginalObjectSize")),
        ),
        None => {}
    }
    out
}

/// Judges an answer (XDIS14, XDIS16, XLA125, XLA145, XLA205, XLA215) against the letter it
/// answers ([`super::form::FormType::answers`]): the right type of answer
/// (`oioxml-answer-pair`), about the same patient, from the request's receiver back to its
/// sender (to the request's `Sender/AnswerTo` when it names one), and for XDIS14 the
/// `NotificationIdentifier` of the XDIS20 copied (`oioxml-answer-quotes`).
///
/// The LÆ answers have no element that names their request in MedCom's schemas (`LA125.xsd`
/// and the others: `Letter` is `Identifier`, `VersionCode`, `StatisticalCode`,
/// `Authorisation`, `TypeCode`), so they are paired by type, patient and parties alone.
pub fn answer(answer: &Emessage, request: &Emessage) -> Vec<Finding> {
    let (Body::Form(a), Body::Form(r)) = (&answer.body, &request.body) else {
        return vec![rule::OIOXML_ANSWER_PAIR.breach(format!(
            "`{}` and `{}` are not a home care or LÆ letter and the letter it answers",
            answer.type_code(),
            request.type_code()
        ))];
    };
    let mut out = Vec::new();
    let kind = a.form_type();
    let at = format!("Emessage.{}", answer.body.element());
    if kind.and_then(|k| k.answers) != Some(request.type_code()) {
        out.push(
            rule::OIOXML_ANSWER_PAIR
                .breach(format!(
                    "`{}` does not answer `{}`: {}",
                    a.type_code(),
                    r.type_code(),
                    super::form::FormType::by_type_code(r.type_code())
                        .map(|t| {
                            let by: Vec<&str> = t.answered_by().map(|t| t.type_code).collect();
                            if by.is_empty() {
                                format!("`{}` is not answered", t.type_code)
                            } else {
                                format!("`{}` is answered by {}", t.type_code, by.join(", "))
                            }
                        })
                        .unwrap_or_default()
                ))
                .at(format!("{at}.Letter.TypeCode")),
        );
    }
    if a.patient() != r.patient() {
        out.push(
            rule::OIOXML_ANSWER_PAIR
                .breach(format!(
                    "the answer is about patient `{}`, the {} `{}` it answers about `{}`",
                    a.patient(),
                    r.type_code(),
                    r.letter_identifier(),
                    r.patient()
                ))
                .at(format!("{at}.Patient")),
        );
    }
    let answer_to = r.root.text_at("Sender/AnswerTo/EANIdentifier");
    let back_to = if answer_to.is_empty() {
        r.sender_ean()
    } else {
        answer_to
    };
    if a.receiver_ean() != back_to {
        out.push(
            rule::OIOXML_ANSWER_PAIR
                .breach(format!(
                    "the answer goes to EAN `{}`, not back to `{back_to}` ({} of the {} it answers)",
                    a.receiver_ean(),
                    if answer_to.is_empty() { "the sender" } else { "`Sender/AnswerTo`" },
                    r.type_code()
                ))
                .at(format!("{at}.Receiver.EANIdentifier")),
        );
    }
    if a.sender_ean() != r.receiver_ean() {
        out.push(
            rule::OIOXML_ANSWER_PAIR
                .breach(format!(
                    "the answer comes from EAN `{}`, not from `{}` to whom the {} was sent",
                    a.sender_ean(),
                    r.receiver_ean(),
                    r.type_code()
                ))
                .at(format!("{at}.Sender.EANIdentifier")),
        );
    }
    if out.is_empty() {
        out.push(rule::OIOXML_ANSWER_PAIR.pass(format!(
            "{} `{}` answers {} `{}`: same patient, parties reversed",
            a.type_code(),
            a.letter_identifier(),
            r.type_code(),
            r.letter_identifier()
        )));
    }
    if let Some(quoted) = kind.and_then(|k| k.quotes) {
        let path = format!("Letter/{quoted}");
        let (mine, theirs) = (a.root.text_at(&path), r.root.text_at(&path));
        if mine != theirs || mine.is_empty() {
            out.push(
                rule::OIOXML_ANSWER_QUOTES
                    .breach(format!(
                        "`Letter/{quoted}` is `{mine}`, not the `{theirs}` of the {} `{}` it answers",
                        r.type_code(),
                        r.letter_identifier()
                    ))
                    .at(format!("{at}.Letter.{quoted}")),
            );
        } else {
            out.push(rule::OIOXML_ANSWER_QUOTES.pass(format!(
                "`Letter/{quoted}` `{mine}` quotes the {} it answers",
                r.type_code()
            )));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::{
        PDF, XBIN01, XCTL01, XCTL02, XCTL03, XDIS91, message, receipt as fixture_receipt, xbin01,
    };
    use super::*;

    fn breaches(findings: &[Finding]) -> Vec<(&str, Grade)> {
        findings
            .iter()
            .filter(|f| f.grade != Grade::Ok)
            .map(|f| (f.rule.as_str(), f.grade))
            .collect()
    }

    fn passes(findings: &[Finding]) -> Vec<&str> {
        findings
            .iter()
            .filter(|f| f.grade == Grade::Ok)
            .map(|f| f.rule.as_str())
            .collect()
    }

    /// The PNG signature and an IHDR chunk start: enough for a magic-number test.
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

    #[test]
    fn our_receipts_quote_and_address_the_xdis91_fixture() {
        let original = message(XDIS91);
        for bytes in [XCTL03, XCTL02, XCTL01] {
            let findings = receipt(&fixture_receipt(bytes), &original);
            assert_eq!(breaches(&findings), vec![]);
            assert_eq!(
                passes(&findings),
                vec!["oioxml-receipt-quotes", "oioxml-receipt-addressing"]
            );
        }
    }

    #[test]
    fn a_receipt_missing_the_letter_is_a_quotes_finding() {
        let mut r = fixture_receipt(XCTL03);
        r.letters.clear();
        let findings = receipt(&r, &message(XDIS91));
        assert_eq!(
            breaches(&findings),
            vec![("oioxml-receipt-quotes", Grade::F1)]
        );
        assert!(findings[0].message.contains("`L2405011015001`"));
    }

    #[test]
    fn a_receipt_quoting_the_wrong_envelope_is_a_quotes_finding() {
        let mut r = fixture_receipt(XCTL02);
        r.original_envelope_identifier = "E2405011015002".to_string();
        let findings = receipt(&r, &message(XDIS91));
        assert_eq!(
            breaches(&findings),
            vec![("oioxml-receipt-quotes", Grade::F1)]
        );
        assert_eq!(
            findings[0].location.as_deref(),
            Some("Emessage.NegativeReceipt.OriginalEmessage.OriginalEnvelopeIdentifier")
        );
    }

    #[test]
    fn swapped_sender_and_receiver_eans_are_quote_findings() {
        let mut r = fixture_receipt(XCTL03);
        std::mem::swap(&mut r.original_sender_ean, &mut r.original_receiver_ean);
        assert_eq!(
            breaches(&receipt(&r, &message(XDIS91))),
            vec![
                ("oioxml-receipt-quotes", Grade::F1),
                ("oioxml-receipt-quotes", Grade::F1)
            ]
        );
    }

    #[test]
    fn a_letter_not_in_the_original_and_a_wrong_version_are_quote_findings() {
        let mut r = fixture_receipt(XCTL03);
        let mut extra = r.letters[0].clone();
        extra.original_letter_identifier = "L9999".to_string();
        r.letters.push(extra);
        r.letters[0].original_version_code = "XD9133L".to_string();
        let findings = receipt(&r, &message(XDIS91));
        assert_eq!(
            breaches(&findings),
            vec![
                ("oioxml-receipt-quotes", Grade::F1),
                ("oioxml-receipt-quotes", Grade::F1)
            ]
        );
    }

    #[test]
    fn a_receipt_to_the_wrong_party_is_an_addressing_finding() {
        let mut r = fixture_receipt(XCTL03);
        r.receiver_ean = "5790000209354".to_string();
        assert_eq!(
            breaches(&receipt(&r, &message(XDIS91))),
            vec![("oioxml-receipt-addressing", Grade::F3)]
        );
    }

    #[test]
    fn answering_a_receipt_is_a_finding() {
        let answered = message(XCTL02);
        let mut r = fixture_receipt(XCTL03);
        r.original_envelope_identifier = answered.envelope.identifier.clone();
        r.letters[0].original_letter_identifier = answered.letter_identifier().to_string();
        r.letters[0].original_version_code = "XC0230Q".to_string();
        r.original_sender_ean = answered.sender_ean().to_string();
        r.original_receiver_ean = answered.receiver_ean().to_string();
        r.sender_ean = answered.receiver_ean().to_string();
        r.receiver_ean = answered.sender_ean().to_string();
        assert_eq!(
            breaches(&receipt(&r, &answered)),
            vec![("oioxml-receipt-no-receipt", Grade::F2)]
        );
    }

    #[test]
    fn a_duplicate_gets_the_same_receipt() {
        let first = fixture_receipt(XCTL02);
        let mut again = first.clone();
        again.original_envelope_identifier = "E2405011045009".to_string();
        again.letter.identifier = "K2405011046009".to_string();
        assert_eq!(
            passes(&same_receipt(&first, &again)),
            vec!["oioxml-receipt-duplicate"]
        );

        assert_eq!(
            breaches(&same_receipt(&first, &fixture_receipt(XCTL03))),
            vec![("oioxml-receipt-duplicate", Grade::F1)]
        );

        again.letters[0].refuse_code = Some(RefuseCode::Syntaksfejl);
        assert_eq!(
            breaches(&same_receipt(&first, &again)),
            vec![("oioxml-receipt-duplicate", Grade::F3)]
        );
    }

    #[test]
    fn a_resend_keeps_the_letter_in_a_new_envelope() {
        let first = message(XDIS91);
        let mut again = first.clone();
        again.envelope.identifier = "E2405011045009".to_string();
        assert_eq!(
            passes(&resend(&first, &again)),
            vec!["oioxml-resend-identity"]
        );
        assert_eq!(
            breaches(&resend(&first, &first)),
            vec![("oioxml-resend-identity", Grade::F3)]
        );
    }

    #[test]
    fn bin_arriving_after_its_xdis91_is_matched() {
        let mut matcher = BinMatcher::new();
        assert_eq!(matcher.add(&message(XDIS91), Some("ev-1")), vec![]);
        assert_eq!(
            matcher.unmatched_references(),
            vec!["3f2b8c1e9d4a4f6b8e2a7c5d1b0e9f34"]
        );
        let findings = matcher.add(&message(XBIN01), Some("ev-2"));
        assert_eq!(breaches(&findings), vec![]);
        assert_eq!(
            passes(&findings),
            vec![
                "oioxml-bin-extension",
                "oioxml-bin-size",
                "oioxml-bin-match"
            ]
        );
        let matched = findings
            .iter()
            .find(|f| f.rule == "oioxml-bin-match")
            .expect("a match");
        assert!(
            matched
                .message
                .contains("written `3f2b8c1e9d4a4f6b8e2a7c5d1b0e9f34` in XDIS91")
        );
        assert_eq!(matched.evidence, vec!["ev-1", "ev-2"]);
        assert_eq!(matcher.finish(), vec![]);
    }

    #[test]
    fn bin_arriving_before_its_xdis91_is_matched() {
        let mut matcher = BinMatcher::new();
        let first = matcher.add(&message(XBIN01), None);
        assert_eq!(
            passes(&first),
            vec!["oioxml-bin-extension", "oioxml-bin-size"]
        );
        assert_eq!(
            matcher.unmatched_objects(),
            vec!["3f2b8c1e-9d4a-4f6b-8e2a-7c5d1b0e9f34"]
        );
        let second = matcher.add(&message(XDIS91), None);
        assert_eq!(passes(&second), vec!["oioxml-bin-match"]);
        // A resend of either half is not counted again.
        assert_eq!(matcher.add(&message(XDIS91), None), vec![]);
        assert_eq!(matcher.add(&message(XBIN01), None), vec![]);
        assert_eq!(matcher.finish(), vec![]);
    }

    #[test]
    fn unmatched_references_and_objects_are_reported_at_the_end() {
        let mut matcher = BinMatcher::new();
        matcher.add(&message(XDIS91), Some("ev-1"));
        let findings = matcher.finish();
        assert_eq!(breaches(&findings), vec![("oioxml-bin-match", Grade::F2)]);
        assert_eq!(findings[0].evidence, vec!["ev-1"]);

        let mut matcher = BinMatcher::new();
        matcher.add(&message(XBIN01), None);
        assert_eq!(
            breaches(&matcher.finish()),
            vec![("oioxml-bin-match", Grade::F2)]
        );
    }

    #[test]
    fn extension_code_pdf_on_png_bytes_is_a_finding() {
        let (mut m, mut x) = xbin01();
        x.objects[0].data = PNG.to_vec();
        x.objects[0].original_object_size = PNG.len().to_string();
        m.body = Body::BinaryLetter(x);
        let findings = BinMatcher::new().add(&m, None);
        assert_eq!(
            breaches(&findings),
            vec![("oioxml-bin-extension", Grade::F2)]
        );
        assert!(
            findings[0].message.contains("image/png"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn original_object_size_that_is_not_the_decoded_size_is_a_finding() {
        let (mut m, mut x) = xbin01();
        x.objects[0].original_object_size = "629".to_string();
        m.body = Body::BinaryLetter(x);
        let findings = BinMatcher::new().add(&m, None);
        assert_eq!(breaches(&findings), vec![("oioxml-bin-size", Grade::F2)]);
    }

    #[test]
    fn the_references_own_size_and_extension_are_judged_against_the_object() {
        let mut m = message(XDIS91);
        if let Body::ClinicalEmail(x) = &mut m.body
            && let Some(ReferenceTarget::Bin(bin)) = &mut x.references[0].target
        {
            bin.original_object_size = "1024".to_string();
            bin.object_extension_code = "png".to_string();
        }
        let mut matcher = BinMatcher::new();
        matcher.add(&message(XBIN01), None);
        assert_eq!(
            breaches(&matcher.add(&m, None)),
            vec![
                ("oioxml-bin-extension", Grade::F2),
                ("oioxml-bin-size", Grade::F2)
            ]
        );
    }

    #[test]
    fn a_binary_between_other_parties_is_not_a_match() {
        let (mut m, mut x) = xbin01();
        x.receiver.ean = "5790000000005".to_string();
        m.body = Body::BinaryLetter(x);
        let mut matcher = BinMatcher::new();
        matcher.add(&message(XDIS91), None);
        assert_eq!(
            breaches(&matcher.add(&m, None)),
            vec![("oioxml-bin-match", Grade::F2)]
        );
    }

    #[test]
    fn magic_numbers_against_extension_codes() {
        assert_eq!(extension("pdf", PDF), Extension::Agrees("application/pdf"));
        assert_eq!(extension("PDF", PDF), Extension::Agrees("application/pdf"));
        assert_eq!(
            extension("pdf", PNG),
            Extension::Disagrees(Some("image/png"))
        );
        assert_eq!(extension("png", b"just text"), Extension::Disagrees(None));
        assert_eq!(
            extension("jpg", b"\xFF\xD8\xFF\xE0\0\x10JFIF\0"),
            Extension::Agrees("image/jpeg")
        );
        assert_eq!(
            extension("tif", b"II*\0\x08\0\0\0\x01\0"),
            Extension::Agrees("image/tiff")
        );
        assert_eq!(extension("txt", b"Kaere kolleger"), Extension::NotJudged);
        assert_eq!(
            extension("txt", PDF),
            Extension::Disagrees(Some("application/pdf"))
        );
    }

    #[test]
    fn uuids_match_with_or_without_hyphens() {
        assert_eq!(
            object_key("3F2B8C1E-9D4A-4F6B-8E2A-7C5D1B0E9F34"),
            object_key("3f2b8c1e9d4a4f6b8e2a7c5d1b0e9f34")
        );
        assert_ne!(object_key("OBJ-001"), object_key("OBJ001"));
    }
}
