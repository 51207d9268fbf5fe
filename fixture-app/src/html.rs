//! The small HTML pages every mode serves: one layout and escaping.

/// Escapes text for an HTML body.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Wraps already-escaped body HTML in a page titled `title`.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body><h1>{title}</h1>\n{body}\n</body></html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup() {
        assert_eq!(escape("a<b>&\"c\""), "a&lt;b&gt;&amp;&quot;c&quot;");
    }

    #[test]
    fn page_is_a_full_document() {
        assert_eq!(
            page("lab-x", "<p>hi</p>"),
            "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>lab-x</title></head>\n<body><h1>lab-x</h1>\n<p>hi</p>\n</body></html>\n"
        );
    }
}
