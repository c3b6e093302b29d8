//! The HTML report: one self-contained file a vendor hands to MedCom.
//!
//! The page is `report.html.hbs` (embedded at build time) rendered by handlebars with its default
//! HTML escaping over a view built here from the [`RunOutcome`]; every value from a run (ids,
//! messages, evidence bytes, diffs) goes through `{{…}}`, never `{{{…}}}`, so nothing a vendor's
//! system sent can become markup. The file has inline CSS, no script and no external resource; the
//! only links are anchors within the page. Grades and statuses are always written as text, so the
//! report reads the same printed in black and white.
//!
//! Order, top to bottom: header (target, harness version, start, threshold, duration), summary
//! (verdict, counts, scenario table, every finding worse than the threshold), then one section per
//! scenario (failing findings first, then steps with findings and golden diffs, then evidence),
//! unclaimed messages, and the rules the findings cite.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use handlebars::Handlebars;
use serde::Serialize;

use super::ReportError;
use super::slug::Slugs;
use crate::finding::{Finding, Grade};
use crate::run::{
    Direction, Evidence, RunOutcome, RunVerdict, ScenarioOutcome, ScenarioStatus, StepOutcome,
    StepStatus,
};

const TEMPLATE: &str = include_str!("report.html.hbs");

/// The HTML report of `run` as a string: a complete, self-contained document.
pub fn render_html(run: &RunOutcome) -> String {
    let mut registry = Handlebars::new();
    // Strict in tests, so a misspelt field in the template fails them; lenient in use, so a report
    // is never lost to a template slip.
    registry.set_strict_mode(cfg!(test));
    registry.set_prevent_indent(true);
    registry
        .register_partial("certification", super::certification::TEMPLATE)
        .expect("the embedded certification template parses (checked by the tests)");
    registry
        .register_template_string("report", TEMPLATE)
        .expect("the embedded report template parses (checked by the tests)");
    registry
        .render("report", &Page::new(run))
        .expect("the report view has every field the template uses (checked by the tests)")
}

/// Writes the HTML report of `run` to `path` (conventionally `reports/report.html`), creating the
/// folder.
///
/// # Errors
///
/// [`ReportError::Write`] with `path` when the folder cannot be created or the file written.
pub fn write_html(run: &RunOutcome, path: &Path) -> Result<(), ReportError> {
    super::write_report(path, render_html(run).as_bytes())
}

#[derive(Serialize)]
struct Page<'a> {
    /// Who and what was tested, and the protocol coverage table (runs of the command line).
    certification: Option<super::certification::CertificationView>,
    target: &'a str,
    harness_version: &'a str,
    started: &'a str,
    threshold: GradeView,
    duration: String,
    verdict: &'static str,
    verdict_class: &'static str,
    /// A sentence under the header when the run is not a plain pass or fail: in progress, not
    /// run, incomplete.
    banner: Option<String>,
    /// Scenarios the target cannot take, left out of the run.
    not_applicable: &'a [crate::run::NotApplicable],
    /// "N scenarios left out by --filter/--skip …", when they left any out.
    left_out: Option<String>,
    /// The unclaimed arrivals that failed the run, one sentence each.
    unclaimed_failures: Vec<String>,
    passed: usize,
    failed: usize,
    errors: usize,
    skipped: usize,
    total: usize,
    scenarios: Vec<ScenarioView<'a>>,
    failing: Vec<FailingView<'a>>,
    unclaimed: Vec<UnclaimedView<'a>>,
    rules: Vec<RuleView<'a>>,
}

#[derive(Serialize)]
struct ScenarioView<'a> {
    number: usize,
    anchor: String,
    id: &'a str,
    title: &'a str,
    path: &'a str,
    standard: &'a str,
    protocol_step: Option<&'a str>,
    tags: &'a [String],
    status: &'static str,
    status_word: &'static str,
    verdict: GradeView,
    /// Whether to show the verdict badge: a scenario that ran to its end and has findings. A
    /// skipped scenario's `OK` would read as a pass.
    has_findings: bool,
    reason: Option<Text<'a>>,
    duration: String,
    failing: Vec<FailingView<'a>>,
    steps: Vec<StepView<'a>>,
    evidence: Vec<EvidenceView<'a>>,
}

#[derive(Serialize)]
struct StepView<'a> {
    index: usize,
    kind: &'a str,
    summary: Text<'a>,
    status: &'static str,
    reason: Option<Text<'a>>,
    duration: String,
    verdict: GradeView,
    findings: Vec<FindingView<'a>>,
    diffs: Vec<DiffView<'a>>,
    evidence: Vec<LinkView<'a>>,
}

/// A finding worse than the threshold, with where it happened.
#[derive(Serialize, Clone)]
struct FailingView<'a> {
    scenario_id: &'a str,
    scenario_anchor: String,
    step: usize,
    kind: &'a str,
    finding: FindingView<'a>,
}

#[derive(Serialize, Clone)]
struct FindingView<'a> {
    grade: GradeView,
    failing: bool,
    rule: &'a str,
    statement: Option<&'a str>,
    message: Text<'a>,
    location: Option<&'a str>,
    evidence: Vec<LinkView<'a>>,
}

/// A link to an evidence item; `anchor` is `None` when the id names no evidence of the scenario.
#[derive(Serialize, Clone)]
struct LinkView<'a> {
    id: &'a str,
    anchor: Option<String>,
}

#[derive(Serialize, Clone, Copy)]
pub(super) struct GradeView {
    text: &'static str,
    class: &'static str,
    title: &'static str,
}

#[derive(Serialize)]
struct DiffView<'a> {
    golden: &'a str,
    lines: Vec<DiffLine<'a>>,
}

#[derive(Serialize)]
struct DiffLine<'a> {
    class: &'static str,
    text: &'a str,
}

#[derive(Serialize)]
struct EvidenceView<'a> {
    anchor: String,
    id: &'a str,
    direction: &'static str,
    label: Text<'a>,
    media_type: &'a str,
    size: usize,
    sha256: &'a str,
    pretty: String,
}

#[derive(Serialize)]
struct UnclaimedView<'a> {
    finding: FindingView<'a>,
    evidence: EvidenceView<'a>,
}

#[derive(Serialize)]
struct RuleView<'a> {
    id: &'a str,
    grade: GradeView,
    statement: Text<'a>,
    source: &'a str,
}

/// Text in pieces: a piece between backticks is `code` (findings and summaries quote values
/// that way), shown in a monospace font without the backticks.
type Text<'a> = Vec<Piece<'a>>;

#[derive(Serialize, Clone)]
struct Piece<'a> {
    text: &'a str,
    code: bool,
}

impl<'a> Page<'a> {
    fn new(run: &'a RunOutcome) -> Page<'a> {
        let mut slugs = Slugs::default();
        for reserved in [
            "summary",
            "failing",
            "scenarios",
            "unclaimed",
            "rules",
            "not-applicable",
            "certification",
            "coverage",
        ] {
            slugs.unique(reserved);
        }
        let scenarios: Vec<ScenarioView<'a>> = run
            .scenarios
            .iter()
            .enumerate()
            .map(|(i, s)| ScenarioView::new(i + 1, s, run.threshold, &mut slugs))
            .collect();
        let failing = scenarios
            .iter()
            .flat_map(|s| s.failing.iter().cloned())
            .collect();
        let unclaimed = run
            .unclaimed
            .iter()
            .map(|(evidence, finding)| {
                let anchor = slugs.unique(&format!("unclaimed.{}", evidence.id));
                let anchors = HashMap::from([(evidence.id.as_str(), anchor.clone())]);
                UnclaimedView {
                    finding: FindingView::new(finding, run.threshold, &anchors),
                    evidence: EvidenceView::new(evidence, anchor),
                }
            })
            .collect();
        let summary = run.summary();
        Page {
            certification: super::certification::CertificationView::of(run),
            target: &run.target,
            harness_version: &run.harness_version,
            started: &run.started,
            threshold: GradeView::of(run.threshold),
            duration: duration(run.duration),
            verdict: super::verdict_word(run),
            verdict_class: match run.verdict() {
                RunVerdict::Passed => "passed",
                RunVerdict::Failed => "failed",
                RunVerdict::Incomplete | RunVerdict::InProgress | RunVerdict::NotRun => {
                    "incomplete"
                }
            },
            banner: banner(run),
            not_applicable: &run.not_applicable,
            left_out: left_out(&run.selection),
            unclaimed_failures: run
                .unclaimed_failures()
                .map(|(e, f)| {
                    format!(
                        "{} {}: {} ({})",
                        f.grade.as_str(),
                        f.rule,
                        f.message,
                        e.label
                    )
                })
                .collect(),
            passed: summary.passed,
            failed: summary.failed,
            errors: summary.errors,
            skipped: summary.skipped,
            total: run.scenarios.len(),
            scenarios,
            failing,
            unclaimed,
            rules: cited_rules(run),
        }
    }
}

impl<'a> ScenarioView<'a> {
    fn new(
        number: usize,
        s: &'a ScenarioOutcome,
        threshold: Grade,
        slugs: &mut Slugs,
    ) -> ScenarioView<'a> {
        let anchor = slugs.unique(&s.id);
        let evidence: Vec<EvidenceView<'a>> = s
            .evidence
            .iter()
            .map(|e| EvidenceView::new(e, slugs.unique(&format!("{anchor}.{}", e.id))))
            .collect();
        let anchors: HashMap<&str, String> =
            evidence.iter().map(|e| (e.id, e.anchor.clone())).collect();
        let failing = s
            .failures(threshold)
            .map(|(step, f)| FailingView {
                scenario_id: &s.id,
                scenario_anchor: anchor.clone(),
                step: step.index,
                kind: &step.kind,
                finding: FindingView::new(f, threshold, &anchors),
            })
            .collect();
        ScenarioView {
            number,
            id: &s.id,
            title: &s.title,
            path: &s.path,
            standard: &s.standard,
            protocol_step: s.protocol_step.as_deref(),
            tags: &s.tags,
            status: status_class(s.status),
            status_word: status_word(s.status),
            verdict: GradeView::of(s.verdict),
            has_findings: s.findings().next().is_some()
                && matches!(s.status, ScenarioStatus::Passed | ScenarioStatus::Failed),
            reason: s.reason.as_deref().map(pieces),
            duration: duration(s.duration),
            failing,
            steps: s
                .steps
                .iter()
                .map(|step| StepView::new(step, threshold, &anchors))
                .collect(),
            evidence,
            anchor,
        }
    }
}

impl<'a> StepView<'a> {
    fn new(
        step: &'a StepOutcome,
        threshold: Grade,
        anchors: &HashMap<&str, String>,
    ) -> StepView<'a> {
        StepView {
            index: step.index,
            kind: &step.kind,
            summary: pieces(&step.summary),
            status: match step.status {
                StepStatus::Ran => "ran",
                StepStatus::Skipped => "skipped",
                StepStatus::Error => "error",
            },
            reason: step.reason.as_deref().map(pieces),
            duration: duration(step.duration),
            verdict: GradeView::of(step.verdict()),
            findings: step
                .findings
                .iter()
                .map(|f| FindingView::new(f, threshold, anchors))
                .collect(),
            diffs: step
                .diffs
                .iter()
                .map(|d| DiffView {
                    golden: &d.golden,
                    lines: d.diff.lines().map(DiffLine::new).collect(),
                })
                .collect(),
            evidence: links(&step.evidence, anchors),
        }
    }
}

impl<'a> FindingView<'a> {
    fn new(f: &'a Finding, threshold: Grade, anchors: &HashMap<&str, String>) -> FindingView<'a> {
        FindingView {
            grade: GradeView::of(f.grade),
            failing: f.grade.fails(threshold),
            rule: f.rule.as_str(),
            statement: f.rule.statement(),
            message: pieces(&f.message),
            location: f.location.as_deref(),
            evidence: links(&f.evidence, anchors),
        }
    }
}

impl<'a> DiffLine<'a> {
    /// A line of a unified diff, classed by its first characters: file header, hunk header,
    /// added, removed or context.
    fn new(text: &'a str) -> DiffLine<'a> {
        let class = if text.starts_with("+++") || text.starts_with("---") {
            "file"
        } else if text.starts_with("@@") {
            "hunk"
        } else if text.starts_with('+') {
            "add"
        } else if text.starts_with('-') {
            "del"
        } else {
            "ctx"
        };
        DiffLine { class, text }
    }
}

impl<'a> EvidenceView<'a> {
    fn new(e: &'a Evidence, anchor: String) -> EvidenceView<'a> {
        EvidenceView {
            anchor,
            id: &e.id,
            direction: match e.direction {
                Direction::Sent => "sent",
                Direction::Received => "received",
            },
            label: pieces(&e.label),
            media_type: &e.media_type,
            size: e.size,
            sha256: &e.sha256,
            pretty: shown(e),
        }
    }
}

/// The most of one evidence item the page shows, in bytes: a 50 MB answer must not make a
/// 50 MB page. The whole item is in `evidence/` beside the JSON results.
const SHOWN_BYTES: usize = crate::run::PREVIEW_BYTES;

fn shown(e: &Evidence) -> String {
    if e.bytes.len() <= SHOWN_BYTES && !e.is_preview() {
        return e.pretty();
    }
    let head = String::from_utf8_lossy(&e.bytes[..e.bytes.len().min(SHOWN_BYTES)]).into_owned();
    format!(
        "{head}\n\n[… {} more bytes not shown; the whole item is in the evidence folder beside the JSON results, SHA-256 {}]",
        e.size.max(e.bytes.len()) - e.bytes.len().min(SHOWN_BYTES),
        e.sha256
    )
}

/// The sentence saying what `--filter`/`--skip` left out, when they left out any scenario.
fn left_out(selection: &crate::run::Selection) -> Option<String> {
    let texts = |flag: &str, list: &[String]| {
        (!list.is_empty()).then(|| {
            let quoted: Vec<String> = list.iter().map(|t| format!("`{t}`")).collect();
            format!("{flag} {}", quoted.join(", "))
        })
    };
    let given: Vec<String> = [
        texts("--filter", &selection.filter),
        texts("--skip", &selection.skip),
    ]
    .into_iter()
    .flatten()
    .collect();
    (selection.left_out > 0).then(|| {
        format!(
            "{} scenario(s) left out by --filter/--skip ({}): the verdict covers only the scenarios that were selected.",
            selection.left_out,
            given.join("; ")
        )
    })
}

/// The sentence under the header for a run that is not a plain pass or fail.
fn banner(run: &RunOutcome) -> Option<String> {
    let s = run.summary();
    let note = run
        .note
        .as_deref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    match run.verdict() {
        RunVerdict::Passed | RunVerdict::Failed
            if run.status == crate::run::RunStatus::Finished =>
        {
            (!run.not_applicable.is_empty()).then(|| {
                format!(
                    "{} scenario(s) do not apply to this target and were not run (listed in the summary); the verdict covers the {} that ran.",
                    run.not_applicable.len(),
                    run.scenarios.len()
                )
            })
        }
        RunVerdict::InProgress => Some(
            "In progress / not finished: this report was written when the run started and is replaced when it ends. If it is still here, the run was killed: medcom-harness run --resume finishes it."
                .into(),
        ),
        RunVerdict::NotRun => Some(format!("Not run: the harness could not start the run{note}. No scenario ran; nothing here is a verdict on the vendor.")),
        RunVerdict::Incomplete
            if run.scenarios.is_empty() && !run.not_applicable.is_empty() =>
        {
            Some(format!(
                "Incomplete: no scenario ran: every scenario needs an exchange folder ({} not applicable to this target, listed in the summary). Run with `--target DIR` to test them.",
                run.not_applicable.len()
            ))
        }
        _ => Some(format!(
            "Incomplete: not every scenario ran to its end ({} skipped, {} could not run{}){note}. A run passes only when every scenario ran and passed{}.",
            s.skipped,
            s.errors,
            if run.interrupted || run.status == crate::run::RunStatus::Interrupted { ", the run was stopped early" } else { "" },
            if run.allow_skipped || s.skipped == 0 { "" } else { "; --allow-skipped lets skipped scenarios pass" }
        )),
    }
}

impl GradeView {
    pub(super) fn of(grade: Grade) -> GradeView {
        let (class, title) = match grade {
            Grade::Ok => ("ok", "OK: the rule holds"),
            Grade::F4 => ("f4", "F4: minor (mindre betydelig)"),
            Grade::F3 => ("f3", "F3: significant (betydelig)"),
            Grade::F2 => ("f2", "F2: serious (alvorlig)"),
            Grade::F1 => ("f1", "F1: critical (kritisk)"),
        };
        GradeView {
            text: grade.as_str(),
            class,
            title,
        }
    }
}

/// `text` split at backticks into plain and code pieces. An unpaired backtick stays in the text.
fn pieces(text: &str) -> Text<'_> {
    let parts: Vec<&str> = text.split('`').collect();
    // `n` parts are separated by `n - 1` backticks; with an odd number of backticks the last one
    // opens nothing, and the last part keeps it.
    let paired = if parts.len().is_multiple_of(2) {
        parts.len() - 1
    } else {
        parts.len()
    };
    let mut out: Text<'_> = parts[..paired]
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.is_empty())
        .map(|(i, p)| Piece {
            text: p,
            code: i % 2 == 1,
        })
        .collect();
    if let Some(last) = parts.get(paired) {
        out.push(Piece {
            text: &text[text.len() - last.len() - 1..],
            code: false,
        });
    }
    out
}

fn links<'a>(ids: &'a [String], anchors: &HashMap<&str, String>) -> Vec<LinkView<'a>> {
    ids.iter()
        .map(|id| LinkView {
            id,
            anchor: anchors.get(id.as_str()).cloned(),
        })
        .collect()
}

/// What the report says of an invariant whose IG text was not at hand.
const NO_IG_TEXT: &str = "An invariant of a loaded profile; the IG's text of it was not available when the finding was made.";

/// Every rule that the run's findings cite: catalogue rules (envelope rules included) in
/// catalogue order with their default grade, then profile invariants by key with the IG's text
/// and the worst grade they were given.
fn cited_rules(run: &RunOutcome) -> Vec<RuleView<'_>> {
    let findings: Vec<&Finding> = run
        .scenarios
        .iter()
        .flat_map(|s| s.findings().map(|(_, f)| f))
        .chain(run.unclaimed.iter().map(|(_, f)| f))
        .collect();
    let cited: BTreeSet<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
    let catalogue = crate::rule::ALL
        .iter()
        .filter(|r| cited.contains(r.id))
        .map(|r| RuleView {
            id: r.id,
            grade: GradeView::of(r.grade),
            statement: pieces(r.statement),
            source: r.source,
        });
    let mut invariants: Vec<RuleView> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut sorted: Vec<&&Finding> = findings
        .iter()
        .filter(|f| f.rule.rule().is_none())
        .collect();
    sorted.sort_by(|a, b| a.rule.cmp(&b.rule).then(b.grade.cmp(&a.grade)));
    for f in sorted {
        let worst = f.grade;
        if !seen.insert(f.rule.as_str()) {
            continue;
        }
        invariants.push(RuleView {
            id: f.rule.as_str(),
            grade: GradeView::of(worst),
            statement: pieces(
                findings
                    .iter()
                    .filter(|g| g.rule == f.rule)
                    .find_map(|g| g.rule.statement())
                    .unwrap_or(NO_IG_TEXT),
            ),
            source: f.rule.source(),
        });
    }
    catalogue.chain(invariants).collect()
}

fn status_class(status: ScenarioStatus) -> &'static str {
    match status {
        ScenarioStatus::Passed => "passed",
        ScenarioStatus::Failed => "failed",
        ScenarioStatus::Error => "error",
        ScenarioStatus::Skipped => "skipped",
    }
}

fn status_word(status: ScenarioStatus) -> &'static str {
    match status {
        ScenarioStatus::Passed => "PASSED",
        ScenarioStatus::Failed => "FAILED",
        ScenarioStatus::Error => "ERROR",
        ScenarioStatus::Skipped => "SKIPPED",
    }
}

/// A duration for people: `0.12 s`, `59.90 s`, `2 min 05 s`.
fn duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.2} s")
    } else {
        let whole = d.as_secs();
        format!("{} min {:02} s", whole / 60, whole % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;
    use scraper::{Html, Selector};

    fn select<'h>(doc: &'h Html, css: &str) -> Vec<scraper::ElementRef<'h>> {
        let selector = Selector::parse(css).expect("test selectors are valid CSS");
        doc.select(&selector).collect()
    }

    fn text(el: &scraper::ElementRef<'_>) -> String {
        el.text().collect()
    }

    /// The sample run with only its passed scenario: a plain pass.
    fn passing_run() -> RunOutcome {
        let mut run = sample::run();
        run.scenarios
            .retain(|s| s.status == crate::run::ScenarioStatus::Passed);
        run
    }

    #[test]
    fn scenarios_left_out_by_filter_or_skip_are_said_in_the_header() {
        let mut run = passing_run();
        run.selection = crate::run::Selection {
            filter: Vec::new(),
            skip: vec!["cc-".into()],
            left_out: 12,
        };
        let doc = Html::parse_document(&render_html(&run));
        let header: String = select(&doc, "header p.left-out").iter().map(text).collect();
        assert!(
            header.contains("12 scenario(s) left out by --filter/--skip")
                && header.contains("--skip `cc-`"),
            "header says {header:?}"
        );
    }

    #[test]
    fn an_unclaimed_arrival_worse_than_the_threshold_fails_the_run_and_is_named() {
        let mut run = passing_run();
        assert_eq!(run.verdict(), RunVerdict::Passed, "the sample's pass");
        let (evidence, _) = run.unclaimed[0].clone();
        let link = crate::rule::FOLDER_LINK
            .finding(Grade::F2, "`evil.xml` is a symbolic link")
            .with_evidence([evidence.id.clone()]);
        run.unclaimed.push((evidence, link));
        assert_eq!(run.verdict(), RunVerdict::Failed);
        let doc = Html::parse_document(&render_html(&run));
        let named: String = select(&doc, "header ul.unclaimed-failures li")
            .iter()
            .map(text)
            .collect();
        assert!(
            named.contains("folder-link") && named.contains("evil.xml"),
            "{named:?}"
        );
    }

    #[test]
    fn an_unexpected_message_alone_stays_a_note_whatever_the_threshold() {
        let mut run = passing_run();
        run.threshold = Grade::Ok;
        run.scenarios[0]
            .steps
            .iter_mut()
            .for_each(|s| s.findings.retain(|f| f.grade == Grade::Ok));
        run.scenarios[0].verdict = Grade::Ok;
        assert_eq!(run.unclaimed_failures().count(), 0);
    }

    #[test]
    fn a_run_where_no_scenario_applies_says_so_rather_than_not_every_scenario_ran() {
        let mut run = RunOutcome::placeholder(
            crate::run::RunStatus::Finished,
            "http://127.0.0.1:9/fhir".into(),
            Grade::F4,
            None,
        );
        run.not_applicable.push(crate::run::NotApplicable {
            id: "xdis91-new".into(),
            title: "a letter".into(),
            path: "scenarios/oioxml/xdis91-new-with-bin.toml".into(),
            reason: "needs a folder".into(),
        });
        assert_eq!(run.verdict(), RunVerdict::Incomplete);
        let banner = banner(&run).unwrap_or_default();
        assert!(
            banner.contains("no scenario ran: every scenario needs an exchange folder"),
            "{banner}"
        );
        assert!(!banner.contains("not every scenario ran"), "{banner}");
    }

    #[test]
    fn hostile_text_is_escaped_and_reads_back_as_written() {
        let run = sample::run();
        let html = render_html(&run);
        assert!(
            !html.contains("<script>alert"),
            "unescaped script in the report"
        );
        assert!(!html.contains("<b>bold"), "unescaped markup in the report");
        let doc = Html::parse_document(&html);
        assert!(
            select(&doc, "script").is_empty(),
            "the report has a <script> element"
        );
        assert!(
            select(&doc, "b").iter().all(|b| text(b) != "bold"),
            "markup from a message became an element"
        );
        // The parsed text is the original text: escaped, not mangled.
        let hostile = run.scenarios[1].evidence[1].pretty();
        assert!(
            hostile.contains("<script>alert(1)</script> &"),
            "the sample carries the hostile text"
        );
        assert!(
            select(&doc, "pre.evidence")
                .iter()
                .any(|p| text(p) == hostile)
        );
        assert!(
            select(&doc, ".message")
                .iter()
                .any(|m| text(m).contains(sample::HOSTILE))
        );
    }

    #[test]
    fn report_names_every_scenario_and_the_failing_rule() {
        let run = sample::run();
        let html = render_html(&run);
        for s in &run.scenarios {
            assert!(
                html.contains(&s.id),
                "scenario `{}` missing",
                s.id.escape_default()
            );
        }
        // The scenario ids read back from the parsed summary table, including the odd one.
        let doc = Html::parse_document(&html);
        let ids: Vec<String> = select(&doc, "#summary table.scenarios tbody tr td.id")
            .iter()
            .map(text)
            .collect();
        let expected: Vec<&str> = run.scenarios.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, expected);
        assert!(html.contains(crate::rule::CC_REPLY_NO_RESEND.id));
    }

    /// The rows of the rules appendix: id, grade, statement, source.
    fn appendix(html: &str) -> Vec<Vec<String>> {
        let doc = Html::parse_document(html);
        let cell = Selector::parse("td").expect("valid CSS");
        select(&doc, "section#rules tbody tr")
            .iter()
            .map(|r| {
                r.select(&cell)
                    .map(|c| text(&c).trim().to_string())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn rules_appendix_states_envelope_rules_and_invariants_with_the_igs_text() {
        let mut run = sample::run();
        let step = &mut run.scenarios[0].steps[0];
        step.findings
            .push(crate::rule::SBDH_SCOPES.breach("the scope `PROCESSID` is missing"));
        step.findings.push(Finding::new(
            crate::finding::RuleId::invariant("t-7", Some("A title is given.")),
            Grade::F2,
            "`Bundle.entry[1].resource` breaks invariant `t-7`",
        ));
        step.findings.push(Finding::new(
            crate::finding::RuleId::invariant("t-8", None),
            Grade::F4,
            "`Bundle.entry[1].resource` breaks invariant `t-8`",
        ));
        let rows = appendix(&render_html(&run));
        let row = |id: &str| {
            rows.iter()
                .find(|r| r[0] == id)
                .unwrap_or_else(|| panic!("`{id}` is not in the appendix: {rows:?}"))
                .clone()
        };
        let sbdh = row("sbdh-scopes");
        assert!(sbdh[2].contains("MESSAGEENVELOPEIDENTIFIER"), "{sbdh:?}");
        assert!(sbdh[3].contains("ehmiSBDH"), "{sbdh:?}");
        assert_eq!(row("t-7")[2], "A title is given.");
        assert!(row("t-8")[2].contains("not available"), "{rows:?}");
        // Catalogue rules come first, invariants after them.
        let last = rows.last().map(|r| r[0].as_str());
        assert_eq!(last, Some("t-8"));
    }

    #[test]
    fn summary_comes_first_with_one_row_per_scenario() {
        let html = render_html(&sample::run());
        let doc = Html::parse_document(&html);
        assert_eq!(select(&doc, "#summary table.scenarios tbody tr").len(), 4);
        let summary = html.find("id=\"summary\"").expect("a summary section");
        let first_scenario = html.find("class=\"scenario ").expect("a scenario section");
        assert!(summary < first_scenario);
        let verdict = select(&doc, ".verdict");
        assert!(
            verdict.iter().any(|v| text(v).contains("FAILED")),
            "a run with a failed scenario fails"
        );
    }

    #[test]
    fn report_loads_nothing_from_outside_and_every_link_lands() {
        let html = render_html(&sample::run());
        let lower = html.to_ascii_lowercase();
        for bad in [
            "src=\"http",
            "href=\"http",
            "src='http",
            "href='http",
            "@import",
            "url(",
        ] {
            assert!(!lower.contains(bad), "report contains `{bad}`");
        }
        let doc = Html::parse_document(&html);
        assert!(select(&doc, "[src], link, script, iframe, object, embed").is_empty());
        let ids: BTreeSet<String> = select(&doc, "[id]")
            .iter()
            .filter_map(|e| e.value().attr("id").map(str::to_owned))
            .collect();
        let links = select(&doc, "a[href]");
        assert!(!links.is_empty());
        for a in links {
            let href = a.value().attr("href").unwrap_or_default();
            let target = href
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("non-local link `{href}`"));
            assert!(ids.contains(target), "link `{href}` has no target");
        }
    }

    #[test]
    fn failing_findings_lead_the_failed_scenario() {
        let run = sample::run();
        let doc = Html::parse_document(&render_html(&run));
        let failed = &run.scenarios[1];
        let anchor = format!("section#{}", failed.id);
        let section = select(&doc, &anchor);
        let section = section.first().expect("the failed scenario's section");
        let boxed: Vec<String> = section
            .select(&Selector::parse(".failing .rule").expect("valid CSS"))
            .map(|e| text(&e))
            .collect();
        let expected: Vec<&str> = failed
            .failures(run.threshold)
            .map(|(_, f)| f.rule.as_str())
            .collect();
        assert_eq!(boxed, expected);
    }

    #[test]
    fn grades_are_written_as_text_beside_their_colour() {
        let doc = Html::parse_document(&render_html(&sample::run()));
        let badges = select(&doc, ".grade");
        assert!(!badges.is_empty());
        for b in badges {
            let t = text(&b);
            assert!(Grade::parse(t.trim()).is_some(), "grade badge reads `{t}`");
        }
    }

    #[test]
    fn diff_lines_are_classed_by_their_sign() {
        let doc = Html::parse_document(&render_html(&sample::run()));
        let added: Vec<String> = select(&doc, "pre.diff .add").iter().map(text).collect();
        let removed: Vec<String> = select(&doc, "pre.diff .del").iter().map(text).collect();
        let want_added: Vec<&str> = sample::DIFF
            .lines()
            .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
            .collect();
        let want_removed: Vec<&str> = sample::DIFF
            .lines()
            .filter(|l| l.starts_with('-') && !l.starts_with("---"))
            .collect();
        assert_eq!(added, want_added);
        assert_eq!(removed, want_removed);
    }

    #[test]
    fn evidence_ids_that_name_nothing_are_not_links() {
        let doc = Html::parse_document(&render_html(&sample::run()));
        // The sample's F2 finding cites `e9`, which the scenario does not have.
        assert!(
            select(&doc, ".message, .evidence-refs")
                .iter()
                .any(|e| text(e).contains("e9"))
        );
        assert!(select(&doc, "a[href$='.e9']").is_empty());
    }

    #[test]
    fn backticks_mark_code_and_an_unpaired_one_stays() {
        let shown = |text: &str| -> Vec<(String, bool)> {
            pieces(text)
                .into_iter()
                .map(|p| (p.text.to_owned(), p.code))
                .collect()
        };
        assert_eq!(
            shown("code `ok` expected, got `fatal-error`"),
            [
                ("code ", false),
                ("ok", true),
                (" expected, got ", false),
                ("fatal-error", true)
            ]
            .map(|(t, c)| (t.to_owned(), c))
        );
        assert_eq!(
            shown("a `b` c `d"),
            [("a ", false), ("b", true), (" c ", false), ("`d", false)]
                .map(|(t, c)| (t.to_owned(), c))
        );
        assert!(pieces("").is_empty());
    }

    #[test]
    fn a_run_with_a_skipped_scenario_is_incomplete_unless_skips_are_allowed() {
        let mut run = sample::run();
        // Only the passed and the skipped scenario of the sample.
        run.scenarios
            .retain(|s| matches!(s.status, ScenarioStatus::Passed | ScenarioStatus::Skipped));
        assert_eq!(run.verdict(), RunVerdict::Incomplete);
        assert!(!run.passed());
        let doc = Html::parse_document(&render_html(&run));
        let verdict = select(&doc, ".verdict");
        assert_eq!(text(&verdict[0]), "INCOMPLETE");
        assert!(verdict[0].value().classes().all(|c| c != "passed"));
        assert!(
            select(&doc, ".banner")
                .iter()
                .any(|b| text(b).contains("Incomplete"))
        );
        // The skipped row shows no green grade: its `OK` would read as a pass.
        let skipped = select(&doc, "#summary table.scenarios tr.st-skipped");
        assert!(!skipped.is_empty());
        for row in skipped {
            let green = Selector::parse(".ok, .passed").expect("valid CSS");
            assert!(row.select(&green).next().is_none(), "{}", row.html());
        }
        run.allow_skipped = true;
        assert_eq!(run.verdict(), RunVerdict::Passed);
    }

    #[test]
    fn the_report_written_at_the_start_says_in_progress_and_never_passed() {
        let run = RunOutcome::placeholder(
            crate::run::RunStatus::InProgress,
            "embedded reference vendor".into(),
            Grade::F4,
            None,
        );
        let html = render_html(&run);
        assert!(!html.contains("PASSED"));
        let doc = Html::parse_document(&html);
        assert_eq!(text(&select(&doc, ".verdict")[0]), "IN PROGRESS");
        assert!(
            select(&doc, ".banner")
                .iter()
                .any(|b| text(b).contains("In progress / not finished"))
        );
        let not_run = RunOutcome::placeholder(
            crate::run::RunStatus::NotStarted,
            "http://127.0.0.1:1/fhir".into(),
            Grade::F4,
            Some("cannot connect to the vendor endpoint".into()),
        );
        let html = render_html(&not_run);
        assert!(html.contains("NOT RUN") && html.contains("cannot connect"));
        assert!(!html.contains("PASSED"));
    }

    #[test]
    fn durations_read_in_seconds_then_minutes() {
        assert_eq!(duration(Duration::from_millis(120)), "0.12 s");
        assert_eq!(duration(Duration::from_secs(125)), "2 min 05 s");
    }
}
