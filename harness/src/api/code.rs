//! `ErrorCode`: the JSON-RPC error codes the API answers with, the application's own
//! (-32001..-32010) and the standard ones, and any other code kept as it came.

use std::fmt;

/// A JSON-RPC error code; build it with [`ErrorCode::from_code`] so a known code is never `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// -32700: the body is not JSON.
    ParseError,
    /// -32600: not a JSON-RPC 2.0 request object.
    InvalidRequest,
    /// -32601: no such method.
    MethodNotFound,
    /// -32602: params missing, of the wrong type, or not an app id.
    InvalidParams,
    /// -32603: the server failed internally.
    InternalError,
    /// -32001: no valid session, or a wrong password.
    Unauthorized,
    /// -32002: the app is neither in the catalog nor installed.
    UnknownApp,
    /// -32003: an app named in `requires` is not installed.
    RequirementMissing,
    /// -32004: the app is not installed (or its unit file is invalid).
    NotInstalled,
    /// -32005: installed apps require the app (the names are in `error.data.dependents`).
    RequiredBy,
    /// -32006: an update did not get healthy and was rolled back.
    UpdateRolledBack,
    /// -32007: too many login attempts.
    TooManyLogins,
    /// -32010: a command the backend ran failed.
    Command,
    /// A code the harness does not know, as it came.
    Other(i64),
}

impl ErrorCode {
    /// Every known code (all but `Other`).
    pub const KNOWN: [ErrorCode; 13] = [
        ErrorCode::ParseError,
        ErrorCode::InvalidRequest,
        ErrorCode::MethodNotFound,
        ErrorCode::InvalidParams,
        ErrorCode::InternalError,
        ErrorCode::Unauthorized,
        ErrorCode::UnknownApp,
        ErrorCode::RequirementMissing,
        ErrorCode::NotInstalled,
        ErrorCode::RequiredBy,
        ErrorCode::UpdateRolledBack,
        ErrorCode::TooManyLogins,
        ErrorCode::Command,
    ];

    /// The code for `code`: a known one, or `Other(code)`.
    pub fn from_code(code: i64) -> Self {
        Self::KNOWN
            .into_iter()
            .find(|c| c.code() == code)
            .unwrap_or(ErrorCode::Other(code))
    }

    /// The number on the wire.
    pub fn code(self) -> i64 {
        match self {
            ErrorCode::ParseError => -32700,
            ErrorCode::InvalidRequest => -32600,
            ErrorCode::MethodNotFound => -32601,
            ErrorCode::InvalidParams => -32602,
            ErrorCode::InternalError => -32603,
            ErrorCode::Unauthorized => -32001,
            ErrorCode::UnknownApp => -32002,
            ErrorCode::RequirementMissing => -32003,
            ErrorCode::NotInstalled => -32004,
            ErrorCode::RequiredBy => -32005,
            ErrorCode::UpdateRolledBack => -32006,
            ErrorCode::TooManyLogins => -32007,
            ErrorCode::Command => -32010,
            ErrorCode::Other(n) => n,
        }
    }
}

/// The number, as the API sent it: messages and notes read `-32004 ...` as before.
impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode::{self, *};

    #[test]
    fn every_code_maps_both_ways() {
        let table = [
            (ParseError, -32700),
            (InvalidRequest, -32600),
            (MethodNotFound, -32601),
            (InvalidParams, -32602),
            (InternalError, -32603),
            (Unauthorized, -32001),
            (UnknownApp, -32002),
            (RequirementMissing, -32003),
            (NotInstalled, -32004),
            (RequiredBy, -32005),
            (UpdateRolledBack, -32006),
            (TooManyLogins, -32007),
            (Command, -32010),
        ];
        assert_eq!(table.map(|(c, _)| c), ErrorCode::KNOWN);
        for (c, n) in table {
            assert_eq!((c.code(), ErrorCode::from_code(n)), (n, c));
        }
    }

    #[test]
    fn an_unknown_code_stays_other_and_prints_as_a_number() {
        for n in [0, -32000, -32008, -32099, 1] {
            assert_eq!(ErrorCode::from_code(n), Other(n));
            assert_eq!(Other(n).code(), n);
        }
        assert_eq!(NotInstalled.to_string(), "-32004");
        assert_eq!(Other(-32099).to_string(), "-32099");
    }
}
