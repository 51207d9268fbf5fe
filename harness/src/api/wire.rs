//! Reading a JSON-RPC `result`: the reply as it came (a `serde_json::Value`) is the wire form;
//! `Fields` checks it field by field into the harness's types, so a field that is absent or does
//! not fit is a `ReplyError` naming the method, the field's path and the value. Fields the
//! harness does not read are ignored: the contract may grow.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::ReplyError;
use crate::model::AppId;

/// A result type checked out of a JSON-RPC `result`.
pub trait FromReply: Sized {
    /// Checks `result`, the reply of `method`.
    fn from_reply(method: &str, result: &Value) -> Result<Self, ReplyError>;
}

/// The raw result, unchecked (for a reply the harness passes on as JSON).
impl FromReply for Value {
    fn from_reply(_: &str, result: &Value) -> Result<Self, ReplyError> {
        Ok(result.clone())
    }
}

/// A word the API spells in JSON (a state, a desired state, a health), parsed by its serde name.
pub(crate) trait Word: DeserializeOwned {
    /// Every spelling, for saying what was expected.
    fn spellings() -> Vec<&'static str>;
}

/// One JSON object of a reply, and where it sits in the result.
pub(crate) struct Fields<'a> {
    method: &'a str,
    /// The object's path in the result: empty for the result itself, `apps[2]` in a list.
    path: String,
    map: &'a Map<String, Value>,
}

/// `v` as JSON text, cut so a whole reply never floods a message.
fn shown(v: &Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(200) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text,
    }
}

impl<'a> Fields<'a> {
    /// The result of `method` itself, which must be an object.
    pub fn result(method: &'a str, v: &'a Value) -> Result<Self, ReplyError> {
        Self::at(method, String::new(), v)
    }

    fn at(method: &'a str, path: String, v: &'a Value) -> Result<Self, ReplyError> {
        match v.as_object() {
            Some(map) => Ok(Self { method, path, map }),
            None => Err(ReplyError::Invalid {
                method: method.to_owned(),
                field: if path.is_empty() {
                    "result".into()
                } else {
                    path
                },
                value: shown(v),
                expected: "an object".into(),
            }),
        }
    }

    fn path_of(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn invalid(&self, key: &str, v: &Value, expected: &str) -> ReplyError {
        ReplyError::Invalid {
            method: self.method.to_owned(),
            field: self.path_of(key),
            value: shown(v),
            expected: expected.to_owned(),
        }
    }

    /// A field the contract requires: absent is `Missing`; null or a value `check` refuses is
    /// `Invalid`.
    fn required<T>(
        &self,
        key: &str,
        expected: &str,
        check: impl FnOnce(&'a Value) -> Option<T>,
    ) -> Result<T, ReplyError> {
        let v = self.map.get(key).ok_or_else(|| ReplyError::Missing {
            method: self.method.to_owned(),
            field: self.path_of(key),
            expected: expected.to_owned(),
        })?;
        check(v).ok_or_else(|| self.invalid(key, v, expected))
    }

    /// A field that may be absent or null (`None`); any other value must pass `check`.
    fn optional<T>(
        &self,
        key: &str,
        expected: &str,
        check: impl FnOnce(&'a Value) -> Option<T>,
    ) -> Result<Option<T>, ReplyError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => check(v)
                .map(Some)
                .ok_or_else(|| self.invalid(key, v, expected)),
        }
    }

    /// A required string.
    pub fn string(&self, key: &str) -> Result<String, ReplyError> {
        self.required(key, "a string", |v| v.as_str().map(str::to_owned))
    }

    /// A string, or absent or null.
    pub fn opt_string(&self, key: &str) -> Result<Option<String>, ReplyError> {
        self.optional(key, "a string or null", |v| v.as_str().map(str::to_owned))
    }

    /// A required app id.
    pub fn app_id(&self, key: &str) -> Result<AppId, ReplyError> {
        self.required(key, "an app id", |v| {
            v.as_str().and_then(|s| AppId::new(s).ok())
        })
    }

    /// A required count (a non-negative integer).
    pub fn count(&self, key: &str) -> Result<u64, ReplyError> {
        self.required(key, "a count", Value::as_u64)
    }

    /// A count, or absent or null.
    pub fn opt_count(&self, key: &str) -> Result<Option<u64>, ReplyError> {
        self.optional(key, "a count or null", Value::as_u64)
    }

    /// A required number.
    pub fn number(&self, key: &str) -> Result<f64, ReplyError> {
        self.required(key, "a number", Value::as_f64)
    }

    /// A required boolean.
    pub fn flag(&self, key: &str) -> Result<bool, ReplyError> {
        self.required(key, "true or false", Value::as_bool)
    }

    fn one_of<T: Word>(or_null: bool) -> String {
        format!(
            "one of {}{}",
            T::spellings().join(", "),
            if or_null { ", or null" } else { "" }
        )
    }

    /// A required word (`state`, `health`).
    pub fn word<T: Word>(&self, key: &str) -> Result<T, ReplyError> {
        self.required(key, &Self::one_of::<T>(false), |v| T::deserialize(v).ok())
    }

    /// A word, or absent or null (`desired`).
    pub fn opt_word<T: Word>(&self, key: &str) -> Result<Option<T>, ReplyError> {
        self.optional(key, &Self::one_of::<T>(true), |v| T::deserialize(v).ok())
    }

    /// A list of app ids, or absent or null (`cascaded`).
    pub fn opt_ids(&self, key: &str) -> Result<Option<Vec<AppId>>, ReplyError> {
        self.optional(key, "a list of app ids or null", |v| {
            v.as_array()?
                .iter()
                .map(|x| x.as_str().and_then(|s| AppId::new(s).ok()))
                .collect()
        })
    }

    /// A required object.
    pub fn object(&self, key: &str) -> Result<Fields<'a>, ReplyError> {
        let v = self.required(key, "an object", Some)?;
        Self::at(self.method, self.path_of(key), v)
    }

    /// An object, or absent or null.
    pub fn opt_object(&self, key: &str) -> Result<Option<Fields<'a>>, ReplyError> {
        match self.optional(key, "an object or null", Some)? {
            Some(v) => Self::at(self.method, self.path_of(key), v).map(Some),
            None => Ok(None),
        }
    }

    /// A required list of objects, each with its index in its path (`apps[2]`).
    pub fn objects(&self, key: &str) -> Result<Vec<Fields<'a>>, ReplyError> {
        let list = self.required(key, "a list", Value::as_array)?;
        list.iter()
            .enumerate()
            .map(|(i, v)| Self::at(self.method, format!("{}[{i}]", self.path_of(key)), v))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn absent_null_and_wrong_values_are_told_apart() {
        let v = json!({"a": "x", "n": null, "c": -1, "o": {"k": 5}, "l": [{"k": 1}, 7]});
        let f = Fields::result("m", &v).unwrap();
        assert_eq!(f.string("a"), Ok("x".into()));
        assert_eq!(f.opt_string("n"), Ok(None));
        assert_eq!(f.opt_string("gone"), Ok(None));
        assert_eq!(
            f.string("n").unwrap_err().to_string(),
            "m answered n = null, expected a string"
        );
        assert_eq!(
            f.string("gone").unwrap_err().to_string(),
            "m answered no gone, expected a string"
        );
        assert_eq!(
            f.count("c").unwrap_err().to_string(),
            "m answered c = -1, expected a count"
        );
        assert_eq!(
            f.object("o").unwrap().string("k").unwrap_err().to_string(),
            "m answered o.k = 5, expected a string"
        );
        assert_eq!(
            f.objects("l").err().unwrap().to_string(),
            "m answered l[1] = 7, expected an object"
        );
        assert_eq!(
            Fields::result("m", &json!([1])).err().unwrap().to_string(),
            "m answered result = [1], expected an object"
        );
    }

    #[test]
    fn a_long_value_is_cut() {
        let v = json!({"a": "x".repeat(500)});
        let e = Fields::result("m", &v).unwrap().count("a").unwrap_err();
        let ReplyError::Invalid { value, .. } = e else {
            panic!("{e:?}")
        };
        assert_eq!(value, format!("\"{}...", "x".repeat(199)));
    }
}
