//! VANSEnvelope 1.0.4: the envelope of MedCom's VANS network (`urn:oio:medcom:vans-envelope:1.0.4`).
//!
//! Structure (XSD `vans-envelope-1.0.4.xsd`, DOMAIN.md §3): `SenderID` and `ReceiverID` (each with
//! `EndPointType` = `EAN` | `CVR` | `VANS`), `EnvelopeIdentifier` (UUID), `SentDateTime`, then
//! either a `Message` (`MetaInformation` + base64 `Data`) or a `Receipt` (`PositiveMessage`,
//! `NegativeMessage` or `NegativeVans`, each quoting the `OriginalEnvelopeIdentifier`).
//!
//! Rules kept here:
//! - the payload is the decoded `Data`, byte for byte; nothing is re-encoded, trimmed or
//!   transcoded (an ISO-8859-1 OIOXML letter stays ISO-8859-1);
//! - [`wrap_vans`] writes exactly what the model holds, so a fault profile can send a wrong
//!   `SizeInBytes` on purpose; [`VansMessage::new`] sets it to the payload length in bytes;
//! - one message per envelope (DOMAIN.md §3); a receipt is never answered with a receipt.

use roxmltree::Node;

use super::EnvelopeError;
use super::xml::{
    self, child, children, decode_base64, encode_base64, escape_attribute, escape_text,
    optional_text, push_element, push_indent, required, required_text, text,
};

/// The namespace of VANSEnvelope 1.0.4.
pub const VANS_NAMESPACE: &str = "urn:oio:medcom:vans-envelope:1.0.4";

/// The kind of address in `SenderID`/`ReceiverID` (attribute `EndPointType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndPointType {
    /// An EAN/GLN location number (13 digits), MedCom's usual address.
    Ean,
    /// A Danish CVR company number.
    Cvr,
    /// A VANS provider's own id.
    Vans,
}

impl EndPointType {
    /// The attribute value: `EAN`, `CVR` or `VANS`.
    pub fn as_str(self) -> &'static str {
        match self {
            EndPointType::Ean => "EAN",
            EndPointType::Cvr => "CVR",
            EndPointType::Vans => "VANS",
        }
    }

    fn parse(value: &str) -> Option<EndPointType> {
        match value {
            "EAN" => Some(EndPointType::Ean),
            "CVR" => Some(EndPointType::Cvr),
            "VANS" => Some(EndPointType::Vans),
            _ => None,
        }
    }
}

/// A sender or receiver: `<SenderID EndPointType="EAN">5790001659592</SenderID>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EndPoint {
    /// The address as written (`xs:token`, at most 18 characters).
    pub id: String,
    /// What kind of address it is.
    pub kind: EndPointType,
}

impl EndPoint {
    /// An EAN/GLN endpoint.
    pub fn ean(gln: impl Into<String>) -> EndPoint {
        EndPoint {
            id: gln.into(),
            kind: EndPointType::Ean,
        }
    }
}

/// `Document/Format`: what kind of document `Data` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `XML`: OIOXML letters.
    Xml,
    /// `EDIFACT`.
    Edifact,
    /// `HL7`: FHIR messages travel with this format (DOMAIN.md §3).
    Hl7,
    /// `Binary`.
    Binary,
    /// `Other`.
    Other,
}

impl Format {
    /// The element value as the XSD spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Xml => "XML",
            Format::Edifact => "EDIFACT",
            Format::Hl7 => "HL7",
            Format::Binary => "Binary",
            Format::Other => "Other",
        }
    }

    fn parse(value: &str) -> Option<Format> {
        match value {
            "XML" => Some(Format::Xml),
            "EDIFACT" => Some(Format::Edifact),
            "HL7" => Some(Format::Hl7),
            "Binary" => Some(Format::Binary),
            "Other" => Some(Format::Other),
            _ => None,
        }
    }
}

/// `Transport/Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportType {
    /// `reliable`: the VANS provider answers with a receipt.
    Reliable,
    /// `unreliable`.
    Unreliable,
}

impl TransportType {
    /// The element value.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportType::Reliable => "reliable",
            TransportType::Unreliable => "unreliable",
        }
    }
}

/// `Transport/ServiceTag`: `<ServiceTag name="MCM:MIME">application/fhir+xml</ServiceTag>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServiceTag {
    /// The `name` attribute (1 to 70 characters), e.g. `MCM:MIME`, `MCM:STATISTIC`.
    pub name: String,
    /// The value (1 to 70 characters).
    pub value: String,
}

/// `MetaInformation/Processing`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processing {
    /// `ProviderIdentifier`.
    pub provider_identifier: String,
    /// `ServiceIdentifier`.
    pub service_identifier: String,
}

/// `MetaInformation/Document`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentInfo {
    /// `Format`.
    pub format: Format,
    /// `Name`, e.g. `MCM:XDIS22` or `MCM:FDIS91#discharge` (1 to 255 characters).
    pub name: String,
    /// `Version`, e.g. `XD2230L`.
    pub version: Option<String>,
    /// `SizeInBytes` as declared (an `xs:int`): the length of the decoded `Data`, in bytes.
    pub size_in_bytes: i64,
}

/// `MetaInformation/Transport`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Transport {
    /// `Type`, optional in the XSD.
    pub transport_type: Option<TransportType>,
    /// `TransformMessage` (required when `Transport` is present).
    pub transform_message: bool,
    /// `ServiceTag`s in document order (at most 5).
    pub service_tags: Vec<ServiceTag>,
}

/// `MetaInformation`: what the envelope says about its message; also quoted in receipts as
/// `OriginalMessage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaInformation {
    /// `Identifier` (UUID): the message id, kept on a resend (the second key of the duplicate
    /// matrix).
    pub identifier: String,
    /// `Processing`.
    pub processing: Option<Processing>,
    /// `Document`.
    pub document: DocumentInfo,
    /// `Transport`.
    pub transport: Option<Transport>,
}

impl MetaInformation {
    /// The value of the first service tag called `name`.
    pub fn service_tag(&self, name: &str) -> Option<&str> {
        self.transport
            .as_ref()?
            .service_tags
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.value.as_str())
    }
}

/// A `Message`: its meta information and the decoded payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VansMessage {
    /// `MetaInformation`.
    pub meta: MetaInformation,
    /// The decoded `Data`, byte for byte.
    pub payload: Vec<u8>,
}

impl VansMessage {
    /// A message whose `SizeInBytes` is the payload's length in bytes.
    pub fn new(mut meta: MetaInformation, payload: Vec<u8>) -> VansMessage {
        meta.document.size_in_bytes = i64::try_from(payload.len()).unwrap_or(i64::MAX);
        VansMessage { meta, payload }
    }
}

/// Which envelope-level receipt a `Receipt` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReceiptKind {
    /// `PositiveMessage`: the receiver's VANS mailbox accepted the message.
    Positive,
    /// `NegativeMessage`: the message was refused; carries an `Error`.
    Negative,
    /// `NegativeVans`: the VANS network could not deliver it; carries an `Error`.
    NegativeVans,
}

impl ReceiptKind {
    /// The element name in the XSD.
    pub fn element(self) -> &'static str {
        match self {
            ReceiptKind::Positive => "PositiveMessage",
            ReceiptKind::Negative => "NegativeMessage",
            ReceiptKind::NegativeVans => "NegativeVans",
        }
    }
}

/// A receipt's `Error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptError {
    /// `Code` (`xs:positiveInteger`), optional.
    pub code: Option<u64>,
    /// `Description` (1 to 512 characters).
    pub description: String,
}

/// A `Receipt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VansReceipt {
    /// Positive, negative or VANS-negative.
    pub kind: ReceiptKind,
    /// `Error`: required in the negative kinds, absent in a positive receipt.
    pub error: Option<ReceiptError>,
    /// `OriginalEnvelopeIdentifier`: the `EnvelopeIdentifier` of the envelope answered.
    pub original_envelope_identifier: String,
    /// `OriginalMessage`: the answered envelope's `MetaInformation` (optional only in
    /// `NegativeVans`).
    pub original_message: Option<MetaInformation>,
}

/// What an envelope carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VansBody {
    /// A message with its payload.
    Message(VansMessage),
    /// An envelope-level receipt.
    Receipt(VansReceipt),
}

/// A VANSEnvelope 1.0.4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VansEnvelope {
    /// `SenderID`.
    pub sender: EndPoint,
    /// `ReceiverID`.
    pub receiver: EndPoint,
    /// `EnvelopeIdentifier` (UUID): new on every send, resends too (the first key of the
    /// duplicate matrix).
    pub envelope_identifier: String,
    /// `SentDateTime` as written (`xs:dateTime`; the corpus example has no time zone).
    pub sent_date_time: String,
    /// The message or the receipt.
    pub body: VansBody,
}

impl VansEnvelope {
    /// The message, if this envelope carries one.
    pub fn message(&self) -> Option<&VansMessage> {
        match &self.body {
            VansBody::Message(m) => Some(m),
            VansBody::Receipt(_) => None,
        }
    }

    /// The receipt, if this envelope carries one.
    pub fn receipt(&self) -> Option<&VansReceipt> {
        match &self.body {
            VansBody::Receipt(r) => Some(r),
            VansBody::Message(_) => None,
        }
    }

    /// An envelope-level receipt answering `original`, sent back from its receiver to its sender.
    /// `None` when `original` is itself a receipt: receipts are never answered.
    pub fn receipt_for(
        original: &VansEnvelope,
        kind: ReceiptKind,
        error: Option<ReceiptError>,
        envelope_identifier: impl Into<String>,
        sent_date_time: impl Into<String>,
    ) -> Option<VansEnvelope> {
        let message = original.message()?;
        Some(VansEnvelope {
            sender: original.receiver.clone(),
            receiver: original.sender.clone(),
            envelope_identifier: envelope_identifier.into(),
            sent_date_time: sent_date_time.into(),
            body: VansBody::Receipt(VansReceipt {
                kind,
                error,
                original_envelope_identifier: original.envelope_identifier.clone(),
                original_message: Some(message.meta.clone()),
            }),
        })
    }
}

/// Reads a VANSEnvelope 1.0.4 and decodes its `Data` exactly.
///
/// The reader checks what it needs to build the model (required elements, enumerations,
/// numbers, base64) and names the element and line when that fails; every other rule of the
/// XSD is for [`super::Validator::validate_vans`].
///
/// # Errors
/// [`EnvelopeError`] when the bytes are not a readable VANSEnvelope 1.0.4: too large, a DTD,
/// undecodable text, not well-formed, another root element, a missing element or a value the
/// model cannot hold.
pub fn unwrap_vans(bytes: &[u8]) -> Result<VansEnvelope, EnvelopeError> {
    let source = xml::decode(bytes)?;
    let document = xml::parse(&source)?;
    let root = document.root_element();
    if !xml::is(root, VANS_NAMESPACE, "VANSEnvelope") {
        return Err(EnvelopeError::Root {
            found: xml::expanded_name(root),
            expected: format!("{{{VANS_NAMESPACE}}}VANSEnvelope"),
        });
    }
    let ns = VANS_NAMESPACE;
    let sender = end_point(required(root, ns, "SenderID")?)?;
    let receiver = end_point(required(root, ns, "ReceiverID")?)?;
    let envelope_identifier = required_text(root, ns, "EnvelopeIdentifier")?;
    let sent_date_time = required_text(root, ns, "SentDateTime")?;
    let body = if let Some(message) = child(root, ns, "Message") {
        VansBody::Message(VansMessage {
            meta: meta_information(required(message, ns, "MetaInformation")?)?,
            payload: decode_base64(required(message, ns, "Data")?)?,
        })
    } else if let Some(receipt) = child(root, ns, "Receipt") {
        VansBody::Receipt(read_receipt(receipt)?)
    } else {
        return Err(EnvelopeError::Missing {
            path: "Message` or `Receipt".to_string(),
            parent: "VANSEnvelope".to_string(),
            line: xml::line(root),
        });
    };
    Ok(VansEnvelope {
        sender,
        receiver,
        envelope_identifier,
        sent_date_time,
        body,
    })
}

fn end_point(node: Node<'_, '_>) -> Result<EndPoint, EnvelopeError> {
    let kind = node
        .attribute("EndPointType")
        .ok_or_else(|| value_error(node, "the attribute `EndPointType` is missing"))?;
    let kind = EndPointType::parse(kind).ok_or_else(|| {
        value_error(
            node,
            &format!("`EndPointType` is `{kind}`, not one of `EAN`, `CVR`, `VANS`"),
        )
    })?;
    Ok(EndPoint {
        id: text(node),
        kind,
    })
}

fn meta_information(node: Node<'_, '_>) -> Result<MetaInformation, EnvelopeError> {
    let ns = VANS_NAMESPACE;
    let processing = match child(node, ns, "Processing") {
        Some(p) => Some(Processing {
            provider_identifier: required_text(p, ns, "ProviderIdentifier")?,
            service_identifier: required_text(p, ns, "ServiceIdentifier")?,
        }),
        None => None,
    };
    let document = required(node, ns, "Document")?;
    let format_node = required(document, ns, "Format")?;
    let format_text = text(format_node);
    let format = Format::parse(format_text.trim()).ok_or_else(|| {
        value_error(
            format_node,
            &format!("`{format_text}` is not one of `XML`, `EDIFACT`, `HL7`, `Binary`, `Other`"),
        )
    })?;
    let size_node = required(document, ns, "SizeInBytes")?;
    let size_text = text(size_node);
    let size_in_bytes = size_text
        .trim_matches(xml::is_xml_space)
        .trim_start_matches('+')
        .parse::<i64>()
        .map_err(|_| value_error(size_node, &format!("`{size_text}` is not an integer")))?;
    let transport = match child(node, ns, "Transport") {
        Some(t) => Some(read_transport(t)?),
        None => None,
    };
    Ok(MetaInformation {
        identifier: required_text(node, ns, "Identifier")?,
        processing,
        document: DocumentInfo {
            format,
            name: required_text(document, ns, "Name")?,
            version: optional_text(document, ns, "Version"),
            size_in_bytes,
        },
        transport,
    })
}

fn read_transport(node: Node<'_, '_>) -> Result<Transport, EnvelopeError> {
    let ns = VANS_NAMESPACE;
    let transport_type = match child(node, ns, "Type") {
        None => None,
        Some(t) => match text(t).trim() {
            "reliable" => Some(TransportType::Reliable),
            "unreliable" => Some(TransportType::Unreliable),
            other => {
                return Err(value_error(
                    t,
                    &format!("`{other}` is not `reliable` or `unreliable`"),
                ));
            }
        },
    };
    let transform = required(node, ns, "TransformMessage")?;
    let transform_message = match text(transform).trim_matches(xml::is_xml_space) {
        "true" | "1" => true,
        "false" | "0" => false,
        other => {
            return Err(value_error(
                transform,
                &format!("`{other}` is not an `xs:boolean`"),
            ));
        }
    };
    let mut service_tags = Vec::new();
    for tag in children(node, ns, "ServiceTag") {
        let name = tag
            .attribute("name")
            .ok_or_else(|| value_error(tag, "the attribute `name` is missing"))?;
        service_tags.push(ServiceTag {
            name: name.to_string(),
            value: text(tag),
        });
    }
    Ok(Transport {
        transport_type,
        transform_message,
        service_tags,
    })
}

fn read_receipt(node: Node<'_, '_>) -> Result<VansReceipt, EnvelopeError> {
    let ns = VANS_NAMESPACE;
    let kinds = [
        ReceiptKind::Positive,
        ReceiptKind::Negative,
        ReceiptKind::NegativeVans,
    ];
    let (kind, inner) = kinds
        .iter()
        .find_map(|k| child(node, ns, k.element()).map(|n| (*k, n)))
        .ok_or_else(|| EnvelopeError::Missing {
            path: "PositiveMessage`, `NegativeMessage` or `NegativeVans".to_string(),
            parent: "Receipt".to_string(),
            line: xml::line(node),
        })?;
    let error = match child(inner, ns, "Error") {
        None => None,
        Some(e) => Some(ReceiptError {
            code: match child(e, ns, "Code") {
                None => None,
                Some(c) => Some(text(c).trim().parse::<u64>().map_err(|_| {
                    value_error(c, &format!("`{}` is not a positive integer", text(c)))
                })?),
            },
            description: required_text(e, ns, "Description")?,
        }),
    };
    let original_message = match child(inner, ns, "OriginalMessage") {
        Some(m) => Some(meta_information(m)?),
        None => None,
    };
    Ok(VansReceipt {
        kind,
        error,
        original_envelope_identifier: required_text(inner, ns, "OriginalEnvelopeIdentifier")?,
        original_message,
    })
}

fn value_error(node: Node<'_, '_>, problem: &str) -> EnvelopeError {
    EnvelopeError::Value {
        path: node.tag_name().name().to_string(),
        line: xml::line(node),
        problem: problem.to_string(),
    }
}

/// Writes `envelope` as a VANSEnvelope 1.0.4 document (UTF-8, default namespace, `Data` as one
/// line of base64).
///
/// It writes exactly what the model holds; build messages with [`VansMessage::new`] so that
/// `SizeInBytes` is the payload length. Element order follows the XSD.
pub fn wrap_vans(envelope: &VansEnvelope) -> String {
    let mut out =
        String::with_capacity(1024 + envelope.message().map_or(0, |m| m.payload.len() * 4 / 3));
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<VANSEnvelope xmlns=\"");
    out.push_str(VANS_NAMESPACE);
    out.push_str("\">\n");
    push_end_point(&mut out, "SenderID", &envelope.sender);
    push_end_point(&mut out, "ReceiverID", &envelope.receiver);
    push_element(
        &mut out,
        2,
        "EnvelopeIdentifier",
        &envelope.envelope_identifier,
    );
    push_element(&mut out, 2, "SentDateTime", &envelope.sent_date_time);
    match &envelope.body {
        VansBody::Message(message) => {
            out.push_str("  <Message>\n");
            push_meta(&mut out, 4, "MetaInformation", &message.meta);
            out.push_str("    <Data>");
            out.push_str(&encode_base64(&message.payload));
            out.push_str("</Data>\n");
            out.push_str("  </Message>\n");
        }
        VansBody::Receipt(receipt) => {
            out.push_str("  <Receipt>\n");
            let element = receipt.kind.element();
            push_indent(&mut out, 4);
            out.push_str(&format!("<{element}>\n"));
            if let Some(error) = &receipt.error {
                out.push_str("      <Error>\n");
                if let Some(code) = error.code {
                    push_element(&mut out, 8, "Code", &code.to_string());
                }
                push_element(&mut out, 8, "Description", &error.description);
                out.push_str("      </Error>\n");
            }
            push_element(
                &mut out,
                6,
                "OriginalEnvelopeIdentifier",
                &receipt.original_envelope_identifier,
            );
            if let Some(meta) = &receipt.original_message {
                push_meta(&mut out, 6, "OriginalMessage", meta);
            }
            push_indent(&mut out, 4);
            out.push_str(&format!("</{element}>\n"));
            out.push_str("  </Receipt>\n");
        }
    }
    out.push_str("</VANSEnvelope>\n");
    out
}

fn push_end_point(out: &mut String, name: &str, end_point: &EndPoint) {
    out.push_str(&format!(
        "  <{name} EndPointType=\"{}\">{}</{name}>\n",
        end_point.kind.as_str(),
        escape_text(&end_point.id)
    ));
}

fn push_meta(out: &mut String, indent: usize, name: &str, meta: &MetaInformation) {
    push_indent(out, indent);
    out.push_str(&format!("<{name}>\n"));
    let inner = indent + 2;
    push_element(out, inner, "Identifier", &meta.identifier);
    if let Some(p) = &meta.processing {
        push_indent(out, inner);
        out.push_str("<Processing>\n");
        push_element(out, inner + 2, "ProviderIdentifier", &p.provider_identifier);
        push_element(out, inner + 2, "ServiceIdentifier", &p.service_identifier);
        push_indent(out, inner);
        out.push_str("</Processing>\n");
    }
    push_indent(out, inner);
    out.push_str("<Document>\n");
    push_element(out, inner + 2, "Format", meta.document.format.as_str());
    push_element(out, inner + 2, "Name", &meta.document.name);
    if let Some(version) = &meta.document.version {
        push_element(out, inner + 2, "Version", version);
    }
    push_element(
        out,
        inner + 2,
        "SizeInBytes",
        &meta.document.size_in_bytes.to_string(),
    );
    push_indent(out, inner);
    out.push_str("</Document>\n");
    if let Some(t) = &meta.transport {
        push_indent(out, inner);
        out.push_str("<Transport>\n");
        if let Some(kind) = t.transport_type {
            push_element(out, inner + 2, "Type", kind.as_str());
        }
        push_element(
            out,
            inner + 2,
            "TransformMessage",
            if t.transform_message { "true" } else { "false" },
        );
        for tag in &t.service_tags {
            push_indent(out, inner + 2);
            out.push_str(&format!(
                "<ServiceTag name=\"{}\">{}</ServiceTag>\n",
                escape_attribute(&tag.name),
                escape_text(&tag.value)
            ));
        }
        push_indent(out, inner);
        out.push_str("</Transport>\n");
    }
    push_indent(out, indent);
    out.push_str(&format!("</{name}>\n"));
}
