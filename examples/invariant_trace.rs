//! Prints, as JSON on stdout, every invariant of the loaded MedCom profiles evaluated by
//! octofhir-fhirpath at every node it applies to, over every message Bundle of the corpus (JSON
//! files, and XML files converted with `fhir::xml_to_json`), for
//! `tools/fhirpath-crosscheck/crosscheck.js` to compare with HL7's fhirpath.js.
//!
//! Usage: `cargo run --release --example invariant_trace > trace.json`
//! (`MEDCOM_CORPUS` names the corpus, default `../shared/medcom`).

use std::path::{Path, PathBuf};

use medcom_harness::validate::profile::{Ig, trace_invariants};
use serde_json::{Value, json};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut items: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    items.sort();
    for p in items {
        if p.is_dir() {
            files(&p, out);
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("json" | "xml")) {
            out.push(p);
        }
    }
}

fn main() {
    let corpus = std::env::var_os("MEDCOM_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/medcom")
        });
    let ig_dir = corpus.join("medcomfhir-website/ig");
    assert!(
        ig_dir.is_dir(),
        "MedCom corpus not found at {} (set MEDCOM_CORPUS)",
        corpus.display()
    );
    let ig = Ig::load(&ig_dir).expect("load the IG");
    let mut all = Vec::new();
    files(&corpus, &mut all);
    let mut out = Vec::new();
    for path in all {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let bundle: Value = if path.extension().and_then(|e| e.to_str()) == Some("xml") {
            if !String::from_utf8_lossy(&bytes[..bytes.len().min(400)]).contains("<Bundle") {
                continue;
            }
            match medcom_harness::fhir::xml_to_json(&bytes) {
                Ok(v) => v,
                Err(_) => continue,
            }
        } else {
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
            match serde_json::from_slice(bytes) {
                Ok(v) => v,
                Err(_) => continue,
            }
        };
        if bundle.get("resourceType").and_then(Value::as_str) != Some("Bundle")
            || bundle.get("type").and_then(Value::as_str) != Some("message")
        {
            continue;
        }
        let traces = trace_invariants(&ig, &bundle);
        let rel = path
            .strip_prefix(&corpus)
            .unwrap_or(&path)
            .display()
            .to_string();
        out.push(json!({"file": rel, "bundle": bundle, "traces": traces}));
    }
    println!("{}", serde_json::to_string(&out).expect("serialize"));
}
