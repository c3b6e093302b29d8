//! Keeping credentials out of everything the harness writes.
//!
//! Vendors authenticate the harness with a password in the endpoint URL (`http://user:pw@host`),
//! a token in its query (`?access_token=…`), a bearer token, a header or a client certificate
//! (see [`super::Auth`]). None of those may reach the console, a report or an evidence label:
//! reports are handed to MedCom and kept. Two tools do it:
//!
//! - [`redact_url`] replaces the password of a URL's userinfo and the values of query parameters
//!   that carry credentials by [`MASK`];
//! - [`Secrets`] is the set of secret strings a run knows (from the config, the environment and
//!   the target URL); [`Secrets::redact`] replaces each of them in any text. Writers apply it to
//!   whatever text they write.

use std::sync::Arc;

/// What a secret is replaced by.
pub const MASK: &str = "***";

/// Query parameter names whose values are credentials (compared ignoring ASCII case): the usual
/// OAuth and API-key names (with the OAuth authorization `code`), and signed-URL signatures.
pub const SECRET_QUERY_NAMES: [&str; 15] = [
    "token",
    "access_token",
    "id_token",
    "refresh_token",
    "auth",
    "authorization",
    "key",
    "api_key",
    "apikey",
    "password",
    "passwd",
    "secret",
    "client_secret",
    "sig",
    "code",
];

/// Whether the query parameter `name` carries a credential: one of [`SECRET_QUERY_NAMES`], or a
/// name ending in `token`, `secret`, `password` or `signature` (`X-Amz-Signature`).
fn secret_query_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_QUERY_NAMES.contains(&lower.as_str())
        || ["token", "secret", "password", "signature"]
            .iter()
            .any(|end| lower.ends_with(end))
}

/// `url` with the password of its userinfo and the values of credential query parameters (see
/// [`SECRET_QUERY_NAMES`]) replaced by [`MASK`]: `http://u:pw@h/fhir?token=abc&x=1` →
/// `http://u:***@h/fhir?token=***&x=1`. A URL without credentials comes back unchanged, byte
/// for byte; text that does not parse as a URL comes back unchanged.
pub fn redact_url(url: &str) -> String {
    // Only a userinfo (`@`) or a query (`?`) can hold a credential: the FHIR ids of every
    // message (`fullUrl`, references) need no parse.
    if !url.contains(['@', '?']) {
        return url.to_string();
    }
    let Ok(mut parsed) = reqwest::Url::parse(url) else {
        return url.to_string();
    };
    let mut changed = false;
    if parsed.password().is_some() {
        // Setting a password fails only for URLs that cannot have one, and this one has one.
        changed |= parsed.set_password(Some(MASK)).is_ok();
    }
    if parsed.query().is_some() {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if pairs.iter().any(|(k, _)| secret_query_name(k)) {
            changed = true;
            let mut query = parsed.query_pairs_mut();
            query.clear();
            for (k, v) in &pairs {
                query.append_pair(k, if secret_query_name(k) { MASK } else { v });
            }
        }
    }
    if changed {
        // `***` is kept readable rather than percent-encoded.
        parsed.as_str().replace("%2A%2A%2A", MASK)
    } else {
        url.to_string()
    }
}

/// The secret strings in `url`: the userinfo password (as written, percent-decoded, and as the
/// base64 `user:password` of HTTP Basic) and the values of credential query parameters.
pub fn secrets_in_url(url: &str) -> Vec<String> {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(password) = parsed.password() {
        out.push(password.to_string());
        out.push(percent_decode(password));
        // As HTTP Basic sends them, base64 of `user:password`, which a vendor may echo back.
        let user = percent_decode(parsed.username());
        out.push(super::auth::basic_credentials(
            &user,
            &percent_decode(password),
        ));
    }
    for (k, v) in parsed.query_pairs() {
        if secret_query_name(&k) && !v.is_empty() {
            out.push(v.into_owned());
        }
    }
    if let Some(query) = parsed.query() {
        for pair in query.split('&') {
            if let Some((k, v)) = pair.split_once('=')
                && secret_query_name(k)
                && !v.is_empty()
            {
                out.push(v.to_string());
            }
        }
    }
    out
}

/// `text` with `%XX` escapes decoded (invalid UTF-8 replaced).
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The secrets a run knows, to be replaced by [`MASK`] in any text the harness writes. Cheap to
/// clone (shared).
#[derive(Clone, Default)]
pub struct Secrets(Arc<Vec<String>>);

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} redacted)", self.0.len())
    }
}

impl Secrets {
    /// The shortest secret replaced in free text: shorter strings (a one-letter password) would
    /// turn every report into asterisks, and hide nothing an attacker could not guess anyway.
    pub const MIN_LEN: usize = 3;

    /// A set of `secrets`; empty strings and strings shorter than [`Secrets::MIN_LEN`] are left
    /// out. Longer secrets are replaced first, so a secret that contains another goes whole.
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Secrets {
        let mut all: Vec<String> = secrets
            .into_iter()
            .filter(|s| s.chars().count() >= Secrets::MIN_LEN)
            .collect();
        all.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        all.dedup();
        Secrets(Arc::new(all))
    }

    /// Whether there is nothing to redact.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `text` with every secret replaced by [`MASK`], and every URL in it passed through
    /// [`redact_url`].
    pub fn redact(&self, text: &str) -> String {
        let mut out = redact_urls_in(text);
        for secret in self.0.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
        out
    }
}

/// `text` with each `http://` or `https://` URL in it passed through [`redact_url`]. A URL ends
/// at white space or at a quote, bracket or backtick.
fn redact_urls_in(text: &str) -> String {
    if !text.contains("://") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = ["http://", "https://"]
        .iter()
        .filter_map(|scheme| rest.find(scheme))
        .min()
    {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || "`'\"<>()[]{}".contains(c))
            .unwrap_or(tail.len());
        out.push_str(&redact_url(&tail[..end]));
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_loses_its_password_and_its_token_values_and_keeps_the_rest() {
        assert_eq!(
            redact_url("http://u:S3cr3tPw@127.0.0.1:8080/fhir?token=abc123&x=1"),
            "http://u:***@127.0.0.1:8080/fhir?token=***&x=1"
        );
        assert_eq!(
            redact_url("https://h/p?access_token=t0k3n&X-Amz-Signature=ff00&apikey=k"),
            "https://h/p?access_token=***&X-Amz-Signature=***&apikey=***"
        );
        // Nothing to hide: byte for byte what came in (no normalisation).
        for clean in [
            "http://127.0.0.1:9/fhir/$process-message",
            "http://h",
            "not a url",
        ] {
            assert_eq!(redact_url(clean), clean);
        }
    }

    /// A vendor echoing the `Authorization` header back shows `Basic <base64 of user:password>`
    /// (RFC 7617); the value here is from `echo -n alice:pw | base64`.
    #[test]
    fn basic_credentials_in_the_url_are_a_secret_in_their_base64_form_too() {
        let secrets = Secrets::new(secrets_in_url("http://alice:pw@h/fhir"));
        let redacted = secrets.redact("bad auth: Basic YWxpY2U6cHc=");
        assert!(!redacted.contains("YWxpY2U6cHc="), "{redacted}");
    }

    /// The value is from `echo -n u:BASICPW999 | base64`, as a vendor echoing the header shows it.
    #[test]
    fn a_configured_basic_password_is_a_secret_in_its_base64_form_too() {
        use crate::transport::{Auth, Secret};
        let auth = Auth {
            basic: Some(("u".into(), Secret::Value("BASICPW999".into()))),
            ..Auth::default()
        };
        let secrets = Secrets::new(auth.secrets());
        let redacted = secrets.redact("bad auth: Basic dTpCQVNJQ1BXOTk5");
        assert!(!redacted.contains("dTpCQVNJQ1BXOTk5"), "{redacted}");
    }

    #[test]
    fn secrets_are_replaced_in_free_text_and_urls_in_it_are_redacted() {
        let secrets = Secrets::new(
            ["Bearer-t0ken-XYZ".to_string(), "ab".to_string()]
                .into_iter()
                .chain(secrets_in_url("http://u:p%40ss%21w@h/?sig=abcd")),
        );
        let text = "sent with Bearer-t0ken-XYZ to `http://u:p%40ss%21w@h/?sig=abcd`, password p@ss!w; ab stays";
        let redacted = secrets.redact(text);
        for leak in ["t0ken", "p%40ss", "p@ss!w", "abcd"] {
            assert!(!redacted.contains(leak), "{leak} in {redacted}");
        }
        assert!(redacted.contains("ab stays"), "{redacted}");
        assert!(redacted.contains("http://u:***@h/?sig=***"), "{redacted}");
    }
}
