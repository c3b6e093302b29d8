//! Profile validation speed: the whole MedCom corpus, and a generated CareCommunication Bundle of
//! 10,000 entries (target < 0.5 s in a release build).
//!
//! Run: `cargo bench --bench profile` (`MEDCOM_CORPUS` names the corpus, default
//! `../shared/medcom`). Each figure is the best of 3 runs after a warm-up run.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use medcom_harness::validate::profile::{Ig, validate_bundle};
use serde_json::{Value, json};

fn corpus() -> PathBuf {
    let dir = std::env::var_os("MEDCOM_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/medcom")
        });
    assert!(
        dir.join("medcomfhir-website/ig").is_dir(),
        "MedCom corpus not found at {}",
        dir.display()
    );
    dir
}

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

/// Every message Bundle of the corpus, XML converted to JSON.
fn messages(corpus: &Path) -> Vec<Value> {
    let mut all = Vec::new();
    files(corpus, &mut all);
    all.into_iter()
        .filter_map(|p| {
            let bytes = std::fs::read(&p).ok()?;
            let v: Value = if p.extension()? == "xml" {
                medcom_harness::fhir::xml_to_json(&bytes).ok()?
            } else {
                serde_json::from_slice(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes))
                    .ok()?
            };
            (v.get("resourceType")? == "Bundle" && v.get("type")? == "message").then_some(v)
        })
        .collect()
}

/// A CareCommunication whose history grew long: the example `Bundle-0d5b3c18…` with its
/// Provenance, PractitionerRole and Practitioner repeated under new ids up to `n` entries.
fn generated(corpus: &Path, n: usize) -> Value {
    let path = corpus.join(
        "medcomfhir-website/ig/carecommunication/Bundle-0d5b3c18-fab6-4d93-9d88-c9c8abf1f18c.json",
    );
    let mut bundle: Value =
        serde_json::from_slice(&std::fs::read(path).expect("read example")).expect("parse example");
    let entries = bundle["entry"].as_array().cloned().expect("entries");
    let pick = |t: &str| {
        entries
            .iter()
            .find(|e| e["resource"]["resourceType"] == t)
            .cloned()
            .expect(t)
    };
    let (prov, role, pract) = (
        pick("Provenance"),
        pick("PractitionerRole"),
        pick("Practitioner"),
    );
    let base = "https://medcomfhir.dk/ig/carecommunication/";
    let mut out = entries.clone();
    let mut k = 0usize;
    while out.len() < n {
        k += 1;
        let id = |t: &str| format!("{:08x}-0000-4000-8000-{:012x}", k, t.len());
        let mut p = pract.clone();
        let pid = id("Practitioner");
        p["resource"]["id"] = json!(pid);
        p["fullUrl"] = json!(format!("{base}Practitioner/{pid}"));
        let mut r = role.clone();
        let rid = id("PractitionerRole");
        r["resource"]["id"] = json!(rid);
        r["fullUrl"] = json!(format!("{base}PractitionerRole/{rid}"));
        r["resource"]["practitioner"] = json!({"reference": format!("Practitioner/{pid}")});
        let mut v = prov.clone();
        let vid = id("Provenance");
        v["resource"]["id"] = json!(vid);
        v["fullUrl"] = json!(format!("{base}Provenance/{vid}"));
        for e in [v, r, p] {
            if out.len() < n {
                out.push(e);
            }
        }
    }
    bundle["entry"] = Value::Array(out);
    bundle
}

fn best_of_3(f: &mut dyn FnMut() -> usize) -> (Duration, usize) {
    let mut findings = f();
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        findings = f();
        best = best.min(t.elapsed());
    }
    (best, findings)
}

fn main() {
    let corpus = corpus();
    let t = Instant::now();
    let ig = Ig::load(&corpus.join("medcomfhir-website/ig")).expect("load IG");
    println!(
        "load IG (40 StructureDefinitions + FHIRPath engine): {:.3} s",
        t.elapsed().as_secs_f64()
    );
    let messages = messages(&corpus);
    let (d, n) = best_of_3(&mut || messages.iter().map(|m| validate_bundle(&ig, m).len()).sum());
    let entries: usize = messages
        .iter()
        .map(|m| m["entry"].as_array().map_or(0, Vec::len))
        .sum();
    println!(
        "validate the whole corpus: {} message Bundles, {entries} entries, {n} findings: {:.3} s",
        messages.len(),
        d.as_secs_f64()
    );
    let n: usize = std::env::var("BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let big = generated(&corpus, n);
    let (d, n) = best_of_3(&mut || validate_bundle(&ig, &big).len());
    if std::env::var_os("BENCH_SHOW").is_some() {
        let mut kinds = std::collections::BTreeMap::new();
        for f in validate_bundle(&ig, &big) {
            *kinds
                .entry((f.rule.clone(), f.grade.to_string()))
                .or_insert(0) += 1;
        }
        println!("{kinds:?}");
    }
    println!(
        "validate a generated CareCommunication Bundle of {} entries ({n} findings): {:.3} s (target < 0.5 s)",
        big["entry"].as_array().map_or(0, Vec::len),
        d.as_secs_f64()
    );
}
