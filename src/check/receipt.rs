//! Whether a classic OIOXML receipt is the kind a scenario expects: positive or negative, and the
//! RefuseCode it gives (`oioxml-receipt-kind`). What the receipt quotes is
//! [`crate::oioxml::check::receipt`]'s.

use crate::finding::Finding;
use crate::oioxml::{Receipt, RefuseCode};
use crate::rule;

/// The findings for `receipt` against the expectation: negative when `expected_negative`, and,
/// when `refuse_code` is given, that code among the receipt's RefuseCodes (its own and its
/// letters').
pub fn receipt_kind(
    receipt: &Receipt,
    expected_negative: bool,
    refuse_code: Option<RefuseCode>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let expected = if expected_negative {
        "negative"
    } else {
        "positive"
    };
    if receipt.kind.is_negative() == expected_negative {
        findings.push(rule::OIOXML_RECEIPT_KIND.pass(format!("a {expected} receipt, as expected")));
    } else {
        findings.push(rule::OIOXML_RECEIPT_KIND.breach(format!(
            "expected a {expected} receipt, the vendor sent {} ({:?})",
            receipt.kind.standard(),
            receipt.kind
        )));
    }
    if let Some(expected) = refuse_code {
        let code = expected.as_str();
        let given: Vec<&RefuseCode> = receipt
            .letters
            .iter()
            .filter_map(|l| l.refuse_code.as_ref())
            .chain(receipt.refuse_code.iter())
            .collect();
        if given.contains(&&expected) {
            findings
                .push(rule::OIOXML_RECEIPT_KIND.pass(format!("RefuseCode `{code}` as expected")));
        } else {
            findings.push(rule::OIOXML_RECEIPT_KIND.breach(format!(
                "expected RefuseCode `{code}`, the receipt gives {:?}",
                given.iter().map(|c| c.as_str()).collect::<Vec<_>>()
            )));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Grade;
    use crate::oioxml::{ReceiptKind, RefuseCode, build};

    fn letter() -> crate::oioxml::Emessage {
        build::xdis91(
            build::party("5790000000012", "999991000016001", "A"),
            build::party("5790000000029", "999981000016002", "B"),
            "Emne",
            "Tekst",
            &[],
        )
        .0
    }

    fn receipt_of(kind: ReceiptKind, code: Option<&str>) -> Receipt {
        let m = build::receipt(
            &letter(),
            kind,
            code.map(|c| (RefuseCode::parse(c), "fejl".to_string())),
        );
        m.receipt().cloned().expect("a receipt")
    }

    #[test]
    fn a_negative_receipt_where_a_positive_is_expected_is_a_breach() {
        let negative = receipt_of(ReceiptKind::Negative, Some("syntaksfejl"));
        let findings = receipt_kind(&negative, false, None);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].grade > Grade::Ok, "{findings:?}");
        assert!(findings[0].message.contains("XCTL02"), "{findings:?}");
        let findings = receipt_kind(&negative, true, Some(RefuseCode::Syntaksfejl));
        assert!(
            findings.iter().all(|f| f.grade == Grade::Ok),
            "{findings:?}"
        );
    }

    #[test]
    fn another_refuse_code_than_expected_is_a_breach() {
        let negative = receipt_of(ReceiptKind::Negative, Some("ukendt_lokationsnummer"));
        let findings = receipt_kind(&negative, true, Some(RefuseCode::Syntaksfejl));
        assert!(
            findings
                .iter()
                .any(|f| f.grade > Grade::Ok && f.message.contains("syntaksfejl")),
            "{findings:?}"
        );
    }
}
