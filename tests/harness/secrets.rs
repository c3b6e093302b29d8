//! Secrets and CPR numbers stay out of what the harness prints and reports: config errors, a
//! vendor echoing credentials, `diff` output; evidence is private to its owner; a closed stderr
//! does not crash a run.

use crate::support::bin;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// A vendor on 127.0.0.1 that answers every request with 401 and an OperationOutcome whose
/// diagnostics echo the request's `Authorization` header and a query token, as careless servers
/// do. Returns its port.
fn echoing_vendor() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut authorization = String::new();
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if lower.starts_with("authorization:") {
                    authorization = line["authorization:".len()..].trim().to_string();
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0u8; length];
            let _ = reader.read_exact(&mut body);
            let outcome = format!(
                r#"{{"resourceType":"OperationOutcome","issue":[{{"severity":"error","code":"login","diagnostics":"rejected {authorization} key=APIKEYSECRET654 path=/fhir?access_token=QTOKEN111"}}]}}"#
            );
            let _ = stream.write_all(
                format!(
                    "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/fhir+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{outcome}",
                    outcome.len()
                )
                .as_bytes(),
            );
        }
    });
    port
}

/// Every file under `dir`, split into (evidence files, other files).
fn files(dir: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let (mut evidence, mut other) = (Vec::new(), Vec::new());
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("list").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.components().any(|c| c.as_os_str() == "evidence") {
                evidence.push(path);
            } else {
                other.push(path);
            }
        }
    }
    (evidence, other)
}

fn text_of(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned())
        .collect()
}

fn scenario(dir: &Path, title: &str) {
    crate::support::write_scenario(
        dir,
        &format!(
            "id = \"t\"\ntitle = \"{title}\"\nstandard = \"CareCommunication 5.0\"\n[[step]]\nsend = {{ message = \"carecommunication/new\", as = \"first\" }}\n"
        ),
    );
}

#[test]
fn secrets_the_vendor_echoes_are_in_the_evidence_but_in_no_report_nor_on_the_console() {
    let dir = tempfile::tempdir().expect("tmp");
    scenario(dir.path(), "CPR 311299-4321 in title");
    std::fs::write(
        dir.path().join("h.toml"),
        "request-timeout = 5\n[http]\nbearer-token = \"BEARERSECRET987\"\nheaders = { \"X-Api-Key\" = \"APIKEYSECRET654\" }\n",
    )
    .expect("config");
    let port = echoing_vendor();
    let out = bin()
        .current_dir(dir.path())
        .args(["run", "--config", "h.toml", "--target"])
        .arg(format!(
            "http://127.0.0.1:{port}/fhir?access_token=QTOKEN111"
        ))
        .output()
        .expect("run");
    let console = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let (evidence, reports) = files(&dir.path().join("reports"));
    assert!(!reports.is_empty(), "{console}");
    let evidence_text = text_of(&evidence);
    assert!(
        evidence_text.contains("Bearer BEARERSECRET987"),
        "evidence keeps the bytes: {evidence_text}"
    );
    let written = format!("{console}{}", text_of(&reports));
    for secret in [
        "BEARERSECRET987",
        "APIKEYSECRET654",
        "QTOKEN111",
        "311299-4321",
    ] {
        assert!(!written.contains(secret), "{secret} was written: {written}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        for file in &evidence {
            assert_eq!(mode(file), 0o600, "{}", file.display());
            let mut d = file.parent().expect("parent");
            while d.file_name().is_some_and(|n| n != "reports") {
                assert_eq!(mode(d), 0o700, "{}", d.display());
                d = d.parent().expect("parent");
            }
        }
    }
}

#[test]
fn config_errors_name_line_and_column_but_never_quote_the_value() {
    for config in [
        "[http]\nbearer-tokn = \"TYPOSECRET123\"\n",
        "[http]\nbearer-token = \"TYPOSECRET123\n",
        "[http]\nbearer-token = \"TYPOSECRET123\"\nbearer-token = \"TYPOSECRET123\"\n",
    ] {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join("h.toml"), config).expect("config");
        let out = bin()
            .current_dir(dir.path())
            .args([
                "run",
                "--config",
                "h.toml",
                "--target",
                "http://127.0.0.1:9/fhir",
            ])
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let (_, reports) = files(&dir.path().join("reports"));
        let written = format!(
            "{}{stderr}{}",
            String::from_utf8_lossy(&out.stdout),
            text_of(&reports)
        );
        assert!(!written.contains("TYPOSECRET123"), "{config}: {written}");
        assert!(stderr.contains("line "), "{config}: {stderr}");
    }
}

#[test]
fn diff_masks_cpr_numbers_unless_show_cpr() {
    let dir = tempfile::tempdir().expect("tmp");
    let patient = |cpr: &str| {
        format!(
            r#"{{"resourceType":"Patient","identifier":[{{"system":"urn:oid:1.2.208.176.1.2","value":"{cpr}"}}]}}"#
        )
    };
    std::fs::write(dir.path().join("p1.json"), patient("0101701234")).expect("p1");
    std::fs::write(dir.path().join("p2.json"), patient("0202705678")).expect("p2");
    let diff = |extra: &[&str]| {
        let out = bin()
            .current_dir(dir.path())
            .args(["diff", "p1.json", "p2.json"])
            .args(extra)
            .output()
            .expect("diff");
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    let masked = diff(&[]);
    assert!(masked.contains("010170-****"), "{masked}");
    for serial in ["1234", "5678"] {
        assert!(!masked.contains(serial), "{masked}");
    }
    let clear = diff(&["--show-cpr"]);
    assert!(clear.contains("0202705678"), "{clear}");
}

#[test]
fn a_closed_stderr_does_not_crash_the_harness() {
    let dir = tempfile::tempdir().expect("tmp");
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let status = bin()
        .current_dir(dir.path())
        .args([
            "run",
            "--config",
            "missing.toml",
            "--target",
            "http://127.0.0.1:9/fhir",
        ])
        .stderr(writer)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run");
    assert_ne!(status.code(), Some(101), "panicked: {status}");
    assert!(status.code().is_some(), "{status}");
}
