//! Reporters: the files a run leaves behind, each a function of a [`RunOutcome`].
//!
//! The runner never prints; once a run is over its [`RunOutcome`] goes to these writers, which
//! read it and nothing else, so every report tells the same story in the same order (scenarios by
//! path, steps in file order, evidence as it travelled).
//!
//! - [`write_html`]: `reports/report.html`, the certification report a vendor hands to MedCom. One
//!   self-contained file: inline CSS, no script, no external request. The summary comes first;
//!   every scenario follows with its steps, findings (rule id and grade), golden diffs and the
//!   evidence pretty-printed in collapsible blocks. All content is HTML-escaped.
//! - [`write_junit`]: `reports/junit.xml` for CI: one test case per scenario; a failed scenario
//!   is a `<failure>`, a scenario the harness could not run an `<error>`, a skipped one
//!   `<skipped>`.
//! - [`write_json`]: `reports/results.json`, the stable interface for scripts and merges, plus
//!   the evidence bytes under `reports/evidence/<scenario>/<evidence>.<ext>`.
//!
//! Rules: a verdict is data and is reported, never returned as an error; a [`ReportError`] means a
//! report could not be written. Names built from scenario and evidence ids (file names, HTML
//! anchors) keep only `[A-Za-z0-9._-]`, whatever the ids contain.

pub mod console;
mod html;
mod json;
mod junit;
#[cfg(test)]
mod sample;
mod slug;

use std::path::PathBuf;

pub use html::{render_html, write_html};
pub use json::write_json;
pub use junit::{render_junit, write_junit};

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
}

/// Writes `contents` to `path`, creating its folder first.
///
/// # Errors
///
/// [`ReportError::Write`] with `path` when the folder cannot be created or the file written.
fn write_report(path: &std::path::Path, contents: &[u8]) -> Result<(), ReportError> {
    let failed = |source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    std::fs::write(path, contents).map_err(failed)
}

/// Whether the run as a whole passed, for the reports' headline. Same rule as
/// [`RunOutcome::passed`]: no failed and no errored scenario.
fn verdict_word(run: &RunOutcome) -> &'static str {
    if run.passed() { "PASSED" } else { "FAILED" }
}

/// Writes the HTML report, the JUnit report and the JSON results (with evidence files), creating
/// their folders.
///
/// # Errors
/// The first [`ReportError`]; each names the file it could not write.
pub fn write_all(
    run: &RunOutcome,
    html: &std::path::Path,
    junit: &std::path::Path,
    json: &std::path::Path,
) -> Result<(), ReportError> {
    write_json(run, json)?;
    write_junit(run, junit)?;
    write_html(run, html)
}
