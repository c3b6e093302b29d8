//! The reference vendor's HTTP front: messages POSTed to any path, answered in the response or
//! later; the control endpoints of [`super::control`].

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::sync::Arc;
use std::time::Duration;

use super::Fault;
use super::control::{self, Hello, Instruction, Session};
use super::vendor::{AckDelivery, Vendor};
use crate::message::{Format, Message};
use crate::transport::Route;

/// The routes: the control endpoints, and every other path takes messages.
pub(super) fn router(vendor: Arc<Vendor>) -> Router {
    Router::new()
        .route(control::HELLO_PATH, get(hello))
        .route(control::INSTRUCT_PATH, post(instruct))
        .route(control::SESSION_PATH, post(session))
        .route(super::script::SCRIPT_PATH, post(script))
        .fallback(receive)
        .layer(axum::extract::DefaultBodyLimit::max(crate::MAX_BODY_BYTES))
        .with_state(vendor)
}

async fn hello(State(v): State<Arc<Vendor>>) -> impl IntoResponse {
    let body = Hello {
        product: control::PRODUCT.to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        fault: v.config.fault.map(|f| f.name().to_string()),
    };
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string(&body).unwrap_or_default(),
    )
}

fn fhir_response(status: StatusCode, message: Message) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, message.format.media_type())],
        message.bytes,
    )
        .into_response()
}

fn outcome_response(status: StatusCode, text: &str) -> Response {
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
}

async fn receive(
    State(v): State<Arc<Vendor>>,
    method: axum::http::Method,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    if method != axum::http::Method::POST {
        return outcome_response(
            StatusCode::METHOD_NOT_ALLOWED,
            "POST a FHIR message (Bundle of type message) to any path",
        );
    }
    let body = match read_body(&headers, body).await {
        Ok(b) => b,
        Err(response) => return response,
    };
    let hint = headers
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .and_then(Format::from_content_type);
    let message = match Message::parse(body, hint) {
        Ok(m) => m,
        Err(e) => return outcome_response(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    if message.is_acknowledgement() {
        // KR2: an acknowledgement is never acknowledged. It stops the resends of what it answers.
        // MedCom's Acknowledgement TestScripts POST acknowledgements and expect 200 or 201.
        v.note_ack(&message);
        return StatusCode::OK.into_response();
    }
    // Only a logging vendor (`serve`) writes the label.
    let label = if v.config.log {
        message.label()
    } else {
        String::new()
    };
    let ack = match v.answer(message) {
        Ok(ack) => ack,
        Err(e) => return outcome_response(StatusCode::INTERNAL_SERVER_ERROR, &e),
    };
    // The no-ack fault processes the message (so it can be replied to) but never answers.
    if v.has(Fault::NoAck) {
        if v.config.log {
            log_line(format_args!(
                "received {label}; not acknowledged (fault no-ack)"
            ));
        }
        return StatusCode::ACCEPTED.into_response();
    }
    if v.config.log {
        log_line(format_args!(
            "received {label}; acknowledged `{}`",
            ack.identity
                .response
                .as_ref()
                .and_then(|r| r.code.as_deref())
                .unwrap_or("?")
        ));
    }
    if v.config.ack_delivery == AckDelivery::Later {
        let target = v.deliver_to.lock().ok().and_then(|t| t.clone());
        if let Some(url) = target {
            let vendor = v.clone();
            tokio::spawn(async move {
                // A short pause, so the acknowledgement really arrives after the HTTP response.
                tokio::time::sleep(Duration::from_millis(20)).await;
                let _ = vendor.send(&Route::Http(url), &ack).await;
            });
            return StatusCode::ACCEPTED.into_response();
        }
    }
    fhir_response(StatusCode::OK, ack)
}

/// One line of `serve`'s log on stderr, written at once: stderr is unbuffered, and `eprintln!`
/// wrote each piece of the line with its own system call.
fn log_line(line: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let mut text = line.to_string();
    text.push('\n');
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// The body of a POSTed message, read frame by frame into one buffer of its `Content-Length`:
/// a 100 MB message is held once, not as its frames plus the one copy collecting them makes.
/// Over [`crate::MAX_BODY_BYTES`]: `413 Payload Too Large` with an OperationOutcome.
async fn read_body(headers: &HeaderMap, mut body: axum::body::Body) -> Result<Vec<u8>, Response> {
    use http_body_util::BodyExt as _;
    let limit = crate::MAX_BODY_BYTES;
    let too_large = |what: &str| {
        outcome_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("the body could not be read ({what}); the limit is {limit} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large("Content-Length is over the limit"));
    }
    let mut out = Vec::with_capacity(declared.unwrap_or(0));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            outcome_response(
                StatusCode::BAD_REQUEST,
                &format!("the body could not be read ({e}); the limit is {limit} bytes"),
            )
        })?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > limit {
                return Err(too_large("length limit exceeded"));
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// `POST /_harness/session {"deliver-to": URL}`: where later acknowledgements go.
async fn session(State(v): State<Arc<Vendor>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Session>(&body) {
        Ok(s) => {
            if let Ok(mut t) = v.deliver_to.lock() {
                *t = Some(s.deliver_to);
            }
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, format!("bad session: {e}")).into_response(),
    }
}

/// `POST /_harness/script`: performs a TestScript's [`super::script::ScriptOrder`].
async fn script(State(v): State<Arc<Vendor>>, body: Bytes) -> Response {
    let order: super::script::ScriptOrder = match serde_json::from_slice(&body) {
        Ok(o) => o,
        Err(e) => {
            return (StatusCode::BAD_REQUEST, format!("bad script order: {e}")).into_response();
        }
    };
    match v.perform_script(order).await {
        Ok(done) => (
            StatusCode::OK,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            serde_json::to_string(&done).unwrap_or_default(),
        )
            .into_response(),
        Err(refusal) => (refusal.status, refusal.text).into_response(),
    }
}

/// `POST /_harness/instruct`: performs an [`Instruction`].
async fn instruct(State(v): State<Arc<Vendor>>, body: Bytes) -> Response {
    let instruction: Instruction = match serde_json::from_slice(&body) {
        Ok(i) => i,
        Err(e) => {
            return (StatusCode::BAD_REQUEST, format!("bad instruction: {e}")).into_response();
        }
    };
    match v.perform(instruction).await {
        Ok(text) => (StatusCode::OK, text).into_response(),
        Err(refusal) => (refusal.status, refusal.text).into_response(),
    }
}
