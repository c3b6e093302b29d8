//! HTTP transport: the client that POSTs to the vendor, and the listener the vendor delivers to.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::IntoResponse;
use std::net::SocketAddr;
use std::time::Duration;

use super::auth::{Auth, AuthError};
use super::inbox::{Inbox, Origin};
use super::redact::{self, Secrets, redact_url};
use crate::message::Message;

/// Why the harness could not talk HTTP.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The listener could not bind.
    #[error("failed to listen on `{addr}`")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP client could not be built.
    #[error("failed to set up the HTTP client")]
    Client(#[source] reqwest::Error),
    /// The `[http]` authentication settings cannot be used.
    #[error("failed to set up authentication to the vendor")]
    Auth(#[source] AuthError),
}

/// The largest body of the start-up probe (`GET <origin>/_harness`) and of answers from a
/// reference vendor's control endpoint, in bytes: they are a few hundred bytes of JSON, and an
/// endpoint that streams without end must not grow the harness's memory.
pub const PROBE_LIMIT: usize = 64 * 1024;

/// The `[http]` settings: how much of a response is read, and how the harness authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// The largest response body read from the vendor, in bytes; the rest is not read and the
    /// response is a finding. Default [`crate::MAX_BODY_BYTES`] (MedCom's 100 MB limit on an
    /// enveloped message, plus encoding overhead).
    pub body_limit: usize,
    /// Headers, tokens, basic auth, client certificate and CAs.
    pub auth: Auth,
}

impl Default for HttpSettings {
    fn default() -> HttpSettings {
        HttpSettings {
            body_limit: crate::MAX_BODY_BYTES,
            auth: Auth::default(),
        }
    }
}

/// The result of one POST to the vendor, as data: a failed connection is a finding, not an error.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The HTTP status, or `None` when no response came.
    pub status: Option<u16>,
    /// The response body (may be empty); at most the body limit.
    pub body: Vec<u8>,
    /// The response `Content-Type`.
    pub content_type: String,
    /// Why no (whole) response came (connection refused, timeout, a body over the limit), or
    /// where a redirect pointed, which the harness does not follow. Secrets are redacted.
    pub failure: Option<String>,
}

/// The client side: POSTs messages to the vendor's endpoint.
///
/// Redirects are never followed: following one would send the message, with patient data, to
/// a host nobody configured. Every response body is read chunk by chunk up to a limit. A user
/// and password in the target URL are sent as basic auth and never appear in what the transport
/// reports ([`HttpTransport::target`] is redacted).
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    /// The endpoint as requested: without userinfo, with its query.
    url: String,
    /// The endpoint as shown: [`redact_url`] of the target.
    label: String,
    secrets: Secrets,
    body_limit: usize,
}

impl HttpTransport {
    /// A client for `target` (the vendor endpoint URL) with a per-request `timeout` and no
    /// authentication.
    ///
    /// # Errors
    /// [`TransportError::Client`].
    pub fn new(target: &str, timeout: Duration) -> Result<HttpTransport, TransportError> {
        HttpTransport::with_settings(target, timeout, &HttpSettings::default())
    }

    /// A client for `target` with a per-request `timeout`, authenticating as `settings` say.
    ///
    /// # Errors
    /// [`TransportError::Auth`] when a secret was not resolved or a certificate file is not
    /// usable; [`TransportError::Client`] when the client cannot be built (a key that does not
    /// fit its certificate).
    pub fn with_settings(
        target: &str,
        timeout: Duration,
        settings: &HttpSettings,
    ) -> Result<HttpTransport, TransportError> {
        let (url, userinfo) = split_userinfo(target);
        let headers = settings
            .auth
            .default_headers(userinfo)
            .map_err(TransportError::Auth)?;
        let builder = reqwest::Client::builder()
            .timeout(timeout)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers);
        let client = settings
            .auth
            .tls(builder)
            .map_err(TransportError::Auth)?
            .build()
            .map_err(TransportError::Client)?;
        let secrets = Secrets::new(
            settings
                .auth
                .secrets()
                .into_iter()
                .chain(redact::secrets_in_url(target)),
        );
        Ok(HttpTransport {
            client,
            url,
            label: redact_url(target),
            secrets,
            body_limit: settings.body_limit,
        })
    }

    /// The endpoint as requested (without userinfo): never print it, it may hold query tokens;
    /// see [`HttpTransport::target`].
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The endpoint, redacted: safe to print and to put in a report.
    pub fn target(&self) -> &str {
        &self.label
    }

    /// The secrets this transport knows (configured credentials, the target URL's password and
    /// query tokens), for writers to redact.
    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// POSTs `message` with its media type to the endpoint; returns what came back. A redirect
    /// is not followed: its `failure` names the `Location`.
    pub async fn send(&self, message: &Message) -> Delivery {
        self.send_to(&self.url, message).await
    }

    /// POSTs `message` with its media type to `url`, with this transport's authentication and
    /// limits; returns what came back. A redirect is not followed.
    pub async fn send_to(&self, url: &str, message: &Message) -> Delivery {
        self.post_message(url, message.format, message.bytes.clone().into())
            .await
    }

    /// As [`HttpTransport::send_to`] for a message the caller shares: the body is sent from the
    /// message's own bytes, not a copy of them (a 100 MB attachment stays one buffer).
    pub async fn send_shared(&self, url: &str, message: &std::sync::Arc<Message>) -> Delivery {
        let body = Bytes::from_owner(SharedBody(std::sync::Arc::clone(message)));
        self.post_message(url, message.format, body.into()).await
    }

    async fn post_message(
        &self,
        url: &str,
        format: crate::message::Format,
        body: reqwest::Body,
    ) -> Delivery {
        let result = self
            .client
            .post(url)
            .header(
                header::CONTENT_TYPE,
                format!("{}; charset=utf-8", format.media_type()),
            )
            .header(header::ACCEPT, format.media_type())
            .body(body)
            .send()
            .await;
        match result {
            Ok(response) => {
                let status = response.status();
                let content_type = response
                    .headers()
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                let redirect = status.is_redirection().then(|| {
                    let location = response
                        .headers()
                        .get(header::LOCATION)
                        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
                    match location {
                        Some(l) => format!(
                            "a redirect to `{}`, which the harness did not follow: a message is sent only to the configured endpoint",
                            self.secrets.redact(&l)
                        ),
                        None => "a redirect without a `Location`, which the harness did not follow".to_string(),
                    }
                });
                let (body, cut) = self.read_limited(response, self.body_limit).await;
                Delivery {
                    status: Some(status.as_u16()),
                    body,
                    content_type,
                    failure: redirect.or(cut),
                }
            }
            Err(e) => Delivery {
                status: None,
                body: Vec::new(),
                content_type: String::new(),
                failure: Some(self.describe(&e)),
            },
        }
    }

    /// POSTs a JSON control request (reference vendor only) and returns status and body (at
    /// most [`PROBE_LIMIT`] bytes of it).
    pub async fn post_json(
        &self,
        url: &str,
        body: &serde_json::Value,
    ) -> Result<(u16, String), String> {
        let (url, _) = split_userinfo(url);
        let response = self
            .client
            .post(url)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| self.describe(&e))?;
        let status = response.status().as_u16();
        let (bytes, cut) = self.read_limited(response, PROBE_LIMIT).await;
        if let Some(cut) = cut {
            return Err(cut);
        }
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// GETs `url` with a 3-second limit; `None` when it does not answer 2xx in time. Reads at
    /// most [`PROBE_LIMIT`] bytes: this is the start-up probe, and whatever a vendor streams
    /// beyond that is not read.
    pub async fn get(&self, url: &str) -> Option<String> {
        let (url, _) = split_userinfo(url);
        let response = self
            .client
            .get(url)
            .timeout(Duration::from_secs(3))
            .send()
            .await
            .ok()?;
        if !response.status().is_success() {
            return None;
        }
        let (bytes, _) = self.read_limited(response, PROBE_LIMIT).await;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Reads `response`'s body chunk by chunk, at most `limit` bytes; what came is kept when the
    /// body is larger or breaks off, and the second value says why it is not whole.
    async fn read_limited(
        &self,
        mut response: reqwest::Response,
        limit: usize,
    ) -> (Vec<u8>, Option<String>) {
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > limit {
                        let room = limit - body.len();
                        body.extend_from_slice(&chunk[..room]);
                        return (
                            body,
                            Some(format!(
                                "the response body is larger than the limit of {limit} bytes; the harness read only that much"
                            )),
                        );
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => return (body, None),
                Err(e) => {
                    let why = format!(
                        "the response body broke off after {} bytes: {}",
                        body.len(),
                        self.describe(&e)
                    );
                    return (body, Some(why));
                }
            }
        }
    }

    /// A reqwest error as one line, its causes appended, secrets redacted.
    fn describe(&self, e: &reqwest::Error) -> String {
        self.secrets.redact(&describe(e))
    }
}

/// `url` without its userinfo, and the userinfo as (user, password), percent-decoded. A URL that
/// does not parse comes back as it is.
fn split_userinfo(url: &str) -> (String, Option<(String, String)>) {
    let Ok(mut parsed) = reqwest::Url::parse(url) else {
        return (url.to_string(), None);
    };
    if parsed.username().is_empty() && parsed.password().is_none() {
        return (url.to_string(), None);
    }
    let decode = redact::percent_decode;
    let userinfo = (
        decode(parsed.username()),
        decode(parsed.password().unwrap_or("")),
    );
    // Clearing userinfo fails only for URLs that cannot have one, and this one has one.
    let _ = parsed.set_username("");
    let _ = parsed.set_password(None);
    (parsed.to_string(), Some(userinfo))
}

fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "nothing more within the request timeout".to_string()
    } else if e.is_connect() {
        "could not connect".to_string()
    } else {
        e.to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

/// The harness's listener: accepts POSTed messages on any path into the [`Inbox`], and serves
/// `GET [base]/Bundle/{id}` from the Bundles the inbox holds ([`Inbox::serve`]).
#[derive(Debug)]
pub struct Listener {
    /// The bound address.
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Listener {
    /// Binds `addr` and serves until dropped.
    ///
    /// # Errors
    /// [`TransportError::Bind`].
    pub async fn start(addr: SocketAddr, inbox: Inbox) -> Result<Listener, TransportError> {
        let socket = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| TransportError::Bind { addr, source })?;
        let bound = socket
            .local_addr()
            .map_err(|source| TransportError::Bind { addr, source })?;
        let app = axum::Router::new()
            .fallback(receive)
            .layer(axum::extract::DefaultBodyLimit::max(crate::MAX_BODY_BYTES))
            .with_state(inbox);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(socket, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Listener {
            addr: bound,
            shutdown: Some(tx),
        })
    }

    /// The URL vendors deliver to. A listener on every interface (`0.0.0.0`, `::`) is not
    /// reached at that address: the URL names this machine's address on the network it routes
    /// through by default ([`reachable_ip`]).
    pub fn url(&self) -> String {
        let addr = SocketAddr::new(reachable_ip(self.addr.ip()), self.addr.port());
        format!("http://{addr}/fhir")
    }
}

/// An address a vendor can reach the harness at when it listens on `ip`: `ip` itself unless it
/// is unspecified (`0.0.0.0`, `::`); then the local address the system routes outward through
/// (found by connecting a UDP socket, which sends nothing), else loopback, which serves a vendor
/// on the same machine.
pub fn reachable_ip(ip: std::net::IpAddr) -> std::net::IpAddr {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, UdpSocket};
    if !ip.is_unspecified() {
        return ip;
    }
    // A documentation address (RFC 5737 / RFC 3849): no packet is sent by `connect` on UDP.
    let (bind, probe, loopback): (IpAddr, IpAddr, IpAddr) = if ip.is_ipv4() {
        (
            Ipv4Addr::UNSPECIFIED.into(),
            Ipv4Addr::new(192, 0, 2, 1).into(),
            Ipv4Addr::LOCALHOST.into(),
        )
    } else {
        (
            Ipv6Addr::UNSPECIFIED.into(),
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).into(),
            Ipv6Addr::LOCALHOST.into(),
        )
    };
    UdpSocket::bind((bind, 0))
        .and_then(|s| s.connect((probe, 9)).and_then(|()| s.local_addr()))
        .map(|a| a.ip())
        .ok()
        .filter(|a| !a.is_unspecified())
        .unwrap_or(loopback)
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// `GET [base]/Bundle/{id}`: the Bundle the harness holds under that id (a fixture a receive
/// TestScript stored and delivered, for vendors that pull), or `404` with an OperationOutcome.
/// `None` when the request is not such a GET.
fn pull(inbox: &Inbox, method: &axum::http::Method, uri: &Uri) -> Option<axum::response::Response> {
    if method != axum::http::Method::GET {
        return None;
    }
    let (before, id) = uri.path().trim_end_matches('/').rsplit_once('/')?;
    if !before.ends_with("/Bundle") || id.is_empty() {
        return None;
    }
    Some(match inbox.served(id) {
        Some((bytes, media_type)) => {
            (StatusCode::OK, [(header::CONTENT_TYPE, media_type)], bytes).into_response()
        }
        None => {
            let body = serde_json::json!({
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "not-found",
                           "diagnostics": format!("the harness holds no Bundle `{id}`")}]
            });
            (
                StatusCode::NOT_FOUND,
                [(header::CONTENT_TYPE, "application/fhir+json".to_string())],
                body.to_string().into_bytes(),
            )
                .into_response()
        }
    })
}

async fn receive(
    State(inbox): State<Inbox>,
    method: axum::http::Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> axum::response::Response {
    if let Some(answer) = pull(&inbox, &method, &uri) {
        return answer;
    }
    let outcome = |status: StatusCode, text: String| {
        let body = serde_json::json!({
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "structure", "diagnostics": text}]
        });
        (
            status,
            [(header::CONTENT_TYPE, "application/fhir+json")],
            body.to_string(),
        )
            .into_response()
    };
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            let text = format!(
                "the body could not be read ({e}); the limit is {} bytes",
                crate::MAX_BODY_BYTES
            );
            // Kept as evidence: a vendor that tried to deliver something is part of the record.
            inbox.push(
                Origin::Delivered {
                    path: uri.path().to_string(),
                },
                text.clone().into_bytes(),
                "text/plain".into(),
            );
            return outcome(e.status(), text);
        }
    };
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let hint = crate::message::Format::from_content_type(&media_type);
    let parsed = Message::parse(body.to_vec(), hint).map_err(|e| e.to_string());
    let problem = parsed.as_ref().err().cloned();
    // Kept with the message: a TestScript's `headerField` asserts read the vendor's headers.
    // Credentials are never kept.
    let kept: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| {
            !matches!(
                name.as_str(),
                "authorization" | "proxy-authorization" | "cookie"
            )
        })
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    inbox.push_with_headers(
        Origin::Delivered {
            path: uri.path().to_string(),
        },
        body.to_vec(),
        media_type,
        parsed,
        kept,
    );
    match problem {
        None => StatusCode::ACCEPTED.into_response(),
        Some(e) => outcome(StatusCode::BAD_REQUEST, e),
    }
}

/// A shared message's bytes as an HTTP body.
struct SharedBody(std::sync::Arc<Message>);

impl AsRef<[u8]> for SharedBody {
    fn as_ref(&self) -> &[u8] {
        &self.0.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::Secret;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A raw HTTP/1.1 server on 127.0.0.1:0 that answers every request with `head` (status line
    /// and headers, no body length) and then `body` repeated until `repeat` times or, for
    /// `None`, without end. Returns its URL, the requests it saw (head only) and a request count.
    async fn server(
        head: String,
        body: &'static [u8],
        repeat: Option<usize>,
    ) -> (String, Arc<std::sync::Mutex<Vec<String>>>, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let count = Arc::new(AtomicUsize::new(0));
        let (seen2, count2) = (Arc::clone(&seen), Arc::clone(&count));
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let head = head.clone();
                let (seen, count) = (Arc::clone(&seen2), Arc::clone(&count2));
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    count.fetch_add(1, Ordering::SeqCst);
                    seen.lock()
                        .expect("lock")
                        .push(String::from_utf8_lossy(&request).into_owned());
                    if socket.write_all(head.as_bytes()).await.is_err() {
                        return;
                    }
                    let mut sent = 0;
                    while repeat.is_none_or(|r| sent < r) {
                        if socket.write_all(body).await.is_err() {
                            return;
                        }
                        sent += 1;
                    }
                    let _ = socket.shutdown().await;
                });
            }
        });
        (url, seen, count)
    }

    fn message() -> Message {
        crate::template::sample_message()
    }

    /// The "serves `GET [base]/Bundle/{id}` for vendors that pull": the bytes pulled are
    /// the bytes the harness holds (as a receive TestScript stored and delivered them); an
    /// unknown id is FHIR's `404` with an OperationOutcome (FHIR R4 http.html, read).
    #[tokio::test]
    async fn a_pulled_bundle_is_the_stored_fixture_and_an_unknown_id_is_404() {
        let inbox = Inbox::new();
        let listener = Listener::start("127.0.0.1:0".parse().expect("addr"), inbox.clone())
            .await
            .expect("listener");
        let fixture = message();
        let id = fixture.identity.envelope_id.clone().expect("a Bundle.id");
        inbox.serve(&id, fixture.bytes.clone(), "application/fhir+json".into());
        let client = reqwest::Client::new();
        let got = client
            .get(format!("{}/Bundle/{id}", listener.url()))
            .send()
            .await
            .expect("GET");
        assert_eq!(got.status().as_u16(), 200);
        assert_eq!(
            got.headers()[header::CONTENT_TYPE.as_str()],
            "application/fhir+json"
        );
        assert_eq!(got.bytes().await.expect("body").to_vec(), fixture.bytes);
        let missing = client
            .get(format!("{}/Bundle/no-such-bundle", listener.url()))
            .send()
            .await
            .expect("GET");
        assert_eq!(missing.status().as_u16(), 404);
        let outcome: serde_json::Value = missing.json().await.expect("JSON");
        assert_eq!(outcome["resourceType"], "OperationOutcome");
        assert_eq!(outcome["issue"][0]["code"], "not-found");
        // A GET is no delivery: nothing reached the inbox.
        assert!(
            inbox
                .claim(Duration::from_millis(50), |_| true)
                .await
                .is_none()
        );
    }

    #[tokio::test]
    async fn the_start_up_probe_reads_at_most_64_kib_of_an_endless_answer() {
        let (url, _, _) = server(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n".into(),
            &[b'x'; 8192],
            None,
        )
        .await;
        let http = HttpTransport::new(&url, Duration::from_secs(30)).expect("client");
        let started = std::time::Instant::now();
        let body = http
            .get(&format!("{url}/_harness"))
            .await
            .expect("an answer");
        assert_eq!(body.len(), PROBE_LIMIT);
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[tokio::test]
    async fn a_response_body_is_read_up_to_the_configured_limit_only() {
        let (url, _, _) = server(
            "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nConnection: close\r\n\r\n"
                .into(),
            &[b' '; 4096],
            None,
        )
        .await;
        let settings = HttpSettings {
            body_limit: 10_000,
            ..HttpSettings::default()
        };
        let http =
            HttpTransport::with_settings(&url, Duration::from_secs(30), &settings).expect("client");
        let delivery = http.send(&message()).await;
        assert_eq!(delivery.status, Some(200));
        assert_eq!(delivery.body.len(), 10_000);
        let failure = delivery.failure.expect("the cut is reported");
        assert!(failure.contains("10000 bytes"), "{failure}");
    }

    #[tokio::test]
    async fn a_redirect_is_not_followed_and_names_its_location() {
        let (elsewhere, _, hits) = server(
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".into(),
            b"",
            Some(0),
        )
        .await;
        let location = format!("{elsewhere}/steal?token=abc123");
        let (url, _, posts) = server(
            format!("HTTP/1.1 307 Temporary Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n"),
            b"",
            Some(0),
        )
        .await;
        let http =
            HttpTransport::new(&format!("{url}/fhir"), Duration::from_secs(10)).expect("client");
        let delivery = http.send(&message()).await;
        assert_eq!(delivery.status, Some(307));
        let failure = delivery.failure.expect("a finding's text");
        assert!(
            failure.contains(&format!("{elsewhere}/steal?token=***")),
            "{failure}"
        );
        assert!(failure.contains("did not follow"), "{failure}");
        assert!(!failure.contains("abc123"), "{failure}");
        assert_eq!(posts.load(Ordering::SeqCst), 1);
        assert_eq!(
            hits.load(Ordering::SeqCst),
            0,
            "nothing went to the other host"
        );
    }

    #[tokio::test]
    async fn credentials_are_sent_as_configured_and_never_shown() {
        let ok = "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n".to_string();
        // User and password in the URL: basic auth; base64("u:S3cr3tPw") by `base64(1)`.
        let (url, seen, _) = server(ok.clone(), b"", Some(0)).await;
        let target = url.replace("http://", "http://u:S3cr3tPw@") + "/fhir?access_token=t0k";
        let http = HttpTransport::new(&target, Duration::from_secs(10)).expect("client");
        assert_eq!(
            http.target(),
            format!("{url}/fhir?access_token=***").replace("http://", "http://u:***@")
        );
        http.send(&message()).await;
        let request = seen.lock().expect("lock")[0].clone();
        assert!(
            request.contains("authorization: Basic dTpTM2NyM3RQdw==\r\n"),
            "{request}"
        );
        assert!(
            request.starts_with("POST /fhir?access_token=t0k "),
            "{request}"
        );
        assert!(!request.contains("S3cr3tPw"), "{request}");

        // A bearer token and a header from the config.
        let (url, seen, _) = server(ok, b"", Some(0)).await;
        let settings = HttpSettings {
            auth: Auth {
                headers: vec![("X-Api-Key".into(), Secret::Value("k3y-value".into()))],
                bearer_token: Some(Secret::Value("t0ken-value".into())),
                ..Auth::default()
            },
            ..HttpSettings::default()
        };
        let http =
            HttpTransport::with_settings(&url, Duration::from_secs(10), &settings).expect("client");
        http.send(&message()).await;
        let request = seen.lock().expect("lock")[0].to_ascii_lowercase();
        assert!(
            request.contains("authorization: bearer t0ken-value\r\n"),
            "{request}"
        );
        assert!(request.contains("x-api-key: k3y-value\r\n"), "{request}");
        let redacted = http.secrets().redact("sent t0ken-value and k3y-value");
        assert_eq!(redacted, "sent *** and ***");
    }

    #[test]
    fn an_unresolved_or_bad_credential_is_a_clear_error() {
        let settings = |auth: Auth| HttpSettings {
            auth,
            ..HttpSettings::default()
        };
        let unresolved = settings(Auth {
            bearer_token: Some(Secret::Env("VENDOR_TOKEN".into())),
            ..Auth::default()
        });
        let e = HttpTransport::with_settings("http://h/", Duration::from_secs(1), &unresolved)
            .expect_err("not resolved");
        let text = format!("{e}: {}", std::error::Error::source(&e).expect("cause"));
        assert!(text.contains("VENDOR_TOKEN"), "{text}");

        let mut auth = unresolved.auth.clone();
        let e = auth.resolve(|_| None).expect_err("not set");
        assert!(e.to_string().contains("`VENDOR_TOKEN`"), "{e}");
        auth.resolve(|name| (name == "VENDOR_TOKEN").then(|| "from-env".to_string()))
            .expect("set");
        assert_eq!(auth.bearer_token, Some(Secret::Value("from-env".into())));

        let dir = tempfile::tempdir().expect("tmp");
        let bad = dir.path().join("bad.pem");
        std::fs::write(&bad, "-----BEGIN CERTIFICATE-----\nnot base64\n").expect("write");
        let e = HttpTransport::with_settings(
            "https://h/",
            Duration::from_secs(1),
            &settings(Auth {
                client_certificate: Some(bad.clone()),
                ..Auth::default()
            }),
        )
        .expect_err("bad PEM");
        assert!(e.to_string().contains("authentication"), "{e}");
        let cause = std::error::Error::source(&e).expect("cause").to_string();
        assert!(
            cause.contains("bad.pem") && cause.contains("client-certificate"),
            "{cause}"
        );
    }

    #[test]
    fn a_listener_on_every_interface_prints_an_address_a_vendor_can_reach() {
        let ip = reachable_ip("0.0.0.0".parse().expect("ip"));
        assert!(!ip.is_unspecified(), "{ip}");
        assert_eq!(
            reachable_ip("127.0.0.1".parse().expect("ip")),
            std::net::IpAddr::from([127, 0, 0, 1])
        );
    }

    /// A TLS server on 127.0.0.1:0 with the test server certificate that requires a client
    /// certificate signed by the test CA, and answers each request `202`. Returns its URL.
    async fn mtls_server() -> String {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let tls = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for ca in CertificateDer::pem_file_iter(tls.join("ca.pem")).expect("ca.pem") {
            roots
                .add(ca.expect("a CA certificate"))
                .expect("a usable CA");
        }
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::clone(&provider),
        )
        .build()
        .expect("client verifier");
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(tls.join("server.pem"))
                .expect("server.pem")
                .map(|c| c.expect("a certificate"))
                .collect();
        let key = PrivateKeyDer::from_pem_file(tls.join("server.key")).expect("server.key");
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .expect("server config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("https://{}/fhir", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // A client without a certificate fails the handshake here.
                    let Ok(mut stream) = acceptor.accept(socket).await else {
                        return;
                    };
                    let mut request = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let _ = stream
                        .write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        .await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        url
    }

    #[tokio::test]
    async fn mutual_tls_presents_the_configured_client_certificate() {
        let tls = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
        let url = mtls_server().await;
        let with = HttpSettings {
            auth: Auth {
                client_certificate: Some(tls.join("client.pem")),
                client_key: Some(tls.join("client.key")),
                ca_certificates: Some(tls.join("ca.pem")),
                ..Auth::default()
            },
            ..HttpSettings::default()
        };
        let http =
            HttpTransport::with_settings(&url, Duration::from_secs(10), &with).expect("client");
        let delivery = http.send(&message()).await;
        assert_eq!(delivery.status, Some(202), "{:?}", delivery.failure);

        // The same server without a client certificate: the handshake fails, no response.
        let without = HttpSettings {
            auth: Auth {
                ca_certificates: Some(tls.join("ca.pem")),
                ..Auth::default()
            },
            ..HttpSettings::default()
        };
        let http =
            HttpTransport::with_settings(&url, Duration::from_secs(10), &without).expect("client");
        let delivery = http.send(&message()).await;
        assert_eq!(
            delivery.status, None,
            "refused without a client certificate"
        );
    }
}
