//! The `/rpc` guard against cross-site requests. The dashboard calls `/rpc` with the session
//! cookie, so a page elsewhere (or an app page, sandboxed into an opaque origin by the proxy)
//! could make the operator's browser send a call too. Without a CORS preflight, which this server
//! never grants, a browser only sends a cross-origin POST as a "simple" request: a form or a
//! `text/plain` body, never `Content-Type: application/json`. So every call must declare JSON,
//! and a browser's `Origin`, when sent, must be this server's own; read-only methods get no
//! exemption, as one rule is harder to get wrong. Bearer clients (the harness) send JSON and no
//! `Origin`, and pass.

use hyper::StatusCode;
use hyper::header::{CONTENT_TYPE, HOST, HeaderMap, ORIGIN};

/// Why a `/rpc` request is refused before its method runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Its `Origin` is not `http://<its Host>`.
    CrossOrigin,
    /// Its body is not declared `application/json`.
    NotJson,
}

impl Refusal {
    /// The HTTP status it is answered with.
    pub fn status(self) -> StatusCode {
        match self {
            Refusal::CrossOrigin => StatusCode::FORBIDDEN,
            Refusal::NotJson => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        }
    }

    /// The JSON-RPC error message it is answered with.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::CrossOrigin => "invalid request: cross-origin calls are refused",
            Refusal::NotJson => "invalid request: Content-Type must be application/json",
        }
    }
}

/// Checks a `/rpc` request's headers: `Ok` if its method may run.
pub fn check(headers: &HeaderMap) -> Result<(), Refusal> {
    if let Some(origin) = headers.get(ORIGIN) {
        let own = headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .map(|h| format!("http://{h}"));
        if !own.is_some_and(|o| o.as_bytes().eq_ignore_ascii_case(origin.as_bytes())) {
            return Err(Refusal::CrossOrigin);
        }
    }
    let json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"));
    if json { Ok(()) } else { Err(Refusal::NotJson) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_of(pairs: &[(&'static str, &'static str)]) -> Result<(), Refusal> {
        check(
            &pairs
                .iter()
                .map(|(k, v)| (k.parse().unwrap(), v.parse().unwrap()))
                .collect(),
        )
    }

    #[test]
    fn only_json_with_no_origin_or_our_own_passes() {
        let json = ("content-type", "application/json");
        let host = ("host", "10.77.0.228:5678");
        let ours = ("origin", "http://10.77.0.228:5678");
        assert_eq!(check_of(&[json]), Ok(()));
        assert_eq!(
            check_of(&[("content-type", "Application/JSON; charset=utf-8")]),
            Ok(())
        );
        assert_eq!(check_of(&[json, host, ours]), Ok(()));
        for not_json in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/jsonp",
        ] {
            assert_eq!(
                check_of(&[("content-type", not_json), host, ours]),
                Err(Refusal::NotJson),
                "{not_json}"
            );
        }
        assert_eq!(check_of(&[host]), Err(Refusal::NotJson), "no Content-Type");
        for origin in [
            "http://evil.example",
            "null",
            "https://10.77.0.228:5678",
            "http://10.77.0.228",
        ] {
            assert_eq!(
                check_of(&[json, host, ("origin", origin)]),
                Err(Refusal::CrossOrigin),
                "{origin}"
            );
        }
        assert_eq!(
            check_of(&[json, ours]),
            Err(Refusal::CrossOrigin),
            "an Origin and no Host to match it"
        );
    }
}
