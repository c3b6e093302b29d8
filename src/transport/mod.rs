//! Transports: how messages reach the vendor's system and how the vendor's messages reach the
//! harness.
//!
//! Over HTTP the harness is a client of the vendor's endpoint (one POST per message, FHIR
//! `$process-message` style: the Bundle is the body) and a server for what the vendor delivers
//! later. An acknowledgement may come back in the HTTP response or later to the listener; both land
//! in the [`Inbox`], where steps claim what they wait for by content (the acknowledged letter id,
//! the Provenance that points to a sent message), so scenarios can run in parallel over one
//! listener.

mod folder;
mod http;
mod inbox;

pub use folder::{
    Arrived, Disposition, FolderError, FolderLayout, FolderWatcher, PROCESSED, REASON_SUFFIX,
    REJECTED, ReadPolicy, TEMPORARY_SUFFIXES, write_atomic,
};
pub use http::{Delivery, HttpTransport, Listener, TransportError};
pub use inbox::{Inbox, Origin, Received};

/// Watches a vendor's outbox: every complete file goes into `inbox`, unwrapped from its
/// VANSEnvelope when it comes in one and parsed as a FHIR message; a file that is not one moves
/// to `rejected/` with its reason, the others to `processed/`. An envelope is judged against its
/// payload and against MedCom's XML Schema (`schemas`; without them a note says it was not
/// schema-validated), by the `rules` settings.
///
/// # Errors
/// [`FolderError`] when the folder cannot be watched.
pub fn watch_outbox(
    layout: &FolderLayout,
    inbox: Inbox,
    schemas: Option<crate::envelope::SchemaFiles>,
    rules: crate::validate::Settings,
) -> Result<FolderWatcher, FolderError> {
    FolderWatcher::start(
        &layout.outbox,
        ReadPolicy::default(),
        move |arrived: Arrived| {
            let unwrapped = crate::envelope::carry::unwrap_fhir(&arrived.bytes);
            let (payload, envelope) = match unwrapped {
                Ok(u) => {
                    let envelope = u.envelope.is_some().then(|| {
                        // Without the XSDs that is the harness's setup, not the vendor's fault: a note.
                        let mut findings = match &schemas {
                            Some(files) => {
                                crate::validate::envelope_schema(&arrived.bytes, &rules, Some(files))
                            }
                            None => vec![crate::rule::ENVELOPE.finding(
                                crate::finding::Grade::Ok,
                                "note: the envelope was not schema-validated: no XSDs (set `schemas` in the config or MEDCOM_CORPUS)",
                            )],
                        };
                        if u.findings.is_empty() {
                            findings.push(crate::rule::ENVELOPE.pass(
                                "the VANSEnvelope's SizeInBytes, Format, Name and MCM:MIME agree with its payload",
                            ));
                        }
                        findings.extend(u.findings);
                        (arrived.bytes.clone(), findings)
                    });
                    (u.payload, envelope)
                }
                Err(e) => {
                    inbox.push_parsed(
                        Origin::File {
                            name: arrived.name.clone(),
                        },
                        arrived.bytes,
                        "application/xml".to_string(),
                        Err(e.clone()),
                        arrived.written_in_place,
                        None,
                    );
                    return Disposition::Rejected(e);
                }
            };
            let format = crate::message::Format::sniff(&payload);
            let media_type = format
                .map_or("application/octet-stream", |f| f.media_type())
                .to_string();
            let message =
                crate::message::Message::parse(payload.clone(), format).map_err(|e| e.to_string());
            // Not FHIR: an OIOXML letter or receipt is the other thing a VANS mailbox carries.
            if message.is_err()
                && let Ok(letter) = crate::oioxml::parse(&payload)
            {
                inbox.push_letter(
                    Origin::File {
                        name: arrived.name.clone(),
                    },
                    payload,
                    letter,
                    arrived.written_in_place,
                    envelope,
                );
                return Disposition::Processed;
            }
            let disposition = match &message {
                Ok(_) => Disposition::Processed,
                Err(e) => Disposition::Rejected(e.clone()),
            };
            inbox.push_parsed(
                Origin::File {
                    name: arrived.name.clone(),
                },
                payload,
                media_type,
                message,
                arrived.written_in_place,
                envelope,
            );
            disposition
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Grade;
    use crate::message::{Format, Message};
    use crate::template::{Context, Organization, Templates};
    use std::time::Duration;

    fn message() -> Message {
        let org = |ean: &str, sor: &str| Organization {
            ean: ean.into(),
            sor_id: sor.into(),
            name: "Test".into(),
        };
        let ctx = Context::new_message(
            "https://test.example/fhir/",
            org("5790000000029", "999981000016002"),
            org("5790000000012", "999991000016001"),
        );
        let v = Templates::builtin()
            .render_resource("carecommunication/new", &ctx)
            .expect("renders");
        Message::encode(&v, Format::Json).expect("encodes")
    }

    /// Drops `bytes` into a watched outbox and returns the envelope findings of its arrival.
    async fn arrival_findings(bytes: Vec<u8>, schemas: bool) -> Vec<crate::finding::Finding> {
        let dir = tempfile::tempdir().expect("tmp");
        let layout = FolderLayout::new(dir.path());
        layout.create().expect("layout");
        let inbox = Inbox::new();
        let schemas =
            schemas.then(|| crate::envelope::SchemaFiles::in_corpus(&crate::test_corpus()));
        let _watcher = watch_outbox(
            &layout,
            inbox.clone(),
            schemas,
            crate::validate::Settings::default(),
        )
        .expect("watch");
        write_atomic(&layout.outbox, "m.xml", &bytes).expect("write");
        let received = inbox
            .claim(Duration::from_secs(10), |_| true)
            .await
            .expect("the file arrives");
        assert!(received.envelope.is_some(), "arrived in an envelope");
        received.envelope_findings
    }

    #[tokio::test]
    async fn an_envelope_arriving_in_a_folder_is_judged_by_medcoms_xml_schema() {
        let good = crate::envelope::carry::wrap_fhir(&message(), None).expect("wraps");
        let findings = arrival_findings(good.clone(), true).await;
        assert!(
            findings
                .iter()
                .any(|f| f.grade == Grade::Ok
                    && f.message.contains("valid against MedCom's XML Schema")),
            "{findings:?}"
        );
        // An element the schema does not have: xmllint says "This element is not expected"; the
        // envelope still carries its payload, so only the schema can tell.
        let text = String::from_utf8(good).expect("utf-8");
        assert!(text.contains("</SentDateTime>"));
        let bad = text.replace("</SentDateTime>", "</SentDateTime><Extra/>");
        let findings = arrival_findings(bad.into_bytes(), true).await;
        let breaches: Vec<_> = findings.iter().filter(|f| f.grade != Grade::Ok).collect();
        assert_eq!(breaches.len(), 1, "{findings:?}");
        assert_eq!(breaches[0].rule, "envelope");
        assert!(breaches[0].message.contains("Extra"), "{breaches:?}");
        assert!(
            breaches[0]
                .location
                .as_deref()
                .is_some_and(|l| l.starts_with("line "))
        );
    }

    #[tokio::test]
    async fn without_the_xsds_an_envelope_gets_a_note_not_a_vendor_finding() {
        let good = crate::envelope::carry::wrap_fhir(&message(), None).expect("wraps");
        let findings = arrival_findings(good, false).await;
        assert!(
            findings.iter().all(|f| f.grade == Grade::Ok),
            "{findings:?}"
        );
        assert!(
            findings
                .iter()
                .any(|f| f.message.contains("not schema-validated"))
        );
    }
}
