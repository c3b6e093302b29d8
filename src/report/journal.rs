//! The run's journal: a run kept on disk while it happens, so `kill -9` loses at most the
//! scenarios under way and `run --resume` finishes the rest.
//!
//! # Layout
//!
//! Beside the JSON results (conventionally `reports/`):
//!
//! - `evidence/<scenario>/<evidence>.<ext>`: every item's bytes, written and synced the moment
//!   it is captured (the layout of [`super::write_json`]'s module docs). [`Journal::start`]
//!   empties the folder of an earlier run first.
//! - `.journal.jsonl`: one JSON object a line. The first is `{"journal": "medcom-harness",
//!   "version": 1, "started": INSTANT}`; each later line is `{"scenario": OUTCOME}`, a finished
//!   scenario in the shape of `results.json`'s `scenarios[]` (evidence with `file`), appended
//!   and synced before that scenario's job is free to start the next one.
//!
//! [`Journal::resume`] reads it back: a line cut short by the kill is dropped (and cut off), a
//! scenario named twice keeps its last outcome, and a scenario whose evidence files are gone is
//! run again.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead as _, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::ReportError;
use super::slug::{Slugs, slug};
use crate::run::{Evidence, PREVIEW_BYTES, Recorder, ScenarioOutcome};

/// The journal's file name, beside the JSON results.
pub const FILE_NAME: &str = ".journal.jsonl";

/// A run's journal and evidence folder; the runner's [`Recorder`].
#[derive(Debug)]
pub struct Journal {
    /// The folder of the JSON results.
    dir: PathBuf,
    /// The journal file.
    path: PathBuf,
    file: Mutex<File>,
    /// Scenario id -> its evidence folder name, fixed for the whole selection at the start so
    /// that a resumed run files evidence where [`super::write_json`] expects it.
    folders: HashMap<String, String>,
}

impl Journal {
    /// The journal file of the results at `results`.
    pub fn path_for(results: &Path) -> PathBuf {
        results.parent().unwrap_or(Path::new("")).join(FILE_NAME)
    }

    /// Starts a new journal for the scenarios `ids` (in report order) beside `results`: empties
    /// the evidence folder of an earlier run and replaces any earlier journal.
    ///
    /// # Errors
    /// [`ReportError::WriteEvidence`] or [`ReportError::Journal`] naming the path.
    pub fn start(results: &Path, ids: &[&str]) -> Result<Journal, ReportError> {
        let dir = results.parent().unwrap_or(Path::new("")).to_path_buf();
        super::json::clear_evidence(&dir)?;
        let path = Journal::path_for(results);
        let failed = |source| ReportError::Journal {
            path: path.clone(),
            source,
        };
        let mut file = File::create(&path).map_err(failed)?;
        let header = serde_json::json!({
            "journal": "medcom-harness",
            "version": 1,
            "started": crate::template::now_instant(),
        });
        writeln!(file, "{header}").map_err(failed)?;
        file.sync_all().map_err(failed)?;
        sync_dir(&dir).map_err(failed)?;
        Ok(Journal {
            folders: folders(ids),
            dir,
            path,
            file: Mutex::new(file),
        })
    }

    /// Opens the journal beside `results` to finish its run: returns it, appending from here on,
    /// and the outcomes of the scenarios among `ids` that finished, with their evidence previews
    /// read back from the evidence files.
    ///
    /// # Errors
    /// [`ReportError::NoJournal`] when there is none, [`ReportError::Journal`] when it cannot be
    /// read or reopened.
    pub fn resume(
        results: &Path,
        ids: &[&str],
    ) -> Result<(Journal, Vec<ScenarioOutcome>), ReportError> {
        let dir = results.parent().unwrap_or(Path::new("")).to_path_buf();
        let path = Journal::path_for(results);
        if !path.is_file() {
            return Err(ReportError::NoJournal { path });
        }
        let failed = |source| ReportError::Journal {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(&path)
            .map_err(failed)?;
        let mut finished: Vec<ScenarioOutcome> = Vec::new();
        let mut complete = 0u64;
        let mut reader = std::io::BufReader::new(&mut file);
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).map_err(failed)?;
            if n == 0 || line.last() != Some(&b'\n') {
                break;
            }
            complete += n as u64;
            let Ok(value) = serde_json::from_slice::<serde_json::Value>(&line) else {
                continue;
            };
            if let Some(outcome) = value
                .get("scenario")
                .and_then(|s| serde_json::from_value::<ScenarioOutcome>(s.clone()).ok())
                && ids.contains(&outcome.id.as_str())
            {
                finished.retain(|o| o.id != outcome.id);
                finished.push(outcome);
            }
        }
        drop(reader);
        // A line the kill cut short is cut off, so the next one starts on a line of its own.
        file.set_len(complete).map_err(failed)?;
        let finished = finished
            .into_iter()
            .filter_map(|mut o| {
                for e in &mut o.evidence {
                    e.bytes = preview(&dir, e)?;
                }
                Some(o)
            })
            .collect();
        Ok((
            Journal {
                folders: folders(ids),
                dir,
                path,
                file: Mutex::new(file),
            },
            finished,
        ))
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn folder(&self, scenario: &str) -> PathBuf {
        let name = self
            .folders
            .get(scenario)
            .cloned()
            .unwrap_or_else(|| slug(scenario));
        self.dir.join("evidence").join(name)
    }
}

/// Unique evidence folder names for `ids`, in the order [`super::write_json`] hands them out.
fn folders(ids: &[&str]) -> HashMap<String, String> {
    let mut slugs = Slugs::default();
    ids.iter()
        .map(|id| (id.to_string(), slugs.unique(id)))
        .collect()
}

/// The first [`PREVIEW_BYTES`] of an evidence item's file; `None` when the file is missing.
fn preview(dir: &Path, e: &Evidence) -> Option<Vec<u8>> {
    let file = File::open(dir.join(e.file.as_deref()?)).ok()?;
    let mut bytes = Vec::new();
    file.take(PREVIEW_BYTES as u64)
        .read_to_end(&mut bytes)
        .ok()?;
    Some(bytes)
}

/// Syncs a folder, so the names of the files just made in it survive a crash too.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    File::open(dir)?.sync_all()
}

impl Recorder for Journal {
    fn scenario_started(&self, scenario: &str) -> std::io::Result<()> {
        let folder = self.folder(scenario);
        if folder.exists() {
            std::fs::remove_dir_all(&folder)?;
        }
        Ok(())
    }

    fn evidence(&self, scenario: &str, evidence: &mut Evidence) -> std::io::Result<()> {
        let folder = self.folder(scenario);
        super::json::private_dir(&folder)?;
        let name = format!(
            "{}.{}",
            slug(&evidence.id),
            super::json::extension(&evidence.media_type)
        );
        let file = super::json::private_write(&folder.join(&name), &evidence.bytes)?;
        file.sync_all()?;
        let folder_name = folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        evidence.file = Some(format!("evidence/{folder_name}/{name}"));
        evidence.bytes.truncate(PREVIEW_BYTES);
        evidence.bytes.shrink_to_fit();
        Ok(())
    }

    fn scenario_finished(&self, outcome: &ScenarioOutcome) -> std::io::Result<()> {
        let folder = self.folder(&outcome.id);
        if folder.is_dir() {
            sync_dir(&folder)?;
            sync_dir(&self.dir.join("evidence"))?;
        }
        // The journal is a report on disk: its text shows CPR numbers masked.
        let outcome = super::cpr::masked_scenario(outcome);
        let mut line = serde_json::to_vec(&serde_json::json!({ "scenario": outcome }))
            .map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut file = self
            .file
            .lock()
            .map_err(|_| std::io::Error::other("the journal's lock is poisoned"))?;
        file.write_all(&line)?;
        file.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn a_finished_scenario_and_its_evidence_survive_and_a_cut_line_is_dropped() {
        let tmp = tempfile::tempdir().expect("tmp");
        let results = tmp.path().join("reports").join("results.json");
        std::fs::create_dir_all(results.parent().expect("dir")).expect("mkdir");
        let run = sample::run();
        let ids: Vec<&str> = run.scenarios.iter().map(|s| s.id.as_str()).collect();
        let journal = Journal::start(&results, &ids).expect("starts");
        let mut done = run.scenarios[1].clone();
        let original: Vec<Vec<u8>> = done.evidence.iter().map(|e| e.bytes.clone()).collect();
        journal.scenario_started(&done.id).expect("started");
        for e in &mut done.evidence {
            journal.evidence(&done.id, e).expect("evidence written");
        }
        journal.scenario_finished(&done).expect("finished");
        // A kill in the middle of the next line.
        {
            let mut f = OpenOptions::new()
                .append(true)
                .open(journal.path())
                .expect("open");
            f.write_all(b"{\"scenario\": {\"id\": \"cut")
                .expect("write");
        }
        drop(journal);
        let (journal, finished) = Journal::resume(&results, &ids).expect("resumes");
        assert_eq!(finished.len(), 1);
        assert_eq!(finished[0].id, run.scenarios[1].id);
        assert_eq!(finished[0].status, run.scenarios[1].status);
        for (e, bytes) in finished[0].evidence.iter().zip(&original) {
            let file = e.file.as_deref().expect("filed");
            assert_eq!(
                &std::fs::read(tmp.path().join("reports").join(file)).expect("on disk"),
                bytes
            );
            assert_eq!(&e.bytes, bytes, "preview read back");
        }
        let text = std::fs::read_to_string(journal.path()).expect("journal");
        assert!(text.ends_with('\n'), "the cut line is cut off");
        assert!(!text.contains("cut"));
    }

    #[test]
    fn resume_without_a_journal_is_an_error_naming_it() {
        let tmp = tempfile::tempdir().expect("tmp");
        let err = Journal::resume(&tmp.path().join("results.json"), &["a"])
            .expect_err("nothing to resume");
        assert!(err.to_string().contains(FILE_NAME), "{err}");
    }

    #[test]
    fn starting_empties_the_evidence_of_an_earlier_run() {
        let tmp = tempfile::tempdir().expect("tmp");
        let results = tmp.path().join("results.json");
        let journal = Journal::start(&results, &["a"]).expect("starts");
        let mut e = Evidence::new(
            "e1".into(),
            crate::run::Direction::Sent,
            "x".into(),
            "application/json".into(),
            b"{}".to_vec(),
        );
        journal.evidence("a", &mut e).expect("written");
        let old = tmp.path().join(e.file.as_deref().expect("filed"));
        assert!(old.is_file());
        drop(journal);
        Journal::start(&results, &["a"]).expect("starts again");
        assert!(!old.exists(), "evidence of the earlier run is gone");
    }
}
