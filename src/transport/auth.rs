//! How the harness authenticates to a vendor's HTTP endpoint: extra headers, a bearer token,
//! basic auth and a client certificate (mutual TLS), as the config's `[http]` table gives them.
//!
//! Secrets come from the config file or from environment variables the config names
//! (`bearer-token-env = "VENDOR_TOKEN"`). The library never reads the environment itself: the
//! command line resolves the names once, when it loads the config ([`Auth::resolve`]); a name
//! left unresolved is an error when the client is built, never an empty credential. Every
//! secret is collected in [`Auth::secrets`] so writers can redact it.

use std::path::PathBuf;

/// A secret as the config gives it.
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    /// The value itself.
    Value(String),
    /// The name of an environment variable holding it, not yet read.
    Env(String),
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Secret::Value(_) => f.write_str("Secret(***)"),
            Secret::Env(name) => write!(f, "Secret(env {name})"),
        }
    }
}

impl Secret {
    /// The value, or an error naming the config key and variable when it was never resolved.
    fn value(&self, key: &str) -> Result<&str, AuthError> {
        match self {
            Secret::Value(v) => Ok(v),
            Secret::Env(name) => Err(AuthError::Unresolved {
                key: key.to_string(),
                variable: name.clone(),
            }),
        }
    }
}

/// The `[http]` authentication settings. Everything is off by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Auth {
    /// Extra request headers, name and value (`X-Api-Key`), sent with every request.
    pub headers: Vec<(String, Secret)>,
    /// `Authorization: Bearer <token>`.
    pub bearer_token: Option<Secret>,
    /// `Authorization: Basic …`: user and password. A password in the target URL's userinfo
    /// (`http://user:pw@host/…`) is used when this is not set.
    pub basic: Option<(String, Secret)>,
    /// Client certificate for mutual TLS: a PEM file with the certificate chain (leaf first), and
    /// the private key too when [`Auth::client_key`] is not set.
    pub client_certificate: Option<PathBuf>,
    /// The client certificate's private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub client_key: Option<PathBuf>,
    /// PEM bundle of the certificate authorities that sign the vendor's server certificate. When
    /// set, only these are trusted (a test endpoint's private CA); else the system's roots.
    pub ca_certificates: Option<PathBuf>,
}

/// Why the authentication settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// An environment variable the config names is not set.
    #[error("`{key}` names the environment variable `{variable}`, which is not set")]
    Missing {
        /// The config key (`[http] bearer-token-env`).
        key: String,
        /// The variable.
        variable: String,
    },
    /// An environment variable name was never resolved (the library was used without
    /// [`Auth::resolve`]).
    #[error(
        "`{key}` names the environment variable `{variable}`, which was not read: call `Auth::resolve`"
    )]
    Unresolved {
        /// The config key.
        key: String,
        /// The variable.
        variable: String,
    },
    /// A certificate or key file could not be read.
    #[error("failed to read `{path}` (`[http] {key}`)")]
    Read {
        /// The config key.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A certificate or key file is not usable PEM.
    #[error("`{path}` (`[http] {key}`) is not {what}")]
    Pem {
        /// The config key.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// What it should hold.
        what: &'static str,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// A header name or value cannot be sent.
    #[error("`[http] headers`: `{name}` is not a valid HTTP header name or its value is not valid")]
    Header {
        /// The header name.
        name: String,
    },
    /// The CA bundle holds no certificate.
    #[error("`{path}` (`[http] ca-certificates`) holds no PEM certificate")]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// `client-key` without `client-certificate`.
    #[error("`[http] client-key` is set without `client-certificate`")]
    KeyWithoutCertificate,
}

/// The base64 of `user:password`, as HTTP Basic authentication sends it (RFC 7617): a secret too,
/// since a vendor may echo the `Authorization` header back.
pub fn basic_credentials(user: &str, password: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

impl Auth {
    /// Reads every secret given as an environment variable name through `lookup` (the command
    /// line passes a lookup in the process environment). `lookup` returns `None` for a variable that is not set.
    ///
    /// # Errors
    /// [`AuthError::Missing`] naming the key and the variable.
    pub fn resolve(&mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<(), AuthError> {
        let fill = |secret: &mut Secret, key: String| -> Result<(), AuthError> {
            if let Secret::Env(name) = secret {
                let value = lookup(name).ok_or_else(|| AuthError::Missing {
                    key,
                    variable: name.clone(),
                })?;
                *secret = Secret::Value(value);
            }
            Ok(())
        };
        for (name, value) in &mut self.headers {
            fill(value, format!("[http] headers-env.{name}"))?;
        }
        if let Some(token) = &mut self.bearer_token {
            fill(token, "[http] bearer-token-env".into())?;
        }
        if let Some((_, password)) = &mut self.basic {
            fill(password, "[http] basic-password-env".into())?;
        }
        Ok(())
    }

    /// Every secret value known (header values, the token, the password), for redaction.
    pub fn secrets(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut add = |s: &Secret| {
            if let Secret::Value(v) = s {
                out.push(v.clone());
            }
        };
        for (_, value) in &self.headers {
            add(value);
        }
        if let Some(token) = &self.bearer_token {
            add(token);
        }
        if let Some((user, password)) = &self.basic {
            add(password);
            if let Secret::Value(v) = password {
                out.push(basic_credentials(user, v));
            }
        }
        out
    }

    /// The headers every request carries, marked sensitive so no debug output shows them; a
    /// `userinfo` (user, password) from the target URL stands in for [`Auth::basic`].
    pub(crate) fn default_headers(
        &self,
        userinfo: Option<(String, String)>,
    ) -> Result<reqwest::header::HeaderMap, AuthError> {
        use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
        let mut map = HeaderMap::new();
        let sensitive = |text: &str, name: &str| {
            let mut value = HeaderValue::from_str(text).map_err(|_| AuthError::Header {
                name: name.to_string(),
            })?;
            value.set_sensitive(true);
            Ok::<_, AuthError>(value)
        };
        for (name, value) in &self.headers {
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| AuthError::Header { name: name.clone() })?;
            let text = value.value(&format!("[http] headers-env.{name}"))?;
            map.insert(header, sensitive(text, name)?);
        }
        let basic = match &self.basic {
            Some((user, password)) => Some((
                user.clone(),
                password.value("[http] basic-password-env")?.to_string(),
            )),
            None => userinfo,
        };
        if let Some((user, password)) = basic {
            let encoded = basic_credentials(&user, &password);
            map.insert(
                AUTHORIZATION,
                sensitive(&format!("Basic {encoded}"), "Authorization")?,
            );
        }
        if let Some(token) = &self.bearer_token {
            let token = token.value("[http] bearer-token-env")?;
            map.insert(
                AUTHORIZATION,
                sensitive(&format!("Bearer {token}"), "Authorization")?,
            );
        }
        Ok(map)
    }

    /// Adds the client certificate and the CA bundle to `builder`.
    pub(crate) fn tls(
        &self,
        mut builder: reqwest::ClientBuilder,
    ) -> Result<reqwest::ClientBuilder, AuthError> {
        let read = |key: &'static str, path: &PathBuf| {
            std::fs::read(path).map_err(|source| AuthError::Read {
                key,
                path: path.clone(),
                source,
            })
        };
        match (&self.client_certificate, &self.client_key) {
            (Some(cert), key) => {
                let mut pem = read("client-certificate", cert)?;
                if let Some(key) = key {
                    pem.push(b'\n');
                    pem.extend(read("client-key", key)?);
                }
                let identity =
                    reqwest::Identity::from_pem(&pem).map_err(|source| AuthError::Pem {
                        key: "client-certificate",
                        path: cert.clone(),
                        what: "a PEM certificate with its private key (PKCS#8, PKCS#1 or SEC1)",
                        source,
                    })?;
                builder = builder.identity(identity);
            }
            (None, Some(_)) => return Err(AuthError::KeyWithoutCertificate),
            (None, None) => {}
        }
        if let Some(path) = &self.ca_certificates {
            let pem = read("ca-certificates", path)?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|source| AuthError::Pem {
                    key: "ca-certificates",
                    path: path.clone(),
                    what: "a PEM bundle of CA certificates",
                    source,
                })?;
            if certs.is_empty() {
                return Err(AuthError::NoCertificate { path: path.clone() });
            }
            builder = builder.tls_certs_only(certs);
        }
        Ok(builder)
    }
}
