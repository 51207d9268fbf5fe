//! Runs podman's own Quadlet generator over rendered units, so a render it rejects fails here.

use std::path::{Path, PathBuf};
use std::process::Command;

use orchestrator::manifest::Manifest;
use orchestrator::quadlet::{PodmanVersion, QuadletUnit};
use orchestrator::state::Desired;

const QUADLET: &str = "/usr/libexec/podman/quadlet";

const MANIFESTS: [&str; 3] = [
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
];

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
            let unit = QuadletUnit::from_manifest(&m, &podman, Desired::Running).render();
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
        for id in ["tiny", "lab-wallet", "lab-chain"] {
            assert!(
                stdout.contains(&format!("---{id}.service---")),
                "no {id}.service in:\n{stdout}\n{stderr}"
            );
        }
        assert!(
            stdout.contains("--label orchestrator.app=lab-wallet"),
            "{stdout}"
        );
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
