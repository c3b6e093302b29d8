//! The public SOR2 CSV export (`SorEntity_daily.csv`, and `LocationsCodeEDITypeMap.csv` of
//! `SOR_complete.zip`), read by column name since the export's exact columns are not pinned in
//! our sources: a header row, `;` or `,` separated. Columns are matched case-insensitively,
//! ignoring everything but letters and digits:
//!
//! | meaning | accepted headers |
//! |---|---|
//! | SOR id | `SorIdentifier`, `SorId`, `SOR-id`, `Sorkode` |
//! | parent | `ParentSorIdentifier`, `ParentSorId`, `ParentId`, `OverordnetSorId` |
//! | location number | `EanLocationCode`, `Lokationsnummer`, `EanLokationsnummer`, `GLN`, `EAN` |
//! | name | `EntityName`, `Name`, `Navn`, `Enhedsnavn` |
//! | CVR | `CVR`, `CvrNummer` |
//! | region | `RegionCode`, `Regionskode`, `Region` |
//! | municipality | `Municipality`, `Kommune`, `Kommunenavn` |
//! | unit type | `UnitType`, `InstitutionType`, `Enhedstype` |
//! | EDI message type | `EdiType`, `EdiMessageType`, `MessageType`, `Meddelelsestype` |
//!
//! A row with a SOR id is a unit; a row with only a location number and an EDI type adds that
//! type to every unit with that location number (the EDI type map). Source: Sundhedsdatastyrelsen,
//! SOR2 export, https://sor2.sum.dsdn.dk/.

use std::collections::BTreeMap;
use std::path::Path;

use super::{Registry, RegistryError, Source, Unit};

const COLUMNS: [(&str, &[&str]); 9] = [
    ("sor", &["soridentifier", "sorid", "sorkode"]),
    (
        "parent",
        &[
            "parentsoridentifier",
            "parentsorid",
            "parentid",
            "overordnetsorid",
        ],
    ),
    (
        "gln",
        &[
            "eanlocationcode",
            "lokationsnummer",
            "eanlokationsnummer",
            "gln",
            "ean",
        ],
    ),
    ("name", &["entityname", "name", "navn", "enhedsnavn"]),
    ("cvr", &["cvr", "cvrnummer"]),
    ("region", &["regioncode", "regionskode", "region"]),
    ("municipality", &["municipality", "kommune", "kommunenavn"]),
    ("type", &["unittype", "institutiontype", "enhedstype"]),
    (
        "edi",
        &[
            "editype",
            "edimessagetype",
            "messagetype",
            "meddelelsestype",
        ],
    ),
];

/// Reads one SOR2 CSV file into `registry`.
///
/// # Errors
///
/// [`RegistryError::Csv`] when a row cannot be read, [`RegistryError::Shape`] when the header has
/// neither a SOR id nor a location number column.
pub fn read(registry: &mut Registry, path: &Path, bytes: &[u8]) -> Result<(), RegistryError> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start_matches('\u{feff}');
    let first = text.lines().next().unwrap_or_default();
    let delimiter = if first.matches(';').count() > first.matches(',').count() {
        b';'
    } else {
        b','
    };
    let csv_error = |source| RegistryError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(csv_error)?.clone();
    let mut at: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, h) in headers.iter().enumerate() {
        let key: String = h
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        if let Some((meaning, _)) = COLUMNS
            .iter()
            .find(|(_, names)| names.contains(&key.as_str()))
        {
            at.entry(meaning).or_insert(i);
        }
    }
    if !at.contains_key("sor") && !at.contains_key("gln") {
        return Err(RegistryError::Shape {
            path: path.to_path_buf(),
            what: "a CSV without a SOR id or location number column (see `registry::sor_csv`)"
                .into(),
        });
    }
    let mut edi_map: Vec<(String, String)> = Vec::new();
    for row in reader.records() {
        let row = row.map_err(csv_error)?;
        let get = |k: &str| {
            at.get(k)
                .and_then(|i| row.get(*i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        match get("sor") {
            Some(sor_id) => registry.add_unit(Unit {
                name: get("name").unwrap_or_default(),
                parent: get("parent"),
                gln: get("gln"),
                cvr: get("cvr"),
                region: get("region"),
                municipality: get("municipality"),
                unit_type: get("type"),
                edi_types: get("edi").into_iter().collect(),
                source: Some(Source::SorCsv),
                sor_id,
                ..Unit::default()
            }),
            None => {
                if let (Some(g), Some(e)) = (get("gln"), get("edi")) {
                    edi_map.push((g, e));
                }
            }
        }
    }
    if !edi_map.is_empty() {
        let units: Vec<Unit> = registry
            .units()
            .filter_map(|u| {
                let g = u.gln.as_deref()?;
                let types: Vec<String> = edi_map
                    .iter()
                    .filter(|(gln, _)| gln == g)
                    .map(|(_, e)| e.clone())
                    .collect();
                (!types.is_empty()).then(|| Unit {
                    sor_id: u.sor_id.clone(),
                    edi_types: types,
                    ..Unit::default()
                })
            })
            .collect();
        for u in units {
            registry.add_unit(u);
        }
    }
    Ok(())
}
