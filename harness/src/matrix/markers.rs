//! The generated blocks of TESTING.md: one per fleet between begin/end markers; everything
//! outside them is hand-written and kept byte for byte.

/// The line opening `fleet`'s generated block.
pub fn begin(fleet: &str) -> String {
    format!("<!-- matrix:begin fleet={fleet} -->")
}

/// The line closing `fleet`'s generated block.
pub fn end(fleet: &str) -> String {
    format!("<!-- matrix:end fleet={fleet} -->")
}

/// Checks that `fleet`'s markers in `text` are absent or form one well-ordered pair; on a fault
/// returns the 1-based line and what is wrong.
pub fn check(text: &str, fleet: &str) -> Result<(), (usize, String)> {
    let (b, e) = (begin(fleet), end(fleet));
    let find = |marker: &str| -> Vec<usize> {
        text.lines()
            .enumerate()
            .filter(|(_, l)| l.trim() == marker)
            .map(|(i, _)| i + 1)
            .collect()
    };
    let (begins, ends) = (find(&b), find(&e));
    match (begins.as_slice(), ends.as_slice()) {
        ([], []) => Ok(()),
        ([start], [stop]) if start < stop => Ok(()),
        ([start], [stop]) => Err((*stop, format!("`{e}` comes before `{b}` (line {start})"))),
        ([start], []) => Err((*start, format!("`{b}` has no matching `{e}`"))),
        ([], [stop, ..]) => Err((*stop, format!("`{e}` has no matching `{b}`"))),
        ([_, second, ..], _) => Err((*second, format!("`{b}` appears more than once"))),
        (_, [_, second, ..]) => Err((*second, format!("`{e}` appears more than once"))),
    }
}

/// `previous` with `fleet`'s block replaced by `block` (which holds its own markers), or with
/// `block` appended when there is none yet. Assumes `check` passed.
pub fn splice(previous: &str, fleet: &str, block: &str) -> String {
    let (b, e) = (begin(fleet), end(fleet));
    let lines: Vec<&str> = previous.split_inclusive('\n').collect();
    let start = lines.iter().position(|l| l.trim() == b);
    let stop = lines.iter().position(|l| l.trim() == e);
    match (start, stop) {
        (Some(start), Some(stop)) if start < stop => {
            let mut out: String = lines[..start].concat();
            out.push_str(block);
            let rest = lines[stop + 1..].concat();
            if !block.ends_with('\n') && !rest.is_empty() {
                out.push('\n');
            }
            out.push_str(&rest);
            out
        }
        _ if previous.trim().is_empty() => block.to_owned(),
        _ => format!("{}\n\n{block}", previous.trim_end()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_only_the_fleets_block() {
        let prev = "# Intro\n\n<!-- matrix:begin fleet=lab -->\nold\n<!-- matrix:end fleet=lab -->\n\nOutro\n<!-- matrix:begin fleet=release -->\nkeep\n<!-- matrix:end fleet=release -->\n";
        let block = "<!-- matrix:begin fleet=lab -->\nnew\n<!-- matrix:end fleet=lab -->\n";
        assert_eq!(
            splice(prev, "lab", block),
            "# Intro\n\n<!-- matrix:begin fleet=lab -->\nnew\n<!-- matrix:end fleet=lab -->\n\nOutro\n<!-- matrix:begin fleet=release -->\nkeep\n<!-- matrix:end fleet=release -->\n"
        );
    }

    #[test]
    fn appends_a_block_for_a_new_fleet_and_starts_an_empty_file() {
        let block = "<!-- matrix:begin fleet=lab -->\nnew\n<!-- matrix:end fleet=lab -->\n";
        assert_eq!(
            splice("# Intro\n\n\n", "lab", block),
            format!("# Intro\n\n{block}")
        );
        assert_eq!(splice("", "lab", block), block);
    }

    #[test]
    fn refuses_broken_markers_with_the_line() {
        let b = "<!-- matrix:begin fleet=lab -->";
        let e = "<!-- matrix:end fleet=lab -->";
        assert_eq!(check("x\ny\n", "lab"), Ok(()));
        assert_eq!(check(&format!("{b}\n{e}\n"), "lab"), Ok(()));
        assert_eq!(
            check(&format!("x\n{b}\n"), "lab"),
            Err((2, format!("`{b}` has no matching `{e}`")))
        );
        assert_eq!(
            check(&format!("{e}\n{b}\n"), "lab"),
            Err((1, format!("`{e}` comes before `{b}` (line 2)")))
        );
        assert_eq!(
            check(&format!("{e}\n"), "lab"),
            Err((1, format!("`{e}` has no matching `{b}`")))
        );
        assert_eq!(
            check(&format!("{b}\n{e}\n{b}\n{e}\n"), "lab"),
            Err((3, format!("`{b}` appears more than once")))
        );
    }
}
