//! The run's journal: a run kept on disk while it happens, so `kill -9` loses at most the
//! scenarios under way and `run --resume` finishes the rest.
//!
//! # Layout
//!
//! Beside the JSON results (conventionally `reports/`):
//!
//! - `evidence/<scenario>.<evidence>.<ext>`: every item's bytes, written the moment it is
//!   captured (the layout of [`super::write_json`]'s module docs). [`Journal::start`] empties
//!   the folder of an earlier run first.
//! - `.journal.jsonl`: one JSON object a line. The first is `{"journal": "medcom-harness",
//!   "version": 2, "started": INSTANT, "plan": PLAN}`, where [`Plan`] is what decides the verdict
//!   (target, fault, config digest, threshold, scenario ids); each later line is
//!   `{"scenario": OUTCOME}`, a finished scenario in the shape of `results.json`'s `scenarios[]`
//!   (evidence with `file`, `size` and `sha256`), appended before that scenario's job is free to
//!   start the next one. `{"finished": INSTANT}` closes the journal of a run whose final reports
//!   were written ([`Journal::mark_finished`]).
//!
//! # Durability
//!
//! A line is in the operating system's hands once written, so `kill -9` of the harness loses at
//! most the scenarios under way without any `fsync`. Against a crash of the machine itself the
//! journal is synced at most every [`SYNC_EVERY`] (group commit) and at the end, and nothing is
//! trusted on faith: resume runs again any scenario whose evidence files are missing or whose
//! size or SHA-256 differ from what its line records. Syncing every file and line as it was
//! written cost three `fsync`s a scenario, which were most of a run's wall time on ext4.
//!
//! [`Journal::resume`] reads it back: it refuses a finished run and a run planned otherwise
//! (another target, fault, config, threshold or selection: its outcomes would pass a vendor that
//! was never tested), a line cut short by the kill is dropped (and cut off), a scenario named
//! twice keeps its last outcome, and a scenario whose evidence files are gone, cut short or
//! altered is run again.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead as _, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::ReportError;
use super::slug::{Slugs, file_slug};
use crate::run::{Evidence, PREVIEW_BYTES, Recorder, ScenarioOutcome};

/// The journal's file name, beside the JSON results.
pub const FILE_NAME: &str = ".journal.jsonl";

/// The lock file of a report folder, beside the journal: one run at a time writes there.
pub const LOCK_FILE: &str = ".medcom-harness.lock";

/// A run's hold on its report folder (the folder of the JSON results: journal and evidence),
/// released when dropped. Two runs into one folder each deleted and overwrote the other's
/// evidence, and the report of either said `finished` over files that were gone or changed.
#[derive(Debug)]
pub struct FolderLock {
    _file: File,
}

impl FolderLock {
    /// Takes the folder of `results` (made if missing) for this run.
    ///
    /// # Errors
    /// [`ReportError::FolderInUse`] when another run holds it, naming its process id;
    /// [`ReportError::Journal`] when the lock file cannot be made.
    pub fn take(results: &Path) -> Result<FolderLock, ReportError> {
        FolderLock::try_take(results, None)
    }

    /// As [`FolderLock::take`], for `--resume`: a run still holding the folder is the run to be
    /// finished, whose killer missed it (`kill -9` of a wrapper such as `timeout` leaves the
    /// harness under it running). It is asked to stop as Ctrl-C would (SIGTERM: it writes its
    /// reports and journal), and the folder is taken once it has, within `patience`.
    ///
    /// # Errors
    /// As [`FolderLock::take`], when the other run does not let go in time.
    pub fn take_over(results: &Path, patience: Duration) -> Result<FolderLock, ReportError> {
        FolderLock::try_take(results, Some(patience))
    }

    fn try_take(results: &Path, patience: Option<Duration>) -> Result<FolderLock, ReportError> {
        let dir = results.parent().unwrap_or(Path::new("")).to_path_buf();
        let path = dir.join(LOCK_FILE);
        let failed = |source| ReportError::Journal {
            path: path.clone(),
            source,
        };
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(&dir).map_err(failed)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(failed)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim().to_owned();
                let in_use = || ReportError::FolderInUse {
                    dir: dir.clone(),
                    pid: (!pid.is_empty()).then(|| pid.clone()),
                };
                let (Some(patience), Ok(other)) = (patience, pid.parse::<i32>()) else {
                    return Err(in_use());
                };
                crate::errln!(
                    "note: the run being resumed is still running (process {other}); asking it to stop and waiting for it"
                );
                // The process id is the one the other run wrote into the lock file it holds,
                // so it is alive and is that run.
                let _ = std::process::Command::new("kill")
                    .args(["-TERM", &other.to_string()])
                    .status();
                let deadline = Instant::now() + patience;
                loop {
                    std::thread::sleep(Duration::from_millis(100));
                    match file.try_lock() {
                        Ok(()) => break,
                        Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {}
                        Err(std::fs::TryLockError::WouldBlock) => return Err(in_use()),
                        Err(std::fs::TryLockError::Error(e)) => return Err(failed(e)),
                    }
                }
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(failed(e)),
        }
        file.set_len(0).map_err(failed)?;
        writeln!(file, "{}", std::process::id()).map_err(failed)?;
        Ok(FolderLock { _file: file })
    }
}

/// The longest a finished scenario's line waits to be synced to disk (group commit): a crash of
/// the machine loses at most this much of a run, which `--resume` runs again.
pub const SYNC_EVERY: Duration = Duration::from_secs(1);

/// What decides a run's verdict, recorded in the journal's header: `--resume` goes on only under
/// the same plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// What is tested, as the reports show it (credentials in a URL redacted).
    pub target: String,
    /// The embedded vendor's fault (`--fault`), if any.
    pub fault: Option<String>,
    /// SHA-256 (lower-case hex) of the config file's bytes, or `built-in` without one.
    pub config: String,
    /// The threshold: the worst grade that still passes (`F2`).
    pub threshold: String,
    /// The selected scenario ids, in report order.
    pub scenarios: Vec<String>,
    /// SHA-256 (lower-case hex) over the selected scenario files' paths and bytes
    /// ([`Plan::files_digest`]): a scenario edited after the kill is not resumed on its old
    /// outcome. Empty in journals written before it existed.
    #[serde(default)]
    pub scenario_files: String,
}

impl Plan {
    /// The digest [`Plan::config`] records for the config file at `path` (`None`: the built-in
    /// defaults).
    ///
    /// # Errors
    /// The I/O error reading the file.
    pub fn config_digest(path: Option<&Path>) -> std::io::Result<String> {
        Ok(match path {
            None => "built-in".to_owned(),
            Some(p) => format!("sha256:{:x}", Sha256::digest(std::fs::read(p)?)),
        })
    }

    /// The digest [`Plan::scenario_files`] records for the files at `paths`, in that order (a
    /// file that cannot be read counts as empty: the scenarios were read a moment ago).
    pub fn files_digest<'p>(paths: impl IntoIterator<Item = &'p Path>) -> String {
        let mut hasher = Sha256::new();
        for path in paths {
            let bytes = std::fs::read(path).unwrap_or_default();
            hasher.update(path.to_string_lossy().as_bytes());
            hasher.update([0]);
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(&bytes);
        }
        format!("sha256:{:x}", hasher.finalize())
    }

    /// What differs from `earlier`, one phrase each (`target `a` before, `b` now`); empty when
    /// the plans agree.
    pub fn differences(&self, earlier: &Plan) -> Vec<String> {
        let fault = |f: &Option<String>| f.clone().unwrap_or_else(|| "none".to_owned());
        let mut out: Vec<String> = [
            ("target", &earlier.target, &self.target),
            ("fault", &fault(&earlier.fault), &fault(&self.fault)),
            ("threshold", &earlier.threshold, &self.threshold),
        ]
        .into_iter()
        .filter(|(_, before, now)| before != now)
        .map(|(name, before, now)| format!("{name} `{before}` before, `{now}` now"))
        .collect();
        if earlier.config != self.config {
            out.push("the config file's contents differ".to_owned());
        }
        if earlier.scenario_files != self.scenario_files && earlier.scenarios == self.scenarios {
            out.push("a scenario file changed since the killed run".to_owned());
        }
        if earlier.scenarios != self.scenarios {
            out.push(format!(
                "the selected scenarios differ ({} before, {} now)",
                earlier.scenarios.len(),
                self.scenarios.len()
            ));
        }
        out
    }
}

/// A run's journal and evidence folder; the runner's [`Recorder`].
#[derive(Debug)]
pub struct Journal {
    /// The folder of the JSON results.
    dir: PathBuf,
    /// The journal file.
    path: PathBuf,
    file: Mutex<Appender>,
    /// Scenario id -> the name its evidence files start with, fixed for the whole selection at
    /// the start so that a resumed run files evidence where [`super::write_json`] expects it.
    names: HashMap<String, String>,
    /// Where each finished scenario goes once journaled, for its part of the reports.
    stream: Option<std::sync::Arc<super::ReportStream>>,
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
    pub fn start(results: &Path, ids: &[&str], plan: &Plan) -> Result<Journal, ReportError> {
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
            "version": 2,
            "started": crate::template::now_instant(),
            "plan": plan,
        });
        writeln!(file, "{header}").map_err(failed)?;
        file.sync_all().map_err(failed)?;
        sync_dir(&dir).map_err(failed)?;
        Ok(Journal {
            names: evidence_names(ids),
            dir,
            path,
            file: Mutex::new(Appender::new(file)),
            stream: None,
        })
    }

    /// Opens the journal beside `results` to finish its run: returns it, appending from here on,
    /// and the outcomes of the scenarios among `ids` that finished, with their evidence previews
    /// read back from the evidence files.
    ///
    /// # Errors
    /// [`ReportError::NoJournal`] when there is none, [`ReportError::ResumeFinished`] when its
    /// run finished, [`ReportError::ResumeMismatch`] when it was planned otherwise than `plan`
    /// (or records no plan), [`ReportError::Journal`] when it cannot be read or reopened.
    pub fn resume(
        results: &Path,
        ids: &[&str],
        plan: &Plan,
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
        let mut header = true;
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).map_err(failed)?;
            if n == 0 || line.last() != Some(&b'\n') {
                break;
            }
            complete += n as u64;
            let Ok(value) = serde_json::from_slice::<serde_json::Value>(&line) else {
                header = false;
                continue;
            };
            if std::mem::take(&mut header) {
                let earlier = value
                    .get("plan")
                    .and_then(|p| serde_json::from_value::<Plan>(p.clone()).ok());
                let differences = match &earlier {
                    Some(earlier) => plan.differences(earlier),
                    None => vec!["the journal records no plan (an older harness wrote it)".into()],
                };
                if !differences.is_empty() {
                    return Err(ReportError::ResumeMismatch { dir, differences });
                }
                continue;
            }
            if value.get("finished").is_some() {
                return Err(ReportError::ResumeFinished { dir });
            }
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
        // A rerun killed while it moved the run before it aside left that run's evidence (patient
        // data) in a hidden folder: it goes now, as the rerun would have removed it.
        super::json::remove_old_evidence(&dir);
        let finished: Vec<ScenarioOutcome> = finished
            .into_iter()
            .filter_map(|mut o| {
                for e in &mut o.evidence {
                    e.bytes = intact_preview(&dir, e)?;
                }
                Some(o)
            })
            .collect();
        // The scenarios to run again start with no evidence: whatever their earlier attempt
        // left (an item this attempt may not capture) goes.
        let kept: std::collections::HashSet<&str> = finished
            .iter()
            .flat_map(|o| &o.evidence)
            .filter_map(|e| e.file.as_deref())
            .collect();
        prune_evidence(&dir, &kept).map_err(|source| ReportError::WriteEvidence {
            path: dir.join("evidence"),
            source,
        })?;
        Ok((
            Journal {
                names: evidence_names(ids),
                dir,
                path,
                file: Mutex::new(Appender::new(file)),
                stream: None,
            },
            finished,
        ))
    }

    /// How many scenarios the run journaled beside `results` finished, when that run did not
    /// finish (killed, or stopped by Ctrl-C): what `--resume` would keep and a new run replaces.
    /// `None` when there is no journal, it cannot be read, or its run finished.
    pub fn unfinished(results: &Path) -> Option<usize> {
        use std::io::{Read as _, Seek as _};
        let path = Journal::path_for(results);
        // A finished run's journal ends with its `finished` line: its tail tells, without
        // reading a large run's whole journal at the start of the next run.
        let mut file = File::open(&path).ok()?;
        let len = file.metadata().ok()?.len();
        file.seek(std::io::SeekFrom::Start(len.saturating_sub(4096)))
            .ok()?;
        let mut tail = Vec::new();
        file.read_to_end(&mut tail).ok()?;
        // The first piece of a tail cut mid-file is no whole line.
        if tail
            .split(|b| *b == b'\n')
            .skip(usize::from(len > 4096))
            .any(|line| line.starts_with(b"{\"finished\""))
        {
            return None;
        }
        let text = std::fs::read(&path).ok()?;
        let mut done = 0;
        for line in text.split(|b| *b == b'\n') {
            if line.starts_with(b"{\"finished\"") {
                return None;
            }
            if line.starts_with(b"{\"scenario\"") {
                done += 1;
            }
        }
        Some(done)
    }

    /// Closes the journal beside `results` with `{"finished": INSTANT}`: its run wrote its final
    /// reports, so `--resume` has nothing to finish. A missing journal is left missing.
    ///
    /// # Errors
    /// [`ReportError::Journal`] naming the path.
    pub fn mark_finished(results: &Path) -> Result<(), ReportError> {
        let path = Journal::path_for(results);
        if !path.is_file() {
            return Ok(());
        }
        let failed = |source| ReportError::Journal {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(failed)?;
        let line = serde_json::json!({ "finished": crate::template::now_instant() });
        writeln!(file, "{line}").map_err(failed)?;
        file.sync_all().map_err(failed)
    }

    /// Hands every scenario journaled from now on to `stream` too, which makes its part of the
    /// reports in the background (see [`super::ReportStream`]).
    pub fn stream_to(&mut self, stream: std::sync::Arc<super::ReportStream>) {
        self.stream = Some(stream);
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `bytes` as `evidence`'s file in the evidence folder, named for `scenario` and the
    /// item, owner-only, and sets its `file`.
    fn write_evidence(
        &self,
        scenario: &str,
        evidence: &mut Evidence,
        bytes: &[u8],
    ) -> std::io::Result<()> {
        let path = self.file_of(scenario, evidence);
        let written = super::json::private_write(&path, bytes).map(drop);
        if written.is_err() {
            evidence.file = None;
        }
        written
    }

    /// The path of `evidence`'s file (captured by `scenario`), set as its `file` (relative).
    fn file_of(&self, scenario: &str, evidence: &mut Evidence) -> PathBuf {
        let name = super::json::evidence_name(
            &self.evidence_name(scenario),
            &evidence.id,
            &evidence.media_type,
        );
        let path = self.dir.join("evidence").join(&name);
        evidence.file = Some(format!("evidence/{name}"));
        path
    }

    /// The name `scenario`'s evidence files start with.
    fn evidence_name(&self, scenario: &str) -> String {
        self.names
            .get(scenario)
            .cloned()
            .unwrap_or_else(|| file_slug(scenario))
    }
}

/// Unique evidence names (the start of each evidence file's name) for `ids`, in the order [`super::write_json`] hands them out.
fn evidence_names(ids: &[&str]) -> HashMap<String, String> {
    let mut slugs = Slugs::default();
    ids.iter()
        .map(|id| (id.to_string(), slugs.unique_file(id)))
        .collect()
}

/// The first [`PREVIEW_BYTES`] of an evidence item's file, read back whole to check it; `None`
/// when the file is missing, or its size or SHA-256 is not what the journal recorded (a crash
/// of the machine cut it short).
fn intact_preview(dir: &Path, e: &Evidence) -> Option<Vec<u8>> {
    let mut file = File::open(dir.join(e.file.as_deref()?)).ok()?;
    let mut hasher = Sha256::new();
    let mut bytes = Vec::new();
    let mut size = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        hasher.update(chunk);
        let room = PREVIEW_BYTES.saturating_sub(bytes.len());
        bytes.extend_from_slice(&chunk[..n.min(room)]);
        size += n;
    }
    (size == e.size && format!("{:x}", hasher.finalize()) == e.sha256).then_some(bytes)
}

/// A finished scenario's journal line, serialised straight from the outcome.
#[derive(Serialize)]
struct ScenarioLine<'a> {
    scenario: &'a ScenarioOutcome,
}

/// The journal file, appended to, synced at most every [`SYNC_EVERY`].
#[derive(Debug)]
struct Appender {
    file: File,
    synced: Instant,
}

impl Appender {
    fn new(file: File) -> Appender {
        Appender {
            file,
            synced: Instant::now(),
        }
    }

    /// Appends `line`; syncs when the last sync is [`SYNC_EVERY`] ago.
    fn append(&mut self, line: &[u8]) -> std::io::Result<()> {
        self.file.write_all(line)?;
        if self.synced.elapsed() >= SYNC_EVERY {
            self.file.sync_data()?;
            self.synced = Instant::now();
        }
        Ok(())
    }
}

impl Drop for Journal {
    /// The last lines reach the disk when the run ends, however it ends.
    fn drop(&mut self) {
        if let Ok(appender) = self.file.get_mut() {
            let _ = appender.file.sync_data();
        }
    }
}

/// Removes every file in `dir/evidence` that `kept` (paths relative to `dir`, `/`-separated)
/// does not name, but the folder's marker; a folder in it (the layout of harness versions that
/// gave each scenario one) goes with the files in it that `kept` does not name, when that empties
/// it.
fn prune_evidence(dir: &Path, kept: &std::collections::HashSet<&str>) -> std::io::Result<()> {
    let evidence = dir.join("evidence");
    let entries = match std::fs::read_dir(&evidence) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if entry.file_type()?.is_dir() {
            let mut left = false;
            for inner in std::fs::read_dir(entry.path())? {
                let inner = inner?;
                let file = format!("evidence/{name}/{}", inner.file_name().to_string_lossy());
                if kept.contains(file.as_str()) {
                    left = true;
                } else {
                    std::fs::remove_file(inner.path())?;
                }
            }
            if !left {
                std::fs::remove_dir(entry.path())?;
            }
        } else if !kept.contains(format!("evidence/{name}").as_str()) {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
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
    fn scenario_started(&self, _scenario: &str) -> std::io::Result<()> {
        // Nothing to clear: a new run starts with an empty evidence folder, and a resumed one
        // has removed every file no finished scenario names (see `Journal::resume`).
        Ok(())
    }

    fn evidence(&self, scenario: &str, evidence: &mut Evidence) -> std::io::Result<()> {
        let bytes = std::mem::take(&mut evidence.bytes);
        let written = self.write_evidence(scenario, evidence, &bytes);
        evidence.bytes = bytes;
        if written.is_ok() {
            evidence.bytes.truncate(PREVIEW_BYTES);
            evidence.bytes.shrink_to_fit();
        }
        written
    }

    fn evidence_of(
        &self,
        scenario: &str,
        evidence: &mut Evidence,
        bytes: &[u8],
    ) -> std::io::Result<()> {
        let written = self.write_evidence(scenario, evidence, bytes);
        if written.is_err() {
            evidence.bytes = bytes.to_vec();
        }
        written
    }

    fn evidence_deferred(
        &self,
        scenario: &str,
        evidence: &mut Evidence,
        bytes: Vec<u8>,
    ) -> std::io::Result<Option<crate::run::DeferredWrite>> {
        let path = self.file_of(scenario, evidence);
        Ok(Some(Box::new(move || {
            super::json::private_write(&path, &bytes)
                .map(drop)
                .map_err(|e| (e, bytes))
        })))
    }

    fn scenario_finished(&self, original: &ScenarioOutcome) -> std::io::Result<()> {
        // The journal is a report on disk: its text shows CPR numbers masked.
        let outcome = super::cpr::masked_scenario(original);
        let mut line = serde_json::to_vec(&ScenarioLine { scenario: &outcome })
            .map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut file = self
            .file
            .lock()
            .map_err(|_| std::io::Error::other("the journal's lock is poisoned"))?;
        file.append(&line)?;
        drop(file);
        // The reports mask as their options say (`--show-cpr` shows): they get the outcome
        // itself, not the journal's masked text.
        if let Some(stream) = &self.stream {
            stream.add(original.clone());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    fn plan(ids: &[&str]) -> Plan {
        Plan {
            scenario_files: String::new(),
            target: "embedded reference vendor".into(),
            fault: None,
            config: "built-in".into(),
            threshold: "F2".into(),
            scenarios: ids.iter().map(|id| id.to_string()).collect(),
        }
    }

    /// `results.json` in a made `reports/` folder under `tmp`, and the sample run.
    fn reports_of_sample(tmp: &Path) -> (PathBuf, crate::run::RunOutcome) {
        let results = tmp.join("reports").join("results.json");
        std::fs::create_dir_all(results.parent().expect("dir")).expect("mkdir");
        (results, sample::run())
    }

    #[test]
    fn a_finished_scenario_and_its_evidence_survive_and_a_cut_line_is_dropped() {
        let tmp = tempfile::tempdir().expect("tmp");
        let (results, run) = reports_of_sample(tmp.path());
        let ids: Vec<&str> = run.scenarios.iter().map(|s| s.id.as_str()).collect();
        let journal = Journal::start(&results, &ids, &plan(&ids)).expect("starts");
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
        let (journal, finished) = Journal::resume(&results, &ids, &plan(&ids)).expect("resumes");
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
    fn the_reports_streamed_from_the_journal_show_cpr_numbers_when_asked() {
        let tmp = tempfile::tempdir().expect("tmp");
        let (results, mut run) = reports_of_sample(tmp.path());
        run.scenarios[1].title = "for patient 250947-9989".into();
        let ids: Vec<&str> = run.scenarios.iter().map(|s| s.id.as_str()).collect();
        let mut journal = Journal::start(&results, &ids, &plan(&ids)).expect("starts");
        let paths = crate::report::Paths {
            html: results.with_file_name("report.html"),
            junit: results.with_file_name("junit.xml"),
            json: results.clone(),
        };
        let options = crate::report::Options {
            show_cpr: true,
            ..crate::report::Options::default()
        };
        let stream = std::sync::Arc::new(crate::report::ReportStream::start(
            &paths,
            &options,
            crate::transport::Secrets::default(),
            run.threshold,
        ));
        journal.stream_to(stream.clone());
        for s in &mut run.scenarios {
            journal.scenario_started(&s.id).expect("started");
            for e in &mut s.evidence {
                journal.evidence(&s.id, e).expect("evidence written");
            }
            journal.scenario_finished(s).expect("finished");
        }
        let parts = stream.finish();
        crate::report::write_all_streamed(
            &run,
            &paths,
            &options,
            &crate::transport::Secrets::default(),
            parts,
        )
        .expect("written");
        let json = std::fs::read_to_string(&results).expect("results");
        assert!(json.contains("for patient 250947-9989"), "shown as asked");
        // The journal itself masks.
        let text = std::fs::read_to_string(journal.path()).expect("journal");
        assert!(!text.contains("250947-9989"));
    }

    #[test]
    fn a_scenario_whose_evidence_a_crash_cut_short_or_altered_is_run_again() {
        let tmp = tempfile::tempdir().expect("tmp");
        let (results, run) = reports_of_sample(tmp.path());
        let ids: Vec<&str> = run.scenarios.iter().map(|s| s.id.as_str()).collect();
        let journal = Journal::start(&results, &ids, &plan(&ids)).expect("starts");
        let mut files = Vec::new();
        for i in [0, 1] {
            let mut done = run.scenarios[i].clone();
            journal.scenario_started(&done.id).expect("started");
            for e in &mut done.evidence {
                journal.evidence(&done.id, e).expect("evidence written");
            }
            journal.scenario_finished(&done).expect("finished");
            files.push(done.evidence[0].file.clone().expect("filed"));
        }
        drop(journal);
        let reports = tmp.path().join("reports");
        // The machine went down before the page cache reached the disk: one file is cut short,
        // the other holds the right number of wrong bytes.
        let cut = std::fs::read(reports.join(&files[0])).expect("read");
        std::fs::write(reports.join(&files[0]), &cut[..cut.len() / 2]).expect("cut");
        let altered = vec![b'x'; std::fs::read(reports.join(&files[1])).expect("read").len()];
        std::fs::write(reports.join(&files[1]), altered).expect("alter");
        let (_, finished) = Journal::resume(&results, &ids, &plan(&ids)).expect("resumes");
        assert!(finished.is_empty(), "both are run again: {finished:?}");
    }

    /// A journal started on the sample run under `tmp`, the first scenario's evidence written:
    /// (results path, run, journal, that scenario as written).
    fn first_recorded(tmp: &Path) -> (PathBuf, crate::run::RunOutcome, Journal, ScenarioOutcome) {
        let (results, run) = reports_of_sample(tmp);
        let ids: Vec<&str> = run.scenarios.iter().map(|s| s.id.as_str()).collect();
        let journal = Journal::start(&results, &ids, &plan(&ids)).expect("starts");
        let mut done = run.scenarios[0].clone();
        for e in &mut done.evidence {
            journal.evidence(&done.id, e).expect("evidence written");
        }
        (results, run, journal, done)
    }

    #[test]
    fn resume_removes_the_evidence_of_scenarios_it_runs_again_and_keeps_the_finished_ones() {
        let tmp = tempfile::tempdir().expect("tmp");
        let (results, run, journal, done) = first_recorded(tmp.path());
        let ids: Vec<&str> = run.scenarios.iter().map(|s| s.id.as_str()).collect();
        journal.scenario_finished(&done).expect("finished");
        // The kill came while the next scenario had captured its first message.
        let mut cut = run.scenarios[1].clone();
        journal
            .evidence(&cut.id, &mut cut.evidence[0])
            .expect("evidence written");
        drop(journal);
        let reports = tmp.path().join("reports");
        let left = reports.join(cut.evidence[0].file.as_deref().expect("filed"));
        assert!(left.is_file());
        let (_, finished) = Journal::resume(&results, &ids, &plan(&ids)).expect("resumes");
        assert_eq!(finished.len(), 1);
        assert!(!left.exists(), "the unfinished scenario's evidence goes");
        for e in &finished[0].evidence {
            assert!(reports.join(e.file.as_deref().expect("filed")).is_file());
        }
        assert!(
            reports
                .join("evidence")
                .join(".medcom-harness-evidence")
                .is_file(),
            "the marker stays"
        );
    }

    #[test]
    fn evidence_files_lie_flat_in_one_folder_named_for_scenario_and_item() {
        let tmp = tempfile::tempdir().expect("tmp");
        let (_, _, _journal, done) = first_recorded(tmp.path());
        for e in &done.evidence {
            let file = e.file.as_deref().expect("filed");
            let name = file.strip_prefix("evidence/").expect("in evidence/");
            assert!(!name.contains('/'), "`{file}` is in a subfolder");
            let (rest, _ext) = name.rsplit_once('.').expect("an extension");
            let (scenario, item) = rest.rsplit_once('.').expect("scenario.item");
            assert_eq!(scenario, file_slug(&done.id));
            assert_eq!(item, e.id);
        }
    }

    #[test]
    fn a_second_run_into_a_held_report_folder_is_refused_naming_the_first() {
        let tmp = tempfile::tempdir().expect("tmp");
        let results = tmp.path().join("reports").join("results.json");
        let held = FolderLock::take(&results).expect("the first run takes the folder");
        let err = FolderLock::take(&results).expect_err("the second is refused");
        let text = err.to_string();
        assert!(text.contains("another medcom-harness run"), "{text}");
        assert!(text.contains(&std::process::id().to_string()), "{text}");
        drop(held);
        FolderLock::take(&results).expect("free again once the first ends");
    }

    #[test]
    fn resume_without_a_journal_is_an_error_naming_it() {
        let tmp = tempfile::tempdir().expect("tmp");
        let err = Journal::resume(&tmp.path().join("results.json"), &["a"], &plan(&["a"]))
            .expect_err("nothing to resume");
        assert!(err.to_string().contains(FILE_NAME), "{err}");
    }

    #[test]
    fn starting_empties_the_evidence_of_an_earlier_run() {
        let tmp = tempfile::tempdir().expect("tmp");
        let results = tmp.path().join("results.json");
        let journal = Journal::start(&results, &["a"], &plan(&["a"])).expect("starts");
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
        Journal::start(&results, &["a"], &plan(&["a"])).expect("starts again");
        assert!(!old.exists(), "evidence of the earlier run is gone");
    }

    #[test]
    fn a_rerun_swaps_in_a_fresh_evidence_folder_and_removes_the_old_one_after() {
        let tmp = tempfile::tempdir().expect("tmp");
        let results = tmp.path().join("results.json");
        let journal = Journal::start(&results, &["a"], &plan(&["a"])).expect("starts");
        for i in 0..200 {
            let mut e = Evidence::new(
                format!("e{i}"),
                crate::run::Direction::Sent,
                "x".into(),
                "application/json".into(),
                b"{}".to_vec(),
            );
            journal.evidence("a", &mut e).expect("written");
        }
        drop(journal);
        Journal::start(&results, &["a"], &plan(&["a"])).expect("starts again");
        let fresh: Vec<_> = std::fs::read_dir(tmp.path().join("evidence"))
            .expect("a fresh evidence folder")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .collect();
        assert_eq!(fresh, [".medcom-harness-evidence"], "only the marker");
        // The old folder is removed in the background: gone within seconds.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let left: Vec<String> = std::fs::read_dir(tmp.path())
                .expect("reports folder")
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".medcom-harness-old"))
                .collect();
            if left.is_empty() {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "still there: {left:?}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    #[test]
    fn resume_under_another_target_fault_config_or_threshold_is_refused_naming_what_differs() {
        let tmp = tempfile::tempdir().expect("tmp");
        let results = tmp.path().join("results.json");
        let ids = ["a", "b"];
        drop(Journal::start(&results, &ids, &plan(&ids)).expect("starts"));
        let mut other = plan(&ids);
        other.target = "http://127.0.0.1:18003/fhir".into();
        other.fault = Some("no-ack".into());
        other.config = "sha256:00".into();
        other.threshold = "F3".into();
        let err = Journal::resume(&results, &ids, &other).expect_err("refused");
        assert!(matches!(err, ReportError::ResumeMismatch { .. }), "{err:?}");
        let text = err.to_string();
        for what in [
            "target",
            "http://127.0.0.1:18003/fhir",
            "fault",
            "config",
            "threshold",
        ] {
            assert!(text.contains(what), "`{what}` missing from: {text}");
        }
        let fewer = plan(&ids[..1]);
        let err = Journal::resume(&results, &ids[..1], &fewer).expect_err("refused");
        assert!(err.to_string().contains("selected scenarios"), "{err}");
        Journal::resume(&results, &ids, &plan(&ids)).expect("the same plan resumes");
    }

    #[test]
    fn resume_after_a_scenario_file_changed_is_refused() {
        let tmp = tempfile::tempdir().expect("tmp");
        let scenario = tmp.path().join("s.toml");
        std::fs::write(&scenario, "code = \"ok\"").expect("write");
        let before = Plan {
            scenario_files: Plan::files_digest([scenario.as_path()]),
            ..plan(&["a"])
        };
        std::fs::write(&scenario, "code = \"fatal-error\"").expect("edit");
        let after = Plan {
            scenario_files: Plan::files_digest([scenario.as_path()]),
            ..plan(&["a"])
        };
        assert_eq!(
            after.differences(&before),
            vec!["a scenario file changed since the killed run".to_owned()]
        );
        assert!(before.differences(&before).is_empty());
    }

    #[test]
    fn a_journal_without_a_plan_is_refused() {
        let tmp = tempfile::tempdir().expect("tmp");
        let results = tmp.path().join("results.json");
        std::fs::write(
            Journal::path_for(&results),
            "{\"journal\":\"medcom-harness\",\"version\":1,\"started\":\"2026-01-01T00:00:00Z\"}\n",
        )
        .expect("old journal");
        let err = Journal::resume(&results, &["a"], &plan(&["a"])).expect_err("refused");
        assert!(matches!(err, ReportError::ResumeMismatch { .. }), "{err:?}");
    }

    #[test]
    fn an_unfinished_journal_counts_its_finished_scenarios_until_the_run_finishes() {
        let tmp = tempfile::tempdir().expect("tmp");
        let (results, run) = reports_of_sample(tmp.path());
        assert_eq!(Journal::unfinished(&results), None, "no journal");
        let ids: Vec<&str> = run.scenarios.iter().map(|s| s.id.as_str()).collect();
        let journal = Journal::start(&results, &ids, &plan(&ids)).expect("starts");
        assert_eq!(Journal::unfinished(&results), Some(0));
        let mut done = run.scenarios[0].clone();
        journal.scenario_started(&done.id).expect("started");
        for e in &mut done.evidence {
            journal.evidence(&done.id, e).expect("evidence written");
        }
        journal.scenario_finished(&done).expect("finished");
        drop(journal);
        assert_eq!(Journal::unfinished(&results), Some(1));
        Journal::mark_finished(&results).expect("marked");
        assert_eq!(Journal::unfinished(&results), None, "its run finished");
    }

    #[test]
    fn a_finished_journal_has_nothing_to_resume() {
        let tmp = tempfile::tempdir().expect("tmp");
        let results = tmp.path().join("reports").join("results.json");
        std::fs::create_dir_all(results.parent().expect("dir")).expect("mkdir");
        drop(Journal::start(&results, &["a"], &plan(&["a"])).expect("starts"));
        Journal::mark_finished(&results).expect("marked");
        let err = Journal::resume(&results, &["a"], &plan(&["a"])).expect_err("refused");
        assert!(matches!(err, ReportError::ResumeFinished { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.starts_with("nothing to resume") && text.contains("run without --resume"),
            "{text}"
        );
    }

    #[test]
    fn merging_the_journal_with_the_rerun_counts_each_scenario_once_later_winning() {
        let run = sample::run();
        let earlier = run.scenarios.clone();
        let mut again = run.scenarios[1].clone();
        again.reason = Some("ran again".into());
        let merged = crate::run::merge_by_id(earlier.clone(), vec![again]);
        let ids: Vec<&str> = merged.iter().map(|s| s.id.as_str()).collect();
        let mut unique = ids.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(ids.len(), unique.len(), "an id twice: {ids:?}");
        assert_eq!(merged.len(), earlier.len());
        let kept = merged
            .iter()
            .find(|s| s.id == run.scenarios[1].id)
            .expect("kept");
        assert_eq!(kept.reason.as_deref(), Some("ran again"));
        // The same outcomes twice (a resume with nothing left to run) are counted once.
        assert_eq!(
            crate::run::merge_by_id(earlier.clone(), earlier.clone()).len(),
            earlier.len()
        );
    }
}
