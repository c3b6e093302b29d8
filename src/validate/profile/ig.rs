//! Loading an implementation guide: its StructureDefinitions, ValueSets and CodeSystems.
//!
//! Rules:
//! - The source is a folder of FHIR JSON resources (searched recursively, hidden folders skipped,
//!   files in name order) or an IG package (`package.tgz`, a gzip'd tar whose `package/*.json`
//!   files are the resources), as the FHIR package specification lays it out.
//! - Every `*.json` file is parsed; one that is not JSON is an error naming the file. JSON that is
//!   not a StructureDefinition, ValueSet or CodeSystem (examples, TestScripts, `package.json`) is
//!   skipped.
//! - A StructureDefinition must carry a snapshot (published IGs and packages always do): the
//!   engine validates against snapshots only and computes none.
//! - Canonical resources are indexed by `url` and by `url|version`. A lookup with a version that
//!   is not loaded falls back to the unversioned url (MedCom profiles name `…|3.0.1` of profiles
//!   published as 4.0.0). When two versions of one url are loaded, the unversioned key names the
//!   highest version.
//! - The harness ships no copy of any IG: the caller names the folder or package (`--ig`).

use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use super::binding::Terminology;
use super::invariant::FhirPath;
use super::structure::Profile;

/// Why an IG could not be loaded. Each variant names the file it is about.
#[derive(Debug, thiserror::Error)]
pub enum IgError {
    /// The folder or package could not be read.
    #[error("failed to read IG source `{path}`")]
    Read {
        /// The folder, package or file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A `.json` file (or package member) is not JSON.
    #[error("`{path}` is not valid JSON")]
    Parse {
        /// The file, or `package.tgz!package/x.json` for a package member.
        path: PathBuf,
        /// The parse error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// A StructureDefinition without a snapshot, or with a snapshot the engine cannot read.
    #[error("StructureDefinition `{url}` in `{path}` cannot be used: {reason}")]
    Structure {
        /// The file it came from.
        path: PathBuf,
        /// Its canonical url.
        url: String,
        /// What is wrong, e.g. "it has no snapshot".
        reason: String,
    },
    /// The source holds no StructureDefinition at all (a wrong folder, most likely).
    #[error("`{path}` holds no StructureDefinition")]
    Empty {
        /// The folder or package.
        path: PathBuf,
    },
    /// The FHIRPath engine (octofhir-fhirpath with the R4 model) could not be built.
    #[error("failed to build the FHIRPath engine: {0}")]
    Engine(String),
}

/// A loaded implementation guide: profiles with snapshots, ValueSets and CodeSystems, and the
/// FHIRPath engine that evaluates their invariants. Cheap to clone (shared).
#[derive(Clone)]
pub struct Ig {
    pub(crate) inner: Arc<IgInner>,
}

pub(crate) struct IgInner {
    /// Profiles by `url` and `url|version`.
    pub(crate) profiles: HashMap<String, Arc<Profile>>,
    /// ValueSets and CodeSystems, with cached expansions.
    pub(crate) terminology: Terminology,
    /// The sources this IG was loaded from, for messages.
    pub(crate) sources: Vec<PathBuf>,
    /// The FHIRPath engine, built on first use (about 40 ms: the R4 model).
    pub(crate) fhirpath: OnceLock<Result<FhirPath, String>>,
    /// What each source holds: its package (when it is one) and its profiles' versions, for
    /// judging a message of an earlier release by that release ([`Ig::release`]).
    pub(crate) origins: Vec<Origin>,
    /// The IGs of earlier releases built so far, by the source that holds the release.
    pub(crate) releases: std::sync::Mutex<HashMap<PathBuf, Ig>>,
}

/// A FHIR package manifest: `name`, `version` and `dependencies` as (name, version).
pub(crate) type Manifest = (String, String, Vec<(String, String)>);

/// One source of an [`Ig`]: where it was read from, its FHIR package manifest when it has one
/// (`package/package.json` of a `.tgz`, `package.json` of a folder), and the profiles it holds.
#[derive(Debug, Clone, Default)]
pub(crate) struct Origin {
    pub(crate) path: PathBuf,
    /// `name`, `version` and `dependencies` (name, version) of the package manifest.
    pub(crate) package: Option<Manifest>,
    /// `(url, version)` of every StructureDefinition it holds.
    pub(crate) profiles: Vec<(String, Option<String>)>,
}

impl std::fmt::Debug for Ig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ig")
            .field("sources", &self.inner.sources)
            .field("profiles", &self.profile_urls().len())
            .finish_non_exhaustive()
    }
}

/// One resource read from a source, with the name to report it by.
struct Loaded {
    path: PathBuf,
    resource: Value,
}

impl Ig {
    /// Loads the IG resources in `path`: a folder of FHIR JSON files (recursively) or an IG
    /// package (`*.tgz`, `*.tar.gz`).
    ///
    /// Errors: an unreadable folder or package, a file that is not JSON, a StructureDefinition
    /// without snapshot, or no StructureDefinition at all ([`IgError`], naming the file).
    pub fn load(path: &Path) -> Result<Ig, IgError> {
        Ig::load_all(&[path])
    }

    /// Loads several sources into one IG (e.g. MedCom's IG folder and a FHIR core package for the
    /// core ValueSets); a canonical loaded twice keeps its highest version.
    pub fn load_all(paths: &[&Path]) -> Result<Ig, IgError> {
        let mut loaded = Vec::new();
        let mut origins = Vec::new();
        for path in paths {
            let before = loaded.len();
            read_source(path, &mut loaded)?;
            let profiles: Vec<(String, Option<String>)> = loaded[before..]
                .iter()
                .filter(|l| {
                    l.resource.get("resourceType").and_then(Value::as_str)
                        == Some("StructureDefinition")
                })
                .map(|l| {
                    let s = |k: &str| {
                        l.resource
                            .get(k)
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    };
                    (s("url").unwrap_or_default(), s("version"))
                })
                .collect();
            // A terminology package (ValueSets and CodeSystems only) is a source of its own: the
            // releases of MedCom's IGs depend on one.
            let package = read_manifest(path);
            if profiles.is_empty() && (package.is_none() || loaded.len() == before) {
                return Err(IgError::Empty {
                    path: path.to_path_buf(),
                });
            }
            origins.push(Origin {
                path: path.to_path_buf(),
                package,
                profiles,
            });
        }
        Ig::build(
            loaded,
            paths.iter().map(|p| p.to_path_buf()).collect(),
            origins,
        )
    }

    /// An IG from resources already in memory (StructureDefinitions with snapshots, ValueSets,
    /// CodeSystems; others are ignored). Errors as for [`Ig::load`], naming `<memory>[i]`.
    pub fn from_resources(resources: Vec<Value>) -> Result<Ig, IgError> {
        let loaded = resources
            .into_iter()
            .enumerate()
            .map(|(i, resource)| Loaded {
                path: PathBuf::from(format!("<memory>[{i}]")),
                resource,
            })
            .collect();
        Ig::build(loaded, Vec::new(), Vec::new())
    }

    fn build(
        loaded: Vec<Loaded>,
        sources: Vec<PathBuf>,
        origins: Vec<Origin>,
    ) -> Result<Ig, IgError> {
        let mut profiles: HashMap<String, Arc<Profile>> = HashMap::new();
        let mut terminology = Terminology::default();
        for Loaded { path, resource } in loaded {
            match resource.get("resourceType").and_then(Value::as_str) {
                Some("StructureDefinition") => {
                    let url = resource
                        .get("url")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    let profile =
                        Profile::compile(&resource).map_err(|reason| IgError::Structure {
                            path: path.clone(),
                            url: url.clone(),
                            reason,
                        })?;
                    insert_versioned(&mut profiles, Arc::new(profile), |p| {
                        (p.url.as_str(), p.version.as_deref())
                    });
                }
                Some("ValueSet") | Some("CodeSystem") => terminology.add(resource),
                _ => {}
            }
        }
        let inner = Arc::new(IgInner {
            profiles,
            terminology,
            sources,
            fhirpath: OnceLock::new(),
            origins,
            releases: std::sync::Mutex::new(HashMap::new()),
        });
        let weak = Arc::downgrade(&inner);
        if let Err(e) = inner.fhirpath.get_or_init(|| FhirPath::new(weak)) {
            return Err(IgError::Engine(e.clone()));
        }
        Ok(Ig { inner })
    }

    /// The canonical urls (without version) of every loaded profile, sorted.
    pub fn profile_urls(&self) -> Vec<&str> {
        let mut urls: Vec<&str> = self
            .inner
            .profiles
            .iter()
            .filter(|(k, _)| !k.contains('|'))
            .map(|(k, _)| k.as_str())
            .collect();
        urls.sort_unstable();
        urls
    }

    /// The codes of the loaded ValueSet `canonical`, sorted; `None` when it is not loaded or its
    /// expansion is partial (a CodeSystem it draws on is not loaded).
    pub fn value_set_codes(&self, canonical: &str) -> Option<Vec<String>> {
        let expansion = self.inner.terminology.expansion(canonical)?;
        expansion.complete_codes()
    }

    /// The profile for a canonical (`url` or `url|version`; an unknown version falls back to
    /// the url).
    pub(crate) fn profile(&self, canonical: &str) -> Option<&Arc<Profile>> {
        self.inner.profile(canonical)
    }

    /// Every constraint of every loaded profile: `(profile url, element id, key, severity,
    /// expression)`, in profile-url and snapshot order. The cross-check tool and tests use this.
    pub fn constraints(&self) -> Vec<(String, String, String, String, String)> {
        let mut out = Vec::new();
        for url in self.profile_urls() {
            if let Some(p) = self.profile(url) {
                p.root.each(&mut |node| {
                    for c in &node.constraints {
                        out.push((
                            url.to_string(),
                            node.id.clone(),
                            c.key.clone(),
                            c.severity.as_str().to_string(),
                            c.expression.clone(),
                        ));
                    }
                });
            }
        }
        out
    }
}

impl IgInner {
    pub(crate) fn profile(&self, canonical: &str) -> Option<&Arc<Profile>> {
        self.profiles.get(canonical).or_else(|| {
            canonical
                .split_once('|')
                .and_then(|(url, _)| self.profiles.get(url))
        })
    }
}

/// Inserts under `url|version` and `url`; the unversioned key keeps the highest version.
pub(crate) fn insert_versioned<T>(
    map: &mut HashMap<String, Arc<T>>,
    item: Arc<T>,
    key: impl Fn(&T) -> (&str, Option<&str>),
) {
    let (url, version) = key(&*item);
    if url.is_empty() {
        return;
    }
    let (url, version) = (url.to_string(), version.map(str::to_string));
    if let Some(v) = &version {
        map.entry(format!("{url}|{v}"))
            .or_insert_with(|| item.clone());
    }
    let replace = match map.get(&url) {
        None => true,
        Some(old) => compare_versions(key(&**old).1, version.as_deref()).is_lt(),
    };
    if replace {
        map.insert(url, item);
    }
}

/// Orders versions by their dot-separated parts, numerically where both parts are numbers.
fn compare_versions(a: Option<&str>, b: Option<&str>) -> std::cmp::Ordering {
    let parts = |v: Option<&str>| -> Vec<String> {
        v.unwrap_or("")
            .split(['.', '-'])
            .map(str::to_string)
            .collect()
    };
    let (a, b) = (parts(a), parts(b));
    for (x, y) in a.iter().zip(&b) {
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => x.cmp(y),
        };
        if o.is_ne() {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

/// The FHIR package manifest of a source: `package/package.json` inside a `.tgz`, or
/// `package.json` (or `package/package.json`) in a folder, as (name, version, dependencies);
/// `None` when there is none or it cannot be read.
fn read_manifest(path: &Path) -> Option<Manifest> {
    let bytes = if path.is_dir() {
        fs::read(path.join("package.json"))
            .or_else(|_| fs::read(path.join("package/package.json")))
            .ok()?
    } else {
        let file = fs::File::open(path).ok()?;
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        let mut found = None;
        for entry in archive.entries().ok()? {
            let mut entry = entry.ok()?;
            if entry.path().ok()?.to_string_lossy() == "package/package.json" {
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes).ok()?;
                found = Some(bytes);
                break;
            }
        }
        found?
    };
    let manifest: Value = serde_json::from_slice(&bytes).ok()?;
    let name = manifest.get("name")?.as_str()?.to_string();
    let version = manifest.get("version")?.as_str()?.to_string();
    let dependencies = manifest
        .get("dependencies")
        .and_then(Value::as_object)
        .map(|deps| {
            deps.iter()
                .filter_map(|(n, v)| Some((n.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    Some((name, version, dependencies))
}

fn read_source(path: &Path, out: &mut Vec<Loaded>) -> Result<(), IgError> {
    let read_err = |source| IgError::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = fs::metadata(path).map_err(read_err)?;
    if meta.is_dir() {
        read_folder(path, out)
    } else {
        let name = path.to_string_lossy();
        if name.ends_with(".tgz") || name.ends_with(".tar.gz") {
            read_package(path, out)
        } else {
            read_json_file(path, out)
        }
    }
}

fn read_folder(dir: &Path, out: &mut Vec<Loaded>) -> Result<(), IgError> {
    let read_err = |source| IgError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut items: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(read_err)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(read_err)?;
    items.sort();
    for item in items {
        let hidden = item
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if item.is_dir() {
            read_folder(&item, out)?;
        } else if item.extension().and_then(|e| e.to_str()) == Some("json") {
            read_json_file(&item, out)?;
        }
    }
    Ok(())
}

fn read_json_file(path: &Path, out: &mut Vec<Loaded>) -> Result<(), IgError> {
    let bytes = fs::read(path).map_err(|source| IgError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    push_json(path.to_path_buf(), &bytes, out)
}

fn push_json(path: PathBuf, bytes: &[u8], out: &mut Vec<Loaded>) -> Result<(), IgError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let resource: Value = serde_json::from_slice(bytes).map_err(|source| IgError::Parse {
        path: path.clone(),
        source,
    })?;
    if matches!(
        resource.get("resourceType").and_then(Value::as_str),
        Some("StructureDefinition" | "ValueSet" | "CodeSystem")
    ) {
        out.push(Loaded { path, resource });
    }
    Ok(())
}

/// Reads `package/*.json` from a FHIR package (gzip'd tar). Other members (`package/other/`,
/// `package/example/`, openapi, xml) are skipped.
fn read_package(path: &Path, out: &mut Vec<Loaded>) -> Result<(), IgError> {
    let read_err = |source| IgError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = fs::File::open(path).map_err(read_err)?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut members = Vec::new();
    for entry in archive.entries().map_err(read_err)? {
        let mut entry = entry.map_err(read_err)?;
        let name = entry
            .path()
            .map_err(read_err)?
            .to_string_lossy()
            .into_owned();
        let Some(rest) = name.strip_prefix("package/") else {
            continue;
        };
        if rest.contains('/') || !rest.ends_with(".json") {
            continue;
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(read_err)?;
        members.push((name, bytes));
    }
    members.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, bytes) in members {
        let shown = PathBuf::from(format!("{}!{}", path.display(), name));
        push_json(shown, &bytes, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        use std::cmp::Ordering::*;
        assert_eq!(compare_versions(Some("3.0.1"), Some("4.0.0")), Less);
        assert_eq!(compare_versions(Some("1.10.0"), Some("1.9.0")), Greater);
        assert_eq!(compare_versions(None, Some("1.0")), Less);
    }

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ig-{name}-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    const SD: &str = r#"{"resourceType": "StructureDefinition", "url": "http://x/sd", "version": "1.0",
        "type": "Patient", "snapshot": {"element": [{"id": "Patient", "path": "Patient", "min": 0, "max": "*"},
        {"id": "Patient.active", "path": "Patient.active", "min": 1, "max": "1", "type": [{"code": "boolean"}]}]}}"#;

    #[test]
    fn a_package_tgz_is_read_from_its_package_folder() {
        let dir = temp("tgz");
        let path = dir.join("package.tgz");
        let file = fs::File::create(&path).expect("create");
        let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
            file,
            flate2::Compression::fast(),
        ));
        for (name, body) in [
            ("package/StructureDefinition-sd.json", SD),
            ("package/package.json", r#"{"name": "x", "version": "1.0"}"#),
            ("package/example/Patient-p.json", "not json at all"),
        ] {
            let mut header = tar::Header::new_gnu();
            header.set_size(body.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, name, body.as_bytes())
                .expect("append");
        }
        tar.into_inner().expect("tar").finish().expect("gzip");
        let ig = Ig::load(&path).expect("load package");
        assert_eq!(ig.profile_urls(), vec!["http://x/sd"]);
        assert!(ig.profile("http://x/sd|1.0").is_some());
        assert!(
            ig.profile("http://x/sd|9.9").is_some(),
            "an unknown version falls back to the url"
        );
        fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_structure_definition_without_snapshot_is_an_error_naming_the_file() {
        let dir = temp("nosnap");
        fs::write(
            dir.join("StructureDefinition-x.json"),
            r#"{"resourceType": "StructureDefinition", "url": "http://x/y", "type": "Patient"}"#,
        )
        .expect("write");
        let err = Ig::load(&dir).expect_err("must fail");
        let text = err.to_string();
        assert!(
            text.contains("StructureDefinition-x.json") && text.contains("no snapshot"),
            "{text}"
        );
        fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_json_file_that_does_not_parse_is_named_in_the_error() {
        let dir = std::env::temp_dir().join(format!("ig-bad-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("temp dir");
        let bad = dir.join("StructureDefinition-broken.json");
        fs::write(&bad, "{ \"resourceType\": ").expect("write");
        let err = Ig::load(&dir).expect_err("must fail");
        assert!(
            err.to_string().contains("StructureDefinition-broken.json"),
            "{err}"
        );
        fs::remove_dir_all(&dir).ok();
    }
}
