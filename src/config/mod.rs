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

mod resources;
mod system;
pub use resources::Resources;
pub use system::{SystemUnderTest, TestType};

/// The embedded default configuration, with comments.
pub const DEFAULT_TOML: &str = include_str!("harness.toml");

/// The longest wait a config or scenario may ask for: a day. Longer is a typo.
pub const MAX_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// The default of `scenario-size-limit`, in bytes: 10 MB. The bundled scenarios are a few KB.
pub const SCENARIO_SIZE_LIMIT: u64 = 10_000_000;

/// The validated configuration of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The worst grade that still passes.
    pub threshold: Grade,
    /// The largest scenario file read, in bytes (`scenario-size-limit`, default 10 MB): a larger
    /// one is refused with an error naming it, so memory stays proportional to the work.
    pub scenario_size_limit: u64,
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
    /// The `[rules]` table: settings where MedCom's sources disagree (DOMAIN.md §6).
    pub rules: crate::validate::Settings,
    /// A folder with MedCom's envelope XSDs in the corpus layout (`vans-envelope/…`,
    /// `dk-ehmi-sbdh/…`); `None`: the command line falls back to `$MEDCOM_CORPUS` when set.
    pub schemas: Option<PathBuf>,
    /// The `[http]` table: the response body limit and how the harness authenticates to the
    /// vendor. Secrets given as environment variable names stay unread until
    /// [`crate::transport::Auth::resolve`] (the command line calls it).
    pub http: crate::transport::HttpSettings,
    /// SOR/EER registry files or folders (`registry`, relative to the config file): EER FHIR
    /// JSON, SOR XML v1, SOR2 CSV (see [`crate::registry`]). Empty: no registry checks. The
    /// command line loads them into `rules.registry`.
    pub registry: Vec<PathBuf>,
    /// The `[system]` table: the system under test as MedCom's test protocol names it (vendor,
    /// system, version, test type, tester), for the reports.
    pub system: SystemUnderTest,
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
    ig: Option<OneOrMore>,
    schemas: Option<PathBuf>,
    registry: Option<OneOrMore>,
    scenario_size_limit: Option<u64>,
    rules: Option<RawRules>,
    http: Option<RawHttp>,
    system: Option<RawSystem>,
}

/// The `[system]` table; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RawSystem {
    vendor: Option<String>,
    name: Option<String>,
    version: Option<String>,
    test_type: Option<String>,
    tester: Option<String>,
}

/// The `[http]` table; every key optional. A secret is given as itself or as `…-env`, the name
/// of an environment variable, never both.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RawHttp {
    body_limit: Option<u64>,
    headers: Option<std::collections::BTreeMap<String, String>>,
    headers_env: Option<std::collections::BTreeMap<String, String>>,
    bearer_token: Option<String>,
    bearer_token_env: Option<String>,
    basic_user: Option<String>,
    basic_password: Option<String>,
    basic_password_env: Option<String>,
    client_certificate: Option<PathBuf>,
    client_key: Option<PathBuf>,
    ca_certificates: Option<PathBuf>,
}

/// The `[rules]` table; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RawRules {
    transient_error: Option<String>,
    resend_limit: Option<u32>,
    size_limit: Option<u64>,
    size_warning: Option<u64>,
    attachment_mime_types: Option<MimeSetting>,
    letter_identifier: Option<String>,
    sbdh_binary_content: Option<String>,
}

/// `ig = "dir/"` or `ig = ["a/", "b.tgz"]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum OneOrMore {
    One(PathBuf),
    More(Vec<PathBuf>),
}

impl OneOrMore {
    fn into_vec(self) -> Vec<PathBuf> {
        match self {
            OneOrMore::One(p) => vec![p],
            OneOrMore::More(v) => v,
        }
    }
}

/// `attachment-mime-types`: `"value-set"` or a list of MIME types.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum MimeSetting {
    Word(String),
    List(Vec<String>),
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
pub(crate) struct Seconds(pub(crate) Duration);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Seconds, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Fraction(f64),
            Text(String),
        }
        let invalid = |what: String| {
            serde::de::Error::custom(format!(
                "`{what}` is not a duration: give seconds (`30`, `0.5`) or text like `30s` or `2m`"
            ))
        };
        let duration = match Raw::deserialize(d).map_err(|_| invalid("this value".into()))? {
            Raw::Number(n) => Duration::from_secs(n),
            Raw::Fraction(f) => {
                Duration::try_from_secs_f64(f).map_err(|_| invalid(f.to_string()))?
            }
            Raw::Text(t) => humantime::parse_duration(&t).map_err(|_| invalid(t))?,
        };
        if duration > MAX_WAIT {
            return Err(serde::de::Error::custom(
                "a duration is longer than the longest wait, 24 hours",
            ));
        }
        Ok(Seconds(duration))
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

/// A TOML parse error as `line L, column C: <message>`, never quoting the file's text: the
/// parser's own rendering shows the offending line, and a config line may hold a bearer token or
/// a password. Double-quoted parts of the message (serde names a wrong value as `string "…"`) are
/// replaced by `"…"`; key names stay, they are in backticks.
fn parse_message(e: &toml::de::Error, text: &str) -> String {
    let message = hide_quoted(e.message().trim());
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    }
}

/// `s` with every `"…"` (double-quoted run outside backticks) replaced by `"…"`.
fn hide_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut inside = false;
    let mut code = false;
    for c in s.chars() {
        if c == '`' && !inside {
            // `…` names a key or a token of TOML (`"`): kept as written.
            code = !code;
            out.push(c);
        } else if code {
            out.push(c);
        } else if c == '"' {
            if inside {
                out.push('…');
            }
            out.push(c);
            inside = !inside;
        } else if !inside {
            out.push(c);
        }
    }
    if inside {
        out.push('…');
    }
    out
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
            message: parse_message(&e, &text),
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
        let scenario_size_limit = u
            .scenario_size_limit
            .or(d.scenario_size_limit)
            .unwrap_or(SCENARIO_SIZE_LIMIT);
        if scenario_size_limit == 0 {
            return Err(invalid(
                "`scenario-size-limit = 0` would refuse every scenario file; give a size in bytes"
                    .into(),
            ));
        }
        let request_timeout = u
            .request_timeout
            .or(d.request_timeout)
            .map_or(Duration::from_secs(30), |s| s.0);
        if request_timeout.is_zero() {
            return Err(invalid(
                "`request-timeout` must be longer than 0 seconds: no request could be answered (seconds, or a duration such as \"500ms\")".into(),
            ));
        }
        let default_within = u
            .default_within
            .or(d.default_within)
            .map_or(Duration::from_secs(10), |s| s.0);
        if default_within.is_zero() {
            return Err(invalid(
                "`default-within` must be longer than 0 seconds: an `expect-*` step could not wait at all".into(),
            ));
        }
        let rules =
            rules(u.rules.unwrap_or_default(), d.rules.unwrap_or_default()).map_err(invalid)?;
        let relative = |p: PathBuf| {
            if p.is_relative() {
                path.parent().unwrap_or(Path::new(".")).join(p)
            } else {
                p
            }
        };
        let schemas = u.schemas.or(d.schemas).map(relative);
        let registry = u
            .registry
            .or(d.registry)
            .map(OneOrMore::into_vec)
            .unwrap_or_default()
            .into_iter()
            .map(relative)
            .collect();
        let default_limit = d.http.and_then(|h| h.body_limit);
        let http = http(u.http.unwrap_or_default(), default_limit, &relative).map_err(invalid)?;
        let system = system(u.system.unwrap_or_default()).map_err(invalid)?;
        Ok(Config {
            system,
            http,
            registry,
            rules,
            schemas,
            threshold,
            scenario_size_limit,
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
                .map(OneOrMore::into_vec)
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

/// The `[system]` table, checked: `test-type` is `self-test` or `final-test`; empty text counts
/// as not given.
fn system(u: RawSystem) -> Result<SystemUnderTest, String> {
    let given = |v: Option<String>| v.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    let test_type = match given(u.test_type) {
        None => None,
        Some(t) => Some(TestType::parse(&t).ok_or_else(|| {
            format!("`[system] test-type = \"{t}\"` is not `self-test` or `final-test`")
        })?),
    };
    Ok(SystemUnderTest {
        vendor: given(u.vendor),
        name: given(u.name),
        version: given(u.version),
        test_type,
        tester: given(u.tester),
    })
}

/// The `[rules]` settings: the user's keys over the defaults, each checked.
fn rules(u: RawRules, d: RawRules) -> Result<crate::validate::Settings, String> {
    use crate::envelope::BinaryContentRule;
    use crate::validate::{AckCodes, LetterIdentifier, MimeTypes, Settings, V2Code};
    let builtin = Settings::default();
    let transient_error = match u.transient_error.or(d.transient_error).as_deref() {
        None => builtin.ack_codes.transient_error,
        Some("AR") => V2Code::AR,
        Some("AE") => V2Code::AE,
        Some(other) => {
            return Err(format!(
                "`[rules] transient-error = \"{other}\"` is not `AR` (governance 040, the default) or `AE` (the older document)"
            ));
        }
    };
    let size_limit = u.size_limit.or(d.size_limit).unwrap_or(builtin.size_limit);
    let size_warning = u
        .size_warning
        .or(d.size_warning)
        .unwrap_or(builtin.size_warning);
    if size_warning > size_limit {
        return Err(format!(
            "`[rules] size-warning = {size_warning}` is over `size-limit = {size_limit}`: the warning must come before the limit"
        ));
    }
    let mime_types = match u.attachment_mime_types.or(d.attachment_mime_types) {
        None => MimeTypes::ValueSet,
        Some(MimeSetting::Word(w)) if w == "value-set" => MimeTypes::ValueSet,
        Some(MimeSetting::Word(w)) => {
            return Err(format!(
                "`[rules] attachment-mime-types = \"{w}\"` is neither `\"value-set\"` nor a list such as `[\"application/pdf\", \"image/png\"]`"
            ));
        }
        Some(MimeSetting::List(list)) => {
            if list.is_empty() {
                return Err("`[rules] attachment-mime-types = []` allows no attachment at all; use `\"value-set\"` or list the types".into());
            }
            if let Some(bad) = list.iter().find(|t| !is_mime_type(t)) {
                return Err(format!(
                    "`[rules] attachment-mime-types`: `{bad}` is not a MIME type like `application/pdf`"
                ));
            }
            MimeTypes::List(list)
        }
    };
    let letter_identifier = match u.letter_identifier.or(d.letter_identifier) {
        None => builtin.letter_identifier,
        Some(text) => LetterIdentifier::parse(&text).ok_or_else(|| {
            format!(
                "`[rules] letter-identifier = \"{text}\"` is not `lokationsnummer#brevid` (the Provenance profile, default) or `brevid#lokationsnummer`"
            )
        })?,
    };
    let binary_content = match u.sbdh_binary_content.or(d.sbdh_binary_content).as_deref() {
        None | Some("envelope-schema") => BinaryContentRule::AcceptEnvelopeSchema,
        Some("as-published") => BinaryContentRule::AsPublished,
        Some(other) => {
            return Err(format!(
                "`[rules] sbdh-binary-content = \"{other}\"` is not `envelope-schema` (default) or `as-published`"
            ));
        }
    };
    Ok(Settings {
        size_limit,
        size_warning,
        payload: false,
        mime_types,
        ack_codes: AckCodes { transient_error },
        resend_limit: u
            .resend_limit
            .or(d.resend_limit)
            .unwrap_or(builtin.resend_limit),
        letter_identifier,
        binary_content,
        registry: None,
    })
}

/// The `[http]` settings of the user's file over the default `body-limit` (the defaults set no
/// credentials), each checked; relative certificate paths are relative to the config file.
fn http(
    u: RawHttp,
    default_limit: Option<u64>,
    relative: &dyn Fn(PathBuf) -> PathBuf,
) -> Result<crate::transport::HttpSettings, String> {
    use crate::transport::{Auth, HttpSettings, Secret};
    let secret =
        |value: Option<String>, env: Option<String>, key: &str| -> Result<Option<Secret>, String> {
            match (value, env) {
                (Some(_), Some(_)) => Err(format!(
                    "`[http] {key}` and `{key}-env` are both set: give the secret one way"
                )),
                (Some(v), None) => Ok(Some(Secret::Value(v))),
                (None, Some(name)) if name.is_empty() => Err(format!(
                    "`[http] {key}-env` is empty: name an environment variable"
                )),
                (None, Some(name)) => Ok(Some(Secret::Env(name))),
                (None, None) => Ok(None),
            }
        };
    let mut headers: Vec<(String, Secret)> = Vec::new();
    for (name, value) in u.headers.unwrap_or_default() {
        headers.push((name, Secret::Value(value)));
    }
    for (name, variable) in u.headers_env.unwrap_or_default() {
        if headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
            return Err(format!(
                "`[http]` header `{name}` is in both `headers` and `headers-env`"
            ));
        }
        headers.push((name, Secret::Env(variable)));
    }
    for (name, _) in &headers {
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(format!(
                "`[http] headers`: `{name}` is not an HTTP header name"
            ));
        }
    }
    let bearer_token = secret(u.bearer_token, u.bearer_token_env, "bearer-token")?;
    let password = secret(u.basic_password, u.basic_password_env, "basic-password")?;
    let basic = match (u.basic_user, password) {
        (Some(user), Some(password)) => Some((user, password)),
        (Some(user), None) => Some((user, Secret::Value(String::new()))),
        (None, Some(_)) => {
            return Err("`[http] basic-password` is set without `basic-user`".into());
        }
        (None, None) => None,
    };
    if basic.is_some() && bearer_token.is_some() {
        return Err(
            "`[http]` sets both `basic-user` and `bearer-token`: a request carries one `Authorization`"
                .into(),
        );
    }
    if u.client_key.is_some() && u.client_certificate.is_none() {
        return Err("`[http] client-key` is set without `client-certificate`".into());
    }
    let body_limit = match u.body_limit.or(default_limit) {
        None => crate::MAX_BODY_BYTES,
        Some(0) => return Err("`[http] body-limit = 0` would read no answer at all".into()),
        Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
    };
    Ok(HttpSettings {
        body_limit,
        auth: Auth {
            headers,
            bearer_token,
            basic,
            client_certificate: u.client_certificate.map(relative),
            client_key: u.client_key.map(relative),
            ca_certificates: u.ca_certificates.map(relative),
        },
    })
}

/// `type/subtype` with RFC 2045 token characters.
fn is_mime_type(text: &str) -> bool {
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    text.split_once('/')
        .is_some_and(|(a, b)| token(a) && token(b))
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
    fn the_rules_table_defaults_are_domain_section_6() {
        let r = Config::default_config().rules;
        assert_eq!(r, crate::validate::Settings::default());
        assert_eq!(
            Some(
                r.ack_codes
                    .v2(crate::message::AckCode::TransientError)
                    .as_str()
            ),
            Some("AR")
        );
        assert_eq!(r.resend_limit, 2);
        assert_eq!((r.size_limit, r.size_warning), (100_000_000, 50_000_000));
        assert_eq!(r.mime_types, crate::validate::MimeTypes::ValueSet);
        assert_eq!(r.letter_identifier.as_str(), "lokationsnummer#brevid");
    }

    #[test]
    fn every_rules_key_can_be_set_and_a_bad_value_names_the_key() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("h.toml");
        std::fs::write(
            &p,
            "[rules]\ntransient-error = \"AE\"\nresend-limit = 3\nsize-limit = 2000\nsize-warning = 1000\nattachment-mime-types = [\"application/pdf\", \"text/plain\"]\nletter-identifier = \"brevid#lokationsnummer\"\nsbdh-binary-content = \"as-published\"\n",
        )
        .expect("write");
        let r = Config::load(Some(&p)).expect("loads").rules;
        assert_eq!(
            Some(r.ack_codes.v2(crate::message::AckCode::FatalError).as_str()),
            Some("AR")
        );
        assert_eq!(r.resend_limit, 3);
        assert_eq!((r.size_limit, r.size_warning), (2000, 1000));
        assert!(r.mime_types.resolve(None).allows("text/plain"));
        assert_eq!(r.letter_identifier.as_str(), "brevid#lokationsnummer");
        assert_eq!(
            r.binary_content,
            crate::envelope::BinaryContentRule::AsPublished
        );
        for (text, key) in [
            ("transient-error = \"AX\"", "transient-error"),
            ("size-limit = 10\nsize-warning = 20", "size-warning"),
            ("attachment-mime-types = \"all\"", "attachment-mime-types"),
            ("attachment-mime-types = [\"pdf\"]", "attachment-mime-types"),
            ("letter-identifier = \"brevid\"", "letter-identifier"),
            ("sbdh-binary-content = \"strict\"", "sbdh-binary-content"),
            ("resend-limt = 2", "resend-limt"),
        ] {
            std::fs::write(&p, format!("[rules]\n{text}\n")).expect("write");
            let e = Config::load(Some(&p)).expect_err(text);
            assert!(e.to_string().contains(key), "{text}: {e}");
        }
    }

    #[test]
    fn ig_takes_one_path_or_a_list_and_default_within_is_not_zero() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("h.toml");
        std::fs::write(&p, "ig = \"medcom-ig/\"\n").expect("write");
        let c = Config::load(Some(&p)).expect("one path");
        assert_eq!(c.ig, vec![dir.path().join("medcom-ig/")]);
        std::fs::write(&p, "ig = [\"a/\", \"b.tgz\"]\n").expect("write");
        assert_eq!(Config::load(Some(&p)).expect("a list").ig.len(), 2);
        std::fs::write(&p, "default-within = 0.5\n").expect("write");
        assert_eq!(
            Config::load(Some(&p))
                .expect("half a second")
                .default_within,
            Duration::from_millis(500)
        );
        // Longer than a day is a typo (and would overflow the clock): an error, not a panic.
        std::fs::write(&p, "default-within = \"18446744073709551615s\"\n").expect("write");
        let e = Config::load(Some(&p)).expect_err("too long");
        assert!(e.to_string().contains("24 hours"), "{e}");
        std::fs::write(&p, "default-within = \"0s\"\n").expect("write");
        let e = Config::load(Some(&p)).expect_err("zero wait");
        assert!(e.to_string().contains("default-within"), "{e}");
    }

    #[test]
    fn scenario_size_limit_defaults_to_10_mb_and_can_be_set() {
        assert_eq!(Config::default_config().scenario_size_limit, 10_000_000);
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("h.toml");
        std::fs::write(&p, "scenario-size-limit = 2000\n").expect("write");
        assert_eq!(
            Config::load(Some(&p)).expect("loads").scenario_size_limit,
            2000
        );
        std::fs::write(&p, "scenario-size-limit = 0\n").expect("write");
        let e = Config::load(Some(&p)).expect_err("zero");
        assert!(e.to_string().contains("scenario-size-limit"), "{e}");
    }

    #[test]
    fn a_user_file_with_an_unknown_key_is_rejected() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("h.toml");
        std::fs::write(&p, "treshold = \"F3\"\n").expect("write");
        let e = Config::load(Some(&p)).expect_err("unknown key");
        assert!(e.to_string().contains("treshold"), "{e}");
    }

    #[test]
    fn the_http_table_takes_credentials_by_value_or_by_environment_variable() {
        use crate::transport::Secret;
        let defaults = Config::default_config().http;
        assert_eq!(defaults.body_limit, crate::MAX_BODY_BYTES);
        assert_eq!(defaults.auth, crate::transport::Auth::default());
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("h.toml");
        std::fs::write(
            &p,
            "[http]\nbody-limit = 5000\nbearer-token-env = \"VENDOR_TOKEN\"\nheaders = { \"X-Api-Key\" = \"k\" }\nheaders-env = { \"X-Other\" = \"OTHER\" }\nclient-certificate = \"c.pem\"\nclient-key = \"c.key\"\nca-certificates = \"ca.pem\"\n",
        )
        .expect("write");
        let c = Config::load(Some(&p)).expect("loads");
        assert_eq!(c.http.body_limit, 5000);
        assert_eq!(
            c.http.auth.bearer_token,
            Some(Secret::Env("VENDOR_TOKEN".into()))
        );
        assert_eq!(c.http.auth.headers.len(), 2);
        assert_eq!(
            c.http.auth.client_certificate,
            Some(dir.path().join("c.pem"))
        );
        assert_eq!(c.http.auth.ca_certificates, Some(dir.path().join("ca.pem")));
        for (text, key) in [
            (
                "bearer-token = \"a\"\nbearer-token-env = \"B\"",
                "bearer-token",
            ),
            ("basic-password = \"a\"", "basic-user"),
            ("basic-user = \"u\"\nbearer-token = \"t\"", "bearer-token"),
            ("client-key = \"k.pem\"", "client-certificate"),
            ("headers = { \"bad header\" = \"x\" }", "bad header"),
            ("body-limit = 0", "body-limit"),
            ("bearer-tokn = \"t\"", "bearer-tokn"),
        ] {
            std::fs::write(&p, format!("[http]\n{text}\n")).expect("write");
            let e = Config::load(Some(&p)).expect_err(text);
            assert!(e.to_string().contains(key), "{text}: {e}");
        }
    }
}
