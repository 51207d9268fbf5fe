//! The `[Container]` section.

use super::text::kv;

/// `[Container]`: what podman runs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Container {
    /// `ContainerName=`.
    pub container_name: Option<String>,
    /// `Image=`.
    pub image: String,
    /// `Label=` lines.
    pub label: Vec<String>,
    /// `Exec=` (already systemd-quoted).
    pub exec: Option<String>,
    /// `Network=`.
    pub network: Option<String>,
    /// `PublishPort=` lines.
    pub publish_port: Vec<String>,
    /// `Volume=` lines.
    pub volume: Vec<String>,
    /// `Environment=` lines (already systemd-quoted).
    pub environment: Vec<String>,
    /// `Memory=` (podman >= 5.5).
    pub memory: Option<String>,
    /// `PodmanArgs=` lines, for options this podman's Quadlet has no key for.
    pub podman_args: Vec<String>,
}

impl Container {
    /// Appends the section's text.
    pub fn render(&self, out: &mut String) {
        out.push_str("[Container]\n");
        if let Some(n) = &self.container_name {
            kv(out, "ContainerName", n);
        }
        kv(out, "Image", &self.image);
        self.label.iter().for_each(|l| kv(out, "Label", l));
        if let Some(e) = &self.exec {
            kv(out, "Exec", e);
        }
        if let Some(n) = &self.network {
            kv(out, "Network", n);
        }
        self.publish_port
            .iter()
            .for_each(|p| kv(out, "PublishPort", p));
        self.volume.iter().for_each(|v| kv(out, "Volume", v));
        self.environment
            .iter()
            .for_each(|e| kv(out, "Environment", e));
        if let Some(m) = &self.memory {
            kv(out, "Memory", m);
        }
        self.podman_args
            .iter()
            .for_each(|a| kv(out, "PodmanArgs", a));
    }
}
