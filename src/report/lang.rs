//! The languages of the HTML report (`--lang da|en`): the fixed text of the page in English or
//! Danish, and MedCom's grade names.
//!
//! MedCom's test protocols grade each step in Danish: F1 kritisk, F2 alvorlig, F3 betydelig,
//! F4 mindre betydelig, OK, Ikke relevant (e.g. "Testprotokol CareCommunication – afsendelse"
//! 5.0.2, April 2026, the assessment column). Text the run produces (findings, step summaries,
//! banners) stays as the checks wrote it, in English.

use serde::Serialize;

use crate::finding::Grade;

/// The language of the HTML report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Danish, with MedCom's Danish grade names.
    Da,
}

impl Lang {
    /// The page's `lang` attribute.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Da => "da",
        }
    }

    /// The fixed text of the report in this language.
    pub fn labels(self) -> &'static Labels {
        match self {
            Lang::En => &EN,
            Lang::Da => &DA,
        }
    }

    /// A grade's name on MedCom's scale in this language (`F2 alvorlig`, `F2 serious`).
    pub fn grade_name(self, grade: Grade) -> &'static str {
        match (self, grade) {
            (Lang::En, Grade::Ok) => "OK",
            (Lang::En, Grade::F4) => "F4 minor",
            (Lang::En, Grade::F3) => "F3 significant",
            (Lang::En, Grade::F2) => "F2 serious",
            (Lang::En, Grade::F1) => "F1 critical",
            (Lang::Da, Grade::Ok) => "OK",
            (Lang::Da, Grade::F4) => "F4 mindre betydelig",
            (Lang::Da, Grade::F3) => "F3 betydelig",
            (Lang::Da, Grade::F2) => "F2 alvorlig",
            (Lang::Da, Grade::F1) => "F1 kritisk",
        }
    }
}

/// The report's fixed text, one field per label the template writes, each named for what it
/// labels.
#[derive(Debug, Serialize)]
pub struct Labels {
    pub kicker: &'static str,
    pub title: &'static str,
    pub target: &'static str,
    pub harness_version: &'static str,
    pub started: &'static str,
    pub threshold: &'static str,
    pub passes: &'static str,
    pub duration: &'static str,
    pub summary: &'static str,
    pub passed: &'static str,
    pub failed: &'static str,
    pub errors: &'static str,
    pub skipped: &'static str,
    pub scenarios: &'static str,
    pub legend: &'static str,
    pub ok: &'static str,
    pub f4: &'static str,
    pub f3: &'static str,
    pub f2: &'static str,
    pub f1: &'static str,
    pub not_relevant: &'static str,
    pub legend_not_relevant: &'static str,
    pub legend_fail: &'static str,
    pub legend_error: &'static str,
    pub status: &'static str,
    pub verdict: &'static str,
    pub scenario: &'static str,
    pub title_col: &'static str,
    pub protocol_step: &'static str,
    pub findings_worse_than: &'static str,
    pub grade: &'static str,
    pub rule: &'static str,
    pub finding: &'static str,
    pub file: &'static str,
    pub standard: &'static str,
    pub tags: &'static str,
    pub why_failed: &'static str,
    pub steps: &'static str,
    pub step: &'static str,
    pub evidence: &'static str,
    pub rules_cited: &'static str,
    pub default_grade: &'static str,
    pub statement: &'static str,
    pub source: &'static str,
    pub reviews: &'static str,
    pub reviews_intro: &'static str,
    pub when: &'static str,
    pub reviewer: &'static str,
    pub action: &'static str,
    pub subject: &'static str,
    pub comment: &'static str,
    pub files: &'static str,
    pub original_grade: &'static str,
    pub attest: &'static str,
    pub override_: &'static str,
    pub remark: &'static str,
}

const EN: Labels = Labels {
    kicker: "certification report",
    title: "MedCom conformance report",
    target: "Target",
    harness_version: "Harness version",
    started: "Started",
    threshold: "Threshold",
    passes: "passes",
    duration: "Duration",
    summary: "Summary",
    passed: "passed",
    failed: "failed",
    errors: "errors",
    skipped: "skipped",
    scenarios: "scenarios",
    legend: "Grades on MedCom's scale, best to worst:",
    ok: "holds",
    f4: "minor",
    f3: "significant",
    f2: "serious",
    f1: "critical",
    not_relevant: "Not relevant",
    legend_not_relevant: "a reviewer may mark a step Not relevant",
    legend_fail: "A scenario fails on a finding worse than the threshold",
    legend_error: "; it is an error when the harness could not run it.",
    status: "Status",
    verdict: "Verdict",
    scenario: "Scenario",
    title_col: "Title",
    protocol_step: "Protocol step",
    findings_worse_than: "Findings worse than",
    grade: "Grade",
    rule: "Rule",
    finding: "Finding",
    file: "File",
    standard: "Standard",
    tags: "Tags",
    why_failed: "Why it failed",
    steps: "Steps",
    step: "Step",
    evidence: "Evidence",
    rules_cited: "Rules cited",
    default_grade: "Default grade",
    statement: "Statement",
    source: "Source",
    reviews: "Reviews",
    reviews_intro: "What reviewers recorded after the run (the review log, append-only). An override keeps the harness's original grade beside the reviewer's; the verdict above is the harness's.",
    when: "When",
    reviewer: "Reviewer",
    action: "Action",
    subject: "About",
    comment: "Comment",
    files: "Files",
    original_grade: "original",
    attest: "Attested",
    override_: "Grade overridden",
    remark: "Comment",
};

const DA: Labels = Labels {
    kicker: "certificeringsrapport",
    title: "MedCom testrapport",
    target: "Testet system",
    harness_version: "Harness-version",
    started: "Startet",
    threshold: "Tærskel",
    passes: "godkendes",
    duration: "Varighed",
    summary: "Resumé",
    passed: "bestået",
    failed: "ikke bestået",
    errors: "fejl i afviklingen",
    skipped: "sprunget over",
    scenarios: "scenarier",
    legend: "Vurderinger på MedComs skala, bedst til værst:",
    ok: "kravet er opfyldt",
    f4: "mindre betydelig",
    f3: "betydelig",
    f2: "alvorlig",
    f1: "kritisk",
    not_relevant: "Ikke relevant",
    legend_not_relevant: "en bedømmer kan markere et trin Ikke relevant",
    legend_fail: "Et scenarie består ikke ved et fund, der er værre end tærsklen",
    legend_error: "; det er en fejl i afviklingen, når harnessen ikke kunne køre det.",
    status: "Status",
    verdict: "Vurdering",
    scenario: "Scenarie",
    title_col: "Titel",
    protocol_step: "Protokoltrin",
    findings_worse_than: "Fund værre end",
    grade: "Vurdering",
    rule: "Regel",
    finding: "Fund",
    file: "Fil",
    standard: "Standard",
    tags: "Mærker",
    why_failed: "Hvorfor det ikke bestod",
    steps: "Trin",
    step: "Trin",
    evidence: "Dokumentation",
    rules_cited: "Anvendte regler",
    default_grade: "Standardvurdering",
    statement: "Krav",
    source: "Kilde",
    reviews: "Gennemgang",
    reviews_intro: "Hvad bedømmere har registreret efter kørslen (gennemgangsloggen, kun tilføjelser). En ændret vurdering står ved siden af harnessens oprindelige; resultatet øverst er harnessens.",
    when: "Tidspunkt",
    reviewer: "Bedømmer",
    action: "Handling",
    subject: "Vedrører",
    comment: "Kommentar",
    files: "Filer",
    original_grade: "oprindelig",
    attest: "Attesteret",
    override_: "Vurdering ændret",
    remark: "Kommentar",
};
