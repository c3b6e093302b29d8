//! Attachment rules of CareCommunication 5.0 (bilag) and FHIR R4 Attachment.

use super::Finding;
use crate::finding::Grade;
use crate::message::Message;
use crate::message::attachment::MimeSet;
use crate::rule;

/// Judges every attachment of `message`: MIME type from the ValueSet (for attachments with
/// data), valid base64 whose decoded size and SHA-1 agree with a declared `size` and `hash`,
/// magic bytes that agree with `contentType`, and a title.
pub fn attachments(message: &Message, allowed: &MimeSet) -> Vec<Finding> {
    let mut out = Vec::new();
    for a in &message.identity.attachments {
        let at = a.location.clone();
        match a.title.as_deref() {
            Some(t) if !t.trim().is_empty() => {}
            _ => out.push(
                rule::CC_ATTACHMENT_TITLE
                    .breach("an attachment has no title")
                    .at(format!("{at}.title")),
            ),
        }
        // Without data there is nothing to decode: a link (url) or, in a reply, a reference to an
        // earlier attachment that keeps only contentType and title.
        if !a.has_data {
            continue;
        }
        let ct = a.content_type.as_deref().unwrap_or("");
        if !allowed.allows(ct) {
            out.push(
                rule::CC_ATTACHMENT_MIME
                    .breach(if ct.is_empty() {
                        "an attachment with data has no contentType (FHIR att-1)".to_string()
                    } else {
                        format!(
                            "contentType `{ct}` is not in {} ({})",
                            allowed.source,
                            allowed.codes.join(", ")
                        )
                    })
                    .at(format!("{at}.contentType")),
            );
        }
        let Some(data) = &a.data else {
            out.push(
                rule::CC_ATTACHMENT_DATA
                    .breach(format!(
                        "attachment `{}`: data is {}",
                        a.title.as_deref().unwrap_or("?"),
                        a.data_error.as_deref().unwrap_or("not decodable")
                    ))
                    .at(format!("{at}.data")),
            );
            continue;
        };
        if let Some(size) = a.declared_size
            && size != data.size
        {
            out.push(
                rule::CC_ATTACHMENT_DATA
                    .breach(format!(
                        "size says {size} bytes but the data decodes to {} bytes",
                        data.size
                    ))
                    .at(format!("{at}.size")),
            );
        }
        if let Some(hash) = &a.declared_hash
            && hash != &data.sha1_base64
        {
            out.push(
                rule::CC_ATTACHMENT_DATA
                    .breach(format!(
                        "hash `{hash}` is not the base64 SHA-1 of the decoded data (`{}`)",
                        data.sha1_base64
                    ))
                    .at(format!("{at}.hash")),
            );
        }
        if let Some(sniffed) = &data.sniffed_type
            && allowed.allows(ct)
            && !sniffed.eq_ignore_ascii_case(ct)
        {
            out.push(
                rule::CC_ATTACHMENT_MIME
                    .finding(
                        Grade::F3,
                        format!(
                            "contentType says `{ct}` but the bytes are `{sniffed}` (magic number)"
                        ),
                    )
                    .at(format!("{at}.contentType")),
            );
        }
    }
    if out.is_empty() && !message.identity.attachments.is_empty() {
        out.push(rule::CC_ATTACHMENT_DATA.pass(format!(
            "{} attachment(s): titles, MIME types and data are in order",
            message.identity.attachments.len()
        )));
    }
    out
}
