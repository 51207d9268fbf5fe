//! Writing `reports/<run-id>/` atomically and pointing `reports/latest` at it.

use std::{
    fs,
    path::{Path, PathBuf},
};

use super::{Results, render_junit, render_summary};
use crate::{error::Error, fleet::Redactor};

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

fn write_atomic(path: &Path, text: &str) -> Result<(), Error> {
    crate::fsutil::write_atomic(path, text.as_bytes(), 0o644).map_err(io(path))
}

/// Writes results.json, junit.xml and summary.md (each passed through the redactor) into
/// `<reports>/<run-id>/` and points `<reports>/latest` at it; returns the run's directory.
pub fn write_reports(
    reports: &Path,
    results: &Results,
    redactor: &Redactor,
) -> Result<PathBuf, Error> {
    let dir = reports.join(&results.run_id);
    fs::create_dir_all(&dir).map_err(io(&dir))?;
    write_atomic(
        &dir.join("results.json"),
        &redactor.redact(&results.to_json()),
    )?;
    write_atomic(
        &dir.join("junit.xml"),
        &redactor.redact(&render_junit(results)),
    )?;
    write_atomic(
        &dir.join("summary.md"),
        &redactor.redact(&render_summary(results)),
    )?;
    let tmp = reports.join(format!(".latest.{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    std::os::unix::fs::symlink(&results.run_id, &tmp).map_err(io(&tmp))?;
    let latest = reports.join("latest");
    fs::rename(&tmp, &latest).map_err(io(&latest))?;
    Ok(dir)
}
