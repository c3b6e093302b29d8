//! `capabilities.html`: one self-contained page (no scripts, no external assets): units with and
//! without a messaging endpoint per unit type as an inline SVG chart, the unit list in tree
//! order (indented by depth), the tested matrix and the approved-systems table.

use std::fmt::Write as _;

use super::{APPROVED_COLUMNS, Capabilities};
use crate::stats::html::{STYLE, bars, table};

/// The page.
pub fn page(c: &Capabilities) -> String {
    let mut out = format!(
        "<!DOCTYPE html><html lang=\"da\"><head><meta charset=\"utf-8\"><title>Hvem kan hvad: MedCom messaging capabilities</title><style>{STYLE}.indent{{color:#999}}</style></head><body><h1>Hvem kan hvad: who can receive what</h1>"
    );
    let with: usize = c.unit_types.values().map(|t| t.with_endpoint).sum();
    let without: usize = c.unit_types.values().map(|t| t.without_endpoint).sum();
    let _ = write!(
        out,
        "<p>{} unit(s) from the registry: {with} with a messaging endpoint, {without} without one.</p>",
        c.units.len()
    );
    if !c.unit_types.is_empty() {
        out.push_str("<h2>Units per type, with and without a messaging endpoint</h2>");
        let rows: Vec<(String, f64)> = c
            .unit_types
            .iter()
            .flat_map(|(t, n)| {
                [
                    (format!("{t}: with endpoint"), n.with_endpoint as f64),
                    (format!("{t}: without"), n.without_endpoint as f64),
                ]
            })
            .collect();
        out.push_str(&bars("Units per type with and without an endpoint", &rows));
        out.push_str(&table(
            &["Unit type", "With endpoint", "Without endpoint"],
            &c.unit_types
                .iter()
                .map(|(t, n)| {
                    vec![
                        t.clone(),
                        n.with_endpoint.to_string(),
                        n.without_endpoint.to_string(),
                    ]
                })
                .collect::<Vec<_>>(),
        ));
        out.push_str("<h2>Units per sector</h2><p class=\"note\">The sector of each unit and where it is read from is in the unit list and <code>capabilities.csv</code> (<code>sector_source</code>); <code>general practice</code> for an EER health institution without a unit type is inferred from its own CVR.</p>");
        out.push_str(&table(
            &["Sector", "With endpoint", "Without endpoint"],
            &c.sectors
                .iter()
                .map(|(t, n)| {
                    vec![
                        t.clone(),
                        n.with_endpoint.to_string(),
                        n.without_endpoint.to_string(),
                    ]
                })
                .collect::<Vec<_>>(),
        ));
        out.push_str("<h2>Units and the message types they accept</h2>");
        out.push_str(&table(
            &[
                "Unit",
                "SOR id",
                "Type",
                "Municipality",
                "Region",
                "Sector",
                "EAN/GLN",
                "Endpoint",
                "Accepts",
            ],
            &c.units
                .iter()
                .map(|u| {
                    vec![
                        format!("{}{}", "· ".repeat(u.depth), u.name),
                        u.sor_id.clone(),
                        u.unit_type.clone(),
                        u.municipality.clone().unwrap_or_default(),
                        u.region.clone().unwrap_or_default(),
                        format!("{} ({})", u.sector, u.sector_source),
                        u.gln.clone().unwrap_or_default(),
                        if u.has_endpoint { "yes" } else { "no" }.into(),
                        u.accepts.join(", "),
                    ]
                })
                .collect::<Vec<_>>(),
        ));
    }
    if !c.matrix.is_empty() {
        out.push_str("<h2>Tested: system x standard x direction x feature</h2>");
        out.push_str(&table(
            &[
                "System",
                "Standard",
                "Direction",
                "Feature",
                "Verdict",
                "Proved by",
            ],
            &c.matrix
                .iter()
                .map(|m| {
                    vec![
                        m.system.clone(),
                        m.standard.clone(),
                        m.direction.clone(),
                        m.feature.clone(),
                        m.verdict.clone(),
                        m.scenarios.join(", "),
                    ]
                })
                .collect::<Vec<_>>(),
        ));
        out.push_str("<h2>In the columns of MedCom's list of approved systems</h2><p class=\"note\">Compare with MedCom's public list; the test status here is the harness's, not MedCom's approval.</p>");
        out.push_str(&table(
            &APPROVED_COLUMNS,
            &c.approved
                .iter()
                .map(|a| {
                    vec![
                        a.system.clone(),
                        a.leverandor.clone(),
                        a.systemtype.clone(),
                        a.standard.clone(),
                        a.standard_id.clone(),
                        a.kanal.clone(),
                        a.teststatus.clone(),
                    ]
                })
                .collect::<Vec<_>>(),
        ));
    }
    out.push_str("</body></html>\n");
    out
}
