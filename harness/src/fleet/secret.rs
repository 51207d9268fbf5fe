//! `Secret`: a reference to a password held in a file or an environment variable, read at run time.

use std::path::PathBuf;

use super::redact::MIN_SECRET_LEN;
use crate::error::Error;

/// Where a secret lives; the value itself is never stored in config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// The first line of a file.
    File(PathBuf),
    /// An environment variable.
    Env(String),
}

impl Secret {
    /// Reads the value now (trailing newline removed).
    pub fn resolve(&self) -> Result<String, Error> {
        let value = match self {
            Secret::File(path) => std::fs::read_to_string(path).map_err(|e| Error::Secret {
                what: path.display().to_string(),
                reason: e.to_string(),
            })?,
            Secret::Env(var) => std::env::var(var).map_err(|e| Error::Secret {
                what: format!("${var}"),
                reason: e.to_string(),
            })?,
        };
        self.checked(value.trim_end_matches(['\n', '\r']).to_owned())
    }

    /// The value when it can be kept out of reports: an empty one or one shorter than
    /// [`MIN_SECRET_LEN`] characters is refused (the redactor could not mask it without blanking
    /// out ordinary words, and such a password is no secret anyway).
    fn checked(&self, value: String) -> Result<String, Error> {
        let refuse = |reason: String| Error::Secret {
            what: self.describe(),
            reason,
        };
        match value.chars().count() {
            0 => Err(refuse("it is empty".into())),
            n if n < MIN_SECRET_LEN => Err(refuse(format!(
                "it is {n} character{} long; a secret must have at least {MIN_SECRET_LEN} so reports can mask it",
                if n == 1 { "" } else { "s" }
            ))),
            _ => Ok(value),
        }
    }

    /// Where the secret is, for messages.
    pub fn describe(&self) -> String {
        match self {
            Secret::File(p) => p.display().to_string(),
            Secret::Env(v) => format!("${v}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_shorter_than_four_characters_is_refused_naming_its_source() {
        let dir = std::env::temp_dir().join(format!("harness-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pw");
        std::fs::write(&file, "abc\n").unwrap();
        let e = Secret::File(file.clone()).resolve().unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "failed to read secret {}: it is 3 characters long; a secret must have at least 4 so reports can mask it",
                file.display()
            )
        );
        std::fs::write(&file, "abcd\n").unwrap();
        assert_eq!(Secret::File(file).resolve().unwrap(), "abcd");
        std::fs::remove_dir_all(&dir).unwrap();

        // The environment is process-wide, so the env source is checked on its value directly.
        let env = Secret::Env("ARCHY_RELEASE_PASSWORD".into());
        let e = env.checked("é".into()).unwrap_err();
        assert!(
            e.to_string().contains("$ARCHY_RELEASE_PASSWORD")
                && e.to_string().contains("it is 1 character long"),
            "{e}"
        );
        assert!(
            env.checked(String::new())
                .unwrap_err()
                .to_string()
                .contains("it is empty")
        );
        assert_eq!(env.checked("ééé€".into()).unwrap(), "ééé€");
    }
}
