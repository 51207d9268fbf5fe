//! The release suites against the owner's own scorecard: its coverage matrix (kept verbatim in
//! `tests/fixtures/scorecard/owner-coverage-matrix.md`, line breaks as received) is the only
//! first-hand account of what the release fleet runs and which URL the owner clicks.
//!
//! A cell the owner marks ● or ◐ must not be declared n/a by the suite, a cell the owner marks
//! n/a must be, and when the owner's UI cell names a URL (`port 8334`, `/app/lnd/`) every UI
//! probe of the suite other than the dashboard must be at that URL, and one must be.

use std::{fs, path::Path};

use super::{Suite, UiTarget, load_catalog};
use crate::model::{AppId, Check};

/// The owner's column titles and the checks they are, in the owner's order.
const COLUMNS: [(&str, Check); 10] = [
    ("Container present", Check::Present),
    ("Valid state", Check::Valid),
    ("RPC reachable", Check::Rpc),
    ("UI URL 200", Check::Ui),
    ("Stop", Check::Stop),
    ("Start", Check::Start),
    ("Restart", Check::Restart),
    ("Reinstall", Check::Reinstall),
    ("Reboot survives", Check::Reboot),
    ("Archipelago-restart survives", Check::DaemonRestart),
];

/// What the owner marked a cell with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    /// ●
    Full,
    /// ◐
    Partial,
    /// ○
    Missing,
    /// n/a
    NotApplicable,
}

/// A URL the owner's UI cell names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum NamedUrl {
    /// `port 8334`: the node's own port.
    Port(u16),
    /// `/app/lnd/`: the orchestrator's proxy under this prefix.
    Proxy(String),
}

impl std::fmt::Display for NamedUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NamedUrl::Port(p) => write!(f, "port {p}"),
            NamedUrl::Proxy(prefix) => write!(f, "/app/{prefix}/"),
        }
    }
}

/// One cell: the check, the mark and the owner's words.
#[derive(Debug, Clone, PartialEq)]
struct Cell {
    check: Check,
    mark: Mark,
    text: String,
}

/// One app's row.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    app: AppId,
    cells: Vec<Cell>,
}

/// Reads the owner's table. A line that does not start with `|` continues the row above it
/// (the owner's copy broke some rows after a UI cell).
fn parse_table(text: &str) -> Result<Vec<Row>, String> {
    let mut lines: Vec<String> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        match lines.last_mut() {
            Some(last) if !line.starts_with('|') => {
                last.push(' ');
                last.push_str(line);
            }
            None if !line.starts_with('|') => {
                return Err(format!("line {}: the table must start with `|`", i + 1));
            }
            _ => lines.push(line.to_owned()),
        }
    }
    let split = |l: &str| -> Vec<String> {
        l.trim()
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_owned())
            .collect()
    };
    let header = split(lines.first().ok_or("the table is empty")?);
    let titles: Vec<&str> = COLUMNS.iter().map(|(t, _)| *t).collect();
    if header.first().map(String::as_str) != Some("App") || header[1..] != titles[..] {
        return Err(format!(
            "the header is {header:?}, not App and the owner's columns {titles:?}"
        ));
    }
    let mut rows = Vec::new();
    for line in lines.iter().skip(2) {
        let cells = split(line);
        if cells.len() != COLUMNS.len() + 1 {
            return Err(format!(
                "row {line:?} has {} cells, not {}",
                cells.len(),
                COLUMNS.len() + 1
            ));
        }
        let app = AppId::new(&cells[0]).map_err(|e| e.to_string())?;
        let mut row = Row {
            app,
            cells: Vec::new(),
        };
        for ((_, check), text) in COLUMNS.iter().zip(&cells[1..]) {
            let mark = match text.chars().next() {
                Some('●') => Mark::Full,
                Some('◐') => Mark::Partial,
                Some('○') => Mark::Missing,
                _ if text == "n/a" => Mark::NotApplicable,
                _ => return Err(format!("{} {check}: unknown mark in {text:?}", row.app)),
            };
            row.cells.push(Cell {
                check: *check,
                mark,
                text: text.clone(),
            });
        }
        rows.push(row);
    }
    Ok(rows)
}

/// The URL a UI cell names in parentheses, if any: `● (port 8334)`, `● (/app/lnd/)`.
fn named_url(text: &str) -> Option<NamedUrl> {
    let inner = text.split_once('(')?.1.split_once(')')?.0.trim();
    if let Some(port) = inner.strip_prefix("port ") {
        return port.trim().parse().ok().map(NamedUrl::Port);
    }
    let prefix = inner.strip_prefix("/app/")?.strip_suffix('/')?;
    Some(NamedUrl::Proxy(prefix.to_owned()))
}

/// Where a suite's UI probe points, in the owner's words; `None` for the dashboard.
fn probe_url(target: &UiTarget) -> Option<NamedUrl> {
    match target {
        UiTarget::Dashboard => None,
        UiTarget::AppProxy { prefix, .. } => Some(NamedUrl::Proxy(prefix.as_str().to_owned())),
        UiTarget::Direct { port, .. } => Some(NamedUrl::Port(*port)),
    }
}

/// Every way the suites disagree with the owner's rows, one line each.
fn mismatches(rows: &[Row], suites: &[Suite]) -> Vec<String> {
    let mut out = Vec::new();
    for s in suites {
        if !rows.iter().any(|r| r.app == s.app) {
            out.push(format!(
                "{}: has a suite but no row in the scorecard",
                s.app
            ));
        }
    }
    for row in rows {
        let Some(suite) = suites.iter().find(|s| s.app == row.app) else {
            out.push(format!("{}: in the scorecard but has no suite", row.app));
            continue;
        };
        for cell in &row.cells {
            let na = suite.not_applicable.get(&cell.check);
            match (cell.mark, na) {
                (Mark::Full | Mark::Partial, Some(reason)) => out.push(format!(
                    "{} {}: the scorecard marks it {:?} but the suite declares it n/a ({reason})",
                    row.app, cell.check, cell.text
                )),
                (Mark::NotApplicable, None) => out.push(format!(
                    "{} {}: the scorecard marks it n/a but the suite does not",
                    row.app, cell.check
                )),
                _ => {}
            }
            if cell.check != Check::Ui {
                continue;
            }
            let Some(named) = named_url(&cell.text) else {
                continue;
            };
            let urls: Vec<(String, NamedUrl)> = suite
                .ui
                .iter()
                .filter_map(|p| probe_url(&p.target).map(|u| (p.url(), u)))
                .collect();
            for (url, at) in &urls {
                if *at != named {
                    out.push(format!(
                        "{} ui: probes {url}, not the scorecard's {named}",
                        row.app
                    ));
                }
            }
            if !urls.iter().any(|(_, at)| *at == named) {
                out.push(format!(
                    "{} ui: no probe at the scorecard's {named}",
                    row.app
                ));
            }
        }
    }
    out
}

fn root() -> &'static Path {
    crate::workspace::source_root()
}

fn owner_rows() -> Vec<Row> {
    let path = root().join("harness/tests/fixtures/scorecard/owner-coverage-matrix.md");
    parse_table(&fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn release() -> Vec<Suite> {
    load_catalog(&root().join("suites"), "release").unwrap()
}

#[test]
fn the_release_suites_follow_the_owners_scorecard_cell_by_cell() {
    assert_eq!(mismatches(&owner_rows(), &release()), Vec::<String>::new());
}

#[test]
fn reads_the_owners_table_with_its_broken_rows() {
    let rows = owner_rows();
    assert_eq!(rows.len(), 11);
    assert_eq!(rows.iter().map(|r| r.cells.len()).sum::<usize>(), 110);
    let mempool = rows.iter().find(|r| r.app.as_str() == "mempool").unwrap();
    let texts: Vec<&str> = mempool.cells.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "●",
            "●",
            "● (/api/v1/backend-info)",
            "● (/app/mempool/)",
            "●",
            "●",
            "●",
            "●",
            "○",
            "○"
        ]
    );
    let full = rows
        .iter()
        .flat_map(|r| &r.cells)
        .filter(|c| c.mark == Mark::Full)
        .count();
    // The owner's headline says "Done: 50 of 110 cells"; their table holds 53 ●.
    assert_eq!(full, 53);
    assert_eq!(named_url("● (port 8334)"), Some(NamedUrl::Port(8334)));
    assert_eq!(
        named_url("● (/app/btcpay/)"),
        Some(NamedUrl::Proxy("btcpay".into()))
    );
    assert_eq!(named_url("● probe-only"), None);
    assert_eq!(named_url("● (lncli)"), None);
}

#[test]
fn names_each_way_a_suite_can_disagree() {
    let rows = owner_rows();
    let mut suites = release();
    let knots = suites
        .iter_mut()
        .find(|s| s.app.as_str() == "bitcoin-knots")
        .unwrap();
    knots.ui.clear();
    knots
        .not_applicable
        .insert(Check::Ui, "no web UI of its own".into());
    let companion = suites
        .iter_mut()
        .find(|s| s.app.as_str() == "archy-lnd-ui")
        .unwrap();
    companion.not_applicable.remove(&Check::Reinstall);
    for p in &mut companion.ui {
        if let UiTarget::AppProxy { prefix, .. } = &mut p.target {
            *prefix = companion.app.clone().into();
        }
    }
    suites.retain(|s| s.app.as_str() != "filebrowser");
    assert_eq!(
        mismatches(&rows, &suites),
        [
            "bitcoin-knots ui: the scorecard marks it \"● (port 8334)\" but the suite declares it \
             n/a (no web UI of its own)",
            "bitcoin-knots ui: no probe at the scorecard's port 8334",
            "filebrowser: in the scorecard but has no suite",
            "archy-lnd-ui ui: probes /app/archy-lnd-ui/, not the scorecard's /app/lnd/",
            "archy-lnd-ui ui: no probe at the scorecard's /app/lnd/",
            "archy-lnd-ui reinstall: the scorecard marks it n/a but the suite does not",
        ]
    );
}

#[test]
fn refuses_a_table_it_cannot_read() {
    assert_eq!(
        parse_table("| App | Stop |\n|---|---|\n").unwrap_err(),
        "the header is [\"App\", \"Stop\"], not App and the owner's columns [\"Container present\", \
         \"Valid state\", \"RPC reachable\", \"UI URL 200\", \"Stop\", \"Start\", \"Restart\", \
         \"Reinstall\", \"Reboot survives\", \"Archipelago-restart survives\"]"
    );
    let header = "| App | Container present | Valid state | RPC reachable | UI URL 200 | Stop | \
                  Start | Restart | Reinstall | Reboot survives | Archipelago-restart survives |\n\
                  |---|\n";
    assert_eq!(
        parse_table(&format!(
            "{header}| x | ● | ● | ● | ● | ● | ● | ● | ● | ● | ? |\n"
        ))
        .unwrap_err(),
        "x daemon-restart: unknown mark in \"?\""
    );
    assert_eq!(
        parse_table("note\n| App |\n").unwrap_err(),
        "line 1: the table must start with `|`"
    );
}
