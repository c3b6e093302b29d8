//! Reporters: the files a run leaves behind, each a function of a [`RunOutcome`].
//!
//! The runner never prints; once a run is over its [`RunOutcome`] goes to these writers, which
//! read it and nothing else, so every report tells the same story in the same order (scenarios by
//! path, steps in file order, evidence as it travelled).
//!
//! - [`write_html`]: `reports/report.html`, the certification report a vendor hands to MedCom. One
//!   self-contained file: inline CSS, no script, no external request. The summary comes first;
//!   every scenario follows with its steps, findings (rule id and grade), golden diffs and the
//!   evidence pretty-printed in collapsible blocks. All content is HTML-escaped. A large run
//!   links its evidence files and puts the scenario sections on details pages beside the report
//!   (see the `html` module), so the report stays small. Every report is written streaming.
//! - [`write_junit`]: `reports/junit.xml` for CI: one test case per scenario; a failed scenario
//!   is a `<failure>`, a scenario the harness could not run an `<error>`, a skipped one
//!   `<skipped>`.
//! - [`write_json`]: `reports/results.json`, the stable interface for scripts and merges, plus
//!   the evidence bytes under `reports/evidence/<scenario>.<evidence>.<ext>`.
//!
//! - [`testreport::write_testreports`]: a FHIR R4 `TestReport` per TestScript scenario in
//!   `reports/testreports/<script id>.json`, beside the JSON results.
//!
//! - [`Journal`]: keeps a run on disk while it happens (`.journal.jsonl` and `evidence/` beside
//!   the JSON results), so `run --resume` can finish a run that was killed.
//!
//! Rules: a verdict is data and is reported, never returned as an error; a [`ReportError`] means a
//! report could not be written. Names built from scenario and evidence ids (file names, HTML
//! anchors) keep only `[A-Za-z0-9._-]`, whatever the ids contain. A run's reports are replaced by
//! an "in progress" report the moment it starts ([`Paths::check`] first makes sure all three can
//! be written), so a report from an earlier run never stands for this one. CPR numbers are masked
//! in every report (`250947-****`) unless [`Options::show_cpr`]; evidence files keep the bytes.

mod certification;
pub mod console;
pub mod cpr;
mod html;
mod journal;
mod json;
mod junit;
pub mod lang;
mod merge;
pub mod progress;
mod review_view;
#[cfg(test)]
pub(crate) mod sample;
mod shown;
mod slug;
mod stream;
pub mod testreport;

use std::path::PathBuf;

pub(crate) use html::href_attribute;
pub use html::{render_html, render_html_in, splice_reviews, write_html, write_html_in};
pub use journal::{FolderLock, Journal, Plan};
pub use json::write_json;
pub use junit::{render_junit, write_junit};
pub use lang::Lang;
pub use merge::{MergeError, merge};
pub use shown::redacted_text;
pub use stream::{ReportStream, Streamed};

use std::path::Path;

use crate::run::RunOutcome;

/// A report could not be written. The run's verdict is not affected; the report is missing.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A report file could not be written (or its folder created).
    #[error("failed to write report `{}`", .path.display())]
    Write {
        /// The report file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An evidence file could not be written (or its folder created).
    #[error("failed to write evidence `{}`", .path.display())]
    WriteEvidence {
        /// The evidence file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The JUnit XML could not be serialized.
    #[error("failed to serialize the JUnit report")]
    Junit {
        /// The serializer's error.
        #[source]
        source: quick_junit::SerializeError,
    },
    /// The JSON results could not be serialized.
    #[error("failed to serialize results `{}`", .path.display())]
    Json {
        /// The results file.
        path: PathBuf,
        /// The serializer's error.
        #[source]
        source: serde_json::Error,
    },
    /// A report path cannot be used: a folder, or the same file as another report.
    #[error("report `{}` {reason}", .path.display())]
    Unusable {
        /// The report file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// `--resume` found no journal to resume.
    #[error("no run to resume: `{}` does not exist", .path.display())]
    NoJournal {
        /// The journal file looked for.
        path: PathBuf,
    },
    /// `--resume` found a journal whose run finished.
    #[error("nothing to resume: the run in `{}` finished; run without --resume", .dir.display())]
    ResumeFinished {
        /// The folder of the JSON results.
        dir: PathBuf,
    },
    /// `--resume` found a journal planned otherwise: going on would report outcomes of another
    /// target, fault, config, threshold or selection as this run's.
    #[error("cannot resume the run in `{}`: {}", .dir.display(), .differences.join("; "))]
    ResumeMismatch {
        /// The folder of the JSON results.
        dir: PathBuf,
        /// What differs, one phrase each.
        differences: Vec<String>,
    },
    /// Another run holds the report folder (its lock file).
    #[error(
        "another medcom-harness run{} is writing its journal and evidence into `{}`",
        .pid.as_deref().map(|p| format!(" (process {p})")).unwrap_or_default(),
        .dir.display()
    )]
    FolderInUse {
        /// The report folder.
        dir: PathBuf,
        /// The other run's process id, as its lock file says.
        pid: Option<String>,
    },
    /// The journal could not be read or written.
    #[error("failed to use the run's journal `{}`", .path.display())]
    Journal {
        /// The journal file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Where a run's three reports go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// The HTML report (`reports/report.html`).
    pub html: PathBuf,
    /// The JUnit XML report (`reports/junit.xml`).
    pub junit: PathBuf,
    /// The JSON results (`reports/results.json`); `evidence/` and the journal go beside it.
    pub json: PathBuf,
}

impl Paths {
    /// Makes sure each report can be written, before anything runs: no path is a folder or the
    /// same as another, each folder exists or can be made, and a file can be created in it (a
    /// hidden probe file, removed again) and the report itself, when it exists, opened for
    /// writing. Creates the folders.
    ///
    /// # Errors
    /// [`ReportError::Unusable`] or [`ReportError::Write`] naming the report.
    pub fn check(&self) -> Result<(), ReportError> {
        let all = [&self.html, &self.junit, &self.json];
        for (i, path) in all.iter().enumerate() {
            let unusable = |reason: &str| ReportError::Unusable {
                path: path.to_path_buf(),
                reason: reason.to_string(),
            };
            if path.is_dir() {
                return Err(unusable("is a folder; give a file name"));
            }
            if all[..i].iter().any(|other| other == path) {
                return Err(unusable("is given for two reports; give each its own file"));
            }
            let failed = |source| ReportError::Write {
                path: path.to_path_buf(),
                source,
            };
            let dir = path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            // A file where a folder of the path should be: name it (`create_dir_all` says only
            // "File exists").
            if let Some(file) = dir.ancestors().find(|a| a.is_file()) {
                return Err(unusable(&format!(
                    "cannot be written: `{}` is a file, not a folder",
                    file.display()
                )));
            }
            std::fs::create_dir_all(dir).map_err(failed)?;
            tempfile::Builder::new()
                .prefix(".medcom-harness-probe")
                .tempfile_in(dir)
                .map_err(failed)?;
            if path.exists() {
                std::fs::OpenOptions::new()
                    .append(true)
                    .open(path)
                    .map_err(failed)?;
            }
        }
        Ok(())
    }
}

/// How reports are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Show CPR numbers as they are (`--show-cpr`); by default reports mask them
    /// (`250947-****`). Evidence files always keep the bytes exactly.
    pub show_cpr: bool,
    /// The language of the HTML report (`--lang`); English by default.
    pub lang: Lang,
}

/// Writes `contents` to `path` at once, creating its folder first: the contents go to a hidden
/// file beside it, synced, then renamed over it, so a reader (or a `kill -9`) sees the old
/// report or the new one, never half of one.
///
/// # Errors
///
/// [`ReportError::Write`] with `path` when the folder cannot be created or the file written.
// For reports written whole (`review` splicing its section into a written page); the three
// reports of a run stream through `write_report_with`.
fn write_report(path: &std::path::Path, contents: &[u8]) -> Result<(), ReportError> {
    write_report_with(path, |w| w.write_all(contents))
}

/// [`write_report`] with the contents streamed by `write` into a buffered writer: a report of
/// 10,000 scenarios never sits in memory whole.
///
/// # Errors
///
/// [`ReportError::Write`] with `path` when the folder cannot be created, `write` fails or the
/// file cannot be synced and renamed.
fn write_report_with(
    path: &std::path::Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<(), ReportError> {
    use std::io::Write as _;
    let failed = |source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(failed)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".medcom-harness-report");
    // A report is read by others (CI artefacts, a web server) as any file the user writes.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let temp = builder.tempfile_in(dir).map_err(failed)?;
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, temp);
    write(&mut out).map_err(failed)?;
    out.flush().map_err(failed)?;
    let temp = out.into_inner().map_err(|e| failed(e.into_error()))?;
    temp.as_file().sync_all().map_err(failed)?;
    temp.persist(path).map_err(|e| failed(e.error))?;
    Ok(())
}

/// `to`'s folder as seen from `from`'s folder: `/`-separated, ending in `/`, empty when they
/// are the same folder. Both folders exist ([`Paths::check`] made them); when no relative way
/// exists, `to`'s folder as an absolute path.
fn relative_folder(from: &Path, to: &Path) -> String {
    let folder = |p: &Path| {
        let dir = p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
    };
    let (from, to) = (folder(from), folder(to));
    if from == to {
        return String::new();
    }
    let common = from
        .components()
        .zip(to.components())
        .take_while(|(a, b)| a == b)
        .count();
    if common == 0 {
        return format!("{}/", to.display());
    }
    let mut parts: Vec<String> = from
        .components()
        .skip(common)
        .map(|_| "..".into())
        .collect();
    parts.extend(
        to.components()
            .skip(common)
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    format!("{}/", parts.join("/"))
}

/// Writes `contents` to `path` as a report is written: at once (a temporary file renamed over
/// it), creating its folder. For `review`, which writes the HTML report again.
///
/// # Errors
///
/// [`ReportError::Write`] with `path`.
pub fn write_report_file(path: &std::path::Path, contents: &[u8]) -> Result<(), ReportError> {
    write_report(path, contents)
}

/// The run's verdict word, for the reports' headline: see [`RunOutcome::verdict`].
fn verdict_word(run: &RunOutcome) -> &'static str {
    run.verdict().as_str()
}

/// Writes the HTML report, the JUnit report and the JSON results (with evidence files not yet
/// on disk), creating their folders. CPR numbers are masked unless `options.show_cpr`.
///
/// # Errors
/// The first [`ReportError`]; each names the file it could not write.
pub fn write_all(run: &RunOutcome, paths: &Paths, options: &Options) -> Result<(), ReportError> {
    write_all_redacted(run, paths, options, &crate::transport::Secrets::default())
}

/// [`write_all`], with every one of `secrets` (the run's credentials, from
/// [`crate::transport::HttpTransport::secrets`]) and every credential in a URL replaced by `***`
/// in all report text: titles, findings, notes, diffs and the evidence previews. Evidence files
/// keep the bytes exactly.
///
/// # Errors
/// The first [`ReportError`]; each names the file it could not write.
pub fn write_all_redacted(
    run: &RunOutcome,
    paths: &Paths,
    options: &Options,
    secrets: &crate::transport::Secrets,
) -> Result<(), ReportError> {
    write_all_streamed(run, paths, options, secrets, Streamed::default())
}

/// [`write_all_redacted`], with the parts of the scenarios a [`ReportStream`] made while the run
/// went on (`streamed`, from [`ReportStream::finish`]): only what needs the whole run is made
/// here. The reports are the same as without them (see the `stream` module).
///
/// # Errors
/// The first [`ReportError`]; each names the file it could not write.
pub fn write_all_streamed(
    run: &RunOutcome,
    paths: &Paths,
    options: &Options,
    secrets: &crate::transport::Secrets,
    mut streamed: Streamed,
) -> Result<(), ReportError> {
    // The evidence files first (the reports name them), then one copy of the run as the
    // reports show it, rewritten scenario by scenario (or as it finished, by the stream),
    // without the message bytes unless the page copies them in (see `shown`).
    let filed = json::file_each(run, &paths.json)?;
    let show = shown::Shown {
        secrets,
        mask: !options.show_cpr,
    };
    let files = |i: usize| filed.scenarios.get(i).map(Vec::as_slice);
    let parts: Vec<Option<stream::Part>> = run
        .scenarios
        .iter()
        .enumerate()
        .map(|(i, s)| {
            streamed.take(s).filter(|p| {
                p.shown
                    .evidence
                    .iter()
                    .map(|e| &e.file)
                    .eq(files(i).unwrap_or_default())
            })
        })
        .collect();
    let spool = streamed.spool.take();
    drop(streamed);
    // A part's bytes, from the spool (there is one when there are parts).
    let spooled = |span: stream::Span| match &spool {
        Some(spool) => spool.read(span),
        None => Err(std::io::Error::other("the reports' spool is gone")),
    };
    // Whether the page links the evidence (see `Shown::shown_len`), from the parts' counts.
    let mut so_far = 0usize;
    let linked = run.scenarios.iter().zip(&parts).any(|(s, p)| {
        so_far += match p.as_ref().and_then(|p| p.shown_len) {
            Some(len) => len,
            None => s.evidence.iter().map(|e| show.shown_len(e)).sum(),
        };
        so_far > html::INLINE_EVIDENCE_BYTES
    });
    let n = run.scenarios.len();
    let (mut scenarios, mut json_items, mut junit_items, mut sections) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for (i, (s, part)) in run.scenarios.iter().zip(parts).enumerate() {
        match part {
            // A part made while the page might copy evidence in has its bytes; one made after
            // the run was known to link it has none, and serves only a page that links.
            Some(mut p) if p.with_bytes || linked => {
                if linked {
                    for e in &mut p.shown.evidence {
                        e.bytes = Vec::new();
                    }
                }
                scenarios.push(p.shown);
                json_items.push(Some(p.json));
                junit_items.push(Some(p.junit));
                sections.push(p.html);
            }
            _ => {
                scenarios.push(show.scenario(s, files(i), !linked));
                json_items.push(None);
                junit_items.push(None);
                sections.push(None);
            }
        }
    }
    let mut shown = show.run_with(run, Some(&filed), scenarios);
    drop(filed);
    let frame = json::Frame::of(&mut shown).map_err(|source| ReportError::Json {
        path: paths.json.clone(),
        source,
    })?;
    let mut layout = html::Layout::linking(linked, relative_folder(&paths.html, &paths.json));
    layout.lang = options.lang;
    // The three reports at once, one thread each (a run's reports are written on as many cores
    // as there are); the first error in the order JSON, JUnit, HTML is the one returned.
    let shown = &shown;
    let (json, junit, html) = std::thread::scope(|scope| {
        let json = scope.spawn(|| {
            frame.write(&paths.json, &|i, w| match json_items[i] {
                Some(item) => w.write_all(&spooled(item)?),
                None => w.write_all(
                    &json::scenario_item(&shown.scenarios[i]).map_err(std::io::Error::other)?,
                ),
            })?;
            testreport::write_testreports(shown, &paths.json).map(drop)
        });
        let junit = scope.spawn(|| {
            write_report_with(&paths.junit, |w| {
                junit::stream_junit_with(shown, w, &|i, w| match junit_items[i] {
                    Some(item) => w.write_all(&spooled(item)?),
                    None => w.write_all(&junit::case_item(&shown.scenarios[i], shown.threshold)?),
                })
            })
        });
        // A run that reuses a results folder keeps its review log: the page lists the entries
        // about this run (by its start time) and none about another.
        let reviews =
            crate::review::read_log(&crate::review::log_path(&paths.json)).unwrap_or_default();
        let section = |i: usize| match &sections[i] {
            Some((item, span)) => spooled(*span).map(|bytes| Some(item.with_bytes(bytes))),
            None => Ok(None),
        };
        let html = html::write_html_streamed(shown, &paths.html, &layout, &reviews, &section);
        (json.join(), junit.join(), html)
    });
    let joined = |r: std::thread::Result<Result<(), ReportError>>| {
        r.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    };
    joined(json)?;
    joined(junit)?;
    html
}
