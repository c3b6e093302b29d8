//! Reference resolution inside a message Bundle, by FHIR R4's Bundle rules (bundle.html#references).
//!
//! A relative reference `Type/id` is made absolute with the base of the referencing entry's
//! `fullUrl` (everything before `Type/id` in it); a `urn:uuid:` or `urn:oid:` reference matches only
//! an entry whose `fullUrl` is that same URN; an absolute URL matches an equal `fullUrl`. As a last
//! resort a relative reference matches an entry whose resource has that type and id, which is how
//! receivers treat bundles whose `fullUrl`s use a different base than the reference.

use serde_json::Value;

/// The `entry` array of a Bundle (empty when missing).
pub fn entries(bundle: &Value) -> &[Value] {
    bundle
        .get("entry")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Every entry resource of `resource_type`, with the entry's `fullUrl`.
pub fn resources_of_type<'a>(
    bundle: &'a Value,
    resource_type: &'a str,
) -> impl Iterator<Item = (&'a str, &'a Value)> + 'a {
    entries(bundle).iter().filter_map(move |e| {
        let r = e.get("resource")?;
        (r.get("resourceType").and_then(Value::as_str) == Some(resource_type))
            .then(|| (e.get("fullUrl").and_then(Value::as_str).unwrap_or(""), r))
    })
}

/// How a reference found its entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// By FHIR R4's Bundle rules: an equal absolute `fullUrl`, a `urn:uuid:`/`urn:oid:` reference
    /// equal to a URN `fullUrl`, or a relative `Type/id` made absolute with the referencing
    /// entry's `fullUrl` base.
    Rules,
    /// Only by comparing the reference's `Type/id` with an entry's resource type and id: a
    /// relative reference from a `urn:uuid:` entry, one against another base, or relative
    /// `fullUrl`s. Receivers often take it; FHIR's rules do not.
    TypeAndId,
}

/// Resolves `reference` made from the entry whose `fullUrl` is `from_full_url` (empty when
/// unknown) to the entry resource it names.
pub fn resolve<'a>(bundle: &'a Value, from_full_url: &str, reference: &str) -> Option<&'a Value> {
    resolve_how(bundle, from_full_url, reference).map(|(found, _)| found)
}

/// As [`resolve`], saying whether FHIR's Bundle rules found the entry or only the last resort
/// (the resource type and id).
pub fn resolve_how<'a>(
    bundle: &'a Value,
    from_full_url: &str,
    reference: &str,
) -> Option<(&'a Value, Resolution)> {
    let all = entries(bundle);
    let by_full_url = |url: &str| {
        all.iter()
            .find(|e| e.get("fullUrl").and_then(Value::as_str) == Some(url))
            .and_then(|e| e.get("resource"))
    };
    if reference.starts_with("urn:") || reference.contains("://") {
        return by_full_url(reference).map(|r| (r, Resolution::Rules));
    }
    let mut parts = reference.splitn(3, '/');
    let (Some(rtype), Some(rid)) = (parts.next(), parts.next()) else {
        return None;
    };
    if !from_full_url.starts_with("urn:")
        && let Some(base) = base_of(from_full_url)
    {
        // The fullUrl `{base}{rtype}/{rid}`, compared piece by piece instead of written out.
        let is_it = |url: &str| {
            url.strip_prefix(base)
                .and_then(|u| u.strip_prefix(rtype))
                .and_then(|u| u.strip_prefix('/'))
                == Some(rid)
        };
        if let Some(found) = all
            .iter()
            .find(|e| e.get("fullUrl").and_then(Value::as_str).is_some_and(is_it))
            .and_then(|e| e.get("resource"))
        {
            return Some((found, Resolution::Rules));
        }
    }
    all.iter()
        .filter_map(|e| e.get("resource"))
        .find(|r| {
            r.get("resourceType").and_then(Value::as_str) == Some(rtype)
                && r.get("id").and_then(Value::as_str) == Some(rid)
        })
        .map(|r| (r, Resolution::TypeAndId))
}

/// The service base of an absolute `fullUrl` `…/Type/id`: everything before `Type/id`.
fn base_of(full_url: &str) -> Option<&str> {
    let trimmed = full_url.trim_end_matches('/');
    let (rest, _id) = trimmed.rsplit_once('/')?;
    let (base, _type) = rest.rsplit_once('/')?;
    Some(&full_url[..base.len() + 1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bundle() -> Value {
        json!({"resourceType":"Bundle","entry":[
            {"fullUrl":"https://a.example/fhir/Organization/1","resource":{"resourceType":"Organization","id":"1","name":"A"}},
            {"fullUrl":"urn:uuid:0b0d7c43-3d0e-4d61-9c38-5b3b8a6c2f10","resource":{"resourceType":"Organization","id":"2","name":"U"}},
            {"fullUrl":"https://b.example/Organization/1","resource":{"resourceType":"Organization","id":"1","name":"B"}}
        ]})
    }

    #[test]
    fn relative_reference_resolves_against_the_referencing_entrys_base() {
        let b = bundle();
        let from_b = resolve(&b, "https://b.example/MessageHeader/9", "Organization/1");
        assert_eq!(from_b.and_then(|r| r["name"].as_str()), Some("B"));
        let from_a = resolve(
            &b,
            "https://a.example/fhir/MessageHeader/9",
            "Organization/1",
        );
        assert_eq!(from_a.and_then(|r| r["name"].as_str()), Some("A"));
    }

    #[test]
    fn urn_uuid_reference_matches_only_a_urn_full_url() {
        let b = bundle();
        let r = resolve(&b, "", "urn:uuid:0b0d7c43-3d0e-4d61-9c38-5b3b8a6c2f10");
        assert_eq!(r.and_then(|r| r["name"].as_str()), Some("U"));
        assert!(resolve(&b, "", "Organization/0b0d7c43-3d0e-4d61-9c38-5b3b8a6c2f10").is_none());
    }

    /// FHIR R4 bundle.html#references: a relative reference is resolved against the base of the
    /// referencing entry's fullUrl; "a urn:uuid: fullUrl can only be referenced by the same
    /// urn:uuid:". A `Patient/<uuid>` from a `urn:uuid:` entry finds the Patient only by its
    /// type and id.
    #[test]
    fn a_relative_reference_from_a_urn_entry_resolves_only_by_type_and_id() {
        let b = json!({"resourceType":"Bundle","entry":[
            {"fullUrl":"urn:uuid:9b4c3a4e-6a53-4b3f-9f5e-1c0e7a0c2d11","resource":{"resourceType":"MessageHeader","id":"9b4c3a4e-6a53-4b3f-9f5e-1c0e7a0c2d11"}},
            {"fullUrl":"urn:uuid:0d8f6f2a-3c5e-4a8b-8f7e-2b9c1d3e4f50","resource":{"resourceType":"Patient","id":"0d8f6f2a-3c5e-4a8b-8f7e-2b9c1d3e4f50"}}
        ]});
        let from = "urn:uuid:9b4c3a4e-6a53-4b3f-9f5e-1c0e7a0c2d11";
        let how = resolve_how(&b, from, "Patient/0d8f6f2a-3c5e-4a8b-8f7e-2b9c1d3e4f50")
            .map(|(_, how)| how);
        assert_eq!(how, Some(Resolution::TypeAndId));
        let how = resolve_how(&b, from, "urn:uuid:0d8f6f2a-3c5e-4a8b-8f7e-2b9c1d3e4f50")
            .map(|(_, how)| how);
        assert_eq!(how, Some(Resolution::Rules));
    }

    #[test]
    fn a_relative_reference_against_another_base_resolves_only_by_type_and_id() {
        let b = bundle();
        let how = resolve_how(
            &b,
            "https://c.example/fhir/MessageHeader/9",
            "Organization/1",
        )
        .map(|(_, how)| how);
        assert_eq!(how, Some(Resolution::TypeAndId));
        let how = resolve_how(&b, "https://b.example/MessageHeader/9", "Organization/1")
            .map(|(_, how)| how);
        assert_eq!(how, Some(Resolution::Rules));
    }
}
