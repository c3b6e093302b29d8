//! The JSON results (`reports/results.json`) and the evidence files beside them: the stable
//! interface for CI scripts and for merging partitioned runs.
//!
//! # Shape
//!
//! One object, pretty-printed. Top-level keys (add, don't break):
//!
//! | key | value |
//! |---|---|
//! | `harness_version` | string: the harness version that judged |
//! | `target` | string: vendor URL or folder, or `embedded reference vendor` |
//! | `threshold` | grade (`"OK"`, `"F4"` … `"F1"`): the worst grade that still passes |
//! | `started` | string: FHIR instant the run started |
//! | `scenarios` | array of scenario objects, ordered by path (below) |
//! | `unclaimed` | array of `[evidence, finding]` pairs: messages no scenario claimed (a finding worse than the threshold, other than `expected-message`, fails the run) |
//! | `not_applicable` | array of `{id, title, path, reason}`: scenarios the target cannot take, left out (absent when none) |
//! | `selection` | object: `filter` and `skip` (arrays of the `--filter`/`--skip` texts) and `left_out` (number of scenarios they left out) |
//! | `duration` | number: wall time in seconds (millisecond precision) |
//! | `summary` | object: `passed`, `failed`, `errors`, `skipped` scenario counts |
//! | `passed` | boolean: the run finished and every scenario passed (skipped ones only with `allow_skipped`) |
//! | `verdict` | string: `PASSED`, `FAILED`, `INCOMPLETE` (nothing failed, something did not run), `IN PROGRESS`, `NOT RUN` |
//! | `status` | string: `in-progress` (the report written at the start; the run is under way or was killed), `finished`, `interrupted`, `not-started` |
//! | `note` | string: why the run did not start or was stopped (absent otherwise) |
//! | `allow_skipped` | boolean: whether skipped scenarios may pass (`--allow-skipped`) |
//! | `interrupted` | boolean: stopped early |
//! | `certification` | object: who and what was tested (absent in runs made without one): `system` (`vendor`, `name`, `version`, `test_type` `self-test`/`final-test`, `tester`; each absent when not stated), `config_file`, `config_sha256` (hex SHA-256 of the effective configuration), `rules` (the `[rules]` settings by key), `ig_packages` (array of `{name, version, source, path}`, `source` one of `given`, `package-cache`, `corpus`), `profile_validation` (boolean) |
//! | `coverage` | object, with `certification`: `protocols` (array of `{id, title, source, steps, automatic, manual, not_run}`; a step is `{id, title, state, verdict, passed, scenarios, manual}`, `state` one of `automatic`, `not-run`, `not-covered`) and `unknown` (steps the scenarios name that no protocol lists; absent when none) |
//!
//! A scenario: `id`, `title`, `path`, `standard`, `protocol_step` (absent when unstated), `tags`,
//! `status` (`passed`, `failed`, `error`, `skipped`), `verdict` (worst grade; `ERROR` for status
//! `error`, whose grade so far would read as a pass), `reason` (absent
//! unless error or skipped), `steps`, `evidence`, `duration` (seconds). A step: `index` (1-based),
//! `kind`, `summary`, `status` (`ran`, `skipped`, `error`), `reason`, `findings`, `evidence` (ids),
//! `diffs` (absent when none; `golden`, `diff` as unified diff text), `duration`. A finding: `rule`,
//! `grade`, `message`, `evidence` (ids; absent when none), `location` (absent when none). An
//! evidence item: `id`, `direction` (`sent`, `received`), `label`, `media_type`, `sha256` (lower-case
//! hex of the bytes), `size` (bytes), `file`, `at` (UTC instant it was captured, RFC 3339 with milliseconds; absent
//! in older results).
//!
//! # Evidence files
//!
//! The bytes of every evidence item are written, exactly as they travelled, to
//! `evidence/<scenario>.<evidence>.<ext>` beside the results file (`evidence/unclaimed.…` for
//! unclaimed messages), and `file` holds that path relative to the results file's folder, with
//! `/` separators. `<scenario>` is the id reduced to `[A-Za-z0-9._-]` and `<evidence>` to
//! `[A-Za-z0-9_-]` (each made unique if two ids reduce to the same name, so a name splits back
//! at its last two dots); `<ext>` is `json`, `xml` or `bin` by media type. One flat folder, not a
//! folder per scenario: making a folder cost more than writing a file on ext4, and was a tenth of
//! a run's CPU time. A run
//! writes them as they are captured (see [`super::Journal`], which also empties `evidence/` when
//! a run starts); [`write_json`] writes those not yet on disk. The bytes are kept exactly, CPR
//! numbers included: the evidence folder holds personal data.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::ReportError;
use super::slug::{Slugs, slug};
use crate::run::{Evidence, RunOutcome, Summary};

/// The results document: the run, with `file` filled in, plus the derived counts.
#[derive(Serialize)]
struct Results<'a> {
    #[serde(flatten)]
    run: &'a RunOutcome,
    summary: Summary,
    passed: bool,
    verdict: &'static str,
    /// The protocol coverage table, with the certification record (see [`coverage`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    coverage: Option<crate::certification::protocol::Coverage>,
}

/// The coverage of `run` against MedCom's protocols, when it carries a certification record
/// (every run of the command line does).
pub(super) fn coverage(run: &RunOutcome) -> Option<crate::certification::protocol::Coverage> {
    run.certification
        .as_ref()
        .map(|_| super::certification::coverage_of(run))
}

/// Writes the JSON results of `run` to `path` (conventionally `reports/results.json`) and the
/// bytes of every evidence item not yet on disk under `evidence/` beside it (see the module docs
/// for both shapes). The evidence files are written first, so the results never name a file that
/// is not there. Values are written as they are: [`super::write_all`] masks CPR numbers.
///
/// # Errors
///
/// [`ReportError::WriteEvidence`] with the evidence file's path, [`ReportError::Json`] or
/// [`ReportError::Write`] with `path`.
pub fn write_json(run: &RunOutcome, path: &Path) -> Result<(), ReportError> {
    write_results(&file_all(run, path)?, path)
}

/// `run` with every evidence item on disk beside `path` and its `file` set: items a recorder
/// already wrote are left as they are, the others are written now.
pub(super) fn file_all(run: &RunOutcome, path: &Path) -> Result<RunOutcome, ReportError> {
    let filed = file_each(run, path)?;
    let mut run = run.clone();
    for (scenario, files) in run.scenarios.iter_mut().zip(filed.scenarios) {
        for (e, file) in scenario.evidence.iter_mut().zip(files) {
            e.file = file;
        }
    }
    for ((e, _), file) in run.unclaimed.iter_mut().zip(filed.unclaimed) {
        e.file = file;
    }
    Ok(run)
}

/// Where each evidence item of a run is on disk: the `file` of each scenario's items, in order,
/// and of each unclaimed message (relative to the results file's folder, `/`-separated; `None`
/// only for an item with neither bytes written nor a `file`, which does not happen).
#[derive(Debug, Default)]
pub(super) struct Filed {
    /// Per scenario, per evidence item.
    pub(super) scenarios: Vec<Vec<Option<String>>>,
    /// Per unclaimed message.
    pub(super) unclaimed: Vec<Option<String>>,
}

/// Writes every evidence item of `run` not yet on disk beside `path` and says where each one
/// is, without copying the run: items a recorder already wrote keep their `file`.
pub(super) fn file_each(run: &RunOutcome, path: &Path) -> Result<Filed, ReportError> {
    let dir = path.parent().unwrap_or(Path::new(""));
    let mut folders = Slugs::default();
    let mut filed = Filed::default();
    for scenario in &run.scenarios {
        let folder = folders.unique_file(&scenario.id);
        match file_evidence(dir, &folder, scenario.evidence.iter()) {
            Ok(files) => filed.scenarios.push(files),
            // The run could not keep this scenario's evidence, and the scenario says so (it is
            // the harness's error): its reports are still written, the bytes shown from memory.
            Err(_) if scenario.status == crate::run::ScenarioStatus::Error => filed
                .scenarios
                .push(scenario.evidence.iter().map(|e| e.file.clone()).collect()),
            Err(e) => return Err(e),
        }
    }
    if !run.unclaimed.is_empty() {
        let folder = folders.unique_file("unclaimed");
        filed.unclaimed = file_evidence(dir, &folder, run.unclaimed.iter().map(|(e, _)| e))?;
    }
    Ok(filed)
}

/// Writes the results document of `run`, whose evidence is filed, to `path`.
pub(super) fn write_results(run: &RunOutcome, path: &Path) -> Result<(), ReportError> {
    let results = Results {
        run,
        summary: run.summary(),
        passed: run.passed(),
        verdict: run.verdict().as_str(),
        coverage: coverage(run),
    };
    // Streamed to the file: the results of 10,000 scenarios are never a string in memory.
    super::write_report_with(path, |w| {
        serde_json::to_writer_pretty(&mut *w, &results).map_err(std::io::Error::other)?;
        w.write_all(b"\n")
    })
}

/// Scenario `s` as an item of the results' `scenarios` array: pretty-printed and indented as
/// [`write_results`] writes it there (two levels, four spaces), without the line break and
/// indentation before it. A JSON string holds no raw line break, so every line break in the
/// text is one of the printer's.
pub(super) fn scenario_item(s: &crate::run::ScenarioOutcome) -> Result<Vec<u8>, serde_json::Error> {
    let flat = serde_json::to_vec_pretty(s)?;
    let breaks = flat.iter().filter(|b| **b == b'\n').count();
    let mut out = Vec::with_capacity(flat.len() + 4 * breaks);
    for &b in &flat {
        out.push(b);
        if b == b'\n' {
            out.extend_from_slice(b"    ");
        }
    }
    Ok(out)
}

/// The results document of a run without its scenarios' items, split where they go: made
/// first ([`Frame::of`]), then written with the items ([`Frame::write`]). The items of a run's
/// scenarios are made while it runs (see `super::stream`); the document is the same, byte for
/// byte, as [`write_results`] writes.
pub(super) struct Frame {
    /// The document with an empty `scenarios` array.
    bytes: Vec<u8>,
    /// Where its `[]` starts.
    at: usize,
    /// How many items go there.
    items: usize,
}

impl Frame {
    /// The frame of `run` (its `scenarios` are taken out for the moment and put back).
    pub(super) fn of(run: &mut RunOutcome) -> Result<Frame, serde_json::Error> {
        let (summary, passed, verdict, coverage) = (
            run.summary(),
            run.passed(),
            run.verdict().as_str(),
            coverage(run),
        );
        let scenarios = std::mem::take(&mut run.scenarios);
        let items = scenarios.len();
        let bytes = serde_json::to_vec_pretty(&Results {
            run,
            summary,
            passed,
            verdict,
            coverage,
        });
        run.scenarios = scenarios;
        let bytes = bytes?;
        // The first top-level key `scenarios`: a top-level key is the only text at a line start
        // indented by two spaces, and the keys before it hold plain values.
        const KEY: &[u8] = b"\n  \"scenarios\": []";
        let at = bytes
            .windows(KEY.len())
            .position(|w| w == KEY)
            .map(|at| at + KEY.len() - 2)
            .ok_or_else(|| serde_json::Error::io(std::io::Error::other("no `scenarios` key")))?;
        Ok(Frame { bytes, at, items })
    }

    /// Writes the document to `path`, each scenario's item (see [`scenario_item`]) written by
    /// `item`, by index into the run's scenarios.
    pub(super) fn write(
        &self,
        path: &Path,
        item: &dyn Fn(usize, &mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> Result<(), ReportError> {
        let (head, tail) = (&self.bytes[..self.at], &self.bytes[self.at + 2..]);
        super::write_report_with(path, |w| {
            w.write_all(head)?;
            if self.items == 0 {
                w.write_all(b"[]")?;
            } else {
                w.write_all(b"[")?;
                for i in 0..self.items {
                    w.write_all(if i == 0 { b"\n    " } else { b",\n    " })?;
                    item(i, w)?;
                }
                w.write_all(b"\n  ]")?;
            }
            w.write_all(tail)?;
            w.write_all(b"\n")
        })
    }
}

/// The marker file by which an `evidence/` folder is known to be the harness's own.
const MARKER: &str = ".medcom-harness-evidence";

/// Empties `dir/evidence` of an earlier run, so the folder holds this run's evidence only (a
/// zipped `reports/` must not carry evidence of another run). Only a folder the harness made (it
/// holds the marker file) is emptied; another folder of that name is an error, never touched.
pub(super) fn clear_evidence(dir: &Path) -> Result<(), ReportError> {
    let evidence = dir.join("evidence");
    let failed = |source| ReportError::WriteEvidence {
        path: evidence.clone(),
        source,
    };
    if evidence.exists() {
        if !evidence.join(MARKER).exists() {
            return Err(failed(std::io::Error::other(
                "this folder was not written by medcom-harness; move it or choose another report folder",
            )));
        }
        // Renamed aside and removed by a background thread: deleting thousands of files before
        // the run starts doubled a rerun's time (ext4 inode churn on the hot path).
        let trash = tempfile::Builder::new()
            .prefix(OLD_EVIDENCE)
            .tempdir_in(dir)
            .map_err(failed)?
            .keep();
        std::fs::rename(&evidence, trash.join("evidence")).map_err(failed)?;
    }
    remove_old_evidence(dir);
    private_dir(&evidence).map_err(failed)?;
    private_write(
        &evidence.join(MARKER),
        b"evidence of the last medcom-harness run; emptied by the next\n",
    )
    .map(drop)
    .map_err(failed)
}

/// The name prefix of a folder holding an earlier run's evidence, on its way out.
const OLD_EVIDENCE: &str = ".medcom-harness-old-evidence";

/// Removes, in a background thread, every folder of earlier evidence in `dir` (also ones a
/// killed run left behind). A folder that cannot be removed stays; the next run tries again.
pub(super) fn remove_old_evidence(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let old: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(OLD_EVIDENCE))
        .map(|e| e.path())
        .collect();
    if !old.is_empty() {
        std::thread::spawn(move || {
            for folder in old {
                let _ = std::fs::remove_dir_all(folder);
            }
        });
    }
}

/// Creates `dir` (and missing parents) readable by the owner only (0700 on Unix): evidence holds
/// patient data.
pub(super) fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    #[cfg(unix)]
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    Ok(())
}

/// Writes `bytes` to `file`, readable by the owner only (0600 on Unix): evidence holds patient
/// data.
pub(super) fn private_write(file: &Path, bytes: &[u8]) -> std::io::Result<std::fs::File> {
    use std::io::Write as _;
    // A new file is created 0600 (the umask can only take bits away): no chmod needed.
    let mut fresh = std::fs::OpenOptions::new();
    fresh.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut fresh, 0o600);
    match fresh.open(file) {
        Ok(mut f) => {
            // A file the disk would not take whole goes: an empty or cut evidence file would
            // look like the message.
            if let Err(e) = f.write_all(bytes) {
                drop(f);
                let _ = std::fs::remove_file(file);
                return Err(e);
            }
            return Ok(f);
        }
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
        Err(_) => {}
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(file)?;
    #[cfg(unix)]
    f.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    f.write_all(bytes)?;
    Ok(f)
}

/// The file name of evidence item `item` of the scenario whose evidence name is `scenario`:
/// `<scenario>.<item>.<ext>`, the item's id reduced to `[A-Za-z0-9_-]` so the name splits back
/// at its last two dots (see the module docs).
pub(super) fn evidence_name(scenario: &str, item: &str, media_type: &str) -> String {
    format!(
        "{scenario}.{}.{}",
        slug(item).replace('.', "_"),
        extension(media_type)
    )
}

/// Writes each item's bytes to `dir/evidence/<scenario>.<id>.<ext>` and returns the relative
/// path of each (an item already written keeps its `file`). The evidence folder is made once,
/// before the first file.
fn file_evidence<'e>(
    dir: &Path,
    scenario: &str,
    items: impl Iterator<Item = &'e Evidence>,
) -> Result<Vec<Option<String>>, ReportError> {
    let folder_path = dir.join("evidence");
    let mut names = Slugs::default();
    let mut made = false;
    let mut files = Vec::new();
    for evidence in items {
        if evidence.file.is_some() {
            files.push(evidence.file.clone());
            continue;
        }
        let name = evidence_name(
            scenario,
            &names.unique(&evidence.id.replace('.', "_")),
            &evidence.media_type,
        );
        let file: PathBuf = folder_path.join(&name);
        let failed = |source| ReportError::WriteEvidence {
            path: file.clone(),
            source,
        };
        if !made {
            private_dir(&folder_path).map_err(failed)?;
            made = true;
        }
        private_write(&file, &evidence.bytes).map_err(failed)?;
        files.push(Some(format!("evidence/{name}")));
    }
    Ok(files)
}

/// `json`, `xml` or `bin`, from a media type such as `application/fhir+json; fhirVersion=4.0`.
pub(super) fn extension(media_type: &str) -> &'static str {
    let essence = media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence.ends_with("json") {
        "json"
    } else if essence.ends_with("xml") {
        "xml"
    } else {
        "bin"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;
    use serde_json::Value;

    fn written(run: &RunOutcome) -> (tempfile::TempDir, PathBuf, Value) {
        let tmp = tempfile::tempdir().expect("a temp dir");
        let path = tmp.path().join("reports").join("results.json");
        write_json(run, &path).expect("writes");
        let text = std::fs::read_to_string(&path).expect("results written");
        let value = serde_json::from_str(&text).expect("results parse as JSON");
        (tmp, path, value)
    }

    #[test]
    fn results_have_the_documented_top_level_keys() {
        let run = sample::run();
        let (_tmp, _path, json) = written(&run);
        let object = json.as_object().expect("an object");
        for key in [
            "harness_version",
            "target",
            "threshold",
            "started",
            "scenarios",
            "unclaimed",
            "duration",
            "summary",
            "passed",
        ] {
            assert!(object.contains_key(key), "missing `{key}`");
        }
        assert_eq!(json["passed"], Value::Bool(false));
        assert_eq!(json["summary"]["failed"], 1);
        assert_eq!(
            json["scenarios"].as_array().map(Vec::len),
            Some(run.scenarios.len())
        );
        assert_eq!(json["scenarios"][1]["status"], "failed");
        assert_eq!(json["scenarios"][1]["verdict"], "F2");
        assert_eq!(json["duration"], 6.25);
    }

    #[test]
    fn every_evidence_item_names_a_file_holding_its_bytes() {
        let run = sample::run();
        let (_tmp, path, json) = written(&run);
        let dir = path.parent().expect("a folder");
        let mut items: Vec<(&Value, &Evidence)> = Vec::new();
        for (i, s) in run.scenarios.iter().enumerate() {
            for (j, e) in s.evidence.iter().enumerate() {
                items.push((&json["scenarios"][i]["evidence"][j], e));
            }
        }
        for (i, (e, _)) in run.unclaimed.iter().enumerate() {
            items.push((&json["unclaimed"][i][0], e));
        }
        assert_eq!(items.len(), 6);
        for (value, evidence) in items {
            let file = value["file"].as_str().expect("`file` is set");
            assert!(file.starts_with("evidence/"), "`{file}`");
            let on_disk = dir.join(file);
            assert!(on_disk.starts_with(dir.join("evidence")));
            let bytes = std::fs::read(&on_disk).expect("the evidence file exists");
            assert_eq!(bytes, evidence.bytes);
            assert_eq!(value["sha256"], evidence.sha256.as_str());
            assert!(value.get("bytes").is_none(), "bytes leaked into the JSON");
        }
    }

    #[test]
    fn an_unsafe_scenario_id_stays_inside_the_evidence_folder() {
        let mut run = sample::run();
        run.scenarios[0].id = "../../outside".to_owned();
        run.scenarios[0].evidence[0].id = "../e1".to_owned();
        let (tmp, path, json) = written(&run);
        let file = json["scenarios"][0]["evidence"][0]["file"]
            .as_str()
            .expect("`file` is set");
        let parts: Vec<&str> = file.split('/').collect();
        assert_eq!(
            parts.len(),
            2,
            "`{file}` is not evidence/<scenario>.<item>.<ext>"
        );
        assert!(
            parts.iter().all(|p| !p.is_empty() && !p.starts_with('.')),
            "`{file}`"
        );
        assert!(path.parent().expect("a folder").join(file).is_file());
        assert!(!tmp.path().join("outside").exists());
    }

    #[test]
    fn the_results_written_around_their_items_are_the_results_written_whole() {
        let mut empty = sample::run();
        empty.scenarios.clear();
        let placeholder = RunOutcome::placeholder(
            crate::run::RunStatus::InProgress,
            "embedded reference vendor".into(),
            crate::finding::Grade::F4,
            None,
        );
        for run in [sample::run(), sample::large(9), empty, placeholder] {
            let tmp = tempfile::tempdir().expect("a temp dir");
            let (whole, parts) = (tmp.path().join("whole.json"), tmp.path().join("parts.json"));
            write_results(&run, &whole).expect("written whole");
            let mut framed = run.clone();
            let frame = Frame::of(&mut framed).expect("a frame");
            frame
                .write(&parts, &|i, w| {
                    w.write_all(
                        &scenario_item(&framed.scenarios[i]).map_err(std::io::Error::other)?,
                    )
                })
                .expect("written in parts");
            let (whole, parts) = (
                std::fs::read_to_string(&whole).expect("read"),
                std::fs::read_to_string(&parts).expect("read"),
            );
            assert_eq!(whole, parts);
        }
    }

    #[test]
    fn a_scenario_the_harness_could_not_run_has_the_verdict_error_never_ok() {
        let run = sample::run();
        let error = &run.scenarios[2];
        assert_eq!(error.status, crate::run::ScenarioStatus::Error);
        // Its steps so far found nothing wrong: the grade alone would read as a pass.
        assert_eq!(error.verdict, crate::finding::Grade::Ok);
        let (_tmp, path, json) = written(&run);
        assert_eq!(json["scenarios"][2]["status"], "error");
        assert_eq!(json["scenarios"][2]["verdict"], "ERROR");
        // The others keep their grade.
        assert_eq!(json["scenarios"][0]["verdict"], "OK");
        assert_eq!(json["scenarios"][1]["verdict"], "F2");
        // Read back (`review`, `evidence pack`, `report merge`), its verdict is its worst grade.
        let text = std::fs::read_to_string(&path).expect("results");
        let back: RunOutcome = serde_json::from_str(&text).expect("read back");
        assert_eq!(back.scenarios[2].status, crate::run::ScenarioStatus::Error);
        assert_eq!(back.scenarios[2].verdict, crate::finding::Grade::Ok);
        assert_eq!(back.scenarios[1].verdict, crate::finding::Grade::F2);
    }

    #[test]
    fn extension_follows_the_media_type() {
        assert_eq!(extension("application/fhir+json; fhirVersion=4.0"), "json");
        assert_eq!(extension("application/fhir+xml"), "xml");
        assert_eq!(extension("text/xml"), "xml");
        assert_eq!(extension("application/pdf"), "bin");
    }

    #[test]
    fn an_unwritable_folder_is_an_error_naming_the_path() {
        let tmp = tempfile::tempdir().expect("a temp dir");
        let blocker = tmp.path().join("reports");
        std::fs::write(&blocker, b"a file where the folder should be").expect("write");
        let path = blocker.join("results.json");
        let err = write_json(&sample::run(), &path).expect_err("cannot write under a file");
        assert!(err.to_string().contains("reports"), "`{err}`");
    }
}
