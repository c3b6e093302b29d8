//! The console reporter: one line per scenario as it finishes, then a summary and every failing
//! finding in full. Readable without colour; colour only on a terminal and never with `NO_COLOR`.

use std::io::Write;

use crate::finding::Grade;
use crate::run::{Event, RunOutcome, ScenarioOutcome, ScenarioStatus};

/// Writes console output to stderr (diagnostics) and stdout (results).
#[derive(Debug, Clone, Copy)]
pub struct Console {
    /// Whether to colour the status words.
    pub colour: bool,
    /// The run's threshold.
    pub threshold: Grade,
}

impl Console {
    /// A console reporter; colour when stdout is a terminal and `NO_COLOR` is unset.
    pub fn new(threshold: Grade) -> Console {
        use std::io::IsTerminal;
        let colour = std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Console { colour, threshold }
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
                target,
                listen,
            } => {
                eprintln!("running {scenarios} scenario(s) against {target}");
                eprintln!("the vendor delivers acknowledgements and messages to {listen}");
            }
            Event::Instruction { scenario, text } => {
                eprintln!("\n[{scenario}] operator: {text}\n  press Enter when done");
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
            s.id,
            s.title
        );
        if s.status == ScenarioStatus::Skipped
            && let Some(reason) = &s.reason
        {
            let _ = writeln!(out, "{:>16} skipped: {reason}", "");
        }
    }

    /// The summary and every failing finding, after the run.
    pub fn summary(&self, run: &RunOutcome) {
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
        let verdict = if run.passed() {
            self.paint("PASSED", "32;1")
        } else {
            self.paint("FAILED", "31;1")
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
    }
}
