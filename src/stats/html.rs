//! `stats.html`: one self-contained page (no scripts, no external assets), charts drawn as
//! inline SVG bar charts, each followed by its numbers as a table.

use std::fmt::Write as _;

use super::Stats;

/// `text` escaped for HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A horizontal bar chart as inline SVG: one bar per `(label, value)`, scaled to the largest,
/// value written at the bar's end; `title` is the chart's accessible name.
pub fn bars(title: &str, rows: &[(String, f64)]) -> String {
    const LABEL: f64 = 300.0;
    const WIDTH: f64 = 420.0;
    const ROW: f64 = 22.0;
    let max = rows.iter().map(|(_, v)| *v).fold(0.0_f64, f64::max);
    let height = ROW * rows.len().max(1) as f64 + 8.0;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{}" width="{}" height="{height}" viewBox="0 0 {} {height}">"#,
        escape(title),
        LABEL + WIDTH + 80.0,
        LABEL + WIDTH + 80.0
    );
    for (i, (label, value)) in rows.iter().enumerate() {
        let y = ROW * i as f64 + 4.0;
        let w = if max > 0.0 { WIDTH * value / max } else { 0.0 };
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="end" font-size="12" font-family="sans-serif">{}</text><rect x="{LABEL}" y="{y}" width="{w:.1}" height="{}" fill="#3a6ea5"/><text x="{}" y="{}" font-size="12" font-family="sans-serif">{}</text>"##,
            LABEL - 6.0,
            y + 14.0,
            escape(label),
            ROW - 6.0,
            LABEL + w + 4.0,
            y + 14.0,
            format_value(*value)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn format_value(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A table: header cells and rows of cells (text, escaped here).
pub fn table(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::from("<table><thead><tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>");
    for r in rows {
        out.push_str("<tr>");
        for c in r {
            let _ = write!(out, "<td>{}</td>", escape(c));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

/// The page's style: plain, printable.
pub const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222}h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:.2em .6em;text-align:left;font-size:.9em}th{background:#eef}svg{display:block;margin:.5em 0}.note{color:#555;font-size:.9em}";

/// The statistics page.
pub fn page(stats: &Stats) -> String {
    let mut out = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>MedCom traffic statistics</title><style>{STYLE}</style></head><body><h1>MedCom traffic statistics</h1>"
    );
    let _ = write!(
        out,
        "<p>{} message(s) over {} run(s): {} sent by the harness, {} received from the vendor ({} envelope(s) around them not counted again).</p>",
        stats.messages.total,
        stats.runs.len(),
        stats.messages.sent,
        stats.messages.received,
        stats.envelopes
    );
    out.push_str(&table(
        &["Results", "Target", "Started", "Verdict", "Messages"],
        &stats
            .runs
            .iter()
            .map(|r| {
                vec![
                    r.file.clone(),
                    r.target.clone(),
                    r.started.clone(),
                    r.verdict.clone(),
                    r.messages.to_string(),
                ]
            })
            .collect::<Vec<_>>(),
    ));
    out.push_str("<h2>Messages per statistical code</h2><p class=\"note\">MedCom's statistical codes: MCM:FDIS91#&lt;category&gt; (CareCommunication), MCM:FDIS20#&lt;event&gt; (HospitalNotification), MCM:FCTL#&lt;code&gt; (Acknowledgement), the OIOXML Letter/StatisticalCode.</p>");
    let rows: Vec<(String, f64)> = stats
        .by_code
        .iter()
        .map(|(k, c)| (k.clone(), c.total as f64))
        .collect();
    out.push_str(&bars("Messages per statistical code", &rows));
    out.push_str(&table(
        &["Statistical code", "Sent", "Received", "Total"],
        &stats
            .by_code
            .iter()
            .map(|(k, c)| {
                vec![
                    k.clone(),
                    c.sent.to_string(),
                    c.received.to_string(),
                    c.total.to_string(),
                ]
            })
            .collect::<Vec<_>>(),
    ));
    out.push_str("<h2>Messages per month</h2>");
    let months: Vec<(String, f64)> = stats
        .by_month
        .iter()
        .map(|(m, codes)| (m.clone(), codes.values().sum::<usize>() as f64))
        .collect();
    out.push_str(&bars("Messages per month", &months));
    out.push_str(&table(
        &["Month", "Statistical code", "Messages"],
        &stats
            .by_month
            .iter()
            .flat_map(|(m, codes)| {
                codes
                    .iter()
                    .map(move |(c, n)| vec![m.clone(), c.clone(), n.to_string()])
            })
            .collect::<Vec<_>>(),
    ));
    out.push_str("<h2>Messages per sector pair</h2><p class=\"note\">Sender sector -&gt; receiver sector, from the registry (<code>--registry</code>).</p>");
    let pairs: Vec<(String, f64)> = stats
        .by_sector_pair
        .iter()
        .map(|(k, n)| (k.clone(), *n as f64))
        .collect();
    out.push_str(&bars("Messages per sector pair", &pairs));
    out.push_str("<h2>Acknowledgement and receipt latency</h2><p class=\"note\">From the capture of a message to the capture of its acknowledgement or receipt, milliseconds; median and p95 are nearest-rank.</p>");
    let lat: Vec<(String, f64)> = stats
        .latency
        .iter()
        .map(|l| {
            (
                format!("{} {} p95", l.message_type, l.answer),
                l.p95_ms as f64,
            )
        })
        .collect();
    out.push_str(&bars("p95 latency in milliseconds", &lat));
    out.push_str(&table(
        &[
            "Message type",
            "Answer",
            "Count",
            "Median ms",
            "p95 ms",
            "Max ms",
        ],
        &stats
            .latency
            .iter()
            .map(|l| {
                vec![
                    l.message_type.clone(),
                    l.answer.clone(),
                    l.count.to_string(),
                    l.median_ms.to_string(),
                    l.p95_ms.to_string(),
                    l.max_ms.to_string(),
                ]
            })
            .collect::<Vec<_>>(),
    ));
    out.push_str("<h2>Outcomes</h2>");
    let outcomes: Vec<(String, f64)> = stats
        .scenario_status
        .iter()
        .map(|(k, n)| (format!("scenarios {k}"), *n as f64))
        .chain(
            stats
                .scenario_verdicts
                .iter()
                .map(|(k, n)| (format!("verdict {k}"), *n as f64)),
        )
        .collect();
    out.push_str(&bars("Scenario outcomes", &outcomes));
    out.push_str(&table(
        &["Message type and format", "Messages"],
        &stats
            .by_type_and_format
            .iter()
            .map(|(k, n)| vec![k.clone(), n.to_string()])
            .collect::<Vec<_>>(),
    ));
    out.push_str("</body></html>\n");
    out
}
