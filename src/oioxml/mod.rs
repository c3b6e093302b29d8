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
//!   for the negative ones a `RefuseCode` and `RefuseText`;
//! - the home care <-> hospital letters (XDIS14, XDIS16, XDIS17, XDIS18, XDIS19, XDIS20) and the
//!   LÆ forms (XLA121/125, XLA141/145, XLA165, XLA201/205, XLA211/215) as [`form::Form`]: one
//!   table row and one template per type, the letter kept as a tree (see [`form`]).
//!
//! [`parse()`] reads bytes (ISO-8859-1 or UTF-8 by the XML declaration, namespaces checked,
//! DOCTYPE refused), [`write()`] writes them back in one fixed form (byte for byte for files in
//! that form), [`structure::check`] judges one message on its own, and [`check`] judges messages
//! against each other: a receipt against its original ([`check::receipt`]), a duplicate's
//! receipt against the first ([`check::same_receipt`]), a resend ([`check::resend`],
//! [`crate::envelope::DuplicateMatrix`]) and references against binary objects ([`check::BinMatcher`]).
//!
//! # Sources: MedCom's own XML Schemas
//!
//! The facts are DOMAIN.md §4 (classic OIOXML), §1 (the families and the XBIN01 link) and §8
//! (what statistics count: [`Emessage::type_code`], [`Emessage::version_code`],
//! [`Emessage::statistical_code`]). MedCom's own XML Schemas for these letters are public now
//! (`oioxml-xsd/` in the corpus, MIT): [`schema`] validates every message the harness sends,
//! receives or is given against the schema of its namespace, read at run time, and our writers
//! are tested against them with `xmllint`. The hand-written checks in [`structure`] predate the
//! schemas; they now stand in only where no schema ran, and otherwise judge what a schema cannot
//! say (GS1 check digits, SOR ids, refuse codes by receipt kind, receipts quoting letters).
//!
//! # Namespaces
//!
//! Each letter is read in every release of MedCom's schemas that carries it ([`RELEASES`]):
//! XDIS91 in 2004/06/01, 2005/08/07 (`XD9133L`) and [`XDIS91_NAMESPACE`] (2006/07/01,
//! `XD9134L`); XBIN01 in 2004/06/01, 2005/08/07 (`XB0130X`) and [`XBIN01_NAMESPACE`]
//! (2012/03/28, `XB0131X`); the receipts in 2004/06/01 and [`RECEIPT_NAMESPACE`] (2005/08/07).
//! The harness writes the newest release of each and writes a message it read back in the
//! namespace it came in ([`Emessage::namespace`]). Every element must be in its root's
//! namespace; an `Emessage` of any other release or letter is [`OioxmlError::UnknownRelease`].

pub mod build;
pub mod check;
mod error;
pub mod form;
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
pub use model::{NAMESPACE_2004, NAMESPACE_2007, RELEASES, release_version};
pub use parse::parse;
pub use write::{Encoding, write};

#[cfg(test)]
mod tests;
