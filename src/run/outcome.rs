//! Outcomes: the plain data a run produces and every reporter reads.
//!
//! The runner never prints. It returns a [`RunOutcome`] (and emits [`crate::run::Event`]s while it
//! works); the console, HTML, JUnit and JSON reporters are functions of this data. Outcomes are
//! ordered by scenario path, whatever the parallelism, so reports are deterministic.

use serde::Serialize;
use std::time::Duration;

use crate::finding::{Finding, Grade};

/// Which way an evidence item travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// From the harness to the vendor.
    Sent,
    /// From the vendor to the harness.
    Received,
}

/// One message (or body) as it travelled: the exact bytes, kept as evidence.
#[derive(Debug, Clone, Serialize)]
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The bytes. Not in the JSON report (see `file`).
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
            bytes,
        }
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

/// The status of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepStatus {
    /// Ran; its verdict is in its findings.
    Ran,
    /// Not run because an earlier step it depends on produced nothing (the reason says which).
    Skipped,
    /// The harness could not run it (a template error, a port in use): an error, not a verdict.
    Error,
}

/// One step of a scenario as it ran.
#[derive(Debug, Clone, Serialize)]
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Every finding of the step, passes (`OK`) included.
    pub findings: Vec<Finding>,
    /// Evidence ids of the messages this step sent or received.
    pub evidence: Vec<String>,
    /// Golden diffs produced by the step (unified diff text), by golden file.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diffs: Vec<GoldenDiff>,
    /// Wall time.
    #[serde(serialize_with = "seconds")]
    pub duration: Duration,
}

impl StepOutcome {
    /// The step's verdict: the worst grade of its findings.
    pub fn verdict(&self) -> Grade {
        crate::finding::worst(&self.findings)
    }
}

/// A golden comparison that found differences.
#[derive(Debug, Clone, Serialize)]
pub struct GoldenDiff {
    /// The golden file, as the scenario names it.
    pub golden: String,
    /// Unified diff (golden vs actual), normalized.
    pub diff: String,
}

/// How a scenario ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol_step: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Passed, failed, error or skipped.
    pub status: ScenarioStatus,
    /// The worst grade of all findings.
    pub verdict: Grade,
    /// Why it errored or was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The steps in file order.
    pub steps: Vec<StepOutcome>,
    /// Every message sent or received, in order.
    pub evidence: Vec<Evidence>,
    /// Wall time.
    #[serde(serialize_with = "seconds")]
    pub duration: Duration,
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

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct RunOutcome {
    /// Whether the run was stopped early (Ctrl-C): the scenarios it did not finish are errors.
    pub interrupted: bool,
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
    /// Wall time of the run.
    #[serde(serialize_with = "seconds")]
    pub duration: Duration,
}

impl RunOutcome {
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

    /// Whether the run passed: no failed or errored scenario.
    pub fn passed(&self) -> bool {
        let s = self.summary();
        s.failed == 0 && s.errors == 0
    }
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}
