//! The HTML report's view of the review log: one row per entry about the run, an override with
//! the harness's original grade beside the reviewer's.

use serde::Serialize;

use super::lang::Lang;
use crate::finding::Grade;
use crate::review::{Entry, Kind};
use crate::run::RunOutcome;

/// One review entry as the report shows it.
#[derive(Debug, Serialize)]
pub(super) struct ReviewView {
    seq: usize,
    time: String,
    reviewer: String,
    /// `attest`, `comment`, `not-relevant`, `override`: the row's class.
    kind: &'static str,
    /// The action in the report's language.
    action: &'static str,
    /// What it is about, e.g. `protocol step 3.4 · cc-new-json step 2 · rule KR3`.
    subject: String,
    comment: Option<String>,
    files: Vec<String>,
    /// For an override: the reviewer's grade.
    grade: Option<BadgeView>,
    /// For an override: the harness's grade, kept.
    original: Option<BadgeView>,
}

/// A grade badge, the shape of the template's `grade` partial.
#[derive(Debug, Serialize)]
pub(super) struct BadgeView {
    text: &'static str,
    class: &'static str,
    title: &'static str,
}

fn badge(grade: Grade, lang: Lang) -> BadgeView {
    BadgeView {
        text: grade.as_str(),
        class: match grade {
            Grade::Ok => "ok",
            Grade::F4 => "f4",
            Grade::F3 => "f3",
            Grade::F2 => "f2",
            Grade::F1 => "f1",
        },
        title: lang.grade_name(grade),
    }
}

/// The entries of `reviews` about `run` (same `run-started`), in log order.
pub(super) fn views(run: &RunOutcome, lang: Lang, reviews: &[Entry]) -> Vec<ReviewView> {
    let l = lang.labels();
    reviews
        .iter()
        .filter(|e| e.run_started == run.started)
        .map(|e| {
            let s = &e.subject;
            let mut about = Vec::new();
            if let Some(p) = &s.protocol_step {
                about.push(format!("{} {p}", l.protocol_step));
            }
            match (&s.scenario, s.step) {
                (Some(sc), Some(n)) => about.push(format!("{sc} · {} {n}", l.step)),
                (Some(sc), None) => about.push(sc.clone()),
                _ => {}
            }
            if let Some(r) = &s.rule {
                about.push(format!("{} {r}", l.rule));
            }
            ReviewView {
                seq: e.seq,
                time: e.time.clone(),
                reviewer: e.reviewer.clone(),
                kind: e.kind.as_str(),
                action: match e.kind {
                    Kind::Attest => l.attest,
                    Kind::Comment => l.remark,
                    Kind::NotRelevant => l.not_relevant,
                    Kind::Override => l.override_,
                },
                subject: about.join(" · "),
                comment: e.comment.clone(),
                files: e.files.iter().map(|f| f.file.clone()).collect(),
                grade: e.grade.map(|g| badge(g, lang)),
                original: e.original.map(|g| badge(g, lang)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::render_html_in;
    use crate::report::sample;
    use crate::review::Subject;

    fn entry(run: &RunOutcome, kind: Kind) -> Entry {
        Entry {
            seq: 1,
            time: "2026-12-07T15:00:00Z".into(),
            run_started: run.started.clone(),
            reviewer: "Jane".into(),
            kind,
            subject: Subject {
                protocol_step: Some("3.4".into()),
                ..Subject::default()
            },
            original: None,
            grade: None,
            comment: Some("seen on screen".into()),
            files: Vec::new(),
        }
    }

    #[test]
    fn reviews_of_another_run_in_the_same_folder_are_not_shown() {
        let run = sample::run();
        let mut other = entry(&run, Kind::Attest);
        other.run_started = "1999-01-01T00:00:00Z".into();
        assert_eq!(views(&run, Lang::En, &[other]).len(), 0);
        assert_eq!(views(&run, Lang::En, &[entry(&run, Kind::Attest)]).len(), 1);
    }

    #[test]
    fn an_override_row_shows_the_new_grade_beside_the_original() {
        let run = sample::run();
        let mut e = entry(&run, Kind::Override);
        e.subject.scenario = Some("x".into());
        e.subject.step = Some(2);
        e.subject.rule = Some("KR3".into());
        e.original = Some(Grade::F2);
        e.grade = Some(Grade::F4);
        let html = render_html_in(&run, Lang::Da, &[e]);
        let doc = scraper::Html::parse_document(&html);
        let css = scraper::Selector::parse("tr.review.override").expect("css");
        let row: String = doc.select(&css).next().expect("row").text().collect();
        assert!(row.contains("F4 (oprindelig F2)"), "{row}");
        assert!(row.contains("Vurdering ændret"), "{row}");
        assert!(row.contains("seen on screen"), "{row}");
    }

    #[test]
    fn danish_grade_names_are_medcoms() {
        // MedCom's test protocols, assessment column.
        let names: Vec<&str> = [Grade::F1, Grade::F2, Grade::F3, Grade::F4, Grade::Ok]
            .into_iter()
            .map(|g| Lang::Da.grade_name(g))
            .collect();
        assert_eq!(
            names,
            [
                "F1 kritisk",
                "F2 alvorlig",
                "F3 betydelig",
                "F4 mindre betydelig",
                "OK"
            ]
        );
        assert_eq!(Lang::Da.labels().not_relevant, "Ikke relevant");
    }
}
