//! The languages of the HTML report (`--lang da|en`): the fixed text of the page in English or
//! Danish, and MedCom's grade names.
//!
//! MedCom's test protocols grade each step in Danish: F1 kritisk, F2 alvorlig, F3 betydelig,
//! F4 mindre betydelig, OK, Ikke relevant (e.g. "Testprotokol CareCommunication – afsendelse"
//! 5.0.2, April 2026, the assessment column). Every fixed word of the page is here: headings,
//! column names, status and verdict words, grade tooltips, the banners, the certification block,
//! the coverage table and the details pages' navigation. What the run's material says stays as
//! written: findings and step summaries (the checks' text), scenario titles, MedCom's rule
//! statements and the protocol steps' titles (MedCom's English protocols).

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

    /// The run's headline verdict in this language (`PASSED`, `BESTÅET`).
    pub fn verdict(self, verdict: crate::run::RunVerdict) -> &'static str {
        use crate::run::RunVerdict as V;
        match (self, verdict) {
            (Lang::En, v) => v.as_str(),
            (Lang::Da, V::Passed) => "BESTÅET",
            (Lang::Da, V::Failed) => "IKKE BESTÅET",
            (Lang::Da, V::Incomplete) => "UFULDSTÆNDIG",
            (Lang::Da, V::InProgress) => "I GANG",
            (Lang::Da, V::NotRun) => "IKKE KØRT",
        }
    }

    /// `en` or `da`, by this language: for the report's sentences with values in them.
    pub fn pick<T>(self, en: T, da: T) -> T {
        match self {
            Lang::En => en,
            Lang::Da => da,
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
    // The rest of the page: the summary's other tables, the details pages, the certification
    // block and the coverage table.
    /// The page's `<title>` after the verdict: "… for <target>".
    pub title_for: &'static str,
    pub unclaimed_failed: &'static str,
    pub below: &'static str,
    pub scenario_step: &'static str,
    /// "step" inside a sentence (`step 2`).
    pub step_word: &'static str,
    pub no_findings: &'static str,
    pub unclaimed: &'static str,
    pub unclaimed_intro: &'static str,
    pub not_applicable_here: &'static str,
    pub why: &'static str,
    pub written_by: &'static str,
    pub footer_linked: &'static str,
    pub footer_self_contained: &'static str,
    /// "evidence" before a list of evidence links.
    pub evidence_word: &'static str,
    /// "at" before a finding's location.
    pub at: &'static str,
    pub no_evidence_with_id: &'static str,
    pub golden_diff_against: &'static str,
    pub golden: &'static str,
    pub actual: &'static str,
    pub bytes: &'static str,
    pub back_to_summary: &'static str,
    pub scenarios_cap: &'static str,
    pub of: &'static str,
    pub parts_intro: &'static str,
    pub more_bytes_not_shown: &'static str,
    pub no_ig_text: &'static str,
    pub system_under_test: &'static str,
    pub warning: &'static str,
    pub not_stated: &'static str,
    pub vendor: &'static str,
    pub system: &'static str,
    pub version: &'static str,
    pub test_type: &'static str,
    pub tester: &'static str,
    pub configuration: &'static str,
    pub config_sha256: &'static str,
    pub implementation_guide: &'static str,
    pub found_in: &'static str,
    pub path: &'static str,
    pub no_packages: &'static str,
    pub rules_in_force: &'static str,
    pub coverage: &'static str,
    pub steps_automatic: &'static str,
    pub need_manual: &'static str,
    pub not_run: &'static str,
    pub manual_note: &'static str,
    pub manual_note_end: &'static str,
    pub what: &'static str,
    pub harness: &'static str,
    pub manual_evidence: &'static str,
    pub none: &'static str,
    pub yes: &'static str,
    pub no_protocol_step: &'static str,
    pub unknown_steps: &'static str,
    pub step_scenario: &'static str,
    /// A scenario's status, by its class (`passed`, `failed`, `error`, `skipped`).
    pub status_words: StatusWords,
    /// A step's state, by its class (`ran`, `skipped`, `error`).
    pub step_states: StepStates,
    /// A grade badge's tooltip, by its class (`ok`, `f4` … `f1`).
    pub grade_titles: GradeTitles,
    /// An evidence item's direction, by its class (`sent`, `received`).
    pub directions: Directions,
    /// A coverage row's state, by its class (`passed`, `failed`, `skipped`, `none`).
    pub coverage_states: CoverageStates,
    /// Where an IG package was found, by [`crate::certification::package::PackageSource`].
    pub package_sources: PackageSources,
    /// The test type, by [`crate::certification::TestType`].
    pub test_types: TestTypes,
}

/// Scenario status words, looked up by the status class.
#[derive(Debug, Serialize)]
pub struct StatusWords {
    pub passed: &'static str,
    pub failed: &'static str,
    pub error: &'static str,
    pub skipped: &'static str,
}

/// Step states, looked up by the state class.
#[derive(Debug, Serialize)]
pub struct StepStates {
    pub ran: &'static str,
    pub skipped: &'static str,
    pub error: &'static str,
}

/// Grade tooltips, looked up by the grade class.
#[derive(Debug, Serialize)]
pub struct GradeTitles {
    pub ok: &'static str,
    pub f4: &'static str,
    pub f3: &'static str,
    pub f2: &'static str,
    pub f1: &'static str,
}

/// Evidence directions, looked up by the direction class.
#[derive(Debug, Serialize)]
pub struct Directions {
    pub sent: &'static str,
    pub received: &'static str,
}

/// Coverage states, looked up by the coverage row's class.
#[derive(Debug, Serialize)]
pub struct CoverageStates {
    pub passed: &'static str,
    pub failed: &'static str,
    pub skipped: &'static str,
    pub none: &'static str,
}

/// Where an IG package was found.
#[derive(Debug, Serialize)]
pub struct PackageSources {
    pub given: &'static str,
    pub cache: &'static str,
    pub corpus: &'static str,
}

/// MedCom's two test types.
#[derive(Debug, Serialize)]
pub struct TestTypes {
    pub self_test: &'static str,
    pub final_test: &'static str,
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
    title_for: "MedCom conformance report for",
    unclaimed_failed: "Failed by messages no scenario claimed (see",
    below: "below",
    scenario_step: "Scenario · step",
    step_word: "step",
    no_findings: "no findings",
    unclaimed: "Messages no scenario claimed",
    unclaimed_intro: "The vendor sent these during the run and no scenario step expected them.",
    not_applicable_here: "Not applicable to this target",
    why: "Why",
    written_by: "Written by",
    footer_linked: "This run is large: to keep this page quick to open, the evidence is not copied into it; each item links to its file in the evidence folder beside the JSON results (keep the two together). No script and no external resource.",
    footer_self_contained: "This file is self-contained: no script and no external resource; every message is shown as it travelled, escaped. Evidence blocks open by click, and all open when printed.",
    evidence_word: "evidence",
    at: "at",
    no_evidence_with_id: "no evidence with this id",
    golden_diff_against: "Golden diff against",
    golden: "golden",
    actual: "actual",
    bytes: "bytes",
    back_to_summary: "Back to the summary",
    scenarios_cap: "Scenarios",
    of: "of",
    parts_intro: "This run is large: each scenario's steps, findings and evidence are on a details page, linked from the table above.",
    more_bytes_not_shown: "more bytes not shown; the whole item is in the evidence folder beside the JSON results",
    no_ig_text: "An invariant of a loaded profile; the IG's text of it was not available when the finding was made.",
    system_under_test: "System under test",
    warning: "Warning",
    not_stated: "not stated",
    vendor: "Vendor",
    system: "System",
    version: "Version",
    test_type: "Test type",
    tester: "Tester",
    configuration: "Configuration",
    config_sha256: "Effective configuration, SHA-256",
    implementation_guide: "Implementation guide",
    found_in: "Found in",
    path: "Path",
    no_packages: "none: profile validation did not run",
    rules_in_force: "in force",
    coverage: "MedCom test protocol coverage",
    steps_automatic: "steps automatic",
    need_manual: "need manual evidence",
    not_run: "not run",
    manual_note: "Manual evidence (\"yes\" below)",
    manual_note_end: "added to the protocol by the tester; the harness cannot see it.",
    what: "What",
    harness: "Harness",
    manual_evidence: "Manual evidence",
    none: "none",
    yes: "yes",
    no_protocol_step: "No scenario of this run names a MedCom protocol step",
    unknown_steps: "Steps no protocol lists",
    step_scenario: "scenario",
    status_words: StatusWords {
        passed: "PASSED",
        failed: "FAILED",
        error: "ERROR",
        skipped: "SKIPPED",
    },
    step_states: StepStates {
        ran: "ran",
        skipped: "skipped",
        error: "error",
    },
    grade_titles: GradeTitles {
        ok: "OK: the rule holds",
        f4: "F4: minor (mindre betydelig)",
        f3: "F3: significant (betydelig)",
        f2: "F2: serious (alvorlig)",
        f1: "F1: critical (kritisk)",
    },
    directions: Directions {
        sent: "sent",
        received: "received",
    },
    coverage_states: CoverageStates {
        passed: "automatic: passed",
        failed: "automatic: failed",
        skipped: "not run",
        none: "not run: no scenario",
    },
    package_sources: PackageSources {
        given: "--ig / config",
        cache: "FHIR package cache",
        corpus: "MedCom corpus",
    },
    test_types: TestTypes {
        self_test: "self-test (egentest)",
        final_test: "final test (sluttest)",
    },
};

const DA: Labels = Labels {
    kicker: "certificeringsrapport",
    title: "MedCom testrapport",
    target: "Testmål",
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
    title_for: "MedCom testrapport for",
    unclaimed_failed: "Ikke bestået på grund af meddelelser, som intet scenarie ventede (se",
    below: "nedenfor",
    scenario_step: "Scenarie · trin",
    step_word: "trin",
    no_findings: "ingen fund",
    unclaimed: "Meddelelser, som intet scenarie ventede",
    unclaimed_intro: "Leverandøren sendte disse under kørslen, og intet scenarietrin ventede dem.",
    not_applicable_here: "Gælder ikke for dette testmål",
    why: "Hvorfor",
    written_by: "Skrevet af",
    footer_linked: "Kørslen er stor: for at siden åbner hurtigt, er dokumentationen ikke kopieret ind; hvert element linker til sin fil i dokumentationsmappen ved siden af JSON-resultaterne (hold de to sammen). Intet script og ingen eksterne ressourcer.",
    footer_self_contained: "Filen er selvstændig: intet script og ingen eksterne ressourcer; hver meddelelse vises, som den blev sendt, escaped. Dokumentationsblokke åbnes med et klik, og alle åbnes ved udskrift.",
    evidence_word: "dokumentation",
    at: "ved",
    no_evidence_with_id: "ingen dokumentation med dette id",
    golden_diff_against: "Forskel fra reference",
    golden: "reference",
    actual: "faktisk",
    bytes: "byte",
    back_to_summary: "Tilbage til oversigten",
    scenarios_cap: "Scenarier",
    of: "af",
    parts_intro: "Kørslen er stor: hvert scenaries trin, fund og dokumentation står på en detaljeside, linket fra tabellen ovenfor.",
    more_bytes_not_shown: "byte mere vises ikke; hele elementet ligger i dokumentationsmappen ved siden af JSON-resultaterne",
    no_ig_text: "En invariant i en indlæst profil; IG'ens tekst til den var ikke tilgængelig, da fundet blev gjort.",
    system_under_test: "Testet system",
    warning: "Advarsel",
    not_stated: "ikke oplyst",
    vendor: "Leverandør",
    system: "System",
    version: "Version",
    test_type: "Testtype",
    tester: "Tester",
    configuration: "Konfiguration",
    config_sha256: "Anvendt konfiguration, SHA-256",
    implementation_guide: "Implementeringsguide",
    found_in: "Fundet i",
    path: "Sti",
    no_packages: "ingen: profilvalidering blev ikke udført",
    rules_in_force: "gældende",
    coverage: "Dækning af MedComs testprotokoller",
    steps_automatic: "trin automatisk",
    need_manual: "kræver manuel dokumentation",
    not_run: "ikke kørt",
    manual_note: "Manuel dokumentation (\"ja\" nedenfor)",
    manual_note_end: "tilføjes protokollen af testeren; harnessen kan ikke se den.",
    what: "Hvad",
    harness: "Harness",
    manual_evidence: "Manuel dokumentation",
    none: "ingen",
    yes: "ja",
    no_protocol_step: "Intet scenarie i denne kørsel angiver et trin i MedComs testprotokoller",
    unknown_steps: "Trin, som ingen protokol har",
    step_scenario: "scenarie",
    status_words: StatusWords {
        passed: "BESTÅET",
        failed: "IKKE BESTÅET",
        error: "FEJL I AFVIKLINGEN",
        skipped: "SPRUNGET OVER",
    },
    step_states: StepStates {
        ran: "kørt",
        skipped: "sprunget over",
        error: "fejl i afviklingen",
    },
    grade_titles: GradeTitles {
        ok: "OK: kravet er opfyldt",
        f4: "F4 mindre betydelig",
        f3: "F3 betydelig",
        f2: "F2 alvorlig",
        f1: "F1 kritisk",
    },
    directions: Directions {
        sent: "sendt",
        received: "modtaget",
    },
    coverage_states: CoverageStates {
        passed: "automatisk: bestået",
        failed: "automatisk: ikke bestået",
        skipped: "ikke kørt",
        none: "ikke kørt: intet scenarie",
    },
    package_sources: PackageSources {
        given: "--ig / konfiguration",
        cache: "FHIR-pakkecache",
        corpus: "MedComs korpus",
    },
    test_types: TestTypes {
        self_test: "egentest",
        final_test: "sluttest",
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;
    use scraper::{ElementRef, Html, Node};

    /// The English words of the report's frame, written out from the English report as a
    /// person reads it (not taken from [`EN`]): none may appear in a Danish report.
    const ENGLISH_UI: &[&str] = &[
        "conformance report",
        "System under test",
        "Vendor",
        "Test type",
        "not stated",
        "Configuration",
        "Effective configuration",
        "Implementation guide",
        "Found in",
        "profile validation did not run",
        "in force",
        "test protocol coverage",
        "steps automatic",
        "need manual evidence",
        "not run",
        "Manual evidence",
        "Summary",
        "passed",
        "failed",
        "skipped",
        "PASSED",
        "FAILED",
        "INCOMPLETE",
        "ERROR",
        "SKIPPED",
        "Grades on MedCom",
        "critical",
        "serious",
        "significant",
        "minor",
        "the rule holds",
        "Findings worse than",
        "Grade",
        "Rule",
        "Finding",
        "Scenario",
        "Title",
        "Protocol step",
        "Duration",
        "Step ",
        "step ",
        "evidence",
        "Evidence",
        "Why it failed",
        "Golden diff against",
        "actual",
        "sent",
        "received",
        "bytes",
        "Messages no scenario claimed",
        "The vendor sent these",
        "Rules cited",
        "Default grade",
        "Reviews",
        "Reviewer",
        "original",
        "Written by",
        "self-contained",
        "no evidence with this id",
        "Back to the summary",
        "Incomplete",
        "not every scenario ran",
    ];

    /// Whether `el` holds text the run's material wrote rather than the page: a finding, a step
    /// summary or reason, a quoted value, an evidence label or body, a scenario's title, a rule's
    /// statement and source, a protocol step's title and source.
    fn material(el: &ElementRef<'_>) -> bool {
        let v = el.value();
        let class = |c: &str| v.classes().any(|k| k == c);
        matches!(v.name(), "code" | "pre" | "style")
            || class("message")
            || class("step-summary")
            || class("reason")
            || class("label")
            || class("unclaimed-failures")
            || (v.name() == "h2"
                && el
                    .parent()
                    .and_then(ElementRef::wrap)
                    .is_some_and(|p| p.value().classes().any(|k| k == "scenario-head")))
            || (v.name() == "tbody"
                && el
                    .ancestors()
                    .filter_map(ElementRef::wrap)
                    .any(|a| a.value().id() == Some("rules")))
            || (v.name() == "td"
                && el
                    .parent()
                    .and_then(ElementRef::wrap)
                    .is_some_and(|tr| tr.value().classes().any(|k| k.starts_with("cov-")))
                && el
                    .prev_siblings()
                    .filter(|n| n.value().is_element())
                    .count()
                    == 2)
            || (v.name() == "td"
                && el
                    .ancestors()
                    .filter_map(ElementRef::wrap)
                    .any(|a| a.value().classes().any(|k| k == "scenarios"))
                && el
                    .prev_siblings()
                    .filter(|n| n.value().is_element())
                    .count()
                    == 4)
            || (v.name() == "p" && class("note"))
    }

    /// The page's own text: every text node and `title` attribute outside the run's material.
    fn frame_text(html: &str) -> String {
        let doc = Html::parse_document(html);
        let mut out = String::new();
        for node in doc.tree.nodes() {
            let in_material = node
                .ancestors()
                .filter_map(ElementRef::wrap)
                .any(|e| material(&e));
            if in_material {
                continue;
            }
            match node.value() {
                Node::Text(t) => {
                    out.push_str(t);
                    out.push('\n');
                }
                Node::Element(e) => {
                    if let Some(t) = e.attr("title") {
                        out.push_str(t);
                        out.push('\n');
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// The sample run with everything the page can show: a certification record without IG
    /// packages (the warning), a scenario naming a protocol step, a scenario not applicable, and
    /// an override in the review log.
    fn full_run() -> (crate::run::RunOutcome, Vec<crate::review::Entry>) {
        let mut run = sample::run();
        run.certification = Some(crate::certification::Certification::new(
            &crate::config::Config::default_config(),
            None,
            Vec::new(),
        ));
        run.scenarios[0].protocol_step = Some("R-A".into());
        run.scenarios[0].standard = "CareCommunication 5.0".into();
        run.scenarios[1].protocol_step = Some("R-B, R-Tek-Z".into());
        run.scenarios[1].standard = "CareCommunication 5.0".into();
        run.not_applicable.push(crate::run::NotApplicable {
            id: "oio-x".into(),
            title: "x".into(),
            path: "scenarios/x.toml".into(),
            reason: "x".into(),
        });
        let entry = crate::review::Entry {
            seq: 1,
            time: "2026-12-07T15:00:00Z".into(),
            run_started: run.started.clone(),
            reviewer: "Jane".into(),
            kind: crate::review::Kind::Override,
            subject: crate::review::Subject {
                protocol_step: Some("R-B".into()),
                ..Default::default()
            },
            original: Some(Grade::F2),
            grade: Some(Grade::F4),
            comment: Some("x".into()),
            files: Vec::new(),
        };
        (run, vec![entry])
    }

    #[test]
    fn the_english_frame_words_are_found_in_an_english_report() {
        // The check below is only worth something if the frame text holds these words in
        // English: most of them must be found there.
        let (run, reviews) = full_run();
        let en = frame_text(&crate::report::render_html_in(&run, Lang::En, &reviews));
        let found = ENGLISH_UI.iter().filter(|w| en.contains(*w)).count();
        assert!(
            found * 10 >= ENGLISH_UI.len() * 9,
            "{found} of {}",
            ENGLISH_UI.len()
        );
    }

    #[test]
    fn a_danish_report_has_no_english_words_in_its_frame() {
        let (run, reviews) = full_run();
        let html = crate::report::render_html_in(&run, Lang::Da, &reviews);
        let da = frame_text(&html);
        let english: Vec<&&str> = ENGLISH_UI.iter().filter(|w| da.contains(*w)).collect();
        assert!(
            english.is_empty(),
            "English in the Danish report: {english:?}\n{da}"
        );
        for name in [
            "F1 kritisk",
            "F2 alvorlig",
            "F3 betydelig",
            "F4 mindre betydelig",
        ] {
            assert!(html.contains(name), "{name}");
        }
        assert!(da.contains("Ikke relevant"));
        let title = html
            .split_once("<title>")
            .and_then(|(_, t)| t.split_once("</title>"));
        assert!(
            title.is_some_and(|(t, _)| t.contains("MedCom testrapport for")),
            "{title:?}"
        );
    }

    #[test]
    fn a_danish_large_run_s_details_pages_and_their_index_are_in_danish() {
        let run = sample::large(600);
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("report.html");
        crate::report::write_html_in(&run, &path, Lang::Da, &[]).expect("written");
        let report = std::fs::read_to_string(&path).expect("report");
        assert!(
            report.contains("Scenarier 1\u{2013}500"),
            "the index links in Danish"
        );
        let part = std::fs::read_to_string(dir.path().join("report-details/part-0001.html"))
            .expect("details page");
        let frame = frame_text(&part);
        assert!(frame.contains("Tilbage til oversigten"), "{frame}");
        let english: Vec<&&str> = ENGLISH_UI.iter().filter(|w| frame.contains(*w)).collect();
        assert!(
            english.is_empty(),
            "English on a Danish details page: {english:?}"
        );
    }
}
