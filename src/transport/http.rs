//! HTTP transport: the client that POSTs to the vendor, and the listener the vendor delivers to.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::IntoResponse;
use std::net::SocketAddr;
use std::time::Duration;

use super::inbox::{Inbox, Origin};
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
}

/// The result of one POST to the vendor, as data: a failed connection is a finding, not an error.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The HTTP status, or `None` when no response came.
    pub status: Option<u16>,
    /// The response body (may be empty).
    pub body: Vec<u8>,
    /// The response `Content-Type`.
    pub content_type: String,
    /// Why no response came (connection refused, timeout).
    pub failure: Option<String>,
}

/// The client side: POSTs messages to the vendor's endpoint.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    target: String,
}

impl HttpTransport {
    /// A client for `target` (the vendor endpoint URL) with a per-request `timeout`.
    ///
    /// # Errors
    /// [`TransportError::Client`].
    pub fn new(target: &str, timeout: Duration) -> Result<HttpTransport, TransportError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .no_proxy()
            .build()
            .map_err(TransportError::Client)?;
        Ok(HttpTransport {
            client,
            target: target.to_string(),
        })
    }

    /// The endpoint.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// POSTs `message` with its media type to the endpoint; returns what came back.
    pub async fn send(&self, message: &Message) -> Delivery {
        self.send_to(&self.target, message).await
    }

    /// POSTs `message` with its media type to `url`; returns what came back.
    pub async fn send_to(&self, url: &str, message: &Message) -> Delivery {
        let result = self
            .client
            .post(url)
            .header(
                header::CONTENT_TYPE,
                format!("{}; charset=utf-8", message.format.media_type()),
            )
            .header(header::ACCEPT, message.format.media_type())
            .body(message.bytes.clone())
            .send()
            .await;
        match result {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let content_type = response
                    .headers()
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                // Read at most MAX_BODY_BYTES; keep what came when the body breaks off.
                let mut body = Vec::new();
                let mut failure = None;
                loop {
                    match response.chunk().await {
                        Ok(Some(chunk)) => {
                            if body.len() + chunk.len() > crate::MAX_BODY_BYTES {
                                failure = Some(format!(
                                    "the response body is larger than {} bytes; the harness kept the first {} bytes",
                                    crate::MAX_BODY_BYTES,
                                    body.len()
                                ));
                                break;
                            }
                            body.extend_from_slice(&chunk);
                        }
                        Ok(None) => break,
                        Err(e) => {
                            failure = Some(format!(
                                "the response body broke off after {} bytes: {}",
                                body.len(),
                                describe(&e)
                            ));
                            break;
                        }
                    }
                }
                Delivery {
                    status: Some(status),
                    body,
                    content_type,
                    failure,
                }
            }
            Err(e) => Delivery {
                status: None,
                body: Vec::new(),
                content_type: String::new(),
                failure: Some(describe(&e)),
            },
        }
    }

    /// POSTs a JSON control request (reference vendor only) and returns status and body.
    pub async fn post_json(
        &self,
        url: &str,
        body: &serde_json::Value,
    ) -> Result<(u16, String), String> {
        let response = self
            .client
            .post(url)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| describe(&e))?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| describe(&e))?;
        Ok((status, text))
    }

    /// GETs `url` with a 3-second limit; `None` when it does not answer 2xx in time.
    pub async fn get(&self, url: &str) -> Option<String> {
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
        response.text().await.ok()
    }
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

/// The harness's listener: accepts POSTed messages on any path into the [`Inbox`].
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

    /// The URL vendors deliver to.
    pub fn url(&self) -> String {
        format!("http://{}/fhir", self.addr)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

async fn receive(
    State(inbox): State<Inbox>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> axum::response::Response {
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
    inbox.push_parsed(
        Origin::Delivered {
            path: uri.path().to_string(),
        },
        body.to_vec(),
        media_type,
        parsed,
        false,
        None,
    );
    match problem {
        None => StatusCode::ACCEPTED.into_response(),
        Some(e) => outcome(StatusCode::BAD_REQUEST, e),
    }
}
