//! The one way the harness replaces a file: reports, TESTING.md and the lab's files.

use std::{
    fs,
    io::{self, Write},
    os::unix::fs::OpenOptionsExt,
    path::Path,
};

/// Writes `contents` to a temp file beside `path` (created with `mode`), fsyncs it, renames it
/// over `path` and fsyncs the directory: after a kill -9 a reader finds the old file or the new
/// one, never half of one. The parent directory is created when missing.
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn replaces_the_file_with_its_mode_and_leaves_no_temp_file() {
        let dir = std::env::temp_dir().join(format!("harness-fsutil-{}", std::process::id()));
        let path = dir.join("sub/file.txt");
        write_atomic(&path, b"old", 0o600).unwrap();
        write_atomic(&path, b"new", 0o600).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let names: Vec<_> = fs::read_dir(dir.join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["file.txt"]);
        // A directory where the file should be: the rename fails and the temp file goes.
        fs::create_dir_all(dir.join("sub/taken/inner")).unwrap();
        assert!(write_atomic(&dir.join("sub/taken"), b"x", 0o644).is_err());
        assert_eq!(fs::read_dir(dir.join("sub")).unwrap().count(), 2);
        fs::remove_dir_all(&dir).unwrap();
    }
}
