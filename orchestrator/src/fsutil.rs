//! Atomic file writes: a reader (or a crash) sees the old file or the new one, never a part,
//! and the file has its permission bits from the first byte (a unit may carry secrets).

use std::fs::{File, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::error::{Error, Result};

/// The steps of an atomic write, in order; a test hook may stop the write after any of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The temporary file exists (empty).
    Created,
    /// The content is written (maybe not yet on disk).
    Written,
    /// The temporary file is fsynced.
    Synced,
    /// The temporary file replaced the target.
    Renamed,
    /// The folder is fsynced, so the rename survives power loss.
    DirSynced,
}

/// Owner read and write only: unit files (their `Environment=` may hold secrets) and the state file.
pub const PRIVATE: u32 = 0o600;

/// Writes `bytes` to `path` atomically with permission bits `mode`: temp file in the same folder,
/// write, fsync, rename, fsync folder.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    write_atomic_with(path, bytes, mode, &mut |_| Ok(()))
}

/// `write_atomic`, calling `after` at each step; an error from it aborts the write there,
/// like a kill would (the temp file is left behind, as a crash would leave it).
pub fn write_atomic_with(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    after: &mut dyn FnMut(Step) -> std::io::Result<()>,
) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| Error::Internal(format!("no file name in {}", path.display())))?;
    // A dot prefix keeps the temp file out of every `*.container` / `*.json` glob.
    let tmp = dir.join(format!(".{}.tmp", name.to_string_lossy()));
    let io = Error::io(path);
    let mut run = || -> std::io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)?;
        // `mode` applies only to a new file; a temp file left by a crash keeps its old bits.
        f.set_permissions(Permissions::from_mode(mode))?;
        after(Step::Created)?;
        f.write_all(bytes)?;
        after(Step::Written)?;
        f.sync_all()?;
        after(Step::Synced)?;
        std::fs::rename(&tmp, path)?;
        after(Step::Renamed)?;
        File::open(dir)?.sync_all()?;
        after(Step::DirSynced)
    };
    run().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupted_write_leaves_the_old_or_the_new_file() {
        let dir = std::env::temp_dir().join(format!("orch-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("app.container");
        let steps = [
            Step::Created,
            Step::Written,
            Step::Synced,
            Step::Renamed,
            Step::DirSynced,
        ];
        for (i, stop_at) in steps.into_iter().enumerate() {
            std::fs::write(&target, "old unit\n").unwrap();
            let result = write_atomic_with(&target, b"new unit\n", PRIVATE, &mut |s| {
                if s == stop_at {
                    Err(std::io::Error::other("killed"))
                } else {
                    Ok(())
                }
            });
            assert!(result.is_err(), "{stop_at:?}");
            let expect = if i >= 3 { "new unit\n" } else { "old unit\n" };
            assert_eq!(
                std::fs::read_to_string(&target).unwrap(),
                expect,
                "stopped after {stop_at:?}"
            );
        }
        std::fs::set_permissions(&target, Permissions::from_mode(0o644)).unwrap();
        write_atomic(&target, b"final\n", PRIVATE).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "final\n");
        let mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the old file's 0644 is not kept");
        assert!(!dir.join(".app.container.tmp").exists());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
