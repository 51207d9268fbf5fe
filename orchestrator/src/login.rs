//! Who may try a password, how often, and where it is hashed.
//!
//! Every attempt takes a token from its client address's bucket and from one bucket shared by
//! all clients before the (deliberately slow) hash is computed; a correct password gives both
//! back, so only wrong guesses count. Over either limit the attempt is refused without hashing.
//! Hashes run one at a time on their own permit of the blocking pool, so a login flood burns at
//! most one core and never delays backend operations or health checks. Failures are logged with
//! the client address, never the password.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::auth::PasswordHash;
use crate::error::{Error, Result};
use crate::log;

/// More client buckets than this and the full ones (nothing to remember) are dropped.
const MAX_CLIENTS: usize = 4096;

/// How many attempts are allowed: a burst of `per_minute`, refilled at `per_minute` a minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginLimits {
    /// Attempts a minute from one client address.
    pub per_client_per_minute: u32,
    /// Attempts a minute from all clients together.
    pub total_per_minute: u32,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            per_client_per_minute: 10,
            total_per_minute: 100,
        }
    }
}

/// A token bucket: `burst` tokens, refilled at `burst` a minute.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    /// A full bucket at `now`.
    pub fn full(burst: u32, now: Instant) -> Bucket {
        Bucket {
            tokens: f64::from(burst),
            at: now,
        }
    }

    fn refill(&mut self, burst: u32, now: Instant) {
        let per_sec = f64::from(burst) / 60.0;
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * per_sec).min(f64::from(burst));
        self.at = now;
    }

    /// Takes a token, or says how long until one is there.
    pub fn take(&mut self, burst: u32, now: Instant) -> Result<(), Duration> {
        self.refill(burst, now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        let per_sec = f64::from(burst.max(1)) / 60.0;
        Err(Duration::from_secs_f64((1.0 - self.tokens) / per_sec))
    }

    /// Gives a token back (a correct password).
    pub fn give_back(&mut self, burst: u32) {
        self.tokens = (self.tokens + 1.0).min(f64::from(burst));
    }

    fn is_full(&mut self, burst: u32, now: Instant) -> bool {
        self.refill(burst, now);
        self.tokens >= f64::from(burst)
    }
}

#[derive(Debug)]
struct Buckets {
    clients: HashMap<IpAddr, Bucket>,
    total: Bucket,
}

/// The login gate: limits, then the hash on its own pool.
pub struct LoginGate {
    limits: LoginLimits,
    buckets: Mutex<Buckets>,
    hashing: Arc<Semaphore>,
}

impl LoginGate {
    /// A gate with `limits`, hashing one password at a time.
    pub fn new(limits: LoginLimits) -> LoginGate {
        LoginGate {
            limits,
            buckets: Mutex::new(Buckets {
                clients: HashMap::new(),
                total: Bucket::full(limits.total_per_minute, Instant::now()),
            }),
            hashing: Arc::new(Semaphore::new(1)),
        }
    }

    /// Takes a token for `client` from its bucket and the shared one, or refuses.
    pub fn admit(&self, client: IpAddr, now: Instant) -> Result<()> {
        let l = self.limits;
        let mut b = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if b.clients.len() >= MAX_CLIENTS {
            b.clients
                .retain(|_, bucket| !bucket.is_full(l.per_client_per_minute, now));
        }
        let mut mine = *b
            .clients
            .entry(client)
            .or_insert_with(|| Bucket::full(l.per_client_per_minute, now));
        let mut total = b.total;
        // Both are taken from copies, kept only if both had a token: a refused attempt takes
        // nothing, so hammering does not push the retry time further away.
        let taken = mine
            .take(l.per_client_per_minute, now)
            .and_then(|()| total.take(l.total_per_minute, now));
        if let Err(wait) = taken {
            return Err(Error::TooManyLogins {
                retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
            });
        }
        b.clients.insert(client, mine);
        b.total = total;
        Ok(())
    }
    /// Gives back the tokens of a correct password.
    fn give_back(&self, client: IpAddr) {
        let l = self.limits;
        let mut b = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(mine) = b.clients.get_mut(&client) {
            mine.give_back(l.per_client_per_minute);
        }
        b.total.give_back(l.total_per_minute);
    }

    /// Checks `password` from `client` against `hash`: `Ok` if it matches, else
    /// `TooManyLogins` or `Unauthorized`. `via` names the endpoint in the log.
    pub async fn check(
        &self,
        via: &str,
        client: IpAddr,
        hash: &PasswordHash,
        password: String,
    ) -> Result<()> {
        if let Err(e) = self.admit(client, Instant::now()) {
            log::warn(format_args!("{via} from {client}: {e}"));
            return Err(e);
        }
        let ok = {
            let Ok(_permit) = self.hashing.clone().acquire_owned().await else {
                return Err(Error::Internal("the hashing pool is closed".into()));
            };
            let hash = hash.clone();
            tokio::task::spawn_blocking(move || hash.verify(&password))
                .await
                .unwrap_or(false)
        };
        if ok {
            self.give_back(client);
            Ok(())
        } else {
            log::warn(format_args!("{via} from {client}: wrong password"));
            Err(Error::Unauthorized)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_bucket_refills_at_its_rate() {
        let t0 = Instant::now();
        let mut b = Bucket::full(2, t0);
        assert_eq!(b.take(2, t0), Ok(()));
        assert_eq!(b.take(2, t0), Ok(()));
        assert_eq!(b.take(2, t0), Err(Duration::from_secs(30)));
        assert_eq!(b.take(2, t0 + Duration::from_secs(30)), Ok(()));
        b.give_back(2);
        b.give_back(2);
        b.give_back(2);
        assert_eq!(b.tokens, 2.0, "never more than the burst");
    }

    #[test]
    fn limits_each_client_and_all_together() {
        let gate = LoginGate::new(LoginLimits {
            per_client_per_minute: 3,
            total_per_minute: 5,
        });
        let t0 = Instant::now();
        let a = ip("10.77.0.1");
        for _ in 0..3 {
            gate.admit(a, t0).unwrap();
        }
        let refused = gate.admit(a, t0).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "failed to log in: too many login attempts; retry in 20 s"
        );
        assert_eq!(refused.rpc_code(), -32007);
        let b = ip("10.77.0.2");
        gate.admit(b, t0).unwrap();
        gate.admit(b, t0).unwrap();
        assert!(
            gate.admit(ip("10.77.0.3"), t0).is_err(),
            "five in total this minute"
        );
        gate.give_back(b);
        gate.admit(ip("10.77.0.3"), t0).unwrap();
        assert!(
            gate.admit(a, t0 + Duration::from_secs(20)).is_ok(),
            "a's bucket refilled one"
        );
    }

    #[tokio::test]
    async fn only_wrong_passwords_use_up_the_limit() {
        let gate = LoginGate::new(LoginLimits {
            per_client_per_minute: 2,
            total_per_minute: 100,
        });
        let hash = PasswordHash::create("right", 10).unwrap();
        let me = ip("127.0.0.1");
        for _ in 0..5 {
            gate.check("test", me, &hash, "right".into()).await.unwrap();
        }
        for _ in 0..2 {
            let e = gate.check("test", me, &hash, "wrong".into()).await;
            assert!(matches!(e, Err(Error::Unauthorized)), "{e:?}");
        }
        let e = gate.check("test", me, &hash, "right".into()).await;
        assert!(matches!(e, Err(Error::TooManyLogins { .. })), "{e:?}");
    }
}
