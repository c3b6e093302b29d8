//! The harness as the HTTP client of a careless or hostile vendor: redirects are not followed,
//! credentials are sent as configured and appear in nothing the harness writes.

use crate::support::bin;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};

/// A vendor on 127.0.0.1 that answers every request with a redirect to another host, carrying a
/// token in its query. Returns its port and the request heads it saw.
fn redirecting_vendor() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut head = String::new();
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0u8; length];
            let _ = reader.read_exact(&mut body);
            log.lock().expect("lock").push(head);
            let _ = stream.write_all(
                b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/steal?token=L0cT0k\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (port, seen)
}

/// Every file under `dir`, as text.
fn all_text(dir: &std::path::Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(dir).expect("list").flatten() {
        let path = entry.path();
        if path.is_dir() {
            text.push_str(&all_text(&path));
        } else {
            text.push_str(&String::from_utf8_lossy(
                &std::fs::read(&path).unwrap_or_default(),
            ));
        }
    }
    text
}

#[test]
fn a_redirect_is_a_finding_and_credentials_reach_no_output() {
    let dir = tempfile::tempdir().expect("tmp");
    crate::support::write_scenario(
        dir.path(),
        &format!(
            "{}[[step]]\nsend = {{ message = \"carecommunication/new\", as = \"first\" }}\n",
            crate::support::SCENARIO_HEAD
        ),
    );
    std::fs::write(
        dir.path().join("h.toml"),
        "request-timeout = 5\n[http]\nheaders-env = { \"X-Api-Key\" = \"H9_TEST_API_KEY\" }\n",
    )
    .expect("config");
    let (port, seen) = redirecting_vendor();
    let out = bin()
        .current_dir(dir.path())
        .env("H9_TEST_API_KEY", "env-k3y-4711")
        .args(["run", "--config", "h.toml", "--target"])
        .arg(format!(
            "http://u:S3cr3tPw@127.0.0.1:{port}/fhir?access_token=Qu3ryT0k"
        ))
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("did not follow"), "{stdout}");
    assert!(
        stdout.contains("http://127.0.0.1:9/steal?token=***"),
        "{stdout}"
    );
    let requests = seen.lock().expect("lock").join("\n");
    let posts = requests
        .matches("POST /fhir?access_token=Qu3ryT0k ")
        .count();
    assert_eq!(
        posts, 1,
        "sent once, to the configured endpoint: {requests}"
    );
    // base64("u:S3cr3tPw"), by base64(1).
    assert!(
        requests.contains("authorization: Basic dTpTM2NyM3RQdw==\r\n"),
        "{requests}"
    );
    assert!(
        requests.contains("x-api-key: env-k3y-4711\r\n"),
        "{requests}"
    );
    let written = format!("{stdout}{stderr}{}", all_text(&dir.path().join("reports")));
    for secret in ["S3cr3tPw", "Qu3ryT0k", "env-k3y-4711", "L0cT0k"] {
        assert!(!written.contains(secret), "{secret} was written");
    }
}

#[test]
fn a_credential_variable_that_is_not_set_stops_the_run_naming_it() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(
        dir.path().join("h.toml"),
        "[http]\nbearer-token-env = \"H9_TEST_UNSET_TOKEN\"\n",
    )
    .expect("config");
    let out = bin()
        .current_dir(dir.path())
        .env_remove("H9_TEST_UNSET_TOKEN")
        .args([
            "run",
            "--config",
            "h.toml",
            "--target",
            "http://127.0.0.1:9/fhir",
        ])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("H9_TEST_UNSET_TOKEN"), "{stderr}");
}
