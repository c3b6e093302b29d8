//! Shared helpers: the corpus folder, the built binary, a reference vendor process.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The MedCom corpus: `$MEDCOM_CORPUS`, default `../shared/medcom`. Panics when it is missing, so
/// a CI run without the corpus fails loudly instead of skipping.
pub fn corpus() -> PathBuf {
    let dir = std::env::var_os("MEDCOM_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/medcom"));
    assert!(
        dir.join("PROVENANCE.tsv").is_file(),
        "the MedCom corpus is missing at `{}` (set MEDCOM_CORPUS)",
        dir.display()
    );
    dir
}

/// The corpus files PROVENANCE.tsv marks `STALE`, as paths relative to the corpus.
pub fn stale() -> Vec<String> {
    let text = std::fs::read_to_string(corpus().join("PROVENANCE.tsv")).expect("PROVENANCE.tsv");
    text.lines()
        .filter(|l| l.contains("\tSTALE"))
        .filter_map(|l| l.split('\t').nth(1))
        .map(str::to_string)
        .collect()
}

/// The harness binary, with `MEDCOM_CORPUS` set to [`corpus`]: the binary reads the corpus only
/// from that variable, so a test run without it (the README's `cargo test`) gives the binary
/// the same corpus the tests use, as `.ci/run` does by exporting it.
pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_medcom-harness"));
    cmd.env("MEDCOM_CORPUS", corpus());
    cmd
}

/// A `serve` process on a free port; killed on drop.
pub struct Serve {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Serve {
    pub fn start(args: &[&str]) -> Serve {
        let mut child = bin()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("first line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line of serve is not `listening on …`: {line:?}"))
            .to_string();
        Serve { child, url }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `run` with its three reports written into `dir` (`results.json`, `r.html`, `j.xml`), run from
/// the project root; `args` come first (`run`, options).
pub fn run_with_reports(dir: &Path, args: &[&std::ffi::OsStr]) -> std::process::Output {
    bin()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .arg("--report-json")
        .arg(dir.join("results.json"))
        .arg("--report-html")
        .arg(dir.join("r.html"))
        .arg("--report-junit")
        .arg(dir.join("j.xml"))
        .output()
        .expect("run")
}

/// The rules of the findings worse than F4 in the `results.json` in `dir`.
pub fn failing_rules(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("results.json")).unwrap_or_default();
    let results: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let mut failing = Vec::new();
    for s in results["scenarios"].as_array().into_iter().flatten() {
        for step in s["steps"].as_array().into_iter().flatten() {
            for f in step["findings"].as_array().into_iter().flatten() {
                if f["grade"] != "OK" && f["grade"] != "F4" {
                    failing.push(f["rule"].as_str().unwrap_or("").to_string());
                }
            }
        }
    }
    failing
}

/// Runs the bundled suite against `target` (a URL or an exchange folder) with a short
/// `default-within`; returns the exit code, the rules of the findings worse than F4, and stdout.
pub fn run_suite(target: &std::ffi::OsStr) -> (i32, Vec<String>, String) {
    let dir = tempfile::tempdir().expect("tmp");
    let config = dir.path().join("fast.toml");
    std::fs::write(&config, "default-within = 3\n").expect("write config");
    let out = run_with_reports(
        dir.path(),
        &[
            "run".as_ref(),
            "--jobs".as_ref(),
            "4".as_ref(),
            "--config".as_ref(),
            config.as_os_str(),
            "--target".as_ref(),
            target,
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (
        out.status.code().unwrap_or(-1),
        failing_rules(dir.path()),
        stdout,
    )
}

/// The head every one-file test scenario shares: `id`, `title`, `standard`.
pub const SCENARIO_HEAD: &str = "id = \"t\"\ntitle = \"t\"\nstandard = \"CareCommunication 5.0\"\n";

/// Writes `toml` as the one scenario `scenarios/cc/t.toml` below `dir`.
pub fn write_scenario(dir: &Path, toml: &str) {
    std::fs::create_dir_all(dir.join("scenarios/cc")).expect("mkdir");
    std::fs::write(dir.join("scenarios/cc/t.toml"), toml).expect("write");
}
