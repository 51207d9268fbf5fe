//! `results.json` as the matrix reads it: the reporter's own `Results`, parsed by the same code
//! that wrote it, then checked for what would make the matrix misreport.

use std::path::Path;

use super::MatrixError;
use crate::{model::Layer, reporter::Results};

/// Parses and checks the text of `path`.
pub fn parse(path: &Path, text: &str) -> Result<Results, MatrixError> {
    let results = Results::from_json(text).map_err(|e| MatrixError::Results {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    check(&results).map_err(|message| MatrixError::Results {
        path: path.to_owned(),
        message,
    })?;
    Ok(results)
}

/// Refuses results the matrix would misreport.
fn check(r: &Results) -> Result<(), String> {
    let fleet_ok = !r.fleet.is_empty()
        && r.fleet
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !fleet_ok {
        return Err(format!(
            "fleet {:?} must be letters, digits, - and _ (it names a TESTING.md block)",
            r.fleet
        ));
    }
    if r.iterations == 0 {
        return Err("iterations is 0".into());
    }
    for c in &r.cases {
        let id = &c.case;
        if id.iteration.0 == 0 || id.iteration.0 > r.iterations {
            return Err(format!(
                "case {} has iteration {} outside 1..={}",
                id.name, id.iteration, r.iterations
            ));
        }
        if id.name.layer != Layer::L0 && !r.nodes.contains(&id.node) {
            return Err(format!(
                "case {} ran on node {:?}, which is not in nodes",
                id.name,
                id.node.as_str()
            ));
        }
    }
    Ok(())
}
