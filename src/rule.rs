//! The catalogue of rules the harness judges, each with its default grade and its source: the
//! one verdict vocabulary of FHIR, MedCom, envelope, OIOXML and folder rules.
//!
//! Ids follow the standard wherever it names the rule: MedCom's governance numbers the
//! acknowledgement rules `KR1`–`KR7` and the reliable-messaging rules `MR…`; profile invariants keep
//! their keys (`medcom-acknowledgement-1`). Rules that the standard states only in prose get a
//! harness id of the form `<family>-<what>` and name their source document.
//!
//! Grades are MedCom's approval scale. A default grade is chosen by what the breach does to the
//! exchange: a message that can be lost or mis-correlated is `F1`, one that a receiver must reject
//! or that breaks the clinical record is `F2`, a breach a receiver can work around (or one that
//! corrupts routing metadata or statistics but not the message) is `F3`, cosmetic or advisory is
//! `F4`.
//!
//! A finding names its rule by a [`RuleId`]: a rule of this catalogue, or an invariant that a
//! loaded profile declares under its IG constraint key (`medcom-careCommunication-6`), which no
//! static list can hold. Rules make findings (`rule::KR3.breach(..)`, `.pass(..)`,
//! `.finding(grade, ..)`); those constructors live with the finding type in module `finding`, so
//! this module depends on nothing but the grade scale.

use crate::grade::Grade;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// One rule: its id, default grade, a one-line statement and the document it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Stable id used in findings and reports.
    pub id: &'static str,
    /// Default grade of a breach.
    pub grade: Grade,
    /// The rule in one sentence.
    pub statement: &'static str,
    /// Where the rule is written down.
    pub source: &'static str,
}

macro_rules! rules {
    ($( $(#[$doc:meta])* $name:ident = $id:literal, $grade:ident, $statement:literal, $source:literal; )*) => {
        $( $(#[$doc])* pub const $name: Rule = Rule { id: $id, grade: Grade::$grade, statement: $statement, source: $source }; )*
        /// Every rule in the catalogue, in declaration order.
        pub const ALL: &[Rule] = &[$($name),*];
    };
}

rules! {
    /// F1: without an acknowledgement the sender resends and the exchange cannot be trusted.
    KR1 = "KR1", F1, "Every FHIR message is acknowledged.", "MedCom governance 040 (acknowledgement rules)";
    /// F2: acknowledging an acknowledgement starts an endless ping-pong between systems.
    KR2 = "KR2", F2, "An acknowledgement is never acknowledged.", "MedCom governance 040";
    /// F1: a valid message answered with an error is lost to the receiver's users.
    KR3 = "KR3", F1, "A message without errors is acknowledged `ok`.", "MedCom governance 040";
    /// F3: a message that is never resent after a lost acknowledgement may be lost, but the
    /// receiver's side is unharmed and the sender's users can send it again by hand.
    KR7 = "KR7", F3, "A message with no acknowledgement within the agreed time is resent (at most `resend-limit` times), in a new envelope.", "MedCom governance 040 (KR7), 020/043 (reliable messaging)";
    /// F2: an invalid message acknowledged `ok` hides the error from the sender.
    KR6 = "KR6", F2, "A message that fails profile validation is acknowledged `fatal-error` (AE).", "MedCom governance 040 (KR6: fatal-error = AE); an older MedCom document swaps AE and AR: governance 040 wins by default, the `[rules] transient-error` setting chooses";
    /// F1: the sender cannot correlate the acknowledgement and will resend forever.
    ACK_RESPONSE_IDENTIFIER = "ack-response-identifier", F1,
        "`MessageHeader.response.identifier` equals the acknowledged `MessageHeader.id`.",
        "Acknowledgement IG 2.0.3, MedComAcknowledgementMessageHeader response.identifier (https://medcomfhir.dk/ig/acknowledgement/StructureDefinition-medcom-messaging-acknowledgementHeader.html); FHIR R4 MessageHeader.response.identifier";
    /// F1: a message that is not an acknowledgement cannot acknowledge anything.
    ACK_EVENT = "ack-event", F1,
        "An acknowledgement has `MessageHeader.eventCoding` = `acknowledgement-message`.",
        "Acknowledgement IG 2.0.3, MedComAcknowledgementMessageHeader eventCoding (https://medcomfhir.dk/ig/acknowledgement/StructureDefinition-medcom-messaging-acknowledgementHeader.html); CodeSystem medcom-messaging-eventCodes";
    /// F2: the sender's system cannot show the user what went wrong.
    ACK_OPERATION_OUTCOME = "medcom-acknowledgement-1", F2,
        "A `response.code` other than `ok` comes with an OperationOutcome.",
        "Acknowledgement IG 2.0.3, MedComAcknowledgementMessage, invariant medcom-acknowledgement-1 (https://medcomfhir.dk/ig/acknowledgement/StructureDefinition-medcom-messaging-acknowledgement.html)";
    /// F2: a value that is not of its datatype (a boolean written as text, a date that does not
    /// exist) cannot be read by a conformant receiver; it is rejected (KR6), in every profile
    /// version, so it is never graded down for a version mismatch.
    FHIR_DATATYPE = "fhir-datatype", F2,
        "A primitive value has its R4 datatype's JSON kind and lexical form (date, dateTime, instant, time, id, code, oid, uuid, uri, integers), and a date exists in the calendar.",
        "FHIR R4 §2.24 Data Types (the regex of each primitive), JSON representation §2.6.2";
    /// F2: the receiving system's audit trail breaks.
    ACK_PROVENANCE = "ack-provenance", F2,
        "An acknowledgement has exactly two Provenances: a copy of the acknowledged message's latest Provenance and a new one with activity `acknowledgement` whose `entity` (role `revision`) points to `MessageHeader/<acknowledged id>`.",
        "Acknowledgement IG 2.0.3, MedComAcknowledgementMessage (https://medcomfhir.dk/ig/acknowledgement/StructureDefinition-medcom-messaging-acknowledgement.html); MedCom Acknowledgement TestScripts acknowledgement-send-* (two Provenances)";
    /// F3: the acknowledgement travels to the wrong party or cannot be routed back.
    ACK_ADDRESSING = "ack-addressing", F3,
        "An acknowledgement goes back to the acknowledged message's sender: its receiver is that sender and its sender is that receiver.",
        "Acknowledgement IG 2.0.3, MedComAcknowledgementMessageHeader destination/sender (https://medcomfhir.dk/ig/acknowledgement/StructureDefinition-medcom-messaging-acknowledgementHeader.html); MedCom governance 052.2";
    /// F1: never first positive, then negative; the sender cannot know which answer holds.
    MR8 = "MR8", F1,
        "A duplicate (a resend of the same MessageHeader.id) is answered with the same acknowledgement as the first copy.",
        "MedCom governance 040 (reliable messaging), 043";
    /// F3: the resend is not a new envelope: envelope id reuse is an error at the receiver.
    RESEND_IDENTITY = "resend-identity", F3,
        "A resend has a new Bundle.id and the same MessageHeader.id, and the letter is otherwise unchanged.",
        "MedCom governance 052.2 (identity), 020/043 (reliable messaging)";
    /// F2: a receiver rejects attachments it cannot show.
    CC_ATTACHMENT_MIME = "cc-attachment-mime", F2,
        "An attachment with data has a contentType in medcom-core-attachmentMimeTypes.",
        "CareCommunication IG 5.0.2, MedComCareCommunicationCommunication payload:attachment.contentType, ValueSet medcom-core-attachmentMimeTypes (https://medcomfhir.dk/ig/terminology/ValueSet-medcom-core-attachmentMimeTypes.html)";
    /// F2: the attachment is lost.
    CC_ATTACHMENT_DATA = "cc-attachment-data", F2,
        "Attachment data is valid base64, and a declared size and hash agree with the decoded bytes.",
        "FHIR R4 Attachment (att-1, size, hash: http://hl7.org/fhir/R4/datatypes.html#Attachment); CareCommunication IG 5.0.2, MedComCareCommunicationCommunication payload:attachment.content[x].data (\"Shall be present and contain the base64 encoded content of the attachment\", https://medcomfhir.dk/ig/carecommunication/StructureDefinition-medcom-careCommunication-communication.html)";
    /// F3: the receiver cannot name the attachment to its user.
    CC_ATTACHMENT_TITLE = "cc-attachment-title", F3,
        "Every attachment has a title.",
        "CareCommunication IG 5.0.2, MedComCareCommunicationCommunication payload:attachment.content[x].title (min 1; \"it is not allowed for the system to automatically include '.filetype' in the title\", https://medcomfhir.dk/ig/carecommunication/StructureDefinition-medcom-careCommunication-communication.html)";
    /// F2: resent data duplicates documents in the receiver's record.
    CC_REPLY_NO_RESEND = "cc-reply-no-resend", F2,
        "A reply does not resend the data or url of earlier attachments (it may keep contentType and title as a reference).",
        "CareCommunication IG 5.0, MedComCareCommunicationCommunication profile description (https://medcomfhir.dk/ig/carecommunication/StructureDefinition-medcom-careCommunication-communication.html): \"When replying, the base64 content of earlier attachments is not included\" (not an invariant: medcom-careCommunication-6 is \"topic when category = other\")";
    /// F2: the forwarded letter reaches its new receiver with an attachment it cannot open. A
    /// forward that leaves a whole segment out is allowed ("all relevant message segments";
    /// MedCom's TestScript carecommunication-send-forward-partialthread forwards only the text).
    CC_FORWARD_ATTACHMENT_DATA = "cc-forward-attachment-data", F2,
        "A forwarded attachment segment includes the base64 content of its attachment (a link keeps its url), and an attachment under an earlier segment identifier keeps its bytes; a forward may leave out whole segments.",
        "CareCommunication IG 5.0, MedComCareCommunicationCommunication profile description (https://medcomfhir.dk/ig/carecommunication/StructureDefinition-medcom-careCommunication-communication.html): \"all relevant message segments must be included … when forwarding\", \"the base64-encoded content of the attachments must be included\"; profile medcom-carecommunication-attachment-identifier (\"If the attachment is edited and reattached, a new UUID shall be applied\"); MedCom TestScript carecommunication-send-forward-partialthread (payload.count() = 2)";
    /// F3: the receiver cannot show its user which earlier attachment the reply means, but
    /// nothing is lost from the record.
    CC_REPLY_ATTACHMENT_IDENTIFIER = "cc-reply-attachment-identifier", F3,
        "A reply's segment that refers to an earlier attachment (without its data) carries the identifier (medcom-core-identifier-extension) of that attachment's segment.",
        "CareCommunication IG 5.0, MedComCareCommunicationCommunication profile description (https://medcomfhir.dk/ig/carecommunication/StructureDefinition-medcom-careCommunication-communication.html): \"instead the identifier must always be included in a reply\"";
    /// F2: the conversation falls apart in the receiver's inbox.
    CC_THREAD = "cc-thread", F2,
        "A reply keeps the thread id (Communication.identifier); a forward starts a new one.",
        "CareCommunication IG 5.0.2, MedComCareCommunicationCommunication Communication.identifier (https://medcomfhir.dk/ig/carecommunication/StructureDefinition-medcom-careCommunication-communication.html); MedCom TestScripts carecommunication-send-reply-message (\"the communication.identifier is held the same\") and carecommunication-send-forward-message (\"the communication.identifier is different\")";
    /// F2: the message's history is lost.
    PROVENANCE_CHAIN = "provenance-chain", F2,
        "A follow-up message carries every earlier Provenance plus a new one that targets its MessageHeader, with activity for what it is and `entity.what` pointing to the previous message.",
        "MedCom messaging IG 4.0.2, MedComMessagingProvenance (https://medcomfhir.dk/ig/messaging/StructureDefinition-medcom-messaging-provenance.html); CareCommunication IG 5.0.2, MedComCareCommunicationProvenance entity:preceedingMessage (\"When a message is a response or a forwarding message the role shall be 'revision'\"); MedCom TestScripts carecommunication-send-reply-*/-forward-* (\"the previous MessageHeader.id is referenced in Provenance.entity.what\", \"2 Provenance instances\")";
    /// F1: the vendor did not send the message the scenario waits for.
    EXPECTED_MESSAGE = "expected-message", F1,
        "The vendor sends the message the scenario expects within the step's time limit.",
        "MedCom test protocol (the scenario's step)";
    /// F3: a golden mismatch is a deviation from MedCom's example of the message.
    GOLDEN = "golden", F3,
        "The message matches the scenario's golden message (placeholders and ignore paths aside).",
        "The scenario's golden file";
    /// F1: the vendor could not be reached or answered with an HTTP error.
    TRANSPORT = "transport", F1,
        "The vendor's endpoint accepts the message (HTTP 2xx).",
        "FHIR R4 messaging over HTTP ($process-message)";
    /// F2: a receiver's schema validation rejects the letter (a negative receipt `syntaksfejl`)
    /// or the letter loses what the breach concerns.
    OIOXML_STRUCTURE = "oioxml-structure", F2,
        "An OIOXML message has the elements, codes and lengths of its letter type and release (XDIS91, XBIN01, XCTL01/02/03, the home care letters and LÆ forms): required elements present, the release's VersionCode and TypeCode, StatusCode, codes from their lists, OrganisationName at most 35 characters. When MedCom's schema of the release ran, only what a schema cannot say is judged here.",
        "MedCom OIOXML XML Schemas (oioxml-xsd, MIT) for each release; the harness's structure rules stand in when the schemas are not available";
    /// F1: like `ack-response-identifier`: a receipt that quotes the wrong envelope, parties or
    /// letters cannot be correlated, and the sender resends or loses track of the letter.
    OIOXML_RECEIPT_QUOTES = "oioxml-receipt-quotes", F1,
        "A receipt quotes the original's Envelope/Identifier (OriginalEnvelopeIdentifier), its sender and receiver EAN, and each of its letters (OriginalLetterIdentifier, with its VersionCode), and no other letter.",
        "MedCom OIOXML XML Schemas (oioxml-xsd, MIT), 2005/08/07 release: PositiveReceipt.xsd, NegativeReceipt.xsd, NegativeVansReceipt.xsd (OriginalEmessage: OriginalEnvelopeIdentifier, OriginalSender, OriginalReceiver, OriginalLetter/OriginalLetterIdentifier, OriginalVersionCode); as ack-response-identifier for FHIR";
    /// F3: like `ack-addressing`: the receipt travels to the wrong party.
    OIOXML_RECEIPT_ADDRESSING = "oioxml-receipt-addressing", F3,
        "A receipt goes back to the original's sender: its Receiver EAN is the original's sender EAN and (except a VANS receipt) its Sender EAN the original's receiver EAN.",
        "MedCom OIOXML XML Schemas (oioxml-xsd, MIT), 2005/08/07 release: PositiveReceipt.xsd, NegativeReceipt.xsd (Sender, Receiver, OriginalSender, OriginalReceiver); MedCom governance 052.2, as ack-addressing for FHIR";
    /// F2: like `medcom-acknowledgement-1`: the sender's user cannot be told why the letter was
    /// refused.
    OIOXML_REFUSECODE = "oioxml-refusecode", F2,
        "A negative receipt (XCTL02, XCTL01) gives a RefuseCode from the list (ikke_specificeret, ukendt_lokationsnummer, problem_med_modtagerID, problem_med_version, syntaksfejl) for each letter or for the whole envelope; a positive receipt gives none.",
        "MedCom OIOXML XML Schemas (oioxml-xsd, MIT), 2005/08/07 release: NegativeReceipt.xsd, NegativeVansReceipt.xsd (RefuseCode: ikke_specificeret, ukendt_lokationsnummer, problem_med_modtagerID, problem_med_version, syntaksfejl)";
    /// F2: like KR2: answering a receipt starts an endless exchange between two systems.
    OIOXML_RECEIPT_NO_RECEIPT = "oioxml-receipt-no-receipt", F2,
        "A receipt is never answered with a receipt, and asks for none (AcknowledgementCode `minuspositivkvitt`).",
        "MedCom OIOXML XML Schemas (oioxml-xsd, MIT), 2005/08/07 release: ValueLists.xsd (Envelope/AcknowledgementCode minuspositivkvitt | pluspositivkvitt); MedCom governance 040 KR2 (an acknowledgement is never acknowledged), as for FHIR";
    /// F1: like MR8: first positive then negative leaves the sender unable to know which holds.
    OIOXML_SAME_RECEIPT = "oioxml-receipt-duplicate", F1,
        "A duplicate (the same Letter/Identifier in a new envelope) is answered with the same receipt as the first copy: the same kind and the same RefuseCodes.",
        "MedCom governance 040 (MR8) and 020/043 (reliable messaging: a duplicate gets the same answer as the first copy), applied to OIOXML receipts";
    /// F3: like `resend-identity`: envelope identifier reuse is an error at the receiver.
    OIOXML_RESEND_IDENTITY = "oioxml-resend-identity", F3,
        "A resend has a new Envelope/Identifier and the same Letter/Identifier; an Envelope/Identifier is never reused for another letter.",
        "MedCom governance 020/043 (reliable messaging: a resend goes in a new envelope; the receiver's matrix of envelope id and letter id) and 052.2; MedCom OIOXML XML Schemas (oioxml-xsd, MIT), 2005/08/07 release (Envelope/Identifier, Letter/Identifier)";
    /// F2: like `cc-attachment-data`: the attachment is lost, or a binary arrives that no letter
    /// refers to.
    OIOXML_BIN_MATCH = "oioxml-bin-match", F2,
        "Every XDIS91 Reference/BIN is matched by an XBIN01 BinaryObject with the same ObjectIdentifier, between the same sender and receiver, whichever arrives first, and every XBIN01 object by a reference.",
        "MedCom OIOXML XML Schemas (oioxml-xsd, MIT), 2005/08/07 release: Reference.xsd (Reference/BIN/ObjectIdentifier in XDIS91 ClinicalEmail) and BinaryLetter.xsd (XBIN01 BinaryObject/ObjectIdentifier)";
    /// F2: like `cc-attachment-mime`: the receiver opens the bytes with the wrong program, or
    /// cannot show them.
    OIOXML_BIN_EXTENSION = "oioxml-bin-extension", F2,
        "ObjectExtensionCode (in XBIN01 and in the XDIS91 Reference/BIN) agrees with the object's bytes (magic numbers: pdf, jpeg, png, gif, tiff, bmp, …).",
        "MedCom OIOXML XML Schemas (oioxml-xsd, MIT), 2005/08/07 release: GeneralElements.xsd ObjectExtensionCode (in BinaryLetter.xsd and Reference.xsd BIN); file signatures as the `infer` crate knows them";
    /// F2: like `cc-attachment-data`: a size that disagrees means a truncated or damaged object.
    OIOXML_BIN_SIZE = "oioxml-bin-size", F2,
        "OriginalObjectSize (in XBIN01 and in the XDIS91 Reference/BIN) is the size in bytes of the decoded Object_Base64Encoded.",
        "MedCom OIOXML XML Schemas (oioxml-xsd, MIT), 2005/08/07 release: GeneralElements.xsd OriginalObjectSize (in BinaryLetter.xsd and Reference.xsd BIN), the size of the object, i.e. of the decoded Object_Base64Encoded";
    /// F1: like KR1: without a receipt the sender resends and cannot trust the exchange.
    OIOXML_RECEIPT_RECEIVED = "oioxml-receipt-received", F1,
        "Every OIOXML letter sent with `pluspositivkvitt`, and every letter refused, gets an XCTL receipt.",
        "MedCom OIOXML XML Schemas (oioxml-xsd, MIT), 2005/08/07 release: ValueLists.xsd (AcknowledgementCode pluspositivkvitt asks for a positive receipt), PositiveReceipt.xsd (XCTL03), NegativeReceipt.xsd (XCTL02); MedCom governance 040 KR1, as for FHIR";
    /// F1 when a valid letter is refused (like KR3); the same grade for a broken letter accepted,
    /// which hides the error from the sender.
    OIOXML_RECEIPT_KIND = "oioxml-receipt-kind", F1,
        "A valid letter gets a positive receipt (XCTL03); a letter with an unknown receiver or a syntax error gets a negative one (XCTL02) with the RefuseCode for the reason.",
        "MedCom OIOXML XML Schemas (oioxml-xsd, MIT), 2005/08/07 release: PositiveReceipt.xsd (XCTL03), NegativeReceipt.xsd (XCTL02, RefuseCode ukendt_lokationsnummer, syntaksfejl); MedCom governance 040 KR3/KR6, as for FHIR";
    /// F2: a receiver validating against the profile rejects the message (KR6).
    PROFILE_CARDINALITY = "profile-cardinality", F2,
        "Every element occurs as often as its profile's `min`..`max` allow.",
        "FHIR R4 ElementDefinition.min/max; the IG's StructureDefinition snapshots";
    /// F2: a fixed value is the profile's promise about the element.
    PROFILE_FIXED = "profile-fixed", F2,
        "An element with `fixed[x]` in its profile has exactly that value.",
        "FHIR R4 ElementDefinition.fixed[x]";
    /// F2: a pattern value is how a profile pins codes and systems.
    PROFILE_PATTERN = "profile-pattern", F2,
        "An element with `pattern[x]` in its profile contains the pattern.",
        "FHIR R4 ElementDefinition.pattern[x]";
    /// F2: a code outside its required ValueSet cannot be understood by the receiver.
    PROFILE_BINDING = "profile-binding", F2,
        "A coded element with a required binding has a code from the bound ValueSet.",
        "FHIR R4 ElementDefinition.binding (strength required); the IG's ValueSets and CodeSystems";
    /// F2: slices are how MedCom tells primary from cc receivers and payload kinds apart.
    PROFILE_SLICING = "profile-slicing", F2,
        "Repeating elements fill their profile's slices within the slice cardinalities, and an item of a closed slicing fits a slice.",
        "FHIR R4 ElementDefinition.slicing; the IG's StructureDefinition snapshots";
    /// F2: a value of the wrong type or JSON shape cannot be read as FHIR.
    PROFILE_TYPE = "profile-type", F2,
        "Every element has a type its profile allows and the JSON form that type requires.",
        "FHIR R4 ElementDefinition.type; FHIR R4 JSON representation";
    /// F2: FHIR is closed: an element the type does not define is an error.
    PROFILE_UNKNOWN_ELEMENT = "profile-unknown-element", F2,
        "Every JSON property is an element of its FHIR type.",
        "FHIR R4 JSON representation; the R4 type model";
    /// F4: the harness could not judge the resource against a profile it declares.
    PROFILE_NOT_FOUND = "profile-not-found", F4,
        "Every profile a resource declares in `meta.profile` is loaded from the IG.",
        "FHIR R4 Meta.profile; the IG given by `--ig`";
    /// F4: the harness judged against another version of a profile than the message pins.
    PROFILE_VERSION = "profile-version", F4,
        "The version of a profile that the message's own profiles pin (`url|version`) is loaded.",
        "FHIR R4 canonical references (`url|version`); the IG packages' dependencies";
    /// F4: the harness could not judge an invariant (an expression the engine cannot evaluate).
    PROFILE_INVARIANT_ERROR = "profile-invariant-error", F4,
        "Every invariant of the loaded profiles can be evaluated.",
        "FHIR R4 ElementDefinition.constraint; FHIRPath";
    /// F3: a reader that is not as careful as the harness takes the file half-written.
    FOLDER_ATOMIC = "folder-atomic-write", F3,
        "A file delivered to an exchange folder is written under a temporary name and renamed when complete, never written in place under its final name.",
        "MedCom VANS folder exchange (write, then rename)";
    /// The umbrella for the envelope rules (`vans-*`, `sbdh-*`, listed in [`ENVELOPE_RULES`]),
    /// used to record that an envelope was checked and holds.
    ENVELOPE = "envelope", F2,
        "An envelope agrees with its payload (SizeInBytes, Format, Name, MCM:MIME) and validates against its XML Schema.",
        "VANSEnvelope 1.0.4 (vans-envelope-1.0.4.xsd); ehmiSBDH (MedCom dk-ehmi-sbdh: XSDs and samples); CareCommunication send test protocol 5.0.2 (the VANSEnvelope's fields)";
    /// F1: an unreadable message cannot be processed at all.
    WELL_FORMED = "well-formed", F1,
        "A message is a well-formed FHIR Bundle of type `message` with a MessageHeader first.",
        "FHIR R4 Bundle, invariant bdl-12 (\"A message must have a MessageHeader as the first resource\", http://hl7.org/fhir/R4/bundle.html); MedCom messaging IG 4.0.2, MedComMessagingMessage (Bundle.type \"Always message\"; \"Each MedCom message shall contain a MedComMessagingMessageHeader and MedComMessagingProvenance\", https://medcomfhir.dk/ig/messaging/StructureDefinition-medcom-messaging-message.html)";
    /// F2: a receiver must reject it (KR6).
    MESSAGING_2 = "medcom-messaging-2", F2,
        "There is at least one Provenance resource in a MedCom message.",
        "MedCom messaging IG 4.0.2, MedComMessagingMessage, invariant medcom-messaging-2 (https://medcomfhir.dk/ig/messaging/StructureDefinition-medcom-messaging-message.html)";
    /// F2: the message is about no one, or about two patients.
    CC_ONE_PATIENT = "medcom-careCommunication-2", F2,
        "A CareCommunication Bundle contains exactly one Patient.",
        "CareCommunication IG 5.0.2, MedComCareCommunicationMessage, invariant medcom-careCommunication-2 (https://medcomfhir.dk/ig/carecommunication/StructureDefinition-medcom-careCommunication-message.html)";
    /// F2: the thread cannot be followed across systems.
    UUIDV4 = "medcom-uuidv4", F2,
        "The thread id (Communication.identifier.value) is `urn:uuid:` + a lower-case UUID version 4.",
        "CareCommunication IG 5.0.2, MedComCareCommunicationCommunication Communication.identifier, invariant medcom-uuidv4 (https://medcomfhir.dk/ig/carecommunication/StructureDefinition-medcom-careCommunication-communication.html)";
    /// F2: the receiver cannot file the letter.
    CC_CATEGORY = "cc-category", F2,
        "Communication.category is one of the 18 codes of medcom-careCommunication-categoryCodes.",
        "CareCommunication IG 5.0.2, MedComCareCommunicationCommunication category; ValueSet medcom-careCommunication-categories and CodeSystem medcom-careCommunication-categoryCodes 1.9.0 (18 codes, https://medcomfhir.dk/ig/terminology/CodeSystem-medcom-careCommunication-categoryCodes.html)";
    /// F2: a reference that resolves nowhere leaves a hole in the message. F3 for one that finds
    /// its entry only by resource type and id (a `Type/id` from a `urn:uuid:` entry, or against
    /// another base): receivers often take it, FHIR's rules do not.
    REFERENCES_RESOLVE = "references-resolve", F2,
        "Every reference inside the message resolves to an entry of the Bundle by FHIR's Bundle rules; one that finds its entry only by resource type and id is F3.",
        "FHIR R4 Bundle, resolving references in Bundles (http://hl7.org/fhir/R4/bundle.html#references): a relative `Type/id` against the referencing entry's fullUrl base, a `urn:uuid:` only by a `urn:uuid:` fullUrl; MedCom messaging IG 4.0.2, MedComMessagingMessage (https://medcomfhir.dk/ig/messaging/StructureDefinition-medcom-messaging-message.html)";
    /// F2 for an invalid id (a receiver cannot store it); a valid non-UUID id is only a note,
    /// because the receive test case Tek-B sends such ids and receivers must accept them.
    FHIR_ID = "fhir-id", F2,
        "Bundle.id and MessageHeader.id are valid FHIR ids ([A-Za-z0-9-.]{1,64}); governance asks for UUIDs, which is a note only.",
        "FHIR R4 id datatype (http://hl7.org/fhir/R4/datatypes.html#id); MedCom governance 052.2 asks for UUIDs, but MedCom's CareCommunication receive test case Tek-B sends other valid ids and expects them accepted: MedCom's test material wins, so a non-UUID is a note";
    /// F2: a time without a zone is ambiguous across summer time and systems.
    TIME_ZONE = "time-zone", F2,
        "Every dateTime and instant with a time carries a time zone.",
        "FHIR R4 dateTime/instant; MedCom messaging IG";
    /// F2: the message's own history step is missing or wrong.
    PROVENANCE_OWN = "provenance-own", F2,
        "A Provenance targets the message's own MessageHeader, and a follow-up's revision entity points to a message whose Provenance the bundle carries.",
        "MedCom messaging IG 4.0.2, MedComMessagingProvenance (https://medcomfhir.dk/ig/messaging/StructureDefinition-medcom-messaging-provenance.html); CareCommunication IG 5.0.2, MedComCareCommunicationProvenance entity:preceedingMessage; MedCom TestScripts carecommunication-send-* (\"the target reference in Provenance equals MessageHeader.id\")";
    /// F3: the receiver cannot find the EDIFACT or OIOXML letter a message follows up, but the
    /// message itself is sound and its thread can be found by hand. The order of the two parts is
    /// the `letter-identifier` setting (MedCom's documents disagree on it).
    PROVENANCE_LETTER_IDENTIFIER = "provenance-letter-identifier", F3,
        "A Provenance entity that points to a preceding EDIFACT or OIOXML letter gives `what.identifier.value` as `[lokationsnummer]#[brevid]`: the sender's 13-digit EAN/GLN location number and the letter's identifier.",
        "MedCom CareCommunication IG 5.0, MedComCareCommunicationProvenance entity:preceedingMessage.what.identifier; MedCom messaging IG, medcom-messaging-provenance";
    /// F3: a sender that never stops resending floods the receiver with duplicates it must log and
    /// answer; each copy is still handled (MR8), so the exchange survives. The limit is the
    /// `resend-limit` setting (MedCom's documents disagree on it).
    RESEND_LIMIT = "resend-limit", F3,
        "A sender resends an unacknowledged message at most `resend-limit` times (default 2).",
        "MedCom governance 020/043 (reliable messaging: at most 2 resends), KR7 in governance 040; another MedCom document says 3: governance 020/043 wins by default, the `resend-limit` setting chooses";
    /// F2: an activity the standard does not allow for the message family makes the message meaningless to the receiver.
    ACTIVITY_ALLOWED = "activity-allowed", F2,
        "The Provenance activity of the message's own step is allowed for its family and version (CareCommunication 5.0: new, reply, forward; HospitalNotification 3.0: the admit/leave/discharge codes and their revise-/cancel- variants; Acknowledgement: acknowledgement).",
        "MedCom terminology: medcom-careCommunication-messagingActivities, medcom-hospitalNotification-messageActivities";
    /// F2 over the limit (the message will not be delivered); F4 over the warning size.
    ATTACHMENT_SIZE = "cc-attachment-size", F2,
        "The message stays under the size limit (governance: the enveloped message under 100 MB); over 50 MB (the clinical guideline) is a warning.",
        "MedCom governance (the enveloped message under 100 MB; CareCommunication send test protocol 5.0.2: the 100 MB limit including the envelope); the CareCommunication clinical guideline says 50 MB, which is a warning here: the governance limit wins";
    /// F2: the receiver cannot route an answer back.
    PARTY_IDENTIFIERS = "party-identifiers", F2,
        "The sender and receiver Organizations carry both a SOR id and an EAN/GLN, and the EAN has a valid GS1 check digit.",
        "MedCom messaging IG, medcom-messaging-organization; GS1 GLN";
    /// F2: the municipality reads the wrong stay status.
    HN_CONSISTENCY = "hn-consistency", F2,
        "A HospitalNotification's activity agrees with its Encounter: admit and end-leave -> in-progress, start-leave -> onleave with a leave period start (medcom-hospitalNotification-6), end-leave -> a leave period end, discharge -> finished with period.end, cancel -> entered-in-error; a deceased patient (MORS: the activity stays the stay's current one) -> finished with period.end; inpatient and leave -> class IMP, emergency -> EMER.",
        "HospitalNotification IG 3.0, Index (the activities and the Encounter status each gives; for a deceased patient, MORS: \"The status in the Encounter is changed from 'in-progress' to 'finished' … as it shall remain the current activity\") and MedComHospitalNotificationEncounter (medcom-hospitalNotification-6: \"When the status = 'onleave', the timestamp for beginning of a leave (extension.valuePeriod.start) shall be present\"), https://medcomfhir.dk/ig/hospitalnotification/";
    /// F2: the ack code differs from what the scenario expects for this input.
    ACK_CODE = "ack-code", F2,
        "The acknowledgement's response.code is the one the scenario expects.",
        "MedCom governance 040 (KR3, KR4, KR6)";
    /// F2 when a new message's own Provenance names none of the message's segments (MedCom's
    /// receive examples R-Tek-M and R-Tek-N, `dublicate-inv`, expect `fatal-error`); any other
    /// entity naming no segment is a note, because MedCom's own current examples (IG gfd00bc2,
    /// k7bfbc0c; send example S-Tek-C) carry such entities and are published as valid.
    PROVENANCE_PAYLOAD = "provenance-payload", F2,
        "The message's own Provenance names the payload segments it adds: an entity (role `source` or `revision`) whose `what.identifier` is the identifier (medcom-core-identifier-extension) of a `Communication.payload` segment of the message.",
        "CareCommunication IG 5.0, MedComCareCommunicationProvenance entity:payload.what.identifier (\"The identifier of the newly included Communication.payload.extension.valueIdentifier must be included here\"); CareCommunication test protocol receive examples R-Tek-M/R-Tek-N (expected fatal-error); a note where MedCom's published examples do the same (IG gfd00bc2, k7bfbc0c; S-Tek-C)";
    /// F2: a receiver that reads only regular files it owns cannot take the message at all, and
    /// one that follows the link would deliver a file the sender never wrote there.
    FOLDER_LINK = "folder-link", F2,
        "A file delivered to an exchange folder is a regular file with a UTF-8 name, not a symbolic link, FIFO, socket or device; the harness never follows or reads such an entry.",
        "MedCom VANS folder exchange (files written, then renamed); harness safety rule";
    /// F2: a receiver treats a size mismatch as damage in transport (`MSG_Damaged_durin_transport`).
    VANS_SIZE_IN_BYTES = "vans-size-in-bytes", F2,
        "`Document/SizeInBytes` equals the length in bytes of the decoded `Data`.",
        "VANSEnvelope 1.0.4 (vans-envelope-1.0.4.xsd, Document/SizeInBytes); CareCommunication send test protocol 5.0.2 (SizeInBytes)";
    /// F3: the VANS statistics count the message under the wrong kind.
    VANS_FORMAT = "vans-format", F3,
        "A FHIR message travels with `Document/Format` = `HL7`.",
        "VANSEnvelope 1.0.4 (vans-envelope-1.0.4.xsd, Document/Format: XML, EDIFACT, HL7, Binary, Other); CareCommunication send test protocol 5.0.2 (Format)";
    /// F3: the national statistics count the message under the wrong standard.
    VANS_NAME = "vans-name", F3,
        "`Document/Name` is the payload's statistical code: `MCM:FDIS91#<category>`, `MCM:FDIS20#<event>`, `MCM:FCTL#<code>` for FHIR, `MCM:<TypeCode>` for OIOXML.",
        "CodeSystem medcom-messaging-statisticalCodes 2.0.0 (https://medcomfhir.dk/ig/terminology/CodeSystem-medcom-messaging-statisticalCodes.html); CareCommunication send test protocol 5.0.2 (Name with the category postfix)";
    /// F3: the statistics count the wrong version.
    VANS_VERSION = "vans-version", F3,
        "For an OIOXML payload `Document/Version` equals the letter's `VersionCode`.",
        "VANSEnvelope 1.0.4 (vans-envelope-1.0.4.xsd, Document/Version); CareCommunication send test protocol 5.0.2 (Version); the OIOXML letter's VersionCode (MedCom OIOXML XML Schemas)";
    /// F2: the receiver reads the payload with the wrong parser.
    VANS_MIME = "vans-mime", F2,
        "A FHIR message has the service tag `MCM:MIME` = its media type (`application/fhir+xml` or `application/fhir+json`).",
        "VANSEnvelope 1.0.4 (vans-envelope-1.0.4.xsd, Transport/ServiceTag); CareCommunication send test protocol 5.0.2 (ServiceTag)";
    /// F1: the sender cannot tell which envelope the receipt is about.
    VANS_RECEIPT_ORIGINAL = "vans-receipt-original", F1,
        "An envelope receipt's `OriginalEnvelopeIdentifier` is the `EnvelopeIdentifier` of the envelope it answers.",
        "VANSEnvelope 1.0.4 (vans-envelope-1.0.4.xsd, ReceiptType/OriginalEnvelopeIdentifier)";
    /// F2: the receipt quotes another message's meta information.
    VANS_RECEIPT_MESSAGE = "vans-receipt-original-message", F2,
        "An envelope receipt's `OriginalMessage/Identifier` is the answered message's `MetaInformation/Identifier`.",
        "VANSEnvelope 1.0.4 (PositiveMessageType, NegativeMessageType)";
    /// F3: the receipt cannot be routed back.
    VANS_RECEIPT_ADDRESSING = "vans-receipt-addressing", F3,
        "An envelope receipt goes from the answered envelope's receiver back to its sender.",
        "VANSEnvelope 1.0.4; MedCom governance 052.2";
    /// F2: answering a receipt starts an endless exchange (as KR2 for acknowledgements).
    VANS_RECEIPT_OF_RECEIPT = "vans-receipt-of-receipt", F2,
        "A receipt is never answered with a receipt.",
        "VANSEnvelope 1.0.4 (ReceiptType); MedCom governance 040 KR2 (an acknowledgement is never acknowledged), applied to envelope receipts";
    /// F1: the access points cannot route the message.
    SBDH_PARTICIPANT = "sbdh-participant", F1,
        "`Sender` and `Receiver` identifiers are `0088:<GLN>` with a valid 13-digit GLN and authority `iso6523-actorid-upis`.",
        "ehmiSBDH (MedCom dk-ehmi-sbdh: ehmiPartner.xsd and the published samples)";
    /// F2: the receiver cannot correlate, deduplicate or acknowledge the message.
    SBDH_SCOPES = "sbdh-scopes", F2,
        "The header has the scopes DOCUMENTID, PROCESSID, SENDERID, RECEIVERID, MESSAGEIDENTIFIER and MESSAGEENVELOPEIDENTIFIER, and a message (not a signal) asks for `EHMI-ReceiptAcknowledgement`.",
        "ehmiSBDH (MedCom dk-ehmi-sbdh: ehmiBusinessScope.xsd and the published samples)";
    /// F2: the receiver reads the payload with the wrong parser.
    SBDH_MIME = "sbdh-mime", F2,
        "`BinaryContent/@mimeType` is the payload's media type.",
        "ehmiEDN-Business-Message-Envelope-1.2.xsd (BinaryContentType)";
    /// F1: the sender cannot tell which message the receipt is about.
    SBDH_SIGNAL_ORIGINAL = "sbdh-signal-original", F1,
        "An SBDH receipt's ebBP `OriginalMessageIdentifier` and its `ORIGINALMESSAGEIDENTIFIER` scope are the answered message's `MESSAGEIDENTIFIER`.",
        "ebBP signals 2.0.4 (SignalIdentificationInformation); ehmiSBDH receipt samples";
    /// F3: the receipt cannot be routed back.
    SBDH_RECEIPT_ADDRESSING = "sbdh-receipt-addressing", F3,
        "An SBDH receipt goes from the answered message's receiver back to its sender.",
        "ehmiSBDH receipt samples (\"sender = original receiver, receiver = original sender\")";
    /// F2: a receiver validating against MedCom's schema refuses the letter (a negative receipt
    /// `syntaksfejl`), as a VANS envelope breach would be refused.
    OIOXML_SCHEMA = "oioxml-schema", F2,
        "An OIOXML letter or receipt (XDIS91, XBIN01, XCTL01/02/03, the home care letters XDIS14/16/17/18/19/20, the LÆ forms XLA121-XLA215) is valid against MedCom's XML Schema of its namespace (the release's EMessage.xsd).",
        "MedCom OIOXML XML Schemas (oioxml-xsd, MIT)";
    /// F3: the harness cannot judge the letter beyond its schema; a receiver of the types the
    /// harness reads refuses it (`problem_med_version`), and the sender can send a known release.
    OIOXML_RELEASE = "oioxml-release", F3,
        "An OIOXML message is a letter of a release the harness reads: XDIS91, XBIN01 or XCTL01/02/03 in a namespace of MedCom's schemas for them (XDIS91 2004/06/01, 2005/08/07, 2006/07/01; XBIN01 2004/06/01, 2005/08/07, 2012/03/28; receipts 2004/06/01, 2005/08/07; XDIS14/17/19/20 and the LÆ forms 2004/06/01, 2005/08/07; XDIS16/18 2007/02/01).",
        "MedCom OIOXML XML Schemas (oioxml-xsd, MIT; its README maps letters to releases)";
    /// F3: the code still tells the sender how its message fared (MR8 judges that), but an
    /// acknowledgement copied byte for byte reuses an envelope id, which a receiver's duplicate
    /// matrix treats as an error (governance 052.2: a new Bundle.id on every send, resends too).
    ACK_DUPLICATE_RESENT = "ack-duplicate-resent", F3,
        "A duplicate's acknowledgement is resent, not copied: the same `response.code` and `response.identifier` as the first, a new `Bundle.id` and a new `Bundle.timestamp`.",
        "MedCom Acknowledgement TestScripts acknowledgement-send-ok-duplicate-hospitalnotification, -send-fatal-error-duplicate-hospitalnotification, -send-transient-error-duplicate-hospitalnotificat (\"the Bundle.id / Bundle.timestamp of the two Acknowledgements are different\"); governance 052.2";
    /// F4: the reference resolves by FHIR's rules, so nothing is lost; MedCom's TestScripts
    /// compare the strings and fail it, so it is a note.
    ACK_REFERENCE_FORM = "ack-reference-form", F4,
        "The `acknowledgement` Provenance writes `target.reference` as the acknowledgement's own `entry[0].fullUrl` and `entity.what.reference` as the acknowledged message's `entry[0].fullUrl`, in the same form (absolute or relative) as those fullUrls.",
        "MedCom Acknowledgement TestScripts acknowledgement-send-*-hospitalnotification (\"the previous MessageHeader fullURL is identical to Provenance.entity.what\", `target.reference = %resource.entry[0].fullUrl`); FHIR R4 Bundle reference resolution accepts the other form, so MedCom's scripts win only as a note";
    /// F4: the message was taken (any 2xx); MedCom's scripts expect one of two codes.
    HTTP_STATUS = "http-status", F4,
        "A POSTed message (acknowledgements included) is answered with HTTP `200` or `201`.",
        "MedCom Acknowledgement TestScripts (acknowledgement-receive-*, acknowledgement-send-*: \"the returned HTTP status is okay or created\", responseCode `200,201`); FHIR R4 http allows any 2xx, MedCom's scripts win, so another 2xx is a note";
    /// F2: a receiver that reads FHIR XML as UTF-8 (as R4 requires) misreads every non-ASCII
    /// character (æ, ø, å in names and text) or rejects the message.
    FHIR_XML_UTF8 = "fhir-xml-utf8", F2,
        "A FHIR XML message is encoded in UTF-8: no other encoding in its XML declaration (ISO-8859-1 included) and no UTF-16 byte order mark.",
        "FHIR R4 XML representation (http://hl7.org/fhir/R4/xml.html) and RESTful API, content types and encodings (http://hl7.org/fhir/R4/http.html: \"UTF-8 encoding SHALL be used for FHIR instances\")";
    /// F2: a narrative that is not XHTML cannot be shown by the receiver and does not convert to
    /// FHIR XML.
    FHIR_NARRATIVE = "fhir-narrative", F2,
        "A narrative `text.div` is one well-formed XHTML `div` in the XHTML namespace (`http://www.w3.org/1999/xhtml`), without DOCTYPE or undefined entities; in JSON it is a string holding that element.",
        "FHIR R4 Narrative (http://hl7.org/fhir/R4/narrative.html: the div is XHTML, xmlns http://www.w3.org/1999/xhtml) and JSON representation (http://hl7.org/fhir/R4/json.html: the XHTML is a string holding the div element)";
    /// F4: like `profile-not-found`, the harness could not judge the message by its own
    /// release's profiles; judging it by the current release would blame it for rules that were
    /// not yet its own.
    IG_RELEASE = "ig-release", F4,
        "A message of a release of its standard (MessageHeader.definition `…|4.0.0`) is judged against that release's IG; when no source given by `--ig` holds that release, the message gets this one finding instead of the loaded release's profile verdicts.",
        "MedCom IG packages of each release and their dependencies (e.g. medcom.fhir.dk.carecommunication 4.0.0 package.json: medcom.fhir.dk.core 2.4.0, messaging 2.2.0, terminology 1.7.0); FHIR R4 MessageHeader.definition and canonical `url|version`";
    /// F2: a municipality that reads a leave before the admission, or a discharge after a death,
    /// shows its care staff a stay that never happened.
    HN_ORDER = "hn-order", F2,
        "The messages of a stay come in the order of the stay: an admission (STIN/STAA) first, a leave (STOR) only while admitted, an end of leave (SLOR) only on leave, and after a discharge (SLHJ) or a death (MORS) nothing but a revision or a cancellation; a revision or cancellation has a message of its kind to act on.",
        "HospitalNotification IG 3.0, Index (the events of a stay: admission, leave, end of leave, discharge, death, and their revisions and cancellations), https://medcomfhir.dk/ig/hospitalnotification/";
    /// F2: the municipality acts on the wrong notification.
    HN_REVISION_TARGET = "hn-revision-target", F2,
        "A revision's Provenance (`revise-…`, entity role `revision`) and a cancellation's (`cancel-…`, entity role `removal`) point to the latest message of the stay of the kind they revise or cancel.",
        "HospitalNotification IG 3.0, Index (revisions and cancellations) and MedComMessagingProvenance `entity.role`, https://medcomfhir.dk/ig/hospitalnotification/";
    /// F2: the municipality can no longer join the notifications of one stay.
    HN_EPISODE = "hn-episode", F2,
        "Every message of a stay keeps the admission's `Encounter.episodeOfCare.identifier`.",
        "HospitalNotification IG 3.0, MedComHospitalNotificationEncounter `episodeOfCare` (\"Shall contain an episode of care identifier for the entire hospitalisation\"), https://medcomfhir.dk/ig/hospitalnotification/StructureDefinition-medcom-hospitalNotification-encounter.html";
    /// F3: the stay's timeline is wrong, but each event is still readable.
    HN_TIMES = "hn-times", F3,
        "Compared as instants: `period.start` stays the admission's through the stay, a leave starts after the admission and ends after it started, `period.end` is after `period.start`, and `Bundle.timestamp` does not go back.",
        "HospitalNotification IG 3.0, MedComHospitalNotificationEncounter `period.start`/`period.end` and the leave-period extension, https://medcomfhir.dk/ig/hospitalnotification/StructureDefinition-medcom-hospitalNotification-encounter.html";
    /// F2: the audit trail of the stay breaks.
    HN_PROVENANCE_CARRIED = "hn-provenance-carried", F2,
        "A HospitalNotification carries every Provenance of the stay's previous message, plus its own.",
        "HospitalNotification IG 3.0, Index and its example Bundles (each later message of a stay holds the earlier messages' Provenances), https://medcomfhir.dk/ig/hospitalnotification/";
    /// F2: a failed assert of a MedCom TestScript is a deviation MedCom's own test finds; a
    /// `warningOnly` assert is graded F4.
    TESTSCRIPT_ASSERT = "testscript-assert", F2,
        "The vendor's messages pass the asserts of MedCom's TestScripts (a `warningOnly` assert is a note).",
        "MedCom's FHIR TestScripts (CareCommunication 5.0.0, Acknowledgement 2.0.0, HospitalNotification), https://medcomfhir.dk/ig/carecommunicationtestscripts/ and https://medcomfhir.dk/ig/acknowledgementtestscript/";
    /// F2: an answer the request's sender cannot pair with its request is lost to the case it
    /// belongs to (a municipality's LÆ request, a hospital's notification of admission).
    OIOXML_ANSWER_PAIR = "oioxml-answer-pair", F2,
        "A home care or LÆ answer (XDIS14 or XDIS16 to XDIS20, XLA125 to XLA121, XLA145 to XLA141, XLA205 to XLA201, XLA215 to XLA211) is the type that answers its request, about the same patient, from the request's receiver back to its sender (to `Sender/AnswerTo` when the request names one).",
        "MedCom OIOXML XML Schemas 2005/08/07 (oioxml-xsd, MIT): NotificationOfAdmission.xsd (`Sender/AnswerTo`), AnswerOfAdmission.xsd, LA121.xsd-LA215.xsd (\"Blanket til Anmodning om Statusattest (LÆ121)\", \"Blanket til Statusattest (LÆ125)\", …); 2007/02/01 ReportOfAdmission.xsd";
    /// F1: without the notification's identifier the hospital cannot tell which admission the
    /// answer is about.
    OIOXML_ANSWER_QUOTES = "oioxml-answer-quotes", F1,
        "An XDIS14 answer of admission carries in `Letter/NotificationIdentifier` the `NotificationIdentifier` of the XDIS20 notification of admission it answers.",
        "MedCom OIOXML XML Schemas 2005/08/07 (oioxml-xsd, MIT): AnswerOfAdmission.xsd (`AnswerOfAdmissionLetterType/NotificationIdentifier`), NotificationOfAdmission.xsd (`NotificationOfAdmissionLetterType/NotificationIdentifier`)";
    /// F2: VANS and EHMI route by location number; one that no register knows cannot be
    /// delivered, and the receiver must reject what it cannot answer.
    REGISTRY_GLN = "registry-gln", F2,
        "The sender's and receiver's EAN/GLN location number is registered in SOR (or EER).",
        "SOR, Sundhedsvæsenets Organisationsregister, https://sor2.sum.dsdn.dk/; EHMI Endpoint Register (EER) IG, EerEndpointMessaging (identifier GLN-ID), https://medcomehmi.dk/ig/eer/";
    /// F3: the message is delivered, but the SOR id that names the unit (and counts it in
    /// MedCom's statistics) is another organisation's.
    REGISTRY_SOR_ID = "registry-sor-id", F3,
        "The SOR id names the unit whose location number is the EAN/GLN given beside it: its own, or (an organisational unit without one) its nearest ancestor's.",
        "SOR XML v1 schema, OptionalEanLocationCode/EntityInheritedIndicator, https://sor2.sum.dsdn.dk/; EER IG, EerSorOrganization, https://medcomehmi.dk/ig/eer/";
    /// F2: a receiver that has not declared the type and version cannot process the message.
    REGISTRY_ACCEPTS = "registry-accepts", F2,
        "The receiver's endpoint declares the message type and version in `payloadType` (MessageDefinition URIs of MedCom's catalogue).",
        "EHMI Endpoint Register (EER) IG, EerEndpointMessaging (payloadType from EhmiMessageDefinitionUriVS), https://medcomehmi.dk/ig/eer/";
}

/// The envelope rules (`vans-*`, `sbdh-*`) that `envelope::check` judges, a part of [`ALL`].
pub const ENVELOPE_RULES: &[Rule] = &[
    VANS_SIZE_IN_BYTES,
    VANS_FORMAT,
    VANS_NAME,
    VANS_VERSION,
    VANS_MIME,
    VANS_RECEIPT_ORIGINAL,
    VANS_RECEIPT_MESSAGE,
    VANS_RECEIPT_ADDRESSING,
    VANS_RECEIPT_OF_RECEIPT,
    SBDH_PARTICIPANT,
    SBDH_SCOPES,
    SBDH_MIME,
    SBDH_SIGNAL_ORIGINAL,
    SBDH_RECEIPT_ADDRESSING,
];

/// Looks a rule up by id.
pub fn find(id: &str) -> Option<&'static Rule> {
    ALL.iter().find(|r| r.id == id)
}

/// The id of the rule a finding concerns: a catalogue [`Rule`], or an invariant of a loaded
/// profile named by its IG constraint key.
///
/// Serialized as the plain id string (`"KR3"`, `"vans-name"`, `"medcom-careCommunication-6"`), so
/// results.json keeps its shape; read back, an id of the catalogue is the catalogue rule and any
/// other is an invariant whose IG text is unknown. Two ids are equal when their strings are.
#[derive(Debug, Clone)]
pub struct RuleId(Repr);

#[derive(Debug, Clone)]
enum Repr {
    Catalogue(Rule),
    Invariant {
        key: Box<str>,
        human: Option<Box<str>>,
    },
}

impl RuleId {
    /// The id of a catalogue rule.
    pub fn of(rule: &Rule) -> RuleId {
        RuleId(Repr::Catalogue(*rule))
    }

    /// The id of the invariant `key` of a loaded profile, with its `human` text from the IG
    /// (`ElementDefinition.constraint.human`) when known. A key the catalogue states itself
    /// (`medcom-acknowledgement-1`) is that catalogue rule.
    pub fn invariant(key: &str, human: Option<&str>) -> RuleId {
        match find(key) {
            Some(rule) => RuleId::of(rule),
            None => RuleId(Repr::Invariant {
                key: key.into(),
                human: human
                    .map(str::trim)
                    .filter(|h| !h.is_empty())
                    .map(Into::into),
            }),
        }
    }

    /// The id as findings and reports write it.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Catalogue(rule) => rule.id,
            Repr::Invariant { key, .. } => key,
        }
    }

    /// The catalogue rule, `None` for a profile invariant.
    pub fn rule(&self) -> Option<&Rule> {
        match &self.0 {
            Repr::Catalogue(rule) => Some(rule),
            Repr::Invariant { .. } => None,
        }
    }

    /// The rule in one sentence: the catalogue's statement, or the IG's `human` text of an
    /// invariant; `None` when the IG's text was not at hand (an id read back from results).
    pub fn statement(&self) -> Option<&str> {
        match &self.0 {
            Repr::Catalogue(rule) => Some(rule.statement),
            Repr::Invariant { human, .. } => human.as_deref(),
        }
    }

    /// Where the rule is written down: the catalogue's source, or for an invariant the profile
    /// that declares it in the IG given by `--ig`.
    pub fn source(&self) -> &str {
        match &self.0 {
            Repr::Catalogue(rule) => rule.source,
            Repr::Invariant { .. } => {
                "an invariant of a loaded profile (ElementDefinition.constraint in the IG given by `--ig`)"
            }
        }
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for RuleId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::ops::Deref for RuleId {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for RuleId {
    fn eq(&self, other: &RuleId) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RuleId {}

impl Hash for RuleId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialOrd for RuleId {
    fn partial_cmp(&self, other: &RuleId) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for RuleId {
    fn cmp(&self, other: &RuleId) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialEq<str> for RuleId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for RuleId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for RuleId {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<RuleId> for &str {
    fn eq(&self, other: &RuleId) -> bool {
        *self == other.as_str()
    }
}

impl Serialize for RuleId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RuleId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RuleId, D::Error> {
        let id = String::deserialize(deserializer)?;
        Ok(RuleId::invariant(&id, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_rule_id_is_unique() {
        let mut seen = HashSet::new();
        for rule in ALL {
            assert!(
                seen.insert(rule.id),
                "`{}` is in the catalogue twice",
                rule.id
            );
        }
    }

    #[test]
    fn every_rule_states_itself_and_names_its_source() {
        for rule in ALL {
            assert!(!rule.id.trim().is_empty(), "a rule without an id");
            assert!(
                !rule.statement.trim().is_empty(),
                "`{}` has no statement",
                rule.id
            );
            assert!(
                !rule.source.trim().is_empty(),
                "`{}` has no source",
                rule.id
            );
        }
    }

    #[test]
    fn no_rule_source_cites_an_internal_file() {
        // Rule sources cite MedCom's documents (issue 14 asks the same): never the harness's own
        // notes.
        for rule in ALL {
            for internal in ["DOMAIN.md", "DESIGN.md", "STYLE.md", "HELPERS.md"] {
                assert!(
                    !rule.source.contains(internal),
                    "`{}` cites `{internal}`: {}",
                    rule.id,
                    rule.source
                );
            }
        }
    }

    #[test]
    fn envelope_rules_are_in_the_one_catalogue() {
        for rule in ENVELOPE_RULES {
            assert_eq!(find(rule.id), Some(rule), "`{}`", rule.id);
        }
    }

    #[test]
    fn rule_id_serializes_as_the_plain_id_string() {
        let id = RuleId::of(&VANS_NAME);
        assert_eq!(serde_json::to_string(&id).expect("json"), "\"vans-name\"");
        let back: RuleId = serde_json::from_str("\"vans-name\"").expect("json");
        assert_eq!(back.rule(), Some(&VANS_NAME));
    }

    #[test]
    fn an_invariant_key_is_an_id_with_the_igs_text() {
        let id = RuleId::invariant(
            "medcom-careCommunication-6",
            Some("There shall be one title"),
        );
        assert_eq!(id, "medcom-careCommunication-6");
        assert_eq!(id.rule(), None);
        assert_eq!(id.statement(), Some("There shall be one title"));
        let back: RuleId = serde_json::from_str("\"medcom-careCommunication-6\"").expect("json");
        assert_eq!(back, id);
        assert_eq!(back.statement(), None);
        // A key the catalogue states itself is the catalogue rule.
        assert_eq!(
            RuleId::invariant("medcom-acknowledgement-1", None).rule(),
            Some(&ACK_OPERATION_OUTCOME)
        );
    }
}
