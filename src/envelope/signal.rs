//! ebBP business signals: the SBDH-level receipts of the EHMI network.
//!
//! A receiver's access point answers an ehmiSBDH message that asked for it (scope
//! `EHMI-ReceiptAcknowledgement` = `Request`) with an SBDH whose `DocumentIdentification/Standard`
//! is `ehmisbdh-acknowledgement` and whose `BinaryContent` holds an OASIS ebBP signal
//! (`ebbp-signals-2.0.4.xsd`, namespace `http://docs.oasis-open.org/ebxml-bp/ebbp-signals-2.0`):
//! - `ReceiptAcknowledgement`: the message arrived and could be read;
//! - `Exception` with `ExceptionType/ReceiptException` (`Syntax`, `Authorization`, `Signature`,
//!   `Sequence`), and its acceptance and general siblings: it did not.
//!
//! Both start with the `SignalIdentificationInformation` sequence; `OriginalMessageIdentifier`
//! names the message answered (the ebBP counterpart of ebMS's `RefToMessageId`).
//!
//! The signal schema imports the xlink and XML-DSig schemas from the web, so signals are read
//! structurally here and never schema-validated (the harness does not fetch schemas). Values are
//! trimmed: MedCom's samples pad them with line breaks.

use roxmltree::Node;

use super::EnvelopeError;
use super::xml::{self, child, escape_attribute, escape_text, push_element, text};

/// The ebBP signals namespace.
pub const EBBP_NAMESPACE: &str = "http://docs.oasis-open.org/ebxml-bp/ebbp-signals-2.0";

/// Which signal it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignalKind {
    /// `ReceiptAcknowledgement`.
    ReceiptAcknowledgement,
    /// `AcceptanceAcknowledgement`.
    AcceptanceAcknowledgement,
    /// `Exception` / `ReceiptException` with its value (`Syntax`, `Authorization`,
    /// `Signature`, `Sequence`).
    ReceiptException(String),
    /// `Exception` / `AcceptanceException` (`Business`, `Performance`).
    AcceptanceException(String),
    /// `Exception` / `GeneralException`.
    GeneralException(String),
}

impl SignalKind {
    /// Whether the signal says the message was received (an acknowledgement, not an exception).
    pub fn is_positive(&self) -> bool {
        matches!(
            self,
            SignalKind::ReceiptAcknowledgement | SignalKind::AcceptanceAcknowledgement
        )
    }
}

/// `FromPartyInfo` / `ToPartyInfo`: `<FromPartyInfo type="iso6523-actorid-upis">0088:…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyInfo {
    /// The party id, trimmed (`0088:<GLN>`).
    pub id: String,
    /// The `type` attribute.
    pub id_type: Option<String>,
}

/// An ebBP signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signal {
    /// Acknowledgement or exception.
    pub kind: SignalKind,
    /// `OriginalMessageIdentifier` (required by ebBP).
    pub original_message_identifier: Option<String>,
    /// `OriginalDocumentIdentifier`.
    pub original_document_identifier: Option<String>,
    /// `OriginalMessageDateTime` (required by ebBP; missing from MedCom's samples).
    pub original_message_date_time: Option<String>,
    /// `ThisMessageDateTime` (required by ebBP).
    pub this_message_date_time: Option<String>,
    /// `FromPartyInfo`.
    pub from_party: Option<PartyInfo>,
    /// `ToPartyInfo`.
    pub to_party: Option<PartyInfo>,
    /// `CollaborationIdentifier`.
    pub collaboration_identifier: Option<String>,
    /// `BusinessActivityIdentifier`.
    pub business_activity_identifier: Option<String>,
    /// `Exception/Reason` (exceptions only).
    pub reason: Option<String>,
    /// `Exception/ExceptionMessage`.
    pub exception_message: Option<String>,
}

impl Signal {
    /// A `ReceiptAcknowledgement` for the message `original_message_identifier`.
    pub fn receipt_acknowledgement(
        original_message_identifier: &str,
        original_message_date_time: &str,
        this_message_date_time: &str,
    ) -> Signal {
        Signal {
            kind: SignalKind::ReceiptAcknowledgement,
            original_message_identifier: Some(original_message_identifier.to_string()),
            original_document_identifier: None,
            original_message_date_time: Some(original_message_date_time.to_string()),
            this_message_date_time: Some(this_message_date_time.to_string()),
            from_party: None,
            to_party: None,
            collaboration_identifier: None,
            business_activity_identifier: None,
            reason: None,
            exception_message: None,
        }
    }
}

/// Reads an ebBP signal (the decoded `BinaryContent` of an `ehmisbdh-acknowledgement` SBDH).
///
/// # Errors
/// [`EnvelopeError`] when the bytes are not readable XML or the root is not
/// `ReceiptAcknowledgement`, `AcceptanceAcknowledgement` or `Exception` in the ebBP namespace.
pub fn read_signal(bytes: &[u8]) -> Result<Signal, EnvelopeError> {
    let source = xml::decode(bytes)?;
    let document = xml::parse(&source)?;
    let root = document.root_element();
    let ns = EBBP_NAMESPACE;
    let value = |name: &str| child(root, ns, name).map(|n| trimmed(n));
    let party = |name: &str| {
        child(root, ns, name).map(|n| PartyInfo {
            id: trimmed(n),
            id_type: n.attribute("type").map(str::to_string),
        })
    };
    let kind = if xml::is(root, ns, "ReceiptAcknowledgement") {
        SignalKind::ReceiptAcknowledgement
    } else if xml::is(root, ns, "AcceptanceAcknowledgement") {
        SignalKind::AcceptanceAcknowledgement
    } else if xml::is(root, ns, "Exception") {
        exception_kind(xml::required(root, ns, "ExceptionType")?)?
    } else {
        return Err(EnvelopeError::Root {
            found: xml::expanded_name(root),
            expected: format!(
                "{{{ns}}}ReceiptAcknowledgement`, `{{{ns}}}AcceptanceAcknowledgement` or `{{{ns}}}Exception"
            ),
        });
    };
    Ok(Signal {
        kind,
        original_message_identifier: value("OriginalMessageIdentifier"),
        original_document_identifier: value("OriginalDocumentIdentifier"),
        original_message_date_time: value("OriginalMessageDateTime"),
        this_message_date_time: value("ThisMessageDateTime"),
        from_party: party("FromPartyInfo"),
        to_party: party("ToPartyInfo"),
        collaboration_identifier: value("CollaborationIdentifier"),
        business_activity_identifier: value("BusinessActivityIdentifier"),
        reason: value("Reason"),
        exception_message: value("ExceptionMessage"),
    })
}

fn exception_kind(node: Node<'_, '_>) -> Result<SignalKind, EnvelopeError> {
    let ns = EBBP_NAMESPACE;
    if let Some(n) = child(node, ns, "ReceiptException") {
        Ok(SignalKind::ReceiptException(trimmed(n)))
    } else if let Some(n) = child(node, ns, "AcceptanceException") {
        Ok(SignalKind::AcceptanceException(trimmed(n)))
    } else if let Some(n) = child(node, ns, "GeneralException") {
        Ok(SignalKind::GeneralException(trimmed(n)))
    } else {
        Err(EnvelopeError::Missing {
            path: "ReceiptException`, `AcceptanceException` or `GeneralException".to_string(),
            parent: "ExceptionType".to_string(),
            line: xml::line(node),
        })
    }
}

fn trimmed(node: Node<'_, '_>) -> String {
    text(node).trim_matches(xml::is_xml_space).to_string()
}

/// Writes `signal` in ebBP element order (prefix `bpssignal`, as MedCom's samples do).
pub fn write_signal(signal: &Signal) -> String {
    let (root, exception) = match &signal.kind {
        SignalKind::ReceiptAcknowledgement => ("ReceiptAcknowledgement", None),
        SignalKind::AcceptanceAcknowledgement => ("AcceptanceAcknowledgement", None),
        SignalKind::ReceiptException(v) => ("Exception", Some(("ReceiptException", v))),
        SignalKind::AcceptanceException(v) => ("Exception", Some(("AcceptanceException", v))),
        SignalKind::GeneralException(v) => ("Exception", Some(("GeneralException", v))),
    };
    let mut out = String::new();
    out.push_str(&format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<bpssignal:{root} xmlns:bpssignal=\"{EBBP_NAMESPACE}\">\n"
    ));
    let element = |out: &mut String, name: &str, value: &Option<String>| {
        if let Some(v) = value {
            push_element(out, 2, &format!("bpssignal:{name}"), v);
        }
    };
    element(
        &mut out,
        "OriginalMessageIdentifier",
        &signal.original_message_identifier,
    );
    element(
        &mut out,
        "OriginalDocumentIdentifier",
        &signal.original_document_identifier,
    );
    element(
        &mut out,
        "OriginalMessageDateTime",
        &signal.original_message_date_time,
    );
    element(
        &mut out,
        "ThisMessageDateTime",
        &signal.this_message_date_time,
    );
    for (name, party) in [
        ("FromPartyInfo", &signal.from_party),
        ("ToPartyInfo", &signal.to_party),
    ] {
        if let Some(p) = party {
            out.push_str(&format!("  <bpssignal:{name}"));
            if let Some(t) = &p.id_type {
                out.push_str(&format!(" type=\"{}\"", escape_attribute(t)));
            }
            out.push_str(&format!(">{}</bpssignal:{name}>\n", escape_text(&p.id)));
        }
    }
    element(
        &mut out,
        "CollaborationIdentifier",
        &signal.collaboration_identifier,
    );
    element(
        &mut out,
        "BusinessActivityIdentifier",
        &signal.business_activity_identifier,
    );
    if let Some((name, value)) = exception {
        out.push_str(&format!(
            "  <bpssignal:ExceptionType>\n    <bpssignal:{name}>{}</bpssignal:{name}>\n  </bpssignal:ExceptionType>\n",
            escape_text(value)
        ));
        element(&mut out, "Reason", &signal.reason);
        element(&mut out, "ExceptionMessage", &signal.exception_message);
    }
    out.push_str(&format!("</bpssignal:{root}>\n"));
    out
}
