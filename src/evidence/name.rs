//! MedCom's evidence file names: `<Standard>_<step>_<letter>_<S|R>.<ext>`, e.g.
//! `CareCommunication_3.4_A_S.xml`.
//!
//! - **Standard**: the scenario's `standard` up to its version (`CareCommunication 5.0` ->
//!   `CareCommunication`), the MedCom standard whose test protocol the scenario's step belongs
//!   to; an acknowledgement exchanged in a CareCommunication step is evidence of that step.
//!   Messages no scenario claimed are `Unclaimed`.
//! - **step**: the scenario's `protocol-step`, the step of MedCom's test protocol it covers.
//!   A scenario that covers several names its files by the first
//!   ([`crate::certification::protocol::step_refs`]: `R-A, Acknowledgement send-ok` is `R-A` of
//!   the scenario's own standard; a first step of another standard, `Acknowledgement send-ok`
//!   alone, names that standard too). A scenario that declares none is named by its id instead
//!   (stable whatever else runs), so its files still sort together; unclaimed messages have step
//!   `0`.
//! - **letter**: `A`, `B`, `C` … per message within one standard and step, in the order of the
//!   run (scenarios by path, then as the messages travelled); after `Z` come `AA`, `AB` …
//! - **S or R**: from the vendor's side, as the vendor fills in its protocol: `S` the vendor's
//!   system sent it (the harness received it), `R` the vendor's system received it (the harness
//!   sent it).
//!
//! Every part keeps only `[A-Za-z0-9.-]` (anything else becomes `-`), so the underscores that
//! separate the parts stay unambiguous.

use std::collections::HashMap;

use crate::certification::protocol::step_refs;
use crate::run::{Direction, Evidence, RunOutcome};

/// One message of a run with its evidence name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// The name in the package, e.g. `CareCommunication_3.1.1.1_B_S.json`.
    pub name: String,
    /// The evidence file, relative to the folder of `results.json` (`evidence/<scenario>.e1.json`).
    pub file: String,
    /// The scenario id, or `unclaimed`.
    pub scenario: String,
    /// The scenario step (1-based) whose evidence it is, when one names it.
    pub step: Option<usize>,
    /// The evidence id within the scenario (`e1`).
    pub evidence: String,
    /// The SHA-256 the run recorded, hex.
    pub sha256: String,
    /// What it is, as the report says.
    pub label: String,
}

/// The evidence names of every message of `run` that has a file on disk, in the order of the run.
pub fn name_all(run: &RunOutcome) -> Vec<Named> {
    let mut letters: HashMap<(String, String), usize> = HashMap::new();
    let mut named = Vec::new();
    let mut add = |standard: &str, step: &str, scenario: &str, at: Option<usize>, e: &Evidence| {
        let Some(file) = &e.file else { return };
        let key = (part(standard), part(step));
        let n = letters.entry(key.clone()).or_insert(0);
        let letter = letter(*n);
        *n += 1;
        let side = match e.direction {
            Direction::Received => "S",
            Direction::Sent => "R",
        };
        let ext = std::path::Path::new(file)
            .extension()
            .and_then(|x| x.to_str())
            .map_or_else(|| "bin".to_string(), part);
        named.push(Named {
            name: format!("{}_{}_{letter}_{side}.{ext}", key.0, key.1),
            file: file.clone(),
            scenario: scenario.to_string(),
            step: at,
            evidence: e.id.clone(),
            sha256: e.sha256.clone(),
            label: e.label.clone(),
        });
    };
    // MedCom's protocols name a file by the test step's number (`3.2.7.1`); a step the bundled
    // protocols number is named so, any other by its id.
    let protocols = crate::certification::protocol::bundled();
    let number = |standard: &str, step: &str| {
        protocols
            .iter()
            .filter(|p| p.standard.eq_ignore_ascii_case(standard))
            .flat_map(|p| &p.steps)
            .find(|s| s.id == step)
            .and_then(|s| s.number.clone())
    };
    for s in &run.scenarios {
        let first = s
            .protocol_step
            .as_deref()
            .and_then(|p| step_refs(&s.standard, p).into_iter().next())
            .map(|(standard, step)| {
                let step = number(&standard, &step).unwrap_or(step);
                (standard, step)
            });
        let (standard, step) = match &first {
            Some((standard, step)) => (standard.as_str(), step.as_str()),
            None => (
                s.standard.split_whitespace().next().unwrap_or("Unknown"),
                s.id.as_str(),
            ),
        };
        for e in &s.evidence {
            let at = s
                .steps
                .iter()
                .find(|st| st.evidence.contains(&e.id))
                .map(|st| st.index);
            add(standard, step, &s.id, at, e);
        }
    }
    for (e, _) in &run.unclaimed {
        add("Unclaimed", "0", "unclaimed", None, e);
    }
    named
}

/// `text` with everything but `[A-Za-z0-9.-]` as `-`.
fn part(text: &str) -> String {
    let kept: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if kept.is_empty() { "-".into() } else { kept }
}

/// The `n`th letter (0-based) in bijective base 26: `A` … `Z`, `AA`, `AB` …
fn letter(mut n: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + u8::try_from(n % 26).expect("below 26"));
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII letters")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_run_a_to_z_then_aa() {
        assert_eq!(letter(0), "A");
        assert_eq!(letter(25), "Z");
        assert_eq!(letter(26), "AA");
        assert_eq!(letter(27), "AB");
        assert_eq!(letter(26 + 26 * 26), "AAA");
    }

    #[test]
    fn parts_keep_the_separating_underscores_unambiguous() {
        assert_eq!(part("3.4"), "3.4");
        assert_eq!(part("R_A b"), "R-A-b");
    }
}
