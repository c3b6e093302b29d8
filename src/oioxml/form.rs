//! The home care ↔ hospital letters (XDIS14, XDIS16, XDIS17, XDIS18, XDIS19, XDIS20) and the LÆ
//! forms between municipalities and doctors (XLA121/125, XLA141/145, XLA165, XLA201/205,
//! XLA211/215), as data: one row of [`FORM_TYPES`] per letter type, one generic [`Element`]
//! tree per letter.
//!
//! # Why a tree and not a struct per type
//!
//! These fifteen types share what the harness judges across letters (`Letter`, `Sender`,
//! `Receiver`, `Patient/CivilRegistrationNumber`, and for XDIS14 the `NotificationIdentifier`
//! it answers); everything else is each type's own content, which MedCom's schema judges
//! (`oioxml-xsd/`, read at run time, [`super::schema`]). So a letter is read into a tree of
//! its elements ([`Element`], in document order, every element in the root's namespace, no
//! attributes), written back from the tree, and the cross-field rules read the few paths they
//! need ([`Element::text_at`]). Adding a type is adding a row and a template.
//!
//! # Templates
//!
//! Each type is written from our own template (`templates/oioxml/<TypeCode>.xml`, embedded): a
//! letter element in the newest release of the type, valid against MedCom's schema of that
//! release (a test runs `xmllint --schema` on every one). [`build`] copies it and sets the
//! identifiers, the time, the parties, the patient and what an answer quotes of its request.
//!
//! # Sources
//!
//! MedCom's OIOXML XML Schemas (`oioxml-xsd/`, MIT; the `VersionCode`/`TypeCode` each letter
//! type fixes, the releases that carry it, and the documentation annotations of
//! `AnswerOfAdmission.xsd` (`NotificationIdentifier`), `NotificationOfAdmission.xsd`
//! (`Sender/AnswerTo`) and the `LA*.xsd` forms; public in the `glasdam/edifact_converter`
//! repository, `data/xml/Schemas/`).

use serde::{Deserialize, Serialize};

use super::model::{NAMESPACE_2004, NAMESPACE_2007, RECEIPT_NAMESPACE};

/// One letter type of the family: its names, codes, releases and what it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormType {
    /// `Letter/TypeCode`, e.g. `XDIS14`, `XLA125`; also the VANS `Document/Name` after `MCM:`.
    pub type_code: &'static str,
    /// The letter element under `Emessage`, e.g. `AnswerOfAdmission`.
    pub element: &'static str,
    /// `Letter/VersionCode`, the one value MedCom's schema allows (the same in every release).
    pub version_code: &'static str,
    /// The Danish name MedCom uses.
    pub title: &'static str,
    /// The namespaces (releases) whose `Letters.xsd` carries the type, the written one first.
    pub releases: &'static [&'static str],
    /// The `TypeCode` of the letter this one answers, for an answer.
    pub answers: Option<&'static str>,
    /// The `Letter` child an answer copies from the letter it answers (XDIS14 copies the
    /// `NotificationIdentifier` of the XDIS20); `None` when the schema gives the answer no
    /// element for it (the LÆ answers: then the pairing is by patient and parties alone).
    pub quotes: Option<&'static str>,
    template: &'static str,
}

const HOME_CARE: &[&str] = &[RECEIPT_NAMESPACE, NAMESPACE_2004];
const REPORTS: &[&str] = &[NAMESPACE_2007];

/// Every letter type of the family the harness reads and writes.
pub const FORM_TYPES: &[FormType] = &[
    FormType {
        type_code: "XDIS14",
        element: "AnswerOfAdmission",
        version_code: "XD1431C",
        title: "indlæggelsessvar",
        releases: HOME_CARE,
        answers: Some("XDIS20"),
        quotes: Some("NotificationIdentifier"),
        template: include_str!("../../templates/oioxml/XDIS14.xml"),
    },
    FormType {
        type_code: "XDIS16",
        element: "ReportOfAdmission",
        version_code: "XD1630C",
        title: "indlæggelsesrapport",
        releases: REPORTS,
        answers: Some("XDIS20"),
        quotes: None,
        template: include_str!("../../templates/oioxml/XDIS16.xml"),
    },
    FormType {
        type_code: "XDIS17",
        element: "NotificationOfDischarge",
        version_code: "XD1730C",
        title: "sygehusadvis (udskrivning)",
        releases: HOME_CARE,
        answers: None,
        quotes: None,
        template: include_str!("../../templates/oioxml/XDIS17.xml"),
    },
    FormType {
        type_code: "XDIS18",
        element: "ReportOfDischarge",
        version_code: "XD1830C",
        title: "udskrivningsrapport",
        releases: REPORTS,
        answers: None,
        quotes: None,
        template: include_str!("../../templates/oioxml/XDIS18.xml"),
    },
    FormType {
        type_code: "XDIS19",
        element: "WarningOfDischarge",
        version_code: "XD1930C",
        title: "færdigmelding",
        releases: HOME_CARE,
        answers: None,
        quotes: None,
        template: include_str!("../../templates/oioxml/XDIS19.xml"),
    },
    FormType {
        type_code: "XDIS20",
        element: "NotificationOfAdmission",
        version_code: "XD2030C",
        title: "sygehusadvis (indlæggelse)",
        releases: HOME_CARE,
        answers: None,
        quotes: None,
        template: include_str!("../../templates/oioxml/XDIS20.xml"),
    },
    FormType {
        type_code: "XLA121",
        element: "StatusRequest",
        version_code: "XLA1211203A",
        title: "LÆ 121 anmodning om statusattest",
        releases: HOME_CARE,
        answers: None,
        quotes: None,
        template: include_str!("../../templates/oioxml/XLA121.xml"),
    },
    FormType {
        type_code: "XLA125",
        element: "StatusAnswer",
        version_code: "XLA1251001A",
        title: "LÆ 125 statusattest",
        releases: HOME_CARE,
        answers: Some("XLA121"),
        quotes: None,
        template: include_str!("../../templates/oioxml/XLA125.xml"),
    },
    FormType {
        type_code: "XLA141",
        element: "GeneralHealthRequest",
        version_code: "XLA1411203A",
        title: "LÆ 141 anmodning om generel helbredsattest",
        releases: HOME_CARE,
        answers: None,
        quotes: None,
        template: include_str!("../../templates/oioxml/XLA141.xml"),
    },
    FormType {
        type_code: "XLA145",
        element: "GeneralHealthAnswer",
        version_code: "XLA1451001A",
        title: "LÆ 145 generel helbredsattest",
        releases: HOME_CARE,
        answers: Some("XLA141"),
        quotes: None,
        template: include_str!("../../templates/oioxml/XLA145.xml"),
    },
    FormType {
        type_code: "XLA165",
        element: "SocialMedicalProposal",
        version_code: "XLA1651001A",
        title: "LÆ 165 lægens forslag til socialmedicinsk indsats",
        releases: HOME_CARE,
        answers: None,
        quotes: None,
        template: include_str!("../../templates/oioxml/XLA165.xml"),
    },
    FormType {
        type_code: "XLA201",
        element: "WorkingDisabilityRequest",
        version_code: "XLA2011001A",
        title: "LÆ 201 anmodning om lægeerklæring om uarbejdsdygtighed",
        releases: HOME_CARE,
        answers: None,
        quotes: None,
        template: include_str!("../../templates/oioxml/XLA201.xml"),
    },
    FormType {
        type_code: "XLA205",
        element: "WorkingDisabilityAnswer",
        version_code: "XLA2051001A",
        title: "LÆ 205 lægeerklæring om uarbejdsdygtighed",
        releases: HOME_CARE,
        answers: Some("XLA201"),
        quotes: None,
        template: include_str!("../../templates/oioxml/XLA205.xml"),
    },
    FormType {
        type_code: "XLA211",
        element: "SocialMedicalFollowUpRequest",
        version_code: "XLA2111001A",
        title: "LÆ 211 anmodning om socialmedicinsk opfølgning",
        releases: HOME_CARE,
        answers: None,
        quotes: None,
        template: include_str!("../../templates/oioxml/XLA211.xml"),
    },
    FormType {
        type_code: "XLA215",
        element: "SocialMedicalFollowUpAnswer",
        version_code: "XLA2151001A",
        title: "LÆ 215 socialmedicinsk opfølgning",
        releases: HOME_CARE,
        answers: Some("XLA211"),
        quotes: None,
        template: include_str!("../../templates/oioxml/XLA215.xml"),
    },
];

impl FormType {
    /// The type with this `TypeCode` (`XDIS14`) or this name as MedCom abbreviates the LÆ forms
    /// (`LA125` for `XLA125`), case-insensitive.
    pub fn by_type_code(code: &str) -> Option<&'static FormType> {
        let code = code.to_ascii_uppercase();
        FORM_TYPES
            .iter()
            .find(|t| t.type_code == code || t.type_code.strip_prefix('X') == Some(code.as_str()))
    }

    /// The type whose letter element is `element`.
    pub fn by_element(element: &str) -> Option<&'static FormType> {
        FORM_TYPES.iter().find(|t| t.element == element)
    }

    /// The namespace the harness writes this type in: its newest release.
    pub fn namespace(&self) -> &'static str {
        self.releases.first().copied().unwrap_or(RECEIPT_NAMESPACE)
    }

    /// The types that answer this one.
    pub fn answered_by(&self) -> impl Iterator<Item = &'static FormType> {
        let code = self.type_code;
        FORM_TYPES.iter().filter(move |t| t.answers == Some(code))
    }

    /// The template letter, read into a tree.
    ///
    /// # Panics
    /// Never for the embedded templates: a test reads every one.
    pub fn template(&self) -> Element {
        Element::read_template(self.template)
            .expect("the embedded templates are well-formed (tested)")
    }
}

/// One element of a letter: its local name, its text, its children in document order. Mixed
/// content (text beside `<Break/>` in formatted text) is kept as children whose name is empty
/// and whose text is the text between the elements.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Element {
    /// The local name; empty for a text run inside mixed content.
    pub name: String,
    /// The text of an element without child elements, or of a text run.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// The children.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Element>,
}

impl Element {
    /// An element with text.
    pub fn leaf(name: &str, text: &str) -> Element {
        Element {
            name: name.to_string(),
            text: text.to_string(),
            children: Vec::new(),
        }
    }

    /// The first child element called `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The element at `path` (`Letter/Identifier`), following the first child of each name.
    pub fn at(&self, path: &str) -> Option<&Element> {
        path.split('/').try_fold(self, |e, name| e.child(name))
    }

    /// The text at `path`, empty when there is no such element.
    pub fn text_at(&self, path: &str) -> &str {
        self.at(path).map_or("", |e| e.text.as_str())
    }

    /// Sets the text at `path` when the element is there; whether it was.
    pub fn set(&mut self, path: &str, value: &str) -> bool {
        let mut e = self;
        for name in path.split('/') {
            match e.children.iter_mut().find(|c| c.name == name) {
                Some(c) => e = c,
                None => return false,
            }
        }
        e.text = value.to_string();
        true
    }

    /// Removes the element at `path`; whether there was one.
    pub fn remove(&mut self, path: &str) -> bool {
        let (parent, name) = match path.rsplit_once('/') {
            Some((p, n)) => (Some(p), n),
            None => (None, path),
        };
        let mut e = self;
        if let Some(parent) = parent {
            for step in parent.split('/') {
                match e.children.iter_mut().find(|c| c.name == step) {
                    Some(c) => e = c,
                    None => return false,
                }
            }
        }
        let before = e.children.len();
        if let Some(i) = e.children.iter().position(|c| c.name == name) {
            e.children.remove(i);
        }
        e.children.len() != before
    }

    /// Reads an element and its descendants from a parsed document node: local names only
    /// (the caller checks namespaces), white space between child elements dropped.
    pub(super) fn from_node(node: roxmltree::Node<'_, '_>) -> Element {
        let elements = node.children().any(|c| c.is_element());
        let mixed = elements
            && node
                .children()
                .any(|c| c.is_text() && !c.text().unwrap_or_default().trim().is_empty());
        let mut out = Element {
            name: node.tag_name().name().to_string(),
            ..Element::default()
        };
        if !elements {
            out.text = node
                .children()
                .filter(|c| c.is_text())
                .filter_map(|c| c.text())
                .collect();
            return out;
        }
        for c in node.children() {
            if c.is_element() {
                out.children.push(Element::from_node(c));
            } else if mixed && c.is_text() {
                out.children.push(Element {
                    text: c.text().unwrap_or_default().to_string(),
                    ..Element::default()
                });
            }
        }
        out
    }

    fn read_template(text: &str) -> Result<Element, roxmltree::Error> {
        let doc = roxmltree::Document::parse(text)?;
        Ok(Element::from_node(doc.root_element()))
    }

    /// Whether this element holds mixed content (text runs beside elements).
    pub fn is_mixed(&self) -> bool {
        self.children.iter().any(|c| c.name.is_empty())
    }
}

/// A letter of the family: its type's row and its tree (the letter element, e.g.
/// `AnswerOfAdmission`, with everything under it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Form {
    /// The letter element and its content.
    pub root: Element,
}

impl Form {
    /// The type's row ([`FORM_TYPES`]), by the letter element's name.
    pub fn form_type(&self) -> Option<&'static FormType> {
        FormType::by_element(&self.root.name)
    }

    /// `Letter/Identifier`.
    pub fn letter_identifier(&self) -> &str {
        self.root.text_at("Letter/Identifier")
    }

    /// `Letter/VersionCode`.
    pub fn version_code(&self) -> &str {
        self.root.text_at("Letter/VersionCode")
    }

    /// `Letter/StatisticalCode`.
    pub fn statistical_code(&self) -> &str {
        self.root.text_at("Letter/StatisticalCode")
    }

    /// `Letter/TypeCode`.
    pub fn type_code(&self) -> &str {
        self.root.text_at("Letter/TypeCode")
    }

    /// `Sender/EANIdentifier`.
    pub fn sender_ean(&self) -> &str {
        self.root.text_at("Sender/EANIdentifier")
    }

    /// `Receiver/EANIdentifier`.
    pub fn receiver_ean(&self) -> &str {
        self.root.text_at("Receiver/EANIdentifier")
    }

    /// `Patient/CivilRegistrationNumber` (or `AlternativeIdentifier`), empty when neither.
    pub fn patient(&self) -> &str {
        let cpr = self.root.text_at("Patient/CivilRegistrationNumber");
        if cpr.is_empty() {
            self.root.text_at("Patient/AlternativeIdentifier")
        } else {
            cpr
        }
    }
}

/// Who a built letter is from or to: EAN, SOR id and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressee {
    /// `EANIdentifier`.
    pub ean: String,
    /// `Identifier` (a SOR id, `IdentifierCode` `sorkode`).
    pub sor_id: String,
    /// `OrganisationName`, cut to 35 characters (set only where the template has one).
    pub name: String,
}

/// A new letter of type `form_type` from `sender` to `receiver`, from our template: a new
/// `Letter/Identifier`, the time now, the parties set (and `Sender/AnswerTo` to the sender).
/// When `answering` is the letter it answers, the patient is that letter's and what the type
/// quotes ([`FormType::quotes`]) is copied; a notification (XDIS17/XDIS20) gets a new
/// `NotificationIdentifier`.
pub fn build(
    form_type: &FormType,
    sender: &Addressee,
    receiver: &Addressee,
    answering: Option<&Form>,
) -> super::Emessage {
    use super::build::{identifier, now};
    let mut root = form_type.template();
    let sent = now();
    root.set("Letter/Identifier", &identifier('L'));
    root.set("Letter/Authorisation/Date", &sent.date);
    root.set("Letter/Authorisation/Time", &sent.time);
    root.set(
        "Letter/Authorisation/TimeWithSec",
        &format!("{}:00", sent.time),
    );
    if form_type.answers.is_none() {
        root.set("Letter/NotificationIdentifier", &identifier('N'));
    }
    root.set("Sender/EANIdentifier", &sender.ean);
    root.set("Sender/Identifier", &sender.sor_id);
    let name: String = sender.name.chars().take(35).collect();
    root.set("Sender/OrganisationName", &name);
    root.set("Sender/AnswerTo/EANIdentifier", &sender.ean);
    root.set("Receiver/EANIdentifier", &receiver.ean);
    root.set("Receiver/Identifier", &receiver.sor_id);
    if let Some(request) = answering {
        let cpr = request.patient();
        if !cpr.is_empty() {
            root.set("Patient/CivilRegistrationNumber", cpr);
        }
        if let Some(quoted) = form_type.quotes {
            let path = format!("Letter/{quoted}");
            root.set(&path, request.root.text_at(&path));
        }
    }
    super::Emessage {
        envelope: super::Envelope {
            sent,
            identifier: identifier('E'),
            acknowledgement_code: super::AcknowledgementCode::PlusPositive,
        },
        body: super::Body::Form(Form { root }),
        namespace: None,
    }
}

#[cfg(test)]
mod tests;
