//! `AppId`: the name of an app, safe to use as a file name, unit name and URL segment.

use std::fmt;

/// An app id: `[a-z0-9][a-z0-9-]{0,62}`. One that could escape a directory cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct AppId(String);

/// Why a string is not an app id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid app id {value:?}: must match [a-z0-9][a-z0-9-]{{0,62}}")]
pub struct InvalidAppId {
    /// The refused value.
    pub value: String,
}

impl AppId {
    /// Checks `value` and wraps it.
    pub fn new(value: &str) -> Result<Self, InvalidAppId> {
        let bytes = value.as_bytes();
        let ok = !bytes.is_empty()
            && bytes.len() <= 63
            && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(InvalidAppId {
                value: value.to_owned(),
            })
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

impl<'de> serde::Deserialize<'de> for AppId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        AppId::new(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_ids() {
        for id in ["lab-chain", "a", "0", "bitcoin-knots", &"a".repeat(63)] {
            assert_eq!(AppId::new(id).unwrap().as_str(), id);
        }
    }

    #[test]
    fn refuses_ids_that_could_escape_or_are_malformed() {
        for id in [
            "",
            "../x",
            "a/b",
            "-a",
            "A",
            "a_b",
            "a.b",
            &"a".repeat(64),
            "a b",
        ] {
            assert!(AppId::new(id).is_err(), "{id:?} accepted");
        }
    }
}
