//! What the reports of a run show: the run with every evidence item filed, credentials redacted
//! and CPR numbers masked, built one scenario at a time.
//!
//! [`super::write_all_redacted`] used to clone the whole run three times (filed, redacted,
//! masked), evidence bytes included: a run of 10,000 scenarios held four copies of every
//! message. Here each scenario is copied once, rewritten in place (redacted, then masked) and
//! kept without its evidence bytes unless the HTML page copies them in; only a small run's page
//! does (see [`super::html::INLINE_EVIDENCE_BYTES`]), and whether it does is decided first, from
//! the bytes as the page would show them, stopping as soon as the answer is known. The evidence
//! files keep the bytes exactly, as before.

use std::borrow::Cow;

use super::cpr;
use super::json::Filed;
use crate::run::{Evidence, PREVIEW_BYTES, RunOutcome, ScenarioOutcome};
use crate::transport::Secrets;

/// How text and bytes are rewritten for the reports: credentials redacted, then CPR numbers
/// masked unless they are shown.
pub(super) struct Shown<'a> {
    /// The run's credentials, replaced by `***`.
    pub(super) secrets: &'a Secrets,
    /// Mask CPR numbers (`250947-****`): every report but one asked for with `--show-cpr`.
    pub(super) mask: bool,
}

impl Shown<'_> {
    /// `t` as the reports show it.
    fn text(&self, t: &str) -> String {
        let redacted = self.secrets.redact(t);
        if self.mask {
            cpr::mask(&redacted).into_owned()
        } else {
            redacted
        }
    }

    /// `b` as the reports show it; `None` when that is `b` itself.
    fn bytes(&self, b: &[u8]) -> Option<Vec<u8>> {
        let redacted = std::str::from_utf8(b).ok().and_then(|text| {
            let out = self.secrets.redact(text);
            (out != text).then(|| out.into_bytes())
        });
        if !self.mask {
            return redacted;
        }
        match cpr::mask_bytes(redacted.as_deref().unwrap_or(b)) {
            Cow::Owned(masked) => Some(masked),
            Cow::Borrowed(_) => redacted,
        }
    }

    /// How many bytes of `e` the page would show: its bytes rewritten, at most
    /// [`PREVIEW_BYTES`] of them. The page links the evidence of a run instead of copying it in
    /// when their sum is more than [`super::html::INLINE_EVIDENCE_BYTES`] (see
    /// [`super::write_all_streamed`], which stops counting once it is).
    pub(super) fn shown_len(&self, e: &Evidence) -> usize {
        let len = self.bytes(&e.bytes).map_or(e.bytes.len(), |b| b.len());
        len.min(PREVIEW_BYTES)
    }

    /// Scenario `s` as the reports show it: copied once (its evidence bytes only `with_bytes`),
    /// each evidence item's `file` set from `files` when given, its text rewritten in place.
    pub(super) fn scenario(
        &self,
        s: &ScenarioOutcome,
        files: Option<&[Option<String>]>,
        with_bytes: bool,
    ) -> ScenarioOutcome {
        let text = |t: &str| self.text(t);
        let bytes = |b: &[u8]| self.bytes(b);
        let mut s = light(s, with_bytes);
        if let Some(filed) = files {
            for (e, file) in s.evidence.iter_mut().zip(filed) {
                e.file.clone_from(file);
            }
        }
        cpr::rewrite_scenario(&mut s, &text, &bytes);
        s
    }

    /// `run` as the reports show it, with the `files` the evidence was written to: scenario by
    /// scenario, each copied once and rewritten in place. Scenario evidence keeps its bytes only
    /// `with_bytes` (the page copies them in); unclaimed messages always do (the page shows
    /// them), as they are few.
    pub(super) fn run(
        &self,
        run: &RunOutcome,
        files: Option<&Filed>,
        with_bytes: bool,
    ) -> RunOutcome {
        let scenarios = run
            .scenarios
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let filed = files.and_then(|f| f.scenarios.get(i)).map(Vec::as_slice);
                self.scenario(s, filed, with_bytes)
            })
            .collect();
        self.run_with(run, files, scenarios)
    }

    /// `run` as the reports show it, as [`Shown::run`], with its `scenarios` shown already
    /// (by [`Shown::scenario`], in the run's order): the reports streamed during a run rewrote
    /// each scenario as it finished.
    pub(super) fn run_with(
        &self,
        run: &RunOutcome,
        files: Option<&Filed>,
        scenarios: Vec<ScenarioOutcome>,
    ) -> RunOutcome {
        // Every field named, so a field added to the run is a compile error here, not a report
        // that silently leaves it out.
        let RunOutcome {
            interrupted,
            status,
            note,
            allow_skipped,
            harness_version,
            target,
            threshold,
            started,
            scenarios: _,
            unclaimed,
            not_applicable,
            selection,
            duration,
            certification,
        } = run;
        let text = |t: &str| self.text(t);
        let bytes = |b: &[u8]| self.bytes(b);
        let unclaimed = unclaimed
            .iter()
            .enumerate()
            .map(|(i, (e, f))| {
                let (mut e, mut f) = (e.clone(), f.clone());
                if let Some(file) = files.and_then(|f| f.unclaimed.get(i)) {
                    e.file.clone_from(file);
                }
                e.label = text(&e.label);
                if let Some(b) = bytes(&e.bytes) {
                    e.bytes = b;
                }
                f.message = text(&f.message);
                f.location = f.location.as_deref().map(text);
                (e, f)
            })
            .collect();
        RunOutcome {
            interrupted: *interrupted,
            status: *status,
            note: note.as_deref().map(text),
            allow_skipped: *allow_skipped,
            harness_version: harness_version.clone(),
            target: target.clone(),
            threshold: *threshold,
            started: started.clone(),
            scenarios,
            unclaimed,
            not_applicable: not_applicable.clone(),
            selection: selection.clone(),
            duration: *duration,
            certification: certification.clone(),
        }
    }
}

/// A copy of `s`, its evidence without bytes unless `with_bytes`.
fn light(s: &ScenarioOutcome, with_bytes: bool) -> ScenarioOutcome {
    if with_bytes {
        return s.clone();
    }
    let evidence = s
        .evidence
        .iter()
        .map(|e| Evidence {
            id: e.id.clone(),
            direction: e.direction,
            label: e.label.clone(),
            media_type: e.media_type.clone(),
            sha256: e.sha256.clone(),
            size: e.size,
            file: e.file.clone(),
            at: e.at.clone(),
            bytes: Vec::new(),
        })
        .collect();
    ScenarioOutcome {
        id: s.id.clone(),
        title: s.title.clone(),
        path: s.path.clone(),
        standard: s.standard.clone(),
        protocol_step: s.protocol_step.clone(),
        tags: s.tags.clone(),
        status: s.status,
        verdict: s.verdict,
        reason: s.reason.clone(),
        steps: s.steps.clone(),
        evidence,
        duration: s.duration,
    }
}

/// `run` with every one of `secrets` (and every credential in a URL) replaced by `***` in its
/// text, as the reports show it, and without the evidence bytes of its scenarios: for the
/// console's summary after a run, which shows no message (a copy of a 10,000-scenario run's
/// messages only to print its failures would double the run's memory).
pub fn redacted_text(run: &RunOutcome, secrets: &Secrets) -> RunOutcome {
    Shown {
        secrets,
        mask: false,
    }
    .run(run, None, false)
}
