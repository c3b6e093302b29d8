//! Reading OIOXML bytes into the [`Emessage`] model.
//!
//! Rules:
//!
//! - **Encoding** comes from the byte order mark or the XML declaration: UTF-8 (the default
//!   without a declaration), ISO-8859-1 and its aliases (decoded exactly: byte = code point, not
//!   as windows-1252), US-ASCII, and other ASCII-compatible labels `encoding_rs` knows
//!   (windows-1252, ISO-8859-15). UTF-16 is refused. Bytes that are invalid in the declared
//!   encoding are an error at their line and column: a file that says UTF-8 but holds ISO-8859-1
//!   `æøå` is the classic case.
//! - **Hostile XML**: a DOCTYPE is refused, so no entity is ever declared or expanded; only the
//!   five XML entities and character references are understood.
//! - **Namespaces are checked**: the root `Emessage` must be in a namespace of [`RELEASES`]
//!   (each release of MedCom's schemas that carries XDIS91, XBIN01, the receipts, the home care letters or the LÆ forms) with a letter
//!   of that release, and every element below it in the root's namespace, whatever prefix is
//!   used. A letter in a namespace of ours that does not carry it is a namespace error naming
//!   the right one; any other namespace, or a letter no release of ours carries (XDIS22, XDIS14,
//!   …), is [`OioxmlError::UnknownRelease`] naming both.
//! - **Closed world, lenient values.** Parsing fails only where the model cannot hold what the
//!   bytes say: an unknown element or attribute (`xsi:` attributes are allowed on the root),
//!   elements out of order, a second copy of a single element, two alternatives of one choice
//!   (`CivilRegistrationNumber` and `AlternativeIdentifier`), text where only elements belong,
//!   more than one letter in the envelope, invalid base64. A missing element, an empty or
//!   over-long value, an unknown code are held by the model and reported by
//!   [`super::structure`] as findings.
//! - **Text** of simple elements is kept exactly as written (no trimming), so a stray space in an
//!   EAN is a finding, not silently repaired.
//! - **Formatted text** (`Text01`, `RefuseText`): `<Break/>` becomes `\n` and `<Space/>` a space;
//!   a literal line break or tab in the text is white space and becomes a space (renderers show
//!   it so; only `<Break/>` breaks a line). `Bold`, `Italic`, `Underline`, `Right`, `Center` and
//!   `FixedFont` (allowed in `Text01`) are flattened to their text: the harness judges the words,
//!   not the layout, and such a letter does not round-trip byte for byte through
//!   [`super::write`].
//!
//! Errors carry the line and column (characters of the decoded text) and the element path
//! (`Emessage.ClinicalEmail.Reference[1].BIN`, indexes 0-based as in FHIRPath).

use std::borrow::Cow;

use base64::Engine as _;
use roxmltree::{Document, Node};

use super::error::OioxmlError;
use super::model::*;

/// The XML Schema instance namespace; its attributes (`xsi:schemaLocation`) are allowed on the
/// root.
const XSI_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// The most XML nodes one message may have. A message with 10 references and 10 binary objects
/// stays far below; the limit bounds the memory a hostile file can take.
const NODES_LIMIT: u32 = 1_000_000;

/// Reads one OIOXML message.
///
/// # Errors
/// [`OioxmlError`] with line, column and (once inside the root) the element path: an unsupported
/// or violated encoding, a DOCTYPE, XML that is not well-formed, a wrong namespace, structure the
/// model cannot hold, or invalid base64 (see the module docs).
pub fn parse(bytes: &[u8]) -> Result<Emessage, OioxmlError> {
    let text = decode(bytes)?;
    reject_doctype(&text)?;
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: NODES_LIMIT,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = Document::parse_with_options(&text, options).map_err(|source| {
        let pos = source.pos();
        OioxmlError::Xml {
            line: pos.row as usize,
            column: pos.col as usize,
            source,
        }
    })?;
    Reader {
        doc: &doc,
        ns: XDIS91_NAMESPACE,
    }
    .emessage()
}

/// One allowed child element: its name and whether it may repeat.
#[derive(Debug, Clone, Copy)]
struct Field {
    name: &'static str,
    many: bool,
}

const fn one(name: &'static str) -> Field {
    Field { name, many: false }
}

const fn many(name: &'static str) -> Field {
    Field { name, many: true }
}

const ENVELOPE: &[Field] = &[one("Sent"), one("Identifier"), one("AcknowledgementCode")];
const DATE_TIME: &[Field] = &[one("Date"), one("Time")];
const CLINICAL_EMAIL: &[Field] = &[
    one("Letter"),
    one("Sender"),
    one("Receiver"),
    one("Patient"),
    one("AdditionalInformation"),
    many("ClinicalInformation"),
    many("Reference"),
];
const XDIS91_LETTER: &[Field] = &[
    one("Identifier"),
    one("VersionCode"),
    one("StatisticalCode"),
    one("Authorisation"),
    one("TypeCode"),
    one("StatusCode"),
    one("EpisodeOfCareIdentifier"),
];
const XBIN01_LETTER: &[Field] = XDIS91_LETTER.split_at(6).0;
const SENDER: &[Field] = &[
    one("EANIdentifier"),
    one("Identifier"),
    one("IdentifierCode"),
    one("OrganisationName"),
    one("DepartmentName"),
    one("UnitName"),
    one("StreetName"),
    one("SuburbName"),
    one("DistrictName"),
    one("PostCodeIdentifier"),
    one("TelephoneSubscriberIdentifier"),
    one("MedicalSpecialityCode"),
];
const RECEIVER: &[Field] = SENDER.split_at(10).0;
const XDIS91_PATIENT: &[Field] = &[
    one("CivilRegistrationNumber"),
    one("AlternativeIdentifier"),
    one("PersonSurnameName"),
    one("PersonGivenName"),
    one("StreetName"),
    one("SuburbName"),
    one("DistrictName"),
    one("PostCodeIdentifier"),
    one("OccupancyText"),
    one("EpisodeOfCareStatusCode"),
];
const XBIN01_PATIENT: &[Field] = XDIS91_PATIENT.split_at(4).0;
const ADDITIONAL_INFORMATION: &[Field] = &[one("Priority"), one("Subject")];
const CLINICAL_INFORMATION: &[Field] = &[one("Text01")];
const REFERENCE: &[Field] = &[one("RefDescription"), one("URL"), one("SUP"), one("BIN")];
const BIN: &[Field] = &[
    one("ObjectIdentifier"),
    one("ObjectCode"),
    one("ObjectExtensionCode"),
    one("OriginalObjectSize"),
];
const BINARY_LETTER: &[Field] = &[
    one("Letter"),
    one("Sender"),
    one("Receiver"),
    one("Patient"),
    one("SystemInformation"),
    one("Contents"),
    many("BinaryObject"),
];
const BINARY_OBJECT: &[Field] = &[
    one("ObjectIdentifier"),
    one("ObjectCode"),
    one("ObjectExtensionCode"),
    one("OriginalObjectSize"),
    one("Object_Base64Encoded"),
];
const RECEIPT: &[Field] = &[
    one("Letter"),
    one("Sender"),
    one("Receiver"),
    one("OriginalEmessage"),
];
const RECEIPT_LETTER: &[Field] = XDIS91_LETTER.split_at(3).0;
const EAN_ONLY: &[Field] = &[one("EANIdentifier")];
/// One spec for the three receipts: the positive receipt has no `RefuseCode`/`RefuseText`, which
/// [`super::structure`] reports instead of refusing to read it.
const ORIGINAL_EMESSAGE: &[Field] = &[
    one("OriginalEnvelopeIdentifier"),
    one("OriginalSender"),
    one("OriginalReceiver"),
    one("RefuseCode"),
    one("RefuseText"),
    many("OriginalLetter"),
];
const ORIGINAL_LETTER: &[Field] = &[
    one("OriginalLetterIdentifier"),
    one("OriginalVersionCode"),
    one("RefuseCode"),
    one("RefuseText"),
];

/// Formatting elements allowed in `Text01` (MedCom's FormattedText), besides `Break`/`Space`.
const TEXT01_MARKUP: &[&str] = &[
    "Break",
    "Space",
    "Bold",
    "Italic",
    "Underline",
    "Right",
    "Center",
    "FixedFont",
];
/// Formatting elements allowed in `RefuseText` (BreakableText).
const BREAKABLE_MARKUP: &[&str] = &["Break", "Space"];

/// Which letter each namespace carries, for the namespace error of a letter in the wrong one.
const LETTERS: &[(&str, &str)] = &[
    ("ClinicalEmail", XDIS91_NAMESPACE),
    ("PositiveReceipt", RECEIPT_NAMESPACE),
    ("NegativeReceipt", RECEIPT_NAMESPACE),
    ("NegativeVansReceipt", RECEIPT_NAMESPACE),
    ("BinaryLetter", XBIN01_NAMESPACE),
];

/// The child elements of one element, each with the name it matched.
struct Kids<'a, 'input> {
    found: Vec<(&'static str, Node<'a, 'input>)>,
}

impl<'a, 'input> Kids<'a, 'input> {
    fn get(&self, name: &str) -> Option<Node<'a, 'input>> {
        self.found.iter().find(|(n, _)| *n == name).map(|(_, e)| *e)
    }

    fn all(&self, name: &str) -> Vec<Node<'a, 'input>> {
        self.found
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, e)| *e)
            .collect()
    }
}

struct Reader<'a, 'input> {
    doc: &'a Document<'input>,
    /// The root's namespace, required of every element.
    ns: &'static str,
}

fn join(path: &str, name: &str) -> String {
    format!("{path}.{name}")
}

fn join_at(path: &str, name: &str, index: usize) -> String {
    format!("{path}.{name}[{index}]")
}

impl<'a, 'input> Reader<'a, 'input> {
    fn position(&self, node: Node<'_, '_>) -> (usize, usize) {
        let pos = self.doc.text_pos_at(node.range().start);
        (pos.row as usize, pos.col as usize)
    }

    fn structure(&self, node: Node<'_, '_>, path: &str, message: String) -> OioxmlError {
        let (line, column) = self.position(node);
        OioxmlError::Structure {
            line,
            column,
            path: path.to_string(),
            message,
        }
    }

    fn namespace(&self, node: Node<'_, '_>, path: &str, expected: &str) -> OioxmlError {
        let (line, column) = self.position(node);
        OioxmlError::Namespace {
            line,
            column,
            path: path.to_string(),
            found: node.tag_name().namespace().unwrap_or_default().to_string(),
            expected: expected.to_string(),
        }
    }

    /// Refuses attributes: OIOXML elements have none (the root may carry `xsi:` ones).
    fn no_attributes(&self, node: Node<'_, '_>, path: &str, root: bool) -> Result<(), OioxmlError> {
        match node
            .attributes()
            .find(|a| !(root && a.namespace() == Some(XSI_NAMESPACE)))
        {
            Some(a) => {
                Err(self.structure(node, path, format!("unexpected attribute `{}`", a.name())))
            }
            None => Ok(()),
        }
    }

    /// Checks the children of `node` against `spec` (known, in order, single ones once, no text)
    /// and returns them.
    fn kids(
        &self,
        node: Node<'a, 'input>,
        path: &str,
        spec: &'static [Field],
    ) -> Result<Kids<'a, 'input>, OioxmlError> {
        let mut found = Vec::new();
        let mut last: Option<usize> = None;
        for child in node.children() {
            if child.is_text() {
                if !child.text().unwrap_or_default().trim().is_empty() {
                    return Err(self.structure(
                        child,
                        path,
                        "text is not allowed here, only elements".to_string(),
                    ));
                }
                continue;
            }
            if !child.is_element() {
                continue;
            }
            let name = child.tag_name().name();
            let child_path = join(path, name);
            if child.tag_name().namespace() != Some(self.ns) {
                return Err(self.namespace(child, &child_path, self.ns));
            }
            self.no_attributes(child, &child_path, false)?;
            let Some(index) = spec.iter().position(|f| f.name == name) else {
                let expected: Vec<String> = spec.iter().map(|f| format!("`{}`", f.name)).collect();
                return Err(self.structure(
                    child,
                    path,
                    format!("unknown element `{name}`; expected {}", expected.join(", ")),
                ));
            };
            if let Some(last) = last {
                if index < last {
                    return Err(self.structure(
                        child,
                        path,
                        format!(
                            "`{name}` is out of order: it belongs before `{}`",
                            spec[last].name
                        ),
                    ));
                }
                if index == last && !spec[index].many {
                    return Err(self.structure(
                        child,
                        path,
                        format!("`{name}` appears more than once"),
                    ));
                }
            }
            last = Some(index);
            found.push((spec[index].name, child));
        }
        Ok(Kids { found })
    }

    /// The text of a simple element, exactly as written.
    fn text(&self, node: Node<'_, '_>, path: &str) -> Result<String, OioxmlError> {
        let mut out = String::new();
        for child in node.children() {
            if child.is_element() {
                return Err(self.structure(
                    child,
                    path,
                    format!("element `{}` inside a text value", child.tag_name().name()),
                ));
            }
            if child.is_text() {
                out.push_str(child.text().unwrap_or_default());
            }
        }
        Ok(out)
    }

    /// The text of child `name`, empty when it is missing.
    fn required(&self, kids: &Kids<'_, '_>, path: &str, name: &str) -> Result<String, OioxmlError> {
        Ok(self.optional(kids, path, name)?.unwrap_or_default())
    }

    /// The text of child `name`, `None` when it is missing.
    fn optional(
        &self,
        kids: &Kids<'_, '_>,
        path: &str,
        name: &str,
    ) -> Result<Option<String>, OioxmlError> {
        kids.get(name)
            .map(|node| self.text(node, &join(path, name)))
            .transpose()
    }

    /// A flag element whose only allowed value is `true` (`SUP`, `SystemInformation`).
    fn flag(&self, node: Node<'_, '_>, path: &str) -> Result<(), OioxmlError> {
        let text = self.text(node, path)?;
        if text.trim() == "true" {
            Ok(())
        } else {
            Err(self.structure(
                node,
                path,
                format!("the value is `{text}`; the only allowed value is `true`"),
            ))
        }
    }

    /// Formatted text (`Text01`, `RefuseText`): `<Break/>` is `\n`, `<Space/>` a space, a literal
    /// line break or tab a space; the other allowed markup is flattened to its text.
    fn formatted(
        &self,
        node: Node<'_, '_>,
        path: &str,
        markup: &[&str],
    ) -> Result<String, OioxmlError> {
        let mut out = String::new();
        for item in node.descendants().skip(1) {
            if item.is_text() {
                let text = item.text().unwrap_or_default();
                out.extend(text.chars().map(|c| {
                    if matches!(c, '\n' | '\r' | '\t') {
                        ' '
                    } else {
                        c
                    }
                }));
            } else if item.is_element() {
                let name = item.tag_name().name();
                let item_path = join(path, name);
                if item.tag_name().namespace() != Some(self.ns) {
                    return Err(self.namespace(item, &item_path, self.ns));
                }
                self.no_attributes(item, &item_path, false)?;
                if !markup.contains(&name) {
                    return Err(self.structure(
                        item,
                        path,
                        format!(
                            "unknown formatting element `{name}`; allowed: {}",
                            markup.join(", ")
                        ),
                    ));
                }
                if matches!(name, "Break" | "Space") && item.has_children() {
                    return Err(self.structure(
                        item,
                        &item_path,
                        "`Break` and `Space` are empty elements".to_string(),
                    ));
                }
                match name {
                    "Break" => out.push('\n'),
                    "Space" => out.push(' '),
                    _ => {}
                }
            }
        }
        Ok(out)
    }

    fn emessage(mut self) -> Result<Emessage, OioxmlError> {
        let root = self.doc.root_element();
        let name = root.tag_name().name();
        if name != "Emessage" {
            return Err(self.structure(
                root,
                name,
                format!("the root element is `{name}`, expected `Emessage`"),
            ));
        }
        let path = "Emessage";
        // The release is the root's namespace and the letter in it (`RELEASES`); anything else
        // is a letter of a release the harness does not read, named by both.
        let found_ns = root.tag_name().namespace().unwrap_or_default();
        let first_letter = root
            .children()
            .filter(Node::is_element)
            .find(|c| c.tag_name().name() != "Envelope");
        let letter_name = first_letter
            .map(|c| c.tag_name().name())
            .unwrap_or_default();
        self.ns = match RELEASES.iter().find(|(_, ns, _)| *ns == found_ns) {
            Some((_, ns, _)) => ns,
            None => {
                let (line, column) = self.position(first_letter.unwrap_or(root));
                return Err(OioxmlError::UnknownRelease {
                    line,
                    column,
                    namespace: found_ns.to_string(),
                    letter: letter_name.to_string(),
                });
            }
        };
        self.no_attributes(root, path, true)?;
        let mut envelope = None;
        let mut letter: Option<(Node<'a, 'input>, String)> = None;
        for child in root.children() {
            if child.is_text() {
                if !child.text().unwrap_or_default().trim().is_empty() {
                    return Err(self.structure(
                        child,
                        path,
                        "text is not allowed here, only elements".to_string(),
                    ));
                }
                continue;
            }
            if !child.is_element() {
                continue;
            }
            let name = child.tag_name().name();
            let child_path = join(path, name);
            if child.tag_name().namespace() != Some(self.ns) {
                return Err(self.namespace(child, &child_path, self.ns));
            }
            self.no_attributes(child, &child_path, false)?;
            if name == "Envelope" {
                if envelope.is_some() || letter.is_some() {
                    return Err(self.structure(
                        child,
                        path,
                        "`Envelope` must come once, before the letter".to_string(),
                    ));
                }
                envelope = Some(self.envelope(child, &child_path)?);
                continue;
            }
            let home = LETTERS
                .iter()
                .find(|(letter, _)| *letter == name)
                .map(|(_, ns)| *ns)
                .or_else(|| super::form::FormType::by_element(name).map(|t| t.namespace()));
            match home {
                Some(ns) if release_version(name, self.ns).is_none() => {
                    return Err(self.namespace(child, &child_path, ns));
                }
                Some(_) => {}
                None => {
                    let (line, column) = self.position(child);
                    return Err(OioxmlError::UnknownRelease {
                        line,
                        column,
                        namespace: self.ns.to_string(),
                        letter: name.to_string(),
                    });
                }
            }
            if letter.is_some() {
                return Err(self.structure(
                    child,
                    path,
                    format!("a second letter `{name}`; the harness reads one letter per envelope"),
                ));
            }
            letter = Some((child, child_path));
        }
        let Some((node, letter_path)) = letter else {
            return Err(self.structure(root, path, "the envelope holds no letter".to_string()));
        };
        let body = match node.tag_name().name() {
            "ClinicalEmail" => Body::ClinicalEmail(self.clinical_email(node, &letter_path)?),
            "BinaryLetter" => Body::BinaryLetter(self.binary_letter(node, &letter_path)?),
            name if super::form::FormType::by_element(name).is_some() => {
                Body::Form(self.form(node, &letter_path)?)
            }
            "PositiveReceipt" => {
                Body::Receipt(self.receipt(node, &letter_path, ReceiptKind::Positive)?)
            }
            "NegativeReceipt" => {
                Body::Receipt(self.receipt(node, &letter_path, ReceiptKind::Negative)?)
            }
            _ => Body::Receipt(self.receipt(node, &letter_path, ReceiptKind::VansNegative)?),
        };
        Ok(Emessage {
            // A missing Envelope holds no AcknowledgementCode either (not the model's default).
            envelope: envelope.unwrap_or_else(|| Envelope {
                acknowledgement_code: AcknowledgementCode::Other(String::new()),
                ..Envelope::default()
            }),
            namespace: (self.ns != body.namespace()).then(|| self.ns.to_string()),
            body,
        })
    }

    /// A home care or LÆ letter, read as a tree: every element in the root's namespace and
    /// without attributes; its content is the schema's to judge ([`super::form`]).
    fn form(&self, node: Node<'a, 'input>, path: &str) -> Result<super::form::Form, OioxmlError> {
        for (d, name) in node
            .descendants()
            .filter(Node::is_element)
            .map(|d| (d, d.tag_name().name()))
        {
            let at = join(path, name);
            if d.tag_name().namespace() != Some(self.ns) {
                return Err(self.namespace(d, &at, self.ns));
            }
            self.no_attributes(d, &at, false)?;
        }
        Ok(super::form::Form {
            root: super::form::Element::from_node(node),
        })
    }

    fn envelope(&self, node: Node<'a, 'input>, path: &str) -> Result<Envelope, OioxmlError> {
        let kids = self.kids(node, path, ENVELOPE)?;
        Ok(Envelope {
            sent: self.date_time(&kids, path, "Sent")?,
            identifier: self.required(&kids, path, "Identifier")?,
            acknowledgement_code: AcknowledgementCode::parse(&self.required(
                &kids,
                path,
                "AcknowledgementCode",
            )?),
        })
    }

    fn date_time(
        &self,
        kids: &Kids<'a, 'input>,
        path: &str,
        name: &str,
    ) -> Result<DateTime, OioxmlError> {
        let Some(node) = kids.get(name) else {
            return Ok(DateTime::default());
        };
        let path = join(path, name);
        let kids = self.kids(node, &path, DATE_TIME)?;
        Ok(DateTime {
            date: self.required(&kids, &path, "Date")?,
            time: self.required(&kids, &path, "Time")?,
        })
    }

    fn letter(
        &self,
        kids: &Kids<'a, 'input>,
        path: &str,
        spec: &'static [Field],
    ) -> Result<Letter, OioxmlError> {
        let Some(node) = kids.get("Letter") else {
            return Ok(Letter::default());
        };
        let path = join(path, "Letter");
        let kids = self.kids(node, &path, spec)?;
        Ok(Letter {
            identifier: self.required(&kids, &path, "Identifier")?,
            version_code: self.required(&kids, &path, "VersionCode")?,
            statistical_code: self.required(&kids, &path, "StatisticalCode")?,
            authorisation: self.date_time(&kids, &path, "Authorisation")?,
            type_code: self.required(&kids, &path, "TypeCode")?,
            status_code: self.required(&kids, &path, "StatusCode")?,
            episode_of_care_identifier: self.optional(&kids, &path, "EpisodeOfCareIdentifier")?,
        })
    }

    fn party(
        &self,
        kids: &Kids<'a, 'input>,
        path: &str,
        name: &str,
        spec: &'static [Field],
    ) -> Result<Party, OioxmlError> {
        let Some(node) = kids.get(name) else {
            return Ok(Party::default());
        };
        let path = join(path, name);
        let kids = self.kids(node, &path, spec)?;
        let o = |name: &str| self.optional(&kids, &path, name);
        Ok(Party {
            ean: self.required(&kids, &path, "EANIdentifier")?,
            identifier: self.required(&kids, &path, "Identifier")?,
            identifier_code: self.required(&kids, &path, "IdentifierCode")?,
            organisation_name: o("OrganisationName")?,
            department_name: o("DepartmentName")?,
            unit_name: o("UnitName")?,
            street_name: o("StreetName")?,
            suburb_name: o("SuburbName")?,
            district_name: o("DistrictName")?,
            post_code_identifier: o("PostCodeIdentifier")?,
            telephone_subscriber_identifier: o("TelephoneSubscriberIdentifier")?,
            medical_speciality_code: o("MedicalSpecialityCode")?,
        })
    }

    fn patient(
        &self,
        node: Node<'a, 'input>,
        path: &str,
        spec: &'static [Field],
    ) -> Result<Patient, OioxmlError> {
        let kids = self.kids(node, path, spec)?;
        let cpr = self.optional(&kids, path, "CivilRegistrationNumber")?;
        let alternative = self.optional(&kids, path, "AlternativeIdentifier")?;
        let identifier = match (cpr, alternative) {
            (Some(_), Some(_)) => {
                return Err(self.structure(
                    node,
                    path,
                    "both `CivilRegistrationNumber` and `AlternativeIdentifier`; a patient has one of them".to_string(),
                ));
            }
            (Some(cpr), None) => Some(PatientIdentifier::Cpr(cpr)),
            (None, Some(alternative)) => Some(PatientIdentifier::Alternative(alternative)),
            (None, None) => None,
        };
        let o = |name: &str| self.optional(&kids, path, name);
        Ok(Patient {
            identifier,
            surname: self.required(&kids, path, "PersonSurnameName")?,
            given_name: o("PersonGivenName")?,
            street_name: o("StreetName")?,
            suburb_name: o("SuburbName")?,
            district_name: o("DistrictName")?,
            post_code_identifier: o("PostCodeIdentifier")?,
            occupancy_text: o("OccupancyText")?,
            episode_of_care_status_code: o("EpisodeOfCareStatusCode")?,
        })
    }

    fn clinical_email(&self, node: Node<'a, 'input>, path: &str) -> Result<Xdis91, OioxmlError> {
        let kids = self.kids(node, path, CLINICAL_EMAIL)?;
        let patient = match kids.get("Patient") {
            Some(p) => self.patient(p, &join(path, "Patient"), XDIS91_PATIENT)?,
            None => Patient::default(),
        };
        let additional_information = match kids.get("AdditionalInformation") {
            Some(a) => {
                let a_path = join(path, "AdditionalInformation");
                let a_kids = self.kids(a, &a_path, ADDITIONAL_INFORMATION)?;
                Some(AdditionalInformation {
                    priority: self.optional(&a_kids, &a_path, "Priority")?,
                    subject: self.optional(&a_kids, &a_path, "Subject")?,
                })
            }
            None => None,
        };
        let mut clinical_information = Vec::new();
        for (i, ci) in kids.all("ClinicalInformation").into_iter().enumerate() {
            let ci_path = join_at(path, "ClinicalInformation", i);
            let ci_kids = self.kids(ci, &ci_path, CLINICAL_INFORMATION)?;
            clinical_information.push(match ci_kids.get("Text01") {
                Some(text) => self.formatted(text, &join(&ci_path, "Text01"), TEXT01_MARKUP)?,
                None => String::new(),
            });
        }
        let mut references = Vec::new();
        for (i, r) in kids.all("Reference").into_iter().enumerate() {
            references.push(self.reference(r, &join_at(path, "Reference", i))?);
        }
        Ok(Xdis91 {
            letter: self.letter(&kids, path, XDIS91_LETTER)?,
            sender: self.party(&kids, path, "Sender", SENDER)?,
            receiver: self.party(&kids, path, "Receiver", RECEIVER)?,
            patient,
            additional_information,
            clinical_information,
            references,
        })
    }

    fn reference(&self, node: Node<'a, 'input>, path: &str) -> Result<Reference, OioxmlError> {
        let kids = self.kids(node, path, REFERENCE)?;
        let targets: Vec<&str> = ["URL", "SUP", "BIN"]
            .into_iter()
            .filter(|n| kids.get(n).is_some())
            .collect();
        if targets.len() > 1 {
            return Err(self.structure(
                node,
                path,
                format!(
                    "both `{}` and `{}`; a reference has one of URL, SUP, BIN",
                    targets[0], targets[1]
                ),
            ));
        }
        let target = if let Some(url) = self.optional(&kids, path, "URL")? {
            Some(ReferenceTarget::Url(url))
        } else if let Some(sup) = kids.get("SUP") {
            self.flag(sup, &join(path, "SUP"))?;
            Some(ReferenceTarget::Supplement)
        } else if let Some(bin) = kids.get("BIN") {
            let bin_path = join(path, "BIN");
            let b = self.kids(bin, &bin_path, BIN)?;
            Some(ReferenceTarget::Bin(Bin {
                object_identifier: self.required(&b, &bin_path, "ObjectIdentifier")?,
                object_code: self.required(&b, &bin_path, "ObjectCode")?,
                object_extension_code: self.required(&b, &bin_path, "ObjectExtensionCode")?,
                original_object_size: self.required(&b, &bin_path, "OriginalObjectSize")?,
            }))
        } else {
            None
        };
        Ok(Reference {
            description: self.required(&kids, path, "RefDescription")?,
            target,
        })
    }

    fn binary_letter(&self, node: Node<'a, 'input>, path: &str) -> Result<Xbin01, OioxmlError> {
        let kids = self.kids(node, path, BINARY_LETTER)?;
        let subject = match (kids.get("Patient"), kids.get("SystemInformation")) {
            (Some(_), Some(_)) => {
                return Err(self.structure(
                    node,
                    path,
                    "both `Patient` and `SystemInformation`; a binary letter has one of them"
                        .to_string(),
                ));
            }
            (None, Some(flag)) => {
                self.flag(flag, &join(path, "SystemInformation"))?;
                BinarySubject::SystemInformation {
                    contents: self.optional(&kids, path, "Contents")?,
                }
            }
            (patient, None) => {
                if let Some(contents) = kids.get("Contents") {
                    return Err(self.structure(
                        contents,
                        path,
                        "`Contents` belongs to `SystemInformation`".to_string(),
                    ));
                }
                match patient {
                    Some(p) => BinarySubject::Patient(self.patient(
                        p,
                        &join(path, "Patient"),
                        XBIN01_PATIENT,
                    )?),
                    None => BinarySubject::default(),
                }
            }
        };
        let mut objects = Vec::new();
        for (i, o) in kids.all("BinaryObject").into_iter().enumerate() {
            let o_path = join_at(path, "BinaryObject", i);
            let o_kids = self.kids(o, &o_path, BINARY_OBJECT)?;
            let data = match o_kids.get("Object_Base64Encoded") {
                Some(node) => {
                    let d_path = join(&o_path, "Object_Base64Encoded");
                    let text = self.text(node, &d_path)?;
                    decode_base64(&text).map_err(|message| {
                        let (line, column) = self.position(node);
                        OioxmlError::Base64 {
                            line,
                            column,
                            path: d_path,
                            message,
                        }
                    })?
                }
                None => Vec::new(),
            };
            objects.push(BinaryObject {
                object_identifier: self.required(&o_kids, &o_path, "ObjectIdentifier")?,
                object_code: self.required(&o_kids, &o_path, "ObjectCode")?,
                object_extension_code: self.required(&o_kids, &o_path, "ObjectExtensionCode")?,
                original_object_size: self.required(&o_kids, &o_path, "OriginalObjectSize")?,
                data,
            });
        }
        Ok(Xbin01 {
            letter: self.letter(&kids, path, XBIN01_LETTER)?,
            sender: self.party(&kids, path, "Sender", SENDER)?,
            receiver: self.party(&kids, path, "Receiver", RECEIVER)?,
            subject,
            objects,
        })
    }

    fn ean_of(
        &self,
        kids: &Kids<'a, 'input>,
        path: &str,
        name: &str,
    ) -> Result<String, OioxmlError> {
        let Some(node) = kids.get(name) else {
            return Ok(String::new());
        };
        let path = join(path, name);
        let kids = self.kids(node, &path, EAN_ONLY)?;
        self.required(&kids, &path, "EANIdentifier")
    }

    fn refuse_text(
        &self,
        kids: &Kids<'a, 'input>,
        path: &str,
    ) -> Result<Option<String>, OioxmlError> {
        kids.get("RefuseText")
            .map(|node| self.formatted(node, &join(path, "RefuseText"), BREAKABLE_MARKUP))
            .transpose()
    }

    fn receipt(
        &self,
        node: Node<'a, 'input>,
        path: &str,
        kind: ReceiptKind,
    ) -> Result<Receipt, OioxmlError> {
        let kids = self.kids(node, path, RECEIPT)?;
        let letter = match kids.get("Letter") {
            Some(l) => {
                let l_path = join(path, "Letter");
                let l_kids = self.kids(l, &l_path, RECEIPT_LETTER)?;
                ReceiptLetter {
                    identifier: self.required(&l_kids, &l_path, "Identifier")?,
                    version_code: self.required(&l_kids, &l_path, "VersionCode")?,
                    statistical_code: self.required(&l_kids, &l_path, "StatisticalCode")?,
                }
            }
            None => ReceiptLetter::default(),
        };
        let mut receipt = Receipt {
            kind,
            letter,
            sender_ean: self.ean_of(&kids, path, "Sender")?,
            receiver_ean: self.ean_of(&kids, path, "Receiver")?,
            original_envelope_identifier: String::new(),
            original_sender_ean: String::new(),
            original_receiver_ean: String::new(),
            refuse_code: None,
            refuse_text: None,
            letters: Vec::new(),
        };
        let Some(original) = kids.get("OriginalEmessage") else {
            return Ok(receipt);
        };
        let o_path = join(path, "OriginalEmessage");
        let o = self.kids(original, &o_path, ORIGINAL_EMESSAGE)?;
        receipt.original_envelope_identifier =
            self.required(&o, &o_path, "OriginalEnvelopeIdentifier")?;
        receipt.original_sender_ean = self.ean_of(&o, &o_path, "OriginalSender")?;
        receipt.original_receiver_ean = self.ean_of(&o, &o_path, "OriginalReceiver")?;
        receipt.refuse_code = self
            .optional(&o, &o_path, "RefuseCode")?
            .map(|c| RefuseCode::parse(&c));
        receipt.refuse_text = self.refuse_text(&o, &o_path)?;
        for (i, l) in o.all("OriginalLetter").into_iter().enumerate() {
            let l_path = join_at(&o_path, "OriginalLetter", i);
            let l_kids = self.kids(l, &l_path, ORIGINAL_LETTER)?;
            receipt.letters.push(OriginalLetter {
                original_letter_identifier: self.required(
                    &l_kids,
                    &l_path,
                    "OriginalLetterIdentifier",
                )?,
                original_version_code: self.required(&l_kids, &l_path, "OriginalVersionCode")?,
                refuse_code: self
                    .optional(&l_kids, &l_path, "RefuseCode")?
                    .map(|c| RefuseCode::parse(&c)),
                refuse_text: self.refuse_text(&l_kids, &l_path)?,
            });
        }
        Ok(receipt)
    }
}

/// Decodes base64 with XML white space (line breaks, indentation) ignored.
fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let compact: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\r'))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| e.to_string())
}

/// Refuses a DOCTYPE in the prolog (the only place XML allows one). roxmltree accepts a DOCTYPE
/// without an internal subset even when DTDs are off, so the prolog is scanned here.
fn reject_doctype(text: &str) -> Result<(), OioxmlError> {
    let mut rest = text;
    loop {
        let trimmed = rest.trim_start_matches([' ', '\t', '\n', '\r']);
        let offset = text.len() - trimmed.len();
        if trimmed.starts_with("<!DOCTYPE") {
            let (line, column) = line_column(text, offset);
            return Err(OioxmlError::Doctype { line, column });
        }
        let close = if trimmed.starts_with("<?") {
            "?>"
        } else if trimmed.starts_with("<!--") {
            "-->"
        } else {
            return Ok(());
        };
        match trimmed.find(close) {
            Some(end) => rest = &trimmed[end + close.len()..],
            None => return Ok(()),
        }
    }
}

/// 1-based line and column (characters) of a byte offset in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    crate::encoding::line_column(text, offset)
}

/// Decodes the bytes to text by the byte order mark or the XML declaration
/// ([`crate::encoding::decode_xml`], the harness's one XML decoding path). UTF-16 is refused:
/// OIOXML messages are ISO-8859-1 or UTF-8.
fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, OioxmlError> {
    if crate::encoding::looks_like_utf16(bytes)
        || bytes.starts_with(b"<\0")
        || bytes.starts_with(b"\0<")
    {
        return Err(OioxmlError::Encoding {
            line: 1,
            column: 1,
            message: "utf-16 is not supported; OIOXML messages are ISO-8859-1 or UTF-8".to_string(),
        });
    }
    crate::encoding::decode_xml(bytes).map_err(|e| OioxmlError::Encoding {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}
