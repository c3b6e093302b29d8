//! `evidence pack`: one zip of a run for MedCom, its manifest signed.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;

use super::key::KeyPair;
use super::manifest::{render, sha256_hex};
use super::name::name_all;
use super::{EvidenceError, INDEX, MANIFEST, SIGNATURE};
use crate::run::RunOutcome;

/// What `pack` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed {
    /// Files in the package, the manifest and its signature included.
    pub files: usize,
    /// Files the signed manifest lists (all but the manifest and its signature), as the trusted
    /// comment counts them.
    pub listed: usize,
    /// Messages among them, named by MedCom's convention.
    pub messages: usize,
    /// The signed trusted comment.
    pub trusted_comment: String,
}

/// The JSON results of `path`: the file itself, or `results.json` in a folder.
pub fn results_path(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("results.json")
    } else {
        path.to_path_buf()
    }
}

/// Reads a run back from its JSON results (`reports/results.json`).
///
/// # Errors
///
/// [`EvidenceError::Read`] or [`EvidenceError::Results`] with the path.
pub fn read_run(results: &Path) -> Result<RunOutcome, EvidenceError> {
    let text = std::fs::read(results).map_err(|source| EvidenceError::Read {
        path: results.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&text).map_err(|source| EvidenceError::Results {
        path: results.to_path_buf(),
        source,
    })
}

/// Packs the run whose JSON results are `results` into the zip `output`, signed with `key`.
///
/// The package holds every message of the run under its MedCom name (see
/// [`super::name`]), `evidence-index.tsv`, `report/` with `results.json` and the `report.html`
/// (with its `report-details/` pages; their evidence links lead to those names), `junit.xml` and
/// `testreports/*.json` beside it (when there), `review/` with the review log and attachments
/// beside it (when there), and the signed manifest. The zip is written to a temporary file beside
/// `output` and renamed over it at the end, so a failed pack leaves no half package.
///
/// # Errors
///
/// [`EvidenceError::Read`] when a file of the run cannot be read, or an evidence file's SHA-256 is
/// not the one the run recorded (it changed after the run; the harness signs only what it saw);
/// [`EvidenceError::Results`], [`EvidenceError::Sign`], [`EvidenceError::Zip`],
/// [`EvidenceError::Write`].
pub fn pack(results: &Path, key: &KeyPair, output: &Path) -> Result<Packed, EvidenceError> {
    let run = read_run(results)?;
    let dir = results
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let named = name_all(&run);
    let mut index = String::from("name\tscenario\tstep\tevidence\tsha256\tlabel\n");
    for n in &named {
        let path = dir.join(&n.file);
        let bytes = read(&path)?;
        if sha256_hex(&bytes) != n.sha256 {
            return Err(EvidenceError::Read {
                path,
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "its SHA-256 is not `{}`, the one the run recorded: it changed after the run",
                        n.sha256
                    ),
                ),
            });
        }
        // A field holds no tab or line break (a scenario id may: TOML strings can), so every
        // row has its six fields.
        let field = |text: &str| text.replace(['\t', '\n', '\r'], " ");
        index.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\n",
            field(&n.name),
            field(&n.scenario),
            n.step.map(|s| s.to_string()).unwrap_or_default(),
            field(&n.evidence),
            n.sha256,
            field(&n.label)
        ));
        files.push((n.name.clone(), bytes));
    }
    files.push((INDEX.to_string(), index.into_bytes()));

    files.push(("report/results.json".into(), read(results)?));
    // A large run's report links its evidence files (`evidence/…` beside it); in the package
    // they have MedCom's names at its root, so the packed pages link those instead.
    let html = dir.join("report.html");
    if html.is_file() {
        files.push((
            "report/report.html".into(),
            Relinked::new(&named, "", "../").page(read(&html)?),
        ));
    }
    let junit = dir.join("junit.xml");
    if junit.is_file() {
        files.push(("report/junit.xml".into(), read(&junit)?));
    }
    // A large run's report keeps its scenario sections on details pages beside it: without
    // them the packed report's links lead nowhere.
    if html.is_file() {
        let first = files.len();
        add_folder(
            &mut files,
            &dir.join("report-details"),
            Some("html"),
            "report/report-details",
        )?;
        let relinked = Relinked::new(&named, "../", "../../");
        for (_, page) in &mut files[first..] {
            *page = relinked.page(std::mem::take(page));
        }
    }
    // The FHIR TestReports of the run's TestScripts (`testreports/` beside the results, which
    // holds this run's only): the evidence for MedCom's "run the test scripts" steps.
    add_folder(
        &mut files,
        &dir.join("testreports"),
        Some("json"),
        "report/testreports",
    )?;
    let log = crate::review::log_path(results);
    if log.is_file() {
        files.push(("review/review.jsonl".into(), read(&log)?));
    }
    add_folder(
        &mut files,
        &crate::review::attachment_dir(results),
        None,
        "review/files",
    )?;

    let sums: BTreeMap<String, String> = files
        .iter()
        .map(|(name, bytes)| (name.clone(), sha256_hex(bytes)))
        .collect();
    let manifest = render(&sums);
    let trusted_comment = format!(
        "medcom-harness {} evidence of the run started {} against {}: {}, {} files",
        run.harness_version,
        run.started,
        run.target,
        run.verdict().as_str(),
        sums.len()
    )
    .replace(|c: char| c.is_control(), " ");
    let signature = minisign::sign(
        Some(&key.public),
        &key.secret,
        std::io::Cursor::new(manifest.as_bytes()),
        Some(&trusted_comment),
        Some("signature of a medcom-harness evidence manifest"),
    )
    .map_err(|e| EvidenceError::Sign {
        message: e.to_string(),
    })?;
    let messages = named.len();
    files.push((MANIFEST.into(), manifest.into_bytes()));
    files.push((SIGNATURE.into(), signature.into_string().into_bytes()));
    write_zip(output, &files)?;
    Ok(Packed {
        files: files.len(),
        listed: sums.len(),
        messages,
        trusted_comment,
    })
}

/// The report's links to evidence files, and the package names they lead to, for pages in one
/// folder.
struct Relinked {
    /// The `href` of an evidence file's link (`{from}evidence/…`, as the report writes it) ->
    /// the `href` of its package name (`{to}…`).
    links: std::collections::HashMap<String, String>,
}

impl Relinked {
    /// The links of pages that reach the run's evidence as `{from}evidence/…` and the package's
    /// root as `{to}`, for the evidence files `named`.
    fn new(named: &[super::name::Named], from: &str, to: &str) -> Relinked {
        Relinked {
            links: named
                .iter()
                .map(|n| {
                    (
                        crate::report::href_attribute(&format!("{from}{}", n.file)),
                        crate::report::href_attribute(&format!("{to}{}", n.name)),
                    )
                })
                .collect(),
        }
    }

    /// `page` with each evidence link (`<a class="ev" href="…">`) leading to the file's package
    /// name; one pass over the page. A page that is not UTF-8, or a link to no evidence file of
    /// the run, is left as it is.
    fn page(&self, page: Vec<u8>) -> Vec<u8> {
        const LINK: &str = "<a class=\"ev\" href=\"";
        let text = match String::from_utf8(page) {
            Ok(text) => text,
            Err(e) => return e.into_bytes(),
        };
        if self.links.is_empty() || !text.contains(LINK) {
            return text.into_bytes();
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(at) = rest.find(LINK) {
            let (before, link) = rest.split_at(at + LINK.len());
            out.push_str(before);
            let end = link.find('"').unwrap_or(link.len());
            let (target, after) = link.split_at(end);
            out.push_str(self.links.get(target).map_or(target, String::as_str));
            rest = after;
        }
        out.push_str(rest);
        out.into_bytes()
    }
}

/// The bytes of the run's file at `path`.
fn read(path: &Path) -> Result<Vec<u8>, EvidenceError> {
    std::fs::read(path).map_err(|source| EvidenceError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Adds the files of `folder` (those ending in `.{ext}` when `ext` is given), in name order, as
/// `{under}/{name}`; a missing folder adds nothing.
fn add_folder(
    files: &mut Vec<(String, Vec<u8>)>,
    folder: &Path,
    ext: Option<&str>,
    under: &str,
) -> Result<(), EvidenceError> {
    if !folder.is_dir() {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(folder)
        .map_err(|source| EvidenceError::Read {
            path: folder.to_path_buf(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && ext.is_none_or(|ext| p.extension().is_some_and(|x| x == ext)))
        .collect();
    entries.sort();
    for path in entries {
        if let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) {
            files.push((format!("{under}/{name}"), read(&path)?));
        }
    }
    Ok(())
}

fn write_zip(output: &Path, files: &[(String, Vec<u8>)]) -> Result<(), EvidenceError> {
    let write_error = |source| EvidenceError::Write {
        path: output.to_path_buf(),
        source,
    };
    let zip_error = |source| EvidenceError::Zip {
        path: output.to_path_buf(),
        source,
    };
    let dir = output
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(write_error)?;
    let temp = tempfile::Builder::new()
        .prefix(".medcom-harness-evidence")
        .tempfile_in(dir)
        .map_err(write_error)?;
    let mut zip = zip::ZipWriter::new(temp);
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        zip.start_file(name.as_str(), options).map_err(zip_error)?;
        zip.write_all(bytes).map_err(write_error)?;
    }
    let temp = zip.finish().map_err(zip_error)?;
    temp.as_file().sync_all().map_err(write_error)?;
    temp.persist(output).map_err(|e| write_error(e.error))?;
    Ok(())
}
