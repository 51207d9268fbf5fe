//! `QuadletUnit`: a whole `<id>.container` file, built from a manifest for a given podman.

use super::text::quote;
use super::{Container, Install, PodmanVersion, Service, Unit};
use crate::manifest::{Manifest, Network};

/// The label every container the orchestrator runs carries, with the app id as value.
pub const APP_LABEL: &str = "orchestrator.app";

/// Seconds systemd waits for a start, long enough for an image pull.
const TIMEOUT_START_SEC: u32 = 900;

/// One Quadlet `.container` unit.
#[derive(Clone, Debug, PartialEq)]
pub struct QuadletUnit {
    /// `[Unit]`.
    pub unit: Unit,
    /// `[Container]`.
    pub container: Container,
    /// `[Service]`.
    pub service: Service,
    /// `[Install]`.
    pub install: Install,
}

impl QuadletUnit {
    /// Builds the unit for `m`, writing keys `podman` does not know as `PodmanArgs=`.
    pub fn from_manifest(m: &Manifest, podman: &PodmanVersion) -> QuadletUnit {
        let id = m.id.as_str();
        let deps: Vec<String> = m.requires.iter().map(|r| format!("{r}.service")).collect();
        let (memory, podman_args) = match m.memory_mib {
            Some(mib) if podman.has_memory_key() => (Some(format!("{mib}m")), vec![]),
            Some(mib) => (None, vec![format!("--memory {mib}m")]),
            None => (None, vec![]),
        };
        let exec = (!m.command.is_empty()).then(|| {
            m.command
                .iter()
                .map(|w| quote(w))
                .collect::<Vec<_>>()
                .join(" ")
        });
        QuadletUnit {
            unit: Unit {
                description: Some(format!("orchestrator app {id}")),
                wants: deps.clone(),
                after: deps,
            },
            container: Container {
                container_name: Some(id.to_owned()),
                image: m.image.clone(),
                label: vec![format!("{APP_LABEL}={id}")],
                exec,
                network: m.network.map(|n| match n {
                    Network::Host => "host".to_owned(),
                }),
                publish_port: m.ports.iter().map(|p| p.to_string()).collect(),
                volume: m.volumes.iter().map(|v| v.to_string()).collect(),
                environment: m
                    .environment
                    .iter()
                    .map(|(k, v)| quote(&format!("{k}={v}")))
                    .collect(),
                memory,
                podman_args,
            },
            service: Service {
                restart: Some(m.restart),
                timeout_start_sec: Some(TIMEOUT_START_SEC),
            },
            install: Install {
                wanted_by: vec!["default.target".to_owned()],
            },
        }
    }

    /// The unit file's exact text.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(512);
        self.unit.render(&mut out);
        out.push('\n');
        self.container.render(&mut out);
        out.push('\n');
        self.service.render(&mut out);
        out.push('\n');
        self.install.render(&mut out);
        out
    }
}

/// Checks that a unit file read back from disk is still a well-formed container unit;
/// the error says what is wrong (a corrupt unit is reported, never repaired behind the user).
pub fn check_unit_text(text: &str) -> Result<(), String> {
    let mut section = None;
    let mut image = false;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = Some(name.to_owned());
            continue;
        }
        let key = line.split_once('=').map(|(k, _)| k.trim());
        let key_ok =
            key.is_some_and(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric()));
        if section.is_none() || !key_ok {
            return Err(format!("line {}: not a [Section] or Key=value line", n + 1));
        }
        image |= section.as_deref() == Some("Container") && key == Some("Image");
    }
    if image {
        Ok(())
    } else {
        Err("no Image= in a [Container] section".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn manifest(text: &str) -> Manifest {
        Manifest::from_toml(Path::new("t.toml"), text).unwrap()
    }

    const OLD: PodmanVersion = PodmanVersion::new(5, 4, 2);
    const NEW: PodmanVersion = PodmanVersion::new(5, 5, 0);

    const FULL: &str = r#"
id = "lab-wallet"
image = "localhost/lab-app:latest"
command = ["wallet", "--port", "18080", "--greeting", "hello world"]
ports = ["18080:18080", "5353:53/udp"]
volumes = ["lab-wallet-data:/data"]
network = "host"
memory = "2g"
restart = "always"
requires = ["lab-chain", "lab-index"]
[environment]
CHAIN_URL = "http://127.0.0.1:18443/"
MOTD = "50% off"
[health]
http = { port = 18080, path = "/healthz" }
[ui]
port = 18080
"#;

    #[test]
    fn renders_minimal_manifest() {
        let m = manifest("id = \"tiny\"\nimage = \"localhost/tiny\"\n");
        assert_eq!(
            QuadletUnit::from_manifest(&m, &OLD).render(),
            "[Unit]
Description=orchestrator app tiny

[Container]
ContainerName=tiny
Image=localhost/tiny
Label=orchestrator.app=tiny

[Service]
Restart=on-failure
TimeoutStartSec=900

[Install]
WantedBy=default.target
"
        );
    }

    #[test]
    fn renders_full_manifest() {
        assert_eq!(
            QuadletUnit::from_manifest(&manifest(FULL), &NEW).render(),
            r#"[Unit]
Description=orchestrator app lab-wallet
Wants=lab-chain.service
Wants=lab-index.service
After=lab-chain.service
After=lab-index.service

[Container]
ContainerName=lab-wallet
Image=localhost/lab-app:latest
Label=orchestrator.app=lab-wallet
Exec=wallet --port 18080 --greeting "hello world"
Network=host
PublishPort=18080:18080
PublishPort=5353:53/udp
Volume=lab-wallet-data:/data
Environment=CHAIN_URL=http://127.0.0.1:18443/
Environment="MOTD=50%% off"
Memory=2048m

[Service]
Restart=always
TimeoutStartSec=900

[Install]
WantedBy=default.target
"#
        );
    }

    #[test]
    fn old_podman_gets_memory_as_podman_args() {
        let text = QuadletUnit::from_manifest(&manifest(FULL), &OLD).render();
        assert_eq!(
            text.lines().skip(17).take(3).collect::<Vec<_>>(),
            [
                "Environment=\"MOTD=50%% off\"",
                "PodmanArgs=--memory 2048m",
                ""
            ]
        );
        assert!(!text.contains("Memory="), "{text}");
    }

    #[test]
    fn rendered_units_pass_the_check_and_garbage_does_not() {
        assert_eq!(
            check_unit_text(&QuadletUnit::from_manifest(&manifest(FULL), &OLD).render()),
            Ok(())
        );
        assert_eq!(
            check_unit_text("\0\0garbage"),
            Err("line 1: not a [Section] or Key=value line".into())
        );
        assert_eq!(
            check_unit_text("[Container]\nLabel=x\n"),
            Err("no Image= in a [Container] section".into())
        );
        assert!(check_unit_text("").is_err());
    }
}
