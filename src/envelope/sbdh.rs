//! ehmiSBDH: MedCom's profile of the UN/CEFACT Standard Business Document Header 1.2 that
//! wraps every message on the EHMI / eDelivery network (AS4 four-corner model).
//!
//! Structure (XSDs and samples in the corpus, `dk-ehmi-sbdh/input/pagecontent/ehmiSBDH/`,
//! DOMAIN.md §3): `StandardBusinessDocument` = `StandardBusinessDocumentHeader` {`HeaderVersion`
//! 1.0, `Sender`/`Receiver` each with one `Identifier Authority="iso6523-actorid-upis"` whose
//! value is `0088:<GLN>`, `DocumentIdentification`, `BusinessScope` with `Scope`s} and one
//! `BinaryContent` {`mimeType`, `encoding`, base64 payload}.
//!
//! Scopes (`Type` / `InstanceIdentifier` / `Identifier` = `dk-medcom-messaging`): `DOCUMENTID`,
//! `PROCESSID`, `PATIENTID`, `SENDERID`, `RECEIVERID` (SOR ids), `MESSAGEIDENTIFIER`
//! (= MessageHeader.id), `MESSAGEENVELOPEIDENTIFIER` (= Bundle.id), `StatisticalInformation`,
//! and `EHMI-ReceiptAcknowledgement` (`Request` on a message, `Response` on the receipt, with
//! `CorrelationInformation` and `BusinessService`).
//!
//! `BinaryContent` has two forms in MedCom's material (DOMAIN.md §6): the published schema
//! declares it in the SBDH namespace, most samples (and PEPPOL, where the envelope comes from)
//! put it in `http://peppol.eu/xsd/ticc/envelope/1.0`. Both are read; [`BinaryContent::namespace`]
//! records which, and [`wrap_sbdh`] writes the one the model holds. [`SbdhEnvelope::new`] uses the
//! schema's own form, which is valid under both validation settings.
//!
//! The payload is the decoded `BinaryContent`, byte for byte; text values are kept as written
//! (several samples pad identifiers with line breaks), and the accessors trim.

use roxmltree::Node;

use super::EnvelopeError;
use super::xml::{
    self, child, children, decode_base64, encode_base64, escape_attribute, escape_text,
    optional_text, push_element, push_indent, required, required_text, text,
};

/// The SBDH namespace (UN/CEFACT).
pub const SBDH_NAMESPACE: &str =
    "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader";

/// The PEPPOL business message envelope namespace of the global `BinaryContent` element.
pub const PEPPOL_ENVELOPE_NAMESPACE: &str = "http://peppol.eu/xsd/ticc/envelope/1.0";

/// The participant identifier scheme prefix for a GLN (ISO 6523 ICD `0088`).
pub const GLN_SCHEME: &str = "0088";

/// The `Authority` of participant identifiers.
pub const PARTICIPANT_AUTHORITY: &str = "iso6523-actorid-upis";

/// Scope type `DOCUMENTID`.
pub const DOCUMENTID: &str = "DOCUMENTID";
/// Scope type `PROCESSID`.
pub const PROCESSID: &str = "PROCESSID";
/// Scope type `PATIENTID`.
pub const PATIENTID: &str = "PATIENTID";
/// Scope type `SENDERID` (sender's SOR id).
pub const SENDERID: &str = "SENDERID";
/// Scope type `RECEIVERID` (receiver's SOR id).
pub const RECEIVERID: &str = "RECEIVERID";
/// Scope type `MESSAGEIDENTIFIER` (MessageHeader.id, the letter id).
pub const MESSAGEIDENTIFIER: &str = "MESSAGEIDENTIFIER";
/// Scope type `MESSAGEENVELOPEIDENTIFIER` (Bundle.id, the envelope id).
pub const MESSAGEENVELOPEIDENTIFIER: &str = "MESSAGEENVELOPEIDENTIFIER";
/// Scope type `ORIGINALMESSAGEIDENTIFIER` (in a receipt: the answered message's id).
pub const ORIGINALMESSAGEIDENTIFIER: &str = "ORIGINALMESSAGEIDENTIFIER";
/// Scope type `EHMI-ReceiptAcknowledgement`.
pub const RECEIPT_ACKNOWLEDGEMENT: &str = "EHMI-ReceiptAcknowledgement";
/// `DocumentIdentification/Standard` of an SBDH receipt carrying an ebBP signal.
pub const SBDH_ACKNOWLEDGEMENT_STANDARD: &str = "ehmisbdh-acknowledgement";

/// `Sender` or `Receiver`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    /// `Identifier` as written, `0088:<GLN>`.
    pub identifier: String,
    /// The `Authority` attribute, `iso6523-actorid-upis` when present.
    pub authority: Option<String>,
}

impl Participant {
    /// The participant `0088:<gln>` with authority `iso6523-actorid-upis`.
    pub fn from_gln(gln: &str) -> Participant {
        Participant {
            identifier: format!("{GLN_SCHEME}:{gln}"),
            authority: Some(PARTICIPANT_AUTHORITY.to_string()),
        }
    }

    /// The GLN after `0088:` (surrounding whitespace trimmed); `None` for another scheme.
    pub fn gln(&self) -> Option<&str> {
        self.identifier
            .trim_matches(xml::is_xml_space)
            .strip_prefix(GLN_SCHEME)?
            .strip_prefix(':')
    }
}

/// `DocumentIdentification`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentIdentification {
    /// `Standard`, e.g. `homecareobservation-message`, `ehmisbdh-acknowledgement`.
    pub standard: String,
    /// `TypeVersion`, e.g. `1.2`.
    pub type_version: String,
    /// `InstanceIdentifier`: this SBDH document's id.
    pub instance_identifier: String,
    /// `Type`, e.g. `Bundle`, `ReceiptAcknowledgement`.
    pub document_type: String,
    /// `MultipleType` (fixed `false` when present).
    pub multiple_type: Option<bool>,
    /// `CreationDateAndTime` as written (`xs:dateTime`).
    pub creation_date_and_time: String,
}

/// `Scope/CorrelationInformation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrelationInformation {
    /// `RequestingDocumentCreationDateTime` as written.
    pub requesting_document_creation_date_time: String,
    /// `RequestingDocumentInstanceIdentifier` as written.
    pub requesting_document_instance_identifier: String,
    /// `ExpectedResponseDateTime` as written.
    pub expected_response_date_time: String,
}

/// `Scope/BusinessService`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessService {
    /// `BusinessServiceName`, e.g. `EHMI-ReceiptAcknowledgement-Request`.
    pub name: String,
    /// The unqualified attributes of `ServiceTransaction` in document order
    /// (`TypeOfServiceTransaction`, `TimeToAcknowledgeReceipt` = `600000` ms, …).
    pub service_transaction: Vec<(String, String)>,
}

/// One `Scope`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// `Type`, e.g. [`MESSAGEIDENTIFIER`].
    pub scope_type: String,
    /// `InstanceIdentifier` as written.
    pub instance_identifier: String,
    /// `Identifier`, `dk-medcom-messaging` (or `dk-medcom-DocumentReference`).
    pub identifier: String,
    /// `CorrelationInformation` (receipt-acknowledgement scope).
    pub correlation: Option<CorrelationInformation>,
    /// `BusinessService` (receipt-acknowledgement scope).
    pub business_service: Option<BusinessService>,
}

impl Scope {
    /// A plain scope `type` = `value` with identifier `dk-medcom-messaging`.
    pub fn new(scope_type: &str, value: &str) -> Scope {
        Scope {
            scope_type: scope_type.to_string(),
            instance_identifier: value.to_string(),
            identifier: "dk-medcom-messaging".to_string(),
            correlation: None,
            business_service: None,
        }
    }

    /// `InstanceIdentifier` without surrounding whitespace.
    pub fn value(&self) -> &str {
        self.instance_identifier.trim_matches(xml::is_xml_space)
    }
}

/// Which namespace `BinaryContent` was (or is to be) written in; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryContentNamespace {
    /// The SBDH namespace, as MedCom's published schema declares it.
    Sbdh,
    /// `http://peppol.eu/xsd/ticc/envelope/1.0`, as most published samples write it.
    Peppol,
}

impl BinaryContentNamespace {
    /// The namespace URI.
    pub fn uri(self) -> &'static str {
        match self {
            BinaryContentNamespace::Sbdh => SBDH_NAMESPACE,
            BinaryContentNamespace::Peppol => PEPPOL_ENVELOPE_NAMESPACE,
        }
    }
}

/// `BinaryContent`: the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryContent {
    /// `mimeType`: `application/fhir+xml`, `application/fhir+json` or `application/xml`.
    pub mime_type: String,
    /// `encoding`: `UTF-8` or `ISO-8859-1`, optional.
    pub encoding: Option<String>,
    /// The decoded payload, byte for byte.
    pub payload: Vec<u8>,
    /// The namespace of the element.
    pub namespace: BinaryContentNamespace,
}

/// An ehmiSBDH envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SbdhEnvelope {
    /// `HeaderVersion` (fixed `1.0`).
    pub header_version: String,
    /// `Sender`.
    pub sender: Participant,
    /// `Receiver`.
    pub receiver: Participant,
    /// `DocumentIdentification`.
    pub document_identification: DocumentIdentification,
    /// `BusinessScope/Scope`s in document order.
    pub scopes: Vec<Scope>,
    /// `BinaryContent`.
    pub binary_content: BinaryContent,
}

impl SbdhEnvelope {
    /// An envelope from sender GLN to receiver GLN with `BinaryContent` in the schema's own
    /// (SBDH) namespace, `encoding` `UTF-8` (set [`BinaryContent::encoding`] for an ISO-8859-1
    /// payload) and `HeaderVersion` 1.0.
    pub fn new(
        sender_gln: &str,
        receiver_gln: &str,
        document_identification: DocumentIdentification,
        scopes: Vec<Scope>,
        mime_type: &str,
        payload: Vec<u8>,
    ) -> SbdhEnvelope {
        SbdhEnvelope {
            header_version: "1.0".to_string(),
            sender: Participant::from_gln(sender_gln),
            receiver: Participant::from_gln(receiver_gln),
            document_identification,
            scopes,
            binary_content: BinaryContent {
                mime_type: mime_type.to_string(),
                encoding: Some("UTF-8".to_string()),
                payload,
                namespace: BinaryContentNamespace::Sbdh,
            },
        }
    }

    /// The first scope of `scope_type`.
    pub fn scope(&self, scope_type: &str) -> Option<&Scope> {
        self.scopes
            .iter()
            .find(|s| s.scope_type.trim() == scope_type)
    }

    /// The trimmed value of the first scope of `scope_type`.
    pub fn scope_value(&self, scope_type: &str) -> Option<&str> {
        self.scope(scope_type).map(Scope::value)
    }

    /// Whether this SBDH carries an ebBP signal (an SBDH-level receipt) rather than a message.
    pub fn is_signal(&self) -> bool {
        self.document_identification.standard.trim() == SBDH_ACKNOWLEDGEMENT_STANDARD
    }
}

/// Reads an ehmiSBDH envelope and decodes its `BinaryContent` exactly.
///
/// Reads what the model needs and names element and line when that fails; the schema rules
/// are for [`super::Validator::validate_sbdh`].
///
/// # Errors
/// [`EnvelopeError`] when the bytes are not a readable SBDH: too large, a DTD, undecodable,
/// not well-formed, another root, a missing element or undecodable base64.
pub fn unwrap_sbdh(bytes: &[u8]) -> Result<SbdhEnvelope, EnvelopeError> {
    let source = xml::decode(bytes)?;
    let document = xml::parse(&source)?;
    let root = document.root_element();
    let ns = SBDH_NAMESPACE;
    if !xml::is(root, ns, "StandardBusinessDocument") {
        return Err(EnvelopeError::Root {
            found: xml::expanded_name(root),
            expected: format!("{{{ns}}}StandardBusinessDocument"),
        });
    }
    let header = required(root, ns, "StandardBusinessDocumentHeader")?;
    let identification = required(header, ns, "DocumentIdentification")?;
    let multiple_type = match child(identification, ns, "MultipleType") {
        None => None,
        Some(m) => Some(match text(m).trim_matches(xml::is_xml_space) {
            "true" | "1" => true,
            "false" | "0" => false,
            other => {
                return Err(EnvelopeError::Value {
                    path: "MultipleType".to_string(),
                    line: xml::line(m),
                    problem: format!("`{other}` is not an `xs:boolean`"),
                });
            }
        }),
    };
    let scopes = match child(header, ns, "BusinessScope") {
        Some(scope_list) => children(scope_list, ns, "Scope")
            .map(read_scope)
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    Ok(SbdhEnvelope {
        header_version: required_text(header, ns, "HeaderVersion")?,
        sender: participant(required(header, ns, "Sender")?)?,
        receiver: participant(required(header, ns, "Receiver")?)?,
        document_identification: DocumentIdentification {
            standard: required_text(identification, ns, "Standard")?,
            type_version: required_text(identification, ns, "TypeVersion")?,
            instance_identifier: required_text(identification, ns, "InstanceIdentifier")?,
            document_type: required_text(identification, ns, "Type")?,
            multiple_type,
            creation_date_and_time: required_text(identification, ns, "CreationDateAndTime")?,
        },
        scopes,
        binary_content: binary_content(root)?,
    })
}

fn participant(node: Node<'_, '_>) -> Result<Participant, EnvelopeError> {
    let identifier = required(node, SBDH_NAMESPACE, "Identifier")?;
    Ok(Participant {
        identifier: text(identifier),
        authority: identifier.attribute("Authority").map(str::to_string),
    })
}

fn read_scope(node: Node<'_, '_>) -> Result<Scope, EnvelopeError> {
    let ns = SBDH_NAMESPACE;
    let correlation = match child(node, ns, "CorrelationInformation") {
        None => None,
        Some(c) => Some(CorrelationInformation {
            requesting_document_creation_date_time: required_text(
                c,
                ns,
                "RequestingDocumentCreationDateTime",
            )?,
            requesting_document_instance_identifier: required_text(
                c,
                ns,
                "RequestingDocumentInstanceIdentifier",
            )?,
            expected_response_date_time: required_text(c, ns, "ExpectedResponseDateTime")?,
        }),
    };
    let business_service = match child(node, ns, "BusinessService") {
        None => None,
        Some(b) => Some(BusinessService {
            name: required_text(b, ns, "BusinessServiceName")?,
            service_transaction: child(b, ns, "ServiceTransaction")
                .map(|t| {
                    t.attributes()
                        .filter(|a| a.namespace().is_none())
                        .map(|a| (a.name().to_string(), a.value().to_string()))
                        .collect()
                })
                .unwrap_or_default(),
        }),
    };
    Ok(Scope {
        scope_type: required_text(node, ns, "Type")?,
        instance_identifier: required_text(node, ns, "InstanceIdentifier")?,
        identifier: optional_text(node, ns, "Identifier").unwrap_or_default(),
        correlation,
        business_service,
    })
}

fn binary_content(root: Node<'_, '_>) -> Result<BinaryContent, EnvelopeError> {
    let (node, namespace) = match child(root, SBDH_NAMESPACE, "BinaryContent") {
        Some(n) => (n, BinaryContentNamespace::Sbdh),
        None => (
            required(root, PEPPOL_ENVELOPE_NAMESPACE, "BinaryContent")?,
            BinaryContentNamespace::Peppol,
        ),
    };
    let mime_type = node
        .attribute("mimeType")
        .ok_or_else(|| EnvelopeError::Value {
            path: "BinaryContent".to_string(),
            line: xml::line(node),
            problem: "the attribute `mimeType` is missing".to_string(),
        })?
        .to_string();
    Ok(BinaryContent {
        mime_type,
        encoding: node.attribute("encoding").map(str::to_string),
        payload: decode_base64(node)?,
        namespace,
    })
}

/// Writes `envelope` as an ehmiSBDH document (UTF-8, SBDH as the default namespace, the payload
/// as one line of base64 in the `BinaryContent` namespace the model holds).
pub fn wrap_sbdh(envelope: &SbdhEnvelope) -> String {
    let mut out = String::with_capacity(4096 + envelope.binary_content.payload.len() * 4 / 3);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<StandardBusinessDocument xmlns=\"{SBDH_NAMESPACE}\">\n"
    ));
    out.push_str("  <StandardBusinessDocumentHeader>\n");
    push_element(&mut out, 4, "HeaderVersion", &envelope.header_version);
    push_participant(&mut out, "Sender", &envelope.sender);
    push_participant(&mut out, "Receiver", &envelope.receiver);
    let id = &envelope.document_identification;
    out.push_str("    <DocumentIdentification>\n");
    push_element(&mut out, 6, "Standard", &id.standard);
    push_element(&mut out, 6, "TypeVersion", &id.type_version);
    push_element(&mut out, 6, "InstanceIdentifier", &id.instance_identifier);
    push_element(&mut out, 6, "Type", &id.document_type);
    if let Some(multiple) = id.multiple_type {
        push_element(
            &mut out,
            6,
            "MultipleType",
            if multiple { "true" } else { "false" },
        );
    }
    push_element(
        &mut out,
        6,
        "CreationDateAndTime",
        &id.creation_date_and_time,
    );
    out.push_str("    </DocumentIdentification>\n");
    out.push_str("    <BusinessScope>\n");
    for scope in &envelope.scopes {
        push_scope(&mut out, scope);
    }
    out.push_str("    </BusinessScope>\n");
    out.push_str("  </StandardBusinessDocumentHeader>\n");
    let content = &envelope.binary_content;
    out.push_str("  <BinaryContent");
    if content.namespace == BinaryContentNamespace::Peppol {
        out.push_str(&format!(" xmlns=\"{PEPPOL_ENVELOPE_NAMESPACE}\""));
    }
    out.push_str(&format!(
        " mimeType=\"{}\"",
        escape_attribute(&content.mime_type)
    ));
    if let Some(encoding) = &content.encoding {
        out.push_str(&format!(" encoding=\"{}\"", escape_attribute(encoding)));
    }
    out.push('>');
    out.push_str(&encode_base64(&content.payload));
    out.push_str("</BinaryContent>\n");
    out.push_str("</StandardBusinessDocument>\n");
    out
}

fn push_participant(out: &mut String, name: &str, participant: &Participant) {
    out.push_str(&format!("    <{name}>\n      <Identifier"));
    if let Some(authority) = &participant.authority {
        out.push_str(&format!(" Authority=\"{}\"", escape_attribute(authority)));
    }
    out.push_str(&format!(
        ">{}</Identifier>\n    </{name}>\n",
        escape_text(&participant.identifier)
    ));
}

fn push_scope(out: &mut String, scope: &Scope) {
    out.push_str("      <Scope>\n");
    push_element(out, 8, "Type", &scope.scope_type);
    push_element(out, 8, "InstanceIdentifier", &scope.instance_identifier);
    push_element(out, 8, "Identifier", &scope.identifier);
    if let Some(c) = &scope.correlation {
        out.push_str("        <CorrelationInformation>\n");
        push_element(
            out,
            10,
            "RequestingDocumentCreationDateTime",
            &c.requesting_document_creation_date_time,
        );
        push_element(
            out,
            10,
            "RequestingDocumentInstanceIdentifier",
            &c.requesting_document_instance_identifier,
        );
        push_element(
            out,
            10,
            "ExpectedResponseDateTime",
            &c.expected_response_date_time,
        );
        out.push_str("        </CorrelationInformation>\n");
    }
    if let Some(b) = &scope.business_service {
        out.push_str("        <BusinessService>\n");
        push_element(out, 10, "BusinessServiceName", &b.name);
        push_indent(out, 10);
        out.push_str("<ServiceTransaction");
        for (name, value) in &b.service_transaction {
            out.push_str(&format!(" {name}=\"{}\"", escape_attribute(value)));
        }
        out.push_str("/>\n");
        out.push_str("        </BusinessService>\n");
    }
    out.push_str("      </Scope>\n");
}
