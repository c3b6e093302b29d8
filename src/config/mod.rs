//! Configuration: who the harness and the vendor are, timeouts, the pass threshold.
//!
//! The defaults live in one commented TOML file, `harness.toml`, embedded in the binary; it is the
//! reference for every key. A user's `--config` file overrides any of them. Raw command-line flags
//! are turned into a [`Config`] before any work starts; the library never sees clap types.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::finding::Grade;
use crate::template::Organization;

/// The embedded default configuration, with comments.
pub const DEFAULT_TOML: &str = include_str!("harness.toml");

/// The validated configuration of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The worst grade that still passes.
    pub threshold: Grade,
    /// Default wait of `expect-*` steps.
    pub default_within: Duration,
    /// The harness's listener address.
    pub listen: SocketAddr,
    /// Timeout of one HTTP request.
    pub request_timeout: Duration,
    /// Base of fullUrls the harness writes (ends with `/`).
    pub fhir_base: String,
    /// The harness's own identity.
    pub harness: Organization,
    /// The vendor under test.
    pub vendor: Organization,
    /// MedCom implementation guides to validate against: folders of IG resources or
    /// `package.tgz` files. Empty: MedCom's rules without profile validation.
    pub ig: Vec<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RawConfig {
    threshold: Option<String>,
    default_within: Option<Seconds>,
    listen: Option<String>,
    request_timeout: Option<Seconds>,
    fhir_base: Option<String>,
    harness: Option<RawParty>,
    vendor: Option<RawParty>,
    ig: Option<Vec<PathBuf>>,
}

/// A party where every key is optional: what is left out keeps its default.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RawParty {
    ean: Option<String>,
    sor_id: Option<String>,
    name: Option<String>,
}

/// A duration in whole seconds (`30`) or as text (`"30s"`, `"2m"`), like a scenario's `within`.
#[derive(Debug, Clone, Copy)]
struct Seconds(Duration);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Seconds, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(n) => Ok(Seconds(Duration::from_secs(n))),
            Raw::Text(t) => humantime::parse_duration(&t).map(Seconds).map_err(|e| {
                serde::de::Error::custom(format!("`{t}` is not a duration like `30s` or `2m`: {e}"))
            }),
        }
    }
}

/// Why the configuration is not usable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("failed to read config `{path}`")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("config `{path}`: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong (with line and column from the TOML parser).
        message: String,
    },
}

impl Config {
    /// The defaults of [`DEFAULT_TOML`].
    pub fn default_config() -> Config {
        let raw: RawConfig = toml::from_str(DEFAULT_TOML).unwrap_or_default();
        Config::from_raw(raw, None, Path::new("(built-in)"))
            .expect("the embedded harness.toml is valid (checked by a unit test)")
    }

    /// Loads `path` over the defaults; `None` gives the defaults.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file and what is wrong.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let defaults: RawConfig =
            toml::from_str(DEFAULT_TOML).map_err(|e| ConfigError::Invalid {
                path: PathBuf::from("(built-in)"),
                message: e.to_string(),
            })?;
        let Some(path) = path else {
            return Config::from_raw(defaults, None, Path::new("(built-in)"));
        };
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let user: RawConfig = toml::from_str(&text).map_err(|e| ConfigError::Invalid {
            path: path.to_path_buf(),
            message: e.to_string().trim().to_string(),
        })?;
        Config::from_raw(defaults, Some(user), path)
    }

    fn from_raw(d: RawConfig, user: Option<RawConfig>, path: &Path) -> Result<Config, ConfigError> {
        let u = user.unwrap_or_default();
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let threshold_text = u.threshold.or(d.threshold).unwrap_or_else(|| "F4".into());
        let threshold = Grade::parse(&threshold_text).ok_or_else(|| {
            invalid(format!(
                "`threshold = \"{threshold_text}\"` is not one of OK, F4, F3, F2, F1"
            ))
        })?;
        let listen_text = u
            .listen
            .or(d.listen)
            .unwrap_or_else(|| "127.0.0.1:0".into());
        let listen = listen_text.parse().map_err(|_| {
            invalid(format!(
                "`listen = \"{listen_text}\"` is not an address like `127.0.0.1:0`"
            ))
        })?;
        let mut fhir_base = u.fhir_base.or(d.fhir_base).unwrap_or_default();
        if !fhir_base.ends_with('/') {
            fhir_base.push('/');
        }
        let party = |user: Option<RawParty>,
                     default: Option<RawParty>,
                     table: &str|
         -> Result<Organization, ConfigError> {
            let (user, default) = (user.unwrap_or_default(), default.unwrap_or_default());
            let pick = |u: Option<String>, d: Option<String>, key: &str| {
                u.or(d)
                    .ok_or_else(|| invalid(format!("missing `[{table}] {key}`")))
            };
            Ok(Organization {
                ean: pick(user.ean, default.ean, "ean")?,
                sor_id: pick(user.sor_id, default.sor_id, "sor-id")?,
                name: pick(user.name, default.name, "name")?,
            })
        };
        let harness = party(u.harness, d.harness, "harness")?;
        let vendor = party(u.vendor, d.vendor, "vendor")?;
        for (table, org) in [("harness", &harness), ("vendor", &vendor)] {
            if !crate::identifier::is_valid_gln(&org.ean) {
                return Err(invalid(format!(
                    "`[{table}] ean = \"{}\"` is not a 13-digit EAN/GLN with a valid GS1 check digit",
                    org.ean
                )));
            }
            if !crate::identifier::is_valid_sor_id(&org.sor_id) {
                return Err(invalid(format!(
                    "`[{table}] sor-id = \"{}\"` is not a SOR id (digits ending in 100001600 + one digit)",
                    org.sor_id
                )));
            }
        }
        if harness.ean == vendor.ean {
            return Err(invalid(format!(
                "`[harness]` and `[vendor]` have the same EAN `{}`: the harness must be another party than the system under test",
                harness.ean
            )));
        }
        let request_timeout = u
            .request_timeout
            .or(d.request_timeout)
            .map_or(Duration::from_secs(30), |s| s.0);
        if request_timeout.is_zero() {
            return Err(invalid(
                "`request-timeout` must be at least 1 second".into(),
            ));
        }
        let default_within = u
            .default_within
            .or(d.default_within)
            .map_or(Duration::from_secs(10), |s| s.0);
        Ok(Config {
            threshold,
            default_within,
            listen,
            request_timeout,
            fhir_base,
            harness,
            vendor,
            // Relative IG paths are relative to the config file.
            ig: u
                .ig
                .or(d.ig)
                .unwrap_or_default()
                .into_iter()
                .map(|p| {
                    if p.is_relative() {
                        path.parent().unwrap_or(Path::new(".")).join(p)
                    } else {
                        p
                    }
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_defaults_are_valid() {
        let c = Config::load(None).expect("defaults load");
        assert_eq!(c.threshold, Grade::F4);
        assert!(crate::identifier::is_valid_gln(&c.harness.ean));
        assert!(crate::identifier::is_valid_sor_id(&c.vendor.sor_id));
    }

    #[test]
    fn a_partial_vendor_table_keeps_the_other_defaults_and_durations_take_text() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("h.toml");
        std::fs::write(
            &p,
            "default-within = \"2m\"\n[vendor]\nean = \"5790000209354\"\n",
        )
        .expect("write");
        let c = Config::load(Some(&p)).expect("loads");
        assert_eq!(c.vendor.ean, "5790000209354");
        assert_eq!(c.vendor.sor_id, Config::default_config().vendor.sor_id);
        assert_eq!(c.default_within, Duration::from_secs(120));
    }

    #[test]
    fn a_user_file_with_an_unknown_key_is_rejected() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("h.toml");
        std::fs::write(&p, "treshold = \"F3\"\n").expect("write");
        let e = Config::load(Some(&p)).expect_err("unknown key");
        assert!(e.to_string().contains("treshold"), "{e}");
    }
}
