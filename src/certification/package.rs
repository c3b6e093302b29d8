//! Implementation-guide packages: where FHIR tooling keeps them, which one is which, and how a
//! downloaded one is installed.
//!
//! The FHIR package cache is `~/.fhir/packages/<name>#<version>/package/` (the layout of HL7's
//! validator, SUSHI and Firely's tools): a package's `package/package.json` gives its `name` and
//! `version`. MedCom's packages are named `medcom.fhir.dk.*` (packages.fhir.org). The MedCom
//! corpus (`$MEDCOM_CORPUS`) holds the current releases as MedCom's website publishes them:
//! `medcomfhir-website/ig/<guide>/`, folders of resources without a `package.json`; their version
//! is the `version` of the conformance resources inside.
//!
//! Rules: the caller names the home folder and the corpus (the library reads no environment
//! variable). Only MedCom's packages are taken from the cache, the newest version of each name.
//! The corpus is used only when the cache holds no MedCom package, so two releases of one guide
//! are never mixed by default.

use serde::{Deserialize, Serialize};
use std::io::Read as _;
use std::path::{Path, PathBuf};

/// The prefix of MedCom's package names on packages.fhir.org.
pub const MEDCOM_PREFIX: &str = "medcom.";

/// Where a loaded implementation guide was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PackageSource {
    /// Named by `--ig` or the config's `ig`.
    Given,
    /// Found in the FHIR package cache (`~/.fhir/packages`).
    PackageCache,
    /// Found in the MedCom corpus (`$MEDCOM_CORPUS/medcomfhir-website/ig`).
    Corpus,
}

impl PackageSource {
    /// How the console and the report say it.
    pub fn label(self) -> &'static str {
        match self {
            PackageSource::Given => "--ig / config",
            PackageSource::PackageCache => "FHIR package cache",
            PackageSource::Corpus => "MedCom corpus",
        }
    }
}

/// One implementation guide a command validates with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IgPackage {
    /// The package name (`medcom.fhir.dk.carecommunication`), or for a folder without
    /// `package.json` its folder name.
    pub name: String,
    /// The package version (`5.0.2`); `unknown` when neither `package.json` nor a conformance
    /// resource states one.
    pub version: String,
    /// Where it was found.
    pub source: PackageSource,
    /// The folder or `.tgz` it was loaded from.
    pub path: String,
}

impl IgPackage {
    /// `name#version`, as FHIR tooling writes a package reference.
    pub fn reference(&self) -> String {
        format!("{}#{}", self.name, self.version)
    }
}

/// What was found to load: the paths to hand to the IG loader and the packages they hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// Folders or `.tgz` files to load, in order.
    pub paths: Vec<PathBuf>,
    /// The packages those paths hold, for the console and the report.
    pub packages: Vec<IgPackage>,
}

/// A package could not be read or installed.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// The file or folder could not be read.
    #[error("failed to read IG package `{}`", .path.display())]
    Read {
        /// The package.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The package has no usable `package/package.json`.
    #[error("`{}` is not a FHIR package: {reason}", .path.display())]
    NotAPackage {
        /// The package.
        path: PathBuf,
        /// What is missing or wrong.
        reason: String,
    },
    /// The package could not be written into the cache.
    #[error("failed to install into `{}`", .path.display())]
    Install {
        /// The cache folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// The FHIR package cache under `home`: `home/.fhir/packages`.
pub fn cache_dir(home: &Path) -> PathBuf {
    home.join(".fhir").join("packages")
}

/// `name` and `version` of a `package.json` text, when both are strings.
fn name_version(json: &[u8]) -> Option<(String, String)> {
    let v: serde_json::Value = serde_json::from_slice(json).ok()?;
    Some((
        v.get("name")?.as_str()?.to_owned(),
        v.get("version")?.as_str()?.to_owned(),
    ))
}

/// `package/package.json` read from inside a `.tgz`.
fn manifest_in_tgz(path: &Path) -> Result<Vec<u8>, PackageError> {
    let read = |source| PackageError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read)?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    for entry in archive.entries().map_err(read)? {
        let mut entry = entry.map_err(read)?;
        let is_manifest = entry
            .path()
            .map(|p| p == Path::new("package/package.json"))
            .unwrap_or(false);
        if is_manifest {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).map_err(read)?;
            return Ok(bytes);
        }
    }
    Err(PackageError::NotAPackage {
        path: path.to_path_buf(),
        reason: "it holds no `package/package.json`".into(),
    })
}

/// The version of the guide in `dir`: the highest `version` its StructureDefinitions state
/// (MedCom's website folders also hold extensions of older releases), else the highest of its
/// ValueSets and CodeSystems (a terminology folder has no StructureDefinition).
fn resource_version(dir: &Path) -> Option<String> {
    let mut profiles: Vec<String> = Vec::new();
    let mut terminology: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".json") {
            continue;
        }
        let bucket = if name.starts_with("StructureDefinition-") {
            &mut profiles
        } else if name.starts_with("ValueSet-") || name.starts_with("CodeSystem-") {
            &mut terminology
        } else {
            continue;
        };
        let version = std::fs::read(entry.path())
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v.get("version")?.as_str().map(str::to_owned));
        bucket.extend(version);
    }
    let highest = |v: Vec<String>| v.into_iter().max_by_key(|v| version_key(v));
    highest(profiles).or_else(|| highest(terminology))
}

/// Describes an IG source named by `--ig` or the config: a `.tgz` or a folder with
/// `package/package.json` or `package.json` by its manifest, another folder by its name and the
/// version its resources state.
pub fn describe(path: &Path, source: PackageSource) -> IgPackage {
    let manifest = if path.is_file() {
        manifest_in_tgz(path).ok()
    } else {
        [
            path.join("package").join("package.json"),
            path.join("package.json"),
        ]
        .iter()
        .find_map(|p| std::fs::read(p).ok())
    };
    let folder_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let (name, version) = manifest
        .as_deref()
        .and_then(name_version)
        .unwrap_or_else(|| {
            (
                folder_name,
                resource_version(path).unwrap_or_else(|| "unknown".into()),
            )
        });
    IgPackage {
        name,
        version,
        source,
        path: path.display().to_string(),
    }
}

/// Describes an IG source as [`describe`] does, except that a folder which is no guide itself
/// (no manifest, no versioned resources of its own) but holds guides in its subfolders — such as
/// MedCom's `medcomfhir-website/ig` — is described as those guides, each named
/// `<folder>/<subfolder>`.
pub fn describe_all(path: &Path, source: PackageSource) -> Vec<IgPackage> {
    let whole = describe(path, source);
    if whole.version != "unknown" || !path.is_dir() {
        return vec![whole];
    }
    let mut inner: Vec<IgPackage> = std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| describe(&e.path(), source))
        .filter(|p| p.version != "unknown")
        .map(|p| IgPackage {
            name: format!("{}/{}", whole.name, p.name),
            ..p
        })
        .collect();
    if inner.is_empty() {
        return vec![whole];
    }
    inner.sort_by(|a, b| a.name.cmp(&b.name));
    inner
}

/// Orders versions numerically part by part (`5.0.10` after `5.0.2`), text after numbers.
fn version_key(version: &str) -> Vec<(u64, String)> {
    version
        .split(['.', '-'])
        .map(|part| match part.parse::<u64>() {
            Ok(n) => (n, String::new()),
            Err(_) => (u64::MAX, part.to_owned()),
        })
        .collect()
}

/// MedCom's packages in the FHIR package cache under `home`, the newest version of each name,
/// ordered by name. A folder without a readable `package/package.json` is passed over.
pub fn in_cache(home: &Path) -> Vec<IgPackage> {
    let mut newest: std::collections::BTreeMap<String, IgPackage> = Default::default();
    let Ok(entries) = std::fs::read_dir(cache_dir(home)) else {
        return Vec::new();
    };
    for entry in entries.flatten() {
        let package = entry.path().join("package");
        let Some((name, version)) = std::fs::read(package.join("package.json"))
            .ok()
            .as_deref()
            .and_then(name_version)
        else {
            continue;
        };
        if !name.starts_with(MEDCOM_PREFIX) {
            continue;
        }
        let newer = newest
            .get(&name)
            .is_none_or(|old| version_key(&version) > version_key(&old.version));
        if newer {
            newest.insert(
                name.clone(),
                IgPackage {
                    name,
                    version,
                    source: PackageSource::PackageCache,
                    path: package.display().to_string(),
                },
            );
        }
    }
    newest.into_values().collect()
}

/// The guides in the MedCom corpus: the folder `corpus/medcomfhir-website/ig` (loaded as one)
/// and one package per guide folder in it that states a version. `None` when the folder is not
/// there.
pub fn in_corpus(corpus: &Path) -> Option<(PathBuf, Vec<IgPackage>)> {
    let ig = corpus.join("medcomfhir-website").join("ig");
    let entries = std::fs::read_dir(&ig).ok()?;
    let mut packages: Vec<IgPackage> = entries
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| {
            let version = resource_version(&e.path())?;
            Some(IgPackage {
                name: format!(
                    "medcomfhir.dk/ig/{}",
                    e.file_name().to_string_lossy().into_owned()
                ),
                version,
                source: PackageSource::Corpus,
                path: e.path().display().to_string(),
            })
        })
        .collect();
    packages.sort_by(|a, b| a.name.cmp(&b.name));
    Some((ig, packages))
}

/// The guides a command loads when none is named: MedCom's packages in the package cache under
/// `home`, or else the guides in `corpus`. Empty when neither has any.
pub fn discover(home: Option<&Path>, corpus: Option<&Path>) -> Found {
    let cached = home.map(in_cache).unwrap_or_default();
    if !cached.is_empty() {
        return Found {
            paths: cached.iter().map(|p| PathBuf::from(&p.path)).collect(),
            packages: cached,
        };
    }
    match corpus.and_then(in_corpus) {
        Some((folder, packages)) if !packages.is_empty() => Found {
            paths: vec![folder],
            packages,
        },
        _ => Found::default(),
    }
}

/// Loads what [`discover`] found into one IG: the corpus folder as a whole, the cache's packages
/// from their resources (a package without a StructureDefinition, such as a terminology
/// package, still gives its ValueSets and CodeSystems).
///
/// # Errors
/// [`crate::validate::profile::IgError`] of the resources that do not load.
pub fn load(
    found: &Found,
) -> Result<crate::validate::profile::Ig, crate::validate::profile::IgError> {
    use crate::validate::profile::Ig;
    if found
        .packages
        .iter()
        .all(|p| p.source != PackageSource::PackageCache)
    {
        let paths: Vec<&Path> = found.paths.iter().map(PathBuf::as_path).collect();
        return Ig::load_all(&paths);
    }
    let mut resources = Vec::new();
    for dir in &found.paths {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|e| e == "json")
                    && p.file_name()
                        .is_some_and(|n| n != "package.json" && n != ".index.json")
            })
            .collect();
        files.sort();
        for file in files {
            if let Some(v) = std::fs::read(&file)
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            {
                resources.push(v);
            }
        }
    }
    Ig::from_resources(resources)
}

/// Installs the package `tgz` (as downloaded from packages.fhir.org or MedCom's website) into
/// the FHIR package cache under `home`, as `<name>#<version>/package/…`, the name and version
/// read from its `package/package.json`. Returns the package; an installed one of the same name
/// and version is replaced.
///
/// # Errors
/// [`PackageError::Read`] or [`PackageError::NotAPackage`] for the file,
/// [`PackageError::Install`] for the cache.
pub fn install(tgz: &Path, home: &Path) -> Result<IgPackage, PackageError> {
    let manifest = manifest_in_tgz(tgz)?;
    let (name, version) = name_version(&manifest).ok_or_else(|| PackageError::NotAPackage {
        path: tgz.to_path_buf(),
        reason: "its `package/package.json` has no `name` and `version`".into(),
    })?;
    let safe = |s: &str| {
        !s.is_empty() && !s.contains(['/', '\\']) && s != "." && s != ".." && !s.contains("..")
    };
    if !safe(&name) || !safe(&version) {
        return Err(PackageError::NotAPackage {
            path: tgz.to_path_buf(),
            reason: format!("`{name}#{version}` is not a usable package folder name"),
        });
    }
    let cache = cache_dir(home);
    let target = cache.join(format!("{name}#{version}"));
    let failed = |source| PackageError::Install {
        path: target.clone(),
        source,
    };
    std::fs::create_dir_all(&cache).map_err(failed)?;
    // Unpacked beside the cache entry, then renamed into place: a reader never sees half a
    // package.
    let staging = tempfile::Builder::new()
        .prefix(".medcom-harness-package")
        .tempdir_in(&cache)
        .map_err(failed)?;
    let file = std::fs::File::open(tgz).map_err(|source| PackageError::Read {
        path: tgz.to_path_buf(),
        source,
    })?;
    tar::Archive::new(flate2::read::GzDecoder::new(file))
        .unpack(staging.path())
        .map_err(failed)?;
    if target.exists() {
        std::fs::remove_dir_all(&target).map_err(failed)?;
    }
    std::fs::rename(staging.path(), &target).map_err(failed)?;
    Ok(IgPackage {
        name,
        version,
        source: PackageSource::PackageCache,
        path: target.join("package").display().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tgz(dir: &Path, json: &str) -> PathBuf {
        let path = dir.join("p.tgz");
        let file = std::fs::File::create(&path).expect("create");
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            file,
            flate2::Compression::fast(),
        ));
        let mut header = tar::Header::new_gnu();
        header.set_size(json.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, "package/package.json", json.as_bytes())
            .expect("append");
        builder.into_inner().expect("tar").finish().expect("gzip");
        path
    }

    /// A folder of guides (as MedCom's `medcomfhir-website/ig`) is named by the guides in it,
    /// each with the version its StructureDefinitions state, not as one guide `#unknown`.
    #[test]
    fn a_folder_of_guides_is_described_as_the_guides_in_it() {
        let dir = tempfile::tempdir().expect("temp");
        for (sub, version) in [("core", "4.0.0"), ("carecommunication", "5.0.2")] {
            std::fs::create_dir_all(dir.path().join("ig").join(sub)).expect("mkdir");
            std::fs::write(
                dir.path().join("ig").join(sub).join("StructureDefinition-x.json"),
                format!(r#"{{"resourceType": "StructureDefinition", "version": "{version}"}}"#),
            )
            .expect("write");
        }
        let found = describe_all(&dir.path().join("ig"), PackageSource::Given);
        let names: Vec<String> = found.iter().map(IgPackage::reference).collect();
        assert_eq!(names, ["ig/carecommunication#5.0.2", "ig/core#4.0.0"]);
        // A guide folder of its own stays one package.
        let one = describe_all(&dir.path().join("ig").join("core"), PackageSource::Given);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].reference(), "core#4.0.0");
    }

    #[test]
    fn install_puts_a_package_where_fhir_tooling_looks_name_hash_version() {
        let dir = tempfile::tempdir().expect("temp");
        let file = tgz(
            dir.path(),
            r#"{"name": "medcom.fhir.dk.core", "version": "2.4.0"}"#,
        );
        let home = dir.path().join("home");
        let installed = install(&file, &home).expect("installs");
        assert_eq!(installed.reference(), "medcom.fhir.dk.core#2.4.0");
        assert!(
            home.join(".fhir/packages/medcom.fhir.dk.core#2.4.0/package/package.json")
                .is_file()
        );
        let found = in_cache(&home);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].version, "2.4.0");
    }

    #[test]
    fn the_cache_gives_the_newest_medcom_version_and_ignores_other_packages() {
        let home = tempfile::tempdir().expect("temp");
        for (name, version) in [
            ("medcom.fhir.dk.core", "2.4.0"),
            ("medcom.fhir.dk.core", "2.10.0"),
            ("hl7.fhir.r4.core", "4.0.1"),
        ] {
            let dir = cache_dir(home.path()).join(format!("{name}#{version}/package"));
            std::fs::create_dir_all(&dir).expect("mkdir");
            std::fs::write(
                dir.join("package.json"),
                format!(r#"{{"name": "{name}", "version": "{version}"}}"#),
            )
            .expect("write");
        }
        let found = in_cache(home.path());
        let refs: Vec<String> = found.iter().map(IgPackage::reference).collect();
        assert_eq!(refs, ["medcom.fhir.dk.core#2.10.0"]);
    }

    #[test]
    fn a_package_with_a_path_in_its_name_is_refused() {
        let dir = tempfile::tempdir().expect("temp");
        let file = tgz(dir.path(), r#"{"name": "../evil", "version": "1"}"#);
        assert!(matches!(
            install(&file, &dir.path().join("home")),
            Err(PackageError::NotAPackage { .. })
        ));
    }
}
