//! EER FHIR resources: `Organization` (profile `Eer.Messaging.Organization` /
//! `Eer.SOR.Organization`) and `Endpoint` (profile `eer.dk.endpoint.messaging`), in a Bundle or
//! alone. Source: MedCom, EHMI Endpoint Register (EER) implementation guide,
//! https://medcomehmi.dk/ig/eer/ (profiles EerMessagingOrganization, EerSorOrganization,
//! EerEndpointMessaging).

use std::path::Path;

use serde_json::Value;

use super::{Endpoint, Registry, RegistryError, Source, Unit};

/// The identifier system of SOR ids.
pub const SOR_SYSTEM: &str = "urn:oid:1.2.208.176.1.1";
/// The identifier system of CVR numbers in EER.
pub const CVR_SYSTEM: &str = "http://cvr.dk";

/// Reads `bytes` (a JSON Bundle, or one Organization or Endpoint) into `registry`.
///
/// # Errors
///
/// [`RegistryError::Json`] when it is not JSON, [`RegistryError::Shape`] when it is neither a
/// Bundle nor an Organization or Endpoint.
pub fn read(registry: &mut Registry, path: &Path, bytes: &[u8]) -> Result<(), RegistryError> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|source| RegistryError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    match doc["resourceType"].as_str() {
        Some("Bundle") => {
            for entry in doc["entry"].as_array().into_iter().flatten() {
                resource(registry, &entry["resource"], entry["fullUrl"].as_str());
            }
            Ok(())
        }
        Some("Organization" | "Endpoint") => {
            resource(registry, &doc, None);
            Ok(())
        }
        other => Err(RegistryError::Shape {
            path: path.to_path_buf(),
            what: match other {
                Some(t) => format!("a FHIR `{t}`, not a Bundle of EER Organizations and Endpoints"),
                None => "JSON without `resourceType`, not an EER Bundle".into(),
            },
        }),
    }
}

fn resource(registry: &mut Registry, r: &Value, full_url: Option<&str>) {
    let id = r["id"].as_str();
    match r["resourceType"].as_str() {
        Some("Organization") => {
            let Some(sor_id) = identifier(r, |i| i["system"] == SOR_SYSTEM) else {
                return;
            };
            for reference in full_url
                .map(str::to_string)
                .into_iter()
                .chain(id.map(|i| format!("Organization/{i}")))
            {
                registry.add_org_ref(reference, sor_id.clone());
            }
            let codes = |suffix: &str| -> Option<String> {
                r["type"].as_array()?.iter().find_map(|t| {
                    t["coding"].as_array()?.iter().find_map(|c| {
                        c["system"]
                            .as_str()?
                            .ends_with(suffix)
                            .then(|| c["code"].as_str().map(str::to_string))?
                    })
                })
            };
            registry.add_unit(Unit {
                name: r["name"].as_str().unwrap_or_default().to_string(),
                level: codes("eer-sor-organization-type").unwrap_or_default(),
                unit_type: codes("eer-sor-unit-type"),
                cvr: identifier(r, |i| i["system"] == CVR_SYSTEM),
                parent: r["partOf"]["reference"]
                    .as_str()
                    .map(str::to_string)
                    .or_else(|| identifier_value(&r["partOf"]["identifier"])),
                gln: identifier(r, is_gln),
                endpoints: r["endpoint"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e["reference"].as_str().map(str::to_string))
                    .collect(),
                source: Some(Source::Eer),
                sor_id,
                ..Unit::default()
            });
        }
        Some("Endpoint") => {
            let own = format!("Endpoint/{}", id.unwrap_or_default());
            let reference = full_url.map_or_else(|| own.clone(), str::to_string);
            let managing = &r["managingOrganization"];
            registry.add_endpoint(Endpoint {
                gln: identifier(r, is_gln),
                payload_types: r["payloadType"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|p| p["coding"].as_array().into_iter().flatten())
                    .filter_map(|c| c["code"].as_str().map(str::to_string))
                    .collect(),
                mime_types: r["payloadMimeType"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|m| m.as_str().map(str::to_string))
                    .collect(),
                connection_type: r["connectionType"]["code"]
                    .as_str()
                    .or_else(|| r["connectionType"]["coding"][0]["code"].as_str())
                    .map(str::to_string),
                managing_organization: managing["reference"]
                    .as_str()
                    .map(str::to_string)
                    .or_else(|| identifier_value(&managing["identifier"])),
                status: r["status"].as_str().map(str::to_string),
                aliases: if reference == own {
                    Vec::new()
                } else {
                    vec![own]
                },
                reference,
            });
        }
        _ => {}
    }
}

/// Whether an identifier is a GLN: GS1's system, GS1's OID, or EER's identifier type `GLN`.
fn is_gln(i: &Value) -> bool {
    let system = i["system"].as_str().unwrap_or_default();
    system.contains("gs1")
        || system == "urn:oid:1.3.88"
        || i["type"]["coding"]
            .as_array()
            .is_some_and(|cs| cs.iter().any(|c| c["code"] == "GLN"))
}

fn identifier(r: &Value, pick: impl Fn(&Value) -> bool) -> Option<String> {
    r["identifier"]
        .as_array()?
        .iter()
        .find(|i| pick(i))
        .and_then(|i| i["value"].as_str())
        .map(str::to_string)
}

fn identifier_value(i: &Value) -> Option<String> {
    i["value"].as_str().map(str::to_string)
}
