//! The review log: one JSON object per line, appended, never rewritten.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::finding::Grade;
use crate::run::RunOutcome;

/// What a review entry does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A person attests a manual step: they did it and saw the expected result.
    Attest,
    /// A remark.
    Comment,
    /// The step does not apply to the system under test (MedCom: "Ikke relevant").
    NotRelevant,
    /// A finding's grade replaced by the reviewer's, with a comment.
    Override,
}

impl Kind {
    /// The kind as written in the log and the report (`not-relevant`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Attest => "attest",
            Kind::Comment => "comment",
            Kind::NotRelevant => "not-relevant",
            Kind::Override => "override",
        }
    }
}

/// What an entry is about: a step of MedCom's test protocol, a scenario, a scenario step, or
/// (for an override) one rule's findings in a scenario step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Subject {
    /// The protocol step, as the scenarios' `protocol-step` names it (`3.4`, `R-A`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_step: Option<String>,
    /// A scenario id of the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// A step of that scenario, 1-based.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    /// A rule id whose findings in that step an override regrades.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// A file a reviewer attached, copied beside the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attached {
    /// Its name in the `review/` folder beside the log (`3-screenshot.png`).
    pub file: String,
    /// The name it had where the reviewer took it from.
    pub original_name: String,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// One line of the review log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Entry {
    /// Its number in the log, from 1.
    pub seq: usize,
    /// When it was recorded, UTC (RFC 3339).
    pub time: String,
    /// The `started` of the run it is about.
    pub run_started: String,
    /// Who: the reviewer's name.
    pub reviewer: String,
    /// What it does.
    pub kind: Kind,
    /// What it is about.
    #[serde(flatten)]
    pub subject: Subject,
    /// For an override: the grade the harness gave (the worst of the rule's findings in the step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<Grade>,
    /// For an override: the reviewer's grade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<Grade>,
    /// The reviewer's words; mandatory for a comment and an override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Files attached.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<Attached>,
}

/// A review could not be recorded or read.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// The entry is incomplete or names something the run does not have.
    #[error("{0}")]
    Invalid(String),
    /// A file could not be read or written.
    #[error("failed to {action} `{}`", .path.display())]
    Io {
        /// `read`, `write`, `copy`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A log line is not an entry.
    #[error("review log `{}` line {line} is not a review entry", .path.display())]
    Parse {
        /// The log.
        path: PathBuf,
        /// The line number, 1-based.
        line: usize,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
}

/// The review log of the run whose JSON results are `results`: `review.jsonl` beside it.
pub fn log_path(results: &Path) -> PathBuf {
    results.with_file_name("review.jsonl")
}

/// The folder of attached files: `review/` beside the JSON results.
pub fn attachment_dir(results: &Path) -> PathBuf {
    results.with_file_name("review")
}

/// Every entry of the log at `path`; none when there is no log.
///
/// # Errors
///
/// [`ReviewError::Io`] when it cannot be read, [`ReviewError::Parse`] for a line that is not an
/// entry.
pub fn read_log(path: &Path) -> Result<Vec<Entry>, ReviewError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(ReviewError::Io {
                action: "read",
                path: path.to_path_buf(),
                source,
            });
        }
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|source| ReviewError::Parse {
                path: path.to_path_buf(),
                line: i + 1,
                source,
            })
        })
        .collect()
}

/// Whether `step` names a step of the bundled protocols (by id or MedCom's number) or one a
/// scenario of `run` declares (`protocol-step`, several separated by commas, a step of another
/// standard after that standard's name: `R-Tek-O, Acknowledgement send-fatal-error`).
fn known_protocol_step(run: &RunOutcome, step: &str) -> bool {
    let step = step.trim();
    let bundled = crate::certification::protocol::bundled();
    let in_protocols = bundled
        .iter()
        .flat_map(|p| &p.steps)
        .any(|s| s.id == step || s.number.as_deref() == Some(step));
    in_protocols
        || run
            .scenarios
            .iter()
            .filter_map(|s| s.protocol_step.as_deref())
            .flat_map(|p| p.split(','))
            .any(|named| {
                let named = named.trim();
                named == step || named.rsplit(' ').next() == Some(step)
            })
}

/// Checks `entry` against `run`, fills in what the harness knows (number, time, run, the original
/// grade of an override), copies `attach` beside the log, and appends the entry to the review log
/// of `results`. Returns the entry as written.
///
/// # Errors
///
/// [`ReviewError::Invalid`] when the entry lacks what its kind needs (an override's rule, step,
/// grade and comment; a comment's text; a subject) or names a scenario, step or rule the run does
/// not have; [`ReviewError::Io`] when a file cannot be read or written.
pub fn append(
    results: &Path,
    run: &RunOutcome,
    mut entry: Entry,
    attach: &[PathBuf],
) -> Result<Entry, ReviewError> {
    let invalid = |m: String| Err(ReviewError::Invalid(m));
    if entry.reviewer.trim().is_empty() {
        return invalid("a review needs the reviewer's name (--name)".into());
    }
    let comment = entry.comment.as_deref().map(str::trim).unwrap_or_default();
    let s = &entry.subject;
    if s.protocol_step.is_none() && s.scenario.is_none() {
        return invalid("say what the review is about: --protocol-step or --scenario".into());
    }
    if let Some(step) = &s.protocol_step
        && !known_protocol_step(run, step)
    {
        return invalid(format!(
            "`{step}` is no step of MedCom's test protocols (data/protocols.toml: an id such as `R-A` or a number such as `3.1.1.1`) nor a `protocol-step` of the run's scenarios"
        ));
    }
    let scenario = match &s.scenario {
        None => None,
        Some(id) => match run.scenarios.iter().find(|sc| sc.id == *id) {
            Some(sc) => Some(sc),
            None => return invalid(format!("the run has no scenario `{id}`")),
        },
    };
    let step = match (scenario, s.step) {
        (Some(sc), Some(n)) => match sc.steps.iter().find(|st| st.index == n) {
            Some(st) => Some(st),
            None => return invalid(format!("scenario `{}` has no step {n}", sc.id)),
        },
        (None, Some(_)) => return invalid("--step needs --scenario".into()),
        (_, None) => None,
    };
    match entry.kind {
        Kind::Comment if comment.is_empty() => {
            return invalid("a comment needs its text (--comment)".into());
        }
        Kind::Override => {
            if comment.is_empty() {
                return invalid("an override needs a comment saying why (--comment)".into());
            }
            let (Some(step), Some(rule)) = (step, &s.rule) else {
                return invalid("an override names --scenario, --step and --rule".into());
            };
            if entry.grade.is_none() {
                return invalid("an override needs the new grade (--grade)".into());
            }
            let original = crate::finding::worst(step.findings.iter().filter(|f| f.rule == *rule));
            if !step.findings.iter().any(|f| f.rule == *rule) {
                return invalid(format!(
                    "step {} of scenario `{}` has no finding of rule `{rule}`",
                    step.index,
                    s.scenario.as_deref().unwrap_or_default()
                ));
            }
            entry.original = Some(original);
        }
        _ => {}
    }
    if entry.kind != Kind::Override {
        entry.original = None;
        entry.grade = None;
    }
    let log = log_path(results);
    entry.seq = read_log(&log)?.len() + 1;
    entry.run_started = run.started.clone();
    entry.time = now();
    entry.files = attach
        .iter()
        .map(|path| copy_attachment(results, entry.seq, path))
        .collect::<Result<_, _>>()?;

    let mut line = serde_json::to_string(&entry).expect("a review entry serializes");
    line.push('\n');
    let io = |source| ReviewError::Io {
        action: "write",
        path: log.clone(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .map_err(io)?;
    file.write_all(line.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(entry)
}

/// Copies `path` into the attachment folder as `<seq>-<name>`.
fn copy_attachment(results: &Path, seq: usize, path: &Path) -> Result<Attached, ReviewError> {
    let bytes = std::fs::read(path).map_err(|source| ReviewError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    let original_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let safe: String = original_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let file = format!("{seq}-{safe}");
    let dir = attachment_dir(results);
    let target = dir.join(&file);
    let io = |source| ReviewError::Io {
        action: "copy",
        path: target.clone(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(io)?;
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&target)
        .map_err(io)?;
    out.write_all(&bytes).map_err(io)?;
    out.sync_all().map_err(io)?;
    Ok(Attached {
        file,
        original_name,
        sha256: sha256_hex(&bytes),
        size: bytes.len() as u64,
    })
}

/// The SHA-256 of `bytes`, lowercase hex.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Now, UTC, RFC 3339 to the second.
fn now() -> String {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
