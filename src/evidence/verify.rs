//! `evidence verify`: the signature over the manifest, then every file against it.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;

use super::manifest::{parse, sha256_hex};
use super::{EvidenceError, MANIFEST, SIGNATURE};

/// Why a package does not verify, one item each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The file is not a zip.
    NotAZip(String),
    /// The package has no manifest.
    NoManifest,
    /// The package has no signature of the manifest.
    NoSignature,
    /// The signature does not verify with the public key (or is not a minisign signature).
    BadSignature(String),
    /// A manifest line is not `<sha256>  <path>`.
    BadManifest {
        /// The line number, 1-based.
        line: usize,
        /// The line.
        text: String,
    },
    /// A file's bytes are not those the manifest lists.
    Changed(String),
    /// A file the manifest does not list.
    Added(String),
    /// A file the manifest lists is not in the package.
    Missing(String),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::NotAZip(why) => write!(f, "not a zip: {why}"),
            Problem::NoManifest => write!(f, "no `{MANIFEST}` in the package"),
            Problem::NoSignature => write!(f, "no `{SIGNATURE}` in the package"),
            Problem::BadSignature(why) => write!(f, "bad signature: {why}"),
            Problem::BadManifest { line, text } => {
                write!(
                    f,
                    "manifest line {line} is not `<sha256>  <path>`: `{text}`"
                )
            }
            Problem::Changed(p) => write!(f, "changed: `{p}`"),
            Problem::Added(p) => write!(f, "added: `{p}` (not in the manifest)"),
            Problem::Missing(p) => write!(f, "missing: `{p}` (in the manifest)"),
        }
    }
}

/// The verdict over a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Files in the package (directory entries not counted).
    pub files: usize,
    /// The signed trusted comment, when the signature verified.
    pub trusted_comment: Option<String>,
    /// Everything wrong; empty when the package verifies.
    pub problems: Vec<Problem>,
}

impl Verdict {
    /// Whether the package verifies: signed by the key and every file as the manifest lists.
    pub fn valid(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Verifies the package `bundle` against `public_key`: the manifest's signature, then every file
/// against the manifest (changed, added, missing). Problems are reported, all of them.
///
/// # Errors
///
/// [`EvidenceError::Read`] when the package cannot be read; [`EvidenceError::Zip`] when an entry
/// cannot be read for I/O reasons.
pub fn verify(bundle: &Path, public_key: &minisign::PublicKey) -> Result<Verdict, EvidenceError> {
    let file = std::fs::File::open(bundle).map_err(|source| EvidenceError::Read {
        path: bundle.to_path_buf(),
        source,
    })?;
    let zip_error = |source| EvidenceError::Zip {
        path: bundle.to_path_buf(),
        source,
    };
    let mut archive = match zip::ZipArchive::new(file) {
        Ok(a) => a,
        Err(zip::result::ZipError::Io(source)) => {
            return Err(EvidenceError::Read {
                path: bundle.to_path_buf(),
                source,
            });
        }
        Err(e) => {
            return Ok(Verdict {
                files: 0,
                trusted_comment: None,
                problems: vec![Problem::NotAZip(e.to_string())],
            });
        }
    };
    let mut problems = Vec::new();
    let mut contents: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    // Entries that are there but do not read back (already reported as changed).
    let mut corrupt: std::collections::BTreeSet<String> = Default::default();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(zip_error)?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().map_err(zip_error)?.into_owned();
        let mut bytes = Vec::new();
        if let Err(e) = entry.read_to_end(&mut bytes) {
            // A corrupt entry (a CRC that does not match) is a changed file, not a harness error.
            problems.push(Problem::Changed(format!("{name} ({e})")));
            corrupt.insert(name);
            continue;
        }
        if contents.insert(name.clone(), bytes).is_some() {
            problems.push(Problem::Added(format!(
                "{name} (a second entry of that name)"
            )));
        }
    }
    let files = contents.len();
    let manifest = contents.remove(MANIFEST);
    let signature = contents.remove(SIGNATURE);
    let mut trusted_comment = None;
    match (&manifest, &signature) {
        (None, _) => problems.push(Problem::NoManifest),
        (Some(_), None) => problems.push(Problem::NoSignature),
        (Some(manifest), Some(signature)) => {
            let checked = String::from_utf8(signature.clone())
                .map_err(|e| e.to_string())
                .and_then(|s| minisign::SignatureBox::from_string(&s).map_err(|e| e.to_string()))
                .and_then(|sig| {
                    minisign::verify(
                        public_key,
                        &sig,
                        std::io::Cursor::new(manifest),
                        true,
                        false,
                        false,
                    )
                    .map_err(|e| e.to_string())?;
                    sig.trusted_comment().map_err(|e| e.to_string())
                });
            match checked {
                Ok(comment) => trusted_comment = Some(comment),
                Err(why) => problems.push(Problem::BadSignature(why)),
            }
        }
    }
    if let Some(manifest) = manifest {
        let listed = String::from_utf8_lossy(&manifest).into_owned();
        match parse(&listed) {
            Err((line, text)) => problems.push(Problem::BadManifest { line, text }),
            Ok(listed) => {
                for (name, bytes) in &contents {
                    match listed.get(name) {
                        None => problems.push(Problem::Added(name.clone())),
                        Some(sha) if *sha != sha256_hex(bytes) => {
                            problems.push(Problem::Changed(name.clone()));
                        }
                        Some(_) => {}
                    }
                }
                for name in listed.keys() {
                    if !contents.contains_key(name) && !corrupt.contains(name) {
                        problems.push(Problem::Missing(name.clone()));
                    }
                }
            }
        }
    }
    Ok(Verdict {
        files,
        trusted_comment,
        problems,
    })
}
