//! The reference vendor: a correct MedCom counterparty, with fault profiles.
//!
//! It is what `run` tests when no `--target` is given, and what `serve` runs on its own. Over HTTP
//! it accepts a message POSTed to any path and acknowledges it in the HTTP response, by the rules:
//!
//! - KR2: an acknowledgement is never acknowledged (`202 Accepted`, no body);
//! - KR3/KR6: a message that passes [`crate::validate`] gets `ok`, one that breaks a rule gets
//!   `fatal-error` with an OperationOutcome naming the issue (details code and FHIRPath location);
//! - the duplicate matrix on (Bundle.id seen?, MessageHeader.id seen?): (no, no) process;
//!   (yes, yes) the original response was lost, resend it; (no, yes) a resend after a lost
//!   acknowledgement (MR8), answer with the same acknowledgement; (yes, no) an envelope id reused
//!   for a new letter: `fatal-error` `MSG_DUPLICATE_ID`.
//!
//! With [`AckDelivery::Later`] it answers `202 Accepted` and POSTs the acknowledgement to the URL a
//! harness registered with `POST /_harness/session {"deliver-to": URL}`.
//!
//! It also performs `instruct` steps: `POST /_harness/instruct` with
//! `{"action": "reply"|"forward", "letter-id": …, "deliver-to": URL, "format": "json"|"xml"}` makes
//! it reply to or forward a message it received and deliver the result to the URL. `GET /_harness`
//! says what it is. A [`Fault`] makes it misbehave in one named way.

mod fault;

pub use fault::Fault;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use crate::finding::Finding;
use crate::message::{Format, Message};
use crate::template::{Context, Issue, Organization, Templates};

/// The body of `GET /_harness`, by which the harness recognises a reference vendor.
pub const PRODUCT: &str = "medcom-harness reference vendor";

/// Settings of a reference vendor.
#[derive(Debug, Clone)]
pub struct VendorConfig {
    /// Its own identity (used when a message names no receiver Organization).
    pub identity: Organization,
    /// The party it forwards to.
    pub forward_to: Organization,
    /// Base of the fullUrls it writes.
    pub fhir_base: String,
    /// The fault profile, if any.
    pub fault: Option<Fault>,
    /// Where acknowledgements go: in the HTTP response, or later to the URL a harness
    /// registered with `POST /_harness/session`.
    pub ack_delivery: AckDelivery,
    /// An exchange folder to serve as well: messages arrive in `<folder>/in`, answers go to
    /// `<folder>/out`.
    pub folder: Option<std::path::PathBuf>,
    /// Implementation guides to validate received messages against (KR6), besides MedCom's rules.
    pub ig: Option<Arc<crate::validate::profile::Ig>>,
    /// The settings of MedCom's rules (the harness's `[rules]`): what it validates by, and how
    /// often it resends an unacknowledged message (`resend_limit`).
    pub rules: crate::validate::Settings,
    /// Whether to log one line per message to stderr (`serve` does; the embedded vendor does not,
    /// so it does not mix into the harness's output).
    pub log: bool,
}

/// How the reference vendor delivers acknowledgements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AckDelivery {
    /// In the body of the HTTP response to the message (`200 OK`).
    #[default]
    Response,
    /// `202 Accepted` with no body, then a POST of the acknowledgement to the registered URL.
    Later,
}

impl VendorConfig {
    /// A correct vendor with the given identity.
    pub fn new(identity: Organization) -> VendorConfig {
        VendorConfig {
            identity,
            forward_to: Organization {
                ean: "5790000000036".into(),
                sor_id: "999971000016003".into(),
                name: "Videresendelsesmodtager (test)".into(),
            },
            fhir_base: "https://reference-vendor.medcom.example/fhir/".into(),
            fault: None,
            ack_delivery: AckDelivery::Response,
            folder: None,
            ig: None,
            rules: crate::validate::Settings::default(),
            log: false,
        }
    }
}

struct Seen {
    envelopes: Vec<String>,
    message: Message,
    ack: Message,
}

struct Vendor {
    config: VendorConfig,
    templates: Templates,
    seen: Mutex<HashMap<String, Seen>>,
    envelopes: Mutex<HashMap<String, String>>,
    client: reqwest::Client,
    deliver_to: Mutex<Option<String>>,
    files: std::sync::atomic::AtomicU64,
    letters: Mutex<LetterState>,
    /// MessageHeader.ids of its own messages that an acknowledgement has answered: resends stop.
    acked: Mutex<std::collections::HashSet<String>>,
}

/// What the reference vendor remembers of classic OIOXML letters: the receiver's seen-before
/// table and the receipt it gave for each dedup key and each letter.
#[derive(Default)]
struct LetterState {
    seen: crate::oioxml::check::Seen,
    by_key: HashMap<crate::oioxml::DedupKey, crate::oioxml::Emessage>,
    by_letter: HashMap<String, crate::oioxml::Emessage>,
    /// The last party that sent a letter: where `send-letter` instructions send to.
    last_sender: Option<crate::oioxml::Party>,
}

/// A running reference vendor.
pub struct Simulator {
    /// The bound address.
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    watcher: Option<crate::transport::FolderWatcher>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("addr", &self.addr)
            .finish()
    }
}

impl Simulator {
    /// Binds `addr` and serves until dropped.
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub async fn start(addr: SocketAddr, config: VendorConfig) -> std::io::Result<Simulator> {
        let socket = tokio::net::TcpListener::bind(addr).await?;
        let bound = socket.local_addr()?;
        let folder = config.folder.clone();
        let vendor = Arc::new(Vendor {
            config,
            templates: Templates::builtin(),
            seen: Mutex::new(HashMap::new()),
            envelopes: Mutex::new(HashMap::new()),
            client: reqwest::Client::builder()
                .no_proxy()
                .build()
                .map_err(std::io::Error::other)?,
            deliver_to: Mutex::new(None),
            files: std::sync::atomic::AtomicU64::new(1),
            letters: Mutex::new(LetterState::default()),
            acked: Mutex::new(std::collections::HashSet::new()),
        });
        let watcher = match &folder {
            Some(root) => Some(serve_folder(root, vendor.clone(), bound)?),
            None => None,
        };
        let app = Router::new()
            .route("/_harness", get(hello))
            .route("/_harness/instruct", post(instruct))
            .route("/_harness/session", post(session))
            .fallback(receive)
            .layer(axum::extract::DefaultBodyLimit::max(crate::MAX_BODY_BYTES))
            .with_state(vendor);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(socket, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Simulator {
            addr: bound,
            shutdown: Some(tx),
            watcher,
        })
    }

    /// The endpoint URL messages are POSTed to.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves until the process is stopped (for `serve`).
    pub async fn wait(self) {
        std::future::pending::<()>().await;
        drop(self);
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.watcher.take();
    }
}

/// The file in an exchange folder by which a reference vendor tells a harness its control URL.
pub const CONTROL_FILE: &str = "reference-vendor.json";

/// The HTTP base URL of the reference vendor serving the exchange folder `root`, if one does.
pub fn control_url_of_folder(root: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(root.join(CONTROL_FILE)).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    v.get("url").and_then(Value::as_str).map(str::to_string)
}

/// Serves the exchange folder `root`: every complete file in `<root>/in` is answered into
/// `<root>/out` as the HTTP endpoint would answer it.
fn serve_folder(
    root: &std::path::Path,
    vendor: Arc<Vendor>,
    addr: SocketAddr,
) -> std::io::Result<crate::transport::FolderWatcher> {
    use crate::transport::{Disposition, FolderLayout, FolderWatcher, ReadPolicy};
    let layout = FolderLayout::new(root);
    layout.create().map_err(std::io::Error::other)?;
    // Announce the control endpoint; replace an earlier run's file atomically.
    let control = json!({"product": PRODUCT, "url": format!("http://{addr}")}).to_string();
    let tmp = root.join(format!(".{CONTROL_FILE}.tmp"));
    std::fs::write(&tmp, control)?;
    std::fs::rename(&tmp, root.join(CONTROL_FILE))?;
    let outbox = layout.outbox.clone();
    FolderWatcher::start(&layout.inbox, ReadPolicy::default(), move |arrived| {
        let arrival = crate::arrival::Arrival::read(&arrived.bytes);
        let in_envelope = arrival.envelope.is_some();
        let message = match arrival.payload {
            crate::arrival::Payload::Fhir(m) => m,
            // A classic OIOXML letter or receipt, answered with an XCTL receipt.
            crate::arrival::Payload::Oioxml(letter) => {
                return match vendor.receipt_for(&letter, &arrival.bytes) {
                    Some(receipt) => {
                        match vendor.drop_letter(&outbox, &receipt, crate::oioxml::Encoding::Utf8) {
                            Ok(()) => Disposition::Processed,
                            Err(e) => Disposition::Rejected(format!(
                                "the receipt could not be written: {e}"
                            )),
                        }
                    }
                    None => Disposition::Processed,
                };
            }
            crate::arrival::Payload::Unreadable(reason) => {
                return Disposition::Rejected(reason.to_string());
            }
        };
        if message.is_acknowledgement() {
            vendor.note_ack(&message);
            return Disposition::Processed;
        }
        match vendor.answer(message) {
            Ok(_) if vendor.config.fault == Some(Fault::NoAck) => Disposition::Processed,
            Ok(ack) => match vendor.drop_file(&outbox, &ack, in_envelope) {
                Ok(()) => Disposition::Processed,
                Err(e) => Disposition::Rejected(format!("the answer could not be written: {e}")),
            },
            Err(e) => Disposition::Rejected(e),
        }
    })
    .map_err(std::io::Error::other)
}

async fn hello(State(v): State<Arc<Vendor>>) -> impl IntoResponse {
    let body = json!({
        "product": PRODUCT,
        "version": env!("CARGO_PKG_VERSION"),
        "fault": v.config.fault.map(|f| f.name()),
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
}

fn fhir_response(status: StatusCode, message: &Message) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, message.format.media_type())],
        message.bytes.clone(),
    )
        .into_response()
}

fn outcome_response(status: StatusCode, text: &str) -> Response {
    let body = json!({
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
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    if method != axum::http::Method::POST {
        return outcome_response(
            StatusCode::METHOD_NOT_ALLOWED,
            "POST a FHIR message (Bundle of type message) to any path",
        );
    }
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            return outcome_response(
                e.status(),
                &format!(
                    "the body could not be read ({e}); the limit is {} bytes",
                    crate::MAX_BODY_BYTES
                ),
            );
        }
    };
    let hint = headers
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .and_then(Format::from_content_type);
    let message = match Message::parse(body.to_vec(), hint) {
        Ok(m) => m,
        Err(e) => return outcome_response(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    if message.is_acknowledgement() {
        // KR2: an acknowledgement is never acknowledged. It stops the resends of what it answers.
        v.note_ack(&message);
        return StatusCode::ACCEPTED.into_response();
    }
    let label = message.label();
    let ack = match v.answer(message) {
        Ok(ack) => ack,
        Err(e) => return outcome_response(StatusCode::INTERNAL_SERVER_ERROR, &e),
    };
    // The no-ack fault processes the message (so it can be replied to) but never answers.
    if v.config.fault == Some(Fault::NoAck) {
        if v.config.log {
            eprintln!("received {label}; not acknowledged (fault no-ack)");
        }
        return StatusCode::ACCEPTED.into_response();
    }
    if v.config.log {
        eprintln!(
            "received {label}; acknowledged `{}`",
            ack.identity
                .response
                .as_ref()
                .and_then(|r| r.code.as_deref())
                .unwrap_or("?")
        );
    }
    if v.config.ack_delivery == AckDelivery::Later {
        let target = v.deliver_to.lock().ok().and_then(|t| t.clone());
        if let Some(url) = target {
            let client = v.client.clone();
            tokio::spawn(async move {
                // A short pause, so the acknowledgement really arrives after the HTTP response.
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                let _ = client
                    .post(&url)
                    .header(header::CONTENT_TYPE, ack.format.media_type())
                    .body(ack.bytes.clone())
                    .send()
                    .await;
            });
            return StatusCode::ACCEPTED.into_response();
        }
    }
    fhir_response(StatusCode::OK, &ack)
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Session {
    deliver_to: String,
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

impl Vendor {
    /// Remembers that an acknowledgement answered one of this vendor's messages.
    fn note_ack(&self, ack: &Message) {
        if let Some(id) = ack
            .identity
            .response
            .as_ref()
            .and_then(|r| r.identifier.clone())
            && let Ok(mut acked) = self.acked.lock()
        {
            acked.insert(id);
        }
    }

    fn is_acked(&self, letter_id: &str) -> bool {
        self.acked.lock().is_ok_and(|a| a.contains(letter_id))
    }

    /// KR7: while `message` stays unacknowledged, resend it every `after`, at most
    /// `rules.resend_limit` times (one more with the `resends-beyond-limit` fault), each time in a
    /// new envelope (new Bundle.id and timestamp, the same MessageHeader.id and letter).
    fn resend_unacknowledged(
        self: &Arc<Self>,
        message: Message,
        after: std::time::Duration,
        deliver: Delivery,
    ) {
        let Some(letter) = message.identity.letter_id.clone() else {
            return;
        };
        let mut times = self.config.rules.resend_limit;
        if self.config.fault == Some(Fault::ResendsBeyondLimit) {
            times += 1;
        }
        let vendor = self.clone();
        tokio::spawn(async move {
            for n in 1..=times {
                tokio::time::sleep(after).await;
                if vendor.is_acked(&letter) {
                    return;
                }
                let mut resource = message.resource.clone();
                resource["id"] = Value::String(uuid::Uuid::new_v4().to_string());
                resource["timestamp"] = Value::String(crate::template::now_instant());
                let Ok(again) = Message::encode(&resource, message.format) else {
                    return;
                };
                let result = match &deliver {
                    Delivery::Http(url) => vendor
                        .client
                        .post(url)
                        .header(header::CONTENT_TYPE, again.format.media_type())
                        .body(again.bytes.clone())
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                    Delivery::Folder(outbox) => vendor.drop_file(outbox, &again, true),
                };
                if vendor.config.log {
                    match result {
                        Ok(()) => {
                            eprintln!("resent {} (resend {n} of {times}, KR7)", again.label())
                        }
                        Err(e) => eprintln!("could not resend {}: {e}", again.label()),
                    }
                }
            }
        });
    }

    /// Writes an answer into an outbox: atomically (temporary name, then rename), or, with the
    /// `writes-in-place` fault, slowly in place under its final name.
    fn drop_file(
        &self,
        outbox: &std::path::Path,
        message: &Message,
        in_envelope: bool,
    ) -> Result<(), String> {
        let n = self
            .files
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let stem = format!(
            "{}_{}_{n}",
            message.identity.letter_id.as_deref().unwrap_or("answer"),
            message
                .identity
                .envelope_id
                .as_deref()
                .unwrap_or("envelope"),
        );
        let (name, bytes) = if in_envelope {
            // The envelope-name-mismatch fault names the envelope as if it carried a letter.
            let wrong = (self.config.fault == Some(Fault::EnvelopeNameMismatch))
                .then_some("MCM:FDIS91#other");
            let bytes = crate::envelope::carry::wrap_fhir(message, wrong)?;
            (format!("{stem}.vans.xml"), bytes)
        } else {
            (
                format!("{stem}.{}", message.format.extension()),
                message.bytes.clone(),
            )
        };
        self.drop_bytes(outbox, &name, bytes)
    }

    /// Writes `bytes` into `outbox` as `name`: atomically (temporary name, then rename), or,
    /// with the `writes-in-place` fault, slowly in place under the final name.
    fn drop_bytes(
        &self,
        outbox: &std::path::Path,
        name: &str,
        bytes: Vec<u8>,
    ) -> Result<(), String> {
        if self.config.fault == Some(Fault::WritesInPlace) {
            let path = outbox.join(name);
            std::thread::spawn(move || {
                use std::io::Write;
                let Ok(mut f) = std::fs::File::create(&path) else {
                    return;
                };
                for chunk in bytes.chunks(bytes.len().div_ceil(4).max(1)) {
                    let _ = f.write_all(chunk);
                    let _ = f.flush();
                    std::thread::sleep(std::time::Duration::from_millis(300));
                }
            });
            return Ok(());
        }
        crate::transport::write_atomic(outbox, name, &bytes)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Writes an OIOXML message in `encoding` in a VANSEnvelope into `outbox`.
    fn drop_letter(
        &self,
        outbox: &std::path::Path,
        m: &crate::oioxml::Emessage,
        encoding: crate::oioxml::Encoding,
    ) -> Result<(), String> {
        let bytes = crate::oioxml::write(m, encoding);
        let envelope = crate::envelope::carry::wrap_oioxml(&bytes, m);
        let n = self
            .files
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.drop_bytes(
            outbox,
            &format!(
                "{}_{}_{n}.vans.xml",
                m.letter_identifier(),
                m.envelope.identifier
            ),
            envelope,
        )
    }

    /// The XCTL receipt for an arriving OIOXML message, by the receiver's matrix: a repeat gets
    /// the receipt again, a duplicate the first copy's receipt; a new letter is refused
    /// `ukendt_lokationsnummer` when it is not addressed to this vendor's EAN, `syntaksfejl` when
    /// it breaks the structure, and otherwise gets a positive receipt when it asks for one.
    /// Receipts are never receipted.
    fn receipt_for(
        &self,
        letter: &crate::oioxml::Emessage,
        bytes: &[u8],
    ) -> Option<crate::oioxml::Emessage> {
        use crate::oioxml::{Body, ReceiptKind, RefuseCode, build, check::Arrival};
        if letter.is_receipt() {
            return None;
        }
        let fault = self.config.fault;
        let mut state = self.letters.lock().ok()?;
        if let Body::ClinicalEmail(x) = &letter.body {
            state.last_sender = Some(x.sender.clone());
        }
        let key = letter.dedup_key();
        let arrival = state.seen.arrive(&key);
        if let Some(earlier) = match arrival {
            Arrival::Repeat => state.by_key.get(&key).cloned(),
            Arrival::Duplicate => state.by_letter.get(&key.letter).cloned(),
            Arrival::New | Arrival::EnvelopeReused => None,
        } {
            return (fault != Some(Fault::NoReceipt)).then_some(earlier);
        }
        // MedCom's schema of the letter's release (from `$MEDCOM_CORPUS`), and the structure
        // rules a schema cannot say; without the schemas the structure rules alone.
        let schemas = std::env::var_os("MEDCOM_CORPUS")
            .map(|dir| crate::envelope::SchemaFiles::in_corpus(std::path::Path::new(&dir)));
        let errors: Vec<String> = crate::oioxml::schema::judge(schemas.as_ref(), bytes, letter)
            .into_iter()
            .filter(|f| !f.message.starts_with("note:"))
            .filter(|f| f.grade >= crate::finding::Grade::F2)
            .map(|f| f.message)
            .collect();
        let refuse = if letter.receiver_ean() != self.config.identity.ean {
            Some((
                RefuseCode::parse("ukendt_lokationsnummer"),
                format!("EAN {} er ikke kendt her", letter.receiver_ean()),
            ))
        } else if arrival == Arrival::EnvelopeReused {
            Some((
                RefuseCode::parse("ikke_specificeret"),
                format!(
                    "Envelope/Identifier {} er brugt før til et andet brev",
                    key.envelope
                ),
            ))
        } else if !errors.is_empty() {
            Some((
                RefuseCode::parse("syntaksfejl"),
                errors.join("; ").chars().take(200).collect(),
            ))
        } else {
            None
        };
        if refuse.is_none() && !letter.wants_positive_receipt() {
            return None;
        }
        let kind = if refuse.is_some() {
            ReceiptKind::Negative
        } else {
            ReceiptKind::Positive
        };
        let refuse = refuse.map(|(code, text)| {
            if fault == Some(Fault::NegativeReceiptBadRefusecode) {
                (RefuseCode::parse("ukendt_fejl"), text)
            } else {
                (code, text)
            }
        });
        let mut receipt = build::receipt(letter, kind, refuse);
        if let Body::Receipt(r) = &mut receipt.body {
            if fault == Some(Fault::ReceiptWrongEnvelopeId) {
                r.original_envelope_identifier = build::identifier('E');
            }
            if fault == Some(Fault::ReceiptMissingLetter) {
                r.letters.clear();
            }
        }
        state.by_key.insert(key.clone(), receipt.clone());
        state
            .by_letter
            .entry(key.letter)
            .or_insert_with(|| receipt.clone());
        (fault != Some(Fault::NoReceipt)).then_some(receipt)
    }

    /// Sends a classic XDIS91 letter with a PDF (as XBIN01) to the last party that sent this
    /// vendor a letter, or the harness's default identity.
    fn send_letter(&self, outbox: &std::path::Path) -> Result<String, String> {
        use crate::oioxml::{Body, build};
        let to = self
            .letters
            .lock()
            .ok()
            .and_then(|s| s.last_sender.clone())
            .unwrap_or_else(|| {
                build::party(
                    "5790000000012",
                    "999991000016001",
                    "medcom-harness testafsender",
                )
            });
        let me = build::party(
            &self.config.identity.ean,
            &self.config.identity.sor_id,
            &self.config.identity.name,
        );
        let pdf = simple_pdf("Epikrise fra referenceleverandoeren");
        let (mut letter, mut bins) = build::xdis91(
            me,
            to,
            "Epikrise",
            "Kære kolleger\nVedlagt epikrise.\nMed venlig hilsen\nReferenceleverandøren",
            &[build::BinaryAttachment {
                title: "Epikrise".into(),
                extension: "pdf".into(),
                bytes: pdf,
            }],
        );
        if self.config.fault == Some(Fault::BinSizeMismatch) {
            let wrong =
                |size: &mut String| *size = (size.parse::<u64>().unwrap_or(0) + 17).to_string();
            if let Body::ClinicalEmail(x) = &mut letter.body {
                for r in &mut x.references {
                    if let Some(crate::oioxml::ReferenceTarget::Bin(b)) = &mut r.target {
                        wrong(&mut b.original_object_size);
                    }
                }
            }
            for bin in &mut bins {
                if let Body::BinaryLetter(b) = &mut bin.body {
                    for o in &mut b.objects {
                        wrong(&mut o.original_object_size);
                    }
                }
            }
        }
        // ISO-8859-1, as many systems still write, so the receiver's decoding is exercised.
        for m in std::iter::once(&letter).chain(bins.iter()) {
            self.drop_letter(outbox, m, crate::oioxml::Encoding::Iso88591)?;
        }
        Ok(format!(
            "wrote XDIS91 `{}` with {} XBIN01 letter(s) to {}",
            letter.letter_identifier(),
            bins.len(),
            outbox.display()
        ))
    }

    /// The acknowledgement for a received message, by the duplicate matrix.
    fn answer(&self, message: Message) -> Result<Message, String> {
        let letter = message.identity.letter_id.clone().unwrap_or_default();
        let envelope = message.identity.envelope_id.clone().unwrap_or_default();
        let fault = self.config.fault;
        let mut seen = self.seen.lock().map_err(|_| "state poisoned".to_string())?;
        if let Some(earlier) = seen.get_mut(&letter) {
            let repeat_envelope = earlier.envelopes.contains(&envelope);
            earlier.envelopes.push(envelope);
            if fault == Some(Fault::DuplicateDifferentAck) && !repeat_envelope {
                let issue = Issue {
                    severity: "error".into(),
                    code: "duplicate".into(),
                    system: HL7_OUTCOME.into(),
                    details: "MSG_DUPLICATE_ID".into(),
                    diagnostics: "this message was received before".into(),
                    expression: None,
                };
                return self.acknowledge(
                    &earlier.message,
                    "fatal-error",
                    vec![issue],
                    message.format,
                );
            }
            // MR8: the same acknowledgement as the first copy, for a lost response and a resend alike.
            return Ok(earlier.ack.clone());
        }
        let reused = self
            .envelopes
            .lock()
            .map_err(|_| "state poisoned".to_string())?
            .get(&envelope)
            .is_some_and(|l| l != &letter);
        let (code, issues) = if reused {
            (
                "fatal-error",
                vec![Issue {
                    severity: "error".into(),
                    code: "duplicate".into(),
                    system: HL7_OUTCOME.into(),
                    details: "MSG_DUPLICATE_ID".into(),
                    diagnostics: format!(
                        "Bundle.id `{envelope}` was used before for another letter"
                    ),
                    expression: Some("Bundle.id".into()),
                }],
            )
        } else {
            // KR6: an error (F1, F2) rejects the message; minor findings and notes do not.
            let errors: Vec<Finding> = crate::validate::with_profiles(
                &message,
                &self.config.rules,
                self.config.ig.as_deref(),
            )
            .into_iter()
            .filter(|f| f.grade >= crate::finding::Grade::F2)
            .collect();
            if errors.is_empty() {
                ("ok", Vec::new())
            } else {
                ("fatal-error", errors.iter().map(issue_for).collect())
            }
        };
        let (code, issues) = if fault == Some(Fault::FatalForValid) && code == "ok" {
            (
                "fatal-error",
                vec![Issue {
                    severity: "error".into(),
                    code: "processing".into(),
                    system: MEDCOM_ERRORS.into(),
                    details: "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE".into(),
                    diagnostics: "rejected by fault profile fatal-for-valid".into(),
                    expression: None,
                }],
            )
        } else {
            (code, issues)
        };
        let ack = self.acknowledge(&message, code, issues, message.format)?;
        self.envelopes
            .lock()
            .map_err(|_| "state poisoned".to_string())?
            .insert(envelope.clone(), letter.clone());
        seen.insert(
            letter,
            Seen {
                envelopes: vec![envelope],
                message,
                ack: ack.clone(),
            },
        );
        Ok(ack)
    }

    fn acknowledge(
        &self,
        acked: &Message,
        code: &str,
        issues: Vec<Issue>,
        format: Format,
    ) -> Result<Message, String> {
        let fault = self.config.fault;
        let issues = if fault == Some(Fault::NonOkWithoutOperationOutcome) {
            Vec::new()
        } else {
            issues
        };
        let ctx = Context::acknowledgement(
            &self.config.fhir_base,
            acked,
            self.config.identity.clone(),
            code,
            issues,
        );
        let mut resource = self
            .templates
            .render_resource("acknowledgement/ack", &ctx)
            .map_err(|e| e.to_string())?;
        if fault == Some(Fault::WrongResponseIdentifier) {
            resource["entry"][0]["resource"]["response"]["identifier"] =
                json!(uuid::Uuid::new_v4().to_string());
        }
        if fault == Some(Fault::AckMissingProvenance)
            && let Some(entries) = resource.get_mut("entry").and_then(Value::as_array_mut)
        {
            let ack_letter = ctx.ids.header.clone();
            entries.retain(|e| {
                e.pointer("/resource/resourceType").and_then(Value::as_str) != Some("Provenance")
                    || e.pointer("/resource/target/0/reference")
                        .and_then(Value::as_str)
                        == Some(&format!("MessageHeader/{ack_letter}"))
            });
        }
        Message::encode(&resource, format).map_err(|e| e.to_string())
    }

    /// Builds a reply or forward to a received message.
    fn follow_up(
        &self,
        action: crate::scenario::Action,
        letter: &str,
        format: Format,
    ) -> Result<Message, String> {
        let seen = self.seen.lock().map_err(|_| "state poisoned".to_string())?;
        let original = &seen
            .get(letter)
            .ok_or_else(|| {
                format!("the reference vendor received no message with MessageHeader.id `{letter}`")
            })?
            .message;
        let fault = self.config.fault;
        let (template, to, text) = match action {
            crate::scenario::Action::SendLetter => {
                return Err("a letter is not a follow-up".to_string());
            }
            crate::scenario::Action::Reply => (
                "carecommunication/reply",
                None,
                "Svar fra referenceleverandøren.",
            ),
            crate::scenario::Action::Forward => (
                "carecommunication/forward",
                Some(self.config.forward_to.clone()),
                "Videresendt af referenceleverandøren.",
            ),
        };
        let mut ctx = Context::follow_up(
            &self.config.fhir_base,
            original,
            self.config.identity.clone(),
            to,
        );
        ctx.text = text.to_string();
        if let Some(previous) = ctx.previous.as_mut() {
            if fault == Some(Fault::ReplyResendsAttachment)
                && action == crate::scenario::Action::Reply
            {
                previous["payload_reference_only"] = previous["payload"].clone();
            }
            if fault == Some(Fault::ForwardDropsAttachment)
                && action == crate::scenario::Action::Forward
            {
                let kept: Vec<Value> = previous["payload"]
                    .as_array()
                    .map(|p| {
                        p.iter()
                            .filter(|s| s.get("contentAttachment").is_none())
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                previous["payload"] = Value::Array(kept);
            }
        }
        let resource = self
            .templates
            .render_resource(template, &ctx)
            .map_err(|e| e.to_string())?;
        Message::encode(&resource, format).map_err(|e| e.to_string())
    }
}

/// HL7's OperationOutcome code system (R4 `MSG_*` codes).
pub const HL7_OUTCOME: &str = "http://terminology.hl7.org/CodeSystem/operation-outcome";
/// MedCom's acknowledgement error codes.
pub const MEDCOM_ERRORS: &str =
    "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-acknowledgement-error-codes";

/// The OperationOutcome issue that reports a validation finding (KR6).
fn issue_for(f: &Finding) -> Issue {
    let (system, details) = match f.rule.as_str() {
        "cc-category" => (MEDCOM_ERRORS, "MSG_CodeSystem_VALUE_UNKNOWN"),
        "medcom-careCommunication-2" | "medcom-messaging-2" => {
            (HL7_OUTCOME, "MSG_RESOURCE_REQUIRED")
        }
        "cc-attachment-mime" => (MEDCOM_ERRORS, "MSG_VALUESET_VALUE_UNKNOWN"),
        _ => (HL7_OUTCOME, "MSG_BAD_FORMAT"),
    };
    Issue {
        severity: "error".into(),
        code: "invalid".into(),
        system: system.into(),
        details: details.into(),
        diagnostics: format!("{}: {}", f.rule, f.message),
        expression: f.location.clone(),
    }
}

/// Where a resend goes: the URL the first copy was POSTed to, or the outbox it was written to.
enum Delivery {
    Http(String),
    Folder(std::path::PathBuf),
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Instruction {
    action: crate::scenario::Action,
    letter_id: String,
    deliver_to: String,
    #[serde(default)]
    format: Option<Format>,
    /// KR7: resend the message after this many milliseconds without an acknowledgement
    /// (default 30 minutes).
    #[serde(default)]
    resend_after_ms: Option<u64>,
}

async fn instruct(State(v): State<Arc<Vendor>>, body: Bytes) -> Response {
    let instruction: Instruction = match serde_json::from_slice(&body) {
        Ok(i) => i,
        Err(e) => {
            return (StatusCode::BAD_REQUEST, format!("bad instruction: {e}")).into_response();
        }
    };
    if instruction.action == crate::scenario::Action::SendLetter {
        let Some(root) = &v.config.folder else {
            return (
                StatusCode::BAD_REQUEST,
                "this reference vendor serves no exchange folder",
            )
                .into_response();
        };
        let outbox = crate::transport::FolderLayout::new(root).outbox;
        return match v.send_letter(&outbox) {
            Ok(text) => (StatusCode::OK, text).into_response(),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
        };
    }
    // KR7: a sender may resend after 30 minutes without an acknowledgement.
    let resend_after =
        std::time::Duration::from_millis(instruction.resend_after_ms.unwrap_or(30 * 60 * 1000));
    let message = match v.follow_up(
        instruction.action,
        &instruction.letter_id,
        instruction.format.unwrap_or(Format::Json),
    ) {
        Ok(m) => m,
        Err(e) => return (StatusCode::UNPROCESSABLE_ENTITY, e).into_response(),
    };
    if instruction.deliver_to == "folder" {
        let Some(root) = &v.config.folder else {
            return (
                StatusCode::BAD_REQUEST,
                "this reference vendor serves no exchange folder",
            )
                .into_response();
        };
        let outbox = crate::transport::FolderLayout::new(root).outbox;
        return match v.drop_file(&outbox, &message, true) {
            Ok(()) => {
                let label = message.label();
                v.resend_unacknowledged(message, resend_after, Delivery::Folder(outbox.clone()));
                (
                    StatusCode::OK,
                    format!("wrote {label} to {}", outbox.display()),
                )
                    .into_response()
            }
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
        };
    }
    let sent = v
        .client
        .post(&instruction.deliver_to)
        .header(header::CONTENT_TYPE, message.format.media_type())
        .body(message.bytes.clone())
        .send()
        .await;
    match sent {
        Ok(r) => {
            let text = format!(
                "delivered {} to {} ({})",
                message.label(),
                instruction.deliver_to,
                r.status()
            );
            v.resend_unacknowledged(
                message,
                resend_after,
                Delivery::Http(instruction.deliver_to.clone()),
            );
            (StatusCode::OK, text).into_response()
        }
        Err(e) => (
            StatusCode::BAD_GATEWAY,
            format!("could not deliver to {}: {e}", instruction.deliver_to),
        )
            .into_response(),
    }
}

/// A small, real one-page PDF with `text` (ASCII), written by hand from the PDF 1.4 structure.
fn simple_pdf(text: &str) -> Vec<u8> {
    let stream = format!("BT /F1 18 Tf 72 760 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.push_str(&format!("{} 0 obj\n{o}\nendobj\n", i + 1));
    }
    let xref = out.len();
    out.push_str(&format!(
        "xref\n0 {}\n0000000000 65535 f \n",
        objects.len() + 1
    ));
    for off in offsets {
        out.push_str(&format!("{off:010} 00000 n \n"));
    }
    out.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    ));
    out.into_bytes()
}
