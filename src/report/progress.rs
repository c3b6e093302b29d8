//! The progress line: on a terminal, one line at the foot of stderr while a run is under way
//! (`⠋ 4/17 scenarios finished · 00:00:12 · waiting for the vendor`), redrawn every 200 ms so a
//! step that waits (an acknowledgement, a reply, a resend) shows time passing instead of a frozen
//! screen. It is drawn with `indicatif` and only when the command line says so (stdout and stderr
//! both terminals); it carries no colour, so `NO_COLOR` has nothing to turn off. Console lines
//! are printed through [`Progress::suspend`], so they never mix with it.

use std::time::Duration;

use crate::run::Event;

/// The progress line of one run; hidden when not enabled.
#[derive(Debug, Clone)]
pub struct Progress {
    bar: indicatif::ProgressBar,
}

impl Progress {
    /// A progress line on stderr when `enabled`; otherwise one that draws nothing.
    pub fn new(enabled: bool) -> Progress {
        let bar = if enabled {
            let bar = indicatif::ProgressBar::with_draw_target(
                None,
                indicatif::ProgressDrawTarget::stderr(),
            );
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {pos}/{len} scenarios finished · {elapsed_precise} · {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.set_message("waiting for the vendor");
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        } else {
            indicatif::ProgressBar::hidden()
        };
        Progress { bar }
    }

    /// Runs `print` with the progress line cleared, then draws it again.
    pub fn suspend<R>(&self, print: impl FnOnce() -> R) -> R {
        self.bar.suspend(print)
    }

    /// Moves the line on: the number of scenarios when the run starts, one more finished for
    /// each scenario, and what it waits for while an operator acts.
    pub fn event(&self, event: &Event) {
        match event {
            Event::Started { scenarios, .. } => self.bar.set_length(*scenarios as u64),
            Event::Instruction { scenario, .. } => {
                self.bar
                    .set_message(format!("waiting for the operator ({scenario})"));
            }
            Event::ScenarioFinished(_) => {
                self.bar.inc(1);
                self.bar.set_message("waiting for the vendor");
            }
        }
    }

    /// Removes the line: the run is over.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disabled_progress_line_counts_nothing_visible() {
        let progress = Progress::new(false);
        progress.event(&Event::Started {
            scenarios: 3,
            not_applicable: Vec::new(),
            target: "t".into(),
            listen: "l".into(),
        });
        assert!(progress.bar.is_hidden());
        assert_eq!(progress.suspend(|| 7), 7);
        progress.finish();
    }
}
