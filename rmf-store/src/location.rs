//! Where an episode or a dataset is: a local path, or a URL of an object store.

use std::fmt;
use std::path::{Path, PathBuf};

use rmf_core::Error;

/// URL schemes read through an object store.
pub const SCHEMES: &[&str] = &["s3", "s3a", "gs", "az", "abfs", "abfss", "http", "https"];

/// A local path or an object-store URL, as a user gives it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Location {
    /// A file or directory on local disk.
    Local(PathBuf),
    /// `scheme://bucket/key` (or an `http(s)://` URL).
    Remote(String),
}

impl Location {
    /// `s3://...`, `gs://...`, `az://...`, `http(s)://...` are remote; anything else
    /// (including `file://`, turned into its path) is a local path.
    pub fn parse(s: &str) -> Location {
        if let Some(rest) = s.strip_prefix("file://") {
            return Location::Local(PathBuf::from(rest));
        }
        match s.split_once("://") {
            Some((scheme, _)) if SCHEMES.contains(&scheme.to_ascii_lowercase().as_str()) => {
                Location::Remote(s.to_string())
            }
            _ => Location::Local(PathBuf::from(s)),
        }
    }

    /// Whether this is in an object store.
    pub fn is_remote(&self) -> bool {
        matches!(self, Location::Remote(_))
    }

    /// The local path, or `None` for a URL.
    pub fn local(&self) -> Option<&Path> {
        match self {
            Location::Local(p) => Some(p),
            Location::Remote(_) => None,
        }
    }

    /// `self/name` (`name` is `/`-separated and relative).
    pub fn join(&self, name: &str) -> Location {
        match self {
            Location::Local(p) => {
                Location::Local(name.split('/').fold(p.clone(), |p, c| p.join(c)))
            }
            Location::Remote(u) => {
                let base = u.trim_end_matches('/');
                Location::Remote(format!("{base}/{}", name.trim_start_matches('/')))
            }
        }
    }

    /// The last component (file name).
    pub fn file_name(&self) -> String {
        match self {
            Location::Local(p) => p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            Location::Remote(u) => u
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string(),
        }
    }

    /// The error for a URL in a build without object stores.
    #[cfg_attr(feature = "cloud", allow(dead_code))]
    pub(crate) fn no_cloud(&self) -> Error {
        Error::FeatureMissing {
            feature: "cloud",
            what: format!("{self}: object stores"),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Local(p) => write!(f, "{}", p.display()),
            Location::Remote(u) => f.write_str(u),
        }
    }
}

impl From<&str> for Location {
    fn from(s: &str) -> Self {
        Location::parse(s)
    }
}

impl From<&Path> for Location {
    fn from(p: &Path) -> Self {
        match p.to_str() {
            Some(s) => Location::parse(s),
            None => Location::Local(p.to_path_buf()),
        }
    }
}

impl From<PathBuf> for Location {
    fn from(p: PathBuf) -> Self {
        Location::from(p.as_path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_of_stores_are_remote_and_the_rest_are_paths() {
        assert!(Location::parse("s3://bucket/a/ep.rmf").is_remote());
        assert!(Location::parse("gs://b/x").is_remote());
        assert!(Location::parse("HTTPS://host/x").is_remote());
        assert_eq!(
            Location::parse("file:///tmp/x.rmf"),
            Location::Local("/tmp/x.rmf".into())
        );
        assert_eq!(
            Location::parse("data/ep.rmf"),
            Location::Local("data/ep.rmf".into())
        );
        assert_eq!(
            Location::parse("s3://b/data/").join("sub/ep.rmf"),
            Location::Remote("s3://b/data/sub/ep.rmf".into())
        );
        assert_eq!(Location::parse("s3://b/data/ep.rmf").file_name(), "ep.rmf");
    }
}
