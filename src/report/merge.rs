//! `report merge`: the JSON results of a partitioned run's shares (`run --partition hash:K/N`,
//! one CI job each) joined into one run, for one HTML, JUnit and JSON report.
//!
//! The joined run has every share's scenarios (ordered by path, as a run orders them), their
//! unclaimed messages and not-applicable scenarios; it is finished only when every share
//! finished, started when the first share started and took as long as the longest. The shares
//! must have judged the same target at the same threshold, and no scenario may be in two of
//! them. Evidence stays in each share's `evidence/` folder: the joined results name those files
//! relative to the joined results' folder, and the HTML report shows their first
//! [`crate::run::PREVIEW_BYTES`] (or links them, for a large run).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::finding::{Finding, Grade};
use crate::run::{
    Evidence, NotApplicable, PREVIEW_BYTES, RunOutcome, RunStatus, ScenarioOutcome, Selection,
};

/// The shares cannot be joined.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A results file could not be read.
    #[error("failed to read results `{}`", .path.display())]
    Read {
        /// The results file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A results file is not the JSON results of a run.
    #[error("`{}` is not the results.json of a medcom-harness run", .path.display())]
    Parse {
        /// The results file.
        path: PathBuf,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// Two shares judged differently: they are not shares of one run.
    #[error("`{}` and `{}` are not shares of one run: {what} differs (`{first}` and `{other}`)", .first_path.display(), .other_path.display())]
    Mismatch {
        /// What differs: `target`, `threshold`.
        what: &'static str,
        /// The first results file.
        first_path: PathBuf,
        /// Its value.
        first: String,
        /// The other results file.
        other_path: PathBuf,
        /// Its value.
        other: String,
    },
    /// A share of the partitioning is not given: the joined report would pass a run that never
    /// ran those scenarios.
    #[error(
        "share {missing} of `hash:K/{of}` is missing (given: {given}): give every share's results, or the joined report would pass scenarios that never ran"
    )]
    MissingShare {
        /// The missing shares, `2, 4`.
        missing: String,
        /// N of `hash:K/N`.
        of: u64,
        /// The shares given, `1, 3`.
        given: String,
    },
    /// A scenario is in two shares.
    #[error("scenario `{id}` is in both `{}` and `{}`: give each share once, from one partitioning", .first_path.display(), .other_path.display())]
    Overlap {
        /// The scenario id.
        id: String,
        /// The first results file holding it.
        first_path: PathBuf,
        /// The other.
        other_path: PathBuf,
    },
}

/// Every share `1..=N` of the results' `hash:K/N` partitions is given (results without a
/// partition are whole runs and need no company).
fn check_every_share(partitions: &[Option<String>]) -> Result<(), MergeError> {
    let shares: Vec<(u64, u64)> = partitions
        .iter()
        .flatten()
        .filter_map(|p| {
            let (k, n) = p.strip_prefix("hash:")?.split_once('/')?;
            Some((k.parse().ok()?, n.parse().ok()?))
        })
        .collect();
    let Some(&(_, of)) = shares.first() else {
        return Ok(());
    };
    let given: std::collections::BTreeSet<u64> = shares.iter().map(|(k, _)| *k).collect();
    let missing: Vec<String> = (1..=of)
        .filter(|k| !given.contains(k))
        .map(|k| k.to_string())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(MergeError::MissingShare {
        missing: missing.join(", "),
        of,
        given: given
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// What `results.json` holds of a run (see the `json` module for the shape).
#[derive(Deserialize)]
struct Filed {
    #[serde(default)]
    interrupted: bool,
    status: RunStatus,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    allow_skipped: bool,
    harness_version: String,
    target: String,
    threshold: Grade,
    started: String,
    scenarios: Vec<ScenarioOutcome>,
    #[serde(default)]
    unclaimed: Vec<(Evidence, Finding)>,
    #[serde(default)]
    not_applicable: Vec<NotApplicable>,
    #[serde(default)]
    selection: Selection,
    /// Seconds.
    duration: f64,
    /// The certification record (absent in results of older versions).
    #[serde(default)]
    certification: Option<crate::certification::Certification>,
}

/// The run the shares in `results` (their `results.json` files) make together, its evidence
/// named relative to `into` (the joined results file) and previewed from the shares' files.
///
/// # Errors
/// [`MergeError`] naming the file that cannot be read or the shares that do not fit together.
pub fn merge(results: &[PathBuf], into: &Path) -> Result<RunOutcome, MergeError> {
    let mut merged: Option<(PathBuf, RunOutcome)> = None;
    let mut owner: std::collections::HashMap<String, PathBuf> = std::collections::HashMap::new();
    let mut partitions: Vec<Option<String>> = Vec::new();
    for path in results {
        let text = std::fs::read(path).map_err(|source| MergeError::Read {
            path: path.clone(),
            source,
        })?;
        let filed: Filed = serde_json::from_slice(&text).map_err(|source| MergeError::Parse {
            path: path.clone(),
            source,
        })?;
        drop(text);
        let share = share_run(filed, path, into);
        partitions.push(share.selection.partition.clone());
        if let Some((first_path, run)) = &merged {
            let mismatch = |what, first: String, other: String| MergeError::Mismatch {
                what,
                first_path: first_path.clone(),
                first,
                other_path: path.clone(),
                other,
            };
            if run.target != share.target {
                return Err(mismatch("target", run.target.clone(), share.target));
            }
            if run.threshold != share.threshold {
                return Err(mismatch(
                    "threshold",
                    run.threshold.as_str().into(),
                    share.threshold.as_str().into(),
                ));
            }
        }
        for s in &share.scenarios {
            if let Some(first) = owner.insert(s.id.clone(), path.clone()) {
                return Err(MergeError::Overlap {
                    id: s.id.clone(),
                    first_path: first,
                    other_path: path.clone(),
                });
            }
        }
        merged = Some(match merged {
            None => (path.clone(), share),
            Some((first_path, run)) => (first_path, join(run, share)),
        });
    }
    check_every_share(&partitions)?;
    let (_, mut run) = merged.expect("clap requires at least one results file");
    run.scenarios
        .sort_by(|a, b| a.path.cmp(&b.path).then_with(|| a.id.cmp(&b.id)));
    run.selection.partition = None;
    Ok(run)
}

/// `filed` as a run, its evidence named relative to `into`'s folder and previewed.
fn share_run(filed: Filed, path: &Path, into: &Path) -> RunOutcome {
    let prefix = super::relative_folder(into, path);
    let base = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let mut run = RunOutcome {
        interrupted: filed.interrupted,
        status: filed.status,
        note: filed.note,
        allow_skipped: filed.allow_skipped,
        harness_version: filed.harness_version,
        target: filed.target,
        threshold: filed.threshold,
        started: filed.started,
        scenarios: filed.scenarios,
        unclaimed: filed.unclaimed,
        not_applicable: filed.not_applicable,
        selection: filed.selection,
        duration: Duration::from_secs_f64(filed.duration.max(0.0)),
        certification: filed.certification,
    };
    let evidence = run
        .scenarios
        .iter_mut()
        .flat_map(|s| s.evidence.iter_mut())
        .chain(run.unclaimed.iter_mut().map(|(e, _)| e));
    for e in evidence {
        if let Some(file) = e.file.take() {
            e.bytes = preview(&base.join(&file));
            e.file = Some(format!("{prefix}{file}"));
        }
    }
    run
}

/// The first [`PREVIEW_BYTES`] of `file`; empty when it cannot be read.
fn preview(file: &Path) -> Vec<u8> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    if let Ok(f) = std::fs::File::open(file) {
        let _ = f.take(PREVIEW_BYTES as u64).read_to_end(&mut bytes);
    }
    bytes
}

/// Two shares as one run.
fn join(mut run: RunOutcome, share: RunOutcome) -> RunOutcome {
    run.interrupted |= share.interrupted;
    // The joined run is finished only when every share is; otherwise it stands as the first
    // share that did not finish.
    if run.status == RunStatus::Finished {
        run.status = share.status;
    }
    run.note = match (run.note.take(), share.note) {
        (Some(a), Some(b)) if a != b => Some(format!("{a}; {b}")),
        (a, b) => a.or(b),
    };
    run.allow_skipped &= share.allow_skipped;
    if share.started < run.started {
        run.started = share.started;
    }
    run.duration = run.duration.max(share.duration);
    // The shares of one CI matrix test one system with one configuration: the first share's
    // record stands for the joined run (the coverage table is computed from the scenarios).
    run.certification = run.certification.or(share.certification);
    run.scenarios.extend(share.scenarios);
    run.unclaimed.extend(share.unclaimed);
    for n in share.not_applicable {
        if !run.not_applicable.iter().any(|m| m.id == n.id) {
            run.not_applicable.push(n);
        }
    }
    run
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Options, Paths, sample, write_all};
    use crate::run::partition::Partition;

    fn paths(dir: &Path) -> Paths {
        Paths {
            html: dir.join("report.html"),
            junit: dir.join("junit.xml"),
            json: dir.join("results.json"),
        }
    }

    /// A finding as rule, grade and message.
    type Fact = (String, Grade, String);

    /// Per scenario: id, status, verdict and its findings, step by step.
    fn facts(run: &RunOutcome) -> Vec<(String, String, Grade, Vec<Vec<Fact>>)> {
        run.scenarios
            .iter()
            .map(|s| {
                (
                    s.id.clone(),
                    format!("{:?}", s.status),
                    s.verdict,
                    s.steps
                        .iter()
                        .map(|st| {
                            st.findings
                                .iter()
                                .map(|f| (f.rule.to_string(), f.grade, f.message.clone()))
                                .collect()
                        })
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn an_errored_scenario_merges_back_as_an_error_never_as_a_pass() {
        let run = sample::run();
        let tmp = tempfile::tempdir().expect("tmp");
        let share = tmp.path().join("share");
        write_all(&run, &paths(&share), &Options::default()).expect("written");
        let verdict_of_error = |results: &Path| {
            let json: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(results).expect("results"))
                    .expect("JSON");
            let scenarios = json["scenarios"].as_array().expect("scenarios").clone();
            let error = scenarios
                .iter()
                .find(|s| s["status"] == "error")
                .expect("the errored scenario")
                .clone();
            error["verdict"].clone()
        };
        assert_eq!(verdict_of_error(&share.join("results.json")), "ERROR");
        let out = tmp.path().join("merged");
        std::fs::create_dir_all(&out).expect("folder");
        let merged =
            merge(&[share.join("results.json")], &out.join("results.json")).expect("merged");
        let error = merged
            .scenarios
            .iter()
            .find(|s| s.status == crate::run::ScenarioStatus::Error)
            .expect("still an error");
        assert_eq!(error.verdict, Grade::Ok, "its worst grade, read back");
        write_all(&merged, &paths(&out), &Options::default()).expect("written");
        assert_eq!(verdict_of_error(&out.join("results.json")), "ERROR");
        assert_eq!(merged.verdict(), run.verdict());
    }

    #[test]
    fn merging_the_shares_of_a_partitioned_run_gives_the_whole_runs_report() {
        let whole = sample::large(40);
        let tmp = tempfile::tempdir().expect("tmp");
        let mut shares = Vec::new();
        for k in 1..=2 {
            let p: Partition = format!("hash:{k}/2").parse().expect("valid");
            let mut share = whole.clone();
            share.scenarios.retain(|s| p.includes(&s.id));
            share.selection.partition = Some(p.to_string());
            if k == 2 {
                share.unclaimed.clear();
            }
            for s in &mut share.scenarios {
                for e in &mut s.evidence {
                    e.file = None;
                }
            }
            let dir = tmp.path().join(format!("share-{k}"));
            write_all(
                &share,
                &paths(&dir),
                &Options {
                    show_cpr: true,
                    ..Options::default()
                },
            )
            .expect("written");
            shares.push(dir.join("results.json"));
        }
        let out = tmp.path().join("merged");
        std::fs::create_dir_all(&out).expect("folder");
        let merged = merge(&shares, &out.join("results.json")).expect("merged");
        let mut expected = whole.clone();
        expected
            .scenarios
            .sort_by(|a, b| a.path.cmp(&b.path).then_with(|| a.id.cmp(&b.id)));
        assert_eq!(facts(&merged), facts(&expected));
        assert_eq!(merged.summary(), whole.summary());
        assert_eq!(merged.verdict(), whole.verdict());
        assert_eq!(merged.unclaimed.len(), whole.unclaimed.len());
        assert_eq!(merged.selection.partition, None);
        // The evidence is found from the merged folder, byte for byte.
        for (s, e) in merged
            .scenarios
            .iter()
            .flat_map(|s| s.evidence.iter().map(move |e| (s, e)))
        {
            let file = out.join(e.file.as_deref().expect("filed"));
            let bytes = std::fs::read(&file).unwrap_or_else(|_| panic!("{}", file.display()));
            assert_eq!(
                crate::message::AttachmentData::of(&bytes),
                e.sha256,
                "{}",
                s.id
            );
            assert_eq!(bytes, e.bytes);
        }
        write_all(
            &merged,
            &paths(&out),
            &Options {
                show_cpr: true,
                ..Options::default()
            },
        )
        .expect("merged reports");
        let html = std::fs::read_to_string(out.join("report.html")).expect("html");
        for s in &whole.scenarios {
            assert!(html.contains(&s.id), "{}", s.id);
        }
    }

    #[test]
    fn shares_of_different_targets_or_with_a_scenario_twice_do_not_merge() {
        let tmp = tempfile::tempdir().expect("tmp");
        let run = sample::run();
        let mut other = run.clone();
        other.target = "http://elsewhere/fhir".into();
        let a = tmp.path().join("a");
        let b = tmp.path().join("b");
        write_all(&run, &paths(&a), &Options::default()).expect("a");
        write_all(&other, &paths(&b), &Options::default()).expect("b");
        let into = tmp.path().join("results.json");
        let err = merge(&[a.join("results.json"), b.join("results.json")], &into)
            .expect_err("targets differ");
        assert!(err.to_string().contains("target differs"), "{err}");
        let err = merge(&[a.join("results.json"), a.join("results.json")], &into)
            .expect_err("the same share twice");
        assert!(err.to_string().contains("is in both"), "{err}");
    }

    #[test]
    fn a_partitioned_run_with_a_share_missing_does_not_merge() {
        let tmp = tempfile::tempdir().expect("tmp");
        let mut run = sample::run();
        run.selection.partition = Some("hash:1/2".into());
        let a = tmp.path().join("a");
        write_all(&run, &paths(&a), &Options::default()).expect("a");
        let err = merge(&[a.join("results.json")], &tmp.path().join("results.json"))
            .expect_err("share 2 of 2 is missing");
        assert!(
            err.to_string().contains("share 2 of `hash:K/2` is missing"),
            "{err}"
        );
    }
}
