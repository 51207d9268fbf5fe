//! Parsing suite files into checked `Suite`s: read `suites/<catalog>/*.toml`, deserialize the wire
//! shape, check every value, and refuse anything odd with the file, line and key.

use std::{
    collections::BTreeMap,
    fs,
    ops::Range,
    path::{Path, PathBuf},
    time::Duration,
};

use toml::Spanned;

use super::{
    DataProbe, DataRule, FaultControl, Probe, ProxyPrefix, Suite, UiProbe, UiTarget, UpdateSpec,
    wire::{WireData, WireFault, WireProbe, WireSuite, WireUi, WireUpdate},
};
use crate::model::{AppId, Check};

/// The longest budget a suite may declare; anything longer is a typo, not a budget.
const MAX_BUDGET_SECS: i64 = 3600;

/// Probe kinds of `[[rpc]]`, in the order error messages list them.
const RPC_KINDS: [&str; 4] = ["app-json-rpc", "orchestrator-rpc", "tcp", "ssh"];

/// Probe kinds of `[[ui]]`.
const UI_KINDS: [&str; 3] = ["dashboard", "app-proxy", "direct"];

/// Rules of `[[data]]`.
const DATA_RULES: [&str; 2] = ["non-decreasing", "unchanged"];

/// Why a suite could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// The catalog's folder could not be listed.
    #[error("failed to read suite directory {}: {source}", path.display())]
    ReadDir {
        /// The folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A suite file could not be read.
    #[error("failed to read suite {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The catalog's folder holds no suite file.
    #[error("failed to load suites: no *.toml suite in {}", path.display())]
    Empty {
        /// The folder.
        path: PathBuf,
    },
    /// A file is not TOML at all.
    #[error("failed to load suite {}:{line}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line of the fault.
        line: usize,
        /// What the TOML parser said.
        message: String,
    },
    /// A key is missing, unknown, or has a refused value.
    #[error("failed to load suite {}:{line}: key `{key}`: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line of the fault.
        line: usize,
        /// The key, dotted from the table it sits in (`rpc.port`).
        key: String,
        /// What is wrong, with the refused value.
        message: String,
    },
}

/// Every `*.toml` file of `suites_dir/<catalog>/<folder>/`, sorted by name, each parsed by
/// `parse`; no folder means none (the L5 scenarios and L6 cells).
pub fn load_folder<T>(
    suites_dir: &Path,
    catalog: &str,
    folder: &str,
    parse: impl Fn(&Path, &str) -> Result<T, SuiteError>,
) -> Result<Vec<T>, SuiteError> {
    let dir = suites_dir.join(catalog).join(folder);
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(SuiteError::ReadDir { path: dir, source }),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|source| SuiteError::ReadDir {
                path: dir.clone(),
                source,
            })?
            .path();
        if path.extension().is_some_and(|e| e == "toml") {
            files.push(path);
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = fs::read_to_string(&path).map_err(|source| SuiteError::Read {
                path: path.clone(),
                source,
            })?;
            parse(&path, &text)
        })
        .collect()
}

/// Loads every suite of `catalog` from `suites_dir/<catalog>/*.toml`, sorted by app id.
pub fn load_catalog(suites_dir: &Path, catalog: &str) -> Result<Vec<Suite>, SuiteError> {
    let dir = suites_dir.join(catalog);
    let entries = fs::read_dir(&dir).map_err(|source| SuiteError::ReadDir {
        path: dir.clone(),
        source,
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| SuiteError::ReadDir {
            path: dir.clone(),
            source,
        })?;
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "toml") {
            files.push(path);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(SuiteError::Empty { path: dir });
    }
    let mut parsed = Vec::new();
    for path in files {
        let text = fs::read_to_string(&path).map_err(|source| SuiteError::Read {
            path: path.clone(),
            source,
        })?;
        parsed.push(parse(&path, catalog, &text)?);
    }
    let known: Vec<AppId> = parsed.iter().map(|p| p.suite.app.clone()).collect();
    for p in &parsed {
        let requires = p.suite.requires.iter().zip(&p.requires_lines);
        let requires = requires.map(|(app, line)| ("requires", app, *line));
        let served_by = p
            .served_by_lines
            .iter()
            .map(|(app, line)| ("ui.served_by", app, *line));
        for (key, app, line) in requires.chain(served_by) {
            if !known.contains(app) {
                return Err(SuiteError::Invalid {
                    path: p.suite.path.clone(),
                    line,
                    key: key.into(),
                    message: format!("app {:?} has no suite in catalog {catalog:?}", app.as_str()),
                });
            }
        }
    }
    let mut suites: Vec<Suite> = parsed.into_iter().map(|p| p.suite).collect();
    suites.sort_by(|a, b| a.app.cmp(&b.app));
    for s in &suites {
        required_stack_applies(s, &suites)?;
    }
    Ok(suites)
}

/// `required-stack` needs something to check: the app requires another (whose fault control
/// makes it unhealthy, to see `degraded`) or another app requires it. Otherwise it must be n/a.
fn required_stack_applies(s: &Suite, all: &[Suite]) -> Result<(), SuiteError> {
    if s.not_applicable.contains_key(&Check::RequiredStack) {
        return Ok(());
    }
    let required_by_another = all.iter().any(|o| o.requires.contains(&s.app));
    let no_fault = s.requires.iter().find(|r| {
        all.iter()
            .find(|o| &o.app == *r)
            .is_some_and(|o| o.fault.is_none())
    });
    let message = match no_fault {
        _ if s.requires.is_empty() && !required_by_another => format!(
            "check required-stack applies but {} neither requires an app nor is required by one \
             (declare not_applicable.required-stack with the reason)",
            s.app
        ),
        Some(r) if !required_by_another => format!(
            "check required-stack needs a [fault] in {r}'s suite to make it unhealthy \
             (or declare not_applicable.required-stack with the reason)"
        ),
        _ => return Ok(()),
    };
    Err(SuiteError::Invalid {
        path: s.path.clone(),
        line: 1,
        key: "not_applicable.required-stack".into(),
        message,
    })
}

/// A checked suite and where its `requires` and `ui.served_by` entries sit, for the
/// catalog-wide check that each names an app with a suite.
#[derive(Debug)]
struct Parsed {
    suite: Suite,
    requires_lines: Vec<usize>,
    served_by_lines: Vec<(AppId, usize)>,
}

/// Parses one suite file's text; `path`'s stem must be the app id.
fn parse(path: &Path, catalog: &str, text: &str) -> Result<Parsed, SuiteError> {
    let cx = Cx { path, text };
    let wire: WireSuite = toml::from_str(text).map_err(|e| cx.serde_error(&e))?;
    check(&cx, catalog, wire)
}

/// The file being checked: turns spans into lines in errors.
struct Cx<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Cx<'_> {
    /// The 1-based line holding byte `offset`.
    fn line(&self, offset: usize) -> usize {
        crate::toml_pos::line_of(self.text, offset)
    }

    /// An `Invalid` error at `span`.
    fn err(&self, span: Range<usize>, key: &str, message: String) -> SuiteError {
        SuiteError::Invalid {
            path: self.path.to_owned(),
            line: self.line(span.start),
            key: key.to_owned(),
            message,
        }
    }

    /// Turns a TOML or serde error into one naming the line and, when there is one, the key.
    fn serde_error(&self, e: &toml::de::Error) -> SuiteError {
        let span = e.span().unwrap_or(0..0);
        let line = self.line(span.start);
        let message = e.message().trim().to_owned();
        let field = between_backticks(&message, "unknown field `")
            .or_else(|| between_backticks(&message, "missing field `"))
            .or_else(|| self.key_before(span.start));
        match field {
            Some(field) => {
                let key = match self.table_at(span.start) {
                    Some(table) => format!("{table}.{field}"),
                    None => field,
                };
                SuiteError::Invalid {
                    path: self.path.to_owned(),
                    line,
                    key,
                    message,
                }
            }
            None => SuiteError::Syntax {
                path: self.path.to_owned(),
                line,
                message,
            },
        }
    }

    /// The key whose value starts at or contains `offset`: the name before the last `=` on its
    /// line before `offset`.
    fn key_before(&self, offset: usize) -> Option<String> {
        let offset = offset.min(self.text.len());
        let line_start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let before = &self.text[line_start..offset];
        let eq = before.rfind('=')?;
        let name = before[..eq]
            .trim_end()
            .rsplit(|c: char| c == '{' || c == ',' || c.is_whitespace())
            .next()?
            .trim_matches('"');
        (!name.is_empty()).then(|| name.to_owned())
    }

    /// The name of the `[table]` or `[[table]]` header in force at `offset`, if any.
    fn table_at(&self, offset: usize) -> Option<String> {
        let offset = offset.min(self.text.len());
        let line_end = self.text[offset..]
            .find('\n')
            .map_or(self.text.len(), |i| offset + i);
        self.text[..line_end].lines().rev().find_map(|l| {
            let l = l.trim();
            l.starts_with('[')
                .then(|| l.split('#').next().unwrap_or(l).trim())
                .map(|h| h.trim_matches(|c| c == '[' || c == ']').trim().to_owned())
        })
    }
}

/// The text between `prefix` and the next backtick in `message`.
fn between_backticks(message: &str, prefix: &str) -> Option<String> {
    let rest = &message[message.find(prefix)? + prefix.len()..];
    Some(rest[..rest.find('`')?].to_owned())
}

/// Checks a deserialized file into a `Suite`.
fn check(cx: &Cx, catalog: &str, wire: WireSuite) -> Result<Parsed, SuiteError> {
    let app = app_id(cx, "app", &wire.app)?;
    let stem = cx.path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    if app.as_str() != stem {
        return Err(cx.err(
            wire.app.span(),
            "app",
            format!(
                "app {:?} does not match the file name {stem:?} (the file must be <app>.toml)",
                app.as_str()
            ),
        ));
    }

    let mut requires = Vec::new();
    let mut requires_lines = Vec::new();
    for r in &wire.requires {
        let id = app_id(cx, "requires", r)?;
        if id == app {
            return Err(cx.err(
                r.span(),
                "requires",
                format!("app {:?} requires itself", r.get_ref()),
            ));
        }
        if requires.contains(&id) {
            return Err(cx.err(
                r.span(),
                "requires",
                format!("app {:?} is listed twice", r.get_ref()),
            ));
        }
        requires.push(id);
        requires_lines.push(cx.line(r.span().start));
    }

    let mut volumes = Vec::new();
    for v in &wire.volumes {
        let name = v.get_ref();
        let ok = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !ok {
            return Err(cx.err(
                v.span(),
                "volumes",
                format!("invalid volume name {name:?}: must match [A-Za-z0-9][A-Za-z0-9_.-]*"),
            ));
        }
        volumes.push(name.clone());
    }

    let start_budget = budget(cx, "start_budget_secs", &wire.start_budget_secs)?;
    let reboot_budget = budget(cx, "reboot_budget_secs", &wire.reboot_budget_secs)?;

    let mut not_applicable = BTreeMap::new();
    for (check, reason) in &wire.not_applicable {
        let key = format!("not_applicable.{}", check.get_ref());
        let st: Check = check
            .get_ref()
            .parse()
            .map_err(|m: String| cx.err(check.span(), &key, m))?;
        if reason.get_ref().trim().is_empty() {
            return Err(cx.err(reason.span(), &key, "the reason is empty".into()));
        }
        not_applicable.insert(st, reason.get_ref().clone());
    }

    let rpc = wire
        .rpc
        .iter()
        .map(|p| rpc_probe(cx, "rpc", p))
        .collect::<Result<Vec<_>, _>>()?;
    let ui = wire
        .ui
        .iter()
        .map(|p| ui_probe(cx, &app, p))
        .collect::<Result<Vec<_>, _>>()?;
    let served_by_lines = wire
        .ui
        .iter()
        .filter_map(|p| p.get_ref().served_by.as_ref())
        .zip(ui.iter().filter_map(|p| p.served_by.clone()))
        .map(|(w, app)| (app, cx.line(w.span().start)))
        .collect();
    let data = wire
        .data
        .iter()
        .map(|p| data_probe(cx, p))
        .collect::<Result<Vec<_>, _>>()?;

    probes_match_checks(cx, &wire, Check::Rpc, "rpc", rpc.len(), &not_applicable)?;
    probes_match_checks(cx, &wire, Check::Ui, "ui", ui.len(), &not_applicable)?;
    let update = wire.update.as_ref().map(|u| update(cx, u)).transpose()?;
    probes_match_checks(
        cx,
        &wire,
        Check::Update,
        "update",
        usize::from(update.is_some()),
        &not_applicable,
    )?;
    let fault = wire.fault.as_ref().map(|f| fault(cx, f)).transpose()?;
    let journey = wire
        .journey
        .iter()
        .enumerate()
        .map(|(i, w)| super::journey::step(i, w).map_err(|(span, key, m)| cx.err(span, &key, m)))
        .collect::<Result<Vec<_>, _>>()?;
    if let (Some(first), true) = (
        wire.journey.first(),
        not_applicable.contains_key(&Check::Journey),
    ) {
        return Err(cx.err(
            first.span(),
            "journey",
            "check journey is declared not applicable but journey steps are declared".into(),
        ));
    }

    Ok(Parsed {
        suite: Suite {
            path: cx.path.to_owned(),
            catalog: catalog.to_owned(),
            app,
            requires,
            rpc,
            ui,
            data,
            not_applicable,
            start_budget,
            reboot_budget,
            volumes,
            update,
            fault,
            journey,
        },
        requires_lines,
        served_by_lines,
    })
}

/// Refuses a check that applies with no probe to check it, and one declared n/a with probes.
fn probes_match_checks(
    cx: &Cx,
    wire: &WireSuite,
    check: Check,
    table: &str,
    count: usize,
    not_applicable: &BTreeMap<Check, String>,
) -> Result<(), SuiteError> {
    let na = not_applicable.contains_key(&check);
    let what = if check == Check::Update {
        format!("[{table}] table")
    } else {
        format!("[[{table}]] probe")
    };
    if !na && count == 0 {
        return Err(cx.err(
            wire.app.span(),
            table,
            format!(
                "check {check} applies but no {what} is declared \
                 (add one, or not_applicable.{check} with the reason)"
            ),
        ));
    }
    if na && count > 0 {
        let span = wire
            .not_applicable
            .keys()
            .find(|k| k.get_ref() == check.as_str())
            .map_or(0..0, |k| k.span());
        return Err(cx.err(
            span,
            &format!("not_applicable.{check}"),
            format!("check {check} is declared not applicable but {count} {what}(s) are declared"),
        ));
    }
    Ok(())
}

/// A checked app id.
fn app_id(cx: &Cx, key: &str, value: &Spanned<String>) -> Result<AppId, SuiteError> {
    AppId::new(value.get_ref()).map_err(|e| cx.err(value.span(), key, e.to_string()))
}

/// A checked budget in seconds.
fn budget(cx: &Cx, key: &str, value: &Spanned<i64>) -> Result<Duration, SuiteError> {
    let secs = *value.get_ref();
    if !(1..=MAX_BUDGET_SECS).contains(&secs) {
        return Err(cx.err(
            value.span(),
            key,
            format!("must be between 1 and {MAX_BUDGET_SECS} seconds, got {secs}"),
        ));
    }
    Ok(Duration::from_secs(secs.unsigned_abs()))
}

/// A checked TCP port.
fn port(cx: &Cx, key: &str, value: &Spanned<i64>) -> Result<u16, SuiteError> {
    let n = *value.get_ref();
    u16::try_from(n).ok().filter(|p| *p != 0).ok_or_else(|| {
        cx.err(
            value.span(),
            key,
            format!("port must be between 1 and 65535, got {n}"),
        )
    })
}

/// A required key of a probe table.
fn required<'a, T>(
    cx: &Cx,
    table: &Spanned<impl Sized>,
    key: &str,
    kind: &str,
    value: &'a Option<Spanned<T>>,
) -> Result<&'a Spanned<T>, SuiteError> {
    value.as_ref().ok_or_else(|| {
        cx.err(
            table.span(),
            key,
            format!(
                "missing key `{}` (required by kind {kind:?})",
                key.rsplit('.').next().unwrap_or(key)
            ),
        )
    })
}

/// Refuses a key set on a probe whose kind does not read it.
fn unused<T>(cx: &Cx, key: &str, kind: &str, value: &Option<Spanned<T>>) -> Result<(), SuiteError> {
    match value {
        Some(v) => Err(cx.err(v.span(), key, format!("does not apply to kind {kind:?}"))),
        None => Ok(()),
    }
}

/// A non-empty string.
fn non_empty(cx: &Cx, key: &str, value: &Spanned<String>) -> Result<String, SuiteError> {
    if value.get_ref().trim().is_empty() {
        return Err(cx.err(value.span(), key, "must not be empty".into()));
    }
    Ok(value.get_ref().clone())
}

/// An HTTP path from `/`; `/` when absent.
fn abs_path(cx: &Cx, key: &str, value: &Option<Spanned<String>>) -> Result<String, SuiteError> {
    match value {
        None => Ok("/".into()),
        Some(v) if v.get_ref().starts_with('/') => Ok(v.get_ref().clone()),
        Some(v) => Err(cx.err(
            v.span(),
            key,
            format!("path {:?} must start with /", v.get_ref()),
        )),
    }
}

/// A JSON pointer (`/result/height`, or empty for the whole reply).
fn pointer(cx: &Cx, key: &str, span: Range<usize>, p: &str) -> Result<String, SuiteError> {
    if !p.is_empty() && !p.starts_with('/') {
        return Err(cx.err(
            span,
            key,
            format!("JSON pointer {p:?} must be empty or start with /"),
        ));
    }
    Ok(p.to_owned())
}

/// `expect = { pointer = "...", value = ... }` of a JSON-RPC probe.
fn json_expect(
    cx: &Cx,
    table: &str,
    value: &Option<Spanned<toml::Value>>,
) -> Result<Option<(String, serde_json::Value)>, SuiteError> {
    let Some(v) = value else { return Ok(None) };
    let shape = "must be { pointer = \"/result/...\", value = ... }";
    let toml::Value::Table(t) = v.get_ref() else {
        return Err(cx.err(
            v.span(),
            &format!("{table}.expect"),
            format!("{shape}, got {}", v.get_ref()),
        ));
    };
    if let Some(k) = t.keys().find(|k| *k != "pointer" && *k != "value") {
        return Err(cx.err(
            v.span(),
            &format!("{table}.expect.{k}"),
            format!("unknown key; {shape}"),
        ));
    }
    let Some(toml::Value::String(p)) = t.get("pointer") else {
        return Err(cx.err(
            v.span(),
            &format!("{table}.expect.pointer"),
            format!("missing or not a string; {shape}"),
        ));
    };
    let Some(expected) = t.get("value") else {
        return Err(cx.err(
            v.span(),
            &format!("{table}.expect.value"),
            format!("missing; {shape}"),
        ));
    };
    let p = pointer(cx, &format!("{table}.expect.pointer"), v.span(), p)?;
    let json = serde_json::to_value(expected).map_err(|e| {
        cx.err(
            v.span(),
            &format!("{table}.expect.value"),
            format!("not a JSON value: {e}"),
        )
    })?;
    Ok(Some((p, json)))
}

/// `expect = "text"` of a TCP or SSH probe.
fn text_expect(
    cx: &Cx,
    table: &str,
    value: &Option<Spanned<toml::Value>>,
) -> Result<Option<String>, SuiteError> {
    match value {
        None => Ok(None),
        Some(v) => match v.get_ref() {
            toml::Value::String(s) if !s.is_empty() => Ok(Some(s.clone())),
            other => Err(cx.err(
                v.span(),
                &format!("{table}.expect"),
                format!("must be a non-empty string for this kind, got {other}"),
            )),
        },
    }
}

/// Checks one `[[rpc]]` table.
fn rpc_probe(cx: &Cx, t: &str, p: &Spanned<WireProbe>) -> Result<Probe, SuiteError> {
    let w = p.get_ref();
    let k = |key: &str| format!("{t}.{key}");
    let kind = w.kind.get_ref().as_str();
    match kind {
        "app-json-rpc" => {
            unused(cx, &k("params"), kind, &w.params)?;
            unused(cx, &k("send"), kind, &w.send)?;
            unused(cx, &k("command"), kind, &w.command)?;
            Ok(Probe::AppJsonRpc {
                port: port(cx, &k("port"), required(cx, p, &k("port"), kind, &w.port)?)?,
                path: abs_path(cx, &k("path"), &w.path)?,
                method: non_empty(
                    cx,
                    &k("method"),
                    required(cx, p, &k("method"), kind, &w.method)?,
                )?,
                expect: json_expect(cx, t, &w.expect)?,
            })
        }
        "orchestrator-rpc" => {
            unused(cx, &k("port"), kind, &w.port)?;
            unused(cx, &k("path"), kind, &w.path)?;
            unused(cx, &k("send"), kind, &w.send)?;
            unused(cx, &k("command"), kind, &w.command)?;
            let params = match &w.params {
                None => serde_json::Value::Object(serde_json::Map::new()),
                Some(t) => serde_json::to_value(t.get_ref()).map_err(|e| {
                    cx.err(t.span(), &k("params"), format!("not a JSON object: {e}"))
                })?,
            };
            Ok(Probe::OrchestratorRpc {
                method: non_empty(
                    cx,
                    &k("method"),
                    required(cx, p, &k("method"), kind, &w.method)?,
                )?,
                params,
                expect: json_expect(cx, t, &w.expect)?,
            })
        }
        "tcp" => {
            unused(cx, &k("path"), kind, &w.path)?;
            unused(cx, &k("method"), kind, &w.method)?;
            unused(cx, &k("params"), kind, &w.params)?;
            unused(cx, &k("command"), kind, &w.command)?;
            Ok(Probe::Tcp {
                port: port(cx, &k("port"), required(cx, p, &k("port"), kind, &w.port)?)?,
                send: w
                    .send
                    .as_ref()
                    .map(|s| non_empty(cx, &k("send"), s))
                    .transpose()?,
                expect: text_expect(cx, t, &w.expect)?,
            })
        }
        "ssh" => {
            unused(cx, &k("port"), kind, &w.port)?;
            unused(cx, &k("path"), kind, &w.path)?;
            unused(cx, &k("method"), kind, &w.method)?;
            unused(cx, &k("params"), kind, &w.params)?;
            unused(cx, &k("send"), kind, &w.send)?;
            Ok(Probe::Ssh {
                command: non_empty(
                    cx,
                    &k("command"),
                    required(cx, p, &k("command"), kind, &w.command)?,
                )?,
                expect: text_expect(cx, t, &w.expect)?,
            })
        }
        other => Err(cx.err(
            w.kind.span(),
            &k("kind"),
            format!(
                "unknown probe kind {other:?} (known: {})",
                RPC_KINDS.join(", ")
            ),
        )),
    }
}

/// Checks the `[update]` table: the image goes into a shell command on the node, so only
/// reference characters are allowed.
fn update(cx: &Cx, u: &Spanned<WireUpdate>) -> Result<UpdateSpec, SuiteError> {
    let w = u.get_ref();
    let image = w.image.get_ref();
    let ok = !image.is_empty()
        && !image.starts_with('-')
        && image
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | ':' | '_' | '-' | '@'));
    if !ok {
        return Err(cx.err(
            w.image.span(),
            "update.image",
            format!("{image:?} is not an image reference ([A-Za-z0-9./:_@-], not starting with -)"),
        ));
    }
    let probes = |t: &str, list: &[Spanned<WireProbe>]| {
        list.iter()
            .map(|p| rpc_probe(cx, t, p))
            .collect::<Result<Vec<_>, _>>()
    };
    let (before, after) = (
        probes("update.before", &w.before)?,
        probes("update.after", &w.after)?,
    );
    if before.is_empty() || after.is_empty() {
        return Err(cx.err(
            u.span(),
            "update",
            "needs at least one [[update.before]] and one [[update.after]] probe \
             (how to tell the two versions apart)"
                .into(),
        ));
    }
    Ok(UpdateSpec {
        image: image.clone(),
        before,
        after,
    })
}

/// Checks the `[fault]` table: exactly one of `http_port` and `tcp_port`.
fn fault(cx: &Cx, f: &Spanned<WireFault>) -> Result<FaultControl, SuiteError> {
    let w = f.get_ref();
    match (&w.http_port, &w.tcp_port) {
        (Some(p), None) => Ok(FaultControl::Http(port(cx, "fault.http_port", p)?)),
        (None, Some(p)) => Ok(FaultControl::Tcp(port(cx, "fault.tcp_port", p)?)),
        _ => Err(cx.err(
            f.span(),
            "fault",
            "needs exactly one of http_port and tcp_port".into(),
        )),
    }
}

/// Checks one `[[ui]]` table of `app`'s suite.
fn ui_probe(cx: &Cx, app: &AppId, p: &Spanned<WireUi>) -> Result<UiProbe, SuiteError> {
    let w = p.get_ref();
    let kind = w.kind.get_ref().as_str();
    let target = match kind {
        "dashboard" => {
            unused(cx, "ui.port", kind, &w.port)?;
            unused(cx, "ui.path", kind, &w.path)?;
            unused(cx, "ui.prefix", kind, &w.prefix)?;
            unused(cx, "ui.served_by", kind, &w.served_by)?;
            UiTarget::Dashboard
        }
        "app-proxy" => {
            unused(cx, "ui.port", kind, &w.port)?;
            let path = match &w.path {
                None => String::new(),
                Some(v) if v.get_ref().starts_with('/') => {
                    return Err(cx.err(
                        v.span(),
                        "ui.path",
                        format!(
                            "path {:?} is below /app/<prefix>/ and must not start with /",
                            v.get_ref()
                        ),
                    ));
                }
                Some(v) => v.get_ref().clone(),
            };
            let prefix = match &w.prefix {
                None => ProxyPrefix::from(app.clone()),
                Some(v) => {
                    ProxyPrefix::new(v.get_ref()).map_err(|m| cx.err(v.span(), "ui.prefix", m))?
                }
            };
            UiTarget::AppProxy { prefix, path }
        }
        "direct" => {
            unused(cx, "ui.prefix", kind, &w.prefix)?;
            UiTarget::Direct {
                port: port(cx, "ui.port", required(cx, p, "ui.port", kind, &w.port)?)?,
                path: abs_path(cx, "ui.path", &w.path)?,
            }
        }
        other => {
            return Err(cx.err(
                w.kind.span(),
                "ui.kind",
                format!(
                    "unknown probe kind {other:?} (known: {})",
                    UI_KINDS.join(", ")
                ),
            ));
        }
    };
    let contains = w
        .contains
        .as_ref()
        .map(|c| non_empty(cx, "ui.contains", c))
        .transpose()?;
    let served_by = match &w.served_by {
        None => None,
        Some(v) => {
            let by = app_id(cx, "ui.served_by", v)?;
            if &by == app {
                return Err(cx.err(
                    v.span(),
                    "ui.served_by",
                    format!(
                        "app {:?} serves its own UI: leave served_by out",
                        by.as_str()
                    ),
                ));
            }
            Some(by)
        }
    };
    Ok(UiProbe {
        target,
        contains,
        served_by,
    })
}

/// Checks one `[[data]]` table.
fn data_probe(cx: &Cx, p: &Spanned<WireData>) -> Result<DataProbe, SuiteError> {
    let w = p.get_ref();
    let rule = match w.rule.get_ref().as_str() {
        "non-decreasing" => DataRule::NonDecreasing,
        "unchanged" => DataRule::Unchanged,
        other => {
            return Err(cx.err(
                w.rule.span(),
                "data.rule",
                format!("unknown rule {other:?} (known: {})", DATA_RULES.join(", ")),
            ));
        }
    };
    Ok(DataProbe {
        name: non_empty(cx, "data.name", &w.name)?,
        port: port(cx, "data.port", &w.port)?,
        path: abs_path(cx, "data.path", &w.path)?,
        method: non_empty(cx, "data.method", &w.method)?,
        pointer: pointer(cx, "data.pointer", w.pointer.span(), w.pointer.get_ref())?,
        rule,
    })
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
