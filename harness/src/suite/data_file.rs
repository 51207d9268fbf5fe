//! `DataFile`: one small TOML data file (an L5 scenario, an L6 KPI cell) being checked, with the
//! refusals every such file shares, each naming the file, line and key.

use std::path::Path;

use serde::de::DeserializeOwned;
use toml::Spanned;

use super::SuiteError;
use crate::{model::AppId, toml_pos::line_of};

/// A file's path and text.
pub struct DataFile<'a> {
    /// The file.
    pub path: &'a Path,
    /// Its text.
    pub text: &'a str,
}

impl DataFile<'_> {
    /// The file as its wire shape; a syntax error or unknown key names its line.
    pub fn wire<W: DeserializeOwned>(&self) -> Result<W, SuiteError> {
        toml::from_str(self.text).map_err(|e| SuiteError::Syntax {
            path: self.path.to_owned(),
            line: e.span().map_or(1, |s| line_of(self.text, s.start)),
            message: e.message().to_owned(),
        })
    }

    /// A refusal of `key` at byte `at`.
    pub fn bad(&self, key: &str, at: usize, message: String) -> SuiteError {
        SuiteError::Invalid {
            path: self.path.to_owned(),
            line: line_of(self.text, at),
            key: key.into(),
            message,
        }
    }

    /// The file's stem, which names the case: lowercase letters, digits and '-'.
    pub fn name(&self, key: &str, what: &str) -> Result<String, SuiteError> {
        self.path
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|s| AppId::new(s).is_ok())
            .map(str::to_owned)
            .ok_or_else(|| {
                let m = format!(
                    "the file name must be a {what} name: lowercase letters, digits and '-'"
                );
                self.bad(key, 0, m)
            })
    }

    /// The one of `all` that `value` names (`what` in the refusal, with the known names).
    pub fn one_of<T: Copy>(
        &self,
        key: &str,
        what: &str,
        value: &Spanned<String>,
        all: &[T],
        name: fn(T) -> &'static str,
    ) -> Result<T, SuiteError> {
        all.iter()
            .copied()
            .find(|t| name(*t) == value.get_ref())
            .ok_or_else(|| {
                let known: Vec<_> = all.iter().map(|t| name(*t)).collect();
                let m = format!(
                    "unknown {what} {:?} (known: {})",
                    value.get_ref(),
                    known.join(", ")
                );
                self.bad(key, value.span().start, m)
            })
    }

    /// The catalog app `value` names.
    pub fn app(
        &self,
        key: &str,
        value: &Spanned<String>,
        apps: &[AppId],
    ) -> Result<AppId, SuiteError> {
        AppId::new(value.get_ref())
            .ok()
            .filter(|a| apps.contains(a))
            .ok_or_else(|| {
                let m = format!("app {:?} has no suite in this catalog", value.get_ref());
                self.bad(key, value.span().start, m)
            })
    }
}
