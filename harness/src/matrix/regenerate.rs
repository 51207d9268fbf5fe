//! Entry point: read a results file and count the orchestrator's lines of code, rewrite
//! TESTING.md atomically when its content changes.

use std::{
    fs,
    path::{Path, PathBuf},
};

use super::{loc, markers, render::render_with, results};

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
    /// The LoC budget file is not a valid budget.
    #[error("failed to read the LoC budget {}:{line}: key `{key}`: {message}", path.display())]
    Budget {
        /// `orchestrator/loc-budget.toml`.
        path: PathBuf,
        /// 1-based line of the fault.
        line: usize,
        /// The key.
        key: String,
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

/// Regenerates `testing_md` from `results_json` (and each of the L4, L5 and L6 sections from the
/// first of `extra_json`, separate passes, that ran the layer; L6's trends from the
/// `perf-history.jsonl` of its reports folder)
/// and the code under `orchestrator_dir` (its `src/` and `loc-budget.toml`); returns true when
/// the file changed.
pub fn regenerate(
    results_json: &Path,
    extra_json: &[PathBuf],
    orchestrator_dir: &Path,
    testing_md: &Path,
) -> Result<bool, MatrixError> {
    let read = |path: &Path| {
        let text = fs::read_to_string(path).map_err(|source| MatrixError::Read {
            path: path.to_owned(),
            source,
        })?;
        results::parse(path, &text)
    };
    let results = read(results_json)?;
    let extra = extra_json
        .iter()
        .map(|p| read(p))
        .collect::<Result<Vec<_>, _>>()?;
    let perf_run = extra_json
        .iter()
        .zip(&extra)
        .find(|(_, r)| !super::cells::layer_cases(r, crate::model::Layer::L6).is_empty())
        .map_or(results_json, |(p, _)| p.as_path());
    let history_file = perf_run
        .parent()
        .and_then(Path::parent)
        .map(|reports| reports.join(crate::perf::HISTORY_FILE));
    let history = match history_file {
        Some(f) => crate::perf::read(&f).map_err(|message| MatrixError::Results {
            path: f.clone(),
            message,
        })?,
        None => Vec::new(),
    };
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
    let loc = loc::count(orchestrator_dir)?;
    let next = render_with(&results, &extra, &history, &loc, &previous);
    if next == previous {
        return Ok(false);
    }
    crate::fsutil::write_atomic(testing_md, next.as_bytes(), 0o644).map_err(|source| {
        MatrixError::Write {
            path: testing_md.to_owned(),
            source,
        }
    })?;
    Ok(true)
}

#[cfg(test)]
#[path = "regenerate_tests.rs"]
mod tests;
