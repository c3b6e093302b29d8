//! Our own structural checks of one OIOXML message: one finding per breach.
//!
//! These checks were written from DOMAIN.md §4 before MedCom's own XML Schemas were public. Now
//! MedCom's schemas judge elements, order, codes and lengths ([`super::schema::judge`]), and the
//! `oioxml-structure` findings below stand in only when no schema ran; the other rules here
//! (GS1 check digits, SOR ids, refuse codes by receipt kind, receipts asking for none) are what a
//! schema cannot say. The `VersionCode` expected is the one of the message's release
//! ([`Emessage::expected_version`]). A negative VANS receipt (XCTL01) is sent by the VANS: its
//! sender is a VANS id (1–35 characters by MedCom's `CTRLSenderType`), not an EAN.
//!
//! Rules and what they cover:
//!
//! - `oioxml-structure` ([`rule::OIOXML_STRUCTURE`]): required elements present and non-empty;
//!   `VersionCode` `XD9134L` (XDIS91), `XB0131X` (XBIN01), `XC0330Q`/`XC0230Q`/`XC0130Q`
//!   (XCTL03/02/01); `TypeCode` `XDIS91`/`XBIN01`; `StatusCode` `nytbrev`/`rettetbrev` (XBIN01:
//!   `nytbrev`); `AcknowledgementCode`, `IdentifierCode`, `Priority`, `EpisodeOfCareStatusCode`,
//!   `ObjectCode`, `ObjectExtensionCode` from their lists; identifiers 1–14 characters,
//!   `OrganisationName` and the other names at most 35, `Subject` and `RefDescription` at most
//!   70; `Date` an `xs:date`, `Time` `hh:mm`; CPR 10 digits; `OriginalObjectSize` a positive
//!   integer; at most 10 `ClinicalInformation`, 10 `Reference`, 10 `BinaryObject`, 99
//!   `OriginalLetter`; an XB0131X `ObjectIdentifier` is a UUID.
//! - `party-identifiers` ([`rule::PARTY_IDENTIFIERS`]): every `Sender`/`Receiver`
//!   `EANIdentifier` is a GLN with a valid GS1 check digit, and an `Identifier` whose
//!   `IdentifierCode` is `sorkode` has the SOR id form ([`crate::identifier`]). One finding per
//!   party that fails.
//! - `oioxml-refusecode` ([`rule::OIOXML_REFUSECODE`]): a negative receipt gives a listed
//!   `RefuseCode` for each letter (or for the envelope); a positive receipt gives none.
//! - `oioxml-receipt-no-receipt` ([`rule::OIOXML_RECEIPT_NO_RECEIPT`]): a receipt asks for no
//!   receipt (`minuspositivkvitt`).
//!
//! Each rule checked and not breached gets one `OK` finding, so a report shows what was checked.
//! Locations are element paths (`Emessage.ClinicalEmail.Sender.EANIdentifier`).

use crate::finding::Finding;
use crate::identifier::{gs1_check_digit, is_valid_gln, is_valid_sor_id};
use crate::rule::{self, Rule};

use super::model::*;

/// `IdentifierCode` values.
pub const IDENTIFIER_CODES: &[&str] = &[
    "sygehusafdelingsnummer",
    "ydernummer",
    "lokationsnummer",
    "kommunenummer",
    "amt",
    "sorkode",
];

/// `StatusCode` values of XDIS91 (XBIN01 allows only `nytbrev`).
pub const STATUS_CODES: &[&str] = &["nytbrev", "rettetbrev"];

/// `AdditionalInformation/Priority` values.
pub const PRIORITIES: &[&str] = &["rutine", "høj_prioritet"];

/// `Patient/EpisodeOfCareStatusCode` values of XDIS91.
pub const EPISODE_OF_CARE_STATUS_CODES: &[&str] = &[
    "inaktiv",
    "indlagt",
    "ambulant",
    "doed",
    "ambulant_roentgen",
];

/// `ObjectCode` values.
pub const OBJECT_CODES: &[&str] = &[
    "tekstfil",
    "billede",
    "program",
    "vektor_grafik",
    "biosignaler",
    "multimedie",
    "proprietaert_indhold",
];

/// `ObjectExtensionCode` values of XDIS91 (`Reference/BIN`).
pub const OBJECT_EXTENSION_CODES: &[&str] = &[
    "pcx", "tiff", "jpeg", "gif", "bmp", "png", "mpg", "dcm", "scp", "txt", "rtf", "doc", "xls",
    "wpd", "exe", "pdf", "wav", "avi", "mid", "rmi", "com", "zip", "bin", "inh",
];

/// `ObjectExtensionCode` values XB0131X adds to [`OBJECT_EXTENSION_CODES`].
pub const XBIN01_EXTRA_EXTENSION_CODES: &[&str] = &["plo", "fnx"];

/// Judges one message on its own (see the module docs for the rules).
pub fn check(message: &Emessage) -> Vec<Finding> {
    let mut judge = Judge {
        version: message.expected_version(),
        ..Judge::default()
    };
    let path = format!("Emessage.{}", message.body.element());
    judge.envelope(&message.envelope);
    match &message.body {
        Body::ClinicalEmail(x) => judge.clinical_email(x, &path),
        Body::BinaryLetter(x) => judge.binary_letter(x, &path),
        Body::Form(f) => judge.form(f, &path),
        Body::Receipt(r) => {
            judge.checked(
                &rule::OIOXML_RECEIPT_NO_RECEIPT,
                "the receipt asks for no receipt (`minuspositivkvitt`)",
            );
            if message.envelope.acknowledgement_code != AcknowledgementCode::MinusPositive {
                judge.breach(
                    &rule::OIOXML_RECEIPT_NO_RECEIPT,
                    "Emessage.Envelope.AcknowledgementCode",
                    format!(
                        "the {} receipt asks for a receipt (`{}`); receipts are never answered, so it must be `minuspositivkvitt`",
                        r.kind.standard(),
                        message.envelope.acknowledgement_code.as_str()
                    ),
                );
            }
            judge.receipt(r, &path);
        }
    }
    judge.finish()
}

/// Judges the refuse codes of `receipt` alone (`oioxml-refusecode`); [`check`] includes this.
pub fn refuse_codes(receipt: &Receipt) -> Vec<Finding> {
    let mut judge = Judge::default();
    judge.refuse_codes(receipt, &format!("Emessage.{}", receipt.kind.element()));
    judge.finish()
}

/// Collects breaches, and remembers which rules were checked so that each unbroken one gets an
/// `OK` finding.
#[derive(Default)]
struct Judge {
    breaches: Vec<Finding>,
    checked: Vec<(&'static Rule, String)>,
    /// The letter's `VersionCode` in the message's release ([`Emessage::expected_version`]).
    version: &'static str,
}

impl Judge {
    fn checked(&mut self, rule: &'static Rule, pass: &str) {
        if !self.checked.iter().any(|(r, _)| r.id == rule.id) {
            self.checked.push((rule, pass.to_string()));
        }
    }

    fn breach(&mut self, rule: &'static Rule, at: &str, message: String) {
        self.breaches.push(rule.breach(message).at(at));
    }

    fn structure(&mut self, at: &str, message: String) {
        self.breach(&rule::OIOXML_STRUCTURE, at, message);
    }

    fn finish(self) -> Vec<Finding> {
        let mut out = self.breaches;
        for (rule, pass) in self.checked {
            if !out.iter().any(|f| f.rule == rule.id) {
                out.push(rule.pass(pass));
            }
        }
        out
    }

    /// A required value: present, non-empty and at most `max` characters.
    fn required(&mut self, at: &str, value: &str, max: usize) {
        if value.is_empty() {
            self.structure(at, format!("`{at}` is missing or empty"));
        } else {
            self.max_length(at, value, max);
        }
    }

    /// An optional value: when present, non-empty and at most `max` characters.
    fn optional(&mut self, at: &str, value: Option<&String>, max: usize) {
        if let Some(value) = value {
            self.required(at, value, max);
        }
    }

    fn max_length(&mut self, at: &str, value: &str, max: usize) {
        let length = value.chars().count();
        if length > max {
            self.structure(
                at,
                format!("`{at}` is {length} characters long, at most {max} are allowed: `{value}`"),
            );
        }
    }

    /// A required value from a list.
    fn listed(&mut self, at: &str, value: &str, list: &[&str]) {
        if value.is_empty() {
            self.structure(at, format!("`{at}` is missing or empty"));
        } else if !list.contains(&value) {
            self.structure(
                at,
                format!("`{at}` is `{value}`, not one of {}", quoted(list)),
            );
        }
    }

    fn exact(&mut self, at: &str, value: &str, expected: &str) {
        if value.is_empty() {
            self.structure(at, format!("`{at}` is missing or empty"));
        } else if value != expected {
            self.structure(at, format!("`{at}` is `{value}`, expected `{expected}`"));
        }
    }

    fn date_time(&mut self, at: &str, value: &DateTime) {
        let date_at = format!("{at}.Date");
        let time_at = format!("{at}.Time");
        if value.date.is_empty() {
            self.structure(&date_at, format!("`{date_at}` is missing or empty"));
        } else if !is_xs_date(&value.date) {
            self.structure(
                &date_at,
                format!("`{date_at}` is `{}`, not a date `YYYY-MM-DD`", value.date),
            );
        }
        if value.time.is_empty() {
            self.structure(&time_at, format!("`{time_at}` is missing or empty"));
        } else if !is_hh_mm(&value.time) {
            self.structure(
                &time_at,
                format!("`{time_at}` is `{}`, not a time `hh:mm`", value.time),
            );
        }
    }

    fn envelope(&mut self, envelope: &Envelope) {
        self.checked(
            &rule::OIOXML_STRUCTURE,
            "the message has the structure of its letter type",
        );
        let at = "Emessage.Envelope";
        self.date_time(&format!("{at}.Sent"), &envelope.sent);
        self.required(&format!("{at}.Identifier"), &envelope.identifier, 14);
        if let AcknowledgementCode::Other(other) = &envelope.acknowledgement_code {
            let at = format!("{at}.AcknowledgementCode");
            if other.is_empty() {
                self.structure(&at, format!("`{at}` is missing or empty"));
            } else {
                self.structure(
                    &at,
                    format!("`{at}` is `{other}`, not `pluspositivkvitt` or `minuspositivkvitt`"),
                );
            }
        }
    }

    fn letter(
        &mut self,
        letter: &Letter,
        at: &str,
        version: &str,
        type_code: &str,
        statuses: &[&str],
    ) {
        let at = format!("{at}.Letter");
        self.required(&format!("{at}.Identifier"), &letter.identifier, 14);
        self.exact(&format!("{at}.VersionCode"), &letter.version_code, version);
        self.required(
            &format!("{at}.StatisticalCode"),
            &letter.statistical_code,
            8,
        );
        self.date_time(&format!("{at}.Authorisation"), &letter.authorisation);
        self.exact(&format!("{at}.TypeCode"), &letter.type_code, type_code);
        self.listed(&format!("{at}.StatusCode"), &letter.status_code, statuses);
    }

    /// `role` is `Sender` or `Receiver`; `at` the letter's path.
    fn party(&mut self, party: &Party, at: &str, role: &str) {
        let at = format!("{at}.{role}");
        self.checked(
            &rule::PARTY_IDENTIFIERS,
            "every sender and receiver EAN is a GLN with a valid GS1 check digit",
        );
        self.ean(&format!("{at}.EANIdentifier"), &party.ean, role);
        self.required(&format!("{at}.Identifier"), &party.identifier, 17);
        self.listed(
            &format!("{at}.IdentifierCode"),
            &party.identifier_code,
            IDENTIFIER_CODES,
        );
        if party.identifier_code == "sorkode" && !is_valid_sor_id(&party.identifier) {
            self.breach(
                &rule::PARTY_IDENTIFIERS,
                &format!("{at}.Identifier"),
                format!(
                    "the {} `Identifier` `{}` has `IdentifierCode` `sorkode` but is not a SOR id (digits ending in `1000016` + `00` + one digit)",
                    role.to_lowercase(),
                    party.identifier
                ),
            );
        }
        let name_at = format!("{at}.OrganisationName");
        match (&party.organisation_name, role) {
            (None, "Sender") => {
                self.structure(&name_at, format!("`{name_at}` is missing or empty"))
            }
            (name, _) => self.optional(&name_at, name.as_ref(), 35),
        }
        for (name, value, max) in [
            ("DepartmentName", &party.department_name, 35),
            ("UnitName", &party.unit_name, 35),
            ("StreetName", &party.street_name, 35),
            ("SuburbName", &party.suburb_name, 35),
            ("DistrictName", &party.district_name, 35),
            ("PostCodeIdentifier", &party.post_code_identifier, 9),
            (
                "TelephoneSubscriberIdentifier",
                &party.telephone_subscriber_identifier,
                25,
            ),
            ("MedicalSpecialityCode", &party.medical_speciality_code, 70),
        ] {
            self.optional(&format!("{at}.{name}"), value.as_ref(), max);
        }
        if role == "Receiver" {
            for (name, value) in [
                (
                    "TelephoneSubscriberIdentifier",
                    &party.telephone_subscriber_identifier,
                ),
                ("MedicalSpecialityCode", &party.medical_speciality_code),
            ] {
                if value.is_some() {
                    self.structure(
                        &format!("{at}.{name}"),
                        format!("`{name}` belongs to a sender, not a receiver"),
                    );
                }
            }
        }
    }

    /// A home care or LÆ letter ([`super::form`]): what a schema cannot say (GS1 check digits
    /// of every EAN, SOR ids) and, for when no schema ran, the letter's codes and identifier.
    /// Everything else of its content is the schema's.
    fn form(&mut self, f: &super::form::Form, at: &str) {
        let Some(kind) = f.form_type() else {
            return;
        };
        let letter = format!("{at}.Letter");
        self.required(&format!("{letter}.Identifier"), f.letter_identifier(), 14);
        self.exact(
            &format!("{letter}.VersionCode"),
            f.version_code(),
            kind.version_code,
        );
        self.exact(&format!("{letter}.TypeCode"), f.type_code(), kind.type_code);
        self.checked(
            &rule::PARTY_IDENTIFIERS,
            "every sender and receiver EAN is a GLN with a valid GS1 check digit",
        );
        for (path, role) in [
            ("Sender/EANIdentifier", "Sender"),
            ("Receiver/EANIdentifier", "Receiver"),
            ("Sender/AnswerTo/EANIdentifier", "AnswerTo"),
        ] {
            if path.contains("AnswerTo") && f.root.at(path).is_none() {
                continue;
            }
            self.ean(
                &format!("{at}.{}", path.replace('/', ".")),
                f.root.text_at(path),
                role,
            );
        }
        for role in ["Sender", "Receiver"] {
            if f.root.text_at(&format!("{role}/IdentifierCode")) == "sorkode" {
                let id = f.root.text_at(&format!("{role}/Identifier"));
                if !is_valid_sor_id(id) {
                    self.breach(
                        &rule::PARTY_IDENTIFIERS,
                        &format!("{at}.{role}.Identifier"),
                        format!(
                            "the {} `Identifier` `{id}` has `IdentifierCode` `sorkode` but is not a SOR id (digits ending in `1000016` + `00` + one digit)",
                            role.to_lowercase()
                        ),
                    );
                }
            }
        }
    }

    /// A sender's or receiver's EAN: a GLN with a valid check digit (`party-identifiers`).
    fn ean(&mut self, at: &str, ean: &str, role: &str) {
        let role = role.to_lowercase();
        if ean.is_empty() {
            self.breach(
                &rule::PARTY_IDENTIFIERS,
                at,
                format!("the {role} has no EAN (`{at}` is missing or empty)"),
            );
        } else if !is_valid_gln(ean) {
            let hint = if ean.len() == 13 && ean.bytes().all(|b| b.is_ascii_digit()) {
                gs1_check_digit(&ean[..12])
                    .map(|d| format!(": the GS1 check digit of `{}` is {d}", &ean[..12]))
                    .unwrap_or_default()
            } else {
                ": an EAN/GLN has 13 digits".to_string()
            };
            self.breach(
                &rule::PARTY_IDENTIFIERS,
                at,
                format!("the {role} EAN `{ean}` is not a valid GLN{hint}"),
            );
        }
    }

    fn patient(&mut self, patient: &Patient, at: &str, full: bool) {
        let at = format!("{at}.Patient");
        match &patient.identifier {
            None => self.structure(
                &at,
                format!("`{at}` has neither `CivilRegistrationNumber` nor `AlternativeIdentifier`"),
            ),
            Some(PatientIdentifier::Cpr(cpr)) => {
                let cpr_at = format!("{at}.CivilRegistrationNumber");
                if cpr.len() != 10 || !cpr.bytes().all(|b| b.is_ascii_digit()) {
                    self.structure(&cpr_at, format!("`{cpr_at}` is not 10 digits"));
                }
            }
            Some(PatientIdentifier::Alternative(id)) => {
                let id_at = format!("{at}.AlternativeIdentifier");
                if id.chars().count() != 10 {
                    self.structure(&id_at, format!("`{id_at}` is not 10 characters: `{id}`"));
                }
            }
        }
        self.required(&format!("{at}.PersonSurnameName"), &patient.surname, 70);
        self.optional(
            &format!("{at}.PersonGivenName"),
            patient.given_name.as_ref(),
            70,
        );
        let rest = [
            ("StreetName", &patient.street_name),
            ("SuburbName", &patient.suburb_name),
            ("DistrictName", &patient.district_name),
            ("PostCodeIdentifier", &patient.post_code_identifier),
            ("OccupancyText", &patient.occupancy_text),
        ];
        if full {
            for (name, value) in rest {
                let max = if name == "PostCodeIdentifier" { 9 } else { 35 };
                self.optional(&format!("{at}.{name}"), value.as_ref(), max);
            }
            let code_at = format!("{at}.EpisodeOfCareStatusCode");
            self.listed(
                &code_at,
                patient
                    .episode_of_care_status_code
                    .as_deref()
                    .unwrap_or_default(),
                EPISODE_OF_CARE_STATUS_CODES,
            );
        } else {
            let extra = rest
                .into_iter()
                .chain([(
                    "EpisodeOfCareStatusCode",
                    &patient.episode_of_care_status_code,
                )])
                .filter(|(_, v)| v.is_some());
            for (name, _) in extra {
                self.structure(
                    &format!("{at}.{name}"),
                    format!("`{name}` is not part of an XBIN01 patient"),
                );
            }
        }
    }

    fn clinical_email(&mut self, x: &Xdis91, at: &str) {
        let version = self.version;
        self.letter(&x.letter, at, version, "XDIS91", STATUS_CODES);
        self.optional(
            &format!("{at}.Letter.EpisodeOfCareIdentifier"),
            x.letter.episode_of_care_identifier.as_ref(),
            35,
        );
        self.party(&x.sender, at, "Sender");
        self.party(&x.receiver, at, "Receiver");
        self.patient(&x.patient, at, true);
        if let Some(info) = &x.additional_information {
            let info_at = format!("{at}.AdditionalInformation");
            if let Some(priority) = &info.priority {
                self.listed(&format!("{info_at}.Priority"), priority, PRIORITIES);
            }
            self.optional(&format!("{info_at}.Subject"), info.subject.as_ref(), 70);
        }
        if x.clinical_information.len() > 10 {
            self.structure(
                &format!("{at}.ClinicalInformation"),
                format!(
                    "{} `ClinicalInformation`, at most 10 are allowed",
                    x.clinical_information.len()
                ),
            );
        }
        if x.references.len() > 10 {
            self.structure(
                &format!("{at}.Reference"),
                format!("{} `Reference`, at most 10 are allowed", x.references.len()),
            );
        }
        for (i, reference) in x.references.iter().enumerate() {
            let r_at = format!("{at}.Reference[{i}]");
            self.required(
                &format!("{r_at}.RefDescription"),
                &reference.description,
                70,
            );
            match &reference.target {
                None => self.structure(&r_at, format!("`{r_at}` has none of `URL`, `SUP`, `BIN`")),
                Some(ReferenceTarget::Url(url)) => self.required(&format!("{r_at}.URL"), url, 350),
                Some(ReferenceTarget::Supplement) => {}
                Some(ReferenceTarget::Bin(bin)) => {
                    let b_at = format!("{r_at}.BIN");
                    self.required(
                        &format!("{b_at}.ObjectIdentifier"),
                        &bin.object_identifier,
                        35,
                    );
                    self.listed(
                        &format!("{b_at}.ObjectCode"),
                        &bin.object_code,
                        OBJECT_CODES,
                    );
                    self.listed(
                        &format!("{b_at}.ObjectExtensionCode"),
                        &bin.object_extension_code,
                        OBJECT_EXTENSION_CODES,
                    );
                    self.size(
                        &format!("{b_at}.OriginalObjectSize"),
                        &bin.original_object_size,
                    );
                }
            }
        }
    }

    fn size(&mut self, at: &str, value: &str) {
        if value.is_empty() {
            self.structure(at, format!("`{at}` is missing or empty"));
        } else if declared_size(value).is_none() {
            self.structure(at, format!("`{at}` is `{value}`, not a positive integer"));
        }
    }

    fn binary_letter(&mut self, x: &Xbin01, at: &str) {
        let version = self.version;
        self.letter(&x.letter, at, version, "XBIN01", &["nytbrev"]);
        if x.letter.episode_of_care_identifier.is_some() {
            self.structure(
                &format!("{at}.Letter.EpisodeOfCareIdentifier"),
                "`EpisodeOfCareIdentifier` is not part of an XBIN01 letter".to_string(),
            );
        }
        self.party(&x.sender, at, "Sender");
        self.party(&x.receiver, at, "Receiver");
        match &x.subject {
            BinarySubject::Patient(patient) => self.patient(patient, at, false),
            BinarySubject::SystemInformation { contents } => {
                self.optional(&format!("{at}.Contents"), contents.as_ref(), 70);
            }
        }
        if x.objects.is_empty() {
            self.structure(
                &format!("{at}.BinaryObject"),
                "the binary letter has no `BinaryObject`".to_string(),
            );
        }
        if x.objects.len() > 10 {
            self.structure(
                &format!("{at}.BinaryObject"),
                format!("{} `BinaryObject`, at most 10 are allowed", x.objects.len()),
            );
        }
        let extensions: Vec<&str> = OBJECT_EXTENSION_CODES
            .iter()
            .chain(XBIN01_EXTRA_EXTENSION_CODES)
            .copied()
            .collect();
        for (i, object) in x.objects.iter().enumerate() {
            let o_at = format!("{at}.BinaryObject[{i}]");
            let id_at = format!("{o_at}.ObjectIdentifier");
            if object.object_identifier.is_empty() {
                self.structure(&id_at, format!("`{id_at}` is missing or empty"));
            } else if version == "XB0131X" && !is_uuid(&object.object_identifier) {
                self.structure(
                    &id_at,
                    format!(
                        "`{id_at}` is `{}`, not a UUID (8-4-4-4-12 hex digits) as XB0131X requires",
                        object.object_identifier
                    ),
                );
            }
            self.listed(
                &format!("{o_at}.ObjectCode"),
                &object.object_code,
                OBJECT_CODES,
            );
            self.listed(
                &format!("{o_at}.ObjectExtensionCode"),
                &object.object_extension_code,
                &extensions,
            );
            self.size(
                &format!("{o_at}.OriginalObjectSize"),
                &object.original_object_size,
            );
            if object.data.is_empty() {
                let data_at = format!("{o_at}.Object_Base64Encoded");
                self.structure(&data_at, format!("`{data_at}` is missing or empty"));
            }
        }
    }

    fn receipt(&mut self, r: &Receipt, at: &str) {
        let letter_at = format!("{at}.Letter");
        self.required(&format!("{letter_at}.Identifier"), &r.letter.identifier, 14);
        self.exact(
            &format!("{letter_at}.VersionCode"),
            &r.letter.version_code,
            r.kind.version_code(),
        );
        self.required(
            &format!("{letter_at}.StatisticalCode"),
            &r.letter.statistical_code,
            8,
        );
        self.checked(
            &rule::PARTY_IDENTIFIERS,
            "every sender and receiver EAN is a GLN with a valid GS1 check digit",
        );
        if r.kind == ReceiptKind::VansNegative {
            // XCTL01 is sent by the VANS: its sender is the VANS's id, not an EAN (DOMAIN.md §4;
            // MedCom's schema: `CTRLSenderType`, `EANIdentifier` of 1–35 characters).
            self.required(&format!("{at}.Sender.EANIdentifier"), &r.sender_ean, 35);
        } else {
            self.ean(
                &format!("{at}.Sender.EANIdentifier"),
                &r.sender_ean,
                "Sender",
            );
        }
        self.ean(
            &format!("{at}.Receiver.EANIdentifier"),
            &r.receiver_ean,
            "Receiver",
        );
        let o_at = format!("{at}.OriginalEmessage");
        self.required(
            &format!("{o_at}.OriginalEnvelopeIdentifier"),
            &r.original_envelope_identifier,
            14,
        );
        for (name, value) in [
            ("OriginalSender", &r.original_sender_ean),
            ("OriginalReceiver", &r.original_receiver_ean),
        ] {
            self.required(&format!("{o_at}.{name}.EANIdentifier"), value, 35);
        }
        if r.letters.len() > 99 {
            self.structure(
                &format!("{o_at}.OriginalLetter"),
                format!(
                    "{} `OriginalLetter`, at most 99 are allowed",
                    r.letters.len()
                ),
            );
        }
        for (i, letter) in r.letters.iter().enumerate() {
            let l_at = format!("{o_at}.OriginalLetter[{i}]");
            self.required(
                &format!("{l_at}.OriginalLetterIdentifier"),
                &letter.original_letter_identifier,
                14,
            );
            self.required(
                &format!("{l_at}.OriginalVersionCode"),
                &letter.original_version_code,
                7,
            );
        }
        self.refuse_codes(r, at);
    }

    fn refuse_codes(&mut self, r: &Receipt, at: &str) {
        let o_at = format!("{at}.OriginalEmessage");
        if !r.kind.is_negative() {
            self.checked(
                &rule::OIOXML_REFUSECODE,
                "the positive receipt gives no RefuseCode",
            );
            if r.refuse_code.is_some() || r.refuse_text.is_some() {
                self.breach(
                    &rule::OIOXML_REFUSECODE,
                    &format!("{o_at}.RefuseCode"),
                    "a positive receipt (XCTL03) gives a RefuseCode or RefuseText; only negative receipts refuse".to_string(),
                );
            }
            for (i, letter) in r.letters.iter().enumerate() {
                if letter.refuse_code.is_some() || letter.refuse_text.is_some() {
                    self.breach(
                        &rule::OIOXML_REFUSECODE,
                        &format!("{o_at}.OriginalLetter[{i}].RefuseCode"),
                        format!(
                            "the positive receipt refuses letter `{}` (RefuseCode or RefuseText); only negative receipts refuse",
                            letter.original_letter_identifier
                        ),
                    );
                }
            }
            return;
        }
        self.checked(
            &rule::OIOXML_REFUSECODE,
            "every refused letter has a RefuseCode from the list",
        );
        let kind = r.kind.standard();
        if let Some(RefuseCode::Other(code)) = &r.refuse_code {
            self.breach(
                &rule::OIOXML_REFUSECODE,
                &format!("{o_at}.RefuseCode"),
                format!(
                    "the {kind} RefuseCode `{code}` is not one of {}",
                    refuse_list()
                ),
            );
        }
        if r.letters.is_empty() && r.refuse_code.is_none() {
            self.breach(
                &rule::OIOXML_REFUSECODE,
                &format!("{o_at}.RefuseCode"),
                format!(
                    "the {kind} receipt quotes no letter and gives no RefuseCode for the envelope"
                ),
            );
        }
        for (i, letter) in r.letters.iter().enumerate() {
            let l_at = format!("{o_at}.OriginalLetter[{i}].RefuseCode");
            match &letter.refuse_code {
                Some(RefuseCode::Other(code)) => self.breach(
                    &rule::OIOXML_REFUSECODE,
                    &l_at,
                    format!(
                        "the {kind} RefuseCode `{code}` of letter `{}` is not one of {}",
                        letter.original_letter_identifier,
                        refuse_list()
                    ),
                ),
                Some(_) => {}
                None if r.refuse_code.is_none() => self.breach(
                    &rule::OIOXML_REFUSECODE,
                    &l_at,
                    format!(
                        "the {kind} receipt gives no RefuseCode for letter `{}` (nor for the envelope)",
                        letter.original_letter_identifier
                    ),
                ),
                None => {}
            }
        }
    }
}

fn quoted(list: &[&str]) -> String {
    list.iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn refuse_list() -> String {
    let codes: Vec<&str> = RefuseCode::LIST.iter().map(RefuseCode::as_str).collect();
    quoted(&codes)
}

/// `xs:date`: `YYYY-MM-DD` (a real calendar day), optionally with a time zone, surrounding white
/// space allowed (the type collapses it).
pub fn is_xs_date(text: &str) -> bool {
    let text = text.trim_matches([' ', '\t', '\n', '\r']);
    // Every character of an `xs:date` is ASCII; splitting other text at byte 10 could cut a
    // character in two.
    if !text.is_ascii() {
        return false;
    }
    let (date, zone) = text.split_at(text.len().min(10));
    let zone_ok = zone.is_empty()
        || zone == "Z"
        || (zone.len() == 6 && matches!(zone.as_bytes()[0], b'+' | b'-') && is_hh_mm(&zone[1..]));
    let b = date.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !zone_ok {
        return false;
    }
    let number = |s: &str| -> Option<u32> {
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten()
    };
    let (Some(year), Some(month), Some(day)) =
        (number(&date[..4]), number(&date[5..7]), number(&date[8..]))
    else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// MedCom's `Time_hh_mm`: `(([0-1][0-9])|(2[0-3])):[0-5][0-9]`, exactly.
pub fn is_hh_mm(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 5
        && b[2] == b':'
        && matches!(
            (b[0], b[1]),
            (b'0'..=b'1', b'0'..=b'9') | (b'2', b'0'..=b'3')
        )
        && matches!((b[3], b[4]), (b'0'..=b'5', b'0'..=b'9'))
}

/// A UUID written `8-4-4-4-12` hex digits (either case).
pub fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{XBIN01, XCTL01, XCTL02, XCTL03, XDIS91, message, replace};
    use super::*;
    use crate::finding::Grade;

    /// The breaches among `findings`, as (rule id, location).
    fn breaches(findings: &[Finding]) -> Vec<(&str, &str)> {
        findings
            .iter()
            .filter(|f| f.grade != Grade::Ok)
            .map(|f| (f.rule.as_str(), f.location.as_deref().unwrap_or_default()))
            .collect()
    }

    fn with_xdis91(change: impl FnOnce(&mut Xdis91)) -> Emessage {
        let mut m = message(XDIS91);
        if let Body::ClinicalEmail(x) = &mut m.body {
            change(x);
        }
        m
    }

    fn with_receipt(bytes: &[u8], change: impl FnOnce(&mut Receipt)) -> Emessage {
        let mut m = message(bytes);
        if let Body::Receipt(r) = &mut m.body {
            change(r);
        }
        m
    }

    #[test]
    fn our_fixtures_have_no_breach_and_say_what_was_checked() {
        for bytes in [XDIS91, XBIN01, XCTL03, XCTL02, XCTL01] {
            let findings = check(&message(bytes));
            assert_eq!(breaches(&findings), Vec::<(&str, &str)>::new());
            assert!(findings.iter().any(|f| f.rule == "oioxml-structure"));
            assert!(findings.iter().any(|f| f.rule == "party-identifiers"));
        }
        assert!(
            check(&message(XCTL02))
                .iter()
                .any(|f| f.rule == "oioxml-refusecode")
        );
        assert!(
            check(&message(XCTL03))
                .iter()
                .any(|f| f.rule == "oioxml-receipt-no-receipt")
        );
    }

    #[test]
    fn a_bad_ean_check_digit_is_one_party_identifiers_finding() {
        // 579000134812 has GS1 check digit 0 (identifier.rs tests); 1 is wrong.
        let m = with_xdis91(|x| x.sender.ean = "5790001348121".to_string());
        let findings = check(&m);
        assert_eq!(
            breaches(&findings),
            vec![(
                "party-identifiers",
                "Emessage.ClinicalEmail.Sender.EANIdentifier"
            )]
        );
        let f = findings
            .iter()
            .find(|f| f.grade == Grade::F2)
            .expect("a breach");
        assert!(
            f.message.contains("check digit of `579000134812` is 0"),
            "{}",
            f.message
        );
    }

    #[test]
    fn every_failing_party_gets_its_own_finding() {
        let m = with_receipt(XCTL03, |r| {
            r.sender_ean = "12345".to_string();
            r.receiver_ean = "5790001348129".to_string();
        });
        assert_eq!(
            breaches(&check(&m)),
            vec![
                (
                    "party-identifiers",
                    "Emessage.PositiveReceipt.Sender.EANIdentifier"
                ),
                (
                    "party-identifiers",
                    "Emessage.PositiveReceipt.Receiver.EANIdentifier"
                ),
            ]
        );
    }

    #[test]
    fn a_sorkode_identifier_must_have_the_sor_form() {
        let m = with_xdis91(|x| x.receiver.identifier = "12345".to_string());
        assert_eq!(
            breaches(&check(&m)),
            vec![(
                "party-identifiers",
                "Emessage.ClinicalEmail.Receiver.Identifier"
            )]
        );
        let ydernummer = with_xdis91(|x| {
            x.receiver.identifier = "12345".to_string();
            x.receiver.identifier_code = "ydernummer".to_string();
        });
        assert_eq!(breaches(&check(&ydernummer)), Vec::<(&str, &str)>::new());
    }

    #[test]
    fn organisation_name_over_35_characters_is_a_structure_finding() {
        // 36 characters, counted as characters, not bytes (æøå are 2 bytes in UTF-8).
        let name = "Plejecenter Søndergården og Ærøhjem ";
        assert_eq!(name.chars().count(), 36);
        let m = with_xdis91(|x| x.sender.organisation_name = Some(name.to_string()));
        assert_eq!(
            breaches(&check(&m)),
            vec![(
                "oioxml-structure",
                "Emessage.ClinicalEmail.Sender.OrganisationName"
            )]
        );
        let ok = with_xdis91(|x| x.sender.organisation_name = Some(name.trim_end().to_string()));
        assert_eq!(breaches(&check(&ok)), Vec::<(&str, &str)>::new());
    }

    #[test]
    fn a_sender_needs_an_organisation_name_a_receiver_does_not() {
        let m = with_xdis91(|x| {
            x.sender.organisation_name = None;
            x.receiver.organisation_name = None;
        });
        assert_eq!(
            breaches(&check(&m)),
            vec![(
                "oioxml-structure",
                "Emessage.ClinicalEmail.Sender.OrganisationName"
            )]
        );
    }

    #[test]
    fn version_type_and_status_codes_are_checked() {
        let m = with_xdis91(|x| x.letter.version_code = "XD9133L".to_string());
        assert_eq!(
            breaches(&check(&m)),
            vec![(
                "oioxml-structure",
                "Emessage.ClinicalEmail.Letter.VersionCode"
            )]
        );
        let m = with_xdis91(|x| x.letter.status_code = "annulleretbrev".to_string());
        assert_eq!(
            breaches(&check(&m)),
            vec![(
                "oioxml-structure",
                "Emessage.ClinicalEmail.Letter.StatusCode"
            )]
        );
        let m = with_receipt(XCTL02, |r| r.letter.version_code = "XC0330Q".to_string());
        assert_eq!(
            breaches(&check(&m)),
            vec![(
                "oioxml-structure",
                "Emessage.NegativeReceipt.Letter.VersionCode"
            )]
        );
    }

    #[test]
    fn a_missing_required_element_read_from_bytes_is_a_finding() {
        let bytes = replace(XCTL03, "<StatisticalCode>XCTL03</StatisticalCode>", "");
        assert_eq!(
            breaches(&check(&message(&bytes))),
            vec![(
                "oioxml-structure",
                "Emessage.PositiveReceipt.Letter.StatisticalCode"
            )]
        );
    }

    #[test]
    fn dates_and_times_have_their_forms() {
        let m = with_xdis91(|x| x.letter.authorisation = DateTime::new("2024-02-30", "24:00"));
        assert_eq!(
            breaches(&check(&m)),
            vec![
                (
                    "oioxml-structure",
                    "Emessage.ClinicalEmail.Letter.Authorisation.Date"
                ),
                (
                    "oioxml-structure",
                    "Emessage.ClinicalEmail.Letter.Authorisation.Time"
                ),
            ]
        );
        assert!(
            is_xs_date("2024-02-29")
                && is_xs_date(" 2024-05-01\n")
                && is_xs_date("2024-05-01+02:00")
        );
        assert!(!is_xs_date("2023-02-29") && !is_xs_date("01-05-2024") && !is_xs_date("2024-5-1"));
        assert!(is_hh_mm("00:00") && is_hh_mm("23:59"));
        assert!(
            !is_hh_mm("24:00") && !is_hh_mm("9:30") && !is_hh_mm("09:30:00") && !is_hh_mm(" 09:30")
        );
    }

    /// Found by `examples/fuzz.rs`: the date was split at byte 10, inside a character, and
    /// panicked. The letter is ISO-8859-1, so the two bytes of UTF-8 `ø` read as `Ã¸`, and `Ã`
    /// takes bytes 9 and 10 of `2024-05-0Ã¸`: no `YYYY-MM-DD`, so a breach.
    #[test]
    fn a_date_cut_inside_a_character_is_a_breach_not_a_panic() {
        assert!(!is_xs_date("2024-05-0\u{c3}\u{b8}"));
        let bytes = replace(
            XDIS91,
            "<Date>2024-05-01</Date>",
            "<Date>2024-05-0\u{f8}</Date>",
        );
        let findings = check(&message(&bytes));
        assert!(
            findings.iter().any(|f| f.grade != Grade::Ok
                && f.location.as_deref() == Some("Emessage.Envelope.Sent.Date")),
            "{findings:?}"
        );
    }

    #[test]
    fn a_refuse_code_outside_the_list_is_an_oioxml_refusecode_finding() {
        let m = with_receipt(XCTL02, |r| {
            r.letters[0].refuse_code = Some(RefuseCode::parse("problem_med_modtagerid"));
        });
        let findings = check(&m);
        assert_eq!(
            breaches(&findings),
            vec![(
                "oioxml-refusecode",
                "Emessage.NegativeReceipt.OriginalEmessage.OriginalLetter[0].RefuseCode"
            )]
        );
        assert!(
            findings
                .iter()
                .any(|f| f.message.contains("`problem_med_modtagerid`"))
        );
    }

    #[test]
    fn a_negative_receipt_without_any_refuse_code_is_a_finding() {
        let m = with_receipt(XCTL02, |r| r.letters[0].refuse_code = None);
        assert_eq!(
            breaches(&check(&m)),
            vec![(
                "oioxml-refusecode",
                "Emessage.NegativeReceipt.OriginalEmessage.OriginalLetter[0].RefuseCode"
            )]
        );
        // An envelope-level code covers the letters (as in xctl01.xml).
        let covered = with_receipt(XCTL01, |r| r.letters[0].refuse_code = None);
        assert_eq!(breaches(&check(&covered)), Vec::<(&str, &str)>::new());
    }

    #[test]
    fn a_positive_receipt_refuses_nothing() {
        let m = with_receipt(XCTL03, |r| {
            r.letters[0].refuse_code = Some(RefuseCode::Syntaksfejl);
        });
        assert_eq!(
            breaches(&check(&m)),
            vec![(
                "oioxml-refusecode",
                "Emessage.PositiveReceipt.OriginalEmessage.OriginalLetter[0].RefuseCode"
            )]
        );
    }

    #[test]
    fn a_receipt_that_asks_for_a_receipt_is_a_finding() {
        let mut m = message(XCTL03);
        m.envelope.acknowledgement_code = AcknowledgementCode::PlusPositive;
        assert_eq!(
            breaches(&check(&m)),
            vec![(
                "oioxml-receipt-no-receipt",
                "Emessage.Envelope.AcknowledgementCode"
            )]
        );
        assert!(!m.wants_positive_receipt());
        assert!(message(XDIS91).wants_positive_receipt());
    }

    #[test]
    fn an_xbin01_object_identifier_must_be_a_uuid() {
        let mut m = message(XBIN01);
        if let Body::BinaryLetter(x) = &mut m.body {
            x.objects[0].object_identifier = "3f2b8c1e9d4a4f6b8e2a7c5d1b0e9f34".to_string();
        }
        assert_eq!(
            breaches(&check(&m)),
            vec![(
                "oioxml-structure",
                "Emessage.BinaryLetter.BinaryObject[0].ObjectIdentifier"
            )]
        );
        assert!(is_uuid("3F2B8C1E-9D4A-4F6B-8E2A-7C5D1B0E9F34"));
    }

    #[test]
    fn an_unknown_extension_code_and_a_bad_size_are_structure_findings() {
        let m = with_xdis91(|x| {
            if let Some(ReferenceTarget::Bin(bin)) = &mut x.references[0].target {
                bin.object_extension_code = "docx".to_string();
                bin.original_object_size = "628 bytes".to_string();
            }
        });
        assert_eq!(
            breaches(&check(&m)),
            vec![
                (
                    "oioxml-structure",
                    "Emessage.ClinicalEmail.Reference[0].BIN.ObjectExtensionCode"
                ),
                (
                    "oioxml-structure",
                    "Emessage.ClinicalEmail.Reference[0].BIN.OriginalObjectSize"
                ),
            ]
        );
    }
}
