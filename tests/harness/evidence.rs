//! The certification package and reviewer steps as users run them: `key new`, `evidence pack`,
//! `evidence verify` (and Debian's `minisign -V` as the independent check of the signature),
//! `review`, and `run --lang da`.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use crate::support::{SCENARIO_HEAD, bin, write_scenario};

/// One scenario covering protocol step 3.4: the harness sends a CareCommunication (the vendor
/// receives it: `R`), the vendor acknowledges it (the vendor sends: `S`).
fn suite(dir: &Path) {
    write_scenario(
        dir,
        &format!(
            "{SCENARIO_HEAD}protocol-step = \"3.4\"\n[[step]]\nsend = {{ message = \"carecommunication/new\", as = \"first\" }}\n[[step]]\nexpect-ack = {{ for = \"first\" }}\n"
        ),
    );
}

/// `medcom-harness ARGS` in `dir` with `stdin` as standard input.
fn with_stdin(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = bin()
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    bin().current_dir(dir).args(args).output().expect("run")
}

/// A run of [`suite`] in a fresh folder, a key pair `key`/`key.pub` and `bundle.zip` packed.
fn packed() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    suite(dir.path());
    run_and_pack(dir.path());
    dir
}

/// Runs the scenarios in `dir` (which must pass), makes the key pair `key`/`key.pub` and packs
/// `bundle.zip`.
fn run_and_pack(dir: &Path) {
    let out = run_in(dir, &["run"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = with_stdin(dir, &["key", "new", "--output", "key"], "pw\npw\n");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    pack_names(dir, "bundle.zip");
}

/// Packs the run in `dir` with key `key` (password `pw`) into `zip`, which must succeed, and
/// returns the names of the package's entries.
fn pack_names(dir: &Path, zip: &str) -> Vec<String> {
    let out = with_stdin(
        dir,
        &["evidence", "pack", "--key", "key", "--output", zip],
        "pw\n",
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    entries(&dir.join(zip))
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

fn verify(dir: &Path, bundle: &str) -> Output {
    run_in(
        dir,
        &["evidence", "verify", bundle, "--public-key", "key.pub"],
    )
}

/// The entries of the zip at `path`, name -> bytes, in order.
fn entries(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).expect("open")).expect("zip");
    (0..zip.len())
        .map(|i| {
            let mut e = zip.by_index(i).expect("entry");
            let mut bytes = Vec::new();
            e.read_to_end(&mut bytes).expect("read");
            (e.name().expect("name").into_owned(), bytes)
        })
        .collect()
}

fn write_zip(path: &Path, files: &[(String, Vec<u8>)]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).expect("create"));
    for (name, bytes) in files {
        zip.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .expect("start");
        zip.write_all(bytes).expect("write");
    }
    zip.finish().expect("finish");
}

/// Debian's `minisign`, which `.ci/run` installs: the independent verifier of the format.
fn minisign() -> PathBuf {
    let path = PathBuf::from("/usr/bin/minisign");
    assert!(
        path.is_file(),
        "minisign is missing: `apt-get install -y minisign` (.ci/run installs it)"
    );
    path
}

#[test]
fn a_packed_run_verifies_with_the_harness_and_with_minisign() {
    let dir = packed();
    let out = verify(dir.path(), "bundle.zip");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let files = entries(&dir.path().join("bundle.zip"));
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    // MedCom's convention: standard, protocol step, consecutive letter, S/R from the vendor's
    // side: the harness's message is received by the vendor (R), the acknowledgement sent by it (S).
    for expected in [
        "CareCommunication_3.4_A_R.json",
        "CareCommunication_3.4_B_S.json",
        "report/results.json",
        "report/report.html",
        "manifest.sha256",
        "manifest.sha256.minisig",
    ] {
        assert!(names.contains(&expected), "{expected} not in {names:?}");
    }

    let x = dir.path().join("x");
    std::fs::create_dir(&x).expect("mkdir");
    for (name, bytes) in &files {
        if name.starts_with("manifest") {
            std::fs::write(x.join(name), bytes).expect("write");
        }
    }
    let out = std::process::Command::new(minisign())
        .arg("-Vm")
        .arg(x.join("manifest.sha256"))
        .arg("-x")
        .arg(x.join("manifest.sha256.minisig"))
        .arg("-p")
        .arg(dir.path().join("key.pub"))
        .output()
        .expect("minisign");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The manifest lists every other file with its SHA-256 as `sha256sum` writes it.
    let manifest = &files
        .iter()
        .find(|(n, _)| n == "manifest.sha256")
        .expect("manifest")
        .1;
    let listed = String::from_utf8_lossy(manifest).lines().count();
    assert_eq!(listed, files.len() - 2);
}

#[test]
fn a_large_runs_details_pages_go_into_the_package_beside_its_report() {
    let dir = packed();
    // A run too large to show inline keeps its scenario sections on pages in `report-details/`
    // (written here by hand: a large run takes minutes); the packed report links to them.
    let reports = dir.path().join("reports");
    std::fs::create_dir_all(reports.join("report-details")).expect("mkdir");
    std::fs::write(
        reports.join("report-details").join("part-0001.html"),
        "<!DOCTYPE html><title>Scenarios 1-500</title>",
    )
    .expect("page");
    let names = pack_names(dir.path(), "large.zip");
    assert!(
        names
            .iter()
            .any(|n| n == "report/report-details/part-0001.html"),
        "{names:?}"
    );
    assert_eq!(verify(dir.path(), "large.zip").status.code(), Some(0));
}

/// The `href`s of the evidence links (`<a class="ev" href="…">`) of an HTML page.
fn evidence_links(page: &str) -> Vec<String> {
    page.split("<a class=\"ev\" href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|target| !target.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_packed_reports_evidence_links_lead_to_the_messages_in_the_package() {
    // Evidence over the report's inline limit (4 MiB of previews of at most 256 KiB each) is
    // linked, not copied in: 20 scenarios each sending a 300 kB PDF.
    let dir = tempfile::tempdir().expect("tmp");
    let folder = dir.path().join("scenarios/cc");
    std::fs::create_dir_all(&folder).expect("mkdir");
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.resize(300_000, b' ');
    std::fs::write(folder.join("big.pdf"), pdf).expect("pdf");
    for i in 0..20 {
        std::fs::write(
            folder.join(format!("t{i}.toml")),
            format!(
                "id = \"t{i}\"\ntitle = \"t\"\nstandard = \"CareCommunication 5.0\"\nprotocol-step = \"3.4\"\n[[step]]\nsend = {{ message = \"carecommunication/new\", as = \"first\", category = \"discharge\", attachments = [{{ file = \"big.pdf\", content-type = \"application/pdf\", title = \"Stor\" }}] }}\n[[step]]\nexpect-ack = {{ for = \"first\" }}\n"
            ),
        )
        .expect("scenario");
    }
    run_and_pack(dir.path());
    let files = entries(&dir.path().join("bundle.zip"));
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    let mut linked = 0;
    for (page, bytes) in files
        .iter()
        .filter(|(n, _)| n.starts_with("report/") && n.ends_with(".html"))
    {
        let folder = std::path::Path::new(page).parent().expect("folder");
        for link in evidence_links(&String::from_utf8_lossy(bytes)) {
            // Resolved as a browser resolves a relative link, from the page's folder.
            let mut at: Vec<&str> = folder.iter().filter_map(|c| c.to_str()).collect();
            for part in link.split('/') {
                if part == ".." {
                    at.pop();
                } else {
                    at.push(part);
                }
            }
            let target = at.join("/");
            assert!(
                names.contains(&target.as_str()),
                "{page} links `{link}`, and the package holds no `{target}`: {names:?}"
            );
            linked += 1;
        }
    }
    assert!(
        linked >= 2,
        "the packed report links {linked} evidence files"
    );
    assert_eq!(verify(dir.path(), "bundle.zip").status.code(), Some(0));
}

#[test]
fn a_300_character_scenario_id_passes_with_its_evidence_on_disk() {
    // NAME_MAX is 255 bytes: the id itself cannot be the evidence file's name.
    let dir = tempfile::tempdir().expect("tmp");
    let id = "L".repeat(300);
    write_scenario(
        dir.path(),
        &format!(
            "id = \"{id}\"\ntitle = \"t\"\nstandard = \"CareCommunication 5.0\"\n[[step]]\nsend = {{ message = \"carecommunication/new\", as = \"first\" }}\n[[step]]\nexpect-ack = {{ for = \"first\" }}\n"
        ),
    );
    let out = run_in(dir.path(), &["run"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let reports = dir.path().join("reports");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(reports.join("results.json")).expect("results"))
            .expect("json");
    let items = json["scenarios"][0]["evidence"]
        .as_array()
        .expect("evidence");
    assert_eq!(items.len(), 2);
    for e in items {
        let file = e["file"].as_str().expect("file");
        assert!(reports.join(file).is_file(), "{file}");
    }
}

#[test]
fn a_changed_an_added_and_a_missing_file_are_each_named_and_rejected() {
    let dir = packed();
    let files = entries(&dir.path().join("bundle.zip"));
    let victim = "CareCommunication_3.4_A_R.json";

    let mut changed = files.clone();
    for (name, bytes) in &mut changed {
        if name == victim {
            bytes[10] ^= 1;
        }
    }
    let mut added = files.clone();
    added.push(("extra.txt".into(), b"slipped in".to_vec()));
    let missing: Vec<_> = files.iter().filter(|(n, _)| n != victim).cloned().collect();

    for (bundle, files, said) in [
        ("changed.zip", changed, format!("changed: `{victim}`")),
        ("added.zip", added, "added: `extra.txt`".to_string()),
        ("missing.zip", missing, format!("missing: `{victim}`")),
    ] {
        write_zip(&dir.path().join(bundle), &files);
        let out = verify(dir.path(), bundle);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{bundle}: {stdout}");
        assert!(stdout.contains(&said), "{bundle}: {stdout}");
    }
}

#[test]
fn a_manifest_signed_by_another_key_is_a_bad_signature_and_an_unreadable_package_exit_2() {
    let dir = packed();
    let out = with_stdin(dir.path(), &["key", "new", "--output", "other"], "pw2\n");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run_in(
        dir.path(),
        &[
            "evidence",
            "verify",
            "bundle.zip",
            "--public-key",
            "other.pub",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("bad signature"), "{stdout}");

    let out = verify(dir.path(), "no-such.zip");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn key_new_never_overwrites_a_key_and_a_wrong_password_cannot_pack() {
    let dir = packed();
    let out = with_stdin(dir.path(), &["key", "new", "--output", "key"], "pw\npw\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists already"));
    let out = with_stdin(
        dir.path(),
        &["evidence", "pack", "--key", "key", "--output", "again.zip"],
        "wrong\n",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.path().join("again.zip").exists());
}

#[test]
fn an_override_keeps_the_original_grade_and_the_report_shows_it_with_the_comment() {
    let dir = tempfile::tempdir().expect("tmp");
    suite(dir.path());
    let out = run_in(dir.path(), &["run"]);
    assert_eq!(out.status.code(), Some(0));
    let results_before = std::fs::read(dir.path().join("reports/results.json")).expect("results");

    // Without a comment an override is refused and nothing is logged.
    let base = [
        "review",
        "override",
        "--name",
        "Jane Reviewer",
        "--scenario",
        "t",
        "--step",
        "2",
        "--rule",
        "KR3",
        "--grade",
        "F3",
    ];
    let out = run_in(dir.path(), &base);
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.path().join("reports/review.jsonl").exists());

    let mut args = base.to_vec();
    args.extend(["--comment", "the code was right by luck"]);
    let out = run_in(dir.path(), &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let log = std::fs::read_to_string(dir.path().join("reports/review.jsonl")).expect("log");
    let entry: serde_json::Value = serde_json::from_str(log.trim()).expect("one entry");
    assert_eq!(entry["kind"], "override");
    assert_eq!(entry["original"], "OK");
    assert_eq!(entry["grade"], "F3");
    assert_eq!(entry["reviewer"], "Jane Reviewer");
    // The results keep the harness's grade.
    assert_eq!(
        std::fs::read(dir.path().join("reports/results.json")).expect("results"),
        results_before
    );

    let html = std::fs::read_to_string(dir.path().join("reports/report.html")).expect("html");
    let doc = scraper::Html::parse_document(&html);
    let row = scraper::Selector::parse("table.reviews tr.review.override").expect("css");
    let text: String = doc
        .select(&row)
        .next()
        .expect("a review row")
        .text()
        .collect();
    assert!(text.contains("F3"), "{text}");
    assert!(text.contains("original OK"), "{text}");
    assert!(text.contains("the code was right by luck"), "{text}");
    assert!(text.contains("Jane Reviewer"), "{text}");
}

#[test]
fn an_attested_step_copies_its_screenshot_into_the_signed_package() {
    let dir = tempfile::tempdir().expect("tmp");
    suite(dir.path());
    assert_eq!(
        run_in(dir.path(), &["run", "--lang", "da"]).status.code(),
        Some(0)
    );
    std::fs::write(dir.path().join("shot.png"), b"\x89PNG\r\n\x1a\nnot really").expect("png");
    let out = run_in(
        dir.path(),
        &[
            "review",
            "attest",
            "--name",
            "Ole",
            "--protocol-step",
            "3.1.2.1",
            "--comment",
            "shown to the user",
            "--file",
            "shot.png",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run_in(
        dir.path(),
        &[
            "review",
            "not-relevant",
            "--name",
            "Ole",
            "--protocol-step",
            "R-C",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(dir.path().join("reports/report.html")).expect("html");
    // The report was written in Danish; the reviews section follows its language.
    let doc = scraper::Html::parse_document(&html);
    let css = scraper::Selector::parse("tr.review.not-relevant td.action").expect("css");
    let action: String = doc.select(&css).next().expect("row").text().collect();
    assert_eq!(action, "Ikke relevant");
    let css = scraper::Selector::parse("tr.review.attest").expect("css");
    let attest: String = doc.select(&css).next().expect("row").text().collect();
    assert!(attest.contains("1-shot.png"), "{attest}");

    with_stdin(dir.path(), &["key", "new", "--output", "key"], "pw\n");
    let names = pack_names(dir.path(), "bundle.zip");
    assert!(
        names.contains(&"review/review.jsonl".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"review/files/1-shot.png".to_string()),
        "{names:?}"
    );
    assert_eq!(verify(dir.path(), "bundle.zip").status.code(), Some(0));
}

#[test]
fn a_scenario_covering_several_protocol_steps_names_its_messages_by_the_first() {
    let dir = tempfile::tempdir().expect("tmp");
    write_scenario(
        dir.path(),
        &format!(
            "{SCENARIO_HEAD}protocol-step = \"R-A, Acknowledgement send-ok\"\n[[step]]\nsend = {{ message = \"carecommunication/new\", as = \"first\" }}\n[[step]]\nexpect-ack = {{ for = \"first\" }}\n"
        ),
    );
    assert_eq!(run_in(dir.path(), &["run"]).status.code(), Some(0));
    let out = with_stdin(dir.path(), &["key", "new", "--output", "key"], "pw\npw\n");
    assert_eq!(out.status.code(), Some(0));
    let out = with_stdin(
        dir.path(),
        &["evidence", "pack", "--key", "key", "--output", "bundle.zip"],
        "pw\n",
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names: Vec<String> = entries(&dir.path().join("bundle.zip"))
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    // MedCom's convention with the scenario's own standard and its first step, by the step's
    // number in MedCom's protocol: R-A is loaded in test step 3.1.1.1 of "Test protocol for
    // receiving a CareCommunication" 5.0.0, whose files are named "Standard name, the number of
    // the relevant test step, consecutive letter, S or R, file type".
    for expected in [
        "CareCommunication_3.1.1.1_A_R.json",
        "CareCommunication_3.1.1.1_B_S.json",
    ] {
        assert!(
            names.contains(&expected.to_string()),
            "{expected} not in {names:?}"
        );
    }
}

#[test]
fn the_danish_report_uses_medcoms_danish_grade_names() {
    let dir = tempfile::tempdir().expect("tmp");
    suite(dir.path());
    let out = run_in(dir.path(), &["run", "--lang", "da"]);
    assert_eq!(out.status.code(), Some(0));
    let html = std::fs::read_to_string(dir.path().join("reports/report.html")).expect("html");
    let doc = scraper::Html::parse_document(&html);
    let legend: String = doc
        .select(&scraper::Selector::parse("p.legend").expect("css"))
        .next()
        .expect("legend")
        .text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    // MedCom's test protocols: F1 kritisk, F2 alvorlig, F3 betydelig, F4 mindre betydelig, OK,
    // Ikke relevant.
    for name in [
        "F1 kritisk",
        "F2 alvorlig",
        "F3 betydelig",
        "F4 mindre betydelig",
        "OK",
        "Ikke relevant",
    ] {
        assert!(legend.contains(name), "{name} not in {legend}");
    }
    assert!(html.contains("<html lang=\"da\">"));
}

/// A review names a step MedCom's protocols (or the run's scenarios) have: a typo such as
/// `NOPE-ZZ` is refused with exit 2 and nothing is recorded.
#[test]
fn a_review_of_an_unknown_protocol_step_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    suite(dir.path());
    let out = run_in(dir.path(), &["run"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run_in(
        dir.path(),
        &[
            "review",
            "attest",
            "--name",
            "Ole",
            "--protocol-step",
            "NOPE-ZZ",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("`NOPE-ZZ` is no step"), "{err}");
    assert!(!dir.path().join("reports/review.jsonl").exists());
}
