//! Small HTTP helpers shared by the handlers: bodies, responses, and finding the session token.

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, HeaderMap, HeaderValue};
use hyper::{Response, StatusCode};

/// The response type of every handler.
pub type Reply = Response<Full<Bytes>>;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "orchestrator_session";

/// The cookie that lets a browser open proxied app pages (`Path=/app/`, `SameSite=Lax`). App
/// pages are sandboxed (an opaque origin), so a link followed inside one is a cross-site
/// navigation that a `SameSite=Strict` cookie would not go with; this one goes with it, only to
/// `/app/`, and opens nothing else (the API and the dashboard take the session cookie).
pub const APP_COOKIE: &str = "orchestrator_app";

/// Why a body could not be read.
pub enum BodyError {
    /// It is larger than the limit.
    TooLarge,
    /// The connection failed while reading it.
    Broken,
}

/// Reads a whole body, refusing more than `limit` bytes.
pub async fn read_body(body: Incoming, limit: usize) -> Result<Bytes, BodyError> {
    match Limited::new(body, limit).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(BodyError::TooLarge)
        }
        Err(_) => Err(BodyError::Broken),
    }
}

/// A response with a status, content type and body.
pub fn reply(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Reply {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// A plain-text response.
pub fn text(status: StatusCode, body: impl Into<Bytes>) -> Reply {
    reply(status, "text/plain; charset=utf-8", body)
}

/// A redirect to `location`.
pub fn redirect(status: StatusCode, location: &str) -> Reply {
    let mut r = text(status, "");
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(hyper::header::LOCATION, v);
    }
    r
}

/// The session token from `Authorization: Bearer` or the session cookie.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    bearer.or_else(|| cookie(headers, SESSION_COOKIE))
}

/// The value of the cookie `name`, if the request sends it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
}

/// Decodes one `application/x-www-form-urlencoded` field.
pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let raw = text.split('&').find_map(|pair| {
        pair.split_once('=')
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v)
    })?;
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                out.push(
                    u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?, 16).ok()?,
                );
                i += 2;
            }
            b'%' => return None,
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Escapes text for HTML.
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_form_fields() {
        assert_eq!(
            form_field(b"user=x&password=a%20b+c%26", "password").as_deref(),
            Some("a b c&")
        );
        assert_eq!(form_field(b"password=", "password").as_deref(), Some(""));
        assert_eq!(form_field(b"password=%4", "password"), None);
        assert_eq!(form_field(b"other=1", "password"), None);
    }

    #[test]
    fn finds_bearer_or_cookie() {
        let mut h = HeaderMap::new();
        assert_eq!(session_token(&h), None);
        h.insert(
            COOKIE,
            HeaderValue::from_static("a=b; orchestrator_session=tok"),
        );
        assert_eq!(session_token(&h).as_deref(), Some("tok"));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer bear"));
        assert_eq!(session_token(&h).as_deref(), Some("bear"));
    }
}
