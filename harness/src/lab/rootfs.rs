//! The node root filesystems: one cached, provisioned Debian 13 base, copied per node.

use std::{fs, path::Path, process::Command};

use super::{
    LabError,
    host::run,
    layout::{BASE_STAMP, LabNode, MIRROR, PACKAGES, SUITE, base_dir, node_dir},
    provision::provision_base,
};

/// Marker debootstrap's output gets once it completed (a killed run leaves none).
const DEBOOTSTRAP_DONE: &str = ".debootstrap-done";

fn stamp_ok(root: &Path) -> bool {
    fs::read_to_string(root.join("etc/archy-lab-base")).is_ok_and(|s| s.trim() == BASE_STAMP)
}

/// True when the cached base is complete and current (a warm `lab up`).
pub fn base_ready() -> bool {
    stamp_ok(&base_dir())
}

/// Builds the base if it is missing or stale; `on_step` hears what is happening.
pub fn ensure_base(on_step: &dyn Fn(&str)) -> Result<(), LabError> {
    let base = base_dir();
    if stamp_ok(&base) {
        return Ok(());
    }
    if !base.join(DEBOOTSTRAP_DONE).exists() {
        if base.exists() {
            fs::remove_dir_all(&base).map_err(|e| LabError::Io {
                path: base.display().to_string(),
                detail: e.to_string(),
            })?;
        }
        on_step("debootstrap Debian 13 (about a minute)");
        run(Command::new("debootstrap")
            .arg("--variant=minbase")
            .arg(format!("--include={PACKAGES}"))
            .arg(SUITE)
            .arg(&base)
            .arg(MIRROR))?;
        fs::write(base.join(DEBOOTSTRAP_DONE), "").map_err(|e| LabError::Io {
            path: base.display().to_string(),
            detail: e.to_string(),
        })?;
    }
    on_step("provision the base image");
    provision_base(&base)
}

/// Makes the node's root a copy of the base unless it already is one.
pub fn ensure_node(node: &LabNode) -> Result<bool, LabError> {
    let dir = node_dir(node);
    if stamp_ok(&dir) {
        return Ok(false);
    }
    if dir.exists() {
        fs::remove_dir_all(&dir).map_err(|e| LabError::Io {
            path: dir.display().to_string(),
            detail: e.to_string(),
        })?;
    }
    let tmp = dir.with_extension("tmp");
    if tmp.exists() {
        fs::remove_dir_all(&tmp).ok();
    }
    fs::create_dir_all(dir.parent().unwrap_or(Path::new("/"))).ok();
    run(Command::new("cp")
        .args(["-a", "--reflink=auto"])
        .arg(base_dir())
        .arg(&tmp))?;
    fs::rename(&tmp, &dir).map_err(|e| LabError::Io {
        path: dir.display().to_string(),
        detail: e.to_string(),
    })?;
    Ok(true)
}
