//! Classic OIOXML messages: the XDIS91 correspondence letter, the XBIN01 binary letter and the
//! XCTL01/02/03 receipts, read, written and judged.
//!
//! # What is modelled
//!
//! An [`Emessage`] is an `Envelope` (`Sent` date and time, `Identifier`, `AcknowledgementCode`
//! `pluspositivkvitt`/`minuspositivkvitt`) and one letter ([`Body`]):
//!
//! - `ClinicalEmail` ([`Xdis91`], `XD9134L`): `Letter`, `Sender`, `Receiver`, `Patient`,
//!   `AdditionalInformation`, `ClinicalInformation/Text01` (with `<Break/>`), and `Reference`s,
//!   whose `BIN` names a binary object sent as XBIN01;
//! - `BinaryLetter` ([`Xbin01`], `XB0131X`): `Letter`, `Sender`, `Receiver`, `Patient` (or
//!   `SystemInformation`) and up to 10 `BinaryObject`s with their base64 bytes decoded;
//! - `PositiveReceipt`, `NegativeReceipt`, `NegativeVansReceipt` ([`Receipt`]; XCTL03 `XC0330Q`,
//!   XCTL02 `XC0230Q`, XCTL01 `XC0130Q`): the quoted envelope, sender, receiver and letters, and
//!   for the negative ones a `RefuseCode` and `RefuseText`.
//!
//! [`parse()`] reads bytes (ISO-8859-1 or UTF-8 by the XML declaration, namespaces checked,
//! DOCTYPE refused), [`write()`] writes them back in one fixed form (byte for byte for files in
//! that form), [`structure::check`] judges one message on its own, and [`check`] judges messages
//! against each other: a receipt against its original ([`check::receipt`]), a duplicate's
//! receipt against the first ([`check::same_receipt`]), a resend ([`check::resend`],
//! [`check::Seen`]) and references against binary objects ([`check::BinMatcher`]).
//!
//! # Sources, and why the structure is our own
//!
//! The facts are DOMAIN.md §4 (classic OIOXML), §1 (the families and the XBIN01 link) and §8
//! (what statistics count: [`Emessage::type_code`], [`Emessage::version_code`],
//! [`Emessage::statistical_code`]). No official XDIS91/XCTL schema or instance is public from
//! MedCom, so the structure here, the checks and the fixtures under `tests/fixtures/oioxml/` are
//! the harness's own, written from those facts. Where DOMAIN.md leaves something open (element
//! order, lengths, code lists, the XBIN01 namespace), we followed a public third-party copy of
//! MedCom's schemas (`glasdam/edifact_converter`, `data/xml/Schemas/`) and say so where it
//! matters; it is not a MedCom publication, and nothing is copied from it.
//!
//! # Namespaces
//!
//! XDIS91 is in [`XDIS91_NAMESPACE`] and the receipts in [`RECEIPT_NAMESPACE`] (DOMAIN.md §4).
//! XBIN01, which DOMAIN.md gives no namespace, is read and written in [`XBIN01_NAMESPACE`]
//! (`http://rep.oio.dk/medcom.dk/xml/schemas/2012/03/28/`), the namespace of the `XB0131X`
//! schema; the older `XB0130X` form in the receipts' namespace is refused with a namespace error.
//! Every element must be in its root's namespace.

pub mod build;
pub mod check;
mod error;
mod model;
mod parse;
pub mod schema;
pub mod structure;
mod write;

pub use error::OioxmlError;
pub use model::{
    AcknowledgementCode, AdditionalInformation, Bin, BinaryObject, BinarySubject, Body, DateTime,
    DedupKey, Emessage, Envelope, Letter, OriginalLetter, Party, Patient, PatientIdentifier,
    RECEIPT_NAMESPACE, Receipt, ReceiptKind, ReceiptLetter, Reference, ReferenceTarget, RefuseCode,
    XBIN01_NAMESPACE, XDIS91_NAMESPACE, Xbin01, Xdis91,
};
pub use model::{NAMESPACE_2004, RELEASES, release_version};
pub use parse::parse;
pub use write::{Encoding, write};

#[cfg(test)]
mod tests;
