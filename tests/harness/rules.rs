//! The `[rules]` settings (DOMAIN.md §6) as users set them: in a config file that `run`, `serve`
//! and `validate` read. Each test shows a setting changing a verdict, so none of them is inert.

use crate::support::{Serve, bin, corpus};
use std::path::Path;

/// Runs the bundled scenarios matching `filter` with `config` against `target` (the embedded
/// vendor when `None`); returns the exit code and the rules of findings worse than F4.
fn run(dir: &Path, config: &Path, target: Option<&str>, filter: &str) -> (i32, Vec<String>) {
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "run".as_ref(),
        "--filter".as_ref(),
        filter.as_ref(),
        "--config".as_ref(),
        config.as_os_str(),
    ];
    if let Some(t) = target {
        args.push("--target".as_ref());
        args.push(t.as_ref());
    }
    let out = crate::support::run_with_reports(dir, &args);
    (
        out.status.code().unwrap_or(-1),
        crate::support::failing_rules(dir),
    )
}

#[test]
fn resend_limit_is_what_the_vendor_may_do_and_what_the_harness_allows() {
    let dir = tempfile::tempdir().expect("tmp");
    let three = dir.path().join("three.toml");
    std::fs::write(&three, "[rules]\nresend-limit = 3\n").expect("write");
    let two = dir.path().join("two.toml");
    std::fs::write(&two, "").expect("write");
    // A vendor configured for 3 resends (the other MedCom document) resends 3 times.
    let serve = Serve::start(&["--config", three.to_str().expect("utf-8")]);
    let scenario = "cc-vendor-resends-unacknowledged";
    let (code, failing) = run(dir.path(), &three, Some(&serve.url), scenario);
    assert_eq!((code, failing.clone()), (0, vec![]), "limit 3 allows 3");
    // Governance 020's default of 2 judges the third resend a breach.
    let (code, failing) = run(dir.path(), &two, Some(&serve.url), scenario);
    assert_eq!(code, 1);
    assert_eq!(failing, vec!["resend-limit"]);
}

#[test]
fn transient_error_decides_what_a_scenario_means_by_ae() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(dir.path().join("scenarios/cc")).expect("mkdir");
    // A message that breaks invariant medcom-uuidv4: the vendor answers `fatal-error` (KR6).
    std::fs::write(
        dir.path().join("scenarios/cc/t.toml"),
        "id = \"t\"\ntitle = \"t\"\nstandard = \"CareCommunication 5.0\"\n[[step]]\nsend = { message = \"carecommunication/new\", as = \"broken\", patch = [{ op = \"replace\", path = \"/entry/2/resource/identifier/0/value\", value = \"thread-42\" }] }\n[[step]]\nexpect-ack = { for = \"broken\", code = \"AE\" }\n",
    )
    .expect("write");
    let governance = dir.path().join("governance.toml");
    std::fs::write(&governance, "[rules]\ntransient-error = \"AR\"\n").expect("write");
    let older = dir.path().join("older.toml");
    std::fs::write(&older, "[rules]\ntransient-error = \"AE\"\n").expect("write");
    let run_with = |config: &Path| {
        bin()
            .current_dir(dir.path())
            .args(["run", "--config"])
            .arg(config)
            .output()
            .expect("run")
    };
    // Governance 040: AE is fatal-error, which is what the vendor answers.
    let out = run_with(&governance);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The older document: AE is transient-error, so the same answer is wrong.
    let out = run_with(&older);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("expected `transient-error (AE)`"),
        "the finding names both codes: {stdout}"
    );
}

#[test]
fn validate_reads_the_rules_of_a_config() {
    let dir = tempfile::tempdir().expect("tmp");
    let small = dir.path().join("small.toml");
    std::fs::write(&small, "[rules]\nsize-limit = 2000\nsize-warning = 1000\n").expect("write");
    let example = corpus().join(
        "medcomfhir-website/ig/carecommunication/Bundle-3dcb5618-3055-406a-9034-1b8fc8de0fea.json",
    );
    assert!(example.is_file(), "{}", example.display());
    let plain = bin()
        .arg("validate")
        .arg(&example)
        .output()
        .expect("validate");
    let text = String::from_utf8_lossy(&plain.stdout);
    assert!(!text.contains("cc-attachment-size"), "{text}");
    let out = bin()
        .args(["validate", "--config"])
        .arg(&small)
        .arg(&example)
        .output()
        .expect("validate");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("cc-attachment-size F2: the message is"),
        "{text}"
    );
    // A config with a bad value is an error naming the key, exit 2.
    std::fs::write(&small, "[rules]\nletter-identifier = \"brevid\"\n").expect("write");
    let out = bin()
        .args(["validate", "--config"])
        .arg(&small)
        .arg(&example)
        .output()
        .expect("validate");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("letter-identifier"));
}
