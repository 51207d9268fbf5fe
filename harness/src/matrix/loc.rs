//! The LoC budget's input: the orchestrator's lines of code per module, counted by tokei
//! (non-blank, non-comment), test modules left out, against the targets of
//! `orchestrator/loc-budget.toml`. The one input of TESTING.md read from the source tree.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
};

use toml::Spanned;

use super::MatrixError;

/// The budget file, relative to the orchestrator's folder.
pub const BUDGET_FILE: &str = "loc-budget.toml";

/// One module of the orchestrator: a top-level file or folder of its `src/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleLoc {
    /// The path shown, from the workspace root: `orchestrator/src/api/`, `orchestrator/src/ops.rs`.
    pub path: String,
    /// Lines of code today.
    pub code: usize,
    /// The most it may have, if the budget names it.
    pub target: Option<usize>,
}

/// Every module's lines of code against its target, and the total's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocReport {
    /// The modules, in path order.
    pub modules: Vec<ModuleLoc>,
    /// The target of the whole `src/`, if the budget names one.
    pub total_target: Option<usize>,
}

impl LocReport {
    /// Lines of code of all modules.
    pub fn total(&self) -> usize {
        self.modules.iter().map(|m| m.code).sum()
    }
}

/// `loc-budget.toml` as written.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct WireBudget {
    /// The target of the whole `src/`.
    total: Option<Spanned<i64>>,
    /// Targets by module name (`api`, `ops`).
    #[serde(default)]
    modules: BTreeMap<Spanned<String>, Spanned<i64>>,
}

/// The checked budget: targets by module name.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Budget {
    total: Option<usize>,
    modules: BTreeMap<String, usize>,
}

/// Counts `orchestrator_dir/src` against `orchestrator_dir/loc-budget.toml`.
pub fn count(orchestrator_dir: &Path) -> Result<LocReport, MatrixError> {
    let budget_path = orchestrator_dir.join(BUDGET_FILE);
    let text = fs::read_to_string(&budget_path).map_err(|source| MatrixError::Read {
        path: budget_path.clone(),
        source,
    })?;
    let src = orchestrator_dir.join("src");
    let texts = sources(&src)?;
    let test_files: Vec<PathBuf> = texts
        .iter()
        .flat_map(|(f, text)| test_module_files(f, text))
        .collect();
    let names: BTreeMap<String, PathBuf> = entries(&src)?
        .into_iter()
        .filter(|p| p.is_dir() || (texts.contains_key(p) && !test_files.contains(p)))
        .map(|p| {
            let name = p
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            (name, p)
        })
        .collect();
    let budget = parse_budget(&budget_path, &text, &names)?;
    let shown = orchestrator_dir.file_name().map_or_else(
        || "orchestrator".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut modules = Vec::new();
    for (name, path) in &names {
        let code = texts
            .iter()
            .filter(|(f, _)| f.starts_with(path) && !test_files.contains(f))
            .map(|(_, text)| code_lines(text))
            .sum();
        let shown_path = match path.is_dir() {
            true => format!("{shown}/src/{name}/"),
            false => format!(
                "{shown}/src/{}",
                path.file_name().unwrap_or_default().display()
            ),
        };
        modules.push(ModuleLoc {
            path: shown_path,
            code,
            target: budget.modules.get(name).copied(),
        });
    }
    modules.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(LocReport {
        modules,
        total_target: budget.total,
    })
}

/// The entries of `dir`, sorted.
fn entries(dir: &Path) -> Result<Vec<PathBuf>, MatrixError> {
    let read = |e: std::io::Error| MatrixError::Read {
        path: dir.to_owned(),
        source: e,
    };
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(read)? {
        out.push(entry.map_err(read)?.path());
    }
    out.sort();
    Ok(out)
}

/// Every `*.rs` file under `src` and its text.
fn sources(src: &Path) -> Result<BTreeMap<PathBuf, String>, MatrixError> {
    let mut texts = BTreeMap::new();
    let mut stack = vec![src.to_owned()];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            stack.extend(entries(&p)?);
        } else if p.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(&p).map_err(|source| MatrixError::Read {
                path: p.clone(),
                source,
            })?;
            texts.insert(p, text);
        }
    }
    Ok(texts)
}

/// Lines of code of one Rust file's text, its `#[cfg(test)]` modules left out.
pub fn code_lines(text: &str) -> usize {
    tokei::LanguageType::Rust
        .parse_from_str(without_test_modules(text), &tokei::Config::default())
        .code
}

/// One top-level `#[cfg(test)]` module of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TestModule {
    /// Its 0-based lines, from the attribute to the closing brace or the `mod x;` line.
    lines: std::ops::Range<usize>,
    /// For `mod x;`: the name and its `#[path = "..."]`, if any (the file holding its body).
    file: Option<(String, Option<String>)>,
}

/// Every top-level `#[cfg(test)] mod x { ... }` and `#[cfg(test)] mod x;` of `text`. Relies on
/// rustfmt's layout: the attribute and the `mod` line at column 0, the block closed by the first
/// `}` alone at column 0.
fn test_modules(text: &str) -> Vec<TestModule> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i] != "#[cfg(test)]" {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        let mut path_attr = None;
        while j < lines.len() && lines[j].starts_with("#[") {
            path_attr = path_attr.or_else(|| {
                let rest = lines[j].strip_prefix("#[path = \"")?;
                Some(rest.strip_suffix("\"]")?.to_owned())
            });
            j += 1;
        }
        let Some(decl) = lines.get(j).and_then(|l| mod_decl(l)) else {
            i += 1;
            continue;
        };
        match decl {
            (_, true) => {
                let end = (j + 1..lines.len())
                    .find(|k| lines[*k] == "}")
                    .unwrap_or(lines.len() - 1);
                out.push(TestModule {
                    lines: i..end + 1,
                    file: None,
                });
                i = end + 1;
            }
            (name, false) => {
                out.push(TestModule {
                    lines: i..j + 1,
                    file: Some((name, path_attr)),
                });
                i = j + 1;
            }
        }
    }
    out
}

/// `mod x {` or `mod x;` (any visibility) at column 0: the name, and whether a block opens.
fn mod_decl(line: &str) -> Option<(String, bool)> {
    let rest = line
        .strip_prefix("pub(crate) ")
        .or_else(|| line.strip_prefix("pub "))
        .unwrap_or(line)
        .strip_prefix("mod ")?;
    if let Some(name) = rest.strip_suffix(" {") {
        return Some((name.to_owned(), true));
    }
    rest.strip_suffix(';').map(|name| (name.to_owned(), false))
}

/// `text` with its test modules' lines blanked (kept as empty lines, which tokei skips).
fn without_test_modules(text: &str) -> String {
    let cut = test_modules(text);
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            if cut.iter().any(|m| m.lines.contains(&i)) {
                ""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The files `file`'s `#[cfg(test)] mod x;` declarations load (`#[path]` or Rust's own rule).
fn test_module_files(file: &Path, text: &str) -> Vec<PathBuf> {
    let dir = file.parent().unwrap_or(Path::new(""));
    let owns_dir = matches!(
        file.file_name().and_then(|n| n.to_str()),
        Some("mod.rs" | "lib.rs" | "main.rs")
    );
    test_modules(text)
        .into_iter()
        .filter_map(|m| m.file)
        .map(|(name, path)| match path {
            Some(p) => dir.join(p),
            None if owns_dir => dir.join(format!("{name}.rs")),
            None => dir
                .join(file.file_stem().unwrap_or_default())
                .join(format!("{name}.rs")),
        })
        .collect()
}

/// Checks the budget's text: targets are counts, modules exist.
fn parse_budget(
    path: &Path,
    text: &str,
    modules: &BTreeMap<String, PathBuf>,
) -> Result<Budget, MatrixError> {
    let line = |offset: usize| crate::toml_pos::line_of(text, offset);
    let fail = |offset: usize, key: &str, message: String| MatrixError::Budget {
        path: path.to_owned(),
        line: line(offset),
        key: key.to_owned(),
        message,
    };
    let wire: WireBudget = toml::from_str(text).map_err(|e| {
        let message = e.message().trim().to_owned();
        // serde names the offending key between the first backticks of its message.
        let key = message.split('`').nth(1).unwrap_or("(file)").to_owned();
        fail(e.span().map_or(0, |s| s.start), &key, message)
    })?;
    let target = |key: &str, v: &Spanned<i64>| {
        usize::try_from(*v.get_ref()).map_err(|_| {
            fail(
                v.span().start,
                key,
                format!("must be a count of lines, got {}", v.get_ref()),
            )
        })
    };
    let total = wire
        .total
        .as_ref()
        .map(|t| target("total", t))
        .transpose()?;
    let mut out = BTreeMap::new();
    for (name, value) in &wire.modules {
        let key = format!("modules.{}", name.get_ref());
        if !modules.contains_key(name.get_ref()) {
            let known: Vec<&str> = modules.keys().map(String::as_str).collect();
            return Err(fail(
                name.span().start,
                &key,
                format!(
                    "no module {:?} in src/ (modules: {})",
                    name.get_ref(),
                    known.join(", ")
                ),
            ));
        }
        out.insert(name.get_ref().clone(), target(&key, value)?);
    }
    Ok(Budget {
        total,
        modules: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_code_only_and_leaves_test_modules_out() {
        let text = "//! Doc.\n\nuse std::fmt;\n\n/// A thing.\npub fn f() -> u8 {\n    // why\n    \
                    let s = \"}\n\";\n    1\n}\n\n#[cfg(test)]\nmod tests {\n    use super::*;\n\n    \
                    #[test]\n    fn t() {\n        assert_eq!(f(), 1);\n    }\n}\n";
        // use, fn, let s, the string's second line, 1, the closing brace.
        assert_eq!(code_lines(text), 6);
        assert_eq!(
            test_modules(text),
            vec![TestModule {
                lines: 12..21,
                file: None
            }]
        );
    }

    #[test]
    fn finds_files_only_test_modules_load() {
        let text = "pub fn f() {}\n\n#[cfg(test)]\n#[path = \"regenerate_tests.rs\"]\nmod tests;\n";
        assert_eq!(code_lines(text), 1);
        assert_eq!(
            test_module_files(Path::new("src/matrix/regenerate.rs"), text),
            [PathBuf::from("src/matrix/regenerate_tests.rs")]
        );
        assert_eq!(
            test_module_files(Path::new("src/api/mod.rs"), "#[cfg(test)]\nmod tests;\n"),
            [PathBuf::from("src/api/tests.rs")]
        );
        assert_eq!(
            test_module_files(Path::new("src/ops.rs"), "#[cfg(test)]\nmod tests;\n"),
            [PathBuf::from("src/ops/tests.rs")]
        );
    }

    #[test]
    fn refuses_a_budget_naming_the_file_line_and_key() {
        let modules = BTreeMap::from([
            ("api".to_owned(), PathBuf::from("src/api")),
            ("ops".to_owned(), PathBuf::from("src/ops.rs")),
        ]);
        let refuse = |text: &str| {
            parse_budget(Path::new("orchestrator/loc-budget.toml"), text, &modules)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            refuse("total = 10\n[modules]\napi = 1\nopz = 2\n"),
            "failed to read the LoC budget orchestrator/loc-budget.toml:4: key `modules.opz`: no \
             module \"opz\" in src/ (modules: api, ops)"
        );
        assert_eq!(
            refuse("total = -1\n"),
            "failed to read the LoC budget orchestrator/loc-budget.toml:1: key `total`: must be a \
             count of lines, got -1"
        );
        assert!(
            refuse("totl = 1\n").starts_with(
                "failed to read the LoC budget orchestrator/loc-budget.toml:1: key `totl`: unknown \
                 field `totl`"
            ),
            "{}",
            refuse("totl = 1\n")
        );
        assert_eq!(
            parse_budget(Path::new("b.toml"), "[modules]\nops = 5\n", &modules).unwrap(),
            Budget {
                total: None,
                modules: BTreeMap::from([("ops".to_owned(), 5)])
            }
        );
    }
}
