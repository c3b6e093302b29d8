//! The reference vendor's settings and state, and starting and stopping it.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::Fault;
use super::fhir::FhirState;
use super::oioxml::LetterState;
use crate::message::Message;
use crate::template::{Organization, Templates};
use crate::transport::{FolderRoute, HttpTransport, Packing, Route, Sent, WriteMode};

/// How long the vendor waits for an answer to what it POSTs (later acknowledgements, follow-ups,
/// resends).
const SEND_TIMEOUT: Duration = Duration::from_secs(60);

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
    /// MedCom's XML Schemas, to judge the classic OIOXML letters it receives (`None`: the OIOXML
    /// structure rules alone).
    pub schemas: Option<crate::envelope::SchemaFiles>,
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
            schemas: None,
            log: false,
        }
    }
}

/// A reference vendor's state, shared by its fronts.
pub(super) struct Vendor {
    pub(super) config: VendorConfig,
    pub(super) templates: Templates,
    /// What it received of FHIR messages and how it answered them.
    pub(super) fhir: Mutex<FhirState>,
    /// What it received of classic OIOXML letters and how it answered them.
    pub(super) letters: Mutex<LetterState>,
    /// The stays it notified as a hospital.
    pub(super) hospital: Mutex<super::hospital::HospitalState>,
    /// The client for what it POSTs.
    pub(super) http: HttpTransport,
    /// Where later acknowledgements go ([`AckDelivery::Later`]).
    pub(super) deliver_to: Mutex<Option<String>>,
    /// Its send number, which names its files.
    files: AtomicU64,
    /// MessageHeader.ids of its own messages that an acknowledgement has answered: resends stop.
    acked: Mutex<HashSet<String>>,
    /// What it remembers for TestScript orders (`script.rs`).
    pub(super) script: Mutex<super::script::ScriptState>,
}

impl Vendor {
    pub(super) fn new(config: VendorConfig) -> std::io::Result<Vendor> {
        Ok(Vendor {
            config,
            templates: Templates::builtin(),
            fhir: Mutex::new(FhirState::default()),
            letters: Mutex::new(LetterState::default()),
            hospital: Mutex::new(super::hospital::HospitalState::default()),
            http: HttpTransport::new("", SEND_TIMEOUT).map_err(std::io::Error::other)?,
            deliver_to: Mutex::new(None),
            files: AtomicU64::new(1),
            acked: Mutex::new(HashSet::new()),
            script: Mutex::new(super::script::ScriptState::default()),
        })
    }

    /// Whether the vendor runs with `fault`.
    pub(super) fn has(&self, fault: Fault) -> bool {
        self.config.fault == Some(fault)
    }

    /// The next number for a file it writes.
    pub(super) fn next_file(&self) -> u64 {
        self.files.fetch_add(1, Ordering::Relaxed)
    }

    /// How it writes into `outbox`: atomically, or slowly in place with the `writes-in-place`
    /// fault; FHIR messages in a VANSEnvelope when `enveloped` (named as if it carried a letter
    /// with the `envelope-name-mismatch` fault), bare otherwise.
    pub(super) fn outbox_route(&self, outbox: &std::path::Path, enveloped: bool) -> FolderRoute {
        let packing = if !enveloped {
            Packing::Bare
        } else if self.has(Fault::EnvelopeNameMismatch) {
            Packing::EnvelopeNamed("MCM:FDIS91#other")
        } else {
            Packing::Envelope
        };
        let mode = if self.has(Fault::WritesInPlace) {
            WriteMode::InPlace
        } else {
            WriteMode::Atomic
        };
        FolderRoute {
            dir: outbox.to_path_buf(),
            packing,
            mode,
        }
    }

    /// Sends `message` along `route`.
    pub(super) async fn send(&self, route: &Route, message: &Message) -> Result<Sent, String> {
        route
            .send(&self.http, message, self.next_file())
            .await
            .map_err(|e| e.to_string())
    }

    /// Remembers that an acknowledgement answered one of this vendor's messages.
    pub(super) fn note_ack(&self, ack: &Message) {
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

    /// Whether an acknowledgement answered its message `letter_id`.
    pub(super) fn is_acked(&self, letter_id: &str) -> bool {
        self.acked.lock().is_ok_and(|a| a.contains(letter_id))
    }
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
        let vendor = Arc::new(Vendor::new(config)?);
        let watcher = match &folder {
            Some(root) => Some(super::folder::serve(root, vendor.clone(), bound)?),
            None => None,
        };
        let app = super::http::router(vendor);
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
