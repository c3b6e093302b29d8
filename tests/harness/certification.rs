//! The certification record: the system under test, the IG packages found without `--ig`, the
//! warning when profiles were not judged, MedCom's protocol coverage, `init` and `ig add`.

use std::collections::BTreeSet;
use std::path::Path;

use super::support::{bin, corpus};

/// `run` from the project root with reports in `dir`, `HOME` set to `home` and no
/// `MEDCOM_CORPUS`: what the harness finds is only what the test put there.
fn run_in(dir: &Path, home: &Path, args: &[&str]) -> std::process::Output {
    bin()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("HOME", home)
        .env_remove("MEDCOM_CORPUS")
        .arg("run")
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

fn results(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).expect("results"))
        .expect("json")
}

#[test]
fn run_without_ig_validates_with_medcoms_packages_from_the_fhir_package_cache() {
    let dir = tempfile::tempdir().expect("tmp");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let packages = corpus().join("medcomfhir-website/ig-packages");
    let mut tgz: Vec<_> = std::fs::read_dir(&packages)
        .expect("ig-packages")
        .flatten()
        .map(|e| e.path())
        .collect();
    tgz.sort();
    let added = bin()
        .env("HOME", &home)
        .args(["ig", "add"])
        .args(&tgz)
        .output()
        .expect("ig add");
    assert!(added.status.success(), "{added:?}");
    // MedCom's package names on packages.fhir.org, as the corpus's tarballs are named
    // (`core-2.4.0.package.tgz` is medcom.fhir.dk.core 2.4.0).
    let expected: BTreeSet<String> = tgz
        .iter()
        .map(|p| {
            let file = p.file_name().expect("name").to_string_lossy().into_owned();
            let stem = file.trim_end_matches(".package.tgz");
            let (name, version) = stem.rsplit_once('-').expect("name-version");
            format!("medcom.fhir.dk.{name}#{version}")
        })
        .collect();
    for reference in &expected {
        assert!(
            home.join(".fhir/packages")
                .join(reference)
                .join("package/package.json")
                .is_file(),
            "{reference} not in the cache"
        );
    }
    let out = run_in(dir.path(), &home, &["--filter", "cc-new-json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let results = results(dir.path());
    let c = &results["certification"];
    assert_eq!(c["profile_validation"], true, "{stderr}");
    let loaded: BTreeSet<String> = c["ig_packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            format!(
                "{}#{}",
                p["name"].as_str().unwrap_or(""),
                p["version"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(loaded, expected);
    assert!(c["ig_packages"][0]["source"] == "package-cache");
    assert!(stderr.contains("profiles: medcom.fhir.dk."), "{stderr}");
    // The cache's profiles judged a message: the acknowledgement's copy of the CareCommunication
    // Provenance is judged by the CareCommunication package's Provenance profile (its findings
    // name it). Since a message of one release is judged only by that release's IG (the 5.0
    // message the suite sends gets no judgement from the corpus's 4.0.0 package, where it was
    // refused by its MessageHeader profile before), that is the profile that shows.
    let text = std::fs::read_to_string(dir.path().join("results.json")).expect("results");
    assert!(
        text.contains("http://medcomfhir.dk/ig/carecommunication/StructureDefinition/medcom-careCommunication-provenance"),
        "no profile judged the message"
    );
    let html = std::fs::read_to_string(dir.path().join("r.html")).expect("html");
    assert!(html.contains("medcom.fhir.dk.carecommunication#4.0.0"));
    assert!(!html.contains("profile validation did not run"));
}

#[test]
fn a_run_without_any_ig_warns_and_names_the_system_under_test() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = dir.path().join("harness.toml");
    std::fs::write(
        &config,
        "[system]\nvendor = \"Eksempel Software A/S\"\nname = \"EksempelJournal\"\nversion = \"1.0\"\ntest-type = \"self-test\"\n",
    )
    .expect("config");
    let out = run_in(
        dir.path(),
        dir.path(),
        &[
            "--filter",
            "cc-new-json",
            "--config",
            config.to_str().expect("utf-8"),
            "--system-version",
            "2.1",
            "--test-type",
            "final-test",
            "--tester",
            "Jens Jensen",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: profile validation is off"),
        "{stderr}"
    );
    let results = results(dir.path());
    let c = &results["certification"];
    assert_eq!(c["profile_validation"], false);
    assert_eq!(c["ig_packages"].as_array().map(Vec::len), Some(0));
    assert_eq!(c["system"]["vendor"], "Eksempel Software A/S");
    assert_eq!(c["system"]["name"], "EksempelJournal");
    assert_eq!(c["system"]["version"], "2.1", "the flag wins over the file");
    assert_eq!(c["system"]["test_type"], "final-test");
    assert_eq!(c["system"]["tester"], "Jens Jensen");
    assert_eq!(c["config_sha256"].as_str().map(str::len), Some(64));
    assert_eq!(c["rules"]["transient-error"], "AR");
    assert_eq!(c["config_file"], config.to_str().expect("utf-8"));
    let html = std::fs::read_to_string(dir.path().join("r.html")).expect("html");
    assert!(html.contains("profile validation did not run"));
    assert!(html.contains("Eksempel Software A/S") && html.contains("final test (sluttest)"));
    let junit = std::fs::read_to_string(dir.path().join("j.xml")).expect("junit");
    assert!(junit.contains(r#"<property name="profile-validation" value="false"/>"#));
    assert!(junit.contains(r#"<property name="system.version" value="2.1"/>"#));
}

/// The CareCommunication steps the bundled scenario files name, read from the files: a step
/// without a standard before it belongs to the scenario's own standard.
fn carecommunication_steps_in_files(dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).expect("scenarios").flatten() {
        let path = entry.path();
        if path.is_dir() {
            carecommunication_steps_in_files(&path, out);
            continue;
        }
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let doc: toml::Table = std::fs::read_to_string(&path)
            .expect("read")
            .parse()
            .expect("toml");
        let standard = doc["standard"].as_str().unwrap_or_default();
        let Some(steps) = doc.get("protocol-step").and_then(toml::Value::as_str) else {
            continue;
        };
        for item in steps.split(',').map(str::trim) {
            let qualified = item.contains(' ');
            let own = standard.starts_with("CareCommunication");
            if (own && !qualified) || item.starts_with("CareCommunication ") {
                out.insert(item.rsplit(' ').next().unwrap_or(item).to_owned());
            }
        }
    }
}

#[test]
fn the_coverage_table_names_every_carecommunication_step_the_bundled_suite_covers_and_no_other() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut expected = BTreeSet::new();
    carecommunication_steps_in_files(&root.join("scenarios"), &mut expected);
    assert!(expected.len() >= 8, "{expected:?}");
    let dir = tempfile::tempdir().expect("tmp");
    let config = dir.path().join("fast.toml");
    std::fs::write(&config, "default-within = 3\n").expect("config");
    let out = run_in(
        dir.path(),
        dir.path(),
        &[
            "scenarios/carecommunication",
            "--jobs",
            "4",
            "--config",
            config.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let results = results(dir.path());
    let mut covered = BTreeSet::new();
    let mut listed = 0;
    for p in results["coverage"]["protocols"]
        .as_array()
        .expect("protocols")
    {
        if !p["id"]
            .as_str()
            .unwrap_or("")
            .starts_with("carecommunication-")
        {
            continue;
        }
        for step in p["steps"].as_array().expect("steps") {
            listed += 1;
            if step["state"] == "automatic" {
                assert_eq!(step["passed"], true, "{step}");
                covered.insert(step["id"].as_str().unwrap_or("").to_owned());
            } else {
                assert!(step.get("verdict").is_none(), "{step}");
            }
        }
    }
    assert_eq!(covered, expected);
    assert!(
        listed > covered.len(),
        "the protocol lists steps the suite does not cover"
    );
    let html = std::fs::read_to_string(dir.path().join("r.html")).expect("html");
    assert!(html.contains("MedCom test protocol coverage"));
    for step in &expected {
        assert!(
            html.contains(&format!(r#"<td class="id nowrap">{step}</td>"#)),
            "{step}"
        );
    }
}

#[test]
fn init_writes_the_commented_template_and_refuses_to_overwrite_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let first = bin()
        .current_dir(dir.path())
        .arg("init")
        .output()
        .expect("init");
    assert!(first.status.success(), "{first:?}");
    let written = std::fs::read_to_string(dir.path().join("harness.toml")).expect("written");
    assert!(written.contains("[system]") && written.contains("# MedCom implementation guides"));
    std::fs::write(dir.path().join("harness.toml"), "threshold = \"F3\"\n").expect("edit");
    let again = bin()
        .current_dir(dir.path())
        .arg("init")
        .output()
        .expect("init");
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("harness.toml")).expect("kept"),
        "threshold = \"F3\"\n"
    );
    let forced = bin()
        .current_dir(dir.path())
        .args(["init", "--force"])
        .output()
        .expect("init");
    assert!(forced.status.success());
    assert!(
        std::fs::read_to_string(dir.path().join("harness.toml"))
            .expect("replaced")
            .contains("[system]")
    );
}

#[test]
fn an_older_medcom_package_in_the_cache_is_named_with_the_version_the_suite_wants() {
    // The corpus's CareCommunication package is 4.0.0; the bundled CareCommunication scenarios
    // test CareCommunication 5.0 (their `standard`).
    let dir = tempfile::tempdir().expect("tmp");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let tgz = corpus().join("medcomfhir-website/ig-packages/carecommunication-4.0.0.package.tgz");
    let added = bin()
        .env("HOME", &home)
        .args(["ig", "add"])
        .arg(&tgz)
        .output()
        .expect("ig add");
    assert!(added.status.success(), "{added:?}");
    let out = run_in(dir.path(), &home, &["--filter", "cc-new-json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let warning = "medcom.fhir.dk.carecommunication#4.0.0 is older than CareCommunication 5.0";
    assert!(stderr.contains(&format!("warning: {warning}")), "{stderr}");
    let html = std::fs::read_to_string(dir.path().join("r.html")).expect("html");
    assert!(html.contains(warning), "the report does not warn");
    let results = results(dir.path());
    assert_eq!(
        results["certification"]["outdated"][0]["wanted"],
        "CareCommunication 5.0"
    );
}

/// A MedCom script that names the profile release it means (`…|5.0.1`), judged with only an older
/// package in the cache (CareCommunication 4.0.0), does not fail the correct reference vendor:
/// the older release's breaches are graded F4, as the profile validator grades a version it
/// does not have.
#[test]
fn a_testscript_judged_by_an_older_package_grades_its_profile_breaches_f4() {
    let dir = tempfile::tempdir().expect("tmp");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    for p in [
        "carecommunication-4.0.0",
        "core-2.4.0",
        "messaging-2.2.0",
        "terminology-1.7.0",
    ] {
        let tgz = corpus().join(format!("medcomfhir-website/ig-packages/{p}.package.tgz"));
        let added = bin()
            .env("HOME", &home)
            .args(["ig", "add"])
            .arg(&tgz)
            .output()
            .expect("ig add");
        assert!(added.status.success(), "{added:?}");
    }
    let script = corpus().join(
        "medcomfhir-website/ig/carecommunicationtestscripts/5.0.0/TestScript-carecommunication-send-new-message.json",
    );
    let out = bin()
        .current_dir(dir.path())
        .env("HOME", &home)
        .env_remove("MEDCOM_CORPUS")
        .arg("run")
        .arg(&script)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}
