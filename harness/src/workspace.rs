//! The workspace root, found one way: the folder holding `fleet.toml`.

use std::path::{Path, PathBuf};

/// The fleet file's name; the folder holding it is the workspace root.
pub const FLEET_FILE: &str = "fleet.toml";

/// The workspace root: the nearest folder at or above `start` holding [`FLEET_FILE`].
///
/// With `with_sources` the folder must also hold the `orchestrator/` sources: `harness lab up`
/// builds them there, so a lone fleet file above a checkout does not count for it. The other
/// commands only need the fleet file (`with_sources = false`).
pub fn find_root(start: &Path, with_sources: bool) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|d| {
            d.join(FLEET_FILE).is_file() && (!with_sources || d.join("orchestrator").is_dir())
        })
        .map(Path::to_path_buf)
}

/// The workspace root of a fleet file, found by [`find_root`] or given with `--fleet-file`:
/// its folder (empty, i.e. the current one, for a bare file name).
pub fn root_of(fleet_file: &Path) -> PathBuf {
    fleet_file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// This checkout's root, for tests reading committed files (suites, fleet.toml, TESTING.md).
#[cfg(test)]
pub fn source_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_nearest_folder_with_the_fleet_file_and_sources_when_asked() {
        let top = std::env::temp_dir().join(format!("harness-workspace-{}", std::process::id()));
        let inner = top.join("a/b");
        std::fs::create_dir_all(&inner).unwrap();
        std::fs::write(top.join(FLEET_FILE), "").unwrap();
        std::fs::write(top.join("a").join(FLEET_FILE), "").unwrap();
        std::fs::create_dir_all(top.join("orchestrator")).unwrap();
        assert_eq!(find_root(&inner, false), Some(top.join("a")));
        assert_eq!(find_root(&inner, true), Some(top.clone()));
        assert_eq!(root_of(&top.join(FLEET_FILE)), top);
        assert_eq!(root_of(Path::new(FLEET_FILE)), PathBuf::new());
        std::fs::remove_dir_all(&top).unwrap();
    }
}
