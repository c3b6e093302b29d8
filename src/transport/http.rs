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

    /// POSTs `message` with its media type; returns what came back.
    pub async fn send(&self, message: &Message) -> Delivery {
        let result = self
            .client
            .post(&self.target)
            .header(
                header::CONTENT_TYPE,
                format!("{}; charset=utf-8", message.format.media_type()),
            )
            .header(header::ACCEPT, message.format.media_type())
            .body(message.bytes.clone())
            .send()
            .await;
        match result {
            Ok(response) => {
                let status = response.status().as_u16();
                let content_type = response
                    .headers()
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                match response.bytes().await {
                    Ok(body) => Delivery {
                        status: Some(status),
                        body: body.to_vec(),
                        content_type,
                        failure: None,
                    },
                    Err(e) => Delivery {
                        status: Some(status),
                        body: Vec::new(),
                        content_type,
                        failure: Some(format!("the response body broke off: {e}")),
                    },
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

    /// GETs `url`; `None` when it does not answer 2xx.
    pub async fn get(&self, url: &str) -> Option<String> {
        let response = self.client.get(url).send().await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        response.text().await.ok()
    }
}

fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "no response within the request timeout".to_string()
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
    body: Bytes,
) -> impl IntoResponse {
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    inbox.push(
        Origin::Delivered {
            path: uri.path().to_string(),
        },
        body.to_vec(),
        media_type,
    );
    StatusCode::ACCEPTED
}
