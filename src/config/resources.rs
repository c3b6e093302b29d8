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
