//! Outcomes: the plain data a run produces and every reporter reads.
//!
//! The runner never prints. It returns a [`RunOutcome`] (and emits [`crate::run::Event`]s while it
//! works); the console, HTML, JUnit and JSON reporters are functions of this data. Outcomes are
//! ordered by scenario path, whatever the parallelism, so reports are deterministic.

use serde::{Deserialize, Serialize};
use std::time::Duration;

use crate::finding::{Finding, Grade};

/// Which way an evidence item travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// From the harness to the vendor.
    Sent,
    /// From the vendor to the harness.
    Received,
}

/// The most of one evidence item kept in memory once its bytes are on disk, in bytes: what the
/// HTML report shows of it. The whole item is in the evidence folder.
pub const PREVIEW_BYTES: usize = 256 * 1024;

/// One message (or body) as it travelled: the exact bytes, kept as evidence.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Evidence {
    /// Id, unique within the scenario: `e1`, `e2`, …; findings refer to it.
    pub id: String,
    /// Sent or received.
    pub direction: Direction,
    /// What it is, for people: "CareCommunication new-message (MessageHeader.id `…`)".
    pub label: String,
    /// Media type as sent or received (`application/fhir+json`, …).
    pub media_type: String,
    /// Lower-case hex SHA-256 of `bytes`.
    pub sha256: String,
    /// Size in bytes.
    pub size: usize,
    /// Where it was written, relative to the report folder, once a reporter wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// When the harness captured it (sent or received): UTC, RFC 3339 with milliseconds
    /// (`2026-12-07T14:16:57.123Z`). Statistics measure acknowledgement and receipt latency from
    /// it. Absent in results written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// The bytes; once a [`crate::run::Recorder`] has written them to `file`, only their first
    /// [`PREVIEW_BYTES`] (all of them when `size` is at most that). Not in the JSON report (see
    /// `file`).
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

impl Evidence {
    /// Evidence for `bytes`, hashing them.
    pub fn new(
        id: String,
        direction: Direction,
        label: String,
        media_type: String,
        bytes: Vec<u8>,
    ) -> Evidence {
        let fp = crate::message::AttachmentData::of(&bytes);
        Evidence {
            id,
            direction,
            label,
            media_type,
            sha256: fp,
            size: bytes.len(),
            file: None,
            at: Some(captured_at()),
            bytes,
        }
    }

    /// Evidence for `bytes` that keeps only their first [`PREVIEW_BYTES`] in memory (hashed and
    /// sized whole): for a [`crate::run::Recorder`] to write the whole from the caller's
    /// buffer, so a 100 MB message is not copied to become evidence.
    pub fn preview_of(
        id: String,
        direction: Direction,
        label: String,
        media_type: String,
        bytes: &[u8],
    ) -> Evidence {
        Evidence {
            id,
            direction,
            label,
            media_type,
            sha256: crate::message::AttachmentData::of(bytes),
            size: bytes.len(),
            file: None,
            at: Some(captured_at()),
            bytes: bytes[..bytes.len().min(PREVIEW_BYTES)].to_vec(),
        }
    }

    /// Whether `bytes` holds only the start of the item (the rest is in `file`).
    pub fn is_preview(&self) -> bool {
        self.bytes.len() < self.size
    }

    /// The bytes pretty-printed for people (JSON re-indented; XML as it is), lossily decoded.
    pub fn pretty(&self) -> String {
        if self.media_type.contains("json")
            && let Ok(v) = serde_json::from_slice::<serde_json::Value>(&self.bytes)
            && let Ok(text) = serde_json::to_string_pretty(&v)
        {
            return text;
        }
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// Now, as [`Evidence::at`] gives it: UTC, RFC 3339 with milliseconds.
fn captured_at() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

/// The status of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepStatus {
    /// Ran; its verdict is in its findings.
    Ran,
    /// Not run because an earlier step it depends on produced nothing (the reason says which).
    Skipped,
    /// The harness could not run it (a template error, a port in use): an error, not a verdict.
    Error,
}

/// A step the harness could not perform: where the step is written and why. Its text is
/// `scenario.toml:12: step 3 (`send`) could not run: …`, as editors and CI logs link it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{location}: step {step} (`{kind}`) could not run: {message}")]
pub struct StepError {
    /// The scenario file and the line of the step's `[[step]]`: `scenarios/cc/new.toml:12`.
    pub location: String,
    /// 1-based step number.
    pub step: usize,
    /// The step kind: `send`, `expect-ack`, …
    pub kind: String,
    /// What went wrong.
    pub message: String,
}

/// One step of a scenario as it ran.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepOutcome {
    /// 1-based step number in the scenario file.
    pub index: usize,
    /// The step kind as written: `send`, `expect-ack`, …
    pub kind: String,
    /// What the step did, in a sentence.
    pub summary: String,
    /// Ran, skipped or error.
    pub status: StepStatus,
    /// Why it was skipped or what error stopped it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The error that stopped it, with the step's file and line (status `error` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<StepError>,
    /// Every finding of the step, passes (`OK`) included.
    pub findings: Vec<Finding>,
    /// Evidence ids of the messages this step sent or received.
    pub evidence: Vec<String>,
    /// Golden diffs produced by the step (unified diff text), by golden file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diffs: Vec<GoldenDiff>,
    /// Wall time.
    #[serde(serialize_with = "seconds", deserialize_with = "from_seconds")]
    pub duration: Duration,
}

impl StepOutcome {
    /// The step's verdict: the worst grade of its findings.
    pub fn verdict(&self) -> Grade {
        crate::finding::worst(&self.findings)
    }
}

/// A golden comparison that found differences.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GoldenDiff {
    /// The golden file, as the scenario names it.
    pub golden: String,
    /// Unified diff (golden vs actual), normalized.
    pub diff: String,
}

/// How a scenario ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScenarioStatus {
    /// Nothing worse than the threshold.
    Passed,
    /// A finding worse than the threshold.
    Failed,
    /// The harness could not run it (JUnit `<error>`).
    Error,
    /// Not run (needs an operator and none is available, or filtered at run time).
    Skipped,
}

/// One scenario as it ran.
///
/// Written (to `results.json` and the journal) with its fields in this order, `verdict` as the
/// grade, but `ERROR` for a scenario the harness could not run (status `error`): its worst grade
/// so far is often `OK`, which read as a pass, while the HTML report shows `ERROR` and JUnit an
/// `<error>`. Read back, such a scenario's verdict is again the worst grade of its findings.
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "StoredScenario")]
pub struct ScenarioOutcome {
    /// The scenario's `id`.
    pub id: String,
    /// Its `title`.
    pub title: String,
    /// The scenario file, as given.
    pub path: String,
    /// The standard it tests (`CareCommunication 5.0`).
    pub standard: String,
    /// The MedCom test-protocol step it covers, when stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_step: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Passed, failed, error or skipped.
    pub status: ScenarioStatus,
    /// The worst grade of all findings.
    pub verdict: Grade,
    /// Why it errored or was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The steps in file order.
    pub steps: Vec<StepOutcome>,
    /// Every message sent or received, in order.
    pub evidence: Vec<Evidence>,
    /// Wall time.
    #[serde(serialize_with = "seconds", deserialize_with = "from_seconds")]
    pub duration: Duration,
}

/// The `verdict` written for a scenario the harness could not run.
pub const ERROR_VERDICT: &str = "ERROR";

impl Serialize for ScenarioOutcome {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        /// The duration in seconds, as [`seconds`] writes it.
        struct Seconds(Duration);
        impl Serialize for Seconds {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                seconds(&self.0, s)
            }
        }
        let fields =
            10 + usize::from(self.protocol_step.is_some()) + usize::from(self.reason.is_some());
        let mut out = serializer.serialize_struct("ScenarioOutcome", fields)?;
        out.serialize_field("id", &self.id)?;
        out.serialize_field("title", &self.title)?;
        out.serialize_field("path", &self.path)?;
        out.serialize_field("standard", &self.standard)?;
        match &self.protocol_step {
            Some(step) => out.serialize_field("protocol_step", step)?,
            None => out.skip_field("protocol_step")?,
        }
        out.serialize_field("tags", &self.tags)?;
        out.serialize_field("status", &self.status)?;
        match self.status {
            ScenarioStatus::Error => out.serialize_field("verdict", ERROR_VERDICT)?,
            _ => out.serialize_field("verdict", &self.verdict)?,
        }
        match &self.reason {
            Some(reason) => out.serialize_field("reason", reason)?,
            None => out.skip_field("reason")?,
        }
        out.serialize_field("steps", &self.steps)?;
        out.serialize_field("evidence", &self.evidence)?;
        out.serialize_field("duration", &Seconds(self.duration))?;
        out.end()
    }
}

/// A scenario as written ([`ScenarioOutcome`]'s `Serialize`), read back.
#[derive(Deserialize)]
struct StoredScenario {
    id: String,
    title: String,
    path: String,
    standard: String,
    #[serde(default)]
    protocol_step: Option<String>,
    tags: Vec<String>,
    status: ScenarioStatus,
    /// `None` for [`ERROR_VERDICT`].
    #[serde(deserialize_with = "grade_or_error")]
    verdict: Option<Grade>,
    #[serde(default)]
    reason: Option<String>,
    steps: Vec<StepOutcome>,
    evidence: Vec<Evidence>,
    #[serde(deserialize_with = "from_seconds")]
    duration: Duration,
}

/// A grade (`OK`, `F4` … `F1`), or `None` for [`ERROR_VERDICT`].
fn grade_or_error<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Grade>, D::Error> {
    let text = String::deserialize(d)?;
    if text == ERROR_VERDICT {
        return Ok(None);
    }
    Grade::parse(&text)
        .filter(|g| g.as_str() == text)
        .map(Some)
        .ok_or_else(|| {
            serde::de::Error::unknown_variant(&text, &["OK", "F4", "F3", "F2", "F1", ERROR_VERDICT])
        })
}

impl From<StoredScenario> for ScenarioOutcome {
    fn from(s: StoredScenario) -> ScenarioOutcome {
        let verdict = s
            .verdict
            .unwrap_or_else(|| crate::finding::worst(s.steps.iter().flat_map(|st| &st.findings)));
        ScenarioOutcome {
            id: s.id,
            title: s.title,
            path: s.path,
            standard: s.standard,
            protocol_step: s.protocol_step,
            tags: s.tags,
            status: s.status,
            verdict,
            reason: s.reason,
            steps: s.steps,
            evidence: s.evidence,
            duration: s.duration,
        }
    }
}

impl ScenarioOutcome {
    /// Every finding of every step, in order.
    pub fn findings(&self) -> impl Iterator<Item = (&StepOutcome, &Finding)> {
        self.steps
            .iter()
            .flat_map(|s| s.findings.iter().map(move |f| (s, f)))
    }

    /// The findings worse than `threshold`.
    pub fn failures(&self, threshold: Grade) -> impl Iterator<Item = (&StepOutcome, &Finding)> {
        self.findings()
            .filter(move |(_, f)| f.grade.fails(threshold))
    }
}

/// A scenario the target cannot take, left out of the run before it started: a scenario with
/// `transport = "folder"` (classic OIOXML letters travel only through exchange folders) against
/// a vendor's HTTP endpoint. Listed in every report; the verdict is over what applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotApplicable {
    /// The scenario's `id`.
    pub id: String,
    /// Its `title`.
    pub title: String,
    /// The scenario file.
    pub path: String,
    /// Why it does not apply, and how to run it.
    pub reason: String,
}

/// The scenarios `--filter`/`--skip` selected: the run's verdict covers only those, and every
/// report says how many were left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selection {
    /// The `--filter` texts (a scenario is selected when its id, title or a tag contains one).
    pub filter: Vec<String>,
    /// The `--skip` texts.
    pub skip: Vec<String>,
    /// How many scenarios found on disk the two left out.
    pub left_out: usize,
    /// The share of the selected scenarios this run ran (`--partition hash:K/N`); its report
    /// covers only that share until merged with the others (`report merge`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
}

/// Counts for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Scenarios that passed.
    pub passed: usize,
    /// Scenarios that failed.
    pub failed: usize,
    /// Scenarios that could not run.
    pub errors: usize,
    /// Scenarios skipped.
    pub skipped: usize,
}

/// Where a run stands: reports are written at its start (in progress) and at its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    /// Under way, or killed before it could write its final reports.
    InProgress,
    /// Every selected scenario ran to its end.
    Finished,
    /// Stopped early (Ctrl-C, or the harness could not keep its journal).
    Interrupted,
    /// Could not start (an unreachable vendor, a port in use): no scenario ran.
    NotStarted,
}

/// The run's verdict, the headline of every report and the exit code's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunVerdict {
    /// Every scenario ran and passed (skipped ones only with `allow_skipped`).
    Passed,
    /// A scenario failed: a finding worse than the threshold.
    Failed,
    /// Nothing failed, but not everything ran: a scenario was skipped or could not run, or the
    /// run was stopped early. Never a pass.
    Incomplete,
    /// The run is under way (or was killed): the report is not final.
    InProgress,
    /// The run could not start.
    NotRun,
}

impl RunVerdict {
    /// The headline word: `PASSED`, `FAILED`, `INCOMPLETE`, `IN PROGRESS`, `NOT RUN`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunVerdict::Passed => "PASSED",
            RunVerdict::Failed => "FAILED",
            RunVerdict::Incomplete => "INCOMPLETE",
            RunVerdict::InProgress => "IN PROGRESS",
            RunVerdict::NotRun => "NOT RUN",
        }
    }
}

/// A whole run. Read back from `results.json` by `review` and `evidence pack`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunOutcome {
    /// Whether the run was stopped early (Ctrl-C): the scenarios it did not finish are errors.
    pub interrupted: bool,
    /// Where the run stands: `in-progress` in the report written at its start, `finished`,
    /// `interrupted` or `not-started` at its end.
    pub status: RunStatus,
    /// Why the run did not start or was stopped, when it did not finish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Whether skipped scenarios may pass the run (`--allow-skipped`); errors never do.
    pub allow_skipped: bool,
    /// The harness version that judged.
    pub harness_version: String,
    /// What was tested: the vendor URL or folder, or `embedded reference vendor`.
    pub target: String,
    /// The threshold: the worst grade that still passes.
    pub threshold: Grade,
    /// When the run started (FHIR instant).
    pub started: String,
    /// Scenarios, ordered by path.
    pub scenarios: Vec<ScenarioOutcome>,
    /// Messages the vendor sent that no scenario claimed, as evidence with a finding each.
    pub unclaimed: Vec<(Evidence, Finding)>,
    /// Scenarios the target cannot take, left out before the run started.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_applicable: Vec<NotApplicable>,
    /// What `--filter`/`--skip` selected, and how many scenarios they left out.
    pub selection: Selection,
    /// Wall time of the run.
    #[serde(serialize_with = "seconds", deserialize_with = "from_seconds")]
    pub duration: Duration,
    /// Who and what was tested, with which configuration and IG packages (the command line
    /// fills it in); `None` in a run made without one (tests, merges of older results).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certification: Option<crate::certification::Certification>,
}

impl RunOutcome {
    /// A run with no scenario yet: the report written the moment a run starts (`InProgress`),
    /// or when it cannot start (`NotStarted`, with `note` saying why).
    pub fn placeholder(
        status: RunStatus,
        target: String,
        threshold: Grade,
        note: Option<String>,
    ) -> RunOutcome {
        RunOutcome {
            interrupted: false,
            status,
            note,
            allow_skipped: false,
            harness_version: env!("CARGO_PKG_VERSION").to_string(),
            target,
            threshold,
            started: crate::template::now_instant(),
            scenarios: Vec::new(),
            unclaimed: Vec::new(),
            not_applicable: Vec::new(),
            selection: Selection::default(),
            duration: Duration::ZERO,
            certification: None,
        }
    }

    /// Counts by status.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for sc in &self.scenarios {
            match sc.status {
                ScenarioStatus::Passed => s.passed += 1,
                ScenarioStatus::Failed => s.failed += 1,
                ScenarioStatus::Error => s.errors += 1,
                ScenarioStatus::Skipped => s.skipped += 1,
            }
        }
        s
    }

    /// The run's verdict. A run passes only when it finished, every scenario passed and no
    /// unclaimed arrival failed ([`RunOutcome::unclaimed_failures`]); a
    /// skipped scenario passes only with `allow_skipped`; a scenario that could not run never
    /// does. A run of no scenario is incomplete, except a share of `--partition` that the hash
    /// gave none (a small suite over many CI jobs): it passes, for `report merge` to join. A
    /// failed scenario makes the run fail, whatever else happened.
    pub fn verdict(&self) -> RunVerdict {
        let s = self.summary();
        match self.status {
            RunStatus::InProgress => return RunVerdict::InProgress,
            RunStatus::NotStarted => return RunVerdict::NotRun,
            RunStatus::Finished | RunStatus::Interrupted => {}
        }
        if s.failed > 0 || self.unclaimed_failures().next().is_some() {
            RunVerdict::Failed
        } else if self.interrupted
            || self.status == RunStatus::Interrupted
            || s.errors > 0
            || (s.skipped > 0 && !self.allow_skipped)
            || (self.scenarios.is_empty() && self.selection.partition.is_none())
        {
            RunVerdict::Incomplete
        } else {
            RunVerdict::Passed
        }
    }

    /// The unclaimed arrivals whose finding is worse than the threshold (a symbolic link or a
    /// FIFO in the outbox, an unreadable envelope, a file left unread): they fail the run as a
    /// failed scenario would. The plain "no scenario expected it" ([`crate::rule::EXPECTED_MESSAGE`])
    /// is a note and never fails it.
    pub fn unclaimed_failures(&self) -> impl Iterator<Item = &(Evidence, Finding)> {
        self.unclaimed.iter().filter(move |(_, f)| {
            f.grade.fails(self.threshold) && f.rule.as_ref() != crate::rule::EXPECTED_MESSAGE.id
        })
    }

    /// Whether the run passed: see [`RunOutcome::verdict`].
    pub fn passed(&self) -> bool {
        self.verdict() == RunVerdict::Passed
    }
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

fn from_seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let secs = f64::deserialize(d)?;
    Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
}
