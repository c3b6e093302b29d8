//! The console reporter: one line per scenario as it finishes, then a summary and every failing
//! finding in full. Readable without colour; whether to colour is the command line's decision
//! (a terminal, and no `NO_COLOR`). CPR numbers are masked unless `show_cpr`.

use std::io::Write;

use crate::finding::Grade;

/// `eprintln!` that never panics: a closed stderr (`run … 2>&1 | head -3`) loses the line, and
/// the run goes on to its own exit code.
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
use crate::run::{Event, RunOutcome, ScenarioOutcome, ScenarioStatus};

/// Writes console output to stderr (diagnostics) and stdout (results).
#[derive(Debug, Clone, Copy)]
pub struct Console {
    /// Whether to colour the status words.
    pub colour: bool,
    /// The run's threshold.
    pub threshold: Grade,
    /// Whether to show CPR numbers as they are (`--show-cpr`).
    pub show_cpr: bool,
}

impl Console {
    /// A console reporter for a run with `threshold`; `colour` for the status words.
    pub fn new(threshold: Grade, colour: bool) -> Console {
        Console {
            colour,
            threshold,
            show_cpr: false,
        }
    }

    fn shown<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        if self.show_cpr {
            std::borrow::Cow::Borrowed(text)
        } else {
            super::cpr::mask(text)
        }
    }

    fn paint(&self, text: &str, code: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// The status word of a scenario, padded.
    pub fn status(&self, s: ScenarioStatus) -> String {
        match s {
            ScenarioStatus::Passed => self.paint("  PASS", "32"),
            ScenarioStatus::Failed => self.paint("  FAIL", "31;1"),
            ScenarioStatus::Error => self.paint(" ERROR", "35;1"),
            ScenarioStatus::Skipped => self.paint("  SKIP", "33"),
        }
    }

    /// Handles a progress event.
    pub fn event(&self, event: &Event) {
        match event {
            Event::Started {
                scenarios,
                not_applicable,
                target,
                listen,
            } => {
                crate::errln!(
                    "running {scenarios} scenario(s) against {}",
                    self.shown(&target.to_string())
                );
                for n in not_applicable {
                    crate::errln!(
                        "not applicable: {} ({})",
                        self.shown(&n.id),
                        self.shown(&n.reason)
                    );
                }
                crate::errln!("the vendor delivers acknowledgements and messages to {listen}");
            }
            Event::Instruction { scenario, text } => {
                crate::errln!(
                    "\n[{}] operator: {}\n  press Enter when done",
                    self.shown(scenario),
                    self.shown(text)
                );
            }
            Event::ScenarioFinished(s) => self.scenario_line(s),
        }
    }

    fn scenario_line(&self, s: &ScenarioOutcome) {
        let mut out = std::io::stdout().lock();
        // A scenario that did not run to its end has no verdict of its own to show.
        let verdict = match s.status {
            ScenarioStatus::Passed | ScenarioStatus::Failed => s.verdict.as_str(),
            ScenarioStatus::Error | ScenarioStatus::Skipped => "-",
        };
        let _ = writeln!(
            out,
            "{} [{:>6.2}s] {:<2} {}  {}",
            self.status(s.status),
            s.duration.as_secs_f64(),
            verdict,
            self.shown(&s.id),
            self.shown(&s.title)
        );
        if s.status == ScenarioStatus::Skipped
            && let Some(reason) = &s.reason
        {
            let _ = writeln!(out, "{:>16} skipped: {}", "", self.shown(reason));
        }
    }

    /// The summary and every failing finding, after the run.
    pub fn summary(&self, run: &RunOutcome) {
        let masked;
        let run = if self.show_cpr {
            run
        } else {
            masked = super::cpr::masked(run);
            &masked
        };
        let mut out = std::io::stdout().lock();
        let failing: Vec<_> = run
            .scenarios
            .iter()
            .filter(|s| matches!(s.status, ScenarioStatus::Failed | ScenarioStatus::Error))
            .collect();
        if !failing.is_empty() {
            let _ = writeln!(out, "\nfailures:");
        }
        for s in failing {
            let _ = writeln!(out, "\n--- {} ({})", s.id, s.path);
            if let Some(reason) = &s.reason {
                let _ = writeln!(out, "    error: {reason}");
            }
            for (step, f) in s.failures(self.threshold) {
                let _ = writeln!(
                    out,
                    "    step {} {}: {} {}: {}{}",
                    step.index,
                    step.kind,
                    f.rule,
                    f.grade,
                    f.message,
                    f.location
                        .as_ref()
                        .map(|l| format!(" (at {l})"))
                        .unwrap_or_default()
                );
            }
        }
        for (e, f) in &run.unclaimed {
            let _ = writeln!(
                out,
                "note: {} {}: {} [{}]",
                f.rule, f.grade, f.message, e.label
            );
        }
        let s = run.summary();
        let word = run.verdict().as_str();
        let verdict = match run.verdict() {
            crate::run::RunVerdict::Passed => self.paint(word, "32;1"),
            crate::run::RunVerdict::Failed => self.paint(word, "31;1"),
            _ => self.paint(word, "33;1"),
        };
        let _ = writeln!(
            out,
            "\n{verdict}: {} passed, {} failed, {} errors, {} skipped in {:.2}s (threshold {}, target {})",
            s.passed,
            s.failed,
            s.errors,
            s.skipped,
            run.duration.as_secs_f64(),
            run.threshold,
            run.target
        );
        for (evidence, finding) in run.unclaimed_failures() {
            let _ = writeln!(
                out,
                "failed by a message no scenario claimed: {} {}: {} ({})",
                finding.grade, finding.rule, finding.message, evidence.label
            );
        }
        if run.selection.left_out > 0 {
            let _ = writeln!(
                out,
                "{} scenario(s) left out by --filter/--skip: the verdict covers only the {} selected",
                run.selection.left_out,
                run.scenarios.len() + run.not_applicable.len()
            );
        }
        if run.verdict() == crate::run::RunVerdict::Incomplete
            && run.scenarios.is_empty()
            && !run.not_applicable.is_empty()
        {
            let _ = writeln!(
                out,
                "no scenario ran: every scenario needs an exchange folder (`--target DIR`)"
            );
        } else if run.verdict() == crate::run::RunVerdict::Incomplete {
            let _ = writeln!(
                out,
                "not every scenario ran to its end: an incomplete run is not a pass{}",
                if s.skipped > 0 && s.errors == 0 && !run.allow_skipped {
                    " (`--allow-skipped` lets skipped scenarios pass)"
                } else {
                    ""
                }
            );
        }
    }
}
