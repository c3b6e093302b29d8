//! Classic OIOXML validated against MedCom's own XML Schemas (`oioxml-xsd/`, MIT).
//!
//! **The schemas are read at run time** from the folder named by [`SchemaFiles::oioxml`] (the
//! corpus layout: `oioxml-xsd/YYYY/MM/DD/EMessage.xsd`, one folder per release); the harness
//! ships no copy. Which release a message is, is its root's namespace: each release's
//! `EMessage.xsd` declares its `targetNamespace`, and that is read from the files, never
//! guessed from the folder name (the 2004 release, for one, is
//! `http://rep.oio.dk/medcom.dk/xml/schemas/2004/06/01/`, without `sundcom.dk`).
//!
//! **libxml2 runs on one thread.** Validation is a job for the process's schema thread
//! ([`Validator::validate_file`], the one that holds the envelope schemas, see
//! [`crate::envelope`]), which compiles each release's `EMessage.xsd` on first use and keeps it.
//!
//! **Findings** ([`findings`]): each libxml2 error is an `oioxml-schema` breach (F2) with
//! libxml2's words and line; a valid letter gets one pass. A message in a namespace of no
//! release in the folder is a finding naming the namespace (`oioxml-release`). Without the
//! folder nothing is validated and [`Outcome::NoSchemas`] says why; the hand-written structure
//! checks ([`super::structure`]) then stand in, with a note that the schema did not run
//! ([`judge`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::envelope::{SchemaFiles, Validator, XsdReport};
use crate::finding::{Finding, Grade};
use crate::rule;

use super::model::Emessage;

/// The releases in one schema folder: namespace -> that release's `EMessage.xsd`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Releases {
    by_namespace: BTreeMap<String, PathBuf>,
}

impl Releases {
    /// Reads `folder`: every `YYYY/MM/DD/EMessage.xsd` below it and the `targetNamespace` it
    /// declares. A folder without any is an empty set.
    pub fn read(folder: &Path) -> Releases {
        let mut by_namespace = BTreeMap::new();
        for entry in walk(folder, 3) {
            let file = entry.join("EMessage.xsd");
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            if let Some(namespace) = target_namespace(&text) {
                by_namespace.insert(namespace, file);
            }
        }
        Releases { by_namespace }
    }

    /// The process-wide reading of `folder`, read on first use.
    pub fn shared(folder: &Path) -> Arc<Releases> {
        static SHARED: OnceLock<Mutex<BTreeMap<PathBuf, Arc<Releases>>>> = OnceLock::new();
        let mut map = SHARED
            .get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        map.entry(folder.to_path_buf())
            .or_insert_with(|| Arc::new(Releases::read(folder)))
            .clone()
    }

    /// The `EMessage.xsd` of the release with this namespace.
    pub fn entry(&self, namespace: &str) -> Option<&Path> {
        self.by_namespace.get(namespace).map(PathBuf::as_path)
    }

    /// Every namespace in the folder, sorted.
    pub fn namespaces(&self) -> impl Iterator<Item = &str> {
        self.by_namespace.keys().map(String::as_str)
    }

    /// Whether the folder holds no release.
    pub fn is_empty(&self) -> bool {
        self.by_namespace.is_empty()
    }
}

/// The directories `depth` levels below `folder` (`YYYY/MM/DD`), sorted.
fn walk(folder: &Path, depth: usize) -> Vec<PathBuf> {
    let mut level = vec![folder.to_path_buf()];
    for _ in 0..depth {
        let mut next = Vec::new();
        for dir in &level {
            let Ok(read) = std::fs::read_dir(dir) else {
                continue;
            };
            next.extend(
                read.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.is_dir()),
            );
        }
        next.sort();
        level = next;
    }
    level
}

/// The `targetNamespace` of a schema document's root `xs:schema`.
fn target_namespace(text: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(text).ok()?;
    doc.root_element()
        .attribute("targetNamespace")
        .map(str::to_string)
}

/// The namespace and local name of the document element of `bytes` (any encoding the harness
/// reads), when the bytes are well-formed XML.
pub fn root_of(bytes: &[u8]) -> Option<(String, String)> {
    let text = crate::encoding::decode_xml(bytes).ok()?;
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(&text, options).ok()?;
    let root = doc.root_element();
    Some((
        root.tag_name().namespace().unwrap_or_default().to_string(),
        root.tag_name().name().to_string(),
    ))
}

/// What came of validating one OIOXML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The schema of the document's release ran.
    Validated {
        /// The release's namespace.
        namespace: String,
        /// The `EMessage.xsd` it ran with.
        schema: PathBuf,
        /// libxml2's verdict.
        report: XsdReport,
    },
    /// The folder holds no release with the document's namespace.
    NoRelease {
        /// The root's namespace (empty for none).
        namespace: String,
    },
    /// No schema ran: no folder, no release in it, or the validator failed. The reason.
    NoSchemas(String),
}

impl Outcome {
    /// Whether MedCom's schema ran on the document.
    pub fn ran(&self) -> bool {
        matches!(self, Outcome::Validated { .. })
    }
}

/// Validates an OIOXML document (`Emessage`) against MedCom's schema of its namespace.
pub fn validate(schemas: Option<&SchemaFiles>, bytes: &[u8]) -> Outcome {
    let Some(files) = schemas else {
        return Outcome::NoSchemas(
            "no XML Schemas (set MEDCOM_CORPUS, `schemas` in the config or --schemas)".to_string(),
        );
    };
    let releases = Releases::shared(&files.oioxml);
    if releases.is_empty() {
        return Outcome::NoSchemas(format!(
            "no OIOXML schema release (`YYYY/MM/DD/EMessage.xsd`) in `{}`",
            files.oioxml.display()
        ));
    }
    let namespace = root_of(bytes).map(|(ns, _)| ns).unwrap_or_default();
    let Some(schema) = releases.entry(&namespace) else {
        return Outcome::NoRelease { namespace };
    };
    let result =
        Validator::shared(files).and_then(|validator| validator.validate_file(schema, bytes));
    match result {
        Ok(report) => Outcome::Validated {
            namespace,
            schema: schema.to_path_buf(),
            report,
        },
        Err(e) => Outcome::NoSchemas(format!("the schema validator failed: {e}")),
    }
}

/// The release folder of a schema path, for messages: `2006/07/01` of
/// `…/oioxml-xsd/2006/07/01/EMessage.xsd`.
fn release_name(schema: &Path) -> String {
    let parts: Vec<String> = schema
        .parent()
        .map(|dir| {
            dir.components()
                .rev()
                .take(3)
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    parts.into_iter().rev().collect::<Vec<_>>().join("/")
}

/// The findings of one [`Outcome`]: every schema error an `oioxml-schema` breach at its line, a
/// pass when valid, `oioxml-release` for a namespace no release of the folder has, an F4 note
/// when no schema ran.
pub fn findings(outcome: &Outcome) -> Vec<Finding> {
    match outcome {
        Outcome::Validated {
            namespace,
            schema,
            report,
        } => {
            let release = release_name(schema);
            let mut out: Vec<Finding> = report
                .errors
                .iter()
                .map(|e| {
                    rule::OIOXML_SCHEMA.breach(format!("MedCom's schema {release}: {}", e.message),
                    )
                    .at(e
                        .line
                        .map_or_else(|| "Emessage".to_string(), |l| format!("line {l}")))
                })
                .collect();
            if out.is_empty() {
                out.push(rule::OIOXML_SCHEMA.pass(format!(
                        "valid against MedCom's OIOXML schema {release} (`{namespace}`)"
                    ),
                ));
            }
            for n in &report.overruled {
                out.push(rule::OIOXML_SCHEMA.finding(Grade::Ok,
                    format!("note: {n}"),
                ));
            }
            out
        }
        Outcome::NoRelease { namespace } => vec![
            rule::OIOXML_RELEASE.breach(format!(
                    "`Emessage` is in namespace `{namespace}`, of no release of MedCom's OIOXML schemas in the schema folder; it was not schema-validated"
                ),
            )
            .at("Emessage"),
        ],
        Outcome::NoSchemas(reason) => vec![rule::OIOXML_SCHEMA.finding(Grade::F4,
            format!("note: the OIOXML message was not schema-validated: {reason}"),
        )],
    }
}

/// Everything the harness says about one OIOXML message on its own: MedCom's schema
/// ([`validate`], [`findings`]) and the hand-written checks ([`super::structure::check`]) for
/// what a schema cannot say. When the schema ran, the `oioxml-structure` findings (elements,
/// codes, lengths, forms: all the schema's business) are left out, and a schema error on an
/// element a more specific rule already reports (`oioxml-refusecode` on a `RefuseCode`,
/// `party-identifiers` on an `EANIdentifier`) is left out, so a breach is reported once; when
/// the schema did not run, the structure findings stand in for it and the note of
/// [`Outcome::NoSchemas`] says so.
pub fn judge(schemas: Option<&SchemaFiles>, bytes: &[u8], message: &Emessage) -> Vec<Finding> {
    let outcome = validate(schemas, bytes);
    let mut out = findings(&outcome);
    let structure = super::structure::check(message);
    if !outcome.ran() {
        out.extend(structure);
        return out;
    }
    let kept: Vec<Finding> = structure
        .into_iter()
        .filter(|f| f.rule != rule::OIOXML_STRUCTURE.id)
        .collect();
    // A breach a more specific rule reports (a RefuseCode off the list, an empty EAN) is not
    // repeated as a schema error on the same element.
    let named: Vec<&str> = kept
        .iter()
        .filter(|f| f.grade != Grade::Ok)
        .filter_map(|f| f.location.as_deref())
        .filter_map(|l| l.rsplit('.').next())
        .map(|last| last.split('[').next().unwrap_or(last))
        .collect();
    out.retain(|f| {
        f.rule != rule::OIOXML_SCHEMA.id
            || f.grade == Grade::Ok
            || schema_element(&f.message).is_none_or(|e| !named.contains(&e))
    });
    out.extend(kept);
    out
}

/// The local name of the element a libxml2 schema error is about: `Name` of
/// "Element '{ns}Name': …" or "Element 'Name': …".
fn schema_element(message: &str) -> Option<&str> {
    let rest = &message[message.find("Element '")? + "Element '".len()..];
    let name = &rest[..rest.find('\'')?];
    Some(name.rsplit('}').next().unwrap_or(name))
}

/// The schema's verdict on a document the harness could not read into its model (a letter of a
/// release it does not read, or structure its model cannot hold): the schema findings when a
/// release of the folder has the document's namespace, else nothing. `None` when no schema ran.
pub fn unread(schemas: Option<&SchemaFiles>, bytes: &[u8]) -> Option<Vec<Finding>> {
    match validate(schemas, bytes) {
        outcome @ Outcome::Validated { .. } => Some(findings(&outcome)),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
