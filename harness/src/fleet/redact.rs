//! `Redactor`: every report and log line passes through it so secrets never leave the process.
//! It masks the secrets registered with it (the password, session tokens) and, by their shape,
//! credentials it was never told about: `Bearer …`, `orchestrator_session=…` and a JSON
//! `"token": "…"`, wherever they appear (curl's verbose output from an SSH probe, a server log).

use std::sync::{Arc, RwLock};

/// Replaces every registered secret with `[REDACTED]`. Cheap to clone; clones share the list.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Arc<RwLock<Vec<String>>>,
}

/// What a secret is replaced with.
pub const MASK: &str = "[REDACTED]";

/// The shortest secret that can be masked: shorter ones would blank out ordinary words, so the
/// fleet refuses them at load (see `Secret::resolve`).
pub const MIN_SECRET_LEN: usize = 4;

impl Redactor {
    /// Registers a value that must never be shown (passwords, session tokens). Values shorter
    /// than [`MIN_SECRET_LEN`] are not registered (configured secrets that short are refused at
    /// load).
    pub fn register(&self, secret: &str) {
        if secret.chars().count() >= MIN_SECRET_LEN {
            let mut list = self.secrets.write().unwrap_or_else(|e| e.into_inner());
            if !list.iter().any(|s| s == secret) {
                list.push(secret.to_owned());
                list.sort_by_key(|s| std::cmp::Reverse(s.len()));
            }
        }
    }

    /// The text with every registered secret and every credential-shaped value masked.
    pub fn redact(&self, text: &str) -> String {
        let list = self.secrets.read().unwrap_or_else(|e| e.into_inner());
        let mut out = text.to_owned();
        for s in list.iter() {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), MASK);
            }
        }
        mask_patterns(&out)
    }
}

/// A credential's shape: where its value starts after a match, and where it ends.
struct Pattern {
    /// Text before the value, matched ASCII-case-insensitively.
    prefix: &'static str,
    /// Whether the prefix must be followed by at least one space or tab (skipped).
    then_blank: bool,
    /// Whether a byte belongs to the value.
    value: fn(u8) -> bool,
}

/// RFC 6750's b64token characters.
fn bearer_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
}

/// RFC 6265's cookie-octet (no blank, quote, comma, semicolon or backslash).
fn cookie_char(b: u8) -> bool {
    b.is_ascii_graphic() && !matches!(b, b'"' | b',' | b';' | b'\\')
}

const PATTERNS: [Pattern; 2] = [
    Pattern {
        prefix: "bearer",
        then_blank: true,
        value: bearer_char,
    },
    Pattern {
        prefix: "orchestrator_session=",
        then_blank: false,
        value: cookie_char,
    },
];

/// Masks `Bearer …`, `orchestrator_session=…` and JSON `"token": "…"` values.
fn mask_patterns(text: &str) -> String {
    let mut out = text.to_owned();
    for p in &PATTERNS {
        out = mask_prefixed(&out, p);
    }
    mask_json_token(&out)
}

fn mask_prefixed(text: &str, p: &Pattern) -> String {
    let bytes = text.as_bytes();
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = lower[from..].find(p.prefix) {
        let start = from + found;
        let mut at = start + p.prefix.len();
        from = at;
        // A word that merely ends in the prefix ("unbearer") is not one.
        if start > 0 && bytes[start - 1].is_ascii_alphanumeric() {
            continue;
        }
        if p.then_blank {
            let blanks = bytes[at..]
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t'))
                .count();
            if blanks == 0 {
                continue;
            }
            at += blanks;
        }
        let len = bytes[at..].iter().take_while(|b| (p.value)(**b)).count();
        if len == 0 || &text[at..at + len] == MASK {
            continue;
        }
        out.push_str(&text[copied..at]);
        out.push_str(MASK);
        copied = at + len;
        from = copied;
    }
    out.push_str(&text[copied..]);
    out
}

/// Masks the string value of every `"token"` key, with or without blanks around the colon, and
/// also when the JSON is itself inside a JSON string (`\"token\":\"…\"`).
fn mask_json_token(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = text[from..].find("token") {
        let key = from + found;
        from = key + "token".len();
        let escaped = bytes[..key].ends_with(b"\\\"");
        let quote: &[u8] = if escaped { b"\\\"" } else { b"\"" };
        if !bytes[..key].ends_with(quote) || !bytes[from..].starts_with(quote) {
            continue;
        }
        let mut at = from + quote.len();
        let skip_blanks = |at: usize| {
            at + bytes[at..]
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count()
        };
        at = skip_blanks(at);
        if bytes.get(at) != Some(&b':') {
            continue;
        }
        at = skip_blanks(at + 1);
        if !bytes[at..].starts_with(quote) {
            continue;
        }
        let value = at + quote.len();
        // The value ends at the closing quote; a backslash escapes the next byte in plain JSON.
        let mut end = value;
        while end < bytes.len() && !bytes[end..].starts_with(quote) {
            end += if !escaped && bytes[end] == b'\\' {
                2
            } else {
                1
            };
        }
        let end = end.min(bytes.len());
        if end == value || &text[value..end] == MASK {
            continue;
        }
        out.push_str(&text[copied..value]);
        out.push_str(MASK);
        copied = end;
        from = end;
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_registered_secret_longest_first() {
        let r = Redactor::default();
        r.register("hunter2-pass");
        r.register("hunter2");
        r.register("tok");
        assert_eq!(
            r.redact("login hunter2-pass then hunter2 tok"),
            "login [REDACTED] then [REDACTED] tok"
        );
    }

    #[test]
    fn clones_share_registrations() {
        let r = Redactor::default();
        let c = r.clone();
        c.register("s3cr3t-token");
        assert_eq!(r.redact("Bearer s3cr3t-token"), "Bearer [REDACTED]");
    }

    fn redact(text: &str) -> String {
        Redactor::default().redact(text)
    }

    #[test]
    fn bearer_values_are_masked_wherever_they_appear() {
        assert_eq!(
            redact("> Authorization: Bearer eyJhbGciOi.J9x_-~+/abc==\r\n> Accept: */*"),
            "> Authorization: Bearer [REDACTED]\r\n> Accept: */*"
        );
        assert_eq!(
            redact("authorization: bearer  abc123, next"),
            "authorization: bearer  [REDACTED], next"
        );
        assert_eq!(
            redact("curl -H 'Authorization: BEARER t0k' x"),
            "curl -H 'Authorization: BEARER [REDACTED]' x"
        );
        assert_eq!(redact("Bearer"), "Bearer");
        assert_eq!(redact("unbearer abc"), "unbearer abc");
        assert_eq!(redact("Bearer [REDACTED]"), "Bearer [REDACTED]");
    }

    #[test]
    fn session_cookies_are_masked_wherever_they_appear() {
        assert_eq!(
            redact("< Set-Cookie: orchestrator_session=9f8e7d; Path=/; HttpOnly"),
            "< Set-Cookie: orchestrator_session=[REDACTED]; Path=/; HttpOnly"
        );
        assert_eq!(
            redact("curl -b orchestrator_session=abc http://x/"),
            "curl -b orchestrator_session=[REDACTED] http://x/"
        );
        assert_eq!(
            redact("Cookie: a=1; orchestrator_session=\"q\""),
            "Cookie: a=1; orchestrator_session=\"q\""
        );
        assert_eq!(redact("orchestrator_session="), "orchestrator_session=");
    }

    #[test]
    fn json_token_values_are_masked_with_or_without_blanks() {
        assert_eq!(
            redact(r#"{"token":"tok-123","expires_in_secs":3600}"#),
            r#"{"token":"[REDACTED]","expires_in_secs":3600}"#
        );
        assert_eq!(
            redact(r#"{"result": {"token": "a\"b\\", "x": 1}}"#),
            r#"{"result": {"token": "[REDACTED]", "x": 1}}"#
        );
        assert_eq!(
            redact("{\n  \"token\" :\n  \"abc\"\n}"),
            "{\n  \"token\" :\n  \"[REDACTED]\"\n}"
        );
        assert_eq!(
            redact(r#"captured: "{\"token\":\"abc\",\"n\":1}""#),
            r#"captured: "{\"token\":\"[REDACTED]\",\"n\":1}""#
        );
    }

    #[test]
    fn json_keys_that_only_contain_token_and_non_string_values_are_kept() {
        assert_eq!(
            redact(r#"{"token_type":"bearer","tokens":3,"token":null,"token": 5}"#),
            r#"{"token_type":"bearer","tokens":3,"token":null,"token": 5}"#
        );
        assert_eq!(redact(r#"{"token":""}"#), r#"{"token":""}"#);
        assert_eq!(
            redact(r#"{"token":"unterminated"#),
            r#"{"token":"[REDACTED]"#
        );
    }
}
