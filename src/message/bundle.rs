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

/// Resolves `reference` made from the entry whose `fullUrl` is `from_full_url` (empty when
/// unknown) to the entry resource it names.
pub fn resolve<'a>(bundle: &'a Value, from_full_url: &str, reference: &str) -> Option<&'a Value> {
    let all = entries(bundle);
    let by_full_url = |url: &str| {
        all.iter()
            .find(|e| e.get("fullUrl").and_then(Value::as_str) == Some(url))
            .and_then(|e| e.get("resource"))
    };
    if reference.starts_with("urn:") {
        return by_full_url(reference);
    }
    if reference.contains("://") {
        return by_full_url(reference);
    }
    let mut parts = reference.splitn(3, '/');
    let (Some(rtype), Some(rid)) = (parts.next(), parts.next()) else {
        return None;
    };
    if !from_full_url.starts_with("urn:")
        && let Some(base) = base_of(from_full_url)
        && let Some(found) = by_full_url(&format!("{base}{rtype}/{rid}"))
    {
        return Some(found);
    }
    all.iter().filter_map(|e| e.get("resource")).find(|r| {
        r.get("resourceType").and_then(Value::as_str) == Some(rtype)
            && r.get("id").and_then(Value::as_str) == Some(rid)
    })
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
}
