//! TOML positions as line numbers: the one conversion behind every "file, line N" error the
//! harness prints for fleet.toml, suites and the LoC budget.

/// The 1-based line holding byte `offset` of `text` (a TOML span's start); an offset past the
/// end counts as the last line.
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_newlines_before_the_offset() {
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
