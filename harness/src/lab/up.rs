//! `harness lab up`: build or reuse the base image, copy, wire, boot and provision both nodes
//! (the orchestrator built with `--features failpoints`, no fail points switched on, both
//! fixture image tags), then wait until each answers over SSH and its orchestrator answers
//! `auth.login`.

use std::{
    fs,
    io::Write,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    thread::sleep,
    time::{Duration, Instant},
};

use super::{
    LabError, cgroup, failpoints,
    host::{find_processes, has_program, run, write_atomic},
    layout::{
        self, APP_UID, APP_USER, IMAGE_TAGS, LabNode, NODES, known_hosts, node_dir, password_file,
        ssh_key,
    },
    net, node,
    progress::Progress,
    provision::{Changes, NodeInputs, provision_node},
    rootfs,
    rpc::Session,
};
use crate::transport::TransportError;

/// Options of `harness lab up`.
#[derive(Debug, Clone, clap::Args)]
pub struct UpOptions {
    /// Orchestrator binary to install (default: built with `cargo build --release --features
    /// failpoints`; one given here must be built with that feature too).
    #[arg(long)]
    pub orchestrator_bin: Option<PathBuf>,
    /// Static fixture-app binary (default: built for x86_64-unknown-linux-gnu with crt-static).
    #[arg(long)]
    pub fixture_bin: Option<PathBuf>,
}

const TOOLS: [(&str, &str); 6] = [
    ("debootstrap", "debootstrap"),
    ("systemd-nspawn", "systemd-container"),
    ("ip", "iproute2"),
    ("nsenter", "util-linux"),
    ("ssh-keygen", "openssh-client"),
    ("chroot", "coreutils"),
];

/// Brings the lab up (idempotent: a second run only checks and refreshes).
pub fn up(options: &UpOptions) -> Result<i32, LabError> {
    let missing: Vec<_> = TOOLS.iter().filter(|(p, _)| !has_program(p)).collect();
    if !missing.is_empty() {
        return Err(LabError::MissingTools {
            missing: missing
                .iter()
                .map(|(p, _)| *p)
                .collect::<Vec<_>>()
                .join(", "),
            packages: missing
                .iter()
                .map(|(_, k)| *k)
                .collect::<Vec<_>>()
                .join(" "),
        });
    }
    let root = workspace_root()?;
    let mut progress = Progress::new();
    progress.step("build the orchestrator (--features failpoints) and fixture binaries");
    let orchestrator_bin = match &options.orchestrator_bin {
        Some(p) => p.clone(),
        None => build_orchestrator(&root)?,
    };
    let fixture_bin = match &options.fixture_bin {
        Some(p) => p.clone(),
        None => build_fixture(&root)?,
    };
    progress.step("lab keys and password");
    let pubkey = ensure_ssh_key()?;
    let password_hash = ensure_password(&orchestrator_bin)?;
    for n in NODES {
        if node::nspawn_pid(&n).is_none() {
            clear_leftovers(&n);
        }
    }
    if !rootfs::base_ready() {
        progress.step("build the node base image (cached for later runs)");
    }
    rootfs::ensure_base(&|what| eprintln!("lab: {what}"))?;
    progress.step("copy, wire and provision the nodes");
    net::bridge_up()?;
    let inputs = NodeInputs {
        orchestrator_bin: &orchestrator_bin,
        orchestrator_unit: &root.join("orchestrator/orchestrator.service"),
        catalog_dir: &root.join("orchestrator/catalog/lab"),
        fixture_bin: &fixture_bin,
        containerfile: &root.join("fixture-app/Containerfile"),
        containerfile_v2: &root.join("fixture-app/Containerfile.v2"),
        harness_pubkey: &pubkey,
        password_hash: &password_hash,
    };
    let mut changes = Vec::new();
    for n in NODES {
        rootfs::ensure_node(&n)?;
        net::node_up(&n)?;
        let use_quadlet = current_backend_is_quadlet(&n);
        let was_running = node::nspawn_pid(&n).is_some();
        changes.push((
            n,
            was_running,
            provision_node(&node_dir(&n), &n, &inputs, use_quadlet)?,
        ));
        node::start_supervisor(&n)?;
    }
    write_known_hosts()?;
    progress.step("boot the nodes");
    for n in NODES {
        node::wait_booted(&n, Duration::from_secs(120))?;
    }
    cgroup::check_apart(&NODES)?;
    progress
        .step("wait for the app user's systemd, build the fixture images, start the orchestrators");
    for (n, was_running, change) in &changes {
        node::wait_user_settled(n, Duration::from_secs(180))?;
        build_images(n, change)?;
        // A running orchestrator keeps fail points it was started with until it restarts.
        if *was_running && (change.orchestrator || failpoints::active(n)?.is_some()) {
            node::exec_in(n, &["systemctl", "daemon-reload"])?;
            node::exec_in(n, &["systemctl", "restart", "orchestrator.service"])?;
        }
    }
    progress.step("wait for SSH and the orchestrators");
    for n in NODES {
        wait_ssh(&n, Duration::from_secs(60))?;
        wait_orchestrator(&n, Duration::from_secs(60))?;
        if let Some(spec) = failpoints::active(&n)? {
            return Err(LabError::Failpoints {
                node: n.name.into(),
                detail: format!("the orchestrator still runs with FAILPOINTS={spec}"),
            });
        }
    }
    progress.finish("up");
    for n in NODES {
        println!("{} {} booted, ssh ok, orchestrator ok", n.name, n.address);
    }
    Ok(0)
}

/// The workspace root `lab up` builds from: [`crate::workspace::find_root`] from the current
/// folder, with the orchestrator's sources.
pub fn workspace_root() -> Result<PathBuf, LabError> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    crate::workspace::find_root(&cwd, true).ok_or(LabError::NoWorkspace(cwd))
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

fn build_orchestrator(root: &Path) -> Result<PathBuf, LabError> {
    // The lab always runs the fail points build, so `lab failpoints` can switch regressions on;
    // with FAILPOINTS unset it behaves as the normal build.
    run(Command::new("cargo").current_dir(root).args([
        "build",
        "--quiet",
        "--release",
        "-p",
        "orchestrator",
        "--features",
        "failpoints",
    ]))?;
    Ok(target_dir(root).join("release/orchestrator"))
}

fn build_fixture(root: &Path) -> Result<PathBuf, LabError> {
    // Static, so the FROM-scratch image needs no libraries.
    run(Command::new("cargo")
        .current_dir(root)
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "fixture-app",
            "--target",
            "x86_64-unknown-linux-gnu",
        ]))?;
    Ok(target_dir(root).join("x86_64-unknown-linux-gnu/release/fixture-app"))
}

fn ensure_ssh_key() -> Result<String, LabError> {
    let key = ssh_key();
    if !key.exists() {
        fs::create_dir_all(key.parent().unwrap_or(Path::new("/"))).ok();
        run(Command::new("ssh-keygen")
            .args([
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "archy-lab-harness",
                "-f",
            ])
            .arg(&key))?;
    }
    fs::read_to_string(key.with_extension("pub")).map_err(|e| LabError::Io {
        path: key.display().to_string(),
        detail: e.to_string(),
    })
}

/// The lab password (made once per lab, never printed) and its hash (made by the orchestrator).
fn ensure_password(orchestrator_bin: &Path) -> Result<String, LabError> {
    let file = password_file();
    let hash_file = file.with_extension("hash");
    if file.exists() && hash_file.exists() {
        return fs::read_to_string(&hash_file)
            .map(|h| h.trim().to_owned())
            .map_err(|e| LabError::Io {
                path: hash_file.display().to_string(),
                detail: e.to_string(),
            });
    }
    let mut raw = [0u8; 18];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut raw))
        .map_err(|e| LabError::Io {
            path: "/dev/urandom".into(),
            detail: e.to_string(),
        })?;
    let password: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let mut child = Command::new(orchestrator_bin)
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| LabError::Command {
            command: format!("{} hash-password", orchestrator_bin.display()),
            detail: e.to_string(),
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(password.as_bytes()).ok();
    }
    let out = child.wait_with_output().map_err(|e| LabError::Command {
        command: "orchestrator hash-password".into(),
        detail: e.to_string(),
    })?;
    let hash = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || hash.is_empty() {
        return Err(LabError::Command {
            command: "orchestrator hash-password".into(),
            detail: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    write_atomic(&file, password.as_bytes(), 0o600)?;
    write_atomic(&hash_file, hash.as_bytes(), 0o600)?;
    Ok(hash)
}

/// The backend a node's current config names; quadlet for a new node.
pub fn current_backend_is_quadlet(n: &LabNode) -> bool {
    fs::read_to_string(node_dir(n).join("etc/orchestrator/config.toml"))
        .map(|c| !c.contains("use_quadlet_backends = false"))
        .unwrap_or(true)
}

/// Clears what a killed earlier lab left for this node: stray processes, links, namespaces.
fn clear_leftovers(n: &LabNode) {
    for pid in find_processes(&["lab", "supervise", n.name]) {
        super::host::signal(pid, "KILL");
    }
    fs::remove_file(node::supervisor_pid_file(n)).ok();
    fs::remove_file(node::nspawn_pid_file(n)).ok();
    fs::remove_dir_all(format!("/run/systemd/nspawn/propagate/{}", n.name)).ok();
    net::node_down(n);
}

fn write_known_hosts() -> Result<(), LabError> {
    let mut text = String::new();
    for n in NODES {
        let path = node_dir(&n).join("etc/ssh/ssh_host_ed25519_key.pub");
        let key = fs::read_to_string(&path).map_err(|e| LabError::Io {
            path: path.display().to_string(),
            detail: e.to_string(),
        })?;
        let mut parts = key.split_whitespace();
        let (kind, body) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        text.push_str(&format!("{} {kind} {body}\n", n.address));
    }
    write_atomic(&known_hosts(), text.as_bytes(), 0o644)
}

fn image_exists(n: &LabNode, tag: &str) -> bool {
    podman(n, &["image", "exists", tag]).is_ok()
}

/// Builds `localhost/lab-app:latest` when its inputs changed or it is missing, and `:v2` (from
/// it) whenever `:latest` was built, its Containerfile changed or it is missing; then checks
/// both tags exist. Nothing is pulled.
fn build_images(n: &LabNode, change: &Changes) -> Result<(), LabError> {
    let [latest, v2] = IMAGE_TAGS;
    let build_latest = change.fixture || !image_exists(n, latest);
    if build_latest {
        podman(
            n,
            &[
                "build",
                "-q",
                "--pull=never",
                "-t",
                latest,
                "/usr/share/lab-app",
            ],
        )?;
    }
    if build_latest || change.fixture_v2 || !image_exists(n, v2) {
        podman(
            n,
            &[
                "build",
                "-q",
                "--pull=never",
                "-t",
                v2,
                "/usr/share/lab-app/v2",
            ],
        )?;
    }
    match IMAGE_TAGS.into_iter().find(|tag| !image_exists(n, tag)) {
        Some(tag) => Err(LabError::MissingImage {
            node: n.name.into(),
            tag: tag.into(),
        }),
        None => Ok(()),
    }
}

/// Runs podman inside the node as the app user (rootless, as the orchestrator does).
fn podman(n: &LabNode, args: &[&str]) -> Result<String, LabError> {
    let runtime_dir = format!("XDG_RUNTIME_DIR=/run/user/{APP_UID}");
    let mut argv = vec![
        "runuser",
        "-u",
        APP_USER,
        "--",
        "env",
        &runtime_dir,
        "PODMAN_IGNORE_CGROUPSV1_WARNING=1",
        "podman",
    ];
    argv.extend_from_slice(args);
    node::exec_in(n, &argv)
}

fn wait_ssh(n: &LabNode, budget: Duration) -> Result<(), LabError> {
    let addr: SocketAddr =
        format!("{}:22", n.address)
            .parse()
            .map_err(|_| LabError::UnknownNode {
                name: n.name.into(),
            })?;
    let start = Instant::now();
    while start.elapsed() < budget {
        match layout::guard().connect(n.name, addr, Duration::from_secs(1)) {
            Ok(mut s) => {
                s.set_read_timeout(Some(Duration::from_secs(2))).ok();
                let mut banner = [0u8; 8];
                if std::io::Read::read_exact(&mut s, &mut banner).is_ok()
                    && banner.starts_with(b"SSH-2.0")
                {
                    return Ok(());
                }
            }
            Err(e @ (TransportError::LabDown { .. } | TransportError::OffLab { .. })) => {
                return Err(LabError::Route {
                    node: n.name.into(),
                    detail: e.to_string(),
                });
            }
            Err(_) => {}
        }
        sleep(Duration::from_millis(200));
    }
    Err(LabError::Timeout {
        node: n.name.into(),
        what: "sshd on port 22".into(),
    })
}

/// Waits until the node's orchestrator accepts the lab password.
pub fn wait_orchestrator(n: &LabNode, budget: Duration) -> Result<(), LabError> {
    let start = Instant::now();
    let mut last = String::new();
    while start.elapsed() < budget {
        match Session::login(n) {
            Ok(_) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
        sleep(Duration::from_millis(250));
    }
    Err(LabError::Timeout {
        node: n.name.into(),
        what: format!("the orchestrator to answer auth.login (last: {last})"),
    })
}
