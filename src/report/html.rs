//! The HTML report: one self-contained file a vendor hands to MedCom, at any run size quick to open.
//!
//! The page is `report.html.hbs` (embedded at build time) rendered by handlebars with its default
//! HTML escaping over a view built here from the [`RunOutcome`]. The parts that repeat once per
//! scenario, the summary's table of scenarios and each scenario's section, are written straight
//! to the output by the `section` module where the page has its `scenario-table` and
//! `scenario-sections` markers (the page is streamed, never held whole): through handlebars they
//! were most of a large run's report time. The partials the page's appendices use are in
//! `partials/`; `section` writes the same markup with the same escaping. Every value from a run
//! (ids, messages, evidence bytes, diffs) is HTML-escaped (`{{…}}`, never `{{{…}}}`, in the
//! templates), so nothing a vendor's system sent can become markup. The file has inline CSS, no
//! script and no external resource. Grades and statuses are always written as text, so the
//! report reads the same printed in black and white.
//!
//! Size: a run whose evidence (as shown) stays within [`INLINE_EVIDENCE_BYTES`] gets one
//! self-contained file with every message pretty-printed in a collapsible block and only
//! in-page links. A larger run links each evidence item to its file in `evidence/` beside the
//! JSON results, and [`write_html`] puts the scenario sections on details pages
//! (`<report>-details/part-NNNN.html`, 500 scenarios a page), so the report itself holds the
//! header, the summary and the appendices: about 450 bytes a scenario.
//!
//! Order, top to bottom: header (target, harness version, start, threshold, duration), summary
//! (verdict, counts, every finding worse than the threshold, the scenario table), then one section
//! per scenario (failing findings first, then steps with findings and golden diffs, then
//! evidence), unclaimed messages, and the rules the findings cite. A new section is a new block
//! in `report.html.hbs` (page-wide) or in `section` (per scenario) over new view fields.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use handlebars::Handlebars;
use serde::Serialize;

use super::ReportError;
use super::lang::{Labels, Lang};
use super::slug::Slugs;
use crate::finding::{Finding, Grade};
use crate::run::{
    Direction, Evidence, RunOutcome, RunVerdict, ScenarioOutcome, ScenarioStatus, StepOutcome,
    StepStatus,
};

const TEMPLATE: &str = include_str!("report.html.hbs");
/// The partials both templates use, by name.
const PARTIALS: [(&str, &str); 6] = [
    ("text", include_str!("partials/text.hbs")),
    ("grade", include_str!("partials/grade.hbs")),
    ("status", include_str!("partials/status.hbs")),
    ("evlink", include_str!("partials/evlink.hbs")),
    ("finding_row", include_str!("partials/finding_row.hbs")),
    ("evidence", include_str!("partials/evidence.hbs")),
];
/// The reviews section, a partial of [`TEMPLATE`] that `review` also renders alone.
const REVIEWS: &str = include_str!("reviews.html.hbs");
/// The markers around the reviews section in a written report.
const REVIEWS_START: &str = "<!-- medcom-harness:reviews -->";
const REVIEWS_END: &str = "<!-- /medcom-harness:reviews -->";

/// Where report.html.hbs takes the scenario sections, streamed one at a time.
const SECTIONS_MARKER: &str = "<!--scenario-sections-->";
/// Where report.html.hbs takes the summary's table of scenarios, written by [`section`].
const TABLE_MARKER: &str = "<!--scenario-table-->";
/// Where report.html.hbs takes the table of failing findings (when there are any), written by
/// [`section`].
const FAILING_MARKER: &str = "<!--failing-table-->";

mod section;

/// A place in the page where a streamed part goes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Part {
    /// The summary's table of failing findings.
    Failing,
    /// The summary's table of scenarios.
    Table,
    /// The scenario sections (or, for a large run, the list of details pages).
    Sections,
}

/// Writes `whole`, the page as its template rendered it, to `out`, with `part` writing each
/// streamed part where its marker is.
fn fill(
    whole: &str,
    out: &mut dyn std::io::Write,
    mut part: impl FnMut(Part, &mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let markers = [
        (FAILING_MARKER, Part::Failing),
        (TABLE_MARKER, Part::Table),
        (SECTIONS_MARKER, Part::Sections),
    ];
    let mut rest = whole;
    while let Some((at, marker, which)) = markers
        .iter()
        .filter_map(|(m, p)| rest.find(m).map(|at| (at, *m, *p)))
        .min_by_key(|(at, _, _)| *at)
    {
        out.write_all(&rest.as_bytes()[..at])?;
        part(which, out)?;
        rest = &rest[at + marker.len()..];
    }
    out.write_all(rest.as_bytes())
}

/// The most evidence (bytes shown, summed over the run) the page copies in; a run with more
/// links every item to its file instead, so that a run of 10,000 scenarios still makes a page a
/// browser opens in seconds. Below it, the report is one self-contained file a vendor can mail.
pub(super) const INLINE_EVIDENCE_BYTES: usize = 4 * 1024 * 1024;

/// The templates, parsed once per process.
static REGISTRY: std::sync::LazyLock<Handlebars<'static>> = std::sync::LazyLock::new(|| {
    let mut registry = Handlebars::new();
    // Strict in tests, so a misspelt field in the template fails them; lenient in use, so a report
    // is never lost to a template slip.
    registry.set_strict_mode(cfg!(test));
    registry.set_prevent_indent(true);
    for (name, partial) in PARTIALS {
        registry
            .register_partial(name, partial.trim_end_matches('\n'))
            .expect("the embedded report partials parse (checked by the tests)");
    }
    registry
        .register_partial("certification", super::certification::TEMPLATE)
        .expect("the embedded certification template parses (checked by the tests)");
    registry
        .register_partial("coverage", super::certification::COVERAGE)
        .expect("the embedded coverage template parses (checked by the tests)");
    registry
        .register_template_string("report", TEMPLATE)
        .expect("the embedded report template parses (checked by the tests)");
    registry
        .register_partial("reviews", REVIEWS)
        .expect("the embedded reviews template parses (checked by the tests)");
    registry
});

/// How the page shows evidence: copied in (small runs: one self-contained file) or linked to
/// the evidence files beside the JSON results (large runs).
#[derive(Debug, Clone, Default)]
pub(super) struct Layout {
    /// Link evidence instead of copying it in.
    pub(super) linked: bool,
    /// The JSON results' folder as seen from the HTML report's folder, `/`-separated and ending
    /// in `/` (empty when they share a folder): evidence `file`s are relative to the former.
    pub(super) prefix: String,
    /// The folder (beside the report, named relative to it) whose pages hold the scenario
    /// sections, [`PART_SCENARIOS`] a page; `None` when the sections are in the report itself.
    parts: Option<String>,
    /// The language of the fixed text, on the page and on its details pages (`--lang`).
    pub(super) lang: Lang,
}

/// Scenario sections per details page, when the sections are not in the report itself.
const PART_SCENARIOS: usize = 500;

impl Layout {
    /// The details page of the scenario at `index` (0-based), relative to the report; empty when
    /// the sections are in the report.
    fn page_of(&self, index: usize) -> String {
        self.parts
            .as_deref()
            .map(|folder| format!("{folder}/{}", part_name(index / PART_SCENARIOS)))
            .unwrap_or_default()
    }
}

/// The file name of details page `k` (0-based): `part-0001.html`.
fn part_name(k: usize) -> String {
    format!("part-{:04}.html", k + 1)
}

impl Layout {
    /// The layout of the sections on a details page of a report laid out as `layout`: evidence
    /// files are found from the details folder, one level below the report.
    pub(super) fn for_details(layout: &Layout) -> Layout {
        Layout {
            prefix: format!("../{}", layout.prefix),
            ..layout.clone()
        }
    }

    /// Links evidence when `linked`, else copies it in; `prefix` as in [`Layout::prefix`].
    pub(super) fn linking(linked: bool, prefix: String) -> Layout {
        Layout {
            linked,
            prefix,
            parts: None,
            lang: Lang::En,
        }
    }

    /// Links evidence when the run's evidence, as the page would show it, exceeds
    /// [`INLINE_EVIDENCE_BYTES`].
    pub(super) fn for_run(run: &RunOutcome, prefix: String) -> Layout {
        let shown: usize = run
            .scenarios
            .iter()
            .flat_map(|s| &s.evidence)
            .map(|e| e.bytes.len().min(SHOWN_BYTES))
            .sum();
        Layout {
            linked: shown > INLINE_EVIDENCE_BYTES,
            prefix,
            parts: None,
            lang: Lang::En,
        }
    }
}

/// The HTML report of `run` as a string: a complete, self-contained document unless the run's
/// evidence is too large to copy in (see [`INLINE_EVIDENCE_BYTES`]).
pub fn render_html(run: &RunOutcome) -> String {
    render_html_in(run, Lang::En, &[])
}

/// [`render_html`] in `lang`, with the `reviews` recorded about the run (entries about another
/// run, by their `run-started`, are left out): see [`crate::review`].
pub fn render_html_in(run: &RunOutcome, lang: Lang, reviews: &[crate::review::Entry]) -> String {
    let layout = Layout {
        lang,
        ..Layout::for_run(run, String::new())
    };
    let mut out = Vec::new();
    stream_html(run, &layout, reviews, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("handlebars writes UTF-8")
}

/// Writes the HTML report of `run` to `path` (conventionally `reports/report.html`), creating the
/// folder; linked evidence is looked for beside the report.
///
/// # Errors
///
/// [`ReportError::Write`] with `path` when the folder cannot be created or the file written.
pub fn write_html(run: &RunOutcome, path: &Path) -> Result<(), ReportError> {
    write_html_in(run, path, Lang::En, &[])
}

/// [`write_html`] in `lang`, with `reviews`: see [`render_html_in`].
///
/// # Errors
///
/// [`ReportError::Write`] with `path` when the folder cannot be created or the file written.
pub fn write_html_in(
    run: &RunOutcome,
    path: &Path,
    lang: Lang,
    reviews: &[crate::review::Entry],
) -> Result<(), ReportError> {
    let layout = Layout {
        lang,
        ..Layout::for_run(run, String::new())
    };
    write_html_laid_out(run, path, &layout, reviews)
}

/// [`write_html`] with the evidence shown as `layout` says. When the evidence is linked (a large
/// run), the scenario sections go to details pages in `<report name>-details/` beside the
/// report, [`PART_SCENARIOS`] a page, so the report itself holds the summary, the failing
/// findings and the appendices and stays quick to open. The new pages are written to a fresh
/// folder swapped in for the old one, which is removed after. The page is in `layout.lang`,
/// with a reviews section of `reviews` (see [`render_html_in`]).
pub(super) fn write_html_laid_out(
    run: &RunOutcome,
    path: &Path,
    layout: &Layout,
    reviews: &[crate::review::Entry],
) -> Result<(), ReportError> {
    write_html_streamed(run, path, layout, reviews, &|_| Ok(None))
}

/// [`write_html_laid_out`], with the sections of the details pages made ahead where `sections`
/// has one whose anchors are the ones the page gives its scenario (see `super::stream`).
pub(super) fn write_html_streamed(
    run: &RunOutcome,
    path: &Path,
    layout: &Layout,
    reviews: &[crate::review::Entry],
    sections: Sections<'_>,
) -> Result<(), ReportError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    let folder = format!("{}-details", super::slug::slug(&stem));
    if !layout.linked {
        super::write_report_with(path, |w| stream_html(run, layout, reviews, w))?;
        // An earlier, bigger run's details pages would lie beside a report that links none of
        // them (and ship with the folder as CI artifacts): they go, when they are the harness's.
        let stale = dir.join(&folder);
        if stale.join(DETAILS_MARKER).is_file() {
            let _ = std::fs::remove_dir_all(&stale);
        }
        return Ok(());
    }
    let failed = |source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(failed)?;
    let layout = Layout {
        parts: Some(folder.clone()),
        ..layout.clone()
    };
    let page = Page::new(run, &layout, reviews);
    let whole = REGISTRY
        .render("report", &page)
        .map_err(|e| failed(std::io::Error::other(e)))?;
    let fresh = tempfile::Builder::new()
        .prefix(".medcom-harness-details")
        .tempdir_in(dir)
        .map_err(failed)?;
    let report_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    write_parts(
        run,
        &page,
        &layout,
        &whole,
        &report_name,
        fresh.path(),
        sections,
    )
    .map_err(failed)?;
    super::write_report_with(path, |w| {
        fill(&whole, w, |part, w| match part {
            Part::Failing => section::failing_table(w, run, &page.anchors, &layout),
            Part::Table => section::scenario_table(w, run, &page.anchors, &layout),
            Part::Sections => write_part_index(run.scenarios.len(), &folder, layout.lang, w),
        })
    })?;
    swap_in(fresh, &dir.join(&folder)).map_err(failed)
}

/// The marker file by which a details folder is known to be the harness's own.
const DETAILS_MARKER: &str = ".medcom-harness-details";

/// Writes the details pages into `into`: each a small page with the report's style, a link
/// back, and its scenarios' sections.
fn write_parts(
    run: &RunOutcome,
    page: &Page<'_>,
    layout: &Layout,
    head: &str,
    report_name: &str,
    into: &Path,
    sections: Sections<'_>,
) -> std::io::Result<()> {
    use std::io::Write as _;
    #[cfg(unix)]
    std::fs::set_permissions(into, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    std::fs::write(
        into.join(DETAILS_MARKER),
        b"scenario details of a medcom-harness report; replaced by the next\n",
    )?;
    // The report's own style, so the sections read as they would in the report.
    let style = head
        .split_once("<style>")
        .and_then(|(_, rest)| rest.split_once("</style>"))
        .map(|(css, _)| css)
        .unwrap_or_default();
    let inner = Layout::for_details(layout);
    let l = layout.lang.labels();
    for (k, chunk) in run.scenarios.chunks(PART_SCENARIOS).enumerate() {
        let first = k * PART_SCENARIOS;
        let file = std::fs::File::create(into.join(part_name(k)))?;
        let mut out = std::io::BufWriter::with_capacity(256 * 1024, file);
        write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{} {}\u{2013}{}: {}</title>\n<style>{style}</style>\n</head>\n<body>\n<div class=\"wrap\">\n<p><a href=\"../{}\">&larr; {}</a> &middot; {} {}\u{2013}{} {} {}</p>\n<main id=\"scenarios\">\n",
            layout.lang.code(),
            l.scenarios_cap,
            first + 1,
            first + chunk.len(),
            handlebars::html_escape(page.target),
            handlebars::html_escape(report_name),
            l.back_to_summary,
            l.scenarios_cap,
            first + 1,
            first + chunk.len(),
            l.of,
            run.scenarios.len(),
        )?;
        for (j, s) in chunk.iter().enumerate() {
            let (i, anchors) = (first + j, &page.anchors[first + j]);
            match sections(i)? {
                Some(made) if made.anchors == *anchors => made.write(&mut out, i + 1)?,
                _ => {
                    let view = ScenarioView::new(i + 1, s, run.threshold, anchors, &inner);
                    section::scenario(&mut out, &view)?;
                }
            }
        }
        out.write_all(b"</main>\n</div>\n</body>\n</html>\n")?;
        out.flush()?;
    }
    Ok(())
}

/// Where the report's scenario sections would be: links to the details pages.
fn write_part_index(
    scenarios: usize,
    folder: &str,
    lang: Lang,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let l = lang.labels();
    write!(
        out,
        "<p class=\"parts\">{} ({PART_SCENARIOS} {})</p>\n<ul class=\"parts\">\n",
        l.parts_intro,
        lang.pick("scenarios a page", "scenarier pr. side"),
    )?;
    for k in 0..scenarios.div_ceil(PART_SCENARIOS) {
        let first = k * PART_SCENARIOS + 1;
        let last = ((k + 1) * PART_SCENARIOS).min(scenarios);
        writeln!(
            out,
            "<li><a href=\"{}/{}\">{} {first}\u{2013}{last}</a></li>",
            handlebars::html_escape(folder),
            part_name(k),
            l.scenarios_cap,
        )?;
    }
    out.write_all(b"</ul>\n")
}

/// Puts the folder `fresh` at `target`: an earlier folder there (the harness's own, by its
/// marker) is renamed aside first and removed after, so the swap itself touches no file inside.
fn swap_in(fresh: tempfile::TempDir, target: &Path) -> std::io::Result<()> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let old = if target.exists() {
        if !target.join(DETAILS_MARKER).exists() {
            return Err(std::io::Error::other(format!(
                "`{}` was not written by medcom-harness; move it or choose another report name",
                target.display()
            )));
        }
        let trash = tempfile::Builder::new()
            .prefix(".medcom-harness-old-details")
            .tempdir_in(dir)?;
        let aside = trash.path().join("details");
        std::fs::rename(target, &aside)?;
        Some(trash)
    } else {
        None
    };
    std::fs::rename(fresh.keep(), target)?;
    if let Some(trash) = old {
        trash.close()?;
    }
    Ok(())
}

/// Writes the page to `out` as it goes: the header and summary, then each scenario's section
/// built, rendered and dropped in turn, then the appendices. Memory holds one scenario's view at
/// a time, never the page.
fn stream_html(
    run: &RunOutcome,
    layout: &Layout,
    reviews: &[crate::review::Entry],
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let page = Page::new(run, layout, reviews);
    let whole = REGISTRY
        .render("report", &page)
        .map_err(std::io::Error::other)?;
    fill(&whole, out, |part, out| match part {
        Part::Failing => section::failing_table(out, run, &page.anchors, layout),
        Part::Table => section::scenario_table(out, run, &page.anchors, layout),
        Part::Sections => {
            for (i, (s, anchors)) in run.scenarios.iter().zip(&page.anchors).enumerate() {
                let view = ScenarioView::new(i + 1, s, run.threshold, anchors, layout);
                section::scenario(out, &view)?;
            }
            Ok(())
        }
    })
}

/// The anchors of one scenario: its section's and each evidence item's, by evidence id.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Anchors {
    scenario: String,
    evidence: Vec<String>,
}

/// One scenario's section on a details page, made ahead of the page (see `super::stream`): its
/// markup without its number, where the number goes, and the anchors it was made with.
#[derive(Debug)]
pub(super) struct SectionItem {
    /// The anchors the page gives the scenario when no other id takes its names first.
    anchors: Anchors,
    /// The section without its number.
    pub(super) bytes: Vec<u8>,
    /// Where in `bytes` the number goes.
    number_at: usize,
}

impl SectionItem {
    /// The section of `s` (as the reports show it) on a details page laid out as `layout`
    /// ([`Layout::for_details`]), for a run judged at `threshold`; `None` if it cannot be made.
    pub(super) fn of(
        s: &ScenarioOutcome,
        threshold: Grade,
        layout: &Layout,
    ) -> Option<SectionItem> {
        let scenario = super::slug::slug(&s.id);
        let evidence = s
            .evidence
            .iter()
            .map(|e| super::slug::slug(&format!("{scenario}.{}", e.id)))
            .collect();
        let anchors = Anchors { scenario, evidence };
        let view = ScenarioView::new(0, s, threshold, &anchors, layout);
        let mut bytes = Vec::new();
        section::scenario(&mut bytes, &view).ok()?;
        // The number is the first thing of its kind: before it come the section's tag and the
        // status and grade badges, whose text is fixed or escaped.
        const NUMBER: &[u8] = b"<span class=\"n\">0.</span>";
        let number_at = bytes.windows(NUMBER.len()).position(|w| w == NUMBER)? + NUMBER.len()
            - b"0.</span>".len();
        bytes.remove(number_at);
        Some(SectionItem {
            anchors,
            bytes,
            number_at,
        })
    }

    /// This section with its markup `bytes` (taken out to be kept elsewhere).
    pub(super) fn with_bytes(&self, bytes: Vec<u8>) -> SectionItem {
        SectionItem {
            anchors: self.anchors.clone(),
            bytes,
            number_at: self.number_at,
        }
    }

    /// Writes the section numbered `number`.
    fn write(&self, out: &mut dyn std::io::Write, number: usize) -> std::io::Result<()> {
        out.write_all(&self.bytes[..self.number_at])?;
        write!(out, "{number}")?;
        out.write_all(&self.bytes[self.number_at..])
    }
}

/// The sections of a run's details pages made ahead, by index into its scenarios: `None` for a
/// scenario whose section is made with the page.
pub(super) type Sections<'a> = &'a (dyn Fn(usize) -> std::io::Result<Option<SectionItem>> + Sync);

/// `html`, a report this harness wrote, with its reviews section replaced by one of `reviews`
/// about `run`, in the report's own language (its `<html lang>`); everything else stays as the
/// run wrote it (masked, redacted, every preview). `None` when `html` has no reviews section (a
/// report of an older version).
pub fn splice_reviews(
    html: &str,
    run: &RunOutcome,
    reviews: &[crate::review::Entry],
) -> Option<String> {
    #[derive(Serialize)]
    struct Section {
        l: &'static Labels,
        reviews: Vec<super::review_view::ReviewView>,
    }
    let start = html.find(REVIEWS_START)? + REVIEWS_START.len();
    let end = start + html[start..].find(REVIEWS_END)?;
    let lang = if html.contains("<html lang=\"da\">") {
        Lang::Da
    } else {
        Lang::En
    };
    let mut registry = Handlebars::new();
    registry.set_strict_mode(cfg!(test));
    registry.set_prevent_indent(true);
    let section = registry
        .render_template(
            REVIEWS,
            &Section {
                l: lang.labels(),
                reviews: super::review_view::views(run, lang, reviews),
            },
        )
        .expect("the reviews view has every field the template uses (checked by the tests)");
    Some(format!("{}{section}{}", &html[..start], &html[end..]))
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
    /// How many findings are worse than the threshold (the table of them is streamed).
    failing: usize,
    unclaimed: Vec<UnclaimedView<'a>>,
    rules: Vec<RuleView<'a>>,
    /// Evidence is linked to its files, not copied in (a large run).
    linked: bool,
    /// Each scenario's anchors, handed out in page order, for its section.
    #[serde(skip)]
    anchors: Vec<Anchors>,
    /// The page's language code (`en`, `da`).
    lang: &'static str,
    /// The fixed text in that language.
    l: &'static Labels,
    /// The review log's entries about this run.
    reviews: Vec<super::review_view::ReviewView>,
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
    /// Evidence is linked to its files (`file`), not copied in.
    linked: bool,
    /// The fixed text in the page's language (a section is rendered on its own, so it carries
    /// the page's labels).
    l: &'static Labels,
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
    /// The page holding the scenario's section: empty for this one, else its details page.
    scenario_page: String,
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
    /// The bytes as the page shows them; empty when the evidence is linked.
    pretty: String,
    /// The evidence file, relative to the HTML report; `None` when copied in (or not on disk).
    file: Option<String>,
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
    fn new(run: &'a RunOutcome, layout: &Layout, reviews: &[crate::review::Entry]) -> Page<'a> {
        let mut slugs = Slugs::default();
        for reserved in [
            "summary",
            "failing",
            "scenarios",
            "unclaimed",
            "rules",
            "not-applicable",
            "reviews",
            "certification",
            "coverage",
        ] {
            slugs.unique(reserved);
        }
        let anchors: Vec<Anchors> = run
            .scenarios
            .iter()
            .map(|s| {
                let scenario = slugs.unique(&s.id);
                let evidence = s
                    .evidence
                    .iter()
                    .map(|e| slugs.unique(&format!("{scenario}.{}", e.id)))
                    .collect();
                Anchors { scenario, evidence }
            })
            .collect();
        let failing = run
            .scenarios
            .iter()
            .map(|s| s.failures(run.threshold).count())
            .sum();
        let unclaimed = run
            .unclaimed
            .iter()
            .map(|(evidence, finding)| {
                let anchor = slugs.unique(&format!("unclaimed.{}", evidence.id));
                let anchors = HashMap::from([(evidence.id.as_str(), anchor.clone())]);
                UnclaimedView {
                    finding: FindingView::new(finding, run.threshold, &anchors),
                    evidence: EvidenceView::new(evidence, anchor, &Layout::default()),
                }
            })
            .collect();
        let summary = run.summary();
        Page {
            certification: super::certification::CertificationView::of(run, layout.lang),
            target: &run.target,
            harness_version: &run.harness_version,
            started: &run.started,
            threshold: GradeView::of(run.threshold),
            duration: duration(run.duration),
            verdict: layout.lang.verdict(run.verdict()),
            verdict_class: match run.verdict() {
                RunVerdict::Passed => "passed",
                RunVerdict::Failed => "failed",
                RunVerdict::Incomplete | RunVerdict::InProgress | RunVerdict::NotRun => {
                    "incomplete"
                }
            },
            banner: banner(run, layout.lang),
            not_applicable: &run.not_applicable,
            left_out: left_out(&run.selection, layout.lang),
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
            failing,
            unclaimed,
            rules: cited_rules(run, layout.lang),
            linked: layout.linked,
            anchors,
            lang: layout.lang.code(),
            l: layout.lang.labels(),
            reviews: super::review_view::views(run, layout.lang, reviews),
        }
    }
}

/// Whether to show a scenario's verdict badge: it ran to its end and has findings. A skipped
/// scenario's `OK` would read as a pass.
fn has_findings(s: &ScenarioOutcome) -> bool {
    s.findings().next().is_some()
        && matches!(s.status, ScenarioStatus::Passed | ScenarioStatus::Failed)
}

/// Evidence id -> anchor, for the links of one scenario's findings and steps.
fn anchor_map<'a>(s: &'a ScenarioOutcome, anchors: &Anchors) -> HashMap<&'a str, String> {
    s.evidence
        .iter()
        .zip(&anchors.evidence)
        .map(|(e, a)| (e.id.as_str(), a.clone()))
        .collect()
}

/// The findings of `s` worse than `threshold`, with where they happened.
fn failing_views<'a>(
    s: &'a ScenarioOutcome,
    threshold: Grade,
    anchors: &Anchors,
    page: &str,
) -> Vec<FailingView<'a>> {
    let map = anchor_map(s, anchors);
    s.failures(threshold)
        .map(|(step, f)| FailingView {
            scenario_id: &s.id,
            scenario_page: page.to_owned(),
            scenario_anchor: anchors.scenario.clone(),
            step: step.index,
            kind: &step.kind,
            finding: FindingView::new(f, threshold, &map),
        })
        .collect()
}

impl<'a> ScenarioView<'a> {
    fn new(
        number: usize,
        s: &'a ScenarioOutcome,
        threshold: Grade,
        anchors: &Anchors,
        layout: &Layout,
    ) -> ScenarioView<'a> {
        let map = anchor_map(s, anchors);
        let evidence = s
            .evidence
            .iter()
            .zip(&anchors.evidence)
            .map(|(e, a)| EvidenceView::new(e, a.clone(), layout))
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
            has_findings: has_findings(s),
            reason: s.reason.as_deref().map(pieces),
            duration: duration(s.duration),
            failing: failing_views(s, threshold, anchors, ""),
            steps: s
                .steps
                .iter()
                .map(|step| StepView::new(step, threshold, &map))
                .collect(),
            evidence,
            anchor: anchors.scenario.clone(),
            linked: layout.linked,
            l: layout.lang.labels(),
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

/// What a relative file path must escape to be a link's `href` (RFC 3986 path characters stay;
/// `/` separates segments): a merged run's share folder may be named `sh#1?x` or `sh 2`.
const HREF_ESCAPED: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\\')
    .add(b'^')
    .add(b'|')
    .add(b'[')
    .add(b']');

/// `path` (relative, `/`-separated) as a link target: percent-encoded (UTF-8) where a URL needs
/// it; the page escapes it for HTML on top.
fn href(path: &str) -> String {
    percent_encoding::utf8_percent_encode(path, HREF_ESCAPED).to_string()
}

/// The attribute value of a link to `path` exactly as a page writes it: [`href`], then escaped
/// for HTML. `evidence pack` finds the report's evidence links by it.
pub(crate) fn href_attribute(path: &str) -> String {
    handlebars::html_escape(&href(path))
}

impl<'a> EvidenceView<'a> {
    fn new(e: &'a Evidence, anchor: String, layout: &Layout) -> EvidenceView<'a> {
        let file = e
            .file
            .as_deref()
            .filter(|_| layout.linked)
            .map(|f| href(&format!("{}{f}", layout.prefix)));
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
            pretty: if layout.linked {
                String::new()
            } else {
                shown(e, layout.lang)
            },
            file,
        }
    }
}

/// The most of one evidence item the page shows, in bytes: a 50 MB answer must not make a
/// 50 MB page. The whole item is in `evidence/` beside the JSON results.
const SHOWN_BYTES: usize = crate::run::PREVIEW_BYTES;

fn shown(e: &Evidence, lang: Lang) -> String {
    if e.bytes.len() <= SHOWN_BYTES && !e.is_preview() {
        return e.pretty();
    }
    let head = String::from_utf8_lossy(&e.bytes[..e.bytes.len().min(SHOWN_BYTES)]).into_owned();
    format!(
        "{head}\n\n[… {} {}{}, SHA-256 {}]",
        e.size.max(e.bytes.len()) - e.bytes.len().min(SHOWN_BYTES),
        lang.labels().more_bytes_not_shown,
        e.file
            .as_deref()
            .map_or_else(String::new, |f| format!(": {f}")),
        e.sha256
    )
}

/// The sentence saying what `--filter`/`--skip` left out, when they left out any scenario, in
/// `lang`.
fn left_out(selection: &crate::run::Selection, lang: Lang) -> Option<String> {
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
    let filtered = (selection.left_out > 0).then(|| {
        let (n, given) = (selection.left_out, given.join("; "));
        lang.pick(
            format!("{n} scenario(s) left out by --filter/--skip ({given}): the verdict covers only the scenarios that were selected."),
            format!("{n} scenarie(r) udeladt af --filter/--skip ({given}): resultatet dækker kun de valgte scenarier."),
        )
    });
    let shared = selection.partition.as_deref().map(|p| {
        lang.pick(
            format!("This run is one share of the suite (--partition {p}): the verdict covers only its scenarios until `medcom-harness report merge` joins the shares."),
            format!("Denne kørsel er én del af suiten (--partition {p}): resultatet dækker kun dens scenarier, indtil `medcom-harness report merge` samler delene."),
        )
    });
    match (filtered, shared) {
        (Some(f), Some(p)) => Some(format!("{f} {p}")),
        (f, p) => f.or(p),
    }
}

/// The sentence under the header for a run that is not a plain pass or fail, in `lang`.
fn banner(run: &RunOutcome, lang: Lang) -> Option<String> {
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
                let (n, ran) = (run.not_applicable.len(), run.scenarios.len());
                lang.pick(
                    format!("{n} scenario(s) do not apply to this target and were not run (listed in the summary); the verdict covers the {ran} that ran."),
                    format!("{n} scenarie(r) gælder ikke for dette testmål og blev ikke kørt (de står i oversigten); resultatet dækker de {ran}, der blev kørt."),
                )
            })
        }
        RunVerdict::InProgress => Some(lang.pick(
            "In progress / not finished: this report was written when the run started and is replaced when it ends. If it is still here, the run was killed: medcom-harness run --resume finishes it.",
            "I gang / ikke afsluttet: rapporten blev skrevet, da kørslen startede, og erstattes, når den slutter. Står den her stadig, blev kørslen afbrudt: medcom-harness run --resume gør den færdig.",
        ).into()),
        RunVerdict::NotRun => Some(lang.pick(
            format!("Not run: the harness could not start the run{note}. No scenario ran; nothing here is a verdict on the vendor."),
            format!("Ikke kørt: harnessen kunne ikke starte kørslen{note}. Intet scenarie blev kørt; intet her er en vurdering af leverandøren."),
        )),
        RunVerdict::Incomplete
            if run.scenarios.is_empty() && !run.not_applicable.is_empty() =>
        {
            let n = run.not_applicable.len();
            Some(lang.pick(
                format!("Incomplete: no scenario ran: every scenario needs an exchange folder ({n} not applicable to this target, listed in the summary). Run with `--target DIR` to test them."),
                format!("Ufuldstændig: intet scenarie blev kørt: hvert scenarie kræver en udvekslingsmappe ({n} gælder ikke for dette testmål, de står i oversigten). Kør med `--target DIR` for at teste dem."),
            ))
        }
        _ => {
            let stopped = run.interrupted || run.status == crate::run::RunStatus::Interrupted;
            let skips_block = !(run.allow_skipped || s.skipped == 0);
            Some(lang.pick(
                format!(
                    "Incomplete: not every scenario ran to its end ({} skipped, {} could not run{}){note}. A run passes only when every scenario ran and passed{}.",
                    s.skipped,
                    s.errors,
                    if stopped { ", the run was stopped early" } else { "" },
                    if skips_block { "; --allow-skipped lets skipped scenarios pass" } else { "" }
                ),
                format!(
                    "Ufuldstændig: ikke alle scenarier blev kørt til ende ({} sprunget over, {} kunne ikke køres{}){note}. En kørsel er kun bestået, når alle scenarier er kørt og bestået{}.",
                    s.skipped,
                    s.errors,
                    if stopped { ", kørslen blev stoppet før tid" } else { "" },
                    if skips_block { "; --allow-skipped lader oversprungne scenarier bestå" } else { "" }
                ),
            ))
        }
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

/// Every rule that the run's findings cite: catalogue rules (envelope rules included) in
/// catalogue order with their default grade, then profile invariants by key with the IG's text
/// and the worst grade they were given.
fn cited_rules(run: &RunOutcome, lang: Lang) -> Vec<RuleView<'_>> {
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
                    .unwrap_or(lang.labels().no_ig_text),
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
    fn an_evidence_link_escapes_what_a_url_path_cannot_hold() {
        // RFC 3986: `#` starts a fragment, `?` a query; a space and non-ASCII are percent-encoded
        // as UTF-8 (æ is C3 A6); `/`, `.` and `-` stay.
        assert_eq!(
            href("../sh#1?x/evidence/a b.e1.json"),
            "../sh%231%3Fx/evidence/a%20b.e1.json"
        );
        assert_eq!(
            href("../æ/evidence/x.e1.json"),
            "../%C3%A6/evidence/x.e1.json"
        );
        assert_eq!(
            href("evidence/cc-new_1.e1.json"),
            "evidence/cc-new_1.e1.json"
        );
    }

    #[test]
    fn scenarios_left_out_by_filter_or_skip_are_said_in_the_header() {
        let mut run = passing_run();
        run.selection = crate::run::Selection {
            filter: Vec::new(),
            skip: vec!["cc-".into()],
            left_out: 12,
            ..Default::default()
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
        let banner = banner(&run, Lang::En).unwrap_or_default();
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
    fn a_report_of_10000_scenarios_stays_under_20_mb_parses_and_links_its_details() {
        let run = sample::large(10_000);
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("report.html");
        write_html(&run, &path).expect("written");
        // Twice: the second run replaces the first one's details pages.
        write_html(&run, &path).expect("written again");
        let html = std::fs::read_to_string(&path).expect("read back");
        assert!(
            html.len() < 20 * 1024 * 1024,
            "the page has {} bytes",
            html.len()
        );
        let doc = Html::parse_document(&html);
        let rows = select(&doc, "#summary table.scenarios tbody tr td.id a");
        assert_eq!(rows.len(), 10_000);
        assert!(select(&doc, "main pre.evidence").is_empty());
        // The failing findings come before the long table of scenarios.
        let failing = html.find("id=\"failing\"").expect("a failing table");
        let table = html.find("class=\"scenarios\"").expect("a scenario table");
        assert!(failing < table);
        // Every row lands on its scenario's section on a details page.
        let mut pages: HashMap<String, Html> = HashMap::new();
        for a in rows.iter().step_by(499) {
            let href = a.value().attr("href").unwrap_or_default();
            let (file, anchor) = href.split_once('#').expect("a page and an anchor");
            let page = pages.entry(file.to_owned()).or_insert_with(|| {
                Html::parse_document(
                    &std::fs::read_to_string(dir.path().join(file)).expect("details page"),
                )
            });
            let section = select(page, &format!("section.scenario[id='{anchor}']"));
            assert_eq!(section.len(), 1, "{href}");
            // Evidence links go up to the evidence folder beside the results.
            let links: Vec<&str> = section[0]
                .select(&Selector::parse("table.evidence-files a.ev").expect("valid CSS"))
                .filter_map(|l| l.value().attr("href"))
                .collect();
            assert!(
                links.iter().all(|l| l.starts_with("../evidence/")),
                "{links:?}"
            );
        }
        let parts = std::fs::read_dir(dir.path().join("report-details"))
            .expect("details folder")
            .count();
        assert_eq!(parts, 20 + 1, "20 pages of 500 and the marker");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("report folder")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .collect();
        assert_eq!(leftovers.len(), 2, "{leftovers:?}");
    }

    #[test]
    fn a_long_scenario_table_comes_in_blocks_with_one_header_and_the_same_columns() {
        let run = sample::large(1_001);
        let html = render_html(&run);
        let doc = Html::parse_document(&html);
        let blocks = select(&doc, "#summary div.rows > table.scenarios");
        assert_eq!(blocks.len(), 1_001_usize.div_ceil(section::BLOCK_ROWS));
        let rows = Selector::parse("tbody tr").expect("valid CSS");
        let cols = Selector::parse("colgroup").expect("valid CSS");
        let head = Selector::parse("thead").expect("valid CSS");
        let counts: Vec<usize> = blocks.iter().map(|b| b.select(&rows).count()).collect();
        assert_eq!(counts.iter().sum::<usize>(), 1_001, "{counts:?}");
        assert!(
            counts[..counts.len() - 1]
                .iter()
                .all(|&n| n == section::BLOCK_ROWS)
        );
        let colgroups: BTreeSet<String> = blocks
            .iter()
            .filter_map(|b| b.select(&cols).next().map(|c| c.html()))
            .collect();
        assert_eq!(
            colgroups.len(),
            1,
            "every block has the same columns: {colgroups:?}"
        );
        let headed: Vec<usize> = blocks.iter().map(|b| b.select(&head).count()).collect();
        assert_eq!(headed[0], 1);
        assert!(headed[1..].iter().all(|&n| n == 0), "{headed:?}");
        // The browser skips laying out a block until it is near the view.
        assert!(html.contains("div.rows { content-visibility: auto;"));
    }

    #[test]
    fn every_failing_finding_is_listed_once_in_blocks_when_every_scenario_fails() {
        let mut run = sample::large(600);
        for s in &mut run.scenarios {
            s.status = ScenarioStatus::Failed;
            s.verdict = Grade::F1;
            s.steps[0]
                .findings
                .push(crate::rule::KR3.breach("Acknowledged `fatal-error`."));
        }
        let findings: usize = run
            .scenarios
            .iter()
            .map(|s| s.failures(run.threshold).count())
            .sum();
        let html = render_html(&run);
        let doc = Html::parse_document(&html);
        let blocks = select(&doc, "#summary div.rows > table.failing-all");
        assert_eq!(blocks.len(), findings.div_ceil(section::BLOCK_ROWS));
        assert_eq!(
            select(&doc, "#summary table.failing-all tbody tr.fail").len(),
            findings
        );
        assert_eq!(select(&doc, "#summary table.failing-all thead").len(), 1);
        let heading = select(&doc, "#failing");
        assert!(text(&heading[0]).contains(&format!("({findings})")));
    }

    #[test]
    fn a_small_run_copies_its_evidence_in_and_links_no_file() {
        let html = render_html(&sample::run());
        let doc = Html::parse_document(&html);
        assert!(!select(&doc, "pre.evidence").is_empty());
        assert!(select(&doc, "table.evidence-files").is_empty());
        assert!(html.contains("This file is self-contained"));
    }

    /// The `dt` labels of each scenario section's facts in `doc`.
    fn fact_labels(doc: &Html) -> Vec<Vec<String>> {
        let dt = Selector::parse("dl.facts dt").expect("valid CSS");
        select(doc, "section.scenario")
            .iter()
            .map(|s| s.select(&dt).map(|d| text(&d)).collect())
            .collect()
    }

    #[test]
    fn a_small_report_over_a_large_ones_folder_removes_its_details_pages() {
        let run = sample::run();
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("report.html");
        let linked = Layout {
            linked: true,
            ..Layout::for_run(&run, String::new())
        };
        write_html_laid_out(&run, &path, &linked, &[]).expect("large layout written");
        assert!(dir.path().join("report-details/part-0001.html").is_file());
        let inline = Layout {
            linked: false,
            ..Layout::for_run(&run, String::new())
        };
        write_html_laid_out(&run, &path, &inline, &[]).expect("small layout written");
        assert!(
            !dir.path().join("report-details").exists(),
            "no details page is left that the new report does not link"
        );
        // A folder of that name the harness did not write is left alone.
        std::fs::create_dir(dir.path().join("report-details")).expect("mkdir");
        std::fs::write(dir.path().join("report-details/mine.txt"), "x").expect("write");
        write_html_laid_out(&run, &path, &inline, &[]).expect("written again");
        assert!(dir.path().join("report-details/mine.txt").is_file());
    }

    #[test]
    fn a_danish_report_labels_its_streamed_sections_and_details_pages_in_the_pages_language() {
        let run = sample::run();
        let doc = Html::parse_document(&render_html_in(&run, Lang::Da, &[]));
        // The summary's column names, which the page takes from its labels, head the facts of
        // every section streamed after it: each section is rendered on its own.
        let header: Vec<String> = select(&doc, "#summary table.scenarios thead th")
            .iter()
            .map(text)
            .collect();
        let (step, took) = (&header[5], &header[6]);
        assert_ne!(step, "Protocol step", "{header:?}");
        let sections = fact_labels(&doc);
        assert_eq!(sections.len(), run.scenarios.len());
        for facts in &sections {
            assert!(facts.contains(step) && facts.contains(took), "{facts:?}");
        }
        // A large run's details pages carry the sections in the same language.
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("report.html");
        let layout = Layout {
            linked: true,
            lang: Lang::Da,
            ..Layout::for_run(&run, String::new())
        };
        write_html_laid_out(&run, &path, &layout, &[]).expect("written");
        let part = std::fs::read_to_string(dir.path().join("report-details/part-0001.html"))
            .expect("details page");
        assert!(part.contains("<html lang=\"da\">"));
        assert_eq!(fact_labels(&Html::parse_document(&part)), sections);
    }

    #[test]
    fn durations_read_in_seconds_then_minutes() {
        assert_eq!(duration(Duration::from_millis(120)), "0.12 s");
        assert_eq!(duration(Duration::from_secs(125)), "2 min 05 s");
    }
}
