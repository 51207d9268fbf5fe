//! Each node's own cgroup on the host.
//!
//! systemd-nspawn runs the container in a `payload` cgroup (and itself in `supervisor`) below the
//! cgroup it was started in. Started from the same cgroup, both nodes' nspawns shared one
//! `payload`: the same `user@1000.service`, `orchestrator.service` and app cgroups held both
//! nodes' processes. A node then saw processes of the other node in its own units (`cgroup.procs`
//! lists them as pid 0), could not kill them, and waited out its stop timeout at every
//! shutdown ("Processes still around after final SIGKILL"). So the supervisor moves itself into
//! `archy-lab/<node>` first, in every cgroup hierarchy nspawn uses, and nspawn nests below it.

use std::{
    fs,
    path::{Path, PathBuf},
};

use super::{LabError, layout::LabNode, node};

/// The folder below the supervisor's own cgroup that holds one cgroup per node.
const LAB_GROUP: &str = "archy-lab";

/// A cgroup hierarchy nspawn uses: cgroup v2, or v1's `name=systemd`.
#[derive(Debug, PartialEq, Eq)]
struct Hierarchy {
    /// Where it is mounted.
    mount: PathBuf,
    /// This process's cgroup in it, relative to that mount.
    own: String,
}

/// The hierarchies in `mountinfo` (the text of /proc/self/mountinfo) that nspawn uses, with this
/// process's cgroup in each from `cgroups` (the text of /proc/self/cgroup). A mount whose root
/// is not the hierarchy's root (a bind of a sub-tree) is not one to write to.
fn hierarchies(mountinfo: &str, cgroups: &str) -> Vec<Hierarchy> {
    let mut found = Vec::new();
    for line in mountinfo.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(dash) = fields.iter().position(|f| *f == "-") else {
            continue;
        };
        let (Some(root), Some(mount), Some(fstype), Some(options)) = (
            fields.get(3),
            fields.get(4),
            fields.get(dash + 1),
            fields.get(dash + 3),
        ) else {
            continue;
        };
        let path = match *fstype {
            "cgroup2" => path_in(cgroups, ""),
            "cgroup" if options.split(',').any(|o| o == "name=systemd") => {
                path_in(cgroups, "name=systemd")
            }
            _ => None,
        };
        if let (Some(own), "/") = (path, *root) {
            found.push(Hierarchy {
                mount: PathBuf::from(mount),
                own: own.to_owned(),
            });
        }
    }
    found
}

/// The path in `cgroups` (the text of /proc/<pid>/cgroup, lines `id:controllers:path`) of the
/// hierarchy with these `controllers` (`""` is cgroup v2).
fn path_in<'a>(cgroups: &'a str, controllers: &str) -> Option<&'a str> {
    cgroups.lines().find_map(|l| {
        let mut parts = l.splitn(3, ':');
        parts.next()?;
        (parts.next()? == controllers)
            .then(|| parts.next())
            .flatten()
    })
}

/// The lab's folder in `h`, holding one cgroup per node.
fn lab_group(h: &Hierarchy) -> PathBuf {
    h.mount.join(h.own.trim_start_matches('/')).join(LAB_GROUP)
}

/// `node`'s cgroup in `h`.
fn node_group(h: &Hierarchy, node: &LabNode) -> PathBuf {
    lab_group(h).join(node.name)
}

fn read(path: &str) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

/// Moves this process into `node`'s own cgroup in each hierarchy nspawn uses, so the nspawn it
/// starts next nests its `payload` there. What could not be done is returned, to be logged: a
/// node in the shared cgroup still boots, as before.
pub fn enter(node: &LabNode) -> Vec<String> {
    let mut problems = Vec::new();
    let pid = std::process::id().to_string();
    for h in hierarchies(&read("/proc/self/mountinfo"), &read("/proc/self/cgroup")) {
        let dir = node_group(&h, node);
        let done = fs::create_dir_all(&dir)
            .and_then(|()| fs::write(dir.join("cgroup.procs"), &pid))
            .map_err(|e| format!("{}: {e}", dir.display()));
        problems.extend(done.err());
    }
    problems
}

/// Removes the nodes' cgroups left after the nodes are gone (deepest first; one that still
/// holds a process stays, and is not an error here: `lab down` reports live processes itself).
pub fn remove(nodes: &[LabNode]) {
    for h in hierarchies(&read("/proc/self/mountinfo"), &read("/proc/self/cgroup")) {
        for node in nodes {
            remove_tree(&node_group(&h, node));
        }
        fs::remove_dir(lab_group(&h)).ok();
    }
}

fn remove_tree(dir: &Path) {
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                remove_tree(&e.path());
            }
        }
    }
    fs::remove_dir(dir).ok();
}

/// Fails when two booted nodes' systemd run in the same cgroup (a lab booted before nodes had
/// cgroups of their own, or a host where [`enter`] could not move the supervisor).
pub fn check_apart(nodes: &[LabNode]) -> Result<(), LabError> {
    let mut seen: Vec<(&str, String)> = Vec::new();
    for n in nodes {
        let Some(leader) = node::leader_pid(n) else {
            continue;
        };
        let text = read(&format!("/proc/{leader}/cgroup"));
        let Some(path) = path_in(&text, "") else {
            continue;
        };
        if let Some((other, _)) = seen.iter().find(|(_, p)| p == path) {
            return Err(LabError::SharedCgroup {
                nodes: format!("{other} and {}", n.name),
                cgroup: path.to_owned(),
            });
        }
        seen.push((n.name, path.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::NODES;

    // This machine's: cgroup v1 controllers, v1 `name=systemd`, v2 at /sys/fs/cgroup/unified.
    const MOUNTINFO: &str = "\
30 24 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
33 30 0:29 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 30 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
50 24 0:38 /sub /mnt/bound rw,relatime - cgroup2 cgroup2 rw
";
    const CGROUP: &str = "9:name=systemd:/ci\n4:memory:/process_api/a0\n0::/\n";

    #[test]
    fn the_hierarchies_are_v2_and_name_systemd_with_this_process_s_cgroup_in_each() {
        assert_eq!(
            hierarchies(MOUNTINFO, CGROUP),
            vec![
                Hierarchy {
                    mount: "/sys/fs/cgroup/systemd".into(),
                    own: "/ci".into()
                },
                Hierarchy {
                    mount: "/sys/fs/cgroup/unified".into(),
                    own: "/".into()
                },
            ]
        );
    }

    #[test]
    fn each_node_gets_its_own_group_below_the_process_s_cgroup() {
        let h = hierarchies(MOUNTINFO, CGROUP);
        assert_eq!(
            node_group(&h[0], &NODES[0]),
            PathBuf::from(format!(
                "/sys/fs/cgroup/systemd/ci/archy-lab/{}",
                NODES[0].name
            ))
        );
        assert_eq!(
            node_group(&h[1], &NODES[1]),
            PathBuf::from(format!(
                "/sys/fs/cgroup/unified/archy-lab/{}",
                NODES[1].name
            ))
        );
    }

    #[test]
    fn a_process_s_cgroup_is_read_per_hierarchy() {
        assert_eq!(path_in(CGROUP, ""), Some("/"));
        assert_eq!(path_in(CGROUP, "name=systemd"), Some("/ci"));
        assert_eq!(path_in(CGROUP, "memory"), Some("/process_api/a0"));
        let node =
            "9:name=systemd:/archy-lab/lab-228/payload\n0::/archy-lab/lab-228/payload/init.scope\n";
        assert_eq!(
            path_in(node, ""),
            Some("/archy-lab/lab-228/payload/init.scope")
        );
        assert_eq!(path_in("9:name=systemd:/payload\n", ""), None);
    }

    #[test]
    fn without_a_cgroup_mount_there_is_nothing_to_enter() {
        assert!(hierarchies("30 24 0:26 / /sys rw - sysfs sysfs rw\n", CGROUP).is_empty());
    }
}
