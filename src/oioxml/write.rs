//! Writing an [`Emessage`] as OIOXML bytes: receipts for the reference vendor, XDIS91 and XBIN01
//! letters for the harness.
//!
//! The form is fixed, so what [`super::parse`] reads from a file in this form is written back
//! byte for byte:
//!
//! - an XML declaration naming the encoding (`ISO-8859-1` or `UTF-8`), LF line ends, a final LF;
//! - the root `Emessage` with the letter's namespace as default namespace
//!   ([`super::Body::namespace`]), no prefixes, no other attributes;
//! - two spaces of indentation per level; a simple element on one line;
//! - elements in the order of [`super::parse`]'s structure; an optional field that is `None` is
//!   left out, and so is a required text element whose value is empty (that is how a "missing
//!   element" fault is made);
//! - formatted text (`Text01`, `RefuseText`) on one line, `\n` written as `<Break/>`;
//! - `Object_Base64Encoded` as one line of standard base64 with padding;
//! - `&`, `<`, `>` escaped, a carriage return as `&#13;`; in ISO-8859-1 a character beyond
//!   U+00FF as a character reference (`&#x2013;`); a character XML 1.0 forbids (most C0 controls)
//!   as U+FFFD, since it cannot be written at all.

use base64::Engine as _;

use super::model::*;

/// The encoding [`write()`] produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// ISO-8859-1 (Latin-1), as many OIOXML systems write; other characters become character
    /// references.
    Iso88591,
    /// UTF-8.
    Utf8,
}

impl Encoding {
    /// The label in the XML declaration.
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Iso88591 => "ISO-8859-1",
            Encoding::Utf8 => "UTF-8",
        }
    }
}

/// Writes `message` as OIOXML in `encoding` (see the module docs for the exact form).
pub fn write(message: &Emessage, encoding: Encoding) -> Vec<u8> {
    let mut w = Writer {
        out: String::new(),
        depth: 0,
    };
    w.out.push_str(&format!(
        "<?xml version=\"1.0\" encoding=\"{}\"?>\n<Emessage xmlns=\"{}\">\n",
        encoding.label(),
        message.namespace()
    ));
    w.depth = 1;
    w.envelope(&message.envelope);
    match &message.body {
        Body::ClinicalEmail(x) => w.clinical_email(x),
        Body::BinaryLetter(x) => w.binary_letter(x),
        Body::Receipt(r) => w.receipt(r),
        Body::Form(f) => w.tree(&f.root),
    }
    w.out.push_str("</Emessage>\n");
    match encoding {
        Encoding::Utf8 => w.out.into_bytes(),
        Encoding::Iso88591 => latin1(&w.out),
    }
}

/// ISO-8859-1 bytes of `text`; a character beyond U+00FF (only ever in text content, as all
/// markup is ASCII) becomes a character reference.
fn latin1(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match u8::try_from(u32::from(c)) {
            Ok(b) => out.push(b),
            Err(_) => out.extend_from_slice(format!("&#x{:X};", u32::from(c)).as_bytes()),
        }
    }
    out
}

struct Writer {
    out: String,
    depth: usize,
}

impl Writer {
    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn open(&mut self, name: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str(">\n");
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth -= 1;
        self.indent();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    /// A simple element, always written.
    fn element(&mut self, name: &str, value: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        escape(&mut self.out, value);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    /// A required simple element: left out when empty.
    fn required(&mut self, name: &str, value: &str) {
        if !value.is_empty() {
            self.element(name, value);
        }
    }

    /// An optional simple element: written when present.
    fn optional(&mut self, name: &str, value: Option<&String>) {
        if let Some(value) = value {
            self.element(name, value);
        }
    }

    /// Formatted text on one line, `\n` as `<Break/>`.
    fn formatted(&mut self, name: &str, value: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        for (i, line) in value.split('\n').enumerate() {
            if i > 0 {
                self.out.push_str("<Break/>");
            }
            escape(&mut self.out, line);
        }
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    /// A letter kept as a tree ([`super::form`]): an element without children on one line, with
    /// its text (an empty one as `<Name/>`); mixed content on one line as read.
    fn tree(&mut self, e: &super::form::Element) {
        if e.children.is_empty() || e.is_mixed() {
            self.indent();
            self.inline(e);
            self.out.push('\n');
        } else {
            self.open(&e.name);
            for c in &e.children {
                self.tree(c);
            }
            self.close(&e.name);
        }
    }

    /// An element and everything under it on one line.
    fn inline(&mut self, e: &super::form::Element) {
        if e.name.is_empty() {
            escape(&mut self.out, &e.text);
            return;
        }
        if e.children.is_empty() && e.text.is_empty() {
            self.out.push_str(&format!("<{}/>", e.name));
            return;
        }
        self.out.push_str(&format!("<{}>", e.name));
        escape(&mut self.out, &e.text);
        for c in &e.children {
            self.inline(c);
        }
        self.out.push_str(&format!("</{}>", e.name));
    }

    fn date_time(&mut self, name: &str, value: &DateTime) {
        self.open(name);
        self.required("Date", &value.date);
        self.required("Time", &value.time);
        self.close(name);
    }

    fn envelope(&mut self, envelope: &Envelope) {
        self.open("Envelope");
        self.date_time("Sent", &envelope.sent);
        self.required("Identifier", &envelope.identifier);
        self.required(
            "AcknowledgementCode",
            envelope.acknowledgement_code.as_str(),
        );
        self.close("Envelope");
    }

    fn letter(&mut self, letter: &Letter) {
        self.open("Letter");
        self.required("Identifier", &letter.identifier);
        self.required("VersionCode", &letter.version_code);
        self.required("StatisticalCode", &letter.statistical_code);
        self.date_time("Authorisation", &letter.authorisation);
        self.required("TypeCode", &letter.type_code);
        self.required("StatusCode", &letter.status_code);
        self.optional(
            "EpisodeOfCareIdentifier",
            letter.episode_of_care_identifier.as_ref(),
        );
        self.close("Letter");
    }

    fn party(&mut self, name: &str, party: &Party) {
        self.open(name);
        self.required("EANIdentifier", &party.ean);
        self.required("Identifier", &party.identifier);
        self.required("IdentifierCode", &party.identifier_code);
        self.optional("OrganisationName", party.organisation_name.as_ref());
        self.optional("DepartmentName", party.department_name.as_ref());
        self.optional("UnitName", party.unit_name.as_ref());
        self.optional("StreetName", party.street_name.as_ref());
        self.optional("SuburbName", party.suburb_name.as_ref());
        self.optional("DistrictName", party.district_name.as_ref());
        self.optional("PostCodeIdentifier", party.post_code_identifier.as_ref());
        self.optional(
            "TelephoneSubscriberIdentifier",
            party.telephone_subscriber_identifier.as_ref(),
        );
        self.optional(
            "MedicalSpecialityCode",
            party.medical_speciality_code.as_ref(),
        );
        self.close(name);
    }

    fn patient(&mut self, patient: &Patient) {
        self.open("Patient");
        match &patient.identifier {
            Some(PatientIdentifier::Cpr(cpr)) => self.required("CivilRegistrationNumber", cpr),
            Some(PatientIdentifier::Alternative(id)) => self.required("AlternativeIdentifier", id),
            None => {}
        }
        self.required("PersonSurnameName", &patient.surname);
        self.optional("PersonGivenName", patient.given_name.as_ref());
        self.optional("StreetName", patient.street_name.as_ref());
        self.optional("SuburbName", patient.suburb_name.as_ref());
        self.optional("DistrictName", patient.district_name.as_ref());
        self.optional("PostCodeIdentifier", patient.post_code_identifier.as_ref());
        self.optional("OccupancyText", patient.occupancy_text.as_ref());
        self.optional(
            "EpisodeOfCareStatusCode",
            patient.episode_of_care_status_code.as_ref(),
        );
        self.close("Patient");
    }

    fn clinical_email(&mut self, x: &Xdis91) {
        self.open("ClinicalEmail");
        self.letter(&x.letter);
        self.party("Sender", &x.sender);
        self.party("Receiver", &x.receiver);
        self.patient(&x.patient);
        if let Some(info) = &x.additional_information {
            self.open("AdditionalInformation");
            self.optional("Priority", info.priority.as_ref());
            self.optional("Subject", info.subject.as_ref());
            self.close("AdditionalInformation");
        }
        for text in &x.clinical_information {
            self.open("ClinicalInformation");
            self.formatted("Text01", text);
            self.close("ClinicalInformation");
        }
        for reference in &x.references {
            self.open("Reference");
            self.required("RefDescription", &reference.description);
            match &reference.target {
                Some(ReferenceTarget::Url(url)) => self.element("URL", url),
                Some(ReferenceTarget::Supplement) => self.element("SUP", "true"),
                Some(ReferenceTarget::Bin(bin)) => {
                    self.open("BIN");
                    self.required("ObjectIdentifier", &bin.object_identifier);
                    self.required("ObjectCode", &bin.object_code);
                    self.required("ObjectExtensionCode", &bin.object_extension_code);
                    self.required("OriginalObjectSize", &bin.original_object_size);
                    self.close("BIN");
                }
                None => {}
            }
            self.close("Reference");
        }
        self.close("ClinicalEmail");
    }

    fn binary_letter(&mut self, x: &Xbin01) {
        self.open("BinaryLetter");
        self.letter(&x.letter);
        self.party("Sender", &x.sender);
        self.party("Receiver", &x.receiver);
        match &x.subject {
            BinarySubject::Patient(patient) => self.patient(patient),
            BinarySubject::SystemInformation { contents } => {
                self.element("SystemInformation", "true");
                self.optional("Contents", contents.as_ref());
            }
        }
        for object in &x.objects {
            self.open("BinaryObject");
            self.required("ObjectIdentifier", &object.object_identifier);
            self.required("ObjectCode", &object.object_code);
            self.required("ObjectExtensionCode", &object.object_extension_code);
            self.required("OriginalObjectSize", &object.original_object_size);
            self.element(
                "Object_Base64Encoded",
                &base64::engine::general_purpose::STANDARD.encode(&object.data),
            );
            self.close("BinaryObject");
        }
        self.close("BinaryLetter");
    }

    fn ean_only(&mut self, name: &str, ean: &str) {
        self.open(name);
        self.required("EANIdentifier", ean);
        self.close(name);
    }

    fn receipt(&mut self, r: &Receipt) {
        let element = r.kind.element();
        self.open(element);
        self.open("Letter");
        self.required("Identifier", &r.letter.identifier);
        self.required("VersionCode", &r.letter.version_code);
        self.required("StatisticalCode", &r.letter.statistical_code);
        self.close("Letter");
        self.ean_only("Sender", &r.sender_ean);
        self.ean_only("Receiver", &r.receiver_ean);
        self.open("OriginalEmessage");
        self.required(
            "OriginalEnvelopeIdentifier",
            &r.original_envelope_identifier,
        );
        self.ean_only("OriginalSender", &r.original_sender_ean);
        self.ean_only("OriginalReceiver", &r.original_receiver_ean);
        if let Some(code) = &r.refuse_code {
            self.element("RefuseCode", code.as_str());
        }
        if let Some(text) = &r.refuse_text {
            self.formatted("RefuseText", text);
        }
        for letter in &r.letters {
            self.open("OriginalLetter");
            self.required(
                "OriginalLetterIdentifier",
                &letter.original_letter_identifier,
            );
            self.required("OriginalVersionCode", &letter.original_version_code);
            if let Some(code) = &letter.refuse_code {
                self.element("RefuseCode", code.as_str());
            }
            if let Some(text) = &letter.refuse_text {
                self.formatted("RefuseText", text);
            }
            self.close("OriginalLetter");
        }
        self.close("OriginalEmessage");
        self.close(element);
    }
}

/// Appends `text` escaped for XML character data.
fn escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
}

/// Whether XML 1.0 allows `c` in a document.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}
