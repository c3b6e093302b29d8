//! Recording the answers given at the terminal to `instruct` steps ([`crate::run::prompt`]) in
//! the review log, as attestations of the scenario steps, once the run's results are written.

use super::{Entry, Kind, ReviewError, Subject};
use crate::run::RunOutcome;
pub use crate::run::prompt::{Answer, Pending, take_pending};

/// The review entry for `pending`, by `reviewer`: an attestation of the scenario step (with the
/// comment, if any), or "Not relevant".
pub fn entry(pending: &Pending, reviewer: &str) -> Entry {
    let (kind, comment) = match &pending.answer {
        Answer::Done => (Kind::Attest, None),
        Answer::NotRelevant => (Kind::NotRelevant, None),
        Answer::Comment(c) => (Kind::Attest, Some(c.clone())),
    };
    Entry {
        seq: 0,
        time: String::new(),
        run_started: String::new(),
        reviewer: reviewer.to_owned(),
        kind,
        subject: Subject {
            scenario: Some(pending.scenario.clone()),
            step: Some(pending.step),
            ..Subject::default()
        },
        original: None,
        grade: None,
        comment: comment.or_else(|| Some(format!("instruction: {}", pending.instruction))),
        files: Vec::new(),
    }
}

/// Appends `pending` to the review log of the results file `results` about `run`, by
/// `reviewer`.
///
/// # Errors
/// The first [`ReviewError`] of [`super::append`].
pub fn record(
    results: &std::path::Path,
    run: &RunOutcome,
    pending: &[Pending],
    reviewer: &str,
) -> Result<Vec<Entry>, ReviewError> {
    pending
        .iter()
        .map(|p| super::append(results, run, entry(p, reviewer), &[]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::prompt::Answer;

    #[test]
    fn an_answer_is_recorded_in_the_review_log_as_an_attestation_of_the_step() {
        let run = crate::report::sample::run();
        let scenario = &run.scenarios[0];
        let dir = tempfile::tempdir().expect("tmp");
        let results = dir.path().join("results.json");
        let pending = [
            Pending {
                scenario: scenario.id.clone(),
                step: 1,
                instruction: "show the letter".into(),
                answer: Answer::Comment("seen in the inbox".into()),
            },
            Pending {
                scenario: scenario.id.clone(),
                step: 1,
                instruction: "print it".into(),
                answer: Answer::NotRelevant,
            },
        ];
        record(&results, &run, &pending, "Jane").expect("recorded");
        let log = super::super::read_log(&super::super::log_path(&results)).expect("log");
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].kind, Kind::Attest);
        assert_eq!(log[0].reviewer, "Jane");
        assert_eq!(
            log[0].subject.scenario.as_deref(),
            Some(scenario.id.as_str())
        );
        assert_eq!(log[0].subject.step, Some(1));
        assert_eq!(log[0].comment.as_deref(), Some("seen in the inbox"));
        assert_eq!(log[0].run_started, run.started);
        assert_eq!(log[1].kind, Kind::NotRelevant);
    }
}
