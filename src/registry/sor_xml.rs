//! SOR XML v1 extracts (`SorTree`, namespace `urn:oio:sundhedsstyrelsen:organisation:1.0.0`):
//! institution owners (`InstitutionOwnerEntity/InstitutionOwner`), health institutions and
//! organisational units, nested as the tree is. An entity's own location number is the
//! `EanLocationCode` inside it (not inside a nested entity); one with
//! `OptionalEanLocationCode/EntityInheritedIndicator = true` has none of its own and inherits its
//! nearest ancestor's. Source: Sundhedsstyrelsen, SOR XML schema v1 (`SorTree.xsd`,
//! `OptionalEanLocationCode.xsd`), https://sor2.sum.dsdn.dk/.

use std::path::Path;

use roxmltree::Node;

use super::{Registry, RegistryError, Source, Unit};

/// The data elements of the three SOR levels and their level codes.
const LEVELS: [(&str, &str); 3] = [
    ("InstitutionOwner", "IE"),
    ("HealthInstitution", "SI"),
    ("OrganizationalUnit", "OE"),
];

/// Reads a `SorTree` into `registry`.
///
/// # Errors
///
/// [`RegistryError::Xml`] when it is not XML, [`RegistryError::Shape`] when its root is not
/// `SorTree`.
pub fn read(registry: &mut Registry, path: &Path, bytes: &[u8]) -> Result<(), RegistryError> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start_matches('\u{feff}');
    let doc = roxmltree::Document::parse(text).map_err(|source| RegistryError::Xml {
        path: path.to_path_buf(),
        source,
    })?;
    let root = doc.root_element();
    if root.tag_name().name() != "SorTree" {
        return Err(RegistryError::Shape {
            path: path.to_path_buf(),
            what: format!(
                "XML with root `{}`, not a SOR XML v1 `SorTree`",
                root.tag_name().name()
            ),
        });
    }
    for node in root.descendants().filter(|n| n.is_element()) {
        let Some(level) = level(node) else {
            continue;
        };
        let Some(sor_id) = child_text(node, "SorIdentifier") else {
            continue;
        };
        let gln = own(node, "EanLocationCode");
        registry.add_unit(Unit {
            name: child_text(node, "EntityName").unwrap_or_default(),
            level: level.to_string(),
            unit_type: child_text(node, "InstitutionType")
                .or_else(|| child_text(node, "UnitType"))
                .or_else(|| child_text(node, "OwnerType")),
            parent: parent(node),
            region: own(node, "RegionCode"),
            gln,
            source: Some(Source::SorXml),
            sor_id,
            ..Unit::default()
        });
    }
    Ok(())
}

/// The level code of a data element (`InstitutionOwner` inside `InstitutionOwnerEntity`).
fn level(node: Node) -> Option<&'static str> {
    let name = node.tag_name().name();
    let (_, code) = LEVELS.iter().find(|(n, _)| *n == name)?;
    let wrapper = node.parent_element()?;
    (wrapper.tag_name().name().strip_suffix("Entity") == Some(name)).then_some(*code)
}

/// The SOR id of the nearest enclosing entity: the data element of the wrapper around this
/// entity's wrapper.
fn parent(node: Node) -> Option<String> {
    let mut at = node.parent_element()?.parent_element();
    while let Some(n) = at {
        if let Some(data) = n.children().find(|c| c.is_element() && level(*c).is_some()) {
            return child_text(data, "SorIdentifier");
        }
        at = n.parent_element();
    }
    None
}

fn child_text(node: Node, name: &str) -> Option<String> {
    node.children()
        .find(|c| c.tag_name().name() == name)
        .and_then(|c| c.text())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// The first `name` below `node` (an entity's data element holds no nested entity).
fn own(node: Node, name: &str) -> Option<String> {
    node.descendants()
        .find(|c| c.tag_name().name() == name)
        .and_then(|c| c.text())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}
