//! The implementation guides and envelope schemas a command works with, loaded and found once
//! (ripgrep's "resolved arguments"): the command line builds a [`Resources`] from the config and
//! its flags, and the runner, the reference vendor and `validate` all take it from there. The
//! library never looks anything up itself (no environment variable, no second load).

use std::path::{Path, PathBuf};

/// The implementation guides and envelope schemas of a command, loaded and found once by the
/// command line and handed to the runner, the reference vendor and `validate` alike.
#[derive(Debug, Clone, Default)]
pub struct Resources {
    /// The implementation guides, loaded into one; `None` when none is named.
    pub ig: Option<std::sync::Arc<crate::validate::profile::Ig>>,
    /// MedCom's envelope XSDs; `None` when no folder is named.
    pub schemas: Option<crate::envelope::SchemaFiles>,
}

impl Resources {
    /// Loads the implementation guides at `igs` (folders of IG resources or `package.tgz`
    /// files) and takes `schemas` as the folder of MedCom's XSDs (the corpus layout).
    ///
    /// # Errors
    /// The [`crate::validate::profile::IgError`] of the first guide that does not load.
    pub fn load(
        igs: &[PathBuf],
        schemas: Option<&Path>,
    ) -> Result<Resources, crate::validate::profile::IgError> {
        let ig = if igs.is_empty() {
            None
        } else {
            let paths: Vec<&Path> = igs.iter().map(PathBuf::as_path).collect();
            Some(std::sync::Arc::new(crate::validate::profile::Ig::load_all(
                &paths,
            )?))
        };
        Ok(Resources {
            ig,
            schemas: schemas.map(crate::envelope::SchemaFiles::in_corpus),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Rust source files under `dir`, recursively.
    fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("src is readable").flatten() {
            let path = entry.path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn the_library_reads_no_environment_variable() {
        // Arguments are resolved once, in the command line (`cli.rs`, `main.rs`): the library
        // gets what the environment said as values. Test modules may read the environment.
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&src, &mut files);
        let mut readers = Vec::new();
        for file in files {
            let name = file.strip_prefix(&src).expect("under src");
            if name == Path::new("cli.rs") || name == Path::new("main.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&file).expect("readable");
            let library = text.split("#[cfg(test)]").next().unwrap_or_default();
            if library.contains("env::var") {
                readers.push(name.display().to_string());
            }
        }
        assert!(
            readers.is_empty(),
            "the library reads the environment in {readers:?}"
        );
    }
}
