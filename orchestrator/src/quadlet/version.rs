//! The podman version on the node, which decides how new keys are written.

use std::fmt;

use crate::error::{Error, Result};

/// A podman version `major.minor.patch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PodmanVersion {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Patch version.
    pub patch: u32,
}

impl PodmanVersion {
    /// Builds a version from its parts.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        PodmanVersion {
            major,
            minor,
            patch,
        }
    }

    /// Parses `podman --version` output (`podman version 5.4.2`) or a bare `5.4.2`.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || Error::PodmanVersion(text.trim().to_owned());
        let word = text.split_whitespace().last().ok_or_else(bad)?;
        let core = word.split(['-', '+', '~']).next().unwrap_or(word);
        let mut parts = core.split('.').map(|p| p.parse::<u32>().map_err(|_| bad()));
        let major = parts.next().ok_or_else(bad)??;
        let minor = parts.next().unwrap_or(Ok(0))?;
        let patch = parts.next().unwrap_or(Ok(0))?;
        Ok(PodmanVersion::new(major, minor, patch))
    }

    /// Whether Quadlet understands `Memory=` (added in podman 5.5).
    pub fn has_memory_key(self) -> bool {
        self >= PodmanVersion::new(5, 5, 0)
    }
}

impl fmt::Display for PodmanVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_podman_output() {
        assert_eq!(
            PodmanVersion::parse("podman version 5.4.2\n").unwrap(),
            PodmanVersion::new(5, 4, 2)
        );
        assert_eq!(
            PodmanVersion::parse("5.5").unwrap(),
            PodmanVersion::new(5, 5, 0)
        );
        assert_eq!(
            PodmanVersion::parse("podman version 5.6.0-dev").unwrap(),
            PodmanVersion::new(5, 6, 0)
        );
        assert!(PodmanVersion::parse("podman version x").is_err());
        assert!(PodmanVersion::parse("").is_err());
    }

    #[test]
    fn memory_key_needs_5_5() {
        assert!(!PodmanVersion::new(5, 4, 2).has_memory_key());
        assert!(PodmanVersion::new(5, 5, 0).has_memory_key());
        assert!(PodmanVersion::new(6, 0, 0).has_memory_key());
    }
}
