//! Runs podman's own Quadlet generator over rendered units, so a render it rejects fails here.

use std::path::{Path, PathBuf};
use std::process::Command;

use orchestrator::manifest::Manifest;
use orchestrator::quadlet::{PodmanVersion, QuadletUnit};
use orchestrator::state::Desired;

const QUADLET: &str = "/usr/libexec/podman/quadlet";

const MANIFESTS: [&str; 4] = [
    "id = \"tiny\"\nimage = \"localhost/tiny\"\n",
    r#"id = "lab-wallet"
image = "localhost/lab-app:latest"
command = ["wallet", "--port", "18080", "--greeting", "hello \"world\""]
ports = ["18080:18080", "5353:53/udp"]
volumes = ["lab-wallet-data:/data"]
memory = "2g"
restart = "always"
requires = ["lab-chain"]
[environment]
CHAIN_URL = "http://127.0.0.1:18443/"
MOTD = "50% off today"
"#,
    "id = \"lab-chain\"\nimage = \"localhost/lab-app:latest\"\nnetwork = \"host\"\nmemory = \"64m\"\n",
    // What systemd would expand or split: `$`, `%`, quotes, a newline (issue 8).
    r#"id = "esc"
image = "localhost/esc:1"
command = ["sh", "-c", "echo $HOME 100% \"q\""]
volumes = ["esc-data:/var/lib/esc-1.0"]
[environment]
PASS = "p$w%rd\nline2"
PLAIN = "$USER"
"#,
];

/// Apps rendered as stopped (no `[Install]`): the generator must accept those too.
const STOPPED: [&str; 1] = ["lab-chain"];

/// The text quadlet generated for `id`'s service.
fn service<'a>(stdout: &'a str, id: &str) -> &'a str {
    let start = stdout
        .find(&format!("---{id}.service---"))
        .unwrap_or_else(|| panic!("no {id}.service in:\n{stdout}"));
    let rest = &stdout[start + id.len() + 14..];
    &rest[..rest.find("\n---").unwrap_or(rest.len())]
}

#[test]
#[ignore = "needs Quadlet: /usr/libexec/podman/quadlet or QUADLET_ROOT"]
fn quadlet_accepts_rendered_units() {
    let root = std::env::var_os("QUADLET_ROOT").map(PathBuf::from);
    let inside = PathBuf::from(format!("/tmp/orch-quadlet-{}", std::process::id()));
    let host_dir = match &root {
        Some(r) => r.join(inside.strip_prefix("/").unwrap()),
        None => inside.clone(),
    };
    if let Some(r) = &root {
        assert!(
            r.join(QUADLET.trim_start_matches('/')).is_file(),
            "no {QUADLET} under QUADLET_ROOT={}",
            r.display()
        );
    }
    std::fs::create_dir_all(&host_dir).unwrap();
    let _cleanup = RemoveOnDrop(host_dir.clone());
    for podman in [PodmanVersion::new(5, 4, 2), PodmanVersion::new(5, 5, 0)] {
        for text in MANIFESTS {
            let m = Manifest::from_toml(Path::new("t.toml"), text).unwrap();
            let desired = if STOPPED.contains(&m.id.as_str()) {
                Desired::Stopped
            } else {
                Desired::Running
            };
            let unit = QuadletUnit::from_manifest(&m, &podman, desired).render();
            std::fs::write(host_dir.join(format!("{}.container", m.id)), unit).unwrap();
        }
        if podman.has_memory_key() && !quadlet_knows_memory(&root) {
            continue;
        }
        let out = match &root {
            Some(r) => Command::new("chroot")
                .arg(r)
                .arg(QUADLET)
                .args(["-dryrun", "-user"])
                .env("QUADLET_UNIT_DIRS", &inside)
                .output(),
            None => Command::new(QUADLET)
                .args(["-dryrun", "-user"])
                .env("QUADLET_UNIT_DIRS", &inside)
                .output(),
        }
        .expect("quadlet runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "quadlet failed for podman {podman}: {stderr}"
        );
        assert!(
            !stderr.to_lowercase().contains("error"),
            "quadlet complained for podman {podman}: {stderr}"
        );
        for id in ["tiny", "lab-wallet", "lab-chain", "esc"] {
            let wanted = service(&stdout, id).contains("WantedBy=default.target");
            assert_eq!(wanted, !STOPPED.contains(&id), "{id}:\n{stdout}");
        }
        assert!(
            stdout.contains("--label orchestrator.app=lab-wallet"),
            "{stdout}"
        );
        // systemd turns `$$` and `%%` back into `$` and `%` when it runs ExecStart=.
        let esc = service(&stdout, "esc");
        let exec = esc
            .lines()
            .find(|l| l.starts_with("ExecStart="))
            .unwrap_or_else(|| panic!("no ExecStart in {esc}"));
        for part in [
            "-v esc-data:/var/lib/esc-1.0",
            r#"--env "PASS=p$$w%%rd\nline2""#,
            "--env PLAIN=$$USER",
            r#"localhost/esc:1 sh -c "echo $$HOME 100%% \"q\"""#,
        ] {
            assert!(exec.contains(part), "{part} not in {exec}");
        }
        eprintln!("podman {podman}: quadlet accepted all units");
    }
}

/// Removes the unit folder even when an assertion fails (it may sit inside a shared root).
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Whether the Quadlet under test is new enough (>= 5.5) to know `Memory=`.
fn quadlet_knows_memory(root: &Option<PathBuf>) -> bool {
    let out = match root {
        Some(r) => Command::new("chroot")
            .arg(r)
            .args([QUADLET, "-version"])
            .output(),
        None => Command::new(QUADLET).arg("-version").output(),
    };
    out.ok()
        .and_then(|o| PodmanVersion::parse(&String::from_utf8_lossy(&o.stdout)).ok())
        .is_some_and(|v| v.has_memory_key())
}
