//! `AppId`: the one name an app goes by; it can never name a path outside a folder.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};

/// An app id matching `[a-z0-9][a-z0-9-]{0,62}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct AppId(String);

impl AppId {
    /// Checks `s` and wraps it; refuses anything that is not a plain lowercase name.
    pub fn parse(s: &str) -> Result<Self> {
        let mut chars = s.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if first_ok && rest_ok && s.len() <= 63 {
            Ok(AppId(s.to_owned()))
        } else {
            Err(Error::InvalidAppId(s.to_owned()))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AppId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        AppId::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_names() {
        for ok in ["a", "lab-chain", "0x", "a-", &"a".repeat(63)] {
            assert_eq!(AppId::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn refuses_paths_and_odd_names() {
        let long = "a".repeat(64);
        for bad in [
            "", "../x", "a/b", "-a", "A", "a_b", "a.b", ".", "a b", &long,
        ] {
            assert!(
                matches!(AppId::parse(bad), Err(Error::InvalidAppId(ref s)) if s == bad),
                "{bad:?} was accepted"
            );
        }
    }
}
