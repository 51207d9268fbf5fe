//! `QuadletUnit`: a whole `<id>.container` file, built from a manifest for a given podman.
//!
//! The unit file is where an app's desired state survives without the orchestrator: it has an
//! `[Install]` section (`WantedBy=default.target`, so the user's systemd starts it at boot) iff
//! the app is meant to run. [`with_desired`] flips that on a unit's text without touching
//! anything else, and [`desired_in`] reads it back when the state file is lost.

use super::text::quote;
use super::{Container, Install, PodmanVersion, Service, Unit};
use crate::manifest::{Manifest, Network};
use crate::state::Desired;

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
    /// `[Install]`, present iff the app is meant to run (it is then started at boot).
    pub install: Option<Install>,
}

impl QuadletUnit {
    /// Builds the unit for `m` with desired state `desired`, writing keys `podman` does not know
    /// as `PodmanArgs=`.
    pub fn from_manifest(m: &Manifest, podman: &PodmanVersion, desired: Desired) -> QuadletUnit {
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
            install: (desired == Desired::Running).then(wanted_at_boot),
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
        if let Some(install) = &self.install {
            out.push('\n');
            install.render(&mut out);
        }
        out
    }
}

/// The `[Install]` section of an app meant to run.
fn wanted_at_boot() -> Install {
    Install {
        wanted_by: vec!["default.target".to_owned()],
    }
}

/// `text` with its `[Install]` section dropped, and put back at the end iff `desired` is
/// running. On a rendered unit this is exactly the render with the other desired state.
pub fn with_desired(text: &str, desired: Desired) -> String {
    let mut kept = String::with_capacity(text.len() + 48);
    let mut in_install = false;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        if t.starts_with('[') && t.ends_with(']') {
            in_install = t == "[Install]";
        }
        if !in_install {
            kept.push_str(line);
        }
    }
    let mut out = format!("{}\n", kept.trim_end_matches('\n'));
    if desired == Desired::Running {
        out.push('\n');
        wanted_at_boot().render(&mut out);
    }
    out
}

/// The desired state a unit's text records: running iff its `[Install]` has a `WantedBy=`.
pub fn desired_in(text: &str) -> Desired {
    let mut in_install = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') && line.ends_with(']') {
            in_install = line == "[Install]";
        } else if in_install
            && line
                .strip_prefix("WantedBy")
                .and_then(|r| r.trim_start().strip_prefix('='))
                .is_some_and(|v| !v.trim().is_empty())
        {
            return Desired::Running;
        }
    }
    Desired::Stopped
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

    fn render(m: &Manifest, podman: &PodmanVersion) -> String {
        QuadletUnit::from_manifest(m, podman, Desired::Running).render()
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
            render(&m, &OLD),
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
            render(&manifest(FULL), &NEW),
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
        let text = render(&manifest(FULL), &OLD);
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
        assert_eq!(check_unit_text(&render(&manifest(FULL), &OLD)), Ok(()));
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

    #[test]
    fn a_stopped_app_has_no_install_section_and_flipping_matches_a_fresh_render() {
        let m = manifest("id = \"tiny\"\nimage = \"localhost/tiny\"\n");
        let stopped = QuadletUnit::from_manifest(&m, &OLD, Desired::Stopped).render();
        assert_eq!(
            stopped,
            "[Unit]
Description=orchestrator app tiny

[Container]
ContainerName=tiny
Image=localhost/tiny
Label=orchestrator.app=tiny

[Service]
Restart=on-failure
TimeoutStartSec=900
"
        );
        let running = render(&m, &OLD);
        assert_eq!(with_desired(&running, Desired::Stopped), stopped);
        assert_eq!(with_desired(&stopped, Desired::Running), running);
        assert_eq!(with_desired(&running, Desired::Running), running);
        assert_eq!(with_desired(&stopped, Desired::Stopped), stopped);
        assert_eq!(
            (desired_in(&running), desired_in(&stopped)),
            (Desired::Running, Desired::Stopped)
        );
        // A hand-edited unit: [Install] in the middle, an empty WantedBy=, comments kept.
        let edited = "[Install]\nWantedBy=\n\n[Container]\n# mine\nImage=x\n";
        assert_eq!(desired_in(edited), Desired::Stopped);
        assert_eq!(
            with_desired(edited, Desired::Running),
            "[Container]\n# mine\nImage=x\n\n[Install]\nWantedBy=default.target\n"
        );
        assert_eq!(
            desired_in("[Install]\nWantedBy = default.target\n"),
            Desired::Running
        );
    }

    #[test]
    fn dollar_and_percent_are_escaped_where_systemd_expands_them() {
        let m = manifest(
            "id = \"esc\"\nimage = \"localhost/esc:1\"\ncommand = [\"sh\", \"-c\", \"echo $HOME 100%\"]\n[environment]\nPASS = \"a$b%c\"\nLINES = \"x\\ny\"\n",
        );
        assert_eq!(
            render(&m, &OLD),
            r#"[Unit]
Description=orchestrator app esc

[Container]
ContainerName=esc
Image=localhost/esc:1
Label=orchestrator.app=esc
Exec=sh -c "echo $$HOME 100%%"
Environment="LINES=x\ny"
Environment="PASS=a$$b%%c"

[Service]
Restart=on-failure
TimeoutStartSec=900

[Install]
WantedBy=default.target
"#
        );
    }
}
