//! The high-volume parts of the HTML report written straight to the output: each scenario's
//! section, and the summary's tables of failing findings and of scenarios.
//!
//! Everything else on the page is `report.html.hbs`. These parts repeat once per scenario (or
//! finding), and through handlebars they were most of a large run's report time: a run of 10,000
//! scenarios spent 82 % of its report CPU rendering sections and most of the rest the tables'
//! rows (each view turned into a JSON value, each partial looked up and expanded per use). Here
//! each part is a function over the same views, writing the markup the templates wrote, byte for
//! byte, with every value from a run escaped by handlebars' own [`handlebars::html_escape`] (the
//! escaping `{{…}}` applies). The small pieces mirror the partials in `partials/` (which the
//! page's appendices still use); the test `the_written_pieces_match_the_partials` keeps the two
//! the same.
//!
//! The two summary tables are written in blocks of [`BLOCK_ROWS`] rows, each block its own table
//! in a `div.rows` that the browser lays out only when it scrolls into view (`content-visibility:
//! auto`), the columns fixed by a shared `colgroup` so that the blocks line up as one table. A
//! page of 10,000 rows so opens in about the time of a page of a few hundred (headless Chromium,
//! `--dump-dom`: 1.5 s where the page with one 10,000-row table took 4.5 s, 0.6 s of either
//! being the browser's start-up).

use std::io::Write;

use super::{
    EvidenceView, FindingView, GradeView, Layout, LinkView, Piece, ScenarioView, duration,
    failing_views, has_findings, status_class,
};
use crate::report::lang::Labels;
use crate::run::RunOutcome;

/// Rows of the summary table per block (each block laid out by the browser only when seen).
pub(super) const BLOCK_ROWS: usize = 250;

/// Writes `s` HTML-escaped as `{{s}}` does.
/// A long summary table written in blocks of [`BLOCK_ROWS`] rows: each block its own table
/// opened the same way (`opening`: the `div.rows`, the table and its `colgroup`), the first
/// with the header row.
struct Blocks {
    opening: String,
    rows: usize,
}

impl Blocks {
    /// The `</tbody>` and `</table></div>` that close a block; the template's line break follows
    /// the last one.
    const TAIL: &'static [u8] = b"    </tbody>\n  </table></div>";

    /// Opens the first block, with the header row of `cells` (as [`thead`]).
    fn start(
        out: &mut dyn Write,
        opening: String,
        cells: &[(&str, &str)],
    ) -> std::io::Result<Blocks> {
        writeln!(out, "{opening}")?;
        thead(out, cells)?;
        out.write_all(b"    <tbody>\n")?;
        Ok(Blocks { opening, rows: 0 })
    }

    /// Before each row: closes a full block and opens the next.
    fn next_row(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.rows > 0 && self.rows.is_multiple_of(BLOCK_ROWS) {
            out.write_all(Self::TAIL)?;
            writeln!(out, "\n{}", self.opening)?;
            out.write_all(b"    <tbody>\n")?;
        }
        self.rows += 1;
        Ok(())
    }

    /// Closes the last block.
    fn end(out: &mut dyn Write) -> std::io::Result<()> {
        out.write_all(Self::TAIL)
    }
}

/// A table's header row: each cell's attributes (`""` or ` class="num"`) and label (escaped).
fn thead(out: &mut dyn Write, cells: &[(&str, &str)]) -> std::io::Result<()> {
    out.write_all(b"    <thead><tr>")?;
    for (attributes, label) in cells {
        write!(out, "<th{attributes}>")?;
        esc(out, label)?;
        out.write_all(b"</th>")?;
    }
    out.write_all(b"</tr></thead>\n")
}

fn esc(out: &mut dyn Write, s: &str) -> std::io::Result<()> {
    if s.bytes()
        .any(|b| matches!(b, b'<' | b'>' | b'"' | b'&' | b'\'' | b'`' | b'='))
    {
        out.write_all(handlebars::html_escape(s).as_bytes())
    } else {
        out.write_all(s.as_bytes())
    }
}

/// `partials/grade.hbs`.
fn grade(out: &mut dyn Write, g: &GradeView, l: &Labels) -> std::io::Result<()> {
    out.write_all(b"<span class=\"grade ")?;
    esc(out, g.class)?;
    out.write_all(b"\" title=\"")?;
    esc(out, grade_title(l, g.class))?;
    out.write_all(b"\">")?;
    esc(out, g.text)?;
    out.write_all(b"</span>")
}

/// The grade badge's tooltip, by its class (`lookup @root.l.grade_titles class`).
fn grade_title(l: &Labels, class: &str) -> &'static str {
    let t = &l.grade_titles;
    match class {
        "ok" => t.ok,
        "f4" => t.f4,
        "f3" => t.f3,
        "f2" => t.f2,
        _ => t.f1,
    }
}

/// A scenario's status word, by its class (`lookup @root.l.status_words status`).
fn status_word(l: &Labels, class: &str) -> &'static str {
    let w = &l.status_words;
    match class {
        "passed" => w.passed,
        "failed" => w.failed,
        "error" => w.error,
        _ => w.skipped,
    }
}

/// `partials/status.hbs`.
fn status(out: &mut dyn Write, class: &str, l: &Labels) -> std::io::Result<()> {
    out.write_all(b"<span class=\"status ")?;
    esc(out, class)?;
    out.write_all(b"\">")?;
    esc(out, status_word(l, class))?;
    out.write_all(b"</span>")
}

/// `partials/text.hbs`: plain pieces as text, code pieces in `<code>`.
fn text(out: &mut dyn Write, pieces: &[Piece<'_>]) -> std::io::Result<()> {
    for p in pieces {
        if p.code {
            out.write_all(b"<code>")?;
            esc(out, p.text)?;
            out.write_all(b"</code>")?;
        } else {
            esc(out, p.text)?;
        }
    }
    Ok(())
}

/// `partials/evlink.hbs`.
fn evlink(out: &mut dyn Write, link: &LinkView<'_>, l: &Labels) -> std::io::Result<()> {
    match &link.anchor {
        Some(anchor) => {
            out.write_all(b"<a class=\"ev\" href=\"#")?;
            esc(out, anchor)?;
            out.write_all(b"\">")?;
            esc(out, link.id)?;
            out.write_all(b"</a>")
        }
        None => {
            out.write_all(b"<span class=\"ev missing\" title=\"")?;
            esc(out, l.no_evidence_with_id)?;
            out.write_all(b"\">")?;
            esc(out, link.id)?;
            out.write_all(b"</span>")
        }
    }
}

/// `evidence ` and a link to each item, each followed by a space.
fn evlinks(out: &mut dyn Write, links: &[LinkView<'_>], l: &Labels) -> std::io::Result<()> {
    esc(out, l.evidence_word)?;
    out.write_all(b" ")?;
    for link in links {
        evlink(out, link, l)?;
        out.write_all(b" ")?;
    }
    Ok(())
}

/// `partials/finding_row.hbs`.
fn finding_row(out: &mut dyn Write, f: &FindingView<'_>, l: &Labels) -> std::io::Result<()> {
    out.write_all(if f.failing {
        b"<tr class=\"fail\">\n  <td class=\"g\">"
    } else {
        b"<tr class=\"pass\">\n  <td class=\"g\">"
    })?;
    grade(out, &f.grade, l)?;
    out.write_all(b"</td>\n  <td class=\"r\"><code class=\"rule\"")?;
    if let Some(statement) = f.statement.filter(|s| !s.is_empty()) {
        out.write_all(b" title=\"")?;
        esc(out, statement)?;
        out.write_all(b"\"")?;
    }
    out.write_all(b">")?;
    esc(out, f.rule)?;
    out.write_all(b"</code></td>\n  <td><span class=\"message\">")?;
    text(out, &f.message)?;
    out.write_all(b"</span>")?;
    if let Some(location) = f.location.filter(|s| !s.is_empty()) {
        out.write_all(b"<span class=\"loc\">")?;
        esc(out, l.at)?;
        out.write_all(b" <code>")?;
        esc(out, location)?;
        out.write_all(b"</code></span>")?;
    }
    if !f.evidence.is_empty() {
        out.write_all(b"<span class=\"evidence-refs\">")?;
        evlinks(out, &f.evidence, l)?;
        out.write_all(b"</span>")?;
    }
    out.write_all(b"</td>\n</tr>")
}

/// The direction word, by its class (`lookup @root.l.directions direction`).
fn direction_word(l: &Labels, class: &str) -> &'static str {
    if class == "sent" {
        l.directions.sent
    } else {
        l.directions.received
    }
}

/// `partials/evidence.hbs`: an evidence item copied in, in a collapsible block.
fn evidence(out: &mut dyn Write, e: &EvidenceView<'_>, l: &Labels) -> std::io::Result<()> {
    out.write_all(b"<details class=\"evidence ")?;
    esc(out, e.direction)?;
    out.write_all(b"\">\n  <summary><code class=\"ev-id\">")?;
    esc(out, e.id)?;
    out.write_all(b"</code> <span class=\"dir ")?;
    esc(out, e.direction)?;
    out.write_all(b"\">")?;
    esc(out, direction_word(l, e.direction))?;
    out.write_all(if e.direction == "sent" {
        b" &rarr;</span> <span class=\"label\">"
    } else {
        b" &larr;</span> <span class=\"label\">"
    })?;
    text(out, &e.label)?;
    out.write_all(b"</span> <span class=\"muted\">")?;
    esc(out, e.media_type)?;
    write!(out, " &middot; {} ", e.size)?;
    esc(out, l.bytes)?;
    out.write_all(b"</span></summary>\n  <div class=\"ev-body\" id=\"")?;
    esc(out, &e.anchor)?;
    out.write_all(b"\">\n    <p class=\"hash\">SHA-256 <code>")?;
    esc(out, e.sha256)?;
    out.write_all(b"</code></p>\n    <pre class=\"evidence\">")?;
    esc(out, &e.pretty)?;
    out.write_all(b"</pre>\n  </div>\n</details>")
}

/// `<span class="muted">&ndash;</span>`: nothing to show.
const NONE: &[u8] = b"<span class=\"muted\">&ndash;</span>";

/// One scenario's section: its facts, why it failed, its steps (findings, golden diffs) and its
/// evidence, copied in or linked as `v.linked` says.
pub(super) fn scenario(out: &mut dyn Write, v: &ScenarioView<'_>) -> std::io::Result<()> {
    let l = v.l;
    out.write_all(b"<section class=\"scenario st-")?;
    esc(out, v.status)?;
    out.write_all(b"\" id=\"")?;
    esc(out, &v.anchor)?;
    out.write_all(b"\">\n  <div class=\"scenario-head\">")?;
    status(out, v.status, l)?;
    if v.has_findings {
        out.write_all(b" ")?;
        grade(out, &v.verdict, l)?;
    }
    write!(out, " <h2><span class=\"n\">{}.</span> ", v.number)?;
    esc(out, v.title)?;
    out.write_all(b"</h2></div>\n  <dl class=\"facts\">\n    <div><dt>Id</dt><dd><code>")?;
    esc(out, v.id)?;
    out.write_all(b"</code></dd></div>\n    <div><dt>")?;
    esc(out, l.file)?;
    out.write_all(b"</dt><dd><code>")?;
    esc(out, v.path)?;
    out.write_all(b"</code></dd></div>\n    <div><dt>")?;
    esc(out, l.standard)?;
    out.write_all(b"</dt><dd>")?;
    esc(out, v.standard)?;
    out.write_all(b"</dd></div>\n    <div><dt>")?;
    esc(out, l.protocol_step)?;
    out.write_all(b"</dt><dd>")?;
    match v.protocol_step.filter(|p| !p.is_empty()) {
        Some(p) => esc(out, p)?,
        None => out.write_all(NONE)?,
    }
    out.write_all(b"</dd></div>\n    <div><dt>")?;
    esc(out, l.tags)?;
    out.write_all(b"</dt><dd>")?;
    for tag in v.tags {
        out.write_all(b"<span class=\"tag\">")?;
        esc(out, tag)?;
        out.write_all(b"</span>")?;
    }
    if v.tags.is_empty() {
        out.write_all(NONE)?;
    }
    out.write_all(b"</dd></div>\n    <div><dt>")?;
    esc(out, l.duration)?;
    out.write_all(b"</dt><dd>")?;
    esc(out, &v.duration)?;
    out.write_all(b"</dd></div>\n  </dl>\n")?;
    if let Some(reason) = v.reason.as_ref().filter(|r| !r.is_empty()) {
        out.write_all(b"  <p class=\"reason ")?;
        esc(out, v.status)?;
        out.write_all(b"\"><strong>")?;
        esc(out, status_word(l, v.status))?;
        out.write_all(b":</strong> ")?;
        text(out, reason)?;
        out.write_all(b"</p>\n")?;
    }
    if !v.failing.is_empty() {
        out.write_all(b"  <div class=\"failing\">\n    <h3>")?;
        esc(out, l.why_failed)?;
        out.write_all(b"</h3>\n    <ul>\n")?;
        for f in &v.failing {
            out.write_all(b"      <li>")?;
            grade(out, &f.finding.grade, l)?;
            out.write_all(b" <code class=\"rule\">")?;
            esc(out, f.finding.rule)?;
            out.write_all(b"</code> <span class=\"message\">")?;
            text(out, &f.finding.message)?;
            out.write_all(b"</span> <span class=\"where\">(")?;
            esc(out, l.step_word)?;
            write!(out, " {} <code>", f.step)?;
            esc(out, f.kind)?;
            out.write_all(b"</code>)</span></li>\n")?;
        }
        out.write_all(b"    </ul>\n  </div>\n")?;
    }
    if !v.steps.is_empty() {
        out.write_all(b"  <h3>")?;
        esc(out, l.steps)?;
        out.write_all(b"</h3>\n  <ol class=\"steps\">\n")?;
        for step in &v.steps {
            out.write_all(
                b"    <li class=\"step\">\n      <div class=\"step-head\"><span class=\"n\">",
            )?;
            esc(out, l.step)?;
            write!(out, " {}</span> <code class=\"kind\">", step.index)?;
            esc(out, step.kind)?;
            out.write_all(b"</code> <span class=\"state ")?;
            esc(out, step.status)?;
            out.write_all(b"\">")?;
            esc(
                out,
                match step.status {
                    "ran" => l.step_states.ran,
                    "skipped" => l.step_states.skipped,
                    _ => l.step_states.error,
                },
            )?;
            out.write_all(b"</span>")?;
            if !step.findings.is_empty() {
                out.write_all(b" ")?;
                grade(out, &step.verdict, l)?;
            }
            out.write_all(b" <span class=\"dur\">")?;
            esc(out, &step.duration)?;
            out.write_all(b"</span></div>\n      <p class=\"step-summary\">")?;
            text(out, &step.summary)?;
            out.write_all(b"</p>\n")?;
            if let Some(reason) = step.reason.as_ref().filter(|r| !r.is_empty()) {
                out.write_all(b"      <p class=\"reason ")?;
                esc(out, step.status)?;
                out.write_all(b"\">")?;
                text(out, reason)?;
                out.write_all(b"</p>\n")?;
            }
            if !step.evidence.is_empty() {
                out.write_all(b"      <p class=\"evidence-refs\">")?;
                evlinks(out, &step.evidence, l)?;
                out.write_all(b"</p>\n")?;
            }
            if !step.findings.is_empty() {
                out.write_all(b"      <table class=\"findings\">\n        <thead><tr><th>")?;
                esc(out, l.grade)?;
                out.write_all(b"</th><th>")?;
                esc(out, l.rule)?;
                out.write_all(b"</th><th>")?;
                esc(out, l.finding)?;
                out.write_all(b"</th></tr></thead>\n        <tbody>\n")?;
                for f in &step.findings {
                    finding_row(out, f, l)?;
                }
                out.write_all(b"\n        </tbody>\n      </table>\n")?;
            }
            for d in &step.diffs {
                out.write_all(b"      <p class=\"diff-title\">")?;
                esc(out, l.golden_diff_against)?;
                out.write_all(b" <code>")?;
                esc(out, d.golden)?;
                out.write_all(b"</code> <span class=\"muted\">(<span class=\"del\">-</span> ")?;
                esc(out, l.golden)?;
                out.write_all(b", <span class=\"add\">+</span> ")?;
                esc(out, l.actual)?;
                out.write_all(b")</span></p>\n      <pre class=\"diff\">")?;
                for line in &d.lines {
                    out.write_all(b"<span class=\"")?;
                    esc(out, line.class)?;
                    out.write_all(b"\">")?;
                    esc(out, line.text)?;
                    out.write_all(b"</span>")?;
                }
                out.write_all(b"</pre>\n")?;
            }
            out.write_all(b"    </li>\n")?;
        }
        out.write_all(b"  </ol>\n")?;
    }
    if !v.evidence.is_empty() {
        out.write_all(b"  <h3>")?;
        esc(out, l.evidence)?;
        writeln!(out, " ({})</h3>", v.evidence.len())?;
        if v.linked {
            out.write_all(b"  <table class=\"evidence-files\"><tbody>\n")?;
            for e in &v.evidence {
                out.write_all(b"    <tr id=\"")?;
                esc(out, &e.anchor)?;
                out.write_all(b"\"><td class=\"nowrap\">")?;
                match e.file.as_deref().filter(|f| !f.is_empty()) {
                    Some(file) => {
                        out.write_all(b"<a class=\"ev\" href=\"")?;
                        esc(out, file)?;
                        out.write_all(b"\">")?;
                        esc(out, e.id)?;
                        out.write_all(b"</a>")?;
                    }
                    None => {
                        out.write_all(b"<code class=\"ev\">")?;
                        esc(out, e.id)?;
                        out.write_all(b"</code>")?;
                    }
                }
                out.write_all(b"</td><td class=\"nowrap dir ")?;
                esc(out, e.direction)?;
                out.write_all(b"\">")?;
                esc(out, direction_word(l, e.direction))?;
                out.write_all(b"</td><td>")?;
                text(out, &e.label)?;
                out.write_all(b"</td><td class=\"num muted\">")?;
                esc(out, e.media_type)?;
                write!(out, " &middot; {} ", e.size)?;
                esc(out, l.bytes)?;
                out.write_all(b"</td></tr>\n")?;
            }
            out.write_all(b"  </tbody></table>\n")?;
        } else {
            for e in &v.evidence {
                evidence(out, e, l)?;
            }
            out.write_all(b"\n")?;
        }
    }
    out.write_all(b"</section>\n")
}

/// The summary's table of scenarios, one row each, in blocks of [`BLOCK_ROWS`]: the first
/// block's table has the header; every block has the same fixed columns. `anchors` and `layout`
/// say where each row links (its section, on this page or a details page).
pub(super) fn scenario_table(
    out: &mut dyn Write,
    run: &RunOutcome,
    anchors: &[super::Anchors],
    layout: &Layout,
) -> std::io::Result<()> {
    let l = layout.lang.labels();
    // Fixed columns, so that blocks laid out apart line up: sized (in `ch` of the page's font)
    // for the widest status word of the page's language and the longest id (within reason).
    let status_ch = [
        l.status_words.passed,
        l.status_words.failed,
        l.status_words.error,
        l.status_words.skipped,
    ]
    .iter()
    .map(|w| w.chars().count())
    .max()
    .unwrap_or(8)
        + 4;
    let id_ch = run
        .scenarios
        .iter()
        .map(|s| s.id.chars().count())
        .max()
        .unwrap_or(10)
        .clamp(10, 40)
        + 2;
    let number_ch = run.scenarios.len().to_string().len().max(1) + 3;
    let mut table = Blocks::start(
        out,
        format!(
            "  <div class=\"rows\"><table class=\"scenarios\"><colgroup><col style=\"width: {number_ch}ch\"><col style=\"width: {status_ch}ch\"><col style=\"width: 7ch\"><col style=\"width: {id_ch}ch\"><col><col style=\"width: 12ch\"><col style=\"width: 11ch\"></colgroup>"
        ),
        &[
            (" class=\"num\"", "#"),
            ("", l.status),
            ("", l.verdict),
            ("", l.scenario),
            ("", l.title_col),
            ("", l.protocol_step),
            (" class=\"num\"", l.duration),
        ],
    )?;
    for (i, (s, a)) in run.scenarios.iter().zip(anchors).enumerate() {
        table.next_row(out)?;
        row(out, i, s, a, layout, l)?;
    }
    Blocks::end(out)
}

/// One row of the summary table.
fn row(
    out: &mut dyn Write,
    i: usize,
    s: &crate::run::ScenarioOutcome,
    a: &super::Anchors,
    layout: &Layout,
    l: &Labels,
) -> std::io::Result<()> {
    let class = status_class(s.status);
    out.write_all(b"      <tr class=\"st-")?;
    esc(out, class)?;
    write!(
        out,
        "\"><td class=\"num\">{}</td><td class=\"nowrap\">",
        i + 1
    )?;
    status(out, class, l)?;
    out.write_all(b"</td><td class=\"nowrap\">")?;
    if has_findings(s) {
        grade(out, &GradeView::of(s.verdict), l)?;
    } else {
        out.write_all(b"<span class=\"muted\" title=\"")?;
        esc(out, l.no_findings)?;
        out.write_all(b"\">&ndash;</span>")?;
    }
    out.write_all(b"</td><td class=\"id\"><a href=\"")?;
    esc(out, &layout.page_of(i))?;
    out.write_all(b"#")?;
    esc(out, &a.scenario)?;
    out.write_all(b"\">")?;
    esc(out, &s.id)?;
    out.write_all(b"</a></td><td>")?;
    esc(out, &s.title)?;
    out.write_all(b"</td><td>")?;
    match s.protocol_step.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => esc(out, p)?,
        None => out.write_all(NONE)?,
    }
    out.write_all(b"</td><td class=\"num\">")?;
    esc(out, &duration(s.duration))?;
    out.write_all(b"</td></tr>\n")
}

/// The summary's table of every finding worse than the threshold, scenario by scenario, in
/// blocks of [`BLOCK_ROWS`] as the scenario table is (a vendor that fails every scenario makes
/// tens of thousands of rows).
pub(super) fn failing_table(
    out: &mut dyn Write,
    run: &RunOutcome,
    anchors: &[super::Anchors],
    layout: &Layout,
) -> std::io::Result<()> {
    let l = layout.lang.labels();
    let rule_ch = run
        .scenarios
        .iter()
        .flat_map(|s| s.failures(run.threshold))
        .map(|(_, f)| f.rule.as_str().chars().count())
        .max()
        .unwrap_or(10)
        .clamp(6, 30)
        + 3;
    let mut table = Blocks::start(
        out,
        format!(
            "  <div class=\"rows\"><table class=\"failing-all\"><colgroup><col style=\"width: 7ch\"><col style=\"width: {rule_ch}ch\"><col style=\"width: 30%\"><col></colgroup>"
        ),
        &[
            ("", l.grade),
            ("", l.rule),
            ("", l.scenario_step),
            ("", l.finding),
        ],
    )?;
    for (i, (s, a)) in run.scenarios.iter().zip(anchors).enumerate() {
        if s.failures(run.threshold).next().is_none() {
            continue;
        }
        for f in failing_views(s, run.threshold, a, &layout.page_of(i)) {
            table.next_row(out)?;
            out.write_all(b"      <tr class=\"fail\"><td class=\"g\">")?;
            grade(out, &f.finding.grade, l)?;
            out.write_all(b"</td><td class=\"r\"><code class=\"rule\">")?;
            esc(out, f.finding.rule)?;
            out.write_all(b"</code></td><td><a href=\"")?;
            esc(out, &f.scenario_page)?;
            out.write_all(b"#")?;
            esc(out, &f.scenario_anchor)?;
            out.write_all(b"\">")?;
            esc(out, f.scenario_id)?;
            out.write_all(b"</a><span class=\"where\">")?;
            esc(out, l.step_word)?;
            write!(out, " {} <code>", f.step)?;
            esc(out, f.kind)?;
            out.write_all(b"</code></span></td><td><span class=\"message\">")?;
            text(out, &f.finding.message)?;
            out.write_all(b"</span></td></tr>\n")?;
        }
    }
    Blocks::end(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Grade;
    use crate::report::lang::Lang;

    /// Renders partial `name` over `value` with the report's registry (its escaping and
    /// settings).
    fn partial<T: serde::Serialize>(name: &str, value: &T, lang: Lang) -> String {
        #[derive(serde::Serialize)]
        struct Root<'a, T> {
            #[serde(flatten)]
            value: &'a T,
            l: &'static Labels,
        }
        super::super::REGISTRY
            .render_template(
                &format!("{{{{> {name} this}}}}"),
                &Root {
                    value,
                    l: lang.labels(),
                },
            )
            .expect("the partial renders")
    }

    fn written(f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> String {
        let mut out = Vec::new();
        f(&mut out).expect("writing to memory does not fail");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn the_written_pieces_match_the_partials() {
        let hostile = crate::report::sample::HOSTILE;
        let message = format!("Value `{hostile}` is wrong = 'x'");
        let finding = crate::finding::Finding {
            location: Some(format!("Bundle.entry[0] {hostile}")),
            ..crate::rule::KR3.breach(message.clone())
        };
        let anchors = std::collections::HashMap::from([("e2", "s.e2".to_owned())]);
        let finding = crate::finding::Finding {
            evidence: vec!["e2".into(), "missing".into()],
            ..finding
        };
        for lang in [Lang::En, Lang::Da] {
            let l = lang.labels();
            for threshold in [Grade::F1, Grade::F4] {
                let view = FindingView::new(&finding, threshold, &anchors);
                assert_eq!(
                    written(|o| finding_row(o, &view, l)),
                    partial("finding_row", &view, lang)
                );
            }
            for g in [Grade::Ok, Grade::F4, Grade::F3, Grade::F2, Grade::F1] {
                let view = GradeView::of(g);
                assert_eq!(
                    written(|o| grade(o, &view, l)),
                    partial("grade", &view, lang)
                );
            }
            let mut e = crate::run::Evidence::new(
                "e1".into(),
                crate::run::Direction::Received,
                format!("Answer `{hostile}`"),
                "application/fhir+json".into(),
                hostile.as_bytes().to_vec(),
            );
            for linked in [false, true] {
                e.direction = if linked {
                    crate::run::Direction::Sent
                } else {
                    crate::run::Direction::Received
                };
                let layout = Layout {
                    lang,
                    ..Layout::linking(linked, String::new())
                };
                let view = EvidenceView::new(&e, "s.e1".into(), &layout);
                assert_eq!(
                    written(|o| evidence(o, &view, l)),
                    partial("evidence", &view, lang)
                );
            }
        }
    }
}
