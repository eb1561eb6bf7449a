//! Places in source text the app author wrote (its HTML, its hooks), for
//! startup errors and audit findings that name a line.

/// The 1-based line of byte `offset` in `text` (past the end: the last).
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_count_from_one() {
        let text = "a\nbc\n\nd";
        assert_eq!(line_of(text, 0), 1);
        assert_eq!(line_of(text, 2), 2);
        assert_eq!(line_of(text, 6), 4);
        assert_eq!(line_of(text, 999), 4);
    }
}
