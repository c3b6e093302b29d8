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

/// The built binary.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_medcom-harness"))
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
