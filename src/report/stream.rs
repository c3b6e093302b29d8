//! The reports written while a run happens: each scenario's part of every report is made the
//! moment it finishes, on a thread of its own, off the exchanges' path.
//!
//! [`ReportStream`] takes each finished scenario (from the run's journal, see
//! [`super::Journal::stream_to`], and the scenarios a resumed run read back from it) and makes,
//! in the background, what the reports show of it: the scenario rewritten as the reports show it
//! (credentials redacted, CPR numbers masked unless shown; see `super::shown`), its item of
//! `results.json`'s `scenarios`, its JUnit `<testcase>` and, once the run is known to link its
//! evidence (a large run), its HTML section for the details pages. Their bytes go to a spool, an
//! unnamed temporary file beside `results.json`, so that a 10,000-scenario run's parts are in
//! the page cache, not in the harness's memory; the scenario ids index where. Without a spool
//! (it cannot be made, or a write to it failed) nothing made ahead is used. When the run is over, [`super::write_all_streamed`] writes the three reports
//! in the run's order (by path) with what needs the whole run (counts, verdict, summary,
//! tables), taking each scenario's parts from here.
//!
//! The reports are the same, byte for byte, as those written from the outcome alone: a part is
//! used only for a scenario whose outcome is the one it was made from (same id, status, wall
//! time to the nanosecond, steps and evidence files), and an HTML section only where the page
//! gives the scenario the anchors the section was made with. Any other scenario (one a stop cut
//! short, which the journal does not keep, one whose evidence could not be written) is made at
//! the end, as before.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Read as _, Seek as _, SeekFrom, Write as _};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use super::shown::Shown;
use super::{Options, Paths};
use crate::finding::Grade;
use crate::run::ScenarioOutcome;
use crate::transport::Secrets;

/// What the reports show of one finished scenario, made while the run went on.
#[derive(Debug)]
pub(super) struct Part {
    /// The outcome's fingerprint: its part stands for the run's outcome only if they agree.
    key: Key,
    /// The scenario as the reports show it; its evidence keeps its (rewritten) bytes only while
    /// the page might copy them in ([`Part::with_bytes`]).
    pub(super) shown: ScenarioOutcome,
    /// Whether [`Part::shown`] keeps the evidence bytes.
    pub(super) with_bytes: bool,
    /// The bytes of its evidence the page would show (see [`Shown::shown_len`]), when counted.
    pub(super) shown_len: Option<usize>,
    /// Its item of `results.json`'s `scenarios` (see `super::json::scenario_item`), spooled.
    pub(super) json: Span,
    /// Its JUnit `<testcase>` (see `super::junit::case_item`), spooled.
    pub(super) junit: Span,
    /// Its HTML section for a details page, made once the run links its evidence: without its
    /// markup, which is spooled.
    pub(super) html: Option<(super::html::SectionItem, Span)>,
}

/// Where some bytes are in the [`Spool`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Span {
    at: u64,
    len: usize,
}

/// The parts' bytes, in a temporary file beside the JSON results (removed when closed; on Linux
/// it never has a name): the page cache holds a 10,000-scenario run's parts, not the harness.
#[derive(Debug)]
pub(super) struct Spool {
    file: Mutex<File>,
}

impl Spool {
    /// The bytes at `span`.
    pub(super) fn read(&self, span: Span) -> std::io::Result<Vec<u8>> {
        let mut file = self
            .file
            .lock()
            .map_err(|_| std::io::Error::other("the spool's lock is poisoned"))?;
        file.seek(SeekFrom::Start(span.at))?;
        let mut bytes = vec![0; span.len];
        file.read_exact(&mut bytes)?;
        Ok(bytes)
    }
}

/// The spool being written.
struct SpoolWriter {
    out: BufWriter<File>,
    len: u64,
    /// Whether a write failed: the bytes after it are not where the spans say, so nothing
    /// spooled is used (the reports make every part at the end).
    failed: bool,
}

impl SpoolWriter {
    /// Appends `bytes`; where they are.
    fn put(&mut self, bytes: &[u8]) -> std::io::Result<Span> {
        if self.failed {
            return Err(std::io::Error::other(
                "an earlier write to the spool failed",
            ));
        }
        if let Err(e) = self.out.write_all(bytes) {
            self.failed = true;
            return Err(e);
        }
        let span = Span {
            at: self.len,
            len: bytes.len(),
        };
        self.len += bytes.len() as u64;
        Ok(span)
    }

    /// The spool, to read.
    fn finish(self) -> std::io::Result<Spool> {
        if self.failed {
            return Err(std::io::Error::other("a write to the spool failed"));
        }
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        Ok(Spool {
            file: Mutex::new(file),
        })
    }
}

/// What must agree between a scenario's outcome at the end and the one its [`Part`] was made
/// from.
#[derive(Debug, PartialEq, Eq)]
struct Key {
    status: crate::run::ScenarioStatus,
    duration: std::time::Duration,
    steps: usize,
    files: Vec<Option<String>>,
}

impl Key {
    fn of(s: &ScenarioOutcome) -> Key {
        Key {
            status: s.status,
            duration: s.duration,
            steps: s.steps.len(),
            files: s.evidence.iter().map(|e| e.file.clone()).collect(),
        }
    }
}

/// The parts made during a run, by scenario id, for [`super::write_all_streamed`].
#[derive(Debug, Default)]
pub struct Streamed {
    parts: HashMap<String, Part>,
    /// Their bytes; `None` when nothing was made.
    pub(super) spool: Option<Spool>,
}

impl Streamed {
    /// The part of `s`, when one was made from this very outcome; taken out.
    pub(super) fn take(&mut self, s: &ScenarioOutcome) -> Option<Part> {
        let part = self.parts.remove(&s.id)?;
        (part.key == Key::of(s)).then_some(part)
    }
}

/// Makes each finished scenario's part of the reports on a background thread (see the module
/// docs). Feed it with [`ReportStream::add`]; [`ReportStream::finish`] hands over what it made.
#[derive(Debug)]
pub struct ReportStream {
    sender: Mutex<Option<Sender<ScenarioOutcome>>>,
    worker: Mutex<Option<JoinHandle<Streamed>>>,
}

/// How the worker shows and renders a scenario.
struct Worker {
    secrets: Secrets,
    mask: bool,
    threshold: Grade,
    /// The HTML layout of a details page's sections, when the run links its evidence.
    section_layout: super::html::Layout,
    /// The evidence bytes the page would show so far, over the parts made.
    shown_so_far: usize,
    /// Whether that is over [`super::html::INLINE_EVIDENCE_BYTES`]: the page links evidence.
    linked: bool,
    parts: HashMap<String, Part>,
    spool: SpoolWriter,
}

impl ReportStream {
    /// Starts the worker for a run whose reports go to `paths`, written with `options`, the
    /// run's `secrets` redacted, judged at `threshold`.
    pub fn start(
        paths: &Paths,
        options: &Options,
        secrets: Secrets,
        threshold: Grade,
    ) -> ReportStream {
        let (sender, receiver) = channel();
        let mut section_layout =
            super::html::Layout::linking(true, super::relative_folder(&paths.html, &paths.json));
        section_layout.lang = options.lang;
        let dir = paths
            .json
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        // Without a spool nothing is made ahead: the reports make every part at the end.
        let handle = tempfile::tempfile_in(dir).ok().and_then(|file| {
            let worker = Worker {
                secrets,
                mask: !options.show_cpr,
                threshold,
                section_layout: super::html::Layout::for_details(&section_layout),
                shown_so_far: 0,
                linked: false,
                parts: HashMap::new(),
                spool: SpoolWriter {
                    out: BufWriter::with_capacity(256 * 1024, file),
                    len: 0,
                    failed: false,
                },
            };
            std::thread::Builder::new()
                .name("medcom-harness reports".into())
                .spawn(move || worker.run(receiver))
                .ok()
        });
        ReportStream {
            sender: Mutex::new(handle.as_ref().map(|_| sender)),
            worker: Mutex::new(handle),
        }
    }

    /// Hands a finished scenario to the worker; returns at once.
    pub fn add(&self, outcome: ScenarioOutcome) {
        if let Ok(sender) = self.sender.lock()
            && let Some(sender) = sender.as_ref()
        {
            let _ = sender.send(outcome);
        }
    }

    /// Waits for the worker to finish the scenarios handed to it and returns their parts; empty
    /// when the worker could not start or failed (the reports then make every part at the end).
    pub fn finish(&self) -> Streamed {
        if let Ok(mut sender) = self.sender.lock() {
            sender.take();
        }
        let handle = self.worker.lock().ok().and_then(|mut w| w.take());
        handle.and_then(|h| h.join().ok()).unwrap_or_default()
    }
}

impl Worker {
    fn run(mut self, receiver: Receiver<ScenarioOutcome>) -> Streamed {
        for outcome in receiver {
            self.add(&outcome);
        }
        match self.spool.finish() {
            Ok(spool) => Streamed {
                parts: self.parts,
                spool: Some(spool),
            },
            Err(_) => Streamed::default(),
        }
    }

    fn show(&self) -> Shown<'_> {
        Shown {
            secrets: &self.secrets,
            mask: self.mask,
        }
    }

    fn add(&mut self, s: &ScenarioOutcome) {
        self.parts.remove(&s.id);
        // Evidence not on disk is written (and named) by the reports at the end.
        if s.evidence.iter().any(|e| e.file.is_none()) {
            return;
        }
        let show = self.show();
        let shown_len = (!self.linked).then(|| s.evidence.iter().map(|e| show.shown_len(e)).sum());
        let with_bytes = !self.linked;
        let shown = show.scenario(s, None, with_bytes);
        let (Ok(json), Ok(junit)) = (
            super::json::scenario_item(&shown),
            super::junit::case_item(&shown, self.threshold),
        ) else {
            return;
        };
        let (Ok(json), Ok(junit)) = (self.spool.put(&json), self.spool.put(&junit)) else {
            return;
        };
        let html = if self.linked {
            self.section(&shown)
        } else {
            None
        };
        let part = Part {
            key: Key::of(s),
            shown,
            with_bytes,
            shown_len,
            json,
            junit,
            html,
        };
        self.parts.insert(s.id.clone(), part);
        if let Some(len) = shown_len {
            self.shown_so_far += len;
            if self.shown_so_far > super::html::INLINE_EVIDENCE_BYTES {
                self.now_linked();
            }
        }
    }

    /// The details-page section of `shown`, its markup spooled.
    fn section(&mut self, shown: &ScenarioOutcome) -> Option<(super::html::SectionItem, Span)> {
        let mut item = super::html::SectionItem::of(shown, self.threshold, &self.section_layout)?;
        let span = self.spool.put(&std::mem::take(&mut item.bytes)).ok()?;
        Some((item, span))
    }

    /// The page links evidence: the parts made so far drop their bytes and get their sections.
    fn now_linked(&mut self) {
        self.linked = true;
        let mut parts = std::mem::take(&mut self.parts);
        for part in parts.values_mut() {
            for e in &mut part.shown.evidence {
                e.bytes = Vec::new();
            }
            part.with_bytes = false;
            if part.html.is_none() {
                part.html = self.section(&part.shown);
            }
        }
        self.parts = parts;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;
    use crate::run::RunOutcome;

    /// The report paths in `dir`, made.
    fn paths_in(dir: &std::path::Path) -> Paths {
        let paths = Paths {
            html: dir.join("report.html"),
            junit: dir.join("junit.xml"),
            json: dir.join("results.json"),
        };
        paths.check().expect("report paths");
        paths
    }

    /// Every file under `dir` but the evidence, by relative path, with its bytes.
    fn files_under(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        let mut todo = vec![dir.to_path_buf()];
        while let Some(d) = todo.pop() {
            for entry in std::fs::read_dir(&d).expect("read dir").flatten() {
                let path = entry.path();
                let name = path
                    .strip_prefix(dir)
                    .expect("under dir")
                    .to_string_lossy()
                    .into_owned();
                if name.starts_with("evidence") || name.contains(".medcom-harness") {
                    continue;
                }
                if path.is_dir() {
                    todo.push(path);
                } else {
                    out.push((name, std::fs::read(&path).expect("read")));
                }
            }
        }
        out.sort();
        out
    }

    /// Report files by relative path, with their bytes.
    type Written = Vec<(String, Vec<u8>)>;

    /// The reports of `run` written from the outcome alone, and written with the parts a stream
    /// made of `fed` (in that order), with `secrets` and `options`: (alone, streamed).
    fn both_ways(
        run: &RunOutcome,
        fed: &[ScenarioOutcome],
        secrets: &Secrets,
        options: &Options,
    ) -> (Written, Written) {
        let tmp = tempfile::tempdir().expect("tmp");
        let (alone, streamed) = (tmp.path().join("alone"), tmp.path().join("streamed"));
        let paths = paths_in(&alone);
        super::super::write_all_redacted(run, &paths, options, secrets).expect("written");
        let paths = paths_in(&streamed);
        let stream = ReportStream::start(&paths, options, secrets.clone(), run.threshold);
        for s in fed {
            stream.add(s.clone());
        }
        let parts = stream.finish();
        // Every scenario fed has its part (the stream did the work, not the end).
        assert_eq!(parts.parts.len(), fed.len());
        let sections = parts.parts.values().filter(|p| p.html.is_some()).count();
        let linked = alone
            .join("report-details")
            .join("part-0001.html")
            .is_file();
        assert_eq!(
            sections > 0,
            linked,
            "sections made ahead exactly for a large run"
        );
        super::super::write_all_streamed(run, &paths, options, secrets, parts).expect("written");
        (files_under(&alone), files_under(&streamed))
    }

    fn assert_same(alone: &Written, streamed: &Written) {
        let names = |w: &Written| w.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(names(alone), names(streamed));
        for ((name, a), (_, b)) in alone.iter().zip(streamed) {
            assert!(a == b, "`{name}` differs");
        }
    }

    #[test]
    fn a_small_run_streamed_writes_the_same_reports_with_secrets_and_cpr_hidden() {
        let mut run = sample::large(40);
        run.scenarios[1].title = "for 250947-9989 with s3cret-token".into();
        run.scenarios[4].evidence[0].bytes =
            b"{\"cpr\":\"2509479989\",\"t\":\"s3cret-token\"}".to_vec();
        let secrets = Secrets::new(["s3cret-token".to_owned()]);
        let fed = run.scenarios.clone();
        let (alone, streamed) = both_ways(&run, &fed, &secrets, &Options::default());
        assert_same(&alone, &streamed);
        let names: Vec<&str> = streamed.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["junit.xml", "report.html", "results.json"],
            "one page"
        );
        for (name, bytes) in &streamed {
            let text = String::from_utf8_lossy(bytes);
            assert!(!text.contains("s3cret-token"), "a secret in `{name}`");
            assert!(!text.contains("2509479989"), "a CPR number in `{name}`");
            assert!(!text.contains("250947-9989"), "a CPR number in `{name}`");
        }
        // Shown as asked.
        let shown = Options {
            show_cpr: true,
            ..Options::default()
        };
        let (alone, streamed) = both_ways(&run, &fed, &secrets, &shown);
        assert_same(&alone, &streamed);
        assert!(String::from_utf8_lossy(&streamed[2].1).contains("250947-9989"));
    }

    #[test]
    fn a_large_run_streamed_writes_the_same_report_pages_and_details() {
        let mut run = sample::large(700);
        // Two ids with one slug: the second's anchors are not its own name.
        run.scenarios[10].id = "x/y".into();
        run.scenarios[11].id = "x_y".into();
        let fed = run.scenarios.clone();
        // A scenario whose outcome at the end is not the one streamed, and one never streamed.
        run.scenarios[20].duration += std::time::Duration::from_nanos(1);
        run.scenarios[20].title = "changed after it was streamed".into();
        let fed: Vec<ScenarioOutcome> = fed
            .into_iter()
            .enumerate()
            .filter(|(i, _)| *i != 30)
            .map(|(_, s)| s)
            .collect();
        let (alone, streamed) = both_ways(&run, &fed, &Secrets::default(), &Options::default());
        assert_same(&alone, &streamed);
        let names: Vec<&str> = streamed.iter().map(|(n, _)| n.as_str()).collect();
        assert!(
            names.contains(&"report-details/part-0002.html"),
            "the large layout: {names:?}"
        );
    }

    #[test]
    fn a_run_of_no_scenario_streamed_writes_the_same_reports() {
        let mut run = sample::run();
        run.scenarios.clear();
        let (alone, streamed) = both_ways(&run, &[], &Secrets::default(), &Options::default());
        assert_same(&alone, &streamed);
    }
}
