//! The orchestrator's config file: wire struct (unknown keys refused) checked into `Config`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::api::HttpLimits;
use crate::auth::PasswordHash;
use crate::backend::DEFAULT_TIMEOUT;
use crate::error::{Error, Result};
use crate::login::LoginLimits;
use crate::manifest::check::toml_error;
use crate::quadlet::PodmanVersion;

/// The default config path.
pub const DEFAULT_PATH: &str = "/etc/orchestrator/config.toml";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireConfig {
    #[serde(default = "default_listen")]
    listen: String,
    catalog_dir: PathBuf,
    catalog_override_dir: Option<PathBuf>,
    unit_dir: PathBuf,
    data_dir: PathBuf,
    #[serde(default = "yes")]
    use_quadlet_backends: bool,
    password_hash: String,
    #[serde(default = "default_ttl")]
    session_ttl_secs: u64,
    #[serde(default = "default_interval")]
    reconcile_interval_secs: u64,
    podman_version: Option<String>,
    runtime_dir: Option<PathBuf>,
    #[serde(default = "default_command_timeout")]
    command_timeout_secs: u64,
    #[serde(default = "default_header_timeout")]
    http_header_timeout_secs: u64,
    #[serde(default = "default_connection_lifetime")]
    http_connection_lifetime_secs: u64,
    #[serde(default = "default_max_connections")]
    http_max_connections: u64,
    #[serde(default = "default_shutdown_grace")]
    shutdown_grace_secs: u64,
    #[serde(default = "default_login_per_client")]
    login_attempts_per_minute: u64,
    #[serde(default = "default_login_total")]
    login_attempts_per_minute_total: u64,
}

fn default_listen() -> String {
    "0.0.0.0:5678".into()
}
fn yes() -> bool {
    true
}
fn default_ttl() -> u64 {
    3600
}
fn default_interval() -> u64 {
    10
}
fn default_command_timeout() -> u64 {
    DEFAULT_TIMEOUT.as_secs()
}
fn default_header_timeout() -> u64 {
    HttpLimits::default().header_timeout.as_secs()
}
fn default_connection_lifetime() -> u64 {
    HttpLimits::default().connection_lifetime.as_secs()
}
fn default_max_connections() -> u64 {
    HttpLimits::default().max_connections as u64
}
fn default_shutdown_grace() -> u64 {
    HttpLimits::default().shutdown_grace.as_secs()
}
fn default_login_per_client() -> u64 {
    LoginLimits::default().per_client_per_minute.into()
}
fn default_login_total() -> u64 {
    LoginLimits::default().total_per_minute.into()
}

/// The checked config.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where the API listens.
    pub listen: SocketAddr,
    /// The catalog folder.
    pub catalog_dir: PathBuf,
    /// A folder of manifests that replace the catalog's manifest of the same id (new versions).
    pub catalog_override_dir: Option<PathBuf>,
    /// The user's Quadlet folder.
    pub unit_dir: PathBuf,
    /// Where the state file lives.
    pub data_dir: PathBuf,
    /// Quadlet backend (true) or legacy (false).
    pub use_quadlet_backends: bool,
    /// The login password's hash.
    pub password_hash: PasswordHash,
    /// Session lifetime in seconds.
    pub session_ttl_secs: u64,
    /// Seconds between reconcile ticks.
    pub reconcile_interval_secs: u64,
    /// A podman version to assume instead of asking `podman --version`.
    pub podman_version: Option<PodmanVersion>,
    /// `$XDG_RUNTIME_DIR` override (where Quadlet's cid files are).
    pub runtime_dir: Option<PathBuf>,
    /// The budget of one `systemctl` or `podman` call; it is killed after it.
    pub command_timeout: Duration,
    /// HTTP timeouts, the connection cap and the shutdown grace.
    pub http: HttpLimits,
    /// Login attempts allowed.
    pub login: LoginLimits,
}

impl Config {
    /// Reads and checks the config file.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
        Config::parse(path, &text)
    }

    /// Checks config text; `path` is only used in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Config> {
        let w: WireConfig = toml::from_str(text).map_err(|e| toml_error(path, text, &e))?;
        let bad = |key: &str, what: String| Error::Invalid {
            file: path.to_owned(),
            line: line_of_key(text, key),
            key: key.into(),
            what,
        };
        let listen = w.listen.parse().map_err(|_| {
            bad(
                "listen",
                format!("{:?} is not an address like 0.0.0.0:5678", w.listen),
            )
        })?;
        // The message never repeats the value: it may be a secret pasted in the wrong place.
        let password_hash = PasswordHash::parse(&w.password_hash)
            .map_err(|e| bad("password_hash", e.to_string()))?;
        let podman_version = w
            .podman_version
            .map(|v| {
                PodmanVersion::parse(&v).map_err(|_| {
                    bad(
                        "podman_version",
                        format!("{v:?} is not a version like 5.4.2"),
                    )
                })
            })
            .transpose()?;
        for (key, v) in [
            ("session_ttl_secs", w.session_ttl_secs),
            ("reconcile_interval_secs", w.reconcile_interval_secs),
            ("command_timeout_secs", w.command_timeout_secs),
            ("http_header_timeout_secs", w.http_header_timeout_secs),
            (
                "http_connection_lifetime_secs",
                w.http_connection_lifetime_secs,
            ),
            ("http_max_connections", w.http_max_connections),
            ("shutdown_grace_secs", w.shutdown_grace_secs),
            ("login_attempts_per_minute", w.login_attempts_per_minute),
            (
                "login_attempts_per_minute_total",
                w.login_attempts_per_minute_total,
            ),
        ] {
            if v == 0 {
                return Err(bad(key, "must be at least 1".into()));
            }
        }
        let per_minute = |key: &str, v: u64| {
            u32::try_from(v).map_err(|_| bad(key, format!("{v} is more than {}", u32::MAX)))
        };
        let login = LoginLimits {
            per_client_per_minute: per_minute(
                "login_attempts_per_minute",
                w.login_attempts_per_minute,
            )?,
            total_per_minute: per_minute(
                "login_attempts_per_minute_total",
                w.login_attempts_per_minute_total,
            )?,
        };
        let http = HttpLimits {
            header_timeout: Duration::from_secs(w.http_header_timeout_secs),
            connection_lifetime: Duration::from_secs(w.http_connection_lifetime_secs),
            max_connections: usize::try_from(w.http_max_connections).unwrap_or(usize::MAX),
            shutdown_grace: Duration::from_secs(w.shutdown_grace_secs),
        };
        Ok(Config {
            listen,
            catalog_dir: w.catalog_dir,
            catalog_override_dir: w.catalog_override_dir,
            unit_dir: w.unit_dir,
            data_dir: w.data_dir,
            use_quadlet_backends: w.use_quadlet_backends,
            password_hash,
            session_ttl_secs: w.session_ttl_secs,
            reconcile_interval_secs: w.reconcile_interval_secs,
            podman_version,
            runtime_dir: w.runtime_dir,
            command_timeout: Duration::from_secs(w.command_timeout_secs),
            http,
            login,
        })
    }
}

fn line_of_key(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| l.split_once('=').is_some_and(|(k, _)| k.trim() == key))
        .map(|n| n + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_parses() {
        let c = Config::parse(
            Path::new("config.example.toml"),
            include_str!("../config.example.toml"),
        )
        .unwrap();
        assert_eq!(c.listen, "0.0.0.0:5678".parse().unwrap());
        assert!(c.use_quadlet_backends);
        assert_eq!((c.session_ttl_secs, c.reconcile_interval_secs), (3600, 10));
        assert_eq!(c.command_timeout, Duration::from_secs(120));
        assert_eq!(c.http, HttpLimits::default());
        assert_eq!(c.login, LoginLimits::default());
    }

    #[test]
    fn hardening_keys_are_read_and_zero_is_refused() {
        let base = include_str!("../config.example.toml");
        let text = format!(
            "{base}\ncommand_timeout_secs = 30\nhttp_header_timeout_secs = 2\nhttp_connection_lifetime_secs = 60\nhttp_max_connections = 64\nshutdown_grace_secs = 3\nlogin_attempts_per_minute = 4\nlogin_attempts_per_minute_total = 40\n"
        );
        let c = Config::parse(Path::new("c.toml"), &text).unwrap();
        assert_eq!(c.command_timeout, Duration::from_secs(30));
        assert_eq!(
            c.http,
            HttpLimits {
                header_timeout: Duration::from_secs(2),
                connection_lifetime: Duration::from_secs(60),
                max_connections: 64,
                shutdown_grace: Duration::from_secs(3),
            }
        );
        assert_eq!(
            c.login,
            LoginLimits {
                per_client_per_minute: 4,
                total_per_minute: 40
            }
        );
        let text = format!("{base}\nhttp_max_connections = 0\n");
        let e = Config::parse(Path::new("c.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(
            e.ends_with(": http_max_connections: must be at least 1"),
            "{e}"
        );
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let base = include_str!("../config.example.toml");
        let e = Config::parse(Path::new("c.toml"), &format!("{base}\nbogus = 1\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("failed to load c.toml:") && e.contains("bogus"),
            "{e}"
        );
        let text = base.replace("listen = \"0.0.0.0:5678\"", "listen = \"nowhere\"");
        let e = Config::parse(Path::new("c.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(e.contains(": listen: \"nowhere\" is not an address"), "{e}");
        let text = base.replace("password_hash = \"", "password_hash = \"hunter2");
        let e = Config::parse(Path::new("c.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(e.contains("password_hash") && !e.contains("hunter2"), "{e}");
    }
}
