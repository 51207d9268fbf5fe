//! Entry point: read a results file, rewrite TESTING.md atomically when its content changes.

use std::{
    fs,
    io::Write as _,
    path::{Path, PathBuf},
};

use super::{markers, render::render, results};

/// Why the matrix could not be regenerated.
#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    /// A file could not be read.
    #[error("failed to read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The results file is not valid results.
    #[error("failed to parse results {}: {message}", path.display())]
    Results {
        /// The results file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// TESTING.md's markers are broken, so the generated block cannot be found safely.
    #[error("failed to regenerate {}:{line}: {message}", path.display())]
    Markers {
        /// TESTING.md.
        path: PathBuf,
        /// 1-based line of the fault.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// TESTING.md could not be written.
    #[error("failed to write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Regenerates `testing_md` from `results_json`; returns true when the file changed.
pub fn regenerate(results_json: &Path, testing_md: &Path) -> Result<bool, MatrixError> {
    let text = fs::read_to_string(results_json).map_err(|source| MatrixError::Read {
        path: results_json.to_owned(),
        source,
    })?;
    let results = results::parse(results_json, &text)?;
    let previous = match fs::read_to_string(testing_md) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(MatrixError::Read {
                path: testing_md.to_owned(),
                source,
            });
        }
    };
    markers::check(&previous, &results.fleet).map_err(|(line, message)| MatrixError::Markers {
        path: testing_md.to_owned(),
        line,
        message,
    })?;
    let next = render(&results, &previous);
    if next == previous {
        return Ok(false);
    }
    write_atomically(testing_md, &next).map_err(|source| MatrixError::Write {
        path: testing_md.to_owned(),
        source,
    })?;
    Ok(true)
}

/// Writes `text` to a temp file beside `path`, fsyncs it, renames it over `path`, fsyncs the
/// directory: a reader sees the old file or the new one, never half of one.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map_or_else(|| "TESTING.md".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        fs::File::open(&dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
#[path = "regenerate_tests.rs"]
mod tests;
