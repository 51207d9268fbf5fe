//! What goes into a node's root filesystem: the base settings every node shares (app user,
//! linger, the three podman settings the sandbox needs) and each node's own files (host key,
//! harness key, orchestrator, catalog, fixture image sources).

use std::{
    fs,
    os::unix::fs::{PermissionsExt, chown, symlink},
    path::{Path, PathBuf},
    process::Command,
};

use super::{
    LabError, failpoints,
    host::{run, write_atomic},
    layout::{APP_UID, APP_USER, BASE_STAMP, CATALOG_OVERRIDE_DIR, LabNode},
};

/// The text of a file and its mode, relative to a root filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSpec {
    /// Path inside the root, absolute.
    pub path: &'static str,
    /// Contents.
    pub contents: String,
    /// Permission bits.
    pub mode: u32,
}

fn file(path: &'static str, contents: &str) -> FileSpec {
    FileSpec {
        path,
        contents: contents.to_owned(),
        mode: 0o644,
    }
}

/// Files every node shares.
pub fn base_files() -> Vec<FileSpec> {
    // cgroups: v1 hierarchies are read-only inside nspawn; keyring: nspawn's seccomp filter
    // refuses keyctl. Memory limits are therefore not enforced on lab nodes.
    let containers_conf = "[containers]\ncgroups = \"disabled\"\nkeyring = false\n";
    vec![
        file(
            "/etc/containers/containers.conf.d/50-lab.conf",
            containers_conf,
        ),
        file(
            "/home/archy/.config/containers/containers.conf.d/50-lab.conf",
            containers_conf,
        ),
        // Quadlet writes --cgroups=split otherwise, which crun cannot honour here.
        file(
            "/home/archy/.config/containers/systemd/container.d/10-lab.conf",
            "[Container]\nCgroupsMode=disabled\n",
        ),
        // pasta needs /dev/net/tun readable by the user; nspawn creates it 0600.
        file(
            "/etc/tmpfiles.d/lab-tun.conf",
            "z /dev/net/tun 0666 - - -\n",
        ),
        file(
            "/etc/ssh/sshd_config.d/50-lab.conf",
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PermitRootLogin prohibit-password\nUseDNS no\n",
        ),
        // The lab has no DNS and no route out; nothing in a node should try to resolve names.
        file("/etc/resolv.conf", ""),
        file(
            "/etc/containers/registries.conf.d/50-lab.conf",
            "unqualified-search-registries = []\n",
        ),
        // Inside nspawn on hybrid cgroups the user manager's cgroup never reports empty, so
        // stopping user@1000 would hang until its 120 s timeout on every poweroff and reboot.
        file(
            "/etc/systemd/system/user@.service.d/50-lab.conf",
            "[Service]\nTimeoutStopSec=5s\n",
        ),
        // The same fault holds an SSH session's scope until its stop timeout: a gate's reboot
        // took 24 s instead of 9 s waiting on one (journal: "session-c10.scope: Stopping timed
        // out"). Every lab unit that needs longer says so itself (orchestrator.service: 30 s).
        file(
            "/etc/systemd/system.conf.d/50-lab.conf",
            "[Manager]\nDefaultTimeoutStopSec=5s\n",
        ),
        // Rootless podman's pause process holds the user's namespaces; it must belong to the
        // user's manager, not to whichever service ran podman first. Were the legacy backend's
        // podman to start it inside orchestrator.service, a daemon restart would kill it and
        // corrupt podman's storage, a second failure hiding the one the gate demonstrates.
        file(
            "/home/archy/.config/systemd/user/podman-pause.service",
            "[Unit]\nDescription=Rootless podman pause process\n\n\
             [Service]\nType=oneshot\nRemainAfterExit=yes\n\
             Environment=PODMAN_IGNORE_CGROUPSV1_WARNING=1\n\
             ExecStart=/usr/bin/podman unshare true\n\n\
             [Install]\nWantedBy=default.target\n",
        ),
        // The lab's apps (all named lab-*) start after the pause process exists: in about 1 of
        // 25 boots an app's first `podman run` raced it and failed with result 'protocol'.
        file(
            "/home/archy/.config/systemd/user/lab-.service.d/10-lab.conf",
            "[Unit]\nWants=podman-pause.service\nAfter=podman-pause.service\n",
        ),
        file(
            "/etc/systemd/system/orchestrator.service.d/10-lab.conf",
            "[Service]\nExecStartPre=/usr/bin/systemctl --user start podman-pause.service\n",
        ),
        file("/etc/archy-lab-base", &format!("{BASE_STAMP}\n")),
    ]
}

/// Units masked in every node: modules-load fails in a container (leaving the system
/// `degraded`), the apt timers would only try to reach the network, and root's user manager
/// (started by every root SSH login, used by nothing) was seen running into its 5 s stop timeout
/// on shutdown ("Processes still around after final SIGKILL"). Without it user@1000 still does
/// (the nspawn fault below), so a shutdown still takes about 5.4 s, but never two such waits.
pub const MASKED_UNITS: [&str; 4] = [
    "systemd-modules-load.service",
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "user@0.service",
];

/// The orchestrator's config inside a node. A 1 s reconcile interval (the product's default is
/// 10 s) keeps the gate's "still holds a reconcile tick later" checks short; a tick costs one
/// `systemctl show` and the apps' in-process health probes.
pub fn orchestrator_config(password_hash: &str, use_quadlet: bool) -> String {
    format!(
        "# Written by `harness lab up`.\n\
         listen = \"0.0.0.0:5678\"\n\
         catalog_dir = \"/usr/share/orchestrator/catalog\"\n\
         catalog_override_dir = \"{CATALOG_OVERRIDE_DIR}\"\n\
         unit_dir = \"/home/{APP_USER}/.config/containers/systemd\"\n\
         data_dir = \"/var/lib/orchestrator\"\n\
         use_quadlet_backends = {use_quadlet}\n\
         password_hash = \"{password_hash}\"\n\
         session_ttl_secs = 3600\n\
         reconcile_interval_secs = 1\n"
    )
}

/// Node-specific `/etc/hosts`.
pub fn hosts_file(node: &LabNode) -> String {
    format!(
        "127.0.0.1 localhost\n::1 localhost\n127.0.1.1 {0}\n{1} {0}\n",
        node.name, node.address
    )
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> LabError + '_ {
    move |e| LabError::Io {
        path: path.display().to_string(),
        detail: e.to_string(),
    }
}

fn inside(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}

fn write_specs(root: &Path, specs: &[FileSpec]) -> Result<(), LabError> {
    for spec in specs {
        write_atomic(
            &inside(root, spec.path),
            spec.contents.as_bytes(),
            spec.mode,
        )?;
    }
    Ok(())
}

fn link(root: &Path, link_path: &str, target: &str) -> Result<(), LabError> {
    let at = inside(root, link_path);
    if fs::symlink_metadata(&at).is_ok() {
        fs::remove_file(&at).map_err(io(&at))?;
    }
    fs::create_dir_all(at.parent().unwrap_or(root)).map_err(io(&at))?;
    symlink(target, &at).map_err(io(&at))
}

/// Applies the shared settings to a freshly debootstrapped root (idempotent).
pub fn provision_base(root: &Path) -> Result<(), LabError> {
    if !inside(root, &format!("/home/{APP_USER}")).exists() {
        run(Command::new("chroot").arg(root).args([
            "useradd",
            "-m",
            "-u",
            &APP_UID.to_string(),
            "-s",
            "/bin/bash",
            APP_USER,
        ]))?;
    }
    // Linger starts user@1000 at boot, so Quadlet apps start without a login.
    write_atomic(
        &inside(root, &format!("/var/lib/systemd/linger/{APP_USER}")),
        b"",
        0o644,
    )?;
    fs::remove_file(inside(root, "/etc/resolv.conf")).ok();
    write_specs(root, &base_files())?;
    for unit in MASKED_UNITS {
        link(root, &format!("/etc/systemd/system/{unit}"), "/dev/null")?;
    }
    // Quadlet units wait for network-online.target; with no network manager in the node it is
    // never reached unless something wants it, and every start would wait 90 s.
    link(
        root,
        "/etc/systemd/system/multi-user.target.wants/network-online.target",
        "/usr/lib/systemd/system/network-online.target",
    )?;
    link(
        root,
        "/home/archy/.config/systemd/user/default.target.wants/podman-pause.service",
        "/home/archy/.config/systemd/user/podman-pause.service",
    )?;
    run(Command::new("chroot").arg(root).args([
        "chown",
        "-R",
        &format!("{APP_USER}:{APP_USER}"),
        &format!("/home/{APP_USER}/.config"),
    ]))?;
    for key in ["rsa", "ecdsa", "ed25519"] {
        fs::remove_file(inside(root, &format!("/etc/ssh/ssh_host_{key}_key"))).ok();
        fs::remove_file(inside(root, &format!("/etc/ssh/ssh_host_{key}_key.pub"))).ok();
    }
    Ok(())
}

/// What a node needs besides the base: binaries, config, keys.
pub struct NodeInputs<'a> {
    /// The orchestrator binary to install.
    pub orchestrator_bin: &'a Path,
    /// Its system unit file.
    pub orchestrator_unit: &'a Path,
    /// The lab catalog folder (manifests).
    pub catalog_dir: &'a Path,
    /// The static fixture binary.
    pub fixture_bin: &'a Path,
    /// The fixture's Containerfile (`localhost/lab-app:latest`).
    pub containerfile: &'a Path,
    /// The Containerfile of `localhost/lab-app:v2` (`FROM` the latest tag).
    pub containerfile_v2: &'a Path,
    /// The harness's public key, for root's authorized_keys.
    pub harness_pubkey: &'a str,
    /// The orchestrator's password hash.
    pub password_hash: &'a str,
}

/// What changed while provisioning a node, so a running node restarts only what it must.
#[derive(Debug, Default)]
pub struct Changes {
    /// The orchestrator binary, unit or config changed, or a fail points drop-in was removed.
    pub orchestrator: bool,
    /// The fixture binary or its Containerfile changed (both images must be built again).
    pub fixture: bool,
    /// The v2 Containerfile changed (the v2 image must be built again).
    pub fixture_v2: bool,
}

/// Copies `src` to `dst` inside root when it differs; returns whether it changed.
fn install(src: &Path, dst: &Path, mode: u32) -> Result<bool, LabError> {
    let new = fs::read(src).map_err(io(src))?;
    if fs::read(dst).is_ok_and(|old| old == new) {
        return Ok(false);
    }
    write_atomic(dst, &new, mode)?;
    Ok(true)
}

fn put(dst: &Path, contents: &str, mode: u32) -> Result<bool, LabError> {
    if fs::read(dst).is_ok_and(|old| old == contents.as_bytes()) {
        return Ok(false);
    }
    write_atomic(dst, contents.as_bytes(), mode)?;
    Ok(true)
}

/// Writes a node's own files into its root (idempotent; reports what changed).
pub fn provision_node(
    root: &Path,
    node: &LabNode,
    inputs: &NodeInputs,
    use_quadlet: bool,
) -> Result<Changes, LabError> {
    let mut changes = Changes::default();
    put(
        &inside(root, "/etc/hostname"),
        &format!("{}\n", node.name),
        0o644,
    )?;
    put(&inside(root, "/etc/hosts"), &hosts_file(node), 0o644)?;
    let host_key = inside(root, "/etc/ssh/ssh_host_ed25519_key");
    if !host_key.exists() {
        run(Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", node.name, "-f"])
            .arg(&host_key))?;
    }
    put(
        &inside(root, "/root/.ssh/authorized_keys"),
        inputs.harness_pubkey,
        0o600,
    )?;
    changes.orchestrator |= install(
        inputs.orchestrator_bin,
        &inside(root, "/usr/local/bin/orchestrator"),
        0o755,
    )?;
    changes.orchestrator |= install(
        inputs.orchestrator_unit,
        &inside(root, "/etc/systemd/system/orchestrator.service"),
        0o644,
    )?;
    changes.orchestrator |= put(
        &inside(root, "/etc/orchestrator/config.toml"),
        &orchestrator_config(inputs.password_hash, use_quadlet),
        0o640,
    )?;
    // A gate must never run against a node left with a regression switched on.
    changes.orchestrator |= failpoints::remove_drop_in(root)?;
    link(
        root,
        "/etc/systemd/system/multi-user.target.wants/orchestrator.service",
        "/etc/systemd/system/orchestrator.service",
    )?;
    let overrides = inside(root, CATALOG_OVERRIDE_DIR);
    fs::create_dir_all(&overrides).map_err(io(&overrides))?;
    chown(&overrides, Some(0), Some(0)).map_err(io(&overrides))?;
    fs::set_permissions(&overrides, fs::Permissions::from_mode(0o755)).map_err(io(&overrides))?;
    let catalog = inside(root, "/usr/share/orchestrator/catalog");
    fs::create_dir_all(&catalog).map_err(io(&catalog))?;
    for entry in fs::read_dir(inputs.catalog_dir).map_err(io(inputs.catalog_dir))? {
        let path = entry.map_err(io(inputs.catalog_dir))?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            let name = path.file_name().unwrap_or_default();
            changes.orchestrator |= install(&path, &catalog.join(name), 0o644)?;
        }
    }
    changes.fixture |= install(
        inputs.fixture_bin,
        &inside(root, "/usr/share/lab-app/fixture-app"),
        0o755,
    )?;
    changes.fixture |= install(
        inputs.containerfile,
        &inside(root, "/usr/share/lab-app/Containerfile"),
        0o644,
    )?;
    changes.fixture_v2 |= install(
        inputs.containerfile_v2,
        &inside(root, "/usr/share/lab-app/v2/Containerfile"),
        0o644,
    )?;
    let data = inside(root, "/var/lib/orchestrator");
    fs::create_dir_all(&data).map_err(io(&data))?;
    run(Command::new("chroot").arg(root).args([
        "chown",
        &format!("{APP_USER}:{APP_USER}"),
        "/var/lib/orchestrator",
        "/etc/orchestrator/config.toml",
    ]))?;
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orchestrator_config_is_exact() {
        assert_eq!(
            orchestrator_config("pbkdf2-sha256$1$00$00", false),
            "# Written by `harness lab up`.\n\
             listen = \"0.0.0.0:5678\"\n\
             catalog_dir = \"/usr/share/orchestrator/catalog\"\n\
             catalog_override_dir = \"/etc/orchestrator/catalog.d\"\n\
             unit_dir = \"/home/archy/.config/containers/systemd\"\n\
             data_dir = \"/var/lib/orchestrator\"\n\
             use_quadlet_backends = false\n\
             password_hash = \"pbkdf2-sha256$1$00$00\"\n\
             session_ttl_secs = 3600\n\
             reconcile_interval_secs = 1\n"
        );
    }

    #[test]
    fn hosts_file_names_the_node() {
        let node = super::super::layout::NODES[0];
        assert_eq!(
            hosts_file(&node),
            "127.0.0.1 localhost\n::1 localhost\n127.0.1.1 lab-228\n10.77.0.228 lab-228\n"
        );
    }

    #[test]
    fn base_files_hold_the_three_sandbox_settings() {
        let files = base_files();
        let text = |p: &str| {
            files
                .iter()
                .find(|f| f.path == p)
                .map(|f| f.contents.clone())
                .unwrap()
        };
        assert_eq!(
            text("/etc/containers/containers.conf.d/50-lab.conf"),
            "[containers]\ncgroups = \"disabled\"\nkeyring = false\n"
        );
        assert_eq!(
            text("/home/archy/.config/containers/systemd/container.d/10-lab.conf"),
            "[Container]\nCgroupsMode=disabled\n"
        );
        assert_eq!(
            text("/etc/tmpfiles.d/lab-tun.conf"),
            "z /dev/net/tun 0666 - - -\n"
        );
    }
}
