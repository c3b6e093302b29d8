//! Judging how a message travelled: whether the vendor took what the harness sent, and how the
//! vendor's own files arrived (written in place, in a VANSEnvelope or not, the envelope against
//! MedCom's XML Schema). The transports report the facts (`transport::Delivery`,
//! `transport::Received`); these functions turn them into findings, taking plain values so that
//! `check` does not depend on `transport`.

use crate::finding::{Finding, Grade};
use crate::rule;

/// The finding for one POST to the vendor (`target`) that got the HTTP `status` (`None`: no
/// response) and `failure` (why the response or body broke off): none for `200` or `201` read
/// whole; an `http-status` note (F4) for another `2xx`, since the message was taken but MedCom's
/// Acknowledgement TestScripts expect `200` or `201`; a `transport` breach for another status or
/// a body that broke off, and for no response at all.
pub fn delivery(status: Option<u16>, failure: Option<&str>, target: &str) -> Option<Finding> {
    match (status, failure) {
        (Some(200 | 201), None) => None,
        (Some(status), None) if (200..300).contains(&status) => Some(rule::HTTP_STATUS.breach(
            format!(
                "the vendor answered HTTP {status}; MedCom's TestScripts expect 200 or 201 when a message is POSTed"
            ),
        )),
        (Some(status), failure) => Some(rule::TRANSPORT.breach(format!(
            "the vendor answered HTTP {status}{}",
            failure.map(|f| format!(" ({f})")).unwrap_or_default()
        ))),
        (None, failure) => Some(rule::TRANSPORT.breach(format!(
            "no HTTP response from `{target}`: {}",
            failure.unwrap_or("unknown failure")
        ))),
    }
}

/// The finding for a file (`what`: "the message", "the letter") the harness could not write into
/// the vendor's inbox.
pub fn not_written(what: &str, error: &dyn std::fmt::Display) -> Finding {
    rule::TRANSPORT.breach(format!(
        "{what} could not be written to the vendor's inbox: {error}"
    ))
}

/// The finding for a file (`name`) the vendor wrote in place: the harness saw it grow under its
/// final name instead of being renamed into the folder when complete.
pub fn written_in_place(name: &str) -> Finding {
    rule::FOLDER_ATOMIC.breach(
        format!(
            "`{name}` was written in place: the harness saw it grow under its final name instead of being renamed into the folder when complete"
        ),
    )
}

/// The finding for a file in an exchange folder that came without a VANSEnvelope.
pub fn not_enveloped() -> Finding {
    rule::ENVELOPE.breach(
        "the file in the exchange folder is not in a VANSEnvelope; every message in a VANS mailbox travels in one",
    )
}

/// The findings for an envelope (VANSEnvelope or ehmiSBDH, `kind`) that arrived in a folder: the
/// schema verdict (`schema`: the findings of MedCom's XSDs on it, `None` when the run has no
/// XSDs, which is a note, since that is the harness's setup and not the vendor's fault), then the
/// envelope's agreement with its payload (`carried`, from [`crate::arrival::Arrival`]), with a
/// pass when they agree.
pub fn envelope_arrival(
    kind: Option<crate::envelope::EnvelopeKind>,
    carried: Vec<Finding>,
    schema: Option<Vec<Finding>>,
) -> Vec<Finding> {
    let mut findings = schema.unwrap_or_else(|| {
        vec![rule::ENVELOPE.finding(
            Grade::Ok,
            "note: the envelope was not schema-validated: no XSDs (set `schemas` in the config or MEDCOM_CORPUS)",
        )]
    });
    if carried.is_empty() {
        findings.push(rule::ENVELOPE.pass(match kind {
            Some(crate::envelope::EnvelopeKind::Sbdh) => {
                "the ehmiSBDH's participants and scopes agree with its payload"
            }
            _ => "the VANSEnvelope's SizeInBytes, Format, Name and MCM:MIME agree with its payload",
        }));
    }
    findings.extend(carried);
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MedCom's TestScript-acknowledgement-receive-ok.json (and every other Acknowledgement
    /// TestScript) asserts `responseCode` `in` `200,201` after a POST: 202 is taken, but a note.
    #[test]
    fn a_2xx_other_than_200_or_201_is_an_http_status_note() {
        assert!(delivery(Some(201), None, "http://v").is_none());
        let accepted = delivery(Some(202), None, "http://v").expect("a finding");
        assert_eq!(accepted.rule, "http-status");
        assert_eq!(accepted.grade, Grade::F4);
        assert!(accepted.message.contains("202"), "{accepted:?}");
    }

    #[test]
    fn a_2xx_read_whole_is_delivered_anything_else_is_a_transport_breach() {
        assert!(delivery(Some(200), None, "http://v").is_none());
        let refused = delivery(Some(500), None, "http://v").expect("a finding");
        assert_eq!(refused.rule, "transport");
        assert!(refused.grade > Grade::Ok);
        let cut = delivery(Some(200), Some("broke off"), "http://v").expect("a finding");
        assert!(cut.message.contains("broke off"), "{cut:?}");
        let none = delivery(None, Some("could not connect"), "http://v").expect("a finding");
        assert!(none.message.contains("`http://v`"), "{none:?}");
    }
}
