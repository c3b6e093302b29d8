//! The registry, `stats` and `capabilities` as users run them: the corpus's EER organisations,
//! our own EER Endpoint fixture, and the bundled suite's results. Expected counts are computed
//! here independently, straight from the corpus file and the evidence files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::support::{bin, corpus, run_with_reports};

fn eer_organisations() -> PathBuf {
    corpus().join("seed-rows/ehmi-eer/eer_fhir_org.json")
}

fn endpoint_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/registry/eer-endpoints.json")
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("readable")).expect("JSON")
}

#[test]
fn capabilities_counts_units_with_and_without_an_endpoint_per_unit_type() {
    let out = tempfile::tempdir().expect("temp dir");
    let status = bin()
        .arg("capabilities")
        .arg("--registry")
        .arg(eer_organisations())
        .arg("--output")
        .arg(out.path())
        .status()
        .expect("capabilities runs");
    assert!(status.success());
    // Independently: every Organization's EER unit type (its level IE/SI/OE when it has none)
    // and whether it references an endpoint.
    let file = read_json(&eer_organisations());
    let mut expected: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let entries = file["entry"].as_array().expect("entries");
    assert_eq!(entries.len(), 1999);
    for e in entries {
        let r = &e["resource"];
        let codes: Vec<(&str, &str)> = r["type"]
            .as_array()
            .expect("type")
            .iter()
            .flat_map(|t| t["coding"].as_array().expect("coding"))
            .map(|c| {
                (
                    c["system"].as_str().unwrap_or(""),
                    c["code"].as_str().unwrap_or(""),
                )
            })
            .collect();
        let unit_type = codes
            .iter()
            .find(|(s, _)| s.ends_with("eer-sor-unit-type"))
            .or_else(|| {
                codes
                    .iter()
                    .find(|(s, _)| s.ends_with("eer-sor-organization-type"))
            })
            .map(|(_, c)| c.to_string())
            .expect("a type");
        let slot = expected.entry(unit_type).or_default();
        if r.get("endpoint").is_some() {
            slot.0 += 1;
        } else {
            slot.1 += 1;
        }
    }
    let found = read_json(&out.path().join("capabilities.json"));
    let got: BTreeMap<String, (u64, u64)> = found["unit_types"]
        .as_object()
        .expect("unit_types")
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                (
                    v["with_endpoint"].as_u64().expect("n"),
                    v["without_endpoint"].as_u64().expect("n"),
                ),
            )
        })
        .collect();
    assert_eq!(got, expected);
    // The seed's examples: no plejehjem and one bosted in the extract reference an endpoint.
    assert_eq!(got["plejehjem"], (0, 334));
    assert_eq!(got["bosted"], (1, 318));
    assert_eq!(found["units"].as_array().expect("units").len(), 1999);
    let csv = std::fs::read_to_string(out.path().join("capabilities.csv")).expect("csv");
    assert_eq!(csv.lines().count(), 2000, "a header and one line per unit");
    // Filtered to one municipality (the `kommune` owner Københavns Kommune's CVR).
    let kk = tempfile::tempdir().expect("temp dir");
    let status = bin()
        .args([
            "capabilities",
            "--municipality",
            "Københavns Kommune",
            "--registry",
        ])
        .arg(eer_organisations())
        .arg("--output")
        .arg(kk.path())
        .status()
        .expect("capabilities runs");
    assert!(status.success());
    let cvr_kk = entries
        .iter()
        .filter(|e| {
            e["resource"]["identifier"]
                .as_array()
                .is_some_and(|ids| ids.iter().any(|i| i["value"] == "64942212"))
        })
        .count();
    let units = read_json(&kk.path().join("capabilities.json"))["units"]
        .as_array()
        .expect("units")
        .len();
    assert_eq!(units, cvr_kk);
}

#[test]
fn capabilities_lists_what_each_unit_accepts_from_an_endpoint_bundle() {
    let out = tempfile::tempdir().expect("temp dir");
    let status = bin()
        .arg("capabilities")
        .arg("--registry")
        .arg(eer_organisations())
        .arg("--registry")
        .arg(endpoint_fixture())
        .arg("--output")
        .arg(out.path())
        .status()
        .expect("capabilities runs");
    assert!(status.success());
    let found = read_json(&out.path().join("capabilities.json"));
    let accepts = |sor: &str| -> Vec<String> {
        let u = found["units"]
            .as_array()
            .expect("units")
            .iter()
            .find(|u| u["sor_id"] == sor)
            .expect("the unit is listed");
        assert_eq!(u["has_endpoint"], true);
        u["accepts"]
            .as_array()
            .expect("accepts")
            .iter()
            .map(|a| a.as_str().expect("text").to_string())
            .collect()
    };
    // The fixture's payloadType codes (tests/fixtures/registry/README.md).
    assert_eq!(
        accepts("1254731000016003"),
        [
            "acknowledgement-message 2.0",
            "carecommunication-message 5.0",
            "hospitalnotification-message 3.0"
        ]
    );
    assert_eq!(
        accepts("193221000016001"),
        [
            "acknowledgement-message 2.0",
            "carecommunication-message 5.0",
            "xbin01 xb0131x",
            "xdis91 xd9134l"
        ]
    );
    assert_eq!(
        accepts("1119001000016000"),
        [
            "acknowledgement-message 2.0",
            "hospitalnotification-message 3.0"
        ]
    );
    let gln = found["units"]
        .as_array()
        .expect("units")
        .iter()
        .find(|u| u["sor_id"] == "1119001000016000")
        .map(|u| u["gln"].clone());
    assert_eq!(gln, Some(Value::from("5790000160037")));
}

/// MedCom's FDIS20 statistical code for a HospitalNotification activity, by the displays the
/// statistical code system and `medcom-messaging-activityCodes` share ("Start hospital stay -
/// admitted" AdmissionInpatient, "- acute ambulant" AcuteAmbulant, "Start leave" OnLeave, "End
/// leave" EndOfLeave, "End hospital stay" EndHospitalStay); a revision or cancellation counts as
/// the event it changes.
fn fdis20(activity: &str) -> &str {
    let event = activity
        .trim_start_matches("revise-")
        .trim_start_matches("cancel-");
    match event {
        "admit-inpatient" => "AdmissionInpatient",
        "admit-emergency" => "AcuteAmbulant",
        "start-leave-inpatient" => "OnLeave",
        "end-leave-inpatient" => "EndOfLeave",
        "discharge-inpatient-home" | "discharge-emergency-home" => "EndHospitalStay",
        other => other,
    }
}

/// The statistical code of one evidence file, read here without the harness: a FHIR message's
/// MCM:FDIS91#category / MCM:FCTL#code, an OIOXML letter's StatisticalCode; `None` for envelopes.
fn code_of(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).expect("evidence");
    if path.extension().and_then(|e| e.to_str()) == Some("json") {
        let b: Value = serde_json::from_slice(&bytes).ok()?;
        let entries = b["entry"].as_array()?;
        let of = |t: &str| {
            entries
                .iter()
                .map(|e| &e["resource"])
                .find(|r| r["resourceType"] == t)
        };
        let header = of("MessageHeader")?;
        return match header["eventCoding"]["code"].as_str()? {
            "care-communication-message" => Some(format!(
                "MCM:FDIS91#{}",
                of("Communication")?["category"][0]["coding"][0]["code"].as_str()?
            )),
            "acknowledgement-message" => {
                Some(format!("MCM:FCTL#{}", header["response"]["code"].as_str()?))
            }
            "hospital-notification-message" => {
                // The message's own Provenance: the one whose target is its MessageHeader.
                let id = header["id"].as_str()?;
                let activity = entries
                    .iter()
                    .map(|e| &e["resource"])
                    .filter(|r| r["resourceType"] == "Provenance")
                    .find(|r| {
                        r["target"][0]["reference"]
                            .as_str()
                            .is_some_and(|t| t.ends_with(&format!("MessageHeader/{id}")))
                    })?["activity"]["coding"][0]["code"]
                    .as_str()?;
                Some(format!("MCM:FDIS20#{}", fdis20(activity)))
            }
            other => Some(other.to_string()),
        };
    }
    let (text, _, _) = encoding_rs::WINDOWS_1252.decode(&bytes);
    let doc = roxmltree::Document::parse(&text).ok()?;
    let root = doc.root_element();
    let value_of = |n: roxmltree::Node| {
        n.children()
            .find(|c| c.tag_name().name() == "code")
            .and_then(|c| c.attribute("value"))
            .map(str::to_string)
    };
    match root.tag_name().name() {
        "Emessage" => doc
            .descendants()
            .find(|n| n.tag_name().name() == "StatisticalCode")
            .and_then(|n| n.text())
            .map(str::to_string),
        "Bundle" => {
            let event = doc
                .descendants()
                .find(|n| n.tag_name().name() == "eventCoding")
                .and_then(value_of)?;
            match event.as_str() {
                "care-communication-message" => {
                    let category = doc
                        .descendants()
                        .find(|n| n.tag_name().name() == "category")?
                        .children()
                        .find(|c| c.tag_name().name() == "coding")
                        .and_then(value_of)?;
                    Some(format!("MCM:FDIS91#{category}"))
                }
                "acknowledgement-message" => {
                    let response = doc
                        .descendants()
                        .find(|n| n.tag_name().name() == "response")?;
                    Some(format!("MCM:FCTL#{}", value_of(response)?))
                }
                "hospital-notification-message" => {
                    let attr = |n: roxmltree::Node, name: &str| {
                        n.children()
                            .find(|c| c.tag_name().name() == name)
                            .and_then(|c| c.attribute("value"))
                            .map(str::to_string)
                    };
                    let header = doc
                        .descendants()
                        .find(|n| n.tag_name().name() == "MessageHeader")?;
                    let id = attr(header, "id")?;
                    let own = doc
                        .descendants()
                        .filter(|n| n.tag_name().name() == "Provenance")
                        .find(|p| {
                            p.descendants().any(|r| {
                                r.tag_name().name() == "reference"
                                    && r.parent().is_some_and(|t| t.tag_name().name() == "target")
                                    && r.attribute("value").is_some_and(|v| {
                                        v.ends_with(&format!("MessageHeader/{id}"))
                                    })
                            })
                        })?;
                    let code = own
                        .children()
                        .find(|c| c.tag_name().name() == "activity")?
                        .children()
                        .find(|c| c.tag_name().name() == "coding")
                        .and_then(value_of)?;
                    Some(format!("MCM:FDIS20#{}", fdis20(&code)))
                }
                other => Some(other.to_string()),
            }
        }
        _ => None,
    }
}

#[test]
fn stats_and_capabilities_over_the_bundled_suite_count_what_the_run_exchanged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = run_with_reports(dir.path(), &["run".as_ref()]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results = dir.path().join("results.json");
    let out = dir.path().join("stats");
    let status = bin()
        .arg("stats")
        .arg(&results)
        .arg("--output")
        .arg(&out)
        .status()
        .expect("stats runs");
    assert!(status.success());
    // Independently: each evidence file's code, with the direction results.json gives it.
    let run = read_json(&results);
    let mut expected: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut mime_types = BTreeSet::new();
    for s in run["scenarios"].as_array().expect("scenarios") {
        for e in s["evidence"].as_array().expect("evidence") {
            let file = dir.path().join(e["file"].as_str().expect("file"));
            if let Some(code) = code_of(&file) {
                let slot = expected.entry(code.clone()).or_default();
                if e["direction"] == "sent" {
                    slot.0 += 1;
                } else {
                    slot.1 += 1;
                }
                if code.starts_with("MCM:FDIS91") && file.extension().is_some_and(|x| x == "json") {
                    let b = read_json(&file);
                    for entry in b["entry"].as_array().expect("entries") {
                        for p in entry["resource"]["payload"]
                            .as_array()
                            .into_iter()
                            .flatten()
                        {
                            if let Some(t) = p["contentAttachment"]["contentType"].as_str() {
                                mime_types.insert(format!("attachment {t}"));
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(
        expected.len() > 5,
        "the suite exchanges many kinds: {expected:?}"
    );
    let stats = read_json(&out.join("stats.json"));
    let got: BTreeMap<String, (u64, u64)> = stats["by_code"]
        .as_object()
        .expect("by_code")
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                (
                    v["sent"].as_u64().expect("n"),
                    v["received"].as_u64().expect("n"),
                ),
            )
        })
        .collect();
    assert_eq!(got, expected);
    let total: u64 = expected.values().map(|(s, r)| s + r).sum();
    assert_eq!(stats["messages"]["total"].as_u64(), Some(total));
    // Every acknowledgement the run received answers a message it sent: each has a latency.
    let acks: u64 = expected
        .iter()
        .filter(|(k, _)| k.starts_with("MCM:FCTL"))
        .map(|(_, (_, r))| r)
        .sum();
    let paired: u64 = stats["latency"]
        .as_array()
        .expect("latency")
        .iter()
        .filter(|l| l["answer"] == "acknowledgement")
        .map(|l| l["count"].as_u64().expect("n"))
        .sum();
    assert!(
        paired >= acks,
        "{paired} paired, {acks} acknowledgements received"
    );
    let html = std::fs::read_to_string(out.join("stats.html")).expect("html");
    // Self-contained: charts inline, nothing loaded from elsewhere.
    assert!(html.contains("<svg"));
    assert!(!html.contains("<script") && !html.contains(" src=") && !html.contains("<link"));
    assert!(
        std::fs::read_to_string(out.join("stats.csv"))
            .expect("csv")
            .starts_with("table,key,detail,")
    );

    let caps = dir.path().join("caps");
    let status = bin()
        .arg("capabilities")
        .arg(&results)
        .arg("--output")
        .arg(&caps)
        .status()
        .expect("capabilities runs");
    assert!(status.success());
    let found = read_json(&caps.join("capabilities.json"));
    let matrix = found["matrix"].as_array().expect("matrix");
    let features: BTreeSet<String> = matrix
        .iter()
        .filter_map(|c| c["feature"].as_str())
        .filter(|f| f.starts_with("attachment ") && f.contains('/'))
        .map(str::to_string)
        .collect();
    assert_eq!(features, mime_types);
    let proved: BTreeSet<&str> = matrix
        .iter()
        .flat_map(|c| c["scenarios"].as_array().expect("scenarios"))
        .filter_map(|s| s.as_str()?.split(' ').next())
        .collect();
    let scenarios: BTreeSet<&str> = run["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(proved, scenarios, "every scenario proves a cell");
    let approved = found["approved"].as_array().expect("approved");
    assert!(
        approved
            .iter()
            .any(|a| a["standard"] == "CareCommunication" && a["standard_id"] == "FDIS91 (5.0)")
    );
    let csv = std::fs::read_to_string(caps.join("capabilities-approved.csv")).expect("csv");
    assert!(csv.starts_with(
        "System,Leverandør,Systemtype,Standard,Standard ID (Version),Kanal,Teststatus"
    ));

    // validate with the registry: the suite's test parties are in no register.
    let letter = dir.path().join("evidence/cc-new-json.e1.json");
    let judged = bin()
        .arg("validate")
        .arg("--format")
        .arg("json")
        .arg("--registry")
        .arg(eer_organisations())
        .arg(&letter)
        .output()
        .expect("validate runs");
    let text = String::from_utf8_lossy(&judged.stdout);
    assert!(
        text.contains("registry-gln") && text.contains("`5790000000012` is not a location number"),
        "{text}"
    );
    assert!(
        text.contains("`999991000016001` is not a unit in the registry"),
        "{text}"
    );
    let plain = bin()
        .args(["validate", "--format", "json"])
        .arg(&letter)
        .output()
        .expect("validate runs");
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("registry-"));
}

#[test]
fn run_with_the_corpus_registry_passes_and_names_the_runs_own_identities_it_lacks() {
    // The bundled suite's parties are the config's test identities ([harness] and [vendor]) and
    // the embedded reference vendor's forward recipient, which no real register has. The run checks every party against the registry and says,
    // for those two, which config key they are and what to add, without failing the run.
    let dir = tempfile::tempdir().expect("temp dir");
    let seed = corpus().join("seed-rows");
    let output = run_with_reports(
        dir.path(),
        &["run".as_ref(), "--registry".as_ref(), seed.as_os_str()],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    for who in [
        "config `[harness]`",
        "config `[vendor]`",
        "reference vendor's built-in forward recipient",
    ] {
        assert!(stderr.contains(who), "{who}: {stderr}");
    }
    assert!(stderr.contains("eer_fhir_org.json"), "{stderr}");
    let run = read_json(&dir.path().join("results.json"));
    let mut own = BTreeMap::<String, u64>::new();
    let mut worse = Vec::new();
    for s in run["scenarios"].as_array().expect("scenarios") {
        for step in s["steps"].as_array().into_iter().flatten() {
            for f in step["findings"].as_array().into_iter().flatten() {
                let rule = f["rule"].as_str().unwrap_or("");
                if !rule.starts_with("registry-") {
                    continue;
                }
                let message = f["message"].as_str().unwrap_or("");
                if f["grade"] == "F4" {
                    let key = [
                        "[harness] ean",
                        "[harness] sor-id",
                        "[vendor] ean",
                        "[vendor] sor-id",
                    ]
                    .into_iter()
                    .find(|k| message.contains(&format!("config `{k}`")))
                    .or_else(|| {
                        message
                            .contains("built-in forward recipient")
                            .then_some("forward recipient")
                    })
                    .unwrap_or("?");
                    assert!(message.contains("add an EER"), "{message}");
                    *own.entry(key.to_string()).or_default() += 1;
                } else if f["grade"] != "OK" {
                    worse.push(message.to_string());
                }
            }
        }
    }
    assert!(worse.is_empty(), "{worse:?}");
    assert!(!own.contains_key("?"), "{own:?}");
    assert_eq!(own.len(), 5, "each own identifier is named: {own:?}");
}

#[test]
fn a_registry_folder_without_parties_stops_the_run_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let empty = dir.path().join("registry/sub");
    std::fs::create_dir_all(&empty).expect("folders");
    std::fs::write(empty.join("readme.md"), "nothing").expect("written");
    let output = bin()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "--list", "--registry"])
        .arg(dir.path().join("registry"))
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("holds no party"), "{stderr}");
    assert!(stderr.contains("registry"), "{stderr}");
    assert!(stderr.contains("SorTree"), "{stderr}");
}

#[test]
fn capabilities_counts_general_practices_by_the_eer_level_and_own_cvr() {
    let out = tempfile::tempdir().expect("temp dir");
    let status = bin()
        .arg("capabilities")
        .arg("--registry")
        .arg(eer_organisations())
        .arg("--output")
        .arg(out.path())
        .status()
        .expect("capabilities runs");
    assert!(status.success());
    // Independently from the file: the municipalities' CVRs are their `kommune` owners'; a
    // health institution (SI) without an EER unit type and with another CVR is a practice.
    let file = read_json(&eer_organisations());
    let orgs: Vec<&Value> = file["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| &e["resource"])
        .collect();
    let has_code = |r: &Value, system: &str, code: Option<&str>| {
        r["type"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|t| t["coding"].as_array().into_iter().flatten())
            .any(|c| {
                c["system"].as_str().is_some_and(|s| s.ends_with(system))
                    && code.is_none_or(|code| c["code"] == code)
            })
    };
    let cvr = |r: &Value| {
        r["identifier"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|i| i["system"] == "http://cvr.dk")
            .and_then(|i| i["value"].as_str().map(str::to_string))
    };
    let kommune: BTreeSet<String> = orgs
        .iter()
        .filter(|r| has_code(r, "eer-sor-unit-type", Some("kommune")))
        .filter_map(|r| cvr(r))
        .collect();
    let mut expected: BTreeMap<&str, u64> = BTreeMap::new();
    for r in &orgs {
        let sector = match cvr(r) {
            Some(c) if kommune.contains(&c) => "municipality",
            Some(_)
                if has_code(r, "eer-sor-organization-type", Some("SI"))
                    && !has_code(r, "eer-sor-unit-type", None) =>
            {
                "general practice"
            }
            _ => "unknown",
        };
        *expected.entry(sector).or_default() += 1;
    }
    let found = read_json(&out.path().join("capabilities.json"));
    let got: BTreeMap<&str, u64> = found["sectors"]
        .as_object()
        .expect("sectors")
        .iter()
        .map(|(k, v)| {
            (
                k.as_str(),
                v["with_endpoint"].as_u64().expect("n")
                    + v["without_endpoint"].as_u64().expect("n"),
            )
        })
        .collect();
    assert_eq!(got, expected);
    let csv = std::fs::read_to_string(out.path().join("capabilities.csv")).expect("csv");
    assert!(
        csv.lines()
            .next()
            .is_some_and(|h| h.ends_with(",sector_source"))
    );
    assert!(csv.contains("inferred: EER health institution (SI) without a unit type"));
}

#[test]
fn validate_checks_an_ehmi_sbdh_envelopes_parties_against_the_registry() {
    // Our own ehmiSBDH (MedCom's layout, ehmiSBDH IG): sender GLN unknown to every register;
    // the receiver is the home-care unit of our Endpoint fixture, whose endpoint declares
    // HospitalNotification 3.0 and Acknowledgement 2.0 but not CareCommunication 5.0.
    use medcom_harness::envelope::{
        DocumentIdentification, RECEIVERID, SENDERID, SbdhEnvelope, Scope, wrap_sbdh,
    };
    let envelope = SbdhEnvelope::new(
        "5790000000036",
        "5790000160037",
        DocumentIdentification {
            standard: "carecommunication-message".into(),
            type_version: "5.0".into(),
            instance_identifier: "9a6ff822-08de-4a6f-9670-9fa4b9d2f0dc".into(),
            document_type: "Bundle".into(),
            multiple_type: Some(false),
            creation_date_and_time: "2026-05-05T10:00:00+02:00".into(),
        },
        vec![
            Scope::new(SENDERID, "8341000016002"),
            Scope::new(RECEIVERID, "1119001000016000"),
        ],
        "application/fhir+xml",
        b"<Bundle xmlns=\"http://hl7.org/fhir\"/>".to_vec(),
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("sbdh.xml");
    std::fs::write(&file, wrap_sbdh(&envelope)).expect("written");
    let judged = bin()
        .args(["validate", "--format", "json", "--registry"])
        .arg(eer_organisations())
        .arg("--registry")
        .arg(endpoint_fixture())
        .arg("--registry")
        .arg(corpus().join("seed-rows/sor-xml-v1/samples"))
        .arg(&file)
        .output()
        .expect("validate runs");
    let found = read_json_bytes(&judged.stdout);
    let findings: Vec<(&str, &str, &str)> = found["files"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            f["rule"]
                .as_str()
                .is_some_and(|r| r.starts_with("registry-"))
        })
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or(""),
                f["grade"].as_str().unwrap_or(""),
                f["location"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(
        findings.contains(&(
            "registry-gln",
            "F2",
            "StandardBusinessDocumentHeader/Sender"
        )),
        "{findings:?}"
    );
    assert!(
        findings.contains(&(
            "registry-sor-id",
            "F3",
            "StandardBusinessDocumentHeader/Sender"
        )),
        "{findings:?}"
    );
    assert!(
        findings.contains(&(
            "registry-accepts",
            "F2",
            "StandardBusinessDocumentHeader/Receiver"
        )),
        "{findings:?}"
    );
}

fn read_json_bytes(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("JSON")
}

/// The scenarios of the bundled suite that send a deliberately broken letter: their files ask
/// for `syntax-error = true` (read from the scenario files, not from our results).
fn syntax_error_scenarios() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/oioxml");
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("scenario folder") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("scenario");
        if text.contains("syntax-error = true") {
            let id = text
                .lines()
                .find_map(|l| l.strip_prefix("id = "))
                .expect("id")
                .trim_matches('"')
                .to_string();
            out.insert(id);
        }
    }
    out
}

/// `XDIS20 XD2030C (NotificationOfAdmission) / XCTL03` -> `XDIS20`, `Some("XD2030C")`.
fn standard_parts(standard: &str) -> (String, Option<String>) {
    let main = standard.split(['/', ';']).next().expect("main");
    let mut words = main.split_whitespace();
    let name = words.next().expect("name").to_string();
    let version = words
        .next()
        .filter(|w| !w.starts_with('('))
        .map(str::to_string);
    (name, version)
}

#[test]
fn capabilities_names_the_recorded_system_lists_each_scenario_once_and_ignores_broken_letters() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = run_with_reports(dir.path(), &["run".as_ref()]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let first = dir.path().join("results.json");
    let run = read_json(&first);
    let target = run["target"].as_str().expect("target").to_string();
    // The same run as a second system, recorded the way `[system]` is: certification.system.
    let mut second = run.clone();
    second["certification"]["system"] =
        serde_json::json!({ "vendor": "Test A/S", "name": "TestJournal", "version": "1.2.3" });
    let second_path = dir.path().join("second.json");
    std::fs::write(&second_path, second.to_string()).expect("write");
    // And again, the same system, with one scenario graded worse: its cells list it once, worst.
    let mut third = second.clone();
    let worse = "cc-new-json";
    for s in third["scenarios"].as_array_mut().expect("scenarios") {
        if s["id"] == worse {
            s["verdict"] = "F2".into();
            s["status"] = "failed".into();
        }
    }
    let third_path = dir.path().join("third.json");
    std::fs::write(&third_path, third.to_string()).expect("write");
    // A fourth system that ran XDIS20 and XLA201 only with the broken letters.
    let broken = syntax_error_scenarios();
    assert_eq!(
        broken,
        BTreeSet::from([
            "xdis20-syntax-error".into(),
            "xla201-syntax-error".into(),
            "xdis91-syntax-error".into()
        ])
    );
    let mut fourth = run.clone();
    fourth["certification"]["system"] = serde_json::json!({ "name": "OnlyBroken" });
    fourth["scenarios"]
        .as_array_mut()
        .expect("scenarios")
        .retain(|s| {
            let id = s["id"].as_str().expect("id");
            broken.contains(id) || !(id.starts_with("xdis20") || id.starts_with("xla201"))
        });
    let fourth_path = dir.path().join("fourth.json");
    std::fs::write(&fourth_path, fourth.to_string()).expect("write");

    let caps = dir.path().join("caps");
    let status = bin()
        .arg("capabilities")
        .args([&first, &second_path, &third_path, &fourth_path])
        .arg("--output")
        .arg(&caps)
        .status()
        .expect("capabilities runs");
    assert!(status.success());
    let found = read_json(&caps.join("capabilities.json"));

    // 1. The recorded system names its rows; the run without one falls back to its target.
    let approved = found["approved"].as_array().expect("approved");
    let systems: BTreeSet<(&str, &str)> = approved
        .iter()
        .map(|a| {
            (
                a["system"].as_str().expect("system"),
                a["leverandor"].as_str().expect("vendor"),
            )
        })
        .collect();
    assert_eq!(
        systems,
        BTreeSet::from([
            (target.as_str(), "—"),
            ("TestJournal 1.2.3", "Test A/S"),
            ("OnlyBroken", "—"),
        ])
    );
    let csv = std::fs::read_to_string(caps.join("capabilities-approved.csv")).expect("csv");
    assert!(csv.contains("TestJournal 1.2.3,Test A/S,"), "{csv}");
    let matrix = found["matrix"].as_array().expect("matrix");
    assert!(matrix.iter().any(|c| c["system"] == "TestJournal 1.2.3"));

    // 2. Two runs of TestJournal: each cell lists a scenario once, with its worst grade.
    let mut seen_worse = 0;
    for c in matrix.iter().filter(|c| c["system"] == "TestJournal 1.2.3") {
        let listed: Vec<&str> = c["scenarios"]
            .as_array()
            .expect("scenarios")
            .iter()
            .map(|s| s.as_str().expect("text"))
            .collect();
        let ids: BTreeSet<&str> = listed.iter().filter_map(|s| s.split(' ').next()).collect();
        assert_eq!(ids.len(), listed.len(), "{c}");
        if ids.contains(worse) {
            seen_worse += 1;
            assert!(listed.contains(&format!("{worse} (F2)").as_str()), "{c}");
            assert_eq!(c["verdict"], "F2", "{c}");
        }
    }
    assert!(seen_worse > 0);

    // 3. No doubled parentheses; the standard ids are the versions of the real scenarios.
    let mut expected_ids: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in run["scenarios"].as_array().expect("scenarios") {
        let id = s["id"].as_str().expect("id");
        let (name, version) = standard_parts(s["standard"].as_str().expect("standard"));
        if name.starts_with('X') && !broken.contains(id) {
            expected_ids
                .entry(name.clone())
                .or_default()
                .insert(format!(
                    "{name} ({})",
                    version.expect("a real letter's version")
                ));
        }
    }
    for a in approved
        .iter()
        .filter(|a| a["system"] == "TestJournal 1.2.3")
    {
        let id = a["standard_id"].as_str().expect("id");
        assert!(!id.contains("(("), "{a}");
        if let Some(ids) = expected_ids.get(a["standard"].as_str().expect("standard")) {
            let want: Vec<&str> = ids.iter().map(String::as_str).collect();
            assert_eq!(id, want.join(", "), "{a}");
        }
    }
    // Broken letters never approve: OnlyBroken has no XDIS20 or XLA201 row, and its matrix
    // shows them only as refusals.
    let only_broken: BTreeSet<&str> = approved
        .iter()
        .filter(|a| a["system"] == "OnlyBroken")
        .filter_map(|a| a["standard"].as_str())
        .collect();
    assert!(only_broken.contains("XDIS91"), "{only_broken:?}");
    assert!(
        !only_broken.contains("XDIS20") && !only_broken.contains("XLA201"),
        "{only_broken:?}"
    );
    for c in matrix {
        for s in c["scenarios"].as_array().expect("scenarios") {
            let id = s.as_str().and_then(|s| s.split(' ').next()).expect("id");
            if broken.contains(id) {
                assert_eq!(c["feature"], "rejects invalid input", "{c}");
            }
        }
    }
}

/// `capabilities` over a run of MedCom's own FHIR TestScripts (the acknowledgement scripts and
/// the CareCommunication 5.0.0 scripts, against the embedded reference vendor): each script
/// gets the direction of the messages it exchanged, a script that did not pass is never `OK`
/// in a cell, and every passed script proves its standard. Expected values are read straight
/// from the run's own `results.json`.
#[test]
fn capabilities_over_medcoms_testscripts_take_direction_and_proof_from_the_exchanged_messages() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ig = corpus().join("medcomfhir-website/ig");
    let output = run_with_reports(
        dir.path(),
        &[
            "run".as_ref(),
            ig.join("acknowledgementtestscript").as_os_str(),
            ig.join("carecommunicationtestscripts/5.0.0").as_os_str(),
            "--ig".as_ref(),
            ig.as_os_str(),
        ],
    );
    let results = dir.path().join("results.json");
    assert!(
        results.exists(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let run = read_json(&results);
    let scenarios = run["scenarios"].as_array().expect("scenarios");
    let caps = dir.path().join("caps");
    let status = bin()
        .arg("capabilities")
        .arg(&results)
        .arg("--output")
        .arg(&caps)
        .status()
        .expect("capabilities runs");
    assert!(status.success());
    let found = read_json(&caps.join("capabilities.json"));

    // Independently: a script is `send` when the vendor sent (evidence `received`) a message
    // of its standard's type, else `receive`.
    let message_type = |standard: &str| {
        if standard.starts_with("Acknowledgement") {
            "acknowledgement"
        } else {
            "care-communication-message"
        }
    };
    let direction: BTreeMap<&str, &str> = scenarios
        .iter()
        .map(|s| {
            let wanted = message_type(s["standard"].as_str().expect("standard"));
            let vendor_sent = s["evidence"].as_array().expect("evidence").iter().any(|e| {
                e["direction"] == "received"
                    && e["label"].as_str().is_some_and(|l| l.starts_with(wanted))
            });
            (
                s["id"].as_str().expect("id"),
                if vendor_sent { "send" } else { "receive" },
            )
        })
        .collect();
    let status_of: BTreeMap<&str, &str> = scenarios
        .iter()
        .map(|s| {
            (
                s["id"].as_str().expect("id"),
                s["status"].as_str().expect("status"),
            )
        })
        .collect();
    // MedCom's scripts say their direction in their names; the exchanged messages agree.
    assert!(
        direction
            .iter()
            .filter(|(id, _)| id.contains("-send-"))
            .all(|(_, d)| *d == "send"),
        "{direction:?}"
    );
    assert!(
        direction
            .iter()
            .filter(|(id, _)| id.contains("-receive-"))
            .all(|(_, d)| *d == "receive"),
        "{direction:?}"
    );

    let matrix = found["matrix"].as_array().expect("matrix");
    let mut listed = BTreeSet::new();
    for cell in matrix {
        for entry in cell["scenarios"].as_array().expect("scenarios") {
            let entry = entry.as_str().expect("entry");
            let id = entry.split(' ').next().expect("id");
            listed.insert(id.to_string());
            assert_eq!(
                cell["direction"].as_str(),
                direction.get(id).copied(),
                "{id} in {cell}"
            );
            if status_of[id] != "passed" {
                assert!(!entry.ends_with("(OK)"), "{entry} ({})", status_of[id]);
                assert_ne!(cell["verdict"], "OK", "{cell}");
            }
        }
    }
    assert_eq!(
        listed.len(),
        scenarios.len(),
        "every script is in the matrix"
    );

    let approved = found["approved"].as_array().expect("approved");
    for (standard, prefix) in [
        ("Acknowledgement", "acknowledgement-"),
        ("CareCommunication", "carecommunication-"),
    ] {
        let mine: Vec<&str> = status_of
            .iter()
            .filter(|(id, _)| id.starts_with(prefix))
            .map(|(_, s)| *s)
            .collect();
        let passed = mine.iter().filter(|s| **s == "passed").count();
        let mut ways: Vec<&str> = direction
            .iter()
            .filter(|(id, _)| id.starts_with(prefix) && status_of[**id] == "passed")
            .map(|(_, d)| *d)
            .collect();
        ways.sort();
        ways.dedup();
        let row = approved
            .iter()
            .find(|a| a["standard"] == standard)
            .unwrap_or_else(|| panic!("a row for {standard}: {approved:?}"));
        let teststatus = row["teststatus"].as_str().expect("teststatus");
        let verdict = if passed == mine.len() {
            "passed "
        } else {
            "not passed "
        };
        assert!(teststatus.starts_with(verdict), "{teststatus}");
        let proof = format!(
            "({passed} of {} scenario(s) prove it: {})",
            mine.len(),
            ways.join(", ")
        );
        assert!(teststatus.ends_with(&proof), "{teststatus}, want {proof}");
    }
    // This run: all acknowledgement scripts pass, some CareCommunication scripts end as the
    // published scripts' own defects.
    assert!(
        status_of
            .iter()
            .any(|(id, s)| id.starts_with("carecommunication-") && *s == "error")
    );
}
