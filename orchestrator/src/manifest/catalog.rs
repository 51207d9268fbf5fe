//! The catalog: every manifest in a folder (and its direct subfolders), loaded independently.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{AppId, Manifest};
use crate::error::{Error, Result};

/// The good manifests of a catalog folder, by id.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    apps: BTreeMap<AppId, Manifest>,
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
        }
    }

    /// The manifest of `id`, if the catalog has one.
    pub fn get(&self, id: &AppId) -> Option<&Manifest> {
        self.apps.get(id)
    }

    /// Every manifest, ordered by id.
    pub fn iter(&self) -> impl Iterator<Item = &Manifest> {
        self.apps.values()
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
