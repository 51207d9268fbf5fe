//! Authentication: PBKDF2-HMAC-SHA256 password hashes (the `pbkdf2` crate) compared in constant
//! time, and session tokens (32 bytes from /dev/urandom, hex) with an expiry. Who may try a
//! password how often, and on which threads it is hashed, is `login`'s business.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use hmac::Hmac;
use sha2::Sha256;

use crate::error::{Error, Result};

/// Iterations for newly made hashes.
pub const DEFAULT_ITERATIONS: u32 = 100_000;

/// A stored password hash `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>`.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash {
    iterations: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

impl PasswordHash {
    /// Parses the stored form; the error never echoes the input.
    pub fn parse(text: &str) -> Result<Self> {
        let parts: Vec<&str> = text.split('$').collect();
        let [scheme, iter, salt, hash] = parts[..] else {
            return Err(Error::PasswordHash(
                "expected pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>".into(),
            ));
        };
        let iterations = iter.parse::<u32>().ok().filter(|&i| i > 0);
        match (scheme, iterations, from_hex(salt), from_hex(hash)) {
            ("pbkdf2-sha256", Some(iterations), Some(salt), Some(hash))
                if !salt.is_empty() && hash.len() == 32 =>
            {
                Ok(PasswordHash {
                    iterations,
                    salt,
                    hash,
                })
            }
            _ => Err(Error::PasswordHash(
                "expected pbkdf2-sha256$<iterations>$<salt hex>$<64 hex digits>".into(),
            )),
        }
    }

    /// Hashes `password` with a fresh random salt.
    pub fn create(password: &str, iterations: u32) -> Result<Self> {
        let salt = random_bytes::<16>()?.to_vec();
        let mut hash = vec![0u8; 32];
        pbkdf2_sha256(password.as_bytes(), &salt, iterations, &mut hash);
        Ok(PasswordHash {
            iterations,
            salt,
            hash,
        })
    }

    /// Whether `password` matches, compared in constant time.
    pub fn verify(&self, password: &str) -> bool {
        let mut got = vec![0u8; self.hash.len()];
        pbkdf2_sha256(password.as_bytes(), &self.salt, self.iterations, &mut got);
        constant_time_eq(&got, &self.hash)
    }

    /// The stored form.
    pub fn encode(&self) -> String {
        format!(
            "pbkdf2-sha256${}${}${}",
            self.iterations,
            hex(&self.salt),
            hex(&self.hash)
        )
    }
}

/// PBKDF2 with HMAC-SHA256 (RFC 8018), filling `out` (the `pbkdf2` and `hmac` crates).
pub fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
    // HMAC takes a key of any length, so the only error (InvalidLength) cannot happen.
    let _ = pbkdf2::pbkdf2::<Hmac<Sha256>>(password, salt, iterations, out);
}

/// Equal-length comparison whose time does not depend on where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut buf = [0u8; N];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(Error::io("/dev/urandom"))?;
    Ok(buf)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// A new session.
#[derive(Clone, Debug)]
pub struct Session {
    /// The bearer token (never logged).
    pub token: String,
    /// When it stops working.
    pub expires_at: SystemTime,
}

/// Live sessions, keyed by token.
pub struct Sessions {
    ttl: Duration,
    live: Mutex<HashMap<String, SystemTime>>,
}

impl Sessions {
    /// Sessions lasting `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Sessions {
            ttl,
            live: Mutex::default(),
        }
    }

    /// The configured lifetime.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Opens a session with a fresh random token.
    pub fn open(&self) -> Result<Session> {
        let token = hex(&random_bytes::<32>()?);
        let expires_at = SystemTime::now() + self.ttl;
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let now = SystemTime::now();
        live.retain(|_, exp| *exp > now);
        live.insert(token.clone(), expires_at);
        Ok(Session { token, expires_at })
    }

    /// Whether `token` names a live session.
    pub fn check(&self, token: &str) -> bool {
        let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.get(token).is_some_and(|exp| *exp > SystemTime::now())
    }

    /// Ends the session, if any.
    pub fn close(&self, token: &str) {
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(token);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pbkdf2_matches_rfc_7914_vectors() {
        let mut out = [0u8; 64];
        pbkdf2_sha256(b"passwd", b"salt", 1, &mut out);
        assert_eq!(
            hex(&out),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"
        );
        pbkdf2_sha256(b"Password", b"NaCl", 80000, &mut out);
        assert_eq!(
            hex(&out),
            "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"
        );
    }

    #[test]
    fn a_hash_stored_by_the_hand_written_hmac_still_verifies() {
        // `orchestrator hash-password` of "lab-password-1", built before the `pbkdf2` crate
        // replaced the hand-written HMAC loop (and equal to Python's hashlib.pbkdf2_hmac).
        let stored = "pbkdf2-sha256$100000$d4b94359b52e4394efb295255a7e915a$ec447cd3748222cce5101cdbd72b79074de27d05344fea25c45c3fb121d9a69c";
        let h = PasswordHash::parse(stored).unwrap();
        assert!(h.verify("lab-password-1"));
        assert!(!h.verify("lab-password-2"));
        assert_eq!(h.encode(), stored);
    }

    #[test]
    fn hashes_verify_only_the_right_password() {
        let h = PasswordHash::create("correct horse", 1000).unwrap();
        let again = PasswordHash::parse(&h.encode()).unwrap();
        assert_eq!(again, h);
        assert!(again.verify("correct horse"));
        assert!(!again.verify("correct horsE"));
        assert!(!again.verify(""));
        assert!(PasswordHash::parse("plaintext").is_err());
        assert!(PasswordHash::parse("pbkdf2-sha256$0$00$00").is_err());
        assert!(!format!("{h:?}").contains(&hex(&h.hash)));
    }

    #[test]
    fn sessions_expire_and_close() {
        let s = Sessions::new(Duration::from_secs(60));
        let a = s.open().unwrap();
        assert_eq!(a.token.len(), 64);
        assert!(s.check(&a.token));
        assert!(!s.check("nope"));
        s.close(&a.token);
        assert!(!s.check(&a.token));
        let short = Sessions::new(Duration::ZERO);
        let b = short.open().unwrap();
        assert!(!short.check(&b.token));
    }
}
