//! The JUnit XML report for CI systems (`reports/junit.xml`).
//!
//! One `<testsuite name="medcom-harness">` with one `<testcase>` per scenario, in run order:
//! `name` is the scenario id, `classname` its standard (or, when it names none, the folder of its
//! file), `time` its wall time in seconds. A failed scenario is a `<failure>` whose `message` is the
//! first finding worse than the threshold (`RULE GRADE: message`), whose `type` is the scenario's
//! verdict grade and whose text lists every such finding, one a line (`RULE GRADE: message [step
//! N kind]`). A scenario the harness could not run is an `<error>` (kept apart from failures, as CI
//! systems do), a skipped one a `<skipped>`; both carry the reason. Every test case's `<system-out>` lists its steps and their
//! findings. The run's target, threshold, start and harness version are suite properties, and so
//! is the certification record (system under test, config hash, `[rules]`, IG packages); messages
//! no scenario claimed go to the suite's `<system-out>`. A run that is not a finished verdict (in
//! progress or killed, not run, stopped early, no scenario) adds one test case
//! `medcom-harness run` with an `<error>` naming why, so CI never reads it as green.

use std::fmt::Write as _;
use std::path::Path;

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, XmlString};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::ReportError;
use crate::finding::{Finding, Grade};
use crate::run::{RunOutcome, RunStatus, ScenarioOutcome, ScenarioStatus, StepOutcome, StepStatus};

/// The certification record as suite properties: `system.vendor`, `system.name`,
/// `system.version`, `system.test-type`, `system.tester` (those stated), `config`,
/// `config-sha256`, `rules.<key>`, one `ig-package` per package (`name#version`) and
/// `profile-validation` (`true`/`false`, with a `warning` when false). None without a record.
fn certification_properties(run: &RunOutcome) -> Vec<Property> {
    let Some(c) = &run.certification else {
        return Vec::new();
    };
    let s = &c.system;
    let mut out: Vec<Property> = [
        ("system.vendor", s.vendor.clone()),
        ("system.name", s.name.clone()),
        ("system.version", s.version.clone()),
        (
            "system.test-type",
            s.test_type.map(|t| t.as_str().to_owned()),
        ),
        ("system.tester", s.tester.clone()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| Property::new(k, v)))
    .collect();
    out.push(Property::new("config", c.config_file.as_str()));
    out.push(Property::new("config-sha256", c.config_sha256.as_str()));
    out.extend(
        c.rules
            .iter()
            .map(|(k, v)| Property::new(format!("rules.{k}"), v.as_str())),
    );
    out.extend(
        c.ig_packages
            .iter()
            .map(|p| Property::new("ig-package", p.reference())),
    );
    out.push(Property::new(
        "profile-validation",
        if c.profile_validation {
            "true"
        } else {
            "false"
        },
    ));
    if let Some(w) = c.warning() {
        out.push(Property::new("warning", w));
    }
    out
}

/// The suite name, and the report name, in the XML.
const SUITE: &str = "medcom-harness";

/// The JUnit XML report of `run`.
///
/// # Errors
///
/// [`ReportError::Junit`] when the XML cannot be serialized.
pub fn render_junit(run: &RunOutcome) -> Result<String, ReportError> {
    let mut out = Vec::new();
    stream_junit(run, &mut out).map_err(|e| ReportError::Junit { source: e.into() })?;
    Ok(String::from_utf8(out).expect("the XML writer writes UTF-8"))
}

/// Writes the JUnit XML report of `run` to `path` (conventionally `reports/junit.xml`), creating
/// the folder.
///
/// # Errors
///
/// [`ReportError::Junit`] when the XML cannot be serialized, [`ReportError::Write`] with `path`
/// when the folder cannot be created or the file written.
pub fn write_junit(run: &RunOutcome, path: &Path) -> Result<(), ReportError> {
    super::write_report_with(path, |w| stream_junit(run, w))
}

/// The kind of test case a scenario of `status` is: `None` for a pass.
fn kind(status: ScenarioStatus) -> Option<Kind> {
    match status {
        ScenarioStatus::Passed => None,
        ScenarioStatus::Failed => Some(Kind::Failure),
        ScenarioStatus::Error => Some(Kind::Error),
        ScenarioStatus::Skipped => Some(Kind::Skipped),
    }
}

/// A test case that did not pass.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Failure,
    Error,
    Skipped,
}

/// Writes the JUnit document of `run` to `out` one test case at a time: the counts the suite's
/// tag carries come from the scenarios' statuses first, then each scenario's test case is built
/// (as a `quick_junit` [`TestCase`], which cleans its text), written and dropped. The markup is
/// what `quick_junit` writes for a whole [`quick_junit::Report`] (indented by 4, an XML
/// declaration, a trailing line break): a run of 10,000 scenarios is never a document in memory.
fn stream_junit(run: &RunOutcome, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    stream_junit_with(run, out, &|i, w| {
        w.write_all(&case_item(&run.scenarios[i], run.threshold)?)
    })
}

/// A scenario's `<testcase>` as [`stream_junit`] writes it in the suite: with the line break and
/// the indentation before it, for a run whose threshold is `threshold`.
pub(super) fn case_item(s: &ScenarioOutcome, threshold: Grade) -> std::io::Result<Vec<u8>> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 4);
    // The writer's state where a test case goes in the document: two levels in (`testsuites`,
    // `testsuite`), a line break due.
    w.write_event(Event::Start(BytesStart::new("testsuites")))?;
    w.write_event(Event::Start(BytesStart::new("testsuite")))?;
    let start = w.get_ref().len();
    write_case(&mut w, &test_case(s, threshold))?;
    Ok(w.into_inner().split_off(start))
}

/// [`stream_junit`] with each scenario's test case written by `case`, by index into
/// `run.scenarios`, as [`case_item`] makes it.
pub(super) fn stream_junit_with(
    run: &RunOutcome,
    out: &mut dyn std::io::Write,
    case: &dyn Fn(usize, &mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let unfinished = unfinished(run);
    let count = |k: Kind| {
        run.scenarios
            .iter()
            .filter(|s| kind(s.status) == Some(k))
            .count()
    };
    let (failures, skipped) = (count(Kind::Failure), count(Kind::Skipped));
    let errors = count(Kind::Error) + usize::from(unfinished.is_some());
    let tests = run.scenarios.len() + usize::from(unfinished.is_some());
    let time = format!("{:.3}", run.duration.as_secs_f64());
    let counts = [
        ("tests", tests.to_string()),
        ("skipped", skipped.to_string()),
        ("failures", failures.to_string()),
        ("errors", errors.to_string()),
    ];
    let mut w = Writer::new_with_indent(out, b' ', 4);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let mut report = BytesStart::new("testsuites");
    report.push_attribute(("name", SUITE));
    report.extend_attributes(counts.iter().map(|(k, v)| (*k, v.as_str())));
    report.push_attribute(("time", time.as_str()));
    w.write_event(Event::Start(report))?;
    let mut suite = BytesStart::new("testsuite");
    suite.push_attribute(("name", SUITE));
    // The suite's tag lists its counts in another order than the report's.
    for k in ["tests", "skipped", "errors", "failures"] {
        let (_, v) = counts.iter().find(|(name, _)| *name == k).expect("a count");
        suite.push_attribute((k, v.as_str()));
    }
    suite.push_attribute(("time", time.as_str()));
    w.write_event(Event::Start(suite))?;
    let properties: Vec<Property> = [
        Property::new("target", run.target.as_str()),
        Property::new("threshold", run.threshold.as_str()),
        Property::new("started", run.started.as_str()),
        Property::new("harness-version", run.harness_version.as_str()),
        Property::new("verdict", super::verdict_word(run)),
    ]
    .into_iter()
    .chain(certification_properties(run))
    .collect();
    w.write_event(Event::Start(BytesStart::new("properties")))?;
    for p in &properties {
        let mut tag = BytesStart::new("property");
        tag.extend_attributes([("name", p.name.as_str()), ("value", p.value.as_str())]);
        w.write_event(Event::Empty(tag))?;
    }
    w.write_event(Event::End(BytesEnd::new("properties")))?;
    // A case leaves the writer's indentation as it found it (two levels in, a line break due).
    for i in 0..run.scenarios.len() {
        case(i, w.get_mut())?;
    }
    if let Some(why) = unfinished {
        // CI reads a suite with no failure and no error as green: a run that is not a verdict
        // is one test case in error.
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_type(super::verdict_word(run));
        status.set_message(why);
        let mut case = TestCase::new(RUN_CASE, status);
        case.set_classname(SUITE);
        write_case(&mut w, &case)?;
    }
    if !run.unclaimed.is_empty() {
        let mut text = String::from("messages no scenario claimed:\n");
        for (evidence, finding) in &run.unclaimed {
            let _ = writeln!(
                text,
                "  {} ({}): {}",
                evidence.id,
                evidence.label,
                finding_line(finding)
            );
        }
        write_text_element(&mut w, "system-out", &XmlString::new(text))?;
    }
    w.write_event(Event::End(BytesEnd::new("testsuite")))?;
    w.write_event(Event::End(BytesEnd::new("testsuites")))?;
    w.write_event(Event::Eof)?;
    w.write_indent()
}

/// Writes one test case as `quick_junit` does: a self-closing tag when it has no status and no
/// output; else its status element (with its description as text) and its `<system-out>`.
fn write_case<W: std::io::Write>(w: &mut Writer<W>, case: &TestCase) -> std::io::Result<()> {
    let mut tag = BytesStart::new("testcase");
    tag.push_attribute(("name", case.name.as_str()));
    if let Some(classname) = &case.classname {
        tag.push_attribute(("classname", classname.as_str()));
    }
    if let Some(time) = case.time {
        tag.push_attribute(("time", format!("{:.3}", time.as_secs_f64()).as_str()));
    }
    let status = match &case.status {
        TestCaseStatus::Success { .. } => None,
        TestCaseStatus::NonSuccess {
            kind,
            message,
            ty,
            description,
            ..
        } => Some((
            match kind {
                NonSuccessKind::Failure => "failure",
                NonSuccessKind::Error => "error",
            },
            message,
            ty,
            description,
        )),
        TestCaseStatus::Skipped {
            message,
            ty,
            description,
        } => Some(("skipped", message, ty, description)),
    };
    if status.is_none() && case.system_out.is_none() {
        return w.write_event(Event::Empty(tag));
    }
    w.write_event(Event::Start(tag))?;
    if let Some((name, message, ty, description)) = status {
        let mut tag = BytesStart::new(name);
        if let Some(message) = message {
            tag.push_attribute(("message", message.as_str()));
        }
        if let Some(ty) = ty {
            tag.push_attribute(("type", ty.as_str()));
        }
        match description {
            Some(description) => {
                w.write_event(Event::Start(tag))?;
                w.write_event(Event::Text(BytesText::new(description.as_str())))?;
                w.write_event(Event::End(BytesEnd::new(name)))?;
            }
            None => w.write_event(Event::Empty(tag))?,
        }
    }
    if let Some(out) = &case.system_out {
        write_text_element(w, "system-out", out)?;
    }
    w.write_event(Event::End(BytesEnd::new("testcase")))
}

/// `<name>text</name>`, the text escaped.
fn write_text_element<W: std::io::Write>(
    w: &mut Writer<W>,
    name: &str,
    text: &XmlString,
) -> std::io::Result<()> {
    w.write_event(Event::Start(BytesStart::new(name)))?;
    w.write_event(Event::Text(BytesText::new(text.as_str())))?;
    w.write_event(Event::End(BytesEnd::new(name)))
}

/// The name of the test case that stands for a run which is not a verdict.
const RUN_CASE: &str = "medcom-harness run";

/// Why `run` is not a finished verdict (in progress, not run, stopped early, nothing ran), as the
/// `<error>` message of the run's own test case; `None` for a finished run with scenarios.
fn unfinished(run: &RunOutcome) -> Option<String> {
    let note = run.note.as_deref();
    match run.status {
        RunStatus::InProgress => Some(
            "IN PROGRESS: the run has not written its final reports (still under way, or killed); \
             `medcom-harness run --resume` finishes a killed run"
                .to_owned(),
        ),
        RunStatus::NotStarted => Some(format!(
            "NOT RUN: {}",
            note.unwrap_or("the run could not start")
        )),
        RunStatus::Interrupted => Some(format!(
            "INCOMPLETE: the run was stopped early: {}",
            note.unwrap_or("interrupted")
        )),
        RunStatus::Finished if run.interrupted => {
            Some("INCOMPLETE: the run was stopped early: interrupted".to_owned())
        }
        RunStatus::Finished if run.scenarios.is_empty() => {
            Some("INCOMPLETE: no scenario ran".to_owned())
        }
        RunStatus::Finished => None,
    }
}

fn test_case(s: &ScenarioOutcome, threshold: Grade) -> TestCase {
    let status = match s.status {
        ScenarioStatus::Passed => TestCaseStatus::success(),
        ScenarioStatus::Failed => {
            let failures: Vec<(&StepOutcome, &Finding)> = s.failures(threshold).collect();
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_type(s.verdict.as_str());
            match failures.first() {
                Some((_, first)) => {
                    status.set_message(finding_line(first));
                    let text: Vec<String> = failures
                        .iter()
                        .map(|(step, f)| {
                            format!("{} [step {} {}]", finding_line(f), step.index, step.kind)
                        })
                        .collect();
                    status.set_description(text.join("\n"));
                }
                None => {
                    status.set_message(s.reason.clone().unwrap_or_else(|| {
                        format!(
                            "verdict {} is worse than the threshold {}",
                            s.verdict, threshold
                        )
                    }));
                }
            }
            status
        }
        ScenarioStatus::Error => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(
                s.reason
                    .as_deref()
                    .unwrap_or("the harness could not run the scenario"),
            );
            let errors: Vec<String> = s
                .steps
                .iter()
                .filter(|step| step.status == StepStatus::Error)
                .map(|step| match &step.error {
                    Some(e) => e.to_string(),
                    None => format!(
                        "step {} `{}`: {}",
                        step.index,
                        step.kind,
                        step.reason.as_deref().unwrap_or("error")
                    ),
                })
                .collect();
            if !errors.is_empty() {
                status.set_description(errors.join("\n"));
            }
            status
        }
        ScenarioStatus::Skipped => {
            let mut status = TestCaseStatus::skipped();
            if let Some(reason) = &s.reason {
                status.set_message(reason.as_str());
            }
            status
        }
    };
    let mut case = TestCase::new(s.id.as_str(), status);
    case.set_classname(classname(s));
    case.set_time(s.duration);
    let steps = steps_text(s);
    if !steps.is_empty() {
        case.set_system_out(steps);
    }
    case
}

/// The scenario's standard, or the folder of its file when it names none.
fn classname(s: &ScenarioOutcome) -> String {
    if !s.standard.trim().is_empty() {
        return s.standard.clone();
    }
    match s.path.rsplit_once(['/', '\\']) {
        Some((folder, _)) if !folder.is_empty() => folder.to_owned(),
        _ => SUITE.to_owned(),
    }
}

/// `RULE GRADE: message`, with the location when the finding has one.
fn finding_line(f: &Finding) -> String {
    match &f.location {
        Some(at) => format!("{} {}: {} (at {at})", f.rule, f.grade, f.message),
        None => format!("{} {}: {}", f.rule, f.grade, f.message),
    }
}

/// One line per step (`2. expect-ack [ran, F2, 0.520 s] summary`), its reason and its findings
/// indented below it.
fn steps_text(s: &ScenarioOutcome) -> String {
    let mut out = String::new();
    for step in &s.steps {
        let state = match step.status {
            StepStatus::Ran => format!("ran, {}", step.verdict()),
            StepStatus::Skipped => "skipped".to_owned(),
            StepStatus::Error => "error".to_owned(),
        };
        let _ = writeln!(
            out,
            "{}. {} [{state}, {:.3} s] {}",
            step.index,
            step.kind,
            step.duration.as_secs_f64(),
            step.summary
        );
        if let Some(reason) = &step.reason {
            let _ = writeln!(out, "   reason: {reason}");
        }
        for f in &step.findings {
            let _ = writeln!(out, "   {}", finding_line(f));
        }
        for d in &step.diffs {
            let _ = writeln!(
                out,
                "   golden diff against {} (see the HTML report)",
                d.golden
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    fn parse(xml: &str) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(xml).expect("the JUnit report is well-formed XML")
    }

    fn count(doc: &roxmltree::Document<'_>, name: &str) -> usize {
        doc.descendants().filter(|n| n.has_tag_name(name)).count()
    }

    #[test]
    fn a_test_case_made_apart_is_the_test_case_the_suite_writes() {
        let run = sample::run();
        for s in &run.scenarios {
            let open = |w: &mut Writer<Vec<u8>>| {
                w.write_event(Event::Start(BytesStart::new("testsuites")))
                    .and_then(|()| w.write_event(Event::Start(BytesStart::new("testsuite"))))
                    .expect("written")
            };
            let close = |w: &mut Writer<Vec<u8>>| {
                w.write_event(Event::End(BytesEnd::new("testsuite")))
                    .and_then(|()| w.write_event(Event::End(BytesEnd::new("testsuites"))))
                    .expect("written")
            };
            let mut whole = Writer::new_with_indent(Vec::new(), b' ', 4);
            open(&mut whole);
            for _ in 0..2 {
                write_case(&mut whole, &test_case(s, run.threshold)).expect("written");
            }
            close(&mut whole);
            let mut apart = Writer::new_with_indent(Vec::new(), b' ', 4);
            open(&mut apart);
            for _ in 0..2 {
                let item = case_item(s, run.threshold).expect("made");
                apart.get_mut().extend_from_slice(&item);
            }
            close(&mut apart);
            assert_eq!(
                String::from_utf8(whole.into_inner()).expect("UTF-8"),
                String::from_utf8(apart.into_inner()).expect("UTF-8"),
                "{}",
                s.id
            );
        }
    }

    #[test]
    fn one_testcase_per_scenario_with_failure_error_and_skip_kept_apart() {
        let run = sample::run();
        let xml = render_junit(&run).expect("renders");
        let doc = parse(&xml);
        assert_eq!(count(&doc, "testsuite"), 1);
        assert_eq!(count(&doc, "testcase"), 4);
        assert_eq!(count(&doc, "failure"), 1);
        assert_eq!(count(&doc, "error"), 1);
        assert_eq!(count(&doc, "skipped"), 1);
        let names: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .filter_map(|n| n.attribute("name"))
            .collect();
        let ids: Vec<&str> = run.scenarios.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(names, ids);
        let suite = doc
            .descendants()
            .find(|n| n.has_tag_name("testsuite"))
            .expect("a suite");
        assert_eq!(suite.attribute("name"), Some(SUITE));
        assert_eq!(suite.attribute("tests"), Some("4"));
        assert_eq!(suite.attribute("failures"), Some("1"));
        assert_eq!(suite.attribute("errors"), Some("1"));
    }

    #[test]
    fn failure_message_is_the_first_failing_finding_and_survives_escaping() {
        let run = sample::run();
        let xml = render_junit(&run).expect("renders");
        let doc = parse(&xml);
        let failure = doc
            .descendants()
            .find(|n| n.has_tag_name("failure"))
            .expect("a failure");
        let case = failure.parent().expect("inside a testcase");
        assert_eq!(case.attribute("name"), Some(run.scenarios[1].id.as_str()));
        let message = failure.attribute("message").expect("a message");
        let rule = crate::rule::CC_REPLY_NO_RESEND.id;
        assert!(
            message.starts_with(&format!("{rule} F2: ")),
            "message `{message}`"
        );
        assert!(
            message.contains(sample::HOSTILE),
            "escaping mangled `{message}`"
        );
        assert_eq!(failure.attribute("type"), Some("F2"));
        let text = failure.text().unwrap_or_default();
        let failing = run.scenarios[1].failures(run.threshold).count();
        assert_eq!(text.lines().count(), failing);
    }

    #[test]
    fn error_and_skip_carry_their_reason() {
        let run = sample::run();
        let xml = render_junit(&run).expect("renders");
        let doc = parse(&xml);
        let error = doc
            .descendants()
            .find(|n| n.has_tag_name("error"))
            .expect("an error");
        assert_eq!(
            error.attribute("message"),
            run.scenarios[2].reason.as_deref()
        );
        assert_eq!(
            error.parent().and_then(|c| c.attribute("name")),
            Some(sample::ODD_ID)
        );
        let skipped = doc
            .descendants()
            .find(|n| n.has_tag_name("skipped"))
            .expect("a skip");
        assert_eq!(
            skipped.attribute("message"),
            run.scenarios[3].reason.as_deref()
        );
    }

    #[test]
    fn steps_go_to_system_out_and_classname_is_the_standard() {
        let run = sample::run();
        let xml = render_junit(&run).expect("renders");
        let doc = parse(&xml);
        let case = doc
            .descendants()
            .find(|n| n.has_tag_name("testcase"))
            .expect("a testcase");
        assert_eq!(
            case.attribute("classname"),
            Some(run.scenarios[0].standard.as_str())
        );
        let out = case
            .children()
            .find(|n| n.has_tag_name("system-out"))
            .and_then(|n| n.text())
            .expect("system-out");
        for step in &run.scenarios[0].steps {
            assert!(
                out.contains(&step.summary),
                "step {} missing from system-out",
                step.index
            );
        }
    }

    fn run_error(run: &RunOutcome) -> (usize, usize, Option<String>) {
        let xml = render_junit(run).expect("renders");
        let doc = parse(&xml);
        let suite = doc
            .descendants()
            .find(|n| n.has_tag_name("testsuite"))
            .expect("a suite");
        let errors: usize = suite
            .attribute("errors")
            .and_then(|e| e.parse().ok())
            .expect("errors attribute");
        let message = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .find(|n| n.attribute("name") == Some(RUN_CASE))
            .and_then(|c| c.children().find(|n| n.has_tag_name("error")))
            .and_then(|e| e.attribute("message").map(str::to_owned));
        (count(&doc, "testcase"), errors, message)
    }

    #[test]
    fn an_in_progress_run_is_one_testcase_in_error_not_an_empty_green_suite() {
        let run = RunOutcome::placeholder(
            RunStatus::InProgress,
            "embedded reference vendor".into(),
            crate::finding::Grade::F2,
            None,
        );
        let (cases, errors, message) = run_error(&run);
        assert_eq!((cases, errors), (1, 1));
        assert!(message.expect("an error").starts_with("IN PROGRESS"));
    }

    #[test]
    fn a_run_that_did_not_start_is_an_error_naming_its_cause() {
        let run = RunOutcome::placeholder(
            RunStatus::NotStarted,
            "http://127.0.0.1:1/fhir".into(),
            crate::finding::Grade::F2,
            Some("the vendor is unreachable".into()),
        );
        let (cases, errors, message) = run_error(&run);
        assert_eq!((cases, errors), (1, 1));
        assert_eq!(
            message.as_deref(),
            Some("NOT RUN: the vendor is unreachable")
        );
    }

    #[test]
    fn an_interrupted_run_adds_an_incomplete_error_beside_its_scenarios() {
        let mut run = sample::run();
        run.status = RunStatus::Interrupted;
        run.note = Some("interrupted (Ctrl-C)".into());
        let (cases, errors, message) = run_error(&run);
        assert_eq!(cases, run.scenarios.len() + 1);
        assert_eq!(errors, 2, "the sample's own error and the run's");
        assert!(message.expect("an error").starts_with("INCOMPLETE"));
    }

    #[test]
    fn a_finished_run_has_no_run_testcase() {
        let run = sample::run();
        let (cases, _, message) = run_error(&run);
        assert_eq!(cases, run.scenarios.len());
        assert_eq!(message, None);
    }

    #[test]
    fn classname_falls_back_to_the_scenario_folder() {
        let mut s = sample::run().scenarios.remove(0);
        s.standard = String::new();
        s.path = "scenarios/acknowledgement/duplicate.toml".to_owned();
        assert_eq!(classname(&s), "scenarios/acknowledgement");
    }
}
