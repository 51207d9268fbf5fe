//! Turns a wire manifest into a checked `Manifest`, or an error naming file, line, key and value.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use super::wire::{WireHealth, WireManifest, WireUi};
use super::{
    AppId, DEFAULT_START_BUDGET_SECS, Health, MAX_START_BUDGET_SECS, Manifest, Network, Port,
    Protocol, Ui, Volume,
};
use crate::error::{Error, Result};

/// Where errors point: the file and its text (to turn byte spans into lines).
struct Source<'a> {
    file: &'a Path,
    text: &'a str,
}

impl Source<'_> {
    fn fail(&self, span: Option<Range<usize>>, key: &str, what: impl Into<String>) -> Error {
        Error::Invalid {
            file: self.file.to_owned(),
            line: span.map(|s| line_of(self.text, s.start)),
            key: key.to_owned(),
            what: what.into(),
        }
    }
}

/// The 1-based line holding byte `offset` (a TOML span's start): the orchestrator's one
/// conversion of TOML positions into line numbers (manifests and, via [`toml_error`], the
/// config). An offset past the end counts as the last line.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Turns a toml deserialization error into ours, guessing the key from the line it points at.
pub fn toml_error(file: &Path, text: &str, err: &toml::de::Error) -> Error {
    let line = err.span().map(|s| line_of(text, s.start));
    let key = line
        .and_then(|l| text.lines().nth(l - 1))
        .and_then(|l| l.split_once('='))
        .map(|(k, _)| k.trim().to_owned())
        .unwrap_or_else(|| "-".to_owned());
    Error::Invalid {
        file: file.to_owned(),
        line,
        key,
        what: err.message().to_owned(),
    }
}

impl Manifest {
    /// Parses and checks one manifest file's text; `file` is only used in errors.
    pub fn from_toml(file: &Path, text: &str) -> Result<Manifest> {
        let wire: WireManifest = toml::from_str(text).map_err(|e| toml_error(file, text, &e))?;
        check(&Source { file, text }, wire)
    }
}

fn check(src: &Source, w: WireManifest) -> Result<Manifest> {
    let id = AppId::parse(w.id.get_ref())
        .map_err(|e| src.fail(Some(w.id.span()), "id", e.to_string()))?;
    let image = w.image.get_ref().trim();
    // An image is one word of podman's command line: a leading `-` would be read as an option
    // (the legacy backend passes it as an argument), and `%`, `$`, quotes or spaces would be
    // expanded or split by systemd. Real references need none of them.
    let image_ok = image.starts_with(|c: char| c.is_ascii_alphanumeric())
        && image
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:@".contains(c));
    if !image_ok {
        return Err(src.fail(
            Some(w.image.span()),
            "image",
            format!(
                "{image:?} is not an image reference (letters, digits and . _ - / : @, starting with a letter or digit)"
            ),
        ));
    }
    let command = match w.command {
        Some(c) if c.get_ref().is_empty() => {
            return Err(src.fail(Some(c.span()), "command", "must not be empty when given"));
        }
        Some(c) => {
            if let Some(word) = c.get_ref().iter().find(|w| has_control(w)) {
                return Err(src.fail(
                    Some(c.span()),
                    "command",
                    format!("{word:?} holds a control character"),
                ));
            }
            c.into_inner()
        }
        None => Vec::new(),
    };
    let ports = w
        .ports
        .iter()
        .map(|p| port(src, p))
        .collect::<Result<_>>()?;
    let volumes = w
        .volumes
        .iter()
        .map(|v| volume(src, v))
        .collect::<Result<_>>()?;
    let network = match &w.network {
        None => None,
        Some(n) if n.get_ref() == "host" => Some(Network::Host),
        Some(n) => {
            return Err(src.fail(
                Some(n.span()),
                "network",
                format!("{:?} is not supported (only \"host\")", n.get_ref()),
            ));
        }
    };
    let memory_mib = w.memory.as_ref().map(|m| memory(src, m)).transpose()?;
    let mut requires = Vec::new();
    for r in &w.requires {
        let dep = AppId::parse(r.get_ref())
            .map_err(|e| src.fail(Some(r.span()), "requires", e.to_string()))?;
        if dep == id {
            return Err(src.fail(Some(r.span()), "requires", "an app cannot require itself"));
        }
        requires.push(dep);
    }
    let mut environment = BTreeMap::new();
    for (key, value) in w.environment.map(Spanned::into_inner).unwrap_or_default() {
        let ok = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok {
            return Err(src.fail(
                Some(value.span()),
                &format!("environment.{key}"),
                "is not a valid variable name",
            ));
        }
        // `$` and `%` are escaped when the unit is rendered; a control character (other than a
        // newline, written as `\n`) has no safe spelling in a unit file.
        if has_control(value.get_ref()) {
            return Err(src.fail(
                Some(value.span()),
                &format!("environment.{key}"),
                "holds a control character",
            ));
        }
        environment.insert(key, value.into_inner());
    }
    let start_budget_secs = w
        .health
        .as_ref()
        .and_then(|h| h.get_ref().start_budget_secs.as_ref())
        .map(|b| {
            let secs = *b.get_ref();
            if (1..=MAX_START_BUDGET_SECS).contains(&secs) {
                Ok(secs)
            } else {
                Err(src.fail(
                    Some(b.span()),
                    "health.start_budget_secs",
                    format!("{secs} is not between 1 and {MAX_START_BUDGET_SECS}"),
                ))
            }
        })
        .transpose()?
        .unwrap_or(DEFAULT_START_BUDGET_SECS);
    let health = w.health.map(|h| health(src, h)).transpose()?;
    let ui = w.ui.map(|u| ui(src, u)).transpose()?;
    Ok(Manifest {
        id,
        image: image.to_owned(),
        command,
        ports,
        volumes,
        network,
        memory_mib,
        restart: w.restart,
        requires,
        environment,
        health,
        start_budget_secs,
        ui,
    })
}

/// `[ui]`: a prefix names a proxied path, so it needs `proxied = true`.
fn ui(src: &Source, u: WireUi) -> Result<Ui> {
    let prefix = match &u.prefix {
        None => None,
        Some(_) if !u.proxied => {
            return Err(src.fail(
                u.prefix.as_ref().map(|p| p.span()),
                "ui.prefix",
                "a prefix names the proxied path: it needs proxied = true",
            ));
        }
        Some(p) => Some(
            AppId::parse(p.get_ref())
                .map_err(|e| src.fail(Some(p.span()), "ui.prefix", e.to_string()))?,
        ),
    };
    Ok(Ui {
        port: u.port,
        proxied: u.proxied,
        prefix,
    })
}

/// Whether `s` holds a control character other than a newline (which units spell `\n`).
fn has_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && c != '\n')
}

fn port(src: &Source, p: &Spanned<String>) -> Result<Port> {
    let bad = || {
        src.fail(
            Some(p.span()),
            "ports",
            format!("{:?} is not host:container[/udp|/tcp]", p.get_ref()),
        )
    };
    let (pair, protocol) = match p.get_ref().split_once('/') {
        None => (p.get_ref().as_str(), Protocol::Tcp),
        Some((pair, "tcp")) => (pair, Protocol::Tcp),
        Some((pair, "udp")) => (pair, Protocol::Udp),
        Some(_) => return Err(bad()),
    };
    let (host, container) = pair.split_once(':').ok_or_else(bad)?;
    let num = |s: &str| s.parse::<u16>().ok().filter(|&n| n > 0).ok_or_else(bad);
    Ok(Port {
        host: num(host)?,
        container: num(container)?,
        protocol,
    })
}

fn volume(src: &Source, v: &Spanned<String>) -> Result<Volume> {
    let bad = || {
        src.fail(
            Some(v.span()),
            "volumes",
            format!(
                "{:?} is not name:/absolute/path (named volumes only)",
                v.get_ref()
            ),
        )
    };
    let (name, path) = v.get_ref().split_once(':').ok_or_else(bad)?;
    let name_ok = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    let path_ok =
        path.starts_with('/') && !path.contains(':') && !path.split('/').any(|s| s == "..");
    if !(name_ok && path_ok) {
        return Err(bad());
    }
    // Quadlet copies `Volume=` into podman's command line as it is: a newline would start a new
    // unit line, a trailing `\` would join the next one, `%` is a systemd specifier and a space
    // or quote splits words. Paths need none of them, so anything else is refused.
    if let Some(c) = path
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || "/._-+@~".contains(c)))
    {
        return Err(src.fail(
            Some(v.span()),
            "volumes",
            format!(
                "{:?}: the path holds {c:?}; a path may hold letters, digits and / . _ - + @ ~",
                v.get_ref()
            ),
        ));
    }
    Ok(Volume {
        name: name.to_owned(),
        path: path.to_owned(),
    })
}

fn memory(src: &Source, m: &Spanned<String>) -> Result<u64> {
    let text = m.get_ref().to_ascii_lowercase();
    let (digits, factor) = match text.char_indices().last() {
        Some((i, 'm')) => (&text[..i], 1),
        Some((i, 'g')) => (&text[..i], 1024),
        _ => ("", 0),
    };
    digits
        .parse::<u64>()
        .ok()
        .filter(|&n| n > 0 && digits.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.checked_mul(factor))
        .ok_or_else(|| {
            src.fail(
                Some(m.span()),
                "memory",
                format!("{:?} is not a size like \"512m\" or \"2g\"", m.get_ref()),
            )
        })
}

fn health(src: &Source, h: Spanned<WireHealth>) -> Result<Health> {
    let span = h.span();
    let h = h.into_inner();
    match (h.http, h.tcp, h.command) {
        (Some(http), None, None)
            if http.path.starts_with('/')
                && !http.path.chars().any(|c| c.is_control() || c == ' ') =>
        {
            Ok(Health::Http {
                port: http.port,
                path: http.path,
            })
        }
        (Some(http), None, None) => Err(src.fail(
            Some(span),
            "health.http.path",
            format!(
                "{:?} must start with / and hold no spaces or control characters",
                http.path
            ),
        )),
        (None, Some(tcp), None) => Ok(Health::Tcp { port: tcp.port }),
        (None, None, Some(cmd)) if !cmd.is_empty() => Ok(Health::Command(cmd)),
        (None, None, Some(_)) => Err(src.fail(Some(span), "health.command", "must not be empty")),
        _ => Err(src.fail(
            Some(span),
            "health",
            "exactly one of http, tcp, command must be set",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_of_counts_the_newlines_before_the_offset() {
        let text = "a = 1\nb = 2\n\nc = 3";
        assert_eq!(line_of(text, 0), 1);
        assert_eq!(line_of(text, 5), 1); // the first newline itself
        assert_eq!(line_of(text, 6), 2);
        assert_eq!(line_of(text, 12), 3);
        assert_eq!(line_of(text, 13), 4);
        assert_eq!(line_of(text, 999), 4);
        assert_eq!(line_of("", 3), 1);
    }
}
