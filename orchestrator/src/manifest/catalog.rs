//! The catalog: every manifest in a folder (and its direct subfolders), loaded independently,
//! with an optional override folder whose `<id>.toml` replaces the catalog's manifest of that id
//! (how an app gets a new version). Manifests are read again from disk for an install or update.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{AppId, Manifest};
use crate::error::{Error, Result};

/// The good manifests of a catalog folder, by id, and where each came from.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    apps: BTreeMap<AppId, Manifest>,
    files: BTreeMap<AppId, PathBuf>,
    override_dir: Option<PathBuf>,
}

impl Catalog {
    /// Loads every `*.toml` under `dir` (one level of subfolders, e.g. `catalog/lab/`);
    /// returns the good manifests and one error per bad file, so one bad file never hides the rest.
    pub fn load(dir: &Path) -> Result<(Catalog, Vec<Error>)> {
        let mut files = toml_files(dir)?;
        for sub in subdirs(dir)? {
            files.extend(toml_files(&sub)?);
        }
        files.sort();
        let mut catalog = Catalog::default();
        let mut errors = Vec::new();
        for file in files {
            match load_file(&file) {
                Ok(m) if catalog.apps.contains_key(&m.id) => errors.push(Error::Invalid {
                    file,
                    line: None,
                    key: "id".into(),
                    what: format!("{:?} is defined twice in the catalog", m.id.as_str()),
                }),
                Ok(m) if catalog.proxy_taken(&m).is_some() => errors.push(Error::Invalid {
                    file,
                    line: None,
                    key: "ui.prefix".into(),
                    what: format!(
                        "/app/{}/ is already the UI of {:?}",
                        m.proxy_prefix().map_or("", AppId::as_str),
                        catalog.proxy_taken(&m).map_or("", AppId::as_str)
                    ),
                }),
                Ok(m) => {
                    catalog.files.insert(m.id.clone(), file);
                    catalog.apps.insert(m.id.clone(), m);
                }
                Err(e) => errors.push(e),
            }
        }
        Ok((catalog, errors))
    }

    /// `load(dir)`, then every `<id>.toml` of `override_dir` (if given and present) in place of
    /// the catalog's manifest of that id; a bad override is reported and the catalog's kept.
    pub fn load_with_overrides(
        dir: &Path,
        override_dir: Option<&Path>,
    ) -> Result<(Catalog, Vec<Error>)> {
        let (mut catalog, mut errors) = Catalog::load(dir)?;
        let Some(over) = override_dir else {
            return Ok((catalog, errors));
        };
        catalog.override_dir = Some(over.to_owned());
        let files = match toml_files(over) {
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                Vec::new()
            }
            r => r?,
        };
        for file in files {
            match load_file(&file) {
                Ok(m) => {
                    catalog.apps.insert(m.id.clone(), m);
                }
                Err(e) => errors.push(e),
            }
        }
        Ok((catalog, errors))
    }

    /// Builds a catalog from manifests already checked (tests, benches).
    pub fn from_manifests(manifests: impl IntoIterator<Item = Manifest>) -> Catalog {
        Catalog {
            apps: manifests.into_iter().map(|m| (m.id.clone(), m)).collect(),
            ..Catalog::default()
        }
    }

    /// The manifest of `id`, if the catalog has one.
    pub fn get(&self, id: &AppId) -> Option<&Manifest> {
        self.apps.get(id)
    }

    /// The manifest whose UI the orchestrator proxies at `/app/<prefix>/`.
    pub fn proxied(&self, prefix: &AppId) -> Option<&Manifest> {
        self.apps
            .values()
            .find(|m| m.proxy_prefix() == Some(prefix))
    }

    /// The other app already proxied at `m`'s prefix, if any.
    fn proxy_taken(&self, m: &Manifest) -> Option<&AppId> {
        let prefix = m.proxy_prefix()?;
        self.proxied(prefix)
            .map(|other| &other.id)
            .filter(|other| **other != m.id)
    }

    /// Every manifest, ordered by id.
    pub fn iter(&self) -> impl Iterator<Item = &Manifest> {
        self.apps.values()
    }

    /// The manifest of `id` as it is on disk now: the override folder's `<id>.toml` if there is
    /// one, else the catalog file it was loaded from, else the one in memory. `None` if the
    /// catalog has never heard of `id`; a file that no longer checks is an error naming it.
    pub fn reread(&self, id: &AppId) -> Result<Option<Manifest>> {
        let over = self
            .override_dir
            .as_ref()
            .map(|d| d.join(format!("{id}.toml")))
            .filter(|f| f.is_file());
        let file = over.or_else(|| self.files.get(id).filter(|f| f.is_file()).cloned());
        match file {
            Some(f) => load_file(&f).map(Some),
            None => Ok(self.apps.get(id).cloned()),
        }
    }

    /// This catalog with `m` in place of the manifest of its id.
    pub fn with(&self, m: Manifest) -> Catalog {
        let mut c = self.clone();
        c.apps.insert(m.id.clone(), m);
        c
    }

    /// This catalog with `dir` as its override folder (for catalogs built by `from_manifests`).
    pub fn with_override_dir(mut self, dir: PathBuf) -> Catalog {
        self.override_dir = Some(dir);
        self
    }
}

fn load_file(file: &Path) -> Result<Manifest> {
    let text = std::fs::read_to_string(file).map_err(Error::io(file))?;
    let m = Manifest::from_toml(file, &text)?;
    if file.file_stem().and_then(|s| s.to_str()) != Some(m.id.as_str()) {
        return Err(Error::Invalid {
            file: file.to_owned(),
            line: None,
            key: "id".into(),
            what: format!("{:?} does not match the file name", m.id.as_str()),
        });
    }
    Ok(m)
}

fn entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let read = std::fs::read_dir(dir).map_err(Error::io(dir))?;
    read.map(|e| e.map(|e| e.path()).map_err(Error::io(dir)))
        .collect()
}

fn toml_files(dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(entries(dir)?
        .into_iter()
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "toml"))
        .collect())
}

fn subdirs(dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(entries(dir)?.into_iter().filter(|p| p.is_dir()).collect())
}
