//! The terminal prompt for `instruct` steps: when the harness runs at a terminal, a person does
//! the manual step, then answers done, not relevant, or types a comment; `review::prompt`
//! records the answer in the review log as an attestation once the run's results are written.
//!
//! Answers are kept here until then ([`take_pending`]): the runner knows the scenario and step,
//! the command knows the results file and the reviewer. Without a terminal nothing is asked and
//! nothing is kept (the step runs as before: an `instruct` step needs an operator).

use std::io::{BufRead, Write};
use std::sync::Mutex;

/// What the person answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Done, as instructed (Enter, `d`, `done`, `ok`, `j`, `ja`).
    Done,
    /// The step does not apply to the system (`n`, `nr`, `not relevant`, `ikke relevant`).
    NotRelevant,
    /// Done, with the person's words.
    Comment(String),
}

impl Answer {
    /// The step's summary after the answer.
    pub fn summary(&self, instruction: &str) -> String {
        match self {
            Answer::Done => format!("the operator did it and attested: {instruction}"),
            Answer::NotRelevant => format!("the operator marked it not relevant: {instruction}"),
            Answer::Comment(c) => {
                format!("the operator did it and attested, commenting `{c}`: {instruction}")
            }
        }
    }
}

/// Reads an answer from a line the person typed.
pub fn parse_answer(line: &str) -> Answer {
    let t = line.trim();
    match t.to_lowercase().as_str() {
        "" | "d" | "done" | "ok" | "j" | "ja" | "y" | "yes" => Answer::Done,
        "n" | "nr" | "not relevant" | "ikke relevant" => Answer::NotRelevant,
        _ => Answer::Comment(t.to_owned()),
    }
}

/// What the person may answer besides Enter, shown under the console's
/// [`crate::run::Event::Instruction`] lines ("press Enter when done").
pub const HINT: &str = "or: n = not relevant, or type a comment; the answer goes to the review log";

/// Asks on `out` for the answer to the instruction the console has just shown, and reads it from
/// `input` (end of input reads as done, as the old "press Enter" did).
///
/// # Errors
/// The I/O error of `out` or `input`.
pub fn ask(input: &mut impl BufRead, out: &mut impl Write) -> std::io::Result<Answer> {
    write!(out, "  {HINT}: ")?;
    out.flush()?;
    let mut line = String::new();
    input.read_line(&mut line)?;
    Ok(parse_answer(&line))
}

/// An answer given during the run, waiting for the results file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The scenario.
    pub scenario: String,
    /// The `instruct` step, 1-based.
    pub step: usize,
    /// The instruction shown.
    pub instruction: String,
    /// The answer.
    pub answer: Answer,
}

static PENDING: Mutex<Vec<Pending>> = Mutex::new(Vec::new());

/// Keeps an answer until [`take_pending`].
pub fn keep(pending: Pending) {
    if let Ok(mut list) = PENDING.lock() {
        list.push(pending);
    }
}

/// The answers kept so far, in the order given; the list is emptied.
pub fn take_pending() -> Vec<Pending> {
    PENDING
        .lock()
        .map(|mut list| std::mem::take(&mut *list))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_read_as_done_not_relevant_or_a_comment() {
        assert_eq!(parse_answer("\n"), Answer::Done);
        assert_eq!(parse_answer("done\n"), Answer::Done);
        assert_eq!(parse_answer("N"), Answer::NotRelevant);
        assert_eq!(parse_answer("ikke relevant"), Answer::NotRelevant);
        assert_eq!(
            parse_answer("  shown in the inbox\n"),
            Answer::Comment("shown in the inbox".into())
        );
    }

    #[test]
    fn the_prompt_shows_the_choices_and_end_of_input_is_done() {
        let mut out = Vec::new();
        let answer = ask(&mut &b""[..], &mut out).expect("ask");
        assert_eq!(answer, Answer::Done);
        let shown = String::from_utf8(out).expect("utf-8");
        assert!(shown.contains("n = not relevant"), "{shown}");
        let typed = ask(&mut &b"n\n"[..], &mut Vec::new()).expect("ask");
        assert_eq!(typed, Answer::NotRelevant);
    }

    #[test]
    fn kept_answers_are_taken_once() {
        // Other tests of this process keep nothing (only the terminal operator does).
        let p = Pending {
            scenario: "s".into(),
            step: 2,
            instruction: "i".into(),
            answer: Answer::Done,
        };
        keep(p.clone());
        assert!(take_pending().contains(&p));
        assert!(!take_pending().contains(&p));
    }
}
