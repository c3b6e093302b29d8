//! Rule sources audited against MedCom's published material in the corpus: every invariant a
//! rule cites is declared by a MedCom profile, every TestScript it cites is published, so a
//! vendor who looks a source up finds it (issue 10: `cc-reply-no-resend` once cited an invariant
//! that says something else).

use crate::support::corpus;
use medcom_harness::rule;

/// The constraint keys and their `human` text that MedCom's published profiles declare
/// (`medcomfhir-website/ig/*/StructureDefinition-*.json` of the corpus).
fn medcom_invariants() -> std::collections::HashMap<String, String> {
    let ig = corpus().join("medcomfhir-website/ig");
    let mut keys = std::collections::HashMap::new();
    for folder in std::fs::read_dir(&ig).expect("ig folder").flatten() {
        for file in std::fs::read_dir(folder.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = file.file_name().to_string_lossy().into_owned();
            if !name.starts_with("StructureDefinition-") || !name.ends_with(".json") {
                continue;
            }
            let text = std::fs::read_to_string(file.path()).expect("read");
            let sd: serde_json::Value = serde_json::from_str(&text).expect("json");
            for e in sd["differential"]["element"]
                .as_array()
                .into_iter()
                .flatten()
            {
                for c in e["constraint"].as_array().into_iter().flatten() {
                    if let (Some(k), Some(h)) = (c["key"].as_str(), c["human"].as_str()) {
                        keys.insert(k.to_string(), h.to_string());
                    }
                }
            }
        }
    }
    keys
}

#[test]
fn every_cited_medcom_invariant_is_declared_by_medcoms_profiles() {
    let keys = medcom_invariants();
    let cited = regex::Regex::new(r"invariant (medcom-[A-Za-z0-9-]*[A-Za-z0-9])").expect("re");
    for rule in rule::ALL {
        for m in cited.captures_iter(rule.source) {
            assert!(
                keys.contains_key(&m[1]),
                "`{}` cites invariant `{}`, which no MedCom profile declares",
                rule.id,
                &m[1]
            );
        }
    }
    // The audit's first case: medcom-careCommunication-6 is about the topic in 5.0, so the
    // reply rule cites the profile's description instead.
    assert_eq!(
        keys.get("medcom-careCommunication-6").map(String::as_str),
        Some("There shall exist a Communication.topic when Communication.category = 'other'")
    );
    assert!(
        !rule::CC_REPLY_NO_RESEND
            .source
            .starts_with("CareCommunication IG 5.0, invariant")
    );
}

#[test]
fn every_cited_medcom_testscript_is_published() {
    let mut ids = std::collections::HashSet::new();
    let mut folders = vec![corpus().join("medcomfhir-website/ig")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("ig folder").flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir() {
                folders.push(entry.path());
            } else if let Some(id) = name
                .strip_prefix("TestScript-")
                .and_then(|n| n.strip_suffix(".json"))
            {
                ids.insert(id.to_string());
            }
        }
    }
    assert!(ids.contains("carecommunication-send-forward-partialthread"));
    let cited =
        regex::Regex::new(r"(?:carecommunication|acknowledgement)-(?:send|receive)-[a-z0-9-]*")
            .expect("re");
    for rule in rule::ALL {
        for m in cited.find_iter(rule.source) {
            let id = m.as_str();
            if id.ends_with('-') {
                continue; // a family of scripts: `acknowledgement-send-*`
            }
            assert!(
                ids.contains(id),
                "`{}` cites TestScript `{id}`, which MedCom does not publish",
                rule.id
            );
        }
    }
}
