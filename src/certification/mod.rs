//! The certification record of a run: who and what was tested, with which configuration and
//! which implementation guides, and what MedCom's test protocols it covered.
//!
//! MedCom's test protocol starts with the vendor, the system and its version, the test type
//! (self-test or final test) and the tester; a reviewer also needs to know the configuration the
//! verdicts were reached with (its SHA-256), the `[rules]` choices where MedCom's documents
//! disagree, and every IG package loaded, or that profile validation did not run at all. The
//! command line builds a [`Certification`] and puts it on the [`crate::run::RunOutcome`]; the
//! reporters show it.
//!
//! - [`SystemUnderTest`], the `[system]` table, lives in [`crate::config`] (it is configuration).
//! - `package.rs`: IG packages in the FHIR package cache and the MedCom corpus, `ig add`.
//! - `protocol.rs`: MedCom's protocol step lists (`data/protocols.toml`) and the coverage table.

mod outdated;
mod package;
pub mod protocol;

pub use crate::config::{SystemUnderTest, TestType};
pub use outdated::{Outdated, outdated};
pub use package::{
    Found, IgPackage, MEDCOM_PREFIX, PackageError, PackageSource, cache_dir, describe,
    describe_all, discover, in_cache, in_corpus, install, load as load_packages,
};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;

use crate::config::Config;

/// Who and what a run tested, and with what: shown at the top of every report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certification {
    /// The system under test.
    pub system: SystemUnderTest,
    /// The config file given (`--config`), or `built-in`.
    pub config_file: String,
    /// Lower-case hex SHA-256 of the effective configuration: the canonical JSON of
    /// [`effective`] (defaults, the file and the flags merged; credentials left out).
    pub config_sha256: String,
    /// The `[rules]` settings in force, by config key (`transient-error = "AR"`, …).
    pub rules: BTreeMap<String, String>,
    /// Every implementation guide loaded, in load order.
    pub ig_packages: Vec<IgPackage>,
    /// Whether messages were validated against profiles: false when no IG was loaded.
    pub profile_validation: bool,
    /// Packages older than the standard the scenarios test (see [`outdated()`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outdated: Vec<Outdated>,
}

/// The `[rules]` table of `config` as the config file spells it.
pub fn rules(config: &Config) -> BTreeMap<String, String> {
    use crate::validate::MimeTypes;
    let r = &config.rules;
    let mime = match &r.mime_types {
        MimeTypes::ValueSet => "value-set".to_owned(),
        MimeTypes::List(list) => list.join(", "),
    };
    let binary = match r.binary_content {
        crate::envelope::BinaryContentRule::AcceptEnvelopeSchema => "envelope-schema",
        crate::envelope::BinaryContentRule::AsPublished => "as-published",
    };
    [
        (
            "transient-error",
            format!("{:?}", r.ack_codes.transient_error),
        ),
        ("resend-limit", r.resend_limit.to_string()),
        ("size-limit", r.size_limit.to_string()),
        ("size-warning", r.size_warning.to_string()),
        ("attachment-mime-types", mime),
        ("letter-identifier", r.letter_identifier.as_str().to_owned()),
        ("sbdh-binary-content", binary.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The effective configuration as canonical JSON (keys sorted): threshold, waits, addresses,
/// identities, `[rules]`, the system under test and the IG packages (name, version). Credentials
/// and paths to them are left out, so the hash can be published.
pub fn effective(config: &Config, packages: &[IgPackage]) -> serde_json::Value {
    let party = |o: &crate::template::Organization| serde_json::json!({ "ean": o.ean, "sor-id": o.sor_id, "name": o.name });
    let value = serde_json::json!({
        "threshold": config.threshold.as_str(),
        "default-within": config.default_within.as_secs_f64(),
        "request-timeout": config.request_timeout.as_secs_f64(),
        "listen": config.listen.to_string(),
        "fhir-base": config.fhir_base,
        "scenario-size-limit": config.scenario_size_limit,
        "harness": party(&config.harness),
        "vendor": party(&config.vendor),
        "rules": rules(config),
        "system": config.system,
        "http": { "body-limit": config.http.body_limit },
        "ig": packages.iter().map(IgPackage::reference).collect::<Vec<_>>(),
    });
    sorted(value)
}

/// `value` with every object's keys in order, so equal configurations serialize equally.
fn sorted(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let ordered: BTreeMap<String, serde_json::Value> =
                map.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            serde_json::Value::Object(ordered.into_iter().collect())
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(sorted).collect())
        }
        other => other,
    }
}

impl Certification {
    /// The record of a run with `config` (read from `config_file`, `None`: built-in) and the
    /// guides `packages`.
    pub fn new(
        config: &Config,
        config_file: Option<&std::path::Path>,
        packages: Vec<IgPackage>,
    ) -> Certification {
        let canonical = effective(config, &packages).to_string();
        Certification {
            system: config.system.clone(),
            config_file: config_file
                .map_or_else(|| "built-in".to_owned(), |p| p.display().to_string()),
            config_sha256: format!("{:x}", Sha256::digest(canonical.as_bytes())),
            rules: rules(config),
            profile_validation: !packages.is_empty(),
            outdated: Vec::new(),
            ig_packages: packages,
        }
    }

    /// The warning when profile validation did not run, for the console and the reports.
    pub fn warning(&self) -> Option<&'static str> {
        (!self.profile_validation).then_some(
            "profile validation did not run: no MedCom implementation guide was loaded, so messages were judged by MedCom's rules only, not by the IG's profiles. Install MedCom's packages (`medcom-harness ig add PACKAGE.tgz`), set MEDCOM_CORPUS, or give --ig",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_hash_changes_with_a_rule_and_not_with_nothing() {
        let config = Config::default_config();
        let a = Certification::new(&config, None, Vec::new());
        let b = Certification::new(&config, None, Vec::new());
        assert_eq!(a.config_sha256, b.config_sha256);
        assert_eq!(a.config_sha256.len(), 64);
        let mut other = config.clone();
        other.rules.resend_limit = 3;
        let c = Certification::new(&other, None, Vec::new());
        assert_ne!(a.config_sha256, c.config_sha256);
        assert_eq!(c.rules["resend-limit"], "3");
        assert!(a.warning().is_some());
    }
}
