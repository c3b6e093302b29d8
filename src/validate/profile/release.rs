//! Releases: a message of an earlier release of its standard is judged against that release.
//!
//! A MedCom message names its release in `MessageHeader.definition`
//! (`…/medcom-careCommunication-message-definition|4.0.0`; CareCommunication 5 writes
//! `…/MedComCareCommunicationMessageDefinition|5.0`) and its MessageHeader profile in
//! `meta.profile`. `--ig` may name several sources (MedCom's current IG folder and the packages of
//! earlier releases, `carecommunication-4.0.0.package.tgz` with the `core`, `messaging` and
//! `terminology` packages its `package.json` depends on). When the loaded MessageHeader profile's
//! major version is the message's, the message is judged by the IG as loaded; when another
//! source holds that profile in the message's major version, the message is judged by an IG of
//! that source and the loaded packages its manifest depends on; when no source does, the message
//! gets one `ig-release` finding instead of the current release's profile verdicts, which would
//! judge it by rules that were not its own.

use std::path::PathBuf;

use serde_json::Value;

use super::ig::{Ig, IgError};
use crate::finding::Finding;
use crate::rule;

/// Which IG judges a message.
#[derive(Debug)]
pub enum Release {
    /// The IG as loaded: the message is of the loaded release, or names none.
    Loaded,
    /// An IG of the message's earlier release, built from the sources that hold it.
    Earlier(Ig),
    /// No loaded source holds the message's release: one `ig-release` finding.
    NotLoaded(Finding),
}

/// The release `(MessageHeader profile url, version)` a message Bundle names: the MessageHeader's
/// first `meta.profile` (without version) and the version after `|` in its `definition`.
pub fn of_message(bundle: &Value) -> Option<(String, String)> {
    let header = bundle.pointer("/entry/0/resource")?;
    let profile = header.pointer("/meta/profile/0")?.as_str()?;
    let profile = profile.split_once('|').map_or(profile, |(u, _)| u);
    let (_, version) = header.get("definition")?.as_str()?.split_once('|')?;
    Some((profile.to_string(), version.to_string()))
}

fn major(version: &str) -> &str {
    version.split(['.', '-']).next().unwrap_or(version)
}

impl Ig {
    /// Which IG judges `bundle` (see the module docs). An earlier release's IG is built once per
    /// run and kept.
    ///
    /// # Errors
    /// [`IgError`] when the sources of the earlier release cannot be loaded again.
    pub fn release(&self, bundle: &Value) -> Result<Release, IgError> {
        let Some((header, version)) = of_message(bundle) else {
            return Ok(Release::Loaded);
        };
        let inner = &self.inner;
        let Some(current) = inner.profile(&header) else {
            return Ok(Release::Loaded);
        };
        let wanted = major(&version);
        if current.version.as_deref().map(major) == Some(wanted) {
            return Ok(Release::Loaded);
        }
        let holder = inner.origins.iter().find(|o| {
            o.profiles
                .iter()
                .any(|(url, v)| url == &header && v.as_deref().map(major) == Some(wanted))
        });
        let Some(holder) = holder else {
            let mut loaded: Vec<String> = inner
                .origins
                .iter()
                .flat_map(|o| o.profiles.iter())
                .filter(|(url, _)| url == &header)
                .filter_map(|(_, v)| v.clone())
                .collect();
            loaded.sort();
            loaded.dedup();
            return Ok(Release::NotLoaded(
                rule::IG_RELEASE
                    .breach(format!(
                        "the message is of release {version} (MessageHeader.definition), but the IG given by `--ig` holds `{header}` only in version(s) {}: it was not judged against the profiles of another release; load the {version} package and the packages it depends on with `--ig` to judge it",
                        loaded.join(", ")
                    ))
                    .at("Bundle.entry[0].resource.definition"),
            ));
        };
        let key = holder.path.clone();
        if let Some(ig) = inner
            .releases
            .lock()
            .ok()
            .and_then(|m| m.get(&key).cloned())
        {
            return Ok(Release::Earlier(ig));
        }
        let mut paths: Vec<PathBuf> = vec![holder.path.clone()];
        if let Some((_, _, dependencies)) = &holder.package {
            for o in &inner.origins {
                let depended = o.package.as_ref().is_some_and(|(name, version, _)| {
                    dependencies.iter().any(|(n, v)| n == name && v == version)
                });
                if depended && !paths.contains(&o.path) {
                    paths.push(o.path.clone());
                }
            }
        }
        let refs: Vec<&std::path::Path> = paths.iter().map(PathBuf::as_path).collect();
        let ig = Ig::load_all(&refs)?;
        if let Ok(mut m) = inner.releases.lock() {
            m.insert(key, ig.clone());
        }
        Ok(Release::Earlier(ig))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Grade;
    use std::path::Path;

    fn corpus() -> PathBuf {
        crate::test_corpus()
    }

    fn packages() -> PathBuf {
        corpus().join("medcomfhir-website/ig-packages")
    }

    /// CareCommunication 4.0.0's own example (in MedCom's 4.0.0 package, `package/example/`):
    /// `MessageHeader.definition` ends in `|4.0.0`.
    fn example_4_0() -> Value {
        let file = std::fs::File::open(packages().join("carecommunication-4.0.0.package.tgz"))
            .expect("the 4.0.0 package");
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        for entry in archive.entries().expect("tar") {
            let mut entry = entry.expect("entry");
            let name = entry.path().expect("path").to_string_lossy().into_owned();
            if name == "package/example/Bundle-0d5b3c18-fab6-4d93-9d88-c9c8abf1f18c.json" {
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut entry, &mut bytes).expect("read");
                return serde_json::from_slice(&bytes).expect("json");
            }
        }
        panic!("the 4.0.0 example is in MedCom's package");
    }

    fn ig_5_0() -> PathBuf {
        corpus().join("medcomfhir-website/ig")
    }

    #[test]
    fn a_4_0_message_names_its_release_in_messageheader_definition() {
        let (header, version) = of_message(&example_4_0()).expect("a release");
        assert_eq!(
            header,
            "http://medcomfhir.dk/ig/carecommunication/StructureDefinition/medcom-careCommunication-messageHeader"
        );
        assert_eq!(version, "4.0.0");
    }

    #[test]
    fn with_only_5_0_loaded_a_4_0_message_gets_one_ig_release_finding() {
        let ig = Ig::load(&ig_5_0()).expect("5.0 IG");
        match ig.release(&example_4_0()).expect("release") {
            Release::NotLoaded(f) => {
                assert_eq!(f.rule, "ig-release");
                assert_eq!(f.grade, rule::IG_RELEASE.grade);
                assert!(
                    f.message.contains("4.0.0") && f.message.contains("5.0.2"),
                    "{}",
                    f.message
                );
            }
            other => panic!("expected NotLoaded, got {other:?}"),
        }
    }

    #[test]
    fn with_the_4_0_packages_loaded_a_4_0_message_is_judged_by_4_0() {
        let p = packages();
        let sources: Vec<PathBuf> = vec![
            ig_5_0(),
            p.join("carecommunication-4.0.0.package.tgz"),
            p.join("core-2.4.0.package.tgz"),
            p.join("messaging-2.2.0.package.tgz"),
            p.join("terminology-1.7.0.package.tgz"),
        ];
        let refs: Vec<&Path> = sources.iter().map(PathBuf::as_path).collect();
        let ig = Ig::load_all(&refs).expect("5.0 folder and the 4.0 packages");
        let example = example_4_0();
        let Release::Earlier(earlier) = ig.release(&example).expect("release") else {
            panic!("the 4.0 release is loaded");
        };
        // The 4.0.0 package's MessageHeader profile, and the core version 4.0.0 depends on
        // (package.json: medcom.fhir.dk.core 2.4.0).
        let header = earlier
            .inner
            .profile("http://medcomfhir.dk/ig/carecommunication/StructureDefinition/medcom-careCommunication-messageHeader")
            .expect("loaded");
        assert_eq!(header.version.as_deref(), Some("4.0.0"));
        let patient = earlier
            .inner
            .profile("http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-patient")
            .expect("loaded");
        assert_eq!(patient.version.as_deref(), Some("2.4.0"));
        // MedCom's own 4.0.0 example is valid against 4.0.0: no error.
        let errors: Vec<_> = super::super::validate_bundle(&earlier, &example)
            .into_iter()
            .filter(|f| f.grade >= Grade::F2)
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        // A 5.0 message is still judged by the IG as loaded.
        let current: Value = serde_json::from_slice(
            &std::fs::read(
                ig_5_0().join("carecommunication/Bundle-0d5b3c18-fab6-4d93-9d88-c9c8abf1f18c.json"),
            )
            .expect("5.0 example"),
        )
        .expect("json");
        assert!(matches!(
            ig.release(&current).expect("release"),
            Release::Loaded
        ));
    }
}
