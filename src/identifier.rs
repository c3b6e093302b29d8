//! Danish healthcare identifiers: EAN/GLN location numbers and SOR ids.
//!
//! - EAN/GLN (GS1 Global Location Number): 13 digits, the last a GS1 mod-10 check digit
//!   (weights 3,1,3,1,… from the right, excluding the check digit). Danish GLNs start with `579`.
//! - SOR id (Sundhedsvæsenets Organisationsregister, `urn:oid:1.2.208.176.1.1`): digits only;
//!   MedCom's examples and SOR exports use 14–18 digits ending in `1000016` + `00` + one digit.
//!   SOR ids carry no check digit the harness can rely on (DOMAIN.md §8).
//! - FHIR ids (`Bundle.id`, `MessageHeader.id`) and UUIDs in their canonical text form, which
//!   envelopes, validation and the runner all test.

/// The GS1 mod-10 check digit for the first 12 digits of a GLN (or any GS1 key body).
pub fn gs1_check_digit(body: &str) -> Option<u8> {
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    u8::try_from((10 - sum % 10) % 10).ok()
}

/// Whether `ean` is a 13-digit GLN with the right GS1 check digit.
pub fn is_valid_gln(ean: &str) -> bool {
    ean.len() == 13
        && ean.bytes().all(|b| b.is_ascii_digit())
        && gs1_check_digit(&ean[..12]) == Some(ean.as_bytes()[12] - b'0')
}

/// Whether `sor` has the SOR id form seen in SOR exports and MedCom's examples: digits ending in
/// `1000016` + `00` + one digit, with at least one digit before (14 to 18 digits are seen).
pub fn is_valid_sor_id(sor: &str) -> bool {
    (11..=18).contains(&sor.len())
        && sor.bytes().all(|b| b.is_ascii_digit())
        && sor[..sor.len() - 1].ends_with("100001600")
}

/// A FHIR id: `[A-Za-z0-9\-\.]{1,64}`.
pub fn is_fhir_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// A UUID in its canonical text form (any version, either case).
pub fn is_uuid(id: &str) -> bool {
    uuid::Uuid::try_parse(id).is_ok_and(|u| u.hyphenated().to_string().eq_ignore_ascii_case(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gs1_check_digit_matches_gs1_worked_example() {
        // GS1 General Specifications, check digit calculation example: 629104150021 -> 3.
        assert_eq!(gs1_check_digit("629104150021"), Some(3));
    }

    #[test]
    fn medcom_example_glns_are_valid_and_a_changed_digit_is_not() {
        // GLNs of the CareCommunication IG examples (Plejecenter Herlev, Hjerteafdelingen Herlev).
        assert!(is_valid_gln("5790001348120"));
        assert!(is_valid_gln("5790000209354"));
        assert!(!is_valid_gln("5790000209355"));
        assert!(!is_valid_gln("579000020935"));
    }

    #[test]
    fn a_uuid_is_hex_in_8_4_4_4_12_and_a_fhir_id_at_most_64_of_its_characters() {
        // RFC 9562 §4: 8-4-4-4-12 hexadecimal digits; FHIR R4 `id`: [A-Za-z0-9\-\.]{1,64}.
        assert!(is_uuid("0d5b3c18-fab6-4d93-9d88-c9c8abf1f18c"));
        assert!(!is_uuid("gfd00bc2-9c26-4174-934e-f6e4360845de"));
        assert!(!is_uuid("0d5b3c18fab64d939d88c9c8abf1f18c"));
        assert!(is_fhir_id(&"a".repeat(64)));
        assert!(!is_fhir_id(&"a".repeat(65)));
        assert!(!is_fhir_id("a_b"));
    }

    #[test]
    fn sor_ids_of_the_examples_have_the_sor_form() {
        assert!(is_valid_sor_id("953741000016009"));
        assert!(is_valid_sor_id("265161000016000"));
        assert!(!is_valid_sor_id("12345"));
    }
}
