//! FHIR R4 `TestReport`s: one per TestScript scenario, in `testreports/<script id>.json` beside
//! the JSON results (`reports/testreports/…` by default).
//!
//! Each report is built from the scenario's outcome and the script it ran (re-read from the
//! scenario's path for its canonical URL and test names): `status` `completed` (`stopped` when
//! the harness could not run it to its end), `result` `pass`/`fail` (`pending` when the scenario
//! ended in an error or was skipped: nothing was judged), `score` (the percentage of actions that
//! passed), `participant`s (test engine, client = the vendor's system, server = the harness),
//! and `setup`/`test`/`teardown` with one action per script action, each `operation` or `assert`
//! with `result` `pass`, `skip`, `fail`, `warning` (a finding graded F4) or `error` and a
//! `message`. Source: FHIR R4 (4.0.1) TestReport, <https://hl7.org/fhir/R4/testreport.html>.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};

use super::ReportError;
use crate::finding::Grade;
use crate::run::{RunOutcome, ScenarioOutcome, ScenarioStatus, StepOutcome, StepStatus};

/// The folder the TestReports go to, beside the JSON results at `json`.
pub fn folder(json: &Path) -> PathBuf {
    json.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join("testreports")
}

/// Writes a TestReport for every TestScript scenario of `run` into [`folder`]`(json)`; returns
/// how many. A run without TestScript scenarios writes nothing.
///
/// # Errors
/// [`ReportError::Write`] naming the file.
pub fn write_testreports(run: &RunOutcome, json: &Path) -> Result<usize, ReportError> {
    let dir = folder(json);
    // The folder holds this run's TestReports only: one left by an earlier run in the same folder
    // (another script, another selection) would read as part of this run.
    if let Ok(entries) = std::fs::read_dir(&dir) {
        let keep: std::collections::HashSet<String> = run
            .scenarios
            .iter()
            .filter(|s| s.tags.iter().any(|t| t == "testscript"))
            .map(|s| format!("{}.json", super::slug::slug(&s.id)))
            .collect();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") && !keep.contains(&name) && entry.path().is_file() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    let mut n = 0;
    for s in run
        .scenarios
        .iter()
        .filter(|s| s.tags.iter().any(|t| t == "testscript"))
    {
        let script = crate::testscript::load(Path::new(&s.path)).ok();
        let report = test_report(s, script.as_ref(), run);
        let path = dir.join(format!("{}.json", super::slug::slug(&s.id)));
        let text = serde_json::to_vec_pretty(&report).unwrap_or_default();
        super::write_report(&path, &text)?;
        n += 1;
    }
    Ok(n)
}

/// The result of one action.
fn action_result(step: &StepOutcome) -> &'static str {
    match step.status {
        StepStatus::Error => "error",
        StepStatus::Skipped => "skip",
        StepStatus::Ran => match step.verdict() {
            Grade::Ok => "pass",
            Grade::F4 => "warning",
            _ => "fail",
        },
    }
}

fn action_message(step: &StepOutcome) -> String {
    let mut lines = vec![step.summary.clone()];
    if let Some(r) = &step.reason {
        lines.push(r.clone());
    }
    lines.extend(
        step.findings
            .iter()
            .map(|f| format!("{} {}: {}", f.grade, f.rule, f.message)),
    );
    lines.join("\n")
}

/// The TestReport of one TestScript scenario.
pub fn test_report(
    s: &ScenarioOutcome,
    script: Option<&crate::testscript::TestScript>,
    run: &RunOutcome,
) -> Value {
    let mut setup = Vec::new();
    let mut teardown = Vec::new();
    let mut tests: Vec<(String, Vec<Value>)> = Vec::new();
    let mut passed = 0usize;
    for step in &s.steps {
        let result = action_result(step);
        if result == "pass" || result == "warning" {
            passed += 1;
        }
        let (section, kind) = step.kind.rsplit_once('.').unwrap_or(("test[0]", "assert"));
        let kind = if kind == "assert" {
            "assert"
        } else {
            "operation"
        };
        let action = json!({ kind: {"result": result, "message": action_message(step)} });
        if section == "setup" {
            setup.push(action);
        } else if section == "teardown" {
            // R4: a teardown action is an operation only.
            teardown
                .push(json!({"operation": {"result": result, "message": action_message(step)}}));
        } else {
            match tests.last_mut() {
                Some((name, actions)) if name == section => actions.push(action),
                _ => tests.push((section.to_string(), vec![action])),
            }
        }
    }
    let result = match s.status {
        ScenarioStatus::Passed => "pass",
        ScenarioStatus::Failed => "fail",
        ScenarioStatus::Error | ScenarioStatus::Skipped => "pending",
    };
    // R4 TestReport.status: `completed` when every action ran (a script whose own defects made
    // some asserts errors still ran to its end); `stopped` when the run ended it early (actions
    // left unrun) or never started it.
    let ran_to_end =
        !s.steps.is_empty() && s.steps.iter().all(|st| st.status != StepStatus::Skipped);
    let status = match s.status {
        ScenarioStatus::Passed | ScenarioStatus::Failed => "completed",
        ScenarioStatus::Error if ran_to_end => "completed",
        ScenarioStatus::Error | ScenarioStatus::Skipped => "stopped",
    };
    let score = if s.steps.is_empty() {
        0.0
    } else {
        ((passed as f64) * 10000.0 / (s.steps.len() as f64)).round() / 100.0
    };
    let test: Vec<Value> = tests
        .into_iter()
        .map(|(section, actions)| {
            let index = section
                .trim_start_matches("test[")
                .trim_end_matches(']')
                .parse::<usize>()
                .unwrap_or(0);
            // `test[N]` is 0-based, the script's JSON array index.
            let t = script.and_then(|sc| sc.test.get(index));
            let mut v = json!({"action": actions});
            if let Some(name) = t.and_then(|t| t.name.clone().or_else(|| t.id.clone())) {
                v["name"] = json!(name);
            }
            if let Some(d) = t.and_then(|t| t.description.clone()) {
                v["description"] = json!(d);
            }
            v
        })
        .collect();
    let script_ref = script
        .and_then(|sc| sc.url.clone())
        .unwrap_or_else(|| format!("TestScript/{}", s.id));
    let mut report = json!({
        "resourceType": "TestReport",
        "id": super::slug::slug(&s.id),
        "name": s.title,
        "status": status,
        "testScript": {"reference": script_ref},
        "result": result,
        "score": score,
        "tester": format!("medcom-harness {}", run.harness_version),
        "issued": run.started,
        "participant": [
            {"type": "test-engine", "uri": format!("urn:medcom-harness:{}", run.harness_version), "display": "medcom-harness"},
            {"type": "client", "uri": participant_uri(&run.target), "display": run.target},
            {"type": "server", "uri": "urn:medcom-harness:harness", "display": "medcom-harness, standing in for the network (the FHIR server of MedCom's scripts)"}
        ],
    });
    if !setup.is_empty() {
        report["setup"] = json!({"action": setup});
    }
    if !test.is_empty() {
        report["test"] = json!(test);
    }
    if !teardown.is_empty() {
        report["teardown"] = json!({"action": teardown});
    }
    report
}

/// A URI for the system under test: its endpoint URL, or a URN for the embedded vendor or a
/// folder.
fn participant_uri(target: &str) -> String {
    if target.starts_with("http://") || target.starts_with("https://") {
        target.to_string()
    } else {
        let slug: String = target
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        format!("urn:medcom-harness:target:{slug}")
    }
}
