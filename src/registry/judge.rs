//! The registry's verdict on the parties of a message or envelope: `registry-gln` (the location
//! number exists), `registry-sor-id` (the SOR id names the unit with that location number, its
//! own or inherited) and `registry-accepts` (the receiver's endpoints declare the message type
//! and version).

use serde::Serialize;

use super::{MessageType, Registry};
use crate::finding::Finding;
use crate::grade::Grade;
use crate::rule;

/// Which side a party is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Who sent it.
    Sender,
    /// Who it is for.
    Receiver,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Sender => "sender",
            Role::Receiver => "receiver",
        }
    }
}

/// One party as a message names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Party {
    /// Sender or receiver.
    pub role: Role,
    /// The EAN/GLN location number given.
    pub gln: Option<String>,
    /// The SOR id given.
    pub sor_id: Option<String>,
    /// Where the message names it (`MessageHeader.sender`, `Emessage/…/Sender`).
    pub location: String,
}

/// The findings on `parties` against `registry`; `message_type` (when known) is checked against
/// each receiver's endpoints. Passed checks are findings of grade OK; a check the registry cannot
/// decide (no endpoint known for the receiver) is an OK `note:`.
pub fn judge(
    registry: &Registry,
    parties: &[Party],
    message_type: Option<&MessageType>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for p in parties {
        let role = p.role.as_str();
        if let Some(gln) = p.gln.as_deref() {
            out.push(if registry.knows_gln(gln) {
                rule::REGISTRY_GLN
                    .pass(format!("the {role}'s EAN/GLN `{gln}` is in the registry"))
                    .at(&p.location)
            } else if let Some(own) = registry.own_by_gln(gln) {
                own_missing(registry, role, own, "ean", gln).at(&p.location)
            } else {
                rule::REGISTRY_GLN
                    .breach(format!(
                        "the {role}'s EAN/GLN `{gln}` is not a location number in the registry ({} units, {} endpoints from {} file(s): {})",
                        registry.units().count(),
                        registry.endpoints().len(),
                        registry.files.len(),
                        registry.files_named()
                    ))
                    .at(&p.location)
            });
        }
        if let Some(sor) = p.sor_id.as_deref() {
            out.push(sor_id(registry, role, sor, p.gln.as_deref()).at(&p.location));
        }
        if p.role == Role::Receiver
            && let Some(t) = message_type
        {
            out.push(accepts(registry, p, t).at(&p.location));
        }
    }
    out
}

/// The finding on one of the run's own test identities (config `[harness]` or `[vendor]`, or
/// the embedded reference vendor's forward recipient) that the registry's files lack: F4, so a
/// run whose only gap is its own test identities still passes and says so, naming the config
/// key and what to add. A party the run does not itself name stays F2 (`registry-gln`) or F3
/// (`registry-sor-id`).
fn own_missing(
    registry: &Registry,
    role: &str,
    own: &super::OwnParty,
    key: &str,
    value: &str,
) -> Finding {
    let (check, what, add) = if key == "ean" {
        (
            rule::REGISTRY_GLN,
            "EAN/GLN",
            format!(
                "add an EER Endpoint with identifier `http://www.gs1.org/gln|{value}` (or a SOR unit with `EanLocationCode` {value}) to the registry"
            ),
        )
    } else {
        (
            rule::REGISTRY_SOR_ID,
            "SOR id",
            format!(
                "add an EER Organization with identifier `urn:oid:1.2.208.176.1.1|{value}` (or a SOR unit with `SorIdentifier` {value}) to the registry"
            ),
        )
    };
    let (config, or_set) = match &own.table {
        Some(table) => (
            format!(" (config `[{table}] {key}`)"),
            format!(", or set `[{table}] {key}` to the {what} the system is registered with"),
        ),
        None => (String::new(), String::new()),
    };
    check.finding(
        Grade::F4,
        format!(
            "the {role}'s {what} `{value}` is {}{config} and is not in the registry ({}): it was not checked. To check it, {add}{or_set}",
            own.who,
            registry.files_named()
        ),
    )
}

fn name(registry: &Registry, sor: &str) -> String {
    registry.unit(sor).map_or_else(
        || format!("`{sor}`"),
        |u| format!("`{sor}` ({})", super::strip_sor_suffix(&u.name)),
    )
}

fn sor_id(registry: &Registry, role: &str, sor: &str, gln: Option<&str>) -> Finding {
    let Some(unit) = registry.unit(sor) else {
        if let Some(own) = registry.own_by_sor_id(sor) {
            return own_missing(registry, role, own, "sor-id", sor);
        }
        return rule::REGISTRY_SOR_ID.breach(format!(
            "the {role}'s SOR id `{sor}` is not a unit in the registry ({})",
            registry.files_named()
        ));
    };
    let Some(gln) = gln else {
        return rule::REGISTRY_SOR_ID.pass(format!(
            "the {role}'s SOR id {} is in the registry",
            name(registry, sor)
        ));
    };
    match registry.location_number(&unit.sor_id) {
        Some((own, on)) if own == gln => rule::REGISTRY_SOR_ID.pass(if on == sor {
            format!("the {role}'s SOR id {} has location number `{gln}`", name(registry, sor))
        } else {
            format!(
                "the {role}'s SOR id {} inherits location number `{gln}` from {}",
                name(registry, sor),
                name(registry, on)
            )
        }),
        Some((other, on)) => rule::REGISTRY_SOR_ID.breach(format!(
            "the {role}'s SOR id {} belongs to another organisation: its location number is `{other}`{}, not `{gln}`",
            name(registry, sor),
            if on == sor {
                String::new()
            } else {
                format!(" (inherited from {})", name(registry, on))
            }
        )),
        None => {
            let (owners, _) = registry.by_gln(gln);
            let ancestors = registry.ancestors(sor);
            if owners.is_empty() {
                rule::REGISTRY_SOR_ID.finding(
                    Grade::Ok,
                    format!(
                        "note: the {role}'s SOR id {} is in the registry, but neither it nor an ancestor has a location number there, so whether `{gln}` is its could not be checked",
                        name(registry, sor)
                    ),
                )
            } else if owners.iter().any(|o| ancestors.contains(&o.sor_id.as_str())) {
                rule::REGISTRY_SOR_ID.pass(format!(
                    "the {role}'s SOR id {} is below the unit with location number `{gln}`",
                    name(registry, sor)
                ))
            } else {
                rule::REGISTRY_SOR_ID.breach(format!(
                    "the {role}'s SOR id {} belongs to another organisation: location number `{gln}` is {}'s",
                    name(registry, sor),
                    owners
                        .iter()
                        .map(|o| name(registry, &o.sor_id))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
        }
    }
}

fn accepts(registry: &Registry, p: &Party, t: &MessageType) -> Finding {
    let mut endpoints: Vec<&super::Endpoint> = Vec::new();
    if let Some(gln) = p.gln.as_deref() {
        endpoints.extend(registry.by_gln(gln).1);
    }
    if let Some(unit) = p.sor_id.as_deref().and_then(|s| registry.unit(s)) {
        for e in registry.endpoints_of(unit) {
            if !endpoints.contains(&e) {
                endpoints.push(e);
            }
        }
    }
    if endpoints.is_empty() {
        return rule::REGISTRY_ACCEPTS.finding(
            Grade::Ok,
            "note: the registry has no endpoint for the receiver, so the message types it accepts are unknown",
        );
    }
    let declared: Vec<&str> = endpoints
        .iter()
        .flat_map(|e| e.payload_types.iter().map(String::as_str))
        .collect();
    if declared.iter().any(|d| t.is_declared_by(d)) {
        rule::REGISTRY_ACCEPTS.pass(format!("the receiver's endpoint accepts {}", t.label()))
    } else {
        rule::REGISTRY_ACCEPTS.breach(format!(
            "the receiver's endpoint does not accept {} (`{}`); it declares {}",
            t.label(),
            t.uri(),
            if declared.is_empty() {
                "no payloadType".to_string()
            } else {
                declared
                    .iter()
                    .map(|d| super::message_type::label_of_uri(d))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ))
    }
}

/// The parties and message type of a classic OIOXML letter (`Emessage`: each letter's
/// `Sender`/`Receiver` `EANIdentifier` and, with `IdentifierCode` `sorkode`, `Identifier`; the
/// first `Letter`'s `TypeCode` and `VersionCode`) or a VANSEnvelope (`SenderID`/`ReceiverID` with
/// `EndPointType="EAN"`, `Document/Name` and `Version`) or an ehmiSBDH envelope
/// ([`sbdh_parties`]). `None` for other XML.
pub fn parties_in_xml(bytes: &[u8]) -> Option<(Vec<Party>, Option<MessageType>)> {
    let text = crate::encoding::decode_xml(bytes).ok()?;
    let doc = roxmltree::Document::parse(text.trim_start_matches('\u{feff}')).ok()?;
    let root = doc.root_element();
    let child = |n: roxmltree::Node, name: &str| -> Option<String> {
        n.children()
            .find(|c| c.tag_name().name() == name)
            .and_then(|c| c.text())
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
    };
    match root.tag_name().name() {
        "Emessage" => {
            let mut parties = Vec::new();
            for n in root.descendants().filter(|n| {
                matches!(n.tag_name().name(), "Sender" | "Receiver")
                    && n.children().any(|c| c.tag_name().name() == "EANIdentifier")
            }) {
                let role = if n.tag_name().name() == "Sender" {
                    Role::Sender
                } else {
                    Role::Receiver
                };
                let sor = (child(n, "IdentifierCode").as_deref() == Some("sorkode"))
                    .then(|| child(n, "Identifier"))
                    .flatten();
                let letter = n.parent_element().map_or("", |p| p.tag_name().name());
                parties.push(Party {
                    role,
                    gln: child(n, "EANIdentifier"),
                    sor_id: sor,
                    location: format!("Emessage/{letter}/{}", n.tag_name().name()),
                });
            }
            let letter = root.descendants().find(|n| n.tag_name().name() == "Letter");
            let t = letter.and_then(|l| {
                Some(MessageType::Oioxml {
                    type_code: child(l, "TypeCode")?,
                    version_code: child(l, "VersionCode")?,
                })
            });
            Some((parties, t))
        }
        "VANSEnvelope" => {
            let mut parties = Vec::new();
            for (name, role) in [("SenderID", Role::Sender), ("ReceiverID", Role::Receiver)] {
                if let Some(n) = root.children().find(|c| c.tag_name().name() == name)
                    && n.attribute("EndPointType").is_none_or(|t| t == "EAN")
                {
                    parties.push(Party {
                        role,
                        gln: n.text().map(|t| t.trim().to_string()),
                        sor_id: None,
                        location: format!("VANSEnvelope/{name}"),
                    });
                }
            }
            let doc_el = root
                .descendants()
                .find(|n| n.tag_name().name() == "Document");
            let t = doc_el.and_then(|d| {
                Some(MessageType::Oioxml {
                    type_code: child(d, "Name")?.trim_start_matches("MCM:").to_string(),
                    version_code: child(d, "Version")?,
                })
            });
            Some((parties, t))
        }
        "StandardBusinessDocument" => sbdh_parties(bytes),
        _ => None,
    }
}

/// The parties and message type of an ehmiSBDH envelope: `Sender`/`Receiver` `Identifier`
/// `0088:<GLN>` with the SOR ids of the `SENDERID`/`RECEIVERID` scopes, and the message type of
/// `DocumentIdentification` `Standard` (`homecareobservation-message`) and `TypeVersion`
/// (`1.2`), whose catalogue URI is the `DOCUMENTID` scope's (MedCom, ehmiSBDH IG,
/// https://medcomehmi.dk/ig/dk-ehmi-sbdh/). An SBDH receipt (ebBP signal) has no message type
/// here: what a receiver accepts is checked on messages. `None` when the SBDH is unreadable.
fn sbdh_parties(bytes: &[u8]) -> Option<(Vec<Party>, Option<MessageType>)> {
    use crate::envelope::{RECEIVERID, SENDERID};
    let sbdh = crate::envelope::unwrap_sbdh(bytes).ok()?;
    let parties = [
        (Role::Sender, &sbdh.sender, SENDERID, "Sender"),
        (Role::Receiver, &sbdh.receiver, RECEIVERID, "Receiver"),
    ]
    .into_iter()
    .map(|(role, participant, scope, element)| Party {
        role,
        gln: participant
            .gln()
            .map(str::to_string)
            .filter(|g| !g.is_empty()),
        sor_id: sbdh
            .scope_value(scope)
            .map(str::to_string)
            .filter(|s| !s.is_empty()),
        location: format!("StandardBusinessDocumentHeader/{element}"),
    })
    .collect();
    let id = &sbdh.document_identification;
    let message_type = (!sbdh.is_signal() && id.standard.trim().ends_with("-message")).then(|| {
        MessageType::Fhir {
            name: id.standard.trim().to_string(),
            version: id.type_version.trim().to_string(),
        }
    });
    Some((parties, message_type))
}
