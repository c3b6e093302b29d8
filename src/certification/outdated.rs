//! Whether a MedCom package found is older than the standard the scenarios test: a cache holding
//! `medcom.fhir.dk.carecommunication#4.0.0` judges a CareCommunication 5.0 suite by the 4.0
//! profiles, and every finding about a 5.0 element then misleads.
//!
//! A scenario's `standard` names the standard and its version (`CareCommunication 5.0`); MedCom
//! publishes that standard's IG as the package `medcom.fhir.dk.<standard, lower case>`
//! (packages.fhir.org; `medcom.fhir.dk.carecommunication`, `medcom.fhir.dk.hospitalnotification`,
//! `medcom.fhir.dk.acknowledgement`). A corpus folder without `package.json` goes by its folder
//! name (`carecommunication`). Versions are compared on major and minor: a patch release of the
//! wanted version is the wanted version.

use serde::{Deserialize, Serialize};

use super::IgPackage;

/// A package older than the standard the scenarios test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outdated {
    /// The package as found: `medcom.fhir.dk.carecommunication`.
    pub package: String,
    /// Its version: `4.0.0`.
    pub version: String,
    /// The standard and version the scenarios test: `CareCommunication 5.0`.
    pub wanted: String,
}

impl Outdated {
    /// The warning the console prints and the English report shows.
    pub fn sentence(&self) -> String {
        format!(
            "{}#{} is older than {}, which the scenarios test: profiles are judged by the older guide. Install MedCom's {} package (`medcom-harness ig add PACKAGE.tgz`)",
            self.package, self.version, self.wanted, self.wanted
        )
    }

    /// [`Outdated::sentence`] in Danish.
    pub fn sentence_da(&self) -> String {
        format!(
            "{}#{} er ældre end {}, som scenarierne tester: profilerne bedømmes efter den ældre guide. Installér MedComs pakke til {} (`medcom-harness ig add PAKKE.tgz`)",
            self.package, self.version, self.wanted, self.wanted
        )
    }
}

/// `major.minor` of a version (`5.0.2` -> `(5, 0)`, `4.0.0-trial-use` -> `(4, 0)`); `None` when
/// it does not start with a number.
fn major_minor(version: &str) -> Option<(u64, u64)> {
    let mut parts = version.split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

/// The standard and version a scenario's `standard` names (`CareCommunication 5.0; MedCom
/// governance …` -> `("CareCommunication", "5.0")`); `None` without a version.
fn standard_version(standard: &str) -> Option<(&str, &str)> {
    let mut words = standard
        .split(';')
        .next()
        .unwrap_or_default()
        .split_whitespace();
    let name = words.next()?;
    let version = words.next()?;
    major_minor(version).map(|_| (name, version))
}

/// The packages among `packages` older than a standard in `standards` (scenarios' `standard`
/// texts), one entry per package, against the newest version the scenarios name.
pub fn outdated<'a>(
    packages: &[IgPackage],
    standards: impl IntoIterator<Item = &'a str>,
) -> Vec<Outdated> {
    let mut wanted: Vec<(String, String, (u64, u64))> = Vec::new();
    for (name, version) in standards.into_iter().filter_map(standard_version) {
        let Some(mm) = major_minor(version) else {
            continue;
        };
        match wanted.iter_mut().find(|(n, _, _)| n == name) {
            Some(w) if w.2 < mm => *w = (name.to_owned(), version.to_owned(), mm),
            Some(_) => {}
            None => wanted.push((name.to_owned(), version.to_owned(), mm)),
        }
    }
    let mut out = Vec::new();
    for p in packages {
        let Some(have) = major_minor(&p.version) else {
            continue;
        };
        let short = p.name.rsplit('.').next().unwrap_or(&p.name);
        for (name, version, mm) in &wanted {
            if short.eq_ignore_ascii_case(name) && have < *mm {
                out.push(Outdated {
                    package: p.name.clone(),
                    version: p.version.clone(),
                    wanted: format!("{name} {version}"),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certification::PackageSource;

    fn package(name: &str, version: &str) -> IgPackage {
        IgPackage {
            name: name.into(),
            version: version.into(),
            source: PackageSource::PackageCache,
            path: String::new(),
        }
    }

    #[test]
    fn a_carecommunication_4_package_is_outdated_for_a_5_0_suite_and_named_with_both_versions() {
        // packages.fhir.org: medcom.fhir.dk.carecommunication 4.0.0 (2024) and 5.0.x (2025-26).
        let found = outdated(
            &[
                package("medcom.fhir.dk.carecommunication", "4.0.0"),
                package("medcom.fhir.dk.core", "2.4.0"),
            ],
            [
                "CareCommunication 5.0",
                "CareCommunication 5.0; MedCom governance 020/040 (KR7)",
                "XDIS91 XD9134L / XCTL03",
            ],
        );
        assert_eq!(
            found,
            [Outdated {
                package: "medcom.fhir.dk.carecommunication".into(),
                version: "4.0.0".into(),
                wanted: "CareCommunication 5.0".into(),
            }]
        );
        let text = found[0].sentence();
        assert!(
            text.contains("medcom.fhir.dk.carecommunication#4.0.0"),
            "{text}"
        );
        assert!(text.contains("CareCommunication 5.0"), "{text}");
    }

    #[test]
    fn the_wanted_version_or_a_patch_or_newer_release_is_not_outdated() {
        let standards = ["CareCommunication 5.0", "HospitalNotification 3.0"];
        for (name, version) in [
            ("medcom.fhir.dk.carecommunication", "5.0.0"),
            ("medcom.fhir.dk.carecommunication", "5.0.2"),
            ("medcom.fhir.dk.carecommunication", "5.1.0"),
            ("hospitalnotification", "3.0.1"),
            ("medcom.fhir.dk.carecommunication", "unknown"),
        ] {
            assert!(
                outdated(&[package(name, version)], standards).is_empty(),
                "{name} {version}"
            );
        }
        assert_eq!(
            outdated(&[package("hospitalnotification", "2.1.0")], standards).len(),
            1,
            "a corpus folder goes by its name"
        );
    }
}
