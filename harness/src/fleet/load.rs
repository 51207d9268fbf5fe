//! Parsing `fleet.toml`: raw wire structs, then checked into `Fleet`s; errors name file, line, key.

use std::{
    collections::BTreeMap,
    net::IpAddr,
    path::{Path, PathBuf},
};

use serde::Deserialize;
use toml::Spanned;

use super::Secret;
use crate::{error::Error, model::NodeName, toml_pos::line_of};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileWire {
    default: Option<Spanned<String>>,
    fleet: BTreeMap<String, FleetWire>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FleetWire {
    catalog: String,
    daemon_unit: String,
    app_user: String,
    ssh_user: String,
    ssh_key: String,
    known_hosts: String,
    orchestrator_port: u16,
    password: Spanned<SecretWire>,
    lab_interface: Option<String>,
    unit_dir: String,
    catalog_dir: Option<String>,
    catalog_override_dir: Option<String>,
    #[serde(default)]
    node: Vec<NodeWire>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretWire {
    file: Option<String>,
    env: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeWire {
    name: Spanned<String>,
    address: Spanned<String>,
}

/// The parsed fleet file: every fleet, and which one is the default.
#[derive(Debug, Clone)]
pub struct FleetFile {
    /// The file read.
    pub path: PathBuf,
    /// The default fleet's name.
    pub default: String,
    /// Every fleet, by name.
    pub fleets: BTreeMap<String, Fleet>,
    /// Fleets with a node address still unset: (line, message), refused when selected.
    pub unset: BTreeMap<String, (usize, String)>,
}

/// One fleet: nodes plus how to reach and authenticate to them.
#[derive(Debug, Clone, PartialEq)]
pub struct Fleet {
    /// The fleet's name (`lab`).
    pub name: String,
    /// The suite catalog it runs (`suites/<catalog>/`).
    pub catalog: String,
    /// The orchestrator's systemd unit (restarted by `daemon-restart`).
    pub daemon_unit: String,
    /// The user running the app containers.
    pub app_user: String,
    /// The SSH login user.
    pub ssh_user: String,
    /// The SSH private key.
    pub ssh_key: PathBuf,
    /// The known_hosts file host keys are checked against.
    pub known_hosts: PathBuf,
    /// The orchestrator's HTTP port.
    pub orchestrator_port: u16,
    /// The orchestrator password.
    pub password: Secret,
    /// When set, every connection must leave through this interface.
    pub lab_interface: Option<String>,
    /// The app user's Quadlet folder on the nodes (`uninstalled-clean` looks there).
    pub unit_dir: String,
    /// The orchestrator's catalog folder on the nodes (the manifests `update` starts from).
    pub catalog_dir: Option<String>,
    /// Where a new manifest replaces the catalog's (`update` writes one there and removes it).
    pub catalog_override_dir: Option<String>,
    /// The nodes, in file order.
    pub nodes: Vec<Node>,
}

/// One node of a fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Its name.
    pub name: NodeName,
    /// Its IP address.
    pub address: IpAddr,
    /// SSH port (22; tests use a loopback port).
    pub ssh_port: u16,
}

fn expand_home(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(p),
    }
}

impl FleetFile {
    /// Reads and checks a fleet file.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Fleet {
            file: path.to_owned(),
            line: 0,
            message: format!("failed to read it: {e}"),
        })?;
        Self::parse(path, &text)
    }

    /// Checks fleet file text; `path` is only used in messages.
    pub fn parse(path: &Path, text: &str) -> Result<Self, Error> {
        let err = |offset: usize, message: String| Error::Fleet {
            file: path.to_owned(),
            line: line_of(text, offset),
            message,
        };
        let wire: FileWire = toml::from_str(text).map_err(|e| {
            err(
                e.span().map_or(0, |s| s.start),
                e.message().trim().to_owned(),
            )
        })?;
        let mut fleets = BTreeMap::new();
        let mut unset = BTreeMap::new();
        for (name, f) in wire.fleet {
            let pw_span = f.password.span();
            let pw = f.password.into_inner();
            let password = match (pw.file, pw.env) {
                (Some(file), None) => Secret::File(expand_home(&file)),
                (None, Some(var)) => Secret::Env(var),
                _ => {
                    return Err(err(
                        pw_span.start,
                        format!(
                            "key fleet.{name}.password must be exactly one of {{file = ..}} or {{env = ..}}"
                        ),
                    ));
                }
            };
            let mut nodes: Vec<Node> = Vec::new();
            for n in f.node {
                let node_name = n.name.get_ref().clone();
                if node_name.is_empty() {
                    return Err(err(
                        n.name.span().start,
                        format!("key fleet.{name}.node.name is empty"),
                    ));
                }
                if nodes.iter().any(|x| x.name.0 == node_name) {
                    return Err(err(
                        n.name.span().start,
                        format!("key fleet.{name}.node.name: node {node_name:?} is listed twice"),
                    ));
                }
                let addr = n.address.get_ref().trim();
                if addr.is_empty() {
                    // An operator fills these in later: only an error when this fleet is used.
                    unset.entry(name.clone()).or_insert((
                        line_of(text, n.address.span().start),
                        format!("key fleet.{name}.node.address of node {node_name:?} is empty: set the node's IP address"),
                    ));
                    continue;
                }
                let address = addr.parse().map_err(|_| {
                    err(
                        n.address.span().start,
                        format!("key fleet.{name}.node.address of node {node_name:?}: {addr:?} is not an IP address"),
                    )
                })?;
                nodes.push(Node {
                    name: NodeName(node_name),
                    address,
                    ssh_port: 22,
                });
            }
            fleets.insert(
                name.clone(),
                Fleet {
                    name,
                    catalog: f.catalog,
                    daemon_unit: f.daemon_unit,
                    app_user: f.app_user,
                    ssh_user: f.ssh_user,
                    ssh_key: expand_home(&f.ssh_key),
                    known_hosts: expand_home(&f.known_hosts),
                    orchestrator_port: f.orchestrator_port,
                    password,
                    lab_interface: f.lab_interface,
                    unit_dir: f.unit_dir,
                    catalog_dir: f.catalog_dir,
                    catalog_override_dir: f.catalog_override_dir,
                    nodes,
                },
            );
        }
        let default = match wire.default {
            Some(d) => {
                let name = d.get_ref().clone();
                if !fleets.contains_key(&name) {
                    return Err(err(
                        d.span().start,
                        format!(
                            "key default: unknown fleet {name:?} (known: {})",
                            known(&fleets)
                        ),
                    ));
                }
                if name == "release" {
                    return Err(err(
                        d.span().start,
                        "key default: the release fleet is used only when named (--fleet release)"
                            .into(),
                    ));
                }
                name
            }
            None => "lab".to_owned(),
        };
        Ok(Self {
            path: path.to_owned(),
            default,
            fleets,
            unset,
        })
    }

    /// The fleet named on the command line, or the default one.
    pub fn select(&self, name: Option<&str>) -> Result<&Fleet, Error> {
        let name = name.unwrap_or(&self.default);
        if let Some((line, message)) = self.unset.get(name) {
            return Err(Error::Fleet {
                file: self.path.clone(),
                line: *line,
                message: message.clone(),
            });
        }
        self.fleets.get(name).ok_or_else(|| {
            Error::Usage(format!(
                "unknown fleet {name:?} in {} (known: {})",
                self.path.display(),
                known(&self.fleets)
            ))
        })
    }
}

fn known(fleets: &BTreeMap<String, Fleet>) -> String {
    fleets.keys().cloned().collect::<Vec<_>>().join(", ")
}

impl Fleet {
    /// The selected nodes: all, or those named (unknown names are refused, listing the known ones).
    pub fn select_nodes(&self, names: &[String]) -> Result<Vec<Node>, Error> {
        if names.is_empty() {
            return Ok(self.nodes.clone());
        }
        names
            .iter()
            .map(|n| {
                self.nodes
                    .iter()
                    .find(|x| x.name.0 == *n)
                    .cloned()
                    .ok_or_else(|| {
                        let known: Vec<_> = self.nodes.iter().map(|x| x.name.0.as_str()).collect();
                        Error::Usage(format!(
                            "unknown node {n:?} in fleet {} (known: {})",
                            self.name,
                            known.join(", ")
                        ))
                    })
            })
            .collect()
    }
}

/// `fleet.toml` in `start` or the nearest parent directory holding one.
pub fn find_fleet_file(start: &Path) -> Option<PathBuf> {
    crate::workspace::find_root(start, false).map(|root| root.join(crate::workspace::FLEET_FILE))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"default = "lab"
[fleet.lab]
catalog = "lab"
daemon_unit = "orchestrator.service"
app_user = "archy"
ssh_user = "root"
ssh_key = "/k"
known_hosts = "/kh"
orchestrator_port = 5678
password = { file = "/pw" }
lab_interface = "archy-lab0"
unit_dir = "/home/archy/.config/containers/systemd"

[[fleet.lab.node]]
name = "lab-228"
address = "10.77.0.228"

[fleet.release]
catalog = "release"
daemon_unit = "archipelago.service"
app_user = "archy"
ssh_user = "archy"
ssh_key = "/k"
known_hosts = "/kh"
orchestrator_port = 5678
unit_dir = "/home/archy/.config/containers/systemd"
password = { env = "PW" }
"#;

    fn parse(text: &str) -> Result<FleetFile, String> {
        FleetFile::parse(Path::new("fleet.toml"), text).map_err(|e| e.to_string())
    }

    #[test]
    fn parses_the_good_file() {
        let f = parse(GOOD).unwrap();
        let lab = f.select(None).unwrap();
        assert_eq!(lab.nodes[0].name.0, "lab-228");
        assert_eq!(lab.nodes[0].address.to_string(), "10.77.0.228");
        assert_eq!(lab.password, Secret::File("/pw".into()));
        assert_eq!(lab.lab_interface.as_deref(), Some("archy-lab0"));
        assert_eq!(
            f.select(Some("release")).unwrap().password,
            Secret::Env("PW".into())
        );
    }

    #[test]
    fn parses_the_committed_fleet_file() {
        let path = crate::workspace::source_root().join("fleet.toml");
        // The release nodes have no address yet: refused only when that fleet is selected.
        let f = FleetFile::load(&path).unwrap();
        assert_eq!(f.select(None).unwrap().nodes.len(), 2);
        let e = f.select(Some("release")).unwrap_err().to_string();
        assert!(e.ends_with("line 51: key fleet.release.node.address of node \"228\" is empty: set the node's IP address"), "{e}");
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let text = GOOD.replace(
            "app_user = \"archy\"\nssh_user = \"root\"",
            "app_user = \"archy\"\nsh_user = \"root\"",
        );
        assert_eq!(
            parse(&text).unwrap_err(),
            "failed to read fleet file fleet.toml, line 6: unknown field `sh_user`, expected one of `catalog`, `daemon_unit`, `app_user`, `ssh_user`, `ssh_key`, `known_hosts`, `orchestrator_port`, `password`, `lab_interface`, `unit_dir`, `catalog_dir`, `catalog_override_dir`, `node`"
        );
    }

    #[test]
    fn empty_address_names_the_node_and_line() {
        let text = GOOD.replace("address = \"10.77.0.228\"", "address = \"\"");
        let f = FleetFile::parse(Path::new("fleet.toml"), &text).unwrap();
        assert_eq!(
            f.select(Some("lab")).unwrap_err().to_string(),
            "failed to read fleet file fleet.toml, line 16: key fleet.lab.node.address of node \"lab-228\" is empty: set the node's IP address"
        );
    }

    #[test]
    fn bad_address_and_bad_type_and_bad_password_are_refused() {
        let e = parse(&GOOD.replace("10.77.0.228", "lab.example")).unwrap_err();
        assert_eq!(
            e,
            "failed to read fleet file fleet.toml, line 16: key fleet.lab.node.address of node \"lab-228\": \"lab.example\" is not an IP address"
        );
        let e = parse(&GOOD.replace(
            "orchestrator_port = 5678\npassword = { file",
            "orchestrator_port = \"x\"\npassword = { file",
        ))
        .unwrap_err();
        assert!(e.starts_with("failed to read fleet file fleet.toml, line 9: invalid type: string \"x\", expected u16"), "{e}");
        let e = parse(&GOOD.replace("{ file = \"/pw\" }", "{ file = \"/pw\", env = \"X\" }"))
            .unwrap_err();
        assert_eq!(
            e,
            "failed to read fleet file fleet.toml, line 10: key fleet.lab.password must be exactly one of {file = ..} or {env = ..}"
        );
    }

    #[test]
    fn unknown_fleet_and_node_list_the_known_ones() {
        let f = parse(GOOD).unwrap();
        assert_eq!(
            f.select(Some("prod")).unwrap_err().to_string(),
            "unknown fleet \"prod\" in fleet.toml (known: lab, release)"
        );
        let lab = f.select(None).unwrap();
        assert_eq!(
            lab.select_nodes(&["lab-1".into()]).unwrap_err().to_string(),
            "unknown node \"lab-1\" in fleet lab (known: lab-228)"
        );
        assert_eq!(lab.select_nodes(&[]).unwrap().len(), 1);
    }

    #[test]
    fn release_is_never_the_default() {
        let e = parse(&GOOD.replace("default = \"lab\"", "default = \"release\"")).unwrap_err();
        assert_eq!(
            e,
            "failed to read fleet file fleet.toml, line 1: key default: the release fleet is used only when named (--fleet release)"
        );
    }
}
