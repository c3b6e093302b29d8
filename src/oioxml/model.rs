//! The classic OIOXML messages the harness reads and writes, as plain data.
//!
//! One [`Emessage`] is one envelope with one letter ([`Body`]): an XDIS91 correspondence letter
//! ([`Xdis91`]), an XBIN01 binary letter ([`Xbin01`]) or an XCTL01/02/03 receipt ([`Receipt`]).
//! Element names follow the XML (DOMAIN.md §4); the field docs give the element each field holds.
//!
//! The model holds everything a well-formed message in our structure can say, including values
//! that break the rules, so that [`super::structure`] can report them as findings:
//!
//! - a required text element that is missing is an empty string, and [`super::write`] leaves an
//!   element out when its required text is empty (the harness makes a "missing element" fault by
//!   emptying the field);
//! - codes from closed lists keep unknown values ([`AcknowledgementCode::Other`],
//!   [`RefuseCode::Other`]); codes from longer lists (`StatusCode`, `IdentifierCode`,
//!   `ObjectExtensionCode`, …) are strings checked against our lists;
//! - numbers and dates are kept as written (`OriginalObjectSize`, `Date`, `Time`), so a malformed
//!   one is a finding and a well-formed one round-trips byte for byte.
//!
//! What the model cannot hold (an unknown element, elements out of order, a second copy of a
//! single element, invalid base64) is a parse error instead (see [`super::parse`]).

use serde::{Deserialize, Serialize};

/// `Emessage`: the envelope and its one letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Emessage {
    /// `Envelope`.
    pub envelope: Envelope,
    /// The letter: `ClinicalEmail`, `BinaryLetter` or one of the receipts.
    pub body: Body,
    /// The namespace (release) the message was read in, when it is not the current one of its
    /// letter ([`Body::namespace`]): an older release of [`RELEASES`]. Written back as read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// `Envelope`: when and under which identifier the envelope was sent, and whether a positive
/// receipt is wanted.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Envelope {
    /// `Envelope/Sent` (`Date`, `Time`).
    pub sent: DateTime,
    /// `Envelope/Identifier`, 1–14 characters; new on every send, resends too.
    pub identifier: String,
    /// `Envelope/AcknowledgementCode`.
    pub acknowledgement_code: AcknowledgementCode,
}

/// A `Date` + `Time` pair (`Sent`, `Authorisation`), kept as written: `Date` is an `xs:date`
/// (`2024-05-01`), `Time` is `hh:mm` (Danish local time, no zone).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DateTime {
    /// `Date`, e.g. `2024-05-01`.
    pub date: String,
    /// `Time`, e.g. `09:30`.
    pub time: String,
}

impl DateTime {
    /// A date and time as written.
    pub fn new(date: impl Into<String>, time: impl Into<String>) -> DateTime {
        DateTime {
            date: date.into(),
            time: time.into(),
        }
    }
}

/// `AcknowledgementCode`: whether the sender wants a positive receipt. A negative receipt is sent
/// on an error either way; a receipt itself is never answered (DOMAIN.md §4).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum AcknowledgementCode {
    /// `pluspositivkvitt`: answer with a positive receipt (XCTL03) when all is well.
    #[default]
    PlusPositive,
    /// `minuspositivkvitt`: no positive receipt; receipts carry this code.
    MinusPositive,
    /// Any other value, as written (a structure finding).
    Other(String),
}

impl AcknowledgementCode {
    /// The value as written in XML.
    pub fn as_str(&self) -> &str {
        match self {
            AcknowledgementCode::PlusPositive => "pluspositivkvitt",
            AcknowledgementCode::MinusPositive => "minuspositivkvitt",
            AcknowledgementCode::Other(other) => other,
        }
    }

    /// Reads the XML value; anything unknown is kept as [`AcknowledgementCode::Other`].
    pub fn parse(text: &str) -> AcknowledgementCode {
        match text {
            "pluspositivkvitt" => AcknowledgementCode::PlusPositive,
            "minuspositivkvitt" => AcknowledgementCode::MinusPositive,
            other => AcknowledgementCode::Other(other.to_string()),
        }
    }
}

/// The namespace of the XDIS91 `Emessage` (`XD9134L`), DOMAIN.md §4.
pub const XDIS91_NAMESPACE: &str = "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2006/07/01/";

/// The namespace of the receipt `Emessage`s (XCTL01/02/03), DOMAIN.md §4.
pub const RECEIPT_NAMESPACE: &str =
    "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2005/08/07/";

/// The namespace of the XBIN01 `Emessage` (`XB0131X`).
///
/// DOMAIN.md does not give it. This is the target namespace of the `XB0131X` `BinaryLetter`
/// schema (note `medcom.dk` without `sundcom.dk`) in the public copy of MedCom's schemas in the
/// `glasdam/edifact_converter` repository (`data/xml/Schemas/2012/03/28/`), and the one a public
/// JAXB-based MedCom mailbox uses for XBIN01. The older `XB0130X` lived in the receipts'
/// namespace; it is not read.
pub const XBIN01_NAMESPACE: &str = "http://rep.oio.dk/medcom.dk/xml/schemas/2012/03/28/";

/// `http://rep.oio.dk/medcom.dk/xml/schemas/2004/06/01/`: MedCom's 2004 release (XDIS91 `XD9133L`,
/// XBIN01 `XB0130X`, the receipts), `oioxml-xsd/2004/06/01/EMessage.xsd`.
pub const NAMESPACE_2004: &str = "http://rep.oio.dk/medcom.dk/xml/schemas/2004/06/01/";

/// `http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2007/02/01/`: MedCom's 2007 release, which
/// carries XDIS16 `ReportOfAdmission` and XDIS18 `ReportOfDischarge`
/// (`oioxml-xsd/2007/02/01/EMessage.xsd`).
pub const NAMESPACE_2007: &str = "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2007/02/01/";

/// Every (letter element, namespace, `VersionCode`) the harness reads: each release of MedCom's
/// OIOXML schemas (`oioxml-xsd/`, MIT) whose `Letters.xsd` includes the letter. XDIS91 is
/// `XD9133L` in 2004/06/01 and 2005/08/07 and `XD9134L` in 2006/07/01; XBIN01 `XB0130X` in
/// 2004/06/01 and 2005/08/07 and `XB0131X` in 2012/03/28; the receipts are in 2004/06/01 and
/// 2005/08/07. The first release of each letter in this list is the one the harness writes.
pub const RELEASES: &[(&str, &str, &str)] = &[
    ("ClinicalEmail", XDIS91_NAMESPACE, "XD9134L"),
    ("ClinicalEmail", RECEIPT_NAMESPACE, "XD9133L"),
    ("ClinicalEmail", NAMESPACE_2004, "XD9133L"),
    ("BinaryLetter", XBIN01_NAMESPACE, "XB0131X"),
    ("BinaryLetter", RECEIPT_NAMESPACE, "XB0130X"),
    ("BinaryLetter", NAMESPACE_2004, "XB0130X"),
    ("PositiveReceipt", RECEIPT_NAMESPACE, "XC0330Q"),
    ("PositiveReceipt", NAMESPACE_2004, "XC0330Q"),
    ("NegativeReceipt", RECEIPT_NAMESPACE, "XC0230Q"),
    ("NegativeReceipt", NAMESPACE_2004, "XC0230Q"),
    ("NegativeVansReceipt", RECEIPT_NAMESPACE, "XC0130Q"),
    ("NegativeVansReceipt", NAMESPACE_2004, "XC0130Q"),
    // The home care <-> hospital letters and the LÆ forms (`super::form::FORM_TYPES`): the
    // same VersionCode in each release that carries them.
    ("AnswerOfAdmission", RECEIPT_NAMESPACE, "XD1431C"),
    ("AnswerOfAdmission", NAMESPACE_2004, "XD1431C"),
    ("ReportOfAdmission", NAMESPACE_2007, "XD1630C"),
    ("NotificationOfDischarge", RECEIPT_NAMESPACE, "XD1730C"),
    ("NotificationOfDischarge", NAMESPACE_2004, "XD1730C"),
    ("ReportOfDischarge", NAMESPACE_2007, "XD1830C"),
    ("WarningOfDischarge", RECEIPT_NAMESPACE, "XD1930C"),
    ("WarningOfDischarge", NAMESPACE_2004, "XD1930C"),
    ("NotificationOfAdmission", RECEIPT_NAMESPACE, "XD2030C"),
    ("NotificationOfAdmission", NAMESPACE_2004, "XD2030C"),
    ("StatusRequest", RECEIPT_NAMESPACE, "XLA1211203A"),
    ("StatusRequest", NAMESPACE_2004, "XLA1211203A"),
    ("StatusAnswer", RECEIPT_NAMESPACE, "XLA1251001A"),
    ("StatusAnswer", NAMESPACE_2004, "XLA1251001A"),
    ("GeneralHealthRequest", RECEIPT_NAMESPACE, "XLA1411203A"),
    ("GeneralHealthRequest", NAMESPACE_2004, "XLA1411203A"),
    ("GeneralHealthAnswer", RECEIPT_NAMESPACE, "XLA1451001A"),
    ("GeneralHealthAnswer", NAMESPACE_2004, "XLA1451001A"),
    ("SocialMedicalProposal", RECEIPT_NAMESPACE, "XLA1651001A"),
    ("SocialMedicalProposal", NAMESPACE_2004, "XLA1651001A"),
    ("WorkingDisabilityRequest", RECEIPT_NAMESPACE, "XLA2011001A"),
    ("WorkingDisabilityRequest", NAMESPACE_2004, "XLA2011001A"),
    ("WorkingDisabilityAnswer", RECEIPT_NAMESPACE, "XLA2051001A"),
    ("WorkingDisabilityAnswer", NAMESPACE_2004, "XLA2051001A"),
    (
        "SocialMedicalFollowUpRequest",
        RECEIPT_NAMESPACE,
        "XLA2111001A",
    ),
    (
        "SocialMedicalFollowUpRequest",
        NAMESPACE_2004,
        "XLA2111001A",
    ),
    (
        "SocialMedicalFollowUpAnswer",
        RECEIPT_NAMESPACE,
        "XLA2151001A",
    ),
    ("SocialMedicalFollowUpAnswer", NAMESPACE_2004, "XLA2151001A"),
];

/// The `VersionCode` of `element` (a letter element name) in release `namespace`, when the
/// harness reads that letter in that release ([`RELEASES`]).
pub fn release_version(element: &str, namespace: &str) -> Option<&'static str> {
    RELEASES
        .iter()
        .find(|(e, ns, _)| *e == element && *ns == namespace)
        .map(|(_, _, version)| *version)
}

/// The letter inside an [`Emessage`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Body {
    /// `ClinicalEmail`: XDIS91 correspondence letter (korrespondancemeddelelse), `XD9134L`.
    ClinicalEmail(Xdis91),
    /// `BinaryLetter`: XBIN01 binary letter (bilag), `XB0131X`.
    BinaryLetter(Xbin01),
    /// `PositiveReceipt`, `NegativeReceipt` or `NegativeVansReceipt`: XCTL03/02/01.
    Receipt(Receipt),
    /// A home care <-> hospital letter (XDIS14/16/17/18/19/20) or an LÆ form (XLA121 …
    /// XLA215), kept as a tree ([`super::form`]).
    Form(super::form::Form),
}

impl Body {
    /// The namespace of an `Emessage` carrying this letter.
    pub fn namespace(&self) -> &'static str {
        match self {
            Body::ClinicalEmail(_) => XDIS91_NAMESPACE,
            Body::BinaryLetter(_) => XBIN01_NAMESPACE,
            Body::Receipt(_) => RECEIPT_NAMESPACE,
            Body::Form(f) => f
                .form_type()
                .map_or(RECEIPT_NAMESPACE, super::form::FormType::namespace),
        }
    }

    /// The letter's element name: `ClinicalEmail`, `BinaryLetter`, `PositiveReceipt`, ….
    pub fn element(&self) -> &'static str {
        match self {
            Body::ClinicalEmail(_) => "ClinicalEmail",
            Body::BinaryLetter(_) => "BinaryLetter",
            Body::Receipt(r) => r.kind.element(),
            Body::Form(f) => f.form_type().map_or("", |t| t.element),
        }
    }
}

/// `Letter` of an XDIS91 or XBIN01 letter.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Letter {
    /// `Identifier`, 1–14 characters; kept on a resend.
    pub identifier: String,
    /// `VersionCode`: `XD9134L` for XDIS91, `XB0131X` for XBIN01.
    pub version_code: String,
    /// `StatisticalCode`, 1–8 characters; what MedCom's statistics count (DOMAIN.md §8).
    pub statistical_code: String,
    /// `Authorisation` (`Date`, `Time`).
    pub authorisation: DateTime,
    /// `TypeCode`: `XDIS91` or `XBIN01`.
    pub type_code: String,
    /// `StatusCode`: `nytbrev` or `rettetbrev` (XBIN01: `nytbrev` only).
    pub status_code: String,
    /// `EpisodeOfCareIdentifier`, up to 35 characters (XDIS91 only).
    pub episode_of_care_identifier: Option<String>,
}

/// `Sender` or `Receiver` of an XDIS91 or XBIN01 letter.
///
/// A sender has `OrganisationName` (up to 35 characters) and may have a telephone number and a
/// medical speciality; a receiver may leave the name out and has neither of the other two.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Party {
    /// `EANIdentifier`: the EAN/GLN location number, 13 digits with a GS1 check digit.
    pub ean: String,
    /// `Identifier`, 1–17 characters: the number of kind [`Party::identifier_code`].
    pub identifier: String,
    /// `IdentifierCode`: `sygehusafdelingsnummer`, `ydernummer`, `lokationsnummer`,
    /// `kommunenummer`, `amt` or `sorkode` (then `Identifier` is a SOR id).
    pub identifier_code: String,
    /// `OrganisationName`, up to 35 characters; required for a sender.
    pub organisation_name: Option<String>,
    /// `DepartmentName`, up to 35 characters.
    pub department_name: Option<String>,
    /// `UnitName`, up to 35 characters.
    pub unit_name: Option<String>,
    /// `StreetName`, up to 35 characters.
    pub street_name: Option<String>,
    /// `SuburbName`, up to 35 characters.
    pub suburb_name: Option<String>,
    /// `DistrictName`, up to 35 characters.
    pub district_name: Option<String>,
    /// `PostCodeIdentifier`, up to 9 characters.
    pub post_code_identifier: Option<String>,
    /// `TelephoneSubscriberIdentifier`, up to 25 characters (sender only).
    pub telephone_subscriber_identifier: Option<String>,
    /// `MedicalSpecialityCode` (sender only).
    pub medical_speciality_code: Option<String>,
}

/// How a patient is identified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PatientIdentifier {
    /// `CivilRegistrationNumber`: CPR, 10 digits.
    Cpr(String),
    /// `AlternativeIdentifier`: a replacement id of 10 characters.
    Alternative(String),
}

impl PatientIdentifier {
    /// The identifier's value.
    pub fn value(&self) -> &str {
        match self {
            PatientIdentifier::Cpr(v) | PatientIdentifier::Alternative(v) => v,
        }
    }
}

/// `Patient`. XBIN01 carries only the identifier and the names.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Patient {
    /// `CivilRegistrationNumber` or `AlternativeIdentifier`; `None` when both are missing.
    pub identifier: Option<PatientIdentifier>,
    /// `PersonSurnameName`, 1–70 characters.
    pub surname: String,
    /// `PersonGivenName`, up to 70 characters.
    pub given_name: Option<String>,
    /// `StreetName` (XDIS91).
    pub street_name: Option<String>,
    /// `SuburbName` (XDIS91).
    pub suburb_name: Option<String>,
    /// `DistrictName` (XDIS91).
    pub district_name: Option<String>,
    /// `PostCodeIdentifier` (XDIS91).
    pub post_code_identifier: Option<String>,
    /// `OccupancyText` (XDIS91).
    pub occupancy_text: Option<String>,
    /// `EpisodeOfCareStatusCode` (XDIS91, required there): `inaktiv`, `indlagt`, `ambulant`,
    /// `doed`, `ambulant_roentgen`.
    pub episode_of_care_status_code: Option<String>,
}

/// `AdditionalInformation` of an XDIS91 letter.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AdditionalInformation {
    /// `Priority`: `rutine` or `høj_prioritet`.
    pub priority: Option<String>,
    /// `Subject`, up to 70 characters.
    pub subject: Option<String>,
}

/// `ClinicalEmail`: the XDIS91 correspondence letter.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Xdis91 {
    /// `Letter`.
    pub letter: Letter,
    /// `Sender`.
    pub sender: Party,
    /// `Receiver`.
    pub receiver: Party,
    /// `Patient`.
    pub patient: Patient,
    /// `AdditionalInformation`.
    pub additional_information: Option<AdditionalInformation>,
    /// `ClinicalInformation/Text01`, one string per `ClinicalInformation` (at most 10). A
    /// `<Break/>` is `\n`; see [`super::parse`] for the other formatting elements.
    pub clinical_information: Vec<String>,
    /// `Reference`, at most 10.
    pub references: Vec<Reference>,
}

/// `Reference` of an XDIS91 letter: a description and what it points to.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Reference {
    /// `RefDescription`, 1–70 characters.
    pub description: String,
    /// `URL`, `SUP` or `BIN`; `None` when the reference has none of them.
    pub target: Option<ReferenceTarget>,
}

impl Reference {
    /// The `BIN` of this reference, if it points to a binary object.
    pub fn bin(&self) -> Option<&Bin> {
        match &self.target {
            Some(ReferenceTarget::Bin(bin)) => Some(bin),
            _ => None,
        }
    }
}

/// What a [`Reference`] points to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReferenceTarget {
    /// `URL`, up to 350 characters.
    Url(String),
    /// `SUP` (`true`): supplementary material sent another way.
    Supplement,
    /// `BIN`: a binary object sent as an XBIN01 letter.
    Bin(Bin),
}

/// `Reference/BIN`: the binary object an XBIN01 letter carries.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Bin {
    /// `ObjectIdentifier`, up to 35 characters; the XBIN01 object with the same identifier is the
    /// one meant (see [`super::check::BinMatcher`] for UUIDs written without hyphens).
    pub object_identifier: String,
    /// `ObjectCode`, e.g. `vektor_grafik`, `billede`, `tekstfil`.
    pub object_code: String,
    /// `ObjectExtensionCode`, e.g. `pdf`, `jpeg`, `png`.
    pub object_extension_code: String,
    /// `OriginalObjectSize` as written: a positive integer, the object's size in bytes.
    pub original_object_size: String,
}

impl Bin {
    /// `OriginalObjectSize` as a number of bytes, when it is a positive integer.
    pub fn declared_size(&self) -> Option<u64> {
        declared_size(&self.original_object_size)
    }
}

/// `BinaryLetter`: the XBIN01 binary letter.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Xbin01 {
    /// `Letter`.
    pub letter: Letter,
    /// `Sender`.
    pub sender: Party,
    /// `Receiver`.
    pub receiver: Party,
    /// `Patient`, or `SystemInformation` for objects about no patient.
    pub subject: BinarySubject,
    /// `BinaryObject`, 1 to 10.
    pub objects: Vec<BinaryObject>,
}

/// Whom an XBIN01 letter is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BinarySubject {
    /// `Patient` (identifier and names only).
    Patient(Patient),
    /// `SystemInformation` (`true`) with an optional `Contents` (up to 70 characters).
    SystemInformation {
        /// `Contents`.
        contents: Option<String>,
    },
}

impl Default for BinarySubject {
    fn default() -> BinarySubject {
        BinarySubject::Patient(Patient::default())
    }
}

/// `BinaryObject` of an XBIN01 letter.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BinaryObject {
    /// `ObjectIdentifier`: a UUID (`8-4-4-4-12` hex digits) in XB0131X.
    pub object_identifier: String,
    /// `ObjectCode`.
    pub object_code: String,
    /// `ObjectExtensionCode`.
    pub object_extension_code: String,
    /// `OriginalObjectSize` as written: the size in bytes of [`BinaryObject::data`].
    pub original_object_size: String,
    /// `Object_Base64Encoded`, decoded.
    #[serde(with = "serde_base64")]
    pub data: Vec<u8>,
}

impl BinaryObject {
    /// `OriginalObjectSize` as a number of bytes, when it is a positive integer.
    pub fn declared_size(&self) -> Option<u64> {
        declared_size(&self.original_object_size)
    }
}

/// `OriginalObjectSize` (`xs:positiveInteger`, surrounding white space allowed) as a number.
pub(super) fn declared_size(text: &str) -> Option<u64> {
    let text = text.trim_matches([' ', '\t', '\n', '\r']);
    let digits = text.strip_prefix('+').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok().filter(|&n| n > 0)
}

/// Serializes binary data as base64 text, as the XML carries it.
mod serde_base64 {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(data: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(data))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

/// Which receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReceiptKind {
    /// `PositiveReceipt`: XCTL03, `XC0330Q`.
    Positive,
    /// `NegativeReceipt`: XCTL02, `XC0230Q`, sent by the receiver.
    Negative,
    /// `NegativeVansReceipt`: XCTL01, `XC0130Q`, sent by the VANS provider.
    VansNegative,
}

impl ReceiptKind {
    /// The element name: `PositiveReceipt`, `NegativeReceipt`, `NegativeVansReceipt`.
    pub fn element(self) -> &'static str {
        match self {
            ReceiptKind::Positive => "PositiveReceipt",
            ReceiptKind::Negative => "NegativeReceipt",
            ReceiptKind::VansNegative => "NegativeVansReceipt",
        }
    }

    /// The standard's name: `XCTL03`, `XCTL02`, `XCTL01`.
    pub fn standard(self) -> &'static str {
        match self {
            ReceiptKind::Positive => "XCTL03",
            ReceiptKind::Negative => "XCTL02",
            ReceiptKind::VansNegative => "XCTL01",
        }
    }

    /// The `VersionCode` of this receipt: `XC0330Q`, `XC0230Q`, `XC0130Q`.
    pub fn version_code(self) -> &'static str {
        match self {
            ReceiptKind::Positive => "XC0330Q",
            ReceiptKind::Negative => "XC0230Q",
            ReceiptKind::VansNegative => "XC0130Q",
        }
    }

    /// Whether this is one of the two negative receipts.
    pub fn is_negative(self) -> bool {
        !matches!(self, ReceiptKind::Positive)
    }
}

/// An XCTL01/02/03 receipt.
///
/// `OriginalEmessage` is flattened into the receipt: the quoted envelope identifier, sender and
/// receiver EAN, and one [`OriginalLetter`] per quoted letter. A negative receipt may give a
/// `RefuseCode`/`RefuseText` for the whole envelope as well as per letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// Which receipt (the element name).
    pub kind: ReceiptKind,
    /// `Letter` of the receipt itself.
    pub letter: ReceiptLetter,
    /// `Sender/EANIdentifier`: who sends the receipt (the original's receiver).
    pub sender_ean: String,
    /// `Receiver/EANIdentifier`: who gets it (the original's sender).
    pub receiver_ean: String,
    /// `OriginalEmessage/OriginalEnvelopeIdentifier`.
    pub original_envelope_identifier: String,
    /// `OriginalEmessage/OriginalSender/EANIdentifier`.
    pub original_sender_ean: String,
    /// `OriginalEmessage/OriginalReceiver/EANIdentifier`.
    pub original_receiver_ean: String,
    /// `OriginalEmessage/RefuseCode`: why the whole envelope was refused (negative receipts).
    pub refuse_code: Option<RefuseCode>,
    /// `OriginalEmessage/RefuseText`, `<Break/>` as `\n`.
    pub refuse_text: Option<String>,
    /// `OriginalEmessage/OriginalLetter`, at most 99.
    pub letters: Vec<OriginalLetter>,
}

/// `Letter` of a receipt: identifier, version and statistical code only.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReceiptLetter {
    /// `Identifier`, 1–14 characters.
    pub identifier: String,
    /// `VersionCode`: `XC0330Q`, `XC0230Q` or `XC0130Q` by kind.
    pub version_code: String,
    /// `StatisticalCode`, 1–8 characters.
    pub statistical_code: String,
}

/// `OriginalLetter`: one quoted letter of the original envelope.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OriginalLetter {
    /// `OriginalLetterIdentifier`: the original's `Letter/Identifier`.
    pub original_letter_identifier: String,
    /// `OriginalVersionCode`: the original's `Letter/VersionCode`.
    pub original_version_code: String,
    /// `RefuseCode` (negative receipts).
    pub refuse_code: Option<RefuseCode>,
    /// `RefuseText`, `<Break/>` as `\n`.
    pub refuse_text: Option<String>,
}

/// `RefuseCode`: why a negative receipt refuses a letter (DOMAIN.md §4).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RefuseCode {
    /// `ikke_specificeret`: not specified.
    IkkeSpecificeret,
    /// `ukendt_lokationsnummer`: unknown location number (EAN).
    UkendtLokationsnummer,
    /// `problem_med_modtagerID`: problem with the receiver id.
    ProblemMedModtagerId,
    /// `problem_med_version`: unsupported version.
    ProblemMedVersion,
    /// `syntaksfejl`: syntax error.
    Syntaksfejl,
    /// Any other value, as written (an `oioxml-refusecode` finding).
    Other(String),
}

impl RefuseCode {
    /// Every code of the list, in the standard's order.
    pub const LIST: [RefuseCode; 5] = [
        RefuseCode::IkkeSpecificeret,
        RefuseCode::UkendtLokationsnummer,
        RefuseCode::ProblemMedModtagerId,
        RefuseCode::ProblemMedVersion,
        RefuseCode::Syntaksfejl,
    ];

    /// The value as written in XML.
    pub fn as_str(&self) -> &str {
        match self {
            RefuseCode::IkkeSpecificeret => "ikke_specificeret",
            RefuseCode::UkendtLokationsnummer => "ukendt_lokationsnummer",
            RefuseCode::ProblemMedModtagerId => "problem_med_modtagerID",
            RefuseCode::ProblemMedVersion => "problem_med_version",
            RefuseCode::Syntaksfejl => "syntaksfejl",
            RefuseCode::Other(other) => other,
        }
    }

    /// Reads the XML value (case-sensitive, as the list is); anything else is
    /// [`RefuseCode::Other`].
    pub fn parse(text: &str) -> RefuseCode {
        RefuseCode::LIST
            .into_iter()
            .find(|code| code.as_str() == text)
            .unwrap_or_else(|| RefuseCode::Other(text.to_string()))
    }

    /// Whether the code is one of the list.
    pub fn is_listed(&self) -> bool {
        !matches!(self, RefuseCode::Other(_))
    }
}

/// The identity of a letter for duplicate detection: (`Envelope/Identifier`,
/// `Letter/Identifier`), DOMAIN.md §4.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DedupKey {
    /// `Envelope/Identifier`: new on every send.
    pub envelope: String,
    /// `Letter/Identifier`: kept on a resend.
    pub letter: String,
}

impl Emessage {
    /// The namespace of this message: the one it was read in, else its letter's current one.
    pub fn namespace(&self) -> &str {
        self.namespace
            .as_deref()
            .unwrap_or_else(|| self.body.namespace())
    }

    /// The `VersionCode` MedCom's schema of this message's release fixes for its letter
    /// ([`release_version`]); the current release's when the namespace is not one the harness
    /// reads.
    pub fn expected_version(&self) -> &'static str {
        let element = self.body.element();
        release_version(element, self.namespace())
            .or_else(|| release_version(element, self.body.namespace()))
            .unwrap_or("")
    }

    /// The letter's `Letter/Identifier`.
    pub fn letter_identifier(&self) -> &str {
        match &self.body {
            Body::ClinicalEmail(x) => &x.letter.identifier,
            Body::BinaryLetter(x) => &x.letter.identifier,
            Body::Receipt(r) => &r.letter.identifier,
            Body::Form(f) => f.letter_identifier(),
        }
    }

    /// The letter's `Letter/VersionCode`.
    pub fn version_code(&self) -> &str {
        match &self.body {
            Body::ClinicalEmail(x) => &x.letter.version_code,
            Body::BinaryLetter(x) => &x.letter.version_code,
            Body::Receipt(r) => &r.letter.version_code,
            Body::Form(f) => f.version_code(),
        }
    }

    /// The letter's `Letter/StatisticalCode` (DOMAIN.md §8: what MedCom's statistics count).
    pub fn statistical_code(&self) -> &str {
        match &self.body {
            Body::ClinicalEmail(x) => &x.letter.statistical_code,
            Body::BinaryLetter(x) => &x.letter.statistical_code,
            Body::Receipt(r) => &r.letter.statistical_code,
            Body::Form(f) => f.statistical_code(),
        }
    }

    /// The letter's type for statistics and envelopes (DOMAIN.md §8, VANS `Document/Name` =
    /// `MCM:` + this): `Letter/TypeCode` for XDIS91 and XBIN01; a receipt's `Letter` has no
    /// `TypeCode`, so its standard name (`XCTL03`, `XCTL02`, `XCTL01`).
    pub fn type_code(&self) -> &str {
        match &self.body {
            Body::ClinicalEmail(x) => &x.letter.type_code,
            Body::BinaryLetter(x) => &x.letter.type_code,
            Body::Receipt(r) => r.kind.standard(),
            Body::Form(f) => f.type_code(),
        }
    }

    /// The sender's EAN: `Sender/EANIdentifier`.
    pub fn sender_ean(&self) -> &str {
        match &self.body {
            Body::ClinicalEmail(x) => &x.sender.ean,
            Body::BinaryLetter(x) => &x.sender.ean,
            Body::Receipt(r) => &r.sender_ean,
            Body::Form(f) => f.sender_ean(),
        }
    }

    /// The receiver's EAN: `Receiver/EANIdentifier`.
    pub fn receiver_ean(&self) -> &str {
        match &self.body {
            Body::ClinicalEmail(x) => &x.receiver.ean,
            Body::BinaryLetter(x) => &x.receiver.ean,
            Body::Receipt(r) => &r.receiver_ean,
            Body::Form(f) => f.receiver_ean(),
        }
    }

    /// The facts a VANSEnvelope around this letter is made from.
    pub fn envelope_facts(&self) -> crate::envelope::carry::OioxmlFacts<'_> {
        crate::envelope::carry::OioxmlFacts {
            type_code: self.type_code(),
            version_code: self.version_code(),
            sender_ean: self.sender_ean(),
            receiver_ean: self.receiver_ean(),
        }
    }

    /// The receipt, when this message is one.
    pub fn receipt(&self) -> Option<&Receipt> {
        match &self.body {
            Body::Receipt(r) => Some(r),
            _ => None,
        }
    }

    /// Whether this message is a receipt (which is never answered with a receipt).
    pub fn is_receipt(&self) -> bool {
        self.receipt().is_some()
    }

    /// Whether the receiver answers this message with a positive receipt when all is well: the
    /// envelope asks for one (`pluspositivkvitt`) and the message is not itself a receipt.
    pub fn wants_positive_receipt(&self) -> bool {
        !self.is_receipt()
            && self.envelope.acknowledgement_code == AcknowledgementCode::PlusPositive
    }

    /// The duplicate-detection key (`Envelope/Identifier`, `Letter/Identifier`).
    pub fn dedup_key(&self) -> DedupKey {
        DedupKey {
            envelope: self.envelope.identifier.clone(),
            letter: self.letter_identifier().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuse_codes_round_trip_and_unknown_ones_are_kept() {
        for code in RefuseCode::LIST {
            assert_eq!(RefuseCode::parse(code.as_str()), code);
        }
        assert_eq!(
            RefuseCode::parse("problem_med_modtagerid"),
            RefuseCode::Other("problem_med_modtagerid".to_string())
        );
    }

    #[test]
    fn declared_size_is_a_positive_integer_with_collapsible_white_space() {
        assert_eq!(declared_size(" 1234\n"), Some(1234));
        assert_eq!(declared_size("0"), None);
        assert_eq!(declared_size("12kb"), None);
        assert_eq!(declared_size(""), None);
    }
}
