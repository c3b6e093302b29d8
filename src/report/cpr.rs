//! CPR numbers masked in reports.
//!
//! A CPR number (Det Centrale Personregister, the Danish personal identification number) is ten
//! digits, `DDMMYY-SSSS` with or without the hyphen: the birth date and a serial number. Messages
//! carry them as the patient's identifier (`Patient.identifier` with system
//! `urn:oid:1.2.208.176.1.2`, the OIOXML `CivilRegistrationNumber`) and people write them in free
//! text. Reports show a CPR number as `DDMMYY-****` (the birth date stays, so a tester can still
//! tell patients apart; the serial number, which with the date identifies the person, goes),
//! unless the user asks for them (`--show-cpr`). Evidence files keep the bytes exactly: they are
//! evidence, and hold personal data.
//!
//! A match is ten digits (six and four, an optional hyphen between) standing alone (no letter,
//! digit or `_` on either side) whose first six digits are a date (day 01–31, month 01–12). So
//! EAN/GLN numbers (13 digits), SOR ids (15), UUIDs and timestamps are left alone.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::bytes::{Captures, Regex};

use crate::run::{RunOutcome, ScenarioOutcome};

static CPR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u)\b([0-9]{2})([0-9]{2})([0-9]{2})-?[0-9]{4}\b")
        .expect("the CPR pattern is a valid regex")
});

/// `bytes` with every CPR number masked as `DDMMYY-****`.
pub fn mask_bytes(bytes: &[u8]) -> Cow<'_, [u8]> {
    // Most texts hold no ten digits at all: a run of six is where any CPR number starts, and
    // looking for one is far cheaper than the regex's search (this runs on every finding).
    let mut run = 0;
    if !bytes.iter().any(|b| {
        run = if b.is_ascii_digit() { run + 1 } else { 0 };
        run == 6
    }) {
        return Cow::Borrowed(bytes);
    }
    CPR.replace_all(bytes, |c: &Captures<'_>| {
        let number = |i: usize| {
            std::str::from_utf8(&c[i])
                .ok()
                .and_then(|t| t.parse::<u8>().ok())
                .unwrap_or(0)
        };
        if (1..=31).contains(&number(1)) && (1..=12).contains(&number(2)) {
            let mut masked = c[1].to_vec();
            masked.extend_from_slice(&c[2]);
            masked.extend_from_slice(&c[3]);
            masked.extend_from_slice(b"-****");
            masked
        } else {
            c[0].to_vec()
        }
    })
}

/// `text` with every CPR number masked as `DDMMYY-****`.
pub fn mask(text: &str) -> Cow<'_, str> {
    match mask_bytes(text.as_bytes()) {
        Cow::Borrowed(_) => Cow::Borrowed(text),
        // Only ASCII digits were replaced by ASCII: still UTF-8.
        Cow::Owned(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
    }
}

/// `run` with every CPR number in what the reports show masked: titles, reasons, step
/// summaries, findings (message and location), golden diffs, evidence labels and the evidence
/// bytes kept in memory. Hashes, sizes and `file` still describe the evidence files, which keep
/// the bytes as they travelled.
pub fn masked(run: &RunOutcome) -> RunOutcome {
    rewritten(
        run,
        &|t: &str| mask(t).into_owned(),
        &|b: &[u8]| match mask_bytes(b) {
            Cow::Owned(b) => Some(b),
            Cow::Borrowed(_) => None,
        },
    )
}

/// `run` with every one of `secrets` (and every credential in a URL) replaced by `***` in the
/// same text [`masked`] masks, evidence bytes in memory included when they are UTF-8 (a secret
/// the vendor echoes back in a response). Evidence files keep the bytes as they travelled.
pub fn redacted(run: &RunOutcome, secrets: &crate::transport::Secrets) -> RunOutcome {
    rewritten(run, &|t: &str| secrets.redact(t), &|b: &[u8]| {
        let text = std::str::from_utf8(b).ok()?;
        let out = secrets.redact(text);
        (out != text).then(|| out.into_bytes())
    })
}

/// `run` with `text` applied to every text field the reports show and `bytes` to the evidence
/// bytes in memory (`None`: unchanged).
fn rewritten(
    run: &RunOutcome,
    text: &dyn Fn(&str) -> String,
    bytes: &dyn Fn(&[u8]) -> Option<Vec<u8>>,
) -> RunOutcome {
    let mut run = run.clone();
    let apply = |t: &mut String| {
        let out = text(t);
        if out != *t {
            *t = out;
        }
    };
    if let Some(note) = &mut run.note {
        apply(note);
    }
    let mask_finding = |f: &mut crate::finding::Finding| {
        apply(&mut f.message);
        if let Some(l) = &mut f.location {
            apply(l);
        }
    };
    let mask_evidence = |e: &mut crate::run::Evidence| {
        apply(&mut e.label);
        if let Some(b) = bytes(&e.bytes) {
            e.bytes = b;
        }
    };
    for s in &mut run.scenarios {
        rewrite_scenario(s, text, bytes);
    }
    for (e, f) in &mut run.unclaimed {
        mask_evidence(e);
        mask_finding(f);
    }
    run
}

/// `scenario` with every CPR number in its text masked, as [`masked`] does for a run, for the
/// journal of a run in progress. The evidence bytes in memory are left as they are: the journal
/// does not write them (its evidence is the files), and masking them cost a regex pass over every
/// message of every scenario.
pub fn masked_scenario(scenario: &ScenarioOutcome) -> ScenarioOutcome {
    let mut s = scenario.clone();
    rewrite_scenario(&mut s, &|t: &str| mask(t).into_owned(), &|_: &[u8]| None);
    s
}

pub(super) fn rewrite_scenario(
    s: &mut ScenarioOutcome,
    text: &dyn Fn(&str) -> String,
    bytes: &dyn Fn(&[u8]) -> Option<Vec<u8>>,
) {
    let apply = |t: &mut String| {
        let out = text(t);
        if out != *t {
            *t = out;
        }
    };
    apply(&mut s.title);
    if let Some(r) = &mut s.reason {
        apply(r);
    }
    for step in &mut s.steps {
        apply(&mut step.summary);
        if let Some(r) = &mut step.reason {
            apply(r);
        }
        for f in &mut step.findings {
            apply(&mut f.message);
            if let Some(l) = &mut f.location {
                apply(l);
            }
        }
        for d in &mut step.diffs {
            apply(&mut d.diff);
        }
    }
    for e in &mut s.evidence {
        apply(&mut e.label);
        if let Some(b) = bytes(&e.bytes) {
            e.bytes = b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cpr_number_is_masked_with_or_without_the_hyphen() {
        // 2509479989 is the test patient Bruno Test Elmer of MedCom's own examples (the
        // corpus's medcomfhir-website/ig/carecommunication Bundles, the ehmiSBDH sample
        // message), as `Patient.identifier` and as OIOXML `CivilRegistrationNumber`.
        assert_eq!(mask("CPR 250947-9989."), "CPR 250947-****.");
        assert_eq!(
            mask(r#"{"system":"urn:oid:1.2.208.176.1.2","value":"2509479989"}"#),
            r#"{"system":"urn:oid:1.2.208.176.1.2","value":"250947-****"}"#
        );
        assert_eq!(
            mask("<CivilRegistrationNumber>2509479989</CivilRegistrationNumber>"),
            "<CivilRegistrationNumber>250947-****</CivilRegistrationNumber>"
        );
    }

    #[test]
    fn other_numbers_are_left_alone() {
        for text in [
            "EAN 5790000209354",
            "SOR 999991000016001",
            "id 0b0d7c43-3d0e-4d61-9c38-5b3b8a6c2f10",
            "2026-12-07T11:07:40+01:00",
            "not a date 9913471234",
            "x2509479989",
            "25094799890",
        ] {
            assert_eq!(mask(text), text);
        }
    }
}
